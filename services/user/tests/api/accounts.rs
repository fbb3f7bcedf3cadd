use serde_json::{json, Value};

use crate::helpers::{spawn_app, unique_email, As};

#[tokio::test]
async fn register_creates_a_customer() {
    let app = spawn_app().await;
    let email = unique_email();
    let user = app.register(&email).await;
    assert_eq!(user["email"], email.as_str());
    assert_eq!(user["name"], "Ann");
    assert_eq!(user["roles"], json!(["customer"]));
    assert!(user["id"].as_u64().unwrap() > 0);
    assert!(user.get("password").is_none() && user.get("password_hash").is_none());
}

#[tokio::test]
async fn duplicate_email_is_409_email_taken_even_with_other_case() {
    let app = spawn_app().await;
    let email = unique_email();
    app.register(&email).await;
    let r = app
        .post(
            "/api/users/register",
            json!({"email": email.to_uppercase(), "password": "another password", "name": "B"}),
        )
        .await;
    assert_eq!(r.status(), 409);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "email_taken");
}

#[tokio::test]
async fn bad_input_answers_400_or_422_with_the_standard_body() {
    let app = spawn_app().await;
    let cases = [
        (r#"{"email": "a@b.co", "password": "#, 400, "bad_request"),
        (
            r#"{"email":"a@b.co","password":"long enough pw","name":"A","admin":true}"#,
            400,
            "unknown_field",
        ),
        (
            r#"{"email":"a@b.co","password":"short","name":"A"}"#,
            422,
            "validation_failed",
        ),
        (
            r#"{"email":"not-an-email","password":"long enough pw","name":"A"}"#,
            422,
            "validation_failed",
        ),
        (
            r#"{"email":"a@b.co","password":12345678901,"name":"A"}"#,
            422,
            "validation_failed",
        ),
        (
            r#"{"email":"a@b.co","password":"long enough pw","name":"   "}"#,
            422,
            "validation_failed",
        ),
    ];
    for (body, status, code) in cases {
        let r = app
            .http
            .post(app.url("/api/users/register"))
            .header("content-type", "application/json")
            .header("x-trace-id", "0123456789abcdef0123456789abcdef")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{body}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], code, "{body}");
        assert_eq!(v["error"]["trace_id"], "0123456789abcdef0123456789abcdef");
        assert!(v["error"]["message"].as_str().unwrap().len() > 3);
    }
}

#[tokio::test]
async fn oversized_body_is_413() {
    let app = spawn_app().await;
    let big = "x".repeat(70 * 1024);
    let r = app
        .post(
            "/api/users/register",
            json!({"email": "a@b.co", "password": big, "name": "A"}),
        )
        .await;
    assert_eq!(r.status(), 413);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "payload_too_large");
}

#[tokio::test]
async fn wrong_password_and_unknown_email_answer_the_same() {
    let app = spawn_app().await;
    let email = unique_email();
    app.register(&email).await;
    let wrong = app.login(&email, "wrong password!!").await;
    let unknown = app.login(&unique_email(), "wrong password!!").await;
    assert_eq!(wrong.status(), 401);
    assert_eq!(unknown.status(), 401);
    let mut a: Value = wrong.json().await.unwrap();
    let mut b: Value = unknown.json().await.unwrap();
    a["error"]["trace_id"] = Value::Null;
    b["error"]["trace_id"] = Value::Null;
    assert_eq!(a, b);
    assert_eq!(a["error"]["code"], "invalid_credentials");
}

#[tokio::test]
async fn repeated_failures_are_rate_limited_with_retry_after() {
    let app = spawn_app().await;
    let email = unique_email();
    app.register(&email).await;
    for _ in 0..3 {
        assert_eq!(app.login(&email, "wrong password!!").await.status(), 401);
    }
    // Locked now, even with the right password.
    let r = app.login(&email, "correct horse battery").await;
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "rate_limited");
}

#[tokio::test]
async fn me_answers_the_identity_nginx_passed() {
    let app = spawn_app().await;
    let email = unique_email();
    let user = app.register(&email).await;
    let id = user["id"].as_u64().unwrap();
    let who = As {
        user_id: id,
        roles: "customer",
        jti: None,
        exp: None,
    };
    let r = app
        .request_as(reqwest::Method::GET, "/api/users/me", &who)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let me: Value = r.json().await.unwrap();
    assert_eq!(me["email"], email.as_str());
    assert!(chrono_like(me["created_at"].as_str().unwrap()));
    let anonymous = app.http.get(app.url("/api/users/me")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
}

fn chrono_like(s: &str) -> bool {
    s.len() == 20 && s.ends_with('Z') && s.as_bytes()[10] == b'T'
}

#[tokio::test]
async fn every_response_carries_trace_id_and_served_by() {
    let app = spawn_app().await;
    let r = app
        .http
        .get(app.url("/no/such/route"))
        .header("x-trace-id", "NOT-VALID")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let trace = r.headers()["x-trace-id"].to_str().unwrap().to_owned();
    assert_eq!(trace.len(), 32);
    assert_ne!(trace, "NOT-VALID");
    assert_eq!(r.headers()["x-served-by"], "user-blue@test");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "not_found");
    assert_eq!(v["error"]["trace_id"], trace.as_str());
    let kept = app
        .http
        .get(app.url("/health"))
        .header("x-trace-id", "4bf92f3577b34da6a3ce929d0e0e4736")
        .send()
        .await
        .unwrap();
    assert_eq!(
        kept.headers()["x-trace-id"],
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = spawn_app().await;
    app.http.get(app.url("/api/users/me")).send().await.unwrap();
    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.lines().any(|l| l.starts_with("http_requests_total")
            && l.contains(r#"route="/api/users/me""#)
            && l.contains(r#"status="401""#)),
        "{text}"
    );
    assert!(text.contains("http_request_duration_seconds_bucket"));
}
