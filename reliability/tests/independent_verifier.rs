//! `tools/verify_ledger.py`, written only from docs/FORMAT.md, agrees with `verify`: the
//! same verdict and the same first bad seq, on sound ledgers and on tampered copies.
//!
//! The copies are tampered with as an attacker with write access would: plain SQL
//! through rusqlite, nothing recomputed — or, for the value and erasure rules of §6 and
//! §8 step 3, with the personal digests and the whole tree recomputed afterwards, so
//! that only the rule can tell. The pseudonym key file is copied with each ledger and
//! given to both checkers, so erasure rule E7 is checked too.
//!
//! Where FORMAT.md and the library disagree, the case is a known disagreement
//! (`Want::Spec`): the script must name what FORMAT.md names; the library's answer is
//! printed.
//!
//! python3 is required: without it these tests fail (they do not skip).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use consent_core::{
    Ack, Actor, DownstreamDef, EventKind, Ledger, LedgerOptions, Method, NewEvent, Timestamp,
};
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

/// The library's verdict.
struct Library {
    /// `verify()` said OK.
    ok: bool,
    /// `verify()`'s first bad seq.
    seq: Option<u64>,
    /// It refused to open the file at all (schema, meta, key, corrupt configuration):
    /// no `verify()` report.
    refused: bool,
    /// What it said.
    said: String,
}

