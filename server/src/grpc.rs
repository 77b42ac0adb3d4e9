//! The gRPC side of the shared address: every API service in one router.

use axum::Router;
use tonic::service::Routes;
use tonic_health::server::HealthReporter;
use updraft_admin::AdminApi;
use updraft_admin::dataproxy::DataProxyApi;
use updraft_proto::flyteidl::service::admin_service_server::AdminServiceServer;
use updraft_proto::flyteidl::service::data_proxy_service_server::DataProxyServiceServer;

/// Builds the gRPC router and the health reporter that marks services as serving.
pub async fn grpc_router(admin: AdminApi) -> (Router, HealthReporter) {
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<AdminServiceServer<AdminApi>>()
        .await;
    health_reporter
        .set_serving::<DataProxyServiceServer<DataProxyApi>>()
        .await;
    let routes = Routes::new(health_service)
        .add_service(admin.data_proxy().into_service())
        .add_service(admin.into_service());
    (routes.into_axum_router(), health_reporter)
}
