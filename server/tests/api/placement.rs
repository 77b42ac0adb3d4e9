//! The execution page says where an execution runs: its cluster label, the
//! cluster that claimed it, and, while no live propeller serves its label,
//! that it waits for such a data plane. Real updraft without a propeller of
//! its own, so the test's claims decide what happens.

use updraft_proto::flyteidl::core::{self, ResourceType};
use updraft_proto::flyteidl::service::admin_service_client::AdminServiceClient;
use updraft_proto::flyteidl::{admin, core::workflow_execution::Phase};
use updraft_proto::updraft::admin::v1::ClaimExecutionRequest;
use updraft_proto::updraft::admin::v1::execution_queue_service_client::ExecutionQueueServiceClient;

use crate::helpers::TestApp;

const PROJECT: &str = "flytesnacks";
const DOMAIN: &str = "development";

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

/// A one-node workflow `wf` and its launch plan.
async fn register(admin: &mut AdminServiceClient<tonic::transport::Channel>) {
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
            id: Some(identifier(ResourceType::LaunchPlan, "wf")),
            spec: Some(admin::LaunchPlanSpec {
                workflow_id: Some(workflow_id),
                ..Default::default()
            }),
        })
        .await
        .expect("create launch plan");
}

async fn page_of(app: &TestApp, execution: &str) -> String {
    let path = format!("/console/projects/{PROJECT}/domains/{DOMAIN}/executions/{execution}");
    let response = app.http.get(app.url(&path)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

#[tokio::test]
async fn the_execution_page_shows_the_label_the_cluster_and_why_it_waits() {
    let app = TestApp::spawn_with_environment(vec![(
        "UPDRAFT_PROPELLER__ENABLED".to_string(),
        "false".to_string(),
    )])
    .await;
    let channel = app.grpc_channel().await;
    let mut admin = AdminServiceClient::new(channel.clone());
    let mut queue = ExecutionQueueServiceClient::new(channel);
    register(&mut admin).await;
    admin
        .create_execution(admin::ExecutionCreateRequest {
            project: PROJECT.into(),
            domain: DOMAIN.into(),
            name: "needs-gpu".into(),
            spec: Some(admin::ExecutionSpec {
                launch_plan: Some(identifier(ResourceType::LaunchPlan, "wf")),
                metadata: Some(admin::ExecutionMetadata::default()),
                execution_cluster_label: Some(admin::ExecutionClusterLabel {
                    value: "gpu".into(),
                }),
                ..Default::default()
            }),
            inputs: Some(core::LiteralMap::default()),
            org: String::new(),
        })
        .await
        .expect("create a labelled execution");

    let html = page_of(&app, "needs-gpu").await;
    assert!(html.contains("Cluster label"), "{html}");
    assert!(
        html.contains("Waiting for a data plane labelled gpu"),
        "{html}"
    );
    assert!(!html.contains(">Cluster<"), "not claimed yet: {html}");

    // A propeller serving the label claims it: the page names its cluster
    // and no longer says it waits.
    let claimed = queue
        .claim_execution(ClaimExecutionRequest {
            propeller_id: "gpu-1".into(),
            cluster: "gpu-west".into(),
            labels: vec!["gpu".into()],
            ..Default::default()
        })
        .await
        .expect("claim")
        .into_inner()
        .claimed
        .expect("the labelled execution is handed out");
    assert_eq!(
        claimed
            .execution
            .and_then(|execution| execution.id)
            .map(|id| id.name),
        Some("needs-gpu".to_string())
    );
    let html = page_of(&app, "needs-gpu").await;
    assert!(html.contains(">Cluster<"), "{html}");
    assert!(html.contains(">gpu-west<"), "{html}");
    assert!(!html.contains("Waiting for a data plane"), "{html}");
    let phase = admin
        .get_execution(admin::WorkflowExecutionGetRequest {
            id: Some(core::WorkflowExecutionIdentifier {
                project: PROJECT.into(),
                domain: DOMAIN.into(),
                name: "needs-gpu".into(),
                org: String::new(),
            }),
        })
        .await
        .expect("get execution")
        .into_inner()
        .closure
        .map(|closure| closure.phase);
    assert_eq!(
        phase,
        Some(Phase::Queued as i32),
        "claimed, not yet started"
    );
}
