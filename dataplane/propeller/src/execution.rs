//! Running one claimed execution: walk the compiled DAG, run each ready node,
//! report every phase change to admin, and finish with the workflow's outputs
//! or its error.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use prost::Message;
use tokio::sync::watch;
use tokio::task::JoinSet;
use updraft_proto::flyteidl::core::{self, node, task_node};
use updraft_proto::flyteidl::event::{
    self, node_execution_event, task_execution_event, workflow_execution_event,
};
use updraft_proto::updraft::admin::v1::ClaimedExecution;

use crate::bindings::{NodeOutputs, resolve_bindings};
use crate::events::{EventError, EventSender};
use crate::outcome::{TaskOutcome, read_local_outcome};
use crate::paths::{ExecutionPaths, attempt_key, file_uri};
use crate::runtime::{ProcessExit, TaskLaunch, TaskRuntime};

/// The ids Flyte gives the implicit first and last nodes.
pub use crate::bindings::START_NODE;
pub const END_NODE: &str = "end-node";

/// Attempts a task gets for failures that are not its own (a lost process,
/// a runtime that could not start it), on top of its own `retries`.
const SYSTEM_RETRIES: u32 = 3;

/// What running executions share.
pub struct ExecutionEnvironment {
    pub events: EventSender,
    pub runtime: Arc<dyn TaskRuntime>,
    /// The local object-store folder execution files are written to.
    pub store_root: PathBuf,
    /// Base URL task log links point at (`{base}/api/v1/logs/{attempt}`).
    pub log_url_base: Option<String>,
    /// Nodes of one execution that may run at once, unless the execution says otherwise.
    pub default_max_parallelism: usize,
}

/// How an execution ended.
#[derive(Debug, Clone, PartialEq)]
pub enum ExecutionEnd {
    Succeeded,
    Failed(core::ExecutionError),
    Aborted,
    /// Admin refused its events (for example it was terminated meanwhile).
    Abandoned(String),
}

/// Why a running execution must stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// Someone terminated it: stop the tasks and report ABORTED.
    Terminate(String),
    /// Another propeller holds it now: stop the tasks and report nothing.
    LeaseLost,
}

/// Stop requests reach running executions through this channel.
pub type AbortSignal = watch::Receiver<Option<StopReason>>;

enum NodeEnd {
    Succeeded(core::LiteralMap),
    Failed(core::ExecutionError),
    Aborted,
}

/// Runs `claimed` to a terminal phase.
#[tracing::instrument(skip_all, fields(execution = %claimed.execution.as_ref().and_then(|e| e.id.as_ref()).map(|id| id.name.as_str()).unwrap_or("?")))]
pub async fn run_execution(
    environment: Arc<ExecutionEnvironment>,
    claimed: ClaimedExecution,
    abort: AbortSignal,
) -> ExecutionEnd {
    match run_execution_inner(&environment, claimed, abort).await {
        Ok(end) => end,
        Err(EventError::Refused(reason)) => {
            tracing::warn!(reason, "admin refused an event; stopping this execution");
            ExecutionEnd::Abandoned(reason)
        }
        Err(error @ EventError::Unreachable { .. }) => {
            tracing::error!(%error, "giving up on this execution; its lease will expire and it will be claimed again");
            ExecutionEnd::Abandoned(error.to_string())
        }
    }
}

