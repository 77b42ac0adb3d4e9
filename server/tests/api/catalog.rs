//! The catalog in the binary: `updraft start` serves DataCatalog and the
//! eviction service on its one address, with Flyte's metric names, and
//! `updraft catalog` serves them alone with readiness probes of its own.

use updraft::config::{CommandLineOverrides, Config};
use updraft::startup::{Application, Components};
use updraft_proto::datacatalog;
use updraft_proto::datacatalog::data_catalog_client::DataCatalogClient;
use updraft_proto::flyteidl::admin::GetVersionRequest;
use updraft_proto::flyteidl::core;
use updraft_proto::flyteidl::service::admin_service_client::AdminServiceClient;
use updraft_proto::updraft::catalog::v1 as eviction;
use updraft_proto::updraft::catalog::v1::cache_eviction_service_client::CacheEvictionServiceClient;

use crate::helpers::TestApp;

fn dataset_id() -> datacatalog::DatasetId {
    datacatalog::DatasetId {
        project: "flytesnacks".into(),
        name: "flyte_task-add".into(),
        domain: "development".into(),
        version: "1.0-8ueHozKE-7VS6zKbE".into(),
        ..Default::default()
    }
}

/// Caches `o0 = 7` under `flyte_cached-x`, as propeller's put does.
async fn put(catalog: &mut DataCatalogClient<tonic::transport::Channel>) {
    catalog
        .create_dataset(datacatalog::CreateDatasetRequest {
            dataset: Some(datacatalog::Dataset {
                id: Some(dataset_id()),
                ..Default::default()
            }),
        })
        .await
        .expect("CreateDataset");
    let seven = core::Literal {
        value: Some(core::literal::Value::Scalar(Box::new(core::Scalar {
            value: Some(core::scalar::Value::Primitive(core::Primitive {
                value: Some(core::primitive::Value::Integer(7)),
            })),
        }))),
        ..Default::default()
    };
    catalog
        .create_artifact(datacatalog::CreateArtifactRequest {
            artifact: Some(datacatalog::Artifact {
                id: "a1".into(),
                dataset: Some(dataset_id()),
                data: vec![datacatalog::ArtifactData {
                    name: "o0".into(),
                    value: Some(seven),
                }],
                ..Default::default()
            }),
        })
        .await
        .expect("CreateArtifact");
    catalog
        .add_tag(datacatalog::AddTagRequest {
            tag: Some(datacatalog::Tag {
                name: "flyte_cached-x".into(),
                artifact_id: "a1".into(),
                dataset: Some(dataset_id()),
            }),
        })
        .await
        .expect("AddTag");
}

fn by_tag() -> datacatalog::GetArtifactRequest {
    datacatalog::GetArtifactRequest {
        dataset: Some(dataset_id()),
        query_handle: Some(datacatalog::get_artifact_request::QueryHandle::TagName(
            "flyte_cached-x".into(),
        )),
    }
}

#[tokio::test]
async fn updraft_start_serves_the_catalog_on_its_address() {
    let app = TestApp::spawn().await;
    let channel = app.grpc_channel().await;
    let mut catalog = DataCatalogClient::new(channel.clone());
    put(&mut catalog).await;
    let artifact = catalog
        .get_artifact(by_tag())
        .await
        .expect("a hit")
        .into_inner()
        .artifact
        .unwrap();
    assert_eq!(artifact.id, "a1");
    // Its data sits in the same object store as everything else.
    assert!(
        app.data_dir
            .path()
            .join("store/metadata/datacatalog/flytesnacks/development/flyte_task-add/1.0-8ueHozKE-7VS6zKbE/a1/o0/data.pb")
            .is_file()
    );

    let evicted = CacheEvictionServiceClient::new(channel)
        .evict_cached_artifact(eviction::EvictCachedArtifactRequest {
            dataset: Some(dataset_id()),
            tag_name: "flyte_cached-x".into(),
        })
        .await
        .expect("eviction")
        .into_inner();
    assert_eq!(evicted.artifact_id, "a1");
    let missed = catalog.get_artifact(by_tag()).await.unwrap_err();
    assert_eq!(missed.code(), tonic::Code::NotFound);

    let metrics = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for series in [
        "flyte:datacatalog:dataset:create_success_count_unlabeled",
        "flyte:datacatalog:artifact:get_duration_unlabeled_ms",
        "flyte:datacatalog:tag:get_ms",
        "grpc_server_handled_total{grpc_type=\"unary\",grpc_service=\"datacatalog.DataCatalog\",grpc_method=\"GetArtifact\",grpc_code=\"NotFound\"}",
        "updraft:catalog:evicted_artifacts",
    ] {
        assert!(metrics.contains(series), "{series} missing from /metrics");
    }
}

#[tokio::test]
async fn updraft_catalog_serves_the_catalog_alone() {
    let data_dir = tempfile::tempdir().unwrap();
    let overrides = CommandLineOverrides {
        addr: Some("127.0.0.1:0".parse().unwrap()),
        data_dir: Some(data_dir.path().to_path_buf()),
        ..CommandLineOverrides::default()
    };
    let config = Config::load(None, Vec::new(), &overrides).unwrap();
    let application = Application::build_components(config, Components::Catalog)
        .await
        .expect("the catalog starts");
    let address = application.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(application.run_until(async move {
        let _ = stopped.await;
    }));

    let channel = tonic::transport::Channel::from_shared(format!("http://{address}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut catalog = DataCatalogClient::new(channel.clone());
    put(&mut catalog).await;
    catalog.get_artifact(by_tag()).await.expect("a hit");
    let no_admin = AdminServiceClient::new(channel)
        .get_version(GetVersionRequest {})
        .await
        .unwrap_err();
    assert_eq!(no_admin.code(), tonic::Code::Unimplemented);

    let health = reqwest::get(format!("http://{address}/healthz"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200, "ready: its database answers");

    let _ = stop.send(());
    serving.await.unwrap().unwrap();
}
