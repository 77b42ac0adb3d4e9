//! The local-process runtime running real flytekit tasks (`pyflyte-execute`
//! from the repo's `.venv`, or `UPDRAFT_TEST_PYTHON_BIN`).

mod common;

use common::{as_integer, integer, python_bin_dir};

use std::collections::BTreeMap;
use std::path::PathBuf;

use updraft_propeller::local::{LocalProcessRuntime, LocalRuntimeSettings};
use updraft_propeller::outcome::{TaskOutcome, read_outcome};
use updraft_propeller::runtime::{ProcessExit, TaskLaunch, TaskRuntime};
use updraft_proto::flyteidl::core;
use updraft_storage::Storage;

const TASK_MODULE: &str = r#"
import time
from flytekit import task

@task
def add(a: int, b: int) -> int:
    print(f"adding {a} and {b}")
    return a + b

@task
def explode(a: int) -> int:
    raise ValueError(f"boom {a}")

@task
def sleepy(a: int) -> int:
    time.sleep(60)
    return a
"#;

/// A python-task template as flytekit registers it (without fast registration).
fn flytekit_task(task_name: &str) -> core::TaskTemplate {
    let args = [
        "pyflyte-execute",
        "--inputs",
        "{{.input}}",
        "--output-prefix",
        "{{.outputPrefix}}",
        "--raw-output-data-prefix",
        "{{.rawOutputDataPrefix}}",
        "--checkpoint-path",
        "{{.checkpointOutputPrefix}}",
        "--prev-checkpoint",
        "{{.prevCheckpointPrefix}}",
        "--resolver",
        "flytekit.core.python_auto_container.default_task_resolver",
        "--",
        "task-module",
        "usertasks",
        "task-name",
        task_name,
    ];
    core::TaskTemplate {
        id: Some(core::Identifier {
            resource_type: core::ResourceType::Task as i32,
            project: "flytesnacks".into(),
            domain: "development".into(),
            name: format!("usertasks.{task_name}"),
            version: "v1".into(),
            org: String::new(),
        }),
        r#type: "python-task".into(),
        target: Some(core::task_template::Target::Container(core::Container {
            image: "ignored:latest".into(),
            args: args.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        })),
        ..Default::default()
    }
}

struct Fixture {
    root: tempfile::TempDir,
    runtime: LocalProcessRuntime,
}

