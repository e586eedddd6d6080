//! Rollups of day blocks (migration 0009): the sums of 4- to 256-day runs of daily rollup rows, so a breakdown
//! over a quarter or a year reads a few rows per attribute value instead of one per day and value (a year of BINs
//! is ~365 × the BINs of a day as days, ~11 × the BINs of a month as blocks).
//!
//! Blocks are derived from the day rows only, never from payments, so they cannot define a number differently: a
//! 4-day block sums its days, a longer block its two halves. Refreshing a day's rows bumps the generation of every
//! block holding it in the same transaction; a block is recomputed once none of its days is marked, from a
//! snapshot taken after reading its generation, and written only over an older generation, like a day. A block
//! summed from its halves is computed in one statement that also checks both halves are current (else it waits):
//! current halves reflect every day refresh before that snapshot, and any later one bumps the block again. A read ([`Store::rollup_cover`]) uses a block only while it is current for every
//! connection and holds no marked day, and reads the rest of its period from the day rows.

use std::collections::HashSet;

use sqlx::Row;
use sqlx::any::AnyRow;

use super::analytics::Binds;
use super::rollups::{
    MEASURE_COLUMNS, PAYMENT_KEY_COLUMNS, PAYMENT_KEYS, StaleDays, YIELD_AT_MOST, computed_rows,
    insert_rows,
};
use super::{Dialect, Store, StoreResult};
use crate::domain::analytics::DAY;

/// The block lengths in days, longest first: powers of two from the epoch, so each block is exactly two blocks of
/// the next span, and a period is covered by at most one block of each span at each end (plus whole blocks of
/// the longest) and at most three days at each end. Values recurring day after day (BINs, banks) make a block
/// about as many rows as one day, so few blocks, not short ones, are what makes a year cheap.
pub(super) const BLOCK_SPANS: &[i64] = &[256, 128, 64, 32, 16, 8, 4];

/// The shortest blocks, summed from days; every longer block is the sum of its two halves.
const SHORTEST: i64 = 4;

/// The first key of the row a block's computation returns when one of its halves is out of date.
const HALF_NOT_CURRENT: &str = "~half not current";

/// The start of the `span`-day block holding `day`.
fn block_start(day: i64, span: i64) -> i64 {
    day.div_euclid(span * DAY) * span * DAY
}

