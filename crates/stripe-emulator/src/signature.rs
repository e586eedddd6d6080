//! The `Stripe-Signature` header of webhook deliveries: `t=<unix>,v1=<hex HMAC-SHA256>` keyed by the whole
//! `whsec_…` string over `"{t}.{body}"`, exactly as Stripe signs; one `v1` per live secret while a secret is rolled.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Lowercase hex HMAC-SHA256 of `"{timestamp}.{body}"` keyed by the bytes of `secret` (not base64-decoded).
pub fn v1_signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The full header value, signed with each of `secrets` (the current one first): while an endpoint's secret is
/// rolled Stripe sends a `v1` per secret, and a verifier accepts the delivery if any matches (stripe-api-facts §7).
/// In test mode Stripe adds a `v0` scheme that verifiers must ignore; we do the same so clients that only accept
/// `v1` are exercised (its value is a signature under a different key).
pub fn header(secrets: &[&str], timestamp: i64, body: &[u8], livemode: bool) -> String {
    let mut header = format!("t={timestamp}");
    for secret in secrets {
        header.push_str(",v1=");
        header.push_str(&v1_signature(secret, timestamp, body));
    }
    if !livemode && let Some(first) = secrets.first() {
        header.push_str(",v0=");
        header.push_str(&v1_signature(&format!("{first}:v0"), timestamp, body));
    }
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_stripe_node_test_vector() {
        let body = "{\n  \"id\": \"evt_test_webhook\",\n  \"object\": \"event\"\n}";
        assert_eq!(
            header(&["whsec_test_secret"], 1_700_000_000, body.as_bytes(), true),
            "t=1700000000,v1=4f1cd7feda9826e746b7d482c4badebb657398df1099e1046364f6196a230150"
        );
    }

    #[test]
    fn a_rolled_secret_gives_one_v1_per_secret_the_new_one_first() {
        let body = b"{}";
        let header = header(&["whsec_new", "whsec_old"], 1_700_000_000, body, true);
        assert_eq!(
            header,
            format!(
                "t=1700000000,v1={},v1={}",
                v1_signature("whsec_new", 1_700_000_000, body),
                v1_signature("whsec_old", 1_700_000_000, body)
            )
        );
    }
}
