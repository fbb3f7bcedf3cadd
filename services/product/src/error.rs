//! The product service's errors.

use http::StatusCode;
use mall_common::error::{ApiError, CommonError};

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

mall_common::service_error_basics!(ProductError);

impl ApiError for ProductError {
    fn status(&self) -> StatusCode {
        match self {
            Self::Common(c) => c.status(),
            Self::OutOfStock { .. }
            | Self::InsufficientStock { .. }
            | Self::StockLimitExceeded { .. }
            | Self::Conflict(_) => StatusCode::CONFLICT,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Common(c) => c.code(),
            Self::OutOfStock { .. } => "out_of_stock",
            Self::InsufficientStock { .. } => "insufficient_stock",
            Self::StockLimitExceeded { .. } => "stock_limit_exceeded",
            Self::Conflict(_) => "conflict",
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
            _ => None,
        }
    }
}
