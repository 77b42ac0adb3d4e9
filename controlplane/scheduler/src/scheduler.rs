//! The loop that keeps schedules. Of the schedulers on one database, the
//! one holding the lease leads: it reads the active schedules (when the
//! change counter moves, which it reads every poll interval and at once when
//! admin says a schedule changed), runs one task per schedule, and stops the
//! tasks of schedules turned off. The others only wait to take the lease
//! over once it runs out.
//!
//! Each task sleeps until its next time and launches it; after a restart or
//! a takeover it first launches, one after the other and oldest first,
//! every time it missed since its last launch (or its activation), as
//! flytescheduler's catch-up does, but only those within the catch-up
//! window. A schedule's failures delay only that schedule.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::time::Instant;
use tonic::Code;
use tonic::transport::Channel;
use updraft_proto::flyteidl::admin;
use updraft_proto::flyteidl::core;
use updraft_proto::flyteidl::service::admin_service_client::AdminServiceClient;

use crate::execution_names::scheduled_execution_name;
use crate::schedules::{LaunchPlanVersion, Schedule, ScheduleRules, Timing, protobuf_timestamp};
use crate::store::{ActiveSchedule, ScheduleStore};

/// How the scheduler runs.
#[derive(Debug, Clone)]
pub struct SchedulerSettings {
    /// How often the leader reads the schedule change counter (one row),
    /// and so how soon it sees a change admin made in another process
    /// without PostgreSQL's notifications. Admin in the same process wakes
    /// it at once (see [`Scheduler::wake_on_schedule_changes`]).
    pub poll_interval: Duration,
    /// The zone cron fields are read in, and whether offsets are honoured.
    pub rules: ScheduleRules,
    /// Missed times older than this are skipped instead of launched after
    /// a restart or a takeover; flytescheduler has no bound.
    pub catch_up_window: Duration,
    /// Launch calls to admin in flight at once, across all schedules.
    pub max_concurrent_launches: usize,
    /// How long the leader's lease lasts; it renews it three times as often,
    /// and a follower takes over this long after the leader last renewed.
    pub lease_duration: Duration,
}

impl Default for SchedulerSettings {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(500),
            rules: ScheduleRules::default(),
            catch_up_window: Duration::from_secs(3_600),
            max_concurrent_launches: 10,
            lease_duration: Duration::from_secs(15),
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
/// How long to wait before listening again after the listening connection
/// failed; the change counter covers the gap.
const LISTEN_RETRY_DELAY: Duration = Duration::from_secs(5);

/// What a scheduler is doing, for health pages and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SchedulerStatus {
    /// Whether it holds the lease, and so launches.
    pub leading: bool,
    /// Schedules it keeps (none unless it leads).
    pub schedules: usize,
}

