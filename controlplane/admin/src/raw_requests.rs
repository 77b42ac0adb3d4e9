//! Keeps the undecoded bytes of registration requests. prost drops fields it
//! does not know when it decodes, so a spec re-encoded from the decoded message
//! would lose whatever a newer flytekit added; the registration handlers store
//! the spec exactly as it arrived instead.

use std::convert::Infallible;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::future::BoxFuture;
use tonic::server::NamedService;

use crate::MAX_MESSAGE_BYTES;

/// The protobuf message of a unary gRPC request, without its frame header.
#[derive(Debug, Clone)]
pub struct RawRequestMessage(pub Bytes);

/// The RPCs whose request bytes are kept.
const KEPT_METHODS: [&str; 3] = [
    "/flyteidl.service.AdminService/CreateTask",
    "/flyteidl.service.AdminService/CreateWorkflow",
    "/flyteidl.service.AdminService/CreateLaunchPlan",
];

/// A tower layer around a gRPC service that, for the registration RPCs,
/// buffers the request body and puts its message into the request's
/// extensions as [`RawRequestMessage`] before the service decodes it.
#[derive(Debug, Clone)]
pub struct KeepRawRegistrationRequests<S> {
    inner: S,
}

impl<S> KeepRawRegistrationRequests<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        Self { inner }
    }
}

impl<S: NamedService> NamedService for KeepRawRegistrationRequests<S> {
    const NAME: &'static str = S::NAME;
}

/// The message of a single uncompressed gRPC frame, if `body` is exactly one.
fn single_frame_message(body: &Bytes) -> Option<Bytes> {
    let (&compressed, rest) = body.split_first()?;
    let length_bytes: [u8; 4] = rest.get(..4)?.try_into().ok()?;
    let length = usize::try_from(u32::from_be_bytes(length_bytes)).ok()?;
    (compressed == 0 && body.len() == 5 + length).then(|| body.slice(5..))
}

impl<S> tower::Service<http::Request<tonic::body::Body>> for KeepRawRegistrationRequests<S>
where
    S: tower::Service<
            http::Request<tonic::body::Body>,
            Response = http::Response<tonic::body::Body>,
            Error = Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        if !KEPT_METHODS.contains(&request.uri().path()) {
            return Box::pin(self.inner.call(request));
        }
        // The clone that was made ready is the one that must be called.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            let declared_length = parts
                .headers
                .get(http::header::CONTENT_LENGTH)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.parse::<usize>().ok());
            let body = match axum::body::to_bytes(
                axum::body::Body::new(body),
                MAX_MESSAGE_BYTES + 5,
            )
            .await
            {
                Ok(body) => body,
                Err(error) => {
                    // axum wraps http-body's `LengthLimitError`, which this
                    // crate does not depend on; its wording identifies it.
                    let too_large =
                        std::iter::successors(Some(&error as &dyn std::error::Error), |error| {
                            error.source()
                        })
                        .any(|error| error.to_string().contains("length limit exceeded"));
                    if too_large {
                        tracing::warn!("refused an oversized registration request");
                        return Ok(crate::message_limits::oversized_request_status(
                            declared_length.map(|length| length.saturating_sub(5)),
                        )
                        .into_http());
                    }
                    // An unreadable body is left for tonic to reject as a
                    // malformed request.
                    tracing::warn!(error = %error, "cannot buffer a registration request");
                    Bytes::new()
                }
            };
            if let Some(message) = single_frame_message(&body) {
                parts.extensions.insert(RawRequestMessage(message));
            }
            let request = http::Request::from_parts(
                parts,
                tonic::body::Body::new(axum::body::Body::from(body)),
            );
            inner.call(request).await
        })
    }
}

/// The bytes of the embedded message in field `field_number` of `message`,
/// when the field occurs exactly once (several occurrences would be merged by
/// a decoder, so no single byte string stands for them). `None` on malformed
/// input or groups.
pub(crate) fn single_embedded_field(message: &[u8], field_number: u64) -> Option<&[u8]> {
    fn varint(input: &[u8], position: &mut usize) -> Option<u64> {
        let mut value = 0_u64;
        for shift in (0..64).step_by(7) {
            let byte = *input.get(*position)?;
            *position += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }
    let mut position = 0;
    let mut found = None;
    while position < message.len() {
        let key = varint(message, &mut position)?;
        let (field, wire_type) = (key >> 3, key & 7);
        let next = match wire_type {
            0 => {
                varint(message, &mut position)?;
                position
            }
            1 => position.checked_add(8)?,
            2 => {
                let length = usize::try_from(varint(message, &mut position)?).ok()?;
                let end = position.checked_add(length)?;
                if field == field_number {
                    if found.is_some() {
                        return None;
                    }
                    found = Some(message.get(position..end)?);
                }
                end
            }
            5 => position.checked_add(4)?,
            _ => return None,
        };
        if next > message.len() {
            return None;
        }
        position = next;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;
    use updraft_proto::flyteidl::admin;

    #[test]
    fn finds_the_spec_of_an_encoded_request() {
        let request = admin::TaskCreateRequest {
            id: Some(Default::default()),
            spec: Some(admin::TaskSpec {
                template: Some(updraft_proto::flyteidl::core::TaskTemplate {
                    r#type: "python-task".to_string(),
                    ..Default::default()
                }),
                description: None,
            }),
        };
        let bytes = request.encode_to_vec();
        let spec = single_embedded_field(&bytes, 2).unwrap();
        assert_eq!(spec, request.spec.unwrap().encode_to_vec().as_slice());
        assert!(single_embedded_field(&bytes, 7).is_none());
    }

    #[test]
    fn refuses_repeated_or_truncated_fields() {
        // Field 2 twice: a decoder would merge them.
        assert!(single_embedded_field(&[0x12, 0x00, 0x12, 0x00], 2).is_none());
        // Length runs past the end.
        assert!(single_embedded_field(&[0x12, 0x05, 0x01], 2).is_none());
    }

    #[test]
    fn frames_are_unwrapped_only_when_whole_and_uncompressed() {
        let frame = Bytes::from_static(&[0, 0, 0, 0, 2, 0xaa, 0xbb]);
        assert_eq!(
            single_frame_message(&frame).unwrap().as_ref(),
            &[0xaa, 0xbb]
        );
        assert!(single_frame_message(&Bytes::from_static(&[1, 0, 0, 0, 2, 0xaa, 0xbb])).is_none());
        assert!(single_frame_message(&Bytes::from_static(&[0, 0, 0, 0, 3, 0xaa])).is_none());
    }
}
