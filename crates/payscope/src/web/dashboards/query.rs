//! The dashboards' query string: range preset or custom dates, connections, card filters, currency, compare and
//! the approval toggles — parsed into a [`Filter`], and written back out for links that add one filter.

use crate::domain::analytics::period::format_date;
use crate::domain::analytics::{ApprovalRules, DAY, Filter, Period, PeriodError};

/// What a dashboard request asks for, beyond which dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// The filter.
    pub filter: Filter,
    /// `7d`, `30d`, `90d`, `365d` or `custom`.
    pub range: String,
    /// Whether the previous period is shown beside the current one.
    pub compare: bool,
    /// `html`, `csv` or `json`.
    pub format: String,
    /// The chart whose CSV is asked for.
    pub chart: Option<String>,
}

/// The default range: the last 30 days.
pub const DEFAULT_RANGE: &str = "30d";

impl View {
    /// Parses a raw query string (`range=30d&brand=visa&brand=amex&compare=1`) at time `now`. Unknown parameters
    /// are ignored, so old bookmarks keep working.
    pub fn parse(query: &str, now: i64) -> Result<View, PeriodError> {
        let mut range = DEFAULT_RANGE.to_owned();
        let (mut from, mut to) = (None, None);
        let mut filter = Filter::period(Period::last_days(30, now));
        let mut compare = false;
        let mut format = "html".to_owned();
        let mut chart = None;
        let mut rules = ApprovalRules::default();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            let value = value.trim().to_owned();
            if value.is_empty() {
                continue;
            }
            match key.as_ref() {
                "range" => range = value,
                "from" => from = Some(value),
                "to" => to = Some(value),
                "connection" => filter.connections.push(value),
                "brand" => filter.brands.push(value.to_ascii_lowercase()),
                "funding" => filter.funding.push(value.to_ascii_lowercase()),
                "country" => filter.countries.push(value.to_ascii_uppercase()),
                "currency" => filter.currencies.push(value.to_ascii_lowercase()),
                "compare" => compare = value == "1",
                "dedup" => rules.dedup_retries = value == "1",
                "pending" => rules.exclude_pending = value != "include",
                "format" => format = value,
                "chart" => chart = Some(value),
                _ => {}
            }
        }
        filter.period = match (range.as_str(), from, to) {
            ("custom", Some(from), Some(to)) => Period::custom(&from, &to)?,
            ("custom", _, _) => {
                return Err(PeriodError::BadDate(
                    "a custom range needs both from and to".into(),
                ));
            }
            (preset, _, _) => Period::preset(preset, now)?,
        };
        filter.approval = rules;
        Ok(View {
            filter,
            range,
            compare,
            format,
            chart,
        })
    }

    /// The query string of this view with `extra` pairs added (and any custom range replaced by `range` pairs
    /// among them), for links that narrow the view.
    pub fn query_with(&self, extra: &[(&str, &str)]) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        let replaces_range = extra.iter().any(|(k, _)| *k == "range");
        if !replaces_range {
            out.append_pair("range", &self.range);
            if self.range == "custom" {
                out.append_pair("from", &format_date(self.filter.period.start));
                out.append_pair("to", &format_date(self.filter.period.end - DAY));
            }
        }
        let lists = [
            ("connection", &self.filter.connections),
            ("brand", &self.filter.brands),
            ("funding", &self.filter.funding),
            ("country", &self.filter.countries),
            ("currency", &self.filter.currencies),
        ];
        for (key, values) in lists {
            for value in values {
                // Adding a value of a filter that is already set replaces it: a click narrows to that value.
                if !extra.iter().any(|(k, _)| *k == key) {
                    out.append_pair(key, value);
                }
            }
        }
        if self.compare {
            out.append_pair("compare", "1");
        }
        if self.filter.approval.dedup_retries {
            out.append_pair("dedup", "1");
        }
        if !self.filter.approval.exclude_pending {
            out.append_pair("pending", "include");
        }
        for (key, value) in extra {
            out.append_pair(key, value);
        }
        out.finish()
    }

    /// Whether `value` is selected for the list filter `key`, for the filter form.
    pub fn selected(&self, key: &str, value: &str) -> bool {
        let list = match key {
            "connection" => &self.filter.connections,
            "brand" => &self.filter.brands,
            "funding" => &self.filter.funding,
            "country" => &self.filter.countries,
            "currency" => &self.filter.currencies,
            _ => return false,
        };
        list.iter().any(|v| v == value)
    }

    /// The custom range's first day, for the form.
    pub fn from_date(&self) -> String {
        format_date(self.filter.period.start)
    }

    /// The custom range's last day, for the form.
    pub fn to_date(&self) -> String {
        format_date(self.filter.period.end - DAY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_780_800; // 2026-11-27 12:00 UTC

    #[test]
    fn a_query_becomes_a_filter_and_back() {
        let view = View::parse(
            "range=7d&brand=Visa&brand=amex&country=us&connection=con_1&compare=1&dedup=1&pending=include",
            NOW,
        )
        .unwrap();
        assert_eq!(view.filter.brands, ["visa", "amex"]);
        assert_eq!(view.filter.countries, ["US"]);
        assert_eq!(view.filter.period.days(), 7);
        assert!(view.compare && view.filter.approval.dedup_retries);
        assert!(!view.filter.approval.exclude_pending);
        let again = View::parse(&view.query_with(&[]), NOW).unwrap();
        assert_eq!(again, view);
    }

    #[test]
    fn a_link_adding_a_brand_replaces_the_brands_chosen() {
        let view = View::parse("range=90d&brand=visa", NOW).unwrap();
        let link = view.query_with(&[("brand", "amex")]);
        assert_eq!(link, "range=90d&brand=amex");
    }

    #[test]
    fn custom_ranges_need_both_dates_and_keep_them_in_links() {
        assert!(View::parse("range=custom&from=2026-11-01", NOW).is_err());
        assert!(View::parse("range=12d", NOW).is_err());
        let view = View::parse("range=custom&from=2026-11-01&to=2026-11-03", NOW).unwrap();
        assert_eq!(view.filter.period.days(), 3);
        assert_eq!(
            view.query_with(&[]),
            "range=custom&from=2026-11-01&to=2026-11-03"
        );
    }
}
