//! The card gateway simulator: stands in for the external card gateway the payment
//! service charges through (docs/checkout.md). `tok_ok` approves, `tok_declined` and
//! unknown tokens decline, `tok_timeout` approves but answers only after
//! `TIMEOUT_DELAY_SECS`. Charges are idempotent on their key and live in memory; tests
//! switch it to failing or slow with `/v1/control` and count charges with `/v1/stats`.
//!
//! It runs the mall's common serving loop (`/health`, `/ready`, `/metrics`, JSON logs
//! with trace ids, `X-Served-By`) without MySQL or Redis.

pub mod config;
pub mod domain;
mod error;
pub mod ledger;
mod routes;

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use mall_http::ops::{Metrics, Readiness};
use mall_http::server::{serve, App};
use tokio::net::TcpListener;

use crate::config::Config;
use crate::domain::Mode;
use crate::ledger::Ledger;

/// What the handlers share.
pub struct State {
    ledger: Ledger,
    mode: Mutex<Mode>,
    timeout_delay: Duration,
}

impl State {
    fn mode(&self) -> Mode {
        *self.mode.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap_or_else(PoisonError::into_inner) = mode;
    }
}

/// Serves until `shutdown`.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let first_id = u64::try_from(chrono_millis())
        .unwrap_or(1)
        .saturating_mul(1000);
    let state = Arc::new(State {
        ledger: Ledger::new(first_id),
        mode: Mutex::new(Mode::Normal),
        timeout_delay: config.timeout_delay,
    });
    tracing::info!(
        timeout_delay_secs = config.timeout_delay.as_secs_f64(),
        "card gateway simulator starting"
    );
    let app = App {
        metrics: Arc::new(Metrics::new(&config.info)?),
        info: config.info,
        routes: routes::routes(state),
        // An external system stand-in: nothing to be ready for but itself.
        readiness: Readiness {
            mysql: None,
            redis: None,
        },
        grace: config.grace,
    };
    serve(app, listener, shutdown).await
}

fn chrono_millis() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(1)
}
