//! What already happened to an execution before this run of it started, read
//! back from admin: one mechanism for two cases.
//!
//! - **A reclaimed execution** (a propeller stopped while running it — a crash,
//!   a `kill -9` — and its lease expired): its own node executions. A node
//!   that finished is taken as done, with its outputs read from where they
//!   were written; a task node caught mid-attempt reads what its process left
//!   (a finished process is read, a lost one is retried as a system error).
//! - **A recovered execution** (`RecoverExecution`): the original's node
//!   executions. A node that succeeded there is not run again: its outputs
//!   are copied into this execution and it is reported `RECOVERED`, as
//!   flytepropeller does.
//!
//! Node ids are the unique ids of [`crate::node_ids`], so nested nodes
//! (subworkflow, branch and dynamic children) are found by the same id they
//! had before, as long as their parent's attempt is the same.

use std::collections::HashMap;
use std::time::Duration;

use tonic::{Code, Status};
use updraft_proto::flyteidl::admin;
use updraft_proto::flyteidl::core::{self, node_execution, task_execution};

use crate::control_plane::ControlPlane;
use crate::events::EventError;

/// Node executions listed per page.
const PAGE_SIZE: u32 = 500;
/// How long to keep asking an unreachable admin before giving up on the run
/// (its lease then expires and it is claimed again).
const GIVE_UP_AFTER: Duration = Duration::from_secs(120);

/// One node execution as admin holds it.
#[derive(Debug, Clone)]
pub(crate) struct PastNode {
    pub(crate) phase: node_execution::Phase,
    output: Option<admin::node_execution_closure::OutputResult>,
}

impl PastNode {
    /// Whether the node finished with outputs that may be used as they are.
    pub(crate) fn succeeded(&self) -> bool {
        matches!(
            self.phase,
            node_execution::Phase::Succeeded | node_execution::Phase::Recovered
        )
    }

    /// Whether the node ended without outputs: it must not run again here.
    pub(crate) fn ended_without_outputs(&self) -> bool {
        matches!(
            self.phase,
            node_execution::Phase::Failed
                | node_execution::Phase::TimedOut
                | node_execution::Phase::Aborted
                | node_execution::Phase::Skipped
        )
    }

    /// The error it failed with, or one saying how it ended.
    pub(crate) fn error(&self, unique_id: &str) -> core::ExecutionError {
        match &self.output {
            Some(admin::node_execution_closure::OutputResult::Error(error)) => error.clone(),
            _ => crate::execution::event_builders::system_error(
                "NodeEnded",
                &format!(
                    "node {unique_id} already ended in phase {} before updraft restarted",
                    self.phase.as_str_name()
                ),
            ),
        }
    }

    /// Reads the outputs it succeeded with, and the URI they are at (if a file).
    #[allow(deprecated)] // `output_uri` is deprecated but is where propeller's outputs are.
    pub(crate) async fn read_outputs(
        &self,
        storage: &updraft_storage::Storage,
    ) -> Result<(core::LiteralMap, Option<String>), String> {
        match &self.output {
            Some(admin::node_execution_closure::OutputResult::OutputUri(uri)) => {
                let bytes = storage
                    .get_uri(uri)
                    .await
                    .map_err(|error| format!("cannot read {uri}: {error}"))?;
                let outputs = <core::LiteralMap as prost::Message>::decode(bytes)
                    .map_err(|error| format!("{uri} is not a LiteralMap: {error}"))?;
                Ok((outputs, Some(uri.clone())))
            }
            Some(admin::node_execution_closure::OutputResult::OutputData(outputs)) => {
                Ok((outputs.clone(), None))
            }
            // A node without outputs (a task returning nothing) succeeds with none.
            _ => Ok((core::LiteralMap::default(), None)),
        }
    }
}

/// One attempt of a task node as admin holds it.
#[derive(Debug, Clone)]
pub(crate) struct PastAttempt {
    pub(crate) retry_attempt: u32,
    pub(crate) phase: task_execution::Phase,
    pub(crate) error: Option<core::ExecutionError>,
}

/// The node executions an execution starts from.
#[derive(Debug, Default)]
pub(crate) struct ExecutionHistory {
    /// This execution's own node executions (a reclaimed run), by unique id.
    own: HashMap<String, PastNode>,
    /// The original execution's, when this one recovers it, by unique id.
    original: HashMap<String, PastNode>,
}

