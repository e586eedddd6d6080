//! Rollups of day blocks (migration 0009): the sums of 128-, 32- and 4-day runs of daily rollup rows, so a breakdown
//! over a quarter or a year reads a few rows per attribute value instead of one per day and value (a year of BINs
//! is ~365 × the BINs of a day as days, ~11 × the BINs of a month as blocks).
//!
//! Blocks are derived from the day rows only, never from payments, so they cannot define a number differently.
//! Refreshing a day's rows bumps the generation of its blocks in the same transaction; a block is recomputed once
//! none of its days is marked, from a snapshot taken after reading its generation, and written only over an older
//! generation, like a day. A read ([`Store::rollup_cover`]) uses a block only while it is current for every
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

/// The block lengths in days, longest first. Powers of two from the epoch, so every 128-day block holds exactly
/// four 32-day blocks and each of those eight 4-day blocks, and a period is covered by a few long blocks, a few
/// shorter ones and at most three days at each end. Values recurring day after day (BINs, banks) make a block
/// about as many rows as one day, so fewer, longer blocks are what makes a year cheap.
pub(super) const BLOCK_SPANS: &[i64] = &[128, 32, 4];

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

    /// Recomputes up to `limit` out-of-date blocks that end by `ending_by` and none of whose days is marked,
    /// newest first; returns how many.
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
               AND m.start + m.span * {DAY} <= $2
             ORDER BY m.start DESC, m.span LIMIT $1"
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
        let select = format!(
            "SELECT {PAYMENT_KEY_COLUMNS}, {sums} FROM payment_rollups
             WHERE connection_id = $1 AND day >= $2 AND day < $3
             GROUP BY {PAYMENT_KEY_COLUMNS}"
        );
        let lock = match self.dialect {
            Dialect::Postgres => " FOR UPDATE",
            Dialect::Sqlite => "",
        };
        let mut done = 0;
        for block in blocks {
            let computed = sqlx::query(&select)
                .bind(&block.connection_id)
                .bind(block.start)
                .bind(block.start + block.span * DAY)
                .fetch_all(&self.reader)
                .await?;
            let rows = computed_rows(&computed, PAYMENT_KEYS, MEASURE_COLUMNS.len())?;
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
        let unusable = [(32, 0), (4, 8 * D)];
        let cover =
            RollupCover::decompose(0, 64 * D, |span, start| !unusable.contains(&(span, start)));
        let mut fours: Vec<i64> = cover
            .blocks
            .iter()
            .filter(|(span, _)| *span == 4)
            .map(|(_, start)| start / D)
            .collect();
        fours.sort_unstable();
        assert_eq!(fours, vec![0, 4, 12, 16, 20, 24, 28]);
        assert!(cover.blocks.contains(&(32, 32 * D)));
        assert_eq!(cover.days, vec![(8 * D, 12 * D)]);
    }

    #[test]
    fn a_period_shorter_than_any_block_is_all_days() {
        let cover = RollupCover::decompose(5 * D, 7 * D, |_, _| true);
        assert!(cover.blocks.is_empty());
        assert_eq!(cover.days, vec![(5 * D, 7 * D)]);
    }
}
