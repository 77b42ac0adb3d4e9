//! The object store both planes share. Admin keeps execution inputs and
//! uploaded code in it; propeller keeps each node's inputs, outputs, errors,
//! futures and decks; tasks read and write it themselves through the URIs
//! they are handed. One [`Storage`] is a local folder (`file://` URIs, the
//! embedded default), an S3 bucket (`s3://` URIs, production) or memory
//! (tests), with the same calls for each.

mod settings;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path as ObjectPath;
use object_store::signer::{SignedUrlOptions, Signer};
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig};

pub use settings::{S3Settings, StorageSettings};

/// Why an object-store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The local store's folder could not be created.
    #[error("cannot create the object store folder {path}")]
    CreateRoot {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The configuration cannot make a store (`key` names the setting).
    #[error("invalid `{key}`: {message}")]
    Configuration { key: &'static str, message: String },
    /// The store did not answer as a usable store at start-up (`key` names
    /// the setting most likely wrong; `answer` is what the store said).
    #[error("the object store is not usable; check `{key}`: {answer}")]
    Unusable { key: &'static str, answer: String },
    /// A key is not a valid object path.
    #[error("invalid object key {key:?}")]
    InvalidKey {
        key: String,
        #[source]
        source: object_store::path::Error,
    },
    /// A URI that is not in this store.
    #[error("{uri} is not in this object store ({base})")]
    OutsideStore { uri: String, base: String },
    /// No object at this location.
    #[error("no object at {location}")]
    NotFound { location: String },
    /// The backend failed (after its own retries of transient errors).
    #[error("object store failed to {action} {location}")]
    Backend {
        action: &'static str,
        location: String,
        #[source]
        source: object_store::Error,
    },
}

/// Which kind of store this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageKind {
    /// A local folder.
    Local,
    /// An S3 bucket.
    S3,
    /// Memory of this process.
    Memory,
}

/// The HTTP method a signed URL is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedMethod {
    /// Upload (`PUT`).
    Put,
    /// Download (`GET`).
    Get,
}

/// Blobs by key, each also addressed by a URI (`file:///…/key`,
/// `s3://bucket/key`) that tasks and Flyte's messages carry.
#[derive(Debug, Clone)]
pub struct Storage {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    objects: Arc<dyn ObjectStore>,
    backend: Backend,
    /// Prepended to a key to form its URI; ends with `/`.
    base_uri: String,
}

#[derive(Debug)]
enum Backend {
    Local {
        root: PathBuf,
    },
    S3 {
        bucket: AmazonS3,
        settings: S3Settings,
    },
    Memory,
}

/// How long one S3 request may take before it is retried or fails.
const S3_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a connection to S3 may take to open.
const S3_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The start-up check answers quickly: a wrong endpoint should stop start-up
/// with a message, not hang it through a run's worth of retries.
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

impl Storage {
    /// Opens the store `settings` describes. An S3 store is not contacted
    /// here; call [`Storage::check`] to know it answers.
    pub fn open(settings: &StorageSettings) -> Result<Self, StorageError> {
        match settings {
            StorageSettings::Local { root } => Self::local(root),
            StorageSettings::S3(s3) => Self::s3(s3),
            StorageSettings::Memory => Ok(Self::in_memory()),
        }
    }

