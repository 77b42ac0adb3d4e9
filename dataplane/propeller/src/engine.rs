//! The propeller loop: claim queued executions from admin under a lease, run
//! each, keep its lease alive (which is also how a terminate request arrives),
//! and hand it back when it is done.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, watch};
use tonic::transport::Channel;
use updraft_proto::flyteidl::service::admin_service_client::AdminServiceClient;
use updraft_proto::updraft::admin::v1::execution_queue_service_client::ExecutionQueueServiceClient;
use updraft_proto::updraft::admin::v1::{
    ClaimExecutionRequest, ClaimedExecution, ReleaseExecutionRequest, RenewLeaseRequest,
};

use crate::changes::ChangeFeed;
use crate::events::EventSender;
use crate::execution::{ExecutionEnd, ExecutionEnvironment, StopReason, run_execution};
use crate::runtime::TaskRuntime;

/// How long a claim holds before another propeller (or this one, restarted
/// after a crash) may take the execution over, unless configured otherwise.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);
/// Leases are renewed this many times per lease, so one slow renewal does not lose it.
const RENEWALS_PER_LEASE: u32 = 6;
/// How long one claim call waits for work before asking again.
const CLAIM_WAIT: Duration = Duration::from_secs(20);

/// Settings of one propeller.
#[derive(Debug, Clone)]
pub struct PropellerSettings {
    /// Names this propeller in leases and events.
    pub propeller_id: String,
    /// The cluster (data plane) this propeller runs in; admin records it on
    /// every execution this propeller claims.
    pub cluster: String,
    /// The execution cluster labels this propeller serves: admin hands it
    /// executions labelled with one of them, and unlabelled ones.
    pub labels: Vec<String>,
    /// The object store execution files go to (a folder or S3).
    pub storage: updraft_storage::Storage,
    /// Where task log links point (this process's HTTP address).
    pub log_url_base: Option<String>,
    /// Executions run at once by this propeller.
    pub max_concurrent_executions: usize,
    /// Nodes of one execution run at once unless its spec says otherwise.
    pub default_max_parallelism: usize,
    /// How long a claim holds without renewal: how soon a crashed propeller's
    /// executions are claimed again and continue.
    pub lease_duration: Duration,
}

/// Claims and runs executions until the process stops.
pub struct Propeller {
    settings: PropellerSettings,
    queue: ExecutionQueueServiceClient<Channel>,
    environment: Arc<ExecutionEnvironment>,
    changes: ChangeFeed,
}

impl Propeller {
    /// A propeller that reaches admin over `channel` and runs tasks on `runtime`.
    pub fn new(
        mut settings: PropellerSettings,
        channel: Channel,
        runtime: Arc<dyn TaskRuntime>,
    ) -> Self {
        // Admin holds no lease shorter than a second.
        settings.lease_duration = settings.lease_duration.max(Duration::from_secs(1));
        let changes = ChangeFeed::new();
        let environment = Arc::new(ExecutionEnvironment {
            events: EventSender::new(
                AdminServiceClient::new(channel.clone()),
                settings.propeller_id.clone(),
                changes.clone(),
            ),
            runtime,
            signals: Arc::new(crate::gates::AdminSignals::new(channel.clone())),
            storage: settings.storage.clone(),
            log_url_base: settings.log_url_base.clone(),
            default_max_parallelism: settings.default_max_parallelism,
        });
        Self {
            queue: ExecutionQueueServiceClient::new(channel),
            settings,
            environment,
            changes,
        }
    }

    /// The phase changes this propeller delivers, for `WatchExecution`.
    pub fn changes(&self) -> ChangeFeed {
        self.changes.clone()
    }

