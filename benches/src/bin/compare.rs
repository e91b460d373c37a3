//! The Rust side of the comparison harness (`benches/compare.sh`).
//!
//! ```text
//! compare fixtures N...   build and cache the ledger fixtures, the event stream and queries
//! compare plain N         the storage limit: plain rusqlite rows of the same size
//! compare ledger N        consent-ledger from Rust
//! ```
//!
//! `plain` and `ledger` print one JSON object on stdout: medians in microseconds,
//! rates in events per second. Each runs in its own process so that the harness can
//! read its peak memory.

use std::fs;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use consent_benches::{
    fixture_dir, ledger_fixture, median, mix, peak_rss_kib, query_file, remove_db, stream_file,
    work_copy, Rng, Workload, WORKLOAD_VERSION,
};
use consent_core::{Ledger, NewEvent, Timestamp};
use rusqlite::{params, Connection};
use serde_json::{json, Value};

/// Durable single appends measured per run (or fewer if they take over 10 s).
const DURABLE: usize = 200;
/// Batches of [`BATCH`] measured per run.
const BATCHES: usize = 5;
const BATCH: usize = 1_000;
const QUERIES: usize = 10_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n = |i: usize| -> u64 {
        args.get(i)
            .and_then(|s| s.replace('_', "").parse().ok())
            .unwrap_or_else(|| usage())
    };
    match args.first().map(String::as_str) {
        Some("fixtures") => {
            for i in 1..args.len() {
                let n = n(i);
                let t = Instant::now();
                ledger_fixture(n);
                plain_fixture(n);
                stream_file(n);
                query_file(n, QUERIES);
                eprintln!(
                    "fixtures for {n} events ready ({:.1} s)",
                    t.elapsed().as_secs_f64()
                );
            }
        }
        Some("plain") => print(plain(n(1))),
        Some("ledger") => print(ledger(n(1), args.iter().any(|a| a == "--no-verify"))),
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!("usage: compare fixtures N... | compare plain N | compare ledger N [--no-verify]");
    std::process::exit(2)
}

fn print(mut v: Value) {
    v["peak_rss_kib"] = json!(peak_rss_kib());
    println!("{v}");
}

fn queries(n: u64) -> Vec<(String, String, Option<String>)> {
    fs::read_to_string(query_file(n, QUERIES))
        .expect("read queries")
        .lines()
        .map(|l| {
            let mut f = l.split('\t');
            let s = f.next().unwrap_or_default().to_string();
            let p = f.next().unwrap_or_default().to_string();
            let r = f.next().filter(|r| !r.is_empty()).map(String::from);
            (s, p, r)
        })
        .collect()
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

// ---- the storage limit --------------------------------------------------------------

const PLAIN_SCHEMA: &str = "
CREATE TABLE events(
    seq INTEGER PRIMARY KEY, id BLOB NOT NULL, kind TEXT NOT NULL, subject TEXT, salt BLOB,
    personal_digest BLOB, purpose TEXT, purpose_version INTEGER, recipient TEXT, notice_id TEXT,
    notice_version TEXT, notice_sha256 BLOB, explicit INTEGER NOT NULL, method TEXT,
    recorded_by TEXT NOT NULL, effective_at INTEGER NOT NULL, recorded_at INTEGER NOT NULL,
    expires_at INTEGER, effect_deadline INTEGER, source_id TEXT, evidence TEXT, target BLOB,
    details TEXT);
CREATE INDEX events_by_subject ON events(subject, purpose);
";

/// Bytes that stand in for a hash or a UUID: what matters is their size.
fn bytes(seed: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| mix(seed ^ (i as u64).wrapping_mul(0x9e37)) as u8)
        .collect()
}

