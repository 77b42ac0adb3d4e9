//! Server functions for executions: lists, one execution, its data and nodes,
//! and terminating it.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use super::{EntityKind, IdentifierView};
use crate::components::phase::EXECUTION_PHASES;
use crate::error::ConsoleError;
use crate::literals::NamedValue;

/// One row of an executions list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionSummary {
    pub name: String,
    /// Flyte's phase name, `RUNNING`, `SUCCEEDED`, …
    pub phase: String,
    /// The launch plan (or, for a single-task run, the task) that was launched.
    pub launch_plan: Option<IdentifierView>,
    /// Whether `launch_plan` names a task rather than a launch plan.
    pub launched_task: bool,
    pub workflow: Option<IdentifierView>,
    /// Milliseconds since the Unix epoch.
    pub created_at: Option<i64>,
    pub started_at: Option<i64>,
    /// Set once the execution has finished.
    pub duration_millis: Option<i64>,
    /// Who launched it.
    pub principal: String,
}

/// One page of executions and the token of the next page, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionPage {
    pub executions: Vec<ExecutionSummary>,
    pub next_token: Option<String>,
}

/// What the executions list shows: every field comes from the URL query.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ExecutionQuery {
    /// A phase name, or empty for all.
    pub phase: String,
    /// `created_at.desc` (the default when empty), `created_at.asc`, `duration.desc`, `duration.asc`.
    pub sort: String,
    /// The API's opaque token of the page to show; empty for the first.
    pub token: String,
    /// Only executions created within this long before now: one of
    /// [`CREATED_WITHIN`]'s values, or empty for any time.
    pub created: String,
    /// `only` lists archived executions instead of active ones.
    pub archived: String,
    /// `1` lists only the signed-in person's executions.
    pub mine: String,
    /// How long finished executions ran: one of [`DURATIONS`]'s values, or
    /// empty for any (running ones included).
    pub duration: String,
}

impl ExecutionQuery {
    /// The query as the executions page's URL pairs, `token` naming the page
    /// (empty for the first).
    pub fn url_pairs<'a>(&'a self, token: &'a str) -> [(&'static str, &'a str); 7] {
        [
            ("phase", &self.phase),
            ("created", &self.created),
            ("archived", &self.archived),
            ("mine", &self.mine),
            ("duration", &self.duration),
            ("sort", &self.sort),
            ("token", token),
        ]
    }
}

/// The duration choices: URL value, label and admin filter.
pub const DURATIONS: [(&str, &str, &str); 4] = [
    ("lt1m", "Under a minute", "lt(duration,60)"),
    ("gt1m", "Over a minute", "gte(duration,60)"),
    ("gt10m", "Over 10 minutes", "gte(duration,600)"),
    ("gt1h", "Over an hour", "gte(duration,3600)"),
];

/// The "created within" choices, with their length in milliseconds.
pub const CREATED_WITHIN: [(&str, &str, i64); 4] = [
    ("1h", "Last hour", 3_600_000),
    ("24h", "Last 24 hours", 86_400_000),
    ("7d", "Last 7 days", 7 * 86_400_000),
    ("30d", "Last 30 days", 30 * 86_400_000),
];

/// The sort orders the executions list offers, with their labels.
pub const EXECUTION_SORTS: [(&str, &str); 4] = [
    ("created_at.desc", "Newest first"),
    ("created_at.asc", "Oldest first"),
    ("duration.desc", "Longest first"),
    ("duration.asc", "Shortest first"),
];

/// How many executions one page shows.
pub const EXECUTIONS_PER_PAGE: u32 = 25;

