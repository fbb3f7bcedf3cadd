//! What nginx does to every request: trace ids in, out and in error bodies, and which slot
//! served a response, and the client's token kept from the services.

use reqwest::StatusCode;

use crate::helpers::{is_trace_id, mall, send};

const CLIENT_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

fn fresh_trace_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[tokio::test]
async fn valid_client_trace_id_is_kept_in_the_header_and_the_error_body() {
    let mall = mall();
    let trace = fresh_trace_id();

    let reply = send(mall.get("/no/such/page").header("X-Trace-Id", &trace)).await;

    reply.expect_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(reply.trace_id(), trace);
    assert_eq!(reply.body["error"]["trace_id"], trace.as_str());
}

#[tokio::test]
async fn client_trace_id_reaches_the_service_and_its_error_body() {
    let mall = mall();
    let user = mall.register().await;
    let trace = fresh_trace_id();

    let reply = send(
        mall.post("/api/users/login")
            .header("X-Trace-Id", &trace)
            .json(&serde_json::json!({ "email": user.email, "password": "not-the-password" })),
    )
    .await;

    reply
        .expect_error(StatusCode::UNAUTHORIZED, "invalid_credentials")
        .expect_served_by("user");
    assert_eq!(reply.trace_id(), trace);
    assert_eq!(reply.body["error"]["trace_id"], trace.as_str());
}

#[tokio::test]
async fn traceparent_trace_id_is_adopted() {
    let mall = mall();
    let trace = fresh_trace_id();
    let traceparent = format!("00-{trace}-00f067aa0ba902b7-01");

    let reply = send(mall.get("/no/such/page").header("traceparent", traceparent)).await;

    assert_eq!(reply.trace_id(), trace);
}

#[tokio::test]
async fn invalid_client_trace_ids_are_replaced() {
    let mall = mall();
    let invalid = [
        CLIENT_TRACE.to_uppercase(),
        CLIENT_TRACE[..31].to_owned(),
        format!("{CLIENT_TRACE}0"),
        format!("{} {}", &CLIENT_TRACE[..16], &CLIENT_TRACE[16..]),
        "0".repeat(32),
        "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz".to_owned(),
    ];
    for sent in invalid {
        let reply = send(mall.get("/no/such/page").header("X-Trace-Id", &sent)).await;

        assert_ne!(reply.trace_id(), sent, "kept an invalid trace id");
        assert!(is_trace_id(reply.trace_id()));
        assert_ne!(
            reply.trace_id(),
            CLIENT_TRACE.to_lowercase(),
            "normalised instead of replaced"
        );
        assert_eq!(reply.body["error"]["trace_id"], reply.trace_id());
    }
}

#[tokio::test]
async fn generated_trace_ids_differ_per_request() {
    let mall = mall();

    let first = send(mall.get("/")).await;
    let second = send(mall.get("/")).await;

    assert_ne!(first.trace_id(), second.trace_id());
}

#[tokio::test]
async fn successful_api_responses_say_which_slot_served_them() {
    let mall = mall();
    let (_user, tokens) = mall.customer().await;

    let me = mall.me(&tokens.access).await;
    let jwks = send(mall.get("/.well-known/jwks.json")).await;

    me.expect_status(StatusCode::OK).expect_served_by("user");
    jwks.expect_status(StatusCode::OK).expect_served_by("user");
}

#[tokio::test]
async fn storefront_page_is_served_at_the_root() {
    let mall = mall();

    let reply = send(mall.get("/")).await;

    reply.expect_status(StatusCode::OK);
    assert!(reply
        .header("content-type")
        .unwrap_or_default()
        .starts_with("text/html"));
}

/// The client's token stops at the edge: auth-proxy reads it, the services get its verdict
/// as X-User-* and refuse any request that still carries an `Authorization` header (400,
/// services/http). So a signed-in request answered by each service proves nginx removed it.
#[tokio::test]
async fn the_clients_token_stops_at_the_edge() {
    let mall = mall();
    let (user, tokens) = mall.customer().await;

    let me = mall.me(&tokens.access).await;
    me.expect_status(StatusCode::OK).expect_served_by("user");
    assert_eq!(me.body["email"], user.email.as_str());
    mall.cart(&tokens.access)
        .await
        .expect_status(StatusCode::OK)
        .expect_served_by("cart");
    send(mall.get("/api/orders").bearer_auth(&tokens.access))
        .await
        .expect_status(StatusCode::OK)
        .expect_served_by("order");
}
