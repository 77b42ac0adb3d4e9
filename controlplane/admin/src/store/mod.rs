//! The admin's relational storage: one sqlx implementation over `AnyPool` that
//! runs on SQLite (the embedded default) and PostgreSQL, with a repository
//! trait per aggregate. Timestamps are microseconds since the Unix epoch and
//! protobuf payloads are kept as the bytes clients sent.

mod definitions;
mod description_entities;
mod executions;
mod list_statements;
mod matchable_attributes;
mod named_entities;
mod projects;
mod propellers;
mod runs;
mod signals;
pub(crate) mod timing;

use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::AnyPool;

pub use definitions::{
    DefinitionKey, LaunchPlanRecord, LaunchPlanRepo, TaskRecord, TaskRepo, WorkflowRecord,
    WorkflowRepo,
};
pub use description_entities::{DescriptionEntityRecord, DescriptionEntityRepo};
pub use executions::{
    Claimant, ClaimedExecution, ExecutionKey, ExecutionRecord, ExecutionRepo,
    MOST_LABELS_PER_PROPELLER, claim_candidate_sql,
};
pub use list_statements::ListStatement;
pub use matchable_attributes::{
    MatchableAttributesKey, MatchableAttributesRecord, MatchableAttributesRepo,
};
pub use named_entities::{NamedEntityKey, NamedEntityRecord, NamedEntityRepo};
pub use projects::{ProjectRecord, ProjectRepo};
pub use propellers::{PropellerRecord, PropellerRepo};
pub use runs::{
    NodeExecutionKey, NodeExecutionRecord, RunRepo, TaskExecutionKey, TaskExecutionRecord,
};
pub use signals::{SignalKey, SignalRecord, SignalRepo};

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A row with the same key already exists.
    #[error("{what} already exists")]
    AlreadyExists { what: String },
    /// The database URL names a database this build cannot open.
    #[error("unsupported database url scheme in {url_scheme:?}; expected sqlite:// or postgres://")]
    UnsupportedUrl { url_scheme: String },
    /// The database answered with an error.
    #[error("database error while trying to {action}")]
    Database {
        action: &'static str,
        #[source]
        source: sqlx::Error,
    },
    /// The schema could not be brought up to date.
    #[error("failed to run database migrations")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Adds what was being attempted to a sqlx error.
pub(crate) trait DatabaseContext<T> {
    /// Wraps the error with the action that failed.
    fn context(self, action: &'static str) -> Result<T, StoreError>;
}

impl<T> DatabaseContext<T> for Result<T, sqlx::Error> {
    fn context(self, action: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Database { action, source })
    }
}

/// Turns a uniqueness violation into [`StoreError::AlreadyExists`] naming `what`.
pub(crate) fn map_insert_error(
    error: sqlx::Error,
    action: &'static str,
    what: impl FnOnce() -> String,
) -> StoreError {
    let is_unique =
        matches!(&error, sqlx::Error::Database(database) if database.is_unique_violation());
    if is_unique {
        StoreError::AlreadyExists { what: what() }
    } else {
        StoreError::Database {
            action,
            source: error,
        }
    }
}

pub(crate) use updraft_database::bind_values;
pub use updraft_database::{Dialect, SqlValue};

/// The admin's database: every repository trait is implemented on it.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: AnyPool,
    dialect: Dialect,
}

/// The admin's migrations for `dialect`.
///
/// Other components (the console's token store, later the catalog and the
/// scheduler) keep their own migrations in the same database, and sqlx 0.8
/// records every migrator's in the one `_sqlx_migrations` table. So each
/// migrator ignores applied versions it does not know instead of refusing
/// them, and the components' versions must never coincide (the server's
/// tests check that they do not).
pub fn migrator(dialect: Dialect) -> sqlx::migrate::Migrator {
    let mut migrator = match dialect {
        Dialect::Sqlite => sqlx::migrate!("migrations/sqlite"),
        Dialect::Postgres => sqlx::migrate!("migrations/postgres"),
    };
    migrator.set_ignore_missing(true);
    migrator
}

/// The project every fresh installation starts with, as flyteadmin's sandbox does.
pub const DEFAULT_PROJECT: &str = "flytesnacks";

impl SqlStore {
    /// Connects to `database_url` (`sqlite://path?mode=rwc` or `postgres://…`),
    /// brings the schema up to date and makes sure the default project exists.
    #[tracing::instrument(skip_all)]
    pub async fn connect(database_url: &str) -> Result<Self, StoreError> {
        let (pool, dialect) = updraft_database::open_pool(database_url)
            .await
            .map_err(|error| match error {
                updraft_database::OpenError::UnsupportedUrl { url_scheme } => {
                    StoreError::UnsupportedUrl { url_scheme }
                }
                updraft_database::OpenError::Connect(source) => StoreError::Database {
                    action: "connect to the database",
                    source,
                },
            })?;
        migrator(dialect).run(&pool).await?;
        // Activating a launch plan turns its schedule on in the same
        // transaction, so the scheduler's table is admin's to migrate too.
        updraft_scheduler::store::migrator(dialect)
            .run(&pool)
            .await?;
        let store = Self { pool, dialect };
        store.ensure_default_project().await?;
        Ok(store)
    }

