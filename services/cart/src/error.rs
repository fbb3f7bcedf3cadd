//! The cart service's errors.

use http::StatusCode;
use mall_common::error::{ApiError, CommonError};

#[derive(Debug, thiserror::Error)]
pub enum CartError {
    #[error(transparent)]
    Common(#[from] CommonError),
    #[error("the catalog is unavailable; try again shortly")]
    CatalogUnavailable(#[source] anyhow::Error),
    /// A cart holds one currency (docs/openapi.yaml, Conventions: "currencies never mix").
    #[error("your cart holds products priced in {cart}; {product} is priced in {currency}: check out or empty the cart first")]
    CurrencyMismatch {
        cart: String,
        product: String,
        currency: String,
    },
}

mall_common::service_error_basics!(CartError);

impl ApiError for CartError {
    fn status(&self) -> StatusCode {
        match self {
            Self::Common(c) => c.status(),
            Self::CatalogUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::CurrencyMismatch { .. } => StatusCode::CONFLICT,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Common(c) => c.code(),
            Self::CatalogUnavailable(_) => "service_unavailable",
            Self::CurrencyMismatch { .. } => "currency_mismatch",
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
            Self::CatalogUnavailable(_) => Some(1),
            Self::CurrencyMismatch { .. } => None,
        }
    }
}
