//! Revocation through the real Redis: pub/sub messages apply within a second (also to
//! cached tokens), the sorted sets are read on connect, and without Redis the proxy
//! keeps authorising.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{
    claims, cleanup_redis, config, metric, now, redis, wait_until, Forwarder, JwksServer, Proxy,
    TestKey,
};

const ROUTE: &str = "/api/orders";

async fn setup() -> (JwksServer, Proxy, TestKey) {
    let key = TestKey::generate("k1");
    let jwks = JwksServer::start(vec![key.jwk()]).await;
    let proxy = Proxy::start_ready(config(&jwks.url)).await;
    proxy
        .wait_for(
            || async { metric(&proxy.metrics().await, "auth_redis_connected") == Some(1.0) },
            "the revocation feed",
        )
        .await;
    (jwks, proxy, key)
}

async fn publish(prefix: &str, message: serde_json::Value) {
    let mut con = redis().await;
    let _: i64 = redis::cmd("PUBLISH")
        .arg(format!("{prefix}revocations"))
        .arg(message.to_string())
        .query_async(&mut con)
        .await
        .expect("publish");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_jti_revocation_is_refused_within_a_second_even_when_cached() {
    let (_jwks, proxy, key) = setup().await;
    let prefix = proxy.app.config.redis_prefix.clone();
    let c = claims("42", &["customer"]);
    let token = key.sign(&c);
    let other = key.token("42", &["customer"]);
    assert_eq!(proxy.status("GET", ROUTE, Some(&token)).await.0, 200);
    assert_eq!(
        proxy.status("GET", ROUTE, Some(&token)).await.0,
        200,
        "now cached"
    );

    publish(
        &prefix,
        json!({"kind": "jti", "jti": c["jti"], "exp": c["exp"]}),
    )
    .await;

    let took = wait_until(Duration::from_secs(1), || async {
        proxy.status("GET", ROUTE, Some(&token)).await == (401, "token_revoked".to_owned())
    })
    .await;
    assert!(took.is_some(), "revocation not applied within 1 s");
    assert_eq!(
        proxy.status("GET", ROUTE, Some(&other)).await.0,
        200,
        "other tokens unaffected"
    );
    let m = proxy.metrics().await;
    assert!(
        metric(&m, "auth_token_cache_hits_total").unwrap_or(0.0) >= 1.0,
        "{m}"
    );
    assert!(metric(&m, "auth_denylist_size") >= Some(1.0));
    cleanup_redis(&prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_user_revocation_refuses_tokens_issued_until_then() {
    let (_jwks, proxy, key) = setup().await;
    let prefix = proxy.app.config.redis_prefix.clone();
    let t = now();
    let mut early = claims("77", &["customer"]);
    early["iat"] = json!(t - 1);
    let early = key.sign(&early);
    let mut later = claims("77", &["customer"]);
    later["iat"] = json!(t + 1);
    let later = key.sign(&later);
    let bystander = key.token("78", &["customer"]);
    assert_eq!(proxy.status("GET", ROUTE, Some(&early)).await.0, 200);

    publish(&prefix, json!({"kind": "user", "sub": "77", "before": t})).await;

    let took = wait_until(Duration::from_secs(1), || async {
        proxy.status("GET", ROUTE, Some(&early)).await.0 == 401
    })
    .await;
    assert!(took.is_some(), "user revocation not applied within 1 s");
    assert_eq!(
        proxy.status("GET", ROUTE, Some(&later)).await.0,
        200,
        "issued after"
    );
    assert_eq!(
        proxy.status("GET", ROUTE, Some(&bystander)).await.0,
        200,
        "other user"
    );
    cleanup_redis(&prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocations_already_in_redis_are_loaded_on_connect() {
    let key = TestKey::generate("k1");
    let jwks = JwksServer::start(vec![key.jwk()]).await;
    let c = config(&jwks.url);
    let prefix = c.redis_prefix.clone();
    let revoked = claims("5", &["customer"]);
    // Issued before user 6's revocation is written (at `now()`, below), so refused by it
    // however long the proxy takes to start: a token minted after the proxy is up could
    // carry a later second than the revocation and rightly pass.
    let six_before = key.token("6", &[]);
    let mut con = redis().await;
    let _: i64 = redis::cmd("ZADD")
        .arg(format!("{prefix}revoked:jti"))
        .arg(revoked["exp"].as_u64().expect("exp"))
        .arg(revoked["jti"].as_str().expect("jti"))
        .query_async(&mut con)
        .await
        .expect("zadd");
    let _: i64 = redis::cmd("ZADD")
        .arg(format!("{prefix}revoked:users"))
        .arg(now())
        .arg("6")
        .query_async(&mut con)
        .await
        .expect("zadd");

    let proxy = Proxy::start_ready(c).await;
    proxy
        .wait_for(
            || async { metric(&proxy.metrics().await, "auth_redis_connected") == Some(1.0) },
            "the revocation feed",
        )
        .await;

    assert_eq!(
        proxy.status("GET", ROUTE, Some(&key.sign(&revoked))).await,
        (401, "token_revoked".to_owned())
    );
    assert_eq!(
        proxy.status("GET", ROUTE, Some(&six_before)).await,
        (401, "token_revoked".to_owned())
    );
    assert_eq!(
        proxy
            .status("GET", ROUTE, Some(&key.token("5", &[])))
            .await
            .0,
        200
    );
    cleanup_redis(&prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_messages_are_ignored() {
    let (_jwks, proxy, key) = setup().await;
    let prefix = proxy.app.config.redis_prefix.clone();
    let token = key.token("1", &["customer"]);

    let mut con = redis().await;
    for junk in [
        "not json",
        r#"{"kind":"jti"}"#,
        r#"{"kind":"user","sub":1,"before":"x"}"#,
    ] {
        let _: i64 = redis::cmd("PUBLISH")
            .arg(format!("{prefix}revocations"))
            .arg(junk)
            .query_async(&mut con)
            .await
            .expect("publish");
    }
    // Messages are applied in order: once a valid one sent after the junk has taken
    // effect, the junk has been read (and ignored) too.
    let marker = claims("2", &["customer"]);
    let marked = key.sign(&marker);
    assert_eq!(proxy.status("GET", ROUTE, Some(&marked)).await.0, 200);
    publish(
        &prefix,
        json!({"kind": "jti", "jti": marker["jti"], "exp": marker["exp"]}),
    )
    .await;
    proxy
        .wait_for(
            || async { proxy.status("GET", ROUTE, Some(&marked)).await.0 == 401 },
            "the message after the junk",
        )
        .await;

    assert_eq!(proxy.status("GET", ROUTE, Some(&token)).await.0, 200);
    assert_eq!(
        metric(&proxy.metrics().await, "auth_redis_connected"),
        Some(1.0)
    );
    cleanup_redis(&prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_valid_tokens_still_pass() {
    let key = TestKey::generate("k1");
    let jwks = JwksServer::start(vec![key.jwk()]).await;
    // A Redis address that refuses every connection, and counts the attempts.
    let nowhere = Forwarder::start().await;
    nowhere.cut();
    let mut c = config(&jwks.url);
    c.redis_url = nowhere.url.clone();
    let proxy = Proxy::start_ready(c).await;
    // The feed has tried, failed, and tried again: Redis is known to be away.
    proxy
        .wait_for(|| async { nowhere.accepted() >= 2 }, "the feed to retry")
        .await;

    assert_eq!(
        proxy
            .status("GET", ROUTE, Some(&key.token("1", &["customer"])))
            .await
            .0,
        200
    );
    assert_eq!(
        metric(&proxy.metrics().await, "auth_redis_connected"),
        Some(0.0)
    );
    assert_eq!(proxy.get("/ready").await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_redis_keeps_serving_and_reconnecting_resyncs() {
    let key = TestKey::generate("k1");
    let jwks = JwksServer::start(vec![key.jwk()]).await;
    let redis_link = Forwarder::start().await;
    let mut c = config(&jwks.url);
    c.redis_url = redis_link.url.clone();
    let prefix = c.redis_prefix.clone();
    let proxy = Proxy::start_ready(c).await;
    let connected = |want: f64| {
        let proxy = &proxy;
        move || async move { metric(&proxy.metrics().await, "auth_redis_connected") == Some(want) }
    };
    proxy.wait_for(connected(1.0), "the revocation feed").await;
    let revoked = claims("8", &["customer"]);
    let token = key.sign(&revoked);

    redis_link.cut();
    proxy.wait_for(connected(0.0), "the feed to notice").await;
    assert_eq!(
        proxy.status("GET", ROUTE, Some(&token)).await.0,
        200,
        "serving without Redis"
    );
    // Revoked while the proxy cannot hear it: only the resync on reconnect can tell it.
    let mut con = redis().await;
    let _: i64 = redis::cmd("ZADD")
        .arg(format!("{prefix}revoked:jti"))
        .arg(revoked["exp"].as_u64().expect("exp"))
        .arg(revoked["jti"].as_str().expect("jti"))
        .query_async(&mut con)
        .await
        .expect("zadd");
    redis_link.restore();

    proxy
        .wait_for(connected(1.0), "the feed to reconnect")
        .await;
    assert_eq!(
        proxy.status("GET", ROUTE, Some(&token)).await,
        (401, "token_revoked".to_owned())
    );
    cleanup_redis(&prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn periodic_resync_picks_up_unpublished_entries_without_dropping_the_feed() {
    let key = TestKey::generate("k1");
    let jwks = JwksServer::start(vec![key.jwk()]).await;
    // Through a forwarder that counts connections: a feed that dropped and came back (and
    // resynced on connect) would show as new ones.
    let redis_link = Forwarder::start().await;
    let mut c = config(&jwks.url);
    let resync = Duration::from_millis(200);
    c.revocation_resync = resync;
    c.redis_url = redis_link.url.clone();
    let prefix = c.redis_prefix.clone();
    let proxy = Proxy::start_ready(c).await;
    proxy
        .wait_for(
            || async { metric(&proxy.metrics().await, "auth_redis_connected") == Some(1.0) },
            "the revocation feed",
        )
        .await;
    let connections = redis_link.accepted();
    let revoked = claims("9", &["customer"]);
    let token = key.sign(&revoked);
    assert_eq!(proxy.status("GET", ROUTE, Some(&token)).await.0, 200);

    // Written to the set only, never published: the periodic resync must find it.
    let mut con = redis().await;
    let _: i64 = redis::cmd("ZADD")
        .arg(format!("{prefix}revoked:jti"))
        .arg(revoked["exp"].as_u64().expect("exp"))
        .arg(revoked["jti"].as_str().expect("jti"))
        .query_async(&mut con)
        .await
        .expect("zadd");

    // A resync round finds it.
    proxy
        .wait_for(
            || async {
                proxy.status("GET", ROUTE, Some(&token)).await == (401, "token_revoked".to_owned())
            },
            "the periodic resync",
        )
        .await;
    // Several more rounds (each with a keep-alive ping) pass without the feed dropping: no
    // new connection, still connected.
    let rounds = Instant::now();
    while rounds.elapsed() < resync * 5 {
        assert_eq!(
            metric(&proxy.metrics().await, "auth_redis_connected"),
            Some(1.0),
            "the feed dropped"
        );
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    assert_eq!(
        redis_link.accepted(),
        connections,
        "the feed reconnected: its resync is not the periodic one"
    );
    cleanup_redis(&prefix).await;
}
