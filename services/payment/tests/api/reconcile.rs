use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{charge_body, dead_url, logs, spawn_app, spawn_with, FakeGateway, Opts};

/// The lines captured under `trace` (both services of a test run in this process).
fn lines_of(trace: &str) -> Vec<Value> {
    logs()
        .lines()
        .into_iter()
        .filter(|l| l["trace_id"] == trace)
        .collect()
}

#[tokio::test]
async fn a_gateway_timeout_leaves_pending_and_by_order_reconciles_to_approved() {
    // The simulator holds a `tok_timeout` answer for a minute; the payment service waits
    // 500 ms.
    let app = spawn_with(Opts {
        sim_delay: Duration::from_secs(60),
        ..Opts::default()
    })
    .await;
    let trace = uuid::Uuid::new_v4().simple().to_string();
    let r = app
        .http
        .post(format!("{}/internal/payments", app.url))
        .header("x-trace-id", &trace)
        .json(&charge_body(10, 3000, "tok_timeout"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["status"], "pending");
    // Answered while the gateway still held its answer: it was given up on, not awaited.
    let lines = lines_of(&trace);
    assert!(
        lines
            .iter()
            .any(|l| l["msg"] == "holding the answer (late-answer card)"),
        "the gateway never held the charge: {lines:?}"
    );
    assert!(
        !lines
            .iter()
            .any(|l| l["msg"] == "request completed" && l["route"] == "/v1/charges"),
        "answered only after the gateway did: {lines:?}"
    );
    // The gateway recorded the charge before it stopped answering.
    let (status, found) = app.by_order(10).await;
    assert_eq!(status, 200);
    assert_eq!(found["status"], "approved");
    assert_eq!(found["id"], p["id"]);
    assert_eq!(
        app.gateway_stats().await,
        json!({"charges": 1, "approved": 1, "declined": 0, "refunded": 0})
    );
    // Charging again now answers the settled payment and charges nothing new.
    assert_eq!(
        app.charge(10, 3000, "tok_timeout").await.1["status"],
        "approved"
    );
    assert_eq!(app.gateway_stats().await["charges"], 1);
}

#[tokio::test]
async fn a_retry_of_a_timed_out_charge_finds_it_instead_of_charging_again() {
    let app = spawn_app().await;
    assert_eq!(
        app.charge(11, 3000, "tok_timeout").await.1["status"],
        "pending"
    );
    let (_, again) = app.charge(11, 3000, "tok_timeout").await;
    assert_eq!(again["status"], "approved");
    assert_eq!(app.gateway_charges(11).await.len(), 1);
}

#[tokio::test]
async fn a_failing_gateway_leaves_pending_and_a_retry_charges_once() {
    let app = spawn_app().await;
    app.gateway_mode("fail", 0).await;
    let (status, p) = app.charge(12, 4000, "tok_ok").await;
    assert_eq!(status, 200);
    assert_eq!(p["status"], "pending");
    // While it still fails, reconciling cannot learn anything: still pending.
    assert_eq!(app.by_order(12).await.1["status"], "pending");
    app.gateway_mode("normal", 0).await;
    let (_, retried) = app.charge(12, 4000, "tok_ok").await;
    assert_eq!(retried["status"], "approved");
    assert_eq!(retried["id"], p["id"]);
    assert_eq!(app.gateway_charges(12).await.len(), 1);
}

#[tokio::test]
async fn a_charge_that_never_reached_the_gateway_settles_declined_after_the_delay() {
    // The production delay: "too early" is then a window of 20 s, and the test moves the
    // payment's last attempt back instead of waiting it out.
    let app = spawn_with(Opts {
        settle_after: Duration::from_secs(20),
        ..Opts::default()
    })
    .await;
    app.gateway_mode("fail", 0).await;
    assert_eq!(app.charge(13, 4000, "tok_ok").await.1["status"], "pending");
    app.gateway_mode("normal", 0).await;
    let attempt = app.last_attempt(13).await;

    // Too early: an attempt could still be on its way.
    assert_eq!(app.by_order(13).await.1["status"], "pending");
    let asked = chrono::Utc::now().naive_utc();
    assert!(
        asked - attempt < chrono::Duration::from_std(app.opts.settle_after).unwrap(),
        "the too-early check came {} after the attempt, not within the delay",
        asked - attempt
    );

    // The delay has passed since the attempt (moved back by the delay itself).
    app.age_last_attempt(13, app.opts.settle_after).await;
    let (status, settled) = app.by_order(13).await;
    assert_eq!(status, 200);
    assert_eq!(settled["status"], "declined");
    assert_eq!(app.gateway_stats().await["charges"], 0);
    // Final: a late retry does not charge.
    assert_eq!(app.charge(13, 4000, "tok_ok").await.1["status"], "declined");
    assert_eq!(app.gateway_stats().await["charges"], 0);
}

/// The race "never charged" must lose: reconciliation reads a payment whose last attempt
/// is old, a retry then claims a new attempt and charges, and only then does the
/// reconciliation learn that the gateway had no charge. A gateway the test answers by
/// hand puts the steps in exactly that order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_charge_attempt_in_flight_is_never_settled_as_never_charged() {
    let mut gateway = FakeGateway::start().await;
    let app = spawn_with(Opts {
        gateway_url: Some(gateway.url.clone()),
        gateway_timeout: Duration::from_secs(30),
        settle_after: Duration::from_secs(60),
        ..Opts::default()
    })
    .await;
    let first = {
        let (http, url) = (app.http.clone(), app.url.clone());
        tokio::spawn(async move {
            http.post(format!("{url}/internal/payments"))
                .json(&charge_body(14, 4000, "tok_ok"))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        })
    };
    let charge = gateway.next("the first charge").await;
    assert_eq!(
        (charge.method.as_str(), charge.target.as_str()),
        ("POST", "/v1/charges")
    );
    charge.answer(503, json!({"error": {"code": "service_unavailable"}}));
    assert_eq!(first.await.unwrap()["status"], "pending");
    // Old enough to be declined as never charged, were nothing else going on.
    app.age_last_attempt(14, app.opts.settle_after * 2).await;

    let spawn = |path: String, body: Option<Value>| {
        let (http, url) = (app.http.clone(), app.url.clone());
        tokio::spawn(async move {
            let request = match body {
                Some(b) => http.post(format!("{url}{path}")).json(&b),
                None => http.get(format!("{url}{path}")),
            };
            request.send().await.unwrap().json::<Value>().await.unwrap()
        })
    };
    // 1. The retry asks the gateway first (held).
    let retry = spawn(
        "/internal/payments".into(),
        Some(charge_body(14, 4000, "tok_ok")),
    );
    let retry_lookup = gateway.next("the retry's lookup").await;
    assert_eq!(retry_lookup.target, "/v1/charges?idempotency_key=pay-14");
    // 2. Reconciliation reads the payment (the old attempt) and asks the gateway (held).
    let reconcile = spawn("/internal/payments/by-order/14".into(), None);
    let reconcile_lookup = gateway.next("the reconciliation's lookup").await;
    assert_eq!(
        reconcile_lookup.target,
        "/v1/charges?idempotency_key=pay-14"
    );
    // 3. The retry learns "no charge", claims a new attempt, and charges (held).
    retry_lookup.answer(200, json!([]));
    let retry_charge = gateway.next("the retry's charge").await;
    assert_eq!(
        (retry_charge.method.as_str(), retry_charge.target.as_str()),
        ("POST", "/v1/charges")
    );
    assert_eq!(retry_charge.body["idempotency_key"], "pay-14");
    // 4. Only now does the reconciliation learn "no charge": too late to decline.
    reconcile_lookup.answer(200, json!([]));
    let during = reconcile.await.unwrap();
    assert_eq!(
        during["status"], "pending",
        "settled while an attempt was in flight"
    );
    // 5. The charge goes through.
    retry_charge.answer(
        200,
        json!({"id": 901, "status": "approved", "amount": 4000, "currency": "KRW",
               "reference": "14", "idempotency_key": "pay-14"}),
    );
    let settled = retry.await.unwrap();
    assert_eq!(settled["status"], "approved");
    assert_eq!(app.by_order(14).await.1["status"], "approved");
    gateway.assert_idle("after the payment settled");
}

#[tokio::test]
async fn an_unreachable_gateway_leaves_the_payment_pending() {
    let app = spawn_with(Opts {
        gateway_url: Some(dead_url()),
        ..Opts::default()
    })
    .await;
    let (status, p) = app.charge(15, 100, "tok_ok").await;
    assert_eq!(status, 200);
    assert_eq!(p["status"], "pending");
    // Long enough ago that a gateway saying "no such charge" would settle it.
    app.age_last_attempt(15, app.opts.settle_after * 2).await;
    // Not knowing is not "never charged".
    assert_eq!(app.by_order(15).await.1["status"], "pending");
}

#[tokio::test]
async fn by_order_is_404_without_a_payment() {
    let app = spawn_app().await;
    let (status, body) = app.by_order(999).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
}
