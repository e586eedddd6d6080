//! The pure planner of the import: which `created` ranges to start with, and after each page what comes next for
//! its range — finished, the next page, or the next page plus new ranges split off the part not yet listed.
//!
//! Splitting follows the time-range subdivision of Stripe's own sync engine v2 (prior-art.md §2.2), with one
//! change: instead of cutting the rest of a range into equal parts, the parts are sized from the density the page
//! just revealed (a page of 100 objects spanning `s` seconds predicts the next `s` seconds hold about one page),
//! and the oldest part keeps everything left to the range's start. Equal cuts of a range that starts in 2011 put
//! the whole history into the last part; density-sized parts put the work where the objects are, and the tail
//! costs one empty page if history is shorter than predicted. A range keeps paging with its cursor through the
//! slice just below its page, so a split never re-lists anything and costs no extra request.

/// The earliest `created` the import asks for: Stripe went live in 2011, so nothing is older.
pub const HISTORY_START: i64 = 1_293_840_000; // 2011-01-01T00:00:00Z

/// Tuning of the split rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannerConfig {
    /// How many unfinished ranges one resource should have: enough requests in flight to use the endpoint's rate
    /// limit at the observed latency.
    pub target_ranges: usize,
    /// A range is not split below this many predicted pages per part: every range ends with a partial page, so
    /// tiny ranges waste requests.
    pub min_pages_per_range: i64,
    /// Parts are at most this many predicted pages, so a wrong prediction is corrected soon.
    pub max_pages_per_range: i64,
}

impl Default for PlannerConfig {
    fn default() -> Self {
        PlannerConfig {
            target_ranges: 10,
            min_pages_per_range: 4,
            max_pages_per_range: 50,
        }
    }
}

/// What one fetched page showed about its range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageSummary {
    /// Objects on the page.
    pub count: usize,
    /// Stripe's `has_more`.
    pub has_more: bool,
    /// `created` of the page's first (newest) object.
    pub newest_created: Option<i64>,
    /// `created` of the page's last (oldest) object.
    pub oldest_created: Option<i64>,
    /// Id of the page's last object: the cursor for the next page.
    pub last_id: Option<String>,
}

/// What to do after a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Every object of the range is stored.
    Done,
    /// Fetch the next page of `[new_start, end)` after `cursor`; `split_off` are new ranges covering
    /// `[old start, new_start)` exactly, newest first.
    Continue {
        /// The range's lower bound from now on.
        new_start: i64,
        /// `starting_after` for the next page.
        cursor: String,
        /// `created` of the cursor object.
        cursor_created: i64,
        /// New ranges `[start, end)`, newest first.
        split_off: Vec<(i64, i64)>,
    },
}

/// The first range of a resource for an import requested at `now`: all history (or the last `window_days`),
/// up to and including `now`.
pub fn initial_range(now: i64, window_days: Option<i64>) -> (i64, i64) {
    let start = window_days.map_or(HISTORY_START, |days| now - days * 86_400);
    (start, now + 1)
}

/// The recent days the dashboards show first, as the bands the first ranges are cut at (days before the import
/// was requested, ascending). The last band's edge is also where "recent" ends for [`is_recent`].
pub const RECENT_BANDS_DAYS: [i64; 3] = [1, 7, 30];

/// The first ranges of a resource, newest first: [`initial_range`] cut at [`RECENT_BANDS_DAYS`] (the edges inside
/// it), so the last day, the last week and the last month are separate ranges from the start. Workers claim the
/// newest range first and each range is paged in parallel, so the recent days never wait behind one range paging
/// down through older history.
pub fn initial_ranges(now: i64, window_days: Option<i64>) -> Vec<(i64, i64)> {
    let (start, end) = initial_range(now, window_days);
    let mut ranges = Vec::with_capacity(RECENT_BANDS_DAYS.len() + 1);
    let mut high = end;
    for days in RECENT_BANDS_DAYS {
        let edge = now - days * 86_400;
        if edge > start && edge < high {
            ranges.push((edge, high));
            high = edge;
        }
    }
    ranges.push((start, high));
    ranges
}