/// The scheduler: call [`Scheduler::run`] to keep the schedules.
pub struct Scheduler {
    shared: Arc<Shared>,
    schedule_changes: Arc<Notify>,
    owner: String,
    status: watch::Sender<SchedulerStatus>,
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
            owner: new_owner_id(),
            status: watch::Sender::new(SchedulerStatus::default()),
        }
    }

    /// Reads the schedules again as soon as `changes` is notified (admin in
    /// the same process notifies it when it turns a schedule on or off).
    pub fn wake_on_schedule_changes(mut self, changes: Arc<Notify>) -> Self {
        self.schedule_changes = changes;
        self
    }

    /// The name this scheduler holds the lease under: unique per process.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// What the scheduler is doing, updated as it changes.
    pub fn status(&self) -> watch::Receiver<SchedulerStatus> {
        self.status.subscribe()
    }

    /// Keeps the schedules until the future is dropped, which stops every
    /// schedule's task with it (the lease then runs out on its own).
    pub async fn run(self) {
        self.run_until(std::future::pending()).await;
    }

    /// Keeps the schedules until `stop` completes, then stops every
    /// schedule's task and gives the lease up, so another scheduler leads
    /// at once.
    pub async fn run_until(self, stop: impl Future<Output = ()>) {
        let settings = &self.shared.settings;
        tracing::info!(
            owner = %self.owner,
            poll_interval = ?settings.poll_interval,
            time_zone = settings.rules.time_zone.iana_name().unwrap_or("local"),
            honour_offsets = settings.rules.honour_offsets,
            catch_up_window = ?settings.catch_up_window,
            "scheduler started"
        );
        let _listener = AbortOnDrop(tokio::spawn(forward_notifications(
            self.shared.store.clone(),
            self.schedule_changes.clone(),
        )));
        let renew_every = (settings.lease_duration / 3).max(Duration::from_millis(10));
        let mut tasks: HashMap<LaunchPlanVersion, ScheduleTask> = HashMap::new();
        let mut lead_until: Option<Instant> = None;
        let mut next_lease_check = Instant::now();
        let mut seen_changes: Option<i64> = None;
        tokio::pin!(stop);
        loop {
            if Instant::now() >= next_lease_check {
                let asked_at = Instant::now();
                next_lease_check = asked_at + renew_every;
                lead_until = self.take_or_renew_lease(lead_until, asked_at).await;
            }
            // Past its own deadline a leader stops even when it could not
            // hear back, since a follower may take over from then.
            let leading = lead_until.is_some_and(|until| Instant::now() < until);
            if leading {
                self.read_changes(&mut tasks, &mut seen_changes).await;
            } else if !tasks.is_empty() || lead_until.is_some() {
                tracing::warn!(owner = %self.owner, "no longer leading; stopping every schedule");
                lead_until = None;
                tasks.clear();
                seen_changes = None;
            }
            self.status.send_replace(SchedulerStatus {
                leading,
                schedules: tasks.len(),
            });
            metrics::gauge!("updraft:scheduler:active_schedules").set(tasks.len() as f64);
            metrics::gauge!("updraft:scheduler:leading").set(if leading { 1.0 } else { 0.0 });
            let wait = settings
                .poll_interval
                .min(next_lease_check.saturating_duration_since(Instant::now()));
            tokio::select! {
                biased;
                () = &mut stop => break,
                () = tokio::time::sleep(wait) => {}
                () = self.schedule_changes.notified() => {}
            }
        }
        tasks.clear();
        if lead_until.is_some() {
            match self.shared.store.release_lease(&self.owner).await {
                Ok(()) => tracing::info!(owner = %self.owner, "gave the lease up"),
                Err(error) => tracing::warn!(
                    owner = %self.owner,
                    error = %error_chain(&error),
                    "cannot give the lease up; another scheduler leads once it runs out"
                ),
            }
        }
        self.status.send_replace(SchedulerStatus::default());
    }

    /// Until when this scheduler leads, after asking for the lease at
    /// `asked_at` (local time, so a clock set back or forward changes
    /// nothing); `None` when another holds it.
    async fn take_or_renew_lease(
        &self,
        lead_until: Option<Instant>,
        asked_at: Instant,
    ) -> Option<Instant> {
        let lease_duration = self.shared.settings.lease_duration;
        match self
            .shared
            .store
            .take_or_renew_lease(&self.owner, Timestamp::now(), lease_duration)
            .await
        {
            Ok(true) => {
                if lead_until.is_none() {
                    tracing::info!(owner = %self.owner, "took the lease; leading");
                }
                Some(asked_at + lease_duration)
            }
            Ok(false) => {
                if lead_until.is_some() {
                    tracing::warn!(owner = %self.owner, "another scheduler took the lease");
                }
                None
            }
            Err(error) => {
                tracing::warn!(
                    owner = %self.owner,
                    error = %error_chain(&error),
                    "cannot take or renew the lease; trying again"
                );
                lead_until
            }
        }
    }

    /// Reads the schedules again if the change counter moved since
    /// `seen_changes` (or was never read).
    async fn read_changes(
        &self,
        tasks: &mut HashMap<LaunchPlanVersion, ScheduleTask>,
        seen_changes: &mut Option<i64>,
    ) {
        let store = &self.shared.store;
        // The counter first: a change committed between the two reads is
        // then read again next time rather than missed.
        let changes = match store.schedule_changes_version().await {
            Ok(changes) if Some(changes) == *seen_changes => return,
            Ok(changes) => changes,
            Err(error) => {
                tracing::warn!(
                    error = %error_chain(&error),
                    "cannot read the schedule change counter; trying again"
                );
                return;
            }
        };
        match store.list_active_schedules().await {
            Ok(active) => {
                self.reconcile(tasks, active);
                *seen_changes = Some(changes);
            }
            // The schedules already running keep running.
            Err(error) => tracing::warn!(
                error = %error_chain(&error),
                "cannot read the active schedules; trying again"
            ),
        }
    }

    fn reconcile(
        &self,
        tasks: &mut HashMap<LaunchPlanVersion, ScheduleTask>,
        mut active: Vec<ActiveSchedule>,
    ) {
        // Tasks queue for launch permits in the order they start, so after
        // an outage the schedules that missed the most start first.
        active.sort_by_key(ActiveSchedule::resume_after);
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
    }
}

