//! Data planes that dial out: a propeller claims with its cluster name and
//! labels, so a real admin on port 0 hands a labelled execution only to the
//! propeller serving that label, records the claimant's cluster on it, and
//! knows both propellers as live.

use std::sync::Arc;
use std::time::Duration;

use tonic::transport::Channel;
use updraft_admin::store::{PropellerRecord, PropellerRepo, now_micros};
use updraft_admin::{AdminApi, AdminSettings};
use updraft_propeller::engine::{Propeller, PropellerSettings};
use updraft_propeller::local::{LocalProcessRuntime, LocalRuntimeSettings};
use updraft_proto::flyteidl::admin;
use updraft_proto::flyteidl::core::{self, ResourceType};
use updraft_proto::flyteidl::service::admin_service_client::AdminServiceClient;

const PROJECT: &str = "flytesnacks";
const DOMAIN: &str = "development";
const PATIENCE: Duration = Duration::from_secs(60);

fn identifier(resource_type: ResourceType, name: &str) -> core::Identifier {
    core::Identifier {
        resource_type: resource_type as i32,
        project: PROJECT.into(),
        domain: DOMAIN.into(),
        name: name.into(),
        version: "v1".into(),
        org: String::new(),
    }
}

fn execution_id(name: &str) -> core::WorkflowExecutionIdentifier {
    core::WorkflowExecutionIdentifier {
        project: PROJECT.into(),
        domain: DOMAIN.into(),
        name: name.into(),
        org: String::new(),
    }
}

/// A one-node workflow whose task is a shell that exits at once: what runs
/// does not matter here, only who claims it.
async fn register(admin: &mut AdminServiceClient<Channel>) {
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
                        command: vec!["sh".into()],
                        args: vec!["-c".into(), "exit 0".into()],
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
            id: Some(identifier(ResourceType::LaunchPlan, "wf")),
            spec: Some(admin::LaunchPlanSpec {
                workflow_id: Some(workflow_id),
                ..Default::default()
            }),
        })
        .await
        .expect("create launch plan");
}

async fn launch(admin: &mut AdminServiceClient<Channel>, name: &str, label: Option<&str>) {
    admin
        .create_execution(admin::ExecutionCreateRequest {
            project: PROJECT.into(),
            domain: DOMAIN.into(),
            name: name.into(),
            spec: Some(admin::ExecutionSpec {
                launch_plan: Some(identifier(ResourceType::LaunchPlan, "wf")),
                metadata: Some(admin::ExecutionMetadata {
                    principal: "test".into(),
                    ..Default::default()
                }),
                execution_cluster_label: label.map(|value| admin::ExecutionClusterLabel {
                    value: value.into(),
                }),
                ..Default::default()
            }),
            inputs: Some(core::LiteralMap::default()),
            org: String::new(),
        })
        .await
        .expect("create execution");
}

/// The cluster admin recorded as running `name`, if a propeller claimed it.
async fn cluster_of(admin: &mut AdminServiceClient<Channel>, name: &str) -> Option<String> {
    admin
        .get_execution(admin::WorkflowExecutionGetRequest {
            id: Some(execution_id(name)),
        })
        .await
        .expect("get execution")
        .into_inner()
        .spec?
        .metadata?
        .system_metadata
        .map(|system| system.execution_cluster)
        .filter(|cluster| !cluster.is_empty())
}

async fn wait_for_cluster(admin: &mut AdminServiceClient<Channel>, name: &str) -> String {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(cluster) = cluster_of(admin, name).await {
            return cluster;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no propeller claimed {name}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The live propeller named `propeller_id`, once admin has heard from it.
async fn wait_for_live(api: &AdminApi, propeller_id: &str) -> PropellerRecord {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let live = api
            .store()
            .list_live_propellers(now_micros())
            .await
            .expect("list live propellers");
        if let Some(found) = live.into_iter().find(|p| p.propeller_id == propeller_id) {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{propeller_id} never claimed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn start_propeller(
    endpoint: &str,
    root: &std::path::Path,
    propeller_id: &str,
    cluster: &str,
    labels: &[&str],
) -> tokio::task::JoinHandle<()> {
    let channel = tonic::transport::Endpoint::from_shared(endpoint.to_string())
        .unwrap()
        .connect_lazy();
    let runtime = LocalProcessRuntime::new(LocalRuntimeSettings {
        work_root: root.join("work").join(propeller_id),
        python_bin_dir: None,
        max_concurrent_tasks: 2,
        store_environment: Vec::new(),
    });
    let settings = PropellerSettings {
        propeller_id: propeller_id.into(),
        cluster: cluster.into(),
        labels: labels.iter().map(ToString::to_string).collect(),
        storage: updraft_storage::Storage::local(&root.join("store")).expect("the store"),
        log_url_base: None,
        max_concurrent_executions: 4,
        default_max_parallelism: 4,
        lease_duration: Duration::from_secs(5),
    };
    tokio::spawn(Propeller::new(settings, channel, Arc::new(runtime)).run())
}

#[tokio::test]
async fn claims_carry_the_cluster_and_labels_and_only_the_labelled_propeller_gets_labelled_work() {
    let root = tempfile::tempdir().expect("temporary directory");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let database = format!(
        "sqlite://{}?mode=rwc",
        root.path().join("admin.db").display()
    );
    let api = AdminApi::open(
        &database,
        &root.path().join("store"),
        AdminSettings::new(endpoint.clone()),
    )
    .await
    .expect("open the admin");
    let router = tonic::service::Routes::new(api.clone().into_service())
        .add_service(api.execution_queue().into_service())
        .add_service(api.signals().into_service())
        .into_axum_router();
    let server = tokio::spawn(async move {
        axum::serve(listener, router).await.expect("serve");
    });
    let mut admin = AdminServiceClient::connect(endpoint.clone())
        .await
        .expect("connect");
    register(&mut admin).await;
    launch(&mut admin, "needs-gpu", Some("gpu")).await;
    launch(&mut admin, "anywhere", None).await;

    let cpu = start_propeller(&endpoint, root.path(), "cpu-1", "east", &[]);
    assert_eq!(wait_for_cluster(&mut admin, "anywhere").await, "east");
    let seen = wait_for_live(&api, "cpu-1").await;
    assert_eq!((seen.cluster.as_str(), seen.labels.len()), ("east", 0));
    // The unlabelled propeller keeps asking, and keeps being refused the
    // labelled execution.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(cluster_of(&mut admin, "needs-gpu").await, None);

    let gpu = start_propeller(&endpoint, root.path(), "gpu-1", "west", &["gpu", "a100"]);
    assert_eq!(wait_for_cluster(&mut admin, "needs-gpu").await, "west");
    let seen = wait_for_live(&api, "gpu-1").await;
    assert_eq!(seen.cluster, "west");
    assert_eq!(seen.labels, ["a100", "gpu"]);

    cpu.abort();
    gpu.abort();
    server.abort();
}
