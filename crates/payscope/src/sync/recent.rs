//! Recent first across resources: until every recent range (the last month, see [`is_recent`]) of the resources
//! the dashboards read is stored, older history of those resources and the other resources wait, so the requests
//! the rate limit allows go to what the dashboard shows first instead of being shared by a hundred workers.
//!
//! Unfiltered resources (one range paged by one cursor) do not wait: they hold at most one request in flight, and
//! their cursor chain is often the longest of the import, so delaying it delays the end.

use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

use super::planner::is_recent;
use super::resources::{Resource, resource_named};
use crate::store::{Store, StoreResult};

/// How often the gate re-reads the ranges when no recent range reported finishing (a range finished by another
/// process, or the last one of a resource finished here).
const RECHECK: Duration = Duration::from_millis(250);

/// The gate of one import job. Shared by its workers; [`RecentGate::watch`] runs beside them until it opens.
#[derive(Debug)]
pub(super) struct RecentGate {
    requested_at: i64,
    open: watch::Sender<bool>,
    recheck: Notify,
}

impl RecentGate {
    /// A closed gate for a job requested at `requested_at` (the bands' reference time).
    pub(super) fn new(requested_at: i64) -> RecentGate {
        RecentGate {
            requested_at,
            open: watch::Sender::new(false),
            recheck: Notify::new(),
        }
    }

    /// Whether a worker of `resource` must wait before paging a range ending at `range_end` (before claiming,
    /// pass `None`: a resource that waits for every range waits before it claims).
    pub(super) fn holds(&self, resource: &Resource, range_end: Option<i64>) -> bool {
        if *self.open.borrow() || !resource.created_filter {
            return false;
        }
        if !resource.dashboard {
            return true;
        }
        range_end.is_some_and(|end| !is_recent(self.requested_at, end))
    }

    /// Whether the range is one the gate waits for.
    pub(super) fn is_first(&self, resource: &Resource, range_end: i64) -> bool {
        resource.dashboard && is_recent(self.requested_at, range_end)
    }

    /// Waits until the gate opens or `stop` is cancelled.
    pub(super) async fn wait(&self, stop: &CancellationToken) {
        let mut open = self.open.subscribe();
        tokio::select! {
            _ = stop.cancelled() => {}
            _ = open.wait_for(|open| *open) => {}
        }
    }

    /// Opens the gate at once (when the ranges cannot be read: order is a preference, never a reason to stop).
    pub(super) fn open_now(&self) {
        self.open.send_replace(true);
    }

    /// A recent dashboard range finished: re-read the ranges now rather than at the next poll.
    pub(super) fn range_finished(&self) {
        self.recheck.notify_one();
    }

    /// Opens the gate once no recent range of a dashboard resource of the job is open, reading the ranges at each
    /// [`RecentGate::range_finished`] and every [`RECHECK`]; returns when open or on `stop`.
    pub(super) async fn watch(
        &self,
        store: &Store,
        account_id: &str,
        job_id: &str,
        stop: &CancellationToken,
    ) -> StoreResult<()> {
        loop {
            let waiting_for = store
                .import_ranges(account_id, job_id)
                .await?
                .iter()
                .filter(|r| {
                    !r.done
                        && resource_named(&r.resource)
                            .is_some_and(|resource| self.is_first(resource, r.range_end))
                })
                .count();
            if waiting_for == 0 {
                self.open.send_replace(true);
                tracing::debug!(job = job_id, "recent ranges stored; older history starts");
                return Ok(());
            }
            tokio::select! {
                _ = stop.cancelled() => return Ok(()),
                _ = self.recheck.notified() => {}
                _ = tokio::time::sleep(RECHECK) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;
    const DAY: i64 = 86_400;

    fn named(name: &str) -> &'static Resource {
        resource_named(name).expect("a known resource")
    }

    #[test]
    fn a_closed_gate_holds_history_and_other_resources_but_not_recent_dashboard_ranges() {
        let gate = RecentGate::new(NOW);
        let charges = named("charges");
        assert!(
            !gate.holds(charges, Some(NOW + 1)),
            "the last day goes first"
        );
        assert!(!gate.holds(charges, Some(NOW - 29 * DAY)));
        assert!(
            gate.holds(charges, Some(NOW - 30 * DAY)),
            "older history waits"
        );
        assert!(
            !gate.holds(charges, None),
            "a dashboard worker claims (the newest range first) and decides per range"
        );
        let intents = named("payment_intents");
        assert!(gate.holds(intents, None));
        assert!(gate.holds(intents, Some(NOW + 1)));
        assert!(
            !gate.holds(named("payment_methods"), None),
            "an unfiltered resource is one cursor chain and never waits"
        );
        gate.open.send_replace(true);
        assert!(!gate.holds(charges, Some(NOW - 30 * DAY)));
        assert!(!gate.holds(intents, None));
    }

    #[test]
    fn the_gate_waits_only_for_recent_ranges_of_dashboard_resources() {
        let gate = RecentGate::new(NOW);
        assert!(gate.is_first(named("balance_transactions"), NOW - 2 * DAY));
        assert!(!gate.is_first(named("balance_transactions"), NOW - 31 * DAY));
        assert!(!gate.is_first(named("events"), NOW + 1));
    }
}
