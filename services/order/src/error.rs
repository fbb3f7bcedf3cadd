//! The order service's errors.

use http::StatusCode;
use mall_http::error::{Answer, CommonError, ServiceError};

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

mall_http::service_error_basics!(OrderError);

impl ServiceError for OrderError {
    fn answer(&self) -> Answer<'_> {
        match self {
            Self::Common(c) => Answer::Common(c),
            Self::InvalidIdempotencyKey => {
                Answer::Own(StatusCode::BAD_REQUEST, "invalid_idempotency_key")
            }
            Self::IdempotencyKeyReused => {
                Answer::Own(StatusCode::CONFLICT, "idempotency_key_reused")
            }
            Self::CartEmpty => Answer::Own(StatusCode::UNPROCESSABLE_ENTITY, "cart_empty"),
            Self::OutOfStock(_) => Answer::Own(StatusCode::CONFLICT, "out_of_stock"),
            Self::PaymentDeclined => Answer::Own(StatusCode::PAYMENT_REQUIRED, "payment_declined"),
            Self::NotCancellable => Answer::Own(StatusCode::CONFLICT, "order_not_cancellable"),
            Self::Unavailable(_) => {
                Answer::Own(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable")
            }
            Self::CurrencyMismatch(_) => Answer::Own(StatusCode::CONFLICT, "currency_mismatch"),
        }
    }
}
