//! The product service: the catalog (search, filters, sort, paging; admin writes with soft
//! delete), categories, a read cache in memory (all of it invalidated by an admin write,
//! only a product's stock by an order; the other slot hears of each change over Redis),
//! and the internal stock API for checkout (reserve all-or-nothing, commit, release;
//! idempotent on the order id).

mod cache;
pub mod config;
pub mod domain;
mod error;
mod routes;
mod seed;
mod storage;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use mall_http::ops::Metrics;
use mall_http::server::{serve_and_close, App};
use mall_store::cache::Redis;
use tokio::net::TcpListener;

use crate::cache::CatalogCache;
use crate::config::Config;

/// What the handlers share.
pub struct State {
    pool: mysql_async::Pool,
    cache: CatalogCache,
}

/// Connects, migrates, seeds (when asked and empty), and serves until `shutdown`.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let base = &config.base;
    let pool = mall_store::db::open(&base.database_url, storage::MIGRATIONS).await?;
    let redis = Redis::new(&base.redis_url, &base.redis_prefix)?;
    let metrics = Arc::new(Metrics::new(&base.info)?);
    let cache = CatalogCache::new(
        redis.clone(),
        config.cache_ttl_secs,
        config.cache_enabled,
        &metrics.registry,
    )?;
    if config.seed_demo {
        let n = seed::load_if_empty(&pool).await?;
        if n > 0 {
            cache.invalidate().await;
            tracing::info!(products = n, "demo catalog loaded");
        }
    }
    // Followed while the service runs (it returns at once when the cache is off).
    let feed = tokio::spawn(cache.clone().follow());
    cache.wait_subscribed(Duration::from_secs(2)).await;
    let state = Arc::new(State {
        pool: pool.clone(),
        cache,
    });
    let app = App::new(base, routes::routes(state), &pool, &redis, metrics);
    let served = serve_and_close(app, pool, listener, shutdown).await;
    feed.abort();
    served
}
