//! The SQL of every list query the store runs, in one place, so the store runs
//! exactly the text a test can hand to `EXPLAIN` (every list must be served by
//! an index, on SQLite and on PostgreSQL).

use super::definitions::{KEY_TIE_BREAKERS, LAUNCH_PLAN_COLUMNS, TASK_COLUMNS, WORKFLOW_COLUMNS};
use super::description_entities::COLUMNS as DESCRIPTION_ENTITY_COLUMNS;
use super::executions::EXECUTION_COLUMNS;
use super::named_entities::NAMED_ENTITY_COLUMNS;
use super::projects::PROJECT_COLUMNS;
use super::runs::{NODE_COLUMNS, TASK_COLUMNS as TASK_EXECUTION_COLUMNS};
use super::signals::SIGNAL_COLUMNS;
use super::{Condition, ExecutionKey, ListQuery, NodeExecutionKey, OrderBy, SqlValue};

/// A list query the store runs, named by what it lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListStatement<'key> {
    /// Projects.
    Projects,
    /// Task versions.
    Tasks,
    /// Distinct task names.
    TaskNames,
    /// Workflow versions.
    Workflows,
    /// Distinct workflow names.
    WorkflowNames,
    /// Launch plan versions.
    LaunchPlans,
    /// Distinct launch plan names.
    LaunchPlanNames,
    /// Named entities (tasks, workflows, launch plans by name).
    NamedEntities,
    /// Description entities.
    DescriptionEntities,
    /// Workflow executions.
    Executions,
    /// The node executions of one workflow execution.
    NodeExecutions {
        /// The workflow execution.
        execution: &'key ExecutionKey,
        /// Whose children: empty for the top-level nodes.
        parent_node_id: &'key str,
    },
    /// The task executions (attempts) of one node execution.
    TaskExecutions {
        /// The node execution.
        node: &'key NodeExecutionKey,
    },
    /// Signals.
    Signals,
}

impl ListStatement<'_> {
    /// The table the statement reads.
    pub fn table(&self) -> &'static str {
        match self {
            Self::Projects => "projects",
            Self::Tasks | Self::TaskNames => "tasks",
            Self::Workflows | Self::WorkflowNames => "workflows",
            Self::LaunchPlans | Self::LaunchPlanNames => "launch_plans",
            Self::NamedEntities => "named_entities",
            Self::DescriptionEntities => "description_entities",
            Self::Executions => "executions",
            Self::NodeExecutions { .. } => "node_executions",
            Self::TaskExecutions { .. } => "task_executions",
            Self::Signals => "signals",
        }
    }

    /// The SQL text and its bound values for `query`, as the store runs it.
    pub fn sql(&self, query: &ListQuery) -> (String, Vec<SqlValue>) {
        let table = self.table();
        let select = |columns: &str, tie_breakers: &[&'static str], query: &ListQuery| {
            let (tail, binds) = query.render(tie_breakers);
            (format!("SELECT {columns} FROM {table}{tail}"), binds)
        };
        match self {
            Self::Projects => select(PROJECT_COLUMNS, &["id"], query),
            Self::Tasks => select(TASK_COLUMNS, KEY_TIE_BREAKERS, query),
            Self::Workflows => select(WORKFLOW_COLUMNS, KEY_TIE_BREAKERS, query),
            Self::LaunchPlans => select(LAUNCH_PLAN_COLUMNS, KEY_TIE_BREAKERS, query),
            Self::TaskNames | Self::WorkflowNames | Self::LaunchPlanNames => {
                definition_names(table, query)
            }
            Self::NamedEntities => {
                select(NAMED_ENTITY_COLUMNS, &["project", "domain", "name"], query)
            }
            Self::DescriptionEntities => {
                select(DESCRIPTION_ENTITY_COLUMNS, &["name", "version"], query)
            }
            Self::Executions => select(EXECUTION_COLUMNS, &["project", "domain", "name"], query),
            Self::NodeExecutions {
                execution,
                parent_node_id,
            } => {
                let scoped = scoped(
                    query,
                    [
                        Condition::text("project", &execution.project),
                        Condition::text("domain", &execution.domain),
                        Condition::text("execution_name", &execution.name),
                        Condition::text("parent_node_id", parent_node_id),
                    ],
                );
                select(NODE_COLUMNS, &["node_id"], &scoped)
            }
            Self::TaskExecutions { node } => {
                let scoped = scoped(
                    query,
                    [
                        Condition::text("project", &node.execution.project),
                        Condition::text("domain", &node.execution.domain),
                        Condition::text("execution_name", &node.execution.name),
                        Condition::text("node_id", &node.node_id),
                    ],
                );
                select(TASK_EXECUTION_COLUMNS, &["retry_attempt"], &scoped)
            }
            Self::Signals => select(SIGNAL_COLUMNS, &["signal_id"], query),
        }
    }
}

/// `query` with `scope` put first, so the key prefix leads the WHERE clause.
fn scoped<const N: usize>(query: &ListQuery, scope: [Condition; N]) -> ListQuery {
    let mut scoped = query.clone();
    scoped.conditions.splice(0..0, scope);
    scoped
}

/// Distinct names; sorting by `created_at` sorts by each name's newest version.
fn definition_names(table: &'static str, query: &ListQuery) -> (String, Vec<SqlValue>) {
    let mut grouped = query.clone();
    grouped.order_by = OrderBy {
        column: match query.order_by.column {
            "created_at" => "MAX(created_at)",
            "updated_at" => "MAX(updated_at)",
            _ => "name",
        },
        descending: query.order_by.descending,
    };
    let (tail, binds) = grouped.render(&["project", "domain", "name"]);
    // The WHERE part of `tail` applies to versions, the ORDER BY to groups.
    let (where_part, order_part) = match tail.find(" ORDER BY ") {
        Some(split) => tail.split_at(split),
        None => (tail.as_str(), ""),
    };
    let sql = format!(
        "SELECT project, domain, name FROM {table}{where_part} \
         GROUP BY project, domain, name{order_part}"
    );
    (sql, binds)
}
