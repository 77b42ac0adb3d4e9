//! Executions: `CreateExecution` resolves the launch plan, merges inputs,
//! offloads them to the object store and queues the execution for a
//! propeller; the rest reads, lists, terminates and archives executions.

use std::collections::HashMap;

use bytes::Bytes;
use prost::Message;
use rand::Rng;
use updraft_proto::flyteidl::core::ResourceType;
use updraft_proto::flyteidl::core::workflow_execution::Phase;
use updraft_proto::flyteidl::{admin, core};

use crate::AdminApi;
use crate::definitions::{launch_plan_from_record, task_template};
use crate::error::AdminError;
use crate::filters::{EXECUTION_FIELDS, ListRequestParts, build_list_query, next_page_token};
use crate::identifiers::{
    definition_identifier, definition_key, execution_identifier, execution_key, require,
    require_project_and_domain,
};
use crate::store::{
    Condition, DefinitionKey, ExecutionKey, ExecutionRecord, ExecutionRepo, LaunchPlanRepo,
    NamedEntityKey, NamedEntityRepo, SqlValue, StoreError, TaskRepo, now_micros,
    timestamp_from_micros,
};

/// Longest execution name flyteadmin accepts (it becomes a Kubernetes name).
const MAX_EXECUTION_NAME_LENGTH: usize = 63;

/// A name like flyteadmin's: a letter, then 19 lowercase letters or digits.
pub fn generate_execution_name() -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
    const ALPHANUMERICS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut random = rand::rng();
    let mut name = String::with_capacity(20);
    name.push(char::from(LETTERS[random.random_range(0..LETTERS.len())]));
    for _ in 0..19 {
        name.push(char::from(
            ALPHANUMERICS[random.random_range(0..ALPHANUMERICS.len())],
        ));
    }
    name
}

fn validate_execution_name(name: &str) -> Result<(), AdminError> {
    let valid_characters = name.chars().all(|character| {
        character.is_ascii_lowercase() || character.is_ascii_digit() || character == '-'
    });
    let starts_with_letter = name
        .chars()
        .next()
        .is_some_and(|first| first.is_ascii_lowercase());
    if name.len() > MAX_EXECUTION_NAME_LENGTH || !valid_characters || !starts_with_letter {
        return Err(AdminError::invalid(format!(
            "invalid execution name {name:?}: use at most {MAX_EXECUTION_NAME_LENGTH} lowercase letters, digits or '-', starting with a letter"
        )));
    }
    Ok(())
}

pub(crate) fn is_terminal(phase: i32) -> bool {
    matches!(
        Phase::try_from(phase),
        Ok(Phase::Succeeded | Phase::Failed | Phase::Aborted | Phase::TimedOut)
    )
}

/// Lays the given inputs over the launch plan's defaults and its fixed inputs,
/// rejecting unknown names, overridden fixed inputs and missing required ones.
fn merge_inputs(
    launch_plan: &admin::LaunchPlan,
    given: HashMap<String, core::Literal>,
) -> Result<HashMap<String, core::Literal>, AdminError> {
    let spec = launch_plan.spec.clone().unwrap_or_default();
    let expected = launch_plan
        .closure
        .as_ref()
        .and_then(|closure| closure.expected_inputs.clone())
        .unwrap_or_default();
    let fixed = spec.fixed_inputs.unwrap_or_default().literals;
    let mut merged = HashMap::new();
    for (name, literal) in given {
        if fixed.contains_key(&name) {
            return Err(AdminError::invalid(format!(
                "input {name} is fixed by the launch plan and cannot be overridden"
            )));
        }
        if !expected.parameters.contains_key(&name) {
            return Err(AdminError::invalid(format!(
                "invalid input {name}: the launch plan has no such input"
            )));
        }
        merged.insert(name, literal);
    }
    let mut parameter_names: Vec<&String> = expected.parameters.keys().collect();
    parameter_names.sort();
    for name in parameter_names {
        if merged.contains_key(name) {
            continue;
        }
        match &expected.parameters[name].behavior {
            Some(core::parameter::Behavior::Default(literal)) => {
                merged.insert(name.clone(), literal.clone());
            }
            Some(core::parameter::Behavior::Required(true)) => {
                return Err(AdminError::invalid(format!(
                    "missing required input {name}"
                )));
            }
            _ => {}
        }
    }
    merged.extend(fixed);
    Ok(merged)
}

