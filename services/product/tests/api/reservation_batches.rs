//! `POST /internal/reservations/batch`: the order service's batched reservations. Each
//! order gets what its own `POST /internal/reservations` would have answered (all of its
//! items or none), in one call and one transaction; the batch itself is bounded and
//! checked, and concurrent batches never deadlock or oversell.

use mall_runtime::telemetry::capture::Captured;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

fn logs() -> &'static Captured {
    mall_testkit::logs::captured("product", "warn,product_service=info,mall_http=info")
}

async fn batch(app: &TestApp, body: Value) -> (u16, Value) {
    let r = app
        .http
        .post(app.url("/internal/reservations/batch"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

fn order(order_id: u64, items: &[(u64, u32)]) -> Value {
    let items: Vec<Value> = items
        .iter()
        .map(|(p, q)| json!({"product_id": p, "quantity": q}))
        .collect();
    json!({"order_id": order_id, "items": items})
}

fn id(product: &Value) -> u64 {
    product["id"].as_u64().unwrap()
}

#[tokio::test]
async fn each_order_of_a_batch_is_reserved_all_or_none_as_its_own_call_would() {
    let app = spawn_app().await;
    let a = id(&app.create("Kettle", 300, 5, "X").await);
    let b = id(&app.create("Pan", 200, 1, "X").await);
    let gone = id(&app.create("Gone", 100, 9, "X").await);
    assert_eq!(app.delete_product(gone).await, 204);

    // Not in order-id order; items not in product order; 31 is short of b after 30 took
    // it, 32 names a deleted product, 33 an unknown one.
    let (status, v) = batch(
        &app,
        json!({"reservations": [
            order(30, &[(b, 1), (a, 2)]),
            order(12, &[(a, 1)]),
            order(31, &[(a, 1), (b, 1)]),
            order(32, &[(gone, 1)]),
            order(33, &[(a, 1), (gone + 100, 1)]),
        ]}),
    )
    .await;

    assert_eq!(status, 200, "{v}");
    let line = |p: u64, q: u32, name: &str, price: i64| json!({"product_id": p, "quantity": q, "name": name, "price": price, "currency": "KRW"});
    assert_eq!(
        v,
        json!({"reservations": [
            {"outcome": "reserved", "reservation": {"order_id": 30, "status": "reserved",
                "items": [line(a, 2, "Kettle", 300), line(b, 1, "Pan", 200)]}},
            {"outcome": "reserved", "reservation": {"order_id": 12, "status": "reserved",
                "items": [line(a, 1, "Kettle", 300)]}},
            {"outcome": "out_of_stock", "order_id": 31, "product_id": b},
            {"outcome": "out_of_stock", "order_id": 32, "product_id": gone},
            {"outcome": "out_of_stock", "order_id": 33, "product_id": gone + 100},
        ]})
    );
    // Order 12 went first (the batch runs by order id), so 30 found 4 of a.
    assert_eq!(
        (app.stock_in_mysql(a).await, app.stock_in_mysql(b).await),
        (2, 0)
    );
    for (order_id, answer) in [(30, &v["reservations"][0]), (12, &v["reservations"][1])] {
        let stored = app
            .get_json(&format!("/internal/reservations/{order_id}"))
            .await;
        assert_eq!(&stored, &answer["reservation"], "order {order_id}");
    }
    for order_id in [31, 32, 33] {
        let r = app.get(&format!("/internal/reservations/{order_id}")).await;
        assert_eq!(r.status(), 404, "nothing kept of order {order_id}");
    }
    let lines: Vec<(u64, u64)> = app
        .rows_in_mysql(
            "SELECT order_id, product_id FROM reservation_items ORDER BY 1, 2",
            (),
        )
        .await;
    assert_eq!(lines.len(), 3, "{lines:?}");
}

#[tokio::test]
async fn an_order_reserved_before_is_replayed_or_refused_as_its_own_call_would() {
    let app = spawn_app().await;
    let a = id(&app.create("A", 100, 9, "X").await);
    let b = id(&app.create("B", 50, 9, "X").await);
    let mine = json!([{"product_id": a, "quantity": 2}]);
    let first = app.reserve(40, mine).await;
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();

    let (status, v) = batch(
        &app,
        json!({"reservations": [
            order(40, &[(a, 2)]),
            order(41, &[(b, 1)]),
            order(40 + 2, &[(a, 1)]),
        ]}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["reservations"][0],
        json!({"outcome": "reserved", "reservation": first})
    );
    assert_eq!(v["reservations"][1]["outcome"], "reserved");
    assert_eq!(v["reservations"][2]["outcome"], "reserved");
    assert_eq!(app.stock_in_mysql(a).await, 6, "the replay moved no stock");

    let (status, v) = batch(&app, json!({"reservations": [order(40, &[(b, 2)])]})).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v,
        json!({"reservations": [{"outcome": "conflict", "order_id": 40}]})
    );
    assert_eq!(app.stock_in_mysql(b).await, 8);
}

#[tokio::test]
async fn each_reservation_of_a_batch_is_logged_under_its_own_orders_trace_id() {
    let logs = logs();
    let app = spawn_app().await;
    let a = id(&app.create("A", 100, 9, "X").await);
    let mine = "9110000000000000000000000000000a";
    let mut first = order(911, &[(a, 1)]);
    first["trace_id"] = json!(mine);
    let (status, v) = batch(
        &app,
        json!({"reservations": [first, order(912, &[(a, 1)])]}),
    )
    .await;
    assert_eq!(status, 200, "{v}");

    let reserved = |order_id: u64| {
        logs.lines()
            .into_iter()
            .find(|l| l["msg"] == "stock reserved" && l["order_id"].as_u64() == Some(order_id))
    };
    let line = reserved(911).expect("order 911's reservation was logged");
    assert_eq!(line["trace_id"], mine, "{line}");
    assert_eq!(line["batch"], 2, "{line}");
    let line = reserved(912).expect("order 912's reservation was logged");
    assert_ne!(line["trace_id"], mine, "{line}");
}

#[tokio::test]
async fn a_batch_out_of_bounds_or_malformed_is_refused_and_reserves_nothing() {
    let app = spawn_app().await;
    let a = id(&app.create("A", 100, 9, "X").await);
    let many: Vec<Value> = (1..=101).map(|o| order(o, &[(a, 1)])).collect();
    let mut bad_trace = order(1, &[(a, 1)]);
    bad_trace["trace_id"] = json!("not\ra trace");
    for (body, why, want) in [
        (json!({"reservations": []}), "empty", 422),
        (json!({"reservations": many}), "over 100", 422),
        (
            json!({"reservations": [order(1, &[(a, 1)]), order(1, &[(a, 1)])]}),
            "twice",
            422,
        ),
        (
            json!({"reservations": [order(0, &[(a, 1)])]}),
            "order 0",
            422,
        ),
        (json!({"reservations": [order(1, &[])]}), "no items", 422),
        (
            json!({"reservations": [order(1, &[(a, 0)])]}),
            "quantity 0",
            422,
        ),
        (
            json!({"reservations": [order(1, &[(a, 1), (a, 2)])]}),
            "a product twice",
            422,
        ),
        (json!({"reservations": [bad_trace]}), "bad trace id", 422),
        (json!({"orders": []}), "wrong shape", 400),
    ] {
        let (status, v) = batch(&app, body).await;
        assert_eq!(status, want, "{why}: {v}");
        assert!(
            v["error"]["code"].is_string(),
            "{why}: the standard body: {v}"
        );
        assert_eq!(app.stock_in_mysql(a).await, 9, "{why}: nothing reserved");
    }
}

/// Batches and single reservations at once, over the same products named in every order:
/// none deadlocks (each batch locks its products ascending first), and the stock taken is
/// exactly what the answers say was reserved.
#[tokio::test]
async fn concurrent_batches_and_single_calls_never_deadlock_or_oversell() {
    let app = std::sync::Arc::new(spawn_app().await);
    let products: Vec<u64> = {
        let mut ids = Vec::new();
        for name in ["P1", "P2", "P3"] {
            ids.push(id(&app.create(name, 10, 40, "X").await));
        }
        ids
    };
    let (p1, p2, p3) = (products[0], products[1], products[2]);
    let mut calls = Vec::new();
    for round in 0..12u64 {
        let app = app.clone();
        calls.push(tokio::spawn(async move {
            let base = 1000 + round * 10;
            let body = json!({"reservations": [
                order(base + 3, &[(p3, 2), (p1, 1)]),
                order(base + 1, &[(p2, 1), (p3, 1)]),
                order(base + 2, &[(p1, 2), (p2, 2)]),
            ]});
            let (status, v) = batch(&app, body).await;
            assert_eq!(status, 200, "{v}");
            let single = app
                .reserve(base + 5, json!([{"product_id": p1, "quantity": 1}]))
                .await;
            assert!([200, 409].contains(&single.status().as_u16()));
            let single: Value = single.json().await.unwrap();
            let mut taken = 0;
            for r in v["reservations"].as_array().unwrap() {
                if r["outcome"] == "reserved" {
                    for l in r["reservation"]["items"].as_array().unwrap() {
                        taken += l["quantity"].as_i64().unwrap();
                    }
                }
            }
            if single["status"] == "reserved" {
                taken += 1;
            }
            taken
        }));
    }
    let mut taken = 0;
    for call in calls {
        taken += call.await.unwrap();
    }
    let mut left = 0;
    for p in products {
        let stock = app.stock_in_mysql(p).await;
        assert!(stock >= 0);
        left += stock;
    }
    assert_eq!(taken + left, 120, "taken {taken}, left {left}");
}
