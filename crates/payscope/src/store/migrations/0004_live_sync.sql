-- Live sync: per-connection state of the webhook receiver, the applier and the events catch-up (cursor, health),
-- and a retry time on inbox events whose application failed (so one bad event does not spin the applier).

CREATE TABLE live_sync_state (
    connection_id               TEXT PRIMARY KEY REFERENCES connections(id) ON DELETE CASCADE,
    account_id                  TEXT NOT NULL,
    cursor_event_id             TEXT,
    cursor_created              BIGINT,
    last_received_at            BIGINT,
    last_applied_at             BIGINT,
    last_applied_event_created  BIGINT,
    last_catch_up_at            BIGINT,
    endpoint_status             TEXT,
    endpoint_checked_at         BIGINT,
    attention_reason            TEXT
);

ALTER TABLE webhook_inbox ADD COLUMN next_attempt_at BIGINT;
CREATE INDEX webhook_inbox_due ON webhook_inbox (applied_at, next_attempt_at);