async fn run_execution_inner(
    environment: &Arc<ExecutionEnvironment>,
    claimed: ClaimedExecution,
    abort: AbortSignal,
) -> Result<ExecutionEnd, EventError> {
    let execution = claimed.execution.unwrap_or_default();
    let execution_id = execution.id.clone().unwrap_or_default();
    let paths = ExecutionPaths::new(&environment.store_root, &execution_id);
    let closure = claimed.workflow.unwrap_or_default();
    let workflow = closure
        .primary
        .clone()
        .and_then(|primary| primary.template)
        .unwrap_or_default();
    let tasks: HashMap<IdentifierKey, core::TaskTemplate> = closure
        .tasks
        .iter()
        .filter_map(|compiled| compiled.template.clone())
        .filter_map(|template| Some((IdentifierKey::of(template.id.as_ref()?), template)))
        .collect();
    let inputs = claimed.inputs.unwrap_or_default();
    let max_parallelism = execution
        .spec
        .as_ref()
        .map(|spec| spec.max_parallelism)
        .filter(|parallelism| *parallelism > 0)
        .map_or(environment.default_max_parallelism, |parallelism| {
            parallelism as usize
        })
        .max(1);
    let fail_immediately = workflow.metadata.as_ref().is_none_or(|metadata| {
        metadata.on_failure() == core::workflow_metadata::OnFailurePolicy::FailImmediately
    });

    environment
        .events
        .workflow(workflow_event(
            &execution_id,
            core::workflow_execution::Phase::Running,
            None,
        ))
        .await?;

    // The start node "produces" the workflow inputs; admin reads them from its event.
    let inputs_path = paths.workflow_inputs();
    if let Err(error) = write_message(&inputs_path, &inputs).await {
        return fail_workflow(
            environment,
            &execution_id,
            system_error(
                "WriteInputs",
                &format!("cannot write the workflow inputs: {error}"),
            ),
        )
        .await;
    }
    report_implicit_node(environment, &execution_id, START_NODE, &inputs_path).await?;

    let mut outputs = NodeOutputs::new();
    outputs.insert(START_NODE.to_string(), inputs);
    // A compiled workflow lists the implicit start and end nodes too; they run
    // nothing and are reported above and below.
    let mut pending: Vec<core::Node> = workflow
        .nodes
        .iter()
        .filter(|node| node.id != START_NODE && node.id != END_NODE)
        .cloned()
        .collect();
    let dependencies: HashMap<String, HashSet<String>> = pending
        .iter()
        .map(|node| (node.id.clone(), dependencies_of(node)))
        .collect();
    let mut running = JoinSet::new();
    let mut failure: Option<core::ExecutionError> = None;
    let mut abort = abort;
    let mut abort_open = true;
    let mut aborted: Option<StopReason> = None;
    // Node runners stop when this carries a reason: a terminate request, a
    // lost lease, or a failed sibling under the fail-immediately policy.
    let (stop_nodes, node_stop_signal) = watch::channel(None::<StopReason>);

    loop {
        if aborted.is_none() && (failure.is_none() || !fail_immediately) {
            // Start every node whose upstream nodes have all succeeded.
            let mut index = 0;
            while index < pending.len() && running.len() < max_parallelism {
                let ready = dependencies[&pending[index].id]
                    .iter()
                    .all(|upstream| outputs.contains_key(upstream));
                if ready {
                    let node = pending.remove(index);
                    let task =
                        task_of(&node).and_then(|id| tasks.get(&IdentifierKey::of(id)).cloned());
                    let node_inputs = resolve_bindings(&node.inputs, &outputs);
                    let environment = Arc::clone(environment);
                    let execution_id = execution_id.clone();
                    let paths = paths.clone();
                    let abort = node_stop_signal.clone();
                    running.spawn(async move {
                        let node_id = node.id.clone();
                        let end = run_node(
                            &environment,
                            &execution_id,
                            &paths,
                            node,
                            task,
                            node_inputs,
                            abort,
                        )
                        .await;
                        (node_id, end)
                    });
                } else {
                    index += 1;
                }
            }
        }
        if running.is_empty() {
            break;
        }
        tokio::select! {
            joined = running.join_next() => {
                let Some(joined) = joined else { break };
                let (node_id, end) = match joined {
                    Ok(result) => result,
                    Err(panic) => {
                        tracing::error!(%panic, "a node runner panicked");
                        failure.get_or_insert(system_error("Internal", "a node failed inside updraft; see its log"));
                        continue;
                    }
                };
                match end? {
                    NodeEnd::Succeeded(node_outputs) => { outputs.insert(node_id, node_outputs); }
                    NodeEnd::Failed(error) => {
                        failure.get_or_insert(error);
                        if fail_immediately {
                            // The other nodes stop and report ABORTED.
                            stop_nodes.send_replace(Some(StopReason::Terminate("another node of the execution failed".into())));
                        }
                    }
                    NodeEnd::Aborted => {}
                }
            }
            changed = abort.changed(), if abort_open => {
                if changed.is_err() {
                    abort_open = false;
                } else if let Some(reason) = abort.borrow().clone() {
                    tracing::info!(?reason, "stopping execution");
                    aborted = Some(reason.clone());
                    stop_nodes.send_replace(Some(reason));
                }
            }
        }
    }

    match aborted {
        Some(StopReason::Terminate(_)) => {
            environment
                .events
                .workflow(workflow_event(
                    &execution_id,
                    core::workflow_execution::Phase::Aborted,
                    None,
                ))
                .await?;
            return Ok(ExecutionEnd::Aborted);
        }
        Some(StopReason::LeaseLost) => return Ok(ExecutionEnd::Abandoned("lease lost".into())),
        None => {}
    }

    if let Some(error) = failure {
        return fail_workflow(environment, &execution_id, error).await;
    }
    if let Some(node) = pending.first() {
        let message = format!(
            "node {} can never run: it depends on nodes that did not succeed",
            node.id
        );
        return fail_workflow(
            environment,
            &execution_id,
            system_error("UnreachableNode", &message),
        )
        .await;
    }
    let workflow_outputs = match resolve_bindings(&workflow.outputs, &outputs) {
        Ok(workflow_outputs) => workflow_outputs,
        Err(error) => {
            return fail_workflow(
                environment,
                &execution_id,
                user_error("OutputBinding", &error.to_string()),
            )
            .await;
        }
    };
    let outputs_path = paths.workflow_outputs();
    if let Err(error) = write_message(&outputs_path, &workflow_outputs).await {
        return fail_workflow(
            environment,
            &execution_id,
            system_error(
                "WriteOutputs",
                &format!("cannot write the workflow outputs: {error}"),
            ),
        )
        .await;
    }
    report_implicit_node(environment, &execution_id, END_NODE, &outputs_path).await?;
    environment
        .events
        .workflow(workflow_event(
            &execution_id,
            core::workflow_execution::Phase::Succeeded,
            Some(workflow_execution_event::OutputResult::OutputUri(file_uri(
                &outputs_path,
            ))),
        ))
        .await?;
    Ok(ExecutionEnd::Succeeded)
}

