//! Answers: the consent state of one subject for one purpose at a moment, as the
//! ledger knew it at another moment.
//!
//! [`decide`] is a pure function over the events of one subject and purpose. The
//! ledger uses it for every answer and to keep its materialized current state, so
//! there is one definition of what the rules mean.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::event::{Event, EventKind};
use crate::notice::NoticeRef;
use crate::purpose::{LawfulBasis, PurposeVersions};
use crate::timestamp::Timestamp;
use crate::Head;

/// The state of consent for a subject, purpose (and recipient) at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Consent is in force.
    Given,
    /// The subject was asked and said no.
    Refused,
    /// The subject withdrew (from that moment on; earlier use stays lawful).
    Withdrawn,
    /// The controller stopped relying on the consent.
    Revoked,
    /// The grant was never valid (retroactive).
    Invalidated,
    /// The grant lapsed (e.g. at the end of the academic year).
    Expired,
    /// The subject objected (legitimate interests / public task).
    Objected,
    /// No decision on record.
    NeverAsked,
    /// The purpose does not rest on consent; see the lawful basis.
    NotConsentBased,
    /// The grant was given under an earlier description of the purpose, which has
    /// since changed materially: the subject must be asked again.
    NeedsRenewal,
    /// The subject's records were erased; the ledger can no longer answer for them.
    Erased,
}

impl State {
    /// Stable text form.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Given => "given",
            State::Refused => "refused",
            State::Withdrawn => "withdrawn",
            State::Revoked => "revoked",
            State::Invalidated => "invalidated",
            State::Expired => "expired",
            State::Objected => "objected",
            State::NeverAsked => "never_asked",
            State::NotConsentBased => "not_consent_based",
            State::NeedsRenewal => "needs_renewal",
            State::Erased => "erased",
        }
    }

    /// The state an event of `kind` leaves when it decides ([`EventKind::decides_under`]);
    /// a grant may still be invalidated or lapse after it.
    pub(crate) fn decided_by(kind: EventKind) -> State {
        match kind {
            EventKind::Given => State::Given,
            EventKind::Refused => State::Refused,
            EventKind::Withdrawn => State::Withdrawn,
            EventKind::Revoked => State::Revoked,
            EventKind::ObjectionOverruled => State::NotConsentBased,
            _ => State::Objected,
        }
    }

    pub(crate) fn parse(s: &str) -> Option<State> {
        ALL_STATES.iter().copied().find(|st| st.as_str() == s)
    }
}

const ALL_STATES: [State; 11] = [
    State::Given,
    State::Refused,
    State::Withdrawn,
    State::Revoked,
    State::Invalidated,
    State::Expired,
    State::Objected,
    State::NeverAsked,
    State::NotConsentBased,
    State::NeedsRenewal,
    State::Erased,
];

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The answer to "may we use this subject's data for this purpose at T, as known at K?".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// Purpose asked about.
    pub purpose: String,
    /// The version of the purpose in force at the moment asked about (as known then).
    pub purpose_version: u32,
    /// The version the deciding grant was given under (`None` when the deciding event
    /// is not a grant): differs from `purpose_version` after a change.
    pub granted_under_version: Option<u32>,
    /// Recipient asked about.
    pub recipient: Option<String>,
    /// The state.
    pub state: State,
    /// The purpose's lawful basis.
    pub lawful_basis: LawfulBasis,
    /// The deciding event.
    pub event_id: Option<Uuid>,
    /// Its sequence number.
    pub event_seq: Option<u64>,
    /// Since when this state holds.
    pub since: Option<Timestamp>,
    /// Until when (a grant's expiry).
    pub until: Option<Timestamp>,
    /// The notice the deciding event names.
    pub notice: Option<NoticeRef>,
    /// For a decision that ends consent ([`EventKind::sets_effect_deadline`]): when
    /// downstream systems must have acted.
    pub effect_deadline: Option<Timestamp>,
    /// The moment asked about.
    pub at: Timestamp,
    /// The knowledge time asked about.
    pub as_known_at: Timestamp,
}

impl Status {
    /// Whether processing may go ahead on this answer: consent in force, or a
    /// purpose that does not rest on consent and was not objected to.
    pub fn permits(&self) -> bool {
        matches!(self.state, State::Given | State::NotConsentBased)
    }
}

/// One subject with consent in force, in a [`Consenting`] answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentingSubject {
    /// The subject.
    pub subject: String,
    /// The grant in force.
    pub event_id: Uuid,
    /// Since when.
    pub since: Timestamp,
    /// Until when.
    pub until: Option<Timestamp>,
}

/// Every subject with consent in force for a purpose at a moment, with the ledger head
/// that answered, so an extract can later be shown to rest on valid consents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consenting {
    /// Purpose asked about.
    pub purpose: String,
    /// Recipient asked about.
    pub recipient: Option<String>,
    /// The moment asked about.
    pub at: Timestamp,
    /// The knowledge time asked about: the answer as the ledger knew it then.
    pub as_known_at: Timestamp,
    /// Subjects, ordered by id.
    pub subjects: Vec<ConsentingSubject>,
    /// The ledger head that answered.
    pub head: Head,
}

/// The outcome of [`decide`] before it is dressed as a [`Status`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decision<'a> {
    pub state: State,
    pub event: Option<&'a Event>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