/// Whether a range of an import requested at `requested_at` lies (partly) within the recent days: the ranges a
/// dashboard needs first. Ranges are cut at the bands' edges, so a range is either recent or entirely older.
pub fn is_recent(requested_at: i64, range_end: i64) -> bool {
    let cutoff = requested_at - RECENT_BANDS_DAYS[RECENT_BANDS_DAYS.len() - 1] * 86_400;
    range_end > cutoff
}

/// The plan after a page of the range `[start, end)`. `splittable` is false for endpoints without a `created`
/// filter; `open_ranges` counts the resource's unfinished ranges, this one included.
pub fn plan_after_page(
    config: &PlannerConfig,
    (start, _end): (i64, i64),
    splittable: bool,
    page: &PageSummary,
    open_ranges: usize,
) -> Plan {
    let (Some(cursor), Some(oldest), true) = (&page.last_id, page.oldest_created, page.has_more)
    else {
        // A page without has_more ends the range. (A page with has_more but no objects gives no cursor to go on;
        // Stripe never sends one, and there is nothing to resume from.)
        return Plan::Done;
    };
    let continue_from = |new_start: i64, split_off: Vec<(i64, i64)>| Plan::Continue {
        new_start,
        cursor: cursor.clone(),
        cursor_created: oldest,
        split_off,
    };
    let wanted = config.target_ranges.saturating_sub(open_ranges);
    let remaining = oldest - start;
    if !splittable || wanted == 0 || remaining <= 0 {
        return continue_from(start, Vec::new());
    }
    // Seconds one page of objects spans here; at least one, as `created` has whole-second resolution.
    let newest = page.newest_created.unwrap_or(oldest);
    let per_page = ((newest - oldest + 1) * 100 / page.count.max(1) as i64).max(1);
    let predicted_pages = (remaining + per_page - 1) / per_page;
    if predicted_pages < 2 * config.min_pages_per_range {
        return continue_from(start, Vec::new());
    }
    let pages_each = (predicted_pages / (wanted as i64 + 1))
        .clamp(config.min_pages_per_range, config.max_pages_per_range);
    let width = pages_each * per_page;
    let new_start = oldest - width;
    if new_start <= start {
        return continue_from(start, Vec::new());
    }
    let mut split_off = Vec::new();
    let mut high = new_start;
    for part in 0..wanted {
        let low = if part + 1 == wanted {
            start
        } else {
            (high - width).max(start)
        };
        split_off.push((low, high));
        if low == start {
            break;
        }
        high = low;
    }
    continue_from(new_start, split_off)
}

