//! `consent copy FROM TO`: a ledger, as stored, into a new file or an empty PostgreSQL
//! schema (`Ledger::copy_to`, docs/POSTGRES.md). The way a PostgreSQL ledger reaches
//! the independent checker of docs/FORMAT.md §8, and the way a ledger file moves to a
//! server.
//!
//! The source is opened read-only and without its pseudonym key: the copy moves rows
//! as they are and answers no question about a subject, so the key is not needed, and
//! it is not copied (the copy is opened with the same key file as the source).

use consent_core::{Error, KeySource, Ledger, LedgerOptions};
use serde_json::json;

use crate::ctx::Ctx;
use crate::exit::{CliResult, Failure, NOT_FOUND};
use crate::location::Location;
use crate::output::{self, print_json};

/// The tables `CopyReport::rows` counts, in its order.
const TABLES: [&str; 6] = [
    "events",
    "purposes",
    "notices",
    "current",
    "erased",
    "checkpoints",
];

/// Opens the source of a copy: read-only, without its key.
fn open_source(from: &Location) -> CliResult<Ledger> {
    let missing = || Failure::new(NOT_FOUND, format!("no ledger at {from}: nothing to copy"));
    if let Location::File(p) = from {
        if !p.exists() {
            return Err(missing());
        }
    }
    let options = LedgerOptions {
        create: false,
        read_only: true,
        pseudonym_key: KeySource::None,
        ..LedgerOptions::default()
    };
    match Ledger::open_with(from.as_path(), options) {
        Err(Error::NotFound(_)) if from.is_postgres() => Err(missing()),
        r => Ok(r?),
    }
}

/// Runs `consent copy FROM TO`.
pub(crate) fn copy(ctx: &Ctx, from: &Location, to: &Location) -> CliResult {
    let source = open_source(from)?;
    let size = source.head()?.size;
    let bar = crate::progress::bar(size, "copying", size >= crate::progress::PROGRESS_MIN);
    let dest = LedgerOptions {
        synchronous: ctx.synchronous,
        ..LedgerOptions::default()
    };
    let report = source
        .copy_to_with_progress(to.as_path(), &dest, |done, _| {
            if let Some(b) = &bar {
                b.set_position(done);
            }
        })
        .map_err(|e| {
            // Say where the copy was going, unless the core's message already does.
            let f = Failure::from(e);
            let shown = to.to_string();
            if f.message.contains(&shown) {
                f
            } else {
                f.prefixed(&format!("copy to {shown}"))
            }
        })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let rows: Vec<(&str, u64)> = TABLES.into_iter().zip(report.rows).collect();
    if ctx.json {
        let counts: serde_json::Map<String, serde_json::Value> = rows
            .iter()
            .map(|(t, n)| (t.to_string(), json!(n)))
            .collect();
        return print_json(&json!({
            "from": from.to_string(),
            "to": to.to_string(),
            "head": report.head.to_string(),
            "size": report.head.size,
            "root": hex::encode(report.head.root),
            "rows": counts,
        }));
    }
    output::copy::copied(from, to, &report.head, &rows)
}
