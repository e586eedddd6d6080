//! API keys: the key ring (every issued key with its account, mode and kind), restricted-key permissions with
//! Stripe's implications ("Write implies Read", …), key minting, and editing a key's permissions (the Dashboard's
//! "Edit key", which takes effect at once on later requests).

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
    /// `rk_…`: only what its permissions (closed under Stripe's implications) allow. The set is the one it was
    /// minted with; an edited key's current set is [`KeyRecord::permissions`].
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
    /// Secret, publishable or restricted (with its effective permissions as minted).
    pub kind: KeyKind,
    expired: AtomicBool,
    /// A restricted key's effective permissions now: the minted set until the key is edited.
    permissions: RwLock<BTreeSet<String>>,
}

impl fmt::Debug for KeyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRecord")
            .field("key", &"[redacted]")
            .field("account", &self.account)
            .field("mode", &self.mode)
            .field("kind", &self.kind)
            .field("permissions", &self.permissions())
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
            KeyKind::Restricted(_) => self
                .permissions
                .read()
                .expect("permission lock poisoned")
                .contains(permission),
        }
    }

    /// A restricted key's effective permissions now (empty for secret and publishable keys, which have none to edit).
    pub fn permissions(&self) -> BTreeSet<String> {
        self.permissions
            .read()
            .expect("permission lock poisoned")
            .clone()
    }

    /// Edits a restricted key's permissions as the Dashboard's "Edit key" does: `grant` and `revoke` name permissions
    /// with or without `rak_`; revoking `X_read` revokes `X_write` too (write implies read). The result is closed under
    /// Stripe's implications, so a revoked permission that another one still implies is refused: the error names it
    /// and what implies it, and nothing changes. Returns the new effective set.
    pub fn edit_permissions<S: AsRef<str>>(
        &self,
        grant: &[S],
        revoke: &[S],
    ) -> Result<BTreeSet<String>, EditError> {
        if !matches!(self.kind, KeyKind::Restricted(_)) {
            return Err(EditError::NotRestricted);
        }
        let mut permissions = self.permissions.write().expect("permission lock poisoned");
        let revoked: BTreeSet<String> = revoke
            .iter()
            .map(|p| p.as_ref().trim_start_matches("rak_").to_string())
            .collect();
        let kept: Vec<String> = permissions
            .iter()
            .filter(|p| {
                !revoked.contains(*p)
                    && !p
                        .strip_suffix("_write")
                        .is_some_and(|resource| revoked.contains(&format!("{resource}_read")))
            })
            .cloned()
            .chain(grant.iter().map(|p| p.as_ref().to_string()))
            .collect();
        let edited = effective_permissions(&kept);
        if let Some(still) = revoked.iter().find(|p| edited.contains(*p)) {
            let by = kept
                .iter()
                .filter(|k| *k != still && effective_permissions(&[k.as_str()]).contains(still))
                .cloned()
                .collect();
            return Err(EditError::StillImplied {
                permission: still.clone(),
                by,
            });
        }
        *permissions = edited.clone();
        Ok(edited)
    }
}

/// Why a key's permissions could not be edited.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// Only restricted keys have permissions to edit.
    #[error("only restricted keys (rk_…) have permissions to edit; secret keys may do everything")]
    NotRestricted,
    /// A revoked permission stays effective because a kept one implies it.
    #[error(
        "{permission} cannot be revoked while the key keeps {by:?}, which imply it; revoke those too"
    )]
    StillImplied {
        /// The permission asked to be revoked.
        permission: String,
        /// The kept permissions that imply it.
        by: Vec<String>,
    },
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
        let permissions = match &kind {
            KeyKind::Restricted(set) => set.clone(),
            KeyKind::Secret | KeyKind::Publishable => BTreeSet::new(),
        };
        let record = KeyRecord {
            key: key.clone(),
            account: account.to_string(),
            mode,
            kind,
            expired: AtomicBool::new(false),
            permissions: RwLock::new(permissions),
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

    fn guide_key() -> (KeyRing, String) {
        let ring = KeyRing::default();
        let key = ring.mint(
            "acct_1",
            Mode::Test,
            KeyKind::Restricted(effective_permissions(GUIDE_PERMISSIONS)),
            &mut rand::thread_rng(),
        );
        (ring, key)
    }

    #[test]
    fn an_edited_key_loses_a_revoked_permission_and_regains_it_when_granted() {
        let (ring, key) = guide_key();
        let record = ring.get(&key).unwrap();
        assert!(record.allows("dispute_read"));
        let set = record
            .edit_permissions::<&str>(&[], &["rak_dispute_read"])
            .unwrap();
        assert!(!set.contains("dispute_read"));
        assert!(!ring.get(&key).unwrap().allows("dispute_read"));
        assert!(record.allows("charge_read"), "only the revoked one goes");
        record
            .edit_permissions::<&str>(&["dispute_read"], &[])
            .unwrap();
        assert!(record.allows("dispute_read"));
    }

    #[test]
    fn revoking_read_revokes_write_and_an_implied_permission_cannot_be_revoked_alone() {
        let (ring, key) = guide_key();
        let record = ring.get(&key).unwrap();
        record
            .edit_permissions::<&str>(&[], &["webhook_read"])
            .unwrap();
        assert!(!record.allows("webhook_write") && !record.allows("webhook_read"));
        let refused = record.edit_permissions::<&str>(&[], &["balance_read"]);
        assert_eq!(
            refused,
            Err(EditError::StillImplied {
                permission: "balance_read".into(),
                by: vec!["balance_transaction_source_read".into()],
            })
        );
        assert!(
            record.allows("balance_read"),
            "a refused edit changes nothing"
        );
        record
            .edit_permissions::<&str>(&[], &["balance_read", "balance_transaction_source_read"])
            .unwrap();
        assert!(!record.allows("balance_read"));
        let secret = ring.mint(
            "acct_1",
            Mode::Test,
            KeyKind::Secret,
            &mut rand::thread_rng(),
        );
        assert_eq!(
            ring.get(&secret)
                .unwrap()
                .edit_permissions::<&str>(&[], &["charge_read"]),
            Err(EditError::NotRestricted)
        );
    }

    #[test]
    fn guide_set_implies_product_and_source_read() {
        let set = effective_permissions(GUIDE_PERMISSIONS);
        assert!(set.contains("invoice_read"));
        assert!(set.contains("mandate_read"));
        assert!(!set.contains("customer_read"));
    }
}