/// flyteadmin's `(filters, sort key, descending)` for a query, or what is wrong with it.
/// `now_millis` anchors the "created within" filter.
/// `me` is the signed-in person's subject, for "launched by me".
pub fn execution_filters(
    query: &ExecutionQuery,
    entity: Option<(EntityKind, &str)>,
    now_millis: i64,
    me: Option<&str>,
) -> Result<(String, &'static str, bool), ConsoleError> {
    let mut filters = Vec::new();
    if let Some((kind, name)) = entity {
        if name.is_empty() || name.contains([',', ')', '(', ';']) {
            return Err(ConsoleError::InvalidInput {
                message: format!("\"{name}\" is not a valid {} name", kind.singular()),
            });
        }
        filters.push(format!("eq({},{name})", kind.execution_filter_field()));
    }
    if !query.phase.is_empty() {
        if !EXECUTION_PHASES.contains(&query.phase.as_str()) {
            return Err(ConsoleError::InvalidInput {
                message: format!(
                    "unknown phase \"{}\"; use one of {}",
                    query.phase,
                    EXECUTION_PHASES.join(", ")
                ),
            });
        }
        filters.push(format!("eq(phase,{})", query.phase));
    }
    if !query.created.is_empty() {
        let Some((_, _, window)) = CREATED_WITHIN
            .iter()
            .find(|(value, _, _)| *value == query.created)
        else {
            return Err(ConsoleError::InvalidInput {
                message: format!(
                    "unknown time range \"{}\"; use one of {}",
                    query.created,
                    CREATED_WITHIN.map(|(value, _, _)| value).join(", ")
                ),
            });
        };
        filters.push(format!(
            "gte(created_at,{})",
            crate::time::format_rfc3339(now_millis - window)
        ));
    }
    match query.archived.as_str() {
        "" => {}
        "only" => filters.push("eq(state,EXECUTION_ARCHIVED)".into()),
        other => {
            return Err(ConsoleError::InvalidInput {
                message: format!("unknown archive choice \"{other}\"; use \"only\" or nothing"),
            });
        }
    }
    if !query.duration.is_empty() {
        let Some((_, _, filter)) = DURATIONS
            .iter()
            .find(|(value, _, _)| *value == query.duration)
        else {
            return Err(ConsoleError::InvalidInput {
                message: format!(
                    "unknown duration \"{}\"; use one of {}",
                    query.duration,
                    DURATIONS.map(|(value, _, _)| value).join(", ")
                ),
            });
        };
        filters.push((*filter).to_string());
    }
    match (query.mine.as_str(), me) {
        ("", _) => {}
        ("1", Some(me)) if !me.contains([',', ')', '(', '+']) => {
            filters.push(format!("eq(user,{me})"));
        }
        ("1", Some(_)) => {
            return Err(ConsoleError::InvalidInput {
                message: "your user name cannot be used in a filter".into(),
            });
        }
        ("1", None) => {
            return Err(ConsoleError::InvalidInput {
                message: "\"launched by me\" needs you to be signed in".into(),
            });
        }
        (other, _) => {
            return Err(ConsoleError::InvalidInput {
                message: format!("unknown \"mine\" choice \"{other}\"; use 1 or nothing"),
            });
        }
    }
    let sort = if query.sort.is_empty() {
        "created_at.desc"
    } else {
        query.sort.as_str()
    };
    let (key, descending) = match sort {
        "created_at.desc" => ("created_at", true),
        "created_at.asc" => ("created_at", false),
        "duration.desc" => ("duration", true),
        "duration.asc" => ("duration", false),
        other => {
            return Err(ConsoleError::InvalidInput {
                message: format!(
                    "unknown sort order \"{other}\"; use one of {}",
                    EXECUTION_SORTS.map(|(value, _)| value).join(", ")
                ),
            });
        }
    };
    // flyteadmin joins several filters with "+", all of which must hold.
    Ok((filters.join("+"), key, descending))
}

/// Lists executions of a project and domain, newest first unless `query.sort`
/// says otherwise; with `entity_kind` and `entity_name`, only those of one
/// workflow, task or launch plan.
#[server(input = Json)]
pub async fn list_executions(
    project: String,
    domain: String,
    query: ExecutionQuery,
    entity_kind: Option<EntityKind>,
    entity_name: String,
) -> Result<ExecutionPage, ConsoleError> {
    let entity = entity_kind.map(|kind| (kind, entity_name.as_str()));
    let now_millis = now_millis();
    let me = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<super::SignedInUser>().cloned())
        .map(|user| user.subject);
    let request =
        executions_page_request(&project, &domain, &query, entity, now_millis, me.as_deref())?;
    let mut client = super::admin_client()?;
    let response = client.list_executions(request).await?.into_inner();
    Ok(ExecutionPage {
        executions: response.executions.iter().map(execution_summary).collect(),
        next_token: Some(response.token).filter(|token| !token.is_empty()),
    })
}

/// The admin request for the page of executions `query` asks for: the
/// executions list's, and what its live watch looks at.
#[cfg(feature = "ssr")]
pub fn executions_page_request(
    project: &str,
    domain: &str,
    query: &ExecutionQuery,
    entity: Option<(EntityKind, &str)>,
    now_millis: i64,
    me: Option<&str>,
) -> Result<updraft_proto::flyteidl::admin::ResourceListRequest, ConsoleError> {
    use updraft_proto::flyteidl::admin;
    let (filters, key, descending) = execution_filters(query, entity, now_millis, me)?;
    let direction = if descending {
        admin::sort::Direction::Descending
    } else {
        admin::sort::Direction::Ascending
    };
    Ok(admin::ResourceListRequest {
        id: Some(admin::NamedEntityIdentifier {
            project: project.to_string(),
            domain: domain.to_string(),
            ..Default::default()
        }),
        limit: EXECUTIONS_PER_PAGE,
        token: query.token.clone(),
        filters,
        sort_by: Some(admin::Sort {
            key: key.into(),
            direction: direction as i32,
        }),
    })
}

/// The server's clock, in milliseconds since the Unix epoch.
#[cfg(feature = "ssr")]
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}

/// Days the dashboard's chart covers, today included.
pub const CHART_DAYS: usize = 7;
/// Most executions the chart counts; busier projects say so.
#[cfg(feature = "ssr")]
const CHART_MOST_EXECUTIONS: usize = 5_000;

/// Executions created on each of the last [`CHART_DAYS`] days (UTC), by phase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseChart {
    /// Oldest first: the start of the day (UTC) and `(phase, count)` pairs.
    pub days: Vec<(i64, Vec<(String, u32)>)>,
    /// Whether more executions were created than the chart counted.
    pub capped: bool,
}

