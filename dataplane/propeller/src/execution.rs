//! Running one claimed execution: walk the compiled DAG, run each ready node,
//! report every phase change to admin, and finish with the workflow's outputs
//! or its error.
//!
//! A workflow scope (nodes, the inputs they see as `start-node`, and the
//! output bindings) is walked by [`run_scope`]; subworkflow, branch and
//! dynamic nodes run their children through it again, one level down, with
//! the child node ids prefixed as flytepropeller prefixes them.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use prost::Message;
use tokio::sync::watch;
use tokio::task::JoinSet;
use updraft_proto::flyteidl::admin;
use updraft_proto::flyteidl::core::{self, if_else_block, node, task_node, workflow_node};
use updraft_proto::flyteidl::event::{
    self, node_execution_event, task_execution_event, workflow_execution_event,
};
use updraft_proto::updraft::admin::v1::ClaimedExecution;

use crate::bindings::{NodeOutputs, resolve_bindings};
use crate::events::{EventError, EventSender};
use crate::gates::SignalSource;
use crate::history::{ExecutionHistory, PastAttempt, task_attempts};
use crate::node_ids::{ParentInfo, unique_node_id};
use crate::outcome::{TaskOutcome, read_outcome};
use crate::paths::{ExecutionPaths, attempt_key, file_in};
use crate::runtime::{ProcessExit, RunningTask, TaskLaunch, TaskRuntime};
use updraft_storage::{Storage, StorageError};

/// The ids Flyte gives the implicit first and last nodes.
pub use crate::bindings::START_NODE;
pub const END_NODE: &str = "end-node";

/// Attempts a task gets for failures that are not its own (a lost process,
/// a runtime that could not start it), on top of its own `retries`.
pub(crate) const SYSTEM_RETRIES: u32 = 3;

/// What running executions share.
pub struct ExecutionEnvironment {
    pub events: EventSender,
    pub runtime: Arc<dyn TaskRuntime>,
    /// Where gate nodes that wait for approval or input read their signal.
    pub signals: Arc<dyn SignalSource>,
    /// The object store execution files are written to (and tasks write to).
    pub storage: Storage,
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

/// Why `stop` says to stop, if it does (the lock is released at once, so
/// callers may await afterwards).
pub(crate) fn stop_reason(stop: &AbortSignal) -> Option<StopReason> {
    stop.borrow().clone()
}

/// Resolves once `stop` says to stop; never if its sender is gone.
pub(crate) async fn wait_for_stop(stop: &AbortSignal) {
    let mut stop = stop.clone();
    if stop.wait_for(|reason| reason.is_some()).await.is_err() {
        std::future::pending::<()>().await;
    }
}

pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// How one node ended.
pub(crate) enum NodeEnd {
    Succeeded(core::LiteralMap),
    Failed(core::ExecutionError),
    Aborted,
}

/// What every node of one execution shares.
pub(crate) struct RunContext {
    pub(crate) environment: Arc<ExecutionEnvironment>,
    pub(crate) execution_id: core::WorkflowExecutionIdentifier,
    /// The execution's own metadata (nesting, principal), passed on to children.
    pub(crate) execution_metadata: admin::ExecutionMetadata,
    pub(crate) paths: ExecutionPaths,
    max_parallelism: usize,
    /// What happened before this run: nodes it need not run again.
    pub(crate) history: ExecutionHistory,
}

/// The tasks and subworkflows nodes may refer to: the compiled closure's,
/// plus those a dynamic task generated.
#[derive(Default)]
pub(crate) struct Definitions {
    tasks: HashMap<IdentifierKey, core::TaskTemplate>,
    sub_workflows: HashMap<IdentifierKey, core::WorkflowTemplate>,
}

impl Definitions {
    fn of_closure(closure: &core::CompiledWorkflowClosure) -> Self {
        Self::default().extended(
            closure
                .tasks
                .iter()
                .filter_map(|compiled| compiled.template.clone()),
            closure
                .sub_workflows
                .iter()
                .filter_map(|compiled| compiled.template.clone()),
        )
    }

    fn extended(
        &self,
        tasks: impl IntoIterator<Item = core::TaskTemplate>,
        sub_workflows: impl IntoIterator<Item = core::WorkflowTemplate>,
    ) -> Self {
        let mut extended = Self {
            tasks: self.tasks.clone(),
            sub_workflows: self.sub_workflows.clone(),
        };
        for task in tasks {
            if let Some(id) = task.id.as_ref() {
                extended.tasks.insert(IdentifierKey::of(id), task);
            }
        }
        for workflow in sub_workflows {
            if let Some(id) = workflow.id.as_ref() {
                extended
                    .sub_workflows
                    .insert(IdentifierKey::of(id), workflow);
            }
        }
        extended
    }

