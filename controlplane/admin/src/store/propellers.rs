//! The propellers admin has heard from: their cluster, the execution cluster
//! labels they serve and until when they count as live, so admin can tell a
//! queued execution that no live data plane would claim.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{DatabaseContext, SqlStore, StoreError};

/// A propeller renews each of its executions' leases several times per
/// lease, so renewals come many a second from a busy one; its row is
/// written at most once per this long (microseconds), and the others leave
/// it untouched rather than contend for it.
const SEEN_GRANULARITY_MICROS: i64 = 1_000_000;

/// One propeller as its last claim described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropellerRecord {
    /// The id it claims under.
    pub propeller_id: String,
    /// The cluster (data plane) it runs in.
    pub cluster: String,
    /// The execution cluster labels it serves.
    pub labels: Vec<String>,
    /// When it last claimed or renewed a lease (microseconds since the epoch).
    pub last_seen_at: i64,
    /// Until when it counts as live without being heard from again.
    pub live_until: i64,
}

/// Storage of the propellers admin has heard from.
#[allow(async_fn_in_trait)] // Used through the concrete store, whose futures are Send.
pub trait PropellerRepo {
    /// Stores what a claim says about its propeller, replacing what an
    /// earlier claim said.
    async fn record_propeller(&self, propeller: &PropellerRecord) -> Result<(), StoreError>;
    /// Moves on the times of a propeller already known (a lease renewal
    /// names no cluster or labels); nothing if it is unknown or was written
    /// less than a second ago.
    async fn record_propeller_seen(
        &self,
        propeller_id: &str,
        seen_at: i64,
        live_until: i64,
    ) -> Result<(), StoreError>;
    /// The propellers still live at `now`.
    async fn list_live_propellers(&self, now: i64) -> Result<Vec<PropellerRecord>, StoreError>;
    /// Forgets propellers not live since `before` (propeller ids change with
    /// every restart, so rows would otherwise pile up); how many went.
    async fn forget_propellers_gone_before(&self, before: i64) -> Result<u64, StoreError>;
}

fn propeller_from_row(row: &AnyRow) -> Result<PropellerRecord, sqlx::Error> {
    let labels: String = row.try_get("labels")?;
    Ok(PropellerRecord {
        propeller_id: row.try_get("propeller_id")?,
        cluster: row.try_get("cluster")?,
        labels: serde_json::from_str(&labels).map_err(|error| sqlx::Error::ColumnDecode {
            index: "labels".to_string(),
            source: Box::new(error),
        })?,
        last_seen_at: row.try_get("last_seen_at")?,
        live_until: row.try_get("live_until")?,
    })
}

impl PropellerRepo for SqlStore {
    #[tracing::instrument(skip_all, fields(propeller = %propeller.propeller_id))]
    async fn record_propeller(&self, propeller: &PropellerRecord) -> Result<(), StoreError> {
        let labels = serde_json::to_string(&propeller.labels)
            .expect("a list of strings always encodes as JSON");
        sqlx::query(
            "INSERT INTO propellers (propeller_id, cluster, labels, last_seen_at, live_until) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (propeller_id) DO UPDATE SET cluster = excluded.cluster, \
             labels = excluded.labels, last_seen_at = excluded.last_seen_at, \
             live_until = excluded.live_until",
        )
        .bind(propeller.propeller_id.clone())
        .bind(propeller.cluster.clone())
        .bind(labels)
        .bind(propeller.last_seen_at)
        .bind(propeller.live_until)
        .execute(&self.pool)
        .await
        .context("record a propeller")?;
        Ok(())
    }

    #[tracing::instrument(skip(self))]
    async fn record_propeller_seen(
        &self,
        propeller_id: &str,
        seen_at: i64,
        live_until: i64,
    ) -> Result<(), StoreError> {
        // A renewal never shortens what a claim promised.
        sqlx::query(
            "UPDATE propellers SET last_seen_at = $1, \
             live_until = CASE WHEN live_until > $2 THEN live_until ELSE $2 END \
             WHERE propeller_id = $3 AND last_seen_at <= $4",
        )
        .bind(seen_at)
        .bind(live_until)
        .bind(propeller_id.to_string())
        .bind(seen_at - SEEN_GRANULARITY_MICROS)
        .execute(&self.pool)
        .await
        .context("record that a propeller was seen")?;
        Ok(())
    }

    #[tracing::instrument(skip(self))]
    async fn list_live_propellers(&self, now: i64) -> Result<Vec<PropellerRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT propeller_id, cluster, labels, last_seen_at, live_until FROM propellers \
             WHERE live_until >= $1 ORDER BY live_until",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .context("list live propellers")?;
        rows.iter()
            .map(propeller_from_row)
            .collect::<Result<_, _>>()
            .context("decode a propeller")
    }

    #[tracing::instrument(skip(self))]
    async fn forget_propellers_gone_before(&self, before: i64) -> Result<u64, StoreError> {
        let forgotten = sqlx::query("DELETE FROM propellers WHERE live_until < $1")
            .bind(before)
            .execute(&self.pool)
            .await
            .context("forget propellers gone long ago")?;
        Ok(forgotten.rows_affected())
    }
}
