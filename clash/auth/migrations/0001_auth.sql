CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    created_at_ms INTEGER NOT NULL
);

CREATE TABLE wallets (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    address TEXT NOT NULL UNIQUE,  -- EIP-55 checksummed
    chain_id INTEGER NOT NULL,     -- the chain of its first sign-in
    created_at_ms INTEGER NOT NULL
);

CREATE TABLE siwe_challenges (
    nonce TEXT PRIMARY KEY,
    address TEXT NOT NULL,
    chain_id INTEGER NOT NULL,
    issued_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    used_at_ms INTEGER
);

CREATE INDEX siwe_challenges_expiry ON siwe_challenges (expires_at_ms);

-- A session is a refresh-token family: every rotation adds a token to the same session.
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    wallet_id INTEGER NOT NULL REFERENCES wallets(id),
    created_at_ms INTEGER NOT NULL,
    last_used_at_ms INTEGER NOT NULL,
    revoked_at_ms INTEGER,
    revoked_reason TEXT
);

CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE refresh_tokens (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    token_hash TEXT NOT NULL UNIQUE,  -- sha256 hex of the opaque token; the token is never stored
    issued_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    rotated_at_ms INTEGER,
    revoked_at_ms INTEGER
);

CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);
