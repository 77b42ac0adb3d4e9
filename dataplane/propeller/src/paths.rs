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

    /// Large raw outputs go under `prefix` (the execution's raw output
    /// prefix, from its launch options) instead of the store's `raw/` folder.
    /// A local folder (`/data/x`, `file:///data/x`) is used as one; any other
    /// URI (`s3://bucket/x`) is handed to the task, which writes there itself.
    /// A relative folder or a bare scheme names no place, and is ignored.
    pub fn with_raw_output_prefix(mut self, prefix: &str) -> Self {
        let prefix = prefix.trim();
        if prefix.is_empty() {
            return self;
        }
        let root = match prefix.split_once("://") {
            Some((scheme, rest)) if scheme != "file" => {
                Some(PathBuf::from(prefix.trim_end_matches('/')))
                    .filter(|_| !rest.trim_matches('/').is_empty())
            }
            _ => Some(local_path(prefix)).filter(|folder| folder.is_absolute()),
        };
        match (root, self.raw_root.file_name()) {
            (Some(root), Some(folder)) => self.raw_root = root.join(folder),
            _ => tracing::warn!(
                prefix,
                "the raw output prefix is neither a URI nor an absolute folder; using the store"
            ),
        }
        self
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

#[cfg(test)]
mod tests {
    use super::*;

    fn paths() -> ExecutionPaths {
        ExecutionPaths::new(
            std::path::Path::new("/store"),
            &core::WorkflowExecutionIdentifier {
                project: "flytesnacks".into(),
                domain: "development".into(),
                name: "abc".into(),
                org: String::new(),
            },
        )
    }

    #[test]
    fn raw_outputs_go_under_the_executions_prefix_when_it_has_one() {
        let raw = |prefix: &str| {
            paths()
                .with_raw_output_prefix(prefix)
                .attempt_raw_prefix("n0", 1)
                .display()
                .to_string()
        };
        assert_eq!(raw(""), "/store/raw/flytesnacks-development-abc/n0/1");
        assert_eq!(
            raw("/data/raw/"),
            "/data/raw/flytesnacks-development-abc/n0/1"
        );
        assert_eq!(
            raw("file:///data/raw"),
            "/data/raw/flytesnacks-development-abc/n0/1"
        );
        assert_eq!(
            raw("s3://bucket/raw"),
            "s3://bucket/raw/flytesnacks-development-abc/n0/1"
        );
        assert_eq!(raw("file:///"), "/flytesnacks-development-abc/n0/1");
        // No place named: the store's own folder.
        for nowhere in ["raw/here", "s3://", "file://raw"] {
            assert_eq!(raw(nowhere), "/store/raw/flytesnacks-development-abc/n0/1");
        }
    }
}
