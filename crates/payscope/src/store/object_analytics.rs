//! The SQL of object analytics: disputes and refunds (by reason, status or time; card filters through their
//! charge), payouts, and balance-transaction fee lines by fee type, read from the daily object rollups when they
//! answer exactly and from the stored Stripe JSON otherwise.
//!
//! Every query is scoped by account and groups by connection and currency. Only whitelisted names and integer
//! literals are formatted into SQL; every value is bound.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::analytics::{Binds, has_card_filters};
use super::rollups::{StaleDays, on_day_boundary};
use super::{Dialect, Store, StoreResult};
use crate::domain::analytics::Filter;

/// Stored Stripe objects an object breakdown can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// Disputes (filtered through their charge's card attributes).
    Dispute,
    /// Refunds (filtered through their charge's card attributes).
    Refund,
    /// Payouts (card filters do not apply: a payout is not a card payment).
    Payout,
}

impl ObjectKind {
    fn object_type(self) -> &'static str {
        match self {
            ObjectKind::Dispute => "dispute",
            ObjectKind::Refund => "refund",
            ObjectKind::Payout => "payout",
        }
    }
}

/// How an object breakdown groups (always also by connection and currency).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectGroup {
    /// One row per connection and currency.
    Total,
    /// Per time bucket of this many seconds, by the object's `created`.
    Time(i64),
    /// Per `reason` (disputes, refunds).
    Reason,
    /// Per `status` (disputes: won, lost, needs_response, …; payouts: paid, failed, …).
    Status,
}

/// One group of an object breakdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRow {
    /// The data connection.
    pub connection_id: String,
    /// The currency of `amount`.
    pub currency: String,
    /// The group key (bucket start as text, reason, status, or `""`).
    pub key: String,
    /// Objects in the group.
    pub count: i64,
    /// Their summed `amount`.
    pub amount: i64,
}

/// The object types whose days the object rollups cover: a write of one marks its day.
pub(super) const ROLLED_UP_OBJECT_TYPES: &[&str] =
    &["dispute", "refund", "payout", "balance_transaction"];

/// A top-level field of a stored object (alias `o`) as text.
fn field(dialect: Dialect, name: &str) -> String {
    match dialect {
        Dialect::Sqlite => format!("json_extract(o.json, '$.{name}')"),
        Dialect::Postgres => format!("(CAST(o.json AS JSONB) ->> '{name}')"),
    }
}

/// The `amount` of a stored object (alias `o`) as an integer.
fn amount(dialect: Dialect) -> String {
    match dialect {
        Dialect::Sqlite => field(dialect, "amount"),
        Dialect::Postgres => format!("CAST({} AS BIGINT)", field(dialect, "amount")),
    }
}

/// How one dialect spreads a balance transaction's `fee_details` into rows (alias `f`) and reads their fields.
struct FeeLines {
    lines: &'static str,
    fee_type: &'static str,
    amount: &'static str,
    currency: &'static str,
}

fn fee_lines(dialect: Dialect) -> FeeLines {
    match dialect {
        Dialect::Sqlite => FeeLines {
            lines: "json_each(o.json, '$.fee_details') f",
            fee_type: "json_extract(f.value, '$.type')",
            amount: "json_extract(f.value, '$.amount')",
            currency: "json_extract(f.value, '$.currency')",
        },
        Dialect::Postgres => FeeLines {
            lines: "jsonb_array_elements(CAST(o.json AS JSONB) -> 'fee_details') f(value)",
            fee_type: "(f.value ->> 'type')",
            amount: "CAST(f.value ->> 'amount' AS BIGINT)",
            currency: "(f.value ->> 'currency')",
        },
    }
}

