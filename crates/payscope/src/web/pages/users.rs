//! The Users page: everyone of the account sees who else signs in to it and changes their own password; admins add
//! users (with a generated password, shown once, as API tokens are), reset a user's password the same way, and
//! remove users. A reset or a removal ends the user's sessions at once; a change ends the user's other sessions.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::connections::ago;
use super::{CsrfForm, PageError};
use crate::domain::ids::random_base32;
use crate::store::{StoreError, User, unix_now};
use crate::web::AppState;
use crate::web::auth::{SignedIn, check_new_password, hash_password_off_workers, verify_password};
use crate::web::layout::{Layout, Nav, render};
use crate::web::sign_in_guard::ClientAddress;

/// Characters of a generated password (base32: 100 bits).
const GENERATED_PASSWORD_LEN: usize = 20;

#[derive(Template)]
#[template(path = "settings/users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<User>,
    signed_in_email: String,
    shown: Option<ShownPassword>,
    notice: Option<String>,
    error: Option<String>,
    email: String,
}

/// A generated password, shown in this one response only.
struct ShownPassword {
    email: String,
    password: String,
    /// A reset of an existing user's password rather than a new user.
    reset: bool,
}

/// What the page says above its lists, besides the users themselves.
#[derive(Default)]
struct Outcome {
    shown: Option<ShownPassword>,
    notice: Option<String>,
    error: Option<String>,
    /// The add form's email, kept when the add was refused.
    email: String,
}

impl Outcome {
    fn error(message: impl Into<String>) -> Self {
        Outcome {
            error: Some(message.into()),
            ..Outcome::default()
        }
    }

    /// The page showing `email`'s generated password this once (`reset`: of an existing user).
    fn shown(email: String, password: String, reset: bool) -> Self {
        Outcome {
            shown: Some(ShownPassword {
                email,
                password,
                reset,
            }),
            ..Outcome::default()
        }
    }
}

async fn page(
    state: &AppState,
    signed_in: &SignedIn,
    outcome: Outcome,
) -> Result<Response, PageError> {
    let users = state.store().users(&signed_in.account_id).await?;
    Ok(render(&UsersPage {
        layout: Layout::new(signed_in, Nav::Users),
        users,
        signed_in_email: signed_in.email.clone(),
        shown: outcome.shown,
        notice: outcome.notice,
        error: outcome.error,
        email: outcome.email,
    }))
}

/// A new generated password and its argon2id hash.
async fn generated_password() -> Result<(String, String), PageError> {
    let password = random_base32(GENERATED_PASSWORD_LEN);
    let hash = hash_password_off_workers(password.clone())
        .await
        .map_err(|error| {
            tracing::error!(%error, "hashing a generated password failed");
            PageError::Internal
        })?;
    Ok((password, hash))
}

