//! How long each database call takes, under the names flyteadmin gives its
//! repository timers (`flyte:admin:admin:database:executions:get_ms`), so
//! Flyte's admin dashboard shows updraft's database latency as it shows
//! flyteadmin's.

use std::time::Instant;

/// Times the rest of the enclosing block as one call on `entity` (`executions`,
/// `node_executions`, …) doing `operation` (`create`, `get`, `list`,
/// `list_identifiers`, `update`, …), recorded when the block ends, whether the
/// call succeeded or not: `let _timer = time_database_call!("executions", "get");`
macro_rules! time_database_call {
    ($entity:literal, $operation:literal) => {
        $crate::store::timing::DatabaseTimer::start(concat!(
            "flyte:admin:admin:database:",
            $entity,
            ":",
            $operation,
            "_ms"
        ))
    };
}
pub(crate) use time_database_call;

/// Records the time since its start in a millisecond timer when dropped.
#[must_use = "the call is timed until the timer is dropped"]
pub(crate) struct DatabaseTimer {
    metric: &'static str,
    started: Instant,
}

impl DatabaseTimer {
    /// Starts timing under the metric named `metric`.
    pub(crate) fn start(metric: &'static str) -> Self {
        Self {
            metric,
            started: Instant::now(),
        }
    }
}

impl Drop for DatabaseTimer {
    fn drop(&mut self) {
        metrics::histogram!(self.metric).record(self.started.elapsed().as_secs_f64() * 1_000.0);
    }
}