/// A node id from a task name: its letters, digits and dashes; a long one is
/// shortened to a stable digest so ids stay short as flyteadmin keeps them.
fn single_task_node_id(task_name: &str) -> String {
    const MAX_NODE_ID_LENGTH: usize = 20;
    let kept: String = task_name
        .chars()
        .filter(|character| *character == '-' || character.is_alphanumeric())
        .collect();
    if kept.len() <= MAX_NODE_ID_LENGTH && !kept.is_empty() {
        kept
    } else {
        let digest = crate::identifiers::digest(kept.as_bytes());
        format!("f{}", &digest[..MAX_NODE_ID_LENGTH - 1])
    }
}

/// One binding per variable, each reading the same-named output of `node`
/// (the empty node id means the workflow's inputs).
fn promise_bindings(variables: Option<&core::VariableMap>, node: &str) -> Vec<core::Binding> {
    let mut names: Vec<&String> = variables
        .map(|variables| variables.variables.keys().collect())
        .unwrap_or_default();
    names.sort();
    names
        .into_iter()
        .map(|name| core::Binding {
            var: name.clone(),
            binding: Some(core::BindingData {
                value: Some(core::binding_data::Value::Promise(core::OutputReference {
                    node_id: node.to_string(),
                    var: name.clone(),
                    attr_path: vec![],
                })),
                ..Default::default()
            }),
        })
        .collect()
}

/// Treats "already exists" as done: another request generated it first.
fn ignore_already_exists<T>(result: Result<T, AdminError>) -> Result<(), AdminError> {
    match result {
        Ok(_) | Err(AdminError::AlreadyExists(_)) => Ok(()),
        Err(other) => Err(other),
    }
}

pub(crate) fn execution_from_record(
    record: &ExecutionRecord,
) -> Result<admin::Execution, AdminError> {
    let mut closure = admin::ExecutionClosure::decode(record.closure.as_slice())?;
    closure.phase = record.phase;
    closure.created_at = Some(timestamp_from_micros(record.created_at));
    closure.updated_at = Some(timestamp_from_micros(record.updated_at));
    closure.started_at = record.started_at.map(timestamp_from_micros);
    let mut spec = admin::ExecutionSpec::decode(record.spec.as_slice())?;
    // The columns are the truth: the label given at creation, and the
    // cluster of the latest claim, where flyteadmin reports them.
    spec.execution_cluster_label =
        (!record.cluster_label.is_empty()).then(|| admin::ExecutionClusterLabel {
            value: record.cluster_label.clone(),
        });
    if !record.cluster.is_empty() {
        spec.metadata
            .get_or_insert_with(Default::default)
            .system_metadata
            .get_or_insert_with(Default::default)
            .execution_cluster = record.cluster.clone();
    }
    Ok(admin::Execution {
        id: Some(execution_identifier(&record.key)),
        spec: Some(spec),
        closure: Some(closure),
    })
}

fn blob_key(key: &ExecutionKey, file: &str) -> String {
    format!(
        "metadata/{}/{}/{}/{file}",
        key.project, key.domain, key.name
    )
}

