//! The object store for blobs (execution inputs, uploaded code archives). The
//! `object_store` crate is the seam: today a local folder, later S3, with the
//! same calls; only how a key becomes a URL tasks can read differs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

/// Why an object-store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BlobStoreError {
    /// The store's root folder could not be created.
    #[error("cannot create the object store folder {path}")]
    CreateRoot {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A key is not a valid object path.
    #[error("invalid object key {key:?}")]
    InvalidKey {
        key: String,
        #[source]
        source: object_store::path::Error,
    },
    /// No object at this key.
    #[error("no object at {key}")]
    NotFound { key: String },
    /// The backend failed.
    #[error("object store failed to {action} {key}")]
    Backend {
        action: &'static str,
        key: String,
        #[source]
        source: object_store::Error,
    },
}

/// Blobs by key, plus the URL each key has for the tasks that read it.
#[derive(Debug, Clone)]
pub struct BlobStore {
    objects: Arc<dyn ObjectStore>,
    /// Prepended to a key to form its URL (`file:///data/store/`).
    url_prefix: String,
}

impl BlobStore {
    /// A store in a local folder (created if missing); URLs are `file://` paths.
    pub fn local(root: &Path) -> Result<Self, BlobStoreError> {
        std::fs::create_dir_all(root).map_err(|source| BlobStoreError::CreateRoot {
            path: root.to_path_buf(),
            source,
        })?;
        let root = root
            .canonicalize()
            .map_err(|source| BlobStoreError::CreateRoot {
                path: root.to_path_buf(),
                source,
            })?;
        let objects =
            LocalFileSystem::new_with_prefix(&root).map_err(|source| BlobStoreError::Backend {
                action: "open",
                key: root.display().to_string(),
                source,
            })?;
        let mut url_prefix = format!("file://{}", root.display());
        if !url_prefix.ends_with('/') {
            url_prefix.push('/');
        }
        Ok(Self {
            objects: Arc::new(objects),
            url_prefix,
        })
    }

    /// The URL tasks use to read `key`.
    pub fn url_for(&self, key: &str) -> String {
        format!("{}{key}", self.url_prefix)
    }

    /// The key of a URL this store handed out, if it is one.
    pub fn key_for_url<'url>(&self, url: &'url str) -> Option<&'url str> {
        url.strip_prefix(&self.url_prefix)
    }

    fn object_path(key: &str) -> Result<ObjectPath, BlobStoreError> {
        ObjectPath::parse(key).map_err(|source| BlobStoreError::InvalidKey {
            key: key.to_string(),
            source,
        })
    }

    /// Writes `bytes` at `key`, replacing what was there.
    #[tracing::instrument(skip(self, bytes), fields(size = bytes.len()))]
    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), BlobStoreError> {
        let path = Self::object_path(key)?;
        self.objects
            .put(&path, PutPayload::from_bytes(bytes))
            .await
            .map_err(|source| BlobStoreError::Backend {
                action: "write",
                key: key.to_string(),
                source,
            })?;
        Ok(())
    }

    /// Reads the object at `key`.
    #[tracing::instrument(skip(self))]
    pub async fn get(&self, key: &str) -> Result<Bytes, BlobStoreError> {
        let path = Self::object_path(key)?;
        let result = match self.objects.get(&path).await {
            Ok(result) => result,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(BlobStoreError::NotFound {
                    key: key.to_string(),
                });
            }
            Err(source) => {
                return Err(BlobStoreError::Backend {
                    action: "read",
                    key: key.to_string(),
                    source,
                });
            }
        };
        result
            .bytes()
            .await
            .map_err(|source| BlobStoreError::Backend {
                action: "read",
                key: key.to_string(),
                source,
            })
    }

    /// The size of the object at `key`, or `None` if there is none.
    #[tracing::instrument(skip(self))]
    pub async fn size(&self, key: &str) -> Result<Option<u64>, BlobStoreError> {
        let path = Self::object_path(key)?;
        match self.objects.head(&path).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(source) => Err(BlobStoreError::Backend {
                action: "inspect",
                key: key.to_string(),
                source,
            }),
        }
    }
}
