//! The harness: a real catalog (DataCatalog and CacheEvictionService) on
//! `127.0.0.1:0` over a fresh database per test and a local object store,
//! with real tonic clients. [`on_every_backend!`] runs each test on SQLite
//! and, when `UPDRAFT_TEST_POSTGRES` is set, on PostgreSQL.

// Each test binary uses a different part of the harness.
#![allow(dead_code, unused_imports)]

use std::collections::HashMap;

use tokio::net::TcpListener;
use tonic::transport::Channel;
use updraft_catalog::{CatalogApi, CatalogSettings};
use updraft_proto::datacatalog;
use updraft_proto::datacatalog::data_catalog_client::DataCatalogClient;
use updraft_proto::flyteidl::core;
use updraft_proto::updraft::catalog::v1::cache_eviction_service_client::CacheEvictionServiceClient;

pub use updraft_database::on_every_backend;
pub use updraft_database::testing::{Backend, fresh_database_url};

/// The project fixtures use.
pub const PROJECT: &str = "flytesnacks";
/// The domain fixtures use.
pub const DOMAIN: &str = "development";

/// A running catalog and clients for it.
pub struct TestCatalog {
    /// DataCatalog client.
    pub catalog: DataCatalogClient<Channel>,
    /// CacheEvictionService client.
    pub eviction: CacheEvictionServiceClient<Channel>,
    /// The catalog itself, for its Rust API and stores.
    pub api: CatalogApi,
    directory: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestCatalog {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TestCatalog {
    /// A catalog on a fresh database of the running test's backend.
    pub async fn spawn() -> Self {
        Self::spawn_with(CatalogSettings::default()).await
    }

    /// A catalog with `settings`.
    pub async fn spawn_with(settings: CatalogSettings) -> Self {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
                .with_test_writer()
                .try_init();
        }
        let directory = tempfile::tempdir().expect("temporary directory");
        let database_url = fresh_database_url(&Backend::of_this_test(), directory.path()).await;
        let storage = updraft_storage::Storage::local(&directory.path().join("store"))
            .expect("a local object store");
        let api = CatalogApi::open(&database_url, storage, settings)
            .await
            .expect("open the catalog");
        let router = tonic::service::Routes::new(api.clone().into_service())
            .add_service(api.eviction_service())
            .into_axum_router();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("local address");
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("serve");
        });
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{address}"))
            .expect("endpoint")
            .connect()
            .await
            .expect("connect");
        Self {
            catalog: DataCatalogClient::new(channel.clone()),
            eviction: CacheEvictionServiceClient::new(channel),
            api,
            directory,
            server,
        }
    }

    /// Creates the dataset `name` at `version` with `partition_keys`.
    pub async fn create_dataset(
        &mut self,
        name: &str,
        version: &str,
        partition_keys: &[&str],
    ) -> datacatalog::DatasetId {
        let id = dataset_id(name, version);
        self.catalog
            .create_dataset(datacatalog::CreateDatasetRequest {
                dataset: Some(datacatalog::Dataset {
                    id: Some(id.clone()),
                    metadata: Some(metadata(&[("task-version", "v1")])),
                    partition_keys: partition_keys.iter().map(|key| key.to_string()).collect(),
                }),
            })
            .await
            .expect("create the dataset");
        id
    }

    /// Creates artifact `id` in `dataset` holding `o0 = value`, produced by
    /// the execution `execution`.
    pub async fn create_artifact(
        &mut self,
        dataset: &datacatalog::DatasetId,
        id: &str,
        value: i64,
        execution: &str,
    ) {
        self.catalog
            .create_artifact(datacatalog::CreateArtifactRequest {
                artifact: Some(artifact(dataset, id, value, execution)),
            })
            .await
            .expect("create the artifact");
    }

    /// Tags artifact `artifact_id` of `dataset` with `tag`.
    pub async fn add_tag(
        &mut self,
        dataset: &datacatalog::DatasetId,
        artifact_id: &str,
        tag: &str,
    ) {
        self.catalog
            .add_tag(datacatalog::AddTagRequest {
                tag: Some(datacatalog::Tag {
                    name: tag.to_string(),
                    artifact_id: artifact_id.to_string(),
                    dataset: Some(dataset.clone()),
                }),
            })
            .await
            .expect("tag the artifact");
    }

    /// Every object in the catalog's store.
    pub async fn stored_objects(&self) -> Vec<String> {
        self.api.storage().list("").await.expect("list the store")
    }
}

