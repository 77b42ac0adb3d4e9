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

/// The cluster name of a propeller that is not given one.
pub const DEFAULT_CLUSTER: &str = "default";

/// `[propeller]`: how tasks run in this process.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PropellerConfig {
    /// Run the propeller in this process (`updraft start`).
    pub enabled: bool,
    /// The admin a propeller of its own (`updraft propeller`) claims
    /// executions from and reports to (`http://host:port` or `https://…`).
    /// `updraft start` uses its own admin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_endpoint: Option<String>,
    /// Where a propeller of its own finds the catalog (`datacatalog.DataCatalog`)
    /// to cache tasks in. Default: `admin_endpoint`, for an address that
    /// serves both (`updraft start`, or an ingress routing by gRPC service).
    /// `updraft start` uses its own catalog.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalog_endpoint: Option<String>,
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
    /// The cluster (data plane) this propeller runs in, recorded on each
    /// execution it claims and shown in the console's execution header.
    #[serde(deserialize_with = "cluster_name")]
    pub cluster: String,
    /// The execution cluster labels this propeller serves: it runs executions
    /// labelled with one of them (by the launch request, an
    /// `EXECUTION_CLUSTER_LABEL` attribute or `admin.default_execution_cluster_label`)
    /// and unlabelled ones. Empty: only unlabelled ones. A TOML list, or
    /// one string separated by commas (`UPDRAFT_PROPELLER__LABELS=gpu,a100`).
    #[serde(deserialize_with = "cluster_labels")]
    pub labels: Vec<String>,
}

/// Most labels one propeller serves; admin refuses claims with more.
const MOST_LABELS: usize = 32;
/// Longest label admin accepts.
const LONGEST_LABEL: usize = 255;

fn cluster_name<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let name = String::deserialize(deserializer)?.trim().to_string();
    if name.is_empty() {
        return Err(serde::de::Error::custom(
            "the cluster name must not be empty",
        ));
    }
    Ok(name)
}

fn cluster_labels<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<String>, D::Error> {
    /// A list in a file; one string in the environment.
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Given {
        List(Vec<String>),
        CommaSeparated(String),
    }
    let given = match Given::deserialize(deserializer)? {
        Given::List(labels) => labels,
        Given::CommaSeparated(text) if text.trim().is_empty() => Vec::new(),
        Given::CommaSeparated(text) => text.split(',').map(str::to_string).collect(),
    };
    let mut labels = Vec::with_capacity(given.len());
    for label in given {
        let label = label.trim().to_string();
        if label.is_empty() || label.len() > LONGEST_LABEL {
            return Err(serde::de::Error::custom(format!(
                "a label has 1 to {LONGEST_LABEL} characters, not {label:?}"
            )));
        }
        if !labels.contains(&label) {
            labels.push(label);
        }
    }
    if labels.len() > MOST_LABELS {
        return Err(serde::de::Error::custom(format!(
            "a propeller serves at most {MOST_LABELS} labels, not {}",
            labels.len()
        )));
    }
    Ok(labels)
}

impl Default for PropellerConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self {
            enabled: true,
            admin_endpoint: None,
            catalog_endpoint: None,
            python_bin_dir: None,
            // flytekit tasks spend much of their life importing; two per core
            // keeps the machine busy without thrashing it.
            max_concurrent_tasks: cores * 2,
            max_concurrent_executions: 100,
            max_parallelism: 25,
            lease_seconds: DEFAULT_LEASE.as_secs(),
            cluster: DEFAULT_CLUSTER.to_string(),
            labels: Vec::new(),
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
/// execution files in `storage` (a folder or a bucket).
pub fn local_data_plane(
    config: &PropellerConfig,
    data_dir: &Path,
    storage: updraft_storage::Storage,
    admin_channel: tonic::transport::Channel,
    public_http_base: String,
) -> DataPlane {
    let work_root = data_dir.join("work");
    let runtime = LocalProcessRuntime::new(LocalRuntimeSettings {
        work_root: work_root.clone(),
        python_bin_dir: config.python_bin_dir.clone(),
        max_concurrent_tasks: config.max_concurrent_tasks,
        store_environment: storage.task_environment(),
    });
    let logs = LogReader::new(work_root, runtime.running_attempts());
    let settings = PropellerSettings {
        propeller_id: format!("{}-{}", hostname(), std::process::id()),
        cluster: config.cluster.clone(),
        labels: config.labels.clone(),
        storage,
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

#[cfg(test)]
mod tests {
    use crate::config::{CommandLineOverrides, Config};

    fn load(file: Option<&str>, environment: &[(&str, &str)]) -> Result<Config, String> {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("updraft.toml");
        if let Some(text) = file {
            std::fs::write(&path, text).unwrap();
        }
        let environment = environment
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()));
        Config::load(
            file.map(|_| path.as_path()),
            environment,
            &CommandLineOverrides::default(),
        )
        .map_err(|error| error.to_string())
    }

    #[test]
    fn cluster_and_labels_default_to_the_default_cluster_and_none() {
        let config = load(None, &[]).unwrap();
        assert_eq!(config.propeller.cluster, "default");
        assert!(config.propeller.labels.is_empty());
        assert_eq!(config.admin.default_execution_cluster_label(), None);
    }

    #[test]
    fn labels_come_as_a_list_in_the_file_or_separated_by_commas_in_the_environment() {
        let config = load(
            Some(
                "[propeller]\ncluster = \"gpu-west\"\nlabels = [\"gpu\", \"a100\", \"gpu\"]\n\
                 [admin]\ndefault_execution_cluster_label = \"cpu\"\n",
            ),
            &[],
        )
        .unwrap();
        assert_eq!(config.propeller.cluster, "gpu-west");
        assert_eq!(config.propeller.labels, ["gpu", "a100"]);
        assert_eq!(
            config.admin.default_execution_cluster_label().as_deref(),
            Some("cpu")
        );

        let config = load(
            None,
            &[
                ("UPDRAFT_PROPELLER__LABELS", "gpu, a100"),
                ("UPDRAFT_PROPELLER__CLUSTER", "east"),
                ("UPDRAFT_ADMIN__DEFAULT_EXECUTION_CLUSTER_LABEL", " "),
            ],
        )
        .unwrap();
        assert_eq!(config.propeller.labels, ["gpu", "a100"]);
        assert_eq!(config.propeller.cluster, "east");
        assert_eq!(config.admin.default_execution_cluster_label(), None);
    }

    #[test]
    fn bad_labels_and_cluster_names_stop_start_up_naming_the_key() {
        let error = load(Some("[propeller]\nlabels = [\"gpu\", \"\"]\n"), &[]).unwrap_err();
        assert!(error.contains("propeller.labels"), "{error}");
        let error = load(None, &[("UPDRAFT_PROPELLER__CLUSTER", " ")]).unwrap_err();
        assert!(error.contains("propeller.cluster"), "{error}");
        let many = (0..33)
            .map(|index| format!("l{index}"))
            .collect::<Vec<_>>()
            .join(",");
        let error = load(None, &[("UPDRAFT_PROPELLER__LABELS", &many)]).unwrap_err();
        assert!(error.contains("at most 32"), "{error}");
        let error = load(Some("[admin]\ndefault_label = \"x\"\n"), &[]).unwrap_err();
        assert!(error.contains("default_label"), "{error}");
    }
}
