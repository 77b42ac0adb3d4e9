//! Description entities: the long descriptions of registered versions.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{
    DatabaseContext, DefinitionKey, ListQuery, ListStatement, SqlStore, StoreError, bind_values,
};

/// A stored description of one version of a task or workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescriptionEntityRecord {
    /// `core.ResourceType` as an integer.
    pub resource_type: i32,
    /// The version described.
    pub key: DefinitionKey,
    /// The one-line summary (also inside `entity`), kept as a column for filters.
    pub short_description: String,
    /// The encoded `admin.DescriptionEntity`.
    pub entity: Vec<u8>,
    /// When it was registered (microseconds since the epoch).
    pub created_at: i64,
}

/// Storage of description entities.
#[allow(async_fn_in_trait)] // Used through the concrete store, whose futures are Send.
pub trait DescriptionEntityRepo {
    /// Stores a description unless that version already has one (versions
    /// are immutable, so the first stays).
    async fn create_description_entity(
        &self,
        record: &DescriptionEntityRecord,
    ) -> Result<(), StoreError>;
    /// The description of one version.
    async fn get_description_entity(
        &self,
        resource_type: i32,
        key: &DefinitionKey,
    ) -> Result<Option<DescriptionEntityRecord>, StoreError>;
    /// Descriptions matching `query`.
    async fn list_description_entities(
        &self,
        query: &ListQuery,
    ) -> Result<Vec<DescriptionEntityRecord>, StoreError>;
}

pub(super) const COLUMNS: &str =
    "resource_type, project, domain, name, version, short_description, entity, created_at";

fn record_from_row(row: &AnyRow) -> Result<DescriptionEntityRecord, sqlx::Error> {
    Ok(DescriptionEntityRecord {
        resource_type: i32::try_from(row.try_get::<i64, _>("resource_type")?).unwrap_or_default(),
        key: DefinitionKey {
            project: row.try_get("project")?,
            domain: row.try_get("domain")?,
            name: row.try_get("name")?,
            version: row.try_get("version")?,
        },
        short_description: row.try_get("short_description")?,
        entity: row.try_get("entity")?,
        created_at: row.try_get("created_at")?,
    })
}

impl DescriptionEntityRepo for SqlStore {
    #[tracing::instrument(skip_all, fields(definition = %record.key))]
    async fn create_description_entity(
        &self,
        record: &DescriptionEntityRecord,
    ) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO description_entities ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (resource_type, project, domain, name, version) DO NOTHING"
        ))
        .bind(i64::from(record.resource_type))
        .bind(record.key.project.clone())
        .bind(record.key.domain.clone())
        .bind(record.key.name.clone())
        .bind(record.key.version.clone())
        .bind(record.short_description.clone())
        .bind(record.entity.clone())
        .bind(record.created_at)
        .execute(&self.pool)
        .await
        .context("insert a description entity")?;
        Ok(())
    }

    #[tracing::instrument(skip(self))]
    async fn get_description_entity(
        &self,
        resource_type: i32,
        key: &DefinitionKey,
    ) -> Result<Option<DescriptionEntityRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM description_entities WHERE resource_type = $1 \
             AND project = $2 AND domain = $3 AND name = $4 AND version = $5"
        ))
        .bind(i64::from(resource_type))
        .bind(key.project.clone())
        .bind(key.domain.clone())
        .bind(key.name.clone())
        .bind(key.version.clone())
        .fetch_optional(&self.pool)
        .await
        .context("read a description entity")?;
        row.as_ref()
            .map(record_from_row)
            .transpose()
            .context("decode a description entity")
    }

    #[tracing::instrument(skip_all)]
    async fn list_description_entities(
        &self,
        query: &ListQuery,
    ) -> Result<Vec<DescriptionEntityRecord>, StoreError> {
        let (sql, binds) = ListStatement::DescriptionEntities.sql(query);
        let rows = bind_values(sqlx::query(&sql), &binds)
            .fetch_all(&self.pool)
            .await
            .context("list description entities")?;
        rows.iter()
            .map(record_from_row)
            .collect::<Result<_, _>>()
            .context("decode a description entity")
    }
}
