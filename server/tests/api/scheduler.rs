//! `updraft scheduler` on its own: it needs an admin to launch through, and
//! with one it reads the schedules from the shared database and launches
//! through that admin over gRPC.

use std::time::Duration;

use updraft::config::{CommandLineOverrides, Config};
use updraft::startup::{Application, Components};
use updraft_proto::flyteidl::admin;
use updraft_scheduler::{LaunchPlanVersion, Schedule, ScheduleStore};

use crate::helpers::TestApp;

fn scheduler_config(data_dir: &std::path::Path, environment: Vec<(String, String)>) -> Config {
    let overrides = CommandLineOverrides {
        addr: Some("127.0.0.1:0".parse().unwrap()),
        data_dir: Some(data_dir.to_path_buf()),
        ..CommandLineOverrides::default()
    };
    Config::load(None, environment, &overrides).unwrap()
}

#[tokio::test]
async fn a_scheduler_of_its_own_needs_an_admin_endpoint() {
    let data_dir = tempfile::tempdir().unwrap();
    let refused = Application::build_components(
        scheduler_config(data_dir.path(), Vec::new()),
        Components::Scheduler,
    )
    .await
    .err()
    .expect("no admin endpoint, no scheduler");
    assert!(
        refused.to_string().contains("scheduler.admin_endpoint"),
        "{refused}"
    );
}

#[tokio::test]
async fn a_scheduler_of_its_own_launches_through_the_admin_it_is_given() {
    // An admin whose own scheduler is off, so only the other one launches.
    let admin = TestApp::spawn_with_environment(vec![
        (
            "UPDRAFT_SCHEDULER__ENABLED".to_string(),
            "false".to_string(),
        ),
        (
            "UPDRAFT_PROPELLER__ENABLED".to_string(),
            "false".to_string(),
        ),
    ])
    .await;
    let database_url = format!(
        "sqlite://{}?mode=rwc",
        admin.data_dir.path().join("updraft.db").display()
    );
    // A schedule turned on a minute and a half ago, of a launch plan admin
    // does not have: admin's refusal is the scheduler's proof of the call.
    let store = ScheduleStore::connect(&database_url).await.unwrap();
    let launch_plan = LaunchPlanVersion {
        project: "flytesnacks".to_string(),
        domain: "development".to_string(),
        name: "missing".to_string(),
        version: "v1".to_string(),
    };
    let every_minute = Schedule::from_proto(&admin::Schedule {
        kickoff_time_input_arg: String::new(),
        schedule_expression: Some(admin::schedule::ScheduleExpression::CronSchedule(
            admin::CronSchedule {
                schedule: "* * * * *".to_string(),
                offset: String::new(),
            },
        )),
    })
    .unwrap();
    let activated = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(90);
    let mut connection = store.pool().acquire().await.unwrap();
    updraft_scheduler::store::activate_schedule(
        &mut connection,
        &launch_plan,
        every_minute.as_ref(),
        activated.as_microsecond(),
    )
    .await
    .unwrap();
    drop(connection);

    let scheduler_dir = tempfile::tempdir().unwrap();
    let scheduler = Application::build_components(
        scheduler_config(
            scheduler_dir.path(),
            vec![
                ("UPDRAFT_DATABASE__URL".to_string(), database_url.clone()),
                (
                    "UPDRAFT_SCHEDULER__ADMIN_ENDPOINT".to_string(),
                    admin.url(""),
                ),
                (
                    "UPDRAFT_SCHEDULER__POLL_INTERVAL_SECS".to_string(),
                    "1".to_string(),
                ),
            ],
        ),
        Components::Scheduler,
    )
    .await
    .expect("the scheduler starts");
    let scheduler_address = scheduler.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(scheduler.run_until(async move {
        let _ = stopped.await;
    }));

    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let recorded = store.list_active_schedules().await.unwrap()[0].last_fired_at;
        if recorded.is_some() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the scheduler never launched the missed minute"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let health = reqwest::get(format!("http://{scheduler_address}/healthz"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200, "ready: its database and admin answer");

    let _ = stop.send(());
    serving.await.unwrap().unwrap();
    admin.stop().await.unwrap();
}
