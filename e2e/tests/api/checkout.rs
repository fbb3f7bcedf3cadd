//! Checkout through nginx against the real order, payment and catalog services and the
//! card gateway simulator (docs/checkout.md): the saga never loses money or stock.
//! The simulator is outside the system; the tests ask it (MALL_GATEWAY_URL) what was
//! really charged.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{eventually, mall, product_body, required_env, send, unique_tag, Mall, Reply};

/// A product of the test's own with `stock` units at `price`; returns its id.
async fn product(mall: &Mall, admin: &str, stock: i64, price: i64) -> i64 {
    let mut body = product_body(
        &format!("Checkout {}", unique_tag()),
        &format!("co-{}", unique_tag()),
        price,
    );
    body["stock"] = json!(stock);
    mall.create_product(admin, &body).await["id"]
        .as_i64()
        .expect("id")
}

async fn stock(mall: &Mall, id: i64) -> i64 {
    let reply = mall.product(id).await;
    reply.expect_status(StatusCode::OK);
    reply.body["stock"].as_i64().expect("stock")
}

async fn order(mall: &Mall, token: &str, key: &str, body: Value) -> Reply {
    send(
        mall.post("/api/orders")
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(&body),
    )
    .await
}

fn items(product_id: i64, quantity: i64, card: &str) -> Value {
    json!({ "items": [{ "product_id": product_id, "quantity": quantity }], "payment": { "card_token": card } })
}

/// The charges the gateway recorded for an order (its reference is the order id).
async fn charges(order_id: i64) -> Vec<Value> {
    let gateway = required_env("MALL_GATEWAY_URL");
    let v: Value = reqwest::get(format!("{gateway}/v1/charges?reference={order_id}"))
        .await
        .expect("the gateway simulator answers")
        .json()
        .await
        .expect("JSON");
    v.as_array().cloned().unwrap_or_default()
}

/// The customer's orders, newest first.
async fn my_orders(mall: &Mall, token: &str) -> Vec<Value> {
    let reply = send(mall.get("/api/orders?size=100").bearer_auth(token)).await;
    reply.expect_status(StatusCode::OK);
    reply.body["items"].as_array().cloned().unwrap_or_default()
}

fn key() -> String {
    format!("k-{}", unique_tag())
}

