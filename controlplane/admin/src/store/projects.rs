//! Projects: the top of Flyte's namespace.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::timing::time_database_call;
use super::{
    DatabaseContext, ListQuery, ListStatement, SqlStore, StoreError, bind_values, map_insert_error,
};

/// A stored project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRecord {
    /// The unique identifier (`flytesnacks`).
    pub id: String,
    /// The display name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// The encoded `admin.Labels`.
    pub labels: Vec<u8>,
    /// `admin.Project.ProjectState` as an integer.
    pub state: i32,
    /// The organisation (empty in single-tenant setups).
    pub org: String,
    /// When it was registered (microseconds since the epoch).
    pub created_at: i64,
    /// When it last changed.
    pub updated_at: i64,
}

/// Storage of projects.
#[allow(async_fn_in_trait)] // Used through the concrete store, whose futures are Send.
pub trait ProjectRepo {
    /// Stores a new project; [`StoreError::AlreadyExists`] if the id is taken.
    async fn create_project(&self, project: &ProjectRecord) -> Result<(), StoreError>;
    /// Replaces name, description, labels and state; false if there is no such project.
    async fn update_project(&self, project: &ProjectRecord) -> Result<bool, StoreError>;
    /// The project with this id.
    async fn get_project(&self, id: &str) -> Result<Option<ProjectRecord>, StoreError>;
    /// Projects matching `query`.
    async fn list_projects(&self, query: &ListQuery) -> Result<Vec<ProjectRecord>, StoreError>;
}

pub(super) const PROJECT_COLUMNS: &str =
    "id, name, description, labels, state, org, created_at, updated_at";

fn project_from_row(row: &AnyRow) -> Result<ProjectRecord, sqlx::Error> {
    Ok(ProjectRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        labels: row.try_get("labels")?,
        state: i32::try_from(row.try_get::<i64, _>("state")?).unwrap_or_default(),
        org: row.try_get("org")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl ProjectRepo for SqlStore {
    #[tracing::instrument(skip_all, fields(project = %project.id))]
    async fn create_project(&self, project: &ProjectRecord) -> Result<(), StoreError> {
        let _timer = time_database_call!("project", "create");
        sqlx::query(
            "INSERT INTO projects (id, name, description, labels, state, org, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(project.id.clone())
        .bind(project.name.clone())
        .bind(project.description.clone())
        .bind(project.labels.clone())
        .bind(i64::from(project.state))
        .bind(project.org.clone())
        .bind(project.created_at)
        .bind(project.updated_at)
        .execute(&self.pool)
        .await
        .map_err(|error| {
            map_insert_error(error, "insert a project", || {
                format!("project {}", project.id)
            })
        })?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(project = %project.id))]
    async fn update_project(&self, project: &ProjectRecord) -> Result<bool, StoreError> {
        let _timer = time_database_call!("project", "update");
        let result = sqlx::query(
            "UPDATE projects SET name = $1, description = $2, labels = $3, state = $4, updated_at = $5 \
             WHERE id = $6",
        )
        .bind(project.name.clone())
        .bind(project.description.clone())
        .bind(project.labels.clone())
        .bind(i64::from(project.state))
        .bind(project.updated_at)
        .bind(project.id.clone())
        .execute(&self.pool)
        .await
        .context("update a project")?;
        Ok(result.rows_affected() > 0)
    }

    #[tracing::instrument(skip(self))]
    async fn get_project(&self, id: &str) -> Result<Option<ProjectRecord>, StoreError> {
        let _timer = time_database_call!("project", "get");
        let row = sqlx::query(&format!(
            "SELECT {PROJECT_COLUMNS} FROM projects WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .context("read a project")?;
        row.as_ref()
            .map(project_from_row)
            .transpose()
            .context("decode a project")
    }

    #[tracing::instrument(skip_all)]
    async fn list_projects(&self, query: &ListQuery) -> Result<Vec<ProjectRecord>, StoreError> {
        let _timer = time_database_call!("project", "list");
        let (sql, binds) = ListStatement::Projects.sql(query);
        let rows = bind_values(sqlx::query(&sql), &binds)
            .fetch_all(&self.pool)
            .await
            .context("list projects")?;
        rows.iter()
            .map(project_from_row)
            .collect::<Result<_, _>>()
            .context("decode a project")
    }
}