/// Inserts workload event `i` as a plain row with the same columns and value sizes as
/// the ledger's `events` row.
fn plain_insert(stmt: &mut rusqlite::CachedStatement<'_>, w: &Workload, i: u64, n: u64, seq: i64) {
    let s = w.spec(i, n);
    let given = s.kind == consent_core::EventKind::Given;
    stmt.execute(params![
        seq,
        bytes(i, 16),
        s.kind.as_str(),
        s.subject,
        bytes(i ^ 1, 16),
        bytes(i ^ 2, 32),
        s.purpose,
        1,
        s.recipient,
        given.then_some(s.notice),
        given.then_some("2024-09"),
        given.then(|| bytes(i ^ 3, 32)),
        i64::from(s.explicit),
        (s.kind != consent_core::EventKind::Withdrawn).then(|| s.method.as_str()),
        s.staff.as_deref().unwrap_or("subject"),
        s.effective_ms,
        Timestamp::now().as_millis(),
        Option::<i64>::None,
        (s.kind == consent_core::EventKind::Withdrawn).then_some(s.effective_ms + 86_400_000),
        s.source_id,
        Option::<String>::None,
        Option::<Vec<u8>>::None,
        Option::<String>::None,
    ])
    .expect("insert");
}

const PLAIN_INSERT: &str = "INSERT INTO events VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23)";

fn open_plain(path: &Path) -> Connection {
    let c = Connection::open(path).expect("open plain");
    let mode: String = c
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .expect("wal");
    assert_eq!(mode, "wal");
    c.pragma_update(None, "synchronous", "FULL").expect("sync");
    c
}

fn plain_fixture(n: u64) -> PathBuf {
    let dir = fixture_dir();
    let path = dir.join(format!("plain-{n}.v{WORKLOAD_VERSION}.db"));
    let done = dir.join(format!("plain-{n}.v{WORKLOAD_VERSION}.done"));
    if path.exists() && done.exists() {
        return path;
    }
    let tmp = dir.join(format!("plain-{n}.building.db"));
    remove_db(&tmp);
    let c = open_plain(&tmp);
    c.execute_batch(PLAIN_SCHEMA).expect("schema");
    let w = Workload::new();
    let mut i = 0;
    while i < n {
        let end = (i + 50_000).min(n);
        let tx = c.unchecked_transaction().expect("tx");
        {
            let mut stmt = tx.prepare_cached(PLAIN_INSERT).expect("prepare");
            for j in i..end {
                plain_insert(&mut stmt, &w, j, n, j as i64);
            }
        }
        tx.commit().expect("commit");
        i = end;
    }
    c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .expect("checkpoint");
    drop(c);
    fs::rename(&tmp, &path).expect("rename");
    fs::write(done, "ok\n").expect("marker");
    path
}

fn plain(n: u64) -> Value {
    let src = plain_fixture(n);
    let path = fixture_dir().join(format!("work-plain-{n}.db"));
    remove_db(&path);
    fs::copy(&src, &path).expect("copy");
    let qs = queries(n);
    let w = Workload::new();

    let mut opens = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let c = open_plain(&path);
        let _: i64 = c
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .expect("schema");
        drop(c);
        opens.push(us(t.elapsed()));
    }

    let c = open_plain(&path);
    let mut point = Vec::with_capacity(qs.len());
    {
        let mut stmt = c
            .prepare_cached(
                "SELECT seq, kind, effective_at, expires_at FROM events WHERE subject = ?1 AND purpose = ?2 \
                 ORDER BY seq DESC LIMIT 1",
            )
            .expect("prepare");
        for (s, p, _) in &qs {
            let t = Instant::now();
            let row: Option<(i64, String, i64, Option<i64>)> = stmt
                .query_row([s, p], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .ok();
            black_box(row);
            point.push(us(t.elapsed()));
        }
    }

    let mut seq = n as i64 + 10;
    let mut durable = Vec::new();
    let started = Instant::now();
    {
        let mut stmt = c.prepare_cached(PLAIN_INSERT).expect("prepare");
        let mut r = Rng(1);
        for _ in 0..DURABLE {
            let i = r.below(n);
            let t = Instant::now();
            c.execute_batch("BEGIN IMMEDIATE").expect("begin");
            plain_insert(&mut stmt, &w, i, n, seq);
            c.execute_batch("COMMIT").expect("commit");
            durable.push(us(t.elapsed()));
            seq += 1;
            if started.elapsed() > Duration::from_secs(10) {
                break;
            }
        }
    }
    let mut batches = Vec::new();
    {
        let mut stmt = c.prepare_cached(PLAIN_INSERT).expect("prepare");
        let mut r = Rng(2);
        for _ in 0..BATCHES {
            let t = Instant::now();
            c.execute_batch("BEGIN IMMEDIATE").expect("begin");
            for _ in 0..BATCH {
                plain_insert(&mut stmt, &w, r.below(n), n, seq);
                seq += 1;
            }
            c.execute_batch("COMMIT").expect("commit");
            batches.push(BATCH as f64 / t.elapsed().as_secs_f64());
        }
    }
    drop(c);
    remove_db(&path);
    json!({
        "impl": "plain", "n": n,
        "open_us": median(&mut opens),
        "status_us": median(&mut point),
        "append_durable_us": median(&mut durable),
        "append_durable_n": durable.len(),
        "append_batch_eps": median(&mut batches),
    })
}

