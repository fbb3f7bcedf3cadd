use serde_json::{json, Value};

use crate::helpers::spawn_app;

#[tokio::test]
async fn admin_creates_and_anyone_reads_with_krw_default() {
    let app = spawn_app().await;
    let p = app.create("Kettle", 30000, 5, "Kitchen").await;
    let id = p["id"].as_u64().unwrap();
    let got = app.get_json(&format!("/api/products/{id}")).await;
    for field in [
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
    ] {
        assert!(got.get(field).is_some(), "missing {field}");
    }
    assert_eq!(got["currency"], "KRW");
    assert_eq!(got["price"], 30000);
    assert_eq!(got["category"], "Kitchen");
    assert_eq!(app.get("/api/products/999999").await.status(), 404);
}

#[tokio::test]
async fn bad_input_gets_clear_400_and_422() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"name": "", "description": "", "price": 1, "stock": 1, "category": "A"}),
            422,
        ),
        (
            json!({"name": "A", "description": "", "price": -1, "stock": 1, "category": "A"}),
            422,
        ),
        (
            json!({"name": "A", "description": "", "price": 1, "stock": 1, "category": "A", "colour": "red"}),
            400,
        ),
        (
            json!({"name": "A", "description": "", "price": "cheap", "stock": 1, "category": "A"}),
            422,
        ),
    ];
    for (body, status) in cases {
        let r = app
            .admin(reqwest::Method::POST, "/api/products")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{body}");
        let v: Value = r.json().await.unwrap();
        assert!(v["error"]["code"].is_string());
    }
    assert_eq!(app.get("/api/products?size=101").await.status(), 422);
    assert_eq!(app.get("/api/products?sort=cheapest").await.status(), 422);
    assert_eq!(app.get("/api/products?min_price=abc").await.status(), 422);
    assert_eq!(
        app.get("/api/products?utm_source=x").await.status(),
        200,
        "unknown parameters are ignored"
    );
    // An empty price range matches nothing: an empty page, not an error.
    let empty = app.get_json("/api/products?min_price=10&max_price=5").await;
    assert_eq!(empty["total"], 0);
    assert_eq!(empty["items"], serde_json::json!([]));
    assert_eq!(
        app.get(&format!("/api/products?q={}", "a".repeat(101)))
            .await
            .status(),
        422
    );
    assert_eq!(
        app.get(&format!("/api/products?category={}", "a".repeat(51)))
            .await
            .status(),
        422
    );
}

#[tokio::test]
async fn search_filters_sorts_and_pages() {
    let app = spawn_app().await;
    app.create("Red Kettle", 30000, 5, "Kitchen").await;
    app.create("Blue Kettle", 20000, 5, "Kitchen").await;
    app.create("Red Kite", 10000, 5, "Toys").await;
    app.create("Green Pan", 40000, 5, "Kitchen").await;

    let red = app.get_json("/api/products?q=red").await;
    assert_eq!(red["total"], 2);
    let red_kettle = app.get_json("/api/products?q=RED%20kettle").await;
    assert_eq!(red_kettle["total"], 1);
    assert_eq!(red_kettle["items"][0]["name"], "Red Kettle");

    let kitchen = app
        .get_json("/api/products?category=Kitchen&sort=price_asc")
        .await;
    let prices: Vec<i64> = kitchen["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["price"].as_i64().unwrap())
        .collect();
    assert_eq!(prices, vec![20000, 30000, 40000]);

    let range = app
        .get_json("/api/products?min_price=15000&max_price=35000&sort=price_desc")
        .await;
    let names: Vec<&str> = range["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Red Kettle", "Blue Kettle"]);

    let by_name = app.get_json("/api/products?sort=name&page=2&size=2").await;
    assert_eq!(by_name["total"], 4);
    assert_eq!(by_name["page"], 2);
    let names: Vec<&str> = by_name["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Red Kettle", "Red Kite"]);

    let wildcard = app.get_json("/api/products?q=%25").await;
    assert_eq!(wildcard["total"], 0, "% is searched literally");
}

#[tokio::test]
async fn categories_count_live_products() {
    let app = spawn_app().await;
    let a = app.create("A", 1, 1, "Books").await;
    app.create("B", 1, 1, "Books").await;
    app.create("C", 1, 1, "Garden").await;
    let r = app
        .admin(
            reqwest::Method::DELETE,
            &format!("/api/products/{}", a["id"]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let cats = app.get_json("/api/categories").await;
    assert_eq!(
        cats,
        json!([{"name": "Books", "product_count": 1}, {"name": "Garden", "product_count": 1}])
    );
}

#[tokio::test]
async fn stock_never_goes_below_zero() {
    let app = spawn_app().await;
    let p = app.create("Lamp", 1000, 3, "Home").await;
    let path = format!("/api/products/{}/stock", p["id"]);
    let r = app
        .admin(reqwest::Method::PATCH, &path)
        .json(&json!({"delta": -4}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "insufficient_stock");
    let r = app
        .admin(reqwest::Method::PATCH, &path)
        .json(&json!({"delta": -3}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["stock"], 0);
}

#[tokio::test]
async fn soft_deleted_product_is_gone_from_the_shop_but_reservations_keep_it() {
    let app = spawn_app().await;
    let p = app.create("Old Thing", 500, 5, "Misc").await;
    let id = p["id"].as_u64().unwrap();
    assert_eq!(
        app.reserve(77, json!([{"product_id": id, "quantity": 1}]))
            .await
            .status(),
        200
    );
    assert_eq!(app.delete_product(id).await, 204);
    assert_eq!(app.get(&format!("/api/products/{id}")).await.status(), 404);
    assert_eq!(app.get_json("/api/products").await["total"], 0);
    let lookup = app.get_json(&format!("/internal/products?ids={id}")).await;
    assert_eq!(lookup, json!([]));
    let reservation = app.get_json("/internal/reservations/77").await;
    assert_eq!(reservation["items"][0]["name"], "Old Thing");
    assert_eq!(app.delete_product(id).await, 404, "deleting twice");
}

#[tokio::test]
async fn writes_need_the_admin_role() {
    let app = spawn_app().await;
    let body = json!({"name": "A", "description": "", "price": 1, "stock": 1, "category": "A"});
    let customer = app
        .http
        .post(app.url("/api/products"))
        .header("x-user-id", "5")
        .header("x-user-roles", "customer")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(customer.status(), 403);
    let anonymous = app
        .http
        .post(app.url("/api/products"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn a_method_the_path_does_not_serve_is_405_with_allow() {
    let app = spawn_app().await;

    let r = app
        .admin(reqwest::Method::PATCH, "/api/categories")
        .send()
        .await
        .unwrap();

    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "GET, HEAD");
}
