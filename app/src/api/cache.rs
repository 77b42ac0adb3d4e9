//! Task caching as the console shows it: each node's cache status and key,
//! from the events propeller sends admin, and evicting cached results
//! through the catalog's eviction service (updraft's own; Flyte v1 has none).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api::ExecutionRef;
use crate::error::ConsoleError;

/// What the cache did for one node or map index: Flyte's
/// `CatalogCacheStatus`, by the same names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CacheStatus {
    Disabled,
    Miss,
    Hit,
    Populated,
    LookupFailure,
    PutFailure,
    Skipped,
    Evicted,
}

impl CacheStatus {
    /// Every status, in the order counts of them are listed.
    pub const ALL: [CacheStatus; 8] = [
        CacheStatus::Hit,
        CacheStatus::Populated,
        CacheStatus::Miss,
        CacheStatus::Skipped,
        CacheStatus::Evicted,
        CacheStatus::LookupFailure,
        CacheStatus::PutFailure,
        CacheStatus::Disabled,
    ];

    /// The status of `CatalogCacheStatus` number `value`; numbers a newer
    /// Flyte may add read as disabled, which claims nothing.
    pub fn from_number(value: i32) -> Self {
        match value {
            1 => CacheStatus::Miss,
            2 => CacheStatus::Hit,
            3 => CacheStatus::Populated,
            4 => CacheStatus::LookupFailure,
            5 => CacheStatus::PutFailure,
            6 => CacheStatus::Skipped,
            7 => CacheStatus::Evicted,
            _ => CacheStatus::Disabled,
        }
    }

    /// Flyte's enum name without its `CACHE_` prefix (`HIT`,
    /// `LOOKUP_FAILURE`): what pages mark rows with for tests and styles.
    pub fn name(self) -> &'static str {
        match self {
            CacheStatus::Disabled => "DISABLED",
            CacheStatus::Miss => "MISS",
            CacheStatus::Hit => "HIT",
            CacheStatus::Populated => "POPULATED",
            CacheStatus::LookupFailure => "LOOKUP_FAILURE",
            CacheStatus::PutFailure => "PUT_FAILURE",
            CacheStatus::Skipped => "SKIPPED",
            CacheStatus::Evicted => "EVICTED",
        }
    }

    /// A short label for a badge.
    pub fn label(self) -> &'static str {
        match self {
            CacheStatus::Disabled => "Not cached",
            CacheStatus::Miss => "Cache miss",
            CacheStatus::Hit => "From cache",
            CacheStatus::Populated => "Cached",
            CacheStatus::LookupFailure => "Cache lookup failed",
            CacheStatus::PutFailure => "Cache write failed",
            CacheStatus::Skipped => "Cache skipped",
            CacheStatus::Evicted => "Evicted",
        }
    }

    /// What the status means for the person reading the run.
    pub fn meaning(self) -> &'static str {
        match self {
            CacheStatus::Disabled => {
                "Caching was off for this node: its task is not cacheable, or the node has not reached the cache yet."
            }
            CacheStatus::Miss => {
                "No cached result matched this task's version and inputs, so the task ran."
            }
            CacheStatus::Hit => {
                "The outputs were read from the cache: an earlier run with the same task version and inputs produced them, and the task did not run again."
            }
            CacheStatus::Populated => {
                "The task ran and its outputs were written to the cache: later runs with the same task version and inputs reuse them."
            }
            CacheStatus::LookupFailure => {
                "The cache could not be read, so the task ran without it; the catalog's log says why."
            }
            CacheStatus::PutFailure => {
                "The task succeeded but its outputs could not be written to the cache, so the next run with these inputs runs again."
            }
            CacheStatus::Skipped => {
                "The cache was not looked in, because the run was launched to overwrite cached results."
            }
            CacheStatus::Evicted => {
                "The cached result was evicted; the next run with the same inputs runs the task again."
            }
        }
    }

    /// The shape drawn beside the label, so colour is never the only cue.
    pub fn symbol(self) -> &'static str {
        match self {
            CacheStatus::Disabled => "–",
            CacheStatus::Miss => "○",
            CacheStatus::Hit => "↺",
            CacheStatus::Populated => "⤓",
            CacheStatus::LookupFailure | CacheStatus::PutFailure => "!",
            CacheStatus::Skipped => "↷",
            CacheStatus::Evicted => "⌫",
        }
    }

    /// Whether a cache entry stands behind the node, for eviction to remove.
    pub fn has_entry(self) -> bool {
        matches!(self, CacheStatus::Hit | CacheStatus::Populated)
    }
}

