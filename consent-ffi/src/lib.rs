//! # consent-ffi
//!
//! The C ABI of consent-ledger, for Student Information System integrations. The
//! header `include/consent.h` is generated from this crate by cbindgen (`make header`);
//! every doc comment here ends up in it.
//!
//! ## Rules of the ABI
//! Written once, at the top of `include/consent.h` (from `cbindgen.toml`): handles and
//! their lifetimes, result codes and out-parameters, arrays, strings, times, threads,
//! the library's names and symbols, and how the ABI may grow within a SONAME. Every
//! function's and struct's doc comment here adds only what is its own.

#![deny(missing_docs)]
#![allow(non_camel_case_types)]
// Every function's contract is the header's: pointers are NULL or valid, strings are
// NUL-terminated. It is stated once, in the header's rules, instead of in a `# Safety`
// section per function.
#![allow(clippy::missing_safety_doc)]

mod backend;
mod boundary;
mod checkpoint;
mod downstream;
mod receipt;
mod report;
mod witness;

use std::ffi::{c_char, c_void};
use std::ptr::NonNull;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use consent_core::{
    Actor, BatchToken, ConsistencyProof, ErasureOptions, ErasureReport, Event, EventKind, Head,
    InclusionProof, KeySource, Ledger, LedgerOptions, Method, NewEvent, Notice, NoticeDef, Purpose,
    PurposeDef, State, Status, Synchronous, Timestamp, VerifyReport,
};
use uuid::Uuid;

pub use backend::{consent_access, CONSENT_GRANTS_SQL_LEN};
pub use boundary::consent_result;
use boundary::{
    about_one_element, array_arg, bytes_arg, copy_to_buffer, fixed_text, guard, ledger_arg,
    opt_out_arg, opt_out_array_arg, opt_str_arg, out_arg, out_array_arg, owned_bytes, owned_json,
    owned_string, path_arg, ref_arg, str_arg, str_array_arg, time_arg, time_out, write_out,
    ArgName, FfiError, FfiResult,
};
pub use checkpoint::{
    consent_checkpoint_finding, consent_checkpoint_verdict, consent_checkpoints_report,
    consent_key_role, CONSENT_VKEY_OVERHEAD,
};
pub use downstream::{consent_feed_item, consent_feed_page, CONSENT_FEED_CURSOR, CONSENT_KIND_LEN};
pub use receipt::{consent_checked_receipt, consent_receipt_layout};
pub use witness::consent_witness;

/// Major version of the library this header belongs to.
pub const CONSENT_VERSION_MAJOR: u32 = 0;
/// Minor version of the library this header belongs to.
pub const CONSENT_VERSION_MINOR: u32 = 1;
/// Patch version of the library this header belongs to.
pub const CONSENT_VERSION_PATCH: u32 = 0;

/// "No time": an optional time that is not given, or an output time that does not exist.
pub const CONSENT_TIME_ABSENT: i64 = i64::MIN;
/// The earliest time accepted: 0001-01-01T00:00:00.000Z.
pub const CONSENT_TIME_MIN: i64 = -62_135_596_800_000;
/// The latest time accepted: 9999-12-31T23:59:59.999Z.
pub const CONSENT_TIME_MAX: i64 = 253_402_300_799_999;
/// "The ledger's current size", where a tree size is optional.
pub const CONSENT_SIZE_CURRENT: u64 = u64::MAX;
/// Bytes in an event id buffer: a hyphenated UUID (36 characters) and its NUL.
pub const CONSENT_EVENT_ID_LEN: usize = 37;
/// Bytes always enough for a head written `SIZE:ROOTHEX` and its NUL.
pub const CONSENT_HEAD_STRING_LEN: usize = 86;
/// Bytes of the problem text in a [`consent_verify_report`] (longer text is cut).
pub const CONSENT_PROBLEM_LEN: usize = 256;
/// Bytes of a pseudonym key ([`consent_options::pseudonym_key`]).
pub const CONSENT_KEY_LEN: usize = 32;
/// Bytes always enough for a ledger's time-zone name and its NUL
/// ([`consent_ledger_time_zone`]): every IANA name is shorter.
pub const CONSENT_TIME_ZONE_LEN: usize = 64;
/// "No element": what [`consent_last_error_index`] returns when the last call did not
/// fail on one element of an array argument. (In the header it is `SIZE_MAX`, written
/// by `cbindgen.toml`: cbindgen cannot spell `usize::MAX`.)
///
/// cbindgen:ignore
pub const CONSENT_INDEX_NONE: usize = usize::MAX;
/// A flag of the erasure functions ([`consent_erase_subject_with`],
/// [`consent_erase_subjects_json`]): record the erasure of an id the ledger holds no
/// event about (without it such an id is `CONSENT_RESULT_NOT_FOUND`, or `unknown` in a
/// bulk report: most likely a mistyped id, and an erased id cannot consent again until
/// it is readmitted).
pub const CONSENT_ERASE_FORCE: u32 = 1;

/// An open ledger. Opaque; share it between threads freely.
pub struct consent_ledger {
    /// Shared with the batches begun on it, which keep it open.
    ledger: Arc<Ledger>,
}

/// An open batch on a ledger, from [`consent_batch_begin`]. Opaque. Appends made
/// through it land together on [`consent_batch_commit`] or not at all. It keeps its
/// ledger open (even after [`consent_ledger_free`]) until [`consent_batch_free`].
pub struct consent_batch {
    ledger: Arc<Ledger>,
    /// `None` once committed or rolled back. The lock makes a batch handle safe to use
    /// from any thread, one call at a time.
    token: Mutex<Option<BatchToken>>,
}

impl Drop for consent_batch {
    fn drop(&mut self) {
        // A batch still open when its handle goes away is rolled back, never left
        // holding the ledger.
        let token = self
            .token
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(token) = token {
            let _ = self.ledger.rollback_batch(token);
        }
    }
}

/// Where the pseudonym key of a ledger comes from, for
/// [`consent_options::pseudonym_key_source`]. The key turns subject ids into keyed
/// pseudonyms; it is never stored in the ledger file, and the ledger commits to its id
/// in its first event, so a missing or different key is `CONSENT_RESULT_KEY`.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum consent_key_source {
    /// The key file beside the ledger, `<ledger path>.key` (created 0600 with a new
    /// ledger); a new random key for a ledger in memory. The default.
    Beside = 0,
    /// The key file at [`consent_options::pseudonym_key_path`] (created 0600 with a new
    /// ledger when missing). Not for ledgers in memory.
    File = 1,
    /// The [`CONSENT_KEY_LEN`] bytes in [`consent_options::pseudonym_key`], supplied by
    /// the application.
    Bytes = 2,
    /// No key: read-only opens only. Verification and proofs work; questions about a
    /// subject return `CONSENT_RESULT_KEY`.
    None = 3,
}

/// Durability of commits, for [`consent_options::synchronous`].
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum consent_synchronous {
    /// fsync on every commit (default): an acknowledged event survives power loss. In
    /// PostgreSQL, `synchronous_commit = on`.
    Full = 0,
    /// fsync at checkpoints only: survives a process crash, not a power cut. In
    /// PostgreSQL, `synchronous_commit = off`: survives a client crash, not a server's.
    Normal = 1,
}

/// The kind of an event appended with [`consent_append`] (the value of
/// [`consent_event_params::kind`]).
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum consent_event_kind {
    /// The subject gave consent (needs a notice and a method).
    Given = 1,
    /// The subject was asked and said no (needs a method).
    Refused = 2,
    /// The subject withdrew consent: never refused, never retroactive.
    Withdrawn = 3,
    /// The controller stopped relying on the consent (not retroactive).
    Revoked = 4,
    /// A grant turned out never to have been valid (retroactive).
    Invalidated = 5,
    /// The subject objected to processing (legitimate interests / public task).
    Objected = 6,
    /// A notice was shown to the subject (no decision; needs a notice).
    NoticeServed = 7,
    /// A person decided that the controller's compelling legitimate grounds override
    /// the subject's objection (Art. 21(1)): processing may go on. Only for a purpose
    /// that does not rest on consent, with an objection in force, recorded by
    /// `staff:<id>`.
    ObjectionOverruled = 8,
}

/// How an event reached the ledger (the value of [`consent_event_params::method`]).
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum consent_method {
    /// Not said (allowed except for grants and refusals).
    None = 0,
    /// The "My LJMU" portal or another self-service page.
    Portal = 1,
    /// A web form.
    WebForm = 2,
    /// A paper form, typed in later.
    Paper = 3,
    /// An email from the subject.
    Email = 4,
    /// An automated feed from another system.
    Feed = 5,
    /// In person.
    InPerson = 6,
    /// By telephone.
    Phone = 7,
    /// Another system's API call.
    Api = 8,
}

/// The state of consent in a [`consent_status`].
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum consent_state {
    /// Consent is in force.
    Given = 1,
    /// The subject was asked and said no.
    Refused = 2,
    /// The subject withdrew (from that moment on; earlier use stays lawful).
    Withdrawn = 3,
    /// The controller stopped relying on the consent.
    Revoked = 4,
    /// The grant was never valid (retroactive).
    Invalidated = 5,
    /// The grant lapsed (e.g. at the end of the academic year).
    Expired = 6,
    /// The subject objected.
    Objected = 7,
    /// No decision on record.
    NeverAsked = 8,
    /// The purpose does not rest on consent; see the lawful basis.
    NotConsentBased = 9,
    /// The subject's records were erased; the ledger can no longer answer for them.
    Erased = 10,
    /// The grant was given under an earlier version of the purpose, which has since
    /// changed materially (another lawful basis or controller, special-category data,
    /// a new recipient, or a change its owner declared): the subject must be asked
    /// again. Never permits; see `consent_status::granted_under_version`.
    NeedsRenewal = 11,
    /// A state this build does not name (a newer consent-core).
    Unknown = 99,
}

/// Options for [`consent_ledger_open`]. Fill with [`consent_options_init`] first, then
/// change what you need; NULL options mean the defaults. Its layout is fixed for a
/// SONAME (consent.h, "Growing the ABI").
#[repr(C)]
pub struct consent_options {
    /// A `consent_synchronous` value (default `CONSENT_SYNCHRONOUS_FULL`).
    pub synchronous: i32,
    /// How long to wait for another writer's lock, in ms (default 30000; negative means
    /// the default; at most `INT32_MAX`). In PostgreSQL also the connection's timeout
    /// (at most 30 s).
    pub busy_timeout_ms: i64,
    /// Open read-only: no writes, no schema creation (default false).
    pub read_only: bool,
    /// Create a new ledger when the path does not exist or is an empty file (default
    /// true). Programs that only read or check a ledger pass false, so that a mistyped
    /// path is `CONSENT_RESULT_NOT_FOUND` and an empty file `CONSENT_RESULT_NOT_A_LEDGER`
    /// instead of a new, empty ledger that answers "never asked" for everyone.
    pub create: bool,
    /// A simulated clock: "now" in ms since the epoch, or NULL for the system clock
    /// (default). Only for simulations (tests, demos, replays): a ledger *created*
    /// with a clock (a new file, or in memory) is a simulation for good, says so in its
    /// hashed first event and in `consent_verify_report.simulated`, and may be reopened
    /// with a clock; opening a real ledger (created without one) with a clock is
    /// `CONSENT_RESULT_INVALID_ARGUMENT`. Called from any thread that uses the ledger,
    /// with the ledger locked: it must be thread-safe and must not call this library.
    /// Results outside the supported range are clamped. A simulation's record times
    /// are what its clock says, even earlier than the last one (a real ledger's never
    /// go backwards).
    pub clock: Option<unsafe extern "C" fn(context: *mut c_void) -> i64>,
    /// Passed to `clock`; must stay valid until the ledger is freed.
    pub clock_context: *mut c_void,
    /// Where the pseudonym key comes from: a `consent_key_source` value (default
    /// `CONSENT_KEY_SOURCE_BESIDE`, the file `<ledger path>.key`; a ledger in
    /// PostgreSQL needs `CONSENT_KEY_SOURCE_FILE` or `CONSENT_KEY_SOURCE_BYTES`).
    pub pseudonym_key_source: i32,
    /// With `CONSENT_KEY_SOURCE_FILE`: the key file's path (NUL-terminated, read only
    /// during the open). Must be NULL with any other source.
    pub pseudonym_key_path: *const c_char,
    /// With `CONSENT_KEY_SOURCE_BYTES`: the key. Ignored with any other source.
    pub pseudonym_key: [u8; CONSENT_KEY_LEN],
    /// How long [`consent_erase_subject`] keeps retrying to complete an erasure while
    /// another connection holds an old snapshot, in ms (default 2000; negative means
    /// the default).
    pub erasure_wait_ms: i64,
    /// The institution's time zone, an IANA name such as "Europe/London"
    /// (NUL-terminated, read only during the open), or NULL for the default. A new
    /// ledger commits to it (default "Europe/London") in its first, hashed event:
    /// academic years end at local midnight there. Opening an existing ledger with
    /// another zone is `CONSENT_RESULT_INVALID_ARGUMENT`; NULL opens it with its own
    /// ([`consent_ledger_time_zone`]).
    pub time_zone: *const c_char,
}

