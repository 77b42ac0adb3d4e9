//! The propeller API (updraft's own proto), served next to admin: task logs
//! and push streams of execution state for the console.

use std::pin::Pin;
use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;
use tokio_stream::Stream;
use tonic::transport::Channel;
use tonic::{Code, Request, Response, Status};
use updraft_proto::flyteidl::admin;
use updraft_proto::flyteidl::core::{self, workflow_execution::Phase};
use updraft_proto::flyteidl::service::admin_service_client::AdminServiceClient;
use updraft_proto::updraft::propeller::v1::propeller_service_server::PropellerService;
use updraft_proto::updraft::propeller::v1::{
    ExecutionChange, LogChunk, Missed, TailLogsRequest, WatchExecutionRequest,
    WatchExecutionsRequest, execution_change::Change,
};

use crate::changes::ChangeFeed;
use crate::logs::{LogReader, async_stream_like};
use crate::paths::attempt_key;

/// How often a watch asks admin for the execution's phase. The feed only
/// carries what this propeller delivered; a terminate, or a run on another
/// propeller, reaches the watcher through admin.
const ADMIN_CHECK: Duration = Duration::from_secs(5);

type StreamOf<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// The propeller API over this propeller's logs and change feed.
#[derive(Debug, Clone)]
pub struct PropellerApi {
    logs: LogReader,
    changes: ChangeFeed,
    admin: AdminServiceClient<Channel>,
}

impl PropellerApi {
    /// Serves logs read by `logs` and changes from `changes`; reads the
    /// current phase of a watched execution from the admin on `admin`.
    pub fn new(logs: LogReader, changes: ChangeFeed, admin: Channel) -> Self {
        Self {
            logs,
            changes,
            admin: AdminServiceClient::new(admin),
        }
    }
}

#[tonic::async_trait]
impl PropellerService for PropellerApi {
    async fn tail_logs(
        &self,
        request: Request<TailLogsRequest>,
    ) -> Result<Response<StreamOf<LogChunk>>, Status> {
        let request = request.into_inner();
        let task_execution = request
            .task_execution
            .ok_or_else(|| Status::invalid_argument("task_execution is required"))?;
        let node = task_execution.node_execution_id.as_ref().ok_or_else(|| {
            Status::invalid_argument("task_execution.node_execution_id is required")
        })?;
        let execution = node.execution_id.as_ref().ok_or_else(|| {
            Status::invalid_argument("task_execution.node_execution_id.execution_id is required")
        })?;
        let node_id = match request.map_index {
            Some(index) => crate::node_ids::index_node_id(&node.node_id, index as usize),
            None => node.node_id.clone(),
        };
        let key = attempt_key(execution, &node_id, task_execution.retry_attempt);
        Ok(Response::new(Box::pin(self.logs.tail(
            key,
            request.offset,
            request.follow,
        ))))
    }

    async fn watch_execution(
        &self,
        request: Request<WatchExecutionRequest>,
    ) -> Result<Response<StreamOf<ExecutionChange>>, Status> {
        let id = request
            .into_inner()
            .execution
            .ok_or_else(|| Status::invalid_argument("execution is required"))?;
        // Subscribing before reading admin leaves no gap between the phase
        // read and the first change streamed.
        let mut changes = self.changes.subscribe();
        let mut admin = self.admin.clone();
        let phase = current_phase(&mut admin, &id).await?;
        Ok(Response::new(Box::pin(async_stream_like(
            move |sender| async move {
                let mut last_phase = phase;
                if sender.send(Ok(workflow_change(&id, phase))).await.is_err() || is_terminal(phase)
                {
                    return;
                }
                let mut check = tokio::time::interval(ADMIN_CHECK);
                check.tick().await;
                loop {
                    let change = tokio::select! {
                        () = sender.closed() => return,
                        received = changes.recv() => match received {
                            Ok(change) if is_of(&change, &id) => change,
                            Ok(_) => continue,
                            Err(RecvError::Lagged(count)) => missed(&id, count),
                            Err(RecvError::Closed) => return,
                        },
                        _ = check.tick() => match current_phase(&mut admin, &id).await {
                            Ok(phase) if phase != last_phase => workflow_change(&id, phase),
                            Ok(_) => continue,
                            Err(status) => {
                                tracing::debug!(code = ?status.code(), message = status.message(), "watch could not read the execution");
                                continue;
                            }
                        },
                    };
                    let mut ended = false;
                    if let Some(Change::WorkflowPhase(phase)) = change.change {
                        last_phase = phase;
                        ended = is_terminal(phase);
                    }
                    if sender.send(Ok(change)).await.is_err() || ended {
                        return;
                    }
                }
            },
        ))))
    }

