//! Tasks, workflows and launch plans: immutable, versioned definitions keyed by
//! project, domain, name and version.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::timing::time_database_call;
use super::{
    DatabaseContext, ListQuery, ListStatement, SqlStore, StoreError, bind_values, map_insert_error,
};

/// The identifier of one version of a definition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DefinitionKey {
    /// The project.
    pub project: String,
    /// The domain.
    pub domain: String,
    /// The name.
    pub name: String,
    /// The version.
    pub version: String,
}

impl std::fmt::Display for DefinitionKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "{}/{}/{}/{}",
            self.project, self.domain, self.name, self.version
        )
    }
}

/// A stored task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRecord {
    /// Which task.
    pub key: DefinitionKey,
    /// `TaskTemplate.type`, kept apart for filtering.
    pub task_type: String,
    /// The `admin.TaskSpec` bytes as the client sent them.
    pub spec: Vec<u8>,
    /// A digest of `spec`, compared on re-registration.
    pub digest: String,
    /// The description's short form.
    pub short_description: String,
    /// Registration time (microseconds since the epoch).
    pub created_at: i64,
}

/// A stored workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowRecord {
    /// Which workflow.
    pub key: DefinitionKey,
    /// The `admin.WorkflowSpec` bytes as the client sent them.
    pub spec: Vec<u8>,
    /// The encoded `core.CompiledWorkflowClosure`.
    pub closure: Vec<u8>,
    /// A digest of `spec`, compared on re-registration.
    pub digest: String,
    /// The description's short form.
    pub short_description: String,
    /// Registration time.
    pub created_at: i64,
}

/// A stored launch plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchPlanRecord {
    /// Which launch plan.
    pub key: DefinitionKey,
    /// The workflow it launches.
    pub workflow: DefinitionKey,
    /// The `admin.LaunchPlanSpec` bytes as the client sent them.
    pub spec: Vec<u8>,
    /// The encoded `admin.LaunchPlanClosure` (expected inputs and outputs; state
    /// and times come from the columns).
    pub closure: Vec<u8>,
    /// A digest of `spec`, compared on re-registration.
    pub digest: String,
    /// `admin.LaunchPlanState` as an integer.
    pub state: i32,
    /// Registration time.
    pub created_at: i64,
    /// Last state change.
    pub updated_at: i64,
}

/// Storage of tasks.
#[allow(async_fn_in_trait)] // Used through the concrete store, whose futures are Send.
pub trait TaskRepo {
    /// Stores a new task; [`StoreError::AlreadyExists`] if the key is taken.
    async fn create_task(&self, task: &TaskRecord) -> Result<(), StoreError>;
    /// One version of a task.
    async fn get_task(&self, key: &DefinitionKey) -> Result<Option<TaskRecord>, StoreError>;
    /// Task versions matching `query`.
    async fn list_tasks(&self, query: &ListQuery) -> Result<Vec<TaskRecord>, StoreError>;
    /// Distinct task names (project, domain, name) matching `query`.
    async fn list_task_names(&self, query: &ListQuery) -> Result<Vec<DefinitionKey>, StoreError>;
}

/// Storage of workflows.
#[allow(async_fn_in_trait)] // Used through the concrete store, whose futures are Send.
pub trait WorkflowRepo {
    /// Stores a new workflow; [`StoreError::AlreadyExists`] if the key is taken.
    async fn create_workflow(&self, workflow: &WorkflowRecord) -> Result<(), StoreError>;
    /// One version of a workflow.
    async fn get_workflow(&self, key: &DefinitionKey)
    -> Result<Option<WorkflowRecord>, StoreError>;
    /// Workflow versions matching `query`.
    async fn list_workflows(&self, query: &ListQuery) -> Result<Vec<WorkflowRecord>, StoreError>;
    /// Distinct workflow names matching `query`.
    async fn list_workflow_names(
        &self,
        query: &ListQuery,
    ) -> Result<Vec<DefinitionKey>, StoreError>;
}