/// The parameters of an event for [`consent_append`]. Fill with
/// [`consent_event_params_init`] first (it sets every time to `CONSENT_TIME_ABSENT`,
/// which zero-filling would not), then set what you need. Strings may be NULL when
/// optional; they are only read during the call.
#[repr(C)]
pub struct consent_event_params {
    /// A `consent_event_kind` value. Required.
    pub kind: i32,
    /// The data subject (student id). Required.
    pub subject: *const c_char,
    /// The purpose id. Required.
    pub purpose: *const c_char,
    /// The recipient the consent names, or NULL.
    pub recipient: *const c_char,
    /// The notice shown: id and version, both or neither. Required for grants.
    pub notice_id: *const c_char,
    /// See `notice_id`.
    pub notice_version: *const c_char,
    /// Explicit consent (Art. 9(2)(a)): the subject expressly confirmed a statement.
    /// Required for grants of special-category purposes.
    pub explicit_consent: bool,
    /// A `consent_method` value; `CONSENT_METHOD_NONE` if not said. Required for
    /// grants and refusals.
    pub method: i32,
    /// Who recorded it: `subject`, `staff:<id>` or `system:<id>`; NULL = `subject`.
    pub recorded_by: *const c_char,
    /// When it happened (event time); `CONSENT_TIME_ABSENT` = when recorded.
    pub effective_at_ms: i64,
    /// When a grant lapses; `CONSENT_TIME_ABSENT` = the purpose's validity rule.
    pub expires_at_ms: i64,
    /// The caller's idempotency key, or NULL. A retry with the same key and content
    /// returns the event already recorded; other content is `CONSENT_RESULT_CONFLICT`.
    pub source_id: *const c_char,
    /// Free-form evidence as a JSON object text, or NULL.
    pub evidence_json: *const c_char,
    /// For invalidations: the id of the grant that was never valid, or NULL for every
    /// earlier grant of the subject, purpose and recipient.
    pub target_event_id: *const c_char,
    /// For grants: when the validity rule starts counting (a course rep's course
    /// start), instead of the effective time; `CONSENT_TIME_ABSENT` = from the
    /// effective time. Recorded in the event's hashed details.
    pub validity_from_ms: i64,
}

/// An event as appended: its id, sequence number and the times the ledger settled.
#[repr(C)]
pub struct consent_event_ref {
    /// The event id (a UUID, NUL-terminated).
    pub id: [c_char; CONSENT_EVENT_ID_LEN],
    /// Its position in the log, from 0.
    pub seq: u64,
    /// When it happened.
    pub effective_at_ms: i64,
    /// When the ledger learnt it.
    pub recorded_at_ms: i64,
    /// When a grant lapses, or `CONSENT_TIME_ABSENT`.
    pub expires_at_ms: i64,
    /// For withdrawals, revocations and objections: when downstream systems must have
    /// acted (effective time plus the purpose's effect delay); else `CONSENT_TIME_ABSENT`.
    pub effect_deadline_ms: i64,
}

/// The answer of [`consent_get_status`] and [`consent_get_status_at`]. The full answer (with
/// the notice id and version) is available as JSON from [`consent_get_status_json`].
#[repr(C)]
pub struct consent_status {
    /// The state.
    pub state: consent_state,
    /// Whether processing may go ahead: consent in force, or a purpose that does not
    /// rest on consent and was not objected to.
    pub permits: bool,
    /// The purpose's lawful basis as the letter of Art. 6(1): 'a' (consent) .. 'f'.
    pub lawful_basis: c_char,
    /// The purpose's current version.
    pub purpose_version: u32,
    /// Whether an event decided the state (then `event_id` and `event_seq` are set).
    pub has_event: bool,
    /// The deciding event's id, or "" when none.
    pub event_id: [c_char; CONSENT_EVENT_ID_LEN],
    /// The deciding event's sequence number (0 when none).
    pub event_seq: u64,
    /// Since when this state holds, or `CONSENT_TIME_ABSENT`.
    pub since_ms: i64,
    /// Until when (a grant's expiry), or `CONSENT_TIME_ABSENT`.
    pub until_ms: i64,
    /// For a withdrawal: when downstream systems must have acted, or `CONSENT_TIME_ABSENT`.
    pub effect_deadline_ms: i64,
    /// The moment asked about.
    pub at_ms: i64,
    /// The knowledge time asked about.
    pub as_known_at_ms: i64,
    /// Whether the deciding event names a notice (then `notice_sha256` is set).
    pub has_notice: bool,
    /// SHA-256 of the notice text shown.
    pub notice_sha256: [u8; 32],
    /// The purpose version the deciding grant was given under, or 0 when the deciding
    /// event is not a grant. Differs from `purpose_version` after a change (then
    /// `state` may be `CONSENT_STATE_NEEDS_RENEWAL`).
    pub granted_under_version: u32,
}

/// One question of [`consent_status_many`]: the arguments of [`consent_get_status`].
/// The strings are only read during the call.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct consent_question {
    /// The data subject (student id). Required.
    pub subject: *const c_char,
    /// The purpose id. Required.
    pub purpose: *const c_char,
    /// The recipient asked about, or NULL: as `recipient` of [`consent_get_status`]
    /// (required when the purpose lists recipients).
    pub recipient: *const c_char,
}

/// A head of the log: its size and Merkle root. Keep one elsewhere to detect a
/// rewritten or truncated log later ([`consent_verify_against`]).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct consent_head {
    /// Number of events.
    pub size: u64,
    /// RFC 9162 Merkle tree hash of those events.
    pub root: [u8; 32],
}

/// The result of [`consent_verify`] and [`consent_verify_against`].
#[repr(C)]
pub struct consent_verify_report {
    /// Whether every hash matched (and, against a head, the log still extends it).
    pub ok: bool,
    /// Events checked.
    pub size: u64,
    /// Whether `first_bad_seq` is set.
    pub has_first_bad_seq: bool,
    /// The first sequence number found bad.
    pub first_bad_seq: u64,
    /// Whether `head` is set (the log is intact).
    pub has_head: bool,
    /// The head recomputed from the rows.
    pub head: consent_head,
    /// Why the log is bad ("" when ok), NUL-terminated, cut to fit.
    pub problem: [c_char; CONSENT_PROBLEM_LEN],
    /// Whether the ledger was created as a simulation: its record times come from a
    /// simulated clock ([`consent_options::clock`]), not the system's.
    pub simulated: bool,
}

/// What [`consent_erase_subject`] did.
#[repr(C)]
pub struct consent_erasure_report {
    /// The `subject_erased` event.
    pub event_id: [c_char; CONSENT_EVENT_ID_LEN],
    /// Its sequence number.
    pub seq: u64,
    /// Number of events whose personal fields were blanked.
    pub events_erased: u64,
    /// Whether the erasure is complete: the WAL was checkpointed and truncated, so the
    /// erased values are gone from every file. False ("pending") when another
    /// connection kept an old snapshot open for longer than the erasure wait; finish it
    /// with [`consent_complete_erasures`]. In PostgreSQL: the tables were vacuumed,
    /// which only their owner may do (false for another role; docs/POSTGRES.md says
    /// what the server's WAL and backups still hold).
    pub wal_truncated: bool,
}

// ---- conversions -------------------------------------------------------------------

fn event_kind(v: i32, name: impl std::fmt::Display) -> FfiResult<EventKind> {
    Ok(match v {
        1 => EventKind::Given,
        2 => EventKind::Refused,
        3 => EventKind::Withdrawn,
        4 => EventKind::Revoked,
        5 => EventKind::Invalidated,
        6 => EventKind::Objected,
        7 => EventKind::NoticeServed,
        8 => EventKind::ObjectionOverruled,
        _ => {
            return Err(FfiError::invalid(format!(
                "`{name}` {v} is not a consent_event_kind"
            )))
        }
    })
}

fn method(v: i32, name: impl std::fmt::Display) -> FfiResult<Option<Method>> {
    Ok(Some(match v {
        0 => return Ok(None),
        1 => Method::Portal,
        2 => Method::WebForm,
        3 => Method::Paper,
        4 => Method::Email,
        5 => Method::Feed,
        6 => Method::InPerson,
        7 => Method::Phone,
        8 => Method::Api,
        _ => {
            return Err(FfiError::invalid(format!(
                "`{name}` {v} is not a consent_method"
            )))
        }
    }))
}

fn state(s: State) -> consent_state {
    match s {
        State::Given => consent_state::Given,
        State::Refused => consent_state::Refused,
        State::Withdrawn => consent_state::Withdrawn,
        State::Revoked => consent_state::Revoked,
        State::Invalidated => consent_state::Invalidated,
        State::Expired => consent_state::Expired,
        State::Objected => consent_state::Objected,
        State::NeverAsked => consent_state::NeverAsked,
        State::NotConsentBased => consent_state::NotConsentBased,
        State::Erased => consent_state::Erased,
        State::NeedsRenewal => consent_state::NeedsRenewal,
    }
}

pub(crate) unsafe fn actor_arg(p: *const c_char, name: impl std::fmt::Display) -> FfiResult<Actor> {
    match unsafe { opt_str_arg(p, &name) }? {
        None => Ok(Actor::subject()),
        Some(text) => text
            .parse::<Actor>()
            .map_err(|e| FfiError::invalid(format!("argument `{name}`: {e}"))),
    }
}

fn uuid_arg(text: &str, name: impl std::fmt::Display) -> FfiResult<Uuid> {
    Uuid::parse_str(text)
        .map_err(|_| FfiError::invalid(format!("argument `{name}` is not an event id (a UUID)")))
}

/// The event `p` describes; `at` names `p` in messages (`params`, `events[3]`), and an
/// error about an element of an array carries its index.
unsafe fn new_event(p: &consent_event_params, at: ArgName) -> FfiResult<NewEvent> {
    unsafe { new_event_named(p, at) }.map_err(|e| match at.index {
        Some(i) => e.at_index(i),
        None => e,
    })
}

unsafe fn new_event_named(p: &consent_event_params, at: ArgName) -> FfiResult<NewEvent> {
    let kind = event_kind(p.kind, at.field("kind"))?;
    let subject = unsafe { str_arg(p.subject, at.field("subject")) }?;
    let purpose = unsafe { str_arg(p.purpose, at.field("purpose")) }?;
    let mut e = NewEvent::new(kind, subject, purpose);
    e.recipient = unsafe { opt_str_arg(p.recipient, at.field("recipient")) }?.map(Into::into);
    let notice_id = unsafe { opt_str_arg(p.notice_id, at.field("notice_id")) }?;
    let notice_version = unsafe { opt_str_arg(p.notice_version, at.field("notice_version")) }?;
    e.notice = match (notice_id, notice_version) {
        (Some(id), Some(v)) => Some((id.into(), v.into())),
        (None, None) => None,
        _ => {
            return Err(FfiError::invalid(format!(
                "`{}` and `{}` go together",
                at.field("notice_id"),
                at.field("notice_version")
            )))
        }
    };
    e.explicit = p.explicit_consent;
    e.method = method(p.method, at.field("method"))?;
    e.recorded_by = unsafe { actor_arg(p.recorded_by, at.field("recorded_by")) }?;
    e.effective_at = time_arg(p.effective_at_ms, at.field("effective_at_ms"))?;
    e.expires_at = time_arg(p.expires_at_ms, at.field("expires_at_ms"))?;
    e.validity_from = time_arg(p.validity_from_ms, at.field("validity_from_ms"))?;
    e.source_id = unsafe { opt_str_arg(p.source_id, at.field("source_id")) }?.map(Into::into);
    e.evidence = match unsafe { opt_str_arg(p.evidence_json, at.field("evidence_json")) }? {
        Some(text) => Some(serde_json::from_str(text).map_err(|err| {
            FfiError::invalid(format!(
                "`{}` is not JSON: {err}",
                at.field("evidence_json")
            ))
        })?),
        None => None,
    };
    e.target = match unsafe { opt_str_arg(p.target_event_id, at.field("target_event_id")) }? {
        Some(text) => Some(uuid_arg(text, at.field("target_event_id"))?),
        None => None,
    };
    Ok(e)
}

fn event_ref(e: &Event) -> consent_event_ref {
    consent_event_ref {
        id: fixed_text(&e.id.hyphenated().to_string()),
        seq: e.seq,
        effective_at_ms: e.effective_at.as_millis(),
        recorded_at_ms: e.recorded_at.as_millis(),
        expires_at_ms: time_out(e.expires_at),
        effect_deadline_ms: time_out(e.effect_deadline),
    }
}

fn status_out(s: &Status) -> consent_status {
    consent_status {
        state: state(s.state),
        permits: s.permits(),
        lawful_basis: s.lawful_basis.letter() as c_char,
        purpose_version: s.purpose_version,
        has_event: s.event_id.is_some(),
        event_id: fixed_text(
            &s.event_id
                .map(|u| u.hyphenated().to_string())
                .unwrap_or_default(),
        ),
        event_seq: s.event_seq.unwrap_or(0),
        since_ms: time_out(s.since),
        until_ms: time_out(s.until),
        effect_deadline_ms: time_out(s.effect_deadline),
        at_ms: s.at.as_millis(),
        as_known_at_ms: s.as_known_at.as_millis(),
        has_notice: s.notice.is_some(),
        notice_sha256: s.notice.as_ref().map_or([0; 32], |n| n.sha256),
        granted_under_version: s.granted_under_version.unwrap_or(0),
    }
}

