//! Daily rollups (migrations 0006 and 0008): every write of payments, or of the objects the dashboards count
//! (disputes, refunds, payouts, balance transactions), bumps its UTC day's generation in `payment_rollup_days` in
//! the same transaction, and a refresh recomputes a marked day's rows of `payment_rollups` and `object_rollups`
//! from the stored data with the same expressions as the direct queries, so a rollup is never a second definition
//! of a number.
//!
//! A background task recomputes marked days once they have gone unwritten for [`DAY_QUIET_FOR`] seconds, or have
//! stayed marked for [`DAY_DIRTY_AT_MOST`]: a day written every second (today, under live traffic) is not recomputed
//! on every write. The rows are computed by the readers and written in one short
//! transaction with the generation they reflect, only over older ones; a day written meanwhile stays marked for the
//! next refresh. The writer is held for the write only, so webhook acknowledgements behind it wait milliseconds,
//! not the computation. A rollup read never waits for a refresh: it reads the rollups of the current days and
//! counts the marked days of its period from the stored rows ([`StaleDays`]), so a dashboard is never stale.

use std::time::Duration;

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::analytics::{Binds, PAYMENT_MEASURES, dimension_column};
use super::objects::values_placeholders;
use super::rollup_blocks::mark_blocks_in;
use super::{Dialect, Store, StoreResult, object_analytics, unix_now};
use crate::domain::analytics::period::day_start;
use crate::domain::analytics::{DAY, Dimension};

/// The dimensions rolled up in rows of their own, one per value and currency (card attributes left `''`), read
/// when no card filter applies. Brand, funding and issuing country are also columns of every base row, which
/// answer under card filters.
pub(super) const ROLLED_UP_DIMENSIONS: &[Dimension] = &[
    Dimension::Brand,
    Dimension::Funding,
    Dimension::Country,
    Dimension::Issuer,
    Dimension::Bin,
    Dimension::Wallet,
    Dimension::ThreeDSecure,
    Dimension::DeclineCode,
    Dimension::FailureCode,
    Dimension::AdviceCode,
    Dimension::NetworkStatus,
    Dimension::OutcomeType,
    Dimension::Status,
];

/// The dimensions also rolled up with the card attributes (brand, funding, issuing country) filled in, over every
/// attempt, so a per-attribute breakdown under a card filter reads rollups too: every rolled-up dimension after
/// the card attributes themselves (the first three, which the base rows answer). They cost rows (about 2,500 a
/// connection-day where the plain dimension rows are 700), so the plain rows stay for unfiltered reads; a BIN or
/// a bank determines its card attributes, so those two add few.
pub(super) const CARDED_DIMENSIONS: &[Dimension] = ROLLED_UP_DIMENSIONS.split_at(3).1;

/// The `dimension` of the carded rows of `dimension` (see [`CARDED_DIMENSIONS`]).
pub(super) fn carded_dimension(dimension: Dimension) -> &'static str {
    match dimension {
        Dimension::Issuer => "issuer@card",
        Dimension::Bin => "bin@card",
        Dimension::Wallet => "wallet@card",
        Dimension::ThreeDSecure => "three_d_secure@card",
        Dimension::DeclineCode => "decline_code@card",
        Dimension::FailureCode => "failure_code@card",
        Dimension::AdviceCode => "advice_code@card",
        Dimension::NetworkStatus => "network_status@card",
        Dimension::OutcomeType => "outcome_type@card",
        Dimension::Status => "status@card",
        // Not carded: answered by the base rows, or never rolled up.
        Dimension::Brand | Dimension::Funding | Dimension::Country | Dimension::Currency => "",
    }
}

/// How long a refresh waits for pending webhook deliveries to commit before recomputing a day.
pub(super) const YIELD_AT_MOST: Duration = Duration::from_millis(50);

/// The `basis` of rows counting every attempt.
pub(super) const ATTEMPTS: &str = "attempt";

/// The `basis` of rows counting deciding attempts only: each payment intent once (retries deduplicated).
pub(super) const INTENTS: &str = "intent";

/// The `dimension` of the rows holding a day's totals per currency.
pub(super) const TOTALS: &str = "total";

/// The `dimension` of the rows counting a day's card payments (verifications too) by which card details they carry:
/// the data-quality check's share of payments with a BIN and a bank name. Basis [`ATTEMPTS`] only.
pub(super) const CARD_DETAILS: &str = "card_details";

