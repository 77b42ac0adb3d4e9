//! Where an execution's files live in the object store, in Flyte's layout:
//! `metadata/<project>-<domain>-<name>/<node>/data/inputs.pb` and, per
//! attempt, `…/<node>/data/<attempt>/outputs.pb`; large raw outputs under `raw/`.

use std::path::PathBuf;

use updraft_proto::flyteidl::core;

/// The folders of one execution under a local object-store root.
#[derive(Debug, Clone)]
pub struct ExecutionPaths {
    execution_root: PathBuf,
    raw_root: PathBuf,
}

impl ExecutionPaths {
    /// Paths of `execution` under the object-store folder `store_root`.
    pub fn new(
        store_root: &std::path::Path,
        execution: &core::WorkflowExecutionIdentifier,
    ) -> Self {
        let folder = format!(
            "{}-{}-{}",
            execution.project, execution.domain, execution.name
        );
        Self {
            execution_root: store_root.join("metadata").join(&folder),
            raw_root: store_root.join("raw").join(folder),
        }
    }

    /// `{{.InputPrefix}}` of a node: where its `inputs.pb` is.
    pub fn node_input_prefix(&self, node_id: &str) -> PathBuf {
        self.execution_root.join(node_id).join("data")
    }

    /// `{{.OutputPrefix}}` of one attempt of a node.
    pub fn attempt_output_prefix(&self, node_id: &str, attempt: u32) -> PathBuf {
        self.node_input_prefix(node_id).join(attempt.to_string())
    }

    /// `{{.RawOutputDataPrefix}}` of one attempt: unique per retry, as Flyte requires.
    pub fn attempt_raw_prefix(&self, node_id: &str, attempt: u32) -> PathBuf {
        self.raw_root.join(node_id).join(attempt.to_string())
    }

    /// Where the workflow's own outputs are written (the end node's outputs).
    pub fn workflow_outputs(&self) -> PathBuf {
        self.execution_root
            .join("end-node")
            .join("data")
            .join("0")
            .join("outputs.pb")
    }

    /// Where the workflow's inputs are written for the start node.
    pub fn workflow_inputs(&self) -> PathBuf {
        self.execution_root
            .join("start-node")
            .join("data")
            .join("0")
            .join("outputs.pb")
    }
}

/// A `file://` URI for a local path, as admin and flytekit read them.
pub fn file_uri(path: &std::path::Path) -> String {
    format!("file://{}", path.display())
}

/// The local path of a `file://` URI (or a plain path).
pub fn local_path(uri: &str) -> PathBuf {
    PathBuf::from(uri.strip_prefix("file://").unwrap_or(uri))
}

/// The key naming one attempt of one node: its work folder, its log and the
/// `{{.PerRetryUniqueKey}}`. Built from the ids alone so a log can be found
/// from a `TaskExecutionIdentifier`.
pub fn attempt_key(
    execution: &core::WorkflowExecutionIdentifier,
    node_id: &str,
    attempt: u32,
) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        execution.project, execution.domain, execution.name, node_id, attempt
    )
}
