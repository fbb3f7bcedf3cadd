use serde_json::json;

use crate::helpers::{charge_body, logs, spawn_app};

#[tokio::test]
async fn card_tokens_never_reach_a_log_line_while_trace_ids_reach_the_gateway() {
    let app = spawn_app().await;
    // Distinctive tokens (the gateway declines unknown ones), through every path.
    let secret_a = "tok_secret_7c1f9a2e";
    let secret_b = "tok_secret_d4e8b0c3";
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let r = app
        .http
        .post(format!("{}/internal/payments", app.url))
        .header("x-trace-id", trace)
        .json(&charge_body(40, 100, secret_a))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // A conflicting retry and a validation failure carry the token too: each must take
    // its path (else a token logged there would go unnoticed).
    let (status, body) = app.charge(40, 101, secret_b).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (409, &json!("conflict")),
        "{body}"
    );
    let (status, body) = app
        .post(
            "/internal/payments",
            &json!({"order_id": 41, "user_id": 1, "amount": 0, "currency": "KRW", "card_token": secret_b}),
        )
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (422, &json!("validation_failed")),
        "{body}"
    );
    let (status, body) = app.charge(42, 100, "tok_ok").await;
    assert_eq!(
        (status, &body["status"]),
        (200, &json!("approved")),
        "{body}"
    );

    let text = logs().text();
    assert!(!text.is_empty(), "nothing was captured");
    assert!(!text.contains("tok_secret_"), "a card token was logged");
    assert!(!text.contains("tok_ok"), "a card token was logged");
    // The gateway logged its side of the charge under the caller's trace id.
    let lines = logs().lines();
    let at_gateway = lines.iter().any(|l| {
        l["trace_id"] == trace && l["msg"] == "charge" && l["idempotency_key"] == "pay-40"
    });
    assert!(at_gateway, "the gateway's line lacks the trace id");
    let settled = lines
        .iter()
        .any(|l| l["trace_id"] == trace && l["msg"] == "payment settled" && l["order_id"] == 40);
    assert!(settled, "the payment service's line lacks the trace id");
}
