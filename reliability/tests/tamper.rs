//! Tamper matrix: alter every column of random rows of every table the format
//! defines, delete rows, forge rows, swap rows, truncate and rewrite the tail; `verify`
//! (or `verify_against` an earlier head) must catch every case and name the first bad
//! sequence number.
//!
//! Every case counts. One the file cannot hold (a variant the schema refuses, or that
//! reads back as the old value) is listed as not made; every other case is tried, and
//! the test asserts tried + not made = defined. A tried case is caught when `verify`
//! returns a report naming the expected event, or when opening or verifying the file
//! fails with `ErrorKind::Corrupt`: the ledger refusing the file as not a sound
//! ledger, which is a detection even though it names no event. Any other error
//! (storage, I/O, busy, ...) is no verdict on integrity and counts as a miss.
//!
//! `CONSENT_SOAK_TAMPER` (default 1) is the number of random rows per column and variant.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use consent_core::{ErrorKind, Head, Ledger, NewEvent};
use consent_reliability::{count, fixture::populate, give, python_verify};
use rand::{rngs::StdRng, seq::IndexedRandom, Rng, SeedableRng};
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection};

/// Columns of `events`, in the order of the schema: every one is hashed or checked
/// (format 2 hashes `subject_key` and `source_key`, and `encoding` picks the hash).
const EVENT_COLUMNS: &[&str] = &[
    "seq",
    "id",
    "kind",
    "subject",
    "salt",
    "personal_digest",
    "purpose",
    "purpose_version",
    "recipient",
    "notice_id",
    "notice_version",
    "notice_sha256",
    "explicit",
    "method",
    "recorded_by",
    "effective_at",
    "recorded_at",
    "expires_at",
    "effect_deadline",
    "source_id",
    "evidence",
    "target",
    "details",
    "subject_key",
    "source_key",
    "encoding",
];

/// (table, key columns, other columns).
const DERIVED: &[(&str, &[&str], &[&str])] = &[
    ("tree", &["level", "idx"], &["hash"]),
    (
        "purposes",
        &["id", "version"],
        &["seq", "registered_at", "def"],
    ),
    (
        "notices",
        &["id", "version"],
        &["seq", "registered_at", "def"],
    ),
    (
        "current",
        &["subject", "purpose", "recipient"],
        &[
            "state",
            "seq",
            "event_id",
            "since",
            "until",
            "last_effective",
        ],
    ),
];

/// Copies a ledger file with its pseudonym key file.
fn copy_ledger(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap();
    let _ = std::fs::remove_file(consent_core::default_key_path(to));
    std::fs::copy(
        consent_core::default_key_path(from),
        consent_core::default_key_path(to),
    )
    .unwrap();
}

struct Matrix {
    dir: PathBuf,
    base: PathBuf,
    rng: StdRng,
    /// Cases asked for, whatever became of them.
    defined: u64,
    /// Cases whose tampering was made and shown to `verify`.
    tried: u64,
    /// Tried and caught with a report naming the expected event.
    named: u64,
    /// Tried and caught as `ErrorKind::Corrupt` (see the module docs).
    corrupt: u64,
    /// Cases the file could not hold, by kind: why, and what.
    not_made: BTreeMap<String, Vec<String>>,
    /// Per kind: (tried, caught).
    by_kind: BTreeMap<String, (u64, u64)>,
    misses: Vec<String>,
    python_checked: u64,
    python_agreed: u64,
}

/// What became of a tampering.
enum Made {
    /// It is in the file.
    Yes,
    /// The schema refused it (NOT NULL, primary key, datatype): listed as not made.
    Refused,
    /// The value reads back as the old one (SQLite's type affinity, or a variant of
    /// an empty text): listed as not made.
    Unchanged,
    /// A deletion, forgery or swap found nothing to change: a miss, since the case
    /// was meant to run.
    Failed,
}

