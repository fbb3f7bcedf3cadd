//! One measured run of the mix, open loop (a fixed arrival rate) or closed loop (a fixed
//! number of connections, each sending its next request when the last one is answered).
//!
//! Open loop measures each request from the moment it was due, not from when a connection
//! got round to sending it, so a slow server shows as latency instead of fewer requests
//! (no coordinated omission): arrivals go into one queue at the rate asked, and every
//! connection takes the next due request from it.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::conn::Conn;
use crate::mix::World;
use crate::procs::{Group, Sampler, Usage};
use crate::stats::{Stats, Summary};

/// A request not answered within this long counts as a transport error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// After the run's end, queued requests still get this long; the rest are unfinished.
const DRAIN_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Open,
    Closed,
}

#[derive(Debug, Clone, Serialize)]
pub struct Spec {
    pub mode: Mode,
    /// Arrivals per second (open loop only).
    pub rate: Option<f64>,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub connections: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    pub spec: Spec,
    pub summary: Summary,
    pub usage: Usage,
    /// Open loop: arrivals that found the queue full (the generator could not keep up);
    /// counted as errors.
    pub dropped: u64,
    /// Requests due in the run still unanswered DRAIN_GRACE after it; counted as errors.
    pub unfinished: u64,
    pub connections_opened: u64,
    /// Errors of every kind: unexpected statuses, transport errors, dropped, unfinished.
    pub errors: u64,
}

struct Shared {
    /// The run's statistics, shared by every worker: one set of histograms (a few hundred
    /// kB per route) however many connections. Held only to record one answer.
    stats: std::sync::Mutex<Stats>,
    done: AtomicU64,
    errors: AtomicU64,
    dropped: AtomicU64,
}

/// What one connection's worker counts besides the shared statistics.
struct Worker {
    unfinished: u64,
    opened: u64,
}

