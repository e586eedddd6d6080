//! Stripe's request rate limits: per account and mode (100/s live, 25/s test) and per endpoint (25/s), counted in
//! one-second windows.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use crate::keys::Mode;
use crate::settings::Settings;

/// Request counters for the current second, per account+mode and per account+mode+endpoint.
pub struct RateLimiter {
    origin: Instant,
    windows: Mutex<HashMap<String, (u64, u32)>>,
}

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter {
            origin: Instant::now(),
            windows: Mutex::new(HashMap::new()),
        }
    }
}

impl RateLimiter {
    /// Counts one request; `Err(reason)` (`global-rate` / `endpoint-rate`) if it exceeds a limit.
    ///
    /// A refused request still counts against the global window, as a client hammering Stripe keeps getting 429s.
    pub fn check(
        &self,
        settings: &Settings,
        account: &str,
        mode: Mode,
        endpoint: &str,
    ) -> Result<(), &'static str> {
        let second = self.origin.elapsed().as_secs();
        let global_limit = match mode {
            Mode::Live => settings.live_requests_per_second,
            Mode::Test => settings.test_requests_per_second,
        };
        let mut windows = self.windows.lock().expect("rate limiter lock poisoned");
        if windows.len() > 10_000 {
            windows.retain(|_, (window, _)| *window == second);
        }
        let global = count(&mut windows, format!("{account}:{}", mode.as_str()), second);
        if global > global_limit {
            return Err("global-rate");
        }
        let per_endpoint = count(
            &mut windows,
            format!("{account}:{}:{endpoint}", mode.as_str()),
            second,
        );
        if per_endpoint > settings.endpoint_requests_per_second {
            return Err("endpoint-rate");
        }
        Ok(())
    }
}

fn count(windows: &mut HashMap<String, (u64, u32)>, key: String, second: u64) -> u32 {
    let entry = windows.entry(key).or_insert((second, 0));
    if entry.0 != second {
        *entry = (second, 0);
    }
    entry.1 += 1;
    entry.1
}
