//! `ExecutionQueueService`, updraft's own hand-off to propellers: claims of
//! executions under a lease (long-polled, so a new execution reaches an idle
//! propeller at once), renewals that also carry terminate requests, and
//! releases. Claims name the propeller's cluster and the execution cluster
//! labels it serves, and only a propeller serving an execution's label gets
//! it; admin remembers the propellers it hears from, so it can tell an
//! execution waiting for a data plane that no live propeller is.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use prost::Message;
use tonic::{Request, Response, Status};
use updraft_proto::flyteidl::admin;
use updraft_proto::flyteidl::core;
use updraft_proto::flyteidl::core::workflow_execution::Phase;
use updraft_proto::updraft::admin::v1::execution_queue_service_server::{
    ExecutionQueueService, ExecutionQueueServiceServer,
};
use updraft_proto::updraft::admin::v1::{
    ClaimExecutionRequest, ClaimExecutionResponse, ClaimedExecution, GetExecutionPlacementRequest,
    GetExecutionPlacementResponse, ReleaseExecutionRequest, ReleaseExecutionResponse,
    RenewLeaseRequest, RenewLeaseResponse,
};

use crate::error::AdminError;
use crate::identifiers::{execution_key, require};
use crate::store::{
    Claimant, ClaimedExecution as StoreClaim, ExecutionRepo, MOST_LABELS_PER_PROPELLER,
    PropellerRecord, PropellerRepo, WorkflowRepo, now_micros, timestamp_from_micros,
};
use crate::{AdminApi, MAX_MESSAGE_BYTES, answer};

/// Lease used when the request names none.
const DEFAULT_LEASE: Duration = Duration::from_secs(30);
/// Bounds on what a propeller may ask for.
const SHORTEST_LEASE: Duration = Duration::from_secs(1);
const LONGEST_LEASE: Duration = Duration::from_secs(600);
/// Longest a claim waits for work before answering empty.
const LONGEST_WAIT: Duration = Duration::from_secs(30);
/// A waiting claim also looks again this often: leases expire without a signal,
/// and another admin replica may have queued the execution.
const RECHECK_EVERY: Duration = Duration::from_millis(500);
/// A propeller counts as live for this many of its leases after it was last
/// heard from (beyond the wait of a claim it is in): it renews several times
/// per lease and claims again as soon as a claim answers, so missing this
/// many means it is gone.
const LIVE_FOR_LEASES: u32 = 3;
/// Longest execution cluster label a propeller may serve.
const LONGEST_LABEL: usize = 255;
/// Propellers not live for this long are forgotten.
const FORGET_PROPELLERS_AFTER: Duration = Duration::from_secs(24 * 3600);
/// How often forgotten propellers are looked for.
const FORGET_PROPELLERS_EVERY: Duration = Duration::from_secs(3600);

/// The `updraft.admin.v1.ExecutionQueueService` implementation.
#[derive(Debug, Clone)]
pub struct ExecutionQueueApi {
    admin: AdminApi,
    /// When (microseconds) long-gone propellers are next forgotten.
    next_forget_at: Arc<AtomicI64>,
}

fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

/// The labels a claim serves, checked, without repeats.
fn served_labels(mut labels: Vec<String>) -> Result<Vec<String>, AdminError> {
    labels.sort_unstable();
    labels.dedup();
    if labels.len() > MOST_LABELS_PER_PROPELLER {
        return Err(AdminError::invalid(format!(
            "invalid labels: a propeller serves at most {MOST_LABELS_PER_PROPELLER} labels, not {}",
            labels.len()
        )));
    }
    if let Some(bad) = labels
        .iter()
        .find(|label| label.is_empty() || label.len() > LONGEST_LABEL)
    {
        return Err(AdminError::invalid(format!(
            "invalid label {bad:?}: a label has 1 to {LONGEST_LABEL} bytes (unlabelled executions go to every propeller without one)"
        )));
    }
    Ok(labels)
}

impl ExecutionQueueApi {
    pub(crate) fn new(admin: AdminApi) -> Self {
        Self {
            admin,
            next_forget_at: Arc::new(AtomicI64::new(0)),
        }
    }

