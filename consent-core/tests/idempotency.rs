//! Idempotency by source id, field by field: a retry with the same content is the
//! event already on record; a retry that differs in any one field the ledger compares
//! is a conflict. One case per field, so that dropping any comparison from the check
//! fails a test.

mod common;

use common::*;
use consent_core::*;
use serde_json::json;
use uuid::Uuid;

/// A second version of the JMSU notice, and a notice with the JMSU notice's version
/// under another id: the notice cases change the version alone, then the id alone.
const NOTICE_NEXT_VERSION: (&str, &str) = ("jmsu.privacy", "2025-09");
const NOTICE_OTHER_ID: (&str, &str) = ("jmsu.privacy.short", "2024-09");

/// A retry and what it changes.
struct Case {
    /// The field changed, and how.
    what: &'static str,
    /// The event first appended with the case's source id.
    first: NewEvent,
    /// The retry: `first` with one field changed.
    retry: NewEvent,
}

/// A ledger with the common purposes and notices, the two extra notices, and two
/// grants of s1 to `jmsu.marketing` for the invalidation cases to target.
fn ledger() -> (Ledger, Uuid, Uuid) {
    let (l, _) = ledger_at("2024-10-02T10:00:00Z");
    for (id, version) in [NOTICE_NEXT_VERSION, NOTICE_OTHER_ID] {
        l.register_notice(
            NoticeDef::from_text(id, version, "JMSU notice", id)
                .covering("JMSU", ["jmsu.*", "wellbeing.*"]),
        )
        .unwrap();
    }
    // A second purpose with the same recipients, for the "purpose" case.
    let mut other = l.purpose("wellbeing.share-external").unwrap().def;
    other.id = "wellbeing.share-other".into();
    l.register_purpose(other).unwrap();
    let a = l.append(give("s1", "jmsu.marketing")).unwrap().id;
    let b = l.append(give("s1", "jmsu.marketing")).unwrap().id;
    (l, a, b)
}

/// A grant that sets every field a grant can carry (all but `target`).
fn grant() -> NewEvent {
    give("s1", "wellbeing.share-external")
        .recipient("NHS")
        .recorded_by(Actor::staff("registry"))
        .effective_at(t("2024-10-01T09:00:00Z"))
        .expires_at(t("2025-07-31T23:00:00Z"))
        .evidence(json!({ "form": 17, "page": 1 }))
}

fn case(what: &'static str, first: NewEvent, change: impl FnOnce(NewEvent) -> NewEvent) -> Case {
    Case {
        what,
        retry: change(first.clone()),
        first,
    }
}

/// Every field of the comparison, changed alone. Each retry is a valid event in its
/// own right (the test appends it under another source id), so its conflict can only
/// come from the source id.
fn cases(a: Uuid, b: Uuid) -> Vec<Case> {
    // Only a grant carries an expiry, so the kind cases start from a grant without one.
    let unexpiring = NewEvent {
        expires_at: None,
        ..grant()
    };
    let invalidation = NewEvent::new(EventKind::Invalidated, "s1", "jmsu.marketing")
        .recorded_by(Actor::staff("dpo"))
        .target(a);
    vec![
        case("kind: given -> refused", unexpiring.clone(), |e| NewEvent {
            kind: EventKind::Refused,
            ..e
        }),
        case("kind: given -> withdrawn", unexpiring, |e| NewEvent {
            kind: EventKind::Withdrawn,
            ..e
        }),
        case("subject", grant(), |e| NewEvent {
            subject: "s2".into(),
            ..e
        }),
        case("purpose", grant(), |e| NewEvent {
            purpose: "wellbeing.share-other".into(),
            ..e
        }),
        case("recipient: another", grant(), |e| e.recipient("SFE")),
        case("recipient: none", grant(), |e| NewEvent {
            recipient: None,
            ..e
        }),
        case("notice: version", grant(), |e| {
            e.notice(NOTICE_NEXT_VERSION.0, NOTICE_NEXT_VERSION.1)
        }),
        case("notice: id", grant(), |e| {
            e.notice(NOTICE_OTHER_ID.0, NOTICE_OTHER_ID.1)
        }),
        case("explicit", grant(), |e| e.explicit(true)),
        case("method", grant(), |e| e.method(Method::Paper)),
        case("recorded_by: another id", grant(), |e| {
            e.recorded_by(Actor::staff("dpo"))
        }),
        case("recorded_by: another kind, same id", grant(), |e| {
            e.recorded_by(Actor::system("registry"))
        }),
        case("recorded_by: the subject", grant(), |e| {
            e.recorded_by(Actor::subject())
        }),
        case("effective_at", grant(), |e| {
            e.effective_at(t("2024-10-01T09:00:01Z"))
        }),
        case("expires_at", grant(), |e| {
            e.expires_at(t("2025-06-30T23:00:00Z"))
        }),
        case("validity_from", grant(), |e| {
            e.validity_from(t("2024-09-23T09:00:00Z"))
        }),
        case("evidence: another value", grant(), |e| {
            e.evidence(json!({ "form": 17, "page": 2 }))
        }),
        case("evidence: none", grant(), |e| NewEvent {
            evidence: None,
            ..e
        }),
        case("target: another grant", invalidation.clone(), move |e| {
            e.target(b)
        }),
        case("target: none", invalidation, |e| NewEvent {
            target: None,
            ..e
        }),
    ]
}

