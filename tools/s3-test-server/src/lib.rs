//! An S3 server for tests: `s3s-fs` keeps objects in a folder and checks
//! every request's SigV4 signature (headers and presigned URLs) against one
//! access key, as S3 does, so a wrong secret or a tampered URL is refused.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnectionBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use tokio::net::TcpListener;

/// A running server; it stops when dropped.
pub struct S3TestServer {
    address: SocketAddr,
    root: PathBuf,
    access_key: String,
    secret_key: String,
    serving: tokio::task::JoinHandle<()>,
}

impl Drop for S3TestServer {
    fn drop(&mut self) {
        self.serving.abort();
    }
}

impl S3TestServer {
    /// Serves the folder `root` on `address` (port 0 picks a free port),
    /// accepting only requests signed with this key pair. Each bucket in
    /// `buckets` is created (a bucket is a folder of `root`).
    pub async fn start(
        address: SocketAddr,
        root: &Path,
        access_key: &str,
        secret_key: &str,
        buckets: &[&str],
    ) -> std::io::Result<Self> {
        for bucket in buckets {
            std::fs::create_dir_all(root.join(bucket))?;
        }
        let file_system = s3s_fs::FileSystem::new(root)
            .map_err(|error| std::io::Error::other(format!("{error:?}")))?;
        let service = {
            let mut builder = S3ServiceBuilder::new(file_system);
            builder.set_auth(SimpleAuth::from_single(access_key, secret_key));
            builder.build()
        };
        let listener = TcpListener::bind(address).await?;
        let address = listener.local_addr()?;
        let serving = tokio::spawn(async move {
            let connections = ConnectionBuilder::new(TokioExecutor::new());
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let connection = connections
                    .serve_connection(TokioIo::new(socket), service.clone())
                    .into_owned();
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
        });
        Ok(Self {
            address,
            root: root.to_path_buf(),
            access_key: access_key.to_string(),
            secret_key: secret_key.to_string(),
            serving,
        })
    }

    /// `http://127.0.0.1:PORT`, the endpoint clients use.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The address bound.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The folder objects are kept in (`ROOT/BUCKET/KEY`).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The access key id requests must be signed with.
    pub fn access_key(&self) -> &str {
        &self.access_key
    }

    /// The secret requests must be signed with.
    pub fn secret_key(&self) -> &str {
        &self.secret_key
    }
}
