//! The cart service: a shopper's cart in MySQL (the source of truth) with a Redis read
//! cache invalidated on every write; names and prices come from the catalog at read time,
//! so an admin's price change shows in every cart at once and a deleted product simply
//! drops out.

mod catalog;
pub mod config;
pub mod domain;
mod error;
mod pricing;
mod routes;
mod storage;

use std::future::Future;
use std::sync::Arc;

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
    let state = Arc::new(State {
        carts: Carts::new(pool.clone(), redis.clone(), config.cache_ttl_secs),
        catalog: Catalog::new(config.product.clone())?,
        max_lines: config.max_lines,
    });
    let app = App::new(
        base,
        routes::routes(state),
        &pool,
        &redis,
        Arc::new(Metrics::new(&base.info)?),
    );
    serve_and_close(app, pool, listener, shutdown).await
}
