//! The console's single sign-on: the BFF logs people in at the OpenID
//! provider (authorization code with PKCE), keeps their tokens on the server
//! behind a session cookie, refreshes them before they expire, forwards the
//! access token on every API call and logs out at the provider too.
//!
//! The browser only ever holds the session cookie. State-changing requests
//! must come from the console's own pages (Fetch Metadata, else `Origin`).

mod provider;
pub mod token_encryption;
mod tokens;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use updraft_admin::access::RoleMapping;
use updraft_app::api::{BearerToken, SignedInUser};

pub use provider::Provider;
use tokens::RefreshLocks;
pub use tokens::TokenStore;

/// How long a started login may take before its callback is refused.
const LOGIN_LIFETIME_SECS: i64 = 600;
const PENDING_LOGIN: &str = "pending_login";
const SIGNED_IN: &str = "signed_in";

/// What the console's login needs to know.
pub struct LoginSettings {
    /// The provider's issuer URL, exactly as in its tokens.
    pub issuer: String,
    /// The console's (confidential) client at the provider.
    pub client_id: String,
    pub client_secret: String,
    /// The origin people reach the console on (`https://updraft.example.com`).
    pub public_origin: String,
    /// Scopes asked for at login.
    pub scopes: Vec<String>,
    /// The `resource` parameter (RFC 8707) that makes the provider issue an
    /// access token for the APIs; `None` for providers that need none.
    pub resource: Option<String>,
    /// Access tokens are refreshed when they expire within this long.
    pub refresh_margin: Duration,
    /// Group → role mapping, to show in the console what the APIs enforce.
    pub roles: RoleMapping,
    /// A session nobody used for this long ends.
    pub session_idle: Duration,
}

impl std::fmt::Debug for LoginSettings {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The client secret is never printed.
        formatter
            .debug_struct("LoginSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("public_origin", &self.public_origin)
            .field("scopes", &self.scopes)
            .field("resource", &self.resource)
            .finish_non_exhaustive()
    }
}

impl LoginSettings {
    fn callback_url(&self) -> String {
        format!("{}/auth/callback", self.public_origin)
    }

    fn logged_out_url(&self) -> String {
        format!("{}/auth/logged-out", self.public_origin)
    }

    /// Whether the session cookie may carry `Secure` and the `__Host-`
    /// prefix: over HTTPS, and on loopback, which browsers treat as secure.
    pub fn secure_cookie(&self) -> bool {
        let Some(rest) = self.public_origin.split_once("://") else {
            return false;
        };
        match rest {
            ("https", _) => true,
            ("http", host) => {
                let host = host.rsplit_once(':').map_or(host, |(host, _)| host);
                matches!(host, "127.0.0.1" | "[::1]" | "localhost")
            }
            _ => false,
        }
    }

    /// The session cookie's name.
    pub fn cookie_name(&self) -> &'static str {
        if self.secure_cookie() {
            "__Host-updraft"
        } else {
            "updraft-session"
        }
    }
}

/// Why a login, a session or a logout failed. Each maps to one HTTP status;
/// details that would help an attacker stay in the log.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("no login is in progress in this browser; start again")]
    NoLoginInProgress,
    #[error("the login took too long; start again")]
    LoginExpired,
    #[error("the login's state does not match this browser's login; start again")]
    StateMismatch,
    #[error("the login answer names another issuer than the configured provider")]
    IssuerMismatch,
    #[error("the provider refused the login: {0}")]
    Denied(String),
    #[error("{0}")]
    ProviderRefused(String),
    #[error("the ID token is not acceptable: {0}")]
    IdToken(String),
    #[error("the OpenID provider is unavailable: {0}")]
    ProviderUnavailable(String),
    #[error("the session has ended: {0}")]
    SessionOver(String),
    #[error("cannot store the session: {0}")]
    Storage(String),
    #[error("this request must come from the console's own pages")]
    CrossSite,
}

