//! Downstream systems, tested as an attacker and a regulator would: a feed never
//! shows what its registration does not allow, acknowledgements are refused with
//! nothing written when they name what is not there, and deadlines are right across
//! time (the test clock). Runs on both backends through `common::new_ledger`.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use consent_core::*;
use proptest::prelude::*;

fn jmsu_feed() -> DownstreamDef {
    DownstreamDef::new("jmsu.feed", "JMSU live feed", "JMSU", ["jmsu.data-sharing"])
}

fn nhs_liaison() -> DownstreamDef {
    DownstreamDef::new(
        "nhs.liaison",
        "NHS liaison",
        "LJMU",
        ["wellbeing.share-external"],
    )
    .recipient("NHS")
}

fn dpo() -> Actor {
    Actor::staff("dpo-01")
}

fn feed_system() -> Actor {
    Actor::system("jmsu-feed")
}

#[test]
fn registration_is_a_versioned_event() {
    let (l, _clock) = ledger_at("2024-09-20T10:00:00Z");
    let size = l.head().unwrap().size;
    let d = l.register_downstream(jmsu_feed(), dpo()).unwrap();
    assert_eq!((d.version, d.seq, d.first_seq), (1, size, size));
    // The same definition again appends nothing.
    let again = l.register_downstream(jmsu_feed(), dpo()).unwrap();
    assert_eq!(again, d);
    assert_eq!(l.head().unwrap().size, size + 1);
    let event = l.changes_since(size, 1).unwrap().remove(0);
    assert_eq!(event.kind, EventKind::DownstreamRegistered);
    assert_eq!(event.subject, None);
    assert_eq!(event.recorded_by, dpo());
    // A new version.
    let mut wider = jmsu_feed();
    wider.purposes.push("jmsu.marketing".into());
    let v2 = l.register_downstream(wider.clone(), dpo()).unwrap();
    assert_eq!((v2.version, v2.first_seq), (2, size));
    assert_eq!(l.downstream("jmsu.feed").unwrap().def, wider);
    assert_eq!(l.downstream_versions("jmsu.feed").unwrap().len(), 2);
    l.register_downstream(nhs_liaison(), dpo()).unwrap();
    let ids: Vec<String> = l
        .downstreams()
        .unwrap()
        .into_iter()
        .map(|d| d.def.id)
        .collect();
    assert_eq!(ids, ["jmsu.feed", "nhs.liaison"]);
    // Retiring is a version too.
    let retired = l.retire_downstream("nhs.liaison", dpo()).unwrap();
    assert!(retired.def.retired && retired.version == 2);
    assert!(l.verify().unwrap().ok);
}

