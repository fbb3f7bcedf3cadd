//! Errors nginx produces itself: the same JSON body as the services' errors.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{mall, send};

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
