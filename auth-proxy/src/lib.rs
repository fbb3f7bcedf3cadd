//! The mall's auth sidecar. nginx sends every protected request here first
//! (`auth_request`); the proxy normalises the original path, finds the route's rule in
//! the policy file, and for a protected route verifies the bearer token (EdDSA by default,
//! keys from the user service's JWKS or static files), checks the in-memory revocation
//! denylist fed by Redis pub/sub, and answers 200 with the identity headers nginx copies
//! upstream, or 401/403/503 with an RFC 6750 challenge and an `X-Auth-Error` code.
//!
//! `main` parses [`config::Args`], initialises telemetry and calls [`run`]; tests call
//! [`run`] (or [`App::new`] + [`server::serve`]) on port 0.

pub mod app;
pub mod cache;
pub mod config;
pub mod decision;
pub mod json;
pub mod keys;
pub mod metrics;
pub mod path;
pub mod policy;
pub mod revocation;
pub mod server;
pub mod token;

use std::future::Future;

pub use app::{App, ConfigError};
pub use config::{Args, Config};

/// Runs the proxy on `listener` until `shutdown` resolves. Fails with [`ConfigError`]
/// when the policy or the static keys cannot be loaded.
pub async fn run(
    config: Config,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let app = App::new(config)?;
    server::serve(app, listener, shutdown).await
}
