//! Recent first, longest next: where each of the import's requests stands in line for the Stripe account's global
//! budget ([`stripe::Priority`]) when more requests want it than it allows.
//!
//! 1. The recent ranges (the last month, see [`is_recent`]) of the resources the dashboards read go first, so the
//!    last days are on the dashboard within seconds.
//! 2. The longest lists next (see [`Resource::long`]), and lists paged by one cursor chain (a chain cannot use its
//!    endpoint's budget, so every wait lengthens it): each endpoint's own limit already paces them, and they decide
//!    when the import ends, so time they lose waiting behind shorter lists is time the whole import loses.
//! 3. The shorter lists take what is left. They are never starved: the lists above are each held to their
//!    endpoint's budget (25 req/s), below the account's 100.
//!
//! Nothing waits for anything: every resource starts at once, and the order only decides who goes first when the
//! budget is short. Within a resource, workers claim the newest range first (`claim_import_range_of`).

use stripe::Priority;

use super::planner::is_recent;
use super::resources::Resource;

/// The priority of a page of `resource` in the range ending at `range_end`, for an import requested at
/// `requested_at` (the recent bands' reference time).
pub(super) fn page_priority(resource: &Resource, requested_at: i64, range_end: i64) -> Priority {
    if resource.dashboard && is_recent(requested_at, range_end) {
        Priority::Recent
    } else if resource.long || !resource.created_filter {
        Priority::CriticalPath
    } else {
        Priority::Background
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::resources::resource_named;

    const NOW: i64 = 1_800_000_000;
    const DAY: i64 = 86_400;

    fn priority(name: &str, range_end: i64) -> Priority {
        page_priority(
            resource_named(name).expect("a known resource"),
            NOW,
            range_end,
        )
    }

    #[test]
    fn recent_dashboard_days_go_first_then_the_longest_lists_then_the_rest() {
        assert_eq!(priority("charges", NOW + 1), Priority::Recent);
        assert_eq!(priority("disputes", NOW - 29 * DAY), Priority::Recent);
        assert_eq!(
            priority("charges", NOW - 30 * DAY),
            Priority::CriticalPath,
            "older history of a long list"
        );
        assert_eq!(
            priority("payment_intents", NOW + 1),
            Priority::CriticalPath,
            "not on a dashboard, but long"
        );
        assert_eq!(
            priority("events", NOW + 1),
            Priority::Background,
            "30 days, shorter than all history of the long lists"
        );
        assert_eq!(
            priority("payment_methods", NOW + 1),
            Priority::CriticalPath,
            "one cursor chain"
        );
        assert_eq!(
            priority("refunds", NOW - 31 * DAY),
            Priority::Background,
            "older history of a short list"
        );
        assert_eq!(priority("products", NOW + 1), Priority::Background);
        assert!(
            Priority::Recent < Priority::Interactive,
            "live sync and people go before any import"
        );
    }
}
