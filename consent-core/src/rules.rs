//! The rules an event must meet to be recorded (docs/RULES.md), as pure functions of
//! the event and of what `append.rs` loaded for it ([`Facts`]): no storage here.
//! Also the read-time rules ([`grant_lapse`]) that every answer applies.

use std::borrow::Cow;
use std::sync::Arc;

use crate::calendar::Calendar;
use crate::error::{Error, Result};
use crate::event::{check_id, Actor, ActorKind, Event, EventKind, NewEvent};
use crate::notice::Notice;
use crate::purpose::{LawfulBasis, PurposeDef, PurposeVersions};
use crate::query::{decide, State};
use crate::timestamp::Timestamp;

/// How far after its record time an event may be dated: a year and a day. Further is
/// a typing mistake (a withdrawal dated 9999 would keep consent in force for ever).
pub(crate) const MAX_AHEAD_MS: i64 = 366 * 86_400_000;

/// What the rules need to know from the ledger about a new event, loaded before any
/// rule runs.
pub(crate) struct Facts {
    /// Every version of the event's purpose.
    pub purpose: Arc<PurposeVersions>,
    /// The subject's erasure marker, when the subject is erased.
    pub erased_marker: Option<[u8; 32]>,
    /// The event on record under the same source id, if any.
    pub on_record: Option<OnRecord>,
    /// The registered notice the event names (`None`: none named, or not registered).
    pub notice: Option<Notice>,
    /// The event an invalidation names as its target, if it names one and it exists.
    pub target: Option<Event>,
    /// For an overruling: the subject's events for the purpose.
    pub history: Vec<Event>,
}

/// The event recorded under a retried append's source id.
pub(crate) struct OnRecord {
    pub event: Event,
    /// For an erased event: whether its stored pseudonym is the retried subject's.
    pub same_pseudonym: bool,
}

/// What the rules decided about a new event.
// Returned once per append and matched at once: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Verdict<'e, 'f> {
    /// A retry of the event on record under its source id: nothing to write.
    Retry,
    /// Record it, as this.
    Record(Recorded<'e, 'f>),
}

/// The event as the ledger records it.
pub(crate) struct Recorded<'e, 'f> {
    /// The event, as [`recorded_form`] made it.
    pub event: Cow<'e, NewEvent>,
    pub notice: Option<&'f Notice>,
    pub effective: Timestamp,
    pub expires: Option<Timestamp>,
    pub effect_deadline: Option<Timestamp>,
    /// The hashed details: why the event differs from what the caller sent.
    pub details: serde_json::Map<String, serde_json::Value>,
}

/// Validation that needs nothing from the ledger.
pub(crate) fn check_new_event(e: &NewEvent) -> Result<()> {
    if !e.kind.is_subject_event() {
        return Err(Error::invalid(format!(
            "`{}` events are appended by the ledger itself",
            e.kind
        )));
    }
    check_actor(&e.recorded_by)?;
    check_id("subject", &e.subject)?;
    check_id("purpose", &e.purpose)?;
    for (what, v) in [("recipient", &e.recipient), ("source id", &e.source_id)] {
        if let Some(v) = v {
            check_id(what, v)?;
        }
    }
    if let Some((id, version)) = &e.notice {
        check_id("notice id", id)?;
        check_id("notice version", version)?;
    }
    if let Some(ev) = &e.evidence {
        if !ev.is_object() {
            return Err(Error::invalid("evidence must be a JSON object"));
        }
    }
    if (e.expires_at.is_some() || e.validity_from.is_some()) && e.kind != EventKind::Given {
        return Err(Error::invalid(
            "only a grant can carry an expiry or a validity start",
        ));
    }
    if e.target.is_some() && e.kind != EventKind::Invalidated {
        return Err(Error::invalid("only an invalidation names a target event"));
    }
    Ok(())
}

/// A question names its subject (and recipient) in the one spelling appends accept,
/// so another spelling is refused rather than answered "never asked".
pub(crate) fn check_question(subject: &str, purpose: &str, recipient: Option<&str>) -> Result<()> {
    check_id("subject", subject)?;
    check_id("purpose", purpose)?;
    if let Some(r) = recipient {
        check_id("recipient", r)?;
    }
    Ok(())
}

