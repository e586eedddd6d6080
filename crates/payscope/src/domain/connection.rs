//! A Data Connection: one processor account linked with one key, and the states it moves through.

use std::fmt;

/// The payment processor behind a connection. Only Stripe today; the type keeps room for more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Processor {
    /// Stripe, connected with a restricted API key.
    Stripe,
}

/// Whether a connection reads test (sandbox) or live data, as its key says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `*_test_*` keys: sandbox data.
    Test,
    /// `*_live_*` keys: real payments.
    Live,
}

/// Where a connection stands. `NeedsAttention` carries its reason in the connection's `status_reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionStatus {
    /// The key is being checked; the connection is not usable yet.
    Validating,
    /// The historical import is running.
    Importing,
    /// Imported and kept current.
    Active,
    /// Something needs the user (a revoked permission, an expired key, a deleted webhook endpoint).
    NeedsAttention,
    /// Removed by the user; sync stopped.
    Disconnected,
}

/// A stored value that is not one of the names payscope writes: the database was edited by hand or by a newer
/// payscope. Reported instead of guessed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?} in the database")]
pub struct UnknownName {
    /// Which kind of name (processor, mode, status).
    pub kind: &'static str,
    /// The stored text.
    pub value: String,
}

macro_rules! named_enum {
    ($ty:ident, $kind:literal, { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// The name stored in the database and shown in the API.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $name),+ }
            }

            /// Reads a stored name back.
            pub fn parse(value: &str) -> Result<Self, UnknownName> {
                match value {
                    $($name => Ok(Self::$variant),)+
                    _ => Err(UnknownName { kind: $kind, value: value.to_owned() }),
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named_enum!(Processor, "processor", { Stripe => "stripe" });
named_enum!(Mode, "mode", { Test => "test", Live => "live" });
named_enum!(ConnectionStatus, "connection status", {
    Validating => "validating",
    Importing => "importing",
    Active => "active",
    NeedsAttention => "needs_attention",
    Disconnected => "disconnected",
});

/// A connection as stored. Secrets stay sealed here; only the sync and connection services open them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// payscope's id (`con_…`), also the last segment of its webhook URL.
    pub id: String,
    /// The tenant that owns it.
    pub account_id: String,
    /// The Data Connection Name, unique within the account; labels every chart.
    pub name: String,
    /// Which processor.
    pub processor: Processor,
    /// Test or live, from the key.
    pub mode: Mode,
    /// The processor's account id (Stripe `acct_…`) once known.
    pub processor_account_id: Option<String>,
    /// The API key, sealed with the master key (see `crypto`).
    pub api_key_sealed: String,
    /// The key as it may be shown: `rk_live_…abcd`.
    pub api_key_hint: String,
    /// Our webhook endpoint on the processor account (`we_…`), absent in polling mode.
    pub webhook_endpoint_id: Option<String>,
    /// The endpoint's signing secret, sealed.
    pub webhook_secret_sealed: Option<String>,
    /// Where the connection stands.
    pub status: ConnectionStatus,
    /// Why, when the status asks for attention.
    pub status_reason: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

impl Connection {
    /// The associated-data label that binds a sealed API key to this connection.
    pub fn api_key_context(id: &str) -> String {
        format!("connection:{id}:api_key")
    }

    /// The associated-data label that binds a sealed webhook secret to this connection.
    pub fn webhook_secret_context(id: &str) -> String {
        format!("connection:{id}:webhook_secret")
    }
}

/// How long a webhook signing secret stays accepted after the merchant pastes its successor: 24 h, as long as Stripe
/// keeps signing with the old secret after a roll in the Dashboard (stripe-api-facts §7, "≤24 h", UNVERIFIED).
pub const PREVIOUS_WEBHOOK_SECRET_GRACE_SECONDS: i64 = 24 * 3600;

/// Where the merchant finds an endpoint's signing secret, for forms and messages.
pub const WEBHOOK_SECRET_WHERE: &str =
    "Stripe Dashboard → Developers → Webhooks → the endpoint → Signing secret → Reveal";

/// Checks a pasted webhook signing secret's shape (`whsec_` and 16 to 128 letters and digits) and returns it trimmed;
/// the error says what is wrong without repeating the text, which may be a secret pasted into the wrong field.
pub fn validate_webhook_secret(text: &str) -> Result<&str, String> {
    let secret = text.trim();
    let Some(rest) = secret.strip_prefix("whsec_") else {
        return Err(format!(
            "a webhook signing secret starts with whsec_; copy it from the {WEBHOOK_SECRET_WHERE}"
        ));
    };
    if !(16..=128).contains(&rest.len()) || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!(
            "this is not a whole webhook signing secret (whsec_ and 16 to 128 letters and digits); copy it again from \
             the {WEBHOOK_SECRET_WHERE}"
        ));
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_reported() {
        for status in [
            ConnectionStatus::Validating,
            ConnectionStatus::Importing,
            ConnectionStatus::Active,
            ConnectionStatus::NeedsAttention,
            ConnectionStatus::Disconnected,
        ] {
            assert_eq!(ConnectionStatus::parse(status.as_str()), Ok(status));
        }
        assert_eq!(Mode::parse("live"), Ok(Mode::Live));
        assert!(Processor::parse("adyen").is_err());
    }

    #[test]
    fn a_webhook_secret_needs_its_prefix_and_a_sane_length_and_errors_never_repeat_it() {
        let good = "whsec_0123456789abcdefABCDEF0123456789";
        assert_eq!(validate_webhook_secret(&format!("  {good}\n")), Ok(good));
        for bad in [
            "rk_test_0123456789abcdefABCDEF",
            "whsec_short",
            "whsec_0123456789abcdef 0123456789",
            &format!("whsec_{}", "a".repeat(129)),
            "",
        ] {
            let error = validate_webhook_secret(bad).unwrap_err();
            assert!(error.contains("Signing secret"), "{error}");
            assert!(bad.is_empty() || !error.contains(bad), "{error}");
        }
    }
}
