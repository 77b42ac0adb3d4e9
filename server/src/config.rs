//! Typed configuration: one TOML file (`--config`), then `UPDRAFT_<SECTION>__<KEY>`
//! environment overrides, then command-line flags. Unknown keys are rejected at
//! start with a message naming them.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use updraft_admin::access::{OidcSettings, PublicClient, Role, RoleMapping};

/// Everything `updraft start` and the component subcommands read.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The address HTTP (console) and gRPC (APIs) share.
    pub addr: SocketAddr,
    /// Where the embedded default keeps its database, object store and logs.
    pub data_dir: PathBuf,
    /// The web console and its backend-for-frontend.
    pub console: ConsoleConfig,
    /// `[database]`: the admin's relational store.
    pub database: DatabaseConfig,
    /// `[storage]`: the object store for inputs, outputs and uploaded code.
    pub storage: StorageConfig,
    /// `[propeller]`: how tasks run in this process.
    pub propeller: crate::propeller::PropellerConfig,
    /// `[admin]`: how the control plane's admin places executions.
    pub admin: AdminConfig,
    /// `[catalog]`: how the catalog serves `cache_serialize` reservations.
    pub catalog: CatalogConfig,
    /// `[scheduler]`: launching scheduled launch plans.
    pub scheduler: crate::scheduler::SchedulerConfig,
    /// `[auth]`: single sign-on. Absent, nobody logs in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthConfig>,
    /// Listen beyond loopback without `[auth]`: anyone who reaches the port
    /// can then upload code and run it as updraft's user. Default: false,
    /// and such an address is refused at start.
    pub allow_anonymous: bool,
}

/// `[auth]`: the OpenID provider every API call's token must come from, and
/// what its groups may do.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// The provider's issuer URL, exactly as in its tokens.
    pub issuer: String,
    /// The audience API access tokens carry. Default: `urn:updraft:api`.
    #[serde(default = "default_audience")]
    pub audience: String,
    /// Clock skew allowed on token expiry, in seconds. Default: 5.
    #[serde(default = "default_clock_skew")]
    pub allowed_clock_skew_secs: u64,
    /// The shortest time between two fetches of the provider's keys caused
    /// by tokens naming an unknown key, in seconds. Default: 10.
    #[serde(default = "default_jwks_refetch")]
    pub jwks_refetch_interval_secs: u64,
    /// `[auth.roles]`: group → `viewer`, `contributor` or `admin` in every project.
    #[serde(default)]
    pub roles: BTreeMap<String, Role>,
    /// `[auth.project_roles.PROJECT]`: group → role in one project, on top
    /// of `roles`.
    #[serde(default)]
    pub project_roles: BTreeMap<String, BTreeMap<String, Role>>,
    /// `[auth.public_client]`: what flytekit is told to log in with.
    #[serde(default)]
    pub public_client: PublicClientConfig,
    /// `[auth.console]`: how people log in to the console. Absent, the
    /// console cannot call the APIs, which all want a token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub console: Option<ConsoleLoginConfig>,
}

/// `[auth.console]`: the console's own client at the provider.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConsoleLoginConfig {
    /// The console's confidential client; its redirect URI at the provider
    /// is `PUBLIC_URL/auth/callback`, its post-logout one `PUBLIC_URL/auth/logged-out`.
    pub client_id: String,
    /// Better given as `UPDRAFT_AUTH__CONSOLE__CLIENT_SECRET` than in a file.
    pub client_secret: String,
    /// The origin people reach the console on (`https://updraft.example.com`).
    /// Default: this process's own address.
    #[serde(default)]
    pub public_url: Option<String>,
    /// Scopes asked for at login. Never `offline_access`: its grants outlive
    /// the provider's logout.
    #[serde(default = "default_console_scopes")]
    pub scopes: Vec<String>,
    /// The `resource` the access token is asked for (RFC 8707). Default: the
    /// API audience; empty for providers that select the API otherwise.
    #[serde(default)]
    pub resource: Option<String>,
    /// `memory` (this process only) or `database` (the `[database]`, so
    /// several consoles share sessions). Default: `memory`.
    #[serde(default)]
    pub sessions: SessionStoreKind,
    /// Keys that seal the session tokens `sessions = "database"` keeps, newest
    /// first, each the base64 of 32 random bytes: a TOML list, or one string
    /// separated by commas (`UPDRAFT_AUTH__CONSOLE__TOKEN_ENCRYPTION_KEYS`,
    /// better than a file). Required with `sessions = "database"`.
    #[serde(default)]
    pub token_encryption_keys: crate::login::token_encryption::TokenEncryptionKeys,
    /// Access tokens are refreshed when they expire within this many
    /// seconds. Default: 60.
    #[serde(default = "default_refresh_margin")]
    pub refresh_margin_secs: u64,
    /// A session unused for this many minutes ends. Default: 480.
    #[serde(default = "default_session_idle")]
    pub session_idle_minutes: u64,
}

