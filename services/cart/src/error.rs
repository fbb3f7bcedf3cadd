//! The cart service's errors.

use http::StatusCode;
use mall_http::error::{Answer, CommonError, ServiceError};

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

mall_http::service_error_basics!(CartError);

impl ServiceError for CartError {
    fn answer(&self) -> Answer<'_> {
        match self {
            Self::Common(c) => Answer::Common(c),
            Self::CatalogUnavailable(_) => {
                Answer::Own(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable")
            }
            Self::CurrencyMismatch { .. } => Answer::Own(StatusCode::CONFLICT, "currency_mismatch"),
        }
    }
}
