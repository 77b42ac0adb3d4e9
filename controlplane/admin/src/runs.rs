//! What propeller reports while executions run: the three event RPCs (which
//! create and move workflow, node and task executions under Flyte's phase
//! rules) and the reads of node and task executions and their data.

use prost::Message;
use updraft_proto::flyteidl::admin;
use updraft_proto::flyteidl::core::{self, node_execution, task_execution, workflow_execution};
use updraft_proto::flyteidl::event::{
    self, node_execution_event, task_execution_event, workflow_execution_event,
};

use crate::AdminApi;
use crate::error::AdminError;
use crate::filters::{
    ListRequestParts, NODE_EXECUTION_FIELDS, TASK_EXECUTION_FIELDS, build_list_query,
    next_page_token,
};
use crate::identifiers::{definition_identifier, execution_identifier, execution_key};
use crate::phases::{
    EventVerdict, judge_node_event, judge_task_event, judge_workflow_event, node_is_terminal,
    task_is_terminal, workflow_is_terminal,
};
use crate::store::{
    DefinitionKey, ExecutionKey, NodeExecutionKey, NodeExecutionRecord, RunRepo, StoreError,
    TaskExecutionKey, TaskExecutionRecord, now_micros, timestamp_from_micros,
};

/// How often an event retries its read-change-write when another event for
/// the same entity lands in between.
const EVENT_WRITE_ATTEMPTS: usize = 8;

fn micros_of(timestamp: Option<&prost_types::Timestamp>) -> i64 {
    timestamp.map_or_else(now_micros, |time| {
        time.seconds.saturating_mul(1_000_000) + i64::from(time.nanos) / 1_000
    })
}

fn duration_between(start_micros: i64, end_micros: i64) -> prost_types::Duration {
    let micros = (end_micros - start_micros).max(0);
    prost_types::Duration {
        seconds: micros / 1_000_000,
        nanos: i32::try_from((micros % 1_000_000) * 1_000).unwrap_or_default(),
    }
}

fn verdict_to_result(
    verdict: EventVerdict,
    what: impl FnOnce() -> String,
) -> Result<(), AdminError> {
    match verdict {
        EventVerdict::Apply => Ok(()),
        EventVerdict::Duplicate => Err(AdminError::AlreadyExists(format!(
            "{} already has this phase",
            what()
        ))),
        EventVerdict::Refuse(refusal) => Err(AdminError::EventRefused(refusal)),
    }
}

fn node_key(id: Option<&core::NodeExecutionIdentifier>) -> Result<NodeExecutionKey, AdminError> {
    let id = id.ok_or_else(|| AdminError::invalid("missing node execution id"))?;
    if id.node_id.is_empty() {
        return Err(AdminError::invalid("missing node_id"));
    }
    Ok(NodeExecutionKey {
        execution: execution_key(id.execution_id.as_ref())?,
        node_id: id.node_id.clone(),
    })
}

fn node_identifier(key: &NodeExecutionKey) -> core::NodeExecutionIdentifier {
    core::NodeExecutionIdentifier {
        node_id: key.node_id.clone(),
        execution_id: Some(execution_identifier(&key.execution)),
    }
}

fn task_key(id: Option<&core::TaskExecutionIdentifier>) -> Result<TaskExecutionKey, AdminError> {
    let id = id.ok_or_else(|| AdminError::invalid("missing task execution id"))?;
    task_key_of(
        id.task_id.as_ref(),
        id.node_execution_id.as_ref(),
        id.retry_attempt,
    )
}

fn task_key_of(
    task_id: Option<&core::Identifier>,
    node_execution_id: Option<&core::NodeExecutionIdentifier>,
    retry_attempt: u32,
) -> Result<TaskExecutionKey, AdminError> {
    let task = task_id.ok_or_else(|| AdminError::invalid("missing task_id"))?;
    Ok(TaskExecutionKey {
        node: node_key(node_execution_id)?,
        task: DefinitionKey {
            project: task.project.clone(),
            domain: task.domain.clone(),
            name: task.name.clone(),
            version: task.version.clone(),
        },
        retry_attempt: i64::from(retry_attempt),
    })
}

