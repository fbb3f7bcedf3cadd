//! The cart service: a shopper's cart in MySQL (the source of truth) with a Redis read
//! cache invalidated on every write; names and prices come from the catalog at read time
//! (from a copy in memory that the catalog's change feed keeps current: [`catalog`]), so an
//! admin's price change shows in every cart as soon as the cart hears of it (the product
//! service publishes it before it answers the admin) and a deleted product drops out.

mod catalog;
pub mod config;
pub mod domain;
mod error;
mod pricing;
mod routes;
mod storage;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use mall_http::ops::Metrics;
use mall_http::server::{serve_and_close, App};
use mall_store::cache::Redis;
use tokio::net::TcpListener;

use crate::catalog::Catalog;
use crate::config::Config;
use crate::storage::Carts;

/// What the handlers share.
pub struct State {
    carts: Carts,
    catalog: Catalog,
    max_lines: u32,
}

/// Connects, migrates and serves until `shutdown`.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let base = &config.base;
    let pool = mall_store::db::open(&base.database_url, storage::MIGRATIONS).await?;
    let redis = Redis::new(&base.redis_url, &base.redis_prefix)?;
    let metrics = Arc::new(Metrics::new(&base.info)?);
    let catalog = Catalog::new(config.product.clone(), &metrics.registry)?;
    // Followed while the service runs: the copy of the prices is used only while it is.
    let feed = tokio::spawn(catalog.clone().follow(redis.clone()));
    catalog.wait_subscribed(Duration::from_secs(2)).await;
    let state = Arc::new(State {
        carts: Carts::new(pool.clone(), redis.clone(), config.cache_ttl_secs),
        catalog,
        max_lines: config.max_lines,
    });
    let app = App::new(base, routes::routes(state), &pool, &redis, metrics);
    let served = serve_and_close(app, pool, listener, shutdown).await;
    feed.abort();
    served
}
