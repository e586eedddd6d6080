//! The events catch-up: per connection, lists `GET /v1/events` created at or after its cursor, puts what is
//! missing into the inbox (the applier does the rest), moves the cursor, and checks the webhook endpoint on Stripe.
//! A cursor older than the retention window queues a re-import instead, since Stripe no longer has the events.

use std::collections::HashMap;
use std::pin::pin;

use futures::TryStreamExt;
use stripe::{CreatedRange, ListParams};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::event::parse_event;
use super::{LiveConfig, LiveError, answered_by, attention_reason};
use crate::crypto::MasterKey;
use crate::domain::connection::{Connection, ConnectionStatus};
use crate::store::{InboxDelivery, InboxEvent, Store, unix_now};
use crate::stripe_access::StripeAccess;
use crate::sync::queue_import;

/// Events before the import's start that are still listed, so nothing between the import's pages and the first
/// catch-up is missed (applying them again is harmless: writes are version-guarded).
const START_MARGIN: i64 = 300;

/// What a complete pass needs of the key: the events list, and the webhook endpoints list (Write includes Read).
const CATCH_UP_PERMISSIONS: &[&str] = &["rak_event_read", "rak_webhook_write"];

/// What one catch-up pass of a connection did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatchUpOutcome {
    /// Events were listed; `new` of them were not in the inbox yet.
    CaughtUp {
        /// Events listed since the cursor.
        listed: usize,
        /// Of those, events the inbox did not hold.
        new: u64,
    },
    /// The cursor was older than the retention window: a re-import was queued (its job id).
    Reimport(String),
}

/// Runs catch-up passes. Cheap to clone.
#[derive(Debug, Clone)]
pub struct CatchUp {
    store: Store,
    access: StripeAccess,
    master_key: MasterKey,
    config: LiveConfig,
}

impl CatchUp {
    /// A catch-up over `store`, reaching Stripe through `access`.
    pub fn new(
        store: Store,
        access: StripeAccess,
        master_key: MasterKey,
        config: LiveConfig,
    ) -> CatchUp {
        CatchUp {
            store,
            access,
            master_key,
            config,
        }
    }

    /// One pass for one connection. A 401/403 is recorded as needing attention (and returned).
    pub async fn catch_up(&self, connection: &Connection) -> Result<CatchUpOutcome, LiveError> {
        let outcome = self.pass(connection).await;
        match &outcome {
            Ok(_) => {
                let state = self
                    .store
                    .live_state(&connection.account_id, &connection.id)
                    .await?;
                // The key works again for events: lift the attention this answers (a refused key, a missing
                // rak_event_read), not one for a permission only the applier's refetches need.
                if let Some(reason) = &state.attention_reason
                    && answered_by(reason, CATCH_UP_PERMISSIONS)
                {
                    self.store
                        .set_live_attention(&connection.account_id, &connection.id, None)
                        .await?;
                    if connection.status == ConnectionStatus::NeedsAttention
                        && connection.status_reason.as_ref() == Some(reason)
                    {
                        self.store
                            .set_connection_status(
                                &connection.account_id,
                                &connection.id,
                                ConnectionStatus::Active,
                                None,
                                unix_now(),
                            )
                            .await?;
                    }
                }
            }
            Err(error) => {
                if let Some(reason) = attention_reason(error) {
                    tracing::warn!(connection = %connection.id, %reason, "live sync needs attention");
                    self.store
                        .set_live_attention(&connection.account_id, &connection.id, Some(&reason))
                        .await?;
                    self.store
                        .set_connection_status(
                            &connection.account_id,
                            &connection.id,
                            ConnectionStatus::NeedsAttention,
                            Some(&reason),
                            unix_now(),
                        )
                        .await?;
                }
            }
        }
        outcome
    }

