//! Ledgers written by earlier versions open under this one with every leaf hash, every
//! root and every answer unchanged.
//!
//! Each fixture in `tests/fixtures/` is a ledger file written by an earlier build
//! (`README.md` there says which), with its key file and the head it had. The
//! `*.answers.json` files were written by the build that wrote the ledger — never
//! regenerate them with a later build, or the test would compare the code with itself.

use std::path::{Path, PathBuf};

use consent_core::*;
use serde_json::{json, Value};

/// Where the fixtures are committed.
fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The recipients a purpose is asked about: each one it lists, or none.
fn recipients_of(p: &Purpose) -> Vec<Option<&str>> {
    if p.def.recipients.is_empty() {
        vec![None]
    } else {
        p.def.recipients.iter().map(|r| Some(r.as_str())).collect()
    }
}

/// A fixture copied into a fresh folder (the library writes beside a ledger: lock,
/// WAL), with its key file when it has one.
fn fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let src = fixtures_dir();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{name}.db"));
    std::fs::copy(src.join(format!("{name}.db")), &path).unwrap();
    let key = src.join(format!("{name}.db.key"));
    if key.exists() {
        std::fs::copy(key, default_key_path(&path)).unwrap();
    }
    (dir, path)
}

fn old_head(name: &str) -> Head {
    let src = fixtures_dir();
    std::fs::read_to_string(src.join(format!("{name}.head")))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Instants the answers are asked at: the academic years of the demo and beyond.
const INSTANTS: &[&str] = &[
    "2024-09-01T12:00:00Z",
    "2024-10-01T12:00:00Z",
    "2025-03-01T12:00:00Z",
    "2025-08-01T12:00:00Z",
    "2025-10-01T12:00:00Z",
    "2025-12-01T12:00:00Z",
    "2026-09-01T12:00:00Z",
    "2031-09-02T12:00:00Z",
    "2033-01-01T12:00:00Z",
];

/// Every answer the ledger gives about every subject it knows, at every instant of
/// [`INSTANTS`], as known then and as known at the end: statuses, consenting lists,
/// histories and the registry. Independent of the clock (every question names its
/// times), so a later build must give exactly the same.
fn answers(l: &Ledger, subjects: &[String]) -> Value {
    let t = |s: &str| Timestamp::parse(s).unwrap();
    let end = t("2040-01-01T00:00:00Z");
    let purposes = l.purposes().unwrap();
    let mut statuses = Vec::new();
    let mut consenting = Vec::new();
    for p in &purposes {
        let recipients = recipients_of(p);
        for r in &recipients {
            for at in INSTANTS {
                for known in [t(at), end] {
                    for s in subjects {
                        let st = l.status_at(s, &p.def.id, *r, t(at), Some(known)).unwrap();
                        // The parts of an answer a reader acts on, compactly.
                        statuses.push(json!([
                            s,
                            p.def.id,
                            r,
                            at,
                            known.as_millis(),
                            st.state,
                            st.event_seq,
                            st.since,
                            st.until,
                            st.purpose_version,
                            st.granted_under_version,
                            st.notice.map(|n| (n.id, n.version)),
                            st.effect_deadline
                        ]));
                    }
                    let c = l
                        .consenting(&p.def.id, *r, Some(t(at)), Some(known))
                        .unwrap();
                    let who: Vec<_> = c
                        .subjects
                        .iter()
                        .map(|c| (&c.subject, c.event_id, c.since, c.until))
                        .collect();
                    consenting.push(json!([p.def.id, r, at, known.as_millis(), who]));
                }
            }
        }
    }
    let histories: Vec<Value> = subjects
        .iter()
        .map(|s| {
            let events: Vec<_> = l
                .history(s)
                .unwrap()
                .into_iter()
                .map(|e| (e.seq, e.kind, e.erased, e.subject, e.source_id))
                .collect();
            json!([s, events])
        })
        .collect();
    json!({
        "purposes": purposes,
        "notices": l.notices().unwrap(),
        "statuses": statuses,
        "consenting": consenting,
        "histories": histories,
    })
}

/// The subject ids a fixture's answers cover: every id still in the log, plus the ids
/// its scenario erased (listed in the answers file, since the log no longer holds them).
fn subjects_of(l: &Ledger, erased: &[String]) -> Vec<String> {
    let mut out: Vec<String> = l
        .changes_since(0, usize::MAX)
        .unwrap()
        .into_iter()
        .filter_map(|e| e.subject)
        .chain(erased.iter().cloned())
        .collect();
    out.sort();
    out.dedup();
    out
}

fn answers_path(name: &str) -> PathBuf {
    fixtures_dir().join(format!("{name}.answers.json"))
}

/// Opens fixture `name` (migrating it if it is older), then holds it to what the build
/// that wrote it answered.
fn check_fixture(name: &str) {
    let (_dir, path) = fixture(name);
    let old = old_head(name);
    // The fixture really is of an older schema (not regenerated by this build).
    let version: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(version < SCHEMA_VERSION, "{name} is of schema {version}");
    let l = Ledger::open(&path).unwrap();
    let head = l.head().unwrap();
    if name.starts_with("v1-") {
        // Schema 1 to 2 appended the `ledger_configured` event; every later step
        // keeps the head as it is.
        assert_eq!(head.size, old.size + 1, "{name}");
    } else {
        // Every leaf and every root unchanged: the same head, not only a consistent one.
        assert_eq!(head, old, "{name}: the head changed");
    }
    let r = l.verify().unwrap();
    assert!(r.ok, "{name}: {r:?}");
    assert!(l.verify_against(&old).unwrap().ok);
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(answers_path(name)).unwrap()).unwrap();
    let erased: Vec<String> = serde_json::from_value(expected["erased_ids"].clone()).unwrap();
    let mut got = answers(&l, &subjects_of(&l, &erased));
    got["erased_ids"] = expected["erased_ids"].clone();
    for part in ["purposes", "notices", "statuses", "consenting", "histories"] {
        assert!(
            got[part] == expected[part],
            "{name}: the answers in `{part}` changed"
        );
    }
    // The materialized state the migration kept answers "now" as the events do.
    let now = l.now().unwrap();
    for p in l.purposes().unwrap() {
        let recipients = recipients_of(&p);
        for r in recipients {
            for s in subjects_of(&l, &erased) {
                let fast = l.status(&s, &p.def.id, r).unwrap();
                let slow = l.status_at(&s, &p.def.id, r, now, Some(now)).unwrap();
                assert_eq!(
                    (fast.state, fast.event_seq, fast.since, fast.until),
                    (slow.state, slow.event_seq, slow.since, slow.until),
                    "{name}: {s} {} {r:?}",
                    p.def.id
                );
            }
            let fast = l.consenting(&p.def.id, r, None, None).unwrap();
            let slow = l.consenting(&p.def.id, r, Some(now), Some(now)).unwrap();
            assert_eq!(fast.subjects, slow.subjects, "{name}: {} {r:?}", p.def.id);
        }
    }
    // The migrated file goes on working: appends, an erasure, a reopening.
    l.append(NewEvent::withdraw("770001", "jmsu.marketing"))
        .unwrap();
    l.erase_subject("770003", "retention period ended", Actor::staff("dpo-01"))
        .unwrap();
    assert_eq!(
        l.status("770003", "jmsu.marketing", None).unwrap().state,
        State::Erased
    );
    l.close().unwrap();
    let l = Ledger::open(&path).unwrap();
    let r = l.verify().unwrap();
    assert!(r.ok, "{name} after more writes: {r:?}");
    assert!(l.verify_against(&old).unwrap().ok);
}

