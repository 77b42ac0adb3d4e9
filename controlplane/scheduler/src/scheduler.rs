//! The loop that keeps schedules: it reads the active schedules (every
//! poll interval, and at once when told admin changed one), runs one task
//! per schedule, and stops the tasks of schedules turned off.
//!
//! Each task sleeps until its next time and launches it; after a restart it
//! first launches, one after the other, every time it missed since its last
//! launch (or its activation), as flytescheduler's catch-up does, unless a
//! catch-up window says to skip those older than the window. A schedule's
//! failures delay only that schedule.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use tokio::sync::{Notify, Semaphore};
use tonic::Code;
use tonic::transport::Channel;
use updraft_proto::flyteidl::admin;
use updraft_proto::flyteidl::core;
use updraft_proto::flyteidl::service::admin_service_client::AdminServiceClient;

use crate::execution_names::scheduled_execution_name;
use crate::schedules::{LaunchPlanVersion, protobuf_timestamp};
use crate::store::{ActiveSchedule, ScheduleStore};

/// How the scheduler runs.
#[derive(Debug, Clone)]
pub struct SchedulerSettings {
    /// How often the active schedules are read again. Admin in the same
    /// process also wakes the scheduler at once (see
    /// [`Scheduler::wake_on_schedule_changes`]); no time is lost either
    /// way, since a schedule fires from its activation time.
    pub poll_interval: Duration,
    /// The zone cron fields are read in, unless an expression names its
    /// own with `CRON_TZ=`. flytescheduler uses the process's local zone.
    pub time_zone: TimeZone,
    /// Missed times older than this are skipped instead of launched after
    /// a restart; `None` launches every one, as flytescheduler does.
    pub catch_up_window: Option<Duration>,
    /// Launch calls to admin in flight at once, across all schedules.
    pub max_concurrent_launches: usize,
}

impl Default for SchedulerSettings {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(10),
            time_zone: TimeZone::system(),
            catch_up_window: None,
            max_concurrent_launches: 10,
        }
    }
}

/// How long one launch call may take before it is retried.
const LAUNCH_CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Attempts at one launch that admin keeps failing for a reason that may
/// pass (unavailable, overloaded); then the time is given up, as
/// flytescheduler gives up after its 30.
const MAX_LAUNCH_ATTEMPTS: u32 = 30;
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(100);
const MAX_RETRY_DELAY: Duration = Duration::from_secs(60);
/// A sleeping schedule looks at the clock at least this often, so a clock
/// set forward or back moves its next launch with it.
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// The scheduler: call [`Scheduler::run`] to keep the schedules.
pub struct Scheduler {
    shared: Arc<Shared>,
    schedule_changes: Arc<Notify>,
}

struct Shared {
    store: ScheduleStore,
    admin: AdminServiceClient<Channel>,
    settings: SchedulerSettings,
    launches_in_flight: Semaphore,
}

/// A schedule's task; dropping it stops the task.
struct ScheduleTask {
    activated_at: Timestamp,
    handle: tokio::task::JoinHandle<()>,
}

impl Drop for ScheduleTask {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

impl Scheduler {
    /// A scheduler over `store` that launches through the admin at `admin`.
    pub fn new(store: ScheduleStore, admin: Channel, settings: SchedulerSettings) -> Self {
        let launches_in_flight = Semaphore::new(settings.max_concurrent_launches.max(1));
        Self {
            shared: Arc::new(Shared {
                store,
                admin: AdminServiceClient::new(admin),
                settings,
                launches_in_flight,
            }),
            schedule_changes: Arc::new(Notify::new()),
        }
    }

    /// Reads the schedules again as soon as `changes` is notified (admin in
    /// the same process notifies it when it turns a schedule on or off).
    pub fn wake_on_schedule_changes(mut self, changes: Arc<Notify>) -> Self {
        self.schedule_changes = changes;
        self
    }

