//! The serving loop every service runs: hyper 1 connections driving the service's warp
//! filter, with per request the trace id (kept from `X-Trace-Id` if valid, else made), a
//! request span, the task-local trace id, `X-Trace-Id` and `X-Served-By` on the response,
//! metrics by route and status, one access line; and graceful shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{HeaderValue, Request};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tracing::Instrument;
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::Filter;

use crate::config::ServiceInfo;
use crate::http::{recover, Unmatched};
use crate::ops::{self, Metrics, Readiness};
use crate::trace::{self, TraceId};

/// Everything `serve` needs besides the listener and the shutdown signal.
pub struct App {
    pub info: ServiceInfo,
    pub routes: BoxedFilter<(Response,)>,
    pub readiness: Readiness,
    pub metrics: Arc<Metrics>,
    pub grace: Duration,
}

impl App {
    /// The usual app: ops routes checking `pool` and `redis`, request metrics on `metrics`.
    pub fn new(
        base: &crate::config::ServiceBase,
        routes: BoxedFilter<(Response,)>,
        pool: &mysql_async::Pool,
        redis: &crate::cache::Redis,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            info: base.info.clone(),
            routes,
            readiness: Readiness {
                mysql: Some(pool.clone()),
                redis: Some(redis.clone()),
            },
            metrics,
            grace: base.grace,
        }
    }
}

/// Serves until `shutdown`, then closes the database pool.
pub async fn serve_and_close(
    app: App,
    pool: mysql_async::Pool,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let result = serve(app, listener, shutdown).await;
    pool.disconnect().await.ok();
    result
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish for up to the
/// grace period.
pub async fn serve(
    app: App,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let App {
        info,
        routes,
        readiness,
        metrics,
        grace,
    } = app;
    let served_by = HeaderValue::from_str(&info.served_by())?;
    let filter = ops::routes(info.clone(), readiness, metrics.clone())
        .or(routes)
        .unify()
        .recover(recover)
        .unify();
    let svc = warp::service(filter);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let local = listener.local_addr()?;
    tracing::info!(addr = %local, served_by = %info.served_by(), "listening");
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let svc = svc.clone();
                let metrics = metrics.clone();
                let served_by = served_by.clone();
                let handler = service_fn(move |req: Request<Incoming>| {
                    let mut svc = svc.clone();
                    let metrics = metrics.clone();
                    let served_by = served_by.clone();
                    async move { handle(&mut svc, req, &metrics, served_by).await }
                });
                let conn = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), handler);
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
        grace_secs = grace.as_secs(),
        "shutting down; draining in-flight requests"
    );
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("drained; bye"),
        () = tokio::time::sleep(grace) => tracing::warn!("grace period over with requests still in flight"),
    }
    Ok(())
}

async fn handle<S>(
    svc: &mut S,
    mut req: Request<Incoming>,
    metrics: &Metrics,
    served_by: HeaderValue,
) -> Result<Response, Infallible>
where
    S: tower_service::Service<Request<Incoming>, Response = Response, Error = Infallible>,
{
    let start = Instant::now();
    let id = TraceId::from_headers_or_new(req.headers());
    if let Ok(v) = HeaderValue::from_str(id.as_str()) {
        req.headers_mut().insert(trace::HEADER, v);
    }
    let method = req.method().as_str().to_owned();
    // HEAD is GET without the body (hyper drops the body for a HEAD request on its own), so
    // every GET route answers HEAD as the auth policy already allows.
    if req.method() == http::Method::HEAD {
        *req.method_mut() = http::Method::GET;
    }
    let path = req.uri().path().to_owned();
    let route = route_label(&path);
    let span = tracing::info_span!(
        "request",
        trace_id = %id,
        method = %method,
        route = %route,
        user_id = tracing::field::Empty,
    );
    let fut = svc.call(req);
    let mut resp = match trace::scope(id.clone(), fut.instrument(span.clone())).await {
        Ok(resp) => resp,
        Err(never) => match never {},
    };
    let status = resp.status().as_u16();
    let unmatched = resp.extensions().get::<Unmatched>().is_some();
    // Every 405 names the methods served on its path (RFC 9110), from mall.toml's routes.
    if unmatched && resp.status() == http::StatusCode::METHOD_NOT_ALLOWED {
        if let Some(v) =
            crate::http::allowed_methods(&path).and_then(|a| HeaderValue::from_str(&a).ok())
        {
            resp.headers_mut().insert(http::header::ALLOW, v);
        }
    }
    let route = if unmatched {
        "unmatched".to_owned()
    } else {
        route
    };
    let elapsed = start.elapsed();
    metrics.observe(&route, &method, status, elapsed);
    if let Ok(v) = HeaderValue::from_str(id.as_str()) {
        resp.headers_mut().insert(trace::HEADER, v);
    }
    resp.headers_mut().insert("x-served-by", served_by);
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if ops::is_ops_path(&path) {
            tracing::debug!(status, latency_ms, "request completed");
        } else if status >= 500 {
            tracing::error!(status, latency_ms, "request completed");
        } else {
            tracing::info!(status, latency_ms, "request completed");
        }
    });
    Ok(resp)
}

/// The route pattern for metrics and logs: numeric segments become `{id}`, so labels stay
/// few and a path never carries user data.
pub fn route_label(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for seg in path.split('/').skip(1) {
        out.push('/');
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str("{id}");
        } else if seg.len() > 40
            || !seg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            out.push_str("{x}");
        } else {
            out.push_str(seg);
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// What every service's `main` does after parsing its config: JSON telemetry, bind, run
/// until SIGTERM/SIGINT, and exit 1 (with the cause logged) if the service fails, 64 if
/// the address cannot be bound.
pub async fn launch<F, Fut>(info: &ServiceInfo, listen: std::net::SocketAddr, run: F)
where
    F: FnOnce(TcpListener, std::pin::Pin<Box<dyn Future<Output = ()> + Send>>) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    if let Err(e) = crate::telemetry::init(&info.identity()) {
        eprintln!("{e:#}");
        std::process::exit(1);
    }
    let listener = match TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => crate::config::exit_bad_config(&format!("cannot listen on {listen}: {e}")),
    };
    if let Err(e) = run(listener, Box::pin(shutdown_signal())).await {
        tracing::error!(error = format!("{e:#}"), "{} service stopped", info.name);
        crate::telemetry::shutdown();
        std::process::exit(1);
    }
    crate::telemetry::shutdown();
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received"),
        () = term => tracing::info!("SIGTERM received"),
    }
}

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "server_serve_tests.rs"]
mod serve_tests;