impl ExecutionHistory {
    /// Reads what happened: this execution's nodes when it was claimed before,
    /// and the original's when it was made by `RecoverExecution`.
    pub(crate) async fn load(
        admin: &dyn ControlPlane,
        execution: &admin::Execution,
        previous_claims: u32,
    ) -> Result<Self, EventError> {
        let mut history = Self::default();
        let execution_id = execution.id.clone().unwrap_or_default();
        if previous_claims > 0 {
            history.own = list_all_node_executions(admin, &execution_id).await?;
            tracing::info!(
                nodes = history.own.len(),
                "claimed again: continuing from the nodes recorded before"
            );
        }
        let metadata = execution
            .spec
            .as_ref()
            .and_then(|spec| spec.metadata.as_ref());
        if let Some(metadata) = metadata
            && metadata.mode() == admin::execution_metadata::ExecutionMode::Recovered
            && let Some(original) = metadata.reference_execution.as_ref()
        {
            history.original = list_all_node_executions(admin, original).await?;
            tracing::info!(
                original = %original.name,
                nodes = history.original.len(),
                "recovering: nodes that succeeded in the original are reused"
            );
        }
        Ok(history)
    }

    /// This execution's own record of node `unique_id`, from before a restart.
    pub(crate) fn own(&self, unique_id: &str) -> Option<&PastNode> {
        self.own.get(unique_id)
    }

    /// The original's record of node `unique_id`, when it succeeded there.
    pub(crate) fn recoverable(&self, unique_id: &str) -> Option<&PastNode> {
        self.original.get(unique_id).filter(|node| node.succeeded())
    }
}

/// Every node execution of `execution`, nested ones included (listed under
/// their parents, as admin serves them).
async fn list_all_node_executions(
    admin: &dyn ControlPlane,
    execution: &core::WorkflowExecutionIdentifier,
) -> Result<HashMap<String, PastNode>, EventError> {
    let mut nodes = HashMap::new();
    let mut parents = vec![String::new()];
    while let Some(parent) = parents.pop() {
        let mut token = String::new();
        loop {
            let request = admin::NodeExecutionListRequest {
                workflow_execution_id: Some(execution.clone()),
                limit: PAGE_SIZE,
                token: token.clone(),
                unique_parent_id: parent.clone(),
                ..Default::default()
            };
            let page = with_retries(|| admin.list_node_executions(request.clone())).await?;
            for node in page.node_executions {
                let Some(id) = node.id else { continue };
                let closure = node.closure.unwrap_or_default();
                if node
                    .metadata
                    .as_ref()
                    .is_some_and(|metadata| metadata.is_parent_node)
                {
                    parents.push(id.node_id.clone());
                }
                nodes.insert(
                    id.node_id,
                    PastNode {
                        phase: closure.phase(),
                        output: closure.output_result,
                    },
                );
            }
            if page.token.is_empty() {
                break;
            }
            token = page.token;
        }
    }
    Ok(nodes)
}

/// The attempts admin holds for a task node, oldest first.
pub(crate) async fn task_attempts(
    admin: &dyn ControlPlane,
    node_execution_id: &core::NodeExecutionIdentifier,
) -> Result<Vec<PastAttempt>, EventError> {
    let mut attempts = Vec::new();
    let mut token = String::new();
    loop {
        let request = admin::TaskExecutionListRequest {
            node_execution_id: Some(node_execution_id.clone()),
            limit: PAGE_SIZE,
            token: token.clone(),
            ..Default::default()
        };
        let page = with_retries(|| admin.list_task_executions(request.clone())).await?;
        for task in page.task_executions {
            let closure = task.closure.unwrap_or_default();
            attempts.push(PastAttempt {
                retry_attempt: task.id.map_or(0, |id| id.retry_attempt),
                phase: closure.phase(),
                error: match closure.output_result {
                    Some(admin::task_execution_closure::OutputResult::Error(error)) => Some(error),
                    _ => None,
                },
            });
        }
        if page.token.is_empty() {
            break;
        }
        token = page.token;
    }
    attempts.sort_by_key(|attempt| attempt.retry_attempt);
    Ok(attempts)
}

/// Calls admin until it answers, while it is unreachable.
async fn with_retries<T, F, Fut>(call: F) -> Result<T, EventError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, Status>>,
{
    let started = tokio::time::Instant::now();
    let mut backoff = Duration::from_millis(100);
    loop {
        match call().await {
            Ok(response) => return Ok(response),
            Err(status)
                if matches!(
                    status.code(),
                    Code::Unavailable | Code::DeadlineExceeded | Code::Unknown | Code::Internal
                ) && started.elapsed() < GIVE_UP_AFTER =>
            {
                tracing::warn!(code = ?status.code(), message = status.message(), "cannot read node executions from admin; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
            Err(status) if started.elapsed() >= GIVE_UP_AFTER => {
                return Err(EventError::Unreachable {
                    seconds: GIVE_UP_AFTER.as_secs(),
                    message: status.message().to_string(),
                });
            }
            Err(status) => return Err(EventError::Refused(status.message().to_string())),
        }
    }
}