impl std::fmt::Debug for ConsoleLoginConfig {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The client secret is never printed.
        formatter
            .debug_struct("ConsoleLoginConfig")
            .field("client_id", &self.client_id)
            .field("public_url", &self.public_url)
            .field("scopes", &self.scopes)
            .field("resource", &self.resource)
            .field("sessions", &self.sessions)
            .finish_non_exhaustive()
    }
}

/// Where console sessions are kept.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SessionStoreKind {
    #[default]
    Memory,
    Database,
}

fn default_console_scopes() -> Vec<String> {
    ["openid", "profile", "email", "groups"]
        .map(String::from)
        .to_vec()
}

fn default_refresh_margin() -> u64 {
    60
}

fn default_session_idle() -> u64 {
    480
}

/// `[auth.public_client]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct PublicClientConfig {
    /// The provider's public client for people on the command line.
    pub client_id: String,
    /// Its redirect URI (flytekit listens on `http://localhost:53593/callback`).
    pub redirect_uri: String,
    /// Scopes clients ask for.
    pub scopes: Vec<String>,
    /// An `audience` token parameter, for providers that select the API that way.
    pub audience: String,
}

fn default_audience() -> String {
    "urn:updraft:api".to_string()
}

fn default_clock_skew() -> u64 {
    5
}

fn default_jwks_refetch() -> u64 {
    10
}

impl AuthConfig {
    /// The role mapping of `[auth.roles]` and `[auth.project_roles]`.
    pub fn role_mapping(&self) -> RoleMapping {
        RoleMapping {
            default: self.roles.clone(),
            projects: self.project_roles.clone(),
        }
    }

    /// The admin's settings for this configuration.
    pub fn to_settings(&self) -> updraft_admin::auth::AuthSettings {
        let mut oidc = OidcSettings::new(self.issuer.clone(), self.audience.clone());
        oidc.leeway = Duration::from_secs(self.allowed_clock_skew_secs);
        oidc.jwks_refetch_interval = Duration::from_secs(self.jwks_refetch_interval_secs);
        oidc.roles = self.role_mapping();
        oidc.public_client = PublicClient {
            client_id: self.public_client.client_id.clone(),
            redirect_uri: self.public_client.redirect_uri.clone(),
            scopes: self.public_client.scopes.clone(),
            audience: self.public_client.audience.clone(),
        };
        updraft_admin::auth::AuthSettings::Oidc(Box::new(oidc))
    }
}

/// `[admin]`: how admin places executions on data planes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// The execution cluster label of executions that neither their launch
    /// request nor an `EXECUTION_CLUSTER_LABEL` attribute gives one: only
    /// propellers serving it (`propeller.labels`) run them. Default: none,
    /// and such executions go to any propeller.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_execution_cluster_label: Option<String>,
}

impl AdminConfig {
    /// Admin's setting for the default label: a blank one means none.
    pub fn default_execution_cluster_label(&self) -> Option<String> {
        self.default_execution_cluster_label
            .as_ref()
            .map(|label| label.trim().to_string())
            .filter(|label| !label.is_empty())
    }
}

/// `[catalog]`: datacatalog's reservation settings, under the same names.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CatalogConfig {
    /// The longest heartbeat a `cache_serialize` holder may ask for, in
    /// seconds (datacatalog's `max-reservation-heartbeat`). Default: 10.
    pub max_reservation_heartbeat_secs: u64,
    /// A reservation lapses this many heartbeats after its holder last
    /// extended it, so another run takes over from one that died
    /// (`heartbeat-grace-period-multiplier`). Default: 3.
    pub heartbeat_grace_period_multiplier: u32,
}

