//! The boundary between C and Rust: result codes, the thread-local last error, the
//! panic boundary every entry point runs behind, and the one set of helpers that turn
//! C arguments (pointers, strings, times) into Rust values.
//!
//! Nothing here trusts its input beyond what C itself can guarantee: a pointer is
//! either NULL or points at what its type says, and a string is NUL-terminated.

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::fmt::{self, Display};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;

use consent_core::{ErrorKind, Ledger, Timestamp};

use crate::{consent_ledger, CONSENT_TIME_ABSENT, CONSENT_TIME_MAX, CONSENT_TIME_MIN};

/// What a call did. `CONSENT_RESULT_OK` (0) is success; every other value is an error
/// whose message `consent_last_error_message` returns. The numbers are fixed and never
/// reused: 2..=23 mirror `consent_core::ErrorKind`, 100 and up belong to the C layer.
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
    /// The ledger is structurally damaged, or its schema differs from the library's
    /// (e.g. an extra trigger).
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
    /// A batch call out of turn: the batch has already ended, the calling thread
    /// already has a batch open, or a call was made on the ledger (instead of through
    /// the batch) by the thread that holds the ledger's open batch.
    Batch = 18,
    /// An operating-system I/O error.
    Io = 19,
    /// Any other storage (SQLite) error.
    Storage = 20,
    /// A Merkle proof did not check out against the head given, or it is the proof
    /// of another event than the one offered.
    ProofRejected = 21,
    /// The file is not a consent ledger (an empty file, another application's SQLite
    /// file): refused before a byte of it is changed.
    NotALedger = 22,
    /// A key is missing, unreadable, or not the right one: the pseudonym key (not the
    /// one the ledger was created with, or the ledger was opened without a key and the
    /// call needs it), or a signing key file (readable by others, of the wrong role).
    Key = 23,
    /// A signed note, checkpoint or key string was refused: malformed, not signed by
    /// the key given, a signature that does not verify, a key of the wrong type.
    Note = 24,
    /// A checkpoint carries fewer cosignatures by distinct trusted witnesses than the
    /// quorum asked for.
    QuorumNotMet = 25,
    /// A witness refused to cosign: a fork, a rollback, no valid consistency proof, an
    /// unknown log (the message says which and where the evidence was written).
    WitnessRefused = 26,
    /// A receipt did not check out (the message names the check that failed).
    ReceiptRejected = 27,
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
    /// The stable name of a code, as spelled in the header.
    pub(crate) fn name(code: i32) -> &'static CStr {
        match code {
            0 => c"CONSENT_RESULT_OK",
            1 => c"CONSENT_RESULT_OTHER",
            2 => c"CONSENT_RESULT_INVALID_ARGUMENT",
            3 => c"CONSENT_RESULT_INVALID_TIME",
            4 => c"CONSENT_RESULT_UNKNOWN_PURPOSE",
            5 => c"CONSENT_RESULT_UNKNOWN_NOTICE",
            6 => c"CONSENT_RESULT_UNKNOWN_RECIPIENT",
            7 => c"CONSENT_RESULT_INVALID_CONSENT",
            8 => c"CONSENT_RESULT_SUBJECT_ERASED",
            9 => c"CONSENT_RESULT_CONFLICT",
            10 => c"CONSENT_RESULT_NOT_FOUND",
            11 => c"CONSENT_RESULT_CORRUPT",
            12 => c"CONSENT_RESULT_SCHEMA_TOO_NEW",
            13 => c"CONSENT_RESULT_SQLITE_TOO_OLD",
            14 => c"CONSENT_RESULT_READ_ONLY",
            15 => c"CONSENT_RESULT_FULL",
            16 => c"CONSENT_RESULT_BUSY",
            17 => c"CONSENT_RESULT_CLOSED",
            18 => c"CONSENT_RESULT_BATCH",
            19 => c"CONSENT_RESULT_IO",
            20 => c"CONSENT_RESULT_STORAGE",
            21 => c"CONSENT_RESULT_PROOF_REJECTED",
            22 => c"CONSENT_RESULT_NOT_A_LEDGER",
            23 => c"CONSENT_RESULT_KEY",
            24 => c"CONSENT_RESULT_NOTE",
            25 => c"CONSENT_RESULT_QUORUM_NOT_MET",
            26 => c"CONSENT_RESULT_WITNESS_REFUSED",
            27 => c"CONSENT_RESULT_RECEIPT_REJECTED",
            100 => c"CONSENT_RESULT_NULL_ARGUMENT",
            101 => c"CONSENT_RESULT_INVALID_UTF8",
            102 => c"CONSENT_RESULT_PANIC",
            103 => c"CONSENT_RESULT_BUFFER_TOO_SMALL",
            _ => c"CONSENT_RESULT_UNKNOWN_CODE",
        }
    }

    fn from_kind(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::InvalidArgument => Self::InvalidArgument,
            ErrorKind::InvalidTime => Self::InvalidTime,
            ErrorKind::UnknownPurpose => Self::UnknownPurpose,
            ErrorKind::UnknownNotice => Self::UnknownNotice,
            ErrorKind::UnknownRecipient => Self::UnknownRecipient,
            ErrorKind::InvalidConsent => Self::InvalidConsent,
            ErrorKind::SubjectErased => Self::SubjectErased,
            ErrorKind::Conflict => Self::Conflict,
            ErrorKind::NotFound => Self::NotFound,
            ErrorKind::Corrupt => Self::Corrupt,
            ErrorKind::SchemaTooNew => Self::SchemaTooNew,
            ErrorKind::SqliteTooOld => Self::SqliteTooOld,
            ErrorKind::ReadOnly => Self::ReadOnly,
            ErrorKind::Full => Self::Full,
            ErrorKind::Busy => Self::Busy,
            ErrorKind::Closed => Self::Closed,
            ErrorKind::Batch => Self::Batch,
            ErrorKind::Io => Self::Io,
            ErrorKind::Storage => Self::Storage,
            ErrorKind::ProofRejected => Self::ProofRejected,
            ErrorKind::NotALedger => Self::NotALedger,
            ErrorKind::Key => Self::Key,
            ErrorKind::Note => Self::Note,
            ErrorKind::QuorumNotMet => Self::QuorumNotMet,
            ErrorKind::WitnessRefused => Self::WitnessRefused,
            ErrorKind::ReceiptRejected => Self::ReceiptRejected,
            _ => Self::Other,
        }
    }
}

