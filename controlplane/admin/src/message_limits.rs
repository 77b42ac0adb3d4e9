//! Requests over [`MAX_MESSAGE_BYTES`]: tonic refuses them with
//! `OUT_OF_RANGE` and its own wording, and a buffered registration request
//! would fail further in as a missing message. Flyte clients read
//! `RESOURCE_EXHAUSTED` as "too large" (propeller's event sink stops retrying
//! on it), so every such refusal is answered that way, with a message
//! that says what to do.

use axum::Router;
use axum::response::Response;
use tonic::Code;

use crate::MAX_MESSAGE_BYTES;

/// The wording tonic's decoder uses when a message exceeds the limit.
const TONIC_TOO_LARGE: &str = "decoded message length too large";

/// The status for a request message of `length` bytes (if known).
pub fn oversized_request_status(length: Option<usize>) -> tonic::Status {
    let size = length.map_or_else(String::new, |length| format!(" of {length} bytes"));
    tonic::Status::resource_exhausted(format!(
        "request message{size} is larger than the limit of {MAX_MESSAGE_BYTES} bytes; \
         send less per request (large values belong in the object store, referenced by URI)"
    ))
}

/// The length tonic reported in its refusal (`found N bytes`).
fn reported_length(message: &str) -> Option<usize> {
    let after = message.split("found ").nth(1)?;
    after.split(' ').next()?.parse().ok()
}

async fn answer_oversized_as_resource_exhausted(mut response: Response) -> Response {
    let Some(status) = tonic::Status::from_header_map(response.headers()) else {
        return response;
    };
    if status.code() != Code::OutOfRange || !status.message().contains(TONIC_TOO_LARGE) {
        return response;
    }
    let replacement = oversized_request_status(reported_length(status.message()));
    tracing::warn!(message = status.message(), "refused an oversized request");
    if replacement.add_header(response.headers_mut()).is_err() {
        tracing::error!("cannot rewrite the status of an oversized request");
    }
    response
}

/// Wraps the gRPC router so oversized requests answer `RESOURCE_EXHAUSTED`.
pub fn refuse_oversized_requests(grpc: Router) -> Router {
    grpc.layer(axum::middleware::map_response(
        answer_oversized_as_resource_exhausted,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_length_tonic_reports() {
        assert_eq!(
            reported_length(
                "Error, decoded message length too large: found 21 bytes, the limit is: 20 bytes"
            ),
            Some(21)
        );
        assert_eq!(reported_length("something else"), None);
    }
}
