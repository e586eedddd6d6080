//! The rules of connecting a Stripe account, as pure functions: which keys are acceptable, what the Data
//! Connection Name may be, which webhook endpoint is ours, what it subscribes to, and the Dashboard link that
//! creates a key with exactly the permissions payscope needs.

use std::collections::BTreeMap;

/// The longest Data Connection Name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// Metadata key on endpoints payscope creates: always `"payscope"`.
pub const METADATA_CREATED_BY: &str = "created_by";
/// Metadata key carrying this installation's public URL, so a later add recognises the endpoint as ours.
pub const METADATA_INSTALLATION: &str = "payscope_url";
/// Metadata key carrying the connection id the endpoint feeds.
pub const METADATA_CONNECTION: &str = "payscope_connection";

/// The events payscope applies. Explicit names (Stripe's `enabled_events` takes names or `*`), grouped by the
/// object they update.
pub const WEBHOOK_EVENTS: &[&str] = &[
    "charge.captured",
    "charge.expired",
    "charge.failed",
    "charge.pending",
    "charge.refunded",
    "charge.succeeded",
    "charge.updated",
    "charge.dispute.closed",
    "charge.dispute.created",
    "charge.dispute.funds_reinstated",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.updated",
    "charge.refund.updated",
    "payment_intent.amount_capturable_updated",
    "payment_intent.canceled",
    "payment_intent.created",
    "payment_intent.partially_funded",
    "payment_intent.payment_failed",
    "payment_intent.processing",
    "payment_intent.requires_action",
    "payment_intent.succeeded",
    "refund.created",
    "refund.failed",
    "refund.updated",
    "payout.canceled",
    "payout.created",
    "payout.failed",
    "payout.paid",
    "payout.reconciliation_completed",
    "payout.updated",
    "customer.created",
    "customer.deleted",
    "customer.updated",
    "customer.subscription.created",
    "customer.subscription.deleted",
    "customer.subscription.updated",
    "payment_method.attached",
    "payment_method.detached",
    "payment_method.updated",
    "setup_intent.canceled",
    "setup_intent.created",
    "setup_intent.setup_failed",
    "setup_intent.succeeded",
    "product.created",
    "product.deleted",
    "product.updated",
    "credit_note.created",
    "credit_note.updated",
    "credit_note.voided",
    "reporting.report_run.failed",
    "reporting.report_run.succeeded",
];

/// Checks a Data Connection Name and returns it trimmed, or says what is wrong with it.
pub fn validate_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(
            "the data connection name is empty; it labels every chart, so give it one".into(),
        );
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!(
            "the data connection name is longer than {MAX_NAME_CHARS} characters"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("the data connection name contains control characters".into());
    }
    Ok(name.to_owned())
}

/// The URL our endpoint for `connection_id` posts to, under the installation's public URL.
pub fn webhook_url(public_url: &str, connection_id: &str) -> String {
    format!(
        "{}/webhooks/stripe/{connection_id}",
        public_url.trim_end_matches('/')
    )
}

/// Whether an existing endpoint was made by this installation: it posts under our public URL, or carries our
/// metadata tag. Endpoints of other tools, or of another payscope installation, are never ours.
pub fn is_our_endpoint(
    public_url: &str,
    endpoint_url: Option<&str>,
    metadata: Option<&BTreeMap<String, String>>,
) -> bool {
    let prefix = webhook_url(public_url, "");
    let by_url = endpoint_url.is_some_and(|url| url.starts_with(&prefix));
    let by_tag = metadata.is_some_and(|m| {
        m.get(METADATA_CREATED_BY).map(String::as_str) == Some("payscope")
            && m.get(METADATA_INSTALLATION).map(String::as_str)
                == Some(public_url.trim_end_matches('/'))
    });
    by_url || by_tag
}

/// The metadata payscope writes on its endpoint.
pub fn endpoint_metadata(public_url: &str, connection_id: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (METADATA_CREATED_BY.to_owned(), "payscope".to_owned()),
        (
            METADATA_INSTALLATION.to_owned(),
            public_url.trim_end_matches('/').to_owned(),
        ),
        (METADATA_CONNECTION.to_owned(), connection_id.to_owned()),
    ])
}

/// Stripe's key-creation page, pre-filled with a name and exactly `permissions` (`rak_…` names). Sandbox keys
/// are created under `/test/`.
pub fn key_creation_link(live: bool, permissions: &[&str]) -> String {
    let mut link = String::from(if live {
        "https://dashboard.stripe.com/apikeys/create?name=payscope"
    } else {
        "https://dashboard.stripe.com/test/apikeys/create?name=payscope"
    });
    for permission in permissions {
        link.push_str("&permissions%5B%5D=");
        link.push_str(permission);
    }
    link
}

/// Why a connection needs attention when Stripe disabled or deleted its webhook endpoint (`status`), with the remedy.
pub fn endpoint_attention(endpoint_id: &str, status: &str) -> String {
    format!(
        "the webhook endpoint {endpoint_id} is {status} on stripe; events arrive only through the catch-up every few \
         minutes until the connection's webhook is replaced (Replace webhook on the connection's page, or \
         `payscope connections replace-webhook`)"
    )
}

/// Whether `reason` is an [`endpoint_attention`], which replacing the webhook resolves.
pub fn is_endpoint_attention(reason: &str) -> bool {
    reason.starts_with("the webhook endpoint ") && reason.contains(" on stripe; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(validate_name("  EU Stripe ").unwrap(), "EU Stripe");
        assert!(validate_name("   ").is_err());
        assert!(validate_name(&"é".repeat(100)).is_ok());
        assert!(validate_name(&"é".repeat(101)).is_err());
        assert!(validate_name("a\u{7}b").is_err());
    }

    #[test]
    fn our_endpoints_are_recognised_by_url_or_by_tag_and_nobody_elses_are() {
        let ours = "https://ps.example.com/";
        assert!(is_our_endpoint(
            ours,
            Some("https://ps.example.com/webhooks/stripe/con_old"),
            None
        ));
        let tag = endpoint_metadata(ours, "con_x");
        assert!(is_our_endpoint(
            ours,
            Some("https://moved.example.com/hook"),
            Some(&tag)
        ));
        assert!(!is_our_endpoint(
            ours,
            Some("https://ps.example.com/other"),
            None
        ));
        let other_install = endpoint_metadata("https://other.example.com", "con_y");
        assert!(!is_our_endpoint(
            ours,
            Some("https://other.example.com/webhooks/stripe/con_y"),
            Some(&other_install)
        ));
    }

    #[test]
    fn the_key_link_names_each_permission_once_for_the_right_mode() {
        let link = key_creation_link(false, &["rak_charge_read", "rak_webhook_write"]);
        assert_eq!(
            link,
            "https://dashboard.stripe.com/test/apikeys/create?name=payscope&permissions%5B%5D=rak_charge_read&permissions%5B%5D=rak_webhook_write"
        );
        assert!(
            key_creation_link(true, &[]).starts_with("https://dashboard.stripe.com/apikeys/create")
        );
    }

    #[test]
    fn the_webhook_url_has_one_slash_between_parts() {
        assert_eq!(
            webhook_url("https://a.b/", "con_1"),
            "https://a.b/webhooks/stripe/con_1"
        );
    }

    #[test]
    fn the_endpoint_attention_is_recognised_and_other_reasons_are_not() {
        assert!(is_endpoint_attention(&endpoint_attention(
            "we_1", "disabled"
        )));
        assert!(!is_endpoint_attention(
            "stripe refused the key: it lacks Read on Disputes (rak_dispute_read)"
        ));
    }
}