/// The `value` of a [`CARD_DETAILS`] row from the payments columns: `bin+bank`, `bin`, `bank` or `none`.
pub(super) const CARD_DETAILS_VALUE: &str = "CASE WHEN card_iin IS NOT NULL AND card_iin <> '' THEN
        (CASE WHEN card_issuer IS NOT NULL AND card_issuer <> '' THEN 'bin+bank' ELSE 'bin' END)
    ELSE (CASE WHEN card_issuer IS NOT NULL AND card_issuer <> '' THEN 'bank' ELSE 'none' END) END";

/// Whether `t` (a period bound or a bucket width) falls on a UTC day boundary, as everything rollups answer must.
pub(super) fn on_day_boundary(t: i64) -> bool {
    day_start(t) == t
}

/// Connection-days whose rollups are out of date ([`Store::stale_days`]).
pub(super) struct StaleDays(Vec<(String, i64)>);

impl StaleDays {
    /// Whether every day's rollups are current.
    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// ` AND NOT (…)`: rollup rows of other days only (columns `connection_id`, `day`).
    pub(super) fn excluded(&self, binds: &mut Binds) -> String {
        if self.is_empty() {
            return String::new();
        }
        let days: Vec<String> = self
            .0
            .iter()
            .map(|(connection, day)| {
                format!(
                    "(connection_id = {} AND day = {})",
                    binds.text(connection),
                    binds.int(*day)
                )
            })
            .collect();
        format!(" AND NOT ({})", days.join(" OR "))
    }

    /// Whether a marked day of any connection lies in `[start, end)`.
    pub(super) fn any_within(&self, start: i64, end: i64) -> bool {
        self.0.iter().any(|(_, day)| (start..end).contains(day))
    }

    /// ` AND (…)`: stored rows of these days only, by their `connection` and `created` columns.
    pub(super) fn only(&self, binds: &mut Binds, connection: &str, created: &str) -> String {
        let days: Vec<String> = self
            .0
            .iter()
            .map(|(id, day)| {
                format!(
                    "({connection} = {} AND {created} >= {} AND {created} < {})",
                    binds.text(id),
                    binds.int(*day),
                    binds.int(day + DAY)
                )
            })
            .collect();
        format!(" AND ({})", days.join(" OR "))
    }
}

/// One marked day of one connection.
struct MarkedDay {
    account_id: String,
    connection_id: String,
    day: i64,
    /// The day's generation when it was found marked: the rows computed after reading it reflect every write up to
    /// it.
    generation: i64,
}

/// How marking a day already listed in `payment_rollup_days` updates it: one more generation, marked again now, and
/// dirty since now unless it already was (the `excluded` row carries now).
const MARK_AGAIN: &str = "ON CONFLICT (connection_id, day) DO UPDATE SET
    generation = payment_rollup_days.generation + 1,
    last_marked_at = excluded.last_marked_at,
    dirty_since = CASE WHEN payment_rollup_days.generation > payment_rollup_days.refreshed_generation
                       THEN payment_rollup_days.dirty_since ELSE excluded.dirty_since END";

/// How long a day must go unwritten before the background refresher recomputes it: a day written every second
/// (today, under live traffic) would otherwise be recomputed by every cycle for nothing, as reads count a marked
/// day from the payments anyway.
pub const DAY_QUIET_FOR: i64 = 30;

/// How long a day may stay marked while it keeps being written, before it is recomputed anyway (reads of it count
/// its payments directly until then).
pub const DAY_DIRTY_AT_MOST: i64 = 15 * 60;

/// What a refresh may recompute: marked days written last at or before `days_quiet_since` or marked since at or
/// before `days_dirty_since`, and blocks ending at or before `blocks_ending_by`.
#[derive(Debug, Clone, Copy)]
pub struct RefreshCutoffs {
    /// Days last written by then are recomputed.
    pub days_quiet_since: i64,
    /// Days out of date since then are recomputed even while they keep being written.
    pub days_dirty_since: i64,
    /// Blocks ending by then are recomputed (a block holding today is rewritten by every live payment, and no
    /// "last N days" period holds it whole).
    pub blocks_ending_by: i64,
}

impl RefreshCutoffs {
    /// What the background refresher recomputes at `now`.
    pub fn at(now: i64) -> Self {
        RefreshCutoffs {
            days_quiet_since: now - DAY_QUIET_FOR,
            days_dirty_since: now - DAY_DIRTY_AT_MOST,
            blocks_ending_by: day_start(now),
        }
    }

    /// Every marked day and block (what a benchmark or a test that reads settled rollups needs).
    pub fn everything() -> Self {
        RefreshCutoffs {
            days_quiet_since: i64::MAX,
            days_dirty_since: i64::MAX,
            blocks_ending_by: i64::MAX,
        }
    }
}

