//! What the comparison harnesses (`compare`, `compare_pg`) share: the knobs read from
//! the environment, the status questions and how rounds split them, the events both
//! sides of a comparison append, the plain baseline's row, and per-round figures
//! summarised as medians with quartiles.

use std::collections::BTreeMap;
use std::fs;
use std::time::Duration;

use std::hint::black_box;
use std::time::Instant;

use consent_core::{EventKind, Ledger, Timestamp};
use serde_json::{json, Map, Value};

use crate::{mix, peak_rss_kib, query_file, Spec, Summary, Workload};

/// Status questions in the query file; each round asks its own share of them.
pub const QUERIES: usize = 10_000;
/// Events per batched append.
pub const BATCH: u64 = 1_000;
/// Durable commits per turn: the sides alternate in blocks of this many, so all see
/// the disk in the same state (this one has a burst of fast flushes, then throttles).
pub const DURABLE_BLOCK: usize = 50;
/// The purpose of the `consenting` figure: the largest population of the workload.
pub const FEED_PURPOSE: &str = "jmsu.data-sharing";

/// The plain table: the columns of an `events` row, one index on (subject, purpose)
/// (SQLite's dialect; `compare_pg` translates it).
pub const PLAIN_SCHEMA: &str = "
CREATE TABLE events(
    seq INTEGER PRIMARY KEY, id BLOB NOT NULL, kind TEXT NOT NULL, subject TEXT, salt BLOB,
    personal_digest BLOB, purpose TEXT, purpose_version INTEGER, recipient TEXT, notice_id TEXT,
    notice_version TEXT, notice_sha256 BLOB, explicit INTEGER NOT NULL, method TEXT,
    recorded_by TEXT NOT NULL, effective_at INTEGER NOT NULL, recorded_at INTEGER NOT NULL,
    expires_at INTEGER, effect_deadline INTEGER, source_id TEXT, evidence TEXT, target BLOB,
    details TEXT);
CREATE INDEX events_by_subject ON events(subject, purpose);
";

/// The feed baseline: one row per (purpose, recipient, subject), ordered for a range scan.
pub const FEED_SCHEMA: &str = "
CREATE TABLE feed(
    purpose TEXT NOT NULL, recipient TEXT NOT NULL, subject TEXT NOT NULL, state TEXT NOT NULL,
    event_id BLOB NOT NULL, since INTEGER NOT NULL, until INTEGER,
    PRIMARY KEY(purpose, recipient, subject)) WITHOUT ROWID;
";

/// Replaces the feed row of an event's (purpose, recipient, subject).
pub const FEED_UPSERT: &str = "INSERT INTO feed VALUES (?1,?2,?3,?4,?5,?6,?7)
    ON CONFLICT(purpose, recipient, subject) DO UPDATE SET state = excluded.state,
    event_id = excluded.event_id, since = excluded.since, until = excluded.until";

/// The raw scan beside `consenting`: the rows in force for a purpose.
pub const FEED_SCAN: &str = "SELECT subject, event_id, since, until FROM feed
    WHERE purpose = ?1 AND recipient = '' AND state = 'given' AND (until IS NULL OR until > ?2)";

/// The plain point query beside `status`: the latest row of a subject and purpose.
pub const POINT_QUERY: &str = "SELECT seq, kind, effective_at, expires_at FROM events \
     WHERE subject = ?1 AND purpose = ?2 ORDER BY seq DESC LIMIT 1";

/// One plain row.
pub const PLAIN_INSERT: &str = "INSERT INTO events VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23)";

/// A positive whole number from the environment variable `name`, else `default`.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|&v| v > 0)
        .unwrap_or(default)
}

/// A duration in microseconds.
pub fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Median of a sample.
pub fn median_of(mut v: Vec<f64>) -> f64 {
    crate::median(&mut v)
}

/// The `q` quantile of a sample, nearest rank (NaN when empty).
pub fn quantile(v: &[f64], q: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    if s.is_empty() {
        return f64::NAN;
    }
    s[((s.len() - 1) as f64 * q).round() as usize]
}

/// Prints a harness's result as one JSON line, with the process's peak RSS and the
/// SQLite version.
pub fn print_json(mut v: Value) {
    v["peak_rss_kib"] = json!(peak_rss_kib());
    v["sqlite_version"] = json!(rusqlite::version());
    println!("{v}");
}

/// A status question: subject, purpose, recipient.
pub type Question = (String, String, Option<String>);