    async fn pass(&self, connection: &Connection) -> Result<CatchUpOutcome, LiveError> {
        let (account_id, connection_id) = (&connection.account_id, &connection.id);
        let now = unix_now();
        let state = self.store.live_state(account_id, connection_id).await?;
        let cursor = match state.cursor_created {
            Some(created) => created,
            None => self.start_of(connection).await? - START_MARGIN,
        };
        if now - cursor > self.config.retention.as_secs() as i64 {
            tracing::warn!(
                connection = %connection_id,
                cursor,
                "the events cursor is older than stripe's event retention; re-importing the connection"
            );
            let job = queue_import(&self.store, connection).await?;
            self.store
                .set_live_cursor(account_id, connection_id, None, now - START_MARGIN, now)
                .await?;
            return Ok(CatchUpOutcome::Reimport(job));
        }
        let client = self.access.client_for(connection, &self.master_key)?;
        let params = ListParams {
            created: CreatedRange {
                gte: Some(cursor),
                ..CreatedRange::default()
            },
            ..ListParams::default()
        };
        let mut pages = pin!(client.list_pages("/v1/events", params));
        let mut listed = 0;
        let mut new = 0;
        let mut newest: Option<(String, i64)> = None;
        while let Some(page) = pages.try_next().await? {
            let mut deliveries = Vec::with_capacity(page.objects.len());
            for raw in &page.objects {
                let event = parse_event(raw.get().as_bytes())?;
                if newest
                    .as_ref()
                    .is_none_or(|(_, created)| event.created > *created)
                {
                    newest = Some((event.id.clone(), event.created));
                }
                deliveries.push(InboxDelivery {
                    account_id: account_id.clone(),
                    connection_id: connection_id.clone(),
                    event: InboxEvent {
                        event_id: event.id,
                        event_type: event.event_type,
                        event_created: event.created,
                        payload: raw.get().to_owned(),
                    },
                });
            }
            listed += deliveries.len();
            if !deliveries.is_empty() {
                new += self.store.insert_inbox_deliveries(&deliveries).await?;
            }
        }
        // Only now is every listed event durable, so the cursor may move past them. Events of the cursor's own
        // second are listed again next time (created >= cursor): later ones of that second are not lost.
        let (event_id, created) = match newest {
            Some((id, created)) => (Some(id), created),
            None => (state.cursor_event_id.clone(), cursor),
        };
        self.store
            .set_live_cursor(account_id, connection_id, event_id.as_deref(), created, now)
            .await?;
        if let Some(endpoint_id) = &connection.webhook_endpoint_id {
            self.check_endpoint(connection, &client, endpoint_id)
                .await?;
        }
        Ok(CatchUpOutcome::CaughtUp { listed, new })
    }

    /// Records the endpoint's status on Stripe; a disabled or deleted endpoint makes the connection need attention.
    async fn check_endpoint(
        &self,
        connection: &Connection,
        client: &stripe::Client,
        endpoint_id: &str,
    ) -> Result<(), LiveError> {
        let endpoints = client.list_webhook_endpoints().await?;
        let status = match endpoints
            .iter()
            .find(|e| e.id.as_deref() == Some(endpoint_id))
        {
            None => "deleted".to_owned(),
            Some(endpoint) => endpoint
                .status
                .as_ref()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_else(|| "enabled".to_owned()),
        };
        self.store
            .set_live_endpoint_status(&connection.account_id, &connection.id, &status, unix_now())
            .await?;
        if status != "enabled" && connection.status != ConnectionStatus::NeedsAttention {
            let reason = crate::domain::stripe_setup::endpoint_attention(endpoint_id, &status);
            tracing::warn!(connection = %connection.id, %reason, "webhook endpoint not usable");
            self.store
                .set_connection_status(
                    &connection.account_id,
                    &connection.id,
                    ConnectionStatus::NeedsAttention,
                    Some(&reason),
                    unix_now(),
                )
                .await?;
        }
        Ok(())
    }

    /// Where a connection's live sync starts: its latest import's start, else its creation.
    async fn start_of(&self, connection: &Connection) -> Result<i64, LiveError> {
        let jobs = self
            .store
            .import_jobs(&connection.account_id, &connection.id, 1)
            .await?;
        Ok(jobs
            .first()
            .map(|record| record.job.requested_at)
            .unwrap_or(connection.created_at))
    }

    /// Passes for every connection that syncs: on start, then every `catch_up_interval` (every `polling_interval`
    /// for connections without a webhook endpoint), until `shutdown`.
    pub async fn run(&self, shutdown: CancellationToken) {
        let mut last_pass: HashMap<String, Instant> = HashMap::new();
        while !shutdown.is_cancelled() {
            match self.syncing_connections().await {
                Ok(connections) => {
                    for connection in connections {
                        let interval = if connection.webhook_endpoint_id.is_some() {
                            self.config.catch_up_interval
                        } else {
                            self.config.polling_interval
                        };
                        if last_pass
                            .get(&connection.id)
                            .is_some_and(|at| at.elapsed() < interval)
                        {
                            continue;
                        }
                        last_pass.insert(connection.id.clone(), Instant::now());
                        // A pass may sit in the client's retries (Stripe unreachable) for minutes: shutdown
                        // interrupts it; the cursor only moves after a complete pass, so nothing is lost.
                        tokio::select! {
                            _ = shutdown.cancelled() => return,
                            outcome = self.catch_up(&connection) => {
                                if let Err(error) = outcome {
                                    tracing::warn!(connection = %connection.id, %error, "events catch-up failed; retrying at the next pass");
                                }
                            }
                        }
                    }
                }
                Err(error) => {
                    tracing::error!(%error, "listing connections for the catch-up failed")
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(self.config.tick) => {}
            }
        }
    }

    async fn syncing_connections(&self) -> Result<Vec<Connection>, LiveError> {
        let mut all = Vec::new();
        for account in self.store.accounts().await? {
            all.extend(
                self.store
                    .connections(&account.id)
                    .await?
                    .into_iter()
                    .filter(|c| {
                        matches!(
                            c.status,
                            ConnectionStatus::Active
                                | ConnectionStatus::Importing
                                | ConnectionStatus::NeedsAttention
                        )
                    }),
            );
        }
        Ok(all)
    }
}