#[tokio::test]
async fn a_paid_order_commits_stock_and_its_payment_is_visible_to_the_owner_only() {
    let mall = mall();
    let admin = mall.admin().await.access;
    let id = product(&mall, &admin, 5, 1000).await;
    let (_, me) = mall.customer().await;

    let reply = order(&mall, &me.access, &key(), items(id, 2, "tok_ok")).await;

    reply.expect_status(StatusCode::CREATED);
    assert_eq!(reply.body["status"], "paid");
    assert_eq!(reply.body["total"], 2000);
    assert_eq!(reply.body["items"][0]["line_total"], 2000);
    assert_eq!(stock(&mall, id).await, 3);
    let order_id = reply.body["id"].as_i64().expect("id");
    let detail = send(
        mall.get(&format!("/api/orders/{order_id}"))
            .bearer_auth(&me.access),
    )
    .await;
    detail.expect_status(StatusCode::OK);
    let history: Vec<&str> = detail.body["status_history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|c| c["status"].as_str())
        .collect();
    assert_eq!(history, vec!["pending", "paid"]);
    let payment_id = reply.body["payment_id"].as_i64().expect("payment id");
    let payment = send(
        mall.get(&format!("/api/payments/{payment_id}"))
            .bearer_auth(&me.access),
    )
    .await;
    payment.expect_status(StatusCode::OK);
    assert_eq!(payment.body["status"], "approved");
    assert_eq!(payment.body["amount"], 2000);
    assert_eq!(charges(order_id).await.len(), 1);
    let (_, other) = mall.customer().await;
    send(
        mall.get(&format!("/api/orders/{order_id}"))
            .bearer_auth(&other.access),
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found");
    send(
        mall.get(&format!("/api/payments/{payment_id}"))
            .bearer_auth(&other.access),
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn ordering_the_cart_empties_it_only_after_payment() {
    let mall = mall();
    let admin = mall.admin().await.access;
    let id = product(&mall, &admin, 5, 700).await;
    let (_, me) = mall.customer().await;
    mall.put_cart_item(&me.access, id, 3)
        .await
        .expect_status(StatusCode::OK);

    let declined = order(
        &mall,
        &me.access,
        &key(),
        json!({"payment": {"card_token": "tok_declined"}}),
    )
    .await;
    declined.expect_error(StatusCode::PAYMENT_REQUIRED, "payment_declined");
    assert_eq!(
        mall.cart(&me.access).await.body["total"],
        2100,
        "a declined order leaves the cart alone"
    );

    let paid = order(
        &mall,
        &me.access,
        &key(),
        json!({"payment": {"card_token": "tok_ok"}}),
    )
    .await;
    paid.expect_status(StatusCode::CREATED);
    assert_eq!(paid.body["total"], 2100);
    assert_eq!(mall.cart(&me.access).await.body["items"], json!([]));
    let empty = order(
        &mall,
        &me.access,
        &key(),
        json!({"payment": {"card_token": "tok_ok"}}),
    )
    .await;
    empty.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "cart_empty");
}

#[tokio::test]
async fn out_of_stock_is_409_and_nothing_is_charged_or_moved() {
    let mall = mall();
    let admin = mall.admin().await.access;
    let id = product(&mall, &admin, 1, 500).await;
    let (_, me) = mall.customer().await;

    order(&mall, &me.access, &key(), items(id, 2, "tok_ok"))
        .await
        .expect_error(StatusCode::CONFLICT, "out_of_stock");

    assert_eq!(stock(&mall, id).await, 1);
    let orders = my_orders(&mall, &me.access).await;
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0]["status"], "failed");
    assert_eq!(
        charges(orders[0]["id"].as_i64().expect("id")).await,
        Vec::<Value>::new()
    );
}

#[tokio::test]
async fn a_declined_card_is_402_the_order_fails_and_the_stock_comes_back() {
    let mall = mall();
    let admin = mall.admin().await.access;
    let id = product(&mall, &admin, 4, 500).await;
    let (_, me) = mall.customer().await;

    order(&mall, &me.access, &key(), items(id, 3, "tok_declined"))
        .await
        .expect_error(StatusCode::PAYMENT_REQUIRED, "payment_declined");

    assert_eq!(stock(&mall, id).await, 4);
    let orders = my_orders(&mall, &me.access).await;
    assert_eq!(orders[0]["status"], "failed");
    let charged: Vec<Value> = charges(orders[0]["id"].as_i64().expect("id")).await;
    assert!(
        charged.iter().all(|c| c["status"] != "approved"),
        "{charged:?}"
    );
}

#[tokio::test]
async fn a_gateway_timeout_settles_within_30_s_and_charges_once() {
    let mall = mall();
    let admin = mall.admin().await.access;
    let id = product(&mall, &admin, 3, 900).await;
    let (_, me) = mall.customer().await;

    let reply = order(&mall, &me.access, &key(), items(id, 1, "tok_timeout")).await;

    reply.expect_status(StatusCode::ACCEPTED);
    assert_eq!(reply.body["status"], "pending");
    let order_id = reply.body["id"].as_i64().expect("id");
    let path = format!("/api/orders/{order_id}");
    let settled = eventually(Duration::from_secs(30), || async {
        let r = send(mall.get(&path).bearer_auth(&me.access)).await;
        r.body["status"] == "paid" || r.body["status"] == "failed"
    })
    .await;
    assert!(settled, "order {order_id} still pending after 30 s");
    let final_state = send(mall.get(&path).bearer_auth(&me.access)).await;
    let approved = charges(order_id)
        .await
        .iter()
        .filter(|c| c["status"] == "approved")
        .count();
    match final_state.body["status"].as_str() {
        Some("paid") => {
            assert_eq!(approved, 1);
            assert_eq!(stock(&mall, id).await, 2);
        }
        other => panic!("the simulator approves tok_timeout charges; the order ended {other:?}"),
    }
}

#[tokio::test]
async fn five_concurrent_retries_with_one_key_make_one_order_and_one_charge() {
    let mall = std::sync::Arc::new(mall());
    let admin = mall.admin().await.access;
    let id = product(&mall, &admin, 10, 300).await;
    let (_, me) = mall.customer().await;
    let k = key();

    let mut tasks = Vec::new();
    for _ in 0..5 {
        let (mall, token, k) = (mall.clone(), me.access.clone(), k.clone());
        tasks.push(tokio::spawn(async move {
            order(&mall, &token, &k, items(id, 2, "tok_ok")).await
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        let r = t.await.expect("task");
        r.expect_status(StatusCode::CREATED);
        ids.push(r.body["id"].as_i64().expect("id"));
    }

    ids.dedup();
    assert_eq!(ids.len(), 1, "one order: {ids:?}");
    assert_eq!(my_orders(&mall, &me.access).await.len(), 1);
    assert_eq!(charges(ids[0]).await.len(), 1);
    assert_eq!(stock(&mall, id).await, 8);
    let reused = order(&mall, &me.access, &k, items(id, 3, "tok_ok")).await;
    reused.expect_error(StatusCode::CONFLICT, "idempotency_key_reused");
    let no_key = send(
        mall.post("/api/orders")
            .bearer_auth(&me.access)
            .json(&items(id, 1, "tok_ok")),
    )
    .await;
    no_key.expect_error(StatusCode::BAD_REQUEST, "invalid_idempotency_key");
}

#[tokio::test]
async fn a_hundred_buyers_of_ten_units_get_exactly_ten_paid_orders() {
    let mall = std::sync::Arc::new(mall());
    let admin = mall.admin().await.access;
    let id = product(&mall, &admin, 10, 100).await;
    let mut buyers = Vec::new();
    for _ in 0..100 {
        let mall = mall.clone();
        buyers.push(tokio::spawn(async move { mall.customer().await.1.access }));
    }
    let mut tokens = Vec::new();
    for b in buyers {
        tokens.push(b.await.expect("buyer"));
    }

    let mut tasks = Vec::new();
    for token in tokens {
        let mall = mall.clone();
        tasks.push(tokio::spawn(async move {
            order(&mall, &token, "only-one", items(id, 1, "tok_ok")).await
        }));
    }
    let (mut paid, mut refused, mut order_ids) = (0, 0, Vec::new());
    for t in tasks {
        let r = t.await.expect("task");
        match r.status {
            StatusCode::CREATED => {
                paid += 1;
                order_ids.push(r.body["id"].as_i64().expect("id"));
            }
            StatusCode::CONFLICT => {
                r.expect_error(StatusCode::CONFLICT, "out_of_stock");
                refused += 1;
            }
            other => panic!("unexpected {other}: {}", r.text),
        }
    }

    assert_eq!((paid, refused), (10, 90));
    assert_eq!(stock(&mall, id).await, 0);
    let mut approved = 0;
    for o in order_ids {
        approved += charges(o)
            .await
            .iter()
            .filter(|c| c["status"] == "approved")
            .count();
    }
    assert_eq!(approved, 10);
}

#[tokio::test]
async fn cancelling_twice_refunds_once_and_restocks_once() {
    let mall = mall();
    let admin = mall.admin().await.access;
    let id = product(&mall, &admin, 6, 400).await;
    let (_, me) = mall.customer().await;
    let paid = order(&mall, &me.access, &key(), items(id, 2, "tok_ok")).await;
    paid.expect_status(StatusCode::CREATED);
    let order_id = paid.body["id"].as_i64().expect("id");
    let path = format!("/api/orders/{order_id}/cancel");

    for _ in 0..2 {
        let r = send(mall.post(&path).bearer_auth(&me.access)).await;
        r.expect_status(StatusCode::OK);
        assert_eq!(r.body["status"], "cancelled");
    }

    assert_eq!(stock(&mall, id).await, 6);
    let payment_id = paid.body["payment_id"].as_i64().expect("payment id");
    let payment = send(
        mall.get(&format!("/api/payments/{payment_id}"))
            .bearer_auth(&me.access),
    )
    .await;
    assert_eq!(payment.body["status"], "refunded");
    let charged = charges(order_id).await;
    assert_eq!(charged.len(), 1);
    assert_eq!(charged[0]["status"], "refunded");
    let failed = order(&mall, &me.access, &key(), items(id, 99, "tok_ok")).await;
    failed.expect_error(StatusCode::CONFLICT, "out_of_stock");
    let failed_id = my_orders(&mall, &me.access).await[0]["id"]
        .as_i64()
        .expect("id");
    send(
        mall.post(&format!("/api/orders/{failed_id}/cancel"))
            .bearer_auth(&me.access),
    )
    .await
    .expect_error(StatusCode::CONFLICT, "order_not_cancellable");
}

#[tokio::test]
async fn admins_see_every_order_and_the_stats() {
    let mall = mall();
    let admin = mall.admin().await.access;
    let id = product(&mall, &admin, 5, 250).await;
    let (_, me) = mall.customer().await;
    order(&mall, &me.access, &key(), items(id, 1, "tok_ok"))
        .await
        .expect_status(StatusCode::CREATED);

    let list = send(
        mall.get("/api/admin/orders?status=paid&size=5")
            .bearer_auth(&admin),
    )
    .await;
    list.expect_status(StatusCode::OK);
    assert!(list.body["items"].as_array().is_some_and(|a| a
        .iter()
        .all(|o| o["status"] == "paid" && o["user_id"].is_i64())));
    let stats = send(mall.get("/api/admin/stats").bearer_auth(&admin)).await;
    stats.expect_status(StatusCode::OK);
    assert!(stats.body["users"].as_i64().is_some_and(|n| n >= 2));
    assert!(stats.body["products"].as_i64().is_some_and(|n| n >= 50));
    assert!(stats.body["orders_by_status"]["paid"]
        .as_i64()
        .is_some_and(|n| n >= 1));
    assert!(stats.body["revenue"]["KRW"]
        .as_i64()
        .is_some_and(|n| n >= 250));
    send(
        mall.get("/api/admin/orders?status=lost")
            .bearer_auth(&admin),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
}

/// Orders of several lines, from the request and from the cart: every line is recorded with
/// its quantity and price, the total adds up, and the order reads back the same.
#[tokio::test]
async fn orders_of_several_lines_record_every_line() {
    let mall = mall();
    let admin = mall.admin().await.access;
    let (a, b, c) = (
        product(&mall, &admin, 50, 1_000).await,
        product(&mall, &admin, 50, 2_500).await,
        product(&mall, &admin, 50, 300).await,
    );
    let (_, me) = mall.customer().await;

    let named = order(
        &mall,
        &me.access,
        &key(),
        json!({"items": [
            {"product_id": a, "quantity": 2},
            {"product_id": b, "quantity": 1},
            {"product_id": c, "quantity": 5}
        ], "payment": {"card_token": "tok_ok"}}),
    )
    .await;
    named.expect_status(StatusCode::CREATED);
    assert_eq!(named.body["total"], 2 * 1_000 + 2_500 + 5 * 300);
    let lines = |v: &Value| -> Vec<(i64, i64, i64)> {
        let mut l: Vec<(i64, i64, i64)> = v["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|i| {
                (
                    i["product_id"].as_i64().unwrap_or(0),
                    i["quantity"].as_i64().unwrap_or(0),
                    i["price"].as_i64().unwrap_or(0),
                )
            })
            .collect();
        l.sort_unstable();
        l
    };
    let mut want = vec![(a, 2, 1_000), (b, 1, 2_500), (c, 5, 300)];
    want.sort_unstable();
    assert_eq!(lines(&named.body), want);
    let id = named.body["id"].as_i64().expect("order id");
    let read = send(
        mall.get(&format!("/api/orders/{id}"))
            .bearer_auth(&me.access),
    )
    .await;
    read.expect_status(StatusCode::OK);
    assert_eq!(lines(&read.body), want, "the order reads back every line");

    for (product_id, quantity) in [(a, 1), (c, 4)] {
        mall.put_cart_item(&me.access, product_id, quantity)
            .await
            .expect_status(StatusCode::OK);
    }
    let from_cart = order(
        &mall,
        &me.access,
        &key(),
        json!({"payment": {"card_token": "tok_ok"}}),
    )
    .await;
    from_cart.expect_status(StatusCode::CREATED);
    let mut want = vec![(a, 1, 1_000), (c, 4, 300)];
    want.sort_unstable();
    assert_eq!(lines(&from_cart.body), want);
    assert_eq!(from_cart.body["total"], 1_000 + 4 * 300);
    assert_eq!(
        mall.cart(&me.access).await.body["items"],
        json!([]),
        "the cart is emptied"
    );
    assert_eq!(stock(&mall, a).await, 50 - 2 - 1);
    assert_eq!(stock(&mall, c).await, 50 - 5 - 4);
}