/// Marks the UTC days of `created` times as needing their rollups recomputed, inside the caller's transaction
/// (the one that wrote the payments).
pub(super) async fn mark_days_in(
    conn: &mut AnyConnection,
    account_id: &str,
    connection_id: &str,
    created: impl Iterator<Item = i64>,
) -> StoreResult<()> {
    let mut days: Vec<i64> = created.map(day_start).collect();
    days.sort_unstable();
    days.dedup();
    let now = unix_now();
    for chunk in days.chunks(INSERT_ROWS) {
        // Each row's placeholders, then the marking time twice (an integer literal).
        let rows =
            values_placeholders(conn, chunk.len(), 3).replace(')', &format!(", {now}, {now})"));
        let sql = format!(
            "INSERT INTO payment_rollup_days (account_id, connection_id, day, last_marked_at, dirty_since)
             VALUES {rows} {MARK_AGAIN}"
        );
        let mut query = sqlx::query(&sql);
        for day in chunk {
            query = query.bind(account_id).bind(connection_id).bind(*day);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The `SELECT` that computes one connection-day of `payment_rollups`: the base rows grouped by currency and card
/// attributes, the totals per currency, then one group of rows per rolled-up dimension; all of it once over every
/// attempt and once over deciding attempts; last the card-details rows. Columns: basis, dimension, value, currency,
/// card brand, funding and country, then the measures in the order of [`PAYMENT_MEASURES`]. Binds: account,
/// connection, day start, day end.
fn rollup_select() -> String {
    let mut selects = Vec::new();
    for (basis, deciding_only) in [(ATTEMPTS, ""), (INTENTS, " AND decisive = 1")] {
        let source = format!(
            "FROM payments WHERE account_id = $1 AND connection_id = $2 AND created >= $3 AND created < $4 \
             AND amount > 0{deciding_only}"
        );
        selects.push(format!(
            "SELECT '{basis}', '', '', currency, COALESCE(card_brand, ''), COALESCE(card_funding, ''),
                    COALESCE(card_country, ''), {PAYMENT_MEASURES}
             {source}
             GROUP BY currency, COALESCE(card_brand, ''), COALESCE(card_funding, ''), COALESCE(card_country, '')"
        ));
        // Totals per currency: what the KPIs and time series read when no card filter applies.
        selects.push(format!(
            "SELECT '{basis}', '{TOTALS}', '', currency, '', '', '', {PAYMENT_MEASURES} {source}
             GROUP BY currency"
        ));
        for dimension in ROLLED_UP_DIMENSIONS {
            let column = dimension_column(*dimension);
            selects.push(format!(
                "SELECT '{basis}', '{name}', COALESCE({column}, ''), currency, '', '', '', {PAYMENT_MEASURES}
                 {source}
                 GROUP BY currency, COALESCE({column}, '')",
                name = dimension.as_str()
            ));
        }
        if basis == ATTEMPTS {
            for dimension in CARDED_DIMENSIONS {
                let column = dimension_column(*dimension);
                selects.push(format!(
                    "SELECT '{basis}', '{name}', COALESCE({column}, ''), currency, COALESCE(card_brand, ''),
                            COALESCE(card_funding, ''), COALESCE(card_country, ''), {PAYMENT_MEASURES}
                     {source}
                     GROUP BY currency, COALESCE({column}, ''), COALESCE(card_brand, ''),
                              COALESCE(card_funding, ''), COALESCE(card_country, '')",
                    name = carded_dimension(*dimension)
                ));
            }
        }
    }
    // Card payments by the details they carry, verifications included: they show a card's details as payments do.
    selects.push(format!(
        "SELECT '{ATTEMPTS}', '{CARD_DETAILS}', {CARD_DETAILS_VALUE}, currency, '', '', '', {PAYMENT_MEASURES}
         FROM payments WHERE account_id = $1 AND connection_id = $2 AND created >= $3 AND created < $4
           AND payment_method_type = 'card'
         GROUP BY currency, {CARD_DETAILS_VALUE}"
    ));
    selects.join("\n UNION ALL\n")
}

/// Key columns of a `payment_rollups` row after account, connection and day, in [`rollup_select`]'s order.
pub(super) const PAYMENT_KEY_COLUMNS: &str =
    "basis, dimension, value, currency, card_brand, card_funding, card_country";
/// How many [`PAYMENT_KEY_COLUMNS`] there are (a unit test keeps the two in step).
pub(super) const PAYMENT_KEYS: usize = 7;
/// Measure columns of a `payment_rollups` row, in the order of [`PAYMENT_MEASURES`].
pub(super) const MEASURE_COLUMNS: &[&str] = &[
    "attempted",
    "approved",
    "declined",
    "pending",
    "attempted_amount",
    "approved_amount",
    "refunded",
    "refunded_amount",
    "disputed",
    "disputed_amount",
    "fees",
    "net",
    "fee_base",
    "pending_amount",
];
/// Key columns of an `object_rollups` row after account, connection and day.
const OBJECT_KEYS: usize = 4;
/// Count columns of an `object_rollups` row.
const OBJECT_MEASURE_COLUMNS: usize = 2;
/// Rows per multi-row `INSERT` of rollups: 500 × 24 parameters stays under SQLite's 32,766.
const INSERT_ROWS: usize = 500;

/// One computed rollup row: its text keys and integer measures, as selected.
pub(super) struct ComputedRow {
    pub(super) keys: Vec<String>,
    measures: Vec<i64>,
}

pub(super) fn computed_rows(
    rows: &[AnyRow],
    keys: usize,
    measures: usize,
) -> StoreResult<Vec<ComputedRow>> {
    rows.iter()
        .map(|row| {
            Ok(ComputedRow {
                keys: (0..keys)
                    .map(|i| row.try_get(i))
                    .collect::<Result<_, _>>()?,
                measures: (keys..keys + measures)
                    .map(|i| row.try_get(i))
                    .collect::<Result<_, _>>()?,
            })
        })
        .collect()
}

/// Inserts computed rows of one connection's day or block into `table`, in batches. Its columns are account,
/// connection, then `columns`: first those of `position` (the day, or the block's span and start), then the rows'
/// keys and measures.
pub(super) async fn insert_rows(
    conn: &mut AnyConnection,
    table: &str,
    columns: &str,
    (account_id, connection_id): (&str, &str),
    position: &[i64],
    rows: &[ComputedRow],
) -> StoreResult<()> {
    let Some(first) = rows.first() else {
        return Ok(());
    };
    let width = 2 + position.len() + first.keys.len() + first.measures.len();
    for batch in rows.chunks(INSERT_ROWS) {
        let sql = format!(
            "INSERT INTO {table} (account_id, connection_id, {columns}) VALUES {}",
            values_placeholders(conn, batch.len(), width)
        );
        let mut query = sqlx::query(&sql);
        for row in batch {
            query = query.bind(account_id).bind(connection_id);
            for value in position {
                query = query.bind(*value);
            }
            for key in &row.keys {
                query = query.bind(key);
            }
            for measure in &row.measures {
                query = query.bind(*measure);
            }
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

impl Store {
    /// The connection-days of `account_id` in `[start, end)` whose rollups are out of date: a rollup read counts
    /// those from the stored rows instead, so it is exact without recomputing anything (a busy day, written every
    /// second, would otherwise be recomputed by every read).
    pub(super) async fn stale_days(
        &self,
        account_id: &str,
        start: i64,
        end: i64,
    ) -> StoreResult<StaleDays> {
        let rows = sqlx::query(
            "SELECT connection_id, day FROM payment_rollup_days
             WHERE account_id = $1 AND day >= $2 AND day < $3 AND generation > refreshed_generation",
        )
        .bind(account_id)
        .bind(day_start(start))
        .bind(end)
        .fetch_all(&self.reader)
        .await?;
        Ok(StaleDays(
            rows.iter()
                .map(|row| Ok((row.try_get("connection_id")?, row.try_get("day")?)))
                .collect::<StoreResult<_>>()?,
        ))
    }

    /// Recomputes up to `limit` marked days of any account that `cutoffs` allow, newest first (the days dashboards
    /// show most), then, within the same limit, blocks whose days are all current. Returns the days and blocks
    /// recomputed (0 when none is due).
    pub async fn refresh_marked_rollups(
        &self,
        limit: i64,
        cutoffs: RefreshCutoffs,
    ) -> StoreResult<usize> {
        let days = self.refresh_marked_days(limit, cutoffs).await?;
        let left = limit - days as i64;
        if left <= 0 {
            return Ok(days);
        }
        Ok(days
            + self
                .refresh_marked_blocks(left, cutoffs.blocks_ending_by)
                .await?)
    }

    /// Recomputes up to `limit` marked days that `cutoffs` allow, newest first; returns how many.
    async fn refresh_marked_days(&self, limit: i64, cutoffs: RefreshCutoffs) -> StoreResult<usize> {
        let rows = sqlx::query(
            "SELECT account_id, connection_id, day, generation FROM payment_rollup_days
             WHERE generation > refreshed_generation AND (last_marked_at <= $2 OR dirty_since <= $3)
             ORDER BY day DESC LIMIT $1",
        )
        .bind(limit)
        .bind(cutoffs.days_quiet_since)
        .bind(cutoffs.days_dirty_since)
        .fetch_all(&self.reader)
        .await?;
        self.recompute_days(rows.iter().map(marked_day).collect::<StoreResult<_>>()?)
            .await
    }

    /// Recomputes each day: the rows are computed by the readers from a snapshot taken after the day's generation
    /// was read, then written in one short transaction of the (on SQLite, shared) writer, and only when no refresh
    /// has written a newer generation meanwhile. A day written to during the computation stays marked.
    async fn recompute_days(&self, days: Vec<MarkedDay>) -> StoreResult<usize> {
        if days.is_empty() {
            return Ok(0);
        }
        let payments_select = rollup_select();
        let objects_select = object_analytics::rollup_select(self.dialect);
        let lock = match self.dialect {
            // Two refreshes of one day on PostgreSQL take turns here; SQLite's one writer serialises them anyway.
            Dialect::Postgres => " FOR UPDATE",
            Dialect::Sqlite => "",
        };
        let mut done = 0;
        for marked in days {
            let mut computed = Vec::new();
            for select in [&payments_select, &objects_select] {
                computed.push(
                    sqlx::query(select)
                        .bind(&marked.account_id)
                        .bind(&marked.connection_id)
                        .bind(marked.day)
                        .bind(marked.day + DAY)
                        .fetch_all(&self.reader)
                        .await?,
                );
            }
            let payment_rows = computed_rows(&computed[0], PAYMENT_KEYS, MEASURE_COLUMNS.len())?;
            let object_rows = computed_rows(&computed[1], OBJECT_KEYS, OBJECT_MEASURE_COLUMNS)?;
            // Webhook acknowledgements wait on the same writer: let a pending one commit first.
            self.yield_to_urgent_writes(YIELD_AT_MOST).await;
            let mut tx = self.writer.begin().await?;
            let stored: i64 = sqlx::query(&format!(
                "SELECT refreshed_generation FROM payment_rollup_days WHERE connection_id = $1 AND day = $2{lock}"
            ))
            .bind(&marked.connection_id)
            .bind(marked.day)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            if stored >= marked.generation {
                continue;
            }
            for table in ["payment_rollups", "object_rollups"] {
                sqlx::query(&format!(
                    "DELETE FROM {table} WHERE connection_id = $1 AND day = $2"
                ))
                .bind(&marked.connection_id)
                .bind(marked.day)
                .execute(&mut *tx)
                .await?;
            }
            let owner = (marked.account_id.as_str(), marked.connection_id.as_str());
            insert_rows(
                &mut tx,
                "payment_rollups",
                &format!("day, {PAYMENT_KEY_COLUMNS}, {}", MEASURE_COLUMNS.join(", ")),
                owner,
                &[marked.day],
                &payment_rows,
            )
            .await?;
            insert_rows(
                &mut tx,
                "object_rollups",
                "day, kind, grouping, key, currency, count, amount",
                owner,
                &[marked.day],
                &object_rows,
            )
            .await?;
            // The day's blocks now sum outdated rows.
            mark_blocks_in(
                &mut tx,
                &marked.account_id,
                &marked.connection_id,
                marked.day,
            )
            .await?;
            sqlx::query(
                "UPDATE payment_rollup_days SET refreshed_generation = $3 WHERE connection_id = $1 AND day = $2",
            )
            .bind(&marked.connection_id)
            .bind(marked.day)
            .bind(marked.generation)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            done += 1;
        }
        Ok(done)
    }
}

fn marked_day(row: &AnyRow) -> StoreResult<MarkedDay> {
    Ok(MarkedDay {
        account_id: row.try_get("account_id")?,
        connection_id: row.try_get("connection_id")?,
        day: row.try_get("day")?,
        generation: row.try_get("generation")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_carded_dimension_has_rows_of_its_own_and_none_is_a_card_attribute() {
        for dimension in CARDED_DIMENSIONS {
            assert!(!carded_dimension(*dimension).is_empty(), "{dimension:?}");
        }
        assert_eq!(CARDED_DIMENSIONS.len() + 3, ROLLED_UP_DIMENSIONS.len());
    }

    #[test]
    fn the_key_count_matches_the_key_columns() {
        assert_eq!(PAYMENT_KEYS, PAYMENT_KEY_COLUMNS.split(", ").count());
    }
}