#[test]
fn a_ledger_written_by_0_1_0_keeps_its_heads_and_answers() {
    check_fixture("v1-demo");
}

#[test]
fn a_ledger_written_by_the_legal_answers_build_keeps_its_heads_and_answers() {
    check_fixture("v2-demo");
}

#[test]
fn a_ledger_written_by_the_integrity_build_keeps_its_heads_and_answers() {
    check_fixture("v2-integrity-demo");
}

/// Writes `<name>.answers.json` from the current build: run only with the build that
/// wrote the fixture (`CONSENT_FIXTURE=v2-demo cargo test --test migrations -- --ignored`).
#[test]
#[ignore]
fn write_answers() {
    let name = std::env::var("CONSENT_FIXTURE").expect("CONSENT_FIXTURE=<fixture name>");
    let erased: Vec<String> = std::env::var("CONSENT_FIXTURE_ERASED")
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(Into::into)
        .collect();
    let (_dir, path) = fixture(&name);
    let l = Ledger::open(&path).unwrap();
    let mut a = answers(&l, &subjects_of(&l, &erased));
    a["erased_ids"] = json!(erased);
    std::fs::write(answers_path(&name), serde_json::to_string(&a).unwrap()).unwrap();
}

#[test]
fn a_rich_ledger_of_the_legal_answers_build_keeps_its_heads_and_answers() {
    check_fixture("v2-rich");
}

