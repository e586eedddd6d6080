//! The SQL of payment analytics: breakdowns of payments (by time bucket or by a card/outcome attribute, per data
//! connection and currency) under the approval rules, breakdowns of disputes, refunds and payouts read from the
//! stored Stripe JSON, fees by fee type, and the card-data quality of a connection.
//!
//! Every query is scoped by account and groups by connection and currency, so series per connection come out
//! directly and no amount is ever added across currencies here. Only whitelisted column names and integer
//! literals are formatted into SQL; every value is bound.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::rollup_blocks::RollupCover;
use super::rollups::{
    ATTEMPTS, CARD_DETAILS, CARD_DETAILS_VALUE, CARDED_DIMENSIONS, INTENTS, MEASURE_COLUMNS,
    ROLLED_UP_DIMENSIONS, StaleDays, TOTALS, carded_dimension, on_day_boundary,
};
use super::{Store, StoreResult};
use crate::domain::analytics::{DAY, Dimension, Filter, Measures};

/// How a payment breakdown groups its rows (always also by connection and currency).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// One row per connection and currency.
    Total,
    /// One row per time bucket of this many seconds (the key is the bucket's start, unix seconds).
    Time(i64),
    /// One row per value of a payment attribute (the key is the value, `""` when absent).
    Dimension(Dimension),
}

/// One group of a payment breakdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakdownRow {
    /// The data connection.
    pub connection_id: String,
    /// The currency of every amount in `measures`.
    pub currency: String,
    /// The group: a bucket start (as text), an attribute value, or `""` for totals.
    pub key: String,
    /// What the group holds.
    pub measures: Measures,
}

/// Card-data quality of one connection: how many card payments carry a BIN and a bank name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CardDetailsShare {
    /// Card payments counted.
    pub card_payments: i64,
    /// Those with a BIN (`iin`).
    pub with_bin: i64,
    /// Those with an issuing bank name.
    pub with_issuer: i64,
}

/// A payment lacking card details, listed for the data-quality page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentMissingDetails {
    /// Stripe's charge id.
    pub charge_id: String,
    /// When it was made.
    pub created: i64,
    /// Amount in minor units.
    pub amount: i64,
    /// Its currency.
    pub currency: String,
    /// Card brand, when known.
    pub card_brand: Option<String>,
    /// Whether the BIN is missing.
    pub missing_bin: bool,
    /// Whether the bank name is missing.
    pub missing_issuer: bool,
}

/// Bound values collected while a query's text is built, so placeholders and binds cannot drift apart.
#[derive(Default)]
pub(super) struct Binds {
    values: Vec<Bind>,
}

enum Bind {
    Text(String),
    Int(i64),
}

impl Binds {
    pub(super) fn text(&mut self, value: &str) -> String {
        self.values.push(Bind::Text(value.to_owned()));
        format!("${}", self.values.len())
    }

    pub(super) fn int(&mut self, value: i64) -> String {
        self.values.push(Bind::Int(value));
        format!("${}", self.values.len())
    }

    /// ` AND column IN ($a, $b)` for a non-empty list, nothing for an empty one.
    pub(super) fn any_of(&mut self, column: &str, values: &[String]) -> String {
        if values.is_empty() {
            return String::new();
        }
        let list: Vec<String> = values.iter().map(|v| self.text(v)).collect();
        format!(" AND {column} IN ({})", list.join(", "))
    }

    pub(super) fn apply<'q>(
        self,
        mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        for value in self.values {
            query = match value {
                Bind::Text(text) => query.bind(text),
                Bind::Int(int) => query.bind(int),
            };
        }
        query
    }
}

