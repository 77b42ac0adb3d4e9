//! Server functions of the execution page's node drawer: one node's attempts,
//! data and gate, and giving a waiting gate its signal.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use crate::error::ConsoleError;
use crate::launch::InputKind;
use crate::literals::NamedValue;

/// One attempt (task execution) of a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptView {
    /// The retry number, from 0.
    pub retry_attempt: u32,
    pub phase: String,
    pub started_at: Option<i64>,
    pub duration_millis: Option<i64>,
    pub error: Option<String>,
    /// The attempt's external log links (name, URI).
    pub log_links: Vec<(String, String)>,
    /// A map task's indexes, each in its newest retry, by index.
    pub map_indexes: Vec<MapIndexView>,
}

/// One index of a map task attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapIndexView {
    pub index: u32,
    pub phase: String,
    pub retry_attempt: u32,
    /// What the cache did for this index (each index is cached on its own).
    pub cache_status: Option<crate::api::CacheStatus>,
}

/// What a task node ran: the parts of its task template a person debugging
/// a run asks about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskTemplateView {
    pub name: String,
    pub version: String,
    /// The task type (`python-task`, `container_array`…).
    pub kind: String,
    pub image: Option<String>,
    /// Command and arguments, as the runtime receives them.
    pub command: Vec<String>,
    /// `(name, value)` of requests and limits, e.g. `("cpu request", "1")`.
    pub resources: Vec<(String, String)>,
    pub retries: u32,
    pub timeout_millis: Option<i64>,
    /// The cache version, when outputs are cached.
    pub cache_version: Option<String>,
    /// Why runs of this task are never cached, when they are not.
    pub not_cacheable: Option<String>,
    pub interruptible: bool,
}

/// What a gate node waits for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum GateKind {
    /// A yes/no approval.
    Approve,
    /// A typed value a person gives.
    Input {
        /// The type in Python syntax.
        type_name: String,
        kind: InputKind,
    },
    /// A fixed sleep.
    Sleep,
}

/// A gate node and its signal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateView {
    pub kind: GateKind,
    /// The signal's id, unique within the execution.
    pub signal_id: String,
    /// Whether the gate waits now (running, no value yet).
    pub waiting: bool,
}

/// Everything the node drawer shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeDetail {
    pub node_id: String,
    pub phase: String,
    pub started_at: Option<i64>,
    pub duration_millis: Option<i64>,
    pub error: Option<String>,
    /// Oldest first.
    pub attempts: Vec<AttemptView>,
    pub inputs: Vec<NamedValue>,
    pub outputs: Vec<NamedValue>,
    pub gate: Option<GateView>,
    /// Whether the console can stream this node's task logs itself.
    pub logs_inline: bool,
    /// The task template of the newest attempt's task, when there is one.
    pub task: Option<TaskTemplateView>,
    /// What the cache did for the node, when it runs a task.
    pub cache: Option<crate::api::NodeCacheView>,
}

/// One node of an execution with its attempts, data and gate.
#[server(input = Json)]
pub async fn get_node_detail(
    project: String,
    domain: String,
    name: String,
    node_id: String,
    /// The parents the page has open (`?expand=`): a gate a dynamic node
    /// made is known only from its parent's own workflow.
    open_parents: Vec<String>,
) -> Result<NodeDetail, ConsoleError> {
    server::node_detail(project, domain, name, node_id, open_parents).await
}

/// Gives a waiting gate its value: `"true"`/`"false"` for an approval, the
/// typed text for an input. The value is read against the signal's own type.
/// The endpoint is fixed so other clients can call it too.
#[server(endpoint = "set_gate_signal")]
pub async fn set_gate_signal(
    project: String,
    domain: String,
    name: String,
    signal_id: String,
    value: String,
) -> Result<(), ConsoleError> {
    server::set_signal(project, domain, name, signal_id, value).await
}

#[cfg(feature = "ssr")]
pub(crate) use server::map_indexes;

#[cfg(feature = "ssr")]
mod server {
    use updraft_proto::flyteidl::admin;
    use updraft_proto::flyteidl::core::{self, gate_node};

