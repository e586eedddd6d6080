-- Rollups of day blocks, so a breakdown over months reads a few rows per attribute value instead of one per day:
-- a year of BIN rows is 365 days × the BINs of a day, a year of blocks about a dozen × the BINs of a block.
-- A block is `span` whole UTC days (a power of two from 4 to 256) starting at `start`, a multiple of span × 86400
-- since the epoch, so blocks of a span never overlap and each block is exactly two blocks of half its span. Its
-- rows are the sums of its days' payment_rollups rows, key by key; the columns mean what they mean there.

CREATE TABLE payment_rollup_blocks (
    account_id        TEXT NOT NULL,
    connection_id     TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    span              BIGINT NOT NULL,
    start             BIGINT NOT NULL,
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
    PRIMARY KEY (connection_id, span, start, basis, dimension, value, currency, card_brand, card_funding,
                 card_country)
);
CREATE INDEX payment_rollup_blocks_read ON payment_rollup_blocks (account_id, basis, dimension, span, start);

-- The freshness of each connection's block, as payment_rollup_days is of its days: every refresh of a day in the
-- block bumps `generation` in the transaction that writes the day's rows; a block refresh sums the day rows from a
-- snapshot taken after reading the generation and records it in `refreshed_generation`. A read uses a block only
-- while every connection's block is current and none of its days is marked.
CREATE TABLE payment_rollup_block_marks (
    account_id            TEXT NOT NULL,
    connection_id         TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    span                  BIGINT NOT NULL,
    start                 BIGINT NOT NULL,
    generation            BIGINT NOT NULL DEFAULT 1,
    refreshed_generation  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (connection_id, span, start)
);
CREATE INDEX payment_rollup_block_marks_by_account ON payment_rollup_block_marks (account_id, start);

-- Days rolled up before this migration get their blocks on the first refresh.
INSERT INTO payment_rollup_block_marks (account_id, connection_id, span, start)
SELECT DISTINCT d.account_id, d.connection_id, s.span, (d.day / (s.span * 86400)) * (s.span * 86400)
FROM payment_rollup_days d,
     (SELECT 256 AS span UNION ALL SELECT 128 UNION ALL SELECT 64 UNION ALL SELECT 32 UNION ALL SELECT 16
      UNION ALL SELECT 8 UNION ALL SELECT 4) s;

-- When each day was last marked, and since when it has been out of date: the background refresher recomputes a day
-- once it has gone unwritten for a while, or has been out of date too long, not on every write of a busy day.
ALTER TABLE payment_rollup_days ADD COLUMN last_marked_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE payment_rollup_days ADD COLUMN dirty_since BIGINT NOT NULL DEFAULT 0;
