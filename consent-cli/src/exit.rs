//! Exit codes: the one place where errors become process statuses.
//!
//! The table is printed at the end of `consent --help`, so scripts can rely on it.

use consent_core::{Error, ErrorKind, RefusalKind};

/// Everything went as asked.
pub const OK: u8 = 0;
/// Integrity: `verify` found tampering, a proof or receipt did not check out.
pub const TAMPER: u8 = 1;
/// Usage: bad arguments, malformed times, ids, JSON or files.
pub const USAGE: u8 = 2;
/// Not found: no ledger file (or none in a PostgreSQL schema), unknown purpose,
/// notice, recipient, event or database role; a question without a recipient about a
/// purpose that lists recipients; erasing an id the ledger holds no event about.
pub const NOT_FOUND: u8 = 3;
/// Refused by the consent rules (not explicit, no notice, erased subject, conflict).
pub const REFUSED: u8 = 4;
/// An import had rejected rows, or a bulk erasure (`erase --from-file`) ids it did not
/// erase (unknown or failed).
pub const REJECTED: u8 = 5;
/// Storage: busy, read-only, disk full, I/O, schema too new.
pub const STORAGE: u8 = 6;
/// More evidence needed: `check-receipt --head` without a consistency proof, fewer
/// witness cosignatures than the quorum, a witness without the proof it needs.
pub const NEEDS_PROOF: u8 = 7;
/// The file is not a consent ledger (another application's database, an empty file).
pub const NOT_A_LEDGER: u8 = 8;
/// A key file: the pseudonym key missing, unreadable or not this ledger's; a signing
/// key file unreadable, readable by others or of the wrong role.
pub const KEY: u8 = 9;
/// An erasure was recorded but is not complete yet: a reader held an old snapshot, so
/// the erased values may remain in the WAL (on PostgreSQL: the tables are not vacuumed
/// yet, which only their owner may do). Run `consent complete-erasures`.
pub const ERASURE_PENDING: u8 = 10;
/// `status --check`: the answer is no, processing is not permitted (consent not in
/// force, or an objection); with `--from-file`, some answer is no. Only with --check;
/// errors keep their own codes.
pub const NOT_PERMITTED: u8 = 11;
/// `overdue`: some withdrawal, revocation or objection is past its effect deadline
/// without its downstream's acknowledgement (the list is printed). For monitoring:
/// errors keep their own codes.
pub const OVERDUE: u8 = 12;
/// Stdout was closed before all output was written (`consent … | head`). The status a
/// shell reports for a process killed by SIGPIPE (128 + 13), as `cat` or `grep` would
/// give: cut-short output is never reported as success, yet nothing is printed.
pub const CLOSED_PIPE: u8 = 141;

/// The table shown in `--help`.
pub const TABLE: &str = "\
Exit codes:
  0  ok
  1  integrity: verify found tampering; a proof, receipt, checkpoint or signature did
     not check out; a witness refused a fork or rollback
  2  usage: bad arguments, times, ids, JSON or input files; a checkpoint of a log
     the witness does not watch
  3  not found: no ledger file, unknown purpose, notice, recipient or event; no
     --recipient for a purpose that lists recipients; erase of an id with no events;
     no ledger in the URL's PostgreSQL schema; a database role that does not exist
  4  refused by the consent rules: not explicit, no notice or one that does not
     cover the purpose, erased subject, conflict
  5  import: some rows were rejected (see the report on stderr); erase --from-file:
     some ids were not erased (unknown or failed; see the report)
  6  storage: ledger busy, read-only (also a database role without the right,
     e.g. erase by an append-only role), disk full, I/O, newer schema
  7  more evidence needed: check-receipt's head is later than the receipt's (pass
     --consistency); fewer witness cosignatures than the quorum asked for; a
     witness needs a consistency proof to cosign a larger checkpoint
  8  not a consent ledger: another application's file or schema, or an empty file
  9  key: the pseudonym key file is missing (a PostgreSQL ledger needs --key-file),
     unreadable or not this ledger's; a signing key file is unreadable, readable
     by others or of the wrong role
 10  erasure pending: recorded, but a reader kept the erased values in the WAL
     (PostgreSQL: the tables await a vacuum by their owner);
     run `consent complete-erasures`
 11  status --check: not permitted (the state printed is not given/not_consent_based;
     with --from-file: some answer is not)
 12  overdue: a withdrawal, revocation or objection is past its effect deadline
     without the downstream's acknowledgement (the list is printed)
