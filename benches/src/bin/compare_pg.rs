//! The PostgreSQL side of the comparison harness (issue 14; `benches/compare.sh` runs
//! it under `tools/tests/pg-cluster.sh`, which starts a throwaway cluster or names the
//! server in `CONSENT_TEST_PG_URL`).
//!
//! ```text
//! compare_pg run [N...]   for each size (default CONSENT_BENCH_PG_SIZES, else 10000 and
//!                         100000) one JSON line: the PostgreSQL ledger, plain
//!                         PostgreSQL and the SQLite ledger, interleaved in this process;
//!                         then, unless CONSENT_BENCH_PG_SERIAL=0, the line of `serial`
//! compare_pg serial       one JSON line ("kind": "pg_serial"): how to serialise
//!                         appenders, an advisory lock vs SERIALIZABLE with retries,
//!                         measured on a model of one append's statements (`serial.rs`)
//! ```
//!
//! Setup, once per size: the cached fixture of N events (`ledger_fixture`) is copied
//! into a fresh schema with `Ledger::copy_to` (the copy's head must be the fixture's);
//! a second schema holds the plain baseline, the same N workload events as rows of
//! the same width as the SQLite baseline's (`PlainRow`, one index on (subject,
//! purpose)) plus its feed table; both schemas are vacuumed and analysed, as
//! autovacuum would, and the server checkpoints. Then, in rounds
//! (`CONSENT_BENCH_ROUNDS`, default 5), each measurement on every side in turn, the
//! side going first rotating from round to round:
//!
//! 1. reads, on the pristine data: `status` of the round's share of the `query_file`
//!    questions (PostgreSQL ledger, SQLite ledger on its pristine fixture, a plain
//!    PostgreSQL point query), and `consenting` of one purpose (the ledgers, and a
//!    raw scan of the plain feed table);
//! 2. appends: batches of 1 000 in one transaction (the ledger's batch API; plain:
//!    1 000 prepared INSERTs between BEGIN and COMMIT), then durable single appends,
//!    each its own commit with `synchronous_commit = on` (in turns of 50); the SQLite
//!    ledger appends the same events to a work copy of its fixture;
//! 3. concurrent writers: 1, 2, 4 and 8 threads (`CONSENT_BENCH_PG_WRITERS`), each
//!    with its own `Ledger` (its own connection) appending single events with a commit
//!    each for a window (`CONSENT_BENCH_PG_WINDOW_MS`, default 2000), events/s; the
//!    same with plain single-row INSERT commits, a connection a thread.
//!
//! Last, when the server has `pg_stat_statements` loaded, a probe counts the
//! statements (round trips) each operation sends and their execution time on the
//! server. A figure is the median of its rounds; `ratios` are per-round ratios
//! (speed, higher is better: ledger rate / plain rate, or plain time / ledger time),
//! summarised the same way. Only the public API of consent-core is used for the
//! ledgers; the `postgres` crate for the plain baseline, the model of `serial` and the
//! server's catalogue.

#[path = "compare_pg/serial.rs"]
mod serial;

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};
use std::{hint::black_box, path::PathBuf};

use consent_benches::harness::{
    bytes, env_usize, fresh_spec, ledger_status, median_of, print_json, quantile, queries,
    round_questions, us, Figures, PlainRow, Question, BATCH, DURABLE_BLOCK, FEED_PURPOSE,
    FEED_SCAN, FEED_SCHEMA, FEED_UPSERT, PLAIN_INSERT, PLAIN_SCHEMA, POINT_QUERY, QUERIES,
};
use consent_benches::{ledger_fixture, remove_db, work_copy, Workload};
use consent_core::{default_key_path, KeySource, Ledger, LedgerOptions, Timestamp};
use postgres::{Client, GenericClient, NoTls, Statement};
use serde_json::{json, Map, Value};

/// The sides of a comparison.
const PLAIN: &str = "pg_plain";
const PG: &str = "pg_ledger";
const LITE: &str = "sqlite_ledger";
const SIDES: [&str; 3] = [PLAIN, PG, LITE];
/// The ratios reported: (side, against, name).
const PAIRS: [(&str, &str, &str); 3] = [
    (PG, PLAIN, "pg_ledger_vs_pg_plain"),
    (PG, LITE, "pg_ledger_vs_sqlite_ledger"),
    (LITE, PLAIN, "sqlite_ledger_vs_pg_plain"),
];
/// How the ledger's connections name themselves to the server (consent-core sets it),
/// and the plain baseline's.
const LEDGER_APPLICATION: &str = "consent-ledger";
const PLAIN_APPLICATION: &str = "consent_bench_plain";
/// Calls of `consenting` per side per round.
const CONSENTING_CALLS: usize = 3;
/// Rows per transaction when loading the plain baseline.
const LOAD_CHUNK: u64 = 10_000;
/// Operations of each kind in the statement probe.
const PROBE_DURABLE: usize = 50;
const PROBE_STATUS: usize = 200;