    /// A store in a local folder (created if missing); URIs are `file://` paths.
    pub fn local(root: &Path) -> Result<Self, StorageError> {
        let create_error = |source| StorageError::CreateRoot {
            path: root.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(root).map_err(create_error)?;
        let root = root.canonicalize().map_err(create_error)?;
        let objects =
            LocalFileSystem::new_with_prefix(&root).map_err(|source| StorageError::Backend {
                action: "open",
                location: root.display().to_string(),
                source,
            })?;
        let mut base_uri = format!("file://{}", root.display());
        if !base_uri.ends_with('/') {
            base_uri.push('/');
        }
        Ok(Self::from_parts(
            Arc::new(objects),
            Backend::Local { root },
            base_uri,
        ))
    }

    /// A store in this process's memory, for tests; URIs are `memory://store/…`.
    pub fn in_memory() -> Self {
        Self::from_parts(
            Arc::new(InMemory::new()),
            Backend::Memory,
            "memory://store/".to_string(),
        )
    }

    /// A store in an S3 bucket (or an S3-compatible server at `endpoint`).
    pub fn s3(settings: &S3Settings) -> Result<Self, StorageError> {
        let bucket = s3_builder(settings, RetryConfig::default(), S3_REQUEST_TIMEOUT)?;
        let base_uri = format!("s3://{}/", settings.bucket);
        Ok(Self::from_parts(
            Arc::new(bucket.clone()),
            Backend::S3 {
                bucket,
                settings: settings.clone(),
            },
            base_uri,
        ))
    }

    fn from_parts(objects: Arc<dyn ObjectStore>, backend: Backend, base_uri: String) -> Self {
        Self {
            inner: Arc::new(Inner {
                objects,
                backend,
                base_uri,
            }),
        }
    }

    /// Which kind of store this is.
    pub fn kind(&self) -> StorageKind {
        match self.inner.backend {
            Backend::Local { .. } => StorageKind::Local,
            Backend::S3 { .. } => StorageKind::S3,
            Backend::Memory => StorageKind::Memory,
        }
    }

    /// The folder of a local store.
    pub fn local_root(&self) -> Option<&Path> {
        match &self.inner.backend {
            Backend::Local { root } => Some(root),
            _ => None,
        }
    }

    /// The URI every key's URI starts with (`file:///data/store/`, `s3://bucket/`).
    pub fn base_uri(&self) -> &str {
        &self.inner.base_uri
    }

    /// The URI of `key`.
    pub fn uri_for(&self, key: &str) -> String {
        format!("{}{}", self.inner.base_uri, key.trim_start_matches('/'))
    }

    /// The key of a URI in this store, if it is one. A local store also
    /// takes the plain path of a file in its folder.
    pub fn key_for_uri<'uri>(&self, uri: &'uri str) -> Option<&'uri str> {
        if let Some(key) = uri.strip_prefix(self.inner.base_uri.as_str()) {
            return Some(key);
        }
        if let Backend::Local { root } = &self.inner.backend {
            let path = Path::new(uri.strip_prefix("file://").unwrap_or(uri));
            let relative = path.strip_prefix(root).ok()?;
            let relative = relative.to_str()?;
            return Some(&uri[uri.len() - relative.len()..]);
        }
        None
    }

    fn key_or_error<'uri>(&self, uri: &'uri str) -> Result<&'uri str, StorageError> {
        self.key_for_uri(uri)
            .ok_or_else(|| StorageError::OutsideStore {
                uri: uri.to_string(),
                base: self.inner.base_uri.clone(),
            })
    }

    fn object_path(key: &str) -> Result<ObjectPath, StorageError> {
        ObjectPath::parse(key).map_err(|source| StorageError::InvalidKey {
            key: key.to_string(),
            source,
        })
    }

    fn backend_error(
        &self,
        action: &'static str,
        key: &str,
        source: object_store::Error,
    ) -> StorageError {
        match source {
            object_store::Error::NotFound { .. } => StorageError::NotFound {
                location: self.uri_for(key),
            },
            source => StorageError::Backend {
                action,
                location: self.uri_for(key),
                source,
            },
        }
    }

    /// Writes `bytes` at `key`, replacing what was there.
    #[tracing::instrument(skip(self, bytes), fields(size = bytes.len()))]
    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StorageError> {
        let path = Self::object_path(key)?;
        let started = Instant::now();
        let result = self
            .inner
            .objects
            .put(&path, PutPayload::from_bytes(bytes))
            .await;
        record("put", started);
        result.map_err(|source| self.backend_error("write", key, source))?;
        Ok(())
    }

    /// Reads the object at `key`.
    #[tracing::instrument(skip(self))]
    pub async fn get(&self, key: &str) -> Result<Bytes, StorageError> {
        let path = Self::object_path(key)?;
        let started = Instant::now();
        let result = match self.inner.objects.get(&path).await {
            Ok(result) => result.bytes().await,
            Err(error) => Err(error),
        };
        record("get", started);
        result.map_err(|source| self.backend_error("read", key, source))
    }

    /// The size of the object at `key`, or `None` if there is none.
    #[tracing::instrument(skip(self))]
    pub async fn size(&self, key: &str) -> Result<Option<u64>, StorageError> {
        let path = Self::object_path(key)?;
        let started = Instant::now();
        let result = self.inner.objects.head(&path).await;
        record("head", started);
        match result {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(source) => Err(self.backend_error("inspect", key, source)),
        }
    }

    /// Whether an object is at `key`.
    pub async fn exists(&self, key: &str) -> Result<bool, StorageError> {
        Ok(self.size(key).await?.is_some())
    }

    /// Removes the object at `key`; removing nothing is not an error.
    #[tracing::instrument(skip(self))]
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        let path = Self::object_path(key)?;
        let started = Instant::now();
        let result = self.inner.objects.delete(&path).await;
        record("delete", started);
        match result {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(source) => Err(self.backend_error("delete", key, source)),
        }
    }

    /// The keys below `prefix` (a folder: `a/b` lists `a/b/…`), sorted.
    #[tracing::instrument(skip(self))]
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        use futures::TryStreamExt;
        let prefix_path = Self::object_path(prefix.trim_end_matches('/'))?;
        let started = Instant::now();
        let result: Result<Vec<_>, _> = self
            .inner
            .objects
            .list(Some(&prefix_path))
            .try_collect()
            .await;
        record("list", started);
        let mut keys: Vec<String> = result
            .map_err(|source| self.backend_error("list", prefix, source))?
            .into_iter()
            .map(|meta| meta.location.to_string())
            .collect();
        keys.sort();
        Ok(keys)
    }

    /// [`Storage::put`] at a URI of this store.
    pub async fn put_uri(&self, uri: &str, bytes: Bytes) -> Result<(), StorageError> {
        self.put(self.key_or_error(uri)?, bytes).await
    }

    /// [`Storage::get`] at a URI of this store.
    pub async fn get_uri(&self, uri: &str) -> Result<Bytes, StorageError> {
        self.get(self.key_or_error(uri)?).await
    }

    /// [`Storage::exists`] at a URI of this store.
    pub async fn exists_uri(&self, uri: &str) -> Result<bool, StorageError> {
        self.exists(self.key_or_error(uri)?).await
    }

    /// A URL that lets its holder (flytekit, a browser) `PUT` or `GET` one
    /// object without credentials until `expires_in` has passed, with the
    /// upload's MD5 bound into the signature when given. `None` for stores
    /// that have no URLs of their own (a local folder, memory): their
    /// server signs URLs to its own routes instead.
    pub async fn signed_url(
        &self,
        method: SignedMethod,
        key: &str,
        expires_in: Duration,
        content_md5_base64: Option<&str>,
    ) -> Result<Option<String>, StorageError> {
        let Backend::S3 { bucket, .. } = &self.inner.backend else {
            return Ok(None);
        };
        let path = Self::object_path(key)?;
        let http_method = match method {
            SignedMethod::Put => http::Method::PUT,
            SignedMethod::Get => http::Method::GET,
        };
        let mut options = SignedUrlOptions::new();
        if let Some(md5) = content_md5_base64 {
            let value = http::HeaderValue::from_str(md5).map_err(|_| StorageError::InvalidKey {
                key: key.to_string(),
                source: object_store::path::Error::EmptySegment {
                    path: "content-md5".to_string(),
                },
            })?;
            options =
                options.with_signed_header(http::HeaderName::from_static("content-md5"), value);
        }
        let url = bucket
            .signed_url_opts(http_method, &path, expires_in, &options)
            .await
            .map_err(|source| self.backend_error("sign a URL for", key, source))?;
        Ok(Some(url.to_string()))
    }

    /// What a task process needs in its environment to reach this store
    /// itself, as flytekit reads it (`FLYTE_AWS_*`). Empty for a local
    /// folder. Without keys in the settings the task uses the usual AWS
    /// chain (its own environment, web identity, instance metadata).
    pub fn task_environment(&self) -> Vec<(String, String)> {
        let Backend::S3 { settings, .. } = &self.inner.backend else {
            return Vec::new();
        };
        let mut environment = Vec::new();
        if let Some(endpoint) = &settings.endpoint {
            environment.push(("FLYTE_AWS_ENDPOINT".to_string(), endpoint.clone()));
        }
        if let (Some(key_id), Some(secret)) = (&settings.access_key_id, &settings.secret_access_key)
        {
            environment.push(("FLYTE_AWS_ACCESS_KEY_ID".to_string(), key_id.clone()));
            environment.push(("FLYTE_AWS_SECRET_ACCESS_KEY".to_string(), secret.clone()));
        }
        if let Some(region) = &settings.region {
            // s3fs and boto read the region from the standard variables.
            environment.push(("AWS_REGION".to_string(), region.clone()));
            environment.push(("AWS_DEFAULT_REGION".to_string(), region.clone()));
        }
        environment
    }

    /// Checks the store answers as a usable store: the folder is writable,
    /// or the bucket exists and the credentials are accepted. The error
    /// names the setting to look at and what the store answered.
    pub async fn check(&self) -> Result<(), StorageError> {
        match &self.inner.backend {
            Backend::Memory => Ok(()),
            Backend::Local { root } => {
                let probe = root.join(".updraft-write-check");
                std::fs::write(&probe, b"ok")
                    .and_then(|()| std::fs::remove_file(&probe))
                    .map_err(|error| StorageError::Unusable {
                        key: "storage.root",
                        answer: format!("cannot write in {}: {error}", root.display()),
                    })
            }
            Backend::S3 { settings, .. } => check_bucket(settings).await,
        }
    }
}

