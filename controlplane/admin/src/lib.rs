//! Admin, the control plane's front door: Flyte's `AdminService` and the
//! services around it, answering as flyteadmin does so flytekit works unchanged.
//!
//! Storage is a [`store::SqlStore`] (SQLite or PostgreSQL) plus a
//! [`updraft_storage::Storage`] (a folder or S3) for inputs and uploaded code; [`AdminApi`] and
//! [`dataproxy::DataProxyApi`] are the gRPC services and
//! [`dataproxy::upload_router`] the HTTP side of signed uploads.

pub mod access;
pub mod auth;
pub mod compiler;
pub mod dataproxy;
mod definitions;
mod description_entities;
pub mod error;
mod executions;
pub mod filters;
pub mod flyte_urls;
mod identifiers;
pub mod literal_types;
mod matchable_attributes;
pub mod message_limits;
mod metrics;
pub mod phases;
mod projects;
pub mod queue;
pub mod raw_requests;
mod runs;
pub mod signals;
pub mod store;
mod version;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub use definitions::definition_list_query;
pub use executions::execution_list_query;
pub use version::{BuildInfo, build_info};

use tonic::{Request, Response, Status};
use updraft_proto::flyteidl::admin;
use updraft_proto::flyteidl::service::admin_service_server::AdminService;

use crate::store::{SqlStore, StoreError};
use updraft_storage::{Storage as BlobStore, StorageError as BlobStoreError};

/// Largest request admin decodes. flytekit accepts answers up to 20 MiB, and
/// closures of big workflows come close to that.
pub const MAX_MESSAGE_BYTES: usize = 20 * 1024 * 1024;

/// Settings the admin needs beyond its stores.
#[derive(Clone)]
pub struct AdminSettings {
    /// The base URL clients reach updraft's HTTP side on (`http://127.0.0.1:8088`);
    /// signed upload URLs start with it.
    pub public_http_base: String,
    /// The key signed URLs are authenticated with. A fresh random key per
    /// process is fine: URLs are short-lived.
    pub signing_key: Vec<u8>,
    /// How long a signed URL stays valid when the request does not say.
    pub default_signed_url_lifetime: Duration,
    /// How callers are identified (no login by default).
    pub auth: auth::AuthSettings,
    /// The user-agent prefix this process's own data plane sends instead of
    /// a token when login is on: random per process, like `signing_key`.
    pub internal_user_agent: String,
    /// The execution cluster label of executions that neither their request
    /// nor an `EXECUTION_CLUSTER_LABEL` attribute gives one (flyteadmin's
    /// `defaultExecutionLabel`). `None`: such executions go to any propeller.
    pub default_execution_cluster_label: Option<String>,
}

impl std::fmt::Debug for AdminSettings {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The signing key is a secret and never printed.
        formatter
            .debug_struct("AdminSettings")
            .field("public_http_base", &self.public_http_base)
            .field(
                "default_signed_url_lifetime",
                &self.default_signed_url_lifetime,
            )
            .field("auth", &self.auth)
            .field(
                "default_execution_cluster_label",
                &self.default_execution_cluster_label,
            )
            .finish_non_exhaustive()
    }
}

impl AdminSettings {
    /// Settings with a fresh random signing key and one-hour URLs.
    pub fn new(public_http_base: impl Into<String>) -> Self {
        Self {
            public_http_base: public_http_base.into().trim_end_matches('/').to_string(),
            signing_key: rand::random::<[u8; 32]>().to_vec(),
            default_signed_url_lifetime: Duration::from_secs(3600),
            auth: auth::AuthSettings::default(),
            internal_user_agent: format!(
                "updraft-internal/{}",
                hex::encode(rand::random::<[u8; 32]>())
            ),
            default_execution_cluster_label: None,
        }
    }
}

