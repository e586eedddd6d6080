//! Live sync after a process ends, on SQLite (one process serves a SQLite file): a restarted applier takes the
//! events a killed process had claimed at once, and a process receiving webhooks without an applier keeps its
//! write-ahead log bounded. (A clean shutdown releasing its claims, on both databases, is in `live_sync`.)

#[macro_use]
mod support;

use std::sync::Arc;
use std::time::Duration;

use payscope::connections::ConnectionService;
use payscope::domain::connection::{Connection, ConnectionStatus, Mode, Processor};
use payscope::domain::ids::new_id;
use payscope::store::{InboxDelivery, InboxEvent, Store, WAL_BOUND_BYTES, unix_now};
use payscope::stripe_access::StripeAccess;
use payscope::sync::live::LiveSync;
use payscope::web::{AppState, serve};
use serde_json::json;
use stripe::signature::{WebhookSecret, sign};
use support::live::{master_key, test_config};
use tokio_util::sync::CancellationToken;

/// Longer than any wait here should take, shorter than the lease (120 s) claims used to wait out.
const SETTLE: Duration = Duration::from_secs(30);

/// Nothing listens there: these tests never need Stripe (their events carry final charges).
const NO_STRIPE: &str = "http://127.0.0.1:9";

const SECRET: &str = "whsec_recoverytests0001";

/// A connection with a webhook secret, stored without asking Stripe.
async fn offline_connection(store: &Store) -> Connection {
    let key = master_key();
    let account = store.ensure_account("default").await.unwrap();
    let id = new_id("con");
    let connection = Connection {
        api_key_sealed: key.seal("rk_test_recovery0001", &Connection::api_key_context(&id)),
        webhook_secret_sealed: Some(key.seal(SECRET, &Connection::webhook_secret_context(&id))),
        id,
        account_id: account.id.clone(),
        name: "Offline".into(),
        processor: Processor::Stripe,
        mode: Mode::Test,
        processor_account_id: Some("acct_offline".into()),
        api_key_hint: "rk_test_…0001".into(),
        webhook_endpoint_id: Some("we_offline".into()),
        status: ConnectionStatus::Active,
        status_reason: None,
        created_at: unix_now(),
        updated_at: unix_now(),
    };
    store.insert_connection(&connection).await.unwrap();
    connection
}

/// A `charge.succeeded` event about a succeeded charge (final: applied without a refetch), with `padding` bytes
/// of description.
fn succeeded_charge_event(event_id: &str, charge_id: &str, padding: usize) -> String {
    let now = unix_now();
    serde_json::to_string(&json!({
        "id": event_id, "object": "event", "type": "charge.succeeded", "api_version": "2026-07-29.dahlia",
        "created": now, "livemode": false, "pending_webhooks": 1,
        "request": {"id": null, "idempotency_key": null},
        "data": {"object": {"id": charge_id, "object": "charge", "status": "succeeded", "created": now,
                            "amount": 1000, "amount_captured": 1000, "amount_refunded": 0, "captured": true,
                            "paid": true, "currency": "usd", "balance_transaction": null,
                            "description": "x".repeat(padding)}},
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_a_restarted_applier_takes_the_events_a_killed_process_had_claimed_at_once() {
    let db = support::sqlite_store().await;
    let store = db.store.clone();
    let shop = offline_connection(&store).await;
    store
        .insert_inbox_deliveries(&[InboxDelivery {
            account_id: shop.account_id.clone(),
            connection_id: shop.id.clone(),
            event: InboxEvent {
                event_id: "evt_orphan".into(),
                event_type: "charge.succeeded".into(),
                event_created: unix_now(),
                payload: succeeded_charge_event("evt_orphan", "ch_orphan", 0),
            },
        }])
        .await
        .unwrap();
    // What a process killed in the middle of a slice leaves: its claim, with the lease it took (120 s before).
    let now = unix_now();
    let orphaned = store
        .claim_inbox_events("applier_killed", now, now + 120, 10)
        .await
        .unwrap();
    assert_eq!(orphaned.len(), 1);

    let live = LiveSync::new(
        store.clone(),
        StripeAccess::new(NO_STRIPE, 100),
        master_key(),
        test_config(),
    );
    let shutdown = CancellationToken::new();
    let running = tokio::spawn({
        let (applier, shutdown) = (live.applier().clone(), shutdown.clone());
        async move { applier.run(test_config().apply_poll, shutdown).await }
    });
    let started = std::time::Instant::now();
    while store
        .payment(&shop.account_id, &shop.id, "ch_orphan")
        .await
        .unwrap()
        .is_none()
        && started.elapsed() < SETTLE
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    shutdown.cancel();
    running.await.unwrap();
    assert!(
        store
            .payment(&shop.account_id, &shop.id, "ch_orphan")
            .await
            .unwrap()
            .is_some(),
        "the orphaned event was applied without waiting out the killed process's lease"
    );
    assert_eq!(
        store
            .unapplied_inbox_events(&shop.account_id, &shop.id)
            .await
            .unwrap()
            .0,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_receiving_webhooks_without_an_applier_keeps_the_write_ahead_log_bounded() {
    let db = support::sqlite_store().await;
    let store = db.store.clone();
    let shop = offline_connection(&store).await;
    // The receiver alone: no applier, so nothing else checkpoints the WAL.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!(
        "http://{}/webhooks/stripe/{}",
        listener.local_addr().unwrap(),
        shop.id
    );
    let access = StripeAccess::new(NO_STRIPE, 100);
    let services = ConnectionService::new(store.clone(), access, master_key(), None, false);
    let shutdown = CancellationToken::new();
    tokio::spawn(serve(
        listener,
        AppState::new(store.clone(), master_key(), services),
        shutdown.clone(),
    ));

    // 48 MiB of deliveries, three times the bound; 8 at a time.
    const PADDING: usize = 100_000;
    let total = 3 * WAL_BOUND_BYTES as usize / PADDING;
    let http = reqwest::Client::new();
    let secret = WebhookSecret::new(SECRET);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut senders = Vec::new();
    for _ in 0..8 {
        let (http, endpoint, secret, next) =
            (http.clone(), endpoint.clone(), secret.clone(), next.clone());
        senders.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= total {
                    return;
                }
                let body =
                    succeeded_charge_event(&format!("evt_big{n}"), &format!("ch_big{n}"), PADDING);
                let header = sign(body.as_bytes(), &secret, unix_now());
                let response = http
                    .post(&endpoint)
                    .header("content-type", "application/json")
                    .header("stripe-signature", header)
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200, "delivery {n}");
            }
        }));
    }
    for sender in senders {
        sender.await.unwrap();
    }
    assert_eq!(
        store
            .unapplied_inbox_events(&shop.account_id, &shop.id)
            .await
            .unwrap()
            .0,
        total as i64,
        "every delivery was kept"
    );
    let wal = std::fs::metadata(format!("{}-wal", db.path().display()))
        .map(|m| m.len())
        .unwrap_or(0);
    // The bound, plus a commit's worth of deliveries (the one that crossed it) and its index pages.
    let limit = WAL_BOUND_BYTES as u64 + 4 * 1024 * 1024;
    assert!(
        wal <= limit,
        "the WAL is {wal} bytes after {} MiB of deliveries; at most {limit} expected",
        total * PADDING / (1024 * 1024)
    );
    shutdown.cancel();
}