/// Storage of launch plans.
#[allow(async_fn_in_trait)] // Used through the concrete store, whose futures are Send.
pub trait LaunchPlanRepo {
    /// Stores a new launch plan; [`StoreError::AlreadyExists`] if the key is taken.
    async fn create_launch_plan(&self, launch_plan: &LaunchPlanRecord) -> Result<(), StoreError>;
    /// One version of a launch plan.
    async fn get_launch_plan(
        &self,
        key: &DefinitionKey,
    ) -> Result<Option<LaunchPlanRecord>, StoreError>;
    /// The active version of the named launch plan (`version` is ignored).
    async fn get_active_launch_plan(
        &self,
        project: &str,
        domain: &str,
        name: &str,
    ) -> Result<Option<LaunchPlanRecord>, StoreError>;
    /// Launch plan versions matching `query`.
    async fn list_launch_plans(
        &self,
        query: &ListQuery,
    ) -> Result<Vec<LaunchPlanRecord>, StoreError>;
    /// Distinct launch plan names matching `query`.
    async fn list_launch_plan_names(
        &self,
        query: &ListQuery,
    ) -> Result<Vec<DefinitionKey>, StoreError>;
    /// Makes `key` the active version of its name and deactivates the others,
    /// turning `schedule` on for it and the others' schedules off, in one
    /// transaction; false if `key` does not exist.
    async fn activate_launch_plan(
        &self,
        key: &DefinitionKey,
        schedule: Option<&updraft_scheduler::Schedule>,
        now: i64,
    ) -> Result<bool, StoreError>;
    /// Marks `key` inactive and turns its schedule off; false if it does
    /// not exist.
    async fn deactivate_launch_plan(
        &self,
        key: &DefinitionKey,
        now: i64,
    ) -> Result<bool, StoreError>;
}

fn key_from_row(row: &AnyRow) -> Result<DefinitionKey, sqlx::Error> {
    Ok(DefinitionKey {
        project: row.try_get("project")?,
        domain: row.try_get("domain")?,
        name: row.try_get("name")?,
        version: row.try_get("version")?,
    })
}

fn name_from_row(row: &AnyRow) -> Result<DefinitionKey, sqlx::Error> {
    Ok(DefinitionKey {
        project: row.try_get("project")?,
        domain: row.try_get("domain")?,
        name: row.try_get("name")?,
        version: String::new(),
    })
}

pub(super) const TASK_COLUMNS: &str =
    "project, domain, name, version, task_type, spec, digest, short_description, created_at";
pub(super) const WORKFLOW_COLUMNS: &str =
    "project, domain, name, version, spec, closure, digest, short_description, created_at";
pub(super) const LAUNCH_PLAN_COLUMNS: &str = "project, domain, name, version, workflow_project, \
     workflow_domain, workflow_name, workflow_version, spec, closure, digest, state, created_at, updated_at";
pub(super) const KEY_TIE_BREAKERS: &[&str] = &["project", "domain", "name", "version"];

fn task_from_row(row: &AnyRow) -> Result<TaskRecord, sqlx::Error> {
    Ok(TaskRecord {
        key: key_from_row(row)?,
        task_type: row.try_get("task_type")?,
        spec: row.try_get("spec")?,
        digest: row.try_get("digest")?,
        short_description: row.try_get("short_description")?,
        created_at: row.try_get("created_at")?,
    })
}

fn workflow_from_row(row: &AnyRow) -> Result<WorkflowRecord, sqlx::Error> {
    Ok(WorkflowRecord {
        key: key_from_row(row)?,
        spec: row.try_get("spec")?,
        closure: row.try_get("closure")?,
        digest: row.try_get("digest")?,
        short_description: row.try_get("short_description")?,
        created_at: row.try_get("created_at")?,
    })
}

