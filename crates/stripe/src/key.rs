//! Stripe API keys: parsing `sk_` / `rk_` / `pk_` × `test_` / `live_`, and a type that never prints the secret.

use std::fmt;
use std::str::FromStr;

/// What a key may do, from its prefix; payscope asks merchants for restricted keys and must tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// `sk_…`: full access to the account.
    Secret,
    /// `rk_…`: a restricted key whose permissions were chosen per resource in the Dashboard.
    Restricted,
    /// `pk_…`: a client-side key that Stripe refuses on every server endpoint payscope uses.
    Publishable,
}

impl KeyKind {
    /// The prefix as it appears in the key, e.g. `rk`.
    pub fn prefix(self) -> &'static str {
        match self {
            KeyKind::Secret => "sk",
            KeyKind::Restricted => "rk",
            KeyKind::Publishable => "pk",
        }
    }
}

/// Whether a key reads test (sandbox) or live data; objects in one mode are invisible to the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// `_test_` keys: sandboxes and the legacy test mode, with lower rate limits.
    Test,
    /// `_live_` keys: real money.
    Live,
}

impl Mode {
    /// `test` or `live`, as in the key and in `livemode`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Test => "test",
            Mode::Live => "live",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a string is not a usable Stripe API key; messages avoid echoing the key itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Nothing was entered.
    #[error("the api key is empty; paste the key from Stripe Dashboard → Developers → API keys")]
    Empty,
    /// A `whsec_` webhook signing secret was entered where an API key belongs.
    #[error(
        "this is a webhook signing secret (whsec_…), not an api key; paste a restricted key (rk_…) instead"
    )]
    WebhookSecret,
    /// The prefix is not one of `sk_`, `rk_`, `pk_` followed by `test_` or `live_`.
    #[error(
        "this is not a stripe api key: it must start with rk_live_, rk_test_, sk_live_, sk_test_, pk_live_ or pk_test_"
    )]
    UnknownPrefix,
    /// The part after the prefix is missing or contains characters Stripe keys never contain.
    #[error(
        "the api key looks truncated or contains spaces or symbols; copy it again from the Stripe Dashboard"
    )]
    Malformed,
}

/// A parsed Stripe API key. `Debug` and `Display` show only the prefix and the last four characters
/// (`rk_live_…abcd`), so the key can be logged and shown in the UI without leaking it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ApiKey {
    secret: String,
    kind: KeyKind,
    mode: Mode,
}

impl ApiKey {
    /// Parses a key as pasted by a user; surrounding whitespace (a common copy-paste accident) is ignored.
    pub fn parse(input: &str) -> Result<ApiKey, KeyError> {
        let key = input.trim();
        if key.is_empty() {
            return Err(KeyError::Empty);
        }
        if key.starts_with("whsec_") {
            return Err(KeyError::WebhookSecret);
        }
        let (kind, rest) = if let Some(rest) = key.strip_prefix("sk_") {
            (KeyKind::Secret, rest)
        } else if let Some(rest) = key.strip_prefix("rk_") {
            (KeyKind::Restricted, rest)
        } else if let Some(rest) = key.strip_prefix("pk_") {
            (KeyKind::Publishable, rest)
        } else {
            return Err(KeyError::UnknownPrefix);
        };
        let (mode, body) = if let Some(body) = rest.strip_prefix("test_") {
            (Mode::Test, body)
        } else if let Some(body) = rest.strip_prefix("live_") {
            (Mode::Live, body)
        } else {
            return Err(KeyError::UnknownPrefix);
        };
        // Real key bodies are long base62 strings; anything shorter than the masked tail we display, or with other
        // characters, is a copy-paste mistake that Stripe would only answer with a less helpful 401.
        if body.len() < 8 || !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(KeyError::Malformed);
        }
        Ok(ApiKey {
            secret: key.to_owned(),
            kind,
            mode,
        })
    }

    /// Secret, restricted or publishable.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// Test or live.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The full key, for the `Authorization` header and for encrypting at rest; never log it.
    pub fn expose_secret(&self) -> &str {
        &self.secret
    }

    /// The last four characters, which Stripe's Dashboard also shows to identify a key.
    pub fn last4(&self) -> &str {
        &self.secret[self.secret.len() - 4..]
    }

    /// The redacted form `rk_live_…abcd`, safe for logs and UI.
    pub fn redacted(&self) -> String {
        format!(
            "{}_{}_…{}",
            self.kind.prefix(),
            self.mode.as_str(),
            self.last4()
        )
    }
}

impl FromStr for ApiKey {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ApiKey::parse(s)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<(KeyKind, Mode), KeyError>) {
        let got = ApiKey::parse(input).map(|k| (k.kind(), k.mode()));
        assert_eq!(got, expected, "input {input:?}");
    }

    #[test]
    fn every_prefix_and_mode_is_recognised() {
        check("sk_test_51AbCdEf1234", Ok((KeyKind::Secret, Mode::Test)));
        check("sk_live_51AbCdEf1234", Ok((KeyKind::Secret, Mode::Live)));
        check(
            "rk_test_51AbCdEf1234",
            Ok((KeyKind::Restricted, Mode::Test)),
        );
        check(
            "rk_live_51AbCdEf1234",
            Ok((KeyKind::Restricted, Mode::Live)),
        );
        check(
            "pk_test_51AbCdEf1234",
            Ok((KeyKind::Publishable, Mode::Test)),
        );
        check(
            "pk_live_51AbCdEf1234",
            Ok((KeyKind::Publishable, Mode::Live)),
        );
        check(
            "  rk_live_51AbCdEf1234\n",
            Ok((KeyKind::Restricted, Mode::Live)),
        );
    }

    #[test]
    fn malformed_keys_are_refused_with_a_reason() {
        check("", Err(KeyError::Empty));
        check("   ", Err(KeyError::Empty));
        check("whsec_abcdefgh12345", Err(KeyError::WebhookSecret));
        check("xk_test_51AbCdEf1234", Err(KeyError::UnknownPrefix));
        check("rk_prod_51AbCdEf1234", Err(KeyError::UnknownPrefix));
        check("rk_test_", Err(KeyError::Malformed));
        check("rk_test_abc", Err(KeyError::Malformed));
        check("rk_test_51AbCd Ef1234", Err(KeyError::Malformed));
    }

    #[test]
    fn debug_and_display_show_only_the_prefix_and_last_four_characters() {
        let key = ApiKey::parse("rk_live_51SuperSecretValueabcd").unwrap();
        assert_eq!(format!("{key}"), "rk_live_…abcd");
        assert_eq!(format!("{key:?}"), "rk_live_…abcd");
        assert!(!format!("{key:?}").contains("SuperSecret"));
        assert_eq!(key.expose_secret(), "rk_live_51SuperSecretValueabcd");
    }
}
