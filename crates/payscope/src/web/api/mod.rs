//! The JSON API under `/api/v1`, authenticated by per-account API tokens.

pub mod connections;
pub mod health;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::AppState;
use super::error::ApiError;
use crate::crypto::api_token_digest;

/// The account an API request acts for, proven by its bearer token.
#[derive(Debug, Clone)]
pub struct ApiAccount(pub String);

impl FromRequestParts<AppState> for ApiAccount {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(ApiError::Unauthorized)?;
        match state
            .store()
            .account_for_token(&api_token_digest(token))
            .await
        {
            Ok(Some(account_id)) => Ok(ApiAccount(account_id)),
            Ok(None) => Err(ApiError::Unauthorized),
            Err(error) => {
                tracing::error!(%error, "api token lookup failed");
                Err(ApiError::Refused(crate::connections::Refusal::Internal(
                    "the database is unavailable".into(),
                )))
            }
        }
    }
}
