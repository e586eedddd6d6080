//! Signing in and out, and the one-time setup page that creates the first admin while no user exists.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{CsrfForm, PageError};
use crate::crypto::api_token_digest;
use crate::store::{DEFAULT_ACCOUNT, User, unix_now};
use crate::web::AppState;
use crate::web::auth::{
    PRE_SESSION_CSRF_COOKIE, SESSION_COOKIE, SESSION_LIFETIME_SECS, SignedIn, check_new_password,
    cookie, hash_password, hash_password_off_workers, new_token, set_cookie, tokens_match,
    verify_password, with_cookie,
};
use crate::web::layout::{asset_version, render};
use crate::web::sign_in_guard::ClientAddress;

/// Failed sign-ins of one email allowed within [`THROTTLE_WINDOW_SECS`] before further attempts are refused.
pub const MAX_FAILED_SIGN_INS: i64 = 5;
/// The throttling window.
pub const THROTTLE_WINDOW_SECS: i64 = 15 * 60;

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    asset_version: &'static str,
    csrf_token: String,
    email: String,
    next: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    asset_version: &'static str,
    csrf_token: String,
    email: String,
    error: Option<String>,
}

/// `?next=` on the sign-in page.
#[derive(Debug, Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

/// The sign-in form as posted.
#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

/// The setup form as posted.
#[derive(Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirmation: String,
    #[serde(default)]
    csrf: String,
}

/// Only local paths are followed after sign-in, so a crafted link cannot send the user to another site.
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/dashboards/overview"
    }
}

/// Shows a form with a fresh pre-session CSRF token in both the page and a cookie.
fn with_pre_session_token(
    state: &AppState,
    status: StatusCode,
    page: &impl Template,
    token: &str,
) -> Response {
    let mut response = render(page);
    *response.status_mut() = status;
    with_cookie(
        response,
        set_cookie(PRE_SESSION_CSRF_COOKIE, token, 3600, state.secure_cookies()),
    )
}

/// `GET /sign-in`: the form, or the setup page while no user exists.
pub async fn sign_in_form(
    State(state): State<AppState>,
    Query(query): Query<NextQuery>,
) -> Result<Response, PageError> {
    if state.store().user_count().await? == 0 {
        return Ok(Redirect::to("/setup").into_response());
    }
    let token = new_token();
    let page = SignInPage {
        asset_version: asset_version(),
        csrf_token: token.clone(),
        email: String::new(),
        next: query.next,
        error: None,
    };
    Ok(with_pre_session_token(
        &state,
        StatusCode::OK,
        &page,
        &token,
    ))
}

/// `POST /sign-in`: checks the password (argon2id), throttles repeated failures per email, and starts a session.
pub async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Result<Response, PageError> {
    if !cookie(&headers, PRE_SESSION_CSRF_COOKIE).is_some_and(|c| tokens_match(c, &form.csrf)) {
        return Err(PageError::Csrf);
    }
    let email = form.email.trim().to_lowercase();
    let now = unix_now();
    let refuse = |message: String, status: StatusCode| {
        let token = new_token();
        let page = SignInPage {
            asset_version: asset_version(),
            csrf_token: token.clone(),
            email: form.email.trim().to_owned(),
            next: form.next.clone(),
            error: Some(message),
        };
        with_pre_session_token(&state, status, &page, &token)
    };
    if let Err(wait) = state.sign_in_guard().admit(address) {
        return Ok(refuse(
            format!(
                "Too many sign-in attempts from your network. Wait {} seconds and try again.",
                wait.as_secs().max(1)
            ),
            StatusCode::TOO_MANY_REQUESTS,
        ));
    }
    let failures = state
        .store()
        .login_failures_since(&email, now - THROTTLE_WINDOW_SECS)
        .await?;
    if failures >= MAX_FAILED_SIGN_INS {
        return Ok(refuse(
            format!(
                "Too many failed sign-ins for this email. Wait {} minutes and try again, or ask an admin to reset the password.",
                THROTTLE_WINDOW_SECS / 60
            ),
            StatusCode::TOO_MANY_REQUESTS,
        ));
    }
    let user = state.store().user_by_email(&email).await?;
    let password = form.password.clone();
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    // Hashing is deliberately slow (tens of ms of CPU), so it runs off the async workers; an unknown email is
    // checked against a dummy hash so both answers take as long and do not reveal which emails exist.
    let matches = state
        .sign_in_guard()
        .verify(move || match hash {
            Some(hash) => verify_password(&password, &hash),
            None => {
                let _ = verify_password(&password, dummy_hash());
                false
            }
        })
        .await
        .map_err(|error| {
            tracing::error!(%error, "password check crashed");
            PageError::Internal
        })?;
    let Some(user) = user.filter(|_| matches) else {
        state.store().record_login_failure(&email, now).await?;
        return Ok(refuse(
            "The email or password is not right. Check both and try again.".into(),
            StatusCode::UNAUTHORIZED,
        ));
    };
    state.store().clear_login_failures(&email).await?;
    start_session(&state, &user, safe_next(&form.next)).await
}

fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("payscope-dummy-password").unwrap_or_default())
}

/// Starts a session for `user` and sends the browser to `to`.
async fn start_session(state: &AppState, user: &User, to: &str) -> Result<Response, PageError> {
    // Sign-ins are rare and cheap to piggyback on, so expired sessions are swept here instead of by a timer.
    state.store().delete_expired_sessions(unix_now()).await?;
    let token = new_token();
    state
        .store()
        .create_session(
            &api_token_digest(&token),
            user,
            &new_token(),
            unix_now() + SESSION_LIFETIME_SECS,
        )
        .await?;
    let secure = state.secure_cookies();
    let response = with_cookie(
        Redirect::to(to).into_response(),
        set_cookie(SESSION_COOKIE, &token, SESSION_LIFETIME_SECS, secure),
    );
    Ok(with_cookie(
        response,
        set_cookie(PRE_SESSION_CSRF_COOKIE, "", 0, secure),
    ))
}

/// `POST /sign-out`: ends the session and clears the cookie.
pub async fn sign_out(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    signed_in.check_csrf(&form.csrf)?;
    state
        .store()
        .delete_session(signed_in.session_digest())
        .await?;
    Ok(with_cookie(
        Redirect::to("/sign-in").into_response(),
        set_cookie(SESSION_COOKIE, "", 0, state.secure_cookies()),
    ))
}

/// `GET /setup`: the first-admin form, only while no user exists.
pub async fn setup_form(State(state): State<AppState>) -> Result<Response, PageError> {
    if state.store().user_count().await? > 0 {
        return Ok(Redirect::to("/sign-in").into_response());
    }
    let token = new_token();
    let page = SetupPage {
        asset_version: asset_version(),
        csrf_token: token.clone(),
        email: String::new(),
        error: None,
    };
    Ok(with_pre_session_token(
        &state,
        StatusCode::OK,
        &page,
        &token,
    ))
}

/// `POST /setup`: creates the first admin in the default account and signs them in.
pub async fn setup(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<SetupForm>,
) -> Result<Response, PageError> {
    if !cookie(&headers, PRE_SESSION_CSRF_COOKIE).is_some_and(|c| tokens_match(c, &form.csrf)) {
        return Err(PageError::Csrf);
    }
    if state.store().user_count().await? > 0 {
        return Ok(Redirect::to("/sign-in").into_response());
    }
    let email = form.email.trim().to_lowercase();
    let problem = if !email.contains('@') {
        Some("Enter the email address you will sign in with.".to_owned())
    } else if let Err(message) = check_new_password(&form.password) {
        Some(capitalised(&message))
    } else if form.password != form.password_confirmation {
        Some("The two passwords differ; type the same password twice.".to_owned())
    } else {
        None
    };
    if let Some(error) = problem {
        let token = new_token();
        let page = SetupPage {
            asset_version: asset_version(),
            csrf_token: token.clone(),
            email: form.email.trim().to_owned(),
            error: Some(error),
        };
        return Ok(with_pre_session_token(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            &page,
            &token,
        ));
    }
    let hash = hash_password_off_workers(form.password.clone())
        .await
        .map_err(|error| {
            tracing::error!(%error, "hashing the first admin's password failed");
            PageError::Internal
        })?;
    let account = state.store().ensure_account(DEFAULT_ACCOUNT).await?;
    match state
        .store()
        .create_first_user(&account.id, &email, &hash)
        .await?
    {
        Some(user) => start_session(&state, &user, "/connections").await,
        // Someone else finished setup first: they are the admin; this browser signs in like anyone else.
        None => Ok(Redirect::to("/sign-in").into_response()),
    }
}

fn capitalised(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}