    use super::{AttemptView, GateKind, GateView, MapIndexView, NodeDetail, TaskTemplateView};
    use crate::error::ConsoleError;
    use crate::launch::{input_kind, to_literal};
    use crate::literals::{duration_millis, literal_map_values, render_type, timestamp_millis};

    fn execution_id(
        project: String,
        domain: String,
        name: String,
    ) -> core::WorkflowExecutionIdentifier {
        core::WorkflowExecutionIdentifier {
            project,
            domain,
            name,
            ..Default::default()
        }
    }

    fn node_phase(phase: i32) -> String {
        core::node_execution::Phase::try_from(phase)
            .map(|p| p.as_str_name().to_string())
            .unwrap_or_else(|_| "UNDEFINED".into())
    }

    pub async fn node_detail(
        project: String,
        domain: String,
        name: String,
        node_id: String,
        open_parents: Vec<String>,
    ) -> Result<NodeDetail, ConsoleError> {
        let mut client = crate::api::admin_client()?;
        let execution = execution_id(project, domain, name);
        let node_execution_id = core::NodeExecutionIdentifier {
            node_id: node_id.clone(),
            execution_id: Some(execution.clone()),
        };
        let node = client
            .get_node_execution(admin::NodeExecutionGetRequest {
                id: Some(node_execution_id.clone()),
            })
            .await
            .map_err(|status| match status.code() {
                tonic::Code::NotFound => ConsoleError::NotFound {
                    what: format!("node {node_id} of execution {}", execution.name),
                },
                _ => status.into(),
            })?
            .into_inner();
        let closure = node.closure.unwrap_or_default();
        let cache = crate::api::node_cache(&closure);
        let phase = node_phase(closure.phase);
        let error = match closure.output_result {
            Some(admin::node_execution_closure::OutputResult::Error(error)) => Some(error.message),
            _ => None,
        };

        let tasks = client
            .list_task_executions(admin::TaskExecutionListRequest {
                node_execution_id: Some(node_execution_id.clone()),
                limit: 100,
                ..Default::default()
            })
            .await?
            .into_inner();
        // A task from another project (a reference task) is read from there.
        let last_task = tasks
            .task_executions
            .iter()
            .filter_map(|task| task.id.as_ref())
            .max_by_key(|id| id.retry_attempt)
            .and_then(|id| id.task_id.clone());
        let mut attempts: Vec<AttemptView> = tasks
            .task_executions
            .into_iter()
            .map(|task| {
                let closure = task.closure.unwrap_or_default();
                AttemptView {
                    retry_attempt: task
                        .id
                        .as_ref()
                        .map(|id| id.retry_attempt)
                        .unwrap_or_default(),
                    phase: core::task_execution::Phase::try_from(closure.phase)
                        .map(|p| p.as_str_name().to_string())
                        .unwrap_or_else(|_| "UNDEFINED".into()),
                    started_at: closure.started_at.as_ref().map(timestamp_millis),
                    duration_millis: closure
                        .duration
                        .as_ref()
                        .map(duration_millis)
                        .filter(|millis| *millis > 0),
                    error: match closure.output_result {
                        Some(admin::task_execution_closure::OutputResult::Error(error)) => {
                            Some(error.message)
                        }
                        _ => None,
                    },
                    log_links: closure
                        .logs
                        .into_iter()
                        .filter(|log| !log.uri.is_empty())
                        .map(|log| (log.name, log.uri))
                        .collect(),
                    map_indexes: map_indexes(closure.metadata.as_ref()),
                }
            })
            .collect();
        attempts.sort_by_key(|attempt| attempt.retry_attempt);

        // Data is optional: a node that has not started has none, and an
        // older admin may not answer for every node.
        let (inputs, outputs) = match client
            .get_node_execution_data(admin::NodeExecutionGetDataRequest {
                id: Some(node_execution_id),
            })
            .await
        {
            Ok(response) => {
                let data = response.into_inner();
                (
                    data.full_inputs
                        .as_ref()
                        .map(literal_map_values)
                        .unwrap_or_default(),
                    data.full_outputs
                        .as_ref()
                        .map(literal_map_values)
                        .unwrap_or_default(),
                )
            }
            Err(status) => {
                tracing::debug!(code = ?status.code(), message = status.message(), "no data for node");
                (Vec::new(), Vec::new())
            }
        };

        // A gate runs no task and holds no nodes, so other nodes need no
        // look at the workflow. A nested gate is known by its id in its own
        // workflow (`spec_node_id`); a top-level node's id is that id.
        let metadata = node.metadata.unwrap_or_default();
        let spec_node_id = Some(metadata.spec_node_id)
            .filter(|spec_node_id| !spec_node_id.is_empty())
            .unwrap_or_else(|| node_id.clone());
        let gate = if attempts.is_empty() && !metadata.is_parent_node {
            let top_level = spec_node_id == node_id;
            gate_of(
                &mut client,
                &execution,
                &node_id,
                &spec_node_id,
                top_level,
                &open_parents,
            )
            .await?
        } else {
            None
        };
        let gate = gate.map(|(kind, signal_id)| GateView {
            kind,
            signal_id,
            waiting: closure.phase == core::node_execution::Phase::Running as i32,
        });

        let task = match last_task {
            Some(task_id) => task_template(&mut client, task_id).await,
            None => None,
        };

        Ok(NodeDetail {
            task,
            cache,
            node_id,
            phase,
            started_at: closure.started_at.as_ref().map(timestamp_millis),
            duration_millis: closure
                .duration
                .as_ref()
                .map(duration_millis)
                .filter(|millis| *millis > 0),
            error,
            attempts,
            inputs,
            outputs,
            gate,
            logs_inline: crate::api::propeller_client().is_some(),
        })
    }

