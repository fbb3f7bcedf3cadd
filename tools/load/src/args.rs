//! The command line: the flags, their checks, and what they name (nginx's address and the
//! process groups to measure).

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Parser;

use crate::mix::Weights;
use crate::procs;

#[derive(Parser, Debug, Clone)]
#[command(
    name = "mall-load",
    version,
    about = "Drives the mall through nginx with a weighted shopper mix (browse 10, product detail 10, \
             search 3, view cart 3, add to cart 2, checkout 1) from many signed-in shoppers, open loop \
             (a fixed arrival rate, latency from each request's due time) and/or closed loop, and \
             reports requests/s, p50/p90/p99/max per route, errors by status, and the CPU and RSS of \
             the processes named with --proc/--proc-comm.",
    after_help = "Usually run by scripts/bench mix, which starts a private release stack and names its \
                  processes. --shape get|checkout sends the fixed requests of scripts/bench auth, \
                  catalog and checkout instead (closed loop, no setup; wrk's job before). Exit status: 0 done (and, with --fail-on-errors, no errors), 1 errors or \
                  a failed setup, 2 bad arguments."
)]
pub struct Args {
    /// nginx's public address (the mall's URL).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// open: a fixed arrival rate (--rate); closed: --connections each send the next request
    /// when the last one is answered; both: closed, then open.
    #[arg(long, value_enum, default_value = "both")]
    pub mode: ModeArg,
    /// Open loop: requests per second offered (the sweep's first rate with --sweep).
    #[arg(long, default_value_t = 2000.0)]
    pub rate: f64,
    /// Seconds measured per run (per step with --sweep).
    #[arg(long, default_value_t = 30.0)]
    pub duration: f64,
    /// Seconds of unrecorded load before each run.
    #[arg(long, default_value_t = 5.0)]
    pub warmup: f64,
    /// Closed loop: the connections; open loop: the most connections that carry the arrivals.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// Distinct shoppers, registered and signed in before the load.
    #[arg(long, default_value_t = 500)]
    pub users: usize,
    /// Concurrent sign-ins while preparing the shoppers.
    #[arg(long, default_value_t = 4)]
    pub signin_concurrency: usize,
    /// Shoppers' e-mail prefix (<prefix>-<n>@bench.local); a later run with the same prefix
    /// signs the same shoppers in again.
    #[arg(long, default_value = "shopper")]
    pub user_prefix: String,
    /// Route weights, e.g. checkout=0 or browse=5,search=1 (others keep their default).
    #[arg(
        long,
        default_value = "browse=10,detail=10,search=3,view_cart=3,add_to_cart=2,checkout=1"
    )]
    pub mix: Weights,
    /// Card token every checkout pays with (the gateway simulator approves tok_ok).
    #[arg(long, default_value = "tok_ok")]
    pub card_token: String,
    /// Admin e-mail: when given (with --admin-password-file), every product's stock is raised
    /// by --stock-top-up first, so checkouts do not run out.
    #[arg(long)]
    pub admin_email: Option<String>,
    #[arg(long)]
    pub admin_password_file: Option<PathBuf>,
    #[arg(long, default_value_t = 10_000_000)]
    pub stock_top_up: i64,
    /// A group of processes to measure: LABEL=PID[,PID...] (repeatable).
    #[arg(long = "proc", value_name = "LABEL=PIDS")]
    pub procs: Vec<String>,
    /// A group found by command name: LABEL=NAME[,NAME...] (repeatable), e.g.
    /// mysql=mariadbd,mysqld.
    #[arg(long = "proc-comm", value_name = "LABEL=NAMES")]
    pub proc_comms: Vec<String>,
    /// Raise the open-loop rate step by step until p99 passes --p99-limit-ms or errors
    /// appear; report the highest rate that held.
    #[arg(long)]
    pub sweep: bool,
    #[arg(long, default_value_t = 500.0)]
    pub sweep_step: f64,
    #[arg(long, default_value_t = 20_000.0)]
    pub sweep_max: f64,
    #[arg(long, default_value_t = 50.0)]
    pub p99_limit_ms: f64,
    /// Write the results here as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write the sweep's plot here (SVG).
    #[arg(long)]
    pub svg: Option<PathBuf>,
    /// Threads of the load generator (1: a single-threaded runtime, the cheapest per
    /// request; the generator's own CPU is in the process table).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Exit 1 when any run had errors (or, with --sweep, when no rate held; with a fixed
    /// shape, when a socket failed or nothing was answered).
    #[arg(long)]
    pub fail_on_errors: bool,
    #[command(flatten)]
    pub fixed: crate::fixed::FixedArgs,
    /// The blue/green tests' steady load (steady/).
    #[command(flatten)]
    pub steady: crate::steady::SteadyArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModeArg {
    Open,
    Closed,
    Both,
}

fn address(url: &str) -> Result<SocketAddr> {
    let rest = url
        .strip_prefix("http://")
        .context("--url must be http://host:port (the load stays on this machine)")?;
    let hostport = rest.split('/').next().unwrap_or(rest);
    let hostport = if hostport.contains(':') {
        hostport.to_string()
    } else {
        format!("{hostport}:80")
    };
    let addr = hostport
        .to_socket_addrs()
        .with_context(|| format!("resolving {hostport}"))?
        .next()
        .with_context(|| format!("{hostport} has no address"))?;
    let local = match addr.ip() {
        std::net::IpAddr::V4(v4) => v4.is_loopback() || crate::bridge::on_docker_bridge(v4),
        ip => ip.is_loopback(),
    };
    if !local {
        bail!("--url must be a loopback address or one on a Docker bridge of this machine, not {addr}: load stays on this machine");
    }
    Ok(addr)
}

pub fn validate(a: &Args) -> Result<()> {
    if !(a.duration >= 1.0 && a.duration <= 3600.0) {
        bail!("--duration must be 1..3600 seconds");
    }
    if !(0.0..=600.0).contains(&a.warmup) {
        bail!("--warmup must be 0..600 seconds");
    }
    if !(a.rate >= 1.0 && a.rate <= 1_000_000.0) {
        bail!("--rate must be 1..1000000 requests/s");
    }
    if a.connections == 0 || a.connections > 10_000 {
        bail!("--connections must be 1..10000");
    }
    if a.users == 0 || a.users > 100_000 {
        bail!("--users must be 1..100000");
    }
    if a.signin_concurrency == 0 || a.signin_concurrency > 256 {
        bail!("--signin-concurrency must be 1..256");
    }
    if a.sweep && (a.sweep_step < 1.0 || a.sweep_max < a.rate) {
        bail!("--sweep-step must be >= 1 and --sweep-max >= --rate");
    }
    if a.threads == 0 || a.threads > 64 {
        bail!("--threads must be 1..64");
    }
    if a.admin_email.is_some() != a.admin_password_file.is_some() {
        bail!("--admin-email and --admin-password-file go together");
    }
    Ok(())
}

/// What the arguments name, checked before anything runs: nginx's address and the process
/// groups to measure.
pub fn targets(args: &Args) -> Result<(SocketAddr, Vec<procs::Group>)> {
    let addr = address(&args.url)?;
    let mut groups = vec![];
    for p in &args.procs {
        groups.push(procs::parse_pids(p).with_context(|| format!("--proc {p}"))?);
    }
    for p in &args.proc_comms {
        groups.push(procs::parse_comm(p).with_context(|| format!("--proc-comm {p}"))?);
    }
    groups.push(procs::own_group());
    Ok((addr, groups))
}
