//! Whole runs through a real admin on port 0 over SQLite, with real flytekit
//! tasks (`.venv`, or `UPDRAFT_TEST_PYTHON_BIN`):
//! - a propeller that stops mid-run (its runtime dropped, as a `kill -9`
//!   would leave things) and a new one on the same admin and object store:
//!   the run continues from what was recorded;
//! - `RecoverExecution` reusing the nodes that succeeded in a failed execution;
//! - the propeller API's `WatchExecution`/`WatchExecutions` following a run.

mod common;

use common::{as_integer, integer, python_bin_dir};

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tonic::transport::Channel;
use updraft_admin::{AdminApi, AdminSettings};
use updraft_propeller::api::PropellerApi;
use updraft_propeller::engine::{Propeller, PropellerSettings};
use updraft_propeller::local::{LocalProcessRuntime, LocalRuntimeSettings};
use updraft_propeller::logs::LogReader;
use updraft_proto::flyteidl::admin;
use updraft_proto::flyteidl::core::{self, ResourceType};
use updraft_proto::flyteidl::service::admin_service_client::AdminServiceClient;
use updraft_proto::updraft::propeller::v1::execution_change::Change;
use updraft_proto::updraft::propeller::v1::propeller_service_client::PropellerServiceClient;
use updraft_proto::updraft::propeller::v1::propeller_service_server::PropellerServiceServer;
use updraft_proto::updraft::propeller::v1::{WatchExecutionRequest, WatchExecutionsRequest};

const PROJECT: &str = "flytesnacks";
const DOMAIN: &str = "development";
/// Short, so a stopped propeller's execution is claimed again quickly.
const LEASE: Duration = Duration::from_secs(2);
const PATIENCE: Duration = Duration::from_secs(180);

/// `first` marks each run; `second` marks its start and end, sleeps as long
/// as the `sleep` file says, and fails while a `fail` file exists.
const TASK_MODULE: &str = r#"
import os
import time
from flytekit import task

MARKS = os.environ["UPDRAFT_TEST_MARKS"]

def mark(name):
    with open(os.path.join(MARKS, name), "a") as marks:
        marks.write(f"{os.getpid()}\n")

@task
def first(a: int) -> int:
    mark("first")
    return a + 1

@task
def second(a: int) -> int:
    mark("second-started")
    if os.path.exists(os.path.join(MARKS, "fail")):
        raise ValueError("asked to fail")
    sleep_file = os.path.join(MARKS, "sleep")
    if os.path.exists(sleep_file):
        time.sleep(float(open(sleep_file).read()))
    mark("second-finished")
    return a * 10
"#;

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

fn integer_type() -> core::LiteralType {
    core::LiteralType {
        r#type: Some(core::literal_type::Type::Simple(
            core::SimpleType::Integer as i32,
        )),
        ..Default::default()
    }
}

fn interface(input: &str, output: &str) -> core::TypedInterface {
    let variable = || core::Variable {
        r#type: Some(integer_type()),
        ..Default::default()
    };
    core::TypedInterface {
        inputs: Some(core::VariableMap {
            variables: HashMap::from([(input.to_string(), variable())]),
        }),
        outputs: Some(core::VariableMap {
            variables: HashMap::from([(output.to_string(), variable())]),
        }),
    }
}

fn promise(var: &str, node: &str, output: &str) -> core::Binding {
    core::Binding {
        var: var.into(),
        binding: Some(core::BindingData {
            value: Some(core::binding_data::Value::Promise(core::OutputReference {
                node_id: node.into(),
                var: output.into(),
                attr_path: vec![],
            })),
            ..Default::default()
        }),
    }
}

