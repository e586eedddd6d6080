//! Webhook delivery: each event goes to every enabled endpoint that wants its type as a signed JSON POST, retried
//! with backoff on non-2xx answers and timeouts, optionally duplicated, reordered or delayed; every attempt is
//! logged for `GET /_emulator/accounts/{account}/deliveries`.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use serde::Serialize;

use crate::account::Account;
use crate::emulator::Shared;
use crate::keys::random_alphanumeric;
use crate::signature;

/// How many attempts the log keeps per account (oldest dropped first).
const LOG_CAPACITY: usize = 10_000;

/// The `User-Agent` Stripe sends with deliveries (believed; UNVERIFIED in our facts).
const USER_AGENT: &str = "Stripe/1.0 (+https://stripe.com/docs/webhooks)";

/// One delivery attempt.
#[derive(Clone, Debug, Serialize)]
pub struct DeliveryAttempt {
    /// `dlv_…`, unique per attempt.
    pub id: String,
    /// The event delivered.
    pub event: String,
    /// Its type.
    pub event_type: String,
    /// The endpoint (`we_…`).
    pub endpoint: String,
    /// Where it was POSTed.
    pub url: String,
    /// 1 for the first attempt, 2 for the first retry, …
    pub attempt: u32,
    /// Whether this is an injected duplicate delivery.
    pub duplicate: bool,
    /// When the attempt started (unix milliseconds).
    pub at_ms: i64,
    /// The receiver's HTTP status, if it answered.
    pub status: Option<u16>,
    /// Why the attempt failed without a status (timeout, connection refused, …).
    pub error: Option<String>,
    /// Whether it counted as delivered (2xx).
    pub succeeded: bool,
    /// How long the receiver took.
    pub duration_ms: u64,
}

/// An account's delivery attempts, oldest first, bounded.
#[derive(Default)]
pub struct DeliveryLog {
    attempts: VecDeque<DeliveryAttempt>,
}

impl DeliveryLog {
    fn push(&mut self, attempt: DeliveryAttempt) {
        if self.attempts.len() == LOG_CAPACITY {
            self.attempts.pop_front();
        }
        self.attempts.push_back(attempt);
    }

    /// Every kept attempt, oldest first.
    pub fn attempts(&self) -> Vec<DeliveryAttempt> {
        self.attempts.iter().cloned().collect()
    }
}

/// Starts the deliveries of the events `seqs` of `account` to every endpoint that wants them.
pub fn dispatch(shared: &Arc<Shared>, account: &Arc<Account>, seqs: &[u64]) {
    let endpoints = account
        .webhook_endpoints
        .lock()
        .expect("endpoint lock poisoned")
        .clone();
    if endpoints.is_empty() {
        return;
    }
    let duplicate_rate = shared.settings().delivery.duplicate_rate;
    let mut jobs = Vec::new();
    {
        let mut events = account.events.write().expect("event lock poisoned");
        for &seq in seqs {
            let Some(event) = events.get_mut(seq) else {
                continue;
            };
            for endpoint in endpoints.iter().filter(|e| e.wants(&event.event_type)) {
                event.pending_webhooks += 1;
                jobs.push((seq, endpoint.id.clone(), false));
                if duplicate_rate > 0.0 && rand::thread_rng().gen_bool(duplicate_rate) {
                    jobs.push((seq, endpoint.id.clone(), true));
                }
            }
        }
    }
    for (seq, endpoint, duplicate) in jobs {
        let shared = Arc::clone(shared);
        let account = Arc::clone(account);
        tokio::spawn(async move {
            let shutdown = shared.shutdown.clone();
            tokio::select! {
                () = shutdown.cancelled() => {}
                () = deliver(&shared, &account, seq, &endpoint, duplicate) => {}
            }
        });
    }
}

/// Attempts one event to one endpoint until success, exhaustion of attempts, or the endpoint going away.
async fn deliver(shared: &Shared, account: &Account, seq: u64, endpoint_id: &str, duplicate: bool) {
    let settings = shared.settings().delivery;
    let mut wait = settings.delay_ms;
    if settings.reorder && settings.reorder_window_ms > 0 {
        wait += rand::thread_rng().gen_range(0..settings.reorder_window_ms);
    }
    let mut retry_delay = settings.retry_base_ms;
    let mut succeeded = false;
    for attempt in 1..=settings.max_attempts.max(1) {
        tokio::time::sleep(Duration::from_millis(wait)).await;
        wait = retry_delay;
        retry_delay = retry_delay.saturating_mul(settings.retry_factor.max(1) as u64);
        // Stripe stops retrying for endpoints deleted or disabled in the meantime.
        let Some(endpoint) = account.endpoint(endpoint_id).filter(|e| !e.disabled) else {
            break;
        };
        let Some((object, event_type)) = account.event_object(seq, endpoint.mode.is_live()) else {
            break;
        };
        let (body, event_id) = {
            let events = account.events.read().expect("event lock poisoned");
            let Some(event) = events.get(seq) else {
                break;
            };
            let version = endpoint
                .api_version
                .as_deref()
                .unwrap_or(&event.api_version);
            let json = event.to_json(object, version, endpoint.mode.is_live());
            let body = serde_json::to_string_pretty(&json).expect("JSON values always serialize");
            (body, event.id.clone())
        };
        let timestamp = now_ms() / 1000;
        let header = signature::header(
            &endpoint.signing_secrets(timestamp),
            timestamp,
            body.as_bytes(),
            endpoint.mode.is_live(),
        );
        let started = Instant::now();
        let at_ms = now_ms();
        let result = {
            let _slot = shared.delivery_slots.acquire().await;
            shared
                .http
                .post(&endpoint.url)
                .header("Content-Type", "application/json; charset=utf-8")
                .header("User-Agent", USER_AGENT)
                .header("Stripe-Signature", header)
                .timeout(Duration::from_millis(settings.timeout_ms))
                .body(body)
                .send()
                .await
        };
        let (status, error) = match result {
            Ok(response) => (Some(response.status().as_u16()), None),
            Err(e) if e.is_timeout() => (
                None,
                Some(format!("timed out after {} ms", settings.timeout_ms)),
            ),
            Err(e) => (None, Some(error_chain(&e))),
        };
        succeeded = status.is_some_and(|s| (200..300).contains(&s));
        tracing::debug!(event = %event_id, endpoint = endpoint_id, attempt, ?status, ?error, "webhook delivery");
        account
            .deliveries
            .lock()
            .expect("delivery lock poisoned")
            .push(DeliveryAttempt {
                id: format!("dlv_{}", random_alphanumeric(&mut rand::thread_rng(), 20)),
                event: event_id,
                event_type,
                endpoint: endpoint_id.to_string(),
                url: endpoint.url.clone(),
                attempt,
                duplicate,
                at_ms,
                status,
                error,
                succeeded,
                duration_ms: started.elapsed().as_millis() as u64,
            });
        if succeeded {
            break;
        }
    }
    if !duplicate {
        let mut events = account.events.write().expect("event lock poisoned");
        if let Some(event) = events.get_mut(seq) {
            event.pending_webhooks = event.pending_webhooks.saturating_sub(1);
            if !succeeded {
                event.failed_webhooks += 1;
            }
        }
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Wall-clock unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
