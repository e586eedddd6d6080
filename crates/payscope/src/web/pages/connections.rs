//! The Data Connections pages: the list with the "Add Data Connection" side panel, and a connection's page
//! (status, key, webhook and its signature health, live import progress, import log with Retry, rename, rotate key,
//! replace the webhook, paste a signing secret rolled in the Stripe Dashboard, remove).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use secrecy::SecretString;
use serde::Deserialize;

use super::{CsrfForm, PageError};
use crate::connections::{AddConnection, ConnectionView, MissingPermission, Refusal};
use crate::domain::connection::WEBHOOK_SECRET_WHERE;
use crate::store::unix_now;
use crate::sync::{ImportProgress, import_progress, job_progress, resume_import};
use crate::web::AppState;
use crate::web::auth::SignedIn;
use crate::web::layout::{Layout, Nav, render};

/// A refusal as the side panel shows it: the service's words plus the details the form acts on.
#[derive(Debug, Clone)]
pub struct PanelRefusal {
    /// The stable code (`missing_permissions`, `webhook_conflict`, …), exposed as `data-code` for tests.
    pub code: &'static str,
    /// The service's message, verbatim.
    pub message: String,
    /// Every missing permission, for `missing_permissions`.
    pub missing: Vec<MissingPermission>,
    /// Stripe's key-creation page pre-filled with every permission payscope needs.
    pub key_link: Option<String>,
    /// Whether to offer "replace the existing payscope webhook".
    pub webhook_conflict: bool,
}

impl From<&Refusal> for PanelRefusal {
    fn from(refusal: &Refusal) -> Self {
        let (missing, key_link) = match refusal {
            Refusal::MissingPermissions { missing, key_link } => {
                (missing.clone(), Some(key_link.clone()))
            }
            _ => (Vec::new(), None),
        };
        PanelRefusal {
            code: refusal.code(),
            message: refusal.to_string(),
            missing,
            key_link,
            webhook_conflict: matches!(refusal, Refusal::WebhookConflict { .. }),
        }
    }
}

/// What the user typed into the panel, shown again after a refusal (never the key).
#[derive(Debug, Clone, Default)]
pub struct PanelValues {
    /// The Data Connection Name.
    pub name: String,
    /// Whether "replace the existing payscope webhook" was ticked.
    pub replace_webhook: bool,
}

#[derive(Template)]
#[template(path = "connections/list.html")]
struct ListPage {
    layout: Layout,
    connections: Vec<ConnectionView>,
    panel_open: bool,
    refusal: Option<PanelRefusal>,
    values: PanelValues,
    notice: Option<String>,
}

/// `?add=1` opens the side panel without JavaScript; `removed=…` confirms a removal.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    add: Option<String>,
    #[serde(default)]
    removed: Option<String>,
}

/// `GET /connections`
pub async fn list(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let connections = state.connections().list(&signed_in.account_id).await?;
    Ok(render(&ListPage {
        layout: Layout::new(&signed_in, Nav::Connections),
        connections,
        panel_open: query.add.is_some(),
        refusal: None,
        values: PanelValues::default(),
        notice: query
            .removed
            .map(|name| format!("The data connection “{name}” was removed.")),
    }))
}

/// The side panel's form.
#[derive(Deserialize)]
pub struct AddForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    processor: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    api_key: String,
    #[serde(default)]
    replace_webhook: Option<String>,
}

