//! Assembles the components into one process on one address.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Router;
use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::serve::ListenerExt;
use leptos::prelude::LeptosOptions;
use tokio::net::TcpListener;
use tower::ServiceExt;
use updraft_admin::{AdminApi, AdminSettings, OpenError};
use updraft_app::api::ApiClients;

use crate::config::Config;
use crate::console::{ConsoleState, console_router};
use crate::flytekit_config::write_flytekit_config;
use crate::grpc::grpc_router;
use crate::health::Health;
use crate::live::Stopping;

/// Why updraft could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot prepare the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid admin endpoint {endpoint}: {reason}")]
    AdminEndpoint { endpoint: String, reason: String },
    #[error("invalid propeller endpoint {endpoint}: {reason}")]
    PropellerEndpoint { endpoint: String, reason: String },
    #[error("invalid catalog endpoint {endpoint}: {reason}")]
    CatalogEndpoint { endpoint: String, reason: String },
    #[error("cannot read the console's CA certificate {path}: {source}")]
    CaCertificate {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the admin's storage: {source}")]
    AdminStorage {
        #[source]
        source: OpenError,
    },
    #[error("cannot open the catalog's storage: {source}")]
    CatalogStorage {
        #[source]
        source: updraft_catalog::OpenError,
    },
    #[error("cannot open the scheduler's database: {source}")]
    SchedulerStorage {
        #[source]
        source: updraft_scheduler::StoreError,
    },
    #[error("{source}")]
    Storage {
        #[source]
        source: updraft_storage::StorageError,
    },
    #[error("invalid configuration: {0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("`{key}` is required: {why}")]
    MissingSetting {
        key: &'static str,
        why: &'static str,
    },
    #[error("cannot set up the console's login: {0}")]
    Login(String),
    #[error(transparent)]
    AnonymousExposure(#[from] crate::exposure::AnonymousExposureRefused),
}

/// How long the console waits to connect to an API endpoint.
const API_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// How long the console waits for an API call's answer to begin.
const API_CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// How long a stopping server waits for requests still open before it
/// stops without them.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);
/// How long a stopping scheduler may take to give its lease up (one
/// statement) before the server stops without it.
const SCHEDULER_STOP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The endpoint the console calls an API on: `http://` as it is, `https://`
/// with TLS trusting the public web authorities, or `ca_certificate` instead
/// when one is configured (a private CA).
fn api_channel(
    endpoint: &str,
    ca_certificate: Option<&tonic::transport::Certificate>,
) -> Result<tonic::transport::Endpoint, String> {
    let channel = tonic::transport::Endpoint::from_shared(endpoint.to_string())
        .map_err(|error| error.to_string())?
        .connect_timeout(API_CONNECT_TIMEOUT);
    let scheme = channel.uri().scheme_str().unwrap_or_default();
    match scheme {
        "http" => Ok(channel),
        "https" => {
            let tls = match ca_certificate {
                Some(certificate) => {
                    tonic::transport::ClientTlsConfig::new().ca_certificate(certificate.clone())
                }
                None => tonic::transport::ClientTlsConfig::new().with_webpki_roots(),
            };
            channel.tls_config(tls).map_err(|error| error.to_string())
        }
        other => Err(format!("the scheme must be http or https, not {other:?}")),
    }
}

/// Which components one process runs: all of them (`updraft start`) or one
/// (`updraft admin`, `updraft catalog`, `updraft scheduler`, `updraft propeller`,
/// `updraft console`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Components {
    /// Console, admin and (unless `propeller.enabled = false`) a propeller.
    All,
    /// Admin alone: Flyte's APIs and the signed-URL routes.
    Admin,
    /// The catalog alone: Flyte's DataCatalog (task caching) and eviction.
    Catalog,
    /// The scheduler alone, launching through `scheduler.admin_endpoint`.
    Scheduler,
    /// A propeller alone, dialling out to `propeller.admin_endpoint`.
    Propeller,
    /// The console alone, fronting `console.admin_endpoint`.
    Console,
}

impl Components {
    fn runs_admin(self) -> bool {
        matches!(self, Self::All | Self::Admin)
    }