fn head_out(h: &Head) -> consent_head {
    consent_head {
        size: h.size,
        root: h.root,
    }
}

fn head_in(h: &consent_head) -> Head {
    Head {
        size: h.size,
        root: h.root,
    }
}

fn report_out(r: &VerifyReport) -> consent_verify_report {
    consent_verify_report {
        ok: r.ok,
        size: r.size,
        has_first_bad_seq: r.first_bad_seq.is_some(),
        first_bad_seq: r.first_bad_seq.unwrap_or(0),
        has_head: r.head.is_some(),
        head: r.head.as_ref().map_or(
            consent_head {
                size: 0,
                root: [0; 32],
            },
            head_out,
        ),
        problem: fixed_text(r.problem.as_deref().unwrap_or("")),
        simulated: r.simulated,
    }
}

fn size_arg(v: u64) -> Option<u64> {
    (v != CONSENT_SIZE_CURRENT).then_some(v)
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

/// A thread-safe wrapper for a C clock callback.
struct CClock {
    f: unsafe extern "C" fn(*mut c_void) -> i64,
    context: *mut c_void,
}

// SAFETY: the header requires the callback and its context to be usable from any thread.
unsafe impl Send for CClock {}
// SAFETY: as above.
unsafe impl Sync for CClock {}

impl CClock {
    fn now(&self) -> Timestamp {
        // SAFETY: the caller gave a valid function pointer and context.
        let ms = unsafe { (self.f)(self.context) };
        Timestamp::from_millis(ms.clamp(CONSENT_TIME_MIN, CONSENT_TIME_MAX))
            .unwrap_or_else(|_| Timestamp::now())
    }
}

/// The core options of C options (NULL = the defaults).
///
/// # Safety
/// `o.pseudonym_key_path` is NULL or a NUL-terminated string.
unsafe fn core_options(o: Option<&consent_options>) -> FfiResult<LedgerOptions> {
    let mut opts = LedgerOptions::default();
    if let Some(o) = o {
        opts.synchronous = match o.synchronous {
            0 => Synchronous::Full,
            1 => Synchronous::Normal,
            v => {
                return Err(FfiError::invalid(format!(
                    "`options.synchronous` {v} is not a consent_synchronous"
                )))
            }
        };
        if o.busy_timeout_ms > i64::from(i32::MAX) {
            // SQLite takes the timeout as a C int of milliseconds (about 24.8 days).
            return Err(FfiError::invalid(format!(
                "`options.busy_timeout_ms` {} is above the maximum {}",
                o.busy_timeout_ms,
                i32::MAX
            )));
        }
        if o.busy_timeout_ms >= 0 {
            opts.busy_timeout = Duration::from_millis(o.busy_timeout_ms as u64);
        }
        opts.read_only = o.read_only;
        opts.create = o.create;
        if let Some(f) = o.clock {
            let clock = CClock {
                f,
                context: o.clock_context,
            };
            opts.clock = Some(Arc::new(move || clock.now()));
        }
        let path = unsafe { opt_str_arg(o.pseudonym_key_path, "options.pseudonym_key_path") }?;
        opts.pseudonym_key = match (o.pseudonym_key_source, path) {
            (0, None) => KeySource::Beside,
            (1, Some("")) => {
                return Err(FfiError::invalid(
                    "`options.pseudonym_key_path` is empty",
                ))
            }
            (1, Some(path)) => KeySource::File(path.into()),
            (1, None) => {
                return Err(FfiError::new(
                    consent_result::NullArgument,
                    "`options.pseudonym_key_path` is NULL but the key source is CONSENT_KEY_SOURCE_FILE",
                ))
            }
            (2, None) => KeySource::Bytes(o.pseudonym_key),
            (3, None) => KeySource::None,
            (0 | 2 | 3, Some(_)) => {
                return Err(FfiError::invalid(
                    "`options.pseudonym_key_path` is set but the key source is not CONSENT_KEY_SOURCE_FILE",
                ))
            }
            (v, _) => {
                return Err(FfiError::invalid(format!(
                    "`options.pseudonym_key_source` {v} is not a consent_key_source"
                )))
            }
        };
        if o.erasure_wait_ms >= 0 {
            opts.erasure_wait = Duration::from_millis(o.erasure_wait_ms as u64);
        }
        opts.time_zone = unsafe { opt_str_arg(o.time_zone, "options.time_zone") }?.map(Into::into);
    }
    Ok(opts)
}

/// The options argument of the open functions: NULL means the defaults.
///
/// # Safety
/// `options` is NULL or points at a valid `consent_options`.
unsafe fn options_arg(options: *const consent_options) -> FfiResult<LedgerOptions> {
    let options = if options.is_null() {
        None
    } else {
        Some(unsafe { ref_arg(options, "options") }?)
    };
    unsafe { core_options(options) }
}

fn handle_out(out: NonNull<*mut consent_ledger>, ledger: Ledger) {
    let handle = Box::into_raw(Box::new(consent_ledger {
        ledger: Arc::new(ledger),
    }));
    // SAFETY: `out` was checked by `out_arg`.
    unsafe { write_out(out, handle) };
}

/// Where a write goes: straight to the ledger (a transaction of its own), or into an
/// open batch. The ledger's functions and the batch's share everything else.
#[derive(Clone, Copy)]
enum Writer<'a> {
    Ledger(&'a Ledger),
    Batch(&'a Ledger, &'a BatchToken),
}

impl Writer<'_> {
    fn append(self, event: NewEvent) -> consent_core::Result<Event> {
        match self {
            Writer::Ledger(l) => l.append(event),
            Writer::Batch(l, token) => l.append_in(token, event),
        }
    }

    fn register_purpose(self, def: PurposeDef) -> consent_core::Result<Purpose> {
        match self {
            Writer::Ledger(l) => l.register_purpose(def),
            Writer::Batch(l, token) => l.register_purpose_in(token, def),
        }
    }

    fn register_notice(self, def: NoticeDef) -> consent_core::Result<Notice> {
        match self {
            Writer::Ledger(l) => l.register_notice(def),
            Writer::Batch(l, token) => l.register_notice_in(token, def),
        }
    }

    fn head(self) -> consent_core::Result<Head> {
        match self {
            Writer::Ledger(l) => l.head(),
            Writer::Batch(l, token) => l.head_in(token),
        }
    }
}

/// [`consent_register_purpose_json`] and [`consent_batch_register_purpose_json`].
unsafe fn register_purpose_json(
    to: Writer<'_>,
    purpose_json: *const c_char,
    out_version: *mut u32,
) -> FfiResult<()> {
    let text = unsafe { str_arg(purpose_json, "purpose_json") }?;
    let out = opt_out_arg(out_version, "out_version")?;
    let def: PurposeDef = serde_json::from_str(text).map_err(|e| {
        FfiError::invalid(format!("`purpose_json` is not a purpose definition: {e}"))
    })?;
    let purpose = to.register_purpose(def)?;
    if let Some(out) = out {
        unsafe { write_out(out, purpose.version) };
    }
    Ok(())
}

/// [`consent_register_notice_json`] and [`consent_batch_register_notice_json`].
unsafe fn register_notice_json(to: Writer<'_>, notice_json: *const c_char) -> FfiResult<()> {
    let text = unsafe { str_arg(notice_json, "notice_json") }?;
    let def: NoticeDef = serde_json::from_str(text)
        .map_err(|e| FfiError::invalid(format!("`notice_json` is not a notice definition: {e}")))?;
    to.register_notice(def)?;
    Ok(())
}

/// [`consent_register_notice_text`] and [`consent_batch_register_notice_text`].
#[allow(clippy::too_many_arguments)]
unsafe fn register_notice_text(
    to: Writer<'_>,
    id: *const c_char,
    version: *const c_char,
    title: *const c_char,
    text: *const c_char,
    controller: *const c_char,
    purposes: *const *const c_char,
    n_purposes: usize,
) -> FfiResult<()> {
    let id = unsafe { str_arg(id, "id") }?;
    let version = unsafe { str_arg(version, "version") }?;
    let title = unsafe { str_arg(title, "title") }?;
    let text = unsafe { str_arg(text, "text") }?;
    let controller = unsafe { str_arg(controller, "controller") }?;
    let purposes = unsafe { str_array_arg(purposes, n_purposes, "purposes") }?;
    to.register_notice(
        NoticeDef::from_text(id, version, title, text).covering(controller, purposes),
    )?;
    Ok(())
}

/// How `params` of [`consent_append`] is named in messages.
const PARAMS: ArgName = ArgName::whole("params");

/// [`consent_append`] and [`consent_batch_append`].
unsafe fn append_params(
    to: Writer<'_>,
    params: *const consent_event_params,
    out: *mut consent_event_ref,
) -> FfiResult<()> {
    let params = unsafe { ref_arg(params, "params") }?;
    let out = opt_out_arg(out, "out")?;
    let event = unsafe { new_event(params, PARAMS) }?;
    let recorded = to.append(event)?;
    if let Some(out) = out {
        unsafe { write_out(out, event_ref(&recorded)) };
    }
    Ok(())
}

/// [`consent_get_head`] and [`consent_batch_get_head`].
unsafe fn head_into(from: Writer<'_>, out: *mut consent_head) -> FfiResult<()> {
    let out = out_arg(out, "out")?;
    let head = from.head()?;
    unsafe { write_out(out, head_out(&head)) };
    Ok(())
}

/// Runs `f` with the open batch behind `batch` (`CONSENT_RESULT_BATCH` once it has
/// ended). The batch's lock is held meanwhile: calls on one batch handle are serialised.
///
/// # Safety
/// `batch` is NULL or a handle from [`consent_batch_begin`] not yet freed.
unsafe fn with_batch<T>(
    batch: *const consent_batch,
    f: impl FnOnce(Writer<'_>) -> FfiResult<T>,
) -> FfiResult<T> {
    let batch = unsafe { ref_arg(batch, "batch") }?;
    let token = batch.token.lock().unwrap_or_else(PoisonError::into_inner);
    let token = token.as_ref().ok_or_else(batch_ended)?;
    f(Writer::Batch(&batch.ledger, token))
}

fn batch_ended() -> FfiError {
    FfiError::new(
        consent_result::Batch,
        "the batch has already been committed or rolled back",
    )
}

/// Ends the batch behind `batch`: commits it or rolls it back.
///
/// # Safety
/// As [`with_batch`].
unsafe fn end_batch(batch: *const consent_batch, commit: bool) -> FfiResult<()> {
    let batch = unsafe { ref_arg(batch, "batch") }?;
    let token = batch
        .token
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
        .ok_or_else(batch_ended)?;
    if commit {
        Ok(batch.ledger.commit_batch(token)?)
    } else {
        Ok(batch.ledger.rollback_batch(token)?)
    }
}

// ---- errors, versions, strings -------------------------------------------------------

/// The library version, e.g. "0.1.0". Static: do not free.
#[no_mangle]
pub extern "C" fn consent_version() -> *const c_char {
    const V: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    V.as_ptr().cast()
}

/// The name of a result code, e.g. "CONSENT_RESULT_CLOSED" ("CONSENT_RESULT_UNKNOWN_CODE"
/// for a number that is not a code). Static: do not free.
#[no_mangle]
pub extern "C" fn consent_result_name(code: i32) -> *const c_char {
    // These cannot panic; the boundary is there so that no entry point goes without one.
    std::panic::catch_unwind(|| consent_result::name(code).as_ptr()).unwrap_or(c"".as_ptr())
}

/// The result of the last call made on this thread (`CONSENT_RESULT_OK` after a success).
#[no_mangle]
pub extern "C" fn consent_last_error_code() -> consent_result {
    std::panic::catch_unwind(boundary::last_error_code).unwrap_or(consent_result::Panic)
}

/// The index of the element of an array argument the last failed call on this thread
/// was about (`events[i]` of [`consent_append_many`], `questions[i]` of
/// [`consent_status_many`], ...; the message names it too), or [`CONSENT_INDEX_NONE`]
/// when the call succeeded or its error was not about one element (a NULL array, a
/// busy ledger).
#[no_mangle]
pub extern "C" fn consent_last_error_index() -> usize {
    std::panic::catch_unwind(boundary::last_error_index)
        .ok()
        .flatten()
        .unwrap_or(CONSENT_INDEX_NONE)
}

/// Copies the message of the last failed call on this thread ("" after a success) into
/// `buf`, NUL-terminated and cut at a character boundary if `len` is too small.
/// Returns the buffer size the whole message needs, NUL included; nothing is written
/// when `buf` is NULL or `len` is 0 (call once that way to size the buffer).
#[no_mangle]
pub unsafe extern "C" fn consent_last_error_message(buf: *mut c_char, len: usize) -> usize {
    std::panic::catch_unwind(|| boundary::last_error_message(buf, len)).unwrap_or(0)
}

/// Frees a string this library returned as `char *` (JSON). NULL is fine; never twice.
#[no_mangle]
pub unsafe extern "C" fn consent_string_free(s: *mut c_char) {
    if s.is_null() {
        return;
    }
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: the caller passes a string from `CString::into_raw` in this library.
        drop(unsafe { std::ffi::CString::from_raw(s) });
    });
}

