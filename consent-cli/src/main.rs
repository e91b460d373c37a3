//! `consent`: the command-line tool of consent-ledger.
//!
//! Everything lives in the library half of the crate (`src/lib.rs`); this only hands
//! over to it, so the exit codes stay the ones `consent --help` lists.

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    consent_cli::run()
}