/// One test's admin, object store, task code and marks folder.
struct ControlPlane {
    admin: AdminServiceClient<Channel>,
    endpoint: String,
    root: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl ControlPlane {
    async fn start() -> Self {
        let root = tempfile::tempdir().expect("temporary directory");
        std::fs::create_dir_all(root.path().join("code")).unwrap();
        std::fs::create_dir_all(root.path().join("marks")).unwrap();
        std::fs::write(root.path().join("code/recoverytasks.py"), TASK_MODULE).unwrap();
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
        let channel = tonic::transport::Endpoint::from_shared(endpoint.clone())
            .unwrap()
            .connect()
            .await
            .expect("connect");
        let mut plane = Self {
            admin: AdminServiceClient::new(channel),
            endpoint,
            root,
            server,
        };
        plane.register().await;
        plane
    }

    fn marks(&self) -> PathBuf {
        self.root.path().join("marks")
    }

    /// How many times the task marked `name`, and the pids it marked with.
    fn marked(&self, name: &str) -> Vec<i32> {
        std::fs::read_to_string(self.marks().join(name))
            .unwrap_or_default()
            .lines()
            .filter_map(|line| line.trim().parse().ok())
            .collect()
    }

    fn task_template(&self, name: &str, output: &str) -> core::TaskTemplate {
        let args = [
            "pyflyte-execute",
            "--inputs",
            "{{.input}}",
            "--output-prefix",
            "{{.outputPrefix}}",
            "--raw-output-data-prefix",
            "{{.rawOutputDataPrefix}}",
            "--resolver",
            "flytekit.core.python_auto_container.default_task_resolver",
            "--",
            "task-module",
            "recoverytasks",
            "task-name",
            name,
        ];
        let variable = |key: &str, value: PathBuf| core::KeyValuePair {
            key: key.into(),
            value: value.display().to_string(),
        };
        core::TaskTemplate {
            id: Some(identifier(ResourceType::Task, name)),
            r#type: "python-task".into(),
            interface: Some(interface("a", output)),
            target: Some(core::task_template::Target::Container(core::Container {
                image: "ignored:latest".into(),
                args: args.iter().map(ToString::to_string).collect(),
                env: vec![
                    variable("PYTHONPATH", self.root.path().join("code")),
                    variable("UPDRAFT_TEST_MARKS", self.marks()),
                ],
                ..Default::default()
            })),
            ..Default::default()
        }
    }

    /// `wf(a) -> second(first(a))` and its launch plan.
    async fn register(&mut self) {
        for name in ["first", "second"] {
            let template = self.task_template(name, "o0");
            self.admin
                .create_task(admin::TaskCreateRequest {
                    id: template.id.clone(),
                    spec: Some(admin::TaskSpec {
                        template: Some(template),
                        description: None,
                    }),
                })
                .await
                .expect("create task");
        }
        let task_node = |id: &str, task: &str, inputs| core::Node {
            id: id.into(),
            inputs,
            target: Some(core::node::Target::TaskNode(core::TaskNode {
                reference: Some(core::task_node::Reference::ReferenceId(identifier(
                    ResourceType::Task,
                    task,
                ))),
                overrides: None,
            })),
            ..Default::default()
        };
        let workflow_id = identifier(ResourceType::Workflow, "wf");
        self.admin
            .create_workflow(admin::WorkflowCreateRequest {
                id: Some(workflow_id.clone()),
                spec: Some(admin::WorkflowSpec {
                    template: Some(core::WorkflowTemplate {
                        id: Some(workflow_id.clone()),
                        interface: Some(interface("a", "o0")),
                        nodes: vec![
                            task_node("n0", "first", vec![promise("a", "start-node", "a")]),
                            task_node("n1", "second", vec![promise("a", "n0", "o0")]),
                        ],
                        outputs: vec![promise("o0", "n1", "o0")],
                        ..Default::default()
                    }),
                    sub_workflows: vec![],
                    description: None,
                }),
            })
            .await
            .expect("create workflow");
        self.admin
            .create_launch_plan(admin::LaunchPlanCreateRequest {
                id: Some(identifier(ResourceType::LaunchPlan, "wf")),
                spec: Some(admin::LaunchPlanSpec {
                    workflow_id: Some(workflow_id),
                    default_inputs: Some(core::ParameterMap {
                        parameters: HashMap::from([(
                            "a".to_string(),
                            core::Parameter {
                                var: Some(core::Variable {
                                    r#type: Some(integer_type()),
                                    ..Default::default()
                                }),
                                behavior: Some(core::parameter::Behavior::Required(true)),
                            },
                        )]),
                    }),
                    ..Default::default()
                }),
            })
            .await
            .expect("create launch plan");
    }

    async fn launch(&mut self, a: i64) -> core::WorkflowExecutionIdentifier {
        self.admin
            .create_execution(admin::ExecutionCreateRequest {
                project: PROJECT.into(),
                domain: DOMAIN.into(),
                name: String::new(),
                spec: Some(admin::ExecutionSpec {
                    launch_plan: Some(identifier(ResourceType::LaunchPlan, "wf")),
                    metadata: Some(admin::ExecutionMetadata {
                        principal: "test".into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                inputs: Some(core::LiteralMap {
                    literals: HashMap::from([("a".to_string(), integer(a))]),
                }),
                org: String::new(),
            })
            .await
            .expect("create execution")
            .into_inner()
            .id
            .expect("execution id")
    }

    /// A propeller on its own runtime, so that it can be stopped dead.
    fn start_propeller(&self, name: &str) -> RunningPropeller {
        self.start_propeller_with_lease(name, LEASE)
    }

    fn start_propeller_with_lease(&self, name: &str, lease: Duration) -> RunningPropeller {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let root = self.root.path();
        let (propeller, api) = {
            // The admin channel's worker lives on the propeller's runtime,
            // so it dies with it.
            let _on_its_runtime = runtime.enter();
            let channel = tonic::transport::Endpoint::from_shared(self.endpoint.clone())
                .unwrap()
                .connect_lazy();
            let tasks = LocalProcessRuntime::new(LocalRuntimeSettings {
                work_root: root.join("work"),
                python_bin_dir: Some(python_bin_dir()),
                max_concurrent_tasks: 4,
                store_environment: Vec::new(),
            });
            let logs = LogReader::new(root.join("work"), tasks.running_attempts());
            let settings = PropellerSettings {
                propeller_id: name.to_string(),
                cluster: "default".to_string(),
                labels: Vec::new(),
                storage: updraft_storage::Storage::local(&root.join("store")).unwrap(),
                log_url_base: None,
                max_concurrent_executions: 4,
                default_max_parallelism: 4,
                lease_duration: lease,
            };
            let propeller = Propeller::new(settings, channel.clone(), Arc::new(tasks));
            let api = PropellerApi::new(logs, propeller.changes(), channel);
            (propeller, api)
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let engine = runtime.spawn(propeller.run_until(async move {
            let _ = stopped.await;
        }));
        RunningPropeller {
            runtime,
            api,
            stop: Some(stop),
            engine: Some(engine),
        }
    }

    async fn execution(&mut self, id: &core::WorkflowExecutionIdentifier) -> admin::Execution {
        self.admin
            .get_execution(admin::WorkflowExecutionGetRequest {
                id: Some(id.clone()),
            })
            .await
            .expect("get execution")
            .into_inner()
    }

    async fn wait_for_end(
        &mut self,
        id: &core::WorkflowExecutionIdentifier,
    ) -> core::workflow_execution::Phase {
        use core::workflow_execution::Phase;
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let phase = self.execution(id).await.closure.unwrap_or_default().phase();
            if matches!(
                phase,
                Phase::Succeeded | Phase::Failed | Phase::Aborted | Phase::TimedOut
            ) {
                return phase;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "execution {} did not end; it is {phase:?}",
                id.name
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn wait_for_mark(&self, name: &str) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while self.marked(name).is_empty() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the task never marked {name}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn output(&mut self, id: &core::WorkflowExecutionIdentifier) -> Option<i64> {
        let data = self
            .admin
            .get_execution_data(admin::WorkflowExecutionGetDataRequest {
                id: Some(id.clone()),
            })
            .await
            .expect("get execution data")
            .into_inner();
        data.full_outputs?.literals.get("o0").and_then(as_integer)
    }

    fn node_id(
        id: &core::WorkflowExecutionIdentifier,
        node: &str,
    ) -> core::NodeExecutionIdentifier {
        core::NodeExecutionIdentifier {
            node_id: node.into(),
            execution_id: Some(id.clone()),
        }
    }

    async fn node_phase(
        &mut self,
        id: &core::WorkflowExecutionIdentifier,
        node: &str,
    ) -> core::node_execution::Phase {
        self.admin
            .get_node_execution(admin::NodeExecutionGetRequest {
                id: Some(Self::node_id(id, node)),
            })
            .await
            .expect("get node execution")
            .into_inner()
            .closure
            .unwrap_or_default()
            .phase()
    }

    /// The task attempts of `node`: (retry attempt, phase, error).
    async fn attempts(
        &mut self,
        id: &core::WorkflowExecutionIdentifier,
        node: &str,
    ) -> Vec<(
        u32,
        core::task_execution::Phase,
        Option<core::ExecutionError>,
    )> {
        let mut attempts: Vec<_> = self
            .admin
            .list_task_executions(admin::TaskExecutionListRequest {
                node_execution_id: Some(Self::node_id(id, node)),
                limit: 100,
                ..Default::default()
            })
            .await
            .expect("list task executions")
            .into_inner()
            .task_executions
            .into_iter()
            .map(|task| {
                let closure = task.closure.unwrap_or_default();
                let error = match &closure.output_result {
                    Some(admin::task_execution_closure::OutputResult::Error(error)) => {
                        Some(error.clone())
                    }
                    _ => None,
                };
                (
                    task.id.map_or(0, |id| id.retry_attempt),
                    closure.phase(),
                    error,
                )
            })
            .collect();
        attempts.sort_by_key(|attempt| attempt.0);
        attempts
    }
}

struct RunningPropeller {
    runtime: tokio::runtime::Runtime,
    api: PropellerApi,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    engine: Option<tokio::task::JoinHandle<()>>,
}

impl RunningPropeller {
    /// Stops it as a SIGTERM would: its engine hands its executions back.
    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(engine) = self.engine.take() {
            engine.await.expect("the engine stops cleanly");
        }
        self.crash();
    }

    /// A client of this propeller's API, served on a port of its own runtime.
    async fn api_client(&self) -> PropellerServiceClient<Channel> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let router = tonic::service::Routes::new(PropellerServiceServer::new(self.api.clone()))
            .into_axum_router();
        self.runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, router).await.expect("serve");
        });
        PropellerServiceClient::connect(endpoint)
            .await
            .expect("connect to the propeller API")
    }

    /// Stops it dead: no more events, no cleanup; its task processes live on.
    fn crash(self) {
        self.runtime.shutdown_background();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_propeller_reads_a_task_that_finished_while_it_was_down() {
    use core::task_execution::Phase as TaskPhase;
    let mut plane = ControlPlane::start().await;
    std::fs::write(plane.marks().join("sleep"), "3").unwrap();
    let first_propeller = plane.start_propeller("propeller-a");
    let id = plane.launch(3).await;

    plane.wait_for_mark("second-started").await;
    first_propeller.crash();
    // The orphaned task process finishes while no propeller runs.
    plane.wait_for_mark("second-finished").await;
    let second_propeller = plane.start_propeller("propeller-b");

    let phase = plane.wait_for_end(&id).await;
    second_propeller.crash();
    assert_eq!(phase, core::workflow_execution::Phase::Succeeded);
    assert_eq!(plane.output(&id).await, Some(40));
    assert_eq!(plane.marked("first").len(), 1, "first ran once");
    assert_eq!(plane.marked("second-started").len(), 1, "second ran once");
    let n0: Vec<_> = plane.attempts(&id, "n0").await;
    assert_eq!(n0.len(), 1);
    assert_eq!(n0[0].1, TaskPhase::Succeeded);
    let n1 = plane.attempts(&id, "n1").await;
    assert_eq!(n1.len(), 1, "{n1:?}");
    assert_eq!(n1[0].1, TaskPhase::Succeeded);
}

/// With leases far longer than the test's patience, the second propeller
/// can only continue the execution because the first handed it back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_propeller_that_stops_hands_its_executions_back_for_the_next_to_continue() {
    let long_lease = Duration::from_secs(3600);
    let mut plane = ControlPlane::start().await;
    std::fs::write(plane.marks().join("sleep"), "60").unwrap();
    let first_propeller = plane.start_propeller_with_lease("propeller-a", long_lease);
    let id = plane.launch(2).await;

    plane.wait_for_mark("second-started").await;
    first_propeller.stop().await;
    std::fs::write(plane.marks().join("sleep"), "0").unwrap();
    let second_propeller = plane.start_propeller_with_lease("propeller-b", long_lease);

    let phase = plane.wait_for_end(&id).await;
    second_propeller.crash();
    assert_eq!(phase, core::workflow_execution::Phase::Succeeded);
    assert_eq!(plane.output(&id).await, Some(30));
    assert_eq!(plane.marked("first").len(), 1, "first ran once");
    assert_eq!(plane.marked("second-finished").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_attempt_is_failed_as_a_system_error_and_retried() {
    use core::task_execution::Phase as TaskPhase;
    let mut plane = ControlPlane::start().await;
    std::fs::write(plane.marks().join("sleep"), "60").unwrap();
    let first_propeller = plane.start_propeller("propeller-a");
    let id = plane.launch(5).await;

    plane.wait_for_mark("second-started").await;
    first_propeller.crash();
    // The task process dies with the propeller, before writing anything.
    for pid in plane.marked("second-started") {
        // SAFETY: kill(2) with a pid our own task process wrote.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    std::fs::write(plane.marks().join("sleep"), "0").unwrap();
    let second_propeller = plane.start_propeller("propeller-b");

    let phase = plane.wait_for_end(&id).await;
    second_propeller.crash();
    assert_eq!(phase, core::workflow_execution::Phase::Succeeded);
    assert_eq!(plane.output(&id).await, Some(60));
    assert_eq!(plane.marked("first").len(), 1, "first ran once");
    let n1 = plane.attempts(&id, "n1").await;
    assert_eq!(n1.len(), 2, "{n1:?}");
    assert_eq!(n1[0].1, TaskPhase::Failed);
    let lost = n1[0].2.clone().expect("the lost attempt has an error");
    assert_eq!(lost.kind(), core::execution_error::ErrorKind::System);
    assert_eq!(lost.code, "LostAttempt");
    assert_eq!(n1[1].1, TaskPhase::Succeeded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recovered_execution_reuses_the_nodes_that_succeeded() {
    let mut plane = ControlPlane::start().await;
    std::fs::write(plane.marks().join("fail"), "").unwrap();
    let propeller = plane.start_propeller("propeller-a");
    let original = plane.launch(2).await;
    assert_eq!(
        plane.wait_for_end(&original).await,
        core::workflow_execution::Phase::Failed
    );
    std::fs::remove_file(plane.marks().join("fail")).unwrap();

    let recovered = plane
        .admin
        .recover_execution(admin::ExecutionRecoverRequest {
            id: Some(original.clone()),
            name: String::new(),
            metadata: None,
        })
        .await
        .expect("recover")
        .into_inner()
        .id
        .expect("recovered id");

    let phase = plane.wait_for_end(&recovered).await;
    propeller.crash();
    assert_eq!(phase, core::workflow_execution::Phase::Succeeded);
    assert_eq!(plane.output(&recovered).await, Some(30));
    assert_eq!(plane.marked("first").len(), 1, "first was not run again");
    assert_eq!(
        plane.node_phase(&recovered, "n0").await,
        core::node_execution::Phase::Recovered
    );
    assert!(plane.attempts(&recovered, "n0").await.is_empty());
    assert_eq!(
        plane.node_phase(&recovered, "n1").await,
        core::node_execution::Phase::Succeeded
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_streams_every_node_and_task_change_then_ends_with_the_run() {
    use core::node_execution::Phase as NodePhase;
    use core::task_execution::Phase as TaskPhase;
    use core::workflow_execution::Phase;
    let mut plane = ControlPlane::start().await;
    let propeller = plane.start_propeller("propeller-a");
    let mut api = propeller.api_client().await;
    let mut list = api
        .watch_executions(WatchExecutionsRequest {
            project: PROJECT.into(),
            domain: DOMAIN.into(),
        })
        .await
        .expect("watch the project")
        .into_inner();
    let id = plane.launch(4).await;

    let mut stream = api
        .watch_execution(WatchExecutionRequest {
            execution: Some(id.clone()),
        })
        .await
        .expect("watch the execution")
        .into_inner();
    let mut changes = Vec::new();
    let collect = async {
        while let Some(change) = stream.message().await.expect("the watch stays healthy") {
            changes.push(change);
        }
    };
    tokio::time::timeout(PATIENCE, collect)
        .await
        .expect("the watch ends when the run ends");
    propeller.crash();

    assert_eq!(plane.output(&id).await, Some(50));
    assert!(
        changes
            .iter()
            .all(|change| change.execution.as_ref() == Some(&id)),
        "every change names the watched execution"
    );
    let phases: Vec<_> = changes
        .iter()
        .filter_map(|change| match change.change {
            Some(Change::WorkflowPhase(phase)) => Phase::try_from(phase).ok(),
            _ => None,
        })
        .collect();
    assert!(
        matches!(phases[0], Phase::Queued | Phase::Running),
        "the first message is the current phase: {phases:?}"
    );
    assert_eq!(phases.last(), Some(&Phase::Succeeded), "{phases:?}");
    for node in ["n0", "n1"] {
        let node_phases: Vec<_> = changes
            .iter()
            .filter_map(|change| match &change.change {
                Some(Change::Node(node_change))
                    if node_change.id.as_ref().is_some_and(|id| id.node_id == node) =>
                {
                    NodePhase::try_from(node_change.phase).ok()
                }
                _ => None,
            })
            .collect();
        assert!(
            node_phases.contains(&NodePhase::Running),
            "{node}: {node_phases:?}"
        );
        assert_eq!(
            node_phases.last(),
            Some(&NodePhase::Succeeded),
            "{node}: {node_phases:?}"
        );
        let task_phases: Vec<_> = changes
            .iter()
            .filter_map(|change| match &change.change {
                Some(Change::Task(task))
                    if task
                        .id
                        .as_ref()
                        .and_then(|id| id.node_execution_id.as_ref())
                        .is_some_and(|id| id.node_id == node) =>
                {
                    TaskPhase::try_from(task.phase).ok()
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            task_phases.last(),
            Some(&TaskPhase::Succeeded),
            "{node}: {task_phases:?}"
        );
    }

    let mut listed = Vec::new();
    while let Ok(Ok(Some(change))) =
        tokio::time::timeout(Duration::from_millis(500), list.message()).await
    {
        listed.push(change);
    }
    assert!(
        listed
            .iter()
            .all(|change| matches!(change.change, Some(Change::WorkflowPhase(_)))),
        "a project watch carries workflow phases only"
    );
    assert!(
        listed
            .iter()
            .any(|change| change.execution.as_ref() == Some(&id)
                && change.change == Some(Change::WorkflowPhase(Phase::Succeeded as i32))),
        "the project watch saw the run succeed: {listed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watching_what_does_not_exist_is_refused_with_the_reason() {
    let plane = ControlPlane::start().await;
    let propeller = plane.start_propeller("propeller-a");
    let mut api = propeller.api_client().await;

    let missing = api
        .watch_execution(WatchExecutionRequest {
            execution: Some(core::WorkflowExecutionIdentifier {
                project: PROJECT.into(),
                domain: DOMAIN.into(),
                name: "nosuchrun".into(),
                org: String::new(),
            }),
        })
        .await
        .expect_err("an unknown execution");
    let no_project = api
        .watch_executions(WatchExecutionsRequest {
            project: String::new(),
            domain: DOMAIN.into(),
        })
        .await
        .expect_err("no project");
    propeller.crash();

    assert_eq!(missing.code(), tonic::Code::NotFound);
    assert!(
        missing.message().contains("nosuchrun"),
        "{}",
        missing.message()
    );
    assert_eq!(no_project.code(), tonic::Code::InvalidArgument);
}