/// The knobs of a run, from the environment.
struct Knobs {
    /// `CONSENT_BENCH_ROUNDS` (default 5).
    rounds: usize,
    /// `CONSENT_BENCH_DURABLE`: durable single appends per side per round (default 400).
    durable: usize,
    /// `CONSENT_BENCH_BATCHES`: batches of 1 000 per side per round (default 2).
    batches: usize,
    /// `CONSENT_BENCH_PG_WINDOW_MS`: how long each writer count runs per side and round.
    window: Duration,
    /// `CONSENT_BENCH_PG_WRITERS`: the writer counts (default 1,2,4,8).
    writers: Vec<usize>,
}

impl Knobs {
    fn from_env() -> Knobs {
        let mut writers: Vec<usize> = std::env::var("CONSENT_BENCH_PG_WRITERS")
            .unwrap_or_else(|_| "1,2,4,8".into())
            .split(',')
            .filter_map(|s| s.trim().parse().ok())
            .filter(|&w| w > 0)
            .collect();
        writers.sort_unstable();
        writers.dedup();
        if writers.is_empty() {
            writers = vec![1, 2, 4, 8];
        }
        Knobs {
            rounds: env_usize("CONSENT_BENCH_ROUNDS", 5),
            durable: env_usize("CONSENT_BENCH_DURABLE", 400),
            batches: env_usize("CONSENT_BENCH_BATCHES", 2),
            window: Duration::from_millis(env_usize("CONSENT_BENCH_PG_WINDOW_MS", 2000) as u64),
            writers,
        }
    }
    /// The writer counts in round `r`'s order: the first rotating from round to round.
    fn writers_of_round(&self, r: usize) -> Vec<usize> {
        let mut counts = self.writers.clone();
        let len = counts.len();
        counts.rotate_left(r % len);
        counts
    }
    fn json(&self) -> Value {
        json!({
            "rounds": self.rounds, "durable_per_round": self.durable,
            "batches_per_round": self.batches, "batch": BATCH, "durable_block": DURABLE_BLOCK,
            "writers": self.writers, "window_ms": self.window.as_millis() as u64,
            "questions_per_round": QUERIES / self.rounds.min(QUERIES),
            "consenting_calls": CONSENTING_CALLS,
        })
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = args.first().map(String::as_str);
    if command != Some("run") && (command != Some("serial") || args.len() > 1) {
        eprintln!(
            "usage: compare_pg run [N...] | compare_pg serial   (the server: CONSENT_TEST_PG_URL)"
        );
        std::process::exit(2);
    }
    let mut sizes: Vec<u64> = args[1..]
        .iter()
        .map(|s| {
            s.replace('_', "").parse().unwrap_or_else(|_| {
                eprintln!("compare_pg: not a size: {s}");
                std::process::exit(2)
            })
        })
        .collect();
    if sizes.is_empty() {
        sizes = std::env::var("CONSENT_BENCH_PG_SIZES")
            .unwrap_or_else(|_| "10000,100000".into())
            .split(',')
            .filter_map(|s| s.trim().replace('_', "").parse().ok())
            .collect();
    }
    let Ok(url) = std::env::var("CONSENT_TEST_PG_URL") else {
        eprintln!("compare_pg: CONSENT_TEST_PG_URL names no server (run it under tools/tests/pg-cluster.sh)");
        std::process::exit(2);
    };
    let knobs = Knobs::from_env();
    if command == Some("run") {
        for n in sizes {
            print_json(run(&url, n, &knobs));
        }
    }
    if command == Some("serial") || std::env::var("CONSENT_BENCH_PG_SERIAL").as_deref() != Ok("0") {
        print_json(serial::run(&url, &knobs));
    }
}

// ---- the server ------------------------------------------------------------------------

/// `url` with one more query parameter.
fn with_param(url: &str, param: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{param}")
}

fn connect(url: &str) -> Client {
    Client::connect(url, NoTls).unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"))
}

/// SQLite's dialect of the baseline's SQL in PostgreSQL's: the ledger's types
/// (docs/POSTGRES.md: `BIGINT`, `BYTEA`, `TEXT COLLATE "C"`), `$N` placeholders, no
/// `WITHOUT ROWID` (a PostgreSQL table is a heap either way).
fn pg_sql(sql: &str) -> String {
    let sql = sql
        .replace(" INTEGER", " BIGINT")
        .replace(" BLOB", " BYTEA")
        .replace(" TEXT", " TEXT COLLATE \"C\"")
        .replace(" WITHOUT ROWID", "");
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

/// The server as this run found it: version and the settings that bear on the figures.
fn server_info(admin: &mut Client) -> Value {
    let version: String = admin
        .query_one("SELECT version()", &[])
        .map(|r| r.get(0))
        .unwrap_or_default();
    let mut settings = Map::new();
    let rows = admin
        .query(
            "SELECT name, setting, coalesce(unit, '') FROM pg_settings WHERE name = ANY($1) ORDER BY name",
            &[&vec![
                "synchronous_commit",
                "fsync",
                "wal_sync_method",
                "full_page_writes",
                "shared_buffers",
                "max_wal_size",
                "commit_delay",
                "wal_level",
                "data_directory",
                "shared_preload_libraries",
                "max_connections",
            ]],
        )
        .unwrap_or_default();
    for r in rows {
        let (name, setting, unit): (String, String, String) = (r.get(0), r.get(1), r.get(2));
        settings.insert(name, json!(format!("{setting}{unit}")));
    }
    json!({"version": version, "settings": settings})
}

/// Bytes of the relations (tables with their indexes and TOAST) of `schema`, or of
/// one table of it.
fn schema_bytes(admin: &mut Client, schema: &str, table: Option<&str>) -> i64 {
    admin
        .query_one(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c \
             JOIN pg_namespace s ON s.oid = c.relnamespace \
             WHERE s.nspname = $1 AND c.relkind = 'r' AND ($2::text IS NULL OR c.relname = $2)",
            &[&schema, &table],
        )
        .map(|r| r.get(0))
        .unwrap_or(-1)
}

/// Vacuums and analyses every table of `schema` (what autovacuum does after a load).
fn vacuum_schema(admin: &mut Client, schema: &str) {
    let tables: Vec<String> = admin
        .query(
            "SELECT tablename FROM pg_tables WHERE schemaname = $1",
            &[&schema],
        )
        .expect("tables")
        .iter()
        .map(|r| r.get(0))
        .collect();
    for t in tables {
        admin
            .batch_execute(&format!("VACUUM (ANALYZE) {schema}.{t}"))
            .expect("vacuum");
    }
}

// ---- plain PostgreSQL --------------------------------------------------------------------

/// A connection to the plain baseline's schema, its statements prepared.
struct PlainPg {
    client: Client,
    insert: Statement,
    point: Statement,
    scan: Statement,
}

impl PlainPg {
    fn connect(url: &str, schema: &str) -> PlainPg {
        let mut client = connect(url);
        client
            .batch_execute(&format!(
                "SET search_path TO {schema}; SET synchronous_commit = on; SET TIME ZONE 'UTC'; \
                 SET application_name = {PLAIN_APPLICATION}"
            ))
            .expect("session");
        let insert = client.prepare(&pg_sql(PLAIN_INSERT)).expect("prepare");
        let point = client.prepare(&pg_sql(POINT_QUERY)).expect("prepare");
        let scan = client.prepare(&pg_sql(FEED_SCAN)).expect("prepare");
        PlainPg {
            client,
            insert,
            point,
            scan,
        }
    }

    /// Creates the schema, loads the workload's events `0..n` (and the feed table) and
    /// returns the connection.
    fn create(url: &str, schema: &str, n: u64) -> PlainPg {
        let mut admin = connect(url);
        admin
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; SET search_path TO {schema}; {}; {}",
                pg_sql(PLAIN_SCHEMA),
                pg_sql(FEED_SCHEMA)
            ))
            .expect("plain schema");
        let mut p = PlainPg::connect(url, schema);
        let up = p.client.prepare(&pg_sql(FEED_UPSERT)).expect("prepare");
        let w = Workload::new();
        let mut i = 0;
        while i < n {
            let end = (i + LOAD_CHUNK).min(n);
            let mut tx = p.client.transaction().expect("begin");
            for j in i..end {
                let s = w.spec(j, n);
                insert_row(&mut tx, &p.insert, &PlainRow::of(&s, j, j as i64)).expect("insert");
                tx.execute(
                    &up,
                    &[
                        &s.purpose,
                        &s.recipient.unwrap_or(""),
                        &s.subject,
                        &s.kind.as_str(),
                        &bytes(j, 16),
                        &s.effective_ms,
                        &s.expiry_ms(),
                    ],
                )
                .expect("feed upsert");
            }
            tx.commit().expect("commit");
            i = end;
        }
        p
    }

