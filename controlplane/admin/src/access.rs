//! Who may call which API when single sign-on is on: bearer JWTs from the
//! OpenID provider, checked in front of every gRPC service, and roles from
//! the token's groups, per project.
//!
//! Tokens are RFC 9068 access tokens (`typ: at+jwt`, RS256) for the API's
//! audience. ID tokens share the signing key but name the client as audience
//! and carry `typ: JWT`, so the header check alone refuses them. The
//! algorithm is pinned rather than read from the token, which is what defeats
//! `alg: none` and HS256-with-the-public-key forgeries.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};

use crate::error::AdminError;

/// A caller's rights in a project. Each includes the ones before it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads definitions, executions and their data.
    Viewer,
    /// Also registers, launches, relaunches, terminates and sets signals.
    Contributor,
    /// Also creates and updates projects and their attributes.
    Admin,
}

impl Role {
    /// The role's name as configured and reported.
    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Contributor => "contributor",
            Role::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        match value {
            "viewer" => Ok(Role::Viewer),
            "contributor" => Ok(Role::Contributor),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role `{other}`: expected viewer, contributor or admin"
            )),
        }
    }
}

/// Which role each group has: everywhere, and in particular projects.
///
/// Project entries only ever add to the default mapping. That keeps a
/// request whose project cannot be read (an unknown RPC, a compressed
/// message) on the safe side: it is judged by the default mapping alone,
/// which can only grant less than the project's own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleMapping {
    /// Group → role in every project.
    pub default: BTreeMap<String, Role>,
    /// Project → group → role in that project.
    pub projects: BTreeMap<String, BTreeMap<String, Role>>,
}

impl RoleMapping {
    /// The highest role `groups` give in `project` (or, without a project,
    /// from the default mapping).
    pub fn role_in(&self, groups: &[String], project: Option<&str>) -> Option<Role> {
        let project_mapping = project.and_then(|project| self.projects.get(project));
        groups
            .iter()
            .flat_map(|group| {
                self.default
                    .get(group)
                    .into_iter()
                    .chain(project_mapping.and_then(|mapping| mapping.get(group)))
            })
            .copied()
            .max()
    }

    /// The highest role `groups` give in any project.
    pub fn role_anywhere(&self, groups: &[String]) -> Option<Role> {
        let in_projects = self
            .projects
            .keys()
            .filter_map(|project| self.role_in(groups, Some(project)));
        self.role_in(groups, None)
            .into_iter()
            .chain(in_projects)
            .max()
    }

    /// Every project with its own mapping, and the caller's role there.
    pub fn roles_by_project(&self, groups: &[String]) -> BTreeMap<String, Role> {
        self.projects
            .keys()
            .filter_map(|project| Some((project.clone(), self.role_in(groups, Some(project))?)))
            .collect()
    }
}

/// What flytekit is told to log in with (`GetPublicClientConfig`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublicClient {
    /// The provider's public client for people on the command line (PKCE).
    pub client_id: String,
    /// Where that client's authorization code comes back to.
    pub redirect_uri: String,
    /// Scopes to ask for.
    pub scopes: Vec<String>,
    /// An `audience` token-request parameter for providers that select the
    /// API that way (Auth0); empty when the provider does not need it.
    pub audience: String,
}

/// Single sign-on against one OpenID provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcSettings {
    /// The provider's issuer URL, exactly as its tokens name it.
    pub issuer: String,
    /// The `aud` API access tokens must carry.
    pub audience: String,
    /// Clock skew allowed on `exp` and `nbf`.
    pub leeway: Duration,
    /// The shortest time between two JWKS fetches triggered by unknown key
    /// ids, so forged tokens cannot make admin hammer the provider.
    pub jwks_refetch_interval: Duration,
    /// Groups to roles.
    pub roles: RoleMapping,
    /// What `GetPublicClientConfig` advertises.
    pub public_client: PublicClient,
}

impl OidcSettings {
    /// Settings with a 5 s leeway, a 10 s JWKS refetch interval, no roles
    /// and no public client.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            leeway: Duration::from_secs(5),
            jwks_refetch_interval: Duration::from_secs(10),
            roles: RoleMapping::default(),
            public_client: PublicClient::default(),
        }
    }
}

