//! Webhook signatures: verifying `Stripe-Signature` headers and producing them for tests and the emulator.

use std::fmt;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// Stripe's default tolerance between the signed timestamp and now.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// A webhook endpoint's signing secret (`whsec_…`). `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    /// Wraps a secret as Stripe returned it. The whole string, prefix included, is the HMAC key.
    pub fn new(secret: impl Into<String>) -> WebhookSecret {
        WebhookSecret(secret.into())
    }

    /// The secret, for encrypting at rest; never log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("whsec_[redacted]")
    }
}

impl fmt::Display for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("whsec_[redacted]")
    }
}

/// Why a webhook delivery was refused; the receiver answers 400 and Stripe retries later.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header is not a comma-separated list of `key=value` items with one `t`.
    #[error(
        "the Stripe-Signature header is malformed; the request did not come from stripe or was altered"
    )]
    MalformedHeader,
    /// No `v1` signature was present (only `v0` or unknown schemes).
    #[error("the Stripe-Signature header has no v1 signature")]
    NoV1Signature,
    /// The timestamp is older than the tolerance: possibly a replay.
    #[error(
        "the webhook was signed {age_seconds} s ago, more than the {tolerance_seconds} s allowed; check the server clock if this repeats"
    )]
    TooOld {
        /// How old the signature is.
        age_seconds: i64,
        /// The tolerance applied.
        tolerance_seconds: u64,
    },
    /// The timestamp is further in the future than the tolerance.
    #[error(
        "the webhook claims to be signed {ahead_seconds} s in the future, more than the {tolerance_seconds} s allowed; check the server clock"
    )]
    FromTheFuture {
        /// How far ahead the signature is.
        ahead_seconds: i64,
        /// The tolerance applied.
        tolerance_seconds: u64,
    },
    /// No `v1` value matches the payload and the secret.
    #[error(
        "no signature matches the payload; check that the endpoint's signing secret is the one stored"
    )]
    NoMatch,
}

/// Verifies a delivery at time `now` (unix seconds) with [`DEFAULT_TOLERANCE`]; returns the signed timestamp.
/// `payload` must be the raw body bytes exactly as received.
pub fn verify(
    payload: &[u8],
    header: &str,
    secret: &WebhookSecret,
    now: i64,
) -> Result<i64, SignatureError> {
    verify_with_tolerance(payload, header, secret, now, DEFAULT_TOLERANCE)
}

/// Verifies a delivery with a chosen tolerance, applied in both directions: unlike Stripe's SDKs, a timestamp
/// from the future is refused too, so a leaked signed request cannot be replayed later.
/// Any matching `v1` value is accepted (Stripe signs with both secrets while one is being rolled); `v0` and unknown
/// schemes are ignored; the comparison is constant-time.
pub fn verify_with_tolerance(
    payload: &[u8],
    header: &str,
    secret: &WebhookSecret,
    now: i64,
    tolerance: Duration,
) -> Result<i64, SignatureError> {
    let parsed = parse_header(header)?;
    if parsed.v1.is_empty() {
        return Err(SignatureError::NoV1Signature);
    }
    let expected = compute(payload, secret, parsed.timestamp);
    // Every candidate is compared, so timing reveals neither which one matched nor how much of it.
    let mut matched = subtle::Choice::from(0);
    for candidate in &parsed.v1 {
        if let Ok(bytes) = hex::decode(candidate) {
            matched |= bytes.as_slice().ct_eq(expected.as_slice());
        }
    }
    if !bool::from(matched) {
        return Err(SignatureError::NoMatch);
    }
    let tolerance_seconds = tolerance.as_secs();
    let limit = i64::try_from(tolerance_seconds).unwrap_or(i64::MAX);
    let age = now.saturating_sub(parsed.timestamp);
    if age > limit {
        return Err(SignatureError::TooOld {
            age_seconds: age,
            tolerance_seconds,
        });
    }
    if -age > limit {
        return Err(SignatureError::FromTheFuture {
            ahead_seconds: -age,
            tolerance_seconds,
        });
    }
    Ok(parsed.timestamp)
}

/// A `Stripe-Signature` header for `payload`, as Stripe would send it: `t=<timestamp>,v1=<hex>`; for tests, the
/// emulator and the demo.
pub fn sign(payload: &[u8], secret: &WebhookSecret, timestamp: i64) -> String {
    sign_with_secrets(payload, &[secret], timestamp)
}

/// A header with one `v1` per secret, as Stripe sends while a secret is being rolled.
pub fn sign_with_secrets(payload: &[u8], secrets: &[&WebhookSecret], timestamp: i64) -> String {
    let mut header = format!("t={timestamp}");
    for secret in secrets {
        header.push_str(",v1=");
        header.push_str(&hex::encode(compute(payload, secret, timestamp)));
    }
    header
}

fn compute(payload: &[u8], secret: &WebhookSecret, timestamp: i64) -> Vec<u8> {
    let mut mac =
        HmacSha256::new_from_slice(secret.0.as_bytes()).expect("hmac accepts keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac.finalize().into_bytes().to_vec()
}

struct ParsedHeader<'a> {
    timestamp: i64,
    v1: Vec<&'a str>,
}

