//! `payscope bench dashboards`: generates a million payments (two data connections, a year, three currencies,
//! retries, declines, refunds, disputes, fees) with their balance transactions, refunds, disputes and daily payouts
//! straight into a SQLite file through the store, builds the daily rollups, then times the server-side rendering
//! of every dashboard page — the queries, the charts and the template — and reports each.

use std::time::Instant;

use anyhow::Context;
use clap::Args;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::domain::analytics::DAY;
use crate::domain::connection::{Connection, ConnectionStatus, Mode, Processor};
use crate::domain::ids::new_id;
use crate::domain::payment::Payment;
use crate::store::{DEFAULT_ACCOUNT, RawObject, RefreshCutoffs, Store, unix_now};
use crate::web::dashboards::query::View;
use crate::web::dashboards::{DASHBOARDS, nav, render_page};
use crate::web::data_quality::data_quality_with_affected;
use crate::web::layout::{Layout, asset_version};

/// Arguments of `payscope bench dashboards`.
#[derive(Debug, Args)]
pub struct DashboardsBenchArgs {
    /// Payments to generate.
    #[arg(long, default_value_t = 1_000_000)]
    pub payments: usize,
    /// Days of history they spread over, ending now.
    #[arg(long, default_value_t = 365)]
    pub days: i64,
    /// Renders of each page; the report gives the median and the slowest.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Range presets to time each page with.
    #[arg(long, value_delimiter = ',', default_value = "30d,7d,90d,365d")]
    pub ranges: Vec<String>,
    /// Extra query parameters of every page, to time a filtered view (e.g. `brand=visa` or `dedup=1`).
    #[arg(long, default_value = "")]
    pub params: String,
    /// An existing benchmark database to reuse (generated payments are kept there); default: a temporary file.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct Timing {
    page: String,
    range: String,
    median_ms: f64,
    max_ms: f64,
    bytes: usize,
}

/// Runs the benchmark.
pub async fn run(args: DashboardsBenchArgs) -> anyhow::Result<()> {
    let temp = std::env::temp_dir().join(new_id("payscope-bench-dashboards"));
    let url = args
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", temp.join("bench.db").display()));
    let store = Store::open(&url)
        .await
        .with_context(|| format!("opening {url}"))?;
    let account = store.ensure_account(DEFAULT_ACCOUNT).await?;
    let now = unix_now();
    if store.connections(&account.id).await?.is_empty() {
        let started = Instant::now();
        generate(&store, &account.id, args.payments, args.days, now).await?;
        eprintln!(
            "generated {} payments in {:.1} s",
            args.payments,
            started.elapsed().as_secs_f64()
        );
    }
    // The dashboards read daily rollups; build every marked day now, as the background refresher of `serve` would,
    // so the timings below are of reading pages, not of catching up with the generator.
    let started = Instant::now();
    let mut days = 0;
    loop {
        let done = store
            .refresh_marked_rollups(500, RefreshCutoffs::everything())
            .await?;
        if done == 0 {
            break;
        }
        days += done;
    }
    if days > 0 {
        eprintln!(
            "built the rollups of {days} connection-days and day blocks in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    let layout = |name: &str| Layout {
        email: "bench@payscope.test".into(),
        account_name: account.name.clone(),
        active: nav(name),
        csrf_token: "bench".into(),
        is_admin: true,
        asset_version: asset_version(),
    };
    let mut timings = Vec::new();
    for range in &args.ranges {
        for (name, _) in DASHBOARDS {
            let view = || View::parse(&format!("range={range}&{}", args.params), now);
            let timing = time_page(format!("/dashboards/{name}"), range, args.runs, || async {
                let html = render_page(&store, &account.id, layout(name), name, view()?)
                    .await?
                    .context("a dashboard vanished")?;
                Ok(html.len())
            })
            .await?;
            timings.push(timing);
        }
    }
    // Each connection's data-quality page: the card-details shares over everything and the last 7 days.
    for connection in store.connections(&account.id).await? {
        let page = format!("/connections/{}/data-quality", connection.name);
        let timing = time_page(page, "all", args.runs, || async {
            data_quality_with_affected(&store, &account.id, &connection.id, now).await?;
            Ok(0)
        })
        .await?;
        timings.push(timing);
    }
    if !args.json {
        for t in &timings {
            println!(
                "{:<24} {:>5}  median {:>8.1} ms  max {:>8.1} ms  {:>7} bytes",
                t.page, t.range, t.median_ms, t.max_ms, t.bytes
            );
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&timings)?);
    }
    store.close().await;
    if args.database_url.is_none() {
        // The generated database is only for this run; a reused one (--database-url) is the caller's.
        let _ = std::fs::remove_dir_all(&temp);
    }
    Ok(())
}

