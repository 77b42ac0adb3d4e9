//! Task types propeller runs itself, as flytepropeller's own plugins do,
//! without starting a process: `echo` (`flytekit.core.task.Echo`, Flyte's
//! no-op task). A new one is a [`BuiltInTask`] named in [`built_in_task`].
//!
//! An attempt of a built-in task leaves Flyte's output files, `outputs.pb`
//! or `error.pb`, as a task process would, so retries, caching, map tasks
//! and resuming after a restart treat it like any other attempt.

use std::path::PathBuf;

use updraft_proto::flyteidl::core;
use updraft_storage::{Storage, StorageError};

use crate::execution::write_message;
use crate::paths::file_in;
use crate::runtime::{LogLocation, ProcessExit, RunningTask, RuntimeError, TaskLaunch};

/// The task type of `flytekit.core.task.Echo`.
pub const ECHO_TASK_TYPE: &str = "echo";

/// A task type propeller runs without a process.
#[async_trait::async_trait]
pub trait BuiltInTask: Send + Sync {
    /// Runs one attempt: its outputs, or the user error that fails it.
    async fn run(&self, launch: &TaskLaunch) -> Result<core::LiteralMap, BuiltInTaskError>;
}

/// Why an attempt of a built-in task failed; retrying cannot fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct BuiltInTaskError {
    /// Short and stable, as in an `error.pb`.
    pub code: String,
    pub message: String,
}

/// The built-in handler of `task_type`, if propeller has one.
pub fn built_in_task(task_type: &str) -> Option<&'static dyn BuiltInTask> {
    match task_type {
        ECHO_TASK_TYPE => Some(&Echo),
        _ => None,
    }
}

/// Passes the inputs to the outputs, as flytepropeller's echo plugin does:
/// as many outputs as inputs, at most one of each (a proto map keeps no
/// order, so two inputs could not be matched to their outputs), the input
/// going to the output whatever their names.
struct Echo;

#[async_trait::async_trait]
impl BuiltInTask for Echo {
    async fn run(&self, launch: &TaskLaunch) -> Result<core::LiteralMap, BuiltInTaskError> {
        let interface = launch.template.interface.as_ref();
        let names = |variables: Option<&core::VariableMap>| -> Vec<String> {
            variables
                .map(|map| map.variables.keys().cloned().collect())
                .unwrap_or_default()
        };
        let inputs = names(interface.and_then(|interface| interface.inputs.as_ref()));
        let outputs = names(interface.and_then(|interface| interface.outputs.as_ref()));
        let fail = |message: String| BuiltInTaskError {
            code: "EchoInterface".into(),
            message,
        };
        if inputs.len() != outputs.len() {
            return Err(fail(format!(
                "an echo task needs as many outputs as inputs; this one has {} inputs and {} outputs",
                inputs.len(),
                outputs.len()
            )));
        }
        match (inputs.first(), outputs.first()) {
            (None, _) | (_, None) => Ok(core::LiteralMap::default()),
            (Some(_), Some(_)) if inputs.len() > 1 => Err(fail(format!(
                "an echo task takes at most one input, as in Flyte; this one has {}",
                inputs.len()
            ))),
            (Some(input), Some(output)) => {
                let value = launch.inputs.literals.get(input).cloned().ok_or_else(|| {
                    fail(format!("the echo task was not given its input `{input}`"))
                })?;
                Ok(core::LiteralMap {
                    literals: [(output.clone(), value)].into(),
                })
            }
        }
    }
}

/// Runs an attempt of `built_in` and writes what it gave under the
/// attempt's output prefix; the attempt has then already ended.
pub(crate) async fn run_built_in_task(
    built_in: &dyn BuiltInTask,
    launch: &TaskLaunch,
    storage: &Storage,
) -> Result<Box<dyn RunningTask>, StorageError> {
    match built_in.run(launch).await {
        Ok(outputs) => {
            write_message(
                storage,
                &file_in(&launch.output_prefix, "outputs.pb"),
                &outputs,
            )
            .await?
        }
        Err(error) => {
            let document = core::ErrorDocument {
                error: Some(core::ContainerError {
                    code: error.code,
                    message: error.message,
                    kind: core::container_error::Kind::NonRecoverable as i32,
                    origin: core::execution_error::ErrorKind::User as i32,
                    ..Default::default()
                }),
            };
            write_message(
                storage,
                &file_in(&launch.output_prefix, "error.pb"),
                &document,
            )
            .await?
        }
    }
    Ok(Box::new(EndedTask {
        log: LogLocation(PathBuf::new()),
    }))
}

/// An attempt that ended as it started: built-in tasks have no process.
struct EndedTask {
    /// Empty: there is no process to log.
    log: LogLocation,
}

