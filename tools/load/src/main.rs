//! mall-load: the shopper-mix load generator behind `scripts/bench mix`
//! (docs/performance.md, "Shopper mix").

/// The same allocator as the services (services/common): the generator's own CPU per
/// request is part of what the benchmark reports.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod conn;
mod mix;
mod procs;
mod report;
mod run;
mod setup;
mod stats;

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use serde::Serialize;

use crate::mix::{Shopper, Weights, World};
use crate::run::{Mode, RunResult, Spec};

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
                  processes. Exit status: 0 done (and, with --fail-on-errors, no errors), 1 errors or \
                  a failed setup, 2 bad arguments."
)]
struct Args {
    /// nginx's public address (the mall's URL).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// open: a fixed arrival rate (--rate); closed: --connections each send the next request
    /// when the last one is answered; both: closed, then open.
    #[arg(long, value_enum, default_value = "both")]
    mode: ModeArg,
    /// Open loop: requests per second offered (the sweep's first rate with --sweep).
    #[arg(long, default_value_t = 2000.0)]
    rate: f64,
    /// Seconds measured per run (per step with --sweep).
    #[arg(long, default_value_t = 30.0)]
    duration: f64,
    /// Seconds of unrecorded load before each run.
    #[arg(long, default_value_t = 5.0)]
    warmup: f64,
    /// Closed loop: the connections; open loop: the most connections that carry the arrivals.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Distinct shoppers, registered and signed in before the load.
    #[arg(long, default_value_t = 500)]
    users: usize,
    /// Concurrent sign-ins while preparing the shoppers.
    #[arg(long, default_value_t = 4)]
    signin_concurrency: usize,
    /// Shoppers' e-mail prefix (<prefix>-<n>@bench.local); a later run with the same prefix
    /// signs the same shoppers in again.
    #[arg(long, default_value = "shopper")]
    user_prefix: String,
    /// Route weights, e.g. checkout=0 or browse=5,search=1 (others keep their default).
    #[arg(
        long,
        default_value = "browse=10,detail=10,search=3,view_cart=3,add_to_cart=2,checkout=1"
    )]
    mix: Weights,
    /// Card token every checkout pays with (the gateway simulator approves tok_ok).
    #[arg(long, default_value = "tok_ok")]
    card_token: String,
    /// Admin e-mail: when given (with --admin-password-file), every product's stock is raised
    /// by --stock-top-up first, so checkouts do not run out.
    #[arg(long)]
    admin_email: Option<String>,
    #[arg(long)]
    admin_password_file: Option<PathBuf>,
    #[arg(long, default_value_t = 10_000_000)]
    stock_top_up: i64,
    /// A group of processes to measure: LABEL=PID[,PID...] (repeatable).
    #[arg(long = "proc", value_name = "LABEL=PIDS")]
    procs: Vec<String>,
    /// A group found by command name: LABEL=NAME[,NAME...] (repeatable), e.g.
    /// mysql=mariadbd,mysqld.
    #[arg(long = "proc-comm", value_name = "LABEL=NAMES")]
    proc_comms: Vec<String>,
    /// Raise the open-loop rate step by step until p99 passes --p99-limit-ms or errors
    /// appear; report the highest rate that held.
    #[arg(long)]
    sweep: bool,
    #[arg(long, default_value_t = 500.0)]
    sweep_step: f64,
    #[arg(long, default_value_t = 20_000.0)]
    sweep_max: f64,
    #[arg(long, default_value_t = 50.0)]
    p99_limit_ms: f64,
    /// Write the results here as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the sweep's plot here (SVG).
    #[arg(long)]
    svg: Option<PathBuf>,
    /// Threads of the load generator (1: a single-threaded runtime, the cheapest per
    /// request; the generator's own CPU is in the process table).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Exit 1 when any run had errors (or, with --sweep, when no rate held).
    #[arg(long)]
    fail_on_errors: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ModeArg {
    Open,
    Closed,
    Both,
}

#[derive(Serialize)]
struct Output<'a> {
    tool: &'static str,
    version: &'static str,
    url: &'a str,
    weights: &'a Weights,
    users: usize,
    products: usize,
    browse_paths: usize,
    search_paths: usize,
    signin: &'a setup::SignIn,
    runs: &'a [RunResult],
    sweep: Option<SweepOut>,
}

