//! Known payments for the analytics tests: two connections of one account with a small, hand-counted history
//! (retries within intents, declines, a pending charge, a verification, refunds, a dispute, fees, two currencies,
//! and a previous period), so every dashboard number can be asserted exactly.

use payscope::domain::analytics::period::parse_date;
use payscope::domain::analytics::{DAY, Filter, Period};
use payscope::domain::connection::{Connection, ConnectionStatus, Mode, Processor};
use payscope::domain::ids::new_id;
use payscope::domain::payment::Payment;
use payscope::store::{RawObject, Store};

/// The seeded account and its connections.
pub struct Known {
    /// The account everything belongs to.
    pub account_id: String,
    /// "Shop EU": the busy connection.
    pub a: String,
    /// "Shop US": one payment.
    pub b: String,
}

/// The period the known payments fall in: November 2026.
pub fn november() -> Period {
    Period::custom("2026-11-01", "2026-11-30").unwrap()
}

/// Everything in November.
pub fn november_filter() -> Filter {
    Filter::period(november())
}

/// Noon of `2026-11-<day>`.
pub fn nov(day: i64) -> i64 {
    parse_date("2026-11-01").unwrap() + (day - 1) * DAY + DAY / 2
}

/// A connection named `name` of `account_id`, stored.
pub async fn add_connection(store: &Store, account_id: &str, name: &str) -> String {
    let connection = Connection {
        id: new_id("con"),
        account_id: account_id.to_owned(),
        name: name.to_owned(),
        processor: Processor::Stripe,
        mode: Mode::Test,
        processor_account_id: Some("acct_1Known".into()),
        api_key_sealed: "ps1.sealed".into(),
        api_key_hint: "rk_test_…abcd".into(),
        webhook_endpoint_id: None,
        webhook_secret_sealed: None,
        status: ConnectionStatus::Active,
        status_reason: None,
        created_at: 1_700_000_000,
        updated_at: 1_700_000_000,
    };
    store.insert_connection(&connection).await.unwrap();
    connection.id
}

/// A card payment with the attributes the analytics read.
#[allow(clippy::too_many_arguments)] // reason: a table of fixtures reads best as one call per row
fn card(
    id: &str,
    created: i64,
    amount: i64,
    currency: &str,
    status: &str,
    intent: Option<(&str, i64)>,
    brand: &str,
    bin: Option<&str>,
    issuer: Option<&str>,
) -> Payment {
    let (funding, country) = match brand {
        "visa" => ("credit", "US"),
        _ => ("debit", "GB"),
    };
    Payment {
        charge_id: id.into(),
        created,
        version: created,
        amount,
        currency: currency.into(),
        status: status.into(),
        captured: status == "succeeded",
        outcome_type: Some(
            if status == "failed" {
                "issuer_declined"
            } else {
                "authorized"
            }
            .into(),
        ),
        network_status: Some(
            if status == "failed" {
                "declined_by_network"
            } else {
                "approved_by_network"
            }
            .into(),
        ),
        failure_code: (status == "failed").then(|| "card_declined".into()),
        payment_method_type: Some("card".into()),
        card_brand: Some(brand.into()),
        card_funding: Some(funding.into()),
        card_country: Some(country.into()),
        card_iin: bin.map(Into::into),
        card_issuer: issuer.map(Into::into),
        payment_intent_id: intent.map(|(pi, _)| pi.into()),
        attempt_number: intent.map(|(_, n)| n),
        ..Payment::default()
    }
}

fn declined(mut p: Payment, code: &str) -> Payment {
    p.decline_code = Some(code.into());
    p.outcome_reason = Some(code.into());
    p.advice_code = Some("try_again_later".into());
    p
}

fn with_fee(mut p: Payment, fee: i64) -> Payment {
    p.fee = Some(fee);
    p.net = Some(p.amount - fee);
    p
}

fn object(object_type: &str, id: &str, created: i64, json: serde_json::Value) -> RawObject {
    RawObject {
        object_type: object_type.into(),
        id: id.into(),
        created,
        version: created,
        deleted: false,
        json: json.to_string(),
    }
}

