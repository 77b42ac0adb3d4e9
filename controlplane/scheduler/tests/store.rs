//! The scheduler's table as admin writes it (inside its transactions) and
//! the scheduler reads it, on every backend.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
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
    every_change_moves_the_counter,
    one_scheduler_holds_the_lease_until_it_runs_out,
    two_schedulers_racing_for_the_lease_make_one_leader,
    offsets_are_kept_as_written,
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
        offset: None,
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

async fn every_change_moves_the_counter() {
    let fixture = fixture().await;
    let nightly = version("nightly", "v1");
    let mut seen = vec![fixture.store.schedule_changes_version().await.unwrap()];
    fixture.activate(&nightly, Some(&hourly()), 1_000_000).await;
    seen.push(fixture.store.schedule_changes_version().await.unwrap());
    // A version without a schedule turns the others off: a change too.
    fixture
        .activate(&version("nightly", "v2"), None, 2_000_000)
        .await;
    seen.push(fixture.store.schedule_changes_version().await.unwrap());
    let mut connection = fixture.store.pool().acquire().await.unwrap();
    deactivate_schedule(&mut connection, &nightly)
        .await
        .unwrap();
    drop(connection);
    seen.push(fixture.store.schedule_changes_version().await.unwrap());
    // Launches are the scheduler's own writes, not changes.
    fixture
        .store
        .record_launch(&nightly, Timestamp::now())
        .await
        .unwrap();
    seen.push(fixture.store.schedule_changes_version().await.unwrap());
    assert!(
        seen.windows(2).take(3).all(|pair| pair[1] > pair[0]),
        "{seen:?}"
    );
    assert_eq!(seen[4], seen[3], "{seen:?}");
}

async fn one_scheduler_holds_the_lease_until_it_runs_out() {
    let fixture = fixture().await;
    let store = &fixture.store;
    let lease = Duration::from_secs(15);
    let start: Timestamp = "2024-01-01T00:00:00Z".parse().unwrap();
    let at = |seconds: i64| start + SignedDuration::from_secs(seconds);
    assert_eq!(store.lease_holder().await.unwrap(), None);

    assert!(store.take_or_renew_lease("a", at(0), lease).await.unwrap());
    assert!(!store.take_or_renew_lease("b", at(5), lease).await.unwrap());
    // Renewing moves the end; the follower keeps asking and keeps losing.
    assert!(store.take_or_renew_lease("a", at(5), lease).await.unwrap());
    assert!(!store.take_or_renew_lease("b", at(16), lease).await.unwrap());
    assert_eq!(
        store.lease_holder().await.unwrap(),
        Some(("a".to_string(), at(20)))
    );
    // The leader stops renewing (it died): the follower takes over once
    // the lease has run out, and the old leader cannot take it back.
    assert!(store.take_or_renew_lease("b", at(20), lease).await.unwrap());
    assert!(!store.take_or_renew_lease("a", at(21), lease).await.unwrap());
    assert_eq!(
        store.lease_holder().await.unwrap(),
        Some(("b".to_string(), at(35)))
    );
    // Giving it up lets another lead at once; only the holder can.
    store.release_lease("a").await.unwrap();
    assert!(!store.take_or_renew_lease("a", at(22), lease).await.unwrap());
    store.release_lease("b").await.unwrap();
    assert_eq!(store.lease_holder().await.unwrap(), None);
    assert!(store.take_or_renew_lease("a", at(22), lease).await.unwrap());
}

async fn two_schedulers_racing_for_the_lease_make_one_leader() {
    let fixture = fixture().await;
    let lease = Duration::from_secs(15);
    let now = Timestamp::now();
    for round in 0..10_i64 {
        // Each round starts after the previous lease ran out.
        let at = now + SignedDuration::from_secs(round * 60);
        let (a, b) = tokio::join!(
            fixture.store.take_or_renew_lease("a", at, lease),
            fixture.store.take_or_renew_lease("b", at, lease),
        );
        let winners = [a.unwrap(), b.unwrap()];
        // A holder renewing its own lease also wins; the other one cannot.
        assert_eq!(
            winners.iter().filter(|won| **won).count(),
            1,
            "round {round}: {winners:?}"
        );
    }
}

async fn offsets_are_kept_as_written() {
    let fixture = fixture().await;
    let nightly = version("nightly", "v1");
    let with_offset = Schedule::from_proto(&admin::Schedule {
        kickoff_time_input_arg: String::new(),
        schedule_expression: Some(admin::schedule::ScheduleExpression::CronSchedule(
            admin::CronSchedule {
                schedule: "0 2 * * *".to_string(),
                offset: "PT5M".to_string(),
            },
        )),
    })
    .unwrap()
    .unwrap();
    fixture
        .activate(&nightly, Some(&with_offset), 1_000_000)
        .await;
    fixture
        .activate(&version("hourly", "v1"), Some(&hourly()), 1_000_000)
        .await;
    let active = fixture.active().await;
    assert_eq!(active[0].launch_plan.name, "hourly");
    assert_eq!(active[0].schedule.offset, None);
    let offset = active[1].schedule.offset.as_ref().unwrap();
    assert_eq!(offset.as_str(), "PT5M");
    assert_eq!(offset.duration(), SignedDuration::from_mins(5));
}