pub(crate) fn node_execution_from_record(
    record: &NodeExecutionRecord,
) -> Result<admin::NodeExecution, AdminError> {
    Ok(admin::NodeExecution {
        id: Some(node_identifier(&record.key)),
        input_uri: record.input_uri.clone(),
        closure: Some(admin::NodeExecutionClosure::decode(
            record.closure.as_slice(),
        )?),
        metadata: Some(admin::NodeExecutionMetaData::decode(
            record.metadata.as_slice(),
        )?),
    })
}

/// What a dynamic node recorded about the workflow it generated.
fn dynamic_workflow_of(
    record: &NodeExecutionRecord,
) -> Result<Option<admin::DynamicWorkflowNodeMetadata>, AdminError> {
    if record.dynamic_workflow.is_empty() {
        return Ok(None);
    }
    let dynamic = updraft_proto::flyteidl::event::DynamicWorkflowNodeMetadata::decode(
        record.dynamic_workflow.as_slice(),
    )?;
    Ok(Some(admin::DynamicWorkflowNodeMetadata {
        id: dynamic.id,
        compiled_workflow: dynamic.compiled_workflow,
        dynamic_job_spec_uri: dynamic.dynamic_job_spec_uri,
    }))
}

pub(crate) fn task_execution_from_record(
    record: &TaskExecutionRecord,
) -> Result<admin::TaskExecution, AdminError> {
    Ok(admin::TaskExecution {
        id: Some(core::TaskExecutionIdentifier {
            task_id: Some(definition_identifier(
                &record.key.task,
                core::ResourceType::Task,
            )),
            node_execution_id: Some(node_identifier(&record.key.node)),
            retry_attempt: u32::try_from(record.key.retry_attempt).unwrap_or_default(),
        }),
        input_uri: record.input_uri.clone(),
        closure: Some(admin::TaskExecutionClosure::decode(
            record.closure.as_slice(),
        )?),
        is_parent: false,
    })
}

/// Merges log links the way flyteadmin does: a link with the same name or
/// URI is replaced by the newer one, new links are appended.
fn merge_logs(existing: &mut Vec<core::TaskLog>, incoming: Vec<core::TaskLog>) {
    for log in incoming {
        match existing
            .iter_mut()
            .find(|known| known.name == log.name || known.uri == log.uri)
        {
            Some(known) => *known = log,
            None => existing.push(log),
        }
    }
}

/// Folds a task event's metadata into what the attempt already has, as
/// flyteadmin does: external resources (array indexes) are merged by index and
/// retry attempt, so a propeller reports only the ones that changed.
fn merge_task_metadata(
    existing: &mut Option<event::TaskExecutionMetadata>,
    latest: &event::TaskExecutionMetadata,
) {
    let Some(existing) = existing.as_mut() else {
        *existing = Some(latest.clone());
        return;
    };
    if !latest.generated_name.is_empty() {
        existing.generated_name.clone_from(&latest.generated_name);
    }
    if !latest.plugin_identifier.is_empty() {
        existing
            .plugin_identifier
            .clone_from(&latest.plugin_identifier);
    }
    if latest.instance_class != 0 {
        existing.instance_class = latest.instance_class;
    }
    existing
        .resource_pool_info
        .clone_from(&latest.resource_pool_info);
    for resource in &latest.external_resources {
        let key = |known: &event::ExternalResourceInfo| (known.index, known.retry_attempt);
        match existing
            .external_resources
            .binary_search_by_key(&key(resource), key)
        {
            Ok(at) => {
                let known = &mut existing.external_resources[at];
                if !resource.external_id.is_empty() {
                    known.external_id.clone_from(&resource.external_id);
                }
                known.phase = resource.phase;
                if resource.cache_status != core::CatalogCacheStatus::CacheDisabled as i32 {
                    known.cache_status = resource.cache_status;
                }
                merge_logs(&mut known.logs, resource.logs.clone());
                if resource.custom_info.is_some() {
                    known.custom_info.clone_from(&resource.custom_info);
                }
            }
            Err(at) => existing.external_resources.insert(at, resource.clone()),
        }
    }
}

impl AdminApi {
    /// Reads a `LiteralMap` this admin's object store holds at `uri`; `None`
    /// for URIs outside it (those are only passed on as links).
    async fn read_literal_map(&self, uri: &str) -> Result<Option<core::LiteralMap>, AdminError> {
        let Some(key) = self.state.blobs.key_for_uri(uri) else {
            return Ok(None);
        };
        // A node that failed before its inputs were written still names
        // where they would be; it has no data, which is not an error.
        let bytes = match self.state.blobs.get(key).await {
            Ok(bytes) => bytes,
            Err(updraft_storage::StorageError::NotFound { .. }) => return Ok(None),
            Err(error) => return Err(error.into()),
        };
        Ok(Some(core::LiteralMap::decode(bytes)?))
    }

