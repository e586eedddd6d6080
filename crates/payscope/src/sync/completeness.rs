//! The completeness check, pure: a resource's finished ranges must tile its whole `created` interval, and per UTC
//! day the objects stored must equal the objects Stripe listed. Payment methods, which Stripe does not list in
//! full, have their own rule ([`check_payment_methods`]).

use serde::Serialize;

/// What the check found for one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    /// `matched` or `mismatched`.
    pub outcome: &'static str,
    /// A human summary: totals compared, or the first differences.
    pub detail: String,
}

impl CheckResult {
    /// Whether nothing is missing or extra.
    pub fn matched(&self) -> bool {
        self.outcome == "matched"
    }
}

/// Checks one resource. `ranges` are its ranges as `(start, end, done)`; `interval` is what the job imports;
/// `listed` and `stored` are `(day, count)` ascending.
pub fn check_resource(
    interval: (i64, i64),
    ranges: &[(i64, i64, bool)],
    listed: &[(i64, i64)],
    stored: &[(i64, i64)],
) -> CheckResult {
    let mut problems = range_problems(interval, ranges);
    let mut days: Vec<i64> = listed.iter().chain(stored).map(|d| d.0).collect();
    days.sort_unstable();
    days.dedup();
    for day in days {
        let (l, s) = (count_on(listed, day), count_on(stored, day));
        if l != s {
            problems.push(format!("{}: stripe listed {l}, stored {s}", day_name(day)));
        }
    }
    let listed_total: i64 = listed.iter().map(|d| d.1).sum();
    let stored_total: i64 = stored.iter().map(|d| d.1).sum();
    result(
        problems,
        format!(
            "{listed_total} listed and stored over {} days",
            listed.len()
        ),
        format!("listed {listed_total}, stored {stored_total}"),
    )
}

/// Checks the payment methods. `GET /v1/payment_methods` without `customer` lists only Treasury PaymentMethods
/// per Stripe's spec (or every one; unverified), so the import also takes them from the intents and customers
/// that name them. Complete means: the listing's ranges are finished, every PaymentMethod it listed is stored
/// (per day, stored ≥ listed), and every one named by an imported payment intent, setup intent or customer
/// (`named`, of which `missing` are not stored) is stored. PaymentMethods no imported object names (a card used
/// only by an earlier failed charge of an intent) are outside what Stripe lets a restricted key reach.
pub fn check_payment_methods(
    interval: (i64, i64),
    ranges: &[(i64, i64, bool)],
    listed: &[(i64, i64)],
    stored: &[(i64, i64)],
    (named, missing): (i64, i64),
) -> CheckResult {
    let mut problems = range_problems(interval, ranges);
    for &(day, l) in listed {
        let s = count_on(stored, day);
        if s < l {
            problems.push(format!("{}: stripe listed {l}, stored {s}", day_name(day)));
        }
    }
    if missing > 0 {
        problems.push(format!(
            "{missing} of the {named} payment methods named by imported intents and customers are not stored"
        ));
    }
    let listed_total: i64 = listed.iter().map(|d| d.1).sum();
    let stored_total: i64 = stored.iter().map(|d| d.1).sum();
    result(
        problems,
        format!(
            "{stored_total} stored: the {listed_total} listed by /v1/payment_methods and all {named} named by \
             imported payment intents, setup intents and customers"
        ),
        format!("listed {listed_total}, named {named}, stored {stored_total}"),
    )
}

fn count_on(list: &[(i64, i64)], day: i64) -> i64 {
    list.iter()
        .find(|d| d.0 == day)
        .map(|d| d.1)
        .unwrap_or_default()
}

fn result(problems: Vec<String>, matched: String, totals: String) -> CheckResult {
    if problems.is_empty() {
        return CheckResult {
            outcome: "matched",
            detail: matched,
        };
    }
    let shown: Vec<_> = problems.iter().take(5).cloned().collect();
    CheckResult {
        outcome: "mismatched",
        detail: format!(
            "{totals}; {}{}",
            shown.join("; "),
            if problems.len() > 5 {
                format!("; and {} more", problems.len() - 5)
            } else {
                String::new()
            }
        ),
    }
}

