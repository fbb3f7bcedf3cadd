//! What every mall service shares, so no service copies it: typed config, JSON telemetry,
//! trace ids, the standard error body, `/health` `/ready` `/metrics`, MySQL and Redis
//! setup with embedded migrations, the service-to-service HTTP client, and the server loop
//! (trace-id filter, request span, metrics, `X-Served-By`, graceful shutdown).

pub mod config;
pub mod telemetry;
pub mod trace;
