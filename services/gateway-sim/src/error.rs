//! The simulator's errors, in the mall's standard error body.

use http::StatusCode;
use mall_http::error::{Answer, CommonError, ServiceError};

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

impl ServiceError for SimError {
    fn answer(&self) -> Answer<'_> {
        match self {
            Self::Common(c) => Answer::Common(c),
            Self::KeyReused => Answer::Own(StatusCode::CONFLICT, "idempotency_key_reused"),
            Self::NotRefundable(_) => Answer::Own(StatusCode::CONFLICT, "not_refundable"),
            Self::AlreadyRefunded => Answer::Own(StatusCode::CONFLICT, "already_refunded"),
            Self::Unavailable => {
                Answer::Own(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable")
            }
        }
    }
}