/// Object-store call latency, by operation (a bounded label).
fn record(operation: &'static str, started: Instant) {
    metrics::histogram!("updraft:storage:call_duration_ms", "operation" => operation)
        .record(started.elapsed().as_secs_f64() * 1000.0);
}

fn s3_builder(
    settings: &S3Settings,
    retry: RetryConfig,
    timeout: Duration,
) -> Result<AmazonS3, StorageError> {
    if settings.bucket.trim().is_empty() {
        return Err(StorageError::Configuration {
            key: "storage.s3.bucket",
            message: "a bucket name is required".to_string(),
        });
    }
    if settings.access_key_id.is_some() != settings.secret_access_key.is_some() {
        return Err(StorageError::Configuration {
            key: "storage.s3.secret_access_key",
            message: "access_key_id and secret_access_key are given together or not at all"
                .to_string(),
        });
    }
    // The usual AWS chain (environment, web identity for IRSA, instance
    // metadata) when no keys are configured.
    let mut builder = AmazonS3Builder::from_env()
        .with_bucket_name(&settings.bucket)
        .with_retry(retry)
        .with_client_options(
            ClientOptions::new()
                .with_timeout(timeout)
                .with_connect_timeout(S3_CONNECT_TIMEOUT)
                .with_allow_http(settings.allow_http),
        );
    if let Some(region) = &settings.region {
        builder = builder.with_region(region);
    }
    if let Some(endpoint) = &settings.endpoint {
        // S3-compatible servers on an address of their own take the bucket
        // in the path, not in a host name.
        builder = builder
            .with_endpoint(endpoint)
            .with_virtual_hosted_style_request(false);
    }
    if let (Some(key_id), Some(secret)) = (&settings.access_key_id, &settings.secret_access_key) {
        builder = builder
            .with_access_key_id(key_id)
            .with_secret_access_key(secret);
    }
    builder
        .build()
        .map_err(|error| StorageError::Configuration {
            key: "storage.s3",
            message: error.to_string(),
        })
}