impl LoginError {
    fn status(&self) -> StatusCode {
        match self {
            LoginError::NoLoginInProgress
            | LoginError::LoginExpired
            | LoginError::StateMismatch
            | LoginError::IssuerMismatch => StatusCode::BAD_REQUEST,
            LoginError::Denied(_)
            | LoginError::ProviderRefused(_)
            | LoginError::IdToken(_)
            | LoginError::SessionOver(_) => StatusCode::UNAUTHORIZED,
            LoginError::ProviderUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            LoginError::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
            LoginError::CrossSite => StatusCode::FORBIDDEN,
        }
    }

    /// What the person is shown: the provider's and the store's details
    /// are logged, not displayed.
    fn public_message(&self) -> String {
        match self {
            LoginError::ProviderRefused(_) | LoginError::IdToken(_) => {
                "the login could not be completed; start again".to_string()
            }
            LoginError::ProviderUnavailable(_) => {
                "the sign-in service is unavailable right now; retry in a moment".to_string()
            }
            LoginError::Storage(_) => "the session could not be stored; retry".to_string(),
            other => other.to_string(),
        }
    }
}

impl From<tower_sessions::session::Error> for LoginError {
    fn from(error: tower_sessions::session::Error) -> Self {
        LoginError::Storage(error.to_string())
    }
}

impl IntoResponse for LoginError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() || matches!(self, LoginError::ProviderRefused(_)) {
            tracing::warn!(error = %self, "login failed");
        } else {
            tracing::info!(error = %self, "login refused");
        }
        let body = page(
            "Sign-in problem",
            &format!(
                "<p id=\"login-error\">{}</p><p><a href=\"/auth/login\">Sign in again</a></p>",
                escape(&self.public_message())
            ),
        );
        (status, [(header::CACHE_CONTROL, "no-store")], Html(body)).into_response()
    }
}

/// The access token, refresh token and expiry of one signed-in session.
#[derive(Clone)]
pub struct TokenSet {
    /// The bearer token API calls carry.
    pub access_token: String,
    /// What gets the next access token, if the provider gave one.
    pub refresh_token: Option<String>,
    /// Unix seconds.
    pub expires_at: i64,
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The tokens are never printed.
        formatter
            .debug_struct("TokenSet")
            .field("has_refresh_token", &self.refresh_token.is_some())
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Who signed in, from the verified ID token.
#[derive(Clone, Serialize, Deserialize)]
pub struct Profile {
    pub subject: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub groups: Vec<String>,
    /// Kept for the provider's logout (`id_token_hint`) only.
    pub id_token: String,
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The ID token is never printed.
        formatter
            .debug_struct("Profile")
            .field("subject", &self.subject)
            .field("name", &self.name)
            .field("email", &self.email)
            .field("groups", &self.groups)
            .finish_non_exhaustive()
    }
}

/// A login between the redirect to the provider and its callback.
#[derive(Serialize, Deserialize)]
struct PendingLogin {
    state: String,
    nonce: String,
    pkce_verifier: String,
    return_to: String,
    started_at: i64,
}

/// The session record of a signed-in person.
#[derive(Serialize, Deserialize)]
struct SignedIn {
    profile: Profile,
    /// Names the session's token set in the token store.
    handle: String,
}

/// The console's login: provider client, token store and settings.
pub struct Login {
    settings: Arc<LoginSettings>,
    provider: Provider,
    tokens: TokenStore,
    refresh_locks: RefreshLocks,
}

impl Login {
    pub async fn new(settings: LoginSettings, tokens: TokenStore) -> Result<Self, LoginError> {
        tokens.prepare().await?;
        let settings = Arc::new(settings);
        Ok(Self {
            provider: Provider::new(settings.clone()),
            settings,
            tokens,
            refresh_locks: RefreshLocks::default(),
        })
    }

    pub fn settings(&self) -> &LoginSettings {
        &self.settings
    }

