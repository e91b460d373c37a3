//! The subject's copy as a web page: what [`Ledger::export_subject`] holds, in words
//! a student can read.
//!
//! One self-contained HTML5 document: inline CSS, no scripts, no external resources
//! (a notice's address is shown as text, not loaded or linked). Times are local to
//! the ledger's calendar, in words with the zone's abbreviation ("1 October 2024 at
//! 10:00 (BST)"), each with its exact RFC 3339 form in a `<time datetime>`. Every
//! string from the ledger is escaped.

use std::fmt::Write as _;

use uuid::Uuid;

use crate::calendar::Calendar;
use crate::error::Result;
use crate::event::Event;
use crate::export::SubjectExport;
use crate::ledger::Ledger;
use crate::notice::{Notice, NoticeRef};
use crate::purpose::{LawfulBasis, Purpose};
use crate::query::Status;

#[cfg(test)]
mod tests;
mod words;

use crate::timestamp::Timestamp;
use words::{
    change_words, event_words, list_words, special_category_words, state_class, status_words,
};

impl Ledger {
    /// The subject-access copy of [`Ledger::export_subject`] as a readable,
    /// self-contained HTML page (see [`render_html`]), with times in the ledger's
    /// time zone.
    ///
    /// # Errors
    /// As [`Ledger::export_subject`].
    pub fn export_subject_html(&self, subject: &str) -> Result<String> {
        let export = self.export_subject(subject)?;
        let calendar = self.calendar()?;
        Ok(render_html(&export, &calendar))
    }
}