impl AdminApi {
    #[allow(deprecated)] // `spec.inputs` is deprecated but older clients still send it.
    pub(crate) async fn create_execution_impl(
        &self,
        request: admin::ExecutionCreateRequest,
    ) -> Result<admin::ExecutionCreateResponse, AdminError> {
        require_project_and_domain(&self.state.store, &request.project, &request.domain).await?;
        let mut spec = request
            .spec
            .ok_or_else(|| AdminError::invalid("missing spec"))?;
        let launch_plan_id = spec
            .launch_plan
            .clone()
            .ok_or_else(|| AdminError::invalid("missing launch_plan"))?;
        let launch_plan_key = if launch_plan_id.resource_type == ResourceType::Task as i32 {
            // `pyflyte run --remote` on a task names the task; flyteadmin wraps
            // it in a generated one-node workflow and launch plan.
            let task_key = definition_key(Some(&launch_plan_id), ResourceType::Task)?;
            self.ensure_single_task_launch_plan(&task_key, &spec)
                .await?
        } else {
            definition_key(Some(&launch_plan_id), ResourceType::LaunchPlan)?
        };
        let name = if request.name.is_empty() {
            generate_execution_name()
        } else {
            validate_execution_name(&request.name)?;
            request.name
        };
        let key = ExecutionKey {
            project: request.project,
            domain: request.domain,
            name,
        };
        if self.state.store.get_execution(&key).await?.is_some() {
            return Err(AdminError::AlreadyExists(format!(
                "execution {key} already exists"
            )));
        }
        let launch_plan_record = self
            .state
            .store
            .get_launch_plan(&launch_plan_key)
            .await?
            .ok_or_else(|| {
                AdminError::not_found(format!("launch plan {launch_plan_key} does not exist"))
            })?;
        let launch_plan = launch_plan_from_record(&launch_plan_record)?;
        // As flyteadmin does: a launch plan that overwrites the cache makes
        // every execution of it overwrite.
        if launch_plan
            .spec
            .as_ref()
            .is_some_and(|launch_plan_spec| launch_plan_spec.overwrite_cache)
        {
            spec.overwrite_cache = true;
        }

        let given = request
            .inputs
            .or_else(|| spec.inputs.take())
            .unwrap_or_default()
            .literals;
        let user_inputs = core::LiteralMap {
            literals: given.clone(),
        };
        let inputs = core::LiteralMap {
            literals: merge_inputs(&launch_plan, given)?,
        };
        let inputs_key = blob_key(&key, "inputs.pb");
        let user_inputs_key = blob_key(&key, "user_inputs.pb");
        self.state
            .blobs
            .put(&inputs_key, Bytes::from(inputs.encode_to_vec()))
            .await?;
        self.state
            .blobs
            .put(&user_inputs_key, Bytes::from(user_inputs.encode_to_vec()))
            .await?;

        spec.inputs = None;
        // A task id stays a task id: flytekit reads it to tell single-task
        // executions apart (it then fetches the task, not a launch plan).
        let mut launch_plan_id = launch_plan_id;
        if launch_plan_id.resource_type == ResourceType::Unspecified as i32 {
            launch_plan_id.resource_type = ResourceType::LaunchPlan as i32;
        }
        spec.launch_plan = Some(launch_plan_id);
        let workflow = launch_plan_record.workflow.clone();
        let cluster_label = self
            .execution_cluster_label(&spec, &key, &workflow.name)
            .await?;
        spec.execution_cluster_label =
            (!cluster_label.is_empty()).then(|| admin::ExecutionClusterLabel {
                value: cluster_label.clone(),
            });
        let metadata = spec.metadata.get_or_insert_with(Default::default);
        // Admin records where it ran, as flyteadmin does; a client's claim is ignored.
        metadata.system_metadata = None;
        let mode = metadata.mode;
        let principal = metadata.principal.clone();
        let now = now_micros();
        let closure = admin::ExecutionClosure {
            phase: Phase::Queued as i32,
            workflow_id: Some(crate::identifiers::definition_identifier(
                &workflow,
                ResourceType::Workflow,
            )),
            ..Default::default()
        };
        let record = ExecutionRecord {
            key: key.clone(),
            launch_plan: launch_plan_key,
            workflow,
            phase: Phase::Queued as i32,
            mode,
            principal,
            state: admin::ExecutionState::ExecutionActive as i32,
            spec: spec.encode_to_vec(),
            closure: closure.encode_to_vec(),
            duration: None,
            inputs_uri: self.state.blobs.uri_for(&inputs_key),
            user_inputs_uri: self.state.blobs.uri_for(&user_inputs_key),
            created_at: now,
            updated_at: now,
            started_at: None,
            cluster_label,
            cluster: String::new(),
        };
        match self.state.store.create_execution(&record).await {
            Ok(()) => {}
            Err(StoreError::AlreadyExists { what }) => {
                return Err(AdminError::AlreadyExists(format!("{what} already exists")));
            }
            Err(other) => return Err(other.into()),
        }
        self.state.queue_signal.notify_waiters();
        tracing::info!(execution = %key, cluster_label = %record.cluster_label, "queued execution");
        Ok(admin::ExecutionCreateResponse {
            id: Some(execution_identifier(&key)),
        })
    }

