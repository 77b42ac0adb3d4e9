//! The catalog's one error type at the gRPC boundary and its single mapping
//! to `tonic::Code`. Internal failures are logged here, once, and answered
//! with a plain "internal error" so nothing about the database or the
//! object store leaks out.

use tonic::{Code, Status};
use updraft_storage::StorageError;

use crate::store::StoreError;

/// Why a catalog request failed, in the terms propeller and flytekit act on.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The request is malformed; the message names the field.
    #[error("{0}")]
    InvalidArgument(String),
    /// The named dataset, artifact or tag does not exist (for a cache
    /// lookup: a miss).
    #[error("{0}")]
    NotFound(String),
    /// A dataset, artifact or tag with that key already exists.
    #[error("{0}")]
    AlreadyExists(String),
    /// The database failed.
    #[error("internal error")]
    Store(#[from] StoreError),
    /// The object store failed (a missing object is a [`CatalogError::NotFound`]).
    #[error("internal error")]
    Blobs(#[from] StorageError),
    /// A stored payload could not be decoded.
    #[error("internal error")]
    Decode(#[from] prost::DecodeError),
}

impl CatalogError {
    /// Shorthand for [`CatalogError::InvalidArgument`].
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidArgument(message.into())
    }

    /// Shorthand for [`CatalogError::NotFound`].
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound(message.into())
    }

    /// The gRPC code datacatalog would answer with.
    pub fn code(&self) -> Code {
        match self {
            Self::InvalidArgument(_) => Code::InvalidArgument,
            Self::NotFound(_) => Code::NotFound,
            Self::AlreadyExists(_) => Code::AlreadyExists,
            Self::Store(_) | Self::Blobs(_) | Self::Decode(_) => Code::Internal,
        }
    }
}

impl From<CatalogError> for Status {
    fn from(error: CatalogError) -> Self {
        let code = error.code();
        if code == Code::Internal {
            // The chain is logged once here, inside the request's span; the
            // client only learns that something went wrong on our side.
            tracing::error!(error = ?error, "catalog request failed");
        }
        Status::new(code, error.to_string())
    }
}
