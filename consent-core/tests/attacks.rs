//! An insider who can write the ledger file, and a careless caller: each test is one
//! attack from the integrity issue, tried against a real file, and what stops it.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use consent_core::*;
use rusqlite::Connection;

fn file_ledger(dir: &Path) -> (Ledger, PathBuf) {
    let path = dir.join("ledger.db");
    let l = Ledger::open(&path).unwrap();
    register_all(&l);
    (l, path)
}

fn raw(path: &Path) -> Connection {
    Connection::open(path).unwrap()
}

/// Runs `sql` on the closed ledger file as an attacker would, reopens it and verifies.
fn tamper_and_verify(path: &Path, sql: &str) -> Result<VerifyReport> {
    raw(path).execute_batch(sql).unwrap();
    let l = Ledger::open(path)?;
    l.verify()
}

fn withdrawn_then_faked(dir: &Path) -> (PathBuf, u64) {
    let (l, path) = file_ledger(dir);
    l.append(give("770001", "jmsu.data-sharing")).unwrap();
    let w = l
        .append(NewEvent::withdraw("770001", "jmsu.data-sharing"))
        .unwrap();
    l.close().unwrap();
    (path, w.seq)
}

#[test]
fn a_fake_erasure_cannot_hide_a_withdrawal() {
    let dir = tempfile::tempdir().unwrap();
    let (path, w) = withdrawn_then_faked(dir.path());
    // Blank the withdrawal as an erasure would and point `current` back at the grant.
    let sql = format!(
        "UPDATE events SET subject = NULL, salt = NULL, source_id = NULL, evidence = NULL WHERE seq = {w};
         UPDATE current SET state = 'given', seq = {g}, event_id = (SELECT id FROM events WHERE seq = {g}),
           since = (SELECT effective_at FROM events WHERE seq = {g}), until = (SELECT expires_at FROM events WHERE seq = {g}),
           last_effective = (SELECT effective_at FROM events WHERE seq = {g}) WHERE subject = '770001';",
        g = w - 1
    );
    // `current` is made exactly what the grant alone implies, so only the blank is left
    // to find.
    let r = tamper_and_verify(&path, &sql).unwrap();
    assert!(!r.ok, "a blanked withdrawal with no erasure went unnoticed");
    assert_eq!(r.first_bad_seq, Some(w), "the forged blank is named: {r:?}");
}

#[test]
fn blanked_events_cannot_move_between_erased_subjects() {
    let dir = tempfile::tempdir().unwrap();
    let (l, path) = file_ledger(dir.path());
    let a = l.append(give("770001", "jmsu.marketing")).unwrap();
    l.append(give("770002", "jmsu.marketing")).unwrap();
    l.erase_subject("770001", "retention ended", Actor::staff("dpo"))
        .unwrap();
    l.erase_subject("770002", "retention ended", Actor::staff("dpo"))
        .unwrap();
    l.close().unwrap();
    assert!(Ledger::open(&path).unwrap().verify().unwrap().ok);
    let other: Vec<u8> = raw(&path)
        .query_row(
            "SELECT subject_key FROM events WHERE kind = 'subject_erased' ORDER BY seq DESC",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let conn = raw(&path);
    conn.execute(
        "UPDATE events SET subject_key = ?1 WHERE seq = ?2",
        rusqlite::params![other, a.seq as i64],
    )
    .unwrap();
    drop(conn);
    let r = Ledger::open(&path).unwrap().verify().unwrap();
    assert!(!r.ok);
    assert_eq!(r.first_bad_seq, Some(a.seq), "{r:?}");
}

#[test]
fn the_erasure_key_lives_outside_the_file_and_cannot_be_swapped() {
    let dir = tempfile::tempdir().unwrap();
    let (l, path) = file_ledger(dir.path());
    l.append(give("770001", "jmsu.marketing")).unwrap();
    l.erase_subject("770001", "retention ended", Actor::staff("dpo"))
        .unwrap();
    l.close().unwrap();
    // Nothing key-like is stored in the file.
    let meta: Vec<String> = raw(&path)
        .prepare("SELECT key FROM meta ORDER BY key")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(meta, ["format", "schema_version"]);
    // The pseudonym of the erased id is keyed: a search over every six-digit id with
    // only the file's contents finds nothing to test candidates against.
    let key_file = default_key_path(&path);
    assert!(key_file.exists());
    // A swapped key is refused, not silently used (the erased subject would look new).
    std::fs::remove_file(&key_file).unwrap();
    std::fs::write(&key_file, format!("{}\n", "11".repeat(32))).unwrap();
    let err = Ledger::open(&path).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Key, "{err}");
    // A planted pepper row is noticed by verify.
    std::fs::remove_file(&key_file).unwrap();
    let ro = Ledger::open_with(
        &path,
        LedgerOptions {
            read_only: true,
            create: false,
            pseudonym_key: KeySource::None,
            ..LedgerOptions::default()
        },
    )
    .unwrap();
    assert!(ro.verify().unwrap().ok, "verify needs no key");
    assert_eq!(
        ro.status("770001", "jmsu.marketing", None)
            .unwrap_err()
            .kind(),
        ErrorKind::Key,
        "without the key a subject question fails closed"
    );
    drop(ro);
    raw(&path)
        .execute("INSERT INTO meta VALUES ('pepper', randomblob(32))", [])
        .unwrap();
    let ro = Ledger::open_with(
        &path,
        LedgerOptions {
            read_only: true,
            create: false,
            pseudonym_key: KeySource::None,
            ..LedgerOptions::default()
        },
    )
    .unwrap();
    assert!(!ro.verify().unwrap().ok);
}