/// Fills `out` with the default options: full durability, 30 s busy timeout,
/// read-write, create when missing, system clock, the key file beside the ledger,
/// 2 s erasure wait, the default time zone (NULL: Europe/London for a new ledger).
#[no_mangle]
pub unsafe extern "C" fn consent_options_init(out: *mut consent_options) -> consent_result {
    guard(|| {
        let out = out_arg(out, "out")?;
        let value = consent_options {
            synchronous: consent_synchronous::Full as i32,
            busy_timeout_ms: 30_000,
            read_only: false,
            create: true,
            clock: None,
            clock_context: std::ptr::null_mut(),
            pseudonym_key_source: consent_key_source::Beside as i32,
            pseudonym_key_path: std::ptr::null(),
            pseudonym_key: [0; CONSENT_KEY_LEN],
            erasure_wait_ms: 2_000,
            time_zone: std::ptr::null(),
        };
        unsafe { write_out(out, value) };
        Ok(())
    })
}

/// Fills `out` with empty parameters: kind 0 (invalid until set), every string NULL,
/// not explicit, no method, every time `CONSENT_TIME_ABSENT`.
#[no_mangle]
pub unsafe extern "C" fn consent_event_params_init(
    out: *mut consent_event_params,
) -> consent_result {
    guard(|| {
        let out = out_arg(out, "out")?;
        let null = std::ptr::null();
        let value = consent_event_params {
            kind: 0,
            subject: null,
            purpose: null,
            recipient: null,
            notice_id: null,
            notice_version: null,
            explicit_consent: false,
            method: consent_method::None as i32,
            recorded_by: null,
            effective_at_ms: CONSENT_TIME_ABSENT,
            expires_at_ms: CONSENT_TIME_ABSENT,
            source_id: null,
            evidence_json: null,
            target_event_id: null,
            validity_from_ms: CONSENT_TIME_ABSENT,
        };
        unsafe { write_out(out, value) };
        Ok(())
    })
}

// ---- opening and closing ---------------------------------------------------------------

/// Opens (or creates) the ledger file at `path` with `options` (NULL = defaults) and
/// writes the handle to `*out`. On Unix the path is taken as bytes; elsewhere it must
/// be UTF-8. A new ledger is created only when the path does not exist or is an empty
/// file, and `create` is true; its pseudonym key file is created with it (see
/// [`consent_options::pseudonym_key_source`]). A missing path with `create` false or
/// `read_only` true is `CONSENT_RESULT_NOT_FOUND`; an empty file then, or a file that
/// is not a consent ledger, is `CONSENT_RESULT_NOT_A_LEDGER` (left unchanged); a
/// ledger whose schema was altered is `CONSENT_RESULT_CORRUPT`; a missing or different
/// key is `CONSENT_RESULT_KEY`. The writer lock file `<path>-lock` is created beside it.
///
/// `path` may instead be a PostgreSQL URL, `postgresql://user@host/db?schema=name`
/// (libpq's form; `host=/socket/dir` for a Unix socket; `schema` defaults to
/// `consent`): the ledger then lives in that schema, shared by every host and handle
/// that opens it, and no file is made (docs/POSTGRES.md). Its pseudonym key must be
/// given as a file or as bytes (`CONSENT_KEY_SOURCE_BESIDE` is `CONSENT_RESULT_KEY`:
/// nothing lies beside a database). A schema name that is not lower-case letters,
/// digits and `_` is `CONSENT_RESULT_INVALID_ARGUMENT`; a server that cannot be
/// reached (an unknown host, no socket, refused credentials) is
/// `CONSENT_RESULT_STORAGE`, within `busy_timeout_ms` (at most 30 s); an empty schema
/// with `create` false or `read_only` true is `CONSENT_RESULT_NOT_FOUND`, one holding
/// other tables `CONSENT_RESULT_NOT_A_LEDGER`. Messages never show the URL's password.
#[no_mangle]
pub unsafe extern "C" fn consent_ledger_open(
    path: *const c_char,
    options: *const consent_options,
    out: *mut *mut consent_ledger,
) -> consent_result {
    guard(|| {
        if path.is_null() {
            return Err(FfiError::new(
                consent_result::NullArgument,
                "argument `path` is NULL",
            ));
        }
        let out = out_arg(out, "out")?;
        let opts = unsafe { options_arg(options) }?;
        let path = unsafe { path_arg(path, "path") }?;
        let ledger = Ledger::open_with(path, opts)?;
        handle_out(out, ledger);
        Ok(())
    })
}

/// Creates a ledger that lives in memory only (tests, examples), with `options`
/// (NULL = defaults; `clock` makes it a simulation, the key source may be
/// `CONSENT_KEY_SOURCE_BESIDE` (a random key) or `CONSENT_KEY_SOURCE_BYTES`), and
/// writes the handle to `*out`.
#[no_mangle]
pub unsafe extern "C" fn consent_ledger_open_in_memory(
    options: *const consent_options,
    out: *mut *mut consent_ledger,
) -> consent_result {
    guard(|| {
        let out = out_arg(out, "out")?;
        let opts = unsafe { options_arg(options) }?;
        if matches!(opts.pseudonym_key, KeySource::File(_)) {
            return Err(FfiError::invalid(
                "a ledger in memory has no key file: use CONSENT_KEY_SOURCE_BESIDE (a random key) or CONSENT_KEY_SOURCE_BYTES",
            ));
        }
        let ledger = Ledger::in_memory_with(opts)?;
        handle_out(out, ledger);
        Ok(())
    })
}

/// Closes the ledger: an open batch is rolled back and the file is released. Later
/// calls on the handle (and on its batches) return `CONSENT_RESULT_CLOSED`; closing
/// twice is fine. The handle must still be freed with [`consent_ledger_free`].
#[no_mangle]
pub unsafe extern "C" fn consent_ledger_close(ledger: *const consent_ledger) -> consent_result {
    guard(|| Ok(unsafe { ledger_arg(ledger) }?.close()?))
}

/// Frees a ledger handle, closing the ledger unless a batch begun on it has not been
/// freed yet (the batch keeps it open; the last of them to be freed closes it). NULL
/// is fine; never twice, and no call may use the handle afterwards (or be running on
/// another thread meanwhile).
#[no_mangle]
pub unsafe extern "C" fn consent_ledger_free(ledger: *mut consent_ledger) {
    if ledger.is_null() {
        return;
    }
    let _ = guard(|| {
        // SAFETY: a handle from `consent_ledger_open*`, freed once, by contract.
        let handle = unsafe { Box::from_raw(ledger) };
        if let Some(ledger) = Arc::into_inner(handle.ledger) {
            let _ = ledger.close();
        }
        Ok(())
    });
}

/// Whether the ledger was created as a simulation (with a clock, see
/// [`consent_options::clock`]), written to `*out`.
#[no_mangle]
pub unsafe extern "C" fn consent_ledger_is_simulated(
    ledger: *const consent_ledger,
    out: *mut bool,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let out = out_arg(out, "out")?;
        let simulated = ledger.is_simulated()?;
        unsafe { write_out(out, simulated) };
        Ok(())
    })
}

/// Writes the ledger's time zone (an IANA name such as "Europe/London", committed to
/// when the ledger was created) and a NUL into `buf` of `len` bytes
/// (`CONSENT_TIME_ZONE_LEN` is always enough); `CONSENT_RESULT_BUFFER_TOO_SMALL` (and
/// nothing written) if it does not fit. Academic years end at local midnight there.
#[no_mangle]
pub unsafe extern "C" fn consent_ledger_time_zone(
    ledger: *const consent_ledger,
    buf: *mut c_char,
    len: usize,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        if buf.is_null() {
            return Err(FfiError::new(
                consent_result::NullArgument,
                "argument `buf` is NULL",
            ));
        }
        let zone = ledger.time_zone()?;
        if zone.len() + 1 > len {
            return Err(FfiError::new(
                consent_result::BufferTooSmall,
                format!(
                    "the time zone needs {} bytes, the buffer has {len}",
                    zone.len() + 1
                ),
            ));
        }
        copy_to_buffer(&zone, buf, len);
        Ok(())
    })
}

// ---- registry ------------------------------------------------------------------------

/// Registers a purpose (or a new version of it) from its JSON definition, e.g.
/// `{"id":"jmsu.marketing","title":"Marketing","controller":"JMSU","lawful_basis":"a",
/// "special_category":null,"validity":{"kind":"academic_year"},"effect_delay_secs":0,
/// "withdrawal_method":"My LJMU","recipients":[],"renew_consent":false}` (`lawful_basis`
/// is the Art. 6(1) letter; `special_category` an Art. 9(2) letter; `validity.kind` is
/// `none`, `days` (with `days`), `academic_year` (with optional `end_month`/`end_day`,
/// ending at local midnight in the ledger's time zone) or `course_year` (one year from
/// the grant's `validity_from_ms`, else its effective time, to local midnight);
/// `recipients` are the ids events and questions may
/// name, spelt exactly). An unchanged definition appends nothing. A new version that
/// changes the lawful basis or the controller, makes the data special-category, adds a
/// recipient, or sets `renew_consent` is a material change: earlier grants then answer
/// `CONSENT_STATE_NEEDS_RENEWAL`. Writes the version in force to `*out_version` (NULL =
/// not wanted).
#[no_mangle]
pub unsafe extern "C" fn consent_register_purpose_json(
    ledger: *const consent_ledger,
    purpose_json: *const c_char,
    out_version: *mut u32,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        unsafe { register_purpose_json(Writer::Ledger(ledger), purpose_json, out_version) }
    })
}

/// Registers a privacy notice from its JSON definition:
/// `{"id":"jmsu.privacy","version":"2024-09","language":"en-GB","sha256":"<64 hex>",
/// "title":"JMSU privacy notice","url":"https://...","controller":"JMSU",
/// "purposes":["jmsu.marketing","jmsu.project.*"]}` (`language` and `url` optional).
/// `controller` and `purposes` (ids, or a prefix ending in `.*`) are required: without
/// them the notice is `CONSENT_RESULT_INVALID_ARGUMENT`. A grant, refusal or
/// notice_served naming a notice that does not cover its purpose is
/// `CONSENT_RESULT_INVALID_CONSENT`. The same id and version with another hash is
/// `CONSENT_RESULT_CONFLICT`.
#[no_mangle]
pub unsafe extern "C" fn consent_register_notice_json(
    ledger: *const consent_ledger,
    notice_json: *const c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        unsafe { register_notice_json(Writer::Ledger(ledger), notice_json) }
    })
}

/// Registers a privacy notice whose SHA-256 is computed from `text`, the exact text
/// shown (language "en-GB", no URL), published by `controller`, covering the
/// `n_purposes` purposes at `purposes` (ids, or a prefix ending in `.*` such as
/// `jmsu.project.*`; at least one, else `CONSENT_RESULT_INVALID_ARGUMENT`).
#[no_mangle]
pub unsafe extern "C" fn consent_register_notice_text(
    ledger: *const consent_ledger,
    id: *const c_char,
    version: *const c_char,
    title: *const c_char,
    text: *const c_char,
    controller: *const c_char,
    purposes: *const *const c_char,
    n_purposes: usize,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        unsafe {
            register_notice_text(
                Writer::Ledger(ledger),
                id,
                version,
                title,
                text,
                controller,
                purposes,
                n_purposes,
            )
        }
    })
}

/// The current version of a purpose as JSON (its definition plus `version`, `seq`,
/// `registered_at`), written to `*out_json`; free with [`consent_string_free`].
#[no_mangle]
pub unsafe extern "C" fn consent_purpose_json(
    ledger: *const consent_ledger,
    purpose: *const c_char,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let purpose = unsafe { str_arg(purpose, "purpose") }?;
        let out = out_arg(out_json, "out_json")?;
        unsafe { json_out(out, &ledger.purpose(purpose)?) }
    })
}

/// Every version of every purpose as a JSON array, written to `*out_json`; free with
/// [`consent_string_free`].
#[no_mangle]
pub unsafe extern "C" fn consent_purposes_json(
    ledger: *const consent_ledger,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let out = out_arg(out_json, "out_json")?;
        unsafe { json_out(out, &ledger.purposes()?) }
    })
}

/// Every registered notice as a JSON array, written to `*out_json`; free with
/// [`consent_string_free`].
#[no_mangle]
pub unsafe extern "C" fn consent_notices_json(
    ledger: *const consent_ledger,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let out = out_arg(out_json, "out_json")?;
        unsafe { json_out(out, &ledger.notices()?) }
    })
}

