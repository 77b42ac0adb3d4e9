//! The scheduler in `updraft start`, told by admin in the same process of
//! each change; and `updraft scheduler` on its own: it needs an admin to
//! launch through, and with one it reads the schedules from the shared
//! database and launches through that admin over gRPC.

use std::time::Duration;

use updraft::config::{CommandLineOverrides, Config};
use updraft::startup::{Application, Components};
use updraft_proto::flyteidl::admin;
use updraft_proto::flyteidl::core::{self, ResourceType};
use updraft_proto::flyteidl::service::admin_service_client::AdminServiceClient;
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
                    "UPDRAFT_SCHEDULER__POLL_INTERVAL_MS".to_string(),
                    "200".to_string(),
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

    assert!(
        store.lease_holder().await.unwrap().is_some(),
        "it leads under a lease"
    );

    let _ = stop.send(());
    serving.await.unwrap().unwrap();
    assert_eq!(
        store.lease_holder().await.unwrap(),
        None,
        "a scheduler that stops cleanly gives its lease up, so a restart leads at once"
    );
    admin.stop().await.unwrap();
}

fn identifier(resource_type: ResourceType, name: &str) -> core::Identifier {
    core::Identifier {
        resource_type: resource_type as i32,
        project: "flytesnacks".into(),
        domain: "development".into(),
        name: name.into(),
        version: "v1".into(),
        org: String::new(),
    }
}

/// A one-node workflow and a launch plan `every_second` of it, scheduled
/// `@every 1s` and inactive, as registration leaves it.
async fn register_every_second(admin: &mut AdminServiceClient<tonic::transport::Channel>) {
    let task_id = identifier(ResourceType::Task, "noop");
    admin
        .create_task(admin::TaskCreateRequest {
            id: Some(task_id.clone()),
            spec: Some(admin::TaskSpec {
                template: Some(core::TaskTemplate {
                    id: Some(task_id.clone()),
                    r#type: "raw-container".into(),
                    interface: Some(core::TypedInterface::default()),
                    target: Some(core::task_template::Target::Container(core::Container {
                        image: "ignored:latest".into(),
                        command: vec!["true".into()],
                        ..Default::default()
                    })),
                    ..Default::default()
                }),
                description: None,
            }),
        })
        .await
        .expect("create task");
    let workflow_id = identifier(ResourceType::Workflow, "wf");
    admin
        .create_workflow(admin::WorkflowCreateRequest {
            id: Some(workflow_id.clone()),
            spec: Some(admin::WorkflowSpec {
                template: Some(core::WorkflowTemplate {
                    id: Some(workflow_id.clone()),
                    interface: Some(core::TypedInterface::default()),
                    nodes: vec![core::Node {
                        id: "n0".into(),
                        target: Some(core::node::Target::TaskNode(core::TaskNode {
                            reference: Some(core::task_node::Reference::ReferenceId(task_id)),
                            overrides: None,
                        })),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
                sub_workflows: vec![],
                description: None,
            }),
        })
        .await
        .expect("create workflow");
    admin
        .create_launch_plan(admin::LaunchPlanCreateRequest {
            id: Some(identifier(ResourceType::LaunchPlan, "every_second")),
            spec: Some(admin::LaunchPlanSpec {
                workflow_id: Some(workflow_id),
                entity_metadata: Some(admin::LaunchPlanMetadata {
                    schedule: Some(admin::Schedule {
                        kickoff_time_input_arg: String::new(),
                        schedule_expression: Some(
                            admin::schedule::ScheduleExpression::CronSchedule(
                                admin::CronSchedule {
                                    schedule: "@every 1s".into(),
                                    offset: String::new(),
                                },
                            ),
                        ),
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
        })
        .await
        .expect("create launch plan");
}

async fn scheduled_execution_count(
    admin: &mut AdminServiceClient<tonic::transport::Channel>,
) -> usize {
    let executions = admin
        .list_executions(admin::ResourceListRequest {
            id: Some(admin::NamedEntityIdentifier {
                project: "flytesnacks".into(),
                domain: "development".into(),
                ..Default::default()
            }),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .executions;
    executions
        .iter()
        .filter(|execution| {
            execution
                .spec
                .as_ref()
                .and_then(|spec| spec.metadata.as_ref())
                .is_some_and(|metadata| {
                    metadata.mode == admin::execution_metadata::ExecutionMode::Scheduled as i32
                })
        })
        .count()
}

async fn set_state(
    admin: &mut AdminServiceClient<tonic::transport::Channel>,
    state: admin::LaunchPlanState,
) {
    admin
        .update_launch_plan(admin::LaunchPlanUpdateRequest {
            id: Some(identifier(ResourceType::LaunchPlan, "every_second")),
            state: state as i32,
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn updraft_start_schedules_at_once_when_a_launch_plan_is_activated() {
    // Its scheduler would not read the change counter again within the test
    // (nor renew its lease, which also wakes it): only admin's word can.
    let app = TestApp::spawn_with_environment(vec![
        (
            "UPDRAFT_PROPELLER__ENABLED".to_string(),
            "false".to_string(),
        ),
        (
            "UPDRAFT_SCHEDULER__POLL_INTERVAL_MS".to_string(),
            "3600000".to_string(),
        ),
    ])
    .await;
    let mut admin = AdminServiceClient::new(app.grpc_channel().await);
    register_every_second(&mut admin).await;
    // Let the scheduler settle into its long sleep.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let activated = tokio::time::Instant::now();
    set_state(&mut admin, admin::LaunchPlanState::Active).await;
    // Its first time is within a second of the activation.
    let deadline = activated + Duration::from_millis(2_500);
    while scheduled_execution_count(&mut admin).await == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no scheduled execution within 2.5 s of the activation"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("first scheduled execution after {:?}", activated.elapsed());

    set_state(&mut admin, admin::LaunchPlanState::Inactive).await;
    // A launch already under way may still land.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after_deactivation = scheduled_execution_count(&mut admin).await;
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    assert_eq!(
        scheduled_execution_count(&mut admin).await,
        after_deactivation,
        "no launches once the schedule is off"
    );
    app.stop().await.unwrap();
}