    /// Runs forever; a claim that fails (admin down) is retried after a pause.
    pub async fn run(self) {
        let slots = Arc::new(Semaphore::new(
            self.settings.max_concurrent_executions.max(1),
        ));
        let _free_workers =
            crate::metrics::WorkerSlots::open(self.settings.max_concurrent_executions.max(1));
        loop {
            let permit = Arc::clone(&slots)
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            let request = ClaimExecutionRequest {
                propeller_id: self.settings.propeller_id.clone(),
                lease_duration: Some(duration(self.settings.lease_duration)),
                wait: Some(duration(CLAIM_WAIT)),
                cluster: self.settings.cluster.clone(),
                labels: self.settings.labels.clone(),
            };
            match self.queue.clone().claim_execution(request).await {
                Ok(response) => {
                    let Some(claimed) = response.into_inner().claimed else {
                        continue;
                    };
                    crate::metrics::record_acceptance(&claimed);
                    let running = crate::metrics::RunningExecution::start();
                    let queue = self.queue.clone();
                    let environment = Arc::clone(&self.environment);
                    let propeller_id = self.settings.propeller_id.clone();
                    let lease = self.settings.lease_duration;
                    tokio::spawn(async move {
                        run_claimed(queue, environment, propeller_id, lease, claimed).await;
                        drop(running);
                        drop(permit);
                    });
                }
                Err(status) => {
                    tracing::warn!(code = ?status.code(), message = status.message(), "cannot claim executions from admin; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }
}

async fn run_claimed(
    queue: ExecutionQueueServiceClient<Channel>,
    environment: Arc<ExecutionEnvironment>,
    propeller_id: String,
    lease: Duration,
    claimed: ClaimedExecution,
) {
    let id = claimed
        .execution
        .as_ref()
        .and_then(|execution| execution.id.clone())
        .unwrap_or_default();
    let generation = claimed.lease_generation;
    let (abort_sender, abort_receiver) = watch::channel(None::<StopReason>);
    let keeper = tokio::spawn(keep_lease(
        queue.clone(),
        id.clone(),
        propeller_id.clone(),
        generation,
        lease,
        abort_sender,
    ));
    tracing::info!(execution = %id.name, generation, previous_claims = claimed.previous_claims, "claimed execution");
    let end = run_execution(environment, claimed, abort_receiver).await;
    keeper.abort();
    tracing::info!(execution = %id.name, ?end, "execution finished");
    if !matches!(end, ExecutionEnd::Abandoned(_)) {
        let release = ReleaseExecutionRequest {
            id: Some(id.clone()),
            propeller_id,
            lease_generation: generation,
        };
        if let Err(status) = queue.clone().release_execution(release).await {
            // The lease then simply expires; a new claim sees a terminal execution.
            tracing::warn!(execution = %id.name, message = status.message(), "cannot release execution");
        }
    }
}

/// Renews the lease until aborted; passes a terminate request on to the run.
async fn keep_lease(
    mut queue: ExecutionQueueServiceClient<Channel>,
    id: updraft_proto::flyteidl::core::WorkflowExecutionIdentifier,
    propeller_id: String,
    generation: u64,
    lease: Duration,
    abort: watch::Sender<Option<StopReason>>,
) {
    let mut interval = tokio::time::interval(lease / RENEWALS_PER_LEASE);
    interval.tick().await;
    loop {
        interval.tick().await;
        let request = RenewLeaseRequest {
            id: Some(id.clone()),
            propeller_id: propeller_id.clone(),
            lease_generation: generation,
            lease_duration: Some(duration(lease)),
        };
        match queue.renew_lease(request).await {
            Ok(response) => {
                let response = response.into_inner();
                if response.abort_requested && abort.borrow().is_none() {
                    let cause = if response.abort_cause.is_empty() {
                        "terminated".to_string()
                    } else {
                        response.abort_cause
                    };
                    abort.send_replace(Some(StopReason::Terminate(cause)));
                }
            }
            Err(status) if status.code() == tonic::Code::FailedPrecondition => {
                tracing::warn!(execution = %id.name, message = status.message(), "lease lost; stopping this run");
                abort.send_replace(Some(StopReason::LeaseLost));
                return;
            }
            Err(status) => {
                tracing::warn!(execution = %id.name, message = status.message(), "lease renewal failed; retrying")
            }
        }
    }
}

fn duration(value: Duration) -> prost_types::Duration {
    prost_types::Duration::try_from(value).unwrap_or_default()
}
