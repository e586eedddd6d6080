//! Builds each dashboard from the store: which breakdowns it asks for, and how their rows become KPIs, charts
//! (a series per data connection, optionally with the previous period beside it) and tables.
//!
//! Money is never added across currencies: money figures show one currency (the one filtered on, else the one
//! with the most volume in the period, named in a note), while counts and rates include every currency.

use std::collections::{BTreeMap, HashMap};

use super::model::{Chart, ChartKind, Dashboard, Kpi, Point, Series, Table, Unit};
use super::query::View;
use crate::domain::analytics::period::format_date;
use crate::domain::analytics::{DAY, Dimension, Filter, Measures, Period};
use crate::store::{BreakdownRow, GroupBy, ObjectGroup, ObjectKind, ObjectRow, Store, StoreResult};

/// Every dashboard: (URL name, title).
pub const DASHBOARDS: &[(&str, &str)] = &[
    ("overview", "Overview"),
    ("approvals", "Approvals"),
    ("declines", "Declines"),
    ("cards", "Cards"),
    ("disputes", "Disputes"),
    ("refunds", "Refunds"),
    ("costs", "Costs"),
    ("payouts", "Payouts"),
];

/// Everything a builder needs besides the store.
struct Ctx<'a> {
    store: &'a Store,
    account_id: &'a str,
    view: &'a View,
    name: &'static str,
    /// Connection id → name, for series labels.
    names: &'a HashMap<String, String>,
    /// The currency money figures are shown in.
    currency: Option<String>,
    /// Totals of the period per connection and currency, ignoring the currency filter.
    unfiltered_totals: Vec<BreakdownRow>,
}

/// Builds dashboard `name` for `account_id`, `None` for an unknown name.
pub async fn build(
    store: &Store,
    account_id: &str,
    name: &str,
    view: &View,
) -> StoreResult<Option<Dashboard>> {
    let Some(&(name, title)) = DASHBOARDS.iter().find(|(n, _)| *n == name) else {
        return Ok(None);
    };
    let names: HashMap<String, String> = store
        .connections(account_id)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    // The currencies of the period (ignoring the currency filter), for the filter form and the money currency.
    let all_currencies = Filter {
        currencies: Vec::new(),
        ..view.filter.clone()
    };
    // Totals per connection and currency: they give the currencies, and (without a currency filter) the KPIs of
    // the period, so one scan serves both.
    let unfiltered_totals = store
        .payment_breakdown(account_id, &all_currencies, GroupBy::Total)
        .await?;
    let mut by_currency: BTreeMap<String, i64> = BTreeMap::new();
    for row in &unfiltered_totals {
        *by_currency.entry(row.currency.clone()).or_default() += row.measures.attempted_amount;
    }
    let currency = match view.filter.currencies.as_slice() {
        [one] => Some(one.clone()),
        _ => by_currency
            .iter()
            .filter(|(c, _)| {
                view.filter.currencies.is_empty() || view.filter.currencies.contains(c)
            })
            .max_by_key(|(_, amount)| **amount)
            .map(|(c, _)| c.clone()),
    };
    let ctx = Ctx {
        store,
        account_id,
        view,
        name,
        names: &names,
        currency: currency.clone(),
        unfiltered_totals,
    };
    let mut dashboard = Dashboard {
        name,
        title,
        filter: view.filter.clone(),
        currency: currency.clone(),
        currencies: by_currency.keys().cloned().collect(),
        kpis: Vec::new(),
        charts: Vec::new(),
        tables: Vec::new(),
        notes: Vec::new(),
    };
    if let Some(currency) = &currency
        && by_currency.len() > 1
        && view.filter.currencies.len() != 1
    {
        dashboard.notes.push(format!(
            "Amounts are in {}, the currency with the most volume; counts and rates include every currency. \
             Choose a currency in the filter to see amounts in another.",
            currency.to_uppercase()
        ));
    }
    match name {
        "overview" => overview(&ctx, &mut dashboard).await?,
        "approvals" => approvals(&ctx, &mut dashboard).await?,
        "declines" => declines(&ctx, &mut dashboard).await?,
        "cards" => cards(&ctx, &mut dashboard).await?,
        "disputes" => disputes(&ctx, &mut dashboard).await?,
        "refunds" => refunds(&ctx, &mut dashboard).await?,
        "costs" => costs(&ctx, &mut dashboard).await?,
        _ => payouts(&ctx, &mut dashboard).await?,
    }
    Ok(Some(dashboard))
}

