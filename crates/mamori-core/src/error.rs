//! The one error type of the core. The server maps it to HTTP in one place. No variant ever
//! carries a personal value: messages name fields and rules, not contents.

use crate::access::Denial;
use mamori_proto::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("access denied: {}", .0.explain())]
    Denied(Denial),
    #[error("{message}")]
    Invalid {
        code: ErrorCode,
        field: Option<String>,
        message: String,
    },
    #[error("no such subject")]
    NotFound,
    /// Something other than a subject that is not there (a survey, a release).
    #[error("{message}")]
    Missing { code: ErrorCode, message: String },
    #[error("{message}")]
    Conflict { code: ErrorCode, message: String },
    #[error("stored data failed its integrity check")]
    Integrity,
    #[error("storage failure: {0}")]
    Store(#[from] mamori_store::StoreError),
    #[error("the ledger writer has stopped")]
    WriterGone,
    /// The disk holding the database is full: nothing was written; retry once there is room.
    #[error("the server's storage is full; nothing was changed — retry later")]
    StorageFull,
    /// The database cannot be reached or is gone: nothing was changed; readiness says why.
    #[error("the database is unavailable; nothing was changed — retry later")]
    Unavailable,
    #[error("{0}")]
    Internal(String),
}

impl CoreError {
    pub fn invalid(
        code: ErrorCode,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> CoreError {
        CoreError::Invalid {
            code,
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> ErrorCode {
        match self {
            CoreError::Denied(d) => d.code(),
            CoreError::Invalid { code, .. } => *code,
            CoreError::NotFound => ErrorCode::SubjectNotFound,
            CoreError::Missing { code, .. } => *code,
            CoreError::Conflict { code, .. } => *code,
            CoreError::Integrity => ErrorCode::IntegrityFailure,
            CoreError::StorageFull => ErrorCode::InsufficientStorage,
            CoreError::Store(e) if e.is_full() => ErrorCode::InsufficientStorage,
            CoreError::Unavailable => ErrorCode::DatabaseUnavailable,
            CoreError::Store(e) if e.is_unavailable() => ErrorCode::DatabaseUnavailable,
            CoreError::Store(_) | CoreError::WriterGone | CoreError::Internal(_) => {
                ErrorCode::InternalError
            }
        }
    }
}

pub type Result<T> = std::result::Result<T, CoreError>;