/// Loads the registry file at `path` (TOML: `[[notice]]` and `[[purpose]]` tables, as
/// `examples/ljmu/registry.toml`; a notice gives its hash as `sha256`, as a `text_file`
/// to hash, or both) into the ledger: every notice, then every purpose, in one batch,
/// all of them or none. Definitions the ledger already holds append nothing (loading
/// twice is harmless); a changed purpose gets a new version. The notices' `text_file`s
/// are read from the folder `texts_dir`, where every text named must then be readable,
/// or (NULL) from the registry's own folder, where a missing text leaves the stated
/// `sha256` unchecked. A text that does not hash to the stated `sha256`, or a notice
/// version already registered with another text, is `CONSENT_RESULT_CONFLICT`; a file
/// that cannot be read `CONSENT_RESULT_IO`; malformed TOML, an unknown field or an
/// invalid entry `CONSENT_RESULT_INVALID_ARGUMENT`; messages name the entry. On Unix
/// both paths are taken as bytes. Writes the report as JSON to `*out_report_json`
/// (NULL = not wanted; free with [`consent_string_free`]): `{"entries":[{"kind":
/// "notice","id":..,"notice_version":..,"sha256":..,"hash":"checked"|"computed"|
/// "unchecked","new":true,"seq":N},{"kind":"purpose","id":..,"purpose_version":N,
/// "new":false,"seq":N},..]}` (`new`: whether this load appended its event). A
/// downstream retired since is skipped, never reactivated: its entry has `"new":false`
/// and `"note":"retired, not reactivated"`.
#[no_mangle]
pub unsafe extern "C" fn consent_registry_load(
    ledger: *const consent_ledger,
    path: *const c_char,
    texts_dir: *const c_char,
    out_report_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let path = unsafe { path_arg(path, "path") }?;
        let texts = if texts_dir.is_null() {
            None
        } else {
            Some(unsafe { path_arg(texts_dir, "texts_dir") }?)
        };
        let out = opt_out_arg(out_report_json, "out_report_json")?;
        let registry = consent_core::Registry::from_file(path, texts)?;
        let report = ledger.load_registry(&registry)?;
        match out {
            Some(out) => unsafe { json_out(out, &report) },
            None => Ok(()),
        }
    })
}

// ---- appends -------------------------------------------------------------------------

/// Appends an event after checking it against the consent rules. Writes what was
/// recorded to `*out` (NULL = not wanted). A recipient must be one the purpose lists,
/// spelt exactly (else `CONSENT_RESULT_UNKNOWN_RECIPIENT`, whose message lists them);
/// a grant without one covers every recipient the purpose lists. A withdrawal or
/// objection is never refused: one naming a recipient the purpose does not list is
/// recorded purpose-wide (no recipient; the text as written kept in its details), and a
/// withdrawal for a purpose that does not rest on consent is recorded as an objection
/// (Art. 21). A grant naming a notice that does not cover its purpose is
/// `CONSENT_RESULT_INVALID_CONSENT`. Events dated more than 366 days after now are
/// `CONSENT_RESULT_INVALID_TIME`.
/// Identifiers (subject, purpose, recipient, notice id and version, source id, the id
/// in `recorded_by`) must be Unicode NFC without control characters or white space at
/// either end: anything else is `CONSENT_RESULT_INVALID_ARGUMENT` (never silently
/// changed), here and in every question.
#[no_mangle]
pub unsafe extern "C" fn consent_append(
    ledger: *const consent_ledger,
    params: *const consent_event_params,
    out: *mut consent_event_ref,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        unsafe { append_params(Writer::Ledger(ledger), params, out) }
    })
}

/// The event appended by [`consent_append`] (or already recorded under the same
/// source id) as full JSON, written to `*out_json`; free with [`consent_string_free`].
#[no_mangle]
pub unsafe extern "C" fn consent_append_json(
    ledger: *const consent_ledger,
    params: *const consent_event_params,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let params = unsafe { ref_arg(params, "params") }?;
        let out = out_arg(out_json, "out_json")?;
        let event = unsafe { new_event(params, PARAMS) }?;
        let recorded = ledger.append(event)?;
        unsafe { json_out(out, &recorded) }
    })
}

/// Appends `n` events at `events` (each as [`consent_append`] would), all or none: one
/// transaction, so either every event is recorded, in order, or (on any error) none is.
/// Each event is checked against the rules as they stand with the events before it in
/// the array. Writes what was recorded to `out[0..n]` (NULL = not wanted; else room for
/// `n` entries). `n` = 0 does nothing (`events` and `out` may then be NULL).
///
/// An error about one event (a NULL or malformed field, an unknown purpose, a broken
/// rule) names it in the message (`events[3]: ...`) and in
/// [`consent_last_error_index`]. The strings are read straight from the array: no JSON.
/// `out` must not overlap `events`.
#[no_mangle]
pub unsafe extern "C" fn consent_append_many(
    ledger: *const consent_ledger,
    events: *const consent_event_params,
    n: usize,
    out: *mut consent_event_ref,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let params = unsafe { array_arg(events, n, "events") }?;
        let out = opt_out_array_arg(out, n, "out")?;
        if n == 0 {
            return Ok(());
        }
        let new = params
            .iter()
            .enumerate()
            .map(|(i, p)| unsafe { new_event(p, ArgName::element("events", i)) })
            .collect::<FfiResult<Vec<_>>>()?;
        let recorded = ledger
            .append_many(new)
            .map_err(|e| unsafe { refused_event(ledger, params, e) })?;
        if let Some(out) = out {
            unsafe { out.write(recorded.iter().map(event_ref)) };
        }
        Ok(())
    })
}

/// The error of a refused [`Ledger::append_many`], naming the event refused. The core
/// fails the whole call with that event's error but does not say which it was, so when
/// the error is about one event the events are tried again, one by one, in a batch
/// that is then rolled back (only on this error path, and nothing of it lands).
///
/// # Safety
/// `params` are the (valid) events of the call.
unsafe fn refused_event(
    ledger: &Ledger,
    params: &[consent_event_params],
    e: consent_core::Error,
) -> FfiError {
    let kind = e.kind();
    let error = FfiError::from(e);
    if !about_one_element(kind) {
        return error;
    }
    let Ok(token) = ledger.begin_batch() else {
        return error;
    };
    let mut found = None;
    for (i, p) in params.iter().enumerate() {
        let Ok(event) = (unsafe { new_event(p, ArgName::element("events", i)) }) else {
            break;
        };
        if let Err(again) = ledger.append_in(&token, event) {
            if again.kind() == kind {
                found = Some(i);
            }
            break;
        }
    }
    let _ = ledger.rollback_batch(token);
    match found {
        Some(i) => error.about(ArgName::element("events", i)),
        None => error,
    }
}

/// Sets the notice shown (`notice_id`/`notice_version`) and how the answer was
/// collected (`method`, a `consent_method`): what a grant and a served notice share.
unsafe fn told(
    e: &mut NewEvent,
    notice_id: *const c_char,
    notice_version: *const c_char,
    method: i32,
) -> FfiResult<()> {
    let id = unsafe { str_arg(notice_id, "notice_id") }?;
    let version = unsafe { str_arg(notice_version, "notice_version") }?;
    e.notice = Some((id.into(), version.into()));
    e.method = self::method(method, "method")?;
    Ok(())
}

unsafe fn append_simple(
    ledger: *const consent_ledger,
    kind: EventKind,
    subject: *const c_char,
    purpose: *const c_char,
    recorded_by: *const c_char,
    out: *mut consent_event_ref,
    customise: impl FnOnce(&mut NewEvent) -> FfiResult<()>,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let subject = unsafe { str_arg(subject, "subject") }?;
        let purpose = unsafe { str_arg(purpose, "purpose") }?;
        let actor = unsafe { actor_arg(recorded_by, "recorded_by") }?;
        let out = opt_out_arg(out, "out")?;
        let mut event = NewEvent::new(kind, subject, purpose).recorded_by(actor);
        customise(&mut event)?;
        let recorded = ledger.append(event)?;
        if let Some(out) = out {
            unsafe { write_out(out, event_ref(&recorded)) };
        }
        Ok(())
    })
}

/// Records consent given by `subject` for `purpose`, having been shown the notice
/// `notice_id`/`notice_version`, collected by `method` (a `consent_method`), explicit
/// or not, recorded by `recorded_by` (NULL = the subject), effective now. For a
/// recipient, an event time or an idempotency key use [`consent_append`].
#[no_mangle]
pub unsafe extern "C" fn consent_give(
    ledger: *const consent_ledger,
    subject: *const c_char,
    purpose: *const c_char,
    notice_id: *const c_char,
    notice_version: *const c_char,
    method: i32,
    explicit_consent: bool,
    recorded_by: *const c_char,
    out: *mut consent_event_ref,
) -> consent_result {
    unsafe {
        append_simple(
            ledger,
            EventKind::Given,
            subject,
            purpose,
            recorded_by,
            out,
            |e| {
                told(e, notice_id, notice_version, method)?;
                e.explicit = explicit_consent;
                Ok(())
            },
        )
    }
}

/// Records that `subject` was shown the notice `notice_id`/`notice_version` about
/// `purpose`, with no answer yet, by `method` (a `consent_method`), recorded by
/// `recorded_by` (NULL = the subject), effective now. The notice must cover the
/// purpose (`CONSENT_RESULT_INVALID_CONSENT`, or `CONSENT_RESULT_UNKNOWN_NOTICE`).
#[no_mangle]
pub unsafe extern "C" fn consent_serve_notice(
    ledger: *const consent_ledger,
    subject: *const c_char,
    purpose: *const c_char,
    notice_id: *const c_char,
    notice_version: *const c_char,
    method: i32,
    recorded_by: *const c_char,
    out: *mut consent_event_ref,
) -> consent_result {
    unsafe {
        append_simple(
            ledger,
            EventKind::NoticeServed,
            subject,
            purpose,
            recorded_by,
            out,
            |e| told(e, notice_id, notice_version, method),
        )
    }
}

/// Records that `subject` was asked about `purpose` and said no, collected by
/// `method` (a `consent_method`), recorded by `recorded_by` (NULL = the subject).
#[no_mangle]
pub unsafe extern "C" fn consent_refuse(
    ledger: *const consent_ledger,
    subject: *const c_char,
    purpose: *const c_char,
    method: i32,
    recorded_by: *const c_char,
    out: *mut consent_event_ref,
) -> consent_result {
    unsafe {
        append_simple(
            ledger,
            EventKind::Refused,
            subject,
            purpose,
            recorded_by,
            out,
            |e| {
                e.method = self::method(method, "method")?;
                Ok(())
            },
        )
    }
}

/// Records a withdrawal by `subject` of consent for `purpose` (every recipient),
/// effective now; never refused, even with no grant on record. For a purpose that does
/// not rest on consent it is recorded as an objection (Art. 21). `out->effect_deadline_ms`
/// says when downstream systems must have acted. For one recipient, use
/// [`consent_append`].
#[no_mangle]
pub unsafe extern "C" fn consent_withdraw(
    ledger: *const consent_ledger,
    subject: *const c_char,
    purpose: *const c_char,
    recorded_by: *const c_char,
    out: *mut consent_event_ref,
) -> consent_result {
    unsafe {
        append_simple(
            ledger,
            EventKind::Withdrawn,
            subject,
            purpose,
            recorded_by,
            out,
            |_| Ok(()),
        )
    }
}

/// Records that the controller stopped relying on the consent of `subject` for
/// `purpose` (not retroactive).
#[no_mangle]
pub unsafe extern "C" fn consent_revoke(
    ledger: *const consent_ledger,
    subject: *const c_char,
    purpose: *const c_char,
    recorded_by: *const c_char,
    out: *mut consent_event_ref,
) -> consent_result {
    unsafe {
        append_simple(
            ledger,
            EventKind::Revoked,
            subject,
            purpose,
            recorded_by,
            out,
            |_| Ok(()),
        )
    }
}

/// Records that a grant of `subject` for `purpose` was never valid (retroactive):
/// the grant `target_event_id`, or every earlier grant when NULL.
#[no_mangle]
pub unsafe extern "C" fn consent_invalidate(
    ledger: *const consent_ledger,
    subject: *const c_char,
    purpose: *const c_char,
    target_event_id: *const c_char,
    recorded_by: *const c_char,
    out: *mut consent_event_ref,
) -> consent_result {
    unsafe {
        append_simple(
            ledger,
            EventKind::Invalidated,
            subject,
            purpose,
            recorded_by,
            out,
            |e| {
                if let Some(t) = opt_str_arg(target_event_id, "target_event_id")? {
                    e.target = Some(uuid_arg(t, "target_event_id")?);
                }
                Ok(())
            },
        )
    }
}

/// Records an objection by `subject` to processing for `purpose` (legitimate interests
/// or public task); never refused.
#[no_mangle]
pub unsafe extern "C" fn consent_object(
    ledger: *const consent_ledger,
    subject: *const c_char,
    purpose: *const c_char,
    recorded_by: *const c_char,
    out: *mut consent_event_ref,
) -> consent_result {
    unsafe {
        append_simple(
            ledger,
            EventKind::Objected,
            subject,
            purpose,
            recorded_by,
            out,
            |_| Ok(()),
        )
    }
}

// ---- questions -----------------------------------------------------------------------

/// May `subject`'s data be used for `purpose` (and `recipient`) now? Writes the
/// answer to `*out`. `recipient` must be one the purpose lists, spelt exactly, and a
/// purpose that lists recipients must be asked about one of them; NULL is for a
/// purpose that lists none. Otherwise `CONSENT_RESULT_UNKNOWN_RECIPIENT`, whose message
/// lists the valid ids.
#[no_mangle]
pub unsafe extern "C" fn consent_get_status(
    ledger: *const consent_ledger,
    subject: *const c_char,
    purpose: *const c_char,
    recipient: *const c_char,
    out: *mut consent_status,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let subject = unsafe { str_arg(subject, "subject") }?;
        let purpose = unsafe { str_arg(purpose, "purpose") }?;
        let recipient = unsafe { opt_str_arg(recipient, "recipient") }?;
        let out = out_arg(out, "out")?;
        let status = ledger.status(subject, purpose, recipient)?;
        unsafe { write_out(out, status_out(&status)) };
        Ok(())
    })
}

