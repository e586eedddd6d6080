//! How a page request fails: one enum, each case an HTML page with the right status and words that say what to do.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::connections::Refusal;
use crate::store::StoreError;
use crate::web::layout::{asset_version, render};

/// A failed page request.
#[derive(Debug)]
pub enum PageError {
    /// No such page or record in the signed-in account (records of other accounts included, on purpose).
    NotFound,
    /// A form post without this session's CSRF token.
    Csrf,
    /// Something only an admin of the account may do, asked by a member.
    AdminOnly,
    /// The request could not be read.
    BadRequest(String),
    /// A failure inside payscope; logged where it happened.
    Internal,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    asset_version: &'static str,
    title: &'static str,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, message) = match self {
            PageError::NotFound => (
                StatusCode::NOT_FOUND,
                "Not found",
                "There is no such page in your account.".to_owned(),
            ),
            PageError::Csrf => (
                StatusCode::FORBIDDEN,
                "Form expired",
                "This form was not sent from a current payscope page. Go back, reload the page and submit it again."
                    .to_owned(),
            ),
            PageError::AdminOnly => (
                StatusCode::FORBIDDEN,
                "Admins only",
                "Only an admin of this account can do this. Ask one of the admins listed under Users to do it, or to \
                 make you an admin."
                    .to_owned(),
            ),
            PageError::BadRequest(message) => (StatusCode::BAD_REQUEST, "Bad request", message),
            PageError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "payscope could not complete the request; the error is in the server log. Try again in a moment."
                    .to_owned(),
            ),
        };
        let mut response = render(&ErrorPage {
            asset_version: asset_version(),
            title,
            message,
        });
        *response.status_mut() = status;
        response
    }
}

impl From<StoreError> for PageError {
    fn from(error: StoreError) -> Self {
        tracing::error!(%error, "a page's store call failed");
        PageError::Internal
    }
}

impl From<Refusal> for PageError {
    /// For the calls whose refusals are not shown in a form: a connection of another account is a 404.
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::NotFound(_) => PageError::NotFound,
            other => {
                tracing::error!(error = %other, "a page's connection call failed");
                PageError::Internal
            }
        }
    }
}