/// A dataset of the catalog: one task signature at one cache version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheDataset {
    pub project: String,
    pub domain: String,
    /// `flyte_task-<task name>`.
    pub name: String,
    /// The cache version followed by the interface hashes.
    pub version: String,
}

/// Where a node's cached result is in the catalog, and who produced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheKeyView {
    pub dataset: CacheDataset,
    /// `flyte_cached-<input hash>`.
    pub tag: String,
    /// The execution (and its node) whose run produced the cached outputs;
    /// set on a hit.
    pub source: Option<(ExecutionRef, String)>,
}

/// What the cache did for a node, and its entry when it has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeCacheView {
    pub status: CacheStatus,
    pub key: Option<CacheKeyView>,
}

/// How many cached results an eviction removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvictionOutcome {
    pub evicted: u32,
}

impl EvictionOutcome {
    /// "3 cached results evicted", or `nothing_left` when none was.
    pub fn message(self, nothing_left: &str) -> String {
        match self.evicted {
            0 => format!("Nothing to evict: {nothing_left}"),
            1 => "1 cached result evicted: the next run with the same inputs runs the task again."
                .to_string(),
            many => format!(
                "{many} cached results evicted: the next runs with the same inputs run their tasks again."
            ),
        }
    }
}

/// Evicts the cached result that node `node_id` of the execution read or
/// wrote, so the next run with the same task version and inputs runs the
/// task again. The key is read from admin, not taken from the browser.
#[server(endpoint = "evict_cached_result")]
pub async fn evict_cached_result(
    project: String,
    domain: String,
    name: String,
    node_id: String,
) -> Result<EvictionOutcome, ConsoleError> {
    server::evict_cached_result(project, domain, name, node_id).await
}

/// Evicts every cached result the execution produced.
#[server(endpoint = "evict_execution_cache")]
pub async fn evict_execution_cache(
    project: String,
    domain: String,
    name: String,
) -> Result<EvictionOutcome, ConsoleError> {
    server::evict_execution_cache(project, domain, name).await
}

#[cfg(feature = "ssr")]
pub(crate) use server::node_cache;

#[cfg(feature = "ssr")]
mod server {
    use updraft_proto::datacatalog;
    use updraft_proto::flyteidl::{admin, core};
    use updraft_proto::updraft::catalog::v1 as eviction;

    use super::{CacheDataset, CacheKeyView, CacheStatus, EvictionOutcome, NodeCacheView};
    use crate::api::ExecutionRef;
    use crate::error::ConsoleError;

    /// What the cache did for a node, from admin's copy of the last event
    /// that said; `None` for nodes that run no task.
    pub(crate) fn node_cache(closure: &admin::NodeExecutionClosure) -> Option<NodeCacheView> {
        let Some(admin::node_execution_closure::TargetMetadata::TaskNodeMetadata(metadata)) =
            &closure.target_metadata
        else {
            return None;
        };
        let key = metadata.catalog_key.as_ref().and_then(|key| {
            // A failed put names the task, not a dataset: nothing to evict.
            let dataset = key
                .dataset_id
                .as_ref()
                .filter(|id| id.resource_type == core::ResourceType::Dataset as i32)?;
            let tag = key.artifact_tag.as_ref()?.name.clone();
            let source = match &key.source_execution {
                Some(core::catalog_metadata::SourceExecution::SourceTaskExecution(task)) => {
                    task.node_execution_id.as_ref().and_then(|node| {
                        let execution = node.execution_id.as_ref()?;
                        Some((ExecutionRef::from(execution), node.node_id.clone()))
                    })
                }
                None => None,
            };
            Some(CacheKeyView {
                dataset: CacheDataset {
                    project: dataset.project.clone(),
                    domain: dataset.domain.clone(),
                    name: dataset.name.clone(),
                    version: dataset.version.clone(),
                },
                tag,
                source,
            })
        });
        Some(NodeCacheView {
            status: CacheStatus::from_number(metadata.cache_status),
            key,
        })
    }