141  stdout was closed early (e.g. `| head`): output cut short, quietly; what the
     command recorded stays recorded, and codes 1, 5, 11 and 12 take precedence";

/// The exit code of a core error.
pub fn code_of(e: &Error) -> u8 {
    // A witness's refusal says what to do next: a fork, a rollback or a failing proof
    // is evidence against the log (1); a missing proof is more evidence needed (7); a
    // log the witness was not set up for is a usage matter (2).
    if let Error::WitnessRefused(r) = e {
        return match r.kind {
            RefusalKind::ProofRequired => NEEDS_PROOF,
            RefusalKind::UnknownLog => USAGE,
            _ => TAMPER,
        };
    }
    code_of_kind(e.kind()).unwrap_or(STORAGE)
}

/// The exit code of each kind of the core's table ([`ErrorKind::ALL`]); `None` for a
/// kind a newer core added that this table does not know yet (a test walks the table,
/// so that is caught before a release; at run time it exits as a storage failure).
fn code_of_kind(kind: ErrorKind) -> Option<u8> {
    Some(match kind {
        ErrorKind::Corrupt
        | ErrorKind::ProofRejected
        | ErrorKind::ReceiptRejected
        | ErrorKind::Note
        | ErrorKind::WitnessRefused => TAMPER,
        ErrorKind::QuorumNotMet => NEEDS_PROOF,
        ErrorKind::InvalidArgument | ErrorKind::InvalidTime | ErrorKind::Batch => USAGE,
        ErrorKind::UnknownPurpose
        | ErrorKind::UnknownNotice
        | ErrorKind::UnknownRecipient
        | ErrorKind::NotFound => NOT_FOUND,
        ErrorKind::InvalidConsent | ErrorKind::SubjectErased | ErrorKind::Conflict => REFUSED,
        ErrorKind::NotALedger => NOT_A_LEDGER,
        ErrorKind::Key => KEY,
        ErrorKind::SchemaTooNew
        | ErrorKind::SqliteTooOld
        | ErrorKind::ReadOnly
        | ErrorKind::Full
        | ErrorKind::Busy
        | ErrorKind::Closed
        | ErrorKind::Io
        | ErrorKind::Storage => STORAGE,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind of the core's one table has an exit code that the table `consent
    /// --help` ends with documents.
    #[test]
    fn every_core_kind_has_a_documented_exit_code() {
        for &kind in ErrorKind::ALL {
            let code = code_of_kind(kind).unwrap_or_else(|| panic!("{kind:?} has no exit code"));
            assert!(
                TABLE
                    .lines()
                    .any(|l| l.trim_start().starts_with(&format!("{code} "))),
                "{kind:?}: exit code {code} is not in the table"
            );
        }
    }
}

/// An error on its way out of the process: a message for stderr and an exit code.
#[derive(Debug)]
pub struct Failure {
    /// Exit code (see [`TABLE`]).
    pub code: u8,
    /// Message for stderr.
    pub message: String,
}

impl Failure {
    /// A failure with an explicit code.
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }
    /// A usage error.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(USAGE, message)
    }
    /// The same failure, its message prefixed with what it is about (a file's name).
    pub fn prefixed(mut self, what: &str) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }
    /// Stdout was closed by its reader: exit [`CLOSED_PIPE`] without a message.
    pub fn closed_pipe() -> Self {
        Self::new(CLOSED_PIPE, "")
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure {
            code: code_of(&e),
            message: e.to_string(),
        }
    }
}

/// Result of a command.
pub type CliResult<T = ()> = Result<T, Failure>;
