//! The user service's errors: client variants with stable codes, internal ones that answer
//! a fixed message (their causes are logged once, with the trace id).

use http::StatusCode;
use mall_common::error::{ApiError, CommonError};

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

mall_common::service_error_basics!(UserError);

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

    fn retry_after(&self) -> Option<u64> {
        match self {
            Self::Common(c) => c.retry_after(),
            _ => None,
        }
    }
}
