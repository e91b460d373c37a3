//! The rules of docs/RULES.md, one test each, through the public API (the traps of
//! issue 11 are in `legal_answers.rs`).

mod common;

use common::*;
use consent_core::*;

#[test]
fn consent_is_per_purpose() {
    let (l, _) = ledger_at("2024-09-20T10:00:00Z");
    l.append(give("s1", "jmsu.marketing")).unwrap();
    assert_eq!(
        l.status("s1", "jmsu.marketing", None).unwrap().state,
        State::Given
    );
    assert_eq!(
        l.status("s1", "jmsu.data-sharing", None).unwrap().state,
        State::NeverAsked
    );
    assert_eq!(
        l.status("s2", "jmsu.marketing", None).unwrap().state,
        State::NeverAsked
    );
}

#[test]
fn special_category_needs_explicit_consent() {
    let (l, _) = ledger_at("2024-09-20T10:00:00Z");
    let grant = NewEvent::give("s1", "mobility.health")
        .notice(MOBILITY_NOTICE.0, MOBILITY_NOTICE.1)
        .method(Method::WebForm);
    let err = l.append(grant.clone()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConsent, "{err}");
    assert_eq!(l.head().unwrap().size, 9, "nothing was appended");
    let ev = l.append(grant.explicit(true)).unwrap();
    assert!(ev.explicit);
    assert_eq!(
        l.status("s1", "mobility.health", None).unwrap().state,
        State::Given
    );
}

