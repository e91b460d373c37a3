//! `tools/verify_ledger.py`, written only from docs/FORMAT.md, agrees with `verify`: the
//! same verdict and the same first bad seq, on sound ledgers and on tampered copies.
//!
//! The copies are tampered with as an attacker with write access would: plain SQL
//! through rusqlite, nothing recomputed. The pseudonym key file is copied with each
//! ledger and given to both checkers, so erasure rule E7 is checked too.
//!
//! python3 is required: without it these tests fail (they do not skip).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use consent_core::{Actor, EventKind, Ledger, LedgerOptions, Method, NewEvent, Timestamp};
use consent_reliability::{
    fixture::populate, give, python_verify, python_verify_with_key, register_all, PyVerdict,
};
use rusqlite::Connection;

/// The kinds of subject events, as an SQL list.
const SUBJECT_KINDS: &str =
    "('given', 'refused', 'withdrawn', 'revoked', 'invalidated', 'objected', 'notice_served')";

fn key_of(ledger: &Path) -> PathBuf {
    PathBuf::from(format!("{}.key", ledger.display()))
}

/// The independent verifier's verdict; python3 missing fails the test.
fn py(ledger: &Path, head: Option<&str>, key: Option<&Path>) -> PyVerdict {
    python_verify_with_key(ledger, head, key)
        .expect("python3 is required: the independent verifier is a Python script")
}

/// The library's verdict: `verify()`'s (ok, first bad seq), or (false, None) when it
/// refuses to open the file at all (schema, meta, key, corrupt configuration).
fn library(ledger: &Path) -> (bool, Option<u64>, String) {
    match Ledger::open(ledger).and_then(|l| l.verify()) {
        Ok(r) => (r.ok, r.first_bad_seq, format!("{r:?}")),
        Err(e) => (false, None, format!("refused to open: {e}")),
    }
}

fn remove(p: &Path) {
    for suffix in ["", "-wal", "-shm", "-lock", ".key"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
    }
}

/// A value of the base ledger, by SQL.
fn query(ledger: &Path, sql: &str) -> u64 {
    Connection::open(ledger)
        .unwrap()
        .query_row(sql, [], |r| r.get::<_, i64>(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}")) as u64
}

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
    let key = key_of(&path);
    assert!(key.exists(), "the key file lies beside the ledger");
    for k in [None, Some(key.as_path())] {
        let v = py(&path, None, k);
        assert!(v.ok, "{}", v.output);
        assert_eq!(v.output.trim(), format!("OK {head}"), "the same root");
        assert!(!v.simulated);
    }
    let key = Some(key.as_path());
    assert!(
        py(&path, Some(&old.to_string()), key).ok,
        "extends an earlier head"
    );
    assert!(py(&path, Some(&head.to_string()), key).ok);
    let forged = format!("{}:{}", old.size, "00".repeat(32));
    assert!(!py(&path, Some(&forged), key).ok);
    let longer = format!("{}:{}", head.size + 1, hex::encode(head.root));
    let v = py(&path, Some(&longer), key);
    assert!(!v.ok);
    assert_eq!(v.first_bad_seq, Some(head.size), "the first missing event");
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
        std::fs::copy(key_of(&path), key_of(&copy)).unwrap();
        Connection::open(&copy).unwrap().execute_batch(sql).unwrap();
        let v = py(&copy, None, Some(&key_of(&copy)));
        let r = Ledger::open(&copy).unwrap().verify().unwrap();
        assert!(!r.ok && !v.ok, "{sql}: {r:?} / {}", v.output);
        assert_eq!(v.first_bad_seq, r.first_bad_seq, "{sql}: {}", v.output);
        // Without the key the verdict is the same (none of these is an E7 case).
        assert_eq!(
            python_verify(&copy, None).unwrap().first_bad_seq,
            r.first_bad_seq
        );
        remove(&copy);
    }
    // Not a ledger, a newer one: refused.
    let random = dir.path().join("random.db");
    std::fs::write(&random, b"SQLite format 3\0 but not really").unwrap();
    assert!(!py(&random, None, None).ok);
    let newer = dir.path().join("newer.db");
    std::fs::copy(&path, &newer).unwrap();
    Connection::open(&newer)
        .unwrap()
        .execute("UPDATE meta SET value = 3 WHERE key = 'schema_version'", [])
        .unwrap();
    assert!(!py(&newer, None, None).ok);
}

