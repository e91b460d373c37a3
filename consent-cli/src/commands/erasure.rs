//! `consent erase` (one id, a dry run, or a file of ids) and `consent readmit`.
//!
//! An id the ledger holds no event about is refused unless forced: it is most likely a
//! typo, and an erased id cannot consent again until it is readmitted. A bulk erasure
//! reports every id (erased, unknown, already erased, failed) and exits 5 when some id
//! was not erased, like an import with rejected rows.

use std::path::Path;

use consent_core::{Actor, ErasureOptions, Error, Ledger};
use serde_json::{json, Value};

use crate::ctx::Ctx;
use crate::exit::{CliResult, Failure, ERASURE_PENDING, NOT_FOUND, REFUSED, REJECTED, USAGE};
use crate::output::{self, print_json};
use crate::terminal;

/// Format marker of the bulk erasure report.
pub const REPORT_FORMAT: &str = "consent-ledger/erasure-report/v1";

/// How to erase, as the command line said.
pub struct How {
    /// Why (recorded, hashed).
    pub reason: String,
    /// Who: staff:ID or system:ID.
    pub actor: Actor,
    /// Record the erasure even for an id with no events.
    pub force: bool,
    /// Show what would happen; write nothing.
    pub dry_run: bool,
}

impl How {
    fn options(&self) -> ErasureOptions {
        ErasureOptions { force: self.force }
    }
}

/// `consent erase SUBJECT`.
pub fn erase_one(ctx: &Ctx, subject: &str, how: &How) -> CliResult {
    let ledger = ctx.open()?;
    let actor = how.actor.clone();
    if how.reason.trim().is_empty() {
        return Err(Failure::usage("an erasure needs a reason (--reason)"));
    }
    if how.dry_run {
        return dry_run_one(ctx, &ledger, subject, how);
    }
    let r = match ledger.erase_subject_with(subject, &how.reason, actor, how.options()) {
        Err(Error::NotFound(_)) => {
            return Err(Failure::new(
                NOT_FOUND,
                format!(
                    "no event names {}: nothing erased ({})",
                    terminal::value(subject),
                    output::erasure::UNKNOWN_HINT
                ),
            ))
        }
        r => r?,
    };
    if ctx.json {
        print_json(&r)?;
    } else {
        output::erasure::erased(subject, &r)?;
    }
    if !r.wal_truncated {
        output::erasure::pending(ctx.is_postgres());
        return Err(Failure::new(ERASURE_PENDING, ""));
    }
    Ok(())
}

/// `consent erase SUBJECT --dry-run`: what would be blanked; exits as the erasure would.
fn dry_run_one(ctx: &Ctx, ledger: &Ledger, subject: &str, how: &How) -> CliResult {
    let preview = ledger.erasure_preview(subject)?;
    let (would, code) = if preview.already_erased {
        ("already_erased", Some(REFUSED))
    } else if preview.events.is_empty() && !how.force {
        ("unknown", Some(NOT_FOUND))
    } else {
        ("erase", None)
    };
    let printed = if ctx.json {
        print_json(&json!({
            "dry_run": true,
            "subject": subject,
            "outcome": would,
            "already_erased": preview.already_erased,
            "events_erased": preview.events.len(),
            "events": preview.events,
        }))
    } else {
        output::erasure::dry_run(ctx.times(), subject, would, &preview.events)
    };
    match code {
        Some(c) => Err(Failure::new(c, "")),
        None => printed,
    }
}

/// Reads a file of ids: one a line, blank lines and `#` comments skipped.
fn read_ids(file: &Path) -> CliResult<Vec<String>> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::new(NOT_FOUND, format!("cannot read {}: {e}", file.display())))?;
    let ids: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect();
    if ids.is_empty() {
        return Err(Failure::new(
            USAGE,
            format!("{}: no ids (one a line)", file.display()),
        ));
    }
    Ok(ids)
}

