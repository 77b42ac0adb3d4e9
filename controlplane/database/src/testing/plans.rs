//! How the database would run a query: the planner's own answer (SQLite
//! `EXPLAIN QUERY PLAN`, PostgreSQL `EXPLAIN`), so a test can require that
//! every list query a store runs is served by an index. On PostgreSQL the
//! caller first turns sequential scans off (`SET enable_seqscan = off`):
//! test tables are empty, where a scan is always cheapest, and with it
//! priced out the plan shows whether an index can serve at all.

use sqlx::Row;

use crate::{Dialect, SqlValue, bind_values};

/// The planner's description of how it would run `sql`, one line per step.
pub async fn query_plan(
    connection: &mut sqlx::AnyConnection,
    dialect: Dialect,
    sql: &str,
    binds: &[SqlValue],
) -> Vec<String> {
    let explain = match dialect {
        Dialect::Sqlite => format!("EXPLAIN QUERY PLAN {sql}"),
        Dialect::Postgres => format!("EXPLAIN {sql}"),
    };
    let rows = bind_values(sqlx::query(&explain), binds)
        .fetch_all(&mut *connection)
        .await
        .unwrap_or_else(|error| panic!("explain {sql}: {error}"));
    rows.iter()
        .map(|row| match dialect {
            Dialect::Sqlite => row.try_get::<String, _>("detail"),
            Dialect::Postgres => row.try_get::<String, _>(0),
        })
        .collect::<Result<_, _>>()
        .expect("read the plan")
}

/// The step that reads all of `table`, if there is one.
pub fn full_scan_in(plan: &[String], dialect: Dialect, table: &str) -> Option<String> {
    match dialect {
        Dialect::Sqlite => plan
            .iter()
            .find(|line| {
                let line = line.trim();
                line == format!("SCAN {table}")
                    || (line.starts_with(&format!("SCAN {table} "))
                        && !line.contains("USING INDEX")
                        && !line.contains("USING COVERING INDEX")
                        && !line.contains("USING PRIMARY KEY"))
            })
            .cloned(),
        Dialect::Postgres => plan
            .iter()
            .find(|line| line.contains(&format!("Seq Scan on {table}")))
            .cloned(),
    }
}

/// Whether the plan reaches `table` through an index key rather than by
/// walking a whole index. On PostgreSQL any key condition counts, so ask
/// it of statements that read one table.
pub fn searched_by_index_key(plan: &[String], dialect: Dialect, table: &str) -> bool {
    match dialect {
        Dialect::Sqlite => plan
            .iter()
            .any(|line| line.trim().starts_with(&format!("SEARCH {table} "))),
        Dialect::Postgres => plan.iter().any(|line| line.contains("Index Cond:")),
    }
}

/// Whether SQLite sorts outside an index (a temporary B-tree) to give the
/// requested order; PostgreSQL's plans do not say it as plainly.
pub fn sorted_outside_an_index(plan: &[String], dialect: Dialect) -> bool {
    dialect == Dialect::Sqlite && plan.iter().any(|line| line.contains("USE TEMP B-TREE"))
}
