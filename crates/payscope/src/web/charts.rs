//! Server-side SVG charts: lines over time and grouped horizontal bars, a series per data connection labelled with
//! its name, every point and bar with a native `<title>` hover text and a link to the dashboard with its filter
//! applied.
//!
//! Hand-written rather than plotters or charts-rs: both draw text through their own font handling (plotters'
//! SVG backend needs a font crate for labels; charts-rs embeds fonts for measuring), neither emits `<a>` links
//! or `<title>` elements per bar or point, and a line and a bar chart are some 200 lines of plain SVG. Text is
//! left to the browser's own fonts.

use std::fmt::Write;

use super::dashboards::model::{Chart, ChartKind, Series};

/// Series colours, chosen for contrast on white and from each other (Okabe–Ito, colour-blind safe).
const PALETTE: &[&str] = &[
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442",
];

const WIDTH: f64 = 720.0;
const LINE_HEIGHT: f64 = 260.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 40.0;

/// The chart as an accessible SVG element (`role="img"` with the title as its label).
pub fn render(chart: &Chart) -> String {
    match chart.kind {
        ChartKind::Line => line(chart),
        ChartKind::Bar => bars(chart),
    }
}

/// Escapes text for SVG/XML content and attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The colour of the series at `index`, shared by a connection's current and previous-period series.
fn colour(chart: &Chart, series: &Series) -> &'static str {
    let mut connections: Vec<&str> = Vec::new();
    for s in &chart.series {
        if !connections.contains(&s.connection_id.as_str()) {
            connections.push(&s.connection_id);
        }
    }
    let index = connections
        .iter()
        .position(|c| *c == series.connection_id)
        .unwrap_or(0);
    PALETTE[index % PALETTE.len()]
}

/// The largest value, rounded up to a tick-friendly number, so the axis never starts above zero or clips.
fn axis_max(chart: &Chart) -> f64 {
    let max = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter().filter_map(|p| p.value))
        .fold(0.0_f64, f64::max);
    if max <= 0.0 {
        return 1.0;
    }
    if chart.unit == super::dashboards::model::Unit::Rate && max > 0.5 {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|step| step * magnitude)
        .find(|candidate| *candidate >= max)
        .unwrap_or(max)
}

fn open_svg(out: &mut String, chart: &Chart, height: f64) {
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-label="{}" font-family="system-ui, sans-serif" font-size="12">"#,
        escape(&chart.title)
    );
}

fn legend(out: &mut String, chart: &Chart, y: f64) {
    let mut x = LEFT;
    for series in &chart.series {
        let dash = if series.previous {
            r#" stroke-dasharray="4 3""#
        } else {
            ""
        };
        let _ = write!(
            out,
            r#"<g class="legend"><line x1="{x}" y1="{y}" x2="{}" y2="{y}" stroke="{}" stroke-width="3"{dash}/><text x="{}" y="{}">{}</text></g>"#,
            x + 18.0,
            colour(chart, series),
            x + 22.0,
            y + 4.0,
            escape(&series.name)
        );
        // Browsers lay text out themselves; 7px per character is a safe estimate for 12px system fonts.
        x += 40.0 + 7.0 * series.name.chars().count() as f64;
    }
}

fn line(chart: &Chart) -> String {
    let mut out = String::new();
    let height = LINE_HEIGHT + 24.0;
    open_svg(&mut out, chart, height);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = LINE_HEIGHT - TOP - BOTTOM;
    let max = axis_max(chart);
    let y_of = |v: f64| TOP + plot_h - v / max * plot_h;
    let n = chart.labels.len().max(1);
    let x_of = |i: usize| {
        if n == 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + plot_w * i as f64 / (n - 1) as f64
        }
    };
    for tick in 0..=4 {
        let v = max * f64::from(tick) / 4.0;
        let y = y_of(v);
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#e5e7eb"/><text x="{}" y="{:.1}" text-anchor="end" fill="#4b5563">{}</text>"##,
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            escape(&chart.unit.format(v))
        );
    }
    // At most ~8 date labels along the bottom, so they never overlap.
    let every = n.div_euclid(8).max(1);
    for (i, label) in chart.labels.iter().enumerate() {
        if i % every == 0 {
            let _ = write!(
                out,
                r##"<text x="{:.1}" y="{}" text-anchor="middle" fill="#4b5563">{}</text>"##,
                x_of(i),
                LINE_HEIGHT - BOTTOM + 18.0,
                escape(label)
            );
        }
    }
    for series in &chart.series {
        let colour = colour(chart, series);
        let dash = if series.previous {
            r#" stroke-dasharray="4 3""#
        } else {
            ""
        };
        let mut path = String::new();
        let mut pen_down = false;
        for (i, point) in series.points.iter().enumerate() {
            match point.value {
                Some(v) => {
                    let _ = write!(
                        path,
                        "{}{:.1},{:.1} ",
                        if pen_down { "L" } else { "M" },
                        x_of(i),
                        y_of(v)
                    );
                    pen_down = true;
                }
                // A gap in the data is a gap in the line, not a drop to zero.
                None => pen_down = false,
            }
        }
        let _ = write!(
            out,
            r#"<path d="{}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>"#,
            path.trim_end()
        );
        for (i, (label, point)) in chart.labels.iter().zip(&series.points).enumerate() {
            let Some(v) = point.value else { continue };
            let title = hover(&series.name, label, &chart.unit.format(v), &point.detail);
            let dot = format!(
                r#"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{colour}"><title>{title}</title></circle>"#,
                x_of(i),
                y_of(v)
            );
            link(&mut out, point.href.as_deref(), &dot);
        }
    }
    legend(&mut out, chart, height - 12.0);
    out.push_str("</svg>");
    out
}