/// `POST /connections`: the real add flow; a refusal re-shows the panel with the service's words.
pub async fn add(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(form): Form<AddForm>,
) -> Result<Response, PageError> {
    signed_in.check_csrf(&form.csrf)?;
    signed_in.require_admin()?;
    let replace_webhook = form.replace_webhook.is_some();
    let request = AddConnection {
        name: form.name.clone(),
        processor: if form.processor.is_empty() {
            "stripe".into()
        } else {
            form.processor.clone()
        },
        api_key: SecretString::from(form.api_key),
        replace_webhook,
    };
    match state
        .connections()
        .add(&signed_in.account_id, request)
        .await
    {
        Ok(added) => {
            Ok(Redirect::to(&format!("/connections/{}", added.connection.id)).into_response())
        }
        Err(Refusal::Internal(_)) => Err(PageError::Internal),
        Err(refusal) => {
            let connections = state.connections().list(&signed_in.account_id).await?;
            let mut response = render(&ListPage {
                layout: Layout::new(&signed_in, Nav::Connections),
                connections,
                panel_open: true,
                refusal: Some(PanelRefusal::from(&refusal)),
                values: PanelValues {
                    name: form.name,
                    replace_webhook,
                },
                notice: None,
            });
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
    }
}

/// One row of the import log.
#[derive(Debug, Clone)]
pub struct ImportLogRow {
    /// The job.
    pub progress: ImportProgress,
    /// Whether Retry applies (the job stopped on an error).
    pub retryable: bool,
}

#[derive(Template)]
#[template(path = "connections/show.html")]
struct ShowPage {
    layout: Layout,
    connection: ConnectionView,
    progress: Option<ImportProgress>,
    log: Vec<ImportLogRow>,
    error: Option<String>,
    notice: Option<String>,
    /// Deliveries refused for a bad signature, with the remedy (paste the rolled secret).
    signature_warning: Option<String>,
    /// Where the merchant finds the signing secret.
    secret_where: &'static str,
}

impl ShowPage {
    /// Whether the page should refresh itself (an import is running).
    fn refreshing(&self) -> bool {
        self.progress
            .as_ref()
            .is_some_and(|p| p.status == "running")
    }
}

/// `?notice=` after an action.
#[derive(Debug, Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    notice: Option<String>,
}

async fn show_page(
    state: &AppState,
    signed_in: &SignedIn,
    id: &str,
    error: Option<String>,
    notice: Option<String>,
) -> Result<ShowPage, PageError> {
    let connection = state.connections().find(&signed_in.account_id, id).await?;
    let store = state.store();
    let progress = import_progress(store, &signed_in.account_id, &connection.id).await?;
    let mut log = Vec::new();
    for record in store
        .import_jobs(&signed_in.account_id, &connection.id, 20)
        .await?
    {
        let retryable = matches!(record.job.status.as_str(), "failed" | "needs_attention");
        log.push(ImportLogRow {
            progress: job_progress(store, &record).await?,
            retryable,
        });
    }
    let signature_warning = crate::sync::live::health(store, &signed_in.account_id, &connection.id)
        .await
        .map_err(|error| {
            tracing::error!(%error, "reading a connection's live-sync health failed");
            PageError::Internal
        })?
        .and_then(|health| health.signature_warning);
    Ok(ShowPage {
        layout: Layout::new(signed_in, Nav::Connections),
        connection: ConnectionView::from(&connection),
        progress,
        log,
        error,
        notice,
        signature_warning,
        secret_where: WEBHOOK_SECRET_WHERE,
    })
}

/// `GET /connections/{id}`
pub async fn show(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Query(query): Query<ShowQuery>,
) -> Result<Response, PageError> {
    let notice = query.notice.and_then(|n| notice_text(&n));
    Ok(render(
        &show_page(&state, &signed_in, &id, None, notice).await?,
    ))
}

/// Only our own notices are shown (a crafted link cannot put words on the page).
fn notice_text(code: &str) -> Option<String> {
    Some(
        match code {
            "renamed" => "The data connection was renamed.",
            "rotated" => "The new key was checked and is now in use.",
            "webhook_replaced" => {
                "A new webhook endpoint is registered on Stripe; events missed meanwhile arrive through the catch-up."
            }
            "retrying" => "The import was restarted; it resumes where it stopped.",
            "secret_set" => {
                "The new signing secret is in use; the previous one is still accepted for 24 hours."
            }
            _ => return None,
        }
        .to_owned(),
    )
}

/// `GET /connections/{id}/progress`: the progress fragment alone, for the page's own refresh.
pub async fn progress(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let connection = state.connections().find(&signed_in.account_id, &id).await?;
    let progress = import_progress(state.store(), &signed_in.account_id, &connection.id).await?;
    Ok(axum::Json(progress).into_response())
}

/// The rename form.
#[derive(Deserialize)]
pub struct RenameForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

/// `POST /connections/{id}/rename`
pub async fn rename(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<RenameForm>,
) -> Result<Response, PageError> {
    signed_in.check_csrf(&form.csrf)?;
    match state
        .connections()
        .rename(&signed_in.account_id, &id, &form.name)
        .await
    {
        Ok(view) => {
            Ok(Redirect::to(&format!("/connections/{}?notice=renamed", view.id)).into_response())
        }
        Err(refusal) => refused(&state, &signed_in, &id, refusal).await,
    }
}

/// The rotate-key form.
#[derive(Deserialize)]
pub struct RotateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    api_key: String,
}