#[test]
fn planted_triggers_are_refused_and_never_run() {
    let dir = tempfile::tempdir().unwrap();
    let (l, path) = file_ledger(dir.path());
    l.append(give("770001", "jmsu.marketing")).unwrap();
    l.close().unwrap();
    raw(&path)
        .execute_batch(
            "CREATE TABLE loot(subject TEXT);
             CREATE TRIGGER steal AFTER INSERT ON events BEGIN INSERT INTO loot VALUES (new.subject); END;
             CREATE TRIGGER drop_withdrawals AFTER INSERT ON events WHEN new.kind = 'withdrawn'
               BEGIN DELETE FROM events WHERE seq = new.seq; END;",
        )
        .unwrap();
    let err = Ledger::open(&path).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(
        err.to_string().contains("not part of a consent ledger"),
        "{err}"
    );

    // Planted while the ledger is open: the next write notices, and triggers never
    // fire in our connection anyway.
    raw(&path)
        .execute_batch("DROP TRIGGER steal; DROP TRIGGER drop_withdrawals; DROP TABLE loot;")
        .unwrap();
    let l = Ledger::open(&path).unwrap();
    raw(&path)
        .execute_batch(
            "CREATE TRIGGER drop_withdrawals AFTER INSERT ON events WHEN new.kind = 'withdrawn'
               BEGIN DELETE FROM events WHERE seq = new.seq; END;",
        )
        .unwrap();
    let err = l
        .append(NewEvent::withdraw("770001", "jmsu.marketing"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    let r = l.verify().unwrap();
    assert!(!r.ok && r.problem.unwrap().contains("trigger"));
}

#[test]
fn index_only_tampering_is_caught_by_verify() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = withdrawn_then_faked(dir.path());
    // An index whose text says something else is a schema change: refused at open.
    raw(&path)
        .execute_batch(
            "PRAGMA writable_schema = ON;
             UPDATE sqlite_master SET sql = replace(sql, 'WHERE subject IS NOT NULL',
               'WHERE subject IS NOT NULL AND kind != ''withdrawn''') WHERE name = 'events_by_subject';
             PRAGMA writable_schema = OFF;",
        )
        .unwrap();
    assert!(Ledger::open(&path).is_err());
    // The real attack: the b-tree is built without the withdrawal, then the schema
    // text is put back, so no event, tree hash or schema text differs.
    raw(&path)
        .execute_batch(
            "DROP INDEX events_by_subject;
             CREATE INDEX events_by_subject ON events(subject, purpose) WHERE subject IS NOT NULL AND kind != 'withdrawn';
             PRAGMA writable_schema = ON;
             UPDATE sqlite_master SET sql = 'CREATE INDEX events_by_subject ON events(subject, purpose) WHERE subject IS NOT NULL'
               WHERE name = 'events_by_subject';
             PRAGMA writable_schema = OFF;",
        )
        .unwrap();
    let l = Ledger::open(&path).unwrap();
    // Lookups through that index now miss the withdrawal...
    assert!(l
        .history("770001")
        .unwrap()
        .iter()
        .all(|e| e.kind != EventKind::Withdrawn));
    // ...and verify says so: SQLite's own check compares every index with its table.
    let r = l.verify().unwrap();
    assert!(!r.ok, "an index that hides a withdrawal passed verify");
    assert!(
        r.problem.as_deref().unwrap_or("").contains("integrity"),
        "{r:?}"
    );
}

#[test]
fn record_time_comes_from_the_system_clock_on_a_real_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let (l, path) = file_ledger(dir.path());
    l.close().unwrap();
    let clock = Clock::new("2020-01-01T00:00:00Z");
    let err = Ledger::open_with(&path, clock.options()).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    let l = Ledger::open(&path).unwrap();
    assert!(!l.is_simulated().unwrap());
    assert!(!l.verify().unwrap().simulated);
    // A simulation says so, in its hashed first event and in verify.
    let (sim, _) = ledger_at("2024-09-01T00:00:00Z");
    assert!(sim.is_simulated().unwrap());
    assert!(sim.verify().unwrap().simulated);
    // A real ledger's record times never go back along the log: two appends in a
    // row are ordered.
    let a = l.append(give("s1", "jmsu.marketing")).unwrap();
    let b = l.append(give("s2", "jmsu.marketing")).unwrap();
    assert!(b.recorded_at >= a.recorded_at);
    l.close().unwrap();
    // An edit that makes a record time go back is caught.
    let r = tamper_and_verify(
        &path,
        "UPDATE events SET recorded_at = recorded_at - 100000 WHERE seq = 3",
    )
    .unwrap();
    assert!(!r.ok);
    assert_eq!(r.first_bad_seq, Some(3), "{r:?}");
}

