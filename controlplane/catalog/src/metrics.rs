//! The catalog's metrics under datacatalog's own names (its managers'
//! `flyte:datacatalog:<entity>:…` series), so a dashboard written for
//! datacatalog reads updraft's. datacatalog labels them by project and
//! domain, which updraft never does (labels take bounded values only), so
//! updraft records the series datacatalog emits without labels: its
//! `…_unlabeled` counters and timers, and, where datacatalog has no
//! unlabeled form (reservations), the plain name. Per-RPC counts, codes
//! and latencies come from the server's gRPC layer
//! (`grpc_server_handled_total`, `grpc_server_handling_seconds`).

use std::time::Instant;

use tonic::Code;

use crate::error::CatalogError;

/// One of datacatalog's manager operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    CreateDataset,
    GetDataset,
    ListDatasets,
    CreateArtifact,
    GetArtifact,
    ListArtifacts,
    UpdateArtifact,
    AddTag,
}

impl Operation {
    /// The entity's scope and the operation's timer, as datacatalog names
    /// them (`None`: datacatalog does not time it).
    fn names(self) -> (&'static str, Option<&'static str>) {
        match self {
            Self::CreateDataset => (
                "dataset",
                Some("flyte:datacatalog:dataset:create_duration_unlabeled_ms"),
            ),
            Self::GetDataset => (
                "dataset",
                Some("flyte:datacatalog:dataset:get_duration_unlabeled_ms"),
            ),
            Self::ListDatasets => ("dataset", None),
            Self::CreateArtifact => (
                "artifact",
                Some("flyte:datacatalog:artifact:create_duration_unlabeled_ms"),
            ),
            Self::GetArtifact => (
                "artifact",
                Some("flyte:datacatalog:artifact:get_duration_unlabeled_ms"),
            ),
            Self::ListArtifacts => ("artifact", None),
            Self::UpdateArtifact => (
                "artifact",
                Some("flyte:datacatalog:artifact:update_duration_unlabeled_ms"),
            ),
            Self::AddTag => (
                "tag",
                Some("flyte:datacatalog:tag:create_duration_unlabeled_ms"),
            ),
        }
    }

    /// The counter datacatalog increments for `outcome`.
    fn counter(self, outcome: Option<Code>) -> &'static str {
        use Operation::*;
        match (self, outcome) {
            (_, Some(Code::InvalidArgument)) => match self.names().0 {
                "dataset" => "flyte:datacatalog:dataset:validation_failed_count_unlabeled",
                "artifact" => "flyte:datacatalog:artifact:validation_failed_count_unlabeled",
                _ => "flyte:datacatalog:tag:validation_failed_count_unlabeled",
            },
            (CreateDataset, None) => "flyte:datacatalog:dataset:create_success_count_unlabeled",
            (CreateDataset, Some(Code::AlreadyExists)) => {
                "flyte:datacatalog:dataset:already_exists_count_unlabeled"
            }
            (CreateDataset, Some(_)) => "flyte:datacatalog:dataset:create_failed_count_unlabeled",
            (GetDataset, None) => "flyte:datacatalog:dataset:get_success_count_unlabeled",
            (GetDataset, Some(Code::NotFound)) => {
                "flyte:datacatalog:dataset:does_not_exists_count_unlabeled"
            }
            (GetDataset, Some(_)) => "flyte:datacatalog:dataset:get_failed_count_unlabeled",
            (ListDatasets, None) => "flyte:datacatalog:dataset:list_success_count_unlabeled",
            (ListDatasets, Some(_)) => "flyte:datacatalog:dataset:list_failure_count_unlabeled",
            (CreateArtifact, None) => "flyte:datacatalog:artifact:create_success_count_unlabeled",
            (CreateArtifact, Some(Code::AlreadyExists)) => {
                "flyte:datacatalog:artifact:already_exists_count_unlabeled"
            }
            (CreateArtifact, Some(_)) => {
                "flyte:datacatalog:artifact:create_failure_count_unlabeled"
            }
            (GetArtifact, None) => "flyte:datacatalog:artifact:get_success_count_unlabeled",
            (GetArtifact, Some(Code::NotFound)) => {
                "flyte:datacatalog:artifact:does_not_exists_count_unlabeled"
            }
            (GetArtifact, Some(_)) => "flyte:datacatalog:artifact:get_failure_count_unlabeled",
            (ListArtifacts, None) => "flyte:datacatalog:artifact:list_success_count_unlabeled",
            (ListArtifacts, Some(_)) => "flyte:datacatalog:artifact:list_failure_count_unlabeled",
            (UpdateArtifact, None) => "flyte:datacatalog:artifact:update_success_count_unlabeled",
            (UpdateArtifact, Some(_)) => {
                "flyte:datacatalog:artifact:update_failure_count_unlabeled"
            }
            (AddTag, None) => "flyte:datacatalog:tag:create_success_count_unlabeled",
            (AddTag, Some(Code::AlreadyExists)) => {
                "flyte:datacatalog:tag:already_exists_count_unlabeled"
            }
            (AddTag, Some(_)) => "flyte:datacatalog:tag:create_failure_count_unlabeled",
        }
    }
}

/// Runs `operation`'s handler and records its outcome and duration.
pub(crate) async fn measured<T>(
    operation: Operation,
    handler: impl Future<Output = Result<T, CatalogError>>,
) -> Result<T, CatalogError> {
    let started = Instant::now();
    let result = handler.await;
    if let Some(timer) = operation.names().1 {
        metrics::histogram!(timer).record(started.elapsed().as_secs_f64() * 1_000.0);
    }
    let outcome = result.as_ref().err().map(CatalogError::code);
    metrics::counter!(operation.counter(outcome)).increment(1);
    result
}

/// What a reservation request came to, as datacatalog counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReservationOutcome {
    Acquired,
    HeldByAnother,
    AcquireFailed,
    Released,
    NotHeld,
    ReleaseFailed,
}

/// Counts one reservation request.
pub(crate) fn record_reservation(outcome: ReservationOutcome) {
    let name = match outcome {
        ReservationOutcome::Acquired => "flyte:datacatalog:reservation:reservation_acquired",
        ReservationOutcome::HeldByAnother => {
            "flyte:datacatalog:reservation:reservation_already_in_progress"
        }
        ReservationOutcome::AcquireFailed => {
            "flyte:datacatalog:reservation:acquire_reservation_failure"
        }
        ReservationOutcome::Released => "flyte:datacatalog:reservation:reservation_released",
        ReservationOutcome::NotHeld => "flyte:datacatalog:reservation:reservation_does_not_exist",
        ReservationOutcome::ReleaseFailed => {
            "flyte:datacatalog:reservation:release_reservation_failure"
        }
    };
    metrics::counter!(name).increment(1);
}

/// Counts artifacts evicted (updraft's own; datacatalog cannot evict).
pub(crate) fn record_evicted(artifacts: usize) {
    metrics::counter!("updraft:catalog:evicted_artifacts")
        .increment(u64::try_from(artifacts).unwrap_or(u64::MAX));
}

/// The `HELP` lines of the catalog's own series.
pub fn describe_catalog_metrics() {
    metrics::describe_counter!(
        "updraft:catalog:evicted_artifacts",
        "cached artifacts evicted (their tags, rows and data deleted)"
    );
    metrics::describe_counter!(
        "flyte:datacatalog:reservation:reservation_acquired",
        "reservations acquired or extended by their holder"
    );
    metrics::describe_counter!(
        "flyte:datacatalog:reservation:reservation_already_in_progress",
        "reservation requests refused because another owner holds it"
    );
}
