//! The page frame every signed-in page shares: the [`Layout`] value its template embeds, the navigation, the
//! static assets, and [`render`] to turn a template into a response.
//!
//! # Contract for page templates
//!
//! A page is one askama template struct under `templates/` (mirroring the URL tree, e.g.
//! `templates/dashboards/overview.html` for `/dashboards/overview`) with a field named `layout`:
//!
//! ```ignore
//! #[derive(askama::Template)]
//! #[template(path = "dashboards/overview.html")]
//! struct OverviewPage { layout: Layout, /* the page's own data */ }
//!
//! async fn overview(signed_in: SignedIn, State(state): State<AppState>) -> Result<Response, PageError> {
//!     let page = OverviewPage { layout: Layout::new(&signed_in, Nav::Overview), /* … */ };
//!     Ok(render(&page))
//! }
//! ```
//!
//! and the template extends the frame, filling two blocks:
//!
//! ```text
//! {% extends "base.html" %}
//! {% block title %}Overview{% endblock %}
//! {% block content %}<h1>Overview</h1> … {% endblock %}
//! ```
//!
//! `base.html` gives the main navigation (Overview, Approvals, Declines, Cards, Disputes, Refunds, Costs, Payouts
//! at `/dashboards/{overview,…,payouts}`), with the profile menu at its bottom (Data Connections → Connections at
//! `/connections`, API tokens at `/settings/tokens`, Sign out as a CSRF-protected POST to `/sign-out`), a skip
//! link, and `<main id="content">` around the `content` block. Forms put `layout.csrf_token` in a hidden field
//! named `csrf` (see [`super::auth`]). Styles come from `/static/app.css` (classes: `.page-header`, `.card`,
//! `.grid`, `.button`, `.button.primary`, `.button.danger`, `.table`, `.badge`, `.badge.ok|.warn|.bad`,
//! `.notice`, `.notice.error`, `.field`, `.filters`, `.chart`, `.muted`, `.kpi`, `.kpis`); a little script of our
//! own at `/static/app.js` enhances, nothing depends on it.

use askama::Template;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::auth::SignedIn;

/// Which item of the navigation a page belongs to, so the frame can mark it current (`aria-current="page"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// `/dashboards/overview`
    Overview,
    /// `/dashboards/approvals`
    Approvals,
    /// `/dashboards/declines`
    Declines,
    /// `/dashboards/cards`
    Cards,
    /// `/dashboards/disputes`
    Disputes,
    /// `/dashboards/refunds`
    Refunds,
    /// `/dashboards/costs`
    Costs,
    /// `/dashboards/payouts`
    Payouts,
    /// `/connections` and each connection's page (profile menu → Data Connections).
    Connections,
    /// `/settings/tokens` (profile menu).
    ApiTokens,
    /// `/settings/users` (profile menu).
    Users,
    /// A page outside the navigation.
    None,
}

/// One link of the main navigation, as the frame renders it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NavLink {
    /// The visible label.
    pub label: &'static str,
    /// Where it goes.
    pub href: &'static str,
    /// Whether the current page is this item.
    pub current: bool,
}

/// The dashboards of the main navigation, in order: (item, label, path).
pub const DASHBOARDS: &[(Nav, &str, &str)] = &[
    (Nav::Overview, "Overview", "/dashboards/overview"),
    (Nav::Approvals, "Approvals", "/dashboards/approvals"),
    (Nav::Declines, "Declines", "/dashboards/declines"),
    (Nav::Cards, "Cards", "/dashboards/cards"),
    (Nav::Disputes, "Disputes", "/dashboards/disputes"),
    (Nav::Refunds, "Refunds", "/dashboards/refunds"),
    (Nav::Costs, "Costs", "/dashboards/costs"),
    (Nav::Payouts, "Payouts", "/dashboards/payouts"),
];

/// What the page frame needs from every signed-in page: who is signed in, to which account, which navigation
/// item is current, and the CSRF token for the frame's own forms (sign-out) and the page's.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The signed-in user's email, shown in the profile menu.
    pub email: String,
    /// The account's name, shown above the navigation.
    pub account_name: String,
    /// The current navigation item.
    pub active: Nav,
    /// The session's CSRF token; every form posts it as `csrf`.
    pub csrf_token: String,
    /// Whether the user is an admin (the frame shows admin-only links).
    pub is_admin: bool,
    /// A short digest of the stylesheet and script, appended to their URLs so a long cache never serves a
    /// stale file after an upgrade.
    pub asset_version: &'static str,
}

impl Layout {
    /// The frame for a page of `signed_in`'s account whose navigation item is `active`.
    pub fn new(signed_in: &SignedIn, active: Nav) -> Self {
        Layout {
            email: signed_in.email.clone(),
            account_name: signed_in.account_name.clone(),
            active,
            csrf_token: signed_in.csrf_token.clone(),
            is_admin: signed_in.is_admin,
            asset_version: asset_version(),
        }
    }

    /// The main navigation's dashboard links, the current one marked.
    pub fn dashboards(&self) -> Vec<NavLink> {
        DASHBOARDS
            .iter()
            .map(|(item, label, href)| NavLink {
                label,
                href,
                current: *item == self.active,
            })
            .collect()
    }

    /// Whether the current page is the Data Connections list or a connection's page.
    pub fn on_connections(&self) -> bool {
        self.active == Nav::Connections
    }

    /// Whether the current page is the API tokens page.
    pub fn on_tokens(&self) -> bool {
        self.active == Nav::ApiTokens
    }

    /// Whether the current page is the Users page.
    pub fn on_users(&self) -> bool {
        self.active == Nav::Users
    }

    /// The first letter of the email, upper-cased, for the profile menu's avatar.
    pub fn initial(&self) -> String {
        self.email
            .chars()
            .next()
            .map(|c| c.to_uppercase().collect())
            .unwrap_or_default()
    }

    /// Whether the current page belongs to the profile menu, so the frame opens that menu.
    pub fn in_profile_menu(&self) -> bool {
        matches!(self.active, Nav::Connections | Nav::ApiTokens | Nav::Users)
    }
}

/// The stylesheet, embedded so `cargo run` is the whole set-up.
pub const APP_CSS: &str = include_str!("../../static/app.css");
/// Our own progressive-enhancement script, embedded likewise.
pub const APP_JS: &str = include_str!("../../static/app.js");

/// The first 12 hex characters of SHA-256 over both assets, computed once.
pub fn asset_version() -> &'static str {
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VERSION.get_or_init(|| {
        let mut hasher = Sha256::new();
        hasher.update(APP_CSS.as_bytes());
        hasher.update(APP_JS.as_bytes());
        hex::encode(hasher.finalize())[..12].to_owned()
    })
}

/// Serves an embedded asset with a year-long, immutable cache: its URL carries [`asset_version`].
pub fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        body,
    )
        .into_response()
}

/// Renders a page template as an HTML response; a rendering failure (a bug) is logged and becomes a 500 page.
pub fn render<T: Template>(template: &T) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::error!(%error, "rendering a page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("<!doctype html><title>Error</title><p>payscope could not render this page; the error is in the server log.</p>"),
            )
                .into_response()
        }
    }
}
