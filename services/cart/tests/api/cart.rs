use serde_json::{json, Value};

use mall_testkit::RedisServer;

use crate::helpers::{spawn_app, spawn_with_redis};

#[tokio::test]
async fn lines_carry_current_name_price_and_totals() {
    let app = spawn_app().await;
    let kettle = app.create_product("Kettle", 30000).await;
    let pan = app.create_product("Pan", 12000).await;
    assert_eq!(app.put(kettle, 2).await.status(), 200);
    let r = app.put(pan, 1).await;
    assert_eq!(r.status(), 200);
    let cart: Value = r.json().await.unwrap();
    assert_eq!(
        cart,
        json!({"items": [
            {"product_id": kettle, "name": "Kettle", "price": 30000, "currency": "KRW", "quantity": 2, "line_total": 60000},
            {"product_id": pan, "name": "Pan", "price": 12000, "currency": "KRW", "quantity": 1, "line_total": 12000}
        ], "currency": "KRW", "total": 72000, "totals": [{"currency": "KRW", "total": 72000}]})
    );
    // Setting again replaces the quantity.
    assert_eq!(app.put(kettle, 1).await.status(), 200);
    assert_eq!(app.cart().await["total"], 42000);
}

#[tokio::test]
async fn an_admin_price_change_shows_in_the_cart_at_once() {
    let app = spawn_app().await;
    let id = app.create_product("Kettle", 30000).await;
    app.put_ok(id, 2).await;
    assert_eq!(app.cart().await["total"], 60000);
    app.set_price(id, "Steel Kettle", 25000).await;
    let cart = app.cart().await;
    assert_eq!(cart["items"][0]["price"], 25000);
    assert_eq!(cart["items"][0]["name"], "Steel Kettle");
    assert_eq!(cart["total"], 50000);
}

#[tokio::test]
async fn a_deleted_product_drops_out_without_error() {
    let app = spawn_app().await;
    let a = app.create_product("A", 100).await;
    let b = app.create_product("B", 200).await;
    app.put_ok(a, 1).await;
    assert_eq!(
        app.put_ok(b, 1).await["total"],
        300,
        "both lines are in the cart"
    );
    app.delete_product(a).await;
    let cart = app.cart().await;
    assert_eq!(cart["items"].as_array().unwrap().len(), 1);
    assert_eq!(cart["items"][0]["product_id"], b);
    assert_eq!(cart["total"], 200);
}