/// The measures of a group of payments rows (columns `status`, `amount`, `amount_refunded`, `disputed`, `fee`,
/// `net`), as the columns `Measures` is read from plus `pending_amount`. The direct queries and the rollup refresh
/// both use this one text, so a rolled-up number and a directly counted one cannot differ in definition.
pub(super) const PAYMENT_MEASURES: &str = "
                CAST(COUNT(*) AS BIGINT) AS attempted,
                CAST(SUM(CASE WHEN status = 'succeeded' THEN 1 ELSE 0 END) AS BIGINT) AS approved,
                CAST(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS BIGINT) AS declined,
                CAST(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) AS BIGINT) AS pending,
                CAST(SUM(amount) AS BIGINT) AS attempted_amount,
                CAST(SUM(CASE WHEN status = 'succeeded' THEN amount ELSE 0 END) AS BIGINT) AS approved_amount,
                CAST(SUM(CASE WHEN status = 'succeeded' AND amount_refunded > 0 THEN 1 ELSE 0 END) AS BIGINT)
                    AS refunded,
                CAST(SUM(CASE WHEN status = 'succeeded' THEN amount_refunded ELSE 0 END) AS BIGINT)
                    AS refunded_amount,
                CAST(SUM(CASE WHEN status = 'succeeded' AND disputed <> 0 THEN 1 ELSE 0 END) AS BIGINT)
                    AS disputed,
                CAST(SUM(CASE WHEN status = 'succeeded' AND disputed <> 0 THEN amount ELSE 0 END) AS BIGINT)
                    AS disputed_amount,
                CAST(COALESCE(SUM(CASE WHEN status = 'succeeded' THEN fee END), 0) AS BIGINT) AS fees,
                CAST(COALESCE(SUM(CASE WHEN status = 'succeeded' THEN net END), 0) AS BIGINT) AS net,
                CAST(SUM(CASE WHEN status = 'succeeded' AND fee IS NOT NULL THEN amount ELSE 0 END) AS BIGINT)
                    AS fee_base,
                CAST(SUM(CASE WHEN status = 'pending' THEN amount ELSE 0 END) AS BIGINT) AS pending_amount";

/// The payments column of a dimension.
pub(super) fn dimension_column(dimension: Dimension) -> &'static str {
    match dimension {
        Dimension::Brand => "card_brand",
        Dimension::Funding => "card_funding",
        Dimension::Country => "card_country",
        Dimension::Issuer => "card_issuer",
        Dimension::Bin => "card_iin",
        Dimension::Wallet => "wallet",
        Dimension::ThreeDSecure => "three_d_secure",
        Dimension::DeclineCode => "decline_code",
        Dimension::FailureCode => "failure_code",
        Dimension::AdviceCode => "advice_code",
        Dimension::NetworkStatus => "network_status",
        Dimension::OutcomeType => "outcome_type",
        Dimension::Status => "status",
        Dimension::Currency => "currency",
    }
}

/// The `WHERE` conditions on `payments` (alias `prefix`) for an account and a filter, without pending rules.
fn card_conditions(binds: &mut Binds, prefix: &str, filter: &Filter) -> String {
    let mut sql = binds.any_of(&format!("{prefix}connection_id"), &filter.connections);
    sql += &binds.any_of(&format!("{prefix}card_brand"), &filter.brands);
    sql += &binds.any_of(&format!("{prefix}card_funding"), &filter.funding);
    sql += &binds.any_of(&format!("{prefix}card_country"), &filter.countries);
    sql += &binds.any_of(&format!("{prefix}currency"), &filter.currencies);
    sql
}

pub(super) fn has_card_filters(filter: &Filter) -> bool {
    !(filter.brands.is_empty() && filter.funding.is_empty() && filter.countries.is_empty())
}

/// Which rollup rows answer a breakdown.
#[derive(Debug, Clone, Copy)]
enum RollupRows {
    /// The base rows: one per currency and card attributes.
    Base,
    /// The totals per currency.
    Totals,
    /// The rows of one rolled-up dimension.
    Dimension(Dimension),
    /// The rows of one dimension that also carry the card attributes (every attempt only).
    Carded(Dimension),
}

