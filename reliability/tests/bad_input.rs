//! Bad input: random bytes and strings thrown at every parser and at the append API.
//! Nothing panics; a refusal is a clear error of the right kind; whatever is accepted
//! comes back exactly as given.
//!
//! `CONSENT_SOAK_CASES` (default 256) sets the number of cases per property.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use consent_core::canonical::{parse_hash, personal_digest, CanonicalEvent};
use consent_core::{Actor, ErrorKind, Event, EventKind, Head, Ledger, Method, NewEvent, Timestamp};
use consent_reliability::{count, give, register_all};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

static TRIED: AtomicU64 = AtomicU64::new(0);

fn cases() -> ProptestConfig {
    ProptestConfig {
        cases: count("CONSENT_SOAK_CASES", 256) as u32,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn tried() {
    TRIED.fetch_add(1, Ordering::Relaxed);
}

/// Strings that look a bit like what the parsers expect, and plain garbage.
fn texty() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9a-fA-F:TZ.+ -]{0,80}",
        "[0-9]{1,25}:[0-9a-f]{0,70}",
        "(subject|staff|system)(:.{0,20})?",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,12})?(Z|[+-][0-9]{2}:[0-9]{2}))?",
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

/// An append built from hostile strings: any kind (ledger-only ones too), any ids,
/// notice, source id and evidence. The subject has a distinctive prefix, so that a
/// message quoting it is told apart from a fixed text that happens to contain it
/// (empty ids: see security.rs).
fn hostile_event() -> impl Strategy<Value = NewEvent> {
    (
        texty(),
        prop_oneof![
            Just("jmsu.marketing".to_string()),
            Just("wellbeing.share-external".to_string()),
            texty()
        ],
        proptest::option::of(prop_oneof![Just("NHS".to_string()), texty()]),
        proptest::option::of(texty()),
        proptest::option::of((texty(), texty())),
        proptest::option::of(any::<String>()),
        0usize..EventKind::ALL.len(),
        any::<bool>(),
    )
        .prop_map(
            |(subject, purpose, recipient, source, notice, evidence, kind, explicit)| {
                let mut e = NewEvent::new(EventKind::ALL[kind], format!("ZQ-{subject}"), purpose)
                    .explicit(explicit);
                if kind % 2 == 0 {
                    e = e.method(Method::Portal).notice("jmsu.privacy", "2024-09");
                }
                e.recipient = recipient;
                e.source_id = source;
                if let Some((id, v)) = notice {
                    e = e.notice(id, v);
                }
                e.evidence = evidence.map(|s| serde_json::json!({ "text": s, "nul": "\u{0}" }));
                e
            },
        )
}

