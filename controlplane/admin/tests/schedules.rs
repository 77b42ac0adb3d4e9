//! Scheduled launch plans end to end: admin checks a schedule at
//! registration and turns it on and off with the launch plan; a real
//! scheduler, over admin's database and calling admin over gRPC, launches
//! the scheduled times as flytescheduler does.

mod common;

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{
    DOMAIN, PROJECT, TestApp, assert_status, identifier, integer, integer_variable, list_request,
    on_every_backend, task_request, workflow_request,
};
use jiff::Timestamp;
use updraft_proto::flyteidl::core::ResourceType;
use updraft_proto::flyteidl::{admin, core};
use updraft_scheduler::execution_names::scheduled_execution_name;
use updraft_scheduler::schedules::datetime_literal;
use updraft_scheduler::{
    LaunchPlanVersion, ScheduleRules, ScheduleStore, Scheduler, SchedulerSettings, SchedulerStatus,
};

on_every_backend!(
    registration_refuses_schedules_that_cannot_run,
    activation_turns_the_schedule_on_and_off,
    missed_times_are_launched_once_under_flytescheduler_names,
    a_refused_launch_skips_its_time_and_other_schedules_go_on,
    a_catch_up_window_skips_older_times,
    activation_wakes_the_scheduler_and_deactivation_stops_it,
    a_scheduler_in_another_process_sees_changes_within_a_second,
    two_schedulers_on_one_database_launch_once_and_one_leads,
    honoured_offsets_move_cron_times_and_kick_fixed_rates_off,
    another_pool_reads_each_change_at_once,
);

const VERSION: &str = "s1";
const HOUR: i64 = 3_600;

fn datetime_variable() -> core::Variable {
    core::Variable {
        r#type: Some(core::LiteralType {
            r#type: Some(core::literal_type::Type::Simple(
                core::SimpleType::Datetime as i32,
            )),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The `add` task and a workflow `swf(a, b, kickoff: datetime)`.
async fn register_scheduled_workflow(app: &mut TestApp) {
    app.admin
        .create_task(task_request("add", VERSION))
        .await
        .unwrap();
    let mut workflow = workflow_request("swf", "add", VERSION);
    workflow
        .spec
        .as_mut()
        .and_then(|spec| spec.template.as_mut())
        .and_then(|template| template.interface.as_mut())
        .and_then(|interface| interface.inputs.as_mut())
        .unwrap()
        .variables
        .insert("kickoff".to_string(), datetime_variable());
    app.admin.create_workflow(workflow).await.unwrap();
}

fn cron(expression: &str) -> admin::Schedule {
    admin::Schedule {
        kickoff_time_input_arg: "kickoff".to_string(),
        schedule_expression: Some(admin::schedule::ScheduleExpression::CronSchedule(
            admin::CronSchedule {
                schedule: expression.to_string(),
                offset: String::new(),
            },
        )),
    }
}

fn hourly_rate() -> admin::Schedule {
    admin::Schedule {
        kickoff_time_input_arg: "kickoff".to_string(),
        schedule_expression: Some(admin::schedule::ScheduleExpression::Rate(
            admin::FixedRate {
                value: 1,
                unit: admin::FixedRateUnit::Hour as i32,
            },
        )),
    }
}

fn required() -> Option<core::parameter::Behavior> {
    Some(core::parameter::Behavior::Required(true))
}

/// A launch plan of `swf` named `name` with `schedule`: `a` and `b` default
/// to 3 and 4 and `kickoff` is required, unless `parameters` says otherwise.
fn scheduled_launch_plan(
    name: &str,
    schedule: admin::Schedule,
    parameters: &[(&str, core::Variable, Option<core::parameter::Behavior>)],
) -> admin::LaunchPlanCreateRequest {
    let mut defaults = HashMap::from([
        (
            "a".to_string(),
            core::Parameter {
                var: Some(integer_variable()),
                behavior: Some(core::parameter::Behavior::Default(integer(3))),
            },
        ),
        (
            "b".to_string(),
            core::Parameter {
                var: Some(integer_variable()),
                behavior: Some(core::parameter::Behavior::Default(integer(4))),
            },
        ),
        (
            "kickoff".to_string(),
            core::Parameter {
                var: Some(datetime_variable()),
                behavior: required(),
            },
        ),
    ]);
    for (input, variable, behavior) in parameters {
        defaults.insert(
            input.to_string(),
            core::Parameter {
                var: Some(variable.clone()),
                behavior: behavior.clone(),
            },
        );
    }
    admin::LaunchPlanCreateRequest {
        id: Some(identifier(ResourceType::LaunchPlan, name, VERSION)),
        spec: Some(admin::LaunchPlanSpec {
            workflow_id: Some(identifier(ResourceType::Workflow, "swf", VERSION)),
            entity_metadata: Some(admin::LaunchPlanMetadata {
                schedule: Some(schedule),
                ..Default::default()
            }),
            default_inputs: Some(core::ParameterMap {
                parameters: defaults,
            }),
            ..Default::default()
        }),
    }
}

