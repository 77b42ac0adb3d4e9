//! Workflow executions: created QUEUED by `CreateExecution`, claimed by a
//! propeller under a lease, and updated as events arrive.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::timing::time_database_call;
use super::{
    DatabaseContext, DefinitionKey, ListQuery, ListStatement, SqlStore, StoreError, bind_values,
    map_insert_error,
};

/// Which execution.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExecutionKey {
    /// The project.
    pub project: String,
    /// The domain.
    pub domain: String,
    /// The execution's name, unique within project and domain.
    pub name: String,
}

impl std::fmt::Display for ExecutionKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}/{}/{}", self.project, self.domain, self.name)
    }
}

/// A stored execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionRecord {
    /// Which execution.
    pub key: ExecutionKey,
    /// The launch plan it was started from.
    pub launch_plan: DefinitionKey,
    /// The workflow it runs.
    pub workflow: DefinitionKey,
    /// `core.WorkflowExecution.Phase` as an integer.
    pub phase: i32,
    /// `admin.ExecutionMetadata.ExecutionMode` as an integer.
    pub mode: i32,
    /// Who started it.
    pub principal: String,
    /// `admin.ExecutionState` (active or archived) as an integer.
    pub state: i32,
    /// The encoded `admin.ExecutionSpec`.
    pub spec: Vec<u8>,
    /// The encoded `admin.ExecutionClosure` (phase and times are also columns).
    pub closure: Vec<u8>,
    /// The object-store URL of the merged inputs (`LiteralMap`).
    pub inputs_uri: String,
    /// The object-store URL of the inputs exactly as the user gave them.
    pub user_inputs_uri: String,
    /// Creation time (microseconds since the epoch).
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
    /// When it started running, once it has.
    pub started_at: Option<i64>,
    /// How long it ran (microseconds), once it has ended.
    pub duration: Option<i64>,
    /// The execution cluster label admin gave it: only a propeller serving
    /// this label may claim it. Empty: any propeller may.
    pub cluster_label: String,
    /// The cluster of the propeller that claimed it last; empty until claimed.
    pub cluster: String,
}

/// Storage of executions.
#[allow(async_fn_in_trait)] // Used through the concrete store, whose futures are Send.
pub trait ExecutionRepo {
    /// Stores a new execution; [`StoreError::AlreadyExists`] if the name is taken.
    async fn create_execution(&self, execution: &ExecutionRecord) -> Result<(), StoreError>;
    /// One execution.
    async fn get_execution(
        &self,
        key: &ExecutionKey,
    ) -> Result<Option<ExecutionRecord>, StoreError>;
    /// Executions matching `query`.
    async fn list_executions(&self, query: &ListQuery) -> Result<Vec<ExecutionRecord>, StoreError>;
    /// Writes phase, state, closure and times of `execution`, but only if its
    /// stored `updated_at` still equals `expected_updated_at` (optimistic
    /// concurrency); false if someone else changed it first or it is gone.
    async fn update_execution(
        &self,
        execution: &ExecutionRecord,
        expected_updated_at: i64,
    ) -> Result<bool, StoreError>;
    /// Takes the oldest execution that is not terminal, that nobody holds a
    /// live lease on (queued, or left running by a propeller that stopped)
    /// and that `claimant` may run (unlabelled, or labelled with one of its
    /// labels), leasing it to the claimant until `lease_expires_at` and
    /// recording the claimant's cluster on it.
    async fn claim_next_execution(
        &self,
        claimant: &Claimant<'_>,
        now: i64,
        lease_expires_at: i64,
    ) -> Result<Option<ClaimedExecution>, StoreError>;
    /// Extends the lease of the holder of claim number `claim_count`; false if
    /// the lease has passed to another claim.
    async fn renew_execution_lease(
        &self,
        key: &ExecutionKey,
        propeller: &str,
        claim_count: i64,
        lease_expires_at: i64,
    ) -> Result<bool, StoreError>;
    /// Ends the lease of claim number `claim_count`, if it still holds.
    async fn release_execution_lease(
        &self,
        key: &ExecutionKey,
        claim_count: i64,
    ) -> Result<bool, StoreError>;
}