    /// Answers once the database does: what readiness checks ask.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .context("ping the database")?;
        Ok(())
    }

    /// The dialect of the connected database.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The underlying pool, for tests and maintenance tasks.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    async fn ensure_default_project(&self) -> Result<(), StoreError> {
        let now = now_micros();
        sqlx::query(
            "INSERT INTO projects (id, name, description, labels, state, org, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 0, '', $5, $5) ON CONFLICT (id) DO NOTHING",
        )
        .bind(DEFAULT_PROJECT)
        .bind(DEFAULT_PROJECT)
        .bind("")
        .bind(Vec::<u8>::new())
        .bind(now)
        .execute(&self.pool)
        .await
        .context("create the default project")?;
        Ok(())
    }
}

/// Microseconds since the Unix epoch, now.
pub fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

/// A protobuf timestamp for a stored microsecond count.
pub fn timestamp_from_micros(micros: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: micros.div_euclid(1_000_000),
        nanos: i32::try_from(micros.rem_euclid(1_000_000) * 1_000).unwrap_or_default(),
    }
}

/// A comparison operator of Flyte's filter language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// `eq`
    Equal,
    /// `ne`
    NotEqual,
    /// `gt`
    GreaterThan,
    /// `gte`
    GreaterThanOrEqual,
    /// `lt`
    LessThan,
    /// `lte`
    LessThanOrEqual,
    /// `contains`: substring match on text.
    Contains,
    /// `value_in`: one of a list.
    ValueIn,
}

/// One condition on an allow-listed column; the column name never comes from
/// user text, only from the static tables in [`crate::filters`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The SQL column (a `'static` name from an allow-list).
    pub column: &'static str,
    /// How the column is compared.
    pub operator: Operator,
    /// One value, or several for `value_in`.
    pub values: Vec<SqlValue>,
}

impl Condition {
    /// `column = value`.
    pub fn equal(column: &'static str, value: SqlValue) -> Self {
        Self {
            column,
            operator: Operator::Equal,
            values: vec![value],
        }
    }

    /// `column = 'text'`.
    pub fn text(column: &'static str, value: &str) -> Self {
        Self::equal(column, SqlValue::Text(value.to_string()))
    }
}

/// A sort order on an allow-listed column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderBy {
    /// The SQL column (from an allow-list).
    pub column: &'static str,
    /// Newest or largest first.
    pub descending: bool,
}

/// Conditions, order and page of a list query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// All must hold.
    pub conditions: Vec<Condition>,
    /// The requested order; ties are broken by the primary key.
    pub order_by: OrderBy,
    /// Page size.
    pub limit: i64,
    /// Rows to skip (decoded from the page token).
    pub offset: i64,
}

impl ListQuery {
    /// The `WHERE … ORDER BY … LIMIT … OFFSET …` tail of a query, with its binds.
    /// `tie_breakers` are appended to the order so pages are stable.
    pub(crate) fn render(&self, tie_breakers: &[&'static str]) -> (String, Vec<SqlValue>) {
        let mut binds = Vec::new();
        let mut sql = render_where(&self.conditions, &mut binds);
        let direction = if self.order_by.descending {
            "DESC"
        } else {
            "ASC"
        };
        sql.push_str(&format!(" ORDER BY {} {direction}", self.order_by.column));
        for column in tie_breakers {
            if *column != self.order_by.column {
                sql.push_str(&format!(", {column} {direction}"));
            }
        }
        binds.push(SqlValue::Integer(self.limit));
        sql.push_str(&format!(" LIMIT ${}", binds.len()));
        binds.push(SqlValue::Integer(self.offset));
        sql.push_str(&format!(" OFFSET ${}", binds.len()));
        (sql, binds)
    }
}

/// ` WHERE a = $1 AND …` (or nothing), numbering placeholders after `binds`.
pub(crate) fn render_where(conditions: &[Condition], binds: &mut Vec<SqlValue>) -> String {
    let mut clauses = Vec::with_capacity(conditions.len());
    for condition in conditions {
        let column = condition.column;
        let clause = match condition.operator {
            Operator::ValueIn => {
                if condition.values.is_empty() {
                    // `IN ()` is not valid SQL; an empty set matches nothing.
                    "1 = 0".to_string()
                } else {
                    let placeholders: Vec<String> = condition
                        .values
                        .iter()
                        .map(|value| {
                            binds.push(value.clone());
                            format!("${}", binds.len())
                        })
                        .collect();
                    format!("{column} IN ({})", placeholders.join(", "))
                }
            }
            Operator::Contains => {
                let needle = match condition.values.first() {
                    Some(SqlValue::Text(text)) => text.clone(),
                    Some(SqlValue::Integer(number)) => number.to_string(),
                    None => String::new(),
                };
                let escaped = needle
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                binds.push(SqlValue::Text(format!("%{escaped}%")));
                format!("{column} LIKE ${} ESCAPE '\\'", binds.len())
            }
            operator => {
                let symbol = match operator {
                    Operator::Equal => "=",
                    Operator::NotEqual => "<>",
                    Operator::GreaterThan => ">",
                    Operator::GreaterThanOrEqual => ">=",
                    Operator::LessThan => "<",
                    Operator::LessThanOrEqual => "<=",
                    Operator::Contains | Operator::ValueIn => unreachable!("handled above"),
                };
                let value = condition
                    .values
                    .first()
                    .cloned()
                    .unwrap_or(SqlValue::Text(String::new()));
                binds.push(value);
                format!("{column} {symbol} ${}", binds.len())
            }
        };
        clauses.push(clause);
    }
    if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    }
}