/// Writes `v2-rich.db` (and its key and head): a deterministic scenario that uses every
/// kind of subject event, recipients, future-dated and backdated events, idempotency
/// keys and evidence, expiry, a material change, erasures, a readmission and events for
/// erased subjects. Run only with the build the fixture is meant to come from
/// (`CONSENT_WRITE_RICH=1 cargo test --test migrations -- --ignored write_rich`), then
/// `write_answers` with `CONSENT_FIXTURE=v2-rich`.
#[test]
#[ignore]
fn write_rich_fixture() {
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::sync::Arc;
    assert_eq!(std::env::var("CONSENT_WRITE_RICH").as_deref(), Ok("1"));
    let src = fixtures_dir();
    let path = src.join("v2-rich.db");
    for p in [path.clone(), default_key_path(&path)] {
        let _ = std::fs::remove_file(p);
    }
    let t = |s: &str| Timestamp::parse(s).unwrap();
    let clock = Arc::new(AtomicI64::new(t("2024-09-01T09:00:00Z").as_millis()));
    let c = clock.clone();
    let options = LedgerOptions {
        clock: Some(Arc::new(move || {
            Timestamp::from_millis(c.load(Ordering::SeqCst)).unwrap()
        })),
        ..LedgerOptions::default()
    };
    let l = Ledger::open_with(&path, options).unwrap();
    let mut marketing = PurposeDef::new("jmsu.marketing", "JMSU marketing", "JMSU");
    marketing.validity = Validity::ACADEMIC_YEAR;
    l.register_purpose(marketing.clone()).unwrap();
    let mut sharing = PurposeDef::new("wellbeing.share-external", "Share externally", "LJMU");
    sharing.recipients = vec!["NHS".into(), "SFE".into()];
    sharing.effect_delay_secs = 86_400;
    l.register_purpose(sharing).unwrap();
    let mut health = PurposeDef::new("mobility.health", "Health data for mobility", "LJMU");
    health.special_category = Some('a');
    health.validity = Validity::Days { days: 200 };
    l.register_purpose(health).unwrap();
    let mut monitoring = PurposeDef::new("engagement.monitoring", "Engagement", "LJMU");
    monitoring.lawful_basis = LawfulBasis::PublicTask;
    l.register_purpose(monitoring).unwrap();
    l.register_notice(
        NoticeDef::from_text("ljmu.privacy", "2024-09", "LJMU privacy notice", "text 1")
            .covering("LJMU", ["wellbeing.*", "mobility.*", "engagement.*"]),
    )
    .unwrap();
    l.register_notice(
        NoticeDef::from_text("jmsu.privacy", "2024-09", "JMSU privacy notice", "text 2")
            .covering("JMSU", ["jmsu.*"]),
    )
    .unwrap();
    // A small linear congruential generator: the same scenario on every run.
    let mut seed: u64 = 0x5eed;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    let start = t("2024-09-02T09:00:00Z").as_millis();
    let mut grants: Vec<Event> = Vec::new();
    let mut erased: Vec<String> = Vec::new();
    for step in 0..400u64 {
        let now = start + (step as i64) * 36 * 3_600_000;
        clock.store(now, Ordering::SeqCst);
        let subject = format!("77{:04}", next(60));
        let purpose = [
            "jmsu.marketing",
            "wellbeing.share-external",
            "mobility.health",
            "engagement.monitoring",
        ][next(4) as usize];
        let notice = if purpose.starts_with("jmsu.") {
            ("jmsu.privacy", "2024-09")
        } else {
            ("ljmu.privacy", "2024-09")
        };
        let recipient =
            (purpose == "wellbeing.share-external").then(|| ["NHS", "SFE"][next(2) as usize]);
        let mut e = match next(10) {
            0..=3 => NewEvent::give(&subject, purpose)
                .notice(notice.0, notice.1)
                .method(Method::Portal)
                .explicit(purpose == "mobility.health"),
            4 => NewEvent::new(EventKind::Refused, &subject, purpose)
                .notice(notice.0, notice.1)
                .method(Method::Paper),
            5 | 6 => NewEvent::withdraw(&subject, purpose),
            7 => NewEvent::new(EventKind::Objected, &subject, purpose),
            8 => match grants.get(next(grants.len().max(1) as u64) as usize) {
                Some(g) => NewEvent::new(
                    EventKind::Invalidated,
                    g.subject.clone().unwrap_or_default(),
                    g.purpose.clone().unwrap_or_default(),
                )
                .target(g.id)
                .recorded_by(Actor::staff("dpo-01")),
                None => NewEvent::withdraw(&subject, purpose),
            },
            _ => NewEvent::withdraw(&subject, purpose)
                .effective_at(Timestamp::from_millis(now + 3 * 86_400_000).unwrap()),
        };
        if let Some(r) = recipient {
            if next(3) > 0 {
                e = e.recipient(r);
            }
        }
        if next(4) == 0 {
            e = e.effective_at(Timestamp::from_millis(now - 5 * 86_400_000).unwrap());
        }
        if next(5) == 0 {
            e = e
                .source_id(format!("import-{step}"))
                .evidence(json!({"form": format!("F-{step}"), "ip": "10.0.0.1"}));
        }
        match l.append(e) {
            Ok(ev) if ev.kind == EventKind::Given => grants.push(ev),
            Ok(_) => {}
            // The rules refuse some random events (an overruling without an
            // objection, a grant for an erased subject): a refusal writes nothing.
            Err(_) => {}
        }
        if step == 150 {
            // A material change: the marketing purpose gets a new controller.
            let mut changed = marketing.clone();
            changed.controller = "JMSU Trading Ltd".into();
            l.register_purpose(changed).unwrap();
        }
        if step == 200 || step == 260 {
            let victim = grants[next(grants.len() as u64) as usize]
                .subject
                .clone()
                .unwrap();
            l.erase_subject(&victim, "retention period ended", Actor::staff("dpo-01"))
                .unwrap();
            erased.push(victim);
        }
        if step == 300 {
            l.readmit_subject(&erased[0], "re-enrolled", Actor::staff("registry-07"))
                .unwrap();
        }
        if step % 50 == 49 {
            l.append(
                NewEvent::new(
                    EventKind::ObjectionOverruled,
                    &subject,
                    "engagement.monitoring",
                )
                .recorded_by(Actor::staff("dpo-01")),
            )
            .ok();
        }
    }
    let head = l.head().unwrap();
    assert!(l.verify().unwrap().ok);
    l.close().unwrap();
    std::fs::write(src.join("v2-rich.head"), format!("{head}\n")).unwrap();
    eprintln!("erased: {}", erased.join(","));
    for p in ["v2-rich.db-lock", "v2-rich.db-wal", "v2-rich.db-shm"] {
        let _ = std::fs::remove_file(src.join(p));
    }
}

