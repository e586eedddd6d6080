//! Generated Stripe account history (the "ledger"): compact records, deterministic generation from a seed, and
//! rendering to Stripe-shaped JSON. This is the contract between the data and the HTTP server.
//!
//! The server owns HTTP, auth, pagination windows and events; it asks the ledger for the list order of a type
//! ([`Ledger::newest_first`]), the `created` and id of a handle, filters ([`Ledger::field_matches`]) and the JSON
//! ([`Ledger::render`]). A *handle* is a `u32` naming one object of one type inside one ledger; it stays valid
//! for the ledger's life (objects are never deleted, only changed).
//!
//! **Architecture Invariant:** records are compact structs (small enums, `u32` indexes, `i64` amounts) and JSON
//! exists only while rendering, so a million charges fit in a few hundred MiB. Ids are computed from
//! (account, type, handle) and decoded back, never stored.
//!
//! **Architecture Invariant:** generation is a pure function of [`GenerateOptions`]; every random draw comes
//! from a seeded stream of our own generator (`rng`), never from the OS or from `rand`'s unstable `StdRng`.
//!
//! Modelling choices (where Stripe's behaviour is unknown or the fixtures are silent):
//! - The merchant is in the US and settles in USD: balance transactions and payouts are in `usd`; charges in
//!   eur, gbp, cad, aud, jpy or chf are converted at fixed rates and carry `exchange_rate`.
//! - Fees: 2.9% + 30¢ per charge, +1.5% for cards issued outside the US, +1% when converted; one
//!   `stripe_fee` in `fee_details`. Refunds return no fee. A dispute debits the amount plus a 15.00 fee;
//!   a won dispute reinstates both. Inquiries (`warning_*` statuses) move no money.
//! - Charge funds become available two days after the charge at 00:00 UTC; refunds and dispute debits at once.
//!   Automatic payouts run every three days at 02:00 UTC, paying out the net of everything available by then
//!   (skipped while that is not positive), and arrive two days later.
//! - Charges are card payments confirmed through payment intents (`capture_method: automatic_async`); pending
//!   charges have no balance transaction until they clear in a later activity burst.
//! - `charge.refunds` embeds the charge's refunds (the dahlia fixture has the key); `dispute.balance_transactions`
//!   embeds full balance transactions, as Stripe does.
//! - Report types are a fixed catalogue in catalogue order (Stripe does not paginate them); their `created` is
//!   their `updated` (the last UTC midnight).
//! - [`Ledger::recent_changes`] describes past changes but the server renders objects in their current state.

mod activity;
mod billing;
mod calendar;
mod cards;
mod catalog;
mod currencies;
mod declines;
mod filters;
mod generate;
mod history;
mod ids;
mod object_type;
mod payments;
mod payouts;
mod records;
mod refunds_disputes;
mod render;
mod rng;
mod truth;

pub use object_type::ObjectType;

use ids::{IdCodec, IdShape};
use records::*;

/// What to generate for one account; the same options always give the same ledger.
#[derive(Clone, Debug)]
pub struct GenerateOptions {
    /// The account the objects belong to (`acct_…`); ids are derived from it so two accounts never share ids.
    pub account_id: String,
    /// Seed of every random draw.
    pub seed: u64,
    /// Number of charges in the history (succeeded, failed and pending).
    pub charges: usize,
    /// Length of the history in days, ending at `now`.
    pub days: u32,
    /// Unix time the history ends at; nothing is created after it.
    pub now: i64,
}

impl GenerateOptions {
    /// Options with the defaults (400 days) for `charges` charges ending at `now`.
    pub fn new(
        account_id: impl Into<String>,
        seed: u64,
        charges: usize,
        now: i64,
    ) -> GenerateOptions {
        GenerateOptions {
            account_id: account_id.into(),
            seed,
            charges,
            days: 400,
            now,
        }
    }
}

/// How to render one object: the per-account and per-request switches that change Stripe's JSON.
#[derive(Clone, Copy, Debug, Default)]
pub struct RenderOptions<'a> {
    /// The account has Stripe's gated card fields (`iin`, `issuer`, `description`) enabled; when false they are
    /// rendered as `null`, as on ordinary accounts.
    pub card_details: bool,
    /// The value of `livemode` (the mode of the key that asked).
    pub livemode: bool,
    /// Expand paths relative to this object, e.g. `"balance_transaction"`, `"latest_charge.balance_transaction"`,
    /// `"source"`; the server strips the `data.` prefix of list requests before passing them.
    pub expand: &'a [String],
}

/// One state change of one object, from which the server makes an event (`type`, `data.object`,
/// `data.previous_attributes`).
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// Stripe's event type, e.g. `"charge.succeeded"`, `"charge.refunded"`, `"charge.dispute.created"`.
    pub event_type: String,
    /// The type of the event's `data.object`.
    pub object_type: ObjectType,
    /// The handle of the event's `data.object`.
    pub handle: u32,
    /// When the change happened (the event's `created`).
    pub created: i64,
    /// For `*.updated`-like events, the changed fields' values before the change.
    pub previous_attributes: Option<serde_json::Value>,
}

