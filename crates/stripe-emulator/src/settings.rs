//! Runtime-switchable behaviour: injected latency, rate limits, faults and webhook-delivery switches. Read on every
//! request; changed through `POST /_emulator/settings` with a partial JSON object.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Everything about the emulator's behaviour that a test or demo may change while it runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Fixed delay added to every `/v1/` response.
    pub latency_ms: u64,
    /// Extra delay, uniform in `0..=latency_jitter_ms`, added on top of `latency_ms`.
    pub latency_jitter_ms: u64,
    /// Whether Stripe's rate limits are enforced.
    pub rate_limits: bool,
    /// Requests per second per account in live mode (Stripe: 100).
    pub live_requests_per_second: u32,
    /// Requests per second per account in test mode (Stripe: 25).
    pub test_requests_per_second: u32,
    /// Requests per second per endpoint (method + route) per account and mode (Stripe: 25).
    pub endpoint_requests_per_second: u32,
    /// Share of `/v1/` requests answered with a 500 `api_error` (0.0–1.0).
    pub error_rate: f64,
    /// Share of `/v1/` requests whose connection is cut before a complete response (0.0–1.0).
    pub reset_rate: f64,
    /// Share of `/v1/` requests answered with a 429 `lock_timeout` and `Stripe-Should-Retry: true` (0.0–1.0).
    pub lock_timeout_rate: f64,
    /// Webhook delivery behaviour.
    pub delivery: DeliverySettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            latency_ms: 0,
            latency_jitter_ms: 0,
            rate_limits: true,
            live_requests_per_second: 100,
            test_requests_per_second: 25,
            endpoint_requests_per_second: 25,
            error_rate: 0.0,
            reset_rate: 0.0,
            lock_timeout_rate: 0.0,
            delivery: DeliverySettings::default(),
        }
    }
}

/// How webhook deliveries are made, retried and disturbed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliverySettings {
    /// Attempts per event and endpoint, the first included (Stripe sandbox: "three times over a few hours").
    pub max_attempts: u32,
    /// Delay before the first retry; each later retry waits `retry_factor` times longer.
    pub retry_base_ms: u64,
    /// Growth factor of the retry delay.
    pub retry_factor: u32,
    /// How long a receiver may take to answer before the attempt counts as failed.
    pub timeout_ms: u64,
    /// Share of deliveries sent twice (0.0–1.0), as Stripe's at-least-once delivery sometimes does.
    pub duplicate_rate: f64,
    /// Delay each delivery by a random time in `0..reorder_window_ms`, so deliveries arrive out of order.
    pub reorder: bool,
    /// The window used by `reorder`.
    pub reorder_window_ms: u64,
    /// Fixed delay before every first attempt.
    pub delay_ms: u64,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        DeliverySettings {
            max_attempts: 4,
            retry_base_ms: 1_000,
            retry_factor: 5,
            timeout_ms: 10_000,
            duplicate_rate: 0.0,
            reorder: false,
            reorder_window_ms: 2_000,
            delay_ms: 0,
        }
    }
}

/// Why a settings change was refused.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The patch is not an object of known settings with values of the right type.
    #[error("invalid settings: {0}; send a JSON object with fields of GET /_emulator/settings")]
    Invalid(#[from] serde_json::Error),
    /// A rate is outside 0.0–1.0.
    #[error("invalid settings: {0} must be between 0.0 and 1.0")]
    RateOutOfRange(&'static str),
}

impl Settings {
    /// The settings with `patch` (a partial JSON object, nested for `delivery`) merged in.
    pub fn patched(&self, patch: &Value) -> Result<Settings, SettingsError> {
        let mut merged = serde_json::to_value(self)?;
        merge(&mut merged, patch);
        let settings: Settings = serde_json::from_value(merged)?;
        for (name, rate) in [
            ("error_rate", settings.error_rate),
            ("reset_rate", settings.reset_rate),
            ("lock_timeout_rate", settings.lock_timeout_rate),
            ("delivery.duplicate_rate", settings.delivery.duplicate_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(SettingsError::RateOutOfRange(name));
            }
        }
        Ok(settings)
    }
}

fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                merge(target.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_partial_patch_changes_only_what_it_names() {
        let settings = Settings::default()
            .patched(&json!({"error_rate": 0.5, "delivery": {"reorder": true}}))
            .unwrap();
        assert_eq!(settings.error_rate, 0.5);
        assert!(settings.delivery.reorder);
        assert_eq!(settings.delivery.max_attempts, 4);
        assert!(settings.rate_limits);
    }

    #[test]
    fn unknown_fields_and_bad_rates_are_refused() {
        assert!(
            Settings::default()
                .patched(&json!({"eror_rate": 0.5}))
                .is_err()
        );
        assert!(
            Settings::default()
                .patched(&json!({"reset_rate": 2.0}))
                .is_err()
        );
    }
}
