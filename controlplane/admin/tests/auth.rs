//! AuthMetadataService and IdentityService without login: nothing may lead
//! flytekit into a login flow, and the console's `/me` gets an anonymous user.

mod common;

use common::*;
use tonic::Code;
use updraft_proto::flyteidl::service;

async fn public_client_config_offers_nothing_to_log_in_to() {
    let mut app = TestApp::spawn().await;
    let config = app
        .auth_metadata
        .get_public_client_config(service::PublicClientAuthConfigRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(config.authorization_metadata_key, "authorization");
    assert_eq!(config.service_http_endpoint, app.http_base);
    assert_eq!(config.client_id, "");
    assert_eq!(config.redirect_uri, "");
    assert!(config.scopes.is_empty());
}

async fn oauth2_metadata_says_login_is_off_instead_of_empty_endpoints() {
    let mut app = TestApp::spawn().await;
    assert_status(
        app.auth_metadata
            .get_o_auth2_metadata(service::OAuth2MetadataRequest {})
            .await,
        Code::FailedPrecondition,
        "login is not enabled on this server",
    );
}

async fn user_info_is_the_anonymous_user() {
    let mut app = TestApp::spawn().await;
    let user = app
        .identity
        .user_info(service::UserInfoRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(user.subject, "anonymous");
    assert_eq!(user.preferred_username, "anonymous");
    assert_eq!(user.name, "Anonymous");
    assert_eq!(user.email, "");
}

common::on_every_backend!(
    public_client_config_offers_nothing_to_log_in_to,
    oauth2_metadata_says_login_is_off_instead_of_empty_endpoints,
    user_info_is_the_anonymous_user,
);