    fn status(&mut self, qs: &[Question]) -> Vec<f64> {
        qs.iter()
            .map(|(s, p, _)| {
                let t = Instant::now();
                let row = self
                    .client
                    .query_opt(&self.point, &[s, p])
                    .expect("point query")
                    .map(|r| {
                        let v: (i64, String, i64, Option<i64>) =
                            (r.get(0), r.get(1), r.get(2), r.get(3));
                        v
                    });
                black_box(row);
                us(t.elapsed())
            })
            .collect()
    }

    /// The raw feed scan: (ms, rows).
    fn consenting(&mut self) -> (f64, usize) {
        let t = Instant::now();
        let rows: Vec<(String, Vec<u8>, i64, Option<i64>)> = self
            .client
            .query(&self.scan, &[&FEED_PURPOSE, &Timestamp::now().as_millis()])
            .expect("scan")
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect();
        let ms = us(t.elapsed()) / 1000.0;
        (ms, black_box(rows).len())
    }

    /// `BATCH` rows in one transaction, built inside the timing.
    fn batch(&mut self, w: &Workload, n: u64, k0: u64, seq: &AtomicI64) -> Duration {
        let t = Instant::now();
        let mut tx = self.client.transaction().expect("begin");
        for k in k0..k0 + BATCH {
            let s = fresh_spec(w, n, k, "plain");
            let row = PlainRow::of(&s, k, seq.fetch_add(1, Ordering::Relaxed));
            insert_row(&mut tx, &self.insert, &row).expect("insert");
        }
        tx.commit().expect("commit");
        t.elapsed()
    }

