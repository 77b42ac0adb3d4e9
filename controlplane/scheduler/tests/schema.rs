//! The scheduler's two migration trees give the same schema, read back from
//! real migrated databases ([`updraft_database::testing::schema`]).

use updraft_database::testing::schema::{differences, postgres_schema, sqlite_schema};
use updraft_database::testing::{Backend, fresh_database_url};
use updraft_scheduler::store::{Dialect, ScheduleStore, migrator};

#[test]
fn both_trees_hold_the_same_migrations() {
    let migrations = |dialect| {
        migrator(dialect)
            .iter()
            .map(|migration| format!("{}_{}", migration.version, migration.description))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        migrations(Dialect::Sqlite),
        migrations(Dialect::Postgres),
        "controlplane/scheduler/migrations/sqlite and migrations/postgres must hold the same \
         migrations; add each change to both"
    );
}

#[tokio::test]
async fn sqlite_and_postgres_migrations_give_the_same_schema() {
    let Some(postgres) = Backend::postgres_from_environment() else {
        eprintln!("UPDRAFT_TEST_POSTGRES is not set; skipping");
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let sqlite_url = fresh_database_url(&Backend::Sqlite, directory.path()).await;
    let postgres_url = fresh_database_url(&postgres, directory.path()).await;
    ScheduleStore::connect(&sqlite_url).await.unwrap();
    ScheduleStore::connect(&postgres_url).await.unwrap();
    let sqlite = sqlite_schema(&sqlite_url).await;
    assert!(
        sqlite
            .keys()
            .any(|key| key.starts_with("active_schedules.")),
        "the SQLite schema was not read: {sqlite:#?}"
    );
    let found = differences(&sqlite, &postgres_schema(&postgres_url).await);
    assert!(
        found.is_empty(),
        "controlplane/scheduler/migrations/sqlite and migrations/postgres give different \
         schemas; keep the two trees in step:\n{}",
        found.join("\n")
    );
}