#[test]
fn an_erasure_delayed_by_a_reader_is_reported_pending_and_can_be_completed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let l = Ledger::open_with(
        &path,
        LedgerOptions {
            erasure_wait: Duration::from_millis(100),
            ..LedgerOptions::default()
        },
    )
    .unwrap();
    register_all(&l);
    l.append(give("770001", "jmsu.marketing")).unwrap();
    // A reader in another connection holds a snapshot from before the erasure.
    let reader = raw(&path);
    reader.execute_batch("BEGIN").unwrap();
    let _: i64 = reader
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    let report = l
        .erase_subject("770001", "retention ended", Actor::staff("dpo"))
        .unwrap();
    assert!(!report.wal_truncated, "pending while the reader holds on");
    reader.execute_batch("COMMIT").unwrap();
    drop(reader);
    assert!(l.complete_erasures(Duration::from_secs(5)).unwrap());
    let wal = std::fs::read(dir.path().join("ledger.db-wal")).unwrap_or_default();
    assert!(wal.is_empty());
    let db = std::fs::read(&path).unwrap();
    assert!(
        !db.windows(6).any(|w| w == b"770001"),
        "the id is gone from the file"
    );
}

#[test]
fn another_threads_rollback_never_swallows_an_acknowledged_event() {
    let l = Arc::new(ledger_at("2024-10-01T10:00:00Z").0);
    l.append(give("770001", "jmsu.marketing")).unwrap();
    let batch_ledger = Arc::clone(&l);
    let (started, wait_started) = std::sync::mpsc::channel();
    let (go, wait_go) = std::sync::mpsc::channel::<()>();
    let importer = std::thread::spawn(move || {
        let batch = batch_ledger.batch().unwrap();
        batch.append(give("770002", "jmsu.marketing")).unwrap();
        started.send(()).unwrap();
        wait_go.recv().unwrap();
        batch.rollback().unwrap();
    });
    wait_started.recv().unwrap();
    let withdrawer = {
        let l = Arc::clone(&l);
        std::thread::spawn(move || {
            l.append(NewEvent::withdraw("770001", "jmsu.marketing"))
                .unwrap()
        })
    };
    std::thread::sleep(Duration::from_millis(50));
    go.send(()).unwrap();
    importer.join().unwrap();
    let w = withdrawer.join().unwrap();
    let history = l.history("770001").unwrap();
    assert!(
        history.iter().any(|e| e.id == w.id),
        "acknowledged, so kept"
    );
    assert_eq!(
        l.status("770001", "jmsu.marketing", None).unwrap().state,
        State::Withdrawn
    );
    assert_eq!(
        l.status("770002", "jmsu.marketing", None).unwrap().state,
        State::NeverAsked
    );
    assert!(l.verify().unwrap().ok);
}