/// Whether an event about `event_recipient` bears on a question about `asked`:
/// purpose-wide events bear on every recipient; a recipient's events only on it.
pub(crate) fn bears_on(event_recipient: Option<&str>, asked: Option<&str>) -> bool {
    event_recipient.is_none() || event_recipient == asked
}

/// Decides the state at `at` as known at `known_at` from the events of one subject and
/// purpose (any order), without the read-time rules (expiry, renewal after a material
/// change): the ledger applies those in one place, `grant_lapse` in rules.rs, to this
/// (in [`decide_at`]) and to the materialized state alike.
pub(crate) fn decide<'a>(
    events: &'a [Event],
    basis: LawfulBasis,
    recipient: Option<&str>,
    at: Timestamp,
    known_at: Timestamp,
) -> Decision<'a> {
    let known = || {
        events.iter().filter(move |e| {
            e.recorded_at <= known_at && bears_on(e.recipient.as_deref(), recipient)
        })
    };
    let last = known()
        .filter(|e| e.kind.decides_under(basis) && e.effective_at <= at)
        .max_by_key(|e| (e.effective_at, e.seq));
    let Some(last) = last else {
        let state = if basis == LawfulBasis::Consent {
            State::NeverAsked
        } else {
            State::NotConsentBased
        };
        return Decision {
            state,
            event: None,
            since: None,
            until: None,
        };
    };
    let since = Some(last.effective_at);
    let state = match State::decided_by(last.kind) {
        State::Given => {
            let invalidation = known().find(|inv| {
                inv.kind == EventKind::Invalidated
                    && match inv.target {
                        Some(t) => t == last.id,
                        None => inv.seq > last.seq,
                    }
            });
            if let Some(inv) = invalidation {
                return Decision {
                    state: State::Invalidated,
                    event: Some(inv),
                    since,
                    until: None,
                };
            }
            State::Given
        }
        other => other,
    };
    let until = if state == State::Given {
        last.expires_at
    } else {
        None
    };
    Decision {
        state,
        event: Some(last),
        since,
        until,
    }
}

/// Decides at `at` as known at `known` under the version of the purpose in force then,
/// with the read-time rules.
pub(crate) fn decide_at<'e>(
    p: &PurposeVersions,
    events: &'e [Event],
    recipient: Option<&str>,
    at: Timestamp,
    known: Timestamp,
) -> Decision<'e> {
    let basis = p.in_force(at.min(known)).def.lawful_basis;
    let mut d = decide(events, basis, recipient, at, known);
    if let (State::Given, Some(g)) = (d.state, d.event) {
        if let Some((state, since)) =
            crate::rules::grant_lapse(p, g.seq, g.effective_at, d.until, at, known)
        {
            d.state = state;
            d.since = Some(since);
            d.until = None;
        }
    }
    d
}

/// The version a deciding grant was given under.
fn granted_under(e: Option<&Event>) -> Option<u32> {
    e.filter(|e| e.kind == EventKind::Given)
        .and_then(|e| e.purpose_version)
}

/// The status at `at` as known at `known`, decided from the events of one subject and
/// purpose.
pub(crate) fn status_from(
    p: &PurposeVersions,
    events: &[Event],
    recipient: Option<&str>,
    at: Timestamp,
    known: Timestamp,
) -> Status {
    let d = decide_at(p, events, recipient, at, known);
    let then = p.in_force(at.min(known));
    Status {
        purpose: then.def.id.clone(),
        purpose_version: then.version,
        granted_under_version: granted_under(d.event),
        recipient: recipient.map(Into::into),
        state: d.state,
        lawful_basis: then.def.lawful_basis,
        event_id: d.event.map(|e| e.id),
        event_seq: d.event.map(|e| e.seq),
        since: d.since,
        until: d.until,
        notice: d.event.and_then(|e| e.notice.clone()),
        effect_deadline: d.event.and_then(|e| e.effect_deadline),
        at,
        as_known_at: known,
    }
}

/// The status of an erased subject.
pub(crate) fn erased_status(
    p: &PurposeVersions,
    recipient: Option<&str>,
    at: Timestamp,
    known: Timestamp,
) -> Status {
    let p = p.in_force(at.min(known));
    Status {
        purpose: p.def.id.clone(),
        purpose_version: p.version,
        granted_under_version: None,
        recipient: recipient.map(Into::into),
        state: State::Erased,
        lawful_basis: p.def.lawful_basis,
        event_id: None,
        event_seq: None,
        since: None,
        until: None,
        notice: None,
        effect_deadline: None,
        at,
        as_known_at: known,
    }
}

/// Adds `subject` to a feed when its events decide `given` at `at` as known at `known`.
pub(crate) fn push_if_given(
    out: &mut Vec<ConsentingSubject>,
    p: &PurposeVersions,
    events: &[Event],
    subject: String,
    recipient: Option<&str>,
    at: Timestamp,
    known: Timestamp,
) {
    let d = decide_at(p, events, recipient, at, known);
    if let (State::Given, Some(e), Some(since)) = (d.state, d.event, d.since) {
        out.push(ConsentingSubject {
            subject,
            event_id: e.id,
            since,
            until: d.until,
        });
    }
}
