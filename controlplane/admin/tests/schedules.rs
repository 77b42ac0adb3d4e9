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
use updraft_scheduler::{LaunchPlanVersion, ScheduleStore, Scheduler, SchedulerSettings};

on_every_backend!(
    registration_refuses_schedules_that_cannot_run,
    activation_turns_the_schedule_on_and_off,
    missed_times_are_launched_once_under_flytescheduler_names,
    a_refused_launch_skips_its_time_and_other_schedules_go_on,
    a_catch_up_window_skips_older_times,
    activation_wakes_the_scheduler_and_deactivation_stops_it,
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

/// A scheduler over `app`'s database and gRPC address, running until dropped.
struct RunningScheduler(tokio::task::JoinHandle<()>);

impl Drop for RunningScheduler {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn start_scheduler(app: &TestApp, settings: SchedulerSettings) -> RunningScheduler {
    let channel = tonic::transport::Endpoint::from_shared(app.http_base.clone())
        .unwrap()
        .connect_lazy();
    let scheduler = Scheduler::new(schedule_store(app).await, channel, settings)
        .wake_on_schedule_changes(app.api.schedule_changes());
    RunningScheduler(tokio::spawn(scheduler.run()))
}

fn utc_settings() -> SchedulerSettings {
    SchedulerSettings {
        poll_interval: Duration::from_millis(200),
        time_zone: jiff::tz::TimeZone::UTC,
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

/// Pretends `name`'s schedule was turned on at `unix_seconds`.
async fn backdate_activation(app: &TestApp, name: &str, unix_seconds: i64) {
    sqlx::query("UPDATE active_schedules SET activated_at = $1 WHERE name = $2")
        .bind(unix_seconds * 1_000_000)
        .bind(name.to_string())
        .execute(app.api.store().pool())
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
            catch_up_window: Some(Duration::from_secs(window)),
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
