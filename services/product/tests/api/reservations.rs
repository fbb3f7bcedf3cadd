use std::sync::Arc;

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

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

async fn post(app: &TestApp, path: &str) -> (u16, Value) {
    let r = app.http.post(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

fn product_ids(reservation: &Value) -> Vec<u64> {
    reservation["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["product_id"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_replayed_reservation_answers_the_same_items_in_the_same_order() {
    let app = spawn_app().await;
    let a = app.create("A", 100, 5, "X").await["id"].as_u64().unwrap();
    let b = app.create("B", 200, 5, "X").await["id"].as_u64().unwrap();
    let c = app.create("C", 300, 5, "X").await["id"].as_u64().unwrap();
    let items = json!([
        {"product_id": c, "quantity": 1},
        {"product_id": a, "quantity": 2},
        {"product_id": b, "quantity": 3},
    ]);

    let r = app.reserve(4, items.clone()).await;
    assert_eq!(r.status(), 200);
    let first: Value = r.json().await.unwrap();
    assert_eq!(
        first,
        json!({"order_id": 4, "status": "reserved", "items": [
            {"product_id": a, "quantity": 2, "name": "A", "price": 100, "currency": "KRW"},
            {"product_id": b, "quantity": 3, "name": "B", "price": 200, "currency": "KRW"},
            {"product_id": c, "quantity": 1, "name": "C", "price": 300, "currency": "KRW"},
        ]}),
        "the items in product id order, whatever the order asked"
    );

    // The same items in another order are the same reservation.
    let reordered = json!([
        {"product_id": b, "quantity": 3},
        {"product_id": c, "quantity": 1},
        {"product_id": a, "quantity": 2},
    ]);
    for replay in [items.clone(), reordered] {
        let r = app.reserve(4, replay).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().await.unwrap(), first);
    }
    assert_eq!(app.get_json("/internal/reservations/4").await, first);
    for (id, left) in [(a, 3), (b, 2), (c, 4)] {
        assert_eq!(app.stock_in_mysql(id).await, left, "reserved once");
    }

    // A replay after the commit answers the reservation as it now is.
    assert_eq!(post(&app, "/internal/reservations/4/commit").await.0, 200);
    let r = app.reserve(4, items).await;
    assert_eq!(r.status(), 200);
    let committed: Value = r.json().await.unwrap();
    assert_eq!(committed["status"], "committed");
    assert_eq!(committed["items"], first["items"]);
}

#[tokio::test]
async fn a_later_item_short_rolls_back_the_earlier_ones_and_is_named() {
    let app = spawn_app().await;
    let a = app.create("A", 100, 5, "X").await["id"].as_u64().unwrap();
    let b = app.create("B", 200, 5, "X").await["id"].as_u64().unwrap();
    let c = app.create("C", 300, 1, "X").await["id"].as_u64().unwrap();
    let d = app.create("D", 400, 5, "X").await["id"].as_u64().unwrap();
    let gone = app.create("Gone", 500, 5, "X").await["id"]
        .as_u64()
        .unwrap();
    assert_eq!(app.delete_product(gone).await, 204);
    let unknown = gone + 1000;

    for (short, items) in [
        (
            c,
            json!([
                {"product_id": d, "quantity": 1},
                {"product_id": c, "quantity": 2},
                {"product_id": a, "quantity": 2},
                {"product_id": b, "quantity": 2},
            ]),
        ),
        (
            gone,
            json!([{"product_id": gone, "quantity": 1}, {"product_id": a, "quantity": 1}]),
        ),
        (
            unknown,
            json!([{"product_id": a, "quantity": 1}, {"product_id": unknown, "quantity": 1}]),
        ),
    ] {
        let r = app.reserve(8, items).await;
        assert_eq!(r.status(), 409);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "out_of_stock");
        assert_eq!(
            v["error"]["message"],
            format!("not enough stock for product {short}"),
            "the first item short, in product id order"
        );
        for (id, stock) in [(a, 5), (b, 5), (c, 1), (d, 5)] {
            assert_eq!(app.stock_in_mysql(id).await, stock, "nothing reserved");
        }
        assert_eq!(app.get("/internal/reservations/8").await.status(), 404);
    }

    // Nothing of the order was kept: it may reserve other items.
    let r = app
        .reserve(8, json!([{"product_id": c, "quantity": 1}]))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(product_ids(&r.json().await.unwrap()), [c]);
}

#[tokio::test]
async fn commit_and_release_answer_each_state_as_before() {
    let app = spawn_app().await;
    let a = app.create("A", 100, 5, "X").await["id"].as_u64().unwrap();
    let b = app.create("B", 200, 5, "X").await["id"].as_u64().unwrap();
    let both = json!([{"product_id": a, "quantity": 1}, {"product_id": b, "quantity": 2}]);

    let (status, v) = post(&app, "/internal/reservations/404/commit").await;
    assert_eq!((status, &v["error"]["code"]), (404, &json!("not_found")));
    assert_eq!(
        post(&app, "/internal/reservations/404/release").await,
        (200, json!({"order_id": 404, "status": "none"}))
    );

    assert_eq!(app.reserve(1, both.clone()).await.status(), 200);
    for _ in 0..2 {
        assert_eq!(
            post(&app, "/internal/reservations/1/commit").await,
            (200, json!({"order_id": 1, "status": "committed"}))
        );
    }
    assert_eq!(
        app.get_json("/internal/reservations/1").await["status"],
        "committed"
    );
    for _ in 0..2 {
        assert_eq!(
            post(&app, "/internal/reservations/1/release").await,
            (200, json!({"order_id": 1, "status": "released"}))
        );
        assert_eq!(
            (app.stock_in_mysql(a).await, app.stock_in_mysql(b).await),
            (5, 5),
            "a committed reservation is restocked once"
        );
    }
    let (status, v) = post(&app, "/internal/reservations/1/commit").await;
    assert_eq!(status, 409);
    assert_eq!(v["error"]["code"], "conflict");
    assert_eq!(v["error"]["message"], "reservation is released");
    let released = app.get_json("/internal/reservations/1").await;
    assert_eq!(released["status"], "released");
    assert_eq!(product_ids(&released), [a, b]);

    // Released before any commit: restocked too.
    assert_eq!(app.reserve(2, both).await.status(), 200);
    assert_eq!(app.stock_in_mysql(b).await, 3);
    assert_eq!(
        post(&app, "/internal/reservations/2/release").await,
        (200, json!({"order_id": 2, "status": "released"}))
    );
    assert_eq!(
        (app.stock_in_mysql(a).await, app.stock_in_mysql(b).await),
        (5, 5)
    );
}

#[tokio::test]
async fn racing_commits_and_releases_restock_each_order_exactly_once() {
    const ORDERS: u64 = 30;
    let app = Arc::new(spawn_app().await);
    let a = app.create("A", 100, 100, "X").await["id"].as_u64().unwrap();
    let b = app.create("B", 200, 100, "X").await["id"].as_u64().unwrap();
    for order_id in 1..=ORDERS {
        let items = json!([{"product_id": b, "quantity": 2}, {"product_id": a, "quantity": 1}]);
        assert_eq!(app.reserve(order_id, items).await.status(), 200);
    }
    assert_eq!(app.stock_in_mysql(a).await, 100 - ORDERS as i64);

    // For each order, a commit and two releases at once, in every order the scheduler picks.
    let mut tasks = Vec::new();
    for order_id in 1..=ORDERS {
        for action in ["commit", "release", "release"] {
            let app = app.clone();
            tasks.push(tokio::spawn(async move {
                let path = format!("/internal/reservations/{order_id}/{action}");
                (action, post(&app, &path).await)
            }));
        }
    }
    for task in tasks {
        let (action, (status, v)) = task.await.unwrap();
        match (action, status) {
            ("commit", 200) => assert_eq!(v["status"], "committed"),
            ("commit", 409) => assert_eq!(v["error"]["message"], "reservation is released"),
            ("release", 200) => assert_eq!(v["status"], "released"),
            other => panic!("unexpected answer {other:?}: {v}"),
        }
    }
    assert_eq!(app.stock_in_mysql(a).await, 100);
    assert_eq!(app.stock_in_mysql(b).await, 100);
    for order_id in 1..=ORDERS {
        let v = app
            .get_json(&format!("/internal/reservations/{order_id}"))
            .await;
        assert_eq!(v["status"], "released");
    }
}

/// Declined checkouts (reserve, then release at once) of one hot product, many at a time:
/// every call succeeds and the stock comes back whole. A release that locked its
/// reservation's items (`FOR UPDATE` over reservation_items: next-key locks up to the end of
/// the index, where the newest orders' items go) blocked the item inserts of concurrent
/// reservations holding the product row, and deadlocked with them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn declines_of_one_hot_product_at_once_never_deadlock() {
    const SHOPPERS: u64 = 16;
    const ROUNDS: u64 = 10;
    let app = Arc::new(spawn_app().await);
    let hot = app.create("Hot", 100, 1000, "X").await["id"]
        .as_u64()
        .unwrap();

    let mut tasks = Vec::new();
    for shopper in 0..SHOPPERS {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            for round in 0..ROUNDS {
                let order_id = 1 + shopper * ROUNDS + round;
                let items = json!([{"product_id": hot, "quantity": 1}]);
                let r = app.reserve(order_id, items).await;
                if r.status() != 200 {
                    failures.push(format!("reserve {order_id}: {}", r.text().await.unwrap()));
                    continue;
                }
                let path = format!("/internal/reservations/{order_id}/release");
                let (status, v) = post(&app, &path).await;
                if status != 200 {
                    failures.push(format!("release {order_id}: {v}"));
                }
            }
            failures
        }));
    }
    for task in tasks {
        let failures = task.await.unwrap();
        assert!(failures.is_empty(), "{failures:?}");
    }
    assert_eq!(app.stock_in_mysql(hot).await, 1000);
}
