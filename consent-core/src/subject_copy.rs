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
use crate::event::{Actor, ActorKind, Event, EventKind, Method};
use crate::ledger::{Ledger, SubjectExport};
use crate::notice::{Notice, NoticeRef};
use crate::purpose::{LawfulBasis, Purpose};
use crate::query::{State, Status};
use crate::timestamp::Timestamp;

impl Ledger {
    /// The subject-access copy of [`Ledger::export_subject`] as a readable,
    /// self-contained HTML page (see [`render_html`]), with times in the ledger's
    /// time zone.
    pub fn export_subject_html(&self, subject: &str) -> Result<String> {
        let export = self.export_subject(subject)?;
        let calendar = self.calendar()?;
        Ok(render_html(&export, &calendar))
    }
}

/// Escapes text for HTML element content and quoted attribute values.
fn escape(text: &str) -> String {
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

fn method_words(m: Method) -> &'static str {
    match m {
        Method::Portal => "the online portal",
        Method::WebForm => "a web form",
        Method::Paper => "a paper form",
        Method::Email => "email",
        Method::Feed => "an automated feed from another system",
        Method::InPerson => "in person",
        Method::Phone => "telephone",
        Method::Api => "another system’s interface (API)",
    }
}

fn actor_words(a: &Actor) -> String {
    match a.kind {
        ActorKind::Subject => "you".into(),
        _ => format!("<code>{}</code>", escape(&a.to_string())),
    }
}

fn special_category_words(letter: char) -> String {
    let what = match letter {
        'a' => "explicit consent",
        'b' => "employment and social security law",
        'c' => "vital interests",
        'd' => "a not-for-profit body’s legitimate activities",
        'e' => "data you have made public",
        'f' => "legal claims",
        'g' => "substantial public interest",
        'h' => "health or social care",
        'i' => "public health",
        'j' => "archiving, research or statistics",
        _ => "",
    };
    if what.is_empty() {
        format!(
            "special category data, Art. 9(2)({})",
            escape(&letter.to_string())
        )
    } else {
        format!(
            "special category data (health, ethnicity and the like), Art. 9(2)({letter}) {what}"
        )
    }
}

fn change_words(reason: &str) -> String {
    match reason {
        "lawful_basis" => "its lawful basis changed".into(),
        "controller" => "its controller changed".into(),
        "special_category" => "it now uses special category data".into(),
        "recipients" => "it shares with a new recipient".into(),
        "declared" => "its owner declared a change that needs your consent again".into(),
        other => escape(other),
    }
}

fn list_words(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn state_class(st: &Status) -> &'static str {
    if st.permits() {
        "permits"
    } else {
        "stops"
    }
}

/// The current status in plain words.
fn status_words(c: &Page<'_>, st: &Status) -> String {
    let t = &c.times;
    let since = |prefix: &str| {
        st.since
            .map(|s| format!(" {prefix} {}", t.when(s)))
            .unwrap_or_default()
    };
    match st.state {
        State::Given => {
            let lasts = match st.until {
                Some(u) => format!("it lasts until {}", t.until(u)),
                None => "it lasts until you withdraw it".into(),
            };
            format!("You gave consent{}; {lasts}.", since("on"))
        }
        State::Refused => format!("You said no{}.", since("on")),
        State::Withdrawn => {
            let mut s = format!("You withdrew consent{}.", since("on"));
            // A deadline is news only when the purpose allows downstream systems time.
            if let Some(d) = st.effect_deadline.filter(|d| Some(*d) > st.since) {
                let _ = write!(
                    s,
                    " Anyone who received your data for this purpose must have stopped using it by {}.",
                    t.when(d)
                );
            }
            s
        }
        State::Revoked => format!(
            "The controller stopped relying on your consent{}.",
            since("on")
        ),
        State::Invalidated => format!(
            "Your consent was found never to have been valid (recorded{}); it counts as never given.",
            since("on")
        ),
        State::Expired => format!("Your consent lapsed{}.", since("on")),
        State::Objected => format!(
            "You objected{}; this processing must stop for you.",
            since("on")
        ),
        State::NeverAsked => "You have not been asked: nothing is on record.".into(),
        State::NotConsentBased => {
            let overruled = st
                .event_id
                .and_then(|id| c.event(id))
                .is_some_and(|e| e.kind == EventKind::ObjectionOverruled);
            let mut s = format!(
                "This purpose does not rest on your consent ({}).",
                st.lawful_basis.describe()
            );
            if overruled {
                let _ = write!(
                    s,
                    " Your objection was overruled{}: the controller’s compelling legitimate grounds were found to override it.",
                    since("on")
                );
            }
            s
        }
        State::NeedsRenewal => {
            let reasons: Vec<String> = st
                .since
                .and_then(|s| {
                    c.versions(&st.purpose)
                        .into_iter()
                        .find(|p| p.registered_at == s && !p.material_change.is_empty())
                })
                .map(|p| p.material_change.iter().map(|r| change_words(r)).collect())
                .unwrap_or_default();
            let why = if reasons.is_empty() {
                String::new()
            } else {
                format!(" ({})", list_words(&reasons))
            };
            format!(
                "Needs renewal: the purpose changed{}{why}, after you gave consent; your consent no longer covers it until you are asked again.",
                since("on")
            )
        }
        State::Erased => {
            // The status may not carry the time; the erasure event does.
            let at = st.since.or_else(|| {
                c.export
                    .events
                    .iter()
                    .rev()
                    .find(|e| e.kind == EventKind::SubjectErased)
                    .map(|e| e.effective_at)
            });
            match at {
                Some(at) => format!("Erased: your records were erased on {}.", t.when(at)),
                None => "Erased: your records were erased.".into(),
            }
        }
    }
}

