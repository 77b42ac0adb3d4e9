//! The two migration trees, `migrations/sqlite` and `migrations/postgres`,
//! give the same schema: the same tables, columns (types normalised across
//! the two databases), primary keys and indexes. Both schemas are read back
//! from real migrated databases, not from the SQL files
//! ([`updraft_database::testing::schema`]).

mod common;

use common::Backend;
use sqlx::Connection;
use updraft_admin::store::{Dialect, SqlStore};
use updraft_database::testing::schema::{differences, postgres_schema, sqlite_schema};

#[test]
fn both_trees_hold_the_same_migrations() {
    let migrations = |dialect| {
        updraft_admin::store::migrator(dialect)
            .iter()
            .map(|migration| format!("{}_{}", migration.version, migration.description))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        migrations(Dialect::Sqlite),
        migrations(Dialect::Postgres),
        "controlplane/admin/migrations/sqlite and migrations/postgres must hold the same \
         migrations (same versions and names); add each change to both"
    );
}

#[tokio::test]
async fn sqlite_and_postgres_migrations_give_the_same_schema() {
    let Some(postgres) = Backend::postgres_from_environment() else {
        eprintln!("UPDRAFT_TEST_POSTGRES is not set; skipping");
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let sqlite_url = common::fresh_database_url(&Backend::Sqlite, directory.path()).await;
    let postgres_url = common::fresh_database_url(&postgres, directory.path()).await;
    SqlStore::connect(&sqlite_url).await.unwrap();
    SqlStore::connect(&postgres_url).await.unwrap();

    let sqlite = sqlite_schema(&sqlite_url).await;
    let postgres = postgres_schema(&postgres_url).await;
    assert!(
        sqlite
            .keys()
            .any(|key| key.ends_with(".index.executions_claimable")),
        "the SQLite schema was not read: {sqlite:#?}"
    );
    let found = differences(&sqlite, &postgres);
    assert!(
        found.is_empty(),
        "controlplane/admin/migrations/sqlite and migrations/postgres give different schemas; \
         keep the two trees in step:\n{}",
        found.join("\n")
    );

    // And a drift is seen and named: a column only SQLite has, an index only
    // PostgreSQL has.
    let mut connection = sqlx::SqliteConnection::connect(&sqlite_url).await.unwrap();
    sqlx::query("ALTER TABLE executions ADD COLUMN drifted TEXT")
        .execute(&mut connection)
        .await
        .unwrap();
    let mut connection = sqlx::PgConnection::connect(&postgres_url).await.unwrap();
    sqlx::query("CREATE INDEX executions_drifted ON executions (phase)")
        .execute(&mut connection)
        .await
        .unwrap();
    let drifted = differences(
        &sqlite_schema(&sqlite_url).await,
        &postgres_schema(&postgres_url).await,
    );
    assert_eq!(
        drifted,
        [
            "  executions.column.drifted: sqlite text | postgres (absent)",
            "  executions.index.executions_drifted: sqlite (absent) | postgres (phase)",
        ]
    );
}

/// flyte-core migrates in every admin Pod: admins started at once on one
/// empty PostgreSQL database must all come up, the schema made once.
#[tokio::test]
async fn admins_started_at_once_on_one_database_all_migrate_it() {
    let Some(backend) = Backend::postgres_from_environment() else {
        eprintln!("skipped: set UPDRAFT_TEST_POSTGRES to run it");
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let url = common::fresh_database_url(&backend, directory.path()).await;
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { SqlStore::connect(&url).await })
        })
        .collect();
    for start in starts {
        start
            .await
            .unwrap()
            .expect("every admin starts while the others migrate");
    }
    let store = SqlStore::connect(&url).await.unwrap();
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .unwrap()
        .count();
    // Admin migrates the scheduler's table too (it writes it on activation).
    let scheduler_migrations = updraft_scheduler::store::migrator(Dialect::Postgres)
        .iter()
        .count();
    assert_eq!(
        applied,
        i64::try_from(files + scheduler_migrations).unwrap(),
        "each migration once"
    );
}
