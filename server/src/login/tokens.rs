//! Where signed-in sessions' tokens live: on the server only, keyed by a
//! random handle that the session record holds. Kept apart from the session
//! record because a refresh must see the newest refresh token even when
//! another request of the same session loaded the record earlier.
//!
//! In a database the token sets are sealed (see [`super::token_encryption`]):
//! replicas share the database, and whoever reads it or its backups must
//! not get the refresh tokens that stand for everyone signed in. The table
//! comes from the console's own migrations, `server/migrations`.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use serde::{Deserialize, Serialize};
use sqlx::migrate::Migrator;
use sqlx::{PgPool, SqlitePool};
use tokio::sync::Mutex;

use super::token_encryption::TokenCipher;
use super::{LoginError, TokenSet};

/// The token sets of every signed-in session.
pub enum TokenStore {
    /// This process only (development, a single console); never written
    /// anywhere, so not sealed.
    Memory(std::sync::Mutex<HashMap<String, TokenSet>>),
    /// The SQLite `[database]`, sealed with `cipher`.
    Sqlite {
        /// The database's pool.
        pool: SqlitePool,
        /// Seals rows with the configured keys.
        cipher: TokenCipher,
    },
    /// The PostgreSQL `[database]`, shared by replicas, sealed with `cipher`.
    Postgres {
        /// The database's pool.
        pool: PgPool,
        /// Seals rows with the configured keys.
        cipher: TokenCipher,
    },
}

/// The console's migrations for SQLite or PostgreSQL.
///
/// They share the database, and sqlx 0.8's one `_sqlx_migrations` table,
/// with admin's (and later other components'): each migrator ignores the
/// versions it does not know, and the versions must differ from admin's
/// (checked below).
fn migrator(postgres: bool) -> Migrator {
    let mut migrator = if postgres {
        sqlx::migrate!("migrations/postgres")
    } else {
        sqlx::migrate!("migrations/sqlite")
    };
    migrator.set_ignore_missing(true);
    migrator
}

fn storage_error(error: sqlx::Error) -> LoginError {
    LoginError::Storage(error.to_string())
}

/// What a sealed row holds, in JSON before sealing.
#[derive(Serialize)]
struct SealedFieldsToWrite<'a> {
    access_token: &'a str,
    refresh_token: Option<&'a str>,
    expires_at: i64,
}

/// What a sealed row holds, once opened.
#[derive(Deserialize)]
struct SealedFieldsRead {
    access_token: String,
    refresh_token: Option<String>,
    expires_at: i64,
}

fn plaintext_of(tokens: &TokenSet) -> Vec<u8> {
    serde_json::to_vec(&SealedFieldsToWrite {
        access_token: &tokens.access_token,
        refresh_token: tokens.refresh_token.as_deref(),
        expires_at: tokens.expires_at,
    })
    .expect("a token set serializes")
}

/// Opens a row; a row that does not open (altered, or sealed with a key
/// this process does not have) ends its session instead of failing every
/// request of it. It is left in place: another replica may still have the
/// key, and the periodic clean-up removes it once it is stale.
fn open_row(cipher: &TokenCipher, handle: &str, key_id: &str, sealed: &[u8]) -> Option<TokenSet> {
    let opened = cipher
        .open(handle, key_id, sealed)
        .map_err(|error| error.to_string())
        .and_then(|plaintext| {
            serde_json::from_slice::<SealedFieldsRead>(&plaintext)
                .map_err(|_| "the opened token set is not one this version wrote".to_string())
        });
    match opened {
        Ok(fields) => Some(TokenSet {
            access_token: fields.access_token,
            refresh_token: fields.refresh_token,
            expires_at: fields.expires_at,
        }),
        Err(reason) => {
            tracing::warn!(%reason, "a console session's stored tokens do not open; it must sign in again");
            None
        }
    }
}