    /// The inline literals and the URL blob for a data response.
    #[allow(deprecated)] // The URL blobs are deprecated but flytekit still reads them.
    async fn literal_data(
        &self,
        uri: &str,
    ) -> Result<(Option<admin::UrlBlob>, Option<core::LiteralMap>), AdminError> {
        if uri.is_empty() {
            return Ok((None, None));
        }
        let literals = self.read_literal_map(uri).await?;
        let bytes = literals.as_ref().map_or(0, |map| {
            i64::try_from(map.encoded_len()).unwrap_or(i64::MAX)
        });
        Ok((
            Some(admin::UrlBlob {
                url: uri.to_string(),
                bytes,
            }),
            literals,
        ))
    }

    /// The outputs of a finished execution, for `GetExecutionData`.
    pub(crate) async fn execution_outputs(
        &self,
        closure: &admin::ExecutionClosure,
    ) -> Result<(Option<admin::UrlBlob>, Option<core::LiteralMap>), AdminError> {
        #[allow(deprecated)]
        match &closure.output_result {
            Some(admin::execution_closure::OutputResult::Outputs(admin::LiteralMapBlob {
                data: Some(admin::literal_map_blob::Data::Uri(uri)),
            })) => self.literal_data(uri).await,
            Some(admin::execution_closure::OutputResult::OutputData(literals)) => {
                Ok((None, Some(literals.clone())))
            }
            _ => Ok((None, None)),
        }
    }

    #[allow(deprecated)] // flyteadmin keeps outputs in the deprecated `outputs` blob.
    pub(crate) async fn create_workflow_event_impl(
        &self,
        request: admin::WorkflowExecutionEventRequest,
    ) -> Result<admin::WorkflowExecutionEventResponse, AdminError> {
        let event = request
            .event
            .ok_or_else(|| AdminError::invalid("missing event"))?;
        let key = execution_key(event.execution_id.as_ref())?;
        let next = workflow_execution::Phase::try_from(event.phase)
            .map_err(|_| AdminError::invalid(format!("invalid workflow phase {}", event.phase)))?;
        let occurred_at = micros_of(event.occurred_at.as_ref());
        self.modify_execution(&key, |record, closure| {
            let current = workflow_execution::Phase::try_from(record.phase)
                .unwrap_or(workflow_execution::Phase::Undefined);
            verdict_to_result(judge_workflow_event(current, next), || {
                format!("execution {key}")
            })?;
            record.phase = next as i32;
            closure.updated_at = Some(timestamp_from_micros(occurred_at));
            if next == workflow_execution::Phase::Running && record.started_at.is_none() {
                record.started_at = Some(occurred_at);
                closure.started_at = Some(timestamp_from_micros(occurred_at));
            }
            if workflow_is_terminal(next) {
                let started = record.started_at.unwrap_or(record.created_at);
                closure.duration = Some(duration_between(started, occurred_at));
                record.duration = Some((occurred_at - started).max(0));
            }
            match &event.output_result {
                Some(workflow_execution_event::OutputResult::OutputUri(uri)) => {
                    closure.output_result = Some(admin::execution_closure::OutputResult::Outputs(
                        admin::LiteralMapBlob {
                            data: Some(admin::literal_map_blob::Data::Uri(uri.clone())),
                        },
                    ));
                }
                Some(workflow_execution_event::OutputResult::Error(error)) => {
                    closure.output_result =
                        Some(admin::execution_closure::OutputResult::Error(error.clone()));
                }
                Some(workflow_execution_event::OutputResult::OutputData(literals)) => {
                    closure.output_result = Some(
                        admin::execution_closure::OutputResult::OutputData(literals.clone()),
                    );
                }
                None => {}
            }
            Ok(())
        })
        .await?;
        tracing::info!(execution = %key, phase = next.as_str_name(), "workflow event");
        Ok(admin::WorkflowExecutionEventResponse {})
    }

