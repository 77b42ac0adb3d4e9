//! `flyte://v1/…` addresses of run data, as `DataProxyService.GetData` takes
//! them and flytekit's `FlyteRemote.get` sends them:
//!
//! - `flyte://v1/{project}/{domain}/{execution}/{i|o}[/{name}]`: an execution's inputs or outputs
//! - `flyte://v1/{project}/{domain}/{execution}/{node}/{i|o|d}[/{name}]`: a node execution's
//!   inputs, outputs or deck
//! - `flyte://v1/{project}/{domain}/{execution}/{node}/{attempt}/{i|o}[/{name}]`: one task
//!   attempt's inputs or outputs
//!
//! With a trailing name the single literal of that name is answered, otherwise the whole map.

use updraft_proto::flyteidl::{admin, core, service};

use crate::AdminApi;
use crate::error::AdminError;
use crate::filters::{ListRequestParts, TASK_EXECUTION_FIELDS, build_list_query};
use crate::store::{ExecutionKey, NodeExecutionKey, RunRepo};

const SCHEME_AND_VERSION: &str = "flyte://v1/";

/// Which side of a run's data an address names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataKind {
    /// `i`
    Inputs,
    /// `o`
    Outputs,
    /// `d`: the node's Flyte Deck (HTML), answered as a signed link.
    Deck,
}

impl DataKind {
    fn parse(segment: &str) -> Option<Self> {
        match segment {
            "i" => Some(Self::Inputs),
            "o" => Some(Self::Outputs),
            "d" => Some(Self::Deck),
            _ => None,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Inputs => "inputs",
            Self::Outputs => "outputs",
            Self::Deck => "deck",
        }
    }
}

/// Whose data an address names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataOwner {
    /// A workflow execution.
    Execution(ExecutionKey),
    /// A node execution.
    Node(NodeExecutionKey),
    /// One attempt (0 for the first) of the task a node ran.
    Attempt {
        /// The node execution.
        node: NodeExecutionKey,
        /// The retry attempt.
        attempt: u32,
    },
}

/// A parsed `flyte://v1/…` address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlyteUrl {
    /// Whose data.
    pub owner: DataOwner,
    /// Inputs, outputs or deck.
    pub kind: DataKind,
    /// One literal of the map, by name; the whole map when absent.
    pub literal_name: Option<String>,
}

fn malformed(url: &str, why: &str) -> AdminError {
    AdminError::invalid(format!(
        "invalid flyte url {url:?}: {why}; expected \
         flyte://v1/<project>/<domain>/<execution>[/<node>[/<attempt>]]/<i|o|d>[/<name>]"
    ))
}

impl FlyteUrl {
    /// Parses `url`; InvalidArgument names what is wrong with it.
    pub fn parse(url: &str) -> Result<Self, AdminError> {
        let rest = url
            .strip_prefix(SCHEME_AND_VERSION)
            .ok_or_else(|| malformed(url, "it must start with flyte://v1/"))?;
        let segments: Vec<&str> = rest.split('/').collect();
        if segments.iter().any(|segment| segment.is_empty()) {
            return Err(malformed(url, "it has an empty path segment"));
        }
        let [project, domain, execution, tail @ ..] = segments.as_slice() else {
            return Err(malformed(
                url,
                "it must name a project, a domain and an execution",
            ));
        };
        let execution = ExecutionKey {
            project: (*project).to_string(),
            domain: (*domain).to_string(),
            name: (*execution).to_string(),
        };
        let node = |node_id: &str| NodeExecutionKey {
            execution: execution.clone(),
            node_id: node_id.to_string(),
        };
        let kind_of = |segment: &str| DataKind::parse(segment);
        // Node and attempt forms are tried before the execution form, so a
        // node whose id happens to be `i` or `o` is still reachable.
        let (owner, kind, literal_name) = match *tail {
            [node_id, kind] if kind_of(kind).is_some() => {
                (DataOwner::Node(node(node_id)), kind, None)
            }
            [node_id, attempt, kind] if is_attempt(attempt) && kind_of(kind).is_some() => {
                (attempt_owner(url, node(node_id), attempt)?, kind, None)
            }
            [node_id, kind, name] if kind_of(kind).is_some() => {
                (DataOwner::Node(node(node_id)), kind, Some(name))
            }
            [node_id, attempt, kind, name] if is_attempt(attempt) && kind_of(kind).is_some() => (
                attempt_owner(url, node(node_id), attempt)?,
                kind,
                Some(name),
            ),
            [kind] if kind_of(kind).is_some() => (DataOwner::Execution(execution), kind, None),
            [kind, name] if kind_of(kind).is_some() => {
                (DataOwner::Execution(execution), kind, Some(name))
            }
            [] => return Err(malformed(url, "it does not say i, o or d")),
            _ => return Err(malformed(url, "the data kind must be i, o or d")),
        };
        let kind = kind_of(kind).expect("matched above");
        if kind == DataKind::Deck && !matches!(owner, DataOwner::Node(_)) {
            return Err(malformed(url, "only node executions have decks (d)"));
        }
        if kind == DataKind::Deck && literal_name.is_some() {
            return Err(malformed(url, "a deck has no named parts"));
        }
        Ok(Self {
            owner,
            kind,
            literal_name: literal_name.map(str::to_string),
        })
    }
}

