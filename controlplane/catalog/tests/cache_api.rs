//! The Rust API an in-process propeller caches with: a lookup in one call
//! that misses rather than fails, a put that stores artifact and tag
//! together, and an overwrite.

mod common;

use common::{TestCatalog, dataset_id, metadata, outputs, source_metadata};
use updraft_catalog::{CachePut, PutOutcome};
use updraft_proto::datacatalog;

fn put(value: i64, execution: &str) -> CachePut {
    CachePut {
        dataset: datacatalog::Dataset {
            id: Some(dataset_id("flyte_task-add", "1.0-abc-def")),
            metadata: Some(metadata(&[("task-version", "v1")])),
            partition_keys: Vec::new(),
        },
        tag_name: "flyte_cached-x".into(),
        outputs: outputs(value),
        artifact_metadata: source_metadata(execution),
    }
}

async fn a_put_is_found_by_the_next_lookup() {
    let app = TestCatalog::spawn().await;
    let id = dataset_id("flyte_task-add", "1.0-abc-def");
    assert!(
        app.api
            .lookup_cached_outputs(&id, "flyte_cached-x")
            .await
            .unwrap()
            .is_none()
    );

    let PutOutcome::Stored { artifact_id } =
        app.api.put_cached_outputs(put(5, "e1")).await.unwrap()
    else {
        panic!("the first put stores");
    };
    let hit = app
        .api
        .lookup_cached_outputs(&id, "flyte_cached-x")
        .await
        .unwrap()
        .expect("a hit");
    assert_eq!(hit.outputs, outputs(5));
    assert_eq!(hit.artifact.id, artifact_id);
    assert_eq!(hit.artifact.metadata, Some(source_metadata("e1")));
    assert_eq!(
        hit.dataset.metadata,
        Some(metadata(&[("task-version", "v1")]))
    );

    // A racing second put finds the tag taken and stores nothing.
    let second = app.api.put_cached_outputs(put(6, "e2")).await.unwrap();
    assert_eq!(
        second,
        PutOutcome::AlreadyCached {
            artifact_id: artifact_id.clone()
        }
    );
    assert_eq!(app.stored_objects().await.len(), 1);

    // overwrite_cache replaces what the tag caches.
    let overwritten = app
        .api
        .overwrite_cached_outputs(put(7, "e3"))
        .await
        .unwrap();
    assert_eq!(overwritten, artifact_id);
    let hit = app
        .api
        .lookup_cached_outputs(&id, "flyte_cached-x")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hit.outputs, outputs(7));
    assert_eq!(hit.artifact.metadata, Some(source_metadata("e3")));
}

async fn a_lookup_of_lost_data_misses() {
    let app = TestCatalog::spawn().await;
    app.api.put_cached_outputs(put(5, "e1")).await.unwrap();
    for key in app.stored_objects().await {
        app.api.storage().delete(&key).await.unwrap();
    }
    let id = dataset_id("flyte_task-add", "1.0-abc-def");
    assert!(
        app.api
            .lookup_cached_outputs(&id, "flyte_cached-x")
            .await
            .unwrap()
            .is_none()
    );
    // And the next put fills the entry again.
    assert!(matches!(
        app.api.put_cached_outputs(put(6, "e2")).await.unwrap(),
        PutOutcome::Stored { .. }
    ));
    let hit = app
        .api
        .lookup_cached_outputs(&id, "flyte_cached-x")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hit.outputs, outputs(6));
}

common::on_every_backend!(
    a_put_is_found_by_the_next_lookup,
    a_lookup_of_lost_data_misses
);
