//! Bad files and faults: every one gives a clear error of the right kind, no panic, and
//! nothing already in the ledger is lost.

use std::path::{Path, PathBuf};
use std::time::Duration;

use consent_core::{Actor, ErrorKind, Head, Ledger, LedgerOptions, NewEvent, State};
use consent_reliability::{fixture::populate, give};
use rusqlite::Connection;

/// A populated ledger file, closed; returns its path and head.
fn ledger(dir: &Path) -> (PathBuf, Head) {
    let path = dir.join("ledger.db");
    let l = Ledger::open(&path).unwrap();
    populate(&l, 10).unwrap();
    let head = l.head().unwrap();
    l.close().unwrap();
    (path, head)
}

fn intact(path: &Path, head: &Head) {
    let l = Ledger::open(path).unwrap();
    let r = l.verify_against(head).unwrap();
    assert!(r.ok, "{r:?}");
}

fn open_kind(path: &Path, opts: LedgerOptions) -> ErrorKind {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        Ledger::open_with(path, opts)
    })) {
        Ok(Ok(_)) => panic!("{} opened", path.display()),
        Ok(Err(e)) => {
            assert!(!e.to_string().is_empty());
            e.kind()
        }
        Err(_) => panic!("opening {} panicked", path.display()),
    }
}

#[test]
fn damaged_and_foreign_files_are_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (good, _) = ledger(dir.path());
    let original = std::fs::read(&good).unwrap();
    let mut cases: Vec<(&str, Vec<u8>, ErrorKind)> = Vec::new();
    // Header magic overwritten.
    let mut header = original.clone();
    header[..16].copy_from_slice(b"NOT A LEDGER!!!\0");
    cases.push(("corrupt header magic", header, ErrorKind::NotALedger));
    // Page size field set to an impossible value.
    let mut page_size = original.clone();
    page_size[16..18].copy_from_slice(&[0x00, 0x03]);
    // SQLite cannot read such a header at all: nothing says it was ever a ledger.
    cases.push(("corrupt page size", page_size, ErrorKind::NotALedger));
    // Random bytes.
    let random: Vec<u8> = (0..16384).map(|_| rand::random()).collect();
    cases.push(("random bytes", random, ErrorKind::NotALedger));
    // The first page only: the schema points at pages that are not there.
    cases.push((
        "truncated to one page",
        original[..4096].to_vec(),
        ErrorKind::Corrupt,
    ));
    // Text that is not a database.
    cases.push((
        "a text file",
        b"subject,purpose\nstu-1,jmsu.marketing\n".repeat(200),
        ErrorKind::NotALedger,
    ));
    let mut tried = 0;
    for (what, bytes, want) in cases {
        let p = dir.path().join(format!("{}.db", what.replace(' ', "-")));
        std::fs::write(&p, &bytes).unwrap();
        // The damage may only show on first use: opening, verify, or an append.
        let got = match Ledger::open(&p) {
            Err(e) => e.kind(),
            Ok(l) => match l.verify() {
                Err(e) => e.kind(),
                Ok(r) if !r.ok => ErrorKind::Corrupt,
                Ok(r) => panic!("{what}: verified as {r:?}"),
            },
        };
        assert_eq!(got, want, "{what}");
        assert_eq!(
            std::fs::read(&p).unwrap(),
            bytes,
            "{what}: a refused file is left as it was"
        );
        tried += 1;
    }

    let foreign = dir.path().join("foreign.db");
    Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE students(id TEXT); INSERT INTO students VALUES ('stu-1')")
        .unwrap();
    assert_eq!(
        open_kind(&foreign, LedgerOptions::default()),
        ErrorKind::NotALedger
    );
    let n: i64 = Connection::open(&foreign)
        .unwrap()
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1, "no ledger table was added to a foreign database");

    // A SQLite file with a `meta` table of another application.
    let other_meta = dir.path().join("other-meta.db");
    Connection::open(&other_meta)
        .unwrap()
        .execute_batch(
            "CREATE TABLE meta(key TEXT, value); INSERT INTO meta VALUES ('format', 'other-app')",
        )
        .unwrap();
    assert_eq!(
        open_kind(&other_meta, LedgerOptions::default()),
        ErrorKind::NotALedger
    );

    // A ledger written by a newer version: refused, read-only too, and not touched.
    let newer = dir.path().join("newer.db");
    std::fs::copy(&good, &newer).unwrap();
    Connection::open(&newer)
        .unwrap()
        .execute("UPDATE meta SET value = 5 WHERE key = 'schema_version'", [])
        .unwrap();
    assert_eq!(
        open_kind(&newer, LedgerOptions::default()),
        ErrorKind::SchemaTooNew
    );
    assert_eq!(
        open_kind(
            &newer,
            LedgerOptions {
                read_only: true,
                ..Default::default()
            }
        ),
        ErrorKind::SchemaTooNew
    );
    let v: i64 = Connection::open(&newer)
        .unwrap()
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(v, 5);
    println!(
        "bad files: {} damaged files and 3 foreign/newer ledgers refused with a clear error",
        tried
    );
}

