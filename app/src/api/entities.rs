//! Server functions for registered entities: workflows, tasks and launch plans.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use super::EntityKind;
use crate::error::ConsoleError;
use crate::literals::{NamedValue, TypedVariable};

/// A named entity (all versions of one workflow, task or launch plan).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedEntitySummary {
    pub name: String,
    pub description: String,
}

/// One page of named entities and the token of the next page, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedEntityPage {
    pub entities: Vec<NamedEntitySummary>,
    pub next_token: Option<String>,
}

/// One version of an entity, identified as the API does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentifierView {
    pub project: String,
    pub domain: String,
    pub name: String,
    pub version: String,
}

/// A registered version and when it was registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityVersion {
    pub version: String,
    /// Milliseconds since the Unix epoch.
    pub created_at: Option<i64>,
}

/// What a launch plan adds to its workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaunchPlanDetails {
    /// The workflow version the launch plan runs.
    pub workflow: Option<IdentifierView>,
    /// Whether the launch plan (and its schedule) is active.
    pub active: bool,
    /// Inputs fixed by the launch plan, which a launch cannot change.
    pub fixed_inputs: Vec<NamedValue>,
    /// When it runs by itself, in words (`cron 0 * * * *`, `every 10 minutes`).
    pub schedule: Option<String>,
}

/// A launch plan of a workflow, as the workflow's page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaunchPlanLink {
    pub name: String,
    pub active: bool,
    pub schedule: Option<String>,
}

/// The launch plans that run workflow `name`: one entry per launch plan
/// name, from its newest version.
/// The version asked for, read on its own (it may be older than the ones
/// listed), or the newest listed when none was asked for. A missing version
/// is named as such; other failures keep their own error.
#[cfg(feature = "ssr")]
async fn chosen_version<T: Clone>(
    version: &str,
    newest_first: &[T],
    fetch: impl std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    missing: impl FnOnce() -> ConsoleError,
) -> Result<Option<T>, ConsoleError> {
    if version.is_empty() {
        return Ok(newest_first.first().cloned());
    }
    match fetch.await {
        Ok(found) => Ok(Some(found.into_inner())),
        Err(status) if status.code() == tonic::Code::NotFound => Err(missing()),
        Err(status) => Err(status.into()),
    }
}

#[cfg(feature = "ssr")]
async fn workflow_launch_plans(
    client: &mut super::AdminClient,
    project: &str,
    domain: &str,
    name: &str,
) -> Result<Vec<LaunchPlanLink>, tonic::Status> {
    use updraft_proto::flyteidl::admin;
    // A name with characters of the filter syntax cannot be asked about.
    let Ok(Some(name)) = validate_name_search(name) else {
        return Ok(Vec::new());
    };
    let launch_plans = client
        .list_launch_plans(admin::ResourceListRequest {
            id: Some(admin::NamedEntityIdentifier {
                project: project.to_string(),
                domain: domain.to_string(),
                ..Default::default()
            }),
            limit: 100,
            filters: format!("eq(workflow.name,{name})"),
            sort_by: Some(newest_first()),
            ..Default::default()
        })
        .await?
        .into_inner()
        .launch_plans;
    let mut links: Vec<LaunchPlanLink> = Vec::new();
    for launch_plan in &launch_plans {
        let lp_name = launch_plan
            .id
            .as_ref()
            .map(|id| id.name.clone())
            .unwrap_or_default();
        if links.iter().any(|link| link.name == lp_name) {
            continue;
        }
        links.push(LaunchPlanLink {
            name: lp_name,
            active: launch_plan
                .closure
                .as_ref()
                .is_some_and(|c| c.state == admin::LaunchPlanState::Active as i32),
            schedule: schedule_text(launch_plan.spec.as_ref()),
        });
    }
    links.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(links)
}

/// A launch plan's schedule in words, and the input that receives each
/// run's scheduled time.
#[cfg(feature = "ssr")]
fn schedule_text(spec: Option<&updraft_proto::flyteidl::admin::LaunchPlanSpec>) -> Option<String> {
    use updraft_proto::flyteidl::admin::{FixedRateUnit, schedule::ScheduleExpression};
    let schedule = spec?.entity_metadata.as_ref()?.schedule.as_ref()?;
    let mut text = match schedule.schedule_expression.as_ref()? {
        #[allow(deprecated)]
        ScheduleExpression::CronExpression(cron) => format!("cron {cron}"),
        ScheduleExpression::CronSchedule(cron) if cron.offset.is_empty() => {
            format!("cron {}", cron.schedule)
        }
        ScheduleExpression::CronSchedule(cron) => {
            format!("cron {} (offset {})", cron.schedule, cron.offset)
        }
        ScheduleExpression::Rate(rate) => {
            let unit = match FixedRateUnit::try_from(rate.unit) {
                Ok(FixedRateUnit::Hour) => "hour",
                Ok(FixedRateUnit::Day) => "day",
                _ => "minute",
            };
            if rate.value == 1 {
                format!("every {unit}")
            } else {
                format!("every {} {unit}s", rate.value)
            }
        }
    };
    if !schedule.kickoff_time_input_arg.is_empty() {
        text.push_str(&format!(
            "; each run's time goes to input {}",
            schedule.kickoff_time_input_arg
        ));
    }
    Some(text)
}

