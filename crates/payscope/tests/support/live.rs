//! `LiveApp`: payscope serving its webhook receiver on 127.0.0.1:0 with that address as its public URL, so the
//! in-process Stripe emulator really delivers signed events to it; live sync's workers run beside it and can be
//! stopped and restarted over the same database. Plus the comparison of what payscope holds with what the
//! emulator serves.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use payscope::connections::{AddConnection, ConnectionService};
use payscope::crypto::MasterKey;
use payscope::domain::connection::Connection;
use payscope::store::Store;
use payscope::stripe_access::StripeAccess;
use payscope::sync::live::{LiveConfig, LiveSync};
use payscope::sync::{ImportConfig, Importer, JobOutcome};
use payscope::web::{AppState, serve};
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

/// The emulator, running until dropped.
pub struct LiveStripe {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Its accounts (two: the second gives "another connection").
    pub accounts: Vec<AccountKeys>,
    shutdown: CancellationToken,
    http: reqwest::Client,
}

impl Drop for LiveStripe {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl LiveStripe {
    /// Two accounts of `charges` charges over 30 days, rate limits off (the tests measure sync, not the limiter).
    pub async fn start(charges: usize) -> LiveStripe {
        init_logging();
        let emulator = tokio::task::spawn_blocking(move || {
            Emulator::new(EmulatorConfig {
                accounts: 2,
                charges,
                days: 30,
                rate_limits: false,
                ..EmulatorConfig::default()
            })
        })
        .await
        .unwrap();
        let accounts = emulator.accounts();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shutdown = CancellationToken::new();
        tokio::spawn(stripe_emulator::serve(listener, emulator, shutdown.clone()));
        LiveStripe {
            url,
            accounts,
            shutdown,
            http: reqwest::Client::new(),
        }
    }

    /// `POST /_emulator/settings` with a partial settings object.
    pub async fn settings(&self, patch: Value) {
        self.control("/_emulator/settings", patch).await;
    }

    /// `n` new payments on account `i` now, with their refunds, disputes, payouts, events and deliveries.
    pub async fn activity(&self, i: usize, n: usize) -> Value {
        let path = format!("/_emulator/accounts/{}/activity", self.accounts[i].id);
        self.control(&path, json!({"charges": n})).await
    }