/// What the project dashboard's chart shows.
#[server(input = Json)]
pub async fn recent_executions_by_phase(
    project: String,
    domain: String,
) -> Result<PhaseChart, ConsoleError> {
    use updraft_proto::flyteidl::admin;
    const DAY_MILLIS: i64 = 86_400_000;
    let now_millis = now_millis();
    let first_day =
        now_millis.div_euclid(DAY_MILLIS) * DAY_MILLIS - (CHART_DAYS as i64 - 1) * DAY_MILLIS;
    let mut counts: Vec<std::collections::BTreeMap<String, u32>> =
        vec![Default::default(); CHART_DAYS];
    let mut client = super::admin_client()?;
    let (mut token, mut counted, mut capped) = (String::new(), 0, false);
    loop {
        let response = client
            .list_executions(admin::ResourceListRequest {
                id: Some(admin::NamedEntityIdentifier {
                    project: project.clone(),
                    domain: domain.clone(),
                    ..Default::default()
                }),
                limit: 500,
                token,
                filters: format!("gte(created_at,{})", crate::time::format_rfc3339(first_day)),
                sort_by: Some(admin::Sort {
                    key: "created_at".into(),
                    direction: admin::sort::Direction::Descending as i32,
                }),
            })
            .await?
            .into_inner();
        for execution in &response.executions {
            let summary = execution_summary(execution);
            let Some(created) = summary.created_at else {
                continue;
            };
            let day = usize::try_from((created - first_day).div_euclid(DAY_MILLIS)).ok();
            if let Some(day) = day.filter(|day| *day < CHART_DAYS) {
                *counts[day].entry(summary.phase).or_default() += 1;
            }
        }
        counted += response.executions.len();
        token = response.token;
        if token.is_empty() {
            break;
        }
        if counted >= CHART_MOST_EXECUTIONS {
            capped = true;
            break;
        }
    }
    Ok(PhaseChart {
        days: counts
            .into_iter()
            .enumerate()
            .map(|(day, phases)| {
                (
                    first_day + day as i64 * DAY_MILLIS,
                    phases.into_iter().collect(),
                )
            })
            .collect(),
        capped,
    })
}

/// The error an execution failed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionErrorView {
    pub code: String,
    pub message: String,
    /// `USER` or `SYSTEM`.
    pub kind: String,
}

/// One execution with what its page's header shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionDetail {
    pub summary: ExecutionSummary,
    pub error: Option<ExecutionErrorView>,
    /// Why and by whom it was terminated.
    pub abort_cause: Option<String>,
    pub abort_principal: Option<String>,
    /// `MANUAL`, `SCHEDULED`, `RELAUNCH`, …
    pub mode: String,
    pub updated_at: Option<i64>,
    /// Archived executions leave the default list (they stay readable).
    pub archived: bool,
    /// Its labels, by key.
    pub labels: Vec<(String, String)>,
    /// The execution whose launch-plan node started this one, and that node.
    pub parent: Option<(ExecutionRef, String)>,
    /// The execution this one relaunched or recovered.
    pub reference: Option<ExecutionRef>,
    /// What it was launched with besides its inputs: annotations, service
    /// account, raw output prefix, parallelism, cache overwrite.
    pub options: crate::api::LaunchOptions,
    /// The cluster (data plane) that runs or ran it, once one claimed it
    /// (`spec.metadata.system_metadata.execution_cluster`).
    pub cluster: Option<String>,
    /// The execution cluster label that decides which data planes may run it.
    pub cluster_label: Option<String>,
    /// Whether it waits for a data plane that no live propeller is (one
    /// serving its label, or any when it has none). Only updraft's admin
    /// tells; in front of a stock flyteadmin it stays false.
    pub awaiting_data_plane: bool,
}

/// Where another execution is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionRef {
    pub project: String,
    pub domain: String,
    pub name: String,
}

#[cfg(feature = "ssr")]
impl From<&updraft_proto::flyteidl::core::WorkflowExecutionIdentifier> for ExecutionRef {
    fn from(id: &updraft_proto::flyteidl::core::WorkflowExecutionIdentifier) -> Self {
        Self {
            project: id.project.clone(),
            domain: id.domain.clone(),
            name: id.name.clone(),
        }
    }
}