    pub(crate) fn task(&self, id: &core::Identifier) -> Option<&core::TaskTemplate> {
        self.tasks.get(&IdentifierKey::of(id))
    }
}

/// One workflow scope to run: the primary workflow, a subworkflow, or the
/// workflow a dynamic task generated.
pub(crate) struct Scope {
    nodes: Vec<core::Node>,
    output_bindings: Vec<core::Binding>,
    /// What `start-node` produces: the scope's inputs.
    inputs: core::LiteralMap,
    parent: Option<ParentInfo>,
    fail_immediately: bool,
    definitions: Arc<Definitions>,
}

impl Scope {
    fn of_workflow(
        workflow: &core::WorkflowTemplate,
        inputs: core::LiteralMap,
        parent: Option<ParentInfo>,
        definitions: Arc<Definitions>,
    ) -> Self {
        Self {
            // A compiled workflow lists the implicit start and end nodes too;
            // they run nothing and are reported by whoever runs the scope.
            nodes: workflow
                .nodes
                .iter()
                .filter(|node| node.id != START_NODE && node.id != END_NODE)
                .cloned()
                .collect(),
            output_bindings: workflow.outputs.clone(),
            inputs,
            parent,
            fail_immediately: workflow.metadata.as_ref().is_none_or(|metadata| {
                metadata.on_failure() == core::workflow_metadata::OnFailurePolicy::FailImmediately
            }),
            definitions,
        }
    }
}

/// How a scope ended.
pub(crate) enum ScopeEnd {
    Succeeded(core::LiteralMap),
    Failed(core::ExecutionError),
    Stopped(StopReason),
}

/// Where a node runs: under which parent, with which definitions, seeing
/// which outputs of the nodes before it.
#[derive(Clone)]
pub(crate) struct NodePlace {
    pub(crate) parent: Option<ParentInfo>,
    pub(crate) definitions: Arc<Definitions>,
    outputs: Arc<NodeOutputs>,
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
    let history = ExecutionHistory::load(
        &environment.events.admin(),
        &execution,
        claimed.previous_claims,
    )
    .await?;
    let spec = execution.spec.clone().unwrap_or_default();
    let paths = ExecutionPaths::new(&environment.storage, &execution_id).with_raw_output_prefix(
        spec.raw_output_data_config
            .as_ref()
            .map(|config| config.output_location_prefix.as_str())
            .unwrap_or_default(),
    );
    let closure = claimed.workflow.unwrap_or_default();
    let workflow = closure
        .primary
        .clone()
        .and_then(|primary| primary.template)
        .unwrap_or_default();
    let inputs = claimed.inputs.unwrap_or_default();
    let max_parallelism = Some(spec.max_parallelism)
        .filter(|parallelism| *parallelism > 0)
        .map_or(environment.default_max_parallelism, |parallelism| {
            parallelism as usize
        })
        .max(1);
    let context = Arc::new(RunContext {
        environment: Arc::clone(environment),
        execution_id: execution_id.clone(),
        execution_metadata: spec.metadata.clone().unwrap_or_default(),
        paths: paths.clone(),
        max_parallelism,
        history,
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
    if let Err(error) = write_message(&environment.storage, &inputs_path, &inputs).await {
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
    report_implicit_node(&context, None, START_NODE, &inputs_path).await?;

    let scope = Scope::of_workflow(
        &workflow,
        inputs,
        None,
        Arc::new(Definitions::of_closure(&closure)),
    );
    let workflow_outputs = match run_scope(Arc::clone(&context), scope, abort).await? {
        ScopeEnd::Succeeded(outputs) => outputs,
        ScopeEnd::Failed(error) => return fail_workflow(environment, &execution_id, error).await,
        ScopeEnd::Stopped(StopReason::Terminate(_)) => {
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
        ScopeEnd::Stopped(StopReason::LeaseLost) => {
            return Ok(ExecutionEnd::Abandoned("lease lost".into()));
        }
    };
    let outputs_path = paths.workflow_outputs();
    if let Err(error) = write_message(&environment.storage, &outputs_path, &workflow_outputs).await
    {
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
    report_implicit_node(&context, None, END_NODE, &outputs_path).await?;
    environment
        .events
        .workflow(workflow_event(
            &execution_id,
            core::workflow_execution::Phase::Succeeded,
            Some(workflow_execution_event::OutputResult::OutputUri(
                outputs_path.clone(),
            )),
        ))
        .await?;
    Ok(ExecutionEnd::Succeeded)
}

/// Runs the nodes of `scope` as their dependencies allow and resolves its
/// outputs. Boxed because nodes run scopes of their own.
pub(crate) fn run_scope(
    context: Arc<RunContext>,
    scope: Scope,
    stop: AbortSignal,
) -> BoxFuture<Result<ScopeEnd, EventError>> {
    Box::pin(async move {
        let Scope {
            nodes,
            output_bindings,
            inputs,
            parent,
            fail_immediately,
            definitions,
        } = scope;
        let mut outputs = NodeOutputs::new();
        outputs.insert(START_NODE.to_string(), inputs);
        let mut pending = nodes;
        let dependencies: HashMap<String, HashSet<String>> = pending
            .iter()
            .map(|node| (node.id.clone(), dependencies_of(node)))
            .collect();
        let mut running = JoinSet::new();
        let mut failure: Option<core::ExecutionError> = None;
        let mut stop = stop;
        let mut stop_open = true;
        let mut stopped: Option<StopReason> = stop.borrow().clone();
        // Node runners stop when this carries a reason: a terminate request, a
        // lost lease, or a failed sibling under the fail-immediately policy.
        let (stop_nodes, node_stop_signal) = watch::channel(stopped.clone());
        let mut waiting_for_slot = crate::metrics::WaitingNodes::default();

        loop {
            let round_started = std::time::Instant::now();
            if stopped.is_none() && (failure.is_none() || !fail_immediately) {
                // Start every node whose upstream nodes have all succeeded.
                let mut index = 0;
                while index < pending.len() && running.len() < context.max_parallelism {
                    let ready = dependencies[&pending[index].id]
                        .iter()
                        .all(|upstream| outputs.contains_key(upstream));
                    if ready {
                        let node = pending.remove(index);
                        let place = NodePlace {
                            parent: parent.clone(),
                            definitions: Arc::clone(&definitions),
                            outputs: Arc::new(outputs.clone()),
                        };
                        let node_id = node.id.clone();
                        running.spawn({
                            let end = run_node(
                                Arc::clone(&context),
                                node,
                                place,
                                node_stop_signal.clone(),
                            );
                            async move { (node_id, end.await) }
                        });
                    } else {
                        index += 1;
                    }
                }
                // Ready nodes left over wait for a slot under max_parallelism.
                waiting_for_slot.set(
                    pending[index..]
                        .iter()
                        .filter(|node| {
                            dependencies[&node.id]
                                .iter()
                                .all(|upstream| outputs.contains_key(upstream))
                        })
                        .count(),
                );
            }
            crate::metrics::record_round(round_started.elapsed());
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
                changed = stop.changed(), if stop_open => {
                    if changed.is_err() {
                        stop_open = false;
                    } else if let Some(reason) = stop.borrow().clone() {
                        tracing::info!(?reason, "stopping nodes");
                        stopped = Some(reason.clone());
                        stop_nodes.send_replace(Some(reason));
                    }
                }
            }
        }

        if let Some(reason) = stopped {
            return Ok(ScopeEnd::Stopped(reason));
        }
        if let Some(error) = failure {
            return Ok(ScopeEnd::Failed(error));
        }
        if let Some(node) = pending.first() {
            let message = format!(
                "node {} can never run: it depends on nodes that did not succeed",
                node.id
            );
            return Ok(ScopeEnd::Failed(system_error("UnreachableNode", &message)));
        }
        Ok(match resolve_bindings(&output_bindings, &outputs) {
            Ok(scope_outputs) => ScopeEnd::Succeeded(scope_outputs),
            Err(error) => ScopeEnd::Failed(user_error("OutputBinding", &error.to_string())),
        })
    })
}

/// The start and end nodes run nothing: each succeeds with the scope's
/// inputs or outputs as its outputs, which is where admin reads them from.
async fn report_implicit_node(
    context: &RunContext,
    parent: Option<&ParentInfo>,
    node_id: &str,
    outputs_path: &str,
) -> Result<(), EventError> {
    let mut event = node_event(
        &context.execution_id,
        &unique_node_id(parent, node_id),
        core::node_execution::Phase::Succeeded,
        None,
        Some(node_execution_event::OutputResult::OutputUri(
            outputs_path.to_string(),
        )),
    );
    event.spec_node_id = node_id.to_string();
    event.node_name = node_id.to_string();
    if let Some(parent) = parent {
        event.parent_node_metadata = Some(event::ParentNodeExecutionMetadata {
            node_id: parent.unique_id.clone(),
        });
    }
    context.environment.events.node(event).await
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

/// Reports the phases of one node execution, under the id, parent and flags
/// flytepropeller gives it.
#[derive(Clone)]
pub(crate) struct NodeReporter {
    pub(crate) context: Arc<RunContext>,
    /// The id its events carry (prefixed when nested).
    pub(crate) unique_id: String,
    spec_node_id: String,
    node_name: String,
    parent: Option<ParentInfo>,
    pub(crate) input_uri: String,
    pub(crate) is_parent: bool,
    pub(crate) is_dynamic: bool,
    pub(crate) is_array: bool,
}

impl NodeReporter {
    fn new(context: Arc<RunContext>, node: &core::Node, parent: Option<ParentInfo>) -> Self {
        let unique_id = unique_node_id(parent.as_ref(), &node.id);
        let input_uri = context.paths.node_inputs(&unique_id);
        let node_name = node
            .metadata
            .as_ref()
            .map(|metadata| metadata.name.clone())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| node.id.clone());
        Self {
            context,
            unique_id,
            spec_node_id: node.id.clone(),
            node_name,
            parent,
            input_uri,
            is_parent: false,
            is_dynamic: false,
            is_array: false,
        }
    }

    pub(crate) fn node_execution_id(&self) -> core::NodeExecutionIdentifier {
        core::NodeExecutionIdentifier {
            node_id: self.unique_id.clone(),
            execution_id: Some(self.context.execution_id.clone()),
        }
    }

    /// The parent info its own children run under.
    pub(crate) fn as_parent(&self, attempt: u32) -> ParentInfo {
        ParentInfo {
            unique_id: self.unique_id.clone(),
            attempt,
        }
    }

    pub(crate) fn event(
        &self,
        phase: core::node_execution::Phase,
        output: Option<node_execution_event::OutputResult>,
    ) -> event::NodeExecutionEvent {
        let mut event = node_event(
            &self.context.execution_id,
            &self.unique_id,
            phase,
            Some(self.input_uri.clone()),
            output,
        );
        event.spec_node_id.clone_from(&self.spec_node_id);
        event.node_name.clone_from(&self.node_name);
        event.retry_group = "0".into();
        event.is_parent = self.is_parent;
        event.is_dynamic = self.is_dynamic;
        event.is_array = self.is_array;
        event.parent_node_metadata =
            self.parent
                .as_ref()
                .map(|parent| event::ParentNodeExecutionMetadata {
                    node_id: parent.unique_id.clone(),
                });
        event
    }

    pub(crate) async fn report(
        &self,
        phase: core::node_execution::Phase,
        output: Option<node_execution_event::OutputResult>,
    ) -> Result<(), EventError> {
        self.send(self.event(phase, output)).await
    }

    pub(crate) async fn send(&self, event: event::NodeExecutionEvent) -> Result<(), EventError> {
        self.context.environment.events.node(event).await
    }

    pub(crate) async fn running(&self) -> Result<(), EventError> {
        self.report(core::node_execution::Phase::Running, None)
            .await
    }

    /// Fails the node with `error`.
    pub(crate) async fn fail(&self, error: core::ExecutionError) -> Result<NodeEnd, EventError> {
        self.report(
            core::node_execution::Phase::Failed,
            Some(node_execution_event::OutputResult::Error(error.clone())),
        )
        .await?;
        Ok(NodeEnd::Failed(error))
    }

    /// Ends the node as stopped: ABORTED on terminate, nothing when the lease is lost.
    pub(crate) async fn stopped(&self, reason: Option<StopReason>) -> Result<NodeEnd, EventError> {
        if !matches!(reason, Some(StopReason::LeaseLost)) {
            self.report(core::node_execution::Phase::Aborted, None)
                .await?;
        }
        Ok(NodeEnd::Aborted)
    }

    /// Where the node's own outputs go when it is not a task (a task writes its
    /// outputs under its attempt).
    pub(crate) fn outputs_path(&self) -> String {
        self.context.paths.attempt_outputs(&self.unique_id, 0)
    }

    /// Writes `outputs` and succeeds the node with them.
    pub(crate) async fn succeed(&self, outputs: core::LiteralMap) -> Result<NodeEnd, EventError> {
        let path = self.outputs_path();
        if let Err(error) = write_message(&self.context.environment.storage, &path, &outputs).await
        {
            return self
                .fail(system_error(
                    "WriteOutputs",
                    &format!("node {}: cannot write its outputs: {error}", self.unique_id),
                ))
                .await;
        }
        self.report(
            core::node_execution::Phase::Succeeded,
            Some(node_execution_event::OutputResult::OutputUri(path.clone())),
        )
        .await?;
        Ok(NodeEnd::Succeeded(outputs))
    }
}

/// Runs one node to its end and reports its phases. Boxed because branch
/// nodes run their chosen node through it.
pub(crate) fn run_node(
    context: Arc<RunContext>,
    node: core::Node,
    place: NodePlace,
    stop: AbortSignal,
) -> BoxFuture<Result<NodeEnd, EventError>> {
    Box::pin(async move {
        let mut reporter = NodeReporter::new(Arc::clone(&context), &node, place.parent.clone());
        // Claimed again after a stop: a node that ended before is not run again.
        if let Some(past) = context.history.own(&reporter.unique_id) {
            if past.succeeded() {
                return Ok(
                    match past.read_outputs(&context.environment.storage).await {
                        Ok((outputs, _)) => NodeEnd::Succeeded(outputs),
                        Err(message) => NodeEnd::Failed(system_error(
                            "ReadOutputs",
                            &format!("node {}: {message}", reporter.unique_id),
                        )),
                    },
                );
            }
            if past.ended_without_outputs() {
                return Ok(NodeEnd::Failed(past.error(&reporter.unique_id)));
            }
        }
        let inputs = match resolve_bindings(&node.inputs, &place.outputs) {
            Ok(inputs) => inputs,
            Err(error) => {
                return reporter
                    .fail(user_error(
                        "InputBinding",
                        &format!("node {}: {error}", node.id),
                    ))
                    .await;
            }
        };
        let input_path = context.paths.node_inputs(&reporter.unique_id);
        if let Err(error) = write_message(&context.environment.storage, &input_path, &inputs).await
        {
            return reporter
                .fail(system_error(
                    "WriteInputs",
                    &format!("node {}: cannot write its inputs: {error}", node.id),
                ))
                .await;
        }
        if let Some(original) = context.history.recoverable(&reporter.unique_id)
            && let Some(end) = recover_node(&reporter, original).await?
        {
            return Ok(end);
        }
        match &node.target {
            Some(node::Target::TaskNode(task_node)) => {
                let task = match &task_node.reference {
                    Some(task_node::Reference::ReferenceId(id)) => {
                        place.definitions.task(id).cloned()
                    }
                    None => None,
                };
                let Some(task) = task else {
                    return reporter
                        .fail(system_error(
                            "TaskNotFound",
                            &format!("node {}: its task is not in the workflow closure", node.id),
                        ))
                        .await;
                };
                run_task_node(reporter, task, inputs, place, stop).await
            }
            Some(node::Target::BranchNode(branch)) => {
                reporter.is_parent = true;
                run_branch_node(reporter, branch.as_ref().clone(), inputs, place, stop).await
            }
            Some(node::Target::WorkflowNode(workflow)) => match &workflow.reference {
                Some(workflow_node::Reference::SubWorkflowRef(id)) => {
                    reporter.is_parent = true;
                    let template = place
                        .definitions
                        .sub_workflows
                        .get(&IdentifierKey::of(id))
                        .cloned();
                    let Some(template) = template else {
                        return reporter
                            .fail(system_error(
                                "SubWorkflowNotFound",
                                &format!(
                                    "node {}: subworkflow {} is not in the workflow closure",
                                    node.id, id.name
                                ),
                            ))
                            .await;
                    };
                    run_subworkflow_node(reporter, template, inputs, place, stop).await
                }
                Some(workflow_node::Reference::LaunchplanRef(id)) => {
                    crate::launch_plans::run_launch_plan_node(reporter, id.clone(), inputs, stop)
                        .await
                }
                None => {
                    reporter
                        .fail(system_error(
                            "EmptyWorkflowNode",
                            &format!(
                                "node {} names neither a subworkflow nor a launch plan",
                                node.id
                            ),
                        ))
                        .await
                }
            },
            Some(node::Target::GateNode(gate)) => {
                crate::gates::run_gate_node(reporter, gate.clone(), node.clone(), inputs, stop)
                    .await
            }
            Some(node::Target::ArrayNode(array)) => {
                reporter.is_array = true;
                crate::arrays::run_array_node(reporter, array.as_ref().clone(), inputs, place, stop)
                    .await
            }
            None => {
                reporter
                    .fail(system_error(
                        "EmptyNode",
                        &format!("node {} has no target to run", node.id),
                    ))
                    .await
            }
        }
    })
}

/// Reuses a node that succeeded in the execution this one recovers: its
/// outputs are copied into this execution and it is reported RECOVERED, as
/// flytepropeller does. `None` when they cannot be read: the node then runs.
async fn recover_node(
    reporter: &NodeReporter,
    original: &crate::history::PastNode,
) -> Result<Option<NodeEnd>, EventError> {
    let outputs = match original
        .read_outputs(&reporter.context.environment.storage)
        .await
    {
        Ok((outputs, _)) => outputs,
        Err(message) => {
            tracing::warn!(node = %reporter.unique_id, message, "cannot reuse the original's outputs; running the node again");
            return Ok(None);
        }
    };
    let path = reporter.outputs_path();
    if let Err(error) = write_message(&reporter.context.environment.storage, &path, &outputs).await
    {
        tracing::warn!(node = %reporter.unique_id, %error, "cannot copy the original's outputs; running the node again");
        return Ok(None);
    }
    reporter
        .report(
            core::node_execution::Phase::Recovered,
            Some(node_execution_event::OutputResult::OutputUri(path.clone())),
        )
        .await?;
    tracing::info!(node = %reporter.unique_id, "recovered from the original execution");
    Ok(Some(NodeEnd::Succeeded(outputs)))
}

/// Evaluates the branch's conditions on its inputs and runs the node of the
/// first that holds (or the else node); the others are reported SKIPPED.
fn run_branch_node(
    reporter: NodeReporter,
    branch: core::BranchNode,
    inputs: core::LiteralMap,
    place: NodePlace,
    stop: AbortSignal,
) -> BoxFuture<Result<NodeEnd, EventError>> {
    Box::pin(async move {
        reporter.running().await?;
        let Some(if_else) = branch.if_else.as_deref() else {
            return reporter
                .fail(user_error(
                    "EmptyBranch",
                    "the branch node has no conditions",
                ))
                .await;
        };
        let mut candidates: Vec<&core::Node> = Vec::new();
        let mut chosen: Option<&core::Node> = None;
        for block in if_else
            .case
            .as_deref()
            .into_iter()
            .chain(if_else.other.iter())
        {
            let Some(then_node) = block.then_node.as_deref() else {
                continue;
            };
            candidates.push(then_node);
            if chosen.is_some() {
                continue;
            }
            let condition = block.condition.clone().unwrap_or_default();
            match crate::conditions::evaluate(&condition, &inputs) {
                Ok(true) => chosen = Some(then_node),
                Ok(false) => {}
                Err(error) => {
                    return reporter
                        .fail(user_error(
                            "BranchCondition",
                            &format!("branch node {}: {error}", reporter.spec_node_id),
                        ))
                        .await;
                }
            }
        }
        let mut else_error = None;
        match &if_else.default {
            Some(if_else_block::Default::ElseNode(else_node)) => {
                candidates.push(else_node);
                if chosen.is_none() {
                    chosen = Some(else_node);
                }
            }
            Some(if_else_block::Default::Error(error)) => else_error = Some(error.message.clone()),
            None => {}
        }
        let child_parent = reporter.as_parent(0);
        for skipped in candidates
            .iter()
            .filter(|candidate| chosen.is_none_or(|chosen| !std::ptr::eq(chosen, **candidate)))
        {
            let skipped_reporter = NodeReporter::new(
                Arc::clone(&reporter.context),
                skipped,
                Some(child_parent.clone()),
            );
            let mut event = skipped_reporter.event(core::node_execution::Phase::Skipped, None);
            event.input_value = None;
            skipped_reporter.send(event).await?;
        }
        let Some(chosen) = chosen else {
            let message = else_error.unwrap_or_else(|| {
                format!(
                    "branch node {}: no condition held and it has no else",
                    reporter.spec_node_id
                )
            });
            return reporter
                .fail(user_error("UserProvidedError", &message))
                .await;
        };
        let child_place = NodePlace {
            parent: Some(child_parent),
            ..place
        };
        match run_node(
            Arc::clone(&reporter.context),
            chosen.clone(),
            child_place,
            stop.clone(),
        )
        .await?
        {
            NodeEnd::Succeeded(outputs) => reporter.succeed(outputs).await,
            NodeEnd::Failed(error) => reporter.fail(error).await,
            NodeEnd::Aborted => reporter.stopped(crate::execution::stop_reason(&stop)).await,
        }
    })
}

/// Runs a subworkflow from the closure as a nested scope under this node.
fn run_subworkflow_node(
    reporter: NodeReporter,
    template: core::WorkflowTemplate,
    inputs: core::LiteralMap,
    place: NodePlace,
    stop: AbortSignal,
) -> BoxFuture<Result<NodeEnd, EventError>> {
    Box::pin(async move {
        reporter.running().await?;
        let child_parent = reporter.as_parent(0);
        let input_path = reporter.context.paths.node_inputs(&reporter.unique_id);
        report_implicit_node(
            &reporter.context,
            Some(&child_parent),
            START_NODE,
            &input_path,
        )
        .await?;
        let scope = Scope::of_workflow(
            &template,
            inputs,
            Some(child_parent.clone()),
            place.definitions,
        );
        match run_scope(Arc::clone(&reporter.context), scope, stop).await? {
            ScopeEnd::Succeeded(outputs) => {
                let end = reporter.succeed(outputs).await?;
                if matches!(end, NodeEnd::Succeeded(_)) {
                    report_implicit_node(
                        &reporter.context,
                        Some(&child_parent),
                        END_NODE,
                        &reporter.outputs_path(),
                    )
                    .await?;
                }
                Ok(end)
            }
            ScopeEnd::Failed(error) => reporter.fail(error).await,
            ScopeEnd::Stopped(reason) => reporter.stopped(Some(reason)).await,
        }
    })
}

/// How many times a node's task may still be tried.
pub(crate) struct RetryBudget {
    user_attempts: u32,
    user_failures: u32,
    system_failures: u32,
}

impl RetryBudget {
    pub(crate) fn of_task(task: &core::TaskTemplate) -> Self {
        let retries = task
            .metadata
            .as_ref()
            .and_then(|metadata| metadata.retries.as_ref())
            .map_or(0, |retries| retries.retries);
        Self {
            user_attempts: retries + 1,
            user_failures: 0,
            system_failures: 0,
        }
    }

    /// Counts a failed attempt; whether another may follow.
    pub(crate) fn allows_retry_after(
        &mut self,
        error: &core::ExecutionError,
        retryable: bool,
    ) -> bool {
        let budget_left = if error.kind() == core::execution_error::ErrorKind::System {
            self.system_failures += 1;
            self.system_failures < SYSTEM_RETRIES
        } else {
            self.user_failures += 1;
            self.user_failures < self.user_attempts
        };
        retryable && budget_left
    }
}

/// The task's own timeout, if it has one.
pub(crate) fn task_timeout(task: &core::TaskTemplate) -> Option<Duration> {
    task.metadata
        .as_ref()
        .and_then(|metadata| metadata.timeout.as_ref())
        .and_then(|timeout| Duration::try_from(*timeout).ok())
        .filter(|limit| !limit.is_zero())
}

/// The log link of one attempt, when this propeller serves logs.
pub(crate) fn attempt_logs(
    environment: &ExecutionEnvironment,
    attempt_key: &str,
    name: &str,
) -> Vec<core::TaskLog> {
    environment
        .log_url_base
        .as_ref()
        .map(|base| core::TaskLog {
            uri: format!("{}/api/v1/logs/{attempt_key}", base.trim_end_matches('/')),
            name: name.into(),
            message_format: core::task_log::MessageFormat::Unknown as i32,
            show_while_pending: true,
            ..Default::default()
        })
        .into_iter()
        .collect()
}

/// How one started attempt ended.
pub(crate) enum AttemptEnd {
    Succeeded(core::LiteralMap),
    Dynamic(core::DynamicJobSpec),
    /// The error, and whether another attempt may fix it.
    Failed(core::ExecutionError, bool),
    Stopped,
}

/// Waits for a started attempt, enforcing its timeout and the stop signal,
/// then reads what it left under `output_prefix`.
pub(crate) async fn watch_attempt(
    running: &mut dyn RunningTask,
    storage: &Storage,
    output_prefix: &str,
    task: &core::TaskTemplate,
    stop: &AbortSignal,
) -> AttemptEnd {
    let timeout = task_timeout(task);
    let waited = tokio::select! {
        exit = wait_with_timeout(running, timeout) => Some(exit),
        _ = wait_for_stop(stop) => None,
    };
    match waited {
        None => {
            let _ = running.abort().await;
            AttemptEnd::Stopped
        }
        Some(WaitEnd::TimedOut) => {
            let _ = running.abort().await;
            AttemptEnd::Failed(
                user_error(
                    "Timeout",
                    &format!(
                        "task {} exceeded its timeout of {:?}",
                        task_name(task),
                        timeout.unwrap_or_default()
                    ),
                ),
                true,
            )
        }
        Some(WaitEnd::Failed(error)) => AttemptEnd::Failed(system_error("TaskWatch", &error), true),
        Some(WaitEnd::Exited(exit)) => match read_outcome(storage, output_prefix).await {
            Ok(TaskOutcome::Succeeded(outputs)) => AttemptEnd::Succeeded(outputs),
            Ok(TaskOutcome::Failed(container_error)) => {
                let (error, retryable) = container_error_to_execution_error(container_error);
                AttemptEnd::Failed(error, retryable)
            }
            Ok(TaskOutcome::Dynamic(spec)) => AttemptEnd::Dynamic(spec),
            Ok(TaskOutcome::NoOutputs) => match exit {
                ProcessExit::Exited(code) => AttemptEnd::Failed(
                    user_error(
                        "NonZeroExit",
                        &format!(
                            "task process exited with code {code} without writing outputs; see the task log"
                        ),
                    ),
                    true,
                ),
                ProcessExit::Killed => AttemptEnd::Failed(
                    system_error(
                        "ProcessKilled",
                        "task process was killed before writing outputs",
                    ),
                    true,
                ),
            },
            Err(error) => AttemptEnd::Failed(system_error("ReadOutputs", &error.to_string()), true),
        },
    }
}

/// Runs a task node: attempts until one succeeds or the retries run out. A
/// dynamic task's generated workflow then runs under the node.
fn run_task_node(
    reporter: NodeReporter,
    task: core::TaskTemplate,
    inputs: core::LiteralMap,
    place: NodePlace,
    stop: AbortSignal,
) -> BoxFuture<Result<NodeEnd, EventError>> {
    Box::pin(async move {
        reporter.running().await?;
        let context = Arc::clone(&reporter.context);
        let environment = &context.environment;
        let paths = &context.paths;
        let node_id = reporter.unique_id.clone();
        let input_prefix = paths.node_input_prefix(&node_id);
        let node_execution_id = reporter.node_execution_id();
        let mut budget = RetryBudget::of_task(&task);
        let mut attempt: u32 = 0;
        let mut previous_checkpoint: Option<String> = None;
        // What an attempt from before a restart left, read instead of launching.
        let mut resumed: Option<AttemptEnd> = None;
        if context.history.own(&node_id).is_some() {
            match resume_task_node(&context, &node_execution_id, &mut budget).await? {
                Resume::Fresh => {}
                Resume::Read { attempt: past, end } => {
                    attempt = past;
                    resumed = Some(end);
                }
                Resume::Next { attempt: next } => attempt = next,
                Resume::Exhausted(error) => return reporter.fail(error).await,
            }
            if let Some(previous) = attempt.checked_sub(1) {
                previous_checkpoint = Some(checkpoint_prefix(
                    &paths.attempt_raw_prefix(&node_id, previous),
                ));
            }
        }
        loop {
            let output_prefix = paths.attempt_output_prefix(&node_id, attempt);
            let raw_prefix = paths.attempt_raw_prefix(&node_id, attempt);
            let attempt_key = attempt_key(&context.execution_id, &node_id, attempt);
            let launch = TaskLaunch {
                attempt_key: attempt_key.clone(),
                attempt_number: attempt,
                template: task.clone(),
                inputs: Arc::new(inputs.clone()),
                input_prefix: input_prefix.clone(),
                output_prefix: output_prefix.clone(),
                raw_output_prefix: raw_prefix.clone(),
                previous_checkpoint_prefix: previous_checkpoint.clone(),
                execution: context.execution_id.clone(),
                environment: Default::default(),
            };
            let checkpoint = launch.checkpoint_prefix();
            let logs = attempt_logs(environment, &attempt_key, "Task log");
            let task_event =
                |phase: core::task_execution::Phase,
                 output: Option<task_execution_event::OutputResult>| {
                    event::TaskExecutionEvent {
                        task_id: task.id.clone(),
                        parent_node_execution_id: Some(node_execution_id.clone()),
                        retry_attempt: attempt,
                        phase: phase as i32,
                        logs: logs.clone(),
                        occurred_at: Some(now()),
                        input_value: Some(task_execution_event::InputValue::InputUri(
                            reporter.input_uri.clone(),
                        )),
                        output_result: output,
                        task_type: task.r#type.clone(),
                        reported_at: Some(now()),
                        ..Default::default()
                    }
                };

            let attempt_end = match resumed.take() {
                Some(end) => end,
                None => match environment.runtime.launch(launch).await {
                    Err(error) => {
                        AttemptEnd::Failed(system_error("TaskStart", &error.to_string()), true)
                    }
                    Ok(mut running) => {
                        environment
                            .events
                            .task(task_event(core::task_execution::Phase::Running, None))
                            .await?;
                        watch_attempt(
                            running.as_mut(),
                            &environment.storage,
                            &output_prefix,
                            &task,
                            &stop,
                        )
                        .await
                    }
                },
            };

            match attempt_end {
                AttemptEnd::Stopped => {
                    let reason = stop.borrow().clone();
                    if !matches!(reason, Some(StopReason::LeaseLost)) {
                        environment
                            .events
                            .task(task_event(core::task_execution::Phase::Aborted, None))
                            .await?;
                    }
                    return reporter.stopped(reason).await;
                }
                AttemptEnd::Succeeded(outputs) => {
                    let outputs_uri = file_in(&output_prefix, "outputs.pb");
                    environment
                        .events
                        .task(task_event(
                            core::task_execution::Phase::Succeeded,
                            Some(task_execution_event::OutputResult::OutputUri(
                                outputs_uri.clone(),
                            )),
                        ))
                        .await?;
                    reporter
                        .report(
                            core::node_execution::Phase::Succeeded,
                            Some(node_execution_event::OutputResult::OutputUri(outputs_uri)),
                        )
                        .await?;
                    return Ok(NodeEnd::Succeeded(outputs));
                }
                AttemptEnd::Dynamic(spec) => {
                    environment
                        .events
                        .task(task_event(core::task_execution::Phase::Succeeded, None))
                        .await?;
                    let futures_uri = file_in(&output_prefix, "futures.pb");
                    return run_dynamic(
                        reporter,
                        task,
                        spec,
                        inputs,
                        futures_uri,
                        attempt,
                        place,
                        stop,
                    )
                    .await;
                }
                AttemptEnd::Failed(error, retryable) => {
                    environment
                        .events
                        .task(task_event(
                            core::task_execution::Phase::Failed,
                            Some(task_execution_event::OutputResult::Error(error.clone())),
                        ))
                        .await?;
                    if !budget.allows_retry_after(&error, retryable) {
                        return reporter.fail(error).await;
                    }
                    tracing::info!(node = %node_id, attempt, code = %error.code, "task attempt failed, retrying");
                    previous_checkpoint = Some(checkpoint);
                    attempt += 1;
                }
            }
        }
    })
}

/// Where a task node continues after a restart.
enum Resume {
    /// No attempt was recorded and none left outputs: start at attempt 0.
    Fresh,
    /// Attempt `attempt` was under way: this is what its process left (or
    /// that it was lost).
    Read { attempt: u32, end: AttemptEnd },
    /// Attempt `attempt - 1` ended in failure and may be retried.
    Next { attempt: u32 },
    /// The recorded failures used up the retries; the node fails with the last.
    Exhausted(core::ExecutionError),
}

/// Reads the attempts admin holds for a task node that was running when its
/// propeller stopped, and decides how to go on. A process that finished is
/// read from its output folder; one that left nothing is lost and fails as a
/// system error, so its retry counts against the system retries only.
async fn resume_task_node(
    context: &RunContext,
    node_execution_id: &core::NodeExecutionIdentifier,
    budget: &mut RetryBudget,
) -> Result<Resume, EventError> {
    let node_id = &node_execution_id.node_id;
    let attempts = task_attempts(&context.environment.events.admin(), node_execution_id).await?;
    let Some((last, earlier)) = attempts.split_last() else {
        // Started before the restart but no attempt was reported: a process
        // may still have run and finished.
        return Ok(match read_past_attempt(context, node_id, 0).await {
            Some(end) => Resume::Read { attempt: 0, end },
            None => Resume::Fresh,
        });
    };
    let failure_of = |past: &PastAttempt| {
        past.error.clone().unwrap_or_else(|| {
            system_error(
                "AttemptFailed",
                &format!("attempt {} failed", past.retry_attempt),
            )
        })
    };
    for past in earlier {
        if past.phase == core::task_execution::Phase::Failed {
            budget.allows_retry_after(&failure_of(past), true);
        }
    }
    let resume = match last.phase {
        core::task_execution::Phase::Failed => {
            let error = failure_of(last);
            if budget.allows_retry_after(&error, true) {
                Resume::Next {
                    attempt: last.retry_attempt + 1,
                }
            } else {
                Resume::Exhausted(error)
            }
        }
        core::task_execution::Phase::Aborted => Resume::Next {
            attempt: last.retry_attempt + 1,
        },
        _ => {
            let end = match read_past_attempt(context, node_id, last.retry_attempt).await {
                Some(end) => end,
                None => AttemptEnd::Failed(
                    system_error(
                        "LostAttempt",
                        &format!(
                            "the task process of attempt {} was lost when its propeller stopped; trying again",
                            last.retry_attempt
                        ),
                    ),
                    true,
                ),
            };
            Resume::Read {
                attempt: last.retry_attempt,
                end,
            }
        }
    };
    tracing::info!(node = %node_id, attempts = attempts.len(), "continuing a task node from before a restart");
    Ok(resume)
}

/// What attempt `attempt` of a node left in its output folder, if anything.
async fn read_past_attempt(
    context: &RunContext,
    node_id: &str,
    attempt: u32,
) -> Option<AttemptEnd> {
    let output_prefix = context.paths.attempt_output_prefix(node_id, attempt);
    match read_outcome(&context.environment.storage, &output_prefix).await {
        Ok(TaskOutcome::Succeeded(outputs)) => Some(AttemptEnd::Succeeded(outputs)),
        Ok(TaskOutcome::Failed(container_error)) => {
            let (error, retryable) = container_error_to_execution_error(container_error);
            Some(AttemptEnd::Failed(error, retryable))
        }
        Ok(TaskOutcome::Dynamic(spec)) => Some(AttemptEnd::Dynamic(spec)),
        Ok(TaskOutcome::NoOutputs) => None,
        Err(error) => Some(AttemptEnd::Failed(
            system_error("ReadOutputs", &error.to_string()),
            true,
        )),
    }
}

/// `{{.CheckpointOutputPrefix}}` of the attempt whose raw prefix is `raw_prefix`,
/// as [`TaskLaunch::checkpoint_prefix`] makes it.
fn checkpoint_prefix(raw_prefix: &str) -> String {
    file_in(raw_prefix, "_flytecheckpoints")
}

/// Runs the workflow a dynamic task generated (its `futures.pb`) under the
/// task's node, and takes the node's outputs from it.
#[allow(clippy::too_many_arguments)]
fn run_dynamic(
    mut reporter: NodeReporter,
    task: core::TaskTemplate,
    spec: core::DynamicJobSpec,
    inputs: core::LiteralMap,
    futures_uri: String,
    attempt: u32,
    place: NodePlace,
    stop: AbortSignal,
) -> BoxFuture<Result<NodeEnd, EventError>> {
    Box::pin(async move {
        reporter.is_dynamic = true;
        reporter.is_parent = true;
        let closure = dynamic_workflow_closure(&task, &spec);
        let workflow_id = closure
            .primary
            .as_ref()
            .and_then(|primary| primary.template.as_ref())
            .and_then(|template| template.id.clone());
        let mut event = reporter.event(core::node_execution::Phase::DynamicRunning, None);
        event.target_metadata = Some(node_execution_event::TargetMetadata::TaskNodeMetadata(
            event::TaskNodeMetadata {
                dynamic_workflow: Some(event::DynamicWorkflowNodeMetadata {
                    id: workflow_id,
                    compiled_workflow: Some(closure),
                    dynamic_job_spec_uri: futures_uri,
                }),
                ..Default::default()
            },
        ));
        reporter.send(event).await?;
        let scope = Scope {
            nodes: spec.nodes,
            output_bindings: spec.outputs,
            inputs,
            parent: Some(reporter.as_parent(attempt)),
            fail_immediately: true,
            definitions: Arc::new(place.definitions.extended(spec.tasks, spec.subworkflows)),
        };
        match run_scope(Arc::clone(&reporter.context), scope, stop).await? {
            ScopeEnd::Succeeded(outputs) => reporter.succeed(outputs).await,
            ScopeEnd::Failed(error) => reporter.fail(error).await,
            ScopeEnd::Stopped(reason) => reporter.stopped(Some(reason)).await,
        }
    })
}

/// The generated workflow as a compiled closure, for admin to serve and the
/// console and flytekit to show: the spec's nodes wired by their bindings.
fn dynamic_workflow_closure(
    task: &core::TaskTemplate,
    spec: &core::DynamicJobSpec,
) -> core::CompiledWorkflowClosure {
    let task_id = task.id.clone().unwrap_or_default();
    let id = core::Identifier {
        resource_type: core::ResourceType::Workflow as i32,
        ..task_id
    };
    let mut upstream: HashMap<String, core::connection_set::IdList> = HashMap::new();
    let mut downstream: HashMap<String, core::connection_set::IdList> = HashMap::new();
    let mut connect = |from: &str, to: &str| {
        downstream
            .entry(from.to_string())
            .or_default()
            .ids
            .push(to.to_string());
        upstream
            .entry(to.to_string())
            .or_default()
            .ids
            .push(from.to_string());
    };
    for node in &spec.nodes {
        let mut sources: Vec<String> = dependencies_of(node).into_iter().collect();
        sources.sort();
        if sources.is_empty() {
            sources.push(START_NODE.to_string());
        }
        for source in sources {
            connect(&source, &node.id);
        }
    }
    let mut output_sources = HashSet::new();
    for binding in &spec.outputs {
        if let Some(data) = &binding.binding {
            collect_promises(data, &mut output_sources);
        }
    }
    let mut output_sources: Vec<String> = output_sources.into_iter().collect();
    output_sources.sort();
    for source in output_sources {
        connect(&source, END_NODE);
    }
    core::CompiledWorkflowClosure {
        primary: Some(core::CompiledWorkflow {
            template: Some(core::WorkflowTemplate {
                id: Some(id),
                interface: task.interface.clone(),
                nodes: spec.nodes.clone(),
                outputs: spec.outputs.clone(),
                ..Default::default()
            }),
            connections: Some(core::ConnectionSet {
                downstream,
                upstream,
            }),
        }),
        sub_workflows: spec
            .subworkflows
            .iter()
            .map(|template| core::CompiledWorkflow {
                template: Some(template.clone()),
                connections: None,
            })
            .collect(),
        tasks: spec
            .tasks
            .iter()
            .map(|template| core::CompiledTask {
                template: Some(template.clone()),
            })
            .collect(),
        launch_plans: Vec::new(),
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
pub(crate) fn container_error_to_execution_error(
    error: core::ContainerError,
) -> (core::ExecutionError, bool) {
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

pub(crate) fn task_name(task: &core::TaskTemplate) -> String {
    task.id
        .as_ref()
        .map(|id| id.name.clone())
        .unwrap_or_default()
}

/// The nodes of the same scope a node waits for: its upstream ids and every
/// node its bindings (or, for a branch, its candidate nodes' bindings) read.
fn dependencies_of(node: &core::Node) -> HashSet<String> {
    let mut dependencies: HashSet<String> = node.upstream_node_ids.iter().cloned().collect();
    for binding in &node.inputs {
        if let Some(data) = &binding.binding {
            collect_promises(data, &mut dependencies);
        }
    }
    if let Some(node::Target::BranchNode(branch)) = &node.target
        && let Some(if_else) = branch.if_else.as_deref()
    {
        let nested = if_else
            .case
            .as_deref()
            .into_iter()
            .chain(if_else.other.iter())
            .filter_map(|block| block.then_node.as_deref())
            .chain(match &if_else.default {
                Some(if_else_block::Default::ElseNode(else_node)) => Some(else_node.as_ref()),
                _ => None,
            });
        for inner in nested {
            dependencies.extend(dependencies_of(inner));
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

/// Task ids compared by what identifies them (project, domain, name, version).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct IdentifierKey(String, String, String, String);

impl IdentifierKey {
    pub(crate) fn of(id: &core::Identifier) -> Self {
        Self(
            id.project.clone(),
            id.domain.clone(),
            id.name.clone(),
            id.version.clone(),
        )
    }
}

pub(crate) fn system_error(code: &str, message: &str) -> core::ExecutionError {
    core::ExecutionError {
        code: code.to_string(),
        message: message.to_string(),
        kind: core::execution_error::ErrorKind::System as i32,
        timestamp: Some(now()),
        ..Default::default()
    }
}

pub(crate) fn user_error(code: &str, message: &str) -> core::ExecutionError {
    core::ExecutionError {
        code: code.to_string(),
        message: message.to_string(),
        kind: core::execution_error::ErrorKind::User as i32,
        timestamp: Some(now()),
        ..Default::default()
    }
}

pub(crate) fn now() -> prost_types::Timestamp {
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

pub(crate) async fn write_message(
    storage: &Storage,
    uri: &str,
    message: &impl Message,
) -> Result<(), StorageError> {
    storage
        .put_uri(uri, bytes::Bytes::from(message.encode_to_vec()))
        .await
}