fn is_attempt(segment: &str) -> bool {
    !segment.is_empty() && segment.bytes().all(|byte| byte.is_ascii_digit())
}

fn attempt_owner(
    url: &str,
    node: NodeExecutionKey,
    attempt: &str,
) -> Result<DataOwner, AdminError> {
    let attempt = attempt
        .parse()
        .map_err(|_| malformed(url, "the attempt number is too large"))?;
    Ok(DataOwner::Attempt { node, attempt })
}

fn describe(owner: &DataOwner) -> String {
    match owner {
        DataOwner::Execution(key) => format!("execution {key}"),
        DataOwner::Node(key) => key.to_string(),
        DataOwner::Attempt { node, attempt } => format!("attempt {attempt} of {node}"),
    }
}

fn node_identifier(key: &NodeExecutionKey) -> core::NodeExecutionIdentifier {
    core::NodeExecutionIdentifier {
        node_id: key.node_id.clone(),
        execution_id: Some(crate::identifiers::execution_identifier(&key.execution)),
    }
}

impl AdminApi {
    /// `GetData`: the literals (or deck link) a `flyte://v1/…` address names.
    pub(crate) async fn get_data_impl(
        &self,
        request: service::GetDataRequest,
    ) -> Result<service::GetDataResponse, AdminError> {
        if request.flyte_url.is_empty() {
            return Err(AdminError::invalid("missing flyte_url"));
        }
        let url = FlyteUrl::parse(&request.flyte_url)?;
        if url.kind == DataKind::Deck {
            let DataOwner::Node(node) = &url.owner else {
                unreachable!("parse allows decks of nodes only")
            };
            let link = crate::dataproxy::DataProxyApi::new(self.state.clone())
                .create_download_link_impl(service::CreateDownloadLinkRequest {
                    artifact_type: service::ArtifactType::Deck as i32,
                    expires_in: None,
                    source: Some(
                        service::create_download_link_request::Source::NodeExecutionId(
                            node_identifier(node),
                        ),
                    ),
                })
                .await?;
            return Ok(service::GetDataResponse {
                data: Some(service::get_data_response::Data::PreSignedUrls(
                    link.pre_signed_urls.unwrap_or_default(),
                )),
            });
        }
        let (inputs, outputs) = match &url.owner {
            DataOwner::Execution(key) => {
                let data = self
                    .get_execution_data_impl(admin::WorkflowExecutionGetDataRequest {
                        id: Some(crate::identifiers::execution_identifier(key)),
                    })
                    .await?;
                (data.full_inputs, data.full_outputs)
            }
            DataOwner::Node(key) => {
                let data = self
                    .get_node_execution_data_impl(admin::NodeExecutionGetDataRequest {
                        id: Some(node_identifier(key)),
                    })
                    .await?;
                (data.full_inputs, data.full_outputs)
            }
            DataOwner::Attempt { node, attempt } => {
                let id = self.task_attempt_identifier(node, *attempt).await?;
                let data = self
                    .get_task_execution_data_impl(admin::TaskExecutionGetDataRequest {
                        id: Some(id),
                    })
                    .await?;
                (data.full_inputs, data.full_outputs)
            }
        };
        let literals = match url.kind {
            DataKind::Inputs => inputs,
            _ => outputs,
        }
        .ok_or_else(|| {
            AdminError::not_found(format!(
                "{} has no {} (yet)",
                describe(&url.owner),
                url.kind.label()
            ))
        })?;
        let data = match &url.literal_name {
            None => service::get_data_response::Data::LiteralMap(literals),
            Some(name) => {
                let literal = literals.literals.get(name).cloned().ok_or_else(|| {
                    let mut known: Vec<&str> =
                        literals.literals.keys().map(String::as_str).collect();
                    known.sort_unstable();
                    AdminError::not_found(format!(
                        "{} of {} have no literal named {name:?} (they have: {})",
                        url.kind.label(),
                        describe(&url.owner),
                        known.join(", ")
                    ))
                })?;
                service::get_data_response::Data::Literal(literal)
            }
        };
        Ok(service::GetDataResponse { data: Some(data) })
    }

