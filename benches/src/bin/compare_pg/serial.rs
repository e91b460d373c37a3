//! Serialising appenders on PostgreSQL (issue 14: "an advisory lock or a single-row
//! sequence under SERIALIZABLE, with retry — measure which"): `compare_pg serial`, and
//! the last part of `compare_pg run`.
//!
//! A model of one append's database work, written with the `postgres` crate (not the
//! ledger), in the statement shape the ledger sends for a durable append (its
//! `pg_stat_statements` probe: 13 statements): read the log's `max(seq)`, the
//! registry's growth, the last record time, the erasure marker, the subject's
//! `current` row and a sibling tree hash; insert the event row at `max + 1` (the plain
//! baseline's columns, `seq` the primary key, one index on (subject, purpose)), two
//! tree rows keyed by (level, idx) derived from seq, and upsert the `current` row; a
//! commit per append, `synchronous_commit = on`. Three ways to keep two writers off
//! the same seq, each in a schema of its own:
//!
//! - `advisory_lock`: `BEGIN ISOLATION LEVEL READ COMMITTED; SELECT
//!   pg_advisory_xact_lock(k1, hashtext(schema)); …; COMMIT` — what the ledger does
//!   (`begin_write`);
//! - `serializable`: `BEGIN ISOLATION LEVEL SERIALIZABLE; …; COMMIT`, the next seq from
//!   `max(seq) + 1`;
//! - `serializable_counter`: the same, the next seq taken by `UPDATE` of a single-row
//!   counter (`RETURNING`) in place of `max(seq)`.
//!
//! Both SERIALIZABLE strategies roll back and retry the whole append on
//! serialization_failure (40001), unique_violation (23505) and deadlock_detected
//! (40P01) until it commits; any other error ends the run. Each schema starts with the
//! same `CONSENT_BENCH_PG_SERIAL_BASE` appends (default 10 000), vacuumed and analysed.
//! Then, in rounds, for each writer count (`CONSENT_BENCH_PG_WRITERS`), each strategy
//! runs that many threads, each on its own connection, for the window
//! (`CONSENT_BENCH_PG_WINDOW_MS`) in turns (`CONSENT_BENCH_PG_SERIAL_TURN_MS`, default
//! 250 ms) with the other strategies, the one going first rotating: committed
//! appends/s, median and p99 latency of a committed append (retries included), retries
//! per committed append, and the server processes' time on a CPU per committed append
//! (`/proc/PID/schedstat`, when the server runs on this machine). Afterwards every
//! schema's seqs must be exactly `0..n` (no gap, no duplicate), `n` the base plus every
//! acknowledged append, with two tree rows each.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use consent_benches::harness::{
    bytes, env_usize, fresh_spec, quantile, Figures, PlainRow, PLAIN_INSERT, PLAIN_SCHEMA,
};
use consent_benches::{Spec, Workload};
use postgres::error::SqlState;
use postgres::{Client, GenericClient, Statement};
use serde_json::{json, Map, Value};

use super::{
    backend_pids, backends_schedstat, connect, in_threads, insert_row, pg_sql, probe, push_ratios,
    push_scaling, rotated, server_info, statements_available, vacuum_schema, Knobs,
};

const LOCK: &str = "advisory_lock";
const SERIALIZABLE: &str = "serializable";
const COUNTER: &str = "serializable_counter";
/// The strategies, in the order of the report.
const STRATEGIES: [&str; 3] = [LOCK, SERIALIZABLE, COUNTER];
/// The ratios reported (committed appends/s): (strategy, against, name).
const PAIRS: [(&str, &str, &str); 2] = [
    (SERIALIZABLE, LOCK, "serializable_vs_lock"),
    (COUNTER, LOCK, "serializable_counter_vs_lock"),
];
/// The first key of the model's advisory lock, as the ledger's (`LOCK_CLASS` in
/// consent-core); the second is the hash of the schema's name, as there.
const LOCK_CLASS: i32 = 0x636f_6e73;
/// The errors retried, as the report names them.
const RETRIED: [&str; 3] = ["40001", "23505", "40P01"];
/// Appends of each strategy in the statement probe.
const PROBE_APPENDS: usize = 50;
/// Appends per transaction when loading the base.
const LOAD_CHUNK: u64 = 5_000;

