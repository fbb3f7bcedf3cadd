use serde_json::{json, Value};

use crate::helpers::spawn_app;

#[tokio::test]
async fn two_hundred_concurrent_reservations_of_twenty_units_grant_exactly_twenty() {
    let app = std::sync::Arc::new(spawn_app().await);
    let p = app.create("Hot Item", 1000, 20, "Deals").await;
    let id = p["id"].as_u64().unwrap();
    let mut tasks = Vec::new();
    for order_id in 1..=200u64 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            app.reserve(order_id, json!([{"product_id": id, "quantity": 1}]))
                .await
                .status()
                .as_u16()
        }));
    }
    let mut granted = 0;
    let mut refused = 0;
    for t in tasks {
        match t.await.unwrap() {
            200 => granted += 1,
            409 => refused += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((granted, refused), (20, 180));
    assert_eq!(app.stock_of(id).await, 0);
}

#[tokio::test]
async fn reservation_is_all_or_nothing() {
    let app = spawn_app().await;
    let a = app.create("A", 100, 5, "X").await["id"].as_u64().unwrap();
    let b = app.create("B", 200, 1, "X").await["id"].as_u64().unwrap();
    let r = app
        .reserve(
            1,
            json!([{"product_id": a, "quantity": 2}, {"product_id": b, "quantity": 2}]),
        )
        .await;
    assert_eq!(r.status(), 409);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "out_of_stock");
    assert_eq!(
        app.stock_of(a).await,
        5,
        "nothing reserved when one item is short"
    );
    assert_eq!(app.stock_of(b).await, 1);
    // The same order id may try again once stock is there.
    let r = app
        .reserve(
            1,
            json!([{"product_id": a, "quantity": 2}, {"product_id": b, "quantity": 1}]),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 2);
    assert_eq!(v["items"][0]["price"], 100);
}

#[tokio::test]
async fn reserve_is_idempotent_on_the_order_id() {
    let app = spawn_app().await;
    let a = app.create("A", 100, 5, "X").await["id"].as_u64().unwrap();
    for _ in 0..3 {
        assert_eq!(
            app.reserve(9, json!([{"product_id": a, "quantity": 2}]))
                .await
                .status(),
            200
        );
    }
    assert_eq!(app.stock_of(a).await, 3);
    let other = app
        .reserve(9, json!([{"product_id": a, "quantity": 1}]))
        .await;
    assert_eq!(other.status(), 409);
}

#[tokio::test]
async fn commit_and_release_are_idempotent_and_restock_once() {
    let app = spawn_app().await;
    let a = app.create("A", 100, 5, "X").await["id"].as_u64().unwrap();
    assert_eq!(
        app.reserve(3, json!([{"product_id": a, "quantity": 2}]))
            .await
            .status(),
        200
    );
    for _ in 0..2 {
        let r = app
            .http
            .post(app.url("/internal/reservations/3/commit"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    assert_eq!(app.stock_of(a).await, 3);
    for _ in 0..2 {
        let r = app
            .http
            .post(app.url("/internal/reservations/3/release"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    assert_eq!(app.stock_of(a).await, 5, "restocked exactly once");
    let r = app
        .http
        .post(app.url("/internal/reservations/3/commit"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        409,
        "a released reservation cannot be committed"
    );
    let unknown = app
        .http
        .post(app.url("/internal/reservations/404/release"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        unknown.status(),
        200,
        "releasing what was never reserved is harmless"
    );
}
