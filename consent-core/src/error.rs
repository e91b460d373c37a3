//! The one error type of the crate, with a stable numeric [`ErrorKind`] that the C and
//! Python layers map from in a single `match`.
//!
//! Messages never contain a subject id: errors end up in logs, and a subject id there
//! would survive an erasure.

use thiserror::Error;

/// Result with [`Error`](enum@Error) as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the ledger.
///
/// How to read one (kind, message, index) and the sets of kinds many calls share:
/// the crate docs' [Errors](crate#errors); what a function returns besides: its own
/// `# Errors` section.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// An argument is malformed (empty id, bad JSON, bad enum text, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A timestamp could not be parsed or is out of the supported range.
    #[error("invalid time: {0}")]
    InvalidTime(String),
    /// The purpose id is not registered in this ledger.
    #[error("unknown purpose `{0}`")]
    UnknownPurpose(String),
    /// The notice id/version is not registered in this ledger.
    #[error("unknown notice `{0}`")]
    UnknownNotice(String),
    /// The recipient is not one the purpose lists (compared exactly), or a question
    /// about a purpose that lists recipients named none.
    #[error("{}", unknown_recipient_message(purpose, recipient.as_deref(), listed))]
    UnknownRecipient {
        /// The purpose asked about.
        purpose: String,
        /// The recipient that was refused; `None` when the question named none.
        recipient: Option<String>,
        /// The recipients the purpose lists (the valid spellings).
        listed: Vec<String>,
    },
    /// The event is not valid for its purpose (e.g. a special-category grant without
    /// the explicit-consent marker, or a grant without a notice).
    #[error("invalid consent: {0}")]
    InvalidConsent(String),
    /// The subject has been erased; only withdrawals may still be recorded.
    #[error("the subject has been erased; only withdrawals and objections can be recorded")]
    SubjectErased,
    /// The same source id or registry key was used with different content.
    #[error("conflict: {0}")]
    Conflict(String),
    /// No event, purpose version or notice with that key.
    #[error("not found: {0}")]
    NotFound(String),
    /// The file is not a consent ledger, or its contents are structurally damaged.
    #[error("ledger corrupt: {0}")]
    Corrupt(String),
    /// The file was written by a newer version of this library.
    #[error("ledger schema version {found} is newer than this library supports ({supported})")]
    SchemaTooNew {
        /// Version found in the file.
        found: i64,
        /// Newest version this build understands.
        supported: i64,
    },
    /// The linked SQLite is older than the minimum this library accepts.
    #[error("SQLite {found} is older than the required {required}")]
    SqliteTooOld {
        /// Version linked in.
        found: String,
        /// Minimum version.
        required: String,
    },
    /// The ledger (or its folder) is read-only.
    #[error("ledger is read-only: {0}")]
    ReadOnly(String),
    /// The disk (or the database's page limit) is full; nothing was written.
    #[error("storage full: {0}")]
    Full(String),
    /// Another connection held the lock longer than the busy timeout.
    #[error("ledger is busy (locked by another writer): {0}")]
    Busy(String),
    /// The ledger handle has been closed.
    #[error("ledger is closed")]
    Closed,
    /// A batch was committed or rolled back without being begun, or begun twice.
    #[error("batch: {0}")]
    Batch(String),
    /// An operating-system I/O error.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// Any other SQLite error.
    #[error("storage: {0}")]
    Storage(String),
    /// A Merkle proof did not check out against the head given.
    #[error("proof rejected: {0}")]
    ProofRejected(#[from] crate::merkle::ProofError),
    /// The file is not a consent ledger (another application's SQLite file, an empty
    /// file): refused before a byte of it is changed.
    #[error("not a consent ledger: {0}")]
    NotALedger(String),
    /// A key is missing, unreadable, or not the right one: the pseudonym key (not the
    /// one this ledger committed to), or a signing key file (unreadable, readable by
    /// others, of the wrong role).
    #[error("key: {0}")]
    Key(String),
    /// A signed note, checkpoint or signing/verifier key was refused: malformed, not
    /// signed by the key given, a signature that does not verify, a key of the wrong
    /// type. The note crate's own reason and kind are inside
    /// ([`consent_note::Error::kind`]).
    #[error("signed note or key refused: {0}")]
    Note(#[from] consent_note::Error),
    /// A checkpoint carries fewer cosignatures by distinct trusted witnesses than the
    /// quorum asked for: the log signed it, but not enough witnesses vouch for it.
    #[error("{have} of the {need} witness cosignatures required verify: the checkpoint is not witnessed enough")]
    QuorumNotMet {
        /// Distinct trusted witnesses whose cosignature verified.
        have: usize,
        /// The quorum asked for.
        need: usize,
    },
    /// A witness refused to cosign a checkpoint (a fork, a rollback, no valid
    /// consistency proof, an unknown log). What and why is in the [`Refusal`], with
    /// the evidence file it wrote.
    ///
    /// [`Refusal`]: crate::Refusal
    #[error("witness refused to cosign: {0}")]
    WitnessRefused(crate::witness::Refusal),
    /// A receipt did not check out: its checkpoint, a proof, a binding between its
    /// events, its subject or a readable field (the message names which). Never "ok".
    #[error("receipt rejected: {0}")]
    ReceiptRejected(String),
}

fn unknown_recipient_message(purpose: &str, recipient: Option<&str>, listed: &[String]) -> String {
    let valid = if listed.is_empty() {
        "it lists none".to_string()
    } else {
        format!("valid ids: {}", listed.join(", "))
    };
    match recipient {
        Some(r) => format!(
            "recipient `{}` is not one purpose `{purpose}` lists ({valid}); recipients are registry ids, compared exactly",
            r.chars().take(64).collect::<String>()
        ),
        None => format!(
            "purpose `{purpose}` lists recipients: ask about one of them ({valid}); a question without a recipient could hide a recipient's withdrawal"
        ),
    }
}

/// The one table of error kinds: each with its stable number (part of the C ABI, never
/// reused) and its stable name (snake_case, as JSON and the bindings spell it). It
/// makes [`ErrorKind`], [`ErrorKind::ALL`] and [`ErrorKind::name`], so that a kind added
/// here is in the list every binding's tests walk (`consent_result` in C, the exception
/// classes in Python, the CLI's exit codes) and fails them until each maps it.
macro_rules! error_kinds {
    ($($kind:ident = $code:literal => $name:literal,)*) => {
        /// Stable numeric classification of [`Error`](enum@Error). The numbers are part
        /// of the C ABI and are never reused.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        #[repr(i32)]
        pub enum ErrorKind {
            $(
                #[doc = concat!("See [`Error::", stringify!($kind), "`].")]
                $kind = $code,
            )*
        }

        impl ErrorKind {
            /// Every kind, in numeric order.
            pub const ALL: &'static [ErrorKind] = &[$(ErrorKind::$kind,)*];

            /// The kind's stable name: `invalid_argument`, `not_a_ledger`, ...
            pub const fn name(self) -> &'static str {
                match self {
                    $(ErrorKind::$kind => $name,)*
                }
            }

            /// The kind with this stable number, if any.
            pub fn from_code(code: i32) -> Option<ErrorKind> {
                Self::ALL.iter().copied().find(|k| *k as i32 == code)
            }
        }
    };
}