/// One execution.
#[server(input = Json)]
pub async fn get_execution(
    project: String,
    domain: String,
    name: String,
) -> Result<ExecutionDetail, ConsoleError> {
    use updraft_proto::flyteidl::admin;
    let mut client = super::admin_client()?;
    let execution = client
        .get_execution(admin::WorkflowExecutionGetRequest {
            id: Some(execution_id(project, domain, name)),
        })
        .await?
        .into_inner();
    let closure = execution.closure.clone().unwrap_or_default();
    let (mut abort_cause, mut abort_principal, mut error) = (None, None, None);
    match closure.output_result {
        Some(admin::execution_closure::OutputResult::Error(failure)) => {
            error = Some(ExecutionErrorView {
                code: failure.code,
                message: failure.message,
                kind: updraft_proto::flyteidl::core::execution_error::ErrorKind::try_from(
                    failure.kind,
                )
                .map(|kind| kind.as_str_name().to_string())
                .unwrap_or_default(),
            });
        }
        Some(admin::execution_closure::OutputResult::AbortMetadata(abort)) => {
            abort_cause = Some(abort.cause);
            abort_principal = Some(abort.principal).filter(|p| !p.is_empty());
        }
        #[allow(deprecated)]
        Some(admin::execution_closure::OutputResult::AbortCause(cause)) => {
            abort_cause = Some(cause);
        }
        _ => {}
    }
    let metadata = execution.spec.as_ref().and_then(|s| s.metadata.as_ref());
    let mode = metadata
        .and_then(|m| admin::execution_metadata::ExecutionMode::try_from(m.mode).ok())
        .map(|mode| mode.as_str_name().to_string())
        .unwrap_or_default();
    let parent = metadata
        .and_then(|m| m.parent_node_execution.as_ref())
        .and_then(|node| {
            let execution = node.execution_id.as_ref()?;
            Some((ExecutionRef::from(execution), node.node_id.clone()))
        });
    let reference = metadata
        .and_then(|m| m.reference_execution.as_ref())
        .map(ExecutionRef::from);
    let cluster = metadata
        .and_then(|m| m.system_metadata.as_ref())
        .map(|system| system.execution_cluster.clone())
        .filter(|cluster| !cluster.is_empty());
    let cluster_label = execution
        .spec
        .as_ref()
        .and_then(|s| s.execution_cluster_label.as_ref())
        .map(|label| label.value.clone())
        .filter(|label| !label.is_empty());
    let mut labels: Vec<(String, String)> = execution
        .spec
        .as_ref()
        .and_then(|s| s.labels.as_ref())
        .map(|labels| labels.values.clone().into_iter().collect())
        .unwrap_or_default();
    labels.sort();
    let summary = execution_summary(&execution);
    let awaiting_data_plane =
        !crate::components::phase::is_terminal_execution_phase(&summary.phase)
            && awaiting_data_plane(execution.id.clone()).await;
    Ok(ExecutionDetail {
        summary,
        error,
        abort_cause,
        abort_principal,
        mode,
        updated_at: closure
            .updated_at
            .as_ref()
            .map(crate::literals::timestamp_millis),
        archived: closure
            .state_change_details
            .as_ref()
            .is_some_and(|details| {
                details.state == admin::ExecutionState::ExecutionArchived as i32
            }),
        labels,
        parent,
        reference,
        options: execution
            .spec
            .as_ref()
            .map(crate::api::launch::launch_options)
            .unwrap_or_default(),
        cluster,
        cluster_label,
        awaiting_data_plane,
    })
}

/// Whether admin says the execution waits for a data plane that no live
/// propeller is. Only updraft's admin knows; a stock flyteadmin answers
/// `Unimplemented`, and then (or on any failure of this extra look) the
/// page simply says nothing about it.
#[cfg(feature = "ssr")]
async fn awaiting_data_plane(
    id: Option<updraft_proto::flyteidl::core::WorkflowExecutionIdentifier>,
) -> bool {
    use updraft_proto::updraft::admin::v1::GetExecutionPlacementRequest;
    let Ok(mut client) = super::queue_client() else {
        return false;
    };
    match client
        .get_execution_placement(GetExecutionPlacementRequest { id })
        .await
    {
        Ok(placement) => placement.into_inner().awaiting_data_plane,
        Err(status) if status.code() == tonic::Code::Unimplemented => false,
        Err(status) => {
            tracing::warn!(code = ?status.code(), message = status.message(), "cannot ask admin where an execution is placed");
            false
        }
    }
}

/// The graph of the workflow an execution runs, laid out for drawing.
#[server(input = Json)]
pub async fn get_execution_graph(
    project: String,
    domain: String,
    name: String,
) -> Result<crate::graph::GraphLayout, ConsoleError> {
    use updraft_proto::flyteidl::admin;
    let mut client = super::admin_client()?;
    let execution = client
        .get_execution(admin::WorkflowExecutionGetRequest {
            id: Some(execution_id(project, domain, name)),
        })
        .await?
        .into_inner();
    let Some(workflow_id) = execution.closure.and_then(|closure| closure.workflow_id) else {
        return Ok(crate::graph::GraphLayout::default());
    };
    let workflow = client
        .get_workflow(admin::ObjectGetRequest {
            id: Some(workflow_id),
        })
        .await?
        .into_inner();
    Ok(workflow
        .closure
        .and_then(|closure| closure.compiled_workflow)
        .and_then(|compiled| compiled.primary)
        .map(|primary| crate::graph::workflow_graph(&primary))
        .unwrap_or_default())
}

/// An execution's inputs and outputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionData {
    pub inputs: Vec<NamedValue>,
    pub outputs: Vec<NamedValue>,
    /// Where the inputs are stored when the API did not inline them.
    pub inputs_uri: Option<String>,
    /// Where the outputs are stored when the API did not inline them.
    pub outputs_uri: Option<String>,
}

