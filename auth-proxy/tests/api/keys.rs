//! Where keys come from: rotation through the JWKS without a restart, last-known keys
//! while the issuer is down, 503 with no keys at all, merged URLs, static PEM files.

use std::time::{Duration, Instant};

use crate::helpers::{
    config, dead_url, metric, random_hex, wait_until, JwksServer, Proxy, TestKey,
};

const ROUTE: &str = "/api/cart";

/// The rotation is picked up by the refetch an unknown `kid` triggers, which is rate
/// limited: by the time of the k-th fetch at least k - 1 windows have passed since the
/// first, so over `elapsed` there are at most 1 + elapsed / window fetches, however the
/// requests fall (no window to hit).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotated_key_verifies_without_restart_and_the_old_one_still_does() {
    let old = TestKey::generate("2024-01");
    let jwks = JwksServer::start(vec![old.jwk()]).await;
    let mut c = config(&jwks.url);
    let window = Duration::from_secs(1);
    c.unknown_kid_refetch = window;
    c.jwks_refresh = Duration::from_secs(3600);
    let proxy = Proxy::start_ready(c).await;
    let new = TestKey::generate("2024-02");
    let (started, fetched) = (Instant::now(), jwks.hits());
    assert_eq!(
        proxy
            .status("GET", ROUTE, Some(&new.token("1", &[])))
            .await
            .0,
        401
    );
    assert_eq!(jwks.hits(), fetched + 1, "an unknown kid is fetched for");

    // The issuer rotates: the new key signs, the old one stays published.
    jwks.set_keys(vec![new.jwk(), old.jwk()]);
    let refused = std::cell::Cell::new(0);
    let took = wait_until(Duration::from_secs(10), || async {
        let ok = proxy
            .status("GET", ROUTE, Some(&new.token("1", &[])))
            .await
            .0
            == 200;
        refused.set(refused.get() + usize::from(!ok));
        ok
    })
    .await;
    assert!(took.is_some(), "the rotated key never verified");
    let (elapsed, fetches) = (started.elapsed(), jwks.hits() - fetched);
    let allowed = 1 + elapsed.as_millis() / window.as_millis();
    assert!(
        fetches as u128 <= allowed,
        "{fetches} fetches in {elapsed:?} ({} refusals): more than one per {window:?}",
        refused.get()
    );

    assert_eq!(
        proxy
            .status("GET", ROUTE, Some(&old.token("1", &[])))
            .await
            .0,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_kid_is_fetched_on_first_sight() {
    let old = TestKey::generate("a");
    let jwks = JwksServer::start(vec![old.jwk()]).await;
    let proxy = Proxy::start_ready(config(&jwks.url)).await;
    let new = TestKey::generate("b");

    jwks.set_keys(vec![old.jwk(), new.jwk()]);

    assert_eq!(
        proxy
            .status("GET", ROUTE, Some(&new.token("1", &[])))
            .await
            .0,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuer_down_after_start_keeps_the_last_known_keys() {
    let key = TestKey::generate("k1");
    let jwks = JwksServer::start(vec![key.jwk()]).await;
    let mut c = config(&jwks.url);
    c.jwks_refresh = Duration::from_millis(200);
    let proxy = Proxy::start_ready(c).await;

    jwks.stop();
    // Wait until refreshes have actually failed.
    proxy
        .wait_for(
            || async {
                metric(&proxy.metrics().await, "auth_key_refresh_errors_total").unwrap_or(0.0)
                    >= 2.0
            },
            "failed refreshes",
        )
        .await;

    // A token never seen before (no cache) still verifies with the last-known key.
    assert_eq!(
        proxy
            .status("GET", ROUTE, Some(&key.token("5", &["customer"])))
            .await
            .0,
        200
    );
    assert_eq!(proxy.get("/ready").await.status(), 200);
    assert_eq!(
        metric(&proxy.metrics().await, "auth_keys_loaded"),
        Some(1.0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_keys_at_all_means_not_ready_and_503() {
    let key = TestKey::generate("k1");
    let proxy = Proxy::start(config(&dead_url().await)).await;
    // Once a fetch has failed, not merely before the first one ended.
    proxy
        .wait_for(
            || async {
                metric(&proxy.metrics().await, "auth_key_refresh_errors_total")
                    .is_some_and(|n| n >= 1.0)
            },
            "a failed key fetch",
        )
        .await;

    assert_eq!(proxy.get("/ready").await.status(), 503);
    assert_eq!(
        proxy
            .status("GET", ROUTE, Some(&key.token("1", &["customer"])))
            .await,
        (503, "auth_unavailable".to_owned())
    );
    let r = proxy.auth("GET", ROUTE, Some(&key.token("1", &[]))).await;
    assert!(r.headers().get("www-authenticate").is_none());
    // Public routes do not need keys.
    assert_eq!(proxy.status("GET", "/api/products", None).await.0, 200);
    assert_eq!(proxy.get("/health").await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_arriving_late_make_the_proxy_ready() {
    let key = TestKey::generate("k1");
    let jwks = JwksServer::start(vec![]).await;
    let proxy = Proxy::start(config(&jwks.url)).await;
    // Once the empty set has been fetched, not merely before the first fetch ended.
    proxy
        .wait_for(|| async { jwks.hits() >= 1 }, "the first key fetch")
        .await;
    assert_eq!(proxy.get("/ready").await.status(), 503);

    jwks.set_keys(vec![key.jwk()]);

    proxy
        .wait_for(
            || async { proxy.get("/ready").await.status() == 200 },
            "ready",
        )
        .await;
    assert_eq!(
        proxy
            .status("GET", ROUTE, Some(&key.token("1", &[])))
            .await
            .0,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_from_every_answering_url_are_merged() {
    let blue = TestKey::generate("blue-key");
    let green = TestKey::generate("green-key");
    let a = JwksServer::start(vec![blue.jwk()]).await;
    let b = JwksServer::start(vec![green.jwk()]).await;
    let mut c = config(&a.url);
    c.jwks_urls = vec![a.url.clone(), dead_url().await, b.url.clone()];
    let proxy = Proxy::start_ready(c).await;

    assert_eq!(
        proxy
            .status("GET", ROUTE, Some(&blue.token("1", &[])))
            .await
            .0,
        200
    );
    assert_eq!(
        proxy
            .status("GET", ROUTE, Some(&green.token("1", &[])))
            .await
            .0,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_pem_key_files_work_instead_of_jwks() {
    let key = TestKey::generate("static-1");
    let dir = std::env::temp_dir().join(format!("auth-proxy-test-{}", random_hex(6)));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("static-1.pem");
    std::fs::write(&file, key.public_pem()).expect("write pem");
    let mut c = config(&dead_url().await);
    c.key_files = vec![file];
    let proxy = Proxy::start(c).await;

    assert_eq!(
        proxy.get("/ready").await.status(),
        200,
        "static keys are there at start"
    );
    assert_eq!(
        proxy
            .status("GET", ROUTE, Some(&key.token("1", &[])))
            .await
            .0,
        200
    );
    let other = TestKey::generate("static-2");
    assert_eq!(
        proxy
            .status("GET", ROUTE, Some(&other.token("1", &[])))
            .await
            .0,
        401
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_key_file_is_a_configuration_error() {
    let key = TestKey::generate("k");
    let dir = std::env::temp_dir().join(format!("auth-proxy-test-{}", random_hex(6)));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("k.pem");
    std::fs::write(&file, key.private_pem()).expect("write pem");
    let mut c = config("http://127.0.0.1:1/");
    c.key_files = vec![file];

    let err = auth_proxy::App::new(c).err().expect("refused");

    assert!(
        err.downcast_ref::<auth_proxy::ConfigError>().is_some(),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
