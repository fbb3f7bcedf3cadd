//! The one error body of API.md, and the pattern every service's error enum follows.
//!
//! A service defines its own `thiserror` enum, implements [`ApiError`] for it (status, code,
//! public message) and answers with [`ApiError::into_response`]. Internal variants answer a
//! fixed message; their cause chain is logged once, inside the request span (so with the
//! trace id), and never sent.

use http::StatusCode;
use serde::Serialize;
use warp::reply::Response;

use crate::trace;

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
    let body = Body {
        error: Inner {
            code,
            message,
            trace_id: trace::current().map(|t| t.to_string()),
        },
    };
    let json = serde_json::to_vec(&body).unwrap_or_default();
    let mut resp = Response::new(json.into());
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    resp
}

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
        if let Some(secs) = self.retry_after() {
            resp.headers_mut().insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from(secs.max(1)),
            );
        }
        resp
    }
}

/// For a service error enum with a `Common(CommonError)` variant: the conversions from
/// database and internal errors, and `validation` / `not_found` / `conflict` shorthands.
#[macro_export]
macro_rules! service_error_basics {
    ($t:ty) => {
        impl From<::mysql_async::Error> for $t {
            fn from(e: ::mysql_async::Error) -> Self {
                Self::Common($crate::error::CommonError::Db(e))
            }
        }
        impl From<::anyhow::Error> for $t {
            fn from(e: ::anyhow::Error) -> Self {
                Self::Common($crate::error::CommonError::Internal(e))
            }
        }
        impl $t {
            #[allow(dead_code)]
            pub fn validation(msg: impl Into<String>) -> Self {
                Self::Common($crate::error::CommonError::Validation(msg.into()))
            }
            #[allow(dead_code)]
            pub fn not_found(msg: impl Into<String>) -> Self {
                Self::Common($crate::error::CommonError::NotFound(msg.into()))
            }
        }
    };
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

impl ApiError for CommonError {
    fn status(&self) -> StatusCode {
        match self {
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(..) => StatusCode::CONFLICT,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
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
            Self::Db(_) | Self::Redis(_) | Self::Internal(_) => "internal_error",
        }
    }

    fn public_message(&self) -> String {
        match self {
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
            _ => None,
        }
    }
}

/// True when a MySQL error is a duplicate-key violation (1062): the one place that maps
/// unique constraints to 409.
pub fn is_duplicate_key(err: &mysql_async::Error) -> bool {
    matches!(err, mysql_async::Error::Server(e) if e.code == 1062)
}

/// Answers with the `Ok` response or the error's response; handlers end with this.
pub fn respond<E: ApiError>(result: Result<Response, E>) -> Result<Response, warp::Rejection> {
    Ok(result.unwrap_or_else(ApiError::into_response))
}
