//! The attack classes the mall already withstood before this hardening round, kept in one
//! adversarial suite (issue "Hardening", point 9) so a regression in any of them fails:
//! forged tokens, request smuggling, reading or changing another shopper's order (IDOR),
//! mass assignment of roles. (Path tricks: paths.rs; idempotency races: checkout.rs's
//! `five_concurrent_retries_with_one_key_make_one_order_and_one_charge`.)

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{mall, product_body, send, unique_tag};

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).expect("json"))
}

#[tokio::test]
async fn forged_tokens_are_401() {
    let mall = mall();
    let (user, tokens) = mall.customer().await;
    let mut parts = tokens.access.split('.');
    let (header, payload, signature) = (
        parts.next().expect("header"),
        parts.next().expect("payload"),
        parts.next().expect("signature"),
    );
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("b64")).expect("claims");
    claims["roles"] = json!(["customer", "admin"]);
    let elevated = b64(&claims);
    let forged = [
        // alg none, no signature
        format!("{}.{elevated}.", b64(&json!({"alg": "none", "typ": "JWT"}))),
        // the real signature over other claims
        format!("{header}.{elevated}.{signature}"),
        // HS256 "signed" with nothing, and a key URL in the header
        format!(
            "{}.{elevated}.{signature}",
            b64(&json!({"alg": "HS256", "typ": "JWT"}))
        ),
        format!(
            "{}.{elevated}.{signature}",
            b64(&json!({"alg": "EdDSA", "jku": "http://evil.example/jwks.json", "kid": "x"}))
        ),
    ];
    for token in forged {
        let me = send(mall.get("/api/users/me").bearer_auth(&token)).await;
        me.expect_status(StatusCode::UNAUTHORIZED);
        let admin = send(mall.get("/api/admin/users").bearer_auth(&token)).await;
        admin.expect_status(StatusCode::UNAUTHORIZED);
    }
    // The untouched token still works (the refusals above are about the forgery).
    let me = send(mall.get("/api/users/me").bearer_auth(&tokens.access)).await;
    me.expect_status(StatusCode::OK);
    assert_eq!(me.body["id"], user.id);
}

#[tokio::test]
async fn ambiguous_request_framing_is_refused_at_the_edge() {
    let smuggled = "POST /api/users/login HTTP/1.1\r\nHost: mall.test\r\nContent-Type: application/json\r\n\
        Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /api/admin/users HTTP/1.1\r\nHost: mall.test\r\n\r\n";
    let two_lengths =
        "POST /api/users/login HTTP/1.1\r\nHost: mall.test\r\nContent-Type: application/json\r\n\
        Content-Length: 2\r\nContent-Length: 40\r\nConnection: close\r\n\r\n{}";

    for (what, request) in [("CL and TE", smuggled), ("two Content-Length", two_lengths)] {
        let (status, text) = mall().raw_bytes_status(request.as_bytes()).await;
        assert_eq!(status, 400, "{what}: {text}");
        assert!(text.contains("\"bad_request\""), "{what}: {text}");
        // Nothing after the refusal was read as a second request.
        assert_eq!(text.matches("HTTP/1.1 ").count(), 1, "{what}: {text}");
    }
}

#[tokio::test]
async fn another_shoppers_order_cannot_be_read_or_cancelled() {
    let mall = mall();
    let admin = mall.admin().await;
    let mut body = product_body(&format!("Idor {}", unique_tag()), "idor", 1000);
    body["stock"] = json!(10);
    let product = mall.create_product(&admin.access, &body).await["id"]
        .as_i64()
        .expect("id");
    let (_, owner) = mall.customer().await;
    let (_, other) = mall.customer().await;
    let created = send(
        mall.post("/api/orders")
            .bearer_auth(&owner.access)
            .header("Idempotency-Key", unique_tag())
            .json(&json!({"items": [{"product_id": product, "quantity": 1}],
                          "payment": {"card_token": "tok_ok"}})),
    )
    .await;
    created.expect_status(StatusCode::CREATED);
    let id = created.body["id"].as_i64().expect("order id");

    let read = send(
        mall.get(&format!("/api/orders/{id}"))
            .bearer_auth(&other.access),
    )
    .await;
    let cancel = send(
        mall.post(&format!("/api/orders/{id}/cancel"))
            .bearer_auth(&other.access),
    )
    .await;
    let listed = send(mall.get("/api/orders").bearer_auth(&other.access)).await;

    read.expect_status(StatusCode::NOT_FOUND);
    cancel.expect_status(StatusCode::NOT_FOUND);
    listed.expect_status(StatusCode::OK);
    assert!(
        !listed.text.contains(&format!("\"id\":{id},")),
        "another shopper's list shows order {id}: {}",
        listed.text
    );
    let mine = send(
        mall.get(&format!("/api/orders/{id}"))
            .bearer_auth(&owner.access),
    )
    .await;
    mine.expect_status(StatusCode::OK);
    assert_eq!(mine.body["status"], "paid");
}

#[tokio::test]
async fn roles_cannot_be_assigned_by_the_client() {
    let mall = mall();
    let email = format!("mass-{}@mall.test", unique_tag());

    let register = send(mall.post("/api/users/register").json(&json!({
        "email": email,
        "password": "correct horse battery",
        "name": "Mass Assignment",
        "roles": ["customer", "admin"],
    })))
    .await;

    register.expect_error(StatusCode::BAD_REQUEST, "unknown_field");
    let login = send(mall.post("/api/users/login").json(&json!({
        "email": email,
        "password": "correct horse battery",
    })))
    .await;
    login.expect_status(StatusCode::UNAUTHORIZED);
}
