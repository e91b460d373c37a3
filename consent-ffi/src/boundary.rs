//! The boundary between C and Rust: result codes, the thread-local last error, the
//! panic boundary every entry point runs behind, and the one set of helpers that turn
//! C arguments (pointers, strings, times) into Rust values.
//!
//! Nothing here trusts its input beyond what C itself can guarantee: a pointer is
//! either NULL or points at what its type says, and a string is NUL-terminated.

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;

use consent_core::{ErrorKind, Ledger, Timestamp};

use crate::{consent_ledger, CONSENT_TIME_ABSENT, CONSENT_TIME_MAX, CONSENT_TIME_MIN};

/// What a call did. `CONSENT_RESULT_OK` (0) is success; every other value is an error
/// whose message `consent_last_error_message` returns. The numbers are fixed and never
/// reused: 2..=21 mirror `consent_core::ErrorKind`, 100 and up belong to the C layer.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum consent_result {
    /// Success.
    Ok = 0,
    /// An error of a kind this build does not name (a newer consent-core).
    Other = 1,
    /// An argument is malformed (empty id, bad JSON, bad enum value, ...).
    InvalidArgument = 2,
    /// A time is out of range (years 1..9999) or missing where required.
    InvalidTime = 3,
    /// The purpose id is not registered.
    UnknownPurpose = 4,
    /// The notice id/version is not registered.
    UnknownNotice = 5,
    /// The recipient is not among the purpose's allowed recipients.
    UnknownRecipient = 6,
    /// The event breaks the consent rules (e.g. a special-category grant that is not
    /// explicit, a grant without a notice).
    InvalidConsent = 7,
    /// The subject has been erased; only withdrawals and objections can be recorded.
    SubjectErased = 8,
    /// A source id or registry key was reused with different content.
    Conflict = 9,
    /// No event, purpose or notice with that key (or no ledger file at the path).
    NotFound = 10,
    /// The file is not a consent ledger, or it is structurally damaged.
    Corrupt = 11,
    /// The file was written by a newer version of the library.
    SchemaTooNew = 12,
    /// The linked SQLite is too old.
    SqliteTooOld = 13,
    /// The ledger (or its folder) is read-only.
    ReadOnly = 14,
    /// The disk is full; nothing was written.
    Full = 15,
    /// Another writer held the lock longer than the busy timeout.
    Busy = 16,
    /// The ledger handle has been closed with `consent_ledger_close`.
    Closed = 17,
    /// A batch was committed or rolled back without being begun, or begun twice.
    Batch = 18,
    /// An operating-system I/O error.
    Io = 19,
    /// Any other storage (SQLite) error.
    Storage = 20,
    /// A Merkle proof did not check out against the head given.
    ProofRejected = 21,
    /// A required pointer argument was NULL.
    NullArgument = 100,
    /// A string argument was not valid UTF-8.
    InvalidUtf8 = 101,
    /// The library panicked (a bug); the call had no effect on the caller's memory.
    Panic = 102,
    /// A caller buffer was too small for the result.
    BufferTooSmall = 103,
}

impl consent_result {
    /// Every code, for `consent_result_name` and the tests.
    pub(crate) const ALL: [consent_result; 25] = [
        Self::Ok,
        Self::Other,
        Self::InvalidArgument,
        Self::InvalidTime,
        Self::UnknownPurpose,
        Self::UnknownNotice,
        Self::UnknownRecipient,
        Self::InvalidConsent,
        Self::SubjectErased,
        Self::Conflict,
        Self::NotFound,
        Self::Corrupt,
        Self::SchemaTooNew,
        Self::SqliteTooOld,
        Self::ReadOnly,
        Self::Full,
        Self::Busy,
        Self::Closed,
        Self::Batch,
        Self::Io,
        Self::Storage,
        Self::ProofRejected,
        Self::NullArgument,
        Self::InvalidUtf8,
        Self::Panic,
        Self::BufferTooSmall,
    ]
    .len()
    .checked_sub(1)
    .map(|_| Self::ALL_LIST)
    .unwrap();

    const ALL_LIST: [consent_result; 25] = [
        Self::Ok,
        Self::Other,
        Self::InvalidArgument,
        Self::InvalidTime,
        Self::UnknownPurpose,
        Self::UnknownNotice,
        Self::UnknownRecipient,
        Self::InvalidConsent,
        Self::SubjectErased,
        Self::Conflict,
        Self::NotFound,
        Self::Corrupt,
        Self::SchemaTooNew,
        Self::SqliteTooOld,
        Self::ReadOnly,
        Self::Full,
        Self::Busy,
        Self::Closed,
        Self::Batch,
        Self::Io,
        Self::Storage,
        Self::ProofRejected,
        Self::NullArgument,
        Self::InvalidUtf8,
        Self::Panic,
    ];
}