/// Aborts a background task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A name unique to this process, that says in logs which one it is.
fn new_owner_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|host| !host.is_empty())
        .unwrap_or_else(|| "scheduler".to_string());
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}-{}-{}", std::process::id(), &nonce[..8])
}

/// Wakes `changes` on every notification admin sends on PostgreSQL; does
/// nothing on SQLite or a pool of unknown URL, where the counter is read
/// every poll interval instead.
async fn forward_notifications(store: ScheduleStore, changes: Arc<Notify>) {
    let mut listener = loop {
        match store.listen_for_schedule_changes().await {
            Ok(Some(listener)) => break listener,
            Ok(None) => return,
            Err(error) => {
                tracing::warn!(
                    error = %error_chain(&error),
                    "cannot listen for schedule changes; reading the counter meanwhile"
                );
                tokio::time::sleep(LISTEN_RETRY_DELAY).await;
            }
        }
    };
    loop {
        match listener.try_recv().await {
            Ok(Some(_)) => changes.notify_one(),
            // The connection was lost and is opened again at the next call;
            // a notification may have been lost with it.
            Ok(None) => changes.notify_one(),
            Err(error) => {
                tracing::warn!(%error, "lost the connection listening for schedule changes");
                tokio::time::sleep(LISTEN_RETRY_DELAY).await;
            }
        }
    }
}

/// What a schedule does next.
#[derive(Debug, Clone, PartialEq, Eq)]
enum NextStep {
    /// Launch this time now: it is due, or was missed within the window.
    Launch(Timestamp),
    /// Sleep until this time.
    WaitUntil(Timestamp),
    /// The times from `missed_since` on were missed longer ago than the
    /// window: go on after `resume_after`, the last of them.
    SkipMissed {
        /// The first time skipped.
        missed_since: Timestamp,
        /// The last time skipped.
        resume_after: Timestamp,
    },
    /// The schedule names no later time.
    Never,
}

/// The next step of `schedule` whose last time (launched, or activation)
/// is `after`, at `now`.
fn next_step(
    schedule: &Schedule,
    after: Timestamp,
    now: Timestamp,
    catch_up_window: Duration,
    rules: &ScheduleRules,
) -> NextStep {
    let Some(next) = schedule.next_after(after, rules) else {
        return NextStep::Never;
    };
    if next > now {
        return NextStep::WaitUntil(next);
    }
    let oldest_to_launch = now
        .checked_sub(SignedDuration::try_from(catch_up_window).unwrap_or(SignedDuration::MAX))
        .unwrap_or(Timestamp::MIN);
    if next >= oldest_to_launch {
        return NextStep::Launch(next);
    }
    let resume_after = match &schedule.timing {
        // Whole periods from the last time keep a fixed rate's phase.
        Timing::FixedRate { .. } => {
            let period = next.as_second() - after.as_second();
            let missed = oldest_to_launch.as_second() - next.as_second();
            // The last time before the window: `next` plus whole periods.
            let periods = if period > 0 { (missed - 1) / period } else { 0 };
            Timestamp::from_second(next.as_second() + periods * period).unwrap_or(next)
        }
        // The first cron time at or after the window's start follows this.
        Timing::Cron(_) => oldest_to_launch
            .checked_sub(SignedDuration::from_micros(1))
            .unwrap_or(next),
    };
    NextStep::SkipMissed {
        missed_since: next,
        resume_after: resume_after.max(next),
    }
}