/// `POST /connections/{id}/rotate-key`
pub async fn rotate_key(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<RotateForm>,
) -> Result<Response, PageError> {
    signed_in.check_csrf(&form.csrf)?;
    signed_in.require_admin()?;
    match state
        .connections()
        .rotate_key(&signed_in.account_id, &id, SecretString::from(form.api_key))
        .await
    {
        Ok(view) => {
            Ok(Redirect::to(&format!("/connections/{}?notice=rotated", view.id)).into_response())
        }
        Err(refusal) => refused(&state, &signed_in, &id, refusal).await,
    }
}

/// `POST /connections/{id}/replace-webhook`: registers a new webhook endpoint for the connection.
pub async fn replace_webhook(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    signed_in.check_csrf(&form.csrf)?;
    signed_in.require_admin()?;
    match state
        .connections()
        .replace_webhook(&signed_in.account_id, &id)
        .await
    {
        Ok(view) => Ok(
            Redirect::to(&format!("/connections/{}?notice=webhook_replaced", view.id))
                .into_response(),
        ),
        Err(refusal) => refused(&state, &signed_in, &id, refusal).await,
    }
}

/// The signing-secret form.
#[derive(Deserialize)]
pub struct WebhookSecretForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    secret: String,
}

/// `POST /connections/{id}/webhook-secret`: stores the signing secret the merchant rolled in the Stripe Dashboard.
pub async fn set_webhook_secret(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<WebhookSecretForm>,
) -> Result<Response, PageError> {
    signed_in.check_csrf(&form.csrf)?;
    signed_in.require_admin()?;
    match state
        .connections()
        .set_webhook_secret(&signed_in.account_id, &id, SecretString::from(form.secret))
        .await
    {
        Ok(view) => Ok(
            Redirect::to(&format!("/connections/{}?notice=secret_set", view.id)).into_response(),
        ),
        Err(refusal) => refused(&state, &signed_in, &id, refusal).await,
    }
}

/// Shows a connection page with a refusal of one of its forms; a missing connection stays a 404.
async fn refused(
    state: &AppState,
    signed_in: &SignedIn,
    id: &str,
    refusal: Refusal,
) -> Result<Response, PageError> {
    if matches!(refusal, Refusal::NotFound(_) | Refusal::Internal(_)) {
        return Err(refusal.into());
    }
    let page = show_page(state, signed_in, id, Some(refusal.to_string()), None).await?;
    let mut response = render(&page);
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

/// The remove form.
#[derive(Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    delete_data: Option<String>,
}

/// `POST /connections/{id}/remove`
pub async fn remove(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<RemoveForm>,
) -> Result<Response, PageError> {
    signed_in.check_csrf(&form.csrf)?;
    signed_in.require_admin()?;
    let connection = state.connections().find(&signed_in.account_id, &id).await?;
    state
        .connections()
        .remove(
            &signed_in.account_id,
            &connection.id,
            form.delete_data.is_some(),
        )
        .await?;
    let name: String = form_urlencoded::byte_serialize(connection.name.as_bytes()).collect();
    Ok(Redirect::to(&format!("/connections?removed={name}")).into_response())
}

/// `POST /connections/{id}/imports/{job_id}/retry`: resumes a stopped import from its checkpoints.
pub async fn retry_import(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((id, job_id)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    signed_in.check_csrf(&form.csrf)?;
    let connection = state.connections().find(&signed_in.account_id, &id).await?;
    let belongs = state
        .store()
        .import_job(&signed_in.account_id, &job_id)
        .await?
        .is_some_and(|record| record.job.connection_id == connection.id);
    if !belongs {
        return Err(PageError::NotFound);
    }
    resume_import(state.store(), &signed_in.account_id, &job_id)
        .await
        .map_err(|error| {
            tracing::error!(%error, "resuming an import failed");
            PageError::Internal
        })?;
    Ok(Redirect::to(&format!("/connections/{}?notice=retrying", connection.id)).into_response())
}

/// "3 minutes ago"-style wording for a unix time, used by the templates.
pub fn ago(at: &i64) -> String {
    let seconds = (unix_now() - *at).max(0);
    match seconds {
        0..=59 => "just now".into(),
        60..=3599 => format!("{} min ago", seconds / 60),
        3600..=86_399 => format!("{} h ago", seconds / 3600),
        _ => format!("{} days ago", seconds / 86_400),
    }
}

/// A share 0.0–1.0 as a whole percentage.
pub fn percent(share: &f64) -> String {
    format!("{:.0}", (share * 100.0).clamp(0.0, 100.0))
}
