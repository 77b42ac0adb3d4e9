//! Where signed-in sessions' tokens live: on the server only, keyed by a
//! random handle that the session record holds. Kept apart from the session
//! record because a refresh must see the newest refresh token even when
//! another request of the same session loaded the record earlier.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use sqlx::{PgPool, SqlitePool};
use tokio::sync::Mutex;

use super::{LoginError, TokenSet};

/// The token sets of every signed-in session.
pub enum TokenStore {
    /// This process only (development, a single console).
    Memory(std::sync::Mutex<HashMap<String, TokenSet>>),
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

fn storage_error(error: sqlx::Error) -> LoginError {
    LoginError::Storage(error.to_string())
}

impl TokenStore {
    /// Creates the table when the store is a database.
    pub async fn prepare(&self) -> Result<(), LoginError> {
        const TABLE: &str = "CREATE TABLE IF NOT EXISTS console_tokens (\
            handle TEXT PRIMARY KEY, \
            access_token TEXT NOT NULL, \
            refresh_token TEXT, \
            expires_at BIGINT NOT NULL)";
        match self {
            TokenStore::Memory(_) => Ok(()),
            TokenStore::Sqlite(pool) => sqlx::query(TABLE)
                .execute(pool)
                .await
                .map(drop)
                .map_err(storage_error),
            TokenStore::Postgres(pool) => sqlx::query(TABLE)
                .execute(pool)
                .await
                .map(drop)
                .map_err(storage_error),
        }
    }

    pub async fn get(&self, handle: &str) -> Result<Option<TokenSet>, LoginError> {
        const SELECT: &str =
            "SELECT access_token, refresh_token, expires_at FROM console_tokens WHERE handle = ";
        let row: Option<(String, Option<String>, i64)> = match self {
            TokenStore::Memory(map) => {
                return Ok(map.lock().expect("token map").get(handle).cloned());
            }
            TokenStore::Sqlite(pool) => sqlx::query_as(&format!("{SELECT}?"))
                .bind(handle)
                .fetch_optional(pool)
                .await
                .map_err(storage_error)?,
            TokenStore::Postgres(pool) => sqlx::query_as(&format!("{SELECT}$1"))
                .bind(handle)
                .fetch_optional(pool)
                .await
                .map_err(storage_error)?,
        };
        Ok(
            row.map(|(access_token, refresh_token, expires_at)| TokenSet {
                access_token,
                refresh_token,
                expires_at,
            }),
        )
    }

    pub async fn put(&self, handle: &str, tokens: &TokenSet) -> Result<(), LoginError> {
        match self {
            TokenStore::Memory(map) => {
                map.lock()
                    .expect("token map")
                    .insert(handle.to_string(), tokens.clone());
                Ok(())
            }
            TokenStore::Sqlite(pool) => sqlx::query(
                "INSERT INTO console_tokens (handle, access_token, refresh_token, expires_at) \
                 VALUES (?, ?, ?, ?) ON CONFLICT (handle) DO UPDATE SET \
                 access_token = excluded.access_token, refresh_token = excluded.refresh_token, \
                 expires_at = excluded.expires_at",
            )
            .bind(handle)
            .bind(&tokens.access_token)
            .bind(&tokens.refresh_token)
            .bind(tokens.expires_at)
            .execute(pool)
            .await
            .map(drop)
            .map_err(storage_error),
            TokenStore::Postgres(pool) => sqlx::query(
                "INSERT INTO console_tokens (handle, access_token, refresh_token, expires_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (handle) DO UPDATE SET \
                 access_token = excluded.access_token, refresh_token = excluded.refresh_token, \
                 expires_at = excluded.expires_at",
            )
            .bind(handle)
            .bind(&tokens.access_token)
            .bind(&tokens.refresh_token)
            .bind(tokens.expires_at)
            .execute(pool)
            .await
            .map(drop)
            .map_err(storage_error),
        }
    }

    pub async fn delete(&self, handle: &str) -> Result<(), LoginError> {
        match self {
            TokenStore::Memory(map) => {
                map.lock().expect("token map").remove(handle);
                Ok(())
            }
            TokenStore::Sqlite(pool) => sqlx::query("DELETE FROM console_tokens WHERE handle = ?")
                .bind(handle)
                .execute(pool)
                .await
                .map(drop)
                .map_err(storage_error),
            TokenStore::Postgres(pool) => {
                sqlx::query("DELETE FROM console_tokens WHERE handle = $1")
                    .bind(handle)
                    .execute(pool)
                    .await
                    .map(drop)
                    .map_err(storage_error)
            }
        }
    }

    /// Forgets token sets that expired long ago: their sessions ended
    /// without a logout (closed tabs). Refresh tokens outlive access
    /// tokens, so only sets whose access token expired `grace_secs` ago go.
    pub async fn forget_stale(&self, grace_secs: i64) -> Result<(), LoginError> {
        let before = super::unix_now() - grace_secs;
        match self {
            TokenStore::Memory(map) => {
                map.lock()
                    .expect("token map")
                    .retain(|_, tokens| tokens.expires_at >= before);
                Ok(())
            }
            TokenStore::Sqlite(pool) => {
                sqlx::query("DELETE FROM console_tokens WHERE expires_at < ?")
                    .bind(before)
                    .execute(pool)
                    .await
                    .map(drop)
                    .map_err(storage_error)
            }
            TokenStore::Postgres(pool) => {
                sqlx::query("DELETE FROM console_tokens WHERE expires_at < $1")
                    .bind(before)
                    .execute(pool)
                    .await
                    .map(drop)
                    .map_err(storage_error)
            }
        }
    }
}

/// One lock per token handle, so a session's concurrent requests refresh
/// once: providers that rotate refresh tokens revoke the whole grant when
/// a rotated-away token is used again.
#[derive(Default)]
pub struct RefreshLocks(std::sync::Mutex<HashMap<String, Weak<Mutex<()>>>>);

impl RefreshLocks {
    pub fn for_handle(&self, handle: &str) -> Arc<Mutex<()>> {
        let mut locks = self.0.lock().expect("refresh locks");
        if let Some(lock) = locks.get(handle).and_then(Weak::upgrade) {
            return lock;
        }
        locks.retain(|_, lock| lock.strong_count() > 0);
        let lock = Arc::new(Mutex::new(()));
        locks.insert(handle.to_string(), Arc::downgrade(&lock));
        lock
    }
}
