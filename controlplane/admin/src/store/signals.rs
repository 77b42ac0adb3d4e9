//! Signals: the values gate nodes wait for, keyed by execution and signal id.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{
    DatabaseContext, ExecutionKey, ListQuery, ListStatement, SqlStore, StoreError, bind_values,
};

/// Which signal: an id within one workflow execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignalKey {
    /// The execution the signal belongs to.
    pub execution: ExecutionKey,
    /// The signal's id, unique within the execution.
    pub signal_id: String,
}

impl std::fmt::Display for SignalKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}/{}", self.execution, self.signal_id)
    }
}

/// A stored signal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignalRecord {
    /// Which signal.
    pub key: SignalKey,
    /// The encoded `core.LiteralType` its value must have.
    pub literal_type: Vec<u8>,
    /// The encoded `core.Literal`, once set.
    pub value: Option<Vec<u8>>,
    /// When a workflow first asked for it (microseconds since the epoch).
    pub created_at: i64,
    /// When it last changed.
    pub updated_at: i64,
}

/// Storage of signals.
#[allow(async_fn_in_trait)] // Used through the concrete store, whose futures are Send.
pub trait SignalRepo {
    /// Stores `signal` unless one with its key exists, then returns the stored
    /// one (the new one, or the one that was there first).
    async fn get_or_create_signal(&self, signal: &SignalRecord)
    -> Result<SignalRecord, StoreError>;
    /// One signal.
    async fn get_signal(&self, key: &SignalKey) -> Result<Option<SignalRecord>, StoreError>;
    /// Sets (or replaces) the value; false if the signal does not exist.
    async fn set_signal_value(
        &self,
        key: &SignalKey,
        value: &[u8],
        now: i64,
    ) -> Result<bool, StoreError>;
    /// Signals matching `query`.
    async fn list_signals(&self, query: &ListQuery) -> Result<Vec<SignalRecord>, StoreError>;
}

pub(super) const SIGNAL_COLUMNS: &str = "execution_project, execution_domain, execution_name, signal_id, \
     literal_type, value, created_at, updated_at";

fn signal_from_row(row: &AnyRow) -> Result<SignalRecord, sqlx::Error> {
    Ok(SignalRecord {
        key: SignalKey {
            execution: ExecutionKey {
                project: row.try_get("execution_project")?,
                domain: row.try_get("execution_domain")?,
                name: row.try_get("execution_name")?,
            },
            signal_id: row.try_get("signal_id")?,
        },
        literal_type: row.try_get("literal_type")?,
        value: row.try_get("value")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl SignalRepo for SqlStore {
    #[tracing::instrument(skip_all, fields(signal = %signal.key))]
    async fn get_or_create_signal(
        &self,
        signal: &SignalRecord,
    ) -> Result<SignalRecord, StoreError> {
        // Insert-if-absent then read: concurrent callers (a propeller retrying,
        // two gate nodes on one signal) all end up with the first one stored.
        sqlx::query(&format!(
            "INSERT INTO signals ({SIGNAL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (execution_project, execution_domain, execution_name, signal_id) DO NOTHING"
        ))
        .bind(signal.key.execution.project.clone())
        .bind(signal.key.execution.domain.clone())
        .bind(signal.key.execution.name.clone())
        .bind(signal.key.signal_id.clone())
        .bind(signal.literal_type.clone())
        .bind(signal.value.clone())
        .bind(signal.created_at)
        .bind(signal.updated_at)
        .execute(&self.pool)
        .await
        .context("insert a signal")?;
        self.get_signal(&signal.key)
            .await?
            .ok_or_else(|| StoreError::Database {
                action: "read a signal just stored",
                source: sqlx::Error::RowNotFound,
            })
    }

    #[tracing::instrument(skip(self))]
    async fn get_signal(&self, key: &SignalKey) -> Result<Option<SignalRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {SIGNAL_COLUMNS} FROM signals WHERE execution_project = $1 \
             AND execution_domain = $2 AND execution_name = $3 AND signal_id = $4"
        ))
        .bind(key.execution.project.clone())
        .bind(key.execution.domain.clone())
        .bind(key.execution.name.clone())
        .bind(key.signal_id.clone())
        .fetch_optional(&self.pool)
        .await
        .context("read a signal")?;
        row.as_ref()
            .map(signal_from_row)
            .transpose()
            .context("decode a signal")
    }

    #[tracing::instrument(skip(self, value))]
    async fn set_signal_value(
        &self,
        key: &SignalKey,
        value: &[u8],
        now: i64,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE signals SET value = $1, updated_at = $2 WHERE execution_project = $3 \
             AND execution_domain = $4 AND execution_name = $5 AND signal_id = $6",
        )
        .bind(value.to_vec())
        .bind(now)
        .bind(key.execution.project.clone())
        .bind(key.execution.domain.clone())
        .bind(key.execution.name.clone())
        .bind(key.signal_id.clone())
        .execute(&self.pool)
        .await
        .context("set a signal")?;
        Ok(result.rows_affected() > 0)
    }

    #[tracing::instrument(skip_all)]
    async fn list_signals(&self, query: &ListQuery) -> Result<Vec<SignalRecord>, StoreError> {
        let (sql, binds) = ListStatement::Signals.sql(query);
        let rows = bind_values(sqlx::query(&sql), &binds)
            .fetch_all(&self.pool)
            .await
            .context("list signals")?;
        rows.iter()
            .map(signal_from_row)
            .collect::<Result<_, _>>()
            .context("decode a signal")
    }
}