/// The id of a cached task's dataset in the fixture project and domain.
pub fn dataset_id(name: &str, version: &str) -> datacatalog::DatasetId {
    datacatalog::DatasetId {
        project: PROJECT.to_string(),
        name: name.to_string(),
        domain: DOMAIN.to_string(),
        version: version.to_string(),
        ..Default::default()
    }
}

/// Metadata of these pairs.
pub fn metadata(pairs: &[(&str, &str)]) -> datacatalog::Metadata {
    datacatalog::Metadata {
        key_map: pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect(),
    }
}

/// The metadata propeller gives an artifact the execution `execution` produced.
pub fn source_metadata(execution: &str) -> datacatalog::Metadata {
    metadata(&[
        ("exec-project", PROJECT),
        ("exec-domain", DOMAIN),
        ("execution-name", execution),
        ("exec-node", "n0"),
        ("exec-attempt", "0"),
    ])
}

/// An integer literal.
pub fn integer(value: i64) -> core::Literal {
    core::Literal {
        value: Some(core::literal::Value::Scalar(Box::new(core::Scalar {
            value: Some(core::scalar::Value::Primitive(core::Primitive {
                value: Some(core::primitive::Value::Integer(value)),
            })),
        }))),
        ..Default::default()
    }
}

/// The integer an artifact's output `name` holds.
pub fn output_integer(artifact: &datacatalog::Artifact, name: &str) -> Option<i64> {
    let data = artifact.data.iter().find(|data| data.name == name)?;
    let Some(core::literal::Value::Scalar(scalar)) = &data.value.as_ref()?.value else {
        return None;
    };
    match &scalar.value {
        Some(core::scalar::Value::Primitive(core::Primitive {
            value: Some(core::primitive::Value::Integer(value)),
        })) => Some(*value),
        _ => None,
    }
}

/// Artifact `id` of `dataset` with one output `o0 = value`, produced by `execution`.
pub fn artifact(
    dataset: &datacatalog::DatasetId,
    id: &str,
    value: i64,
    execution: &str,
) -> datacatalog::Artifact {
    datacatalog::Artifact {
        id: id.to_string(),
        dataset: Some(dataset.clone()),
        data: vec![datacatalog::ArtifactData {
            name: "o0".to_string(),
            value: Some(integer(value)),
        }],
        metadata: Some(source_metadata(execution)),
        ..Default::default()
    }
}

/// An outputs map `{o0: value}`.
pub fn outputs(value: i64) -> core::LiteralMap {
    core::LiteralMap {
        literals: HashMap::from([("o0".to_string(), integer(value))]),
    }
}

/// A request's `tag_name` query handle.
pub fn by_tag(dataset: &datacatalog::DatasetId, tag: &str) -> datacatalog::GetArtifactRequest {
    datacatalog::GetArtifactRequest {
        dataset: Some(dataset.clone()),
        query_handle: Some(datacatalog::get_artifact_request::QueryHandle::TagName(
            tag.to_string(),
        )),
    }
}

/// A request's `artifact_id` query handle.
pub fn by_id(
    dataset: Option<&datacatalog::DatasetId>,
    id: &str,
) -> datacatalog::GetArtifactRequest {
    datacatalog::GetArtifactRequest {
        dataset: dataset.cloned(),
        query_handle: Some(datacatalog::get_artifact_request::QueryHandle::ArtifactId(
            id.to_string(),
        )),
    }
}

/// The code and message of a failed call.
pub fn refusal<T: std::fmt::Debug>(result: Result<T, tonic::Status>) -> (tonic::Code, String) {
    let status = result.expect_err("the call is refused");
    (status.code(), status.message().to_string())
}
