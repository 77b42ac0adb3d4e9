use std::net::SocketAddr;

use tempfile::TempDir;
use tonic::transport::Channel;
use updraft::config::{CommandLineOverrides, Config};
use updraft::startup::Application;

/// A running updraft on a free loopback port with its own data directory.
pub struct TestApp {
    pub addr: SocketAddr,
    pub data_dir: TempDir,
    pub http: reqwest::Client,
    shutdown: tokio::sync::oneshot::Sender<()>,
    serving: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with_environment(Vec::new()).await
    }

    /// A console fronting the admin at `endpoint` instead of its own.
    pub async fn spawn_with_admin(endpoint: &str) -> Self {
        // A console in front of another admin runs no workflows of its own,
        // as in split mode.
        Self::spawn_with_environment(vec![
            (
                "UPDRAFT_CONSOLE__ADMIN_ENDPOINT".to_string(),
                endpoint.to_string(),
            ),
            (
                "UPDRAFT_PROPELLER__ENABLED".to_string(),
                "false".to_string(),
            ),
        ])
        .await
    }

    pub async fn spawn_with_environment(environment: Vec<(String, String)>) -> Self {
        if std::env::var_os("TEST_LOG").is_some() {
            updraft::telemetry::init();
        }
        let data_dir = tempfile::tempdir().expect("temporary data dir");
        let overrides = CommandLineOverrides {
            addr: Some("127.0.0.1:0".parse().unwrap()),
            data_dir: Some(data_dir.path().to_path_buf()),
            ..CommandLineOverrides::default()
        };
        let config = Config::load(None, environment, &overrides).expect("default config loads");
        let application = Application::build(config)
            .await
            .expect("application builds");
        let addr = application.local_addr();
        let (shutdown, signal) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(application.run_until(async move {
            let _ = signal.await;
        }));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            addr,
            data_dir,
            http,
            shutdown,
            serving,
        }
    }

    /// Stops it as SIGTERM would; answers once it has stopped serving.
    pub async fn stop(self) -> std::io::Result<()> {
        let _ = self.shutdown.send(());
        self.serving.await.expect("the server task does not panic")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn grpc_channel(&self) -> Channel {
        Channel::from_shared(self.url(""))
            .unwrap()
            .connect()
            .await
            .expect("gRPC connects")
    }
}

/// The name of the next event on a server-sent event stream, skipping
/// keep-alive comments.
pub async fn next_event_name(stream: &mut reqwest::Response, buffered: &mut String) -> String {
    loop {
        if let Some(end) = buffered.find("\n\n") {
            let event: String = buffered.drain(..end + 2).collect();
            if let Some(name) = event.lines().find_map(|line| line.strip_prefix("event: ")) {
                return name.to_string();
            }
            continue;
        }
        let chunk = stream
            .chunk()
            .await
            .unwrap()
            .expect("the stream stays open");
        buffered.push_str(&String::from_utf8_lossy(&chunk));
    }
}
