//! CreateDataset, GetDataset and ListDatasets: keyed, filtered and paged as
//! datacatalog does, and refusals that name what is wrong.

mod common;

use common::{DOMAIN, PROJECT, TestCatalog, dataset_id, metadata, refusal};
use tonic::Code;
use updraft_proto::datacatalog::{
    self, DatasetPropertyFilter, FilterExpression, PaginationOptions, SinglePropertyFilter,
    dataset_property_filter, pagination_options, single_property_filter,
};

fn dataset_filter(property: dataset_property_filter::Property) -> SinglePropertyFilter {
    SinglePropertyFilter {
        operator: single_property_filter::ComparisonOperator::Equals as i32,
        property_filter: Some(single_property_filter::PropertyFilter::DatasetFilter(
            DatasetPropertyFilter {
                property: Some(property),
            },
        )),
    }
}

async fn list(
    app: &mut TestCatalog,
    filters: Vec<SinglePropertyFilter>,
    pagination: Option<PaginationOptions>,
) -> Result<datacatalog::ListDatasetsResponse, tonic::Status> {
    app.catalog
        .list_datasets(datacatalog::ListDatasetsRequest {
            filter: Some(FilterExpression { filters }),
            pagination,
        })
        .await
        .map(tonic::Response::into_inner)
}

fn names(response: &datacatalog::ListDatasetsResponse) -> Vec<String> {
    response
        .datasets
        .iter()
        .map(|dataset| {
            let id = dataset.id.as_ref().unwrap();
            format!("{}@{}", id.name, id.version)
        })
        .collect()
}

async fn a_dataset_is_created_once_and_read_back_with_its_uuid() {
    let mut app = TestCatalog::spawn().await;
    let id = app
        .create_dataset("flyte_task-add", "1.0-abc-def", &["region"])
        .await;

    let dataset = app
        .catalog
        .get_dataset(datacatalog::GetDatasetRequest {
            dataset: Some(id.clone()),
        })
        .await
        .unwrap()
        .into_inner()
        .dataset
        .unwrap();
    let read = dataset.id.clone().unwrap();
    assert_eq!(
        (read.project.as_str(), read.domain.as_str()),
        (PROJECT, DOMAIN)
    );
    assert_eq!(read.name, "flyte_task-add");
    assert!(uuid::Uuid::parse_str(&read.uuid).is_ok(), "{read:?}");
    assert_eq!(dataset.metadata, Some(metadata(&[("task-version", "v1")])));
    assert_eq!(dataset.partition_keys, ["region"]);

    // Propeller creates the dataset on every put and ignores ALREADY_EXISTS.
    let again = app
        .catalog
        .create_dataset(datacatalog::CreateDatasetRequest {
            dataset: Some(datacatalog::Dataset {
                id: Some(id),
                metadata: Some(metadata(&[("task-version", "v2")])),
                partition_keys: Vec::new(),
            }),
        })
        .await;
    let (code, message) = refusal(again);
    assert_eq!(code, Code::AlreadyExists);
    assert!(message.contains("flyte_task-add"), "{message}");
}

async fn unknown_and_malformed_datasets_are_named() {
    let mut app = TestCatalog::spawn().await;
    let missing = app
        .catalog
        .get_dataset(datacatalog::GetDatasetRequest {
            dataset: Some(dataset_id("flyte_task-nothing", "1.0-a-b")),
        })
        .await;
    let (code, message) = refusal(missing);
    assert_eq!(code, Code::NotFound);
    assert_eq!(
        message,
        "dataset flytesnacks/development/flyte_task-nothing version 1.0-a-b not found"
    );

    let no_version = app
        .catalog
        .get_dataset(datacatalog::GetDatasetRequest {
            dataset: Some(dataset_id("flyte_task-add", "")),
        })
        .await;
    assert_eq!(
        refusal(no_version),
        (
            Code::InvalidArgument,
            "dataset.version is required".to_string()
        )
    );

    let bad_uuid = app
        .catalog
        .create_dataset(datacatalog::CreateDatasetRequest {
            dataset: Some(datacatalog::Dataset {
                id: Some(datacatalog::DatasetId {
                    uuid: "not-a-uuid".into(),
                    ..dataset_id("flyte_task-add", "1")
                }),
                ..Default::default()
            }),
        })
        .await;
    let (code, message) = refusal(bad_uuid);
    assert_eq!(code, Code::InvalidArgument);
    assert!(message.starts_with("dataset.id.UUID"), "{message}");

    let escaping = app
        .catalog
        .create_dataset(datacatalog::CreateDatasetRequest {
            dataset: Some(datacatalog::Dataset {
                id: Some(dataset_id("..", "1")),
                ..Default::default()
            }),
        })
        .await;
    let (code, message) = refusal(escaping);
    assert_eq!(code, Code::InvalidArgument);
    assert!(message.starts_with("dataset.id.name"), "{message}");

    let repeated_key = app
        .catalog
        .create_dataset(datacatalog::CreateDatasetRequest {
            dataset: Some(datacatalog::Dataset {
                id: Some(dataset_id("flyte_task-add", "1")),
                partition_keys: vec!["a".into(), "a".into()],
                ..Default::default()
            }),
        })
        .await;
    let (code, message) = refusal(repeated_key);
    assert_eq!(code, Code::InvalidArgument);
    assert!(message.starts_with("dataset.partitionKeys[1]"), "{message}");
}

