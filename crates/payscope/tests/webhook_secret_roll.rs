//! A webhook signing secret rolled in the Stripe Dashboard (the emulator's control API rolls it): deliveries signed
//! with the new and the old secret keep being accepted; once the old one expires they are refused and the
//! connection's health says why and what to do; after the merchant pastes the new secret they are accepted again,
//! the replaced secret stays accepted for its grace period, and forgeries stay refused. SQLite and PostgreSQL.

#[macro_use]
mod support;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use payscope::connections::Refusal;
use payscope::domain::connection::Connection;
use payscope::store::{Store, unix_now};
use payscope::sync::live::health;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use stripe::signature::{WebhookSecret, sign};
use support::live::{LiveApp, LiveStripe, master_key, test_config};

on_both_databases!(
    a_secret_rolled_in_the_dashboard_is_refused_once_the_old_one_expires_and_accepted_again_once_pasted,
);

/// How long deliveries and the refusal tally may take; generous for a loaded CI machine, never a target.
const SETTLE: Duration = Duration::from_secs(30);

/// Everything this test binary logs at debug and above, to check that no secret is ever logged.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs: Arc<Mutex<Vec<u8>>> = Arc::default();
        let writer = logs.clone();
        tracing_subscriber::fmt()
            .with_env_filter("debug,sqlx=info,hyper=info,reqwest=info,h2=info")
            .with_ansi(false)
            .with_writer(move || Capture(writer.clone()))
            .init();
        logs
    })
    .clone()
}