    fn runs_catalog(self) -> bool {
        matches!(self, Self::All | Self::Catalog)
    }

    fn runs_propeller(self, config: &Config) -> bool {
        match self {
            Self::All => config.propeller.enabled,
            Self::Propeller => true,
            Self::Admin | Self::Catalog | Self::Scheduler | Self::Console => false,
        }
    }

    fn runs_scheduler(self, config: &Config) -> bool {
        match self {
            Self::All => config.scheduler.enabled,
            Self::Scheduler => true,
            Self::Admin | Self::Catalog | Self::Propeller | Self::Console => false,
        }
    }

    fn runs_console(self) -> bool {
        matches!(self, Self::All | Self::Console)
    }

    /// How the component calls itself in messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::All => "updraft",
            Self::Admin => "admin",
            Self::Catalog => "catalog",
            Self::Scheduler => "scheduler",
            Self::Propeller => "propeller",
            Self::Console => "console",
        }
    }
}

/// A started (bound) updraft; call [`Application::run_until_stopped`] to serve.
pub struct Application {
    listener: TcpListener,
    local_addr: SocketAddr,
    router: Router,
    components: Components,
    flytekit_config_path: Option<PathBuf>,
    propeller: Option<updraft_propeller::engine::Propeller>,
    scheduler: Option<updraft_scheduler::Scheduler>,
    health: Health,
    stop: tokio::sync::watch::Sender<bool>,
}

