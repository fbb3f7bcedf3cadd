//! Adversarial: currencies never mix. A cart holds one currency (a product in another one
//! is refused with `409 currency_mismatch`); a cart that a catalog change left holding two
//! shows one total per currency and no sum across them; orders, payments and revenue carry
//! their currency; the storefront formats every amount in its own currency (a headless
//! chromium renders the product page).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{mall, product_body, required_env, send, unique_tag, Mall};

async fn product_in(mall: &Mall, admin: &str, category: &str, price: i64, currency: &str) -> Value {
    let mut body = product_body(&format!("{currency} {}", unique_tag()), category, price);
    body["currency"] = json!(currency);
    mall.create_product(admin, &body).await
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().expect("id")
}

/// `totals` as `(currency, total)` pairs, in the order given.
fn totals(cart: &Value) -> Vec<(String, i64)> {
    cart["totals"]
        .as_array()
        .unwrap_or_else(|| panic!("a cart carries `totals`: {cart}"))
        .iter()
        .map(|t| {
            (
                t["currency"].as_str().unwrap_or_default().to_owned(),
                t["total"].as_i64().unwrap_or(-1),
            )
        })
        .collect()
}

/// The storefront's product page as a headless chromium renders it.
async fn rendered_product_page(product_id: i64) -> String {
    let url = format!(
        "{}/#/p/{product_id}",
        required_env("MALL_URL").trim_end_matches('/')
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let run = tokio::process::Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--virtual-time-budget=10000",
            "--dump-dom",
            &url,
        ])
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("chromium renders within 60 s")
        .unwrap_or_else(|e| panic!("{chromium} (the storefront test's browser) must run: {e}"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn currencies_never_mix_in_carts_totals_revenue_or_the_storefront() {
    let mall = mall();
    let admin = mall.admin().await.access;
    let category = format!("fx-{}", unique_tag());
    let won = product_in(&mall, &admin, &category, 1_000, "KRW").await;
    let won_too = product_in(&mall, &admin, &category, 3_000, "KRW").await;
    let cents = product_in(&mall, &admin, &category, 250, "USD").await;
    let (_, shopper) = mall.customer().await;

    // A second currency is refused, clearly, and the cart keeps its one currency.
    mall.put_cart_item(&shopper.access, id(&won), 1)
        .await
        .expect_status(StatusCode::OK);
    let refused = mall.put_cart_item(&shopper.access, id(&cents), 1).await;
    refused.expect_error(StatusCode::CONFLICT, "currency_mismatch");
    let message = refused.body["error"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.contains("KRW") && message.contains("USD"),
        "the refusal names both currencies: {message:?}"
    );
    let cart = mall.cart(&shopper.access).await.body;
    assert_eq!(cart["currency"], "KRW", "{cart}");
    assert_eq!(cart["total"], 1_000, "{cart}");
    assert_eq!(totals(&cart), vec![("KRW".to_owned(), 1_000)]);
    assert_eq!(
        cart["items"][0]["currency"], "KRW",
        "every line carries its currency"
    );

    // A catalog change that leaves two currencies in a cart: one total per currency, no sum.
    mall.put_cart_item(&shopper.access, id(&won_too), 2)
        .await
        .expect_status(StatusCode::OK);
    let mut replace = product_body(won_too["name"].as_str().expect("name"), &category, 3_000);
    replace.as_object_mut().expect("object").remove("stock");
    replace["currency"] = json!("USD");
    send(
        mall.put(&format!("/api/products/{}", id(&won_too)))
            .bearer_auth(&admin)
            .json(&replace),
    )
    .await
    .expect_status(StatusCode::OK);
    let mixed = mall.cart(&shopper.access).await;
    mixed.expect_status(StatusCode::OK);
    assert_ne!(
        mixed.body["total"], 7_000,
        "a total summed across currencies: {}",
        mixed.text
    );
    assert!(
        mixed.body["total"].is_null() && mixed.body["currency"].is_null(),
        "{}",
        mixed.text
    );
    assert_eq!(
        totals(&mixed.body),
        vec![("KRW".to_owned(), 1_000), ("USD".to_owned(), 6_000)]
    );
    // Such a cart cannot be checked out; nothing is charged.
    let checkout = send(
        mall.post("/api/orders")
            .bearer_auth(&shopper.access)
            .header("Idempotency-Key", format!("fx-cart-{}", unique_tag()))
            .json(&json!({"payment": {"card_token": "tok_ok"}})),
    )
    .await;
    checkout.expect_error(StatusCode::CONFLICT, "currency_mismatch");
    let mixed_items = send(
        mall.post("/api/orders")
            .bearer_auth(&shopper.access)
            .header("Idempotency-Key", format!("fx-items-{}", unique_tag()))
            .json(&json!({
                "items": [{"product_id": id(&won), "quantity": 1}, {"product_id": id(&cents), "quantity": 1}],
                "payment": {"card_token": "tok_ok"},
            })),
    )
    .await;
    mixed_items.expect_error(StatusCode::CONFLICT, "currency_mismatch");

    // A paid order, its payment and the revenue carry the order's currency.
    send(mall.delete("/api/cart").bearer_auth(&shopper.access)).await;
    mall.put_cart_item(&shopper.access, id(&cents), 2)
        .await
        .expect_status(StatusCode::OK);
    let order = send(
        mall.post("/api/orders")
            .bearer_auth(&shopper.access)
            .header("Idempotency-Key", format!("fx-usd-{}", unique_tag()))
            .json(&json!({"payment": {"card_token": "tok_ok"}})),
    )
    .await;
    order.expect_status(StatusCode::CREATED);
    assert_eq!(order.body["currency"], "USD", "{}", order.text);
    assert_eq!(order.body["total"], 500);
    let payment_id = order.body["payment_id"].as_i64().expect("payment id");
    let payment = send(
        mall.get(&format!("/api/payments/{payment_id}"))
            .bearer_auth(&shopper.access),
    )
    .await;
    assert_eq!(payment.body["currency"], "USD", "{}", payment.text);
    let stats = send(mall.get("/api/admin/stats").bearer_auth(&admin)).await;
    stats.expect_status(StatusCode::OK);
    let revenue = &stats.body["revenue"];
    assert!(
        revenue["USD"].as_i64().is_some_and(|n| n >= 500),
        "revenue per currency, USD included: {}",
        stats.text
    );
    assert!(
        revenue
            .as_object()
            .is_some_and(|r| r.iter().all(|(code, n)| code.len() == 3 && n.is_i64())),
        "revenue is an amount per currency: {}",
        stats.text
    );

    // The storefront shows dollars as dollars (2.50, not 250.00) and won as won.
    let dollars = rendered_product_page(id(&cents)).await;
    assert!(
        dollars.contains("$2.50"),
        "USD 250 (cents) is not shown as $2.50"
    );
    let won_page = rendered_product_page(id(&won)).await;
    assert!(
        won_page.contains("₩1,000"),
        "KRW 1000 is not shown as ₩1,000"
    );
}