#[tokio::test]
async fn bad_quantities_and_unknown_products_are_refused() {
    let app = spawn_app().await;
    let id = app.create_product("A", 100).await;
    for q in [0, 100, -3] {
        let r = app.put(id, q).await;
        assert_eq!(r.status(), 422, "quantity {q}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "validation_failed");
    }
    let r = app.put(999_999, 1).await;
    assert_eq!(r.status(), 404);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "not_found");
    let extra = app
        .as_shopper(reqwest::Method::PUT, &format!("/api/cart/items/{id}"))
        .json(&json!({"quantity": 1, "gift": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(extra.status(), 400);
}

#[tokio::test]
async fn a_cart_holds_a_bounded_number_of_products() {
    let app = spawn_app().await;
    for n in 0..3 {
        let id = app.create_product(&format!("P{n}"), 100).await;
        assert_eq!(app.put(id, 1).await.status(), 200);
    }
    let fourth = app.create_product("P3", 100).await;
    assert_eq!(app.put(fourth, 1).await.status(), 422);
}

#[tokio::test]
async fn a_full_cart_still_changes_its_own_lines_in_place() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let id = app.create_product(&format!("P{n}"), 100).await;
        assert_eq!(app.put(id, 1).await.status(), 200);
        ids.push(id);
    }
    let other = app.create_product("P3", 100).await;
    let refused = app.put(other, 2).await;
    assert_eq!(refused.status(), 422);
    // A line already in the full cart can still change, and keeps its place.
    let r = app.put(ids[1], 5).await;
    assert_eq!(r.status(), 200);
    let answered: Value = r.json().await.unwrap();
    let shown: Vec<(u64, u64)> = answered["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["product_id"].as_u64().unwrap(),
                l["quantity"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(shown, vec![(ids[0], 1), (ids[1], 5), (ids[2], 1)]);
    assert_eq!(answered["total"], 700);
    // The refused product never got in, and the answer is what a later read shows.
    assert_eq!(app.cart().await, answered);
}

#[tokio::test]
async fn remove_and_clear() {
    let app = spawn_app().await;
    let a = app.create_product("A", 100).await;
    let b = app.create_product("B", 200).await;
    app.put_ok(a, 1).await;
    app.put_ok(b, 1).await;
    let r = app
        .as_shopper(reqwest::Method::DELETE, &format!("/api/cart/items/{a}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cart: Value = r.json().await.unwrap();
    assert_eq!(cart["total"], 200);
    let r = app
        .as_shopper(reqwest::Method::DELETE, "/api/cart")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        app.cart().await,
        json!({"items": [], "currency": null, "total": 0, "totals": []})
    );
}

#[tokio::test]
async fn carts_are_private_and_need_a_user() {
    let app = spawn_app().await;
    let id = app.create_product("A", 100).await;
    assert_eq!(
        app.put_ok(id, 1).await["items"].as_array().unwrap().len(),
        1,
        "the owner's cart has the line"
    );
    let other = app
        .http
        .get(format!("{}/api/cart", app.cart))
        .header("x-user-id", (app.user_id + 100_000).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
    assert_eq!(other.json::<Value>().await.unwrap()["items"], json!([]));
    let anonymous = app
        .http
        .get(format!("{}/api/cart", app.cart))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn internal_read_and_clear_for_checkout() {
    let app = spawn_app().await;
    let id = app.create_product("A", 100).await;
    app.put_ok(id, 3).await;
    let r = app
        .http
        .get(format!("{}/internal/carts/{}", app.cart, app.user_id))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["total"], 300);
    let r = app
        .http
        .delete(format!("{}/internal/carts/{}", app.cart, app.user_id))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(app.cart().await["items"], json!([]));
}

/// The cart prices from its copy of the catalog's prices (kept current by the change
/// feed), so a product service that is down does not stop a cart whose products are
/// copied; a product the copy lacks is a 503, never a guessed price.
#[tokio::test]
async fn catalog_down_is_503_not_wrong_prices() {
    let mut app = spawn_app().await;
    let a = app.create_product("A", 100).await;
    let b = app.create_product("B", 250).await;
    app.put_ok(a, 1).await;
    app.set_price(a, "A", 120).await;
    assert_eq!(app.cart().await["total"], 120, "the change was heard");
    app.stop_product_service();
    app.wait_product_down().await;
    let r = app.put(b, 1).await;
    let status = r.status().as_u16();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "service_unavailable", "{v}");
    assert_eq!(status, 503, "a product the copy lacks needs the catalog");
    let cart = app.cart().await;
    assert_eq!(cart["items"].as_array().unwrap().len(), 1, "{cart}");
    assert_eq!(cart["total"], 120, "the copied price, current");
}

#[tokio::test]
async fn without_redis_the_cart_still_answers_from_mysql_and_never_serves_a_stale_copy() {
    let redis = RedisServer::start();
    let app = spawn_with_redis(&redis.url()).await;
    let a = app.create_product("A", 100).await;
    app.put_ok(a, 1).await;
    assert_eq!(app.cart().await["total"], 100);
    let one = json!([{"product_id": a, "quantity": 1}]);
    assert_eq!(
        cached_lines(&app, &redis).await,
        Some(one.clone()),
        "cached now"
    );

    // Redis goes away with the cart still in it (saved to disk); the write reaches MySQL
    // but cannot invalidate that copy.
    let stopped = redis.stop_keeping_data();
    app.put_ok(a, 2).await;
    assert_eq!(app.cart().await["total"], 200);

    // Redis comes back holding the old copy: the classic stale-cache bug, unless the
    // service drops it before it uses the cache again.
    let redis = stopped.restart();
    assert_eq!(
        cached_lines(&app, &redis).await,
        Some(one),
        "Redis came back with the copy cached before the outage"
    );
    let two = json!([{"product_id": a, "quantity": 2}]);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    // Until the service has used Redis again (the fresh lines cached in place of the old
    // copy), every read shows what MySQL holds.
    while cached_lines(&app, &redis).await.as_ref() != Some(&two) {
        assert_eq!(
            app.cart().await["total"],
            200,
            "the copy cached before the outage was served"
        );
        assert!(
            tokio::time::Instant::now() < deadline,
            "the service never used the cache again"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    for _ in 0..3 {
        assert_eq!(app.cart().await["total"], 200);
    }
    app.put_ok(a, 3).await;
    assert_eq!(app.cart().await["total"], 300);
}

/// The lines the Redis at `redis` holds for the test's shopper, if any.
async fn cached_lines(app: &crate::helpers::TestApp, redis: &RedisServer) -> Option<Value> {
    let redis = mall_store::cache::Redis::new(&redis.url(), &app.redis_prefix).unwrap();
    redis
        .get_json(&redis.key(&format!("cart:{}", app.user_id)))
        .await
}

/// Many shoppers filling their carts at once: every write succeeds (an earlier single-
/// statement guard, INSERT ... SELECT over the shopper's lines, took next-key locks that
/// deadlocked neighbouring shoppers' inserts: 500s under load).
#[tokio::test]
async fn shoppers_filling_carts_at_once_never_fail() {
    let app = spawn_app().await;
    let mut products = Vec::new();
    for n in 0..3 {
        products.push(app.create_product(&format!("P{n}"), 100).await);
    }
    let shoppers = 40u64;
    let mut tasks = tokio::task::JoinSet::new();
    for shopper in 0..shoppers {
        let (http, cart, products) = (app.http.clone(), app.cart.clone(), products.clone());
        tasks.spawn(async move {
            let mut statuses = Vec::new();
            for (i, product) in products.iter().enumerate() {
                let r = http
                    .put(format!("{cart}/api/cart/items/{product}"))
                    .header("x-user-id", (1_000 + shopper).to_string())
                    .header("x-user-roles", "customer")
                    .json(&json!({ "quantity": i + 1 }))
                    .send()
                    .await
                    .unwrap();
                statuses.push(r.status().as_u16());
            }
            statuses
        });
    }
    while let Some(statuses) = tasks.join_next().await {
        assert_eq!(statuses.unwrap(), vec![200, 200, 200]);
    }
}
