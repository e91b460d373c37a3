//! Issue 11, "legally right answers": one test per trap, through the public API.
//! docs/RULES.md names each rule and points here.

mod common;

use common::*;
use consent_core::*;

const SHARE: &str = "wellbeing.share-external";
const FEED: &str = "jmsu.data-sharing";

/// A ledger file (a simulation on a clock the test moves) with the fixture's registry,
/// the JMSU feed listing its one recipient as the shipped registry does. The folder
/// goes when the returned `TempDir` is dropped.
fn ledger() -> (Ledger, Clock, tempfile::TempDir) {
    let clock = Clock::new("2024-10-01T10:00:00Z");
    let dir = tempfile::tempdir().unwrap();
    let l = Ledger::open_with(dir.path().join("ledger.db"), clock.options()).unwrap();
    register_all(&l);
    let mut feed = l.purpose(FEED).unwrap().def;
    feed.recipients = vec!["JMSU".into()];
    l.register_purpose(feed).unwrap();
    (l, clock, dir)
}

#[test]
fn a_question_about_an_unlisted_recipient_is_an_error_listing_the_ids() {
    let (l, _, _dir) = ledger();
    l.append(give("s1", SHARE)).unwrap();
    let err = l.status("s1", SHARE, Some("debt-collector")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownRecipient);
    let msg = err.to_string();
    assert!(msg.contains("NHS, SFE, landlord"), "{msg}");
    for e in [
        l.status_at("s1", SHARE, Some("debt-collector"), t("2024-10-02"), None)
            .unwrap_err(),
        l.consenting(SHARE, Some("debt-collector"), None, None)
            .unwrap_err(),
        l.append(give("s2", SHARE).recipient("debt-collector"))
            .unwrap_err(),
    ] {
        assert_eq!(e.kind(), ErrorKind::UnknownRecipient, "{e}");
    }
    // A purpose that lists none accepts none.
    let e = l.status("s1", "jmsu.marketing", Some("NHS")).unwrap_err();
    assert!(e.to_string().contains("lists none"), "{e}");
}

#[test]
fn recipients_are_compared_exactly_and_a_misspelt_withdrawal_ends_them_all() {
    let (l, _, _dir) = ledger();
    l.append(give("s1", SHARE)).unwrap();
    // The registry says `NHS`; `nhs` is another spelling: refused on questions...
    assert_eq!(
        l.status("s1", SHARE, Some("nhs")).unwrap_err().kind(),
        ErrorKind::UnknownRecipient
    );
    // ...and a withdrawal naming it is never refused: it is recorded purpose-wide.
    let w = l
        .append(NewEvent::withdraw("s1", SHARE).recipient("nhs"))
        .unwrap();
    assert_eq!(w.recipient, None);
    assert_eq!(w.details.as_ref().unwrap()["unlisted_recipient"], "nhs");
    for r in ["NHS", "SFE", "landlord"] {
        let s = l.status("s1", SHARE, Some(r)).unwrap();
        assert_eq!(s.state, State::Withdrawn, "{r}");
        assert!(!s.permits());
    }
    assert!(l.verify().unwrap().ok);
}

#[test]
fn the_feed_cannot_leave_the_recipient_out() {
    let (l, _, _dir) = ledger();
    l.append(give("s1", FEED)).unwrap();
    l.append(give("s2", FEED)).unwrap();
    // s2 withdraws naming JMSU, the purpose's only recipient.
    l.append(NewEvent::withdraw("s2", FEED).recipient("JMSU"))
        .unwrap();
    let err = l.consenting(FEED, None, None, None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownRecipient);
    assert!(err.to_string().contains("JMSU"), "{err}");
    assert_eq!(
        l.status("s2", FEED, None).unwrap_err().kind(),
        ErrorKind::UnknownRecipient
    );
    let feed = l.consenting(FEED, Some("JMSU"), None, None).unwrap();
    let ids: Vec<&str> = feed.subjects.iter().map(|s| s.subject.as_str()).collect();
    assert_eq!(ids, ["s1"]);
}