impl Default for CatalogConfig {
    fn default() -> Self {
        let defaults = updraft_catalog::CatalogSettings::default();
        Self {
            max_reservation_heartbeat_secs: defaults.max_reservation_heartbeat.as_secs(),
            heartbeat_grace_period_multiplier: defaults.heartbeat_grace_period_multiplier,
        }
    }
}

impl CatalogConfig {
    /// The catalog's settings; a zero would make every reservation lapse at once.
    pub fn settings(&self) -> Result<updraft_catalog::CatalogSettings, ConfigError> {
        if self.max_reservation_heartbeat_secs == 0 {
            return Err(ConfigError::Invalid(
                "key `catalog.max_reservation_heartbeat_secs`: must be at least 1".to_string(),
            ));
        }
        if self.heartbeat_grace_period_multiplier == 0 {
            return Err(ConfigError::Invalid(
                "key `catalog.heartbeat_grace_period_multiplier`: must be at least 1".to_string(),
            ));
        }
        Ok(updraft_catalog::CatalogSettings {
            max_reservation_heartbeat: Duration::from_secs(self.max_reservation_heartbeat_secs),
            heartbeat_grace_period_multiplier: self.heartbeat_grace_period_multiplier,
        })
    }
}

/// `[database]`: which database the control plane keeps its state in.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://PATH?mode=rwc` or `postgres://USER@HOST:PORT/DB`. Default: the
    /// SQLite file `DATA_DIR/updraft.db`.
    pub url: Option<String>,
}

impl DatabaseConfig {
    /// The configured URL, or the embedded SQLite file in `data_dir`.
    pub fn url_or_default(&self, data_dir: &std::path::Path) -> String {
        self.url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                data_dir.join("updraft.db").display()
            )
        })
    }
}

/// `[storage]`: where blobs live: a local folder or an S3 bucket.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// `local` (the folder `root`) or `s3` (the bucket `[storage.s3]`).
    pub kind: StorageKindConfig,
    /// The folder of the local object store. Default: `DATA_DIR/store`.
    pub root: Option<PathBuf>,
    /// `[storage.s3]`: the bucket, when `kind = "s3"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3: Option<updraft_storage::S3Settings>,
}

/// `storage.kind`.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum StorageKindConfig {
    #[default]
    Local,
    S3,
}

impl StorageConfig {
    /// The configured folder, or `store` in `data_dir`.
    pub fn root_or_default(&self, data_dir: &std::path::Path) -> PathBuf {
        self.root.clone().unwrap_or_else(|| data_dir.join("store"))
    }

    /// The store this configuration names.
    pub fn settings(
        &self,
        data_dir: &std::path::Path,
    ) -> Result<updraft_storage::StorageSettings, ConfigError> {
        match self.kind {
            StorageKindConfig::Local => Ok(updraft_storage::StorageSettings::Local {
                root: self.root_or_default(data_dir),
            }),
            StorageKindConfig::S3 => match &self.s3 {
                Some(s3) if !s3.bucket.trim().is_empty() => {
                    Ok(updraft_storage::StorageSettings::S3(s3.clone()))
                }
                _ => Err(ConfigError::Invalid(
                    "key `storage.s3.bucket`: storage.kind = \"s3\" needs a bucket".to_string(),
                )),
            },
        }
    }
}

/// `[console]`: where the console's static files are and which admin it fronts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleConfig {
    /// The built site (`pkg/` with the WASM, JS and CSS). Default: the `site`
    /// folder next to the binary's folder, where the build puts it.
    pub site_root: Option<PathBuf>,
    /// A flyteadmin-compatible gRPC endpoint (`http://host:port`) to front
    /// instead of this process's own admin.
    pub admin_endpoint: Option<String>,
    /// updraft's propeller API endpoint (`http://host:port`) that streams task
    /// logs into the console. Default: this process's own propeller when it
    /// runs one; otherwise logs are only linked, not shown inline.
    pub propeller_endpoint: Option<String>,
    /// updraft's catalog endpoint (`http://host:port`) the console evicts
    /// cached task results through. Default: the admin endpoint, where
    /// `updraft start` serves the catalog too; in split mode, the address
    /// of `updraft catalog`.
    pub catalog_endpoint: Option<String>,
    /// A PEM file of the certificate authority that signed the `https://`
    /// endpoints' certificates, when it is a private one; the public web
    /// authorities are trusted without it.
    pub ca_certificate: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8088)),
            data_dir: default_data_dir(),
            console: ConsoleConfig::default(),
            database: DatabaseConfig::default(),
            storage: StorageConfig::default(),
            propeller: crate::propeller::PropellerConfig::default(),
            admin: AdminConfig::default(),
            catalog: CatalogConfig::default(),
            scheduler: crate::scheduler::SchedulerConfig::default(),
            auth: None,
            allow_anonymous: false,
        }
    }
}