/// An execution's inputs and outputs (`GetExecutionData`).
#[server(input = Json)]
pub async fn get_execution_data(
    project: String,
    domain: String,
    name: String,
) -> Result<ExecutionData, ConsoleError> {
    use crate::literals::literal_map_values;
    use updraft_proto::flyteidl::admin;
    let mut client = super::admin_client()?;
    #[allow(deprecated)]
    let response = client
        .get_execution_data(admin::WorkflowExecutionGetDataRequest {
            id: Some(execution_id(project, domain, name)),
        })
        .await?
        .into_inner();
    // A stored map counts as too large only when the API did not inline it
    // and its file holds something: an execution without inputs has an
    // empty inputs file, which is "no inputs", not a map too large to show.
    let stored_elsewhere = |blob: Option<admin::UrlBlob>, inlined: bool| {
        blob.filter(|blob| !inlined && blob.bytes != 0)
            .map(|blob| blob.url)
            .filter(|url| !url.is_empty())
    };
    #[allow(deprecated)]
    let (inputs_uri, outputs_uri) = (
        stored_elsewhere(response.inputs, response.full_inputs.is_some()),
        stored_elsewhere(response.outputs, response.full_outputs.is_some()),
    );
    Ok(ExecutionData {
        inputs: response
            .full_inputs
            .as_ref()
            .map(literal_map_values)
            .unwrap_or_default(),
        outputs: response
            .full_outputs
            .as_ref()
            .map(literal_map_values)
            .unwrap_or_default(),
        inputs_uri,
        outputs_uri,
    })
}

/// One node of an execution, as the node table shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeExecutionSummary {
    pub node_id: String,
    pub phase: String,
    pub started_at: Option<i64>,
    pub duration_millis: Option<i64>,
    pub error: Option<String>,
    /// How deep it sits under top-level nodes (0 for those).
    pub depth: u32,
    /// Whether it has child nodes (a subworkflow, branch, dynamic or map node).
    pub has_children: bool,
    /// The execution a launch-plan node started.
    pub child_execution: Option<ExecutionRef>,
    /// A map node: its children are its indexes, not nodes.
    pub is_map: bool,
    /// Set on the row of one index of a map node (`node_id` is the map's).
    pub map_index: Option<crate::api::nodes::MapIndexView>,
    /// What the cache did for a task node; `None` for other nodes.
    pub cache: Option<crate::api::NodeCacheView>,
    /// The workflow's failure node (`on_failure`), which runs only once the
    /// workflow has failed.
    pub is_failure_handler: bool,
}

/// Rows of the node table per page; larger executions page through theirs.
pub const NODE_EXECUTIONS_LIMIT: usize = 500;

/// One page of the node table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodePage {
    pub nodes: Vec<NodeExecutionSummary>,
    /// The place of the first row in the whole table (0 for the first page).
    pub from: usize,
    /// Whether rows follow this page.
    pub more: bool,
}

/// The nodes of an execution in the order they started, each followed by
/// its children when its id is in `expand` (and theirs, when expanded too):
/// at most [`NODE_EXECUTIONS_LIMIT`] rows, from row `from` on.
#[server(input = Json)]
pub async fn list_node_executions(
    project: String,
    domain: String,
    name: String,
    expand: Vec<String>,
    from: usize,
) -> Result<NodePage, ConsoleError> {
    let mut client = super::admin_client()?;
    let id = execution_id(project, domain, name);
    // One row past the page tells whether another page follows.
    let wanted = from.saturating_add(NODE_EXECUTIONS_LIMIT + 1);
    let mut nodes = Vec::new();
    let mut row = 0;
    let mut more = false;
    // Depth first: each expanded parent's children come right after it.
    let mut top_level = node_level(&mut client, &id, "", 0, wanted, "").await?;
    if let Some(handler) = failure_node_id(&mut client, &id).await {
        for node in top_level.iter_mut().filter(|node| node.node_id == handler) {
            node.is_failure_handler = true;
        }
    }
    let mut levels = vec![top_level.into_iter()];
    while let Some(level) = levels.last_mut() {
        let Some(node) = level.next() else {
            levels.pop();
            continue;
        };
        if row == from + NODE_EXECUTIONS_LIMIT {
            more = true;
            break;
        }
        row += 1;
        let open = node.has_children && node.depth < 8 && expand.contains(&node.node_id);
        let (parent, depth, is_map) = (node.node_id.clone(), node.depth + 1, node.is_map);
        if row > from {
            nodes.push(node);
        }
        if open {
            let mut children = if is_map {
                map_index_rows(&mut client, &id, &parent, depth).await?
            } else {
                node_level(&mut client, &id, &parent, depth, wanted - row, "").await?
            };
            children.truncate(wanted - row);
            levels.push(children.into_iter());
        }
    }
    Ok(NodePage { nodes, from, more })
}

/// The phases of an execution's top-level nodes, for its graph.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NodePhases {
    /// By node id: every node, or those changed since the `since` asked for.
    pub phases: HashMap<String, String>,
    /// When they were read, by the console's clock: the `since` of the next
    /// read, which then lists only the nodes changed after it.
    pub read_at: i64,
}