    /// Each index of a map task attempt in its newest retry.
    pub(crate) fn map_indexes(
        metadata: Option<&updraft_proto::flyteidl::event::TaskExecutionMetadata>,
    ) -> Vec<MapIndexView> {
        let mut newest = std::collections::BTreeMap::new();
        for resource in metadata
            .map(|metadata| metadata.external_resources.as_slice())
            .unwrap_or_default()
        {
            let phase = core::task_execution::Phase::try_from(resource.phase)
                .map(|p| p.as_str_name().to_string())
                .unwrap_or_else(|_| "UNDEFINED".into());
            let cache_status = Some(crate::api::CacheStatus::from_number(resource.cache_status));
            let entry = newest.entry(resource.index).or_insert(MapIndexView {
                index: resource.index,
                phase: phase.clone(),
                retry_attempt: resource.retry_attempt,
                cache_status,
            });
            if resource.retry_attempt >= entry.retry_attempt {
                entry.phase = phase;
                entry.retry_attempt = resource.retry_attempt;
                entry.cache_status = cache_status;
            }
        }
        newest.into_values().collect()
    }

    /// The template of the task an attempt ran; `None` when admin no longer
    /// has it (or, in front of another admin, will not say).
    async fn task_template(
        client: &mut crate::api::AdminClient,
        task_id: core::Identifier,
    ) -> Option<TaskTemplateView> {
        let (name, version) = (task_id.name.clone(), task_id.version.clone());
        let found = client
            .get_task(admin::ObjectGetRequest {
                id: Some(core::Identifier {
                    resource_type: core::ResourceType::Task as i32,
                    ..task_id
                }),
            })
            .await
            .map_err(|status| {
                tracing::debug!(code = ?status.code(), message = status.message(), "no task template for the drawer");
            })
            .ok()?
            .into_inner();
        let template = found.closure?.compiled_task?.template?;
        let not_cacheable = not_cacheable(&template);
        let metadata = template.metadata.unwrap_or_default();
        let (image, command, resources) = match template.target {
            Some(core::task_template::Target::Container(container)) => {
                let mut command = container.command;
                command.extend(container.args);
                let mut resources = Vec::new();
                if let Some(requirements) = container.resources {
                    for (label, entries) in [
                        ("request", requirements.requests),
                        ("limit", requirements.limits),
                    ] {
                        for entry in entries {
                            let name = core::resources::ResourceName::try_from(entry.name)
                                .map(|name| name.as_str_name().to_ascii_lowercase())
                                .unwrap_or_else(|_| "resource".into());
                            resources.push((format!("{name} {label}"), entry.value));
                        }
                    }
                }
                (
                    Some(container.image).filter(|image| !image.is_empty()),
                    command,
                    resources,
                )
            }
            _ => (None, Vec::new(), Vec::new()),
        };
        Some(TaskTemplateView {
            name,
            version,
            kind: template.r#type,
            image,
            command,
            resources,
            retries: metadata
                .retries
                .map(|retries| retries.retries)
                .unwrap_or_default(),
            timeout_millis: metadata
                .timeout
                .as_ref()
                .map(duration_millis)
                .filter(|millis| *millis > 0),
            cache_version: metadata.discoverable.then_some(metadata.discovery_version),
            not_cacheable,
            interruptible: matches!(
                metadata.interruptible_value,
                Some(core::task_metadata::InterruptibleValue::Interruptible(true))
            ),
        })
    }

