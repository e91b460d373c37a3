//! The Rust side of the comparison harness (`benches/compare.sh`).
//!
//! ```text
//! compare fixtures N...   build and cache the fixtures of N events; one JSON line each
//!                         with their paths (ledger, plain table, plain feed, stream, queries)
//! compare run N           consent-ledger and its baseline, interleaved in this process
//! compare growth A B      status and batched append at A and at B events, interleaved
//! compare status N R      status and status_many of round R's questions only, on the
//!                         pristine fixture: the Rust half of the Python-vs-Rust pairs,
//!                         which the driver runs in turns with `ledger_py.py status-round`
//! ```
//!
//! `run` and `growth` print one JSON object on stdout. Each measurement is taken in
//! rounds (`CONSENT_BENCH_ROUNDS`, default 5); within a round the ledger and its
//! baseline take turns, and which goes first alternates from round to round, so a
//! slow moment of the machine lands on both. A figure is the median of its rounds,
//! with the quartiles and the extremes beside it.
//!
//! The baselines, each the storage limit of the operation it stands beside:
//! - appends: plain rusqlite rows with the same columns and value sizes as an event of
//!   schema 2 (23 columns, one index on (subject, purpose)), WAL, `synchronous=FULL`,
//!   the ledger's page cache size (32 MiB); both sides build their rows inside the
//!   timed loop, from the same workload events;
//! - status: a plain indexed point query (the latest row of subject and purpose);
//!   `status_many`: the same point queries in one read transaction;
//! - consenting: a raw covering scan of a plain table holding one row per (purpose,
//!   recipient, subject), returning the same fields (subject, event id, since, until);
//! - verify: SHA-256 of `0x00 || canonical bytes` of a sample of the ledger's own
//!   events (read with `Ledger::canonical_event`), in memory.
//!
//! Only the public API of consent-core is used; the harness knows no table of the
//! ledger's, only the baseline's own.

use std::collections::BTreeMap;
use std::fs;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use consent_benches::harness::{
    env_usize, fresh_spec, ledger_status, median_of, print_json as print, quantile, queries,
    round_questions, us, Figures, PlainRow, Question, BATCH, DURABLE_BLOCK, FEED_PURPOSE,
    FEED_SCAN, FEED_SCHEMA, FEED_UPSERT, PLAIN_INSERT, PLAIN_SCHEMA, POINT_QUERY, QUERIES,
};
use consent_benches::{
    db_bytes, fixture_dir, ledger_fixture, query_file, remove_db, stream_file, wal_checkpoint_seq,
    work_copy, Spec, Workload, WORKLOAD_VERSION,
};
use consent_core::{Ledger, Timestamp};
use rusqlite::{params, Connection};
use serde_json::{json, Value};

/// Questions per `status_many` call.
const MANY: usize = 100;
/// Calls of `consenting` per side per round.
const CONSENTING_CALLS: usize = 3;
/// Opens per side per round.
const OPENS: usize = 10;
/// Events whose canonical bytes the SHA-256 baseline hashes.
const SHA_SAMPLE: u64 = 20_000;
/// The plain baseline's page cache, as the ledger's (`PRAGMA cache_size`, KiB).
const PLAIN_CACHE_KIB: i64 = 32_768;

/// The knobs of a run, from the environment.
struct Knobs {
    /// `CONSENT_BENCH_ROUNDS`: rounds of every measurement (default 5).
    rounds: usize,
    /// `CONSENT_BENCH_DURABLE`: durable single appends per side per round (default 400).
    durable: usize,
    /// `CONSENT_BENCH_BATCHES`: batches of 1 000 per side per round (default 2).
    batches: usize,
    /// `CONSENT_BENCH_VERIFY_ROUNDS`: rounds of `verify` (default 3, at most `rounds`).
    verify_rounds: usize,
}