/// How far before `since` a read reaches back: a change written while the
/// previous read was in flight, or stamped by an admin whose clock runs
/// behind the console's, is read again rather than missed.
#[cfg(feature = "ssr")]
const PHASE_READ_OVERLAP_MILLIS: i64 = 30_000;

/// The phases of an execution's top-level nodes, for its graph. With
/// `since` (an earlier answer's `read_at`), only the nodes changed since
/// then: a live graph of thousands of nodes re-reads a handful per change.
#[server(input = Json)]
pub async fn get_node_phases(
    project: String,
    domain: String,
    name: String,
    since: Option<i64>,
) -> Result<NodePhases, ConsoleError> {
    let mut client = super::admin_client()?;
    let id = execution_id(project, domain, name);
    let read_at = now_millis();
    let changed_since = since.map(|since| {
        format!(
            "gte(updated_at,{})",
            crate::launch::format_rfc3339(since - PHASE_READ_OVERLAP_MILLIS)
        )
    });
    let nodes = match changed_since {
        Some(filter) => match node_level(&mut client, &id, "", 0, usize::MAX, &filter).await {
            // An admin that cannot filter nodes by time gets the full read.
            Err(ConsoleError::InvalidInput { .. }) => {
                node_level(&mut client, &id, "", 0, usize::MAX, "").await?
            }
            read => read?,
        },
        None => node_level(&mut client, &id, "", 0, usize::MAX, "").await?,
    };
    Ok(NodePhases {
        phases: nodes
            .into_iter()
            .map(|node| (node.node_id, node.phase))
            .collect(),
        read_at,
    })
}

/// One level of an execution's nodes: the top level, or the children of
/// `parent`; only its first `wanted` nodes when it has more, and only those
/// that pass admin `filters` when there are any.
#[cfg(feature = "ssr")]
async fn node_level(
    client: &mut super::AdminClient,
    id: &updraft_proto::flyteidl::core::WorkflowExecutionIdentifier,
    parent: &str,
    depth: u32,
    wanted: usize,
    filters: &str,
) -> Result<Vec<NodeExecutionSummary>, ConsoleError> {
    use updraft_proto::flyteidl::{admin, core};
    let mut nodes = Vec::new();
    let mut token = String::new();
    loop {
        let response = client
            .list_node_executions(admin::NodeExecutionListRequest {
                workflow_execution_id: Some(id.clone()),
                unique_parent_id: parent.to_string(),
                limit: 500,
                token,
                filters: filters.to_string(),
                sort_by: Some(admin::Sort {
                    key: "created_at".into(),
                    direction: admin::sort::Direction::Ascending as i32,
                }),
            })
            .await?
            .into_inner();
        for node in response.node_executions {
            let node_id = node.id.map(|id| id.node_id).unwrap_or_default();
            // The start and end nodes are bookkeeping, not work a person did;
            // nested ones carry their parent's prefix in the id.
            let spec_node_id = node
                .metadata
                .as_ref()
                .map(|metadata| metadata.spec_node_id.as_str())
                .filter(|spec| !spec.is_empty())
                .unwrap_or(&node_id);
            if spec_node_id == "start-node" || spec_node_id == "end-node" {
                continue;
            }
            let closure = node.closure.unwrap_or_default();
            let cache = crate::api::node_cache(&closure);
            let child_execution = match &closure.target_metadata {
                Some(admin::node_execution_closure::TargetMetadata::WorkflowNodeMetadata(
                    workflow,
                )) => workflow.execution_id.as_ref().map(ExecutionRef::from),
                _ => None,
            };
            let error = match closure.output_result {
                Some(admin::node_execution_closure::OutputResult::Error(error)) => {
                    Some(error.message)
                }
                _ => None,
            };
            nodes.push(NodeExecutionSummary {
                node_id,
                phase: core::node_execution::Phase::try_from(closure.phase)
                    .map(|p| p.as_str_name().to_string())
                    .unwrap_or_else(|_| "UNDEFINED".into()),
                started_at: closure
                    .started_at
                    .as_ref()
                    .map(crate::literals::timestamp_millis),
                duration_millis: closure
                    .duration
                    .as_ref()
                    .map(crate::literals::duration_millis)
                    .filter(|millis| *millis > 0),
                error,
                depth,
                has_children: node
                    .metadata
                    .as_ref()
                    .is_some_and(|metadata| metadata.is_parent_node || metadata.is_array),
                child_execution,
                is_map: node
                    .metadata
                    .as_ref()
                    .is_some_and(|metadata| metadata.is_array),
                map_index: None,
                cache,
                is_failure_handler: false,
            });
        }
        token = response.token;
        if token.is_empty() || nodes.len() >= wanted {
            break;
        }
    }
    Ok(nodes)
}

