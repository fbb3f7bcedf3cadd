//! A fixed run: `--connections` workers, each with its own keep-alive connection and
//! latency histogram, in a closed loop until the window ends; the processes sampled over
//! the measured window (procs.rs, the one sampler).

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use hdrhistogram::Histogram;

use super::out::{Errors, FixedResult, Latency};
use super::Requests;
use crate::args::{Args, ModeArg};
use crate::conn::{is_connect_error, Conn};
use crate::procs::{self, Group, Sampler};

/// A request not answered within this long counts as a timeout (wrk's default is 2 s; the
/// services' own deadlines are longer, so a slow answer is measured, not dropped).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Highest latency recorded exactly (µs); slower answers are clamped to it.
const MAX_US: u64 = 60_000_000;

/// What one worker saw in the measured window.
struct Tally {
    latency: Histogram<u64>,
    statuses: std::collections::BTreeMap<u16, u64>,
    errors: Errors,
    body_bytes: u64,
    opened: u64,
    last_error: Option<String>,
}

// Constant, valid bounds (1 µs .. 60 s, 3 digits): the constructor cannot refuse them.
#[allow(clippy::expect_used)]
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_US, 3).expect("valid histogram bounds")
}

struct Window {
    measure_from: Instant,
    end: Instant,
}

async fn worker(
    addr: SocketAddr,
    requests: Arc<Requests>,
    counter: Arc<AtomicU64>,
    done: Arc<AtomicU64>,
    window: Arc<Window>,
) -> Result<Tally> {
    let mut conn = Conn::new(addr)?;
    let mut t = Tally {
        latency: histogram(),
        statuses: Default::default(),
        errors: Errors::default(),
        body_bytes: 0,
        opened: 0,
        last_error: None,
    };
    while Instant::now() < window.end {
        let call = requests.call(counter.fetch_add(1, Ordering::Relaxed));
        let sent = Instant::now();
        let answer = tokio::time::timeout(REQUEST_TIMEOUT, conn.send(&call)).await;
        if sent < window.measure_from {
            continue;
        }
        let us = u64::try_from(sent.elapsed().as_micros()).unwrap_or(MAX_US);
        match answer {
            Ok(Ok((status, body))) => {
                let _ = t.latency.record(us.clamp(1, MAX_US));
                *t.statuses.entry(status.as_u16()).or_default() += 1;
                if status.as_u16() >= 400 {
                    t.errors.status += 1;
                }
                t.body_bytes += body.len() as u64;
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok(Err(e)) => {
                if is_connect_error(&e) {
                    t.errors.connect += 1;
                    // Nothing listens: do not spin.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                } else {
                    t.errors.io += 1;
                }
                t.last_error = Some(format!("{e:#}"));
            }
            Err(_) => {
                t.errors.timeout += 1;
                t.last_error = Some(format!("no answer within {REQUEST_TIMEOUT:?}"));
            }
        }
    }
    t.opened = conn.opened;
    Ok(t)
}

/// Progress lines while the window lasts, and the processes' usage over it.
async fn watch(groups: Vec<Group>, window: &Window, done: &AtomicU64) -> procs::Usage {
    tokio::time::sleep_until(window.measure_from.into()).await;
    let mut sampler = Sampler::start(groups);
    let tty = std::io::stderr().is_terminal();
    let every = Duration::from_secs(if tty { 1 } else { 5 });
    let total = (window.end - window.measure_from).as_secs_f64();
    while Instant::now() < window.end {
        procs::sample_until(&mut sampler, (Instant::now() + every).min(window.end)).await;
        let line = format!(
            "  {:>4.0}/{total:.0} s  {} answered",
            (Instant::now() - window.measure_from).as_secs_f64(),
            done.load(Ordering::Relaxed)
        );
        if tty {
            eprint!("\r{line}   ");
        } else {
            eprintln!("{line}");
        }
    }
    if tty {
        eprintln!();
    }
    sampler.finish()
}

/// Runs the fixed shape the arguments name; true when done (and, with --fail-on-errors,
/// without errors).
pub async fn main(args: Args, addr: SocketAddr, groups: Vec<Group>) -> Result<bool> {
    if args.mode == ModeArg::Open {
        bail!("--shape get|checkout runs a closed loop only (wrk's model): drop --mode open");
    }
    let requests = Arc::new(Requests::new(&args)?);
    let start = Instant::now();
    let window = Arc::new(Window {
        measure_from: start + Duration::from_secs_f64(args.warmup),
        end: start + Duration::from_secs_f64(args.warmup + args.duration),
    });
    let counter = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..args.connections)
        .map(|_| {
            tokio::spawn(worker(
                addr,
                requests.clone(),
                counter.clone(),
                done.clone(),
                window.clone(),
            ))
        })
        .collect();
    let mut usage = watch(groups, &window, &done).await;
    let mut all = histogram();
    let mut statuses = std::collections::BTreeMap::new();
    let (mut errors, mut bytes, mut opened, mut last_error) = (Errors::default(), 0, 0, None);
    for w in workers {
        let t = w.await.context("a load worker panicked")??;
        let _ = all.add(&t.latency);
        for (s, n) in t.statuses {
            *statuses.entry(s).or_default() += n;
        }
        errors.connect += t.errors.connect;
        errors.io += t.errors.io;
        errors.timeout += t.errors.timeout;
        errors.status += t.errors.status;
        bytes += t.body_bytes;
        opened += t.opened;
        last_error = t.last_error.or(last_error);
    }
    let requests_done = all.len();
    usage.per_request(requests_done);
    let result = FixedResult {
        tool: "mall-load",
        version: env!("CARGO_PKG_VERSION"),
        shape: requests.shape,
        url: args.url.clone(),
        connections: args.connections,
        threads: args.threads,
        requests: requests_done,
        duration_us: (args.duration * 1e6) as u64,
        body_bytes: bytes,
        errors,
        statuses,
        latency_us: Latency::of(&all),
        connections_opened: opened,
        last_error,
        usage,
    };
    println!("{}", result.line());
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&result)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let failed = result.errors.socket() > 0 || result.requests == 0;
    Ok(!(args.fail_on_errors && failed))
}
