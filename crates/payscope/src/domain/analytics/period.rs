//! Date ranges of the dashboards: the 7/30/90/365-day presets, custom ranges, the previous period to compare with,
//! and the bucket size of time series.

use serde::Serialize;

/// Seconds in a UTC day; every dashboard day is a UTC day.
pub const DAY: i64 = 86_400;

/// A half-open range of unix seconds `[start, end)`, aligned to UTC days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    /// First second included.
    pub start: i64,
    /// First second after the range.
    pub end: i64,
}

/// Why a custom range was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PeriodError {
    /// A date was not `YYYY-MM-DD`.
    #[error("{0:?} is not a date; write dates as YYYY-MM-DD")]
    BadDate(String),
    /// The range ends before it starts.
    #[error("the range ends before it starts; swap the dates")]
    Reversed,
    /// A preset other than 7, 30, 90 or 365 days.
    #[error("{0:?} is not a range preset; use 7d, 30d, 90d, 365d or custom dates")]
    BadPreset(String),
}

impl Period {
    /// The last `days` whole UTC days up to and including the day of `now`.
    pub fn last_days(days: i64, now: i64) -> Period {
        let end = day_start(now) + DAY;
        Period {
            start: end - days * DAY,
            end,
        }
    }

    /// A preset name (`7d`, `30d`, `90d`, `365d`) ending today.
    pub fn preset(name: &str, now: i64) -> Result<Period, PeriodError> {
        let days = match name {
            "7d" => 7,
            "30d" => 30,
            "90d" => 90,
            "365d" => 365,
            other => return Err(PeriodError::BadPreset(other.to_owned())),
        };
        Ok(Period::last_days(days, now))
    }

    /// The inclusive custom range `from ..= to` (both `YYYY-MM-DD`, UTC).
    pub fn custom(from: &str, to: &str) -> Result<Period, PeriodError> {
        let start = parse_date(from)?;
        let end = parse_date(to)? + DAY;
        if end <= start {
            return Err(PeriodError::Reversed);
        }
        Ok(Period { start, end })
    }

    /// Whole days in the range.
    pub fn days(&self) -> i64 {
        (self.end - self.start + DAY - 1).div_euclid(DAY)
    }

    /// The range of the same length just before this one: what "compare to previous period" compares with.
    pub fn previous(&self) -> Period {
        Period {
            start: self.start - (self.end - self.start),
            end: self.start,
        }
    }

    /// The width of one point of a time series: days up to 120 days, weeks beyond, so a year is 53 points.
    pub fn bucket(&self) -> i64 {
        if self.days() <= 120 { DAY } else { 7 * DAY }
    }

    /// The start of every bucket in the range, so series show empty days as zero instead of skipping them.
    pub fn buckets(&self) -> Vec<i64> {
        let bucket = self.bucket();
        let mut at = self.start.div_euclid(bucket) * bucket;
        let mut out = Vec::new();
        while at < self.end {
            out.push(at);
            at += bucket;
        }
        out
    }
}

/// The UTC midnight at or before `t`.
pub fn day_start(t: i64) -> i64 {
    t.div_euclid(DAY) * DAY
}

/// `YYYY-MM-DD` (UTC) of a unix time.
pub fn format_date(t: i64) -> String {
    let (y, m, d) = civil_from_days(t.div_euclid(DAY));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Parses `YYYY-MM-DD` as UTC midnight.
pub fn parse_date(text: &str) -> Result<i64, PeriodError> {
    let bad = || PeriodError::BadDate(text.to_owned());
    let mut parts = text.trim().splitn(3, '-');
    let mut next = |max: i64| -> Result<i64, PeriodError> {
        let n: i64 = parts.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
        if n < 1 || n > max { Err(bad()) } else { Ok(n) }
    };
    let (y, m, d) = (next(9999)?, next(12)?, next(31)?);
    let days = days_from_civil(y, m, d);
    // Reject 2026-02-31 and the like: the date must come back unchanged.
    if civil_from_days(days) != (y, m, d) {
        return Err(bad());
    }
    Ok(days * DAY)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (inverse of `days_from_civil`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOV_27_2026_NOON: i64 = 1_795_780_800;

    #[test]
    fn dates_round_trip_through_unix_days() {
        for date in ["1970-01-01", "2000-02-29", "2026-11-27", "2024-12-31"] {
            assert_eq!(format_date(parse_date(date).unwrap()), date);
        }
        assert_eq!(format_date(NOV_27_2026_NOON), "2026-11-27");
    }

    #[test]
    fn impossible_dates_are_refused() {
        for date in ["2026-02-30", "2026-13-01", "yesterday", "2026-1"] {
            assert!(parse_date(date).is_err(), "{date}");
        }
    }

    #[test]
    fn a_preset_ends_with_today_and_its_previous_period_touches_it() {
        let p = Period::preset("7d", NOV_27_2026_NOON).unwrap();
        assert_eq!(format_date(p.start), "2026-11-21");
        assert_eq!(format_date(p.end - 1), "2026-11-27");
        assert_eq!(p.days(), 7);
        let prev = p.previous();
        assert_eq!(prev.end, p.start);
        assert_eq!(format_date(prev.start), "2026-11-14");
    }

    #[test]
    fn custom_ranges_include_their_last_day_and_refuse_reversal() {
        let p = Period::custom("2026-11-01", "2026-11-30").unwrap();
        assert_eq!(p.days(), 30);
        assert_eq!(
            Period::custom("2026-11-30", "2026-11-01"),
            Err(PeriodError::Reversed)
        );
    }

    #[test]
    fn long_ranges_bucket_by_week_and_short_ones_by_day() {
        let month = Period::preset("30d", NOV_27_2026_NOON).unwrap();
        assert_eq!(month.bucket(), DAY);
        assert_eq!(month.buckets().len(), 30);
        let year = Period::preset("365d", NOV_27_2026_NOON).unwrap();
        assert_eq!(year.bucket(), 7 * DAY);
        assert!((53..=54).contains(&year.buckets().len()));
    }
}