/// The model's tables besides `events` (the plain baseline's): the ledger's `tree`,
/// `current`, `erased`, `purposes` and `notices` (docs/POSTGRES.md), and the counter.
const TABLES: &str = r#"
CREATE TABLE tree(level BIGINT NOT NULL, idx BIGINT NOT NULL, hash BYTEA NOT NULL,
                  PRIMARY KEY(level, idx));
CREATE TABLE current(purpose TEXT COLLATE "C" NOT NULL, subject TEXT COLLATE "C" NOT NULL,
                     recipient TEXT COLLATE "C" NOT NULL, state TEXT COLLATE "C" NOT NULL,
                     seq BIGINT NOT NULL, event_id BYTEA NOT NULL, since BIGINT NOT NULL, until BIGINT,
                     last_effective BIGINT NOT NULL,
                     PRIMARY KEY(purpose, subject, recipient));
CREATE TABLE erased(subject_key BYTEA PRIMARY KEY, seq BIGINT NOT NULL);
CREATE TABLE purposes(id TEXT COLLATE "C" NOT NULL, version BIGINT NOT NULL, seq BIGINT NOT NULL,
                      PRIMARY KEY(id, version));
CREATE TABLE notices(id TEXT COLLATE "C" NOT NULL, version TEXT COLLATE "C" NOT NULL, seq BIGINT NOT NULL,
                     PRIMARY KEY(id, version));
INSERT INTO purposes VALUES ('jmsu.data-sharing', 1, 0);
INSERT INTO notices VALUES ('jmsu-privacy', '2024-09', 1);
CREATE TABLE seq_counter(id INTEGER PRIMARY KEY, next BIGINT NOT NULL);
"#;

/// The statements of one append, prepared on a connection.
struct Statements {
    lock: Statement,
    max_seq: Statement,
    counter: Statement,
    registry: Statement,
    last_recorded: Statement,
    erased: Statement,
    current_read: Statement,
    insert_event: Statement,
    tree_read: Statement,
    tree_insert: Statement,
    current_upsert: Statement,
}

impl Statements {
    fn prepare(c: &mut Client) -> Statements {
        let mut p = |sql: &str| {
            c.prepare(sql)
                .unwrap_or_else(|e| panic!("prepare {sql}: {e}"))
        };
        Statements {
            lock: p("SELECT pg_advisory_xact_lock($1, hashtext($2))"),
            max_seq: p("SELECT max(seq) FROM events"),
            counter: p("UPDATE seq_counter SET next = next + 1 WHERE id = 1 RETURNING next - 1"),
            registry: p("SELECT (SELECT coalesce(max(seq), -1) FROM purposes) + \
                         (SELECT coalesce(max(seq), -1) FROM notices)"),
            last_recorded: p("SELECT recorded_at FROM events ORDER BY seq DESC LIMIT 1"),
            erased: p("SELECT 1 FROM erased WHERE subject_key = $1"),
            current_read: p(
                "SELECT recipient, state, seq, event_id, since, until, last_effective FROM current \
                 WHERE subject = $1 AND purpose = $2",
            ),
            insert_event: p(&pg_sql(PLAIN_INSERT)),
            tree_read: p("SELECT hash FROM tree WHERE level = $1 AND idx = $2"),
            tree_insert: p("INSERT INTO tree(level, idx, hash) VALUES ($1, $2, $3)"),
            current_upsert: p(
                "INSERT INTO current(subject, purpose, recipient, state, seq, event_id, since, until, \
                 last_effective) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT(purpose, subject, recipient) DO UPDATE SET state = excluded.state, \
                 seq = excluded.seq, event_id = excluded.event_id, since = excluded.since, \
                 until = excluded.until, last_effective = excluded.last_effective",
            ),
        }
    }
}

