use serde_json::{json, Value};

use crate::helpers::spawn_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_is_idempotent_and_refunds_once_at_the_gateway() {
    let app = spawn_app().await;
    let (_, p) = app.charge(20, 12000, "tok_ok").await;
    let (status, refunded) = app.refund(&p["id"]).await;
    assert_eq!(status, 200);
    assert_eq!(refunded["status"], "refunded");
    assert_eq!(refunded["id"], p["id"]);
    assert_eq!(refunded["amount"], 12000);
    let (status, again) = app.refund(&p["id"]).await;
    assert_eq!(status, 200);
    assert_eq!(again, refunded);
    assert_eq!(app.by_order(20).await.1["status"], "refunded");
    assert_eq!(
        app.gateway_stats().await,
        json!({"charges": 1, "approved": 0, "declined": 0, "refunded": 1})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refunds_all_succeed_with_one_refund() {
    let app = spawn_app().await;
    let (_, p) = app.charge(21, 500, "tok_ok").await;
    app.gateway_mode("slow", 200).await;
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (http, url, id) = (app.http.clone(), app.url.clone(), p["id"].clone());
            tokio::spawn(async move {
                let r = http
                    .post(format!("{url}/internal/payments/{id}/refund"))
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.json::<Value>().await.unwrap())
            })
        })
        .collect();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["status"], "refunded");
    }
    assert_eq!(app.gateway_stats().await["refunded"], 1);
}

#[tokio::test]
async fn only_approved_payments_can_be_refunded() {
    let app = spawn_app().await;
    let (_, declined) = app.charge(22, 500, "tok_declined").await;
    let (status, body) = app.refund(&declined["id"]).await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["code"], "conflict");
    app.gateway_mode("fail", 0).await;
    let (_, pending) = app.charge(23, 500, "tok_ok").await;
    assert_eq!(pending["status"], "pending");
    assert_eq!(app.refund(&pending["id"]).await.0, 409);
    let (status, body) = app.refund(&json!(424242)).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
async fn a_refund_the_gateway_cannot_take_now_is_503_and_can_be_retried() {
    let app = spawn_app().await;
    let (_, p) = app.charge(24, 800, "tok_ok").await;
    app.gateway_mode("fail", 0).await;
    let r = app
        .http
        .post(format!("{}/internal/payments/{}/refund", app.url, p["id"]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "1");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "gateway_unavailable");
    assert!(
        !body.to_string().contains("127.0.0.1"),
        "internals leaked: {body}"
    );
    assert_eq!(app.by_order(24).await.1["status"], "approved");
    app.gateway_mode("normal", 0).await;
    assert_eq!(app.refund(&p["id"]).await.1["status"], "refunded");
    assert_eq!(app.gateway_stats().await["refunded"], 1);
}
