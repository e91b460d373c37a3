//! `consent`: the command-line tool of consent-ledger.
//!
//! Every command works on one ledger file (`--ledger PATH` or `CONSENT_LEDGER`), prints
//! tables for people and JSON with `--json`, writes errors to stderr and exits with a
//! code from the table in [`exit`].

#![forbid(unsafe_code)]

mod cli;
mod commands;
mod exit;
mod import;
mod output;
mod receipt;
mod registry;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
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
            eprintln!("consent: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}
