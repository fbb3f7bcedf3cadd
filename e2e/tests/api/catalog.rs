//! The catalog through nginx: searching and paging, a product's fields, categories, the
//! admin writes and their validation, and that the Redis read cache never shows a price
//! after it changed. Every test makes its own products in a category of its own.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{mall, product_body, send, unique_tag, Mall, Reply};

const DEMO_CATEGORIES: [&str; 5] = ["Kitchen", "Books", "Electronics", "Garden", "Toys"];

/// Three products in a fresh category: (category, word only in Charlie's description,
/// [Alpha 3000, Bravo 1000, Charlie 2000] in creation order).
async fn three_products(mall: &Mall, admin: &str) -> (String, String, Vec<Value>) {
    let tag = unique_tag();
    let category = format!("E2E-{tag}");
    let word = format!("zq{tag}");
    let mut made = Vec::new();
    for (name, price) in [("Alpha", 3000), ("Bravo", 1000), ("Charlie", 2000)] {
        let mut body = product_body(&format!("{name} {tag}"), &category, price);
        if name == "Charlie" {
            body["description"] = json!(format!("a teapot with a {word} glaze"));
        }
        made.push(mall.create_product(admin, &body).await);
    }
    (category, word, made)
}

async fn list(mall: &Mall, query: &str) -> Reply {
    let reply = send(mall.get(&format!("/api/products?{query}"))).await;
    reply.expect_status(StatusCode::OK);
    reply
}