/// The verified caller of a request, in the request's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's `sub`: a user, or for client credentials the client id.
    pub subject: String,
    /// The client the token was issued to.
    pub client_id: Option<String>,
    /// Display name, when the token has one.
    pub name: Option<String>,
    /// Login name, when the token has one.
    pub preferred_username: Option<String>,
    /// Email, when the token has one.
    pub email: Option<String>,
    /// The `groups` claim.
    pub groups: Vec<String>,
    /// Whether this is updraft's own data plane in this process.
    pub internal: bool,
}

#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    preferred_username: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
}

/// The provider's discovery document, as far as admin uses it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProviderMetadata {
    /// `issuer`.
    pub issuer: String,
    /// `authorization_endpoint`.
    #[serde(default)]
    pub authorization_endpoint: String,
    /// `token_endpoint`.
    #[serde(default)]
    pub token_endpoint: String,
    /// `jwks_uri`.
    pub jwks_uri: String,
    /// `device_authorization_endpoint`.
    #[serde(default)]
    pub device_authorization_endpoint: String,
    /// `response_types_supported`.
    #[serde(default)]
    pub response_types_supported: Vec<String>,
    /// `scopes_supported`.
    #[serde(default)]
    pub scopes_supported: Vec<String>,
    /// `token_endpoint_auth_methods_supported`.
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// `code_challenge_methods_supported`.
    #[serde(default)]
    pub code_challenge_methods_supported: Vec<String>,
    /// `grant_types_supported`.
    #[serde(default)]
    pub grant_types_supported: Vec<String>,
}

/// Why the provider could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The request failed or answered an error status.
    #[error("cannot reach the OpenID provider at {url}")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// The answer was not the JSON expected.
    #[error("the OpenID provider's answer at {url} is malformed")]
    Malformed {
        url: String,
        #[source]
        source: serde_json::Error,
    },
    /// Discovery named another issuer than the configured one.
    #[error("the OpenID provider calls itself {found}, not the configured issuer {expected}")]
    IssuerMismatch { expected: String, found: String },
}

struct Keys {
    set: JwkSet,
    fetched_at: Option<Instant>,
}

/// The verification key `kid` names in `keys`, if there is one.
fn known_key(keys: &Keys, kid: &str) -> Option<jsonwebtoken::errors::Result<DecodingKey>> {
    keys.set.find(kid).map(DecodingKey::from_jwk)
}

/// Checks access tokens and roles for one provider; shared by every request.
pub struct Access {
    settings: OidcSettings,
    http: reqwest::Client,
    metadata: RwLock<Option<ProviderMetadata>>,
    keys: RwLock<Keys>,
    // Held while fetching, so concurrent requests with a new key id cause one
    // fetch, not one each.
    refetch: Mutex<()>,
    internal_user_agent: String,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The internal credential is a secret and never printed.
        formatter
            .debug_struct("Access")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The RPCs anyone may call before having a token: health checks, and what
/// flytekit asks to find out how to get one.
fn is_open(path: &str) -> bool {
    path.starts_with("/grpc.health.v1.Health/")
        || path.starts_with("/flyteidl.service.AuthMetadataService/")
}

impl Access {
    /// Access checks for `settings`; `internal_user_agent` is the secret
    /// user-agent prefix this process's own data plane sends.
    pub fn new(settings: OidcSettings, internal_user_agent: String) -> Self {
        let http = reqwest::Client::builder()
            // Following the provider's redirects would let it point admin anywhere.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .expect("a reqwest client with rustls builds");
        Self {
            settings,
            http,
            metadata: RwLock::new(None),
            keys: RwLock::new(Keys {
                set: JwkSet { keys: Vec::new() },
                fetched_at: None,
            }),
            refetch: Mutex::new(()),
            internal_user_agent,
        }
    }