/// The answers of [`consent_get_status`] to `n` questions at `questions`, all read from
/// one snapshot of the ledger (no append lands between two answers), written to
/// `out[0..n]` (room for `n` entries, required when `n` > 0). `n` = 0 does nothing
/// (`questions` and `out` may then be NULL). The first question that is invalid (a NULL
/// or non-UTF-8 field, an unknown purpose, an unlisted or missing recipient) fails the
/// call: its message names it (`questions[2]: ...`), as does
/// [`consent_last_error_index`], and nothing in `out` is written. `out` must not overlap
/// `questions` or its strings.
#[no_mangle]
pub unsafe extern "C" fn consent_status_many(
    ledger: *const consent_ledger,
    questions: *const consent_question,
    n: usize,
    out: *mut consent_status,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let items = unsafe { array_arg(questions, n, "questions") }?;
        let out = out_array_arg(out, n, "out")?;
        if n == 0 {
            return Ok(());
        }
        let asked = items
            .iter()
            .enumerate()
            .map(|(i, q)| unsafe { question(q, ArgName::element("questions", i)) })
            .collect::<FfiResult<Vec<_>>>()?;
        let answers = ledger.status_many(&asked).map_err(|e| {
            // The core fails the call with the first invalid question's error without
            // saying which: find it (only on this error path) by asking again one by one.
            let kind = e.kind();
            let error = FfiError::from(e);
            if !about_one_element(kind) {
                return error;
            }
            let found = asked.iter().position(
                |&(s, p, r)| matches!(ledger.status(s, p, r), Err(again) if again.kind() == kind),
            );
            match found {
                Some(i) => error.about(ArgName::element("questions", i)),
                None => error,
            }
        })?;
        unsafe { out.write(answers.iter().map(status_out)) };
        Ok(())
    })
}

/// One question of [`consent_status_many`] as the core takes it.
///
/// # Safety
/// The strings of `q` are NULL or NUL-terminated, and outlive `'a`.
unsafe fn question<'a>(
    q: &consent_question,
    at: ArgName,
) -> FfiResult<(&'a str, &'a str, Option<&'a str>)> {
    let read = || -> FfiResult<_> {
        Ok((
            unsafe { str_arg(q.subject, at.field("subject")) }?,
            unsafe { str_arg(q.purpose, at.field("purpose")) }?,
            unsafe { opt_str_arg(q.recipient, at.field("recipient")) }?,
        ))
    };
    read().map_err(|e| match at.index {
        Some(i) => e.at_index(i),
        None => e,
    })
}

/// Could `subject`'s data be used for `purpose` (and `recipient`, as in
/// [`consent_get_status`]) at `at_ms`, as the ledger knew it at `as_known_at_ms`
/// (`CONSENT_TIME_ABSENT` = now)? `at_ms` is required (`CONSENT_RESULT_INVALID_TIME` if
/// absent).
#[no_mangle]
pub unsafe extern "C" fn consent_get_status_at(
    ledger: *const consent_ledger,
    subject: *const c_char,
    purpose: *const c_char,
    recipient: *const c_char,
    at_ms: i64,
    as_known_at_ms: i64,
    out: *mut consent_status,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let subject = unsafe { str_arg(subject, "subject") }?;
        let purpose = unsafe { str_arg(purpose, "purpose") }?;
        let recipient = unsafe { opt_str_arg(recipient, "recipient") }?;
        let out = out_arg(out, "out")?;
        let at = time_arg(at_ms, "at_ms")?.ok_or_else(|| {
            FfiError::new(
                consent_result::InvalidTime,
                "argument `at_ms` is required (use consent_get_status for now)",
            )
        })?;
        let known = time_arg(as_known_at_ms, "as_known_at_ms")?;
        let status = ledger.status_at(subject, purpose, recipient, at, known)?;
        unsafe { write_out(out, status_out(&status)) };
        Ok(())
    })
}

/// The full status (with the notice id and version) as JSON, written to `*out_json`:
/// now when `at_ms` and `as_known_at_ms` are both `CONSENT_TIME_ABSENT`, else as
/// [`consent_get_status_at`]. Free with [`consent_string_free`].
#[no_mangle]
pub unsafe extern "C" fn consent_get_status_json(
    ledger: *const consent_ledger,
    subject: *const c_char,
    purpose: *const c_char,
    recipient: *const c_char,
    at_ms: i64,
    as_known_at_ms: i64,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let subject = unsafe { str_arg(subject, "subject") }?;
        let purpose = unsafe { str_arg(purpose, "purpose") }?;
        let recipient = unsafe { opt_str_arg(recipient, "recipient") }?;
        let out = out_arg(out_json, "out_json")?;
        let at = time_arg(at_ms, "at_ms")?;
        let known = time_arg(as_known_at_ms, "as_known_at_ms")?;
        let status = match (at, known) {
            (None, None) => ledger.status(subject, purpose, recipient)?,
            (Some(at), known) => ledger.status_at(subject, purpose, recipient, at, known)?,
            (None, Some(_)) => {
                return Err(FfiError::new(
                    consent_result::InvalidTime,
                    "argument `at_ms` is required when `as_known_at_ms` is given",
                ))
            }
        };
        unsafe { json_out(out, &status) }
    })
}

/// Every event about `subject`, in order, as a JSON array written to `*out_json`;
/// free with [`consent_string_free`].
#[no_mangle]
pub unsafe extern "C" fn consent_history_json(
    ledger: *const consent_ledger,
    subject: *const c_char,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let subject = unsafe { str_arg(subject, "subject") }?;
        let out = out_arg(out_json, "out_json")?;
        unsafe { json_out(out, &ledger.history(subject)?) }
    })
}

/// One event by id as JSON, written to `*out_json`; free with [`consent_string_free`].
#[no_mangle]
pub unsafe extern "C" fn consent_event_json(
    ledger: *const consent_ledger,
    event_id: *const c_char,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let id = uuid_arg(unsafe { str_arg(event_id, "event_id") }?, "event_id")?;
        let out = out_arg(out_json, "out_json")?;
        unsafe { json_out(out, &ledger.event(id)?) }
    })
}

/// Every subject with consent in force for `purpose` (and `recipient`) at `at_ms`
/// (`CONSENT_TIME_ABSENT` = now), as the ledger knew it at `as_known_at_ms`
/// (`CONSENT_TIME_ABSENT` = now: a past extract reproduced as it was known then), with
/// the head that answered, as JSON (`{"purpose":..,"recipient":..,"at":..,
/// "as_known_at":..,"subjects":[{"subject":..,"event_id":..,"since":..,"until":..}],
/// "head":{..}}`) written to `*out_json`; free with [`consent_string_free`]. A purpose
/// that lists recipients must be asked about one of them (a feed that left the
/// recipient out would miss a withdrawal naming it): NULL is then
/// `CONSENT_RESULT_UNKNOWN_RECIPIENT`, as is a recipient the purpose does not list.
#[no_mangle]
pub unsafe extern "C" fn consent_consenting_json(
    ledger: *const consent_ledger,
    purpose: *const c_char,
    recipient: *const c_char,
    at_ms: i64,
    as_known_at_ms: i64,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let purpose = unsafe { str_arg(purpose, "purpose") }?;
        let recipient = unsafe { opt_str_arg(recipient, "recipient") }?;
        let out = out_arg(out_json, "out_json")?;
        let at = time_arg(at_ms, "at_ms")?;
        let known = time_arg(as_known_at_ms, "as_known_at_ms")?;
        unsafe { json_out(out, &ledger.consenting(purpose, recipient, at, known)?) }
    })
}

/// A change feed: events with `seq >= since`, at most `limit`, as a JSON array
/// written to `*out_json`; free with [`consent_string_free`]. Continue from the last
/// event's `seq + 1`.
#[no_mangle]
pub unsafe extern "C" fn consent_changes_since_json(
    ledger: *const consent_ledger,
    since: u64,
    limit: usize,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let out = out_arg(out_json, "out_json")?;
        unsafe { json_out(out, &ledger.changes_since(since, limit)?) }
    })
}

/// The subject-access copy of `subject` (every event, the purposes and notices they
/// refer to, current statuses and the head) as JSON written to `*out_json`; free with
/// [`consent_string_free`]. [`consent_export_subject_html`] is the same copy for a person
/// to read.
#[no_mangle]
pub unsafe extern "C" fn consent_export_subject_json(
    ledger: *const consent_ledger,
    subject: *const c_char,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let subject = unsafe { str_arg(subject, "subject") }?;
        let out = out_arg(out_json, "out_json")?;
        unsafe { json_out(out, &ledger.export_subject(subject)?) }
    })
}

/// The subject's copy as a self-contained HTML page, for the person to read: the
/// purposes (titles, controllers), the notices they were shown (title, version, SHA-256,
/// controller), every event in plain words with local times in the ledger's time zone,
/// the current statuses and the head. Written to `*out_html`; free with
/// [`consent_string_free`].
#[no_mangle]
pub unsafe extern "C" fn consent_export_subject_html(
    ledger: *const consent_ledger,
    subject: *const c_char,
    out_html: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let subject = unsafe { str_arg(subject, "subject") }?;
        let out = out_arg(out_html, "out_html")?;
        let html = owned_string(ledger.export_subject_html(subject)?)?;
        unsafe { write_out(out, html) };
        Ok(())
    })
}

// ---- integrity -----------------------------------------------------------------------

/// The current head (size and Merkle root), written to `*out`.
#[no_mangle]
pub unsafe extern "C" fn consent_get_head(
    ledger: *const consent_ledger,
    out: *mut consent_head,
) -> consent_result {
    guard(|| unsafe { head_into(Writer::Ledger(ledger_arg(ledger)?), out) })
}

/// Writes `head` as `SIZE:ROOTHEX` and a NUL into `buf` of `len` bytes
/// (`CONSENT_HEAD_STRING_LEN` is always enough); `CONSENT_RESULT_BUFFER_TOO_SMALL`
/// (and nothing written) if it does not fit.
#[no_mangle]
pub unsafe extern "C" fn consent_head_to_string(
    head: *const consent_head,
    buf: *mut c_char,
    len: usize,
) -> consent_result {
    guard(|| {
        let head = unsafe { ref_arg(head, "head") }?;
        if buf.is_null() {
            return Err(FfiError::new(
                consent_result::NullArgument,
                "argument `buf` is NULL",
            ));
        }
        let text = head_in(head).to_string();
        if text.len() + 1 > len {
            return Err(FfiError::new(
                consent_result::BufferTooSmall,
                format!(
                    "the head needs {} bytes, the buffer has {len}",
                    text.len() + 1
                ),
            ));
        }
        copy_to_buffer(&text, buf, len);
        Ok(())
    })
}

/// Parses a head written `SIZE:ROOTHEX` into `*out`.
#[no_mangle]
pub unsafe extern "C" fn consent_head_parse(
    text: *const c_char,
    out: *mut consent_head,
) -> consent_result {
    guard(|| {
        let text = unsafe { str_arg(text, "text") }?;
        let out = out_arg(out, "out")?;
        let head: Head = text.parse()?;
        unsafe { write_out(out, head_out(&head)) };
        Ok(())
    })
}

/// Recomputes every hash from the stored rows and writes the report to `*out`. A
/// tampered log is not an error: the call succeeds with `out->ok` false and
/// `out->first_bad_seq` naming the first bad event.
#[no_mangle]
pub unsafe extern "C" fn consent_verify(
    ledger: *const consent_ledger,
    out: *mut consent_verify_report,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let out = out_arg(out, "out")?;
        let report = ledger.verify()?;
        unsafe { write_out(out, report_out(&report)) };
        Ok(())
    })
}

/// [`consent_verify`], and also checks that the log still extends `head` (catches a
/// truncated or rewritten tail).
#[no_mangle]
pub unsafe extern "C" fn consent_verify_against(
    ledger: *const consent_ledger,
    head: *const consent_head,
    out: *mut consent_verify_report,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let head = head_in(unsafe { ref_arg(head, "head") }?);
        let out = out_arg(out, "out")?;
        let report = ledger.verify_against(&head)?;
        unsafe { write_out(out, report_out(&report)) };
        Ok(())
    })
}

/// A proof that event `event_id` is in the tree of `tree_size` events
/// (`CONSENT_SIZE_CURRENT` = the current head), as JSON (`leaf_index`, `tree_size`,
/// `leaf_hash`, `path`, `root`) written to `*out_json`; free with
/// [`consent_string_free`]. Whoever checks it ([`consent_check_inclusion_proof`]) also
/// needs the event's canonical bytes ([`consent_event_canonical`]).
#[no_mangle]
pub unsafe extern "C" fn consent_prove_inclusion_json(
    ledger: *const consent_ledger,
    event_id: *const c_char,
    tree_size: u64,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let id = uuid_arg(unsafe { str_arg(event_id, "event_id") }?, "event_id")?;
        let out = out_arg(out_json, "out_json")?;
        unsafe { json_out(out, &ledger.prove_inclusion(id, size_arg(tree_size))?) }
    })
}

