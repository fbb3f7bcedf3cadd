//! The user service: accounts (Argon2id passwords), EdDSA access tokens with `kid`, opaque
//! rotating refresh tokens with reuse detection, the JWKS, the login and registration limits
//! and the admin user endpoints. It never validates access tokens itself: auth-proxy does,
//! and nginx passes the verified identity (`X-User-Id`, `X-User-Roles`, `X-Token-Id`).

pub mod config;
pub mod domain;
mod error;
pub mod keys;
mod passwords;
mod ratelimit;
mod revocation;
mod routes;
mod storage;
mod tokens;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use mall_http::ops::Metrics;
use mall_http::server::{serve_and_close, App};
use mall_store::cache::Redis;
use tokio::net::TcpListener;
use tracing::Instrument;

use crate::config::Config;
use crate::keys::KeyStore;
use crate::passwords::Passwords;
use crate::ratelimit::{LoginLimit, RegisterLimit};
use crate::tokens::Issuer;

/// What the handlers share.
pub struct State {
    pool: mysql_async::Pool,
    redis: Redis,
    keys: Arc<KeyStore>,
    issuer: Issuer,
    passwords: Passwords,
    limit: LoginLimit,
    register_limit: RegisterLimit,
    refresh_ttl_secs: u64,
}

/// Connects, migrates, loads keys, and serves on `listener` until `shutdown`.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let base = &config.base;
    let pool = mall_store::db::open(&base.database_url, storage::MIGRATIONS).await?;
    let redis = Redis::new(&base.redis_url, &base.redis_prefix)?;
    let keys = Arc::new(KeyStore::open(
        &config.keys_dir,
        config.generate_key,
        config.key_activation,
    )?);
    let rescan = tokio::spawn(rescan_keys(keys.clone(), config.keys_rescan).in_current_span());
    let passwords = Passwords::new().await?;
    if let Some((email, password)) = &config.bootstrap_admin {
        let hash = passwords::hash(password.clone()).await?;
        let id = storage::users::ensure_admin(&pool, email, &hash)
            .await
            .context("while ensuring the bootstrap admin")?;
        tracing::info!(user_id = id, "bootstrap admin present");
    }
    let state = Arc::new(State {
        pool: pool.clone(),
        redis: redis.clone(),
        keys,
        issuer: Issuer {
            iss: config.issuer.clone(),
            aud: config.audience.clone(),
            ttl_secs: config.access_ttl_secs,
        },
        passwords,
        limit: LoginLimit {
            redis: redis.clone(),
            pair_max_failures: config.login_max_failures,
            address_max_failures: config.login_address_max_failures,
            window_secs: config.login_window_secs,
            max_delay_secs: config.login_max_delay_secs,
        },
        register_limit: RegisterLimit {
            redis: redis.clone(),
            max_per_address: config.register_max_per_address,
            window_secs: config.register_window_secs,
        },
        refresh_ttl_secs: config.refresh_ttl_secs,
    });
    let metrics = Arc::new(Metrics::new(&base.info)?);
    let app = App::new(base, routes::routes(state), &pool, &redis, metrics);
    let result = serve_and_close(app, pool, listener, shutdown).await;
    rescan.abort();
    result
}

/// Rescans the keys directory every `every` and on SIGHUP.
async fn rescan_keys(keys: Arc<KeyStore>, every: Duration) {
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        match hup.as_mut() {
            Some(h) => {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = h.recv() => tracing::info!("SIGHUP: rescanning signing keys"),
                }
            }
            None => {
                tick.tick().await;
            }
        }
        keys.rescan();
    }
}
