//! When to retry a request and how long to wait: exponential backoff with full jitter, `Retry-After` and
//! `Stripe-Should-Retry` honoured, attempts bounded.

use std::time::Duration;

use rand::Rng;

use crate::error::Error;

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

/// A failed attempt, with what the response said about retrying it.
#[derive(Debug)]
pub(crate) struct Failure {
    pub error: Error,
    pub retry_after: Option<Duration>,
    pub should_retry: Option<bool>,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure {
            error,
            retry_after: None,
            should_retry: None,
        }
    }
}

/// Runs `attempt` (given the attempt number, from 1) until it succeeds, fails for good, or the policy gives up;
/// sleeps on tokio's clock between attempts and logs each retry once (warn) with `label` and the request id.
pub(crate) async fn with_retries<T, F, Fut>(
    policy: &RetryPolicy,
    label: &str,
    mut attempt: F,
) -> Result<T, Error>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let mut number = 1;
    loop {
        let failure = match attempt(number).await {
            Ok(value) => return Ok(value),
            Err(failure) => failure,
        };
        let Failure {
            error,
            retry_after,
            should_retry,
        } = failure;
        if number >= policy.max_attempts || !is_retryable(error.status(), should_retry) {
            return Err(error);
        }
        let delay = match retry_after {
            Some(wait) if wait > policy.max_retry_after => return Err(error),
            Some(wait) => wait,
            None => policy.backoff(number - 1, &mut rand::thread_rng()),
        };
        tracing::warn!(
            request = label,
            attempt = number,
            status = ?error.status(),
            request_id = ?error.request_id(),
            delay_ms = delay.as_millis() as u64,
            error = %error,
            "retrying stripe request"
        );
        tokio::time::sleep(delay).await;
        number += 1;
    }
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

    fn unavailable(request: u32) -> Failure {
        Failure::from(Error::from_response(
            503,
            Some(format!("req_{request}")),
            None,
            "{}",
        ))
    }

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }

    /// Runs the retry loop against a script of per-attempt results, returning the result and the (virtual) instant
    /// of every attempt.
    async fn run_script(
        policy: &RetryPolicy,
        script: Vec<Result<u32, Failure>>,
    ) -> (Result<u32, Error>, Vec<tokio::time::Instant>) {
        let mut script = script.into_iter();
        let mut instants = Vec::new();
        let result = with_retries(policy, "GET /v1/charges", |_| {
            instants.push(tokio::time::Instant::now());
            let next = script.next().expect("attempted more often than scripted");
            async move { next }
        })
        .await;
        (result, instants)
    }

    fn gaps(instants: &[tokio::time::Instant]) -> Vec<Duration> {
        instants.windows(2).map(|w| w[1] - w[0]).collect()
    }

    #[tokio::test(start_paused = true)]
    #[allow(clippy::result_large_err)] // reason: a test script of results; size is irrelevant here
    async fn waits_stay_under_doubling_caps_and_attempts_are_bounded() {
        let script = (1..=4).map(|n| Err(unavailable(n))).collect();
        let (result, instants) = run_script(&policy(), script).await;
        let error = result.unwrap_err();
        assert_eq!(
            error.request_id(),
            Some("req_4"),
            "the last attempt's error is returned"
        );
        assert_eq!(instants.len(), 4);
        let caps = [1, 2, 4].map(Duration::from_secs);
        for (gap, cap) in gaps(&instants).iter().zip(caps) {
            assert!(*gap <= cap, "waited {gap:?}, cap {cap:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn mean_waits_double_with_each_retry() {
        let rounds = 300;
        let mut totals = [Duration::ZERO; 3];
        for _ in 0..rounds {
            let script = vec![
                Err(unavailable(1)),
                Err(unavailable(2)),
                Err(unavailable(3)),
                Ok(7),
            ];
            let (result, instants) = run_script(&policy(), script).await;
            assert_eq!(result.unwrap(), 7);
            for (total, gap) in totals.iter_mut().zip(gaps(&instants)) {
                *total += gap;
            }
        }
        // Full jitter over [0, cap] has mean cap/2: 0.5 s, 1 s, 2 s. 300 rounds keep the sample means within a
        // few percent, far inside these bounds.
        let means = totals.map(|t| (t / rounds).as_secs_f64());
        assert!((0.4..0.6).contains(&means[0]), "{means:?}");
        assert!((0.8..1.2).contains(&means[1]), "{means:?}");
        assert!((1.6..2.4).contains(&means[2]), "{means:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_sets_the_wait_exactly() {
        let limited = Failure {
            retry_after: Some(Duration::from_secs(7)),
            ..Failure::from(Error::from_response(429, None, None, "{}"))
        };
        let (result, instants) = run_script(&policy(), vec![Err(limited), Ok(1)]).await;
        assert_eq!(result.unwrap(), 1);
        assert_eq!(gaps(&instants), [Duration::from_secs(7)]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_after_beyond_the_maximum_ends_the_retries_at_once() {
        let maintenance = Failure {
            retry_after: Some(Duration::from_secs(3600)),
            ..unavailable(1)
        };
        let started = tokio::time::Instant::now();
        let (result, instants) = run_script(&policy(), vec![Err(maintenance)]).await;
        assert!(result.is_err());
        assert_eq!(instants.len(), 1);
        assert_eq!(started.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn stripe_should_retry_false_and_client_errors_end_the_retries_at_once() {
        let refused = Failure {
            should_retry: Some(false),
            ..unavailable(1)
        };
        let (result, instants) = run_script(&policy(), vec![Err(refused)]).await;
        assert!(result.is_err());
        assert_eq!(instants.len(), 1);
        let missing = Failure::from(Error::from_response(404, None, None, "{}"));
        let (result, instants) = run_script(&policy(), vec![Err(missing)]).await;
        assert_eq!(result.unwrap_err().status(), Some(404));
        assert_eq!(instants.len(), 1);
    }
}