impl Fixture {
    fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("code")).unwrap();
        std::fs::write(root.path().join("code/usertasks.py"), TASK_MODULE).unwrap();
        let runtime = LocalProcessRuntime::new(LocalRuntimeSettings {
            work_root: root.path().join("work"),
            python_bin_dir: Some(python_bin_dir()),
            max_concurrent_tasks: 2,
            store_environment: Vec::new(),
        });
        Self { root, runtime }
    }

    fn storage(&self) -> Storage {
        Storage::local(&self.root.path().join("store")).unwrap()
    }

    /// Writes the inputs where the task reads them, as the engine does
    /// before it launches an attempt.
    fn prepared(&self, launch: TaskLaunch) -> TaskLaunch {
        let inputs = std::path::Path::new(&launch.input_prefix).join("inputs.pb");
        std::fs::create_dir_all(inputs.parent().unwrap()).unwrap();
        std::fs::write(
            inputs,
            prost::Message::encode_to_vec(launch.inputs.as_ref()),
        )
        .unwrap();
        launch
    }

    fn launch(&self, task_name: &str, inputs: &[(&str, i64)]) -> TaskLaunch {
        let store = self.storage().local_root().unwrap().to_path_buf();
        let mut environment = BTreeMap::new();
        environment.insert(
            "PYTHONPATH".to_string(),
            self.root.path().join("code").display().to_string(),
        );
        TaskLaunch {
            attempt_key: format!("exec-{task_name}-0"),
            attempt_number: 0,
            template: flytekit_task(task_name),
            inputs: std::sync::Arc::new(core::LiteralMap {
                literals: inputs
                    .iter()
                    .map(|(name, value)| (name.to_string(), integer(*value)))
                    .collect(),
            }),
            input_prefix: store.join(task_name).join("data").display().to_string(),
            output_prefix: store.join(task_name).join("data/0").display().to_string(),
            raw_output_prefix: store.join("raw").join(task_name).display().to_string(),
            previous_checkpoint_prefix: None,
            execution: core::WorkflowExecutionIdentifier {
                project: "flytesnacks".into(),
                domain: "development".into(),
                name: "exec".into(),
                org: String::new(),
            },
            environment,
        }
    }

    async fn outcome(&self, output_prefix: &std::path::Path) -> TaskOutcome {
        read_outcome(&self.storage(), &output_prefix.display().to_string())
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn runs_a_flytekit_task_and_reads_its_outputs_and_log() {
    let fixture = Fixture::new();
    let launch = fixture.launch("add", &[("a", 3), ("b", 4)]);
    let output_dir = PathBuf::from(&launch.output_prefix);

    let mut task = fixture
        .runtime
        .launch(fixture.prepared(launch))
        .await
        .expect("task starts");
    let exit = task.wait().await.unwrap();
    let log = std::fs::read_to_string(&task.log().0).unwrap();

    assert_eq!(exit, ProcessExit::Exited(0), "log: {log}");
    match fixture.outcome(&output_dir).await {
        TaskOutcome::Succeeded(outputs) => {
            assert_eq!(outputs.literals.get("o0").and_then(as_integer), Some(7))
        }
        other => panic!("expected outputs, got {other:?}; log: {log}"),
    }
    assert!(
        log.contains("adding 3 and 4"),
        "stdout is kept in the log: {log}"
    );
}

#[tokio::test]
async fn a_failing_task_is_read_from_its_error_document() {
    let fixture = Fixture::new();
    let launch = fixture.launch("explode", &[("a", 5)]);
    let output_dir = PathBuf::from(&launch.output_prefix);

    let mut task = fixture
        .runtime
        .launch(fixture.prepared(launch))
        .await
        .unwrap();
    let exit = task.wait().await.unwrap();

    // flytekit exits 0 on user errors; the error document is what counts.
    assert_eq!(exit, ProcessExit::Exited(0));
    match fixture.outcome(&output_dir).await {
        TaskOutcome::Failed(error) => {
            assert!(error.message.contains("boom 5"), "{}", error.message);
            assert_eq!(error.origin(), core::execution_error::ErrorKind::User);
        }
        other => panic!("expected an error document, got {other:?}"),
    }
}

#[tokio::test]
async fn abort_stops_a_running_task() {
    let fixture = Fixture::new();
    let launch = fixture.launch("sleepy", &[("a", 1)]);
    let output_dir = PathBuf::from(&launch.output_prefix);

    let mut task = fixture
        .runtime
        .launch(fixture.prepared(launch))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    task.abort().await.unwrap();
    let exit = tokio::time::timeout(std::time::Duration::from_secs(10), task.wait())
        .await
        .expect("ended")
        .unwrap();

    assert!(matches!(exit, ProcessExit::Killed | ProcessExit::Exited(_)));
    assert_eq!(fixture.outcome(&output_dir).await, TaskOutcome::NoOutputs);
}

#[tokio::test]
async fn a_missing_program_is_a_clear_error() {
    let fixture = Fixture::new();
    let mut launch = fixture.launch("add", &[]);
    launch.template.target = Some(core::task_template::Target::Container(core::Container {
        args: vec!["no-such-program-updraft".into()],
        ..Default::default()
    }));

    let error = fixture
        .runtime
        .launch(launch)
        .await
        .err()
        .expect("spawn fails");

    assert!(
        error.to_string().contains("no-such-program-updraft"),
        "{error}"
    );
}

#[tokio::test]
async fn tail_logs_follows_a_running_task_then_completes() {
    use tokio_stream::StreamExt;
    use updraft_propeller::logs::LogReader;

    let fixture = Fixture::new();
    let launch = fixture.launch("add", &[("a", 20), ("b", 22)]);
    let key = launch.attempt_key.clone();
    let reader = LogReader::new(
        fixture.root.path().join("work"),
        fixture.runtime.running_attempts(),
    );

    let mut task = fixture
        .runtime
        .launch(fixture.prepared(launch))
        .await
        .unwrap();
    assert!(reader.is_running(&key));
    let stream = reader.tail(key.clone(), 0, true);
    let waiter = tokio::spawn(async move { task.wait().await });
    let chunks: Vec<_> = stream.collect().await;
    waiter.await.unwrap().unwrap();

    let chunks: Vec<_> = chunks.into_iter().map(Result::unwrap).collect();
    let text: String = chunks
        .iter()
        .map(|chunk| String::from_utf8_lossy(&chunk.data).into_owned())
        .collect();
    assert!(text.contains("adding 20 and 22"), "{text}");
    assert!(
        chunks.last().unwrap().complete,
        "the last chunk marks the end"
    );
    assert!(!reader.is_running(&key));
    let stored = reader.read_all(&key).await.unwrap().unwrap();
    assert_eq!(String::from_utf8_lossy(&stored), text);
}
