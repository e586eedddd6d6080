//! What the import tests share: the Stripe emulator served on 127.0.0.1:0, connections made the way the add flow
//! stores them, and the comparison of a finished import with the emulator's ground truth.
#![allow(dead_code)] // reason: each import test binary uses a different part of the harness

use std::collections::{BTreeMap, HashMap};

use payscope::crypto::MasterKey;
use payscope::domain::connection::{Connection, ConnectionStatus, Mode, Processor};
use payscope::domain::ids::new_id;
use payscope::domain::normalize::payment_from_charge;
use payscope::store::Store;
use payscope::stripe_access::StripeAccess;
use payscope::sync::completeness::day_name;
use payscope::sync::planner::PlannerConfig;
use payscope::sync::{ImportConfig, Importer};
use serde_json::{Value, json};
use stripe_emulator::{AccountKeys, Emulator, EmulatorConfig};
use tokio_util::sync::CancellationToken;

/// Logs to stderr only when `TEST_LOG=1`.
pub fn init_logging() {
    if std::env::var("TEST_LOG").as_deref() == Ok("1") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("info,sqlx=warn")
            .with_test_writer()
            .try_init();
    }
}

/// A running emulator.
pub struct FakeStripe {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// Its first account's keys.
    pub keys: AccountKeys,
    /// Stops the server when dropped.
    shutdown: CancellationToken,
    http: reqwest::Client,
}

impl Drop for FakeStripe {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Starts an emulator with `charges` charges over `days` days.
pub async fn fake_stripe(charges: usize, days: u32) -> FakeStripe {
    init_logging();
    let emulator = tokio::task::spawn_blocking(move || {
        Emulator::new(EmulatorConfig {
            charges,
            days,
            ..EmulatorConfig::default()
        })
    })
    .await
    .unwrap();
    let keys = emulator.accounts().remove(0);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    tokio::spawn(stripe_emulator::serve(listener, emulator, shutdown.clone()));
    FakeStripe {
        base_url,
        keys,
        shutdown,
        http: reqwest::Client::new(),
    }
}

impl FakeStripe {
    /// `GET /_emulator/accounts/{id}/truth`.
    pub async fn truth(&self) -> Value {
        self.control_get(&format!("/_emulator/accounts/{}/truth", self.keys.id))
            .await
    }

    /// Makes `GET /v1/payment_methods` without `customer` list every PaymentMethod (`true`) or only Treasury ones.
    pub async fn payment_methods_list_all(&self, list_all: bool) {
        self.control_post(
            &format!(
                "/_emulator/accounts/{}/payment_methods_listing",
                self.keys.id
            ),
            json!({ "list_all": list_all }),
        )
        .await;
    }

    /// `POST /_emulator/settings` with a partial settings object.
    pub async fn settings(&self, patch: Value) {
        self.control_post("/_emulator/settings", patch).await;
    }

    /// A test-mode restricted key with exactly `permissions`.
    pub async fn mint_key(&self, permissions: &[&str]) -> String {
        let answer = self
            .control_post(
                &format!("/_emulator/accounts/{}/keys", self.keys.id),
                json!({"mode": "test", "permissions": permissions}),
            )
            .await;
        answer["key"].as_str().unwrap().to_owned()
    }

    /// Expires a key: Stripe answers 401 `api_key_expired` from now on.
    pub async fn expire_key(&self, key: &str) {
        self.control_post(&format!("/_emulator/keys/{key}/expire"), json!({}))
            .await;
    }

    async fn control_get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.base_url))
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    async fn control_post(&self, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(format!("{}{path}", self.base_url))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }
}

/// A fixed master key, so a child `payscope` process (given it in `PAYSCOPE_MASTER_KEY`) opens what the test sealed.
pub const MASTER_KEY_HEX: &str = "5c0e3c1f6a4b2d8e9f7a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e";

/// The master key of [`MASTER_KEY_HEX`].
pub fn master_key() -> MasterKey {
    let bytes: [u8; 32] = hex::decode(MASTER_KEY_HEX).unwrap().try_into().unwrap();
    MasterKey::from_bytes(&bytes)
}

/// Stores a connection for `key` on the emulator's account, sealed as the add flow seals it.
pub async fn add_connection(store: &Store, stripe: &FakeStripe, key: &str) -> Connection {
    let account = store.ensure_account("default").await.unwrap();
    let id = new_id("con");
    let connection = Connection {
        api_key_sealed: master_key().seal(key, &Connection::api_key_context(&id)),
        id,
        account_id: account.id,
        name: format!("Emulated {}", new_id("n")),
        processor: Processor::Stripe,
        mode: Mode::Test,
        processor_account_id: Some(stripe.keys.id.clone()),
        api_key_hint: "rk_test_…".into(),
        webhook_endpoint_id: None,
        webhook_secret_sealed: None,
        status: ConnectionStatus::Validating,
        status_reason: None,
        created_at: 1,
        updated_at: 1,
    };
    store.insert_connection(&connection).await.unwrap();
    connection
}