fn default_data_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".updraft")
}

/// Values given on the command line; they win over the file and the environment.
#[derive(Debug, Default, Serialize)]
pub struct CommandLineOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addr: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// `Some(true)` from `--allow-anonymous`; `None` leaves the file's and
    /// the environment's choice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_anonymous: Option<bool>,
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {path} does not exist")]
    MissingFile { path: PathBuf },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Loads defaults, then `file`, then the environment, then `overrides`.
    pub fn load(
        file: Option<&std::path::Path>,
        environment: impl IntoIterator<Item = (String, String)>,
        overrides: &CommandLineOverrides,
    ) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::MissingFile {
                    path: path.to_path_buf(),
                });
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment.merge(environment_overrides(environment));
        figment = figment.merge(Serialized::defaults(overrides));
        figment
            .extract()
            .map_err(|error| ConfigError::Invalid(describe(error)))
    }
}

/// `UPDRAFT_ADDR`, `UPDRAFT_DATA_DIR` and `UPDRAFT_ALLOW_ANONYMOUS` set top-level keys; `UPDRAFT_CONSOLE__SITE_ROOT`
/// sets a nested one. Other `UPDRAFT_*` variables (test settings such as
/// `UPDRAFT_TEST_POSTGRES`) are not configuration and are left alone.
fn environment_overrides(environment: impl IntoIterator<Item = (String, String)>) -> Figment {
    const TOP_LEVEL: &[&str] = &["ADDR", "DATA_DIR", "ALLOW_ANONYMOUS"];
    let selected: Vec<(String, String)> = environment
        .into_iter()
        .filter_map(|(name, value)| {
            let key = name.strip_prefix("UPDRAFT_")?;
            (key.contains("__") || TOP_LEVEL.contains(&key)).then(|| (key.to_string(), value))
        })
        .collect();
    let mut figment = Figment::new();
    for (key, value) in selected {
        let dotted = key.to_ascii_lowercase().replace("__", ".");
        // Parsed as the environment provider would: numbers and booleans typed,
        // anything else a string.
        let parsed: figment::value::Value = value.parse().unwrap_or_else(|never| match never {});
        figment =
            figment.merge(Serialized::default(&dotted, parsed).profile(figment::Profile::Default));
    }
    figment
}