    /// The execution cluster label of a new execution, chosen as flyteadmin
    /// chooses it: the request's own, else the most specific
    /// `EXECUTION_CLUSTER_LABEL` attribute of its project, domain and
    /// workflow, else the configured default, else none (any data plane).
    async fn execution_cluster_label(
        &self,
        spec: &admin::ExecutionSpec,
        key: &ExecutionKey,
        workflow_name: &str,
    ) -> Result<String, AdminError> {
        if let Some(requested) = spec
            .execution_cluster_label
            .as_ref()
            .filter(|label| !label.value.is_empty())
        {
            return Ok(requested.value.clone());
        }
        let attributes = self
            .most_specific_attributes(
                admin::MatchableResource::ExecutionClusterLabel,
                &key.project,
                &key.domain,
                workflow_name,
            )
            .await?;
        if let Some(admin::matching_attributes::Target::ExecutionClusterLabel(label)) =
            attributes.and_then(|attributes| attributes.target)
            && !label.value.is_empty()
        {
            return Ok(label.value);
        }
        Ok(self
            .state
            .settings
            .default_execution_cluster_label
            .clone()
            .unwrap_or_default())
    }

    /// The generated launch plan that runs one task, created (with its
    /// one-node workflow) on first use, as flyteadmin names them:
    /// `.flytegen.<task name>` at the task's version.
    async fn ensure_single_task_launch_plan(
        &self,
        task_key: &DefinitionKey,
        execution_spec: &admin::ExecutionSpec,
    ) -> Result<DefinitionKey, AdminError> {
        let generated_name = format!(".flytegen.{}", task_key.name);
        let launch_plan_key = DefinitionKey {
            name: generated_name.clone(),
            ..task_key.clone()
        };
        if self
            .state
            .store
            .get_launch_plan(&launch_plan_key)
            .await?
            .is_some()
        {
            return Ok(launch_plan_key);
        }
        let task_record = self
            .state
            .store
            .get_task(task_key)
            .await?
            .ok_or_else(|| AdminError::not_found(format!("task {task_key} does not exist")))?;
        let template = task_template(&task_record)?;
        let interface = template.interface.clone().unwrap_or_default();
        let node_id = single_task_node_id(&task_key.name);
        let retries = template
            .metadata
            .as_ref()
            .and_then(|metadata| metadata.retries)
            .unwrap_or(core::RetryStrategy { retries: 3 });
        let workflow_id = definition_identifier(
            &DefinitionKey {
                name: generated_name.clone(),
                ..task_key.clone()
            },
            ResourceType::Workflow,
        );
        let workflow = admin::WorkflowCreateRequest {
            id: Some(workflow_id.clone()),
            spec: Some(admin::WorkflowSpec {
                template: Some(core::WorkflowTemplate {
                    id: Some(workflow_id.clone()),
                    interface: Some(interface.clone()),
                    nodes: vec![core::Node {
                        id: node_id.clone(),
                        metadata: Some(core::NodeMetadata {
                            name: node_id.clone(),
                            retries: Some(retries),
                            ..Default::default()
                        }),
                        inputs: promise_bindings(interface.inputs.as_ref(), ""),
                        target: Some(core::node::Target::TaskNode(core::TaskNode {
                            reference: Some(core::task_node::Reference::ReferenceId(
                                definition_identifier(task_key, ResourceType::Task),
                            )),
                            overrides: None,
                        })),
                        ..Default::default()
                    }],
                    outputs: promise_bindings(interface.outputs.as_ref(), &node_id),
                    ..Default::default()
                }),
                sub_workflows: vec![],
                description: None,
            }),
        };
        ignore_already_exists(self.create_workflow_impl(workflow, None).await)?;
        #[allow(deprecated)] // flyteadmin copies the deprecated auth role too.
        let launch_plan = admin::LaunchPlanCreateRequest {
            id: Some(definition_identifier(
                &launch_plan_key,
                ResourceType::LaunchPlan,
            )),
            spec: Some(admin::LaunchPlanSpec {
                workflow_id: Some(workflow_id),
                entity_metadata: Some(Default::default()),
                default_inputs: Some(Default::default()),
                fixed_inputs: Some(Default::default()),
                labels: Some(Default::default()),
                annotations: Some(Default::default()),
                auth_role: execution_spec.auth_role.clone(),
                security_context: execution_spec.security_context.clone(),
                ..Default::default()
            }),
        };
        ignore_already_exists(self.create_launch_plan_impl(launch_plan, None).await)?;
        for resource_type in [ResourceType::Workflow, ResourceType::LaunchPlan] {
            self.state
                .store
                .update_named_entity(
                    &NamedEntityKey {
                        resource_type: resource_type as i32,
                        project: task_key.project.clone(),
                        domain: task_key.domain.clone(),
                        name: generated_name.clone(),
                    },
                    "",
                    admin::NamedEntityState::SystemGenerated as i32,
                )
                .await?;
        }
        tracing::info!(task = %task_key, "generated the launch plan of a single-task execution");
        Ok(launch_plan_key)
    }

