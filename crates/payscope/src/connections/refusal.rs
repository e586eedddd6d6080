//! Why a connection request was refused: one enum the CLI, the JSON API and the web form all render, each case with
//! a stable `code` and a message that says what happened and what to do.

use serde::Serialize;
use serde_json::{Value, json};

/// A permission the key lacks, named the way the Dashboard and Stripe's errors name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingPermission {
    /// The resource as the Dashboard's key form names it ("Charges").
    pub resource: String,
    /// Stripe's name (`rak_charge_read`).
    pub permission: String,
    /// `read` or `write`.
    pub access: &'static str,
}

/// A refused connection request. Nothing was left behind: no connection row, no endpoint on Stripe.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The name is empty, too long, or has control characters.
    #[error("{0}")]
    InvalidName(String),
    /// The account already has a connection with this name.
    #[error("a data connection named {0:?} already exists in this account; choose another name")]
    NameTaken(String),
    /// A processor payscope does not connect to yet.
    #[error("payscope connects to stripe only; {0:?} is not supported yet")]
    UnsupportedProcessor(String),
    /// The pasted text is not a Stripe key at all.
    #[error("{0}")]
    MalformedApiKey(String),
    /// A `pk_…` key: it cannot read anything server-side.
    #[error(
        "this is a publishable key (pk_…), which can only be used in browsers and cannot read payments; create a restricted key (rk_…) in the Stripe Dashboard → Developers → API keys"
    )]
    PublishableKey,
    /// An `sk_…` key while the operator did not allow them.
    #[error(
        "this is an unrestricted secret key (sk_…), which can do anything on the Stripe account, including moving money; a restricted key (rk_…) with only the read permissions payscope needs limits what a leak could do. Create one in the Stripe Dashboard → Developers → API keys (or ask the operator to set PAYSCOPE_ALLOW_SECRET_KEYS)"
    )]
    SecretKeyNotAllowed,
    /// Stripe did not accept the key.
    #[error(
        "stripe did not accept this api key; check that the whole key was pasted and that it was not deleted"
    )]
    InvalidApiKey,
    /// Stripe says the key expired or was rolled.
    #[error(
        "this api key has expired or was rolled; create a new restricted key in the Stripe Dashboard → Developers → API keys"
    )]
    ExpiredApiKey,
    /// The key lacks permissions; every missing one is listed.
    #[error("the key lacks {}: {}; edit the key in the Stripe Dashboard → Developers → API keys, or create one with the link", plural(.missing.len()), describe(.missing))]
    MissingPermissions {
        /// Every missing permission.
        missing: Vec<MissingPermission>,
        /// Stripe's key-creation page pre-filled with every permission payscope needs.
        key_link: String,
    },
    /// A live key while the public URL is not https: Stripe would refuse the endpoint.
    #[error(
        "live-mode webhooks must use https, but the public url is {0}; set PAYSCOPE_PUBLIC_URL to an https:// address"
    )]
    InsecurePublicUrl(String),
    /// A webhook endpoint of this installation already exists on the Stripe account.
    #[error(
        "this stripe account already has a payscope webhook endpoint ({endpoint_id}, {url}); remove it in the Stripe Dashboard → Developers → Webhooks so a new one can be generated, or add the connection again choosing to replace the existing payscope webhook"
    )]
    WebhookConflict {
        /// The existing endpoint's id.
        endpoint_id: String,
        /// Where it posts.
        url: String,
    },
    /// The Stripe account has no room for another endpoint.
    #[error(
        "the stripe account already has {0} webhook endpoints, stripe's maximum; remove one you no longer use in the Stripe Dashboard → Developers → Webhooks"
    )]
    WebhookLimit(usize),
    /// A rotated key belongs to another Stripe account.
    #[error(
        "the new key belongs to stripe account {found}, but this connection reads {expected}; use a key of the same account, or add a new connection"
    )]
    DifferentAccount {
        /// The account the connection reads.
        expected: String,
        /// The account the new key belongs to.
        found: String,
    },
    /// A rotated key whose account Stripe did not reveal.
    #[error(
        "stripe did not reveal which account the new key belongs to, so payscope cannot confirm it is the same account; use a restricted key created on account {0}"
    )]
    AccountUnverifiable(String),
    /// A rotated key of the other mode.
    #[error("the new key is a {found}-mode key, but this connection reads {expected}-mode data")]
    ModeMismatch {
        /// The connection's mode.
        expected: &'static str,
        /// The new key's mode.
        found: &'static str,
    },
    /// A webhook was asked for, but payscope has no public URL Stripe could post to.
    #[error(
        "payscope has no public URL (PAYSCOPE_PUBLIC_URL), so Stripe cannot post webhooks to it; set the URL Stripe \
         can reach and try again (until then the Events catch-up keeps the connection current every 30 s)"
    )]
    NoPublicUrl,
    /// A pasted webhook signing secret does not look like one.
    #[error("{0}")]
    MalformedWebhookSecret(String),
    /// A signing secret was pasted for a connection without a webhook endpoint (polling mode).
    #[error(
        "the data connection {0} has no webhook endpoint (it syncs through the Events API), so it has no signing \
         secret; replace its webhook to register one"
    )]
    NoWebhookEndpoint(String),
    /// The connection was removed (disconnected): its webhook cannot be replaced.
    #[error("the data connection {0} was removed; add it again to sync it")]
    Disconnected(String),
    /// No such connection in this account.
    #[error("no data connection {0} in this account")]
    NotFound(String),
    /// Stripe could not be reached or failed, after retries.
    #[error("{0}")]
    StripeUnavailable(String),
    /// A failure inside payscope (database, encryption); logged where it happened.
    #[error("payscope could not complete the request: {0}")]
    Internal(String),
}

