//! Encryption at rest of the console's session tokens: a database shared by
//! console replicas (and its backups) holds refresh tokens, which stand for
//! a person until the provider revokes them. Each row is sealed with
//! XChaCha20-Poly1305 under the newest of `auth.console.token_encryption_keys`
//! and names the key that sealed it, so a rotation (a new key first, the old
//! one kept behind it) keeps everyone signed in: old rows still open, and
//! each is sealed again under the new key when its tokens are next written.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use rand::RngCore;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// How many bytes a key has.
pub const TOKEN_ENCRYPTION_KEY_BYTES: usize = 32;
/// XChaCha20's nonce: long enough to be chosen at random for every row.
const NONCE_BYTES: usize = 24;
/// Bound into every seal with the row's handle: a sealed token set copied
/// into another row, or into another purpose's table, does not open.
const ASSOCIATED_DATA_PREFIX: &[u8] = b"updraft console tokens v1\0";

/// One key of `auth.console.token_encryption_keys`: 32 random bytes, written
/// in base64 (`openssl rand -base64 32`).
#[derive(Clone, PartialEq, Eq)]
pub struct TokenEncryptionKey {
    bytes: [u8; TOKEN_ENCRYPTION_KEY_BYTES],
}

/// Why a configured key is unusable. Never holds the key itself.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InvalidTokenEncryptionKey {
    #[error("key {position} is not base64")]
    NotBase64 { position: usize },
    #[error(
        "key {position} is {length} bytes, not {TOKEN_ENCRYPTION_KEY_BYTES} (make one with `openssl rand -base64 32`)"
    )]
    WrongLength { position: usize, length: usize },
}

impl TokenEncryptionKey {
    /// Reads the base64 of 32 bytes; `position` (1 for the newest) names the
    /// key in errors instead of its text.
    pub fn from_base64(text: &str, position: usize) -> Result<Self, InvalidTokenEncryptionKey> {
        let decoded = STANDARD
            .decode(text.trim())
            .map_err(|_| InvalidTokenEncryptionKey::NotBase64 { position })?;
        let bytes =
            <[u8; TOKEN_ENCRYPTION_KEY_BYTES]>::try_from(decoded.as_slice()).map_err(|_| {
                InvalidTokenEncryptionKey::WrongLength {
                    position,
                    length: decoded.len(),
                }
            })?;
        Ok(Self { bytes })
    }

    /// The name rows sealed with this key carry: the start of a hash of the
    /// key, which tells keys apart without revealing them, and which stays
    /// the same wherever the key sits in the list.
    pub fn id(&self) -> String {
        let digest = Sha256::new()
            .chain_update(b"updraft console token key id\0")
            .chain_update(self.bytes)
            .finalize();
        hex::encode(&digest[..8])
    }
}

impl std::fmt::Debug for TokenEncryptionKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is never printed; its id is what rows and logs name.
        formatter
            .debug_struct("TokenEncryptionKey")
            .field("id", &self.id())
            .finish_non_exhaustive()
    }
}

/// `auth.console.token_encryption_keys`, newest first: a TOML list of base64
/// keys, or one string of them separated by commas (as an environment
/// variable gives it).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TokenEncryptionKeys(Vec<TokenEncryptionKey>);

impl TokenEncryptionKeys {
    /// Keys from their base64 text, newest first.
    pub fn parse<'a>(
        texts: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, InvalidTokenEncryptionKey> {
        texts
            .into_iter()
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .enumerate()
            .map(|(index, text)| TokenEncryptionKey::from_base64(text, index + 1))
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// Whether no key is configured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for TokenEncryptionKeys {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_list().entries(&self.0).finish()
    }
}

impl<'de> Deserialize<'de> for TokenEncryptionKeys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Given {
            List(Vec<String>),
            CommaSeparated(String),
        }
        let given = Given::deserialize(deserializer).map_err(|_| {
            serde::de::Error::custom(
                "expected a list of base64 keys, or one string of them separated by commas",
            )
        })?;
        let parsed = match &given {
            Given::List(keys) => Self::parse(keys.iter().map(String::as_str)),
            Given::CommaSeparated(keys) => Self::parse(keys.split(',')),
        };
        parsed.map_err(serde::de::Error::custom)
    }
}