async fn datasets_are_filtered_by_each_property_and_paged_newest_first() {
    let mut app = TestCatalog::spawn().await;
    for (name, version) in [
        ("flyte_task-a", "1"),
        ("flyte_task-b", "1"),
        ("flyte_task-a", "2"),
    ] {
        app.create_dataset(name, version, &[]).await;
    }

    let everything = list(&mut app, Vec::new(), None).await.unwrap();
    assert_eq!(
        names(&everything),
        ["flyte_task-a@2", "flyte_task-b@1", "flyte_task-a@1"]
    );
    // As from datacatalog, the token is the count read so far, even at the end.
    assert_eq!(everything.next_token, "3");

    use dataset_property_filter::Property;
    let by_name = list(
        &mut app,
        vec![dataset_filter(Property::Name("flyte_task-a".into()))],
        None,
    )
    .await
    .unwrap();
    assert_eq!(names(&by_name), ["flyte_task-a@2", "flyte_task-a@1"]);
    let by_version_and_project = list(
        &mut app,
        vec![
            dataset_filter(Property::Version("1".into())),
            dataset_filter(Property::Project(PROJECT.into())),
        ],
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        names(&by_version_and_project),
        ["flyte_task-b@1", "flyte_task-a@1"]
    );
    let other_domain = list(
        &mut app,
        vec![dataset_filter(Property::Domain("production".into()))],
        None,
    )
    .await
    .unwrap();
    assert!(other_domain.datasets.is_empty());

    let mut pages = Vec::new();
    let mut token = String::new();
    loop {
        let page = list(
            &mut app,
            Vec::new(),
            Some(PaginationOptions {
                limit: 2,
                token: token.clone(),
                sort_key: pagination_options::SortKey::CreationTime as i32,
                sort_order: pagination_options::SortOrder::Ascending as i32,
            }),
        )
        .await
        .unwrap();
        if page.datasets.is_empty() {
            break;
        }
        pages.push(names(&page));
        token = page.next_token;
    }
    assert_eq!(
        pages,
        [
            vec!["flyte_task-a@1", "flyte_task-b@1"],
            vec!["flyte_task-a@2"]
        ]
    );
}

async fn bad_filters_and_pages_are_refused_naming_the_field() {
    let mut app = TestCatalog::spawn().await;
    let tag_filter = SinglePropertyFilter {
        operator: 0,
        property_filter: Some(single_property_filter::PropertyFilter::TagFilter(
            datacatalog::TagPropertyFilter {
                property: Some(datacatalog::tag_property_filter::Property::TagName(
                    "t".into(),
                )),
            },
        )),
    };
    let (code, message) = refusal(list(&mut app, vec![tag_filter], None).await);
    assert_eq!(code, Code::InvalidArgument);
    assert_eq!(
        message,
        "filter.filters[0]: datasets cannot be filtered by tag properties"
    );

    let unknown_operator = SinglePropertyFilter {
        operator: 3,
        ..dataset_filter(dataset_property_filter::Property::Name("x".into()))
    };
    let (code, message) = refusal(list(&mut app, vec![unknown_operator], None).await);
    assert_eq!(code, Code::InvalidArgument);
    assert!(
        message.starts_with("filter.filters[0].operator"),
        "{message}"
    );

    let empty_value = dataset_filter(dataset_property_filter::Property::Name(String::new()));
    let (code, message) = refusal(list(&mut app, vec![empty_value], None).await);
    assert_eq!(code, Code::InvalidArgument);
    assert_eq!(message, "filter.filters[0].dataset_filter.name is required");

    let bad_token = PaginationOptions {
        token: "page-2".into(),
        ..Default::default()
    };
    let (code, message) = refusal(list(&mut app, Vec::new(), Some(bad_token)).await);
    assert_eq!(code, Code::InvalidArgument);
    assert!(
        message.starts_with("pagination.token \"page-2\""),
        "{message}"
    );

    let too_large = PaginationOptions {
        limit: 100_000,
        ..Default::default()
    };
    let (code, message) = refusal(list(&mut app, Vec::new(), Some(too_large)).await);
    assert_eq!(code, Code::InvalidArgument);
    assert!(message.starts_with("pagination.limit"), "{message}");
}

common::on_every_backend!(
    a_dataset_is_created_once_and_read_back_with_its_uuid,
    unknown_and_malformed_datasets_are_named,
    datasets_are_filtered_by_each_property_and_paged_newest_first,
    bad_filters_and_pages_are_refused_naming_the_field,
);
