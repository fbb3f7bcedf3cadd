//! The simulator's errors, in the mall's standard error body.

use http::StatusCode;
use mall_common::error::{ApiError, CommonError};

use crate::ledger::LedgerError;

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(transparent)]
    Common(#[from] CommonError),
    #[error("this idempotency key was used for another request")]
    KeyReused,
    #[error("the charge is {0}; only approved charges can be refunded")]
    NotRefundable(&'static str),
    #[error("the charge was refunded before under another idempotency key")]
    AlreadyRefunded,
    /// Control mode `fail`.
    #[error("the gateway is unavailable")]
    Unavailable,
}

impl SimError {
    pub fn validation(msg: impl Into<String>) -> Self {
        Self::Common(CommonError::Validation(msg.into()))
    }
}

impl From<LedgerError> for SimError {
    fn from(e: LedgerError) -> Self {
        match e {
            LedgerError::KeyReused => Self::KeyReused,
            LedgerError::NotFound => Self::Common(CommonError::NotFound("no such charge".into())),
            LedgerError::NotRefundable(status) => Self::NotRefundable(status.as_str()),
            LedgerError::AlreadyRefunded => Self::AlreadyRefunded,
        }
    }
}

impl ApiError for SimError {
    fn status(&self) -> StatusCode {
        match self {
            Self::Common(c) => c.status(),
            Self::KeyReused | Self::NotRefundable(_) | Self::AlreadyRefunded => {
                StatusCode::CONFLICT
            }
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Common(c) => c.code(),
            Self::KeyReused => "idempotency_key_reused",
            Self::NotRefundable(_) => "not_refundable",
            Self::AlreadyRefunded => "already_refunded",
            Self::Unavailable => "service_unavailable",
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
            Self::Unavailable => Some(1),
            _ => None,
        }
    }
}
