//! `GET /internal/products/prices?ids=…`: name, price and currency of live products, the
//! lookup behind every cart view and checkout. It shows no stock, so no order's stock
//! change ever makes it read MySQL.

use serde_json::{json, Value};

use crate::cache::{counters, delete, delta, id_of};
use crate::helpers::{spawn_app, TestApp};

async fn prices(app: &TestApp, ids: &[u64]) -> Value {
    let ids: Vec<String> = ids.iter().map(u64::to_string).collect();
    app.get_json(&format!("/internal/products/prices?ids={}", ids.join(",")))
        .await
}

/// What the price lookup answers for a product as created.
fn price_of(product: &Value) -> Value {
    json!({
        "id": product["id"],
        "name": product["name"],
        "price": product["price"],
        "currency": product["currency"],
    })
}

#[tokio::test]
async fn the_price_lookup_answers_live_products_in_the_order_asked_then_from_the_cache() {
    let app = spawn_app().await;
    let kettle = app.create("Kettle", 30000, 5, "Kitchen").await;
    let pan = app.create("Pan", 20000, 7, "Kitchen").await;
    let whisk = app.create("Whisk", 5000, 3, "Kitchen").await;
    let (k, p, w) = (id_of(&kettle), id_of(&pan), id_of(&whisk));
    delete(&app, w).await;
    let unknown = p + 1000;
    // Not in id order, with an unknown id, a deleted one and duplicates: 4 distinct ids.
    let asked = [p, unknown, k, w, p, k];

    let before = counters(&app).await;
    let first = prices(&app, &asked).await;
    assert_eq!(
        first,
        json!([price_of(&pan), price_of(&kettle)]),
        "the live products, in the order asked, each once, without stock"
    );
    assert_eq!(
        delta(counters(&app).await, before),
        [0.0, 4.0, 0.0, 0.0],
        "one entry miss per distinct id"
    );
    let before = counters(&app).await;
    assert_eq!(prices(&app, &asked).await, first);
    assert_eq!(
        delta(counters(&app).await, before),
        [4.0, 0.0, 0.0, 0.0],
        "every distinct id (unknown and deleted ones too) is a hit, and no stock is read"
    );
    assert_eq!(prices(&app, &[w, unknown]).await, json!([]));
    assert_eq!(prices(&app, &[]).await, json!([]));
}

#[tokio::test]
async fn a_reservation_leaves_the_price_lookup_in_memory() {
    let app = spawn_app().await;
    let k = id_of(&app.create("Kettle", 30000, 5, "Kitchen").await);
    let warm = prices(&app, &[k]).await;
    for order_id in 1..=3 {
        let items = json!([{"product_id": k, "quantity": 1}]);
        assert_eq!(app.reserve(order_id, items).await.status(), 200);
        let before = counters(&app).await;
        assert_eq!(prices(&app, &[k]).await, warm);
        assert_eq!(
            delta(counters(&app).await, before),
            [1.0, 0.0, 0.0, 0.0],
            "after reservation {order_id}: a hit, and no stock read from MySQL"
        );
    }
    assert_eq!(app.stock_in_mysql(k).await, 2);
}

#[tokio::test]
async fn the_price_lookup_shows_admin_writes_at_once() {
    let app = spawn_app().await;
    let k = id_of(&app.create("Kettle", 30000, 5, "Kitchen").await);
    let p = id_of(&app.create("Pan", 20000, 7, "Kitchen").await);
    let later = p + 1;
    let asked = [k, p, later];
    for _ in 0..2 {
        let warm = prices(&app, &asked).await;
        assert_eq!(
            warm,
            json!([
                {"id": k, "name": "Kettle", "price": 30000, "currency": "KRW"},
                {"id": p, "name": "Pan", "price": 20000, "currency": "KRW"},
            ])
        );
    }
    let r = app
        .admin(reqwest::Method::PUT, &format!("/api/products/{k}"))
        .json(&json!({"name": "Steel kettle", "description": "", "price": 25000, "category": "Kitchen"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        prices(&app, &asked).await[0],
        json!({"id": k, "name": "Steel kettle", "price": 25000, "currency": "KRW"})
    );
    // An id cached as unknown shows once the product exists.
    let created = app.create("Lid", 900, 1, "Kitchen").await;
    assert_eq!(id_of(&created), later);
    assert_eq!(prices(&app, &asked).await[2], price_of(&created));
    delete(&app, k).await;
    let left: Vec<u64> = prices(&app, &asked)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect();
    assert_eq!(left, [p, later]);
}

#[tokio::test]
async fn the_price_lookup_refuses_what_is_not_a_list_of_ids() {
    let app = spawn_app().await;
    let too_many: Vec<String> = (1..=201).map(|i: u64| i.to_string()).collect();
    for query in [
        "ids=1,x".to_owned(),
        "ids=-1".to_owned(),
        "other=1".to_owned(),
        format!("ids={}", too_many.join(",")),
    ] {
        let r = app.get(&format!("/internal/products/prices?{query}")).await;
        assert_eq!(r.status(), 422, "{query}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "validation_failed", "{query}");
    }
}

/// What the cart keeps a copy of must come from the database, not from a product
/// process's cache that may not have heard of a change yet: asked with `Cache-Control:
/// no-cache`, the lookup reads MySQL and says so; asked without, it answers from the cache.
#[tokio::test]
async fn a_fresh_price_lookup_reads_mysql_and_says_so() {
    use mall_contracts::product::{Price, ProductClient};
    use mall_contracts::ServiceClient;

    let app = spawn_app().await;
    let kettle = app.create("Kettle", 30000, 5, "Kitchen").await;
    let k = id_of(&kettle);
    assert_eq!(prices(&app, &[k]).await, json!([price_of(&kettle)]));
    // A change nobody announced (a manual fix in MySQL): the cache does not know it.
    app.rows_in_mysql::<u8>("UPDATE products SET price = 31000 WHERE id = ?", (k,))
        .await;
    assert_eq!(prices(&app, &[k]).await[0]["price"], 30000, "cached");

    let client = ProductClient::new(
        ServiceClient::new(&app.url(""), std::time::Duration::from_secs(3)).unwrap(),
    );
    let before = counters(&app).await;
    let (fresh, from_db) = client.fresh_prices(&[k, k + 1000]).await.unwrap();
    let mut expected: Price = serde_json::from_value(price_of(&kettle)).unwrap();
    expected.price = 31000;
    assert_eq!(fresh, vec![expected]);
    assert!(from_db, "the answer says it was read from the database");
    assert_eq!(
        delta(counters(&app).await, before),
        [0.0, 0.0, 0.0, 0.0],
        "the cache was neither asked nor filled"
    );
    assert_eq!(client.prices(&[k]).await.unwrap()[0].price, 30000, "cached");
    let r = app.get(&format!("/internal/products/prices?ids={k}")).await;
    assert!(
        r.headers().get("x-catalog-read").is_none(),
        "a cached answer says nothing"
    );
}
