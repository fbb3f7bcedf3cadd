//! Checkout answers and idempotency: what the first request answers, what its retries
//! answer (the key decides before the cart or the items are looked at), and what a later
//! read shows.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::world;

fn cart_body(card: &str) -> Value {
    json!({"payment": {"card_token": card}})
}

fn items_body(product: u64, qty: u32, card: &str) -> Value {
    json!({"items": [{"product_id": product, "quantity": qty}], "payment": {"card_token": card}})
}

async fn error_code(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    (
        status,
        body["error"]["code"].as_str().unwrap_or("").to_owned(),
    )
}

#[tokio::test]
async fn a_cart_checkout_pays_empties_the_cart_and_answers_what_a_later_read_shows() {
    let w = world().await;
    let product = w.create_product(5, 700).await;
    let order = w
        .order_service(&w.payment.url, Duration::from_secs(60))
        .await;
    w.put_cart_item(21, product, 3).await;

    let r = w
        .post_order(&order, 21, "cart-1", &cart_body("tok_ok"))
        .await;

    assert_eq!(r.status(), 201);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["status"], "paid");
    assert_eq!(answer["total"], 2100);
    assert_eq!(answer["items"][0]["quantity"], 3);
    assert_eq!(answer["items"][0]["line_total"], 2100);
    let history: Vec<&str> = answer["status_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(history, ["pending", "paid"]);
    let created = chrono::DateTime::parse_from_rfc3339(answer["created_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    assert!(
        (chrono::Utc::now() - created).num_seconds().abs() < 60,
        "{created}"
    );
    let id = answer["id"].as_u64().unwrap();
    // The list reads the order row through another statement (binary protocol).
    let listed = &w.my_orders(&order, 21).await[0];
    assert_eq!(listed["created_at"], answer["created_at"]);
    assert_eq!(listed["items"], answer["items"]);
    assert_eq!(w.get_order(&order, 21, id).await, (200, answer));
    assert_eq!(w.cart_items(21).await, Vec::<Value>::new(), "cart emptied");
    assert_eq!(w.stock(product).await, 2);
}

#[tokio::test]
async fn a_retried_cart_checkout_replays_the_order_after_the_cart_was_emptied() {
    let w = world().await;
    let product = w.create_product(5, 400).await;
    let order = w
        .order_service(&w.payment.url, Duration::from_secs(60))
        .await;
    w.put_cart_item(22, product, 2).await;
    let first = w
        .post_order(&order, 22, "cart-2", &cart_body("tok_ok"))
        .await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    assert_eq!(w.cart_items(22).await, Vec::<Value>::new());

    let again = w
        .post_order(&order, 22, "cart-2", &cart_body("tok_ok"))
        .await;

    assert_eq!(again.status(), 201, "replayed, not cart_empty");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(w.my_orders(&order, 22).await.len(), 1);
    assert_eq!(w.stock(product).await, 3, "sold once");
}

#[tokio::test]
async fn a_retried_cart_checkout_replays_a_declined_order_even_with_a_changed_cart() {
    let w = world().await;
    let product = w.create_product(5, 400).await;
    let other = w.create_product(5, 900).await;
    let order = w
        .order_service(&w.payment.url, Duration::from_secs(60))
        .await;
    w.put_cart_item(23, product, 1).await;
    let first = w
        .post_order(&order, 23, "cart-3", &cart_body("tok_declined"))
        .await;
    assert_eq!(error_code(first).await, (402, "payment_declined".into()));
    w.put_cart_item(23, other, 2).await;

    let again = w
        .post_order(&order, 23, "cart-3", &cart_body("tok_declined"))
        .await;

    assert_eq!(error_code(again).await, (402, "payment_declined".into()));
    let orders = w.my_orders(&order, 23).await;
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0]["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        w.cart_items(23).await.len(),
        2,
        "a declined order leaves the cart"
    );
    assert_eq!(w.stock(other).await, 5);
}