    /// A catalog refusal in words a person can act on.
    fn eviction_error(status: tonic::Status) -> ConsoleError {
        match status.code() {
            tonic::Code::Unimplemented => ConsoleError::NotOffered {
                message: "the catalog this console calls cannot evict (Flyte's datacatalog has no eviction): point console.catalog_endpoint at updraft's catalog".into(),
            },
            _ => status.into(),
        }
    }

    pub async fn evict_cached_result(
        project: String,
        domain: String,
        name: String,
        node_id: String,
    ) -> Result<EvictionOutcome, ConsoleError> {
        let mut admin_client = crate::api::admin_client()?;
        let execution_name = name.clone();
        let node = admin_client
            .get_node_execution(admin::NodeExecutionGetRequest {
                id: Some(core::NodeExecutionIdentifier {
                    node_id: node_id.clone(),
                    execution_id: Some(core::WorkflowExecutionIdentifier {
                        project,
                        domain,
                        name,
                        ..Default::default()
                    }),
                }),
            })
            .await
            .map_err(|status| match status.code() {
                tonic::Code::NotFound => ConsoleError::NotFound {
                    what: format!("node {node_id} of execution {execution_name}"),
                },
                _ => status.into(),
            })?
            .into_inner();
        let cache = node.closure.as_ref().and_then(node_cache);
        let Some((status, Some(key))) = cache.map(|cache| (cache.status, cache.key)) else {
            return Err(ConsoleError::InvalidInput {
                message: format!(
                    "node {node_id} has no cached result: only a node that read from or wrote to the cache has one to evict"
                ),
            });
        };
        if !status.has_entry() {
            return Err(ConsoleError::InvalidInput {
                message: format!(
                    "node {node_id} has no cached result ({}): only a node read from the cache or written to it has one to evict",
                    status.label().to_lowercase()
                ),
            });
        }
        let mut catalog = crate::api::eviction_client()?;
        match catalog
            .evict_cached_artifact(eviction::EvictCachedArtifactRequest {
                dataset: Some(datacatalog::DatasetId {
                    project: key.dataset.project,
                    name: key.dataset.name,
                    domain: key.dataset.domain,
                    version: key.dataset.version,
                    ..Default::default()
                }),
                tag_name: key.tag,
            })
            .await
        {
            Ok(_) => Ok(EvictionOutcome { evicted: 1 }),
            // Evicted already (from another page, or with its execution).
            Err(status) if status.code() == tonic::Code::NotFound => {
                Ok(EvictionOutcome { evicted: 0 })
            }
            Err(status) => Err(eviction_error(status)),
        }
    }

    pub async fn evict_execution_cache(
        project: String,
        domain: String,
        name: String,
    ) -> Result<EvictionOutcome, ConsoleError> {
        let mut catalog = crate::api::eviction_client()?;
        let evicted = catalog
            .evict_execution_artifacts(eviction::EvictExecutionArtifactsRequest {
                execution_id: Some(core::WorkflowExecutionIdentifier {
                    project,
                    domain,
                    name,
                    ..Default::default()
                }),
            })
            .await
            .map_err(eviction_error)?
            .into_inner()
            .evicted_artifacts;
        Ok(EvictionOutcome { evicted })
    }