/// Share of a set of ranges' total width already listed, 0.0–1.0: a finished range counts whole, a range being
/// paged counts from its cursor to its end.
pub fn covered_share(ranges: &[(i64, i64, Option<i64>, bool)]) -> f64 {
    let total: i64 = ranges.iter().map(|&(s, e, _, _)| e - s).sum();
    if total <= 0 {
        return 1.0;
    }
    let covered: i64 = ranges
        .iter()
        .map(
            |&(start, end, cursor_created, done)| match (done, cursor_created) {
                (true, _) => end - start,
                (false, Some(at)) => (end - at).clamp(0, end - start),
                (false, None) => 0,
            },
        )
        .sum();
    covered as f64 / total as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(count: usize, has_more: bool, newest: i64, oldest: i64) -> PageSummary {
        PageSummary {
            count,
            has_more,
            newest_created: Some(newest),
            oldest_created: Some(oldest),
            last_id: Some("ch_last".into()),
        }
    }

    const CONFIG: PlannerConfig = PlannerConfig {
        target_ranges: 4,
        min_pages_per_range: 2,
        max_pages_per_range: 10,
    };

    struct Case {
        name: &'static str,
        range: (i64, i64),
        splittable: bool,
        page: PageSummary,
        open: usize,
        expected: Plan,
    }

    fn go_on(new_start: i64, cursor_created: i64, split_off: &[(i64, i64)]) -> Plan {
        Plan::Continue {
            new_start,
            cursor: "ch_last".into(),
            cursor_created,
            split_off: split_off.to_vec(),
        }
    }

    fn check(case: Case) {
        let plan = plan_after_page(&CONFIG, case.range, case.splittable, &case.page, case.open);
        assert_eq!(plan, case.expected, "{}", case.name);
        if let Plan::Continue {
            new_start,
            split_off,
            ..
        } = &plan
        {
            // The split parts and the continuing range tile the old range exactly: no gap, no overlap.
            let mut edges = vec![(*new_start, case.range.1)];
            edges.extend(split_off.iter().copied());
            for pair in edges.windows(2) {
                assert_eq!(pair[0].0, pair[1].1, "{}: parts must touch", case.name);
            }
            assert_eq!(
                edges.last().unwrap().0,
                case.range.0,
                "{}: the oldest part reaches the range's start",
                case.name
            );
            assert!(
                edges.iter().all(|(s, e)| s < e),
                "{}: empty part",
                case.name
            );
        }
    }

    #[test]
    fn pages_decide_whether_a_range_ends_continues_or_splits() {
        let cases = [
            Case {
                name: "a last page ends the range",
                range: (0, 1000),
                splittable: true,
                page: page(40, false, 900, 100),
                open: 1,
                expected: Plan::Done,
            },
            Case {
                name: "an empty range ends at once",
                range: (0, 1000),
                splittable: true,
                page: PageSummary {
                    count: 0,
                    has_more: false,
                    newest_created: None,
                    oldest_created: None,
                    last_id: None,
                },
                open: 1,
                expected: Plan::Done,
            },
            Case {
                name: "a resource without a created filter only pages",
                range: (0, 1_000_000),
                splittable: false,
                page: page(100, true, 999_999, 999_990),
                open: 1,
                expected: go_on(0, 999_990, &[]),
            },
            Case {
                name: "enough open ranges already: only page",
                range: (0, 1_000_000),
                splittable: true,
                page: page(100, true, 999_999, 999_990),
                open: 4,
                expected: go_on(0, 999_990, &[]),
            },
            Case {
                name: "too little predicted work left to be worth a split",
                range: (999_960, 1_000_000),
                splittable: true,
                page: page(100, true, 999_999, 999_990),
                open: 1,
                expected: go_on(999_960, 999_990, &[]),
            },
            Case {
                // 100 objects over 10 s: one page per 10 s; 999 990 s left predicts ~100 000 pages, so parts are
                // capped at 10 pages (100 s); three new ranges, the last one keeping the whole tail.
                name: "a dense page over a long history splits into density-sized parts and a tail",
                range: (0, 1_000_000),
                splittable: true,
                page: page(100, true, 999_999, 999_990),
                open: 1,
                expected: go_on(
                    999_890,
                    999_990,
                    &[(999_790, 999_890), (999_690, 999_790), (0, 999_690)],
                ),
            },
            Case {
                // 600 s left at one page per 10 s: 60 pages over 1 + 1 ranges = 30 each, capped at 10 → 100 s.
                name: "one missing range gets one part, which keeps the tail",
                range: (999_390, 1_000_000),
                splittable: true,
                page: page(100, true, 999_999, 999_990),
                open: 3,
                expected: go_on(999_890, 999_990, &[(999_390, 999_890)]),
            },
            Case {
                // 80 s left at one page per 10 s: 8 pages; 4 wanted + this one → 1.6 each, raised to the minimum
                // of 2 pages (20 s); the parts reach the start before all wanted ranges are made.
                name: "parts stop at the range start",
                range: (999_910, 1_000_000),
                splittable: true,
                page: page(100, true, 999_999, 999_990),
                open: 0,
                expected: go_on(
                    999_970,
                    999_990,
                    &[(999_950, 999_970), (999_930, 999_950), (999_910, 999_930)],
                ),
            },
            Case {
                // Every object in one second: a page spans one second, so one predicted page per second; 50 pages
                // over two ranges is 25 each, capped at 10.
                name: "objects sharing one second still split by seconds",
                range: (0, 100),
                splittable: true,
                page: page(100, true, 50, 50),
                open: 3,
                expected: go_on(40, 50, &[(0, 40)]),
            },
            Case {
                name: "the cursor at the range start leaves nothing to split",
                range: (500, 1000),
                splittable: true,
                page: page(100, true, 600, 500),
                open: 1,
                expected: go_on(500, 500, &[]),
            },
        ];
        for case in cases {
            check(case);
        }
    }

    #[test]
    fn the_first_range_covers_all_history_or_the_window_up_to_now() {
        assert_eq!(
            initial_range(1_800_000_000, None),
            (HISTORY_START, 1_800_000_001)
        );
        assert_eq!(
            initial_range(1_800_000_000, Some(30)),
            (1_800_000_000 - 30 * 86_400, 1_800_000_001)
        );
    }

    #[test]
    fn first_ranges_are_cut_at_the_recent_bands_and_tile_the_interval_newest_first() {
        const NOW: i64 = 1_800_000_000;
        const DAY: i64 = 86_400;
        type Case = (&'static str, Option<i64>, Vec<(i64, i64)>);
        let cases: [Case; 4] = [
            (
                "all history: the last day, week and month, then the rest",
                None,
                vec![
                    (NOW - DAY, NOW + 1),
                    (NOW - 7 * DAY, NOW - DAY),
                    (NOW - 30 * DAY, NOW - 7 * DAY),
                    (HISTORY_START, NOW - 30 * DAY),
                ],
            ),
            (
                "a 30-day window has no edge at its own start",
                Some(30),
                vec![
                    (NOW - DAY, NOW + 1),
                    (NOW - 7 * DAY, NOW - DAY),
                    (NOW - 30 * DAY, NOW - 7 * DAY),
                ],
            ),
            (
                "a 3-day window keeps only the edges inside it",
                Some(3),
                vec![(NOW - DAY, NOW + 1), (NOW - 3 * DAY, NOW - DAY)],
            ),
            (
                "a window of under a day is one range",
                Some(0),
                vec![(NOW, NOW + 1)],
            ),
        ];
        for (name, window, expected) in cases {
            let ranges = initial_ranges(NOW, window);
            assert_eq!(ranges, expected, "{name}");
            assert_eq!(ranges.first().map(|r| r.1), Some(NOW + 1), "{name}");
            assert_eq!(
                ranges.last().map(|r| r.0),
                Some(initial_range(NOW, window).0),
                "{name}"
            );
            assert!(ranges.windows(2).all(|w| w[0].0 == w[1].1), "{name}: gaps");
        }
    }

    #[test]
    fn a_range_is_recent_when_it_reaches_into_the_last_month() {
        const NOW: i64 = 1_800_000_000;
        let cutoff = NOW - 30 * 86_400;
        assert!(is_recent(NOW, NOW + 1));
        assert!(is_recent(NOW, cutoff + 1));
        assert!(
            !is_recent(NOW, cutoff),
            "a range ending at the cutoff is older history"
        );
        assert!(!is_recent(NOW, HISTORY_START));
    }

    #[test]
    fn coverage_counts_finished_ranges_whole_and_open_ranges_from_their_cursor() {
        type Ranges<'a> = &'a [(i64, i64, Option<i64>, bool)];
        let cases: [(Ranges, f64); 4] = [
            (&[], 1.0),
            (&[(0, 100, None, true), (100, 200, None, false)], 0.5),
            (&[(0, 100, Some(75), false)], 0.25),
            (
                &[(0, 100, Some(75), false), (100, 300, None, true)],
                225.0 / 300.0,
            ),
        ];
        for (ranges, expected) in cases {
            assert!(
                (covered_share(ranges) - expected).abs() < 1e-9,
                "{ranges:?} → {}",
                covered_share(ranges)
            );
        }
    }
}
