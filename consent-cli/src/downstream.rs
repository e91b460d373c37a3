//! Downstream systems on the command line: `consent downstream register|retire|list|
//! show`, `consent feed DOWNSTREAM [--follow]`, `consent ack DOWNSTREAM` and
//! `consent overdue` (exit 12 when a deadline passed without an acknowledgement).

use std::time::{Duration, Instant};

use consent_core::{Ack, Actor, Deadline, DeadlineState, Downstream, DownstreamDef, FeedItem};
use serde_json::json;

use crate::cli::downstream::{AckArgs, DownstreamCmd, FeedArgs};
use crate::cli::TimeArg;
use crate::ctx::Ctx;
use crate::exit::{CliResult, Failure, OVERDUE};
use crate::output::{self, fields, outln, print_json, Table};
use crate::terminal;

/// Runs `consent downstream …`.
pub(crate) fn downstream(ctx: &Ctx, cmd: DownstreamCmd) -> CliResult {
    let ledger = ctx.open()?;
    match cmd {
        DownstreamCmd::Register(a) => {
            let mut def = DownstreamDef::new(a.id, a.name, a.controller, a.purposes);
            def.recipient = a.recipient;
            let d = ledger.register_downstream(def, a.recorded_by)?;
            show_one(ctx, &d)
        }
        DownstreamCmd::Retire { id, recorded_by } => {
            let d = ledger.retire_downstream(&id, recorded_by)?;
            show_one(ctx, &d)
        }
        DownstreamCmd::List => {
            let all = ledger.downstreams()?;
            if ctx.json {
                return print_json(&all);
            }
            let mut t = Table::new(&[
                "ID",
                "VERSION",
                "NAME",
                "CONTROLLER",
                "PURPOSES",
                "RECIPIENT",
                "STATE",
            ]);
            for d in &all {
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
            output::print(&t.render())?;
            outln!("{} downstreams", all.len())
        }
        DownstreamCmd::Show { id } => {
            let versions = ledger.downstream_versions(&id)?;
            let acks = ledger.acknowledgements(&id)?;
            let cursor = consent_core::feed_cursor(&acks);
            if ctx.json {
                return print_json(&json!({
                    "id": id,
                    "versions": versions,
                    "cursor": cursor,
                    "acknowledgements": acks,
                }));
            }
            for d in &versions {
                show_fields(ctx, d)?;
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
            for a in &acks {
                t.row(vec![
                    a.seq.to_string(),
                    ctx.time(a.recorded_at),
                    terminal::text(&a.recorded_by.to_string()).into_owned(),
                    match (a.up_to, a.target) {
                        (Some(n), _) => format!("up to #{n}"),
                        (None, Some(t)) => format!("event {t}"),
                        (None, None) => "-".into(),
                    },
                ]);
            }
            output::print(&t.render())?;
            outln!("{} acknowledgements", acks.len())
        }
    }
}

fn show_fields(ctx: &Ctx, d: &Downstream) -> CliResult {
    output::print(&fields(&[
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
            format!("{} (event #{})", ctx.time(d.registered_at), d.seq),
        ),
        ("by", d.recorded_by.to_string()),
    ]))
}

fn show_one(ctx: &Ctx, d: &Downstream) -> CliResult {
    if ctx.json {
        return print_json(d);
    }
    show_fields(ctx, d)
}

fn item_row(ctx: &Ctx, i: &FeedItem) -> Vec<String> {
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
            parts.push(format!("act by {}", ctx.time(d)));
        }
        if let Some(x) = i.expires_at {
            parts.push(format!("lapses {}", ctx.time(x)));
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
        ctx.time(i.effective_at),
        detail,
    ]
}

const FEED_HEADER: [&str; 6] = ["SEQ", "KIND", "SUBJECT", "PURPOSE", "EFFECTIVE", "DETAIL"];