impl TokenStore {
    /// Brings the table up to date when the store is a database.
    pub async fn prepare(&self) -> Result<(), LoginError> {
        let migrated = match self {
            TokenStore::Memory(_) => return Ok(()),
            TokenStore::Sqlite { pool, .. } => migrator(false).run(pool).await,
            TokenStore::Postgres { pool, .. } => migrator(true).run(pool).await,
        };
        migrated.map_err(|error| {
            LoginError::Storage(format!("cannot migrate the console's token table: {error}"))
        })
    }

    /// The token set of `handle`, if there is one that opens.
    pub async fn get(&self, handle: &str) -> Result<Option<TokenSet>, LoginError> {
        const SELECT: &str = "SELECT key_id, sealed_tokens FROM console_tokens WHERE handle = ";
        let (row, cipher): (Option<(String, Vec<u8>)>, _) = match self {
            TokenStore::Memory(map) => {
                return Ok(map.lock().expect("token map").get(handle).cloned());
            }
            TokenStore::Sqlite { pool, cipher } => (
                sqlx::query_as(&format!("{SELECT}?"))
                    .bind(handle)
                    .fetch_optional(pool)
                    .await
                    .map_err(storage_error)?,
                cipher,
            ),
            TokenStore::Postgres { pool, cipher } => (
                sqlx::query_as(&format!("{SELECT}$1"))
                    .bind(handle)
                    .fetch_optional(pool)
                    .await
                    .map_err(storage_error)?,
                cipher,
            ),
        };
        Ok(row.and_then(|(key_id, sealed)| open_row(cipher, handle, &key_id, &sealed)))
    }

    /// Stores `tokens` as the set of `handle`, sealed with the newest key
    /// (so a rotation re-seals each set as it is next written).
    pub async fn put(&self, handle: &str, tokens: &TokenSet) -> Result<(), LoginError> {
        const UPSERT: &str = "INSERT INTO console_tokens (handle, key_id, sealed_tokens, expires_at) \
             VALUES ({values}) ON CONFLICT (handle) DO UPDATE SET \
             key_id = excluded.key_id, sealed_tokens = excluded.sealed_tokens, \
             expires_at = excluded.expires_at";
        match self {
            TokenStore::Memory(map) => {
                map.lock()
                    .expect("token map")
                    .insert(handle.to_string(), tokens.clone());
                Ok(())
            }
            TokenStore::Sqlite { pool, cipher } => {
                let sealed = cipher.seal(handle, &plaintext_of(tokens));
                sqlx::query(&UPSERT.replace("{values}", "?, ?, ?, ?"))
                    .bind(handle)
                    .bind(sealed.key_id)
                    .bind(sealed.bytes)
                    .bind(tokens.expires_at)
                    .execute(pool)
                    .await
                    .map(drop)
                    .map_err(storage_error)
            }
            TokenStore::Postgres { pool, cipher } => {
                let sealed = cipher.seal(handle, &plaintext_of(tokens));
                sqlx::query(&UPSERT.replace("{values}", "$1, $2, $3, $4"))
                    .bind(handle)
                    .bind(sealed.key_id)
                    .bind(sealed.bytes)
                    .bind(tokens.expires_at)
                    .execute(pool)
                    .await
                    .map(drop)
                    .map_err(storage_error)
            }
        }
    }

