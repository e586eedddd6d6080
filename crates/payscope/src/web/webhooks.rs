//! The webhook receiver, `POST /webhooks/stripe/{connection_id}`: verifies Stripe's signature with the
//! connection's secret(s), checks the body is an event of the connection's mode, and answers 200 only once the
//! event is durable in the inbox (group commit). It never calls Stripe; the applier does the rest.

use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post};
use secrecy::ExposeSecret;
use stripe::signature::{SignatureError, WebhookSecret, verify};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::AppState;
use crate::connections::SignatureRefusals;
use crate::domain::connection::{Connection, ConnectionStatus};
use crate::store::{InboxDelivery, InboxEvent, Store, WebhookTarget, unix_now};
use crate::sync::live::event::{EventError, parse_event};
use crate::sync::live::{InboxWriteError, InboxWriter};

/// Largest body accepted. Stripe's events are a few kB; anything near this is not one.
pub const MAX_BODY: usize = 1 << 20;

/// The receiver's route, with its own group-commit inbox writer and connection cache (one per router, i.e. per
/// server).
pub fn receiver(state: &AppState) -> MethodRouter<AppState> {
    post(receive).layer(Extension(Receiver {
        inbox: InboxWriter::new(state.store().clone()),
        targets: Targets::default(),
        refusals: SignatureRefusals::new(state.store().clone()),
        refusal_log: RefusalLog::default(),
    }))
}

/// What the receiver keeps between requests.
#[derive(Debug, Clone)]
struct Receiver {
    inbox: InboxWriter,
    targets: Targets,
    /// Deliveries refused for a bad signature, for the connection's health (a secret rolled in the Dashboard).
    refusals: SignatureRefusals,
    refusal_log: RefusalLog,
}

/// Log lines for refused deliveries: at most [`REFUSAL_LINES_PER_SECOND`] a second (a burst of twice that), the
/// rest counted and reported on the next line, so a flood of forged requests cannot become a flood of log lines.
#[derive(Debug, Clone)]
struct RefusalLog {
    budget: Arc<governor::DefaultDirectRateLimiter>,
    suppressed: Arc<std::sync::atomic::AtomicU64>,
}

/// Refusal lines logged a second at most.
const REFUSAL_LINES_PER_SECOND: u32 = 10;

impl Default for RefusalLog {
    fn default() -> Self {
        let per_second =
            std::num::NonZeroU32::new(REFUSAL_LINES_PER_SECOND).expect("the rate is not zero");
        let burst = per_second.saturating_mul(std::num::NonZeroU32::new(2).expect("2 is not zero"));
        RefusalLog {
            budget: Arc::new(governor::RateLimiter::direct(
                governor::Quota::per_second(per_second).allow_burst(burst),
            )),
            suppressed: Arc::default(),
        }
    }
}

impl RefusalLog {
    /// Logs one refusal if the budget allows, with how many were left unlogged since the last line.
    fn log(&self, connection_id: &str, status: StatusCode, refusal: &Refusal) {
        use std::sync::atomic::Ordering;
        if self.budget.check().is_err() {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let unlogged = self.suppressed.swap(0, Ordering::Relaxed);
        // The id comes from the URL, percent-decoded: Debug escapes anything that could forge a log line.
        tracing::warn!(connection = ?connection_id, status = status.as_u16(), reason = %refusal, unlogged, "webhook delivery refused");
    }
}

/// How long a looked-up connection is trusted without reading it again. At 1,000 deliveries a second the lookup was
/// the second-slowest step of an acknowledgement (a reader query, up to 30 ms at p99 while the applier and the rollup
/// refresher used the readers); a removal or a new secret is seen within this time. A signature that fails with a
/// cached secret is checked again with a fresh read, so a new secret (Replace webhook) is never refused.
const TARGET_TTL: std::time::Duration = std::time::Duration::from_secs(1);

/// The receiver's cache of connections by id: only found connections, so an unknown id is read every time.
#[derive(Debug, Clone, Default)]
struct Targets(Arc<Mutex<HashMap<String, Cached>>>);

/// A connection as read, and when.
type Cached = (Instant, Arc<WebhookTarget>);

impl Targets {
    /// The connection behind `connection_id`, and whether it came from the cache: it does if it was read less than
    /// [`TARGET_TTL`] ago and `fresh` is false.
    async fn get(
        &self,
        store: &Store,
        connection_id: &str,
        fresh: bool,
    ) -> Result<(Arc<WebhookTarget>, bool), Refusal> {
        if !fresh
            && let Some((read_at, target)) = self.0.lock().unwrap().get(connection_id)
            && read_at.elapsed() < TARGET_TTL
        {
            return Ok((target.clone(), true));
        }
        let read_at = Instant::now();
        let target = store
            .webhook_target(connection_id)
            .await
            .map_err(|e| Refusal::Store(e.to_string()))?;
        let mut cache = self.0.lock().unwrap();
        let Some(target) = target else {
            cache.remove(connection_id);
            return Err(Refusal::UnknownConnection);
        };
        let target = Arc::new(target);
        // Connections come and go: entries past their time are dropped whenever one is added.
        cache.retain(|_, (at, _)| at.elapsed() < TARGET_TTL);
        cache.insert(connection_id.to_owned(), (read_at, target.clone()));
        Ok((target, false))
    }
}

/// Why a delivery was refused. Each is answered with a 4xx (5xx for our own failures, which Stripe retries) and
/// logged once, without the secret, the signature or the body.
#[derive(Debug, thiserror::Error)]
enum Refusal {
    #[error("the body is larger than {MAX_BODY} bytes")]
    TooLarge,
    #[error("the Stripe-Signature header is missing or not text")]
    NoSignatureHeader,
    #[error("no data connection has this id")]
    UnknownConnection,
    #[error("the data connection was removed")]
    RemovedConnection,
    #[error("the data connection has no webhook secret (polling mode)")]
    NoSecret,
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error(transparent)]
    NotAnEvent(#[from] EventError),
    #[error(
        "the event's livemode is {event_livemode} but the connection is in {connection_mode} mode"
    )]
    LivemodeMismatch {
        event_livemode: bool,
        connection_mode: String,
    },
    #[error("the connection's webhook secret cannot be opened with this master key")]
    Secret,
    #[error("the database is unavailable: {0}")]
    Store(String),
    #[error(transparent)]
    Inbox(#[from] InboxWriteError),
}

