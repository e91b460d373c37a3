//! Events for people: the history table (`history`, `changes`, an erasure's preview)
//! and what a recording command recorded.

use std::path::Path;

use consent_core::{Event, EventKind, Purpose, SubjectExport, Timestamp};

use super::{fields, outln, print, short_hash, Table, Times};
use crate::exit::CliResult;
use crate::terminal;

/// A text field of an event's non-personal details.
fn detail<'e>(e: &'e Event, key: &str) -> Option<&'e str> {
    e.details.as_ref()?.get(key)?.as_str()
}

/// The start a grant's validity is counted from, when it is not its effective time.
fn validity_from(e: &Event) -> Option<Timestamp> {
    detail(e, "validity_from").and_then(|t| Timestamp::parse(t).ok())
}

fn event_row(times: Times<'_>, e: &Event) -> Vec<String> {
    let detail = match e.kind {
        EventKind::PurposeDefined => format!("v{}", e.purpose_version.unwrap_or(0)),
        EventKind::NoticeDefined => e
            .notice
            .as_ref()
            .map_or(String::new(), |n| format!("{}@{}", n.id, n.version)),
        EventKind::SubjectErased => {
            detail(e, "reason").map_or(String::new(), |r| format!("reason: {r}"))
        }
        EventKind::SubjectReadmitted => {
            let mut s = detail(e, "reason").map_or(String::new(), |r| format!("reason: {r}"));
            if let Some(n) = e
                .details
                .as_ref()
                .and_then(|d| d.get("erasure_seq"))
                .and_then(|n| n.as_u64())
            {
                s.push_str(&format!(" · ends erasure #{n}"));
            }
            s
        }
        EventKind::DownstreamRegistered => {
            let d = e.details.as_ref();
            let get = |k: &str| d.and_then(|d| d.get(k));
            let mut s = format!(
                "{} v{}",
                terminal::text(get("id").and_then(|v| v.as_str()).unwrap_or("?")),
                get("version").and_then(|v| v.as_u64()).unwrap_or(0)
            );
            if get("retired").and_then(|v| v.as_bool()) == Some(true) {
                s.push_str(" · retired");
            }
            s
        }
        EventKind::DownstreamAcknowledged => {
            let mut s = terminal::text(detail(e, "downstream").unwrap_or("?")).into_owned();
            match (
                e.details
                    .as_ref()
                    .and_then(|d| d.get("up_to"))
                    .and_then(|n| n.as_u64()),
                e.target,
            ) {
                (Some(n), _) => s.push_str(&format!(" · acted up to #{n}")),
                (None, Some(t)) => s.push_str(&format!(" · acted on {t}")),
                (None, None) => {}
            }
            s
        }
        EventKind::LedgerConfigured => {
            let mut parts = Vec::new();
            if let Some(c) = detail(e, "clock") {
                parts.push(format!("clock {c}"));
            }
            if let Some(z) = detail(e, "time_zone") {
                parts.push(format!("time zone {z}"));
            }
            parts.join(" · ")
        }
        _ => {
            let mut parts = Vec::new();
            if let Some(n) = &e.notice {
                parts.push(format!("{}@{}", n.id, n.version));
            }
            if e.explicit {
                parts.push("explicit".into());
            }
            if let Some(m) = e.method {
                parts.push(m.to_string());
            }
            if detail(e, "asked_as") == Some("withdrawn") {
                parts.push("asked as a withdrawal".into());
            }
            if let Some(r) = detail(e, "unlisted_recipient") {
                parts.push(format!("recipient `{r}` not listed: purpose-wide"));
            }
            if let Some(t) = validity_from(e) {
                parts.push(format!("counted from {}", times.show(t)));
            }
            if let Some(x) = e.expires_at {
                parts.push(format!("lapses {}", times.show(x)));
            }
            if let Some(d) = e.effect_deadline.filter(|d| *d != e.effective_at) {
                parts.push(format!("downstream by {}", times.show(d)));
            }
            if e.erased {
                parts.push("[erased]".into());
            }
            parts.join(" · ")
        }
    };
    vec![
        e.seq.to_string(),
        times.show(e.effective_at),
        times.show(e.recorded_at),
        e.kind.to_string(),
        e.purpose.clone().unwrap_or_else(|| "-".into()),
        e.recipient.clone().unwrap_or_else(|| "-".into()),
        e.recorded_by.to_string(),
        detail,
    ]
}