    async fn watch_executions(
        &self,
        request: Request<WatchExecutionsRequest>,
    ) -> Result<Response<StreamOf<ExecutionChange>>, Status> {
        let request = request.into_inner();
        if request.project.is_empty() || request.domain.is_empty() {
            return Err(Status::invalid_argument("project and domain are required"));
        }
        let mut changes = self.changes.subscribe();
        Ok(Response::new(Box::pin(async_stream_like(
            move |sender| async move {
                loop {
                    let change = tokio::select! {
                        () = sender.closed() => return,
                        received = changes.recv() => match received {
                            Ok(change) => change,
                            Err(RecvError::Lagged(count)) => ExecutionChange {
                                change: Some(Change::Missed(Missed { count })),
                                ..Default::default()
                            },
                            Err(RecvError::Closed) => return,
                        },
                    };
                    let wanted = match &change.change {
                        Some(Change::WorkflowPhase(_)) => {
                            change.execution.as_ref().is_some_and(|execution| {
                                execution.project == request.project
                                    && execution.domain == request.domain
                            })
                        }
                        Some(Change::Missed(_)) => true,
                        _ => false,
                    };
                    if wanted && sender.send(Ok(change)).await.is_err() {
                        return;
                    }
                }
            },
        ))))
    }
}

async fn current_phase(
    admin: &mut AdminServiceClient<Channel>,
    id: &core::WorkflowExecutionIdentifier,
) -> Result<i32, Status> {
    match admin
        .get_execution(admin::WorkflowExecutionGetRequest {
            id: Some(id.clone()),
        })
        .await
    {
        Ok(execution) => Ok(execution
            .into_inner()
            .closure
            .map_or(Phase::Undefined as i32, |closure| closure.phase)),
        Err(status) if status.code() == Code::NotFound => Err(Status::not_found(format!(
            "no execution {}/{}/{}",
            id.project, id.domain, id.name
        ))),
        Err(status) => {
            tracing::warn!(code = ?status.code(), message = status.message(), "cannot read a watched execution from admin");
            Err(Status::unavailable(
                "the admin cannot be reached to read the execution; retry",
            ))
        }
    }
}

fn is_of(change: &ExecutionChange, id: &core::WorkflowExecutionIdentifier) -> bool {
    change.execution.as_ref().is_some_and(|execution| {
        execution.name == id.name
            && execution.project == id.project
            && execution.domain == id.domain
    })
}

fn workflow_change(id: &core::WorkflowExecutionIdentifier, phase: i32) -> ExecutionChange {
    ExecutionChange {
        occurred_at: Some(std::time::SystemTime::now().into()),
        change: Some(Change::WorkflowPhase(phase)),
        execution: Some(id.clone()),
    }
}

fn missed(id: &core::WorkflowExecutionIdentifier, count: u64) -> ExecutionChange {
    ExecutionChange {
        occurred_at: Some(std::time::SystemTime::now().into()),
        change: Some(Change::Missed(Missed { count })),
        execution: Some(id.clone()),
    }
}

fn is_terminal(phase: i32) -> bool {
    matches!(
        Phase::try_from(phase),
        Ok(Phase::Succeeded | Phase::Failed | Phase::Aborted | Phase::TimedOut)
    )
}