impl Serialize for TokenEncryptionKeys {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Only configuration layering serializes this (defaults, flags);
        // nothing prints it.
        serializer.collect_seq(self.0.iter().map(|key| STANDARD.encode(key.bytes)))
    }
}

/// A token set sealed for one row.
pub struct SealedTokens {
    /// [`TokenEncryptionKey::id`] of the key that sealed it.
    pub key_id: String,
    /// The nonce, then the ciphertext and its tag.
    pub bytes: Vec<u8>,
}

/// Why a stored token set did not open.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UnsealError {
    #[error(
        "the token set was sealed with key {key_id}, which is no longer in auth.console.token_encryption_keys"
    )]
    UnknownKey { key_id: String },
    #[error("the token set does not open: it was altered, or belongs to another row")]
    Tampered,
}

/// Seals and opens token sets with the configured keys.
pub struct TokenCipher {
    /// Newest first; the first seals, every one opens.
    keys: Vec<(String, XChaCha20Poly1305)>,
}

impl std::fmt::Debug for TokenCipher {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TokenCipher")
            .field(
                "key_ids",
                &self.keys.iter().map(|(id, _)| id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

fn associated_data(handle: &str) -> Vec<u8> {
    [ASSOCIATED_DATA_PREFIX, handle.as_bytes()].concat()
}

impl TokenCipher {
    /// A cipher over `keys`, or `None` when there are none.
    pub fn new(keys: &TokenEncryptionKeys) -> Option<Self> {
        if keys.is_empty() {
            return None;
        }
        let keys = keys
            .0
            .iter()
            .map(|key| (key.id(), XChaCha20Poly1305::new(&key.bytes.into())))
            .collect();
        Some(Self { keys })
    }

    /// The id of the key new seals use.
    pub fn newest_key_id(&self) -> &str {
        &self.keys[0].0
    }

    /// Seals `plaintext` for the row `handle` under the newest key.
    pub fn seal(&self, handle: &str, plaintext: &[u8]) -> SealedTokens {
        let (key_id, cipher) = &self.keys[0];
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &associated_data(handle),
                },
            )
            .expect("XChaCha20-Poly1305 seals any message a token set makes");
        SealedTokens {
            key_id: key_id.clone(),
            bytes: [nonce.as_slice(), &ciphertext].concat(),
        }
    }

    /// Opens what [`TokenCipher::seal`] made for the row `handle` with the
    /// key `key_id`, if that key is still configured.
    pub fn open(&self, handle: &str, key_id: &str, sealed: &[u8]) -> Result<Vec<u8>, UnsealError> {
        let (_, cipher) = self
            .keys
            .iter()
            .find(|(id, _)| id == key_id)
            .ok_or_else(|| UnsealError::UnknownKey {
                key_id: key_id.to_string(),
            })?;
        if sealed.len() < NONCE_BYTES {
            return Err(UnsealError::Tampered);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
        cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &associated_data(handle),
                },
            )
            .map_err(|_| UnsealError::Tampered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> String {
        STANDARD.encode([byte; TOKEN_ENCRYPTION_KEY_BYTES])
    }

    fn cipher(keys: &[&str]) -> TokenCipher {
        TokenCipher::new(&TokenEncryptionKeys::parse(keys.iter().copied()).unwrap()).unwrap()
    }

    #[test]
    fn a_sealed_token_set_opens_and_hides_its_plaintext() {
        let first = key(1);
        let cipher = cipher(&[&first]);
        let sealed = cipher.seal("handle-1", b"refresh-token-secret");
        assert!(
            !sealed
                .bytes
                .windows(b"refresh-token-secret".len())
                .any(|window| window == b"refresh-token-secret")
        );
        assert_eq!(sealed.key_id, cipher.newest_key_id());
        assert_eq!(
            cipher
                .open("handle-1", &sealed.key_id, &sealed.bytes)
                .unwrap(),
            b"refresh-token-secret"
        );
        // A fresh nonce each time: the same tokens never seal the same way.
        assert_ne!(
            cipher.seal("handle-1", b"same").bytes,
            cipher.seal("handle-1", b"same").bytes
        );
    }

    #[test]
    fn a_rotation_opens_old_rows_and_seals_new_ones_with_the_new_key() {
        let (old, new) = (key(1), key(2));
        let before = cipher(&[&old]);
        let sealed_before = before.seal("handle-1", b"tokens");

        let during = cipher(&[&new, &old]);
        assert_ne!(during.newest_key_id(), before.newest_key_id());
        assert_eq!(
            during
                .open("handle-1", &sealed_before.key_id, &sealed_before.bytes)
                .unwrap(),
            b"tokens"
        );
        let resealed = during.seal("handle-1", b"tokens");
        assert_eq!(resealed.key_id, during.newest_key_id());

        // Once the old key is dropped, only rows it sealed stop opening.
        let after = cipher(&[&new]);
        assert_eq!(
            after
                .open("handle-1", &resealed.key_id, &resealed.bytes)
                .unwrap(),
            b"tokens"
        );
        assert_eq!(
            after.open("handle-1", &sealed_before.key_id, &sealed_before.bytes),
            Err(UnsealError::UnknownKey {
                key_id: sealed_before.key_id.clone()
            })
        );
    }

    #[test]
    fn altered_or_moved_seals_do_not_open() {
        let sealing = cipher(&[&key(1)]);
        let sealed = sealing.seal("handle-1", b"tokens");
        let mut altered = sealed.bytes.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert_eq!(
            sealing.open("handle-1", &sealed.key_id, &altered),
            Err(UnsealError::Tampered)
        );
        assert_eq!(
            sealing.open("handle-2", &sealed.key_id, &sealed.bytes),
            Err(UnsealError::Tampered)
        );
        assert_eq!(
            sealing.open("handle-1", &sealed.key_id, &sealed.bytes[..10]),
            Err(UnsealError::Tampered)
        );
        // Another key has another id, so it is not even tried.
        let other = cipher(&[&key(9)]);
        assert!(matches!(
            other.open("handle-1", &sealed.key_id, &sealed.bytes),
            Err(UnsealError::UnknownKey { .. })
        ));
        // A seal of another key passed off under this key's id does not open.
        assert_eq!(
            sealing.open(
                "handle-1",
                &sealed.key_id,
                &other.seal("handle-1", b"x").bytes
            ),
            Err(UnsealError::Tampered)
        );
    }

    #[test]
    fn keys_are_checked_and_never_shown() {
        assert_eq!(
            TokenEncryptionKeys::parse(["not base64!"]),
            Err(InvalidTokenEncryptionKey::NotBase64 { position: 1 })
        );
        assert_eq!(
            TokenEncryptionKeys::parse([key(1).as_str(), &STANDARD.encode([0u8; 16])]),
            Err(InvalidTokenEncryptionKey::WrongLength {
                position: 2,
                length: 16
            })
        );
        let keys = TokenEncryptionKeys::parse([key(7).as_str()]).unwrap();
        let shown = format!("{keys:?}");
        assert!(!shown.contains(&key(7)), "{shown}");
        assert!(shown.contains(&keys.0[0].id()), "{shown}");
        assert!(TokenCipher::new(&TokenEncryptionKeys::default()).is_none());
    }

    #[test]
    fn keys_come_as_a_list_or_as_one_comma_separated_string() {
        #[derive(Deserialize)]
        struct Section {
            keys: TokenEncryptionKeys,
        }
        let (new, old) = (key(2), key(1));
        let from_list: Section =
            serde_json::from_str(&format!(r#"{{"keys": ["{new}", "{old}"]}}"#)).unwrap();
        let from_string: Section =
            serde_json::from_str(&format!(r#"{{"keys": "{new}, {old}"}}"#)).unwrap();
        assert_eq!(from_list.keys, from_string.keys);
        assert_eq!(from_list.keys.0.len(), 2);
        assert_eq!(
            TokenCipher::new(&from_list.keys).unwrap().newest_key_id(),
            TokenEncryptionKey::from_base64(&new, 1).unwrap().id()
        );
        let error = serde_json::from_str::<Section>(r#"{"keys": ["short"]}"#)
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("key 1"), "{error}");
        assert!(!error.contains("short"), "{error}");
    }
}
