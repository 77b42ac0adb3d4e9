//! updraft's `CacheEvictionService`: evicting one cached artifact or all an
//! execution produced, which Flyte v1 cannot do. An evicted artifact is
//! deleted with its tags, partitions and data, so the next lookup of its
//! key misses and the next successful run caches again.

use std::collections::BTreeMap;

use tonic::{Request, Response, Status};
use updraft_proto::updraft::catalog::v1 as eviction;
use updraft_proto::updraft::catalog::v1::cache_eviction_service_server::CacheEvictionService;

use crate::CatalogApi;
use crate::error::CatalogError;
use crate::identifiers::{DatasetKey, required};
use crate::metrics::record_evicted;

/// The `updraft.catalog.v1.CacheEvictionService` implementation.
#[derive(Debug, Clone)]
pub struct EvictionApi {
    catalog: CatalogApi,
}

impl EvictionApi {
    pub(crate) fn new(catalog: CatalogApi) -> Self {
        Self { catalog }
    }
}

impl CatalogApi {
    /// Evicts the artifact `tag_name` names in the dataset `dataset_id`;
    /// answers its id.
    #[tracing::instrument(skip_all, fields(tag = tag_name))]
    pub async fn evict_cached_artifact(
        &self,
        dataset_id: Option<&updraft_proto::datacatalog::DatasetId>,
        tag_name: &str,
    ) -> Result<String, CatalogError> {
        let key = DatasetKey::parse(dataset_id, "dataset")?;
        required(tag_name, "tag_name")?;
        let dataset = self.existing_dataset(&key).await?;
        let artifact_id = self
            .state
            .store
            .tag_holder(&dataset.uuid, tag_name)
            .await?
            .ok_or_else(|| {
                CatalogError::not_found(format!("no artifact is tagged {tag_name} in {key}"))
            })?;
        let evicted = self
            .delete_artifacts(&dataset.uuid, std::slice::from_ref(&artifact_id))
            .await?;
        record_evicted(evicted);
        tracing::info!(artifact = artifact_id, dataset = %key, "evicted a cached artifact");
        Ok(artifact_id)
    }

    /// Evicts every artifact the execution produced; answers how many.
    #[tracing::instrument(skip_all, fields(execution = execution.name))]
    pub async fn evict_execution_artifacts(
        &self,
        execution: &updraft_proto::flyteidl::core::WorkflowExecutionIdentifier,
    ) -> Result<usize, CatalogError> {
        required(&execution.project, "execution_id.project")?;
        required(&execution.domain, "execution_id.domain")?;
        required(&execution.name, "execution_id.name")?;
        let produced = self
            .state
            .store
            .artifacts_of_execution(&execution.project, &execution.domain, &execution.name)
            .await?;
        let mut by_dataset: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (dataset_uuid, artifact_id) in produced {
            by_dataset
                .entry(dataset_uuid)
                .or_default()
                .push(artifact_id);
        }
        let mut evicted = 0;
        for (dataset_uuid, artifact_ids) in &by_dataset {
            evicted += self.delete_artifacts(dataset_uuid, artifact_ids).await?;
        }
        record_evicted(evicted);
        tracing::info!(evicted, "evicted the cached artifacts of an execution");
        Ok(evicted)
    }
}

#[tonic::async_trait]
impl CacheEvictionService for EvictionApi {
    #[tracing::instrument(skip_all)]
    async fn evict_cached_artifact(
        &self,
        request: Request<eviction::EvictCachedArtifactRequest>,
    ) -> Result<Response<eviction::EvictCachedArtifactResponse>, Status> {
        let request = request.into_inner();
        let artifact_id = self
            .catalog
            .evict_cached_artifact(request.dataset.as_ref(), &request.tag_name)
            .await?;
        Ok(Response::new(eviction::EvictCachedArtifactResponse {
            artifact_id,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn evict_execution_artifacts(
        &self,
        request: Request<eviction::EvictExecutionArtifactsRequest>,
    ) -> Result<Response<eviction::EvictExecutionArtifactsResponse>, Status> {
        let execution = request
            .into_inner()
            .execution_id
            .ok_or_else(|| Status::from(CatalogError::invalid("execution_id is required")))?;
        let evicted = self.catalog.evict_execution_artifacts(&execution).await?;
        Ok(Response::new(eviction::EvictExecutionArtifactsResponse {
            evicted_artifacts: u32::try_from(evicted).unwrap_or(u32::MAX),
        }))
    }
}