/// An error on its way to C: a code, a message (never containing a subject id) and,
/// for a call on an array, the index of the element it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FfiError {
    pub code: consent_result,
    pub message: String,
    pub index: Option<usize>,
}

impl FfiError {
    pub fn new(code: consent_result, message: impl Into<String>) -> Self {
        FfiError {
            code,
            message: message.into(),
            index: None,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(consent_result::InvalidArgument, message)
    }

    /// The error is about element `index` of an array argument, and its message
    /// already says so (it names a field such as `events[3].subject`).
    pub fn at_index(mut self, index: usize) -> Self {
        self.index = Some(index);
        self
    }

    /// The error (from the core, which knows no arrays) is about the element `at`:
    /// its message is prefixed with the element's name (`questions[2]: ...`).
    pub fn about(mut self, at: ArgName) -> Self {
        self.message = format!("{at}: {}", self.message);
        self.index = at.index;
        self
    }
}

impl From<consent_core::Error> for FfiError {
    fn from(e: consent_core::Error) -> Self {
        FfiError::new(consent_result::from_kind(e.kind()), e.to_string())
    }
}

/// Whether an error of this kind is about one event or question (an unknown purpose,
/// a rule broken, a malformed id), rather than about the ledger or the storage: only
/// such an error can be pinned on one element of a bulk call.
pub(crate) fn about_one_element(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::InvalidArgument
            | ErrorKind::InvalidTime
            | ErrorKind::UnknownPurpose
            | ErrorKind::UnknownNotice
            | ErrorKind::UnknownRecipient
            | ErrorKind::InvalidConsent
            | ErrorKind::SubjectErased
            | ErrorKind::Conflict
            | ErrorKind::NotFound
    )
}

/// The name of an argument in messages: `params`, or an element of an array argument,
/// `events[3]`. Formatted only when a message is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ArgName {
    pub name: &'static str,
    pub index: Option<usize>,
}

impl ArgName {
    /// A whole argument.
    pub const fn whole(name: &'static str) -> Self {
        ArgName { name, index: None }
    }

    /// Element `index` of the array argument `name`.
    pub const fn element(name: &'static str, index: usize) -> Self {
        ArgName {
            name,
            index: Some(index),
        }
    }

    /// A field of this (struct) argument: `params.subject`, `events[3].subject`.
    pub const fn field(self, field: &'static str) -> FieldName {
        FieldName { of: self, field }
    }
}