/// Escapes text for HTML element content and quoted attribute values (also SVG): the
/// one escaping of the pages the project writes (this copy, the DPO's report).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;line-height:1.5;color:#1b1b1b;background:#fff;margin:0}
main{max-width:52rem;margin:0 auto;padding:1.5rem}
h1{font-size:1.8rem;margin:0 0 .5rem}
h2{font-size:1.35rem;margin-top:2rem;border-bottom:2px solid #d0d7de;padding-bottom:.25rem}
h3{font-size:1.15rem;margin:0 0 .25rem}
section.purpose,section.notice{border:1px solid #d0d7de;border-radius:6px;padding:1rem;margin:1rem 0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:.5rem 0}
dt{font-weight:600}
dd{margin:0}
code,.hash{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em;overflow-wrap:anywhere}
.state{font-weight:600}
.permits{color:#116329}
.stops{color:#a40e26}
.muted{color:#57606a;font-size:.9em}
ol.events li{margin:.75rem 0}
pre{background:#f6f8fa;padding:.5rem;overflow-x:auto;white-space:pre-wrap;overflow-wrap:anywhere}
@media print{main{max-width:none}section.purpose,section.notice{break-inside:avoid}}
";

/// Local times in words, in the ledger's calendar.
struct Times<'a> {
    calendar: &'a Calendar,
}

impl<'a> Times<'a> {
    fn new(calendar: &'a Calendar) -> Self {
        Times { calendar }
    }

    /// "1 October 2024 at 10:00 (BST)", seconds shown only when there are some.
    fn words(&self, t: Timestamp) -> String {
        let z = self.calendar.zoned(t);
        let clock = if z.second() != 0 || z.millisecond() != 0 {
            "%H:%M:%S"
        } else {
            "%H:%M"
        };
        z.strftime(&format!("%-d %B %Y at {clock} (%Z)"))
            .to_string()
    }

    /// A time as HTML: the words, with the exact local RFC 3339 time as `datetime`.
    fn when(&self, t: Timestamp) -> String {
        format!(
            "<time datetime=\"{}\">{}</time>",
            escape(&self.calendar.format(t)),
            escape(&self.words(t))
        )
    }

    /// The end of a validity: "the end of 31 July 2025" when it lapses at a local
    /// midnight (the first instant of the next day), else the time itself.
    fn until(&self, t: Timestamp) -> String {
        let z = self.calendar.zoned(t);
        let midnight = z.hour() == 0 && z.minute() == 0 && z.second() == 0 && z.millisecond() == 0;
        if midnight {
            if let Ok(last) = z.date().yesterday() {
                return format!(
                    "the end of <time datetime=\"{}\">{}</time>",
                    escape(&self.calendar.format(t)),
                    escape(&last.strftime("%-d %B %Y").to_string())
                );
            }
        }
        self.when(t)
    }
}

/// What the page needs to look things up.
struct Page<'a> {
    export: &'a SubjectExport,
    times: Times<'a>,
}

impl Page<'_> {
    /// Every version of a purpose, oldest first.
    fn versions(&self, id: &str) -> Vec<&Purpose> {
        let mut v: Vec<&Purpose> = self
            .export
            .purposes
            .iter()
            .filter(|p| p.def.id == id)
            .collect();
        v.sort_by_key(|p| p.version);
        v
    }

    fn latest(&self, id: &str) -> Option<&Purpose> {
        self.versions(id).into_iter().last()
    }

    /// The version an event was recorded under (else the latest).
    fn purpose_at(&self, id: &str, version: Option<u32>) -> Option<&Purpose> {
        let versions = self.versions(id);
        version
            .and_then(|v| versions.iter().copied().find(|p| p.version == v))
            .or_else(|| versions.last().copied())
    }

    /// "“Title”" (escaped), or the id when the purpose is not in the copy.
    fn purpose_title(&self, id: &str, version: Option<u32>) -> String {
        match self.purpose_at(id, version) {
            Some(p) => format!("“{}”", escape(&p.def.title)),
            None => format!("<code>{}</code>", escape(id)),
        }
    }

    fn notice(&self, r: &NoticeRef) -> Option<&Notice> {
        self.export
            .notices
            .iter()
            .find(|n| n.def.id == r.id && n.def.version == r.version)
    }

    /// "notice “Title” (id version v)".
    fn notice_words(&self, r: &NoticeRef) -> String {
        let name = format!(
            "<code>{}</code> version {}",
            escape(&r.id),
            escape(&r.version)
        );
        match self.notice(r) {
            Some(n) => format!("notice “{}” ({name})", escape(&n.def.title)),
            None => format!("notice {name}"),
        }
    }

    fn event(&self, id: Uuid) -> Option<&Event> {
        self.export.events.iter().find(|e| e.id == id)
    }
}

/// The subject-access copy as a readable, self-contained HTML page: who and when, the
/// ledger head; per purpose its title, controller, lawful basis, special category and
/// current status in words; the notices shown (title, version, controller, SHA-256);
/// then every event in order, in words, with event and record time when they differ.
/// Times are local to `calendar`. Every string is escaped.
pub fn render_html(export: &SubjectExport, calendar: &Calendar) -> String {
    let c = Page {
        export,
        times: Times::new(calendar),
    };
    let t = &c.times;
    let mut h = String::with_capacity(16 * 1024);
    h.push_str("<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    h.push_str("<title>Your consent record</title>\n<style>\n");
    h.push_str(STYLE);
    h.push_str("</style>\n</head>\n<body>\n<main>\n<h1>Your consent record</h1>\n");

    // ---- who and when
    let _ = write!(
        h,
        "<p>This is a copy of everything the consent ledger holds about you: what you agreed to, \
         what you refused or withdrew, and what you were told at the time.</p>\n<dl>\n\
         <dt>Whose record</dt><dd><code>{}</code></dd>\n\
         <dt>Made on</dt><dd>{}</dd>\n\
         <dt>Times shown in</dt><dd>{}</dd>\n\
         <dt>Ledger head</dt><dd>{} entries; root <span class=\"hash\">{}</span></dd>\n</dl>\n",
        escape(&export.subject),
        t.when(export.exported_at),
        escape(calendar.name()),
        export.head.size,
        hex::encode(export.head.root),
    );
    h.push_str(
        "<p class=\"muted\">The ledger head is a fingerprint of the whole ledger when this copy was made. \
         Keep it: the ledger can later prove that every entry below is still in it, unchanged.</p>\n",
    );

    // ---- purposes
    let mut ids: Vec<&str> = Vec::new();
    for e in export.events.iter().filter(|e| e.kind.is_subject_event()) {
        if let Some(p) = e.purpose.as_deref() {
            if !ids.contains(&p) {
                ids.push(p);
            }
        }
    }
    for st in &export.statuses {
        if !ids.contains(&st.purpose.as_str()) {
            ids.push(&st.purpose);
        }
    }
    h.push_str("<h2>Your consents, purpose by purpose</h2>\n");
    if ids.is_empty() {
        h.push_str("<p>Nothing is on record about you.</p>\n");
    }
    for id in ids {
        let latest = c.latest(id);
        let title = latest.map_or(id, |p| p.def.title.as_str());
        h.push_str("<section class=\"purpose\">\n");
        let _ = writeln!(h, "<h3>{}</h3>", escape(title));
        let _ = write!(h, "<dl>\n<dt>Purpose</dt><dd><code>{}</code>", escape(id));
        if let Some(p) = latest {
            let _ = write!(h, ", version {}", p.version);
        }
        h.push_str("</dd>\n");
        if let Some(p) = latest {
            let d = &p.def;
            let _ = writeln!(h, "<dt>Controller</dt><dd>{}</dd>", escape(&d.controller));
            let basis = if d.lawful_basis == LawfulBasis::Consent {
                format!("{} — your consent decides", d.lawful_basis.describe())
            } else {
                format!(
                    "{} — it does not rest on your consent{}",
                    d.lawful_basis.describe(),
                    if d.lawful_basis == LawfulBasis::LegitimateInterests
                        || d.lawful_basis == LawfulBasis::PublicTask
                    {
                        ", but you may object"
                    } else {
                        ""
                    }
                )
            };
            let _ = writeln!(h, "<dt>Lawful basis</dt><dd>{basis}</dd>");
            if let Some(sc) = d.special_category {
                let _ = writeln!(
                    h,
                    "<dt>Special category</dt><dd>{}</dd>",
                    special_category_words(sc)
                );
            }
            if !d.recipients.is_empty() {
                let names: Vec<String> = d
                    .recipients
                    .iter()
                    .map(|r| format!("<code>{}</code>", escape(r)))
                    .collect();
                let _ = writeln!(h, "<dt>Shared with</dt><dd>{}</dd>", names.join(", "));
            }
            if !d.withdrawal_method.trim().is_empty() {
                let _ = writeln!(
                    h,
                    "<dt>How to withdraw</dt><dd>{}</dd>",
                    escape(&d.withdrawal_method)
                );
            }
            let changes: Vec<String> = c
                .versions(id)
                .into_iter()
                .filter(|v| !v.material_change.is_empty())
                .map(|v| {
                    let why: Vec<String> =
                        v.material_change.iter().map(|r| change_words(r)).collect();
                    format!(
                        "version {} of {}: {}",
                        v.version,
                        t.when(v.registered_at),
                        list_words(&why)
                    )
                })
                .collect();
            if !changes.is_empty() {
                let _ = writeln!(
                    h,
                    "<dt>Changes that needed your consent again</dt><dd>{}</dd>",
                    changes.join("; ")
                );
            }
        }
        h.push_str("</dl>\n");
        let statuses: Vec<&Status> = export.statuses.iter().filter(|s| s.purpose == id).collect();
        if !statuses.is_empty() {
            h.push_str("<p><strong>Now:</strong></p>\n<ul>\n");
            for st in statuses {
                let to = st
                    .recipient
                    .as_deref()
                    .map(|r| format!("Sharing with <code>{}</code>: ", escape(r)))
                    .unwrap_or_default();
                let _ = writeln!(
                    h,
                    "<li class=\"{}\">{to}<span class=\"state\">{}</span></li>",
                    state_class(st),
                    status_words(&c, st)
                );
            }
            h.push_str("</ul>\n");
        }
        h.push_str("</section>\n");
    }

    // ---- notices
    h.push_str("<h2>What you were told</h2>\n");
    if export.notices.is_empty() {
        h.push_str("<p>No privacy notice is named in your record.</p>\n");
    } else {
        h.push_str(
            "<p class=\"muted\">Each notice is identified by the SHA-256 fingerprint of its exact text: \
             the text you were shown must hash to it.</p>\n",
        );
    }
    for n in &export.notices {
        let d = &n.def;
        h.push_str("<section class=\"notice\">\n");
        let _ = writeln!(h, "<h3>{}</h3>\n<dl>", escape(&d.title));
        let _ = writeln!(
            h,
            "<dt>Notice</dt><dd><code>{}</code>, version {}</dd>",
            escape(&d.id),
            escape(&d.version)
        );
        if !d.controller.is_empty() {
            let _ = writeln!(h, "<dt>Whose</dt><dd>{}</dd>", escape(&d.controller));
        }
        let _ = writeln!(h, "<dt>Language</dt><dd>{}</dd>", escape(&d.language));
        if let Some(u) = &d.url {
            let _ = writeln!(
                h,
                "<dt>Published at</dt><dd><code>{}</code></dd>",
                escape(u)
            );
        }
        let _ = writeln!(
            h,
            "<dt>SHA-256</dt><dd class=\"hash\">{}</dd>",
            hex::encode(d.sha256)
        );
        let _ = writeln!(h, "<dt>Registered</dt><dd>{}</dd>", t.when(n.registered_at));
        h.push_str("</dl>\n</section>\n");
    }

    // ---- events
    h.push_str("<h2>Everything recorded about you, in order</h2>\n");
    if export.events.is_empty() {
        h.push_str("<p>No entries.</p>\n");
    } else {
        h.push_str(
            "<p class=\"muted\">When something was recorded later than it happened (a paper form typed in \
             afterwards), both times are shown.</p>\n<ol class=\"events\">\n",
        );
    }
    for e in &export.events {
        let _ = write!(h, "<li><p>{}</p>", event_words(&c, e));
        if let Some(ev) = &e.evidence {
            let pretty = serde_json::to_string_pretty(ev).unwrap_or_default();
            let _ = write!(
                h,
                "<p class=\"muted\">Evidence kept:</p><pre>{}</pre>",
                escape(&pretty)
            );
        }
        if let Some(s) = &e.source_id {
            let _ = write!(
                h,
                "<p class=\"muted\">Reference: <code>{}</code></p>",
                escape(s)
            );
        }
        let _ = writeln!(
            h,
            "<p class=\"muted\">Entry {} of the ledger, id <code>{}</code>.</p></li>",
            e.seq, e.id
        );
    }
    if !export.events.is_empty() {
        h.push_str("</ol>\n");
    }
    let _ = writeln!(
        h,
        "<footer><p class=\"muted\">Made from the consent ledger on {} ({}).</p></footer>",
        t.when(export.exported_at),
        escape(&export.format)
    );
    h.push_str("</main>\n</body>\n</html>\n");
    h
}