fn library(ledger: &Path) -> Library {
    match Ledger::open(ledger).and_then(|l| l.verify()) {
        Ok(r) => Library {
            ok: r.ok,
            seq: r.first_bad_seq,
            refused: false,
            said: format!("{r:?}"),
        },
        Err(e) => Library {
            ok: false,
            seq: None,
            refused: true,
            said: format!("refused to open: {e}"),
        },
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
    // A checkpoint the ledger signed and keeps: both checkers require the log to hold it.
    let log_key = consent_core::consent_note::SigningKey::from_seed(
        "ljmu.ac.uk/consent",
        consent_core::consent_note::SignatureType::Ed25519,
        &[3; 32],
    )
    .unwrap();
    l.sign_checkpoint(&log_key).unwrap();
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
        "UPDATE tree SET hash = zeroblob(32) WHERE level = 1 AND idx = 49",
        "UPDATE tree SET hash = zeroblob(32) WHERE level = 4 AND idx = 2",
        "UPDATE events SET details = replace(details, 'JMSU', 'ACME') WHERE seq = 1",
        "UPDATE events SET salt = NULL WHERE seq = 13",
        "INSERT INTO tree VALUES (0, 100000, zeroblob(32))",
        // The kept checkpoint no longer held: another root, a size beyond the log.
        "UPDATE checkpoints SET note = replace(note, substr(note, instr(note, char(10)) + 1 + length(size) + 1, 8), 'AAAAAAAA')",
        "UPDATE checkpoints SET size = size + 100, note = replace(note, char(10) || size || char(10), char(10) || (size + 100) || char(10))",
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
        .execute("UPDATE meta SET value = 5 WHERE key = 'schema_version'", [])
        .unwrap();
    assert!(!py(&newer, None, None).ok);
}

/// What the two checkers must say about a tampered copy.
enum Want {
    /// The same: both BAD, naming the same seq (or none).
    Same,
    /// The library refuses to open the file, as FORMAT.md says it does (another
    /// ledger's key); the script names the seq FORMAT.md §8 names (given).
    Refused(u64),
    /// (None today: kept for the next one found.)
    #[allow(dead_code)]
    /// A known disagreement between FORMAT.md and the library: the script names the
    /// seq FORMAT.md §8 names (given), the library something else, or nothing. When
    /// the library comes to agree, the case says so in its output (make it `Same`
    /// then).
    Spec(u64),
}

struct Case {
    name: &'static str,
    base: PathBuf,
    sql: String,
    want: Want,
    /// Verify with another ledger's key instead of the copy's own.
    key: Option<PathBuf>,
    /// After the SQL, recompute every leaf and interior hash from the rows, as a
    /// writer who knows §3 would: only the rules of §6 and §8 step 3 can then tell.
    rehash: bool,
}

fn case(name: &'static str, base: &Path, sql: impl Into<String>, want: Want) -> Case {
    Case {
        name,
        base: base.to_path_buf(),
        sql: sql.into(),
        want,
        key: None,
        rehash: false,
    }
}

/// As `case`, with the tree recomputed after the SQL: the tampering breaks no hash.
fn rehashed(name: &'static str, base: &Path, sql: impl Into<String>, want: Want) -> Case {
    Case {
        rehash: true,
        ..case(name, base, sql, want)
    }
}

/// Recomputes the personal digest of every row with a salt (FORMAT.md §3.2) and rewrites
/// the `tree` table from the events (§3.3, §3.4), with the encodings of
/// tools/verify_ledger.py.
fn rehash(ledger: &Path) {
    const REHASH: &str = r#"
import sqlite3, sys
sys.path.insert(0, sys.argv[1])
import verify_ledger as v
conn = sqlite3.connect(sys.argv[2])
conn.text_factory = bytes
for seq, salt, subject, source_id, evidence in conn.execute(
        "SELECT seq, salt, subject, source_id, evidence FROM events WHERE salt IS NOT NULL").fetchall():
    digest = v.sha256(v.PERSONAL_DOMAIN + v.field(salt) + v.field(subject) + v.field(source_id)
                      + v.field(evidence))
    conn.execute("UPDATE events SET personal_digest = ? WHERE seq = ?", (digest, seq))
cols = [c for c, _, _, _ in v.EVENT_COLUMNS]
leaves = [v.sha256(b"\x00" + v.Checker.canonical(dict(zip(cols, row))))
          for row in conn.execute(f"SELECT {', '.join(cols)} FROM events NOT INDEXED ORDER BY seq")]
conn.execute("DELETE FROM tree")
level, hashes = 0, leaves
while hashes:
    conn.executemany("INSERT INTO tree VALUES (?, ?, ?)",
                     [(level, i, h) for i, h in enumerate(hashes)])
    hashes = [v.node(hashes[2 * i], hashes[2 * i + 1]) for i in range(len(hashes) // 2)]
    level += 1
conn.commit()
"#;
    let tools = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools");
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(REHASH)
        .arg(tools)
        .arg(ledger)
        .output()
        .expect("python3 is required");
    assert!(
        out.status.success(),
        "rehash failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
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
    if c.rehash {
        rehash(&copy);
    }
    let key = c.key.clone().unwrap_or_else(|| key_of(&copy));
    // The script first: it opens the file read-only and changes nothing.
    let v = py(&copy, None, Some(&key));
    if c.key.is_some() {
        std::fs::copy(&key, key_of(&copy)).unwrap();
    }
    let lib = library(&copy);
    remove(&copy);
    let first_line = v.output.lines().next().unwrap_or_default().to_string();
    println!(
        "{:<48} library: {} | script: {first_line}",
        c.name,
        match (lib.refused, lib.ok) {
            (true, _) => "refused to open".to_string(),
            (false, true) => "OK".to_string(),
            (false, false) => format!("BAD seq {:?}", lib.seq),
        }
    );
    let problem = if v.ok {
        Some("the script must say BAD")
    } else {
        match c.want {
            // A refusal to open is BAD naming no seq (schema, meta: §8 step 1).
            Want::Same if lib.ok => Some("the library must say BAD"),
            Want::Same if v.first_bad_seq != lib.seq => Some("the seqs differ"),
            Want::Same => None,
            Want::Refused(_) if !lib.refused => Some("the library must refuse to open it"),
            Want::Refused(s) | Want::Spec(s) if v.first_bad_seq != Some(s) => {
                Some("the script does not name the seq FORMAT.md names")
            }
            Want::Refused(_) => None,
            Want::Spec(s) => {
                if !lib.ok && !lib.refused && lib.seq == Some(s) {
                    println!("  (the library now agrees with FORMAT.md: make this case `Same`)");
                }
                None
            }
        }
    };
    problem.map(|p| {
        format!(
            "{}: {p}\n  library: {}\n  script: {}",
            c.name,
            lib.said,
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
    // A ledger with a downstream system (FORMAT.md §13): its registration, a grant in
    // its feed, and an acknowledgement of each form (a ledger of its own, so that the
    // sizes the tree cases of `real` rely on stay as they are).
    let fed_db = dir.path().join("fed.db");
    let l = Ledger::open(&fed_db).unwrap();
    register_all(&l).unwrap();
    l.append(give("stu-other", "jmsu.marketing")).unwrap();
    l.register_downstream(
        DownstreamDef::new("jmsu.feed", "JMSU feed", "JMSU", ["jmsu.data-sharing"]),
        Actor::staff("dpo"),
    )
    .unwrap();
    let fed = l.append(give("stu-fed", "jmsu.data-sharing")).unwrap();
    // A withdrawal with no grant on record: never in the feed (the student never
    // opted in).
    l.append(NewEvent::withdraw("stu-never", "jmsu.data-sharing"))
        .unwrap();
    l.acknowledge("jmsu.feed", Ack::UpTo(fed.seq), Actor::system("jmsu"))
        .unwrap();
    l.acknowledge("jmsu.feed", Ack::Event(fed.id), Actor::system("jmsu"))
        .unwrap();
    // Retired, the feed shows no new grant but still the end of one it showed: an
    // acknowledgement of that withdrawal is sound to both checkers.
    l.retire_downstream("jmsu.feed", Actor::staff("dpo"))
        .unwrap();
    l.append(give("stu-late", "jmsu.data-sharing")).unwrap();
    let ended = l
        .append(NewEvent::withdraw("stu-fed", "jmsu.data-sharing"))
        .unwrap();
    l.acknowledge("jmsu.feed", Ack::Event(ended.id), Actor::system("jmsu"))
        .unwrap();
    // The student opts in again and out again: the retired feed never got that grant,
    // so that withdrawal is not in its feed (a tampered acknowledgement of it, below).
    l.append(give("stu-fed", "jmsu.data-sharing")).unwrap();
    l.append(NewEvent::withdraw("stu-fed", "jmsu.data-sharing"))
        .unwrap();
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
    let first_grant = query(&real, "SELECT min(seq) FROM events WHERE kind = 'given'");
    let real_size = query(&real, "SELECT count(*) FROM events");

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

    // 4. A returning student (FORMAT.md §6, readmission): erased, a withdrawal while
    //    erased, readmitted, a new grant, erased again, readmitted again, a grant that
    //    stands; a subject who stays erased; and an objection overruled by staff, whose
    //    `current` row is `not_consent_based`.
    let returning = dir.path().join("returning.db");
    let l = Ledger::open(&returning).unwrap();
    register_all(&l).unwrap();
    let staff = || Actor::staff("registry");
    l.append(give("stu-ret", "jmsu.marketing").source_id("ret-1"))
        .unwrap();
    l.append(give("stu-ret", "jmsu.data-sharing")).unwrap();
    let e1 = l.erase_subject("stu-ret", "left", staff()).unwrap().seq;
    let w1 = l
        .append(NewEvent::withdraw("stu-ret", "jmsu.marketing"))
        .unwrap()
        .seq;
    let r1 = l
        .readmit_subject("stu-ret", "enrolled again", staff())
        .unwrap()
        .seq;
    let g2 = l.append(give("stu-ret", "jmsu.marketing")).unwrap().seq;
    let e2 = l
        .erase_subject("stu-ret", "left again", staff())
        .unwrap()
        .seq;
    let r2 = l
        .readmit_subject("stu-ret", "enrolled once more", staff())
        .unwrap()
        .seq;
    let g3 = l.append(give("stu-ret", "jmsu.marketing")).unwrap().seq;
    l.append(give("stu-gone", "jmsu.marketing")).unwrap();
    let gone = l.erase_subject("stu-gone", "left", staff()).unwrap().seq;
    l.append(NewEvent::new(
        EventKind::Objected,
        "stu-obj",
        "it.my-engagement",
    ))
    .unwrap();
    let overruled = l
        .append(
            NewEvent::new(EventKind::ObjectionOverruled, "stu-obj", "it.my-engagement")
                .recorded_by(Actor::staff("dpo")),
        )
        .unwrap()
        .seq;
    assert!(e1 < w1 && w1 < r1 && r1 < g2 && g2 < e2 && e2 < r2 && r2 < g3);
    assert!(l.verify().unwrap().ok);
    let returning_head = l.head().unwrap();
    l.close().unwrap();
    let v = py(&returning, None, Some(&key_of(&returning)));
    assert_eq!(v.head, Some(returning_head.to_string()), "{}", v.output);
    assert_eq!(
        (
            query(&returning, "SELECT count(*) FROM erased"),
            query(&returning, "SELECT seq FROM erased")
        ),
        (1, gone),
        "only the erasure no readmission ended keeps its marker"
    );
    assert_eq!(
        query(
            &returning,
            "SELECT seq FROM current WHERE subject = 'stu-obj' AND state = 'not_consent_based'"
        ),
        overruled
    );
    let returning_size = query(&returning, "SELECT count(*) FROM events");

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
            "UPDATE tree SET hash = zeroblob(32) WHERE level = 2 AND idx = 9",
            Want::Same,
        ),
        case(
            "tree: the node of a completed block",
            &real,
            "UPDATE tree SET hash = zeroblob(32) WHERE level = 4 AND idx = 1",
            Want::Same,
        ),
        case(
            "tree: a low row kept in a completed block",
            &real,
            "INSERT INTO tree VALUES (1, 3, zeroblob(32))",
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
            "meta: schema version 4",
            &real,
            "UPDATE meta SET value = 5 WHERE key = 'schema_version'",
            Want::Same,
        ),
        case(
            "schema: an index dropped",
            &real,
            "DROP INDEX events_by_subject",
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
        // Registry and `current` rows, named as §8 "The seq to name" says.
        case(
            "purposes: the second row rewritten",
            &real,
            format!("UPDATE purposes SET def = def || ' ' WHERE seq = {second_purpose}"),
            Want::Same,
        ),
        case(
            "purposes: registered_at of the second row changed",
            &real,
            format!(
                "UPDATE purposes SET registered_at = registered_at + 1 WHERE seq = {second_purpose}"
            ),
            Want::Same,
        ),
        case(
            "purposes: version of the second row changed",
            &real,
            format!("UPDATE purposes SET version = 7 WHERE seq = {second_purpose}"),
            Want::Same,
        ),
        case(
            "purposes: a row no event defines, seq 1000",
            &real,
            "INSERT INTO purposes SELECT 'forged.purpose', 1, 1000, registered_at, def \
             FROM purposes LIMIT 1",
            Want::Same,
        ),
        case(
            "purposes: a row no event defines, seq -3",
            &real,
            "INSERT INTO purposes SELECT 'forged.purpose', 1, -3, registered_at, def \
             FROM purposes LIMIT 1",
            Want::Same,
        ),
        case(
            "current: subject stored as a BLOB",
            &real,
            "UPDATE current SET subject = CAST(subject AS BLOB) WHERE subject = 'stu-0004' \
             AND purpose = 'jmsu.data-sharing'",
            Want::Same,
        ),
        case(
            "current: a row no events imply, with seq -4",
            &real,
            "INSERT INTO current SELECT 'intruder', purpose, recipient, 'given', -4, event_id, \
             since, until, last_effective FROM current ORDER BY seq LIMIT 1",
            Want::Same,
        ),
        case(
            "current: a row no events imply, with seq 1000",
            &real,
            "INSERT INTO current SELECT 'intruder', purpose, recipient, 'given', 1000, event_id, \
             since, until, last_effective FROM current ORDER BY seq LIMIT 1",
            Want::Same,
        ),
        case(
            "current: a group's row given seq -4",
            &real,
            "UPDATE current SET seq = -4 WHERE subject = 'stu-0004' AND purpose = 'jmsu.data-sharing'",
            Want::Same,
        ),
        case(
            "erased: a row no erasure records, seq 1000",
            &real,
            "INSERT INTO erased VALUES (randomblob(32), 1000)",
            Want::Same,
        ),
        // The hashes of a chunk: a bad row, and leaves, before interior hashes; interior
        // hashes lowest level first. (§8 says "the smallest of its bad row's seq, its
        // first bad leaf, and — only when the chunk had no bad row — k << L": read
        // literally that would name 4 in the first case; both checkers name the leaf,
        // as they name a lone changed event by its own seq, not by its parent's.)
        case(
            "tree: a leaf and a lower interior hash",
            &real,
            "UPDATE tree SET hash = zeroblob(32) WHERE level = 0 AND idx = 41; \
             UPDATE tree SET hash = zeroblob(32) WHERE level = 1 AND idx = 17",
            Want::Same,
        ),
        case(
            "tree: two interior hashes, the lower level first",
            &real,
            "UPDATE tree SET hash = zeroblob(32) WHERE level = 2 AND idx = 8; \
             UPDATE tree SET hash = zeroblob(32) WHERE level = 1 AND idx = 19",
            Want::Same,
        ),
        case(
            "events: a bad row after a bad leaf",
            &real,
            "UPDATE events SET explicit = 5 WHERE seq = 40; \
             UPDATE tree SET hash = zeroblob(32) WHERE level = 0 AND idx = 35",
            Want::Same,
        ),
        case(
            "events: a bad row and a lower interior hash",
            &real,
            "UPDATE events SET explicit = 5 WHERE seq = 20; \
             UPDATE tree SET hash = zeroblob(32) WHERE level = 1 AND idx = 2",
            Want::Same,
        ),
        // §13, D1-D3: the downstream events, every hash recomputed.
        rehashed(
            "downstream: an acknowledgement names an unregistered downstream",
            &fed_db,
            "UPDATE events SET details = replace(details, '\"jmsu.feed\"', '\"nobody\"') \
             WHERE kind = 'downstream_acknowledged' AND target IS NULL",
            Want::Same,
        ),
        rehashed(
            "downstream: up_to beyond the acknowledgement itself",
            &fed_db,
            "UPDATE events SET details = '{\"downstream\":\"jmsu.feed\",\"up_to\":999999}' \
             WHERE kind = 'downstream_acknowledged' AND target IS NULL",
            Want::Same,
        ),
        rehashed(
            "downstream: a target its feed never showed",
            &fed_db,
            "UPDATE events SET target = (SELECT id FROM events WHERE kind = 'given' \
             AND purpose = 'jmsu.marketing' ORDER BY seq LIMIT 1) \
             WHERE kind = 'downstream_acknowledged' AND target IS NOT NULL",
            Want::Same,
        ),
        rehashed(
            "downstream: a target granted after the downstream retired",
            &fed_db,
            "UPDATE events SET target = (SELECT id FROM events WHERE kind = 'given' \
             AND subject = 'stu-late') WHERE kind = 'downstream_acknowledged' AND target IS NOT NULL",
            Want::Same,
        ),
        rehashed(
            "downstream: a target ending a grant made after the downstream retired",
            &fed_db,
            "UPDATE events SET target = (SELECT id FROM events WHERE kind = 'withdrawn' \
             AND subject = 'stu-fed' ORDER BY seq DESC LIMIT 1) \
             WHERE kind = 'downstream_acknowledged' AND target IS NOT NULL",
            Want::Same,
        ),
        rehashed(
            "downstream: a target whose student never opted in",
            &fed_db,
            "UPDATE events SET target = (SELECT id FROM events WHERE kind = 'withdrawn' \
             ORDER BY seq LIMIT 1) WHERE kind = 'downstream_acknowledged' AND target IS NOT NULL",
            Want::Same,
        ),
        rehashed(
            "downstream: both up_to and a target",
            &fed_db,
            "UPDATE events SET target = (SELECT id FROM events WHERE kind = 'given' \
             ORDER BY seq DESC LIMIT 1) WHERE kind = 'downstream_acknowledged' AND target IS NULL",
            Want::Same,
        ),
        rehashed(
            "downstream: a registration skips a version",
            &fed_db,
            "UPDATE events SET details = replace(details, '\"version\":1', '\"version\":2') \
             WHERE kind = 'downstream_registered'",
            Want::Same,
        ),
        rehashed(
            "downstream: a registration names an undefined purpose",
            &fed_db,
            "UPDATE events SET details = replace(details, 'jmsu.data-sharing', 'no.such') \
             WHERE kind = 'downstream_registered'",
            Want::Same,
        ),
        // The same rules for ids (§5) and names as the library's: the checkers agree.
        rehashed(
            "downstream: a registration id with a control character",
            &fed_db,
            "UPDATE events SET details = replace(details, '\"id\":\"jmsu.feed\"', \
             '\"id\":\"jmsu\\u0007.feed\"') WHERE kind = 'downstream_registered'",
            Want::Same,
        ),
        rehashed(
            "downstream: a registration id not in NFC",
            &fed_db,
            "UPDATE events SET details = replace(details, '\"id\":\"jmsu.feed\"', \
             '\"id\":\"jmsu.fe\\u0301ed\"') WHERE kind = 'downstream_registered'",
            Want::Same,
        ),
        rehashed(
            "downstream: a registration recipient with a leading space",
            &fed_db,
            "UPDATE events SET details = replace(details, '\"purposes\":[\"jmsu.data-sharing\"]', \
             '\"purposes\":[\"jmsu.data-sharing\"],\"recipient\":\" JMSU\"') \
             WHERE kind = 'downstream_registered'",
            Want::Same,
        ),
        rehashed(
            "downstream: a registration name with a control character",
            &fed_db,
            "UPDATE events SET details = replace(details, '\"name\":\"JMSU feed\"', \
             '\"name\":\"JMSU\\tfeed\"') WHERE kind = 'downstream_registered'",
            Want::Same,
        ),
        rehashed(
            "downstream: an acknowledgement by the subject",
            &fed_db,
            "UPDATE events SET recorded_by = 'subject' WHERE kind = 'downstream_acknowledged' \
             AND target IS NULL",
            Want::Same,
        ),
        rehashed(
            "downstream: a registration with a purpose column",
            &fed_db,
            "UPDATE events SET purpose = 'jmsu.marketing' WHERE kind = 'downstream_registered'",
            Want::Same,
        ),
        // §8 step 3, values — with every hash recomputed, so that only the rule tells.
        rehashed(
            "values: explicit = 2",
            &real,
            format!("UPDATE events SET explicit = 2 WHERE seq = {first_grant}"),
            Want::Same,
        ),
        case(
            "values: explicit = 2 (hashes not recomputed)",
            &real,
            format!("UPDATE events SET explicit = 2 WHERE seq = {first_grant}"),
            Want::Same,
        ),
        rehashed(
            "values: an unknown method",
            &real,
            format!("UPDATE events SET method = 'fax' WHERE seq = {first_grant}"),
            Want::Same,
        ),
        rehashed(
            "values: recorded_by of no known form",
            &real,
            format!("UPDATE events SET recorded_by = 'robot' WHERE seq = {first_grant}"),
            Want::Same,
        ),
        rehashed(
            "values: recorded_by staff:<id with a leading space>",
            &real,
            "UPDATE events SET recorded_by = 'staff: clerk-1' WHERE seq = \
             (SELECT min(seq) FROM events WHERE recorded_by = 'staff:clerk-1')",
            Want::Same,
        ),
        rehashed(
            "values: expires_at after the year 9999",
            &real,
            format!("UPDATE events SET expires_at = 253402300800000 WHERE seq = {first_grant}"),
            Want::Same,
        ),
        rehashed(
            "values: effective_at before the year 1",
            &real,
            format!("UPDATE events SET effective_at = -62135596800001 WHERE seq = {first_grant}"),
            Want::Same,
        ),
        rehashed(
            "values: an id of 15 bytes",
            &real,
            format!("UPDATE events SET id = randomblob(15) WHERE seq = {first_grant}"),
            Want::Same,
        ),
        rehashed(
            "values: a target of 17 bytes",
            &real,
            "UPDATE events SET target = randomblob(17) WHERE kind = 'invalidated'",
            Want::Same,
        ),
        rehashed(
            "values: a subject_key on a purpose_defined event",
            &real,
            format!("UPDATE events SET subject_key = randomblob(32) WHERE seq = {second_purpose}"),
            Want::Same,
        ),
        rehashed(
            "values: a source_key on the notice_defined event",
            &real,
            "UPDATE events SET source_key = randomblob(32) WHERE kind = 'notice_defined'",
            Want::Same,
        ),
        rehashed(
            "values: a personal_digest on ledger_configured",
            &real,
            "UPDATE events SET personal_digest = randomblob(32) WHERE kind = 'ledger_configured'",
            Want::Same,
        ),
        rehashed(
            "a subject event naming an undefined purpose version",
            &real,
            format!("UPDATE events SET purpose_version = 2 WHERE seq = {first_grant}"),
            Want::Same,
        ),
        rehashed(
            "notice_defined naming another notice id",
            &real,
            "UPDATE events SET details = json_set(details, '$.id', 'other.notice') \
             WHERE kind = 'notice_defined'",
            Want::Same,
        ),
        rehashed(
            "notice_defined naming another version",
            &real,
            "UPDATE events SET details = json_set(details, '$.version', '1999-01') \
             WHERE kind = 'notice_defined'",
            Want::Same,
        ),
        // E1-E3, with every hash recomputed.
        rehashed(
            "E1: an erasure without a reason",
            &real,
            format!(
                "UPDATE events SET details = json_remove(details, '$.reason') WHERE seq = {first_erasure}"
            ),
            Want::Same,
        ),
        rehashed(
            "E1: an erasure with an empty reason",
            &real,
            format!(
                "UPDATE events SET details = json_set(details, '$.reason', '') WHERE seq = {first_erasure}"
            ),
            Want::Same,
        ),
        rehashed(
            "E1: an erasure with a source_key",
            &real,
            format!("UPDATE events SET source_key = randomblob(32) WHERE seq = {first_erasure}"),
            Want::Same,
        ),
        case(
            "E1: erased_seqs [a, a]",
            &real,
            format!(
                "UPDATE events SET details = json_set(details, '$.erased_seqs[1]', \
                 json_extract(details, '$.erased_seqs[0]')) WHERE seq = {first_erasure}"
            ),
            Want::Same,
        ),
        rehashed(
            "E1: erased_seqs [a, a] (hashes recomputed)",
            &real,
            format!(
                "UPDATE events SET details = json_set(details, '$.erased_seqs[1]', \
                 json_extract(details, '$.erased_seqs[0]')) WHERE seq = {first_erasure}"
            ),
            Want::Same,
        ),
        rehashed(
            "E1: erased_seqs descending",
            &real,
            format!(
                "UPDATE events SET details = json_set(details, \
                 '$.erased_seqs[0]', json_extract(details, '$.erased_seqs[1]'), \
                 '$.erased_seqs[1]', json_extract(details, '$.erased_seqs[0]')) \
                 WHERE seq = {first_erasure}"
            ),
            Want::Same,
        ),
        rehashed(
            "E3: events_erased is not the length of erased_seqs",
            &real,
            format!(
                "UPDATE events SET details = json_set(details, '$.events_erased', 3) \
                 WHERE seq = {first_erasure}"
            ),
            Want::Same,
        ),
        rehashed(
            "E3: a seq listed by two erasures",
            &real,
            format!(
                "UPDATE events SET details = json_set(details, '$.erased_seqs[0]', \
                 (SELECT json_extract(details, '$.erased_seqs[1]') FROM events \
                  WHERE seq = {first_erasure})) \
                 WHERE seq = (SELECT max(seq) FROM events WHERE kind = 'subject_erased')"
            ),
            Want::Same,
        ),
        // The migrated ledger: the rules of schema-1 rows.
        case(
            "migrated: a schema-1 row without source_id given a source_key",
            &migrated,
            "UPDATE events SET source_key = randomblob(32) WHERE seq = (SELECT max(seq) FROM events \
             WHERE encoding = 1 AND salt IS NOT NULL AND source_id IS NULL)",
            Want::Same,
        ),
        case(
            "migrated: a row erased before the migration given a source_key (E5)",
            &migrated,
            format!(
                "UPDATE events SET source_key = randomblob(32) WHERE seq = (SELECT min(seq) \
                 FROM events WHERE encoding = 1 AND salt IS NULL AND source_key IS NULL \
                 AND kind IN {SUBJECT_KINDS})"
            ),
            Want::Same,
        ),
        case(
            "migrated: a row recorded after its schema-1 erasure given a source_key (E5)",
            &migrated,
            format!(
                "UPDATE events SET source_key = randomblob(32) WHERE seq = (SELECT max(seq) \
                 FROM events WHERE encoding = 1 AND salt IS NULL AND source_key IS NULL \
                 AND kind IN {SUBJECT_KINDS})"
            ),
            Want::Same,
        ),
        rehashed(
            "migrated: erased_before_migration not strictly ascending",
            &migrated,
            "UPDATE events SET details = json_set(details, \
             '$.erased_before_migration[0]', json_extract(details, '$.erased_before_migration[1]'), \
             '$.erased_before_migration[1]', json_extract(details, '$.erased_before_migration[0]')) \
             WHERE kind = 'ledger_configured'",
            Want::Same,
        ),
        rehashed(
            "migrated: a schema-1 erasure's marker in uppercase hex",
            &migrated,
            "UPDATE events SET details = json_set(details, '$.subject_key', \
             upper(json_extract(details, '$.subject_key'))) \
             WHERE encoding = 1 AND kind = 'subject_erased'",
            Want::Same,
        ),
        rehashed(
            "migrated: a schema-1 erasure without a reason",
            &migrated,
            "UPDATE events SET details = json_remove(details, '$.reason') \
             WHERE encoding = 1 AND kind = 'subject_erased'",
            Want::Same,
        ),
        case(
            "events: a copy of the last event appended, no tree rows",
            &real,
            format!(
                "INSERT INTO events SELECT {size}, randomblob(16), kind, subject, salt, \
                 personal_digest, purpose, purpose_version, recipient, notice_id, notice_version, \
                 notice_sha256, explicit, method, recorded_by, effective_at, recorded_at, \
                 expires_at, effect_deadline, NULL, evidence, target, details, subject_key, NULL, \
                 encoding FROM events WHERE seq = {last}",
                size = real_size,
                last = real_size - 1
            ),
            Want::Same,
        ),
        // Once disagreements between FORMAT.md and the library, settled since.
        //
        // §5: an identifier — actor ids among them — is 1-1024 bytes, so §8 step 3
        // refuses `recorded_by` `staff:` + 1100 bytes.
        rehashed(
            "values: recorded_by staff:<1100 bytes>",
            &real,
            format!(
                "UPDATE events SET recorded_by = 'staff:' || replace(hex(zeroblob(550)), '0', 'a') \
                 WHERE seq = {first_grant}"
            ),
            Want::Same,
        ),
        // §2 gives `salt` 16 bytes, `personal_digest` and `notice_sha256` 32 (§8 step 3).
        rehashed(
            "values: a notice_sha256 of 1 byte",
            &real,
            format!("UPDATE events SET notice_sha256 = x'00' WHERE seq = {first_grant}"),
            Want::Same,
        ),
        rehashed(
            "values: a salt of 8 bytes (digest recomputed)",
            &real,
            format!("UPDATE events SET salt = randomblob(8) WHERE seq = {first_grant}"),
            Want::Same,
        ),
        rehashed(
            "values: a personal_digest of 16 bytes on a blanked row",
            &real,
            format!(
                "UPDATE events SET personal_digest = randomblob(16) WHERE seq = \
                 (SELECT min(seq) FROM events WHERE salt IS NULL AND kind IN {SUBJECT_KINDS})"
            ),
            Want::Same,
        ),
        // §8 names an `erased` row by its erasure's seq, and a row no event records by its
        // own seq.
        case(
            "erased: marker stored as TEXT",
            &real,
            format!(
                "UPDATE erased SET subject_key = CAST(subject_key AS TEXT) WHERE seq = {first_erasure}"
            ),
            Want::Same,
        ),
        case(
            "erased: seq stored as TEXT",
            &real,
            format!("UPDATE erased SET seq = 'x' WHERE seq = {first_erasure}"),
            Want::Same,
        ),
        case(
            "erased: a TEXT marker no erasure records",
            &real,
            format!("INSERT INTO erased VALUES ('forged', {grant_0004})"),
            Want::Same,
        ),
        // §8: the library refuses to open a ledger whose configuration is missing or
        // malformed; a checker names the row.
        case(
            "ledger_configured: kind changed",
            &real,
            format!("UPDATE events SET kind = 'bogus' WHERE seq = {configured}"),
            Want::Refused(configured),
        ),
        case(
            "ledger_configured: details not JSON",
            &real,
            format!("UPDATE events SET details = 'nope' WHERE seq = {configured}"),
            Want::Refused(configured),
        ),
    ];
    // Readmission (§6, E2-E8), the overruled objection (§7) and the time zone (§4.1),
    // on the ledger of the returning student.
    cases.extend([
        rehashed(
            "E2: an erased subject erased again, no readmission between",
            &returning,
            format!(
                "INSERT INTO events SELECT {returning_size}, randomblob(16), kind, subject, salt, \
                 personal_digest, purpose, purpose_version, recipient, notice_id, notice_version, \
                 notice_sha256, explicit, method, recorded_by, effective_at, \
                 (SELECT max(recorded_at) FROM events), expires_at, effect_deadline, source_id, \
                 evidence, target, '{{\"reason\":\"again\",\"events_erased\":0,\"erased_seqs\":[]}}', \
                 subject_key, source_key, encoding FROM events WHERE seq = {gone}"
            ),
            Want::Same,
        ),
        rehashed(
            "E8: a readmission naming another erasure_seq",
            &returning,
            format!(
                "UPDATE events SET details = json_set(details, '$.erasure_seq', {}) WHERE seq = {r1}",
                e1 + 1
            ),
            Want::Same,
        ),
        rehashed(
            "E8: a readmission naming the erasure already ended",
            &returning,
            format!(
                "UPDATE events SET details = json_set(details, '$.erasure_seq', {e1}) WHERE seq = {r2}"
            ),
            Want::Same,
        ),
        rehashed(
            "E8: a readmission of a marker never erased",
            &returning,
            format!("UPDATE events SET subject_key = randomblob(32) WHERE seq = {r1}"),
            Want::Same,
        ),
        rehashed(
            "E8: a readmission without a reason",
            &returning,
            format!(
                "UPDATE events SET details = json_remove(details, '$.reason') WHERE seq = {r1}"
            ),
            Want::Same,
        ),
        rehashed(
            "E8: a readmission with personal fields (digest recomputed)",
            &returning,
            format!(
                "UPDATE events SET subject = 'stu-ret', salt = randomblob(16) WHERE seq = {r1}"
            ),
            Want::Same,
        ),
        rehashed(
            "E8: a readmission with a source_key",
            &returning,
            format!("UPDATE events SET source_key = randomblob(32) WHERE seq = {r1}"),
            Want::Same,
        ),
        rehashed(
            "E8: a readmission with a personal_digest",
            &returning,
            format!("UPDATE events SET personal_digest = randomblob(32) WHERE seq = {r2}"),
            Want::Same,
        ),
        rehashed(
            "E6: an event of the erased time given back its subject",
            &returning,
            format!(
                "UPDATE events SET subject = 'stu-ret', salt = randomblob(16) WHERE seq = {w1}"
            ),
            Want::Same,
        ),
        rehashed(
            "E6: an event the second erasure lists given back its subject",
            &returning,
            format!(
                "UPDATE events SET subject = 'stu-ret', salt = randomblob(16) WHERE seq = {g2}"
            ),
            Want::Same,
        ),
        case(
            "E4: an event after the last readmission blanked",
            &returning,
            format!(
                "UPDATE events SET subject = NULL, salt = NULL, source_id = NULL, evidence = NULL \
                 WHERE seq = {g3}"
            ),
            Want::Same,
        ),
        rehashed(
            "E3: the second erasure lists an event from before the readmission",
            &returning,
            format!(
                "UPDATE events SET details = json_set(details, '$.erased_seqs', \
                 json_array({w1}, {g2}), '$.events_erased', 2) WHERE seq = {e2}"
            ),
            Want::Same,
        ),
        case(
            "erased: a readmitted marker's row put back",
            &returning,
            format!(
                "INSERT INTO erased SELECT subject_key, {e2} FROM events WHERE seq = {r2}"
            ),
            Want::Same,
        ),
        case(
            "erased: the erasure in force's row deleted",
            &returning,
            format!("DELETE FROM erased WHERE seq = {gone}"),
            Want::Same,
        ),
        case(
            "current: an overruled objection's row says objected",
            &returning,
            "UPDATE current SET state = 'objected' WHERE subject = 'stu-obj'",
            Want::Same,
        ),
        rehashed(
            "values: an objection overruled by a system",
            &returning,
            format!("UPDATE events SET recorded_by = 'system:feed' WHERE seq = {overruled}"),
            Want::Same,
        ),
        rehashed(
            "ledger_configured: time_zone not text",
            &returning,
            "UPDATE events SET details = json_set(details, '$.time_zone', 5) \
             WHERE kind = 'ledger_configured'",
            Want::Refused(0),
        ),
        rehashed(
            "ledger_configured: an empty time_zone",
            &returning,
            "UPDATE events SET details = json_set(details, '$.time_zone', '') \
             WHERE kind = 'ledger_configured'",
            Want::Refused(0),
        ),
    ]);
    // §8 step 3 makes a key whose id differs a bad `ledger_configured` row; the
    // library refuses to open the ledger with it (no verify report), as §8 says.
    cases.push(Case {
        key: Some(key_of(&simulated)),
        ..case("another ledger's key", &real, "", Want::Refused(configured))
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