/// One event in plain words.
fn event_words(c: &Page<'_>, e: &Event) -> String {
    let t = &c.times;
    let on = format!("On {}", t.when(e.effective_at));
    let purpose = e
        .purpose
        .as_deref()
        .map(|p| c.purpose_title(p, e.purpose_version))
        .unwrap_or_default();
    let recipient = e
        .recipient
        .as_deref()
        .map(|r| format!(" for sharing with <code>{}</code>", escape(r)))
        .unwrap_or_default();
    let notice = e
        .notice
        .as_ref()
        .map(|n| format!(", shown {}", c.notice_words(n)))
        .unwrap_or_default();
    let detail = |key: &str| {
        e.details
            .as_ref()
            .and_then(|d| d.get(key))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let mut s = match e.kind {
        EventKind::Given => format!(
            "{on} you gave {}consent to {purpose}{recipient}{notice}",
            if e.explicit { "explicit " } else { "" }
        ),
        EventKind::Refused => format!("{on} you said no to {purpose}{recipient}{notice}"),
        EventKind::Withdrawn => format!("{on} you withdrew consent to {purpose}{recipient}"),
        EventKind::Revoked => format!(
            "{on} the controller stopped relying on your consent to {purpose}{recipient}"
        ),
        EventKind::Invalidated => {
            let target = e
                .target
                .and_then(|id| c.event(id))
                .map(|g| format!(" (the one of {})", t.when(g.effective_at)))
                .unwrap_or_default();
            format!(
                "{on} your consent to {purpose}{recipient}{target} was found never to have been valid"
            )
        }
        EventKind::Objected => format!("{on} you objected to {purpose}{recipient}"),
        EventKind::ObjectionOverruled => format!(
            "{on} your objection to {purpose}{recipient} was overruled: the controller’s compelling legitimate grounds were found to override it"
        ),
        EventKind::NoticeServed => {
            format!("{on} you were shown {}", match &e.notice {
                Some(n) => c.notice_words(n),
                None => "a notice".into(),
            }) + &if purpose.is_empty() {
                String::new()
            } else {
                format!(" about {purpose}{recipient}")
            }
        }
        EventKind::SubjectErased => format!("{on} your records were erased"),
        EventKind::SubjectReadmitted => {
            format!("{on} you were readmitted after an earlier erasure")
        }
        other => format!("{on}: {}", escape(other.as_str())),
    };
    if let Some(m) = e.method {
        let _ = write!(s, ", collected through {}", method_words(m));
    }
    let _ = write!(s, ", recorded by {}", actor_words(&e.recorded_by));
    if e.recorded_at != e.effective_at {
        let _ = write!(s, " on {}", t.when(e.recorded_at));
    }
    s.push('.');
    if let Some(x) = e.expires_at {
        let _ = write!(s, " It lasts until {}.", t.until(x));
    }
    if let Some(d) = e.effect_deadline.filter(|d| *d > e.effective_at) {
        let _ = write!(
            s,
            " Anyone who received your data for this purpose had until {} to stop.",
            t.when(d)
        );
    }
    if let Some(r) = detail("unlisted_recipient") {
        let _ = write!(
            s,
            " You named <code>{}</code>, which this purpose does not list, so it ended your consent for every recipient.",
            escape(&r)
        );
    }
    if detail("asked_as").as_deref() == Some("withdrawn") {
        s.push_str(
            " You asked to withdraw; as this purpose does not rest on consent, it was recorded as an objection.",
        );
    }
    if let Some(from) = detail("validity_from") {
        if let Ok(from) = Timestamp::parse(&from) {
            let _ = write!(s, " Its validity counts from {}.", t.when(from));
        }
    }
    if let Some(r) = detail("reason") {
        let _ = write!(s, " Reason given: “{}”.", escape(&r));
    }
    if e.erased {
        s.push_str(" (Its personal details have been erased.)");
    }
    s
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::sync::Arc;

    use super::*;
    use crate::event::NewEvent;
    use crate::notice::NoticeDef;
    use crate::purpose::{PurposeDef, Validity};
    use crate::store::LedgerOptions;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    fn ledger(clock: &Arc<AtomicI64>) -> Ledger {
        let c = clock.clone();
        Ledger::in_memory_with(LedgerOptions {
            clock: Some(Arc::new(move || {
                Timestamp::from_millis(c.load(Ordering::SeqCst)).unwrap()
            })),
            ..LedgerOptions::default()
        })
        .unwrap()
    }

    #[test]
    fn escapes_every_special_character() {
        assert_eq!(
            escape(r#"<a href="x">Tom & Jerry's</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;"
        );
    }

    #[test]
    fn the_page_reads_like_a_record() {
        let now = Arc::new(AtomicI64::new(t("2024-09-01T09:00:00Z").as_millis()));
        let set = |s: &str| now.store(t(s).as_millis(), Ordering::SeqCst);
        let l = ledger(&now);
        let mut tasters = PurposeDef::new(
            "jmsu.project.freshers-tasters",
            "Freshers' Fair <taster> sessions",
            "JMSU",
        );
        tasters.validity = Validity::ACADEMIC_YEAR;
        tasters.withdrawal_method = "Email jmsu@ljmu.ac.uk.".into();
        l.register_purpose(tasters).unwrap();
        l.register_purpose(PurposeDef::new("jmsu.marketing", "JMSU marketing", "JMSU"))
            .unwrap();
        let notice = l
            .register_notice(
                NoticeDef::from_text("jmsu.privacy", "1", "JMSU privacy policy", "the text")
                    .covering("JMSU", ["jmsu.*"]),
            )
            .unwrap();

        let subject = "<script>alert(1)</script>";
        // A paper form signed on 1 October, typed in on 5 October.
        set("2024-10-05T11:20:00Z");
        l.append(
            NewEvent::give(subject, "jmsu.project.freshers-tasters")
                .notice("jmsu.privacy", "1")
                .method(Method::Paper)
                .recorded_by(Actor::staff("ab12"))
                .effective_at(t("2024-10-01T09:00:00Z"))
                .evidence(serde_json::json!({"note": "<script>steal()</script> & \"more\""})),
        )
        .unwrap();
        set("2024-10-06T10:00:00Z");
        l.append(
            NewEvent::give(subject, "jmsu.marketing")
                .notice("jmsu.privacy", "1")
                .method(Method::WebForm),
        )
        .unwrap();
        set("2025-03-03T10:00:00Z");
        l.append(NewEvent::withdraw(subject, "jmsu.marketing").method(Method::Portal))
            .unwrap();

        set("2025-03-04T12:00:00Z");
        let html = l.export_subject_html(subject).unwrap();
        assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
        assert!(html.contains("<html lang=\"en-GB\">"));
        assert!(html.contains("<meta charset=\"utf-8\">"));
        assert!(html.contains("<title>Your consent record</title>"));
        // Nothing from the ledger gets through unescaped; no script, no resource.
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<taster>"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(
            html.contains("&lt;script&gt;steal()&lt;/script&gt; &amp; \\&quot;more\\&quot;"),
            "{html}"
        );
        for banned in ["src=", "href=", "<link", "@import", "url("] {
            assert!(!html.contains(banned), "{banned}");
        }
        // Purposes, by title, with controller and basis.
        assert!(
            html.contains("Freshers&#39; Fair &lt;taster&gt; sessions"),
            "{html}"
        );
        assert!(html.contains("<h3>JMSU marketing</h3>"), "{html}");
        assert!(html.contains("Art. 6(1)(a) consent"));
        assert!(html.contains("<dd>JMSU</dd>"));
        // The notice: title, version, hash.
        assert!(html.contains("<h3>JMSU privacy policy</h3>"));
        assert!(html.contains(&hex::encode(notice.def.sha256)));
        // States in words, with local times.
        assert!(
            html.contains("You gave consent on <time datetime=\"2024-10-01T10:00:00+01:00\">1 October 2024 at 10:00 (BST)</time>; it lasts until the end of <time datetime=\"2025-08-01T00:00:00+01:00\">31 July 2025</time>."),
            "{html}"
        );
        assert!(html.contains("You withdrew consent on <time datetime=\"2025-03-03T10:00:00+00:00\">3 March 2025 at 10:00 (GMT)</time>."), "{html}");
        // Events: the late record shows both times and who typed it in.
        assert!(
            html.contains("you gave consent to “Freshers&#39; Fair &lt;taster&gt; sessions”, shown notice “JMSU privacy policy” (<code>jmsu.privacy</code> version 1), collected through a paper form, recorded by <code>staff:ab12</code> on <time datetime=\"2024-10-05T12:20:00+01:00\">5 October 2024 at 12:20 (BST)</time>."),
            "{html}"
        );
        assert!(
            html.contains("you withdrew consent to “JMSU marketing”"),
            "{html}"
        );
        // The head.
        let head = l.head().unwrap();
        assert!(html.contains(&hex::encode(head.root)));

        // After an erasure the copy says so.
        set("2031-09-01T09:00:00Z");
        l.erase_subject(subject, "retention ended", Actor::staff("dpo"))
            .unwrap();
        let html = l.export_subject_html(subject).unwrap();
        assert!(
            html.contains(
                "Erased: your records were erased on <time datetime=\"2031-09-01T10:00:00+01:00\">"
            ),
            "{html}"
        );
        assert!(!html.contains("<script"), "{html}");
    }

    #[test]
    fn a_material_change_reads_as_needs_renewal() {
        let now = Arc::new(AtomicI64::new(t("2024-09-01T09:00:00Z").as_millis()));
        let set = |s: &str| now.store(t(s).as_millis(), Ordering::SeqCst);
        let l = ledger(&now);
        let mut sharing = PurposeDef::new("jmsu.data-sharing", "Share my record with JMSU", "LJMU");
        sharing.effect_delay_secs = 86_400;
        l.register_purpose(sharing.clone()).unwrap();
        l.register_notice(
            NoticeDef::from_text("jmsu.privacy", "1", "JMSU privacy policy", "the text")
                .covering("JMSU", ["jmsu.*"]),
        )
        .unwrap();
        set("2024-09-16T09:12:00Z");
        l.append(
            NewEvent::give("770001", "jmsu.data-sharing")
                .notice("jmsu.privacy", "1")
                .method(Method::Feed)
                .recorded_by(Actor::system("it-registration")),
        )
        .unwrap();
        set("2025-01-06T09:00:00Z");
        sharing.controller = "LJMU and JMSU".into();
        l.register_purpose(sharing).unwrap();
        set("2025-01-07T09:00:00Z");
        let html = l.export_subject_html("770001").unwrap();
        assert!(
            html.contains("Needs renewal: the purpose changed on <time datetime=\"2025-01-06T09:00:00+00:00\">6 January 2025 at 09:00 (GMT)</time> (its controller changed)"),
            "{html}"
        );
        assert!(
            html.contains("<code>system:it-registration</code>"),
            "{html}"
        );
        assert!(html.contains("an automated feed"), "{html}");
        // A withdrawal with a delay gives the deadline.
        set("2025-03-03T10:00:00Z");
        l.append(NewEvent::withdraw("770001", "jmsu.data-sharing"))
            .unwrap();
        let html = l.export_subject_html("770001").unwrap();
        assert!(
            html.contains(
                "must have stopped using it by <time datetime=\"2025-03-04T10:00:00+00:00\">"
            ),
            "{html}"
        );
    }
}