/// The [`QUERIES`] status questions of a ledger of `n` events (`query_file`).
pub fn queries(n: u64) -> Vec<Question> {
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

/// The questions of round `r` of `rounds`: each round its own share of the file.
pub fn round_questions(qs: &[Question], r: usize, rounds: usize) -> &[Question] {
    let k = qs.len() / rounds.min(qs.len()).max(1);
    let start = (r * k) % qs.len().max(1);
    &qs[start..(start + k).min(qs.len())]
}

/// Workload event `k` appended to a ledger of `n` events: the subject, purpose and kind
/// of a workload event, effective now, with a fresh idempotency key when it carries
/// one. Every side of a comparison appends the same sequence.
pub fn fresh_spec(w: &Workload, n: u64, k: u64, tag: &str) -> Spec {
    let mut spec = w.spec(mix(k) % n, n);
    spec.effective_ms = Timestamp::now().as_millis();
    if spec.source_id.is_some() {
        spec.source_id = Some(format!("{tag}-{n}-{k}"));
    }
    spec
}

/// Bytes that stand in for a hash or a UUID: what matters is their size.
pub fn bytes(seed: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| mix(seed ^ (i as u64).wrapping_mul(0x9e37)) as u8)
        .collect()
}

/// A row of the plain baselines: the same columns and value sizes as an `events` row
/// of the ledger (23 columns), in the order of their `CREATE TABLE`.
#[derive(Debug, Clone)]
pub struct PlainRow {
    pub seq: i64,
    pub id: Vec<u8>,
    pub kind: &'static str,
    pub subject: String,
    pub salt: Vec<u8>,
    pub personal_digest: Vec<u8>,
    pub purpose: &'static str,
    pub purpose_version: i64,
    pub recipient: Option<&'static str>,
    pub notice_id: Option<&'static str>,
    pub notice_version: Option<&'static str>,
    pub notice_sha256: Option<Vec<u8>>,
    pub explicit: i64,
    pub method: Option<&'static str>,
    pub recorded_by: String,
    pub effective_at: i64,
    pub recorded_at: i64,
    pub expires_at: Option<i64>,
    pub effect_deadline: Option<i64>,
    pub source_id: Option<String>,
    pub evidence: Option<String>,
    pub target: Option<Vec<u8>>,
    pub details: Option<String>,
}

impl PlainRow {
    /// Event `s` as a plain row at `seq` (`i` seeds the stand-in hashes), recorded now.
    pub fn of(s: &Spec, i: u64, seq: i64) -> PlainRow {
        let given = s.kind == EventKind::Given;
        PlainRow {
            seq,
            id: bytes(i, 16),
            kind: s.kind.as_str(),
            subject: s.subject.clone(),
            salt: bytes(i ^ 1, 16),
            personal_digest: bytes(i ^ 2, 32),
            purpose: s.purpose,
            purpose_version: 1,
            recipient: s.recipient,
            notice_id: given.then_some(s.notice),
            notice_version: given.then_some("2024-09"),
            notice_sha256: given.then(|| bytes(i ^ 3, 32)),
            explicit: i64::from(s.explicit),
            method: (s.kind != EventKind::Withdrawn).then(|| s.method.as_str()),
            recorded_by: s.staff.clone().unwrap_or_else(|| "subject".into()),
            effective_at: s.effective_ms,
            recorded_at: Timestamp::now().as_millis(),
            expires_at: None,
            effect_deadline: (s.kind == EventKind::Withdrawn)
                .then_some(s.effective_ms + 86_400_000),
            source_id: s.source_id.clone(),
            evidence: None,
            target: None,
            details: None,
        }
    }
}

/// Per-round figures: metric -> side -> one value per round.
#[derive(Default)]
pub struct Figures(BTreeMap<String, BTreeMap<&'static str, Vec<f64>>>);

impl Figures {
    /// Adds one round's value of `metric` on `side`.
    pub fn push(&mut self, metric: &str, side: &'static str, v: f64) {
        self.0
            .entry(metric.to_string())
            .or_default()
            .entry(side)
            .or_default()
            .push(v);
    }

    /// The rounds of `metric` on `side` so far.
    pub fn rounds(&self, metric: &str, side: &str) -> &[f64] {
        self.0
            .get(metric)
            .and_then(|m| m.get(side))
            .map_or(&[], Vec::as_slice)
    }

    /// metric -> side -> summary of its rounds.
    pub fn json(&self) -> Value {
        let mut out = Map::new();
        for (metric, sides) in &self.0 {
            let mut m = Map::new();
            for (side, v) in sides {
                if let Some(s) = Summary::of(v) {
                    m.insert(side.to_string(), summary_json(&s));
                }
            }
            out.insert(metric.clone(), Value::Object(m));
        }
        Value::Object(out)
    }
}

/// A summary as JSON: median, quartiles, extremes and every round.
pub fn summary_json(s: &Summary) -> Value {
    json!({
        "median": s.median, "min": s.min, "max": s.max, "q1": s.q1, "q3": s.q3,
        "rounds": s.rounds,
    })
}

/// Per-call times (µs) of `Ledger::status` for each question.
pub fn ledger_status(l: &Ledger, qs: &[Question]) -> Vec<f64> {
    qs.iter()
        .map(|(s, p, r)| {
            let t = Instant::now();
            black_box(l.status(s, p, r.as_deref()).expect("status"));
            us(t.elapsed())
        })
        .collect()
}
