//! Datasets: one row each, keyed as datacatalog keys them.

use sqlx::Row;
use sqlx::any::AnyRow;
use updraft_database::{bind_values, is_unique_violation};

use super::statements::{self, DatasetListQuery};
use super::{CatalogStore, DatabaseContext, StoreError, time_repository_call};
use crate::identifiers::DatasetKey;

/// A stored dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetRecord {
    /// Its key.
    pub key: DatasetKey,
    /// Its UUID (artifacts, tags and partitions refer to it).
    pub uuid: String,
    /// The `datacatalog.Dataset` as created, without its id.
    pub spec: Vec<u8>,
    /// When it was created.
    pub created_at: i64,
}

pub(crate) fn dataset_from_row(row: &AnyRow) -> Result<DatasetRecord, sqlx::Error> {
    Ok(DatasetRecord {
        key: DatasetKey {
            project: row.try_get("project")?,
            name: row.try_get("name")?,
            domain: row.try_get("domain")?,
            version: row.try_get("version")?,
        },
        uuid: row.try_get("uuid")?,
        spec: row.try_get("spec")?,
        created_at: row.try_get("created_at")?,
    })
}

impl CatalogStore {
    /// Stores a new dataset; `false` when one with its key (or UUID) exists.
    #[tracing::instrument(skip_all, fields(dataset = %dataset.key))]
    pub async fn create_dataset(&self, dataset: &DatasetRecord) -> Result<bool, StoreError> {
        let _timer = time_repository_call!("dataset", "create");
        let inserted = sqlx::query(
            "INSERT INTO catalog_datasets (project, name, domain, version, uuid, spec, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&dataset.key.project)
        .bind(&dataset.key.name)
        .bind(&dataset.key.domain)
        .bind(&dataset.key.version)
        .bind(&dataset.uuid)
        .bind(&dataset.spec)
        .bind(dataset.created_at)
        .execute(&self.pool)
        .await;
        match inserted {
            Ok(_) => Ok(true),
            Err(error) if is_unique_violation(&error) => Ok(false),
            Err(source) => Err(StoreError::Database {
                action: "create a dataset",
                source,
            }),
        }
    }

    /// The dataset with `key`, if there is one.
    #[tracing::instrument(skip_all, fields(dataset = %key))]
    pub async fn get_dataset(&self, key: &DatasetKey) -> Result<Option<DatasetRecord>, StoreError> {
        let _timer = time_repository_call!("dataset", "get");
        let (sql, binds) = statements::dataset_by_key(key);
        let row = bind_values(sqlx::query(&sql), &binds)
            .fetch_optional(&self.pool)
            .await
            .context("read a dataset")?;
        row.as_ref()
            .map(dataset_from_row)
            .transpose()
            .context("read a dataset")
    }

    /// The dataset with `uuid`, if there is one.
    pub async fn get_dataset_by_uuid(
        &self,
        uuid: &str,
    ) -> Result<Option<DatasetRecord>, StoreError> {
        let _timer = time_repository_call!("dataset", "get");
        let (sql, binds) = statements::dataset_by_uuid(uuid);
        let row = bind_values(sqlx::query(&sql), &binds)
            .fetch_optional(&self.pool)
            .await
            .context("read a dataset by uuid")?;
        row.as_ref()
            .map(dataset_from_row)
            .transpose()
            .context("read a dataset by uuid")
    }

    /// One page of datasets.
    #[tracing::instrument(skip_all)]
    pub async fn list_datasets(
        &self,
        query: &DatasetListQuery,
    ) -> Result<Vec<DatasetRecord>, StoreError> {
        let _timer = time_repository_call!("dataset", "list");
        let (sql, binds) = statements::list_datasets(query);
        let rows = bind_values(sqlx::query(&sql), &binds)
            .fetch_all(&self.pool)
            .await
            .context("list datasets")?;
        rows.iter()
            .map(dataset_from_row)
            .collect::<Result<_, _>>()
            .context("list datasets")
    }
}