/// An importer against the emulator with the whole test-mode budget and small ranges, so a few thousand objects
/// still exercise splitting.
pub fn importer(store: &Store, stripe: &FakeStripe) -> Importer {
    Importer::new(
        store.clone(),
        StripeAccess::new(&stripe.base_url, 100),
        master_key(),
        ImportConfig {
            planner: PlannerConfig {
                target_ranges: 4,
                min_pages_per_range: 1,
                max_pages_per_range: 3,
            },
            max_retry_pause: std::time::Duration::from_secs(2),
            ..ImportConfig::default()
        },
    )
}

/// Object types the truth reports that the import does not read with the guide's key.
const NOT_IMPORTED: &[&str] = &["customer"];

/// Asserts that what the store holds for `connection` equals the emulator's truth: per object type and per UTC day,
/// the count and the sum of `amount`; and that every charge has its payment row, with attempt numbers counting each
/// intent's charges in `created` order. Payment methods are those the intents (and customers, when the key reads
/// them) name, as `GET /v1/payment_methods` lists only Treasury ones in the emulator's default; use
/// [`assert_store_matches_truth_listing_all`] when the account lists them all.
pub async fn assert_store_matches_truth(store: &Store, connection: &Connection, truth: &Value) {
    let mut truth = truth.clone();
    let customers_held = !all_objects(store, connection, "customer").await.is_empty();
    let pm = &mut truth["types"]["payment_method"];
    let reachable = if customers_held {
        pm["referenced_by_intents_or_customers"].take()
    } else {
        pm["referenced_by_intents"].take()
    };
    assert!(
        reachable["count"].as_u64().unwrap() > 0,
        "the truth names no payment method"
    );
    *pm = reachable;
    assert_store_matches_truth_listing_all(store, connection, &truth).await;
}

/// [`assert_store_matches_truth`] for an account whose `GET /v1/payment_methods` lists every PaymentMethod: every
/// one is held.
pub async fn assert_store_matches_truth_listing_all(
    store: &Store,
    connection: &Connection,
    truth: &Value,
) {
    let types = truth["types"].as_object().unwrap();
    let mut differences = Vec::new();
    for (object_type, expected) in types {
        if NOT_IMPORTED.contains(&object_type.as_str()) {
            continue;
        }
        let held = all_objects(store, connection, object_type).await;
        let mut by_day: BTreeMap<String, (u64, i64)> = BTreeMap::new();
        for json in &held {
            let created = json["created"]
                .as_i64()
                .or(json["updated"].as_i64())
                .unwrap_or(0);
            let day = day_name(created.div_euclid(86_400));
            let entry = by_day.entry(day).or_default();
            entry.0 += 1;
            entry.1 += json["amount"].as_i64().unwrap_or(0);
        }
        let has_amount = expected.get("amount_sum").is_some();
        let expected_days: BTreeMap<String, (u64, i64)> = expected["by_day"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(day, v)| {
                (
                    day.clone(),
                    (
                        v["count"].as_u64().unwrap(),
                        v["amount_sum"].as_i64().unwrap_or(0),
                    ),
                )
            })
            .collect();
        let held_days: BTreeMap<String, (u64, i64)> = by_day
            .into_iter()
            .map(|(d, (c, s))| (d, (c, if has_amount { s } else { 0 })))
            .collect();
        if expected_days != held_days {
            differences.push(format!(
                "{object_type}: truth {} objects, held {}",
                expected["count"],
                held.len()
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "import differs from the truth: {differences:#?}"
    );
    check_payments(store, connection).await;
}

async fn all_objects(store: &Store, connection: &Connection, object_type: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store
            .objects_after(
                &connection.account_id,
                &connection.id,
                object_type,
                after.as_deref(),
                1000,
            )
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        all.extend(
            page.iter()
                .map(|o| serde_json::from_str::<Value>(&o.json).unwrap()),
        );
    }
    all
}

async fn check_payments(store: &Store, connection: &Connection) {
    let charges = all_objects(store, connection, "charge").await;
    assert!(!charges.is_empty());
    let mut by_intent: HashMap<String, Vec<(i64, String)>> = HashMap::new();
    for charge in &charges {
        let id = charge["id"].as_str().unwrap();
        let held = store
            .payment(&connection.account_id, &connection.id, id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no payment row for {id}"));
        let expected = payment_from_charge(&charge.to_string(), None, None, held.version).unwrap();
        assert_eq!(
            payscope::domain::payment::Payment {
                attempt_number: None,
                ..held.clone()
            },
            expected,
            "payment row of {id}"
        );
        assert!(
            held.fee.is_some() || charge["balance_transaction"].is_null(),
            "{id} has no fee"
        );
        if let Some(intent) = charge["payment_intent"].as_str() {
            by_intent
                .entry(intent.to_owned())
                .or_default()
                .push((charge["created"].as_i64().unwrap(), id.to_owned()));
        }
    }
    for (intent, mut attempts) in by_intent {
        attempts.sort();
        for (n, (_, id)) in attempts.iter().enumerate() {
            let held = store
                .payment(&connection.account_id, &connection.id, id)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                held.attempt_number,
                Some(n as i64 + 1),
                "{intent} attempt {id}"
            );
        }
    }
}