/// An actor as it will be stored must read back as itself: `subject`, `staff:<id>`,
/// `system:<id>` with the id in the one spelling of identifiers (an `Actor` built by
/// hand could carry a student id under `subject:` or an id that verify would refuse).
pub(crate) fn check_actor(a: &Actor) -> Result<()> {
    let text = a.to_string();
    if text.parse::<Actor>().ok().as_ref() != Some(a) {
        return Err(Error::invalid(format!(
            "recorded_by must be subject, staff:<id> or system:<id>, not `{}`",
            text.chars().take(40).collect::<String>()
        )));
    }
    Ok(())
}

/// An erasure names who erased and why (the reason is hashed in its details).
pub(crate) fn check_erasure(actor: &Actor, reason: &str) -> Result<()> {
    check_actor(actor)?;
    if reason.trim().is_empty() {
        return Err(Error::invalid("an erasure needs a reason"));
    }
    Ok(())
}

/// A readmission is recorded by staff or a system (the enrolment), with a reason.
pub(crate) fn check_readmission(subject: &str, actor: &Actor, reason: &str) -> Result<()> {
    check_id("subject", subject)?;
    check_actor(actor)?;
    if actor.kind == ActorKind::Subject {
        return Err(Error::invalid(
            "a readmission is recorded by staff or a system (the enrolment), not by the subject",
        ));
    }
    if reason.trim().is_empty() {
        return Err(Error::invalid("a readmission needs a reason"));
    }
    Ok(())
}

/// The event as the ledger records it, and the hashed details that say why it differs
/// from what the caller sent (docs/RULES.md):
/// - a withdrawal for a purpose that does not rest on consent is the subject objecting
///   (Art. 21): recorded as `objected`, `{"asked_as": "withdrawn"}`;
/// - a [withdrawal](EventKind::is_withdrawal) naming a recipient the purpose does not
///   list (a misspelling such as `NHS` for `nhs`) is never refused and must not leave
///   that recipient permitted: it is recorded purpose-wide, `{"unlisted_recipient": TEXT}`.
///
/// The event is copied only when it changes (never on a grant's path).
pub(crate) fn recorded_form<'e>(
    e: &'e NewEvent,
    def: &PurposeDef,
) -> (
    Cow<'e, NewEvent>,
    serde_json::Map<String, serde_json::Value>,
) {
    let mut e = Cow::Borrowed(e);
    let mut details = serde_json::Map::new();
    if e.kind == EventKind::Withdrawn && def.lawful_basis != LawfulBasis::Consent {
        e.to_mut().kind = EventKind::Objected;
        details.insert("asked_as".into(), "withdrawn".into());
    }
    let unlisted = e
        .recipient
        .as_deref()
        .is_some_and(|r| e.kind.is_withdrawal() && !def.lists(r));
    if unlisted {
        if let Some(r) = e.to_mut().recipient.take() {
            details.insert("unlisted_recipient".into(), r.into());
        }
    }
    (e, details)
}