/// Marks the blocks holding `day` as needing a recompute, inside the transaction that rewrote the day's rows.
pub(super) async fn mark_blocks_in(
    conn: &mut sqlx::AnyConnection,
    account_id: &str,
    connection_id: &str,
    day: i64,
) -> StoreResult<()> {
    for span in BLOCK_SPANS {
        sqlx::query(
            "INSERT INTO payment_rollup_block_marks (account_id, connection_id, span, start)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (connection_id, span, start)
             DO UPDATE SET generation = payment_rollup_block_marks.generation + 1",
        )
        .bind(account_id)
        .bind(connection_id)
        .bind(*span)
        .bind(block_start(day, *span))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Where a rollup read takes each part of its period from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RollupCover {
    /// `[start, end)` ranges read from the day rows.
    days: Vec<(i64, i64)>,
    /// `(span, start)` of the blocks read from the block rows.
    blocks: Vec<(i64, i64)>,
}

impl RollupCover {
    /// The whole period from the day rows (what a time series needs: its buckets are days or weeks).
    pub(super) fn days_only(start: i64, end: i64) -> Self {
        RollupCover {
            days: if start < end {
                vec![(start, end)]
            } else {
                Vec::new()
            },
            blocks: Vec::new(),
        }
    }

    /// Covers `[start, end)` (whole days) with the longest usable blocks, then shorter ones, then days.
    fn decompose(start: i64, end: i64, usable: impl Fn(i64, i64) -> bool) -> Self {
        let mut open = Self::days_only(start, end).days;
        let mut blocks = Vec::new();
        for span in BLOCK_SPANS {
            let length = span * DAY;
            let mut rest = Vec::new();
            for (from, to) in open {
                let mut cursor = from;
                let mut block = block_start(from + length - DAY, *span);
                while block + length <= to {
                    if usable(*span, block) {
                        if cursor < block {
                            rest.push((cursor, block));
                        }
                        blocks.push((*span, block));
                        cursor = block + length;
                    }
                    block += length;
                }
                if cursor < to {
                    rest.push((cursor, to));
                }
            }
            open = rest;
        }
        RollupCover { days: open, blocks }
    }

    /// `(day >= a AND day < b OR …)` over the day rows, `None` when no day is read from them.
    pub(super) fn day_condition(&self, binds: &mut Binds) -> Option<String> {
        if self.days.is_empty() {
            return None;
        }
        let ranges: Vec<String> = self
            .days
            .iter()
            .map(|(from, to)| format!("(day >= {} AND day < {})", binds.int(*from), binds.int(*to)))
            .collect();
        Some(format!("({})", ranges.join(" OR ")))
    }

    /// `span = 32 AND start IN (…)` over the block rows, one condition per span read: each is a separate `SELECT`
    /// of a `UNION ALL`, since SQLite seeks its index by (span, start) only for a condition without `OR`.
    pub(super) fn block_conditions(&self, binds: &mut Binds) -> Vec<String> {
        let mut conditions = Vec::new();
        for span in BLOCK_SPANS {
            let starts: Vec<String> = self
                .blocks
                .iter()
                .filter(|(s, _)| s == span)
                .map(|(_, start)| binds.int(*start))
                .collect();
            if !starts.is_empty() {
                conditions.push(format!(
                    "span = {} AND start IN ({})",
                    binds.int(*span),
                    starts.join(", ")
                ));
            }
        }
        conditions
    }
}

/// One block of one connection found out of date.
struct MarkedBlock {
    account_id: String,
    connection_id: String,
    span: i64,
    start: i64,
    generation: i64,
}

impl Store {
    /// How a rollup read of `account_id` over `[start, end)` (whole days) splits between blocks and days: a block
    /// is used when every connection's rows of it are current and none of its days is in `stale`.
    pub(super) async fn rollup_cover(
        &self,
        account_id: &str,
        start: i64,
        end: i64,
        stale: &StaleDays,
    ) -> StoreResult<RollupCover> {
        let rows = sqlx::query(
            "SELECT span, start FROM payment_rollup_block_marks
             WHERE account_id = $1 AND start >= $2 AND start < $3 AND generation > refreshed_generation",
        )
        .bind(account_id)
        .bind(start)
        .bind(end)
        .fetch_all(&self.reader)
        .await?;
        let out_of_date: HashSet<(i64, i64)> = rows
            .iter()
            .map(|row| Ok((row.try_get("span")?, row.try_get("start")?)))
            .collect::<StoreResult<_>>()?;
        Ok(RollupCover::decompose(start, end, |span, block| {
            !out_of_date.contains(&(span, block)) && !stale.any_within(block, block + span * DAY)
        }))
    }

    /// Recomputes up to `limit` out-of-date blocks that end by `ending_by`, none of whose days is marked and whose
    /// halves are current, shortest and newest first; returns how many.
    pub(super) async fn refresh_marked_blocks(
        &self,
        limit: i64,
        ending_by: i64,
    ) -> StoreResult<usize> {
        let rows = sqlx::query(&format!(
            "SELECT m.account_id, m.connection_id, m.span, m.start, m.generation
             FROM payment_rollup_block_marks m
             WHERE m.generation > m.refreshed_generation AND NOT EXISTS (
                 SELECT 1 FROM payment_rollup_days d
                 WHERE d.connection_id = m.connection_id AND d.day >= m.start AND d.day < m.start + m.span * {DAY}
                   AND d.generation > d.refreshed_generation)
               AND NOT EXISTS (
                 SELECT 1 FROM payment_rollup_block_marks h
                 WHERE h.connection_id = m.connection_id AND h.span * 2 = m.span AND h.start >= m.start
                   AND h.start < m.start + m.span * {DAY} AND h.generation > h.refreshed_generation)
               AND m.start + m.span * {DAY} <= $2
             ORDER BY m.span, m.start DESC LIMIT $1"
        ))
        .bind(limit)
        .bind(ending_by)
        .fetch_all(&self.reader)
        .await?;
        let blocks = rows
            .iter()
            .map(marked_block)
            .collect::<StoreResult<Vec<_>>>()?;
        let sums = MEASURE_COLUMNS
            .iter()
            .map(|column| format!("CAST(SUM({column}) AS BIGINT)"))
            .collect::<Vec<_>>()
            .join(", ");
        let from_days = format!(
            "SELECT {PAYMENT_KEY_COLUMNS}, {sums} FROM payment_rollups
             WHERE connection_id = $1 AND day >= $2 AND day < $3
             GROUP BY {PAYMENT_KEY_COLUMNS}"
        );
        let zeros = vec!["0"; MEASURE_COLUMNS.len()].join(", ");
        let from_halves = format!(
            "SELECT {PAYMENT_KEY_COLUMNS}, {sums} FROM payment_rollup_blocks
             WHERE connection_id = $1 AND start >= $2 AND start < $3 AND span = $4
             GROUP BY {PAYMENT_KEY_COLUMNS}
             UNION ALL
             SELECT '{HALF_NOT_CURRENT}', '', '', '', '', '', '', {zeros} FROM payment_rollup_block_marks
             WHERE connection_id = $1 AND start >= $2 AND start < $3 AND span = $4
               AND generation > refreshed_generation"
        );
        let lock = match self.dialect {
            Dialect::Postgres => " FOR UPDATE",
            Dialect::Sqlite => "",
        };
        let mut done = 0;
        for block in blocks {
            let end = block.start + block.span * DAY;
            let computed = if block.span == SHORTEST {
                sqlx::query(&from_days)
                    .bind(&block.connection_id)
                    .bind(block.start)
                    .bind(end)
                    .fetch_all(&self.reader)
                    .await?
            } else {
                sqlx::query(&from_halves)
                    .bind(&block.connection_id)
                    .bind(block.start)
                    .bind(end)
                    .bind(block.span / 2)
                    .fetch_all(&self.reader)
                    .await?
            };
            let rows = computed_rows(&computed, PAYMENT_KEYS, MEASURE_COLUMNS.len())?;
            if rows.iter().any(|row| row.keys[0] == HALF_NOT_CURRENT) {
                // A half was rewritten since this block was picked: it is summed after that half's refresh.
                continue;
            }
            self.yield_to_urgent_writes(YIELD_AT_MOST).await;
            let mut tx = self.writer.begin().await?;
            let stored: i64 = sqlx::query(&format!(
                "SELECT refreshed_generation FROM payment_rollup_block_marks
                 WHERE connection_id = $1 AND span = $2 AND start = $3{lock}"
            ))
            .bind(&block.connection_id)
            .bind(block.span)
            .bind(block.start)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            if stored >= block.generation {
                continue;
            }
            sqlx::query(
                "DELETE FROM payment_rollup_blocks WHERE connection_id = $1 AND span = $2 AND start = $3",
            )
            .bind(&block.connection_id)
            .bind(block.span)
            .bind(block.start)
            .execute(&mut *tx)
            .await?;
            insert_rows(
                &mut tx,
                "payment_rollup_blocks",
                &format!(
                    "span, start, {PAYMENT_KEY_COLUMNS}, {}",
                    MEASURE_COLUMNS.join(", ")
                ),
                (&block.account_id, &block.connection_id),
                &[block.span, block.start],
                &rows,
            )
            .await?;
            sqlx::query(
                "UPDATE payment_rollup_block_marks SET refreshed_generation = $4
                 WHERE connection_id = $1 AND span = $2 AND start = $3",
            )
            .bind(&block.connection_id)
            .bind(block.span)
            .bind(block.start)
            .bind(block.generation)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            done += 1;
        }
        Ok(done)
    }
}

fn marked_block(row: &AnyRow) -> StoreResult<MarkedBlock> {
    Ok(MarkedBlock {
        account_id: row.try_get("account_id")?,
        connection_id: row.try_get("connection_id")?,
        span: row.try_get("span")?,
        start: row.try_get("start")?,
        generation: row.try_get("generation")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: i64 = DAY;

    #[test]
    fn a_period_takes_whole_usable_blocks_longest_first_and_days_at_the_ends() {
        // Days 30..100: the 32-day blocks [32, 64) and [64, 96) fit, then the 4-day block [96, 100); the 4-day
        // block [28, 32) starts before the period, so days 30 and 31 are read as days.
        let cover = RollupCover::decompose(30 * D, 100 * D, |_, _| true);
        assert_eq!(cover.blocks, vec![(32, 32 * D), (32, 64 * D), (4, 96 * D)]);
        assert_eq!(cover.days, vec![(30 * D, 32 * D)]);
    }

    #[test]
    fn an_unusable_block_is_covered_by_its_shorter_blocks_and_days() {
        // Out of date along the way down to days 8–11: [0, 64) → [0, 32) → [0, 16) → [8, 16) → [8, 12).
        let unusable = [(64, 0), (32, 0), (16, 0), (8, 8 * D), (4, 8 * D)];
        let cover =
            RollupCover::decompose(0, 64 * D, |span, start| !unusable.contains(&(span, start)));
        let mut blocks: Vec<(i64, i64)> = cover
            .blocks
            .iter()
            .map(|(s, start)| (*s, start / D))
            .collect();
        blocks.sort_unstable();
        assert_eq!(blocks, vec![(4, 12), (8, 0), (16, 16), (32, 32)]);
        assert_eq!(cover.days, vec![(8 * D, 12 * D)]);
    }

    #[test]
    fn a_year_takes_at_most_one_block_of_a_span_at_each_end() {
        // 2025-11-28 to 2026-11-28 (days 20420 to 20785).
        let cover = RollupCover::decompose(20420 * D, 20785 * D, |_, _| true);
        let covered: i64 = cover.blocks.iter().map(|(span, _)| span * D).sum::<i64>()
            + cover.days.iter().map(|(from, to)| to - from).sum::<i64>();
        assert_eq!(covered, 365 * D);
        for span in BLOCK_SPANS.iter().filter(|span| **span < 256) {
            let count = cover.blocks.iter().filter(|(s, _)| s == span).count();
            assert!(
                count <= 2,
                "{count} blocks of {span} days: {:?}",
                cover.blocks
            );
        }
        assert!(cover.blocks.len() <= 9, "{:?}", cover.blocks);
    }

    #[test]
    fn a_period_shorter_than_any_block_is_all_days() {
        let cover = RollupCover::decompose(5 * D, 7 * D, |_, _| true);
        assert!(cover.blocks.is_empty());
        assert_eq!(cover.days, vec![(5 * D, 7 * D)]);
    }
}
