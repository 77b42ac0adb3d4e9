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

use std::sync::Arc;

use tonic::{Request, Response, Status};
use updraft_proto::flyteidl::service;
use updraft_proto::flyteidl::service::auth_metadata_service_server::{
    AuthMetadataService, AuthMetadataServiceServer,
};
use updraft_proto::flyteidl::service::identity_service_server::{
    IdentityService, IdentityServiceServer,
};

use crate::error::AdminError;
use crate::{AdminState, answer};

/// The metadata key clients put their bearer token under, as advertised to
/// flytekit (which sends `authorization` when told nothing).
pub const AUTHORIZATION_METADATA_KEY: &str = "authorization";

/// The subject every caller has while login is disabled.
pub const ANONYMOUS_SUBJECT: &str = "anonymous";

/// How the APIs identify their callers. Only [`AuthSettings::NoLogin`] exists
/// today; single sign-on adds a variant carrying its OpenID provider, and the
/// two services here are what must answer from it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthSettings {
    /// Nobody logs in; every caller is the anonymous user.
    #[default]
    NoLogin,
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
        match self.state.settings.auth {
            AuthSettings::NoLogin => Err(AdminError::FailedPrecondition(
                "login is not enabled on this server: no OpenID provider is configured, \
                 and requests need no token"
                    .to_string(),
            )),
        }
    }

    async fn public_client_config_impl(
        &self,
    ) -> Result<service::PublicClientAuthConfigResponse, AdminError> {
        match self.state.settings.auth {
            // No client id, redirect or scopes: there is nothing to log in to.
            AuthSettings::NoLogin => Ok(service::PublicClientAuthConfigResponse {
                authorization_metadata_key: AUTHORIZATION_METADATA_KEY.to_string(),
                service_http_endpoint: self.state.settings.public_http_base.clone(),
                ..Default::default()
            }),
        }
    }

    async fn user_info_impl(&self) -> Result<service::UserInfoResponse, AdminError> {
        match self.state.settings.auth {
            AuthSettings::NoLogin => Ok(service::UserInfoResponse {
                subject: ANONYMOUS_SUBJECT.to_string(),
                name: "Anonymous".to_string(),
                preferred_username: ANONYMOUS_SUBJECT.to_string(),
                ..Default::default()
            }),
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
        _request: Request<service::UserInfoRequest>,
    ) -> Result<Response<service::UserInfoResponse>, Status> {
        answer(self.user_info_impl()).await
    }
}
