//! `mall-load --steady close|keepalive`: the steady background load of the blue/green tests
//! (`mall stage bluegreen`, `bg-compose`), which wrk and scripts/lib/bluegreen-load.lua
//! generated before. A fixed round of routes that all answer 2xx (a catalog page, a product,
//! the categories, the cart and the profile with a token), each connection pausing between
//! requests so the load stays steady and well under the machine's cores, until the stop file
//! appears (or SIGINT/SIGTERM, or --steady-max-seconds); then every connection finishes its
//! request in flight and the summary is written. Every reset, refused connection, close
//! under the client and timeout is counted as a failed request (tally.rs).

mod client;
#[cfg(test)]
mod client_tests;
mod tally;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use http::HeaderValue;

use client::Plan;
use tally::Tally;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SteadyMode {
    /// Every request on a new connection (`Connection: close`).
    Close,
    /// Requests reuse their connections (as browsers and service clients do).
    Keepalive,
}

/// The steady mode's flags (only read with --steady).
#[derive(clap::Args, Debug, Clone)]
pub struct SteadyArgs {
    /// Instead of the shopper mix: the blue/green tests' steady load (close: a new
    /// connection per request; keepalive: reused connections), until --steady-stop-file
    /// exists; writes its counts to --steady-json.
    #[arg(long, value_enum)]
    pub steady: Option<SteadyMode>,
    /// Steady: connections, each one request at a time.
    #[arg(long, default_value_t = 4)]
    pub steady_connections: usize,
    /// Steady: pause after each answer (ms).
    #[arg(long, default_value_t = 25)]
    pub steady_pause_ms: u64,
    /// Steady: a request without a complete answer after this long is a timeout (s).
    #[arg(long, default_value_t = 5.0)]
    pub steady_timeout: f64,
    /// Steady: a file holding the bearer token the cart and profile requests carry.
    #[arg(long)]
    pub steady_token_file: Option<PathBuf>,
    /// Steady: the product whose page is requested.
    #[arg(long, default_value = "1")]
    pub steady_product_id: String,
    /// Steady: the User-Agent (nginx's access log tells the load's requests by it).
    #[arg(long, default_value = "mall-steady")]
    pub steady_agent: String,
    /// Steady: stop when this file exists.
    #[arg(long)]
    pub steady_stop_file: Option<PathBuf>,
    /// Steady: stop after this long at the latest (s).
    #[arg(long, default_value_t = 600.0)]
    pub steady_max_seconds: f64,
    /// Steady: write the summary here (JSON), else on stdout.
    #[arg(long)]
    pub steady_json: Option<PathBuf>,
}

fn check(a: &SteadyArgs) -> Result<()> {
    if a.steady_connections == 0 || a.steady_connections > 1000 {
        bail!("--steady-connections must be 1..1000");
    }
    if a.steady_pause_ms > 60_000 {
        bail!("--steady-pause-ms must be 0..60000");
    }
    if !(a.steady_timeout > 0.0 && a.steady_timeout <= 120.0) {
        bail!("--steady-timeout must be in (0, 120] seconds");
    }
    if !(a.steady_max_seconds >= 1.0 && a.steady_max_seconds <= 86_400.0) {
        bail!("--steady-max-seconds must be 1..86400");
    }
    if a.steady_product_id.is_empty()
        || !a
            .steady_product_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        bail!("--steady-product-id must be an id (letters, digits, -)");
    }
    Ok(())
}

fn plan(a: &SteadyArgs, mode: SteadyMode, addr: SocketAddr) -> Result<Plan> {
    let bearer = match &a.steady_token_file {
        Some(file) => {
            let token = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            Some(
                HeaderValue::from_str(&format!("Bearer {}", token.trim()))
                    .context("the token file holds no valid header value")?,
            )
        }
        None => None,
    };
    let routes = vec![
        ("/api/products?size=5".to_owned(), false),
        (format!("/api/products/{}", a.steady_product_id), false),
        ("/api/categories".to_owned(), false),
        ("/api/cart".to_owned(), true),
        ("/api/users/me".to_owned(), true),
    ];
    Ok(Plan {
        addr,
        host: HeaderValue::from_str(&addr.to_string()).context("host header")?,
        agent: HeaderValue::from_str(&a.steady_agent).context("--steady-agent")?,
        bearer,
        routes,
        close: mode == SteadyMode::Close,
        pause: Duration::from_millis(a.steady_pause_ms),
        timeout: Duration::from_secs_f64(a.steady_timeout),
    })
}

/// Raises `stop` when the stop file appears, on SIGINT/SIGTERM, or at the deadline.
async fn watch_stop(a: SteadyArgs, stop: Arc<AtomicBool>) {
    let deadline = Instant::now() + Duration::from_secs_f64(a.steady_max_seconds);
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    loop {
        if a.steady_stop_file.as_ref().is_some_and(|f| f.exists()) || Instant::now() >= deadline {
            break;
        }
        let term_fired = async {
            match term.as_mut() {
                Some(t) => t.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            _ = tokio::signal::ctrl_c() => break,
            _ = term_fired => break,
        }
    }
    stop.store(true, Ordering::Relaxed);
}

/// Runs the steady load; true when the summary was written (the verdict is the caller's).
pub async fn run(a: SteadyArgs, addr: SocketAddr) -> Result<bool> {
    let Some(mode) = a.steady else {
        bail!("--steady is not set");
    };
    check(&a)?;
    let plan = Arc::new(plan(&a, mode, addr)?);
    let stop = Arc::new(AtomicBool::new(false));
    let name = if plan.close { "close" } else { "keepalive" };
    eprintln!(
        "steady load ({name}): {} connections, {} ms between requests, {} routes through {addr}",
        a.steady_connections,
        a.steady_pause_ms,
        plan.routes.len()
    );
    let started = Instant::now();
    let watcher = tokio::spawn(watch_stop(a.clone(), stop.clone()));
    let workers: Vec<_> = (0..a.steady_connections)
        .map(|no| tokio::spawn(client::connection(no + 1, plan.clone(), stop.clone())))
        .collect();
    let mut total = Tally::default();
    for w in workers {
        total.merge(&w.await.context("a load connection panicked")?);
    }
    watcher.abort();
    let summary = total.summary(name, started.elapsed());
    let json = serde_json::to_string(&summary)?;
    match &a.steady_json {
        Some(path) => std::fs::write(path, format!("{json}\n"))
            .with_context(|| format!("writing {}", path.display()))?,
        None => println!("{json}"),
    }
    eprintln!(
        "steady load ({name}): sent {}, answered {}, non-2xx {}, socket errors {} in {:.0} s",
        summary.sent,
        summary.answered,
        summary.non_2xx,
        summary.errors.total(),
        summary.duration_s
    );
    Ok(true)
}