#[async_trait::async_trait]
impl RunningTask for EndedTask {
    fn log(&self) -> &LogLocation {
        &self.log
    }

    async fn wait(&mut self) -> Result<ProcessExit, RuntimeError> {
        Ok(ProcessExit::Exited(0))
    }

    async fn abort(&mut self) -> Result<(), RuntimeError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use updraft_proto::flyteidl::core::task_execution::Phase as TaskPhase;

    use super::*;
    use crate::execution::ExecutionEnd;
    use crate::testing::*;

    /// `Echo(name=…, inputs=…)` as flytekit registers it: no container.
    fn echo(name: &str, inputs: &[&str], outputs: &[&str]) -> core::TaskTemplate {
        let mut template = task(name, inputs, outputs);
        template.r#type = ECHO_TASK_TYPE.into();
        template.target = None;
        template
    }

    #[tokio::test]
    async fn an_echo_task_passes_its_input_on_without_a_process() {
        let bed = TestBed::default();
        let pass = echo("pass", &["a"], &["o0"]);
        let add = task("add_one", &["x"], &["o0"]);
        bed.runtime.script("add_one", vec![add_one()]);
        let template = workflow(
            "wf",
            &["x"],
            vec![
                task_node("n0", &pass, vec![promise("a", "start-node", "x")]),
                task_node("n1", &add, vec![promise("x", "n0", "o0")]),
            ],
            vec![promise("o0", "n1", "o0")],
        );

        let end = bed
            .run(claim(
                "e1",
                template,
                &[pass, add],
                &[],
                literals([("x", integer(41))]),
            ))
            .await;

        assert_eq!(end, ExecutionEnd::Succeeded);
        let outputs = bed.workflow_outputs("e1").await.expect("workflow outputs");
        assert_eq!(output(&outputs, "o0"), Some(42));
        assert_eq!(bed.runtime.launch_count("pass"), 0);
        assert_eq!(
            bed.admin.task_attempt_phases("e1", "n0"),
            [(0, TaskPhase::Succeeded)]
        );
    }

    #[tokio::test]
    async fn an_echo_task_without_inputs_succeeds_with_no_outputs() {
        let bed = TestBed::default();
        let noop = echo("noop", &[], &[]);
        let template = workflow("wf", &[], vec![task_node("n0", &noop, vec![])], vec![]);

        let end = bed
            .run(claim("e1", template, &[noop], &[], literals([])))
            .await;

        assert_eq!(end, ExecutionEnd::Succeeded);
        assert_eq!(bed.runtime.launch_count("noop"), 0);
    }

    #[tokio::test]
    async fn an_echo_task_with_two_inputs_fails_once_as_flyte_refuses_it() {
        let bed = TestBed::default();
        let pair = with_retries(echo("pair", &["a", "b"], &["o0", "o1"]), 3, None);
        let template = workflow(
            "wf",
            &["x"],
            vec![task_node(
                "n0",
                &pair,
                vec![
                    promise("a", "start-node", "x"),
                    promise("b", "start-node", "x"),
                ],
            )],
            vec![],
        );

        let end = bed
            .run(claim(
                "e1",
                template,
                &[pair],
                &[],
                literals([("x", integer(1))]),
            ))
            .await;

        let ExecutionEnd::Failed(error) = end else {
            panic!("expected a failure, got {end:?}");
        };
        assert_eq!(error.code, "EchoInterface");
        assert_eq!(error.kind(), core::execution_error::ErrorKind::User);
        assert!(
            error.message.contains("at most one input"),
            "{}",
            error.message
        );
        assert_eq!(bed.admin.task_attempt_phases("e1", "n0").len(), 1);
    }

    #[tokio::test]
    async fn a_task_type_without_a_container_is_named_and_not_retried() {
        let bed = TestBed::default();
        let mut spark = with_retries(task("spark_job", &[], &[]), 3, None);
        spark.r#type = "spark".into();
        spark.target = None;
        let template = workflow("wf", &[], vec![task_node("n0", &spark, vec![])], vec![]);
        bed.runtime
            .script("spark_job", vec![Step::outputs(literals([]))]);

        let end = bed
            .run(claim("e1", template, &[spark], &[], literals([])))
            .await;

        let ExecutionEnd::Failed(error) = end else {
            panic!("expected a failure, got {end:?}");
        };
        assert_eq!(error.code, "UnsupportedTaskType");
        assert_eq!(
            error.message,
            "task spark_job has type `spark` and no container: updraft does not run tasks of this type"
        );
        assert_eq!(bed.admin.task_attempt_phases("e1", "n0").len(), 1);
    }
}