/// The second tree row of the append at `seq`: the node its leaf completes, one level
/// above the run of trailing ones of `seq` — (level, idx) differs for every seq.
fn tree_node(seq: i64) -> (i64, i64) {
    let level = i64::from(seq.trailing_ones()) + 1;
    (level, seq >> level)
}

/// The reads and writes of one append at `seq`, after its seq is known and before its
/// commit, in the ledger's order.
fn write_append(
    c: &mut impl GenericClient,
    st: &Statements,
    s: &Spec,
    k: u64,
    seq: i64,
) -> Result<(), postgres::Error> {
    // What the rules read: the registry's growth, the last record time, the subject's
    // erasure marker and `current` row.
    c.query_one(&st.registry, &[])?;
    c.query_opt(&st.last_recorded, &[])?;
    c.query_opt(&st.erased, &[&bytes(pseudonym_seed(&s.subject), 32)])?;
    c.query(&st.current_read, &[&s.subject, &s.purpose])?;
    writes(c, st, s, k, seq, true)
}

/// The writes of one append at `seq`: the event, its tree rows (`sibling`: read the
/// sibling leaf's hash first, as the ledger does to hash the parent), `current`.
fn writes(
    c: &mut impl GenericClient,
    st: &Statements,
    s: &Spec,
    k: u64,
    seq: i64,
    sibling: bool,
) -> Result<(), postgres::Error> {
    let row = PlainRow::of(s, k, seq);
    insert_row(c, &st.insert_event, &row)?;
    if sibling {
        c.query_opt(&st.tree_read, &[&0i64, &(seq ^ 1)])?;
    }
    c.execute(&st.tree_insert, &[&0i64, &seq, &bytes(k ^ 5, 32)])?;
    let (level, idx) = tree_node(seq);
    c.execute(&st.tree_insert, &[&level, &idx, &bytes(k ^ 6, 32)])?;
    c.execute(
        &st.current_upsert,
        &[
            &s.subject,
            &s.purpose,
            &s.recipient.unwrap_or(""),
            &s.kind.as_str(),
            &seq,
            &row.id,
            &s.effective_ms,
            &s.expiry_ms(),
            &s.effective_ms,
        ],
    )?;
    Ok(())
}