/// Why the admin's storage could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The database failed to open or migrate.
    #[error("cannot open the admin database")]
    Database(#[from] StoreError),
    /// The object store failed to open.
    #[error("cannot open the admin object store")]
    Blobs(#[from] BlobStoreError),
}

/// The state every admin service shares.
#[derive(Debug)]
pub(crate) struct AdminState {
    pub(crate) store: SqlStore,
    pub(crate) blobs: BlobStore,
    pub(crate) settings: AdminSettings,
    /// Woken when an execution is queued, so waiting claims answer at once.
    pub(crate) queue_signal: tokio::sync::Notify,
    /// Notified when a launch plan's schedule is turned on or off, so a
    /// scheduler in this process reads the schedules again at once.
    pub(crate) schedule_changes: Arc<tokio::sync::Notify>,
    /// Token and role checks, when login is on.
    pub(crate) access: Option<Arc<access::Access>>,
}

/// The `flyteidl.service.AdminService` implementation.
#[derive(Debug, Clone)]
pub struct AdminApi {
    state: Arc<AdminState>,
}

impl AdminApi {
    /// An admin over already opened stores.
    pub fn new(store: SqlStore, blobs: BlobStore, settings: AdminSettings) -> Self {
        let access = match &settings.auth {
            auth::AuthSettings::NoLogin => None,
            auth::AuthSettings::Oidc(oidc) => Some(Arc::new(access::Access::new(
                oidc.as_ref().clone(),
                settings.internal_user_agent.clone(),
            ))),
        };
        Self {
            state: Arc::new(AdminState {
                store,
                blobs,
                settings,
                queue_signal: tokio::sync::Notify::new(),
                schedule_changes: Arc::new(tokio::sync::Notify::new()),
                access,
            }),
        }
    }

    /// Opens the database at `database_url` (`sqlite://path?mode=rwc` or
    /// `postgres://…`, migrating it) and the object store in `store_root`.
    pub async fn open(
        database_url: &str,
        store_root: &Path,
        settings: AdminSettings,
    ) -> Result<Self, OpenError> {
        Self::open_with_storage(database_url, BlobStore::local(store_root)?, settings).await
    }

    /// Opens the database at `database_url` (migrating it) over an already
    /// opened object store (a folder or an S3 bucket).
    pub async fn open_with_storage(
        database_url: &str,
        blobs: BlobStore,
        settings: AdminSettings,
    ) -> Result<Self, OpenError> {
        let store = SqlStore::connect(database_url).await?;
        Ok(Self::new(store, blobs, settings))
    }

    /// The database this admin uses.
    pub fn store(&self) -> &SqlStore {
        &self.state.store
    }

    /// The object store this admin uses.
    pub fn blobs(&self) -> &BlobStore {
        &self.state.blobs
    }

    /// The token and role checks every gRPC request passes when login is on.
    pub fn access(&self) -> Option<Arc<access::Access>> {
        self.state.access.clone()
    }

    /// Notified whenever a launch plan's schedule is turned on or off: a
    /// scheduler in this process waits on it to pick the change up at once.
    pub fn schedule_changes(&self) -> Arc<tokio::sync::Notify> {
        self.state.schedule_changes.clone()
    }

    /// The user agent this process's own data plane must send when login is
    /// on. A secret: never log it.
    pub fn internal_user_agent(&self) -> &str {
        &self.state.settings.internal_user_agent
    }

    /// The `DataProxyService` sharing this admin's stores.
    pub fn data_proxy(&self) -> dataproxy::DataProxyApi {
        dataproxy::DataProxyApi::new(self.state.clone())
    }

    /// The `AuthMetadataService` and `IdentityService` of this admin.
    pub fn auth(&self) -> auth::AuthApi {
        auth::AuthApi::new(self.state.clone())
    }

    /// The `SignalService` sharing this admin's database.
    pub fn signals(&self) -> signals::SignalApi {
        signals::SignalApi::new(self.state.clone())
    }

    /// The `ExecutionQueueService` propellers claim executions from.
    pub fn execution_queue(&self) -> queue::ExecutionQueueApi {
        queue::ExecutionQueueApi::new(self.clone())
    }

    /// The HTTP routes signed upload and download URLs point at, to merge into
    /// the server's HTTP router.
    pub fn upload_router(&self) -> axum::Router {
        dataproxy::upload_router(self.state.clone())
    }

    /// This admin as a tonic service, with updraft's message-size limits and
    /// the original bytes of registration requests kept for the handlers.
    pub fn into_service(
        self,
    ) -> raw_requests::KeepRawRegistrationRequests<
        updraft_proto::flyteidl::service::admin_service_server::AdminServiceServer<Self>,
    > {
        raw_requests::KeepRawRegistrationRequests::new(
            updraft_proto::flyteidl::service::admin_service_server::AdminServiceServer::new(self)
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
        )
    }
}

/// The spec (field 2 of every registration request) exactly as the client sent it.
fn raw_spec<T>(request: &Request<T>) -> Option<bytes::Bytes> {
    let raw = request
        .extensions()
        .get::<raw_requests::RawRequestMessage>()?;
    let spec = raw_requests::single_embedded_field(&raw.0, 2)?;
    Some(raw.0.slice_ref(spec))
}

/// Answers one RPC: runs the handler and maps its error once.
async fn answer<T>(
    result: impl std::future::Future<Output = Result<T, error::AdminError>>,
) -> Result<Response<T>, Status> {
    result.await.map(Response::new).map_err(Status::from)
}

#[tonic::async_trait]
impl AdminService for AdminApi {
    async fn get_version(
        &self,
        _request: Request<admin::GetVersionRequest>,
    ) -> Result<Response<admin::GetVersionResponse>, Status> {
        let build = build_info();
        Ok(Response::new(admin::GetVersionResponse {
            control_plane_version: Some(admin::Version {
                build: build.commit.to_string(),
                version: build.version.to_string(),
                build_time: build.build_time.to_string(),
            }),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn register_project(
        &self,
        request: Request<admin::ProjectRegisterRequest>,
    ) -> Result<Response<admin::ProjectRegisterResponse>, Status> {
        answer(self.register_project_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn update_project(
        &self,
        request: Request<admin::Project>,
    ) -> Result<Response<admin::ProjectUpdateResponse>, Status> {
        answer(self.update_project_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_project(
        &self,
        request: Request<admin::ProjectGetRequest>,
    ) -> Result<Response<admin::Project>, Status> {
        answer(self.get_project_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_projects(
        &self,
        request: Request<admin::ProjectListRequest>,
    ) -> Result<Response<admin::Projects>, Status> {
        answer(self.list_projects_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_domains(
        &self,
        _request: Request<admin::GetDomainRequest>,
    ) -> Result<Response<admin::GetDomainsResponse>, Status> {
        Ok(Response::new(admin::GetDomainsResponse {
            domains: projects::domains(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn create_task(
        &self,
        request: Request<admin::TaskCreateRequest>,
    ) -> Result<Response<admin::TaskCreateResponse>, Status> {
        let raw = raw_spec(&request);
        answer(self.create_task_impl(request.into_inner(), raw)).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_task(
        &self,
        request: Request<admin::ObjectGetRequest>,
    ) -> Result<Response<admin::Task>, Status> {
        answer(self.get_task_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_tasks(
        &self,
        request: Request<admin::ResourceListRequest>,
    ) -> Result<Response<admin::TaskList>, Status> {
        answer(self.list_tasks_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_task_ids(
        &self,
        request: Request<admin::NamedEntityIdentifierListRequest>,
    ) -> Result<Response<admin::NamedEntityIdentifierList>, Status> {
        answer(self.list_definition_ids_impl(
            updraft_proto::flyteidl::core::ResourceType::Task,
            request.into_inner(),
        ))
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn create_workflow(
        &self,
        request: Request<admin::WorkflowCreateRequest>,
    ) -> Result<Response<admin::WorkflowCreateResponse>, Status> {
        let raw = raw_spec(&request);
        answer(self.create_workflow_impl(request.into_inner(), raw)).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_workflow(
        &self,
        request: Request<admin::ObjectGetRequest>,
    ) -> Result<Response<admin::Workflow>, Status> {
        answer(self.get_workflow_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_workflows(
        &self,
        request: Request<admin::ResourceListRequest>,
    ) -> Result<Response<admin::WorkflowList>, Status> {
        answer(self.list_workflows_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_workflow_ids(
        &self,
        request: Request<admin::NamedEntityIdentifierListRequest>,
    ) -> Result<Response<admin::NamedEntityIdentifierList>, Status> {
        answer(self.list_definition_ids_impl(
            updraft_proto::flyteidl::core::ResourceType::Workflow,
            request.into_inner(),
        ))
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn create_launch_plan(
        &self,
        request: Request<admin::LaunchPlanCreateRequest>,
    ) -> Result<Response<admin::LaunchPlanCreateResponse>, Status> {
        let raw = raw_spec(&request);
        answer(self.create_launch_plan_impl(request.into_inner(), raw)).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_launch_plan(
        &self,
        request: Request<admin::ObjectGetRequest>,
    ) -> Result<Response<admin::LaunchPlan>, Status> {
        answer(self.get_launch_plan_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_active_launch_plan(
        &self,
        request: Request<admin::ActiveLaunchPlanRequest>,
    ) -> Result<Response<admin::LaunchPlan>, Status> {
        answer(self.get_active_launch_plan_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_active_launch_plans(
        &self,
        request: Request<admin::ActiveLaunchPlanListRequest>,
    ) -> Result<Response<admin::LaunchPlanList>, Status> {
        answer(self.list_active_launch_plans_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_launch_plans(
        &self,
        request: Request<admin::ResourceListRequest>,
    ) -> Result<Response<admin::LaunchPlanList>, Status> {
        answer(self.list_launch_plans_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_launch_plan_ids(
        &self,
        request: Request<admin::NamedEntityIdentifierListRequest>,
    ) -> Result<Response<admin::NamedEntityIdentifierList>, Status> {
        answer(self.list_definition_ids_impl(
            updraft_proto::flyteidl::core::ResourceType::LaunchPlan,
            request.into_inner(),
        ))
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn update_launch_plan(
        &self,
        request: Request<admin::LaunchPlanUpdateRequest>,
    ) -> Result<Response<admin::LaunchPlanUpdateResponse>, Status> {
        answer(self.update_launch_plan_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_named_entity(
        &self,
        request: Request<admin::NamedEntityGetRequest>,
    ) -> Result<Response<admin::NamedEntity>, Status> {
        answer(self.get_named_entity_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_named_entities(
        &self,
        request: Request<admin::NamedEntityListRequest>,
    ) -> Result<Response<admin::NamedEntityList>, Status> {
        answer(self.list_named_entities_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn update_named_entity(
        &self,
        request: Request<admin::NamedEntityUpdateRequest>,
    ) -> Result<Response<admin::NamedEntityUpdateResponse>, Status> {
        answer(self.update_named_entity_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn create_execution(
        &self,
        request: Request<admin::ExecutionCreateRequest>,
    ) -> Result<Response<admin::ExecutionCreateResponse>, Status> {
        let principal = signed_in_principal(&request);
        let mut request = request.into_inner();
        if let Some(principal) = principal {
            request
                .spec
                .get_or_insert_with(Default::default)
                .metadata
                .get_or_insert_with(Default::default)
                .principal = principal;
        }
        answer(self.create_execution_impl(request)).await
    }

    #[tracing::instrument(skip_all)]
    async fn relaunch_execution(
        &self,
        request: Request<admin::ExecutionRelaunchRequest>,
    ) -> Result<Response<admin::ExecutionCreateResponse>, Status> {
        let principal = signed_in_principal(&request);
        answer(self.relaunch_execution_impl(request.into_inner(), principal)).await
    }

    #[tracing::instrument(skip_all)]
    async fn recover_execution(
        &self,
        request: Request<admin::ExecutionRecoverRequest>,
    ) -> Result<Response<admin::ExecutionCreateResponse>, Status> {
        let principal = signed_in_principal(&request);
        answer(self.recover_execution_impl(request.into_inner(), principal)).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_execution(
        &self,
        request: Request<admin::WorkflowExecutionGetRequest>,
    ) -> Result<Response<admin::Execution>, Status> {
        answer(self.get_execution_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_executions(
        &self,
        request: Request<admin::ResourceListRequest>,
    ) -> Result<Response<admin::ExecutionList>, Status> {
        answer(self.list_executions_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_execution_data(
        &self,
        request: Request<admin::WorkflowExecutionGetDataRequest>,
    ) -> Result<Response<admin::WorkflowExecutionGetDataResponse>, Status> {
        answer(self.get_execution_data_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn terminate_execution(
        &self,
        request: Request<admin::ExecutionTerminateRequest>,
    ) -> Result<Response<admin::ExecutionTerminateResponse>, Status> {
        let principal = signed_in_principal(&request).unwrap_or_default();
        answer(self.terminate_execution_impl(request.into_inner(), principal)).await
    }

    #[tracing::instrument(skip_all)]
    async fn update_execution(
        &self,
        request: Request<admin::ExecutionUpdateRequest>,
    ) -> Result<Response<admin::ExecutionUpdateResponse>, Status> {
        let principal = signed_in_principal(&request).unwrap_or_default();
        answer(self.update_execution_impl(request.into_inner(), principal)).await
    }

    #[tracing::instrument(skip_all)]
    async fn create_workflow_event(
        &self,
        request: Request<admin::WorkflowExecutionEventRequest>,
    ) -> Result<Response<admin::WorkflowExecutionEventResponse>, Status> {
        answer(self.create_workflow_event_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn create_node_event(
        &self,
        request: Request<admin::NodeExecutionEventRequest>,
    ) -> Result<Response<admin::NodeExecutionEventResponse>, Status> {
        answer(self.create_node_event_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn create_task_event(
        &self,
        request: Request<admin::TaskExecutionEventRequest>,
    ) -> Result<Response<admin::TaskExecutionEventResponse>, Status> {
        answer(self.create_task_event_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_node_execution(
        &self,
        request: Request<admin::NodeExecutionGetRequest>,
    ) -> Result<Response<admin::NodeExecution>, Status> {
        answer(self.get_node_execution_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_node_executions(
        &self,
        request: Request<admin::NodeExecutionListRequest>,
    ) -> Result<Response<admin::NodeExecutionList>, Status> {
        answer(self.list_node_executions_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_node_executions_for_task(
        &self,
        request: Request<admin::NodeExecutionForTaskListRequest>,
    ) -> Result<Response<admin::NodeExecutionList>, Status> {
        answer(self.list_node_executions_for_task_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_dynamic_node_workflow(
        &self,
        request: Request<admin::GetDynamicNodeWorkflowRequest>,
    ) -> Result<Response<admin::DynamicNodeWorkflowResponse>, Status> {
        answer(self.get_dynamic_node_workflow_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_execution_metrics(
        &self,
        request: Request<admin::WorkflowExecutionGetMetricsRequest>,
    ) -> Result<Response<admin::WorkflowExecutionGetMetricsResponse>, Status> {
        answer(self.get_execution_metrics_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_node_execution_data(
        &self,
        request: Request<admin::NodeExecutionGetDataRequest>,
    ) -> Result<Response<admin::NodeExecutionGetDataResponse>, Status> {
        answer(self.get_node_execution_data_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_task_execution(
        &self,
        request: Request<admin::TaskExecutionGetRequest>,
    ) -> Result<Response<admin::TaskExecution>, Status> {
        answer(self.get_task_execution_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_task_executions(
        &self,
        request: Request<admin::TaskExecutionListRequest>,
    ) -> Result<Response<admin::TaskExecutionList>, Status> {
        answer(self.list_task_executions_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_task_execution_data(
        &self,
        request: Request<admin::TaskExecutionGetDataRequest>,
    ) -> Result<Response<admin::TaskExecutionGetDataResponse>, Status> {
        answer(self.get_task_execution_data_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn update_project_attributes(
        &self,
        request: Request<admin::ProjectAttributesUpdateRequest>,
    ) -> Result<Response<admin::ProjectAttributesUpdateResponse>, Status> {
        answer(self.update_project_attributes_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_project_attributes(
        &self,
        request: Request<admin::ProjectAttributesGetRequest>,
    ) -> Result<Response<admin::ProjectAttributesGetResponse>, Status> {
        answer(self.get_project_attributes_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn delete_project_attributes(
        &self,
        request: Request<admin::ProjectAttributesDeleteRequest>,
    ) -> Result<Response<admin::ProjectAttributesDeleteResponse>, Status> {
        answer(self.delete_project_attributes_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn update_project_domain_attributes(
        &self,
        request: Request<admin::ProjectDomainAttributesUpdateRequest>,
    ) -> Result<Response<admin::ProjectDomainAttributesUpdateResponse>, Status> {
        answer(self.update_project_domain_attributes_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_project_domain_attributes(
        &self,
        request: Request<admin::ProjectDomainAttributesGetRequest>,
    ) -> Result<Response<admin::ProjectDomainAttributesGetResponse>, Status> {
        answer(self.get_project_domain_attributes_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn delete_project_domain_attributes(
        &self,
        request: Request<admin::ProjectDomainAttributesDeleteRequest>,
    ) -> Result<Response<admin::ProjectDomainAttributesDeleteResponse>, Status> {
        answer(self.delete_project_domain_attributes_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn update_workflow_attributes(
        &self,
        request: Request<admin::WorkflowAttributesUpdateRequest>,
    ) -> Result<Response<admin::WorkflowAttributesUpdateResponse>, Status> {
        answer(self.update_workflow_attributes_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_workflow_attributes(
        &self,
        request: Request<admin::WorkflowAttributesGetRequest>,
    ) -> Result<Response<admin::WorkflowAttributesGetResponse>, Status> {
        answer(self.get_workflow_attributes_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn delete_workflow_attributes(
        &self,
        request: Request<admin::WorkflowAttributesDeleteRequest>,
    ) -> Result<Response<admin::WorkflowAttributesDeleteResponse>, Status> {
        answer(self.delete_workflow_attributes_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_matchable_attributes(
        &self,
        request: Request<admin::ListMatchableAttributesRequest>,
    ) -> Result<Response<admin::ListMatchableAttributesResponse>, Status> {
        answer(self.list_matchable_attributes_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_description_entity(
        &self,
        request: Request<admin::ObjectGetRequest>,
    ) -> Result<Response<admin::DescriptionEntity>, Status> {
        answer(self.get_description_entity_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_description_entities(
        &self,
        request: Request<admin::DescriptionEntityListRequest>,
    ) -> Result<Response<admin::DescriptionEntityList>, Status> {
        answer(self.list_description_entities_impl(request.into_inner())).await
    }
}

/// Who signed the request, when login is on: as in flyteadmin, executions
/// record the caller as their principal rather than what the client claims.
/// This process's own data plane keeps the principal it passes on (a child
/// execution is its parent's launcher's).
fn signed_in_principal<T>(request: &Request<T>) -> Option<String> {
    request
        .extensions()
        .get::<access::Caller>()
        .filter(|caller| !caller.internal)
        .map(|caller| caller.subject.clone())
}