#[test]
fn re_importing_after_an_erasure_is_idempotent() {
    let (l, _) = ledger_at("2024-10-01T10:00:00Z");
    let feed = vec![
        give("770001", "jmsu.marketing").source_id("row-1"),
        NewEvent::withdraw("770001", "jmsu.marketing").source_id("row-2"),
    ];
    l.append_many(feed.clone()).unwrap();
    l.erase_subject("770001", "retention ended", Actor::staff("dpo"))
        .unwrap();
    let size = l.head().unwrap().size;
    let again = l.append_many(feed.clone()).unwrap();
    assert_eq!(again.len(), 2);
    assert_eq!(l.head().unwrap().size, size, "nothing appended twice");
    // A different event under an old source id is still a conflict.
    let other = NewEvent::withdraw("770001", "jmsu.data-sharing").source_id("row-2");
    assert_eq!(l.append(other).unwrap_err().kind(), ErrorKind::Conflict);
    assert!(l.verify().unwrap().ok);
}

#[test]
fn a_hot_subjects_append_does_not_read_its_history() {
    // The materialized state folds each event in; the answers stay those of the
    // full decision (property-tested in `current.rs`). Here: many events for one
    // subject keep status and verify right.
    let (l, _) = ledger_at("2024-10-01T10:00:00Z");
    for i in 0..300 {
        let e = if i % 2 == 0 {
            give("hot", "jmsu.marketing")
        } else {
            NewEvent::withdraw("hot", "jmsu.marketing")
        };
        l.append(e).unwrap();
    }
    assert_eq!(
        l.status("hot", "jmsu.marketing", None).unwrap().state,
        State::Withdrawn
    );
    assert!(l.verify().unwrap().ok);
}

#[test]
fn one_spelling_per_identifier() {
    let (l, _) = ledger_at("2024-10-01T10:00:00Z");
    let nfc = "Jos\u{e9}";
    let nfd = "Jose\u{301}";
    l.append(give(nfc, "jmsu.marketing")).unwrap();
    for bad in [nfd, "770001 ", " 770001"] {
        assert_eq!(
            l.append(give(bad, "jmsu.marketing")).unwrap_err().kind(),
            ErrorKind::InvalidArgument,
            "{bad:?}"
        );
        assert_eq!(
            l.status(bad, "jmsu.marketing", None).unwrap_err().kind(),
            ErrorKind::InvalidArgument,
            "{bad:?}"
        );
    }
}

#[test]
fn a_schema_1_ledger_migrates_and_keeps_its_heads() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let path = dir.path().join("v1.db");
    std::fs::copy(fixtures.join("v1-demo.db"), &path).unwrap();
    let old: Head = std::fs::read_to_string(fixtures.join("v1-demo.head"))
        .unwrap()
        .parse()
        .unwrap();
    let l = Ledger::open(&path).unwrap();
    let r = l.verify().unwrap();
    assert!(r.ok, "{r:?}");
    assert_eq!(
        r.size,
        old.size + 1,
        "the migration appends its configuration"
    );
    assert!(l.verify_against(&old).unwrap().ok, "old heads still hold");
    // The old pepper left the file for the key file; the erased student stays erased.
    assert!(default_key_path(&path).exists());
    assert_eq!(
        l.status("770002", "jmsu.data-sharing", Some("JMSU"))
            .unwrap()
            .state,
        State::Erased
    );
    assert_eq!(
        l.append(give("770002", "jmsu.marketing"))
            .unwrap_err()
            .kind(),
        ErrorKind::SubjectErased
    );
    assert!(!l.history("770002").unwrap().is_empty());
    l.append(NewEvent::withdraw("770001", "jmsu.marketing"))
        .unwrap();
    assert!(l.verify().unwrap().ok);
    l.close().unwrap();
    let pepper: Option<Vec<u8>> = raw(&path)
        .query_row("SELECT value FROM meta WHERE key = 'pepper'", [], |r| {
            r.get(0)
        })
        .ok();
    assert!(pepper.is_none());
}

