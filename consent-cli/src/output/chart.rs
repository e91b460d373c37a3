//! Charts for self-contained pages (the DPO's report): inline SVG drawn here, no
//! script and no external asset, readable when printed in black and white.
//!
//! Colour never carries meaning alone: each series of a line chart has its own dash
//! pattern and marker shape, each series of a bar chart its own fill pattern, and the
//! legend names them. Every chart is an `<svg role="img">` with a `<title>` and a
//! `<desc>`, inside a `<figure>` followed by a table of the same figures (the text
//! alternative). The drawing carries classes a test can count: a `g.series` per
//! series (`data-series` names it) holding one `.point` per value.

use std::fmt::Write;

/// Escapes text for HTML and SVG (element content and quoted attributes).
pub use consent_core::subject_copy::escape as esc;

/// How the series are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A line per series, a marker per value.
    Lines,
    /// Grouped bars, a bar per value.
    Bars,
}

/// One named row of values, one value per label.
#[derive(Debug, Clone)]
pub struct Series {
    /// Its name, shown in the legend and the table.
    pub name: String,
    /// One value per label.
    pub values: Vec<u64>,
}

/// A chart and its table.
#[derive(Debug, Clone)]
pub struct Chart<'a> {
    /// A prefix for element ids, unique in the page.
    pub id: String,
    /// What it shows, in the page's terms (`data-chart`): `states`, `activity`, ...
    pub kind_name: &'a str,
    /// Its title.
    pub title: String,
    /// A sentence or two saying what it shows (the SVG's `<desc>`).
    pub description: String,
    /// The labels of the horizontal axis (the periods).
    pub labels: &'a [String],
    /// The series drawn.
    pub series: Vec<Series>,
    /// Columns only in the table (figures too small or too many to draw).
    pub extra: Vec<Series>,
    /// How it is drawn.
    pub kind: Kind,
}

/// A series' look: colour (Okabe-Ito, safe for colour-blind readers), dash pattern,
/// marker and fill pattern. Colour is never the only difference.
struct Style {
    colour: &'static str,
    dash: &'static str,
    marker: Marker,
    fill: Fill,
}

#[derive(Clone, Copy)]
enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
    Cross,
    Ring,
}

#[derive(Clone, Copy)]
enum Fill {
    Solid,
    Hatch,
    Dots,
    CrossHatch,
    Vertical,
    Horizontal,
}

const STYLES: [Style; 6] = [
    Style {
        colour: "#0072b2",
        dash: "",
        marker: Marker::Circle,
        fill: Fill::Solid,
    },
    Style {
        colour: "#d55e00",
        dash: "8 4",
        marker: Marker::Square,
        fill: Fill::Hatch,
    },
    Style {
        colour: "#222222",
        dash: "2 3",
        marker: Marker::Triangle,
        fill: Fill::Dots,
    },
    Style {
        colour: "#e69f00",
        dash: "10 3 2 3",
        marker: Marker::Diamond,
        fill: Fill::CrossHatch,
    },
    Style {
        colour: "#cc79a7",
        dash: "14 4",
        marker: Marker::Cross,
        fill: Fill::Vertical,
    },
    Style {
        colour: "#009e73",
        dash: "4 2",
        marker: Marker::Ring,
        fill: Fill::Horizontal,
    },
];

/// The most periods a table shows as columns (a row per series); beyond, a row per
/// period.
const TRANSPOSE_MAX: usize = 16;

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 270.0;
const LEFT: f64 = 46.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 42.0;

/// A round upper bound for the axis and its tick step.
fn scale(max: u64) -> (u64, u64) {
    let max = max.max(1);
    let mut step = 1u64;
    loop {
        for m in [1, 2, 5] {
            let s = step * m;
            if max.div_ceil(s) <= 5 {
                return (max.div_ceil(s) * s, s);
            }
        }
        step *= 10;
    }
}