/// The rollup rows that answer `group` under `filter` exactly, `None` when only the payments can: for a period or
/// bucket that is not whole UTC days, or for a dimension under a card filter with retries deduplicated (carded
/// rows count every attempt only).
fn rollup_rows(filter: &Filter, group: GroupBy) -> Option<RollupRows> {
    if !on_day_boundary(filter.period.start) || !on_day_boundary(filter.period.end) {
        return None;
    }
    let card_filters = has_card_filters(filter);
    // The fewest rows that carry what the group and the filter need.
    let totals = if card_filters {
        RollupRows::Base
    } else {
        RollupRows::Totals
    };
    match group {
        GroupBy::Total | GroupBy::Dimension(Dimension::Currency) => Some(totals),
        GroupBy::Time(bucket) => (bucket > 0 && on_day_boundary(bucket)).then_some(totals),
        GroupBy::Dimension(Dimension::Brand | Dimension::Funding | Dimension::Country)
            if card_filters =>
        {
            Some(RollupRows::Base)
        }
        GroupBy::Dimension(d) if card_filters => (!filter.approval.dedup_retries
            && CARDED_DIMENSIONS.contains(&d))
        .then_some(RollupRows::Carded(d)),
        GroupBy::Dimension(d) => ROLLED_UP_DIMENSIONS
            .contains(&d)
            .then_some(RollupRows::Dimension(d)),
    }
}

impl Store {
    /// Payments of `account_id` matching `filter`, grouped by connection, currency and `group`, measured under the
    /// filter's approval rules. Verifications (zero-amount charges) are never counted.
    pub async fn payment_breakdown(
        &self,
        account_id: &str,
        filter: &Filter,
        group: GroupBy,
    ) -> StoreResult<Vec<BreakdownRow>> {
        if let Some(rollup) = rollup_rows(filter, group) {
            let stale = self
                .stale_days(account_id, filter.period.start, filter.period.end)
                .await?;
            let mut rows = self
                .rollup_breakdown(account_id, filter, group, rollup, &stale)
                .await?;
            if !stale.is_empty() {
                rows.extend(
                    self.direct_breakdown(account_id, filter, group, Some(&stale))
                        .await?,
                );
            }
            return Ok(merge_breakdowns(rows));
        }
        let mut rows = self
            .direct_breakdown(account_id, filter, group, None)
            .await?;
        // Ordered here, not by SQL (merged rows come out in this order): the databases' text collations differ, and
        // the two sources must agree.
        rows.sort_by(|a, b| {
            (&a.connection_id, &a.currency, &a.key).cmp(&(&b.connection_id, &b.currency, &b.key))
        });
        Ok(rows)
    }