/// The start and end nodes run nothing: each succeeds with the workflow's
/// inputs or outputs as its outputs, which is where admin reads them from.
async fn report_implicit_node(
    environment: &ExecutionEnvironment,
    execution_id: &core::WorkflowExecutionIdentifier,
    node_id: &str,
    outputs_path: &std::path::Path,
) -> Result<(), EventError> {
    let outputs = node_execution_event::OutputResult::OutputUri(file_uri(outputs_path));
    let event = node_event(
        execution_id,
        node_id,
        core::node_execution::Phase::Succeeded,
        None,
        Some(outputs),
    );
    environment.events.node(event).await
}

async fn fail_workflow(
    environment: &ExecutionEnvironment,
    execution_id: &core::WorkflowExecutionIdentifier,
    error: core::ExecutionError,
) -> Result<ExecutionEnd, EventError> {
    environment
        .events
        .workflow(workflow_event(
            execution_id,
            core::workflow_execution::Phase::Failed,
            Some(workflow_execution_event::OutputResult::Error(error.clone())),
        ))
        .await?;
    Ok(ExecutionEnd::Failed(error))
}

/// Runs one node to its end and reports its phases.
async fn run_node(
    environment: &ExecutionEnvironment,
    execution_id: &core::WorkflowExecutionIdentifier,
    paths: &ExecutionPaths,
    node: core::Node,
    task: Option<core::TaskTemplate>,
    inputs: Result<core::LiteralMap, crate::bindings::BindingError>,
    abort: AbortSignal,
) -> Result<NodeEnd, EventError> {
    let input_prefix = paths.node_input_prefix(&node.id);
    let input_uri = file_uri(&input_prefix.join("inputs.pb"));
    let queued = node_event(
        execution_id,
        &node.id,
        core::node_execution::Phase::Running,
        Some(input_uri.clone()),
        None,
    );
    let fail = |error: core::ExecutionError| {
        node_event(
            execution_id,
            &node.id,
            core::node_execution::Phase::Failed,
            Some(input_uri.clone()),
            Some(node_execution_event::OutputResult::Error(error)),
        )
    };
    let inputs = match inputs {
        Ok(inputs) => inputs,
        Err(error) => {
            let error = user_error("InputBinding", &format!("node {}: {error}", node.id));
            environment.events.node(fail(error.clone())).await?;
            return Ok(NodeEnd::Failed(error));
        }
    };
    let Some(task) = task else {
        let kind = match node.target {
            Some(node::Target::TaskNode(_)) => {
                "a task node whose task is not in the workflow closure"
            }
            Some(node::Target::WorkflowNode(_)) => "subworkflow and launch-plan nodes",
            Some(node::Target::BranchNode(_)) => "branch nodes",
            Some(node::Target::GateNode(_)) => "gate nodes",
            Some(node::Target::ArrayNode(_)) => "array nodes (map tasks)",
            None => "a node without a target",
        };
        let error = system_error(
            "UnsupportedNode",
            &format!("node {}: updraft cannot run {kind} yet", node.id),
        );
        environment.events.node(fail(error.clone())).await?;
        return Ok(NodeEnd::Failed(error));
    };
    environment.events.node(queued).await?;

    let metadata = task.metadata.clone().unwrap_or_default();
    let user_attempts = metadata
        .retries
        .as_ref()
        .map_or(0, |retries| retries.retries)
        + 1;
    let timeout = metadata
        .timeout
        .as_ref()
        .and_then(|timeout| Duration::try_from(*timeout).ok())
        .filter(|d| !d.is_zero());
    let node_execution_id = core::NodeExecutionIdentifier {
        node_id: node.id.clone(),
        execution_id: Some(execution_id.clone()),
    };
    let mut user_failures = 0;
    let mut system_failures = 0;
    let mut attempt: u32 = 0;
    let mut previous_checkpoint: Option<String> = None;
    loop {
        let output_prefix = paths.attempt_output_prefix(&node.id, attempt);
        let raw_prefix = paths.attempt_raw_prefix(&node.id, attempt);
        let attempt_key = attempt_key(execution_id, &node.id, attempt);
        let launch = TaskLaunch {
            attempt_key: attempt_key.clone(),
            attempt_number: attempt,
            template: task.clone(),
            inputs: inputs.clone(),
            input_prefix: input_prefix.display().to_string(),
            output_prefix: output_prefix.display().to_string(),
            raw_output_prefix: raw_prefix.display().to_string(),
            previous_checkpoint_prefix: previous_checkpoint.clone(),
            execution: execution_id.clone(),
            environment: Default::default(),
        };
        let checkpoint = launch.checkpoint_prefix();
        let logs: Vec<core::TaskLog> = environment
            .log_url_base
            .as_ref()
            .map(|base| core::TaskLog {
                uri: format!("{}/api/v1/logs/{attempt_key}", base.trim_end_matches('/')),
                name: "Task log".into(),
                message_format: core::task_log::MessageFormat::Unknown as i32,
                show_while_pending: true,
                ..Default::default()
            })
            .into_iter()
            .collect();
        let task_event =
            |phase: core::task_execution::Phase,
             phase_version: u32,
             output: Option<task_execution_event::OutputResult>| {
                event::TaskExecutionEvent {
                    task_id: task.id.clone(),
                    parent_node_execution_id: Some(node_execution_id.clone()),
                    retry_attempt: attempt,
                    phase: phase as i32,
                    logs: logs.clone(),
                    occurred_at: Some(now()),
                    input_value: Some(task_execution_event::InputValue::InputUri(
                        input_uri.clone(),
                    )),
                    output_result: output,
                    phase_version,
                    task_type: task.r#type.clone(),
                    reported_at: Some(now()),
                    ..Default::default()
                }
            };

        let attempt_end = match environment.runtime.launch(launch).await {
            Err(error) => Err((system_error("TaskStart", &error.to_string()), true)),
            Ok(mut running) => {
                environment
                    .events
                    .task(task_event(core::task_execution::Phase::Running, 0, None))
                    .await?;
                let mut abort = abort.clone();
                let waited = tokio::select! {
                    exit = wait_with_timeout(running.as_mut(), timeout) => Some(exit),
                    _ = abort.wait_for(|cause| cause.is_some()) => None,
                };
                match waited {
                    None => {
                        let _ = running.abort().await;
                        if matches!(*abort.borrow(), Some(StopReason::LeaseLost)) {
                            return Ok(NodeEnd::Aborted);
                        }
                        environment
                            .events
                            .task(task_event(core::task_execution::Phase::Aborted, 0, None))
                            .await?;
                        environment
                            .events
                            .node(node_event(
                                execution_id,
                                &node.id,
                                core::node_execution::Phase::Aborted,
                                Some(input_uri.clone()),
                                None,
                            ))
                            .await?;
                        return Ok(NodeEnd::Aborted);
                    }
                    Some(WaitEnd::TimedOut) => {
                        let _ = running.abort().await;
                        Err((
                            user_error(
                                "Timeout",
                                &format!(
                                    "task {} exceeded its timeout of {:?}",
                                    task_name(&task),
                                    timeout.unwrap_or_default()
                                ),
                            ),
                            true,
                        ))
                    }
                    Some(WaitEnd::Failed(error)) => Err((system_error("TaskWatch", &error), true)),
                    Some(WaitEnd::Exited(exit)) => match read_local_outcome(&output_prefix).await {
                        Ok(TaskOutcome::Succeeded(outputs)) => Ok(outputs),
                        Ok(TaskOutcome::Failed(container_error)) => {
                            Err(container_error_to_execution_error(container_error))
                        }
                        Ok(TaskOutcome::Dynamic(_)) => Err((
                            system_error(
                                "UnsupportedNode",
                                &format!(
                                    "node {}: updraft cannot run dynamic workflows yet",
                                    node.id
                                ),
                            ),
                            false,
                        )),
                        Ok(TaskOutcome::NoOutputs) => Err(match exit {
                            ProcessExit::Exited(code) => (
                                user_error(
                                    "NonZeroExit",
                                    &format!(
                                        "task process exited with code {code} without writing outputs; see the task log"
                                    ),
                                ),
                                true,
                            ),
                            ProcessExit::Killed => (
                                system_error(
                                    "ProcessKilled",
                                    "task process was killed before writing outputs",
                                ),
                                true,
                            ),
                        }),
                        Err(error) => Err((system_error("ReadOutputs", &error.to_string()), true)),
                    },
                }
            }
        };

        match attempt_end {
            Ok(outputs) => {
                let outputs_uri = file_uri(&output_prefix.join("outputs.pb"));
                environment
                    .events
                    .task(task_event(
                        core::task_execution::Phase::Succeeded,
                        0,
                        Some(task_execution_event::OutputResult::OutputUri(
                            outputs_uri.clone(),
                        )),
                    ))
                    .await?;
                environment
                    .events
                    .node(node_event(
                        execution_id,
                        &node.id,
                        core::node_execution::Phase::Succeeded,
                        Some(input_uri),
                        Some(node_execution_event::OutputResult::OutputUri(outputs_uri)),
                    ))
                    .await?;
                return Ok(NodeEnd::Succeeded(outputs));
            }
            Err((error, retryable)) => {
                environment
                    .events
                    .task(task_event(
                        core::task_execution::Phase::Failed,
                        0,
                        Some(task_execution_event::OutputResult::Error(error.clone())),
                    ))
                    .await?;
                let system = error.kind() == core::execution_error::ErrorKind::System;
                if system {
                    system_failures += 1
                } else {
                    user_failures += 1
                }
                let budget_left = if system {
                    system_failures < SYSTEM_RETRIES
                } else {
                    user_failures < user_attempts
                };
                if !retryable || !budget_left {
                    environment.events.node(fail(error.clone())).await?;
                    return Ok(NodeEnd::Failed(error));
                }
                tracing::info!(node = %node.id, attempt, code = %error.code, "task attempt failed, retrying");
                previous_checkpoint = Some(checkpoint);
                attempt += 1;
            }
        }
    }
}