#[tokio::test]
async fn another_request_under_a_used_key_is_refused_whatever_its_items() {
    let w = world().await;
    let product = w.create_product(10, 100).await;
    let order = w
        .order_service(&w.payment.url, Duration::from_secs(60))
        .await;
    let first = w
        .post_order(&order, 24, "used", &items_body(product, 1, "tok_ok"))
        .await;
    assert_eq!(first.status(), 201);

    for body in [
        items_body(product, 2, "tok_ok"),
        items_body(product, 1, "tok_declined"),
        // Invalid, unknown or empty: the key is checked first, as before.
        items_body(product, 0, "tok_ok"),
        items_body(987_654, 1, "tok_ok"),
        cart_body("tok_ok"),
    ] {
        let r = w.post_order(&order, 24, "used", &body).await;
        assert_eq!(
            error_code(r).await,
            (409, "idempotency_key_reused".into()),
            "{body}"
        );
    }
    assert_eq!(w.my_orders(&order, 24).await.len(), 1);
    assert_eq!(w.stock(product).await, 9);
}

#[tokio::test]
async fn a_checkout_that_cannot_start_creates_no_order() {
    let w = world().await;
    let product = w.create_product(10, 100).await;
    let order = w
        .order_service(&w.payment.url, Duration::from_secs(60))
        .await;

    let empty = w
        .post_order(&order, 25, "empty", &cart_body("tok_ok"))
        .await;
    assert_eq!(error_code(empty).await, (422, "cart_empty".into()));
    let invalid = w
        .post_order(&order, 25, "invalid", &items_body(product, 100, "tok_ok"))
        .await;
    assert_eq!(error_code(invalid).await, (422, "validation_failed".into()));
    let unknown = w
        .post_order(&order, 25, "unknown", &items_body(987_654, 1, "tok_ok"))
        .await;
    assert_eq!(error_code(unknown).await, (404, "not_found".into()));

    assert_eq!(w.my_orders(&order, 25).await, Vec::<Value>::new());
    // The same key works once the request can be served.
    w.put_cart_item(25, product, 1).await;
    let ok = w
        .post_order(&order, 25, "empty", &cart_body("tok_ok"))
        .await;
    assert_eq!(ok.status(), 201);
}

