//! The catalog's two migration trees give the same schema (read back from
//! real migrated databases), and its migration versions are its own in the
//! database it shares with admin, the console and the scheduler.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::Backend;
use updraft_catalog::store::{CatalogStore, Dialect, migrator};
use updraft_database::testing::schema::{differences, postgres_schema, sqlite_schema};

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
        "controlplane/catalog/migrations/sqlite and migrations/postgres must hold the same \
         migrations (same versions and names); add each change to both"
    );
}

#[test]
fn no_other_component_takes_a_catalog_migration_version() {
    // One `_sqlx_migrations` table holds every component's migrations; a
    // shared version would make one migrator find another's "changed".
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut owners: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let components = std::fs::read_dir(workspace.join("controlplane"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .chain([workspace.join("server")]);
    for component in components {
        let Ok(files) = std::fs::read_dir(component.join("migrations/sqlite")) else {
            continue;
        };
        for file in files {
            let name = file.unwrap().file_name().to_string_lossy().into_owned();
            let version = name.split('_').next().unwrap_or_default().to_string();
            owners.entry(version).or_default().push(
                component
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    let catalog_versions: Vec<String> = migrator(Dialect::Sqlite)
        .iter()
        .map(|migration| migration.version.to_string())
        .collect();
    for version in catalog_versions {
        assert_eq!(
            owners.get(&version).map(Vec::as_slice),
            Some(&["catalog".to_string()][..]),
            "migration version {version} must be the catalog's alone; renumber it"
        );
    }
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
    CatalogStore::connect(&sqlite_url).await.unwrap();
    CatalogStore::connect(&postgres_url).await.unwrap();

    let sqlite = sqlite_schema(&sqlite_url).await;
    let postgres = postgres_schema(&postgres_url).await;
    assert!(
        sqlite
            .keys()
            .any(|key| key.ends_with(".index.catalog_artifacts_by_source_execution")),
        "the SQLite schema was not read: {sqlite:#?}"
    );
    let found = differences(&sqlite, &postgres);
    assert!(
        found.is_empty(),
        "controlplane/catalog/migrations/sqlite and migrations/postgres give different schemas; \
         keep the two trees in step:\n{}",
        found.join("\n")
    );
}

#[tokio::test]
async fn the_catalog_migrates_a_database_admin_already_uses() {
    // In `updraft start` both keep their tables in one database: the
    // catalog's migrator must leave admin's applied versions alone.
    let directory = tempfile::tempdir().unwrap();
    let url = common::fresh_database_url(&Backend::from_environment(), directory.path()).await;
    let store = CatalogStore::connect(&url).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (1, 'another component', TRUE, $1, 0)",
    )
    .bind(vec![0u8; 48])
    .execute(store.pool())
    .await
    .unwrap();
    CatalogStore::connect(&url)
        .await
        .expect("a restart migrates again");
}
