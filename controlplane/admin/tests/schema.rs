//! The two migration trees, `migrations/sqlite` and `migrations/postgres`,
//! give the same schema: the same tables, columns (types normalised across
//! the two databases), primary keys and indexes. Both schemas are read back
//! from real migrated databases, not from the SQL files.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::Backend;
use sqlx::{Connection, Row};
use updraft_admin::store::{Dialect, SqlStore};

/// A schema flattened to `table.kind.name → description`, so two are
/// compared entry by entry and a difference names exactly what differs.
type FlatSchema = BTreeMap<String, String>;

/// One type name for what SQLite declares and PostgreSQL reports.
fn normalised_type(declared: &str) -> String {
    match declared.trim().to_ascii_lowercase().as_str() {
        "text" | "character varying" | "varchar" => "text".to_string(),
        "bigint" | "int8" => "bigint".to_string(),
        "integer" | "int" | "int4" => "integer".to_string(),
        "smallint" | "int2" => "smallint".to_string(),
        "blob" | "bytea" => "bytes".to_string(),
        "boolean" | "bool" => "boolean".to_string(),
        "double precision" | "real" | "float8" | "double" => "double".to_string(),
        other => other.to_string(),
    }
}

/// `text` without PostgreSQL's casts (`''::text`, `(0)::bigint`).
fn without_casts(text: &str) -> String {
    let mut kept = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((before, after)) = rest.split_once("::") {
        kept.push_str(before);
        rest = after.trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '_');
    }
    kept.push_str(rest);
    kept
}

/// A column default without the dialect's spelling: PostgreSQL's casts
/// (`''::text`) and bytea literals (`'\x'`), SQLite's blob literals (`X''`);
/// byte strings become `x'HEX'`.
fn normalised_default(default: &str) -> String {
    let value = without_casts(default.trim());
    let value = value.trim().trim_start_matches('(').trim_end_matches(')');
    if let Some(hex) = value
        .strip_prefix("X'")
        .or_else(|| value.strip_prefix("x'"))
        .or_else(|| value.strip_prefix("'\\x"))
    {
        return format!("x'{}", hex.to_ascii_lowercase());
    }
    value.to_string()
}

/// The words and numbers of an index's `WHERE`, without the keywords the two
/// databases spell differently (`phase IN (0, 1)` is PostgreSQL's
/// `(phase = ANY (ARRAY[0, 1]))`).
fn normalised_predicate(predicate: &str) -> String {
    let words: Vec<String> = without_casts(predicate)
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '\''))
        .filter(|word| !word.is_empty())
        .map(str::to_ascii_lowercase)
        .filter(|word| !matches!(word.as_str(), "in" | "any" | "array"))
        .collect();
    words.join(" ")
}

fn column_entry(type_: &str, not_null: bool, default: Option<&str>) -> String {
    let mut description = normalised_type(type_);
    if not_null {
        description.push_str(" not null");
    }
    if let Some(default) = default {
        description.push_str(&format!(" default {}", normalised_default(default)));
    }
    description
}

fn index_entry(unique: bool, columns: &[String], predicate: Option<&str>) -> String {
    let mut description = format!(
        "{}({})",
        if unique { "unique " } else { "" },
        columns.join(", ")
    );
    if let Some(predicate) = predicate {
        description.push_str(&format!(" where {}", normalised_predicate(predicate)));
    }
    description
}

async fn sqlite_schema(database_url: &str) -> FlatSchema {
    let mut connection = sqlx::SqliteConnection::connect(database_url).await.unwrap();
    let mut schema = FlatSchema::new();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(&mut connection)
    .await
    .unwrap();
    for table in tables {
        schema.insert(table.clone(), "table".to_string());
        let columns = sqlx::query(
            "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid",
        )
        .bind(&table)
        .fetch_all(&mut connection)
        .await
        .unwrap();
        let mut primary_key: Vec<(i64, String)> = Vec::new();
        for column in columns {
            let name: String = column.get("name");
            let position: i64 = column.get("pk");
            if position > 0 {
                primary_key.push((position, name.clone()));
            }
            // PostgreSQL makes key columns NOT NULL; SQLite only when declared.
            let not_null = column.get::<i64, _>("notnull") != 0 || position > 0;
            let description = column_entry(
                column.get("type"),
                not_null,
                column.get::<Option<String>, _>("dflt_value").as_deref(),
            );
            schema.insert(format!("{table}.column.{name}"), description);
        }
        primary_key.sort();
        let primary_key: Vec<String> = primary_key.into_iter().map(|(_, name)| name).collect();
        schema.insert(
            format!("{table}.primary_key"),
            format!("({})", primary_key.join(", ")),
        );

        let indexes = sqlx::query(
            "SELECT name, \"unique\", origin, partial FROM pragma_index_list(?) ORDER BY name",
        )
        .bind(&table)
        .fetch_all(&mut connection)
        .await
        .unwrap();
        for index in indexes {
            let name: String = index.get("name");
            let origin: String = index.get("origin");
            let columns: Vec<String> =
                sqlx::query_scalar("SELECT name FROM pragma_index_info(?) ORDER BY seqno")
                    .bind(&name)
                    .fetch_all(&mut connection)
                    .await
                    .unwrap();
            match origin.as_str() {
                // The primary key's own index: compared as the primary key.
                "pk" => {}
                // A UNIQUE constraint: its index's name is the database's own.
                "u" => {
                    schema.insert(
                        format!("{table}.unique.({})", columns.join(", ")),
                        "unique".to_string(),
                    );
                }
                _ => {
                    let predicate = if index.get::<i64, _>("partial") != 0 {
                        let sql: String =
                            sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE name = ?")
                                .bind(&name)
                                .fetch_one(&mut connection)
                                .await
                                .unwrap();
                        let (_, predicate) = sql
                            .rsplit_once(" WHERE ")
                            .or_else(|| sql.rsplit_once(" where "))
                            .expect("a partial index's SQL has a WHERE");
                        Some(predicate.to_string())
                    } else {
                        None
                    };
                    schema.insert(
                        format!("{table}.index.{name}"),
                        index_entry(
                            index.get::<i64, _>("unique") != 0,
                            &columns,
                            predicate.as_deref(),
                        ),
                    );
                }
            }
        }
    }
    schema
}