fn launch_plan_from_row(row: &AnyRow) -> Result<LaunchPlanRecord, sqlx::Error> {
    Ok(LaunchPlanRecord {
        key: key_from_row(row)?,
        workflow: DefinitionKey {
            project: row.try_get("workflow_project")?,
            domain: row.try_get("workflow_domain")?,
            name: row.try_get("workflow_name")?,
            version: row.try_get("workflow_version")?,
        },
        spec: row.try_get("spec")?,
        closure: row.try_get("closure")?,
        digest: row.try_get("digest")?,
        state: i32::try_from(row.try_get::<i64, _>("state")?).unwrap_or_default(),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl SqlStore {
    async fn fetch_one_definition<T>(
        &self,
        columns: &str,
        table: &'static str,
        key: &DefinitionKey,
        decode: fn(&AnyRow) -> Result<T, sqlx::Error>,
    ) -> Result<Option<T>, StoreError> {
        let sql = format!(
            "SELECT {columns} FROM {table} \
             WHERE project = $1 AND domain = $2 AND name = $3 AND version = $4"
        );
        let row = sqlx::query(&sql)
            .bind(key.project.clone())
            .bind(key.domain.clone())
            .bind(key.name.clone())
            .bind(key.version.clone())
            .fetch_optional(&self.pool)
            .await
            .context("read a definition")?;
        row.as_ref()
            .map(decode)
            .transpose()
            .context("decode a definition")
    }

    async fn fetch_definitions<T>(
        &self,
        statement: ListStatement<'_>,
        query: &ListQuery,
        decode: fn(&AnyRow) -> Result<T, sqlx::Error>,
    ) -> Result<Vec<T>, StoreError> {
        let (sql, binds) = statement.sql(query);
        let rows = bind_values(sqlx::query(&sql), &binds)
            .fetch_all(&self.pool)
            .await
            .context("list definitions")?;
        rows.iter()
            .map(decode)
            .collect::<Result<_, _>>()
            .context("decode a definition")
    }

    async fn fetch_definition_names(
        &self,
        statement: ListStatement<'_>,
        query: &ListQuery,
    ) -> Result<Vec<DefinitionKey>, StoreError> {
        let (sql, binds) = statement.sql(query);
        let rows = bind_values(sqlx::query(&sql), &binds)
            .fetch_all(&self.pool)
            .await
            .context("list definition names")?;
        rows.iter()
            .map(name_from_row)
            .collect::<Result<_, _>>()
            .context("decode a definition name")
    }
}

impl TaskRepo for SqlStore {
    #[tracing::instrument(skip_all, fields(task = %task.key))]
    async fn create_task(&self, task: &TaskRecord) -> Result<(), StoreError> {
        let _timer = time_database_call!("tasks", "create");
        sqlx::query(&format!(
            "INSERT INTO tasks ({TASK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(task.key.project.clone())
        .bind(task.key.domain.clone())
        .bind(task.key.name.clone())
        .bind(task.key.version.clone())
        .bind(task.task_type.clone())
        .bind(task.spec.clone())
        .bind(task.digest.clone())
        .bind(task.short_description.clone())
        .bind(task.created_at)
        .execute(&self.pool)
        .await
        .map_err(|error| {
            map_insert_error(error, "insert a task", || format!("task {}", task.key))
        })?;
        Ok(())
    }

    #[tracing::instrument(skip(self))]
    async fn get_task(&self, key: &DefinitionKey) -> Result<Option<TaskRecord>, StoreError> {
        let _timer = time_database_call!("tasks", "get");
        self.fetch_one_definition(TASK_COLUMNS, "tasks", key, task_from_row)
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn list_tasks(&self, query: &ListQuery) -> Result<Vec<TaskRecord>, StoreError> {
        let _timer = time_database_call!("tasks", "list");
        self.fetch_definitions(ListStatement::Tasks, query, task_from_row)
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn list_task_names(&self, query: &ListQuery) -> Result<Vec<DefinitionKey>, StoreError> {
        let _timer = time_database_call!("tasks", "list_identifiers");
        self.fetch_definition_names(ListStatement::TaskNames, query)
            .await
    }
}

impl WorkflowRepo for SqlStore {
    #[tracing::instrument(skip_all, fields(workflow = %workflow.key))]
    async fn create_workflow(&self, workflow: &WorkflowRecord) -> Result<(), StoreError> {
        let _timer = time_database_call!("workflows", "create");
        sqlx::query(&format!(
            "INSERT INTO workflows ({WORKFLOW_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(workflow.key.project.clone())
        .bind(workflow.key.domain.clone())
        .bind(workflow.key.name.clone())
        .bind(workflow.key.version.clone())
        .bind(workflow.spec.clone())
        .bind(workflow.closure.clone())
        .bind(workflow.digest.clone())
        .bind(workflow.short_description.clone())
        .bind(workflow.created_at)
        .execute(&self.pool)
        .await
        .map_err(|error| {
            map_insert_error(error, "insert a workflow", || {
                format!("workflow {}", workflow.key)
            })
        })?;
        Ok(())
    }

    #[tracing::instrument(skip(self))]
    async fn get_workflow(
        &self,
        key: &DefinitionKey,
    ) -> Result<Option<WorkflowRecord>, StoreError> {
        let _timer = time_database_call!("workflows", "get");
        self.fetch_one_definition(WORKFLOW_COLUMNS, "workflows", key, workflow_from_row)
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn list_workflows(&self, query: &ListQuery) -> Result<Vec<WorkflowRecord>, StoreError> {
        let _timer = time_database_call!("workflows", "list");
        self.fetch_definitions(ListStatement::Workflows, query, workflow_from_row)
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn list_workflow_names(
        &self,
        query: &ListQuery,
    ) -> Result<Vec<DefinitionKey>, StoreError> {
        let _timer = time_database_call!("workflows", "list_identifiers");
        self.fetch_definition_names(ListStatement::WorkflowNames, query)
            .await
    }
}

impl LaunchPlanRepo for SqlStore {
    #[tracing::instrument(skip_all, fields(launch_plan = %launch_plan.key))]
    async fn create_launch_plan(&self, launch_plan: &LaunchPlanRecord) -> Result<(), StoreError> {
        let _timer = time_database_call!("launch_plans", "create");
        sqlx::query(&format!(
            "INSERT INTO launch_plans ({LAUNCH_PLAN_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        ))
        .bind(launch_plan.key.project.clone())
        .bind(launch_plan.key.domain.clone())
        .bind(launch_plan.key.name.clone())
        .bind(launch_plan.key.version.clone())
        .bind(launch_plan.workflow.project.clone())
        .bind(launch_plan.workflow.domain.clone())
        .bind(launch_plan.workflow.name.clone())
        .bind(launch_plan.workflow.version.clone())
        .bind(launch_plan.spec.clone())
        .bind(launch_plan.closure.clone())
        .bind(launch_plan.digest.clone())
        .bind(i64::from(launch_plan.state))
        .bind(launch_plan.created_at)
        .bind(launch_plan.updated_at)
        .execute(&self.pool)
        .await
        .map_err(|error| {
            map_insert_error(error, "insert a launch plan", || {
                format!("launch plan {}", launch_plan.key)
            })
        })?;
        Ok(())
    }

    #[tracing::instrument(skip(self))]
    async fn get_launch_plan(
        &self,
        key: &DefinitionKey,
    ) -> Result<Option<LaunchPlanRecord>, StoreError> {
        let _timer = time_database_call!("launch_plans", "get");
        self.fetch_one_definition(
            LAUNCH_PLAN_COLUMNS,
            "launch_plans",
            key,
            launch_plan_from_row,
        )
        .await
    }

    #[tracing::instrument(skip(self))]
    async fn get_active_launch_plan(
        &self,
        project: &str,
        domain: &str,
        name: &str,
    ) -> Result<Option<LaunchPlanRecord>, StoreError> {
        let _timer = time_database_call!("launch_plans", "get");
        let sql = format!(
            "SELECT {LAUNCH_PLAN_COLUMNS} FROM launch_plans \
             WHERE project = $1 AND domain = $2 AND name = $3 AND state = 1 \
             ORDER BY updated_at DESC LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(project.to_string())
            .bind(domain.to_string())
            .bind(name.to_string())
            .fetch_optional(&self.pool)
            .await
            .context("read the active launch plan")?;
        row.as_ref()
            .map(launch_plan_from_row)
            .transpose()
            .context("decode a launch plan")
    }

    #[tracing::instrument(skip_all)]
    async fn list_launch_plans(
        &self,
        query: &ListQuery,
    ) -> Result<Vec<LaunchPlanRecord>, StoreError> {
        let _timer = time_database_call!("launch_plans", "list");
        self.fetch_definitions(ListStatement::LaunchPlans, query, launch_plan_from_row)
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn list_launch_plan_names(
        &self,
        query: &ListQuery,
    ) -> Result<Vec<DefinitionKey>, StoreError> {
        let _timer = time_database_call!("launch_plans", "list_identifiers");
        self.fetch_definition_names(ListStatement::LaunchPlanNames, query)
            .await
    }

    #[tracing::instrument(skip(self))]
    async fn activate_launch_plan(
        &self,
        key: &DefinitionKey,
        schedule: Option<&updraft_scheduler::Schedule>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let _timer = time_database_call!("launch_plans", "update");
        let mut transaction = self.pool.begin().await.context("begin a transaction")?;
        let activated = sqlx::query(
            "UPDATE launch_plans SET state = 1, updated_at = $1 \
             WHERE project = $2 AND domain = $3 AND name = $4 AND version = $5",
        )
        .bind(now)
        .bind(key.project.clone())
        .bind(key.domain.clone())
        .bind(key.name.clone())
        .bind(key.version.clone())
        .execute(&mut *transaction)
        .await
        .context("activate a launch plan")?;
        if activated.rows_affected() == 0 {
            transaction.rollback().await.context("roll back")?;
            return Ok(false);
        }
        sqlx::query(
            "UPDATE launch_plans SET state = 0, updated_at = $1 \
             WHERE project = $2 AND domain = $3 AND name = $4 AND version <> $5 AND state = 1",
        )
        .bind(now)
        .bind(key.project.clone())
        .bind(key.domain.clone())
        .bind(key.name.clone())
        .bind(key.version.clone())
        .execute(&mut *transaction)
        .await
        .context("deactivate the other launch plan versions")?;
        updraft_scheduler::store::activate_schedule(
            &mut transaction,
            &scheduled_version(key),
            schedule,
            now,
        )
        .await
        .context("turn the launch plan's schedule on")?;
        transaction.commit().await.context("commit")?;
        Ok(true)
    }

    #[tracing::instrument(skip(self))]
    async fn deactivate_launch_plan(
        &self,
        key: &DefinitionKey,
        now: i64,
    ) -> Result<bool, StoreError> {
        let _timer = time_database_call!("launch_plans", "update");
        let mut transaction = self.pool.begin().await.context("begin a transaction")?;
        let result = sqlx::query(
            "UPDATE launch_plans SET state = 0, updated_at = $1 \
             WHERE project = $2 AND domain = $3 AND name = $4 AND version = $5",
        )
        .bind(now)
        .bind(key.project.clone())
        .bind(key.domain.clone())
        .bind(key.name.clone())
        .bind(key.version.clone())
        .execute(&mut *transaction)
        .await
        .context("deactivate a launch plan")?;
        updraft_scheduler::store::deactivate_schedule(&mut transaction, &scheduled_version(key))
            .await
            .context("turn the launch plan's schedule off")?;
        transaction.commit().await.context("commit")?;
        Ok(result.rows_affected() > 0)
    }
}

fn scheduled_version(key: &DefinitionKey) -> updraft_scheduler::LaunchPlanVersion {
    updraft_scheduler::LaunchPlanVersion {
        project: key.project.clone(),
        domain: key.domain.clone(),
        name: key.name.clone(),
        version: key.version.clone(),
    }
}
