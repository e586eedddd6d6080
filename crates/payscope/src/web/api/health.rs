//! `GET /api/v1/connections/{id}/health`: a connection's live-sync health (received, applied, lag, endpoint status,
//! needs attention).

use axum::Json;
use axum::extract::{Path, State};

use super::ApiAccount;
use crate::connections::Refusal;
use crate::sync::live::{LiveHealth, health};
use crate::web::AppState;
use crate::web::error::ApiError;

/// The live-sync health of one connection of the caller's account.
pub async fn show(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    Path(id): Path<String>,
) -> Result<Json<LiveHealth>, ApiError> {
    match health(state.store(), &account, &id).await {
        Ok(Some(health)) => Ok(Json(health)),
        Ok(None) => Err(Refusal::NotFound(id).into()),
        Err(error) => {
            tracing::error!(%error, connection = %id, "reading live-sync health failed");
            Err(Refusal::Internal("the database is unavailable".into()).into())
        }
    }
}