impl Display for ArgName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index {
            Some(i) => write!(f, "{}[{i}]", self.name),
            None => f.write_str(self.name),
        }
    }
}

/// A field of a struct argument, named in messages as `params.subject`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FieldName {
    of: ArgName,
    field: &'static str,
}

impl Display for FieldName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.of, self.field)
    }
}

pub(crate) type FfiResult<T> = Result<T, FfiError>;

/// The last call of a thread: its code, its message, and the array element it was
/// about, if any.
struct LastError {
    code: consent_result,
    message: CString,
    index: Option<usize>,
}

thread_local! {
    static LAST_ERROR: RefCell<LastError> = RefCell::new(LastError {
        code: consent_result::Ok,
        message: CString::default(),
        index: None,
    });
}

fn set_last_error(code: consent_result, message: &str, index: Option<usize>) {
    // A message with an interior NUL (it cannot come from the core, but be sure) is cut there.
    let bytes = message.as_bytes();
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let message = CString::new(&bytes[..end]).unwrap_or_default();
    let _ = LAST_ERROR.try_with(|cell| {
        if let Ok(mut slot) = cell.try_borrow_mut() {
            *slot = LastError {
                code,
                message,
                index,
            };
        }
    });
}

/// The code of the last call on this thread.
pub(crate) fn last_error_code() -> consent_result {
    LAST_ERROR
        .try_with(|cell| {
            cell.try_borrow()
                .map(|s| s.code)
                .unwrap_or(consent_result::Ok)
        })
        .unwrap_or(consent_result::Ok)
}

/// The array element the last call of this thread failed on (see
/// `consent_last_error_index`).
pub(crate) fn last_error_index() -> Option<usize> {
    LAST_ERROR
        .try_with(|cell| cell.try_borrow().ok().and_then(|s| s.index))
        .ok()
        .flatten()
}

/// Copies the last message of this thread into `buf` (see `consent_last_error_message`).
pub(crate) fn last_error_message(buf: *mut c_char, len: usize) -> usize {
    LAST_ERROR
        .try_with(|cell| match cell.try_borrow() {
            Ok(slot) => copy_to_buffer(slot.message.to_str().unwrap_or(""), buf, len),
            Err(_) => 1,
        })
        .unwrap_or(1)
}

/// The panic boundary: runs `f`, turns an `Err` or a panic into a code and a
/// thread-local message, and records success as "no error".
pub(crate) fn guard(f: impl FnOnce() -> FfiResult<()>) -> consent_result {
    let outcome = catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        // Dropping the payload runs foreign code only in pathological cases; keep it
        // inside the boundary anyway.
        let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
        Err(FfiError::new(
            consent_result::Panic,
            format!("internal error (panic): {what}"),
        ))
    });
    match outcome {
        Ok(()) => {
            set_last_error(consent_result::Ok, "", None);
            consent_result::Ok
        }
        Err(e) => {
            set_last_error(e.code, &e.message, e.index);
            e.code
        }
    }
}

/// A required string argument: not NULL, valid UTF-8.
///
/// # Safety
/// `p` is NULL or points at a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn str_arg<'a>(p: *const c_char, name: impl Display) -> FfiResult<&'a str> {
    match unsafe { opt_str_arg(p, &name) }? {
        Some(s) => Ok(s),
        None => Err(FfiError::new(
            consent_result::NullArgument,
            format!("argument `{name}` is NULL"),
        )),
    }
}

/// An optional string argument: NULL means absent; otherwise valid UTF-8.
///
/// # Safety
/// As [`str_arg`].
pub(crate) unsafe fn opt_str_arg<'a>(
    p: *const c_char,
    name: impl Display,
) -> FfiResult<Option<&'a str>> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: the caller promises a NUL-terminated string.
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    std::str::from_utf8(bytes).map(Some).map_err(|e| {
        FfiError::new(
            consent_result::InvalidUtf8,
            format!(
                "argument `{name}` is not valid UTF-8 (bad byte at offset {})",
                e.valid_up_to()
            ),
        )
    })
}

/// A required array of `n` required strings (`const char *const *`): NULL is refused
/// unless `n` is 0, and so is a NULL element; each must be valid UTF-8. Elements are
/// named `name[i]` in messages.
///
/// # Safety
/// `p` is NULL or points at `n` pointers, each NULL or a NUL-terminated string, that
/// outlive `'a`.
pub(crate) unsafe fn str_array_arg<'a>(
    p: *const *const c_char,
    n: usize,
    name: &'static str,
) -> FfiResult<Vec<&'a str>> {
    let items = unsafe { array_arg(p, n, name) }?;
    items
        .iter()
        .enumerate()
        .map(|(i, &s)| unsafe { str_arg(s, ArgName::element(name, i)) }.map_err(|e| e.at_index(i)))
        .collect()
}

