//! The catalog as the engine sees it: look cached outputs up, cache new
//! ones, and take turns through reservations (`cache_serialize`). An
//! in-process catalog or `datacatalog.DataCatalog` over gRPC sits behind
//! [`TaskCache`]; the engine never learns which.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::Notify;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use updraft_proto::datacatalog;
use updraft_proto::datacatalog::data_catalog_client::DataCatalogClient;
use updraft_proto::flyteidl::core;

use crate::catalog_keys::CacheKey;

/// Outputs found in the cache.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedOutputs {
    /// The task's outputs as they were cached.
    pub outputs: core::LiteralMap,
    /// The artifact holding them.
    pub artifact_id: String,
    /// The dataset's metadata (the task version that first cached).
    pub dataset_metadata: Option<datacatalog::Metadata>,
    /// The artifact's metadata (the task execution that produced it).
    pub artifact_metadata: Option<datacatalog::Metadata>,
}

/// Outputs to cache.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheEntry {
    /// Where they go.
    pub key: CacheKey,
    /// The outputs; at least one.
    pub outputs: core::LiteralMap,
    /// Written only when the dataset is created: `{task-version}`.
    pub dataset_metadata: datacatalog::Metadata,
    /// The producing task execution.
    pub artifact_metadata: datacatalog::Metadata,
    /// Replace what the tag holds (`overwrite_cache`) instead of keeping
    /// the first entry.
    pub overwrite: bool,
}

/// Who holds a reservation after asking for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// The asking owner holds it: run, and ask again within `heartbeat` to
    /// keep it.
    Acquired {
        /// How often to extend it.
        heartbeat: Duration,
    },
    /// Another owner holds it.
    HeldBy {
        /// The holder.
        owner: String,
    },
}

/// Why the catalog could not answer. The engine then runs the task
/// uncached and records the failure on the node.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the catalog did not answer ({operation}): {message}")]
pub struct CacheError {
    /// What was asked.
    pub operation: &'static str,
    /// What went wrong, for the log and the node's event.
    pub message: String,
}

/// The catalog, for task caching.
#[async_trait::async_trait]
pub trait TaskCache: Send + Sync + 'static {
    /// The outputs cached under `key`, or `None` for a miss.
    async fn lookup(&self, key: &CacheKey) -> Result<Option<CachedOutputs>, CacheError>;
    /// Caches `entry`; answers the artifact now under its tag (another
    /// run's when it cached first, unless `overwrite`).
    async fn put(&self, entry: CacheEntry) -> Result<String, CacheError>;
    /// Takes or extends the reservation of `key` for `owner`.
    async fn reserve(
        &self,
        key: &CacheKey,
        owner: &str,
        heartbeat: Duration,
    ) -> Result<Reservation, CacheError>;
    /// Ends `owner`'s reservation of `key`.
    async fn release(&self, key: &CacheKey, owner: &str) -> Result<(), CacheError>;
}

/// Calls the same catalog RPCs, in the same order, as flytepropeller's
/// datacatalog client, so any DataCatalog serves it.
#[derive(Clone)]
pub struct GrpcTaskCache {
    client: DataCatalogClient<Channel>,
}

impl GrpcTaskCache {
    /// The catalog at the other end of `channel`.
    pub fn new(channel: Channel) -> Self {
        Self {
            client: DataCatalogClient::new(channel)
                .max_decoding_message_size(MAX_CATALOG_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_CATALOG_MESSAGE_BYTES),
        }
    }
}

/// Artifacts carry a task's outputs inline, as large as admin's messages.
const MAX_CATALOG_MESSAGE_BYTES: usize = 20 * 1024 * 1024;

fn failed(operation: &'static str) -> impl Fn(Status) -> CacheError {
    move |status| CacheError {
        operation,
        message: format!("{:?}: {}", status.code(), status.message()),
    }
}

fn outputs_of(artifact: &datacatalog::Artifact) -> core::LiteralMap {
    core::LiteralMap {
        literals: artifact
            .data
            .iter()
            .map(|data| (data.name.clone(), data.value.clone().unwrap_or_default()))
            .collect(),
    }
}

fn artifact_data(outputs: &core::LiteralMap) -> Vec<datacatalog::ArtifactData> {
    let mut data: Vec<_> = outputs
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

fn proto_duration(duration: Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: i64::try_from(duration.as_secs()).unwrap_or(i64::MAX),
        nanos: i32::try_from(duration.subsec_nanos()).unwrap_or_default(),
    }
}

#[async_trait::async_trait]
impl TaskCache for GrpcTaskCache {
    async fn lookup(&self, key: &CacheKey) -> Result<Option<CachedOutputs>, CacheError> {
        let mut client = self.client.clone();
        let dataset = match Box::pin(client.get_dataset(Request::new(
            datacatalog::GetDatasetRequest {
                dataset: Some(key.dataset_id.clone()),
            },
        )))
        .await
        {
            Ok(response) => response.into_inner().dataset.unwrap_or_default(),
            Err(status) if status.code() == Code::NotFound => return Ok(None),
            Err(status) => return Err(failed("GetDataset")(status)),
        };
        let artifact = match Box::pin(client.get_artifact(Request::new(
            datacatalog::GetArtifactRequest {
                dataset: Some(key.dataset_id.clone()),
                query_handle: Some(datacatalog::get_artifact_request::QueryHandle::TagName(
                    key.tag.clone(),
                )),
            },
        )))
        .await
        {
            Ok(response) => response.into_inner().artifact.unwrap_or_default(),
            Err(status) if status.code() == Code::NotFound => return Ok(None),
            Err(status) => return Err(failed("GetArtifact")(status)),
        };
        Ok(Some(CachedOutputs {
            outputs: outputs_of(&artifact),
            artifact_id: artifact.id.clone(),
            dataset_metadata: dataset.metadata,
            artifact_metadata: artifact.metadata,
        }))
    }

