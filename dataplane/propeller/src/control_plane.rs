//! The engine's view of admin: the calls a running execution makes (events,
//! the history it continues from, signals, launch-plan children), behind
//! traits, so the engine runs against a real admin over gRPC and against an
//! in-memory one in its unit tests.
//!
//! Answers keep admin's gRPC status: the engine's retry rules (transient codes
//! retried, `ALREADY_EXISTS` taken as delivered, anything else a refusal) are
//! written once, against the codes, whatever admin sits behind the trait.

use tonic::transport::Channel;
use tonic::{Request, Status};
use updraft_proto::flyteidl::admin;
use updraft_proto::flyteidl::core;
use updraft_proto::flyteidl::service::admin_service_client::AdminServiceClient;
use updraft_proto::flyteidl::service::signal_service_client::SignalServiceClient;

/// What the engine asks of admin while it runs executions.
#[async_trait::async_trait]
pub trait ControlPlane: Send + Sync + 'static {
    async fn create_workflow_event(
        &self,
        request: admin::WorkflowExecutionEventRequest,
    ) -> Result<(), Status>;
    async fn create_node_event(
        &self,
        request: admin::NodeExecutionEventRequest,
    ) -> Result<(), Status>;
    async fn create_task_event(
        &self,
        request: admin::TaskExecutionEventRequest,
    ) -> Result<(), Status>;
    async fn list_node_executions(
        &self,
        request: admin::NodeExecutionListRequest,
    ) -> Result<admin::NodeExecutionList, Status>;
    async fn list_task_executions(
        &self,
        request: admin::TaskExecutionListRequest,
    ) -> Result<admin::TaskExecutionList, Status>;
    /// Starts a child execution (a launch-plan node's).
    async fn create_execution(&self, request: admin::ExecutionCreateRequest) -> Result<(), Status>;
    async fn get_execution(
        &self,
        id: core::WorkflowExecutionIdentifier,
    ) -> Result<admin::Execution, Status>;
    /// The outputs of a finished execution.
    async fn execution_outputs(
        &self,
        id: core::WorkflowExecutionIdentifier,
    ) -> Result<core::LiteralMap, Status>;
    async fn terminate_execution(
        &self,
        id: core::WorkflowExecutionIdentifier,
        cause: String,
    ) -> Result<(), Status>;
}

/// Admin's `AdminService` over the propeller's connection to it.
#[derive(Clone)]
pub struct GrpcControlPlane {
    client: AdminServiceClient<Channel>,
}

// Each call is boxed: a tonic call's future is ~18 KB, and every node
// runner awaits events.
impl GrpcControlPlane {
    pub fn new(channel: Channel) -> Self {
        Self {
            client: AdminServiceClient::new(channel),
        }
    }
}

#[async_trait::async_trait]
impl ControlPlane for GrpcControlPlane {
    async fn create_workflow_event(
        &self,
        request: admin::WorkflowExecutionEventRequest,
    ) -> Result<(), Status> {
        Box::pin(
            self.client
                .clone()
                .create_workflow_event(Request::new(request)),
        )
        .await
        .map(|_| ())
    }

    async fn create_node_event(
        &self,
        request: admin::NodeExecutionEventRequest,
    ) -> Result<(), Status> {
        Box::pin(self.client.clone().create_node_event(Request::new(request)))
            .await
            .map(|_| ())
    }

    async fn create_task_event(
        &self,
        request: admin::TaskExecutionEventRequest,
    ) -> Result<(), Status> {
        Box::pin(self.client.clone().create_task_event(Request::new(request)))
            .await
            .map(|_| ())
    }

    async fn list_node_executions(
        &self,
        request: admin::NodeExecutionListRequest,
    ) -> Result<admin::NodeExecutionList, Status> {
        Ok(Box::pin(
            self.client
                .clone()
                .list_node_executions(Request::new(request)),
        )
        .await?
        .into_inner())
    }

    async fn list_task_executions(
        &self,
        request: admin::TaskExecutionListRequest,
    ) -> Result<admin::TaskExecutionList, Status> {
        Ok(Box::pin(
            self.client
                .clone()
                .list_task_executions(Request::new(request)),
        )
        .await?
        .into_inner())
    }

    async fn create_execution(&self, request: admin::ExecutionCreateRequest) -> Result<(), Status> {
        Box::pin(self.client.clone().create_execution(Request::new(request)))
            .await
            .map(|_| ())
    }

    async fn get_execution(
        &self,
        id: core::WorkflowExecutionIdentifier,
    ) -> Result<admin::Execution, Status> {
        Ok(Box::pin(
            self.client
                .clone()
                .get_execution(admin::WorkflowExecutionGetRequest { id: Some(id) }),
        )
        .await?
        .into_inner())
    }

    async fn execution_outputs(
        &self,
        id: core::WorkflowExecutionIdentifier,
    ) -> Result<core::LiteralMap, Status> {
        Ok(Box::pin(
            self.client
                .clone()
                .get_execution_data(admin::WorkflowExecutionGetDataRequest { id: Some(id) }),
        )
        .await?
        .into_inner()
        .full_outputs
        .unwrap_or_default())
    }

    async fn terminate_execution(
        &self,
        id: core::WorkflowExecutionIdentifier,
        cause: String,
    ) -> Result<(), Status> {
        Box::pin(
            self.client
                .clone()
                .terminate_execution(admin::ExecutionTerminateRequest {
                    id: Some(id),
                    cause,
                }),
        )
        .await
        .map(|_| ())
    }
}

/// Why a signal could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SignalError {
    #[error(
        "admin does not serve SignalService, so gate nodes that wait for approval or input cannot run"
    )]
    Unsupported,
    #[error("admin refused the signal: {0}")]
    Refused(String),
    #[error("admin is unreachable: {0}")]
    Unreachable(String),
}

/// Where gate nodes get their signals: admin's `SignalService`.
#[async_trait::async_trait]
pub trait SignalSource: Send + Sync + 'static {
    /// Creates the signal if it does not exist yet and returns it, with its
    /// value once someone has set it.
    async fn get_or_create_signal(
        &self,
        request: admin::SignalGetOrCreateRequest,
    ) -> Result<admin::Signal, SignalError>;
}

/// The `SignalService` of the admin this propeller reports to.
pub struct AdminSignals {
    client: SignalServiceClient<Channel>,
}

impl AdminSignals {
    /// Signals read over `channel`, the propeller's connection to admin.
    pub fn new(channel: Channel) -> Self {
        Self {
            client: SignalServiceClient::new(channel),
        }
    }
}

#[async_trait::async_trait]
impl SignalSource for AdminSignals {
    async fn get_or_create_signal(
        &self,
        request: admin::SignalGetOrCreateRequest,
    ) -> Result<admin::Signal, SignalError> {
        match self.client.clone().get_or_create_signal(request).await {
            Ok(response) => Ok(response.into_inner()),
            Err(status) => Err(match status.code() {
                tonic::Code::Unimplemented => SignalError::Unsupported,
                tonic::Code::Unavailable | tonic::Code::DeadlineExceeded => {
                    SignalError::Unreachable(status.message().to_string())
                }
                _ => SignalError::Refused(status.message().to_string()),
            }),
        }
    }
}