    /// Removes token sets of sessions that ended without a logout.
    pub async fn forget_stale_tokens(&self, grace_secs: i64) -> Result<(), LoginError> {
        self.tokens.forget_stale(grace_secs).await
    }

    /// A current access token for the token set `handle`, refreshed first
    /// when it expires within the margin. One refresh per handle at a time,
    /// and whoever waited reads the refreshed set instead of refreshing again.
    async fn access_token(&self, handle: &str) -> Result<(String, Option<Profile>), LoginError> {
        let lock = self.refresh_locks.for_handle(handle);
        let _refreshing = lock.lock().await;
        let tokens = self
            .tokens
            .get(handle)
            .await?
            .ok_or_else(|| LoginError::SessionOver("its tokens are gone".into()))?;
        let margin = i64::try_from(self.settings.refresh_margin.as_secs()).unwrap_or(0);
        if tokens.expires_at - margin > unix_now() {
            return Ok((tokens.access_token, None));
        }
        let Some(refresh_token) = tokens.refresh_token.as_deref() else {
            self.tokens.delete(handle).await?;
            return Err(LoginError::SessionOver(
                "the access token expired and there is no refresh token".into(),
            ));
        };
        match self.provider.refresh(refresh_token).await {
            Ok((fresh, profile)) => {
                self.tokens.put(handle, &fresh).await?;
                tracing::debug!("refreshed a console session's access token");
                Ok((fresh.access_token, profile))
            }
            Err(error) => {
                // Never retried: a second use of a rotated-away refresh token
                // makes the provider revoke the whole grant.
                self.tokens.delete(handle).await?;
                Err(error)
            }
        }
    }

