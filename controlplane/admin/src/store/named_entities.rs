//! Named entities: the metadata (description, archive state) shared by every
//! version of a task, workflow or launch plan name.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{DatabaseContext, ListQuery, ListStatement, SqlStore, StoreError, bind_values};

/// Which named entity: a resource type and a name within a project and domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedEntityKey {
    /// `core.ResourceType` as an integer.
    pub resource_type: i32,
    /// The project.
    pub project: String,
    /// The domain.
    pub domain: String,
    /// The name.
    pub name: String,
}

/// A stored named entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedEntityRecord {
    /// Which entity.
    pub key: NamedEntityKey,
    /// Free text.
    pub description: String,
    /// `admin.NamedEntityState` as an integer.
    pub state: i32,
    /// When the first version was registered.
    pub created_at: i64,
}

/// Storage of named entity metadata.
#[allow(async_fn_in_trait)] // Used through the concrete store, whose futures are Send.
pub trait NamedEntityRepo {
    /// Records that a name exists (on first registration); a no-op if it does.
    async fn ensure_named_entity(&self, key: &NamedEntityKey, now: i64) -> Result<(), StoreError>;
    /// The entity, if any version of it was registered.
    async fn get_named_entity(
        &self,
        key: &NamedEntityKey,
    ) -> Result<Option<NamedEntityRecord>, StoreError>;
    /// Entities matching `query`.
    async fn list_named_entities(
        &self,
        query: &ListQuery,
    ) -> Result<Vec<NamedEntityRecord>, StoreError>;
    /// Replaces description and state; false if the entity does not exist.
    async fn update_named_entity(
        &self,
        key: &NamedEntityKey,
        description: &str,
        state: i32,
    ) -> Result<bool, StoreError>;
}

pub(super) const NAMED_ENTITY_COLUMNS: &str =
    "resource_type, project, domain, name, description, state, created_at";

fn named_entity_from_row(row: &AnyRow) -> Result<NamedEntityRecord, sqlx::Error> {
    Ok(NamedEntityRecord {
        key: NamedEntityKey {
            resource_type: i32::try_from(row.try_get::<i64, _>("resource_type")?)
                .unwrap_or_default(),
            project: row.try_get("project")?,
            domain: row.try_get("domain")?,
            name: row.try_get("name")?,
        },
        description: row.try_get("description")?,
        state: i32::try_from(row.try_get::<i64, _>("state")?).unwrap_or_default(),
        created_at: row.try_get("created_at")?,
    })
}

impl NamedEntityRepo for SqlStore {
    #[tracing::instrument(skip(self))]
    async fn ensure_named_entity(&self, key: &NamedEntityKey, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO named_entities (resource_type, project, domain, name, description, state, created_at) \
             VALUES ($1, $2, $3, $4, '', 0, $5) \
             ON CONFLICT (resource_type, project, domain, name) DO NOTHING",
        )
        .bind(i64::from(key.resource_type))
        .bind(key.project.clone())
        .bind(key.domain.clone())
        .bind(key.name.clone())
        .bind(now)
        .execute(&self.pool)
        .await
        .context("record a named entity")?;
        Ok(())
    }

    #[tracing::instrument(skip(self))]
    async fn get_named_entity(
        &self,
        key: &NamedEntityKey,
    ) -> Result<Option<NamedEntityRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {NAMED_ENTITY_COLUMNS} FROM named_entities \
             WHERE resource_type = $1 AND project = $2 AND domain = $3 AND name = $4"
        ))
        .bind(i64::from(key.resource_type))
        .bind(key.project.clone())
        .bind(key.domain.clone())
        .bind(key.name.clone())
        .fetch_optional(&self.pool)
        .await
        .context("read a named entity")?;
        row.as_ref()
            .map(named_entity_from_row)
            .transpose()
            .context("decode a named entity")
    }

    #[tracing::instrument(skip_all)]
    async fn list_named_entities(
        &self,
        query: &ListQuery,
    ) -> Result<Vec<NamedEntityRecord>, StoreError> {
        let (sql, binds) = ListStatement::NamedEntities.sql(query);
        let rows = bind_values(sqlx::query(&sql), &binds)
            .fetch_all(&self.pool)
            .await
            .context("list named entities")?;
        rows.iter()
            .map(named_entity_from_row)
            .collect::<Result<_, _>>()
            .context("decode a named entity")
    }

    #[tracing::instrument(skip(self))]
    async fn update_named_entity(
        &self,
        key: &NamedEntityKey,
        description: &str,
        state: i32,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE named_entities SET description = $1, state = $2 \
             WHERE resource_type = $3 AND project = $4 AND domain = $5 AND name = $6",
        )
        .bind(description.to_string())
        .bind(i64::from(state))
        .bind(i64::from(key.resource_type))
        .bind(key.project.clone())
        .bind(key.domain.clone())
        .bind(key.name.clone())
        .execute(&self.pool)
        .await
        .context("update a named entity")?;
        Ok(result.rows_affected() > 0)
    }
}
