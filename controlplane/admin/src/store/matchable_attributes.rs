//! Matchable attributes: per-level overrides (project, project and domain,
//! workflow) of one resource type each.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{DatabaseContext, SqlStore, StoreError};

/// Where attributes apply: one resource type at one level. Empty `domain`,
/// `workflow` and `launch_plan` mean the level above.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchableAttributesKey {
    /// `admin.MatchableResource` as an integer.
    pub resource_type: i32,
    /// The project.
    pub project: String,
    /// The domain, or empty for project-wide attributes.
    pub domain: String,
    /// The workflow name, or empty.
    pub workflow: String,
    /// The launch plan name, or empty.
    pub launch_plan: String,
}

/// Stored attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchableAttributesRecord {
    /// Where they apply.
    pub key: MatchableAttributesKey,
    /// The encoded `admin.MatchingAttributes`.
    pub attributes: Vec<u8>,
}

/// Storage of matchable attributes.
#[allow(async_fn_in_trait)] // Used through the concrete store, whose futures are Send.
pub trait MatchableAttributesRepo {
    /// Stores the attributes, replacing any at the same key.
    async fn put_matchable_attributes(
        &self,
        record: &MatchableAttributesRecord,
        now: i64,
    ) -> Result<(), StoreError>;
    /// The attributes at `key`.
    async fn get_matchable_attributes(
        &self,
        key: &MatchableAttributesKey,
    ) -> Result<Option<MatchableAttributesRecord>, StoreError>;
    /// Removes the attributes at `key`; false if there were none.
    async fn delete_matchable_attributes(
        &self,
        key: &MatchableAttributesKey,
    ) -> Result<bool, StoreError>;
    /// Every level's attributes of one resource type.
    async fn list_matchable_attributes(
        &self,
        resource_type: i32,
    ) -> Result<Vec<MatchableAttributesRecord>, StoreError>;
}

const KEY_MATCH: &str = "resource_type = $1 AND project = $2 AND domain = $3 AND workflow = $4 \
     AND launch_plan = $5";

fn record_from_row(row: &AnyRow) -> Result<MatchableAttributesRecord, sqlx::Error> {
    Ok(MatchableAttributesRecord {
        key: MatchableAttributesKey {
            resource_type: i32::try_from(row.try_get::<i64, _>("resource_type")?)
                .unwrap_or_default(),
            project: row.try_get("project")?,
            domain: row.try_get("domain")?,
            workflow: row.try_get("workflow")?,
            launch_plan: row.try_get("launch_plan")?,
        },
        attributes: row.try_get("attributes")?,
    })
}

impl MatchableAttributesRepo for SqlStore {
    #[tracing::instrument(skip_all, fields(project = %record.key.project, resource_type = record.key.resource_type))]
    async fn put_matchable_attributes(
        &self,
        record: &MatchableAttributesRecord,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO matchable_attributes (resource_type, project, domain, workflow, \
             launch_plan, attributes, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
             ON CONFLICT (resource_type, project, domain, workflow, launch_plan) \
             DO UPDATE SET attributes = excluded.attributes, updated_at = excluded.updated_at",
        )
        .bind(i64::from(record.key.resource_type))
        .bind(record.key.project.clone())
        .bind(record.key.domain.clone())
        .bind(record.key.workflow.clone())
        .bind(record.key.launch_plan.clone())
        .bind(record.attributes.clone())
        .bind(now)
        .execute(&self.pool)
        .await
        .context("store matchable attributes")?;
        Ok(())
    }

    #[tracing::instrument(skip(self))]
    async fn get_matchable_attributes(
        &self,
        key: &MatchableAttributesKey,
    ) -> Result<Option<MatchableAttributesRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT resource_type, project, domain, workflow, launch_plan, attributes \
             FROM matchable_attributes WHERE {KEY_MATCH}"
        ))
        .bind(i64::from(key.resource_type))
        .bind(key.project.clone())
        .bind(key.domain.clone())
        .bind(key.workflow.clone())
        .bind(key.launch_plan.clone())
        .fetch_optional(&self.pool)
        .await
        .context("read matchable attributes")?;
        row.as_ref()
            .map(record_from_row)
            .transpose()
            .context("decode matchable attributes")
    }

    #[tracing::instrument(skip(self))]
    async fn delete_matchable_attributes(
        &self,
        key: &MatchableAttributesKey,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(&format!(
            "DELETE FROM matchable_attributes WHERE {KEY_MATCH}"
        ))
        .bind(i64::from(key.resource_type))
        .bind(key.project.clone())
        .bind(key.domain.clone())
        .bind(key.workflow.clone())
        .bind(key.launch_plan.clone())
        .execute(&self.pool)
        .await
        .context("delete matchable attributes")?;
        Ok(result.rows_affected() > 0)
    }

    #[tracing::instrument(skip(self))]
    async fn list_matchable_attributes(
        &self,
        resource_type: i32,
    ) -> Result<Vec<MatchableAttributesRecord>, StoreError> {
        // The primary key starts with the resource type, so this is an index range.
        let rows = sqlx::query(
            "SELECT resource_type, project, domain, workflow, launch_plan, attributes \
             FROM matchable_attributes WHERE resource_type = $1 \
             ORDER BY project, domain, workflow, launch_plan",
        )
        .bind(i64::from(resource_type))
        .fetch_all(&self.pool)
        .await
        .context("list matchable attributes")?;
        rows.iter()
            .map(record_from_row)
            .collect::<Result<_, _>>()
            .context("decode matchable attributes")
    }
}
