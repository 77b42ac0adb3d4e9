//! Launching executions and what `pyflyte run --remote` and the console read back.

mod common;

use std::collections::HashMap;

use common::*;
use tonic::Code;
use updraft_admin::store::ExecutionRepo;
use updraft_proto::flyteidl::core::ResourceType;
use updraft_proto::flyteidl::core::workflow_execution::Phase;
use updraft_proto::flyteidl::{admin, core};

fn execution_request(name: &str, inputs: &[(&str, i64)]) -> admin::ExecutionCreateRequest {
    admin::ExecutionCreateRequest {
        project: PROJECT.to_string(),
        domain: DOMAIN.to_string(),
        name: name.to_string(),
        spec: Some(admin::ExecutionSpec {
            launch_plan: Some(identifier(ResourceType::LaunchPlan, "wf", "v1")),
            metadata: Some(admin::ExecutionMetadata {
                principal: "placeholder".to_string(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        inputs: Some(core::LiteralMap {
            literals: inputs
                .iter()
                .map(|(name, value)| (name.to_string(), integer(*value)))
                .collect::<HashMap<_, _>>(),
        }),
        org: String::new(),
    }
}

fn execution_id(name: &str) -> core::WorkflowExecutionIdentifier {
    core::WorkflowExecutionIdentifier {
        project: PROJECT.to_string(),
        domain: DOMAIN.to_string(),
        name: name.to_string(),
        org: String::new(),
    }
}

async fn create_execution_generates_a_name_queues_it_and_stores_merged_inputs() {
    let mut app = TestApp::spawn().await;
    app.register_fixtures("v1").await;
    let created = app
        .admin
        .create_execution(execution_request("", &[("a", 3)]))
        .await
        .unwrap()
        .into_inner();
    let id = created.id.unwrap();
    assert_eq!(id.name.len(), 20);
    assert!(id.name.chars().next().unwrap().is_ascii_lowercase());

    let execution = app
        .admin
        .get_execution(admin::WorkflowExecutionGetRequest {
            id: Some(id.clone()),
        })
        .await
        .unwrap()
        .into_inner();
    let closure = execution.closure.unwrap();
    assert_eq!(closure.phase, Phase::Queued as i32);
    assert_eq!(
        closure.workflow_id,
        Some(identifier(ResourceType::Workflow, "wf", "v1"))
    );
    assert!(closure.created_at.is_some());
    assert_eq!(
        execution.spec.unwrap().launch_plan,
        Some(identifier(ResourceType::LaunchPlan, "wf", "v1"))
    );

    #[allow(deprecated)]
    let data = app
        .admin
        .get_execution_data(admin::WorkflowExecutionGetDataRequest {
            id: Some(id.clone()),
        })
        .await
        .unwrap()
        .into_inner();
    let inputs = data.full_inputs.unwrap().literals;
    assert_eq!(integer_value(&inputs["a"]), Some(3));
    assert_eq!(integer_value(&inputs["b"]), Some(4), "default filled in");
    #[allow(deprecated)]
    let url = data.inputs.unwrap();
    assert!(url.url.starts_with("file://"));
    assert!(url.bytes > 0);

    // A propeller can claim it exactly once while the lease holds.
    let store = app.api.store();
    let claimed = store
        .claim_next_execution(
            &updraft_admin::store::Claimant {
                propeller_id: "propeller-1",
                cluster: "default",
                labels: &[],
            },
            1,
            i64::MAX,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.record.key.name, id.name);
    assert_eq!(claimed.claim_count, 1);
    assert!(
        store
            .claim_next_execution(
                &updraft_admin::store::Claimant {
                    propeller_id: "propeller-2",
                    cluster: "default",
                    labels: &[],
                },
                2,
                i64::MAX
            )
            .await
            .unwrap()
            .is_none()
    );
}

async fn executions_list_filter_terminate_and_archive() {
    let mut app = TestApp::spawn().await;
    app.register_fixtures("v1").await;
    for name in ["first", "second", "third"] {
        app.admin
            .create_execution(execution_request(name, &[("a", 1), ("b", 2)]))
            .await
            .unwrap();
    }
    app.admin
        .terminate_execution(admin::ExecutionTerminateRequest {
            id: Some(execution_id("second")),
            cause: "changed my mind".to_string(),
        })
        .await
        .unwrap();
    let aborted = app
        .admin
        .get_execution(admin::WorkflowExecutionGetRequest {
            id: Some(execution_id("second")),
        })
        .await
        .unwrap()
        .into_inner()
        .closure
        .unwrap();
    assert_eq!(aborted.phase, Phase::Aborted as i32);
    match aborted.output_result {
        Some(admin::execution_closure::OutputResult::AbortMetadata(metadata)) => {
            assert_eq!(metadata.cause, "changed my mind");
        }
        other => panic!("expected abort metadata, got {other:?}"),
    }
    assert_status(
        app.admin
            .terminate_execution(admin::ExecutionTerminateRequest {
                id: Some(execution_id("second")),
                cause: "again".to_string(),
            })
            .await,
        Code::FailedPrecondition,
        "already terminated",
    );

    let queued = app
        .admin
        .list_executions(admin::ResourceListRequest {
            filters: "eq(phase,QUEUED)+eq(workflow.name,wf)".to_string(),
            sort_by: Some(admin::Sort {
                key: "name".to_string(),
                direction: admin::sort::Direction::Ascending as i32,
            }),
            ..list_request("", 10)
        })
        .await
        .unwrap()
        .into_inner();
    let names: Vec<&str> = queued
        .executions
        .iter()
        .map(|execution| execution.id.as_ref().unwrap().name.as_str())
        .collect();
    assert_eq!(names, vec!["first", "third"]);

    let some = app
        .admin
        .list_executions(admin::ResourceListRequest {
            filters: "value_in(name,first;second)".to_string(),
            ..list_request("", 10)
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(some.executions.len(), 2);

    let containing = app
        .admin
        .list_executions(admin::ResourceListRequest {
            filters: "contains(name,ir)".to_string(),
            ..list_request("", 10)
        })
        .await
        .unwrap()
        .into_inner();
    let mut names: Vec<&str> = containing
        .executions
        .iter()
        .map(|execution| execution.id.as_ref().unwrap().name.as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(names, vec!["first", "third"]);

    let page = app
        .admin
        .list_executions(list_request("", 2))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.executions.len(), 2);
    assert_eq!(page.token, "2");

    app.admin
        .update_execution(admin::ExecutionUpdateRequest {
            id: Some(execution_id("first")),
            state: admin::ExecutionState::ExecutionArchived as i32,
        })
        .await
        .unwrap();
    let archived = app
        .admin
        .list_executions(admin::ResourceListRequest {
            filters: "eq(state,EXECUTION_ARCHIVED)".to_string(),
            ..list_request("", 10)
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(archived.executions.len(), 1);
    let details = archived.executions[0]
        .closure
        .as_ref()
        .unwrap()
        .state_change_details
        .as_ref()
        .unwrap();
    assert_eq!(
        details.state,
        admin::ExecutionState::ExecutionArchived as i32
    );
    let active = app
        .admin
        .list_executions(list_request("", 10))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        active.executions.len(),
        2,
        "archived executions are hidden unless the filter names the state"
    );
}

async fn execution_errors() {
    let mut app = TestApp::spawn().await;
    assert_status(
        app.admin
            .create_execution(execution_request("x", &[("a", 1)]))
            .await,
        Code::NotFound,
        "launch plan flytesnacks/development/wf/v1",
    );
    app.register_fixtures("v1").await;
    assert_status(
        app.admin
            .create_execution(execution_request("x", &[]))
            .await,
        Code::InvalidArgument,
        "missing required input a",
    );
    assert_status(
        app.admin
            .create_execution(execution_request("x", &[("a", 1), ("zzz", 2)]))
            .await,
        Code::InvalidArgument,
        "invalid input zzz",
    );
    assert_status(
        app.admin
            .create_execution(execution_request("Bad_Name", &[("a", 1)]))
            .await,
        Code::InvalidArgument,
        "invalid execution name",
    );
    app.admin
        .create_execution(execution_request("taken", &[("a", 1)]))
        .await
        .unwrap();
    assert_status(
        app.admin
            .create_execution(execution_request("taken", &[("a", 1)]))
            .await,
        Code::AlreadyExists,
        "taken",
    );
    let mut other_project = execution_request("y", &[("a", 1)]);
    other_project.project = "nowhere".to_string();
    assert_status(
        app.admin.create_execution(other_project).await,
        Code::InvalidArgument,
        "nowhere",
    );
    assert_status(
        app.admin
            .get_execution(admin::WorkflowExecutionGetRequest {
                id: Some(execution_id("ghost")),
            })
            .await,
        Code::NotFound,
        "ghost",
    );
    assert_status(
        app.admin
            .get_execution_data(admin::WorkflowExecutionGetDataRequest {
                id: Some(execution_id("ghost")),
            })
            .await,
        Code::NotFound,
        "ghost",
    );
    assert_status(
        app.admin
            .terminate_execution(admin::ExecutionTerminateRequest {
                id: Some(execution_id("ghost")),
                cause: String::new(),
            })
            .await,
        Code::NotFound,
        "ghost",
    );
    assert_status(
        app.admin
            .update_execution(admin::ExecutionUpdateRequest {
                id: Some(execution_id("ghost")),
                state: 1,
            })
            .await,
        Code::NotFound,
        "ghost",
    );
    assert_status(
        app.admin
            .list_executions(admin::ResourceListRequest {
                filters: "eq(phase,SLEEPING)".to_string(),
                ..list_request("", 10)
            })
            .await,
        Code::InvalidArgument,
        "SLEEPING",
    );
    assert_status(
        app.admin
            .list_executions(admin::ResourceListRequest {
                sort_by: Some(admin::Sort {
                    key: "password".to_string(),
                    direction: 0,
                }),
                ..list_request("", 10)
            })
            .await,
        Code::InvalidArgument,
        "password",
    );
}

async fn single_task_executions_generate_a_workflow_and_launch_plan() {
    let mut app = TestApp::spawn().await;
    app.admin
        .create_task(task_request("add", "v1"))
        .await
        .unwrap();
    let mut request = execution_request("solo", &[("a", 1), ("b", 2)]);
    request.spec.as_mut().unwrap().launch_plan = Some(identifier(ResourceType::Task, "add", "v1"));
    app.admin.create_execution(request.clone()).await.unwrap();

    let execution = app
        .admin
        .get_execution(admin::WorkflowExecutionGetRequest {
            id: Some(execution_id("solo")),
        })
        .await
        .unwrap()
        .into_inner();
    // flytekit tells single-task executions apart by this resource type.
    assert_eq!(
        execution.spec.unwrap().launch_plan,
        Some(identifier(ResourceType::Task, "add", "v1"))
    );
    assert_eq!(
        execution.closure.unwrap().workflow_id,
        Some(identifier(ResourceType::Workflow, ".flytegen.add", "v1"))
    );
    let workflow = app
        .admin
        .get_workflow(get_request(identifier(
            ResourceType::Workflow,
            ".flytegen.add",
            "v1",
        )))
        .await
        .unwrap()
        .into_inner();
    let primary = workflow
        .closure
        .unwrap()
        .compiled_workflow
        .unwrap()
        .primary
        .unwrap();
    assert_eq!(
        primary.connections.unwrap().upstream["end-node"].ids,
        vec!["add"]
    );
    let entity = app
        .admin
        .get_named_entity(admin::NamedEntityGetRequest {
            resource_type: ResourceType::LaunchPlan as i32,
            id: Some(admin::NamedEntityIdentifier {
                project: PROJECT.to_string(),
                domain: DOMAIN.to_string(),
                name: ".flytegen.add".to_string(),
                org: String::new(),
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        entity.metadata.unwrap().state,
        admin::NamedEntityState::SystemGenerated as i32
    );

    // A second run reuses the generated launch plan.
    request.name = "solo-again".to_string();
    app.admin.create_execution(request).await.unwrap();
    let data = app
        .admin
        .get_execution_data(admin::WorkflowExecutionGetDataRequest {
            id: Some(execution_id("solo-again")),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        integer_value(&data.full_inputs.unwrap().literals["b"]),
        Some(2)
    );

    let mut missing = execution_request("ghost-task", &[]);
    missing.spec.as_mut().unwrap().launch_plan =
        Some(identifier(ResourceType::Task, "ghost", "v1"));
    assert_status(
        app.admin.create_execution(missing).await,
        Code::NotFound,
        "task flytesnacks/development/ghost/v1",
    );
}

#[allow(deprecated)]
async fn finish_after(app: &mut TestApp, name: &str, seconds: i64) {
    let start = 1_800_000_000;
    for (phase, at) in [(Phase::Running, start), (Phase::Succeeded, start + seconds)] {
        app.admin
            .create_workflow_event(admin::WorkflowExecutionEventRequest {
                request_id: format!("{name}-{}", phase.as_str_name()),
                event: Some(updraft_proto::flyteidl::event::WorkflowExecutionEvent {
                    execution_id: Some(execution_id(name)),
                    producer_id: "propeller".to_string(),
                    phase: phase as i32,
                    occurred_at: Some(prost_types::Timestamp {
                        seconds: at,
                        nanos: 0,
                    }),
                    output_result: None,
                }),
            })
            .await
            .expect("workflow event");
    }
}

async fn executions_filter_and_sort_by_duration() {
    let mut app = TestApp::spawn().await;
    app.register_fixtures("v1").await;
    for name in ["quick", "slow", "running"] {
        app.admin
            .create_execution(execution_request(name, &[("a", 1), ("b", 2)]))
            .await
            .unwrap();
    }
    finish_after(&mut app, "quick", 10).await;
    finish_after(&mut app, "slow", 600).await;
    let names = |list: admin::ExecutionList| {
        list.executions
            .into_iter()
            .map(|execution| execution.id.unwrap().name)
            .collect::<Vec<_>>()
    };
    let list = |filters: &str, descending: bool| {
        let mut request = list_request("", 10);
        request.filters = filters.to_string();
        request.sort_by = Some(admin::Sort {
            key: "duration".to_string(),
            direction: if descending {
                admin::sort::Direction::Descending as i32
            } else {
                admin::sort::Direction::Ascending as i32
            },
        });
        request
    };

    // Only finished executions have a duration; Go notation and seconds both work.
    let longest_first = app
        .admin
        .list_executions(list("gte(duration,1)", true))
        .await
        .unwrap();
    assert_eq!(names(longest_first.into_inner()), ["slow", "quick"]);
    let shortest_first = app
        .admin
        .list_executions(list("gte(duration,1s)", false))
        .await
        .unwrap();
    assert_eq!(names(shortest_first.into_inner()), ["quick", "slow"]);
    let long = app
        .admin
        .list_executions(list("gte(duration,5m)", true))
        .await
        .unwrap();
    assert_eq!(names(long.into_inner()), ["slow"]);
    let between = app
        .admin
        .list_executions(list("gt(duration,5)+lt(duration,1m)", true))
        .await
        .unwrap();
    assert_eq!(names(between.into_inner()), ["quick"]);

    let refused = app
        .admin
        .list_executions(list("gte(duration,soon)", true))
        .await
        .expect_err("not a duration");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().contains("duration"),
        "{}",
        refused.message()
    );
}

common::on_every_backend!(
    create_execution_generates_a_name_queues_it_and_stores_merged_inputs,
    executions_list_filter_terminate_and_archive,
    execution_errors,
    single_task_executions_generate_a_workflow_and_launch_plan,
    executions_filter_and_sort_by_duration,
);