/// A proof that the log at `old_head` is a prefix of the log at `new_size` events
/// (`CONSENT_SIZE_CURRENT` = now), as JSON (`old_size`, `new_size`, `path`) written to
/// `*out_json` (free with [`consent_string_free`]), and the head at `new_size` written to
/// `*out_new_head` (NULL = not wanted). A log rewritten since `old_head` is
/// `CONSENT_RESULT_CORRUPT`.
#[no_mangle]
pub unsafe extern "C" fn consent_prove_consistency_json(
    ledger: *const consent_ledger,
    old_head: *const consent_head,
    new_size: u64,
    out_json: *mut *mut c_char,
    out_new_head: *mut consent_head,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let old = head_in(unsafe { ref_arg(old_head, "old_head") }?);
        let out = out_arg(out_json, "out_json")?;
        let out_head = opt_out_arg(out_new_head, "out_new_head")?;
        let (proof, head) = ledger.prove_consistency(&old, size_arg(new_size))?;
        let text = owned_json(&proof)?;
        unsafe { write_out(out, text) };
        if let Some(h) = out_head {
            unsafe { write_out(h, head_out(&head)) };
        }
        Ok(())
    })
}

/// The canonical bytes of event `event_id` (docs/FORMAT.md §3.3): exactly what its
/// Merkle leaf hash covers, and what [`consent_check_inclusion_proof`] checks a proof
/// against. Writes a new buffer to `*out_bytes` and its length to `*out_len`; free it
/// with [`consent_bytes_free`] and that same length.
#[no_mangle]
pub unsafe extern "C" fn consent_event_canonical(
    ledger: *const consent_ledger,
    event_id: *const c_char,
    out_bytes: *mut *mut u8,
    out_len: *mut usize,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let id = uuid_arg(unsafe { str_arg(event_id, "event_id") }?, "event_id")?;
        let out = out_arg(out_bytes, "out_bytes")?;
        let out_len = out_arg(out_len, "out_len")?;
        let (bytes, len) = owned_bytes(ledger.canonical_event(id)?);
        unsafe {
            write_out(out, bytes);
            write_out(out_len, len);
        }
        Ok(())
    })
}

/// Frees a buffer of `len` bytes this library returned (from
/// [`consent_event_canonical`]), with the length it returned. NULL is fine; never twice.
#[no_mangle]
pub unsafe extern "C" fn consent_bytes_free(bytes: *mut u8, len: usize) {
    if bytes.is_null() {
        return;
    }
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: by contract, a boxed slice of `len` bytes from `owned_bytes`.
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(bytes, len)) });
    });
}

/// Checks an inclusion proof (JSON from [`consent_prove_inclusion_json`]) of the event
/// whose canonical bytes are the `event_len` bytes at `event` (from
/// [`consent_event_canonical`], e.g. kept in a receipt) against a head of the same
/// size. No ledger needed. The proof is bound to its event: the leaf hash is recomputed
/// from the bytes and the leaf index must be the event's sequence number.
/// `CONSENT_RESULT_PROOF_REJECTED` if the proof is another event's or does not lead to
/// the head's root; a head of another size, or bytes that are not a canonical event,
/// are `CONSENT_RESULT_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn consent_check_inclusion_proof(
    proof_json: *const c_char,
    event: *const u8,
    event_len: usize,
    head: *const consent_head,
) -> consent_result {
    guard(|| {
        let text = unsafe { str_arg(proof_json, "proof_json") }?;
        let event = unsafe { bytes_arg(event, event_len, "event") }?;
        let head = head_in(unsafe { ref_arg(head, "head") }?);
        let proof: InclusionProof = serde_json::from_str(text).map_err(|e| {
            FfiError::invalid(format!("`proof_json` is not an inclusion proof: {e}"))
        })?;
        Ok(proof.verify(event, &head)?)
    })
}

/// Checks a consistency proof (JSON from [`consent_prove_consistency_json`]) between
/// two heads. No ledger needed. `CONSENT_RESULT_PROOF_REJECTED` if it fails.
#[no_mangle]
pub unsafe extern "C" fn consent_check_consistency_proof(
    proof_json: *const c_char,
    old_head: *const consent_head,
    new_head: *const consent_head,
) -> consent_result {
    guard(|| {
        let text = unsafe { str_arg(proof_json, "proof_json") }?;
        let old = head_in(unsafe { ref_arg(old_head, "old_head") }?);
        let new = head_in(unsafe { ref_arg(new_head, "new_head") }?);
        let proof: ConsistencyProof = serde_json::from_str(text).map_err(|e| {
            FfiError::invalid(format!("`proof_json` is not a consistency proof: {e}"))
        })?;
        Ok(proof.verify(&old, &new)?)
    })
}

// ---- erasure -------------------------------------------------------------------------

/// Erases `subject` at the end of retention: blanks their personal fields in every
/// event (every hash still verifies), records a `subject_erased` event with `reason`,
/// recorded by `recorded_by` (`staff:<id>` or `system:<id>`; NULL = `subject`), and
/// truncates the WAL so the erased values leave every file, retrying for up to the
/// erasure wait ([`consent_options::erasure_wait_ms`]) while another connection holds an
/// old snapshot; `out->wal_truncated` says whether the erasure is complete (else finish
/// it with [`consent_complete_erasures`]). Later grants for the subject are refused
/// (until [`consent_readmit_subject`]); withdrawals are still recorded. An id the
/// ledger holds no event about is `CONSENT_RESULT_NOT_FOUND` (most likely a mistyped
/// id; [`consent_erase_subject_with`] and `CONSENT_ERASE_FORCE` record it anyway); an
/// erased one `CONSENT_RESULT_SUBJECT_ERASED`. Writes the report to `*out` (NULL = not
/// wanted). [`consent_erasure_preview_json`] shows what would be blanked.
#[no_mangle]
pub unsafe extern "C" fn consent_erase_subject(
    ledger: *const consent_ledger,
    subject: *const c_char,
    reason: *const c_char,
    recorded_by: *const c_char,
    out: *mut consent_erasure_report,
) -> consent_result {
    guard(|| unsafe { erase_subject(ledger, subject, reason, recorded_by, 0, out) })
}

/// [`consent_erase_subject`] with `flags`: 0, or `CONSENT_ERASE_FORCE` to record the
/// erasure of an id the ledger holds no event about (so that it cannot be used later
/// without a readmission). Other bits are `CONSENT_RESULT_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn consent_erase_subject_with(
    ledger: *const consent_ledger,
    subject: *const c_char,
    reason: *const c_char,
    recorded_by: *const c_char,
    flags: u32,
    out: *mut consent_erasure_report,
) -> consent_result {
    guard(|| unsafe { erase_subject(ledger, subject, reason, recorded_by, flags, out) })
}

/// The erasure options of C flags.
fn erasure_flags(flags: u32) -> FfiResult<ErasureOptions> {
    if flags & !CONSENT_ERASE_FORCE != 0 {
        return Err(FfiError::invalid(format!(
            "argument `flags` ({flags:#x}) has bits that are not erasure flags"
        )));
    }
    Ok(ErasureOptions {
        force: flags & CONSENT_ERASE_FORCE != 0,
    })
}

/// [`consent_erase_subject`] and [`consent_erase_subject_with`].
unsafe fn erase_subject(
    ledger: *const consent_ledger,
    subject: *const c_char,
    reason: *const c_char,
    recorded_by: *const c_char,
    flags: u32,
    out: *mut consent_erasure_report,
) -> FfiResult<()> {
    let ledger = unsafe { ledger_arg(ledger) }?;
    let subject = unsafe { str_arg(subject, "subject") }?;
    let reason = unsafe { str_arg(reason, "reason") }?;
    let actor = unsafe { actor_arg(recorded_by, "recorded_by") }?;
    let options = erasure_flags(flags)?;
    let out = opt_out_arg(out, "out")?;
    let r: ErasureReport = ledger.erase_subject_with(subject, reason, actor, options)?;
    if let Some(out) = out {
        let value = consent_erasure_report {
            event_id: fixed_text(&r.event_id.hyphenated().to_string()),
            seq: r.seq,
            events_erased: r.events_erased,
            wal_truncated: r.wal_truncated,
        };
        unsafe { write_out(out, value) };
    }
    Ok(())
}

/// What erasing `subject` would blank, without writing anything (a dry run), as JSON
/// (`{"already_erased":false,"events":[..]}`: the events whose personal fields would be
/// blanked, in order) written to `*out_json`; free with [`consent_string_free`].
#[no_mangle]
pub unsafe extern "C" fn consent_erasure_preview_json(
    ledger: *const consent_ledger,
    subject: *const c_char,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let subject = unsafe { str_arg(subject, "subject") }?;
        let out = out_arg(out_json, "out_json")?;
        unsafe { json_out(out, &ledger.erasure_preview(subject)?) }
    })
}

/// Erases the `n_subjects` ids at `subjects` (a retention run), each in its own
/// transaction, with `reason`, recorded by `recorded_by` (as [`consent_erase_subject`])
/// and `flags` (as [`consent_erase_subject_with`]); one WAL truncation follows. The
/// call succeeds when the run was made, whatever happened to each id: the report,
/// written as JSON to `*out_json` (free with [`consent_string_free`]), says it id by id,
/// in the order given: `{"outcomes":[{"subject":"..","outcome":"erased","seq":N,
/// "events_erased":N} | {"subject":"..","outcome":"unknown"} | {"subject":"..",
/// "outcome":"already_erased"} | {"subject":"..","outcome":"failed","error":".."}],
/// "wal_truncated":true}`. A failure of the ledger itself stops the run at that id (the
/// report says which); on the first id it is the call's error.
#[no_mangle]
pub unsafe extern "C" fn consent_erase_subjects_json(
    ledger: *const consent_ledger,
    subjects: *const *const c_char,
    n_subjects: usize,
    reason: *const c_char,
    recorded_by: *const c_char,
    flags: u32,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let subjects = unsafe { str_array_arg(subjects, n_subjects, "subjects") }?;
        let reason = unsafe { str_arg(reason, "reason") }?;
        let actor = unsafe { actor_arg(recorded_by, "recorded_by") }?;
        let options = erasure_flags(flags)?;
        let out = out_arg(out_json, "out_json")?;
        let report = ledger.erase_subjects(&subjects, reason, actor, options)?;
        unsafe { json_out(out, &report) }
    })
}

/// A returning student: the erased `subject` may consent again. Records a
/// `subject_readmitted` event (no personal field: the erasure's pseudonym, `reason` and
/// the erasure it ends), recorded by `recorded_by` (`staff:<id>` or `system:<id>`;
/// NULL = `subject`, which is refused). The old events stay blanked; the history shows
/// them and the new ones; the id can be erased again. An id that is not erased is
/// `CONSENT_RESULT_INVALID_ARGUMENT`. Writes the event to `*out` (NULL = not wanted).
#[no_mangle]
pub unsafe extern "C" fn consent_readmit_subject(
    ledger: *const consent_ledger,
    subject: *const c_char,
    reason: *const c_char,
    recorded_by: *const c_char,
    out: *mut consent_event_ref,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let subject = unsafe { str_arg(subject, "subject") }?;
        let reason = unsafe { str_arg(reason, "reason") }?;
        let actor = unsafe { actor_arg(recorded_by, "recorded_by") }?;
        let out = opt_out_arg(out, "out")?;
        let event = ledger.readmit_subject(subject, reason, actor)?;
        if let Some(out) = out {
            unsafe { write_out(out, event_ref(&event)) };
        }
        Ok(())
    })
}

/// Finishes pending erasures: checkpoints the WAL into the file and truncates it,
/// retrying for up to `wait_ms` ms (0 = once) while another connection holds an old
/// snapshot. Writes whether every erasure is now complete (the WAL is empty) to
/// `*out_done` (NULL = not wanted). Safe to call at any time.
#[no_mangle]
pub unsafe extern "C" fn consent_complete_erasures(
    ledger: *const consent_ledger,
    wait_ms: i64,
    out_done: *mut bool,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let out = opt_out_arg(out_done, "out_done")?;
        let wait = u64::try_from(wait_ms).map_err(|_| {
            FfiError::invalid(format!("argument `wait_ms` ({wait_ms}) is negative"))
        })?;
        let done = ledger.complete_erasures(Duration::from_millis(wait))?;
        if let Some(out) = out {
            unsafe { write_out(out, done) };
        }
        Ok(())
    })
}

/// Checkpoints the WAL into the file and truncates it, once; writes whether it completed
/// to `*out_done` (NULL = not wanted; false when another connection kept a read open).
#[no_mangle]
pub unsafe extern "C" fn consent_checkpoint(
    ledger: *const consent_ledger,
    out_done: *mut bool,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let out = opt_out_arg(out_done, "out_done")?;
        let done = ledger.checkpoint()?;
        if let Some(out) = out {
            unsafe { write_out(out, done) };
        }
        Ok(())
    })
}

// ---- batches -------------------------------------------------------------------------

/// Begins a batch on `ledger` and writes its handle to `*out`: every append made
/// through it ([`consent_batch_append`], [`consent_batch_register_purpose_json`], ...)
/// lands together on [`consent_batch_commit`], or not at all on
/// [`consent_batch_rollback`] or [`consent_batch_free`]. The batch is its handle's, not
/// the ledger's: while it is open, calls on the ledger from other threads (and other
/// processes' writes) wait for it to end (at most the busy timeout, then
/// `CONSENT_RESULT_BUSY`) and never join it, so a rollback undoes only the batch's own
/// appends; a call on the ledger from the thread that began the batch is
/// `CONSENT_RESULT_BATCH` (make it through the batch, or end the batch first), and so
/// is a second batch begun on that thread. Keep batches short. The batch handle may be
/// used from any thread, one call at a time, and keeps the ledger open until it is
/// freed.
#[no_mangle]
pub unsafe extern "C" fn consent_batch_begin(
    ledger: *const consent_ledger,
    out: *mut *mut consent_batch,
) -> consent_result {
    guard(|| {
        let handle = unsafe { ref_arg(ledger, "ledger") }?;
        let out = out_arg(out, "out")?;
        let token = handle.ledger.begin_batch()?;
        let batch = Box::new(consent_batch {
            ledger: Arc::clone(&handle.ledger),
            token: Mutex::new(Some(token)),
        });
        unsafe { write_out(out, Box::into_raw(batch)) };
        Ok(())
    })
}