/// Values that differ from `old` in content (never the same bytes under another type).
fn variants(old: &Value, rng: &mut StdRng) -> Vec<(&'static str, Value)> {
    match old {
        Value::Integer(n) => vec![
            ("plus one", Value::Integer(n.wrapping_add(1))),
            ("minus one", Value::Integer(n.wrapping_sub(1))),
            (
                "bit flip",
                Value::Integer(n ^ (1 << rng.random_range(0..62))),
            ),
            ("null", Value::Null),
            ("text", Value::Text(format!("{n}x"))),
            ("real", Value::Real(*n as f64 + 0.5)),
        ],
        Value::Text(s) => {
            let mut flipped = s.clone().into_bytes();
            let i = rng.random_range(0..flipped.len().max(1));
            if let Some(b) = flipped.get_mut(i) {
                *b = if b.is_ascii_lowercase() {
                    b.to_ascii_uppercase()
                } else if b.is_ascii_uppercase() {
                    b.to_ascii_lowercase()
                } else if *b == b'0' {
                    b'1'
                } else {
                    b'0'
                };
            }
            let flipped = String::from_utf8(flipped).unwrap_or_else(|_| format!("{s}!"));
            vec![
                ("appended", Value::Text(format!("{s}~"))),
                ("one byte changed", Value::Text(flipped)),
                ("emptied", Value::Text(String::new())),
                ("null", Value::Null),
                ("integer", Value::Integer(7)),
                (
                    "blob with extra byte",
                    Value::Blob([s.as_bytes(), &[0xff]].concat()),
                ),
            ]
        }
        Value::Blob(b) => {
            let mut flipped = b.clone();
            if !flipped.is_empty() {
                let i = rng.random_range(0..flipped.len());
                flipped[i] ^= 1 << rng.random_range(0..8);
            }
            vec![
                ("bit flip", Value::Blob(flipped)),
                (
                    "truncated",
                    Value::Blob(b[..b.len().saturating_sub(1)].to_vec()),
                ),
                ("extended", Value::Blob([&b[..], &[0]].concat())),
                (
                    "random",
                    Value::Blob((0..b.len()).map(|_| rng.random()).collect()),
                ),
                ("null", Value::Null),
            ]
        }
        Value::Null => vec![
            ("text", Value::Text("forged".into())),
            ("integer", Value::Integer(1)),
            ("blob", Value::Blob((0..16).map(|_| rng.random()).collect())),
        ],
        Value::Real(f) => vec![("real", Value::Real(f + 1.0))],
    }
}

fn quote(
    conn: &Connection,
    table: &str,
    col: &str,
    keys: &[&str],
    key: &[Value],
) -> Option<String> {
    let cond: Vec<String> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| format!("{k} IS ?{}", i + 1))
        .collect();
    let sql = format!(
        "SELECT quote({col}) FROM {table} WHERE {}",
        cond.join(" AND ")
    );
    conn.query_row(&sql, params_from_iter(key.iter()), |r| r.get(0))
        .ok()
}

impl Matrix {
    fn new(seed: u64) -> Matrix {
        let dir = tempfile::tempdir().unwrap().keep();
        let base = dir.join("base.db");
        let l = Ledger::open(&base).unwrap();
        populate(&l, 24).unwrap();
        assert!(l.verify().unwrap().ok);
        l.close().unwrap();
        Matrix {
            dir,
            base,
            rng: StdRng::seed_from_u64(seed),
            defined: 0,
            tried: 0,
            named: 0,
            corrupt: 0,
            not_made: BTreeMap::new(),
            by_kind: BTreeMap::new(),
            misses: Vec::new(),
            python_checked: 0,
            python_agreed: 0,
        }
    }

    fn conn(&self) -> Connection {
        Connection::open(&self.base).unwrap()
    }

    fn size(&self) -> u64 {
        self.conn()
            .query_row("SELECT count(*) FROM events", [], |r| r.get::<_, i64>(0))
            .unwrap() as u64
    }

    /// Last event of a (subject, purpose) group: what verify names for its `current` rows.
    fn group_seq(&self, subject: &Value, purpose: &Value) -> u64 {
        self.conn()
            .query_row(
                "SELECT max(seq) FROM events WHERE subject = ?1 AND purpose = ?2",
                [subject, purpose],
                |r| r.get::<_, i64>(0),
            )
            .unwrap() as u64
    }

    /// Copies the base ledger, lets `tamper` change the copy, then runs verify. A
    /// deletion, forgery or swap must always be possible: `tamper` returning false is a
    /// miss, not a skip.
    fn case(
        &mut self,
        kind: &str,
        what: String,
        want: Option<u64>,
        tamper: impl FnOnce(&Connection) -> bool,
    ) {
        self.variant(kind, what, want, |c| {
            if tamper(c) {
                Made::Yes
            } else {
                Made::Failed
            }
        })
    }

