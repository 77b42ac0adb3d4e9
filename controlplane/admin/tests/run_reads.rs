//! Reads of a run once propeller has reported it: DataProxyService.GetData
//! (`flyte://v1/…` addresses of execution, node and task-attempt inputs and
//! outputs, as flytekit's `FlyteRemote.get` sends them), GetExecutionMetrics,
//! GetDynamicNodeWorkflow and ListNodeExecutionsForTask.

mod common;

use std::collections::HashMap;

use bytes::Bytes;
use common::*;
use prost::Message;
use tonic::Code;
use updraft_proto::flyteidl::core::ResourceType;
use updraft_proto::flyteidl::core::node_execution::Phase as NodePhase;
use updraft_proto::flyteidl::core::task_execution::Phase as TaskPhase;
use updraft_proto::flyteidl::core::workflow_execution::Phase as WorkflowPhase;
use updraft_proto::flyteidl::service::{GetDataRequest, GetDataResponse, get_data_response};
use updraft_proto::flyteidl::{admin, core, event};

const EXECUTION: &str = "fetched";

fn at(seconds: i64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp { seconds, nanos: 0 })
}

fn node_id(node: &str) -> core::NodeExecutionIdentifier {
    core::NodeExecutionIdentifier {
        node_id: node.to_string(),
        execution_id: Some(workflow_execution_id(EXECUTION)),
    }
}

/// Writes a literal map where propeller would and answers its URL.
async fn put_literals(app: &TestApp, key: &str, literals: &[(&str, i64)]) -> String {
    let map = core::LiteralMap {
        literals: literals
            .iter()
            .map(|(name, value)| ((*name).to_string(), integer(*value)))
            .collect::<HashMap<_, _>>(),
    };
    app.api
        .blobs()
        .put(key, Bytes::from(map.encode_to_vec()))
        .await
        .expect("write literals");
    app.api.blobs().uri_for(key)
}

#[allow(deprecated)] // `output_uri` is deprecated but is what propeller sends.
async fn node_event(app: &mut TestApp, phase: NodePhase, input_uri: &str, output_uri: &str) {
    app.admin
        .create_node_event(admin::NodeExecutionEventRequest {
            request_id: format!("n0-{}", phase.as_str_name()),
            event: Some(event::NodeExecutionEvent {
                id: Some(node_id("n0")),
                producer_id: "propeller".to_string(),
                phase: phase as i32,
                occurred_at: at(1_800_000_000 + phase as i64),
                input_value: (!input_uri.is_empty())
                    .then(|| event::node_execution_event::InputValue::InputUri(input_uri.into())),
                output_result: (!output_uri.is_empty()).then(|| {
                    event::node_execution_event::OutputResult::OutputUri(output_uri.into())
                }),
                ..Default::default()
            }),
        })
        .await
        .expect("node event");
}

#[allow(deprecated)]
async fn task_event(
    app: &mut TestApp,
    attempt: u32,
    phase: TaskPhase,
    input_uri: &str,
    output_uri: &str,
) {
    app.admin
        .create_task_event(admin::TaskExecutionEventRequest {
            request_id: format!("attempt-{attempt}-{}", phase.as_str_name()),
            event: Some(event::TaskExecutionEvent {
                task_id: Some(identifier(ResourceType::Task, "add", "v1")),
                parent_node_execution_id: Some(node_id("n0")),
                retry_attempt: attempt,
                phase: phase as i32,
                producer_id: "propeller".to_string(),
                occurred_at: at(1_800_000_010 + i64::from(attempt) * 10 + phase as i64),
                input_value: (!input_uri.is_empty())
                    .then(|| event::task_execution_event::InputValue::InputUri(input_uri.into())),
                output_result: (!output_uri.is_empty()).then(|| {
                    event::task_execution_event::OutputResult::OutputUri(output_uri.into())
                }),
                task_type: "python-task".to_string(),
                ..Default::default()
            }),
        })
        .await
        .expect("task event");
}

