use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{dead_url, spawn_app, spawn_with, Opts};

#[tokio::test]
async fn a_gateway_timeout_leaves_pending_and_by_order_reconciles_to_approved() {
    let app = spawn_app().await;
    let started = Instant::now();
    let (status, p) = app.charge(10, 3000, "tok_timeout").await;
    assert_eq!(status, 200);
    assert_eq!(p["status"], "pending");
    assert!(
        started.elapsed() < app.opts.sim_delay,
        "answered only after the gateway did"
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
    let app = spawn_app().await;
    app.gateway_mode("fail", 0).await;
    assert_eq!(app.charge(13, 4000, "tok_ok").await.1["status"], "pending");
    app.gateway_mode("normal", 0).await;
    // Too early: an attempt could still be on its way.
    assert_eq!(app.by_order(13).await.1["status"], "pending");
    tokio::time::sleep(app.opts.settle_after + Duration::from_millis(200)).await;
    let (status, settled) = app.by_order(13).await;
    assert_eq!(status, 200);
    assert_eq!(settled["status"], "declined");
    assert_eq!(app.gateway_stats().await["charges"], 0);
    // Final: a late retry does not charge.
    assert_eq!(app.charge(13, 4000, "tok_ok").await.1["status"], "declined");
    assert_eq!(app.gateway_stats().await["charges"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_charge_attempt_in_flight_is_never_settled_as_never_charged() {
    let app = spawn_app().await;
    app.gateway_mode("fail", 0).await;
    app.charge(14, 4000, "tok_ok").await;
    tokio::time::sleep(app.opts.settle_after + Duration::from_millis(200)).await;
    // Every gateway answer now takes 300 ms (within the 500 ms timeout): the retry looks
    // the charge up (none), claims the attempt at ~300 ms, then charges.
    app.gateway_mode("slow", 300).await;
    let retry = {
        let (http, url) = (app.http.clone(), app.url.clone());
        tokio::spawn(async move {
            let r = http
                .post(format!("{url}/internal/payments"))
                .json(&crate::helpers::charge_body(14, 4000, "tok_ok"))
                .send()
                .await
                .unwrap();
            r.json::<serde_json::Value>().await.unwrap()
        })
    };
    // Reconciling reads the payment before the claim and learns "no charge" after it.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let (_, during) = app.by_order(14).await;
    assert_eq!(
        during["status"], "pending",
        "settled while an attempt was in flight"
    );
    assert_eq!(retry.await.unwrap()["status"], "approved");
    app.gateway_mode("normal", 0).await;
    assert_eq!(app.by_order(14).await.1["status"], "approved");
    assert_eq!(
        app.gateway_stats().await,
        json!({"charges": 1, "approved": 1, "declined": 0, "refunded": 0})
    );
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
    tokio::time::sleep(app.opts.settle_after + Duration::from_millis(200)).await;
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