    #[allow(deprecated)] // `output_uri` is deprecated but is what propeller sends.
    pub(crate) async fn create_node_event_impl(
        &self,
        request: admin::NodeExecutionEventRequest,
    ) -> Result<admin::NodeExecutionEventResponse, AdminError> {
        let event = request
            .event
            .ok_or_else(|| AdminError::invalid("missing event"))?;
        let key = node_key(event.id.as_ref())?;
        let next = node_execution::Phase::try_from(event.phase)
            .map_err(|_| AdminError::invalid(format!("invalid node phase {}", event.phase)))?;
        self.load_execution(&key.execution).await?;
        let occurred_at = micros_of(event.occurred_at.as_ref());
        for _attempt in 0..EVENT_WRITE_ATTEMPTS {
            let existing = self.state.store.get_node_execution(&key).await?;
            let current = existing.as_ref().map(|record| {
                node_execution::Phase::try_from(record.phase)
                    .unwrap_or(node_execution::Phase::Undefined)
            });
            verdict_to_result(judge_node_event(current, next), || key.to_string())?;
            let mut closure = match &existing {
                Some(record) => admin::NodeExecutionClosure::decode(record.closure.as_slice())?,
                None => admin::NodeExecutionClosure {
                    created_at: Some(timestamp_from_micros(occurred_at)),
                    ..Default::default()
                },
            };
            closure.phase = next as i32;
            closure.updated_at = Some(timestamp_from_micros(occurred_at));
            if next == node_execution::Phase::Running && closure.started_at.is_none() {
                closure.started_at = Some(timestamp_from_micros(occurred_at));
            }
            if node_is_terminal(next) {
                let started = closure
                    .started_at
                    .as_ref()
                    .or(closure.created_at.as_ref())
                    .map_or(occurred_at, |time| micros_of(Some(time)));
                closure.duration = Some(duration_between(started, occurred_at));
            }
            match &event.output_result {
                Some(node_execution_event::OutputResult::OutputUri(uri)) => {
                    closure.output_result = Some(
                        admin::node_execution_closure::OutputResult::OutputUri(uri.clone()),
                    );
                }
                Some(node_execution_event::OutputResult::Error(error)) => {
                    closure.output_result = Some(
                        admin::node_execution_closure::OutputResult::Error(error.clone()),
                    );
                }
                Some(node_execution_event::OutputResult::OutputData(literals)) => {
                    closure.output_result = Some(
                        admin::node_execution_closure::OutputResult::OutputData(literals.clone()),
                    );
                }
                None => {}
            }
            let mut dynamic_workflow = existing
                .as_ref()
                .map(|record| record.dynamic_workflow.clone())
                .unwrap_or_default();
            match &event.target_metadata {
                Some(node_execution_event::TargetMetadata::TaskNodeMetadata(metadata)) => {
                    closure.target_metadata = Some(
                        admin::node_execution_closure::TargetMetadata::TaskNodeMetadata(
                            admin::TaskNodeMetadata {
                                cache_status: metadata.cache_status,
                                catalog_key: metadata.catalog_key.clone(),
                                checkpoint_uri: metadata.checkpoint_uri.clone(),
                            },
                        ),
                    );
                    if let Some(dynamic) = &metadata.dynamic_workflow {
                        closure
                            .dynamic_job_spec_uri
                            .clone_from(&dynamic.dynamic_job_spec_uri);
                        dynamic_workflow = dynamic.encode_to_vec();
                    }
                }
                Some(node_execution_event::TargetMetadata::WorkflowNodeMetadata(metadata)) => {
                    // A launch-plan node names the child execution it started.
                    if let Some(child) = &metadata.execution_id {
                        self.load_execution(&execution_key(Some(child))?).await?;
                    }
                    closure.target_metadata = Some(
                        admin::node_execution_closure::TargetMetadata::WorkflowNodeMetadata(
                            admin::WorkflowNodeMetadata {
                                execution_id: metadata.execution_id.clone(),
                            },
                        ),
                    );
                }
                None => {}
            }
            if !event.deck_uri.is_empty() {
                closure.deck_uri.clone_from(&event.deck_uri);
            }
            let metadata = admin::NodeExecutionMetaData {
                retry_group: event.retry_group.clone(),
                is_parent_node: event.is_parent,
                spec_node_id: event.spec_node_id.clone(),
                is_dynamic: event.is_dynamic,
                is_array: event.is_array,
                is_eager: event.is_eager,
            };
            let input_uri = match &event.input_value {
                Some(node_execution_event::InputValue::InputUri(uri)) => uri.clone(),
                _ => existing
                    .as_ref()
                    .map(|record| record.input_uri.clone())
                    .unwrap_or_default(),
            };
            let now = now_micros();
            let record = NodeExecutionRecord {
                key: key.clone(),
                phase: next as i32,
                input_uri,
                closure: closure.encode_to_vec(),
                metadata: metadata.encode_to_vec(),
                // Fixed by the first event: a node does not move between parents.
                parent_node_id: existing.as_ref().map_or_else(
                    || {
                        event
                            .parent_node_metadata
                            .as_ref()
                            .map(|parent| parent.node_id.clone())
                            .unwrap_or_default()
                    },
                    |record| record.parent_node_id.clone(),
                ),
                dynamic_workflow,
                created_at: existing.as_ref().map_or(now, |record| record.created_at),
                updated_at: existing
                    .as_ref()
                    .map_or(now, |record| now.max(record.updated_at + 1)),
            };
            let written = match &existing {
                None => match self.state.store.create_node_execution(&record).await {
                    Ok(()) => true,
                    // Another event created it meanwhile; judge again against it.
                    Err(StoreError::AlreadyExists { .. }) => false,
                    Err(other) => return Err(other.into()),
                },
                Some(previous) => {
                    self.state
                        .store
                        .update_node_execution(&record, previous.updated_at)
                        .await?
                }
            };
            if written {
                return Ok(admin::NodeExecutionEventResponse {});
            }
        }
        Err(AdminError::FailedPrecondition(format!(
            "{key} is changing concurrently; retry"
        )))
    }

