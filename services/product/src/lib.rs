//! The product service: the catalog (search, filters, sort, paging; admin writes with soft
//! delete), categories, a Redis read cache invalidated on every write, and the internal
//! stock API for checkout (reserve all-or-nothing, commit, release; idempotent on the
//! order id).

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

use mall_common::cache::Redis;
use mall_common::ops::{Metrics, Readiness};
use mall_common::server::{serve, App};
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
    let pool = mall_common::db::connect(&config.database_url, Duration::from_secs(30)).await?;
    mall_common::db::migrate(&pool, storage::MIGRATIONS).await?;
    let redis = Redis::new(&config.redis_url, &config.redis_prefix)?;
    let metrics = Arc::new(Metrics::new(&config.info)?);
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
    let state = Arc::new(State {
        pool: pool.clone(),
        cache,
    });
    let app = App {
        info: config.info.clone(),
        routes: routes::routes(state),
        readiness: Readiness {
            mysql: Some(pool.clone()),
            redis: Some(redis),
        },
        metrics,
        grace: config.grace,
    };
    let result = serve(app, listener, shutdown).await;
    pool.disconnect().await.ok();
    result
}
