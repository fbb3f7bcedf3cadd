//! The cart through nginx: lines priced with the current catalog, quantity rules, removal,
//! emptying, and that catalog changes (a new price, a deleted product) show at once.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{mall, product_body, send, unique_tag, Mall, Reply};

/// A fresh product of the test's own, made by the admin: (admin token, product).
async fn product(mall: &Mall, name: &str, price: i64) -> (String, Value) {
    let admin = mall.admin().await;
    let category = format!("E2E-Cart-{}", unique_tag());
    let made = mall
        .create_product(&admin.access, &product_body(name, &category, price))
        .await;
    (admin.access, made)
}

fn id_of(product: &Value) -> i64 {
    product["id"].as_i64().expect("a product id")
}

fn line(cart: &Reply, product_id: i64) -> Option<&Value> {
    cart.body["items"]
        .as_array()?
        .iter()
        .find(|l| l["product_id"] == product_id)
}

#[tokio::test]
async fn new_cart_is_empty_with_total_zero() {
    let mall = mall();
    let (_user, tokens) = mall.customer().await;

    let reply = mall.cart(&tokens.access).await;

    reply.expect_status(StatusCode::OK).expect_served_by("cart");
    assert_eq!(
        reply.body,
        json!({ "items": [], "currency": null, "total": 0, "totals": [] })
    );
}

