//! The contract between the engine and a place tasks run.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use updraft_proto::flyteidl::core;

/// Everything needed to start one attempt of one task node.
#[derive(Debug, Clone)]
pub struct TaskLaunch {
    /// Unique across executions, nodes and retries; names the attempt's files.
    pub attempt_key: String,
    /// 0 for the first attempt.
    pub attempt_number: u32,
    pub template: core::TaskTemplate,
    /// The node's resolved inputs, as Flyte expects them in `inputs.pb`;
    /// shared, because every index of a map task may get the same lists.
    pub inputs: Arc<core::LiteralMap>,
    /// Where the task reads `inputs.pb` from (the `{{.InputPrefix}}`).
    pub input_prefix: String,
    /// Where the task writes `outputs.pb`, `error.pb`, `futures.pb`, `deck.html`.
    pub output_prefix: String,
    /// Where the task writes large outputs (files, dataframes); unique per attempt.
    pub raw_output_prefix: String,
    /// The previous attempt's checkpoint folder, if there was one.
    pub previous_checkpoint_prefix: Option<String>,
    /// Execution identity, passed to the task as Flyte's `FLYTE_INTERNAL_*` variables.
    pub execution: core::WorkflowExecutionIdentifier,
    /// Extra environment variables on top of the template's own.
    pub environment: BTreeMap<String, String>,
}

impl TaskLaunch {
    /// `{{.Input}}`: the full path of the inputs file.
    pub fn input_path(&self) -> String {
        format!("{}/inputs.pb", self.input_prefix.trim_end_matches('/'))
    }

    /// `{{.CheckpointOutputPrefix}}`.
    pub fn checkpoint_prefix(&self) -> String {
        format!(
            "{}/_flytecheckpoints",
            self.raw_output_prefix.trim_end_matches('/')
        )
    }
}

/// How a started attempt ended, as far as the process is concerned. Flyte
/// tasks report user errors through `error.pb` and exit 0, so the engine reads
/// the output files rather than trusting this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcessExit {
    /// The process exited with this code.
    Exited(i32),
    /// The process was killed by a signal (for example after an abort or timeout).
    Killed,
}

/// Where a task's log is kept while and after it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLocation(pub PathBuf);

/// Why a runtime could not start or watch a task.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(
        "task {task} has type `{task_type}` and no container: updraft does not run tasks of this type"
    )]
    NoContainer { task: String, task_type: String },
    #[error("task {task} has an empty command")]
    EmptyCommand { task: String },
    #[error("cannot prepare the folders of attempt {attempt}: {source}")]
    Prepare {
        attempt: String,
        source: std::io::Error,
    },
    #[error("cannot start `{program}`: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("cannot watch the process of attempt {attempt}: {source}")]
    Wait {
        attempt: String,
        source: std::io::Error,
    },
}

/// A place where task attempts run.
#[async_trait::async_trait]
pub trait TaskRuntime: Send + Sync + 'static {
    /// Starts an attempt and returns once it is running.
    async fn launch(&self, launch: TaskLaunch) -> Result<Box<dyn RunningTask>, RuntimeError>;
}

/// One running attempt.
#[async_trait::async_trait]
pub trait RunningTask: Send {
    /// Where its log is written.
    fn log(&self) -> &LogLocation;
    /// Waits for the attempt to end.
    async fn wait(&mut self) -> Result<ProcessExit, RuntimeError>;
    /// Stops the attempt (terminate, timeout); a no-op once it has ended.
    async fn abort(&mut self) -> Result<(), RuntimeError>;
}
