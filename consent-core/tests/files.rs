//! The ledger on real files: permissions, many processes and threads at once, bad
//! files, tampering with raw SQL, and erasure that leaves no trace of the subject.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::*;
use consent_core::*;
use rusqlite::Connection;

fn file_ledger(dir: &Path) -> Ledger {
    let l = Ledger::open(dir.join("ledger.db")).unwrap();
    register_all(&l);
    l
}

#[cfg(unix)]
#[test]
fn file_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let l = file_ledger(dir.path());
    l.append(give("s1", "jmsu.marketing")).unwrap();
    let mode = std::fs::metadata(dir.path().join("ledger.db"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

/// Child half of the multi-process test: appends `CONSENT_CHILD_N` events.
#[test]
fn child_writer() {
    let (Ok(path), Ok(n), Ok(tag)) = (
        std::env::var("CONSENT_CHILD_LEDGER"),
        std::env::var("CONSENT_CHILD_N"),
        std::env::var("CONSENT_CHILD_TAG"),
    ) else {
        return; // Only does work when started by `many_processes_append_to_one_file`.
    };
    let l = Ledger::open(path).unwrap();
    for i in 0..n.parse::<usize>().unwrap() {
        l.append(give(&format!("{tag}-{i}"), "jmsu.marketing"))
            .unwrap();
    }
}

#[test]
fn many_processes_append_to_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    drop(file_ledger(dir.path()));
    let exe = std::env::current_exe().unwrap();
    let (procs, per) = (4, 50);
    let children: Vec<_> = (0..procs)
        .map(|p| {
            std::process::Command::new(&exe)
                .args(["--exact", "child_writer", "--test-threads=1"])
                .env("CONSENT_CHILD_LEDGER", &path)
                .env("CONSENT_CHILD_N", per.to_string())
                .env("CONSENT_CHILD_TAG", format!("p{p}"))
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let l = Ledger::open(&path).unwrap();
    let report = l.verify().unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(
        report.size,
        9 + procs * per,
        "nothing lost, nothing duplicated"
    );
    let changes = l.changes_since(0, usize::MAX).unwrap();
    assert!(
        changes.iter().enumerate().all(|(i, e)| e.seq == i as u64),
        "no gaps"
    );
    assert_eq!(
        l.consenting("jmsu.marketing", None, None, None)
            .unwrap()
            .subjects
            .len() as u64,
        procs * per
    );
}

#[test]
fn many_threads_share_one_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let l = Arc::new(file_ledger(dir.path()));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let l = l.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    l.append(give(&format!("t{t}-{i}"), "jmsu.marketing"))
                        .unwrap();
                    l.status(&format!("t{t}-{i}"), "jmsu.marketing", None)
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let r = l.verify().unwrap();
    assert!(r.ok);
    assert_eq!(r.size, 9 + 200);
}

#[test]
fn bad_files_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let random = dir.path().join("random.db");
    let bytes: Vec<u8> = (0..8192u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&random, &bytes).unwrap();
    let err = Ledger::open(&random).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::NotALedger, "{err}");
    assert_eq!(
        std::fs::read(&random).unwrap(),
        bytes,
        "a refused file is left as it was"
    );

    let foreign = dir.path().join("foreign.db");
    Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE students(id TEXT)")
        .unwrap();
    let before = std::fs::read(&foreign).unwrap();
    let err = Ledger::open(&foreign).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::NotALedger);
    assert!(err.to_string().contains("not a consent ledger"), "{err}");
    assert_eq!(
        std::fs::read(&foreign).unwrap(),
        before,
        "another application's file is not switched to WAL or touched at all"
    );
    assert!(!dir.path().join("foreign.db-wal").exists());

    // A 0-byte file (a power cut during `init`) is not a ledger: only creating one
    // may write into it.
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let check_only = LedgerOptions {
        create: false,
        ..LedgerOptions::default()
    };
    assert_eq!(
        Ledger::open_with(&empty, check_only).err().unwrap().kind(),
        ErrorKind::NotALedger
    );
    assert_eq!(std::fs::metadata(&empty).unwrap().len(), 0);

    let newer = dir.path().join("newer.db");
    drop(Ledger::open(&newer).unwrap());
    Connection::open(&newer)
        .unwrap()
        .execute(
            "UPDATE meta SET value = 99 WHERE key = 'schema_version'",
            [],
        )
        .unwrap();
    assert_eq!(
        Ledger::open(&newer).err().unwrap().kind(),
        ErrorKind::SchemaTooNew
    );

    let missing = dir.path().join("missing.db");
    let opts = LedgerOptions {
        create: false,
        ..LedgerOptions::default()
    };
    assert_eq!(
        Ledger::open_with(&missing, opts).err().unwrap().kind(),
        ErrorKind::NotFound
    );
    assert!(!missing.exists());
}

