//! Events: the only thing the ledger stores. They are appended, never updated (erasure
//! blanks personal fields but keeps their digests).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::notice::NoticeRef;
use crate::timestamp::Timestamp;

macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable text form used in the database, JSON and the canonical encoding.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(Error::invalid(format!(
                        concat!("unknown ", stringify!($name), " `{}` (one of: {})"),
                        s.chars().take(40).collect::<String>(),
                        [$($text),+].join(", ")
                    ))),
                }
            }
        }
    };
}

text_enum! {
    /// What happened.
    EventKind {
        /// A purpose was registered or changed (registry event, no subject).
        PurposeDefined = "purpose_defined",
        /// A notice was registered (registry event, no subject).
        NoticeDefined = "notice_defined",
        /// The subject gave consent.
        Given = "given",
        /// The subject was asked and said no.
        Refused = "refused",
        /// The subject withdrew consent (never refused, never retroactive).
        Withdrawn = "withdrawn",
        /// The controller stopped relying on the consent (not retroactive).
        Revoked = "revoked",
        /// A grant turned out never to have been valid (retroactive).
        Invalidated = "invalidated",
        /// The subject objected to processing under legitimate interests or public task
        /// (Art. 21). A withdrawal for such a purpose is recorded as one.
        Objected = "objected",
        /// A person decided that the controller's compelling legitimate grounds override
        /// the subject's objection (Art. 21(1)): processing may go on. Staff only.
        ObjectionOverruled = "objection_overruled",
        /// A notice was shown to the subject (no decision).
        NoticeServed = "notice_served",
        /// The subject's personal fields were erased (retention ended).
        SubjectErased = "subject_erased",
        /// An erased subject returned (a student enrolling again): their id may consent
        /// again; the old events stay blanked (docs/RULES.md, erasure).
        SubjectReadmitted = "subject_readmitted",
        /// The ledger's own first event (or the one a migration appends): the hashed
        /// commitment to its configuration — pseudonym key id, real or simulated clock.
        LedgerConfigured = "ledger_configured",
        /// A downstream system (the students' union feed, an NHS liaison) was
        /// registered, changed or retired: the purposes and recipient its feed may show
        /// (registry event, no subject; `downstream.rs`).
        DownstreamRegistered = "downstream_registered",
        /// A downstream system acknowledged that it acted on the events of its feed up
        /// to a sequence number, or on one event (no subject; `downstream.rs`).
        DownstreamAcknowledged = "downstream_acknowledged",
    }
}

impl EventKind {
    /// Kinds a caller may append through [`crate::Ledger::append`]: everything but the
    /// ledger's own events ([`EventKind::is_ledger_event`]) and erasures and
    /// readmissions ([`EventKind::is_erasure_event`]).
    pub fn is_subject_event(self) -> bool {
        !self.is_ledger_event() && !self.is_erasure_event()
    }

    /// The ledger's own events: its configuration and registry definitions. They carry
    /// no personal or pseudonymous field.
    pub fn is_ledger_event(self) -> bool {
        matches!(
            self,
            EventKind::LedgerConfigured | EventKind::PurposeDefined | EventKind::NoticeDefined
        ) || self.is_downstream_event()
    }

    /// The downstream systems' events: a registration (or a new version of one) and an
    /// acknowledgement. Ledger events: no subject, no personal field; appended only
    /// through [`crate::Ledger::register_downstream`] and
    /// [`crate::Ledger::acknowledge`].
    pub fn is_downstream_event(self) -> bool {
        matches!(
            self,
            EventKind::DownstreamRegistered | EventKind::DownstreamAcknowledged
        )
    }

    /// An erasure or a readmission: about a subject's pseudonym, never their id.
    pub fn is_erasure_event(self) -> bool {
        matches!(
            self,
            EventKind::SubjectErased | EventKind::SubjectReadmitted
        )
    }

    /// The subject stopping: a withdrawal, or an objection (what a withdrawal becomes
    /// under a basis other than consent). Never refused: a notice it names that the
    /// registry lacks, or a recipient the purpose does not list, is kept in its
    /// details instead (docs/RULES.md).
    pub fn is_withdrawal(self) -> bool {
        matches!(self, EventKind::Withdrawn | EventKind::Objected)
    }

