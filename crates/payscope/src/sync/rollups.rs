//! The rollup refresher: a background task that recomputes the daily rollups of the days writes marked
//! (store/rollups.rs), so dashboards read rollups for nearly every day and count only the few marked ones directly.
//! Every process that serves may run one: a day is claimed in the database, never by two refreshers at once.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::store::{RefreshCutoffs, Store, unix_now};

/// Days recomputed per call between checks of the shutdown token: a few hundred milliseconds of work.
const DAYS_PER_BATCH: i64 = 20;

/// Recomputes marked rollup days every `interval` until shut down.
pub struct RollupRefresher {
    store: Store,
    interval: Duration,
}

impl RollupRefresher {
    /// How often the refresher looks for marked days: short enough that a dashboard after a burst of writes
    /// finds them done, long enough that an import is not interrupted for every page it stores.
    pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(2);

    /// A refresher of `store`'s rollups, looking every `interval`.
    pub fn new(store: Store, interval: Duration) -> Self {
        RollupRefresher { store, interval }
    }

    /// Runs until `shutdown` is cancelled. A failed refresh is logged and retried on the next round: the marks
    /// stay until a refresh succeeds, and reads refresh their own period anyway.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            let started = std::time::Instant::now();
            while !shutdown.is_cancelled() {
                match self
                    .store
                    .refresh_marked_rollups(DAYS_PER_BATCH, RefreshCutoffs::at(unix_now()))
                    .await
                {
                    Ok(done) if done < DAYS_PER_BATCH as usize => break,
                    Ok(_) => tokio::task::yield_now().await,
                    Err(error) => {
                        tracing::warn!(%error, "refreshing payment rollups failed; retrying later");
                        break;
                    }
                }
            }
            // A busy account's days take long to recompute and are written again at once: pausing four times as
            // long as the work keeps the refresher under a fifth of a core. Reads stay exact meanwhile (they count
            // marked days from the stored rows).
            let pause = self.interval.max(started.elapsed() * 4);
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(pause) => {}
            }
        }
    }
}