#[test]
fn a_retry_that_changes_any_one_field_is_a_conflict() {
    let (l, a, b) = ledger();
    let cases = cases(a, b);
    // Every case runs, so a failure lists every field the check no longer compares.
    let mut wrong = Vec::new();
    for (i, Case { what, first, retry }) in cases.iter().enumerate() {
        assert_ne!(first, retry, "{what}: the retry changes nothing");
        let source = format!("form-{i}");
        let stored = l
            .append(first.clone().source_id(&source))
            .unwrap_or_else(|e| panic!("{what}: the first append failed: {e}"));
        let size = l.head().unwrap().size;
        match l.append(retry.clone().source_id(&source)) {
            Err(err @ Error::Conflict(_)) => assert_eq!(err.kind(), ErrorKind::Conflict),
            Err(err) => wrong.push(format!("{what}: want a conflict, got {err:?}")),
            Ok(got) => wrong.push(format!(
                "{what}: the retry was taken for event {} (first {})",
                got.id, stored.id
            )),
        }
        assert_eq!(l.head().unwrap().size, size, "{what}: the retry appended");
        // The retry is valid on its own: under a source id of its own it is recorded.
        l.append(retry.clone().source_id(format!("{source}-other")))
            .unwrap_or_else(|e| panic!("{what}: the retry is not a valid event: {e}"));
    }
    assert!(
        wrong.is_empty(),
        "{} retries not refused:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert_eq!(cases.len(), 20, "a case per way of changing a field");
}

#[test]
fn an_identical_retry_is_the_event_on_record_and_appends_nothing() {
    let (l, a, b) = ledger();
    for (i, Case { what, first, .. }) in cases(a, b).into_iter().enumerate() {
        let source = format!("form-{i}");
        let stored = l.append_outcome(first.clone().source_id(&source)).unwrap();
        assert!(stored.new, "{what}: the first append is new");
        let stored = stored.event;
        let size = l.head().unwrap().size;
        let history = l.history(&first.subject).unwrap().len();
        let again = l
            .append_outcome(first.source_id(&source))
            .unwrap_or_else(|e| panic!("{what}: an identical retry failed: {e}"));
        assert!(!again.new, "{what}: the retry says it recorded nothing");
        let again = again.event;
        assert_eq!(again.id, stored.id, "{what}: another event");
        assert_eq!(again, stored, "{what}: the stored event came back changed");
        assert_eq!(l.head().unwrap().size, size, "{what}: the retry appended");
        assert_eq!(
            l.history(&again.subject.unwrap()).unwrap().len(),
            history,
            "{what}: the retry is in the history"
        );
    }
}
