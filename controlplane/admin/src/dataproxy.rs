//! `DataProxyService` and the HTTP side of its signed URLs. flytekit asks for
//! an upload location, then PUTs the file to the returned `signed_url`. On
//! S3 that is a presigned S3 URL (the upload's Content-MD5 bound into its
//! signature), so code goes straight to the bucket. On a local folder the
//! URL points at updraft's own HTTP address, carries an expiry and an HMAC
//! signature, and the handler writes into the folder. Either way the
//! returned `native_url` (`s3://…`, `file://…`) is where tasks read it.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::{get, put};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use sha2::Sha256;
use tonic::{Request, Response, Status};
use updraft_proto::flyteidl::service;
use updraft_proto::flyteidl::service::data_proxy_service_server::{
    DataProxyService, DataProxyServiceServer,
};

use crate::error::AdminError;
use crate::identifiers::{require, require_project_and_domain};
use crate::{AdminState, MAX_MESSAGE_BYTES};
use updraft_storage::{SignedMethod, StorageError as BlobStoreError};

/// Largest upload the signed-URL handler accepts (code archives, file inputs).
pub const MAX_UPLOAD_BYTES: usize = 1024 * 1024 * 1024;

/// The longest lifetime a client may ask for.
const MAX_SIGNED_URL_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

/// Where signed upload URLs point, below the public HTTP base.
pub const UPLOAD_ROUTE_PREFIX: &str = "/api/v1/dataproxy/upload/";
/// Where signed download URLs point, below the public HTTP base.
pub const DOWNLOAD_ROUTE_PREFIX: &str = "/api/v1/dataproxy/download/";

type HmacSha256 = Hmac<Sha256>;

/// The `flyteidl.service.DataProxyService` implementation.
#[derive(Debug, Clone)]
pub struct DataProxyApi {
    state: Arc<AdminState>,
}

impl DataProxyApi {
    pub(crate) fn new(state: Arc<AdminState>) -> Self {
        Self { state }
    }

    /// This service as a tonic service, with updraft's message-size limits.
    pub fn into_service(self) -> DataProxyServiceServer<Self> {
        DataProxyServiceServer::new(self)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }
}

fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default()
}