#[derive(Serialize, Clone)]
struct SweepOut {
    p99_limit_ms: f64,
    step: f64,
    /// The highest offered rate whose run had p99 within the limit, no errors, and at least
    /// 97 % of the offered rate answered.
    held_rate: Option<f64>,
    stopped_because: String,
}

fn address(url: &str) -> Result<SocketAddr> {
    let rest = url
        .strip_prefix("http://")
        .context("--url must be http://host:port (the load stays on loopback)")?;
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
    if !addr.ip().is_loopback() {
        bail!("--url must be a loopback address, not {addr}: load stays on this machine");
    }
    Ok(addr)
}

fn validate(a: &Args) -> Result<()> {
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

struct Session {
    args: Args,
    addr: SocketAddr,
    catalog: setup::Catalog,
    tokens: Vec<String>,
    tokens_expire: Instant,
    groups: Vec<procs::Group>,
}

impl Session {
    fn world(&self) -> Result<Arc<World>> {
        Ok(Arc::new(World {
            weights: self.args.mix.clone(),
            product_ids: self.catalog.product_ids.clone(),
            browse_paths: self.catalog.browse_paths.clone(),
            search_paths: self.catalog.search_paths.clone(),
            shoppers: self
                .tokens
                .iter()
                .map(|t| Shopper::new(t))
                .collect::<Result<_>>()?,
            card_token: self.args.card_token.clone(),
        }))
    }

    /// Signs the shoppers in again when their tokens would expire during the next run.
    async fn fresh_tokens(&mut self) -> Result<()> {
        let needed = Duration::from_secs_f64(self.args.duration + self.args.warmup + 60.0);
        if self.tokens_expire > Instant::now() + needed {
            return Ok(());
        }
        eprintln!("signing the shoppers in again (their tokens would expire during the next run)");
        let (tokens, expire, _) = setup::shoppers(
            self.addr,
            &self.args.user_prefix,
            self.args.users,
            self.args.signin_concurrency,
            false, // registered at the start: signing in again is enough
        )
        .await?;
        self.tokens = tokens;
        self.tokens_expire = expire;
        Ok(())
    }

    async fn run(&mut self, mode: Mode, rate: Option<f64>, label: &str) -> Result<RunResult> {
        self.fresh_tokens().await?;
        let spec = Spec {
            mode,
            rate,
            duration_s: self.args.duration,
            warmup_s: self.args.warmup,
            connections: self.args.connections,
        };
        run::run(self.world()?, self.addr, spec, self.groups.clone(), label).await
    }
}

/// What the arguments name, checked before anything runs: nginx's address and the process
/// groups to measure.
fn targets(args: &Args) -> Result<(SocketAddr, Vec<procs::Group>)> {
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

async fn main_inner(args: Args, addr: SocketAddr, groups: Vec<procs::Group>) -> Result<bool> {
    eprintln!("reading the catalog through {}", args.url);
    let mut conn = conn::Conn::new(addr)?;
    let catalog = setup::catalog(&mut conn).await?;
    eprintln!(
        "catalog: {} products, {} browse pages, {} search words",
        catalog.product_ids.len(),
        catalog.browse_paths.len(),
        catalog.search_paths.len()
    );
    if let (Some(email), Some(file)) = (&args.admin_email, &args.admin_password_file) {
        let password =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        setup::top_up_stock(
            &mut conn,
            email,
            password.trim_end(),
            &catalog.product_ids,
            args.stock_top_up,
        )
        .await?;
        eprintln!("stock of every product raised by {}", args.stock_top_up);
    }
    eprintln!(
        "preparing {} shoppers ({} sign-ins at a time)",
        args.users, args.signin_concurrency
    );
    let (tokens, tokens_expire, signin) = setup::shoppers(
        addr,
        &args.user_prefix,
        args.users,
        args.signin_concurrency,
        true,
    )
    .await?;
    println!("{}", report::signin(&signin));

    let mut s = Session {
        args: args.clone(),
        addr,
        catalog,
        tokens,
        tokens_expire,
        groups,
    };
    let mut runs: Vec<RunResult> = vec![];
    let mut sweep_out = None;
    if args.sweep {
        let mut rate = args.rate;
        let mut held = None;
        let stopped_because;
        loop {
            let r = s
                .run(Mode::Open, Some(rate), &format!("sweep {rate:.0}/s"))
                .await?;
            let o = &r.summary.overall;
            let ok_rate = o.rps >= rate * 0.97;
            println!(
                "sweep: {:>7} req/s offered: {:>7.0} answered/s, p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms, errors {}{}",
                rate,
                o.rps,
                o.p50_ms,
                o.p99_ms,
                o.max_ms,
                r.errors,
                if o.p99_ms <= args.p99_limit_ms && r.errors == 0 && ok_rate {
                    "  held"
                } else {
                    "  NOT held"
                }
            );
            let (p99, errors) = (o.p99_ms, r.errors);
            runs.push(r);
            if p99 > args.p99_limit_ms {
                stopped_because = format!(
                    "p99 {p99:.1} ms passed {} ms at {rate} req/s",
                    args.p99_limit_ms
                );
                break;
            }
            if errors > 0 {
                stopped_because = format!("{errors} errors at {rate} req/s");
                break;
            }
            if !ok_rate {
                stopped_because =
                    format!("fewer than 97 % of the {rate} req/s offered were answered");
                break;
            }
            held = Some(rate);
            rate += args.sweep_step;
            if rate > args.sweep_max {
                stopped_because = format!("reached --sweep-max {}", args.sweep_max);
                break;
            }
        }
        if let Some(last) = runs.last() {
            print!("{}", report::table(last, args.users));
        }
        match held {
            Some(h) => println!(
                "\nhighest rate that held (p99 <= {} ms, no errors): {h} req/s; stopped: {stopped_because}",
                args.p99_limit_ms
            ),
            None => println!("\nno rate held (p99 <= {} ms, no errors); stopped: {stopped_because}", args.p99_limit_ms),
        }
        if let Some(svg) = &args.svg {
            report::plot(
                svg,
                &runs,
                args.p99_limit_ms,
                held,
                &format!(
                    "mall shopper mix: latency vs offered load ({} s per step)",
                    args.duration
                ),
            )?;
            println!("plot: {}", svg.display());
        }
        sweep_out = Some(SweepOut {
            p99_limit_ms: args.p99_limit_ms,
            step: args.sweep_step,
            held_rate: held,
            stopped_because,
        });
    } else {
        if matches!(args.mode, ModeArg::Closed | ModeArg::Both) {
            let r = s.run(Mode::Closed, None, "closed loop").await?;
            print!("{}", report::table(&r, args.users));
            runs.push(r);
        }
        if matches!(args.mode, ModeArg::Open | ModeArg::Both) {
            let r = s
                .run(
                    Mode::Open,
                    Some(args.rate),
                    &format!("open loop {:.0}/s", args.rate),
                )
                .await?;
            print!("{}", report::table(&r, args.users));
            runs.push(r);
        }
    }

    if let Some(path) = &args.json {
        let out = Output {
            tool: "mall-load",
            version: env!("CARGO_PKG_VERSION"),
            url: &args.url,
            weights: &args.mix,
            users: args.users,
            products: s.catalog.product_ids.len(),
            browse_paths: s.catalog.browse_paths.len(),
            search_paths: s.catalog.search_paths.len(),
            signin: &signin,
            runs: &runs,
            sweep: sweep_out.clone(),
        };
        std::fs::write(path, serde_json::to_vec_pretty(&out)?)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("results: {}", path.display());
    }
    let errors: u64 = runs.iter().map(|r| r.errors).sum();
    let failed = match &sweep_out {
        Some(sw) => sw.held_rate.is_none(),
        None => errors > 0,
    };
    Ok(!(args.fail_on_errors && failed))
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let (addr, groups) = match validate(&args).and_then(|()| targets(&args)) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("mall-load: {e:#}");
            return std::process::ExitCode::from(2);
        }
    };
    let built = if args.threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()
    };
    let runtime = match built {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mall-load: cannot start the runtime: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    match runtime.block_on(main_inner(args, addr, groups)) {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("mall-load: the run had errors");
            std::process::ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("mall-load: {e:#}");
            std::process::ExitCode::from(1)
        }
    }
}
