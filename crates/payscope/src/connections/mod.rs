//! The Data Connections service: add (check the key, check permissions, register the webhook, queue the import),
//! list, show, rename, rotate the key, replace the webhook, set a signing secret rolled in the Stripe Dashboard,
//! remove. The CLI, the JSON API and the web form all call this one service.

mod refusal;
mod signature_refusals;

pub use refusal::{MissingPermission, Refusal};
pub use signature_refusals::{SIGNATURE_REFUSALS_WRITTEN_EVERY, SignatureRefusals};

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use stripe::probe::{Access, PermissionReport, REQUIRED_PERMISSIONS};
use stripe::{ApiKey, Client, KeyKind, NewWebhookEndpoint};
use url::Url;

use crate::crypto::MasterKey;
use crate::domain::connection::{
    Connection, ConnectionStatus, Mode, PREVIOUS_WEBHOOK_SECRET_GRACE_SECONDS, Processor,
    validate_webhook_secret,
};
use crate::domain::ids::new_id;
use crate::domain::stripe_setup::{
    WEBHOOK_EVENTS, endpoint_metadata, is_endpoint_attention, is_our_endpoint, key_creation_link,
    validate_name, webhook_url,
};
use crate::store::{Store, StoreError, unix_now};
use crate::stripe_access::StripeAccess;

/// Stripe's limit on webhook endpoints per account.
pub const MAX_WEBHOOK_ENDPOINTS: usize = 16;

/// What the user asks for when adding a connection.
#[derive(Debug)]
pub struct AddConnection {
    /// The Data Connection Name.
    pub name: String,
    /// The processor; only `stripe` today.
    pub processor: String,
    /// The pasted key. Never logged, never stored unsealed.
    pub api_key: SecretString,
    /// Delete this installation's existing endpoint on the Stripe account instead of refusing.
    pub replace_webhook: bool,
}

/// A connection as the API and CLI show it: no secrets, the key masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectionView {
    /// `con_…`
    pub id: String,
    /// The Data Connection Name.
    pub name: String,
    /// `stripe`.
    pub processor: &'static str,
    /// `test` or `live`.
    pub mode: &'static str,
    /// `validating`, `importing`, `active`, `needs_attention`, `disconnected`.
    pub status: &'static str,
    /// Why the status needs attention.
    pub status_reason: Option<String>,
    /// Stripe's `acct_…`.
    pub stripe_account_id: Option<String>,
    /// The key as it may be shown: `rk_live_…abcd`.
    pub api_key: String,
    /// Our endpoint on the Stripe account; absent in polling mode.
    pub webhook_endpoint_id: Option<String>,
    /// `webhook` when Stripe posts events to us, `polling` when the Events API is the only source.
    pub sync_mode: &'static str,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