/// Decides whether a new event may be recorded, and as what: every rule of an append,
/// in order, over the event and the [`Facts`] loaded for it. `evidence` is the event's
/// evidence as JSON text.
pub(crate) fn check_append<'e, 'f>(
    e: &'e NewEvent,
    evidence: Option<&str>,
    facts: &'f Facts,
    now: Timestamp,
    calendar: &Calendar,
) -> Result<Verdict<'e, 'f>> {
    let def = &facts.purpose.latest().def;
    let (event, mut details) = recorded_form(e, def);
    let e = &*event;
    if let Some(existing) = &facts.on_record {
        // An erased event's personal fields are gone; the retry is the same event when
        // it is about the same subject (by pseudonym) and all else agrees.
        let same = if existing.event.erased {
            existing.same_pseudonym && same_content(&existing.event, e, evidence, true)
        } else {
            same_content(&existing.event, e, evidence, false)
        };
        if same {
            return Ok(Verdict::Retry);
        }
        return Err(Error::Conflict(
            "the source id was already used for an event with different content".into(),
        ));
    }
    if facts.erased_marker.is_some() && !e.kind.accepted_after_erasure() {
        return Err(Error::SubjectErased);
    }
    let is_grant = e.kind == EventKind::Given;
    if e.kind.is_answer() {
        if def.lawful_basis != LawfulBasis::Consent {
            return Err(Error::InvalidConsent(format!(
                "purpose `{}` rests on {}, not consent",
                def.id,
                def.lawful_basis.describe()
            )));
        }
        if e.method.is_none() {
            return Err(Error::InvalidConsent(
                "a grant or refusal must say how it was collected".into(),
            ));
        }
    }
    if is_grant {
        if e.notice.is_none() {
            return Err(Error::InvalidConsent(
                "a grant must name the notice shown".into(),
            ));
        }
        if def.requires_explicit() && !e.explicit {
            return Err(Error::InvalidConsent(format!(
                "purpose `{}` involves special-category data (Art. 9(2)({})): the grant must be explicit",
                def.id,
                def.special_category.unwrap_or('a')
            )));
        }
    }
    if e.kind == EventKind::NoticeServed && e.notice.is_none() {
        return Err(Error::invalid("a notice_served event must name the notice"));
    }
    // Recipients are registry ids; a withdrawal naming another was made purpose-wide
    // by `recorded_form`, so only other kinds can get here with one.
    if let Some(r) = &e.recipient {
        if !def.lists(r) {
            return Err(Error::UnknownRecipient {
                purpose: def.id.clone(),
                recipient: Some(r.clone()),
                listed: def.recipients.clone(),
            });
        }
    }
    // A withdrawal is never refused: a notice it names that the registry lacks is
    // kept in its hashed details instead of failing the append.
    let notice = match (&e.notice, &facts.notice) {
        (Some(_), Some(n)) => Some(n),
        (Some((id, version)), None) if e.kind.is_withdrawal() => {
            details.insert(
                "unknown_notice".into(),
                serde_json::json!({ "id": id, "version": version }),
            );
            None
        }
        (Some((id, version)), None) => {
            return Err(Error::UnknownNotice(format!("{id} version {version}")))
        }
        (None, _) => None,
    };
    if let Some(n) = notice {
        if e.kind.needs_covering_notice() && !n.def.covers(&def.id) {
            return Err(Error::InvalidConsent(format!(
                "notice `{}` version {} does not cover purpose `{}` (it covers {}): the subject was not told about it",
                n.def.id,
                n.def.version,
                def.id,
                n.def.purposes.join(", ")
            )));
        }
    }
    if e.kind == EventKind::ObjectionOverruled {
        check_overruling(e, def, &facts.history, now)?;
    }
    if e.target.is_some() {
        match &facts.target {
            Some(g)
                if g.kind == EventKind::Given
                    && g.subject.as_deref() == Some(&e.subject)
                    && g.purpose.as_deref() == Some(&e.purpose) => {}
            _ => {
                return Err(Error::invalid(
                    "the invalidation target is not a grant of this subject and purpose",
                ))
            }
        }
    }
    let effective = e.effective_at.unwrap_or(now);
    if effective.as_millis() > now.as_millis().saturating_add(MAX_AHEAD_MS) {
        return Err(Error::InvalidTime(format!(
            "the event is dated {effective}, more than a year after it is recorded: check the date (a withdrawal dated years ahead would keep consent in force until then)"
        )));
    }
    let expires = if is_grant {
        let from = e.validity_from.unwrap_or(effective);
        match e.expires_at {
            Some(x) => Some(x),
            None => match def.validity.expiry(from, calendar) {
                Some(x) => Some(x),
                None if def.validity.lapses() => {
                    return Err(Error::InvalidTime(format!(
                        "purpose `{}` lapses grants, but a grant counted from {from} would lapse after the year 9999",
                        def.id
                    )))
                }
                None => None,
            },
        }
    } else {
        None
    };
    if let Some(from) = e.validity_from {
        details.insert("validity_from".into(), from.to_string().into());
    }
    if let Some(x) = expires {
        if x <= effective {
            return Err(Error::InvalidTime(
                "a grant must expire after it takes effect".into(),
            ));
        }
    }
    let effect_deadline = e.kind.sets_effect_deadline().then(|| {
        effective.saturating_add_millis(
            i64::try_from(def.effect_delay_secs.saturating_mul(1000)).unwrap_or(i64::MAX),
        )
    });
    Ok(Verdict::Record(Recorded {
        event,
        notice,
        effective,
        expires,
        effect_deadline,
        details,
    }))
}