#[tokio::test]
async fn put_item_answers_the_priced_cart() {
    let mall = mall();
    let (_user, tokens) = mall.customer().await;
    let (_admin, pen) = product(&mall, "Cart Pen", 1200).await;
    let (_admin, pad) = product(&mall, "Cart Pad", 3500).await;
    mall.put_cart_item(&tokens.access, id_of(&pen), 3)
        .await
        .expect_status(StatusCode::OK);

    let reply = mall.put_cart_item(&tokens.access, id_of(&pad), 2).await;

    reply.expect_status(StatusCode::OK).expect_served_by("cart");
    assert_eq!(
        line(&reply, id_of(&pen)),
        Some(&json!({
            "product_id": id_of(&pen), "name": "Cart Pen", "price": 1200, "currency": "KRW",
            "quantity": 3, "line_total": 3600,
        })),
        "{}",
        reply.text
    );
    assert_eq!(
        line(&reply, id_of(&pad)),
        Some(&json!({
            "product_id": id_of(&pad), "name": "Cart Pad", "price": 3500, "currency": "KRW",
            "quantity": 2, "line_total": 7000,
        })),
        "{}",
        reply.text
    );
    assert_eq!(reply.body["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(reply.body["total"], 10600);
    assert_eq!(mall.cart(&tokens.access).await.body, reply.body);
}

#[tokio::test]
async fn put_item_again_sets_its_quantity() {
    let mall = mall();
    let (_user, tokens) = mall.customer().await;
    let (_admin, cup) = product(&mall, "Cart Cup", 400).await;
    mall.put_cart_item(&tokens.access, id_of(&cup), 5)
        .await
        .expect_status(StatusCode::OK);

    let reply = mall.put_cart_item(&tokens.access, id_of(&cup), 2).await;

    reply.expect_status(StatusCode::OK);
    assert_eq!(
        line(&reply, id_of(&cup)).map(|l| l["quantity"].clone()),
        Some(json!(2))
    );
    assert_eq!(reply.body["total"], 800);
}

#[tokio::test]
async fn quantity_must_be_1_to_99() {
    let mall = mall();
    let (_user, tokens) = mall.customer().await;
    let (_admin, nail) = product(&mall, "Cart Nail", 10).await;
    let id = id_of(&nail);

    let zero = mall.put_cart_item(&tokens.access, id, 0).await;
    let hundred = mall.put_cart_item(&tokens.access, id, 100).await;
    let negative = mall.put_cart_item(&tokens.access, id, -1).await;
    let ninety_nine = mall.put_cart_item(&tokens.access, id, 99).await;
    let one = mall.put_cart_item(&tokens.access, id, 1).await;

    zero.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    hundred.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    negative.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    ninety_nine.expect_status(StatusCode::OK);
    assert_eq!(ninety_nine.body["total"], 990);
    one.expect_status(StatusCode::OK);
    assert_eq!(one.body["total"], 10);
}

#[tokio::test]
async fn unknown_product_is_404_and_leaves_the_cart_alone() {
    let mall = mall();
    let (_user, tokens) = mall.customer().await;

    let reply = mall.put_cart_item(&tokens.access, 2_000_000_000, 1).await;

    reply.expect_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        mall.cart(&tokens.access).await.body,
        json!({ "items": [], "currency": null, "total": 0, "totals": [] })
    );
}

#[tokio::test]
async fn delete_item_answers_the_cart_without_it() {
    let mall = mall();
    let (_user, tokens) = mall.customer().await;
    let (_admin, fork) = product(&mall, "Cart Fork", 300).await;
    let (_admin, knife) = product(&mall, "Cart Knife", 900).await;
    mall.put_cart_item(&tokens.access, id_of(&fork), 2)
        .await
        .expect_status(StatusCode::OK);
    mall.put_cart_item(&tokens.access, id_of(&knife), 1)
        .await
        .expect_status(StatusCode::OK);

    let reply = send(
        mall.delete(&format!("/api/cart/items/{}", id_of(&fork)))
            .bearer_auth(&tokens.access),
    )
    .await;

    reply.expect_status(StatusCode::OK).expect_served_by("cart");
    assert!(line(&reply, id_of(&fork)).is_none(), "{}", reply.text);
    assert!(line(&reply, id_of(&knife)).is_some(), "{}", reply.text);
    assert_eq!(reply.body["total"], 900);
    assert_eq!(mall.cart(&tokens.access).await.body, reply.body);
}

#[tokio::test]
async fn delete_cart_is_204_and_leaves_it_empty() {
    let mall = mall();
    let (_user, tokens) = mall.customer().await;
    let (_admin, soap) = product(&mall, "Cart Soap", 250).await;
    mall.put_cart_item(&tokens.access, id_of(&soap), 4)
        .await
        .expect_status(StatusCode::OK);

    let reply = send(mall.delete("/api/cart").bearer_auth(&tokens.access)).await;

    reply.expect_status(StatusCode::NO_CONTENT);
    assert!(reply.text.is_empty(), "204 with a body: {}", reply.text);
    assert_eq!(
        mall.cart(&tokens.access).await.body,
        json!({ "items": [], "currency": null, "total": 0, "totals": [] })
    );
}

#[tokio::test]
async fn anonymous_cart_requests_are_401() {
    let mall = mall();
    let (_admin, rope) = product(&mall, "Cart Rope", 1300).await;
    let item = format!("/api/cart/items/{}", id_of(&rope));

    let replies = [
        send(mall.get("/api/cart")).await,
        send(mall.put(&item).json(&json!({ "quantity": 1 }))).await,
        send(mall.delete(&item)).await,
        send(mall.delete("/api/cart")).await,
    ];

    for reply in &replies {
        reply.expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
        assert!(reply
            .header("www-authenticate")
            .is_some_and(|c| c.contains("error=\"invalid_token\"")));
    }
}

#[tokio::test]
async fn admin_price_change_shows_in_the_cart_at_once() {
    let mall = mall();
    let (_user, tokens) = mall.customer().await;
    let (admin, lamp) = product(&mall, "Cart Lamp", 2000).await;
    let id = id_of(&lamp);
    mall.put_cart_item(&tokens.access, id, 3)
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(mall.cart(&tokens.access).await.body["total"], 6000);

    send(
        mall.put(&format!("/api/products/{id}"))
            .bearer_auth(&admin)
            .json(&json!({
                "name": "Cart Lamp", "description": "brighter", "price": 2500,
                "category": lamp["category"],
            })),
    )
    .await
    .expect_status(StatusCode::OK);
    let reply = mall.cart(&tokens.access).await;

    reply.expect_status(StatusCode::OK);
    let l = line(&reply, id).unwrap_or_else(|| panic!("the lamp left the cart: {}", reply.text));
    assert_eq!(l["price"], 2500, "{}", reply.text);
    assert_eq!(l["line_total"], 7500);
    assert_eq!(reply.body["total"], 7500);
}

#[tokio::test]
async fn deleted_product_leaves_the_cart_without_an_error() {
    let mall = mall();
    let (_user, tokens) = mall.customer().await;
    let (admin, gone) = product(&mall, "Cart Gone", 500).await;
    let (_admin, kept) = product(&mall, "Cart Kept", 800).await;
    mall.put_cart_item(&tokens.access, id_of(&gone), 2)
        .await
        .expect_status(StatusCode::OK);
    mall.put_cart_item(&tokens.access, id_of(&kept), 1)
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(mall.cart(&tokens.access).await.body["total"], 1800);

    send(
        mall.delete(&format!("/api/products/{}", id_of(&gone)))
            .bearer_auth(&admin),
    )
    .await
    .expect_status(StatusCode::NO_CONTENT);
    let reply = mall.cart(&tokens.access).await;

    reply.expect_status(StatusCode::OK);
    assert!(line(&reply, id_of(&gone)).is_none(), "{}", reply.text);
    assert!(line(&reply, id_of(&kept)).is_some(), "{}", reply.text);
    assert_eq!(reply.body["total"], 800);
}

#[tokio::test]
async fn two_users_carts_are_separate() {
    let mall = mall();
    let (_ann, ann) = mall.customer().await;
    let (_bob, bob) = mall.customer().await;
    let (_admin, hat) = product(&mall, "Cart Hat", 1500).await;
    let (_admin, scarf) = product(&mall, "Cart Scarf", 2500).await;

    mall.put_cart_item(&ann.access, id_of(&hat), 1)
        .await
        .expect_status(StatusCode::OK);
    mall.put_cart_item(&bob.access, id_of(&scarf), 2)
        .await
        .expect_status(StatusCode::OK);
    send(mall.delete("/api/cart").bearer_auth(&bob.access))
        .await
        .expect_status(StatusCode::NO_CONTENT);
    mall.put_cart_item(&bob.access, id_of(&scarf), 1)
        .await
        .expect_status(StatusCode::OK);

    let ann_cart = mall.cart(&ann.access).await;
    let bob_cart = mall.cart(&bob.access).await;
    assert_eq!(ann_cart.body["total"], 1500, "{}", ann_cart.text);
    assert!(line(&ann_cart, id_of(&scarf)).is_none());
    assert_eq!(bob_cart.body["total"], 2500, "{}", bob_cart.text);
    assert!(line(&bob_cart, id_of(&hat)).is_none());
}
