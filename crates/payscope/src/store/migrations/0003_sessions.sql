-- Web sign-in: sessions keyed by a digest of the cookie value, and failed sign-ins for throttling.

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    csrf_token  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE login_failures (
    email      TEXT NOT NULL,
    failed_at  BIGINT NOT NULL
);
CREATE INDEX login_failures_by_email ON login_failures (email, failed_at);