#[tokio::test]
async fn a_cart_checkout_leaves_out_lines_of_products_gone_from_the_catalog() {
    let w = world().await;
    let kept = w.create_product(5, 300).await;
    let gone = w.create_product(5, 800).await;
    let order = w
        .order_service(&w.payment.url, Duration::from_secs(60))
        .await;
    w.put_cart_item(26, kept, 2).await;
    w.put_cart_item(26, gone, 1).await;
    w.delete_product(gone).await;

    let r = w.post_order(&order, 26, "gone", &cart_body("tok_ok")).await;

    assert_eq!(r.status(), 201);
    let answer: Value = r.json().await.unwrap();
    let ordered: Vec<u64> = answer["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["product_id"].as_u64().unwrap())
        .collect();
    assert_eq!(ordered, [kept]);
    assert_eq!(answer["total"], 600);
    // Explicit items still name only live products.
    let explicit = w
        .post_order(&order, 26, "explicit", &items_body(gone, 1, "tok_ok"))
        .await;
    assert_eq!(error_code(explicit).await, (404, "not_found".into()));
}

#[tokio::test]
async fn an_order_is_shown_to_its_owner_only() {
    let w = world().await;
    let product = w.create_product(5, 250).await;
    let order = w
        .order_service(&w.payment.url, Duration::from_secs(60))
        .await;
    let r = w
        .post_order(&order, 27, "mine", &items_body(product, 2, "tok_ok"))
        .await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"].as_u64().unwrap();

    let (status, mine) = w.get_order(&order, 27, id).await;
    let (other, _) = w.get_order(&order, 28, id).await;
    let (missing, body) = w.get_order(&order, 27, id + 1000).await;

    assert_eq!(status, 200);
    assert_eq!(mine["total"], 500);
    assert_eq!(other, 404, "another user's order");
    assert_eq!(missing, 404);
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
async fn an_order_is_in_the_currency_of_its_products() {
    let w = world().await;
    let product = w.create_product_in(5, 1250, "EUR").await;
    let order = w
        .order_service(&w.payment.url, Duration::from_secs(60))
        .await;

    let r = w
        .post_order(&order, 23, "eur-1", &items_body(product, 2, "tok_ok"))
        .await;
    assert_eq!(r.status(), 201);
    let answered: Value = r.json().await.unwrap();
    assert_eq!(answered["currency"], "EUR", "{answered}");
    assert_eq!(answered["total"], 2500);
    let id = answered["id"].as_u64().unwrap();
    let (status, read) = w.get_order(&order, 23, id).await;
    assert_eq!(status, 200);
    assert_eq!(read["currency"], "EUR", "{read}");
}

/// The order is created with the prices the catalog's lookup gave; the reservation prices
/// it again, and when a price changed in between, that price is the one charged and the
/// order's lines and total are rewritten to it before the charge.
#[tokio::test]
async fn a_price_changed_before_the_reservation_is_the_one_charged_and_shown() {
    let w = world().await;
    let product = w.create_product(5, 700).await;
    let order = w
        .order_service(&w.payment.url, Duration::from_secs(60))
        .await;
    assert_eq!(
        w.looked_up_price(product).await,
        700,
        "cached by the lookup"
    );
    w.set_price_behind_the_cache(product, 900).await;
    assert_eq!(
        w.looked_up_price(product).await,
        700,
        "the lookup still says 700"
    );

    let r = w
        .post_order(&order, 29, "repriced", &items_body(product, 2, "tok_ok"))
        .await;

    assert_eq!(r.status(), 201);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["total"], 1800, "{answer}");
    assert_eq!(answer["items"][0]["price"], 900);
    assert_eq!(answer["items"][0]["line_total"], 1800);
    let id = answer["id"].as_u64().unwrap();
    assert_eq!(w.get_order(&order, 29, id).await, (200, answer));
    let paid = w
        .get_json(&format!(
            "{}/internal/payments/by-order/{id}",
            w.payment.url
        ))
        .await;
    assert_eq!(
        (paid["amount"].as_i64(), paid["status"].as_str()),
        (Some(1800), Some("approved"))
    );
}

/// Concurrent checkouts share reservation-commit calls (docs/checkout.md "The steps"):
/// each still answers only once its own reservation is committed, and every one is.
#[tokio::test]
async fn concurrent_checkouts_each_commit_their_own_reservation_before_answering_paid() {
    const SHOPPERS: u64 = 24;
    let w = world().await;
    let product = w.create_product(100, 300).await;
    let order = w
        .order_service(&w.payment.url, Duration::from_secs(60))
        .await;

    let mut running = Vec::new();
    for user in 1..=SHOPPERS {
        let (w, order) = (&w, &order);
        running.push(async move {
            let body = items_body(product, 2, "tok_ok");
            let r = w.post_order(order, 500 + user, "concurrent", &body).await;
            let status = r.status().as_u16();
            let v: Value = r.json().await.unwrap();
            // Asked right away: the answer came after the commit, not before.
            let id = v["id"].as_u64().unwrap_or(0);
            (status, v["status"].clone(), w.reservation_status(id).await)
        });
    }
    let answers = futures_util::future::join_all(running).await;

    for (status, order_status, reservation) in &answers {
        assert_eq!(*status, 201);
        assert_eq!(order_status, "paid");
        assert_eq!(reservation.as_deref(), Some("committed"));
    }
    assert_eq!(w.stock(product).await, 100 - 2 * SHOPPERS as i64);
}

/// A product slot from before the batch routes and the price lookup (a blue/green deploy
/// that has not reached product yet) answers them 404: the order service looks products
/// up, reserves and commits one by one, and the checkout is the same.
#[tokio::test]
async fn a_product_slot_from_before_the_batch_routes_is_called_one_by_one() {
    let w = world().await;
    let product = w.create_product(10, 300).await;
    let old_product = w.product_from_before_batches().await;
    let order = w
        .order_service_calling(&old_product.url, &w.payment.url, Duration::from_secs(60))
        .await;

    let r = w
        .post_order(&order, 77, "old-product", &items_body(product, 3, "tok_ok"))
        .await;

    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "paid");
    let id = v["id"].as_u64().unwrap();
    assert_eq!(w.reservation_status(id).await.as_deref(), Some("committed"));
    assert_eq!(w.stock(product).await, 7);
}