#[test]
fn registration_refuses_what_the_registry_lacks() {
    let (l, _clock) = ledger_at("2024-09-20T10:00:00Z");
    let unknown = DownstreamDef::new("x", "X", "JMSU", ["no.such.purpose"]);
    assert_eq!(
        l.register_downstream(unknown, dpo()).unwrap_err().kind(),
        ErrorKind::UnknownPurpose
    );
    let bad_recipient = nhs_liaison().recipient("nhs");
    assert_eq!(
        l.register_downstream(bad_recipient, dpo())
            .unwrap_err()
            .kind(),
        ErrorKind::UnknownRecipient
    );
    // A sharing purpose of another controller is seen only as one of its recipients:
    // a landlord scheme registered on it without one would see the NHS shares.
    let landlords = DownstreamDef::new(
        "landlords",
        "Landlord scheme",
        "Liverpool Landlords",
        ["wellbeing.share-external"],
    );
    let err = l.register_downstream(landlords.clone(), dpo()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("NHS, SFE, landlord"), "{err}");
    let size_before_landlords = l.head().unwrap().size;
    l.register_downstream(landlords.recipient("landlord"), dpo())
        .unwrap();
    assert_eq!(l.head().unwrap().size, size_before_landlords + 1);
    let size = l.head().unwrap().size;
    let no_purposes = DownstreamDef::new("x", "X", "JMSU", Vec::<String>::new());
    assert_eq!(
        l.register_downstream(no_purposes, dpo())
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument
    );
    let spaced = DownstreamDef::new(" x", "X", "JMSU", ["jmsu.marketing"]);
    assert_eq!(
        l.register_downstream(spaced, dpo()).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        l.register_downstream(jmsu_feed(), Actor::subject())
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        l.retire_downstream("never.registered", dpo())
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert_eq!(l.head().unwrap().size, size, "nothing was written");
}

#[test]
fn the_feed_shows_only_its_purposes_and_recipient() {
    let (l, _clock) = ledger_at("2024-09-20T10:00:00Z");
    l.register_downstream(jmsu_feed(), dpo()).unwrap();
    l.register_downstream(nhs_liaison(), dpo()).unwrap();
    l.append(give("770001", "jmsu.data-sharing")).unwrap();
    l.append(give("770001", "mobility.health").explicit(true))
        .unwrap();
    l.append(give("770001", "wellbeing.share-external").recipient("NHS"))
        .unwrap();
    l.append(give("770002", "wellbeing.share-external").recipient("landlord"))
        .unwrap();
    l.append(NewEvent::withdraw("770002", "wellbeing.share-external"))
        .unwrap();
    l.append(NewEvent::withdraw("770001", "jmsu.data-sharing"))
        .unwrap();
    l.append(NewEvent::withdraw("770001", "wellbeing.share-external"))
        .unwrap();

    let jmsu = l.feed("jmsu.feed", None, 100).unwrap();
    let seen: Vec<(EventKind, &str)> = jmsu
        .items
        .iter()
        .map(|i| (i.kind, i.purpose.as_deref().unwrap()))
        .collect();
    assert_eq!(
        seen,
        [
            (EventKind::Given, "jmsu.data-sharing"),
            (EventKind::Withdrawn, "jmsu.data-sharing")
        ]
    );
    assert_eq!(jmsu.next, l.head().unwrap().size);
    let withdrawal = &jmsu.items[1];
    assert_eq!(withdrawal.subject.as_deref(), Some("770001"));
    assert_eq!(
        withdrawal.effect_deadline.unwrap().as_millis() - withdrawal.effective_at.as_millis(),
        86_400_000
    );

    // The NHS liaison sees the NHS grant and its student's purpose-wide withdrawal,
    // never the landlord's grant or the withdrawal of the student who granted only to
    // the landlord, the special-category grant or the students' union's events.
    let nhs = l.feed("nhs.liaison", None, 100).unwrap();
    let seen: Vec<(EventKind, Option<&str>, Option<&str>)> = nhs
        .items
        .iter()
        .map(|i| (i.kind, i.subject.as_deref(), i.recipient.as_deref()))
        .collect();
    assert_eq!(
        seen,
        [
            (EventKind::Given, Some("770001"), Some("NHS")),
            (EventKind::Withdrawn, Some("770001"), None)
        ]
    );

    // Pages: a limit, and `next` to continue.
    let first = l.feed("jmsu.feed", Some(0), 1).unwrap();
    assert_eq!(first.items.len(), 1);
    let rest = l.feed("jmsu.feed", Some(first.next), 10).unwrap();
    assert_eq!(rest.items, jmsu.items[1..]);
    assert_eq!(
        l.feed("no.such", None, 1).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let beyond = l.head().unwrap().size + 1;
    assert_eq!(
        l.feed("jmsu.feed", Some(beyond), 1).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}

/// DOMAIN.md: JMSU gets data "only for students who opted in". A refusal, a served
/// notice, an overruled objection, or a withdrawal with no grant on record never puts
/// the student in the feed, never gets a deadline; an ending event is shown only after
/// a grant the feed showed, of the same subject, purpose and recipient scope.
#[test]
fn the_feed_shows_only_students_who_opted_in() {
    let (l, clock) = ledger_at("2024-10-01T09:00:00Z");
    l.register_downstream(jmsu_feed(), dpo()).unwrap();
    let everything = DownstreamDef::new(
        "all.of.it",
        "Every sharing event",
        "LJMU",
        ["wellbeing.share-external", "it.my-engagement"],
    );
    l.register_downstream(everything, dpo()).unwrap();
    let refused = l
        .append(
            NewEvent::new(EventKind::Refused, "770001", "jmsu.data-sharing")
                .notice(NOTICE.0, NOTICE.1)
                .method(Method::Paper),
        )
        .unwrap();
    let served = l
        .append(
            NewEvent::new(EventKind::NoticeServed, "770002", "jmsu.data-sharing")
                .notice(NOTICE.0, NOTICE.1),
        )
        .unwrap();
    let grantless = l
        .append(NewEvent::withdraw("770003", "jmsu.data-sharing"))
        .unwrap();
    let revoked = l
        .append(NewEvent::new(
            EventKind::Revoked,
            "770002",
            "jmsu.data-sharing",
        ))
        .unwrap();
    // A grant of another purpose says nothing about this one.
    l.append(give("770004", "jmsu.marketing")).unwrap();
    let other_purpose = l
        .append(NewEvent::withdraw("770004", "jmsu.data-sharing"))
        .unwrap();
    // Opted in, then out: both shown.
    let g = l.append(give("770005", "jmsu.data-sharing")).unwrap();
    let w = l
        .append(NewEvent::withdraw("770005", "jmsu.data-sharing"))
        .unwrap();
    // Legitimate interests: an objection and its overruling, with no grant anywhere.
    let objected = l
        .append(NewEvent::new(
            EventKind::Objected,
            "770006",
            "it.my-engagement",
        ))
        .unwrap();
    let overruled = l
        .append(
            NewEvent::new(EventKind::ObjectionOverruled, "770006", "it.my-engagement")
                .recorded_by(Actor::staff("dpo-1")),
        )
        .unwrap();
    // Recipient scope: a grant to the NHS is not ended by a withdrawal naming the
    // landlord, but is by a purpose-wide one.
    let nhs = l
        .append(give("770007", "wellbeing.share-external").recipient("NHS"))
        .unwrap();
    let landlord = l
        .append(NewEvent::withdraw("770007", "wellbeing.share-external").recipient("landlord"))
        .unwrap();
    let wide = l
        .append(NewEvent::withdraw("770007", "wellbeing.share-external"))
        .unwrap();
    // The student who only refused is erased: no erasure item either.
    l.erase_subject("770001", "retention ended", dpo()).unwrap();

    let seqs = |id: &str| -> Vec<u64> {
        l.feed(id, Some(0), 1000)
            .unwrap()
            .items
            .iter()
            .map(|i| i.seq)
            .collect()
    };
    assert_eq!(seqs("jmsu.feed"), [g.seq, w.seq]);
    assert_eq!(seqs("all.of.it"), [nhs.seq, wide.seq]);
    for never in [
        &refused,
        &served,
        &grantless,
        &revoked,
        &other_purpose,
        &objected,
        &overruled,
        &landlord,
    ] {
        for d in ["jmsu.feed", "all.of.it"] {
            assert_eq!(
                l.acknowledge(d, Ack::Event(never.id), feed_system())
                    .unwrap_err()
                    .kind(),
                ErrorKind::InvalidArgument,
                "{d}: seq {} was never in its feed",
                never.seq
            );
        }
    }
    // Deadlines only for what the feed shows; a week later only those are overdue.
    clock.set("2024-10-08T09:00:00Z");
    let overdue: Vec<(String, u64)> = l
        .overdue(None)
        .unwrap()
        .into_iter()
        .map(|d| (d.downstream, d.seq))
        .collect();
    assert_eq!(
        overdue,
        [
            ("all.of.it".to_string(), wide.seq),
            ("jmsu.feed".to_string(), w.seq)
        ]
    );
    assert!(l.verify().unwrap().ok);
}

#[test]
fn the_cursor_is_the_highest_acknowledged_seq() {
    let (l, _clock) = ledger_at("2024-09-20T10:00:00Z");
    l.register_downstream(jmsu_feed(), dpo()).unwrap();
    let a = l.append(give("770001", "jmsu.data-sharing")).unwrap();
    let b = l.append(give("770002", "jmsu.data-sharing")).unwrap();
    let ack = l
        .acknowledge("jmsu.feed", Ack::UpTo(a.seq), feed_system())
        .unwrap();
    assert_eq!((ack.up_to, ack.target), (Some(a.seq), None));
    let page = l.feed("jmsu.feed", None, 10).unwrap();
    assert_eq!(page.since, a.seq + 1);
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].seq, b.seq);
    // An acknowledgement is an event of the log, by the actor that made it, in no
    // feed.
    let event = l.event(ack.id).unwrap();
    assert_eq!(event.kind, EventKind::DownstreamAcknowledged);
    assert_eq!(event.recorded_by, feed_system());
    l.acknowledge("jmsu.feed", Ack::UpTo(b.seq), feed_system())
        .unwrap();
    // A lower `up_to` later does not move the cursor back.
    l.acknowledge("jmsu.feed", Ack::UpTo(a.seq), feed_system())
        .unwrap();
    let page = l.feed("jmsu.feed", None, 10).unwrap();
    assert!(page.items.is_empty());
    assert_eq!(page.since, b.seq + 1);
    assert_eq!(l.acknowledgements("jmsu.feed").unwrap().len(), 3);
    assert!(l.verify().unwrap().ok);
}

#[test]
fn bad_acknowledgements_are_refused_and_nothing_is_written() {
    let (l, _clock) = ledger_at("2024-09-20T10:00:00Z");
    l.register_downstream(jmsu_feed(), dpo()).unwrap();
    let mine = l.append(give("770001", "jmsu.data-sharing")).unwrap();
    let other = l
        .append(give("770001", "mobility.health").explicit(true))
        .unwrap();
    let size = l.head().unwrap().size;
    let refused = [
        (
            l.acknowledge("no.such", Ack::UpTo(0), feed_system()),
            ErrorKind::NotFound,
        ),
        (
            l.acknowledge("jmsu.feed", Ack::UpTo(size), feed_system()),
            ErrorKind::InvalidArgument,
        ),
        (
            l.acknowledge("jmsu.feed", Ack::UpTo(u64::MAX), feed_system()),
            ErrorKind::InvalidArgument,
        ),
        (
            l.acknowledge("jmsu.feed", Ack::Event(other.id), feed_system()),
            ErrorKind::InvalidArgument,
        ),
        (
            l.acknowledge("jmsu.feed", Ack::Event(uuid::Uuid::nil()), feed_system()),
            ErrorKind::NotFound,
        ),
        (
            l.acknowledge("jmsu.feed", Ack::UpTo(0), Actor::subject()),
            ErrorKind::InvalidArgument,
        ),
        (
            l.acknowledge("", Ack::UpTo(0), feed_system()),
            ErrorKind::InvalidArgument,
        ),
    ];
    for (result, kind) in refused {
        let e = result.unwrap_err();
        assert_eq!(e.kind(), kind, "{e}");
    }
    assert_eq!(l.head().unwrap().size, size, "nothing was written");
    // The event that is in the feed is accepted.
    let ack = l
        .acknowledge("jmsu.feed", Ack::Event(mine.id), feed_system())
        .unwrap();
    assert_eq!(ack.target, Some(mine.id));
    assert!(l.verify().unwrap().ok);
}

#[test]
fn deadlines_across_time() {
    let (l, clock) = ledger_at("2024-10-01T09:00:00Z");
    // Before the registration: neither tracked nor overdue (but in the feed).
    l.append(give("770000", "jmsu.data-sharing")).unwrap();
    let before = l
        .append(NewEvent::withdraw("770000", "jmsu.data-sharing"))
        .unwrap();
    l.register_downstream(jmsu_feed(), dpo()).unwrap();
    l.register_downstream(nhs_liaison(), dpo()).unwrap();
    l.append(give("770001", "jmsu.data-sharing")).unwrap();
    l.append(give("770002", "jmsu.data-sharing")).unwrap();
    clock.set("2024-10-02T09:00:00Z");
    let w1 = l
        .append(NewEvent::withdraw("770001", "jmsu.data-sharing"))
        .unwrap();
    let w2 = l
        .append(NewEvent::withdraw("770002", "jmsu.data-sharing"))
        .unwrap();
    // Marketing is not in the feed: its withdrawal is nobody's deadline here.
    l.append(NewEvent::withdraw("770001", "jmsu.marketing"))
        .unwrap();
    assert!(l.overdue(None).unwrap().is_empty());
    let pending = l.pending(None).unwrap();
    assert_eq!(
        pending.iter().map(|d| d.seq).collect::<Vec<_>>(),
        [w1.seq, w2.seq]
    );
    assert!(pending.iter().all(|d| d.downstream == "jmsu.feed"));
    assert!(!pending.iter().any(|d| d.seq == before.seq));

    // w1 acknowledged in time (by its id).
    clock.set("2024-10-02T20:00:00Z");
    l.acknowledge("jmsu.feed", Ack::Event(w1.id), feed_system())
        .unwrap();
    // The deadline passes: w2 overdue, by 3 hours.
    clock.set("2024-10-03T12:00:00Z");
    let overdue = l.overdue(None).unwrap();
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0].seq, w2.seq);
    assert_eq!(overdue[0].deadline, t("2024-10-03T09:00:00Z"));
    assert_eq!(overdue[0].late_by_secs, Some(3 * 3600));
    // As known at an earlier moment, it was pending.
    let then = l.deadlines(Some(t("2024-10-02T12:00:00Z"))).unwrap();
    assert!(then.iter().all(|d| d.state == DeadlineState::Pending));
    // Acknowledged late, the next day: no longer overdue, kept as late.
    clock.set("2024-10-04T09:00:00Z");
    l.acknowledge("jmsu.feed", Ack::UpTo(w2.seq), feed_system())
        .unwrap();
    assert!(l.overdue(None).unwrap().is_empty());
    let all = l.deadlines(None).unwrap();
    let states: Vec<(u64, DeadlineState, Option<u64>)> = all
        .iter()
        .map(|d| (d.seq, d.state, d.late_by_secs))
        .collect();
    assert_eq!(
        states,
        [
            (w1.seq, DeadlineState::Acknowledged, None),
            (w2.seq, DeadlineState::AcknowledgedLate, Some(86_400))
        ]
    );
    // Exactly at the deadline is in time.
    let w3 = {
        clock.set("2024-10-05T09:00:00Z");
        l.append(give("770003", "jmsu.data-sharing")).unwrap();
        l.append(NewEvent::withdraw("770003", "jmsu.data-sharing"))
            .unwrap()
    };
    clock.set("2024-10-06T09:00:00Z");
    assert!(l.overdue(None).unwrap().is_empty());
    l.acknowledge("jmsu.feed", Ack::UpTo(w3.seq), feed_system())
        .unwrap();
    let last = l.deadlines(None).unwrap().pop().unwrap();
    assert_eq!(
        (last.seq, last.state),
        (w3.seq, DeadlineState::Acknowledged)
    );
    assert!(l.verify().unwrap().ok);
}