enum WaitEnd {
    Exited(ProcessExit),
    TimedOut,
    Failed(String),
}

async fn wait_with_timeout(
    running: &mut dyn crate::runtime::RunningTask,
    timeout: Option<Duration>,
) -> WaitEnd {
    let wait = running.wait();
    let result = match timeout {
        Some(limit) => match tokio::time::timeout(limit, wait).await {
            Ok(result) => result,
            Err(_) => return WaitEnd::TimedOut,
        },
        None => wait.await,
    };
    match result {
        Ok(exit) => WaitEnd::Exited(exit),
        Err(error) => WaitEnd::Failed(error.to_string()),
    }
}

/// The task's own error, and whether it may be retried: flytekit marks only
/// `FlyteRecoverableException` (and some system errors) recoverable, and
/// propeller retries nothing else.
fn container_error_to_execution_error(error: core::ContainerError) -> (core::ExecutionError, bool) {
    let retryable = error.kind() == core::container_error::Kind::Recoverable;
    let execution_error = core::ExecutionError {
        code: error.code,
        message: error.message,
        kind: error.origin,
        timestamp: error.timestamp,
        ..Default::default()
    };
    (execution_error, retryable)
}

fn task_name(task: &core::TaskTemplate) -> String {
    task.id
        .as_ref()
        .map(|id| id.name.clone())
        .unwrap_or_default()
}