    /// One row, its own commit.
    fn durable(&mut self, w: &Workload, n: u64, k: u64, seq: &AtomicI64) -> Duration {
        let t = Instant::now();
        let s = fresh_spec(w, n, k, "plain");
        let row = PlainRow::of(&s, k, seq.fetch_add(1, Ordering::Relaxed));
        insert_row(&mut self.client, &self.insert, &row).expect("insert");
        t.elapsed()
    }
}

/// Inserts a plain row with the prepared `insert`.
fn insert_row(
    c: &mut impl GenericClient,
    insert: &Statement,
    r: &PlainRow,
) -> Result<u64, postgres::Error> {
    c.execute(
        insert,
        &[
            &r.seq,
            &r.id,
            &r.kind,
            &r.subject,
            &r.salt,
            &r.personal_digest,
            &r.purpose,
            &r.purpose_version,
            &r.recipient,
            &r.notice_id,
            &r.notice_version,
            &r.notice_sha256,
            &r.explicit,
            &r.method,
            &r.recorded_by,
            &r.effective_at,
            &r.recorded_at,
            &r.expires_at,
            &r.effect_deadline,
            &r.source_id,
            &r.evidence,
            &r.target,
            &r.details,
        ],
    )
}

// ---- the ledgers -------------------------------------------------------------------------

/// `BATCH` workload events through the batch API: one transaction.
fn ledger_batch(l: &Ledger, w: &Workload, n: u64, k0: u64, tag: &str) -> Duration {
    let t = Instant::now();
    let batch = l.batch().expect("begin batch");
    for k in k0..k0 + BATCH {
        black_box(
            batch
                .append(fresh_spec(w, n, k, tag).to_event())
                .expect("append"),
        );
    }
    batch.commit().expect("commit batch");
    t.elapsed()
}

/// One durable append.
fn ledger_durable(l: &Ledger, w: &Workload, n: u64, k: u64, tag: &str) -> Duration {
    let t = Instant::now();
    black_box(
        l.append(fresh_spec(w, n, k, tag).to_event())
            .expect("append"),
    );
    t.elapsed()
}

/// `consenting` of [`FEED_PURPOSE`]: (ms, subjects).
fn ledger_consenting(l: &Ledger) -> (f64, usize) {
    let t = Instant::now();
    let c = l
        .consenting(FEED_PURPOSE, None, None, None)
        .expect("consenting");
    let ms = us(t.elapsed()) / 1000.0;
    (ms, black_box(c).subjects.len())
}

/// Everything one size measures on.
struct Sides {
    plain: PlainPg,
    /// The PostgreSQL ledger (reads and appends: reads run before any append).
    pg: Ledger,
    /// The SQLite ledger: the pristine fixture to read, a work copy to append to.
    lite_read: Ledger,
    lite_write: Ledger,
    /// Next seq of the plain table.
    seq: AtomicI64,
    w: Workload,
    n: u64,
}

impl Sides {
    fn status(&mut self, side: &str, qs: &[Question]) -> Vec<f64> {
        match side {
            PLAIN => self.plain.status(qs),
            PG => ledger_status(&self.pg, qs),
            _ => ledger_status(&self.lite_read, qs),
        }
    }
    fn consenting(&mut self, side: &str) -> (f64, usize) {
        match side {
            PLAIN => self.plain.consenting(),
            PG => ledger_consenting(&self.pg),
            _ => ledger_consenting(&self.lite_read),
        }
    }
    fn batch(&mut self, side: &str, k0: u64) -> Duration {
        match side {
            PLAIN => self.plain.batch(&self.w, self.n, k0, &self.seq),
            PG => ledger_batch(&self.pg, &self.w, self.n, k0, "pg"),
            _ => ledger_batch(&self.lite_write, &self.w, self.n, k0, "lite"),
        }
    }
    fn durable(&mut self, side: &str, k: u64) -> Duration {
        match side {
            PLAIN => self.plain.durable(&self.w, self.n, k, &self.seq),
            PG => ledger_durable(&self.pg, &self.w, self.n, k, "pg"),
            _ => ledger_durable(&self.lite_write, &self.w, self.n, k, "lite"),
        }
    }
}

