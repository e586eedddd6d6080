//! The control API under `/_emulator/` (never under `/v1/`): accounts and their keys, minting, expiring and editing
//! keys, rolling a webhook endpoint's signing secret, the card-details switch, activity bursts, ground truth, the
//! delivery log, and behaviour settings.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::account::{Account, AccountKeys};
use crate::delivery::now_ms;
use crate::emulator::{Emulator, run_activity};
use crate::gate::is_api_version;
use crate::keys::{EditError, KeyKind, Mode, effective_permissions, random_alphanumeric};
use crate::settings::SettingsError;

/// Why a control call was refused.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The path names an account the emulator does not have.
    #[error("no account {0}; GET /_emulator/accounts lists the accounts")]
    UnknownAccount(String),
    /// The path names a key the emulator never issued.
    #[error(
        "no key ending in {0}; use a key from GET /_emulator/accounts or one minted by POST /_emulator/accounts/{{account}}/keys"
    )]
    UnknownKey(String),
    /// The JSON body is malformed or has wrong fields.
    #[error("invalid request body: {0}")]
    BadBody(String),
    /// The path names a webhook endpoint no account has.
    #[error(
        "no webhook endpoint {0}; GET /v1/webhook_endpoints with the account's secret key lists them"
    )]
    UnknownEndpoint(String),
    /// A settings change was refused.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// A key's permissions could not be edited.
    #[error(transparent)]
    Edit(#[from] EditError),
    /// Background work failed unexpectedly.
    #[error("internal error: {0}")]
    Internal(String),
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        let status = match self {
            ControlError::UnknownAccount(_)
            | ControlError::UnknownKey(_)
            | ControlError::UnknownEndpoint(_) => StatusCode::NOT_FOUND,
            ControlError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        (
            status,
            Json(json!({ "error": { "message": self.to_string() } })),
        )
            .into_response()
    }
}

fn parse_body<T: for<'de> Deserialize<'de> + Default>(body: &Bytes) -> Result<T, ControlError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| ControlError::BadBody(e.to_string()))
}

fn account_of(emulator: &Emulator, id: &str) -> Result<Arc<Account>, ControlError> {
    emulator
        .shared
        .account(id)
        .ok_or_else(|| ControlError::UnknownAccount(id.to_string()))
}

fn account_json(account: &Account) -> Value {
    let AccountKeys { id, test, live } = &account.keys;
    json!({
        "id": id,
        "test": test,
        "live": live,
        "card_details": account.card_details(),
        "payment_methods_list_all": account.payment_methods_list_all(),
        "api_version": account.default_version(),
    })
}

/// `GET /_emulator/accounts`.
pub async fn list_accounts(State(emulator): State<Emulator>) -> Json<Value> {
    let data: Vec<Value> = emulator
        .shared
        .accounts()
        .iter()
        .map(|a| account_json(a))
        .collect();
    Json(json!({ "data": data }))
}

/// Body of `POST /_emulator/accounts`; missing fields take the emulator's start-up values.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    seed: Option<u64>,
    charges: Option<usize>,
    days: Option<u32>,
    card_details: Option<bool>,
    payment_methods_list_all: Option<bool>,
    api_version: Option<String>,
}

/// `POST /_emulator/accounts`.
pub async fn create_account(
    State(emulator): State<Emulator>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let request: NewAccount = parse_body(&body)?;
    let mut spec = emulator.shared.default_spec();
    if let Some(seed) = request.seed {
        spec.seed = seed;
    }
    if let Some(charges) = request.charges {
        spec.charges = charges;
    }
    if let Some(days) = request.days {
        spec.days = days;
    }
    if let Some(card_details) = request.card_details {
        spec.card_details = card_details;
    }
    if let Some(list_all) = request.payment_methods_list_all {
        spec.payment_methods_list_all = list_all;
    }
    if let Some(version) = request.api_version {
        if !is_api_version(&version) {
            return Err(ControlError::BadBody(format!(
                "api_version {version} is not like 2026-07-29.dahlia"
            )));
        }
        spec.api_version = version;
    }
    let shared = Arc::clone(&emulator.shared);
    let account = tokio::task::spawn_blocking(move || shared.add_account(&spec))
        .await
        .map_err(|e| ControlError::Internal(e.to_string()))?;
    Ok(Json(account_json(&account)))
}

/// Body of `POST /_emulator/accounts/{account}/keys`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    #[serde(default)]
    mode: Mode,
    #[serde(default)]
    permissions: Vec<String>,
}

