-- Daily rollups of payments, so a dashboard reads a few thousand rows instead of every payment of its period.
-- One row per connection, UTC day, currency and either
--   * dimension '' : the card attributes the dashboards filter on (brand, funding, issuing country), or
--   * dimension 'total': the day's totals in that currency (card attributes left ''), or
--   * dimension 'brand', 'issuer', 'bin', …: one value of that attribute (card attributes left '').
-- The measures are those of store/analytics.rs over the payments of that group (verifications excluded), with
-- pending attempts counted apart so "exclude pending" is a subtraction. Rows are recomputed from `payments` for
-- every day marked in `payment_rollup_days`; a payment write marks its day in the same transaction.

CREATE TABLE payment_rollups (
    account_id        TEXT NOT NULL,
    connection_id     TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    day               BIGINT NOT NULL,
    dimension         TEXT NOT NULL,
    value             TEXT NOT NULL,
    currency          TEXT NOT NULL,
    card_brand        TEXT NOT NULL,
    card_funding      TEXT NOT NULL,
    card_country      TEXT NOT NULL,
    attempted         BIGINT NOT NULL,
    approved          BIGINT NOT NULL,
    declined          BIGINT NOT NULL,
    pending           BIGINT NOT NULL,
    attempted_amount  BIGINT NOT NULL,
    pending_amount    BIGINT NOT NULL,
    approved_amount   BIGINT NOT NULL,
    refunded          BIGINT NOT NULL,
    refunded_amount   BIGINT NOT NULL,
    disputed          BIGINT NOT NULL,
    disputed_amount   BIGINT NOT NULL,
    fees              BIGINT NOT NULL,
    net               BIGINT NOT NULL,
    fee_base          BIGINT NOT NULL,
    PRIMARY KEY (connection_id, day, dimension, value, currency, card_brand, card_funding, card_country)
);
CREATE INDEX payment_rollups_read ON payment_rollups (account_id, dimension, day);

-- Days whose rollup rows are out of date: written with the payments that changed them, removed by the refresh
-- that recomputes them.
CREATE TABLE payment_rollup_days (
    account_id     TEXT NOT NULL,
    connection_id  TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    day            BIGINT NOT NULL,
    PRIMARY KEY (connection_id, day)
);
CREATE INDEX payment_rollup_days_by_account ON payment_rollup_days (account_id, day);

-- Payments stored before this migration get their rollups on the first refresh.
INSERT INTO payment_rollup_days (account_id, connection_id, day)
SELECT DISTINCT account_id, connection_id, (created / 86400) * 86400 FROM payments;