/// Gaps, overlaps and unfinished ranges: the ranges must tile `interval`, every one finished.
fn range_problems(interval: (i64, i64), ranges: &[(i64, i64, bool)]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut sorted: Vec<_> = ranges.to_vec();
    sorted.sort_by_key(|r| r.0);
    let mut expected_start = interval.0;
    for &(start, end, done) in &sorted {
        if start != expected_start {
            problems.push(format!(
                "ranges leave [{expected_start}, {start}) uncovered or overlap"
            ));
        }
        if !done {
            problems.push(format!("range [{start}, {end}) is not finished"));
        }
        expected_start = end;
    }
    if expected_start != interval.1 {
        problems.push(format!(
            "ranges end at {expected_start}, not at {}",
            interval.1
        ));
    }
    problems
}

/// A UTC day number as `YYYY-MM-DD` (civil-from-days, proleptic Gregorian).
pub fn day_name(day: i64) -> String {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(
        ranges: &[(i64, i64, bool)],
        listed: &[(i64, i64)],
        stored: &[(i64, i64)],
        expected: (&str, &str),
    ) {
        let result = check_resource((0, 100), ranges, listed, stored);
        assert_eq!((result.outcome, result.detail.as_str()), expected);
    }

    #[test]
    fn tiled_finished_ranges_with_equal_day_counts_match() {
        check(
            &[(50, 100, true), (0, 50, true)],
            &[(1, 3), (2, 4)],
            &[(1, 3), (2, 4)],
            ("matched", "7 listed and stored over 2 days"),
        );
    }

    #[test]
    fn gaps_unfinished_ranges_and_count_differences_are_named() {
        check(
            &[(0, 40, true), (50, 100, false)],
            &[(20_000, 3)],
            &[(20_000, 2), (20_001, 1)],
            (
                "mismatched",
                "listed 3, stored 3; ranges leave [40, 50) uncovered or overlap; range [50, 100) is not finished; 2024-10-04: stripe listed 3, stored 2; 2024-10-05: stripe listed 0, stored 1",
            ),
        );
        check(
            &[(0, 90, true)],
            &[],
            &[],
            (
                "mismatched",
                "listed 0, stored 0; ranges end at 90, not at 100",
            ),
        );
    }

    #[test]
    fn payment_methods_match_when_everything_listed_and_named_is_stored() {
        let whole = [(0, 100, true)];
        let matched = check_payment_methods((0, 100), &whole, &[], &[(1, 5)], (5, 0));
        assert_eq!(
            (matched.outcome, matched.detail.as_str()),
            (
                "matched",
                "5 stored: the 0 listed by /v1/payment_methods and all 5 named by imported payment intents, setup intents and customers"
            )
        );
        // More stored than listed on a day is expected (the rest came inside intents); fewer is not.
        assert!(check_payment_methods((0, 100), &whole, &[(1, 2)], &[(1, 5)], (5, 0)).matched());
        let short = check_payment_methods((0, 100), &whole, &[(1, 6)], &[(1, 5)], (5, 2));
        assert_eq!(
            (short.outcome, short.detail.as_str()),
            (
                "mismatched",
                "listed 6, named 5, stored 5; 1970-01-02: stripe listed 6, stored 5; 2 of the 5 payment methods named by imported intents and customers are not stored"
            )
        );
        assert!(!check_payment_methods((0, 100), &[(0, 100, false)], &[], &[], (0, 0)).matched());
    }

    #[test]
    fn day_numbers_print_as_utc_dates() {
        assert_eq!(day_name(0), "1970-01-01");
        assert_eq!(day_name(19_723), "2024-01-01");
        assert_eq!(day_name(20_819), "2027-01-01");
    }
}