pub(crate) const EVENT_HEADER: &[&str] = &[
    "#",
    "EFFECTIVE",
    "RECORDED",
    "EVENT",
    "PURPOSE",
    "RECIPIENT",
    "BY",
    "DETAILS",
];

/// The events as a table for people.
pub(crate) fn event_table(times: Times<'_>, events: &[Event]) -> String {
    let mut t = Table::new(EVENT_HEADER);
    for e in events {
        t.row(event_row(times, e));
    }
    t.render()
}

/// The log's events as a table for people, with their subjects (`consent changes`).
pub(crate) fn changes_table(times: Times<'_>, events: &[Event]) -> String {
    let mut header = EVENT_HEADER.to_vec();
    header.insert(4, "SUBJECT");
    let mut t = Table::new(&header);
    for e in events {
        let mut row = event_row(times, e);
        let who = match (&e.subject, e.erased) {
            (Some(s), _) => s.clone(),
            (None, true) => "[erased]".into(),
            (None, false) => "-".into(),
        };
        row.insert(4, who);
        t.row(row);
    }
    t.render()
}

/// What `consent give`, `withdraw`, ... recorded, for people: the event, and the
/// times, recipient and notice it carries.
pub(crate) fn recorded(times: Times<'_>, ev: &Event, again: bool) -> CliResult {
    outln!(
        "{} {} · {} · event #{} {}",
        if again {
            "already on record:"
        } else {
            "recorded:"
        },
        ev.kind,
        ev.purpose.as_deref().unwrap_or("-"),
        ev.seq,
        ev.id
    )?;
    let mut lines = vec![
        ("effective", times.show(ev.effective_at)),
        ("recorded", times.show(ev.recorded_at)),
    ];
    if let Some(r) = &ev.recipient {
        lines.push(("recipient", r.clone()));
    }
    if let Some(t) = validity_from(ev) {
        lines.push(("counted from", times.show(t)));
    }
    if let Some(x) = ev.expires_at {
        lines.push(("lapses", times.show(x)));
    }
    if let Some(d) = ev.effect_deadline {
        if d != ev.effective_at {
            lines.push(("downstream by", times.show(d)));
        }
    }
    if let Some(n) = &ev.notice {
        lines.push((
            "notice",
            format!("{}@{} (sha256 {})", n.id, n.version, short_hash(&n.sha256)),
        ));
    }
    print(&fields(&lines))
}

/// A withdrawal recorded as an objection, because purpose `p` does not rest on
/// consent (`consent withdraw`).
pub(crate) fn withdrawal_as_objection(p: &Purpose) -> CliResult {
    outln!(
        "note: {} does not rest on consent ({}), so the withdrawal is recorded as an objection (Art. 21); processing stops unless staff overrule it (`consent overrule-objection`)",
        p.def.id,
        p.def.lawful_basis.describe()
    )
}

/// An event of `kind` recorded for the whole purpose, because `asked` is not a
/// recipient the purpose lists.
pub(crate) fn recipient_not_listed(asked: &str, kind: EventKind) -> CliResult {
    outln!(
        "note: `{}` is not a recipient the purpose lists, so the {kind} is recorded for the whole purpose: it ends consent for every recipient (the text as written is kept)",
        terminal::value(asked)
    )
}

/// A subject's history (`consent history`).
pub(crate) fn history(times: Times<'_>, subject: &str, events: &[Event]) -> CliResult {
    if events.is_empty() {
        return outln!("no events about {}", terminal::value(subject));
    }
    print(&event_table(times, events))
}

/// A page of the log's changes, and where the next one starts (`consent changes`).
pub(crate) fn changes(times: Times<'_>, events: &[Event], next: u64) -> CliResult {
    print(&changes_table(times, events))?;
    outln!("{} events; continue with --since {next}", events.len())
}

/// The subject's copy in plain words written to `path` (`consent export --format html`).
pub(crate) fn subject_copy_written(subject: &str, bytes: usize, path: &Path) -> CliResult {
    outln!(
        "subject's copy of {} (HTML, {bytes} bytes) → {} (0600)",
        terminal::value(subject),
        path.display()
    )
}

/// A subject-access copy written to `path` (`consent export`).
pub(crate) fn subject_access_written(subject: &str, x: &SubjectExport, path: &Path) -> CliResult {
    outln!(
        "subject-access copy of {}: {} events, {} purposes, {} notices, head {} → {} (0600)",
        terminal::value(subject),
        x.events.len(),
        x.purposes.len(),
        x.notices.len(),
        x.head,
        path.display()
    )
}
