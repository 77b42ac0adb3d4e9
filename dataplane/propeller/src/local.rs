//! The embedded default runtime: a task's container command runs as a local
//! process (the image is ignored) in the Python environment updraft was given.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use tokio::process::{Child, Command};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use updraft_proto::flyteidl::core::task_template::Target;

use crate::runtime::{
    LogLocation, ProcessExit, RunningTask, RuntimeError, TaskLaunch, TaskRuntime,
};
use crate::template::{confine_code_destination, render_argument};

/// How long an aborted task gets to exit after SIGTERM before SIGKILL.
const ABORT_GRACE: Duration = Duration::from_secs(3);

/// Settings of the local-process runtime.
#[derive(Debug, Clone)]
pub struct LocalRuntimeSettings {
    /// Per-attempt working folders (the task's current directory and
    /// fast-registration `--dest-dir`) and logs go here.
    pub work_root: PathBuf,
    /// A `bin/` folder with `pyflyte-execute` (a virtualenv's); put first on `PATH`.
    pub python_bin_dir: Option<PathBuf>,
    /// How many task processes may run at once; more wait their turn.
    pub max_concurrent_tasks: usize,
    /// Variables every task gets so that flytekit reaches the object store
    /// itself (`FLYTE_AWS_*` for S3); the template's own win over them.
    pub store_environment: Vec<(String, String)>,
}

/// Runs tasks as child processes of updraft.
#[derive(Debug, Clone)]
pub struct LocalProcessRuntime {
    settings: Arc<LocalRuntimeSettings>,
    slots: Arc<Semaphore>,
    running: RunningAttempts,
}

/// The attempts whose processes are still running, so log readers know
/// whether to keep following.
#[derive(Debug, Clone, Default)]
pub struct RunningAttempts(Arc<std::sync::Mutex<std::collections::HashSet<String>>>);

impl RunningAttempts {
    /// Whether the attempt's process is still running.
    pub fn contains(&self, attempt_key: &str) -> bool {
        self.0
            .lock()
            .is_ok_and(|running| running.contains(attempt_key))
    }

    fn insert(&self, attempt_key: &str) {
        if let Ok(mut running) = self.0.lock() {
            running.insert(attempt_key.to_string());
        }
    }

    fn remove(&self, attempt_key: &str) {
        if let Ok(mut running) = self.0.lock() {
            running.remove(attempt_key);
        }
    }
}

impl LocalProcessRuntime {
    /// A runtime with `settings.max_concurrent_tasks` slots (at least one).
    pub fn new(settings: LocalRuntimeSettings) -> Self {
        let slots = Arc::new(Semaphore::new(settings.max_concurrent_tasks.max(1)));
        Self {
            settings: Arc::new(settings),
            slots,
            running: RunningAttempts::default(),
        }
    }

    /// The attempts running now, for log readers.
    pub fn running_attempts(&self) -> RunningAttempts {
        self.running.clone()
    }

    fn attempt_dir(&self, attempt_key: &str) -> PathBuf {
        self.settings.work_root.join(sanitize(attempt_key))
    }

    fn path_variable(&self) -> Option<std::ffi::OsString> {
        let bin = self.settings.python_bin_dir.as_ref()?;
        let mut paths = vec![bin.clone()];
        if let Some(existing) = std::env::var_os("PATH") {
            paths.extend(std::env::split_paths(&existing));
        }
        std::env::join_paths(paths).ok()
    }
}

#[async_trait::async_trait]
impl TaskRuntime for LocalProcessRuntime {
    #[tracing::instrument(skip(self, launch), fields(attempt = %launch.attempt_key))]
    async fn launch(&self, launch: TaskLaunch) -> Result<Box<dyn RunningTask>, RuntimeError> {
        let launch = with_local_paths(launch);
        let task_name = launch
            .template
            .id
            .as_ref()
            .map(|id| id.name.clone())
            .unwrap_or_default();
        let Some(Target::Container(container)) = launch.template.target.clone() else {
            return Err(RuntimeError::NoContainer {
                task: task_name,
                task_type: launch.template.r#type.clone(),
            });
        };
        let mut words: Vec<String> = container
            .command
            .iter()
            .chain(container.args.iter())
            .map(|word| render_argument(word, &launch))
            .collect();
        if words.is_empty() {
            return Err(RuntimeError::EmptyCommand { task: task_name });
        }
        confine_code_destination(&mut words);
        let program = words.remove(0);

        let permit = Arc::clone(&self.slots)
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let work_dir = self.attempt_dir(&launch.attempt_key);
        let prepare = |source| RuntimeError::Prepare {
            attempt: launch.attempt_key.clone(),
            source,
        };
        prepare_attempt(&launch, &work_dir).await.map_err(prepare)?;
        let log_path = work_dir.join("task.log");
        let log_file = std::fs::File::create(&log_path).map_err(prepare)?;
        let log_for_stderr = log_file.try_clone().map_err(prepare)?;

        let mut command = Command::new(&program);
        command
            .args(&words)
            .current_dir(&work_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log_file))
            .stderr(Stdio::from(log_for_stderr))
            // Its own process group, so an abort reaches the processes it starts
            // (pyflyte-fast-execute runs pyflyte-execute as a child).
            .process_group(0);
        if let Some(path) = self.path_variable() {
            command.env("PATH", path);
        }
        for (name, value) in &self.settings.store_environment {
            command.env(name, value);
        }
        for (name, value) in flyte_environment(&launch) {
            command.env(name, value);
        }
        for pair in &container.env {
            command.env(&pair.key, &pair.value);
        }
        for (name, value) in &launch.environment {
            command.env(name, value);
        }
        let child = command.spawn().map_err(|source| RuntimeError::Spawn {
            program: program.clone(),
            source,
        })?;
        tracing::info!(program, pid = child.id(), "task process started");
        self.running.insert(&launch.attempt_key);
        Ok(Box::new(LocalTask {
            attempt_key: launch.attempt_key,
            child,
            log: LogLocation(log_path),
            running: self.running.clone(),
            _slot: permit,
        }))
    }
}