/// What the two checkers must say about a tampered copy.
enum Want {
    /// The same: both BAD, naming the same seq (or none).
    Same,
    /// A known disagreement between FORMAT.md and the library: the script names the
    /// seq FORMAT.md §8 names (given), the library something else (or refuses to open
    /// the file). Both say BAD. When the library comes to agree, the case says so in
    /// its output (make it `Same` then).
    Spec(u64),
}

struct Case {
    name: &'static str,
    base: PathBuf,
    sql: String,
    want: Want,
    /// Verify with another ledger's key instead of the copy's own.
    key: Option<PathBuf>,
}

fn case(name: &'static str, base: &Path, sql: impl Into<String>, want: Want) -> Case {
    Case {
        name,
        base: base.to_path_buf(),
        sql: sql.into(),
        want,
        key: None,
    }
}

/// Runs one case on a fresh copy (ledger and key file); returns a failure, if any.
fn run(dir: &Path, n: usize, c: &Case) -> Option<String> {
    let copy = dir.join(format!("case{n}.db"));
    std::fs::copy(&c.base, &copy).unwrap();
    std::fs::copy(key_of(&c.base), key_of(&copy)).unwrap();
    if !c.sql.is_empty() {
        Connection::open(&copy)
            .unwrap()
            .execute_batch(&c.sql)
            .unwrap_or_else(|e| panic!("{}: the tampering failed: {e}", c.name));
    }
    let key = c.key.clone().unwrap_or_else(|| key_of(&copy));
    // The script first: it opens the file read-only and changes nothing.
    let v = py(&copy, None, Some(&key));
    if c.key.is_some() {
        std::fs::copy(&key, key_of(&copy)).unwrap();
    }
    let (lib_ok, lib_seq, lib_said) = library(&copy);
    remove(&copy);
    let first_line = v.output.lines().next().unwrap_or_default().to_string();
    println!(
        "{:<40} library: {} seq {:?} | script: {first_line}",
        c.name,
        if lib_ok { "OK" } else { "BAD" },
        lib_seq
    );
    let problem = if lib_ok || v.ok {
        Some("both must say BAD")
    } else {
        match c.want {
            Want::Same if v.first_bad_seq != lib_seq => Some("the seqs differ"),
            Want::Spec(s) if v.first_bad_seq != Some(s) => {
                Some("the script does not name the seq FORMAT.md names")
            }
            Want::Spec(s) => {
                if lib_seq == Some(s) {
                    println!("  (the library now agrees with FORMAT.md: make this case `Same`)");
                }
                None
            }
            _ => None,
        }
    };
    problem.map(|p| {
        format!(
            "{}: {p}\n  library: ok={lib_ok} seq={lib_seq:?} {lib_said}\n  script: {}",
            c.name,
            v.output.trim()
        )
    })
}