/// The `SELECT` that computes one connection-day of `object_rollups`: disputes, refunds and payouts by
/// reason and by status (every object has one status row, so totals and time series sum
/// those), and fee lines by type. Columns: kind, grouping, key, currency, count, amount. Binds: account,
/// connection, day start, day end.
pub(super) fn rollup_select(dialect: Dialect) -> String {
    let source = |types: &str| {
        format!(
            "FROM stripe_objects o WHERE o.account_id = $1 AND o.connection_id = $2 AND o.object_type IN ({types})
             AND o.created >= $3 AND o.created < $4 AND o.deleted = 0"
        )
    };
    let currency = format!("COALESCE({}, '')", field(dialect, "currency"));
    let amount = amount(dialect);
    let mut selects = Vec::new();
    for (grouping, types) in [
        // Payouts have no reason: their rows keep the direct query's answer, one group `''`.
        ("reason", "'dispute', 'refund', 'payout'"),
        ("status", "'dispute', 'refund', 'payout'"),
    ] {
        let key = format!("COALESCE({}, '')", field(dialect, grouping));
        selects.push(format!(
            "SELECT o.object_type, '{grouping}', {key}, {currency}, CAST(COUNT(*) AS BIGINT),
                    CAST(COALESCE(SUM({amount}), 0) AS BIGINT)
             {} GROUP BY o.object_type, {key}, {currency}",
            source(types)
        ));
    }
    let fee = fee_lines(dialect);
    selects.push(format!(
        "SELECT 'fee', '', COALESCE({fee_type}, ''), COALESCE({fee_currency}, ''),
                CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM({fee_amount}), 0) AS BIGINT)
         FROM stripe_objects o CROSS JOIN {lines}
         WHERE o.account_id = $1 AND o.connection_id = $2 AND o.object_type = 'balance_transaction'
           AND o.created >= $3 AND o.created < $4 AND o.deleted = 0
         GROUP BY COALESCE({fee_type}, ''), COALESCE({fee_currency}, '')",
        fee_type = fee.fee_type,
        fee_currency = fee.currency,
        fee_amount = fee.amount,
        lines = fee.lines,
    ));
    selects.join("\n UNION ALL\n")
}

/// ` AND o.connection_id IN (…)`: the filter's connections, else every connection of the account (`account` is its
/// bound placeholder). Stored objects are indexed by connection, type and time, so naming the connections lets a
/// period's objects be found by the index instead of scanning every object of the account.
fn connections_of(binds: &mut Binds, account: &str, filter: &Filter) -> String {
    if filter.connections.is_empty() {
        format!(" AND o.connection_id IN (SELECT id FROM connections WHERE account_id = {account})")
    } else {
        binds.any_of("o.connection_id", &filter.connections)
    }
}

/// Whether the object rollups answer a query over `filter` exactly: a period of whole UTC days, and no card
/// filter where it would apply (disputes and refunds are filtered through their charge, which rollups do not
/// carry).
fn rollups_answer(filter: &Filter, card_filters_apply: bool) -> bool {
    on_day_boundary(filter.period.start)
        && on_day_boundary(filter.period.end)
        && !(card_filters_apply && has_card_filters(filter))
}

/// Sums rows of the same connection, currency and key (rollup rows of current days with counts of marked days),
/// in (connection, currency, key) order.
fn merge_objects(rows: Vec<ObjectRow>) -> Vec<ObjectRow> {
    let mut merged: std::collections::BTreeMap<(String, String, String), (i64, i64)> =
        std::collections::BTreeMap::new();
    for row in rows {
        let sums = merged
            .entry((row.connection_id, row.currency, row.key))
            .or_default();
        sums.0 += row.count;
        sums.1 += row.amount;
    }
    merged
        .into_iter()
        .map(
            |((connection_id, currency, key), (count, amount))| ObjectRow {
                connection_id,
                currency,
                key,
                count,
                amount,
            },
        )
        .collect()
}

/// Orders rows by (connection, currency, key) here rather than in SQL, whose text collations differ between the
/// databases, so both sources of a breakdown agree.
fn sort_objects(rows: &mut [ObjectRow]) {
    rows.sort_by(|a, b| {
        (&a.connection_id, &a.currency, &a.key).cmp(&(&b.connection_id, &b.currency, &b.key))
    });
}

fn object_row(row: &AnyRow) -> StoreResult<ObjectRow> {
    Ok(ObjectRow {
        connection_id: row.try_get("c")?,
        currency: row.try_get("cur")?,
        key: row.try_get("k")?,
        count: row.try_get("n")?,
        amount: row.try_get("amount")?,
    })
}

