//! One dashboard as data: its KPIs with their previous-period values, its charts (series per data connection)
//! and tables. The HTML page, the JSON API and each chart's CSV are three renderings of this one value, so they
//! cannot disagree.

use serde::Serialize;

use crate::domain::analytics::money::format_money;
use crate::domain::analytics::{Filter, change};

/// What a number measures, which decides how it is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "currency", rename_all = "snake_case")]
pub enum Unit {
    /// A count of payments, disputes, …
    Count,
    /// A share between 0 and 1.
    Rate,
    /// Minor units of one currency.
    Money(String),
}

impl Unit {
    /// The value as a reader sees it: `87.3%`, `1,234.50 USD`, `1,024`.
    pub fn format(&self, value: f64) -> String {
        match self {
            Unit::Count => format_money(value * 100.0, "")
                .trim_end()
                .replace(".00", ""),
            Unit::Rate => format!("{:.1}%", value * 100.0),
            Unit::Money(currency) => format_money(value, currency),
        }
    }
}

/// A headline number with its trend against the previous period.
#[derive(Debug, Clone, Serialize)]
pub struct Kpi {
    /// What it is ("Approval rate").
    pub label: String,
    /// Its unit.
    pub unit: Unit,
    /// The value over the period (`None`: nothing to measure).
    pub value: Option<f64>,
    /// The value over the previous period.
    pub previous: Option<f64>,
}

impl Kpi {
    /// The relative change against the previous period.
    pub fn change(&self) -> Option<f64> {
        change(self.value?, self.previous?)
    }

    /// The value as shown.
    pub fn shown(&self) -> String {
        self.value
            .map(|v| self.unit.format(v))
            .unwrap_or_else(|| "—".into())
    }

    /// The trend as shown (`▲ 4.2%` / `▼ 1.0%`), empty without a previous value.
    pub fn trend(&self) -> String {
        match self.change() {
            Some(c) if c >= 0.0 => format!("▲ {:.1}% vs previous period", c * 100.0),
            Some(c) => format!("▼ {:.1}% vs previous period", -c * 100.0),
            None => String::new(),
        }
    }

    /// `up`, `down` or `flat`, for styling the trend.
    pub fn direction(&self) -> &'static str {
        match self.change() {
            Some(c) if c > 0.0 => "up",
            Some(c) if c < 0.0 => "down",
            _ => "flat",
        }
    }
}

/// How a chart draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChartKind {
    /// A time series: one line per series, a point per bucket.
    Line,
    /// Categories: grouped horizontal bars, one bar per series in each category.
    Bar,
}

/// One value of a series.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    /// The value (`None`: nothing to measure, e.g. a rate over no attempts).
    pub value: Option<f64>,
    /// Extra hover text (e.g. "412 of 480 attempts").
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// The dashboard with this point's filter applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
}

/// One line or set of bars: one data connection, in the current or the previous period.
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    /// The label: the connection's name, with "(previous period)" for comparison series.
    pub name: String,
    /// The data connection.
    pub connection_id: String,
    /// Whether this is the comparison series of the previous period (drawn dashed).
    pub previous: bool,
    /// One point per label of the chart.
    pub points: Vec<Point>,
}

/// A chart: labels along one axis, a series per data connection.
#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    /// Stable id, used by `?format=csv&chart=<id>`.
    pub id: &'static str,
    /// Its heading.
    pub title: String,
    /// How it draws.
    pub kind: ChartKind,
    /// The unit of every value.
    pub unit: Unit,
    /// The category or bucket labels.
    pub labels: Vec<String>,
    /// The series.
    pub series: Vec<Series>,
}

impl Chart {
    /// The chart's data as CSV: one row per series and label (`series,connection_id,label,value`), values in the
    /// unit's raw form (minor units, shares between 0 and 1).
    pub fn csv(&self) -> String {
        let unit = match &self.unit {
            Unit::Count => "count".to_owned(),
            Unit::Rate => "rate".to_owned(),
            Unit::Money(currency) => format!("minor_units_{currency}"),
        };
        let mut out = format!("series,connection_id,label,{unit}\n");
        for series in &self.series {
            for (label, point) in self.labels.iter().zip(&series.points) {
                let value = point.value.map(|v| v.to_string()).unwrap_or_default();
                out += &format!(
                    "{},{},{},{}\n",
                    csv_field(&series.name),
                    csv_field(&series.connection_id),
                    csv_field(label),
                    value
                );
            }
        }
        out
    }

    /// Whether there is anything to draw.
    pub fn is_empty(&self) -> bool {
        self.series
            .iter()
            .all(|s| s.points.iter().all(|p| p.value.is_none()))
    }

    /// The chart as SVG markup.
    pub fn svg(&self) -> String {
        crate::web::charts::render(self)
    }
}

/// A table (e.g. the top BINs), downloadable like a chart.
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    /// Stable id, used by `?format=csv&chart=<id>`.
    pub id: &'static str,
    /// Its heading.
    pub title: String,
    /// Column headings.
    pub columns: Vec<String>,
    /// Rows of cells, as shown.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// The table as CSV.
    pub fn csv(&self) -> String {
        let mut out = String::new();
        for row in std::iter::once(&self.columns).chain(&self.rows) {
            let cells: Vec<String> = row.iter().map(|c| csv_field(c)).collect();
            out += &cells.join(",");
            out.push('\n');
        }
        out
    }
}

/// A dashboard page's content.
#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    /// The URL name (`overview`, `approvals`, …).
    pub name: &'static str,
    /// The heading.
    pub title: &'static str,
    /// The filter it shows.
    pub filter: Filter,
    /// The currency of every money figure, when there is one; amounts are never added across currencies.
    pub currency: Option<String>,
    /// Every currency with payments in the period, for the currency filter.
    pub currencies: Vec<String>,
    /// Headline numbers.
    pub kpis: Vec<Kpi>,
    /// Charts.
    pub charts: Vec<Chart>,
    /// Tables.
    pub tables: Vec<Table>,
    /// Sentences the reader needs (which currency amounts are in, what a filter does not apply to).
    pub notes: Vec<String>,
}

impl Dashboard {
    /// The CSV of the chart or table `id`.
    pub fn csv(&self, id: &str) -> Option<String> {
        self.charts
            .iter()
            .find(|c| c.id == id)
            .map(Chart::csv)
            .or_else(|| self.tables.iter().find(|t| t.id == id).map(Table::csv))
    }
}

/// A CSV cell, quoted when it holds a comma, quote or line break; a leading `=`, `+`, `-` or `@` is prefixed with
/// `'` so a spreadsheet never runs a connection name as a formula.
pub fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) && text.parse::<f64>().is_err() {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=cmd()"), "'=cmd()");
        assert_eq!(csv_field("-12.5"), "-12.5");
    }

    #[test]
    fn units_format_as_a_reader_expects() {
        assert_eq!(Unit::Rate.format(0.8734), "87.3%");
        assert_eq!(Unit::Count.format(1024.0), "1,024");
        assert_eq!(Unit::Money("usd".into()).format(123_450.0), "1,234.50 USD");
    }
}