    /// Why propeller never caches runs of `template`, in the words of the
    /// decorator that decides it; `None` when it does cache them.
    pub(crate) fn not_cacheable(template: &core::TaskTemplate) -> Option<String> {
        let discoverable = template
            .metadata
            .as_ref()
            .is_some_and(|metadata| metadata.discoverable);
        if !discoverable {
            return Some("cache=False".into());
        }
        let has_outputs = template
            .interface
            .as_ref()
            .and_then(|interface| interface.outputs.as_ref())
            .is_some_and(|outputs| !outputs.variables.is_empty());
        if !has_outputs {
            return Some("no outputs (Flyte caches only tasks with outputs)".into());
        }
        None
    }

    /// How many parents a nested node's gate is looked for in, one admin
    /// call each: enough for dynamic nodes nested a few deep, while a queued
    /// task (which looks the same until it starts) stays cheap to open.
    const DYNAMIC_PARENT_LOOKS: usize = 8;

    /// Where a nested node's dynamic parent may be, nearest first: the
    /// parents its id names, the open ones it is named under, then the other
    /// open ones (an admin that shortens long ids names none).
    fn dynamic_parents(node_id: &str, open_parents: &[String]) -> Vec<String> {
        let mut parents = parents_named_in(node_id);
        let (under, others): (Vec<&String>, Vec<&String>) = open_parents
            .iter()
            .partition(|parent| node_id.starts_with(&format!("{parent}-")));
        for parent in under.into_iter().chain(others) {
            if !parents.contains(parent) {
                parents.push(parent.clone());
            }
        }
        parents.truncate(DYNAMIC_PARENT_LOOKS);
        parents
    }

    /// The workflow the dynamic node `parent` made, if it is one.
    async fn dynamic_workflow(
        client: &mut crate::api::AdminClient,
        execution: &core::WorkflowExecutionIdentifier,
        parent: &str,
    ) -> Option<core::CompiledWorkflowClosure> {
        let id = core::NodeExecutionIdentifier {
            node_id: parent.to_string(),
            execution_id: Some(execution.clone()),
        };
        match client
            .get_dynamic_node_workflow(admin::GetDynamicNodeWorkflowRequest {
                id: Some(id.clone()),
            })
            .await
        {
            Ok(response) => response.into_inner().compiled_workflow,
            // An admin older than that call keeps it in the node's data.
            Err(status) if status.code() == tonic::Code::Unimplemented => {
                client
                    .get_node_execution_data(admin::NodeExecutionGetDataRequest { id: Some(id) })
                    .await
                    .ok()?
                    .into_inner()
                    .dynamic_workflow?
                    .compiled_workflow
            }
            // Not a dynamic node, or gone: nothing to look in.
            Err(_) => None,
        }
    }

