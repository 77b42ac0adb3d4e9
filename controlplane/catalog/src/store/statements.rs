//! The SQL of every query the catalog reads with, in one place, so the store
//! runs exactly the text a test hands to `EXPLAIN` (every list and lookup
//! must be served by an index, on SQLite and on PostgreSQL).

use updraft_database::SqlValue;

use crate::identifiers::DatasetKey;

/// The columns a dataset is read with.
pub(crate) const DATASET_COLUMNS: &str = "project, name, domain, version, uuid, spec, created_at";

/// The columns an artifact is read with (its dataset's key comes from the caller).
pub(crate) const ARTIFACT_COLUMNS: &str = "catalog_artifacts.dataset_uuid, catalog_artifacts.artifact_id, \
     catalog_artifacts.metadata, catalog_artifacts.created_at, catalog_artifacts.updated_at";

/// One page of a list, newest first unless `descending` is false.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// At most this many rows.
    pub limit: i64,
    /// Rows skipped (the page token).
    pub offset: i64,
    /// Newest first (datacatalog's default) or oldest first.
    pub descending: bool,
}

/// `ListDatasets`: datasets whose columns equal the values given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetListQuery {
    /// `(column, value)`; the column comes from [`DatasetListQuery::column_of`],
    /// never from the request.
    pub conditions: Vec<(&'static str, String)>,
    /// The page.
    pub page: Page,
}

/// One condition of `ListArtifacts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArtifactFilter {
    /// The artifact has this id.
    ArtifactId(String),
    /// A tag of this name points at the artifact.
    TagName(String),
    /// The artifact's partition `key` holds `value`.
    Partition {
        /// The partition key.
        key: String,
        /// Its value.
        value: String,
    },
}

/// `ListArtifacts` within one dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactListQuery {
    /// All must hold.
    pub filters: Vec<ArtifactFilter>,
    /// The page.
    pub page: Page,
}

fn placeholder(binds: &mut Vec<SqlValue>, value: SqlValue) -> String {
    binds.push(value);
    format!("${}", binds.len())
}

fn text(value: &str) -> SqlValue {
    SqlValue::Text(value.to_string())
}

fn order_and_page(sql: &mut String, binds: &mut Vec<SqlValue>, columns: &[&str], page: &Page) {
    let direction = if page.descending { "DESC" } else { "ASC" };
    let order: Vec<String> = columns
        .iter()
        .map(|column| format!("{column} {direction}"))
        .collect();
    sql.push_str(&format!(" ORDER BY {}", order.join(", ")));
    let limit = placeholder(binds, SqlValue::Integer(page.limit));
    let offset = placeholder(binds, SqlValue::Integer(page.offset));
    sql.push_str(&format!(" LIMIT {limit} OFFSET {offset}"));
}

/// `ListDatasets`.
pub fn list_datasets(query: &DatasetListQuery) -> (String, Vec<SqlValue>) {
    let mut binds = Vec::new();
    let mut sql = format!("SELECT {DATASET_COLUMNS} FROM catalog_datasets");
    let clauses: Vec<String> = query
        .conditions
        .iter()
        .map(|(column, value)| format!("{column} = {}", placeholder(&mut binds, text(value))))
        .collect();
    if !clauses.is_empty() {
        sql.push_str(&format!(" WHERE {}", clauses.join(" AND ")));
    }
    order_and_page(&mut sql, &mut binds, &["created_at", "uuid"], &query.page);
    (sql, binds)
}

/// One dataset by key.
pub fn dataset_by_key(key: &DatasetKey) -> (String, Vec<SqlValue>) {
    (
        format!(
            "SELECT {DATASET_COLUMNS} FROM catalog_datasets \
             WHERE project = $1 AND name = $2 AND domain = $3 AND version = $4"
        ),
        vec![
            text(&key.project),
            text(&key.name),
            text(&key.domain),
            text(&key.version),
        ],
    )
}

/// One dataset by its UUID (an artifact asked for by id alone).
pub fn dataset_by_uuid(uuid: &str) -> (String, Vec<SqlValue>) {
    (
        format!("SELECT {DATASET_COLUMNS} FROM catalog_datasets WHERE uuid = $1"),
        vec![text(uuid)],
    )
}

/// `ListArtifacts` of the dataset `dataset_uuid`.
pub fn list_artifacts(dataset_uuid: &str, query: &ArtifactListQuery) -> (String, Vec<SqlValue>) {
    let mut binds = Vec::new();
    let mut sql = format!(
        "SELECT {ARTIFACT_COLUMNS} FROM catalog_artifacts WHERE catalog_artifacts.dataset_uuid = {}",
        placeholder(&mut binds, text(dataset_uuid))
    );
    for filter in &query.filters {
        match filter {
            ArtifactFilter::ArtifactId(artifact_id) => sql.push_str(&format!(
                " AND catalog_artifacts.artifact_id = {}",
                placeholder(&mut binds, text(artifact_id))
            )),
            ArtifactFilter::TagName(tag_name) => sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM catalog_tags \
                 WHERE catalog_tags.dataset_uuid = catalog_artifacts.dataset_uuid \
                 AND catalog_tags.tag_name = {} \
                 AND catalog_tags.artifact_id = catalog_artifacts.artifact_id)",
                placeholder(&mut binds, text(tag_name))
            )),
            ArtifactFilter::Partition { key, value } => {
                let key = placeholder(&mut binds, text(key));
                let value = placeholder(&mut binds, text(value));
                sql.push_str(&format!(
                    " AND EXISTS (SELECT 1 FROM catalog_partitions \
                     WHERE catalog_partitions.dataset_uuid = catalog_artifacts.dataset_uuid \
                     AND catalog_partitions.artifact_id = catalog_artifacts.artifact_id \
                     AND catalog_partitions.partition_key = {key} \
                     AND catalog_partitions.partition_value = {value})"
                ));
            }
        }
    }
    order_and_page(
        &mut sql,
        &mut binds,
        &[
            "catalog_artifacts.created_at",
            "catalog_artifacts.artifact_id",
        ],
        &query.page,
    );
    (sql, binds)
}

