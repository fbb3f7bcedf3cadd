use std::time::Duration;

use mall_common::testing::RedisServer;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_with_redis};

#[tokio::test]
async fn a_price_change_is_visible_at_once_in_detail_and_lists() {
    let app = spawn_app().await;
    let p = app.create("Kettle", 30000, 5, "Kitchen").await;
    let id = p["id"].as_u64().unwrap();
    // Warm the cache.
    for _ in 0..2 {
        app.get_json(&format!("/api/products/{id}")).await;
        app.get_json("/api/products?category=Kitchen").await;
    }
    let r = app
        .admin(reqwest::Method::PUT, &format!("/api/products/{id}"))
        .json(&json!({"name": "Kettle", "description": "", "price": 25000, "category": "Kitchen"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        app.get_json(&format!("/api/products/{id}")).await["price"],
        25000
    );
    assert_eq!(
        app.get_json("/api/products?category=Kitchen").await["items"][0]["price"],
        25000
    );
    assert_eq!(
        app.get_json(&format!("/api/products/{id}")).await["stock"],
        5,
        "PUT without stock keeps it"
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(hits(&metrics) >= 2.0, "{metrics}");
}

fn hits(metrics: &str) -> f64 {
    metrics
        .lines()
        .find(|l| l.starts_with("catalog_cache_hits_total"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn without_redis_the_catalog_answers_from_mysql_and_caching_resumes_after() {
    let redis = RedisServer::start();
    let port = redis.port;
    let app = spawn_with_redis(&redis.url()).await;
    let p = app.create("Kettle", 30000, 5, "Kitchen").await;
    let id = p["id"].as_u64().unwrap();
    app.get_json(&format!("/api/products/{id}")).await;

    drop(redis);
    let ready: Value = app.get("/ready").await.json().await.unwrap();
    assert_eq!(ready["status"], "degraded");
    // Still correct, and writes still invalidate (the stale entry is never served later).
    let r = app
        .admin(reqwest::Method::PUT, &format!("/api/products/{id}"))
        .json(&json!({"name": "Kettle", "description": "", "price": 1000, "category": "Kitchen"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        app.get_json(&format!("/api/products/{id}")).await["price"],
        1000
    );
    assert_eq!(app.get_json("/api/products").await["total"], 1);

    let _redis = RedisServer::start_on(port);
    let before = hits(&app.get("/metrics").await.text().await.unwrap());
    let mut resumed = false;
    for _ in 0..50 {
        assert_eq!(
            app.get_json(&format!("/api/products/{id}")).await["price"],
            1000
        );
        if hits(&app.get("/metrics").await.text().await.unwrap()) > before {
            resumed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(resumed, "caching resumes without a restart");
    let ready: Value = app.get("/ready").await.json().await.unwrap();
    assert_eq!(ready["status"], "ready");
}