error_kinds! {
    InvalidArgument = 2 => "invalid_argument",
    InvalidTime = 3 => "invalid_time",
    UnknownPurpose = 4 => "unknown_purpose",
    UnknownNotice = 5 => "unknown_notice",
    UnknownRecipient = 6 => "unknown_recipient",
    InvalidConsent = 7 => "invalid_consent",
    SubjectErased = 8 => "subject_erased",
    Conflict = 9 => "conflict",
    NotFound = 10 => "not_found",
    Corrupt = 11 => "corrupt",
    SchemaTooNew = 12 => "schema_too_new",
    SqliteTooOld = 13 => "sqlite_too_old",
    ReadOnly = 14 => "read_only",
    Full = 15 => "full",
    Busy = 16 => "busy",
    Closed = 17 => "closed",
    Batch = 18 => "batch",
    Io = 19 => "io",
    Storage = 20 => "storage",
    ProofRejected = 21 => "proof_rejected",
    NotALedger = 22 => "not_a_ledger",
    Key = 23 => "key",
    Note = 24 => "note",
    QuorumNotMet = 25 => "quorum_not_met",
    WitnessRefused = 26 => "witness_refused",
    ReceiptRejected = 27 => "receipt_rejected",
}

impl Error {
    /// The stable kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidArgument(_) => ErrorKind::InvalidArgument,
            Error::InvalidTime(_) => ErrorKind::InvalidTime,
            Error::UnknownPurpose(_) => ErrorKind::UnknownPurpose,
            Error::UnknownNotice(_) => ErrorKind::UnknownNotice,
            Error::UnknownRecipient { .. } => ErrorKind::UnknownRecipient,
            Error::InvalidConsent(_) => ErrorKind::InvalidConsent,
            Error::SubjectErased => ErrorKind::SubjectErased,
            Error::Conflict(_) => ErrorKind::Conflict,
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::Corrupt(_) => ErrorKind::Corrupt,
            Error::SchemaTooNew { .. } => ErrorKind::SchemaTooNew,
            Error::SqliteTooOld { .. } => ErrorKind::SqliteTooOld,
            Error::ReadOnly(_) => ErrorKind::ReadOnly,
            Error::Full(_) => ErrorKind::Full,
            Error::Busy(_) => ErrorKind::Busy,
            Error::Closed => ErrorKind::Closed,
            Error::Batch(_) => ErrorKind::Batch,
            Error::Io(_) => ErrorKind::Io,
            Error::Storage(_) => ErrorKind::Storage,
            Error::ProofRejected(_) => ErrorKind::ProofRejected,
            Error::NotALedger(_) => ErrorKind::NotALedger,
            Error::Key(_) => ErrorKind::Key,
            Error::Note(_) => ErrorKind::Note,
            Error::QuorumNotMet { .. } => ErrorKind::QuorumNotMet,
            Error::WitnessRefused(_) => ErrorKind::WitnessRefused,
            Error::ReceiptRejected(_) => ErrorKind::ReceiptRejected,
        }
    }

    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidArgument(msg.into())
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ffi::ErrorCode as C;
        match &e {
            rusqlite::Error::SqliteFailure(f, _) => {
                let msg = e.to_string();
                match f.code {
                    C::DatabaseBusy | C::DatabaseLocked => Error::Busy(msg),
                    C::DiskFull => Error::Full(msg),
                    C::ReadOnly => Error::ReadOnly(msg),
                    C::NotADatabase => Error::NotALedger(format!("not a SQLite database ({msg})")),
                    C::DatabaseCorrupt => Error::Corrupt(msg),
                    C::CannotOpen | C::PermissionDenied => Error::Storage(msg),
                    _ => Error::Storage(msg),
                }
            }
            _ => Error::Storage(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table's numbers run 2, 3, ... without a gap or a repeat (a number is never
    /// reused, and the C enum and the Python table follow it), and its names are
    /// distinct snake_case spellings of the variants.
    #[test]
    fn the_kinds_are_numbered_and_named_once() {
        for (i, kind) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(*kind as i32, i as i32 + 2, "{kind:?}");
            assert_eq!(ErrorKind::from_code(*kind as i32), Some(*kind));
            let camel: String = format!("{kind:?}")
                .chars()
                .flat_map(|c| {
                    let lower = c.to_ascii_lowercase();
                    (c.is_ascii_uppercase())
                        .then_some('_')
                        .into_iter()
                        .chain([lower])
                })
                .skip(1)
                .collect();
            assert_eq!(kind.name(), camel, "{kind:?}");
        }
        assert_eq!(ErrorKind::from_code(0), None);
        assert_eq!(ErrorKind::from_code(ErrorKind::ALL.len() as i32 + 2), None);
    }
}
