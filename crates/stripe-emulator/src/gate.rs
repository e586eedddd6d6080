//! What every `/v1/` request passes before its handler, in Stripe's order: injected latency, authentication
//! (Bearer or Basic), rate limits, injected faults; then the `Request-Id` and `Stripe-Version` response headers.
//! The authenticated [`Caller`] is handed to the handler, which checks permissions, then parameters, then lookups.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use rand::Rng;

use crate::account::Account;
use crate::api_error::{ApiError, mask_expired, mask_forbidden, mask_invalid};
use crate::config::DEFAULT_API_VERSION;
use crate::emulator::Emulator;
use crate::idempotency::{Lookup, MAX_BODY_BYTES};
use crate::keys::{KeyKind, KeyRecord, Mode, random_alphanumeric};

/// The authenticated sender of a request.
#[derive(Clone)]
pub struct Caller {
    /// The key used.
    pub key: Arc<KeyRecord>,
    /// Its account.
    pub account: Arc<Account>,
    /// The API version objects are rendered at: the request's valid `Stripe-Version`, else the account default.
    pub version: String,
}

impl Caller {
    /// The key's mode.
    pub fn mode(&self) -> Mode {
        self.key.mode
    }

    /// Fails with Stripe's 403 unless the key has `permission` (secret keys have all).
    pub fn require(&self, permission: &str) -> Result<(), ApiError> {
        if self.key.allows(permission) {
            Ok(())
        } else {
            Err(ApiError::MissingPermission {
                masked: mask_forbidden(&self.key.key),
                account: self.account.id.clone(),
                permission: permission.to_string(),
            })
        }
    }
}

/// The middleware around every `/v1/` route (and the unknown-URL fallback).
pub async fn gate(State(emulator): State<Emulator>, mut request: Request, next: Next) -> Response {
    let shared = &emulator.shared;
    let settings = shared.settings();
    let started = std::time::Instant::now();
    let (method, path) = (request.method().clone(), request.uri().path().to_string());
    let request_id = format!("req_{}", random_alphanumeric(&mut rand::thread_rng(), 14));
    let asked_version = request
        .headers()
        .get("stripe-version")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);

    if settings.latency_ms > 0 || settings.latency_jitter_ms > 0 {
        let jitter = rand::thread_rng().gen_range(0..=settings.latency_jitter_ms);
        tokio::time::sleep(Duration::from_millis(settings.latency_ms + jitter)).await;
    }

    let mut account_version = None;
    let response = match authenticate(&emulator, request.headers()) {
        Err(error) => error.into_response(),
        Ok(caller) => {
            account_version = Some(caller.account.default_version());
            let endpoint = format!(
                "{} {}",
                request.method(),
                request
                    .extensions()
                    .get::<MatchedPath>()
                    .map_or(request.uri().path(), |m| m.as_str())
            );
            let limited = if settings.rate_limits {
                shared
                    .rate_limiter
                    .check(&settings, &caller.account.id, caller.mode(), &endpoint)
                    .err()
            } else {
                None
            };
            if let Some(reason) = limited {
                ApiError::RateLimited {
                    livemode: caller.mode().is_live(),
                    reason,
                }
                .into_response()
            } else if let Some(fault) = roll_fault(&settings) {
                fault
            } else if let Some(bad) = asked_version.as_deref().filter(|v| !is_api_version(v)) {
                ApiError::InvalidRequest {
                    message: format!("Invalid Stripe API version: {bad}"),
                    param: None,
                    code: None,
                }
                .into_response()
            } else {
                request.extensions_mut().insert(caller.clone());
                let idempotency_key = request
                    .headers()
                    .get("idempotency-key")
                    .and_then(|v| v.to_str().ok())
                    .filter(|k| !k.is_empty())
                    .map(str::to_string);
                match idempotency_key {
                    Some(key) if request.method() == Method::POST => {
                        run_idempotent(&caller, &key, request, next).await
                    }
                    _ => next.run(request).await,
                }
            }
        }
    };
    tracing::debug!(%method, %path, status = response.status().as_u16(), elapsed_ms = started.elapsed().as_millis() as u64, %request_id, "request");
    with_stripe_headers(response, &request_id, asked_version, account_version)
}

