-- Daily rollups of payments, so a dashboard reads a few thousand rows instead of every payment of its period.
-- One row per connection, UTC day, basis ('attempt': every attempt; 'intent': deciding attempts only, for retry
-- deduplication), currency and either
--   * dimension '' : the card attributes the dashboards filter on (brand, funding, issuing country), or
--   * dimension 'total': the day's totals in that currency (card attributes left ''), or
--   * dimension 'brand', 'issuer', 'bin', …: one value of that attribute (card attributes left '').
-- The measures are those of store/analytics.rs over the payments of that group (verifications excluded), with
-- pending attempts counted apart so "exclude pending" is a subtraction. Rows are recomputed from `payments` for
-- every day marked in `payment_rollup_days`; a payment write marks its day in the same transaction.

-- Retry deduplication counts each payment intent once, as its deciding attempt: the one that succeeded, else a
-- pending one, else the latest (verifications never). `decisive` marks that attempt (a charge without an intent is
-- its own deciding attempt); it is kept by every payment write for the intents the write touched.
ALTER TABLE payments ADD COLUMN decisive BIGINT NOT NULL DEFAULT 1;
UPDATE payments SET decisive = CASE WHEN charge_id = (
        SELECT p2.charge_id FROM payments p2
        WHERE p2.connection_id = payments.connection_id AND p2.payment_intent_id = payments.payment_intent_id
          AND p2.amount > 0
        ORDER BY CASE p2.status WHEN 'succeeded' THEN 0 WHEN 'pending' THEN 1 ELSE 2 END, p2.created DESC,
                 p2.charge_id DESC
        LIMIT 1) THEN 1 ELSE 0 END
WHERE payment_intent_id IS NOT NULL;

-- The direct counts (retries deduplicated, or card filters on a per-attribute breakdown) read `decisive` too: the
-- covering index of migration 0005 gains it.
DROP INDEX payments_analytics;
CREATE INDEX payments_analytics_v2 ON payments (
    account_id, created, connection_id, currency, status, amount, amount_refunded, disputed, fee, net,
    card_brand, card_funding, card_country, card_issuer, card_iin, wallet, three_d_secure, decline_code,
    failure_code, advice_code, network_status, outcome_type, payment_intent_id, payment_method_type, decisive
);

CREATE TABLE payment_rollups (
    account_id        TEXT NOT NULL,
    connection_id     TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    day               BIGINT NOT NULL,
    basis             TEXT NOT NULL,
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
    PRIMARY KEY (connection_id, day, basis, dimension, value, currency, card_brand, card_funding, card_country)
);
CREATE INDEX payment_rollups_read ON payment_rollups (account_id, basis, dimension, day);

-- The freshness of each connection-day's rollups: every write touching the day bumps `generation` in its own
-- transaction; a refresh reads the generation, computes the rows from a snapshot taken after that read, and
-- writes them with `refreshed_generation` set to what it read, only if that is newer than what is stored. A day is
-- marked (out of date) while generation > refreshed_generation.
CREATE TABLE payment_rollup_days (
    account_id            TEXT NOT NULL,
    connection_id         TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    day                   BIGINT NOT NULL,
    generation            BIGINT NOT NULL DEFAULT 1,
    refreshed_generation  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (connection_id, day)
);
CREATE INDEX payment_rollup_days_by_account ON payment_rollup_days (account_id, day);

-- Payments stored before this migration get their rollups on the first refresh.
INSERT INTO payment_rollup_days (account_id, connection_id, day)
SELECT DISTINCT account_id, connection_id, (created / 86400) * 86400 FROM payments;
