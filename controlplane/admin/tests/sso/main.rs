//! Single sign-on on the gRPC side, against the real OpenID provider: every
//! API needs a provider-signed access token for updraft's audience, and the
//! token's groups decide what the caller may do in which project.

#[path = "../common/mod.rs"]
mod common;
mod provider;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{AdminClient, TestApp};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use provider::{API, OTHER_API, Provider, assemble, decode_part, foreign_rsa_key_der};
use serde_json::json;
use tonic::Code;
use tonic::metadata::MetadataValue;
use updraft_admin::access::{OidcSettings, PublicClient, Role, RoleMapping};
use updraft_admin::auth::AuthSettings;
use updraft_proto::flyteidl::admin;
use updraft_proto::flyteidl::core;
use updraft_proto::flyteidl::service;

/// An admin with login on against `provider`: the automation group may
/// contribute, viewers only read except in project `ml`, admins administer.
async fn app_for(provider: &Provider) -> TestApp {
    let mut oidc = OidcSettings::new(provider.issuer.clone(), API);
    oidc.leeway = Duration::ZERO;
    // Every unknown key may be fetched at once: the restart test rotates keys.
    oidc.jwks_refetch_interval = Duration::ZERO;
    oidc.roles = RoleMapping {
        default: BTreeMap::from([
            ("updraft-admins".to_string(), Role::Admin),
            ("updraft-automation".to_string(), Role::Contributor),
            ("updraft-viewers".to_string(), Role::Viewer),
        ]),
        projects: BTreeMap::from([(
            "ml".to_string(),
            BTreeMap::from([("updraft-viewers".to_string(), Role::Contributor)]),
        )]),
    };
    oidc.public_client = PublicClient {
        client_id: "flytectl".to_string(),
        redirect_uri: "http://localhost:53593/callback".to_string(),
        scopes: vec!["api:read".to_string(), "api:write".to_string()],
        audience: String::new(),
    };
    TestApp::spawn_with_auth(AuthSettings::Oidc(Box::new(oidc))).await
}

/// A request carrying `token` as flytekit sends it.
fn with_token<T>(message: T, token: &str) -> tonic::Request<T> {
    with_header(message, "authorization", &format!("Bearer {token}"))
}

fn with_header<T>(message: T, key: &'static str, value: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert(key, MetadataValue::try_from(value).unwrap());
    request
}

// Boxed: a bare `tonic::Status` makes the `Result` large.
async fn list_projects(admin: &AdminClient, token: Option<&str>) -> Result<(), Box<tonic::Status>> {
    let mut admin = admin.clone();
    let message = admin::ProjectListRequest::default();
    let request = match token {
        Some(token) => with_token(message, token),
        None => tonic::Request::new(message),
    };
    admin
        .list_projects(request)
        .await
        .map(|_| ())
        .map_err(Box::new)
}

fn assert_refused(result: Result<(), Box<tonic::Status>>, code: Code, message: &str) {
    let status = result.expect_err("the call is refused");
    assert_eq!(status.code(), code, "{status:?}");
    assert!(
        status.message().contains(message),
        "expected `{message}` in `{}`",
        status.message()
    );
}