#[test]
fn python_verifier_names_the_same_event_on_tampered_copies() {
    let dir = tempfile::tempdir().unwrap();

    // 1. A real ledger (system clock): every kind of row, two erasures (one with a
    //    withdrawal recorded after it), and a group whose last event does not move its
    //    `current` row (a refusal dated before the grant it follows).
    let real = dir.path().join("real.db");
    let l = Ledger::open(&real).unwrap();
    populate(&l, 12).unwrap();
    l.erase_subject("stu-0007", "retention period ended", Actor::staff("dpo"))
        .unwrap();
    l.append(NewEvent::withdraw("stu-0007", "jmsu.data-sharing"))
        .unwrap();
    let mut early =
        NewEvent::new(EventKind::Refused, "stu-0004", "jmsu.data-sharing").method(Method::WebForm);
    early.effective_at = Some(Timestamp::parse("2001-01-01").unwrap());
    let early = l.append(early).unwrap();
    l.append(give("stu-after", "jmsu.marketing")).unwrap();
    assert!(l.verify().unwrap().ok);
    l.close().unwrap();
    let grant_0004 = query(
        &real,
        "SELECT seq FROM current WHERE subject = 'stu-0004' AND purpose = 'jmsu.data-sharing'",
    );
    assert!(
        grant_0004 < early.seq,
        "the row is the grant's, not the last event's"
    );
    let configured = query(
        &real,
        "SELECT seq FROM events WHERE kind = 'ledger_configured'",
    );
    let second_purpose = query(
        &real,
        "SELECT seq FROM events WHERE kind = 'purpose_defined' ORDER BY seq LIMIT 1 OFFSET 1",
    );
    let first_erasure = query(
        &real,
        "SELECT min(seq) FROM events WHERE kind = 'subject_erased'",
    );

    // 2. A ledger migrated from schema 1 (the v1 fixture, opened once), with a second
    //    subject erased after the migration: its schema-1 rows are blanked with a
    //    marker that, in encoding 1, is not hashed.
    let migrated = dir.path().join("migrated.db");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../consent-core/tests/fixtures/v1-demo.db"),
        &migrated,
    )
    .unwrap();
    let l = Ledger::open(&migrated).unwrap();
    l.erase_subject("770003", "retention period ended", Actor::staff("dpo"))
        .unwrap();
    assert!(l.verify().unwrap().ok);
    let migrated_head = l.head().unwrap();
    l.close().unwrap();
    let v = py(&migrated, None, Some(&key_of(&migrated)));
    assert_eq!(v.head, Some(migrated_head.to_string()), "{}", v.output);

    // 3. A simulated ledger: OK, and said to be simulated.
    let simulated = dir.path().join("simulated.db");
    let t = Timestamp::parse("2024-09-01T09:00:00Z").unwrap();
    let l = Ledger::open_with(
        &simulated,
        LedgerOptions {
            create: true,
            clock: Some(Arc::new(move || t)),
            ..LedgerOptions::default()
        },
    )
    .unwrap();
    register_all(&l).unwrap();
    l.append(give("stu-sim", "jmsu.marketing")).unwrap();
    let r = l.verify().unwrap();
    assert!(r.ok && r.simulated, "{r:?}");
    let sim_head = l.head().unwrap();
    l.close().unwrap();
    let v = py(&simulated, None, Some(&key_of(&simulated)));
    assert!(v.ok && v.simulated, "{}", v.output);
    assert_eq!(v.head, Some(sim_head.to_string()));

    if let Ok(d) = std::env::var("IV_KEEP") {
        std::fs::create_dir_all(&d).unwrap();
        for b in [&real, &migrated, &simulated] {
            let n = b.file_name().unwrap().to_str().unwrap();
            std::fs::copy(b, format!("{d}/{n}")).unwrap();
            std::fs::copy(key_of(b), format!("{d}/{n}.key")).unwrap();
        }
    }
    let first_blanked_kept =
        "(SELECT min(seq) FROM events WHERE kind = 'withdrawn' AND salt IS NOT NULL)";
    let last_marker =
        "(SELECT subject_key FROM events WHERE kind = 'subject_erased' ORDER BY seq DESC LIMIT 1)";
    let mut cases = vec![
        // The cases of the brief, on the real ledger.
        case(
            "current: state flipped",
            &real,
            "UPDATE current SET state = 'withdrawn' WHERE (subject, purpose, recipient) = \
             (SELECT subject, purpose, recipient FROM current WHERE state = 'given' ORDER BY seq LIMIT 1)",
            Want::Same,
        ),
        case(
            "current: row of a group whose last event did not move it",
            &real,
            "UPDATE current SET state = 'revoked' WHERE subject = 'stu-0004' AND purpose = 'jmsu.data-sharing'",
            Want::Same,
        ),
        case(
            "events: BLOB in a TEXT column",
            &real,
            "UPDATE events SET kind = CAST(kind AS BLOB) WHERE seq = 5",
            Want::Same,
        ),
        case(
            "events: TEXT that is not UTF-8",
            &real,
            "UPDATE events SET recorded_by = CAST(x'73797374656dff' AS TEXT) WHERE seq = 9",
            Want::Same,
        ),
        case(
            "events: INTEGER in a BLOB column",
            &real,
            "UPDATE events SET target = 7 WHERE seq = 3",
            Want::Same,
        ),
        case(
            "erasure faked: a withdrawal blanked",
            &real,
            format!(
                "UPDATE events SET subject = NULL, salt = NULL, source_id = NULL, evidence = NULL \
                 WHERE seq = {first_blanked_kept}"
            ),
            Want::Same,
        ),
        case(
            "erasure faked: a grant blanked",
            &real,
            "UPDATE events SET subject = NULL, salt = NULL, source_id = NULL, evidence = NULL \
             WHERE seq = (SELECT max(seq) FROM events WHERE kind = 'given' AND subject = 'stu-0011')",
            Want::Same,
        ),
        case(
            "erasure: blanked event moved to another erased subject",
            &real,
            format!(
                "UPDATE events SET subject_key = {last_marker} WHERE seq = \
                 (SELECT min(seq) FROM events WHERE salt IS NULL AND kind IN {SUBJECT_KINDS})"
            ),
            Want::Same,
        ),
        case(
            "schema: planted trigger",
            &real,
            "CREATE TRIGGER planted AFTER INSERT ON events BEGIN SELECT 1; END;",
            Want::Same,
        ),
        case(
            "meta: a pepper",
            &real,
            "INSERT INTO meta VALUES ('pepper', randomblob(32))",
            Want::Same,
        ),
        case(
            "record time going backwards (system clock)",
            &real,
            "UPDATE events SET recorded_at = recorded_at - 60000 WHERE seq = (SELECT max(seq) FROM events)",
            Want::Same,
        ),
        case(
            "purposes: the first row rewritten",
            &real,
            "UPDATE purposes SET def = replace(def, 'Share', 'Sell') WHERE seq = \
             (SELECT min(seq) FROM purposes)",
            Want::Same,
        ),
        case(
            "erased: a row deleted",
            &real,
            "DELETE FROM erased WHERE seq = (SELECT min(seq) FROM erased)",
            Want::Same,
        ),
        // More of the same kind.
        case(
            "erased: a row no erasure records",
            &real,
            "INSERT INTO erased VALUES (randomblob(32), 5)",
            Want::Same,
        ),
        case(
            "current: a row no events imply",
            &real,
            "INSERT INTO current SELECT 'intruder', purpose, recipient, 'given', seq, event_id, \
             since, until, last_effective FROM current ORDER BY seq LIMIT 1",
            Want::Same,
        ),
        case(
            "current: a row deleted",
            &real,
            "DELETE FROM current WHERE recipient = 'NHS'",
            Want::Same,
        ),
        case(
            "notices: a row defined by no event",
            &real,
            "INSERT INTO notices SELECT 'forged.notice', '1', seq, registered_at, def FROM notices",
            Want::Same,
        ),
        case(
            "purposes: seq of the wrong type",
            &real,
            "UPDATE purposes SET seq = 'x' WHERE seq = (SELECT max(seq) FROM purposes)",
            Want::Same,
        ),
        case(
            "events: a gap",
            &real,
            "DELETE FROM events WHERE seq = 20",
            Want::Same,
        ),
        case(
            "tree: an interior hash",
            &real,
            "UPDATE tree SET hash = zeroblob(32) WHERE level = 2 AND idx = 3",
            Want::Same,
        ),
        case(
            "tree: a row at a negative position",
            &real,
            "INSERT INTO tree VALUES (0, -5, zeroblob(32))",
            Want::Same,
        ),
        case(
            "events: source_key of a grant changed (E7)",
            &real,
            "UPDATE events SET source_key = randomblob(32) WHERE seq = \
             (SELECT min(seq) FROM events WHERE source_id IS NOT NULL)",
            Want::Same,
        ),
        case(
            "meta: schema version 3",
            &real,
            "UPDATE meta SET value = 3 WHERE key = 'schema_version'",
            Want::Same,
        ),
        case(
            "schema: an index dropped",
            &real,
            "DROP INDEX events_by_purpose",
            Want::Same,
        ),
        // The migrated ledger: encoding-1 rows, whose marker is not hashed.
        case(
            "migrated: legacy-erased row moved to another erased subject",
            &migrated,
            format!(
                "UPDATE events SET subject_key = {last_marker} WHERE seq = \
                 (SELECT min(seq) FROM events WHERE salt IS NULL AND encoding = 1 AND kind IN {SUBJECT_KINDS})"
            ),
            Want::Same,
        ),
        case(
            "migrated: row listed by a new erasure moved to the legacy marker",
            &migrated,
            "UPDATE events SET subject_key = (SELECT subject_key FROM events WHERE kind = 'subject_erased' \
             ORDER BY seq LIMIT 1) WHERE seq = (SELECT min(seq) FROM events WHERE salt IS NULL \
             AND encoding = 1 AND subject_key = (SELECT subject_key FROM events \
             WHERE kind = 'subject_erased' ORDER BY seq DESC LIMIT 1))",
            Want::Same,
        ),
        case(
            "migrated: legacy erased row deleted",
            &migrated,
            "DELETE FROM erased WHERE seq = (SELECT min(seq) FROM erased)",
            Want::Same,
        ),
        case(
            "migrated: unblanked encoding-1 row with a marker",
            &migrated,
            "UPDATE events SET subject_key = randomblob(32) WHERE seq = \
             (SELECT max(seq) FROM events WHERE encoding = 1 AND salt IS NOT NULL)",
            Want::Same,
        ),
        case(
            "migrated: source_key of an encoding-1 row dropped",
            &migrated,
            "UPDATE events SET source_key = NULL WHERE seq = \
             (SELECT max(seq) FROM events WHERE encoding = 1 AND source_id IS NOT NULL)",
            Want::Same,
        ),
        case(
            "migrated: source_key of an encoding-1 row changed (E7)",
            &migrated,
            "UPDATE events SET source_key = randomblob(32) WHERE seq = \
             (SELECT max(seq) FROM events WHERE encoding = 1 AND source_id IS NOT NULL)",
            Want::Same,
        ),
        case(
            "migrated: schema-1 pepper put back",
            &migrated,
            "INSERT INTO meta VALUES ('pepper', randomblob(32))",
            Want::Same,
        ),
        case(
            "simulated: a record time changed",
            &simulated,
            "UPDATE events SET recorded_at = recorded_at - 1 WHERE seq = 2",
            Want::Same,
        ),
        // Known disagreements between FORMAT.md §8 and the library.
        //
        // §8: "the seq of the registry event whose row differs"; the library names the
        // first purpose_defined event of the log whatever row differs.
        case(
            "purposes: the second row rewritten",
            &real,
            format!("UPDATE purposes SET def = def || ' ' WHERE seq = {second_purpose}"),
            Want::Spec(second_purpose),
        ),
        case(
            "purposes: registered_at of the second row changed",
            &real,
            format!(
                "UPDATE purposes SET registered_at = registered_at + 1 WHERE seq = {second_purpose}"
            ),
            Want::Spec(second_purpose),
        ),
        // §8: a stored `current` row of the wrong types is named by the rebuilt row with
        // the same subject, purpose and recipient. The library names 0.
        case(
            "current: subject stored as a BLOB",
            &real,
            "UPDATE current SET subject = CAST(subject AS BLOB) WHERE subject = 'stu-0004' \
             AND purpose = 'jmsu.data-sharing'",
            Want::Spec(grant_0004),
        ),
        // §8 names an `erased` row by its erasure's seq ("0 for the wrong types" is said
        // of registry rows only); the library names 0.
        case(
            "erased: marker stored as TEXT",
            &real,
            format!("UPDATE erased SET subject_key = CAST(subject_key AS TEXT) WHERE seq = {first_erasure}"),
            Want::Spec(first_erasure),
        ),
        // A stored `current` row naming seq -4: a wrong value, and no rebuilt row has its
        // subject, so §8 names 0; the library names 2^64 - 4.
        case(
            "current: a row no events imply, with seq -4",
            &real,
            "INSERT INTO current SELECT 'intruder', purpose, recipient, 'given', -4, event_id, \
             since, until, last_effective FROM current ORDER BY seq LIMIT 1",
            Want::Spec(0),
        ),
    ];
    // §8 step 3 makes a key whose id differs a bad `ledger_configured` row; the
    // library refuses to open the ledger with it (no verify report).
    cases.push(Case {
        key: Some(key_of(&simulated)),
        ..case("another ledger's key", &real, "", Want::Spec(configured))
    });

    let failures: Vec<String> = cases
        .iter()
        .enumerate()
        .filter_map(|(n, c)| run(dir.path(), n, c))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