#[test]
fn read_only_ledger_answers_but_does_not_write() {
    let dir = tempfile::tempdir().unwrap();
    let l = file_ledger(dir.path());
    l.append(give("s1", "jmsu.marketing")).unwrap();
    l.close().unwrap();
    let ro = Ledger::open_with(
        dir.path().join("ledger.db"),
        LedgerOptions {
            read_only: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        ro.status("s1", "jmsu.marketing", None).unwrap().state,
        State::Given
    );
    assert!(ro.verify().unwrap().ok);
    let err = ro.append(give("s2", "jmsu.marketing")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReadOnly, "{err}");
}

#[test]
fn full_disk_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let l = file_ledger(dir.path());
    for i in 0..20 {
        l.append(give(&format!("s{i}"), "jmsu.marketing")).unwrap();
    }
    let head = l.head().unwrap();
    l.close().unwrap();
    // Cap the file at its current size: the next page allocation fails as on a full disk.
    let conn = Connection::open(&path).unwrap();
    let pages: i64 = conn
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    drop(conn);
    let opts = LedgerOptions {
        max_pages: Some(pages as u64),
        ..LedgerOptions::default()
    };
    let l = Ledger::open_with(&path, opts).unwrap();
    let mut err = None;
    for i in 0..500 {
        let big = serde_json::json!({ "scan": "x".repeat(4000), "i": i });
        if let Err(e) = l.append(give(&format!("late{i}"), "jmsu.marketing").evidence(big)) {
            err = Some(e);
            break;
        }
    }
    let err = err.expect("the page cap was reached");
    assert_eq!(err.kind(), ErrorKind::Full, "{err}");
    let r = l.verify().unwrap();
    assert!(r.ok, "{r:?}");
    assert!(r.size >= head.size);
    assert!(l.verify_against(&head).unwrap().ok);
}

/// A copied ledger needs its key file beside it too.
fn copy_key(from: &Path, to: &Path) {
    let _ = std::fs::remove_file(consent_core::default_key_path(to));
    std::fs::copy(
        consent_core::default_key_path(from),
        consent_core::default_key_path(to),
    )
    .unwrap();
}

fn raw(path: &Path) -> Connection {
    Connection::open(path).unwrap()
}