async fn check_bucket(settings: &S3Settings) -> Result<(), StorageError> {
    let quick = RetryConfig {
        max_retries: 1,
        retry_timeout: CHECK_TIMEOUT,
        ..RetryConfig::default()
    };
    let bucket = s3_builder(settings, quick, CHECK_TIMEOUT)?;
    let probe = ObjectPath::from("updraft-start-check");
    match bucket.list_with_delimiter(Some(&probe)).await {
        Ok(_) => Ok(()),
        Err(error) => {
            let answer = error_chain(&error);
            let key = match &error {
                object_store::Error::PermissionDenied { .. }
                | object_store::Error::Unauthenticated { .. } => {
                    "storage.s3.access_key_id and storage.s3.secret_access_key"
                }
                object_store::Error::NotFound { .. } => "storage.s3.bucket",
                _ if answer.contains("NoSuchBucket") => "storage.s3.bucket",
                _ if answer.contains("SignatureDoesNotMatch")
                    || answer.contains("InvalidAccessKeyId") =>
                {
                    "storage.s3.access_key_id and storage.s3.secret_access_key"
                }
                _ => "storage.s3.endpoint",
            };
            Err(StorageError::Unusable {
                key,
                answer: format!(
                    "bucket {} at {}: {answer}",
                    settings.bucket,
                    settings.endpoint.as_deref().unwrap_or("AWS S3")
                ),
            })
        }
    }
}