impl Application {
    /// Binds the listener, prepares storage and builds every component.
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        Self::build_components(config, Components::All).await
    }

    /// Binds the listener and builds the components `components` names,
    /// each on the stores and endpoints the configuration gives it.
    pub async fn build_components(
        config: Config,
        components: Components,
    ) -> Result<Self, StartupError> {
        // Before anything listens: no door opened by accident.
        crate::exposure::check_exposure(&config)?;
        install_crypto_provider();
        let listener =
            TcpListener::bind(config.addr)
                .await
                .map_err(|source| StartupError::Bind {
                    addr: config.addr,
                    source,
                })?;
        let local_addr = listener.local_addr().map_err(|source| StartupError::Bind {
            addr: config.addr,
            source,
        })?;
        std::fs::create_dir_all(&config.data_dir).map_err(|source| StartupError::DataDir {
            path: config.data_dir.clone(),
            source,
        })?;
        let own_address = format!("http://{}", crate::flytekit_config::dialable(local_addr));
        // Only the all-in-one process is where flytekit users point.
        let flytekit_config_path = if components == Components::All {
            Some(
                write_flytekit_config(&config.data_dir, local_addr).map_err(|source| {
                    StartupError::DataDir {
                        path: config.data_dir.clone(),
                        source,
                    }
                })?,
            )
        } else {
            None
        };
        let health = Health::default();
        let ca_certificate = read_ca_certificate(&config)?;

        let storage = if components.runs_admin()
            || components.runs_catalog()
            || components.runs_propeller(&config)
        {
            Some(open_storage(&config, &health).await?)
        } else {
            None
        };

        let admin = match (&storage, components.runs_admin()) {
            (Some(storage), true) => {
                let admin = open_admin(&config, storage.clone(), &own_address).await?;
                let store = admin.store().clone();
                health.add_probe("database", move || {
                    let store = store.clone();
                    async move { store.ping().await.map_err(|error| error.to_string()) }
                });
                Some(admin)
            }
            _ => None,
        };
        let catalog = match (&storage, components.runs_catalog()) {
            (Some(storage), true) => {
                Some(open_catalog(&config, storage.clone(), admin.as_ref(), &health).await?)
            }
            _ => None,
        };
        // Token checks: admin's own, or, for a propeller or catalog on its
        // own, the same checks over the same provider, so its API is not open.
        let access = match &admin {
            Some(admin) => admin.access(),
            None => config
                .auth
                .as_ref()
                .and_then(|auth| match auth.to_settings() {
                    updraft_admin::auth::AuthSettings::Oidc(oidc) => {
                        Some(std::sync::Arc::new(updraft_admin::access::Access::new(
                            *oidc,
                            format!(
                                "updraft-internal/{}",
                                hex::encode(rand::random::<[u8; 32]>())
                            ),
                        )))
                    }
                    _ => None,
                }),
        };
        let upload_routes = admin
            .as_ref()
            .map(|admin| admin.upload_router())
            .unwrap_or_default();

        let data_plane = match (&storage, components.runs_propeller(&config)) {
            (Some(storage), true) => {
                let admin_channel = admin_channel(
                    admin.as_ref(),
                    &own_address,
                    ConfiguredAdmin {
                        key: "propeller.admin_endpoint",
                        endpoint: config.propeller.admin_endpoint.as_deref(),
                        why: "a propeller of its own claims executions from an admin",
                    },
                    ca_certificate.as_ref(),
                    &health,
                )?;
                let mut plane = crate::propeller::local_data_plane(
                    &config.propeller,
                    &config.data_dir,
                    storage.clone(),
                    admin_channel.clone(),
                    own_address.clone(),
                );
                plane.propeller = plane.propeller.with_task_cache(task_cache(
                    &config,
                    catalog.as_ref(),
                    admin_channel,
                    ca_certificate.as_ref(),
                )?);
                Some(plane)
            }
            _ => None,
        };
        let scheduler = if components.runs_scheduler(&config) {
            Some(
                open_scheduler(
                    &config,
                    admin.as_ref(),
                    &own_address,
                    ca_certificate.as_ref(),
                    &health,
                )
                .await?,
            )
        } else {
            None
        };
        let (grpc, _health_reporter) = grpc_router(
            admin,
            data_plane.as_ref().map(|plane| plane.api.clone()),
            catalog,
            access,
        )
        .await;
        let log_routes = data_plane
            .as_ref()
            .map(|plane| crate::propeller::log_router(plane.logs.clone()))
            .unwrap_or_default();

        let (stop, stopping) = Stopping::channel();
        let mut http = if components.runs_console() {
            let console = build_console(
                &config,
                components,
                &own_address,
                data_plane.is_some(),
                ca_certificate.as_ref(),
                &health,
                local_addr,
                flytekit_config_path.as_deref(),
                stopping,
            )?;
            console.merge(upload_routes).merge(log_routes)
        } else {
            upload_routes.merge(log_routes)
        };
        http = http.merge(crate::metrics::metrics_router());
        if components.runs_console() {
            match config
                .auth
                .as_ref()
                .map(|auth| (auth, auth.console.as_ref()))
            {
                Some((auth, Some(console_login))) => {
                    http = crate::login_setup::protect_console(
                        http,
                        auth,
                        console_login,
                        &config.database.url_or_default(&config.data_dir),
                        local_addr,
                    )
                    .await?;
                }
                Some((_, None)) => tracing::warn!(
                    "[auth] is on without [auth.console]: nobody can log in to the console, and its API calls are refused"
                ),
                None => {}
            }
        }
        // Health answers whatever the login would say: probes come first.
        let http = crate::health::health_router(health.clone()).merge(http);

        health.set_started();
        Ok(Self {
            listener,
            local_addr,
            router: route_by_content_type(grpc, http),
            components,
            flytekit_config_path,
            propeller: data_plane.map(|plane| plane.propeller),
            scheduler,
            health,
            stop,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Where the flytekit configuration for this instance was written
    /// (`updraft start` only).
    pub fn flytekit_config_path(&self) -> Option<&std::path::Path> {
        self.flytekit_config_path.as_deref()
    }

    /// Tells the person at the terminal where things are.
    pub fn print_welcome(&self) {
        let addr = crate::flytekit_config::dialable(self.local_addr);
        match self.components {
            Components::All => {
                println!("updraft is running");
                println!("  console:  http://{addr}/console");
                println!("  gRPC:     {addr} (plaintext, same port)");
                if let Some(path) = &self.flytekit_config_path {
                    println!(
                        "  flytekit: pyflyte --config {} run --remote <file.py> <workflow>",
                        path.display()
                    );
                }
            }
            Components::Console => {
                println!("updraft console is running");
                println!("  console:  http://{addr}/console");
            }
            component => {
                println!("updraft {} is running", component.name());
                println!("  gRPC and HTTP: {addr} (plaintext, same port)");
            }
        }
        println!("  health:   http://{addr}/healthz   metrics: http://{addr}/metrics");
    }

    /// Serves until Ctrl-C or SIGTERM.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `shutdown` completes. Embedders (and tests) pass their own
    /// signal so that the process's SIGTERM stays theirs.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!(addr = %self.local_addr, "serving console and gRPC");
        let stop = self.stop;
        let mut stopped = stop.subscribe();
        let (engine_stopped_sender, engine_stopped) = tokio::sync::oneshot::channel::<String>();
        let propeller = self.propeller.map(|propeller| {
            let (stop_engine, engine_stop) = tokio::sync::oneshot::channel::<()>();
            let (engine_done, engine_finished) = tokio::sync::oneshot::channel::<()>();
            let engine = tokio::spawn(propeller.run_until(async move {
                let _ = engine_stop.await;
            }));
            let health = self.health.clone();
            let stopping = stop.subscribe();
            tokio::spawn(async move {
                let result = engine.await;
                if *stopping.borrow() {
                    // Stopped on purpose: its executions are handed back.
                    let _ = engine_done.send(());
                    return;
                }
                // The engine runs until the process stops; ending (or
                // panicking) before that leaves a server with no data plane.
                let reason = match result {
                    Ok(()) => "the propeller's engine stopped".to_string(),
                    Err(error) => format!("the propeller's engine panicked: {error}"),
                };
                tracing::error!(reason, "data plane lost");
                health.set_failed(format!("propeller: {reason}"));
                let _ = engine_stopped_sender.send(reason);
            });
            (stop_engine, engine_finished)
        });
        let scheduler = self.scheduler.map(|scheduler| {
            let (stop_scheduler, scheduler_stop) = tokio::sync::oneshot::channel::<()>();
            let finished = tokio::spawn(scheduler.run_until(async move {
                let _ = scheduler_stop.await;
            }));
            (stop_scheduler, finished)
        });
        let signal = async move {
            shutdown.await;
            // Open pages' live streams end, and no new executions are
            // claimed. The running ones stop and are handed back to admin
            // (still serving meanwhile), so the next start continues them at
            // once; the engine bounds how long that takes.
            stop.send_replace(true);
            if let Some((stop_engine, engine_finished)) = propeller {
                let _ = stop_engine.send(());
                let _ = engine_finished.await;
            }
            // A launch under way is dropped; its time is launched again at
            // the next start, and admin refuses it if it had landed. The
            // lease is given up so a restart (or another scheduler) leads
            // at once instead of when it runs out.
            if let Some((stop_scheduler, finished)) = scheduler {
                let _ = stop_scheduler.send(());
                let _ = tokio::time::timeout(SCHEDULER_STOP_TIMEOUT, finished).await;
            }
        };
        // Without TCP_NODELAY a response written in several pieces waits on
        // the client's delayed ACK: about 40 ms added to every list call.
        let listener = self.listener.tap_io(|stream| {
            if let Err(error) = stream.set_nodelay(true) {
                tracing::warn!(%error, "could not set TCP_NODELAY");
            }
        });
        let serving = axum::serve(listener, self.router)
            .with_graceful_shutdown(signal)
            .into_future();
        // A client holding a stream open (`pyflyte` tailing, another
        // console's watch) must not keep the process from stopping.
        let grace_over = async move {
            if stopped.wait_for(|stopping| *stopping).await.is_err() {
                // Never signalled: the server runs on.
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        };
        let engine_lost = async move {
            match engine_stopped.await {
                Ok(reason) => reason,
                // No engine here, or it was stopped on purpose.
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            result = serving => result,
            reason = engine_lost => Err(std::io::Error::other(reason)),
            () = grace_over => {
                tracing::warn!(
                    grace = ?SHUTDOWN_GRACE,
                    "requests still open after the shutdown grace period; stopping without them"
                );
                Ok(())
            }
        }
    }
}

/// Two TLS crypto providers are linked in (ring for gRPC, aws-lc-rs for the
/// S3 client); rustls uses neither until one is the process default.
fn install_crypto_provider() {
    // A second call (tests build many servers) finds it installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Opens the configured object store and checks it answers: a wrong
/// endpoint, bucket or key stops start-up naming the key.
async fn open_storage(
    config: &Config,
    health: &Health,
) -> Result<updraft_storage::Storage, StartupError> {
    let settings = config.storage.settings(&config.data_dir)?;
    let storage = updraft_storage::Storage::open(&settings)
        .map_err(|source| StartupError::Storage { source })?;
    storage
        .check()
        .await
        .map_err(|source| StartupError::Storage { source })?;
    tracing::info!(store = storage.base_uri(), "object store ready");
    if storage.kind() == updraft_storage::StorageKind::S3 {
        let probed = storage.clone();
        health.add_probe("object store", move || {
            let storage = probed.clone();
            async move { storage.check().await.map_err(|error| error.to_string()) }
        });
    }
    Ok(storage)
}

async fn open_admin(
    config: &Config,
    storage: updraft_storage::Storage,
    own_address: &str,
) -> Result<AdminApi, StartupError> {
    let mut settings = AdminSettings::new(own_address.to_string());
    if let Some(auth) = &config.auth {
        settings.auth = auth.to_settings();
    }
    settings.default_execution_cluster_label = config.admin.default_execution_cluster_label();
    AdminApi::open_with_storage(
        &config.database.url_or_default(&config.data_dir),
        storage,
        settings,
    )
    .await
    .map_err(|source| StartupError::AdminStorage { source })
}

/// The catalog: on admin's pool when this process runs admin (one database,
/// one pool), else on its own connection to `[database]`, ready while that
/// answers.
async fn open_catalog(
    config: &Config,
    storage: updraft_storage::Storage,
    admin: Option<&AdminApi>,
    health: &Health,
) -> Result<updraft_catalog::CatalogApi, StartupError> {
    let settings = config.catalog.settings()?;
    let catalog_error = |source| StartupError::CatalogStorage { source };
    match admin {
        Some(admin) => {
            let store = updraft_catalog::store::CatalogStore::on_pool(
                admin.store().pool().clone(),
                admin.store().dialect(),
            )
            .await
            .map_err(|error| catalog_error(error.into()))?;
            Ok(updraft_catalog::CatalogApi::new(store, storage, settings))
        }
        None => {
            let catalog = updraft_catalog::CatalogApi::open(
                &config.database.url_or_default(&config.data_dir),
                storage,
                settings,
            )
            .await
            .map_err(catalog_error)?;
            let store = catalog.store().clone();
            health.add_probe("database", move || {
                let store = store.clone();
                async move { store.ping().await.map_err(|error| error.to_string()) }
            });
            Ok(catalog)
        }
    }
}

/// Where a component of its own finds admin: a configuration key, its
/// value, and why the component needs one (for the message when it is unset).
struct ConfiguredAdmin<'a> {
    key: &'static str,
    endpoint: Option<&'a str>,
    why: &'static str,
}

/// The channel a component calls admin on: this very process's admin when
/// it runs one, over gRPC as a separate component would; otherwise the
/// configured endpoint, ready only while it answers.
/// The catalog the propeller caches tasks in: this process's own, or the
/// one at `propeller.catalog_endpoint` (by default admin's address).
fn task_cache(
    config: &Config,
    catalog: Option<&updraft_catalog::CatalogApi>,
    admin_channel: tonic::transport::Channel,
    ca_certificate: Option<&tonic::transport::Certificate>,
) -> Result<std::sync::Arc<dyn updraft_propeller::task_cache::TaskCache>, StartupError> {
    if let Some(catalog) = catalog {
        return Ok(std::sync::Arc::new(crate::task_cache::InProcessCatalog(
            catalog.clone(),
        )));
    }
    let channel = match &config.propeller.catalog_endpoint {
        Some(endpoint) => api_channel(endpoint, ca_certificate)
            .map_err(|reason| StartupError::CatalogEndpoint {
                endpoint: endpoint.clone(),
                reason,
            })?
            .connect_lazy(),
        None => admin_channel,
    };
    Ok(std::sync::Arc::new(
        updraft_propeller::task_cache::GrpcTaskCache::new(channel),
    ))
}

fn admin_channel(
    admin: Option<&AdminApi>,
    own_address: &str,
    configured: ConfiguredAdmin<'_>,
    ca_certificate: Option<&tonic::transport::Certificate>,
    health: &Health,
) -> Result<tonic::transport::Channel, StartupError> {
    if let Some(admin) = admin {
        let endpoint_error = |error: tonic::transport::Error| StartupError::AdminEndpoint {
            endpoint: own_address.to_string(),
            reason: error.to_string(),
        };
        let mut endpoint = tonic::transport::Endpoint::from_shared(own_address.to_string())
            .map_err(endpoint_error)?;
        if admin.access().is_some() {
            // With login on, this process's components have no token of
            // their own: they prove they are in-process with a per-process
            // secret.
            endpoint = endpoint
                .user_agent(admin.internal_user_agent().to_string())
                .map_err(endpoint_error)?;
        }
        return Ok(endpoint.connect_lazy());
    }
    let endpoint = configured.endpoint.ok_or(StartupError::MissingSetting {
        key: configured.key,
        why: configured.why,
    })?;
    let channel = api_channel(endpoint, ca_certificate)
        .map_err(|reason| StartupError::AdminEndpoint {
            endpoint: endpoint.to_string(),
            reason,
        })?
        .connect_lazy();
    add_endpoint_probe(health, "admin", channel.clone());
    Ok(channel)
}

/// The scheduler, on `[database]` (which it shares with admin), ready while
/// that and its admin answer.
async fn open_scheduler(
    config: &Config,
    admin: Option<&AdminApi>,
    own_address: &str,
    ca_certificate: Option<&tonic::transport::Certificate>,
    health: &Health,
) -> Result<updraft_scheduler::Scheduler, StartupError> {
    // A bad zone or interval stops start-up before anything connects.
    config.scheduler.settings()?;
    // Beside admin, its pool: a read on any of its connections sees what
    // another committed (admin's tests check it on both backends). Alone,
    // a pool of its own, which on PostgreSQL also listens for admin's
    // notifications.
    let store = match admin {
        Some(admin) => {
            updraft_scheduler::ScheduleStore::on_pool(
                admin.store().pool().clone(),
                admin.store().dialect(),
            )
            .await
        }
        None => {
            updraft_scheduler::ScheduleStore::connect(
                &config.database.url_or_default(&config.data_dir),
            )
            .await
        }
    }
    .map_err(|source| StartupError::SchedulerStorage { source })?;
    if admin.is_none() {
        let probed = store.clone();
        health.add_probe("database", move || {
            let store = probed.clone();
            async move { store.ping().await.map_err(|error| error.to_string()) }
        });
    }
    let channel = admin_channel(
        admin,
        own_address,
        ConfiguredAdmin {
            key: "scheduler.admin_endpoint",
            endpoint: config.scheduler.admin_endpoint.as_deref(),
            why: "a scheduler of its own launches executions through an admin",
        },
        ca_certificate,
        health,
    )?;
    Ok(crate::scheduler::scheduler(
        &config.scheduler,
        store,
        channel,
        admin,
    )?)
}

/// Ready only while `channel`'s endpoint accepts connections.
fn add_endpoint_probe(health: &Health, name: &'static str, channel: tonic::transport::Channel) {
    health.add_probe(name, move || {
        let mut client = tonic_health::pb::health_client::HealthClient::new(channel.clone());
        async move {
            client
                .check(tonic_health::pb::HealthCheckRequest::default())
                .await
                .map(drop)
                .map_err(|status| status.message().to_string())
        }
    });
}

fn read_ca_certificate(
    config: &Config,
) -> Result<Option<tonic::transport::Certificate>, StartupError> {
    let Some(path) = &config.console.ca_certificate else {
        return Ok(None);
    };
    let unreadable = |source| StartupError::CaCertificate {
        path: path.clone(),
        source,
    };
    let pem = std::fs::read(path).map_err(unreadable)?;
    // TLS skips what it cannot read: a file of no certificate would only
    // show up later as every call failing.
    if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
        return Err(unreadable(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "it holds no PEM certificate",
        )));
    }
    Ok(Some(tonic::transport::Certificate::from_pem(pem)))
}

/// The console's router, calling admin (and a propeller's API for logs, the
/// catalog for evictions) at the configured endpoints, or at this process
/// when it runs them.
#[allow(clippy::too_many_arguments)] // One call site; a struct would only rename them.
fn build_console(
    config: &Config,
    components: Components,
    own_address: &str,
    runs_propeller: bool,
    ca_certificate: Option<&tonic::transport::Certificate>,
    health: &Health,
    local_addr: SocketAddr,
    flytekit_config_path: Option<&std::path::Path>,
    stopping: Stopping,
) -> Result<Router, StartupError> {
    let admin_endpoint = match (&config.console.admin_endpoint, components) {
        (Some(endpoint), _) => endpoint.clone(),
        (None, Components::All) => own_address.to_string(),
        (None, _) => {
            return Err(StartupError::MissingSetting {
                key: "console.admin_endpoint",
                why: "a console of its own fronts an admin",
            });
        }
    };
    let channel = api_channel(&admin_endpoint, ca_certificate)
        .map_err(|reason| StartupError::AdminEndpoint {
            endpoint: admin_endpoint.clone(),
            reason,
        })?
        // Pages wait on admin: a hung one fails the page, not the server.
        .timeout(API_CALL_TIMEOUT)
        .connect_lazy();
    if config.console.admin_endpoint.is_some() {
        add_endpoint_probe(health, "admin", channel.clone());
    }
    let propeller_endpoint = config
        .console
        .propeller_endpoint
        .clone()
        .or_else(|| runs_propeller.then(|| own_address.to_string()));
    let propeller = match propeller_endpoint {
        Some(endpoint) => Some(
            api_channel(&endpoint, ca_certificate)
                .map_err(|reason| StartupError::PropellerEndpoint {
                    endpoint: endpoint.clone(),
                    reason,
                })?
                .connect_lazy(),
        ),
        None => None,
    };
    // Where `updraft start` serves admin it serves the catalog as well, so
    // one connection does for both unless the catalog is elsewhere.
    let catalog = match &config.console.catalog_endpoint {
        Some(endpoint) => api_channel(endpoint, ca_certificate)
            .map_err(|reason| StartupError::CatalogEndpoint {
                endpoint: endpoint.clone(),
                reason,
            })?
            .timeout(API_CALL_TIMEOUT)
            .connect_lazy(),
        None => channel.clone(),
    };
    Ok(console_router(ConsoleState {
        leptos_options: leptos_options(config, local_addr),
        clients: ApiClients {
            admin: channel,
            propeller,
            catalog,
        },
        flytekit_config_path: flytekit_config_path.map(|path| path.display().to_string()),
        stopping,
    }))
}

/// gRPC and HTTP share one port: requests whose content type is
/// `application/grpc…` go to the APIs, the rest to the console.
fn route_by_content_type(grpc: Router, http: Router) -> Router {
    Router::new().fallback(move |request: Request| {
        let is_grpc = request
            .headers()
            .get(CONTENT_TYPE)
            .is_some_and(|value| value.as_bytes().starts_with(b"application/grpc"));
        let target = if is_grpc { grpc.clone() } else { http.clone() };
        async move {
            target
                .oneshot(request)
                .await
                .unwrap_or_else(|never| match never {})
        }
    })
}

fn leptos_options(config: &Config, local_addr: SocketAddr) -> LeptosOptions {
    let site_root = config
        .console
        .site_root
        .clone()
        .unwrap_or_else(default_site_root);
    LeptosOptions::builder()
        .output_name("updraft")
        .site_root(site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(local_addr)
        .build()
}

/// The build puts the site next to the binary's folder (`target/site` beside
/// `target/release/updraft`); `LEPTOS_SITE_ROOT` (set by cargo-leptos) wins.
fn default_site_root() -> PathBuf {
    if let Some(root) = std::env::var_os("LEPTOS_SITE_ROOT") {
        return PathBuf::from(root);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent()?.parent().map(|target| target.join("site")))
        .filter(|site| site.is_dir())
        .unwrap_or_else(|| PathBuf::from("target/site"))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
