//! The scheduler's table, `active_schedules`, in the database admin uses,
//! with the scheduler's own migrations. Admin writes it through
//! [`activate_schedule`] and [`deactivate_schedule`] inside its own
//! transactions; the scheduler reads it and records launches.
//! Timestamps are microseconds since the Unix epoch.

use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row};
pub use updraft_database::Dialect;

use crate::cron::CronExpression;
use crate::schedules::{InvalidSchedule, LaunchPlanVersion, Schedule, Timing};

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
          kickoff_time_input_arg, activated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
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
    Ok(())
}

/// The scheduler's database.
#[derive(Debug, Clone)]
pub struct ScheduleStore {
    pool: AnyPool,
}

impl ScheduleStore {
    /// Connects to `database_url` (`sqlite://path?mode=rwc` or `postgres://…`)
    /// and brings the scheduler's table up to date.
    #[tracing::instrument(skip_all)]
    pub async fn connect(database_url: &str) -> Result<Self, StoreError> {
        let (pool, dialect) = updraft_database::open_pool(database_url).await?;
        Self::on_pool(pool, dialect).await
    }

    /// The scheduler on a pool another component opened (admin's, in
    /// `updraft start`), bringing the scheduler's table up to date.
    pub async fn on_pool(pool: AnyPool, dialect: Dialect) -> Result<Self, StoreError> {
        migrator(dialect).run(&pool).await?;
        Ok(Self { pool })
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
             fixed_rate_unit, kickoff_time_input_arg, activated_at, last_fired_at \
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
    let last_fired_at = row
        .try_get::<Option<i64>, _>("last_fired_at")
        .map_err(|e| e.to_string())?;
    Ok(ActiveSchedule {
        schedule: Schedule {
            timing,
            kickoff_time_input_arg: text("kickoff_time_input_arg")?,
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
