//! Ops endpoints, metrics, policy reload and graceful shutdown of the in-process proxy.

use std::time::Duration;

use crate::helpers::{config, metric, random_hex, JwksServer, Proxy, TestKey};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_ready_answer_json() {
    let key = TestKey::generate("k1");
    let jwks = JwksServer::start(vec![key.jwk()]).await;
    let proxy = Proxy::start_ready(config(&jwks.url)).await;

    let health = proxy.get("/health").await;
    assert_eq!(health.status(), 200);
    assert_eq!(health.headers()["content-type"], "application/json");
    let body: serde_json::Value = health.json().await.expect("json");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["service"], "auth-proxy");
    assert_eq!(body["color"], "blue");

    let ready: serde_json::Value = proxy.get("/ready").await.json().await.expect("json");
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["keys"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_decisions_cache_and_keys() {
    let key = TestKey::generate("k1");
    let jwks = JwksServer::start(vec![key.jwk()]).await;
    let proxy = Proxy::start_ready(config(&jwks.url)).await;
    let token = key.token("1", &["customer"]);

    for _ in 0..3 {
        assert_eq!(proxy.status("GET", "/api/cart", Some(&token)).await.0, 200);
    }
    assert_eq!(proxy.status("GET", "/api/cart", None).await.0, 401);
    assert_eq!(proxy.status("GET", "/api/nothing", None).await.0, 403);
    assert_eq!(proxy.status("GET", "/api/products", None).await.0, 200);

    let m = proxy.metrics().await;
    let decisions = |labels: &str| metric(&m, &format!("auth_decisions_total{{{labels}}}"));
    assert_eq!(
        decisions(r#"reason="token",result="allow""#),
        Some(3.0),
        "{m}"
    );
    assert_eq!(
        decisions(r#"reason="missing_token",result="unauthorized""#),
        Some(1.0)
    );
    assert_eq!(
        decisions(r#"reason="no_rule",result="forbidden""#),
        Some(1.0)
    );
    assert_eq!(decisions(r#"reason="public",result="allow""#), Some(1.0));
    assert_eq!(metric(&m, "auth_token_cache_misses_total"), Some(1.0));
    assert_eq!(metric(&m, "auth_token_cache_hits_total"), Some(2.0));
    assert_eq!(
        metric(&m, "auth_decision_duration_seconds_count"),
        Some(6.0)
    );
    assert_eq!(metric(&m, "auth_keys_loaded"), Some(1.0));
    let age = metric(&m, "auth_key_set_age_seconds").expect("age");
    assert!((0.0..60.0).contains(&age), "{age}");
    for name in [
        "auth_denylist_size",
        "auth_redis_connected",
        "auth_key_refresh_errors_total",
    ] {
        assert!(metric(&m, name).is_some(), "{name} missing");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_reload_swaps_a_good_file_and_keeps_the_old_one_on_a_broken_file() {
    let key = TestKey::generate("k1");
    let jwks = JwksServer::start(vec![key.jwk()]).await;
    let file = std::env::temp_dir().join(format!("auth-proxy-policy-{}.toml", random_hex(6)));
    let rule = |path: &str| {
        format!("[[rule]]\nmethods = [\"GET\"]\npath = \"{path}\"\naccess = \"public\"\n")
    };
    std::fs::write(&file, rule("/one")).expect("write policy");
    let mut c = config(&jwks.url);
    c.policy_file = file.clone();
    let proxy = Proxy::start_ready(c).await;
    assert_eq!(proxy.status("GET", "/one", None).await.0, 200);
    assert_eq!(proxy.status("GET", "/two", None).await.0, 403);

    std::fs::write(&file, rule("/two")).expect("write policy");
    proxy.app.reload().expect("good file reloads");
    assert_eq!(proxy.status("GET", "/one", None).await.0, 403);
    assert_eq!(proxy.status("GET", "/two", None).await.0, 200);

    std::fs::write(
        &file,
        "[[rule]]\nmethods = [\"GET\"]\npath = \"/three\"\naccess = \"everyone\"\n",
    )
    .expect("write policy");
    assert!(proxy.app.reload().is_err(), "broken file refused");
    assert_eq!(
        proxy.status("GET", "/two", None).await.0,
        200,
        "old policy still active"
    );
    assert_eq!(proxy.status("GET", "/three", None).await.0, 403);
    assert_eq!(
        metric(&proxy.metrics().await, "auth_policy_reload_errors_total"),
        Some(1.0)
    );

    std::fs::remove_file(&file).expect("remove");
    assert!(proxy.app.reload().is_err(), "missing file refused");
    assert_eq!(proxy.status("GET", "/two", None).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_policy_at_start_is_a_configuration_error() {
    let file = std::env::temp_dir().join(format!("auth-proxy-policy-{}.toml", random_hex(6)));
    std::fs::write(&file, "[[rule]]\nmethods = [\"GET\"]\n").expect("write policy");
    let mut c = config("http://127.0.0.1:1/");
    c.policy_file = file.clone();

    let err = auth_proxy::App::new(c).err().expect("refused");

    assert!(
        err.downcast_ref::<auth_proxy::ConfigError>().is_some(),
        "{err}"
    );
    let _ = std::fs::remove_file(&file);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_accepting_and_returns() {
    let key = TestKey::generate("k1");
    let jwks = JwksServer::start(vec![key.jwk()]).await;
    let proxy = Proxy::start_ready(config(&jwks.url)).await;
    let addr = proxy.addr;
    // An idle keep-alive connection must not hold shutdown up.
    assert_eq!(proxy.get("/health").await.status(), 200);

    let stopped = tokio::time::timeout(Duration::from_secs(3), proxy.stop()).await;

    assert!(matches!(stopped, Ok(Ok(()))), "{stopped:?}");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still accepting"
    );
}
