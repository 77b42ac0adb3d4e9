//! The scheduler's table as admin writes it (inside its transactions) and
//! the scheduler reads it, on every backend.

use jiff::Timestamp;
use updraft_database::on_every_backend;
use updraft_database::testing::{Backend, fresh_database_url};
use updraft_proto::flyteidl::admin;
use updraft_scheduler::store::{activate_schedule, deactivate_schedule};
use updraft_scheduler::{LaunchPlanVersion, Schedule, ScheduleStore, Timing};

on_every_backend!(
    activating_a_version_turns_the_others_off,
    activating_again_keeps_the_record_of_launches,
    the_record_of_launches_never_moves_back,
    deactivating_turns_only_that_version_off,
);

struct Fixture {
    store: ScheduleStore,
    _directory: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let directory = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&Backend::of_this_test(), directory.path()).await;
    Fixture {
        store: ScheduleStore::connect(&url).await.unwrap(),
        _directory: directory,
    }
}

fn version(name: &str, version: &str) -> LaunchPlanVersion {
    LaunchPlanVersion {
        project: "flytesnacks".to_string(),
        domain: "development".to_string(),
        name: name.to_string(),
        version: version.to_string(),
    }
}

fn hourly() -> Schedule {
    Schedule::from_proto(&admin::Schedule {
        kickoff_time_input_arg: "kickoff".to_string(),
        schedule_expression: Some(admin::schedule::ScheduleExpression::CronSchedule(
            admin::CronSchedule {
                schedule: "0 * * * *".to_string(),
                offset: String::new(),
            },
        )),
    })
    .unwrap()
    .unwrap()
}

fn every_two_days() -> Schedule {
    Schedule {
        timing: Timing::fixed_rate(2, admin::FixedRateUnit::Day as i32).unwrap(),
        kickoff_time_input_arg: String::new(),
    }
}

impl Fixture {
    async fn activate(
        &self,
        launch_plan: &LaunchPlanVersion,
        schedule: Option<&Schedule>,
        at: i64,
    ) {
        let mut connection = self.store.pool().acquire().await.unwrap();
        activate_schedule(&mut connection, launch_plan, schedule, at)
            .await
            .unwrap();
    }

    async fn active(&self) -> Vec<updraft_scheduler::ActiveSchedule> {
        let mut active = self.store.list_active_schedules().await.unwrap();
        active.sort_by(|a, b| a.launch_plan.cmp(&b.launch_plan));
        active
    }
}

async fn activating_a_version_turns_the_others_off() {
    let fixture = fixture().await;
    fixture
        .activate(&version("nightly", "v1"), Some(&hourly()), 1_000_000)
        .await;
    fixture
        .activate(&version("weekly", "v1"), Some(&every_two_days()), 1_000_000)
        .await;
    fixture
        .activate(
            &version("nightly", "v2"),
            Some(&every_two_days()),
            2_000_000,
        )
        .await;
    let active = fixture.active().await;
    let keys: Vec<_> = active.iter().map(|s| s.launch_plan.to_string()).collect();
    assert_eq!(
        keys,
        [
            "flytesnacks/development/nightly/v2",
            "flytesnacks/development/weekly/v1"
        ]
    );
    assert!(matches!(
        active[0].schedule.timing,
        Timing::FixedRate {
            value: 2,
            unit: admin::FixedRateUnit::Day
        }
    ));
    assert_eq!(active[0].activated_at.as_microsecond(), 2_000_000);
    assert_eq!(active[0].last_fired_at, None);

    // A version without a schedule still turns the others' off.
    fixture
        .activate(&version("nightly", "v3"), None, 3_000_000)
        .await;
    let keys: Vec<_> = fixture
        .active()
        .await
        .iter()
        .map(|s| s.launch_plan.to_string())
        .collect();
    assert_eq!(keys, ["flytesnacks/development/weekly/v1"]);
}

async fn activating_again_keeps_the_record_of_launches() {
    let fixture = fixture().await;
    let nightly = version("nightly", "v1");
    fixture.activate(&nightly, Some(&hourly()), 1_000_000).await;
    let launched: Timestamp = "2024-01-01T05:00:00Z".parse().unwrap();
    fixture
        .store
        .record_launch(&nightly, launched)
        .await
        .unwrap();
    fixture.activate(&nightly, Some(&hourly()), 9_000_000).await;
    let active = fixture.active().await;
    assert_eq!(active[0].activated_at.as_microsecond(), 1_000_000);
    assert_eq!(active[0].last_fired_at, Some(launched));
    assert_eq!(active[0].resume_after(), launched);
    match &active[0].schedule.timing {
        Timing::Cron(expression) => assert_eq!(expression.as_str(), "0 * * * *"),
        other => panic!("expected the cron schedule, got {other:?}"),
    }
    assert_eq!(active[0].schedule.kickoff_time_input_arg, "kickoff");
}

async fn the_record_of_launches_never_moves_back() {
    let fixture = fixture().await;
    let nightly = version("nightly", "v1");
    fixture.activate(&nightly, Some(&hourly()), 1_000_000).await;
    let later: Timestamp = "2024-01-01T06:00:00Z".parse().unwrap();
    let earlier: Timestamp = "2024-01-01T05:00:00Z".parse().unwrap();
    fixture.store.record_launch(&nightly, later).await.unwrap();
    // A second scheduler, behind this one, during a redeploy.
    fixture
        .store
        .record_launch(&nightly, earlier)
        .await
        .unwrap();
    assert_eq!(fixture.active().await[0].last_fired_at, Some(later));
}

async fn deactivating_turns_only_that_version_off() {
    let fixture = fixture().await;
    fixture
        .activate(&version("nightly", "v1"), Some(&hourly()), 1_000_000)
        .await;
    fixture
        .activate(&version("weekly", "v1"), Some(&hourly()), 1_000_000)
        .await;
    let mut connection = fixture.store.pool().acquire().await.unwrap();
    deactivate_schedule(&mut connection, &version("nightly", "v1"))
        .await
        .unwrap();
    // Turning off what is already off is no error.
    deactivate_schedule(&mut connection, &version("nightly", "v1"))
        .await
        .unwrap();
    drop(connection);
    let keys: Vec<_> = fixture
        .active()
        .await
        .iter()
        .map(|s| s.launch_plan.to_string())
        .collect();
    assert_eq!(keys, ["flytesnacks/development/weekly/v1"]);
    // Recording a launch of a schedule turned off meanwhile changes nothing.
    fixture
        .store
        .record_launch(&version("nightly", "v1"), Timestamp::now())
        .await
        .unwrap();
    assert_eq!(fixture.active().await.len(), 1);
}
