//! Webhook endpoints registered on an account: the stored record, its Stripe JSON shape, and which events it wants.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::keys::Mode;

/// Stripe allows this many webhook endpoints per account (we count per mode, as test and live are separate).
pub const MAX_ENDPOINTS: usize = 16;

/// One registered endpoint.
#[derive(Clone)]
pub struct WebhookEndpoint {
    /// `we_…`.
    pub id: String,
    /// The mode it was created in; it receives that mode's events (`livemode`).
    pub mode: Mode,
    /// Where deliveries are POSTed.
    pub url: String,
    /// Event types it receives; `*` means all.
    pub enabled_events: Vec<String>,
    /// The version events are rendered in for this endpoint; `None` = the account's default.
    pub api_version: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Free key/value pairs.
    pub metadata: BTreeMap<String, String>,
    /// `status: disabled` — disabled endpoints receive nothing.
    pub disabled: bool,
    /// Creation time (unix seconds).
    pub created: i64,
    /// `whsec_…`, returned only by the create call.
    pub secret: String,
}

impl std::fmt::Debug for WebhookEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookEndpoint")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("enabled_events", &self.enabled_events)
            .field("disabled", &self.disabled)
            .field("secret", &"[redacted]")
            .finish()
    }
}

impl WebhookEndpoint {
    /// Whether a delivery of `event_type` should go to this endpoint.
    pub fn wants(&self, event_type: &str) -> bool {
        !self.disabled
            && self
                .enabled_events
                .iter()
                .any(|e| e == "*" || e == event_type)
    }

    /// The Stripe object; `secret` only when answering the create call.
    pub fn to_json(&self, with_secret: bool) -> Value {
        let mut object = json!({
            "id": self.id,
            "object": "webhook_endpoint",
            "api_version": self.api_version,
            "application": null,
            "created": self.created,
            "description": self.description,
            "enabled_events": self.enabled_events,
            "livemode": self.mode.is_live(),
            "metadata": self.metadata,
            "status": if self.disabled { "disabled" } else { "enabled" },
            "url": self.url,
        });
        if with_secret {
            object["secret"] = json!(self.secret);
        }
        object
    }
}
