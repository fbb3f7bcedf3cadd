//! Registration and login: the answers and the error codes clients switch on.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{mall, send, unique_email, PASSWORD};

#[tokio::test]
async fn register_returns_the_new_customer() {
    let mall = mall();
    let email = unique_email();

    let reply = send(mall.post("/api/users/register").json(&json!({
        "email": email, "password": PASSWORD, "name": "Ada",
    })))
    .await;

    reply
        .expect_status(StatusCode::CREATED)
        .expect_served_by("user");
    assert!(
        reply.body["id"].as_i64().is_some_and(|id| id > 0),
        "{}",
        reply.text
    );
    assert_eq!(reply.body["email"], email.as_str());
    assert_eq!(reply.body["name"], "Ada");
    assert_eq!(reply.body["roles"], json!(["customer"]));
    assert!(
        !reply.text.contains("password"),
        "the answer mentions a password: {}",
        reply.text
    );
}

#[tokio::test]
async fn duplicate_email_is_409_email_taken() {
    let mall = mall();
    let user = mall.register().await;

    let reply = send(mall.post("/api/users/register").json(&json!({
        "email": user.email, "password": PASSWORD, "name": "Someone Else",
    })))
    .await;

    reply.expect_error(StatusCode::CONFLICT, "email_taken");
}

#[tokio::test]
async fn malformed_json_is_400_bad_request() {
    let mall = mall();

    let reply = send(
        mall.post("/api/users/register")
            .header("content-type", "application/json")
            .body("{\"email\": \"a@b.test\", \"password\": "),
    )
    .await;

    reply.expect_error(StatusCode::BAD_REQUEST, "bad_request");
}

#[tokio::test]
async fn unknown_field_is_400_unknown_field() {
    let mall = mall();

    let reply = send(mall.post("/api/users/register").json(&json!({
        "email": unique_email(), "password": PASSWORD, "name": "Eve", "roles": ["admin"],
    })))
    .await;

    reply.expect_error(StatusCode::BAD_REQUEST, "unknown_field");
}

#[tokio::test]
async fn short_password_is_422_validation_failed() {
    let mall = mall();

    let reply = send(mall.post("/api/users/register").json(&json!({
        "email": unique_email(), "password": "short", "name": "Bob",
    })))
    .await;

    reply.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
}

#[tokio::test]
async fn wrong_password_is_401_invalid_credentials() {
    let mall = mall();
    let user = mall.register().await;

    let reply = mall.try_login(&user.email, "not-the-password").await;

    reply.expect_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
}

#[tokio::test]
async fn unknown_email_gets_the_same_answer_as_a_wrong_password() {
    let mall = mall();
    let user = mall.register().await;
    let wrong_password = mall.try_login(&user.email, "not-the-password").await;

    let unknown_email = mall.try_login(&unique_email(), "not-the-password").await;

    unknown_email.expect_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert_eq!(unknown_email.status, wrong_password.status);
    assert_eq!(
        unknown_email.body["error"]["code"],
        wrong_password.body["error"]["code"]
    );
    assert_eq!(
        unknown_email.body["error"]["message"],
        wrong_password.body["error"]["message"]
    );
    let keys = |v: &serde_json::Value| {
        v["error"]
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
    };
    assert_eq!(keys(&unknown_email.body), keys(&wrong_password.body));
}

#[tokio::test]
async fn repeated_failed_logins_are_rate_limited_with_retry_after() {
    let mall = mall();
    let user = mall.register().await;
    let max_failures: usize = std::env::var("LOGIN_MAX_FAILURES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    for attempt in 1..=max_failures {
        let reply = mall.try_login(&user.email, "not-the-password").await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}: {}",
            reply.text
        );
    }

    let reply = mall.try_login(&user.email, "not-the-password").await;

    reply.expect_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let retry_after = reply.header("retry-after").unwrap_or_default();
    assert!(
        retry_after.parse::<u64>().is_ok_and(|s| s > 0),
        "Retry-After {retry_after:?} is not a positive number of seconds"
    );
}