/// A task process is handed plain paths for `file://` prefixes, as
/// flytekit's local file access expects; other stores' URIs (`s3://…`) stay.
fn with_local_paths(mut launch: TaskLaunch) -> TaskLaunch {
    let localize = |prefix: &mut String| {
        if let Some(path) = prefix.strip_prefix("file://") {
            *prefix = path.to_string();
        }
    };
    localize(&mut launch.input_prefix);
    localize(&mut launch.output_prefix);
    localize(&mut launch.raw_output_prefix);
    if let Some(previous) = launch.previous_checkpoint_prefix.as_mut() {
        localize(previous);
    }
    launch
}

/// Makes the attempt's folders. The engine has written `inputs.pb` already;
/// a prefix in another store (`s3://…`) is the task's to write to.
async fn prepare_attempt(launch: &TaskLaunch, work_dir: &Path) -> std::io::Result<()> {
    tokio::fs::create_dir_all(work_dir).await?;
    for prefix in [&launch.output_prefix, &launch.raw_output_prefix] {
        if !prefix.contains("://") {
            tokio::fs::create_dir_all(prefix).await?;
        }
    }
    Ok(())
}

/// The variables Flyte's pod builder sets and flytekit reads.
fn flyte_environment(launch: &TaskLaunch) -> Vec<(&'static str, String)> {
    let task = launch.template.id.clone().unwrap_or_default();
    vec![
        ("FLYTE_INTERNAL_EXECUTION_ID", launch.execution.name.clone()),
        (
            "FLYTE_INTERNAL_EXECUTION_PROJECT",
            launch.execution.project.clone(),
        ),
        (
            "FLYTE_INTERNAL_EXECUTION_DOMAIN",
            launch.execution.domain.clone(),
        ),
        ("FLYTE_INTERNAL_TASK_PROJECT", task.project),
        ("FLYTE_INTERNAL_TASK_DOMAIN", task.domain),
        ("FLYTE_INTERNAL_TASK_NAME", task.name),
        ("FLYTE_INTERNAL_TASK_VERSION", task.version),
        ("FLYTE_ATTEMPT_NUMBER", launch.attempt_number.to_string()),
    ]
}

/// The log file of an attempt under `work_root`.
pub fn log_path(work_root: &Path, attempt_key: &str) -> PathBuf {
    work_root.join(sanitize(attempt_key)).join("task.log")
}

/// Attempt keys become folder names; keep them to safe characters (this also
/// keeps a key from a request out of other folders).
fn sanitize(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

struct LocalTask {
    attempt_key: String,
    child: Child,
    log: LogLocation,
    running: RunningAttempts,
    // Held until the task ends, so at most `max_concurrent_tasks` run.
    _slot: OwnedSemaphorePermit,
}

impl Drop for LocalTask {
    fn drop(&mut self) {
        self.running.remove(&self.attempt_key);
    }
}

#[async_trait::async_trait]
impl RunningTask for LocalTask {
    fn log(&self) -> &LogLocation {
        &self.log
    }

    async fn wait(&mut self) -> Result<ProcessExit, RuntimeError> {
        let status = self.wait_for_exit().await?;
        Ok(status
            .code()
            .map_or(ProcessExit::Killed, ProcessExit::Exited))
    }

    async fn abort(&mut self) -> Result<(), RuntimeError> {
        let Some(pid) = self.child.id() else {
            return Ok(());
        };
        signal_group(pid, Signal::Terminate);
        if tokio::time::timeout(ABORT_GRACE, self.child.wait())
            .await
            .is_err()
        {
            signal_group(pid, Signal::Kill);
            self.wait_for_exit().await?;
        }
        Ok(())
    }
}

impl LocalTask {
    async fn wait_for_exit(&mut self) -> Result<std::process::ExitStatus, RuntimeError> {
        let status = self
            .child
            .wait()
            .await
            .map_err(|source| RuntimeError::Wait {
                attempt: self.attempt_key.clone(),
                source,
            })?;
        self.running.remove(&self.attempt_key);
        Ok(status)
    }
}

enum Signal {
    Terminate,
    Kill,
}

fn signal_group(pid: u32, signal: Signal) {
    let signal = match signal {
        Signal::Terminate => libc::SIGTERM,
        Signal::Kill => libc::SIGKILL,
    };
    let Ok(group) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: kill(2) with a negative pid signals that process group; it has no
    // memory-safety preconditions.
    unsafe {
        libc::kill(-group, signal);
    }
}
