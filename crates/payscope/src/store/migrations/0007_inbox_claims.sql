-- Live sync: the applier claims inbox events through the database (a lease: who holds them, until when), so several
-- processes sharing one PostgreSQL never apply the same event at the same time. (Pruning applied events uses the
-- existing webhook_inbox_pending index on applied_at.)

ALTER TABLE webhook_inbox ADD COLUMN claimed_by TEXT;
ALTER TABLE webhook_inbox ADD COLUMN claimed_until BIGINT;