/// How a measure is read off a group: counts and rates across currencies, amounts in the shown currency only.
#[derive(Clone, Copy)]
enum Metric {
    Attempted,
    Approved,
    Declined,
    ApprovalRate,
    DeclineRate,
    RefundRate,
    DisputeRate,
    Volume,
    AttemptedAmount,
    Refunded,
    RefundedAmount,
    Disputed,
    Fees,
    Net,
    EffectiveRate,
    AverageOrderValue,
}

impl Metric {
    fn is_money(self) -> bool {
        matches!(
            self,
            Metric::Volume
                | Metric::AttemptedAmount
                | Metric::RefundedAmount
                | Metric::Fees
                | Metric::Net
                | Metric::AverageOrderValue
                | Metric::EffectiveRate
        )
    }

    fn unit(self, currency: &Option<String>) -> Unit {
        match self {
            Metric::ApprovalRate
            | Metric::DeclineRate
            | Metric::RefundRate
            | Metric::DisputeRate
            | Metric::EffectiveRate => Unit::Rate,
            m if m.is_money() => Unit::Money(currency.clone().unwrap_or_default()),
            _ => Unit::Count,
        }
    }

    fn read(self, m: &Measures) -> Option<f64> {
        let n = |v: i64| Some(v as f64);
        match self {
            Metric::Attempted => n(m.attempted),
            Metric::Approved => n(m.approved),
            Metric::Declined => n(m.declined),
            Metric::ApprovalRate => m.approval_rate(),
            Metric::DeclineRate => m.decline_rate(),
            Metric::RefundRate => m.refund_rate(),
            Metric::DisputeRate => m.dispute_rate(),
            Metric::Volume => n(m.approved_amount),
            Metric::AttemptedAmount => n(m.attempted_amount),
            Metric::Refunded => n(m.refunded),
            Metric::RefundedAmount => n(m.refunded_amount),
            Metric::Disputed => n(m.disputed),
            Metric::Fees => n(m.fees),
            Metric::Net => n(m.net),
            Metric::EffectiveRate => m.effective_rate(),
            Metric::AverageOrderValue => m.average_order_value(),
        }
    }

    /// Hover detail: the counts behind a rate.
    fn detail(self, m: &Measures) -> String {
        match self {
            Metric::ApprovalRate => format!("{} of {} attempts approved", m.approved, m.attempted),
            Metric::DeclineRate => format!("{} of {} attempts declined", m.declined, m.attempted),
            Metric::RefundRate => format!("{} of {} payments refunded", m.refunded, m.approved),
            Metric::DisputeRate => format!("{} of {} payments disputed", m.disputed, m.approved),
            _ => String::new(),
        }
    }
}

/// Rows merged per (connection, key): all currencies for counts and rates, the shown currency for money.
fn merge(
    rows: &[BreakdownRow],
    money: bool,
    currency: &Option<String>,
) -> BTreeMap<(String, String), Measures> {
    let mut out: BTreeMap<(String, String), Measures> = BTreeMap::new();
    for row in rows {
        if money && currency.as_deref() != Some(row.currency.as_str()) {
            continue;
        }
        out.entry((row.connection_id.clone(), row.key.clone()))
            .or_default()
            .add(&row.measures);
    }
    out
}

/// Totals over every connection (for KPIs).
fn total(rows: &[BreakdownRow], money: bool, currency: &Option<String>) -> Measures {
    let mut out = Measures::default();
    for m in merge(rows, money, currency).values() {
        out.add(m);
    }
    out
}

