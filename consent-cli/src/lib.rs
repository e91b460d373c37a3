//! The `consent` command-line tool of consent-ledger, as a library.
//!
//! The binary (`src/main.rs`) only calls [`run`]. Every command works on one ledger
//! (`--ledger PATH|URL` or `CONSENT_LEDGER`: a file, or a PostgreSQL schema named by a
//! `postgresql://` URL, told apart in `location.rs`), prints tables for people and
//! JSON with `--json`, writes errors to stderr and exits with a code from the table at
//! the end of `consent --help`.
//!
//! The crate's layout, one concern per module and no cycle between them: `cli/` is what
//! clap parses (its value parsers, `cli/values.rs`, turn each argument into the core's
//! type); `ctx.rs` is what every command shares (the ledger's location, its calendar,
//! `--now`); `commands/` dispatches each subcommand to its group's file there (each
//! computes, then calls `output`); `output/` renders
//! everything shown to people (tables, fields, times, plain-words lines, the report's
//! HTML page) and depends on no command; `import.rs`, `registry.rs` and `receipt.rs`
//! are the engines the commands drive, and print nothing.
//!
//! The import parser ([`parse_rows`], [`row_to_event`]) is public so that the fuzz
//! targets (`fuzz/`) and the property tests can call it in-process; it is not a stable
//! API.

#![forbid(unsafe_code)]

mod cli;
mod commands;
mod ctx;
mod exit;
mod import;
mod location;
mod outfile;
mod output;
mod progress;
mod receipt;
mod registry;
mod spreadsheet;
mod terminal;

use std::process::ExitCode;

use clap::Parser;

pub use cli::ImportFormat;
pub use import::{parse_rows, row_to_event, row_to_event_in, Rejected, Rows, COLUMNS};

/// Parses the process's arguments, runs the command and returns its exit code.
pub fn run() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // --help and --version print and exit 0; real usage errors exit 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    match commands::run(cli) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(f) => {
            if f.code != exit::CLOSED_PIPE && !f.message.is_empty() {
                output::warn(&format!("consent: {}", f.message));
            }
            ExitCode::from(f.code)
        }
    }
}