/// `POST /_emulator/accounts/{account}/keys` → `{"key": "rk_…"}` with exactly the given permissions (closed under
/// Stripe's implications).
pub async fn mint_key(
    State(emulator): State<Emulator>,
    Path(account): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let account = account_of(&emulator, &account)?;
    let request: NewKey = parse_body(&body)?;
    let kind = KeyKind::Restricted(effective_permissions(&request.permissions));
    let key =
        emulator
            .shared
            .keyring
            .mint(&account.id, request.mode, kind, &mut rand::thread_rng());
    Ok(Json(json!({ "key": key })))
}

/// `POST /_emulator/keys/{key}/expire`: later requests with it get Stripe's 401 `api_key_expired`.
pub async fn expire_key(
    State(emulator): State<Emulator>,
    Path(key): Path<String>,
) -> Result<Json<Value>, ControlError> {
    if emulator.shared.keyring.expire(&key) {
        Ok(Json(json!({ "key": key, "expired": true })))
    } else {
        Err(unknown_key(&key))
    }
}

/// The refusal for a key the emulator never issued, naming only its last characters.
fn unknown_key(key: &str) -> ControlError {
    let tail: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    ControlError::UnknownKey(tail)
}

/// Body of `POST /_emulator/keys/{key}/permissions`: either `permissions` (the whole new set) or `grant` and/or
/// `revoke` (changes to the current set). Names with or without `rak_`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditKey {
    permissions: Option<Vec<String>>,
    #[serde(default)]
    grant: Vec<String>,
    #[serde(default)]
    revoke: Vec<String>,
}

/// `POST /_emulator/keys/{key}/permissions`: edits a restricted key's permissions at once, as the Dashboard's "Edit
/// key" does; later requests that need a revoked permission get Stripe's 403 naming it. Answers the key's effective
/// permissions (closed under Stripe's implications).
pub async fn edit_key_permissions(
    State(emulator): State<Emulator>,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let record = emulator
        .shared
        .keyring
        .get(&key)
        .ok_or_else(|| unknown_key(&key))?;
    let request: EditKey = parse_body(&body)?;
    let (grant, revoke) = match request.permissions {
        Some(_) if !request.grant.is_empty() || !request.revoke.is_empty() => {
            return Err(ControlError::BadBody(
                "send either permissions (the whole set) or grant/revoke (changes), not both"
                    .into(),
            ));
        }
        Some(all) => {
            let wanted = effective_permissions(&all);
            let dropped: Vec<String> = record
                .permissions()
                .into_iter()
                .filter(|p| !wanted.contains(p))
                .collect();
            (all, dropped)
        }
        None => (request.grant, request.revoke),
    };
    let permissions = record.edit_permissions(&grant, &revoke)?;
    tracing::info!(account = %record.account, ?permissions, "restricted key edited");
    Ok(Json(json!({ "permissions": permissions })))
}

/// Body of `POST /_emulator/webhook_endpoints/{id}/roll_secret`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RollSecret {
    /// How long deliveries stay signed with the old secret too, in seconds (0: the old one stops at once).
    expires_in: i64,
}

impl Default for RollSecret {
    fn default() -> Self {
        RollSecret {
            expires_in: crate::webhook_endpoint::DEFAULT_ROLL_SECONDS,
        }
    }
}

/// `POST /_emulator/webhook_endpoints/{id}/roll_secret` → `{"id", "secret", "previous_secret_expires_at"}`: rolls an
/// endpoint's signing secret as the Dashboard does (Stripe's API cannot). Until the old secret expires, deliveries
/// carry a `v1` signature under each; afterwards under the new one only.
pub async fn roll_endpoint_secret(
    State(emulator): State<Emulator>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let request: RollSecret = parse_body(&body)?;
    if request.expires_in < 0 {
        return Err(ControlError::BadBody(
            "expires_in is seconds from now, 0 or more".into(),
        ));
    }
    let secret = format!("whsec_{}", random_alphanumeric(&mut rand::thread_rng(), 32));
    let now = now_ms() / 1000;
    for account in emulator.shared.accounts() {
        let mut endpoints = account
            .webhook_endpoints
            .lock()
            .expect("endpoint lock poisoned");
        if let Some(endpoint) = endpoints.iter_mut().find(|e| e.id == id) {
            let expires_at = endpoint.roll_secret(secret.clone(), now, request.expires_in);
            tracing::info!(endpoint = %id, ?expires_at, "webhook signing secret rolled");
            return Ok(Json(json!({
                "id": id,
                "secret": secret,
                "previous_secret_expires_at": expires_at,
            })));
        }
    }
    Err(ControlError::UnknownEndpoint(id))
}

