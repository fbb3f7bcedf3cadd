//! nginx's cache of public routes' auth decisions (docs/runtime.md "The auth subrequest"),
//! as the logs show it: a read of a public route allowed in the last 5 s is allowed again
//! without asking auth-proxy, with or without a token; a request on any other route, and a
//! denial, always go to auth-proxy.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use super::{fresh_trace_id, lines_of_trace, log_dir};
use crate::helpers::{eventually, mall, send, unique_tag};

/// The lines of `trace` once nginx's access line and the serving part's `request
/// completed` line are written (or `part`'s absence when `part` is `None`: then only
/// nginx's line is waited for). auth-proxy's decision, if any, is written before the
/// service is even called, and every part flushes its log within 20 ms, so by then it is
/// there.
async fn settled_lines(trace: &str, part: Option<&str>) -> Vec<Value> {
    let dir = log_dir();
    let done = eventually(Duration::from_secs(5), || {
        let lines = lines_of_trace(&dir, trace);
        async move {
            lines.iter().any(|l| l["service"] == "nginx")
                && part.is_none_or(|p| {
                    lines
                        .iter()
                        .any(|l| l["service"] == p && l["msg"] == "request completed")
                })
        }
    })
    .await;
    let lines = lines_of_trace(&dir, trace);
    assert!(done, "the lines of {trace} never all came: {lines:?}");
    lines
}

fn auth_decisions(lines: &[Value]) -> Vec<&Value> {
    lines
        .iter()
        .filter(|l| l["service"] == "auth-proxy" && l["msg"] == "auth decision")
        .collect()
}

fn nginx_cache_status(lines: &[Value]) -> String {
    lines
        .iter()
        .find(|l| l["service"] == "nginx")
        .and_then(|l| l["auth_cache"].as_str())
        .unwrap_or("<none>")
        .to_owned()
}

#[tokio::test]
async fn an_anonymous_read_allowed_once_is_allowed_again_without_asking_auth_proxy() {
    let mall = mall();
    let path = format!("/api/products?size=1&tag={}", unique_tag());
    let (first, second) = (fresh_trace_id(), fresh_trace_id());

    send(mall.get(&path).header("x-trace-id", &first))
        .await
        .expect_status(StatusCode::OK);
    send(mall.get(&path).header("x-trace-id", &second))
        .await
        .expect_status(StatusCode::OK);

    let asked = settled_lines(&first, Some("product")).await;
    assert_eq!(auth_decisions(&asked).len(), 1, "{asked:?}");
    assert_eq!(auth_decisions(&asked)[0]["result"], "allow");
    assert_eq!(nginx_cache_status(&asked), "MISS", "{asked:?}");

    let cached = settled_lines(&second, Some("product")).await;
    assert!(auth_decisions(&cached).is_empty(), "{cached:?}");
    assert_eq!(nginx_cache_status(&cached), "HIT", "{cached:?}");
}

#[tokio::test]
async fn a_signed_in_read_of_a_public_route_is_answered_from_the_cache() {
    let mall = mall();
    let (_, tokens) = mall.customer().await;
    let path = format!("/api/products?size=1&tag={}", unique_tag());
    // The public route's answer for this URI is cached first, by an anonymous read...
    send(mall.get(&path)).await.expect_status(StatusCode::OK);
    let with_token = fresh_trace_id();

    // ...and serves a request with a token too: a public route's decision looks at no
    // token (the policy's route table alone decides it).
    send(
        mall.get(&path)
            .bearer_auth(&tokens.access)
            .header("x-trace-id", &with_token),
    )
    .await
    .expect_status(StatusCode::OK);

    let lines = settled_lines(&with_token, Some("product")).await;
    assert!(auth_decisions(&lines).is_empty(), "{lines:?}");
    assert_eq!(nginx_cache_status(&lines), "HIT", "{lines:?}");
}

#[tokio::test]
async fn an_allowed_request_on_a_route_that_is_not_public_is_never_cached() {
    let mall = mall();
    let (_, tokens) = mall.customer().await;
    let path = format!("/api/cart?tag={}", unique_tag());
    // Allowed twice with the token: auth-proxy is asked both times (expiry, revocation and
    // roles are decided per request).
    for _ in 0..2 {
        let trace = fresh_trace_id();
        send(
            mall.get(&path)
                .bearer_auth(&tokens.access)
                .header("x-trace-id", &trace),
        )
        .await
        .expect_status(StatusCode::OK);
        let lines = settled_lines(&trace, Some("cart")).await;
        let decisions = auth_decisions(&lines);
        assert_eq!(decisions.len(), 1, "{lines:?}");
        assert_eq!(decisions[0]["result"], "allow");
        assert_eq!(nginx_cache_status(&lines), "MISS", "{lines:?}");
    }
    // Nothing was stored under that method and URI: without a token it is still refused.
    let anonymous = fresh_trace_id();
    send(mall.get(&path).header("x-trace-id", &anonymous))
        .await
        .expect_status(StatusCode::UNAUTHORIZED);
    let lines = settled_lines(&anonymous, None).await;
    assert_eq!(auth_decisions(&lines).len(), 1, "{lines:?}");
    assert_eq!(auth_decisions(&lines)[0]["result"], "unauthorized");
}

#[tokio::test]
async fn denials_are_never_cached() {
    let mall = mall();
    for _ in 0..2 {
        let trace = fresh_trace_id();
        send(mall.get("/api/cart").header("x-trace-id", &trace))
            .await
            .expect_status(StatusCode::UNAUTHORIZED);
        let lines = settled_lines(&trace, None).await;
        let decisions = auth_decisions(&lines);
        assert_eq!(decisions.len(), 1, "{lines:?}");
        assert_eq!(decisions[0]["result"], "unauthorized");
    }
}