/// The artifact `tag_name` names in the dataset `key`, with its dataset: a
/// cache lookup in one query.
pub fn artifact_by_tag(key: &DatasetKey, tag_name: &str) -> (String, Vec<SqlValue>) {
    (
        format!(
            "SELECT {ARTIFACT_COLUMNS}, catalog_datasets.spec AS dataset_spec, \
             catalog_datasets.created_at AS dataset_created_at \
             FROM catalog_datasets \
             JOIN catalog_tags ON catalog_tags.dataset_uuid = catalog_datasets.uuid \
             JOIN catalog_artifacts ON catalog_artifacts.dataset_uuid = catalog_tags.dataset_uuid \
             AND catalog_artifacts.artifact_id = catalog_tags.artifact_id \
             WHERE catalog_datasets.project = $1 AND catalog_datasets.name = $2 \
             AND catalog_datasets.domain = $3 AND catalog_datasets.version = $4 \
             AND catalog_tags.tag_name = $5"
        ),
        vec![
            text(&key.project),
            text(&key.name),
            text(&key.domain),
            text(&key.version),
            text(tag_name),
        ],
    )
}

/// The artifact with `artifact_id` in the dataset `dataset_uuid`, or in any
/// dataset when there is none (artifact ids are UUIDs).
pub fn artifact_by_id(dataset_uuid: Option<&str>, artifact_id: &str) -> (String, Vec<SqlValue>) {
    match dataset_uuid {
        Some(dataset_uuid) => (
            format!(
                "SELECT {ARTIFACT_COLUMNS} FROM catalog_artifacts \
                 WHERE catalog_artifacts.dataset_uuid = $1 AND catalog_artifacts.artifact_id = $2"
            ),
            vec![text(dataset_uuid), text(artifact_id)],
        ),
        None => (
            format!(
                "SELECT {ARTIFACT_COLUMNS} FROM catalog_artifacts \
                 WHERE catalog_artifacts.artifact_id = $1 \
                 ORDER BY catalog_artifacts.created_at DESC LIMIT 1"
            ),
            vec![text(artifact_id)],
        ),
    }
}

/// The rows of `table` (`catalog_artifact_data`, `catalog_partitions` or
/// `catalog_tags`) that belong to the artifacts `artifact_ids` of one
/// dataset, with `columns`, in `order`.
pub fn artifact_details(
    table: &'static str,
    columns: &'static str,
    order: &'static str,
    dataset_uuid: &str,
    artifact_ids: &[String],
) -> (String, Vec<SqlValue>) {
    let (condition, binds) = artifacts_in(dataset_uuid, artifact_ids);
    (
        format!("SELECT {columns} FROM {table} WHERE {condition} ORDER BY {order}"),
        binds,
    )
}

/// The condition selecting the rows of the artifacts `artifact_ids` of one
/// dataset, in any of the artifact tables (all lead with these columns).
pub fn artifacts_in(dataset_uuid: &str, artifact_ids: &[String]) -> (String, Vec<SqlValue>) {
    let mut binds = vec![text(dataset_uuid)];
    let placeholders: Vec<String> = artifact_ids
        .iter()
        .map(|artifact_id| placeholder(&mut binds, text(artifact_id)))
        .collect();
    (
        format!(
            "dataset_uuid = $1 AND artifact_id IN ({})",
            placeholders.join(", ")
        ),
        binds,
    )
}

/// The artifacts the execution `project`/`domain`/`name` produced.
pub fn artifacts_of_execution(project: &str, domain: &str, name: &str) -> (String, Vec<SqlValue>) {
    (
        "SELECT dataset_uuid, artifact_id FROM catalog_artifacts \
         WHERE source_execution_project = $1 AND source_execution_domain = $2 \
         AND source_execution_name = $3"
            .to_string(),
        vec![text(project), text(domain), text(name)],
    )
}

/// The reservation of one tag of one dataset.
pub fn reservation(key: &crate::identifiers::ReservationKey) -> (String, Vec<SqlValue>) {
    (
        "SELECT owner_id, expires_at FROM catalog_reservations \
         WHERE dataset_project = $1 AND dataset_name = $2 AND dataset_domain = $3 \
         AND dataset_version = $4 AND tag_name = $5"
            .to_string(),
        vec![
            text(&key.dataset.project),
            text(&key.dataset.name),
            text(&key.dataset.domain),
            text(&key.dataset.version),
            text(&key.tag_name),
        ],
    )
}

/// The tag `tag_name` of the dataset `dataset_uuid`: which artifact it names.
pub fn tag(dataset_uuid: &str, tag_name: &str) -> (String, Vec<SqlValue>) {
    (
        "SELECT artifact_id FROM catalog_tags WHERE dataset_uuid = $1 AND tag_name = $2"
            .to_string(),
        vec![text(dataset_uuid), text(tag_name)],
    )
}

impl DatasetListQuery {
    /// The column a dataset property filter compares.
    pub fn column_of(
        property: &updraft_proto::datacatalog::dataset_property_filter::Property,
    ) -> Option<(&'static str, &str)> {
        use updraft_proto::datacatalog::dataset_property_filter::Property;
        match property {
            Property::Project(value) => Some(("project", value)),
            Property::Name(value) => Some(("name", value)),
            Property::Domain(value) => Some(("domain", value)),
            Property::Version(value) => Some(("version", value)),
            Property::Org(_) => None,
        }
    }
}
