//! Downstream systems on the command line: `consent downstream register|retire|list|
//! show`, `consent feed DOWNSTREAM [--follow]`, `consent ack DOWNSTREAM` and
//! `consent overdue` (exit 12 when a deadline passed without an acknowledgement).

use std::time::{Duration, Instant};

use consent_core::{Ack, Actor, Deadline, DeadlineState, Downstream, DownstreamDef};
use serde_json::json;

use crate::cli::downstream::{AckArgs, DownstreamCmd, FeedArgs};
use crate::cli::TimeArg;
use crate::ctx::Ctx;
use crate::exit::{CliResult, Failure, OVERDUE};
use crate::output::{self, print_json};

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
            output::downstream::list(&all)
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
            output::downstream::versions(ctx.times(), &versions, cursor, &acks)
        }
    }
}

fn show_one(ctx: &Ctx, d: &Downstream) -> CliResult {
    if ctx.json {
        return print_json(d);
    }
    output::downstream::fields_of(ctx.times(), d)
}

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
        return output::downstream::feed_page(ctx.times(), &a.downstream, &page);
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
                output::downstream::feed_line(ctx.times(), i)?;
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
    output::downstream::acknowledged(&done)
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
        output::downstream::deadlines(
            ctx.times(),
            [
                ("overdue", &overdue),
                ("pending", &pending),
                ("acknowledged late", &late),
            ],
            all,
        )?;
        if all {
            output::downstream::acknowledged_in_time(of(DeadlineState::Acknowledged).len())?;
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