    /// As `case`, for a variant the file may be unable to hold: that case is listed as
    /// not made.
    fn variant(
        &mut self,
        kind: &str,
        what: String,
        want: Option<u64>,
        tamper: impl FnOnce(&Connection) -> Made,
    ) {
        self.defined += 1;
        let open = self.size() >> 4 << 4;
        let copy = self.dir.join(format!("case{}.db", self.defined));
        copy_ledger(&self.base, &copy);
        let made = {
            let conn = Connection::open(&copy).unwrap();
            tamper(&conn)
        };
        let why = match made {
            Made::Yes | Made::Failed => None,
            Made::Refused => Some("refused by the schema"),
            Made::Unchanged => Some("no change"),
        };
        if let Some(why) = why {
            self.not_made
                .entry(kind.to_string())
                .or_default()
                .push(format!("{why}: {what}"));
            remove(&copy);
            return;
        }
        self.tried += 1;
        let entry = self.by_kind.entry(kind.to_string()).or_default();
        entry.0 += 1;
        if matches!(made, Made::Failed) {
            self.misses
                .push(format!("{kind}: {what}: the tampering could not be made"));
            remove(&copy);
            return;
        }
        // A hashed column altered in a completed block of 16 events is named within
        // its block: by the block's first event (only the block's node is stored,
        // docs/FORMAT.md §2 `tree`), by the event itself when a row check sees it, or
        // by a later row of the block that the change makes fail (a record time that
        // now goes backwards).
        let names = |got: Option<u64>| {
            got == want
                || ((kind.starts_with("events.") || kind == "swap events")
                    && want
                        .zip(got)
                        .is_some_and(|(w, g)| w < open && g >> 4 == w >> 4))
        };
        let result = Ledger::open(&copy).and_then(|l| l.verify());
        match &result {
            Ok(r) if !r.ok && names(r.first_bad_seq) => self.named += 1,
            Err(e) if e.kind() == ErrorKind::Corrupt => self.corrupt += 1,
            // The configuration event names the key id: altered there, the file names
            // another key and the library refuses to open it with this one (FORMAT.md
            // §8 step 3, E7).
            Err(e) if e.kind() == ErrorKind::Key && kind == "events.details" && want == Some(0) => {
                self.corrupt += 1
            }
            _ => {
                self.misses.push(format!(
                    "{kind}: {what}: want first bad {want:?}, got {result:?}"
                ));
                remove(&copy);
                return;
            }
        }
        entry.1 += 1;
        // Every 7th events/tree case is also shown to the independent verifier.
        if (kind.starts_with("events") || kind.starts_with("tree"))
            && self.defined.is_multiple_of(7)
        {
            if let Some(py) = python_verify(&copy, None) {
                self.python_checked += 1;
                if !py.ok && names(py.first_bad_seq) {
                    self.python_agreed += 1;
                } else {
                    self.misses.push(format!(
                        "python verifier on {kind}: {what}: want {want:?}, got {py:?}"
                    ));
                }
            }
        }
        remove(&copy);
    }

