//! Every JSON API failure becomes one response shape here: an HTTP status and `{"error": {"code", "message", …}}`
//! with a stable `code`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::connections::Refusal;

/// A failed API request.
#[derive(Debug)]
pub enum ApiError {
    /// No valid API token.
    Unauthorized,
    /// The request body or query could not be read.
    BadRequest(String),
    /// The connection service refused.
    Refused(Refusal),
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        ApiError::Refused(refusal)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                Json(json!({"error": {
                    "code": "unauthorized",
                    "message": "send an api token as `Authorization: Bearer pst_…`; create one with `payscope tokens create`"
                }})),
            )
                .into_response(),
            ApiError::BadRequest(message) => (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": {"code": "bad_request", "message": message}})),
            )
                .into_response(),
            ApiError::Refused(refusal) => {
                let status = match &refusal {
                    Refusal::NotFound(_) => StatusCode::NOT_FOUND,
                    Refusal::NameTaken(_) | Refusal::WebhookConflict { .. } => StatusCode::CONFLICT,
                    Refusal::StripeUnavailable(_) => StatusCode::BAD_GATEWAY,
                    Refusal::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                };
                (status, Json(refusal.to_json())).into_response()
            }
        }
    }
}
