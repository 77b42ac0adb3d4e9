//! The feed behind `WatchExecution`: every phase change this propeller has
//! delivered to admin, published as it lands. Publishing after admin
//! accepted the event means a watcher that reads admin on a change always
//! sees at least that change.

use tokio::sync::broadcast;
use updraft_proto::flyteidl::core;
use updraft_proto::flyteidl::event;
use updraft_proto::updraft::propeller::v1::{
    ExecutionChange, NodeChange, TaskChange, execution_change::Change,
};

/// Changes kept for a slow watcher before it is told it missed some. A
/// 1,000-wide map sends about three events per index within seconds.
const BACKLOG: usize = 4096;

/// Publishes and subscribes to phase changes of the executions this
/// propeller runs. Cloning shares the feed.
#[derive(Debug, Clone)]
pub struct ChangeFeed {
    sender: broadcast::Sender<ExecutionChange>,
}

impl Default for ChangeFeed {
    fn default() -> Self {
        Self::new()
    }
}

impl ChangeFeed {
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(BACKLOG);
        Self { sender }
    }

    /// Changes published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<ExecutionChange> {
        self.sender.subscribe()
    }

    pub(crate) fn workflow(&self, event: &event::WorkflowExecutionEvent) {
        self.publish(
            event.execution_id.clone(),
            event.occurred_at,
            Change::WorkflowPhase(event.phase),
        );
    }

    pub(crate) fn node(&self, event: &event::NodeExecutionEvent) {
        let execution = event.id.as_ref().and_then(|node| node.execution_id.clone());
        self.publish(
            execution,
            event.occurred_at,
            Change::Node(NodeChange {
                id: event.id.clone(),
                phase: event.phase,
            }),
        );
    }

    pub(crate) fn task(&self, event: &event::TaskExecutionEvent) {
        let node = event.parent_node_execution_id.clone();
        let execution = node.as_ref().and_then(|node| node.execution_id.clone());
        self.publish(
            execution,
            event.occurred_at,
            Change::Task(TaskChange {
                id: Some(core::TaskExecutionIdentifier {
                    task_id: event.task_id.clone(),
                    node_execution_id: node,
                    retry_attempt: event.retry_attempt,
                }),
                phase: event.phase,
            }),
        );
    }

    fn publish(
        &self,
        execution: Option<core::WorkflowExecutionIdentifier>,
        occurred_at: Option<prost_types::Timestamp>,
        change: Change,
    ) {
        // Nobody watching is the common case, not an error.
        let _ = self.sender.send(ExecutionChange {
            occurred_at,
            change: Some(change),
            execution,
        });
    }
}
