//! How payscope reaches Stripe for a connection: one HTTP connection pool per tokio runtime, one client per key, and
//! one rate limiter per Stripe account shared by every job that talks to that account (the add flow on the web
//! runtime; the import and the catch-up on the background runtime), so together they stay inside Stripe's limits.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use secrecy::ExposeSecret;
use stripe::{AccountLimiter, ApiKey, Client, LimiterConfig};

use crate::crypto::{CryptoError, MasterKey};
use crate::domain::connection::Connection;

/// Why no client could be made for a stored connection.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// The sealed key could not be opened.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The stored key no longer parses (it was edited outside payscope).
    #[error("the stored api key of this connection is not a stripe key: {0}")]
    Key(#[from] stripe::KeyError),
    /// The configured Stripe base URL is unusable.
    #[error(transparent)]
    Build(#[from] stripe::BuildError),
}

/// Makes Stripe clients. Cheap to clone; clones share the pool and the limiters. For another tokio runtime, make one
/// with [`StripeAccess::sharing_limiters_with`]: its own pool, the same limiters.
#[derive(Clone, Debug)]
pub struct StripeAccess {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    base_url: String,
    http: reqwest::Client,
    /// Keyed by the Stripe account id when known, else by the connection id. A process-local map is right here:
    /// it shapes traffic, it guards no data. Shared with every `StripeAccess` made by `sharing_limiters_with`.
    limiters: Arc<Mutex<HashMap<String, AccountLimiter>>>,
    /// The share of Stripe's limits to use, 1–100.
    share_percent: u32,
}

/// A pool of HTTP connections to Stripe.
fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(stripe::DEFAULT_CONNECT_TIMEOUT)
        .user_agent(concat!("payscope/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a reqwest client with only a timeout and a user agent always builds")
}

impl StripeAccess {
    /// Clients will talk to `base_url` (Stripe, or the emulator) and use `share_percent` of Stripe's limits.
    pub fn new(base_url: &str, share_percent: u32) -> Self {
        Self {
            inner: Arc::new(Inner {
                base_url: base_url.trim_end_matches('/').to_owned(),
                http: http_client(),
                limiters: Default::default(),
                share_percent,
            }),
        }
    }

    /// Access to the same Stripe with the same share, through its own HTTP pool but `other`'s rate limiters: for
    /// work on another tokio runtime (the background runtime of `payscope serve`). A pooled HTTP connection is
    /// driven by the runtime that opened it, so each runtime gets its own pool; the limiters are shared so that
    /// every request for one Stripe account still passes the same one.
    pub fn sharing_limiters_with(other: &StripeAccess) -> Self {
        Self {
            inner: Arc::new(Inner {
                base_url: other.inner.base_url.clone(),
                http: http_client(),
                limiters: other.inner.limiters.clone(),
                share_percent: other.inner.share_percent,
            }),
        }
    }

    /// A client for `key`, sharing the limiter of `limiter_key` (the Stripe account id, or a connection id before
    /// the account is known).
    pub fn client(&self, key: ApiKey, limiter_key: &str) -> Result<Client, AccessError> {
        let limiter = {
            let mut limiters = self.inner.limiters.lock().expect("limiter map poisoned");
            limiters
                .entry(limiter_key.to_owned())
                .or_insert_with(|| {
                    let config = LimiterConfig::with_share(key.mode(), self.inner.share_percent)
                        .unwrap_or_else(|_| LimiterConfig::for_mode(key.mode()));
                    AccountLimiter::new(config)
                })
                .clone()
        };
        Ok(Client::builder(key)
            .base_url(self.inner.base_url.clone())
            .http_client(self.inner.http.clone())
            .limiter(limiter)
            .build()?)
    }

    /// A client for a stored connection: opens its sealed key with the master key.
    pub fn client_for(
        &self,
        connection: &Connection,
        master_key: &MasterKey,
    ) -> Result<Client, AccessError> {
        let secret = master_key.open(
            &connection.api_key_sealed,
            &Connection::api_key_context(&connection.id),
        )?;
        let key = ApiKey::parse(secret.expose_secret())?;
        let limiter_key = connection
            .processor_account_id
            .clone()
            .unwrap_or_else(|| connection.id.clone());
        self.client(key, &limiter_key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limited(access: &StripeAccess) -> Vec<String> {
        let mut keys: Vec<String> = access
            .inner
            .limiters
            .lock()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    }

    #[test]
    fn access_for_another_runtime_shares_the_rate_limiters_but_not_the_http_pool() {
        let web = StripeAccess::new("http://127.0.0.1:9", 80);
        let background = StripeAccess::sharing_limiters_with(&web);
        let key = || ApiKey::parse("rk_test_sharedlimiter0001").unwrap();
        background.client(key(), "acct_1").unwrap();
        web.client(key(), "acct_2").unwrap();
        assert_eq!(limited(&web), ["acct_1", "acct_2"]);
        assert_eq!(limited(&background), ["acct_1", "acct_2"]);
        // The same limiter object, not two with the same budget: one account's requests are counted once.
        assert!(Arc::ptr_eq(&web.inner.limiters, &background.inner.limiters));
        let unrelated = StripeAccess::new("http://127.0.0.1:9", 80);
        assert!(limited(&unrelated).is_empty());
    }
}
