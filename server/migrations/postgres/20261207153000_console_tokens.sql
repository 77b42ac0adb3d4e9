-- The console's session tokens, sealed with auth.console.token_encryption_keys.
--
-- Earlier versions created console_tokens themselves, outside the
-- migrations, and kept the tokens in it in plain text. Those rows are
-- dropped rather than kept: their sessions sign in once more.
DROP TABLE IF EXISTS console_tokens;

CREATE TABLE console_tokens (
    -- The random handle a session record names its token set by.
    handle TEXT PRIMARY KEY,
    -- Which configured key sealed the row, so older keys still open it
    -- while a rotation is under way.
    key_id TEXT NOT NULL,
    -- XChaCha20-Poly1305: the 24-byte nonce, then the sealed token set.
    sealed_tokens BYTEA NOT NULL,
    -- When the access token expires (Unix seconds), in the clear so that
    -- token sets of abandoned sessions can be removed without the key.
    expires_at BIGINT NOT NULL
);

CREATE INDEX console_tokens_by_expiry ON console_tokens (expires_at);