    /// The gate the node `spec_node_id` of the execution's workflow is, if
    /// any: at the top level, or nested in a subworkflow or a branch, or in
    /// the workflow a dynamic node among `open_parents` made.
    async fn gate_of(
        client: &mut crate::api::AdminClient,
        execution: &core::WorkflowExecutionIdentifier,
        node_id: &str,
        spec_node_id: &str,
        top_level: bool,
        open_parents: &[String],
    ) -> Result<Option<(GateKind, String)>, ConsoleError> {
        let found = client
            .get_execution(admin::WorkflowExecutionGetRequest {
                id: Some(execution.clone()),
            })
            .await?
            .into_inner();
        let Some(workflow_id) = found.closure.and_then(|closure| closure.workflow_id) else {
            return Ok(None);
        };
        let workflow = client
            .get_workflow(admin::ObjectGetRequest {
                id: Some(workflow_id),
            })
            .await?
            .into_inner();
        let Some(compiled) = workflow
            .closure
            .and_then(|closure| closure.compiled_workflow)
        else {
            return Ok(None);
        };
        let mut gate = find_gate(compiled, Vec::new(), spec_node_id, top_level);
        if gate.is_none() && !top_level {
            // Each parent on its own, nearest first: dynamic workflows reuse
            // their ids (dn0, dn1, …), so two of them together would leave
            // the id ambiguous.
            for parent in dynamic_parents(node_id, open_parents) {
                let Some(made) = dynamic_workflow(client, execution, &parent).await else {
                    continue;
                };
                gate = find_gate(Default::default(), vec![made], spec_node_id, false);
                if gate.is_some() {
                    break;
                }
            }
        }
        let Some(gate) = gate else {
            return Ok(None);
        };
        Ok(match gate.condition {
            Some(gate_node::Condition::Approve(approve)) => {
                Some((GateKind::Approve, approve.signal_id))
            }
            Some(gate_node::Condition::Signal(signal)) => {
                let literal_type = signal.r#type.unwrap_or_default();
                Some((
                    GateKind::Input {
                        type_name: render_type(&literal_type),
                        kind: input_kind(&literal_type),
                    },
                    signal.signal_id,
                ))
            }
            Some(gate_node::Condition::Sleep(_)) => Some((GateKind::Sleep, String::new())),
            None => None,
        })
    }