/// The id of the failure node of the execution's workflow, if it has one;
/// `None` too when the workflow cannot be read (the rows are then unmarked).
#[cfg(feature = "ssr")]
async fn failure_node_id(
    client: &mut super::AdminClient,
    id: &updraft_proto::flyteidl::core::WorkflowExecutionIdentifier,
) -> Option<String> {
    use updraft_proto::flyteidl::admin;
    let execution = client
        .get_execution(admin::WorkflowExecutionGetRequest {
            id: Some(id.clone()),
        })
        .await
        .ok()?
        .into_inner();
    let workflow_id = execution.closure?.workflow_id?;
    let workflow = client
        .get_workflow(admin::ObjectGetRequest {
            id: Some(workflow_id),
        })
        .await
        .ok()?
        .into_inner();
    workflow
        .closure?
        .compiled_workflow?
        .primary?
        .template?
        .failure_node
        .map(|node| node.id)
}

/// The rows of a map node's indexes, each in its newest retry, from the
/// newest attempt of its task.
#[cfg(feature = "ssr")]
async fn map_index_rows(
    client: &mut super::AdminClient,
    id: &updraft_proto::flyteidl::core::WorkflowExecutionIdentifier,
    node_id: &str,
    depth: u32,
) -> Result<Vec<NodeExecutionSummary>, ConsoleError> {
    use updraft_proto::flyteidl::{admin, core};
    let attempts = client
        .list_task_executions(admin::TaskExecutionListRequest {
            node_execution_id: Some(core::NodeExecutionIdentifier {
                node_id: node_id.to_string(),
                execution_id: Some(id.clone()),
            }),
            limit: 100,
            ..Default::default()
        })
        .await?
        .into_inner()
        .task_executions;
    let newest = attempts
        .iter()
        .max_by_key(|attempt| attempt.id.as_ref().map(|id| id.retry_attempt));
    let indexes = crate::api::nodes::map_indexes(
        newest
            .and_then(|attempt| attempt.closure.as_ref())
            .and_then(|closure| closure.metadata.as_ref()),
    );
    Ok(indexes
        .into_iter()
        .map(|index| NodeExecutionSummary {
            node_id: node_id.to_string(),
            phase: index.phase.clone(),
            started_at: None,
            duration_millis: None,
            error: None,
            depth,
            has_children: false,
            child_execution: None,
            is_map: false,
            map_index: Some(index),
            cache: None,
            is_failure_handler: false,
        })
        .collect())
}

/// Terminates a running execution, recording `cause`. The endpoint is fixed
/// (`/api/terminate_execution`, no hash) so other clients can call it too.
#[server(endpoint = "terminate_execution")]
pub async fn terminate_execution(
    project: String,
    domain: String,
    name: String,
    cause: String,
) -> Result<(), ConsoleError> {
    use updraft_proto::flyteidl::admin;
    let cause = cause.trim().to_string();
    if cause.is_empty() {
        return Err(ConsoleError::InvalidInput {
            message: "say why you terminate the execution; the cause is kept with it".into(),
        });
    }
    let mut client = super::admin_client()?;
    client
        .terminate_execution(admin::ExecutionTerminateRequest {
            id: Some(execution_id(project, domain, name)),
            cause,
        })
        .await?;
    Ok(())
}

/// Starts a new execution that reuses the nodes that succeeded in a failed
/// one; answers the new execution's name.
#[server(endpoint = "recover_execution")]
pub async fn recover_execution(
    project: String,
    domain: String,
    name: String,
) -> Result<String, ConsoleError> {
    use updraft_proto::flyteidl::admin;
    let mut client = super::admin_client()?;
    let recovered = client
        .recover_execution(admin::ExecutionRecoverRequest {
            id: Some(execution_id(project, domain, name)),
            name: String::new(),
            metadata: None,
        })
        .await?
        .into_inner();
    recovered.id.map(|id| id.name).ok_or(ConsoleError::Internal)
}

/// Archives an execution (it leaves the default list) or brings it back.
#[server(endpoint = "archive_execution")]
pub async fn archive_execution(
    project: String,
    domain: String,
    name: String,
    archived: bool,
) -> Result<(), ConsoleError> {
    use updraft_proto::flyteidl::admin;
    let state = if archived {
        admin::ExecutionState::ExecutionArchived
    } else {
        admin::ExecutionState::ExecutionActive
    };
    let mut client = super::admin_client()?;
    client
        .update_execution(admin::ExecutionUpdateRequest {
            id: Some(execution_id(project, domain, name)),
            state: state as i32,
        })
        .await?;
    Ok(())
}

#[cfg(feature = "ssr")]
fn execution_id(
    project: String,
    domain: String,
    name: String,
) -> updraft_proto::flyteidl::core::WorkflowExecutionIdentifier {
    updraft_proto::flyteidl::core::WorkflowExecutionIdentifier {
        project,
        domain,
        name,
        ..Default::default()
    }
}

