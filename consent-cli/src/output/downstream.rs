//! Downstream systems for people: the list, one downstream's versions and
//! acknowledgements, the feed, and the deadlines of `consent overdue`.

use consent_core::{Acknowledgement, Deadline, Downstream, Feed, FeedItem};

use super::{fields, outln, print, Table, Times};
use crate::exit::CliResult;
use crate::terminal;

/// Every downstream, one row each (`consent downstream list`).
pub(crate) fn list(all: &[Downstream]) -> CliResult {
    let mut t = Table::new(&[
        "ID",
        "VERSION",
        "NAME",
        "CONTROLLER",
        "PURPOSES",
        "RECIPIENT",
        "STATE",
    ]);
    for d in all {
        t.row(vec![
            terminal::text(&d.def.id).into_owned(),
            d.version.to_string(),
            terminal::text(&d.def.name).into_owned(),
            terminal::text(&d.def.controller).into_owned(),
            terminal::text(&d.def.purposes.join(", ")).into_owned(),
            d.def
                .recipient
                .as_deref()
                .map_or("(any)".into(), |r| terminal::text(r).into_owned()),
            if d.def.retired { "retired" } else { "active" }.into(),
        ]);
    }
    print(&t.render())?;
    outln!("{} downstreams", all.len())
}

/// One downstream's versions, its cursor and its acknowledgements (`consent downstream
/// show`).
pub(crate) fn versions(
    times: Times<'_>,
    versions: &[Downstream],
    cursor: Option<u64>,
    acks: &[Acknowledgement],
) -> CliResult {
    for d in versions {
        fields_of(times, d)?;
        outln!("")?;
    }
    outln!(
        "cursor: {}",
        cursor.map_or(
            "none (the feed starts at the beginning)".into(),
            |n| format!("acted up to #{n}; the feed continues at #{}", n + 1)
        )
    )?;
    let mut t = Table::new(&["SEQ", "RECORDED", "BY", "ACTED ON"]);
    for a in acks {
        t.row(vec![
            a.seq.to_string(),
            times.show(a.recorded_at),
            terminal::text(&a.recorded_by.to_string()).into_owned(),
            match (a.up_to, a.target) {
                (Some(n), _) => format!("up to #{n}"),
                (None, Some(t)) => format!("event {t}"),
                (None, None) => "-".into(),
            },
        ]);
    }
    print(&t.render())?;
    outln!("{} acknowledgements", acks.len())
}

/// One downstream version, field by field.
pub(crate) fn fields_of(times: Times<'_>, d: &Downstream) -> CliResult {
    print(&fields(&[
        ("id", terminal::text(&d.def.id).into_owned()),
        ("version", d.version.to_string()),
        ("name", terminal::text(&d.def.name).into_owned()),
        ("controller", terminal::text(&d.def.controller).into_owned()),
        (
            "purposes",
            terminal::text(&d.def.purposes.join(", ")).into_owned(),
        ),
        (
            "recipient",
            d.def
                .recipient
                .as_deref()
                .map_or("(any: no recipient filter)".into(), |r| {
                    terminal::text(r).into_owned()
                }),
        ),
        (
            "state",
            if d.def.retired { "retired" } else { "active" }.into(),
        ),
        (
            "registered",
            format!("{} (event #{})", times.show(d.registered_at), d.seq),
        ),
        ("by", d.recorded_by.to_string()),
    ]))
}

fn item_row(times: Times<'_>, i: &FeedItem) -> Vec<String> {
    let subject = match (&i.subject, i.erased) {
        (Some(s), _) => terminal::value(s).into_owned(),
        (None, true) => "[erased]".into(),
        (None, false) => "-".into(),
    };
    let detail = if i.kind == consent_core::EventKind::SubjectErased {
        let seqs: Vec<String> = i.erased_seqs.iter().map(|n| format!("#{n}")).collect();
        format!("delete what you hold from {}", seqs.join(", "))
    } else {
        let mut parts = Vec::new();
        if let Some(r) = &i.recipient {
            parts.push(format!("recipient {}", terminal::text(r)));
        }
        if let Some(d) = i.act_by {
            parts.push(format!("act by {}", times.show(d)));
        }
        if let Some(x) = i.expires_at {
            parts.push(format!("lapses {}", times.show(x)));
        }
        parts.join(" · ")
    };
    vec![
        i.seq.to_string(),
        i.kind.to_string(),
        subject,
        i.purpose
            .as_deref()
            .map_or("-".into(), |p| terminal::text(p).into_owned()),
        times.show(i.effective_at),
        detail,
    ]
}