/// A stand-in for the subject's keyed pseudonym: bytes derived from the id.
fn pseudonym_seed(subject: &str) -> u64 {
    subject.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// The retries of one committed append, by SQLSTATE (in the order of [`RETRIED`]).
type Retries = [u32; 3];

/// A strategy's appends in one window.
#[derive(Default)]
struct Window {
    /// Each committed append's latency (ms) and retries.
    calls: Vec<(f64, Retries)>,
    /// The time its turns took.
    span: Duration,
    /// Time the server processes of its connections spent on a CPU meanwhile (ns).
    server_cpu_ns: u64,
    /// Whether that time could not be read (the server on another machine).
    cpu_unknown: bool,
}

/// One writer of one strategy: its connection and statements.
struct Appender {
    strategy: &'static str,
    schema: String,
    client: Client,
    st: Statements,
}

impl Appender {
    fn connect(url: &str, schema: &str, strategy: &'static str) -> Appender {
        let mut client = connect(url);
        client
            .batch_execute(&format!(
                "SET search_path TO {schema}; SET synchronous_commit = on; \
                 SET application_name = consent_bench_{strategy}"
            ))
            .expect("session");
        let st = Statements::prepare(&mut client);
        Appender {
            strategy,
            schema: schema.to_string(),
            client,
            st,
        }
    }

    /// One try: begin, take the next seq, write, commit.
    fn attempt(&mut self, s: &Spec, k: u64) -> Result<i64, postgres::Error> {
        let (c, st) = (&mut self.client, &self.st);
        if self.strategy == LOCK {
            c.batch_execute("BEGIN ISOLATION LEVEL READ COMMITTED")?;
            c.execute(&st.lock, &[&LOCK_CLASS, &self.schema])?;
        } else {
            c.batch_execute("BEGIN ISOLATION LEVEL SERIALIZABLE")?;
        }
        let seq = if self.strategy == COUNTER {
            c.query_one(&st.counter, &[])?.get(0)
        } else {
            c.query_one(&st.max_seq, &[])?
                .get::<_, Option<i64>>(0)
                .map_or(0, |m| m + 1)
        };
        write_append(c, st, s, k, seq)?;
        c.batch_execute("COMMIT")?;
        Ok(seq)
    }

    /// Appends event `k` of the workload, retrying until it commits: its retries.
    fn append(&mut self, w: &Workload, base: u64, k: u64) -> Retries {
        let s = fresh_spec(w, base, k, self.strategy);
        let mut retries = [0; 3];
        loop {
            let Err(e) = self.attempt(&s, k) else {
                return retries;
            };
            // After an error the transaction is aborted (or, at COMMIT, already over).
            let _ = self.client.batch_execute("ROLLBACK");
            let which = match e.code() {
                Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE => 0,
                Some(c) if *c == SqlState::UNIQUE_VIOLATION => 1,
                Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED => 2,
                _ => panic!(
                    "append ({}): {}",
                    self.strategy,
                    e.as_db_error().map_or_else(
                        || e.to_string(),
                        |d| format!("{}: {}", d.code().code(), d.message())
                    )
                ),
            };
            retries[which] += 1;
        }
    }
}

/// Creates `schema` with the model's tables, the counter at `base`, and fills it with
/// `base` appends: written afresh (in transactions of [`LOAD_CHUNK`], without the
/// reads), or copied from the schema `from` already filled.
fn create(url: &str, schema: &str, base: u64, from: Option<&str>) {
    let mut c = connect(url);
    c.batch_execute(&format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; SET search_path TO {schema}; {}; {TABLES}",
        pg_sql(PLAIN_SCHEMA)
    ))
    .expect("serial schema");
    c.execute("INSERT INTO seq_counter VALUES (1, $1)", &[&(base as i64)])
        .expect("counter");
    if let Some(from) = from {
        c.batch_execute(&format!(
            "INSERT INTO events SELECT * FROM {from}.events; INSERT INTO tree SELECT * FROM {from}.tree; \
             INSERT INTO current SELECT * FROM {from}.current"
        ))
        .expect("copy the base");
        return;
    }
    let st = Statements::prepare(&mut c);
    let w = Workload::new();
    let mut i = 0;
    while i < base {
        let end = (i + LOAD_CHUNK).min(base);
        let mut tx = c.transaction().expect("begin");
        for k in i..end {
            writes(&mut tx, &st, &w.spec(k, base), k, k as i64, false).expect("load");
        }
        tx.commit().expect("commit");
        i = end;
    }
}

/// What a log holds after the run: its seqs must be `0..events`, each with two tree
/// rows.
fn check(admin: &mut Client, schema: &str, expected: u64) -> Value {
    let r = admin
        .query_one(
            &format!(
                "SELECT count(*), count(DISTINCT seq), coalesce(min(seq), -1), coalesce(max(seq), -1), \
                 (SELECT count(*) FROM {schema}.tree) FROM {schema}.events"
            ),
            &[],
        )
        .expect("check");
    let (rows, distinct, min, max, tree): (i64, i64, i64, i64, i64) =
        (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4));
    let ok = rows as u64 == expected
        && distinct == rows
        && min == 0
        && max == rows - 1
        && tree == 2 * rows;
    json!({
        "ok": ok, "expected": expected, "rows": rows, "distinct_seqs": distinct,
        "min_seq": min, "max_seq": max, "tree_rows": tree,
    })
}

