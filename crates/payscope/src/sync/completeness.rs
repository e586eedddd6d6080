//! The completeness check, pure: a resource's finished ranges must tile its whole `created` interval, and per UTC
//! day the objects stored must equal the objects Stripe listed.

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
    let mut days: Vec<i64> = listed.iter().chain(stored).map(|d| d.0).collect();
    days.sort_unstable();
    days.dedup();
    let count = |list: &[(i64, i64)], day: i64| {
        list.iter()
            .find(|d| d.0 == day)
            .map(|d| d.1)
            .unwrap_or_default()
    };
    for day in days {
        let (l, s) = (count(listed, day), count(stored, day));
        if l != s {
            problems.push(format!("{}: stripe listed {l}, stored {s}", day_name(day)));
        }
    }
    let listed_total: i64 = listed.iter().map(|d| d.1).sum();
    let stored_total: i64 = stored.iter().map(|d| d.1).sum();
    if problems.is_empty() {
        CheckResult {
            outcome: "matched",
            detail: format!(
                "{listed_total} listed and stored over {} days",
                listed.len()
            ),
        }
    } else {
        let shown: Vec<_> = problems.iter().take(5).cloned().collect();
        CheckResult {
            outcome: "mismatched",
            detail: format!(
                "listed {listed_total}, stored {stored_total}; {}{}",
                shown.join("; "),
                if problems.len() > 5 {
                    format!("; and {} more", problems.len() - 5)
                } else {
                    String::new()
                }
            ),
        }
    }
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
    fn day_numbers_print_as_utc_dates() {
        assert_eq!(day_name(0), "1970-01-01");
        assert_eq!(day_name(19_723), "2024-01-01");
        assert_eq!(day_name(20_819), "2027-01-01");
    }
}