/// A downstream retired (or narrowed) still holds the data of the grants it was shown:
/// it must still hear of their withdrawal and act on it in time (GDPR Art. 19), but
/// it is shown no new grant.
#[test]
fn a_retired_downstream_sees_no_new_grant_but_the_end_of_those_it_got() {
    let (l, clock) = ledger_at("2024-10-01T09:00:00Z");
    l.register_downstream(jmsu_feed(), dpo()).unwrap();
    l.append(give("770001", "jmsu.data-sharing")).unwrap();
    let m1 = l.append(give("770001", "jmsu.marketing")).unwrap();
    let mut wider = jmsu_feed();
    wider.purposes.push("jmsu.marketing".into());
    l.register_downstream(wider, dpo()).unwrap();
    let m2 = l.append(give("770002", "jmsu.marketing")).unwrap();
    let seqs: Vec<u64> = l
        .feed("jmsu.feed", None, 100)
        .unwrap()
        .items
        .iter()
        .map(|i| i.seq)
        .collect();
    assert!(!seqs.contains(&m1.seq), "version 1 did not show marketing");
    assert!(seqs.contains(&m2.seq), "version 2 does");
    let retired = l.retire_downstream("jmsu.feed", dpo()).unwrap();
    // After retirement: a new student's grant is not shown; the withdrawals of grants
    // it was shown are, whichever version showed them; a withdrawal of a grant it was
    // never shown (marketing under version 1) is not.
    let new_grant = l.append(give("770003", "jmsu.data-sharing")).unwrap();
    let w = l
        .append(NewEvent::withdraw("770001", "jmsu.data-sharing"))
        .unwrap();
    let w_unseen = l
        .append(NewEvent::withdraw("770001", "jmsu.marketing"))
        .unwrap();
    let w2 = l
        .append(NewEvent::withdraw("770002", "jmsu.marketing"))
        .unwrap();
    let page = l.feed("jmsu.feed", Some(retired.seq), 100).unwrap();
    let seqs: Vec<u64> = page.items.iter().map(|i| i.seq).collect();
    assert_eq!(seqs, vec![w.seq, w2.seq]);
    assert!(!seqs.contains(&new_grant.seq) && !seqs.contains(&w_unseen.seq));
    // Their deadlines run as for any downstream, and can be met.
    let deadlines = l.deadlines(None).unwrap();
    let tracked: Vec<u64> = deadlines.iter().map(|d| d.seq).collect();
    assert_eq!(tracked, vec![w.seq, w2.seq]);
    l.acknowledge("jmsu.feed", Ack::Event(w.id), feed_system())
        .unwrap();
    assert_eq!(
        l.acknowledge("jmsu.feed", Ack::Event(new_grant.id), feed_system())
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument,
        "a grant after retirement was never in its feed"
    );
    // A student who opted in again after the retirement, and withdrew: the retired
    // feed never received that grant, so it is not told of its end (and gets no
    // deadline that could never be met).
    l.append(give("770001", "jmsu.data-sharing")).unwrap();
    let w_again = l
        .append(NewEvent::withdraw("770001", "jmsu.data-sharing"))
        .unwrap();
    let page = l.feed("jmsu.feed", Some(w_again.seq), 100).unwrap();
    assert!(page.items.is_empty(), "{:?}", page.items);
    clock.set("2024-10-04T09:00:00Z");
    let states: Vec<(u64, DeadlineState)> = l
        .deadlines(None)
        .unwrap()
        .iter()
        .map(|d| (d.seq, d.state))
        .collect();
    assert_eq!(
        states,
        vec![
            (w.seq, DeadlineState::Acknowledged),
            (w2.seq, DeadlineState::Overdue)
        ]
    );
    assert!(l.verify().unwrap().ok);
}

