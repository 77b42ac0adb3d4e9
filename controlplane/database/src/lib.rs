//! The control plane's relational database. Admin, the catalog and the
//! scheduler keep their tables in one database, SQLite (the embedded
//! default) or PostgreSQL, each with its own migrations; this crate opens
//! the pool they share and, behind the `testing` feature, holds the harness
//! their suites run on both backends with.

#[cfg(feature = "testing")]
pub mod testing;

use sqlx::Executor;
use sqlx::any::{AnyArguments, AnyPoolOptions};
use sqlx::query::Query;
use sqlx::{Any, AnyPool};

/// Which SQL dialect the pool speaks; only the migrations and pragmas differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite, the embedded default.
    Sqlite,
    /// PostgreSQL 15 or later.
    Postgres,
}

impl Dialect {
    /// The dialect a `sqlite://…` or `postgres://…` URL names.
    pub fn of_url(database_url: &str) -> Result<Self, OpenError> {
        if database_url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if database_url.starts_with("postgres:") || database_url.starts_with("postgresql:") {
            Ok(Self::Postgres)
        } else {
            Err(OpenError::UnsupportedUrl {
                url_scheme: database_url
                    .split(':')
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            })
        }
    }
}

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The URL names a database this build cannot open.
    #[error("unsupported database url scheme in {url_scheme:?}; expected sqlite:// or postgres://")]
    UnsupportedUrl { url_scheme: String },
    /// The database did not accept the connection.
    #[error("cannot connect to the database")]
    Connect(#[source] sqlx::Error),
}

/// Opens a pool on `database_url` (`sqlite://path?mode=rwc` or
/// `postgres://…`), tuned for the dialect; migrations are each component's.
pub async fn open_pool(database_url: &str) -> Result<(AnyPool, Dialect), OpenError> {
    sqlx::any::install_default_drivers();
    let dialect = Dialect::of_url(database_url)?;
    let mut options = AnyPoolOptions::new();
    if dialect == Dialect::Sqlite {
        // WAL lets readers proceed while a writer commits; the busy timeout
        // makes concurrent writers wait instead of failing with SQLITE_BUSY.
        options = options
            .max_connections(8)
            .after_connect(|connection, _meta| {
                Box::pin(async move {
                    connection.execute("PRAGMA journal_mode = WAL").await?;
                    connection.execute("PRAGMA busy_timeout = 10000").await?;
                    connection.execute("PRAGMA synchronous = NORMAL").await?;
                    // Each pooled connection has its own small page cache,
                    // and the pool hands them out in turn, so a list read
                    // pages through syscalls on a cold cache; a mapped file
                    // serves them all from the OS's one.
                    connection.execute("PRAGMA mmap_size = 1073741824").await?;
                    Ok(())
                })
            });
    } else {
        options = options.max_connections(16);
    }
    let pool = options
        .connect(database_url)
        .await
        .map_err(OpenError::Connect)?;
    Ok((pool, dialect))
}

/// A value bound to a placeholder: only integers and text are ever compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlValue {
    /// An integer column (phases, states, timestamps).
    Integer(i64),
    /// A text column.
    Text(String),
}

/// Binds `values` to `query` in order.
pub fn bind_values<'q>(
    mut query: Query<'q, Any, AnyArguments<'q>>,
    values: &[SqlValue],
) -> Query<'q, Any, AnyArguments<'q>> {
    for value in values {
        query = match value {
            SqlValue::Integer(number) => query.bind(*number),
            SqlValue::Text(text) => query.bind(text.clone()),
        };
    }
    query
}

/// Whether `error` is a uniqueness violation: a row with the same key exists.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(database) if database.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_names_the_dialect() {
        assert_eq!(
            Dialect::of_url("sqlite://updraft.db?mode=rwc").unwrap(),
            Dialect::Sqlite
        );
        assert_eq!(
            Dialect::of_url("postgresql://db/updraft").unwrap(),
            Dialect::Postgres
        );
        let refused = Dialect::of_url("mysql://db/updraft").unwrap_err();
        assert!(refused.to_string().contains("\"mysql\""), "{refused}");
    }
}