#[allow(deprecated)]
async fn workflow_event(app: &mut TestApp, phase: WorkflowPhase, output_uri: &str) {
    app.admin
        .create_workflow_event(admin::WorkflowExecutionEventRequest {
            request_id: format!("wf-{}", phase.as_str_name()),
            event: Some(event::WorkflowExecutionEvent {
                execution_id: Some(workflow_execution_id(EXECUTION)),
                producer_id: "propeller".to_string(),
                phase: phase as i32,
                occurred_at: at(1_800_000_000 + phase as i64),
                output_result: (!output_uri.is_empty()).then(|| {
                    event::workflow_execution_event::OutputResult::OutputUri(output_uri.into())
                }),
            }),
        })
        .await
        .expect("workflow event");
}

/// An execution whose node n0 failed its first attempt and succeeded on the second.
async fn run_with_two_attempts(app: &mut TestApp) {
    app.register_fixtures("v1").await;
    app.admin
        .create_execution(launch_request(EXECUTION))
        .await
        .expect("create execution");
    let inputs = put_literals(app, "runs/fetched/n0/inputs.pb", &[("a", 3), ("b", 4)]).await;
    let first = put_literals(app, "runs/fetched/n0/1/outputs.pb", &[("o0", 7)]).await;
    let node_outputs = put_literals(app, "runs/fetched/n0/outputs.pb", &[("o0", 7)]).await;
    let workflow_outputs = put_literals(app, "runs/fetched/outputs.pb", &[("o0", 9)]).await;
    workflow_event(app, WorkflowPhase::Running, "").await;
    node_event(app, NodePhase::Running, &inputs, "").await;
    task_event(app, 0, TaskPhase::Running, &inputs, "").await;
    task_event(app, 0, TaskPhase::Failed, "", "").await;
    task_event(app, 1, TaskPhase::Running, &inputs, "").await;
    task_event(app, 1, TaskPhase::Succeeded, "", &first).await;
    node_event(app, NodePhase::Succeeded, "", &node_outputs).await;
    workflow_event(app, WorkflowPhase::Succeeded, &workflow_outputs).await;
}

async fn get_data(app: &mut TestApp, path: &str) -> Result<GetDataResponse, tonic::Status> {
    app.data_proxy
        .get_data(GetDataRequest {
            flyte_url: format!("flyte://v1/{PROJECT}/{DOMAIN}/{path}"),
        })
        .await
        .map(tonic::Response::into_inner)
}

fn literal_map(response: GetDataResponse) -> HashMap<String, i64> {
    match response.data {
        Some(get_data_response::Data::LiteralMap(map)) => map
            .literals
            .iter()
            .map(|(name, literal)| (name.clone(), integer_value(literal).expect("an integer")))
            .collect(),
        other => panic!("expected a literal map, got {other:?}"),
    }
}

fn single(response: GetDataResponse) -> i64 {
    match response.data {
        Some(get_data_response::Data::Literal(literal)) => {
            integer_value(&literal).expect("an integer")
        }
        other => panic!("expected one literal, got {other:?}"),
    }
}

fn map_of(pairs: &[(&str, i64)]) -> HashMap<String, i64> {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_string(), *value))
        .collect()
}