impl Refusal {
    fn status(&self) -> StatusCode {
        match self {
            Refusal::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Refusal::UnknownConnection | Refusal::RemovedConnection => StatusCode::NOT_FOUND,
            Refusal::NoSecret => StatusCode::CONFLICT,
            Refusal::NoSignatureHeader
            | Refusal::Signature(_)
            | Refusal::NotAnEvent(_)
            | Refusal::LivemodeMismatch { .. } => StatusCode::BAD_REQUEST,
            Refusal::Secret | Refusal::Store(_) | Refusal::Inbox(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }
}

async fn receive(
    State(state): State<AppState>,
    Extension(receiver): Extension<Receiver>,
    Path(connection_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match accept(&state, &receiver, &connection_id, &headers, body).await {
        Ok(()) => (
            StatusCode::OK,
            axum::Json(serde_json::json!({"received": true})),
        )
            .into_response(),
        Err(refusal) => {
            let status = refusal.status();
            if matches!(refusal, Refusal::Signature(SignatureError::NoMatch)) {
                receiver.refusals.record(&connection_id);
            }
            receiver.refusal_log.log(&connection_id, status, &refusal);
            (
                status,
                axum::Json(serde_json::json!({"error": {"message": refusal.to_string()}})),
            )
                .into_response()
        }
    }
}

async fn accept(
    state: &AppState,
    receiver: &Receiver,
    connection_id: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<(), Refusal> {
    let body: Bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| Refusal::TooLarge)?;
    let header = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or(Refusal::NoSignatureHeader)?;
    let started = Instant::now();
    let (mut target, cached) = receiver
        .targets
        .get(state.store(), connection_id, false)
        .await?;
    if let Err(refusal) = verified(state, &target, connection_id, &body, header) {
        if !cached {
            return Err(refusal);
        }
        // Maybe signed with a secret newer than the cached one: read the connection again before refusing.
        (target, _) = receiver
            .targets
            .get(state.store(), connection_id, true)
            .await?;
        verified(state, &target, connection_id, &body, header)?;
    }
    let looked_up = started.elapsed();
    let event = parse_event(&body)?;
    let live = target.mode == "live";
    if event.livemode != live {
        return Err(Refusal::LivemodeMismatch {
            event_livemode: event.livemode,
            connection_mode: target.mode.clone(),
        });
    }
    let payload = String::from_utf8(body.to_vec()).map_err(|_| {
        Refusal::NotAnEvent(EventError::NotAnEvent {
            object: "non-utf-8 body".into(),
            id: event.id.clone(),
        })
    })?;
    receiver
        .inbox
        .write(InboxDelivery {
            account_id: target.account_id.clone(),
            connection_id: connection_id.to_owned(),
            event: InboxEvent {
                event_id: event.id,
                event_type: event.event_type,
                event_created: event.created,
                payload,
            },
        })
        .await?;
    tracing::debug!(
        lookup_us = looked_up.as_micros() as u64,
        total_us = started.elapsed().as_micros() as u64,
        "webhook delivery kept"
    );
    Ok(())
}

/// Checks the connection may receive deliveries and that one of its secrets signed `body`.
fn verified(
    state: &AppState,
    target: &WebhookTarget,
    connection_id: &str,
    body: &[u8],
    header: &str,
) -> Result<(), Refusal> {
    if target.status == ConnectionStatus::Disconnected.as_str() {
        return Err(Refusal::RemovedConnection);
    }
    if target.webhook_secrets_sealed.is_empty() {
        return Err(Refusal::NoSecret);
    }
    let now = unix_now();
    let context = Connection::webhook_secret_context(connection_id);
    // Any of the connection's secrets may have signed it (a secret being rolled); the first error is reported.
    let mut verified = Err(SignatureError::NoMatch);
    for sealed in &target.webhook_secrets_sealed {
        let secret = state
            .master_key()
            .open(sealed, &context)
            .map_err(|_| Refusal::Secret)?;
        let secret = WebhookSecret::new(secret.expose_secret());
        verified = verify(body, header, &secret, now);
        if verified.is_ok() {
            break;
        }
    }
    verified?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::*;

    #[test]
    fn a_flood_of_refusals_logs_a_burst_then_counts_the_rest() {
        let log = RefusalLog::default();
        for _ in 0..1_000 {
            log.log(
                "con_x\nforged line",
                StatusCode::BAD_REQUEST,
                &Refusal::NoSignatureHeader,
            );
        }
        let unlogged = log.suppressed.load(Ordering::Relaxed);
        // The burst (20) and whatever refilled meanwhile are logged; everything else is only counted.
        assert!((900..=980).contains(&unlogged), "{unlogged}");
    }
}