#[test]
fn an_erasure_tells_the_feed_which_of_its_events_to_delete_without_the_subject() {
    let (l, _clock) = ledger_at("2024-10-01T09:00:00Z");
    l.register_downstream(jmsu_feed(), dpo()).unwrap();
    l.register_downstream(nhs_liaison(), dpo()).unwrap();
    let g = l.append(give("770001", "jmsu.data-sharing")).unwrap();
    l.append(give("770001", "mobility.health").explicit(true))
        .unwrap();
    let report = l
        .erase_subject("770001", "retention ended", Actor::staff("dpo-01"))
        .unwrap();
    let page = l.feed("jmsu.feed", None, 100).unwrap();
    assert_eq!(page.items.len(), 2);
    let grant = &page.items[0];
    assert_eq!(
        (grant.seq, grant.subject.as_deref(), grant.erased),
        (g.seq, None, true)
    );
    let erasure = &page.items[1];
    assert_eq!(erasure.kind, EventKind::SubjectErased);
    assert_eq!(erasure.seq, report.seq);
    assert_eq!(
        erasure.erased_seqs,
        [g.seq],
        "only the events of its own feed"
    );
    assert_eq!(
        (erasure.subject.as_deref(), erasure.purpose.as_deref()),
        (None, None)
    );
    // The NHS liaison saw nothing of this subject: no erasure item.
    assert!(l.feed("nhs.liaison", None, 100).unwrap().items.is_empty());
    // A withdrawal recorded after the erasure is still in the feed, blank, with its
    // deadline.
    let w = l
        .append(NewEvent::withdraw("770001", "jmsu.data-sharing"))
        .unwrap();
    let last = l.feed("jmsu.feed", None, 100).unwrap().items.pop().unwrap();
    assert_eq!((last.seq, last.subject, last.erased), (w.seq, None, true));
    assert!(last.effect_deadline.is_some());
    assert_eq!(l.pending(None).unwrap()[0].seq, w.seq);
    // The erasure itself may be acknowledged by id.
    l.acknowledge("jmsu.feed", Ack::Event(report.event_id), feed_system())
        .unwrap();
    assert!(l.verify().unwrap().ok);
}

