//! Live sync meets a permission the merchant revoked in the Stripe Dashboard ("Edit key", through the emulator's
//! control API): the applier's refetch gets Stripe's 403, the connection needs attention with a reason naming the
//! permission, health says so, and the event waits in the inbox until the key is fixed. SQLite and PostgreSQL.

#[macro_use]
mod support;

use std::time::{Duration, Instant};

use payscope::domain::connection::{Connection, ConnectionStatus};
use payscope::store::{Store, unix_now};
use payscope::sync::live::{LiveConfig, health};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use stripe::signature::{WebhookSecret, sign};
use support::live::{LiveApp, LiveStripe, master_key, test_config};

on_both_databases!(a_refetch_refused_for_a_revoked_permission_needs_attention_naming_it,);

/// How long the applier may take to meet the 403; generous for a loaded CI machine, never a target.
const SETTLE: Duration = Duration::from_secs(30);

/// Edits account 0's guide key on the emulator, as the merchant does with "Edit key" in the Stripe Dashboard.
async fn edit_key(stripe: &LiveStripe, change: Value) {
    let response = reqwest::Client::new()
        .post(format!(
            "{}/_emulator/keys/{}/permissions",
            stripe.url, stripe.accounts[0].test.restricted
        ))
        .json(&change)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
}

/// A `charge.pending` event about `charge_id`, created now: a non-final state, so the applier refetches the charge.
fn pending_charge_event(event_id: &str, charge_id: &str) -> String {
    let now = unix_now();
    serde_json::to_string(&json!({
        "id": event_id, "object": "event", "type": "charge.pending", "api_version": "2026-07-29.dahlia",
        "created": now, "livemode": false, "pending_webhooks": 1,
        "request": {"id": null, "idempotency_key": null},
        "data": {"object": {"id": charge_id, "object": "charge", "status": "pending", "created": now,
                            "amount": 1000, "currency": "usd"}},
    }))
    .unwrap()
}

/// The connection's signing secret, opened as the receiver opens it.
fn secret_of(connection: &Connection) -> WebhookSecret {
    let sealed = connection.webhook_secret_sealed.as_ref().unwrap();
    let secret = master_key()
        .open(sealed, &Connection::webhook_secret_context(&connection.id))
        .unwrap();
    WebhookSecret::new(secret.expose_secret())
}

async fn a_refetch_refused_for_a_revoked_permission_needs_attention_naming_it(store: Store) {
    let stripe = LiveStripe::start(20).await;
    // The catch-up loop never reaches the connection: only the applier's refetch meets the revoked permission.
    let config = LiveConfig {
        tick: Duration::from_secs(3600),
        ..test_config()
    };
    let app = LiveApp::start(store.clone(), &stripe, true, config).await;
    let shop = app.connect(&stripe, 0, "Shop").await;
    edit_key(&stripe, json!({"revoke": ["charge_read"]})).await;

    let charge = stripe.list_all(0, "/v1/charges", "").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = pending_charge_event("evt_refetch_revoked", &charge);
    let header = sign(body.as_bytes(), &secret_of(&shop), unix_now());
    assert_eq!(app.post_webhook(&shop.id, &body, Some(&header)).await, 200);

    let started = Instant::now();
    let connection = loop {
        let connection = store
            .connection(&shop.account_id, &shop.id)
            .await
            .unwrap()
            .unwrap();
        if connection.status == ConnectionStatus::NeedsAttention || started.elapsed() > SETTLE {
            break connection;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        connection.status,
        ConnectionStatus::NeedsAttention,
        "{connection:?}"
    );
    let reason = connection.status_reason.clone().unwrap_or_default();
    assert!(
        reason.contains("rak_charge_read") && reason.contains("api keys"),
        "the reason names the permission and where to edit the key: {reason}"
    );
    let health = health(&store, &shop.account_id, &shop.id)
        .await
        .unwrap()
        .unwrap();
    assert!(health.needs_attention, "{health:?}");
    assert!(
        health
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("rak_charge_read")),
        "{health:?}"
    );
    assert!(health.describe().contains("rak_charge_read"));
    assert_eq!(
        store
            .unapplied_inbox_events(&shop.account_id, &shop.id)
            .await
            .unwrap()
            .0,
        1,
        "the event stays in the inbox, to be applied once the key is fixed"
    );

    // A catch-up pass needs only rak_event_read: it does not lift an attention it does not answer (it did, and the
    // connection flipped between active and needs_attention at every retry).
    app.live.catch_up().catch_up(&connection).await.unwrap();
    let after_pass = store
        .connection(&shop.account_id, &shop.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (after_pass.status, after_pass.status_reason.as_deref()),
        (ConnectionStatus::NeedsAttention, Some(reason.as_str())),
        "a catch-up pass leaves the applier's attention"
    );

    // The merchant grants it back; the event's next attempt (made due now) refetches the charge, which lifts it.
    edit_key(&stripe, json!({"grant": ["charge_read"]})).await;
    store
        .defer_inbox_event(
            &shop.account_id,
            &shop.id,
            "evt_refetch_revoked",
            "retried now by the test",
            unix_now(),
        )
        .await
        .unwrap();
    let started = Instant::now();
    let connection = loop {
        let connection = store
            .connection(&shop.account_id, &shop.id)
            .await
            .unwrap()
            .unwrap();
        if connection.status != ConnectionStatus::NeedsAttention || started.elapsed() > SETTLE {
            break connection;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        (connection.status, connection.status_reason),
        (ConnectionStatus::Active, None)
    );
    assert_eq!(
        store
            .unapplied_inbox_events(&shop.account_id, &shop.id)
            .await
            .unwrap()
            .0,
        0
    );
    let lifted = payscope::sync::live::health(&store, &shop.account_id, &shop.id)
        .await
        .unwrap()
        .unwrap();
    assert!(!lifted.needs_attention, "{lifted:?}");
}
