//! `AuthMetadataService` and `IdentityService`: what clients learn about
//! logging in, and who they are.
//!
//! Without login (the embedded default) no request needs a token. flytekit
//! installs its auth interceptor anyway but only asks these services after a
//! call failed with `UNAUTHENTICATED` or `UNKNOWN`, which admin never answers;
//! if it does ask, it takes the token and authorization endpoints from
//! `GetOAuth2Metadata` and opens a browser on them. So that RPC refuses with a
//! message saying no login exists rather than handing out empty endpoints,
//! and `UserInfo` names one anonymous user.
//!
//! With single sign-on these answer from the OpenID provider's discovery
//! document and the configured public client, which is all flytekit needs
//! to log in (client credentials for machines, PKCE for people), and
//! `UserInfo` answers from the caller's verified token.

use std::sync::Arc;

use tonic::{Request, Response, Status};
use updraft_proto::flyteidl::service;
use updraft_proto::flyteidl::service::auth_metadata_service_server::{
    AuthMetadataService, AuthMetadataServiceServer,
};
use updraft_proto::flyteidl::service::identity_service_server::{
    IdentityService, IdentityServiceServer,
};

use crate::access::Caller;
use crate::error::AdminError;
use crate::{AdminState, answer};

/// The metadata key clients put their bearer token under, as advertised to
/// flytekit (which sends `authorization` when told nothing).
pub const AUTHORIZATION_METADATA_KEY: &str = "authorization";

/// The subject every caller has while login is disabled.
pub const ANONYMOUS_SUBJECT: &str = "anonymous";

/// How the APIs identify their callers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthSettings {
    /// Nobody logs in; every caller is the anonymous user.
    #[default]
    NoLogin,
    /// Every call carries an access token from this OpenID provider.
    Oidc(Box<crate::access::OidcSettings>),
}

/// The `AuthMetadataService` and `IdentityService` implementation.
#[derive(Debug, Clone)]
pub struct AuthApi {
    state: Arc<AdminState>,
}

impl AuthApi {
    pub(crate) fn new(state: Arc<AdminState>) -> Self {
        Self { state }
    }

    /// `AuthMetadataService` as a tonic service.
    pub fn into_auth_metadata_service(self) -> AuthMetadataServiceServer<Self> {
        AuthMetadataServiceServer::new(self)
    }

    /// `IdentityService` as a tonic service.
    pub fn into_identity_service(self) -> IdentityServiceServer<Self> {
        IdentityServiceServer::new(self)
    }

    async fn oauth2_metadata_impl(&self) -> Result<service::OAuth2MetadataResponse, AdminError> {
        let Some(access) = &self.state.access else {
            return Err(AdminError::FailedPrecondition(
                "login is not enabled on this server: no OpenID provider is configured, \
                 and requests need no token"
                    .to_string(),
            ));
        };
        let metadata = access.provider_metadata().await.map_err(|error| {
            tracing::warn!(error = %error, "cannot read the OpenID provider's metadata");
            AdminError::Unavailable(format!("{error}"))
        })?;
        Ok(service::OAuth2MetadataResponse {
            issuer: metadata.issuer,
            authorization_endpoint: metadata.authorization_endpoint,
            token_endpoint: metadata.token_endpoint,
            response_types_supported: metadata.response_types_supported,
            scopes_supported: metadata.scopes_supported,
            token_endpoint_auth_methods_supported: metadata.token_endpoint_auth_methods_supported,
            jwks_uri: metadata.jwks_uri,
            code_challenge_methods_supported: metadata.code_challenge_methods_supported,
            grant_types_supported: metadata.grant_types_supported,
            device_authorization_endpoint: metadata.device_authorization_endpoint,
        })
    }