#[test]
fn a_material_change_makes_earlier_grants_need_renewal() {
    let (l, clock, _dir) = ledger();
    let before = l.append(give("s1", "jmsu.marketing")).unwrap();
    assert_eq!(before.purpose_version, Some(1));
    clock.set("2024-11-01");
    // A new title is not material.
    let mut def = l.purpose("jmsu.marketing").unwrap().def;
    def.title = "JMSU marketing emails".into();
    let v2 = l.register_purpose(def.clone()).unwrap();
    assert!(v2.material_change.is_empty());
    assert_eq!(
        l.status("s1", "jmsu.marketing", None).unwrap().state,
        State::Given
    );
    // The controller changes: material.
    clock.set("2024-12-01");
    def.controller = "JMSU Trading Ltd".into();
    let v3 = l.register_purpose(def).unwrap();
    assert_eq!(v3.material_change, ["controller"]);
    let s = l.status("s1", "jmsu.marketing", None).unwrap();
    assert_eq!(s.state, State::NeedsRenewal);
    assert!(!s.permits());
    assert_eq!((s.purpose_version, s.granted_under_version), (3, Some(1)));
    assert_eq!(s.since, Some(t("2024-12-01")));
    assert!(l
        .consenting("jmsu.marketing", None, None, None)
        .unwrap()
        .subjects
        .is_empty());
    // Not retroactive: before the change the grant covered the purpose.
    let then = l
        .status_at("s1", "jmsu.marketing", None, t("2024-11-15"), None)
        .unwrap();
    assert_eq!((then.state, then.purpose_version), (State::Given, 2));
    assert_eq!(
        l.consenting("jmsu.marketing", None, Some(t("2024-11-15")), None)
            .unwrap()
            .subjects
            .len(),
        1
    );
    // A paper form signed before the change and typed in after it needs renewal too.
    clock.set("2024-12-05");
    l.append(give("s2", "jmsu.marketing").effective_at(t("2024-11-20")))
        .unwrap();
    assert_eq!(
        l.status("s2", "jmsu.marketing", None).unwrap().state,
        State::NeedsRenewal
    );
    // Asking again renews.
    let renewed = l.append(give("s1", "jmsu.marketing")).unwrap();
    let s = l.status("s1", "jmsu.marketing", None).unwrap();
    assert_eq!((s.state, s.granted_under_version), (State::Given, Some(3)));
    assert_eq!(s.event_id, Some(renewed.id));
    // The feed, after the change, lists the renewed grant only (s2's still predates it).
    let feed = l.consenting("jmsu.marketing", None, None, None).unwrap();
    let ids: Vec<&str> = feed.subjects.iter().map(|s| s.subject.as_str()).collect();
    assert_eq!(ids, ["s1"]);
    assert_eq!(feed.subjects[0].event_id, renewed.id);
    assert!(l.verify().unwrap().ok);
}

#[test]
fn becoming_special_category_or_gaining_a_recipient_is_material() {
    let (l, clock, _dir) = ledger();
    l.append(give("s1", SHARE).recipient("NHS")).unwrap();
    l.append(give("s2", "jmsu.marketing")).unwrap();
    clock.set("2024-11-01");
    let mut share = l.purpose(SHARE).unwrap().def;
    share.recipients.push("police".into());
    assert_eq!(
        l.register_purpose(share).unwrap().material_change,
        ["recipients"]
    );
    assert_eq!(
        l.status("s1", SHARE, Some("NHS")).unwrap().state,
        State::NeedsRenewal
    );
    let mut marketing = l.purpose("jmsu.marketing").unwrap().def;
    marketing.special_category = Some('a');
    assert_eq!(
        l.register_purpose(marketing).unwrap().material_change,
        ["special_category"]
    );
    assert_eq!(
        l.status("s2", "jmsu.marketing", None).unwrap().state,
        State::NeedsRenewal
    );
}