#[test]
fn follow_waits_boundedly_and_wakes_for_a_new_event() {
    let (l, _clock) = ledger_at("2024-10-01T09:00:00Z");
    let l = Arc::new(l);
    l.register_downstream(jmsu_feed(), dpo()).unwrap();
    let start = std::time::Instant::now();
    let page = l
        .feed_wait("jmsu.feed", None, 10, Duration::from_millis(200))
        .unwrap();
    assert!(page.items.is_empty());
    assert!(start.elapsed() >= Duration::from_millis(200));
    assert!(start.elapsed() < Duration::from_secs(5));
    let writer = {
        let l = Arc::clone(&l);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            // Not in the feed first, then in it.
            l.append(give("770001", "jmsu.marketing")).unwrap();
            l.append(give("770001", "jmsu.data-sharing")).unwrap()
        })
    };
    let page = l
        .feed_wait("jmsu.feed", Some(page.next), 10, Duration::from_secs(30))
        .unwrap();
    let given = writer.join().unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].id, given.id);
}

#[test]
fn acknowledging_while_others_append() {
    let (l, _clock) = ledger_at("2024-10-01T09:00:00Z");
    let l = Arc::new(l);
    l.register_downstream(jmsu_feed(), dpo()).unwrap();
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let l = Arc::clone(&l);
            std::thread::spawn(move || {
                for i in 0..20 {
                    l.append(give(&format!("77{w}{i:03}"), "jmsu.data-sharing"))
                        .unwrap();
                }
            })
        })
        .collect();
    let acker = {
        let l = Arc::clone(&l);
        std::thread::spawn(move || {
            let mut acked = 0;
            while acked < 60 {
                let page = l.feed("jmsu.feed", None, 7).unwrap();
                if let Some(last) = page.items.last() {
                    l.acknowledge("jmsu.feed", Ack::UpTo(last.seq), Actor::system("jmsu-feed"))
                        .unwrap();
                    acked += page.items.len();
                } else {
                    std::thread::yield_now();
                }
            }
            acked
        })
    };
    for w in writers {
        w.join().unwrap();
    }
    assert_eq!(
        acker.join().unwrap(),
        60,
        "every grant acted on exactly once"
    );
    assert!(l.feed("jmsu.feed", None, 100).unwrap().items.is_empty());
    assert!(l.verify().unwrap().ok);
}