/// Sends one planned request and records it if it was due inside the measured window.
async fn one(
    world: &World,
    conn: &mut Conn,
    rng: &mut fastrand::Rng,
    due: Instant,
    measure_from: Instant,
    shared: &Shared,
) {
    let planned = world.plan(rng);
    let answer = tokio::time::timeout(REQUEST_TIMEOUT, conn.send(&planned.call)).await;
    let latency = due.elapsed();
    let (status, transport_error) = match answer {
        Ok(Ok((status, _))) => (Some(status), None),
        Ok(Err(e)) => (None, Some(format!("{e:#}"))),
        Err(_) => (None, Some("no answer within 30 s".to_string())),
    };
    world.settle(&planned, status);
    if due >= measure_from {
        if let Ok(mut stats) = shared.stats.lock() {
            stats.record(planned.route, latency, status.map(|s| s.as_u16()));
            if planned.from_cart && status.is_some_and(|s| s == planned.route.expected()) {
                stats.checkouts_from_cart += 1;
            }
            if transport_error.is_some() {
                stats.last_transport_error = transport_error;
            }
        }
        shared.done.fetch_add(1, Ordering::Relaxed);
        if status != Some(planned.route.expected()) {
            shared.errors.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// How many arrivals are due `elapsed` after the start at `rate`: request i is due at
/// i / rate, so request 0 at once and request i as soon as its time comes (not one
/// interval late, which would add 1 / rate to every latency).
fn due_by(elapsed: Duration, rate: f64) -> u64 {
    (elapsed.as_secs_f64() * rate) as u64 + 1
}

pub async fn run(
    world: Arc<World>,
    addr: SocketAddr,
    spec: Spec,
    groups: Vec<Group>,
    label: &str,
) -> Result<RunResult> {
    let start = Instant::now();
    let measure_from = start + Duration::from_secs_f64(spec.warmup_s);
    let end = measure_from + Duration::from_secs_f64(spec.duration_s);
    let shared = Arc::new(Shared {
        stats: std::sync::Mutex::new(Stats::default()),
        done: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        dropped: AtomicU64::new(0),
    });
    let rate = spec.rate.unwrap_or(0.0);
    let queue_cap = ((rate * 5.0) as usize).max(1000);
    let (tx, rx) = async_channel::bounded::<Instant>(queue_cap);
    let mut workers = Vec::with_capacity(spec.connections);
    for i in 0..spec.connections {
        let world = world.clone();
        let shared = shared.clone();
        let rx = rx.clone();
        let mode = spec.mode;
        workers.push(tokio::spawn(async move {
            let mut conn = Conn::new(addr)?;
            let mut rng = fastrand::Rng::with_seed(0x5eed_0000 + i as u64);
            let mut w = Worker {
                unfinished: 0,
                opened: 0,
            };
            match mode {
                Mode::Open => {
                    while let Ok(due) = rx.recv().await {
                        if Instant::now() > end + DRAIN_GRACE {
                            w.unfinished += 1;
                            continue;
                        }
                        one(&world, &mut conn, &mut rng, due, measure_from, &shared).await;
                    }
                }
                Mode::Closed => {
                    while Instant::now() < end {
                        one(
                            &world,
                            &mut conn,
                            &mut rng,
                            Instant::now(),
                            measure_from,
                            &shared,
                        )
                        .await;
                    }
                }
            }
            w.opened = conn.opened;
            anyhow::Ok(w)
        }));
    }
    drop(rx);

    // Arrivals (open loop): every millisecond, queue all that are due by now, each with
    // its exact due time.
    let dispatcher = {
        let shared = shared.clone();
        let mode = spec.mode;
        tokio::spawn(async move {
            if mode == Mode::Open && rate > 0.0 {
                let mut i: u64 = 0;
                loop {
                    let now = Instant::now();
                    if now >= end {
                        break;
                    }
                    let due_count = due_by(now - start, rate);
                    while i < due_count {
                        let due = start + Duration::from_secs_f64(i as f64 / rate);
                        if tx.try_send(due).is_err() && due >= measure_from {
                            shared.dropped.fetch_add(1, Ordering::Relaxed);
                        }
                        i += 1;
                    }
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
            drop(tx);
        })
    };

    // Progress and process sampling over the measured window.
    tokio::time::sleep_until(measure_from.into()).await;
    let mut sampler = Sampler::start(groups);
    let tty = std::io::stderr().is_terminal();
    let every = if tty {
        Duration::from_secs(1)
    } else {
        Duration::from_secs(5)
    };
    let mut last = (Instant::now(), 0u64);
    while Instant::now() < end {
        let next = (Instant::now() + every).min(end);
        crate::procs::sample_until(&mut sampler, next).await;
        let done = shared.done.load(Ordering::Relaxed);
        let now = Instant::now();
        let current = (done - last.1) as f64 / (now - last.0).as_secs_f64().max(1e-3);
        last = (now, done);
        let line = format!(
            "  {label}: {:>4.0}/{:.0} s  {done} answered  {current:>7.0} req/s now  errors {}  dropped {}",
            (now - measure_from).as_secs_f64(),
            spec.duration_s,
            shared.errors.load(Ordering::Relaxed),
            shared.dropped.load(Ordering::Relaxed),
        );
        if tty {
            eprint!("\r{line}   ");
        } else {
            eprintln!("{line}");
        }
    }
    let mut usage = sampler.finish();
    if tty {
        eprintln!();
    }
    dispatcher.await.context("the arrival task panicked")?;
    let mut unfinished = 0;
    let mut opened = 0;
    for w in workers {
        let w = w.await.context("a load worker panicked")??;
        unfinished += w.unfinished;
        opened += w.opened;
    }
    let summary = shared
        .stats
        .lock()
        .map_err(|_| anyhow::anyhow!("a load worker panicked while recording"))?
        .summary(spec.duration_s);
    usage.per_request(summary.overall.requests);
    let dropped = shared.dropped.load(Ordering::Relaxed);
    let errors = summary.errors() + dropped + unfinished;
    Ok(RunResult {
        spec,
        summary,
        usage,
        dropped,
        unfinished,
        connections_opened: opened,
        errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrivals_are_queued_when_due_not_an_interval_later() {
        let rate = 60.0;
        assert_eq!(due_by(Duration::ZERO, rate), 1, "request 0 at once");
        assert_eq!(due_by(Duration::from_micros(16_600), rate), 1);
        assert_eq!(
            due_by(Duration::from_micros(16_700), rate),
            2,
            "request 1 at 1/60 s"
        );
        assert_eq!(due_by(Duration::from_secs(10), 5000.0), 50_001);
    }
}