#[cfg(feature = "ssr")]
fn execution_summary(execution: &updraft_proto::flyteidl::admin::Execution) -> ExecutionSummary {
    use crate::literals::{duration_millis, timestamp_millis};
    use updraft_proto::flyteidl::core;
    let closure = execution.closure.clone().unwrap_or_default();
    let spec = execution.spec.as_ref();
    let launched = spec.and_then(|s| s.launch_plan.as_ref());
    ExecutionSummary {
        name: execution
            .id
            .as_ref()
            .map(|id| id.name.clone())
            .unwrap_or_default(),
        phase: core::workflow_execution::Phase::try_from(closure.phase)
            .map(|p| p.as_str_name().to_string())
            .unwrap_or_else(|_| "UNDEFINED".to_string()),
        launch_plan: launched.map(super::entities::identifier_view),
        launched_task: launched
            .is_some_and(|id| id.resource_type == core::ResourceType::Task as i32),
        workflow: closure
            .workflow_id
            .as_ref()
            .map(super::entities::identifier_view),
        created_at: closure.created_at.as_ref().map(timestamp_millis),
        started_at: closure.started_at.as_ref().map(timestamp_millis),
        duration_millis: closure
            .duration
            .as_ref()
            .map(duration_millis)
            .filter(|millis| *millis > 0),
        principal: spec
            .and_then(|s| s.metadata.as_ref())
            .map(|m| m.principal.clone())
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(phase: &str, sort: &str) -> ExecutionQuery {
        ExecutionQuery {
            phase: phase.into(),
            sort: sort.into(),
            ..Default::default()
        }
    }

    #[test]
    fn filters_by_creation_time_and_archive_state() {
        let now = 1_795_308_630_000;
        let recent_archived = ExecutionQuery {
            created: "1h".into(),
            archived: "only".into(),
            ..Default::default()
        };
        assert_eq!(
            execution_filters(&recent_archived, None, now, None).map(|(filters, _, _)| filters),
            Ok("gte(created_at,2026-11-21T23:50:30Z)+eq(state,EXECUTION_ARCHIVED)".into())
        );
        let forever = ExecutionQuery {
            created: "1y".into(),
            ..Default::default()
        };
        let Err(ConsoleError::InvalidInput { message }) =
            execution_filters(&forever, None, now, None)
        else {
            panic!("an unknown range is invalid input");
        };
        assert!(message.contains("24h"), "{message}");
    }

    #[test]
    fn builds_flyteadmin_filters_from_the_query() {
        assert_eq!(
            execution_filters(&query("", ""), None, 0, None),
            Ok((String::new(), "created_at", true))
        );
        assert_eq!(
            execution_filters(&query("FAILED", "duration.asc"), None, 0, None),
            Ok(("eq(phase,FAILED)".into(), "duration", false))
        );
        assert_eq!(
            execution_filters(
                &query("RUNNING", ""),
                Some((EntityKind::Workflow, "myapp.greetings.hello_wf")),
                0,
                None
            ),
            Ok((
                "eq(workflow.name,myapp.greetings.hello_wf)+eq(phase,RUNNING)".into(),
                "created_at",
                true
            ))
        );
        assert_eq!(
            execution_filters(
                &query("", ""),
                Some((EntityKind::LaunchPlan, "lp")),
                0,
                None
            )
            .map(|(filters, _, _)| filters),
            Ok("eq(launch_plan.name,lp)".into())
        );
    }

    #[test]
    fn rejects_unknown_phases_and_sorts_with_the_valid_choices() {
        let Err(ConsoleError::InvalidInput { message }) =
            execution_filters(&query("DONE", ""), None, 0, None)
        else {
            panic!("an unknown phase is invalid input");
        };
        assert!(message.contains("SUCCEEDED"), "{message}");
        let Err(ConsoleError::InvalidInput { message }) =
            execution_filters(&query("", "name"), None, 0, None)
        else {
            panic!("an unknown sort is invalid input");
        };
        assert!(message.contains("created_at.desc"), "{message}");
        assert!(
            execution_filters(&query("", ""), Some((EntityKind::Task, "a,b")), 0, None).is_err()
        );
    }

    #[test]
    fn duration_choices_become_duration_filters() {
        let long = ExecutionQuery {
            duration: "gt10m".into(),
            phase: "SUCCEEDED".into(),
            ..Default::default()
        };
        assert_eq!(
            execution_filters(&long, None, 0, None).map(|(filters, _, _)| filters),
            Ok("eq(phase,SUCCEEDED)+gte(duration,600)".into())
        );
        let odd = ExecutionQuery {
            duration: "forever".into(),
            ..Default::default()
        };
        assert!(matches!(
            execution_filters(&odd, None, 0, None),
            Err(ConsoleError::InvalidInput { message }) if message.contains("lt1m, gt1m")
        ));
    }

    #[test]
    fn launched_by_me_filters_on_the_signed_in_subject() {
        let mine = ExecutionQuery {
            mine: "1".into(),
            ..Default::default()
        };
        assert_eq!(
            execution_filters(&mine, None, 0, Some("alice")).map(|(filters, _, _)| filters),
            Ok("eq(user,alice)".into())
        );
        assert!(matches!(
            execution_filters(&mine, None, 0, None),
            Err(ConsoleError::InvalidInput { message }) if message.contains("signed in")
        ));
        assert!(execution_filters(&mine, None, 0, Some("a),eq(phase,x")).is_err());
    }
}