    async fn put(&self, entry: CacheEntry) -> Result<String, CacheError> {
        let mut client = self.client.clone();
        match Box::pin(
            client.create_dataset(Request::new(datacatalog::CreateDatasetRequest {
                dataset: Some(datacatalog::Dataset {
                    id: Some(entry.key.dataset_id.clone()),
                    metadata: Some(entry.dataset_metadata.clone()),
                    partition_keys: Vec::new(),
                }),
            })),
        )
        .await
        {
            Ok(_) => {}
            Err(status) if status.code() == Code::AlreadyExists => {}
            Err(status) => return Err(failed("CreateDataset")(status)),
        }
        if entry.overwrite {
            match Box::pin(client.update_artifact(Request::new(
                datacatalog::UpdateArtifactRequest {
                    dataset: Some(entry.key.dataset_id.clone()),
                    query_handle: Some(datacatalog::update_artifact_request::QueryHandle::TagName(
                        entry.key.tag.clone(),
                    )),
                    data: artifact_data(&entry.outputs),
                    metadata: Some(entry.artifact_metadata.clone()),
                },
            )))
            .await
            {
                Ok(response) => return Ok(response.into_inner().artifact_id),
                // Nothing cached under the tag yet: create it as a first put.
                Err(status) if status.code() == Code::NotFound => {}
                Err(status) => return Err(failed("UpdateArtifact")(status)),
            }
        }
        let artifact_id = uuid::Uuid::new_v4().to_string();
        Box::pin(
            client.create_artifact(Request::new(datacatalog::CreateArtifactRequest {
                artifact: Some(datacatalog::Artifact {
                    id: artifact_id.clone(),
                    dataset: Some(entry.key.dataset_id.clone()),
                    data: artifact_data(&entry.outputs),
                    metadata: Some(entry.artifact_metadata),
                    ..Default::default()
                }),
            })),
        )
        .await
        .map_err(failed("CreateArtifact"))?;
        match Box::pin(client.add_tag(Request::new(datacatalog::AddTagRequest {
            tag: Some(datacatalog::Tag {
                name: entry.key.tag.clone(),
                artifact_id: artifact_id.clone(),
                dataset: Some(entry.key.dataset_id.clone()),
            }),
        })))
        .await
        {
            Ok(_) => Ok(artifact_id),
            // Another run tagged first; its artifact stays, as in Flyte.
            Err(status) if status.code() == Code::AlreadyExists => Ok(artifact_id),
            Err(status) => Err(failed("AddTag")(status)),
        }
    }

    async fn reserve(
        &self,
        key: &CacheKey,
        owner: &str,
        heartbeat: Duration,
    ) -> Result<Reservation, CacheError> {
        let mut client = self.client.clone();
        let reservation = Box::pin(client.get_or_extend_reservation(Request::new(
            datacatalog::GetOrExtendReservationRequest {
                reservation_id: Some(key.reservation_id()),
                owner_id: owner.to_string(),
                heartbeat_interval: Some(proto_duration(heartbeat)),
            },
        )))
        .await
        .map_err(failed("GetOrExtendReservation"))?
        .into_inner()
        .reservation
        .unwrap_or_default();
        Ok(if reservation.owner_id == owner {
            Reservation::Acquired {
                heartbeat: reservation
                    .heartbeat_interval
                    .and_then(|granted| Duration::try_from(granted).ok())
                    .filter(|granted| !granted.is_zero())
                    .unwrap_or(heartbeat),
            }
        } else {
            Reservation::HeldBy {
                owner: reservation.owner_id,
            }
        })
    }

    async fn release(&self, key: &CacheKey, owner: &str) -> Result<(), CacheError> {
        let mut client = self.client.clone();
        Box::pin(client.release_reservation(Request::new(
            datacatalog::ReleaseReservationRequest {
                reservation_id: Some(key.reservation_id()),
                owner_id: owner.to_string(),
            },
        )))
        .await
        .map_err(failed("ReleaseReservation"))?;
        Ok(())
    }
}

/// Wakes those of this propeller waiting for a reservation when its holder,
/// also in this propeller, releases it, so identical runs on one propeller
/// follow each other at once; a holder elsewhere is noticed by asking again.
#[derive(Debug, Default)]
pub struct ReleaseBoard {
    waiting: Mutex<HashMap<(String, String), Weak<Notify>>>,
}

/// A key as one map key: the dataset's four parts and the tag.
pub(crate) fn board_key(key: &CacheKey) -> (String, String) {
    let dataset = &key.dataset_id;
    (
        format!(
            "{}/{}/{}/{}",
            dataset.project, dataset.domain, dataset.name, dataset.version
        ),
        key.tag.clone(),
    )
}

impl ReleaseBoard {
    /// The signal of `key`'s release, shared by all who wait for it.
    pub(crate) fn signal(&self, key: &CacheKey) -> Arc<Notify> {
        let mut waiting = self.waiting.lock().expect("release board");
        let board_key = board_key(key);
        if let Some(signal) = waiting.get(&board_key).and_then(Weak::upgrade) {
            return signal;
        }
        waiting.retain(|_, signal| signal.strong_count() > 0);
        let signal = Arc::new(Notify::new());
        waiting.insert(board_key, Arc::downgrade(&signal));
        signal
    }

    /// Wakes everyone waiting for `key`.
    pub(crate) fn released(&self, key: &CacheKey) {
        let signal = self
            .waiting
            .lock()
            .expect("release board")
            .get(&board_key(key))
            .and_then(Weak::upgrade);
        if let Some(signal) = signal {
            signal.notify_waiters();
        }
    }
}
