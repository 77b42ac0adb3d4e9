//! RelaunchExecution and RecoverExecution: a new execution of the original's
//! spec and inputs, pointing back at it.

mod common;

use common::*;
use tonic::Code;
use updraft_proto::flyteidl::admin::execution_metadata::ExecutionMode;
use updraft_proto::flyteidl::core::ResourceType;
use updraft_proto::flyteidl::core::workflow_execution::Phase;
use updraft_proto::flyteidl::{admin, core};

async fn app_with_original() -> TestApp {
    let mut app = TestApp::spawn().await;
    app.register_fixtures("v1").await;
    app.admin
        .create_execution(launch_request("original"))
        .await
        .expect("create the original execution");
    app
}

async fn execution(app: &mut TestApp, name: &str) -> admin::Execution {
    app.admin
        .get_execution(admin::WorkflowExecutionGetRequest {
            id: Some(workflow_execution_id(name)),
        })
        .await
        .unwrap()
        .into_inner()
}

async fn inputs(app: &mut TestApp, name: &str) -> core::LiteralMap {
    app.admin
        .get_execution_data(admin::WorkflowExecutionGetDataRequest {
            id: Some(workflow_execution_id(name)),
        })
        .await
        .unwrap()
        .into_inner()
        .full_inputs
        .unwrap()
}

async fn relaunch_runs_the_same_launch_plan_and_inputs_again() {
    let mut app = app_with_original().await;
    let relaunched = app
        .admin
        .relaunch_execution(admin::ExecutionRelaunchRequest {
            id: Some(workflow_execution_id("original")),
            name: String::new(),
            overwrite_cache: true,
        })
        .await
        .unwrap()
        .into_inner()
        .id
        .unwrap();
    assert_ne!(relaunched.name, "original");
    assert_eq!(relaunched.name.len(), 20, "a generated name");

    let copy = execution(&mut app, &relaunched.name).await;
    let spec = copy.spec.unwrap();
    assert_eq!(
        spec.launch_plan,
        Some(identifier(ResourceType::LaunchPlan, "wf", "v1"))
    );
    assert!(spec.overwrite_cache);
    let metadata = spec.metadata.unwrap();
    assert_eq!(metadata.mode, ExecutionMode::Relaunch as i32);
    assert_eq!(
        metadata.reference_execution,
        Some(workflow_execution_id("original"))
    );
    assert_eq!(copy.closure.unwrap().phase, Phase::Queued as i32);

    let original_inputs = inputs(&mut app, "original").await;
    let copied_inputs = inputs(&mut app, &relaunched.name).await;
    assert_eq!(copied_inputs, original_inputs);
    assert_eq!(integer_value(&copied_inputs.literals["a"]), Some(3));
    assert_eq!(integer_value(&copied_inputs.literals["b"]), Some(4));

    // The mode is queryable, as the console's filters expect.
    let relaunches = app
        .admin
        .list_executions(admin::ResourceListRequest {
            filters: "eq(mode,RELAUNCH)".to_string(),
            ..list_request("", 10)
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(relaunches.executions.len(), 1);
    assert_eq!(relaunches.executions[0].id, Some(relaunched));
}

async fn recover_marks_the_new_execution_recovered_under_the_given_name() {
    let mut app = app_with_original().await;
    let parent = core::NodeExecutionIdentifier {
        node_id: "n0".to_string(),
        execution_id: Some(workflow_execution_id("parent")),
    };
    let recovered = app
        .admin
        .recover_execution(admin::ExecutionRecoverRequest {
            id: Some(workflow_execution_id("original")),
            name: "original-recovered".to_string(),
            metadata: Some(admin::ExecutionMetadata {
                parent_node_execution: Some(parent.clone()),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .id
        .unwrap();
    assert_eq!(recovered, workflow_execution_id("original-recovered"));
    let metadata = execution(&mut app, "original-recovered")
        .await
        .spec
        .unwrap()
        .metadata
        .unwrap();
    assert_eq!(metadata.mode, ExecutionMode::Recovered as i32);
    assert_eq!(
        metadata.reference_execution,
        Some(workflow_execution_id("original"))
    );
    assert_eq!(metadata.parent_node_execution, Some(parent));
    assert_eq!(metadata.principal, "placeholder");
    assert_eq!(
        inputs(&mut app, "original-recovered").await,
        inputs(&mut app, "original").await
    );
}

async fn relaunch_and_recover_errors() {
    let mut app = app_with_original().await;
    assert_status(
        app.admin
            .relaunch_execution(admin::ExecutionRelaunchRequest {
                id: Some(workflow_execution_id("nosuch")),
                ..Default::default()
            })
            .await,
        Code::NotFound,
        "execution flytesnacks/development/nosuch does not exist",
    );
    assert_status(
        app.admin
            .recover_execution(admin::ExecutionRecoverRequest {
                id: Some(workflow_execution_id("nosuch")),
                ..Default::default()
            })
            .await,
        Code::NotFound,
        "execution flytesnacks/development/nosuch does not exist",
    );
    assert_status(
        app.admin
            .relaunch_execution(admin::ExecutionRelaunchRequest {
                id: Some(workflow_execution_id("original")),
                name: "original".to_string(),
                overwrite_cache: false,
            })
            .await,
        Code::AlreadyExists,
        "execution flytesnacks/development/original already exists",
    );
    assert_status(
        app.admin
            .recover_execution(admin::ExecutionRecoverRequest {
                id: Some(workflow_execution_id("original")),
                name: "original".to_string(),
                metadata: None,
            })
            .await,
        Code::AlreadyExists,
        "already exists",
    );
    assert_status(
        app.admin
            .relaunch_execution(admin::ExecutionRelaunchRequest::default())
            .await,
        Code::InvalidArgument,
        "missing id",
    );
    assert_status(
        app.admin
            .recover_execution(admin::ExecutionRecoverRequest {
                id: Some(workflow_execution_id("original")),
                name: "Not A Name".to_string(),
                metadata: None,
            })
            .await,
        Code::InvalidArgument,
        "invalid execution name",
    );
}

common::on_every_backend!(
    relaunch_runs_the_same_launch_plan_and_inputs_again,
    recover_marks_the_new_execution_recovered_under_the_given_name,
    relaunch_and_recover_errors,
);