fn launch(project: &str) -> admin::ExecutionCreateRequest {
    admin::ExecutionCreateRequest {
        project: project.to_string(),
        domain: "development".to_string(),
        name: "sso-launch".to_string(),
        spec: Some(admin::ExecutionSpec {
            launch_plan: Some(core::Identifier {
                resource_type: core::ResourceType::LaunchPlan as i32,
                project: project.to_string(),
                domain: "development".to_string(),
                name: "missing".to_string(),
                version: "v1".to_string(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

async fn a_provider_token_is_accepted_and_a_missing_one_refused() {
    let provider = Provider::start(&[]).await;
    let app = app_for(&provider).await;
    let client = app.admin.clone();
    let token = provider.cli_token().await;

    list_projects(&client, Some(&token))
        .await
        .expect("a valid token lists projects");
    assert_refused(
        list_projects(&client, None).await,
        Code::Unauthenticated,
        "no bearer token",
    );
    assert_refused(
        list_projects(&client, Some("")).await,
        Code::Unauthenticated,
        "not `Bearer <token>`",
    );
    // flyteadmin's own metadata key works too.
    let mut admin = app.admin.clone();
    admin
        .list_projects(with_header(
            admin::ProjectListRequest::default(),
            "flyte-authorization",
            &format!("Bearer {token}"),
        ))
        .await
        .expect("flyte-authorization is accepted");
}

async fn login_metadata_needs_no_token() {
    let provider = Provider::start(&[]).await;
    let app = app_for(&provider).await;

    let mut metadata = app.auth_metadata.clone();
    let oauth2 = metadata
        .get_o_auth2_metadata(service::OAuth2MetadataRequest {})
        .await
        .expect("the provider's metadata is open")
        .into_inner();
    assert_eq!(oauth2.issuer, provider.issuer);
    assert_eq!(oauth2.token_endpoint, format!("{}/token", provider.issuer));
    assert_eq!(
        oauth2.authorization_endpoint,
        format!("{}/auth", provider.issuer)
    );
    assert_eq!(oauth2.jwks_uri, format!("{}/jwks", provider.issuer));
    assert_eq!(oauth2.code_challenge_methods_supported, ["S256"]);
    assert!(
        oauth2
            .grant_types_supported
            .contains(&"client_credentials".to_string())
    );

    let client = metadata
        .get_public_client_config(service::PublicClientAuthConfigRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(client.client_id, "flytectl");
    assert_eq!(client.redirect_uri, "http://localhost:53593/callback");
    assert_eq!(client.scopes, ["api:read", "api:write"]);
    assert_eq!(client.authorization_metadata_key, "authorization");
}

async fn forged_and_foreign_tokens_are_refused() {
    let provider = Provider::start(&[]).await;
    let app = app_for(&provider).await;
    let client = app.admin.clone();
    let token = provider.viewer_cli_token().await;
    let parts: Vec<&str> = token.split('.').collect();
    let header = decode_part(parts[0]);
    let claims = decode_part(parts[1]);
    let signature =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, parts[2])
            .unwrap();

    // Payload tampered: the viewer makes itself an admin.
    let mut elevated = claims.clone();
    elevated["groups"] = json!(["updraft-viewers", "updraft-admins"]);
    assert_refused(
        list_projects(&client, Some(&assemble(&header, &elevated, &signature))).await,
        Code::Unauthenticated,
        "signature is invalid",
    );

    // alg: none, no signature.
    let mut none = header.clone();
    none["alg"] = json!("none");
    assert_refused(
        list_projects(&client, Some(&assemble(&none, &claims, b""))).await,
        Code::Unauthenticated,
        "bearer token",
    );

    // HS256 keyed with the provider's public key (algorithm confusion).
    let jwks = provider.jwks().await;
    let public_key = jwks["keys"][0].to_string();
    let mut hs = Header::new(Algorithm::HS256);
    hs.typ = Some("at+jwt".to_string());
    hs.kid = header["kid"].as_str().map(str::to_string);
    let confused = jsonwebtoken::encode(
        &hs,
        &claims,
        &EncodingKey::from_secret(public_key.as_bytes()),
    )
    .unwrap();
    assert_refused(
        list_projects(&client, Some(&confused)).await,
        Code::Unauthenticated,
        "RS256",
    );

    // A foreign RSA key, under the provider's key id and under a new one.
    let foreign = EncodingKey::from_rsa_der(&foreign_rsa_key_der().await);
    let mut rs = Header::new(Algorithm::RS256);
    rs.typ = Some("at+jwt".to_string());
    rs.kid = header["kid"].as_str().map(str::to_string);
    let impostor = jsonwebtoken::encode(&rs, &claims, &foreign).unwrap();
    assert_refused(
        list_projects(&client, Some(&impostor)).await,
        Code::Unauthenticated,
        "signature is invalid",
    );
    rs.kid = Some("attacker-key".to_string());
    let unknown = jsonwebtoken::encode(&rs, &claims, &foreign).unwrap();
    assert_refused(
        list_projects(&client, Some(&unknown)).await,
        Code::Unauthenticated,
        "key the provider does not publish",
    );

    // An opaque token (no resource asked for) is no JWT at all.
    assert_refused(
        list_projects(&client, Some("Q2FmZV9vcGFxdWVfdG9rZW4")).await,
        Code::Unauthenticated,
        "not a signed JWT",
    );

    // The genuine token still works after all that.
    list_projects(&client, Some(&token)).await.unwrap();
}

async fn an_id_token_is_no_access_token_and_user_info_names_the_user() {
    let provider = Provider::start(&[]).await;
    let app = app_for(&provider).await;
    let client = app.admin.clone();
    let tokens = provider.user_tokens("alice", "alice-password").await;
    let id_token = tokens["id_token"].as_str().expect("an ID token");
    let access_token = tokens["access_token"].as_str().expect("an access token");

    assert_refused(
        list_projects(&client, Some(id_token)).await,
        Code::Unauthenticated,
        "not an access token",
    );

    let mut identity = app.identity.clone();
    let user = identity
        .user_info(with_token(service::UserInfoRequest {}, access_token))
        .await
        .expect("UserInfo answers a logged-in user")
        .into_inner();
    assert_eq!(user.subject, "alice");
    let claims = user.additional_claims.expect("additional claims");
    let groups = format!("{:?}", claims.fields["groups"]);
    assert!(groups.contains("updraft-admins"), "{groups}");
    let roles = format!("{:?}", claims.fields["roles"]);
    assert!(
        roles.contains("\"*\"") && roles.contains("admin"),
        "{roles}"
    );

    assert_refused(
        identity
            .user_info(service::UserInfoRequest {})
            .await
            .map(|_| ())
            .map_err(Box::new),
        Code::Unauthenticated,
        "no bearer token",
    );
}

async fn expired_and_wrong_audience_tokens_are_refused() {
    let provider = Provider::start(&[("API_AT_TTL", "1")]).await;
    let app = app_for(&provider).await;
    let client = app.admin.clone();

    let other = provider
        .access_token(
            "updraft-cli",
            "cli-secret",
            &[("scope", "api:read"), ("resource", OTHER_API)],
        )
        .await;
    assert_eq!(
        decode_part(other.split('.').nth(1).unwrap())["aud"],
        OTHER_API
    );
    assert_refused(
        list_projects(&client, Some(&other)).await,
        Code::Unauthenticated,
        "not for this API",
    );

    let short = provider.cli_token().await;
    list_projects(&client, Some(&short)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_refused(
        list_projects(&client, Some(&short)).await,
        Code::Unauthenticated,
        "expired",
    );
}

async fn tokens_signed_after_a_provider_restart_are_accepted() {
    let mut provider = Provider::start(&[]).await;
    let app = app_for(&provider).await;
    let client = app.admin.clone();
    let before = provider.cli_token().await;
    list_projects(&client, Some(&before)).await.unwrap();

    provider.restart().await;
    let after = provider.cli_token().await;
    let kid = |token: &str| decode_part(token.split('.').next().unwrap())["kid"].clone();
    assert_ne!(kid(&before), kid(&after), "a restart brings a new key");
    list_projects(&client, Some(&after))
        .await
        .expect("admin fetches the new key");
    // The old key is gone from the provider, and with it the old tokens.
    assert_refused(
        list_projects(&client, Some(&before)).await,
        Code::Unauthenticated,
        "key the provider does not publish",
    );
}

async fn roles_decide_what_a_caller_may_do_per_project() {
    let provider = Provider::start(&[]).await;
    let app = app_for(&provider).await;
    let client = app.admin.clone();
    let mut admin = app.admin.clone();
    let viewer = provider.viewer_cli_token().await;
    let contributor = provider.cli_token().await;

    // A viewer reads but cannot launch.
    list_projects(&client, Some(&viewer)).await.unwrap();
    let refused = admin
        .create_execution(with_token(launch("flytesnacks"), &viewer))
        .await
        .expect_err("a viewer cannot launch");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    assert_eq!(
        refused.message(),
        "CreateExecution needs the contributor role in project flytesnacks; \
         updraft-viewer-cli has viewer"
    );

    // An admin creates project `ml`, where viewers contribute: their launch
    // gets past the role check and fails only on the missing launch plan.
    let alice = provider.user_tokens("alice", "alice-password").await;
    let alice = alice["access_token"].as_str().unwrap();
    admin
        .register_project(with_token(
            admin::ProjectRegisterRequest {
                project: Some(admin::Project {
                    id: "ml".to_string(),
                    name: "ml".to_string(),
                    ..Default::default()
                }),
            },
            alice,
        ))
        .await
        .expect("an admin creates projects");
    let past_roles = admin
        .create_execution(with_token(launch("ml"), &viewer))
        .await
        .expect_err("the launch plan does not exist");
    assert_eq!(past_roles.code(), Code::NotFound, "{past_roles:?}");
    assert!(
        past_roles.message().contains("launch plan ml/"),
        "{past_roles:?}"
    );

    // A contributor launches but cannot create projects.
    let launched = admin
        .create_execution(with_token(launch("flytesnacks"), &contributor))
        .await
        .expect_err("the launch plan does not exist");
    assert_eq!(launched.code(), Code::NotFound, "{launched:?}");
    assert!(
        launched.message().contains("launch plan flytesnacks/"),
        "{launched:?}"
    );
    let project = admin
        .register_project(with_token(
            admin::ProjectRegisterRequest {
                project: Some(admin::Project {
                    id: "newproject".to_string(),
                    name: "newproject".to_string(),
                    ..Default::default()
                }),
            },
            &contributor,
        ))
        .await
        .expect_err("a contributor cannot create projects");
    assert_eq!(project.code(), Code::PermissionDenied);
    assert!(
        project
            .message()
            .contains("admin role in project newproject"),
        "{project:?}"
    );
}

common::on_every_backend!(
    a_provider_token_is_accepted_and_a_missing_one_refused,
    login_metadata_needs_no_token,
    forged_and_foreign_tokens_are_refused,
    an_id_token_is_no_access_token_and_user_info_names_the_user,
    expired_and_wrong_audience_tokens_are_refused,
    tokens_signed_after_a_provider_restart_are_accepted,
    roles_decide_what_a_caller_may_do_per_project,
);