/// One Stripe account's objects, generated from a seed and changed by activity bursts. `Send + Sync`; the server
/// wraps it in a lock for [`Ledger::apply_activity`].
pub struct Ledger {
    account_id: String,
    seed: u64,
    codec: IdCodec,
    /// The clock of the latest generation or activity burst.
    now: i64,
    /// Start of the generated history.
    start: i64,
    /// Earliest `created` a new object may get (the start during generation, the previous clock + 1 during
    /// activity), so that new objects never appear in the past.
    floor: i64,
    /// Number of activity bursts applied so far (each draws from its own random stream).
    bursts: u64,
    customers: Vec<Customer>,
    payment_methods: Vec<PaymentMethod>,
    intents: Vec<PaymentIntent>,
    charges: Vec<Charge>,
    refunds: Vec<Refund>,
    disputes: Vec<Dispute>,
    balance_transactions: Vec<BalanceTransaction>,
    payouts: Vec<Payout>,
    setup_intents: Vec<SetupIntent>,
    products: Vec<Product>,
    subscriptions: Vec<Subscription>,
    credit_notes: Vec<CreditNote>,
    files: Vec<File>,
    report_runs: Vec<ReportRun>,
    /// Per type (indexed like [`ObjectType::ALL`]), handles in Stripe list order.
    order: Vec<Vec<u32>>,
    /// Balance transactions not yet paid out (payout balance transactions excluded).
    unpaid: Vec<u32>,
    /// When the next automatic payout runs.
    next_payout_at: i64,
}

/// A summary (account, clock, counts): the tables can hold millions of records.
impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Ledger");
        d.field("account_id", &self.account_id)
            .field("seed", &self.seed)
            .field("now", &self.now);
        for ty in ObjectType::ALL {
            d.field(ty.object_name(), &self.count(ty));
        }
        d.finish()
    }
}

/// The id shape of each object type (report types have fixed names instead).
fn shape(ty: ObjectType) -> IdShape {
    match ty {
        ObjectType::Charge => IdShape::new("ch_", "3", 24, 1),
        ObjectType::PaymentIntent => IdShape::new("pi_", "3", 24, 2),
        ObjectType::Refund => IdShape::new("re_", "3", 24, 3),
        ObjectType::Dispute => IdShape::new("dp_", "1", 24, 4),
        ObjectType::BalanceTransaction => IdShape::new("txn_", "3", 24, 5),
        ObjectType::Payout => IdShape::new("po_", "1", 24, 6),
        ObjectType::Customer => IdShape::new("cus_", "", 10, 7),
        ObjectType::PaymentMethod => IdShape::new("pm_", "1", 24, 8),
        ObjectType::SetupIntent => IdShape::new("seti_", "1", 24, 9),
        ObjectType::Product => IdShape::new("prod_", "", 14, 10),
        ObjectType::Subscription => IdShape::new("sub_", "1", 24, 11),
        ObjectType::CreditNote => IdShape::new("cn_", "1", 24, 12),
        ObjectType::File => IdShape::new("file_", "1", 24, 13),
        ObjectType::ReportType => IdShape::new("", "", 0, 14),
        ObjectType::ReportRun => IdShape::new("frr_", "1", 24, 15),
    }
}

impl Ledger {
    /// Generates the account's history; deterministic for (account_id, seed, charges, days, now).
    pub fn generate(opts: &GenerateOptions) -> Ledger {
        generate::generate(opts)
    }

    /// The account this ledger belongs to.
    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// The ledger's clock: the `now` of generation or of the latest activity burst.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// How many objects of type `ty` exist.
    pub fn count(&self, ty: ObjectType) -> usize {
        match ty {
            ObjectType::Charge => self.charges.len(),
            ObjectType::PaymentIntent => self.intents.len(),
            ObjectType::Refund => self.refunds.len(),
            ObjectType::Dispute => self.disputes.len(),
            ObjectType::BalanceTransaction => self.balance_transactions.len(),
            ObjectType::Payout => self.payouts.len(),
            ObjectType::Customer => self.customers.len(),
            ObjectType::PaymentMethod => self.payment_methods.len(),
            ObjectType::SetupIntent => self.setup_intents.len(),
            ObjectType::Product => self.products.len(),
            ObjectType::Subscription => self.subscriptions.len(),
            ObjectType::CreditNote => self.credit_notes.len(),
            ObjectType::File => self.files.len(),
            ObjectType::ReportType => catalog::REPORT_TYPES.len(),
            ObjectType::ReportRun => self.report_runs.len(),
        }
    }

    /// Handles of type `ty` in Stripe list order: `created` descending, ties by id descending.
    pub fn newest_first(&self, ty: ObjectType) -> &[u32] {
        &self.order[ty.index()]
    }

