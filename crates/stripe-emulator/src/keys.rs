//! API keys: the key ring (every issued key with its account, mode and kind), restricted-key permissions with
//! Stripe's implications ("Write implies Read", …), and key minting.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use rand::Rng;
use serde::{Deserialize, Serialize};

/// Test or live mode; each has its own keys and its own webhook endpoints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// `*_test_*` keys; `livemode: false`.
    #[default]
    Test,
    /// `*_live_*` keys; `livemode: true`.
    Live,
}

impl Mode {
    /// The infix in key prefixes (`test` / `live`).
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Test => "test",
            Mode::Live => "live",
        }
    }

    /// The value of `livemode` in objects served in this mode.
    pub fn is_live(self) -> bool {
        self == Mode::Live
    }
}

/// What a key may do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// `sk_…`: everything.
    Secret,
    /// `pk_…`: refused on every server endpoint.
    Publishable,
    /// `rk_…`: only what its permissions (closed under Stripe's implications) allow.
    Restricted(BTreeSet<String>),
}

/// One issued key.
pub struct KeyRecord {
    /// The key string itself.
    pub key: String,
    /// The account it authenticates as.
    pub account: String,
    /// Test or live.
    pub mode: Mode,
    /// Secret, publishable or restricted (with its effective permissions).
    pub kind: KeyKind,
    expired: AtomicBool,
}

impl fmt::Debug for KeyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRecord")
            .field("key", &"[redacted]")
            .field("account", &self.account)
            .field("mode", &self.mode)
            .field("kind", &self.kind)
            .field("expired", &self.is_expired())
            .finish()
    }
}

impl KeyRecord {
    /// Whether the key was expired through the control API.
    pub fn is_expired(&self) -> bool {
        self.expired.load(Ordering::Relaxed)
    }

    /// Whether this key may perform something that needs `permission` (secret keys may do anything).
    pub fn allows(&self, permission: &str) -> bool {
        match &self.kind {
            KeyKind::Secret => true,
            KeyKind::Publishable => false,
            KeyKind::Restricted(granted) => granted.contains(permission),
        }
    }
}

/// The permission set of the guide's restricted key ("Connect to Stripe", step 1).
pub const GUIDE_PERMISSIONS: &[&str] = &[
    "balance_read",
    "balance_transaction_source_read",
    "charge_read",
    "dispute_read",
    "event_read",
    "file_read",
    "payment_intent_read",
    "payment_method_read",
    "payout_read",
    "product_read",
    "setup_intent_read",
    "source_read",
    "token_read",
    "credit_note_read",
    "subscription_read",
    "sku_read",
    "report_runs_and_report_types_read",
    "webhook_write",
];

/// Stripe's documented implications between permissions (beyond "`X_write` implies `X_read`").
const IMPLIES: &[(&str, &[&str])] = &[
    (
        "balance_transaction_source_read",
        &["application_fee_read", "balance_read", "transfer_read"],
    ),
    ("payment_intent_read", &["product_read", "sku_read"]),
    ("payment_method_read", &["source_read"]),
    ("setup_intent_read", &["mandate_read"]),
    ("credit_note_read", &["invoice_read"]),
    ("transfer_read", &["payout_read"]),
];

/// Closes a permission set under Stripe's implications, accepting names with or without the `rak_` prefix.
pub fn effective_permissions<S: AsRef<str>>(granted: &[S]) -> BTreeSet<String> {
    let mut set: BTreeSet<String> = granted
        .iter()
        .map(|p| p.as_ref().trim_start_matches("rak_").to_string())
        .collect();
    loop {
        let mut added = Vec::new();
        for permission in &set {
            if let Some(resource) = permission.strip_suffix("_write") {
                added.push(format!("{resource}_read"));
            }
            for (from, implied) in IMPLIES {
                if permission == from {
                    added.extend(implied.iter().map(|p| p.to_string()));
                }
            }
        }
        let before = set.len();
        set.extend(added);
        if set.len() == before {
            return set;
        }
    }
}

/// Every key the emulator issued, by key string.
#[derive(Default)]
pub struct KeyRing {
    keys: RwLock<HashMap<String, Arc<KeyRecord>>>,
}

impl KeyRing {
    /// Mints a new key of `kind` for `account` in `mode`, using `rng` for its random part.
    pub fn mint(&self, account: &str, mode: Mode, kind: KeyKind, rng: &mut impl Rng) -> String {
        let letter = match kind {
            KeyKind::Secret => "sk",
            KeyKind::Publishable => "pk",
            KeyKind::Restricted(_) => "rk",
        };
        // Real keys embed part of the account id after "51"; doing the same keeps keys of different accounts
        // visibly distinct in logs.
        let account_part: String = account
            .trim_start_matches("acct_")
            .chars()
            .take(14)
            .collect();
        let key = format!(
            "{letter}_{}_51{account_part}{}",
            mode.as_str(),
            random_alphanumeric(rng, 40)
        );
        let record = KeyRecord {
            key: key.clone(),
            account: account.to_string(),
            mode,
            kind,
            expired: AtomicBool::new(false),
        };
        self.keys
            .write()
            .expect("key ring lock poisoned")
            .insert(key.clone(), Arc::new(record));
        key
    }

    /// The record of `key`, if the emulator issued it.
    pub fn get(&self, key: &str) -> Option<Arc<KeyRecord>> {
        self.keys
            .read()
            .expect("key ring lock poisoned")
            .get(key)
            .cloned()
    }

    /// Marks `key` expired; false if it was never issued.
    pub fn expire(&self, key: &str) -> bool {
        match self.get(key) {
            Some(record) => {
                record.expired.store(true, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }
}

/// `n` random characters from `[0-9A-Za-z]`, the alphabet of Stripe ids and keys.
pub fn random_alphanumeric(rng: &mut impl Rng, n: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    (0..n)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_implies_read_and_documented_implications_chain() {
        let set = effective_permissions(&["rak_webhook_write", "balance_transaction_source_read"]);
        for expected in [
            "webhook_write",
            "webhook_read",
            "balance_read",
            "application_fee_read",
            "transfer_read",
            "payout_read",
        ] {
            assert!(set.contains(expected), "{expected} missing from {set:?}");
        }
        assert!(!set.contains("charge_read"));
    }

    #[test]
    fn guide_set_implies_product_and_source_read() {
        let set = effective_permissions(GUIDE_PERMISSIONS);
        assert!(set.contains("invoice_read"));
        assert!(set.contains("mandate_read"));
        assert!(!set.contains("customer_read"));
    }
}
