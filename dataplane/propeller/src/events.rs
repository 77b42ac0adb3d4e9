//! Sending phase changes to admin. Events are retried while admin is
//! unreachable, so none is lost; a duplicate is harmless (admin answers
//! ALREADY_EXISTS), and an execution admin already holds as terminal stops.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tonic::{Code, Status};
use updraft_proto::flyteidl::admin;
use updraft_proto::flyteidl::event;

use crate::changes::ChangeFeed;
use crate::control_plane::ControlPlane;

/// One call to admin, as the [`ControlPlane`] trait's methods return it.
type AdminCall<'a> = Pin<Box<dyn Future<Output = Result<(), Status>> + Send + 'a>>;

/// How long to keep retrying one event while admin is unreachable.
const GIVE_UP_AFTER: Duration = Duration::from_secs(600);

/// Why an event did not land.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// Admin holds the execution (or node/task) as finished already, for
    /// example because it was terminated; the sender should stop.
    #[error("admin refused the event: {0}")]
    Refused(String),
    /// Admin stayed unreachable for the whole retry window.
    #[error("admin unreachable for {seconds} s: {message}")]
    Unreachable { seconds: u64, message: String },
}

/// Sends workflow, node and task events to admin.
#[derive(Clone)]
pub struct EventSender {
    admin: Arc<dyn ControlPlane>,
    producer_id: String,
    changes: ChangeFeed,
}

impl EventSender {
    /// Events will carry `producer_id` (this propeller's name); each one
    /// admin accepts is published on `changes`.
    pub fn new(admin: Arc<dyn ControlPlane>, producer_id: String, changes: ChangeFeed) -> Self {
        Self {
            admin,
            producer_id,
            changes,
        }
    }

    /// The admin events go to, for nodes that call it directly
    /// (launch-plan nodes start and watch child executions).
    pub fn admin(&self) -> &Arc<dyn ControlPlane> {
        &self.admin
    }

    /// This propeller's name, as events carry it.
    pub fn producer_id(&self) -> &str {
        &self.producer_id
    }

    pub async fn workflow(
        &self,
        mut event: event::WorkflowExecutionEvent,
    ) -> Result<(), EventError> {
        event.producer_id.clone_from(&self.producer_id);
        self.send(|admin, request_id| {
            admin.create_workflow_event(admin::WorkflowExecutionEventRequest {
                request_id,
                event: Some(event.clone()),
            })
        })
        .await?;
        self.changes.workflow(&event);
        Ok(())
    }

    pub async fn node(&self, mut event: event::NodeExecutionEvent) -> Result<(), EventError> {
        event.producer_id.clone_from(&self.producer_id);
        self.send(|admin, request_id| {
            admin.create_node_event(admin::NodeExecutionEventRequest {
                request_id,
                event: Some(event.clone()),
            })
        })
        .await?;
        self.changes.node(&event);
        Ok(())
    }

    pub async fn task(&self, mut event: event::TaskExecutionEvent) -> Result<(), EventError> {
        event.producer_id.clone_from(&self.producer_id);
        self.send(|admin, request_id| {
            admin.create_task_event(admin::TaskExecutionEventRequest {
                request_id,
                event: Some(event.clone()),
            })
        })
        .await?;
        crate::metrics::record_task_event(&event);
        self.changes.task(&event);
        Ok(())
    }

    async fn send<'a, F>(&'a self, call: F) -> Result<(), EventError>
    where
        F: Fn(&'a dyn ControlPlane, String) -> AdminCall<'a>,
    {
        let request_id = uuid_like();
        let started = tokio::time::Instant::now();
        let mut backoff = Duration::from_millis(100);
        loop {
            match call(self.admin.as_ref(), request_id.clone()).await {
                Ok(()) => return Ok(()),
                Err(status) if status.code() == Code::AlreadyExists => return Ok(()),
                Err(status) if is_transient(&status) => {
                    if started.elapsed() > GIVE_UP_AFTER {
                        return Err(EventError::Unreachable {
                            seconds: GIVE_UP_AFTER.as_secs(),
                            message: status.message().to_string(),
                        });
                    }
                    tracing::warn!(code = ?status.code(), message = status.message(), "event not delivered, retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
                Err(status) => return Err(EventError::Refused(status.message().to_string())),
            }
        }
    }
}

fn is_transient(status: &Status) -> bool {
    matches!(
        status.code(),
        Code::Unavailable
            | Code::DeadlineExceeded
            | Code::ResourceExhausted
            | Code::Aborted
            | Code::Unknown
            | Code::Internal
    )
}

/// A request id unique enough for admin's de-duplication log.
fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{nanos:x}-{:x}-{:x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}