impl From<&Connection> for ConnectionView {
    fn from(c: &Connection) -> Self {
        ConnectionView {
            id: c.id.clone(),
            name: c.name.clone(),
            processor: c.processor.as_str(),
            mode: c.mode.as_str(),
            status: c.status.as_str(),
            status_reason: c.status_reason.clone(),
            stripe_account_id: c.processor_account_id.clone(),
            api_key: c.api_key_hint.clone(),
            webhook_endpoint_id: c.webhook_endpoint_id.clone(),
            sync_mode: if c.webhook_endpoint_id.is_some() {
                "webhook"
            } else {
                "polling"
            },
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// The result of a successful add.
#[derive(Debug, Clone, Serialize)]
pub struct Added {
    /// The new connection.
    pub connection: ConnectionView,
    /// The endpoint that was deleted because the user asked to replace it.
    pub replaced_webhook_endpoint_id: Option<String>,
    /// Permissions that could not be checked, with the reason (SKUs, Balance Transfers, …).
    pub unchecked_permissions: Vec<UncheckedPermission>,
    /// What happens next, in words.
    pub message: String,
}

/// A permission the probe could not check, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UncheckedPermission {
    /// The Dashboard's name.
    pub resource: String,
    /// Stripe's name.
    pub permission: String,
    /// Why it cannot be checked.
    pub reason: String,
}

/// The result of a remove.
#[derive(Debug, Clone, Serialize)]
pub struct Removed {
    /// The connection id.
    pub id: String,
    /// Whether the imported data was deleted too.
    pub data_deleted: bool,
    /// Whether our endpoint on Stripe was deleted (false when there was none, or Stripe refused; see `message`).
    pub webhook_deleted: bool,
    /// What happened, in words.
    pub message: String,
}

/// The service. Cheap to clone.
#[derive(Clone, Debug)]
pub struct ConnectionService {
    store: Store,
    access: StripeAccess,
    master_key: MasterKey,
    public_url: Option<Url>,
    allow_secret_keys: bool,
}

fn internal(error: impl std::fmt::Display) -> Refusal {
    tracing::error!(%error, "connection service failure");
    Refusal::Internal(error.to_string())
}

fn store_error(error: StoreError) -> Refusal {
    match error {
        StoreError::NameTaken(name) => Refusal::NameTaken(name),
        other => internal(other),
    }
}

/// Maps a Stripe failure during a check to a refusal.
fn stripe_refusal(error: stripe::Error) -> Refusal {
    match error {
        stripe::Error::Authentication { expired: true, .. } => Refusal::ExpiredApiKey,
        stripe::Error::Authentication { .. } => Refusal::InvalidApiKey,
        stripe::Error::Permission { ref permission, .. } => {
            let permission = permission.clone().unwrap_or_else(|| "unknown".into());
            let resource = REQUIRED_PERMISSIONS
                .iter()
                .find(|r| r.permission == permission)
                .map_or_else(|| permission.clone(), |r| r.dashboard_name.to_owned());
            let access = if permission.ends_with("_write") {
                "write"
            } else {
                "read"
            };
            Refusal::MissingPermissions {
                missing: vec![MissingPermission {
                    resource,
                    permission,
                    access,
                }],
                key_link: full_key_link(false),
            }
        }
        other => Refusal::StripeUnavailable(other.to_string()),
    }
}

fn full_key_link(live: bool) -> String {
    let all: Vec<&str> = REQUIRED_PERMISSIONS.iter().map(|r| r.permission).collect();
    key_creation_link(live, &all)
}

fn mode_of(key: &ApiKey) -> Mode {
    match key.mode() {
        stripe::Mode::Live => Mode::Live,
        stripe::Mode::Test => Mode::Test,
    }
}

impl ConnectionService {
    /// A service over `store`, reaching Stripe through `access`.
    pub fn new(
        store: Store,
        access: StripeAccess,
        master_key: MasterKey,
        public_url: Option<Url>,
        allow_secret_keys: bool,
    ) -> Self {
        Self {
            store,
            access,
            master_key,
            public_url,
            allow_secret_keys,
        }
    }

    /// Parses the pasted key and refuses kinds payscope does not take.
    fn acceptable_key(&self, text: &SecretString) -> Result<ApiKey, Refusal> {
        let key = ApiKey::parse(text.expose_secret().trim())
            .map_err(|e| Refusal::MalformedApiKey(e.to_string()))?;
        match key.kind() {
            KeyKind::Publishable => Err(Refusal::PublishableKey),
            KeyKind::Secret if !self.allow_secret_keys => Err(Refusal::SecretKeyNotAllowed),
            _ => Ok(key),
        }
    }

    /// Probes every permission and refuses with the complete list of what is missing.
    async fn checked_permissions(
        &self,
        client: &Client,
        live: bool,
    ) -> Result<PermissionReport, Refusal> {
        let report = client.probe_permissions().await.map_err(stripe_refusal)?;
        let missing: Vec<MissingPermission> = report
            .missing()
            .into_iter()
            .map(|r| MissingPermission {
                resource: r.dashboard_name.to_owned(),
                permission: r.permission.to_owned(),
                access: match r.access {
                    Access::Read => "read",
                    Access::Write => "write",
                },
            })
            .collect();
        if !missing.is_empty() {
            return Err(Refusal::MissingPermissions {
                missing,
                key_link: full_key_link(live),
            });
        }
        Ok(report)
    }

    /// Adds a connection to `account_id`: the guide's steps 1–2 and its troubleshooting, checked up front.
    /// On any refusal nothing is left behind.
    pub async fn add(&self, account_id: &str, request: AddConnection) -> Result<Added, Refusal> {
        let name = validate_name(&request.name).map_err(Refusal::InvalidName)?;
        if Processor::parse(request.processor.trim()).is_err() {
            return Err(Refusal::UnsupportedProcessor(request.processor));
        }
        if self
            .store
            .connections(account_id)
            .await
            .map_err(store_error)?
            .iter()
            .any(|c| c.name == name)
        {
            return Err(Refusal::NameTaken(name));
        }
        let key = self.acceptable_key(&request.api_key)?;
        let mode = mode_of(&key);
        let live = mode == Mode::Live;
        if let Some(url) = &self.public_url
            && live
            && url.scheme() != "https"
        {
            return Err(Refusal::InsecurePublicUrl(url.to_string()));
        }
        let id = new_id("con");
        let client = self.access.client(key.clone(), &id).map_err(internal)?;

        // The permission probes and the endpoint listing run together: the whole check costs one round trip.
        let listing = async {
            match &self.public_url {
                Some(_) => client.list_webhook_endpoints().await.map(Some),
                None => Ok(None),
            }
        };
        let (report, endpoints) = tokio::join!(self.checked_permissions(&client, live), listing);
        let report = report?;
        let endpoints = endpoints.map_err(stripe_refusal)?;

        let mut replaced = None;
        let mut webhook = None;
        if let (Some(public_url), Some(endpoints)) = (&self.public_url, endpoints) {
            let public = public_url.as_str().trim_end_matches('/');
            let ours: Vec<_> = endpoints
                .iter()
                .filter(|e| is_our_endpoint(public, e.url.as_deref(), e.metadata.as_ref()))
                .collect();
            if let Some(existing) = ours.first() {
                if !request.replace_webhook {
                    return Err(Refusal::WebhookConflict {
                        endpoint_id: existing.id.clone().unwrap_or_default(),
                        url: existing.url.clone().unwrap_or_default(),
                    });
                }
                for endpoint in &ours {
                    let endpoint_id = endpoint.id.clone().unwrap_or_default();
                    client
                        .delete_webhook_endpoint(&endpoint_id)
                        .await
                        .map_err(stripe_refusal)?;
                    tracing::info!(%endpoint_id, "deleted this installation's old webhook endpoint at the user's request");
                    replaced = Some(endpoint_id);
                }
            }
            let remaining = endpoints.len()
                - if request.replace_webhook {
                    ours.len()
                } else {
                    0
                };
            if remaining >= MAX_WEBHOOK_ENDPOINTS {
                return Err(Refusal::WebhookLimit(remaining));
            }
            let created = client
                .create_webhook_endpoint(&NewWebhookEndpoint {
                    url: webhook_url(public, &id),
                    enabled_events: WEBHOOK_EVENTS.iter().map(|e| (*e).to_owned()).collect(),
                    description: Some(format!("payscope data connection \"{name}\"")),
                    metadata: endpoint_metadata(public, &id),
                })
                .await
                .map_err(stripe_refusal)?;
            webhook = Some(created);
        }

        let now = unix_now();
        let webhook_endpoint_id = webhook.as_ref().and_then(|w| w.endpoint.id.clone());
        let connection = Connection {
            id: id.clone(),
            account_id: account_id.to_owned(),
            name,
            processor: Processor::Stripe,
            mode,
            processor_account_id: report.account_id.clone(),
            api_key_sealed: self
                .master_key
                .seal(key.expose_secret(), &Connection::api_key_context(&id)),
            api_key_hint: key.redacted(),
            webhook_endpoint_id: webhook_endpoint_id.clone(),
            webhook_secret_sealed: webhook.as_ref().and_then(|w| w.secret.as_ref()).map(|s| {
                self.master_key
                    .seal(s.expose_secret(), &Connection::webhook_secret_context(&id))
            }),
            status: ConnectionStatus::Importing,
            status_reason: None,
            created_at: now,
            updated_at: now,
        };
        if let Err(error) = self.store.insert_connection(&connection).await {
            // No orphan endpoint on the merchant's account: undo what was created on Stripe.
            if let Some(endpoint_id) = &webhook_endpoint_id
                && let Err(cleanup) = client.delete_webhook_endpoint(endpoint_id).await
            {
                tracing::error!(%endpoint_id, error = %cleanup, "could not delete the webhook endpoint of a connection that failed to save");
            }
            return Err(store_error(error));
        }
        if let Err(error) = crate::sync::queue_import(&self.store, &connection).await {
            // Without its import the connection would sit idle: undo it whole, endpoint included.
            self.undo_add(&client, &connection).await;
            return Err(internal(error));
        }
        let unchecked_permissions = report
            .checks
            .iter()
            .filter_map(|check| match &check.outcome {
                stripe::ProbeOutcome::CannotCheck { reason } => Some(UncheckedPermission {
                    resource: check.requirement.dashboard_name.to_owned(),
                    permission: check.requirement.permission.to_owned(),
                    reason: reason.clone(),
                }),
                _ => None,
            })
            .collect();
        let message = match &webhook_endpoint_id {
            Some(endpoint) => format!("connected; webhook endpoint {endpoint} registered; the import has started"),
            None => "connected in polling mode: no public url is configured, so payscope keeps the data current through stripe's events api (set PAYSCOPE_PUBLIC_URL to receive webhooks); the import has started".to_owned(),
        };
        tracing::info!(connection = %id, mode = %mode, "data connection added");
        Ok(Added {
            connection: ConnectionView::from(&connection),
            replaced_webhook_endpoint_id: replaced,
            unchecked_permissions,
            message,
        })
    }

    /// Removes a just-added connection and its endpoint after a later step failed, logging what could not be undone.
    async fn undo_add(&self, client: &Client, connection: &Connection) {
        if let Some(endpoint_id) = &connection.webhook_endpoint_id
            && let Err(error) = client.delete_webhook_endpoint(endpoint_id).await
        {
            tracing::error!(%endpoint_id, %error, "could not delete the webhook endpoint of a connection that failed to start");
        }
        if let Err(error) = self
            .store
            .delete_connection(&connection.account_id, &connection.id)
            .await
        {
            tracing::error!(connection = %connection.id, %error, "could not delete a connection that failed to start");
        }
    }

    /// Every connection of the account.
    pub async fn list(&self, account_id: &str) -> Result<Vec<ConnectionView>, Refusal> {
        Ok(self
            .store
            .connections(account_id)
            .await
            .map_err(store_error)?
            .iter()
            .map(ConnectionView::from)
            .collect())
    }

    /// One connection of the account, by id or by name.
    pub async fn find(&self, account_id: &str, id_or_name: &str) -> Result<Connection, Refusal> {
        if let Some(found) = self
            .store
            .connection(account_id, id_or_name)
            .await
            .map_err(store_error)?
        {
            return Ok(found);
        }
        self.store
            .connections(account_id)
            .await
            .map_err(store_error)?
            .into_iter()
            .find(|c| c.name == id_or_name)
            .ok_or_else(|| Refusal::NotFound(id_or_name.to_owned()))
    }

    /// Renames a connection; the new name labels its charts from now on.
    pub async fn rename(
        &self,
        account_id: &str,
        id: &str,
        new_name: &str,
    ) -> Result<ConnectionView, Refusal> {
        let name = validate_name(new_name).map_err(Refusal::InvalidName)?;
        let connection = self.find(account_id, id).await?;
        self.store
            .rename_connection(account_id, &connection.id, &name, unix_now())
            .await
            .map_err(store_error)?;
        Ok(ConnectionView::from(
            &self.find(account_id, &connection.id).await?,
        ))
    }

    /// Replaces a connection's key after checking that the new one has every permission, the same mode and the same
    /// Stripe account. Nothing is re-imported.
    pub async fn rotate_key(
        &self,
        account_id: &str,
        id: &str,
        new_key: SecretString,
    ) -> Result<ConnectionView, Refusal> {
        let connection = self.find(account_id, id).await?;
        let key = self.acceptable_key(&new_key)?;
        let mode = mode_of(&key);
        if mode != connection.mode {
            return Err(Refusal::ModeMismatch {
                expected: connection.mode.as_str(),
                found: mode.as_str(),
            });
        }
        let client = self
            .access
            .client(key.clone(), &connection.id)
            .map_err(internal)?;
        let report = self
            .checked_permissions(&client, mode == Mode::Live)
            .await?;
        if let Some(expected) = &connection.processor_account_id {
            match &report.account_id {
                Some(found) if found != expected => {
                    return Err(Refusal::DifferentAccount {
                        expected: expected.clone(),
                        found: found.clone(),
                    });
                }
                Some(_) => {}
                None => return Err(Refusal::AccountUnverifiable(expected.clone())),
            }
        }
        let sealed = self.master_key.seal(
            key.expose_secret(),
            &Connection::api_key_context(&connection.id),
        );
        self.store
            .replace_connection_key(
                account_id,
                &connection.id,
                &sealed,
                &key.redacted(),
                unix_now(),
            )
            .await
            .map_err(store_error)?;
        if connection.status == ConnectionStatus::NeedsAttention {
            // The reason was most likely the old key; sync will say so again if not.
            self.lift_attention(account_id, &connection.id).await?;
        }
        tracing::info!(connection = %connection.id, "api key rotated");
        Ok(ConnectionView::from(
            &self.find(account_id, &connection.id).await?,
        ))
    }

    /// Registers a new webhook endpoint for a connection whose endpoint Stripe disabled or deleted, or whose
    /// signing secret was rolled outside payscope: deletes the connection's old endpoint if Stripe still lists it,
    /// creates one with the same URL and events, stores its secret sealed, and lifts the attention the old endpoint
    /// raised. Events of the gap arrive through the Events catch-up.
    pub async fn replace_webhook(
        &self,
        account_id: &str,
        id: &str,
    ) -> Result<ConnectionView, Refusal> {
        let connection = self.find(account_id, id).await?;
        if connection.status == ConnectionStatus::Disconnected {
            return Err(Refusal::Disconnected(connection.name));
        }
        let public_url = self.public_url.as_ref().ok_or(Refusal::NoPublicUrl)?;
        if connection.mode == Mode::Live && public_url.scheme() != "https" {
            return Err(Refusal::InsecurePublicUrl(public_url.to_string()));
        }
        let public = public_url.as_str().trim_end_matches('/');
        let client = self
            .access
            .client_for(&connection, &self.master_key)
            .map_err(internal)?;
        let endpoints = client
            .list_webhook_endpoints()
            .await
            .map_err(stripe_refusal)?;
        let url = webhook_url(public, &connection.id);
        // This connection's endpoints only: by id, or by its URL (an endpoint made for it by another attempt).
        let old: Vec<String> = endpoints
            .iter()
            .filter(|e| {
                e.id.is_some()
                    && (e.id == connection.webhook_endpoint_id || e.url.as_deref() == Some(&url))
            })
            .filter_map(|e| e.id.clone())
            .collect();
        if endpoints.len() - old.len() >= MAX_WEBHOOK_ENDPOINTS {
            return Err(Refusal::WebhookLimit(endpoints.len() - old.len()));
        }
        for endpoint_id in &old {
            client
                .delete_webhook_endpoint(endpoint_id)
                .await
                .map_err(stripe_refusal)?;
        }
        let created = client
            .create_webhook_endpoint(&NewWebhookEndpoint {
                url,
                enabled_events: WEBHOOK_EVENTS.iter().map(|e| (*e).to_owned()).collect(),
                description: Some(format!("payscope data connection \"{}\"", connection.name)),
                metadata: endpoint_metadata(public, &connection.id),
            })
            .await
            .map_err(stripe_refusal)?;
        let (Some(endpoint_id), Some(secret)) =
            (created.endpoint.id.clone(), created.secret.as_ref())
        else {
            return Err(Refusal::StripeUnavailable(
                "stripe created the webhook endpoint without returning its id and secret; try again".into(),
            ));
        };
        let sealed = self.master_key.seal(
            secret.expose_secret(),
            &Connection::webhook_secret_context(&connection.id),
        );
        let now = unix_now();
        self.store
            .replace_connection_webhook(account_id, &connection.id, &endpoint_id, &sealed, now)
            .await
            .map_err(store_error)?;
        self.store
            .set_live_endpoint_status(account_id, &connection.id, "enabled", now)
            .await
            .map_err(store_error)?;
        if connection.status == ConnectionStatus::NeedsAttention
            && connection
                .status_reason
                .as_deref()
                .is_some_and(is_endpoint_attention)
        {
            self.lift_attention(account_id, &connection.id).await?;
        }
        tracing::info!(connection = %connection.id, %endpoint_id, replaced = ?old, "webhook endpoint replaced");
        Ok(ConnectionView::from(
            &self.find(account_id, &connection.id).await?,
        ))
    }

    /// Stores the signing secret the merchant copied from the Stripe Dashboard after rolling the endpoint's secret
    /// there (Stripe's API cannot roll it nor show it again). The secret it replaces stays accepted for
    /// [`PREVIOUS_WEBHOOK_SECRET_GRACE_SECONDS`], as Stripe keeps signing with it; pasting the current secret again
    /// changes nothing. Never calls Stripe.
    pub async fn set_webhook_secret(
        &self,
        account_id: &str,
        id: &str,
        secret: SecretString,
    ) -> Result<ConnectionView, Refusal> {
        let connection = self.find(account_id, id).await?;
        if connection.status == ConnectionStatus::Disconnected {
            return Err(Refusal::Disconnected(connection.name));
        }
        if connection.webhook_endpoint_id.is_none() {
            return Err(Refusal::NoWebhookEndpoint(connection.name));
        }
        let secret = validate_webhook_secret(secret.expose_secret())
            .map_err(Refusal::MalformedWebhookSecret)?;
        let context = Connection::webhook_secret_context(&connection.id);
        if let Some(current) = &connection.webhook_secret_sealed
            && self
                .master_key
                .open(current, &context)
                .is_ok_and(|current| current.expose_secret() == secret)
        {
            return Ok(ConnectionView::from(&connection));
        }
        let sealed = self.master_key.seal(secret, &context);
        let now = unix_now();
        self.store
            .set_connection_webhook_secret(
                account_id,
                &connection.id,
                &sealed,
                now + PREVIOUS_WEBHOOK_SECRET_GRACE_SECONDS,
                now,
            )
            .await
            .map_err(store_error)?;
        tracing::info!(connection = %connection.id, "webhook signing secret set; the previous one is accepted for 24 h");
        Ok(ConnectionView::from(
            &self.find(account_id, &connection.id).await?,
        ))
    }

    /// Sets a connection that needed attention back to active, once the user fixed what was asked.
    async fn lift_attention(&self, account_id: &str, id: &str) -> Result<(), Refusal> {
        self.store
            .set_connection_status(account_id, id, ConnectionStatus::Active, None, unix_now())
            .await
            .map_err(store_error)?;
        Ok(())
    }

    /// Removes a connection: deletes our endpoint on Stripe and stops sync; with `delete_data`, deletes everything
    /// imported too. A key Stripe no longer accepts does not block removal; the message says what to clean up.
    pub async fn remove(
        &self,
        account_id: &str,
        id: &str,
        delete_data: bool,
    ) -> Result<Removed, Refusal> {
        let connection = self.find(account_id, id).await?;
        let mut webhook_deleted = false;
        let mut notes = Vec::new();
        if let Some(endpoint_id) = &connection.webhook_endpoint_id {
            let client = self
                .access
                .client_for(&connection, &self.master_key)
                .map_err(internal)?;
            match client.delete_webhook_endpoint(endpoint_id).await {
                Ok(()) => webhook_deleted = true,
                Err(stripe::Error::InvalidRequest { status: 404, .. }) => {
                    notes.push(format!("webhook endpoint {endpoint_id} was already gone from stripe"));
                }
                Err(error) => notes.push(format!(
                    "webhook endpoint {endpoint_id} could not be deleted ({error}); delete it in the Stripe Dashboard → Developers → Webhooks"
                )),
            }
        }
        if delete_data {
            self.store
                .delete_connection(account_id, &connection.id)
                .await
                .map_err(store_error)?;
        } else {
            self.store
                .disconnect_connection(account_id, &connection.id, unix_now())
                .await
                .map_err(store_error)?;
        }
        let mut message = if delete_data {
            format!(
                "removed {:?} and deleted its imported data",
                connection.name
            )
        } else {
            format!(
                "disconnected {:?}; its imported data is kept",
                connection.name
            )
        };
        for note in notes {
            message.push_str("; ");
            message.push_str(&note);
        }
        Ok(Removed {
            id: connection.id,
            data_deleted: delete_data,
            webhook_deleted,
            message,
        })
    }
}
