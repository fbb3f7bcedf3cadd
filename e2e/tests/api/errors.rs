//! Errors nginx produces itself: the same JSON body as the services' errors.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{eventually, is_trace_id, mall, send};
use crate::trace::{lines_of_trace, log_dir};

#[tokio::test]
async fn unknown_route_is_404_json_with_a_trace_id() {
    let mall = mall();

    let reply = send(mall.get("/no/such/page.html")).await;

    reply.expect_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn unknown_api_route_is_404_json() {
    let mall = mall();

    let reply = send(mall.get("/api/no-such-resource")).await;

    reply.expect_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn operational_endpoints_are_404_from_outside() {
    let mall = mall();
    for path in [
        "/internal/anything",
        "/internal/",
        "/metrics",
        "/health",
        "/ready",
        "/_auth",
    ] {
        let reply = send(mall.get(path)).await;

        reply.expect_error(StatusCode::NOT_FOUND, "not_found");
        assert!(
            !reply.text.contains("http_requests_total"),
            "{path} leaked metrics"
        );
    }
}

#[tokio::test]
async fn body_over_the_limit_is_413_json() {
    let mall = mall();
    let name = "x".repeat(100 * 1024);

    let reply = send(mall.post("/api/users/register").json(&json!({
        "email": "big@example.test", "password": "long-enough-password", "name": name,
    })))
    .await;

    reply.expect_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
}

#[tokio::test]
async fn wrong_method_on_the_key_set_is_405_json() {
    let mall = mall();

    let reply = send(mall.post("/.well-known/jwks.json").body("{}")).await;

    reply.expect_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
}

/// A 1 MB `Authorization` header is refused by nginx with a 4xx before auth-proxy or a
/// service sees it (no auth subrequest, no upstream: what makes it quick, shown by the
/// logs rather than a stopwatch), and the edge keeps serving afterwards.
#[tokio::test]
async fn a_one_megabyte_header_is_refused_quickly_and_nothing_breaks() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mall = mall();
    let url = reqwest::Url::parse(&mall.base).expect("MALL_URL is a URL");
    let addr = (
        url.host_str().expect("host").to_owned(),
        url.port_or_known_default().expect("port"),
    );
    let head = format!(
        "GET /api/users/me HTTP/1.1\r\nHost: {}:{}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        addr.0,
        addr.1,
        "a".repeat(1024 * 1024)
    );
    let stream = tokio::net::TcpStream::connect((addr.0.as_str(), addr.1))
        .await
        .expect("connect");
    let (mut rd, mut wr) = stream.into_split();
    // nginx may answer and close before it has read the whole header: writing can fail.
    let writer = tokio::spawn(async move {
        let _ = wr.write_all(head.as_bytes()).await;
    });
    let mut answer = Vec::new();
    // Only a guard against a hang (the HTTP client's own limit).
    let read = tokio::time::timeout(Duration::from_secs(30), rd.read_to_end(&mut answer)).await;
    writer.abort();
    assert!(read.is_ok(), "no answer within 30 s");
    let text = String::from_utf8_lossy(&answer);
    let status: u16 = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    assert!(
        (400..500).contains(&status),
        "expected a 4xx, got: {}",
        text.lines().next().unwrap_or("")
    );
    let body: Value = text
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or_else(|| panic!("the refusal is the standard JSON body: {text}"));
    let trace = body["error"]["trace_id"]
        .as_str()
        .filter(|t| is_trace_id(t))
        .unwrap_or_else(|| panic!("the refusal carries a trace id: {text}"))
        .to_owned();

    // nginx answered it itself: its access line (once flushed) names no upstream, and no
    // other part wrote a line under its trace id.
    let dir = log_dir();
    let logged = eventually(Duration::from_secs(10), || {
        let lines = lines_of_trace(&dir, &trace);
        async move { lines.iter().any(|l| l["service"] == "nginx") }
    })
    .await;
    let lines = lines_of_trace(&dir, &trace);
    assert!(logged, "nginx never logged the refusal {trace}");
    let edge = lines
        .iter()
        .find(|l| l["service"] == "nginx")
        .expect("nginx's line");
    assert_eq!(edge["status"], status, "{edge}");
    assert_eq!(edge["upstream_addr"], "", "nginx asked someone: {edge}");
    let others: Vec<&Value> = lines.iter().filter(|l| l["service"] != "nginx").collect();
    assert!(others.is_empty(), "seen beyond the edge: {others:?}");

    let after = send(mall.get("/api/products?size=1")).await;
    after.expect_status(StatusCode::OK);
}
