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
            entry.count += 1;
            entry.last_at = unix_now();
            if entry.scheduled {
                return;
            }
            entry.scheduled = true;
            entry.written_at.map_or(Duration::ZERO, |at| {
                SIGNATURE_REFUSALS_WRITTEN_EVERY.saturating_sub(at.elapsed())
            })
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
            entry.scheduled = false;
            entry.written_at = Some(Instant::now());
            (std::mem::take(&mut entry.count), entry.last_at)
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
