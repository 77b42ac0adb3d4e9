//! What a store is opened from: the `[storage]` section of the configuration.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Which store to open, and where.
#[derive(Debug, Clone, PartialEq)]
pub enum StorageSettings {
    /// A local folder.
    Local { root: PathBuf },
    /// An S3 bucket.
    S3(S3Settings),
    /// This process's memory (tests).
    Memory,
}

/// `[storage.s3]`: the bucket and how to reach it.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct S3Settings {
    /// The bucket every object goes in.
    pub bucket: String,
    /// An S3-compatible server (`http://127.0.0.1:9000`); absent, AWS itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The bucket's region; absent, the AWS chain's (or `us-east-1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Allow a plain `http://` endpoint.
    pub allow_http: bool,
    /// The access key; absent, the usual AWS chain (environment, web
    /// identity for IRSA, instance metadata).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    /// Its secret; never logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_access_key: Option<String>,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret never reaches a log.
        formatter
            .debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("allow_http", &self.allow_http)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}
