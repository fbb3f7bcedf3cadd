//! The one [`ApiError`] implementation of every service's error enum (blanket, over
//! [`ServiceError`]) and the conversions each such enum gets from `service_error_basics!`.

use http::StatusCode;

use super::{ApiError, CommonError};

/// Implemented by each service's error enum: which of its variants is the shared
/// [`CommonError`] and, for its own, the status and code. The whole [`ApiError`] follows
/// (blanket implementation below): the shared variant answers as [`CommonError`] does, an
/// own variant with its `Display` as the message (so its text must be fit to send), and
/// every 503 with `Retry-After`.
pub trait ServiceError: std::error::Error + Sized + 'static {
    fn answer(&self) -> Answer<'_>;
}

/// What a service error is, for its answer.
pub enum Answer<'a> {
    /// The errors every service shares (validation, not found, database, ...).
    Common(&'a CommonError),
    /// One of the service's own: its status and `error.code`.
    Own(StatusCode, &'static str),
}

impl<E: ServiceError> ApiError for E {
    fn status(&self) -> StatusCode {
        match self.answer() {
            Answer::Common(c) => c.status(),
            Answer::Own(status, _) => status,
        }
    }

    fn code(&self) -> &'static str {
        match self.answer() {
            Answer::Common(c) => c.code(),
            Answer::Own(_, code) => code,
        }
    }

    fn public_message(&self) -> String {
        match self.answer() {
            Answer::Common(c) => c.public_message(),
            Answer::Own(..) => self.to_string(),
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self.answer() {
            Answer::Common(c) => c.retry_after(),
            Answer::Own(..) => None,
        }
    }
}

/// For a service error enum with a `Common(CommonError)` variant: the conversions from
/// database and internal errors, and `validation` / `not_found` / `conflict` shorthands.
#[macro_export]
macro_rules! service_error_basics {
    ($t:ty) => {
        impl From<::mysql_async::Error> for $t {
            fn from(e: ::mysql_async::Error) -> Self {
                Self::Common($crate::error::CommonError::Db(e))
            }
        }
        impl From<::anyhow::Error> for $t {
            fn from(e: ::anyhow::Error) -> Self {
                Self::Common($crate::error::CommonError::Internal(e))
            }
        }
        impl $t {
            #[allow(dead_code)]
            pub fn validation(msg: impl Into<String>) -> Self {
                Self::Common($crate::error::CommonError::Validation(msg.into()))
            }
            #[allow(dead_code)]
            pub fn not_found(msg: impl Into<String>) -> Self {
                Self::Common($crate::error::CommonError::NotFound(msg.into()))
            }
        }
    };
}
