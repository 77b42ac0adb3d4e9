//! The gRPC side of the shared address: every API service in one router.

use axum::Router;
use tonic::service::Routes;
use tonic_health::server::HealthReporter;
use updraft_admin::AdminApi;
use updraft_admin::auth::AuthApi;
use updraft_admin::dataproxy::DataProxyApi;
use updraft_admin::queue::ExecutionQueueApi;
use updraft_admin::signals::SignalApi;
use updraft_propeller::api::PropellerApi;
use updraft_proto::flyteidl::service::admin_service_server::AdminServiceServer;
use updraft_proto::flyteidl::service::auth_metadata_service_server::AuthMetadataServiceServer;
use updraft_proto::flyteidl::service::data_proxy_service_server::DataProxyServiceServer;
use updraft_proto::flyteidl::service::identity_service_server::IdentityServiceServer;
use updraft_proto::flyteidl::service::signal_service_server::SignalServiceServer;
use updraft_proto::updraft::admin::v1::execution_queue_service_server::ExecutionQueueServiceServer;
use updraft_proto::updraft::propeller::v1::propeller_service_server::PropellerServiceServer;

/// Builds the gRPC router and the health reporter that marks services as
/// serving: admin's services, and the propeller API when this process runs one.
pub async fn grpc_router(
    admin: AdminApi,
    propeller: Option<PropellerApi>,
) -> (Router, HealthReporter) {
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<AdminServiceServer<AdminApi>>()
        .await;
    health_reporter
        .set_serving::<DataProxyServiceServer<DataProxyApi>>()
        .await;
    health_reporter
        .set_serving::<ExecutionQueueServiceServer<ExecutionQueueApi>>()
        .await;
    health_reporter
        .set_serving::<SignalServiceServer<SignalApi>>()
        .await;
    health_reporter
        .set_serving::<AuthMetadataServiceServer<AuthApi>>()
        .await;
    health_reporter
        .set_serving::<IdentityServiceServer<AuthApi>>()
        .await;
    let access = admin.access();
    let mut routes = Routes::new(health_service)
        .add_service(admin.data_proxy().into_service())
        .add_service(admin.execution_queue().into_service())
        .add_service(admin.signals().into_service())
        .add_service(admin.auth().into_auth_metadata_service())
        .add_service(admin.auth().into_identity_service())
        .add_service(admin.into_service());
    if let Some(propeller) = propeller {
        health_reporter
            .set_serving::<PropellerServiceServer<PropellerApi>>()
            .await;
        routes = routes.add_service(PropellerServiceServer::new(propeller));
    }
    let mut router =
        updraft_admin::message_limits::refuse_oversized_requests(routes.into_axum_router());
    if let Some(access) = access {
        router = updraft_admin::access::require_tokens(router, access);
    }
    (router, health_reporter)
}