/// One random event for the property test.
#[derive(Debug, Clone)]
struct Op {
    subject: usize,
    purpose: usize,
    recipient: Option<usize>,
    /// 0-1: a grant (a refusal on a purpose not resting on consent is not possible:
    /// an objection there), 2: a withdrawal, 3: a refusal.
    act: u8,
}

const PURPOSES: [&str; 4] = [
    "jmsu.data-sharing",
    "jmsu.marketing",
    "wellbeing.share-external",
    "it.my-engagement",
];
const RECIPIENTS: [&str; 3] = ["NHS", "SFE", "landlord"];

fn op() -> impl Strategy<Value = Op> {
    (
        0..5usize,
        0..4usize,
        proptest::option::of(0..3usize),
        0..4u8,
    )
        .prop_map(|(subject, purpose, recipient, act)| Op {
            subject,
            purpose,
            recipient,
            act,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Whatever the log holds, a feed never shows an event of another purpose, or of
    /// another recipient, and shows every event its registration allows.
    #[test]
    fn a_feed_shows_only_opted_in_students_of_its_purposes_and_recipient(
        ops in proptest::collection::vec(op(), 1..40),
        watched in proptest::collection::btree_set(0..4usize, 1..3),
        recipient in proptest::option::of(0..3usize),
    ) {
        let (l, _clock) = ledger_at("2024-10-01T09:00:00Z");
        let purposes: Vec<&str> = watched.iter().map(|&p| PURPOSES[p]).collect();
        // A recipient filter only with the sharing purpose, which lists recipients.
        let recipient = recipient.filter(|_| purposes.contains(&"wellbeing.share-external"));
        let mut def = DownstreamDef::new("d", "D", "LJMU", purposes.clone());
        def.recipient = recipient.map(|r| RECIPIENTS[r].to_string());
        l.register_downstream(def, dpo()).unwrap();
        for o in &ops {
            let purpose = PURPOSES[o.purpose];
            let subject = format!("77{}", o.subject);
            let withdraw = o.act == 2;
            let mut e = if withdraw {
                NewEvent::withdraw(subject.as_str(), purpose)
            } else if purpose == "it.my-engagement" {
                NewEvent::new(EventKind::Objected, subject.as_str(), purpose)
            } else if o.act == 3 {
                NewEvent::new(EventKind::Refused, subject.as_str(), purpose)
                    .notice(NOTICE.0, NOTICE.1)
                    .method(Method::Paper)
            } else {
                give(&subject, purpose)
            };
            if purpose == "wellbeing.share-external" {
                // Answers there must name a recipient; withdrawals may be purpose-wide.
                if let Some(r) = o.recipient.or((!withdraw).then_some(0)) {
                    e = e.recipient(RECIPIENTS[r]);
                }
            }
            l.append(e).unwrap();
        }
        let page = l.feed("d", Some(0), 1000).unwrap();
        let all = l.changes_since(0, 10_000).unwrap();
        // The model: a grant of its purposes and recipient is shown; an event ending
        // consent only after a grant shown of the same subject, purpose and recipient
        // scope; nothing else.
        let admitted = |e: &&Event| {
            purposes.contains(&e.purpose.as_deref().unwrap_or_default())
                && match (&e.recipient, recipient) {
                    (Some(theirs), Some(mine)) => theirs == RECIPIENTS[mine],
                    _ => true,
                }
        };
        let mut grants: Vec<&Event> = Vec::new();
        let mut expected = Vec::new();
        for e in all.iter().filter(admitted) {
            let shown = match e.kind {
                EventKind::Given => {
                    grants.push(e);
                    true
                }
                EventKind::Withdrawn
                | EventKind::Revoked
                | EventKind::Invalidated
                | EventKind::Objected => grants.iter().any(|g| {
                    g.subject == e.subject
                        && g.purpose == e.purpose
                        && (g.recipient.is_none()
                            || e.recipient.is_none()
                            || g.recipient == e.recipient)
                }),
                _ => false,
            };
            if shown {
                expected.push(e.seq);
            }
        }
        let shown: Vec<u64> = page.items.iter().map(|i| i.seq).collect();
        prop_assert_eq!(&shown, &expected);
        // Whoever the feed names opted in, to one of its purposes, by a grant it
        // showed earlier.
        for item in &page.items {
            prop_assert!(page.items.iter().any(|g| g.kind == EventKind::Given
                && g.seq <= item.seq
                && g.subject == item.subject
                && g.purpose == item.purpose));
        }
        // Deadlines only for what the feed shows.
        for d in l.deadlines(None).unwrap() {
            prop_assert!(shown.contains(&d.seq));
        }
        for item in &page.items {
            let p = item.purpose.as_deref().unwrap();
            prop_assert!(purposes.contains(&p));
            if let (Some(mine), Some(theirs)) = (recipient, &item.recipient) {
                prop_assert_eq!(theirs.as_str(), RECIPIENTS[mine]);
            }
        }
    }
}

/// An insider who edits a registration or an acknowledgement in the file (to widen a
/// feed, or to fake that a withdrawal was acted on in time) is named by `verify`.
#[test]
fn verify_names_a_tampered_registration_or_acknowledgement() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let (reg_seq, ack_seq) = {
        let l = Ledger::open(&path).unwrap();
        register_all(&l);
        let d = l.register_downstream(jmsu_feed(), dpo()).unwrap();
        let g = l.append(give("770001", "jmsu.data-sharing")).unwrap();
        for n in 0..20 {
            l.append(give(&format!("78{n:04}"), "jmsu.marketing"))
                .unwrap();
        }
        let a = l
            .acknowledge("jmsu.feed", Ack::UpTo(g.seq), feed_system())
            .unwrap();
        assert!(l.verify().unwrap().ok);
        l.close().unwrap();
        (d.seq, a.seq)
    };
    let copy = dir.path().join("copy.db");
    for (seq, sql) in [
        (
            reg_seq,
            "UPDATE events SET details = replace(details, '\"jmsu.data-sharing\"', '\"jmsu.data-sharing\",\"mobility.health\"') WHERE kind = 'downstream_registered'",
        ),
        (
            ack_seq,
            "UPDATE events SET recorded_at = recorded_at - 1 WHERE kind = 'downstream_acknowledged'",
        ),
    ] {
        std::fs::copy(&path, &copy).unwrap();
        std::fs::copy(key_file(&path), key_file(&copy)).unwrap();
        rusqlite::Connection::open(&copy)
            .unwrap()
            .execute_batch(sql)
            .unwrap();
        let report = Ledger::open(&copy).unwrap().verify().unwrap();
        assert!(!report.ok, "{sql}");
        // A completed block is named by its first seq (docs/FORMAT.md §8).
        let named = report.first_bad_seq.unwrap();
        assert!(named <= seq && seq - named < 16, "{sql}: {report:?}");
    }
}

fn key_file(p: &std::path::Path) -> std::path::PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(".key");
    s.into()
}