async fn set_state(app: &mut TestApp, name: &str, version: &str, state: admin::LaunchPlanState) {
    app.admin
        .update_launch_plan(admin::LaunchPlanUpdateRequest {
            id: Some(identifier(ResourceType::LaunchPlan, name, version)),
            state: state as i32,
        })
        .await
        .unwrap();
}

fn launch_plan_version(name: &str) -> LaunchPlanVersion {
    LaunchPlanVersion {
        project: PROJECT.to_string(),
        domain: DOMAIN.to_string(),
        name: name.to_string(),
        version: VERSION.to_string(),
    }
}

async fn schedule_store(app: &TestApp) -> ScheduleStore {
    let store = app.api.store();
    ScheduleStore::on_pool(store.pool().clone(), store.dialect())
        .await
        .unwrap()
}

/// A scheduler over `app`'s database and gRPC address, running until
/// dropped (which, like a crash, keeps its lease until it runs out) or
/// stopped.
struct RunningScheduler {
    task: tokio::task::JoinHandle<()>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    status: tokio::sync::watch::Receiver<SchedulerStatus>,
}

impl Drop for RunningScheduler {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RunningScheduler {
    /// Stops it as the server does: it gives its lease up.
    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        (&mut self.task).await.unwrap();
    }

    /// Waits (at most 20 s) until its status satisfies `done`.
    async fn wait_until(&mut self, what: &str, done: impl Fn(&SchedulerStatus) -> bool) {
        tokio::time::timeout(Duration::from_secs(20), self.status.wait_for(done))
            .await
            .unwrap_or_else(|_| panic!("the scheduler never got to {what}"))
            .unwrap();
    }
}

async fn start_scheduler(app: &TestApp, settings: SchedulerSettings) -> RunningScheduler {
    let scheduler = Scheduler::new(schedule_store(app).await, admin_channel(app), settings)
        .wake_on_schedule_changes(app.api.schedule_changes());
    spawn_scheduler(scheduler)
}

/// A scheduler as `updraft scheduler` runs one: its own pool on the
/// database, nothing shared with admin but the database and the gRPC port.
async fn start_scheduler_of_its_own(
    app: &TestApp,
    settings: SchedulerSettings,
) -> RunningScheduler {
    let store = ScheduleStore::connect(&app.database_url).await.unwrap();
    spawn_scheduler(Scheduler::new(store, admin_channel(app), settings))
}

fn admin_channel(app: &TestApp) -> tonic::transport::Channel {
    tonic::transport::Endpoint::from_shared(app.http_base.clone())
        .unwrap()
        .connect_lazy()
}

fn spawn_scheduler(scheduler: Scheduler) -> RunningScheduler {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let status = scheduler.status();
    let task = tokio::spawn(scheduler.run_until(async move {
        let _ = stopped.await;
    }));
    RunningScheduler {
        task,
        stop: Some(stop),
        status,
    }
}

fn utc_settings() -> SchedulerSettings {
    SchedulerSettings {
        poll_interval: Duration::from_millis(200),
        // Short, so a scheduler started after one dropped (a crash) leads
        // soon; the default leaves 15 s.
        lease_duration: Duration::from_secs(1),
        // The tests pretend schedules were on for hours; the default hour
        // of catch-up would skip most of what they check.
        catch_up_window: Duration::from_secs(24 * 3_600),
        ..SchedulerSettings::default()
    }
}

fn unix_seconds_now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

/// Pretends `name`'s schedule was turned on at `unix_seconds`, moving the
/// change counter as admin does, so a running scheduler reads it again.
async fn backdate_activation(app: &TestApp, name: &str, unix_seconds: i64) {
    let pool = app.api.store().pool();
    sqlx::query("UPDATE active_schedules SET activated_at = $1 WHERE name = $2")
        .bind(unix_seconds * 1_000_000)
        .bind(name.to_string())
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE schedule_changes SET version = version + 1")
        .execute(pool)
        .await
        .unwrap();
}

