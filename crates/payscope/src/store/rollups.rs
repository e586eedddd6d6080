//! Daily rollups (migrations 0006 and 0008): every write of payments, or of the objects the dashboards count
//! (disputes, refunds, payouts, balance transactions), marks its UTC day in `payment_rollup_days` in the same
//! transaction, and a refresh recomputes a marked day's rows of `payment_rollups` and `object_rollups` from the
//! stored data with the same expressions as the direct queries, so a rollup is never a second definition of a
//! number.
//!
//! Refreshes run in two places: a background task drains every marked day (so a dashboard rarely finds one), and
//! each rollup read first refreshes the marked days of its own period (so a dashboard is never stale). A refresh
//! claims a day by deleting its mark in the transaction that recomputes it: a payment written meanwhile marks the
//! day again and the next refresh picks it up; two refreshes never recompute one day at once.

use sqlx::AnyConnection;
use sqlx::Row;

use super::analytics::{PAYMENT_MEASURES, dimension_column};
pub(super) use super::object_analytics::ROLLED_UP_OBJECT_TYPES;
use super::{Store, StoreResult, object_analytics};
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

/// The `basis` of rows counting every attempt.
pub(super) const ATTEMPTS: &str = "attempt";

/// The `basis` of rows counting deciding attempts only: each payment intent once (retries deduplicated).
pub(super) const INTENTS: &str = "intent";

/// The `dimension` of the rows holding a day's totals per currency.
pub(super) const TOTALS: &str = "total";

/// One marked day of one connection.
struct MarkedDay {
    account_id: String,
    connection_id: String,
    day: i64,
}