    /// The parents a nested node's id names, nearest first: propellers name
    /// a child `{parent}-{retry}-{id}` (`n0-0-dn1` under `n0`). A hint only:
    /// a flytepropeller shortens long ids to hashes.
    fn parents_named_in(node_id: &str) -> Vec<String> {
        let mut parents = Vec::new();
        let mut parts: Vec<&str> = node_id.split('-').collect();
        while let Some(retry) = parts
            .iter()
            .enumerate()
            .rev()
            .skip(1)
            .find(|(at, part)| {
                *at > 0 && !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit())
            })
            .map(|(at, _)| at)
        {
            parts.truncate(retry);
            parents.push(parts.join("-"));
        }
        parents
    }

    /// The gate node `spec_node_id`: among the primary workflow's own nodes
    /// when the node is top-level, otherwise among the subworkflows' nodes,
    /// the nodes of `dynamic_workflows` (what dynamic parents made) and
    /// every branch's cases. Ids repeat across workflows (flytekit names
    /// the nodes of each n0, n1, …), so a nested gate is only trusted when
    /// every node it could be is the same gate.
    fn find_gate(
        compiled: core::CompiledWorkflowClosure,
        dynamic_workflows: Vec<core::CompiledWorkflowClosure>,
        spec_node_id: &str,
        top_level: bool,
    ) -> Option<core::GateNode> {
        let primary_nodes = compiled
            .primary
            .and_then(|workflow| workflow.template)
            .map(|template| template.nodes)
            .unwrap_or_default();
        if top_level {
            return primary_nodes
                .into_iter()
                .find(|node| node.id == spec_node_id)
                .and_then(|node| match node.target {
                    Some(core::node::Target::GateNode(gate)) => Some(gate),
                    _ => None,
                });
        }
        let branch_cases = |node: core::Node| -> Vec<core::Node> {
            let Some(core::node::Target::BranchNode(branch)) = node.target else {
                return Vec::new();
            };
            let Some(if_else) = branch.if_else else {
                return Vec::new();
            };
            let mut cases: Vec<core::Node> = if_else
                .case
                .map(|case| *case)
                .into_iter()
                .chain(if_else.other)
                .filter_map(|case| case.then_node.map(|node| *node))
                .collect();
            if let Some(core::if_else_block::Default::ElseNode(node)) = if_else.default {
                cases.push(*node);
            }
            cases
        };
        let mut nested: Vec<core::Node> =
            primary_nodes.into_iter().flat_map(branch_cases).collect();
        let workflow_nodes = |workflow: core::CompiledWorkflow| {
            workflow
                .template
                .map(|template| template.nodes)
                .unwrap_or_default()
        };
        nested.extend(compiled.sub_workflows.into_iter().flat_map(workflow_nodes));
        // A dynamic node's own workflow: its nodes are nested under it.
        for dynamic in dynamic_workflows {
            nested.extend(dynamic.primary.into_iter().flat_map(workflow_nodes));
            nested.extend(dynamic.sub_workflows.into_iter().flat_map(workflow_nodes));
        }
        let mut candidates = Vec::new();
        while let Some(node) = nested.pop() {
            if node.id == spec_node_id
                && let Some(core::node::Target::GateNode(gate)) = &node.target
            {
                candidates.push(gate.clone());
            }
            nested.extend(branch_cases(node));
        }
        let first = candidates.first()?;
        candidates
            .iter()
            .all(|gate| gate == first)
            .then(|| first.clone())
    }

    pub async fn set_signal(
        project: String,
        domain: String,
        name: String,
        signal_id: String,
        value: String,
    ) -> Result<(), ConsoleError> {
        let mut signals = crate::api::signal_client()?;
        let execution = execution_id(project, domain, name);
        // The signal's type comes from admin, which created it when the gate
        // started waiting; the browser's copy is not trusted.
        let listed = signals
            .list_signals(admin::SignalListRequest {
                workflow_execution_id: Some(execution.clone()),
                limit: 1000,
                ..Default::default()
            })
            .await?
            .into_inner();
        let Some(signal) = listed.signals.into_iter().find(|signal| {
            signal
                .id
                .as_ref()
                .is_some_and(|id| id.signal_id == signal_id)
        }) else {
            return Err(ConsoleError::InvalidInput {
                message: format!(
                    "gate {signal_id} is not waiting yet; try again once its node is running"
                ),
            });
        };
        let literal_type = signal.r#type.unwrap_or_default();
        let kind = input_kind(&literal_type);
        let parsed = kind
            .parse_field(&value)
            .map_err(|reason| ConsoleError::InvalidInput {
                message: format!("{signal_id}: {reason}"),
            })?
            .ok_or_else(|| ConsoleError::InvalidInput {
                message: format!("{signal_id}: give a value ({})", kind.hint()),
            })?;
        signals
            .set_signal(admin::SignalSetRequest {
                id: Some(core::SignalIdentifier {
                    signal_id,
                    execution_id: Some(execution),
                }),
                value: Some(to_literal(&parsed, &literal_type)),
            })
            .await?;
        Ok(())
    }

    #[cfg(test)]
    mod tests {
        use super::{dynamic_parents, find_gate, not_cacheable, parents_named_in};
        use updraft_proto::flyteidl::core;

        fn template(discoverable: bool, outputs: &[&str]) -> core::TaskTemplate {
            core::TaskTemplate {
                metadata: Some(core::TaskMetadata {
                    discoverable,
                    discovery_version: "1.0".into(),
                    ..Default::default()
                }),
                interface: Some(core::TypedInterface {
                    outputs: Some(core::VariableMap {
                        variables: outputs
                            .iter()
                            .map(|name| (name.to_string(), core::Variable::default()))
                            .collect(),
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }
        }

        #[test]
        fn a_task_is_not_cacheable_without_cache_true_or_without_outputs() {
            assert_eq!(not_cacheable(&template(true, &["o0"])), None);
            assert!(
                not_cacheable(&template(false, &["o0"]))
                    .unwrap()
                    .starts_with("cache=False")
            );
            assert!(
                not_cacheable(&template(true, &[]))
                    .unwrap()
                    .starts_with("no outputs")
            );
            assert!(
                not_cacheable(&core::TaskTemplate::default())
                    .unwrap()
                    .starts_with("cache=False")
            );
        }

        fn task_node(id: &str) -> core::Node {
            core::Node {
                id: id.into(),
                target: Some(core::node::Target::TaskNode(Default::default())),
                ..Default::default()
            }
        }

        fn approve_node(id: &str, signal_id: &str) -> core::Node {
            core::Node {
                id: id.into(),
                target: Some(core::node::Target::GateNode(core::GateNode {
                    condition: Some(core::gate_node::Condition::Approve(
                        core::ApproveCondition {
                            signal_id: signal_id.into(),
                        },
                    )),
                })),
                ..Default::default()
            }
        }

        fn workflow(nodes: Vec<core::Node>) -> core::CompiledWorkflow {
            core::CompiledWorkflow {
                template: Some(core::WorkflowTemplate {
                    nodes,
                    ..Default::default()
                }),
                ..Default::default()
            }
        }

        fn signal_of(gate: Option<core::GateNode>) -> Option<String> {
            match gate?.condition? {
                core::gate_node::Condition::Approve(approve) => Some(approve.signal_id),
                _ => None,
            }
        }

        #[test]
        fn a_gate_is_looked_for_in_the_workflow_its_node_belongs_to() {
            // Both workflows name their nodes n0, n1: the top-level n1 is a
            // task, the subworkflow's n1 a gate.
            let closure = core::CompiledWorkflowClosure {
                primary: Some(workflow(vec![task_node("n0"), task_node("n1")])),
                sub_workflows: vec![workflow(vec![
                    task_node("n0"),
                    approve_node("n1", "approve-inner"),
                ])],
                ..Default::default()
            };
            assert_eq!(
                signal_of(find_gate(closure.clone(), Vec::new(), "n1", true)),
                None
            );
            assert_eq!(
                signal_of(find_gate(closure.clone(), Vec::new(), "n1", false)).as_deref(),
                Some("approve-inner")
            );

            // Two different gates a nested n1 could be: neither is offered.
            let mut ambiguous = closure;
            ambiguous
                .sub_workflows
                .push(workflow(vec![approve_node("n1", "approve-other")]));
            assert_eq!(
                signal_of(find_gate(ambiguous, Vec::new(), "n1", false)),
                None
            );
        }

        #[test]
        fn a_nested_nodes_id_names_its_parents() {
            assert_eq!(parents_named_in("n0-0-dn1"), vec!["n0"]);
            assert_eq!(parents_named_in("n0-0-n1-2-dn3"), vec!["n0-0-n1", "n0"]);
            assert!(parents_named_in("n0").is_empty());
            assert!(parents_named_in("start-node").is_empty());
            assert!(parents_named_in("0-1").is_empty());
        }

        #[test]
        fn the_nearest_parent_is_looked_in_first() {
            let open = vec!["n3".to_string(), "n0".to_string(), "n0-0-dn2".to_string()];
            assert_eq!(
                dynamic_parents("n0-0-dn2-0-dn1", &open),
                vec!["n0-0-dn2", "n0", "n3"]
            );
            // Ids an admin shortened name no parent: the open ones remain.
            assert_eq!(dynamic_parents("a1b2c3", &open), open);
        }

        #[test]
        fn a_gate_a_dynamic_node_made_is_found_in_that_nodes_workflow() {
            let closure = core::CompiledWorkflowClosure {
                primary: Some(workflow(vec![task_node("n0")])),
                ..Default::default()
            };
            let made = core::CompiledWorkflowClosure {
                primary: Some(workflow(vec![
                    task_node("dn0"),
                    approve_node("dn1", "approve-made"),
                ])),
                ..Default::default()
            };
            assert_eq!(
                signal_of(find_gate(closure.clone(), Vec::new(), "dn1", false)),
                None
            );
            assert_eq!(
                signal_of(find_gate(closure.clone(), vec![made.clone()], "dn1", false)).as_deref(),
                Some("approve-made")
            );
            // Its ids are not the top level's.
            assert_eq!(signal_of(find_gate(closure, vec![made], "dn1", true)), None);
        }
    }
}