const FEED_HEADER: [&str; 6] = ["SEQ", "KIND", "SUBJECT", "PURPOSE", "EFFECTIVE", "DETAIL"];

/// A page of a feed as a table (`consent feed`).
pub(crate) fn feed_table(times: Times<'_>, items: &[FeedItem]) -> String {
    let mut t = Table::new(&FEED_HEADER);
    for i in items {
        t.row(item_row(times, i));
    }
    t.render()
}

/// One item of a followed feed: the table's row without its header.
pub(crate) fn feed_line(times: Times<'_>, i: &FeedItem) -> CliResult {
    let mut t = Table::new(&FEED_HEADER);
    t.row(item_row(times, i));
    let rendered = t.render();
    if let Some(line) = rendered.lines().nth(1) {
        outln!("{line}")?;
    }
    Ok(())
}

/// The deadlines of `consent overdue`, a section per state (the empty ones only with
/// `all`, but "overdue" always).
pub(crate) fn deadlines(
    times: Times<'_>,
    sections: [(&str, &[&Deadline]); 3],
    all: bool,
) -> CliResult {
    let header = [
        "DOWNSTREAM",
        "SEQ",
        "KIND",
        "PURPOSE",
        "RECIPIENT",
        "DEADLINE",
        "LATE BY",
    ];
    for (name, list) in sections {
        if list.is_empty() && name != "overdue" && !all {
            continue;
        }
        outln!("{name}: {}", list.len())?;
        if !list.is_empty() {
            let mut t = Table::new(&header);
            for d in list {
                t.row(deadline_row(times, d));
            }
            print(&t.render())?;
        }
    }
    Ok(())
}

fn deadline_row(times: Times<'_>, d: &Deadline) -> Vec<String> {
    vec![
        terminal::text(&d.downstream).into_owned(),
        d.seq.to_string(),
        d.kind.to_string(),
        terminal::text(&d.purpose).into_owned(),
        d.recipient
            .as_deref()
            .map_or("-".into(), |r| terminal::text(r).into_owned()),
        times.show(d.deadline),
        d.late_by_secs.map_or("-".into(), human_duration),
    ]
}

fn human_duration(secs: u64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (d, h) {
        (0, 0) => format!("{m}m"),
        (0, _) => format!("{h}h{m:02}m"),
        _ => format!("{d}d{h:02}h"),
    }
}

/// One page of a downstream's feed, and how to go on (`consent feed`).
pub(crate) fn feed_page(times: Times<'_>, downstream: &str, page: &Feed) -> CliResult {
    print(&feed_table(times, &page.items))?;
    outln!(
        "{} items; continue with --since {}; acknowledge with `consent ack {} --up-to SEQ`",
        page.items.len(),
        page.next,
        terminal::text(downstream)
    )
}

/// An acknowledgement recorded (`consent ack`).
pub(crate) fn acknowledged(done: &Acknowledgement) -> CliResult {
    let acted = match (done.up_to, done.target) {
        (Some(n), _) => format!("every event of its feed up to #{n}"),
        (None, Some(t)) => format!("event {t}"),
        (None, None) => "-".into(),
    };
    outln!(
        "acknowledged (event #{}): {} acted on {acted}",
        done.seq,
        terminal::text(&done.downstream)
    )
}

/// How many deadlines were met (`consent overdue --all`).
pub(crate) fn acknowledged_in_time(n: usize) -> CliResult {
    outln!("acknowledged in time: {n}")
}