async fn get_data_answers_execution_node_and_attempt_literals() {
    let mut app = TestApp::spawn().await;
    run_with_two_attempts(&mut app).await;

    // The execution's inputs are what CreateExecution stored: the launch
    // request's values merged with the launch plan's defaults.
    let stored = app
        .admin
        .get_execution_data(admin::WorkflowExecutionGetDataRequest {
            id: Some(workflow_execution_id(EXECUTION)),
        })
        .await
        .unwrap()
        .into_inner()
        .full_inputs
        .expect("stored inputs");
    let execution_inputs = literal_map(get_data(&mut app, "fetched/i").await.unwrap());
    assert_eq!(execution_inputs.get("a"), Some(&3));
    assert_eq!(execution_inputs.len(), stored.literals.len());
    let execution_outputs = literal_map(get_data(&mut app, "fetched/o").await.unwrap());
    assert_eq!(execution_outputs, map_of(&[("o0", 9)]));
    assert_eq!(single(get_data(&mut app, "fetched/o/o0").await.unwrap()), 9);

    let node_inputs = literal_map(get_data(&mut app, "fetched/n0/i").await.unwrap());
    assert_eq!(node_inputs, map_of(&[("a", 3), ("b", 4)]));
    let node_outputs = literal_map(get_data(&mut app, "fetched/n0/o").await.unwrap());
    assert_eq!(node_outputs, map_of(&[("o0", 7)]));
    assert_eq!(
        single(get_data(&mut app, "fetched/n0/i/b").await.unwrap()),
        4
    );

    let attempt_inputs = literal_map(get_data(&mut app, "fetched/n0/0/i").await.unwrap());
    assert_eq!(attempt_inputs, map_of(&[("a", 3), ("b", 4)]));
    let attempt_outputs = literal_map(get_data(&mut app, "fetched/n0/1/o").await.unwrap());
    assert_eq!(attempt_outputs, map_of(&[("o0", 7)]));
    assert_eq!(
        single(get_data(&mut app, "fetched/n0/1/o/o0").await.unwrap()),
        7
    );
}

async fn get_data_explains_what_is_missing_or_malformed() {
    let mut app = TestApp::spawn().await;
    run_with_two_attempts(&mut app).await;

    let missing = [
        (
            "fetched/n0/0/o",
            "attempt 0 of node n0 of execution flytesnacks/development/fetched has no outputs",
        ),
        (
            "fetched/n0/7/i",
            "node n0 of execution flytesnacks/development/fetched has no task attempt 7",
        ),
        (
            "fetched/n9/i",
            "node n9 of execution flytesnacks/development/fetched does not exist",
        ),
        (
            "unknown/i",
            "execution flytesnacks/development/unknown does not exist",
        ),
        (
            "fetched/n0/o/nope",
            "have no literal named \"nope\" (they have: o0)",
        ),
        (
            "fetched/n0/d",
            "node n0 of execution flytesnacks/development/fetched has no deck",
        ),
    ];
    for (path, message) in missing {
        assert_status(get_data(&mut app, path).await, Code::NotFound, message);
    }

    let malformed = [
        ("fetched", "it does not say i, o or d"),
        ("fetched/n0/x", "the data kind must be i, o or d"),
        ("fetched/d", "only node executions have decks"),
        ("fetched/n0/0/i/a/b", "the data kind must be i, o or d"),
    ];
    for (path, message) in malformed {
        assert_status(
            get_data(&mut app, path).await,
            Code::InvalidArgument,
            message,
        );
    }
    assert_status(
        app.data_proxy
            .get_data(GetDataRequest {
                flyte_url: "s3://bucket/fetched/n0/i".to_string(),
            })
            .await,
        Code::InvalidArgument,
        "it must start with flyte://v1/",
    );
    assert_status(
        app.data_proxy
            .get_data(GetDataRequest {
                flyte_url: "flyte://v1/flytesnacks/development".to_string(),
            })
            .await,
        Code::InvalidArgument,
        "it must name a project, a domain and an execution",
    );
    assert_status(
        app.data_proxy
            .get_data(GetDataRequest {
                flyte_url: String::new(),
            })
            .await,
        Code::InvalidArgument,
        "missing flyte_url",
    );
}

/// The Python of the worktree's `.venv`, where flytekit is installed.
fn flytekit_python() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python")
}

