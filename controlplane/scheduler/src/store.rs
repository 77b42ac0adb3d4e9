//! The scheduler's tables, in the database admin uses, with the
//! scheduler's own migrations: `active_schedules`, which admin writes
//! through [`activate_schedule`] and [`deactivate_schedule`] inside its own
//! transactions and the scheduler reads and records launches in;
//! `schedule_changes`, the counter those two bump (and, on PostgreSQL, a
//! notification on [`SCHEDULE_CHANGES_CHANNEL`]); and `scheduler_leases`,
//! the lease that lets one scheduler of several lead.
//! Timestamps are microseconds since the Unix epoch.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row};
pub use updraft_database::Dialect;

use crate::cron::CronExpression;
use crate::schedules::{CronOffset, InvalidSchedule, LaunchPlanVersion, Schedule, Timing};

/// The PostgreSQL channel admin notifies, on commit, when it turns a
/// schedule on or off.
pub const SCHEDULE_CHANGES_CHANNEL: &str = "updraft_schedule_changes";

/// The one lease every scheduler on a database competes for.
const LEASE_NAME: &str = "scheduler";

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened.
    #[error("cannot open the scheduler's database")]
    Open(#[from] updraft_database::OpenError),
    /// The database answered with an error.
    #[error("database error while trying to {action}")]
    Database {
        /// What was being done.
        action: &'static str,
        /// The database's answer.
        #[source]
        source: sqlx::Error,
    },
    /// The schema could not be brought up to date.
    #[error("failed to run the scheduler's database migrations")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The schedule change counter's row is gone.
    #[error("the schedule_changes row is missing; the scheduler's migrations did not run")]
    MissingChangeCounter,
}

trait DatabaseContext<T> {
    fn context(self, action: &'static str) -> Result<T, StoreError>;
}

impl<T> DatabaseContext<T> for Result<T, sqlx::Error> {
    fn context(self, action: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Database { action, source })
    }
}

/// The scheduler's migrations for `dialect`.
///
/// Admin, the console, the catalog and the scheduler keep their migrations
/// in one database and sqlx 0.8 records them all in one `_sqlx_migrations`
/// table, so each migrator ignores applied versions it does not know, and
/// the versions must never coincide (the tests check that they do not).
pub fn migrator(dialect: Dialect) -> sqlx::migrate::Migrator {
    let mut migrator = match dialect {
        Dialect::Sqlite => sqlx::migrate!("migrations/sqlite"),
        Dialect::Postgres => sqlx::migrate!("migrations/postgres"),
    };
    migrator.set_ignore_missing(true);
    migrator
}

/// A schedule that is on, as the scheduler reads it.
#[derive(Debug, Clone)]
pub struct ActiveSchedule {
    /// The launch plan version it launches.
    pub launch_plan: LaunchPlanVersion,
    /// When it fires.
    pub schedule: Schedule,
    /// When the launch plan version was activated: no time before it fires.
    pub activated_at: Timestamp,
    /// The last scheduled time launched, if any.
    pub last_fired_at: Option<Timestamp>,
}

impl ActiveSchedule {
    /// The time the next launch comes after: the last one launched, or the
    /// activation.
    pub fn resume_after(&self) -> Timestamp {
        self.last_fired_at
            .map_or(self.activated_at, |fired| fired.max(self.activated_at))
    }
}

/// Turns the schedule on for `launch_plan` (inside the caller's transaction,
/// which also activates the launch plan) and off for the other versions of
/// the same launch plan, which that activation deactivates. `None` (a
/// version without a schedule) only turns the others off. Activating a
/// version that is already on keeps its record of launches.
pub async fn activate_schedule(
    connection: &mut AnyConnection,
    launch_plan: &LaunchPlanVersion,
    schedule: Option<&Schedule>,
    activated_at_micros: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM active_schedules \
         WHERE project = $1 AND domain = $2 AND name = $3 AND version <> $4",
    )
    .bind(launch_plan.project.clone())
    .bind(launch_plan.domain.clone())
    .bind(launch_plan.name.clone())
    .bind(launch_plan.version.clone())
    .execute(&mut *connection)
    .await?;
    record_schedule_change(connection).await?;
    let Some(schedule) = schedule else {
        return Ok(());
    };
    let (cron_expression, fixed_rate_value, fixed_rate_unit) = match &schedule.timing {
        Timing::Cron(expression) => (expression.as_str().to_string(), 0, 0),
        Timing::FixedRate { value, unit } => (String::new(), i64::from(*value), *unit as i64),
    };
    sqlx::query(
        "INSERT INTO active_schedules \
         (project, domain, name, version, cron_expression, fixed_rate_value, fixed_rate_unit, \
          kickoff_time_input_arg, activated_at, cron_offset) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (project, domain, name, version) DO NOTHING",
    )
    .bind(launch_plan.project.clone())
    .bind(launch_plan.domain.clone())
    .bind(launch_plan.name.clone())
    .bind(launch_plan.version.clone())
    .bind(cron_expression)
    .bind(fixed_rate_value)
    .bind(fixed_rate_unit)
    .bind(schedule.kickoff_time_input_arg.clone())
    .bind(activated_at_micros)
    .bind(
        schedule
            .offset
            .as_ref()
            .map_or_else(String::new, |offset| offset.as_str().to_string()),
    )
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// Turns the schedule of `launch_plan` off (inside the caller's transaction).
pub async fn deactivate_schedule(
    connection: &mut AnyConnection,
    launch_plan: &LaunchPlanVersion,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM active_schedules \
         WHERE project = $1 AND domain = $2 AND name = $3 AND version = $4",
    )
    .bind(launch_plan.project.clone())
    .bind(launch_plan.domain.clone())
    .bind(launch_plan.name.clone())
    .bind(launch_plan.version.clone())
    .execute(&mut *connection)
    .await?;
    record_schedule_change(connection).await
}

