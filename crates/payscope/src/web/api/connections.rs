//! `/api/v1/connections`: add, list, show, rename, rotate the key, replace the webhook, set a rolled signing secret,
//! remove — each one call to the connection service.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiAccount;
use crate::connections::{AddConnection, Added, ConnectionView, Removed};
use crate::web::AppState;
use crate::web::error::ApiError;

/// Body of `POST /api/v1/connections`.
#[derive(Debug, Deserialize)]
pub struct CreateBody {
    name: String,
    #[serde(default = "default_processor")]
    processor: String,
    api_key: SecretString,
    #[serde(default)]
    replace_webhook: bool,
}

fn default_processor() -> String {
    "stripe".into()
}

fn body<T>(payload: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    payload
        .map(|Json(body)| body)
        .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))
}

/// Adds a connection: the key check, the permission probe and the webhook registration happen before it answers.
pub async fn create(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    payload: Result<Json<CreateBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Added>), ApiError> {
    let body = body(payload)?;
    let added = state
        .connections()
        .add(
            &account,
            AddConnection {
                name: body.name,
                processor: body.processor,
                api_key: body.api_key,
                replace_webhook: body.replace_webhook,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(added)))
}

/// Lists the account's connections.
pub async fn list(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
) -> Result<Json<Value>, ApiError> {
    let connections = state.connections().list(&account).await?;
    Ok(Json(json!({ "data": connections })))
}

/// Shows one connection.
pub async fn show(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    Path(id): Path<String>,
) -> Result<Json<ConnectionView>, ApiError> {
    let connection = state.connections().find(&account, &id).await?;
    Ok(Json(ConnectionView::from(&connection)))
}

/// Body of `PATCH /api/v1/connections/{id}`.
#[derive(Debug, Deserialize)]
pub struct RenameBody {
    name: String,
}

/// Renames a connection.
pub async fn rename(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    Path(id): Path<String>,
    payload: Result<Json<RenameBody>, JsonRejection>,
) -> Result<Json<ConnectionView>, ApiError> {
    let body = body(payload)?;
    Ok(Json(
        state
            .connections()
            .rename(&account, &id, &body.name)
            .await?,
    ))
}

/// Body of `POST /api/v1/connections/{id}/rotate-key`.
#[derive(Debug, Deserialize)]
pub struct RotateBody {
    api_key: SecretString,
}

/// Replaces a connection's key.
pub async fn rotate_key(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    Path(id): Path<String>,
    payload: Result<Json<RotateBody>, JsonRejection>,
) -> Result<Json<ConnectionView>, ApiError> {
    let body = body(payload)?;
    Ok(Json(
        state
            .connections()
            .rotate_key(&account, &id, body.api_key)
            .await?,
    ))
}

/// Registers a new webhook endpoint for a connection (`POST /api/v1/connections/{id}/replace-webhook`).
pub async fn replace_webhook(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    Path(id): Path<String>,
) -> Result<Json<ConnectionView>, ApiError> {
    Ok(Json(
        state.connections().replace_webhook(&account, &id).await?,
    ))
}

/// Body of `POST /api/v1/connections/{id}/webhook-secret`.
#[derive(Debug, Deserialize)]
pub struct WebhookSecretBody {
    secret: SecretString,
}

/// Stores the signing secret rolled in the Stripe Dashboard (`POST /api/v1/connections/{id}/webhook-secret`); the
/// previous one stays accepted for 24 h. The answer never contains a secret.
pub async fn set_webhook_secret(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    Path(id): Path<String>,
    payload: Result<Json<WebhookSecretBody>, JsonRejection>,
) -> Result<Json<ConnectionView>, ApiError> {
    let body = body(payload)?;
    Ok(Json(
        state
            .connections()
            .set_webhook_secret(&account, &id, body.secret)
            .await?,
    ))
}

/// Query of `DELETE /api/v1/connections/{id}`.
#[derive(Debug, Deserialize)]
pub struct RemoveQuery {
    #[serde(default)]
    delete_data: bool,
}

/// Removes a connection (`?delete_data=true` also deletes what was imported).
pub async fn remove(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    Path(id): Path<String>,
    Query(query): Query<RemoveQuery>,
) -> Result<Json<Removed>, ApiError> {
    Ok(Json(
        state
            .connections()
            .remove(&account, &id, query.delete_data)
            .await?,
    ))
}

/// The latest import of a connection: per resource, objects stored, share covered, rate, ETA, completeness.
pub async fn import(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let connection = state.connections().find(&account, &id).await?;
    let progress = crate::sync::import_progress(state.store(), &account, &connection.id)
        .await
        .map_err(|e| ApiError::Refused(crate::connections::Refusal::Internal(e.to_string())))?;
    Ok(Json(
        json!({ "connection_id": connection.id, "import": progress }),
    ))
}

/// What payscope holds per object type (held, deleted, newest version), to reconcile with what Stripe lists.
pub async fn inventory(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let connection = state.connections().find(&account, &id).await?;
    let rows = state
        .store()
        .inventory(&account, &connection.id)
        .await
        .map_err(|e| ApiError::Refused(crate::connections::Refusal::Internal(e.to_string())))?;
    let data: Vec<Value> = rows
        .iter()
        .map(|r| json!({"object_type": r.object_type, "held": r.held, "deleted": r.deleted, "newest_version": r.newest_version}))
        .collect();
    Ok(Json(
        json!({ "connection_id": connection.id, "data": data }),
    ))
}
