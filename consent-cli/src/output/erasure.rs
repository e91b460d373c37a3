//! Erasures for people: one erasure and its dry run, a bulk erasure's table and counts,
//! a readmission, `consent complete-erasures`, and the warning while one is pending.

use std::path::Path;

use consent_core::{ErasureReport, Event};
use serde_json::{Map, Value};

use super::{outln, print, warn, Table, Times};
use crate::exit::CliResult;
use crate::terminal;

/// What to do about an id no event names; also in the error of a refused erasure.
pub(crate) const UNKNOWN_HINT: &str =
    "check the id; `consent erase --force` records the erasure of an id with no events anyway";

/// What keeps an erasure pending and what finishes it, which depends on the backend.
pub(crate) fn pending(postgres: bool) {
    if postgres {
        warn("erasure PENDING: the erased values remain in old row versions until the ledger's tables are vacuumed, which only their owner may do, once no older snapshot needs them; run `consent complete-erasures` as the owner, or leave it to autovacuum (docs/POSTGRES.md \"Erasure\")");
    } else {
        warn("erasure PENDING: another connection held an old snapshot, so the erased values remain in the WAL; run `consent complete-erasures` once it has let go");
    }
}

/// One erasure done (`consent erase SUBJECT`).
pub(crate) fn erased(subject: &str, r: &ErasureReport) -> CliResult {
    outln!(
        "erased {}: personal fields blanked in {} events; marker event #{} {}",
        terminal::value(subject),
        r.events_erased,
        r.seq,
        r.event_id
    )
}

/// What a dry run found for one id: `outcome` is `already_erased`, `unknown` or
/// `erase`, and `events` what an erasure would blank (`consent erase SUBJECT
/// --dry-run`).
pub(crate) fn dry_run(
    times: Times<'_>,
    subject: &str,
    outcome: &str,
    events: &[Event],
) -> CliResult {
    let who = terminal::value(subject).into_owned();
    match outcome {
        "already_erased" => {
            outln!("dry run: {who} is erased already; an erasure would be refused. Nothing written.")
        }
        "unknown" => outln!(
            "dry run: no event names {who}; the erasure would be refused ({UNKNOWN_HINT}). Nothing written."
        ),
        _ if events.is_empty() => outln!(
            "dry run: no event names {who}; with --force an erasure marker would be recorded, nothing blanked. Nothing written."
        ),
        _ => print(&super::events::event_table(times, events)).and_then(|()| {
            outln!(
                "dry run: erasing {who} would blank the subject, source id and evidence of these {} events (their hashes stay verifiable) and record a subject_erased event. Nothing written.",
                events.len()
            )
        }),
    }
}

/// A bulk erasure (`consent erase --from-file`): a row per id with its outcome, then
/// the counts of `summary`, and where the report was written.
pub(crate) fn bulk(
    outcomes: &[Value],
    summary: &Map<String, Value>,
    dry_run: bool,
    report_path: Option<&Path>,
) -> CliResult {
    let mut t = Table::new(&["SUBJECT", "OUTCOME", "EVENTS", "DETAILS"]);
    for o in outcomes {
        let outcome = o["outcome"].as_str().unwrap_or("?");
        let details = match outcome {
            "erased" => format!("marker event #{}", o["seq"]),
            "would_erase" => "would be erased".into(),
            "unknown" => "no event names this id: not erased (check it; --force)".into(),
            "already_erased" => "erased before: nothing to do".into(),
            _ => o["error"].as_str().unwrap_or_default().to_string(),
        };
        t.row(vec![
            o["subject"].as_str().unwrap_or_default().to_string(),
            outcome.to_string(),
            o.get("events_erased")
                .and_then(Value::as_u64)
                .map_or("-".into(), |n| n.to_string()),
            details,
        ]);
    }
    print(&t.render())?;
    let n = |k: &str| summary.get(k).and_then(Value::as_u64).unwrap_or(0);
    let total = outcomes.len();
    if dry_run {
        outln!(
            "dry run: {total} ids: {} would be erased, {} unknown, {} already erased, {} failed. Nothing written.",
            n("would_erase"),
            n("unknown"),
            n("already_erased"),
            n("failed")
        )?;
    } else {
        outln!(
            "{total} ids: {} erased, {} unknown (not erased), {} already erased, {} failed",
            n("erased"),
            n("unknown"),
            n("already_erased"),
            n("failed")
        )?;
    }
    if let Some(p) = report_path {
        outln!("report written to {} (0600)", p.display())?;
    }
    Ok(())
}

/// A readmission recorded as event `ev` (`consent readmit`).
pub(crate) fn readmitted(subject: &str, ev: &Event) -> CliResult {
    outln!(
        "readmitted {}: event #{} {}; the id may consent again (its erased events stay blank, and history shows both)",
        terminal::value(subject),
        ev.seq,
        ev.id
    )
}

/// `consent complete-erasures` finished: what is gone from where, by backend and
/// whether the tables were `rewritten`.
pub(crate) fn erasures_complete(postgres: bool, rewritten: bool) -> CliResult {
    if postgres && rewritten {
        outln!("erasures complete: the ledger's tables were vacuumed and rewritten into new files; no row, index entry or page of them holds an erased value (the server's WAL and backups keep them until recycled: docs/POSTGRES.md \"Erasure\")")
    } else if postgres {
        outln!("erasures complete: the ledger's tables are vacuumed, no row or index entry holds an erased value (freed space in their pages may until reused: --rewrite rewrites them; the server's WAL and backups keep them until recycled: docs/POSTGRES.md \"Erasure\")")
    } else {
        outln!("erasures complete: the WAL is empty, erased values are gone from every file")
    }
}

/// `consent complete-erasures` on a file that a reader still holds.
pub(crate) fn still_pending() {
    warn("erasure still PENDING: a reader still holds an old snapshot; try again when it has finished");
}