/// Loading the registry again never reactivates a downstream retired since: it is
/// skipped, and the load says so.
#[test]
fn loading_the_registry_never_reactivates_a_retired_downstream() {
    let (l, _clock) = ledger_at("2024-10-01T09:00:00Z");
    let text = r#"
[[downstream]]
id = "jmsu.feed"
name = "JMSU live feed"
controller = "JMSU"
purposes = ["jmsu.data-sharing"]
"#;
    let registry = Registry::from_toml_str(text, None).unwrap();
    let first = l.load_registry(&registry).unwrap();
    assert_eq!(first.recorded(), 1);
    let retired = l.retire_downstream("jmsu.feed", dpo()).unwrap();
    let size = l.head().unwrap().size;
    let again = l.load_registry(&registry).unwrap();
    assert_eq!(l.head().unwrap().size, size, "nothing was written");
    let current = l.downstream("jmsu.feed").unwrap();
    assert!(current.def.retired, "still retired");
    assert_eq!(current.version, retired.version);
    let entry = &again.entries[0];
    assert_eq!(entry.kind, RegistryEntryKind::Downstream);
    assert_eq!(
        (entry.new, entry.seq, entry.purpose_version),
        (false, retired.seq, Some(retired.version))
    );
    // The report says so (also in the JSON that C and the CLI see).
    let json = serde_json::to_value(&again).unwrap();
    assert_eq!(json["entries"][0]["note"], "retired, not reactivated");
    let json = serde_json::to_value(&first).unwrap();
    assert!(json["entries"][0].get("note").is_none());
}