#[test]
fn an_older_ledger_opened_read_only_is_refused_and_left_as_it_was() {
    for name in ["v1-demo", "v2-demo"] {
        let (_dir, path) = fixture(name);
        let before = std::fs::read(&path).unwrap();
        let options = LedgerOptions {
            read_only: true,
            ..LedgerOptions::default()
        };
        let Err(err) = Ledger::open_with(&path, options) else {
            panic!("{name}: an older ledger opened read-only");
        };
        assert_eq!(err.kind(), ErrorKind::ReadOnly, "{name}: {err}");
        assert!(err.to_string().contains("migrated"), "{name}: {err}");
        assert_eq!(std::fs::read(&path).unwrap(), before, "{name} was changed");
    }
}

#[test]
fn a_migrated_ledger_has_the_current_schema_and_its_configuration_unchanged() {
    let (_dir, path) = fixture("v2-demo");
    let before = {
        let l = Ledger::open(&path).unwrap();
        let c = l.configuration_event().unwrap();
        l.close().unwrap();
        c
    };
    let conn = rusqlite::Connection::open(&path).unwrap();
    let v: i64 = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(v, SCHEMA_VERSION);
    // The hashed configuration still names the schema the ledger was created under.
    assert_eq!(before.details.unwrap()["schema_version"], 2);
}

/// Schema 3 → 4 (issue 15) adds two indexes and changes the version number: a file of
/// version 3 (the tables are the same; here a new ledger set back to 3, without the
/// indexes, since a build of version 3 wrote the same bytes) is refused read-only,
/// migrated by its first opening for writing with the same head, and then refused by
/// a reader that knows only version 3.
#[test]
fn version_3_becomes_4_with_the_same_head() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v3.db");
    let l = Ledger::open(&path).unwrap();
    l.register_purpose(PurposeDef::new("p", "P", "C")).unwrap();
    let head = l.head().unwrap();
    l.close().unwrap();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "DROP INDEX events_of_downstreams; DROP INDEX events_with_deadline;
             UPDATE meta SET value = 3 WHERE key = 'schema_version';",
        )
        .unwrap();
    let read_only = LedgerOptions {
        read_only: true,
        ..LedgerOptions::default()
    };
    let refused = Ledger::open_with(&path, read_only).err().unwrap();
    assert_eq!(refused.kind(), ErrorKind::ReadOnly, "{refused}");
    let l = Ledger::open(&path).unwrap();
    assert_eq!(l.head().unwrap(), head);
    assert!(l.verify().unwrap().ok);
    l.close().unwrap();
    let version: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(version, 4);
    let indexes: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name IN \
             ('events_of_downstreams', 'events_with_deadline')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(indexes, 2);
}
