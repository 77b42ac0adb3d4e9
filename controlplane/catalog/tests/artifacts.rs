//! CreateArtifact, GetArtifact, AddTag, ListArtifacts and UpdateArtifact:
//! what propeller's caching calls, answered as datacatalog answers, with an
//! artifact and its tags stored in one transaction and a lost blob counted
//! as a miss.

mod common;

use common::{
    TestCatalog, artifact, by_id, by_tag, dataset_id, integer, output_integer, refusal,
    source_metadata,
};
use tonic::Code;
use updraft_proto::datacatalog::{
    self, FilterExpression, PaginationOptions, SinglePropertyFilter, single_property_filter,
};

fn tag_named(name: &str) -> datacatalog::Tag {
    datacatalog::Tag {
        name: name.to_string(),
        ..Default::default()
    }
}

async fn an_artifact_is_read_back_by_id_and_by_tag_with_its_data() {
    let mut app = TestCatalog::spawn().await;
    let dataset = app
        .create_dataset("flyte_task-add", "1.0-abc-def", &[])
        .await;
    app.create_artifact(&dataset, "a1", 7, "exec1").await;
    app.add_tag(&dataset, "a1", "flyte_cached-xyz").await;

    let by_tag = app
        .catalog
        .get_artifact(by_tag(&dataset, "flyte_cached-xyz"))
        .await
        .unwrap()
        .into_inner()
        .artifact
        .unwrap();
    assert_eq!(by_tag.id, "a1");
    assert_eq!(output_integer(&by_tag, "o0"), Some(7));
    assert_eq!(by_tag.metadata, Some(source_metadata("exec1")));
    assert_eq!(
        by_tag
            .tags
            .iter()
            .map(|tag| tag.name.as_str())
            .collect::<Vec<_>>(),
        ["flyte_cached-xyz"]
    );
    assert!(by_tag.created_at.is_some());
    let dataset_uuid = by_tag.dataset.as_ref().unwrap().uuid.clone();
    assert!(!dataset_uuid.is_empty());

    // By id, with or without the dataset (artifact ids are UUIDs upstream).
    for dataset in [Some(&dataset), None] {
        let read = app
            .catalog
            .get_artifact(by_id(dataset, "a1"))
            .await
            .unwrap()
            .into_inner()
            .artifact
            .unwrap();
        assert_eq!(read, by_tag);
    }

    // Each output is a `Literal` where datacatalog keeps it.
    let objects = app.stored_objects().await;
    assert_eq!(
        objects,
        ["metadata/datacatalog/flytesnacks/development/flyte_task-add/1.0-abc-def/a1/o0/data.pb"]
    );
}

