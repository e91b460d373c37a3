//! The seeds' scenario from a Rust service: the students'-union opt-in and opt-out, an
//! explicit special-category consent, a project consent lapsing on 31 July, a
//! backdated paper form, a past-time question, an erasure and a verify. It checks every
//! answer and exits non-zero on a wrong one; `cargo test -p consent-examples` runs it.
//!
//! Run it with `cargo run -p consent-examples --bin rust_scenario [LEDGER_PATH]`.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use consent_core::{
    Actor, Error, EventKind, LawfulBasis, Ledger, LedgerOptions, Method, NewEvent, NoticeDef,
    PurposeDef, State, Timestamp, Validity,
};

fn t(s: &str) -> Timestamp {
    Timestamp::parse(s).expect("a valid time")
}

fn check(what: &str, ok: bool) {
    println!("{} {what}", if ok { "ok  " } else { "FAIL" });
    if !ok {
        std::process::exit(1);
    }
}

fn main() -> Result<(), Error> {
    // The story runs through the academic year 2024/25, so the ledger's clock is set
    // by the scenario (a service would use the system clock: `Ledger::open(path)`).
    let clock = Arc::new(AtomicI64::new(t("2024-09-01T09:00:00Z").as_millis()));
    let set = |at: &str| clock.store(t(at).as_millis(), Ordering::SeqCst);
    let now = clock.clone();
    let options = LedgerOptions {
        clock: Some(Arc::new(move || {
            Timestamp::from_millis(now.load(Ordering::SeqCst)).expect("in range")
        })),
        ..LedgerOptions::default()
    };
    let dir = std::env::temp_dir().join(format!("consent-rust-scenario-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = std::env::args()
        .nth(1)
        .map_or_else(|| dir.join("ledger.db"), Into::into);
    let ledger = Ledger::open_with(&path, options)?;

    // The registry: purposes of DOMAIN.md and the notices shown.
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
        "LJMU",
    );
    health.special_category = Some('a');
    health.withdrawal_method = "Email GoAbroad@ljmu.ac.uk".into();
    ledger.register_purpose(health)?;
    let mut project = PurposeDef::new("jmsu.project.freshers", "Freshers' tasters project", "JMSU");
    project.validity = Validity::ACADEMIC_YEAR;
    ledger.register_purpose(project)?;
    let mut engagement =
        PurposeDef::new("engagement.monitoring", "My Engagement analytics", "LJMU");
    engagement.lawful_basis = LawfulBasis::LegitimateInterests;
    ledger.register_purpose(engagement)?;
    ledger.register_notice(NoticeDef::from_text(
        "jmsu.privacy",
        "2024-09",
        "JMSU privacy notice",
        "JMSU text",
    ))?;
    ledger.register_notice(NoticeDef::from_text(
        "ljmu.ir",
        "2024-09",
        "International Relations notice",
        "IR text",
    ))?;
    let kept_head = ledger.head()?;

    // Registration: opt-in to the students' union feed.
    set("2024-09-16T10:00:00Z");
    let opt_in = NewEvent::give("770001", "jmsu.data-sharing")
        .recipient("JMSU")
        .notice("jmsu.privacy", "2024-09")
        .method(Method::Portal)
        .source_id("it-registration-770001");
    ledger.append(opt_in.clone())?;
    check(
        "a retried registration row is the same event",
        ledger.append(opt_in)?.seq == 7,
    );
    check(
        "the feed lists the student",
        ledger
            .consenting("jmsu.data-sharing", Some("JMSU"), None)?
            .subjects
            .len()
            == 1,
    );

    // A paper project form signed 1 October, typed in on 5 October.
    set("2024-10-05T11:00:00Z");
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

    // Special-category data needs explicit consent.
    set("2025-01-10T15:00:00Z");
    let implicit = NewEvent::give("770001", "mobility.health")
        .notice("ljmu.ir", "2024-09")
        .method(Method::WebForm);
    check(
        "a non-explicit health consent is refused",
        ledger.append(implicit.clone()).is_err(),
    );
    ledger.append(implicit.explicit(true))?;
    check(
        "the explicit one is in force",
        ledger.status("770001", "mobility.health", None)?.permits(),
    );

    // Opt-out: the feed must honour it within 24 hours; earlier use stays lawful.
    set("2025-03-03T10:00:00Z");
    let out =
        ledger.append(NewEvent::withdraw("770001", "jmsu.data-sharing").method(Method::Portal))?;
    check(
        "JMSU must act by the next day",
        out.effect_deadline == Some(t("2025-03-04T10:00:00Z")),
    );
    check(
        "the feed drops the student",
        ledger
            .consenting("jmsu.data-sharing", Some("JMSU"), None)?
            .subjects
            .is_empty(),
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

    // The project consent lapses at the end of 31 July.
    set("2025-08-02T09:00:00Z");
    let july = ledger.status_at(
        "770001",
        "jmsu.project.freshers",
        None,
        t("2025-07-31T12:00:00Z"),
        None,
    )?;
    check("in force on 31 July", july.state == State::Given);
    check(
        "expired on 1 August",
        ledger
            .status("770001", "jmsu.project.freshers", None)?
            .state
            == State::Expired,
    );

    // An objection to legitimate-interests processing.
    ledger.append(NewEvent::new(
        EventKind::Objected,
        "770001",
        "engagement.monitoring",
    ))?;
    check(
        "the objection stops analytics",
        !ledger
            .status("770001", "engagement.monitoring", None)?
            .permits(),
    );

    // Six years after leaving: erasure. Every hash still verifies.
    set("2031-09-01T09:00:00Z");
    let erased = ledger.erase_subject("770001", "retention period ended", Actor::staff("dpo"))?;
    check(
        "the personal fields of 5 events were blanked",
        erased.events_erased == 5,
    );
    check(
        "a later grant is refused",
        ledger
            .append(
                NewEvent::give("770001", "jmsu.data-sharing")
                    .recipient("JMSU")
                    .notice("jmsu.privacy", "2024-09")
                    .method(Method::Portal),
            )
            .is_err(),
    );
    check(
        "a later withdrawal is recorded",
        ledger
            .append(NewEvent::withdraw("770001", "mobility.health"))
            .is_ok(),
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