    /// A new execution of what `original` ran, with the inputs its user gave,
    /// marked as made in `mode` from it: flyteadmin's relaunch and recover.
    async fn launch_again(
        &self,
        original_id: Option<&core::WorkflowExecutionIdentifier>,
        name: String,
        mode: admin::execution_metadata::ExecutionMode,
        principal: Option<String>,
        adjust_spec: impl FnOnce(&mut admin::ExecutionSpec),
    ) -> Result<admin::ExecutionCreateResponse, AdminError> {
        let original_key = execution_key(original_id)?;
        let original = self.load_execution(&original_key).await?;
        let mut spec = admin::ExecutionSpec::decode(original.spec.as_slice())?;
        let metadata = spec.metadata.get_or_insert_with(Default::default);
        metadata.mode = mode as i32;
        // Propeller finds the original through this (recovery reuses the
        // nodes that succeeded there).
        metadata.reference_execution = Some(execution_identifier(&original_key));
        if let Some(principal) = principal {
            metadata.principal = principal;
        }
        adjust_spec(&mut spec);
        let user_inputs = match self.state.blobs.key_for_uri(&original.user_inputs_uri) {
            Some(inputs_key) => core::LiteralMap::decode(self.state.blobs.get(inputs_key).await?)?,
            None => core::LiteralMap::default(),
        };
        let created = self
            .create_execution_impl(admin::ExecutionCreateRequest {
                project: original_key.project.clone(),
                domain: original_key.domain.clone(),
                name,
                spec: Some(spec),
                inputs: Some(user_inputs),
                org: String::new(),
            })
            .await?;
        tracing::info!(
            original = %original_key,
            mode = mode.as_str_name(),
            "launched an execution again"
        );
        Ok(created)
    }

