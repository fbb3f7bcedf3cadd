//! Adversarial: money and stock arithmetic never overflows. Every amount, price, quantity
//! and stock delta has a documented bound (docs/openapi.yaml); beyond it the API answers
//! `422 validation_failed` with a message naming the field and the bound, never a 5xx, and
//! totals at the bounds are exact.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{mall, product_body, send, unique_tag, Mall, Reply};

/// The documented bounds (docs/openapi.yaml, `Price`, `Quantity`, `StockDelta`).
const MAX_PRICE: i64 = 100_000_000_000;
const MAX_STOCK: i64 = 1_000_000_000;

/// A 422 whose message names `field` and says what the bound is.
fn expect_bound(reply: &Reply, field: &str, what: &str) {
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{what}: {}",
        reply.text
    );
    reply.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let message = reply.body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(field),
        "{what}: the message {message:?} does not name {field}"
    );
}

async fn create_raw(mall: &Mall, admin: &str, body: &Value) -> Reply {
    send(mall.post("/api/products").bearer_auth(admin).json(body)).await
}

/// Sends a body as written (numbers JSON cannot hold in an i64 included).
async fn raw_json(
    mall: &Mall,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: String,
) -> Reply {
    send(
        mall.request(method, path)
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body),
    )
    .await
}

#[tokio::test]
async fn amounts_quantities_and_deltas_are_bounded_and_totals_never_overflow() {
    let mall = mall();
    let admin = mall.admin().await.access;
    let tag = unique_tag();
    let category = format!("bounds-{tag}");
    let mut seen: Vec<(String, StatusCode)> = Vec::new();

    // Prices: the issue's product priced near i64::MAX, and every form beyond the bound.
    for (price, what) in [
        (json!(i64::MAX - 7), "a price near i64::MAX"),
        (json!(MAX_PRICE + 1), "a price one above the maximum"),
        (json!(-1), "a negative price"),
        (json!(12.5), "a fractional price"),
    ] {
        let mut body = product_body(&format!("Dear {tag}"), &category, 1);
        body["price"] = price;
        let reply = create_raw(&mall, &admin, &body).await;
        seen.push((what.to_owned(), reply.status));
        expect_bound(&reply, "price", what);
    }
    let huge = format!(
        r#"{{"name":"Huge {tag}","description":"d","price":99999999999999999999999,"stock":1,"category":"{category}"}}"#
    );
    let reply = raw_json(&mall, reqwest::Method::POST, "/api/products", &admin, huge).await;
    seen.push(("a price beyond any integer type".into(), reply.status));
    expect_bound(&reply, "price", "a price beyond any integer type");

    // At the bound: accepted, and an order of 99 units totals exactly.
    let mut body = product_body(&format!("Dearest {tag}"), &category, MAX_PRICE);
    body["stock"] = json!(200);
    let dear = mall.create_product(&admin, &body).await;
    let dear_id = dear["id"].as_i64().expect("id");
    assert_eq!(dear["price"], MAX_PRICE);

    // A replace cannot raise the price beyond the bound either.
    let mut replace = product_body(&format!("Dearest {tag}"), &category, i64::MAX);
    replace.as_object_mut().expect("object").remove("stock");
    let reply = send(
        mall.put(&format!("/api/products/{dear_id}"))
            .bearer_auth(&admin)
            .json(&replace),
    )
    .await;
    seen.push(("a replace to i64::MAX".into(), reply.status));
    expect_bound(&reply, "price", "a replace to i64::MAX");

    // Stock deltas: beyond the bound is 422; within it, past the cap is a clear 409 that
    // is not "cannot go below zero".
    let stock_path = format!("/api/products/{dear_id}/stock");
    for (delta, what) in [
        (i64::MAX.to_string(), "a delta of i64::MAX"),
        (i64::MIN.to_string(), "a delta of i64::MIN"),
        ((MAX_STOCK + 1).to_string(), "a delta one above the bound"),
        ("1e300".to_owned(), "a delta of 1e300"),
    ] {
        let reply = raw_json(
            &mall,
            reqwest::Method::PATCH,
            &stock_path,
            &admin,
            format!(r#"{{"delta":{delta}}}"#),
        )
        .await;
        seen.push((what.to_owned(), reply.status));
        expect_bound(&reply, "delta", what);
    }
    let reply = send(
        mall.patch(&stock_path)
            .bearer_auth(&admin)
            .json(&json!({ "delta": MAX_STOCK })),
    )
    .await;
    seen.push(("a delta past the stock cap".into(), reply.status));
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);
    let message = reply.body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        !message.contains("below") && message.contains(&MAX_STOCK.to_string()),
        "a delta past the cap says what is wrong: {message:?}"
    );
    assert_eq!(
        mall.product(dear_id).await.body["stock"],
        200,
        "nothing changed"
    );

    // Search bounds are amounts too.
    for query in [
        format!("min_price={}", i64::MAX),
        format!("max_price={}", MAX_PRICE + 1),
        "min_price=99999999999999999999999".to_owned(),
    ] {
        let reply = send(mall.get(&format!("/api/products?{query}"))).await;
        seen.push((query.clone(), reply.status));
        expect_bound(&reply, "price", &query);
    }

    // Quantities: cart and order, beyond the bound, in every form.
    let (_, shopper) = mall.customer().await;
    for quantity in ["100", "0", "-1", "4294967296", "9223372036854775808", "1.5"] {
        let reply = raw_json(
            &mall,
            reqwest::Method::PUT,
            &format!("/api/cart/items/{dear_id}"),
            &shopper.access,
            format!(r#"{{"quantity":{quantity}}}"#),
        )
        .await;
        seen.push((format!("cart quantity {quantity}"), reply.status));
        expect_bound(&reply, "quantity", &format!("cart quantity {quantity}"));
        let reply = send(
            mall.post("/api/orders")
                .bearer_auth(&shopper.access)
                .header("Idempotency-Key", format!("bounds-{quantity}-{tag}").replace('.', "_"))
                .header("content-type", "application/json")
                .body(format!(
                    r#"{{"items":[{{"product_id":{dear_id},"quantity":{quantity}}}],"payment":{{"card_token":"tok_ok"}}}}"#
                )),
        )
        .await;
        seen.push((format!("order quantity {quantity}"), reply.status));
        expect_bound(&reply, "quantity", &format!("order quantity {quantity}"));
    }

    // The largest order there can be: 99 units at the largest price, totalled exactly.
    let reply = send(
        mall.post("/api/orders")
            .bearer_auth(&shopper.access)
            .header("Idempotency-Key", format!("bounds-max-{tag}"))
            .json(&json!({
                "items": [{"product_id": dear_id, "quantity": 99}],
                "payment": {"card_token": "tok_ok"},
            })),
    )
    .await;
    seen.push(("the largest order".into(), reply.status));
    reply.expect_status(StatusCode::CREATED);
    assert_eq!(reply.body["total"], MAX_PRICE * 99, "{}", reply.text);
    assert_eq!(reply.body["items"][0]["line_total"], MAX_PRICE * 99);

    let server_errors: Vec<_> = seen.iter().filter(|(_, s)| s.is_server_error()).collect();
    assert!(server_errors.is_empty(), "5xx answers: {server_errors:?}");
}
