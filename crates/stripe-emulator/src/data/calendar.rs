//! UTC calendar arithmetic on unix seconds (civil dates without a date-time dependency).

/// Seconds in a day.
pub(crate) const DAY: i64 = 86_400;

/// (year, month 1–12, day 1–31) of a unix time, in UTC (Howard Hinnant's `civil_from_days`).
pub(crate) fn civil(t: i64) -> (i64, u32, u32) {
    let z = t.div_euclid(DAY) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Unix time of 00:00 UTC on a civil date (Howard Hinnant's `days_from_civil`).
pub(crate) fn midnight_of(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) * DAY
}

/// `YYYY-MM-DD` of a unix time in UTC.
pub(crate) fn date_string(t: i64) -> String {
    let (y, m, d) = civil(t);
    format!("{y:04}-{m:02}-{d:02}")
}

/// 00:00 UTC of the day containing `t`.
pub(crate) fn day_start(t: i64) -> i64 {
    t - t.rem_euclid(DAY)
}

/// Day of the week of `t`, 0 = Monday.
pub(crate) fn weekday(t: i64) -> usize {
    // 1970-01-01 was a Thursday.
    (t.div_euclid(DAY) + 3).rem_euclid(7) as usize
}

#[cfg(test)]
mod tests {
    use super::{civil, date_string, midnight_of, weekday};

    #[test]
    fn civil_dates_round_trip_and_match_known_days() {
        assert_eq!(date_string(0), "1970-01-01");
        assert_eq!(date_string(1_785_283_200), "2026-07-29");
        assert_eq!(civil(951_782_400), (2000, 2, 29));
        assert_eq!(midnight_of(2026, 7, 29), 1_785_283_200);
        assert_eq!(weekday(1_785_283_200), 2); // a Wednesday
    }
}
