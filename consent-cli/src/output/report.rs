//! The data-protection officer's report for people (`consent report`): one
//! self-contained HTML page (inline CSS and SVG drawn by [`super::chart`], no script,
//! nothing fetched), or, without `--html`, a short summary. Times are shown as
//! [`Times`] says; the JSON of the same figures is the core's [`Report`] as it is.

use std::fmt::Write;
use std::path::Path;

use consent_core::{DownstreamDeadline, PurposeStates, Report, State, Step};

use super::chart::{esc, Chart, Kind, Series};
use super::{outln, print, warn, Table, Times};
use crate::exit::CliResult;

/// The states each purpose's chart draws, in order; the others go in its table.
const DRAWN: [State; 5] = [
    State::Given,
    State::Withdrawn,
    State::Refused,
    State::Expired,
    State::NeedsRenewal,
];
/// States shown only in the table, when some period has one.
const TABLED: [State; 5] = [
    State::Revoked,
    State::Invalidated,
    State::Objected,
    State::Erased,
    State::NeverAsked,
];

/// The line saying where the page went (`--html FILE`).
pub(crate) fn page_written(times: Times<'_>, r: &Report, path: &Path, page: &str) -> CliResult {
    outln!(
        "report {} → {} (HTML, {} bytes, {} periods, {} charts)",
        range_text(times, r),
        path.display(),
        page.len(),
        r.periods.len(),
        page.matches("<figure class=\"chart\"").count()
    )
}

/// The line saying where the figures went (`--json FILE`), on stderr.
pub(crate) fn figures_written(path: &Path) {
    warn(&format!("figures (JSON) → {}", path.display()));
}

fn range_text(times: Times<'_>, r: &Report) -> String {
    format!("{} to {}", times.show(r.from), to_text(times, r))
}

/// The end of the range: `now` when the report runs up to its own making.
fn to_text(times: Times<'_>, r: &Report) -> String {
    if r.to.as_millis() == r.generated_at.as_millis() + 1 {
        format!("now ({})", times.show(r.generated_at))
    } else {
        format!("{} (not included)", times.show(r.to))
    }
}

fn step_word(step: Step) -> &'static str {
    match step {
        Step::Day => "day",
        Step::Month => "month",
        Step::Year => "year",
    }
}

fn series_name(s: &PurposeStates) -> String {
    match &s.recipient {
        Some(r) => format!("{} → {r}", s.purpose),
        None => s.purpose.clone(),
    }
}

/// The summary printed when neither --html nor --json is given.
pub(crate) fn summary(times: Times<'_>, r: &Report) -> CliResult {
    outln!(
        "report {} ({} periods of a {}), as known at {}",
        range_text(times, r),
        r.periods.len(),
        step_word(r.step),
        times.show(r.generated_at)
    )?;
    outln!("{}", verification_line(&r.verification))?;
    let mut t = Table::new(&[
        "PURPOSE",
        "SUBJECTS",
        "GIVEN",
        "WITHDRAWN",
        "REFUSED",
        "EXPIRED",
        "NEEDS RENEWAL",
    ]);
    for s in r.states.iter().filter(|s| s.subjects > 0) {
        let end = s.counts.last().copied().unwrap_or_default();
        let mut row = vec![series_name(s), s.subjects.to_string()];
        row.extend(DRAWN.iter().map(|st| end.get(*st).to_string()));
        t.row(row);
    }
    outln!("states at the end of the range:")?;
    print(&t.render())?;
    let silent = r.states.iter().filter(|s| s.subjects == 0).count();
    if silent > 0 {
        outln!("({silent} more purposes or recipients have no events)")?;
    }
    let a = &r.totals;
    outln!(
        "in the range: {} grants, {} withdrawals, {} refusals, {} erasures; {} downstream deadlines",
        a.given,
        a.withdrawn,
        a.refused,
        a.erased,
        r.downstream.len()
    )?;
    outln!("the page: --html FILE; the figures: --json [FILE]")?;
    Ok(())
}

fn verification_line(v: &consent_core::VerifyReport) -> String {
    if v.ok {
        format!(
            "Verified: {} events, every hash recomputed; head {}",
            v.size,
            v.head.as_ref().map(ToString::to_string).unwrap_or_default()
        )
    } else {
        format!(
            "TAMPERED: {}{}",
            v.problem.clone().unwrap_or_default(),
            v.first_bad_seq
                .map_or(String::new(), |s| format!(" (first bad event #{s})"))
        )
    }
}

