use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{charge_body, spawn_sim};

#[tokio::test]
async fn fail_mode_answers_503_and_records_nothing_until_normal() {
    let sim = spawn_sim(Duration::from_secs(2)).await;
    sim.set_mode("fail", 0).await;
    let r = sim
        .post("/v1/charges", &charge_body("pay-1", 10, "tok_ok"))
        .await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "1");
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "service_unavailable"
    );
    assert_eq!(
        sim.get("/v1/charges?idempotency_key=pay-1").await.status(),
        503
    );
    // The knobs still answer.
    assert_eq!(sim.stats().await["charges"], 0);
    sim.set_mode("normal", 0).await;
    assert_eq!(
        sim.charge("pay-1", 10, "tok_ok").await.1["status"],
        "approved"
    );
    assert_eq!(sim.stats().await["charges"], 1);
}

#[tokio::test]
async fn slow_mode_delays_every_charge_answer() {
    let sim = spawn_sim(Duration::from_secs(2)).await;
    sim.set_mode("slow", 400).await;
    let started = Instant::now();
    let (status, _) = sim.charge("pay-2", 10, "tok_declined").await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(400));
    let started = Instant::now();
    assert_eq!(sim.by_key("pay-2").await.len(), 1);
    assert!(started.elapsed() >= Duration::from_millis(400));
}

/// Control and stats are never slowed, and a charge made after switching back to normal
/// is not either: each answers while a charge and a lookup made in slow mode (a minute,
/// the longest delay) are still held. Ordering, not a stopwatch: a slowed answer would
/// come after theirs.
#[tokio::test]
async fn slow_mode_spares_control_stats_and_later_charges() {
    let sim = spawn_sim(Duration::from_secs(2)).await;
    sim.set_mode("slow", 60_000).await;
    let in_flight = |path: &'static str, body: Option<Value>| {
        let (http, url) = (sim.http.clone(), sim.url.clone());
        tokio::spawn(async move {
            let request = match body {
                Some(b) => http.post(format!("{url}{path}")).json(&b),
                None => http.get(format!("{url}{path}")),
            };
            request.send().await.map(|r| r.status())
        })
    };
    let held_charge = in_flight("/v1/charges", Some(charge_body("pay-2", 10, "tok_ok")));
    // The slow charge is recorded at once (the answer waits): stats show it.
    let deadline = Instant::now() + Duration::from_secs(30);
    while sim.stats().await["charges"] != 1 {
        assert!(
            Instant::now() < deadline,
            "the slow charge was never recorded"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let held_lookup = in_flight("/v1/charges?idempotency_key=pay-2", None);

    assert_eq!(sim.stats().await["approved"], 1);
    sim.set_mode("normal", 0).await;
    let (status, later) = sim.charge("pay-3", 10, "tok_ok").await;
    assert_eq!((status, &later["status"]), (200, &json!("approved")));
    assert_eq!(sim.by_key("pay-3").await.len(), 1);

    assert!(
        !held_charge.is_finished() && !held_lookup.is_finished(),
        "the answers slowed by a minute came before stats, control and a normal charge"
    );
    held_charge.abort();
    held_lookup.abort();
}

#[tokio::test]
async fn control_refuses_unknown_modes_and_missing_delays() {
    let sim = spawn_sim(Duration::from_secs(2)).await;
    for body in [
        json!({"mode": "broken"}),
        json!({"mode": "slow"}),
        json!({"mode": "slow", "delay_ms": 0}),
        json!({"mode": "slow", "delay_ms": -1}),
    ] {
        let r = sim.post("/v1/control", &body).await;
        assert_eq!(r.status(), 422, "{body}");
    }
    let r = sim
        .post("/v1/control", &json!({"mode": "slow", "delay_ms": 5}))
        .await;
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"mode": "slow", "delay_ms": 5})
    );
}
