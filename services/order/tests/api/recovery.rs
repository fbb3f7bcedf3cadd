use std::time::Duration;

use serde_json::Value;

use crate::helpers::world;

#[tokio::test]
async fn a_restarted_order_service_settles_a_charge_the_gateway_answered_too_late() {
    let w = world().await;
    let product = w.create_product(5, 1000).await;
    let first = w
        .order_service(&w.payment.url, Duration::from_secs(60))
        .await;
    let r = w.order(&first, 7, "late", product, 2, "tok_timeout").await;
    assert_eq!(r.status(), 202);
    let id = r.json::<Value>().await.unwrap()["id"].as_u64().unwrap();
    assert_eq!(
        w.stock(product).await,
        3,
        "reserved while the outcome is unknown"
    );
    drop(first); // the process is gone; nobody settles the order

    let second = w
        .order_service(&w.payment.url, Duration::from_secs(1))
        .await;

    assert_eq!(
        w.settled(&second, 7, id, Duration::from_secs(15)).await,
        "paid"
    );
    assert_eq!(
        w.stock(product).await,
        3,
        "the reservation is committed, not released"
    );
}

#[tokio::test]
async fn an_order_whose_charge_never_reached_payment_fails_and_releases_its_stock() {
    let w = world().await;
    let product = w.create_product(4, 500).await;
    // The payment service cannot be reached: the charge never happens.
    let first = w
        .order_service("http://127.0.0.1:9", Duration::from_secs(60))
        .await;
    let r = w.order(&first, 8, "lost", product, 3, "tok_ok").await;
    assert_eq!(r.status(), 202);
    let id = r.json::<Value>().await.unwrap()["id"].as_u64().unwrap();
    assert_eq!(w.stock(product).await, 1);
    drop(first);

    let second = w
        .order_service(&w.payment.url, Duration::from_secs(1))
        .await;

    assert_eq!(
        w.settled(&second, 8, id, Duration::from_secs(15)).await,
        "failed"
    );
    assert_eq!(w.stock(product).await, 4, "stock released");
    let payment = w
        .http
        .get(format!("{}/internal/payments/by-order/{id}", w.payment.url))
        .send()
        .await
        .unwrap();
    assert_eq!(payment.status(), 404, "nothing was charged");
}

#[tokio::test]
async fn a_retry_after_the_crash_answers_the_settled_order_not_a_second_one() {
    let w = world().await;
    let product = w.create_product(5, 100).await;
    let first = w
        .order_service(&w.payment.url, Duration::from_secs(60))
        .await;
    let r = w
        .order(&first, 9, "retry-me", product, 1, "tok_timeout")
        .await;
    let id = r.json::<Value>().await.unwrap()["id"].as_u64().unwrap();
    drop(first);
    let second = w
        .order_service(&w.payment.url, Duration::from_secs(1))
        .await;
    assert_eq!(
        w.settled(&second, 9, id, Duration::from_secs(15)).await,
        "paid"
    );

    let again = w
        .order(&second, 9, "retry-me", product, 1, "tok_timeout")
        .await;

    assert_eq!(again.status(), 201);
    assert_eq!(
        again.json::<Value>().await.unwrap()["id"].as_u64(),
        Some(id)
    );
    assert_eq!(w.stock(product).await, 4, "one unit sold, once");
}