/// `GET /settings/users`
pub async fn list(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, PageError> {
    page(&state, &signed_in, Outcome::default()).await
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
    let refuse = |message: String| {
        page(
            &state,
            &signed_in,
            Outcome {
                error: Some(message),
                email: email.clone(),
                ..Outcome::default()
            },
        )
    };
    if email.chars().count() > 254
        || !email.contains('@')
        || email.starts_with('@')
        || email.ends_with('@')
    {
        return refuse("Enter the email address the person will sign in with.".into()).await;
    }
    let (password, hash) = generated_password().await?;
    let admin = form.admin.is_some();
    match state
        .store()
        .create_user(&signed_in.account_id, &email, &hash, admin)
        .await
    {
        Ok(_) => page(&state, &signed_in, Outcome::shown(email, password, false)).await,
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

/// The user `id` of the account, for an admin's action on someone else (its form posted `csrf`): `Ok(Err(page))`
/// saying `on_self` when it is the admin themself; a user of another account is a 404.
async fn other_user(
    state: &AppState,
    signed_in: &SignedIn,
    id: &str,
    csrf: &str,
    on_self: &str,
) -> Result<Result<User, Response>, PageError> {
    signed_in.check_csrf(csrf)?;
    signed_in.require_admin()?;
    let users = state.store().users(&signed_in.account_id).await?;
    let Some(user) = users.into_iter().find(|u| u.id == id) else {
        return Err(PageError::NotFound);
    };
    if user.email == signed_in.email {
        return Ok(Err(page(state, signed_in, Outcome::error(on_self)).await?));
    }
    Ok(Ok(user))
}

/// `POST /settings/users/{id}/remove` (admins): removes a user of the account and ends their sessions. An admin
/// cannot remove themself (so an account always keeps one admin); a user of another account is a 404.
pub async fn remove(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let on_self = "You cannot remove yourself; another admin can.";
    if let Err(refused) = other_user(&state, &signed_in, &id, &form.csrf, on_self).await? {
        return Ok(refused);
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

/// `POST /settings/users/{id}/reset-password` (admins): gives another user of the account a generated password,
/// shown once, and ends their sessions, for a user who forgot theirs or whose password may be known to someone
/// else. An admin changes their own password with the change form, which asks for the current one.
pub async fn reset_password(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let on_self = "Change your own password with the form below; it asks for the current one.";
    let user = match other_user(&state, &signed_in, &id, &form.csrf, on_self).await? {
        Ok(user) => user,
        Err(refused) => return Ok(refused),
    };
    let (password, hash) = generated_password().await?;
    if !state
        .store()
        .set_password(&signed_in.account_id, &user.id, &hash, None)
        .await?
    {
        return Err(PageError::NotFound);
    }
    page(
        &state,
        &signed_in,
        Outcome::shown(user.email, password, true),
    )
    .await
}

/// The change-password form.
#[derive(Deserialize)]
pub struct ChangePasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    new_password_confirmation: String,
}

/// `POST /settings/password` (everyone): changes the signed-in user's password after checking the current one, and
/// ends their other sessions. The check spends the client's sign-in budget and counts as a failed sign-in when
/// wrong, so a borrowed session cannot be used to guess the password.
pub async fn change_password(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ClientAddress(address): ClientAddress,
    Form(form): Form<ChangePasswordForm>,
) -> Result<Response, PageError> {
    signed_in.check_csrf(&form.csrf)?;
    let refuse = |message: String| page(&state, &signed_in, Outcome::error(message));
    if let Err(wait) = state.sign_in_guard().admit(address) {
        return refuse(format!(
            "Too many password checks from your network. Wait {} seconds and try again.",
            wait.as_secs().max(1)
        ))
        .await;
    }
    if let Err(message) = check_new_password(&form.new_password) {
        return refuse(format!("The new password was not changed: {message}.")).await;
    }
    if form.new_password != form.new_password_confirmation {
        return refuse("The two new passwords differ; type the same password twice.".into()).await;
    }
    let Some(user) = state
        .store()
        .user_by_email(&signed_in.email)
        .await?
        .filter(|u| u.id == signed_in.user_id)
    else {
        return Err(PageError::NotFound);
    };
    let (current, hash) = (form.current_password.clone(), user.password_hash.clone());
    let matches = state
        .sign_in_guard()
        .verify(move || verify_password(&current, &hash))
        .await
        .map_err(|error| {
            tracing::error!(%error, "password check crashed");
            PageError::Internal
        })?;
    if !matches {
        state
            .store()
            .record_login_failure(&user.email, unix_now())
            .await?;
        return refuse("The current password is not right; the password was not changed.".into())
            .await;
    }
    let hash = hash_password_off_workers(form.new_password.clone())
        .await
        .map_err(|error| {
            tracing::error!(%error, "hashing a new password failed");
            PageError::Internal
        })?;
    state
        .store()
        .set_password(
            &signed_in.account_id,
            &user.id,
            &hash,
            Some(signed_in.session_digest()),
        )
        .await?;
    page(
        &state,
        &signed_in,
        Outcome {
            notice: Some(
                "Your password is changed. Your other sessions are signed out; this one stays signed in.".into(),
            ),
            ..Outcome::default()
        },
    )
    .await
}