    fn alter_column(
        &mut self,
        table: &'static str,
        keys: &'static [&'static str],
        col: &'static str,
        per_variant: u64,
    ) {
        let conn = self.conn();
        let key_list = keys.join(", ");
        let rows: Vec<Vec<Value>> = conn
            .prepare(&format!("SELECT {key_list}, {col} FROM {table}"))
            .unwrap()
            .query_map([], |r| {
                (0..=keys.len()).map(|i| r.get::<_, Value>(i)).collect()
            })
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        drop(conn);
        let n_variants = variants(&rows[0][keys.len()], &mut self.rng).len();
        for v in 0..n_variants.max(3) {
            for _ in 0..per_variant {
                let row = rows.choose(&mut self.rng).unwrap().clone();
                let (key, old) = row.split_at(keys.len());
                let vs = variants(&old[0], &mut self.rng);
                let (vname, new) = vs[v % vs.len()].clone();
                let want = match table {
                    "events" => match &key[0] {
                        Value::Integer(s) => Some(*s as u64),
                        _ => unreachable!(),
                    },
                    "tree" => match (&key[0], &key[1]) {
                        (Value::Integer(l), Value::Integer(i)) => Some((*i as u64) << *l),
                        _ => unreachable!(),
                    },
                    "purposes" | "notices" => {
                        let c = self.conn();
                        let sql =
                            format!("SELECT seq FROM {table} WHERE id IS ?1 AND version IS ?2");
                        Some(
                            c.query_row(&sql, [&key[0], &key[1]], |r| r.get::<_, i64>(0))
                                .unwrap() as u64,
                        )
                    }
                    "current" => Some(self.group_seq(&key[0], &key[1])),
                    _ => unreachable!(),
                };
                let what = format!(
                    "{col} of row {key:?}: {vname} ({old:?} -> {new:?})",
                    old = old[0]
                );
                let key = key.to_vec();
                let kind = format!("{table}.{col}");
                self.variant(&kind, what, want, move |c| {
                    let before = quote(c, table, col, keys, &key);
                    let cond: Vec<String> = keys
                        .iter()
                        .enumerate()
                        .map(|(i, k)| format!("{k} IS ?{}", i + 2))
                        .collect();
                    let sql = format!("UPDATE {table} SET {col} = ?1 WHERE {}", cond.join(" AND "));
                    let params: Vec<Value> = std::iter::once(new.clone())
                        .chain(key.iter().cloned())
                        .collect();
                    if c.execute(&sql, params_from_iter(params.iter())).is_err() {
                        return Made::Refused;
                    }
                    // Look the row up again under its possibly new key.
                    let mut new_key = key.clone();
                    if let Some(i) = keys.iter().position(|k| *k == col) {
                        new_key[i] = new.clone();
                    }
                    let after = quote(c, table, col, keys, &new_key);
                    if before == after {
                        return Made::Unchanged;
                    }
                    Made::Yes
                });
            }
        }
    }
}

fn remove(p: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
    }
}

