//! Live sync (issue 7): after its import a connection stays current through signed webhooks — verified and made
//! durable in the inbox by the receiver (`web/webhooks.rs`, through the group-commit [`InboxWriter`]), then
//! applied asynchronously by the [`Applier`] — with the Events API [`CatchUp`] closing every gap, and being the only
//! source in polling mode. [`health`] reports where each connection stands.
//!
//! Use: `payscope serve` runs [`LiveSync::run`] beside the import worker on its background runtime
//! (`background.rs`), with the same shutdown token.

mod apply;
mod catch_up;
pub mod event;
mod health;
mod inbox_writer;

pub use apply::Applier;
pub use catch_up::{CatchUp, CatchUpOutcome};
pub use health::{LiveHealth, health};
pub use inbox_writer::{InboxWriteError, InboxWriter};

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::crypto::MasterKey;
use crate::store::{Store, StoreError};
use crate::stripe_access::{AccessError, StripeAccess};
use crate::sync::SyncError;

/// Why live sync could not apply an event or finish a catch-up pass.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No client could be made for the connection.
    #[error(transparent)]
    Access(#[from] AccessError),
    /// Stripe refused or could not be reached.
    #[error("stripe: {0}")]
    Stripe(#[from] stripe::Error),
    /// A stored or listed event is not a Stripe event.
    #[error(transparent)]
    Event(#[from] event::EventError),
    /// The connection is gone.
    #[error("no data connection {0}; it was removed")]
    NoConnection(String),
    /// Queuing a re-import failed.
    #[error(transparent)]
    Sync(#[from] SyncError),
}

/// How every attention for a refused key (401) begins, so [`answered_by`] knows it.
const KEY_REFUSED: &str = "stripe refused the connection's key";

/// What a user must fix when Stripe refuses the key (401/403): `Some(reason)` then, else `None`.
pub fn attention_reason(error: &LiveError) -> Option<String> {
    match error {
        LiveError::Stripe(stripe::Error::Authentication { .. }) => Some(format!(
            "{KEY_REFUSED} ({error}); rotate the key with `payscope connections rotate-key`"
        )),
        LiveError::Stripe(stripe::Error::Permission { .. }) => Some(format!(
            "the connection's key lacks a permission live sync needs ({error}); edit the key in the stripe \
             dashboard → developers → api keys"
        )),
        _ => None,
    }
}

/// Whether Stripe answering requests that needed `permissions` (`charge_read` or `rak_charge_read`) shows that the
/// attention `reason` is resolved: a refused key is, by any answer; a missing permission only by an answer that
/// needed it. So a catch-up pass (it needs only `rak_event_read`) does not lift the applier's "lacks
/// rak_charge_read", which would then flip back at the event's next retry.
pub fn answered_by(reason: &str, permissions: &[&str]) -> bool {
    reason.starts_with(KEY_REFUSED)
        || permissions.iter().any(|permission| {
            let name = permission.strip_prefix("rak_").unwrap_or(permission);
            reason.contains(&format!("rak_{name} "))
        })
}

/// Timing of live sync.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// How often the applier looks for new inbox events.
    pub apply_poll: Duration,
    /// Catch-up period of a connection with a webhook endpoint (the safety net).
    pub catch_up_interval: Duration,
    /// Catch-up period of a connection in polling mode (the only source).
    pub polling_interval: Duration,
    /// A cursor older than this queues a re-import: Stripe keeps events 30 days, this leaves a margin.
    pub retention: Duration,
    /// How often the catch-up loop looks at the connections.
    pub tick: Duration,
    /// How long applied events stay in the inbox; never less than [`MIN_INBOX_RETENTION`], so Stripe's retries
    /// (up to 3 days) still find their event id and are ignored as duplicates.
    pub inbox_retention: Duration,
    /// How often applied events past `inbox_retention` are deleted.
    pub prune_interval: Duration,
}

/// The shortest inbox retention: Stripe retries a delivery for up to 3 days, plus a day of margin.
pub const MIN_INBOX_RETENTION: Duration = Duration::from_secs(4 * 86_400);

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            apply_poll: Duration::from_millis(200),
            catch_up_interval: Duration::from_secs(300),
            polling_interval: Duration::from_secs(30),
            retention: Duration::from_secs(25 * 86_400),
            tick: Duration::from_secs(1),
            inbox_retention: Duration::from_secs(7 * 86_400),
            prune_interval: Duration::from_secs(3600),
        }
    }
}

