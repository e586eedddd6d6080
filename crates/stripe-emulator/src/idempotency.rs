//! Stripe's idempotent requests: a POST with an `Idempotency-Key` that already produced a result gets that result
//! again (with `Idempotent-Replayed: true`); the same key with different parameters is an `idempotency_error`.
//! Results are saved only when the handler succeeded (Stripe saves nothing for requests refused before execution,
//! which is where the emulator's injected faults happen); keys are kept 24 hours.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;

use crate::keys::Mode;

/// How long Stripe keeps idempotency keys.
const KEY_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// Bodies larger than this are neither parsed nor saved (Stripe's own limits are far below it).
pub const MAX_BODY_BYTES: usize = 1 << 20;

struct Saved {
    fingerprint: String,
    status: StatusCode,
    body: Bytes,
    at: Instant,
}

/// What to do with an idempotent request.
pub enum Lookup {
    /// First use of the key: run the request, then [`IdempotencyStore::save`].
    Run,
    /// Seen with the same parameters: answer with this.
    Replay(Response),
    /// Seen with different parameters.
    Mismatch,
}

/// The saved results of one account's idempotent requests.
#[derive(Default)]
pub struct IdempotencyStore {
    saved: Mutex<HashMap<(Mode, String), Saved>>,
}

impl IdempotencyStore {
    /// Looks `key` up for a request whose method, path and parameters are `fingerprint`.
    pub fn lookup(&self, mode: Mode, key: &str, fingerprint: &str) -> Lookup {
        let saved = self.saved.lock().expect("idempotency lock poisoned");
        match saved.get(&(mode, key.to_string())) {
            Some(entry) if entry.at.elapsed() < KEY_LIFETIME => {
                if entry.fingerprint == fingerprint {
                    let mut response = Response::new(Body::from(entry.body.clone()));
                    *response.status_mut() = entry.status;
                    let headers = response.headers_mut();
                    headers.insert("Content-Type", HeaderValue::from_static("application/json"));
                    headers.insert("Idempotent-Replayed", HeaderValue::from_static("true"));
                    if let Ok(value) = HeaderValue::from_str(key) {
                        headers.insert("Idempotency-Key", value);
                    }
                    Lookup::Replay(response)
                } else {
                    Lookup::Mismatch
                }
            }
            _ => Lookup::Run,
        }
    }

    /// Saves a successful result under `key`.
    pub fn save(
        &self,
        mode: Mode,
        key: &str,
        fingerprint: String,
        status: StatusCode,
        body: Bytes,
    ) {
        let mut saved = self.saved.lock().expect("idempotency lock poisoned");
        saved.retain(|_, entry| entry.at.elapsed() < KEY_LIFETIME);
        saved.insert(
            (mode, key.to_string()),
            Saved {
                fingerprint,
                status,
                body,
                at: Instant::now(),
            },
        );
    }
}