impl Ctx<'_> {
    async fn rows(&self, filter: &Filter, group: GroupBy) -> StoreResult<Vec<BreakdownRow>> {
        self.store
            .payment_breakdown(self.account_id, filter, group)
            .await
    }

    /// Connection ids present in `rows`, ordered by name.
    fn connections_of<'r>(&self, ids: impl Iterator<Item = &'r String>) -> Vec<String> {
        let mut ids: Vec<String> = ids.cloned().collect();
        ids.sort();
        ids.dedup();
        ids.sort_by_key(|id| self.name_of(id));
        ids
    }

    fn name_of(&self, id: &str) -> String {
        self.names.get(id).cloned().unwrap_or_else(|| id.to_owned())
    }

    fn href(&self, extra: &[(&str, &str)]) -> Option<String> {
        Some(format!(
            "/dashboards/{}?{}",
            self.name,
            self.view.query_with(extra)
        ))
    }

    /// KPIs of `metrics` over the period and the previous one.
    async fn kpis(&self, metrics: &[(&str, Metric)]) -> StoreResult<Vec<Kpi>> {
        let now = if self.view.filter.currencies.is_empty() {
            self.unfiltered_totals.clone()
        } else {
            self.rows(&self.view.filter, GroupBy::Total).await?
        };
        let before = self
            .rows(&self.view.filter.previous(), GroupBy::Total)
            .await?;
        Ok(metrics
            .iter()
            .map(|(label, metric)| {
                let money = metric.is_money();
                Kpi {
                    label: (*label).to_owned(),
                    unit: metric.unit(&self.currency),
                    value: metric.read(&total(&now, money, &self.currency)),
                    previous: metric.read(&total(&before, money, &self.currency)),
                }
            })
            .collect())
    }

    /// Time-series charts, one per metric, from one breakdown of the period (and one of the previous period
    /// when comparing).
    async fn time_charts(
        &self,
        charts: &[(&'static str, &str, Metric)],
    ) -> StoreResult<Vec<Chart>> {
        let period = self.view.filter.period;
        let bucket = period.bucket();
        let now = self.rows(&self.view.filter, GroupBy::Time(bucket)).await?;
        let before = if self.view.compare {
            Some(
                self.rows(&self.view.filter.previous(), GroupBy::Time(bucket))
                    .await?,
            )
        } else {
            None
        };
        Ok(charts
            .iter()
            .map(|(id, title, metric)| {
                self.time_chart(id, title, *metric, period, &now, before.as_deref())
            })
            .collect())
    }

    fn time_chart(
        &self,
        id: &'static str,
        title: &str,
        metric: Metric,
        period: Period,
        now: &[BreakdownRow],
        before: Option<&[BreakdownRow]>,
    ) -> Chart {
        let buckets = period.buckets();
        let bucket = period.bucket();
        let money = metric.is_money();
        let current = merge(now, money, &self.currency);
        let mut series = Vec::new();
        for connection in self.connections_of(current.keys().map(|(c, _)| c)) {
            let points = buckets
                .iter()
                .map(|start| {
                    let m = current
                        .get(&(connection.clone(), start.to_string()))
                        .copied()
                        .unwrap_or_default();
                    let (from, to) = (format_date(*start), format_date(start + bucket - DAY));
                    Point {
                        value: metric.read(&m),
                        detail: metric.detail(&m),
                        href: self.href(&[
                            ("range", "custom"),
                            ("from", &from),
                            ("to", &to),
                            ("connection", &connection),
                        ]),
                    }
                })
                .collect();
            series.push(Series {
                name: self.name_of(&connection),
                connection_id: connection.clone(),
                previous: false,
                points,
            });
            if let Some(before) = before {
                let previous = merge(before, money, &self.currency);
                let points = period
                    .previous()
                    .buckets()
                    .iter()
                    .take(buckets.len())
                    .map(|start| {
                        let m = previous
                            .get(&(connection.clone(), start.to_string()))
                            .copied()
                            .unwrap_or_default();
                        Point {
                            value: metric.read(&m),
                            detail: format!("{} {}", format_date(*start), metric.detail(&m)),
                            href: None,
                        }
                    })
                    .collect();
                series.push(Series {
                    name: format!("{} (previous period)", self.name_of(&connection)),
                    connection_id: connection.clone(),
                    previous: true,
                    points,
                });
            }
        }
        Chart {
            id,
            title: title.to_owned(),
            kind: ChartKind::Line,
            unit: metric.unit(&self.currency),
            labels: buckets.iter().map(|b| format_date(*b)).collect(),
            series,
        }
    }

    /// A bar chart of `metric` by `dimension`, the `top` values with the most attempts (or declines, for decline
    /// dimensions), a bar per connection.
    async fn dimension_chart(
        &self,
        id: &'static str,
        title: &str,
        dimension: Dimension,
        metric: Metric,
        top: usize,
        rank_by: Metric,
    ) -> StoreResult<Chart> {
        let rows = self
            .rows(&self.view.filter, GroupBy::Dimension(dimension))
            .await?;
        Ok(self.dimension_chart_from(id, title, dimension, metric, top, rank_by, &rows))
    }

    #[allow(clippy::too_many_arguments)] // reason: one call site per chart reads better with the parts spelled out
    fn dimension_chart_from(
        &self,
        id: &'static str,
        title: &str,
        dimension: Dimension,
        metric: Metric,
        top: usize,
        rank_by: Metric,
        rows: &[BreakdownRow],
    ) -> Chart {
        let merged = merge(rows, metric.is_money(), &self.currency);
        let mut rank: BTreeMap<String, f64> = BTreeMap::new();
        for ((_, key), m) in &merged {
            *rank.entry(key.clone()).or_default() += rank_by.read(m).unwrap_or(0.0);
        }
        let mut keys: Vec<(String, f64)> = rank.into_iter().filter(|(_, r)| *r > 0.0).collect();
        keys.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        keys.truncate(top);
        let series = self
            .connections_of(merged.keys().map(|(c, _)| c))
            .into_iter()
            .map(|connection| Series {
                name: self.name_of(&connection),
                points: keys
                    .iter()
                    .map(|(key, _)| {
                        let m = merged
                            .get(&(connection.clone(), key.clone()))
                            .copied()
                            .unwrap_or_default();
                        let mut extra = vec![("connection", connection.as_str())];
                        if let Some(param) = dimension.filter_param()
                            && !key.is_empty()
                        {
                            extra.push((param, key.as_str()));
                        }
                        Point {
                            value: metric.read(&m).filter(|_| m.attempted > 0),
                            detail: metric.detail(&m),
                            href: self.href(&extra),
                        }
                    })
                    .collect(),
                connection_id: connection,
                previous: false,
            })
            .collect();
        Chart {
            id,
            title: title.to_owned(),
            kind: ChartKind::Bar,
            unit: metric.unit(&self.currency),
            labels: keys
                .into_iter()
                .map(|(k, _)| if k.is_empty() { "(none)".into() } else { k })
                .collect(),
            series,
        }
    }

    async fn object_rows(
        &self,
        kind: ObjectKind,
        group: ObjectGroup,
    ) -> StoreResult<Vec<ObjectRow>> {
        self.store
            .object_breakdown(self.account_id, &self.view.filter, kind, group)
            .await
    }

    /// A chart of object counts (or amounts in the shown currency) per key.
    fn object_chart(
        &self,
        id: &'static str,
        title: &str,
        kind: ChartKind,
        rows: &[ObjectRow],
        amounts: bool,
        labels: Vec<String>,
    ) -> Chart {
        let mut merged: BTreeMap<(String, String), f64> = BTreeMap::new();
        for row in rows {
            if amounts && self.currency.as_deref() != Some(row.currency.as_str()) {
                continue;
            }
            *merged
                .entry((row.connection_id.clone(), row.key.clone()))
                .or_default() += if amounts { row.amount } else { row.count } as f64;
        }
        let keys: Vec<String> = if kind == ChartKind::Line {
            labels.clone()
        } else {
            let mut totals: BTreeMap<String, f64> = BTreeMap::new();
            for ((_, key), v) in &merged {
                *totals.entry(key.clone()).or_default() += v;
            }
            let mut keys: Vec<(String, f64)> = totals.into_iter().collect();
            keys.sort_by(|a, b| b.1.total_cmp(&a.1));
            keys.into_iter().map(|(k, _)| k).collect()
        };
        let bucket = self.view.filter.period.bucket();
        let series = self
            .connections_of(merged.keys().map(|(c, _)| c))
            .into_iter()
            .map(|connection| Series {
                name: self.name_of(&connection),
                points: keys
                    .iter()
                    .map(|key| {
                        let value = merged.get(&(connection.clone(), key.clone())).copied();
                        let href = match (kind, key.parse::<i64>()) {
                            (ChartKind::Line, Ok(start)) => self.href(&[
                                ("range", "custom"),
                                ("from", &format_date(start)),
                                ("to", &format_date(start + bucket - DAY)),
                                ("connection", &connection),
                            ]),
                            _ => self.href(&[("connection", &connection)]),
                        };
                        Point {
                            value: if kind == ChartKind::Line {
                                value.or(Some(0.0))
                            } else {
                                value
                            },
                            detail: String::new(),
                            href,
                        }
                    })
                    .collect(),
                connection_id: connection,
                previous: false,
            })
            .collect();
        Chart {
            id,
            title: title.to_owned(),
            kind,
            unit: if amounts {
                Unit::Money(self.currency.clone().unwrap_or_default())
            } else {
                Unit::Count
            },
            labels: if kind == ChartKind::Line {
                keys.iter()
                    .map(|k| k.parse().map(format_date).unwrap_or_else(|_| k.clone()))
                    .collect()
            } else {
                keys.iter()
                    .map(|k| {
                        if k.is_empty() {
                            "(none)".into()
                        } else {
                            k.clone()
                        }
                    })
                    .collect()
            },
            series,
        }
    }

    /// Bucket keys of the period, as the store writes them.
    fn bucket_keys(&self) -> Vec<String> {
        self.view
            .filter
            .period
            .buckets()
            .iter()
            .map(|b| b.to_string())
            .collect()
    }
}

async fn overview(ctx: &Ctx<'_>, d: &mut Dashboard) -> StoreResult<()> {
    d.kpis = ctx
        .kpis(&[
            ("Volume", Metric::Volume),
            ("Transactions", Metric::Approved),
            ("Approval rate", Metric::ApprovalRate),
            ("Average order value", Metric::AverageOrderValue),
            ("Refunds", Metric::RefundedAmount),
            ("Disputes", Metric::Disputed),
            ("Fees", Metric::Fees),
        ])
        .await?;
    d.charts = ctx
        .time_charts(&[
            ("volume", "Volume", Metric::Volume),
            ("transactions", "Transactions", Metric::Approved),
            ("approval_rate", "Approval rate", Metric::ApprovalRate),
        ])
        .await?;
    Ok(())
}

async fn approvals(ctx: &Ctx<'_>, d: &mut Dashboard) -> StoreResult<()> {
    d.kpis = ctx
        .kpis(&[
            ("Approval rate", Metric::ApprovalRate),
            ("Approved", Metric::Approved),
            ("Attempted", Metric::Attempted),
            ("Approved value", Metric::Volume),
            ("Attempted value", Metric::AttemptedAmount),
        ])
        .await?;
    d.charts = ctx
        .time_charts(&[
            ("approval_rate", "Approval rate", Metric::ApprovalRate),
            ("approved", "Approved payments", Metric::Approved),
            ("attempted", "Attempted payments", Metric::Attempted),
            ("approved_value", "Approved value", Metric::Volume),
            (
                "attempted_value",
                "Attempted value",
                Metric::AttemptedAmount,
            ),
        ])
        .await?;
    let rules = ctx.view.filter.approval;
    d.notes.push(format!(
        "Approval rate = approved ÷ attempted; card verifications (zero-amount charges) are never counted; \
         retries within a payment intent are {}; pending payments are {}.",
        if rules.dedup_retries {
            "counted once (approved if any attempt succeeded)"
        } else {
            "counted as separate attempts"
        },
        if rules.exclude_pending {
            "left out"
        } else {
            "counted as attempted and not approved"
        }
    ));
    Ok(())
}

async fn declines(ctx: &Ctx<'_>, d: &mut Dashboard) -> StoreResult<()> {
    d.kpis = ctx
        .kpis(&[
            ("Declined", Metric::Declined),
            ("Decline rate", Metric::DeclineRate),
            ("Attempted", Metric::Attempted),
        ])
        .await?;
    d.charts = ctx
        .time_charts(&[
            ("declined", "Declines over time", Metric::Declined),
            (
                "decline_rate",
                "Decline rate over time",
                Metric::DeclineRate,
            ),
        ])
        .await?;
    for (id, title, dimension) in [
        ("decline_codes", "Top decline codes", Dimension::DeclineCode),
        (
            "failure_codes",
            "Top failure codes (reasons)",
            Dimension::FailureCode,
        ),
        ("advice_codes", "Advice codes", Dimension::AdviceCode),
        (
            "network_status",
            "Network status of declines",
            Dimension::NetworkStatus,
        ),
    ] {
        let mut chart = ctx
            .dimension_chart(id, title, dimension, Metric::Declined, 15, Metric::Declined)
            .await?;
        // Decline charts count declines; values without declines (e.g. approved_by_network) are left out.
        chart
            .labels
            .retain(|l| l != "(none)" || dimension == Dimension::NetworkStatus);
        d.charts.push(chart);
    }
    Ok(())
}

async fn cards(ctx: &Ctx<'_>, d: &mut Dashboard) -> StoreResult<()> {
    d.kpis = ctx
        .kpis(&[
            ("Approval rate", Metric::ApprovalRate),
            ("Attempted", Metric::Attempted),
            ("Volume", Metric::Volume),
        ])
        .await?;
    let charts = [
        ("brand", "Approval rate by card brand", Dimension::Brand, 12),
        ("funding", "Approval rate by funding", Dimension::Funding, 6),
        (
            "country",
            "Approval rate by issuing country (top 15)",
            Dimension::Country,
            15,
        ),
        (
            "issuer",
            "Approval rate by issuing bank (top 15)",
            Dimension::Issuer,
            15,
        ),
        ("wallet", "Approval rate by wallet", Dimension::Wallet, 10),
        (
            "three_d_secure",
            "Approval rate by 3-D Secure result",
            Dimension::ThreeDSecure,
            10,
        ),
    ]
    .map(|(id, title, dimension, top)| {
        ctx.dimension_chart(
            id,
            title,
            dimension,
            Metric::ApprovalRate,
            top,
            Metric::Attempted,
        )
    });
    // The page's breakdowns are independent reads: they run side by side on the reader pool.
    let (charts, bins) = futures::try_join!(
        futures::future::try_join_all(charts),
        ctx.rows(&ctx.view.filter, GroupBy::Dimension(Dimension::Bin)),
    )?;
    d.charts.extend(charts);
    let mut per_bin: BTreeMap<String, Measures> = BTreeMap::new();
    for row in &bins {
        per_bin
            .entry(row.key.clone())
            .or_default()
            .add(&row.measures);
    }
    let mut ranked: Vec<(String, Measures)> =
        per_bin.into_iter().filter(|(k, _)| !k.is_empty()).collect();
    ranked.sort_by(|a, b| b.1.attempted.cmp(&a.1.attempted).then(a.0.cmp(&b.0)));
    ranked.truncate(25);
    let rate = |r: Option<f64>| {
        r.map(|v| Unit::Rate.format(v))
            .unwrap_or_else(|| "—".into())
    };
    d.tables.push(Table {
        id: "top_bins",
        title: "Top 25 BINs".into(),
        columns: [
            "BIN",
            "Attempted",
            "Approval rate",
            "Decline rate",
            "Dispute rate",
            "Refund rate",
        ]
        .map(String::from)
        .to_vec(),
        rows: ranked
            .iter()
            .map(|(bin, m)| {
                vec![
                    bin.clone(),
                    m.attempted.to_string(),
                    rate(m.approval_rate()),
                    rate(m.decline_rate()),
                    rate(m.dispute_rate()),
                    rate(m.refund_rate()),
                ]
            })
            .collect(),
    });
    if ranked.is_empty() {
        d.notes.push(
            "No BINs: Stripe sends a card's BIN and bank only when card details are enabled for the account; \
             see each connection's data quality page."
                .into(),
        );
    }
    Ok(())
}

async fn disputes(ctx: &Ctx<'_>, d: &mut Dashboard) -> StoreResult<()> {
    d.kpis = ctx
        .kpis(&[
            ("Disputed payments", Metric::Disputed),
            ("Dispute rate", Metric::DisputeRate),
        ])
        .await?;
    let statuses = ctx
        .object_rows(ObjectKind::Dispute, ObjectGroup::Status)
        .await?;
    let count = |wanted: &[&str]| -> f64 {
        statuses
            .iter()
            .filter(|r| wanted.contains(&r.key.as_str()))
            .map(|r| r.count as f64)
            .sum()
    };
    let (won, lost) = (count(&["won"]), count(&["lost"]));
    for (label, value) in [("Disputes won", won), ("Disputes lost", lost)] {
        d.kpis.push(Kpi {
            label: label.into(),
            unit: Unit::Count,
            value: Some(value),
            previous: None,
        });
    }
    d.kpis.push(Kpi {
        label: "Win rate (decided)".into(),
        unit: Unit::Rate,
        value: crate::domain::analytics::ratio(won as i64, (won + lost) as i64),
        previous: None,
    });
    let over_time = ctx
        .object_rows(
            ObjectKind::Dispute,
            ObjectGroup::Time(ctx.view.filter.period.bucket()),
        )
        .await?;
    d.charts.push(ctx.object_chart(
        "disputes",
        "Disputes opened",
        ChartKind::Line,
        &over_time,
        false,
        ctx.bucket_keys(),
    ));
    let reasons = ctx
        .object_rows(ObjectKind::Dispute, ObjectGroup::Reason)
        .await?;
    d.charts.push(ctx.object_chart(
        "reasons",
        "Dispute reasons",
        ChartKind::Bar,
        &reasons,
        false,
        Vec::new(),
    ));
    d.charts.push(ctx.object_chart(
        "statuses",
        "Dispute statuses",
        ChartKind::Bar,
        &statuses,
        false,
        Vec::new(),
    ));
    d.charts.push(ctx.object_chart(
        "disputed_amount_by_reason",
        "Disputed amount by reason",
        ChartKind::Bar,
        &reasons,
        true,
        Vec::new(),
    ));
    d.notes.push(
        "Dispute rate = disputed payments ÷ approved payments made in the period; the charts count disputes \
         opened in the period."
            .into(),
    );
    Ok(())
}

async fn refunds(ctx: &Ctx<'_>, d: &mut Dashboard) -> StoreResult<()> {
    d.kpis = ctx
        .kpis(&[
            ("Refunded amount", Metric::RefundedAmount),
            ("Refunded payments", Metric::Refunded),
            ("Refund rate", Metric::RefundRate),
        ])
        .await?;
    let over_time = ctx
        .object_rows(
            ObjectKind::Refund,
            ObjectGroup::Time(ctx.view.filter.period.bucket()),
        )
        .await?;
    d.charts.push(ctx.object_chart(
        "refunds",
        "Refunds issued",
        ChartKind::Line,
        &over_time,
        false,
        ctx.bucket_keys(),
    ));
    d.charts.push(ctx.object_chart(
        "refunded_amount",
        "Amount refunded",
        ChartKind::Line,
        &over_time,
        true,
        ctx.bucket_keys(),
    ));
    let reasons = ctx
        .object_rows(ObjectKind::Refund, ObjectGroup::Reason)
        .await?;
    d.charts.push(ctx.object_chart(
        "reasons",
        "Refund reasons",
        ChartKind::Bar,
        &reasons,
        false,
        Vec::new(),
    ));
    d.charts.extend(
        ctx.time_charts(&[(
            "refund_rate",
            "Refund rate of payments made",
            Metric::RefundRate,
        )])
        .await?,
    );
    Ok(())
}

async fn costs(ctx: &Ctx<'_>, d: &mut Dashboard) -> StoreResult<()> {
    d.kpis = ctx
        .kpis(&[
            ("Fees", Metric::Fees),
            ("Effective rate", Metric::EffectiveRate),
            ("Net volume", Metric::Net),
            ("Volume", Metric::Volume),
        ])
        .await?;
    d.charts = ctx
        .time_charts(&[
            ("fees", "Fees", Metric::Fees),
            ("effective_rate", "Effective rate", Metric::EffectiveRate),
            ("net", "Net volume", Metric::Net),
        ])
        .await?;
    let fee_types = ctx
        .store
        .fees_by_type(ctx.account_id, &ctx.view.filter)
        .await?;
    d.charts.push(ctx.object_chart(
        "fee_types",
        "Fees by fee type",
        ChartKind::Bar,
        &fee_types,
        true,
        Vec::new(),
    ));
    d.charts.push(
        ctx.dimension_chart(
            "effective_rate_by_brand",
            "Effective rate by card brand",
            Dimension::Brand,
            Metric::EffectiveRate,
            12,
            Metric::Volume,
        )
        .await?,
    );
    d.notes.push(
        "Effective rate = fees ÷ volume of payments whose fee is known. Fees by type come from balance \
         transactions (card filters do not apply to them)."
            .into(),
    );
    Ok(())
}

async fn payouts(ctx: &Ctx<'_>, d: &mut Dashboard) -> StoreResult<()> {
    let totals = ctx
        .object_rows(ObjectKind::Payout, ObjectGroup::Total)
        .await?;
    let currency = ctx.currency.clone().unwrap_or_default();
    d.kpis.push(Kpi {
        label: "Payouts".into(),
        unit: Unit::Count,
        value: Some(totals.iter().map(|r| r.count as f64).sum()),
        previous: None,
    });
    d.kpis.push(Kpi {
        label: "Paid out".into(),
        unit: Unit::Money(currency.clone()),
        value: Some(
            totals
                .iter()
                .filter(|r| r.currency == currency)
                .map(|r| r.amount as f64)
                .sum(),
        ),
        previous: None,
    });
    let over_time = ctx
        .object_rows(
            ObjectKind::Payout,
            ObjectGroup::Time(ctx.view.filter.period.bucket()),
        )
        .await?;
    d.charts.push(ctx.object_chart(
        "payout_amount",
        "Amount paid out",
        ChartKind::Line,
        &over_time,
        true,
        ctx.bucket_keys(),
    ));
    let statuses = ctx
        .object_rows(ObjectKind::Payout, ObjectGroup::Status)
        .await?;
    d.charts.push(ctx.object_chart(
        "statuses",
        "Payouts by status",
        ChartKind::Bar,
        &statuses,
        false,
        Vec::new(),
    ));
    d.notes
        .push("Payouts are by creation date; card filters do not apply to them.".into());
    Ok(())
}