const STYLE: &str = r#"
:root{color-scheme:light}
body{font:15px/1.45 system-ui,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#111;background:#fff;max-width:1040px;margin:0 auto;padding:16px 20px}
h1{font-size:1.6em;margin:.2em 0}
h2{font-size:1.25em;margin-top:1.8em;border-bottom:2px solid #333;padding-bottom:2px}
h3{font-size:1.05em;margin:1.2em 0 .3em}
.meta{color:#333}
.simulated{border:2px dashed #333;padding:6px 10px;font-weight:bold}
nav ol{columns:2;padding-left:1.4em}
.verdict{font-size:1.1em;font-weight:bold;padding:8px 12px;border:2px solid}
.verdict.ok{border-color:#0072b2}
.verdict.bad{border-color:#d55e00;border-width:4px}
dl.fields{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px}
dl.fields dt{font-weight:bold}
dl.fields dd{margin:0;overflow-wrap:anywhere}
code{font-family:"DejaVu Sans Mono",monospace;font-size:.92em}
figure.chart{margin:14px 0 26px;padding:8px 10px;border:1px solid #ccc;break-inside:avoid;page-break-inside:avoid}
figure.chart svg{display:block;width:100%;max-width:760px;height:auto}
figcaption{font-weight:bold;margin:4px 0}
table{border-collapse:collapse;font-size:12.5px;margin:6px 0}
th,td{border:1px solid #aaa;padding:2px 7px}
td{text-align:right;font-variant-numeric:tabular-nums}
caption{text-align:left;font-style:italic;padding:2px 0}
.scroll{overflow-x:auto}
thead th{font-weight:normal}
table.list td{text-align:left}
.none{font-style:italic}
footer{margin-top:2.5em;font-size:.9em;color:#333;border-top:1px solid #aaa}
@page{margin:14mm}
@media print{
 body{max-width:none;padding:0;font-size:10.5pt}
 nav{display:none}
 h2{break-after:avoid;page-break-after:avoid}
 figure.chart{border:none;padding:0}
 a{color:inherit;text-decoration:none}
}
"#;

/// The whole page.
pub(crate) fn html(times: Times<'_>, r: &Report) -> String {
    let mut out = String::new();
    let title = format!(
        "Consent report, {} to {}",
        times.show(r.from),
        times.show(r.to)
    );
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta name=\"generator\" content=\"consent report\">\
<title>{}</title><style>{STYLE}</style></head>\n<body>\n",
        esc(&title)
    );
    let _ = write!(
        out,
        "<header><h1>Consent ledger: the data-protection officer's report</h1>\
<p class=\"meta\">From <strong>{}</strong> up to <strong>{}</strong>, \
by {}; times in {}. Made at {}, with what the ledger knew then (head <code>{}</code>).</p>",
        esc(&times.show(r.from)),
        esc(&to_text(times, r)),
        step_word(r.step),
        esc(&zone_text(times, r)),
        esc(&times.show(r.generated_at)),
        esc(&r.head.to_string())
    );
    if r.simulated {
        out.push_str("<p class=\"simulated\">SIMULATION: this ledger was created with a simulated clock; its times are not the system's.</p>");
    }
    out.push_str(
        "</header>\n<nav aria-label=\"Contents\"><ol>\
<li><a href=\"#verification\">Verification</a></li>\
<li><a href=\"#states\">Consent state per purpose over time</a></li>\
<li><a href=\"#activity\">Grants and withdrawals</a></li>\
<li><a href=\"#special\">Special-category consents</a></li>\
<li><a href=\"#erasures\">Erasures</a></li>\
<li><a href=\"#downstream\">Downstream deadlines</a></li></ol></nav>\n<main>\n",
    );
    verification_section(&mut out, times, r);
    states_section(&mut out, r);
    activity_section(&mut out, r);
    special_section(&mut out, r);
    erasures_section(&mut out, r);
    out.push_str(&downstream_section(times, &r.downstream));
    let _ = write!(
        out,
        "</main>\n<footer><p>How the figures are made: the state of each subject at the end of each {step} \
(its last millisecond) is the ledger's own answer to <code>consent status SUBJECT PURPOSE --at TIME</code> \
(with <code>--recipient</code> for a purpose that lists recipients), as known when this report was made, \
for every subject the purpose has events about. Erased students are in the erasures, not in the states: \
no event names them any more. Grants, withdrawals and erasures are counted by the time they took effect. \
The same figures: <code>consent report --json</code>.</p></footer>\n</body></html>\n",
        step = step_word(r.step)
    );
    out
}

fn zone_text(times: Times<'_>, r: &Report) -> String {
    if times.show(r.from).ends_with('Z') {
        "UTC".into()
    } else {
        format!("the ledger's time zone, {}", r.time_zone)
    }
}

fn verification_section(out: &mut String, times: Times<'_>, r: &Report) {
    let v = &r.verification;
    out.push_str("<section id=\"verification\"><h2>1. Verification</h2>");
    let class = if v.ok { "ok" } else { "bad" };
    let mark = if v.ok { "✔" } else { "✘" };
    let _ = write!(
        out,
        "<p class=\"verdict {class}\" data-ok=\"{}\">{mark} {}</p>",
        v.ok,
        esc(&verification_line(v))
    );
    out.push_str("<h3>Latest signed checkpoint</h3>");
    match &r.checkpoint {
        None => out.push_str(
            "<p class=\"none\">The ledger has signed no checkpoint yet (<code>consent checkpoint --key FILE</code> signs one; witnesses cosign it).</p>",
        ),
        Some(cp) => {
            let _ = write!(
                out,
                "<dl class=\"fields\"><dt>log</dt><dd><code>{}</code></dd><dt>size</dt><dd>{} events</dd>\
<dt>root</dt><dd><code>{}</code></dd><dt>signatures</dt><dd>{} ({})</dd>\
<dt>still held by the log</dt><dd>{}</dd></dl>",
                esc(&cp.origin),
                cp.head.size,
                hex::encode(cp.head.root),
                cp.signatures,
                esc(&cp.signers.join(", ")),
                if cp.held {
                    "yes: the log has this root at this size"
                } else {
                    "NO: the log no longer has this root at this size"
                }
            );
        }
    }
    let _ = writeln!(
        out,
        "<p>Checked at {}. Signatures are checked against the published keys with <code>consent verify --log-key KEY --witness-key KEY</code>.</p></section>",
        esc(&times.show(r.generated_at))
    );
}

fn count_series(name: &str, s: &PurposeStates, state: State) -> Series {
    Series {
        name: name.into(),
        values: s.counts.iter().map(|c| c.get(state)).collect(),
    }
}

fn labels(r: &Report) -> Vec<String> {
    r.periods.iter().map(|p| p.label.clone()).collect()
}

fn states_section(out: &mut String, r: &Report) {
    let labels = labels(r);
    let _ = write!(
        out,
        "<section id=\"states\"><h2>2. Consent state per purpose over time</h2>\
<p>Subjects in each state at the end of each {}: one chart per purpose resting on consent \
(per recipient, for a purpose that lists recipients).</p>",
        step_word(r.step)
    );
    if r.states.is_empty() {
        out.push_str("<p class=\"none\">No purpose rests on consent.</p>");
    }
    let silent: Vec<String> = r
        .states
        .iter()
        .filter(|s| s.subjects == 0)
        .map(series_name)
        .collect();
    for (i, (s, same)) in drawn_states(r).into_iter().enumerate() {
        let end = s.counts.last().copied().unwrap_or_default();
        let special = s.special_category.map_or(String::new(), |c| {
            format!(", special category, Art. 9(2)({c})")
        });
        let chart = Chart {
            id: format!("states-{i}"),
            kind_name: "states",
            title: format!("{}: {} ({}{special})", chart_name(s, &same), s.title, s.controller),
            description: format!(
                "{} subjects have events about this purpose. At the end of the range: {} given, {} withdrawn, {} refused, {} expired, {} needing renewal.",
                s.subjects,
                end.given,
                end.withdrawn,
                end.refused,
                end.expired,
                end.needs_renewal
            ),
            labels: &labels,
            series: DRAWN
                .iter()
                .map(|st| count_series(st.as_str(), s, *st))
                .collect(),
            extra: TABLED
                .iter()
                .filter(|st| s.counts.iter().any(|c| c.get(**st) > 0))
                .map(|st| count_series(st.as_str(), s, *st))
                .collect(),
            kind: Kind::Lines,
        };
        out.push_str(&chart.figure());
    }
    if !silent.is_empty() {
        let _ = write!(out, "<p>No events about: {}.</p>", esc(&silent.join(", ")));
    }
    out.push_str("</section>\n");
}

/// The series worth a chart (some subject has events about the purpose), those of one
/// purpose with the same figures for several recipients drawn once: each with the
/// other recipients it stands for.
fn drawn_states(r: &Report) -> Vec<(&PurposeStates, Vec<&str>)> {
    let mut out: Vec<(&PurposeStates, Vec<&str>)> = Vec::new();
    for s in r.states.iter().filter(|s| s.subjects > 0) {
        let twin = out.iter_mut().find(|(t, _)| {
            t.purpose == s.purpose && t.subjects == s.subjects && t.counts == s.counts
        });
        match (twin, s.recipient.as_deref()) {
            (Some((_, same)), Some(r)) => same.push(r),
            _ => out.push((s, Vec::new())),
        }
    }
    out
}

/// A chart's name: the purpose and the recipients it stands for.
fn chart_name(s: &PurposeStates, same: &[&str]) -> String {
    match (&s.recipient, same.is_empty()) {
        (Some(r), false) => format!(
            "{} → {r}, {} ({} recipients, the same figures)",
            s.purpose,
            same.join(", "),
            same.len() + 1
        ),
        _ => series_name(s),
    }
}

fn activity_section(out: &mut String, r: &Report) {
    let labels = labels(r);
    let per =
        |f: fn(&consent_core::Activity) -> u64| -> Vec<u64> { r.activity.iter().map(f).collect() };
    let t = &r.totals;
    let _ = write!(
        out,
        "<section id=\"activity\"><h2>3. Grants and withdrawals per {step}</h2>\
<p>Over the range: {} grants, {} withdrawals, {} refusals, {} revocations, {} objections (by the time they took effect).</p>",
        t.given,
        t.withdrawn,
        t.refused,
        t.revoked,
        t.objected,
        step = step_word(r.step)
    );
    let mut extra = vec![Series {
        name: "refusals".into(),
        values: per(|a| a.refused),
    }];
    for (name, values) in [
        ("revocations", per(|a| a.revoked)),
        ("objections", per(|a| a.objected)),
    ] {
        if values.iter().any(|v| *v > 0) {
            extra.push(Series {
                name: name.into(),
                values,
            });
        }
    }
    let chart = Chart {
        id: "activity".into(),
        kind_name: "activity",
        title: format!("Grants and withdrawals per {}", step_word(r.step)),
        description: format!(
            "Bars per {}: grants (solid) and withdrawals (hatched). {} grants and {} withdrawals in all.",
            step_word(r.step),
            t.given,
            t.withdrawn
        ),
        labels: &labels,
        series: vec![
            Series {
                name: "grants".into(),
                values: per(|a| a.given),
            },
            Series {
                name: "withdrawals".into(),
                values: per(|a| a.withdrawn),
            },
        ],
        extra,
        kind: Kind::Bars,
    };
    out.push_str(&chart.figure());
    out.push_str("</section>\n");
}

fn special_section(out: &mut String, r: &Report) {
    out.push_str("<section id=\"special\"><h2>4. Special-category consents (Art. 9)</h2>");
    if r.special_category.is_empty() {
        out.push_str("<p class=\"none\">No purpose of the registry is special-category (Art. 9).</p></section>\n");
        return;
    }
    out.push_str(
        "<p>Grants for these purposes must be explicit (Art. 9(2)(a)): the ledger refuses any other.</p>\
<table class=\"list\"><caption>Special-category purposes over the range</caption><thead><tr>\
<th scope=\"col\">purpose</th><th scope=\"col\">controller</th><th scope=\"col\">Art. 9(2)</th>\
<th scope=\"col\">in force at the end</th><th scope=\"col\">grants</th><th scope=\"col\">of them explicit</th>\
<th scope=\"col\">withdrawals</th></tr></thead><tbody>",
    );
    for s in &r.special_category {
        let _ = write!(
            out,
            "<tr><th scope=\"row\">{} <small>{}</small></th><td>{}</td><td>({})</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&s.purpose),
            esc(&s.title),
            esc(&s.controller),
            s.condition,
            s.in_force_at_end,
            s.grants,
            s.explicit_grants,
            s.withdrawals
        );
    }
    out.push_str("</tbody></table>");
    let labels = labels(r);
    let chart = Chart {
        id: "special".into(),
        kind_name: "special",
        title: format!(
            "Special-category consents in force at the end of each {}",
            step_word(r.step)
        ),
        description: "One line per special-category purpose: subjects whose explicit consent was in force (for at least one recipient, where the purpose lists recipients).".into(),
        labels: &labels,
        series: r
            .special_category
            .iter()
            .map(|s| Series {
                name: s.purpose.clone(),
                values: s.in_force.clone(),
            })
            .collect(),
        extra: Vec::new(),
        kind: Kind::Lines,
    };
    out.push_str(&chart.figure());
    out.push_str("</section>\n");
}

fn erasures_section(out: &mut String, r: &Report) {
    let labels = labels(r);
    let _ = write!(
        out,
        "<section id=\"erasures\"><h2>5. Erasures</h2><p>{} subjects erased in the range, {} readmitted; {} erased since the ledger began. \
An erasure blanks the student's personal fields and keeps every hash verifiable.</p>",
        r.totals.erased, r.totals.readmitted, r.erasures_ever
    );
    let chart = Chart {
        id: "erasures".into(),
        kind_name: "erasures",
        title: format!("Erasures and readmissions per {}", step_word(r.step)),
        description: format!(
            "Bars per {}: subjects erased (solid) and readmitted (hatched).",
            step_word(r.step)
        ),
        labels: &labels,
        series: vec![
            Series {
                name: "erasures".into(),
                values: r.activity.iter().map(|a| a.erased).collect(),
            },
            Series {
                name: "readmissions".into(),
                values: r.activity.iter().map(|a| a.readmitted).collect(),
            },
        ],
        extra: Vec::new(),
        kind: Kind::Bars,
    };
    out.push_str(&chart.figure());
    out.push_str("</section>\n");
}

/// A duration for people: days and hours, or hours and minutes, or minutes.
fn human_duration(secs: u64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3_600, secs % 3_600 / 60);
    match (d, h) {
        (0, 0) => format!("{m} min"),
        (0, _) => format!("{h} h {m} min"),
        _ => format!("{d} d {h} h"),
    }
}

/// The section "overdue and pending downstream deadlines", from a list of items (the
/// downstream registry fills it; an empty list says no downstream is registered).
fn downstream_section(times: Times<'_>, items: &[DownstreamDeadline]) -> String {
    let mut out = String::from(
        "<section id=\"downstream\"><h2>6. Overdue and pending downstream deadlines</h2>",
    );
    if items.is_empty() {
        out.push_str(
            "<p class=\"none\" data-downstream=\"0\">No downstream deadlines: no downstream system is registered, or none had a withdrawal to act on in this period.</p></section>\n",
        );
        return out;
    }
    let overdue = items.iter().filter(|i| i.overdue).count();
    let _ = write!(
        out,
        "<p data-downstream=\"{}\">{} deadlines, {overdue} overdue (passed without the downstream's acknowledgement).</p>\
<table class=\"list\"><caption>Withdrawals downstream systems must act on</caption><thead><tr>\
<th scope=\"col\">downstream</th><th scope=\"col\">event</th><th scope=\"col\">purpose</th>\
<th scope=\"col\">recipient</th><th scope=\"col\">deadline</th><th scope=\"col\">acknowledged</th>\
<th scope=\"col\">status</th></tr></thead><tbody>",
        items.len(),
        items.len()
    );
    for i in items {
        use consent_core::DeadlineState;
        let late = i
            .late_by_secs
            .map(|s| format!(" by {}", human_duration(s)))
            .unwrap_or_default();
        let status = match i.state {
            DeadlineState::Overdue => format!("OVERDUE{late}"),
            DeadlineState::AcknowledgedLate => format!("acknowledged late{late}"),
            DeadlineState::Acknowledged => "acknowledged".to_string(),
            DeadlineState::Pending => "pending".to_string(),
        };
        let _ = write!(
            out,
            "<tr><th scope=\"row\">{}</th><td>#{} {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><strong>{status}</strong></td></tr>",
            esc(&i.downstream),
            i.event_seq,
            i.kind,
            esc(&i.purpose),
            esc(i.recipient.as_deref().unwrap_or("-")),
            esc(&times.show(i.deadline)),
            i.acknowledged_at
                .map_or("-".to_string(), |t| esc(&times.show(t)))
        );
    }
    out.push_str("</tbody></table></section>\n");
    out
}