async fn flytekit_remote_get_reads_the_same_literals() {
    let mut app = TestApp::spawn().await;
    run_with_two_attempts(&mut app).await;
    let endpoint = app.http_base.trim_start_matches("http://").to_string();
    // FlyteRemote.get as a user calls it; it swallows errors and answers
    // None, so the script prints what it got and the test compares.
    let script = format!(
        r#"
from flytekit.configuration import Config
from flytekit.remote import FlyteRemote
remote = FlyteRemote(Config.for_endpoint("{endpoint}", insecure=True), default_project="{PROJECT}", default_domain="{DOMAIN}")
base = "flyte://v1/{PROJECT}/{DOMAIN}/{EXECUTION}"
node_outputs = remote.get(base + "/n0/o")
print("node o0", node_outputs.get("o0", int))
attempt_inputs = remote.get(base + "/n0/0/i")
print("attempt b", attempt_inputs.get("b", int))
print("execution o0", remote.get(base + "/o/o0").scalar.primitive.integer)
print("missing", remote.get(base + "/n9/i"))
"#
    );
    let output = tokio::process::Command::new(flytekit_python())
        .arg("-c")
        .arg(script)
        .output()
        .await
        .expect("run flytekit's python");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "flytekit failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        ["node o0 7", "attempt b 4", "execution o0 9", "missing None"],
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn span_node_id(span: &core::Span) -> Option<&str> {
    match &span.id {
        Some(core::span::Id::NodeId(id)) => Some(id.node_id.as_str()),
        _ => None,
    }
}

fn span_attempt(span: &core::Span) -> Option<u32> {
    match &span.id {
        Some(core::span::Id::TaskId(id)) => Some(id.retry_attempt),
        _ => None,
    }
}

async fn metrics(app: &mut TestApp, name: &str, depth: i32) -> Result<core::Span, tonic::Status> {
    app.admin
        .get_execution_metrics(admin::WorkflowExecutionGetMetricsRequest {
            id: Some(workflow_execution_id(name)),
            depth,
        })
        .await
        .map(|response| response.into_inner().span.expect("span"))
}

async fn execution_metrics_break_a_run_into_node_and_attempt_spans() {
    let mut app = TestApp::spawn().await;
    run_with_two_attempts(&mut app).await;

    let span = metrics(&mut app, EXECUTION, 0).await.expect("metrics");
    assert!(matches!(&span.id, Some(core::span::Id::WorkflowId(id)) if id.name == EXECUTION));
    let execution = app
        .admin
        .get_execution(admin::WorkflowExecutionGetRequest {
            id: Some(workflow_execution_id(EXECUTION)),
        })
        .await
        .expect("execution")
        .into_inner();
    let closure = execution.closure.expect("closure");
    assert_eq!(span.start_time, closure.started_at);
    assert_eq!(span.end_time, closure.updated_at);
    let nodes: Vec<_> = span.spans.iter().filter_map(span_node_id).collect();
    assert_eq!(nodes, vec!["n0"]);
    let node = &span.spans[0];
    assert_eq!(
        node.start_time,
        at(1_800_000_000 + NodePhase::Running as i64)
    );
    assert_eq!(
        node.end_time,
        at(1_800_000_000 + NodePhase::Succeeded as i64)
    );
    let attempts: Vec<_> = node.spans.iter().filter_map(span_attempt).collect();
    assert_eq!(attempts, vec![0, 1], "both attempts, in the order they ran");
    assert_eq!(
        node.spans[1].end_time,
        at(1_800_000_020 + TaskPhase::Succeeded as i64)
    );

    let shallow = metrics(&mut app, EXECUTION, 1).await.expect("depth 1");
    assert_eq!(shallow.spans.len(), 1);
    assert!(
        shallow.spans[0].spans.is_empty(),
        "depth 1 stops at the nodes"
    );

    assert_status(
        metrics(&mut app, EXECUTION, -1).await,
        Code::InvalidArgument,
        "depth",
    );
    assert_status(
        metrics(&mut app, "nowhere", 0).await,
        Code::NotFound,
        "nowhere",
    );
}

async fn a_dynamic_node_answers_its_workflow_and_its_children() {
    let mut app = TestApp::spawn().await;
    run_with_two_attempts(&mut app).await;
    let get_dynamic = |node: &str| admin::GetDynamicNodeWorkflowRequest {
        id: Some(node_id(node)),
    };
    assert_status(
        app.admin.get_dynamic_node_workflow(get_dynamic("n0")).await,
        Code::NotFound,
        "not a dynamic node",
    );

    let generated = identifier(ResourceType::Workflow, "generated", "v1");
    let compiled = core::CompiledWorkflowClosure {
        primary: Some(core::CompiledWorkflow {
            template: Some(core::WorkflowTemplate {
                id: Some(generated.clone()),
                ..Default::default()
            }),
            connections: None,
        }),
        ..Default::default()
    };
    let dynamic_event =
        |node: &str, parent: Option<&str>, phase: NodePhase| admin::NodeExecutionEventRequest {
            request_id: format!("{node}-{}", phase.as_str_name()),
            event: Some(event::NodeExecutionEvent {
                id: Some(node_id(node)),
                producer_id: "propeller".to_string(),
                phase: phase as i32,
                occurred_at: at(1_800_000_100 + phase as i64),
                is_parent: parent.is_none(),
                is_dynamic: parent.is_none(),
                parent_node_metadata: parent.map(|parent| event::ParentNodeExecutionMetadata {
                    node_id: parent.to_string(),
                }),
                target_metadata: parent.is_none().then(|| {
                    event::node_execution_event::TargetMetadata::TaskNodeMetadata(
                        event::TaskNodeMetadata {
                            dynamic_workflow: Some(event::DynamicWorkflowNodeMetadata {
                                id: Some(generated.clone()),
                                compiled_workflow: Some(compiled.clone()),
                                dynamic_job_spec_uri: String::new(),
                            }),
                            ..Default::default()
                        },
                    )
                }),
                ..Default::default()
            }),
        };
    app.admin
        .create_node_event(dynamic_event("n1", None, NodePhase::Running))
        .await
        .expect("dynamic node event");
    app.admin
        .create_task_event(admin::TaskExecutionEventRequest {
            request_id: "n1-attempt-0".to_string(),
            event: Some(event::TaskExecutionEvent {
                task_id: Some(identifier(ResourceType::Task, "add", "v1")),
                parent_node_execution_id: Some(node_id("n1")),
                phase: TaskPhase::Running as i32,
                producer_id: "propeller".to_string(),
                occurred_at: at(1_800_000_101),
                task_type: "python-task".to_string(),
                ..Default::default()
            }),
        })
        .await
        .expect("dynamic task event");
    for child in ["n1-0-dn0", "n1-0-dn1"] {
        app.admin
            .create_node_event(dynamic_event(child, Some("n1"), NodePhase::Running))
            .await
            .expect("child node event");
    }

    let answered = app
        .admin
        .get_dynamic_node_workflow(get_dynamic("n1"))
        .await
        .expect("dynamic workflow")
        .into_inner();
    assert_eq!(answered.compiled_workflow, Some(compiled));

    let children_of_attempt = |retry_attempt: u32| admin::NodeExecutionForTaskListRequest {
        task_execution_id: Some(core::TaskExecutionIdentifier {
            task_id: Some(identifier(ResourceType::Task, "add", "v1")),
            node_execution_id: Some(node_id("n1")),
            retry_attempt,
        }),
        limit: 10,
        ..Default::default()
    };
    let children = app
        .admin
        .list_node_executions_for_task(children_of_attempt(0))
        .await
        .expect("children of the task")
        .into_inner();
    let mut child_ids: Vec<_> = children
        .node_executions
        .iter()
        .map(|node| node.id.as_ref().unwrap().node_id.clone())
        .collect();
    child_ids.sort();
    assert_eq!(child_ids, vec!["n1-0-dn0", "n1-0-dn1"]);

    let span = metrics(&mut app, EXECUTION, 0).await.expect("metrics");
    let dynamic = span
        .spans
        .iter()
        .find(|span| span_node_id(span) == Some("n1"))
        .expect("n1 span");
    let under: Vec<_> = dynamic
        .spans
        .iter()
        .map(|span| (span_node_id(span), span_attempt(span)))
        .collect();
    assert_eq!(under.len(), 3, "the attempt and two child nodes: {under:?}");
    assert!(under.contains(&(None, Some(0))));

    assert_status(
        app.admin
            .list_node_executions_for_task(children_of_attempt(7))
            .await,
        Code::NotFound,
        "does not exist",
    );
}

async fn an_array_attempt_merges_indexes_from_events_that_report_only_changes() {
    let mut app = TestApp::spawn().await;
    app.register_fixtures("v1").await;
    app.admin
        .create_execution(launch_request(EXECUTION))
        .await
        .expect("create execution");
    workflow_event(&mut app, WorkflowPhase::Running, "").await;
    node_event(&mut app, NodePhase::Running, "", "").await;
    let resource = |index: u32, retry_attempt: u32, phase: TaskPhase| event::ExternalResourceInfo {
        external_id: format!("n0-{index}"),
        index,
        retry_attempt,
        phase: phase as i32,
        logs: vec![core::TaskLog {
            name: format!("log {index}/{retry_attempt}"),
            uri: format!("http://logs/{index}/{retry_attempt}"),
            ..Default::default()
        }],
        ..Default::default()
    };
    let send = |phase_version: u32, resources: Vec<event::ExternalResourceInfo>| {
        admin::TaskExecutionEventRequest {
            request_id: format!("array-{phase_version}"),
            event: Some(event::TaskExecutionEvent {
                task_id: Some(identifier(ResourceType::Task, "add", "v1")),
                parent_node_execution_id: Some(node_id("n0")),
                phase: TaskPhase::Running as i32,
                phase_version,
                producer_id: "propeller".to_string(),
                occurred_at: at(1_800_000_100 + i64::from(phase_version)),
                task_type: "container_array".to_string(),
                metadata: Some(event::TaskExecutionMetadata {
                    generated_name: "n0".to_string(),
                    external_resources: resources,
                    plugin_identifier: "container_array".to_string(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
        }
    };
    let events = [
        send(
            0,
            (0..3)
                .map(|index| resource(index, 0, TaskPhase::Queued))
                .collect(),
        ),
        send(
            1,
            vec![
                resource(1, 0, TaskPhase::Running),
                resource(2, 0, TaskPhase::Running),
            ],
        ),
        send(
            2,
            vec![
                resource(1, 0, TaskPhase::Failed),
                resource(1, 1, TaskPhase::Queued),
            ],
        ),
        send(3, vec![resource(2, 0, TaskPhase::Succeeded)]),
    ];
    for request in events {
        app.admin
            .create_task_event(request)
            .await
            .expect("array event");
    }

    let attempt = app
        .admin
        .get_task_execution(admin::TaskExecutionGetRequest {
            id: Some(core::TaskExecutionIdentifier {
                task_id: Some(identifier(ResourceType::Task, "add", "v1")),
                node_execution_id: Some(node_id("n0")),
                retry_attempt: 0,
            }),
        })
        .await
        .expect("get the array attempt")
        .into_inner();
    let metadata = attempt
        .closure
        .and_then(|closure| closure.metadata)
        .expect("metadata");
    let merged: Vec<_> = metadata
        .external_resources
        .iter()
        .map(|resource| {
            (
                resource.index,
                resource.retry_attempt,
                resource.phase(),
                resource.logs.len(),
            )
        })
        .collect();
    assert_eq!(
        merged,
        vec![
            (0, 0, TaskPhase::Queued, 1),
            (1, 0, TaskPhase::Failed, 1),
            (1, 1, TaskPhase::Queued, 1),
            (2, 0, TaskPhase::Succeeded, 1),
        ]
    );
    assert_eq!(metadata.generated_name, "n0");
}

common::on_every_backend!(
    get_data_answers_execution_node_and_attempt_literals,
    get_data_explains_what_is_missing_or_malformed,
    flytekit_remote_get_reads_the_same_literals,
    execution_metrics_break_a_run_into_node_and_attempt_spans,
    a_dynamic_node_answers_its_workflow_and_its_children,
    an_array_attempt_merges_indexes_from_events_that_report_only_changes,
);
