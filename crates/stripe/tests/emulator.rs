//! The client against payscope's Stripe emulator over real HTTP: the permission probe with the guide's key, with
//! keys missing permissions, with secret, publishable and expired keys; list streams over a generated history;
//! webhook endpoint management; and the default rate budget against the emulator's enforced limits.

mod common;

use std::collections::HashSet;

use futures::future::join_all;
use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};
use stripe::views::{Charge, ChargeStatus};
use stripe::{
    ApiKey, Client, CreatedRange, Error, ListParams, Mode, NewWebhookEndpoint, Params,
    ProbeOutcome, RetryPolicy,
};
use stripe_emulator::{AccountKeys, Emulator, EmulatorConfig, serve};
use tokio_util::sync::CancellationToken;

struct TestEmulator {
    base: String,
    keys: AccountKeys,
    http: reqwest::Client,
    shutdown: CancellationToken,
}

impl Drop for TestEmulator {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl TestEmulator {
    async fn start(rate_limits: bool) -> TestEmulator {
        TestEmulator::start_with(450, rate_limits).await
    }

    async fn start_with(charges: usize, rate_limits: bool) -> TestEmulator {
        common::init_test_log();
        let config = EmulatorConfig {
            charges,
            days: 40,
            rate_limits,
            ..EmulatorConfig::default()
        };
        let emulator = tokio::task::spawn_blocking(move || Emulator::new(config))
            .await
            .unwrap();
        let keys = emulator.accounts().remove(0);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shutdown = CancellationToken::new();
        tokio::spawn(serve(listener, emulator, shutdown.clone()));
        TestEmulator {
            base,
            keys,
            http: reqwest::Client::new(),
            shutdown,
        }
    }

    fn client(&self, key: &str) -> Client {
        Client::builder(ApiKey::parse(key).unwrap())
            .base_url(&self.base)
            .build()
            .unwrap()
    }

