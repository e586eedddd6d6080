//! Webhook endpoints registered on an account: the stored record, its Stripe JSON shape, which events it wants, and
//! the secrets its deliveries are signed with (two while a rolled secret's old one lives on).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::keys::Mode;

/// Stripe allows this many webhook endpoints per account (we count per mode, as test and live are separate).
pub const MAX_ENDPOINTS: usize = 16;

/// How long a rolled secret's old one keeps signing when the roll does not say: 24 h (stripe-api-facts §7, "≤24 h",
/// UNVERIFIED).
pub const DEFAULT_ROLL_SECONDS: i64 = 24 * 3600;

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
    /// `whsec_…`, returned only by the create call (and by the control API's roll).
    pub secret: String,
    /// The secret before the last roll and until when (unix seconds, exclusive) deliveries are signed with it too.
    pub previous_secret: Option<(String, i64)>,
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

    /// Rolls the signing secret to `secret` at `now`: the old one signs too for `keep_seconds` more (none if 0).
    /// Returns until when the old one signs.
    pub fn roll_secret(&mut self, secret: String, now: i64, keep_seconds: i64) -> Option<i64> {
        let old = std::mem::replace(&mut self.secret, secret);
        self.previous_secret = (keep_seconds > 0).then(|| (old, now + keep_seconds));
        self.previous_secret.as_ref().map(|(_, until)| *until)
    }

    /// The secrets a delivery at `now` is signed with: the current one, then the previous one while it lives.
    pub fn signing_secrets(&self, now: i64) -> Vec<&str> {
        let mut secrets = vec![self.secret.as_str()];
        if let Some((previous, until)) = &self.previous_secret
            && now < *until
        {
            secrets.push(previous);
        }
        secrets
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

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint() -> WebhookEndpoint {
        WebhookEndpoint {
            id: "we_1".into(),
            mode: Mode::Test,
            url: "http://127.0.0.1/hook".into(),
            enabled_events: vec!["*".into()],
            api_version: None,
            description: None,
            metadata: BTreeMap::new(),
            disabled: false,
            created: 0,
            secret: "whsec_old".into(),
            previous_secret: None,
        }
    }

    #[test]
    fn a_rolled_secret_signs_with_both_until_the_old_one_expires() {
        let mut endpoint = endpoint();
        assert_eq!(endpoint.roll_secret("whsec_new".into(), 100, 60), Some(160));
        assert_eq!(endpoint.signing_secrets(159), ["whsec_new", "whsec_old"]);
        assert_eq!(endpoint.signing_secrets(160), ["whsec_new"]);
        assert_eq!(endpoint.roll_secret("whsec_newer".into(), 200, 0), None);
        assert_eq!(endpoint.signing_secrets(200), ["whsec_newer"]);
    }
}