    /// [`Store::payment_breakdown`] read from the daily rollups (see `rollup_rows` for when it applies).
    async fn rollup_breakdown(
        &self,
        account_id: &str,
        filter: &Filter,
        group: GroupBy,
        rows: RollupRows,
        stale: &StaleDays,
    ) -> StoreResult<Vec<BreakdownRow>> {
        // Time buckets read days (their totals rows are few); other groupings take whole blocks where they can.
        let cover = match group {
            GroupBy::Time(_) => RollupCover::days_only(filter.period.start, filter.period.end),
            _ => {
                self.rollup_cover(account_id, filter.period.start, filter.period.end, stale)
                    .await?
            }
        };
        let mut binds = Binds::default();
        let dimension = match rows {
            RollupRows::Base => "",
            RollupRows::Totals => TOTALS,
            RollupRows::Dimension(d) => d.as_str(),
            RollupRows::Carded(d) => carded_dimension(d),
        };
        let basis = if filter.approval.dedup_retries {
            INTENTS
        } else {
            ATTEMPTS
        };
        let columns = format!(
            "connection_id, currency, value, card_brand, card_funding, card_country, {}",
            MEASURE_COLUMNS.join(", ")
        );
        let mut arms = Vec::new();
        let mut sources: Vec<(&str, &str, String)> = Vec::new();
        if let Some(days) = cover.day_condition(&mut binds) {
            sources.push(("payment_rollups", "day", days));
        }
        for blocks in cover.block_conditions(&mut binds) {
            sources.push(("payment_rollup_blocks", "start", blocks));
        }
        for (table, position, range) in sources {
            let mut conditions = format!(
                "account_id = {} AND basis = {} AND dimension = {} AND {range}",
                binds.text(account_id),
                binds.text(basis),
                binds.text(dimension),
            );
            conditions += &card_conditions(&mut binds, "", filter);
            if table == "payment_rollups" {
                conditions += &stale.excluded(&mut binds);
            }
            arms.push(format!(
                "SELECT {position} AS day, {columns} FROM {table} WHERE {conditions}"
            ));
        }
        if arms.is_empty() {
            return Ok(Vec::new());
        }
        let key = match group {
            GroupBy::Total => "CAST('' AS TEXT)".to_owned(),
            // A day lies in one bucket: buckets are whole days (see `rollup_rows`).
            GroupBy::Time(bucket) => format!("CAST((day / {bucket}) * {bucket} AS TEXT)"),
            GroupBy::Dimension(d) => match rows {
                RollupRows::Base | RollupRows::Totals => dimension_column(d).to_owned(),
                RollupRows::Dimension(_) | RollupRows::Carded(_) => "value".to_owned(),
            },
        };
        // Excluding pending attempts subtracts them: only `attempted` and its amount count them besides `pending`.
        let (attempted, attempted_amount, pending, having) = if filter.approval.exclude_pending {
            (
                "SUM(attempted) - SUM(pending)",
                "SUM(attempted_amount) - SUM(pending_amount)",
                "0",
                // A group of pending attempts only has no row when they are excluded, as in the direct query.
                "HAVING SUM(attempted) - SUM(pending) > 0",
            )
        } else {
            (
                "SUM(attempted)",
                "SUM(attempted_amount)",
                "SUM(pending)",
                "",
            )
        };
        let sql = format!(
            "SELECT connection_id AS c, currency AS cur, {key} AS k,
                CAST({attempted} AS BIGINT) AS attempted, CAST(SUM(approved) AS BIGINT) AS approved,
                CAST(SUM(declined) AS BIGINT) AS declined, CAST({pending} AS BIGINT) AS pending,
                CAST({attempted_amount} AS BIGINT) AS attempted_amount,
                CAST(SUM(approved_amount) AS BIGINT) AS approved_amount,
                CAST(SUM(refunded) AS BIGINT) AS refunded, CAST(SUM(refunded_amount) AS BIGINT) AS refunded_amount,
                CAST(SUM(disputed) AS BIGINT) AS disputed, CAST(SUM(disputed_amount) AS BIGINT) AS disputed_amount,
                CAST(SUM(fees) AS BIGINT) AS fees, CAST(SUM(net) AS BIGINT) AS net,
                CAST(SUM(fee_base) AS BIGINT) AS fee_base
             FROM ({}) r
             GROUP BY connection_id, currency, {key} {having}
             ORDER BY c, cur, k",
            arms.join(" UNION ALL ")
        );
        let rows = binds
            .apply(sqlx::query(&sql))
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(breakdown_row).collect()
    }

    /// [`Store::payment_breakdown`] counted from the payments themselves (of the `only` days, when given).
    async fn direct_breakdown(
        &self,
        account_id: &str,
        filter: &Filter,
        group: GroupBy,
        only: Option<&StaleDays>,
    ) -> StoreResult<Vec<BreakdownRow>> {
        let mut binds = Binds::default();
        let account = binds.text(account_id);
        let start = binds.int(filter.period.start);
        let end = binds.int(filter.period.end);
        let mut conditions = format!(
            "account_id = {account} AND created >= {start} AND created < {end} AND amount > 0"
        );
        if filter.approval.exclude_pending {
            conditions += " AND status <> 'pending'";
        }
        conditions += &card_conditions(&mut binds, "", filter);
        let key = match group {
            GroupBy::Total => "CAST('' AS TEXT)".to_owned(),
            // Integer division floors: `created` is never negative.
            GroupBy::Time(bucket) => format!("CAST((created / {bucket}) * {bucket} AS TEXT)"),
            GroupBy::Dimension(d) => format!("COALESCE({}, '')", dimension_column(d)),
        };
        if filter.approval.dedup_retries {
            // Each payment intent once: its deciding attempt (see migration 0006).
            conditions += " AND decisive = 1";
        }
        if let Some(days) = only {
            conditions += &days.only(&mut binds, "connection_id", "created");
        }
        let source = format!(
            "SELECT connection_id AS c, currency AS cur, {key} AS k, status, amount, amount_refunded, disputed,
                fee, net
             FROM payments WHERE {conditions}"
        );
        let sql = format!(
            "SELECT c, cur, k, {PAYMENT_MEASURES}
             FROM ({source}) g
             GROUP BY c, cur, k
             ORDER BY c, cur, k"
        );
        let rows = binds
            .apply(sqlx::query(&sql))
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(breakdown_row).collect()
    }