impl Knobs {
    fn from_env() -> Knobs {
        let rounds = env_usize("CONSENT_BENCH_ROUNDS", 5);
        Knobs {
            rounds,
            durable: env_usize("CONSENT_BENCH_DURABLE", 400),
            batches: env_usize("CONSENT_BENCH_BATCHES", 2),
            verify_rounds: env_usize("CONSENT_BENCH_VERIFY_ROUNDS", 3).min(rounds),
        }
    }
    fn json(&self) -> Value {
        json!({
            "rounds": self.rounds, "durable_per_round": self.durable,
            "batches_per_round": self.batches, "batch": BATCH,
            "verify_rounds": self.verify_rounds, "status_many_chunk": MANY,
            "durable_block": DURABLE_BLOCK, "sha_sample": SHA_SAMPLE,
            "questions_per_round": QUERIES / self.rounds.min(QUERIES),
        })
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n = |i: usize| -> u64 {
        args.get(i)
            .and_then(|s| s.replace('_', "").parse().ok())
            .unwrap_or_else(|| usage())
    };
    match args.first().map(String::as_str) {
        Some("fixtures") if args.len() > 1 => {
            for i in 1..args.len() {
                let n = n(i);
                let t = Instant::now();
                let ledger = ledger_fixture(n);
                let (plain, feed) = plain_fixture(n);
                let stream = stream_file(n);
                let queries = query_file(n, QUERIES);
                eprintln!(
                    "fixtures for {n} events ready ({:.1} s)",
                    t.elapsed().as_secs_f64()
                );
                println!(
                    "{}",
                    json!({
                        "n": n, "ledger": ledger, "plain": plain, "feed": feed,
                        "stream": stream, "queries": queries,
                    })
                );
            }
        }
        Some("run") => print(run(n(1), &Knobs::from_env())),
        Some("growth") => print(growth(n(1), n(2), &Knobs::from_env())),
        Some("status") => print(status_round(n(1), n(2) as usize, &Knobs::from_env())),
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: compare fixtures N... | compare run N | compare growth A B | compare status N R"
    );
    std::process::exit(2)
}

/// Which side goes first in turn `t`: the baseline in even turns, the ledger in odd.
fn order(t: usize) -> [Side; 2] {
    if t.is_multiple_of(2) {
        [Side::Baseline, Side::Ledger]
    } else {
        [Side::Ledger, Side::Baseline]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Baseline,
    Ledger,
}

impl Side {
    fn key(self) -> &'static str {
        match self {
            Side::Baseline => "baseline",
            Side::Ledger => "ledger",
        }
    }
}

// ---- the plain baseline -------------------------------------------------------------

/// Inserts `s` as a plain row with the same columns and value sizes as an `events`
/// row of the ledger (`i` seeds the stand-in hashes).
fn plain_insert(stmt: &mut rusqlite::CachedStatement<'_>, s: &Spec, i: u64, seq: i64) {
    let r = PlainRow::of(s, i, seq);
    stmt.execute(params![
        r.seq,
        r.id,
        r.kind,
        r.subject,
        r.salt,
        r.personal_digest,
        r.purpose,
        r.purpose_version,
        r.recipient,
        r.notice_id,
        r.notice_version,
        r.notice_sha256,
        r.explicit,
        r.method,
        r.recorded_by,
        r.effective_at,
        r.recorded_at,
        r.expires_at,
        r.effect_deadline,
        r.source_id,
        r.evidence,
        r.target,
        r.details,
    ])
    .expect("insert");
}

fn open_plain(path: &Path) -> Connection {
    let c = Connection::open(path).expect("open plain");
    let mode: String = c
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .expect("wal");
    assert_eq!(mode, "wal");
    c.pragma_update(None, "synchronous", "FULL").expect("sync");
    c.pragma_update(None, "cache_size", -PLAIN_CACHE_KIB)
        .expect("cache");
    c
}

/// The plain fixtures of `n` events: the events table, and (in a file of its own, so
/// it does not count in the table's bytes per event) the feed table, built by
/// replaying the workload in order.
fn plain_fixture(n: u64) -> (PathBuf, PathBuf) {
    let dir = fixture_dir();
    let path = dir.join(format!("plain-{n}.w{WORKLOAD_VERSION}.db"));
    let feed = dir.join(format!("plain-feed-{n}.w{WORKLOAD_VERSION}.db"));
    let done = dir.join(format!("plain-{n}.w{WORKLOAD_VERSION}.done"));
    if path.exists() && feed.exists() && done.exists() {
        return (path, feed);
    }
    let t0 = Instant::now();
    let tmp = dir.join(format!("plain-{n}.building.db"));
    let tmp_feed = dir.join(format!("plain-feed-{n}.building.db"));
    remove_db(&tmp);
    remove_db(&tmp_feed);
    let c = open_plain(&tmp);
    c.execute_batch(PLAIN_SCHEMA).expect("schema");
    let f = open_plain(&tmp_feed);
    f.execute_batch(FEED_SCHEMA).expect("feed schema");
    let w = Workload::new();
    let mut i = 0;
    while i < n {
        let end = (i + 50_000).min(n);
        let tx = c.unchecked_transaction().expect("tx");
        let ftx = f.unchecked_transaction().expect("tx");
        {
            let mut stmt = tx.prepare_cached(PLAIN_INSERT).expect("prepare");
            let mut up = ftx.prepare_cached(FEED_UPSERT).expect("prepare");
            for j in i..end {
                let s = w.spec(j, n);
                plain_insert(&mut stmt, &s, j, j as i64);
                up.execute(params![
                    s.purpose,
                    s.recipient.unwrap_or(""),
                    s.subject,
                    s.kind.as_str(),
                    consent_benches::harness::bytes(j, 16),
                    s.effective_ms,
                    s.expiry_ms(),
                ])
                .expect("feed upsert");
            }
        }
        tx.commit().expect("commit");
        ftx.commit().expect("commit");
        i = end;
    }
    for conn in [&c, &f] {
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .expect("checkpoint");
    }
    drop(c);
    drop(f);
    fs::rename(&tmp, &path).expect("rename");
    fs::rename(&tmp_feed, &feed).expect("rename");
    remove_db(&tmp);
    remove_db(&tmp_feed);
    fs::write(
        done,
        format!("built in {:.1} s\n", t0.elapsed().as_secs_f64()),
    )
    .expect("marker");
    eprintln!(
        "plain fixtures of {n} events built in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    (path, feed)
}

/// A fresh copy of a plain database.
fn plain_copy(src: &Path, tag: &str, n: u64) -> PathBuf {
    let path = fixture_dir().join(format!("work-plain-{tag}-{n}.db"));
    remove_db(&path);
    fs::copy(src, &path).expect("copy plain");
    path
}

/// One side of a size: the pristine files to read, the work copies to append to.
struct Plain {
    read: Connection,
    write: Connection,
    write_path: PathBuf,
    feed: Connection,
    seq: i64,
}

struct LedgerSide {
    read: Ledger,
    write: Ledger,
    write_path: PathBuf,
}

impl Plain {
    fn open(n: u64, tag: &str) -> Plain {
        let (src, feed) = plain_fixture(n);
        let write_path = plain_copy(&src, tag, n);
        Plain {
            read: open_plain(&src),
            write: open_plain(&write_path),
            write_path,
            feed: open_plain(&feed),
            seq: n as i64 + 10,
        }
    }

    /// Per-call times (µs) of the point query for each question.
    fn status(&self, qs: &[Question]) -> Vec<f64> {
        let mut stmt = self.read.prepare_cached(POINT_QUERY).expect("prepare");
        qs.iter()
            .map(|(s, p, _)| {
                let t = Instant::now();
                let row: Option<(i64, String, i64, Option<i64>)> = stmt
                    .query_row([s, p], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                    .ok();
                black_box(row);
                us(t.elapsed())
            })
            .collect()
    }

    /// Per-lookup times (µs) of chunks of point queries in one read transaction.
    fn status_many(&self, qs: &[Question]) -> Vec<f64> {
        qs.chunks(MANY)
            .map(|chunk| {
                let t = Instant::now();
                let tx = self.read.unchecked_transaction().expect("begin");
                {
                    let mut stmt = tx.prepare_cached(POINT_QUERY).expect("prepare");
                    for (s, p, _) in chunk {
                        let row: Option<(i64, String, i64, Option<i64>)> = stmt
                            .query_row([s, p], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                            .ok();
                        black_box(row);
                    }
                }
                tx.commit().expect("end");
                us(t.elapsed()) / chunk.len() as f64
            })
            .collect()
    }

    /// The raw scan: (ms, rows).
    fn consenting(&self) -> (f64, usize) {
        let t = Instant::now();
        let mut stmt = self.feed.prepare_cached(FEED_SCAN).expect("prepare");
        let rows: Vec<(String, [u8; 16], i64, Option<i64>)> = stmt
            .query_map(params![FEED_PURPOSE, Timestamp::now().as_millis()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .expect("scan")
            .collect::<rusqlite::Result<_>>()
            .expect("rows");
        let ms = us(t.elapsed()) / 1000.0;
        (ms, black_box(rows).len())
    }

    /// One batch of `BATCH` plain rows in one transaction, built inside the timing.
    fn batch(&mut self, w: &Workload, n: u64, k0: u64) -> Duration {
        let t = Instant::now();
        self.write.execute_batch("BEGIN IMMEDIATE").expect("begin");
        {
            let mut stmt = self.write.prepare_cached(PLAIN_INSERT).expect("prepare");
            for k in k0..k0 + BATCH {
                let s = fresh_spec(w, n, k, "plain");
                plain_insert(&mut stmt, &s, k, self.seq);
                self.seq += 1;
            }
        }
        self.write.execute_batch("COMMIT").expect("commit");
        t.elapsed()
    }

    /// One durable single-row commit.
    fn durable(&mut self, w: &Workload, n: u64, k: u64) -> Duration {
        let t = Instant::now();
        self.write.execute_batch("BEGIN IMMEDIATE").expect("begin");
        {
            let mut stmt = self.write.prepare_cached(PLAIN_INSERT).expect("prepare");
            let s = fresh_spec(w, n, k, "plain");
            plain_insert(&mut stmt, &s, k, self.seq);
        }
        self.write.execute_batch("COMMIT").expect("commit");
        self.seq += 1;
        t.elapsed()
    }
}

/// Per-lookup times (µs) of `Ledger::status_many`, `MANY` questions a call.
fn ledger_status_many(l: &Ledger, qs: &[Question]) -> Vec<f64> {
    qs.chunks(MANY)
        .map(|chunk| {
            let questions: Vec<(&str, &str, Option<&str>)> = chunk
                .iter()
                .map(|(s, p, r)| (s.as_str(), p.as_str(), r.as_deref()))
                .collect();
            let t = Instant::now();
            black_box(l.status_many(&questions).expect("status_many"));
            us(t.elapsed()) / chunk.len() as f64
        })
        .collect()
}

impl LedgerSide {
    fn open(n: u64, tag: &str) -> LedgerSide {
        let fixture = ledger_fixture(n);
        let write_path = work_copy(n, tag);
        LedgerSide {
            read: Ledger::open(&fixture).expect("open fixture"),
            write: Ledger::open(&write_path).expect("open work copy"),
            write_path,
        }
    }

    fn status(&self, qs: &[Question]) -> Vec<f64> {
        ledger_status(&self.read, qs)
    }

    fn status_many(&self, qs: &[Question]) -> Vec<f64> {
        ledger_status_many(&self.read, qs)
    }

    fn status_at(&self, qs: &[Question], at: Timestamp) -> Vec<f64> {
        qs.iter()
            .map(|(s, p, r)| {
                let t = Instant::now();
                black_box(
                    self.read
                        .status_at(s, p, r.as_deref(), at, None)
                        .expect("status_at"),
                );
                us(t.elapsed())
            })
            .collect()
    }

    fn consenting(&self) -> (f64, usize) {
        let t = Instant::now();
        let c = self
            .read
            .consenting(FEED_PURPOSE, None, None, None)
            .expect("consenting");
        let ms = us(t.elapsed()) / 1000.0;
        (ms, black_box(c).subjects.len())
    }

    fn batch(&self, w: &Workload, n: u64, k0: u64) -> Duration {
        let t = Instant::now();
        let events = (k0..k0 + BATCH).map(|k| fresh_spec(w, n, k, "ledger").to_event());
        black_box(self.write.append_many(events).expect("append_many"));
        t.elapsed()
    }

    fn durable(&self, w: &Workload, n: u64, k: u64) -> Duration {
        let t = Instant::now();
        let e = fresh_spec(w, n, k, "ledger").to_event();
        black_box(self.write.append(e).expect("append"));
        t.elapsed()
    }
}

/// Canonical bytes of `SHA_SAMPLE` events spread over the ledger (fewer if it is
/// smaller), read through the public API.
fn canonical_sample(l: &Ledger) -> Vec<Vec<u8>> {
    let size = l.head().expect("head").size;
    let k = SHA_SAMPLE.min(size);
    (0..k)
        .filter_map(|i| {
            let seq = i * size / k;
            let e = l.changes_since(seq, 1).expect("changes").pop()?;
            Some(l.canonical_event(e.id).expect("canonical"))
        })
        .collect()
}

/// Leaf hashes of the sample per second (repeated until at least 0.1 s has passed).
fn sha_rate(sample: &[Vec<u8>]) -> f64 {
    let t = Instant::now();
    let mut done = 0u64;
    while done == 0 || t.elapsed() < Duration::from_millis(100) {
        for b in sample {
            black_box(consent_core::merkle::leaf_hash(black_box(b)));
        }
        done += sample.len() as u64;
    }
    done as f64 / t.elapsed().as_secs_f64()
}

/// Durable appends of one side over the whole run.
#[derive(Default)]
struct Durable {
    commits_us: Vec<f64>,
    total: Duration,
    checkpoints: u64,
    unknown_checkpoints: bool,
}

impl Durable {
    fn json(&self) -> Value {
        let n = self.commits_us.len();
        json!({
            "events": n,
            "seconds": self.total.as_secs_f64(),
            "eps": n as f64 / self.total.as_secs_f64(),
            "checkpoints": (!self.unknown_checkpoints).then_some(self.checkpoints),
            "commit_us_median": median_of(self.commits_us.clone()),
            "commit_us_p99": quantile(&self.commits_us, 0.99),
            "commit_us_max": quantile(&self.commits_us, 1.0),
        })
    }
    fn count(&mut self, before: Option<u32>, after: Option<u32>) {
        match (before, after) {
            (Some(b), Some(a)) => self.checkpoints += u64::from(a.wrapping_sub(b)),
            // No WAL before: the first writer created it; its header counts from there.
            (None, Some(a)) => self.checkpoints += u64::from(a),
            _ => self.unknown_checkpoints = true,
        }
    }
}

fn run(n: u64, k: &Knobs) -> Value {
    let started = Instant::now();
    let w = Workload::new();
    let qs = queries(n);
    let fixture = ledger_fixture(n);
    let (plain_src, _) = plain_fixture(n);
    // Bytes per event of the pristine files, before anything opens them.
    let ledger_bytes = db_bytes(&fixture);
    let plain_bytes = db_bytes(&plain_src);

    let mut plain = Plain::open(n, "run");
    let ledger = LedgerSide::open(n, "run");
    let ledger_events = ledger.read.head().expect("head").size;
    let at = Timestamp::parse("2023-01-01T00:00:00Z").expect("time");

    eprintln!("  reading the canonical bytes of a sample of events");
    let sample = canonical_sample(&ledger.read);
    let sample_bytes = sample.iter().map(Vec::len).sum::<usize>() as f64 / sample.len() as f64;

    let mut f = Figures::default();
    let mut population: BTreeMap<&str, usize> = BTreeMap::new();
    let mut dur: BTreeMap<&str, Durable> = BTreeMap::new();
    let mut kb = 0u64; // workload index of the next batched event
    let mut kd = 1u64 << 40; // and of the next durable one
    let (mut appended_plain, mut appended_ledger) = (0u64, 0u64);

    for r in 0..k.rounds {
        eprintln!(
            "  round {}/{} ({:.0} s)",
            r + 1,
            k.rounds,
            started.elapsed().as_secs_f64()
        );
        let rq = round_questions(&qs, r, k.rounds);
        for side in order(r) {
            let s = side.key();
            let opens: Vec<f64> = (0..OPENS)
                .map(|_| {
                    let t = Instant::now();
                    match side {
                        Side::Baseline => {
                            let c = open_plain(&plain_src);
                            let _: i64 = c
                                .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
                                .expect("schema");
                        }
                        Side::Ledger => Ledger::open(&fixture)
                            .expect("open")
                            .close()
                            .expect("close"),
                    }
                    us(t.elapsed())
                })
                .collect();
            f.push("open_us", s, median_of(opens));
        }
        // Each half of the round's questions is asked for the first time once: the
        // ledger keeps an in-process cache of answers, so a question asked again is a
        // different figure ("repeated"), measured on the first half after it.
        let (rq_one, rq_many) = rq.split_at(rq.len() / 2);
        for side in order(r) {
            let v = match side {
                Side::Baseline => plain.status(rq_one),
                Side::Ledger => ledger.status(rq_one),
            };
            f.push("status_us", side.key(), median_of(v));
        }
        for side in order(r) {
            let v = match side {
                Side::Baseline => plain.status(rq_one),
                Side::Ledger => ledger.status(rq_one),
            };
            f.push("status_repeat_us", side.key(), median_of(v));
        }
        for side in order(r + 1) {
            let v = match side {
                Side::Baseline => plain.status_many(rq_many),
                Side::Ledger => ledger.status_many(rq_many),
            };
            f.push("status_many_us", side.key(), median_of(v));
        }
        f.push(
            "status_at_us",
            "ledger",
            median_of(ledger.status_at(rq, at)),
        );
        for side in order(r) {
            let mut times = Vec::new();
            for _ in 0..CONSENTING_CALLS {
                let (ms, rows) = match side {
                    Side::Baseline => plain.consenting(),
                    Side::Ledger => ledger.consenting(),
                };
                times.push(ms);
                population.insert(side.key(), rows);
            }
            let ms = median_of(times);
            let rows = population[side.key()].max(1) as f64;
            f.push("consenting_ms", side.key(), ms);
            f.push("consenting_ms_per_100k", side.key(), ms * 100_000.0 / rows);
        }
        if r < k.verify_rounds {
            for side in order(r) {
                match side {
                    Side::Baseline => f.push("verify_eps", "baseline", sha_rate(&sample)),
                    Side::Ledger => {
                        let t = Instant::now();
                        let rep = ledger.read.verify().expect("verify");
                        assert!(rep.ok, "{rep:?}");
                        f.push(
                            "verify_eps",
                            "ledger",
                            rep.size as f64 / t.elapsed().as_secs_f64(),
                        );
                    }
                }
            }
        }
        // Batched appends: the sides take turns batch by batch.
        let mut spent = [Duration::ZERO; 2];
        for b in 0..k.batches {
            for side in order(r + b) {
                match side {
                    Side::Baseline => {
                        spent[0] += plain.batch(&w, n, kb);
                        appended_plain += BATCH;
                    }
                    Side::Ledger => {
                        spent[1] += ledger.batch(&w, n, kb);
                        appended_ledger += BATCH;
                    }
                }
            }
            kb += BATCH;
        }
        let events = (k.batches as u64 * BATCH) as f64;
        f.push(
            "append_batch_eps",
            "baseline",
            events / spent[0].as_secs_f64(),
        );
        f.push(
            "append_batch_eps",
            "ledger",
            events / spent[1].as_secs_f64(),
        );
        f.push(
            "append_batch_us_per_event",
            "baseline",
            us(spent[0]) / events,
        );
        f.push("append_batch_us_per_event", "ledger", us(spent[1]) / events);

        // Durable single appends, in alternating blocks; checkpoints counted per side.
        let before = [
            wal_checkpoint_seq(&plain.write_path),
            wal_checkpoint_seq(&ledger.write_path),
        ];
        let mut round_time = [Duration::ZERO; 2];
        let mut round_n = [0usize; 2];
        let mut block = 0;
        while round_n[0] < k.durable || round_n[1] < k.durable {
            for side in order(r + block) {
                let i = usize::from(side == Side::Ledger);
                let d = dur.entry(side.key()).or_default();
                for _ in 0..DURABLE_BLOCK.min(k.durable - round_n[i]) {
                    let t = match side {
                        Side::Baseline => plain.durable(&w, n, kd),
                        Side::Ledger => ledger.durable(&w, n, kd),
                    };
                    kd += 1;
                    d.commits_us.push(us(t));
                    d.total += t;
                    round_time[i] += t;
                    round_n[i] += 1;
                }
            }
            block += 1;
        }
        appended_plain += round_n[0] as u64;
        appended_ledger += round_n[1] as u64;
        let after = [
            wal_checkpoint_seq(&plain.write_path),
            wal_checkpoint_seq(&ledger.write_path),
        ];
        for (i, side) in [Side::Baseline, Side::Ledger].into_iter().enumerate() {
            dur.entry(side.key())
                .or_default()
                .count(before[i], after[i]);
            f.push(
                "append_durable_eps",
                side.key(),
                round_n[i] as f64 / round_time[i].as_secs_f64(),
            );
        }
    }

    // Bytes per event after the run's appends, each file checkpointed.
    ledger.write.checkpoint().expect("checkpoint");
    let ledger_after = ledger.write.head().expect("head").size;
    plain
        .write
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .expect("checkpoint");
    let ledger_after_bytes = db_bytes(&ledger.write_path);
    let plain_after_bytes = db_bytes(&plain.write_path);
    let plain_after = n + appended_plain;

    let LedgerSide {
        read,
        write,
        write_path: ledger_path,
    } = ledger;
    read.close().expect("close");
    write.close().expect("close");
    let plain_path = plain.write_path.clone();
    drop(plain);
    remove_db(&ledger_path);
    remove_db(&plain_path);

    json!({
        "n": n,
        "knobs": k.json(),
        "seconds": started.elapsed().as_secs_f64(),
        "figures": f.json(),
        "durable": {
            "baseline": dur.get("baseline").map(Durable::json),
            "ledger": dur.get("ledger").map(Durable::json),
        },
        "consenting_subjects": population,
        "bytes_per_event": {
            "ledger": ledger_bytes as f64 / ledger_events as f64,
            "baseline": plain_bytes as f64 / n as f64,
        },
        "bytes": {"ledger": ledger_bytes, "baseline": plain_bytes},
        "events": {"ledger": ledger_events, "baseline": n},
        "after_run": {
            "appended": {"ledger": appended_ledger, "baseline": appended_plain},
            "bytes_per_event": {
                "ledger": ledger_after_bytes as f64 / ledger_after as f64,
                "baseline": plain_after_bytes as f64 / plain_after as f64,
            },
        },
        "sha_sample": {"events": sample.len(), "mean_bytes": sample_bytes},
    })
}

/// Round `r`'s status questions, one call each and then `MANY` a call, on the pristine
/// fixture: medians in µs (per lookup for `status_many`).
fn status_round(n: u64, r: usize, k: &Knobs) -> Value {
    let qs = queries(n);
    let rq = round_questions(&qs, r % k.rounds, k.rounds);
    let l = Ledger::open(ledger_fixture(n)).expect("open fixture");
    let status = median_of(ledger_status(&l, rq));
    let many = median_of(ledger_status_many(&l, rq));
    l.close().expect("close");
    json!({"n": n, "round": r, "questions": rq.len(), "status_us": status, "status_many_us": many})
}

/// Status and batched append at `a` and at `b` events, interleaved round by round: the
/// growth of each, as a ratio per round.
fn growth(a: u64, b: u64, k: &Knobs) -> Value {
    let started = Instant::now();
    let w = Workload::new();
    let sizes = [a, b];
    let qs = [queries(a), queries(b)];
    let mut plains = [Plain::open(a, "growth"), Plain::open(b, "growth")];
    let ledgers = [LedgerSide::open(a, "growth"), LedgerSide::open(b, "growth")];
    let mut f = Figures::default();
    let mut kb = 0u64;
    for r in 0..k.rounds {
        eprintln!("  growth round {}/{}", r + 1, k.rounds);
        let mut status = [[0.0; 2]; 2]; // [side][size]
        let mut append = [[0.0; 2]; 2];
        // The four (size, side) pairs take turns; the order rotates with the round.
        let mut turns = Vec::new();
        for (si, _) in sizes.iter().enumerate() {
            for side in order(r + si) {
                turns.push((si, side));
            }
        }
        if r % 2 == 1 {
            turns.reverse();
        }
        for &(si, side) in &turns {
            let rq = round_questions(&qs[si], r, k.rounds);
            let v = match side {
                Side::Baseline => plains[si].status(rq),
                Side::Ledger => ledgers[si].status(rq),
            };
            status[usize::from(side == Side::Ledger)][si] = median_of(v);
        }
        for _ in 0..k.batches {
            for &(si, side) in &turns {
                let d = match side {
                    Side::Baseline => plains[si].batch(&w, sizes[si], kb),
                    Side::Ledger => ledgers[si].batch(&w, sizes[si], kb),
                };
                append[usize::from(side == Side::Ledger)][si] += us(d) / BATCH as f64;
            }
            kb += BATCH;
        }
        for side in [Side::Baseline, Side::Ledger] {
            let i = usize::from(side == Side::Ledger);
            let s = side.key();
            f.push(&format!("status_us_{a}"), s, status[i][0]);
            f.push(&format!("status_us_{b}"), s, status[i][1]);
            f.push("status_ratio", s, status[i][1] / status[i][0]);
            let per = |x: f64| x / k.batches as f64;
            f.push(&format!("append_us_per_event_{a}"), s, per(append[i][0]));
            f.push(&format!("append_us_per_event_{b}"), s, per(append[i][1]));
            f.push("append_ratio", s, append[i][1] / append[i][0]);
        }
    }
    for l in ledgers {
        l.read.close().expect("close");
        l.write.close().expect("close");
        remove_db(&l.write_path);
    }
    let paths: Vec<PathBuf> = plains.iter().map(|p| p.write_path.clone()).collect();
    drop(plains);
    paths.iter().for_each(|p| remove_db(p));
    json!({
        "from": a, "to": b,
        "knobs": k.json(),
        "seconds": started.elapsed().as_secs_f64(),
        "figures": f.json(),
    })
}