    pub(crate) async fn relaunch_execution_impl(
        &self,
        request: admin::ExecutionRelaunchRequest,
        principal: Option<String>,
    ) -> Result<admin::ExecutionCreateResponse, AdminError> {
        let overwrite_cache = request.overwrite_cache;
        self.launch_again(
            request.id.as_ref(),
            request.name,
            admin::execution_metadata::ExecutionMode::Relaunch,
            principal,
            |spec| spec.overwrite_cache = overwrite_cache,
        )
        .await
    }

    pub(crate) async fn recover_execution_impl(
        &self,
        request: admin::ExecutionRecoverRequest,
        principal: Option<String>,
    ) -> Result<admin::ExecutionCreateResponse, AdminError> {
        let parent_node_execution = request
            .metadata
            .and_then(|metadata| metadata.parent_node_execution);
        self.launch_again(
            request.id.as_ref(),
            request.name,
            admin::execution_metadata::ExecutionMode::Recovered,
            principal,
            |spec| {
                // A recovered child of a launch-plan node stays the parent node's child.
                if parent_node_execution.is_some()
                    && let Some(metadata) = spec.metadata.as_mut()
                {
                    metadata.parent_node_execution = parent_node_execution;
                }
            },
        )
        .await
    }

    pub(crate) async fn load_execution(
        &self,
        key: &ExecutionKey,
    ) -> Result<ExecutionRecord, AdminError> {
        self.state
            .store
            .get_execution(key)
            .await?
            .ok_or_else(|| AdminError::not_found(format!("execution {key} does not exist")))
    }

    pub(crate) async fn get_execution_impl(
        &self,
        request: admin::WorkflowExecutionGetRequest,
    ) -> Result<admin::Execution, AdminError> {
        let key = execution_key(request.id.as_ref())?;
        execution_from_record(&self.load_execution(&key).await?)
    }

    pub(crate) async fn list_executions_impl(
        &self,
        request: admin::ResourceListRequest,
    ) -> Result<admin::ExecutionList, AdminError> {
        let query = execution_list_query(&request)?;
        let records = self.state.store.list_executions(&query).await?;
        Ok(admin::ExecutionList {
            token: next_page_token(&query, records.len()),
            executions: records
                .iter()
                .map(execution_from_record)
                .collect::<Result<_, _>>()?,
        })
    }

    #[allow(deprecated)] // `inputs` (a URL blob) is deprecated but flytekit still reads it.
    pub(crate) async fn get_execution_data_impl(
        &self,
        request: admin::WorkflowExecutionGetDataRequest,
    ) -> Result<admin::WorkflowExecutionGetDataResponse, AdminError> {
        let key = execution_key(request.id.as_ref())?;
        let record = self.load_execution(&key).await?;
        let mut response = admin::WorkflowExecutionGetDataResponse::default();
        if let Some(inputs_key) = self.state.blobs.key_for_uri(&record.inputs_uri) {
            let bytes = self.state.blobs.get(inputs_key).await?;
            response.inputs = Some(admin::UrlBlob {
                url: record.inputs_uri.clone(),
                bytes: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
            });
            response.full_inputs = Some(core::LiteralMap::decode(bytes)?);
        }
        let closure = admin::ExecutionClosure::decode(record.closure.as_slice())?;
        let (outputs, full_outputs) = self.execution_outputs(&closure).await?;
        response.outputs = outputs;
        response.full_outputs = full_outputs;
        Ok(response)
    }

    /// Reads, changes and writes an execution, retrying when another writer
    /// changed it in between.
    pub(crate) async fn modify_execution(
        &self,
        key: &ExecutionKey,
        change: impl Fn(&mut ExecutionRecord, &mut admin::ExecutionClosure) -> Result<(), AdminError>,
    ) -> Result<(), AdminError> {
        for _attempt in 0..5 {
            let mut record = self.load_execution(key).await?;
            let expected_updated_at = record.updated_at;
            let mut closure = admin::ExecutionClosure::decode(record.closure.as_slice())?;
            change(&mut record, &mut closure)?;
            // Strictly increasing, so the optimistic check never sees a tie.
            record.updated_at = now_micros().max(expected_updated_at + 1);
            closure.phase = record.phase;
            record.closure = closure.encode_to_vec();
            if self
                .state
                .store
                .update_execution(&record, expected_updated_at)
                .await?
            {
                return Ok(());
            }
        }
        Err(AdminError::FailedPrecondition(format!(
            "execution {key} is changing concurrently; retry"
        )))
    }