/// Seeds the known history into a fresh account of `store`. Hand counts (connection A, November, USD unless
/// said):
/// - attempts (verification and pending left out): a1 a2 a3 a4 a5 a8(EUR) = 6, approved a2 a5 a8 = 3;
/// - with pending: 7 attempts; retries deduplicated: pi_1 ✓, pi_2 ✗, a5 ✓, a8 ✓ = 3 of 4;
/// - declines: insufficient_funds ×2 (a1, a4), do_not_honor ×1 (a3);
/// - BIN 424242 (a1 a2 a5 a6): 3 attempts, 2 approved, 1 refunded, 1 disputed; BIN 555555 (a3 a4): 0 of 2;
/// - USD fees 59 + 117 = 176 on 4000 of volume (4.4 %); EUR fee 146 on 4000;
/// - October (the previous period of November): p1 approved, p2 declined.
///
/// Connection B: one approved 2500 USD mastercard payment.
pub async fn seed(store: &Store, account_name: &str) -> Known {
    let account_id = store.ensure_account(account_name).await.unwrap().id;
    let a = add_connection(store, &account_id, "Shop EU").await;
    let b = add_connection(store, &account_id, "Shop US").await;
    let visa_bin = (Some("424242"), Some("Bank A"));
    let mut refunded = with_fee(
        card(
            "ch_a5",
            nov(12),
            3000,
            "usd",
            "succeeded",
            None,
            "visa",
            visa_bin.0,
            visa_bin.1,
        ),
        117,
    );
    refunded.amount_refunded = 1000;
    refunded.disputed = true;
    let payments_a = vec![
        declined(
            card(
                "ch_a1",
                nov(10),
                1000,
                "usd",
                "failed",
                Some(("pi_1", 1)),
                "visa",
                visa_bin.0,
                visa_bin.1,
            ),
            "insufficient_funds",
        ),
        with_fee(
            card(
                "ch_a2",
                nov(10) + 60,
                1000,
                "usd",
                "succeeded",
                Some(("pi_1", 2)),
                "visa",
                visa_bin.0,
                visa_bin.1,
            ),
            59,
        ),
        declined(
            card(
                "ch_a3",
                nov(11),
                2000,
                "usd",
                "failed",
                Some(("pi_2", 1)),
                "mastercard",
                Some("555555"),
                None,
            ),
            "do_not_honor",
        ),
        declined(
            card(
                "ch_a4",
                nov(11) + 60,
                2000,
                "usd",
                "failed",
                Some(("pi_2", 2)),
                "mastercard",
                Some("555555"),
                None,
            ),
            "insufficient_funds",
        ),
        refunded,
        card(
            "ch_a6",
            nov(13),
            500,
            "usd",
            "pending",
            None,
            "visa",
            visa_bin.0,
            visa_bin.1,
        ),
        card(
            "ch_a7",
            nov(13),
            0,
            "usd",
            "succeeded",
            None,
            "visa",
            None,
            None,
        ),
        with_fee(
            card(
                "ch_a8",
                nov(14),
                4000,
                "eur",
                "succeeded",
                None,
                "visa",
                None,
                None,
            ),
            146,
        ),
        card(
            "ch_p1",
            nov(1) - 10 * DAY,
            1000,
            "usd",
            "succeeded",
            None,
            "visa",
            None,
            None,
        ),
        declined(
            card(
                "ch_p2",
                nov(1) - 10 * DAY,
                1000,
                "usd",
                "failed",
                None,
                "visa",
                None,
                None,
            ),
            "insufficient_funds",
        ),
    ];
    store
        .upsert_payments(&account_id, &a, &payments_a)
        .await
        .unwrap();
    let payment_b = card(
        "ch_b1",
        nov(15),
        2500,
        "usd",
        "succeeded",
        None,
        "mastercard",
        None,
        None,
    );
    store
        .upsert_payments(&account_id, &b, &[payment_b])
        .await
        .unwrap();
    let objects = vec![
        object(
            "dispute",
            "dp_1",
            nov(20),
            serde_json::json!({"id": "dp_1", "object": "dispute", "amount": 3000, "currency": "usd",
                "charge": "ch_a5", "reason": "fraudulent", "status": "lost", "created": nov(20)}),
        ),
        object(
            "refund",
            "re_1",
            nov(18),
            serde_json::json!({"id": "re_1", "object": "refund", "amount": 1000, "currency": "usd",
                "charge": "ch_a5", "reason": "requested_by_customer", "status": "succeeded", "created": nov(18)}),
        ),
        object(
            "balance_transaction",
            "txn_1",
            nov(10),
            serde_json::json!({"id": "txn_1", "object": "balance_transaction", "amount": 1000, "currency": "usd",
            "fee": 59, "net": 941, "type": "charge", "created": nov(10),
            "fee_details": [
                {"amount": 50, "currency": "usd", "type": "stripe_fee", "description": "Stripe processing fees", "application": null},
                {"amount": 9, "currency": "usd", "type": "tax", "description": "VAT", "application": null}
            ]}),
        ),
        object(
            "payout",
            "po_1",
            nov(21),
            serde_json::json!({"id": "po_1", "object": "payout", "amount": 5000, "currency": "usd",
                "status": "paid", "created": nov(21), "arrival_date": nov(23)}),
        ),
    ];
    store
        .upsert_objects(&account_id, &a, &objects)
        .await
        .unwrap();
    Known { account_id, a, b }
}
