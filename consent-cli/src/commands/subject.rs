//! The questions about subjects and the log: `consent status` (one subject; many
//! with `--from-file` are `questions.rs`), `history`, `changes`, `export`.

use std::path::Path;

use consent_core::{Ledger, Status};
use serde_json::json;

use crate::cli::ExportFormat;
use crate::cli::TimeArg;
use crate::ctx::Ctx;
use crate::exit::{CliResult, Failure, NOT_PERMITTED};
use crate::output::{self, print_json};

#[allow(clippy::too_many_arguments)]
pub(super) fn status(
    ctx: &Ctx,
    subject: &str,
    purpose: &str,
    recipient: Option<&str>,
    at: Option<&TimeArg>,
    known_at: Option<&TimeArg>,
    check: bool,
) -> CliResult {
    let ledger = ctx.open()?;
    let at = ctx.opt_time("--at", at)?;
    let known = ctx.opt_time("--known-at", known_at)?;
    let s: Status = match (at, known) {
        (None, None) => ledger.status(subject, purpose, recipient)?,
        (at, known) => {
            let at = match at {
                Some(t) => t,
                None => ledger.now()?,
            };
            ledger.status_at(subject, purpose, recipient, at, known)?
        }
    };
    // A reader that closed stdout early must not turn "not permitted" into exit 141.
    let printed = print_status(ctx, &ledger, subject, recipient, &s);
    if check && !s.permits() {
        return Err(Failure::new(NOT_PERMITTED, ""));
    }
    printed
}

fn print_status(
    ctx: &Ctx,
    ledger: &Ledger,
    subject: &str,
    recipient: Option<&str>,
    s: &Status,
) -> CliResult {
    if ctx.json {
        let mut v = serde_json::to_value(s).map_err(|e| Failure::usage(e.to_string()))?;
        v["permits"] = json!(s.permits());
        return print_json(&v);
    }
    let versions = ledger.purpose_versions(&s.purpose)?;
    output::status::status(ctx.times(), &versions, subject, recipient, s)
}

pub(super) fn history(ctx: &Ctx, subject: &str) -> CliResult {
    let ledger = ctx.open()?;
    let events = ledger.history(subject)?;
    if ctx.json {
        return print_json(&events);
    }
    output::events::history(ctx.times(), subject, &events)
}

pub(super) fn changes(ctx: &Ctx, since: u64, limit: usize) -> CliResult {
    let ledger = ctx.open()?;
    let events = ledger.changes_since(since, limit)?;
    if ctx.json {
        let next = events.last().map_or(since, |e| e.seq + 1);
        return print_json(&json!({ "since": since, "next": next, "events": events }));
    }
    let next = events.last().map_or(since, |e| e.seq + 1);
    output::events::changes(ctx.times(), &events, next)
}

pub(super) fn export(
    ctx: &Ctx,
    subject: &str,
    format: ExportFormat,
    output: Option<&Path>,
) -> CliResult {
    let ledger = ctx.open()?;
    if format == ExportFormat::Html {
        let html = ledger.export_subject_html(subject)?;
        output::write_out(output, &html)?;
        if let Some(p) = output {
            output::events::subject_copy_written(subject, html.len(), p)?;
        }
        return Ok(());
    }
    let x = ledger.export_subject(subject)?;
    let text = serde_json::to_string_pretty(&x).map_err(|e| Failure::usage(e.to_string()))? + "\n";
    output::write_out(output, &text)?;
    if let Some(p) = output {
        output::events::subject_access_written(subject, &x, p)?;
    }
    Ok(())
}
