//! The serving loop every service runs: hyper 1 connections driving the service's warp
//! filter, with per request the trace id (kept from `X-Trace-Id` if valid, else made), a
//! request span, the task-local trace id, `X-Trace-Id` and `X-Served-By` on the response,
//! metrics by route and status, one access line; graceful shutdown is the runtime's loop.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{HeaderValue, Request};
use hyper::body::Incoming;
use hyper::service::service_fn;
use tokio::net::TcpListener;
use tracing::Instrument;
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::Filter;

use mall_runtime::config::ServiceInfo;
use mall_runtime::serve::Serving;
use mall_runtime::trace::{self, TraceId};

use crate::filters::{recover, Unmatched};
use crate::ops::{self, Metrics, Readiness};

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
        redis: &mall_store::cache::Redis,
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
/// grace period (the runtime's loop, `mall_runtime::serve`).
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
    tracing::info!(addr = %listener.local_addr()?, served_by = %info.served_by(), "listening");
    let handler = service_fn(move |req: Request<Incoming>| {
        let mut svc = svc.clone();
        let metrics = metrics.clone();
        let served_by = served_by.clone();
        async move { handle(&mut svc, req, &metrics, served_by).await }
    });
    let serving = Serving {
        grace,
        max_buf_size: None,
    };
    mall_runtime::serve::serve(listener, shutdown, serving, handler).await;
    Ok(())
}

/// The answer to a request that reached a service with a credential (a 400): services take
/// the identity the edge vouched for, never a token.
const CREDENTIAL_REFUSED: &str =
    "services take no Authorization header: send the request through the edge";

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
    let answer = async {
        // Least privilege: the edge strips the client's token (nginx/snippets/proxy.conf)
        // and vouches for its identity as X-User-*; a token here came past or around it.
        if req.headers().contains_key(http::header::AUTHORIZATION) {
            tracing::warn!("refused a request that carried an Authorization header");
            return Ok(crate::error::error_response(
                http::StatusCode::BAD_REQUEST,
                "bad_request",
                CREDENTIAL_REFUSED,
            ));
        }
        svc.call(req).await
    };
    let mut resp = match trace::scope(id.clone(), answer.instrument(span.clone())).await {
        Ok(resp) => resp,
        Err(never) => match never {},
    };
    let status = resp.status().as_u16();
    let unmatched = resp.extensions().get::<Unmatched>().is_some();
    // Every 405 names the methods served on its path (RFC 9110), from mall.toml's routes.
    if unmatched && resp.status() == http::StatusCode::METHOD_NOT_ALLOWED {
        if let Some(v) =
            crate::filters::allowed_methods(&path).and_then(|a| HeaderValue::from_str(&a).ok())
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

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "server_serve_tests.rs"]
mod serve_tests;
