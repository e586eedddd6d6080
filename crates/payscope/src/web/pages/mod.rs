//! The HTML pages of the web shell: sign-in and setup, the Data Connections pages, API tokens, users, and the static
//! assets. Dashboards live beside them (their own module); every page embeds [`super::layout::Layout`].

mod connections;
mod error;
mod session;
mod tokens;
mod users;

pub use error::PageError;

/// A form whose only field is the session's CSRF token: sign-out, revoking a token, retrying an import, removing a
/// user, resetting a user's password.
#[derive(Deserialize)]
pub struct CsrfForm {
    /// The token the page embedded; the handler checks it with `SignedIn::check_csrf`.
    #[serde(default)]
    pub csrf: String,
}

use axum::Router;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::AppState;
use super::auth::SignedIn;
use super::layout::{APP_CSS, APP_JS, asset};

/// The routes of the web shell, merged into the route table by `web::routes`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/static/app.css", get(app_css))
        .route("/static/app.js", get(app_js))
        .route(
            "/sign-in",
            get(session::sign_in_form).post(session::sign_in),
        )
        .route("/sign-out", post(session::sign_out))
        .route("/setup", get(session::setup_form).post(session::setup))
        .route(
            "/connections",
            get(connections::list).post(connections::add),
        )
        .route("/connections/{id}", get(connections::show))
        .route("/connections/{id}/rename", post(connections::rename))
        .route(
            "/connections/{id}/rotate-key",
            post(connections::rotate_key),
        )
        .route(
            "/connections/{id}/replace-webhook",
            post(connections::replace_webhook),
        )
        .route(
            "/connections/{id}/webhook-secret",
            post(connections::set_webhook_secret),
        )
        .route("/connections/{id}/remove", post(connections::remove))
        .route(
            "/connections/{id}/imports/{job_id}/retry",
            post(connections::retry_import),
        )
        .route("/connections/{id}/progress", get(connections::progress))
        .route("/settings/tokens", get(tokens::list).post(tokens::create))
        .route("/settings/tokens/{id}/revoke", post(tokens::revoke))
        .route("/settings/users", get(users::list).post(users::add))
        .route("/settings/users/{id}/remove", post(users::remove))
        .route(
            "/settings/users/{id}/reset-password",
            post(users::reset_password),
        )
        .route("/settings/password", post(users::change_password))
}

/// `/` is the Overview dashboard for a signed-in user, the sign-in page otherwise.
async fn home(_signed_in: SignedIn) -> Response {
    Redirect::to("/dashboards/overview").into_response()
}

async fn app_css() -> Response {
    asset("text/css; charset=utf-8", APP_CSS)
}

async fn app_js() -> Response {
    asset("text/javascript; charset=utf-8", APP_JS)
}
