//! The seeds' scenario from a Rust service: the students'-union opt-in and opt-out (the
//! feed asks about its recipient), an explicit special-category consent and its renewal
//! after a material change, a project consent lapsing at midnight in Liverpool on
//! 31 July, a backdated paper form, a course rep counted from a January course start, a
//! past-time question, a withdrawal from a legitimate-interests purpose recorded as an
//! objection, an erasure (a mistyped id refused), a readmission and a verify. It checks
//! every answer and exits non-zero on a wrong one; `cargo test -p consent-examples`
//! runs it.
//!
//! Run it with `cargo run -p consent-examples --bin rust_scenario [LEDGER_PATH]`.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use consent_core::{
    Actor, Calendar, Error, EventKind, LawfulBasis, Ledger, LedgerOptions, Method, NewEvent,
    NoticeDef, PurposeDef, State, Timestamp, Validity,
};

fn check(what: &str, ok: bool) {
    println!("{} {what}", if ok { "ok  " } else { "FAIL" });
    if !ok {
        std::process::exit(1);
    }
}

fn main() -> Result<(), Error> {
    // The university's calendar: a date is a day in Liverpool, a time without an
    // offset is local there (the ledger keeps Europe/London unless told otherwise).
    let cal = Calendar::default_zone();
    let t = |s: &str| cal.parse(s).expect("a valid time");
    // The story runs through the academic year 2024/25, so the ledger's clock is set
    // by the scenario (a service would use the system clock: `Ledger::open(path)`).
    let clock = Arc::new(AtomicI64::new(t("2024-09-01T10:00").as_millis()));
    let set = |at: &str| clock.store(t(at).as_millis(), Ordering::SeqCst);
    let now = clock.clone();
    let options = LedgerOptions {
        clock: Some(Arc::new(move || {
            Timestamp::from_millis(now.load(Ordering::SeqCst)).expect("in range")
        })),
        time_zone: Some("Europe/London".into()),
        ..LedgerOptions::default()
    };
    let dir = std::env::temp_dir().join(format!("consent-rust-scenario-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = std::env::args()
        .nth(1)
        .map_or_else(|| dir.join("ledger.db"), Into::into);
    let ledger = Ledger::open_with(&path, options)?;
    check(
        "the ledger keeps the university's calendar",
        ledger.time_zone()? == "Europe/London",
    );

    // The registry: purposes of RULES.md and the notices shown, each saying whose it
    // is and which purposes it covers.
    let mut feed = PurposeDef::new(
        "jmsu.data-sharing",
        "Share my record with the students' union",
        "LJMU",
    );
    feed.effect_delay_secs = 24 * 3600;
    feed.withdrawal_method = "Opt out in the My LJMU portal".into();
    feed.recipients = vec!["JMSU".into()];
    ledger.register_purpose(feed)?;
    let mut health = PurposeDef::new(
        "mobility.health",
        "Health information for a mobility programme",
        "LJMU International Relations",
    );
    health.special_category = Some('a');
    health.withdrawal_method = "Email GoAbroad@ljmu.ac.uk".into();
    health.recipients = vec!["partner-university".into()];
    ledger.register_purpose(health.clone())?;
    let mut project = PurposeDef::new("jmsu.project.freshers", "Freshers' tasters project", "JMSU");
    project.validity = Validity::ACADEMIC_YEAR;
    ledger.register_purpose(project)?;
    let mut rep = PurposeDef::new("jmsu.course-rep", "Course representatives", "JMSU");
    rep.validity = Validity::CourseYear;
    ledger.register_purpose(rep)?;
    let mut engagement = PurposeDef::new(
        "engagement.monitoring",
        "My Engagement analytics",
        "LJMU IT Services",
    );
    engagement.lawful_basis = LawfulBasis::LegitimateInterests;
    ledger.register_purpose(engagement)?;
    ledger.register_notice(
        NoticeDef::from_text(
            "jmsu.privacy",
            "2024-09",
            "JMSU privacy notice",
            "JMSU text",
        )
        .covering("JMSU", ["jmsu.*"]),
    )?;
    ledger.register_notice(
        NoticeDef::from_text(
            "ljmu.ir",
            "2024-09",
            "International Relations notice",
            "IR text",
        )
        .covering("LJMU International Relations", ["mobility.*"]),
    )?;
    let kept_head = ledger.head()?;

    // Registration: opt-in to the students' union feed (for the whole purpose).
    set("2024-09-16T11:00");
    let opt_in = NewEvent::give("770001", "jmsu.data-sharing")
        .notice("jmsu.privacy", "2024-09")
        .method(Method::Portal)
        .source_id("it-registration-770001");
    let first = ledger.append(opt_in.clone())?;
    check(
        "a retried registration row is the same event",
        ledger.append(opt_in)?.seq == first.seq,
    );
    check(
        "the feed, asked about JMSU, lists the student",
        ledger
            .consenting("jmsu.data-sharing", Some("JMSU"), None, None)?
            .subjects
            .len()
            == 1,
    );
    check(
        "a feed that does not name its recipient is refused",
        matches!(
            ledger.consenting("jmsu.data-sharing", None, None, None),
            Err(Error::UnknownRecipient { .. })
        ),
    );

    // A paper project form signed 1 October, typed in on 5 October.
    set("2024-10-05T12:00");
    ledger.append(
        NewEvent::give("770001", "jmsu.project.freshers")
            .notice("jmsu.privacy", "2024-09")
            .method(Method::Paper)
            .effective_at(t("2024-10-01"))
            .recorded_by(Actor::staff("jmsu-0042")),
    )?;
    let as_known = ledger.status_at(
        "770001",
        "jmsu.project.freshers",
        None,
        t("2024-10-02"),
        Some(t("2024-10-03")),
    )?;
    check(
        "on 3 October nobody knew of the form",
        as_known.state == State::NeverAsked,
    );
    let as_now = ledger.status_at(
        "770001",
        "jmsu.project.freshers",
        None,
        t("2024-10-02"),
        None,
    )?;
    check(
        "now we know consent was given on 1 October",
        as_now.state == State::Given,
    );

    // Special-category data needs explicit consent, under a notice that covers it.
    set("2025-01-10T15:00");
    let implicit = NewEvent::give("770001", "mobility.health")
        .notice("ljmu.ir", "2024-09")
        .method(Method::WebForm);
    check(
        "a non-explicit health consent is refused",
        ledger.append(implicit.clone()).is_err(),
    );
    check(
        "a grant naming JMSU's notice for LJMU's mobility data is refused",
        ledger
            .append(
                NewEvent::give("770001", "mobility.health")
                    .notice("jmsu.privacy", "2024-09")
                    .method(Method::WebForm)
                    .explicit(true),
            )
            .is_err(),
    );
    ledger.append(implicit.explicit(true))?;
    check(
        "the explicit one is in force for the partner university",
        ledger
            .status("770001", "mobility.health", Some("partner-university"))?
            .permits(),
    );

    // A course rep on a January-start course: a year from the course start.
    set("2025-01-20T10:00");
    let rep = ledger.append(
        NewEvent::give("770005", "jmsu.course-rep")
            .notice("jmsu.privacy", "2024-09")
            .method(Method::WebForm)
            .validity_from(t("2025-01-13")),
    )?;
    check(
        "the course rep's consent lapses at the start of 13 January 2026",
        rep.expires_at == Some(t("2026-01-13")),
    );

    // Opt-out: the feed must honour it within 24 hours; earlier use stays lawful.
    set("2025-03-03T10:00");
    let out =
        ledger.append(NewEvent::withdraw("770001", "jmsu.data-sharing").method(Method::Portal))?;
    check(
        "JMSU must act by the next day",
        out.effect_deadline == Some(t("2025-03-04T10:00")),
    );
    check(
        "the feed drops the student",
        ledger
            .consenting("jmsu.data-sharing", Some("JMSU"), None, None)?
            .subjects
            .is_empty(),
    );
    check(
        "the feed as it could have been extracted that morning still listed them",
        ledger
            .consenting(
                "jmsu.data-sharing",
                Some("JMSU"),
                Some(t("2025-03-03T12:00")),
                Some(t("2025-03-03T09:00")),
            )?
            .subjects
            .len()
            == 1,
    );
    let feb = ledger.status_at(
        "770001",
        "jmsu.data-sharing",
        Some("JMSU"),
        t("2025-02-01"),
        None,
    )?;
    check(
        "sharing on 1 February was lawful",
        feb.state == State::Given,
    );

    // A withdrawal from My Engagement (legitimate interests) is an objection.
    set("2025-03-10T09:00");
    let objection = ledger.append(NewEvent::withdraw("770001", "engagement.monitoring"))?;
    check(
        "the withdrawal is recorded as an objection",
        objection.kind == EventKind::Objected,
    );
    check(
        "the objection stops analytics",
        !ledger
            .status("770001", "engagement.monitoring", None)?
            .permits(),
    );

    // A material change: the purpose gains a recipient; the grant needs renewal.
    set("2025-04-01T10:00");
    health.recipients.push("travel-insurer".into());
    let v2 = ledger.register_purpose(health)?;
    check(
        "a new recipient is a material change",
        v2.material_change == ["recipients"],
    );
    let st = ledger.status("770001", "mobility.health", Some("partner-university"))?;
    check(
        "the grant under version 1 needs renewal",
        st.state == State::NeedsRenewal && st.granted_under_version == Some(1),
    );
    set("2025-04-10T12:00");
    ledger.append(
        NewEvent::give("770001", "mobility.health")
            .notice("ljmu.ir", "2024-09")
            .method(Method::WebForm)
            .explicit(true),
    )?;
    check(
        "a new grant renews it",
        ledger
            .status("770001", "mobility.health", Some("travel-insurer"))?
            .permits(),
    );

    // The project consent lapses at the end of 31 July, in Liverpool: 23:00 UTC.
    set("2025-08-02T10:00");
    let july = ledger.status_at(
        "770001",
        "jmsu.project.freshers",
        None,
        t("2025-07-31T23:30"),
        None,
    )?;
    check("in force at 23:30 on 31 July", july.state == State::Given);
    let august = ledger.status_at(
        "770001",
        "jmsu.project.freshers",
        None,
        t("2025-08-01T00:45"),
        None,
    )?;
    check(
        "lapsed at 00:45 BST on 1 August (still 31 July in UTC)",
        august.state == State::Expired && august.at == Timestamp::parse("2025-07-31T23:45:00Z")?,
    );

    // Six years after leaving: erasure. A mistyped id is refused; a dry run first.
    set("2031-09-01T10:00");
    check(
        "a mistyped id is not erased",
        matches!(
            ledger.erase_subject("77001", "retention period ended", Actor::staff("dpo")),
            Err(Error::NotFound(_))
        ),
    );
    let preview = ledger.erasure_preview("770001")?;
    check(
        "the dry run lists the 6 events to blank",
        preview.events.len() == 6 && !preview.already_erased,
    );
    let erased = ledger.erase_subject("770001", "retention period ended", Actor::staff("dpo"))?;
    check(
        "the personal fields of 6 events were blanked",
        erased.events_erased == 6,
    );
    let regrant = NewEvent::give("770001", "jmsu.data-sharing")
        .recipient("JMSU")
        .notice("jmsu.privacy", "2024-09")
        .method(Method::Portal);
    check(
        "a later grant is refused",
        ledger.append(regrant.clone()).is_err(),
    );
    check(
        "a later withdrawal is recorded",
        ledger
            .append(NewEvent::withdraw("770001", "mobility.health"))
            .is_ok(),
    );

    // The student comes back: readmitted, they may consent again.
    set("2032-09-10T10:00");
    ledger.readmit_subject(
        "770001",
        "re-enrolled for 2032/33",
        Actor::staff("registry-07"),
    )?;
    ledger.append(regrant)?;
    check(
        "after readmission the new grant is in force",
        ledger
            .status("770001", "jmsu.data-sharing", Some("JMSU"))?
            .permits(),
    );

    let report = ledger.verify_against(&kept_head)?;
    check(
        "verify passes and the log extends the head kept in September",
        report.ok,
    );
    println!("head {}", ledger.head()?);
    ledger.close()?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