    /// How many card payments of a connection (created at or after `since`, when given) carry a BIN and a bank
    /// name. Verifications count too: they show the card details as well as payments do. Over everything, the
    /// daily rollups answer (days still marked are counted from the payments); since a moment, the payments do.
    pub async fn card_details_share(
        &self,
        account_id: &str,
        connection_id: &str,
        since: Option<i64>,
    ) -> StoreResult<CardDetailsShare> {
        let Some(since) = since else {
            return self
                .card_details_share_rolled_up(account_id, connection_id)
                .await;
        };
        self.card_details_share_counted(account_id, connection_id, since, None)
            .await
    }

    /// [`Store::card_details_share`] over everything, from the rollups of current days and the payments of marked
    /// ones.
    async fn card_details_share_rolled_up(
        &self,
        account_id: &str,
        connection_id: &str,
    ) -> StoreResult<CardDetailsShare> {
        // Every payment's day lies in [0, EVER): the end is a day boundary in 2106.
        const EVER: i64 = (u32::MAX as i64 / DAY) * DAY;
        let stale = self.stale_days(account_id, 0, EVER).await?;
        let mut binds = Binds::default();
        let conditions = format!(
            "account_id = {} AND connection_id = {} AND basis = {} AND dimension = {}{}",
            binds.text(account_id),
            binds.text(connection_id),
            binds.text(ATTEMPTS),
            binds.text(CARD_DETAILS),
            stale.excluded(&mut binds)
        );
        let sums = card_details_sums("attempted");
        let sql = format!("SELECT {sums} FROM payment_rollups WHERE {conditions}");
        let mut share = self.card_details_row(&sql, binds).await?;
        if !stale.is_empty() {
            let marked = self
                .card_details_share_counted(account_id, connection_id, 0, Some(&stale))
                .await?;
            share.card_payments += marked.card_payments;
            share.with_bin += marked.with_bin;
            share.with_issuer += marked.with_issuer;
        }
        Ok(share)
    }

    /// [`Store::card_details_share`] counted from the payments created at or after `since` (of the `only` days,
    /// when given).
    async fn card_details_share_counted(
        &self,
        account_id: &str,
        connection_id: &str,
        since: i64,
        only: Option<&StaleDays>,
    ) -> StoreResult<CardDetailsShare> {
        let mut binds = Binds::default();
        let mut conditions = format!(
            "account_id = {} AND connection_id = {} AND created >= {} AND payment_method_type = 'card'",
            binds.text(account_id),
            binds.text(connection_id),
            binds.int(since)
        );
        if let Some(days) = only {
            conditions += &days.only(&mut binds, "connection_id", "created");
        }
        let sums = card_details_sums("1");
        let sql = format!(
            "SELECT {sums} FROM (SELECT {CARD_DETAILS_VALUE} AS value FROM payments WHERE {conditions}) p"
        );
        self.card_details_row(&sql, binds).await
    }

    /// Runs a query selecting [`card_details_sums`].
    async fn card_details_row(&self, sql: &str, binds: Binds) -> StoreResult<CardDetailsShare> {
        let row = binds
            .apply(sqlx::query(sql))
            .fetch_one(&self.reader)
            .await?;
        Ok(CardDetailsShare {
            card_payments: row.try_get("n")?,
            with_bin: row.try_get("with_bin")?,
            with_issuer: row.try_get("with_issuer")?,
        })
    }