/// Renders `page` `runs` times with `render` (which returns the page's size) and keeps the median and slowest.
async fn time_page<F, Fut>(
    page: String,
    range: &str,
    runs: usize,
    mut render: F,
) -> anyhow::Result<Timing>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<usize>>,
{
    let mut samples = Vec::new();
    let mut bytes = 0;
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        bytes = render().await?;
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    samples.sort_by(f64::total_cmp);
    Ok(Timing {
        page,
        range: range.to_owned(),
        median_ms: samples[samples.len() / 2],
        max_ms: samples[samples.len() - 1],
        bytes,
    })
}

/// Writes `count` payments over `days` days before `now`, split between two connections, in transactions of
/// 10,000 rows.
async fn generate(
    store: &Store,
    account_id: &str,
    count: usize,
    days: i64,
    now: i64,
) -> anyhow::Result<()> {
    let mut connections = Vec::new();
    for name in ["Bench EU", "Bench US"] {
        let connection = Connection {
            id: new_id("con"),
            account_id: account_id.to_owned(),
            name: name.to_owned(),
            processor: Processor::Stripe,
            mode: Mode::Test,
            processor_account_id: Some(format!("acct_bench{}", connections.len())),
            api_key_sealed: "bench".into(),
            api_key_hint: "rk_test_…bench".into(),
            webhook_endpoint_id: None,
            webhook_secret_sealed: None,
            status: ConnectionStatus::Active,
            status_reason: None,
            created_at: now,
            updated_at: now,
        };
        store.insert_connection(&connection).await?;
        connections.push(connection.id);
    }
    let mut rng = StdRng::seed_from_u64(8);
    let start = now - days * DAY;
    let mut batch: Vec<Payment> = Vec::with_capacity(10_000);
    let mut written = 0;
    let mut which = 0;
    while written < count {
        let n = (count - written).min(10_000);
        batch.clear();
        while batch.len() < n {
            let created = rng.gen_range(start..now);
            let intent = format!("pi_{written}_{}", batch.len());
            // One intent in ten is retried once: the first attempt declined, the second decided afresh.
            let attempts = if rng.gen_bool(0.1) { 2 } else { 1 };
            for attempt in 1..=attempts {
                if batch.len() == n {
                    break;
                }
                let first_of_retry = attempts == 2 && attempt == 1;
                batch.push(payment(
                    &mut rng,
                    created + attempt * 30,
                    &intent,
                    attempt,
                    first_of_retry,
                ));
            }
        }
        let connection = &connections[which % 2];
        store
            .upsert_payments(account_id, connection, &batch)
            .await?;
        store
            .upsert_objects(account_id, connection, &objects_of(&batch))
            .await?;
        which += 1;
        written += n;
    }
    // One payout a day per connection.
    for connection in &connections {
        let payouts: Vec<RawObject> = (0..days)
            .map(|day| {
                let created = start + day * DAY + DAY / 2;
                let json = serde_json::json!({"id": format!("po_{day}"), "object": "payout",
                    "amount": 1_000_000 + day, "currency": "usd", "status": "paid", "created": created});
                raw("payout", format!("po_{day}"), created, json)
            })
            .collect();
        store
            .upsert_objects(account_id, connection, &payouts)
            .await?;
    }
    Ok(())
}

/// The Stripe objects the disputes, refunds and costs dashboards read for `payments`: a balance transaction with
/// its fee lines per payment with a fee, a refund per refunded payment, a dispute per disputed one.
fn objects_of(payments: &[Payment]) -> Vec<RawObject> {
    const DISPUTE_REASONS: &[&str] =
        &["fraudulent", "product_not_received", "duplicate", "general"];
    const DISPUTE_STATUSES: &[&str] = &["won", "lost", "needs_response", "under_review"];
    let mut objects = Vec::new();
    for (i, p) in payments.iter().enumerate() {
        let charge = &p.charge_id;
        if let (Some(fee), Some(net)) = (p.fee, p.net) {
            let tax = fee / 10;
            let json = serde_json::json!({"id": format!("txn_{charge}"), "object": "balance_transaction",
                "amount": p.amount, "currency": p.currency, "fee": fee, "net": net, "type": "charge",
                "source": charge, "created": p.created, "fee_details": [
                    {"amount": fee - tax, "currency": p.currency, "type": "stripe_fee"},
                    {"amount": tax, "currency": p.currency, "type": "tax"}]});
            objects.push(raw(
                "balance_transaction",
                format!("txn_{charge}"),
                p.created,
                json,
            ));
        }
        if p.amount_refunded > 0 {
            let created = p.created + DAY;
            let json = serde_json::json!({"id": format!("re_{charge}"), "object": "refund",
                "amount": p.amount_refunded, "currency": p.currency, "charge": charge,
                "reason": "requested_by_customer", "status": "succeeded", "created": created});
            objects.push(raw("refund", format!("re_{charge}"), created, json));
        }
        if p.disputed {
            let created = p.created + 3 * DAY;
            let json = serde_json::json!({"id": format!("dp_{charge}"), "object": "dispute",
                "amount": p.amount, "currency": p.currency, "charge": charge,
                "reason": DISPUTE_REASONS[i % DISPUTE_REASONS.len()],
                "status": DISPUTE_STATUSES[i % DISPUTE_STATUSES.len()], "created": created});
            objects.push(raw("dispute", format!("dp_{charge}"), created, json));
        }
    }
    objects
}

