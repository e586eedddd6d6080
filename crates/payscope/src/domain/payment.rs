//! One charge attempt, normalised for analytics: the row every approval, decline, card and cost chart reads.

/// A charge attempt as the analytics see it. Derived from the stored Stripe JSON (never edited by hand), so it can
/// always be rebuilt. Amounts are in the currency's minor unit, as Stripe sends them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Payment {
    /// Stripe's charge id (`ch_…` / `py_…`).
    pub charge_id: String,
    /// When the attempt was made (unix seconds).
    pub created: i64,
    /// The version of the data this row reflects (event `created` or fetch time), for order-safe upserts.
    pub version: i64,
    /// Amount attempted.
    pub amount: i64,
    /// ISO currency, lowercase as Stripe sends it.
    pub currency: String,
    /// `succeeded`, `pending` or `failed` (open: other values are kept as sent).
    pub status: String,
    /// Whether the charge was captured.
    pub captured: bool,
    /// Amount refunded so far.
    pub amount_refunded: i64,
    /// Whether a dispute was opened.
    pub disputed: bool,
    /// `outcome.type` (authorized, issuer_declined, blocked, …).
    pub outcome_type: Option<String>,
    /// `outcome.network_status`.
    pub network_status: Option<String>,
    /// `outcome.reason` (the decline or risk reason).
    pub outcome_reason: Option<String>,
    /// `outcome.risk_level`.
    pub risk_level: Option<String>,
    /// `outcome.advice_code`.
    pub advice_code: Option<String>,
    /// `outcome.network_decline_code`.
    pub network_decline_code: Option<String>,
    /// `failure_code` (card_declined, expired_card, …).
    pub failure_code: Option<String>,
    /// The issuer's decline code (from the outcome reason on declines).
    pub decline_code: Option<String>,
    /// `payment_method_details.type` (card, sepa_debit, …).
    pub payment_method_type: Option<String>,
    /// Card brand.
    pub card_brand: Option<String>,
    /// Card funding: credit, debit, prepaid, unknown.
    pub card_funding: Option<String>,
    /// Issuing country (ISO-2).
    pub card_country: Option<String>,
    /// BIN / IIN; present only when Stripe has card details enabled for the account.
    pub card_iin: Option<String>,
    /// Issuing bank; present only when Stripe has card details enabled for the account.
    pub card_issuer: Option<String>,
    /// Wallet type (apple_pay, google_pay, …).
    pub wallet: Option<String>,
    /// 3-D Secure result (authenticated, attempt_acknowledged, …).
    pub three_d_secure: Option<String>,
    /// Stripe's fee, from the balance transaction.
    pub fee: Option<i64>,
    /// Net amount, from the balance transaction.
    pub net: Option<i64>,
    /// The payment intent this attempt belongs to.
    pub payment_intent_id: Option<String>,
    /// 1 for the intent's first attempt, 2 for its first retry, …
    pub attempt_number: Option<i64>,
    /// The customer charged.
    pub customer_id: Option<String>,
}
