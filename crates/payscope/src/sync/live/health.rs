//! Live-sync health of a connection, for the JSON API and `payscope connections show`: what was last received and
//! applied, the backlog and lag, the webhook endpoint's status on Stripe, deliveries refused for a bad signature (a
//! signing secret rolled in the Stripe Dashboard), and whether the user must act.

use serde::Serialize;

use super::LiveError;
use crate::domain::connection::{ConnectionStatus, WEBHOOK_SECRET_WHERE};
use crate::store::{Store, unix_now};

/// A connection's live-sync health. Times are unix seconds; `None` = never.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveHealth {
    /// The connection.
    pub connection_id: String,
    /// `webhooks` (an endpoint on Stripe, the catch-up as safety net) or `polling` (the catch-up alone).
    pub mode: &'static str,
    /// When a webhook delivery (or a catch-up listing) last put an event in the inbox.
    pub last_event_received_at: Option<i64>,
    /// When an event was last applied.
    pub last_event_applied_at: Option<i64>,
    /// The newest `created` among applied events.
    pub last_applied_event_created: Option<i64>,
    /// Events received but not applied yet.
    pub pending_events: i64,
    /// Age of the oldest unapplied event, in seconds (0 when nothing waits).
    pub lag_seconds: i64,
    /// payscope's endpoint on Stripe (`we_…`), absent in polling mode.
    pub endpoint_id: Option<String>,
    /// The endpoint as Stripe last reported it: `enabled`, `disabled` or `deleted`; `None` before the first check.
    pub endpoint_status: Option<String>,
    /// When the endpoint was last checked.
    pub endpoint_checked_at: Option<i64>,
    /// When the events catch-up last finished a pass.
    pub last_catch_up_at: Option<i64>,
    /// The catch-up's cursor: events created from here on are listed.
    pub cursor_created: Option<i64>,
    /// Deliveries refused since the current signing secret was set because no signature matched it.
    pub signature_refusals: i64,
    /// When the last of them was refused.
    pub last_signature_refusal_at: Option<i64>,
    /// Until when the signing secret the current one replaced is still accepted (while it is).
    pub previous_secret_accepted_until: Option<i64>,
    /// Deliveries are being refused for a bad signature: most likely the signing secret was rolled in the Stripe
    /// Dashboard; says what to do. Not `needs_attention`, since forged requests alone can cause it.
    pub signature_warning: Option<String>,
    /// Whether the user must act (a 401/403 from Stripe, a disabled or deleted endpoint).
    pub needs_attention: bool,
    /// What to do, when `needs_attention`.
    pub reason: Option<String>,
}

/// The live-sync health of a connection of `account_id`; `None` if there is no such connection.
pub async fn health(
    store: &Store,
    account_id: &str,
    connection_id: &str,
) -> Result<Option<LiveHealth>, LiveError> {
    let Some(connection) = store.connection(account_id, connection_id).await? else {
        return Ok(None);
    };
    let state = store.live_state(account_id, connection_id).await?;
    let secrets = store
        .webhook_secret_state(account_id, connection_id)
        .await?
        .unwrap_or_default();
    let signature_warning = (secrets.refused_count > 0 && connection.webhook_endpoint_id.is_some())
        .then(|| signature_warning(secrets.refused_count));
    let (pending_events, oldest) = store
        .unapplied_inbox_events(account_id, connection_id)
        .await?;
    let endpoint_broken = connection.webhook_endpoint_id.is_some()
        && matches!(
            state.endpoint_status.as_deref(),
            Some("disabled" | "deleted")
        );
    let reason = state.attention_reason.clone().or_else(|| {
        endpoint_broken.then(|| {
            format!(
                "the webhook endpoint is {} on stripe; replace the connection's webhook to receive events again",
                state.endpoint_status.as_deref().unwrap_or_default()
            )
        })
    });
    let reason = reason.or_else(|| {
        (connection.status == ConnectionStatus::NeedsAttention)
            .then(|| connection.status_reason.clone())
            .flatten()
    });
    Ok(Some(LiveHealth {
        mode: if connection.webhook_endpoint_id.is_some() {
            "webhooks"
        } else {
            "polling"
        },
        connection_id: connection.id,
        last_event_received_at: state.last_received_at,
        last_event_applied_at: state.last_applied_at,
        last_applied_event_created: state.last_applied_event_created,
        pending_events,
        lag_seconds: oldest.map(|o| (unix_now() - o).max(0)).unwrap_or(0),
        endpoint_id: connection.webhook_endpoint_id,
        endpoint_status: state.endpoint_status,
        endpoint_checked_at: state.endpoint_checked_at,
        last_catch_up_at: state.last_catch_up_at,
        cursor_created: state.cursor_created,
        signature_refusals: secrets.refused_count,
        last_signature_refusal_at: secrets.last_refused_at,
        previous_secret_accepted_until: secrets
            .previous_accepted_until
            .filter(|until| *until > unix_now()),
        signature_warning,
        needs_attention: reason.is_some() || connection.status == ConnectionStatus::NeedsAttention,
        reason,
    }))
}

/// What to tell the merchant when `refused` deliveries failed the signature check.
fn signature_warning(refused: i64) -> String {
    format!(
        "{refused} webhook deliver{} refused because no signature matched the connection's signing secret; if you \
         rolled the signing secret in the Stripe Dashboard, paste the new one here (find it in the \
         {WEBHOOK_SECRET_WHERE}; or `payscope connections set-webhook-secret NAME`); the events catch-up fills the \
         gap meanwhile",
        if refused == 1 { "y was" } else { "ies were" }
    )
}

impl LiveHealth {
    /// The health as lines of text for `payscope connections show` (each line starts with a newline).
    pub fn describe(&self) -> String {
        let when = |t: Option<i64>| match t {
            Some(t) => format!("{} s ago", (unix_now() - t).max(0)),
            None => "never".to_owned(),
        };
        let mut text = format!(
            "\nlive sync ({}): last event received {}, last applied {}; {} pending, lag {} s; last catch-up {}",
            self.mode,
            when(self.last_event_received_at),
            when(self.last_event_applied_at),
            self.pending_events,
            self.lag_seconds,
            when(self.last_catch_up_at),
        );
        if let Some(endpoint) = &self.endpoint_id {
            text.push_str(&format!(
                "\nwebhook endpoint {endpoint}: {}",
                self.endpoint_status.as_deref().unwrap_or("not checked yet")
            ));
        }
        if let Some(warning) = &self.signature_warning {
            text.push_str(&format!(
                "\nwebhook signatures: {warning} (last refused {})",
                when(self.last_signature_refusal_at)
            ));
        }
        if let Some(until) = self.previous_secret_accepted_until {
            text.push_str(&format!(
                "\nthe previous signing secret is accepted for {} s more",
                (until - unix_now()).max(0)
            ));
        }
        if self.needs_attention {
            text.push_str(&format!(
                "\nneeds attention: {}",
                self.reason
                    .as_deref()
                    .unwrap_or("see the connection's status")
            ));
        }
        text
    }
}
