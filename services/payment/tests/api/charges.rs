use serde_json::{json, Value};

use crate::helpers::{charge_body, spawn_app, TestApp, USER};

#[tokio::test]
async fn an_approved_charge_is_stored_and_answered() {
    let app = spawn_app().await;
    let (status, p) = app.charge(1, 15000, "tok_ok").await;
    assert_eq!(status, 200);
    let keys: Vec<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "id",
            "order_id",
            "user_id",
            "amount",
            "currency",
            "status",
            "created_at"
        ]
    );
    assert_eq!(p["order_id"], 1);
    assert_eq!(p["user_id"], USER);
    assert_eq!(p["amount"], 15000);
    assert_eq!(p["currency"], "KRW");
    assert_eq!(p["status"], "approved");
    assert!(p["created_at"].as_str().unwrap().ends_with('Z'));
    let (status, found) = app.by_order(1).await;
    assert_eq!(status, 200);
    assert_eq!(found, p);
    let charges = app.gateway_charges(1).await;
    assert_eq!(charges.len(), 1);
    assert_eq!(charges[0]["idempotency_key"], "pay-1");
    assert_eq!(charges[0]["reference"], "1");
    assert_eq!(charges[0]["amount"], 15000);
}

#[tokio::test]
async fn a_declined_charge_is_final() {
    let app = spawn_app().await;
    let (status, p) = app.charge(2, 5000, "tok_declined").await;
    assert_eq!(status, 200);
    assert_eq!(p["status"], "declined");
    // Calling again answers the stored payment; the gateway is not asked again.
    let (_, again) = app.charge(2, 5000, "tok_declined").await;
    assert_eq!(again, p);
    assert_eq!(app.by_order(2).await.1["status"], "declined");
    assert_eq!(
        app.gateway_stats().await,
        json!({"charges": 1, "approved": 0, "declined": 1, "refunded": 0})
    );
}

#[tokio::test]
async fn a_second_call_for_the_same_order_returns_the_stored_payment() {
    let app = spawn_app().await;
    let (_, first) = app.charge(3, 700, "tok_ok").await;
    let (status, second) = app.charge(3, 700, "tok_ok").await;
    assert_eq!(status, 200);
    assert_eq!(second, first);
    assert_eq!(app.gateway_stats().await["charges"], 1);
}