#[test]
fn an_empty_schema_1_ledger_migrates_to_a_verifiable_one() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let path = dir.path().join("empty-v1.db");
    std::fs::copy(fixtures.join("v1-demo.db"), &path).unwrap();
    raw(&path)
        .execute_batch(
            "DELETE FROM events; DELETE FROM tree; DELETE FROM purposes; DELETE FROM notices;
             DELETE FROM current; DELETE FROM erased;",
        )
        .unwrap();
    let l = Ledger::open(&path).unwrap();
    let r = l.verify().unwrap();
    assert!(r.ok, "{r:?}");
    assert_eq!(r.size, 1, "only its configuration");
}

#[test]
fn a_wal_deleted_under_the_ledger_fails_every_call_instead_of_losing_writes() {
    let dir = tempfile::tempdir().unwrap();
    let (l, path) = file_ledger(dir.path());
    l.append(give("770001", "jmsu.marketing")).unwrap();
    // What another SQLite library's "last close" in this process does.
    let wal = dir.path().join("ledger.db-wal");
    let shm = dir.path().join("ledger.db-shm");
    assert!(wal.exists() && shm.exists());
    std::fs::remove_file(&wal).unwrap();
    std::fs::remove_file(&shm).unwrap();
    let err = l
        .append(NewEvent::withdraw("770001", "jmsu.marketing"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage);
    assert!(err.to_string().contains("WAL was deleted"), "{err}");
    assert_eq!(
        l.status("770001", "jmsu.marketing", None)
            .unwrap_err()
            .kind(),
        ErrorKind::Storage
    );
    l.close().unwrap();
    let l = Ledger::open(&path).unwrap();
    l.append(NewEvent::withdraw("770001", "jmsu.marketing"))
        .unwrap();
    assert!(l.verify().unwrap().ok);
}

#[test]
fn questions_and_actors_take_one_spelling_too() {
    let (l, _) = ledger_at("2024-10-01T10:00:00Z");
    l.append(give("770001", "wellbeing.share-external").recipient("NHS"))
        .unwrap();
    assert_eq!(
        l.consenting("wellbeing.share-external", Some("NHS "), None, None)
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument
    );
    // A hand-built actor that would hash a student id into the log, or one verify
    // would refuse, is refused at the door.
    for actor in [
        Actor {
            kind: ActorKind::Subject,
            id: Some("770001".into()),
        },
        Actor {
            kind: ActorKind::Staff,
            id: Some(" dpo".into()),
        },
    ] {
        let e = NewEvent::withdraw("770001", "jmsu.marketing").recorded_by(actor.clone());
        assert_eq!(l.append(e).unwrap_err().kind(), ErrorKind::InvalidArgument);
        assert_eq!(
            l.erase_subject("770001", "retention ended", actor)
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidArgument
        );
    }
    assert!(l.verify().unwrap().ok);
}

#[cfg(unix)]
#[test]
fn a_ledger_opened_through_a_link_takes_the_same_writer_lock() {
    let dir = tempfile::tempdir().unwrap();
    let (l, path) = file_ledger(dir.path());
    let link = dir.path().join("link.db");
    std::os::unix::fs::symlink(&path, &link).unwrap();
    let via_link = Ledger::open(&link).unwrap();
    assert_eq!(via_link.path(), l.path());
    assert!(!dir.path().join("link.db-lock").exists());
    assert!(!dir.path().join("link.db.key").exists());
    via_link.append(give("770001", "jmsu.marketing")).unwrap();
    assert!(l.verify().unwrap().ok);
}
