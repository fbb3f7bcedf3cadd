//! The payment service's errors.

use http::StatusCode;
use mall_http::error::{Answer, CommonError, ServiceError};

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

mall_http::service_error_basics!(PaymentError);

impl PaymentError {
    pub fn conflict(msg: impl Into<String>) -> Self {
        Self::Common(CommonError::Conflict("conflict", msg.into()))
    }
}

impl ServiceError for PaymentError {
    fn answer(&self) -> Answer<'_> {
        // Fixed texts (the Display of each variant): the causes (URLs, gateway bodies) are
        // logged, never sent.
        match self {
            Self::Common(c) => Answer::Common(c),
            Self::GatewayUnavailable(_) => {
                Answer::Own(StatusCode::SERVICE_UNAVAILABLE, "gateway_unavailable")
            }
            Self::GatewayRefused(_) => Answer::Own(StatusCode::BAD_GATEWAY, "gateway_error"),
        }
    }
}