#[test]
fn grants_need_notice_and_method_and_known_names() {
    let (l, _) = ledger_at("2024-09-20T10:00:00Z");
    let no_notice = NewEvent::give("s1", "jmsu.marketing").method(Method::Portal);
    assert_eq!(
        l.append(no_notice).unwrap_err().kind(),
        ErrorKind::InvalidConsent
    );
    let no_method = NewEvent::give("s1", "jmsu.marketing").notice(NOTICE.0, NOTICE.1);
    assert_eq!(
        l.append(no_method).unwrap_err().kind(),
        ErrorKind::InvalidConsent
    );
    assert_eq!(
        l.append(give("s1", "no.such")).unwrap_err().kind(),
        ErrorKind::UnknownPurpose
    );
    let bad_notice = NewEvent::give("s1", "jmsu.marketing")
        .notice("x", "1")
        .method(Method::Portal);
    assert_eq!(
        l.append(bad_notice).unwrap_err().kind(),
        ErrorKind::UnknownNotice
    );
    let bad_recipient = give("s1", "wellbeing.share-external").recipient("the press");
    assert_eq!(
        l.append(bad_recipient).unwrap_err().kind(),
        ErrorKind::UnknownRecipient
    );
    assert_eq!(
        l.append(give("", "jmsu.marketing")).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    let bad_evidence = give("s1", "jmsu.marketing").evidence(serde_json::json!([1, 2]));
    assert_eq!(
        l.append(bad_evidence).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    let not_consent = give("s1", "it.my-engagement");
    assert_eq!(
        l.append(not_consent).unwrap_err().kind(),
        ErrorKind::InvalidConsent
    );
    assert_eq!(
        l.status("s1", "it.my-engagement", None).unwrap().state,
        State::NotConsentBased
    );
    assert_eq!(
        l.status("s1", "no.such", None).unwrap_err().kind(),
        ErrorKind::UnknownPurpose
    );
}

#[test]
fn withdrawal_is_never_refused_and_not_retroactive() {
    let (l, clock) = ledger_at("2024-09-20T10:00:00Z");
    // Nothing on record yet (the paper form is not typed in): still recorded.
    let w = l
        .append(NewEvent::withdraw("s1", "jmsu.marketing").recorded_by(Actor::staff("dpo")))
        .unwrap();
    assert_eq!(w.kind, EventKind::Withdrawn);
    clock.set("2024-10-01T09:00:00Z");
    l.append(give("s1", "jmsu.data-sharing")).unwrap();
    clock.set("2024-11-01T09:00:00Z");
    let w = l
        .append(NewEvent::withdraw("s1", "jmsu.data-sharing"))
        .unwrap();
    assert_eq!(
        w.effect_deadline,
        Some(t("2024-11-02T09:00:00Z")),
        "the JMSU feed has 24 h"
    );
    let now = l.status("s1", "jmsu.data-sharing", None).unwrap();
    assert_eq!(now.state, State::Withdrawn);
    assert_eq!(now.effect_deadline, Some(t("2024-11-02T09:00:00Z")));
    let before = l
        .status_at("s1", "jmsu.data-sharing", None, t("2024-10-15"), None)
        .unwrap();
    assert_eq!(
        before.state,
        State::Given,
        "processing before the withdrawal stays lawful"
    );
    assert!(before.permits());
}

/// Appends `w`, which must be recorded whatever the subject's state: it is the last
/// event of the log and of the subject's history afterwards. Returns it.
fn recorded_withdrawal(l: &Ledger, w: NewEvent) -> Event {
    let size = l.head().unwrap().size;
    let subject = w.subject.clone();
    let history = l.history(&subject).unwrap().len();
    let got = l
        .append(w)
        .unwrap_or_else(|e| panic!("a withdrawal was refused: {e}"));
    assert_eq!(got.kind, EventKind::Withdrawn);
    assert_eq!(
        l.head().unwrap().size,
        size + 1,
        "the withdrawal is in the log"
    );
    assert_eq!(got.seq, size);
    let h = l.history(&subject).unwrap();
    assert_eq!(h.len(), history + 1);
    assert_eq!(
        h.last().unwrap().id,
        got.id,
        "the withdrawal is in the history"
    );
    got
}

#[test]
fn withdrawal_with_nothing_on_record_is_recorded() {
    let (l, _) = ledger_at("2024-09-20T10:00:00Z");
    let w = recorded_withdrawal(&l, NewEvent::withdraw("s9", "jmsu.marketing"));
    assert_eq!(w.subject.as_deref(), Some("s9"));
    assert_eq!(
        l.status("s9", "jmsu.marketing", None).unwrap().state,
        State::Withdrawn
    );
}

// A withdrawal naming an unknown notice is still refused: core bug 10, an ignored
// test in reliability/tests/core_bugs.rs until consent-core is fixed.
#[test]
fn withdrawal_naming_an_unlisted_recipient_is_recorded() {
    let (l, _) = ledger_at("2024-09-20T10:00:00Z");
    l.append(give("s1", "wellbeing.share-external").recipient("NHS"))
        .unwrap();
    // A grant to that recipient is refused; the withdrawal is not.
    let grant = give("s1", "wellbeing.share-external").recipient("the press");
    assert_eq!(
        l.append(grant).unwrap_err().kind(),
        ErrorKind::UnknownRecipient
    );
    let w = recorded_withdrawal(
        &l,
        NewEvent::withdraw("s1", "wellbeing.share-external").recipient("the press"),
    );
    // Recorded purpose-wide, with the recipient as written kept in its details: a
    // recipient the registry does not list cannot be asked about, so the withdrawal
    // must end every recipient's consent rather than none.
    assert_eq!(w.recipient, None);
    assert_eq!(
        w.details.as_ref().unwrap()["unlisted_recipient"],
        "the press"
    );
    assert_eq!(
        l.status("s1", "wellbeing.share-external", Some("the press"))
            .unwrap_err()
            .kind(),
        ErrorKind::UnknownRecipient
    );
    assert_eq!(
        l.status("s1", "wellbeing.share-external", Some("NHS"))
            .unwrap()
            .state,
        State::Withdrawn
    );
}

#[test]
fn withdrawal_after_erasure_is_recorded() {
    let (l, clock) = ledger_at("2024-09-20T10:00:00Z");
    l.append(give("s1", "jmsu.marketing")).unwrap();
    clock.set("2030-09-01T10:00:00Z");
    l.erase_subject("s1", "retention period ended", Actor::staff("dpo"))
        .unwrap();
    assert_eq!(
        l.append(give("s1", "jmsu.marketing")).unwrap_err().kind(),
        ErrorKind::SubjectErased,
        "a grant after erasure is refused"
    );
    let w = recorded_withdrawal(
        &l,
        NewEvent::withdraw("s1", "jmsu.marketing").recorded_by(Actor::staff("dpo")),
    );
    assert_eq!(
        w.subject, None,
        "an erased subject's events keep no subject"
    );
    assert_eq!(
        l.status("s1", "jmsu.marketing", None).unwrap().state,
        State::Erased
    );
    assert!(l.verify().unwrap().ok);
}

#[test]
fn event_time_and_record_time_are_both_kept() {
    let (l, clock) = ledger_at("2024-10-05T12:00:00Z");
    // Paper form signed 1 October, typed in 5 October.
    let ev = l
        .append(
            give("s1", "jmsu.marketing")
                .method(Method::Paper)
                .effective_at(t("2024-10-01T00:00:00Z"))
                .recorded_by(Actor::staff("clerk7")),
        )
        .unwrap();
    assert_eq!(ev.effective_at, t("2024-10-01"));
    assert_eq!(ev.recorded_at, t("2024-10-05T12:00:00Z"));
    clock.set("2024-10-06");
    let at = t("2024-10-03");
    assert_eq!(
        l.status_at("s1", "jmsu.marketing", None, at, None)
            .unwrap()
            .state,
        State::Given
    );
    // As known on 3 October, nobody had typed the form in.
    let as_known = l
        .status_at("s1", "jmsu.marketing", None, at, Some(at))
        .unwrap();
    assert_eq!(as_known.state, State::NeverAsked);
}

#[test]
fn project_consent_expires_at_end_of_academic_year() {
    let (l, clock) = ledger_at("2024-10-01T10:00:00Z");
    let ev = l.append(give("s1", "jmsu.project.green-week")).unwrap();
    // Midnight in Europe/London at the end of 31 July: 23:00 UTC in summer time.
    assert_eq!(ev.expires_at, Some(t("2025-07-31T23:00:00Z")));
    let s = l.status("s1", "jmsu.project.green-week", None).unwrap();
    assert_eq!(
        (s.state, s.until),
        (State::Given, Some(t("2025-07-31T23:00:00Z")))
    );
    clock.set("2025-08-01T00:00:00Z");
    let s = l.status("s1", "jmsu.project.green-week", None).unwrap();
    // The year ends at midnight in Europe/London: 23:00 UTC in summer.
    assert_eq!(
        (s.state, s.since),
        (State::Expired, Some(t("2025-07-31T23:00:00Z")))
    );
    assert!(l
        .consenting("jmsu.project.green-week", None, None, None)
        .unwrap()
        .subjects
        .is_empty());
    let july = l
        .consenting(
            "jmsu.project.green-week",
            None,
            Some(t("2025-07-31T12:00:00Z")),
            None,
        )
        .unwrap();
    assert_eq!(july.subjects.len(), 1);
}

#[test]
fn invalidation_is_retroactive_revocation_is_not() {
    let (l, clock) = ledger_at("2024-10-01T10:00:00Z");
    let g = l.append(give("s1", "jmsu.marketing")).unwrap();
    l.append(give("s2", "jmsu.marketing")).unwrap();
    clock.set("2024-12-01");
    l.append(
        NewEvent::new(EventKind::Invalidated, "s1", "jmsu.marketing")
            .target(g.id)
            .recorded_by(Actor::staff("dpo")),
    )
    .unwrap();
    l.append(
        NewEvent::new(EventKind::Revoked, "s2", "jmsu.marketing").recorded_by(Actor::staff("dpo")),
    )
    .unwrap();
    let past = t("2024-11-01");
    assert_eq!(
        l.status_at("s1", "jmsu.marketing", None, past, None)
            .unwrap()
            .state,
        State::Invalidated
    );
    assert_eq!(
        l.status_at("s2", "jmsu.marketing", None, past, None)
            .unwrap()
            .state,
        State::Given
    );
    // As known before the invalidation, s1's grant looked valid.
    assert_eq!(
        l.status_at("s1", "jmsu.marketing", None, past, Some(past))
            .unwrap()
            .state,
        State::Given
    );
    assert_eq!(
        l.status("s2", "jmsu.marketing", None).unwrap().state,
        State::Revoked
    );
    let other = l.append(give("s3", "jmsu.marketing")).unwrap();
    let bad = NewEvent::new(EventKind::Invalidated, "s1", "jmsu.marketing").target(other.id);
    assert_eq!(
        l.append(bad).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}

#[test]
fn objection_to_legitimate_interests() {
    let (l, _) = ledger_at("2024-10-01T10:00:00Z");
    assert!(l.status("s1", "it.my-engagement", None).unwrap().permits());
    l.append(NewEvent::new(EventKind::Objected, "s1", "it.my-engagement"))
        .unwrap();
    let s = l.status("s1", "it.my-engagement", None).unwrap();
    assert_eq!(
        (s.state, s.lawful_basis),
        (State::Objected, LawfulBasis::LegitimateInterests)
    );
    assert!(!s.permits());
}

#[test]
fn recipients_are_separate_and_purpose_wide_withdrawal_covers_them() {
    let (l, clock) = ledger_at("2024-10-01T10:00:00Z");
    l.append(give("s1", "wellbeing.share-external").recipient("NHS"))
        .unwrap();
    assert_eq!(
        l.status("s1", "wellbeing.share-external", Some("NHS"))
            .unwrap()
            .state,
        State::Given
    );
    assert_eq!(
        l.status("s1", "wellbeing.share-external", Some("landlord"))
            .unwrap()
            .state,
        State::NeverAsked
    );
    let feed = l
        .consenting("wellbeing.share-external", Some("NHS"), None, None)
        .unwrap();
    assert_eq!(feed.subjects.len(), 1);
    clock.set("2024-11-01");
    l.append(NewEvent::withdraw("s1", "wellbeing.share-external"))
        .unwrap();
    assert_eq!(
        l.status("s1", "wellbeing.share-external", Some("NHS"))
            .unwrap()
            .state,
        State::Withdrawn
    );
    assert!(l
        .consenting("wellbeing.share-external", Some("NHS"), None, None)
        .unwrap()
        .subjects
        .is_empty());
    let past = l
        .status_at(
            "s1",
            "wellbeing.share-external",
            Some("NHS"),
            t("2024-10-15"),
            None,
        )
        .unwrap();
    assert_eq!(past.state, State::Given);
}

#[test]
fn future_dated_events_are_honoured_when_they_fall_due() {
    let (l, clock) = ledger_at("2024-10-01T10:00:00Z");
    l.append(give("s1", "jmsu.marketing")).unwrap();
    l.append(NewEvent::withdraw("s1", "jmsu.marketing").effective_at(t("2024-12-01")))
        .unwrap();
    assert_eq!(
        l.status("s1", "jmsu.marketing", None).unwrap().state,
        State::Given
    );
    assert_eq!(
        l.consenting("jmsu.marketing", None, None, None)
            .unwrap()
            .subjects
            .len(),
        1
    );
    clock.set("2024-12-02");
    assert_eq!(
        l.status("s1", "jmsu.marketing", None).unwrap().state,
        State::Withdrawn
    );
    assert!(l
        .consenting("jmsu.marketing", None, None, None)
        .unwrap()
        .subjects
        .is_empty());
}

#[test]
fn idempotency_by_source_id() {
    let (l, _) = ledger_at("2024-10-01T10:00:00Z");
    let a = l
        .append(give("s1", "jmsu.marketing").source_id("form-17"))
        .unwrap();
    let b = l
        .append(give("s1", "jmsu.marketing").source_id("form-17"))
        .unwrap();
    assert_eq!(a.id, b.id);
    let size = l.head().unwrap().size;
    let err = l
        .append(give("s2", "jmsu.marketing").source_id("form-17"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(l.head().unwrap().size, size);
}

#[test]
fn purposes_are_versioned_events() {
    let (l, _) = ledger_at("2024-10-01T10:00:00Z");
    let p1 = l.purpose("jmsu.marketing").unwrap();
    assert_eq!(p1.version, 1);
    let same = l.register_purpose(p1.def.clone()).unwrap();
    assert_eq!(
        same.version, 1,
        "an unchanged definition is not a new version"
    );
    let mut def = p1.def.clone();
    def.title = "JMSU marketing (third parties too)".into();
    let p2 = l.register_purpose(def).unwrap();
    assert_eq!(p2.version, 2);
    let ev = l.changes_since(p2.seq, 1).unwrap();
    assert_eq!(ev[0].kind, EventKind::PurposeDefined);
    assert_eq!(ev[0].purpose_version, Some(2));
    assert_eq!(
        l.purposes()
            .unwrap()
            .iter()
            .filter(|p| p.def.id == "jmsu.marketing")
            .count(),
        2
    );
    let grant = l.append(give("s1", "jmsu.marketing")).unwrap();
    assert_eq!(grant.purpose_version, Some(2));
    // A notice's text is fixed by its hash.
    let mut n = NoticeDef::from_text(NOTICE.0, NOTICE.1, "JMSU privacy notice", "other text")
        .covering("JMSU", ["jmsu.*"]);
    assert_eq!(
        l.register_notice(n.clone()).unwrap_err().kind(),
        ErrorKind::Conflict
    );
    n.version = "2025-09".into();
    l.register_notice(n).unwrap();
}

#[test]
fn batches_are_all_or_nothing() {
    let (l, _) = ledger_at("2024-10-01T10:00:00Z");
    let before = l.head().unwrap();
    let err = l
        .append_many(vec![give("s1", "jmsu.marketing"), give("s2", "no.such")])
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownPurpose);
    assert_eq!(l.head().unwrap(), before);
    assert_eq!(
        l.status("s1", "jmsu.marketing", None).unwrap().state,
        State::NeverAsked
    );
    let ok = l
        .append_many(vec![
            give("s1", "jmsu.marketing"),
            give("s2", "jmsu.marketing"),
        ])
        .unwrap();
    assert_eq!(ok.len(), 2);
    let batch = l.batch().unwrap();
    // The thread holding a batch is told to use it, not left to deadlock.
    assert_eq!(l.batch().unwrap_err().kind(), ErrorKind::Batch);
    assert_eq!(
        l.append(give("s9", "jmsu.marketing")).unwrap_err().kind(),
        ErrorKind::Batch
    );
    batch.append(give("s3", "jmsu.marketing")).unwrap();
    // A failed append inside a batch leaves the batch usable.
    assert!(batch.append(give("s4", "no.such")).is_err());
    batch.rollback().unwrap();
    assert_eq!(
        l.status("s3", "jmsu.marketing", None).unwrap().state,
        State::NeverAsked
    );
    // Dropping a batch rolls it back.
    {
        let b = l.batch().unwrap();
        b.append(give("s5", "jmsu.marketing")).unwrap();
    }
    assert_eq!(
        l.status("s5", "jmsu.marketing", None).unwrap().state,
        State::NeverAsked
    );
    assert!(l.verify().unwrap().ok);
}

#[test]
fn history_changes_and_export() {
    let (l, _) = ledger_at("2024-10-01T10:00:00Z");
    let g = l
        .append(give("s1", "jmsu.marketing").evidence(serde_json::json!({"ip": "10.0.0.1"})))
        .unwrap();
    l.append(give("s2", "jmsu.marketing")).unwrap();
    l.append(NewEvent::withdraw("s1", "jmsu.marketing"))
        .unwrap();
    let h = l.history("s1").unwrap();
    assert_eq!(
        h.iter().map(|e| e.kind).collect::<Vec<_>>(),
        [EventKind::Given, EventKind::Withdrawn]
    );
    assert_eq!(h[0].evidence, Some(serde_json::json!({"ip": "10.0.0.1"})));
    let changes = l.changes_since(g.seq, 100).unwrap();
    assert_eq!(changes.len(), 3);
    assert_eq!(l.changes_since(g.seq, 2).unwrap().len(), 2);
    assert!(l.changes_since(u64::MAX, 10).unwrap().is_empty());
    let x = l.export_subject("s1").unwrap();
    assert_eq!(x.events.len(), 2);
    assert_eq!(x.purposes.len(), 1);
    assert_eq!(x.notices.len(), 1);
    assert_eq!(x.statuses[0].state, State::Withdrawn);
    assert_eq!(x.head, l.head().unwrap());
    let json = serde_json::to_value(&x).unwrap();
    assert_eq!(
        json["events"][0]["notice"]["sha256"]
            .as_str()
            .unwrap()
            .len(),
        64
    );
}

#[test]
fn consenting_answers_with_the_head() {
    let (l, clock) = ledger_at("2024-10-01T10:00:00Z");
    for i in 0..20 {
        l.append(give(&format!("s{i:02}"), "jmsu.data-sharing"))
            .unwrap();
    }
    clock.set("2024-10-02");
    for i in 0..5 {
        l.append(NewEvent::withdraw(format!("s{i:02}"), "jmsu.data-sharing"))
            .unwrap();
    }
    let now = l.consenting("jmsu.data-sharing", None, None, None).unwrap();
    assert_eq!(now.subjects.len(), 15);
    assert_eq!(now.subjects[0].subject, "s05");
    assert_eq!(now.head, l.head().unwrap());
    let past = l
        .consenting(
            "jmsu.data-sharing",
            None,
            Some(t("2024-10-01T12:00:00Z")),
            None,
        )
        .unwrap();
    assert_eq!(past.subjects.len(), 20);
}

#[test]
fn closed_ledger_answers_closed() {
    let (l, _) = ledger_at("2024-10-01T10:00:00Z");
    l.close().unwrap();
    assert_eq!(l.head().unwrap_err().kind(), ErrorKind::Closed);
    assert_eq!(
        l.append(give("s1", "jmsu.marketing")).unwrap_err().kind(),
        ErrorKind::Closed
    );
    l.close().unwrap();
}

#[test]
fn proofs_check_against_heads() {
    let (l, _) = ledger_at("2024-10-01T10:00:00Z");
    let g = l.append(give("s1", "jmsu.marketing")).unwrap();
    let old = l.head().unwrap();
    let p = l.prove_inclusion(g.id, None).unwrap();
    assert_eq!(p.head(), old);
    let bytes = l.canonical_event(g.id).unwrap();
    assert_eq!(merkle::leaf_hash(&bytes), p.leaf_hash);
    let decoded = canonical::decode(&bytes).unwrap();
    assert_eq!(
        (decoded.seq as u64, decoded.kind, decoded.purpose),
        (g.seq, "given", Some("jmsu.marketing"))
    );
    assert_eq!(decoded.effective_at, g.effective_at.as_millis());
    p.verify(&bytes, &old).unwrap();
    let too_big = l.prove_inclusion(g.id, Some(old.size + 1)).unwrap_err();
    assert_eq!(too_big.kind(), ErrorKind::InvalidArgument);
    for i in 0..10 {
        l.append(give(&format!("x{i}"), "jmsu.marketing")).unwrap();
    }
    let new = l.head().unwrap();
    let (c, head) = l.prove_consistency(&old, None).unwrap();
    assert_eq!(head, new);
    c.verify(&old, &new).unwrap();
    let p2 = l.prove_inclusion(g.id, None).unwrap();
    p2.verify(&bytes, &new).unwrap();
    assert_eq!(
        p2.verify(&bytes, &old).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    let mut forged = p2.clone();
    forged.leaf_hash[0] ^= 1;
    assert_eq!(
        forged.verify(&bytes, &new).unwrap_err().kind(),
        ErrorKind::ProofRejected
    );
    // A proof is bound to its event: event B's proof never vouches for event A, even
    // re-labelled with A's leaf hash.
    let other = l.history("x3").unwrap()[0].id;
    let other_bytes = l.canonical_event(other).unwrap();
    let p_other = l.prove_inclusion(other, None).unwrap();
    p_other.verify(&other_bytes, &new).unwrap();
    assert_eq!(
        p_other.verify(&bytes, &new).unwrap_err().kind(),
        ErrorKind::ProofRejected
    );
    let mut relabelled = p_other.clone();
    relabelled.leaf_hash = p2.leaf_hash;
    assert_eq!(
        relabelled.verify(&bytes, &new).unwrap_err().kind(),
        ErrorKind::ProofRejected
    );
    let wrong = Head {
        size: old.size,
        root: [0; 32],
    };
    assert!(l.prove_consistency(&wrong, None).is_err());
    let text = new.to_string();
    assert_eq!(text.parse::<Head>().unwrap(), new);
    assert!("12".parse::<Head>().is_err());
}

#[test]
fn status_many_answers_like_status_in_one_snapshot() {
    let (l, _) = ledger_at("2024-10-01T10:00:00Z");
    l.append_many(vec![
        give("s1", "jmsu.marketing"),
        give("s2", "jmsu.marketing"),
    ])
    .unwrap();
    l.append(NewEvent::withdraw("s2", "jmsu.marketing"))
        .unwrap();
    let questions = [
        ("s1", "jmsu.marketing", None),
        ("s2", "jmsu.marketing", None),
        ("s3", "jmsu.marketing", None),
        ("s1", "wellbeing.share-external", Some("NHS")),
    ];
    let many = l.status_many(&questions).unwrap();
    assert_eq!(many.len(), questions.len());
    for ((s, p, r), got) in questions.iter().zip(&many) {
        let one = l.status(s, p, *r).unwrap();
        assert_eq!(
            (one.state, one.event_seq),
            (got.state, got.event_seq),
            "{s} {p}"
        );
    }
    assert_eq!(
        many.iter().map(|s| s.state).collect::<Vec<_>>(),
        [
            State::Given,
            State::Withdrawn,
            State::NeverAsked,
            State::NeverAsked
        ]
    );
    // One bad question fails the call with its own error.
    let bad = [("s1", "jmsu.marketing", None), ("s1", "no.such", None)];
    assert_eq!(
        l.status_many(&bad).unwrap_err().kind(),
        ErrorKind::UnknownPurpose
    );
    let unlisted = [("s1", "wellbeing.share-external", Some("nhs"))];
    assert_eq!(
        l.status_many(&unlisted).unwrap_err().kind(),
        ErrorKind::UnknownRecipient
    );
    let empty: [(&str, &str, Option<&str>); 0] = [];
    assert!(l.status_many(&empty).unwrap().is_empty());
}
