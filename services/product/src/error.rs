//! The product service's errors.

use http::StatusCode;
use mall_http::error::{Answer, CommonError, ServiceError};

#[derive(Debug, thiserror::Error)]
pub enum ProductError {
    #[error(transparent)]
    Common(#[from] CommonError),
    #[error("not enough stock for product {product_id}")]
    OutOfStock { product_id: u64 },
    #[error("stock cannot go below zero: the stock is {stock} and the change is {delta}")]
    InsufficientStock { stock: i64, delta: i64 },
    #[error("stock cannot exceed {max}: the stock is {stock} and the change is {delta}", max = crate::domain::MAX_STOCK)]
    StockLimitExceeded { stock: i64, delta: i64 },
    #[error("{0}")]
    Conflict(String),
}

mall_http::service_error_basics!(ProductError);

impl ServiceError for ProductError {
    fn answer(&self) -> Answer<'_> {
        match self {
            Self::Common(c) => Answer::Common(c),
            Self::OutOfStock { .. } => Answer::Own(StatusCode::CONFLICT, "out_of_stock"),
            Self::InsufficientStock { .. } => {
                Answer::Own(StatusCode::CONFLICT, "insufficient_stock")
            }
            Self::StockLimitExceeded { .. } => {
                Answer::Own(StatusCode::CONFLICT, "stock_limit_exceeded")
            }
            Self::Conflict(_) => Answer::Own(StatusCode::CONFLICT, "conflict"),
        }
    }
}