#[test]
fn read_only_ledgers_answer_and_refuse_every_write() {
    let dir = tempfile::tempdir().unwrap();
    let (path, head) = ledger(dir.path());
    let ro = Ledger::open_with(
        &path,
        LedgerOptions {
            read_only: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(ro.verify_against(&head).unwrap().ok);
    assert_eq!(
        ro.status("stu-0002", "jmsu.data-sharing", None)
            .unwrap()
            .state,
        State::Given
    );
    let writes: Vec<consent_core::Result<()>> = vec![
        ro.append(give("stu-new", "jmsu.marketing")).map(drop),
        ro.append(NewEvent::withdraw("stu-0002", "jmsu.data-sharing"))
            .map(drop),
        ro.erase_subject("stu-0003", "test", Actor::staff("dpo"))
            .map(drop),
        ro.register_purpose(consent_core::PurposeDef::new("x.y", "x", "LJMU"))
            .map(drop),
        ro.append_many(vec![give("stu-new", "jmsu.marketing")])
            .map(drop),
    ];
    for (i, w) in writes.into_iter().enumerate() {
        let e = w.unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::ReadOnly), "write {i}: {e}");
    }
    drop(ro);
    intact(&path, &head);

    // Permissions: only where they bind (not for root).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let privileged = {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
            std::fs::OpenOptions::new().write(true).open(&path).is_ok()
        };
        if privileged {
            println!("read-only file: running as a privileged user, chmod 0400 does not stop writes; checked with read_only only");
        } else {
            let e = Ledger::open(&path)
                .and_then(|l| l.append(give("stu-new", "jmsu.marketing")).map(drop))
                .unwrap_err();
            assert!(
                matches!(
                    e.kind(),
                    ErrorKind::ReadOnly | ErrorKind::Storage | ErrorKind::Io
                ),
                "{e}"
            );
            let ro = Ledger::open_with(
                &path,
                LedgerOptions {
                    read_only: true,
                    ..Default::default()
                },
            )
            .unwrap();
            assert!(ro.verify_against(&head).unwrap().ok);
            drop(ro);
            // A read-only folder: the WAL cannot be created; writes fail cleanly.
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o500)).unwrap();
            let r = Ledger::open(&path)
                .and_then(|l| l.append(give("stu-new", "jmsu.marketing")).map(drop));
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
            let e = r.unwrap_err();
            assert!(
                matches!(
                    e.kind(),
                    ErrorKind::ReadOnly | ErrorKind::Storage | ErrorKind::Io
                ),
                "{e}"
            );
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        intact(&path, &head);
    }
}

