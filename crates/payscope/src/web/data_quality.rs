//! The data-quality check of a connection (the guide's troubleshooting, automated): the share of card payments
//! carrying a BIN and a bank name, over everything imported and over the last 7 days, with the remedy when below
//! 100 % and the affected payments. A page at `/connections/{id}/data-quality` and JSON at
//! `/api/v1/connections/{id}/data-quality`.

use askama::Template;
use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use super::AppState;
use super::api::ApiAccount;
use super::auth::SignedIn;
use super::error::ApiError;
use super::layout::{Layout, Nav, render};
use super::pages::PageError;
use crate::domain::analytics::DAY;
use crate::domain::analytics::period::format_date;
use crate::domain::analytics::ratio;
use crate::store::{CardDetailsShare, PaymentMissingDetails, Store, StoreResult, unix_now};

/// What the merchant should do when card details are missing: Stripe sends `iin` and `issuer` only to accounts
/// it has enabled them for (documented as "for internal use only"; how an account gets them is not public).
pub const REMEDY: &str = "Stripe sends a card's BIN and issuing bank only when card details are enabled for the \
account. Contact Stripe support and ask them to enable card details (BIN and issuer) on all webhooks and API \
responses for this account; payments imported afterwards will carry them, and a re-import fills in older ones.";

/// How many affected payments the page lists.
const AFFECTED_SHOWN: i64 = 50;

/// The card-data quality of one connection.
#[derive(Debug, Clone, Serialize)]
pub struct DataQuality {
    /// The connection.
    pub connection_id: String,
    /// Over everything imported.
    pub overall: Share,
    /// Over the last 7 days.
    pub last_7_days: Share,
    /// The remedy, when either share is below 100 %.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remedy: Option<&'static str>,
}

/// Shares of card payments with details, over one span.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Share {
    /// Card payments counted.
    pub card_payments: i64,
    /// Those with a BIN.
    pub with_bin: i64,
    /// Those with a bank name.
    pub with_issuer: i64,
    /// `with_bin ÷ card_payments`, absent without card payments.
    pub bin_share: Option<f64>,
    /// `with_issuer ÷ card_payments`.
    pub issuer_share: Option<f64>,
}

impl Share {
    fn of(counts: CardDetailsShare) -> Share {
        Share {
            card_payments: counts.card_payments,
            with_bin: counts.with_bin,
            with_issuer: counts.with_issuer,
            bin_share: ratio(counts.with_bin, counts.card_payments),
            issuer_share: ratio(counts.with_issuer, counts.card_payments),
        }
    }

    /// Whether some card payments lack a BIN or a bank name.
    pub fn incomplete(&self) -> bool {
        self.with_bin < self.card_payments || self.with_issuer < self.card_payments
    }

    /// `97.5%`, or `—` without card payments.
    pub fn percent(share: &Option<f64>) -> String {
        share
            .as_ref()
            .map(|s| format!("{:.1}%", s * 100.0))
            .unwrap_or_else(|| "—".into())
    }
}

/// The data quality of connection `connection_id` of `account_id` at time `now`. The caller has checked the
/// connection belongs to the account (the store scopes by account either way).
pub async fn data_quality(
    store: &Store,
    account_id: &str,
    connection_id: &str,
    now: i64,
) -> StoreResult<DataQuality> {
    let overall = Share::of(
        store
            .card_details_share(account_id, connection_id, None)
            .await?,
    );
    let last_7_days = Share::of(
        store
            .card_details_share(account_id, connection_id, Some(now - 7 * DAY))
            .await?,
    );
    Ok(DataQuality {
        connection_id: connection_id.to_owned(),
        remedy: (overall.incomplete() || last_7_days.incomplete()).then_some(REMEDY),
        overall,
        last_7_days,
    })
}

/// [`data_quality`] and the newest affected payments, as the page shows them (`payscope bench dashboards` times
/// this too).
pub async fn data_quality_with_affected(
    store: &Store,
    account_id: &str,
    connection_id: &str,
    now: i64,
) -> StoreResult<(DataQuality, Vec<PaymentMissingDetails>)> {
    let quality = data_quality(store, account_id, connection_id, now).await?;
    // With every card payment complete there is nothing to list (and the search would read them all).
    let affected = if quality.overall.incomplete() {
        store
            .payments_missing_card_details(account_id, connection_id, AFFECTED_SHOWN)
            .await?
    } else {
        Vec::new()
    };
    Ok((quality, affected))
}

/// The routes of the data-quality check, merged into the route table by `web::routes`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/connections/{id}/data-quality", get(page))
        .route("/api/v1/connections/{id}/data-quality", get(api))
}

#[derive(Template)]
#[template(path = "connections/data_quality.html")]
struct DataQualityPage {
    layout: Layout,
    connection_id: String,
    connection_name: String,
    quality: DataQuality,
    affected: Vec<PaymentMissingDetails>,
}

impl DataQualityPage {
    fn date(&self, t: &i64) -> String {
        format_date(*t)
    }

    fn amount(&self, p: &PaymentMissingDetails) -> String {
        crate::domain::analytics::money::format_money(p.amount as f64, &p.currency)
    }
}

async fn page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let store = state.store();
    let connection = store
        .connection(&signed_in.account_id, &id)
        .await?
        .ok_or(PageError::NotFound)?;
    let (quality, affected) =
        data_quality_with_affected(store, &signed_in.account_id, &id, unix_now()).await?;
    Ok(render(&DataQualityPage {
        layout: Layout::new(&signed_in, Nav::Connections),
        connection_id: connection.id,
        connection_name: connection.name,
        quality,
        affected,
    }))
}

async fn api(
    State(state): State<AppState>,
    ApiAccount(account_id): ApiAccount,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let internal = |error: crate::store::StoreError| {
        tracing::error!(%error, "data quality query failed");
        ApiError::Refused(crate::connections::Refusal::Internal(
            "the database is unavailable".into(),
        ))
    };
    let store = state.store();
    if store
        .connection(&account_id, &id)
        .await
        .map_err(internal)?
        .is_none()
    {
        return Err(ApiError::Refused(crate::connections::Refusal::NotFound(id)));
    }
    let quality = data_quality(store, &account_id, &id, unix_now())
        .await
        .map_err(internal)?;
    Ok(Json(quality).into_response())
}
