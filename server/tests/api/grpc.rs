use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use updraft_proto::flyteidl::admin::GetVersionRequest;
use updraft_proto::flyteidl::service::admin_service_client::AdminServiceClient;

use crate::helpers::TestApp;

#[tokio::test]
async fn get_version_answers_over_the_shared_port() {
    let app = TestApp::spawn().await;
    let mut admin = AdminServiceClient::new(app.grpc_channel().await);

    let response = admin
        .get_version(GetVersionRequest {})
        .await
        .expect("GetVersion succeeds")
        .into_inner();

    let version = response
        .control_plane_version
        .expect("a control plane version");
    assert_eq!(version.version, env!("CARGO_PKG_VERSION"));
    assert!(!version.build.is_empty());
}

#[tokio::test]
async fn grpc_health_reports_admin_serving() {
    let app = TestApp::spawn().await;
    let mut health = HealthClient::new(app.grpc_channel().await);

    let overall = health
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let admin = health
        .check(HealthCheckRequest {
            service: "flyteidl.service.AdminService".into(),
        })
        .await
        .unwrap()
        .into_inner();

    assert_eq!(overall.status(), ServingStatus::Serving);
    assert_eq!(admin.status(), ServingStatus::Serving);
}

#[tokio::test]
async fn unimplemented_rpcs_answer_unimplemented_never_unknown() {
    // flytekit starts an interactive login on UNKNOWN, so an unimplemented RPC
    // must say so plainly.
    let app = TestApp::spawn().await;
    let mut grpc = tonic::client::Grpc::new(app.grpc_channel().await);
    grpc.ready().await.expect("channel ready");

    let status = grpc
        .unary(
            tonic::Request::new(()),
            "/flyteidl.service.AdminService/NoSuchMethod"
                .parse()
                .unwrap(),
            tonic_prost::ProstCodec::<(), ()>::default(),
        )
        .await
        .expect_err("no such method");

    assert_eq!(status.code(), tonic::Code::Unimplemented);
}