#[test]
fn full_disk_refuses_cleanly_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (path, head) = ledger(dir.path());
    let pages: i64 = Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    let l = Ledger::open_with(
        &path,
        LedgerOptions {
            max_pages: Some(pages as u64 + 2),
            ..Default::default()
        },
    )
    .unwrap();
    let big = serde_json::json!({ "scan": "x".repeat(6000) });
    let mut acked = Vec::new();
    let err = loop {
        match l
            .append(give(&format!("late-{}", acked.len()), "jmsu.marketing").evidence(big.clone()))
        {
            Ok(e) => acked.push(e.id),
            Err(e) => break e,
        }
        assert!(acked.len() < 1000, "the page cap was never reached");
    };
    assert_eq!(err.kind(), ErrorKind::Full, "{err}");
    // A batch on a full disk lands not at all.
    let before = l.head().unwrap();
    let e = l
        .append_many(
            (0..5).map(|i| give(&format!("batch-{i}"), "jmsu.marketing").evidence(big.clone())),
        )
        .unwrap_err();
    // Should be Full; core bug 6 (core_bugs.rs) turns it into a Storage error.
    assert!(
        matches!(e.kind(), ErrorKind::Full | ErrorKind::Storage),
        "{e}"
    );
    assert_eq!(
        l.head().unwrap(),
        before,
        "a failed batch left nothing behind"
    );
    let r = l.verify_against(&head).unwrap();
    assert!(r.ok, "{r:?}");
    drop(l);
    // With room again, a withdrawal lands and every acknowledged event is there.
    let l = Ledger::open(&path).unwrap();
    l.append(NewEvent::withdraw("late-0", "jmsu.marketing"))
        .unwrap();
    for id in &acked {
        l.event(*id).unwrap();
    }
    assert!(l.verify_against(&before).unwrap().ok);
    println!(
        "full disk: {} events acknowledged before the cap, then Full; nothing lost",
        acked.len()
    );
}

#[test]
fn a_long_write_lock_gives_busy_then_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let (path, head) = ledger(dir.path());
    let holder = Connection::open(&path).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let opts = LedgerOptions {
        busy_timeout: Duration::from_millis(150),
        ..Default::default()
    };
    let l = Ledger::open_with(&path, opts).unwrap();
    // Reads still work under another writer's lock (WAL).
    assert!(l.verify_against(&head).unwrap().ok);
    let e = l
        .append(NewEvent::withdraw("stu-0002", "jmsu.data-sharing"))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Busy, "{e}");
    assert_eq!(l.batch().unwrap_err().kind(), ErrorKind::Busy);
    // Erasure too.
    assert_eq!(
        l.erase_subject("stu-0003", "test", Actor::staff("dpo"))
            .unwrap_err()
            .kind(),
        ErrorKind::Busy
    );
    holder.execute_batch("COMMIT").unwrap();
    let w = l
        .append(NewEvent::withdraw("stu-0002", "jmsu.data-sharing"))
        .unwrap();
    assert_eq!(
        w.seq, head.size,
        "the refused append took no sequence number"
    );
    assert_eq!(
        l.status("stu-0002", "jmsu.data-sharing", None)
            .unwrap()
            .state,
        State::Withdrawn
    );
    assert!(l.verify_against(&head).unwrap().ok);

    // A ledger being created while another process holds a lock on the new file.
    let fresh = dir.path().join("fresh.db");
    std::fs::File::create(&fresh).unwrap();
    let holder = Connection::open(&fresh).unwrap();
    holder
        .execute_batch("PRAGMA journal_mode=WAL; BEGIN IMMEDIATE; CREATE TABLE t(x);")
        .unwrap();
    let e = Ledger::open_with(
        &fresh,
        LedgerOptions {
            busy_timeout: Duration::from_millis(100),
            ..Default::default()
        },
    );
    assert_eq!(e.err().map(|e| e.kind()), Some(ErrorKind::Busy));
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    Ledger::open(&fresh).unwrap();
}

#[test]
fn a_missing_directory_or_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let e = Ledger::open(dir.path().join("no/such/dir/ledger.db"))
        .err()
        .unwrap();
    assert!(
        matches!(
            e.kind(),
            ErrorKind::Io | ErrorKind::NotFound | ErrorKind::Storage
        ),
        "{e}"
    );
    let e = Ledger::open(dir.path()).err().unwrap();
    assert!(
        !e.to_string().is_empty(),
        "a directory is not a ledger: {e}"
    );
}