    /// Kinds that end consent: a [withdrawal](EventKind::is_withdrawal), or the
    /// controller revoking it. They set an effect deadline
    /// ([`EventKind::sets_effect_deadline`]) and are accepted after an erasure
    /// ([`EventKind::accepted_after_erasure`]).
    pub fn ends_consent(self) -> bool {
        self.is_withdrawal() || self == EventKind::Revoked
    }

    /// Kinds still accepted about an erased subject (recorded blank): the
    /// [ones that end consent](EventKind::ends_consent), which must never be refused.
    pub fn accepted_after_erasure(self) -> bool {
        self.ends_consent()
    }

    /// Kinds that carry an effect deadline (effective time plus the purpose's effect
    /// delay), by which downstream systems must have acted: the
    /// [ones that end consent](EventKind::ends_consent).
    pub fn sets_effect_deadline(self) -> bool {
        self.ends_consent()
    }

    /// The subject's answer when asked for consent: a grant or a refusal. It needs a
    /// purpose that rests on consent and says how it was collected.
    pub fn is_answer(self) -> bool {
        matches!(self, EventKind::Given | EventKind::Refused)
    }

    /// Kinds whose notice must cover their purpose: the subject was told about it
    /// (an [answer](EventKind::is_answer), or a notice served).
    pub fn needs_covering_notice(self) -> bool {
        self.is_answer() || self == EventKind::NoticeServed
    }

    /// Whether an event of this kind decides the state of consent under `basis`:
    /// under consent, the answers and the kinds that end consent; under any other
    /// basis only an objection and a person's decision on it (Art. 21).
    pub fn decides_under(self, basis: crate::LawfulBasis) -> bool {
        match basis {
            crate::LawfulBasis::Consent => self.is_answer() || self.ends_consent(),
            _ => matches!(self, EventKind::Objected | EventKind::ObjectionOverruled),
        }
    }
}

text_enum! {
    /// How the event reached the ledger.
    Method {
        /// The "My LJMU" portal or another self-service page.
        Portal = "portal",
        /// A web form (e.g. a students' union project sign-up).
        WebForm = "web_form",
        /// A paper form, typed in later.
        Paper = "paper",
        /// An email from the subject.
        Email = "email",
        /// An automated feed from another system.
        Feed = "feed",
        /// In person, e.g. at an appointment.
        InPerson = "in_person",
        /// By telephone.
        Phone = "phone",
        /// Another system's API call.
        Api = "api",
    }
}

text_enum! {
    /// Who recorded an event.
    ActorKind {
        /// The subject, themselves.
        Subject = "subject",
        /// A member of staff on the subject's behalf.
        Staff = "staff",
        /// A system (feed, integration) on the subject's behalf.
        System = "system",
    }
}

/// Who recorded an event: `subject`, `staff:<id>` or `system:<id>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Actor {
    /// Subject, staff or system.
    pub kind: ActorKind,
    /// Staff or system id; `None` for the subject (whose id is personal and lives
    /// only in the event's subject field).
    pub id: Option<String>,
}

impl Actor {
    /// The subject themselves.
    pub fn subject() -> Self {
        Actor {
            kind: ActorKind::Subject,
            id: None,
        }
    }
    /// A member of staff.
    pub fn staff(id: impl Into<String>) -> Self {
        Actor {
            kind: ActorKind::Staff,
            id: Some(id.into()),
        }
    }
    /// A system.
    pub fn system(id: impl Into<String>) -> Self {
        Actor {
            kind: ActorKind::System,
            id: Some(id.into()),
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.id {
            Some(id) => write!(f, "{}:{}", self.kind, id),
            None => f.write_str(self.kind.as_str()),
        }
    }
}

impl FromStr for Actor {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let (kind, id) = match s.split_once(':') {
            Some((k, id)) => (k.parse::<ActorKind>()?, Some(id.to_string())),
            None => (s.parse::<ActorKind>()?, None),
        };
        match (kind, id) {
            (ActorKind::Subject, None) => Ok(Actor::subject()),
            (ActorKind::Subject, Some(_)) => {
                Err(Error::invalid("recorded_by `subject` takes no id"))
            }
            (k, Some(id)) => {
                check_id("actor id", &id)?;
                Ok(Actor {
                    kind: k,
                    id: Some(id),
                })
            }
            (k, None) => Err(Error::invalid(format!(
                "recorded_by `{k}` needs an id: `{k}:<id>`"
            ))),
        }
    }
}