/// Body of `POST /_emulator/accounts/{account}/card_details`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardDetails {
    enabled: bool,
}

/// `POST /_emulator/accounts/{account}/card_details`.
pub async fn set_card_details(
    State(emulator): State<Emulator>,
    Path(account): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let account = account_of(&emulator, &account)?;
    let request: CardDetails = parse_body(&body)?;
    account.set_card_details(request.enabled);
    Ok(Json(account_json(&account)))
}

/// Body of `POST /_emulator/accounts/{account}/payment_methods_listing`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentMethodsListing {
    list_all: bool,
}

/// `POST /_emulator/accounts/{account}/payment_methods_listing` with `{"list_all": bool}`: whether
/// `GET /v1/payment_methods` without `customer` lists every PaymentMethod (`true`) or only Treasury ones, none
/// of the generated cards (`false`, the spec's wording and the default).
pub async fn set_payment_methods_listing(
    State(emulator): State<Emulator>,
    Path(account): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let account = account_of(&emulator, &account)?;
    let request: PaymentMethodsListing = parse_body(&body)?;
    account.set_payment_methods_list_all(request.list_all);
    Ok(Json(account_json(&account)))
}

/// Body of `POST /_emulator/accounts/{account}/api_version`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiVersion {
    api_version: String,
}

/// `POST /_emulator/accounts/{account}/api_version`: changes the account's default version (as an upgrade in
/// the Dashboard would); later events carry it.
pub async fn set_api_version(
    State(emulator): State<Emulator>,
    Path(account): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let account = account_of(&emulator, &account)?;
    let request: ApiVersion = parse_body(&body)?;
    if !is_api_version(&request.api_version) {
        return Err(ControlError::BadBody(format!(
            "api_version {} is not like 2026-07-29.dahlia",
            request.api_version
        )));
    }
    *account.api_version.write().expect("version lock poisoned") = request.api_version;
    Ok(Json(account_json(&account)))
}

/// Body of `POST /_emulator/accounts/{account}/activity`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Burst {
    #[serde(default)]
    charges: usize,
}

/// `POST /_emulator/accounts/{account}/activity` → `{"events": N}`: N new payments now, with their refunds,
/// disputes, events and deliveries.
pub async fn activity(
    State(emulator): State<Emulator>,
    Path(account): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let account = account_of(&emulator, &account)?;
    let request: Burst = parse_body(&body)?;
    let shared = Arc::clone(&emulator.shared);
    let events =
        tokio::task::spawn_blocking(move || run_activity(&shared, &account, request.charges))
            .await
            .map_err(|e| ControlError::Internal(e.to_string()))?;
    Ok(Json(
        json!({ "charges": request.charges, "events": events }),
    ))
}

/// `GET /_emulator/accounts/{account}/truth`.
pub async fn truth(
    State(emulator): State<Emulator>,
    Path(account): Path<String>,
) -> Result<Json<Value>, ControlError> {
    let account = account_of(&emulator, &account)?;
    let truth = account.ledger.read().expect("ledger lock poisoned").truth();
    Ok(Json(truth))
}

/// `GET /_emulator/accounts/{account}/deliveries` → `{"data": [attempt, …]}`, oldest first.
pub async fn deliveries(
    State(emulator): State<Emulator>,
    Path(account): Path<String>,
) -> Result<Json<Value>, ControlError> {
    let account = account_of(&emulator, &account)?;
    let attempts = account
        .deliveries
        .lock()
        .expect("delivery lock poisoned")
        .attempts();
    Ok(Json(json!({ "data": attempts })))
}

/// `GET /_emulator/settings`.
pub async fn get_settings(State(emulator): State<Emulator>) -> Json<Value> {
    Json(serde_json::to_value(emulator.shared.settings()).expect("settings serialize"))
}

/// `POST /_emulator/settings` with a partial JSON object → the new settings.
pub async fn patch_settings(
    State(emulator): State<Emulator>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let patch: Value = parse_body(&body)?;
    let patch = if patch.is_null() { json!({}) } else { patch };
    let settings = emulator.shared.settings().patched(&patch)?;
    emulator.shared.set_settings(settings.clone());
    Ok(Json(
        serde_json::to_value(settings).expect("settings serialize"),
    ))
}
