//! Running one claimed execution: walk the compiled DAG, run each ready node,
//! report every phase change to admin, and finish with the workflow's outputs
//! or its error.
//!
//! - [`plan`] checks the claim once and turns it into what the engine runs;
//! - [`scope`] walks one workflow scope (nodes, the inputs they see as
//!   `start-node`, the output bindings); subworkflow, branch and dynamic
//!   nodes run their children through it again, one level down, with the
//!   child node ids prefixed as flytepropeller prefixes them;
//! - [`node`] starts one node and hands it to its kind in [`nodes`], one file
//!   per node kind;
//! - [`reporter`] and [`event_builders`] say what happened to admin.
//!
//! A new node kind is one file in [`nodes`] and one arm in [`node::run_node`].

pub(crate) mod caching;
pub(crate) mod event_builders;
#[cfg(test)]
mod failure_node_tests;
pub(crate) mod node;
pub mod nodes;
pub(crate) mod plan;
pub(crate) mod reporter;
pub(crate) mod scope;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use prost::Message;
use tokio::sync::watch;
use updraft_proto::flyteidl::admin;
use updraft_proto::flyteidl::core;
use updraft_proto::flyteidl::event::workflow_execution_event;
use updraft_proto::updraft::admin::v1::ClaimedExecution;
use updraft_storage::{Storage, StorageError};

use crate::control_plane::SignalSource;
use crate::events::{EventError, EventSender};
use crate::history::ExecutionHistory;
use crate::paths::ExecutionPaths;
use crate::runtime::TaskRuntime;
use crate::task_cache::{ReleaseBoard, TaskCache};

pub(crate) use event_builders::{now, system_error, user_error};
pub(crate) use nodes::task::{
    AttemptEnd, RetryBudget, attempt_logs, container_error_to_execution_error, watch_attempt,
};
pub(crate) use plan::{Definitions, ExecutionPlan, PlanError};
pub(crate) use reporter::NodeReporter;
pub(crate) use scope::NodePlace;

use event_builders::workflow_event;
use reporter::report_implicit_node;
use scope::{Scope, ScopeEnd, run_scope};

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
    /// The catalog cacheable tasks are cached in; without one nothing is.
    pub task_cache: Option<Arc<dyn TaskCache>>,
    /// Wakes runs waiting for a cache reservation held in this propeller.
    pub cache_releases: Arc<ReleaseBoard>,
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
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StopReason {
    /// Someone terminated it: stop the tasks and report ABORTED.
    #[error("terminated: {0}")]
    Terminate(String),
    /// Another propeller holds it now: stop the tasks and report nothing.
    #[error("lease lost")]
    LeaseLost,
    /// This propeller is stopping: stop the tasks, report nothing, and hand
    /// the execution back so that the next propeller continues it at once.
    #[error("propeller shutting down")]
    Shutdown,
}

impl StopReason {
    /// Whether the stop is reported to admin (as ABORTED): only a terminate
    /// is; otherwise someone else continues the execution.
    pub(crate) fn is_reported(&self) -> bool {
        matches!(self, Self::Terminate(_))
    }
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

/// Node runners are boxed where one node kind runs another (scopes, branches,
/// subworkflows), so no future holds its children inline: the deepest nesting
/// then fits tokio's default worker stack.
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
    pub(crate) max_parallelism: usize,
    /// What happened before this run: nodes it need not run again.
    pub(crate) history: ExecutionHistory,
    /// Cached tasks run and replace their entries instead of looking them up.
    pub(crate) overwrite_cache: bool,
}

/// Runs `claimed` to a terminal phase.
#[tracing::instrument(skip_all, fields(execution = %claimed.execution.as_ref().and_then(|e| e.id.as_ref()).map(|id| id.name.as_str()).unwrap_or("?")))]
pub async fn run_execution(
    environment: Arc<ExecutionEnvironment>,
    claimed: ClaimedExecution,
    abort: AbortSignal,
) -> ExecutionEnd {
    let execution_id = claimed
        .execution
        .as_ref()
        .and_then(|execution| execution.id.clone());
    let run = match ExecutionPlan::from_claim(claimed) {
        Ok(plan) => Box::pin(run_plan(&environment, plan, abort)).await,
        Err(error) => Box::pin(refuse_claim(&environment, execution_id, error)).await,
    };
    match run {
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

/// A claim that cannot run fails its execution with a system error saying
/// what is missing; without an execution id there is nothing to fail.
pub(crate) async fn refuse_claim(
    environment: &ExecutionEnvironment,
    execution_id: Option<core::WorkflowExecutionIdentifier>,
    error: PlanError,
) -> Result<ExecutionEnd, EventError> {
    tracing::error!(%error, "cannot run a claimed execution");
    match execution_id {
        Some(execution_id) if error.reportable() => {
            fail_workflow(
                environment,
                &execution_id,
                system_error("InvalidClaim", &error.to_string()),
            )
            .await
        }
        _ => Ok(ExecutionEnd::Abandoned(error.to_string())),
    }
}

pub(crate) async fn run_plan(
    environment: &Arc<ExecutionEnvironment>,
    plan: ExecutionPlan,
    abort: AbortSignal,
) -> Result<ExecutionEnd, EventError> {
    let ExecutionPlan {
        execution_id,
        execution,
        spec,
        workflow,
        definitions,
        inputs,
        previous_claims,
    } = plan;
    let history = ExecutionHistory::load(
        environment.events.admin().as_ref(),
        &execution,
        previous_claims,
    )
    .await?;
    let paths = ExecutionPaths::new(&environment.storage, &execution_id).with_raw_output_prefix(
        spec.raw_output_data_config
            .as_ref()
            .map(|config| config.output_location_prefix.as_str())
            .unwrap_or_default(),
    );
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
        overwrite_cache: spec.overwrite_cache,
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

    let scope = Scope::of_workflow(&workflow, inputs, None, Arc::new(definitions));
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
        ScopeEnd::Stopped(reason @ (StopReason::LeaseLost | StopReason::Shutdown)) => {
            return Ok(ExecutionEnd::Abandoned(reason.to_string()));
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

pub(crate) async fn fail_workflow(
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

pub(crate) async fn write_message(
    storage: &Storage,
    uri: &str,
    message: &impl Message,
) -> Result<(), StorageError> {
    storage
        .put_uri(uri, bytes::Bytes::from(message.encode_to_vec()))
        .await
}