/// `sides` rotated by `r`: which goes first changes from round to round.
fn rotated<const K: usize>(sides: [&'static str; K], r: usize) -> [&'static str; K] {
    let mut s = sides;
    s.rotate_left(r % K);
    s
}

/// Pushes this round's ratio of each of `pairs` (side, against, name) measured for
/// `metric` (speed: a rate over the other's, or the other's time over this one's).
fn push_ratios(
    f: &Figures,
    ratios: &mut Figures,
    metric: &str,
    rate: bool,
    pairs: &[(&str, &str, &'static str)],
) {
    for &(a, b, name) in pairs {
        if let (Some(&x), Some(&y)) = (f.rounds(metric, a).last(), f.rounds(metric, b).last()) {
            ratios.push(metric, name, if rate { x / y } else { y / x });
        }
    }
}

/// Pushes this round's ratio of each side's rate with the most writers over its rate
/// with the fewest (`writers_{most}_over_{first}`).
fn push_scaling(f: &Figures, ratios: &mut Figures, writers: &[usize], sides: &[&'static str]) {
    let (first, most) = (writers[0], writers[writers.len() - 1]);
    for &side in sides {
        let eps = |c: usize| {
            *f.rounds(&format!("writers_{c}_eps"), side)
                .last()
                .expect("measured")
        };
        ratios.push(
            &format!("writers_{most}_over_{first}"),
            side,
            eps(most) / eps(first),
        );
    }
}

// ---- concurrent writers ----------------------------------------------------------------------

/// Runs `w` threads, each calling `op` on its own item of `each` until the window
/// closes: every call's latency in ms with what it returned, and the span from the
/// start to the last thread's end.
fn in_threads<T: Send, R: Send>(
    each: &mut [T],
    w: usize,
    window: Duration,
    op: impl Fn(&mut T) -> R + Sync,
) -> (Vec<(f64, R)>, Duration) {
    let start = Barrier::new(w + 1);
    std::thread::scope(|s| {
        let handles: Vec<_> = each[..w]
            .iter_mut()
            .map(|item| {
                let (start, op) = (&start, &op);
                s.spawn(move || {
                    start.wait();
                    let t0 = Instant::now();
                    let mut calls = Vec::new();
                    while t0.elapsed() < window {
                        let t = Instant::now();
                        let r = op(item);
                        calls.push((us(t.elapsed()) / 1000.0, r));
                    }
                    calls
                })
            })
            .collect();
        start.wait();
        let t0 = Instant::now();
        let calls: Vec<(f64, R)> = handles
            .into_iter()
            .flat_map(|h| h.join().expect("writer"))
            .collect();
        (calls, t0.elapsed())
    })
}

/// [`in_threads`] of an `op` that returns nothing: (events/s over the whole span,
/// median latency in ms).
fn writers<T: Send>(
    each: &mut [T],
    w: usize,
    window: Duration,
    op: impl Fn(&mut T) + Sync,
) -> (f64, f64) {
    let (calls, span) = in_threads(each, w, window, op);
    let n = calls.len() as f64;
    (
        n / span.as_secs_f64(),
        median_of(calls.into_iter().map(|(ms, ())| ms).collect()),
    )
}

// ---- the statement probe -----------------------------------------------------------------------

/// Whether `pg_stat_statements` answers on this server (`Err`: why not).
fn statements_available(admin: &mut Client) -> Result<(), String> {
    admin
        .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        .and_then(|_| admin.query_one("SELECT count(*) FROM pg_stat_statements", &[]))
        .map(|_| ())
        .map_err(|e| {
            e.as_db_error()
                .map_or_else(|| e.to_string(), |d| d.message().to_string())
        })
}

/// Nanoseconds a task has run on a CPU and waited in a run queue (Linux
/// `/proc/PID/schedstat`).
fn schedstat(path: &str) -> Option<[u64; 2]> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut f = text.split_whitespace().map(|v| v.parse::<u64>().ok());
    Some([f.next()??, f.next()??])
}

/// The server processes serving connections named `application`.
fn backend_pids(admin: &mut Client, application: &str) -> Vec<i32> {
    admin
        .query(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1",
            &[&application],
        )
        .map(|rows| rows.iter().map(|r| r.get(0)).collect())
        .unwrap_or_default()
}

/// The summed [`schedstat`] of server processes, when the server runs on this machine
/// and they can be read.
fn backends_schedstat(pids: &[i32]) -> Option<[u64; 2]> {
    if pids.is_empty() {
        return None;
    }
    pids.iter().try_fold([0, 0], |acc, pid| {
        let [cpu, wait] = schedstat(&format!("/proc/{pid}/schedstat"))?;
        Some([acc[0] + cpu, acc[1] + wait])
    })
}

/// Resets `pg_stat_statements`, runs `ops` operations of `f` (on connections named
/// `application`), and says what the server ran for them: statements per operation,
/// their execution time, the busiest statements; and where the wall time went: this
/// thread's and the server processes' time on a CPU and waiting for one.
fn probe(admin: &mut Client, ops: usize, application: &str, f: impl FnOnce()) -> Value {
    // Looked up before the reset, so that this query is not counted.
    let pids = backend_pids(admin, application);
    admin
        .batch_execute("SELECT pg_stat_statements_reset()")
        .expect("reset");
    let client0 = schedstat("/proc/thread-self/schedstat");
    let server0 = backends_schedstat(&pids);
    let t = Instant::now();
    f();
    let wall = t.elapsed();
    let client1 = schedstat("/proc/thread-self/schedstat");
    let server1 = backends_schedstat(&pids);
    let ms_per_op = |a: Option<[u64; 2]>, b: Option<[u64; 2]>, i: usize| {
        a.zip(b)
            .map(|(a, b)| b[i].saturating_sub(a[i]) as f64 / 1e6 / ops as f64)
    };
    let rows = admin
        .query(
            "SELECT query, calls, total_exec_time, rows FROM pg_stat_statements \
             WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
             AND query NOT LIKE '%pg_stat_statements%' ORDER BY calls DESC, total_exec_time DESC",
            &[],
        )
        .expect("pg_stat_statements");
    let per = |v: f64| v / ops as f64;
    let calls: i64 = rows.iter().map(|r| r.get::<_, i64>(1)).sum();
    let exec_ms: f64 = rows.iter().map(|r| r.get::<_, f64>(2)).sum();
    let top: Vec<Value> = rows
        .iter()
        .take(12)
        .map(|r| {
            let q: String = r.get(0);
            let q: String = q.split_whitespace().collect::<Vec<_>>().join(" ");
            json!({
                "query": q.chars().take(140).collect::<String>(),
                "per_op": per(r.get::<_, i64>(1) as f64),
                "exec_ms_per_op": per(r.get(2)),
            })
        })
        .collect();
    json!({
        "ops": ops,
        "statements_per_op": per(calls as f64),
        "server_exec_ms_per_op": per(exec_ms),
        "wall_ms_per_op": per(us(wall) / 1000.0),
        "distinct_statements": rows.len(),
        "client_cpu_ms_per_op": ms_per_op(client0, client1, 0),
        "client_runqueue_ms_per_op": ms_per_op(client0, client1, 1),
        "server_cpu_ms_per_op": ms_per_op(server0, server1, 0),
        "server_runqueue_ms_per_op": ms_per_op(server0, server1, 1),
        "top": top,
    })
}

// ---- one size ----------------------------------------------------------------------------------

fn run(url: &str, n: u64, k: &Knobs) -> Value {
    let started = Instant::now();
    let pid = std::process::id();
    let ledger_schema = format!("bench_ledger_{pid}_{n}");
    let plain_schema = format!("bench_plain_{pid}_{n}");
    let mut admin = connect(url);
    let server = server_info(&mut admin);
    let qs = queries(n);

    // The PostgreSQL ledger: a copy of the cached fixture, its key beside it.
    let fixture = ledger_fixture(n);
    let options = LedgerOptions {
        pseudonym_key: KeySource::File(default_key_path(&fixture)),
        ..LedgerOptions::default()
    };
    let pg_url = with_param(url, &format!("schema={ledger_schema}"));
    admin
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {ledger_schema} CASCADE"))
        .expect("drop");
    eprintln!("  copying the fixture of {n} events into schema {ledger_schema}");
    let lite_read = Ledger::open(&fixture).expect("open fixture");
    let t = Instant::now();
    let copied = lite_read.copy_to(&pg_url, &options).expect("copy_to");
    let copy_s = t.elapsed().as_secs_f64();
    assert_eq!(
        copied.head,
        lite_read.head().expect("head"),
        "the copy's head"
    );
    let pg = Ledger::open_with(&pg_url, options.clone()).expect("open the PostgreSQL ledger");

    eprintln!("  loading the plain baseline into schema {plain_schema}");
    let t = Instant::now();
    let plain = PlainPg::create(url, &plain_schema, n);
    let load_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    vacuum_schema(&mut admin, &ledger_schema);
    vacuum_schema(&mut admin, &plain_schema);
    let checkpoint = admin.batch_execute("CHECKPOINT").is_ok();
    let vacuum_s = t.elapsed().as_secs_f64();
    let pg_bytes = schema_bytes(&mut admin, &ledger_schema, None);
    let plain_bytes = schema_bytes(&mut admin, &plain_schema, Some("events"));

    let lite_path: PathBuf = work_copy(n, "pg");
    let mut s = Sides {
        plain,
        pg,
        lite_write: Ledger::open(&lite_path).expect("open work copy"),
        lite_read,
        seq: AtomicI64::new(n as i64 + 10),
        w: Workload::new(),
        n,
    };
    let mut f = Figures::default();
    let mut ratios = Figures::default();
    let mut population = Map::new();
    let mut commits: [Vec<f64>; 3] = Default::default();
    let side_index = |side: &str| SIDES.iter().position(|&x| x == side).expect("side");
    let mut appended = [0u64; 3];
    let say = |what: &str, r: usize| {
        eprintln!(
            "  {what} round {}/{} ({:.0} s)",
            r + 1,
            k.rounds,
            started.elapsed().as_secs_f64()
        )
    };

    // 1. Reads, on the pristine data.
    for r in 0..k.rounds {
        say("reads", r);
        let rq = round_questions(&qs, r, k.rounds);
        for side in rotated(SIDES, r) {
            let v = s.status(side, rq);
            f.push("status_us", side, median_of(v));
        }
        push_ratios(&f, &mut ratios, "status_us", false, &PAIRS);
        for side in rotated(SIDES, r + 1) {
            let mut times = Vec::new();
            for _ in 0..CONSENTING_CALLS {
                let (ms, rows) = s.consenting(side);
                times.push(ms);
                population.insert(side.to_string(), json!(rows));
            }
            f.push("consenting_ms", side, median_of(times));
        }
        push_ratios(&f, &mut ratios, "consenting_ms", false, &PAIRS);
    }

    // 2. Batched, then durable appends.
    let mut kb = 0u64;
    let mut kd = 1u64 << 40;
    for r in 0..k.rounds {
        say("appends", r);
        let mut spent = [Duration::ZERO; 3];
        for b in 0..k.batches {
            for side in rotated(SIDES, r + b) {
                spent[side_index(side)] += s.batch(side, kb);
                appended[side_index(side)] += BATCH;
            }
            kb += BATCH;
        }
        let events = (k.batches as u64 * BATCH) as f64;
        for side in SIDES {
            f.push(
                "append_batch_eps",
                side,
                events / spent[side_index(side)].as_secs_f64(),
            );
        }
        push_ratios(&f, &mut ratios, "append_batch_eps", true, &PAIRS);

        let mut time = [Duration::ZERO; 3];
        let mut done = [0usize; 3];
        let mut block = 0;
        while done.iter().any(|&d| d < k.durable) {
            for side in rotated(SIDES, r + block) {
                let i = side_index(side);
                for _ in 0..DURABLE_BLOCK.min(k.durable - done[i]) {
                    let t = s.durable(side, kd);
                    kd += 1;
                    commits[i].push(us(t));
                    time[i] += t;
                    done[i] += 1;
                }
            }
            block += 1;
        }
        for side in SIDES {
            let i = side_index(side);
            appended[i] += done[i] as u64;
            f.push(
                "append_durable_eps",
                side,
                done[i] as f64 / time[i].as_secs_f64(),
            );
        }
        push_ratios(&f, &mut ratios, "append_durable_eps", true, &PAIRS);
    }

    // 3. Concurrent writers, each with its own connection.
    let most = *k.writers.iter().max().expect("writer counts");
    eprintln!("  opening {most} writers of each kind");
    let mut ledgers: Vec<Ledger> = (0..most)
        .map(|_| Ledger::open_with(&pg_url, options.clone()).expect("open a writer"))
        .collect();
    let mut plains: Vec<PlainPg> = (0..most)
        .map(|_| PlainPg::connect(url, &plain_schema))
        .collect();
    let next = AtomicU64::new(1 << 41);
    let (w, seq) = (&s.w, &s.seq);
    let mut writer_events = [0u64; 2];
    for r in 0..k.rounds {
        say("writers", r);
        for (j, &c) in k.writers_of_round(r).iter().enumerate() {
            for side in rotated([PLAIN, PG], r + j) {
                let (eps, latency) = if side == PG {
                    writers(&mut ledgers, c, k.window, |l| {
                        let key = next.fetch_add(1, Ordering::Relaxed);
                        ledger_durable(l, w, n, key, "pg");
                    })
                } else {
                    writers(&mut plains, c, k.window, |p| {
                        let key = next.fetch_add(1, Ordering::Relaxed);
                        p.durable(w, n, key, seq);
                    })
                };
                f.push(&format!("writers_{c}_eps"), side, eps);
                f.push(&format!("writers_{c}_latency_ms"), side, latency);
            }
            push_ratios(&f, &mut ratios, &format!("writers_{c}_eps"), true, &PAIRS);
        }
        push_scaling(&f, &mut ratios, &k.writers, &[PLAIN, PG]);
    }
    // What the threads appended (the counter is shared by both sides): counted from
    // the stores themselves below.
    let writer_keys = next.load(Ordering::Relaxed) - (1 << 41);

    // Nothing acknowledged is lost: the ledger and the plain table hold every append.
    let pg_size = s.pg.head().expect("head").size;
    let plain_rows: i64 = admin
        .query_one(&format!("SELECT count(*) FROM {plain_schema}.events"), &[])
        .expect("count")
        .get(0);
    writer_events[0] = plain_rows as u64 - n - appended[0];
    writer_events[1] = pg_size - copied.head.size - appended[1];
    assert_eq!(
        writer_events[0] + writer_events[1],
        writer_keys,
        "every acknowledged write is stored"
    );

    // 4. Statements per operation, when the server counts them.
    let statements = match statements_available(&mut admin) {
        Err(why) => json!({"available": false, "why": why}),
        Ok(()) => {
            eprintln!("  counting statements (pg_stat_statements)");
            let mut kp = 1u64 << 42;
            let mut m = Map::new();
            m.insert("available".into(), json!(true));
            let probes: [(&str, usize); 6] = [
                ("pg_ledger_durable", PROBE_DURABLE),
                ("pg_plain_durable", PROBE_DURABLE),
                ("pg_ledger_batched_event", BATCH as usize),
                ("pg_plain_batched_event", BATCH as usize),
                ("pg_ledger_status", PROBE_STATUS),
                ("pg_ledger_consenting", 1),
            ];
            for (name, ops) in probes {
                let application = if name.starts_with("pg_ledger") {
                    LEDGER_APPLICATION
                } else {
                    PLAIN_APPLICATION
                };
                let v = probe(&mut admin, ops, application, || match name {
                    "pg_ledger_durable" | "pg_plain_durable" => {
                        let side = if name.starts_with("pg_ledger") {
                            PG
                        } else {
                            PLAIN
                        };
                        for _ in 0..ops {
                            s.durable(side, kp);
                            kp += 1;
                        }
                    }
                    "pg_ledger_batched_event" | "pg_plain_batched_event" => {
                        let side = if name.starts_with("pg_ledger") {
                            PG
                        } else {
                            PLAIN
                        };
                        s.batch(side, kp);
                        kp += BATCH;
                    }
                    "pg_ledger_status" => {
                        s.status(PG, &qs[..PROBE_STATUS.min(qs.len())]);
                    }
                    _ => {
                        s.consenting(PG);
                    }
                });
                m.insert(name.into(), v);
            }
            Value::Object(m)
        }
    };

    let pg_after = s.pg.head().expect("head").size;
    for l in ledgers.drain(..) {
        l.close().expect("close");
    }
    drop(plains);
    let Sides {
        plain,
        pg,
        lite_read,
        lite_write,
        ..
    } = s;
    drop(plain);
    pg.close().expect("close");
    lite_read.close().expect("close");
    lite_write.close().expect("close");
    remove_db(&lite_path);
    admin
        .batch_execute(&format!(
            "DROP SCHEMA {ledger_schema} CASCADE; DROP SCHEMA {plain_schema} CASCADE"
        ))
        .expect("drop the schemas");

    let durable: Map<String, Value> = SIDES
        .iter()
        .map(|&side| {
            let c = &commits[side_index(side)];
            (
                side.to_string(),
                json!({
                    "commits": c.len(),
                    "commit_us_median": median_of(c.clone()),
                    "commit_us_p99": quantile(c, 0.99),
                    "commit_us_max": quantile(c, 1.0),
                }),
            )
        })
        .collect();
    json!({
        "n": n,
        "knobs": k.json(),
        "seconds": started.elapsed().as_secs_f64(),
        "server": server,
        "setup": {
            "copy_seconds": copy_s,
            "copied_rows": copied.rows,
            "head_size": copied.head.size,
            "plain_load_seconds": load_s,
            "vacuum_analyze_checkpoint_seconds": vacuum_s,
            "checkpoint": checkpoint,
        },
        "bytes_per_event": {
            PG: pg_bytes as f64 / copied.head.size as f64,
            PLAIN: plain_bytes as f64 / n as f64,
        },
        "figures": f.json(),
        "ratios": ratios.json(),
        "durable": durable,
        "consenting_subjects": population,
        "appended": {
            "batched_and_durable": {PLAIN: appended[0], PG: appended[1], LITE: appended[2]},
            "by_writers": {PLAIN: writer_events[0], PG: writer_events[1]},
            "pg_ledger_events_at_end": pg_after,
        },
        "statements": statements,
    })
}
