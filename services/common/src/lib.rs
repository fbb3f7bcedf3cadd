//! What every mall service shares, so no service copies it: typed config, JSON telemetry,
//! trace ids, the standard error body, `/health` `/ready` `/metrics`, MySQL and Redis
//! setup with embedded migrations, the service-to-service HTTP client, and the server loop
//! (trace-id filter, request span, metrics, `X-Served-By`, graceful shutdown).

pub mod cache;
pub mod client;
pub mod config;
pub mod db;
pub mod error;
pub mod http;
pub mod ops;
pub mod server;
pub mod telemetry;
pub mod testing;
pub mod time;
pub mod trace;
