-- Daily rollups of the stored Stripe objects the dashboards count: disputes and refunds by reason and by status,
-- payouts by status, and balance-transaction fee lines by fee type. One row per connection, UTC day, kind,
-- grouping, key and currency. Like payment_rollups they are recomputed from stripe_objects for every day marked in
-- payment_rollup_days (which, from this migration on, marks days whose payment or object rollups are out of date).

CREATE TABLE object_rollups (
    account_id     TEXT NOT NULL,
    connection_id  TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    day            BIGINT NOT NULL,
    kind           TEXT NOT NULL,
    grouping       TEXT NOT NULL,
    key            TEXT NOT NULL,
    currency       TEXT NOT NULL,
    count          BIGINT NOT NULL,
    amount         BIGINT NOT NULL,
    PRIMARY KEY (connection_id, day, kind, grouping, key, currency)
);
CREATE INDEX object_rollups_read ON object_rollups (account_id, kind, grouping, day);

-- Objects stored before this migration get their rollups on the first refresh.
INSERT INTO payment_rollup_days (account_id, connection_id, day)
SELECT DISTINCT account_id, connection_id, (created / 86400) * 86400 FROM stripe_objects
WHERE object_type IN ('dispute', 'refund', 'payout', 'balance_transaction')
ON CONFLICT (connection_id, day) DO NOTHING;
