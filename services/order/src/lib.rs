//! The order service: orders and the checkout saga (docs/checkout.md). An order is created
//! `pending` (unique on user + idempotency key), stock is reserved in the catalog, the
//! payment service charges it, and the order settles `paid` or `failed`; what a request
//! cannot settle (gateway timeout, a crash) the reconciliation loop settles from the
//! payment's real state, at start-up and every few seconds. Cancel refunds, then restocks.

mod clients;
pub mod config;
pub mod domain;
mod error;
mod reconcile;
mod routes;
mod saga;
pub mod state;
pub mod storage;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use mall_http::ops::{Metrics, Readiness};
use mall_http::server::{serve_and_close, App};
use tokio::net::TcpListener;
use tracing::Instrument;

use crate::clients::Clients;
use crate::config::Config;

/// What the handlers and the reconciler share.
pub struct State {
    pool: mysql_async::Pool,
    clients: Clients,
    /// Checkouts' creations and `paid` moves, batched (storage/batched.rs).
    creates: storage::Creates,
    moves: storage::Moves,
    reconcile_after: Duration,
}

/// Connects, migrates, starts reconciliation, and serves until `shutdown`.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let base = &config.base;
    let pool = mall_store::db::open(&base.database_url, storage::MIGRATIONS).await?;
    let state = Arc::new(State {
        pool: pool.clone(),
        clients: Clients::new(&config)?,
        creates: storage::Creates::start(pool.clone()),
        moves: storage::Moves::start(pool.clone()),
        reconcile_after: config.reconcile_after,
    });
    let reconciler = tokio::spawn(
        reconcile::reconcile_forever(state.clone(), config.reconcile_every)
            .instrument(tracing::info_span!("reconciler")),
    );
    // The order service keeps nothing in Redis: readiness is its database.
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
    let result = serve_and_close(app, pool, listener, shutdown).await;
    reconciler.abort();
    result
}