pub(super) const EXECUTION_COLUMNS: &str = "project, domain, name, launch_plan_project, launch_plan_domain, \
     launch_plan_name, launch_plan_version, workflow_project, workflow_domain, workflow_name, \
     workflow_version, phase, mode, principal, state, spec, closure, inputs_uri, user_inputs_uri, \
     created_at, updated_at, started_at, duration_micros, cluster_label, cluster";

/// The phases a propeller may (still) work on: every one but the terminal
/// four. Spelled as in the `executions_claimable` index so the planner uses it.
const CLAIMABLE_PHASES: &str = "phase IN (0, 1, 2, 3, 5, 9)";

/// Most labels one propeller may serve: each is one index range in a claim.
pub const MOST_LABELS_PER_PROPELLER: usize = 32;

/// Who claims an execution: a propeller, the cluster it runs in and the
/// execution cluster labels it serves.
#[derive(Debug, Clone, Copy)]
pub struct Claimant<'a> {
    /// Names the propeller in the lease.
    pub propeller_id: &'a str,
    /// Recorded on the execution it claims.
    pub cluster: &'a str,
    /// The labels it serves, at most [`MOST_LABELS_PER_PROPELLER`]; it is
    /// also handed unlabelled executions.
    pub labels: &'a [String],
}

/// The statement that finds the oldest execution `label_count` labels (and
/// no label) make claimable: one ordered index range per label, so its cost
/// does not grow with the queue. Binds: `$1` the current time, then `$2` for
/// no label (the empty string) and one per label.
pub fn claim_candidate_sql(label_count: usize) -> String {
    let per_label = (0..=label_count)
        .map(|index| {
            // Inner ORDER BY and LIMIT need a derived table in a compound
            // select on SQLite.
            format!(
                "SELECT * FROM (SELECT {EXECUTION_COLUMNS}, claim_count FROM executions \
                 WHERE cluster_label = ${} AND {CLAIMABLE_PHASES} \
                 AND (claim_expires_at IS NULL OR claim_expires_at < $1) \
                 ORDER BY created_at ASC LIMIT 1) AS label_{index}",
                index + 2
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    format!("SELECT * FROM ({per_label}) AS candidates ORDER BY created_at ASC LIMIT 1")
}

/// An execution just claimed, with the number of its claim (1 for the first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedExecution {
    /// The execution.
    pub record: ExecutionRecord,
    /// How many times it has been claimed, this claim included; it fences the
    /// lease: renewals must present it.
    pub claim_count: i64,
}

fn execution_from_row(row: &AnyRow) -> Result<ExecutionRecord, sqlx::Error> {
    let integer = |column: &str| -> Result<i32, sqlx::Error> {
        Ok(i32::try_from(row.try_get::<i64, _>(column)?).unwrap_or_default())
    };
    Ok(ExecutionRecord {
        key: ExecutionKey {
            project: row.try_get("project")?,
            domain: row.try_get("domain")?,
            name: row.try_get("name")?,
        },
        launch_plan: DefinitionKey {
            project: row.try_get("launch_plan_project")?,
            domain: row.try_get("launch_plan_domain")?,
            name: row.try_get("launch_plan_name")?,
            version: row.try_get("launch_plan_version")?,
        },
        workflow: DefinitionKey {
            project: row.try_get("workflow_project")?,
            domain: row.try_get("workflow_domain")?,
            name: row.try_get("workflow_name")?,
            version: row.try_get("workflow_version")?,
        },
        phase: integer("phase")?,
        mode: integer("mode")?,
        principal: row.try_get("principal")?,
        state: integer("state")?,
        spec: row.try_get("spec")?,
        closure: row.try_get("closure")?,
        inputs_uri: row.try_get("inputs_uri")?,
        user_inputs_uri: row.try_get("user_inputs_uri")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        started_at: row.try_get("started_at")?,
        duration: row.try_get("duration_micros")?,
        cluster_label: row.try_get("cluster_label")?,
        cluster: row.try_get("cluster")?,
    })
}

impl ExecutionRepo for SqlStore {
    #[tracing::instrument(skip_all, fields(execution = %execution.key))]
    async fn create_execution(&self, execution: &ExecutionRecord) -> Result<(), StoreError> {
        let _timer = time_database_call!("executions", "create");
        sqlx::query(&format!(
            "INSERT INTO executions ({EXECUTION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
             $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)"
        ))
        .bind(execution.key.project.clone())
        .bind(execution.key.domain.clone())
        .bind(execution.key.name.clone())
        .bind(execution.launch_plan.project.clone())
        .bind(execution.launch_plan.domain.clone())
        .bind(execution.launch_plan.name.clone())
        .bind(execution.launch_plan.version.clone())
        .bind(execution.workflow.project.clone())
        .bind(execution.workflow.domain.clone())
        .bind(execution.workflow.name.clone())
        .bind(execution.workflow.version.clone())
        .bind(i64::from(execution.phase))
        .bind(i64::from(execution.mode))
        .bind(execution.principal.clone())
        .bind(i64::from(execution.state))
        .bind(execution.spec.clone())
        .bind(execution.closure.clone())
        .bind(execution.inputs_uri.clone())
        .bind(execution.user_inputs_uri.clone())
        .bind(execution.created_at)
        .bind(execution.updated_at)
        .bind(execution.started_at)
        .bind(execution.duration)
        .bind(execution.cluster_label.clone())
        .bind(execution.cluster.clone())
        .execute(&self.pool)
        .await
        .map_err(|error| {
            map_insert_error(error, "insert an execution", || {
                format!("execution {}", execution.key)
            })
        })?;
        Ok(())
    }

    #[tracing::instrument(skip(self))]
    async fn get_execution(
        &self,
        key: &ExecutionKey,
    ) -> Result<Option<ExecutionRecord>, StoreError> {
        let _timer = time_database_call!("executions", "get");
        let row = sqlx::query(&format!(
            "SELECT {EXECUTION_COLUMNS} FROM executions \
             WHERE project = $1 AND domain = $2 AND name = $3"
        ))
        .bind(key.project.clone())
        .bind(key.domain.clone())
        .bind(key.name.clone())
        .fetch_optional(&self.pool)
        .await
        .context("read an execution")?;
        row.as_ref()
            .map(execution_from_row)
            .transpose()
            .context("decode an execution")
    }

    #[tracing::instrument(skip_all)]
    async fn list_executions(&self, query: &ListQuery) -> Result<Vec<ExecutionRecord>, StoreError> {
        let _timer = time_database_call!("executions", "list");
        let (sql, binds) = ListStatement::Executions.sql(query);
        let rows = bind_values(sqlx::query(&sql), &binds)
            .fetch_all(&self.pool)
            .await
            .context("list executions")?;
        rows.iter()
            .map(execution_from_row)
            .collect::<Result<_, _>>()
            .context("decode an execution")
    }

    #[tracing::instrument(skip_all, fields(execution = %execution.key))]
    async fn update_execution(
        &self,
        execution: &ExecutionRecord,
        expected_updated_at: i64,
    ) -> Result<bool, StoreError> {
        let _timer = time_database_call!("executions", "update");
        let result = sqlx::query(
            "UPDATE executions SET phase = $1, state = $2, closure = $3, updated_at = $4, \
             started_at = $5, duration_micros = $6 \
             WHERE project = $7 AND domain = $8 AND name = $9 AND updated_at = $10",
        )
        .bind(i64::from(execution.phase))
        .bind(i64::from(execution.state))
        .bind(execution.closure.clone())
        .bind(execution.updated_at)
        .bind(execution.started_at)
        .bind(execution.duration)
        .bind(execution.key.project.clone())
        .bind(execution.key.domain.clone())
        .bind(execution.key.name.clone())
        .bind(expected_updated_at)
        .execute(&self.pool)
        .await
        .context("update an execution")?;
        Ok(result.rows_affected() > 0)
    }

    #[tracing::instrument(skip(self), fields(propeller = claimant.propeller_id))]
    async fn claim_next_execution(
        &self,
        claimant: &Claimant<'_>,
        now: i64,
        lease_expires_at: i64,
    ) -> Result<Option<ClaimedExecution>, StoreError> {
        // A repeated label would only repeat an index range.
        let mut labels: Vec<&str> = claimant
            .labels
            .iter()
            .map(String::as_str)
            .filter(|label| !label.is_empty())
            .collect();
        labels.sort_unstable();
        labels.dedup();
        labels.truncate(MOST_LABELS_PER_PROPELLER);
        let candidate_sql = claim_candidate_sql(labels.len());
        // Pick a candidate, then take it with a conditional update; if another
        // propeller won the race the update touches nothing and we try again.
        for _attempt in 0..8 {
            let mut candidate_query = sqlx::query(&candidate_sql).bind(now).bind(String::new());
            for label in &labels {
                candidate_query = candidate_query.bind(label.to_string());
            }
            let candidate = candidate_query
                .fetch_optional(&self.pool)
                .await
                .context("find a claimable execution")?;
            let Some(row) = candidate else {
                return Ok(None);
            };
            let mut record = execution_from_row(&row).context("decode an execution")?;
            let previous_claims: i64 = row.try_get("claim_count").context("decode an execution")?;
            let claimed = sqlx::query(&format!(
                "UPDATE executions SET claimed_by = $1, claim_expires_at = $2, claim_count = $3, \
                 cluster = $4 \
                 WHERE project = $5 AND domain = $6 AND name = $7 AND claim_count = $8 \
                 AND {CLAIMABLE_PHASES} AND (claim_expires_at IS NULL OR claim_expires_at < $9)"
            ))
            .bind(claimant.propeller_id.to_string())
            .bind(lease_expires_at)
            .bind(previous_claims + 1)
            .bind(claimant.cluster.to_string())
            .bind(record.key.project.clone())
            .bind(record.key.domain.clone())
            .bind(record.key.name.clone())
            .bind(previous_claims)
            .bind(now)
            .execute(&self.pool)
            .await
            .context("claim an execution")?;
            if claimed.rows_affected() == 1 {
                record.cluster = claimant.cluster.to_string();
                return Ok(Some(ClaimedExecution {
                    record,
                    claim_count: previous_claims + 1,
                }));
            }
        }
        Ok(None)
    }

    #[tracing::instrument(skip(self))]
    async fn renew_execution_lease(
        &self,
        key: &ExecutionKey,
        propeller: &str,
        claim_count: i64,
        lease_expires_at: i64,
    ) -> Result<bool, StoreError> {
        let renewed = sqlx::query(
            "UPDATE executions SET claim_expires_at = $1 \
             WHERE project = $2 AND domain = $3 AND name = $4 AND claim_count = $5 AND claimed_by = $6",
        )
        .bind(lease_expires_at)
        .bind(key.project.clone())
        .bind(key.domain.clone())
        .bind(key.name.clone())
        .bind(claim_count)
        .bind(propeller.to_string())
        .execute(&self.pool)
        .await
        .context("renew an execution lease")?;
        Ok(renewed.rows_affected() == 1)
    }

    #[tracing::instrument(skip(self))]
    async fn release_execution_lease(
        &self,
        key: &ExecutionKey,
        claim_count: i64,
    ) -> Result<bool, StoreError> {
        let released = sqlx::query(
            "UPDATE executions SET claimed_by = NULL, claim_expires_at = NULL \
             WHERE project = $1 AND domain = $2 AND name = $3 AND claim_count = $4",
        )
        .bind(key.project.clone())
        .bind(key.domain.clone())
        .bind(key.name.clone())
        .bind(claim_count)
        .execute(&self.pool)
        .await
        .context("release an execution lease")?;
        Ok(released.rows_affected() == 1)
    }
}
