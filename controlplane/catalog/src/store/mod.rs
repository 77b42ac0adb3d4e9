//! The catalog's relational storage: one sqlx implementation over `AnyPool`
//! on SQLite and PostgreSQL, in the database admin uses, with the catalog's
//! own migrations. Timestamps are microseconds since the Unix epoch;
//! metadata is kept as the protobuf bytes clients sent.

mod artifacts;
mod datasets;
mod reservations;
pub mod statements;

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use sqlx::AnyPool;
pub use updraft_database::Dialect;

pub use artifacts::{
    ArtifactCreation, ArtifactDataRecord, ArtifactRecord, NewArtifact, SourceExecution,
};
pub use datasets::DatasetRecord;
pub use reservations::ReservationRecord;
pub use statements::{ArtifactFilter, ArtifactListQuery, DatasetListQuery, Page};

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened.
    #[error("cannot open the catalog's database")]
    Open(#[from] updraft_database::OpenError),
    /// The database answered with an error.
    #[error("database error while trying to {action}")]
    Database {
        action: &'static str,
        #[source]
        source: sqlx::Error,
    },
    /// The schema could not be brought up to date.
    #[error("failed to run the catalog's database migrations")]
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

/// The catalog's migrations for `dialect`.
///
/// Admin, the console and the catalog keep their migrations in one database
/// and sqlx 0.8 records them all in one `_sqlx_migrations` table, so each
/// migrator ignores applied versions it does not know, and the versions
/// must never coincide (the server's tests check that they do not).
pub fn migrator(dialect: Dialect) -> sqlx::migrate::Migrator {
    let mut migrator = match dialect {
        Dialect::Sqlite => sqlx::migrate!("migrations/sqlite"),
        Dialect::Postgres => sqlx::migrate!("migrations/postgres"),
    };
    migrator.set_ignore_missing(true);
    migrator
}

/// The catalog's database.
#[derive(Debug, Clone)]
pub struct CatalogStore {
    pool: AnyPool,
    dialect: Dialect,
}

impl CatalogStore {
    /// Connects to `database_url` (`sqlite://path?mode=rwc` or `postgres://…`)
    /// and brings the catalog's tables up to date.
    #[tracing::instrument(skip_all)]
    pub async fn connect(database_url: &str) -> Result<Self, StoreError> {
        let (pool, dialect) = updraft_database::open_pool(database_url).await?;
        Self::on_pool(pool, dialect).await
    }

    /// The catalog on a pool another component opened (admin's, in
    /// `updraft start`), bringing the catalog's tables up to date.
    pub async fn on_pool(pool: AnyPool, dialect: Dialect) -> Result<Self, StoreError> {
        migrator(dialect).run(&pool).await?;
        Ok(Self { pool, dialect })
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
}

/// Microseconds since the Unix epoch, now.
pub fn now_micros() -> i64 {
    micros_since_epoch(SystemTime::now())
}

/// Microseconds since the Unix epoch at `time`.
pub fn micros_since_epoch(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
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

/// Times one database call under datacatalog's repository timer
/// (`flyte:datacatalog:artifact:get_ms`), recorded when dropped.
#[must_use = "the call is timed until the timer is dropped"]
pub(crate) struct RepositoryTimer {
    metric: &'static str,
    started: Instant,
}

impl RepositoryTimer {
    /// Starts timing a call recorded as `metric`.
    pub(crate) fn start(metric: &'static str) -> Self {
        Self {
            metric,
            started: Instant::now(),
        }
    }
}

impl Drop for RepositoryTimer {
    fn drop(&mut self) {
        metrics::histogram!(self.metric).record(self.started.elapsed().as_secs_f64() * 1_000.0);
    }
}

/// `RepositoryTimer` for `entity` (`dataset`, `artifact`, `tag`,
/// `reservation`) doing `operation` (`create`, `get`, `list`, `update`,
/// `delete`), named as datacatalog names its repository timers.
macro_rules! time_repository_call {
    ($entity:literal, $operation:literal) => {
        $crate::store::RepositoryTimer::start(concat!(
            "flyte:datacatalog:",
            $entity,
            ":",
            $operation,
            "_ms"
        ))
    };
}
pub(crate) use time_repository_call;
