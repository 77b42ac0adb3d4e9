//! The data plane inside `updraft start`: the local-process runtime, the
//! propeller loop that claims executions from admin, the propeller API and
//! the task-log endpoint that Flyte log links point at.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use updraft_propeller::api::PropellerApi;
use updraft_propeller::engine::{DEFAULT_LEASE, Propeller, PropellerSettings};
use updraft_propeller::local::{LocalProcessRuntime, LocalRuntimeSettings};
use updraft_propeller::logs::LogReader;

/// `[propeller]`: how tasks run in this process.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PropellerConfig {
    /// Run the propeller in this process (`updraft start`).
    pub enabled: bool,
    /// A folder with `pyflyte-execute` (a virtualenv's `bin/`) put first on the
    /// tasks' `PATH`. Default: the `PATH` updraft was started with.
    pub python_bin_dir: Option<PathBuf>,
    /// Task processes running at once; more wait, queued.
    pub max_concurrent_tasks: usize,
    /// Executions this propeller runs at once.
    pub max_concurrent_executions: usize,
    /// Nodes of one execution running at once, unless the execution sets its own.
    pub max_parallelism: usize,
    /// Seconds a claimed execution stays with this propeller without renewal:
    /// how long after a crash its executions are claimed again and continue.
    pub lease_seconds: u64,
}

impl Default for PropellerConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self {
            enabled: true,
            python_bin_dir: None,
            // flytekit tasks spend much of their life importing; two per core
            // keeps the machine busy without thrashing it.
            max_concurrent_tasks: cores * 2,
            max_concurrent_executions: 100,
            max_parallelism: 25,
            lease_seconds: DEFAULT_LEASE.as_secs(),
        }
    }
}

/// The propeller's parts, built but not yet running.
pub struct DataPlane {
    pub propeller: Propeller,
    pub api: PropellerApi,
    pub logs: LogReader,
}

/// Builds the local data plane: task work folders under `data_dir/work`,
/// execution files in the object-store folder `store_root`.
pub fn local_data_plane(
    config: &PropellerConfig,
    data_dir: &Path,
    store_root: PathBuf,
    admin_channel: tonic::transport::Channel,
    public_http_base: String,
) -> DataPlane {
    let work_root = data_dir.join("work");
    let runtime = LocalProcessRuntime::new(LocalRuntimeSettings {
        work_root: work_root.clone(),
        python_bin_dir: config.python_bin_dir.clone(),
        max_concurrent_tasks: config.max_concurrent_tasks,
    });
    let logs = LogReader::new(work_root, runtime.running_attempts());
    let settings = PropellerSettings {
        propeller_id: format!("{}-{}", hostname(), std::process::id()),
        store_root,
        log_url_base: Some(public_http_base),
        max_concurrent_executions: config.max_concurrent_executions,
        default_max_parallelism: config.max_parallelism,
        lease_duration: std::time::Duration::from_secs(config.lease_seconds),
    };
    let propeller = Propeller::new(settings, admin_channel.clone(), Arc::new(runtime));
    DataPlane {
        api: PropellerApi::new(logs.clone(), propeller.changes(), admin_channel),
        propeller,
        logs,
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "propeller".to_string())
}

/// `GET /api/v1/logs/{attempt}`: a task attempt's log as plain text, where
/// the `TaskLog` links in task events point.
pub fn log_router(logs: LogReader) -> Router {
    Router::new()
        .route("/api/v1/logs/{attempt}", get(task_log))
        .with_state(logs)
}

async fn task_log(State(logs): State<LogReader>, UrlPath(attempt): UrlPath<String>) -> Response {
    match logs.read_all(&attempt).await {
        Ok(Some(bytes)) => {
            let still_running = logs.is_running(&attempt);
            (
                [
                    (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                    (
                        header::CACHE_CONTROL,
                        if still_running {
                            "no-store"
                        } else {
                            "max-age=3600"
                        },
                    ),
                ],
                bytes,
            )
                .into_response()
        }
        Ok(None) => (
            StatusCode::NOT_FOUND,
            format!("no log for task attempt {attempt}"),
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, attempt, "cannot read task log");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}