/// Checks an array argument of `n` elements at `p` (`p` is only read when `n` > 0):
/// NULL is refused unless `n` is 0, and so are a misaligned pointer and a length no
/// array can have.
fn check_array<T>(p: *const T, n: usize, name: &str) -> FfiResult<()> {
    if n == 0 {
        return Ok(());
    }
    if p.is_null() {
        return Err(FfiError::new(
            consent_result::NullArgument,
            format!("argument `{name}` is NULL (with {n} elements)"),
        ));
    }
    if !p.is_aligned() {
        return Err(FfiError::invalid(format!(
            "argument `{name}` is not aligned for its type"
        )));
    }
    if n > isize::MAX as usize / std::mem::size_of::<T>().max(1) {
        return Err(FfiError::invalid(format!(
            "argument `{name}`: {n} elements is not the length of an array"
        )));
    }
    Ok(())
}

/// A required array argument of `n` elements (`const T *` and a count): NULL is
/// refused unless `n` is 0 (see [`check_array`]).
///
/// # Safety
/// `p` is NULL or points at `n` valid `T`s that outlive `'a`.
pub(crate) unsafe fn array_arg<'a, T>(p: *const T, n: usize, name: &str) -> FfiResult<&'a [T]> {
    check_array(p, n, name)?;
    if n == 0 {
        return Ok(&[]);
    }
    // SAFETY: non-NULL, aligned, a length an allocation can have; the caller promises
    // the elements.
    Ok(unsafe { std::slice::from_raw_parts(p, n) })
}

/// An out-array of `len` elements, checked by [`out_array_arg`]; filled only once the
/// call has succeeded, by [`OutArray::write`].
pub(crate) struct OutArray<T> {
    ptr: NonNull<T>,
    len: usize,
}

impl<T> OutArray<T> {
    /// Writes `values` from the first element on, at most `len` of them, without
    /// reading (or dropping) what was there.
    ///
    /// # Safety
    /// The array came from [`out_array_arg`] or [`opt_out_array_arg`] and is writable.
    pub unsafe fn write(self, values: impl IntoIterator<Item = T>) {
        for (i, v) in values.into_iter().take(self.len).enumerate() {
            // SAFETY: i < len, checked non-NULL and aligned; writable by contract.
            unsafe { self.ptr.as_ptr().add(i).write(v) }
        }
    }
}

/// A required out-array of `n` elements: not NULL unless `n` is 0 (see
/// [`check_array`]).
pub(crate) fn out_array_arg<T>(p: *mut T, n: usize, name: &str) -> FfiResult<OutArray<T>> {
    check_array(p.cast_const(), n, name)?;
    Ok(OutArray {
        ptr: NonNull::new(p).unwrap_or(NonNull::dangling()),
        len: n,
    })
}

/// An optional out-array of `n` elements: NULL means the caller does not want it.
pub(crate) fn opt_out_array_arg<T>(
    p: *mut T,
    n: usize,
    name: &str,
) -> FfiResult<Option<OutArray<T>>> {
    if p.is_null() {
        Ok(None)
    } else {
        out_array_arg(p, n, name).map(Some)
    }
}

/// A required path argument. On Unix it is taken as bytes (any file name); elsewhere
/// it must be UTF-8. An empty path is refused.
///
/// # Safety
/// `p` is NULL or points at a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn path_arg<'a>(p: *const c_char, name: &str) -> FfiResult<&'a std::path::Path> {
    if p.is_null() {
        return Err(FfiError::new(
            consent_result::NullArgument,
            format!("argument `{name}` is NULL"),
        ));
    }
    // SAFETY: non-NULL, NUL-terminated by contract.
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    if bytes.is_empty() {
        return Err(FfiError::invalid(format!("argument `{name}` is empty")));
    }
    #[cfg(unix)]
    let path = {
        use std::os::unix::ffi::OsStrExt;
        std::path::Path::new(std::ffi::OsStr::from_bytes(bytes))
    };
    #[cfg(not(unix))]
    let path = std::path::Path::new(std::str::from_utf8(bytes).map_err(|_| {
        FfiError::new(
            consent_result::InvalidUtf8,
            format!("argument `{name}` is not valid UTF-8"),
        )
    })?);
    Ok(path)
}