#[test]
fn stop_on_legitimate_interests_is_an_objection_a_person_decides_on() {
    let (l, _, _dir) = ledger();
    let purpose = "it.my-engagement";
    assert!(l.status("s1", purpose, None).unwrap().permits());
    let w = l.withdraw("s1", purpose, Actor::subject()).unwrap();
    assert_eq!(w.kind, EventKind::Objected);
    assert_eq!(w.details.as_ref().unwrap()["asked_as"], "withdrawn");
    let s = l.status("s1", purpose, None).unwrap();
    assert_eq!(s.state, State::Objected);
    assert!(!s.permits());
    // Only a person overrules, and only an objection in force.
    let overrule = NewEvent::new(EventKind::ObjectionOverruled, "s1", purpose);
    let by_system = overrule.clone().recorded_by(Actor::system("sis"));
    assert_eq!(
        l.append(by_system).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    let by_staff = overrule.recorded_by(Actor::staff("dpo-1"));
    let nobody = NewEvent::new(EventKind::ObjectionOverruled, "s2", purpose)
        .recorded_by(Actor::staff("dpo-1"));
    assert_eq!(
        l.append(nobody).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    let on_consent = NewEvent::new(EventKind::ObjectionOverruled, "s1", "jmsu.marketing")
        .recorded_by(Actor::staff("dpo-1"));
    assert_eq!(
        l.append(on_consent).unwrap_err().kind(),
        ErrorKind::InvalidConsent
    );
    let decided = l.append(by_staff).unwrap();
    let s = l.status("s1", purpose, None).unwrap();
    assert_eq!(
        (s.state, s.event_id),
        (State::NotConsentBased, Some(decided.id))
    );
    assert!(s.permits());
    assert!(l.verify().unwrap().ok);
}

#[test]
fn the_academic_year_ends_at_midnight_in_london() {
    let (l, clock, _dir) = ledger();
    assert_eq!(l.time_zone().unwrap(), "Europe/London");
    let project = "jmsu.project.green-week";
    l.append(give("s1", project)).unwrap();
    // 00:45 BST on 1 August 2025 is 23:45 UTC on 31 July: the 2024/25 consent is over.
    clock.set("2025-07-31T23:45:00Z");
    assert_eq!(l.status("s1", project, None).unwrap().state, State::Expired);
    // A form signed at 00:30 BST on 1 August belongs to 2025/26.
    let late = l
        .append(give("s2", project).effective_at(t("2025-07-31T23:30:00Z")))
        .unwrap();
    assert_eq!(late.expires_at, Some(t("2026-07-31T23:00:00Z")));
    // A ledger may keep another calendar, committed in its first event.
    let utc = new_ledger(LedgerOptions {
        time_zone: Some("UTC".into()),
        ..Clock::new("2024-10-01").options()
    });
    assert_eq!(utc.time_zone().unwrap(), "UTC");
    assert!(utc.configuration_event().unwrap().details.unwrap()["time_zone"] == "UTC");
    let bad = Ledger::in_memory_with(LedgerOptions {
        time_zone: Some("Mars/Olympus".into()),
        ..LedgerOptions::default()
    });
    assert_eq!(bad.err().unwrap().kind(), ErrorKind::InvalidArgument);
}

#[test]
fn a_ledger_cannot_be_reopened_in_another_time_zone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.db");
    Ledger::open(&path).unwrap().close().unwrap();
    let err = Ledger::open_with(
        &path,
        LedgerOptions {
            time_zone: Some("UTC".into()),
            ..LedgerOptions::default()
        },
    )
    .err()
    .unwrap();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("Europe/London"), "{err}");
}