/// An objection is overruled only by a person, for a purpose that does not rest on
/// consent, while the objection is in force (Art. 21(1)).
fn check_overruling(
    e: &NewEvent,
    def: &PurposeDef,
    history: &[Event],
    now: Timestamp,
) -> Result<()> {
    if def.lawful_basis == LawfulBasis::Consent {
        return Err(Error::InvalidConsent(format!(
            "purpose `{}` rests on consent: an objection there ends consent like a withdrawal, and no one can overrule it",
            def.id
        )));
    }
    if e.recorded_by.kind != ActorKind::Staff {
        return Err(Error::invalid(
            "a person decides on an objection: an overruling must be recorded by staff:<id>",
        ));
    }
    let at = e.effective_at.unwrap_or(now);
    let d = decide(history, def.lawful_basis, e.recipient.as_deref(), at, now);
    if d.state != State::Objected {
        return Err(Error::invalid(format!(
            "there is no objection in force to overrule (the state is {})",
            d.state
        )));
    }
    Ok(())
}

/// The notice a withdrawal named that the registry lacked (kept in its details).
fn unknown_notice_of(e: &Event) -> Option<(String, String)> {
    let n = e.details.as_ref()?.get("unknown_notice")?;
    Some((
        n.get("id")?.as_str()?.to_string(),
        n.get("version")?.as_str()?.to_string(),
    ))
}

/// Whether a stored event has the same content as a retried append (idempotency).
/// For an erased event (`erased`), the personal fields (subject, evidence) are gone
/// and only the rest is compared; the caller has matched the subject's pseudonym.
pub(crate) fn same_content(
    existing: &Event,
    e: &NewEvent,
    evidence: Option<&str>,
    erased: bool,
) -> bool {
    let existing_evidence = existing.evidence.as_ref().map(|v| v.to_string());
    existing.kind == e.kind
        && (erased || existing.subject.as_deref() == Some(e.subject.as_str()))
        && existing.purpose.as_deref() == Some(e.purpose.as_str())
        && existing.recipient == e.recipient
        && existing
            .notice
            .as_ref()
            .map(|n| (n.id.clone(), n.version.clone()))
            .or_else(|| unknown_notice_of(existing))
            == e.notice
        && existing.explicit == e.explicit
        && existing.method == e.method
        && existing.recorded_by == e.recorded_by
        && e.effective_at.is_none_or(|t| t == existing.effective_at)
        && e.expires_at.is_none_or(|t| Some(t) == existing.expires_at)
        && e.validity_from.map(|t| t.to_string()).as_deref()
            == existing
                .details
                .as_ref()
                .and_then(|d| d.get("validity_from"))
                .and_then(|v| v.as_str())
        && (erased || existing_evidence.as_deref() == evidence)
        && existing.target == e.target
}

/// The read-time rules, applied to a grant that decides at `at` (as known at `known`)
/// — never materialized, so no job has to run for them: the grant lapsed at its expiry
/// (`until`), or the purpose changed materially after it was given (RULES.md R6).
/// Returns the state that replaces `given` and since when.
pub(crate) fn grant_lapse(
    p: &PurposeVersions,
    seq: u64,
    effective: Timestamp,
    until: Option<Timestamp>,
    at: Timestamp,
    known: Timestamp,
) -> Option<(State, Timestamp)> {
    if let Some(exp) = until.filter(|x| *x <= at) {
        return Some((State::Expired, exp));
    }
    p.renewal_needed(seq, effective, at.min(known))
        .map(|m| (State::NeedsRenewal, m.registered_at))
}
