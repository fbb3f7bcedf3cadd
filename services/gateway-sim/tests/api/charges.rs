use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{charge_body, spawn_sim};

const SHORT: Duration = Duration::from_secs(2);

#[tokio::test]
async fn card_tokens_decide_approval() {
    let sim = spawn_sim(SHORT).await;
    let (status, ok) = sim.charge("k-ok", 15000, "tok_ok").await;
    assert_eq!(status, 200);
    assert_eq!(ok["status"], "approved");
    assert_eq!(ok["amount"], 15000);
    assert_eq!(ok["currency"], "KRW");
    assert_eq!(ok["reference"], "order-k-ok");
    assert_eq!(ok["idempotency_key"], "k-ok");
    assert!(ok["id"].as_u64().unwrap() > 0);
    assert!(ok["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(ok.get("card_token").is_none(), "the token is never echoed");
    assert_eq!(
        sim.charge("k-no", 1, "tok_declined").await.1["status"],
        "declined"
    );
    assert_eq!(
        sim.charge("k-odd", 1, "tok_unknown").await.1["status"],
        "declined"
    );
    assert_eq!(
        sim.stats().await,
        json!({"charges": 3, "approved": 1, "declined": 2, "refunded": 0})
    );
}

#[tokio::test]
async fn the_same_key_returns_the_same_charge_and_never_a_second() {
    let sim = spawn_sim(SHORT).await;
    let (_, first) = sim.charge("pay-1", 500, "tok_ok").await;
    let (status, again) = sim.charge("pay-1", 500, "tok_ok").await;
    assert_eq!(status, 200);
    assert_eq!(first, again);
    // Concurrent retries too.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (http, url) = (sim.http.clone(), sim.url.clone());
            tokio::spawn(async move {
                let r = http
                    .post(format!("{url}/v1/charges"))
                    .json(&charge_body("pay-2", 700, "tok_ok"))
                    .send()
                    .await
                    .unwrap();
                r.json::<Value>().await.unwrap()["id"].clone()
            })
        })
        .collect();
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(sim.stats().await["charges"], 2);
}

#[tokio::test]
async fn a_reused_key_with_another_amount_or_card_is_a_conflict() {
    let sim = spawn_sim(SHORT).await;
    assert_eq!(sim.charge("pay-3", 500, "tok_ok").await.0, 200);
    for (amount, token) in [(501, "tok_ok"), (500, "tok_declined")] {
        let (status, body) = sim.charge("pay-3", amount, token).await;
        assert_eq!(status, 409);
        assert_eq!(body["error"]["code"], "idempotency_key_reused");
    }
    assert_eq!(sim.stats().await["charges"], 1);
}

#[tokio::test]
async fn charges_are_listed_by_key_or_reference() {
    let sim = spawn_sim(SHORT).await;
    assert_eq!(sim.charge("pay-4", 10, "tok_ok").await.0, 200);
    assert_eq!(sim.charge("pay-5", 10, "tok_declined").await.0, 200);
    let found = sim.by_key("pay-4").await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["status"], "approved");
    let r = sim.get("/v1/charges?reference=order-pay-5").await;
    let by_ref: Vec<Value> = r.json().await.unwrap();
    assert_eq!(by_ref.len(), 1);
    assert_eq!(by_ref[0]["idempotency_key"], "pay-5");
    assert!(sim.by_key("never-used").await.is_empty());
    assert_eq!(sim.get("/v1/charges").await.status(), 422);
    assert_eq!(sim.get("/v1/charges?colour=red").await.status(), 422);
}

#[tokio::test]
async fn refunds_are_idempotent_and_happen_once() {
    let sim = spawn_sim(SHORT).await;
    let (_, ok) = sim.charge("pay-6", 900, "tok_ok").await;
    let path = format!("/v1/charges/{}/refunds", ok["id"]);
    let key = json!({"idempotency_key": "refund-6"});
    let first = sim.post(&path, &key).await;
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["status"], "refunded");
    assert_eq!(first["id"], ok["id"]);
    let again = sim.post(&path, &key).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    // Another key cannot refund it a second time.
    let other = sim
        .post(&path, &json!({"idempotency_key": "refund-other"}))
        .await;
    assert_eq!(other.status(), 409);
    assert_eq!(
        other.json::<Value>().await.unwrap()["error"]["code"],
        "already_refunded"
    );
    assert_eq!(
        sim.stats().await,
        json!({"charges": 1, "approved": 0, "declined": 0, "refunded": 1})
    );
    assert_eq!(sim.by_key("pay-6").await[0]["status"], "refunded");
}

