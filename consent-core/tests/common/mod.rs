//! Shared test fixtures: a ledger with a clock the test moves by hand, and the
//! purposes and notices of the LJMU / JMSU notices.
#![allow(dead_code)]

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use consent_core::*;

pub mod receipts;

/// A clock the test sets.
#[derive(Clone)]
pub struct Clock(Arc<AtomicI64>);

impl Clock {
    pub fn new(at: &str) -> Self {
        Clock(Arc::new(AtomicI64::new(t(at).as_millis())))
    }
    pub fn set(&self, at: &str) {
        self.0.store(t(at).as_millis(), Ordering::SeqCst);
    }
    pub fn options(&self) -> LedgerOptions {
        let c = self.0.clone();
        LedgerOptions {
            clock: Some(Arc::new(move || {
                Timestamp::from_millis(c.load(Ordering::SeqCst)).unwrap()
            })),
            ..LedgerOptions::default()
        }
    }
}

pub fn t(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

pub const NOTICE: (&str, &str) = ("jmsu.privacy", "2024-09");
pub const MOBILITY_NOTICE: (&str, &str) = ("ljmu.international", "2024-01");

pub fn register_all(l: &Ledger) {
    let mut sharing = PurposeDef::new("jmsu.data-sharing", "Share student data with JMSU", "LJMU");
    sharing.effect_delay_secs = 86_400;
    sharing.withdrawal_method = "My LJMU portal".into();
    l.register_purpose(sharing).unwrap();
    let marketing = PurposeDef::new("jmsu.marketing", "JMSU marketing", "JMSU");
    l.register_purpose(marketing).unwrap();
    let mut project = PurposeDef::new("jmsu.project.green-week", "Green Week project", "JMSU");
    project.validity = Validity::ACADEMIC_YEAR;
    l.register_purpose(project).unwrap();
    let mut health = PurposeDef::new("mobility.health", "Health data for mobility", "LJMU");
    health.special_category = Some('a');
    health.withdrawal_method = "email GoAbroad@ljmu.ac.uk".into();
    l.register_purpose(health).unwrap();
    let mut share = PurposeDef::new(
        "wellbeing.share-external",
        "Share with external bodies",
        "LJMU",
    );
    share.recipients = vec!["NHS".into(), "SFE".into(), "landlord".into()];
    l.register_purpose(share).unwrap();
    let mut engagement = PurposeDef::new("it.my-engagement", "My Engagement analytics", "LJMU");
    engagement.lawful_basis = LawfulBasis::LegitimateInterests;
    l.register_purpose(engagement).unwrap();
    // Test notices: the first stands for every notice but International Relations'.
    l.register_notice(
        NoticeDef::from_text(
            NOTICE.0,
            NOTICE.1,
            "JMSU privacy notice",
            "text of the JMSU notice",
        )
        .covering("JMSU", ["jmsu.*", "wellbeing.*", "it.*"]),
    )
    .unwrap();
    l.register_notice(
        NoticeDef::from_text(
            MOBILITY_NOTICE.0,
            MOBILITY_NOTICE.1,
            "International Relations privacy notice",
            "text of the mobility notice",
        )
        .covering("LJMU International Relations", ["mobility.*"]),
    )
    .unwrap();
}

/// A grant through the portal, naming the test notice that covers the purpose.
pub fn give(subject: &str, purpose: &str) -> NewEvent {
    let notice = if purpose.starts_with("mobility.") {
        MOBILITY_NOTICE
    } else {
        NOTICE
    };
    NewEvent::give(subject, purpose)
        .notice(notice.0, notice.1)
        .method(Method::Portal)
}

pub fn ledger_at(at: &str) -> (Ledger, Clock) {
    let clock = Clock::new(at);
    let l = new_ledger(clock.options());
    register_all(&l);
    (l, clock)
}

/// A new, empty ledger on the backend the suite runs on: in memory, or with
/// `CONSENT_TEST_BACKEND=postgres` in a schema of its own on the server
/// `CONSENT_TEST_PG_URL` names (the same tests, either backend).
pub fn new_ledger(mut options: LedgerOptions) -> Ledger {
    match pg_location() {
        Some(at) => {
            options.pseudonym_key = KeySource::Bytes([0x5e; 32]);
            Ledger::open_with(at, options).unwrap()
        }
        None => Ledger::in_memory_with(options).unwrap(),
    }
}

/// A fresh schema's URL when the suite runs on PostgreSQL.
pub fn pg_location() -> Option<String> {
    if std::env::var("CONSENT_TEST_BACKEND").ok()? != "postgres" {
        return None;
    }
    Some(fresh_pg_schema(
        &std::env::var("CONSENT_TEST_PG_URL")
            .expect("CONSENT_TEST_BACKEND=postgres needs CONSENT_TEST_PG_URL"),
    ))
}

/// `url` naming a schema no other test uses (`consent_test_<pid>_<n>`).
pub fn fresh_pg_schema(url: &str) -> String {
    static NEXT: AtomicI64 = AtomicI64::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}schema=consent_test_{}_{n}", std::process::id())
}