fn dependencies_of(node: &core::Node) -> HashSet<String> {
    let mut dependencies: HashSet<String> = node.upstream_node_ids.iter().cloned().collect();
    for binding in &node.inputs {
        if let Some(data) = &binding.binding {
            collect_promises(data, &mut dependencies);
        }
    }
    dependencies
}

fn collect_promises(data: &core::BindingData, into: &mut HashSet<String>) {
    use core::binding_data::Value;
    match &data.value {
        Some(Value::Promise(reference)) => {
            into.insert(crate::bindings::promised_node(reference).to_string());
        }
        Some(Value::Collection(collection)) => collection
            .bindings
            .iter()
            .for_each(|item| collect_promises(item, into)),
        Some(Value::Map(map)) => map
            .bindings
            .values()
            .for_each(|item| collect_promises(item, into)),
        _ => {}
    }
}

fn task_of(node: &core::Node) -> Option<&core::Identifier> {
    match &node.target {
        Some(node::Target::TaskNode(task_node)) => match &task_node.reference {
            Some(task_node::Reference::ReferenceId(id)) => Some(id),
            None => None,
        },
        _ => None,
    }
}

/// Task ids compared by what identifies them (project, domain, name, version).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct IdentifierKey(String, String, String, String);

impl IdentifierKey {
    fn of(id: &core::Identifier) -> Self {
        Self(
            id.project.clone(),
            id.domain.clone(),
            id.name.clone(),
            id.version.clone(),
        )
    }
}