    #[allow(deprecated)] // `output_uri` and `reason` are deprecated but still sent.
    pub(crate) async fn create_task_event_impl(
        &self,
        request: admin::TaskExecutionEventRequest,
    ) -> Result<admin::TaskExecutionEventResponse, AdminError> {
        let event = request
            .event
            .ok_or_else(|| AdminError::invalid("missing event"))?;
        let key = task_key_of(
            event.task_id.as_ref(),
            event.parent_node_execution_id.as_ref(),
            event.retry_attempt,
        )?;
        let next = task_execution::Phase::try_from(event.phase)
            .map_err(|_| AdminError::invalid(format!("invalid task phase {}", event.phase)))?;
        self.load_execution(&key.node.execution).await?;
        let occurred_at = micros_of(event.occurred_at.as_ref());
        for _attempt in 0..EVENT_WRITE_ATTEMPTS {
            let existing = self.state.store.get_task_execution(&key).await?;
            let current = existing.as_ref().map(|record| {
                (
                    task_execution::Phase::try_from(record.phase)
                        .unwrap_or(task_execution::Phase::Undefined),
                    u32::try_from(record.phase_version).unwrap_or_default(),
                )
            });
            verdict_to_result(judge_task_event(current, next, event.phase_version), || {
                key.to_string()
            })?;
            let mut closure = match &existing {
                Some(record) => admin::TaskExecutionClosure::decode(record.closure.as_slice())?,
                None => admin::TaskExecutionClosure {
                    created_at: Some(timestamp_from_micros(occurred_at)),
                    ..Default::default()
                },
            };
            closure.phase = next as i32;
            closure.updated_at = Some(timestamp_from_micros(occurred_at));
            closure.task_type.clone_from(&event.task_type);
            if next == task_execution::Phase::Running && closure.started_at.is_none() {
                closure.started_at = Some(timestamp_from_micros(occurred_at));
            }
            if task_is_terminal(next) {
                let started = closure
                    .started_at
                    .as_ref()
                    .or(closure.created_at.as_ref())
                    .map_or(occurred_at, |time| micros_of(Some(time)));
                closure.duration = Some(duration_between(started, occurred_at));
            }
            merge_logs(&mut closure.logs, event.logs.clone());
            if event.custom_info.is_some() {
                closure.custom_info.clone_from(&event.custom_info);
            }
            if let Some(latest) = &event.metadata {
                merge_task_metadata(&mut closure.metadata, latest);
            }
            if !event.reason.is_empty() {
                closure.reason.clone_from(&event.reason);
            }
            closure
                .reasons
                .extend(event.reasons.iter().map(|reason| admin::Reason {
                    occurred_at: reason.occurred_at,
                    message: reason.reason.clone(),
                }));
            closure.event_version = event.event_version;
            match &event.output_result {
                Some(task_execution_event::OutputResult::OutputUri(uri)) => {
                    closure.output_result = Some(
                        admin::task_execution_closure::OutputResult::OutputUri(uri.clone()),
                    );
                }
                Some(task_execution_event::OutputResult::Error(error)) => {
                    closure.output_result = Some(
                        admin::task_execution_closure::OutputResult::Error(error.clone()),
                    );
                }
                Some(task_execution_event::OutputResult::OutputData(literals)) => {
                    closure.output_result = Some(
                        admin::task_execution_closure::OutputResult::OutputData(literals.clone()),
                    );
                }
                None => {}
            }
            let input_uri = match &event.input_value {
                Some(task_execution_event::InputValue::InputUri(uri)) => uri.clone(),
                _ => existing
                    .as_ref()
                    .map(|record| record.input_uri.clone())
                    .unwrap_or_default(),
            };
            let now = now_micros();
            let record = TaskExecutionRecord {
                key: key.clone(),
                phase: next as i32,
                phase_version: i64::from(event.phase_version),
                input_uri,
                closure: closure.encode_to_vec(),
                created_at: existing.as_ref().map_or(now, |record| record.created_at),
                updated_at: existing
                    .as_ref()
                    .map_or(now, |record| now.max(record.updated_at + 1)),
            };
            let written = match &existing {
                None => match self.state.store.create_task_execution(&record).await {
                    Ok(()) => true,
                    Err(StoreError::AlreadyExists { .. }) => false,
                    Err(other) => return Err(other.into()),
                },
                Some(previous) => {
                    self.state
                        .store
                        .update_task_execution(&record, previous.updated_at)
                        .await?
                }
            };
            if written {
                return Ok(admin::TaskExecutionEventResponse {});
            }
        }
        Err(AdminError::FailedPrecondition(format!(
            "{key} is changing concurrently; retry"
        )))
    }

