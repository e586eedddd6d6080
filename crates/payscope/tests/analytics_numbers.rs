//! Dashboard numbers on a hand-counted history (tests/support/analytics.rs), on SQLite and PostgreSQL: approval
//! rates with and without retry deduplication and pending, declines by code, the BIN table, fees and the
//! effective rate per currency, compare-to-previous, card filters, data quality, and numbers following updates.

#[macro_use]
mod support;

use payscope::domain::analytics::{Dimension, Filter, Measures};
use payscope::store::{BreakdownRow, GroupBy, ObjectGroup, ObjectKind, Store};
use payscope::web::dashboards::build;
use payscope::web::dashboards::model::Dashboard;
use payscope::web::dashboards::query::View;
use payscope::web::data_quality::data_quality;

use support::analytics::{Known, nov, november_filter, seed};

on_both_databases!(
    the_approval_rate_counts_attempts_and_leaves_out_verifications_and_pending,
    deduplicating_retries_counts_each_payment_intent_once,
    declines_are_counted_by_issuer_decline_code,
    the_bin_table_gives_approval_decline_dispute_and_refund_rates_per_bin,
    fees_and_the_effective_rate_never_mix_currencies,
    the_overview_compares_with_the_previous_period,
    card_filters_narrow_payments_and_the_disputes_of_matching_charges,
    data_quality_counts_card_payments_with_a_bin_and_a_bank_name,
    numbers_follow_a_payment_that_is_later_refunded_and_disputed,
    another_account_sees_none_of_these_numbers,
);

/// Totals of connection `connection` in the breakdown, summed over currencies.
fn totals(rows: &[BreakdownRow], connection: &str) -> Measures {
    let mut m = Measures::default();
    for row in rows.iter().filter(|r| r.connection_id == connection) {
        m.add(&row.measures);
    }
    m
}

async fn total(store: &Store, known: &Known, filter: &Filter) -> Measures {
    let rows = store
        .payment_breakdown(&known.account_id, filter, GroupBy::Total)
        .await
        .unwrap();
    totals(&rows, &known.a)
}

async fn dashboard(store: &Store, known: &Known, name: &str, query: &str) -> Dashboard {
    let view = View::parse(
        &format!("range=custom&from=2026-11-01&to=2026-11-30&{query}"),
        nov(27),
    )
    .unwrap();
    build(store, &known.account_id, name, &view)
        .await
        .unwrap()
        .unwrap()
}

async fn the_approval_rate_counts_attempts_and_leaves_out_verifications_and_pending(store: Store) {
    let known = seed(&store, "acme").await;
    let m = total(&store, &known, &november_filter()).await;
    assert_eq!(
        (m.attempted, m.approved, m.declined, m.pending),
        (6, 3, 3, 0)
    );
    assert_eq!(m.approval_rate(), Some(0.5));

    let mut with_pending = november_filter();
    with_pending.approval.exclude_pending = false;
    let m = total(&store, &known, &with_pending).await;
    assert_eq!((m.attempted, m.approved, m.pending), (7, 3, 1));
}

async fn deduplicating_retries_counts_each_payment_intent_once(store: Store) {
    let known = seed(&store, "acme").await;
    let mut filter = november_filter();
    filter.approval.dedup_retries = true;
    let m = total(&store, &known, &filter).await;
    assert_eq!((m.attempted, m.approved, m.declined), (4, 3, 1));
    assert_eq!(m.approval_rate(), Some(0.75));
    // The volume of a deduplicated intent is its successful attempt's, not the sum of its attempts.
    let usd: i64 = store
        .payment_breakdown(&known.account_id, &filter, GroupBy::Total)
        .await
        .unwrap()
        .iter()
        .filter(|r| r.connection_id == known.a && r.currency == "usd")
        .map(|r| r.measures.approved_amount)
        .sum();
    assert_eq!(usd, 4000);

    filter.approval.exclude_pending = false;
    let m = total(&store, &known, &filter).await;
    assert_eq!((m.attempted, m.approved, m.pending), (5, 3, 1));

    let page = dashboard(&store, &known, "approvals", "dedup=1").await;
    let rate = page
        .kpis
        .iter()
        .find(|k| k.label == "Approval rate")
        .unwrap();
    // Both connections: A 3 of 4 intents, B 1 of 1.
    assert_eq!(rate.value, Some(0.8));
}

