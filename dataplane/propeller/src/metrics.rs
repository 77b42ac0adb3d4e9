//! Propeller's metrics, under flytepropeller's names where it has one so
//! Flyte's propeller dashboard reads them, and `updraft:propeller:…` otherwise.
//! They go to whatever `metrics` recorder the process installed (none: they
//! cost nothing).
//!
//! flytepropeller exports each of its timers twice, labelled by workflow
//! (`…_ms`) and not (`…_unlabeled_ms`), and its dashboard reads both; updraft
//! keeps labels bounded, so both carry the same unlabelled series.

use std::time::{Duration, SystemTime};

use updraft_proto::flyteidl::core::task_execution::Phase as TaskPhase;
use updraft_proto::flyteidl::event::TaskExecutionEvent;
use updraft_proto::updraft::admin::v1::ClaimedExecution;

/// One evaluation of an execution's graph: starting every node that became
/// ready after a node ended.
pub const ROUND_TIME_MS: &str = "flyte:propeller:all:round:round_time_ms";
/// [`ROUND_TIME_MS`] under flytepropeller's unlabelled name.
pub const ROUND_TIME_UNLABELED_MS: &str = "flyte:propeller:all:round:round_time_unlabeled_ms";
/// From an execution's creation in admin to its first claim by a propeller.
pub const ACCEPTANCE_LATENCY_MS: &str = "flyte:propeller:all:workflow:acceptance_latency_ms";
/// [`ACCEPTANCE_LATENCY_MS`] under flytepropeller's unlabelled name.
pub const ACCEPTANCE_LATENCY_UNLABELED_MS: &str =
    "flyte:propeller:all:workflow:acceptance_latency_unlabeled_ms";
/// Execution slots not running an execution right now.
pub const FREE_WORKERS: &str = "flyte:propeller:all:free_workers_count";
/// Executions this process is running right now.
pub const EXECUTIONS_RUNNING: &str = "updraft:propeller:executions_running";
/// Nodes whose upstream nodes have all succeeded but that wait for a slot
/// under their execution's `max_parallelism`: propeller's own work queue.
/// (flytepropeller's `main_depth` counts workflows waiting for a worker;
/// updraft claims an execution only when a worker is free, so the executions
/// waiting are admin's queued ones.)
pub const NODE_QUEUE_DEPTH: &str = "updraft:propeller:node_queue_depth";
/// Task attempts by the phases they reached, labelled `phase`.
pub const TASK_ATTEMPTS: &str = "updraft:propeller:task_attempts";

/// Describes propeller's metrics for the process's `/metrics`.
pub fn describe_propeller_metrics() {
    use metrics::Unit::Milliseconds;
    metrics::describe_histogram!(
        ROUND_TIME_MS,
        Milliseconds,
        "time of one evaluation of an execution's graph (starting the nodes that became ready)"
    );
    metrics::describe_histogram!(
        ROUND_TIME_UNLABELED_MS,
        Milliseconds,
        "time of one evaluation of an execution's graph (starting the nodes that became ready)"
    );
    metrics::describe_histogram!(
        ACCEPTANCE_LATENCY_MS,
        Milliseconds,
        "time from an execution's creation to its first claim by a propeller"
    );
    metrics::describe_histogram!(
        ACCEPTANCE_LATENCY_UNLABELED_MS,
        Milliseconds,
        "time from an execution's creation to its first claim by a propeller"
    );
    metrics::describe_gauge!(
        FREE_WORKERS,
        "execution slots of this process's propellers not running an execution"
    );
    metrics::describe_gauge!(
        EXECUTIONS_RUNNING,
        "executions this process's propellers are running"
    );
    metrics::describe_gauge!(
        NODE_QUEUE_DEPTH,
        "ready nodes waiting for a slot under their execution's max_parallelism"
    );
    metrics::describe_counter!(
        TASK_ATTEMPTS,
        "task attempts by the phase they reached (QUEUED, RUNNING, SUCCEEDED, FAILED, ...)"
    );
}

/// Records one graph evaluation that took `elapsed`.
pub(crate) fn record_round(elapsed: Duration) {
    let milliseconds = elapsed.as_secs_f64() * 1_000.0;
    metrics::histogram!(ROUND_TIME_MS).record(milliseconds);
    metrics::histogram!(ROUND_TIME_UNLABELED_MS).record(milliseconds);
}

