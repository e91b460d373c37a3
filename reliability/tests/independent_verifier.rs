//! `tools/verify_ledger.py`, written only from docs/FORMAT.md, agrees with `verify`.

use consent_core::{Actor, Ledger, NewEvent};
use consent_reliability::{fixture::populate, give, python_verify};
use rusqlite::Connection;

#[test]
fn python_verifier_agrees_with_verify() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let l = Ledger::open(&path).unwrap();
    populate(&l, 40).unwrap();
    l.erase_subject("stu-0007", "retention period ended", Actor::staff("dpo"))
        .unwrap();
    l.append(NewEvent::withdraw("stu-0007", "jmsu.data-sharing"))
        .unwrap();
    let old = l.head().unwrap();
    l.append(give("stu-after", "jmsu.marketing")).unwrap();
    let head = l.head().unwrap();
    assert!(l.verify().unwrap().ok);
    let Some(py) = python_verify(&path, None) else {
        eprintln!("python3 not found: skipped");
        return;
    };
    assert!(py.ok, "{}", py.output);
    assert_eq!(py.output.trim(), format!("OK {head}"), "the same root");
    assert!(
        python_verify(&path, Some(&old.to_string())).unwrap().ok,
        "extends an earlier head"
    );
    assert!(python_verify(&path, Some(&head.to_string())).unwrap().ok);
    let forged = format!("{}:{}", old.size, "00".repeat(32));
    assert!(!python_verify(&path, Some(&forged)).unwrap().ok);
    let longer = format!("{}:{}", head.size + 1, hex::encode(head.root));
    assert!(!python_verify(&path, Some(&longer)).unwrap().ok);
    l.close().unwrap();

    let cases = [
        "UPDATE events SET evidence = '{\"form\":1}' WHERE seq = 10",
        "UPDATE events SET kind = 'revoked' WHERE seq = 11",
        "UPDATE events SET subject = 'stu-0009' WHERE seq = 12",
        "DELETE FROM events WHERE seq = 30",
        "UPDATE tree SET hash = zeroblob(32) WHERE level = 1 AND idx = 9",
        "UPDATE events SET details = replace(details, 'JMSU', 'ACME') WHERE seq = 1",
        "UPDATE events SET salt = NULL WHERE seq = 13",
        "INSERT INTO tree VALUES (0, 100000, zeroblob(32))",
    ];
    for sql in cases {
        let copy = dir.path().join("copy.db");
        std::fs::copy(&path, &copy).unwrap();
        Connection::open(&copy).unwrap().execute_batch(sql).unwrap();
        let r = Ledger::open(&copy).unwrap().verify().unwrap();
        let py = python_verify(&copy, None).unwrap();
        assert!(!r.ok && !py.ok, "{sql}: {r:?} / {}", py.output);
        assert_eq!(py.first_bad_seq, r.first_bad_seq, "{sql}: {}", py.output);
        for s in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{s}", copy.display()));
        }
    }
    // Not a ledger, a newer one: refused.
    let random = dir.path().join("random.db");
    std::fs::write(&random, b"SQLite format 3\0 but not really").unwrap();
    assert!(!python_verify(&random, None).unwrap().ok);
    let newer = dir.path().join("newer.db");
    std::fs::copy(&path, &newer).unwrap();
    Connection::open(&newer)
        .unwrap()
        .execute("UPDATE meta SET value = 2 WHERE key = 'schema_version'", [])
        .unwrap();
    assert!(!python_verify(&newer, None).unwrap().ok);
}