/// Everything the detail page of a workflow, task or launch plan shows,
/// taken from its newest version or the one asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityOverview {
    pub kind: EntityKind,
    pub name: String,
    pub description: String,
    /// Newest first.
    pub versions: Vec<EntityVersion>,
    /// Whether more versions exist than `versions` holds.
    pub more_versions: bool,
    pub inputs: Vec<TypedVariable>,
    pub outputs: Vec<TypedVariable>,
    /// The plugin that runs a task (`python-task`, `container`, …).
    pub task_type: Option<String>,
    pub launch_plan: Option<LaunchPlanDetails>,
    /// A workflow's DAG (of its newest version).
    pub graph: Option<crate::graph::GraphLayout>,
    /// A workflow's launch plans, by name.
    pub launch_plans: Vec<LaunchPlanLink>,
    /// The version whose interface, graph and details are shown.
    pub shown_version: String,
}

/// How many versions the detail page shows.
pub const VERSIONS_SHOWN: u32 = 20;

/// Characters allowed in a name search: those of Python module paths and
/// Flyte names, none of which have meaning in flyteadmin's filter syntax.
pub fn validate_name_search(query: &str) -> Result<Option<String>, ConsoleError> {
    let query = query.trim();
    if query.is_empty() {
        return Ok(None);
    }
    if query
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        Ok(Some(query.to_string()))
    } else {
        Err(ConsoleError::InvalidInput {
            message: format!(
                "cannot search for \"{query}\": names contain only letters, digits, '.', '_' and '-'"
            ),
        })
    }
}

/// Lists the named workflows, tasks or launch plans of a project and domain,
/// optionally only those whose name contains `query`, a page at a time.
#[server(input = Json)]
pub async fn list_named_entities(
    project: String,
    domain: String,
    kind: EntityKind,
    query: String,
    archived: bool,
    token: String,
) -> Result<NamedEntityPage, ConsoleError> {
    use updraft_proto::flyteidl::admin;
    // Archived names leave the list unless asked for, as in FlyteConsole.
    let state = if archived {
        admin::NamedEntityState::NamedEntityArchived
    } else {
        admin::NamedEntityState::NamedEntityActive
    };
    let mut filters = vec![format!("eq(state,{})", state as i32)];
    filters.extend(validate_name_search(&query)?.map(|name| format!("contains(name,{name})")));
    let filters = filters.join("+");
    let mut client = super::admin_client()?;
    let response = client
        .list_named_entities(admin::NamedEntityListRequest {
            resource_type: resource_type(kind) as i32,
            project,
            domain,
            limit: 100,
            token,
            filters,
            sort_by: Some(admin::Sort {
                key: "name".into(),
                direction: admin::sort::Direction::Ascending as i32,
            }),
            ..Default::default()
        })
        .await?
        .into_inner();
    Ok(NamedEntityPage {
        entities: response
            .entities
            .into_iter()
            .map(|entity| NamedEntitySummary {
                name: entity.id.map(|id| id.name).unwrap_or_default(),
                description: entity.metadata.map(|m| m.description).unwrap_or_default(),
            })
            .collect(),
        next_token: Some(response.token).filter(|token| !token.is_empty()),
    })
}

/// Activates a launch plan version, so its schedule runs (admin
/// deactivates the name's other versions), or deactivates it.
#[server(endpoint = "set_launch_plan_active")]
pub async fn set_launch_plan_active(
    project: String,
    domain: String,
    name: String,
    version: String,
    active: bool,
) -> Result<(), ConsoleError> {
    use updraft_proto::flyteidl::{admin, core};
    let state = if active {
        admin::LaunchPlanState::Active
    } else {
        admin::LaunchPlanState::Inactive
    };
    let mut client = super::admin_client()?;
    client
        .update_launch_plan(admin::LaunchPlanUpdateRequest {
            id: Some(core::Identifier {
                resource_type: core::ResourceType::LaunchPlan as i32,
                project,
                domain,
                name,
                version,
                org: String::new(),
            }),
            state: state as i32,
        })
        .await?;
    Ok(())
}

