//! The Users page: everyone of the account sees who else signs in to it; admins add users (with a generated
//! password, shown once, as API tokens are) and remove them, which ends their sessions at once.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::connections::ago;
use super::{CsrfForm, PageError};
use crate::domain::ids::random_base32;
use crate::store::{StoreError, User};
use crate::web::AppState;
use crate::web::auth::{SignedIn, hash_password_off_workers};
use crate::web::layout::{Layout, Nav, render};

/// Characters of a generated password (base32: 100 bits).
const GENERATED_PASSWORD_LEN: usize = 20;

#[derive(Template)]
#[template(path = "settings/users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<User>,
    signed_in_email: String,
    added: Option<(String, String)>,
    error: Option<String>,
    email: String,
}

async fn page(
    state: &AppState,
    signed_in: &SignedIn,
    added: Option<(String, String)>,
    error: Option<String>,
    email: String,
) -> Result<Response, PageError> {
    let users = state.store().users(&signed_in.account_id).await?;
    Ok(render(&UsersPage {
        layout: Layout::new(signed_in, Nav::Users),
        users,
        signed_in_email: signed_in.email.clone(),
        added,
        error,
        email,
    }))
}

/// `GET /settings/users`
pub async fn list(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, PageError> {
    page(&state, &signed_in, None, None, String::new()).await
}

/// The add form.
#[derive(Deserialize)]
pub struct AddForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    admin: Option<String>,
}

/// `POST /settings/users` (admins): adds a user of the account with a generated password, shown once in the
/// response (not a redirect, so it never sits in a URL or the history).
pub async fn add(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(form): Form<AddForm>,
) -> Result<Response, PageError> {
    signed_in.check_csrf(&form.csrf)?;
    signed_in.require_admin()?;
    let email = form.email.trim().to_lowercase();
    let refuse = |message: String| page(&state, &signed_in, None, Some(message), email.clone());
    if email.chars().count() > 254
        || !email.contains('@')
        || email.starts_with('@')
        || email.ends_with('@')
    {
        return refuse("Enter the email address the person will sign in with.".into()).await;
    }
    let password = random_base32(GENERATED_PASSWORD_LEN);
    let hash = hash_password_off_workers(password.clone())
        .await
        .map_err(|error| {
            tracing::error!(%error, "hashing a new user's password failed");
            PageError::Internal
        })?;
    let admin = form.admin.is_some();
    match state
        .store()
        .create_user(&signed_in.account_id, &email, &hash, admin)
        .await
    {
        Ok(_) => {
            page(
                &state,
                &signed_in,
                Some((email, password)),
                None,
                String::new(),
            )
            .await
        }
        // Emails are unique across the instance; which account holds it is not said.
        Err(StoreError::EmailTaken(_)) => {
            refuse(format!(
                "{email} already signs in to payscope; use another email."
            ))
            .await
        }
        Err(error) => Err(error.into()),
    }
}

/// `POST /settings/users/{id}/remove` (admins): removes a user of the account and ends their sessions. An admin
/// cannot remove themself (so an account always keeps one admin); a user of another account is a 404.
pub async fn remove(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    signed_in.check_csrf(&form.csrf)?;
    signed_in.require_admin()?;
    let users = state.store().users(&signed_in.account_id).await?;
    let Some(user) = users.iter().find(|u| u.id == id) else {
        return Err(PageError::NotFound);
    };
    if user.email == signed_in.email {
        return page(
            &state,
            &signed_in,
            None,
            Some("You cannot remove yourself; another admin can.".into()),
            String::new(),
        )
        .await;
    }
    if !state
        .store()
        .remove_user(&signed_in.account_id, &id)
        .await?
    {
        return Err(PageError::NotFound);
    }
    Ok(Redirect::to("/settings/users").into_response())
}