/// `consent erase --from-file IDS`: each id in its own transaction, each reported.
pub fn erase_file(ctx: &Ctx, file: &Path, how: &How, report_path: Option<&Path>) -> CliResult {
    let ledger = ctx.open()?;
    let actor = how.actor.clone();
    if how.reason.trim().is_empty() {
        return Err(Failure::usage("an erasure needs a reason (--reason)"));
    }
    let ids = read_ids(file)?;
    let at = ledger.now()?;
    let (outcomes, wal_truncated): (Vec<Value>, Option<bool>) = if how.dry_run {
        let mut out = Vec::with_capacity(ids.len());
        // An id listed twice would be erased by its first line.
        let mut erasing = std::collections::HashSet::new();
        for id in &ids {
            let v = match ledger.erasure_preview(id) {
                Ok(p) if p.already_erased || erasing.contains(id) => {
                    json!({ "subject": id, "outcome": "already_erased" })
                }
                Ok(p) if p.events.is_empty() && !how.force => {
                    json!({ "subject": id, "outcome": "unknown" })
                }
                Ok(p) => {
                    erasing.insert(id);
                    json!({ "subject": id, "outcome": "would_erase", "events_erased": p.events.len() })
                }
                Err(e) if e.kind() == consent_core::ErrorKind::InvalidArgument => {
                    json!({ "subject": id, "outcome": "failed", "error": e.to_string() })
                }
                Err(e) => return Err(e.into()),
            };
            out.push(v);
        }
        (out, None)
    } else {
        let bulk = ledger.erase_subjects(&ids, &how.reason, actor.clone(), how.options())?;
        let out = bulk
            .outcomes
            .iter()
            .map(|o| serde_json::to_value(o).map_err(|e| Failure::usage(e.to_string())))
            .collect::<CliResult<Vec<_>>>()?;
        (out, Some(bulk.wal_truncated))
    };
    let mut summary = serde_json::Map::new();
    for key in [
        if how.dry_run { "would_erase" } else { "erased" },
        "unknown",
        "already_erased",
        "failed",
    ] {
        let n = outcomes.iter().filter(|o| o["outcome"] == key).count();
        summary.insert(key.into(), json!(n));
    }
    let not_erased =
        summary["unknown"].as_u64().unwrap_or(0) + summary["failed"].as_u64().unwrap_or(0);
    let report = json!({
        "format": REPORT_FORMAT,
        "file": file.display().to_string(),
        "dry_run": how.dry_run,
        "force": how.force,
        "reason": how.reason,
        "recorded_by": actor.to_string(),
        // Deprecated: the same value under its older name, for readers of 0.1's
        // report; gone in the next release (docs/NAMES.md).
        "actor": actor.to_string(),
        "at": at,
        "ids": ids.len(),
        "summary": summary,
        "outcomes": outcomes,
        "wal_truncated": wal_truncated,
        "head": ledger.head()?.to_string(),
    });
    if let Some(p) = report_path {
        let text = serde_json::to_string_pretty(&report)
            .map_err(|e| Failure::usage(e.to_string()))?
            + "\n";
        crate::outfile::write(p, text.as_bytes())?;
    }
    // A reader that closed stdout early must not hide ids that were not erased.
    let printed = if ctx.json {
        print_json(&report)
    } else {
        output::erasure::bulk(&outcomes, &summary, how.dry_run, report_path)
    };
    if wal_truncated == Some(false) {
        output::erasure::pending(ctx.is_postgres());
    }
    if not_erased > 0 {
        return Err(Failure::new(
            REJECTED,
            format!(
                "{not_erased} of {} ids not erased (unknown or failed; see the report)",
                ids.len()
            ),
        ));
    }
    if wal_truncated == Some(false) {
        return Err(Failure::new(ERASURE_PENDING, ""));
    }
    printed
}

/// `consent readmit SUBJECT --reason R --by ACTOR`.
pub fn readmit(ctx: &Ctx, subject: &str, reason: &str, by: &Actor) -> CliResult {
    let ledger = ctx.open()?;
    let actor = by.clone();
    let ev = ledger.readmit_subject(subject, reason, actor)?;
    if ctx.json {
        return print_json(&ev);
    }
    output::erasure::readmitted(subject, &ev)
}

/// `consent complete-erasures`: waits until no file holds an erased value.
pub(crate) fn complete_erasures(ctx: &Ctx, wait: u64, rewrite: bool) -> CliResult {
    let ledger = ctx.open()?;
    let mut done = ledger.complete_erasures(std::time::Duration::from_secs(wait))?;
    if done && rewrite {
        done = ledger.rewrite_erased()?;
    }
    if ctx.json {
        print_json(
            &json!({ "complete": done, "rewritten": done && rewrite && ctx.is_postgres() }),
        )?;
    } else if done {
        output::erasure::erasures_complete(ctx.is_postgres(), rewrite)?;
    }
    if !done && ctx.is_postgres() {
        output::erasure::pending(ctx.is_postgres());
        return Err(Failure::new(crate::exit::ERASURE_PENDING, ""));
    }
    if !done {
        output::erasure::still_pending();
        return Err(Failure::new(crate::exit::ERASURE_PENDING, ""));
    }
    Ok(())
}