/// A required pointer to an input value.
///
/// # Safety
/// `p` is NULL or points at a valid `T` that outlives `'a`.
pub(crate) unsafe fn ref_arg<'a, T>(p: *const T, name: &str) -> FfiResult<&'a T> {
    let p = checked_ptr(p.cast_mut(), name)?;
    // SAFETY: non-NULL and aligned; the caller promises it is valid.
    Ok(unsafe { &*p.as_ptr() })
}

/// A required out-parameter: not NULL and aligned. Write it with [`write_out`] only
/// once the call has succeeded.
pub(crate) fn out_arg<T>(p: *mut T, name: &str) -> FfiResult<NonNull<T>> {
    checked_ptr(p, name)
}

/// An optional out-parameter: NULL means the caller does not want it.
pub(crate) fn opt_out_arg<T>(p: *mut T, name: &str) -> FfiResult<Option<NonNull<T>>> {
    if p.is_null() {
        Ok(None)
    } else {
        checked_ptr(p, name).map(Some)
    }
}

fn checked_ptr<T>(p: *mut T, name: &str) -> FfiResult<NonNull<T>> {
    let p = NonNull::new(p).ok_or_else(|| {
        FfiError::new(
            consent_result::NullArgument,
            format!("argument `{name}` is NULL"),
        )
    })?;
    if !p.as_ptr().is_aligned() {
        return Err(FfiError::invalid(format!(
            "argument `{name}` is not aligned for its type"
        )));
    }
    Ok(p)
}

/// Writes an out-parameter without reading (or dropping) what was there.
///
/// # Safety
/// `p` came from [`out_arg`]/[`opt_out_arg`] and points at writable memory for a `T`.
pub(crate) unsafe fn write_out<T>(p: NonNull<T>, value: T) {
    // SAFETY: checked non-NULL and aligned; the caller promises it is writable.
    unsafe { p.as_ptr().write(value) }
}

/// Writes an optional out-parameter, if the caller wanted it (see [`opt_out_arg`]).
///
/// # Safety
/// As [`write_out`].
pub(crate) unsafe fn write_opt_out<T>(p: Option<NonNull<T>>, value: T) {
    if let Some(p) = p {
        unsafe { write_out(p, value) }
    }
}

/// The ledger behind a handle.
///
/// # Safety
/// `p` is NULL or a handle from `consent_ledger_open*` not yet freed.
pub(crate) unsafe fn ledger_arg<'a>(p: *const consent_ledger) -> FfiResult<&'a Ledger> {
    Ok(&unsafe { handle_arg(p) }?.ledger)
}

/// The handle behind a required `ledger` argument, for what the handle keeps besides
/// the ledger (the names a status points at).
///
/// # Safety
/// As [`ledger_arg`].
pub(crate) unsafe fn handle_arg<'a>(p: *const consent_ledger) -> FfiResult<&'a consent_ledger> {
    unsafe { ref_arg(p, "ledger") }
}