/// Records how long `claimed` waited in admin's queue, on its first claim
/// only: a later claim (after a propeller stopped) is a recovery, not an
/// acceptance.
pub(crate) fn record_acceptance(claimed: &ClaimedExecution) {
    if claimed.previous_claims > 0 {
        return;
    }
    let Some(created_at) = claimed
        .execution
        .as_ref()
        .and_then(|execution| execution.closure.as_ref())
        .and_then(|closure| closure.created_at)
    else {
        return;
    };
    let Ok(created_at) = SystemTime::try_from(created_at) else {
        return;
    };
    // Admin's clock may run ahead of this machine's: never a negative wait.
    let waited = SystemTime::now()
        .duration_since(created_at)
        .unwrap_or_default();
    let milliseconds = waited.as_secs_f64() * 1_000.0;
    metrics::histogram!(ACCEPTANCE_LATENCY_MS).record(milliseconds);
    metrics::histogram!(ACCEPTANCE_LATENCY_UNLABELED_MS).record(milliseconds);
}

/// Counts a task event admin accepted: each attempt once per phase it
/// reaches. Later versions of one phase (an array task's progress) are not
/// counted again; an attempt's last phase always is.
pub(crate) fn record_task_event(event: &TaskExecutionEvent) {
    let phase = TaskPhase::try_from(event.phase).unwrap_or(TaskPhase::Undefined);
    let ends_attempt = matches!(
        phase,
        TaskPhase::Succeeded | TaskPhase::Failed | TaskPhase::Aborted | TaskPhase::RetryableFailed
    );
    if event.phase_version == 0 || ends_attempt {
        metrics::counter!(TASK_ATTEMPTS, "phase" => phase.as_str_name()).increment(1);
    }
}

fn as_gauge_value(count: usize) -> f64 {
    // Counts of slots and nodes stay far below 2^52.
    count as f64
}

/// A propeller's execution slots, counted free while it runs; dropped
/// (the propeller stopped), they no longer count.
pub(crate) struct WorkerSlots {
    count: f64,
}

impl WorkerSlots {
    /// `count` slots, all free.
    pub(crate) fn open(count: usize) -> Self {
        let count = as_gauge_value(count);
        metrics::gauge!(FREE_WORKERS).increment(count);
        Self { count }
    }
}

impl Drop for WorkerSlots {
    fn drop(&mut self) {
        metrics::gauge!(FREE_WORKERS).decrement(self.count);
    }
}

/// One slot busy with an execution, until dropped.
pub(crate) struct RunningExecution(());

impl RunningExecution {
    /// Takes a slot.
    pub(crate) fn start() -> Self {
        metrics::gauge!(FREE_WORKERS).decrement(1.0);
        metrics::gauge!(EXECUTIONS_RUNNING).increment(1.0);
        Self(())
    }
}

impl Drop for RunningExecution {
    fn drop(&mut self) {
        metrics::gauge!(FREE_WORKERS).increment(1.0);
        metrics::gauge!(EXECUTIONS_RUNNING).decrement(1.0);
    }
}

/// The ready nodes of one scope waiting for a slot; the scope's share of
/// [`NODE_QUEUE_DEPTH`], taken back when the scope ends.
#[derive(Default)]
pub(crate) struct WaitingNodes {
    current: f64,
}

impl WaitingNodes {
    /// `count` nodes of this scope wait now.
    pub(crate) fn set(&mut self, count: usize) {
        let count = as_gauge_value(count);
        if count != self.current {
            metrics::gauge!(NODE_QUEUE_DEPTH).increment(count - self.current);
            self.current = count;
        }
    }
}

impl Drop for WaitingNodes {
    fn drop(&mut self) {
        self.set(0);
    }
}

