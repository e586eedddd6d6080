//! The client-side rate limiter for one Stripe account: a global budget and a per-endpoint budget, shared by every
//! client that talks to that account, so a parallel import stays under Stripe's limits instead of collecting 429s.

use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::endpoint::endpoint_template;
use crate::key::Mode;
use crate::priority::{Priority, PriorityQueue};

/// Stripe's documented global limit in live mode, requests per second per account.
pub const STRIPE_LIVE_LIMIT: u32 = 100;
/// Stripe's documented global limit in test mode (sandboxes), requests per second per account.
pub const STRIPE_TEST_LIMIT: u32 = 25;
/// Stripe's documented per-endpoint limit, requests per second.
pub const STRIPE_ENDPOINT_LIMIT: u32 = 25;
/// The share of Stripe's limits used by default: 80% leaves room for the merchant's own integration.
pub const DEFAULT_SHARE_PERCENT: u32 = 80;

/// Budgets for one account, in requests per second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimiterConfig {
    /// All requests to the account together.
    pub global_per_second: u32,
    /// Requests to one endpoint (method + path template).
    pub endpoint_per_second: u32,
}

/// A budget above Stripe's own limit, which would only earn 429s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimiterConfigError {
    /// The share is 0 or above 100%.
    #[error("the rate-limit share must be between 1 and 100 percent of stripe's limits, not {0}")]
    Share(u32),
    /// A budget is 0 or above Stripe's limit for that mode.
    #[error(
        "a {what} budget of {value} req/s is outside 1..={max} req/s (stripe's own limit in {mode} mode)"
    )]
    Budget {
        /// `global` or `endpoint`.
        what: &'static str,
        /// The requested budget.
        value: u32,
        /// Stripe's limit.
        max: u32,
        /// The key's mode.
        mode: Mode,
    },
}

impl LimiterConfig {
    /// The default: 80% of Stripe's limits for the mode (80 req/s live or 20 req/s test globally; 20 req/s per
    /// endpoint).
    pub fn for_mode(mode: Mode) -> LimiterConfig {
        LimiterConfig::with_share(mode, DEFAULT_SHARE_PERCENT).expect("80% is a valid share")
    }

    /// `percent` of Stripe's limits for the mode, 1 to 100.
    pub fn with_share(mode: Mode, percent: u32) -> Result<LimiterConfig, LimiterConfigError> {
        if !(1..=100).contains(&percent) {
            return Err(LimiterConfigError::Share(percent));
        }
        let share = |limit: u32| (limit * percent / 100).max(1);
        Ok(LimiterConfig {
            global_per_second: share(global_limit(mode)),
            endpoint_per_second: share(STRIPE_ENDPOINT_LIMIT),
        })
    }

    /// Explicit budgets, refused when above Stripe's limits for the mode.
    pub fn new(
        mode: Mode,
        global_per_second: u32,
        endpoint_per_second: u32,
    ) -> Result<LimiterConfig, LimiterConfigError> {
        let check = |what, value, max| {
            if (1..=max).contains(&value) {
                Ok(())
            } else {
                Err(LimiterConfigError::Budget {
                    what,
                    value,
                    max,
                    mode,
                })
            }
        };
        check("global", global_per_second, global_limit(mode))?;
        check("endpoint", endpoint_per_second, STRIPE_ENDPOINT_LIMIT)?;
        Ok(LimiterConfig {
            global_per_second,
            endpoint_per_second,
        })
    }
}

fn global_limit(mode: Mode) -> u32 {
    match mode {
        Mode::Live => STRIPE_LIVE_LIMIT,
        Mode::Test => STRIPE_TEST_LIMIT,
    }
}

/// A handle on one account's budgets. Clone it into every [`crate::Client`] that uses the account (the import's
/// streams, live sync, the connection page) so they share one budget; clones share state.
#[derive(Clone)]
pub struct AccountLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    config: LimiterConfig,
    global: DefaultDirectRateLimiter,
    /// The line for `global`, so urgent requests are admitted first when it is the bottleneck.
    queue: PriorityQueue,
    endpoints: DefaultKeyedRateLimiter<String>,
}

impl std::fmt::Debug for AccountLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountLimiter")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl AccountLimiter {
    /// A limiter with the given budgets.
    pub fn new(config: LimiterConfig) -> AccountLimiter {
        AccountLimiter {
            inner: Arc::new(Inner {
                config,
                global: RateLimiter::direct(quota(config.global_per_second)),
                queue: PriorityQueue::default(),
                endpoints: RateLimiter::keyed(quota(config.endpoint_per_second)),
            }),
        }
    }

    /// A limiter with the default budgets for the mode.
    pub fn for_mode(mode: Mode) -> AccountLimiter {
        AccountLimiter::new(LimiterConfig::for_mode(mode))
    }

    /// The budgets.
    pub fn config(&self) -> LimiterConfig {
        self.inner.config
    }

    /// Waits (asynchronously, without holding any lock) until one request to this endpoint fits both budgets, as
    /// [`Priority::Interactive`].
    pub async fn until_ready(&self, method: &str, path: &str) {
        self.until_ready_with(method, path, Priority::Interactive)
            .await;
    }

    /// Waits until one request to this endpoint fits both budgets; while requests wait for the global budget,
    /// higher priorities are admitted first.
    pub async fn until_ready_with(&self, method: &str, path: &str, priority: Priority) {
        // The endpoint budget is taken first: a request that waits on its endpoint would otherwise hold a global
        // token it cannot use yet, starving other endpoints.
        let endpoint = endpoint_template(method, path);
        self.inner.endpoints.until_key_ready(&endpoint).await;
        self.inner.queue.admit(&self.inner.global, priority).await;
    }
}

/// A rate with a burst of a tenth of a second's budget: Stripe counts per second, and GCRA allows `burst + rate`
/// requests in any one-second window, so a full-second burst could briefly reach twice the budget.
fn quota(per_second: u32) -> Quota {
    let rate = NonZeroU32::new(per_second.max(1)).expect("at least 1");
    let burst = NonZeroU32::new(per_second.div_ceil(10).max(1)).expect("at least 1");
    Quota::per_second(rate).allow_burst(burst)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_eighty_percent_of_stripes_limits() {
        assert_eq!(
            LimiterConfig::for_mode(Mode::Live),
            LimiterConfig {
                global_per_second: 80,
                endpoint_per_second: 20
            }
        );
        assert_eq!(
            LimiterConfig::for_mode(Mode::Test),
            LimiterConfig {
                global_per_second: 20,
                endpoint_per_second: 20
            }
        );
    }

    #[test]
    fn budgets_can_reach_but_not_exceed_stripes_limits() {
        assert_eq!(
            LimiterConfig::with_share(Mode::Live, 100).unwrap(),
            LimiterConfig {
                global_per_second: 100,
                endpoint_per_second: 25
            }
        );
        assert!(LimiterConfig::with_share(Mode::Live, 101).is_err());
        assert!(LimiterConfig::with_share(Mode::Live, 0).is_err());
        assert!(LimiterConfig::new(Mode::Test, 25, 25).is_ok());
        assert!(LimiterConfig::new(Mode::Test, 26, 25).is_err());
        assert!(LimiterConfig::new(Mode::Live, 100, 26).is_err());
    }
}