#[test]
fn a_course_rep_grant_counts_from_the_course_start() {
    let (l, _, _dir) = ledger();
    let mut rep = PurposeDef::new("jmsu.course-rep", "Course reps", "JMSU");
    rep.validity = Validity::CourseYear;
    l.register_purpose(rep).unwrap();
    // A January starter, rep from October: the year runs from the course start.
    let g = l
        .append(give("s1", "jmsu.course-rep").validity_from(t("2025-01-27T09:00:00Z")))
        .unwrap();
    assert_eq!(g.expires_at, Some(t("2026-01-27T00:00:00Z")));
    assert_eq!(
        g.details.as_ref().unwrap()["validity_from"],
        "2025-01-27T09:00:00.000Z"
    );
    // Only a grant carries a validity start.
    let w = NewEvent::withdraw("s1", "jmsu.course-rep").validity_from(t("2025-01-27"));
    assert_eq!(l.append(w).unwrap_err().kind(), ErrorKind::InvalidArgument);
    assert!(l.verify().unwrap().ok);
}

#[test]
fn dates_beyond_reason_are_refused() {
    let (l, _, _dir) = ledger();
    let size = l.head().unwrap().size;
    // A withdrawal dated in 9999 would keep consent in force for ever.
    let w = NewEvent::withdraw("s1", "jmsu.marketing").effective_at(t("9999-01-01"));
    assert_eq!(l.append(w).unwrap_err().kind(), ErrorKind::InvalidTime);
    // An academic-year grant that would lapse after 9999 would never lapse.
    let g = give("s1", "jmsu.project.green-week")
        .effective_at(t("2025-01-01"))
        .validity_from(t("9999-09-01"));
    assert_eq!(l.append(g).unwrap_err().kind(), ErrorKind::InvalidTime);
    assert_eq!(l.head().unwrap().size, size, "nothing half-written");
}

#[test]
fn a_grant_must_name_a_notice_that_covers_its_purpose() {
    let (l, _, _dir) = ledger();
    let g = NewEvent::give("s1", "mobility.health")
        .notice(NOTICE.0, NOTICE.1)
        .explicit(true)
        .method(Method::WebForm);
    let err = l.append(g).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConsent);
    assert!(err.to_string().contains("does not cover"), "{err}");
    // A notice says whose it is and what it covers.
    let bare = NoticeDef::from_text("x.notice", "1", "X", "text");
    assert_eq!(
        l.register_notice(bare).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    // A withdrawal naming any notice is still recorded.
    l.append(NewEvent::withdraw("s1", "mobility.health").notice(NOTICE.0, NOTICE.1))
        .unwrap();
}

/// A notice shown, with no answer yet: recorded as `notice_served`, which permits
/// nothing; like a grant it must name a notice that covers its purpose.
#[test]
fn a_served_notice_is_no_consent_and_needs_a_covering_notice() {
    let (l, _, _dir) = ledger();
    let shown = |purpose: &str| {
        NewEvent::new(EventKind::Given, "s1", purpose)
            .notice(NOTICE.0, NOTICE.1)
            .method(Method::Portal)
    };
    let served = l.serve_notice(shown("jmsu.marketing")).unwrap();
    assert_eq!(served.kind, EventKind::NoticeServed);
    assert!(!l.status("s1", "jmsu.marketing", None).unwrap().permits());
    let size = l.head().unwrap().size;
    let err = l.serve_notice(shown("mobility.health")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConsent, "{err}");
    assert_eq!(l.head().unwrap().size, size, "nothing written");
}