    /// Remembers the claiming propeller as live, and now and then forgets
    /// the ones long gone.
    async fn record_claimant(
        &self,
        claimant: &Claimant<'_>,
        live_for: Duration,
    ) -> Result<(), AdminError> {
        let store = &self.admin.state.store;
        let now = now_micros();
        store
            .record_propeller(&PropellerRecord {
                propeller_id: claimant.propeller_id.to_string(),
                cluster: claimant.cluster.to_string(),
                labels: claimant.labels.to_vec(),
                last_seen_at: now,
                live_until: now.saturating_add(micros(live_for)),
            })
            .await?;
        let due = self.next_forget_at.load(Ordering::Relaxed);
        if now >= due
            && self
                .next_forget_at
                .compare_exchange(
                    due,
                    now.saturating_add(micros(FORGET_PROPELLERS_EVERY)),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok()
        {
            let forgotten = store
                .forget_propellers_gone_before(now - micros(FORGET_PROPELLERS_AFTER))
                .await?;
            if forgotten > 0 {
                tracing::info!(forgotten, "forgot propellers not heard from for a day");
            }
        }
        Ok(())
    }

    /// This service as a tonic service.
    pub fn into_service(self) -> ExecutionQueueServiceServer<Self> {
        ExecutionQueueServiceServer::new(self)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }

    async fn claim(
        &self,
        request: ClaimExecutionRequest,
    ) -> Result<ClaimExecutionResponse, AdminError> {
        require(&request.propeller_id, "propeller_id")?;
        let labels = served_labels(request.labels)?;
        let claimant = Claimant {
            propeller_id: &request.propeller_id,
            cluster: &request.cluster,
            labels: &labels,
        };
        let lease = duration_of(request.lease_duration.as_ref(), DEFAULT_LEASE)
            .clamp(SHORTEST_LEASE, LONGEST_LEASE);
        let wait = duration_of(request.wait.as_ref(), Duration::ZERO).min(LONGEST_WAIT);
        self.record_claimant(&claimant, wait + lease * LIVE_FOR_LEASES)
            .await?;
        let deadline = tokio::time::Instant::now() + wait;
        let state = &self.admin.state;
        loop {
            // Register for the signal before looking, so an execution queued
            // between the look and the wait is not missed.
            let signal = state.queue_signal.notified();
            let now = now_micros();
            let lease_micros = i64::try_from(lease.as_micros()).unwrap_or(i64::MAX);
            if let Some(claimed) = state
                .store
                .claim_next_execution(&claimant, now, now.saturating_add(lease_micros))
                .await?
            {
                match self
                    .hand_out(&claimed, now.saturating_add(lease_micros))
                    .await
                {
                    Ok(handed_out) => {
                        tracing::info!(execution = %claimed.record.key, propeller = %request.propeller_id, cluster = %request.cluster, claim = claimed.claim_count, "execution claimed");
                        return Ok(ClaimExecutionResponse {
                            claimed: Some(handed_out),
                        });
                    }
                    // An execution that cannot be prepared would otherwise be
                    // claimed again and again, blocking every one behind it.
                    Err(error) => {
                        self.fail_unrunnable(&claimed.record.key, &error).await?;
                        continue;
                    }
                }
            }
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            if remaining.is_zero() {
                return Ok(ClaimExecutionResponse { claimed: None });
            }
            let _ = tokio::time::timeout(remaining.min(RECHECK_EVERY), signal).await;
        }
    }

    /// What a propeller needs to run a claimed execution.
    async fn hand_out(
        &self,
        claimed: &StoreClaim,
        lease_expires_at: i64,
    ) -> Result<ClaimedExecution, AdminError> {
        let state = &self.admin.state;
        let record = &claimed.record;
        let workflow = state
            .store
            .get_workflow(&record.workflow)
            .await?
            .ok_or_else(|| {
                AdminError::FailedPrecondition(format!(
                    "workflow {} of execution {} no longer exists",
                    record.workflow, record.key
                ))
            })?;
        let inputs = match state.blobs.key_for_uri(&record.inputs_uri) {
            Some(key) => core::LiteralMap::decode(state.blobs.get(key).await?)?,
            None => core::LiteralMap::default(),
        };
        Ok(ClaimedExecution {
            execution: Some(crate::executions::execution_from_record(record)?),
            workflow: Some(core::CompiledWorkflowClosure::decode(
                workflow.closure.as_slice(),
            )?),
            inputs: Some(inputs),
            lease_generation: u64::try_from(claimed.claim_count).unwrap_or_default(),
            lease_expires_at: Some(timestamp_from_micros(lease_expires_at)),
            previous_claims: u32::try_from(claimed.claim_count - 1).unwrap_or_default(),
        })
    }

    /// Marks an execution that cannot be prepared to run as FAILED, saying so.
    async fn fail_unrunnable(
        &self,
        key: &crate::store::ExecutionKey,
        error: &AdminError,
    ) -> Result<(), AdminError> {
        tracing::error!(execution = %key, error = ?error, "cannot prepare a claimed execution to run; failing it");
        let message = match error {
            AdminError::FailedPrecondition(message) => message.clone(),
            _ => "updraft could not prepare this execution to run; the admin log has the details"
                .to_string(),
        };
        let now = now_micros();
        self.admin
            .modify_execution(key, |record, closure| {
                record.phase = Phase::Failed as i32;
                closure.updated_at = Some(timestamp_from_micros(now));
                closure.output_result = Some(admin::execution_closure::OutputResult::Error(
                    core::ExecutionError {
                        code: "ExecutionUnrunnable".into(),
                        message: message.clone(),
                        kind: core::execution_error::ErrorKind::System as i32,
                        timestamp: Some(timestamp_from_micros(now)),
                        ..Default::default()
                    },
                ));
                Ok(())
            })
            .await
    }

    async fn renew(&self, request: RenewLeaseRequest) -> Result<RenewLeaseResponse, AdminError> {
        let key = execution_key(request.id.as_ref())?;
        let lease = duration_of(request.lease_duration.as_ref(), DEFAULT_LEASE)
            .clamp(SHORTEST_LEASE, LONGEST_LEASE);
        let now = now_micros();
        let expires_at = now.saturating_add(micros(lease));
        let claim = i64::try_from(request.lease_generation).unwrap_or(i64::MAX);
        let state = &self.admin.state;
        if !state
            .store
            .renew_execution_lease(&key, &request.propeller_id, claim, expires_at)
            .await?
        {
            return Err(AdminError::FailedPrecondition(format!(
                "the lease on execution {key} is no longer held by {} (claim {claim})",
                request.propeller_id
            )));
        }
        // A propeller busy with all the executions it takes claims nothing,
        // but it renews: that keeps it live too.
        state
            .store
            .record_propeller_seen(
                &request.propeller_id,
                now,
                now.saturating_add(micros(lease * LIVE_FOR_LEASES)),
            )
            .await?;
        let record = self.admin.load_execution(&key).await?;
        let closure = admin::ExecutionClosure::decode(record.closure.as_slice())?;
        let abort_cause = match &closure.output_result {
            Some(admin::execution_closure::OutputResult::AbortMetadata(metadata)) => {
                Some(metadata.cause.clone())
            }
            _ if record.phase == Phase::Aborted as i32
                || record.phase == Phase::Aborting as i32 =>
            {
                Some(String::new())
            }
            _ => None,
        };
        Ok(RenewLeaseResponse {
            lease_expires_at: Some(timestamp_from_micros(expires_at)),
            abort_requested: abort_cause.is_some(),
            abort_cause: abort_cause.unwrap_or_default(),
        })
    }

    async fn release(
        &self,
        request: ReleaseExecutionRequest,
    ) -> Result<ReleaseExecutionResponse, AdminError> {
        let key = execution_key(request.id.as_ref())?;
        let claim = i64::try_from(request.lease_generation).unwrap_or(i64::MAX);
        if !self
            .admin
            .state
            .store
            .release_execution_lease(&key, claim)
            .await?
        {
            tracing::info!(execution = %key, claim, "release of a lease that had already passed on");
        }
        Ok(ReleaseExecutionResponse {})
    }
}

impl ExecutionQueueApi {
    async fn placement(
        &self,
        request: GetExecutionPlacementRequest,
    ) -> Result<GetExecutionPlacementResponse, AdminError> {
        let key = execution_key(request.id.as_ref())?;
        let record = self.admin.load_execution(&key).await?;
        let awaiting_data_plane = !crate::executions::is_terminal(record.phase) && {
            let live = self
                .admin
                .state
                .store
                .list_live_propellers(now_micros())
                .await?;
            // A labelled execution needs a live propeller serving its label;
            // an unlabelled one any live propeller.
            !live.iter().any(|propeller| {
                record.cluster_label.is_empty() || propeller.labels.contains(&record.cluster_label)
            })
        };
        Ok(GetExecutionPlacementResponse {
            cluster_label: record.cluster_label,
            cluster: record.cluster,
            awaiting_data_plane,
        })
    }
}

fn duration_of(value: Option<&prost_types::Duration>, default: Duration) -> Duration {
    value
        .and_then(|duration| Duration::try_from(*duration).ok())
        .filter(|duration| !duration.is_zero())
        .unwrap_or(default)
}

#[tonic::async_trait]
impl ExecutionQueueService for ExecutionQueueApi {
    #[tracing::instrument(skip_all)]
    async fn claim_execution(
        &self,
        request: Request<ClaimExecutionRequest>,
    ) -> Result<Response<ClaimExecutionResponse>, Status> {
        answer(self.claim(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn renew_lease(
        &self,
        request: Request<RenewLeaseRequest>,
    ) -> Result<Response<RenewLeaseResponse>, Status> {
        answer(self.renew(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn release_execution(
        &self,
        request: Request<ReleaseExecutionRequest>,
    ) -> Result<Response<ReleaseExecutionResponse>, Status> {
        answer(self.release(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_execution_placement(
        &self,
        request: Request<GetExecutionPlacementRequest>,
    ) -> Result<Response<GetExecutionPlacementResponse>, Status> {
        answer(self.placement(request.into_inner())).await
    }
}