    /// Keeps the schedules until the future is dropped, which stops every
    /// schedule's task with it.
    pub async fn run(self) {
        let mut tasks: HashMap<LaunchPlanVersion, ScheduleTask> = HashMap::new();
        tracing::info!(
            poll_interval = ?self.shared.settings.poll_interval,
            time_zone = self.shared.settings.time_zone.iana_name().unwrap_or("local"),
            "scheduler started"
        );
        loop {
            match self.shared.store.list_active_schedules().await {
                Ok(active) => self.reconcile(&mut tasks, active),
                // The schedules already running keep running.
                Err(error) => tracing::warn!(
                    error = %error_chain(&error),
                    "cannot read the active schedules; trying again"
                ),
            }
            tokio::select! {
                () = tokio::time::sleep(self.shared.settings.poll_interval) => {}
                () = self.schedule_changes.notified() => {}
            }
        }
    }

    fn reconcile(
        &self,
        tasks: &mut HashMap<LaunchPlanVersion, ScheduleTask>,
        active: Vec<ActiveSchedule>,
    ) {
        let mut still_active = HashMap::with_capacity(active.len());
        for schedule in active {
            let key = schedule.launch_plan.clone();
            let task = match tasks.remove(&key) {
                // The same activation, still running: left alone.
                Some(task)
                    if task.activated_at == schedule.activated_at && !task.handle.is_finished() =>
                {
                    task
                }
                _ => {
                    tracing::info!(launch_plan = %key, "schedule on");
                    ScheduleTask {
                        activated_at: schedule.activated_at,
                        handle: tokio::spawn(keep_schedule(self.shared.clone(), schedule)),
                    }
                }
            };
            still_active.insert(key, task);
        }
        for key in tasks.keys() {
            tracing::info!(launch_plan = %key, "schedule off");
        }
        // Dropping the rest stops them.
        *tasks = still_active;
        metrics::gauge!("updraft:scheduler:active_schedules").set(tasks.len() as f64);
    }
}

/// Launches `schedule` at each of its times, forever.
async fn keep_schedule(shared: Arc<Shared>, schedule: ActiveSchedule) {
    let launch_plan = &schedule.launch_plan;
    let time_zone = &shared.settings.time_zone;
    let mut after = schedule.resume_after();
    loop {
        let Some(next) = schedule.schedule.next_after(after, time_zone) else {
            tracing::warn!(%launch_plan, "the schedule names no later time; it never fires again");
            return;
        };
        let now = Timestamp::now();
        if let Some(window) = shared.settings.catch_up_window {
            let oldest_to_launch = now
                .checked_sub(SignedDuration::try_from(window).unwrap_or(SignedDuration::MAX))
                .unwrap_or(Timestamp::MIN);
            if next < oldest_to_launch {
                // Stepping through the skipped times keeps a fixed rate's
                // phase; they are only additions.
                let mut skipped = 0_u64;
                let mut candidate = Some(next);
                while let Some(time) = candidate.filter(|time| *time < oldest_to_launch) {
                    skipped += 1;
                    after = time;
                    candidate = schedule.schedule.next_after(after, time_zone);
                }
                tracing::warn!(
                    %launch_plan,
                    skipped,
                    missed_since = %next,
                    "skipping the times missed before the catch-up window"
                );
                continue;
            }
        }
        if next > now {
            let wait = now.duration_until(next).unsigned_abs();
            tokio::time::sleep(wait.min(MAX_SLEEP)).await;
            continue;
        }
        launch(&shared, &schedule, next).await;
        if let Err(error) = shared.store.record_launch(launch_plan, next).await {
            // The next launches go on; a restart before the record is
            // written relaunches this time, which admin then refuses.
            tracing::warn!(%launch_plan, error = %error_chain(&error), "cannot record a launch");
        }
        after = next;
    }
}

/// Asks admin for the execution of `schedule` at `scheduled_at`, retrying
/// what may pass; an execution of that name already there counts as done.
async fn launch(shared: &Shared, schedule: &ActiveSchedule, scheduled_at: Timestamp) {
    let launch_plan = &schedule.launch_plan;
    let name = scheduled_execution_name(launch_plan, scheduled_at);
    let request = launch_request(schedule, &name, scheduled_at);
    let mut retry_delay = FIRST_RETRY_DELAY;
    for attempt in 1..=MAX_LAUNCH_ATTEMPTS {
        let answer = {
            let _permit = shared.launches_in_flight.acquire().await;
            let mut call = tonic::Request::new(request.clone());
            call.set_timeout(LAUNCH_CALL_TIMEOUT);
            shared.admin.clone().create_execution(call).await
        };
        let lateness = scheduled_at.duration_until(Timestamp::now());
        match answer {
            Ok(_) => {
                metrics::counter!("flyte:flytescheduler:successful_execution_counter").increment(1);
                metrics::histogram!("updraft:scheduler:launch_delay_ms")
                    .record(lateness.as_secs_f64() * 1_000.0);
                tracing::info!(%launch_plan, execution = %name, %scheduled_at, "launched");
                return;
            }
            Err(status) if status.code() == Code::AlreadyExists => {
                metrics::counter!("flyte:flytescheduler:successful_execution_counter").increment(1);
                tracing::debug!(%launch_plan, execution = %name, "already launched");
                return;
            }
            Err(status) => {
                metrics::counter!("flyte:flytescheduler:failed_execution_counter").increment(1);
                if !may_pass(status.code()) {
                    // Retrying a refusal only repeats it; the next time may fare better
                    // (the launch plan fixed, the project restored).
                    tracing::error!(
                        %launch_plan,
                        execution = %name,
                        %scheduled_at,
                        code = ?status.code(),
                        message = status.message(),
                        "admin refused the scheduled launch; skipping this time"
                    );
                    return;
                }
                tracing::warn!(
                    %launch_plan,
                    execution = %name,
                    attempt,
                    code = ?status.code(),
                    message = status.message(),
                    "scheduled launch failed; retrying"
                );
                tokio::time::sleep(retry_delay).await;
                retry_delay = (retry_delay * 2).min(MAX_RETRY_DELAY);
            }
        }
    }
    tracing::error!(
        %launch_plan,
        execution = %name,
        %scheduled_at,
        attempts = MAX_LAUNCH_ATTEMPTS,
        "giving up on a scheduled launch"
    );
}

/// Whether a failure may pass if the same call is made again.
fn may_pass(code: Code) -> bool {
    matches!(
        code,
        Code::Unavailable
            | Code::DeadlineExceeded
            | Code::ResourceExhausted
            | Code::Aborted
            | Code::Internal
            | Code::Unknown
            | Code::Cancelled
    )
}

/// The request flytescheduler sends: the launch plan, mode SCHEDULED, the
/// scheduled time, and only the kickoff input; admin fills in the rest
/// from the launch plan.
fn launch_request(
    schedule: &ActiveSchedule,
    name: &str,
    scheduled_at: Timestamp,
) -> admin::ExecutionCreateRequest {
    let launch_plan = &schedule.launch_plan;
    admin::ExecutionCreateRequest {
        project: launch_plan.project.clone(),
        domain: launch_plan.domain.clone(),
        name: name.to_string(),
        spec: Some(admin::ExecutionSpec {
            launch_plan: Some(core::Identifier {
                resource_type: core::ResourceType::LaunchPlan as i32,
                project: launch_plan.project.clone(),
                domain: launch_plan.domain.clone(),
                name: launch_plan.name.clone(),
                version: launch_plan.version.clone(),
                ..Default::default()
            }),
            metadata: Some(admin::ExecutionMetadata {
                mode: admin::execution_metadata::ExecutionMode::Scheduled as i32,
                scheduled_at: Some(protobuf_timestamp(scheduled_at)),
                ..Default::default()
            }),
            ..Default::default()
        }),
        inputs: Some(schedule.schedule.launch_inputs(scheduled_at)),
        ..Default::default()
    }
}

/// Describes the scheduler's metrics for the Prometheus exporter.
pub fn describe_scheduler_metrics() {
    metrics::describe_counter!(
        "flyte:flytescheduler:successful_execution_counter",
        "scheduled times launched (or found already launched)"
    );
    metrics::describe_counter!(
        "flyte:flytescheduler:failed_execution_counter",
        "failed attempts to launch a scheduled time"
    );
    metrics::describe_gauge!(
        "updraft:scheduler:active_schedules",
        "schedules this scheduler keeps"
    );
    metrics::describe_histogram!(
        "updraft:scheduler:launch_delay_ms",
        metrics::Unit::Milliseconds,
        "from a scheduled time to admin accepting its execution"
    );
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