fn describe(error: figment::Error) -> String {
    error
        .into_iter()
        .map(|error| {
            let path = error.path.join(".");
            let source = error
                .metadata
                .as_ref()
                .map(|metadata| format!(" (from {})", metadata.name))
                .unwrap_or_default();
            if path.is_empty() {
                format!("{}{source}", error.kind)
            } else {
                format!("key `{path}`: {}{source}", error.kind)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_and_storage_default_into_the_data_dir() {
        let config = Config::load(
            None,
            [("UPDRAFT_DATA_DIR".to_string(), "/srv/updraft".to_string())],
            &CommandLineOverrides::default(),
        )
        .unwrap();
        assert_eq!(
            config.database.url_or_default(&config.data_dir),
            "sqlite:///srv/updraft/updraft.db?mode=rwc"
        );
        assert_eq!(
            config.storage.root_or_default(&config.data_dir),
            PathBuf::from("/srv/updraft/store")
        );
    }

    #[test]
    fn allow_anonymous_comes_from_the_file_the_environment_or_the_flag() {
        let loaded = |environment: &[(&str, &str)], file: Option<&str>, flag: Option<bool>| {
            let directory = tempfile::tempdir().unwrap();
            let path = directory.path().join("updraft.toml");
            if let Some(text) = file {
                std::fs::write(&path, text).unwrap();
            }
            let environment = environment
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()));
            let overrides = CommandLineOverrides {
                allow_anonymous: flag,
                ..CommandLineOverrides::default()
            };
            Config::load(file.map(|_| path.as_path()), environment, &overrides)
                .unwrap()
                .allow_anonymous
        };
        assert!(!loaded(&[], None, None));
        assert!(loaded(&[], Some("allow_anonymous = true\n"), None));
        assert!(loaded(&[("UPDRAFT_ALLOW_ANONYMOUS", "true")], None, None));
        assert!(loaded(&[], None, Some(true)));
        // The environment wins over the file, as for every key.
        assert!(!loaded(
            &[("UPDRAFT_ALLOW_ANONYMOUS", "false")],
            Some("allow_anonymous = true\n"),
            None
        ));
    }

    #[test]
    fn token_encryption_keys_come_from_the_environment_separated_by_commas() {
        use crate::login::token_encryption::TokenEncryptionKeys;
        let directory = tempfile::tempdir().unwrap();
        let file = directory.path().join("updraft.toml");
        std::fs::write(
            &file,
            "[auth]\nissuer = \"https://login.example.com\"\n[auth.console]\n\
             client_id = \"console\"\nclient_secret = \"s\"\nsessions = \"database\"\n",
        )
        .unwrap();
        let newest = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";
        let older = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
        let environment = [(
            "UPDRAFT_AUTH__CONSOLE__TOKEN_ENCRYPTION_KEYS".to_string(),
            format!("{newest},{older}"),
        )];
        let config =
            Config::load(Some(&file), environment, &CommandLineOverrides::default()).unwrap();
        let console = config.auth.unwrap().console.unwrap();
        assert_eq!(
            console.token_encryption_keys,
            TokenEncryptionKeys::parse([newest, older]).unwrap()
        );
        let shown = format!("{console:?}");
        assert!(!shown.contains(newest) && !shown.contains(older), "{shown}");

        let environment = [(
            "UPDRAFT_AUTH__CONSOLE__TOKEN_ENCRYPTION_KEYS".to_string(),
            "dG9vIHNob3J0".to_string(),
        )];
        let error = Config::load(Some(&file), environment, &CommandLineOverrides::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("token_encryption_keys"), "{error}");
        assert!(!error.contains("dG9vIHNob3J0"), "{error}");
    }

    #[test]
    fn catalog_keys_are_read_and_a_zero_refused_naming_the_key() {
        let loaded = |name: &str, value: &str| {
            Config::load(
                None,
                [(name.to_string(), value.to_string())],
                &CommandLineOverrides::default(),
            )
            .unwrap()
            .catalog
            .settings()
        };
        let settings = loaded("UPDRAFT_CATALOG__MAX_RESERVATION_HEARTBEAT_SECS", "4").unwrap();
        assert_eq!(settings.max_reservation_heartbeat, Duration::from_secs(4));
        assert_eq!(settings.heartbeat_grace_period_multiplier, 3);
        let refused =
            loaded("UPDRAFT_CATALOG__HEARTBEAT_GRACE_PERIOD_MULTIPLIER", "0").unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("catalog.heartbeat_grace_period_multiplier"),
            "{refused}"
        );
    }

    #[test]
    fn database_and_storage_keys_are_read_and_unknown_ones_rejected() {
        let directory = tempfile::tempdir().unwrap();
        let file = directory.path().join("updraft.toml");
        std::fs::write(
            &file,
            "[database]\nurl = \"postgres://updraft@db:5432/updraft\"\n[storage]\nroot = \"/blobs\"\n",
        )
        .unwrap();
        let config = Config::load(Some(&file), [], &CommandLineOverrides::default()).unwrap();
        assert_eq!(
            config.database.url.as_deref(),
            Some("postgres://updraft@db:5432/updraft")
        );
        assert_eq!(config.storage.root, Some(PathBuf::from("/blobs")));

        std::fs::write(&file, "[database]\nhost = \"db\"\n").unwrap();
        let error = Config::load(Some(&file), [], &CommandLineOverrides::default()).unwrap_err();
        assert!(error.to_string().contains("database"), "{error}");
    }
}
