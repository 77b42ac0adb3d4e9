//! The `updraft` binary.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use updraft::config::{CommandLineOverrides, Config};
use updraft::startup::Application;

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
    Start {
        /// Configuration file (TOML); `UPDRAFT_…` environment variables override it.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Where the database, object store and task logs live (default ~/.updraft).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Address for HTTP and gRPC together (default 127.0.0.1:8088).
        #[arg(long)]
        addr: Option<std::net::SocketAddr>,
    },
}

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(WORKER_STACK_BYTES)
        .build()
        .context("failed to start the async runtime")?
        .block_on(run())
}

/// Propeller walks nested workflow scopes (subworkflows, branches, dynamic
/// nodes) as nested futures; unoptimised builds need more than tokio's
/// default 2 MiB for the deepest of them.
const WORKER_STACK_BYTES: usize = 16 * 1024 * 1024;

async fn run() -> anyhow::Result<()> {
    updraft::telemetry::init();
    match Cli::parse().command {
        Command::Start {
            config,
            data_dir,
            addr,
        } => {
            let overrides = CommandLineOverrides { addr, data_dir };
            let config = Config::load(config.as_deref(), std::env::vars(), &overrides)?;
            let application = Application::build(config)
                .await
                .context("failed to start updraft")?;
            application.print_welcome();
            application
                .run_until_stopped()
                .await
                .context("updraft stopped with an error")
        }
    }
}
