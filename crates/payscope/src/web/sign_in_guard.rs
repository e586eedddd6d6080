//! Guards the password check, beside the per-email lock of failed sign-ins (store `login_failures`): that lock
//! stops guessing one account's password, but not one client trying a common password on many emails, and every
//! attempt costs tens of milliseconds of argon2 CPU on a machine that also acknowledges webhooks.
//!
//! So each client address gets a budget of sign-in attempts (governor's GCRA, refilled steadily), and at most
//! [`VERIFYING_AT_ONCE`] password checks run at a time: a flood of sign-ins queues behind them instead of taking
//! every core.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::Semaphore;

/// Sign-in attempts one client address may make at once, before the steady refill applies.
pub const ATTEMPTS_PER_ADDRESS: u32 = 20;

/// How often a client address regains one attempt: 120 an hour once its first budget is spent.
pub const ATTEMPT_REFILL: Duration = Duration::from_secs(30);

/// Password checks (argon2id) running at once; the rest wait their turn.
pub const VERIFYING_AT_ONCE: usize = 1;

/// Client addresses remembered before those whose budget is full again are forgotten.
const REMEMBERED_ADDRESSES: usize = 10_000;

/// The sign-in budget of client addresses and the queue of password checks, shared by every request.
#[derive(Debug, Clone)]
pub struct SignInGuard {
    per_address: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    verifying: Arc<Semaphore>,
}

impl Default for SignInGuard {
    fn default() -> Self {
        let quota = Quota::with_period(ATTEMPT_REFILL)
            .expect("the refill period is not zero")
            .allow_burst(NonZeroU32::new(ATTEMPTS_PER_ADDRESS).expect("the budget is not zero"));
        Self {
            per_address: Arc::new(RateLimiter::keyed(quota)),
            verifying: Arc::new(Semaphore::new(VERIFYING_AT_ONCE)),
        }
    }
}

impl SignInGuard {
    /// Spends one attempt of `address`'s budget; `Err` carries how long until the next one is allowed. A request
    /// without a known address (not served over TCP) is not limited here.
    pub fn admit(&self, address: Option<IpAddr>) -> Result<(), Duration> {
        let Some(address) = address else {
            return Ok(());
        };
        if self.per_address.len() > REMEMBERED_ADDRESSES {
            self.per_address.retain_recent();
        }
        self.per_address
            .check_key(&address)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Runs the password check `check` off the async workers, when its turn comes.
    pub async fn verify(
        &self,
        check: impl FnOnce() -> bool + Send + 'static,
    ) -> Result<bool, tokio::task::JoinError> {
        // The semaphore is never closed, so a permit always comes.
        let _turn = self.verifying.acquire().await;
        tokio::task::spawn_blocking(check).await
    }
}

/// The client's address as the TCP connection gives it, `None` when the app is not served over TCP. Behind a
/// reverse proxy it is the proxy's address, so every client shares one budget: [`ATTEMPTS_PER_ADDRESS`] is sized
/// for a team's sign-ins, not a crowd's.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0.ip()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_budget_then_waits_and_others_are_not_affected() {
        let guard = SignInGuard::default();
        let busy: IpAddr = "203.0.113.7".parse().unwrap();
        for _ in 0..ATTEMPTS_PER_ADDRESS {
            assert!(guard.admit(Some(busy)).is_ok());
        }
        let wait = guard.admit(Some(busy)).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= ATTEMPT_REFILL, "{wait:?}");
        assert!(guard.admit(Some("203.0.113.8".parse().unwrap())).is_ok());
        assert!(guard.admit(None).is_ok());
    }
}