/// Runs `consent feed`.
pub(crate) fn feed(ctx: &Ctx, a: FeedArgs) -> CliResult {
    let ledger = ctx.open()?;
    if a.limit == 0 {
        return Err(Failure::usage("--limit must be at least 1"));
    }
    if !a.follow {
        let page = ledger.feed(&a.downstream, a.since, a.limit)?;
        if ctx.json {
            return print_json(&page);
        }
        let mut t = Table::new(&FEED_HEADER);
        for i in &page.items {
            t.row(item_row(ctx, i));
        }
        output::print(&t.render())?;
        return outln!(
            "{} items; continue with --since {}; acknowledge with `consent ack {} --up-to SEQ`",
            page.items.len(),
            page.next,
            terminal::text(&a.downstream)
        );
    }
    // Follow: print each page as it comes; stop after --wait seconds without one.
    let wait = a.wait.map(Duration::from_secs);
    let mut since = a.since;
    let mut quiet_since = Instant::now();
    loop {
        let slice = match wait {
            Some(w) => w.saturating_sub(quiet_since.elapsed()),
            None => Duration::from_secs(3600),
        };
        let page = ledger.feed_wait(&a.downstream, since, a.limit, slice)?;
        since = Some(page.next);
        if page.items.is_empty() {
            if wait.is_some_and(|w| quiet_since.elapsed() >= w) {
                return Ok(());
            }
            continue;
        }
        quiet_since = Instant::now();
        for i in &page.items {
            if ctx.json {
                output::print(&format!(
                    "{}\n",
                    serde_json::to_string(i).map_err(|e| Failure::usage(e.to_string()))?
                ))?;
            } else {
                let mut t = Table::new(&FEED_HEADER);
                t.row(item_row(ctx, i));
                // One line per item: the table's row without its header.
                let rendered = t.render();
                if let Some(line) = rendered.lines().nth(1) {
                    outln!("{line}")?;
                }
            }
        }
    }
}

/// Runs `consent ack`.
pub(crate) fn ack(ctx: &Ctx, a: AckArgs) -> CliResult {
    let ledger = ctx.open()?;
    let what = match (a.up_to, &a.event) {
        (Some(n), None) => Ack::UpTo(n),
        (None, Some(id)) => Ack::Event(*id),
        _ => return Err(Failure::usage("give --up-to SEQ or --event ID")),
    };
    let by = match a.recorded_by {
        Some(by) => by,
        None => Actor::system(a.downstream.clone()),
    };
    let done = ledger.acknowledge(&a.downstream, what, by)?;
    if ctx.json {
        return print_json(&done);
    }
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

fn deadline_row(ctx: &Ctx, d: &Deadline) -> Vec<String> {
    vec![
        terminal::text(&d.downstream).into_owned(),
        d.seq.to_string(),
        d.kind.to_string(),
        terminal::text(&d.purpose).into_owned(),
        d.recipient
            .as_deref()
            .map_or("-".into(), |r| terminal::text(r).into_owned()),
        ctx.time(d.deadline),
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

/// Runs `consent overdue`: exit 12 when some deadline passed unacknowledged.
pub(crate) fn overdue(ctx: &Ctx, at: Option<&TimeArg>, all: bool) -> CliResult {
    let ledger = ctx.open()?;
    let at = ctx.opt_time("--at", at)?;
    let deadlines = ledger.deadlines(at)?;
    let now = at.map_or_else(|| ledger.now(), Ok)?;
    let of = |s: DeadlineState| -> Vec<&Deadline> {
        deadlines.iter().filter(|d| d.state == s).collect()
    };
    let (overdue, pending, late) = (
        of(DeadlineState::Overdue),
        of(DeadlineState::Pending),
        of(DeadlineState::AcknowledgedLate),
    );
    if ctx.json {
        let mut v = json!({
            "at": now,
            "overdue": overdue,
            "pending": pending,
            "acknowledged_late": late,
        });
        if all {
            v["deadlines"] = json!(deadlines);
        }
        print_json(&v)?;
    } else {
        let header = [
            "DOWNSTREAM",
            "SEQ",
            "KIND",
            "PURPOSE",
            "RECIPIENT",
            "DEADLINE",
            "LATE BY",
        ];
        let sections: [(&str, &[&Deadline]); 3] = [
            ("overdue", &overdue),
            ("pending", &pending),
            ("acknowledged late", &late),
        ];
        for (name, list) in sections {
            if list.is_empty() && name != "overdue" && !all {
                continue;
            }
            outln!("{name}: {}", list.len())?;
            if !list.is_empty() {
                let mut t = Table::new(&header);
                for d in list {
                    t.row(deadline_row(ctx, d));
                }
                output::print(&t.render())?;
            }
        }
        if all {
            let acked = of(DeadlineState::Acknowledged).len();
            outln!("acknowledged in time: {acked}")?;
        }
    }
    if overdue.is_empty() {
        Ok(())
    } else {
        Err(Failure::new(
            OVERDUE,
            format!(
                "{} withdrawals, revocations or objections are past their deadline without the downstream's acknowledgement",
                overdue.len()
            ),
        ))
    }
}