/// A definition read from JSON (C, Python) with a misspelt field is refused, not
/// registered without the filter it meant.
#[test]
fn a_definition_with_an_unknown_field_is_refused() {
    let good = r#"{"id": "nhs.liaison", "name": "NHS liaison", "controller": "LJMU",
        "purposes": ["wellbeing.share-external"], "recipient": "NHS"}"#;
    let def: DownstreamDef = serde_json::from_str(good).unwrap();
    assert_eq!(def, nhs_liaison());
    let misspelt = good.replace("\"recipient\"", "\"recipients\"");
    let e = serde_json::from_str::<DownstreamDef>(&misspelt).unwrap_err();
    assert!(e.to_string().contains("recipients"), "{e}");
}

/// `limit` 0 is refused at once, never a wait for nothing.
#[test]
fn a_feed_of_no_items_is_refused() {
    let (l, _clock) = ledger_at("2024-10-01T09:00:00Z");
    l.register_downstream(jmsu_feed(), dpo()).unwrap();
    assert_eq!(
        l.feed("jmsu.feed", None, 0).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    let start = std::time::Instant::now();
    assert_eq!(
        l.feed_wait("jmsu.feed", None, 0, Duration::from_secs(30))
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument
    );
    assert!(start.elapsed() < Duration::from_secs(5));
}

/// A withdrawal signed on 1 October and typed in on 5 October: its legal effect
/// deadline stays 2 October, but the downstream could not act before the ledger knew
/// it. Its own deadline counts from the record time: pending when recorded, in time
/// when acknowledged the same day.
#[test]
fn a_late_entered_withdrawal_counts_from_when_the_ledger_learnt_it() {
    let (l, clock) = ledger_at("2024-09-20T09:00:00Z");
    l.register_downstream(jmsu_feed(), dpo()).unwrap();
    l.append(give("770001", "jmsu.data-sharing")).unwrap();
    l.append(give("770002", "jmsu.data-sharing")).unwrap();
    clock.set("2024-10-05T09:00:00Z");
    let paper = l
        .append(
            NewEvent::withdraw("770001", "jmsu.data-sharing")
                .effective_at(t("2024-10-01T09:00:00Z"))
                .method(Method::Paper),
        )
        .unwrap();
    assert_eq!(paper.effect_deadline, Some(t("2024-10-02T09:00:00Z")));
    let [d] = l.deadlines(None).unwrap().try_into().unwrap();
    assert_eq!(
        (d.seq, d.deadline, d.state),
        (paper.seq, t("2024-10-06T09:00:00Z"), DeadlineState::Pending)
    );
    // The feed item says the same: the legal deadline as recorded, and when to act.
    let item = l
        .feed("jmsu.feed", Some(paper.seq), 1)
        .unwrap()
        .items
        .remove(0);
    assert_eq!(
        (item.seq, item.effect_deadline, item.act_by),
        (paper.seq, Some(t("2024-10-02T09:00:00Z")), Some(d.deadline))
    );
    assert!(l.overdue(None).unwrap().is_empty());
    clock.set("2024-10-05T15:00:00Z");
    l.acknowledge("jmsu.feed", Ack::Event(paper.id), feed_system())
        .unwrap();
    let [d] = l.deadlines(None).unwrap().try_into().unwrap();
    assert_eq!(
        (d.state, d.late_by_secs),
        (DeadlineState::Acknowledged, None)
    );
    // One entered when it was made keeps effective time + delay.
    let prompt = l
        .append(NewEvent::withdraw("770002", "jmsu.data-sharing"))
        .unwrap();
    clock.set("2024-10-06T15:30:00Z");
    let overdue = l.overdue(None).unwrap();
    assert_eq!(overdue.len(), 1);
    assert_eq!(
        (overdue[0].seq, overdue[0].deadline, overdue[0].late_by_secs),
        (prompt.seq, t("2024-10-06T15:00:00Z"), Some(1800))
    );
    assert!(l.verify().unwrap().ok);
}

/// Retiring is never refused, even when the downstream's definition no longer passes
/// the registration rules (its purpose came to list recipients since), and an
/// unchanged definition is never re-judged.
#[test]
fn retiring_is_never_refused() {
    let (l, _clock) = ledger_at("2024-10-01T09:00:00Z");
    let outsider = DownstreamDef::new("ext", "External", "Someone Else", ["jmsu.data-sharing"]);
    l.register_downstream(outsider.clone(), dpo()).unwrap();
    // The purpose now shares with named recipients: a new registration of `ext`
    // without one would be refused ...
    let mut def = l.purpose("jmsu.data-sharing").unwrap().def;
    def.recipients = vec!["JMSU".into()];
    l.register_purpose(def).unwrap();
    let mut other = outsider.clone();
    other.id = "ext2".into();
    assert_eq!(
        l.register_downstream(other, dpo()).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    // ... but `ext` unchanged is what it was, and it can be retired.
    assert_eq!(l.register_downstream(outsider, dpo()).unwrap().version, 1);
    let retired = l.retire_downstream("ext", dpo()).unwrap();
    assert!(retired.def.retired && retired.version == 2);
}
