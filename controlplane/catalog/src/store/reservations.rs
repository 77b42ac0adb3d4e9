//! Reservations of one tag of one dataset, so that one owner at a time runs
//! a serialised cached task (`cache_serialize`). A holder extends its
//! reservation by asking again; one that stops asking loses it once it
//! expires.

use sqlx::Row;
use updraft_database::bind_values;

use super::statements;
use super::{CatalogStore, DatabaseContext, StoreError, time_repository_call};
use crate::identifiers::ReservationKey;

/// Who holds a reservation, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservationRecord {
    /// The holder.
    pub owner_id: String,
    /// When it lapses unless extended (microseconds since the epoch).
    pub expires_at: i64,
}

impl CatalogStore {
    /// Gives `owner_id` the reservation until `expires_at` if nobody holds
    /// it, it is `owner_id`'s already, or its holder let it expire by `now`;
    /// answers who holds it afterwards. One statement decides, so two
    /// owners racing for a free reservation cannot both win.
    #[tracing::instrument(skip_all, fields(reservation = %key, owner = owner_id))]
    pub async fn get_or_extend_reservation(
        &self,
        key: &ReservationKey,
        owner_id: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<ReservationRecord, StoreError> {
        let _timer = time_repository_call!("reservation", "update");
        sqlx::query(
            "INSERT INTO catalog_reservations (dataset_project, dataset_name, dataset_domain, \
             dataset_version, tag_name, owner_id, expires_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
             ON CONFLICT (dataset_project, dataset_name, dataset_domain, dataset_version, tag_name) \
             DO UPDATE SET owner_id = excluded.owner_id, expires_at = excluded.expires_at, \
             updated_at = excluded.updated_at \
             WHERE catalog_reservations.expires_at <= excluded.updated_at \
             OR catalog_reservations.owner_id = excluded.owner_id",
        )
        .bind(&key.dataset.project)
        .bind(&key.dataset.name)
        .bind(&key.dataset.domain)
        .bind(&key.dataset.version)
        .bind(&key.tag_name)
        .bind(owner_id)
        .bind(expires_at)
        .bind(now)
        .execute(&self.pool)
        .await
        .context("acquire or extend a reservation")?;
        let (sql, binds) = statements::reservation(key);
        let row = bind_values(sqlx::query(&sql), &binds)
            .fetch_optional(&self.pool)
            .await
            .context("read a reservation")?;
        match row {
            Some(row) => Ok(ReservationRecord {
                owner_id: row.try_get("owner_id").context("read a reservation")?,
                expires_at: row.try_get("expires_at").context("read a reservation")?,
            }),
            // Released between the two statements: it was ours a moment ago
            // only if we just wrote it, so report it as the free one it is.
            None => Ok(ReservationRecord {
                owner_id: String::new(),
                expires_at: now,
            }),
        }
    }

    /// Ends `owner_id`'s reservation; `false` when it held none.
    #[tracing::instrument(skip_all, fields(reservation = %key, owner = owner_id))]
    pub async fn release_reservation(
        &self,
        key: &ReservationKey,
        owner_id: &str,
    ) -> Result<bool, StoreError> {
        let _timer = time_repository_call!("reservation", "delete");
        let deleted = sqlx::query(
            "DELETE FROM catalog_reservations WHERE dataset_project = $1 AND dataset_name = $2 \
             AND dataset_domain = $3 AND dataset_version = $4 AND tag_name = $5 AND owner_id = $6",
        )
        .bind(&key.dataset.project)
        .bind(&key.dataset.name)
        .bind(&key.dataset.domain)
        .bind(&key.dataset.version)
        .bind(&key.tag_name)
        .bind(owner_id)
        .execute(&self.pool)
        .await
        .context("release a reservation")?;
        Ok(deleted.rows_affected() > 0)
    }
}