/// Pushes the figures of one window of `c` writers of `strategy`; its retries by code.
fn push_window(f: &mut Figures, strategy: &'static str, c: usize, window: &Window) -> [u64; 3] {
    let (calls, n) = (&window.calls, window.calls.len() as f64);
    let lat: Vec<f64> = calls.iter().map(|(ms, _)| *ms).collect();
    let mut by_code = [0u64; 3];
    for (_, tries) in calls {
        for (total, one) in by_code.iter_mut().zip(tries) {
            *total += u64::from(*one);
        }
    }
    let most_retries = calls.iter().map(|(_, t)| t.iter().sum::<u32>()).max();
    let figures = [
        ("eps", n / window.span.as_secs_f64()),
        ("latency_ms", quantile(&lat, 0.5)),
        ("p99_ms", quantile(&lat, 0.99)),
        ("max_ms", quantile(&lat, 1.0)),
        ("retries_per_append", by_code.iter().sum::<u64>() as f64 / n),
        ("max_retries", f64::from(most_retries.unwrap_or(0))),
    ];
    for (metric, v) in figures {
        f.push(&format!("writers_{c}_{metric}"), strategy, v);
    }
    if !window.cpu_unknown {
        f.push(
            &format!("writers_{c}_server_cpu_ms_per_append"),
            strategy,
            window.server_cpu_ns as f64 / 1e6 / n,
        );
    }
    by_code
}