/// Bumps the change counter and, on PostgreSQL, notifies the schedulers
/// listening; both take effect when the caller's transaction commits, so a
/// scheduler woken by either reads the change.
async fn record_schedule_change(connection: &mut AnyConnection) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE schedule_changes SET version = version + 1 WHERE id = 1")
        .execute(&mut *connection)
        .await?;
    if connection.backend_name() == "PostgreSQL" {
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(SCHEDULE_CHANGES_CHANNEL)
            .execute(&mut *connection)
            .await?;
    }
    Ok(())
}

/// The scheduler's database.
#[derive(Debug, Clone)]
pub struct ScheduleStore {
    pool: AnyPool,
    dialect: Dialect,
    /// Where to open a listening connection on PostgreSQL; unknown for a
    /// pool opened elsewhere, which then relies on the change counter.
    database_url: Option<String>,
}

impl ScheduleStore {
    /// Connects to `database_url` (`sqlite://path?mode=rwc` or `postgres://…`)
    /// and brings the scheduler's table up to date.
    #[tracing::instrument(skip_all)]
    pub async fn connect(database_url: &str) -> Result<Self, StoreError> {
        let (pool, dialect) = updraft_database::open_pool(database_url).await?;
        let mut store = Self::on_pool(pool, dialect).await?;
        store.database_url = Some(database_url.to_string());
        Ok(store)
    }

    /// The scheduler on a pool another component opened (admin's, in
    /// `updraft start`), bringing the scheduler's table up to date.
    pub async fn on_pool(pool: AnyPool, dialect: Dialect) -> Result<Self, StoreError> {
        migrator(dialect).run(&pool).await?;
        Ok(Self {
            pool,
            dialect,
            database_url: None,
        })
    }

    /// The SQL dialect of the database.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The schedule change counter: it moves whenever admin turns a
    /// schedule on or off, and reading it costs one primary-key lookup.
    #[tracing::instrument(skip(self), level = "trace")]
    pub async fn schedule_changes_version(&self) -> Result<i64, StoreError> {
        sqlx::query_scalar::<_, i64>("SELECT version FROM schedule_changes WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .context("read the schedule change counter")?
            .ok_or(StoreError::MissingChangeCounter)
    }

    /// A connection listening for admin's notifications of schedule
    /// changes, on PostgreSQL when the store knows its URL; `None` otherwise.
    pub async fn listen_for_schedule_changes(
        &self,
    ) -> Result<Option<sqlx::postgres::PgListener>, StoreError> {
        let (Dialect::Postgres, Some(url)) = (self.dialect, self.database_url.as_deref()) else {
            return Ok(None);
        };
        let mut listener = sqlx::postgres::PgListener::connect(url)
            .await
            .context("open a connection to listen for schedule changes")?;
        listener
            .listen(SCHEDULE_CHANGES_CHANNEL)
            .await
            .context("listen for schedule changes")?;
        Ok(Some(listener))
    }

    /// Takes the lease for `owner`, or renews it, until `now + duration`:
    /// true if `owner` now holds it, false if another holds it and its
    /// lease has not run out at `now`.
    #[tracing::instrument(skip(self), level = "debug")]
    pub async fn take_or_renew_lease(
        &self,
        owner: &str,
        now: Timestamp,
        duration: Duration,
    ) -> Result<bool, StoreError> {
        let expires_at = now
            .checked_add(SignedDuration::try_from(duration).unwrap_or(SignedDuration::MAX))
            .unwrap_or(Timestamp::MAX);
        // One statement, so two schedulers racing for a lapsed lease cannot
        // both win: the second sees the first's fresh row and skips.
        let taken = sqlx::query(
            "INSERT INTO scheduler_leases (name, owner, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, \
             expires_at = excluded.expires_at \
             WHERE scheduler_leases.owner = excluded.owner OR scheduler_leases.expires_at <= $4",
        )
        .bind(LEASE_NAME)
        .bind(owner.to_string())
        .bind(micros(expires_at))
        .bind(micros(now))
        .execute(&self.pool)
        .await
        .context("take or renew the scheduler's lease")?;
        Ok(taken.rows_affected() > 0)
    }

    /// Gives the lease up if `owner` holds it, so another scheduler leads at
    /// once rather than when the lease runs out.
    #[tracing::instrument(skip(self))]
    pub async fn release_lease(&self, owner: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM scheduler_leases WHERE name = $1 AND owner = $2")
            .bind(LEASE_NAME)
            .bind(owner.to_string())
            .execute(&self.pool)
            .await
            .context("release the scheduler's lease")?;
        Ok(())
    }

    /// Who holds the lease and until when, run out or not; `None` if no
    /// scheduler ever took it or the last gave it up.
    pub async fn lease_holder(&self) -> Result<Option<(String, Timestamp)>, StoreError> {
        let row = sqlx::query("SELECT owner, expires_at FROM scheduler_leases WHERE name = $1")
            .bind(LEASE_NAME)
            .fetch_optional(&self.pool)
            .await
            .context("read the scheduler's lease")?;
        row.map(|row| {
            Ok((
                row.try_get::<String, _>("owner")?,
                from_micros(row.try_get::<i64, _>("expires_at")?),
            ))
        })
        .transpose()
        .context("read the scheduler's lease")
    }

    /// Answers once the database does: what readiness checks ask.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .context("ping the database")?;
        Ok(())
    }

