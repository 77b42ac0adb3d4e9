//! Turns `[auth.console]` into the console's login: settings, the session
//! and token stores, and their periodic clean-up.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tower_sessions::ExpiredDeletion;

use crate::config::{AuthConfig, ConsoleLoginConfig, SessionStoreKind};
use crate::login::token_encryption::TokenCipher;
use crate::login::{Login, LoginSettings, SessionStore, TokenStore, protect};
use crate::startup::StartupError;

/// How often expired sessions and forgotten token sets are removed.
const CLEAN_UP_INTERVAL: Duration = Duration::from_secs(600);

pub(crate) async fn protect_console(
    http: Router,
    auth: &AuthConfig,
    console: &ConsoleLoginConfig,
    database_url: &str,
    local_addr: SocketAddr,
) -> Result<Router, StartupError> {
    let public_origin = console
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", crate::flytekit_config::dialable(local_addr)))
        .trim_end_matches('/')
        .to_string();
    let resource = match console.resource.as_deref() {
        None => Some(auth.audience.clone()),
        Some("") => None,
        Some(resource) => Some(resource.to_string()),
    };
    if console.scopes.iter().any(|scope| scope == "offline_access") {
        return Err(StartupError::Login(
            "[auth.console] scopes must not ask for offline_access: its grants survive the provider's logout".into(),
        ));
    }
    let settings = LoginSettings {
        issuer: auth.issuer.clone(),
        client_id: console.client_id.clone(),
        client_secret: console.client_secret.clone(),
        public_origin,
        scopes: console.scopes.clone(),
        resource,
        refresh_margin: Duration::from_secs(console.refresh_margin_secs),
        roles: auth.role_mapping(),
        session_idle: Duration::from_secs(console.session_idle_minutes.saturating_mul(60)),
    };
    let login_error = |error: crate::login::LoginError| StartupError::Login(error.to_string());
    let database_error = |error: sqlx::Error| {
        StartupError::Login(format!("cannot open the session database: {error}"))
    };
    let (sessions, tokens) = match console.sessions {
        SessionStoreKind::Memory => (
            SessionStore::Memory(tower_sessions::MemoryStore::default()),
            TokenStore::Memory(Default::default()),
        ),
        SessionStoreKind::Database => {
            let cipher = TokenCipher::new(&console.token_encryption_keys).ok_or_else(|| {
                StartupError::Login(
                    "sessions = \"database\" needs auth.console.token_encryption_keys \
                     (better: UPDRAFT_AUTH__CONSOLE__TOKEN_ENCRYPTION_KEYS), one or more keys \
                     of 32 random bytes in base64, newest first: make one with \
                     `openssl rand -base64 32`"
                        .into(),
                )
            })?;
            if database_url.starts_with("postgres") {
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(4)
                    .connect(database_url)
                    .await
                    .map_err(database_error)?;
                let store = tower_sessions_sqlx_store::PostgresStore::new(pool.clone());
                store.migrate().await.map_err(database_error)?;
                (
                    SessionStore::Postgres(store),
                    TokenStore::Postgres { pool, cipher },
                )
            } else {
                let pool = sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(4)
                    .connect(database_url)
                    .await
                    .map_err(database_error)?;
                let store = tower_sessions_sqlx_store::SqliteStore::new(pool.clone());
                store.migrate().await.map_err(database_error)?;
                (
                    SessionStore::Sqlite(store),
                    TokenStore::Sqlite { pool, cipher },
                )
            }
        }
    };
    let login = Arc::new(Login::new(settings, tokens).await.map_err(login_error)?);
    spawn_clean_up(login.clone(), &sessions, console.session_idle_minutes);
    tracing::info!(client_id = %console.client_id, issuer = %auth.issuer, "console login on");
    Ok(protect(http, login, sessions))
}

fn spawn_clean_up(login: Arc<Login>, sessions: &SessionStore, idle_minutes: u64) {
    let sessions = sessions.clone();
    let grace = i64::try_from(idle_minutes.saturating_mul(60)).unwrap_or(i64::MAX / 2);
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(CLEAN_UP_INTERVAL);
        loop {
            ticks.tick().await;
            // The memory store drops expired sessions as they are read.
            let deleted = match &sessions {
                SessionStore::Memory(_) => Ok(()),
                SessionStore::Sqlite(store) => store.delete_expired().await,
                SessionStore::Postgres(store) => store.delete_expired().await,
            };
            if let Err(error) = deleted {
                tracing::warn!(%error, "could not remove expired console sessions");
            }
            if let Err(error) = login.forget_stale_tokens(grace).await {
                tracing::warn!(%error, "could not remove stale console tokens");
            }
        }
    });
}
