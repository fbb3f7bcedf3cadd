//! The payment service: one payment per order, charged through the external card gateway
//! at most once (the order id is the idempotency key here and, as `pay-<order_id>`, at the
//! gateway), reconciled with the gateway while its outcome is unknown, refunded at most
//! once. The order service calls the internal API (docs/checkout.md); a shopper reads
//! their own payments at `GET /api/payments/{id}`.
//!
//! Card tokens pass through to the gateway and are never stored or logged. The service
//! keeps nothing in Redis (there is nothing worth caching), so `/ready` checks MySQL only.

mod clients;
pub mod config;
pub mod domain;
mod error;
mod payments;
mod routes;
mod storage;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use mall_http::ops::{Metrics, Readiness};
use mall_http::server::{serve_and_close, App};
use tokio::net::TcpListener;

use crate::clients::gateway::Gateway;
use crate::config::Config;

/// What the handlers share.
pub struct State {
    pool: mysql_async::Pool,
    gateway: Gateway,
    /// The charge's two writes, batched across concurrent charges (storage/batched.rs).
    batches: storage::Batches,
    settle_unknown_after: Duration,
}

/// Connects, migrates and serves until `shutdown`.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    config.validate().map_err(anyhow::Error::msg)?;
    let base = &config.base;
    let pool = mall_store::db::open(&base.database_url, storage::MIGRATIONS).await?;
    let state = Arc::new(State {
        pool: pool.clone(),
        gateway: Gateway::new(&config.gateway_url, config.gateway_timeout)?,
        batches: storage::Batches::start(&pool),
        settle_unknown_after: config.settle_unknown_after,
    });
    let app = App {
        info: base.info.clone(),
        routes: routes::routes(state),
        readiness: Readiness {
            mysql: Some(pool.clone()),
            redis: None,
        },
        metrics: Arc::new(Metrics::new(&base.info)?),
        grace: base.grace,
    };
    serve_and_close(app, pool, listener, shutdown).await
}
