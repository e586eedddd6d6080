//! Fidelity of the objects the server itself makes (not the ledger's, which tests/fidelity.rs covers): webhook
//! endpoints, events, the balance, the account and the list envelope have the key sets and JSON types of
//! fixtures3.json (null is compatible with any type; a failure names the object and key).

mod support;

use std::sync::OnceLock;

use reqwest::StatusCode;
use serde_json::Value;
use support::{TestEmulator, small_config};

fn fixture(object: &str) -> Value {
    static FIXTURES: OnceLock<Value> = OnceLock::new();
    let all = FIXTURES.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/stripe-openapi/fixtures3.json"
        );
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("read {path} (the repo is cloned beside shared/): {e}"));
        serde_json::from_str(&text).unwrap()
    });
    all["resources"][object].clone()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Differences between `ours` and `theirs` at `path`, recursing into objects and first array elements.
fn compare(path: &str, ours: &Value, theirs: &Value, out: &mut Vec<String>) {
    match (ours, theirs) {
        (Value::Null, _) | (_, Value::Null) => {}
        (Value::Object(a), Value::Object(b)) => {
            if path.ends_with("metadata") {
                return;
            }
            for key in a.keys().filter(|k| !b.contains_key(*k)) {
                out.push(format!("{path}.{key}: extra key"));
            }
            for key in b.keys().filter(|k| !a.contains_key(*k)) {
                out.push(format!("{path}.{key}: missing key"));
            }
            for (key, value) in a {
                if let Some(other) = b.get(key) {
                    compare(&format!("{path}.{key}"), value, other, out);
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            if let (Some(x), Some(y)) = (a.first(), b.first()) {
                compare(&format!("{path}[0]"), x, y, out);
            }
        }
        (a, b) if kind(a) == kind(b) => {}
        (a, b) => out.push(format!(
            "{path}: {} where the fixture has {}",
            kind(a),
            kind(b)
        )),
    }
}

fn check(object: &str, ours: &Value, skip: &[&str]) {
    let mut out = Vec::new();
    compare(object, ours, &fixture(object), &mut out);
    out.retain(|d| !skip.iter().any(|s| d.starts_with(&format!("{object}.{s}"))));
    assert!(
        out.is_empty(),
        "{object} differs from fixtures3.json:\n{}",
        out.join("\n")
    );
}

#[tokio::test]
async fn webhook_endpoints_have_the_fixture_shape_plus_the_secret_on_create() {
    let emulator = TestEmulator::start(small_config()).await;
    let created = emulator
        .post_form(
            "/v1/webhook_endpoints",
            &emulator.keys.test.secret,
            &[
                ("url", "https://example.com/h"),
                ("enabled_events[]", "charge.failed"),
                ("description", "d"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK);
    // Real Stripe returns `secret` only here; the fixture (a retrieved endpoint) has none.
    check("webhook_endpoint", &created.body, &["secret"]);
    let listed = emulator
        .get("/v1/webhook_endpoints", &emulator.keys.test.secret)
        .await;
    check("webhook_endpoint", &listed.body["data"][0], &[]);
}

#[tokio::test]
async fn events_have_the_fixture_envelope() {
    let emulator = TestEmulator::start(small_config()).await;
    let reply = emulator
        .get("/v1/events?limit=100", &emulator.keys.test.secret)
        .await;
    let events = reply.body["data"].as_array().unwrap();
    assert!(!events.is_empty());
    for event in events {
        // data.object is compared per object type by tests/fidelity.rs; previous_attributes is per change.
        let mut envelope = event.clone();
        envelope["data"]["object"] = fixture("event")["data"]["object"].clone();
        check("event", &envelope, &["data.previous_attributes"]);
    }
}

#[tokio::test]
async fn the_balance_and_the_account_have_the_fixture_shape() {
    let emulator = TestEmulator::start(small_config()).await;
    let balance = emulator
        .get("/v1/balance", &emulator.keys.test.secret)
        .await;
    check("balance", &balance.body, &[]);
    let account = emulator
        .get("/v1/account", &emulator.keys.test.secret)
        .await;
    assert_eq!(account.status, StatusCode::OK);
    // Our account object carries only the settings an analytics client reads.
    check("account", &account.body, &["settings."]);
}

#[tokio::test]
async fn list_envelopes_have_exactly_stripes_four_keys() {
    let emulator = TestEmulator::start(small_config()).await;
    for path in [
        "/v1/charges",
        "/v1/events",
        "/v1/webhook_endpoints",
        "/v1/reporting/report_types",
    ] {
        let reply = emulator.get(path, &emulator.keys.test.secret).await;
        let mut keys: Vec<&String> = reply.body.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["data", "has_more", "object", "url"], "{path}");
        assert_eq!(reply.body["url"], path);
    }
}