/// [`consent_append`] inside the batch: checked against the consent rules as they
/// stand with the batch's earlier appends; writes what was recorded to `*out` (NULL =
/// not wanted). It lands only when the batch is committed. A failed append leaves the
/// batch as it was.
#[no_mangle]
pub unsafe extern "C" fn consent_batch_append(
    batch: *mut consent_batch,
    params: *const consent_event_params,
    out: *mut consent_event_ref,
) -> consent_result {
    guard(|| unsafe { with_batch(batch, |to| append_params(to, params, out)) })
}

/// [`consent_append_many`] inside the batch, as [`consent_batch_append`] called on
/// `events[0]`, `events[1]`, ... in turn, stopping at the first that fails: the events
/// before it stay in the batch, and [`consent_last_error_index`] (and the message) says
/// which failed. (The batch, not this call, is what lands or not: roll it back to drop
/// them.) On success writes what was recorded to `out[0..n]` (NULL = not wanted). `n` =
/// 0 does nothing.
#[no_mangle]
pub unsafe extern "C" fn consent_batch_append_many(
    batch: *mut consent_batch,
    events: *const consent_event_params,
    n: usize,
    out: *mut consent_event_ref,
) -> consent_result {
    guard(|| unsafe {
        with_batch(batch, |to| {
            let params = array_arg(events, n, "events")?;
            let out = opt_out_array_arg(out, n, "out")?;
            let mut recorded = Vec::new();
            for (i, p) in params.iter().enumerate() {
                let at = ArgName::element("events", i);
                let event = to
                    .append(new_event(p, at)?)
                    .map_err(|e| FfiError::from(e).about(at))?;
                if out.is_some() {
                    recorded.push(event_ref(&event));
                }
            }
            if let Some(out) = out {
                out.write(recorded);
            }
            Ok(())
        })
    })
}

/// [`consent_register_purpose_json`] inside the batch.
#[no_mangle]
pub unsafe extern "C" fn consent_batch_register_purpose_json(
    batch: *mut consent_batch,
    purpose_json: *const c_char,
    out_version: *mut u32,
) -> consent_result {
    guard(|| unsafe {
        with_batch(batch, |to| {
            register_purpose_json(to, purpose_json, out_version)
        })
    })
}

/// [`consent_register_notice_json`] inside the batch.
#[no_mangle]
pub unsafe extern "C" fn consent_batch_register_notice_json(
    batch: *mut consent_batch,
    notice_json: *const c_char,
) -> consent_result {
    guard(|| unsafe { with_batch(batch, |to| register_notice_json(to, notice_json)) })
}

/// [`consent_register_notice_text`] inside the batch.
#[no_mangle]
pub unsafe extern "C" fn consent_batch_register_notice_text(
    batch: *mut consent_batch,
    id: *const c_char,
    version: *const c_char,
    title: *const c_char,
    text: *const c_char,
    controller: *const c_char,
    purposes: *const *const c_char,
    n_purposes: usize,
) -> consent_result {
    guard(|| unsafe {
        with_batch(batch, |to| {
            register_notice_text(
                to, id, version, title, text, controller, purposes, n_purposes,
            )
        })
    })
}

/// The head as it would be if the batch were committed now (its appends included),
/// written to `*out`.
#[no_mangle]
pub unsafe extern "C" fn consent_batch_get_head(
    batch: *mut consent_batch,
    out: *mut consent_head,
) -> consent_result {
    guard(|| unsafe { with_batch(batch, |from| head_into(from, out)) })
}

/// Commits the batch: all of its appends land, or (on an error) none of them. Either
/// way the batch has ended: later calls on it return `CONSENT_RESULT_BATCH`, and the
/// handle must still be freed with [`consent_batch_free`].
#[no_mangle]
pub unsafe extern "C" fn consent_batch_commit(batch: *mut consent_batch) -> consent_result {
    guard(|| unsafe { end_batch(batch, true) })
}

/// Rolls the batch back: none of its appends land. The batch has ended: later calls on
/// it return `CONSENT_RESULT_BATCH`, and the handle must still be freed with
/// [`consent_batch_free`].
#[no_mangle]
pub unsafe extern "C" fn consent_batch_rollback(batch: *mut consent_batch) -> consent_result {
    guard(|| unsafe { end_batch(batch, false) })
}

/// Frees a batch handle, rolling the batch back if it is still open (and closing the
/// ledger if its handle was already freed). NULL is fine; never twice, and no call may
/// use the handle afterwards (or be running on another thread meanwhile).
#[no_mangle]
pub unsafe extern "C" fn consent_batch_free(batch: *mut consent_batch) {
    if batch.is_null() {
        return;
    }
    let _ = guard(|| {
        // SAFETY: a handle from `consent_batch_begin`, freed once, by contract. Its
        // `Drop` rolls an open batch back.
        let batch = unsafe { Box::from_raw(batch) };
        drop(batch);
        Ok(())
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_constants_match_cargo() {
        assert_eq!(
            CONSENT_VERSION_MAJOR.to_string(),
            env!("CARGO_PKG_VERSION_MAJOR")
        );
        assert_eq!(
            CONSENT_VERSION_MINOR.to_string(),
            env!("CARGO_PKG_VERSION_MINOR")
        );
        assert_eq!(
            CONSENT_VERSION_PATCH.to_string(),
            env!("CARGO_PKG_VERSION_PATCH")
        );
        let v = unsafe { std::ffi::CStr::from_ptr(consent_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn time_bounds_match_the_core() {
        assert!(Timestamp::from_millis(CONSENT_TIME_MIN).is_ok());
        assert!(Timestamp::from_millis(CONSENT_TIME_MAX).is_ok());
        assert!(Timestamp::from_millis(CONSENT_TIME_MIN - 1).is_err());
        assert!(Timestamp::from_millis(CONSENT_TIME_MAX + 1).is_err());
        let longest = Head {
            size: u64::MAX,
            root: [0xff; 32],
        }
        .to_string();
        assert_eq!(longest.len() + 1, CONSENT_HEAD_STRING_LEN);
    }

    fn default_options() -> consent_options {
        let mut o = std::mem::MaybeUninit::<consent_options>::uninit();
        assert_eq!(
            unsafe { consent_options_init(o.as_mut_ptr()) },
            consent_result::Ok
        );
        unsafe { o.assume_init() }
    }

    #[test]
    fn options_map_to_the_core() {
        let mut o = default_options();
        let core = unsafe { core_options(Some(&o)) }.unwrap();
        assert_eq!(core.pseudonym_key, KeySource::Beside);
        assert_eq!(core.erasure_wait, Duration::from_secs(2));
        assert!(core.create && !core.read_only && core.clock.is_none());
        assert_eq!(core.time_zone, None);
        o.time_zone = c"America/New_York".as_ptr();
        let core = unsafe { core_options(Some(&o)) }.unwrap();
        assert_eq!(core.time_zone.as_deref(), Some("America/New_York"));
        o.time_zone = std::ptr::null();

        o.pseudonym_key_source = consent_key_source::Bytes as i32;
        o.pseudonym_key = [7; CONSENT_KEY_LEN];
        o.erasure_wait_ms = 0;
        let core = unsafe { core_options(Some(&o)) }.unwrap();
        assert_eq!(core.pseudonym_key, KeySource::Bytes([7; 32]));
        assert_eq!(core.erasure_wait, Duration::ZERO);

        o.pseudonym_key_source = consent_key_source::File as i32;
        let err = |o: &consent_options| unsafe { core_options(Some(o)) }.unwrap_err().code;
        assert_eq!(err(&o), consent_result::NullArgument);
        o.pseudonym_key_path = c"".as_ptr();
        assert_eq!(err(&o), consent_result::InvalidArgument);
        o.pseudonym_key_path = c"/keys/ledger.key".as_ptr();
        assert_eq!(
            unsafe { core_options(Some(&o)) }.unwrap().pseudonym_key,
            KeySource::File("/keys/ledger.key".into())
        );
        for other in [
            consent_key_source::Beside,
            consent_key_source::Bytes,
            consent_key_source::None,
        ] {
            o.pseudonym_key_source = other as i32;
            assert_eq!(
                err(&o),
                consent_result::InvalidArgument,
                "{other:?} with a path"
            );
        }
        o.pseudonym_key_path = std::ptr::null();
        o.pseudonym_key_source = consent_key_source::None as i32;
        assert_eq!(
            unsafe { core_options(Some(&o)) }.unwrap().pseudonym_key,
            KeySource::None
        );
        o.pseudonym_key_source = 4;
        assert_eq!(err(&o), consent_result::InvalidArgument);
        o.pseudonym_key_source = -1;
        assert_eq!(err(&o), consent_result::InvalidArgument);
    }

    #[test]
    fn a_batch_handle_owns_its_batch() {
        let mut ledger = std::ptr::null_mut();
        assert_eq!(
            unsafe { consent_ledger_open_in_memory(std::ptr::null(), &mut ledger) },
            consent_result::Ok
        );
        let size = |l| {
            let mut h = consent_head {
                size: 0,
                root: [0; 32],
            };
            assert_eq!(unsafe { consent_get_head(l, &mut h) }, consent_result::Ok);
            h.size
        };
        assert_eq!(size(ledger), 1);
        let mut batch = std::ptr::null_mut();
        assert_eq!(
            unsafe { consent_batch_begin(ledger, &mut batch) },
            consent_result::Ok
        );
        let purpose = c"{\"id\":\"p\",\"title\":\"P\",\"controller\":\"C\",\"lawful_basis\":\"a\"}";
        assert_eq!(
            unsafe {
                consent_batch_register_purpose_json(batch, purpose.as_ptr(), std::ptr::null_mut())
            },
            consent_result::Ok
        );
        // Another thread's call waits for the batch, then lands on its own.
        let shared = ledger as usize;
        let other = std::thread::spawn(move || unsafe {
            consent_withdraw(
                shared as *const consent_ledger,
                c"s-1".as_ptr(),
                c"p".as_ptr(),
                std::ptr::null(),
                std::ptr::null_mut(),
            )
        });
        std::thread::sleep(Duration::from_millis(50));
        assert!(!other.is_finished());
        unsafe { consent_batch_free(batch) }; // rolls back: the purpose goes
        assert_eq!(other.join().unwrap(), consent_result::UnknownPurpose);
        assert_eq!(size(ledger), 1);
        unsafe { consent_ledger_free(ledger) };
    }

    #[test]
    fn erasure_flags_are_checked() {
        assert!(!erasure_flags(0).unwrap().force);
        assert!(erasure_flags(CONSENT_ERASE_FORCE).unwrap().force);
        assert_eq!(
            erasure_flags(2).unwrap_err().code,
            consent_result::InvalidArgument
        );
    }

    #[test]
    fn params_validate_before_the_core() {
        let mut p = std::mem::MaybeUninit::<consent_event_params>::uninit();
        assert_eq!(
            unsafe { consent_event_params_init(p.as_mut_ptr()) },
            consent_result::Ok
        );
        let mut p = unsafe { p.assume_init() };
        assert_eq!(
            unsafe { new_event(&p, PARAMS) }.unwrap_err().code,
            consent_result::InvalidArgument
        );
        p.kind = consent_event_kind::Given as i32;
        assert_eq!(
            unsafe { new_event(&p, PARAMS) }.unwrap_err().code,
            consent_result::NullArgument
        );
        p.subject = c"s1".as_ptr();
        p.purpose = c"p".as_ptr();
        p.notice_id = c"n".as_ptr();
        assert_eq!(
            unsafe { new_event(&p, PARAMS) }.unwrap_err().code,
            consent_result::InvalidArgument
        );
        p.notice_version = c"1".as_ptr();
        p.method = 99;
        assert_eq!(
            unsafe { new_event(&p, PARAMS) }.unwrap_err().code,
            consent_result::InvalidArgument
        );
        p.method = consent_method::Paper as i32;
        p.effective_at_ms = i64::MAX;
        assert_eq!(
            unsafe { new_event(&p, PARAMS) }.unwrap_err().code,
            consent_result::InvalidTime
        );
        p.effective_at_ms = 0;
        p.validity_from_ms = CONSENT_TIME_MIN - 1;
        assert_eq!(
            unsafe { new_event(&p, PARAMS) }.unwrap_err().code,
            consent_result::InvalidTime
        );
        p.validity_from_ms = 1_000;
        let e = unsafe { new_event(&p, PARAMS) }.unwrap();
        assert_eq!(e.method, Some(Method::Paper));
        assert_eq!(e.effective_at.unwrap().as_millis(), 0);
        assert_eq!(e.validity_from.unwrap().as_millis(), 1_000);
        assert_eq!(e.recorded_by, Actor::subject());
    }
}
