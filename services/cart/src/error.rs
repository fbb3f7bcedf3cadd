//! The cart service's errors.

use http::StatusCode;
use mall_common::error::{ApiError, CommonError};

#[derive(Debug, thiserror::Error)]
pub enum CartError {
    #[error(transparent)]
    Common(#[from] CommonError),
    #[error("the catalog is unavailable; try again shortly")]
    CatalogUnavailable(#[source] anyhow::Error),
}

mall_common::service_error_basics!(CartError);

impl ApiError for CartError {
    fn status(&self) -> StatusCode {
        match self {
            Self::Common(c) => c.status(),
            Self::CatalogUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Common(c) => c.code(),
            Self::CatalogUnavailable(_) => "service_unavailable",
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
        }
    }
}
