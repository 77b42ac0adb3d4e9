//! Where an execution's files live in the object store, in Flyte's layout:
//! `metadata/<project>-<domain>-<name>/<node>/data/inputs.pb` and, per
//! attempt, `…/<node>/data/<attempt>/outputs.pb`; large raw outputs under `raw/`.

use updraft_proto::flyteidl::core;
use updraft_storage::Storage;

/// The locations of one execution's files, as URIs of the object store
/// (`file:///…` in a local folder, `s3://bucket/…` on S3), which is what
/// Flyte's events carry and tasks are handed.
#[derive(Debug, Clone)]
pub struct ExecutionPaths {
    execution_root: String,
    raw_root: String,
}

/// `base/segment/segment…`, one `/` between each.
fn join(base: &str, segments: &[&str]) -> String {
    let mut joined = base.trim_end_matches('/').to_string();
    if joined.ends_with(':') {
        // A bare `file://` root: the slashes belong to the scheme.
        joined.push_str("//");
    }
    for segment in segments {
        joined.push('/');
        joined.push_str(segment.trim_matches('/'));
    }
    joined
}

impl ExecutionPaths {
    /// Paths of `execution` in `storage`.
    pub fn new(storage: &Storage, execution: &core::WorkflowExecutionIdentifier) -> Self {
        let folder = execution_folder(execution);
        Self {
            execution_root: storage.uri_for(&format!("metadata/{folder}")),
            raw_root: storage.uri_for(&format!("raw/{folder}")),
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
                Some(prefix.trim_end_matches('/').to_string())
                    .filter(|_| !rest.trim_matches('/').is_empty())
            }
            _ => {
                let folder = prefix.strip_prefix("file://").unwrap_or(prefix);
                folder
                    .starts_with('/')
                    .then(|| format!("file://{}", folder.trim_end_matches('/')))
            }
        };
        let folder = self.raw_root.rsplit('/').next().map(str::to_string);
        match (root, folder) {
            (Some(root), Some(folder)) => self.raw_root = join(&root, &[&folder]),
            _ => tracing::warn!(
                prefix,
                "the raw output prefix is neither a URI nor an absolute folder; using the store"
            ),
        }
        self
    }

    /// `{{.InputPrefix}}` of a node: where its `inputs.pb` is.
    pub fn node_input_prefix(&self, node_id: &str) -> String {
        join(&self.execution_root, &[node_id, "data"])
    }

    /// The `inputs.pb` of a node.
    pub fn node_inputs(&self, node_id: &str) -> String {
        join(&self.node_input_prefix(node_id), &["inputs.pb"])
    }

    /// `{{.OutputPrefix}}` of one attempt of a node.
    pub fn attempt_output_prefix(&self, node_id: &str, attempt: u32) -> String {
        join(&self.node_input_prefix(node_id), &[&attempt.to_string()])
    }

    /// The `outputs.pb` of one attempt of a node.
    pub fn attempt_outputs(&self, node_id: &str, attempt: u32) -> String {
        join(
            &self.attempt_output_prefix(node_id, attempt),
            &["outputs.pb"],
        )
    }

    /// `{{.RawOutputDataPrefix}}` of one attempt: unique per retry, as Flyte requires.
    pub fn attempt_raw_prefix(&self, node_id: &str, attempt: u32) -> String {
        join(&self.raw_root, &[node_id, &attempt.to_string()])
    }

    /// Where the workflow's own outputs are written (the end node's outputs).
    pub fn workflow_outputs(&self) -> String {
        join(
            &self.execution_root,
            &["end-node", "data", "0", "outputs.pb"],
        )
    }

    /// Where the workflow's inputs are written for the start node.
    pub fn workflow_inputs(&self) -> String {
        join(
            &self.execution_root,
            &["start-node", "data", "0", "outputs.pb"],
        )
    }
}

/// `<project>-<domain>-<name>`: the folder of one execution.
fn execution_folder(execution: &core::WorkflowExecutionIdentifier) -> String {
    format!(
        "{}-{}-{}",
        execution.project, execution.domain, execution.name
    )
}

/// `uri/name`: a file in the folder a prefix URI names.
pub fn file_in(prefix: &str, name: &str) -> String {
    join(prefix, &[name])
}

/// The local path a `file://` URI names (or a plain path, as it is); `None`
/// for URIs of other stores.
pub fn local_path(uri: &str) -> Option<std::path::PathBuf> {
    match uri.split_once("://") {
        Some(("file", path)) => Some(std::path::PathBuf::from(path)),
        Some(_) => None,
        None => Some(std::path::PathBuf::from(uri)),
    }
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

    fn execution() -> core::WorkflowExecutionIdentifier {
        core::WorkflowExecutionIdentifier {
            project: "flytesnacks".into(),
            domain: "development".into(),
            name: "abc".into(),
            org: String::new(),
        }
    }

    #[test]
    fn raw_outputs_go_under_the_executions_prefix_when_it_has_one() {
        let folder = tempfile::tempdir().unwrap();
        let storage = Storage::local(folder.path()).unwrap();
        let store = storage.base_uri().trim_end_matches('/').to_string();
        let raw = |prefix: &str| {
            ExecutionPaths::new(&storage, &execution())
                .with_raw_output_prefix(prefix)
                .attempt_raw_prefix("n0", 1)
        };
        assert_eq!(
            raw(""),
            format!("{store}/raw/flytesnacks-development-abc/n0/1")
        );
        assert_eq!(
            raw("/data/raw/"),
            "file:///data/raw/flytesnacks-development-abc/n0/1"
        );
        assert_eq!(
            raw("file:///data/raw"),
            "file:///data/raw/flytesnacks-development-abc/n0/1"
        );
        assert_eq!(
            raw("s3://bucket/raw"),
            "s3://bucket/raw/flytesnacks-development-abc/n0/1"
        );
        assert_eq!(raw("file:///"), "file:///flytesnacks-development-abc/n0/1");
        // No place named: the store's own folder.
        for nowhere in ["raw/here", "s3://", "file://raw"] {
            assert_eq!(
                raw(nowhere),
                format!("{store}/raw/flytesnacks-development-abc/n0/1")
            );
        }
    }

    #[test]
    fn an_executions_files_are_in_flytes_layout() {
        let paths = ExecutionPaths::new(&Storage::in_memory(), &execution());
        assert_eq!(
            paths.node_inputs("n0"),
            "memory://store/metadata/flytesnacks-development-abc/n0/data/inputs.pb"
        );
        assert_eq!(
            paths.attempt_outputs("n0", 2),
            "memory://store/metadata/flytesnacks-development-abc/n0/data/2/outputs.pb"
        );
        assert_eq!(
            paths.workflow_inputs(),
            "memory://store/metadata/flytesnacks-development-abc/start-node/data/0/outputs.pb"
        );
    }

    #[test]
    fn only_file_uris_and_plain_paths_are_local() {
        assert_eq!(
            local_path("file:///a/b"),
            Some(std::path::PathBuf::from("/a/b"))
        );
        assert_eq!(local_path("/a/b"), Some(std::path::PathBuf::from("/a/b")));
        assert_eq!(local_path("s3://bucket/a"), None);
    }
}