/// Marks the UTC days of `created` times as needing their rollups recomputed, inside the caller's transaction
/// (the one that wrote the payments).
pub(super) async fn mark_days_in(
    conn: &mut AnyConnection,
    account_id: &str,
    connection_id: &str,
    created: impl Iterator<Item = i64>,
) -> StoreResult<()> {
    let mut days: Vec<i64> = created.map(|t| t.div_euclid(DAY) * DAY).collect();
    days.sort_unstable();
    days.dedup();
    for chunk in days.chunks(200) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("($1, $2, ${})", i + 3))
            .collect();
        let sql = format!(
            "INSERT INTO payment_rollup_days (account_id, connection_id, day) VALUES {}
             ON CONFLICT (connection_id, day) DO NOTHING",
            rows.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(account_id).bind(connection_id);
        for day in chunk {
            query = query.bind(*day);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Marks the days of every attempt of `intents`: when a retry succeeds, the deciding attempt of its intent moves,
/// possibly from another day.
pub(super) async fn mark_intent_days_in(
    conn: &mut AnyConnection,
    account_id: &str,
    connection_id: &str,
    intents: &[&str],
) -> StoreResult<()> {
    for chunk in intents.chunks(200) {
        let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = format!(
            "INSERT INTO payment_rollup_days (account_id, connection_id, day)
             SELECT DISTINCT $1, connection_id, (created / {DAY}) * {DAY} FROM payments
             WHERE connection_id = $2 AND payment_intent_id IN ({})
             ON CONFLICT (connection_id, day) DO NOTHING",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(account_id).bind(connection_id);
        for intent in chunk {
            query = query.bind(*intent);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The `INSERT … SELECT` that recomputes one connection-day: the base rows grouped by currency and card
/// attributes, the totals per currency, then one group of rows per rolled-up dimension; all of it once over every
/// attempt and once over deciding attempts. Binds: account, connection, day start, day end.
/// The column list follows the order of [`PAYMENT_MEASURES`].
fn recompute_sql() -> String {
    let mut selects = Vec::new();
    for (basis, deciding_only) in [(ATTEMPTS, ""), (INTENTS, " AND decisive = 1")] {
        let source = format!(
            "FROM payments WHERE account_id = $1 AND connection_id = $2 AND created >= $3 AND created < $4 \
             AND amount > 0{deciding_only}"
        );
        selects.push(format!(
            "SELECT $1, $2, $3, '{basis}', '', '', currency, COALESCE(card_brand, ''), COALESCE(card_funding, ''),
                    COALESCE(card_country, ''), {PAYMENT_MEASURES}
             {source}
             GROUP BY currency, COALESCE(card_brand, ''), COALESCE(card_funding, ''), COALESCE(card_country, '')"
        ));
        // Totals per currency: what the KPIs and time series read when no card filter applies.
        selects.push(format!(
            "SELECT $1, $2, $3, '{basis}', '{TOTALS}', '', currency, '', '', '', {PAYMENT_MEASURES} {source}
             GROUP BY currency"
        ));
        for dimension in ROLLED_UP_DIMENSIONS {
            let column = dimension_column(*dimension);
            selects.push(format!(
                "SELECT $1, $2, $3, '{basis}', '{name}', COALESCE({column}, ''), currency, '', '', '',
                        {PAYMENT_MEASURES}
                 {source}
                 GROUP BY currency, COALESCE({column}, '')",
                name = dimension.as_str()
            ));
        }
    }
    format!(
        "INSERT INTO payment_rollups (account_id, connection_id, day, basis, dimension, value, currency, card_brand,
             card_funding, card_country, attempted, approved, declined, pending, attempted_amount, approved_amount,
             refunded, refunded_amount, disputed, disputed_amount, fees, net, fee_base, pending_amount)
         {}",
        selects.join("\n UNION ALL\n")
    )
}

impl Store {
    /// Recomputes the marked days of `account_id` in `[start, end)`, so a rollup read of that period is exact.
    /// Cheap when nothing is marked (one indexed read). Returns the days recomputed.
    pub async fn refresh_rollups(
        &self,
        account_id: &str,
        start: i64,
        end: i64,
    ) -> StoreResult<usize> {
        let rows = sqlx::query(
            "SELECT account_id, connection_id, day FROM payment_rollup_days
             WHERE account_id = $1 AND day >= $2 AND day < $3",
        )
        .bind(account_id)
        .bind(start.div_euclid(DAY) * DAY)
        .bind(end)
        .fetch_all(&self.reader)
        .await?;
        self.recompute_days(rows.iter().map(marked_day).collect::<StoreResult<_>>()?)
            .await
    }

    /// Recomputes up to `limit` marked days of any account, newest first (the days dashboards show most). The
    /// background refresher calls it; returns the days recomputed (0 when none is marked).
    pub async fn refresh_marked_rollups(&self, limit: i64) -> StoreResult<usize> {
        let rows = sqlx::query(
            "SELECT account_id, connection_id, day FROM payment_rollup_days ORDER BY day DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.reader)
        .await?;
        self.recompute_days(rows.iter().map(marked_day).collect::<StoreResult<_>>()?)
            .await
    }

    /// Recomputes each day in its own short transaction (the SQLite writer is shared with the import and the
    /// webhook inbox), claiming it by deleting its mark; a day another refresh claimed first is skipped.
    async fn recompute_days(&self, days: Vec<MarkedDay>) -> StoreResult<usize> {
        if days.is_empty() {
            return Ok(0);
        }
        let recompute = recompute_sql();
        let recompute_objects = object_analytics::recompute_sql(self.dialect);
        let mut done = 0;
        for marked in days {
            let mut tx = self.writer.begin().await?;
            let claimed = sqlx::query(
                "DELETE FROM payment_rollup_days WHERE connection_id = $1 AND day = $2",
            )
            .bind(&marked.connection_id)
            .bind(marked.day)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if claimed == 0 {
                continue;
            }
            sqlx::query("DELETE FROM payment_rollups WHERE connection_id = $1 AND day = $2")
                .bind(&marked.connection_id)
                .bind(marked.day)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM object_rollups WHERE connection_id = $1 AND day = $2")
                .bind(&marked.connection_id)
                .bind(marked.day)
                .execute(&mut *tx)
                .await?;
            for sql in [&recompute, &recompute_objects] {
                sqlx::query(sql)
                    .bind(&marked.account_id)
                    .bind(&marked.connection_id)
                    .bind(marked.day)
                    .bind(marked.day + DAY)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            done += 1;
        }
        Ok(done)
    }
}

fn marked_day(row: &sqlx::any::AnyRow) -> StoreResult<MarkedDay> {
    Ok(MarkedDay {
        account_id: row.try_get("account_id")?,
        connection_id: row.try_get("connection_id")?,
        day: row.try_get("day")?,
    })
}