    /// The settings these checks follow.
    pub fn settings(&self) -> &OidcSettings {
        &self.settings
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
    ) -> Result<T, ProviderError> {
        let unreachable = |source| ProviderError::Unreachable {
            url: url.to_string(),
            source,
        };
        let body = self
            .http
            .get(url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(unreachable)?
            .bytes()
            .await
            .map_err(unreachable)?;
        serde_json::from_slice(&body).map_err(|source| ProviderError::Malformed {
            url: url.to_string(),
            source,
        })
    }

    /// The provider's discovery document, fetched once it is first needed
    /// (so admin starts even while the provider is down) and kept.
    pub async fn provider_metadata(&self) -> Result<ProviderMetadata, ProviderError> {
        if let Some(metadata) = self.metadata.read().await.as_ref() {
            return Ok(metadata.clone());
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.settings.issuer.trim_end_matches('/')
        );
        let metadata: ProviderMetadata = self.get_json(&url).await?;
        if metadata.issuer != self.settings.issuer {
            return Err(ProviderError::IssuerMismatch {
                expected: self.settings.issuer.clone(),
                found: metadata.issuer,
            });
        }
        *self.metadata.write().await = Some(metadata.clone());
        Ok(metadata)
    }

    /// The verification key named `kid`, refetching the JWKS once (at most
    /// every `jwks_refetch_interval`) when it is not known: providers rotate
    /// keys, and the test provider has a new one after every restart.
    async fn key(&self, kid: &str) -> Result<DecodingKey, AdminError> {
        if let Some(key) = known_key(&*self.keys.read().await, kid) {
            return key.map_err(|_| unauthenticated("the token's signing key is unusable"));
        }
        let _fetching = self.refetch.lock().await;
        // Another request may have fetched while this one waited.
        if let Some(key) = known_key(&*self.keys.read().await, kid) {
            return key.map_err(|_| unauthenticated("the token's signing key is unusable"));
        }
        let recently = self
            .keys
            .read()
            .await
            .fetched_at
            .is_some_and(|at| at.elapsed() < self.settings.jwks_refetch_interval);
        if !recently {
            let fetched = async {
                let metadata = self.provider_metadata().await?;
                self.get_json::<JwkSet>(&metadata.jwks_uri).await
            }
            .await;
            let mut keys = self.keys.write().await;
            keys.fetched_at = Some(Instant::now());
            match fetched {
                Ok(set) => keys.set = set,
                Err(error) => {
                    tracing::warn!(error = %error, "cannot fetch the OpenID provider's keys");
                    return Err(AdminError::Unauthenticated(
                        "cannot check the token: the OpenID provider's keys are unavailable"
                            .to_string(),
                    ));
                }
            }
        }
        known_key(&*self.keys.read().await, kid)
            .ok_or_else(|| {
                unauthenticated("the token is signed with a key the provider does not publish")
            })?
            .map_err(|_| unauthenticated("the token's signing key is unusable"))
    }

    /// Verifies a bearer token and names its caller.
    pub async fn verify(&self, token: &str) -> Result<Caller, AdminError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| unauthenticated("the bearer token is not a signed JWT"))?;
        if !header
            .typ
            .as_deref()
            .is_some_and(|typ| typ.eq_ignore_ascii_case("at+jwt"))
        {
            return Err(unauthenticated(
                "the bearer token is not an access token (typ must be at+jwt; ID tokens are refused)",
            ));
        }
        if header.alg != Algorithm::RS256 {
            return Err(unauthenticated(
                "the bearer token must be signed with RS256",
            ));
        }
        let kid = header
            .kid
            .ok_or_else(|| unauthenticated("the bearer token names no signing key (kid)"))?;
        let key = self.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_audience(&[&self.settings.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = self.settings.leeway.as_secs();
        let data = jsonwebtoken::decode::<Claims>(token, &key, &validation).map_err(|error| {
            use jsonwebtoken::errors::ErrorKind;
            let reason = match error.kind() {
                ErrorKind::ExpiredSignature => "the bearer token has expired".to_string(),
                ErrorKind::InvalidAudience => format!(
                    "the bearer token is not for this API (audience must be {})",
                    self.settings.audience
                ),
                ErrorKind::InvalidIssuer => format!(
                    "the bearer token is not from the configured issuer {}",
                    self.settings.issuer
                ),
                ErrorKind::InvalidSignature => {
                    "the bearer token's signature is invalid".to_string()
                }
                ErrorKind::InvalidAlgorithm => {
                    "the bearer token must be signed with RS256".to_string()
                }
                ErrorKind::ImmatureSignature => "the bearer token is not valid yet".to_string(),
                _ => "the bearer token is invalid".to_string(),
            };
            AdminError::Unauthenticated(reason)
        })?;
        let claims = data.claims;
        Ok(Caller {
            subject: claims.sub,
            client_id: claims.client_id,
            name: claims.name,
            preferred_username: claims.preferred_username,
            email: claims.email,
            groups: claims.groups,
            internal: false,
        })
    }

    /// The caller of `request`, or why it has none.
    async fn authenticate(&self, headers: &http::HeaderMap) -> Result<Caller, AdminError> {
        if let Some(agent) = headers.get(http::header::USER_AGENT)
            && is_internal(agent.as_bytes(), self.internal_user_agent.as_bytes())
        {
            return Ok(Caller {
                subject: "updraft-propeller".to_string(),
                client_id: None,
                name: Some("updraft's own data plane".to_string()),
                preferred_username: None,
                email: None,
                groups: Vec::new(),
                internal: true,
            });
        }
        let value = headers
            .get("authorization")
            .or_else(|| headers.get("flyte-authorization"))
            .ok_or_else(|| {
                unauthenticated("no bearer token: send `authorization: Bearer <access token>`")
            })?;
        let token = value
            .to_str()
            .ok()
            .and_then(|value| {
                value
                    .strip_prefix("Bearer ")
                    .or_else(|| value.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or_else(|| unauthenticated("the authorization header is not `Bearer <token>`"))?;
        self.verify(token).await
    }

    /// Whether `caller` may call `method` in `project`.
    pub fn authorize(
        &self,
        caller: &Caller,
        method: &str,
        project: Option<&str>,
    ) -> Result<(), AdminError> {
        if caller.internal {
            return Ok(());
        }
        let needed = required_role(method);
        let roles = &self.settings.roles;
        let (held, place) = match (needed.scope, project) {
            (Scope::Authenticated, _) => return Ok(()),
            (Scope::Project(_), Some(project)) => (
                roles.role_in(&caller.groups, Some(project)),
                format!("project {project}"),
            ),
            (Scope::Project(_), None) => (
                roles.role_in(&caller.groups, None),
                "every project".to_string(),
            ),
            (Scope::AnyProject, _) => (
                roles.role_anywhere(&caller.groups),
                "any project".to_string(),
            ),
        };
        if held.is_some_and(|held| held >= needed.role) {
            return Ok(());
        }
        Err(AdminError::PermissionDenied(format!(
            "{} needs the {} role in {place}; {} has {}",
            method.rsplit('/').next().unwrap_or(method),
            needed.role.name(),
            caller.subject,
            held.map_or("no role", Role::name),
        )))
    }
}

fn unauthenticated(message: &str) -> AdminError {
    AdminError::Unauthenticated(message.to_string())
}

/// Constant-time check of a user agent against the internal prefix.
fn is_internal(agent: &[u8], prefix: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    !prefix.is_empty()
        && agent.len() >= prefix.len()
        && bool::from(agent[..prefix.len()].ct_eq(prefix))
}

#[derive(Debug, Clone, Copy)]
enum Scope {
    /// Any valid token.
    Authenticated,
    /// The role in the request's project; the path of field numbers leads
    /// to the project name in the request message.
    Project(&'static [u32]),
    /// The role in at least one project (listing projects, streams).
    AnyProject,
}

#[derive(Debug, Clone, Copy)]
struct Needed {
    role: Role,
    scope: Scope,
}

/// The role each RPC needs, and where its request names the project.
fn required_role(path: &str) -> Needed {
    use Role::{Admin, Contributor, Viewer};
    let method = path.rsplit('/').next().unwrap_or_default();
    let service = path
        .strip_prefix('/')
        .and_then(|path| path.split('/').next())
        .unwrap_or_default();
    let (role, scope) = match (service, method) {
        ("flyteidl.service.AdminService", method) => match method {
            "GetVersion" | "GetDomains" => (Viewer, Scope::Authenticated),
            "CreateTask" | "CreateWorkflow" | "CreateLaunchPlan" | "UpdateLaunchPlan" => {
                (Contributor, Scope::Project(&[1, 2]))
            }
            "GetTask" | "GetWorkflow" | "GetLaunchPlan" | "GetDescriptionEntity" => {
                (Viewer, Scope::Project(&[1, 2]))
            }
            "ListTaskIds" | "ListWorkflowIds" | "ListLaunchPlanIds" | "ListActiveLaunchPlans" => {
                (Viewer, Scope::Project(&[1]))
            }
            "ListTasks"
            | "ListWorkflows"
            | "ListLaunchPlans"
            | "ListExecutions"
            | "GetActiveLaunchPlan"
            | "ListNodeExecutions" => (Viewer, Scope::Project(&[1, 1])),
            "CreateExecution" => (Contributor, Scope::Project(&[1])),
            "RelaunchExecution" | "RecoverExecution" | "TerminateExecution" | "UpdateExecution" => {
                (Contributor, Scope::Project(&[1, 1]))
            }
            "GetExecution" | "GetExecutionData" | "GetExecutionMetrics" => {
                (Viewer, Scope::Project(&[1, 1]))
            }
            "GetNodeExecution"
            | "GetNodeExecutionData"
            | "GetDynamicNodeWorkflow"
            | "ListTaskExecutions" => (Viewer, Scope::Project(&[1, 2, 1])),
            "ListNodeExecutionsForTask" | "GetTaskExecution" | "GetTaskExecutionData" => {
                (Viewer, Scope::Project(&[1, 2, 2, 1]))
            }
            "RegisterProject" => (Admin, Scope::Project(&[1, 1])),
            "UpdateProject" => (Admin, Scope::Project(&[1])),
            "GetProject" => (Viewer, Scope::Project(&[1])),
            "ListProjects" | "ListMatchableAttributes" => (Viewer, Scope::AnyProject),
            // Execution events come from the data plane acting for a launch.
            "CreateWorkflowEvent" => (Contributor, Scope::Project(&[2, 1, 1])),
            "CreateNodeEvent" => (Contributor, Scope::Project(&[2, 1, 2, 1])),
            "CreateTaskEvent" => (Contributor, Scope::Project(&[2, 1, 2])),
            "UpdateProjectDomainAttributes"
            | "UpdateProjectAttributes"
            | "UpdateWorkflowAttributes" => (Admin, Scope::Project(&[1, 1])),
            "DeleteProjectDomainAttributes"
            | "DeleteProjectAttributes"
            | "DeleteWorkflowAttributes" => (Admin, Scope::Project(&[1])),
            "GetProjectDomainAttributes" | "GetProjectAttributes" | "GetWorkflowAttributes" => {
                (Viewer, Scope::Project(&[1]))
            }
            "ListNamedEntities" => (Viewer, Scope::Project(&[2])),
            "GetNamedEntity" | "ListDescriptionEntities" => (Viewer, Scope::Project(&[2, 1])),
            "UpdateNamedEntity" => (Contributor, Scope::Project(&[2, 1])),
            // Anything new is admin-only until someone decides otherwise.
            _ => (Admin, Scope::Project(&[])),
        },
        ("flyteidl.service.SignalService", "ListSignals") => (Viewer, Scope::Project(&[1, 1])),
        ("flyteidl.service.SignalService", _) => (Contributor, Scope::Project(&[1, 2, 1])),
        ("flyteidl.service.DataProxyService", "CreateUploadLocation") => {
            (Contributor, Scope::Project(&[1]))
        }
        ("flyteidl.service.DataProxyService", "CreateDownloadLink") => {
            (Viewer, Scope::Project(&[2, 2, 1]))
        }
        ("flyteidl.service.DataProxyService", _) => (Viewer, Scope::AnyProject),
        ("flyteidl.service.IdentityService", _) => (Viewer, Scope::Authenticated),
        // Caching: propeller reads and writes the catalog for the executions
        // it runs; people may read it and, as contributors, evict from it.
        ("datacatalog.DataCatalog", method) => match method {
            "GetDataset" | "GetArtifact" | "ListArtifacts" => (Viewer, Scope::Project(&[1, 1])),
            "ListDatasets" => (Viewer, Scope::AnyProject),
            "CreateDataset" | "GetOrExtendReservation" | "ReleaseReservation" => {
                (Contributor, Scope::Project(&[1, 1, 1]))
            }
            "CreateArtifact" => (Contributor, Scope::Project(&[1, 2, 1])),
            "AddTag" => (Contributor, Scope::Project(&[1, 3, 1])),
            "UpdateArtifact" => (Contributor, Scope::Project(&[1, 1])),
            _ => (Admin, Scope::Project(&[])),
        },
        ("updraft.catalog.v1.CacheEvictionService", "EvictCachedArtifact")
        | ("updraft.catalog.v1.CacheEvictionService", "EvictExecutionArtifacts") => {
            (Contributor, Scope::Project(&[1, 1]))
        }
        ("updraft.propeller.v1.PropellerService", _) => (Viewer, Scope::AnyProject),
        // The console reads where an execution runs or waits.
        ("updraft.admin.v1.ExecutionQueueService", "GetExecutionPlacement") => {
            (Viewer, Scope::Project(&[1, 1]))
        }
        // Claiming executions is the data plane's job.
        _ => (Admin, Scope::Project(&[])),
    };
    Needed { role, scope }
}

/// The string at `path` (field numbers, outermost first) in a protobuf
/// message, reading the last occurrence of each field as protobuf does.
fn string_at(message: &[u8], path: &[u32]) -> Option<String> {
    let (&field, rest) = path.split_first()?;
    let mut found = None;
    let mut input = message;
    while !input.is_empty() {
        let key = read_varint(&mut input)?;
        let number = u32::try_from(key >> 3).ok()?;
        match key & 7 {
            0 => {
                read_varint(&mut input)?;
            }
            1 => input = input.get(8..)?,
            5 => input = input.get(4..)?,
            2 => {
                let length = usize::try_from(read_varint(&mut input)?).ok()?;
                let value = input.get(..length)?;
                input = &input[length..];
                if number == field {
                    found = Some(value);
                }
            }
            _ => return None,
        }
    }
    let value = found?;
    if rest.is_empty() {
        String::from_utf8(value.to_vec())
            .ok()
            .filter(|text| !text.is_empty())
    } else {
        string_at(value, rest)
    }
}

fn read_varint(input: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = input.split_first()?;
        *input = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// The message of a single uncompressed gRPC frame.
fn single_frame_message(body: &Bytes) -> Option<Bytes> {
    let (&compressed, rest) = body.split_first()?;
    let length_bytes: [u8; 4] = rest.get(..4)?.try_into().ok()?;
    let length = usize::try_from(u32::from_be_bytes(length_bytes)).ok()?;
    (compressed == 0 && body.len() == 5 + length).then(|| body.slice(5..))
}

/// Requires a valid bearer token and the right role on every gRPC request
/// except the open ones, and hands the handlers the [`Caller`].
pub fn require_tokens(router: axum::Router, access: Arc<Access>) -> axum::Router {
    router.layer(axum::middleware::from_fn_with_state(access, check_request))
}

async fn check_request(
    State(access): State<Arc<Access>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_string();
    if is_open(&path) {
        return next.run(request).await;
    }
    let caller = match access.authenticate(request.headers()).await {
        Ok(caller) => caller,
        Err(error) => return refuse(error),
    };
    let needed = required_role(&path);
    let (mut parts, body) = request.into_parts();
    let (project, body) = match needed.scope {
        Scope::Project(field_path) if !field_path.is_empty() && !caller.internal => {
            // Unary requests are small and capped anyway; reading the project
            // needs the whole message.
            match axum::body::to_bytes(body, crate::MAX_MESSAGE_BYTES + 5).await {
                Ok(bytes) => {
                    let project = single_frame_message(&bytes)
                        .and_then(|message| string_at(&message, field_path));
                    (project, axum::body::Body::from(bytes))
                }
                Err(_) => {
                    return refuse(AdminError::invalid("the request message is too large"));
                }
            }
        }
        _ => (None, body),
    };
    if let Err(error) = access.authorize(&caller, &path, project.as_deref()) {
        return refuse(error);
    }
    parts.extensions.insert(caller);
    next.run(Request::from_parts(parts, body)).await
}

fn refuse(error: AdminError) -> Response {
    tonic::Status::from(error)
        .into_http::<tonic::body::Body>()
        .map(axum::body::Body::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    #[test]
    fn project_mappings_add_to_the_default_one() {
        let mut roles = RoleMapping::default();
        roles.default.insert("users".into(), Role::Viewer);
        roles.projects.insert(
            "ml".into(),
            BTreeMap::from([("users".into(), Role::Contributor)]),
        );
        assert_eq!(roles.role_in(&groups(&["users"]), None), Some(Role::Viewer));
        assert_eq!(
            roles.role_in(&groups(&["users"]), Some("ml")),
            Some(Role::Contributor)
        );
        assert_eq!(
            roles.role_in(&groups(&["users"]), Some("other")),
            Some(Role::Viewer)
        );
        assert_eq!(roles.role_in(&groups(&["strangers"]), Some("ml")), None);
        assert_eq!(
            roles.role_anywhere(&groups(&["users"])),
            Some(Role::Contributor)
        );
    }

    #[test]
    fn projects_are_read_from_nested_fields() {
        // ExecutionCreateRequest { project = 1, domain = 2 }
        let create = [0x0a, 2, b'm', b'l', 0x12, 3, b'd', b'e', b'v'];
        assert_eq!(string_at(&create, &[1]).as_deref(), Some("ml"));
        // ObjectGetRequest { id = 1: Identifier { resource_type = 1 (varint), project = 2 } }
        let get = [0x0a, 6, 0x08, 1, 0x12, 2, b'm', b'l'];
        assert_eq!(string_at(&get, &[1, 2]).as_deref(), Some("ml"));
        assert_eq!(string_at(&get, &[1, 3]), None);
        // Truncated messages name no project rather than a wrong one.
        assert_eq!(string_at(&get[..5], &[1, 2]), None);
    }

    #[test]
    fn catalog_reads_need_viewer_and_writes_contributor_in_their_project() {
        use prost::Message;
        use updraft_proto::datacatalog;
        let dataset = datacatalog::DatasetId {
            project: "ml".into(),
            name: "flyte_task-add".into(),
            domain: "development".into(),
            version: "1".into(),
            ..Default::default()
        };
        let reservation_id = Some(datacatalog::ReservationId {
            dataset_id: Some(dataset.clone()),
            tag_name: "t".into(),
        });
        let requests: [(&str, Vec<u8>, Role); 7] = [
            (
                "GetArtifact",
                datacatalog::GetArtifactRequest {
                    dataset: Some(dataset.clone()),
                    query_handle: None,
                }
                .encode_to_vec(),
                Role::Viewer,
            ),
            (
                "CreateDataset",
                datacatalog::CreateDatasetRequest {
                    dataset: Some(datacatalog::Dataset {
                        id: Some(dataset.clone()),
                        ..Default::default()
                    }),
                }
                .encode_to_vec(),
                Role::Contributor,
            ),
            (
                "CreateArtifact",
                datacatalog::CreateArtifactRequest {
                    artifact: Some(datacatalog::Artifact {
                        dataset: Some(dataset.clone()),
                        ..Default::default()
                    }),
                }
                .encode_to_vec(),
                Role::Contributor,
            ),
            (
                "AddTag",
                datacatalog::AddTagRequest {
                    tag: Some(datacatalog::Tag {
                        dataset: Some(dataset.clone()),
                        ..Default::default()
                    }),
                }
                .encode_to_vec(),
                Role::Contributor,
            ),
            (
                "UpdateArtifact",
                datacatalog::UpdateArtifactRequest {
                    dataset: Some(dataset.clone()),
                    ..Default::default()
                }
                .encode_to_vec(),
                Role::Contributor,
            ),
            (
                "GetOrExtendReservation",
                datacatalog::GetOrExtendReservationRequest {
                    reservation_id: reservation_id.clone(),
                    ..Default::default()
                }
                .encode_to_vec(),
                Role::Contributor,
            ),
            (
                "ReleaseReservation",
                datacatalog::ReleaseReservationRequest {
                    reservation_id,
                    ..Default::default()
                }
                .encode_to_vec(),
                Role::Contributor,
            ),
        ];
        for (method, message, role) in requests {
            let needed = required_role(&format!("/datacatalog.DataCatalog/{method}"));
            assert_eq!(needed.role, role, "{method}");
            let Scope::Project(path) = needed.scope else {
                panic!("{method} is judged in its project");
            };
            assert_eq!(string_at(&message, path).as_deref(), Some("ml"), "{method}");
        }
        let evict = updraft_proto::updraft::catalog::v1::EvictCachedArtifactRequest {
            dataset: Some(dataset),
            tag_name: "t".into(),
        };
        let needed = required_role("/updraft.catalog.v1.CacheEvictionService/EvictCachedArtifact");
        assert_eq!(needed.role, Role::Contributor);
        let Scope::Project(path) = needed.scope else {
            panic!("eviction is judged in its project");
        };
        assert_eq!(
            string_at(&evict.encode_to_vec(), path).as_deref(),
            Some("ml")
        );
    }

    #[test]
    fn internal_callers_need_the_whole_secret() {
        assert!(is_internal(
            b"updraft-internal/abc tonic/0.14",
            b"updraft-internal/abc"
        ));
        assert!(!is_internal(
            b"updraft-internal/ab",
            b"updraft-internal/abc"
        ));
        assert!(!is_internal(
            b"updraft-internal/abd tonic",
            b"updraft-internal/abc"
        ));
        assert!(!is_internal(b"anything", b""));
    }
}