/// Runs a POST with an `Idempotency-Key`: replays a saved result, refuses a key reused with other parameters, or
/// runs the handler and saves a successful result.
async fn run_idempotent(caller: &Caller, key: &str, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return ApiError::InvalidRequest {
            message: "The request body is too large.".into(),
            param: None,
            code: None,
        }
        .into_response();
    };
    let fingerprint = format!(
        "{} {}?{}\n{}",
        parts.method,
        parts.uri.path(),
        parts.uri.query().unwrap_or(""),
        String::from_utf8_lossy(&bytes)
    );
    let store = &caller.account.idempotency;
    match store.lookup(caller.mode(), key, &fingerprint) {
        Lookup::Replay(response) => response,
        Lookup::Mismatch => ApiError::IdempotencyMismatch(key.to_string()).into_response(),
        Lookup::Run => {
            let response = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            if !response.status().is_success() {
                return response;
            }
            let (parts, body) = response.into_parts();
            match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
                Ok(bytes) => {
                    store.save(caller.mode(), key, fingerprint, parts.status, bytes.clone());
                    Response::from_parts(parts, Body::from(bytes))
                }
                Err(_) => ApiError::Internal.into_response(),
            }
        }
    }
}

fn with_stripe_headers(
    mut response: Response,
    request_id: &str,
    asked_version: Option<String>,
    account_version: Option<String>,
) -> Response {
    let version = asked_version
        .filter(|v| is_api_version(v))
        .or(account_version)
        .unwrap_or_else(|| DEFAULT_API_VERSION.to_string());
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("Request-Id", value);
    }
    if let Ok(value) = HeaderValue::from_str(&version) {
        headers.insert("Stripe-Version", value);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store"),
    );
    response
}

/// `YYYY-MM-DD` optionally followed by `.name` (e.g. `2026-07-29.dahlia`).
pub fn is_api_version(version: &str) -> bool {
    let (date, train) = version.split_once('.').unwrap_or((version, "x"));
    let date_ok = date.len() == 10
        && date.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    date_ok && !train.is_empty() && train.bytes().all(|b| b.is_ascii_lowercase())
}

/// Who is calling, or Stripe's 401 for no key, an unknown key, an expired key or a publishable key.
pub fn authenticate(emulator: &Emulator, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let key = presented_key(headers).ok_or(ApiError::NoKey)?;
    let record = emulator
        .shared
        .keyring
        .get(&key)
        .ok_or_else(|| ApiError::InvalidKey {
            masked: mask_invalid(&key),
        })?;
    if record.is_expired() {
        return Err(ApiError::ExpiredKey {
            masked: mask_expired(&key),
        });
    }
    if record.kind == KeyKind::Publishable {
        return Err(ApiError::PublishableKey);
    }
    let account = emulator
        .shared
        .account(&record.account)
        .ok_or_else(|| ApiError::InvalidKey {
            masked: mask_invalid(&key),
        })?;
    let version = headers
        .get("stripe-version")
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_api_version(v))
        .map_or_else(|| account.default_version(), str::to_string);
    Ok(Caller {
        key: record,
        account,
        version,
    })
}

/// The key from `Authorization: Bearer <key>` or `Authorization: Basic base64(<key>:)`.
fn presented_key(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, credentials) = value.split_once(' ')?;
    let key = if scheme.eq_ignore_ascii_case("bearer") {
        credentials.trim().to_string()
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(credentials.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        text.split(':').next().unwrap_or("").to_string()
    } else {
        return None;
    };
    (!key.is_empty()).then_some(key)
}

/// An injected fault for this request, if the dice say so.
fn roll_fault(settings: &crate::settings::Settings) -> Option<Response> {
    let mut rng = rand::thread_rng();
    if settings.reset_rate > 0.0 && rng.gen_bool(settings.reset_rate) {
        // An error from the body stream makes hyper abort the connection without completing the response,
        // which the client sees as a reset / truncated response — a transport failure, as a real reset is.
        let stream = futures::stream::once(async {
            Err::<Bytes, std::io::Error>(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "injected connection reset",
            ))
        });
        return Some(Response::new(Body::from_stream(stream)));
    }
    if settings.error_rate > 0.0 && rng.gen_bool(settings.error_rate) {
        return Some(ApiError::Internal.into_response());
    }
    if settings.lock_timeout_rate > 0.0 && rng.gen_bool(settings.lock_timeout_rate) {
        return Some(ApiError::LockTimeout.into_response());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::is_api_version;

    #[test]
    fn api_versions_are_dates_with_an_optional_release_name() {
        assert!(is_api_version("2026-07-29.dahlia"));
        assert!(is_api_version("2024-04-10"));
        assert!(!is_api_version("2024-4-10"));
        assert!(!is_api_version("latest"));
        assert!(!is_api_version("2026-07-29."));
    }
}