impl Store {
    /// Disputes, refunds or payouts of `account_id` created in the filter's period, grouped by connection,
    /// currency and `group`. Disputes and refunds honour the card filters through their charge; payouts honour
    /// only the connection and currency filters.
    pub async fn object_breakdown(
        &self,
        account_id: &str,
        filter: &Filter,
        kind: ObjectKind,
        group: ObjectGroup,
    ) -> StoreResult<Vec<ObjectRow>> {
        let bucket_is_days = match group {
            ObjectGroup::Time(bucket) => bucket > 0 && on_day_boundary(bucket),
            _ => true,
        };
        if bucket_is_days && rollups_answer(filter, kind != ObjectKind::Payout) {
            let (grouping, key) = match group {
                ObjectGroup::Total => ("status", "CAST('' AS TEXT)".to_owned()),
                ObjectGroup::Time(bucket) => (
                    "status",
                    format!("CAST((day / {bucket}) * {bucket} AS TEXT)"),
                ),
                ObjectGroup::Reason => ("reason", "key".to_owned()),
                ObjectGroup::Status => ("status", "key".to_owned()),
            };
            let stale = self
                .stale_days(account_id, filter.period.start, filter.period.end)
                .await?;
            let mut rows = self
                .object_rollup_read(
                    account_id,
                    filter,
                    kind.object_type(),
                    grouping,
                    &key,
                    &stale,
                )
                .await?;
            if !stale.is_empty() {
                rows.extend(
                    self.direct_object_breakdown(account_id, filter, kind, group, Some(&stale))
                        .await?,
                );
            }
            return Ok(merge_objects(rows));
        }
        let mut rows = self
            .direct_object_breakdown(account_id, filter, kind, group, None)
            .await?;
        sort_objects(&mut rows);
        Ok(rows)
    }

    /// Fees of `account_id`'s balance transactions created in the filter's period, by connection, currency and
    /// fee type (`stripe_fee`, `application_fee`, `tax`, …); `count` is the number of fee lines.
    pub async fn fees_by_type(
        &self,
        account_id: &str,
        filter: &Filter,
    ) -> StoreResult<Vec<ObjectRow>> {
        if rollups_answer(filter, false) {
            let stale = self
                .stale_days(account_id, filter.period.start, filter.period.end)
                .await?;
            let mut rows = self
                .object_rollup_read(account_id, filter, "fee", "", "key", &stale)
                .await?;
            if !stale.is_empty() {
                rows.extend(
                    self.direct_fees_by_type(account_id, filter, Some(&stale))
                        .await?,
                );
            }
            return Ok(merge_objects(rows));
        }
        let mut rows = self.direct_fees_by_type(account_id, filter, None).await?;
        sort_objects(&mut rows);
        Ok(rows)
    }

    /// Sums object rollup rows of one kind and grouping over the filter's period (except the `stale` days),
    /// grouped by connection, currency and `key` (an expression over the rollup row).
    async fn object_rollup_read(
        &self,
        account_id: &str,
        filter: &Filter,
        kind: &str,
        grouping: &str,
        key: &str,
        stale: &StaleDays,
    ) -> StoreResult<Vec<ObjectRow>> {
        let mut binds = Binds::default();
        let account = binds.text(account_id);
        let kind = binds.text(kind);
        let grouping = binds.text(grouping);
        let start = binds.int(filter.period.start);
        let end = binds.int(filter.period.end);
        let mut conditions = format!(
            "account_id = {account} AND kind = {kind} AND grouping = {grouping} AND day >= {start} AND day < {end}"
        );
        conditions += &binds.any_of("connection_id", &filter.connections);
        conditions += &binds.any_of("currency", &filter.currencies);
        conditions += &stale.excluded(&mut binds);
        let sql = format!(
            "SELECT connection_id AS c, currency AS cur, {key} AS k, CAST(SUM(count) AS BIGINT) AS n,
                    CAST(SUM(amount) AS BIGINT) AS amount
             FROM object_rollups WHERE {conditions}
             GROUP BY connection_id, currency, {key} ORDER BY c, cur, k"
        );
        self.object_rows(&sql, binds).await
    }

