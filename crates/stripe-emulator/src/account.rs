//! One emulated Stripe account: its generated ledger (behind a RwLock so reads run in parallel), its keys, webhook
//! endpoints, events and delivery log.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, RwLock};

use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::Serialize;
use serde_json::Value;

use crate::data::{Change, GenerateOptions, Ledger, RenderOptions};
use crate::delivery::DeliveryLog;
use crate::event_log::{EVENT_WINDOW_SECONDS, EventLog};
use crate::idempotency::IdempotencyStore;
use crate::keys::{
    GUIDE_PERMISSIONS, KeyKind, KeyRing, Mode, effective_permissions, random_alphanumeric,
};
use crate::webhook_endpoint::WebhookEndpoint;

/// The keys of one account, as `GET /_emulator/accounts` lists them.
#[derive(Clone, Serialize, PartialEq, Eq)]
pub struct AccountKeys {
    /// `acct_…`.
    pub id: String,
    /// Test-mode keys.
    pub test: ModeKeys,
    /// Live-mode keys.
    pub live: ModeKeys,
}

/// The ready-made keys of one mode.
#[derive(Clone, Serialize, PartialEq, Eq)]
pub struct ModeKeys {
    /// `sk_…`: full access.
    pub secret: String,
    /// `pk_…`: refused by every server endpoint.
    pub publishable: String,
    /// `rk_…` with exactly the guide's permission set ([`GUIDE_PERMISSIONS`]).
    pub restricted: String,
}

impl fmt::Debug for AccountKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountKeys")
            .field("id", &self.id)
            .field("test", &"[redacted]")
            .field("live", &"[redacted]")
            .finish()
    }
}

impl fmt::Debug for ModeKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ModeKeys([redacted])")
    }
}

impl ModeKeys {
    /// The keys of `mode` for `account`.
    pub fn mode(keys: &AccountKeys, mode: Mode) -> &ModeKeys {
        match mode {
            Mode::Test => &keys.test,
            Mode::Live => &keys.live,
        }
    }
}

/// What a new account is generated from.
#[derive(Clone, Debug)]
pub struct AccountSpec {
    /// History seed.
    pub seed: u64,
    /// Charges in the history.
    pub charges: usize,
    /// Days the history spans.
    pub days: u32,
    /// Gated card fields on.
    pub card_details: bool,
    /// `GET /v1/payment_methods` without `customer` lists every PaymentMethod (not only Treasury ones).
    pub payment_methods_list_all: bool,
    /// The account's default API version.
    pub api_version: String,
    /// End of the history (unix seconds).
    pub now: i64,
}

/// An emulated account.
pub struct Account {
    /// `acct_…`.
    pub id: String,
    /// Its ready-made keys.
    pub keys: AccountKeys,
    /// Default API version (used when a request sends no `Stripe-Version`, and for events).
    pub api_version: RwLock<String>,
    card_details: AtomicBool,
    payment_methods_list_all: AtomicBool,
    /// The generated history; writers are activity bursts, readers every API call.
    pub ledger: RwLock<Ledger>,
    /// Registered webhook endpoints of both modes, oldest first.
    pub webhook_endpoints: Mutex<Vec<WebhookEndpoint>>,
    /// Events of the last 30 days.
    pub events: RwLock<EventLog>,
    /// Webhook delivery attempts, newest last.
    pub deliveries: Mutex<DeliveryLog>,
    /// Saved results of POSTs sent with an `Idempotency-Key`.
    pub idempotency: IdempotencyStore,
}

impl Account {
    /// Generates an account's history (slow for big histories: call off the async runtime) and mints its keys.
    pub fn generate(spec: &AccountSpec, keyring: &KeyRing) -> Account {
        let mut rng = StdRng::seed_from_u64(spec.seed);
        let id = format!("acct_1{}", random_alphanumeric(&mut rng, 15));
        let ledger = Ledger::generate(&GenerateOptions {
            account_id: id.clone(),
            seed: spec.seed,
            charges: spec.charges,
            days: spec.days,
            now: spec.now,
        });
        let mut mode_keys = |mode: Mode| ModeKeys {
            secret: keyring.mint(&id, mode, KeyKind::Secret, &mut rng),
            publishable: keyring.mint(&id, mode, KeyKind::Publishable, &mut rng),
            restricted: keyring.mint(
                &id,
                mode,
                KeyKind::Restricted(effective_permissions(GUIDE_PERMISSIONS)),
                &mut rng,
            ),
        };
        let keys = AccountKeys {
            id: id.clone(),
            test: mode_keys(Mode::Test),
            live: mode_keys(Mode::Live),
        };
        let mut events = EventLog::new(spec.seed);
        let mut changes = ledger.recent_changes(spec.now - EVENT_WINDOW_SECONDS);
        changes.sort_by_key(|c| c.created);
        for change in changes {
            record_change(&mut events, &spec.api_version, change, None);
        }
        Account {
            id,
            keys,
            api_version: RwLock::new(spec.api_version.clone()),
            card_details: AtomicBool::new(spec.card_details),
            payment_methods_list_all: AtomicBool::new(spec.payment_methods_list_all),
            ledger: RwLock::new(ledger),
            webhook_endpoints: Mutex::new(Vec::new()),
            events: RwLock::new(events),
            deliveries: Mutex::new(DeliveryLog::default()),
            idempotency: IdempotencyStore::default(),
        }
    }