#[test]
fn erasure_mistakes_are_refused_previewed_and_undoable() {
    let (l, _, _dir) = ledger();
    // An id with no events: most likely a typo.
    let err = l
        .erase_subject("770O01", "retention", Actor::staff("dpo"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(l.erasure_preview("770O01").unwrap().events.is_empty());
    let forced = l
        .erase_subject_with(
            "banned-id",
            "never use",
            Actor::staff("dpo"),
            ErasureOptions { force: true },
        )
        .unwrap();
    assert_eq!(forced.events_erased, 0);
    // The dry run shows and writes nothing.
    l.append(give("s1", "jmsu.marketing")).unwrap();
    l.append(give("s1", "jmsu.data-sharing").recipient("JMSU"))
        .unwrap();
    let size = l.head().unwrap().size;
    let preview = l.erasure_preview("s1").unwrap();
    assert_eq!((preview.events.len(), preview.already_erased), (2, false));
    assert_eq!(l.head().unwrap().size, size);
    // Bulk, with a report per id.
    l.append(give("s2", "jmsu.marketing")).unwrap();
    let report = l
        .erase_subjects(
            &["s1", "s2", "nobody", "s1", " bad"],
            "left 2018",
            Actor::staff("dpo"),
            ErasureOptions::default(),
        )
        .unwrap();
    let outcomes: Vec<_> = report.outcomes.iter().map(|o| o.result.clone()).collect();
    assert!(matches!(
        outcomes[0],
        ErasureResult::Erased {
            events_erased: 2,
            ..
        }
    ));
    assert!(matches!(
        outcomes[1],
        ErasureResult::Erased {
            events_erased: 1,
            ..
        }
    ));
    assert_eq!(outcomes[2], ErasureResult::Unknown);
    assert_eq!(outcomes[3], ErasureResult::AlreadyErased);
    assert!(matches!(outcomes[4], ErasureResult::Failed { .. }));
    assert_eq!(
        l.append(give("s1", "jmsu.marketing")).unwrap_err().kind(),
        ErrorKind::SubjectErased
    );
    // A returning student consents again under the same id, on the record.
    let back = l
        .readmit_subject("s1", "re-enrolled 2025", Actor::staff("registry"))
        .unwrap();
    assert_eq!(back.kind, EventKind::SubjectReadmitted);
    assert_eq!(back.subject, None);
    assert_eq!(
        l.status("s1", "jmsu.marketing", None).unwrap().state,
        State::NeverAsked
    );
    l.append(give("s1", "jmsu.marketing")).unwrap();
    assert_eq!(
        l.status("s1", "jmsu.marketing", None).unwrap().state,
        State::Given
    );
    let history = l.history("s1").unwrap();
    let kinds: Vec<_> = history.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::Given,
            EventKind::Given,
            EventKind::SubjectErased,
            EventKind::SubjectReadmitted,
            EventKind::Given
        ]
    );
    assert!(history[0].erased && !history[4].erased);
    assert_eq!(
        l.readmit_subject("s1", "again", Actor::staff("registry"))
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument
    );
    // And may be erased again.
    let again = l
        .erase_subject("s1", "left again", Actor::staff("dpo"))
        .unwrap();
    assert_eq!(again.events_erased, 1);
    let report = l.verify().unwrap();
    assert!(report.ok, "{report:?}");
}

#[test]
fn a_past_extract_is_reproduced_as_it_was_known() {
    let (l, clock, _dir) = ledger();
    l.append(give("s1", "jmsu.marketing")).unwrap();
    clock.set("2024-10-10");
    // A paper withdrawal signed on 5 October, typed in on 10 October.
    l.append(NewEvent::withdraw("s1", "jmsu.marketing").effective_at(t("2024-10-05")))
        .unwrap();
    let as_sent = l
        .consenting(
            "jmsu.marketing",
            None,
            Some(t("2024-10-06")),
            Some(t("2024-10-06")),
        )
        .unwrap();
    assert_eq!(as_sent.subjects.len(), 1, "what we believed on 6 October");
    assert_eq!(as_sent.as_known_at, t("2024-10-06"));
    let as_now = l
        .consenting("jmsu.marketing", None, Some(t("2024-10-06")), None)
        .unwrap();
    assert!(
        as_now.subjects.is_empty(),
        "what we know now about 6 October"
    );
}