async fn postgres_schema(database_url: &str) -> FlatSchema {
    let mut connection = sqlx::PgConnection::connect(database_url).await.unwrap();
    let mut schema = FlatSchema::new();
    let columns = sqlx::query(
        "SELECT c.table_name::text AS table_name, c.column_name::text AS column_name, \
                c.data_type::text AS data_type, c.is_nullable::text AS is_nullable, \
                c.column_default::text AS column_default \
         FROM information_schema.columns c \
         JOIN information_schema.tables t \
           ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
         WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
           AND c.table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut connection)
    .await
    .unwrap();
    for column in columns {
        let table: String = column.get("table_name");
        let name: String = column.get("column_name");
        schema.insert(table.clone(), "table".to_string());
        let description = column_entry(
            column.get("data_type"),
            column.get::<String, _>("is_nullable") == "NO",
            column.get::<Option<String>, _>("column_default").as_deref(),
        );
        schema.insert(format!("{table}.column.{name}"), description);
    }
    // Tables without columns would be missed above; PostgreSQL allows them.
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
           AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut connection)
    .await
    .unwrap();
    for table in &tables {
        schema.insert(table.clone(), "table".to_string());
        schema.insert(format!("{table}.primary_key"), "()".to_string());
    }

    let indexes = sqlx::query(
        "SELECT t.relname::text AS table_name, i.relname::text AS index_name, \
                ix.indisunique AS is_unique, ix.indisprimary AS is_primary, \
                EXISTS (SELECT 1 FROM pg_constraint k \
                        WHERE k.conindid = ix.indexrelid AND k.contype = 'u') AS is_constraint, \
                ARRAY(SELECT a.attname::text \
                      FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS key(attnum, position) \
                      JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = key.attnum \
                      ORDER BY key.position) AS columns, \
                pg_get_expr(ix.indpred, ix.indrelid) AS predicate \
         FROM pg_index ix \
         JOIN pg_class i ON i.oid = ix.indexrelid \
         JOIN pg_class t ON t.oid = ix.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = current_schema() AND t.relname <> '_sqlx_migrations'",
    )
    .fetch_all(&mut connection)
    .await
    .unwrap();
    for index in indexes {
        let table: String = index.get("table_name");
        let name: String = index.get("index_name");
        let columns: Vec<String> = index.get("columns");
        if index.get::<bool, _>("is_primary") {
            schema.insert(
                format!("{table}.primary_key"),
                format!("({})", columns.join(", ")),
            );
        } else if index.get::<bool, _>("is_constraint") {
            schema.insert(
                format!("{table}.unique.({})", columns.join(", ")),
                "unique".to_string(),
            );
        } else {
            schema.insert(
                format!("{table}.index.{name}"),
                index_entry(
                    index.get("is_unique"),
                    &columns,
                    index.get::<Option<String>, _>("predicate").as_deref(),
                ),
            );
        }
    }
    schema
}

/// Every entry that differs, one line each.
fn differences(sqlite: &FlatSchema, postgres: &FlatSchema) -> Vec<String> {
    let keys: BTreeSet<&String> = sqlite.keys().chain(postgres.keys()).collect();
    keys.into_iter()
        .filter_map(|key| {
            let (in_sqlite, in_postgres) = (sqlite.get(key), postgres.get(key));
            (in_sqlite != in_postgres).then(|| {
                let show = |value: Option<&String>| {
                    value.map_or_else(|| "(absent)".to_string(), |value| value.clone())
                };
                format!(
                    "  {key}: sqlite {} | postgres {}",
                    show(in_sqlite),
                    show(in_postgres)
                )
            })
        })
        .collect()
}

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

#[test]
fn normalisation_evens_out_only_the_dialects_spelling() {
    assert_eq!(normalised_default("''::text"), "''");
    assert_eq!(
        normalised_default("X''"),
        normalised_default("'\\x'::bytea")
    );
    assert_eq!(
        normalised_default("X'0aFF'"),
        normalised_default("'\\x0aff'::bytea")
    );
    assert_ne!(normalised_default("X''"), normalised_default("''::text"));
    assert_eq!(normalised_default("0"), "0");
    assert_ne!(normalised_default("'a'"), normalised_default("'b'"));
    assert_eq!(
        normalised_predicate("phase IN (0, 1, 2, 3, 5, 9)"),
        normalised_predicate(
            "(phase = ANY (ARRAY[(0)::bigint, (1)::bigint, (2)::bigint, (3)::bigint, (5)::bigint, (9)::bigint]))"
        )
    );
    assert_ne!(
        normalised_predicate("phase IN (0, 1)"),
        normalised_predicate("phase IN (0, 2)")
    );
    assert_eq!(normalised_type("BLOB"), normalised_type("bytea"));
    assert_ne!(normalised_type("BIGINT"), normalised_type("integer"));
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
    assert_eq!(
        applied,
        i64::try_from(files).unwrap(),
        "each migration once"
    );
}
