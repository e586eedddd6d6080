//! How an emulator starts: how much history to generate for how many accounts, and the initial behaviour settings.

use crate::settings::DeliverySettings;

/// The API version accounts default to and payscope pins (fixtures3.json's version).
pub const DEFAULT_API_VERSION: &str = "2026-07-29.dahlia";

/// Start-up configuration of an [`crate::Emulator`].
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    /// Seed of the first account's history; account `i` uses `seed + i`.
    pub seed: u64,
    /// Charges generated per account.
    pub charges: usize,
    /// Days of history per account.
    pub days: u32,
    /// Number of accounts created at start.
    pub accounts: usize,
    /// Injected latency per `/v1/` request.
    pub latency_ms: u64,
    /// Extra random latency, uniform in `0..=latency_jitter_ms`.
    pub latency_jitter_ms: u64,
    /// New payments per minute per account, made in the background (0 = none).
    pub activity_per_minute: f64,
    /// Whether accounts start with the gated card fields (`iin`, `issuer`, `description`) enabled.
    pub card_details: bool,
    /// Whether `GET /v1/payment_methods` without `customer` lists every PaymentMethod of the account (the
    /// unverified alternative) instead of only Treasury ones, i.e. none of the generated cards (the spec's
    /// wording, the default). See the crate README, "Payment methods".
    pub payment_methods_list_all: bool,
    /// Whether Stripe's rate limits are enforced.
    pub rate_limits: bool,
    /// The accounts' default API version.
    pub api_version: String,
    /// "Now" for generation (unix seconds); `None` = the wall clock. History ends at this time.
    pub now: Option<i64>,
    /// Webhook delivery behaviour at start.
    pub delivery: DeliverySettings,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            seed: 1,
            charges: 2_000,
            days: 30,
            accounts: 1,
            latency_ms: 0,
            latency_jitter_ms: 0,
            activity_per_minute: 0.0,
            card_details: false,
            payment_methods_list_all: false,
            rate_limits: true,
            api_version: DEFAULT_API_VERSION.to_string(),
            now: None,
            delivery: DeliverySettings::default(),
        }
    }
}
