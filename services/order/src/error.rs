//! The order service's errors.

use http::StatusCode;
use mall_common::error::{ApiError, CommonError};

#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error(transparent)]
    Common(#[from] CommonError),
    #[error("Idempotency-Key must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -")]
    InvalidIdempotencyKey,
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyKeyReused,
    #[error("the cart is empty")]
    CartEmpty,
    #[error("not enough stock for product {0}")]
    OutOfStock(u64),
    #[error("the payment was declined")]
    PaymentDeclined,
    #[error("only paid orders can be cancelled")]
    NotCancellable,
    #[error("a service this request needs is unavailable; try again shortly")]
    Unavailable(#[source] anyhow::Error),
    /// An order is in one currency (docs/openapi.yaml, Conventions: "currencies never mix").
    #[error("all items of an order must share one currency; these are priced in {0}")]
    CurrencyMismatch(String),
}

mall_common::service_error_basics!(OrderError);

impl ApiError for OrderError {
    fn status(&self) -> StatusCode {
        match self {
            Self::Common(c) => c.status(),
            Self::InvalidIdempotencyKey => StatusCode::BAD_REQUEST,
            Self::IdempotencyKeyReused
            | Self::OutOfStock(_)
            | Self::NotCancellable
            | Self::CurrencyMismatch(_) => StatusCode::CONFLICT,
            Self::CartEmpty => StatusCode::UNPROCESSABLE_ENTITY,
            Self::PaymentDeclined => StatusCode::PAYMENT_REQUIRED,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Common(c) => c.code(),
            Self::InvalidIdempotencyKey => "invalid_idempotency_key",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::CartEmpty => "cart_empty",
            Self::OutOfStock(_) => "out_of_stock",
            Self::PaymentDeclined => "payment_declined",
            Self::NotCancellable => "order_not_cancellable",
            Self::Unavailable(_) => "service_unavailable",
            Self::CurrencyMismatch(_) => "currency_mismatch",
        }
    }

    fn public_message(&self) -> String {
        match self {
            Self::Common(c) => c.public_message(),
            other => other.to_string(),
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            Self::Common(c) => c.retry_after(),
            Self::Unavailable(_) => Some(1),
            _ => None,
        }
    }
}
