//! The Rust API an in-process propeller caches task outputs with: the same
//! operations it makes over gRPC (GetDataset + GetArtifact by tag; then
//! CreateDataset, CreateArtifact, AddTag), each in one call here. A lookup
//! is one database query plus one object read per output; a put stores the
//! artifact and its tag in one transaction.

use std::collections::HashMap;

use updraft_proto::datacatalog;
use updraft_proto::flyteidl::core;

use crate::CatalogApi;
use crate::artifacts::StoredArtifact;
use crate::datasets::dataset_from_record;
use crate::error::CatalogError;
use crate::identifiers::{DatasetKey, required};

/// A cached result: the dataset (its metadata records the task version that
/// first cached), the artifact (its metadata records the producing
/// execution) and the outputs it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheHit {
    /// The dataset, with its UUID.
    pub dataset: datacatalog::Dataset,
    /// The artifact, its data included.
    pub artifact: datacatalog::Artifact,
    /// The artifact's data as the task's outputs.
    pub outputs: core::LiteralMap,
}

/// Outputs to cache under a tag.
#[derive(Debug, Clone, PartialEq)]
pub struct CachePut {
    /// The dataset (created when missing); for a cached task its id is
    /// `flyte_task-<name>` at `<cache version>-<interface hashes>` and its
    /// metadata `{task-version: …}`.
    pub dataset: datacatalog::Dataset,
    /// The tag (`flyte_cached-<inputs hash>`).
    pub tag_name: String,
    /// The outputs; at least one, as datacatalog requires.
    pub outputs: core::LiteralMap,
    /// The artifact's metadata: the producing execution (`exec-project`,
    /// `exec-domain`, `execution-name`, `exec-node`, `exec-attempt`).
    pub artifact_metadata: datacatalog::Metadata,
}

/// What a put came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutOutcome {
    /// Stored as this new artifact.
    Stored {
        /// The artifact.
        artifact_id: String,
    },
    /// The tag already named an artifact (another run put first); nothing
    /// was stored, as after datacatalog's AddTag answers ALREADY_EXISTS.
    AlreadyCached {
        /// The artifact the tag names.
        artifact_id: String,
    },
}

fn artifact_data(outputs: &core::LiteralMap) -> Vec<datacatalog::ArtifactData> {
    let mut data: Vec<datacatalog::ArtifactData> = outputs
        .literals
        .iter()
        .map(|(name, value)| datacatalog::ArtifactData {
            name: name.clone(),
            value: Some(value.clone()),
        })
        .collect();
    data.sort_by(|left, right| left.name.cmp(&right.name));
    data
}

impl CatalogApi {
    /// The outputs cached under `tag_name` in the dataset `dataset_id`, or
    /// `None` for a miss: no such dataset, no such tag, or data lost from the
    /// object store (the entry is then dropped so a new put can fill it).
    #[tracing::instrument(skip_all, fields(tag = tag_name))]
    pub async fn lookup_cached_outputs(
        &self,
        dataset_id: &datacatalog::DatasetId,
        tag_name: &str,
    ) -> Result<Option<CacheHit>, CatalogError> {
        let key = DatasetKey::parse(Some(dataset_id), "dataset")?;
        required(tag_name, "tag_name")?;
        let Some((dataset, record)) = self
            .state
            .store
            .find_artifact_by_tag(&key, tag_name)
            .await?
        else {
            return Ok(None);
        };
        let artifact = match self.artifact_with_data(&dataset, &record).await {
            Ok(artifact) => artifact,
            Err(CatalogError::NotFound(_)) => return Ok(None),
            Err(error) => return Err(error),
        };
        let outputs = core::LiteralMap {
            literals: artifact
                .data
                .iter()
                .map(|output| {
                    (
                        output.name.clone(),
                        output.value.clone().unwrap_or_default(),
                    )
                })
                .collect::<HashMap<_, _>>(),
        };
        Ok(Some(CacheHit {
            dataset: dataset_from_record(&dataset)?,
            artifact,
            outputs,
        }))
    }

    /// Caches `put.outputs` under `put.tag_name`: the dataset (unless it
    /// exists), then a new artifact and its tag in one transaction.
    #[tracing::instrument(skip_all, fields(tag = put.tag_name))]
    pub async fn put_cached_outputs(&self, put: CachePut) -> Result<PutOutcome, CatalogError> {
        let dataset_id = put.dataset.id.clone();
        match self
            .create_dataset_impl(datacatalog::CreateDatasetRequest {
                dataset: Some(put.dataset),
            })
            .await
        {
            Ok(_) | Err(CatalogError::AlreadyExists(_)) => {}
            Err(error) => return Err(error),
        }
        let artifact_id = uuid::Uuid::new_v4().to_string();
        let artifact = datacatalog::Artifact {
            id: artifact_id.clone(),
            dataset: dataset_id,
            data: artifact_data(&put.outputs),
            metadata: Some(put.artifact_metadata),
            tags: vec![datacatalog::Tag {
                name: put.tag_name,
                ..Default::default()
            }],
            ..Default::default()
        };
        match self.store_artifact(artifact).await? {
            StoredArtifact::Created => Ok(PutOutcome::Stored { artifact_id }),
            StoredArtifact::TagHeld { artifact_id, .. } => {
                Ok(PutOutcome::AlreadyCached { artifact_id })
            }
        }
    }

    /// Replaces what `put.tag_name` caches (`overwrite_cache`): the artifact
    /// it names gets the new outputs and metadata, or, without one, the
    /// outputs are put as by [`CatalogApi::put_cached_outputs`]. Answers the
    /// artifact's id.
    #[tracing::instrument(skip_all, fields(tag = put.tag_name))]
    pub async fn overwrite_cached_outputs(&self, put: CachePut) -> Result<String, CatalogError> {
        let updated = self
            .update_artifact_impl(datacatalog::UpdateArtifactRequest {
                dataset: put.dataset.id.clone(),
                data: artifact_data(&put.outputs),
                metadata: Some(put.artifact_metadata.clone()),
                query_handle: Some(datacatalog::update_artifact_request::QueryHandle::TagName(
                    put.tag_name.clone(),
                )),
            })
            .await;
        match updated {
            Ok(response) => Ok(response.artifact_id),
            Err(CatalogError::NotFound(_)) => match self.put_cached_outputs(put).await? {
                PutOutcome::Stored { artifact_id } | PutOutcome::AlreadyCached { artifact_id } => {
                    Ok(artifact_id)
                }
            },
            Err(error) => Err(error),
        }
    }
}