    async fn control(&self, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(format!("{}/_emulator{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "POST /_emulator{path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    /// A test-mode restricted key with exactly `permissions` (plus what they imply).
    async fn restricted_key(&self, permissions: &[&str]) -> String {
        let path = format!("/accounts/{}/keys", self.keys.id);
        let body = self
            .control(&path, json!({ "mode": "test", "permissions": permissions }))
            .await;
        body["key"].as_str().unwrap().to_owned()
    }
}

const GUIDE: &[&str] = &[
    "balance_read",
    "balance_transaction_source_read",
    "charge_read",
    "dispute_read",
    "event_read",
    "file_read",
    "payment_intent_read",
    "payment_method_read",
    "payout_read",
    "product_read",
    "setup_intent_read",
    "source_read",
    "token_read",
    "credit_note_read",
    "subscription_read",
    "sku_read",
    "report_runs_and_report_types_read",
    "webhook_write",
];

const UNCHECKABLE: [&str; 2] = ["rak_balance_transfer_read", "rak_sku_read"];

#[tokio::test]
async fn the_guides_key_is_granted_everything_that_can_be_checked() {
    let emulator = TestEmulator::start(false).await;
    let report = emulator
        .client(&emulator.keys.test.restricted)
        .probe_permissions()
        .await
        .unwrap();
    assert_eq!(report.mode, Mode::Test);
    assert_eq!(report.checks.len(), 19);
    for check in &report.checks {
        let permission = check.requirement.permission;
        if UNCHECKABLE.contains(&permission) {
            assert!(
                matches!(&check.outcome, ProbeOutcome::CannotCheck { reason } if !reason.is_empty()),
                "{permission}: {:?}",
                check.outcome
            );
        } else {
            assert_eq!(check.outcome, ProbeOutcome::Granted, "{permission}");
        }
    }
    assert!(report.missing().is_empty());
    // GET /v1/account needs connected_account_read, which the guide's key lacks; its 403 still names the account.
    assert_eq!(
        report.account_id.as_deref(),
        Some(emulator.keys.id.as_str())
    );
}

#[tokio::test]
async fn the_probe_names_exactly_the_permissions_a_key_lacks() {
    let emulator = TestEmulator::start(false).await;
    let lacking = [
        "charge_read",
        "token_read",
        "webhook_write",
        "balance_transaction_source_read",
    ];
    let permissions: Vec<&str> = GUIDE
        .iter()
        .copied()
        .filter(|p| !lacking.contains(p))
        .collect();
    let key = emulator.restricted_key(&permissions).await;
    let report = emulator.client(&key).probe_permissions().await.unwrap();
    let mut missing: Vec<&str> = report.missing().iter().map(|r| r.permission).collect();
    missing.sort_unstable();
    assert_eq!(
        missing,
        [
            "rak_balance_transaction_source_read",
            "rak_charge_read",
            "rak_token_read",
            "rak_webhook_write"
        ]
    );
    assert_eq!(
        report.outcome("rak_balance_read"),
        Some(&ProbeOutcome::Granted)
    );
    assert_eq!(
        report.outcome("rak_source_read"),
        Some(&ProbeOutcome::Granted)
    );
    assert_eq!(
        report.account_id.as_deref(),
        Some(emulator.keys.id.as_str())
    );
}

#[tokio::test]
async fn a_key_with_no_permissions_is_missing_every_checkable_one() {
    let emulator = TestEmulator::start(false).await;
    let key = emulator.restricted_key(&[]).await;
    let report = emulator.client(&key).probe_permissions().await.unwrap();
    assert_eq!(report.missing().len(), 17, "{report:?}");
}

#[tokio::test]
async fn a_secret_key_is_granted_everything_and_reveals_the_account() {
    let emulator = TestEmulator::start(false).await;
    let report = emulator
        .client(&emulator.keys.test.secret)
        .probe_permissions()
        .await
        .unwrap();
    assert!(report.missing().is_empty());
    assert_eq!(
        report
            .checks
            .iter()
            .filter(|c| c.outcome == ProbeOutcome::Granted)
            .count(),
        17
    );
    assert_eq!(
        report.account_id.as_deref(),
        Some(emulator.keys.id.as_str())
    );
}

#[tokio::test]
async fn a_publishable_key_fails_the_probe_with_an_authentication_error() {
    let emulator = TestEmulator::start(false).await;
    let error = emulator
        .client(&emulator.keys.test.publishable)
        .probe_permissions()
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Authentication { expired: false, message, .. } if message.contains("publishable")),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_expired_key_is_reported_as_expired() {
    let emulator = TestEmulator::start(false).await;
    let key = emulator.restricted_key(GUIDE).await;
    emulator
        .control(&format!("/keys/{key}/expire"), json!({}))
        .await;
    let error = emulator
        .client(&key)
        .get("/v1/balance", &Params::new())
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Authentication { expired: true, .. }),
        "{error:?}"
    );
    assert_eq!(error.code(), Some("api_key_expired"));
    assert!(error.request_id().is_some_and(|id| id.starts_with("req_")));
}

#[tokio::test]
async fn listing_charges_walks_the_whole_history_newest_first_without_gaps() {
    let emulator = TestEmulator::start(false).await;
    let client = emulator.client(&emulator.keys.test.restricted);
    let pages: Vec<_> = client
        .list_pages("/v1/charges", ListParams::default())
        .try_collect()
        .await
        .unwrap();
    assert!(
        pages.len() >= 2,
        "a history of 450 charges spans several pages of 100"
    );
    assert!(pages.iter().all(|p| p.objects.len() <= 100));
    let charges: Vec<Charge> = pages
        .iter()
        .flat_map(|p| p.parse::<Charge>().unwrap())
        .collect();
    let ids: HashSet<&str> = charges.iter().filter_map(|c| c.id.as_deref()).collect();
    if ids.len() != charges.len() {
        let mut seen = HashSet::new();
        let duplicates: Vec<&str> = charges
            .iter()
            .filter_map(|c| c.id.as_deref())
            .filter(|id| !seen.insert(*id))
            .collect();
        panic!("duplicates across pages: {duplicates:?}");
    }
    assert!(
        charges.windows(2).all(|w| w[0].created >= w[1].created),
        "newest first"
    );
    assert!(
        charges
            .iter()
            .any(|c| c.status == Some(ChargeStatus::Succeeded))
    );
    assert!(
        charges
            .iter()
            .all(|c| c.status.is_some() && c.amount.is_some())
    );

    // A created range returns exactly the charges inside it.
    let newest = charges[0].created.unwrap();
    let oldest = charges.last().unwrap().created.unwrap();
    let middle = oldest + (newest - oldest) / 2;
    let range = CreatedRange {
        gte: Some(middle),
        ..CreatedRange::default()
    };
    let params = ListParams {
        created: range,
        ..ListParams::default()
    };
    let recent: Vec<_> = client
        .list_pages("/v1/charges", params)
        .try_collect()
        .await
        .unwrap();
    let recent_count: usize = recent.iter().map(|p| p.objects.len()).sum();
    let expected = charges
        .iter()
        .filter(|c| c.created.unwrap() >= middle)
        .count();
    assert_eq!(recent_count, expected);
}

#[tokio::test]
async fn an_expanded_balance_transaction_arrives_inside_the_charge() {
    let emulator = TestEmulator::start(false).await;
    let client = emulator.client(&emulator.keys.test.restricted);
    let params = ListParams {
        limit: 20,
        expand: vec!["data.balance_transaction".into()],
        ..ListParams::default()
    };
    let page = client
        .list_pages("/v1/charges", params)
        .try_next()
        .await
        .unwrap()
        .unwrap();
    let charges = page.parse::<Charge>().unwrap();
    let expanded = charges
        .iter()
        .filter_map(|c| c.balance_transaction.as_ref()?.as_object())
        .count();
    assert!(
        expanded > 0,
        "some succeeded charge in the newest 20 has its balance transaction expanded"
    );
}

#[tokio::test]
async fn webhook_endpoints_are_created_with_the_pinned_version_listed_and_deleted() {
    let emulator = TestEmulator::start(false).await;
    let client = emulator.client(&emulator.keys.test.restricted);
    let new = NewWebhookEndpoint {
        url: "https://payscope.example/webhooks/stripe/conn_1".into(),
        enabled_events: vec!["charge.succeeded".into(), "charge.refunded".into()],
        description: Some("payscope conn_1".into()),
        metadata: [("payscope_connection".to_owned(), "conn_1".to_owned())].into(),
    };
    let created = client.create_webhook_endpoint(&new).await.unwrap();
    let secret = created
        .secret
        .expect("the secret comes with the create response");
    assert!(secret.expose_secret().starts_with("whsec_"));
    let id = created.endpoint.id.clone().unwrap();
    assert_eq!(
        created.endpoint.api_version.as_deref(),
        Some(stripe::API_VERSION)
    );
    assert_eq!(created.endpoint.url.as_deref(), Some(new.url.as_str()));
    assert_eq!(
        created.endpoint.enabled_events.as_ref(),
        Some(&new.enabled_events)
    );
    assert_eq!(
        created.endpoint.description.as_deref(),
        Some("payscope conn_1")
    );
    assert_eq!(
        created
            .endpoint
            .metadata
            .as_ref()
            .and_then(|m| m.get("payscope_connection"))
            .map(String::as_str),
        Some("conn_1")
    );

    let listed = client.list_webhook_endpoints().await.unwrap();
    assert!(listed.iter().any(|e| e.id.as_deref() == Some(id.as_str())));

    client.delete_webhook_endpoint(&id).await.unwrap();
    let listed = client.list_webhook_endpoints().await.unwrap();
    assert!(!listed.iter().any(|e| e.id.as_deref() == Some(id.as_str())));
    let again = client.delete_webhook_endpoint(&id).await.unwrap_err();
    assert_eq!(again.code(), Some("resource_missing"));
}

#[tokio::test]
async fn a_key_without_webhook_write_cannot_create_an_endpoint() {
    let emulator = TestEmulator::start(false).await;
    let key = emulator
        .restricted_key(&["charge_read", "webhook_read"])
        .await;
    let client = emulator.client(&key);
    let new = NewWebhookEndpoint {
        url: "https://payscope.example/hook".into(),
        enabled_events: vec!["*".into()],
        ..NewWebhookEndpoint::default()
    };
    let error = client.create_webhook_endpoint(&new).await.unwrap_err();
    assert!(
        matches!(&error, Error::Permission { permission: Some(p), .. } if p == "rak_webhook_write"),
        "{error:?}"
    );
    client.list_webhook_endpoints().await.unwrap();
}

#[tokio::test]
async fn the_default_budget_keeps_concurrent_requests_clear_of_stripes_rate_limits() {
    let emulator = TestEmulator::start(true).await;
    // No retries: a single 429 from the emulator would fail the test.
    let client = Client::builder(ApiKey::parse(&emulator.keys.test.restricted).unwrap())
        .base_url(&emulator.base)
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    let paths = ["/v1/charges", "/v1/refunds", "/v1/disputes", "/v1/payouts"];
    let requests = (0..40).map(|i| {
        let client = client.clone();
        let path = paths[i % paths.len()];
        async move { client.get(path, &Params::new().text("limit", 1)).await }
    });
    for result in join_all(requests).await {
        result.unwrap();
    }
}

#[tokio::test]
async fn deliveries_signed_by_the_emulator_verify_with_the_secret_from_creation() {
    use axum::body::Bytes;
    use axum::http::HeaderMap;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    let emulator = TestEmulator::start(false).await;
    let received: Arc<Mutex<Vec<(String, Bytes)>>> = Arc::default();
    let sink = received.clone();
    let receiver = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let sink = sink.clone();
            async move {
                let signature = headers
                    .get("stripe-signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                sink.lock().unwrap().push((signature, body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });

    let client = emulator.client(&emulator.keys.test.restricted);
    let created = client
        .create_webhook_endpoint(&NewWebhookEndpoint {
            url,
            enabled_events: vec!["*".into()],
            ..NewWebhookEndpoint::default()
        })
        .await
        .unwrap();
    let secret = created.secret.unwrap();
    let path = format!("/accounts/{}/activity", emulator.keys.id);
    emulator.control(&path, json!({ "charges": 2 })).await;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while received.lock().unwrap().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no delivery within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let deliveries = received.lock().unwrap().clone();
    for (signature, body) in &deliveries {
        if let Err(error) = stripe::signature::verify(body, signature, &secret, now) {
            panic!(
                "{error}: header {signature:?}, now {now}, body {}",
                String::from_utf8_lossy(body)
            );
        }
        let wrong = stripe::WebhookSecret::new("whsec_wrong");
        assert!(stripe::signature::verify(body, signature, &wrong, now).is_err());
        let event: stripe::views::Event = serde_json::from_slice(body).unwrap();
        assert_eq!(event.api_version.as_deref(), Some(stripe::API_VERSION));
    }
}

/// Parses every object of a list into a view and returns them.
async fn parse_all<T: serde::de::DeserializeOwned>(client: &Client, path: &str) -> Vec<T> {
    let pages: Vec<_> = client
        .list_pages(path, ListParams::default())
        .try_collect()
        .await
        .unwrap();
    pages.iter().flat_map(|p| p.parse::<T>().unwrap()).collect()
}

#[tokio::test]
async fn every_object_the_emulator_serves_parses_into_its_view_with_known_enum_values() {
    use stripe::views::{
        BalanceTransaction, BalanceTransactionType, Dispute, DisputeStatus, Event, PaymentIntent,
        PaymentIntentStatus, Payout, PayoutStatus, Refund, RefundStatus,
    };

    // Enough history that every kind of object occurs (disputes are rare).
    let emulator = TestEmulator::start_with(1500, false).await;
    let client = emulator.client(&emulator.keys.live.secret);

    let charges: Vec<Charge> = parse_all(&client, "/v1/charges").await;
    assert!(!charges.is_empty());
    for charge in &charges {
        assert!(
            !matches!(charge.status, Some(ChargeStatus::Unknown(_)) | None),
            "{charge:?}"
        );
        let card = charge
            .payment_method_details
            .as_ref()
            .and_then(|d| d.card.as_ref());
        if let Some(card) = card {
            assert!(
                !matches!(card.brand, Some(stripe::views::CardBrand::Unknown(_))),
                "{card:?}"
            );
            assert!(
                !matches!(card.funding, Some(stripe::views::CardFunding::Unknown(_))),
                "{card:?}"
            );
        }
    }
    let intents: Vec<PaymentIntent> = parse_all(&client, "/v1/payment_intents").await;
    assert!(
        intents
            .iter()
            .all(|i| !matches!(i.status, Some(PaymentIntentStatus::Unknown(_)) | None))
    );
    assert!(!intents.is_empty());
    let refunds: Vec<Refund> = parse_all(&client, "/v1/refunds").await;
    assert!(
        refunds
            .iter()
            .all(|r| !matches!(r.status, Some(RefundStatus::Unknown(_)) | None))
    );
    assert!(!refunds.is_empty());
    let disputes: Vec<Dispute> = parse_all(&client, "/v1/disputes").await;
    assert!(
        disputes
            .iter()
            .all(|d| !matches!(d.status, Some(DisputeStatus::Unknown(_)) | None))
    );
    assert!(!disputes.is_empty());
    let transactions: Vec<BalanceTransaction> =
        parse_all(&client, "/v1/balance_transactions").await;
    assert!(!transactions.is_empty());
    for txn in &transactions {
        assert!(
            !matches!(
                txn.transaction_type,
                Some(BalanceTransactionType::Unknown(_)) | None
            ),
            "{txn:?}"
        );
        assert_eq!(
            txn.net,
            Some(txn.amount.unwrap() - txn.fee.unwrap()),
            "{txn:?}"
        );
    }
    let payouts: Vec<Payout> = parse_all(&client, "/v1/payouts").await;
    assert!(
        payouts
            .iter()
            .all(|p| !matches!(p.status, Some(PayoutStatus::Unknown(_)) | None))
    );
    assert!(!payouts.is_empty());
    // Events are the longest list (several per object); the newest three pages cover every event type produced.
    let pages: Vec<_> = client
        .list_pages("/v1/events", ListParams::default())
        .take(3)
        .try_collect()
        .await
        .unwrap();
    let events: Vec<Event> = pages
        .iter()
        .flat_map(|p| p.parse::<Event>().unwrap())
        .collect();
    assert!(!events.is_empty());
    for event in &events {
        assert!(
            event.id.is_some() && event.event_type.is_some(),
            "{event:?}"
        );
        assert!(
            event
                .data
                .as_ref()
                .and_then(|d| d.object.as_ref())
                .is_some(),
            "{event:?}"
        );
    }
}