#[cfg(test)]
mod tests {
    use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};
    use updraft_proto::flyteidl::admin;

    use super::*;

    /// What `record` leaves in a recorder of its own, rendered as text.
    fn rendered(record: impl FnOnce()) -> String {
        let recorder: PrometheusRecorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, record);
        handle.render()
    }

    /// The value of the one sample line that starts with `series`.
    fn value(exposition: &str, series: &str) -> Option<f64> {
        exposition
            .lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .map(|value| value.parse().expect("a numeric sample"))
    }

    fn task_event(phase: TaskPhase, phase_version: u32) -> TaskExecutionEvent {
        TaskExecutionEvent {
            phase: phase as i32,
            phase_version,
            ..Default::default()
        }
    }

    #[test]
    fn each_attempt_counts_once_per_phase_it_reaches() {
        let text = rendered(|| {
            // An array task: RUNNING, progress as later RUNNING versions, then its end.
            for version in 0..4 {
                record_task_event(&task_event(TaskPhase::Running, version));
            }
            record_task_event(&task_event(TaskPhase::Succeeded, 4));
            record_task_event(&task_event(TaskPhase::Running, 0));
            record_task_event(&task_event(TaskPhase::Failed, 0));
        });
        let series = |phase: &str| format!("{TASK_ATTEMPTS}{{phase=\"{phase}\"}}");
        assert_eq!(value(&text, &series("RUNNING")), Some(2.0), "{text}");
        assert_eq!(value(&text, &series("SUCCEEDED")), Some(1.0), "{text}");
        assert_eq!(value(&text, &series("FAILED")), Some(1.0), "{text}");
    }

    fn claimed(created_seconds_ago: i64, previous_claims: u32) -> ClaimedExecution {
        let now = prost_types::Timestamp::from(SystemTime::now());
        ClaimedExecution {
            execution: Some(admin::Execution {
                closure: Some(admin::ExecutionClosure {
                    created_at: Some(prost_types::Timestamp {
                        seconds: now.seconds - created_seconds_ago,
                        nanos: now.nanos,
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            previous_claims,
            ..Default::default()
        }
    }

    #[test]
    fn acceptance_is_the_wait_before_the_first_claim_only() {
        let text = rendered(|| {
            record_acceptance(&claimed(3, 0));
            // A recovery after a propeller stopped is no acceptance.
            record_acceptance(&claimed(600, 1));
            // Without a creation time there is nothing to measure.
            record_acceptance(&ClaimedExecution::default());
        });
        for name in [ACCEPTANCE_LATENCY_MS, ACCEPTANCE_LATENCY_UNLABELED_MS] {
            assert_eq!(value(&text, &format!("{name}_count")), Some(1.0), "{text}");
            let waited = value(&text, &format!("{name}_sum")).unwrap();
            assert!((3_000.0..60_000.0).contains(&waited), "{waited} ms");
        }
    }

    #[test]
    fn slots_and_running_executions_add_up_and_are_given_back() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            let slots = WorkerSlots::open(4);
            let first = RunningExecution::start();
            let second = RunningExecution::start();
            let text = handle.render();
            assert_eq!(value(&text, FREE_WORKERS), Some(2.0), "{text}");
            assert_eq!(value(&text, EXECUTIONS_RUNNING), Some(2.0), "{text}");
            drop(first);
            let text = handle.render();
            assert_eq!(value(&text, FREE_WORKERS), Some(3.0), "{text}");
            assert_eq!(value(&text, EXECUTIONS_RUNNING), Some(1.0), "{text}");
            drop(second);
            drop(slots);
            let text = handle.render();
            assert_eq!(value(&text, FREE_WORKERS), Some(0.0), "{text}");
            assert_eq!(value(&text, EXECUTIONS_RUNNING), Some(0.0), "{text}");
        });
    }

    #[test]
    fn waiting_nodes_follow_each_scope_and_leave_with_it() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            let mut outer = WaitingNodes::default();
            let mut inner = WaitingNodes::default();
            outer.set(3);
            inner.set(2);
            assert_eq!(value(&handle.render(), NODE_QUEUE_DEPTH), Some(5.0));
            outer.set(1);
            assert_eq!(value(&handle.render(), NODE_QUEUE_DEPTH), Some(3.0));
            drop(inner);
            assert_eq!(value(&handle.render(), NODE_QUEUE_DEPTH), Some(1.0));
            drop(outer);
            assert_eq!(value(&handle.render(), NODE_QUEUE_DEPTH), Some(0.0));
        });
    }

    #[test]
    fn rounds_are_recorded_under_both_of_flytes_names() {
        let text = rendered(|| record_round(Duration::from_millis(7)));
        for name in [ROUND_TIME_MS, ROUND_TIME_UNLABELED_MS] {
            assert_eq!(value(&text, &format!("{name}_count")), Some(1.0), "{text}");
            assert_eq!(value(&text, &format!("{name}_sum")), Some(7.0), "{text}");
        }
    }
}