    /// The task execution that is attempt `attempt` of `node`.
    async fn task_attempt_identifier(
        &self,
        node: &NodeExecutionKey,
        attempt: u32,
    ) -> Result<core::TaskExecutionIdentifier, AdminError> {
        let query = build_list_query(
            &TASK_EXECUTION_FIELDS,
            ListRequestParts {
                filters: &format!("eq(retry_attempt,{attempt})"),
                limit: 1,
                ..Default::default()
            },
            Vec::new(),
            None,
        )?;
        let attempts = self.state.store.list_task_executions(node, &query).await?;
        let record = attempts.first().ok_or_else(|| {
            AdminError::not_found(format!("{node} has no task attempt {attempt}"))
        })?;
        Ok(core::TaskExecutionIdentifier {
            task_id: Some(core::Identifier {
                resource_type: core::ResourceType::Task as i32,
                project: record.key.task.project.clone(),
                domain: record.key.task.domain.clone(),
                name: record.key.task.name.clone(),
                version: record.key.task.version.clone(),
                org: String::new(),
            }),
            node_execution_id: Some(node_identifier(node)),
            retry_attempt: attempt,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(node_id: &str) -> NodeExecutionKey {
        NodeExecutionKey {
            execution: ExecutionKey {
                project: "p".into(),
                domain: "d".into(),
                name: "e".into(),
            },
            node_id: node_id.into(),
        }
    }

    #[test]
    fn parses_every_form() {
        let url = FlyteUrl::parse("flyte://v1/p/d/e/n2/0/i").unwrap();
        assert_eq!(
            url.owner,
            DataOwner::Attempt {
                node: node("n2"),
                attempt: 0
            }
        );
        assert_eq!(url.kind, DataKind::Inputs);
        let url = FlyteUrl::parse("flyte://v1/p/d/e/n2/o/o3").unwrap();
        assert_eq!(url.owner, DataOwner::Node(node("n2")));
        assert_eq!(url.literal_name.as_deref(), Some("o3"));
        let url = FlyteUrl::parse("flyte://v1/p/d/e/n2/3/o/o0").unwrap();
        assert_eq!(
            url.owner,
            DataOwner::Attempt {
                node: node("n2"),
                attempt: 3
            }
        );
        assert_eq!(url.literal_name.as_deref(), Some("o0"));
        let url = FlyteUrl::parse("flyte://v1/p/d/e/o").unwrap();
        assert_eq!(url.owner, DataOwner::Execution(node("x").execution));
        let url = FlyteUrl::parse("flyte://v1/p/d/e/i/x").unwrap();
        assert_eq!(url.owner, DataOwner::Execution(node("x").execution));
        assert_eq!(url.kind, DataKind::Inputs);
        assert_eq!(
            FlyteUrl::parse("flyte://v1/p/d/e/n0/d").unwrap().kind,
            DataKind::Deck
        );
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            "s3://bucket/key",
            "flyte://v2/p/d/e/n0/i",
            "flyte://v1/p/d",
            "flyte://v1/p/d/e",
            "flyte://v1/p/d/e/n0/x",
            "flyte://v1/p/d/e/n0//i",
            "flyte://v1/p/d/e/d",
            "flyte://v1/p/d/e/n0/0/d",
            "flyte://v1/p/d/e/n0/d/part",
            "flyte://v1/p/d/e/n0/99999999999/i",
            "flyte://v1/p/d/e/n0/0/i/a/b",
        ] {
            let error = FlyteUrl::parse(bad).expect_err(bad);
            assert!(
                matches!(&error, AdminError::InvalidArgument(message) if message.contains("invalid flyte url")),
                "{bad}: {error:?}"
            );
        }
    }
}
