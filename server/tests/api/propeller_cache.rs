//! The propeller's two ways to the catalog answer alike: DataCatalog over
//! gRPC (an `updraft propeller` on its own) against `updraft start`'s
//! catalog, and the in-process catalog `updraft start`'s propeller calls.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use updraft::task_cache::InProcessCatalog;
use updraft_propeller::catalog_keys::{CacheKey, artifact_metadata, dataset_metadata};
use updraft_propeller::task_cache::{CacheEntry, GrpcTaskCache, Reservation, TaskCache};
use updraft_proto::datacatalog;
use updraft_proto::flyteidl::core;

use crate::helpers::TestApp;

fn integer(value: i64) -> core::Literal {
    core::Literal {
        value: Some(core::literal::Value::Scalar(Box::new(core::Scalar {
            value: Some(core::scalar::Value::Primitive(core::Primitive {
                value: Some(core::primitive::Value::Integer(value)),
            })),
        }))),
        ..Default::default()
    }
}

fn outputs(value: i64) -> core::LiteralMap {
    core::LiteralMap {
        literals: HashMap::from([("o0".to_string(), integer(value))]),
    }
}

fn key() -> CacheKey {
    CacheKey {
        dataset_id: datacatalog::DatasetId {
            project: "flytesnacks".into(),
            name: "flyte_task-app.square".into(),
            domain: "development".into(),
            version: "1.0-8ueHozKE-7VS6zKbE".into(),
            ..Default::default()
        },
        tag: "flyte_cached-f4NgadVdOfTUdbbFvIDANsjZZyWPH06DtwflWgk4k_c".into(),
    }
}

fn entry(value: i64, execution: &str, overwrite: bool) -> CacheEntry {
    let source = core::TaskExecutionIdentifier {
        task_id: Some(core::Identifier {
            resource_type: core::ResourceType::Task as i32,
            project: "flytesnacks".into(),
            domain: "development".into(),
            name: "app.square".into(),
            version: "v1".into(),
            ..Default::default()
        }),
        node_execution_id: Some(core::NodeExecutionIdentifier {
            node_id: "n0".into(),
            execution_id: Some(core::WorkflowExecutionIdentifier {
                project: "flytesnacks".into(),
                domain: "development".into(),
                name: execution.into(),
                ..Default::default()
            }),
        }),
        retry_attempt: 0,
    };
    CacheEntry {
        key: key(),
        outputs: outputs(value),
        dataset_metadata: dataset_metadata(&source),
        artifact_metadata: artifact_metadata(&source),
        overwrite,
    }
}

/// Lookups, puts, overwrites and reservations as the engine makes them.
async fn behaves_as_the_engine_expects(cache: &dyn TaskCache) {
    assert_eq!(cache.lookup(&key()).await.expect("a lookup"), None);

    let first = cache.put(entry(4, "e1", false)).await.expect("a put");
    let hit = cache
        .lookup(&key())
        .await
        .expect("a lookup")
        .expect("a hit");
    assert_eq!(hit.outputs, outputs(4));
    assert_eq!(hit.artifact_id, first);
    let producer = hit.artifact_metadata.expect("artifact metadata").key_map;
    assert_eq!(
        producer.get("execution-name").map(String::as_str),
        Some("e1")
    );
    let version = hit.dataset_metadata.expect("dataset metadata").key_map;
    assert_eq!(version.get("task-version").map(String::as_str), Some("v1"));

    // A second put of the same key keeps the first entry, as in Flyte.
    cache
        .put(entry(5, "e2", false))
        .await
        .expect("a second put");
    let kept = cache
        .lookup(&key())
        .await
        .expect("a lookup")
        .expect("a hit");
    assert_eq!(kept.outputs, outputs(4));

    // An overwrite replaces it.
    cache.put(entry(6, "e3", true)).await.expect("an overwrite");
    let replaced = cache
        .lookup(&key())
        .await
        .expect("a lookup")
        .expect("a hit");
    assert_eq!(replaced.outputs, outputs(6));
    let producer = replaced
        .artifact_metadata
        .expect("artifact metadata")
        .key_map;
    assert_eq!(
        producer.get("execution-name").map(String::as_str),
        Some("e3")
    );

    let heartbeat = Duration::from_secs(5);
    assert!(matches!(
        cache.reserve(&key(), "owner-a", heartbeat).await.expect("a reservation"),
        Reservation::Acquired { heartbeat: granted } if granted == heartbeat
    ));
    assert_eq!(
        cache
            .reserve(&key(), "owner-b", heartbeat)
            .await
            .expect("a reservation"),
        Reservation::HeldBy {
            owner: "owner-a".into()
        }
    );
    cache.release(&key(), "owner-a").await.expect("a release");
    assert!(matches!(
        cache
            .reserve(&key(), "owner-b", heartbeat)
            .await
            .expect("a reservation"),
        Reservation::Acquired { .. }
    ));
}

#[tokio::test]
async fn the_propeller_caches_alike_over_grpc_and_in_process() {
    let app = TestApp::spawn().await;
    let over_grpc = GrpcTaskCache::new(app.grpc_channel().await);
    behaves_as_the_engine_expects(&over_grpc).await;

    let folder = tempfile::tempdir().expect("a folder");
    let storage = updraft_storage::Storage::local(&folder.path().join("data")).expect("a store");
    let database = format!(
        "sqlite://{}?mode=rwc",
        folder.path().join("catalog.db").display()
    );
    let catalog = updraft_catalog::CatalogApi::open(&database, storage, Default::default())
        .await
        .expect("a catalog");
    let in_process: Arc<dyn TaskCache> = Arc::new(InProcessCatalog(catalog));
    behaves_as_the_engine_expects(in_process.as_ref()).await;
    app.stop().await.expect("stops");
}