/// The versions, interface and description of one workflow, task or launch plan.
#[server(input = Json)]
pub async fn get_entity_overview(
    project: String,
    domain: String,
    kind: EntityKind,
    name: String,
    /// Empty for the shown.
    version: String,
) -> Result<EntityOverview, ConsoleError> {
    use crate::literals::{literal_map_values, typed_parameters, typed_variables};
    use updraft_proto::flyteidl::admin;

    let mut client = super::admin_client()?;
    let id = admin::NamedEntityIdentifier {
        project: project.clone(),
        domain: domain.clone(),
        name: name.clone(),
        ..Default::default()
    };
    let request = admin::ResourceListRequest {
        id: Some(id.clone()),
        // One more than shown tells whether there are more.
        limit: VERSIONS_SHOWN + 1,
        sort_by: Some(newest_first()),
        ..Default::default()
    };
    let mut overview = EntityOverview {
        kind,
        name: name.clone(),
        description: String::new(),
        versions: Vec::new(),
        more_versions: false,
        inputs: Vec::new(),
        outputs: Vec::new(),
        task_type: None,
        launch_plan: None,
        graph: None,
        launch_plans: Vec::new(),
        shown_version: String::new(),
    };
    // The version asked for, read on its own: it may be older than the
    // versions listed.
    let object_id = updraft_proto::flyteidl::core::Identifier {
        resource_type: resource_type(kind) as i32,
        project: project.clone(),
        domain: domain.clone(),
        name: name.clone(),
        version: version.clone(),
        org: String::new(),
    };
    let object_request = admin::ObjectGetRequest {
        id: Some(object_id),
    };
    let missing_version = || ConsoleError::NotFound {
        what: format!(
            "version {version} of {} {name} in {project}/{domain}",
            kind.singular()
        ),
    };
    match kind {
        EntityKind::Workflow => {
            let workflows = client.list_workflows(request).await?.into_inner().workflows;
            let shown = chosen_version(
                &version,
                &workflows,
                client.get_workflow(object_request),
                missing_version,
            )
            .await?;
            if let Some(shown) = shown.as_ref() {
                overview.shown_version = shown
                    .id
                    .as_ref()
                    .map(|id| id.version.clone())
                    .unwrap_or_default();
                overview.description = shown.short_description.clone();
                let interface = shown
                    .closure
                    .as_ref()
                    .and_then(|c| c.compiled_workflow.as_ref())
                    .and_then(|c| c.primary.as_ref())
                    .and_then(|p| p.template.as_ref())
                    .and_then(|t| t.interface.as_ref());
                overview.inputs = typed_variables(interface.and_then(|i| i.inputs.as_ref()));
                overview.outputs = typed_variables(interface.and_then(|i| i.outputs.as_ref()));
                overview.graph = shown
                    .closure
                    .as_ref()
                    .and_then(|c| c.compiled_workflow.as_ref())
                    .and_then(|c| c.primary.as_ref())
                    .map(crate::graph::workflow_graph);
            }
            // An extra too: the page stands without it.
            overview.launch_plans = workflow_launch_plans(&mut client, &project, &domain, &name)
                .await
                .unwrap_or_else(|status| {
                    tracing::debug!(code = ?status.code(), message = status.message(), "launch plans of the workflow unavailable");
                    Vec::new()
                });
            overview.versions = workflows
                .iter()
                .map(|w| {
                    version_of(
                        w.id.as_ref(),
                        w.closure.as_ref().and_then(|c| c.created_at.as_ref()),
                    )
                })
                .collect();
        }
        EntityKind::Task => {
            let tasks = client.list_tasks(request).await?.into_inner().tasks;
            let shown = chosen_version(
                &version,
                &tasks,
                client.get_task(object_request),
                missing_version,
            )
            .await?;
            if let Some(shown) = shown.as_ref() {
                overview.shown_version = shown
                    .id
                    .as_ref()
                    .map(|id| id.version.clone())
                    .unwrap_or_default();
                overview.description = shown.short_description.clone();
                let template = shown
                    .closure
                    .as_ref()
                    .and_then(|c| c.compiled_task.as_ref())
                    .and_then(|c| c.template.as_ref());
                overview.task_type = template.map(|t| t.r#type.clone());
                let interface = template.and_then(|t| t.interface.as_ref());
                overview.inputs = typed_variables(interface.and_then(|i| i.inputs.as_ref()));
                overview.outputs = typed_variables(interface.and_then(|i| i.outputs.as_ref()));
            }
            overview.versions = tasks
                .iter()
                .map(|t| {
                    version_of(
                        t.id.as_ref(),
                        t.closure.as_ref().and_then(|c| c.created_at.as_ref()),
                    )
                })
                .collect();
        }
        EntityKind::LaunchPlan => {
            let launch_plans = client
                .list_launch_plans(request)
                .await?
                .into_inner()
                .launch_plans;
            let shown = chosen_version(
                &version,
                &launch_plans,
                client.get_launch_plan(object_request),
                missing_version,
            )
            .await?;
            if let Some(shown) = shown.as_ref() {
                overview.shown_version = shown
                    .id
                    .as_ref()
                    .map(|id| id.version.clone())
                    .unwrap_or_default();
                let closure = shown.closure.as_ref();
                overview.inputs =
                    typed_parameters(closure.and_then(|c| c.expected_inputs.as_ref()));
                overview.outputs =
                    typed_variables(closure.and_then(|c| c.expected_outputs.as_ref()));
                let spec = shown.spec.as_ref();
                overview.launch_plan = Some(LaunchPlanDetails {
                    workflow: spec
                        .and_then(|s| s.workflow_id.as_ref())
                        .map(identifier_view),
                    active: closure
                        .is_some_and(|c| c.state == admin::LaunchPlanState::Active as i32),
                    fixed_inputs: spec
                        .and_then(|s| s.fixed_inputs.as_ref())
                        .map(literal_map_values)
                        .unwrap_or_default(),
                    schedule: schedule_text(spec),
                });
            }
            overview.versions = launch_plans
                .iter()
                .map(|l| {
                    version_of(
                        l.id.as_ref(),
                        l.closure.as_ref().and_then(|c| c.created_at.as_ref()),
                    )
                })
                .collect();
        }
    }
    if overview.versions.is_empty() {
        return Err(ConsoleError::NotFound {
            what: format!("{} {name} in {project}/{domain}", kind.singular()),
        });
    }
    overview.more_versions = overview.versions.len() > VERSIONS_SHOWN as usize;
    overview.versions.truncate(VERSIONS_SHOWN as usize);

    // The named entity's description is edited separately from versions; it is
    // an extra, so an admin without it still gets the rest of the page.
    match client
        .get_named_entity(admin::NamedEntityGetRequest {
            resource_type: resource_type(kind) as i32,
            id: Some(id),
        })
        .await
    {
        Ok(entity) => {
            let description = entity
                .into_inner()
                .metadata
                .map(|m| m.description)
                .unwrap_or_default();
            if !description.is_empty() {
                overview.description = description;
            }
        }
        Err(status) => {
            tracing::debug!(code = ?status.code(), message = status.message(), "named entity metadata unavailable");
        }
    }
    Ok(overview)
}

#[cfg(feature = "ssr")]
fn resource_type(kind: EntityKind) -> updraft_proto::flyteidl::core::ResourceType {
    use updraft_proto::flyteidl::core::ResourceType;
    match kind {
        EntityKind::Workflow => ResourceType::Workflow,
        EntityKind::Task => ResourceType::Task,
        EntityKind::LaunchPlan => ResourceType::LaunchPlan,
    }
}

#[cfg(feature = "ssr")]
pub(crate) fn newest_first() -> updraft_proto::flyteidl::admin::Sort {
    use updraft_proto::flyteidl::admin;
    admin::Sort {
        key: "created_at".into(),
        direction: admin::sort::Direction::Descending as i32,
    }
}

#[cfg(feature = "ssr")]
pub(crate) fn identifier_view(id: &updraft_proto::flyteidl::core::Identifier) -> IdentifierView {
    IdentifierView {
        project: id.project.clone(),
        domain: id.domain.clone(),
        name: id.name.clone(),
        version: id.version.clone(),
    }
}

#[cfg(feature = "ssr")]
fn version_of(
    id: Option<&updraft_proto::flyteidl::core::Identifier>,
    created_at: Option<&prost_types::Timestamp>,
) -> EntityVersion {
    EntityVersion {
        version: id.map(|id| id.version.clone()).unwrap_or_default(),
        created_at: created_at.map(crate::literals::timestamp_millis),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_search_accepts_flyte_names_only() {
        assert_eq!(validate_name_search("  "), Ok(None));
        assert_eq!(
            validate_name_search(" myapp.greetings.hello_wf "),
            Ok(Some("myapp.greetings.hello_wf".into()))
        );
        assert!(matches!(
            validate_name_search("a,b)"),
            Err(ConsoleError::InvalidInput { .. })
        ));
    }
}
