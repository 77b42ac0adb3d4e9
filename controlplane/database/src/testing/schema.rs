//! What a migrated database holds, read back from the database itself (not
//! from the SQL files) and flattened so that two are compared entry by
//! entry: the same tables, columns (types normalised across the two
//! databases), primary keys and indexes. A component's test checks that its
//! `migrations/sqlite` and `migrations/postgres` trees agree with
//! [`sqlite_schema`], [`postgres_schema`] and [`differences`].

use std::collections::{BTreeMap, BTreeSet};

use sqlx::{Connection, Row};

/// A schema flattened to `table.kind.name → description`, so two are
/// compared entry by entry and a difference names exactly what differs.
pub type FlatSchema = BTreeMap<String, String>;

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

/// The schema of the SQLite database at `database_url`.
pub async fn sqlite_schema(database_url: &str) -> FlatSchema {
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

/// The schema of the PostgreSQL database at `database_url` (its current schema).
pub async fn postgres_schema(database_url: &str) -> FlatSchema {
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
pub fn differences(sqlite: &FlatSchema, postgres: &FlatSchema) -> Vec<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