    /// The newest card payments of a connection that lack a BIN or a bank name, at most `limit`.
    pub async fn payments_missing_card_details(
        &self,
        account_id: &str,
        connection_id: &str,
        limit: i64,
    ) -> StoreResult<Vec<PaymentMissingDetails>> {
        let rows = sqlx::query(
            "SELECT charge_id, created, amount, currency, card_brand,
                    CAST(CASE WHEN card_iin IS NULL OR card_iin = '' THEN 1 ELSE 0 END AS BIGINT) AS no_bin,
                    CAST(CASE WHEN card_issuer IS NULL OR card_issuer = '' THEN 1 ELSE 0 END AS BIGINT) AS no_issuer
             FROM payments
             WHERE account_id = $1 AND connection_id = $2 AND payment_method_type = 'card'
               AND (card_iin IS NULL OR card_iin = '' OR card_issuer IS NULL OR card_issuer = '')
             ORDER BY created DESC, charge_id LIMIT $3",
        )
        .bind(account_id)
        .bind(connection_id)
        .bind(limit)
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(PaymentMissingDetails {
                    charge_id: row.try_get("charge_id")?,
                    created: row.try_get("created")?,
                    amount: row.try_get("amount")?,
                    currency: row.try_get("currency")?,
                    card_brand: row.try_get("card_brand")?,
                    missing_bin: row.try_get::<i64, _>("no_bin")? != 0,
                    missing_issuer: row.try_get::<i64, _>("no_issuer")? != 0,
                })
            })
            .collect()
    }
}

/// The columns of a [`CardDetailsShare`] (`n`, `with_bin`, `with_issuer`) over rows with a card-details `value`
/// (see `CARD_DETAILS_VALUE`), each row counting `count` payments: `attempted` for rollup rows, `1` for payments.
fn card_details_sums(count: &str) -> String {
    format!(
        "CAST(COALESCE(SUM({count}), 0) AS BIGINT) AS n,
         CAST(COALESCE(SUM(CASE WHEN value IN ('bin+bank', 'bin') THEN {count} ELSE 0 END), 0) AS BIGINT) AS with_bin,
         CAST(COALESCE(SUM(CASE WHEN value IN ('bin+bank', 'bank') THEN {count} ELSE 0 END), 0) AS BIGINT)
             AS with_issuer"
    )
}

/// Sums rows of the same connection, currency and key (rollup rows of current days with counts of marked days),
/// in (connection, currency, key) order.
fn merge_breakdowns(rows: Vec<BreakdownRow>) -> Vec<BreakdownRow> {
    let mut merged: std::collections::BTreeMap<(String, String, String), Measures> =
        std::collections::BTreeMap::new();
    for row in rows {
        merged
            .entry((row.connection_id, row.currency, row.key))
            .or_default()
            .add(&row.measures);
    }
    merged
        .into_iter()
        .map(|((connection_id, currency, key), measures)| BreakdownRow {
            connection_id,
            currency,
            key,
            measures,
        })
        .collect()
}

fn breakdown_row(row: &AnyRow) -> StoreResult<BreakdownRow> {
    Ok(BreakdownRow {
        connection_id: row.try_get("c")?,
        currency: row.try_get("cur")?,
        key: row.try_get("k")?,
        measures: Measures {
            attempted: row.try_get("attempted")?,
            approved: row.try_get("approved")?,
            declined: row.try_get("declined")?,
            pending: row.try_get("pending")?,
            attempted_amount: row.try_get("attempted_amount")?,
            approved_amount: row.try_get("approved_amount")?,
            refunded: row.try_get("refunded")?,
            refunded_amount: row.try_get("refunded_amount")?,
            disputed: row.try_get("disputed")?,
            disputed_amount: row.try_get("disputed_amount")?,
            fees: row.try_get("fees")?,
            net: row.try_get("net")?,
            fee_base: row.try_get("fee_base")?,
        },
    })
}
