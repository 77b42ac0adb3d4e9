//! Every query the catalog reads with is served by an index: the database's
//! own planner is asked (SQLite `EXPLAIN QUERY PLAN`, PostgreSQL `EXPLAIN`
//! with sequential scans off) how it would run the exact SQL the store runs.

mod common;

use common::{PROJECT, TestCatalog};
use updraft_catalog::identifiers::{DatasetKey, ReservationKey};
use updraft_catalog::store::statements;
use updraft_catalog::store::{ArtifactFilter, ArtifactListQuery, DatasetListQuery, Dialect, Page};
use updraft_database::SqlValue;
use updraft_database::testing::plans::{full_scan_in, query_plan, searched_by_index_key};

const TABLES: &[&str] = &[
    "catalog_datasets",
    "catalog_artifacts",
    "catalog_artifact_data",
    "catalog_partitions",
    "catalog_tags",
    "catalog_reservations",
];

fn page() -> Page {
    Page {
        limit: 50,
        offset: 100,
        descending: true,
    }
}

fn key() -> DatasetKey {
    DatasetKey {
        project: PROJECT.into(),
        name: "flyte_task-add".into(),
        domain: "development".into(),
        version: "1".into(),
    }
}

/// One read: what it is, its SQL and binds, and the table it must reach
/// through an index key (all but the unfiltered dataset list must).
type Case = (String, (String, Vec<SqlValue>), Option<&'static str>);

/// Every read the catalog runs.
fn cases() -> Vec<Case> {
    let uuid = "00000000-0000-0000-0000-000000000000";
    let ids = vec!["a1".to_string(), "a2".to_string()];
    let mut cases = vec![
        (
            "every dataset".to_string(),
            statements::list_datasets(&DatasetListQuery {
                conditions: Vec::new(),
                page: page(),
            }),
            None,
        ),
        (
            "a dataset by key".into(),
            statements::dataset_by_key(&key()),
            Some("catalog_datasets"),
        ),
        (
            "a dataset by uuid".into(),
            statements::dataset_by_uuid(uuid),
            Some("catalog_datasets"),
        ),
        (
            "a lookup by tag".into(),
            statements::artifact_by_tag(&key(), "t"),
            Some("catalog_datasets"),
        ),
        (
            "an artifact by id".into(),
            statements::artifact_by_id(Some(uuid), "a1"),
            Some("catalog_artifacts"),
        ),
        (
            "an artifact by id alone".into(),
            statements::artifact_by_id(None, "a1"),
            Some("catalog_artifacts"),
        ),
        (
            "artifacts of an execution".into(),
            statements::artifacts_of_execution(PROJECT, "development", "e1"),
            Some("catalog_artifacts"),
        ),
        (
            "a tag".into(),
            statements::tag(uuid, "t"),
            Some("catalog_tags"),
        ),
        (
            "a reservation".into(),
            statements::reservation(&ReservationKey {
                dataset: key(),
                tag_name: "t".into(),
            }),
            Some("catalog_reservations"),
        ),
    ];
    for column in ["project", "name", "domain", "version"] {
        cases.push((
            format!("datasets by {column}"),
            statements::list_datasets(&DatasetListQuery {
                conditions: vec![(column, "x".to_string())],
                page: page(),
            }),
            Some("catalog_datasets"),
        ));
    }
    let filters = [
        ("every artifact", Vec::new()),
        (
            "artifacts by id",
            vec![ArtifactFilter::ArtifactId("a1".into())],
        ),
        (
            "artifacts by tag",
            vec![ArtifactFilter::TagName("t".into())],
        ),
        (
            "artifacts by partition and tag",
            vec![
                ArtifactFilter::Partition {
                    key: "region".into(),
                    value: "eu".into(),
                },
                ArtifactFilter::TagName("t".into()),
            ],
        ),
    ];
    for (what, filters) in filters {
        cases.push((
            what.to_string(),
            statements::list_artifacts(
                uuid,
                &ArtifactListQuery {
                    filters,
                    page: page(),
                },
            ),
            Some("catalog_artifacts"),
        ));
    }
    for (table, columns) in [
        ("catalog_artifact_data", "artifact_id, name, location"),
        ("catalog_partitions", "artifact_id, partition_key"),
        ("catalog_tags", "artifact_id, tag_name"),
    ] {
        cases.push((
            format!("details in {table}"),
            statements::artifact_details(table, columns, "artifact_id", uuid, &ids),
            Some(table),
        ));
    }
    cases
}

async fn every_read_is_served_by_an_index() {
    let app = TestCatalog::spawn().await;
    let store = app.api.store();
    let dialect = store.dialect();
    let mut connection = store.pool().acquire().await.expect("a connection");
    if dialect == Dialect::Postgres {
        sqlx::query("SET enable_seqscan = off")
            .execute(&mut *connection)
            .await
            .expect("disable sequential scans");
    }
    let mut failures = Vec::new();
    for (what, (sql, binds), searched) in cases() {
        let plan = query_plan(&mut connection, dialect, &sql, &binds).await;
        assert!(!plan.is_empty(), "{what}: the planner said nothing");
        let scans: Vec<String> = TABLES
            .iter()
            .filter_map(|table| full_scan_in(&plan, dialect, table))
            .collect();
        if !scans.is_empty() {
            failures.push(format!(
                "{what}: full scan {scans:?}\n  sql: {sql}\n  plan: {}",
                plan.join(" | ")
            ));
        }
        if let Some(table) = searched
            && !searched_by_index_key(&plan, dialect, table)
        {
            failures.push(format!(
                "{what}: {table} is not searched by an index key\n  sql: {sql}\n  plan: {}",
                plan.join(" | ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "catalog reads scan a table on {dialect:?}:\n{}",
        failures.join("\n")
    );
}

async fn the_index_check_notices_a_full_scan() {
    let app = TestCatalog::spawn().await;
    let store = app.api.store();
    let dialect = store.dialect();
    let mut connection = store.pool().acquire().await.expect("a connection");
    if dialect == Dialect::Postgres {
        sqlx::query("SET enable_seqscan = off")
            .execute(&mut *connection)
            .await
            .expect("disable sequential scans");
    }
    // No index leads with the owner.
    let sql = "SELECT tag_name FROM catalog_reservations WHERE owner_id = $1";
    let plan = query_plan(&mut connection, dialect, sql, &[SqlValue::Text("a".into())]).await;
    assert!(
        full_scan_in(&plan, dialect, "catalog_reservations").is_some(),
        "expected a full scan in {plan:?}"
    );
}

common::on_every_backend!(
    every_read_is_served_by_an_index,
    the_index_check_notices_a_full_scan
);