    /// [`Store::object_breakdown`] counted from the stored objects (of the `only` days, when given).
    async fn direct_object_breakdown(
        &self,
        account_id: &str,
        filter: &Filter,
        kind: ObjectKind,
        group: ObjectGroup,
        only: Option<&StaleDays>,
    ) -> StoreResult<Vec<ObjectRow>> {
        let field = |name: &str| field(self.dialect, name);
        let mut binds = Binds::default();
        let account = binds.text(account_id);
        let object_type = binds.text(kind.object_type());
        let start = binds.int(filter.period.start);
        let end = binds.int(filter.period.end);
        let currency = field("currency");
        let mut conditions = format!(
            "o.account_id = {account} AND o.object_type = {object_type} AND o.created >= {start}
             AND o.created < {end} AND o.deleted = 0"
        );
        conditions += &connections_of(&mut binds, &account, filter);
        conditions += &binds.any_of(&currency, &filter.currencies);
        if let Some(days) = only {
            conditions += &days.only(&mut binds, "o.connection_id", "o.created");
        }
        let mut join = String::new();
        if kind != ObjectKind::Payout && has_card_filters(filter) {
            join = format!(
                "JOIN payments p ON p.connection_id = o.connection_id AND p.charge_id = {}",
                field("charge")
            );
            conditions += &binds.any_of("p.card_brand", &filter.brands);
            conditions += &binds.any_of("p.card_funding", &filter.funding);
            conditions += &binds.any_of("p.card_country", &filter.countries);
        }
        let key = match group {
            ObjectGroup::Total => "CAST('' AS TEXT)".to_owned(),
            ObjectGroup::Time(bucket) => format!("CAST((o.created / {bucket}) * {bucket} AS TEXT)"),
            ObjectGroup::Reason => format!("COALESCE({}, '')", field("reason")),
            ObjectGroup::Status => format!("COALESCE({}, '')", field("status")),
        };
        let amount = amount(self.dialect);
        let sql = format!(
            "SELECT c, cur, k, CAST(COUNT(*) AS BIGINT) AS n, CAST(COALESCE(SUM(a), 0) AS BIGINT) AS amount
             FROM (SELECT o.connection_id AS c, COALESCE({currency}, '') AS cur, {key} AS k, {amount} AS a
                   FROM stripe_objects o {join} WHERE {conditions}) g
             GROUP BY c, cur, k ORDER BY c, cur, k"
        );
        self.object_rows(&sql, binds).await
    }

    /// [`Store::fees_by_type`] counted from the stored balance transactions (of the `only` days, when given).
    async fn direct_fees_by_type(
        &self,
        account_id: &str,
        filter: &Filter,
        only: Option<&StaleDays>,
    ) -> StoreResult<Vec<ObjectRow>> {
        let mut binds = Binds::default();
        let account = binds.text(account_id);
        let start = binds.int(filter.period.start);
        let end = binds.int(filter.period.end);
        let FeeLines {
            lines,
            fee_type,
            amount: fee_amount,
            currency: fee_currency,
        } = fee_lines(self.dialect);
        let mut conditions = format!(
            "o.account_id = {account} AND o.object_type = 'balance_transaction' AND o.created >= {start}
             AND o.created < {end} AND o.deleted = 0"
        );
        conditions += &connections_of(&mut binds, &account, filter);
        conditions += &binds.any_of(fee_currency, &filter.currencies);
        if let Some(days) = only {
            conditions += &days.only(&mut binds, "o.connection_id", "o.created");
        }
        let sql = format!(
            "SELECT c, cur, k, CAST(COUNT(*) AS BIGINT) AS n, CAST(COALESCE(SUM(a), 0) AS BIGINT) AS amount
             FROM (SELECT o.connection_id AS c, COALESCE({fee_currency}, '') AS cur,
                          COALESCE({fee_type}, '') AS k, {fee_amount} AS a
                   FROM stripe_objects o CROSS JOIN {lines} WHERE {conditions}) g
             GROUP BY c, cur, k ORDER BY c, cur, k"
        );
        self.object_rows(&sql, binds).await
    }

    /// Runs an object breakdown query (columns `c`, `cur`, `k`, `n`, `amount`) on the readers.
    async fn object_rows(&self, sql: &str, binds: Binds) -> StoreResult<Vec<ObjectRow>> {
        let rows = binds
            .apply(sqlx::query(sql))
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(object_row).collect()
    }
}