fn raw(object_type: &str, id: String, created: i64, json: serde_json::Value) -> RawObject {
    RawObject {
        object_type: object_type.into(),
        id,
        created,
        version: created,
        deleted: false,
        json: json.to_string(),
    }
}

fn payment(rng: &mut StdRng, created: i64, intent: &str, attempt: i64, declined: bool) -> Payment {
    const COUNTRIES: &[&str] = &["US", "GB", "DE", "FR", "NL", "CA", "ES", "IT", "BR", "JP"];
    const DECLINES: &[&str] = &[
        "insufficient_funds",
        "do_not_honor",
        "generic_decline",
        "card_velocity_exceeded",
        "expired_card",
        "incorrect_cvc",
    ];
    // A card's brand, funding, issuing country and bank follow from its BIN, as they do for real cards: 300 BINs
    // of 40 banks in 10 countries; the brands are 55 % Visa, 30 % Mastercard, 10 % Amex, 5 % Discover.
    let bin_index = rng.gen_range(0..300_u32);
    let brand = match bin_index % 20 {
        0..=10 => "visa",
        11..=16 => "mastercard",
        17..=18 => "amex",
        _ => "discover",
    };
    let bank = bin_index % 40;
    let funding = ["credit", "debit", "prepaid"][(bin_index / 40 % 3) as usize];
    let country = COUNTRIES[(bank % 10) as usize];
    let roll = rng.r#gen::<f64>();
    let status = if declined || roll < 0.12 {
        "failed"
    } else if roll < 0.13 {
        "pending"
    } else {
        "succeeded"
    };
    let currency = match rng.gen_range(0..20) {
        0..=15 => "usd",
        16..=18 => "eur",
        _ => "gbp",
    };
    let amount = rng.gen_range(500..30_000);
    let succeeded = status == "succeeded";
    let bin = 400_000 + bin_index * 7;
    let decline =
        (status == "failed").then(|| DECLINES[rng.gen_range(0..DECLINES.len())].to_owned());
    let fee = succeeded.then(|| amount * 29 / 1000 + 30);
    Payment {
        charge_id: format!("ch_{intent}_{attempt}"),
        created,
        version: created,
        amount,
        currency: currency.into(),
        status: status.into(),
        captured: succeeded,
        amount_refunded: if succeeded && rng.gen_bool(0.05) {
            amount
        } else {
            0
        },
        disputed: succeeded && rng.gen_bool(0.005),
        outcome_type: Some(
            if succeeded {
                "authorized"
            } else {
                "issuer_declined"
            }
            .into(),
        ),
        network_status: Some(
            if succeeded {
                "approved_by_network"
            } else {
                "declined_by_network"
            }
            .into(),
        ),
        outcome_reason: decline.clone(),
        risk_level: Some("normal".into()),
        advice_code: decline.as_ref().map(|_| "try_again_later".into()),
        network_decline_code: None,
        failure_code: decline.as_ref().map(|_| "card_declined".into()),
        decline_code: decline,
        payment_method_type: Some("card".into()),
        card_brand: Some(brand.into()),
        card_funding: Some(funding.into()),
        card_country: Some(country.into()),
        card_iin: Some(bin.to_string()),
        card_issuer: Some(format!("Bank {bank}")),
        wallet: rng.gen_bool(0.2).then(|| "apple_pay".into()),
        three_d_secure: rng.gen_bool(0.3).then(|| "authenticated".into()),
        fee,
        net: fee.map(|f| amount - f),
        payment_intent_id: Some(intent.to_owned()),
        attempt_number: Some(attempt),
        customer_id: None,
    }
}