fn ledger() -> &'static Ledger {
    static L: OnceLock<Ledger> = OnceLock::new();
    L.get_or_init(|| {
        let l = Ledger::in_memory().unwrap();
        register_all(&l).unwrap();
        l
    })
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn parsers_never_panic(s in texty()) {
        tried();
        if let Ok(t) = Timestamp::parse(&s) {
            // Whatever parses, prints and parses back to itself.
            prop_assert_eq!(Timestamp::parse(&t.to_string()).unwrap(), t);
        } else {
            prop_assert_eq!(Timestamp::parse(&s).unwrap_err().kind(), ErrorKind::InvalidTime);
        }
        match Head::from_str(&s) {
            Ok(h) => prop_assert_eq!(Head::from_str(&h.to_string()).unwrap(), h),
            Err(e) => prop_assert_eq!(e.kind(), ErrorKind::InvalidArgument),
        }
        match Actor::from_str(&s) {
            Ok(a) => prop_assert_eq!(Actor::from_str(&a.to_string()).unwrap(), a),
            Err(e) => prop_assert_eq!(e.kind(), ErrorKind::InvalidArgument),
        }
        match EventKind::from_str(&s) {
            Ok(k) => prop_assert_eq!(k.as_str(), s.as_str()),
            Err(e) => {
                prop_assert_eq!(e.kind(), ErrorKind::InvalidArgument);
                prop_assert!(e.to_string().len() < 400, "error messages stay short");
            }
        }
        if let Ok(m) = Method::from_str(&s) {
            prop_assert_eq!(m.as_str(), s.as_str());
        }
        if let Ok(h) = parse_hash(&s) {
            prop_assert_eq!(hex::encode(h), s.trim().to_ascii_lowercase());
        }
        // Serde entry points the C and Python layers feed with caller JSON.
        let quoted = serde_json::to_string(&s).unwrap();
        let _ = serde_json::from_str::<Timestamp>(&quoted);
        let _ = serde_json::from_str::<Actor>(&quoted);
        let _ = serde_json::from_str::<Head>(&s);
        let _ = serde_json::from_str::<Event>(&s);
        let _ = serde_json::from_str::<consent_core::InclusionProof>(&s);
        let _ = serde_json::from_str::<consent_core::PurposeDef>(&s);
    }

    #[test]
    fn timestamps_from_any_millis(ms in any::<i64>()) {
        tried();
        match Timestamp::from_millis(ms) {
            Ok(t) => {
                prop_assert_eq!(t.as_millis(), ms);
                prop_assert_eq!(Timestamp::parse(&t.to_string()).unwrap(), t);
                let _ = t.saturating_add_millis(ms);
            }
            Err(e) => prop_assert_eq!(e.kind(), ErrorKind::InvalidTime),
        }
    }

    #[test]
    fn canonical_encoding_is_injective(
        a in proptest::collection::vec(proptest::option::of(proptest::collection::vec(any::<u8>(), 0..6)), 9),
        b in proptest::collection::vec(proptest::option::of(proptest::collection::vec(any::<u8>(), 0..6)), 9),
        ints in proptest::collection::vec(any::<i64>(), 4),
    ) {
        tried();
        let text = |v: &Option<Vec<u8>>| v.as_ref().map(|b| String::from_utf8_lossy(b).into_owned());
        let make = |f: &[Option<Vec<u8>>], t: &[Option<String>]| -> Vec<u8> {
            CanonicalEvent {
                version: 2,
                subject_key: f[2].as_deref(),
                source_key: None,
                id: f[0].as_deref().unwrap_or(&[]),
                seq: ints[0],
                kind: t[1].as_deref().unwrap_or(""),
                personal_digest: f[2].as_deref(),
                purpose: t[3].as_deref(),
                purpose_version: Some(ints[1]),
                recipient: t[4].as_deref(),
                notice_id: t[5].as_deref(),
                notice_version: t[6].as_deref(),
                notice_sha256: f[7].as_deref(),
                explicit: ints[2],
                method: None,
                recorded_by: "subject",
                effective_at: ints[3],
                recorded_at: ints[3],
                expires_at: None,
                effect_deadline: None,
                target: None,
                details: t[8].as_deref(),
            }
            .encode()
        };
        let ta: Vec<_> = a.iter().map(text).collect();
        let tb: Vec<_> = b.iter().map(text).collect();
        let ea = make(&a, &ta);
        let eb = make(&b, &tb);
        let same_fields = a[0].as_deref().unwrap_or(&[]) == b[0].as_deref().unwrap_or(&[])
            && ta[1].as_deref().unwrap_or("") == tb[1].as_deref().unwrap_or("")
            && a[2] == b[2] && ta[3] == tb[3] && ta[4] == tb[4] && ta[5] == tb[5] && ta[6] == tb[6] && a[7] == b[7] && ta[8] == tb[8];
        prop_assert_eq!(ea == eb, same_fields);
        // Personal digests separate their fields the same way.
        let da = personal_digest(&[1; 16], ta[3].as_deref(), ta[4].as_deref(), ta[5].as_deref());
        let db = personal_digest(&[1; 16], tb[3].as_deref(), tb[4].as_deref(), tb[5].as_deref());
        prop_assert_eq!(da == db, ta[3] == tb[3] && ta[4] == tb[4] && ta[5] == tb[5]);
    }

    #[test]
    fn hostile_appends_are_refused_clearly_or_kept_intact(e in hostile_event()) {
        tried();
        let l = ledger();
        let NewEvent { subject, purpose, recipient, notice, source_id: source, evidence: ev, .. } = e.clone();
        match l.append(e) {
            Ok(got) => {
                let back = l.event(got.id).unwrap();
                prop_assert_eq!(&back, &got);
                prop_assert_eq!(back.subject.as_deref(), Some(subject.as_str()));
                // A withdrawal naming a recipient its purpose does not list is kept
                // purpose-wide, with the text as written in its details (RULES.md).
                let unlisted = back.details.as_ref().and_then(|d| d.get("unlisted_recipient")).and_then(|v| v.as_str()).map(String::from);
                prop_assert_eq!(back.recipient.or(unlisted), recipient);
                if back.source_id.is_some() { prop_assert_eq!(back.source_id, source); }
                prop_assert_eq!(back.evidence, ev);
            }
            Err(err) => {
                let msg = err.to_string();
                prop_assert!(!msg.is_empty());
                // A refusal never quotes the subject back (it might be personal).
                if !purpose.contains(&subject) && !recipient.as_deref().unwrap_or("").contains(&subject)
                    && !notice.as_ref().is_some_and(|(a, b)| a.contains(&subject) || b.contains(&subject)) {
                    prop_assert!(!msg.contains(&subject), "{} names the subject", msg);
                }
                prop_assert!(!matches!(err.kind(), ErrorKind::Storage | ErrorKind::Corrupt | ErrorKind::Io), "{}", msg);
            }
        }
    }

    #[test]
    fn hostile_queries_never_panic(subject in texty(), purpose in texty(), recipient in proptest::option::of(texty()), at in any::<i64>()) {
        tried();
        let l = ledger();
        let _ = l.status(&subject, &purpose, recipient.as_deref());
        let _ = l.history(&subject);
        let _ = l.export_subject(&subject);
        let _ = l.consenting(&purpose, recipient.as_deref(), None, None);
        if let Ok(t) = Timestamp::from_millis(at) {
            let _ = l.status_at(&subject, "jmsu.marketing", recipient.as_deref(), t, Some(t));
            let _ = l.consenting("jmsu.marketing", None, Some(t), None);
        }
        let _ = l.changes_since(at as u64, 3);
        if let Ok(h) = Head::from_str(&purpose) {
            let _ = l.verify_against(&h);
            let _ = l.prove_consistency(&h, None);
        }
    }
}