fn names(page: &Reply) -> Vec<String> {
    page.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a page has items: {}", page.text))
        .iter()
        .map(|p| {
            p["name"]
                .as_str()
                .unwrap_or_default()
                .split(' ')
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

fn price_in_list(page: &Reply, id: &Value) -> Option<i64> {
    page.body["items"]
        .as_array()?
        .iter()
        .find(|p| p["id"] == *id)?["price"]
        .as_i64()
}

fn category_count(categories: &Reply, name: &str) -> Option<i64> {
    categories
        .body
        .as_array()?
        .iter()
        .find(|c| c["name"] == name)?["product_count"]
        .as_i64()
}

/// A full PUT body for `product` with another price.
fn with_price(product: &Value, price: i64) -> Value {
    json!({
        "name": product["name"],
        "description": product["description"],
        "price": price,
        "category": product["category"],
    })
}

#[tokio::test]
async fn list_filters_by_category_and_pages_with_page_and_size() {
    let mall = mall();
    let admin = mall.admin().await;
    let (category, _word, _made) = three_products(&mall, &admin.access).await;

    let first = list(
        &mall,
        &format!("category={category}&sort=name&page=1&size=2"),
    )
    .await;
    let second = list(
        &mall,
        &format!("category={category}&sort=name&page=2&size=2"),
    )
    .await;

    first.expect_served_by("product");
    assert_eq!(first.body["page"], 1);
    assert_eq!(first.body["size"], 2);
    assert_eq!(first.body["total"], 3, "{}", first.text);
    assert_eq!(names(&first), ["Alpha", "Bravo"]);
    assert_eq!(second.body["page"], 2);
    assert_eq!(second.body["total"], 3);
    assert_eq!(names(&second), ["Charlie"]);
    let items = first.body["items"].as_array().cloned().unwrap_or_default();
    assert!(items.iter().all(|p| p["category"] == category.as_str()));
}

#[tokio::test]
async fn list_sorts_by_each_sort_key() {
    let mall = mall();
    let admin = mall.admin().await;
    let (category, _word, _made) = three_products(&mall, &admin.access).await;
    let by = |sort: &str| format!("category={category}&sort={sort}");

    let newest = list(&mall, &by("newest")).await;
    let default = list(&mall, &format!("category={category}")).await;
    let price_asc = list(&mall, &by("price_asc")).await;
    let price_desc = list(&mall, &by("price_desc")).await;
    let name = list(&mall, &by("name")).await;

    assert_eq!(names(&newest), ["Charlie", "Bravo", "Alpha"]);
    assert_eq!(names(&default), names(&newest), "newest is the default");
    assert_eq!(names(&price_asc), ["Bravo", "Charlie", "Alpha"]);
    assert_eq!(names(&price_desc), ["Alpha", "Charlie", "Bravo"]);
    assert_eq!(names(&name), ["Alpha", "Bravo", "Charlie"]);
}

#[tokio::test]
async fn list_searches_names_and_descriptions_with_q() {
    let mall = mall();
    let admin = mall.admin().await;
    let (category, word, made) = three_products(&mall, &admin.access).await;
    let tag = category.trim_start_matches("E2E-");

    let in_description = list(&mall, &format!("q={word}")).await;
    let in_name = list(&mall, &format!("q=bravo%20{tag}")).await;
    let everything = list(&mall, &format!("q={tag}&category={category}")).await;

    assert_eq!(in_description.body["total"], 1, "{}", in_description.text);
    assert_eq!(in_description.body["items"][0]["id"], made[2]["id"]);
    assert_eq!(in_name.body["total"], 1, "{}", in_name.text);
    assert_eq!(names(&in_name), ["Bravo"]);
    assert_eq!(everything.body["total"], 3, "{}", everything.text);
}

#[tokio::test]
async fn list_filters_by_price_range_inclusively() {
    let mall = mall();
    let admin = mall.admin().await;
    let (category, _word, _made) = three_products(&mall, &admin.access).await;
    let range = |q: &str| format!("category={category}&sort=price_asc&{q}");

    let both = list(&mall, &range("min_price=1000&max_price=2000")).await;
    let min = list(&mall, &range("min_price=2001")).await;
    let max = list(&mall, &range("max_price=999")).await;

    assert_eq!(names(&both), ["Bravo", "Charlie"]);
    assert_eq!(both.body["total"], 2);
    assert_eq!(names(&min), ["Alpha"]);
    assert_eq!(max.body["total"], 0, "{}", max.text);
    assert_eq!(max.body["items"], json!([]));
}

#[tokio::test]
async fn product_detail_has_every_contract_field() {
    let mall = mall();
    let admin = mall.admin().await;
    let category = format!("E2E-{}", unique_tag());
    let made = mall
        .create_product(&admin.access, &product_body("Detail Mug", &category, 12000))
        .await;

    let reply = mall.product(made["id"].as_i64().unwrap_or_default()).await;

    reply
        .expect_status(StatusCode::OK)
        .expect_served_by("product");
    let p = &reply.body;
    let keys: BTreeSet<&str> = p
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let expected: BTreeSet<&str> = [
        "id",
        "name",
        "description",
        "price",
        "currency",
        "stock",
        "category",
        "image_url",
        "created_at",
        "updated_at",
    ]
    .into();
    assert_eq!(keys, expected, "{}", reply.text);
    assert_eq!(p["id"], made["id"]);
    assert_eq!(p["name"], "Detail Mug");
    assert!(p["description"].is_string());
    assert_eq!(p["price"], 12000);
    assert_eq!(p["currency"], "KRW");
    assert_eq!(p["stock"], 100);
    assert_eq!(p["category"], category.as_str());
    assert!(p["image_url"].is_null() || p["image_url"].is_string());
    for field in ["created_at", "updated_at"] {
        let at = p[field].as_str().unwrap_or_default();
        assert!(
            at.len() >= 20
                && at.as_bytes()[10] == b'T'
                && (at.ends_with('Z') || at.ends_with("+00:00")),
            "{field} {at:?} is not an RFC 3339 UTC timestamp"
        );
    }
}

#[tokio::test]
async fn unknown_product_is_404_not_found() {
    let mall = mall();

    let reply = mall.product(2_000_000_000).await;

    reply.expect_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn categories_count_live_products_and_a_new_name_creates_one() {
    let mall = mall();
    let admin = mall.admin().await;
    let category = format!("E2E-{}", unique_tag());
    mall.create_product(&admin.access, &product_body("Count One", &category, 100))
        .await;
    let before = send(mall.get("/api/categories")).await;

    mall.create_product(&admin.access, &product_body("Count Two", &category, 200))
        .await;
    let after = send(mall.get("/api/categories")).await;

    before
        .expect_status(StatusCode::OK)
        .expect_served_by("product");
    after.expect_status(StatusCode::OK);
    assert_eq!(
        category_count(&before, &category),
        Some(1),
        "{}",
        before.text
    );
    assert_eq!(category_count(&after, &category), Some(2), "{}", after.text);
    assert!(after.body.as_array().is_some_and(|cs| cs
        .iter()
        .all(|c| c["name"].is_string() && c["product_count"].is_i64())));
}

#[tokio::test]
async fn demo_catalog_is_loaded_in_its_five_categories() {
    let mall = mall();

    let categories = send(mall.get("/api/categories")).await;
    let mut listed = 0;
    for name in DEMO_CATEGORIES {
        listed += list(&mall, &format!("category={name}&size=1")).await.body["total"]
            .as_i64()
            .unwrap_or_default();
    }

    categories.expect_status(StatusCode::OK);
    let counted: i64 = DEMO_CATEGORIES
        .iter()
        .map(|name| {
            category_count(&categories, name)
                .unwrap_or_else(|| panic!("demo category {name} missing: {}", categories.text))
        })
        .sum();
    assert!(
        counted >= 50,
        "the demo categories count {counted} products"
    );
    assert!(listed >= 50, "the demo categories list {listed} products");
}

#[tokio::test]
async fn admin_creates_a_product_with_currency_defaulting_to_krw() {
    let mall = mall();
    let admin = mall.admin().await;
    let category = format!("E2E-{}", unique_tag());
    let mut body = product_body("Created Bowl", &category, 4500);
    body["image_url"] = json!("/images/bowl.png");

    let reply = send(
        mall.post("/api/products")
            .bearer_auth(&admin.access)
            .json(&body),
    )
    .await;
    let in_usd = send(
        mall.post("/api/products")
            .bearer_auth(&admin.access)
            .json(&json!({
                "name": "Created Spoon", "description": "", "price": 350, "stock": 0,
                "category": category, "currency": "USD",
            })),
    )
    .await;

    reply
        .expect_status(StatusCode::CREATED)
        .expect_served_by("product");
    assert!(reply.body["id"].as_i64().is_some_and(|id| id > 0));
    assert_eq!(reply.body["name"], "Created Bowl");
    assert_eq!(reply.body["price"], 4500);
    assert_eq!(reply.body["stock"], 100);
    assert_eq!(reply.body["currency"], "KRW");
    assert_eq!(reply.body["category"], category.as_str());
    assert_eq!(reply.body["image_url"], "/images/bowl.png");
    in_usd.expect_status(StatusCode::CREATED);
    assert_eq!(in_usd.body["currency"], "USD");
    let detail = mall
        .product(reply.body["id"].as_i64().unwrap_or_default())
        .await;
    detail.expect_status(StatusCode::OK);
    assert_eq!(
        detail.body, reply.body,
        "detail answers what create answered"
    );
}

#[tokio::test]
async fn put_replaces_the_product_but_not_its_stock() {
    let mall = mall();
    let admin = mall.admin().await;
    let category = format!("E2E-{}", unique_tag());
    let made = mall
        .create_product(&admin.access, &product_body("Old Name", &category, 1000))
        .await;
    let id = made["id"].as_i64().unwrap_or_default();
    let new_category = format!("{category}-moved");

    let reply = send(
        mall.put(&format!("/api/products/{id}"))
            .bearer_auth(&admin.access)
            .json(&json!({
                "name": "New Name", "description": "new words", "price": 1100,
                "category": new_category,
            })),
    )
    .await;
    let with_stock = send(
        mall.put(&format!("/api/products/{id}"))
            .bearer_auth(&admin.access)
            .json(&json!({
                "name": "New Name", "description": "new words", "price": 1100,
                "category": new_category, "stock": 5,
            })),
    )
    .await;

    reply
        .expect_status(StatusCode::OK)
        .expect_served_by("product");
    assert_eq!(reply.body["id"], id);
    assert_eq!(reply.body["name"], "New Name");
    assert_eq!(reply.body["description"], "new words");
    assert_eq!(reply.body["price"], 1100);
    assert_eq!(reply.body["category"], new_category.as_str());
    assert_eq!(reply.body["stock"], 100, "PUT leaves the stock alone");
    with_stock.expect_error(StatusCode::BAD_REQUEST, "unknown_field");
    let detail = mall.product(id).await;
    assert_eq!(detail.body["stock"], 100);
    assert_eq!(detail.body["name"], "New Name");
}

#[tokio::test]
async fn patch_stock_adds_the_delta_but_never_below_zero() {
    let mall = mall();
    let admin = mall.admin().await;
    let category = format!("E2E-{}", unique_tag());
    let made = mall
        .create_product(&admin.access, &product_body("Stocked Jar", &category, 800))
        .await;
    let id = made["id"].as_i64().unwrap_or_default();
    let path = format!("/api/products/{id}/stock");
    mall.product(id).await.expect_status(StatusCode::OK); // warm the cache

    let up = send(
        mall.patch(&path)
            .bearer_auth(&admin.access)
            .json(&json!({ "delta": 5 })),
    )
    .await;
    let down = send(
        mall.patch(&path)
            .bearer_auth(&admin.access)
            .json(&json!({ "delta": -30 })),
    )
    .await;
    let too_far = send(
        mall.patch(&path)
            .bearer_auth(&admin.access)
            .json(&json!({ "delta": -76 })),
    )
    .await;

    up.expect_status(StatusCode::OK).expect_served_by("product");
    assert_eq!(up.body["stock"], 105);
    assert_eq!(up.body["id"], id);
    down.expect_status(StatusCode::OK);
    assert_eq!(down.body["stock"], 75);
    too_far.expect_error(StatusCode::CONFLICT, "insufficient_stock");
    assert_eq!(
        mall.product(id).await.body["stock"],
        75,
        "a refused change changes nothing"
    );
}

#[tokio::test]
async fn delete_is_204_then_the_product_is_gone_everywhere() {
    let mall = mall();
    let admin = mall.admin().await;
    let category = format!("E2E-{}", unique_tag());
    let made = mall
        .create_product(&admin.access, &product_body("Doomed Cup", &category, 700))
        .await;
    let id = made["id"].as_i64().unwrap_or_default();
    // Warm every cached view of it.
    mall.product(id).await.expect_status(StatusCode::OK);
    assert_eq!(
        list(&mall, &format!("category={category}")).await.body["total"],
        1
    );
    send(mall.get("/api/categories")).await;

    let reply = send(
        mall.delete(&format!("/api/products/{id}"))
            .bearer_auth(&admin.access),
    )
    .await;

    reply.expect_status(StatusCode::NO_CONTENT);
    assert!(reply.text.is_empty(), "204 with a body: {}", reply.text);
    mall.product(id)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    let listed = list(&mall, &format!("category={category}")).await;
    assert_eq!(listed.body["total"], 0, "{}", listed.text);
    assert_eq!(listed.body["items"], json!([]));
    let searched = list(&mall, "q=doomed&size=100&sort=newest").await;
    assert!(
        price_in_list(&searched, &made["id"]).is_none(),
        "still found by q"
    );
    let categories = send(mall.get("/api/categories")).await;
    assert!(
        category_count(&categories, &category).unwrap_or_default() == 0,
        "{}",
        categories.text
    );
    send(
        mall.delete(&format!("/api/products/{id}"))
            .bearer_auth(&admin.access),
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn invalid_catalog_requests_are_400_or_422_with_their_codes() {
    let mall = mall();
    let admin = mall.admin().await;
    let category = format!("E2E-{}", unique_tag());
    let create = |body: Value| {
        send(
            mall.post("/api/products")
                .bearer_auth(&admin.access)
                .json(&body),
        )
    };
    let mut unknown = product_body("Fine Name", &category, 100);
    unknown["colour"] = json!("red");

    let empty_name = create(product_body("", &category, 100)).await;
    let blank_name = create(product_body("   ", &category, 100)).await;
    let negative_price = create(product_body("Fine Name", &category, -1)).await;
    let unknown_field = create(unknown).await;
    let size_101 = send(mall.get("/api/products?size=101")).await;
    let cheapest = send(mall.get("/api/products?sort=cheapest")).await;

    empty_name.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    blank_name.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    negative_price.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    unknown_field.expect_error(StatusCode::BAD_REQUEST, "unknown_field");
    size_101.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    cheapest.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let listed = list(&mall, &format!("category={category}")).await;
    assert_eq!(
        listed.body["total"], 0,
        "a refused create created: {}",
        listed.text
    );
}

#[tokio::test]
async fn price_change_shows_at_once_in_cached_detail_and_list() {
    let mall = mall();
    let admin = mall.admin().await;
    let category = format!("E2E-{}", unique_tag());
    let made = mall
        .create_product(
            &admin.access,
            &product_body("Cached Clock", &category, 5000),
        )
        .await;
    let id = made["id"].as_i64().unwrap_or_default();
    let page = format!("category={category}&sort=price_asc&page=1&size=10");
    for _ in 0..2 {
        assert_eq!(mall.product(id).await.body["price"], 5000);
        assert_eq!(
            price_in_list(&list(&mall, &page).await, &made["id"]),
            Some(5000)
        );
    }

    send(
        mall.put(&format!("/api/products/{id}"))
            .bearer_auth(&admin.access)
            .json(&with_price(&made, 6500)),
    )
    .await
    .expect_status(StatusCode::OK);

    assert_eq!(
        mall.product(id).await.body["price"],
        6500,
        "detail shows the old price"
    );
    assert_eq!(
        price_in_list(&list(&mall, &page).await, &made["id"]),
        Some(6500),
        "the list shows the old price"
    );
}
