//! The payment service's errors.

use http::StatusCode;
use mall_common::error::{ApiError, CommonError};

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error(transparent)]
    Common(#[from] CommonError),
    /// The gateway timed out, could not be reached or answered 5xx (a refund may be
    /// retried: it is idempotent).
    #[error("the card gateway is unavailable; try again shortly")]
    GatewayUnavailable(#[source] anyhow::Error),
    /// The gateway refused a request it should have accepted.
    #[error("the card gateway refused the request")]
    GatewayRefused(#[source] anyhow::Error),
}

mall_common::service_error_basics!(PaymentError);

impl PaymentError {
    pub fn conflict(msg: impl Into<String>) -> Self {
        Self::Common(CommonError::Conflict("conflict", msg.into()))
    }
}

impl ApiError for PaymentError {
    fn status(&self) -> StatusCode {
        match self {
            Self::Common(c) => c.status(),
            Self::GatewayUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::GatewayRefused(_) => StatusCode::BAD_GATEWAY,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Common(c) => c.code(),
            Self::GatewayUnavailable(_) => "gateway_unavailable",
            Self::GatewayRefused(_) => "gateway_error",
        }
    }

    fn public_message(&self) -> String {
        match self {
            Self::Common(c) => c.public_message(),
            // Fixed texts: the causes (URLs, gateway bodies) are logged, never sent.
            other => other.to_string(),
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            Self::Common(c) => c.retry_after(),
            Self::GatewayUnavailable(_) => Some(1),
            Self::GatewayRefused(_) => None,
        }
    }
}