/// An error and its sources on one line, for start-up messages.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

impl StorageError {
    /// Whether the object is missing (as opposed to the store failing).
    pub fn is_not_found(&self) -> bool {
        matches!(self, StorageError::NotFound { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_and_keys_round_trip_in_a_local_store() {
        let folder = tempfile::tempdir().unwrap();
        let storage = Storage::local(folder.path()).unwrap();
        let root = folder.path().canonicalize().unwrap();
        let uri = storage.uri_for("metadata/a/inputs.pb");
        assert_eq!(
            uri,
            format!("file://{}/metadata/a/inputs.pb", root.display())
        );
        assert_eq!(storage.key_for_uri(&uri), Some("metadata/a/inputs.pb"));
        let plain = format!("{}/metadata/a/inputs.pb", root.display());
        assert_eq!(storage.key_for_uri(&plain), Some("metadata/a/inputs.pb"));
        assert_eq!(storage.key_for_uri("file:///elsewhere/x"), None);
        assert_eq!(storage.key_for_uri("s3://bucket/x"), None);
    }

    #[test]
    fn s3_uris_name_the_bucket() {
        let storage = Storage::s3(&S3Settings {
            bucket: "updraft-data".to_string(),
            endpoint: Some("http://127.0.0.1:9".to_string()),
            region: Some("us-east-1".to_string()),
            allow_http: true,
            access_key_id: Some("key".to_string()),
            secret_access_key: Some("secret".to_string()),
        })
        .unwrap();
        assert_eq!(storage.uri_for("uploads/x"), "s3://updraft-data/uploads/x");
        assert_eq!(
            storage.key_for_uri("s3://updraft-data/uploads/x"),
            Some("uploads/x")
        );
        assert_eq!(storage.key_for_uri("s3://other/uploads/x"), None);
        let environment = storage.task_environment();
        assert!(environment.contains(&(
            "FLYTE_AWS_ENDPOINT".to_string(),
            "http://127.0.0.1:9".to_string()
        )));
        assert!(environment.contains(&(
            "FLYTE_AWS_SECRET_ACCESS_KEY".to_string(),
            "secret".to_string()
        )));
    }

    #[test]
    fn half_a_key_pair_is_refused_naming_the_key() {
        let error = Storage::s3(&S3Settings {
            bucket: "b".to_string(),
            access_key_id: Some("key".to_string()),
            ..S3Settings::default()
        })
        .unwrap_err();
        assert!(
            error.to_string().contains("storage.s3.secret_access_key"),
            "{error}"
        );
    }
}
