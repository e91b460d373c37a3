//! The C enums of the event model (kinds, methods, states, key sources, durability) and
//! their conversions to and from the core's.

use consent_core::{EventKind, Method, State};

use crate::boundary::{FfiError, FfiResult};
#[allow(unused_imports)] // for the doc links, which the header keeps as written
use crate::*;

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

pub(crate) fn event_kind(v: i32, name: impl std::fmt::Display) -> FfiResult<EventKind> {
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

pub(crate) fn method(v: i32, name: impl std::fmt::Display) -> FfiResult<Option<Method>> {
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

/// The `consent_method` value of a method (`CONSENT_METHOD_NONE` for none).
pub(crate) fn method_out(m: Option<Method>) -> i32 {
    let m = match m {
        None => consent_method::None,
        Some(Method::Portal) => consent_method::Portal,
        Some(Method::WebForm) => consent_method::WebForm,
        Some(Method::Paper) => consent_method::Paper,
        Some(Method::Email) => consent_method::Email,
        Some(Method::Feed) => consent_method::Feed,
        Some(Method::InPerson) => consent_method::InPerson,
        Some(Method::Phone) => consent_method::Phone,
        Some(Method::Api) => consent_method::Api,
    };
    m as i32
}

pub(crate) fn state(s: State) -> consent_state {
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