    /// The underlying pool, for tests and maintenance tasks.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Every schedule that is on. A row the scheduler cannot read (written
    /// by a newer version, say) is logged and left out, not fatal to the rest.
    #[tracing::instrument(skip(self))]
    pub async fn list_active_schedules(&self) -> Result<Vec<ActiveSchedule>, StoreError> {
        let rows = sqlx::query(
            "SELECT project, domain, name, version, cron_expression, fixed_rate_value, \
             fixed_rate_unit, kickoff_time_input_arg, activated_at, last_fired_at, cron_offset \
             FROM active_schedules",
        )
        .fetch_all(&self.pool)
        .await
        .context("list the active schedules")?;
        let mut schedules = Vec::with_capacity(rows.len());
        for row in &rows {
            match active_schedule_from_row(row) {
                Ok(schedule) => schedules.push(schedule),
                Err(reason) => tracing::error!(%reason, "skipping an unreadable schedule"),
            }
        }
        Ok(schedules)
    }

    /// Records that `launch_plan` was launched for `scheduled_at`. Never
    /// moves the record back, so two schedulers during a redeploy agree.
    #[tracing::instrument(skip(self), fields(launch_plan = %launch_plan))]
    pub async fn record_launch(
        &self,
        launch_plan: &LaunchPlanVersion,
        scheduled_at: Timestamp,
    ) -> Result<(), StoreError> {
        let scheduled_at = micros(scheduled_at);
        sqlx::query(
            "UPDATE active_schedules SET last_fired_at = $1 \
             WHERE project = $2 AND domain = $3 AND name = $4 AND version = $5 \
             AND (last_fired_at IS NULL OR last_fired_at < $1)",
        )
        .bind(scheduled_at)
        .bind(launch_plan.project.clone())
        .bind(launch_plan.domain.clone())
        .bind(launch_plan.name.clone())
        .bind(launch_plan.version.clone())
        .execute(&self.pool)
        .await
        .context("record a scheduled launch")?;
        Ok(())
    }
}

fn active_schedule_from_row(row: &AnyRow) -> Result<ActiveSchedule, String> {
    let text = |column: &str| row.try_get::<String, _>(column).map_err(|e| e.to_string());
    let integer = |column: &str| row.try_get::<i64, _>(column).map_err(|e| e.to_string());
    let launch_plan = LaunchPlanVersion {
        project: text("project")?,
        domain: text("domain")?,
        name: text("name")?,
        version: text("version")?,
    };
    let in_context = |error: InvalidSchedule| format!("{launch_plan}: {error}");
    let cron_expression = text("cron_expression")?;
    let timing = if cron_expression.is_empty() {
        let value = u32::try_from(integer("fixed_rate_value")?).unwrap_or_default();
        let unit = i32::try_from(integer("fixed_rate_unit")?).unwrap_or(-1);
        Timing::fixed_rate(value, unit).map_err(in_context)?
    } else {
        Timing::Cron(
            CronExpression::parse(&cron_expression)
                .map_err(|error| in_context(InvalidSchedule::Cron(error)))?,
        )
    };
    let offset = match text("cron_offset")?.as_str() {
        "" => None,
        written => Some(CronOffset::parse(written).map_err(in_context)?),
    };
    let last_fired_at = row
        .try_get::<Option<i64>, _>("last_fired_at")
        .map_err(|e| e.to_string())?;
    Ok(ActiveSchedule {
        schedule: Schedule {
            timing,
            kickoff_time_input_arg: text("kickoff_time_input_arg")?,
            offset,
        },
        activated_at: from_micros(integer("activated_at")?),
        last_fired_at: last_fired_at.map(from_micros),
        launch_plan,
    })
}

/// Microseconds since the Unix epoch at `instant`.
pub fn micros(instant: Timestamp) -> i64 {
    instant.as_microsecond()
}

fn from_micros(micros: i64) -> Timestamp {
    Timestamp::from_microsecond(micros).unwrap_or(Timestamp::UNIX_EPOCH)
}
