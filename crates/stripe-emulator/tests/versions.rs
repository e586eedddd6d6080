//! Older API versions: the projection tables equal the difference between Stripe's two fixture files, and objects
//! served at 2024-04-10 — in responses and in events — have that version's key sets.

use std::collections::BTreeSet;

use serde_json::Value;
use stripe_emulator::versions::{ADDED_SINCE_2024_04_10, REMOVED_SINCE_2024_04_10};
use stripe_emulator::{Emulator, EmulatorConfig};
use tokio_util::sync::CancellationToken;

fn fixtures(file: &str) -> Value {
    let path = format!(
        "{}/../../../shared/stripe-openapi/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str::<Value>(&text).unwrap()["resources"].clone()
}

/// Dotted paths present in `a` but not in `b`, walking objects present in both.
fn only_in(a: &Value, b: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    let (Value::Object(a), Value::Object(b)) = (a, b) else {
        return;
    };
    for (key, value) in a {
        let path = format!("{prefix}{key}");
        match b.get(key) {
            None => {
                out.insert(path);
            }
            Some(other) => only_in(value, other, &format!("{path}."), out),
        }
    }
}

fn table(table: &[(&str, &[&str])]) -> BTreeSet<String> {
    table
        .iter()
        .flat_map(|(object, paths)| paths.iter().map(move |p| format!("{object}:{p}")))
        .collect()
}

/// Fields the 2024-04-10 spec lacks that the fixture diff cannot show (the 2024 fixture's `outcome` is null).
const FROM_THE_SPEC: [&str; 3] = [
    "charge:outcome.advice_code",
    "charge:outcome.network_advice_code",
    "charge:outcome.network_decline_code",
];

#[test]
fn the_projection_tables_are_exactly_the_difference_between_stripes_fixture_files() {
    let old = fixtures("fixtures3.2024-04-12.json");
    let new = fixtures("fixtures3.json");
    let objects = [
        "charge",
        "payment_intent",
        "refund",
        "dispute",
        "balance_transaction",
        "payout",
        "customer",
        "payment_method",
        "setup_intent",
        "product",
        "subscription",
        "credit_note",
        "file",
        "reporting.report_type",
        "reporting.report_run",
    ];
    let (mut added, mut removed) = (BTreeSet::new(), BTreeSet::new());
    for object in objects {
        let (mut a, mut r) = (BTreeSet::new(), BTreeSet::new());
        only_in(&new[object], &old[object], "", &mut a);
        only_in(&old[object], &new[object], "", &mut r);
        added.extend(a.into_iter().map(|p| format!("{object}:{p}")));
        removed.extend(r.into_iter().map(|p| format!("{object}:{p}")));
    }
    let mut expected_added = table(ADDED_SINCE_2024_04_10);
    for path in FROM_THE_SPEC {
        assert!(expected_added.remove(path), "{path} should be in the table");
    }
    assert_eq!(expected_added, added, "fields added since 2024-04-10");
    assert_eq!(
        table(REMOVED_SINCE_2024_04_10),
        removed,
        "fields removed since 2024-04-10"
    );
}

async fn start() -> (String, String, String, CancellationToken) {
    let emulator = Emulator::new(EmulatorConfig {
        charges: 300,
        rate_limits: false,
        ..EmulatorConfig::default()
    });
    let account = emulator.accounts()[0].clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    tokio::spawn(stripe_emulator::serve(listener, emulator, shutdown.clone()));
    (base, account.id, account.test.secret, shutdown)
}

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn objects_requested_at_2024_04_10_have_that_versions_key_sets() {
    let (base, _, secret, shutdown) = start().await;
    let old = fixtures("fixtures3.2024-04-12.json");
    let http = reqwest::Client::new();
    for (path, object) in [
        ("/v1/charges", "charge"),
        ("/v1/payment_intents", "payment_intent"),
        ("/v1/refunds", "refund"),
        ("/v1/balance_transactions", "balance_transaction"),
        ("/v1/payouts", "payout"),
        ("/v1/subscriptions?status=all", "subscription"),
        ("/v1/credit_notes", "credit_note"),
    ] {
        let separator = if path.contains('?') { '&' } else { '?' };
        let response = http
            .get(format!("{base}{path}{separator}limit=1"))
            .bearer_auth(&secret)
            .header("Stripe-Version", "2024-04-10")
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["stripe-version"], "2024-04-10");
        let list: Value = response.json().await.unwrap();
        let served = &list["data"][0];
        assert_eq!(
            keys(served),
            keys(&old[object]),
            "{object} top-level keys at 2024-04-10"
        );
    }
    let charges: Value = http
        .get(format!("{base}/v1/charges?limit=1"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        charges["data"][0].get("invoice").is_none(),
        "the account's dahlia default has no charge.invoice"
    );
    assert!(charges["data"][0]["outcome"].get("advice_code").is_some());
    shutdown.cancel();
}

#[tokio::test]
async fn events_created_while_the_account_defaults_to_2024_04_10_carry_that_shape() {
    let (base, account, secret, shutdown) = start().await;
    let http = reqwest::Client::new();
    let set = http
        .post(format!("{base}/_emulator/accounts/{account}/api_version"))
        .json(&serde_json::json!({"api_version": "2024-04-10"}))
        .send()
        .await
        .unwrap();
    assert!(set.status().is_success());
    let burst = http
        .post(format!("{base}/_emulator/accounts/{account}/activity"))
        .json(&serde_json::json!({"charges": 5}))
        .send()
        .await
        .unwrap();
    assert!(burst.status().is_success());
    let events: Value = http
        .get(format!("{base}/v1/events?type=charge.succeeded&limit=5"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let newest = &events["data"][0];
    assert_eq!(newest["api_version"], "2024-04-10");
    let charge = &newest["data"]["object"];
    assert_eq!(charge["object"], "charge");
    assert!(
        charge.as_object().unwrap().contains_key("invoice"),
        "{charge}"
    );
    assert!(
        charge["payment_method_details"]["card"]
            .get("regulated_status")
            .is_none()
    );
    shutdown.cancel();
}
