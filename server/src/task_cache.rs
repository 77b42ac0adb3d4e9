//! The catalog in this process as the propeller's task cache: the same
//! lookups and puts the propeller makes over gRPC, as direct calls, so a
//! cache hit costs a database query and the blob reads and nothing else.

use std::time::Duration;

use updraft_catalog::{CacheHit, CachePut, CatalogApi, PutOutcome};
use updraft_propeller::catalog_keys::CacheKey;
use updraft_propeller::task_cache::{
    CacheEntry, CacheError, CachedOutputs, Reservation, TaskCache,
};

/// [`CatalogApi`] behind the propeller's [`TaskCache`].
pub struct InProcessCatalog(pub CatalogApi);

fn failed(operation: &'static str) -> impl Fn(updraft_catalog::error::CatalogError) -> CacheError {
    move |error| {
        let mut message = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        CacheError { operation, message }
    }
}

#[async_trait::async_trait]
impl TaskCache for InProcessCatalog {
    async fn lookup(&self, key: &CacheKey) -> Result<Option<CachedOutputs>, CacheError> {
        let hit = self
            .0
            .lookup_cached_outputs(&key.dataset_id, &key.tag)
            .await
            .map_err(failed("lookup"))?;
        Ok(hit.map(
            |CacheHit {
                 dataset,
                 artifact,
                 outputs,
             }| CachedOutputs {
                outputs,
                artifact_id: artifact.id,
                dataset_metadata: dataset.metadata,
                artifact_metadata: artifact.metadata,
            },
        ))
    }

    async fn put(&self, entry: CacheEntry) -> Result<String, CacheError> {
        let put = CachePut {
            dataset: updraft_proto::datacatalog::Dataset {
                id: Some(entry.key.dataset_id.clone()),
                metadata: Some(entry.dataset_metadata),
                partition_keys: Vec::new(),
            },
            tag_name: entry.key.tag.clone(),
            outputs: entry.outputs,
            artifact_metadata: entry.artifact_metadata,
        };
        if entry.overwrite {
            return self
                .0
                .overwrite_cached_outputs(put)
                .await
                .map_err(failed("overwrite"));
        }
        match self
            .0
            .put_cached_outputs(put)
            .await
            .map_err(failed("put"))?
        {
            PutOutcome::Stored { artifact_id } | PutOutcome::AlreadyCached { artifact_id } => {
                Ok(artifact_id)
            }
        }
    }

    async fn reserve(
        &self,
        key: &CacheKey,
        owner: &str,
        heartbeat: Duration,
    ) -> Result<Reservation, CacheError> {
        let state = self
            .0
            .get_or_extend_reservation(&key.reservation_id(), owner, Some(heartbeat))
            .await
            .map_err(failed("reserve"))?;
        Ok(if state.acquired {
            Reservation::Acquired {
                heartbeat: state
                    .reservation
                    .heartbeat_interval
                    .and_then(|granted| Duration::try_from(granted).ok())
                    .filter(|granted| !granted.is_zero())
                    .unwrap_or(heartbeat),
            }
        } else {
            Reservation::HeldBy {
                owner: state.reservation.owner_id,
            }
        })
    }

    async fn release(&self, key: &CacheKey, owner: &str) -> Result<(), CacheError> {
        self.0
            .release_reservation(&key.reservation_id(), owner)
            .await
            .map_err(failed("release"))
    }
}