/// A required byte-array argument of `len` bytes at `p` (NULL is refused even when
/// `len` is 0).
///
/// # Safety
/// `p` is NULL or points at `len` readable bytes that outlive `'a`.
pub(crate) unsafe fn bytes_arg<'a>(p: *const u8, len: usize, name: &str) -> FfiResult<&'a [u8]> {
    if p.is_null() {
        return Err(FfiError::new(
            consent_result::NullArgument,
            format!("argument `{name}` is NULL"),
        ));
    }
    if len > isize::MAX as usize {
        return Err(FfiError::invalid(format!(
            "argument `{name}`: length {len} is not the length of an array"
        )));
    }
    // SAFETY: non-NULL, a length an allocation can have; the caller promises the bytes.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// A time argument: `CONSENT_TIME_ABSENT` means absent; otherwise milliseconds since
/// the Unix epoch within the years 1..=9999.
pub(crate) fn time_arg(ms: i64, name: impl Display) -> FfiResult<Option<Timestamp>> {
    if ms == CONSENT_TIME_ABSENT {
        return Ok(None);
    }
    if !(CONSENT_TIME_MIN..=CONSENT_TIME_MAX).contains(&ms) {
        return Err(FfiError::new(
            consent_result::InvalidTime,
            format!("argument `{name}` ({ms} ms) is outside the years 1..9999"),
        ));
    }
    Timestamp::from_millis(ms).map(Some).map_err(Into::into)
}

/// A time going out: absent becomes `CONSENT_TIME_ABSENT`.
pub(crate) fn time_out(t: Option<Timestamp>) -> i64 {
    t.map_or(CONSENT_TIME_ABSENT, Timestamp::as_millis)
}

/// Copies `s` and a NUL into `buf` of `len` bytes, cutting at a character boundary when
/// it does not fit. Returns the size needed for all of it (bytes plus the NUL).
/// Writes nothing when `buf` is NULL or `len` is 0.
pub(crate) fn copy_to_buffer(s: &str, buf: *mut c_char, len: usize) -> usize {
    let needed = s.len() + 1;
    if !buf.is_null() && len > 0 {
        let mut n = s.len().min(len - 1);
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        // SAFETY: the caller promises `buf` has `len` writable bytes; n + 1 <= len.
        unsafe {
            std::ptr::copy_nonoverlapping(s.as_ptr().cast::<c_char>(), buf, n);
            buf.add(n).write(0);
        }
    }
    needed
}

/// `s` as a fixed, NUL-terminated C array, cut at a character boundary if too long.
pub(crate) fn fixed_text<const N: usize>(s: &str) -> [c_char; N] {
    let mut out = [0 as c_char; N];
    if N > 0 {
        copy_to_buffer(s, out.as_mut_ptr(), N);
    }
    out
}

/// An owned C string for the caller (freed with `consent_string_free`).
pub(crate) fn owned_string(s: String) -> FfiResult<*mut c_char> {
    CString::new(s)
        .map(CString::into_raw)
        .map_err(|_| FfiError::new(consent_result::Other, "output contains a NUL byte"))
}

/// Bytes for the caller: a pointer and a length, freed with `consent_bytes_free`
/// (which rebuilds the boxed slice from both).
pub(crate) fn owned_bytes(bytes: Vec<u8>) -> (*mut u8, usize) {
    let boxed = bytes.into_boxed_slice();
    let len = boxed.len();
    (Box::into_raw(boxed).cast::<u8>(), len)
}

/// A value as an owned JSON C string.
pub(crate) fn owned_json<T: serde::Serialize>(v: &T) -> FfiResult<*mut c_char> {
    let text = serde_json::to_string(v)
        .map_err(|e| FfiError::new(consent_result::Other, format!("JSON: {e}")))?;
    owned_string(text)
}

/// Writes an owned JSON string of `value` to the required out-parameter `out`.
pub(crate) unsafe fn json_out<T: serde::Serialize>(
    out: NonNull<*mut c_char>,
    value: &T,
) -> FfiResult<()> {
    let text = owned_json(value)?;
    unsafe { write_out(out, text) };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_and_utf8_are_checked() {
        let e = unsafe { str_arg(std::ptr::null(), "subject") }.unwrap_err();
        assert_eq!(e.code, consent_result::NullArgument);
        assert!(e.message.contains("`subject`"));
        assert_eq!(
            unsafe { opt_str_arg(std::ptr::null(), "recipient") }.unwrap(),
            None
        );
        let bad = CString::new(vec![b'a', b'b', 0xff, b'c']).unwrap();
        let e = unsafe { str_arg(bad.as_ptr(), "purpose") }.unwrap_err();
        assert_eq!(e.code, consent_result::InvalidUtf8);
        assert!(e.message.contains("offset 2"), "{}", e.message);
        let good = c"jmsu.marketing";
        assert_eq!(
            unsafe { str_arg(good.as_ptr(), "purpose") }.unwrap(),
            "jmsu.marketing"
        );
    }

    #[test]
    fn out_pointers_are_checked() {
        let e = out_arg::<u64>(std::ptr::null_mut(), "out").unwrap_err();
        assert_eq!(e.code, consent_result::NullArgument);
        let mut words = [0u64; 2];
        let misaligned = (words.as_mut_ptr() as *mut u8)
            .wrapping_add(1)
            .cast::<u64>();
        assert_eq!(
            out_arg(misaligned, "out").unwrap_err().code,
            consent_result::InvalidArgument
        );
        assert!(opt_out_arg::<u64>(std::ptr::null_mut(), "out")
            .unwrap()
            .is_none());
    }

    #[test]
    fn times_are_range_checked() {
        assert_eq!(time_arg(CONSENT_TIME_ABSENT, "at").unwrap(), None);
        assert_eq!(time_arg(0, "at").unwrap().unwrap().as_millis(), 0);
        assert_eq!(
            time_arg(CONSENT_TIME_MAX + 1, "at").unwrap_err().code,
            consent_result::InvalidTime
        );
        assert_eq!(
            time_arg(i64::MAX, "at").unwrap_err().code,
            consent_result::InvalidTime
        );
        assert_eq!(
            time_arg(CONSENT_TIME_MIN - 1, "at").unwrap_err().code,
            consent_result::InvalidTime
        );
    }

    #[test]
    fn buffers_are_cut_at_character_boundaries() {
        let mut buf = [0x55 as c_char; 4];
        // "aé€": 1 + 2 + 3 bytes; 3 bytes fit before the NUL, the cut falls inside nothing.
        assert_eq!(copy_to_buffer("aé€", buf.as_mut_ptr(), buf.len()), 7);
        assert_eq!(
            unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap(),
            "aé"
        );
        let mut small = [0x55 as c_char; 2];
        assert_eq!(copy_to_buffer("é", small.as_mut_ptr(), 2), 3);
        assert_eq!(small[0], 0);
        assert_eq!(copy_to_buffer("abc", std::ptr::null_mut(), 10), 4);
        let t: [c_char; 3] = fixed_text("abcdef");
        assert_eq!(unsafe { CStr::from_ptr(t.as_ptr()) }.to_bytes(), b"ab");
    }

    #[test]
    fn panics_become_codes() {
        let code = guard(|| panic!("boom"));
        assert_eq!(code, consent_result::Panic);
        assert_eq!(last_error_code(), consent_result::Panic);
        let mut buf = [0 as c_char; 64];
        last_error_message(buf.as_mut_ptr(), buf.len());
        assert!(unsafe { CStr::from_ptr(buf.as_ptr()) }
            .to_str()
            .unwrap()
            .contains("boom"));
        assert_eq!(guard(|| Ok(())), consent_result::Ok);
        assert_eq!(last_error_code(), consent_result::Ok);
    }

    /// Every kind of the core's one table ([`ErrorKind::ALL`]) has a code of its own,
    /// the same number, named in the header as `CONSENT_RESULT_` and the kind's name in
    /// capitals: a kind added to the core fails here until `consent_result` has it.
    #[test]
    fn every_core_kind_has_its_own_code() {
        for &kind in ErrorKind::ALL {
            let code = consent_result::from_kind(kind);
            assert_ne!(code, consent_result::Other, "{kind:?} is not mapped");
            assert_eq!(code as i32, kind as i32, "{kind:?}");
            let name = consent_result::name(code as i32).to_str().unwrap();
            assert_eq!(
                name,
                format!("CONSENT_RESULT_{}", kind.name().to_ascii_uppercase()),
                "{kind:?}"
            );
        }
        let last = ErrorKind::ALL.len() as i32 + 1;
        for n in (0..=last).chain(100..=103) {
            let name = consent_result::name(n).to_str().unwrap();
            assert_ne!(name, "CONSENT_RESULT_UNKNOWN_CODE", "{n}");
        }
        for n in [-1, last + 1, 99, 104] {
            assert_eq!(
                consent_result::name(n),
                c"CONSENT_RESULT_UNKNOWN_CODE",
                "{n}"
            );
        }
    }

    #[test]
    fn string_arrays_are_checked() {
        let none = unsafe { str_array_arg(std::ptr::null(), 0, "purposes") }.unwrap();
        assert!(none.is_empty());
        let e = unsafe { str_array_arg(std::ptr::null(), 2, "purposes") }.unwrap_err();
        assert_eq!(e.code, consent_result::NullArgument);
        let bad = CString::new(vec![b'x', 0xff]).unwrap();
        let items = [c"a".as_ptr(), std::ptr::null(), bad.as_ptr()];
        let e = unsafe { str_array_arg(items.as_ptr(), 3, "purposes") }.unwrap_err();
        assert_eq!(e.code, consent_result::NullArgument);
        assert!(e.message.contains("`purposes[1]`"), "{}", e.message);
        let e = unsafe { str_array_arg(items[2..].as_ptr(), 1, "purposes") }.unwrap_err();
        assert_eq!(e.code, consent_result::InvalidUtf8);
        assert!(e.message.contains("`purposes[0]`"), "{}", e.message);
        assert_eq!(
            unsafe { str_array_arg(items.as_ptr(), 1, "purposes") }.unwrap(),
            vec!["a"]
        );
        assert_eq!(
            unsafe { str_array_arg(items.as_ptr(), usize::MAX, "purposes") }
                .unwrap_err()
                .code,
            consent_result::InvalidArgument
        );
    }

    #[test]
    fn arrays_are_checked() {
        let none: &[u64] = unsafe { array_arg(std::ptr::null(), 0, "events") }.unwrap();
        assert!(none.is_empty());
        let e = unsafe { array_arg::<u64>(std::ptr::null(), usize::MAX, "events") }.unwrap_err();
        assert_eq!(e.code, consent_result::NullArgument);
        assert!(
            e.message.contains("`events` is NULL (with"),
            "{}",
            e.message
        );
        assert_eq!(e.index, None);
        let mut words = [1u64, 2, 3];
        let e = unsafe { array_arg(words.as_ptr(), usize::MAX / 8, "events") }.unwrap_err();
        assert_eq!(e.code, consent_result::InvalidArgument);
        let misaligned = (words.as_ptr() as *const u8).wrapping_add(1).cast::<u64>();
        assert_eq!(
            unsafe { array_arg(misaligned, 1, "events") }
                .unwrap_err()
                .code,
            consent_result::InvalidArgument
        );
        assert_eq!(
            unsafe { array_arg(words.as_ptr(), 2, "events") }.unwrap(),
            &[1, 2]
        );
        // Out-arrays: required ones refuse NULL with elements; writes stop at the length.
        assert!(out_array_arg::<u64>(std::ptr::null_mut(), 0, "out").is_ok());
        assert_eq!(
            out_array_arg::<u64>(std::ptr::null_mut(), 1, "out")
                .err()
                .unwrap()
                .code,
            consent_result::NullArgument
        );
        assert!(opt_out_array_arg::<u64>(std::ptr::null_mut(), 5, "out")
            .unwrap()
            .is_none());
        let out = out_array_arg(words.as_mut_ptr(), 2, "out").unwrap();
        unsafe { out.write([7, 8, 9]) };
        assert_eq!(words, [7, 8, 3]);
    }

    #[test]
    fn errors_name_the_element() {
        let at = ArgName::element("events", 3);
        assert_eq!(at.to_string(), "events[3]");
        assert_eq!(at.field("subject").to_string(), "events[3].subject");
        assert_eq!(
            ArgName::whole("params").field("kind").to_string(),
            "params.kind"
        );
        let e = unsafe { str_arg(std::ptr::null(), at.field("subject")) }.unwrap_err();
        assert!(e.message.contains("`events[3].subject`"), "{}", e.message);
        let e = FfiError::invalid("unknown purpose").about(at);
        assert_eq!(
            (e.message.as_str(), e.index),
            ("events[3]: unknown purpose", Some(3))
        );
        assert_eq!(guard(|| Err(e)), consent_result::InvalidArgument);
        assert_eq!(last_error_index(), Some(3));
        assert_eq!(guard(|| Ok(())), consent_result::Ok);
        assert_eq!(last_error_index(), None);
        let items = [c"a".as_ptr(), std::ptr::null()];
        let e = unsafe { str_array_arg(items.as_ptr(), 2, "purposes") }.unwrap_err();
        assert_eq!(e.index, Some(1));
    }

    #[test]
    fn paths_are_checked() {
        let e = unsafe { path_arg(std::ptr::null(), "path") }.unwrap_err();
        assert_eq!(e.code, consent_result::NullArgument);
        let e = unsafe { path_arg(c"".as_ptr(), "path") }.unwrap_err();
        assert_eq!(e.code, consent_result::InvalidArgument);
        assert_eq!(
            unsafe { path_arg(c"/tmp/x.toml".as_ptr(), "path") }.unwrap(),
            std::path::Path::new("/tmp/x.toml")
        );
    }

    #[test]
    fn byte_arguments_are_checked() {
        let e = unsafe { bytes_arg(std::ptr::null(), 0, "event") }.unwrap_err();
        assert_eq!(e.code, consent_result::NullArgument);
        let data = [1u8, 2, 3];
        assert_eq!(
            unsafe { bytes_arg(data.as_ptr(), usize::MAX, "event") }
                .unwrap_err()
                .code,
            consent_result::InvalidArgument
        );
        assert_eq!(
            unsafe { bytes_arg(data.as_ptr(), 2, "event") }.unwrap(),
            &[1, 2]
        );
    }
}