#[test]
fn tampering_with_rows_is_named_by_verify() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let l = file_ledger(dir.path());
    for i in 0..30 {
        l.append(
            give(&format!("s{i}"), "jmsu.data-sharing").evidence(serde_json::json!({"form": i})),
        )
        .unwrap();
    }
    let head = l.head().unwrap();
    l.close().unwrap();
    // 39 events: blocks 0-15 and 16-31 are complete, so an altered row there is named
    // by its block's first event (only the block's node is stored, docs/FORMAT.md §2);
    // events 32-38 form the open block, each with its own stored leaf hash.
    let cases: &[(&str, &str, Option<u64>)] = &[
        ("kind", "UPDATE events SET kind = 'withdrawn' WHERE seq = 12", Some(0)),
        ("kind in the open block", "UPDATE events SET kind = 'withdrawn' WHERE seq = 35", Some(35)),
        ("effective time", "UPDATE events SET effective_at = effective_at - 1 WHERE seq = 20", Some(16)),
        ("subject", "UPDATE events SET subject = 'someone-else' WHERE seq = 15", Some(15)),
        ("evidence", "UPDATE events SET evidence = '{\"form\":99}' WHERE seq = 16", Some(16)),
        ("explicit flag", "UPDATE events SET explicit = 1 WHERE seq = 9", Some(0)),
        ("deleted row", "DELETE FROM events WHERE seq = 17", Some(17)),
        ("tree hash", "UPDATE tree SET hash = zeroblob(32) WHERE level = 4 AND idx = 1", Some(16)),
        ("leaf hash in the open block", "UPDATE tree SET hash = zeroblob(32) WHERE level = 0 AND idx = 33", Some(33)),
        ("node in the open block", "UPDATE tree SET hash = zeroblob(32) WHERE level = 1 AND idx = 17", Some(34)),
        ("open block row deleted", "DELETE FROM tree WHERE level = 2 AND idx = 8", Some(32)),
        ("leaf row kept in a completed block", "INSERT INTO tree VALUES (0, 5, zeroblob(32))", Some(5)),
        ("forged row", "INSERT INTO events SELECT seq + 100, randomblob(16), kind, subject, salt, personal_digest, purpose, purpose_version, recipient, notice_id, notice_version, notice_sha256, explicit, method, recorded_by, effective_at, recorded_at, expires_at, effect_deadline, 'forged', evidence, target, details, subject_key, randomblob(32), encoding FROM events WHERE seq = 37", Some(39)),
        ("swapped rows", "UPDATE events SET seq = CASE seq WHEN 33 THEN 34 ELSE 33 END WHERE seq IN (33, 34)", Some(33)),
        ("registry", "UPDATE events SET details = replace(details, 'Share', 'Sell') WHERE seq = 1", Some(0)),
        ("registry table", "UPDATE purposes SET def = replace(def, 'Share', 'Sell') WHERE id = 'jmsu.data-sharing'", Some(1)),
        ("materialized state", "UPDATE current SET state = 'withdrawn' WHERE subject = 's5'", Some(14)),
        ("materialized row deleted", "DELETE FROM current WHERE subject = 's6'", Some(15)),
        ("materialized row forged", "INSERT INTO current SELECT 'intruder', purpose, recipient, state, seq, event_id, since, until, last_effective FROM current WHERE subject = 's7'", Some(16)),
    ];
    for (what, sql, want) in cases {
        let copy = dir.path().join("copy.db");
        std::fs::copy(&path, &copy).unwrap();
        copy_key(&path, &copy);
        // The swap needs a free seq to pass through.
        if *what == "swapped rows" {
            raw(&copy).execute_batch("UPDATE events SET seq = -1 WHERE seq = 33; UPDATE events SET seq = 33 WHERE seq = 34; UPDATE events SET seq = 34 WHERE seq = -1;").unwrap();
        } else {
            raw(&copy).execute_batch(sql).unwrap();
        }
        let l = Ledger::open(&copy).unwrap();
        let r = l.verify().unwrap();
        assert!(!r.ok, "{what} went unnoticed");
        assert_eq!(r.first_bad_seq, *want, "{what}: {r:?}");
        l.close().unwrap();
        std::fs::remove_file(&copy).unwrap();
        let _ = std::fs::remove_file(dir.path().join("copy.db-wal"));
        let _ = std::fs::remove_file(dir.path().join("copy.db-shm"));
    }
    // A truncated tail, and a tail rewritten consistently, need the earlier head. (Cut
    // at a block boundary, the tree needs no new rows to look whole.)
    let copy = dir.path().join("copy.db");
    std::fs::copy(&path, &copy).unwrap();
    copy_key(&path, &copy);
    raw(&copy).execute_batch("DELETE FROM events WHERE seq >= 32; DELETE FROM tree WHERE (idx << level) + (1 << level) > 32; DELETE FROM current WHERE seq >= 32;").unwrap();
    let l = Ledger::open(&copy).unwrap();
    assert!(
        l.verify().unwrap().ok,
        "a clean truncation looks valid on its own"
    );
    let r = l.verify_against(&head).unwrap();
    assert!(!r.ok);
    assert_eq!(r.first_bad_seq, Some(32));
    // Rewrite the tail through the library itself: a fully consistent new chain.
    for i in 0..8 {
        l.append(give(&format!("x{i}"), "jmsu.marketing")).unwrap();
    }
    assert!(l.verify().unwrap().ok);
    let r = l.verify_against(&head).unwrap();
    assert!(!r.ok, "a rewritten tail is caught against the earlier head");
    assert!(l.prove_consistency(&head, None).is_err());
}

#[test]
fn erasure_leaves_no_trace_and_every_hash_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let l = file_ledger(dir.path());
    let subject = "STU-7731-ZETA";
    for i in 0..50 {
        l.append(give(&format!("other-{i}"), "jmsu.marketing"))
            .unwrap();
    }
    l.append(
        give(subject, "jmsu.marketing")
            .source_id(format!("{subject}-form"))
            .evidence(serde_json::json!({"signed": subject})),
    )
    .unwrap();
    l.append(give(subject, "wellbeing.share-external").recipient("NHS"))
        .unwrap();
    l.append(NewEvent::withdraw(subject, "jmsu.marketing"))
        .unwrap();
    let before = l.head().unwrap();
    let report = l
        .erase_subject(subject, "retention period ended", Actor::staff("dpo"))
        .unwrap();
    assert_eq!(report.events_erased, 3);
    assert!(report.wal_truncated);
    let v = l.verify_against(&before).unwrap();
    assert!(v.ok, "{v:?}");
    // Grants are refused; a withdrawal is still recorded.
    assert_eq!(
        l.append(give(subject, "jmsu.marketing"))
            .unwrap_err()
            .kind(),
        ErrorKind::SubjectErased
    );
    let w = l
        .append(NewEvent::withdraw(subject, "wellbeing.share-external"))
        .unwrap();
    assert_eq!(w.subject, None);
    assert_eq!(
        l.status(subject, "jmsu.marketing", None).unwrap().state,
        State::Erased
    );
    let h = l.history(subject).unwrap();
    // The blanked events stay in the subject's history, without their personal fields.
    assert_eq!(
        h.iter().map(|e| e.kind).collect::<Vec<_>>(),
        [
            EventKind::Given,
            EventKind::Given,
            EventKind::Withdrawn,
            EventKind::SubjectErased,
            EventKind::Withdrawn
        ]
    );
    assert!(h
        .iter()
        .all(|e| e.subject.is_none() && e.evidence.is_none() && e.source_id.is_none()));
    assert!(h[..3].iter().all(|e| e.erased));
    assert_eq!(
        l.erase_subject(subject, "again", Actor::staff("dpo"))
            .unwrap_err()
            .kind(),
        ErrorKind::SubjectErased
    );
    assert!(l.checkpoint().unwrap());
    assert!(l.verify().unwrap().ok);
    for suffix in ["", "-wal", "-shm"] {
        let file = dir.path().join(format!("ledger.db{suffix}"));
        if let Ok(bytes) = std::fs::read(&file) {
            let found = bytes
                .windows(subject.len())
                .any(|w| w == subject.as_bytes());
            assert!(!found, "the subject id is still in {}", file.display());
        }
    }
    // Other subjects are untouched.
    assert_eq!(
        l.status("other-3", "jmsu.marketing", None).unwrap().state,
        State::Given
    );
}