    #[cfg(test)]
    mod tests {
        use super::node_cache;
        use crate::api::CacheStatus;
        use updraft_proto::flyteidl::{admin, core};

        fn closure(metadata: admin::TaskNodeMetadata) -> admin::NodeExecutionClosure {
            admin::NodeExecutionClosure {
                target_metadata: Some(
                    admin::node_execution_closure::TargetMetadata::TaskNodeMetadata(metadata),
                ),
                ..Default::default()
            }
        }

        fn key(resource_type: core::ResourceType, source: Option<&str>) -> core::CatalogMetadata {
            core::CatalogMetadata {
                dataset_id: Some(core::Identifier {
                    resource_type: resource_type as i32,
                    project: "flytesnacks".into(),
                    domain: "development".into(),
                    name: "flyte_task-myapp.cached.double".into(),
                    version: "1.0-abc-def".into(),
                    ..Default::default()
                }),
                artifact_tag: Some(core::CatalogArtifactTag {
                    artifact_id: "a1".into(),
                    name: "flyte_cached-xyz".into(),
                }),
                source_execution: source.map(|name| {
                    core::catalog_metadata::SourceExecution::SourceTaskExecution(
                        core::TaskExecutionIdentifier {
                            node_execution_id: Some(core::NodeExecutionIdentifier {
                                node_id: "n0".into(),
                                execution_id: Some(core::WorkflowExecutionIdentifier {
                                    project: "flytesnacks".into(),
                                    domain: "development".into(),
                                    name: name.into(),
                                    ..Default::default()
                                }),
                            }),
                            ..Default::default()
                        },
                    )
                }),
            }
        }

        #[test]
        fn a_hit_names_its_entry_and_the_execution_that_produced_it() {
            let cache = node_cache(&closure(admin::TaskNodeMetadata {
                cache_status: core::CatalogCacheStatus::CacheHit as i32,
                catalog_key: Some(key(core::ResourceType::Dataset, Some("first"))),
                ..Default::default()
            }))
            .unwrap();
            assert_eq!(cache.status, CacheStatus::Hit);
            let key = cache.key.unwrap();
            assert_eq!(key.dataset.name, "flyte_task-myapp.cached.double");
            assert_eq!(key.dataset.version, "1.0-abc-def");
            assert_eq!(key.tag, "flyte_cached-xyz");
            let (execution, node) = key.source.unwrap();
            assert_eq!(execution.name, "first");
            assert_eq!(node, "n0");
        }

        #[test]
        fn a_failed_put_keyed_on_the_task_has_no_entry_to_evict() {
            let cache = node_cache(&closure(admin::TaskNodeMetadata {
                cache_status: core::CatalogCacheStatus::CachePutFailure as i32,
                catalog_key: Some(key(core::ResourceType::Task, None)),
                ..Default::default()
            }))
            .unwrap();
            assert_eq!(cache.status, CacheStatus::PutFailure);
            assert_eq!(cache.key, None);
        }

        #[test]
        fn nodes_that_run_no_task_have_no_cache_status() {
            assert_eq!(node_cache(&admin::NodeExecutionClosure::default()), None);
            let subworkflow = admin::NodeExecutionClosure {
                target_metadata: Some(
                    admin::node_execution_closure::TargetMetadata::WorkflowNodeMetadata(
                        Default::default(),
                    ),
                ),
                ..Default::default()
            };
            assert_eq!(node_cache(&subworkflow), None);
        }

        #[test]
        fn every_flyte_status_number_reads_as_its_status() {
            for status in CacheStatus::ALL {
                let number =
                    core::CatalogCacheStatus::from_str_name(&format!("CACHE_{}", status.name()))
                        .unwrap() as i32;
                assert_eq!(CacheStatus::from_number(number), status);
            }
            assert_eq!(CacheStatus::from_number(99), CacheStatus::Disabled);
        }
    }
}
