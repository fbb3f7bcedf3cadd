//! mall-load: the shopper-mix load generator behind `scripts/bench mix`
//! (docs/performance.md, "Shopper mix").

/// The same allocator as the services (services/runtime): the generator's own CPU per
/// request is part of what the benchmark reports.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod args;
mod bridge;
mod conn;
mod fixed;
mod mix;
mod procs;
mod report;
mod run;
mod session;
mod setup;
mod stats;
mod steady;

use std::net::SocketAddr;

use anyhow::{Context, Result};
use clap::Parser;
use serde::Serialize;

use crate::args::{targets, validate, Args, ModeArg};
use crate::mix::Weights;
use crate::run::{Mode, RunResult};
use crate::session::Session;

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
    let work = async {
        if args.steady.steady.is_some() {
            return steady::run(args.steady.clone(), addr).await;
        }
        match args.fixed.shape {
            fixed::Shape::Mix => main_inner(args, addr, groups).await,
            _ => fixed::main(args, addr, groups).await,
        }
    };
    match runtime.block_on(work) {
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