    /// Forgets the token set of `handle`.
    pub async fn delete(&self, handle: &str) -> Result<(), LoginError> {
        match self {
            TokenStore::Memory(map) => {
                map.lock().expect("token map").remove(handle);
                Ok(())
            }
            TokenStore::Sqlite { pool, .. } => {
                sqlx::query("DELETE FROM console_tokens WHERE handle = ?")
                    .bind(handle)
                    .execute(pool)
                    .await
                    .map(drop)
                    .map_err(storage_error)
            }
            TokenStore::Postgres { pool, .. } => {
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
            TokenStore::Sqlite { pool, .. } => {
                sqlx::query("DELETE FROM console_tokens WHERE expires_at < ?")
                    .bind(before)
                    .execute(pool)
                    .await
                    .map(drop)
                    .map_err(storage_error)
            }
            TokenStore::Postgres { pool, .. } => {
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
    /// The lock of `handle`, shared by everyone holding it right now.
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

#[cfg(test)]
mod tests {
    use super::super::token_encryption::TokenEncryptionKeys;
    use super::*;
    use updraft_admin::store::Dialect;

    fn versions(migrator: &Migrator) -> Vec<i64> {
        migrator.iter().map(|migration| migration.version).collect()
    }

    #[test]
    fn console_migrations_never_take_a_version_of_admin() {
        // One `_sqlx_migrations` table holds both: a shared version would
        // make one migrator find the other's migration "changed".
        for (postgres, dialect) in [(false, Dialect::Sqlite), (true, Dialect::Postgres)] {
            let console = versions(&migrator(postgres));
            let admin = versions(&updraft_admin::store::migrator(dialect));
            let shared: Vec<_> = console.iter().filter(|v| admin.contains(v)).collect();
            assert!(
                shared.is_empty(),
                "console migrations {shared:?} ({dialect:?}) reuse admin's versions; renumber them"
            );
        }
        assert_eq!(versions(&migrator(false)), versions(&migrator(true)));
    }

    fn keys() -> TokenCipher {
        let key = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [7u8; 32]);
        TokenCipher::new(&TokenEncryptionKeys::parse([key.as_str()]).unwrap()).unwrap()
    }

    fn tokens() -> TokenSet {
        TokenSet {
            access_token: "access-token-plaintext".to_string(),
            refresh_token: Some("refresh-token-plaintext".to_string()),
            expires_at: super::super::unix_now() + 300,
        }
    }

    #[tokio::test]
    async fn sqlite_rows_are_sealed_and_admin_and_console_migrate_one_database_in_either_order() {
        let directory = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            directory.path().join("shared.db").display()
        );
        // Admin first, then the console, then both again (a restart).
        updraft_admin::store::SqlStore::connect(&url).await.unwrap();
        let pool = SqlitePool::connect(&url).await.unwrap();
        let store = TokenStore::Sqlite {
            pool: pool.clone(),
            cipher: keys(),
        };
        store.prepare().await.unwrap();
        updraft_admin::store::SqlStore::connect(&url).await.unwrap();
        store.prepare().await.unwrap();

        store.put("handle-1", &tokens()).await.unwrap();
        let read = store.get("handle-1").await.unwrap().unwrap();
        assert_eq!(read.access_token, "access-token-plaintext");
        assert_eq!(
            read.refresh_token.as_deref(),
            Some("refresh-token-plaintext")
        );

        let (key_id, sealed): (String, Vec<u8>) =
            sqlx::query_as("SELECT key_id, sealed_tokens FROM console_tokens")
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(key_id, keys().newest_key_id());
        let sealed = String::from_utf8_lossy(&sealed);
        assert!(!sealed.contains("plaintext"), "{sealed}");

        // A row moved to another handle does not open there.
        sqlx::query("UPDATE console_tokens SET handle = 'handle-2'")
            .execute(&pool)
            .await
            .unwrap();
        assert!(store.get("handle-2").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_table_made_before_the_migrations_is_replaced() {
        let directory = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            directory.path().join("old.db").display()
        );
        let pool = SqlitePool::connect(&url).await.unwrap();
        // What earlier versions created by themselves, with a plain-text row.
        sqlx::query(
            "CREATE TABLE console_tokens (handle TEXT PRIMARY KEY, access_token TEXT NOT NULL, \
             refresh_token TEXT, expires_at BIGINT NOT NULL)",
        )
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO console_tokens VALUES ('old', 'plain-access', 'plain-refresh', 1)",
        )
        .execute(&pool)
        .await
        .unwrap();
        let store = TokenStore::Sqlite {
            pool: pool.clone(),
            cipher: keys(),
        };
        store.prepare().await.unwrap();
        assert!(store.get("old").await.unwrap().is_none());
        store.put("new", &tokens()).await.unwrap();
        assert!(store.get("new").await.unwrap().is_some());
        let leftover: i64 = sqlx::query_scalar("SELECT count(*) FROM console_tokens")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(leftover, 1, "the plain-text row is gone");
    }
}