    /// Whether the gated card fields are served.
    pub fn card_details(&self) -> bool {
        self.card_details.load(Ordering::Relaxed)
    }

    /// Turns the gated card fields on or off (the per-account switch Stripe support flips).
    pub fn set_card_details(&self, enabled: bool) {
        self.card_details.store(enabled, Ordering::Relaxed);
    }

    /// Whether `GET /v1/payment_methods` without `customer` lists every PaymentMethod of the account; `false`
    /// (the spec's wording) lists only Treasury PaymentMethods there, of which the emulator has none.
    pub fn payment_methods_list_all(&self) -> bool {
        self.payment_methods_list_all.load(Ordering::Relaxed)
    }

    /// Switches between the two readings of `GET /v1/payment_methods` without `customer` (see
    /// [`Account::payment_methods_list_all`]); Stripe's real behaviour for non-Treasury accounts is unverified.
    pub fn set_payment_methods_list_all(&self, list_all: bool) {
        self.payment_methods_list_all
            .store(list_all, Ordering::Relaxed);
    }

    /// The account's default API version.
    pub fn default_version(&self) -> String {
        self.api_version
            .read()
            .expect("version lock poisoned")
            .clone()
    }

    /// Render options for an API response in `mode` with `expand`.
    pub fn render_options<'a>(&self, mode: Mode, expand: &'a [String]) -> RenderOptions<'a> {
        RenderOptions {
            card_details: self.card_details(),
            livemode: mode.is_live(),
            expand,
        }
    }

    /// Makes `charges` new payments now (with the ledger's usual declines, refunds and disputes) and records an
    /// event per change, each with a snapshot of its object; returns the new events' sequence numbers.
    pub fn apply_activity(&self, charges: usize, now: i64) -> Vec<u64> {
        let mut ledger = self.ledger.write().expect("ledger lock poisoned");
        let changes = ledger.apply_activity(charges, now);
        let version = self.default_version();
        let options = RenderOptions {
            card_details: self.card_details(),
            livemode: false,
            expand: &[],
        };
        let mut events = self.events.write().expect("event lock poisoned");
        events.prune(now - EVENT_WINDOW_SECONDS);
        changes
            .into_iter()
            .map(|change| {
                let snapshot = ledger.render(change.object_type, change.handle, &options);
                record_change(&mut events, &version, change, Some(snapshot))
            })
            .collect()
    }

    /// `data.object` of an event (as of the event, see [`EventLog::object_at`]) and the event's type.
    pub fn event_object(&self, seq: u64, livemode: bool) -> Option<(Value, String)> {
        // Lock order everywhere: ledger, then events (activity writes them in that order).
        let ledger = self.ledger.read().expect("ledger lock poisoned");
        let events = self.events.read().expect("event lock poisoned");
        let event = events.get(seq)?;
        let options = self.render_options(mode_of(livemode), &[]);
        let object = events.object_at(
            seq,
            || ledger.render(event.object_type, event.handle, &options),
            livemode,
        )?;
        Some((object, event.event_type.clone()))
    }

    /// The endpoint with `id`, if registered.
    pub fn endpoint(&self, id: &str) -> Option<WebhookEndpoint> {
        self.webhook_endpoints
            .lock()
            .expect("endpoint lock poisoned")
            .iter()
            .find(|e| e.id == id)
            .cloned()
    }
}

fn record_change(
    events: &mut EventLog,
    api_version: &str,
    change: Change,
    snapshot: Option<Value>,
) -> u64 {
    events.push(
        change.event_type,
        change.created,
        api_version.to_string(),
        change.object_type,
        change.handle,
        change.previous_attributes,
        snapshot,
    )
}

fn mode_of(livemode: bool) -> Mode {
    if livemode { Mode::Live } else { Mode::Test }
}
