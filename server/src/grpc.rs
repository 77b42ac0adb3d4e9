//! The gRPC side of the shared address: every API service in one router.

use axum::Router;
use tonic::service::Routes;
use tonic_health::server::HealthReporter;
use updraft_admin::AdminApi;
use updraft_admin::auth::AuthApi;
use updraft_admin::dataproxy::DataProxyApi;
use updraft_admin::queue::ExecutionQueueApi;
use updraft_admin::signals::SignalApi;
use updraft_catalog::{CatalogApi, EvictionApi};
use updraft_propeller::api::PropellerApi;
use updraft_proto::datacatalog::data_catalog_server::DataCatalogServer;
use updraft_proto::flyteidl::service::admin_service_server::AdminServiceServer;
use updraft_proto::flyteidl::service::auth_metadata_service_server::AuthMetadataServiceServer;
use updraft_proto::flyteidl::service::data_proxy_service_server::DataProxyServiceServer;
use updraft_proto::flyteidl::service::identity_service_server::IdentityServiceServer;
use updraft_proto::flyteidl::service::signal_service_server::SignalServiceServer;
use updraft_proto::updraft::admin::v1::execution_queue_service_server::ExecutionQueueServiceServer;
use updraft_proto::updraft::catalog::v1::cache_eviction_service_server::CacheEvictionServiceServer;
use updraft_proto::updraft::propeller::v1::propeller_service_server::PropellerServiceServer;

/// Builds the gRPC router and the health reporter that marks services as
/// serving: admin's services when this process runs admin, the propeller
/// API when it runs a propeller, and DataCatalog with updraft's eviction
/// service when it runs the catalog. With `access`, every call needs a
/// token (health checks and `AuthMetadataService` aside).
pub async fn grpc_router(
    admin: Option<AdminApi>,
    propeller: Option<PropellerApi>,
    catalog: Option<CatalogApi>,
    access: Option<std::sync::Arc<updraft_admin::access::Access>>,
) -> (Router, HealthReporter) {
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    let mut routes = Routes::new(health_service);
    if let Some(admin) = admin {
        routes = admin_routes(routes, admin, &health_reporter).await;
    }
    if let Some(catalog) = catalog {
        health_reporter
            .set_serving::<DataCatalogServer<CatalogApi>>()
            .await;
        health_reporter
            .set_serving::<CacheEvictionServiceServer<EvictionApi>>()
            .await;
        routes = routes
            .add_service(catalog.eviction_service())
            .add_service(catalog.into_service());
    }
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
    // Outermost, so calls refused before a handler (no token, too large) are
    // counted with their codes too.
    (
        crate::grpc_metrics::with_rpc_metrics(router),
        health_reporter,
    )
}

async fn admin_routes(routes: Routes, admin: AdminApi, health_reporter: &HealthReporter) -> Routes {
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
    routes
        .add_service(admin.data_proxy().into_service())
        .add_service(admin.execution_queue().into_service())
        .add_service(admin.signals().into_service())
        .add_service(admin.auth().into_auth_metadata_service())
        .add_service(admin.auth().into_identity_service())
        .add_service(admin.into_service())
}
