//! The one error body of API.md, and the pattern every service's error enum follows.
//!
//! A service defines its own `thiserror` enum with a `Common(CommonError)` variant beside
//! its own, implements [`ServiceError`] for it (one match: the shared error, or an own
//! variant's status and code; its public message is its `Display`), and answers with
//! [`ApiError::into_response`], which the blanket implementation gives it. Internal variants answer a
//! fixed message; their cause chain is logged once, inside the request span (so with the
//! trace id), and never sent.

use http::StatusCode;
use serde::Serialize;
use warp::reply::Response;

use mall_runtime::trace;

mod service;

pub use service::{Answer, ServiceError};

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
    trace_id: Option<String>,
}

/// The standard error response, carrying the current request's trace id.
pub fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    json_error(status, &body(code, message))
}

/// The standard error response with one more member beside `error`: a detail of an
/// internal call's refusal that its caller reads as a field (product's `out_of_stock`,
/// `mall_contracts::OutOfStock`), never out of the message's text.
pub fn error_response_with<D: Serialize>(
    status: StatusCode,
    code: &str,
    message: &str,
    key: &str,
    detail: &D,
) -> Response {
    let mut body = serde_json::to_value(body(code, message)).unwrap_or_default();
    if let (Some(members), Ok(detail)) = (body.as_object_mut(), serde_json::to_value(detail)) {
        members.insert(key.to_owned(), detail);
    }
    json_error(status, &body)
}

fn body<'a>(code: &'a str, message: &'a str) -> Body<'a> {
    Body {
        error: Inner {
            code,
            message,
            trace_id: trace::current().map(|t| t.to_string()),
        },
    }
}

fn json_error(status: StatusCode, body: &impl Serialize) -> Response {
    let json = serde_json::to_vec(body).unwrap_or_default();
    let mut resp = Response::new(json.into());
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    resp
}

/// The `WWW-Authenticate` challenge of a service's own 401 (docs/openapi.yaml, Auth).
pub const CREDENTIALS_CHALLENGE: &str = r#"Bearer realm="mall""#;

/// Implemented by each service's error enum.
pub trait ApiError: std::error::Error + Sized + 'static {
    fn status(&self) -> StatusCode;
    fn code(&self) -> &'static str;
    /// What the client may read. Internal errors must answer a fixed text.
    fn public_message(&self) -> String;

    /// Seconds a client should wait before retrying (sent as `Retry-After`).
    fn retry_after(&self) -> Option<u64> {
        None
    }

    /// Logs internal errors (with their cause chain, inside the request span, so with the
    /// trace id) and builds the response.
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(
                error = &self as &dyn std::error::Error,
                code = self.code(),
                "request failed"
            );
        }
        let mut resp = error_response(status, self.code(), &self.public_message());
        // Every 503 says when to try again (API.md: a dependency that is down answers 503
        // with Retry-After), whichever variant produced it.
        let retry_after = self
            .retry_after()
            .or((status == StatusCode::SERVICE_UNAVAILABLE).then_some(1));
        if let Some(secs) = retry_after {
            resp.headers_mut().insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from(secs.max(1)),
            );
        }
        // RFC 9110: every 401 carries a challenge. A service's 401s are about credentials
        // in the body (login, refresh), so the challenge names the scheme and realm only
        // (auth-proxy's token 401s add RFC 6750's `error`).
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                http::header::WWW_AUTHENTICATE,
                http::HeaderValue::from_static(CREDENTIALS_CHALLENGE),
            );
        }
        resp
    }
}

/// Errors common to every service, usable directly or wrapped by a service enum with
/// `#[error(transparent)] Common(#[from] CommonError)`.
#[derive(Debug, thiserror::Error)]
pub enum CommonError {
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(&'static str, String),
    #[error("authentication required")]
    Unauthorized,
    #[error("forbidden")]
    Forbidden,
    #[error("too many requests")]
    RateLimited { retry_after_secs: u64 },
    #[error("database error")]
    Db(#[from] mysql_async::Error),
    #[error("cache error")]
    Redis(#[from] redis::RedisError),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

/// The fixed text every internal error answers with.
pub const INTERNAL_MESSAGE: &str =
    "something went wrong on our side; quote the trace id to support";

/// The fixed text of a 503 for a dependency that is down.
pub const UNAVAILABLE_MESSAGE: &str =
    "a service this request needs is unavailable right now; try again shortly";

impl CommonError {
    /// True for a database, Redis or wrapped error that says a dependency cannot be used
    /// right now (down, unreachable, connection lost, timed out): answered `503
    /// service_unavailable` with `Retry-After` instead of 500.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Db(e) => mall_store::db::is_unavailable(e),
            Self::Redis(e) => redis_unavailable(e),
            Self::Internal(e) => e.chain().any(|cause| {
                cause
                    .downcast_ref::<mysql_async::Error>()
                    .is_some_and(mall_store::db::is_unavailable)
                    || cause
                        .downcast_ref::<mall_store::batched::SharedError>()
                        .is_some_and(mall_store::batched::SharedError::is_unavailable)
                    || cause
                        .downcast_ref::<redis::RedisError>()
                        .is_some_and(redis_unavailable)
            }),
            _ => false,
        }
    }
}

fn redis_unavailable(e: &redis::RedisError) -> bool {
    e.is_io_error() || e.is_timeout() || e.is_connection_dropped() || e.is_connection_refusal()
}

impl ApiError for CommonError {
    fn status(&self) -> StatusCode {
        match self {
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(..) => StatusCode::CONFLICT,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            _ if self.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
            Self::Db(_) | Self::Redis(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation_failed",
            Self::NotFound(_) => "not_found",
            Self::Conflict(code, _) => code,
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::RateLimited { .. } => "rate_limited",
            _ if self.is_unavailable() => "service_unavailable",
            Self::Db(_) | Self::Redis(_) | Self::Internal(_) => "internal_error",
        }
    }

    fn public_message(&self) -> String {
        match self {
            _ if self.is_unavailable() => UNAVAILABLE_MESSAGE.to_owned(),
            Self::Db(_) | Self::Redis(_) | Self::Internal(_) => INTERNAL_MESSAGE.to_owned(),
            Self::Unauthorized => "sign in to continue".to_owned(),
            Self::Forbidden => "you are not allowed to do this".to_owned(),
            Self::RateLimited { .. } => "too many attempts; try again later".to_owned(),
            other => other.to_string(),
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            Self::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            _ if self.is_unavailable() => Some(1),
            _ => None,
        }
    }
}

/// Answers with the `Ok` response or the error's response; handlers end with this.
pub fn respond<E: ApiError>(result: Result<Response, E>) -> Result<Response, warp::Rejection> {
    Ok(result.unwrap_or_else(ApiError::into_response))
}

#[cfg(test)]
mod tests;
