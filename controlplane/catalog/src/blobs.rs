//! Artifact data in the object store, laid out as datacatalog lays it out:
//! one `Literal` per output at
//! `metadata/datacatalog/<project>/<domain>/<dataset name>/<version>/<artifact id>/<output>/data.pb`
//! (`metadata/datacatalog` is the storage prefix Flyte's chart configures).
//! The database keeps each output's URI.

use bytes::Bytes;
use prost::Message;
use updraft_proto::flyteidl::core;
use updraft_storage::{Storage, StorageError};

use crate::identifiers::DatasetKey;

/// Where artifact data goes in the store.
const STORAGE_PREFIX: &str = "metadata/datacatalog";
/// The file each output is kept in.
const ARTIFACT_DATA_FILE: &str = "data.pb";

/// Reads and writes artifact data.
#[derive(Debug, Clone)]
pub struct ArtifactBlobs {
    storage: Storage,
}

impl ArtifactBlobs {
    /// Artifact data in `storage`.
    pub fn new(storage: Storage) -> Self {
        Self { storage }
    }

    /// The object store.
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// Writes one output of an artifact; answers its URI.
    pub async fn put(
        &self,
        dataset: &DatasetKey,
        artifact_id: &str,
        output: &str,
        value: &core::Literal,
    ) -> Result<String, StorageError> {
        let key = format!(
            "{STORAGE_PREFIX}/{}/{}/{}/{}/{artifact_id}/{output}/{ARTIFACT_DATA_FILE}",
            dataset.project, dataset.domain, dataset.name, dataset.version
        );
        self.storage
            .put(&key, Bytes::from(value.encode_to_vec()))
            .await?;
        Ok(self.storage.uri_for(&key))
    }

    /// The output at `location`, or `None` when the object is gone (deleted
    /// by hand or by a storage lifecycle rule): a miss, not a failure.
    pub async fn get(&self, location: &str) -> Result<Option<core::Literal>, BlobReadError> {
        match self.storage.get_uri(location).await {
            Ok(bytes) => core::Literal::decode(bytes)
                .map(Some)
                .map_err(BlobReadError::Decode),
            Err(error) if error.is_not_found() => Ok(None),
            Err(error) => Err(BlobReadError::Storage(error)),
        }
    }

    /// Deletes what is at `locations`, logging (not failing on) what cannot
    /// be deleted: the rows that named them are gone, so at worst an
    /// orphaned object stays behind.
    pub async fn delete_all(&self, locations: &[String]) {
        for location in locations {
            let deleted = match self.storage.key_for_uri(location) {
                Some(key) => self.storage.delete(key).await,
                None => Ok(()),
            };
            if let Err(error) = deleted {
                tracing::warn!(%error, location, "cannot delete artifact data; it stays orphaned");
            }
        }
    }
}

/// Why an output could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BlobReadError {
    /// The store failed.
    #[error(transparent)]
    Storage(StorageError),
    /// The object is not a `Literal`.
    #[error(transparent)]
    Decode(prost::DecodeError),
}
