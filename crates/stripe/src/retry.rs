//! When to retry a request and how long to wait: exponential backoff with full jitter, `Retry-After` and
//! `Stripe-Should-Retry` honoured, attempts bounded.

use std::time::Duration;

use rand::Rng;

/// How persistent the client is. The defaults ride out a short Stripe hiccup or a burst of 429s within ~15 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts including the first; 1 disables retries.
    pub max_attempts: u32,
    /// The backoff cap before the first retry; doubled for each further retry.
    pub initial_backoff: Duration,
    /// The largest backoff cap.
    pub max_backoff: Duration,
    /// The longest `Retry-After` obeyed; a longer one ends the retries and returns the error, so a caller is never
    /// parked for minutes without knowing.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No retries at all: one attempt.
    pub fn never() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The backoff cap before retry number `retry` (0 = the first retry): `initial · 2^retry`, at most `max_backoff`.
    pub fn backoff_cap(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.min(30));
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }

    /// A full-jitter delay before retry number `retry`: uniform in `[0, backoff_cap(retry)]`, which spreads
    /// concurrent clients apart instead of having them retry in lockstep.
    pub fn backoff(&self, retry: u32, rng: &mut impl Rng) -> Duration {
        let cap = self.backoff_cap(retry);
        let nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rng.gen_range(0..=nanos))
    }
}

/// Whether a response or failure may be retried, by Stripe's rules: `Stripe-Should-Retry` wins when present;
/// otherwise network errors (`status` None), 409, 429 and 5xx are retried, and 400/401/403/404 never are.
pub fn is_retryable(status: Option<u16>, should_retry_header: Option<bool>) -> bool {
    if let Some(decision) = should_retry_header {
        return decision;
    }
    match status {
        None => true,
        Some(409 | 429) => true,
        Some(status) => status >= 500,
    }
}

/// Parses `Retry-After` given in seconds (integer or decimal). HTTP dates are not parsed: Stripe does not document
/// sending the header at all, and a date would need a clock agreement we cannot check.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let seconds: f64 = value.trim().parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn the_backoff_cap_doubles_from_the_initial_value_up_to_the_maximum() {
        let policy = RetryPolicy::default();
        let caps: Vec<u64> = (0..7)
            .map(|n| policy.backoff_cap(n).as_millis() as u64)
            .collect();
        assert_eq!(caps, [500, 1000, 2000, 4000, 8000, 8000, 8000]);
        assert_eq!(policy.backoff_cap(u32::MAX), Duration::from_secs(8));
    }

    #[test]
    fn full_jitter_stays_within_the_cap_and_spreads_over_it() {
        let policy = RetryPolicy::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let samples: Vec<Duration> = (0..2000).map(|_| policy.backoff(2, &mut rng)).collect();
        let cap = Duration::from_secs(2);
        assert!(samples.iter().all(|d| *d <= cap));
        assert!(samples.iter().any(|d| *d < cap / 10), "low end reached");
        assert!(
            samples.iter().any(|d| *d > cap * 9 / 10),
            "high end reached"
        );
    }

    #[test]
    fn retry_decisions_follow_stripes_rules() {
        let cases = [
            (None, None, true),
            (Some(409), None, true),
            (Some(429), None, true),
            (Some(500), None, true),
            (Some(503), None, true),
            (Some(400), None, false),
            (Some(401), None, false),
            (Some(403), None, false),
            (Some(404), None, false),
            (Some(503), Some(false), false),
            (Some(429), Some(false), false),
            (Some(400), Some(true), true),
            (None, Some(false), false),
        ];
        for (status, header, expected) in cases {
            assert_eq!(
                is_retryable(status, header),
                expected,
                "{status:?} {header:?}"
            );
        }
    }

    #[test]
    fn retry_after_accepts_seconds_and_ignores_other_forms() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after(" 1.5 "),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
