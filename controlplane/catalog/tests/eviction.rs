//! updraft's CacheEvictionService: an evicted entry misses on the next
//! lookup, by tag or for everything one execution produced, and its data
//! leaves the object store.

mod common;

use common::{TestCatalog, by_id, by_tag, dataset_id, refusal};
use tonic::Code;
use updraft_proto::flyteidl::core;
use updraft_proto::updraft::catalog::v1 as eviction;

fn execution(name: &str) -> core::WorkflowExecutionIdentifier {
    core::WorkflowExecutionIdentifier {
        project: common::PROJECT.into(),
        domain: common::DOMAIN.into(),
        name: name.into(),
        org: String::new(),
    }
}

async fn evicting_a_tag_makes_the_next_lookup_miss() {
    let mut app = TestCatalog::spawn().await;
    let dataset = app.create_dataset("flyte_task-add", "1", &[]).await;
    app.create_artifact(&dataset, "a1", 1, "e1").await;
    app.add_tag(&dataset, "a1", "flyte_cached-x").await;
    app.create_artifact(&dataset, "a2", 2, "e1").await;
    app.add_tag(&dataset, "a2", "flyte_cached-y").await;

    let evicted = app
        .eviction
        .evict_cached_artifact(eviction::EvictCachedArtifactRequest {
            dataset: Some(dataset.clone()),
            tag_name: "flyte_cached-x".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(evicted.artifact_id, "a1");
    let (code, _) = refusal(
        app.catalog
            .get_artifact(by_tag(&dataset, "flyte_cached-x"))
            .await,
    );
    assert_eq!(code, Code::NotFound);
    let (code, _) = refusal(app.catalog.get_artifact(by_id(Some(&dataset), "a1")).await);
    assert_eq!(code, Code::NotFound);
    // The other entry stays, and only its data is left in the store.
    app.catalog
        .get_artifact(by_tag(&dataset, "flyte_cached-y"))
        .await
        .unwrap();
    assert_eq!(app.stored_objects().await.len(), 1);
    // The tag is free for the next run's put.
    app.create_artifact(&dataset, "a3", 3, "e2").await;
    app.add_tag(&dataset, "a3", "flyte_cached-x").await;

    let again = app
        .eviction
        .evict_cached_artifact(eviction::EvictCachedArtifactRequest {
            dataset: Some(dataset.clone()),
            tag_name: "flyte_cached-nothing".into(),
        })
        .await;
    let (code, message) = refusal(again);
    assert_eq!(code, Code::NotFound);
    assert!(
        message.starts_with("no artifact is tagged flyte_cached-nothing"),
        "{message}"
    );
    let unknown = app
        .eviction
        .evict_cached_artifact(eviction::EvictCachedArtifactRequest {
            dataset: Some(dataset_id("flyte_task-nothing", "1")),
            tag_name: "t".into(),
        })
        .await;
    assert_eq!(refusal(unknown).0, Code::NotFound);
    let malformed = app
        .eviction
        .evict_cached_artifact(eviction::EvictCachedArtifactRequest {
            dataset: Some(dataset.clone()),
            tag_name: String::new(),
        })
        .await;
    assert_eq!(
        refusal(malformed),
        (Code::InvalidArgument, "tag_name is required".to_string())
    );
}

async fn evicting_an_execution_evicts_everything_it_produced() {
    let mut app = TestCatalog::spawn().await;
    let add = app.create_dataset("flyte_task-add", "1", &[]).await;
    let square = app.create_dataset("flyte_task-square", "1", &[]).await;
    app.create_artifact(&add, "a1", 1, "doomed").await;
    app.add_tag(&add, "a1", "flyte_cached-1").await;
    app.create_artifact(&square, "s1", 1, "doomed").await;
    app.add_tag(&square, "s1", "flyte_cached-1").await;
    app.create_artifact(&add, "a2", 2, "kept").await;
    app.add_tag(&add, "a2", "flyte_cached-2").await;

    let evicted = app
        .eviction
        .evict_execution_artifacts(eviction::EvictExecutionArtifactsRequest {
            execution_id: Some(execution("doomed")),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(evicted.evicted_artifacts, 2);
    for (dataset, tag) in [(&add, "flyte_cached-1"), (&square, "flyte_cached-1")] {
        assert_eq!(
            refusal(app.catalog.get_artifact(by_tag(dataset, tag)).await).0,
            Code::NotFound
        );
    }
    app.catalog
        .get_artifact(by_tag(&add, "flyte_cached-2"))
        .await
        .unwrap();

    let nothing = app
        .eviction
        .evict_execution_artifacts(eviction::EvictExecutionArtifactsRequest {
            execution_id: Some(execution("doomed")),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(nothing.evicted_artifacts, 0);
    let malformed = app
        .eviction
        .evict_execution_artifacts(eviction::EvictExecutionArtifactsRequest {
            execution_id: Some(execution("")),
        })
        .await;
    assert_eq!(
        refusal(malformed),
        (
            Code::InvalidArgument,
            "execution_id.name is required".to_string()
        )
    );
}

async fn an_overwrite_moves_an_artifact_to_its_new_execution() {
    let mut app = TestCatalog::spawn().await;
    let dataset = app.create_dataset("flyte_task-add", "1", &[]).await;
    app.create_artifact(&dataset, "a1", 1, "first").await;
    app.add_tag(&dataset, "a1", "flyte_cached-x").await;
    app.catalog
        .update_artifact(updraft_proto::datacatalog::UpdateArtifactRequest {
            dataset: Some(dataset.clone()),
            query_handle: Some(
                updraft_proto::datacatalog::update_artifact_request::QueryHandle::TagName(
                    "flyte_cached-x".into(),
                ),
            ),
            data: common::artifact(&dataset, "a1", 2, "second").data,
            metadata: Some(common::source_metadata("second")),
        })
        .await
        .unwrap();
    let first = app
        .eviction
        .evict_execution_artifacts(eviction::EvictExecutionArtifactsRequest {
            execution_id: Some(execution("first")),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.evicted_artifacts, 0);
    let second = app
        .eviction
        .evict_execution_artifacts(eviction::EvictExecutionArtifactsRequest {
            execution_id: Some(execution("second")),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.evicted_artifacts, 1);
}

common::on_every_backend!(
    evicting_a_tag_makes_the_next_lookup_miss,
    evicting_an_execution_evicts_everything_it_produced,
    an_overwrite_moves_an_artifact_to_its_new_execution,
);
