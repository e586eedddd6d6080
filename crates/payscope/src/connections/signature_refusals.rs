//! Deliveries refused for a bad signature, counted per connection in memory and written to the connection at most
//! once a minute, off the acknowledgement path: a flood of forged requests costs a map update each, not a write.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::store::{Store, unix_now};

/// At most one write per connection this often, whatever the rate of refusals; the first refusal after a quiet
/// minute is written at once.
pub const SIGNATURE_REFUSALS_WRITTEN_EVERY: Duration = Duration::from_secs(60);

/// The receiver's tally of signature refusals not yet written. Cheap to clone (shared inside).
#[derive(Debug, Clone)]
pub struct SignatureRefusals {
    store: Store,
    pending: Arc<Mutex<HashMap<String, Pending>>>,
}

/// One connection's refusals since its last write.
#[derive(Debug, Default)]
struct Pending {
    count: i64,
    last_at: i64,
    /// A write is scheduled; later refusals join it.
    scheduled: bool,
    written_at: Option<Instant>,
}

impl Pending {
    /// Counts one refusal at `at` (unix seconds), seen at `now`; when a write must be scheduled for it, how long from
    /// `now` it waits (none while one is scheduled already).
    fn count_one(&mut self, at: i64, now: Instant) -> Option<Duration> {
        self.count += 1;
        self.last_at = at;
        if self.scheduled {
            return None;
        }
        self.scheduled = true;
        Some(self.written_at.map_or(Duration::ZERO, |written| {
            SIGNATURE_REFUSALS_WRITTEN_EVERY.saturating_sub(now.saturating_duration_since(written))
        }))
    }

    /// The refusals counted since the last write and the time of the last one, for a write starting at `now`.
    fn take(&mut self, now: Instant) -> (i64, i64) {
        self.scheduled = false;
        self.written_at = Some(now);
        (std::mem::take(&mut self.count), self.last_at)
    }
}

impl SignatureRefusals {
    /// A tally writing to `store`.
    pub fn new(store: Store) -> Self {
        Self {
            store,
            pending: Arc::default(),
        }
    }

    /// Counts a delivery to `connection_id` refused because no signature matched its secrets. Never waits: the
    /// write runs in its own task, at once after a quiet minute, else when the minute since the last write is up.
    /// Call it only for connections that exist (the map holds one entry per connection).
    pub fn record(&self, connection_id: &str) {
        let wait = {
            let mut pending = self.pending.lock().expect("refusal tally poisoned");
            let entry = pending.entry(connection_id.to_owned()).or_default();
            entry.count_one(unix_now(), Instant::now())
        };
        let Some(wait) = wait else {
            return;
        };
        let (tally, connection_id) = (self.clone(), connection_id.to_owned());
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            tally.write(&connection_id).await;
        });
    }

    async fn write(&self, connection_id: &str) {
        let (count, last_at) = {
            let mut pending = self.pending.lock().expect("refusal tally poisoned");
            let Some(entry) = pending.get_mut(connection_id) else {
                return;
            };
            entry.take(Instant::now())
        };
        if let Err(error) = self
            .store
            .record_webhook_signature_refusals(connection_id, count, last_at)
            .await
        {
            tracing::warn!(connection = %connection_id, %error, count, "could not record refused webhook deliveries; the connection's health will not show them");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_is_written_at_once_then_once_a_minute_and_every_refusal_is_counted() {
        let start = Instant::now();
        let mut pending = Pending::default();
        assert_eq!(pending.count_one(100, start), Some(Duration::ZERO));
        for i in 0..999 {
            assert_eq!(
                pending.count_one(100 + i, start),
                None,
                "joins the scheduled write"
            );
        }
        assert_eq!(pending.take(start), (1_000, 1_098));
        let later = start + Duration::from_secs(10);
        assert_eq!(
            pending.count_one(200, later),
            Some(Duration::from_secs(50)),
            "the next write waits out the minute"
        );
        assert_eq!(pending.count_one(201, later), None);
        assert_eq!(pending.take(start + Duration::from_secs(60)), (2, 201));
        assert_eq!(
            pending.count_one(300, start + Duration::from_secs(500)),
            Some(Duration::ZERO),
            "after a quiet minute, at once"
        );
    }
}
