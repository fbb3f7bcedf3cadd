//! `POST /internal/reservations/commits`: the order service's batched commits. Each order
//! gets what its own `POST /internal/reservations/{id}/commit` would have done, in one
//! call; the batch itself is bounded and checked.

use mall_runtime::telemetry::capture::Captured;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

/// Every line the product service logs in this test binary from the first call on.
fn logs() -> &'static Captured {
    mall_testkit::logs::captured("product", "warn,product_service=info,mall_http=info")
}

async fn commits(app: &TestApp, body: Value) -> (u16, Value) {
    let r = app
        .http
        .post(app.url("/internal/reservations/commits"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn post(app: &TestApp, path: &str) -> u16 {
    let r = app.http.post(app.url(path)).send().await.unwrap();
    r.status().as_u16()
}

#[tokio::test]
async fn a_batch_commits_each_order_as_its_own_commit_would_and_answers_in_the_order_asked() {
    let app = spawn_app().await;
    let a = app.create("A", 100, 9, "X").await["id"].as_u64().unwrap();
    let one = |q: u32| json!([{"product_id": a, "quantity": q}]);
    for order_id in [7, 3, 5] {
        assert_eq!(app.reserve(order_id, one(1)).await.status(), 200);
    }
    assert_eq!(post(&app, "/internal/reservations/5/commit").await, 200);
    assert_eq!(post(&app, "/internal/reservations/3/release").await, 200);

    let trace = "0123456789abcdef0123456789abcdef";
    let (status, v) = commits(
        &app,
        json!({"commits": [
            {"order_id": 7, "trace_id": trace},
            {"order_id": 3},
            {"order_id": 5},
            {"order_id": 404},
        ]}),
    )
    .await;

    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v,
        json!({"commits": [
            {"order_id": 7, "outcome": "committed", "status": "committed"},
            {"order_id": 3, "outcome": "refused", "status": "released"},
            {"order_id": 5, "outcome": "committed", "status": "committed"},
            {"order_id": 404, "outcome": "not_found", "status": null},
        ]})
    );
    assert_eq!(
        app.get_json("/internal/reservations/7").await["status"],
        "committed"
    );
    assert_eq!(
        app.get_json("/internal/reservations/3").await["status"],
        "released",
        "a released reservation stays released"
    );
    assert_eq!(app.stock_in_mysql(a).await, 7, "commits move no stock");
    // Idempotent: the same batch again changes nothing and answers committed.
    let (status, again) = commits(&app, json!({"commits": [{"order_id": 7}]})).await;
    assert_eq!(
        (status, &again["commits"][0]["outcome"]),
        (200, &json!("committed"))
    );
}

/// Each order's commit is logged under the trace id it came with, so the story of the
/// checkout that paid it shows its commit; an order sent without one is logged under the
/// batch call's own id.
#[tokio::test]
async fn each_commit_of_a_batch_is_logged_under_its_own_orders_trace_id() {
    let logs = logs();
    let app = spawn_app().await;
    let a = app.create("A", 100, 9, "X").await["id"].as_u64().unwrap();
    for order_id in [811, 812] {
        let items = json!([{"product_id": a, "quantity": 1}]);
        assert_eq!(app.reserve(order_id, items).await.status(), 200);
    }
    let (first, call) = (
        "8110000000000000000000000000000a",
        "8120000000000000000000000000000c",
    );

    let r = app
        .http
        .post(app.url("/internal/reservations/commits"))
        .header("x-trace-id", call)
        .json(&json!({"commits": [
            {"order_id": 811, "trace_id": first},
            {"order_id": 812},
        ]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let committed = |order_id: u64| {
        logs.lines().into_iter().find(|l| {
            l["msg"] == "reservation committed" && l["order_id"].as_u64() == Some(order_id)
        })
    };
    let line = committed(811).expect("order 811's commit was logged");
    assert_eq!(line["trace_id"], first, "{line}");
    assert_eq!(line["batch"], 2, "{line}");
    let line = committed(812).expect("order 812's commit was logged");
    assert_eq!(line["trace_id"], call, "{line}");
}

#[tokio::test]
async fn a_batch_out_of_bounds_or_malformed_is_refused_and_commits_nothing() {
    let app = spawn_app().await;
    let a = app.create("A", 100, 9, "X").await["id"].as_u64().unwrap();
    assert_eq!(
        app.reserve(1, json!([{"product_id": a, "quantity": 1}]))
            .await
            .status(),
        200
    );
    let many: Vec<Value> = (1..=101).map(|id| json!({"order_id": id})).collect();
    // Out of bounds: 422 (as a reservation's own bounds); not the contract's shape: 400.
    for (body, why, want) in [
        (json!({"commits": []}), "empty", 422),
        (json!({"commits": many}), "over 100", 422),
        (
            json!({"commits": [{"order_id": 1}, {"order_id": 1}]}),
            "twice",
            422,
        ),
        (json!({"commits": [{"order_id": 0}]}), "order 0", 422),
        (
            json!({"commits": [{"order_id": 1, "trace_id": "not\ra trace"}]}),
            "bad trace id",
            422,
        ),
        (
            json!({"commits": [{"order_id": 1, "extra": true}]}),
            "unknown field",
            400,
        ),
        (json!({"order_ids": [1]}), "wrong shape", 400),
    ] {
        let (status, v) = commits(&app, body).await;
        assert_eq!(status, want, "{why}: {v}");
        assert!(
            v["error"]["code"].is_string(),
            "{why}: the standard body: {v}"
        );
        assert_eq!(
            app.get_json("/internal/reservations/1").await["status"],
            "reserved",
            "{why}: nothing committed"
        );
    }
}