/// Measures the strategies on the server at `url`: one JSON object (`"kind":
/// "pg_serial"`).
pub(super) fn run(url: &str, k: &Knobs) -> Value {
    let started = Instant::now();
    let base = env_usize("CONSENT_BENCH_PG_SERIAL_BASE", 10_000) as u64;
    let pid = std::process::id();
    let schema = |strategy: &str| format!("bench_serial_{pid}_{strategy}");
    let mut admin = connect(url);
    let server = server_info(&mut admin);

    eprintln!("serialising appenders: {base} appends into a schema per strategy");
    let t = Instant::now();
    for strategy in STRATEGIES {
        let first = (strategy != STRATEGIES[0]).then(|| schema(STRATEGIES[0]));
        create(url, &schema(strategy), base, first.as_deref());
        vacuum_schema(&mut admin, &schema(strategy));
    }
    let checkpoint = admin.batch_execute("CHECKPOINT").is_ok();
    let setup_s = t.elapsed().as_secs_f64();

    let most = *k.writers.iter().max().expect("writer counts");
    let mut appenders: BTreeMap<&str, Vec<Appender>> = STRATEGIES
        .iter()
        .map(|&s| {
            let each = (0..most)
                .map(|_| Appender::connect(url, &schema(s), s))
                .collect();
            (s, each)
        })
        .collect();
    // The server processes of each strategy's connections, and their time on a CPU.
    let pids: BTreeMap<&str, Vec<i32>> = STRATEGIES
        .iter()
        .map(|&s| (s, backend_pids(&mut admin, &format!("consent_bench_{s}"))))
        .collect();
    let server_cpu = |s: &str| backends_schedstat(&pids[s]).map(|[cpu, _]| cpu);
    let w = Workload::new();
    let next = AtomicU64::new(base);
    let mut committed: BTreeMap<&str, u64> = STRATEGIES.iter().map(|&s| (s, 0)).collect();
    let mut retried: BTreeMap<&str, [u64; 3]> = STRATEGIES.iter().map(|&s| (s, [0; 3])).collect();
    let turn = Duration::from_millis(env_usize("CONSENT_BENCH_PG_SERIAL_TURN_MS", 250) as u64);
    let turns = (k.window.as_millis() / turn.as_millis().max(1)).max(1) as usize;
    let mut f = Figures::default();
    let mut ratios = Figures::default();
    for r in 0..k.rounds {
        eprintln!(
            "  serial round {}/{} ({:.0} s)",
            r + 1,
            k.rounds,
            started.elapsed().as_secs_f64()
        );
        for (j, &c) in k.writers_of_round(r).iter().enumerate() {
            // The strategies take turns within the window, so that all see the disk
            // in the same state (a burst of fast flushes, then a throttle).
            let mut window: BTreeMap<&str, Window> = BTreeMap::new();
            for t in 0..turns {
                for strategy in rotated(STRATEGIES, r + j + t) {
                    let each = appenders.get_mut(strategy).expect("strategy");
                    let cpu0 = server_cpu(strategy);
                    let (calls, span) = in_threads(each, c, turn, |a| {
                        a.append(&w, base, next.fetch_add(1, Ordering::Relaxed))
                    });
                    let acc = window.entry(strategy).or_default();
                    match cpu0.zip(server_cpu(strategy)) {
                        Some((a, b)) => acc.server_cpu_ns += b.saturating_sub(a),
                        None => acc.cpu_unknown = true,
                    }
                    acc.calls.extend(calls);
                    acc.span += span;
                }
            }
            for (strategy, window) in window {
                *committed.get_mut(strategy).expect("strategy") += window.calls.len() as u64;
                let by_code = push_window(&mut f, strategy, c, &window);
                for (total, one) in retried
                    .get_mut(strategy)
                    .expect("strategy")
                    .iter_mut()
                    .zip(by_code)
                {
                    *total += one;
                }
            }
            push_ratios(&f, &mut ratios, &format!("writers_{c}_eps"), true, &PAIRS);
        }
        push_scaling(&f, &mut ratios, &k.writers, &STRATEGIES);
    }

    // Nothing lost, nothing doubled: every log is 0..n, n = base + its acknowledged appends.
    let checks: Map<String, Value> = STRATEGIES
        .iter()
        .map(|&s| {
            (
                s.to_string(),
                check(&mut admin, &schema(s), base + committed[s]),
            )
        })
        .collect();
    for (s, c) in &checks {
        assert!(c["ok"] == json!(true), "{s}: the log is not 0..n: {c}");
    }

    // The statements of one append of each strategy, when the server counts them.
    let statements = match statements_available(&mut admin) {
        Err(why) => json!({"available": false, "why": why}),
        Ok(()) => {
            let mut m = Map::new();
            m.insert("available".into(), json!(true));
            for strategy in STRATEGIES {
                let a = &mut appenders.get_mut(strategy).expect("strategy")[0];
                let v = probe(
                    &mut admin,
                    PROBE_APPENDS,
                    &format!("consent_bench_{strategy}"),
                    || {
                        for _ in 0..PROBE_APPENDS {
                            a.append(&w, base, next.fetch_add(1, Ordering::Relaxed));
                        }
                    },
                );
                m.insert(strategy.into(), v);
            }
            Value::Object(m)
        }
    };
    drop(appenders);
    admin
        .batch_execute(
            &STRATEGIES
                .iter()
                .map(|s| format!("DROP SCHEMA {} CASCADE;", schema(s)))
                .collect::<String>(),
        )
        .expect("drop the schemas");

    let retries: Map<String, Value> = STRATEGIES
        .iter()
        .map(|&s| {
            let by: Map<String, Value> = RETRIED
                .iter()
                .zip(retried[s])
                .map(|(code, n)| (code.to_string(), json!(n)))
                .collect();
            (s.to_string(), Value::Object(by))
        })
        .collect();
    json!({
        "kind": "pg_serial",
        "knobs": {
            "rounds": k.rounds, "writers": k.writers, "window_ms": k.window.as_millis() as u64,
            "turn_ms": turn.as_millis() as u64, "turns": turns, "base": base,
        },
        "strategies": STRATEGIES,
        "seconds": started.elapsed().as_secs_f64(),
        "setup_seconds": setup_s,
        "checkpoint": checkpoint,
        "server": server,
        "figures": f.json(),
        "ratios": ratios.json(),
        "committed": committed,
        "retries_by_code": retries,
        "check": checks,
        "statements": statements,
    })
}