/// Launches `schedule` at each of its times, forever.
async fn keep_schedule(shared: Arc<Shared>, schedule: ActiveSchedule) {
    let launch_plan = &schedule.launch_plan;
    let settings = &shared.settings;
    let mut after = schedule.resume_after();
    loop {
        let now = Timestamp::now();
        match next_step(
            &schedule.schedule,
            after,
            now,
            settings.catch_up_window,
            &settings.rules,
        ) {
            NextStep::Never => {
                tracing::warn!(%launch_plan, "the schedule names no later time; it never fires again");
                return;
            }
            NextStep::WaitUntil(next) => {
                let wait = now.duration_until(next).unsigned_abs();
                tokio::time::sleep(wait.min(MAX_SLEEP)).await;
            }
            NextStep::SkipMissed {
                missed_since,
                resume_after,
            } => {
                tracing::warn!(
                    %launch_plan,
                    %missed_since,
                    until = %resume_after,
                    window = ?settings.catch_up_window,
                    "skipping the times missed before the catch-up window"
                );
                after = resume_after;
            }
            NextStep::Launch(next) => {
                // Boxed: a task's future is as large as its largest await,
                // and the gRPC call and the query are kilobytes that ten
                // thousand sleeping schedules would otherwise each hold.
                Box::pin(launch(&shared, &schedule, next)).await;
                let recorded = Box::pin(shared.store.record_launch(launch_plan, next)).await;
                if let Err(error) = recorded {
                    // The next launches go on; a restart before the record
                    // is written relaunches this time, which admin refuses.
                    tracing::warn!(%launch_plan, error = %error_chain(&error), "cannot record a launch");
                }
                after = next;
            }
        }
    }
}

