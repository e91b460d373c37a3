//! The DPO's report (issue 15): the figures of a known ledger, exactly, and every
//! state count checked against `status_at`, the answer `consent status --at` gives.

mod common;

use common::*;
use consent_core::*;

const MARKETING: &str = "jmsu.marketing";
const PROJECT: &str = "jmsu.project.green-week";
const HEALTH: &str = "mobility.health";
const SHARE: &str = "wellbeing.share-external";

/// One academic year of a small university, Europe/London, on a simulated clock.
fn known_ledger() -> (Ledger, Clock) {
    let (l, clock) = ledger_at("2024-09-01T09:00:00Z");
    let at = |when: &str, e: NewEvent| {
        clock.set(when);
        l.append(e).unwrap();
    };
    at("2024-09-10T10:00:00Z", give("s1", MARKETING));
    at("2024-09-15T10:00:00Z", give("s5", HEALTH).explicit(true));
    at(
        "2024-09-20T10:00:00Z",
        NewEvent::new(EventKind::Refused, "s3", MARKETING)
            .notice(NOTICE.0, NOTICE.1)
            .method(Method::Paper),
    );
    at("2024-10-01T10:00:00Z", give("s7", SHARE).recipient("NHS"));
    at("2024-10-01T11:00:00Z", give("s8", SHARE));
    at("2024-10-02T10:00:00Z", give("s2", MARKETING));
    at("2024-10-15T10:00:00Z", give("s4", PROJECT));
    at("2024-11-05T10:00:00Z", NewEvent::withdraw("s1", MARKETING));
    at("2024-12-01T10:00:00Z", give("s6", HEALTH).explicit(true));
    at(
        "2024-12-01T11:00:00Z",
        NewEvent::withdraw("s8", SHARE).recipient("SFE"),
    );
    at("2025-01-10T10:00:00Z", NewEvent::withdraw("s5", HEALTH));
    // A material change: grants given before it need renewal.
    clock.set("2025-02-01T10:00:00Z");
    let mut changed = l.purpose(MARKETING).unwrap().def;
    changed.renew_consent = true;
    changed.title = "JMSU marketing, with partners".into();
    l.register_purpose(changed).unwrap();
    at("2025-03-01T10:00:00Z", give("s9", MARKETING));
    clock.set("2025-04-01T10:00:00Z");
    l.erase_subject("s3", "left in 2019", Actor::staff("dpo"))
        .unwrap();
    clock.set("2025-09-15T10:00:00Z");
    (l, clock)
}

fn range() -> ReportRange {
    let cal = Calendar::new("Europe/London").unwrap();
    ReportRange {
        from: Some(cal.parse("2024-09-01").unwrap()),
        to: Some(cal.parse("2025-09-01").unwrap()),
    }
}

fn series<'r>(r: &'r Report, purpose: &str, recipient: Option<&str>) -> &'r PurposeStates {
    r.states
        .iter()
        .find(|s| s.purpose == purpose && s.recipient.as_deref() == recipient)
        .unwrap_or_else(|| panic!("no series for {purpose} {recipient:?}"))
}

fn column(s: &PurposeStates, state: State) -> Vec<u64> {
    s.counts.iter().map(|c| c.get(state)).collect()
}