    async fn load_node_execution(
        &self,
        key: &NodeExecutionKey,
    ) -> Result<NodeExecutionRecord, AdminError> {
        self.state
            .store
            .get_node_execution(key)
            .await?
            .ok_or_else(|| AdminError::not_found(format!("{key} does not exist")))
    }

    pub(crate) async fn get_node_execution_impl(
        &self,
        request: admin::NodeExecutionGetRequest,
    ) -> Result<admin::NodeExecution, AdminError> {
        let key = node_key(request.id.as_ref())?;
        node_execution_from_record(&self.load_node_execution(&key).await?)
    }

    pub(crate) async fn list_node_executions_impl(
        &self,
        request: admin::NodeExecutionListRequest,
    ) -> Result<admin::NodeExecutionList, AdminError> {
        let execution = execution_key(request.workflow_execution_id.as_ref())?;
        self.load_execution(&execution).await?;
        // As flyteadmin: without a parent, only the top-level nodes; with one,
        // the nodes directly under it (subworkflow, branch or dynamic children).
        self.list_child_node_executions(
            &execution,
            &request.unique_parent_id,
            ListRequestParts::from(&request),
        )
        .await
    }

    /// The nodes a task execution started: the children of a dynamic task's node.
    pub(crate) async fn list_node_executions_for_task_impl(
        &self,
        request: admin::NodeExecutionForTaskListRequest,
    ) -> Result<admin::NodeExecutionList, AdminError> {
        let task = task_key(request.task_execution_id.as_ref())?;
        self.state
            .store
            .get_task_execution(&task)
            .await?
            .ok_or_else(|| AdminError::not_found(format!("{task} does not exist")))?;
        self.list_child_node_executions(
            &task.node.execution,
            &task.node.node_id,
            ListRequestParts::from(&request),
        )
        .await
    }

    async fn list_child_node_executions(
        &self,
        execution: &ExecutionKey,
        parent_node_id: &str,
        parts: ListRequestParts<'_>,
    ) -> Result<admin::NodeExecutionList, AdminError> {
        let query = build_list_query(&NODE_EXECUTION_FIELDS, parts, Vec::new(), None)?;
        let records = self
            .state
            .store
            .list_node_executions(execution, parent_node_id, &query)
            .await?;
        Ok(admin::NodeExecutionList {
            token: next_page_token(&query, records.len()),
            node_executions: records
                .iter()
                .map(node_execution_from_record)
                .collect::<Result<_, _>>()?,
        })
    }