#[test]
fn every_tampering_is_caught_and_named() {
    let per = count("CONSENT_SOAK_TAMPER", 1);
    let seed = count("CONSENT_SOAK_SEED", rand::random::<u32>() as u64);
    let mut m = Matrix::new(seed);
    let size = m.size();

    // 1. Every column of random rows of every table.
    for col in EVENT_COLUMNS {
        m.alter_column("events", &["seq"], col, per);
    }
    for (table, keys, cols) in DERIVED {
        for col in keys.iter().chain(cols.iter()) {
            m.alter_column(table, keys, col, per);
        }
    }

    // 2. Deleted rows.
    for _ in 0..per * 4 {
        let s = m.rng.random_range(0..size);
        m.case("delete events", format!("event {s}"), Some(s), |c| {
            c.execute("DELETE FROM events WHERE seq = ?1", [s as i64])
                .unwrap()
                == 1
        });
        let (level, idx): (i64, i64) = m
            .conn()
            .query_row(
                "SELECT level, idx FROM tree ORDER BY random() LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        m.case(
            "delete tree",
            format!("tree ({level}, {idx})"),
            Some((idx as u64) << level),
            |c| {
                c.execute(
                    "DELETE FROM tree WHERE level = ?1 AND idx = ?2",
                    [level, idx],
                )
                .unwrap()
                    == 1
            },
        );
        let (subject, purpose, recipient): (Value, Value, Value) = m
            .conn()
            .query_row(
                "SELECT subject, purpose, recipient FROM current ORDER BY random() LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        let want = m.group_seq(&subject, &purpose);
        m.case(
            "delete current",
            format!("current row {subject:?} {purpose:?} {recipient:?}"),
            Some(want),
            |c| {
                c.execute(
                    "DELETE FROM current WHERE subject = ?1 AND purpose = ?2 AND recipient = ?3",
                    [&subject, &purpose, &recipient],
                )
                .unwrap()
                    == 1
            },
        );
        for table in ["purposes", "notices"] {
            let seq: i64 = m
                .conn()
                .query_row(
                    &format!("SELECT seq FROM {table} ORDER BY random() LIMIT 1"),
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            m.case(
                &format!("delete {table}"),
                format!("{table} row of event {seq}"),
                Some(seq as u64),
                |c| {
                    c.execute(&format!("DELETE FROM {table} WHERE seq = ?1"), [seq])
                        .unwrap()
                        == 1
                },
            );
        }
    }

    // 3. Forged rows.
    let copy_row = "INSERT INTO events SELECT ?1, randomblob(16), kind, subject, salt, personal_digest, purpose, purpose_version, \
        recipient, notice_id, notice_version, notice_sha256, explicit, method, recorded_by, effective_at, recorded_at, expires_at, \
        effect_deadline, NULL, evidence, target, details, subject_key, NULL, encoding FROM events WHERE seq = ?2";
    for _ in 0..per * 2 {
        let from = m.rng.random_range(0..size) as i64;
        for (at, want) in [(size as i64, size), (size as i64 + 3, size), (-1, 0)] {
            m.case(
                "forge events",
                format!("copy of event {from} at seq {at}"),
                Some(want),
                |c| c.execute(copy_row, [at, from]).unwrap() == 1,
            );
        }
        let fake: [u8; 32] = m.rng.random();
        m.case(
            "forge tree",
            "leaf beyond the log".into(),
            Some(size),
            |c| {
                c.execute(
                    "INSERT INTO tree(level, idx, hash) VALUES (0, ?1, ?2)",
                    rusqlite::params![size as i64, &fake[..]],
                )
                .unwrap()
                    == 1
            },
        );
        m.case(
            "forge tree",
            "interior node beyond the log".into(),
            Some(size),
            |c| {
                c.execute(
                    "INSERT INTO tree(level, idx, hash) VALUES (3, ?1, ?2)",
                    rusqlite::params![(size >> 3) as i64 + 1, &fake[..]],
                )
                .unwrap()
                    == 1
            },
        );
        let seq: i64 = m
            .conn()
            .query_row(
                "SELECT seq FROM current ORDER BY random() LIMIT 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        m.case("forge current", format!("row for a subject with no events, copied from the row of event {seq}"), Some(seq as u64), |c| {
            c.execute("INSERT INTO current SELECT 'intruder', purpose, recipient, 'given', seq, event_id, since, until, last_effective FROM current WHERE seq = ?1 LIMIT 1", [seq]).unwrap() == 1
        });
        let subject_seq: i64 = m
            .conn()
            .query_row(
                "SELECT seq FROM events WHERE subject IS NOT NULL ORDER BY random() LIMIT 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        m.case("forge purposes", format!("purpose defined by no event, seq {subject_seq}"), Some(subject_seq as u64), |c| {
            c.execute("INSERT INTO purposes SELECT 'forged.purpose', 1, ?1, registered_at, def FROM purposes LIMIT 1", [subject_seq]).unwrap() == 1
        });
        m.case("forge notices", format!("notice defined by no event, seq {subject_seq}"), Some(subject_seq as u64), |c| {
            c.execute("INSERT INTO notices SELECT 'forged.notice', '1', ?1, registered_at, def FROM notices LIMIT 1", [subject_seq]).unwrap() == 1
        });
    }

    // 4. Swapped rows.
    for _ in 0..per * 4 {
        let i = m.rng.random_range(0..size - 1);
        let j = m.rng.random_range(i + 1..size);
        m.case("swap events", format!("events {i} and {j}"), Some(i), |c| {
            c.execute_batch(&format!("UPDATE events SET seq = -1000 WHERE seq = {i}; UPDATE events SET seq = {i} WHERE seq = {j}; UPDATE events SET seq = {j} WHERE seq = -1000;")).unwrap();
            true
        });
        // Two stored rows of one level: open-block leaves, or completed blocks' nodes.
        let level = [0, 4][m.rng.random_range(0..2)];
        let stored: Vec<i64> = m
            .conn()
            .prepare("SELECT idx FROM tree WHERE level = ?1 ORDER BY idx")
            .unwrap()
            .query_map([level], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        if stored.len() >= 2 {
            let a = m.rng.random_range(0..stored.len() - 1);
            let b = m.rng.random_range(a + 1..stored.len());
            let (i, j) = (stored[a], stored[b]);
            let what = format!("hashes ({level}, {i}) and ({level}, {j})");
            m.case("swap tree", what, Some((i as u64) << level), |c| {
                c.execute_batch(&format!(
                    "UPDATE tree SET idx = -1000 WHERE level = {level} AND idx = {i}; UPDATE tree SET idx = {i} WHERE level = {level} AND idx = {j}; UPDATE tree SET idx = {j} WHERE level = {level} AND idx = -1000;"
                ))
                .unwrap();
                c.changes() == 1
            });
        }
    }

    // 5. Truncated and rewritten tails, against a head taken before.
    let (tail_tried, tail_caught) = tails(&m.dir, per, &mut m.misses);
    m.defined += tail_tried;
    m.tried += tail_tried;
    m.named += tail_caught;
    m.by_kind.insert(
        "tail truncated / rewritten".into(),
        (tail_tried, tail_caught),
    );

    let not_made: u64 = m.not_made.values().map(|v| v.len() as u64).sum();
    println!("tamper matrix (seed {seed}, ledger of {size} events):");
    for (k, (t, c)) in &m.by_kind {
        let n = m.not_made.get(k).map_or(0, Vec::len);
        println!(
            "  {k:<28} {c}/{t}{}",
            if n > 0 {
                format!(" ({n} not made)")
            } else {
                String::new()
            }
        );
    }
    for (k, whats) in &m.not_made {
        for what in whats {
            println!("  not made: {k}: {what}");
        }
    }
    println!(
        "tamper matrix: caught {} of {} mutations ({} named, {} as Corrupt); {} of {} defined \
         not made (refused by the schema, or no change); independent verifier agreed on {} of {}",
        m.named + m.corrupt,
        m.tried,
        m.named,
        m.corrupt,
        not_made,
        m.defined,
        m.python_agreed,
        m.python_checked
    );
    let _ = std::fs::remove_dir_all(&m.dir);
    assert!(
        m.misses.is_empty(),
        "{} missed:\n{}",
        m.misses.len(),
        m.misses.join("\n")
    );
    assert_eq!(
        m.tried + not_made,
        m.defined,
        "every case defined is tried or listed as not made"
    );
    assert_eq!(m.named + m.corrupt, m.tried, "every case tried is caught");
    assert!(m.tried > 0);
}

/// Snapshots of a ledger taken as it grows stand in for a truncated tail (an old
/// backup restored); the same snapshots continued with other events are a tail
/// rewritten with a fully consistent chain. Returns (tried, caught); each miss is
/// added to `misses`.
fn tails(dir: &Path, per: u64, misses: &mut Vec<String>) -> (u64, u64) {
    let path = dir.join("tails.db");
    let l = Ledger::open(&path).unwrap();
    populate(&l, 6).unwrap();
    let mut snaps: Vec<(PathBuf, Head)> = Vec::new();
    for i in 0..(per * 3).max(4) {
        for k in 0..3 {
            l.append(give(&format!("tail-{i}-{k}"), "jmsu.marketing"))
                .unwrap();
        }
        assert!(l.checkpoint().unwrap());
        let snap = dir.join(format!("snap{i}.db"));
        copy_ledger(&path, &snap);
        snaps.push((snap, l.head().unwrap()));
    }
    l.append(NewEvent::withdraw("tail-0-0", "jmsu.marketing"))
        .unwrap();
    let head = l.head().unwrap();
    let (mut tried, mut caught) = (0, 0);
    for (n, (snap, old)) in snaps.iter().enumerate() {
        // Truncated: the snapshot on its own is a valid, shorter ledger.
        let s = Ledger::open(snap).unwrap();
        assert!(s.verify().unwrap().ok);
        let r = s.verify_against(&head).unwrap();
        tried += 1;
        if !r.ok && r.first_bad_seq == Some(old.size) {
            caught += 1;
        } else {
            misses.push(format!("truncation to {} not caught: {r:?}", old.size));
        }
        // Rewritten: other events after the snapshot, through the library itself, so
        // every hash is consistent. Some rewrites are shorter than the real tail, some
        // as long, some longer.
        for k in 0..=(n % 4) * 2 {
            s.append(give(&format!("forged-{n}-{k}"), "jmsu.marketing"))
                .unwrap();
        }
        let size = s.head().unwrap().size;
        assert!(s.verify().unwrap().ok);
        let r = s.verify_against(&head).unwrap();
        let want = if size < head.size { Some(size) } else { None };
        tried += 1;
        if !r.ok && r.first_bad_seq == want && s.prove_consistency(&head, None).is_err() {
            caught += 1;
        } else {
            misses.push(format!(
                "rewrite from {} to {size} not caught: {r:?}",
                old.size
            ));
        }
        // The independent verifier agrees, given the head.
        if let Some(py) = python_verify(snap, Some(&head.to_string())) {
            assert!(
                !py.ok,
                "python verifier missed a rewritten tail: {}",
                py.output
            );
        }
        s.close().unwrap();
    }
    l.close().unwrap();
    (tried, caught)
}
