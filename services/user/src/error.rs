//! The user service's errors: client variants with stable codes, internal ones that answer
//! a fixed message (their causes are logged once, with the trace id).

use http::StatusCode;
use mall_common::error::{ApiError, CommonError};
use warp::reply::Response;

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error(transparent)]
    Common(#[from] CommonError),
    #[error("this email is already registered")]
    EmailTaken,
    #[error("wrong email or password")]
    InvalidCredentials,
    #[error("{0}")]
    InvalidRefresh(&'static str),
    #[error("a dependency is unavailable: {0}")]
    Unavailable(&'static str),
}

impl From<mysql_async::Error> for UserError {
    fn from(e: mysql_async::Error) -> Self {
        Self::Common(CommonError::Db(e))
    }
}

impl From<anyhow::Error> for UserError {
    fn from(e: anyhow::Error) -> Self {
        Self::Common(CommonError::Internal(e))
    }
}

impl UserError {
    pub fn validation(msg: impl Into<String>) -> Self {
        Self::Common(CommonError::Validation(msg.into()))
    }

    pub fn not_found(msg: impl Into<String>) -> Self {
        Self::Common(CommonError::NotFound(msg.into()))
    }
}

impl ApiError for UserError {
    fn status(&self) -> StatusCode {
        match self {
            Self::Common(c) => c.status(),
            Self::EmailTaken => StatusCode::CONFLICT,
            Self::InvalidCredentials | Self::InvalidRefresh(_) => StatusCode::UNAUTHORIZED,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Common(c) => c.code(),
            Self::EmailTaken => "email_taken",
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvalidRefresh(_) => "unauthorized",
            Self::Unavailable(_) => "service_unavailable",
        }
    }

    fn public_message(&self) -> String {
        match self {
            Self::Common(c) => c.public_message(),
            Self::Unavailable(_) => {
                "the service is temporarily unavailable; try again shortly".into()
            }
            other => other.to_string(),
        }
    }

    fn into_response(self) -> Response {
        match self {
            // Keeps Retry-After and the logging of internal causes.
            Self::Common(c) => c.into_response(),
            other => {
                if other.status().is_server_error() {
                    tracing::error!(error = &other as &dyn std::error::Error, "request failed");
                }
                mall_common::error::error_response(
                    other.status(),
                    other.code(),
                    &other.public_message(),
                )
            }
        }
    }
}