    async fn public_client_config_impl(
        &self,
    ) -> Result<service::PublicClientAuthConfigResponse, AdminError> {
        match &self.state.settings.auth {
            // No client id, redirect or scopes: there is nothing to log in to.
            AuthSettings::NoLogin => Ok(service::PublicClientAuthConfigResponse {
                authorization_metadata_key: AUTHORIZATION_METADATA_KEY.to_string(),
                service_http_endpoint: self.state.settings.public_http_base.clone(),
                ..Default::default()
            }),
            AuthSettings::Oidc(oidc) => Ok(service::PublicClientAuthConfigResponse {
                client_id: oidc.public_client.client_id.clone(),
                redirect_uri: oidc.public_client.redirect_uri.clone(),
                scopes: oidc.public_client.scopes.clone(),
                authorization_metadata_key: AUTHORIZATION_METADATA_KEY.to_string(),
                service_http_endpoint: self.state.settings.public_http_base.clone(),
                audience: oidc.public_client.audience.clone(),
            }),
        }
    }

    async fn user_info_impl(
        &self,
        caller: Option<&Caller>,
    ) -> Result<service::UserInfoResponse, AdminError> {
        match (&self.state.settings.auth, caller) {
            (AuthSettings::NoLogin, _) => Ok(service::UserInfoResponse {
                subject: ANONYMOUS_SUBJECT.to_string(),
                name: "Anonymous".to_string(),
                preferred_username: ANONYMOUS_SUBJECT.to_string(),
                ..Default::default()
            }),
            (AuthSettings::Oidc(oidc), Some(caller)) => {
                let text = |value: &str| prost_types::Value {
                    kind: Some(prost_types::value::Kind::StringValue(value.to_string())),
                };
                let list = |values: Vec<prost_types::Value>| prost_types::Value {
                    kind: Some(prost_types::value::Kind::ListValue(
                        prost_types::ListValue { values },
                    )),
                };
                // The console mirrors roles from these: per project where the
                // mapping names projects, plus the role everywhere else.
                let mut roles: std::collections::BTreeMap<String, prost_types::Value> = oidc
                    .roles
                    .roles_by_project(&caller.groups)
                    .into_iter()
                    .map(|(project, role)| (project, text(role.name())))
                    .collect();
                if let Some(role) = oidc.roles.role_in(&caller.groups, None) {
                    roles.insert("*".to_string(), text(role.name()));
                }
                let mut claims = std::collections::BTreeMap::new();
                claims.insert(
                    "groups".to_string(),
                    list(caller.groups.iter().map(|group| text(group)).collect()),
                );
                if let Some(client_id) = &caller.client_id {
                    claims.insert("client_id".to_string(), text(client_id));
                }
                claims.insert(
                    "roles".to_string(),
                    prost_types::Value {
                        kind: Some(prost_types::value::Kind::StructValue(prost_types::Struct {
                            fields: roles,
                        })),
                    },
                );
                Ok(service::UserInfoResponse {
                    subject: caller.subject.clone(),
                    name: caller.name.clone().unwrap_or_default(),
                    preferred_username: caller.preferred_username.clone().unwrap_or_default(),
                    email: caller.email.clone().unwrap_or_default(),
                    additional_claims: Some(prost_types::Struct { fields: claims }),
                    ..Default::default()
                })
            }
            // The token layer admits no request without a caller; reaching
            // here means the service was mounted without it.
            (AuthSettings::Oidc(_), None) => Err(AdminError::Unauthenticated(
                "no verified caller for this request".to_string(),
            )),
        }
    }
}

#[tonic::async_trait]
impl AuthMetadataService for AuthApi {
    #[tracing::instrument(skip_all)]
    async fn get_o_auth2_metadata(
        &self,
        _request: Request<service::OAuth2MetadataRequest>,
    ) -> Result<Response<service::OAuth2MetadataResponse>, Status> {
        answer(self.oauth2_metadata_impl()).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_public_client_config(
        &self,
        _request: Request<service::PublicClientAuthConfigRequest>,
    ) -> Result<Response<service::PublicClientAuthConfigResponse>, Status> {
        answer(self.public_client_config_impl()).await
    }
}

#[tonic::async_trait]
impl IdentityService for AuthApi {
    #[tracing::instrument(skip_all)]
    async fn user_info(
        &self,
        request: Request<service::UserInfoRequest>,
    ) -> Result<Response<service::UserInfoResponse>, Status> {
        answer(self.user_info_impl(request.extensions().get::<Caller>())).await
    }
}