/// The applier and the catch-up together, as `payscope serve` runs them.
#[derive(Debug, Clone)]
pub struct LiveSync {
    applier: Applier,
    catch_up: CatchUp,
    config: LiveConfig,
}

impl LiveSync {
    /// Live sync over `store`, reaching Stripe through `access`.
    pub fn new(
        store: Store,
        access: StripeAccess,
        master_key: MasterKey,
        config: LiveConfig,
    ) -> LiveSync {
        LiveSync {
            applier: Applier::new(store.clone(), access.clone(), master_key.clone()),
            catch_up: CatchUp::new(store, access, master_key, config.clone()),
            config,
        }
    }

    /// The applier (tests drive it to idle).
    pub fn applier(&self) -> &Applier {
        &self.applier
    }

    /// The catch-up (tests run single passes).
    pub fn catch_up(&self) -> &CatchUp {
        &self.catch_up
    }

    /// Runs the applier, the catch-up and the inbox pruning until `shutdown`; each stops promptly then, even in
    /// the middle of a Stripe call's retries.
    pub async fn run(&self, shutdown: CancellationToken) {
        tokio::join!(
            self.applier.run(self.config.apply_poll, shutdown.clone()),
            self.catch_up.run(shutdown.clone()),
            self.prune(shutdown.clone())
        );
    }

    /// Deletes applied events older than the inbox retention, on start and every `prune_interval`, in slices that
    /// yield the writer to webhook deliveries; also drops replaced webhook secrets whose grace has ended.
    async fn prune(&self, shutdown: CancellationToken) {
        loop {
            match self
                .applier
                .store()
                .drop_expired_webhook_secrets(crate::store::unix_now())
                .await
            {
                Ok(0) => {}
                Ok(dropped) => {
                    tracing::info!(dropped, "dropped replaced webhook secrets past their grace")
                }
                Err(error) => {
                    tracing::warn!(%error, "dropping expired webhook secrets failed; retrying later")
                }
            }
            match self
                .prune_inbox(self.config.inbox_retention, &shutdown)
                .await
            {
                Ok(0) => {}
                Ok(deleted) => {
                    tracing::info!(deleted, "pruned applied events from the webhook inbox")
                }
                Err(error) => {
                    tracing::warn!(%error, "pruning the webhook inbox failed; retrying later")
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(self.config.prune_interval) => {}
            }
        }
    }

    /// One pruning pass: deletes events applied more than `retention` ago (never less than
    /// [`MIN_INBOX_RETENTION`]); returns how many.
    pub async fn prune_inbox(
        &self,
        retention: Duration,
        shutdown: &CancellationToken,
    ) -> Result<u64, StoreError> {
        const SLICE: i64 = 2_000;
        let store = self.applier.store();
        let retention = retention.max(MIN_INBOX_RETENTION);
        let before = crate::store::unix_now() - retention.as_secs() as i64;
        let mut deleted = 0;
        while !shutdown.is_cancelled() {
            store
                .yield_to_urgent_writes(Duration::from_millis(50))
                .await;
            let slice = store.prune_inbox(before, SLICE).await?;
            deleted += slice;
            if slice < SLICE as u64 {
                break;
            }
        }
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(permission: Option<&str>) -> String {
        attention_reason(&LiveError::Stripe(stripe::Error::Permission {
            permission: permission.map(str::to_owned),
            account_id: Some("acct_1".into()),
            message: "no".into(),
            request_id: None,
        }))
        .expect("a 403 needs attention")
    }

    #[test]
    fn an_attention_is_answered_only_by_a_success_that_needed_what_it_names() {
        let charges = refused(Some("rak_charge_read"));
        assert!(!answered_by(&charges, &["rak_event_read"]));
        assert!(!answered_by(&charges, &["rak_charge_read_extra"]));
        assert!(answered_by(
            &charges,
            &["rak_payment_intent_read", "rak_charge_read"]
        ));
        let balance = refused(Some("rak_balance_transaction_source_read"));
        assert!(!answered_by(&balance, &["rak_balance_read"]));
        let unnamed = refused(None);
        assert!(!answered_by(
            &unnamed,
            &["rak_event_read", "rak_charge_read"]
        ));
        let key = attention_reason(&LiveError::Stripe(stripe::Error::Authentication {
            expired: true,
            message: "Invalid API Key provided".into(),
            request_id: None,
        }))
        .expect("a 401 needs attention");
        assert!(answered_by(&key, &["rak_event_read"]));
    }
}
