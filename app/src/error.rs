//! The one error type the console's server functions return.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// What went wrong, phrased for the person looking at the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ConsoleError {
    /// The thing asked for does not exist.
    #[error("{what} was not found")]
    NotFound { what: String },
    /// The API says something the page asked for does not exist, in its
    /// own words (which name it).
    #[error("not found: {message}")]
    Missing { message: String },
    /// The request was refused as invalid; the message says which part.
    #[error("{message}")]
    InvalidInput { message: String },
    /// The user may not do this.
    #[error("you do not have permission: {message}")]
    PermissionDenied { message: String },
    /// The control plane could not be reached or did not answer.
    #[error("the control plane is unavailable right now; retry in a moment")]
    Unavailable,
    /// An API this console calls does not offer what was asked; the
    /// message says which setting to change.
    #[error("{message}")]
    NotOffered { message: String },
    /// The API lacks this feature (for example an older flyteadmin).
    #[error("the control plane does not support this yet")]
    Unsupported,
    /// Something failed on the server; details are in its log.
    #[error(
        "something went wrong on the server (it is in the server's log); retry, and tell your platform team if it keeps happening"
    )]
    Internal,
    /// Nobody is signed in (or the session ended): sign in again.
    #[error("your session has ended; sign in again")]
    NotSignedIn,
    /// The request never reached the server function or its answer was unreadable.
    #[error("could not reach the console server: {0}")]
    Transport(String),
}

impl FromServerFnError for ConsoleError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        ConsoleError::Transport(value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl From<tonic::Status> for ConsoleError {
    fn from(status: tonic::Status) -> Self {
        use tonic::Code;
        match status.code() {
            Code::NotFound => ConsoleError::Missing {
                message: status.message().to_string(),
            },
            Code::InvalidArgument
            | Code::AlreadyExists
            | Code::FailedPrecondition
            | Code::OutOfRange => ConsoleError::InvalidInput {
                message: status.message().to_string(),
            },
            Code::PermissionDenied => ConsoleError::PermissionDenied {
                message: status.message().to_string(),
            },
            Code::Unauthenticated => ConsoleError::NotSignedIn,
            Code::Unavailable | Code::DeadlineExceeded | Code::ResourceExhausted => {
                ConsoleError::Unavailable
            }
            Code::Unimplemented => ConsoleError::Unsupported,
            _ => {
                tracing::error!(code = ?status.code(), message = status.message(), "admin call failed");
                ConsoleError::Internal
            }
        }
    }
}
