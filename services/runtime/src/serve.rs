//! The one HTTP/1 serving loop of every mall process (the warp services through
//! `mall-http`, auth-proxy with its own hyper service): keep-alive connections (nginx holds
//! them open), `TCP_NODELAY`, a short back-off when accept fails, and on shutdown no new
//! connection while in-flight requests finish for up to the grace period. Plus
//! [`launch`], what every `main` does once its flags are parsed.

use std::error::Error as StdError;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use hyper::body::{Body, Incoming};
use hyper::server::conn::http1;
use hyper::service::HttpService;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::config::{exit_bad_config, BadConfig, ServiceInfo};
use crate::telemetry;

/// How connections are served.
#[derive(Clone, Copy, Debug)]
pub struct Serving {
    /// How long in-flight requests may run after the shutdown signal.
    pub grace: Duration,
    /// The read buffer's limit per connection (hyper's default, ~400 KiB, when `None`).
    pub max_buf_size: Option<usize>,
}

/// The shutdown signal a process's run function gets from [`launch`].
pub type Shutdown = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Serves `service` (cloned per connection) on `listener` until `shutdown` resolves, then
/// drains in-flight requests for up to `serving.grace`.
pub async fn serve<S>(
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
    serving: Serving,
    service: S,
) where
    S: HttpService<Incoming> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::ResBody: Send + 'static,
    <S::ResBody as Body>::Data: Send,
    <S::ResBody as Body>::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // EMFILE and friends: back off briefly instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let mut builder = http1::Builder::new();
                builder.keep_alive(true);
                if let Some(max) = serving.max_buf_size {
                    builder.max_buf_size(max);
                }
                let conn = builder.serve_connection(TokioIo::new(stream), service.clone());
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tracing::info!(
        grace_secs = serving.grace.as_secs(),
        "shutting down; draining in-flight requests"
    );
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("drained; bye"),
        () = tokio::time::sleep(serving.grace) => {
            tracing::warn!("grace period over with requests still in flight");
        }
    }
}

/// What every `main` does after parsing its flags: JSON telemetry, bind `listen`, `run`
/// until SIGTERM/SIGINT. Exits 64 (one line on stderr) when the address cannot be bound or
/// `run` fails with a [`BadConfig`] anywhere in its chain, 1 (the cause logged) on any
/// other failure.
pub async fn launch<F, Fut>(info: &ServiceInfo, listen: SocketAddr, run: F)
where
    F: FnOnce(TcpListener, Shutdown) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    if let Err(e) = telemetry::init(&info.identity()) {
        eprintln!("{e:#}");
        std::process::exit(1);
    }
    let listener = match TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => exit_bad_config(&format!("cannot listen on {listen}: {e}")),
    };
    if let Err(e) = run(listener, Box::pin(shutdown_signal())).await {
        if let Some(bad) = e.chain().find_map(|c| c.downcast_ref::<BadConfig>()) {
            exit_bad_config(&bad.0);
        }
        tracing::error!(error = format!("{e:#}"), "{} stopped", info.name);
        telemetry::shutdown();
        std::process::exit(1);
    }
    telemetry::shutdown();
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    match (term, int) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => tracing::info!("SIGTERM received"),
                _ = int.recv() => tracing::info!("SIGINT received"),
            }
        }
        _ => {
            // Without signal handlers the process can still be killed; serve on.
            tracing::warn!("cannot install the SIGTERM/SIGINT handlers");
            std::future::pending::<()>().await
        }
    }
}
