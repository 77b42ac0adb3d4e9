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
use crate::console::{ConsoleState, Readiness, console_router};
use crate::flytekit_config::write_flytekit_config;
use crate::grpc::grpc_router;
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
    #[error("cannot set up the console's login: {0}")]
    Login(String),
}

/// How long the console waits to connect to an API endpoint.
const API_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// How long the console waits for an API call's answer to begin.
const API_CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// How long a stopping server waits for requests still open before it
/// stops without them.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

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

/// A started (bound) updraft; call [`Application::run_until_stopped`] to serve.
pub struct Application {
    listener: TcpListener,
    local_addr: SocketAddr,
    router: Router,
    flytekit_config_path: PathBuf,
    propeller: Option<updraft_propeller::engine::Propeller>,
    stop: tokio::sync::watch::Sender<bool>,
}

impl Application {
    /// Binds the listener, prepares storage and builds every component.
    pub async fn build(config: Config) -> Result<Self, StartupError> {
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
        let flytekit_config_path =
            write_flytekit_config(&config.data_dir, local_addr).map_err(|source| {
                StartupError::DataDir {
                    path: config.data_dir.clone(),
                    source,
                }
            })?;

        let readiness = Readiness::default();
        let admin = AdminApi::open(
            &config.database.url_or_default(&config.data_dir),
            &config.storage.root_or_default(&config.data_dir),
            {
                let mut settings = AdminSettings::new(format!(
                    "http://{}",
                    crate::flytekit_config::dialable(local_addr)
                ));
                if let Some(auth) = &config.auth {
                    settings.auth = auth.to_settings();
                }
                settings
            },
        )
        .await
        .map_err(|source| StartupError::AdminStorage { source })?;
        // Signed upload URLs point at these routes on the HTTP side.
        let upload_routes = admin.upload_router();
        let own_address = format!("http://{}", crate::flytekit_config::dialable(local_addr));
        let data_plane = if config.propeller.enabled {
            // The propeller reaches admin as a separate propeller would: over
            // gRPC, here to this very process.
            let endpoint_error = |error: tonic::transport::Error| StartupError::AdminEndpoint {
                endpoint: own_address.clone(),
                reason: error.to_string(),
            };
            let mut admin_endpoint = tonic::transport::Endpoint::from_shared(own_address.clone())
                .map_err(endpoint_error)?;
            if admin.access().is_some() {
                // With login on, this process's data plane has no token of its
                // own: it proves it is in-process with a per-process secret.
                admin_endpoint = admin_endpoint
                    .user_agent(admin.internal_user_agent().to_string())
                    .map_err(endpoint_error)?;
            }
            let admin_channel = admin_endpoint.connect_lazy();
            // Tasks write where admin reads: the same object-store folder.
            let store_root = config.storage.root_or_default(&config.data_dir);
            let store_root = store_root.canonicalize().unwrap_or(store_root);
            Some(crate::propeller::local_data_plane(
                &config.propeller,
                &config.data_dir,
                store_root,
                admin_channel,
                own_address.clone(),
            ))
        } else {
            None
        };
        let (grpc, _health) =
            grpc_router(admin, data_plane.as_ref().map(|plane| plane.api.clone())).await;
        let log_routes = data_plane
            .as_ref()
            .map(|plane| crate::propeller::log_router(plane.logs.clone()))
            .unwrap_or_default();

        let admin_endpoint =
            config.console.admin_endpoint.clone().unwrap_or_else(|| {
                format!("http://{}", crate::flytekit_config::dialable(local_addr))
            });
        let ca_certificate = match &config.console.ca_certificate {
            Some(path) => {
                let unreadable = |source| StartupError::CaCertificate {
                    path: path.clone(),
                    source,
                };
                let pem = std::fs::read(path).map_err(unreadable)?;
                // TLS skips what it cannot read: a file of no certificate
                // would only show up later as every page failing.
                if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
                    return Err(unreadable(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "it holds no PEM certificate",
                    )));
                }
                Some(tonic::transport::Certificate::from_pem(pem))
            }
            None => None,
        };
        let channel = api_channel(&admin_endpoint, ca_certificate.as_ref())
            .map_err(|reason| StartupError::AdminEndpoint {
                endpoint: admin_endpoint.clone(),
                reason,
            })?
            // Pages wait on admin: a hung one fails the page, not the server.
            .timeout(API_CALL_TIMEOUT)
            .connect_lazy();
        let propeller_endpoint = config.console.propeller_endpoint.clone().or_else(|| {
            data_plane
                .as_ref()
                .map(|_| format!("http://{}", crate::flytekit_config::dialable(local_addr)))
        });
        let propeller = match propeller_endpoint {
            Some(endpoint) => Some(
                api_channel(&endpoint, ca_certificate.as_ref())
                    .map_err(|reason| StartupError::PropellerEndpoint {
                        endpoint: endpoint.clone(),
                        reason,
                    })?
                    .connect_lazy(),
            ),
            None => None,
        };
        let clients = ApiClients {
            admin: channel,
            propeller,
        };
        let (stop, stopping) = Stopping::channel();
        let console = console_router(ConsoleState {
            leptos_options: leptos_options(&config, local_addr),
            clients,
            flytekit_config_path: Some(flytekit_config_path.display().to_string()),
            readiness: readiness.clone(),
            stopping,
        });

        let mut http = console.merge(upload_routes).merge(log_routes);
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

        readiness.set_ready();
        Ok(Self {
            listener,
            local_addr,
            router: route_by_content_type(grpc, http),
            flytekit_config_path,
            propeller: data_plane.map(|plane| plane.propeller),
            stop,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Where the flytekit configuration for this instance was written.
    pub fn flytekit_config_path(&self) -> &std::path::Path {
        &self.flytekit_config_path
    }

    /// Tells the person at the terminal where things are.
    pub fn print_welcome(&self) {
        let addr = crate::flytekit_config::dialable(self.local_addr);
        println!("updraft is running");
        println!("  console:  http://{addr}/console");
        println!("  gRPC:     {addr} (plaintext, same port)");
        println!(
            "  flytekit: pyflyte --config {} run --remote <file.py> <workflow>",
            self.flytekit_config_path.display()
        );
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
        let propeller = self
            .propeller
            .map(|propeller| tokio::spawn(propeller.run()));
        let stop = self.stop;
        let mut stopped = stop.subscribe();
        let signal = async move {
            shutdown.await;
            // Open pages' live streams end, and no new executions are
            // claimed. A task process already running is left alone: the
            // next start deals with it as after a crash.
            stop.send_replace(true);
            if let Some(propeller) = propeller {
                propeller.abort();
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
        tokio::select! {
            result = serving => result,
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