fn bars(chart: &Chart) -> String {
    let mut out = String::new();
    let per_series = 14.0;
    let group_gap = 10.0;
    let label_w = 150.0;
    let group_h = per_series * chart.series.len().max(1) as f64 + group_gap;
    let height = TOP + group_h * chart.labels.len().max(1) as f64 + 32.0;
    open_svg(&mut out, chart, height);
    let max = axis_max(chart);
    let plot_w = WIDTH - label_w - RIGHT - 90.0;
    for (row, label) in chart.labels.iter().enumerate() {
        let top = TOP + group_h * row as f64;
        let _ = write!(
            out,
            r##"<text x="{}" y="{:.1}" text-anchor="end" fill="#111827">{}</text>"##,
            label_w - 8.0,
            top + (group_h - group_gap) / 2.0 + 4.0,
            escape(&truncate(label, 22))
        );
        for (k, series) in chart.series.iter().enumerate() {
            let Some(point) = series.points.get(row) else {
                continue;
            };
            let Some(v) = point.value else { continue };
            let y = top + per_series * k as f64;
            let w = (v / max * plot_w).max(1.0);
            let shown = chart.unit.format(v);
            let opacity = if series.previous {
                r#" fill-opacity="0.45""#
            } else {
                ""
            };
            let bar = format!(
                r#"<rect x="{label_w}" y="{y:.1}" width="{w:.1}" height="{}" fill="{}"{opacity}><title>{}</title></rect>"#,
                per_series - 2.0,
                colour(chart, series),
                hover(&series.name, label, &shown, &point.detail)
            );
            link(&mut out, point.href.as_deref(), &bar);
            let _ = write!(
                out,
                r##"<text x="{:.1}" y="{:.1}" fill="#374151" font-size="11">{}</text>"##,
                label_w + w + 4.0,
                y + per_series - 4.0,
                escape(&shown)
            );
        }
    }
    legend(&mut out, chart, height - 14.0);
    out.push_str("</svg>");
    out
}

/// The hover text of a point or bar: series, label, value and detail, escaped.
fn hover(series: &str, label: &str, value: &str, detail: &str) -> String {
    let mut text = format!("{series} · {label}: {value}");
    if !detail.is_empty() {
        text += &format!(" ({detail})");
    }
    escape(&text)
}

/// Wraps `mark` in a link when it has one.
fn link(out: &mut String, href: Option<&str>, mark: &str) {
    match href {
        Some(href) => {
            let _ = write!(out, r#"<a href="{}">{mark}</a>"#, escape(href));
        }
        None => out.push_str(mark),
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::dashboards::model::{Point, Unit};

    fn chart(kind: ChartKind) -> Chart {
        let point = |value: Option<f64>, href: &str| Point {
            value,
            detail: "3 of 4 attempts".into(),
            href: Some(href.into()),
        };
        Chart {
            id: "test",
            title: "Approval <rate>".into(),
            kind,
            unit: Unit::Rate,
            labels: vec!["visa".into(), "mastercard".into()],
            series: vec![Series {
                name: "Shop & Co".into(),
                connection_id: "con_1".into(),
                previous: false,
                points: vec![
                    point(Some(0.75), "/dashboards/cards?brand=visa&connection=con_1"),
                    point(None, "/x"),
                ],
            }],
        }
    }

    #[test]
    fn every_mark_has_an_escaped_hover_title_and_a_link_with_its_filter() {
        for kind in [ChartKind::Line, ChartKind::Bar] {
            let svg = render(&chart(kind));
            assert!(
                svg.contains("<title>Shop &amp; Co · visa: 75.0% (3 of 4 attempts)</title>"),
                "{svg}"
            );
            assert!(
                svg.contains(r#"<a href="/dashboards/cards?brand=visa&amp;connection=con_1">"#),
                "{svg}"
            );
            assert!(
                svg.contains(r#"aria-label="Approval &lt;rate&gt;""#),
                "{svg}"
            );
            assert!(
                svg.contains(">Shop &amp; Co</text>"),
                "the legend names the connection: {svg}"
            );
            // The missing value draws nothing: one mark, one link.
            assert_eq!(svg.matches("<a href").count(), 1, "{svg}");
        }
    }

    #[test]
    fn axes_round_up_to_readable_maxima() {
        let mut c = chart(ChartKind::Bar);
        c.unit = Unit::Count;
        c.series[0].points[0].value = Some(730.0);
        assert_eq!(axis_max(&c), 1000.0);
        c.series[0].points[0].value = Some(180.0);
        assert_eq!(axis_max(&c), 200.0);
        c.unit = Unit::Rate;
        c.series[0].points[0].value = Some(0.93);
        assert_eq!(axis_max(&c), 1.0);
    }
}
