//! The user service's errors: client variants with stable codes, internal ones that answer
//! a fixed message (their causes are logged once, with the trace id).

use http::StatusCode;
use mall_http::error::{Answer, CommonError, ServiceError};

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
    /// A dependency (Redis) is down; the caller logged which and why.
    #[error("the service is temporarily unavailable; try again shortly")]
    Unavailable,
}

mall_http::service_error_basics!(UserError);

impl ServiceError for UserError {
    fn answer(&self) -> Answer<'_> {
        match self {
            Self::Common(c) => Answer::Common(c),
            Self::EmailTaken => Answer::Own(StatusCode::CONFLICT, "email_taken"),
            Self::InvalidCredentials => {
                Answer::Own(StatusCode::UNAUTHORIZED, "invalid_credentials")
            }
            Self::InvalidRefresh(_) => Answer::Own(StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::Unavailable => {
                Answer::Own(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable")
            }
        }
    }
}