impl Serialize for Actor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Actor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// The longest id (subject, purpose, recipient, source id, ...) the ledger accepts, in bytes.
pub const MAX_ID_LEN: usize = 1024;

/// Ids are non-empty, at most [`MAX_ID_LEN`] bytes, free of control characters, in
/// Unicode NFC and without white space at either end. One spelling per id: an id that
/// is not in that form is refused, never silently changed, so "José" typed in NFD or
/// "770001 " cannot name a second student beside "José" or "770001".
pub(crate) fn check_id(what: &str, id: &str) -> Result<()> {
    use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};
    if id.is_empty() {
        return Err(Error::invalid(format!("{what} is empty")));
    }
    if id.len() > MAX_ID_LEN {
        return Err(Error::invalid(format!(
            "{what} is longer than {MAX_ID_LEN} bytes"
        )));
    }
    if id.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "{what} contains a control character"
        )));
    }
    if id.trim() != id {
        return Err(Error::invalid(format!(
            "{what} begins or ends with white space"
        )));
    }
    let nfc = match is_nfc_quick(id.chars()) {
        IsNormalized::Yes => true,
        _ => id.nfc().eq(id.chars()),
    };
    if !nfc {
        return Err(Error::invalid(format!(
            "{what} is not in Unicode normal form C (NFC): normalise it before sending"
        )));
    }
    Ok(())
}

/// An event to append. Build it with [`NewEvent::new`] and the chained setters.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// What happened (one of the subject kinds).
    pub kind: EventKind,
    /// The data subject (student id). Personal: enters the hash only through a salted digest.
    pub subject: String,
    /// Purpose id.
    pub purpose: String,
    /// Recipient the consent names, if any.
    pub recipient: Option<String>,
    /// Notice shown: (id, version). Required for `given` and `notice_served`; it must
    /// cover the purpose ([`EventKind::needs_covering_notice`]).
    pub notice: Option<(String, String)>,
    /// Explicit consent (Art. 9(2)(a)): the subject expressly confirmed a statement.
    pub explicit: bool,
    /// How it was collected. Required for an answer ([`EventKind::is_answer`]).
    pub method: Option<Method>,
    /// Who recorded it.
    pub recorded_by: Actor,
    /// When it happened; defaults to the time of recording.
    pub effective_at: Option<Timestamp>,
    /// When a grant lapses; defaults to the purpose's validity rule.
    pub expires_at: Option<Timestamp>,
    /// For a grant: the start its validity rule counts from, when that is not the
    /// grant's effective time (a course rep's course start). Kept in the hashed details.
    pub validity_from: Option<Timestamp>,
    /// The caller's idempotency key. Personal (it may embed a form number).
    pub source_id: Option<String>,
    /// Free-form evidence, a JSON object. Personal.
    pub evidence: Option<serde_json::Value>,
    /// For `invalidated`: the grant that was never valid (default: every earlier grant
    /// for the same subject, purpose and recipient).
    pub target: Option<Uuid>,
}

impl NewEvent {
    /// A new event of `kind` for `subject` and `purpose`, recorded by the subject.
    pub fn new(kind: EventKind, subject: impl Into<String>, purpose: impl Into<String>) -> Self {
        NewEvent {
            kind,
            subject: subject.into(),
            purpose: purpose.into(),
            recipient: None,
            notice: None,
            explicit: false,
            method: None,
            recorded_by: Actor::subject(),
            effective_at: None,
            expires_at: None,
            validity_from: None,
            source_id: None,
            evidence: None,
            target: None,
        }
    }
    /// Consent given.
    pub fn give(subject: impl Into<String>, purpose: impl Into<String>) -> Self {
        Self::new(EventKind::Given, subject, purpose)
    }
    /// Consent withdrawn.
    pub fn withdraw(subject: impl Into<String>, purpose: impl Into<String>) -> Self {
        Self::new(EventKind::Withdrawn, subject, purpose)
    }
    /// Sets the recipient.
    pub fn recipient(mut self, r: impl Into<String>) -> Self {
        self.recipient = Some(r.into());
        self
    }
    /// Sets the notice shown.
    pub fn notice(mut self, id: impl Into<String>, version: impl Into<String>) -> Self {
        self.notice = Some((id.into(), version.into()));
        self
    }
    /// Marks the consent as explicit.
    pub fn explicit(mut self, yes: bool) -> Self {
        self.explicit = yes;
        self
    }
    /// Sets the collection method.
    pub fn method(mut self, m: Method) -> Self {
        self.method = Some(m);
        self
    }
    /// Sets who recorded it.
    pub fn recorded_by(mut self, a: Actor) -> Self {
        self.recorded_by = a;
        self
    }
    /// Sets when it happened.
    pub fn effective_at(mut self, t: Timestamp) -> Self {
        self.effective_at = Some(t);
        self
    }
    /// Sets when the grant lapses.
    pub fn expires_at(mut self, t: Timestamp) -> Self {
        self.expires_at = Some(t);
        self
    }
    /// Sets the start a grant's validity is counted from (e.g. the course start).
    pub fn validity_from(mut self, t: Timestamp) -> Self {
        self.validity_from = Some(t);
        self
    }
    /// Sets the idempotency key.
    pub fn source_id(mut self, s: impl Into<String>) -> Self {
        self.source_id = Some(s.into());
        self
    }
    /// Sets the evidence (must be a JSON object).
    pub fn evidence(mut self, v: serde_json::Value) -> Self {
        self.evidence = Some(v);
        self
    }
    /// Sets the invalidated grant.
    pub fn target(mut self, id: Uuid) -> Self {
        self.target = Some(id);
        self
    }
}