    /// The deliveries the emulator attempted (oldest first).
    pub async fn deliveries(&self, i: usize) -> Vec<Value> {
        let body: Value = self
            .http
            .get(format!(
                "{}/_emulator/accounts/{}/deliveries",
                self.url, self.accounts[i].id
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["data"].as_array().cloned().unwrap_or_default()
    }

    async fn control(&self, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(format!("{}{path}", self.url))
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

    /// Every object a list endpoint of account `i` serves, read with its secret key.
    pub async fn list_all(&self, i: usize, path: &str, extra: &str) -> Vec<Value> {
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut url = format!("{}{path}?limit=100{extra}", self.url);
            if let Some(after) = &after {
                url.push_str(&format!("&starting_after={after}"));
            }
            let page: Value = self
                .http
                .get(url)
                .bearer_auth(&self.accounts[i].test.secret)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let data = page["data"].as_array().cloned().unwrap_or_default();
            after = data
                .last()
                .and_then(|o| o["id"].as_str().map(str::to_owned));
            all.extend(data);
            if page["has_more"] != json!(true) || after.is_none() {
                return all;
            }
        }
    }
}

/// The master key of every live test app.
pub fn master_key() -> MasterKey {
    MasterKey::from_bytes(&[7u8; 32])
}

/// A live-sync timing for tests: quick polls, the catch-up only when a test asks (or on start).
pub fn test_config() -> LiveConfig {
    LiveConfig {
        apply_poll: Duration::from_millis(50),
        catch_up_interval: Duration::from_secs(3600),
        polling_interval: Duration::from_secs(3600),
        tick: Duration::from_millis(100),
        ..LiveConfig::default()
    }
}

/// payscope (receiver + live-sync workers) over a store, until stopped or dropped.
pub struct LiveApp {
    /// payscope's base URL, also its public URL.
    pub url: String,
    /// The database.
    pub store: Store,
    /// The connection service (with the public URL).
    pub connections: ConnectionService,
    /// The workers' live sync, for single passes in tests.
    pub live: LiveSync,
    access: StripeAccess,
    shutdown: CancellationToken,
}

impl Drop for LiveApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl LiveApp {
    /// Starts payscope over `store` against `stripe`, with its own address as public URL (`public`) or in polling
    /// mode, and its live-sync workers running.
    pub async fn start(
        store: Store,
        stripe: &LiveStripe,
        public: bool,
        config: LiveConfig,
    ) -> LiveApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let access = StripeAccess::new(&stripe.url, 100);
        let connections = ConnectionService::new(
            store.clone(),
            access.clone(),
            master_key(),
            public.then(|| url.parse().unwrap()),
            false,
        );
        let shutdown = CancellationToken::new();
        let state = AppState::new(store.clone(), master_key(), connections.clone());
        tokio::spawn(serve(listener, state, shutdown.clone()));
        let live = LiveSync::new(store.clone(), access.clone(), master_key(), config);
        tokio::spawn({
            let live = live.clone();
            let shutdown = shutdown.clone();
            async move { live.run(shutdown).await }
        });
        LiveApp {
            url,
            store,
            connections,
            live,
            access,
            shutdown,
        }
    }

    /// Stops the server and the workers (the database stays).
    pub fn stop(&self) {
        self.shutdown.cancel();
    }

    /// Adds a connection for account `i`'s guide key and runs its import to the end, as a user would right after.
    pub async fn connect(&self, stripe: &LiveStripe, i: usize, name: &str) -> Connection {
        let account_id = self.store.ensure_account("default").await.unwrap().id;
        let added = self
            .connections
            .add(
                &account_id,
                AddConnection {
                    name: name.into(),
                    processor: "stripe".into(),
                    api_key: stripe.accounts[i].test.restricted.clone().into(),
                    replace_webhook: false,
                },
            )
            .await
            .unwrap_or_else(|refusal| panic!("adding {name}: {refusal}"));
        let connection = self
            .store
            .connection(&account_id, &added.connection.id)
            .await
            .unwrap()
            .unwrap();
        let job = self
            .store
            .import_jobs(&account_id, &connection.id, 1)
            .await
            .unwrap()
            .remove(0)
            .job
            .id;
        self.import(&connection, &job).await;
        connection
    }

    /// Runs an import job to its end.
    pub async fn import(&self, connection: &Connection, job: &str) {
        let importer = Importer::new(
            self.store.clone(),
            self.access.clone(),
            master_key(),
            ImportConfig::default(),
        );
        let outcome = importer
            .run_job(&connection.account_id, job, &CancellationToken::new())
            .await
            .unwrap();
        assert_eq!(
            outcome,
            JobOutcome::Done,
            "the import of {}",
            connection.name
        );
    }

    /// Posts a raw webhook delivery to the connection's receiver; returns the status.
    pub async fn post_webhook(
        &self,
        connection_id: &str,
        body: &str,
        signature: Option<&str>,
    ) -> u16 {
        let mut request = reqwest::Client::new()
            .post(format!("{}/webhooks/stripe/{connection_id}", self.url))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(signature) = signature {
            request = request.header("stripe-signature", signature);
        }
        request.send().await.unwrap().status().as_u16()
    }
}

/// What payscope holds for a connection, compared with what the emulator serves: per object type the ids and
/// statuses (and amounts refunded for charges), and every charge's payment row.
pub async fn differences(
    store: &Store,
    connection: &Connection,
    stripe: &LiveStripe,
    i: usize,
) -> Vec<String> {
    let mut differences = Vec::new();
    for (object_type, path, extra) in [
        ("charge", "/v1/charges", ""),
        ("payment_intent", "/v1/payment_intents", ""),
        ("refund", "/v1/refunds", ""),
        ("dispute", "/v1/disputes", ""),
        ("payout", "/v1/payouts", ""),
        ("balance_transaction", "/v1/balance_transactions", ""),
    ] {
        let served: BTreeMap<String, (Value, Value)> = stripe
            .list_all(i, path, extra)
            .await
            .into_iter()
            .map(|o| {
                (
                    o["id"].as_str().unwrap().to_owned(),
                    (o["status"].clone(), o["amount_refunded"].clone()),
                )
            })
            .collect();
        let held: BTreeMap<String, (Value, Value)> = held_objects(store, connection, object_type)
            .await
            .into_iter()
            .map(|o| {
                (
                    o["id"].as_str().unwrap().to_owned(),
                    (o["status"].clone(), o["amount_refunded"].clone()),
                )
            })
            .collect();
        if served != held {
            let missing = served.keys().filter(|k| !held.contains_key(*k)).count();
            let extra = held.keys().filter(|k| !served.contains_key(*k)).count();
            let stale: Vec<_> = served
                .iter()
                .filter(|(k, v)| held.get(*k).is_some_and(|h| h != *v))
                .map(|(k, v)| format!("{k}: stripe {v:?}, held {:?}", held[k]))
                .take(3)
                .collect();
            differences.push(format!(
                "{object_type}: stripe {} held {}; missing {missing}, extra {extra}, stale {stale:?}",
                served.len(),
                held.len()
            ));
        }
    }
    for charge in stripe.list_all(i, "/v1/charges", "").await {
        let id = charge["id"].as_str().unwrap();
        match store
            .payment(&connection.account_id, &connection.id, id)
            .await
            .unwrap()
        {
            None => differences.push(format!("no payment row for {id}")),
            Some(payment) => {
                let served = (
                    charge["status"].as_str().unwrap().to_owned(),
                    charge["amount_refunded"].as_i64().unwrap(),
                    charge["disputed"].as_bool().unwrap(),
                );
                let held = (
                    payment.status.clone(),
                    payment.amount_refunded,
                    payment.disputed,
                );
                if served != held {
                    differences.push(format!("payment {id}: stripe {served:?}, held {held:?}"));
                }
            }
        }
    }
    differences
}

/// Waits until payscope holds exactly what the emulator serves; panics with the differences after `limit`.
/// Returns how long it took.
pub async fn until_equal(
    store: &Store,
    connection: &Connection,
    stripe: &LiveStripe,
    i: usize,
    limit: Duration,
) -> Duration {
    let started = Instant::now();
    loop {
        let differences = differences(store, connection, stripe, i).await;
        if differences.is_empty() {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "after {limit:?} payscope still differs from stripe: {differences:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn held_objects(store: &Store, connection: &Connection, object_type: &str) -> Vec<Value> {
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
                .filter(|o| !o.deleted)
                .map(|o| serde_json::from_str::<Value>(&o.json).unwrap()),
        );
    }
    all
}