fn system_error(code: &str, message: &str) -> core::ExecutionError {
    core::ExecutionError {
        code: code.to_string(),
        message: message.to_string(),
        kind: core::execution_error::ErrorKind::System as i32,
        timestamp: Some(now()),
        ..Default::default()
    }
}

fn user_error(code: &str, message: &str) -> core::ExecutionError {
    core::ExecutionError {
        code: code.to_string(),
        message: message.to_string(),
        kind: core::execution_error::ErrorKind::User as i32,
        timestamp: Some(now()),
        ..Default::default()
    }
}

fn now() -> prost_types::Timestamp {
    prost_types::Timestamp::from(SystemTime::now())
}

fn workflow_event(
    execution_id: &core::WorkflowExecutionIdentifier,
    phase: core::workflow_execution::Phase,
    output: Option<workflow_execution_event::OutputResult>,
) -> event::WorkflowExecutionEvent {
    event::WorkflowExecutionEvent {
        execution_id: Some(execution_id.clone()),
        phase: phase as i32,
        occurred_at: Some(now()),
        output_result: output,
        ..Default::default()
    }
}

fn node_event(
    execution_id: &core::WorkflowExecutionIdentifier,
    node_id: &str,
    phase: core::node_execution::Phase,
    input_uri: Option<String>,
    output: Option<node_execution_event::OutputResult>,
) -> event::NodeExecutionEvent {
    event::NodeExecutionEvent {
        id: Some(core::NodeExecutionIdentifier {
            node_id: node_id.to_string(),
            execution_id: Some(execution_id.clone()),
        }),
        phase: phase as i32,
        occurred_at: Some(now()),
        input_value: input_uri.map(node_execution_event::InputValue::InputUri),
        output_result: output,
        spec_node_id: node_id.to_string(),
        node_name: node_id.to_string(),
        reported_at: Some(now()),
        ..Default::default()
    }
}

async fn write_message(path: &std::path::Path, message: &impl Message) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        tokio::fs::create_dir_all(parent).await?;
    }
    tokio::fs::write(path, message.encode_to_vec()).await
}
