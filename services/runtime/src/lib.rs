//! What every mall process runs on, the services and auth-proxy alike: the shared flags
//! ([`config::RuntimeArgs`], exit 64 on bad configuration), JSON telemetry through a log
//! buffer, trace ids carried task-locally, [`launch`] (telemetry, bind, run until SIGTERM)
//! and the HTTP/1 serving loop with graceful shutdown ([`serve::serve`]). Nothing here
//! knows about a database, Redis or warp: those are `mall-store` and `mall-http`.

/// Every service and auth-proxy allocate with mimalloc instead of glibc's malloc:
/// `scripts/bench mix` under perf found 15-18 % of each service's CPU in glibc's
/// malloc/free (JSON bodies, headers, log lines: many small short-lived allocations), and
/// glibc kept the user service at ~0.8 GB RSS after a few hundred 19 MiB password hashes
/// (docs/performance.md, "Shopper mix").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod batch;
pub mod config;
pub mod logbuf;
pub mod reconnect;
pub mod serve;
pub mod telemetry;
pub mod time;
pub mod trace;

pub use serve::{launch, shutdown_signal};
