//! What every mall service shares, so no service copies it: typed config, JSON telemetry,
//! trace ids, the standard error body, `/health` `/ready` `/metrics`, MySQL and Redis
//! setup with embedded migrations, the contract's limits, the service-to-service HTTP client, and the server loop
//! (trace-id filter, request span, metrics, `X-Served-By`, graceful shutdown).

/// Every service and auth-proxy allocate with mimalloc instead of glibc's malloc:
/// `scripts/bench mix` under perf found 15-18 % of each service's CPU in glibc's
/// malloc/free (JSON bodies, headers, log lines: many small short-lived allocations), and
/// glibc kept the user service at ~0.8 GB RSS after a few hundred 19 MiB password hashes
/// (docs/performance.md, "Shopper mix").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod cache;
pub mod client;
pub mod config;
pub mod contracts;
pub mod db;
pub mod error;
pub mod http;
pub mod limits;
pub mod logbuf;
pub mod ops;
pub mod server;
pub mod telemetry;
pub mod testing;
pub mod time;
pub mod trace;