#[test]
fn the_figures_of_a_known_ledger() {
    let (l, _clock) = known_ledger();
    let r = l.report(range()).unwrap();
    assert_eq!(r.time_zone, "Europe/London");
    assert_eq!(r.step, Step::Month);
    let labels: Vec<&str> = r.periods.iter().map(|p| p.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "2024-09", "2024-10", "2024-11", "2024-12", "2025-01", "2025-02", "2025-03", "2025-04",
            "2025-05", "2025-06", "2025-07", "2025-08"
        ]
    );
    // The end of July is midnight in London: 23:00 UTC.
    assert_eq!(r.periods[10].sample_at, t("2025-07-31T22:59:59.999Z"));

    // Consent purposes only (not it.my-engagement), a series per listed recipient.
    let names: Vec<String> = r
        .states
        .iter()
        .map(|s| {
            format!(
                "{}{}",
                s.purpose,
                s.recipient
                    .as_deref()
                    .map(|r| format!(" → {r}"))
                    .unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            "jmsu.data-sharing",
            "jmsu.marketing",
            "jmsu.project.green-week",
            "mobility.health",
            "wellbeing.share-external → NHS",
            "wellbeing.share-external → SFE",
            "wellbeing.share-external → landlord"
        ]
    );

    // Marketing: s1 withdrew in November; s2's grant needs renewal after the material
    // change of February; s9 consented under the new version; s3 (refused) was erased,
    // so no event names them any more.
    let m = series(&r, MARKETING, None);
    assert_eq!(m.subjects, 3);
    assert_eq!(m.title, "JMSU marketing, with partners");
    assert_eq!(
        column(m, State::Given),
        [1, 2, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1]
    );
    assert_eq!(
        column(m, State::Withdrawn),
        [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    );
    assert_eq!(
        column(m, State::NeedsRenewal),
        [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1]
    );
    assert_eq!(column(m, State::Refused), [0; 12]);
    assert_eq!(
        column(m, State::NeverAsked),
        [2, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    );

    // The project consent lapses at the end of the academic year.
    let p = series(&r, PROJECT, None);
    assert_eq!(
        column(p, State::Given),
        [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]
    );
    assert_eq!(
        column(p, State::Expired),
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    );

    let h = series(&r, HEALTH, None);
    assert_eq!(h.special_category, Some('a'));
    assert_eq!(
        column(h, State::Given),
        [1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1]
    );
    assert_eq!(
        column(h, State::Withdrawn),
        [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]
    );

    // A purpose-wide grant counts for every recipient; a withdrawal naming one only there.
    let nhs = series(&r, SHARE, Some("NHS"));
    assert_eq!(
        column(nhs, State::Given),
        [0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]
    );
    let sfe = series(&r, SHARE, Some("SFE"));
    assert_eq!(
        column(sfe, State::Given),
        [0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    );
    assert_eq!(
        column(sfe, State::Withdrawn),
        [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    );
    let landlord = series(&r, SHARE, Some("landlord"));
    assert_eq!(column(landlord, State::Given)[11], 1);
    assert_eq!(series(&r, "jmsu.data-sharing", None).subjects, 0);

    // What happened each month, erased subjects' events included.
    let given: Vec<u64> = r.activity.iter().map(|a| a.given).collect();
    let withdrawn: Vec<u64> = r.activity.iter().map(|a| a.withdrawn).collect();
    let erased: Vec<u64> = r.activity.iter().map(|a| a.erased).collect();
    assert_eq!(given, [2, 4, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0]);
    assert_eq!(withdrawn, [0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(erased, [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
    assert_eq!(r.activity[0].refused, 1);
    assert_eq!(
        (
            r.totals.given,
            r.totals.withdrawn,
            r.totals.refused,
            r.totals.erased
        ),
        (8, 3, 1, 1)
    );
    assert_eq!(r.erasures_ever, 1);

    assert_eq!(
        r.special_category,
        [SpecialCategory {
            purpose: HEALTH.into(),
            title: "Health data for mobility".into(),
            controller: "LJMU".into(),
            condition: 'a',
            in_force: vec![1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1],
            in_force_at_end: 1,
            grants: 2,
            explicit_grants: 2,
            withdrawals: 1,
        }]
    );

    assert!(r.verification.ok, "{:?}", r.verification);
    assert_eq!(r.verification.head, Some(r.head));
    assert!(r.simulated);
    assert_eq!(r.checkpoint, None);
    assert!(r.downstream.is_empty());
}

/// Every count is the sum of `status_at`'s answers for the subjects the purpose has
/// events about, at the sample moment, as known when the report was made.
#[test]
fn every_state_count_is_what_status_at_answers() {
    let (l, _clock) = known_ledger();
    let r = l.report(range()).unwrap();
    let subjects = ["s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9"];
    for s in &r.states {
        for (period, counts) in r.periods.iter().zip(&s.counts) {
            let mut expected = StateCounts::default();
            for subject in subjects {
                let named = l
                    .history(subject)
                    .unwrap()
                    .iter()
                    .any(|e| e.purpose.as_deref() == Some(&s.purpose) && !e.erased);
                if !named {
                    continue;
                }
                let st = l
                    .status_at(
                        subject,
                        &s.purpose,
                        s.recipient.as_deref(),
                        period.sample_at,
                        Some(r.generated_at),
                    )
                    .unwrap();
                expected.add(st.state);
            }
            assert_eq!(
                *counts, expected,
                "{} {:?} at {}",
                s.purpose, s.recipient, period.label
            );
        }
    }
}

#[test]
fn the_latest_checkpoint_and_a_default_range() {
    let (l, _clock) = known_ledger();
    let key = consent_note::SigningKey::from_seed(
        "ljmu.ac.uk/consent",
        consent_note::SignatureType::Ed25519,
        &[7; 32],
    )
    .unwrap();
    let signed = l.sign_checkpoint(&key).unwrap();
    let r = l.report(ReportRange::default()).unwrap();
    let cp = r.checkpoint.expect("a checkpoint");
    assert_eq!(cp.origin, "ljmu.ac.uk/consent");
    assert_eq!(cp.head, signed.head());
    assert_eq!((cp.signatures, cp.held), (1, true));
    // From the month of the first event to now (15 September 2025).
    assert_eq!(r.periods.first().unwrap().label, "2024-09");
    assert_eq!(r.periods.last().unwrap().label, "2025-09");
    assert_eq!(r.to, t("2025-09-15T10:00:00.001Z"));
    assert_eq!(r.periods.last().unwrap().sample_at, r.generated_at);
    // The JSON form carries the same figures.
    let json = serde_json::to_value(l.report(range()).unwrap()).unwrap();
    assert_eq!(json["states"][1]["counts"][1]["given"], 2);
    assert_eq!(json["periods"][0]["sample_at"], "2024-09-30T22:59:59.999Z");
    assert_eq!(json["step"], "month");
}

#[test]
fn an_empty_range_is_refused() {
    let (l, _clock) = known_ledger();
    let when = t("2025-01-01T00:00:00Z");
    let e = l
        .report(ReportRange {
            from: Some(when),
            to: Some(when),
        })
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
}

/// The report's downstream section is the ledger's own deadlines: an opt-out the JMSU
/// feed never acknowledged is overdue, one it acknowledged a day late is kept as late,
/// and both are in the figures.
#[test]
fn downstream_deadlines_overdue_and_acknowledged_late() {
    let (l, clock) = ledger_at("2024-09-01T09:00:00Z");
    l.register_downstream(
        DownstreamDef::new("jmsu.feed", "JMSU feed", "JMSU", ["jmsu.data-sharing"]),
        Actor::staff("dpo"),
    )
    .unwrap();
    let at = |when: &str, e: NewEvent| {
        clock.set(when);
        l.append(e).unwrap()
    };
    let share = |s: &str| give(s, "jmsu.data-sharing");
    at("2024-10-01T10:00:00Z", share("s1"));
    at("2024-10-01T10:00:00Z", share("s2"));
    let late = at(
        "2024-11-01T10:00:00Z",
        NewEvent::withdraw("s1", "jmsu.data-sharing"),
    );
    clock.set("2024-11-03T10:00:00Z");
    l.acknowledge("jmsu.feed", Ack::Event(late.id), Actor::system("jmsu-feed"))
        .unwrap();
    let open = at(
        "2024-12-01T10:00:00Z",
        NewEvent::withdraw("s2", "jmsu.data-sharing"),
    );
    clock.set("2025-01-15T10:00:00Z");
    let r = l.report(range()).unwrap();
    let states: Vec<(u64, DeadlineState)> = r
        .downstream
        .iter()
        .map(|d| (d.event_seq, d.state))
        .collect();
    assert_eq!(
        states,
        [
            (late.seq, DeadlineState::AcknowledgedLate),
            (open.seq, DeadlineState::Overdue)
        ]
    );
    assert_eq!(r.downstream[0].late_by_secs, Some(86_400));
    assert!(r.downstream[1].overdue && r.downstream[1].acknowledged_at.is_none());
    // The same as the ledger's own answer.
    assert_eq!(l.overdue(None).unwrap().len(), 1);
}