    /// The workflow a dynamic node generated, compiled; NotFound for other nodes.
    pub(crate) async fn get_dynamic_node_workflow_impl(
        &self,
        request: admin::GetDynamicNodeWorkflowRequest,
    ) -> Result<admin::DynamicNodeWorkflowResponse, AdminError> {
        let key = node_key(request.id.as_ref())?;
        let record = self.load_node_execution(&key).await?;
        let compiled_workflow = dynamic_workflow_of(&record)?
            .and_then(|dynamic| dynamic.compiled_workflow)
            .ok_or_else(|| {
                AdminError::not_found(format!("{key} is not a dynamic node or has not run yet"))
            })?;
        Ok(admin::DynamicNodeWorkflowResponse {
            compiled_workflow: Some(compiled_workflow),
        })
    }

    #[allow(deprecated)] // The URL blobs are deprecated but flytekit still reads them.
    pub(crate) async fn get_node_execution_data_impl(
        &self,
        request: admin::NodeExecutionGetDataRequest,
    ) -> Result<admin::NodeExecutionGetDataResponse, AdminError> {
        let key = node_key(request.id.as_ref())?;
        let record = self.load_node_execution(&key).await?;
        let closure = admin::NodeExecutionClosure::decode(record.closure.as_slice())?;
        let (inputs, full_inputs) = self.literal_data(&record.input_uri).await?;
        let (outputs, full_outputs) = match &closure.output_result {
            Some(admin::node_execution_closure::OutputResult::OutputUri(uri)) => {
                self.literal_data(uri).await?
            }
            Some(admin::node_execution_closure::OutputResult::OutputData(literals)) => {
                (None, Some(literals.clone()))
            }
            _ => (None, None),
        };
        let dynamic_workflow = dynamic_workflow_of(&record)?;
        Ok(admin::NodeExecutionGetDataResponse {
            inputs,
            outputs,
            full_inputs,
            full_outputs,
            dynamic_workflow,
            ..Default::default()
        })
    }

    pub(crate) async fn get_task_execution_impl(
        &self,
        request: admin::TaskExecutionGetRequest,
    ) -> Result<admin::TaskExecution, AdminError> {
        let key = task_key(request.id.as_ref())?;
        let record = self
            .state
            .store
            .get_task_execution(&key)
            .await?
            .ok_or_else(|| AdminError::not_found(format!("{key} does not exist")))?;
        task_execution_from_record(&record)
    }

    pub(crate) async fn list_task_executions_impl(
        &self,
        request: admin::TaskExecutionListRequest,
    ) -> Result<admin::TaskExecutionList, AdminError> {
        let node = node_key(request.node_execution_id.as_ref())?;
        self.load_node_execution(&node).await?;
        let query = build_list_query(
            &TASK_EXECUTION_FIELDS,
            ListRequestParts::from(&request),
            Vec::new(),
            None,
        )?;
        let records = self.state.store.list_task_executions(&node, &query).await?;
        Ok(admin::TaskExecutionList {
            token: next_page_token(&query, records.len()),
            task_executions: records
                .iter()
                .map(task_execution_from_record)
                .collect::<Result<_, _>>()?,
        })
    }

    #[allow(deprecated)] // The URL blobs are deprecated but flytekit still reads them.
    pub(crate) async fn get_task_execution_data_impl(
        &self,
        request: admin::TaskExecutionGetDataRequest,
    ) -> Result<admin::TaskExecutionGetDataResponse, AdminError> {
        let key = task_key(request.id.as_ref())?;
        let record = self
            .state
            .store
            .get_task_execution(&key)
            .await?
            .ok_or_else(|| AdminError::not_found(format!("{key} does not exist")))?;
        let closure = admin::TaskExecutionClosure::decode(record.closure.as_slice())?;
        let (inputs, full_inputs) = self.literal_data(&record.input_uri).await?;
        let (outputs, full_outputs) = match &closure.output_result {
            Some(admin::task_execution_closure::OutputResult::OutputUri(uri)) => {
                self.literal_data(uri).await?
            }
            Some(admin::task_execution_closure::OutputResult::OutputData(literals)) => {
                (None, Some(literals.clone()))
            }
            _ => (None, None),
        };
        Ok(admin::TaskExecutionGetDataResponse {
            inputs,
            outputs,
            full_inputs,
            full_outputs,
            ..Default::default()
        })
    }
}
