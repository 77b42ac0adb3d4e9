//! Server functions: the console's typed calls into the BFF, which forwards them
//! to the gRPC APIs. Data types here travel to the browser, so they are plain
//! serde structs, never protobuf messages.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::ConsoleError;

mod cache;
mod entities;
mod executions;
mod launch;
mod nodes;

pub use cache::*;
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

/// Who is signed in to the console, and the roles their groups give them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SignedInUser {
    pub subject: String,
    pub name: String,
    pub email: Option<String>,
    pub groups: Vec<String>,
    /// The role in every project (`viewer`, `contributor`, `admin`).
    pub default_role: Option<String>,
    /// Roles in single projects, where they differ from the default.
    pub project_roles: std::collections::BTreeMap<String, String>,
}

/// Roles in the order they grant more.
const ROLES: [&str; 3] = ["viewer", "contributor", "admin"];

impl SignedInUser {
    /// The role held in `project`.
    pub fn role_in(&self, project: &str) -> Option<&str> {
        self.project_roles
            .get(project)
            .or(self.default_role.as_ref())
            .map(String::as_str)
    }

    /// Why this person may not do something that needs `role` in
    /// `project`, or `None` when they may.
    pub fn missing_role(&self, project: &str, role: &str) -> Option<String> {
        let rank = |name: &str| ROLES.iter().position(|known| *known == name);
        let held = self.role_in(project);
        if held.and_then(rank) >= rank(role) && held.is_some() {
            return None;
        }
        Some(format!(
            "needs the {role} role in project {project}; you have {}",
            held.unwrap_or("no role")
        ))
    }
}

/// Who is looking at the console: `None` when the console has no login
/// (everyone may do everything the API allows).
#[server(endpoint = "who_is_signed_in")]
pub async fn who_is_signed_in() -> Result<Option<SignedInUser>, ConsoleError> {
    Ok(use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<SignedInUser>().cloned()))
}

/// The signed-in person's access token, forwarded on every API call.
#[cfg(feature = "ssr")]
#[derive(Clone)]
pub struct BearerToken(pub String);

/// Adds the signed-in person's access token to every call.
#[cfg(feature = "ssr")]
#[derive(Clone)]
pub struct ForwardToken(Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>);

#[cfg(feature = "ssr")]
impl ForwardToken {
    pub fn new(token: Option<&BearerToken>) -> Self {
        Self(token.and_then(|BearerToken(token)| format!("Bearer {token}").parse().ok()))
    }
}

#[cfg(feature = "ssr")]
impl tonic::service::Interceptor for ForwardToken {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

#[cfg(feature = "ssr")]
type Authorized =
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, ForwardToken>;

/// The admin client the server functions use.
#[cfg(feature = "ssr")]
pub type AdminClient =
    updraft_proto::flyteidl::service::admin_service_client::AdminServiceClient<Authorized>;

/// The signal client (gate nodes) the server functions use.
#[cfg(feature = "ssr")]
pub type SignalClient =
    updraft_proto::flyteidl::service::signal_service_client::SignalServiceClient<Authorized>;

/// The client of updraft's own execution queue on admin: where an
/// execution runs or waits (a stock flyteadmin answers `Unimplemented`).
#[cfg(feature = "ssr")]
pub type QueueClient =
    updraft_proto::updraft::admin::v1::execution_queue_service_client::ExecutionQueueServiceClient<
        Authorized,
    >;

/// The client of updraft's own cache eviction service on the catalog.
#[cfg(feature = "ssr")]
pub type EvictionClient =
    updraft_proto::updraft::catalog::v1::cache_eviction_service_client::CacheEvictionServiceClient<
        Authorized,
    >;

/// The propeller API client (live task logs).
#[cfg(feature = "ssr")]
pub type PropellerClient =
    updraft_proto::updraft::propeller::v1::propeller_service_client::PropellerServiceClient<
        Authorized,
    >;

/// The channels the server functions call the APIs on; provided as context
/// by the BFF. Each call goes with the signed-in person's token.
#[cfg(feature = "ssr")]
#[derive(Clone)]
pub struct ApiClients {
    /// Admin's endpoint (also serves `SignalService`).
    pub admin: tonic::transport::Channel,
    /// The propeller API that serves task logs; `None` when the console
    /// knows no propeller (logs then come only from the attempts' links).
    pub propeller: Option<tonic::transport::Channel>,
    /// The catalog's endpoint, which serves cache eviction.
    pub catalog: tonic::transport::Channel,
}

#[cfg(feature = "ssr")]
impl ApiClients {
    pub fn admin(&self, token: Option<&BearerToken>) -> AdminClient {
        updraft_proto::flyteidl::service::admin_service_client::AdminServiceClient::with_interceptor(
            self.admin.clone(),
            ForwardToken::new(token),
        )
    }

    pub fn signals(&self, token: Option<&BearerToken>) -> SignalClient {
        updraft_proto::flyteidl::service::signal_service_client::SignalServiceClient::with_interceptor(self.admin.clone(), ForwardToken::new(token))
    }

    pub fn queue(&self, token: Option<&BearerToken>) -> QueueClient {
        updraft_proto::updraft::admin::v1::execution_queue_service_client::ExecutionQueueServiceClient::with_interceptor(self.admin.clone(), ForwardToken::new(token))
    }

    pub fn eviction(&self, token: Option<&BearerToken>) -> EvictionClient {
        updraft_proto::updraft::catalog::v1::cache_eviction_service_client::CacheEvictionServiceClient::with_interceptor(self.catalog.clone(), ForwardToken::new(token))
    }

    pub fn propeller(&self, token: Option<&BearerToken>) -> Option<PropellerClient> {
        self.propeller
            .clone()
            .map(|channel| updraft_proto::updraft::propeller::v1::propeller_service_client::PropellerServiceClient::with_interceptor(channel, ForwardToken::new(token)))
    }
}

#[cfg(feature = "ssr")]
fn api_clients() -> Result<(ApiClients, Option<BearerToken>), ConsoleError> {
    let clients = use_context::<ApiClients>().ok_or_else(|| {
        tracing::error!("api clients missing from the server function context");
        ConsoleError::Internal
    })?;
    let token = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<BearerToken>().cloned());
    Ok((clients, token))
}

#[cfg(feature = "ssr")]
pub(crate) fn admin_client() -> Result<AdminClient, ConsoleError> {
    api_clients().map(|(clients, token)| clients.admin(token.as_ref()))
}

#[cfg(feature = "ssr")]
pub(crate) fn signal_client() -> Result<SignalClient, ConsoleError> {
    api_clients().map(|(clients, token)| clients.signals(token.as_ref()))
}

#[cfg(feature = "ssr")]
pub(crate) fn queue_client() -> Result<QueueClient, ConsoleError> {
    api_clients().map(|(clients, token)| clients.queue(token.as_ref()))
}

#[cfg(feature = "ssr")]
pub(crate) fn eviction_client() -> Result<EvictionClient, ConsoleError> {
    api_clients().map(|(clients, token)| clients.eviction(token.as_ref()))
}

#[cfg(feature = "ssr")]
pub(crate) fn propeller_client() -> Option<PropellerClient> {
    api_clients()
        .ok()
        .and_then(|(clients, token)| clients.propeller(token.as_ref()))
}

/// Lists the active projects, ordered by name.
#[server(endpoint = "list_projects")]
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
