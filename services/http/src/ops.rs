//! `/health`, `/ready` and `/metrics`, which every service answers (nginx never exposes
//! them), and the request metrics the server loop records.

use std::sync::Arc;
use std::time::Duration;

use mysql_async::prelude::Queryable;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};
use serde_json::json;
use warp::reply::Response;
use warp::{Filter, Reply};

use crate::config::ServiceInfo;
use mall_store::cache::Redis;

/// Prometheus registry with the request metrics; services register their own on it too.
pub struct Metrics {
    pub registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
}

// === impl Metrics ===

impl Metrics {
    pub fn new(info: &ServiceInfo) -> anyhow::Result<Self> {
        let labels = [
            ("service".to_owned(), info.name.clone()),
            ("color".to_owned(), info.color.clone()),
        ]
        .into_iter()
        .collect();
        let registry = Registry::new_custom(None, Some(labels))?;
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route, method and status",
            ),
            &["route", "method", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency").buckets(
                vec![
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                ],
            ),
            &["route", "method", "status"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
        })
    }

    pub fn observe(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let status = status.to_string();
        let labels = [route, method, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency
            .with_label_values(&labels)
            .observe(elapsed.as_secs_f64());
    }

    fn render(&self) -> String {
        let mut buf = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut buf) {
            tracing::warn!(error = %e, "while encoding metrics");
        }
        String::from_utf8(buf).unwrap_or_default()
    }
}

/// What `/ready` checks: MySQL must answer; Redis down means degraded (still ready: every
/// service falls back or fails only the calls that need Redis).
#[derive(Clone)]
pub struct Readiness {
    pub mysql: Option<mysql_async::Pool>,
    pub redis: Option<Redis>,
}

impl Readiness {
    async fn report(&self) -> (bool, serde_json::Value) {
        let mut ok = true;
        let mut degraded = false;
        let mut checks = serde_json::Map::new();
        if let Some(pool) = &self.mysql {
            let result = tokio::time::timeout(Duration::from_secs(2), async {
                let mut conn = pool.get_conn().await?;
                conn.query_drop("SELECT 1").await
            })
            .await;
            let state = match result {
                Ok(Ok(())) => "ok",
                _ => {
                    ok = false;
                    "down"
                }
            };
            checks.insert("mysql".into(), state.into());
        }
        if let Some(redis) = &self.redis {
            let state = if redis.ping().await {
                "ok"
            } else {
                degraded = true;
                "down"
            };
            checks.insert("redis".into(), state.into());
        }
        let status = match (ok, degraded) {
            (false, _) => "unavailable",
            (true, true) => "degraded",
            (true, false) => "ready",
        };
        (ok, json!({ "status": status, "checks": checks }))
    }
}

/// The three ops routes.
pub fn routes(
    info: ServiceInfo,
    readiness: Readiness,
    metrics: Arc<Metrics>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let health = warp::path!("health").and(warp::get()).map(move || {
        warp::reply::json(&json!({
            "status": "ok", "service": info.name, "color": info.color, "version": info.version
        }))
        .into_response()
    });
    let ready = warp::path!("ready").and(warp::get()).then(move || {
        let readiness = readiness.clone();
        async move {
            let (ok, body) = readiness.report().await;
            let status = if ok {
                http::StatusCode::OK
            } else {
                http::StatusCode::SERVICE_UNAVAILABLE
            };
            warp::reply::with_status(warp::reply::json(&body), status).into_response()
        }
    });
    let metrics = warp::path!("metrics").and(warp::get()).map(move || {
        warp::reply::with_header(
            metrics.render(),
            "content-type",
            "text/plain; version=0.0.4",
        )
        .into_response()
    });
    health.or(ready).unify().or(metrics).unify()
}

/// True for the ops paths, which are logged at debug level (health checks are frequent).
pub fn is_ops_path(path: &str) -> bool {
    matches!(path, "/health" | "/ready" | "/metrics")
}