async fn scheduled_executions(app: &mut TestApp, launch_plan: &str) -> Vec<admin::Execution> {
    let mut executions = app
        .admin
        .list_executions(list_request("", 100))
        .await
        .unwrap()
        .into_inner()
        .executions;
    executions.retain(|execution| {
        execution
            .spec
            .as_ref()
            .and_then(|spec| spec.launch_plan.as_ref())
            .is_some_and(|id| id.name == launch_plan)
    });
    executions.sort_by_key(|execution| scheduled_at(execution).as_second());
    executions
}

fn scheduled_at(execution: &admin::Execution) -> Timestamp {
    let at = execution
        .spec
        .as_ref()
        .and_then(|spec| spec.metadata.as_ref())
        .and_then(|metadata| metadata.scheduled_at.as_ref())
        .expect("a scheduled execution has scheduled_at");
    Timestamp::new(at.seconds, at.nanos).unwrap()
}

/// Waits (at most 20 s) until `done` holds of `launch_plan`'s executions.
async fn wait_for_executions(
    app: &mut TestApp,
    launch_plan: &str,
    done: impl Fn(&[admin::Execution]) -> bool,
) -> Vec<admin::Execution> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let executions = scheduled_executions(app, launch_plan).await;
        if done(&executions) {
            return executions;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting; executions of {launch_plan} so far: {:?}",
            executions
                .iter()
                .map(|execution| scheduled_at(execution).to_string())
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits (at most 20 s) until the scheduler has recorded launching
/// `launch_plan` at `unix_seconds`.
async fn wait_for_recorded_launch(app: &TestApp, launch_plan: &str, unix_seconds: i64) {
    let store = schedule_store(app).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let recorded = store
            .list_active_schedules()
            .await
            .unwrap()
            .into_iter()
            .find(|schedule| schedule.launch_plan.name == launch_plan)
            .and_then(|schedule| schedule.last_fired_at);
        if recorded.map(|at| at.as_second()) == Some(unix_seconds) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the launch of {launch_plan} at {unix_seconds} was never recorded (last: {recorded:?})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn registration_refuses_schedules_that_cannot_run() {
    let mut app = TestApp::spawn().await;
    register_scheduled_workflow(&mut app).await;
    let refusals = [
        (
            scheduled_launch_plan(
                "unbound",
                cron("0 * * * *"),
                &[("a", integer_variable(), required())],
            ),
            "\"a\" is one: give it a default or a fixed value",
        ),
        (
            scheduled_launch_plan(
                "kickoff_not_a_datetime",
                admin::Schedule {
                    kickoff_time_input_arg: "b".to_string(),
                    ..cron("0 * * * *")
                },
                &[("kickoff", datetime_variable(), None)],
            ),
            "\"b\" must be a datetime input, not INTEGER",
        ),
        (
            scheduled_launch_plan(
                "kickoff_missing",
                admin::Schedule {
                    kickoff_time_input_arg: "started".to_string(),
                    ..cron("0 * * * *")
                },
                &[("kickoff", datetime_variable(), None)],
            ),
            "\"started\" is not a free input",
        ),
        (
            scheduled_launch_plan("bad_cron", cron("hourly"), &[]),
            "invalid cron expression \"hourly\": expected exactly 5 fields",
        ),
        (
            scheduled_launch_plan("seconds", cron("0 0 * * * *"), &[]),
            "found 6",
        ),
        (
            scheduled_launch_plan(
                "aws",
                #[allow(deprecated)]
                admin::Schedule {
                    kickoff_time_input_arg: "kickoff".to_string(),
                    schedule_expression: Some(admin::schedule::ScheduleExpression::CronExpression(
                        "0/15 * * * ? *".to_string(),
                    )),
                },
                &[],
            ),
            "use schedule.cron_schedule",
        ),
        (
            scheduled_launch_plan(
                "never",
                admin::Schedule {
                    schedule_expression: Some(admin::schedule::ScheduleExpression::Rate(
                        admin::FixedRate {
                            value: 0,
                            unit: admin::FixedRateUnit::Minute as i32,
                        },
                    )),
                    ..hourly_rate()
                },
                &[],
            ),
            "at least 1",
        ),
    ];
    for (request, fragment) in refusals {
        assert_status(
            app.admin.create_launch_plan(request).await,
            tonic::Code::InvalidArgument,
            fragment,
        );
    }
    // The kickoff input is the one required input a schedule may leave
    // unbound; `@every` and zone prefixes are cron as flyteadmin reads it.
    for (name, schedule) in [
        ("hourly", cron("0 * * * *")),
        ("every", cron("@every 90s")),
        ("zoned", cron("CRON_TZ=Europe/Paris 0 9 * * mon-fri")),
        ("rate", hourly_rate()),
    ] {
        app.admin
            .create_launch_plan(scheduled_launch_plan(name, schedule, &[]))
            .await
            .unwrap_or_else(|status| panic!("{name}: {status:?}"));
    }
}

async fn activation_turns_the_schedule_on_and_off() {
    let mut app = TestApp::spawn().await;
    register_scheduled_workflow(&mut app).await;
    app.admin
        .create_launch_plan(scheduled_launch_plan("nightly", cron("0 3 * * *"), &[]))
        .await
        .unwrap();
    let mut second = scheduled_launch_plan("nightly", hourly_rate(), &[]);
    second.id.as_mut().unwrap().version = "s2".to_string();
    app.admin.create_launch_plan(second).await.unwrap();
    let store = schedule_store(&app).await;
    let active = || async {
        store
            .list_active_schedules()
            .await
            .unwrap()
            .into_iter()
            .map(|schedule| schedule.launch_plan.to_string())
            .collect::<Vec<_>>()
    };
    assert!(active().await.is_empty(), "launch plans start inactive");

    let changes = app.api.schedule_changes();
    let changed = changes.notified();
    set_state(&mut app, "nightly", VERSION, admin::LaunchPlanState::Active).await;
    tokio::time::timeout(Duration::from_secs(1), changed)
        .await
        .expect("activation tells a scheduler in the process");
    assert_eq!(active().await, ["flytesnacks/development/nightly/s1"]);

    set_state(&mut app, "nightly", "s2", admin::LaunchPlanState::Active).await;
    assert_eq!(
        active().await,
        ["flytesnacks/development/nightly/s2"],
        "the newly active version's schedule replaces the old one's"
    );

    set_state(&mut app, "nightly", "s2", admin::LaunchPlanState::Inactive).await;
    assert!(active().await.is_empty());
    let state = app
        .admin
        .get_launch_plan(common::get_request(identifier(
            ResourceType::LaunchPlan,
            "nightly",
            "s2",
        )))
        .await
        .unwrap()
        .into_inner()
        .closure
        .unwrap()
        .state;
    assert_eq!(state, admin::LaunchPlanState::Inactive as i32);
}

async fn missed_times_are_launched_once_under_flytescheduler_names() {
    let mut app = TestApp::spawn().await;
    register_scheduled_workflow(&mut app).await;
    app.admin
        .create_launch_plan(scheduled_launch_plan("hourly", cron("0 * * * *"), &[]))
        .await
        .unwrap();
    set_state(&mut app, "hourly", VERSION, admin::LaunchPlanState::Active).await;
    // On since just after three hours ago: three top-of-hour times passed.
    let this_hour = unix_seconds_now() / HOUR * HOUR;
    backdate_activation(&app, "hourly", this_hour - 3 * HOUR + 1).await;
    let scheduler = start_scheduler(&app, utc_settings()).await;

    let executions = wait_for_executions(&mut app, "hourly", |found| found.len() == 3).await;
    wait_for_recorded_launch(&app, "hourly", this_hour).await;
    let expected_times: Vec<i64> = (0..3).map(|back| this_hour - (2 - back) * HOUR).collect();
    for (execution, expected) in executions.iter().zip(&expected_times) {
        let at = Timestamp::from_second(*expected).unwrap();
        assert_eq!(scheduled_at(execution), at);
        let id = execution.id.as_ref().unwrap();
        assert_eq!(
            id.name,
            scheduled_execution_name(&launch_plan_version("hourly"), at)
        );
        assert!(id.name.starts_with('f') && id.name.ends_with("000"));
        let metadata = execution.spec.as_ref().unwrap().metadata.as_ref().unwrap();
        assert_eq!(
            metadata.mode,
            admin::execution_metadata::ExecutionMode::Scheduled as i32
        );
        let inputs = app
            .admin
            .get_execution_data(admin::WorkflowExecutionGetDataRequest {
                id: Some(id.clone()),
            })
            .await
            .unwrap()
            .into_inner()
            .full_inputs
            .unwrap()
            .literals;
        assert_eq!(
            inputs["kickoff"],
            datetime_literal(at),
            "the kickoff time is the scheduled time"
        );
        assert_eq!(
            inputs["a"],
            integer(3),
            "admin fills the rest from the launch plan"
        );
    }

    // A restart that lost its record launches the same times again, and
    // admin refuses the duplicates: still three executions.
    drop(scheduler);
    sqlx::query("UPDATE active_schedules SET last_fired_at = NULL")
        .execute(app.api.store().pool())
        .await
        .unwrap();
    let _restarted = start_scheduler(&app, utc_settings()).await;
    wait_for_recorded_launch(&app, "hourly", this_hour).await;
    assert_eq!(scheduled_executions(&mut app, "hourly").await.len(), 3);
}

async fn a_refused_launch_skips_its_time_and_other_schedules_go_on() {
    let mut app = TestApp::spawn().await;
    register_scheduled_workflow(&mut app).await;
    // Fixed-rate launches carry no kickoff time (as in flytescheduler), so
    // a required kickoff input makes admin refuse every one of them.
    app.admin
        .create_launch_plan(scheduled_launch_plan(
            "rate_without_kickoff",
            hourly_rate(),
            &[],
        ))
        .await
        .unwrap();
    app.admin
        .create_launch_plan(scheduled_launch_plan("hourly", cron("0 * * * *"), &[]))
        .await
        .unwrap();
    set_state(
        &mut app,
        "rate_without_kickoff",
        VERSION,
        admin::LaunchPlanState::Active,
    )
    .await;
    set_state(&mut app, "hourly", VERSION, admin::LaunchPlanState::Active).await;
    let now = unix_seconds_now();
    let this_hour = now / HOUR * HOUR;
    let rate_activated = now - 2 * HOUR - 600;
    backdate_activation(&app, "rate_without_kickoff", rate_activated).await;
    backdate_activation(&app, "hourly", this_hour - 2 * HOUR + 1).await;
    let _scheduler = start_scheduler(&app, utc_settings()).await;

    wait_for_executions(&mut app, "hourly", |found| found.len() == 2).await;
    // Both refused times are passed over rather than retried for ever.
    wait_for_recorded_launch(&app, "rate_without_kickoff", rate_activated + 2 * HOUR).await;
    assert!(
        scheduled_executions(&mut app, "rate_without_kickoff")
            .await
            .is_empty()
    );

    // With a default for it, the same schedule launches, an hour apart from
    // its activation rather than on the hour.
    let with_default = scheduled_launch_plan(
        "rate_with_default",
        hourly_rate(),
        &[(
            "kickoff",
            datetime_variable(),
            Some(core::parameter::Behavior::Default(datetime_literal(
                Timestamp::UNIX_EPOCH,
            ))),
        )],
    );
    app.admin.create_launch_plan(with_default).await.unwrap();
    set_state(
        &mut app,
        "rate_with_default",
        VERSION,
        admin::LaunchPlanState::Active,
    )
    .await;
    backdate_activation(&app, "rate_with_default", rate_activated).await;
    // The scheduler takes the backdated row for a new activation at its next
    // poll and catches up from there.
    let executions =
        wait_for_executions(&mut app, "rate_with_default", |found| found.len() == 2).await;
    assert_eq!(
        executions
            .iter()
            .map(|e| scheduled_at(e).as_second())
            .collect::<Vec<_>>(),
        [rate_activated + HOUR, rate_activated + 2 * HOUR]
    );
}

async fn a_catch_up_window_skips_older_times() {
    let mut app = TestApp::spawn().await;
    register_scheduled_workflow(&mut app).await;
    app.admin
        .create_launch_plan(scheduled_launch_plan("hourly", cron("0 * * * *"), &[]))
        .await
        .unwrap();
    set_state(&mut app, "hourly", VERSION, admin::LaunchPlanState::Active).await;
    let now = unix_seconds_now();
    let this_hour = now / HOUR * HOUR;
    backdate_activation(&app, "hourly", this_hour - 5 * HOUR + 1).await;
    // Half an hour more than this hour's time is old: only it is launched.
    let window = u64::try_from(now - this_hour + HOUR / 2).unwrap();
    let _scheduler = start_scheduler(
        &app,
        SchedulerSettings {
            catch_up_window: Duration::from_secs(window),
            ..utc_settings()
        },
    )
    .await;
    wait_for_recorded_launch(&app, "hourly", this_hour).await;
    let executions = scheduled_executions(&mut app, "hourly").await;
    assert_eq!(
        executions
            .iter()
            .map(|e| scheduled_at(e).as_second())
            .collect::<Vec<_>>(),
        [this_hour]
    );
}

async fn activation_wakes_the_scheduler_and_deactivation_stops_it() {
    let mut app = TestApp::spawn().await;
    register_scheduled_workflow(&mut app).await;
    app.admin
        .create_launch_plan(scheduled_launch_plan("often", cron("@every 1s"), &[]))
        .await
        .unwrap();
    // It would not poll again within the test: only admin's word wakes it.
    let _scheduler = start_scheduler(
        &app,
        SchedulerSettings {
            poll_interval: Duration::from_secs(3_600),
            ..utc_settings()
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    set_state(&mut app, "often", VERSION, admin::LaunchPlanState::Active).await;
    let executions = wait_for_executions(&mut app, "often", |found| found.len() >= 2).await;
    let seconds: Vec<i64> = executions
        .iter()
        .map(|e| scheduled_at(e).as_second())
        .collect();
    assert_eq!(seconds[1] - seconds[0], 1, "one second apart: {seconds:?}");

    set_state(&mut app, "often", VERSION, admin::LaunchPlanState::Inactive).await;
    // A launch already under way may still land.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let after_deactivation = scheduled_executions(&mut app, "often").await.len();
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(
        scheduled_executions(&mut app, "often").await.len(),
        after_deactivation,
        "no launches once the schedule is off"
    );
}

#[test]
fn the_schedulers_migrations_never_take_a_version_of_admins() {
    // Admin runs both in one database, and one `_sqlx_migrations` table
    // holds both: a shared version would make one find the other's "changed".
    for dialect in [
        updraft_admin::store::Dialect::Sqlite,
        updraft_admin::store::Dialect::Postgres,
    ] {
        let admin: Vec<i64> = updraft_admin::store::migrator(dialect)
            .iter()
            .map(|migration| migration.version)
            .collect();
        let shared: Vec<i64> = updraft_scheduler::store::migrator(dialect)
            .iter()
            .map(|migration| migration.version)
            .filter(|version| admin.contains(version))
            .collect();
        assert!(
            shared.is_empty(),
            "scheduler migrations {shared:?} reuse admin's versions; renumber them"
        );
    }
}

async fn a_scheduler_in_another_process_sees_changes_within_a_second() {
    let mut app = TestApp::spawn().await;
    register_scheduled_workflow(&mut app).await;
    app.admin
        .create_launch_plan(scheduled_launch_plan("nightly", cron("0 3 * * *"), &[]))
        .await
        .unwrap();
    let mut second = scheduled_launch_plan("nightly", hourly_rate(), &[]);
    second.id.as_mut().unwrap().version = "s2".to_string();
    app.admin.create_launch_plan(second).await.unwrap();
    // On PostgreSQL admin's notification alone must wake it: it would not
    // read the counter again within the test. On SQLite the counter, read
    // as often as by default, is all it has.
    let postgres = app.database_url.starts_with("postgres");
    let poll_interval = if postgres {
        Duration::from_secs(3_600)
    } else {
        SchedulerSettings::default().poll_interval
    };
    let mut scheduler = start_scheduler_of_its_own(
        &app,
        SchedulerSettings {
            poll_interval,
            // Renewing the lease wakes the loop too; not within the test.
            lease_duration: Duration::from_secs(60),
            ..utc_settings()
        },
    )
    .await;
    scheduler
        .wait_until("leading", |status| status.leading)
        .await;

    set_state(&mut app, "nightly", VERSION, admin::LaunchPlanState::Active).await;
    seen_within_a_second(&mut scheduler, "an activation", 1).await;
    set_state(
        &mut app,
        "nightly",
        VERSION,
        admin::LaunchPlanState::Inactive,
    )
    .await;
    seen_within_a_second(&mut scheduler, "a deactivation", 0).await;
    set_state(&mut app, "nightly", "s2", admin::LaunchPlanState::Active).await;
    seen_within_a_second(&mut scheduler, "a new active version", 1).await;
}

/// Waits until `scheduler` keeps `schedules` schedules, failing after a
/// second.
async fn seen_within_a_second(scheduler: &mut RunningScheduler, what: &str, schedules: usize) {
    let started = tokio::time::Instant::now();
    tokio::time::timeout(
        Duration::from_secs(1),
        scheduler
            .status
            .wait_for(|status| status.schedules == schedules),
    )
    .await
    .unwrap_or_else(|_| panic!("{what} was not seen within a second"))
    .unwrap();
    eprintln!("{what} seen after {:?}", started.elapsed());
}

async fn two_schedulers_on_one_database_launch_once_and_one_leads() {
    let mut app = TestApp::spawn().await;
    register_scheduled_workflow(&mut app).await;
    app.admin
        .create_launch_plan(scheduled_launch_plan("often", cron("@every 1s"), &[]))
        .await
        .unwrap();
    set_state(&mut app, "often", VERSION, admin::LaunchPlanState::Active).await;
    let store = schedule_store(&app).await;
    let settings = utc_settings();
    let mut first = start_scheduler_of_its_own(&app, settings.clone()).await;
    first.wait_until("leading", |status| status.leading).await;
    let mut second = start_scheduler_of_its_own(&app, settings.clone()).await;
    // The second one keeps asking for the lease and never gets it.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(first.status.borrow().leading);
    assert_eq!(*second.status.borrow(), SchedulerStatus::default());
    wait_for_executions(&mut app, "often", |found| found.len() >= 2).await;

    // The leader dies without a word: the other takes over once the lease
    // runs out, and catches up on what was missed meanwhile.
    let (holder, _) = store.lease_holder().await.unwrap().unwrap();
    drop(first);
    let died = Timestamp::now();
    second.wait_until("leading", |status| status.leading).await;
    let (new_holder, _) = store.lease_holder().await.unwrap().unwrap();
    assert_ne!(new_holder, holder);
    let after_takeover = Timestamp::now();
    assert!(
        died.duration_until(after_takeover) < jiff::SignedDuration::from_secs(3),
        "took over {} after the leader died",
        died.duration_until(after_takeover)
    );
    let past_takeover = after_takeover.as_second() + 2;
    let executions = wait_for_executions(&mut app, "often", |found| {
        found
            .last()
            .is_some_and(|last| scheduled_at(last).as_second() >= past_takeover)
    })
    .await;
    // Every second from the first launch on, each once, no gap.
    let seconds: Vec<i64> = executions
        .iter()
        .map(|e| scheduled_at(e).as_second())
        .collect();
    assert!(
        seconds.windows(2).all(|pair| pair[1] - pair[0] == 1),
        "not one launch a second: {seconds:?}"
    );

    // Stopping cleanly gives the lease up: a newcomer leads at once.
    second.stop().await;
    assert_eq!(store.lease_holder().await.unwrap(), None);
    let mut third = start_scheduler_of_its_own(
        &app,
        SchedulerSettings {
            lease_duration: Duration::from_secs(60),
            ..settings
        },
    )
    .await;
    third.wait_until("leading", |status| status.leading).await;
}

async fn honoured_offsets_move_cron_times_and_kick_fixed_rates_off() {
    let mut app = TestApp::spawn().await;
    register_scheduled_workflow(&mut app).await;
    let half_past = admin::Schedule {
        kickoff_time_input_arg: "kickoff".to_string(),
        schedule_expression: Some(admin::schedule::ScheduleExpression::CronSchedule(
            admin::CronSchedule {
                schedule: "0 * * * *".to_string(),
                offset: "PT30M".to_string(),
            },
        )),
    };
    app.admin
        .create_launch_plan(scheduled_launch_plan("half_past", half_past, &[]))
        .await
        .unwrap();
    // Stock Flyte never passes a fixed rate its kickoff time, so a required
    // kickoff input fails every launch there; here it is passed.
    app.admin
        .create_launch_plan(scheduled_launch_plan("rate", hourly_rate(), &[]))
        .await
        .unwrap();
    for name in ["half_past", "rate"] {
        set_state(&mut app, name, VERSION, admin::LaunchPlanState::Active).await;
    }
    let now = unix_seconds_now();
    let latest_half_past = (now - HOUR / 2) / HOUR * HOUR + HOUR / 2;
    backdate_activation(&app, "half_past", now - 3 * HOUR).await;
    let rate_activated = now - HOUR - 60;
    backdate_activation(&app, "rate", rate_activated).await;
    // With the default hour of catch-up: the one half past within it.
    let _scheduler = start_scheduler(
        &app,
        SchedulerSettings {
            rules: ScheduleRules {
                honour_offsets: true,
                ..ScheduleRules::default()
            },
            catch_up_window: Duration::from_secs(3_600),
            ..utc_settings()
        },
    )
    .await;
    for (name, expected) in [
        ("half_past", latest_half_past),
        ("rate", rate_activated + HOUR),
    ] {
        wait_for_recorded_launch(&app, name, expected).await;
        let executions = scheduled_executions(&mut app, name).await;
        assert_eq!(executions.len(), 1, "{name}");
        let at = Timestamp::from_second(expected).unwrap();
        assert_eq!(scheduled_at(&executions[0]), at);
        let id = executions[0].id.clone().unwrap();
        assert_eq!(
            id.name,
            scheduled_execution_name(&launch_plan_version(name), at)
        );
        let inputs = app
            .admin
            .get_execution_data(admin::WorkflowExecutionGetDataRequest { id: Some(id) })
            .await
            .unwrap()
            .into_inner()
            .full_inputs
            .unwrap()
            .literals;
        assert_eq!(inputs["kickoff"], datetime_literal(at), "{name}");
    }
    // An offset that is no duration is refused at registration.
    let mut nonsense = scheduled_launch_plan("nonsense", cron("0 * * * *"), &[]);
    if let Some(admin::schedule::ScheduleExpression::CronSchedule(cron)) = nonsense
        .spec
        .as_mut()
        .and_then(|spec| spec.entity_metadata.as_mut())
        .and_then(|metadata| metadata.schedule.as_mut())
        .and_then(|schedule| schedule.schedule_expression.as_mut())
    {
        cron.offset = "half an hour".to_string();
    }
    assert_status(
        app.admin.create_launch_plan(nonsense).await,
        tonic::Code::InvalidArgument,
        "invalid cron schedule offset \"half an hour\"",
    );
}

async fn another_pool_reads_each_change_at_once() {
    use updraft_proto::flyteidl::service::admin_service_server::AdminService;

    let mut app = TestApp::spawn().await;
    register_scheduled_workflow(&mut app).await;
    app.admin
        .create_launch_plan(scheduled_launch_plan("nightly", cron("0 3 * * *"), &[]))
        .await
        .unwrap();
    // A second admin, on a pool of its own on the same database, as a
    // second `updraft admin` process (or a scheduler of its own) has.
    let directory = tempfile::tempdir().unwrap();
    let other_admin = updraft_admin::AdminApi::open(
        &app.database_url,
        &directory.path().join("store"),
        updraft_admin::AdminSettings::new(app.http_base.clone()),
    )
    .await
    .unwrap();
    let other_store = ScheduleStore::connect(&app.database_url).await.unwrap();
    let shared_store = schedule_store(&app).await;
    let id = identifier(ResourceType::LaunchPlan, "nightly", VERSION);
    // Readers busy on both pools all along, as a console and a scheduler are.
    let busy_readers: Vec<_> = [other_store.clone(), shared_store.clone()]
        .into_iter()
        .map(|store| {
            AbortOnDrop(tokio::spawn(async move {
                loop {
                    let _ = store.list_active_schedules().await;
                    let _ = store.lease_holder().await;
                    tokio::task::yield_now().await;
                }
            }))
        })
        .collect();
    for round in 0..25 {
        for (state, on) in [
            (admin::LaunchPlanState::Active, true),
            (admin::LaunchPlanState::Inactive, false),
        ] {
            // Reads that stop early or page are where a connection could
            // keep an old snapshot open, so each round makes some first.
            let _ = other_admin
                .list_launch_plans(tonic::Request::new(list_request("", 1)))
                .await
                .unwrap();
            let _ = other_store.schedule_changes_version().await.unwrap();
            set_state(&mut app, "nightly", VERSION, state).await;
            let read = other_admin
                .get_launch_plan(tonic::Request::new(common::get_request(id.clone())))
                .await
                .unwrap()
                .into_inner()
                .closure
                .unwrap()
                .state;
            assert_eq!(
                read, state as i32,
                "round {round}: GetLaunchPlan on another pool"
            );
            for (pool, store) in [("another", &other_store), ("admin's", &shared_store)] {
                let active = store.list_active_schedules().await.unwrap();
                assert_eq!(!active.is_empty(), on, "round {round}: {pool} pool");
            }
        }
    }
    drop(busy_readers);
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
