//! `updraft-s3-test-server`: the test S3 server as a process, for the split
//! deployment test. Prints `listening on http://ADDR` once it serves.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use updraft_s3_test_server::S3TestServer;

#[derive(Parser)]
#[command(about = "An S3 server on a local folder, with SigV4 checks, for tests")]
struct Arguments {
    /// Address to listen on; port 0 picks one.
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: std::net::SocketAddr,
    /// The folder buckets and objects are kept in.
    #[arg(long)]
    root: PathBuf,
    /// The access key id every request must be signed with.
    #[arg(long, env = "S3_TEST_ACCESS_KEY")]
    access_key: String,
    /// The secret every request must be signed with.
    #[arg(long, env = "S3_TEST_SECRET_KEY")]
    secret_key: String,
    /// Buckets to create at start.
    #[arg(long = "bucket")]
    buckets: Vec<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let arguments = Arguments::parse();
    let buckets: Vec<&str> = arguments.buckets.iter().map(String::as_str).collect();
    let server = S3TestServer::start(
        arguments.addr,
        &arguments.root,
        &arguments.access_key,
        &arguments.secret_key,
        &buckets,
    )
    .await
    .context("failed to start the S3 test server")?;
    println!("listening on {}", server.endpoint());
    tokio::signal::ctrl_c()
        .await
        .context("failed to wait for Ctrl-C")?;
    Ok(())
}