fn parse_header(header: &str) -> Result<ParsedHeader<'_>, SignatureError> {
    let mut timestamp = None;
    let mut v1 = Vec::new();
    for item in header.split(',') {
        let (key, value) = item
            .trim()
            .split_once('=')
            .ok_or(SignatureError::MalformedHeader)?;
        if value.contains('=') {
            return Err(SignatureError::MalformedHeader);
        }
        match key {
            "t" => {
                let t: i64 = value.parse().map_err(|_| SignatureError::MalformedHeader)?;
                // Two different timestamps would make the signed payload ambiguous.
                if timestamp.replace(t).is_some_and(|previous| previous != t) {
                    return Err(SignatureError::MalformedHeader);
                }
            }
            "v1" => v1.push(value),
            _ => {}
        }
    }
    Ok(ParsedHeader {
        timestamp: timestamp.ok_or(SignatureError::MalformedHeader)?,
        v1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixed vector of stripe-api-facts.md §7 (stripe-node 23.1.0 `generateTestHeaderString`).
    const PAYLOAD: &str = "{\n  \"id\": \"evt_test_webhook\",\n  \"object\": \"event\"\n}";
    const HEADER: &str =
        "t=1700000000,v1=4f1cd7feda9826e746b7d482c4badebb657398df1099e1046364f6196a230150";

    fn secret() -> WebhookSecret {
        WebhookSecret::new("whsec_test_secret")
    }

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    }

    #[test]
    fn stripes_fixed_vector_verifies_at_its_own_timestamp() {
        assert_eq!(
            verify(PAYLOAD.as_bytes(), HEADER, &secret(), 1_700_000_000),
            Ok(1_700_000_000)
        );
        assert_eq!(sign(PAYLOAD.as_bytes(), &secret(), 1_700_000_000), HEADER);
    }

    #[test]
    fn stripes_fixed_vector_is_refused_today_as_too_old() {
        let result = verify(PAYLOAD.as_bytes(), HEADER, &secret(), now());
        assert!(
            matches!(result, Err(SignatureError::TooOld { .. })),
            "{result:?}"
        );
    }

    #[test]
    fn the_tolerance_applies_in_both_directions_up_to_exactly_300_seconds() {
        let t = 1_700_000_000;
        let header = sign(b"{}", &secret(), t);
        assert!(verify(b"{}", &header, &secret(), t + 300).is_ok());
        assert!(verify(b"{}", &header, &secret(), t - 300).is_ok());
        assert!(matches!(
            verify(b"{}", &header, &secret(), t + 301),
            Err(SignatureError::TooOld {
                age_seconds: 301,
                ..
            })
        ));
        assert!(matches!(
            verify(b"{}", &header, &secret(), t - 301),
            Err(SignatureError::FromTheFuture {
                ahead_seconds: 301,
                ..
            })
        ));
    }

    #[test]
    fn any_of_several_v1_signatures_may_match_and_other_schemes_are_ignored() {
        let t = 1_700_000_000;
        let old = WebhookSecret::new("whsec_old");
        let rolled = sign_with_secrets(b"{}", &[&old, &secret()], t);
        assert!(verify(b"{}", &rolled, &secret(), t).is_ok());
        assert!(verify(b"{}", &rolled, &old, t).is_ok());
        let v1 = &sign(b"{}", &secret(), t)["t=1700000000,".len()..];
        let noisy = format!("t={t},v0=deadbeef,v1=nothex,x=1,{v1}");
        assert!(verify(b"{}", &noisy, &secret(), t).is_ok());
    }

    #[test]
    fn tampering_or_a_wrong_secret_is_refused() {
        let t = 1_700_000_000;
        let header = sign(b"{\"amount\":100}", &secret(), t);
        assert_eq!(
            verify(b"{\"amount\":999}", &header, &secret(), t),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(
            verify(
                b"{\"amount\":100}",
                &header,
                &WebhookSecret::new("whsec_other"),
                t
            ),
            Err(SignatureError::NoMatch)
        );
        let shifted = header.replace("t=1700000000", "t=1700000001");
        assert_eq!(
            verify(b"{\"amount\":100}", &shifted, &secret(), t),
            Err(SignatureError::NoMatch)
        );
    }

    #[test]
    fn malformed_headers_are_refused() {
        let cases = [
            ("", SignatureError::MalformedHeader),
            ("v1=abc", SignatureError::MalformedHeader),
            ("t=abc,v1=00", SignatureError::MalformedHeader),
            ("t=1,t=2,v1=00", SignatureError::MalformedHeader),
            ("t=1,garbage", SignatureError::MalformedHeader),
            ("t=1,v1=a=b", SignatureError::MalformedHeader),
            ("t=1700000000,v0=00", SignatureError::NoV1Signature),
        ];
        for (header, expected) in cases {
            assert_eq!(
                verify(b"{}", header, &secret(), 1_700_000_000),
                Err(expected),
                "{header:?}"
            );
        }
    }

    #[test]
    fn the_secret_never_appears_in_debug_or_display() {
        let s = WebhookSecret::new("whsec_supersecret");
        assert!(!format!("{s:?}{s}").contains("supersecret"));
    }
}