#[tokio::test]
async fn only_approved_charges_can_be_refunded() {
    let sim = spawn_sim(SHORT).await;
    let (_, no) = sim.charge("pay-7", 900, "tok_declined").await;
    let r = sim
        .post(
            &format!("/v1/charges/{}/refunds", no["id"]),
            &json!({"idempotency_key": "refund-7"}),
        )
        .await;
    assert_eq!(r.status(), 409);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "not_refundable"
    );
    let missing = sim
        .post(
            "/v1/charges/12345/refunds",
            &json!({"idempotency_key": "refund-x"}),
        )
        .await;
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.json::<Value>().await.unwrap()["error"]["code"],
        "not_found"
    );
}

#[tokio::test]
async fn tok_timeout_records_the_charge_before_answering_late() {
    let sim = spawn_sim(SHORT).await;
    let started = Instant::now();
    let (http, url) = (sim.http.clone(), sim.url.clone());
    let slow = tokio::spawn(async move {
        let r = http
            .post(format!("{url}/v1/charges"))
            .json(&charge_body("pay-8", 300, "tok_timeout"))
            .send()
            .await
            .unwrap();
        (r.status(), started.elapsed())
    });
    // The charge shows up while its answer is still held: polled until it does, and each
    // poll starts only while the answer is still awaited.
    let seen = loop {
        assert!(!slow.is_finished(), "answered before the charge was seen");
        let seen = sim.by_key("pay-8").await;
        if !seen.is_empty() {
            break seen;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["status"], "approved");
    let (status, elapsed) = slow.await.unwrap();
    assert_eq!(status, 200);
    assert!(elapsed >= SHORT, "answered after {elapsed:?}");
}

#[tokio::test]
async fn a_client_that_gives_up_still_leaves_the_charge_recorded() {
    let sim = spawn_sim(Duration::from_secs(30)).await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let r = impatient
        .post(format!("{}/v1/charges", sim.url))
        .json(&charge_body("pay-9", 300, "tok_timeout"))
        .send()
        .await;
    assert!(r.unwrap_err().is_timeout());
    let seen = sim.by_key("pay-9").await;
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["status"], "approved");
}

#[tokio::test]
async fn bad_requests_are_refused_without_charging() {
    let sim = spawn_sim(SHORT).await;
    for body in [
        charge_body("pay-10", 0, "tok_ok"),
        charge_body("", 10, "tok_ok"),
        charge_body("pay-10", 10, ""),
        json!({"idempotency_key": "k", "amount": 1, "currency": "won", "card_token": "tok_ok", "reference": "r"}),
        json!({"idempotency_key": "k", "amount": "ten", "currency": "KRW", "card_token": "tok_ok", "reference": "r"}),
    ] {
        let r = sim.post("/v1/charges", &body).await;
        assert_eq!(r.status(), 422, "{body}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "validation_failed");
        assert!(!v.to_string().contains("tok_ok"), "token echoed: {v}");
    }
    let mut extra = charge_body("pay-10", 10, "tok_ok");
    extra["cvv"] = json!("123");
    assert_eq!(sim.post("/v1/charges", &extra).await.status(), 400);
    assert_eq!(sim.stats().await["charges"], 0);
}

#[tokio::test]
async fn it_runs_the_common_serving_loop() {
    let sim = spawn_sim(SHORT).await;
    let trace = "0af7651916cd43dd8448eb211c80319c";
    let r = sim
        .http
        .get(format!("{}/health", sim.url))
        .header("x-trace-id", trace)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-trace-id"], trace);
    assert_eq!(r.headers()["x-served-by"], "gateway-sim-blue@test");
    let ready: Value = sim.get("/ready").await.json().await.unwrap();
    assert_eq!(ready["status"], "ready");
    let metrics = sim.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("http_requests_total"));
    let missing = sim.get("/v2/nothing").await;
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.json::<Value>().await.unwrap()["error"]["code"],
        "not_found"
    );
}