    /// The signed-in person of `session` with a current access token, or
    /// `None` when nobody is signed in (or the session just ended).
    async fn signed_in(&self, session: &Session) -> Result<Option<(SignedIn, String)>, LoginError> {
        let Some(mut signed_in) = session.get::<SignedIn>(SIGNED_IN).await? else {
            return Ok(None);
        };
        match self.access_token(&signed_in.handle).await {
            Ok((token, profile)) => {
                if let Some(mut profile) = profile {
                    // The provider's newest groups reach the console
                    // without a new login.
                    if profile.id_token.is_empty() {
                        profile.id_token = signed_in.profile.id_token.clone();
                    }
                    signed_in.profile = profile;
                    session.insert(SIGNED_IN, &signed_in).await?;
                }
                Ok(Some((signed_in, token)))
            }
            Err(LoginError::SessionOver(reason)) => {
                tracing::info!(%reason, "a console session ended");
                session.flush().await?;
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }

    fn user(&self, profile: &Profile) -> SignedInUser {
        let roles = &self.settings.roles;
        SignedInUser {
            subject: profile.subject.clone(),
            name: profile
                .name
                .clone()
                .unwrap_or_else(|| profile.subject.clone()),
            email: profile.email.clone(),
            groups: profile.groups.clone(),
            default_role: roles
                .role_in(&profile.groups, None)
                .map(|role| role.name().to_string()),
            project_roles: roles
                .roles_by_project(&profile.groups)
                .into_iter()
                .map(|(project, role)| (project, role.name().to_string()))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    /// A handle for long-lived streams to get current tokens while they run.
    fn token_source(self: &Arc<Self>, handle: &str) -> TokenSource {
        TokenSource {
            login: self.clone(),
            handle: handle.to_string(),
        }
    }
}

/// Gives a long-lived stream (live updates, log tails) a current access
/// token each time it calls an API, refreshing through the session's lock.
#[derive(Clone)]
pub struct TokenSource {
    login: Arc<Login>,
    handle: String,
}

impl TokenSource {
    /// A current access token, or why the session is over.
    pub async fn bearer(&self) -> Result<BearerToken, LoginError> {
        self.login
            .access_token(&self.handle)
            .await
            .map(|(token, _)| BearerToken(token))
    }
}

pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}

/// Compares two secrets without leaking where they differ.
pub(crate) fn same_secret(left: &str, right: &str) -> bool {
    use subtle::ConstantTimeEq;
    left.len() == right.len() && bool::from(left.as_bytes().ct_eq(right.as_bytes()))
}

/// A path of this site to return to after login; anything else (other
/// sites, scheme-relative `//host`, backslashes browsers read as slashes,
/// control characters) becomes `/`.
pub fn safe_return_to(candidate: Option<&str>) -> String {
    match candidate {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path.to_string()
        }
        _ => "/".to_string(),
    }
}

/// Where signed-in sessions are kept.
#[derive(Clone)]
pub enum SessionStore {
    Memory(tower_sessions::MemoryStore),
    Sqlite(tower_sessions_sqlx_store::SqliteStore),
    Postgres(tower_sessions_sqlx_store::PostgresStore),
}

/// Puts `router` behind the login: the session cookie, the login routes,
/// and [`require_session`] on the console's pages and API.
pub fn protect(router: Router, login: Arc<Login>, sessions: SessionStore) -> Router {
    let router =
        router
            .merge(login_router(login.clone()))
            .layer(axum::middleware::from_fn_with_state(
                login.clone(),
                require_session,
            ));
    let settings = login.settings();
    match sessions {
        SessionStore::Memory(store) => router.layer(session_layer(store, settings)),
        SessionStore::Sqlite(store) => router.layer(session_layer(store, settings)),
        SessionStore::Postgres(store) => router.layer(session_layer(store, settings)),
    }
}

fn session_layer<Store: tower_sessions::SessionStore + Clone>(
    store: Store,
    settings: &LoginSettings,
) -> tower_sessions::SessionManagerLayer<Store> {
    use tower_sessions::cookie::SameSite;
    // Lax, not Strict: the provider's redirect back to the callback is a
    // cross-site navigation, and Strict would leave the cookie behind.
    tower_sessions::SessionManagerLayer::new(store)
        .with_name(settings.cookie_name())
        .with_secure(settings.secure_cookie())
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_expiry(tower_sessions::Expiry::OnInactivity(
            tower_sessions::cookie::time::Duration::seconds(
                i64::try_from(settings.session_idle.as_secs()).unwrap_or(8 * 3600),
            ),
        ))
}

/// `/auth/login`, `/auth/callback`, `/auth/logout`, `/auth/logged-out`, `/auth/me`.
pub fn login_router<S: Clone + Send + Sync + 'static>(login: Arc<Login>) -> Router<S> {
    Router::new()
        .route("/auth/login", get(start_login))
        .route("/auth/callback", get(finish_login))
        .route("/auth/logout", post(logout))
        .route("/auth/logged-out", get(logged_out))
        .route("/auth/me", get(me))
        .with_state(login)
}

#[derive(Deserialize)]
struct LoginQuery {
    return_to: Option<String>,
}

async fn start_login(
    State(login): State<Arc<Login>>,
    session: Session,
    Query(query): Query<LoginQuery>,
) -> Result<Response, LoginError> {
    let return_to = safe_return_to(query.return_to.as_deref());
    if login.signed_in(&session).await?.is_some() {
        return Ok(Redirect::to(&return_to).into_response());
    }
    let start = login.provider.start().await?;
    session
        .insert(
            PENDING_LOGIN,
            PendingLogin {
                state: start.state,
                nonce: start.nonce,
                pkce_verifier: start.pkce_verifier,
                return_to,
                started_at: unix_now(),
            },
        )
        .await?;
    Ok(no_store(Redirect::to(&start.url)))
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn finish_login(
    State(login): State<Arc<Login>>,
    session: Session,
    Query(callback): Query<CallbackQuery>,
) -> Result<Response, LoginError> {
    // Single use whatever happens next: a failed or replayed callback
    // cannot be tried again with the same state.
    let pending = session
        .remove::<PendingLogin>(PENDING_LOGIN)
        .await?
        .ok_or(LoginError::NoLoginInProgress)?;
    if unix_now() - pending.started_at > LOGIN_LIFETIME_SECS {
        return Err(LoginError::LoginExpired);
    }
    if !callback
        .state
        .as_deref()
        .is_some_and(|state| same_secret(state, &pending.state))
    {
        return Err(LoginError::StateMismatch);
    }
    if let Some(error) = callback.error {
        let description = callback.error_description.unwrap_or_default();
        return Err(LoginError::Denied(
            format!("{error} {description}").trim().to_string(),
        ));
    }
    // RFC 9207: an answer that names another issuer is a mix-up attack.
    if let Some(issuer) = &callback.iss
        && issuer.trim_end_matches('/') != login.settings.issuer.trim_end_matches('/')
    {
        return Err(LoginError::IssuerMismatch);
    }
    let code = callback
        .code
        .ok_or_else(|| LoginError::ProviderRefused("the callback carries no code".into()))?;
    let (tokens, profile) = login
        .provider
        .finish(code, pending.pkce_verifier, &pending.nonce)
        .await?;
    // A session id planted before the login never becomes a signed-in one.
    session.cycle_id().await?;
    let handle = random_token();
    login.tokens.put(&handle, &tokens).await?;
    tracing::info!(subject = %profile.subject, "signed in to the console");
    session
        .insert(SIGNED_IN, SignedIn { profile, handle })
        .await?;
    Ok(no_store(Redirect::to(&pending.return_to)))
}

async fn logout(State(login): State<Arc<Login>>, session: Session) -> Result<Response, LoginError> {
    let signed_in = session.get::<SignedIn>(SIGNED_IN).await?;
    session.flush().await?;
    let Some(signed_in) = signed_in else {
        return Ok(no_store(Redirect::to("/auth/logged-out")));
    };
    if let Some(tokens) = login.tokens.get(&signed_in.handle).await?
        && let Some(refresh_token) = tokens.refresh_token
    {
        login.provider.revoke(&refresh_token).await;
    }
    login.tokens.delete(&signed_in.handle).await?;
    tracing::info!(subject = %signed_in.profile.subject, "signed out of the console");
    let target = login
        .provider
        .end_session_url(&signed_in.profile.id_token, &random_token())
        .await
        .unwrap_or_else(|| "/auth/logged-out".to_string());
    Ok(no_store(Redirect::to(&target)))
}

async fn logged_out() -> Response {
    no_store(Html(page(
        "Signed out",
        "<p id=\"logged-out\">You have signed out of updraft.</p>\
         <p><a href=\"/auth/login\">Sign in again</a></p>",
    )))
}

async fn me(State(login): State<Arc<Login>>, session: Session) -> Result<Response, LoginError> {
    match login.signed_in(&session).await? {
        Some((signed_in, _)) => Ok(no_store(axum::Json(login.user(&signed_in.profile)))),
        None => Err(LoginError::SessionOver("nobody is signed in".into())),
    }
}

/// Whether `path` needs a signed-in person: the console's pages, its API
/// (server functions, live streams, task logs). Static assets, health, the
/// login routes and signed data-proxy URLs (the signature is their
/// credential; flytekit uploads through them) do not.
fn needs_session(path: &str) -> bool {
    path == "/"
        || path == "/console"
        || path.starts_with("/console/")
        || (path.starts_with("/api/") && !path.starts_with("/api/v1/dataproxy/"))
}

/// Requires a signed-in session on the console's pages and API and hands
/// the handlers the person and a current access token; refuses
/// state-changing requests that do not come from the console's own pages.
pub async fn require_session(
    State(login): State<Arc<Login>>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_string();
    let state_changing = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if state_changing
        && (needs_session(&path) || path.starts_with("/auth/"))
        && !same_origin(request.headers(), &login.settings.public_origin)
    {
        return LoginError::CrossSite.into_response();
    }
    if !needs_session(&path) {
        return next.run(request).await;
    }
    match login.signed_in(&session).await {
        Ok(Some((signed_in, token))) => {
            let extensions = request.extensions_mut();
            extensions.insert(BearerToken(token));
            extensions.insert(login.user(&signed_in.profile));
            extensions.insert(login.token_source(&signed_in.handle));
            next.run(request).await
        }
        Ok(None) => not_signed_in(&request),
        Err(error) => error.into_response(),
    }
}

/// Pages send the person to log in and come back; API calls get 401 with
/// the console's error, which the page shows with a sign-in link.
fn not_signed_in(request: &Request) -> Response {
    let path = request.uri().path();
    if path.starts_with("/api/") || request.method() != Method::GET {
        let body = serde_json::to_string(&updraft_app::error::ConsoleError::NotSignedIn)
            .unwrap_or_default();
        return (
            StatusCode::UNAUTHORIZED,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response();
    }
    let return_to = request
        .uri()
        .path_and_query()
        .map_or("/", |path| path.as_str());
    let target = format!("/auth/login?return_to={}", encode_query_value(return_to));
    no_store(Redirect::to(&target))
}

/// Fetch Metadata first; browsers that send none must send an `Origin`
/// equal to the console's. A request with neither is refused: the console's
/// API serves browsers, and programs call the gRPC APIs.
fn same_origin(headers: &HeaderMap, public_origin: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return site.as_bytes() == b"same-origin";
    }
    headers
        .get(header::ORIGIN)
        .is_some_and(|origin| origin.as_bytes() == public_origin.as_bytes())
}

fn no_store(response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

fn random_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

fn encode_query_value(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{title} · updraft</title></head>\
         <body style=\"font-family:system-ui;max-width:32rem;margin:4rem auto\">\
         <h1>{title}</h1>{body}</body></html>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_to_keeps_only_paths_of_this_site() {
        for hostile in [
            "//evil.example/x",
            "/\\evil.example",
            "https://evil.example/",
            "evil",
            "/a\\b",
            "/a\nb",
            "/a\tb",
            "",
        ] {
            assert_eq!(safe_return_to(Some(hostile)), "/", "{hostile:?}");
        }
        assert_eq!(safe_return_to(None), "/");
        assert_eq!(
            safe_return_to(Some("/console/projects/x?view=graph")),
            "/console/projects/x?view=graph"
        );
    }

    #[test]
    fn secure_cookies_over_https_and_loopback_only() {
        let settings = |origin: &str| LoginSettings {
            issuer: String::new(),
            client_id: String::new(),
            client_secret: String::new(),
            public_origin: origin.to_string(),
            scopes: Vec::new(),
            resource: None,
            refresh_margin: Duration::ZERO,
            roles: RoleMapping::default(),
            session_idle: Duration::from_secs(3600),
        };
        assert!(settings("https://updraft.example.com").secure_cookie());
        assert!(settings("http://127.0.0.1:8088").secure_cookie());
        assert!(settings("http://localhost:8088").secure_cookie());
        assert!(!settings("http://updraft.internal:8088").secure_cookie());
        assert_eq!(
            settings("https://updraft.example.com").cookie_name(),
            "__Host-updraft"
        );
    }

    #[test]
    fn state_changes_need_the_consoles_own_origin() {
        let origin = "http://127.0.0.1:8088";
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut headers = HeaderMap::new();
            for (name, value) in pairs {
                headers.insert(*name, value.parse().unwrap());
            }
            headers
        };
        assert!(same_origin(
            &headers(&[("sec-fetch-site", "same-origin")]),
            origin
        ));
        assert!(!same_origin(
            &headers(&[("sec-fetch-site", "cross-site"), ("origin", origin)]),
            origin
        ));
        assert!(!same_origin(
            &headers(&[("sec-fetch-site", "same-site")]),
            origin
        ));
        assert!(same_origin(&headers(&[("origin", origin)]), origin));
        assert!(!same_origin(
            &headers(&[("origin", "http://evil.example")]),
            origin
        ));
        assert!(!same_origin(&headers(&[]), origin));
    }
}