    /// The `created` of an object (report types, which have none, give their `updated`). Panics on a handle
    /// that is not below [`Ledger::count`].
    pub fn created(&self, ty: ObjectType, h: u32) -> i64 {
        let i = h as usize;
        match ty {
            ObjectType::Charge => self.charges[i].created,
            ObjectType::PaymentIntent => self.intents[i].created,
            ObjectType::Refund => self.refunds[i].created,
            ObjectType::Dispute => self.disputes[i].created,
            ObjectType::BalanceTransaction => self.balance_transactions[i].created,
            ObjectType::Payout => self.payouts[i].created,
            ObjectType::Customer => self.customers[i].created,
            ObjectType::PaymentMethod => self.payment_methods[i].created,
            ObjectType::SetupIntent => self.setup_intents[i].created,
            ObjectType::Product => self.products[i].created,
            ObjectType::Subscription => self.subscriptions[i].created,
            ObjectType::CreditNote => self.credit_notes[i].created,
            ObjectType::File => self.files[i].created,
            ObjectType::ReportType => self.report_types_updated(),
            ObjectType::ReportRun => self.report_runs[i].created,
        }
    }

    /// The Stripe id of an object, e.g. `ch_3…` (27 characters) or `balance.summary.1` for a report type.
    pub fn id(&self, ty: ObjectType, h: u32) -> String {
        match ty {
            ObjectType::ReportType => catalog::REPORT_TYPES[h as usize].id.to_string(),
            _ => self.codec.encode(shape(ty), h),
        }
    }

    /// The handle of the object of type `ty` whose id is `id`, if it exists in this ledger.
    pub fn lookup(&self, ty: ObjectType, id: &str) -> Option<u32> {
        let h = match ty {
            ObjectType::ReportType => catalog::REPORT_TYPES.iter().position(|t| t.id == id)? as u32,
            _ => self.codec.decode(shape(ty), id)?,
        };
        ((h as usize) < self.count(ty)).then_some(h)
    }

    /// The object as Stripe's JSON at API version 2026-07-29.dahlia, with `opts.expand` applied.
    pub fn render(&self, ty: ObjectType, h: u32, opts: &RenderOptions) -> serde_json::Value {
        render::render(self, ty, h, opts, 0)
    }

    /// Whether an object passes a list filter `filter=value` (e.g. charges `customer`, balance transactions
    /// `type`, subscriptions `status`). Unknown filters and values match nothing. For subscriptions, pass
    /// `status` = `""` for Stripe's default (every status except canceled) and `"all"` for everything.
    pub fn field_matches(&self, ty: ObjectType, h: u32, filter: &str, value: &str) -> bool {
        filters::matches(self, ty, h, filter, value)
    }

    /// Which list filters [`Ledger::field_matches`] understands for `ty`, so the server can reject others
    /// with Stripe's `parameter_unknown`.
    pub fn filters(ty: ObjectType) -> &'static [&'static str] {
        filters::supported(ty)
    }

    /// A burst of activity at `now`: `charges` new charges (with their intents, declines, 3DS and retries),
    /// some refunds and new disputes on recent charges, dispute status progressions and a payout when one is
    /// due, each with its balance transactions. Returns the changes in the order they happened. `now` must not
    /// be earlier than [`Ledger::now`]; an earlier value is treated as [`Ledger::now`].
    pub fn apply_activity(&mut self, charges: usize, now: i64) -> Vec<Change> {
        activity::apply(self, charges, now)
    }

    /// The historical state changes at or after `since`, oldest first (the server turns these into the last
    /// 30 days of events). Objects are rendered in their current state; `previous_attributes` hold the values
    /// before each change.
    pub fn recent_changes(&self, since: i64) -> Vec<Change> {
        history::changes_since(self, since)
    }

    /// Ground truth for tests and dashboards: per object type `count` and `amount_sum` (sum of the `amount`
    /// field where the type has one), and the same per UTC day (`YYYY-MM-DD`) of `created`.
    pub fn truth(&self) -> serde_json::Value {
        truth::truth(self)
    }

    /// The account's balance per currency as `(currency, available, pending)`: the net of every balance
    /// transaction, split by whether its `available_on` has passed (what `GET /v1/balance` shows). Payouts
    /// have already taken what they paid out. Settlement is in USD, so there is one entry.
    pub fn balance(&self) -> Vec<(&'static str, i64, i64)> {
        let (mut available, mut pending) = (0i64, 0i64);
        for t in &self.balance_transactions {
            if t.available_on <= self.now {
                available += t.amount - t.fee;
            } else {
                pending += t.amount - t.fee;
            }
        }
        vec![(
            currencies::CURRENCIES[currencies::SETTLEMENT].code,
            available,
            pending,
        )]
    }

    fn report_types_updated(&self) -> i64 {
        // Reports are refreshed daily: the data reaches up to the last UTC midnight before `now`.
        self.now - self.now.rem_euclid(86_400)
    }
}

#[cfg(test)]
mod tests;
