//! The propeller loop: claim queued executions from admin under a lease, run
//! each, keep its lease alive (which is also how a terminate request arrives),
//! and hand it back when it is done.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tonic::transport::Channel;
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
/// How long a stopping propeller waits for its executions to stop and be
/// handed back.
pub const SHUTDOWN_WAIT: Duration = Duration::from_secs(10);

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
                Arc::new(crate::control_plane::GrpcControlPlane::new(channel.clone())),
                settings.propeller_id.clone(),
                changes.clone(),
            ),
            runtime,
            signals: Arc::new(crate::control_plane::AdminSignals::new(channel.clone())),
            storage: settings.storage.clone(),
            log_url_base: settings.log_url_base.clone(),
            default_max_parallelism: settings.default_max_parallelism,
            task_cache: None,
            cache_releases: Default::default(),
        });
        Self {
            queue: ExecutionQueueServiceClient::new(channel),
            settings,
            environment,
            changes,
        }
    }

    /// Caches cacheable tasks in `cache`; without one every task runs.
    pub fn with_task_cache(mut self, cache: Arc<dyn crate::task_cache::TaskCache>) -> Self {
        Arc::get_mut(&mut self.environment)
            .expect("the environment is shared only once the propeller runs")
            .task_cache = Some(cache);
        self
    }

    /// The phase changes this propeller delivers, for `WatchExecution`.
    pub fn changes(&self) -> ChangeFeed {
        self.changes.clone()
    }

    /// Runs forever; a claim that fails (admin down) is retried after a pause.
    pub async fn run(self) {
        self.run_until(std::future::pending()).await;
    }

    /// Runs until `shutdown` completes, then stops claiming, stops the
    /// executions it runs (reporting nothing) and hands each back to admin, so
    /// the next propeller continues them at once instead of waiting out their
    /// leases. Returns once they are handed back, or after [`SHUTDOWN_WAIT`].
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) {
        let slots = Arc::new(Semaphore::new(
            self.settings.max_concurrent_executions.max(1),
        ));
        let _free_workers =
            crate::metrics::WorkerSlots::open(self.settings.max_concurrent_executions.max(1));
        let (stopping, _) = watch::channel(false);
        let mut runs = JoinSet::new();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            while runs.try_join_next().is_some() {}
            let permit = tokio::select! {
                permit = Arc::clone(&slots).acquire_owned() => permit.expect("the semaphore is never closed"),
                () = &mut shutdown => break,
            };
            let request = ClaimExecutionRequest {
                propeller_id: self.settings.propeller_id.clone(),
                lease_duration: Some(duration(self.settings.lease_duration)),
                wait: Some(duration(CLAIM_WAIT)),
                cluster: self.settings.cluster.clone(),
                labels: self.settings.labels.clone(),
            };
            let mut queue = self.queue.clone();
            let claimed = tokio::select! {
                claimed = queue.claim_execution(request) => claimed,
                () = &mut shutdown => break,
            };
            match claimed {
                Ok(response) => {
                    let Some(claimed) = response.into_inner().claimed else {
                        continue;
                    };
                    crate::metrics::record_acceptance(&claimed);
                    let running = crate::metrics::RunningExecution::start();
                    let run = ClaimedRun {
                        queue: self.queue.clone(),
                        environment: Arc::clone(&self.environment),
                        propeller_id: self.settings.propeller_id.clone(),
                        lease: self.settings.lease_duration,
                        shutdown: stopping.subscribe(),
                    };
                    runs.spawn(async move {
                        Box::pin(run.run(claimed)).await;
                        drop(running);
                        drop(permit);
                    });
                }
                Err(status) => {
                    tracing::warn!(code = ?status.code(), message = status.message(), "cannot claim executions from admin; retrying");
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                        () = &mut shutdown => break,
                    }
                }
            }
        }
        tracing::info!(
            executions = runs.len(),
            "propeller stopping: handing its executions back"
        );
        stopping.send_replace(true);
        let handed_back = tokio::time::timeout(SHUTDOWN_WAIT, async {
            while runs.join_next().await.is_some() {}
        })
        .await;
        if handed_back.is_err() {
            tracing::warn!(
                wait = ?SHUTDOWN_WAIT,
                "executions still stopping; their leases will expire instead"
            );
        }
    }
}

/// One claimed execution and what running it needs.
struct ClaimedRun {
    queue: ExecutionQueueServiceClient<Channel>,
    environment: Arc<ExecutionEnvironment>,
    propeller_id: String,
    lease: Duration,
    /// Turns true when the propeller stops.
    shutdown: watch::Receiver<bool>,
}

impl ClaimedRun {
    async fn run(self, claimed: ClaimedExecution) {
        let Self {
            queue,
            environment,
            propeller_id,
            lease,
            mut shutdown,
        } = self;
        let id = claimed
            .execution
            .as_ref()
            .and_then(|execution| execution.id.clone())
            .unwrap_or_default();
        let generation = claimed.lease_generation;
        let (abort_sender, abort_receiver) = watch::channel(None::<StopReason>);
        let abort_sender = Arc::new(abort_sender);
        let keeper = tokio::spawn(keep_lease(
            queue.clone(),
            id.clone(),
            propeller_id.clone(),
            generation,
            lease,
            Arc::clone(&abort_sender),
        ));
        let shutdown_watch = tokio::spawn({
            let abort = Arc::clone(&abort_sender);
            async move {
                if shutdown.wait_for(|stopping| *stopping).await.is_ok() {
                    abort.send_if_modified(|reason| {
                        reason.is_none() && {
                            *reason = Some(StopReason::Shutdown);
                            true
                        }
                    });
                }
            }
        });
        tracing::info!(execution = %id.name, generation, previous_claims = claimed.previous_claims, "claimed execution");
        let end = run_execution(environment, claimed, abort_receiver).await;
        keeper.abort();
        shutdown_watch.abort();
        let handed_back = *abort_sender.borrow() == Some(StopReason::Shutdown);
        tracing::info!(execution = %id.name, ?end, handed_back, "execution finished");
        // An execution this propeller ended, or stops running because it
        // stops, goes back to admin; one admin took away (lease lost, events
        // refused) is not this propeller's to release.
        if handed_back || !matches!(end, ExecutionEnd::Abandoned(_)) {
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
}

/// Renews the lease until aborted; passes a terminate request on to the run.
async fn keep_lease(
    mut queue: ExecutionQueueServiceClient<Channel>,
    id: updraft_proto::flyteidl::core::WorkflowExecutionIdentifier,
    propeller_id: String,
    generation: u64,
    lease: Duration,
    abort: Arc<watch::Sender<Option<StopReason>>>,
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