    pub(crate) async fn terminate_execution_impl(
        &self,
        request: admin::ExecutionTerminateRequest,
        principal: String,
    ) -> Result<admin::ExecutionTerminateResponse, AdminError> {
        let key = execution_key(request.id.as_ref())?;
        let cause = request.cause;
        self.modify_execution(&key, |record, closure| {
            if is_terminal(record.phase) {
                return Err(AdminError::FailedPrecondition(format!(
                    "cannot abort execution {key}: it has already terminated"
                )));
            }
            record.phase = Phase::Aborted as i32;
            closure.output_result = Some(admin::execution_closure::OutputResult::AbortMetadata(
                admin::AbortMetadata {
                    cause: cause.clone(),
                    principal: principal.clone(),
                },
            ));
            Ok(())
        })
        .await?;
        tracing::info!(execution = %key, "terminated execution");
        Ok(admin::ExecutionTerminateResponse {})
    }

    pub(crate) async fn update_execution_impl(
        &self,
        request: admin::ExecutionUpdateRequest,
        principal: String,
    ) -> Result<admin::ExecutionUpdateResponse, AdminError> {
        let key = execution_key(request.id.as_ref())?;
        if admin::ExecutionState::try_from(request.state).is_err() {
            return Err(AdminError::invalid(format!(
                "invalid execution state {}",
                request.state
            )));
        }
        let now = now_micros();
        self.modify_execution(&key, |record, closure| {
            record.state = request.state;
            closure.state_change_details = Some(admin::ExecutionStateChangeDetails {
                state: request.state,
                occurred_at: Some(timestamp_from_micros(now)),
                principal: principal.clone(),
            });
            Ok(())
        })
        .await?;
        Ok(admin::ExecutionUpdateResponse {})
    }
}

/// The query `ListExecutions` runs for `request`: its scope, the user's
/// filters and order, and (as flyteadmin) only active executions unless the
/// filter asks about the archive state.
pub fn execution_list_query(
    request: &admin::ResourceListRequest,
) -> Result<crate::store::ListQuery, AdminError> {
    let id = request
        .id
        .as_ref()
        .ok_or_else(|| AdminError::invalid("missing id"))?;
    require(&id.project, "project")?;
    require(&id.domain, "domain")?;
    let mut scope = vec![
        Condition::text("project", &id.project),
        Condition::text("domain", &id.domain),
    ];
    if !id.name.is_empty() {
        scope.push(Condition::text("name", &id.name));
    }
    let mut query = build_list_query(
        &EXECUTION_FIELDS,
        ListRequestParts::from(request),
        scope,
        None,
    )?;
    // As flyteadmin: archived executions are listed only when the filter
    // asks about the archive state.
    if !query
        .conditions
        .iter()
        .any(|condition| condition.column == "state")
    {
        query.conditions.push(Condition::equal(
            "state",
            SqlValue::Integer(admin::ExecutionState::ExecutionActive as i64),
        ));
    }
    Ok(query)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names_look_like_flyteadmins() {
        for _ in 0..50 {
            let name = generate_execution_name();
            assert_eq!(name.len(), 20);
            assert!(name.chars().next().unwrap().is_ascii_lowercase());
            assert!(
                name.chars()
                    .all(|character| character.is_ascii_lowercase() || character.is_ascii_digit())
            );
            validate_execution_name(&name).unwrap();
        }
        assert!(validate_execution_name("Bob").is_err());
        assert!(validate_execution_name("1abc").is_err());
        assert!(validate_execution_name(&"a".repeat(64)).is_err());
    }
}