fn marker(out: &mut String, m: Marker, x: f64, y: f64, colour: &str, class: &str, tip: &str) {
    let tip = format!("<title>{}</title>", esc(tip));
    let fill = match m {
        Marker::Cross => "none",
        Marker::Ring => "white",
        _ => colour,
    };
    let common = format!(r#"class="{class}" fill="{fill}" stroke="{colour}""#);
    let _ = match m {
        Marker::Circle => write!(
            out,
            r#"<circle {common} cx="{x:.1}" cy="{y:.1}" r="3.8">{tip}</circle>"#
        ),
        Marker::Square => write!(
            out,
            r#"<rect {common} x="{:.1}" y="{:.1}" width="7" height="7">{tip}</rect>"#,
            x - 3.5,
            y - 3.5
        ),
        Marker::Triangle => write!(
            out,
            r#"<path {common} d="M{x:.1} {:.1}L{:.1} {:.1}L{:.1} {:.1}Z">{tip}</path>"#,
            y - 4.5,
            x + 4.5,
            y + 3.5,
            x - 4.5,
            y + 3.5
        ),
        Marker::Diamond => write!(
            out,
            r#"<path {common} d="M{x:.1} {:.1}L{:.1} {y:.1}L{x:.1} {:.1}L{:.1} {y:.1}Z">{tip}</path>"#,
            y - 5.0,
            x + 5.0,
            y + 5.0,
            x - 5.0
        ),
        Marker::Cross => write!(
            out,
            r#"<path {common} stroke-width="2" d="M{:.1} {:.1}L{:.1} {:.1}M{:.1} {:.1}L{:.1} {:.1}">{tip}</path>"#,
            x - 4.0,
            y - 4.0,
            x + 4.0,
            y + 4.0,
            x - 4.0,
            y + 4.0,
            x + 4.0,
            y - 4.0
        ),
        Marker::Ring => write!(
            out,
            r#"<circle {common} stroke-width="2" cx="{x:.1}" cy="{y:.1}" r="4.5">{tip}</circle>"#
        ),
    };
}

/// The `<pattern>` of a fill, in the chart's `<defs>`.
fn pattern(out: &mut String, id: &str, fill: Fill, colour: &str) {
    let body = match fill {
        Fill::Solid => format!(r#"<rect width="8" height="8" fill="{colour}"/>"#),
        Fill::Hatch => format!(
            r#"<rect width="8" height="8" fill="white"/><path d="M-2 2L2 -2M0 8L8 0M6 10L10 6" stroke="{colour}" stroke-width="2"/>"#
        ),
        Fill::Dots => format!(
            r#"<rect width="8" height="8" fill="white"/><circle cx="4" cy="4" r="1.8" fill="{colour}"/>"#
        ),
        Fill::CrossHatch => format!(
            r#"<rect width="8" height="8" fill="white"/><path d="M0 0L8 8M8 0L0 8" stroke="{colour}" stroke-width="1.5"/>"#
        ),
        Fill::Vertical => format!(
            r#"<rect width="8" height="8" fill="white"/><path d="M4 0V8" stroke="{colour}" stroke-width="2.5"/>"#
        ),
        Fill::Horizontal => format!(
            r#"<rect width="8" height="8" fill="white"/><path d="M0 4H8" stroke="{colour}" stroke-width="2.5"/>"#
        ),
    };
    let _ = write!(
        out,
        r#"<pattern id="{id}" width="8" height="8" patternUnits="userSpaceOnUse">{body}</pattern>"#
    );
}

impl Chart<'_> {
    /// The figure: the SVG, its caption and the table of its figures.
    pub fn figure(&self) -> String {
        let mut out = String::new();
        let _ = write!(
            out,
            r#"<figure class="chart" id="{id}" data-chart="{kind}" aria-labelledby="{id}-cap">"#,
            id = esc(&self.id),
            kind = esc(self.kind_name),
        );
        let _ = write!(
            out,
            r#"<figcaption id="{}-cap">{}</figcaption>"#,
            esc(&self.id),
            esc(&self.title)
        );
        out.push_str(&self.svg());
        out.push_str(&self.table());
        out.push_str("</figure>\n");
        out
    }

    fn svg(&self) -> String {
        let id = esc(&self.id);
        let n = self.labels.len().max(1);
        let max = self
            .series
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .max()
            .unwrap_or(0);
        let (top, step) = scale(max);
        // The legend's room: its longest name, within bounds (longer names are cut).
        let longest = self
            .series
            .iter()
            .map(|s| s.name.chars().count())
            .max()
            .unwrap_or(0);
        let right = (longest as f64 * 7.0 + 60.0).clamp(140.0, 330.0);
        let (pw, ph) = (WIDTH - LEFT - right, HEIGHT - TOP - BOTTOM);
        let slot = pw / n as f64;
        let x_of = |i: usize| LEFT + slot * (i as f64 + 0.5);
        let y_of = |v: u64| TOP + ph - ph * v as f64 / top as f64;
        let mut out = String::new();
        let _ = write!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" aria-labelledby="{id}-title {id}-desc"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
            esc(&self.title),
            esc(&self.description)
        );
        if self.kind == Kind::Bars {
            out.push_str("<defs>");
            for (i, _) in self.series.iter().enumerate() {
                let st = &STYLES[i % STYLES.len()];
                pattern(&mut out, &format!("{id}-fill{i}"), st.fill, st.colour);
            }
            out.push_str("</defs>");
        }
        // The axes and the grid.
        out.push_str(r##"<g class="axes" font-size="11" fill="#333">"##);
        let mut v = 0;
        while v <= top {
            let y = y_of(v);
            let _ = write!(
                out,
                r##"<line x1="{LEFT}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="#ccc" stroke-width="1"/><text x="{:.1}" y="{:.1}" text-anchor="end">{v}</text>"##,
                LEFT + pw,
                LEFT - 6.0,
                y + 4.0
            );
            v += step;
        }
        // A label every few slots, so that none overlaps the next (about 7 px a character).
        let widest = self
            .labels
            .iter()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(1);
        let every = ((widest as f64 * 7.0 + 8.0) / slot).ceil().max(1.0) as usize;
        for (i, label) in self.labels.iter().enumerate() {
            if i % every == 0 {
                let _ = write!(
                    out,
                    r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                    x_of(i),
                    TOP + ph + 16.0,
                    esc(label)
                );
            }
        }
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#333"/></g>"##,
            LEFT + pw,
            TOP + ph,
            TOP + ph
        );
        // The series.
        let ns = self.series.len().max(1);
        for (si, s) in self.series.iter().enumerate() {
            let st = &STYLES[si % STYLES.len()];
            let _ = write!(out, r#"<g class="series" data-series="{}">"#, esc(&s.name));
            match self.kind {
                Kind::Lines => {
                    let points: Vec<String> = s
                        .values
                        .iter()
                        .enumerate()
                        .map(|(i, v)| format!("{:.1},{:.1}", x_of(i), y_of(*v)))
                        .collect();
                    let _ = write!(
                        out,
                        r#"<polyline class="line" fill="none" stroke="{}" stroke-width="2" stroke-dasharray="{}" points="{}"/>"#,
                        st.colour,
                        st.dash,
                        points.join(" ")
                    );
                    for (i, v) in s.values.iter().enumerate() {
                        let tip = format!("{}, {}: {v}", s.name, self.labels[i]);
                        marker(
                            &mut out,
                            st.marker,
                            x_of(i),
                            y_of(*v),
                            st.colour,
                            "point",
                            &tip,
                        );
                    }
                }
                Kind::Bars => {
                    let group = slot * 0.8;
                    let w = group / ns as f64;
                    for (i, v) in s.values.iter().enumerate() {
                        let x = LEFT + slot * i as f64 + slot * 0.1 + w * si as f64;
                        let y = y_of(*v);
                        let _ = write!(
                            out,
                            r#"<rect class="point" x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="url(#{id}-fill{si})" stroke="{}" stroke-width="1"><title>{}</title></rect>"#,
                            (w - 1.0).max(1.0),
                            TOP + ph - y,
                            st.colour,
                            esc(&format!("{}, {}: {v}", s.name, self.labels[i]))
                        );
                    }
                }
            }
            out.push_str("</g>");
        }
        // The legend: each series' line and marker, or its fill, and its name.
        out.push_str(r##"<g class="legend" font-size="12" fill="#111">"##);
        for (si, s) in self.series.iter().enumerate() {
            let st = &STYLES[si % STYLES.len()];
            let x = LEFT + pw + 16.0;
            let y = TOP + 8.0 + 20.0 * si as f64;
            match self.kind {
                Kind::Lines => {
                    let _ = write!(
                        out,
                        r#"<line x1="{x:.1}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="{}" stroke-width="2" stroke-dasharray="{}"/>"#,
                        x + 28.0,
                        st.colour,
                        st.dash
                    );
                    marker(&mut out, st.marker, x + 14.0, y, st.colour, "key", &s.name);
                }
                Kind::Bars => {
                    let _ = write!(
                        out,
                        r#"<rect x="{x:.1}" y="{:.1}" width="28" height="12" fill="url(#{id}-fill{si})" stroke="{}"/>"#,
                        y - 6.0,
                        st.colour
                    );
                }
            }
            let _ = write!(
                out,
                r#"<text x="{:.1}" y="{:.1}">{}</text>"#,
                x + 36.0,
                y + 4.0,
                esc(&s.name)
            );
        }
        out.push_str("</g></svg>");
        out
    }

    /// The figures as a table: a row per series when the periods are few (compact), a
    /// row per period otherwise.
    fn table(&self) -> String {
        let columns: Vec<&Series> = self.series.iter().chain(&self.extra).collect();
        let caption = format!("{}: the figures", self.title);
        if self.labels.len() > TRANSPOSE_MAX {
            let heads: Vec<&str> = columns.iter().map(|s| s.name.as_str()).collect();
            let rows = self.labels.iter().enumerate().map(|(i, label)| {
                let cells = columns.iter().map(|s| value(s, i)).collect();
                (label.as_str(), cells)
            });
            return grid(&caption, "period", &heads, rows);
        }
        let heads: Vec<&str> = self.labels.iter().map(String::as_str).collect();
        let rows = columns.iter().map(|s| {
            let cells = (0..self.labels.len()).map(|i| value(s, i)).collect();
            (s.name.as_str(), cells)
        });
        format!(
            r#"<div class="scroll">{}</div>"#,
            grid(&caption, "", &heads, rows)
        )
    }
}

fn value(s: &Series, i: usize) -> u64 {
    s.values.get(i).copied().unwrap_or_default()
}

/// A table of counts: a caption, the column heads, then each row's head and cells.
fn grid<'r>(
    caption: &str,
    corner: &str,
    heads: &[&str],
    rows: impl Iterator<Item = (&'r str, Vec<u64>)>,
) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<table class="data"><caption>{}</caption><thead><tr><th scope="col">{}</th>"#,
        esc(caption),
        esc(corner)
    );
    for h in heads {
        let _ = write!(out, r#"<th scope="col">{}</th>"#, esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    for (head, cells) in rows {
        let _ = write!(out, r#"<tr><th scope="row">{}</th>"#, esc(head));
        for c in cells {
            let _ = write!(out, "<td>{c}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_are_round() {
        assert_eq!(scale(0), (1, 1));
        assert_eq!(scale(3), (3, 1));
        assert_eq!(scale(7), (8, 2));
        assert_eq!(scale(23), (25, 5));
        assert_eq!(scale(51), (60, 20));
        assert_eq!(scale(1234), (1500, 500));
    }

    #[test]
    fn a_chart_has_a_series_group_per_series_and_a_point_per_value() {
        let labels = vec!["2024-09".to_string(), "2024-10".to_string()];
        for kind in [Kind::Lines, Kind::Bars] {
            let c = Chart {
                id: "c1".into(),
                kind_name: "test",
                title: "A <title>".into(),
                description: "what".into(),
                labels: &labels,
                series: vec![
                    Series {
                        name: "given".into(),
                        values: vec![1, 2],
                    },
                    Series {
                        name: "withdrawn".into(),
                        values: vec![0, 1],
                    },
                ],
                extra: vec![],
                kind,
            };
            let html = c.figure();
            assert_eq!(html.matches(r#"<g class="series""#).count(), 2);
            assert_eq!(html.matches(r#"class="point""#).count(), 4);
            assert!(html.contains(r#"role="img""#));
            assert!(html.contains("A &lt;title&gt;"));
            assert!(!html.contains("<title>A <title>"));
        }
    }
}