async fn declines_are_counted_by_issuer_decline_code(store: Store) {
    let known = seed(&store, "acme").await;
    let rows = store
        .payment_breakdown(
            &known.account_id,
            &november_filter(),
            GroupBy::Dimension(Dimension::DeclineCode),
        )
        .await
        .unwrap();
    let declined = |code: &str| -> i64 {
        rows.iter()
            .filter(|r| r.key == code)
            .map(|r| r.measures.declined)
            .sum()
    };
    assert_eq!(declined("insufficient_funds"), 2);
    assert_eq!(declined("do_not_honor"), 1);

    let page = dashboard(&store, &known, "declines", "").await;
    let chart = page
        .charts
        .iter()
        .find(|c| c.id == "decline_codes")
        .unwrap();
    assert_eq!(chart.labels, ["insufficient_funds", "do_not_honor"]);
    let shop_eu = chart.series.iter().find(|s| s.name == "Shop EU").unwrap();
    assert_eq!(shop_eu.points[0].value, Some(2.0));
    assert!(
        chart.csv().contains("Shop EU,") && chart.csv().contains(",insufficient_funds,2"),
        "{}",
        chart.csv()
    );
}

async fn the_bin_table_gives_approval_decline_dispute_and_refund_rates_per_bin(store: Store) {
    let known = seed(&store, "acme").await;
    let page = dashboard(&store, &known, "cards", "").await;
    let table = page.tables.iter().find(|t| t.id == "top_bins").unwrap();
    assert_eq!(
        table.rows,
        [
            ["424242", "3", "66.7%", "33.3%", "50.0%", "50.0%"],
            ["555555", "2", "0.0%", "100.0%", "—", "—"],
        ]
    );
    assert!(table.csv().starts_with("BIN,Attempted,Approval rate,"));
}

async fn fees_and_the_effective_rate_never_mix_currencies(store: Store) {
    let known = seed(&store, "acme").await;
    let rows = store
        .payment_breakdown(&known.account_id, &november_filter(), GroupBy::Total)
        .await
        .unwrap();
    let of = |currency: &str| {
        rows.iter()
            .find(|r| r.connection_id == known.a && r.currency == currency)
            .unwrap()
            .measures
    };
    assert_eq!(
        (of("usd").fees, of("usd").fee_base, of("usd").net),
        (176, 4000, 3824)
    );
    assert_eq!(of("usd").effective_rate(), Some(0.044));
    assert_eq!((of("eur").fees, of("eur").fee_base), (146, 4000));

    let usd = dashboard(&store, &known, "costs", "currency=usd").await;
    let fees = usd.kpis.iter().find(|k| k.label == "Fees").unwrap();
    assert_eq!(fees.value, Some(176.0));
    assert_eq!(fees.shown(), "1.76 USD");
    let eur = dashboard(&store, &known, "costs", "currency=eur").await;
    assert_eq!(
        eur.kpis.iter().find(|k| k.label == "Fees").unwrap().value,
        Some(146.0)
    );

    let by_type = store
        .fees_by_type(&known.account_id, &november_filter())
        .await
        .unwrap();
    let amounts: Vec<(&str, i64)> = by_type.iter().map(|r| (r.key.as_str(), r.amount)).collect();
    assert_eq!(amounts, [("stripe_fee", 50), ("tax", 9)]);
}

async fn the_overview_compares_with_the_previous_period(store: Store) {
    let known = seed(&store, "acme").await;
    let page = dashboard(&store, &known, "overview", "compare=1&currency=usd").await;
    let rate = page
        .kpis
        .iter()
        .find(|k| k.label == "Approval rate")
        .unwrap();
    // November, USD only: A approved a2 a5 of a1–a5, B approved b1 → 3 of 6. October: p1 of p1, p2.
    assert_eq!(rate.value, Some(0.5));
    assert_eq!(rate.previous, Some(0.5));
    let volume = page.kpis.iter().find(|k| k.label == "Volume").unwrap();
    assert_eq!(
        (volume.value, volume.previous),
        (Some(6500.0), Some(1000.0))
    );
    assert_eq!(volume.change(), Some(5.5));
    let chart = page.charts.iter().find(|c| c.id == "volume").unwrap();
    let names: Vec<&str> = chart.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Shop EU",
            "Shop EU (previous period)",
            "Shop US",
            "Shop US (previous period)"
        ]
    );
    assert_eq!(chart.labels.len(), 30);
    // The point of 2026-11-12 carries a5's volume and links to that day of that connection.
    let day = chart.labels.iter().position(|l| l == "2026-11-12").unwrap();
    let point = &chart.series[0].points[day];
    assert_eq!(point.value, Some(3000.0));
    let href = point.href.as_deref().unwrap();
    assert!(href.contains("from=2026-11-12&to=2026-11-12"), "{href}");
    assert!(href.contains(&format!("connection={}", known.a)), "{href}");
    assert!(chart.svg().contains("Shop EU (previous period)"));
}

