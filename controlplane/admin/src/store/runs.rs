//! Node and task executions: created by the first event propeller sends for
//! them and changed by the events after it.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::timing::time_database_call;
use super::{
    DatabaseContext, DefinitionKey, ExecutionKey, ListQuery, ListStatement, SqlStore, StoreError,
    bind_values, map_insert_error,
};

/// Which node execution.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NodeExecutionKey {
    /// The workflow execution it belongs to.
    pub execution: ExecutionKey,
    /// The node's id in the workflow.
    pub node_id: String,
}

impl std::fmt::Display for NodeExecutionKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "node {} of execution {}",
            self.node_id, self.execution
        )
    }
}

/// A stored node execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeExecutionRecord {
    /// Which node execution.
    pub key: NodeExecutionKey,
    /// `core.NodeExecution.Phase` as an integer.
    pub phase: i32,
    /// Where its inputs are.
    pub input_uri: String,
    /// The encoded `admin.NodeExecutionClosure`.
    pub closure: Vec<u8>,
    /// The encoded `admin.NodeExecutionMetaData`.
    pub metadata: Vec<u8>,
    /// The unique id of the node this one runs under (a subworkflow, branch or
    /// dynamic node); empty at the top level.
    pub parent_node_id: String,
    /// An encoded `event.DynamicWorkflowNodeMetadata` for a dynamic node; empty otherwise.
    pub dynamic_workflow: Vec<u8>,
    /// First event (microseconds since the epoch).
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

/// Which task execution (one attempt of a task in a node).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TaskExecutionKey {
    /// The node execution it ran in.
    pub node: NodeExecutionKey,
    /// The task.
    pub task: DefinitionKey,
    /// 0 for the first attempt.
    pub retry_attempt: i64,
}

impl std::fmt::Display for TaskExecutionKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "attempt {} of task {} in {}",
            self.retry_attempt, self.task, self.node
        )
    }
}

/// A stored task execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskExecutionRecord {
    /// Which task execution.
    pub key: TaskExecutionKey,
    /// `core.TaskExecution.Phase` as an integer.
    pub phase: i32,
    /// Raised by events that update a phase without changing it.
    pub phase_version: i64,
    /// Where its inputs are.
    pub input_uri: String,
    /// The encoded `admin.TaskExecutionClosure`.
    pub closure: Vec<u8>,
    /// First event.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

/// Storage of node and task executions.
#[allow(async_fn_in_trait)] // Used through the concrete store, whose futures are Send.
pub trait RunRepo {
    /// One node execution.
    async fn get_node_execution(
        &self,
        key: &NodeExecutionKey,
    ) -> Result<Option<NodeExecutionRecord>, StoreError>;
    /// Stores a new node execution; [`StoreError::AlreadyExists`] if another
    /// event created it first.
    async fn create_node_execution(&self, record: &NodeExecutionRecord) -> Result<(), StoreError>;
    /// Writes phase, closure and metadata if the stored `updated_at` still equals
    /// `expected_updated_at`; false if it changed meanwhile.
    async fn update_node_execution(
        &self,
        record: &NodeExecutionRecord,
        expected_updated_at: i64,
    ) -> Result<bool, StoreError>;
    /// The node executions of one execution directly under `parent_node_id`
    /// (empty: the top-level nodes) matching `query`.
    async fn list_node_executions(
        &self,
        execution: &ExecutionKey,
        parent_node_id: &str,
        query: &ListQuery,
    ) -> Result<Vec<NodeExecutionRecord>, StoreError>;
    /// One task execution.
    async fn get_task_execution(
        &self,
        key: &TaskExecutionKey,
    ) -> Result<Option<TaskExecutionRecord>, StoreError>;
    /// Stores a new task execution; [`StoreError::AlreadyExists`] if it exists.
    async fn create_task_execution(&self, record: &TaskExecutionRecord) -> Result<(), StoreError>;
    /// Optimistic update, as for node executions.
    async fn update_task_execution(
        &self,
        record: &TaskExecutionRecord,
        expected_updated_at: i64,
    ) -> Result<bool, StoreError>;
    /// The task executions (attempts) of one node execution matching `query`.
    async fn list_task_executions(
        &self,
        node: &NodeExecutionKey,
        query: &ListQuery,
    ) -> Result<Vec<TaskExecutionRecord>, StoreError>;
}

pub(super) const NODE_COLUMNS: &str = "project, domain, execution_name, node_id, phase, input_uri, closure, \
     metadata, parent_node_id, dynamic_workflow, created_at, updated_at";

pub(super) const TASK_COLUMNS: &str = "project, domain, execution_name, node_id, task_project, task_domain, \
     task_name, task_version, retry_attempt, phase, phase_version, input_uri, closure, created_at, \
     updated_at";