fn plural(n: usize) -> String {
    if n == 1 {
        "1 permission".into()
    } else {
        format!("{n} permissions")
    }
}

fn describe(missing: &[MissingPermission]) -> String {
    missing
        .iter()
        .map(|m| {
            let access = if m.access == "write" { "Write" } else { "Read" };
            format!("{access} on {} ({})", m.resource, m.permission)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Refusal {
    /// The stable machine-readable code, shared by the JSON API and `--json` CLI output.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::InvalidName(_) => "invalid_name",
            Refusal::NameTaken(_) => "name_taken",
            Refusal::UnsupportedProcessor(_) => "unsupported_processor",
            Refusal::MalformedApiKey(_) => "malformed_api_key",
            Refusal::PublishableKey => "publishable_key",
            Refusal::SecretKeyNotAllowed => "secret_key_not_allowed",
            Refusal::InvalidApiKey => "invalid_api_key",
            Refusal::ExpiredApiKey => "expired_api_key",
            Refusal::MissingPermissions { .. } => "missing_permissions",
            Refusal::InsecurePublicUrl(_) => "insecure_public_url",
            Refusal::WebhookConflict { .. } => "webhook_conflict",
            Refusal::WebhookLimit(_) => "webhook_limit",
            Refusal::DifferentAccount { .. } => "different_account",
            Refusal::AccountUnverifiable(_) => "account_unverifiable",
            Refusal::ModeMismatch { .. } => "mode_mismatch",
            Refusal::NoPublicUrl => "no_public_url",
            Refusal::MalformedWebhookSecret(_) => "malformed_webhook_secret",
            Refusal::NoWebhookEndpoint(_) => "no_webhook_endpoint",
            Refusal::Disconnected(_) => "disconnected",
            Refusal::NotFound(_) => "not_found",
            Refusal::StripeUnavailable(_) => "stripe_unavailable",
            Refusal::Internal(_) => "internal",
        }
    }

    /// The JSON body: `{"error": {"code", "message", …details}}`.
    pub fn to_json(&self) -> Value {
        let mut error = json!({"code": self.code(), "message": self.to_string()});
        let details = match self {
            Refusal::MissingPermissions { missing, key_link } => {
                json!({"missing_permissions": missing, "key_link": key_link})
            }
            Refusal::WebhookConflict { endpoint_id, url } => {
                json!({"endpoint": {"id": endpoint_id, "url": url}})
            }
            Refusal::WebhookLimit(count) => json!({"endpoint_count": count}),
            Refusal::DifferentAccount { expected, found } => {
                json!({"expected_account": expected, "found_account": found})
            }
            _ => json!({}),
        };
        if let (Some(error), Value::Object(details)) = (error.as_object_mut(), details) {
            error.extend(details);
        }
        json!({ "error": error })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_permissions_are_all_named_in_the_message_and_the_json() {
        let refusal = Refusal::MissingPermissions {
            missing: vec![
                MissingPermission {
                    resource: "Charges".into(),
                    permission: "rak_charge_read".into(),
                    access: "read",
                },
                MissingPermission {
                    resource: "Webhook Endpoints".into(),
                    permission: "rak_webhook_write".into(),
                    access: "write",
                },
            ],
            key_link: "https://dashboard.stripe.com/test/apikeys/create?name=payscope".into(),
        };
        let message = refusal.to_string();
        assert!(message.contains("2 permissions: Read on Charges (rak_charge_read), Write on Webhook Endpoints (rak_webhook_write)"), "{message}");
        let body = refusal.to_json();
        assert_eq!(body["error"]["code"], "missing_permissions");
        assert_eq!(
            body["error"]["missing_permissions"][1]["permission"],
            "rak_webhook_write"
        );
        assert!(
            body["error"]["key_link"]
                .as_str()
                .unwrap()
                .starts_with("https://dashboard.stripe.com/")
        );
    }
}
