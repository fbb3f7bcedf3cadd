//! `mall bench`'s command line: the options scripts/bench had, the same defaults and checks.

use clap::{Args, ValueEnum};

use crate::cli::RuntimeKind;

pub const ABOUT: &str = "\
Starts a private copy of the stack (release binaries, free loopback ports, its own state
directory, database prefix and Redis prefix, like scripts/test's end-to-end step), adds a
bench-only nginx server to it, drives it with mall-load (tools/load), prints a table and
writes var/bench/<benchmark>-<UTC time>.json. The stack, its databases and Redis keys are
always removed afterwards (the state directory is kept when something failed).

Benchmarks:
  auth      an authenticated GET through nginx's auth_request (the real /api/ wiring) vs
            the same GET without auth_request, vs a 401 flood of forged tokens on the
            real /api/users/me; auth-proxy's RSS and token-cache counters.
            Targets: throughput ratio >= 0.85, added p99 <= 1 ms, RSS < 30 MB.
  catalog   product detail and a list page through nginx, from the blue product slot
            (Redis cache on) vs a green slot started with CACHE_ENABLED=false; and the
            edge: the same detail reads through the public listener signed in vs
            anonymous (target: signed-in / anonymous req/s >= 0.95).
  checkout  checkouts/s and p99 through nginx: every request a new order (own
            Idempotency-Key) for one product, 9 in 10 paid, 1 in 10 declined (402).
  mix       the whole mall under a shopper mix (browse 10, product detail 10, search 3,
            view cart 3, add to cart 2, checkout 1) from --users signed-in shoppers:
            closed loop over --connections, then open loop at --rate (latency from each
            request's due time); per-route p50/p90/p99/max, errors by status, CPU and RSS
            of nginx, auth-proxy, every service, MariaDB and Redis. --sweep raises the
            open-loop rate by --sweep-step until p99 passes 50 ms or errors appear, and
            plots it (var/bench/mix-<runtime>-<time>.svg).";

pub const AFTER_HELP: &str = "\
Environment: CARGO_TARGET_DIR [$HOME/.cache/mall-target], MALL_MYSQL_HOST/PORT/
ROOT_USER/ROOT_PASSWORD, MALL_REDIS_URL (as scripts/dev). MALL_ROOT: the repository
[the current directory; scripts/bench sets it].
Numbers from a shared or small machine are noisy: compare the ratios of one run.

Exit status: 0 done, 1 failed (a sanity check, the stack, the load generator; the state
directory is kept and named), 64 usage, 130 interrupted (the stack is removed first).";

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    Auth,
    Catalog,
    Checkout,
    Mix,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Upstream {
    /// The user slot's /health (no MySQL).
    Health,
    /// The real /api/users/me handler.
    Me,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LoopMode {
    Open,
    Closed,
    Both,
}

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Which benchmark.
    #[arg(value_enum)]
    pub scenario: Scenario,
    /// Length of each measured run, seconds (at most 600).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=600))]
    pub duration: u32,
    /// Load connections.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..))]
    pub connections: u32,
    /// Load generator threads.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub threads: u32,
    /// The cases run interleaved (a, b, c, a, b, c, ...) this many times.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    pub rounds: u32,
    /// Unrecorded warm-up before each case's first run, seconds.
    #[arg(long, default_value_t = 2)]
    pub warmup: u32,
    /// Also run each pair of compared cases with this few connections (and one thread), so
    /// latency is measured below saturation; 0: skip.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub latency_connections: u32,
    /// mix: open-loop arrivals per second (the first step of --sweep).
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate: u32,
    /// mix: distinct shoppers signed in before the load.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..))]
    pub users: u32,
    /// mix: which loop to run.
    #[arg(long, value_enum, default_value = "both")]
    pub mode: LoopMode,
    /// mix: other route weights, e.g. checkout=0 (mall-load --help).
    #[arg(long, value_name = "WEIGHTS")]
    pub mix: Option<String>,
    /// mix: the saturation sweep (open loop, --duration per step).
    #[arg(long)]
    pub sweep: bool,
    /// mix: rate added per sweep step.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..))]
    pub sweep_step: u32,
    /// mix: local (processes, the default) or compose (a private compose project of release
    /// images built on this host; CPU and RSS per container by host pid; no catalog or
    /// MariaDB counters).
    #[arg(long, value_enum, default_value = "local")]
    pub runtime: RuntimeKind,
    /// auth only: the upstream request both bench locations make.
    #[arg(long, value_enum, default_value = "health")]
    pub upstream: Upstream,
    /// Use the release binaries as they are (default: cargo build --release).
    #[arg(long)]
    pub no_build: bool,
}

impl BenchArgs {
    /// The checks clap's ranges do not cover; the message of a usage error.
    pub fn validate(&self) -> Result<(), String> {
        if self.connections < self.threads {
            return Err("--connections must be at least --threads".into());
        }
        if self.runtime == RuntimeKind::Compose && self.scenario != Scenario::Mix {
            return Err("--runtime is local, or compose for the mix benchmark".into());
        }
        Ok(())
    }

    /// The scenario's name, as files and tables name it.
    pub fn kind(&self) -> &'static str {
        match self.scenario {
            Scenario::Auth => "auth",
            Scenario::Catalog => "catalog",
            Scenario::Checkout => "checkout",
            Scenario::Mix => "mix",
        }
    }
}

/// `scripts/bench`'s own command line (`mall bench ...` is parsed with this, so its help
/// and errors name scripts/bench and show only the bench's options).
#[derive(Debug, clap::Parser)]
#[command(name = "bench", bin_name = "scripts/bench", about = "Benchmarks of the mall through nginx, on a private release stack (docs/performance.md).", long_about = ABOUT, after_help = AFTER_HELP)]
pub struct BenchCli {
    #[command(flatten)]
    pub args: BenchArgs,
}
