//! The API tokens page: create (the token is shown once) and revoke per-account tokens for the JSON API.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::connections::ago;
use super::{CsrfForm, PageError};
use crate::crypto::{api_token_digest, new_api_token};
use crate::store::ApiToken;
use crate::web::AppState;
use crate::web::auth::SignedIn;
use crate::web::layout::{Layout, Nav, render};

#[derive(Template)]
#[template(path = "settings/tokens.html")]
struct TokensPage {
    layout: Layout,
    tokens: Vec<ApiToken>,
    new_token: Option<String>,
    error: Option<String>,
}

async fn page(
    state: &AppState,
    signed_in: &SignedIn,
    new_token: Option<String>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let tokens = state.store().api_tokens(&signed_in.account_id).await?;
    Ok(render(&TokensPage {
        layout: Layout::new(signed_in, Nav::ApiTokens),
        tokens,
        new_token,
        error,
    }))
}

/// `GET /settings/tokens`
pub async fn list(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, PageError> {
    page(&state, &signed_in, None, None).await
}

/// The create form.
#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

/// `POST /settings/tokens`: creates a token and shows it once (the response is the page, not a redirect, so the
/// token never sits in a URL or the history).
pub async fn create(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(form): Form<CreateForm>,
) -> Result<Response, PageError> {
    signed_in.check_csrf(&form.csrf)?;
    signed_in.require_admin()?;
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return page(
            &state,
            &signed_in,
            None,
            Some("Give the token a name of 1 to 100 characters, e.g. what will use it.".into()),
        )
        .await;
    }
    let token = new_api_token();
    state
        .store()
        .create_api_token(
            &signed_in.account_id,
            name,
            &api_token_digest(token.expose_secret()),
        )
        .await?;
    page(
        &state,
        &signed_in,
        Some(token.expose_secret().to_owned()),
        None,
    )
    .await
}

/// `POST /settings/tokens/{id}/revoke`; a token of another account is a 404.
pub async fn revoke(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    signed_in.check_csrf(&form.csrf)?;
    signed_in.require_admin()?;
    let known = state
        .store()
        .api_tokens(&signed_in.account_id)
        .await?
        .iter()
        .any(|t| t.id == id);
    if !known {
        return Err(PageError::NotFound);
    }
    state
        .store()
        .revoke_api_token(&signed_in.account_id, &id)
        .await?;
    Ok(Redirect::to("/settings/tokens").into_response())
}
