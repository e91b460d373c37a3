//! `consent consenting`: every subject with consent in force for a purpose (the
//! students' union feed), as CSV for spreadsheets and programs or as JSON.
//!
//! The CSV is a header and a row per subject, nothing else, so that spreadsheets and
//! `pandas.read_csv` read it as it is (cells a spreadsheet would run as formulas are
//! neutralised, `spreadsheet.rs`). What answered — the purpose, recipient, moment,
//! knowledge time, count and head — goes to stderr, or with `--head-file` to a one-row
//! CSV of its own.

use std::path::Path;

use crate::cli::FeedFormat;
use crate::cli::TimeArg;
use crate::ctx::Ctx;
use crate::exit::CliResult;
use crate::output::{self, print_json};

/// Runs `consent consenting`.
pub(crate) fn consenting(
    ctx: &Ctx,
    purpose: &str,
    recipient: Option<&str>,
    (at, known_at): (Option<&TimeArg>, Option<&TimeArg>),
    format: FeedFormat,
    head_file: Option<&Path>,
) -> CliResult {
    let ledger = ctx.open()?;
    let at = ctx.opt_time("--at", at)?;
    let known = ctx.opt_time("--known-at", known_at)?;
    let c = ledger.consenting(purpose, recipient, at, known)?;
    if ctx.json || format == FeedFormat::Json {
        return print_json(&c);
    }
    // A header and a row per subject, nothing else. Times stay UTC: the feed is read
    // by programs.
    let rows: Vec<[String; 4]> = c
        .subjects
        .iter()
        .map(|s| {
            [
                s.subject.clone(),
                s.since.to_string(),
                s.until.map(|t| t.to_string()).unwrap_or_default(),
                s.event_id.to_string(),
            ]
        })
        .collect();
    output::emit(&output::csv(
        &["subject", "since", "until", "event_id"],
        &rows,
    )?)?;
    // What answered: on stderr for people, or a one-row CSV of its own.
    let (at, n) = (c.at.to_string(), c.subjects.len().to_string());
    let (known, head) = (c.as_known_at.to_string(), c.head.to_string());
    let recipient = c.recipient.clone().unwrap_or_default();
    match head_file {
        Some(p) => {
            let row = [c.purpose.clone(), recipient, at, known, n, head];
            let head = &[
                "purpose",
                "recipient",
                "at",
                "as_known_at",
                "subjects",
                "head",
            ];
            crate::outfile::write(p, output::csv(head, &[row])?.as_bytes())
        }
        None => {
            let to = if recipient.is_empty() {
                String::new()
            } else {
                format!(" → {recipient}")
            };
            output::warn(&format!(
                "consenting {}{to} at {at} as known at {known}: {n} subjects; head {head}",
                c.purpose
            ));
            Ok(())
        }
    }
}
