//! The dashboards at `/dashboards/<name>` (HTML), each chart's data as CSV (`?format=csv&chart=<id>`), and the
//! same dashboards over the JSON API at `/api/v1/dashboards/<name>` for API tokens.

pub mod build;
pub mod model;
pub mod query;

use askama::Template;
use axum::Json;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use self::model::Dashboard;
use self::query::View;
use super::AppState;
use super::api::ApiAccount;
use super::auth::SignedIn;
use super::error::ApiError;
use super::layout::{Layout, Nav};
use super::pages::PageError;
use crate::store::{Store, StoreError, unix_now};

pub use build::{DASHBOARDS, build};

/// The dashboard routes, merged into the route table by `web::routes`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dashboards/{name}", get(page))
        .route("/api/v1/dashboards/{name}", get(api))
}

/// The card brands and funding types offered in the filter form (Stripe's documented values).
const BRANDS: &[&str] = &[
    "visa",
    "mastercard",
    "amex",
    "discover",
    "jcb",
    "diners",
    "unionpay",
    "cartes_bancaires",
    "eftpos_au",
];
const FUNDING: &[&str] = &["credit", "debit", "prepaid", "unknown"];

#[derive(Template)]
#[template(path = "dashboards/dashboard.html")]
struct DashboardPage {
    layout: Layout,
    dashboard: Dashboard,
    view: View,
    /// (id, name) of the account's connections, for the filter form.
    connections: Vec<(String, String)>,
    /// The current query without format and chart, for CSV links.
    query: String,
    brands: &'static [&'static str],
    funding: &'static [&'static str],
}

impl DashboardPage {
    fn country(&self) -> String {
        self.view.filter.countries.join(",")
    }
}

/// The navigation item of dashboard `name`.
pub fn nav(name: &str) -> Nav {
    match name {
        "overview" => Nav::Overview,
        "approvals" => Nav::Approvals,
        "declines" => Nav::Declines,
        "cards" => Nav::Cards,
        "disputes" => Nav::Disputes,
        "refunds" => Nav::Refunds,
        "costs" => Nav::Costs,
        "payouts" => Nav::Payouts,
        _ => Nav::None,
    }
}

/// Why a dashboard page could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    /// A store query failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The template failed (a bug).
    #[error("the dashboard template failed: {0}")]
    Template(#[from] askama::Error),
}

impl From<DashboardError> for PageError {
    fn from(error: DashboardError) -> Self {
        tracing::error!(%error, "a dashboard failed");
        PageError::Internal
    }
}

/// Renders dashboard `name` of `account_id` as its HTML page inside `layout`: what `GET /dashboards/<name>`
/// answers and what `payscope bench dashboards` times. `None` for an unknown dashboard.
pub async fn render_page(
    store: &Store,
    account_id: &str,
    layout: Layout,
    name: &str,
    view: View,
) -> Result<Option<String>, DashboardError> {
    let Some(dashboard) = build(store, account_id, name, &view).await? else {
        return Ok(None);
    };
    let connections = store
        .connections(account_id)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let page = DashboardPage {
        layout,
        query: view.query_with(&[]),
        dashboard,
        view,
        connections,
        brands: BRANDS,
        funding: FUNDING,
    };
    Ok(Some(page.render()?))
}

async fn page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let view = View::parse(query.as_deref().unwrap_or(""), unix_now())
        .map_err(|e| PageError::BadRequest(e.to_string()))?;
    if view.format != "html" {
        let dashboard = build(state.store(), &signed_in.account_id, &name, &view)
            .await?
            .ok_or(PageError::NotFound)?;
        return data_response(&dashboard, &view).ok_or(PageError::NotFound);
    }
    let layout = Layout::new(&signed_in, nav(&name));
    let html = render_page(state.store(), &signed_in.account_id, layout, &name, view)
        .await?
        .ok_or(PageError::NotFound)?;
    Ok(Html(html).into_response())
}

async fn api(
    State(state): State<AppState>,
    ApiAccount(account_id): ApiAccount,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let mut view = View::parse(query.as_deref().unwrap_or(""), unix_now())
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    if view.format == "html" {
        view.format = "json".into();
    }
    let dashboard = build(state.store(), &account_id, &name, &view)
        .await
        .map_err(|error| {
            tracing::error!(%error, "building a dashboard failed");
            ApiError::Refused(crate::connections::Refusal::Internal(
                "the database is unavailable".into(),
            ))
        })?
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "there is no dashboard {name:?}; use one of overview, approvals, declines, cards, disputes, \
                 refunds, costs, payouts"
            ))
        })?;
    data_response(&dashboard, &view).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "there is no chart {:?} on this dashboard; see the chart ids in the json form",
            view.chart.unwrap_or_default()
        ))
    })
}

/// The dashboard as JSON, or one chart's CSV as a download; `None` when the CSV's chart does not exist.
fn data_response(dashboard: &Dashboard, view: &View) -> Option<Response> {
    if view.format == "csv" {
        let id = view.chart.as_deref()?;
        let csv = dashboard.csv(id)?;
        let disposition = format!("attachment; filename=\"{}-{id}.csv\"", dashboard.name);
        return Some(
            (
                StatusCode::OK,
                [
                    (
                        CONTENT_TYPE,
                        HeaderValue::from_static("text/csv; charset=utf-8"),
                    ),
                    (
                        CONTENT_DISPOSITION,
                        HeaderValue::from_str(&disposition).ok()?,
                    ),
                ],
                csv,
            )
                .into_response(),
        );
    }
    Some(Json(dashboard).into_response())
}
