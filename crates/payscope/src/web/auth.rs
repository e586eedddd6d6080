//! Who is signed in: session cookies, the [`SignedIn`] extractor, CSRF checks for form posts, and password hashing.
//!
//! # Contract for page handlers
//!
//! - Take `signed_in: SignedIn` as an argument of every page handler. A request without a live session never
//!   reaches the handler: a `GET`/`HEAD` is answered `303 See Other` to `/sign-in?next=<path>`; any other method
//!   to plain `/sign-in` (a form cannot be replayed as a GET after signing in).
//! - Scope every store or service call by `signed_in.account_id`; a record of another account is a 404
//!   ([`super::pages::PageError::NotFound`]), never a 403, so ids of other accounts cannot be probed.
//! - Every HTML form that posts carries `<input type="hidden" name="csrf" value="{{ layout.csrf_token }}">`, and
//!   its handler calls [`SignedIn::check_csrf`] with the posted value before doing anything.
//! - Cookies: `payscope_session` (HttpOnly, SameSite=Lax, `Secure` when the public URL is https, `Path=/`), a
//!   random 160-bit value of which only a SHA-256 digest is stored.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::FromRequestParts;
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::response::{IntoResponse, Redirect, Response};
use subtle::ConstantTimeEq;

use super::AppState;
use crate::crypto::api_token_digest;
use crate::domain::ids::random_base32;
use crate::store::unix_now;

/// The cookie that carries the session.
pub const SESSION_COOKIE: &str = "payscope_session";
/// The cookie that carries the CSRF token of forms shown before sign-in (sign-in and setup), checked by
/// double submit because there is no session yet to hold it.
pub const PRE_SESSION_CSRF_COOKIE: &str = "payscope_csrf";
/// How long a session lasts from sign-in.
pub const SESSION_LIFETIME_SECS: i64 = 14 * 24 * 3600;

/// The signed-in user of a page request: the account every query must be scoped to, and the CSRF token its forms
/// carry.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The account the user belongs to (`acc_…`); every store call of the request is scoped by it.
    pub account_id: String,
    /// The account's name, shown in the page frame.
    pub account_name: String,
    /// `usr_…`
    pub user_id: String,
    /// The user's sign-in email.
    pub email: String,
    /// Whether the user may manage users and API tokens.
    pub is_admin: bool,
    /// The token every form of this session must post back as `csrf`.
    pub csrf_token: String,
    /// The digest of the session cookie, for sign-out.
    session_digest: String,
}

/// Why a page request has no [`SignedIn`]: the browser goes to the sign-in page.
#[derive(Debug)]
pub enum NotSignedIn {
    /// No cookie, an unknown one, or an expired session; `next` is where to return after signing in.
    Redirect {
        /// The path (and query) that was asked for.
        next: String,
    },
    /// The session could not be read (database failure); logged where it happened.
    Unavailable,
}

impl IntoResponse for NotSignedIn {
    fn into_response(self) -> Response {
        match self {
            NotSignedIn::Redirect { next } => {
                let target = if next == "/" || next.is_empty() {
                    "/sign-in".to_owned()
                } else {
                    format!(
                        "/sign-in?next={}",
                        form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                    )
                };
                Redirect::to(&target).into_response()
            }
            NotSignedIn::Unavailable => super::pages::PageError::Internal.into_response(),
        }
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = NotSignedIn;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let next = if parts.method == Method::GET || parts.method == Method::HEAD {
            parts
                .uri
                .path_and_query()
                .map_or_else(|| "/".to_owned(), |pq| pq.as_str().to_owned())
        } else {
            "/".to_owned()
        };
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(NotSignedIn::Redirect { next });
        };
        let digest = api_token_digest(token);
        match state.store().session(&digest, unix_now()).await {
            Ok(Some(session)) => Ok(SignedIn {
                account_id: session.account_id,
                account_name: session.account_name,
                user_id: session.user_id,
                email: session.email,
                is_admin: session.is_admin,
                csrf_token: session.csrf_token,
                session_digest: digest,
            }),
            Ok(None) => Err(NotSignedIn::Redirect { next }),
            Err(error) => {
                tracing::error!(%error, "reading the session failed");
                Err(NotSignedIn::Unavailable)
            }
        }
    }
}

impl SignedIn {
    /// Refuses a form post whose `csrf` field is not this session's token (a page of another site posting with
    /// the user's cookie). Call it first in every POST handler.
    pub fn check_csrf(&self, posted: &str) -> Result<(), super::pages::PageError> {
        if tokens_match(&self.csrf_token, posted) {
            Ok(())
        } else {
            Err(super::pages::PageError::Csrf)
        }
    }

    /// Refuses what only an admin of the account may do: managing users and API tokens, and adding, re-keying or
    /// removing data connections (they hold the account's Stripe keys).
    pub fn require_admin(&self) -> Result<(), super::pages::PageError> {
        if self.is_admin {
            Ok(())
        } else {
            Err(super::pages::PageError::AdminOnly)
        }
    }

    /// The digest of this session's cookie (what the store keys sessions by), for sign-out.
    pub fn session_digest(&self) -> &str {
        &self.session_digest
    }
}

/// Compares two tokens in constant time; an empty token never matches.
pub fn tokens_match(expected: &str, posted: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(posted.as_bytes()))
}

/// A fresh random token for a session cookie or a CSRF field (160 bits of base32).
pub fn new_token() -> String {
    random_base32(32)
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A `Set-Cookie` value for `name`: HttpOnly, SameSite=Lax, Path=/, Secure when the public URL is https;
/// `max_age` 0 deletes the cookie.
pub fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("payscope_invalid=; Max-Age=0"))
}

/// Adds a `Set-Cookie` header to `response`.
pub fn with_cookie(mut response: Response, cookie: HeaderValue) -> Response {
    response.headers_mut().append(SET_COOKIE, cookie);
    response
}

/// Hashes a password with argon2id (the crate's defaults: 19 MiB, 2 passes) into a PHC string.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|error| PasswordError(error.to_string()))
}

/// [`hash_password`] on a blocking thread: hashing takes tens of milliseconds of CPU, which the async workers
/// serving requests must not spend.
pub async fn hash_password_off_workers(password: String) -> Result<String, PasswordError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|error| PasswordError(format!("the hashing thread failed: {error}")))?
}

/// Whether `password` matches the stored PHC `hash`; a malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A password could not be hashed (the system's random source failed).
#[derive(Debug, thiserror::Error)]
#[error("could not hash the password: {0}; try again")]
pub struct PasswordError(String);

/// The shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 10;

/// Checks a new password's strength; the message says what to change.
pub fn check_new_password(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(format!(
            "the password is too short; use at least {MIN_PASSWORD_LEN} characters"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_argon2id_hash_only() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse battery!", &hash));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn cookies_are_found_by_exact_name_among_several() {
        let mut headers = HeaderMap::new();
        headers.append(
            COOKIE,
            HeaderValue::from_static("a=1; payscope_session_x=2; payscope_session=abc"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, "missing"), None);
    }

    #[test]
    fn an_empty_or_different_csrf_token_never_matches() {
        assert!(tokens_match("abc", "abc"));
        assert!(!tokens_match("abc", "abd"));
        assert!(!tokens_match("", ""));
    }
}