/// An event as stored in the ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// UUIDv7, unique in the ledger.
    pub id: Uuid,
    /// Position in the log, from 0; also the Merkle leaf index.
    pub seq: u64,
    /// What happened.
    pub kind: EventKind,
    /// The subject; `None` for registry events and once erased.
    pub subject: Option<String>,
    /// Purpose id (registry events: the purpose defined; none for notices and erasure).
    pub purpose: Option<String>,
    /// Version of the purpose in force when the event was appended.
    pub purpose_version: Option<u32>,
    /// Recipient named.
    pub recipient: Option<String>,
    /// Notice shown.
    pub notice: Option<NoticeRef>,
    /// Explicit consent marker.
    pub explicit: bool,
    /// Collection method.
    pub method: Option<Method>,
    /// Who recorded it.
    pub recorded_by: Actor,
    /// When it happened (event time).
    pub effective_at: Timestamp,
    /// When the ledger learnt it (record time).
    pub recorded_at: Timestamp,
    /// When a grant lapses.
    pub expires_at: Option<Timestamp>,
    /// For the kinds that end consent ([`EventKind::sets_effect_deadline`]): when
    /// downstream systems must have acted (effective time plus the purpose's effect
    /// delay).
    pub effect_deadline: Option<Timestamp>,
    /// Idempotency key; `None` once erased.
    pub source_id: Option<String>,
    /// Evidence object; `None` once erased.
    pub evidence: Option<serde_json::Value>,
    /// For `invalidated`: the grant concerned.
    pub target: Option<Uuid>,
    /// Non-personal details: the definition for registry events, the reason for erasure.
    pub details: Option<serde_json::Value>,
    /// Whether the personal fields have been erased.
    pub erased: bool,
}

#[cfg(test)]
mod kind_tests {
    use super::EventKind;
    use crate::LawfulBasis;

    /// The named predicates partition the kinds as docs/RULES.md says.
    #[test]
    fn predicates_partition_the_kinds() {
        for &k in EventKind::ALL {
            let classes = [
                k.is_ledger_event(),
                k.is_erasure_event(),
                k.is_subject_event(),
            ];
            assert_eq!(classes.iter().filter(|c| **c).count(), 1, "{k}");
            if k.is_downstream_event() {
                assert!(k.is_ledger_event(), "{k}");
            }
            if k.ends_consent() || k.is_answer() || k.needs_covering_notice() {
                assert!(k.is_subject_event(), "{k}");
            }
            assert_eq!(k.accepted_after_erasure(), k.ends_consent(), "{k}");
            assert_eq!(k.sets_effect_deadline(), k.ends_consent(), "{k}");
            for basis in [LawfulBasis::Consent, LawfulBasis::LegitimateInterests] {
                if k.decides_under(basis) {
                    assert!(k.is_subject_event(), "{k}");
                }
            }
        }
        let ending: Vec<_> = EventKind::ALL.iter().filter(|k| k.ends_consent()).collect();
        assert_eq!(
            ending,
            [
                &EventKind::Withdrawn,
                &EventKind::Revoked,
                &EventKind::Objected
            ]
        );
    }
}
