//! Server functions: the console's typed calls into the BFF, which forwards them
//! to the gRPC APIs. Data types here travel to the browser, so they are plain
//! serde structs, never protobuf messages.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::ConsoleError;

mod entities;
mod executions;
mod launch;
mod nodes;

pub use entities::*;
pub use executions::*;
pub use launch::*;
pub use nodes::*;

/// A project as the picker and dashboard show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectSummary {
    pub id: String,
    pub name: String,
    pub description: String,
    pub domains: Vec<DomainSummary>,
}

/// A domain (development, staging, production…) of a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainSummary {
    pub id: String,
    pub name: String,
}

/// The control plane's version, shown in the footer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionInfo {
    pub version: String,
    pub build: String,
}

/// The admin client the server functions use.
#[cfg(feature = "ssr")]
pub type AdminClient = updraft_proto::flyteidl::service::admin_service_client::AdminServiceClient<
    tonic::transport::Channel,
>;

/// The signal client (gate nodes) the server functions use.
#[cfg(feature = "ssr")]
pub type SignalClient =
    updraft_proto::flyteidl::service::signal_service_client::SignalServiceClient<
        tonic::transport::Channel,
    >;

/// The propeller API client (live task logs).
#[cfg(feature = "ssr")]
pub type PropellerClient =
    updraft_proto::updraft::propeller::v1::propeller_service_client::PropellerServiceClient<
        tonic::transport::Channel,
    >;

/// The gRPC clients the server functions use; provided as context by the BFF.
#[cfg(feature = "ssr")]
#[derive(Clone)]
pub struct ApiClients {
    pub admin: AdminClient,
    /// Admin's `SignalService`, on the admin's endpoint.
    pub signals: SignalClient,
    /// The propeller API that serves task logs; `None` when the console
    /// knows no propeller (logs then come only from the attempts' links).
    pub propeller: Option<PropellerClient>,
}

#[cfg(feature = "ssr")]
fn api_clients() -> Result<ApiClients, ConsoleError> {
    use_context::<ApiClients>().ok_or_else(|| {
        tracing::error!("api clients missing from the server function context");
        ConsoleError::Internal
    })
}

#[cfg(feature = "ssr")]
pub(crate) fn admin_client() -> Result<AdminClient, ConsoleError> {
    api_clients().map(|clients| clients.admin)
}

#[cfg(feature = "ssr")]
pub(crate) fn signal_client() -> Result<SignalClient, ConsoleError> {
    api_clients().map(|clients| clients.signals)
}

#[cfg(feature = "ssr")]
pub(crate) fn propeller_client() -> Option<PropellerClient> {
    api_clients().ok().and_then(|clients| clients.propeller)
}

/// Lists the active projects, ordered by name.
#[server]
pub async fn list_projects() -> Result<Vec<ProjectSummary>, ConsoleError> {
    use updraft_proto::flyteidl::admin;
    let mut client = admin_client()?;
    let response = client
        .list_projects(admin::ProjectListRequest {
            limit: 1000,
            ..Default::default()
        })
        .await?
        .into_inner();
    let mut projects: Vec<ProjectSummary> = response
        .projects
        .into_iter()
        .map(|project| ProjectSummary {
            id: project.id,
            name: project.name,
            description: project.description,
            domains: project
                .domains
                .into_iter()
                .map(|domain| DomainSummary {
                    id: domain.id,
                    name: domain.name,
                })
                .collect(),
        })
        .collect();
    projects.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(projects)
}

/// The version of the control plane the console talks to.
#[server]
pub async fn control_plane_version() -> Result<VersionInfo, ConsoleError> {
    use updraft_proto::flyteidl::admin;
    let mut client = admin_client()?;
    let response = client
        .get_version(admin::GetVersionRequest {})
        .await?
        .into_inner();
    let version = response.control_plane_version.unwrap_or_default();
    Ok(VersionInfo {
        version: version.version,
        build: version.build,
    })
}

/// The kinds of registered entity the console lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntityKind {
    Workflow,
    Task,
    LaunchPlan,
}

impl EntityKind {
    /// The path segment FlyteConsole uses for this kind.
    pub fn route_segment(self) -> &'static str {
        match self {
            EntityKind::Workflow => "workflows",
            EntityKind::Task => "tasks",
            EntityKind::LaunchPlan => "launchPlans",
        }
    }

    /// Parses FlyteConsole's path segment.
    pub fn from_route_segment(segment: &str) -> Option<Self> {
        match segment {
            "workflows" => Some(EntityKind::Workflow),
            "tasks" => Some(EntityKind::Task),
            "launchPlans" => Some(EntityKind::LaunchPlan),
            _ => None,
        }
    }

    /// A singular, lowercase noun for headings and messages.
    pub fn singular(self) -> &'static str {
        match self {
            EntityKind::Workflow => "workflow",
            EntityKind::Task => "task",
            EntityKind::LaunchPlan => "launch plan",
        }
    }

    /// The field flyteadmin's execution filters use for this kind's name.
    pub fn execution_filter_field(self) -> &'static str {
        match self {
            EntityKind::Workflow => "workflow.name",
            EntityKind::Task => "task.name",
            EntityKind::LaunchPlan => "launch_plan.name",
        }
    }

    /// A plural, lowercase noun for headings and messages.
    pub fn plural(self) -> &'static str {
        match self {
            EntityKind::Workflow => "workflows",
            EntityKind::Task => "tasks",
            EntityKind::LaunchPlan => "launch plans",
        }
    }
}

/// Where the console's own flytekit configuration lives, for the hints in
/// empty states. `None` when the console fronts a remote admin.
#[server]
pub async fn flytekit_config_hint() -> Result<Option<String>, ConsoleError> {
    Ok(use_context::<FlytekitConfigPath>().and_then(|hint| hint.0))
}

/// The path of the flytekit configuration `updraft start` wrote, if any.
#[derive(Debug, Clone, Default)]
pub struct FlytekitConfigPath(pub Option<String>);
