//! The admin's one error type at the gRPC boundary and its single mapping to
//! `tonic::Code`. Internal failures are logged here, once, and answered with a
//! plain "internal error" so nothing about the database or disk leaks out.

use tonic::{Code, Status};

use crate::store::StoreError;
use updraft_storage::StorageError as BlobStoreError;

/// Why an admin request failed, in the terms flytekit and the console act on.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The request is malformed or contradicts what is stored; the message says how.
    #[error("{0}")]
    InvalidArgument(String),
    /// The named entity does not exist.
    #[error("{0}")]
    NotFound(String),
    /// An identical entity already exists (flytekit treats this as success).
    #[error("{0}")]
    AlreadyExists(String),
    /// The request is valid but the entity is not in a state that allows it.
    #[error("{0}")]
    FailedPrecondition(String),
    /// An event that would move an execution, node or task where Flyte's
    /// phase rules forbid (for example out of a terminal phase).
    #[error("{}", .0.message())]
    EventRefused(crate::phases::Refusal),
    /// The caller sent no valid access token (single sign-on only).
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller's role does not allow the request; the message names the
    /// missing role and the project.
    #[error("{0}")]
    PermissionDenied(String),
    /// A service admin depends on (the OpenID provider) cannot be reached.
    #[error("{0}")]
    Unavailable(String),
    /// The storage layer failed.
    #[error("internal error")]
    Store(#[source] StoreError),
    /// The object store failed.
    #[error("internal error")]
    Blobs(#[from] BlobStoreError),
    /// A stored payload could not be decoded.
    #[error("internal error")]
    Decode(#[from] prost::DecodeError),
}

impl AdminError {
    /// Shorthand for [`AdminError::InvalidArgument`].
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidArgument(message.into())
    }

    /// Shorthand for [`AdminError::NotFound`].
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound(message.into())
    }

    /// The gRPC code flyteadmin would answer with.
    pub fn code(&self) -> Code {
        match self {
            Self::InvalidArgument(_) => Code::InvalidArgument,
            Self::NotFound(_) => Code::NotFound,
            Self::AlreadyExists(_) => Code::AlreadyExists,
            Self::FailedPrecondition(_) | Self::EventRefused(_) => Code::FailedPrecondition,
            Self::Unauthenticated(_) => Code::Unauthenticated,
            Self::PermissionDenied(_) => Code::PermissionDenied,
            Self::Unavailable(_) => Code::Unavailable,
            Self::Store(_) | Self::Blobs(_) | Self::Decode(_) => Code::Internal,
        }
    }
}

impl From<StoreError> for AdminError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::AlreadyExists { what } => {
                Self::AlreadyExists(format!("{what} already exists"))
            }
            other => Self::Store(other),
        }
    }
}

impl From<AdminError> for Status {
    fn from(error: AdminError) -> Self {
        let code = error.code();
        if code == Code::Internal {
            // The chain is logged once here, inside the request's span; the
            // client only learns that something went wrong on our side.
            tracing::error!(error = ?error, "admin request failed");
        }
        match &error {
            // Propeller reads the reason (already terminal, and in which phase)
            // from the details, as from flyteadmin.
            AdminError::EventRefused(refusal) => Status::with_details(
                code,
                error.to_string(),
                refusal.status_details(code as i32).into(),
            ),
            _ => Status::new(code, error.to_string()),
        }
    }
}