#[tokio::test]
async fn another_amount_for_the_same_order_is_a_conflict() {
    let app = spawn_app().await;
    assert_eq!(app.charge(4, 700, "tok_ok").await.1["status"], "approved");
    let (status, body) = app.charge(4, 701, "tok_ok").await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["code"], "conflict");
    let mut other_user = charge_body(4, 700, "tok_ok");
    other_user["user_id"] = json!(USER + 1);
    let (status, _) = app.post("/internal/payments", &other_user).await;
    assert_eq!(status, 409);
    assert_eq!(app.gateway_stats().await["charges"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_charges_for_one_order_make_one_gateway_charge() {
    let app = spawn_app().await;
    // A slow gateway keeps the first attempt in flight while the others arrive.
    app.gateway_mode("slow", 300).await;
    let answers = charge_at_once(&app, 6, 5, 9900).await;
    let ids: std::collections::BTreeSet<String> =
        answers.iter().map(|a| a["id"].to_string()).collect();
    assert_eq!(ids.len(), 1, "one payment: {answers:?}");
    app.gateway_mode("normal", 0).await;
    assert_eq!(app.by_order(5).await.1["status"], "approved");
    assert_eq!(app.gateway_charges(5).await.len(), 1);
    assert_eq!(app.gateway_stats().await["charges"], 1);
}

#[tokio::test]
async fn bad_requests_are_refused_without_charging() {
    let app = spawn_app().await;
    for body in [
        charge_body(0, 100, "tok_ok"),
        charge_body(6, 0, "tok_ok"),
        charge_body(6, -100, "tok_ok"),
        charge_body(6, 100, ""),
        json!({"order_id": 6, "user_id": USER, "amount": 100, "currency": "won", "card_token": "tok_ok"}),
        json!({"order_id": 6, "user_id": USER, "amount": 100, "currency": "KRW"}),
        json!({"order_id": "six", "user_id": USER, "amount": 100, "currency": "KRW", "card_token": "tok_ok"}),
    ] {
        let (status, v) = app.post("/internal/payments", &body).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(v["error"]["code"], "validation_failed");
        assert!(!v.to_string().contains("tok_ok"), "token echoed: {v}");
    }
    let mut extra = charge_body(6, 100, "tok_ok");
    extra["cvv"] = json!("123");
    assert_eq!(app.post("/internal/payments", &extra).await.0, 400);
    assert_eq!(app.gateway_stats().await["charges"], 0);
    assert_eq!(app.by_order(6).await.0, 404);
}

#[tokio::test]
async fn the_answer_of_a_settled_charge_is_what_later_reads_show() {
    let app = spawn_app().await;
    for (order_id, token, status) in [(50, "tok_ok", "approved"), (51, "tok_declined", "declined")]
    {
        let (code, answer) = app.charge(order_id, 1200, token).await;

        assert_eq!(code, 200);
        assert_eq!(answer["status"], status);
        assert_eq!(app.by_order(order_id).await, (200, answer.clone()));
        assert_eq!(
            app.charge(order_id, 1200, token).await,
            (200, answer.clone())
        );
        assert_eq!(
            app.public_get(&answer["id"], USER).await,
            (
                200,
                json!({
                    "id": answer["id"],
                    "order_id": order_id,
                    "amount": 1200,
                    "currency": "KRW",
                    "status": status,
                    "created_at": answer["created_at"],
                })
            )
        );
    }
}

#[tokio::test]
async fn a_charge_settled_by_a_retry_answers_what_later_reads_show() {
    let app = spawn_app().await;
    app.gateway_mode("fail", 0).await;
    let (_, pending) = app.charge(52, 800, "tok_ok").await;
    assert_eq!(pending["status"], "pending");
    assert_eq!(app.by_order(52).await, (200, pending.clone()));
    app.gateway_mode("normal", 0).await;

    let (code, retried) = app.charge(52, 800, "tok_ok").await;

    assert_eq!(code, 200);
    assert_eq!(retried["status"], "approved");
    let mut expected = pending;
    expected["status"] = json!("approved");
    assert_eq!(retried, expected);
    assert_eq!(app.by_order(52).await, (200, retried));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_charges_answer_the_payment_later_reads_show() {
    let app = spawn_app().await;
    // Slow answers make the callers settle the same payment at about the same time: one
    // update wins, the others read what it wrote.
    app.gateway_mode("slow", 200).await;
    let answers = charge_at_once(&app, 4, 53, 2300).await;
    app.gateway_mode("normal", 0).await;
    let (_, later) = app.by_order(53).await;
    assert_eq!(later["status"], "approved");
    for a in &answers {
        // A caller whose gateway call ran out of time answers `pending` (and nothing else
        // different); every settled answer is the stored payment.
        let mut same = a.clone();
        same["status"] = later["status"].clone();
        assert_eq!(same, later, "{answers:?}");
        assert!(a["status"] == "approved" || a["status"] == "pending", "{a}");
    }
    assert!(
        answers.iter().any(|a| a["status"] == "approved"),
        "{answers:?}"
    );
}

/// `n` charges of one order (`tok_ok`) sent at once; every one answers 200. The answers.
async fn charge_at_once(app: &TestApp, n: usize, order_id: u64, amount: i64) -> Vec<Value> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (http, url) = (app.http.clone(), app.url.clone());
            tokio::spawn(async move {
                let r = http
                    .post(format!("{url}/internal/payments"))
                    .json(&charge_body(order_id, amount, "tok_ok"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                r.json::<Value>().await.unwrap()
            })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    answers
}