/// Asks admin for the execution of `schedule` at `scheduled_at`, retrying
/// what may pass; an execution of that name already there counts as done.
async fn launch(shared: &Shared, schedule: &ActiveSchedule, scheduled_at: Timestamp) {
    let launch_plan = &schedule.launch_plan;
    let name = scheduled_execution_name(launch_plan, scheduled_at);
    let request = launch_request(schedule, &name, scheduled_at, &shared.settings.rules);
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
    rules: &ScheduleRules,
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
        inputs: Some(schedule.schedule.launch_inputs(scheduled_at, rules)),
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
    metrics::describe_gauge!(
        "updraft:scheduler:leading",
        "1 while this scheduler holds the lease and launches, 0 while it follows"
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cron::CronExpression;

    const HOUR: Duration = Duration::from_secs(3_600);

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn cron(expression: &str) -> Schedule {
        Schedule {
            timing: Timing::Cron(CronExpression::parse(expression).unwrap()),
            kickoff_time_input_arg: String::new(),
            offset: None,
        }
    }

    fn every_minutes(value: u32) -> Schedule {
        Schedule {
            timing: Timing::fixed_rate(value, admin::FixedRateUnit::Minute as i32).unwrap(),
            kickoff_time_input_arg: String::new(),
            offset: None,
        }
    }

    /// The times `schedule` launches, oldest first, resuming after `after`
    /// at `now` with the default settings, up to the first it waits for.
    fn catch_up(schedule: &Schedule, mut after: Timestamp, now: Timestamp) -> Vec<String> {
        let settings = SchedulerSettings::default();
        let mut launched = Vec::new();
        loop {
            match next_step(
                schedule,
                after,
                now,
                settings.catch_up_window,
                &settings.rules,
            ) {
                NextStep::Launch(time) => {
                    launched.push(time.to_string());
                    after = time;
                }
                NextStep::SkipMissed { resume_after, .. } => {
                    assert!(resume_after >= after);
                    after = resume_after;
                }
                NextStep::WaitUntil(_) | NextStep::Never => return launched,
            }
        }
    }

    #[test]
    fn the_defaults_are_utc_an_hour_of_catch_up_and_a_short_poll() {
        let settings = SchedulerSettings::default();
        assert_eq!(settings.rules.time_zone.iana_name(), Some("UTC"));
        assert!(!settings.rules.honour_offsets);
        assert_eq!(settings.catch_up_window, HOUR);
        assert!(settings.poll_interval < Duration::from_secs(1));
        assert!(settings.lease_duration / 3 >= settings.poll_interval);
    }

    #[test]
    fn a_due_time_is_launched_and_a_later_one_waited_for() {
        let hourly = cron("0 * * * *");
        let rules = ScheduleRules::default();
        assert_eq!(
            next_step(
                &hourly,
                at("2024-01-01T09:00:00Z"),
                at("2024-01-01T10:00:00.2Z"),
                HOUR,
                &rules
            ),
            NextStep::Launch(at("2024-01-01T10:00:00Z"))
        );
        assert_eq!(
            next_step(
                &hourly,
                at("2024-01-01T10:00:00Z"),
                at("2024-01-01T10:00:00.2Z"),
                HOUR,
                &rules
            ),
            NextStep::WaitUntil(at("2024-01-01T11:00:00Z"))
        );
    }

    #[test]
    fn catch_up_launches_only_the_last_hour_oldest_first() {
        // Down from 03:00 to 12:20: the 11:30 to 12:15 times are launched.
        let every_quarter = cron("*/15 * * * *");
        assert_eq!(
            catch_up(
                &every_quarter,
                at("2024-01-01T03:00:00Z"),
                at("2024-01-01T12:20:00Z")
            ),
            [
                "2024-01-01T11:30:00Z",
                "2024-01-01T11:45:00Z",
                "2024-01-01T12:00:00Z",
                "2024-01-01T12:15:00Z"
            ]
        );
        // Nothing missed within the window: nothing launched late.
        assert!(
            catch_up(
                &cron("0 0 * * *"),
                at("2024-01-01T00:00:00Z"),
                at("2024-01-03T12:00:00Z")
            )
            .is_empty()
        );
    }

    #[test]
    fn catch_up_keeps_a_fixed_rates_phase() {
        // Every 25 minutes from 00:07 (not aligned to the clock), down for
        // a day: the times within the last hour, in the same phase.
        let launched = catch_up(
            &every_minutes(25),
            at("2024-01-01T00:07:00Z"),
            at("2024-01-02T00:00:00Z"),
        );
        assert_eq!(
            launched,
            [
                "2024-01-01T23:02:00Z",
                "2024-01-01T23:27:00Z",
                "2024-01-01T23:52:00Z"
            ]
        );
    }

    #[test]
    fn a_long_outage_is_skipped_in_one_step() {
        // A month of one-second times: one step, not millions.
        let every_second = cron("@every 1s");
        let step = next_step(
            &every_second,
            at("2024-01-01T00:00:00Z"),
            at("2024-02-01T00:00:00Z"),
            HOUR,
            &ScheduleRules::default(),
        );
        assert_eq!(
            step,
            NextStep::SkipMissed {
                missed_since: at("2024-01-01T00:00:01Z"),
                resume_after: at("2024-01-31T22:59:59.999999Z"),
            }
        );
    }

    #[tokio::test]
    async fn a_sleeping_schedule_holds_little_memory() {
        // Ten thousand schedules are ten thousand tasks, each as large as
        // its future: the launch and its record are boxed so that a
        // sleeping schedule holds little more than the schedule itself.
        let store = ScheduleStore::connect("sqlite::memory:").await.unwrap();
        let admin = tonic::transport::Endpoint::from_static("http://127.0.0.1:1").connect_lazy();
        let scheduler = Scheduler::new(store, admin, SchedulerSettings::default());
        let schedule = ActiveSchedule {
            launch_plan: LaunchPlanVersion {
                project: "flytesnacks".into(),
                domain: "development".into(),
                name: "nightly".into(),
                version: "v1".into(),
            },
            schedule: cron("0 3 * * *"),
            activated_at: at("2024-01-01T00:00:00Z"),
            last_fired_at: None,
        };
        let task = keep_schedule(scheduler.shared.clone(), schedule);
        let size = std::mem::size_of_val(&task);
        assert!(size <= 2_048, "a schedule's task is {size} bytes");
    }
}