async fn card_filters_narrow_payments_and_the_disputes_of_matching_charges(store: Store) {
    let known = seed(&store, "acme").await;
    let mut visa = november_filter();
    visa.brands = vec!["visa".into()];
    let m = total(&store, &known, &visa).await;
    assert_eq!((m.attempted, m.approved), (4, 3));
    let disputes = |filter: Filter| {
        let store = store.clone();
        let account = known.account_id.clone();
        async move {
            store
                .object_breakdown(&account, &filter, ObjectKind::Dispute, ObjectGroup::Reason)
                .await
                .unwrap()
        }
    };
    let visa_disputes = disputes(visa).await;
    assert_eq!(visa_disputes.len(), 1);
    assert_eq!(
        (
            visa_disputes[0].key.as_str(),
            visa_disputes[0].count,
            visa_disputes[0].amount
        ),
        ("fraudulent", 1, 3000)
    );
    let mut mastercard = november_filter();
    mastercard.brands = vec!["mastercard".into()];
    assert!(disputes(mastercard).await.is_empty());
    let mut only_b = november_filter();
    only_b.connections = vec![known.b.clone()];
    let m = total(&store, &known, &only_b).await;
    assert_eq!(m.attempted, 0, "connection A's payments are filtered out");
    let payouts = store
        .object_breakdown(
            &known.account_id,
            &november_filter(),
            ObjectKind::Payout,
            ObjectGroup::Status,
        )
        .await
        .unwrap();
    assert_eq!((payouts[0].key.as_str(), payouts[0].amount), ("paid", 5000));
}

async fn data_quality_counts_card_payments_with_a_bin_and_a_bank_name(store: Store) {
    let known = seed(&store, "acme").await;
    let quality = data_quality(&store, &known.account_id, &known.a, nov(16))
        .await
        .unwrap();
    // 10 card payments on A: BINs on a1–a6 (6), bank names on a1 a2 a5 a6 (4).
    assert_eq!(
        (
            quality.overall.card_payments,
            quality.overall.with_bin,
            quality.overall.with_issuer
        ),
        (10, 6, 4)
    );
    assert_eq!(quality.overall.bin_share, Some(0.6));
    // Since 2026-11-09 12:00: a1–a8.
    assert_eq!(
        (
            quality.last_7_days.card_payments,
            quality.last_7_days.with_bin
        ),
        (8, 6)
    );
    assert!(quality.remedy.unwrap().contains("Contact Stripe support"));
    let missing = store
        .payments_missing_card_details(&known.account_id, &known.a, 3)
        .await
        .unwrap();
    let ids: Vec<&str> = missing.iter().map(|p| p.charge_id.as_str()).collect();
    assert_eq!(ids, ["ch_a8", "ch_a7", "ch_a4"], "newest first");
    assert!(missing[0].missing_bin && missing[2].missing_issuer && !missing[2].missing_bin);

    let b = data_quality(&store, &known.account_id, &known.b, nov(16))
        .await
        .unwrap();
    assert_eq!(b.overall.with_bin, 0);
    assert!(b.remedy.is_some());
}

async fn numbers_follow_a_payment_that_is_later_refunded_and_disputed(store: Store) {
    let known = seed(&store, "acme").await;
    let mut a2 = store
        .payment(&known.account_id, &known.a, "ch_a2")
        .await
        .unwrap()
        .unwrap();
    a2.version += 1000;
    a2.amount_refunded = 1000;
    a2.disputed = true;
    store
        .upsert_payments(&known.account_id, &known.a, &[a2.clone()])
        .await
        .unwrap();
    // An older copy arriving late changes nothing.
    let mut stale = a2.clone();
    stale.version -= 10;
    stale.amount_refunded = 0;
    store
        .upsert_payments(&known.account_id, &known.a, &[stale])
        .await
        .unwrap();
    let m = total(&store, &known, &november_filter()).await;
    assert_eq!((m.refunded, m.refunded_amount, m.disputed), (2, 2000, 2));
    assert_eq!(m.approved, 3, "a refund does not unmake an approval");
}

async fn another_account_sees_none_of_these_numbers(store: Store) {
    let known = seed(&store, "acme").await;
    let other = store.ensure_account("other").await.unwrap();
    let rows = store
        .payment_breakdown(&other.id, &november_filter(), GroupBy::Total)
        .await
        .unwrap();
    assert!(rows.is_empty());
    let mut pointed = november_filter();
    pointed.connections = vec![known.a.clone()];
    assert!(
        store
            .payment_breakdown(&other.id, &pointed, GroupBy::Total)
            .await
            .unwrap()
            .is_empty()
    );
    let disputes = store
        .object_breakdown(
            &other.id,
            &november_filter(),
            ObjectKind::Dispute,
            ObjectGroup::Total,
        )
        .await
        .unwrap();
    assert!(disputes.is_empty());
    let share = store
        .card_details_share(&other.id, &known.a, None)
        .await
        .unwrap();
    assert_eq!(share.card_payments, 0);
}
