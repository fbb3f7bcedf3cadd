//! HTTP/1.1 serving (keep-alive, nginx holds connections open), the ops endpoints and
//! the auth answer's headers. Every response carries `X-Trace-Id` and `X-Served-By`.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use mall_runtime::serve::Serving;
use mall_runtime::trace::{self, TraceId};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::app::{App, AuthRequest, Authorization, Outcome};

pub const X_ORIGINAL_METHOD: HeaderName = HeaderName::from_static("x-original-method");
pub const X_ORIGINAL_URI: HeaderName = HeaderName::from_static("x-original-uri");
pub const X_USER_ID: HeaderName = HeaderName::from_static("x-user-id");
pub const X_USER_ROLES: HeaderName = HeaderName::from_static("x-user-roles");
pub const X_TOKEN_ID: HeaderName = HeaderName::from_static("x-token-id");
pub const X_TOKEN_EXPIRES: HeaderName = HeaderName::from_static("x-token-expires");
pub const X_AUTH_ERROR: HeaderName = HeaderName::from_static("x-auth-error");
pub const X_AUTH_ALLOW: HeaderName = HeaderName::from_static("x-auth-allow");
/// On the `200` of a public route: the answer depends on neither the token nor who asks
/// (the policy's route table alone), so nginx may keep it for every caller of that method
/// and URI (nginx/snippets/auth-subrequest.conf).
pub const X_AUTH_PUBLIC: HeaderName = HeaderName::from_static("x-auth-public");
pub const X_SERVED_BY: HeaderName = HeaderName::from_static("x-served-by");
pub const X_TRACE_ID: HeaderName = HeaderName::from_static(trace::HEADER);

type Body = Full<Bytes>;

/// Serves `app` on `listener` (the runtime's loop, `mall_runtime::serve`) until
/// `shutdown` resolves, then lets in-flight requests finish within the grace period.
pub async fn serve(
    app: Arc<App>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let tasks = spawn_background(&app)?;
    tracing::info!(
        addr = %listener.local_addr().map(|a| a.to_string()).unwrap_or_default(),
        rules = app.policy_rules(),
        "auth-proxy listening"
    );
    let serving = Serving {
        grace: app.config.shutdown_grace,
        // An auth subrequest carries headers only.
        max_buf_size: Some(64 * 1024),
    };
    let service = {
        let app = app.clone();
        service_fn(move |req| {
            let app = app.clone();
            async move { Ok::<_, Infallible>(handle(&app, req).await) }
        })
    };
    mall_runtime::serve::serve(listener, shutdown, serving, service).await;
    for task in tasks {
        task.abort();
    }
    Ok(())
}

fn spawn_background(app: &Arc<App>) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let mut tasks = Vec::new();
    if !app.keys.is_static() {
        tasks.push(tokio::spawn(
            app.keys.clone().refresh_loop(app.config.jwks_refresh),
        ));
    }
    tasks.push(tokio::spawn(
        app.feed
            .clone()
            .follow(app.denylist.clone(), app.metrics.clone()),
    ));
    if app.config.reload_on_sighup {
        let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            .map_err(|e| anyhow::anyhow!("while installing the SIGHUP handler: {e}"))?;
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            while hup.recv().await.is_some() {
                tracing::info!("SIGHUP: reloading the policy");
                let _ = app.reload();
            }
        }));
    }
    Ok(tasks)
}

async fn handle(app: &App, req: Request<Incoming>) -> Response<Body> {
    let trace = TraceId::from_headers_or_new(req.headers());
    let mut resp = match req.uri().path() {
        "/health" => health(app),
        "/ready" => ready(app),
        "/metrics" => metrics(app),
        _ => auth(app, &req, &trace).await,
    };
    let headers = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(trace.as_str()) {
        headers.insert(X_TRACE_ID, v);
    }
    headers.insert(X_SERVED_BY, app.served_by.clone());
    resp
}

async fn auth(app: &App, req: &Request<Incoming>, trace: &TraceId) -> Response<Body> {
    let h = req.headers();
    // Non-UTF-8 (raw bytes in nginx's $request_uri) cannot be normalised: refused later.
    let text = |name: &HeaderName| h.get(name).map(|v| std::str::from_utf8(v.as_bytes()).ok());
    let uri = match text(&X_ORIGINAL_URI) {
        Some(Some(u)) => Some(u),
        // Present but not UTF-8: not a path at all, so denied as a bad path.
        Some(None) => Some(""),
        None => None,
    };
    let mut auths = h.get_all(http::header::AUTHORIZATION).iter();
    let authorization = match (auths.next(), auths.next()) {
        (None, _) => Authorization::Missing,
        (Some(v), None) => Authorization::One(v),
        (Some(_), Some(_)) => Authorization::Many,
    };
    let request = AuthRequest {
        method: text(&X_ORIGINAL_METHOD).flatten(),
        uri,
        authorization,
    };
    let decision = app.check(request, trace).await;
    let reason = decision.outcome.reason();
    let mut resp = Response::new(Body::default());
    *resp.status_mut() =
        StatusCode::from_u16(reason.verdict().status()).unwrap_or(StatusCode::FORBIDDEN);
    let headers = resp.headers_mut();
    match &decision.outcome {
        Outcome::Public => {
            headers.insert(X_AUTH_PUBLIC, HeaderValue::from_static("1"));
        }
        Outcome::Allowed(v) => {
            headers.insert(X_USER_ID, v.headers.user_id.clone());
            headers.insert(X_USER_ROLES, v.headers.roles.clone());
            headers.insert(X_TOKEN_ID, v.headers.token_id.clone());
            headers.insert(X_TOKEN_EXPIRES, v.headers.expires.clone());
        }
        Outcome::Denied(r) => {
            if let Some(code) = r.code() {
                headers.insert(X_AUTH_ERROR, HeaderValue::from_static(code));
            }
            if let Some(challenge) = r.challenge() {
                headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
            }
            // Methods from the policy file (upper-case tokens, checked when it loads).
            if let Some(allow) = decision.allow.as_deref() {
                if let Ok(v) = HeaderValue::from_str(allow) {
                    headers.insert(X_AUTH_ALLOW, v);
                }
            }
        }
    }
    resp
}

fn json(status: StatusCode, value: serde_json::Value) -> Response<Body> {
    let mut resp = Response::new(Body::from(value.to_string()));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

fn health(app: &App) -> Response<Body> {
    let info = &app.config.info;
    json(
        StatusCode::OK,
        serde_json::json!({
            "status": "ok",
            "service": info.name,
            "color": info.color,
            "version": info.version,
        }),
    )
}

fn ready(app: &App) -> Response<Body> {
    let ready = app.is_ready();
    json(
        if ready {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        serde_json::json!({
            "status": if ready { "ready" } else { "not_ready" },
            "keys": app.keys.len(),
            "policy_rules": app.policy_rules(),
            "redis_connected": app.metrics.redis_connected.get() == 1,
        }),
    )
}

fn metrics(app: &App) -> Response<Body> {
    let age = app.keys.age().map(|d| d.as_secs_f64()).unwrap_or(-1.0);
    app.metrics.key_set_age_seconds.set(age);
    let mut resp = Response::new(Body::from(app.metrics.render()));
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    resp
}