#[test]
fn a_purpose_changed_by_another_connection_is_seen_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let a = file_ledger(dir.path());
    let b = Ledger::open(dir.path().join("ledger.db")).unwrap();
    a.append(give("s1", "jmsu.marketing")).unwrap();
    assert_eq!(
        a.status("s1", "jmsu.marketing", None).unwrap().state,
        State::Given
    );
    let mut def = b.purpose("jmsu.marketing").unwrap().def;
    def.lawful_basis = LawfulBasis::LegitimateInterests;
    assert_eq!(b.register_purpose(def).unwrap().version, 2);
    // `a` cached version 1; the other connection's commit must invalidate it.
    let s = a.status("s1", "jmsu.marketing", None).unwrap();
    assert_eq!((s.state, s.purpose_version), (State::NotConsentBased, 2));
    assert_eq!(
        a.append(give("s2", "jmsu.marketing")).unwrap_err().kind(),
        ErrorKind::InvalidConsent
    );
    assert!(a.verify().unwrap().ok);
    // Each version is there to look up by number, from either connection.
    let versions = a.purpose_versions("jmsu.marketing").unwrap();
    assert_eq!(
        versions.iter().map(|p| p.version).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(
        a.purpose_version("jmsu.marketing", 1)
            .unwrap()
            .def
            .lawful_basis,
        LawfulBasis::Consent
    );
    assert_eq!(
        a.purpose_version("jmsu.marketing", 3).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        b.purpose_versions("no.such").unwrap_err().kind(),
        ErrorKind::UnknownPurpose
    );
    let notice = a.notice(NOTICE.0, NOTICE.1).unwrap();
    assert_eq!(
        (notice.def.id.as_str(), notice.def.version.as_str()),
        NOTICE
    );
    assert_eq!(
        a.notice(NOTICE.0, "no such version").unwrap_err().kind(),
        ErrorKind::UnknownNotice
    );
}

/// The tree keeps rows below level 4 only in the open block (docs/FORMAT.md §2): every
/// head the ledger gave while a block was open must still be provable once the block
/// has completed and its low rows are gone, and every event provable at every size.
#[test]
fn heads_and_proofs_hold_as_blocks_complete() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let l = file_ledger(dir.path());
    let mut heads = vec![l.head().unwrap()];
    let mut events = Vec::new();
    for i in 0..40 {
        let e = l.append(give(&format!("s{i}"), "jmsu.marketing")).unwrap();
        events.push((e.seq, l.canonical_event(e.id).unwrap(), e.id));
        heads.push(l.head().unwrap());
        // Exactly the complete subtrees the format stores: from level 4 everywhere,
        // below it only in the open block.
        let size = heads.last().unwrap().size;
        let open = size >> 4 << 4;
        let want: u64 = (0..64u32)
            .map(|level| {
                if level >= 4 {
                    size >> level
                } else {
                    (size - open) >> level
                }
            })
            .sum();
        let rows: i64 = raw(&path)
            .query_row("SELECT count(*) FROM tree", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows as u64, want, "tree rows at size {size}");
    }
    assert!(
        heads.last().unwrap().size >= 48,
        "the log crosses several blocks"
    );
    for (i, old) in heads.iter().enumerate() {
        for new in &heads[i..] {
            let (proof, head) = l.prove_consistency(old, Some(new.size)).unwrap();
            assert_eq!(&head, new, "the root at size {} changed", new.size);
            proof.verify(old, new).unwrap();
        }
    }
    for (seq, bytes, id) in &events {
        for head in heads.iter().filter(|h| h.size > *seq) {
            let p = l.prove_inclusion(*id, Some(head.size)).unwrap();
            p.verify(bytes, head).unwrap();
        }
    }
    assert!(l.verify().unwrap().ok);
}
