-- payscope schema v1, the same text for SQLite and PostgreSQL (BIGINT has integer affinity in SQLite).
-- Times are unix seconds; flags are 0/1 BIGINTs (portable through sqlx Any); Stripe JSON is TEXT exactly as received.

CREATE TABLE accounts (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts(id),
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    is_admin      BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts(id),
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT,
    revoked_at    BIGINT
);

CREATE TABLE connections (
    id                    TEXT PRIMARY KEY,
    account_id            TEXT NOT NULL REFERENCES accounts(id),
    name                  TEXT NOT NULL,
    processor             TEXT NOT NULL,
    mode                  TEXT NOT NULL,
    processor_account_id  TEXT,
    api_key_sealed        TEXT NOT NULL,
    api_key_hint          TEXT NOT NULL,
    webhook_endpoint_id   TEXT,
    webhook_secret_sealed TEXT,
    status                TEXT NOT NULL,
    status_reason         TEXT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    UNIQUE (account_id, name)
);

CREATE TABLE stripe_objects (
    account_id     TEXT NOT NULL,
    connection_id  TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    object_type    TEXT NOT NULL,
    id             TEXT NOT NULL,
    created        BIGINT NOT NULL,
    version        BIGINT NOT NULL,
    deleted        BIGINT NOT NULL DEFAULT 0,
    json           TEXT NOT NULL,
    stored_at      BIGINT NOT NULL,
    PRIMARY KEY (connection_id, object_type, id)
);
CREATE INDEX stripe_objects_by_created ON stripe_objects (connection_id, object_type, created);

CREATE TABLE payments (
    account_id            TEXT NOT NULL,
    connection_id         TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    charge_id             TEXT NOT NULL,
    created               BIGINT NOT NULL,
    version               BIGINT NOT NULL,
    amount                BIGINT NOT NULL,
    currency              TEXT NOT NULL,
    status                TEXT NOT NULL,
    captured              BIGINT NOT NULL,
    amount_refunded       BIGINT NOT NULL,
    disputed              BIGINT NOT NULL,
    outcome_type          TEXT,
    network_status        TEXT,
    outcome_reason        TEXT,
    risk_level            TEXT,
    advice_code           TEXT,
    network_decline_code  TEXT,
    failure_code          TEXT,
    decline_code          TEXT,
    payment_method_type   TEXT,
    card_brand            TEXT,
    card_funding          TEXT,
    card_country          TEXT,
    card_iin              TEXT,
    card_issuer           TEXT,
    wallet                TEXT,
    three_d_secure        TEXT,
    fee                   BIGINT,
    net                   BIGINT,
    payment_intent_id     TEXT,
    attempt_number        BIGINT,
    customer_id           TEXT,
    PRIMARY KEY (connection_id, charge_id)
);
CREATE INDEX payments_by_account_created ON payments (account_id, created);
CREATE INDEX payments_by_intent ON payments (connection_id, payment_intent_id);

CREATE TABLE import_jobs (
    id             TEXT PRIMARY KEY,
    account_id     TEXT NOT NULL,
    connection_id  TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    status         TEXT NOT NULL,
    requested_at   BIGINT NOT NULL,
    started_at     BIGINT,
    finished_at    BIGINT,
    error          TEXT
);
CREATE INDEX import_jobs_by_connection ON import_jobs (connection_id, requested_at);

CREATE TABLE import_ranges (
    job_id         TEXT NOT NULL REFERENCES import_jobs(id) ON DELETE CASCADE,
    account_id     TEXT NOT NULL,
    resource       TEXT NOT NULL,
    range_start    BIGINT NOT NULL,
    range_end      BIGINT NOT NULL,
    cursor         TEXT,
    done           BIGINT NOT NULL DEFAULT 0,
    objects        BIGINT NOT NULL DEFAULT 0,
    claimed_by     TEXT,
    claimed_until  BIGINT,
    PRIMARY KEY (job_id, resource, range_start)
);
CREATE INDEX import_ranges_open ON import_ranges (done, claimed_until);

CREATE TABLE webhook_inbox (
    account_id     TEXT NOT NULL,
    connection_id  TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    event_id       TEXT NOT NULL,
    event_type     TEXT NOT NULL,
    event_created  BIGINT NOT NULL,
    payload        TEXT NOT NULL,
    received_at    BIGINT NOT NULL,
    applied_at     BIGINT,
    attempts       BIGINT NOT NULL DEFAULT 0,
    last_error     TEXT,
    PRIMARY KEY (connection_id, event_id)
);
CREATE INDEX webhook_inbox_pending ON webhook_inbox (applied_at, received_at);

CREATE TABLE sync_runs (
    id             TEXT PRIMARY KEY,
    account_id     TEXT NOT NULL,
    connection_id  TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    kind           TEXT NOT NULL,
    started_at     BIGINT NOT NULL,
    finished_at    BIGINT,
    outcome        TEXT,
    objects        BIGINT NOT NULL DEFAULT 0,
    error          TEXT
);
CREATE INDEX sync_runs_by_connection ON sync_runs (connection_id, started_at);