/// An `io::Write` into the shared log buffer.
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Rolls the endpoint's secret in the emulator, the old one signing for `expires_in` more seconds; the new secret.
async fn roll(stripe: &LiveStripe, endpoint: &str, expires_in: i64) -> String {
    let response = reqwest::Client::new()
        .post(format!(
            "{}/_emulator/webhook_endpoints/{endpoint}/roll_secret",
            stripe.url
        ))
        .json(&json!({ "expires_in": expires_in }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let body: Value = response.json().await.unwrap();
    body["secret"].as_str().unwrap().to_owned()
}

/// Makes activity on account 0 and waits until every delivery of it has an answer; their statuses.
async fn deliver(stripe: &LiveStripe, endpoint: &str) -> Vec<u64> {
    let before = stripe.deliveries(0).await.len();
    let events = stripe.activity(0, 1).await["events"].as_u64().unwrap() as usize;
    let started = Instant::now();
    loop {
        let attempts: Vec<Value> = stripe.deliveries(0).await[before..]
            .iter()
            .filter(|d| d["endpoint"] == endpoint && d["attempt"] == 1)
            .cloned()
            .collect();
        if attempts.len() >= events {
            return attempts
                .iter()
                .map(|d| d["status"].as_u64().unwrap_or(0))
                .collect();
        }
        assert!(
            started.elapsed() < SETTLE,
            "{} of {events} deliveries answered",
            attempts.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A charge event a forger (or Stripe, with `secret`) would send.
fn signed_event(id: &str, secret: &str) -> (String, String) {
    let body = serde_json::to_string(&json!({
        "id": id, "object": "event", "type": "charge.refunded", "api_version": "2026-07-29.dahlia",
        "created": unix_now(), "livemode": false, "pending_webhooks": 1,
        "request": {"id": null, "idempotency_key": null},
        "data": {"object": {"id": "ch_forged", "object": "charge", "status": "succeeded", "created": unix_now()}},
    }))
    .unwrap();
    let header = sign(body.as_bytes(), &WebhookSecret::new(secret), unix_now());
    (body, header)
}

async fn a_secret_rolled_in_the_dashboard_is_refused_once_the_old_one_expires_and_accepted_again_once_pasted(
    store: Store,
) {
    let logs = captured_logs();
    let stripe = LiveStripe::start(20).await;
    let app = LiveApp::start(store.clone(), &stripe, true, test_config()).await;
    let shop = app.connect(&stripe, 0, "Shop").await;
    let endpoint = shop.webhook_endpoint_id.clone().unwrap();
    let original = master_key()
        .open(
            shop.webhook_secret_sealed.as_ref().unwrap(),
            &Connection::webhook_secret_context(&shop.id),
        )
        .unwrap()
        .expose_secret()
        .to_owned();

    // Rolled with the old secret kept (Stripe's default): signed with both, still accepted.
    let first = roll(&stripe, &endpoint, 24 * 3600).await;
    assert!(
        deliver(&stripe, &endpoint).await.iter().all(|s| *s == 200),
        "deliveries signed with the new and the old secret are accepted"
    );

    // Rolled again, the old secret expiring at once: payscope's secret signs nothing any more.
    let newest = roll(&stripe, &endpoint, 0).await;
    assert!(
        deliver(&stripe, &endpoint).await.iter().all(|s| *s == 400),
        "deliveries signed only with a secret payscope does not have are refused"
    );
    let started = Instant::now();
    let refused = loop {
        let live = health(&store, &shop.account_id, &shop.id)
            .await
            .unwrap()
            .unwrap();
        if live.signature_warning.is_some() || started.elapsed() > SETTLE {
            break live;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let warning = refused.signature_warning.clone().unwrap_or_default();
    assert!(
        warning.contains("rolled the signing secret in the Stripe Dashboard")
            && warning.contains("paste the new one")
            && warning.contains("Signing secret → Reveal"),
        "health says why and what to do: {refused:?}"
    );
    assert!(refused.signature_refusals >= 1 && refused.last_signature_refusal_at.is_some());
    assert!(refused.describe().contains("webhook signatures:"));
    assert!(
        !format!("{refused:?}").contains(&newest) && !format!("{refused:?}").contains(&original)
    );

    // A malformed paste is refused with the remedy, and changes nothing.
    let malformed = app
        .connections
        .set_webhook_secret(&shop.account_id, &shop.id, SecretString::from("whsec_"))
        .await;
    assert!(
        matches!(&malformed, Err(Refusal::MalformedWebhookSecret(m)) if m.contains("Reveal")),
        "{malformed:?}"
    );

    // The merchant pastes the newest secret: accepted again, the tally starts over.
    let view = app
        .connections
        .set_webhook_secret(
            &shop.account_id,
            &shop.id,
            SecretString::from(format!("{newest}\n")),
        )
        .await
        .unwrap();
    assert!(!format!("{view:?}").contains(&newest));
    assert!(
        deliver(&stripe, &endpoint).await.iter().all(|s| *s == 200),
        "deliveries signed with the pasted secret are accepted"
    );
    let healed = health(&store, &shop.account_id, &shop.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (healed.signature_warning, healed.signature_refusals),
        (None, 0)
    );
    assert!(
        healed
            .previous_secret_accepted_until
            .is_some_and(|until| until > unix_now() + 23 * 3600),
        "{:?}",
        healed.previous_secret_accepted_until
    );

    // The secret it replaced (payscope's original) is accepted during its grace period; the rolled-away middle
    // one and a forger's are not.
    let (body, header) = signed_event("evt_grace", &original);
    assert_eq!(app.post_webhook(&shop.id, &body, Some(&header)).await, 200);
    let (body, header) = signed_event("evt_middle", &first);
    assert_eq!(app.post_webhook(&shop.id, &body, Some(&header)).await, 400);
    let (body, header) = signed_event("evt_forged", "whsec_forgedforgedforgedforged00");
    assert_eq!(app.post_webhook(&shop.id, &body, Some(&header)).await, 400);
    assert!(
        !store
            .inbox_holds(&shop.account_id, &shop.id, "evt_forged")
            .await
            .unwrap()
    );

    let logs = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(
        logs.contains("webhook delivery refused") && logs.contains("webhook signing secret set"),
        "the logs were captured"
    );
    for secret in [&original, &first, &newest] {
        assert!(
            !logs.contains(secret.as_str()),
            "a signing secret was logged"
        );
    }
}