fn node_from_row(row: &AnyRow) -> Result<NodeExecutionRecord, sqlx::Error> {
    Ok(NodeExecutionRecord {
        key: NodeExecutionKey {
            execution: ExecutionKey {
                project: row.try_get("project")?,
                domain: row.try_get("domain")?,
                name: row.try_get("execution_name")?,
            },
            node_id: row.try_get("node_id")?,
        },
        phase: i32::try_from(row.try_get::<i64, _>("phase")?).unwrap_or_default(),
        input_uri: row.try_get("input_uri")?,
        closure: row.try_get("closure")?,
        metadata: row.try_get("metadata")?,
        parent_node_id: row.try_get("parent_node_id")?,
        dynamic_workflow: row.try_get("dynamic_workflow")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn task_from_row(row: &AnyRow) -> Result<TaskExecutionRecord, sqlx::Error> {
    Ok(TaskExecutionRecord {
        key: TaskExecutionKey {
            node: NodeExecutionKey {
                execution: ExecutionKey {
                    project: row.try_get("project")?,
                    domain: row.try_get("domain")?,
                    name: row.try_get("execution_name")?,
                },
                node_id: row.try_get("node_id")?,
            },
            task: DefinitionKey {
                project: row.try_get("task_project")?,
                domain: row.try_get("task_domain")?,
                name: row.try_get("task_name")?,
                version: row.try_get("task_version")?,
            },
            retry_attempt: row.try_get("retry_attempt")?,
        },
        phase: i32::try_from(row.try_get::<i64, _>("phase")?).unwrap_or_default(),
        phase_version: row.try_get("phase_version")?,
        input_uri: row.try_get("input_uri")?,
        closure: row.try_get("closure")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl RunRepo for SqlStore {
    #[tracing::instrument(skip(self))]
    async fn get_node_execution(
        &self,
        key: &NodeExecutionKey,
    ) -> Result<Option<NodeExecutionRecord>, StoreError> {
        let _timer = time_database_call!("node_executions", "get");
        let row = sqlx::query(&format!(
            "SELECT {NODE_COLUMNS} FROM node_executions \
             WHERE project = $1 AND domain = $2 AND execution_name = $3 AND node_id = $4"
        ))
        .bind(key.execution.project.clone())
        .bind(key.execution.domain.clone())
        .bind(key.execution.name.clone())
        .bind(key.node_id.clone())
        .fetch_optional(&self.pool)
        .await
        .context("read a node execution")?;
        row.as_ref()
            .map(node_from_row)
            .transpose()
            .context("decode a node execution")
    }

    #[tracing::instrument(skip_all, fields(node = %record.key))]
    async fn create_node_execution(&self, record: &NodeExecutionRecord) -> Result<(), StoreError> {
        let _timer = time_database_call!("node_executions", "create");
        sqlx::query(&format!(
            "INSERT INTO node_executions ({NODE_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ))
        .bind(record.key.execution.project.clone())
        .bind(record.key.execution.domain.clone())
        .bind(record.key.execution.name.clone())
        .bind(record.key.node_id.clone())
        .bind(i64::from(record.phase))
        .bind(record.input_uri.clone())
        .bind(record.closure.clone())
        .bind(record.metadata.clone())
        .bind(record.parent_node_id.clone())
        .bind(record.dynamic_workflow.clone())
        .bind(record.created_at)
        .bind(record.updated_at)
        .execute(&self.pool)
        .await
        .map_err(|error| {
            map_insert_error(error, "insert a node execution", || record.key.to_string())
        })?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(node = %record.key))]
    async fn update_node_execution(
        &self,
        record: &NodeExecutionRecord,
        expected_updated_at: i64,
    ) -> Result<bool, StoreError> {
        let _timer = time_database_call!("node_executions", "update");
        let updated = sqlx::query(
            "UPDATE node_executions SET phase = $1, input_uri = $2, closure = $3, metadata = $4, \
             dynamic_workflow = $5, updated_at = $6 WHERE project = $7 AND domain = $8 \
             AND execution_name = $9 AND node_id = $10 AND updated_at = $11",
        )
        .bind(i64::from(record.phase))
        .bind(record.input_uri.clone())
        .bind(record.closure.clone())
        .bind(record.metadata.clone())
        .bind(record.dynamic_workflow.clone())
        .bind(record.updated_at)
        .bind(record.key.execution.project.clone())
        .bind(record.key.execution.domain.clone())
        .bind(record.key.execution.name.clone())
        .bind(record.key.node_id.clone())
        .bind(expected_updated_at)
        .execute(&self.pool)
        .await
        .context("update a node execution")?;
        Ok(updated.rows_affected() == 1)
    }

    #[tracing::instrument(skip_all, fields(execution = %execution))]
    async fn list_node_executions(
        &self,
        execution: &ExecutionKey,
        parent_node_id: &str,
        query: &ListQuery,
    ) -> Result<Vec<NodeExecutionRecord>, StoreError> {
        let _timer = time_database_call!("node_executions", "list");
        let (sql, binds) = ListStatement::NodeExecutions {
            execution,
            parent_node_id,
        }
        .sql(query);
        let rows = bind_values(sqlx::query(&sql), &binds)
            .fetch_all(&self.pool)
            .await
            .context("list node executions")?;
        rows.iter()
            .map(node_from_row)
            .collect::<Result<_, _>>()
            .context("decode a node execution")
    }

    #[tracing::instrument(skip(self))]
    async fn get_task_execution(
        &self,
        key: &TaskExecutionKey,
    ) -> Result<Option<TaskExecutionRecord>, StoreError> {
        let _timer = time_database_call!("task_executions", "get");
        let row = sqlx::query(&format!(
            "SELECT {TASK_COLUMNS} FROM task_executions \
             WHERE project = $1 AND domain = $2 AND execution_name = $3 AND node_id = $4 \
             AND task_project = $5 AND task_domain = $6 AND task_name = $7 AND task_version = $8 \
             AND retry_attempt = $9"
        ))
        .bind(key.node.execution.project.clone())
        .bind(key.node.execution.domain.clone())
        .bind(key.node.execution.name.clone())
        .bind(key.node.node_id.clone())
        .bind(key.task.project.clone())
        .bind(key.task.domain.clone())
        .bind(key.task.name.clone())
        .bind(key.task.version.clone())
        .bind(key.retry_attempt)
        .fetch_optional(&self.pool)
        .await
        .context("read a task execution")?;
        row.as_ref()
            .map(task_from_row)
            .transpose()
            .context("decode a task execution")
    }

    #[tracing::instrument(skip_all, fields(task = %record.key))]
    async fn create_task_execution(&self, record: &TaskExecutionRecord) -> Result<(), StoreError> {
        let _timer = time_database_call!("task_executions", "create");
        sqlx::query(&format!(
            "INSERT INTO task_executions ({TASK_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        ))
        .bind(record.key.node.execution.project.clone())
        .bind(record.key.node.execution.domain.clone())
        .bind(record.key.node.execution.name.clone())
        .bind(record.key.node.node_id.clone())
        .bind(record.key.task.project.clone())
        .bind(record.key.task.domain.clone())
        .bind(record.key.task.name.clone())
        .bind(record.key.task.version.clone())
        .bind(record.key.retry_attempt)
        .bind(i64::from(record.phase))
        .bind(record.phase_version)
        .bind(record.input_uri.clone())
        .bind(record.closure.clone())
        .bind(record.created_at)
        .bind(record.updated_at)
        .execute(&self.pool)
        .await
        .map_err(|error| {
            map_insert_error(error, "insert a task execution", || record.key.to_string())
        })?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(task = %record.key))]
    async fn update_task_execution(
        &self,
        record: &TaskExecutionRecord,
        expected_updated_at: i64,
    ) -> Result<bool, StoreError> {
        let _timer = time_database_call!("task_executions", "update");
        let updated = sqlx::query(
            "UPDATE task_executions SET phase = $1, phase_version = $2, input_uri = $3, \
             closure = $4, updated_at = $5 WHERE project = $6 AND domain = $7 \
             AND execution_name = $8 AND node_id = $9 AND task_project = $10 \
             AND task_domain = $11 AND task_name = $12 AND task_version = $13 \
             AND retry_attempt = $14 AND updated_at = $15",
        )
        .bind(i64::from(record.phase))
        .bind(record.phase_version)
        .bind(record.input_uri.clone())
        .bind(record.closure.clone())
        .bind(record.updated_at)
        .bind(record.key.node.execution.project.clone())
        .bind(record.key.node.execution.domain.clone())
        .bind(record.key.node.execution.name.clone())
        .bind(record.key.node.node_id.clone())
        .bind(record.key.task.project.clone())
        .bind(record.key.task.domain.clone())
        .bind(record.key.task.name.clone())
        .bind(record.key.task.version.clone())
        .bind(record.key.retry_attempt)
        .bind(expected_updated_at)
        .execute(&self.pool)
        .await
        .context("update a task execution")?;
        Ok(updated.rows_affected() == 1)
    }

    #[tracing::instrument(skip_all, fields(node = %node))]
    async fn list_task_executions(
        &self,
        node: &NodeExecutionKey,
        query: &ListQuery,
    ) -> Result<Vec<TaskExecutionRecord>, StoreError> {
        let _timer = time_database_call!("task_executions", "list");
        let (sql, binds) = ListStatement::TaskExecutions { node }.sql(query);
        let rows = bind_values(sqlx::query(&sql), &binds)
            .fetch_all(&self.pool)
            .await
            .context("list task executions")?;
        rows.iter()
            .map(task_from_row)
            .collect::<Result<_, _>>()
            .context("decode a task execution")
    }
}
