//! The `updraft` binary.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use updraft::config::{CommandLineOverrides, Config};
use updraft::startup::{Application, Components};

#[derive(Parser)]
#[command(
    name = "updraft",
    version,
    about = "Flyte, rebuilt in Rust: control plane, data plane and console"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run everything in one process: console, admin and gRPC APIs on one address.
    Start(ServeFlags),
    /// Run admin alone: Flyte's gRPC APIs and signed-URL routes, on `[database]` and `[storage]`.
    Admin(ServeFlags),
    /// Run the catalog alone: Flyte's DataCatalog (task caching) and cache eviction, on `[database]` and `[storage]`.
    Catalog(ServeFlags),
    /// Run the scheduler alone: it launches scheduled launch plans through `scheduler.admin_endpoint`, on `[database]`.
    Scheduler(ServeFlags),
    /// Run a propeller alone: it claims executions from `propeller.admin_endpoint` and runs their tasks.
    Propeller(ServeFlags),
    /// Run the console alone, in front of `console.admin_endpoint`.
    Console(ServeFlags),
}

/// The flags of every subcommand that serves: where its configuration is
/// and what on the command line overrides it.
#[derive(Args)]
struct ServeFlags {
    /// Configuration file (TOML); `UPDRAFT_…` environment variables override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Where the database, object store and task logs live (default ~/.updraft).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Address for HTTP and gRPC together (default 127.0.0.1:8088).
    #[arg(long)]
    addr: Option<std::net::SocketAddr>,
    /// Listen beyond loopback without `[auth]`: anyone who reaches the port
    /// can upload code and run it as this process's user.
    #[arg(long)]
    allow_anonymous: bool,
}

impl ServeFlags {
    /// The configuration file, then the environment, then these flags.
    fn load_config(&self) -> anyhow::Result<Config> {
        let overrides = CommandLineOverrides {
            addr: self.addr,
            data_dir: self.data_dir.clone(),
            // Absent, the flag leaves the file's and the environment's choice.
            allow_anonymous: self.allow_anonymous.then_some(true),
        };
        Ok(Config::load(
            self.config.as_deref(),
            std::env::vars(),
            &overrides,
        )?)
    }
}

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    updraft::telemetry::init();
    match Cli::parse().command {
        Command::Start(flags) => serve(flags, Components::All).await,
        Command::Admin(flags) => serve(flags, Components::Admin).await,
        Command::Catalog(flags) => serve(flags, Components::Catalog).await,
        Command::Scheduler(flags) => serve(flags, Components::Scheduler).await,
        Command::Propeller(flags) => serve(flags, Components::Propeller).await,
        Command::Console(flags) => serve(flags, Components::Console).await,
    }
}

async fn serve(flags: ServeFlags, components: Components) -> anyhow::Result<()> {
    let config = flags.load_config()?;
    let application = Application::build_components(config, components)
        .await
        .with_context(|| format!("failed to start {}", components.name()))?;
    application.print_welcome();
    application
        .run_until_stopped()
        .await
        .with_context(|| format!("{} stopped with an error", components.name()))
}
