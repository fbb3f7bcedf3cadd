//! What a reservation answers and keeps: the item it names when it refuses (wherever that
//! item stands), what a refusal or an error leaves behind, and the rows it answers and
//! stores when it succeeds.

use mysql_async::prelude::Queryable;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

async fn create(app: &TestApp, name: &str, price: i64, currency: &str, stock: i64) -> u64 {
    let r = app
        .admin(reqwest::Method::POST, "/api/products")
        .json(
            &json!({"name": name, "description": "", "price": price, "stock": stock,
                      "category": "X", "currency": currency}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["id"].as_u64().unwrap()
}

/// Reserves `items` for `order_id`, expects an out-of-stock refusal and returns the
/// product it names.
async fn refused(app: &TestApp, order_id: u64, items: Value) -> String {
    let r = app.reserve(order_id, items).await;
    assert_eq!(r.status(), 409);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "out_of_stock");
    // The short product is a field beside the error (the caller never parses the text),
    // and it is the one the message names.
    let short = v["out_of_stock"]["product_id"]
        .as_u64()
        .expect("out_of_stock.product_id");
    let message = v["error"]["message"].as_str().unwrap().to_owned();
    assert_eq!(message, format!("not enough stock for product {short}"));
    message
}

async fn stocks(app: &TestApp, ids: &[u64]) -> Vec<i64> {
    let mut out = Vec::new();
    for &id in ids {
        out.push(app.stock_in_mysql(id).await);
    }
    out
}

async fn items_in_mysql(app: &TestApp, order_id: u64) -> Vec<(u64, u32, i64)> {
    app.rows_in_mysql(
        "SELECT product_id, quantity, price FROM reservation_items
         WHERE order_id = ? ORDER BY product_id",
        (order_id,),
    )
    .await
}

#[tokio::test]
async fn a_short_last_item_of_several_is_named_and_every_stock_stays_as_it_was() {
    let app = spawn_app().await;
    let a = create(&app, "A", 100, "KRW", 5).await;
    let b = create(&app, "B", 200, "KRW", 5).await;
    let c = create(&app, "C", 300, "KRW", 5).await;
    let d = create(&app, "D", 400, "KRW", 1).await;
    let all = [a, b, c, d];

    let message = refused(
        &app,
        5,
        json!([
            {"product_id": a, "quantity": 1},
            {"product_id": b, "quantity": 2},
            {"product_id": c, "quantity": 5},
            {"product_id": d, "quantity": 2},
        ]),
    )
    .await;

    assert_eq!(message, format!("not enough stock for product {d}"));
    assert_eq!(stocks(&app, &all).await, [5, 5, 5, 1], "nothing reserved");
    assert_eq!(app.get("/internal/reservations/5").await.status(), 404);
    assert_eq!(items_in_mysql(&app, 5).await, [], "no item rows kept");
    // The same order may then reserve what there is.
    let r = app
        .reserve(
            5,
            json!([
                {"product_id": a, "quantity": 1},
                {"product_id": b, "quantity": 2},
                {"product_id": c, "quantity": 5},
                {"product_id": d, "quantity": 1},
            ]),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(stocks(&app, &all).await, [4, 3, 0, 0]);
}

#[tokio::test]
async fn a_deleted_product_is_named_wherever_it_stands() {
    let app = spawn_app().await;
    let a = create(&app, "A", 100, "KRW", 5).await;
    let gone = create(&app, "Gone", 500, "KRW", 5).await;
    let b = create(&app, "B", 200, "KRW", 5).await;
    assert_eq!(app.delete_product(gone).await, 204);

    for (order_id, items) in [
        (
            6,
            json!([
                {"product_id": b, "quantity": 1},
                {"product_id": gone, "quantity": 1},
                {"product_id": a, "quantity": 1},
            ]),
        ),
        (7, json!([{"product_id": gone, "quantity": 1}])),
    ] {
        let message = refused(&app, order_id, items).await;

        assert_eq!(message, format!("not enough stock for product {gone}"));
        assert_eq!(stocks(&app, &[a, gone, b]).await, [5, 5, 5]);
        let path = format!("/internal/reservations/{order_id}");
        assert_eq!(app.get(&path).await.status(), 404);
    }
}

#[tokio::test]
async fn reserved_items_come_back_in_product_id_order_with_the_rows_as_stored() {
    let app = spawn_app().await;
    let tea = create(&app, "Teekanne ☕ „Grün“", 1250, "EUR", 3).await;
    let kettle = create(&app, "Kettle", 30000, "KRW", 9).await;
    let mug = create(&app, "Mug", 899, "USD", 4).await;

    let r = app
        .reserve(
            11,
            json!([
                {"product_id": mug, "quantity": 2},
                {"product_id": tea, "quantity": 3},
                {"product_id": kettle, "quantity": 1},
            ]),
        )
        .await;

    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(
        answer,
        json!({"order_id": 11, "status": "reserved", "items": [
            {"product_id": tea, "quantity": 3, "name": "Teekanne ☕ „Grün“", "price": 1250, "currency": "EUR"},
            {"product_id": kettle, "quantity": 1, "name": "Kettle", "price": 30000, "currency": "KRW"},
            {"product_id": mug, "quantity": 2, "name": "Mug", "price": 899, "currency": "USD"},
        ]})
    );
    assert_eq!(
        items_in_mysql(&app, 11).await,
        [(tea, 3, 1250), (kettle, 1, 30000), (mug, 2, 899)],
        "each item stored with its price as of the reservation"
    );
    assert_eq!(stocks(&app, &[tea, kettle, mug]).await, [0, 8, 2]);
    assert_eq!(app.get_json("/internal/reservations/11").await, answer);
}

#[tokio::test]
async fn an_error_inside_the_procedure_undoes_everything_and_reaches_the_caller() {
    let app = spawn_app().await;
    let a = create(&app, "A", 100, "KRW", 5).await;
    let mut conn = mysql_async::Conn::from_url(app.db_url()).await.unwrap();

    // The same product twice (which the service never sends): both updates pass, then the
    // second item row meets the first one's primary key.
    let err = conn
        .exec_drop(
            "CALL reserve_v1(?, ?, UTC_TIMESTAMP(6))",
            (21, format!("[[{a}, 1], [{a}, 1]]")),
        )
        .await
        .unwrap_err();

    assert!(
        matches!(&err, mysql_async::Error::Server(e) if e.code == 1062),
        "the error as raised: {err}"
    );
    // Read on the same connection: an insert still pending in an open transaction would
    // show here.
    let kept: Option<(i64, i64)> = conn
        .exec_first(
            "SELECT (SELECT COUNT(*) FROM reservations WHERE order_id = ?),
                    (SELECT stock FROM products WHERE id = ?)",
            (21, a),
        )
        .await
        .unwrap();
    assert_eq!(kept, Some((0, 5)), "no reservation, stock as it was");
    conn.disconnect().await.unwrap();
}