// ---- consent-ledger from Rust -------------------------------------------------------

fn fresh_event(w: &Workload, n: u64, k: u64) -> NewEvent {
    let mut spec = w.spec(mix(k) % n, n);
    spec.effective_ms = Timestamp::now().as_millis();
    if spec.source_id.is_some() {
        spec.source_id = Some(format!("compare-{n}-{k}"));
    }
    spec.to_event()
}

fn ledger(n: u64, skip_verify: bool) -> Value {
    ledger_fixture(n);
    let path = work_copy(n, "compare");
    let qs = queries(n);
    let w = Workload::new();

    let mut opens = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let l = Ledger::open(&path).expect("open");
        l.close().expect("close");
        opens.push(us(t.elapsed()));
    }
    let l = Ledger::open(&path).expect("open");

    let mut status = Vec::with_capacity(qs.len());
    for (s, p, r) in &qs {
        let t = Instant::now();
        black_box(l.status(s, p, r.as_deref()).expect("status"));
        status.push(us(t.elapsed()));
    }
    let at = Timestamp::parse("2023-01-01T00:00:00Z").expect("time");
    let mut status_at = Vec::with_capacity(qs.len());
    for (s, p, r) in &qs {
        let t = Instant::now();
        black_box(
            l.status_at(s, p, r.as_deref(), at, None)
                .expect("status_at"),
        );
        status_at.push(us(t.elapsed()));
    }
    let mut consenting = Vec::new();
    let mut population = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let c = l
            .consenting("jmsu.data-sharing", None, None, None)
            .expect("consenting");
        consenting.push(us(t.elapsed()) / 1000.0);
        population = c.subjects.len();
    }
    let verify_eps = (!skip_verify).then(|| {
        let t = Instant::now();
        let r = l.verify().expect("verify");
        assert!(r.ok, "{r:?}");
        r.size as f64 / t.elapsed().as_secs_f64()
    });

    let mut k = 0;
    let mut durable = Vec::new();
    let started = Instant::now();
    for _ in 0..DURABLE {
        k += 1;
        let e = fresh_event(&w, n, k);
        let t = Instant::now();
        black_box(l.append(e).expect("append"));
        durable.push(us(t.elapsed()));
        if started.elapsed() > Duration::from_secs(10) {
            break;
        }
    }
    let mut batches = Vec::new();
    for _ in 0..BATCHES {
        let events: Vec<NewEvent> = (0..BATCH)
            .map(|_| {
                k += 1;
                fresh_event(&w, n, k)
            })
            .collect();
        let t = Instant::now();
        let batch = l.batch().expect("begin");
        for e in events {
            black_box(batch.append(e).expect("append"));
        }
        batch.commit().expect("commit");
        batches.push(BATCH as f64 / t.elapsed().as_secs_f64());
    }
    l.close().expect("close");
    remove_db(&path);
    json!({
        "impl": "rust", "n": n,
        "open_us": median(&mut opens),
        "status_us": median(&mut status),
        "status_at_us": median(&mut status_at),
        "consenting_ms": median(&mut consenting),
        "consenting_subjects": population,
        "verify_eps": verify_eps,
        "append_durable_us": median(&mut durable),
        "append_durable_n": durable.len(),
        "append_batch_eps": median(&mut batches),
    })
}
