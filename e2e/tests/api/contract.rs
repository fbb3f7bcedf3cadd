//! HTTP semantics the contract fuzzer (schemathesis, scripts/lib/contract-test.sh) checks
//! on every operation, pinned here by example: every 405 names the served methods in
//! `Allow`, every 401 carries a challenge, a route's wrong method is not mistaken for an
//! unknown route, a client's bad trace id is replaced, never refused.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{is_trace_id, mall, product_body, send, unique_tag};

#[tokio::test]
async fn a_route_asked_with_a_method_it_lacks_is_405_with_allow_whoever_asks() {
    let mall = mall();
    let (_, customer) = mall.customer().await;
    let cases = [
        (Method::PATCH, "/api/categories", "GET, HEAD"),
        (Method::DELETE, "/api/users/login", "POST"),
        (Method::PUT, "/api/users/me", "GET, HEAD"),
        (Method::POST, "/api/products/1", "GET, HEAD, PUT, DELETE"),
        (Method::GET, "/api/admin/users/1/roles", "PUT"),
    ];
    for (method, path, allow) in cases {
        for token in [None, Some(customer.access.as_str())] {
            let mut req = mall.request(method.clone(), path);
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            let reply = send(req).await;
            reply.expect_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
            assert_eq!(reply.header("allow"), Some(allow), "{method} {path}");
            assert_eq!(reply.header("www-authenticate"), None, "{method} {path}");
        }
    }
}

#[tokio::test]
async fn an_unknown_route_under_a_known_prefix_stays_403() {
    let mall = mall();

    let reply = send(mall.get("/api/products/1/secrets")).await;

    reply.expect_error(StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(reply.header("allow"), None);
    assert!(reply
        .header("www-authenticate")
        .is_some_and(|c| c.contains(r#"error="insufficient_scope""#)));
}

#[tokio::test]
async fn the_key_sets_405_names_get_and_head() {
    let mall = mall();

    let reply = send(mall.post("/.well-known/jwks.json").body("{}")).await;

    reply.expect_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    assert_eq!(reply.header("allow"), Some("GET, HEAD"));
}

#[tokio::test]
async fn failed_login_and_refresh_carry_a_bearer_challenge() {
    let mall = mall();
    let (user, _) = mall.customer().await;

    let login = mall.try_login(&user.email, "not-the-password-at-all").await;
    let refresh = mall.try_refresh("not-a-refresh-token").await;

    login.expect_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    refresh.expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
    for reply in [login, refresh] {
        assert_eq!(
            reply.header("www-authenticate"),
            Some(r#"Bearer realm="mall""#)
        );
    }
}

#[tokio::test]
async fn a_bad_client_trace_id_is_replaced_not_refused() {
    let mall = mall();
    for bad in ["0", "ABCDEF0123456789ABCDEF0123456789", "not a trace id"] {
        let reply = send(mall.get("/api/categories").header("x-trace-id", bad)).await;
        reply.expect_status(StatusCode::OK);
        assert!(
            is_trace_id(reply.trace_id()),
            "{bad:?} → {}",
            reply.trace_id()
        );
        assert_ne!(reply.trace_id(), bad);
    }
}

#[tokio::test]
async fn an_empty_price_range_is_an_empty_page() {
    let mall = mall();

    let reply = send(mall.get("/api/products?min_price=10&max_price=5")).await;

    reply.expect_status(StatusCode::OK);
    assert_eq!(reply.body["total"], 0);
    assert_eq!(reply.body["items"], json!([]));
}

#[tokio::test]
async fn labels_are_checked_as_sent_and_image_urls_exactly() {
    let mall = mall();
    let admin = mall.admin().await;
    let category = unique_tag();
    let create = |body: serde_json::Value| {
        send(
            mall.post("/api/products")
                .bearer_auth(&admin.access)
                .json(&body),
        )
    };
    let mut padded = product_body(&format!(" {}", "n".repeat(200)), &category, 100);
    create(padded.clone())
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    padded["name"] = json!(format!("  {}  ", "n".repeat(196)));
    let kept = create(padded).await;
    kept.expect_status(StatusCode::CREATED);
    assert_eq!(kept.body["name"], "n".repeat(196), "stored trimmed");
    for bad in ["", " /images/a.svg", "images/a.svg", "/images/a b.svg"] {
        let mut body = product_body("Lamp", &category, 100);
        body["image_url"] = json!(bad);
        create(body)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    }
}