async fn misses_and_refusals_name_what_is_missing_or_wrong() {
    let mut app = TestCatalog::spawn().await;
    let unknown = dataset_id("flyte_task-nothing", "1");
    let (code, message) = refusal(app.catalog.get_artifact(by_tag(&unknown, "t")).await);
    assert_eq!(code, Code::NotFound);
    assert_eq!(
        message,
        "dataset flytesnacks/development/flyte_task-nothing version 1 not found"
    );

    let dataset = app.create_dataset("flyte_task-add", "1", &[]).await;
    let (code, message) = refusal(
        app.catalog
            .get_artifact(by_tag(&dataset, "flyte_cached-x"))
            .await,
    );
    assert_eq!(code, Code::NotFound);
    assert_eq!(
        message,
        "no artifact is tagged flyte_cached-x in dataset flytesnacks/development/flyte_task-add version 1"
    );
    let (code, _) = refusal(app.catalog.get_artifact(by_id(None, "nope")).await);
    assert_eq!(code, Code::NotFound);

    let no_handle = datacatalog::GetArtifactRequest {
        dataset: Some(dataset.clone()),
        query_handle: None,
    };
    assert_eq!(
        refusal(app.catalog.get_artifact(no_handle).await),
        (
            Code::InvalidArgument,
            "one of artifact_id or tag_name is required".to_string()
        )
    );

    let create = |artifact| datacatalog::CreateArtifactRequest {
        artifact: Some(artifact),
    };
    let mut unknown_dataset = artifact(&unknown, "a1", 1, "e");
    unknown_dataset.id = "a1".into();
    let (code, message) = refusal(app.catalog.create_artifact(create(unknown_dataset)).await);
    assert_eq!(code, Code::NotFound);
    assert!(message.contains("flyte_task-nothing"), "{message}");

    let mut no_data = artifact(&dataset, "a1", 1, "e");
    no_data.data.clear();
    let (code, message) = refusal(app.catalog.create_artifact(create(no_data)).await);
    assert_eq!(code, Code::InvalidArgument);
    assert!(
        message.starts_with("artifact.data is required"),
        "{message}"
    );

    let mut escaping_id = artifact(&dataset, "../a1", 1, "e");
    escaping_id.id = "../a1".into();
    let (code, message) = refusal(app.catalog.create_artifact(create(escaping_id)).await);
    assert_eq!(code, Code::InvalidArgument);
    assert!(message.starts_with("artifact.id"), "{message}");

    let mut repeated_output = artifact(&dataset, "a1", 1, "e");
    repeated_output.data.push(repeated_output.data[0].clone());
    let (code, message) = refusal(app.catalog.create_artifact(create(repeated_output)).await);
    assert_eq!(code, Code::InvalidArgument);
    assert!(message.starts_with("artifact.data[1].name"), "{message}");

    app.create_artifact(&dataset, "a1", 1, "e").await;
    let (code, _) = refusal(
        app.catalog
            .create_artifact(create(artifact(&dataset, "a1", 2, "e")))
            .await,
    );
    assert_eq!(code, Code::AlreadyExists);
    // The refused duplicate did not overwrite the artifact's data.
    let read = app
        .catalog
        .get_artifact(by_id(Some(&dataset), "a1"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        output_integer(read.artifact.as_ref().unwrap(), "o0"),
        Some(1)
    );

    let tag_unknown_artifact = datacatalog::AddTagRequest {
        tag: Some(datacatalog::Tag {
            name: "t".into(),
            artifact_id: "nope".into(),
            dataset: Some(dataset.clone()),
        }),
    };
    let (code, message) = refusal(app.catalog.add_tag(tag_unknown_artifact).await);
    assert_eq!(code, Code::NotFound);
    assert!(message.starts_with("artifact nope not found"), "{message}");
}

async fn a_second_tag_of_the_same_name_is_already_exists() {
    let mut app = TestCatalog::spawn().await;
    let dataset = app.create_dataset("flyte_task-add", "1", &[]).await;
    app.create_artifact(&dataset, "first", 1, "e1").await;
    app.create_artifact(&dataset, "second", 2, "e2").await;
    app.add_tag(&dataset, "first", "flyte_cached-x").await;

    let racing = app
        .catalog
        .add_tag(datacatalog::AddTagRequest {
            tag: Some(datacatalog::Tag {
                name: "flyte_cached-x".into(),
                artifact_id: "second".into(),
                dataset: Some(dataset.clone()),
            }),
        })
        .await;
    let (code, message) = refusal(racing);
    assert_eq!(code, Code::AlreadyExists);
    assert!(
        message.contains("already names artifact first"),
        "{message}"
    );
    // The tag keeps the first artifact, as in datacatalog.
    let read = app
        .catalog
        .get_artifact(by_tag(&dataset, "flyte_cached-x"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read.artifact.unwrap().id, "first");
}

async fn an_artifact_and_its_tags_are_stored_together_or_not_at_all() {
    let mut app = TestCatalog::spawn().await;
    let dataset = app.create_dataset("flyte_task-add", "1", &[]).await;
    let mut tagged = artifact(&dataset, "first", 1, "e1");
    tagged.tags = vec![tag_named("flyte_cached-x")];
    app.catalog
        .create_artifact(datacatalog::CreateArtifactRequest {
            artifact: Some(tagged),
        })
        .await
        .expect("artifact and tag in one call");
    let read = app
        .catalog
        .get_artifact(by_tag(&dataset, "flyte_cached-x"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read.artifact.unwrap().id, "first");

    // A racing put loses the tag and leaves nothing behind: no artifact,
    // no data in the store.
    let mut racing = artifact(&dataset, "second", 2, "e2");
    racing.tags = vec![tag_named("flyte_cached-x")];
    let (code, message) = refusal(
        app.catalog
            .create_artifact(datacatalog::CreateArtifactRequest {
                artifact: Some(racing),
            })
            .await,
    );
    assert_eq!(code, Code::AlreadyExists);
    assert!(message.contains("nothing was stored"), "{message}");
    let (code, _) = refusal(
        app.catalog
            .get_artifact(by_id(Some(&dataset), "second"))
            .await,
    );
    assert_eq!(code, Code::NotFound);
    assert_eq!(
        app.stored_objects().await.len(),
        1,
        "only the first artifact's data"
    );
}

async fn a_lost_blob_is_a_miss_and_the_next_put_fills_the_tag_again() {
    let mut app = TestCatalog::spawn().await;
    let dataset = app.create_dataset("flyte_task-add", "1", &[]).await;
    app.create_artifact(&dataset, "a1", 1, "e1").await;
    app.add_tag(&dataset, "a1", "flyte_cached-x").await;
    // A storage lifecycle rule deletes the object behind the catalog's back.
    for key in app.stored_objects().await {
        app.api.storage().delete(&key).await.unwrap();
    }

    let (code, message) = refusal(
        app.catalog
            .get_artifact(by_tag(&dataset, "flyte_cached-x"))
            .await,
    );
    assert_eq!(code, Code::NotFound, "{message}");
    assert!(message.contains("lost its output \"o0\""), "{message}");

    app.create_artifact(&dataset, "a2", 2, "e2").await;
    app.add_tag(&dataset, "a2", "flyte_cached-x").await;
    let read = app
        .catalog
        .get_artifact(by_tag(&dataset, "flyte_cached-x"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        output_integer(read.artifact.as_ref().unwrap(), "o0"),
        Some(2)
    );
}

async fn artifacts_are_listed_by_tag_partition_and_id_and_paged() {
    let mut app = TestCatalog::spawn().await;
    let dataset = app.create_dataset("flyte_task-add", "1", &["region"]).await;
    for (id, region) in [("a1", "eu"), ("a2", "us"), ("a3", "eu")] {
        let mut partitioned = artifact(&dataset, id, 1, "e");
        partitioned.partitions = vec![datacatalog::Partition {
            key: "region".into(),
            value: region.into(),
        }];
        app.catalog
            .create_artifact(datacatalog::CreateArtifactRequest {
                artifact: Some(partitioned),
            })
            .await
            .unwrap();
    }
    app.add_tag(&dataset, "a2", "latest").await;

    let list = |filters: Vec<single_property_filter::PropertyFilter>, pagination| {
        datacatalog::ListArtifactsRequest {
            dataset: Some(dataset.clone()),
            filter: Some(FilterExpression {
                filters: filters
                    .into_iter()
                    .map(|property| SinglePropertyFilter {
                        operator: 0,
                        property_filter: Some(property),
                    })
                    .collect(),
            }),
            pagination,
        }
    };
    let ids = |response: datacatalog::ListArtifactsResponse| {
        response
            .artifacts
            .into_iter()
            .map(|artifact| artifact.id)
            .collect::<Vec<_>>()
    };

    let everything = app
        .catalog
        .list_artifacts(list(Vec::new(), None))
        .await
        .unwrap()
        .into_inner();
    assert!(
        everything
            .artifacts
            .iter()
            .all(|artifact| output_integer(artifact, "o0") == Some(1))
    );
    assert_eq!(ids(everything), ["a3", "a2", "a1"]);

    use single_property_filter::PropertyFilter;
    let eu = PropertyFilter::PartitionFilter(datacatalog::PartitionPropertyFilter {
        property: Some(datacatalog::partition_property_filter::Property::KeyVal(
            datacatalog::KeyValuePair {
                key: "region".into(),
                value: "eu".into(),
            },
        )),
    });
    let in_eu = app
        .catalog
        .list_artifacts(list(vec![eu.clone()], None))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ids(in_eu), ["a3", "a1"]);
    let latest = PropertyFilter::TagFilter(datacatalog::TagPropertyFilter {
        property: Some(datacatalog::tag_property_filter::Property::TagName(
            "latest".into(),
        )),
    });
    let tagged = app
        .catalog
        .list_artifacts(list(vec![latest.clone()], None))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ids(tagged), ["a2"]);
    let nothing = app
        .catalog
        .list_artifacts(list(vec![latest, eu], None))
        .await
        .unwrap()
        .into_inner();
    assert!(nothing.artifacts.is_empty());
    let a1 = PropertyFilter::ArtifactFilter(datacatalog::ArtifactPropertyFilter {
        property: Some(datacatalog::artifact_property_filter::Property::ArtifactId(
            "a1".into(),
        )),
    });
    let one = app
        .catalog
        .list_artifacts(list(vec![a1], None))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ids(one), ["a1"]);

    let first_page = app
        .catalog
        .list_artifacts(list(
            Vec::new(),
            Some(PaginationOptions {
                limit: 2,
                ..Default::default()
            }),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first_page.next_token, "2");
    let second_page = app
        .catalog
        .list_artifacts(list(
            Vec::new(),
            Some(PaginationOptions {
                limit: 2,
                token: first_page.next_token.clone(),
                ..Default::default()
            }),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ids(first_page), ["a3", "a2"]);
    assert_eq!(ids(second_page), ["a1"]);

    let by_dataset = PropertyFilter::DatasetFilter(datacatalog::DatasetPropertyFilter {
        property: Some(datacatalog::dataset_property_filter::Property::Name(
            "x".into(),
        )),
    });
    let (code, message) = refusal(
        app.catalog
            .list_artifacts(list(vec![by_dataset], None))
            .await,
    );
    assert_eq!(code, Code::InvalidArgument);
    assert!(
        message.starts_with("filter.filters[0]: artifacts cannot be filtered by dataset"),
        "{message}"
    );
    let mut unknown = list(Vec::new(), None);
    unknown.dataset = Some(dataset_id("flyte_task-nothing", "1"));
    let (code, _) = refusal(app.catalog.list_artifacts(unknown).await);
    assert_eq!(code, Code::NotFound);

    let mut wrong_partition = artifact(&dataset, "a4", 1, "e");
    wrong_partition.partitions = vec![datacatalog::Partition {
        key: "zone".into(),
        value: "x".into(),
    }];
    let (code, message) = refusal(
        app.catalog
            .create_artifact(datacatalog::CreateArtifactRequest {
                artifact: Some(wrong_partition),
            })
            .await,
    );
    assert_eq!(code, Code::InvalidArgument);
    assert!(
        message.starts_with("artifact.partitions[0].key"),
        "{message}"
    );
}

async fn an_update_overwrites_data_and_metadata_and_drops_removed_outputs() {
    let mut app = TestCatalog::spawn().await;
    let dataset = app.create_dataset("flyte_task-add", "1", &[]).await;
    let mut two_outputs = artifact(&dataset, "a1", 1, "e1");
    two_outputs.data.push(datacatalog::ArtifactData {
        name: "o1".into(),
        value: Some(integer(10)),
    });
    app.catalog
        .create_artifact(datacatalog::CreateArtifactRequest {
            artifact: Some(two_outputs),
        })
        .await
        .unwrap();
    app.add_tag(&dataset, "a1", "flyte_cached-x").await;
    let created = app
        .catalog
        .get_artifact(by_id(Some(&dataset), "a1"))
        .await
        .unwrap()
        .into_inner();

    let updated = app
        .catalog
        .update_artifact(datacatalog::UpdateArtifactRequest {
            dataset: Some(dataset.clone()),
            query_handle: Some(datacatalog::update_artifact_request::QueryHandle::TagName(
                "flyte_cached-x".into(),
            )),
            data: vec![datacatalog::ArtifactData {
                name: "o0".into(),
                value: Some(integer(2)),
            }],
            metadata: Some(source_metadata("e2")),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.artifact_id, "a1");

    let read = app
        .catalog
        .get_artifact(by_tag(&dataset, "flyte_cached-x"))
        .await
        .unwrap()
        .into_inner();
    let read = read.artifact.unwrap();
    assert_eq!(output_integer(&read, "o0"), Some(2));
    assert_eq!(read.data.len(), 1);
    assert_eq!(read.metadata, Some(source_metadata("e2")));
    // An overwrite keeps the creation time, as datacatalog's does.
    assert_eq!(read.created_at, created.artifact.unwrap().created_at);
    assert_eq!(
        app.stored_objects().await.len(),
        1,
        "o1's object is deleted"
    );

    let missing = app
        .catalog
        .update_artifact(datacatalog::UpdateArtifactRequest {
            dataset: Some(dataset.clone()),
            query_handle: Some(datacatalog::update_artifact_request::QueryHandle::TagName(
                "flyte_cached-nothing".into(),
            )),
            data: vec![datacatalog::ArtifactData {
                name: "o0".into(),
                value: Some(integer(3)),
            }],
            metadata: None,
        })
        .await;
    let (code, _) = refusal(missing);
    assert_eq!(
        code,
        Code::NotFound,
        "propeller then falls back to create and tag"
    );
}

common::on_every_backend!(
    an_artifact_is_read_back_by_id_and_by_tag_with_its_data,
    misses_and_refusals_name_what_is_missing_or_wrong,
    a_second_tag_of_the_same_name_is_already_exists,
    an_artifact_and_its_tags_are_stored_together_or_not_at_all,
    a_lost_blob_is_a_miss_and_the_next_put_fills_the_tag_again,
    artifacts_are_listed_by_tag_partition_and_id_and_paged,
    an_update_overwrites_data_and_metadata_and_drops_removed_outputs,
);