/// What a signature covers: the method, the object key, the expiry and the
/// MD5 the upload must have (empty when none was promised).
fn signature(key: &[u8], method: &str, object_key: &str, expires: u64, md5_hex: &str) -> String {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(format!("{method}\n{object_key}\n{expires}\n{md5_hex}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn verify_signature(
    key: &[u8],
    method: &str,
    object_key: &str,
    expires: u64,
    md5_hex: &str,
    given: &str,
) -> bool {
    let Ok(given) = hex::decode(given) else {
        return false;
    };
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(format!("{method}\n{object_key}\n{expires}\n{md5_hex}").as_bytes());
    // Constant-time comparison, so timing reveals nothing about the signature.
    mac.verify_slice(&given).is_ok()
}

/// Percent-encodes a key for a URL path, keeping `/` as the separator.
fn encode_key_for_path(key: &str) -> String {
    let mut encoded = String::with_capacity(key.len());
    for byte in key.bytes() {
        let keep = byte.is_ascii_alphanumeric() || b"-._~/=".contains(&byte);
        if keep {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// A key segment taken from the request: no separators, no parent references.
fn safe_segment(value: &str, what: &str) -> Result<(), AdminError> {
    if value.contains('/') || value.contains('\\') || value == "." || value == ".." {
        return Err(AdminError::invalid(format!(
            "invalid {what} {value:?}: it must be a single path segment"
        )));
    }
    Ok(())
}

impl DataProxyApi {
    fn signed_url(
        &self,
        route_prefix: &str,
        method: &str,
        key: &str,
        expires: u64,
        md5_hex: &str,
    ) -> String {
        let settings = &self.state.settings;
        let signature = signature(&settings.signing_key, method, key, expires, md5_hex);
        format!(
            "{}{route_prefix}{}?expires={expires}&content_md5={md5_hex}&signature={signature}",
            settings.public_http_base,
            encode_key_for_path(key)
        )
    }

    /// A URL for `method` on `key`: the store's own presigned URL when it
    /// has them (S3), else one to this server's routes.
    async fn signed_url_for(
        &self,
        method: SignedMethod,
        key: &str,
        lifetime: Duration,
        expires: u64,
        content_md5: &[u8],
    ) -> Result<String, AdminError> {
        let md5_base64 = (!content_md5.is_empty()).then(|| BASE64.encode(content_md5));
        if let Some(url) = self
            .state
            .blobs
            .signed_url(method, key, lifetime, md5_base64.as_deref())
            .await?
        {
            return Ok(url);
        }
        let (route_prefix, method_name) = match method {
            SignedMethod::Put => (UPLOAD_ROUTE_PREFIX, "PUT"),
            SignedMethod::Get => (DOWNLOAD_ROUTE_PREFIX, "GET"),
        };
        Ok(self.signed_url(
            route_prefix,
            method_name,
            key,
            expires,
            &hex::encode(content_md5),
        ))
    }

    fn lifetime(&self, requested: Option<&prost_types::Duration>) -> Result<Duration, AdminError> {
        let requested = requested
            .filter(|duration| duration.seconds > 0 || duration.nanos > 0)
            .map(|duration| Duration::from_secs(u64::try_from(duration.seconds).unwrap_or(0)));
        match requested {
            None => Ok(self.state.settings.default_signed_url_lifetime),
            Some(lifetime) if lifetime > MAX_SIGNED_URL_LIFETIME => {
                Err(AdminError::invalid(format!(
                    "expires_in {}s exceeds the maximum of {}s",
                    lifetime.as_secs(),
                    MAX_SIGNED_URL_LIFETIME.as_secs()
                )))
            }
            Some(lifetime) => Ok(lifetime),
        }
    }

    async fn create_upload_location_impl(
        &self,
        request: service::CreateUploadLocationRequest,
    ) -> Result<service::CreateUploadLocationResponse, AdminError> {
        require_project_and_domain(&self.state.store, &request.project, &request.domain).await?;
        if request.content_md5.is_empty() && request.filename_root.is_empty() {
            return Err(AdminError::invalid(
                "content_md5 or filename_root is required",
            ));
        }
        if !request.content_md5.is_empty() && request.content_md5.len() != 16 {
            return Err(AdminError::invalid(format!(
                "content_md5 must be 16 bytes, got {}",
                request.content_md5.len()
            )));
        }
        let filename = if request.filename.is_empty() {
            // flyteadmin invents a name too when only a root is given.
            uuid::Uuid::new_v4().simple().to_string()
        } else {
            request.filename.clone()
        };
        safe_segment(&filename, "filename")?;
        let prefix = if request.filename_root.is_empty() {
            data_encoding::BASE32.encode(&request.content_md5)
        } else {
            request.filename_root.clone()
        };
        safe_segment(&prefix, "filename_root")?;
        let key = format!(
            "uploads/{}/{}/{prefix}/{filename}",
            request.project, request.domain
        );
        if !request.filename.is_empty()
            && !request.filename_root.is_empty()
            && self.state.blobs.size(&key).await?.is_some()
        {
            let existing = self.state.blobs.get(&key).await?;
            let same = !request.content_md5.is_empty()
                && Md5::digest(&existing).as_slice() == request.content_md5.as_slice();
            if !same {
                return Err(AdminError::AlreadyExists(format!(
                    "file {filename} already exists under {prefix} with different content"
                )));
            }
        }
        let lifetime = self.lifetime(request.expires_in.as_ref())?;
        let expires_at = SystemTime::now() + lifetime;
        let expires = unix_seconds(expires_at);
        let mut headers = std::collections::HashMap::new();
        if !request.content_md5.is_empty() {
            headers.insert(
                "Content-MD5".to_string(),
                BASE64.encode(&request.content_md5),
            );
        }
        tracing::info!(key = %key, "issued upload location");
        Ok(service::CreateUploadLocationResponse {
            signed_url: self
                .signed_url_for(
                    SignedMethod::Put,
                    &key,
                    lifetime,
                    expires,
                    &request.content_md5,
                )
                .await?,
            native_url: self.state.blobs.uri_for(&key),
            expires_at: Some(prost_types::Timestamp {
                seconds: i64::try_from(expires).unwrap_or(i64::MAX),
                nanos: 0,
            }),
            headers,
        })
    }

    #[allow(deprecated)] // The request and response types are deprecated upstream.
    async fn create_download_location_impl(
        &self,
        request: service::CreateDownloadLocationRequest,
    ) -> Result<service::CreateDownloadLocationResponse, AdminError> {
        require(&request.native_url, "native_url")?;
        let key = self
            .state
            .blobs
            .key_for_uri(&request.native_url)
            .ok_or_else(|| {
                AdminError::invalid(format!(
                    "{} is not in this server's object store",
                    request.native_url
                ))
            })?
            .to_string();
        if self.state.blobs.size(&key).await?.is_none() {
            return Err(AdminError::not_found(format!(
                "{} does not exist",
                request.native_url
            )));
        }
        let lifetime = self.lifetime(request.expires_in.as_ref())?;
        let expires = unix_seconds(SystemTime::now() + lifetime);
        Ok(service::CreateDownloadLocationResponse {
            signed_url: self
                .signed_url_for(SignedMethod::Get, &key, lifetime, expires, &[])
                .await?,
            expires_at: Some(prost_types::Timestamp {
                seconds: i64::try_from(expires).unwrap_or(i64::MAX),
                nanos: 0,
            }),
        })
    }
}

impl DataProxyApi {
    /// A signed link to an artifact of a node execution; only decks exist,
    /// which the console fetches to show a node's Deck.
    pub(crate) async fn create_download_link_impl(
        &self,
        request: service::CreateDownloadLinkRequest,
    ) -> Result<service::CreateDownloadLinkResponse, AdminError> {
        use crate::store::{NodeExecutionKey, RunRepo};
        match service::ArtifactType::try_from(request.artifact_type) {
            Ok(service::ArtifactType::Deck) => {}
            _ => {
                return Err(AdminError::invalid(format!(
                    "unsupported artifact_type {}: only ARTIFACT_TYPE_DECK has download links",
                    request.artifact_type
                )));
            }
        }
        let Some(service::create_download_link_request::Source::NodeExecutionId(node)) =
            request.source
        else {
            return Err(AdminError::invalid("missing node_execution_id"));
        };
        require(&node.node_id, "node_id")?;
        let key = NodeExecutionKey {
            execution: crate::identifiers::execution_key(node.execution_id.as_ref())?,
            node_id: node.node_id.clone(),
        };
        let record = self
            .state
            .store
            .get_node_execution(&key)
            .await?
            .ok_or_else(|| AdminError::not_found(format!("{key} does not exist")))?;
        let closure =
            <updraft_proto::flyteidl::admin::NodeExecutionClosure as prost::Message>::decode(
                record.closure.as_slice(),
            )?;
        if closure.deck_uri.is_empty() {
            return Err(AdminError::not_found(format!("{key} has no deck")));
        }
        let object_key = self
            .state
            .blobs
            .key_for_uri(&closure.deck_uri)
            .ok_or_else(|| {
                AdminError::invalid(format!(
                    "the deck of {key} ({}) is not in this server's object store",
                    closure.deck_uri
                ))
            })?
            .to_string();
        let lifetime = self.lifetime(request.expires_in.as_ref())?;
        let expires = unix_seconds(SystemTime::now() + lifetime);
        let expires_at = prost_types::Timestamp {
            seconds: i64::try_from(expires).unwrap_or(i64::MAX),
            nanos: 0,
        };
        let signed_url = self
            .signed_url_for(SignedMethod::Get, &object_key, lifetime, expires, &[])
            .await?;
        #[allow(deprecated)] // Older consoles read the deprecated top-level fields.
        Ok(service::CreateDownloadLinkResponse {
            signed_url: vec![signed_url.clone()],
            expires_at: Some(expires_at),
            pre_signed_urls: Some(service::PreSignedUrLs {
                signed_url: vec![signed_url],
                expires_at: Some(expires_at),
            }),
        })
    }
}

#[tonic::async_trait]
impl DataProxyService for DataProxyApi {
    #[tracing::instrument(skip_all)]
    async fn create_upload_location(
        &self,
        request: Request<service::CreateUploadLocationRequest>,
    ) -> Result<Response<service::CreateUploadLocationResponse>, Status> {
        self.create_upload_location_impl(request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    #[tracing::instrument(skip_all)]
    async fn create_download_link(
        &self,
        request: Request<service::CreateDownloadLinkRequest>,
    ) -> Result<Response<service::CreateDownloadLinkResponse>, Status> {
        self.create_download_link_impl(request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    #[tracing::instrument(skip_all, fields(flyte_url = %request.get_ref().flyte_url))]
    async fn get_data(
        &self,
        request: Request<service::GetDataRequest>,
    ) -> Result<Response<service::GetDataResponse>, Status> {
        crate::AdminApi {
            state: self.state.clone(),
        }
        .get_data_impl(request.into_inner())
        .await
        .map(Response::new)
        .map_err(Status::from)
    }

    #[allow(deprecated)]
    #[tracing::instrument(skip_all)]
    async fn create_download_location(
        &self,
        request: Request<service::CreateDownloadLocationRequest>,
    ) -> Result<Response<service::CreateDownloadLocationResponse>, Status> {
        self.create_download_location_impl(request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }
}

/// Query parameters of a signed URL.
#[derive(Debug, serde::Deserialize)]
struct SignedUrlParameters {
    expires: u64,
    #[serde(default)]
    content_md5: String,
    signature: String,
}

/// Why a signed-URL request was refused.
#[derive(Debug, thiserror::Error)]
enum SignedUrlError {
    #[error("the signature is invalid")]
    BadSignature,
    #[error("the signed URL has expired")]
    Expired,
    #[error("the Content-MD5 header is missing or does not match the signed URL")]
    ContentMd5Header,
    #[error("the body does not match its Content-MD5")]
    BadDigest,
    #[error("no such object")]
    NotFound,
    #[error("internal error")]
    Storage(#[from] BlobStoreError),
}

impl IntoResponse for SignedUrlError {
    fn into_response(self) -> HttpResponse {
        let status = match &self {
            Self::BadSignature | Self::Expired => StatusCode::FORBIDDEN,
            Self::ContentMd5Header | Self::BadDigest => StatusCode::BAD_REQUEST,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Storage(error) => {
                tracing::error!(error = ?error, "signed URL request failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        (status, self.to_string()).into_response()
    }
}

fn check_signed(
    state: &AdminState,
    method: &str,
    key: &str,
    parameters: &SignedUrlParameters,
) -> Result<(), SignedUrlError> {
    if !verify_signature(
        &state.settings.signing_key,
        method,
        key,
        parameters.expires,
        &parameters.content_md5,
        &parameters.signature,
    ) {
        return Err(SignedUrlError::BadSignature);
    }
    if unix_seconds(SystemTime::now()) > parameters.expires {
        return Err(SignedUrlError::Expired);
    }
    Ok(())
}

#[tracing::instrument(skip_all, fields(key = %key, size = body.len()))]
async fn upload(
    State(state): State<Arc<AdminState>>,
    Path(key): Path<String>,
    Query(parameters): Query<SignedUrlParameters>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, SignedUrlError> {
    check_signed(&state, "PUT", &key, &parameters)?;
    if !parameters.content_md5.is_empty() {
        let promised =
            hex::decode(&parameters.content_md5).map_err(|_| SignedUrlError::BadSignature)?;
        let header = headers
            .get("content-md5")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| BASE64.decode(value.trim()).ok())
            .ok_or(SignedUrlError::ContentMd5Header)?;
        if header != promised {
            return Err(SignedUrlError::ContentMd5Header);
        }
        if Md5::digest(&body).as_slice() != promised.as_slice() {
            return Err(SignedUrlError::BadDigest);
        }
    }
    state.blobs.put(&key, body).await?;
    tracing::info!("stored upload");
    Ok(StatusCode::CREATED)
}

#[tracing::instrument(skip_all, fields(key = %key))]
async fn download(
    State(state): State<Arc<AdminState>>,
    Path(key): Path<String>,
    Query(parameters): Query<SignedUrlParameters>,
) -> Result<Bytes, SignedUrlError> {
    check_signed(&state, "GET", &key, &parameters)?;
    match state.blobs.get(&key).await {
        Ok(bytes) => Ok(bytes),
        Err(BlobStoreError::NotFound { .. }) => Err(SignedUrlError::NotFound),
        Err(other) => Err(other.into()),
    }
}

/// The routes signed URLs point at: `PUT /api/v1/dataproxy/upload/{key}` and
/// `GET /api/v1/dataproxy/download/{key}`. Merge into the HTTP router.
pub(crate) fn upload_router(state: Arc<AdminState>) -> Router {
    Router::new()
        .route("/api/v1/dataproxy/upload/{*key}", put(upload))
        .route("/api/v1/dataproxy/download/{*key}", get(download))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_cover_every_part() {
        let key = b"secret";
        let good = signature(key, "PUT", "a/b", 10, "ff");
        assert!(verify_signature(key, "PUT", "a/b", 10, "ff", &good));
        assert!(!verify_signature(key, "GET", "a/b", 10, "ff", &good));
        assert!(!verify_signature(key, "PUT", "a/c", 10, "ff", &good));
        assert!(!verify_signature(key, "PUT", "a/b", 11, "ff", &good));
        assert!(!verify_signature(key, "PUT", "a/b", 10, "fe", &good));
        assert!(!verify_signature(b"other", "PUT", "a/b", 10, "ff", &good));
        assert!(!verify_signature(key, "PUT", "a/b", 10, "ff", "not hex"));
    }

    #[test]
    fn keys_are_encoded_for_paths() {
        assert_eq!(encode_key_for_path("a/B=/c d"), "a/B=/c%20d");
    }
}