/// The ledger that took random appends still verifies. The test makes the appends
/// itself, on a ledger of its own, and checks they are all in the log before it
/// verifies: on the shared ledger, the check could run before the property did.
#[test]
fn random_appends_leave_the_ledger_verifiable() {
    let l = Ledger::in_memory().unwrap();
    register_all(&l).unwrap();
    let registry = l.head().unwrap().size;
    // Distinct ids: a retry with a source id on record is accepted but appends nothing.
    let accepted = RefCell::new(BTreeSet::new());
    let mut runner = TestRunner::new(cases());
    runner
        .run(&hostile_event(), |e| {
            if let Ok(got) = l.append(e) {
                accepted.borrow_mut().insert(got.id);
            }
            Ok(())
        })
        .unwrap();
    let appended = accepted.borrow().len() as u64;
    assert!(
        appended > 0,
        "no random append was accepted (CONSENT_SOAK_CASES too low?)"
    );
    let head = l.head().unwrap();
    assert_eq!(
        head.size,
        registry + appended,
        "every accepted append is in the log"
    );
    let report = l.verify().unwrap();
    assert!(
        report.ok,
        "random appends left the ledger unverifiable: {report:?}"
    );
    assert_eq!(report.size, head.size, "verify checked every event");
    println!("bad input: {appended} random appends accepted, and the ledger verifies");
}

#[test]
fn zz_report_inputs_tried() {
    // Runs after (or alongside) the properties; the figure is printed by each run of
    // the whole file with --test-threads=1 (see RELIABILITY.md).
    let _ = give("x", "y");
    println!(
        "bad input: {} property cases run so far in this process ({} per property)",
        TRIED.load(Ordering::Relaxed),
        count("CONSENT_SOAK_CASES", 256)
    );
}
