//! Criterion benchmarks of consent-ledger at 10 thousand, 100 thousand and 1 million
//! events (10 million with `CONSENT_BENCH_10M=1`; any list with
//! `CONSENT_BENCH_SIZES=10000,100000`).
//!
//! Fixtures are built once with the batch API and cached under
//! `target-bench/fixtures/` (see `consent_benches::ledger_fixture`). Read benches run on
//! the pristine fixture; append benches run on a copy that is re-copied whenever the
//! appends have grown it by a tenth, so the size measured stays the size named.
//!
//! Run: `cargo bench -p consent-benches` (or `make bench`).

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use consent_benches::{ledger_fixture, remove_db, sizes, work_copy, Query, Workload};
use consent_core::{Ledger, NewEvent, Timestamp};
use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};

/// A copy of a fixture to append to, reset to the pristine fixture after `n / 10`
/// appends (at least 1 000).
struct Work {
    n: u64,
    tag: &'static str,
    path: PathBuf,
    ledger: Option<Ledger>,
    appended: u64,
    next: u64,
    workload: Workload,
}

impl Work {
    fn new(n: u64, tag: &'static str) -> Self {
        let path = work_copy(n, tag);
        let ledger = Some(Ledger::open(&path).expect("open work copy"));
        Work {
            n,
            tag,
            path,
            ledger,
            appended: 0,
            next: 0,
            workload: Workload::new(),
        }
    }

    fn ledger(&self) -> &Ledger {
        self.ledger.as_ref().expect("open")
    }

    /// Resets to the pristine fixture when the appends have grown it by a tenth.
    fn maybe_reset(&mut self) {
        if self.appended < (self.n / 10).max(1_000) {
            return;
        }
        if let Some(l) = self.ledger.take() {
            l.close().expect("close");
        }
        self.path = work_copy(self.n, self.tag);
        self.ledger = Some(Ledger::open(&self.path).expect("reopen work copy"));
        self.appended = 0;
    }

    /// A new event, effective now, drawn from the workload (unique source id).
    fn next_event(&mut self) -> NewEvent {
        self.next += 1;
        fresh_event(&self.workload, self.n, self.next)
    }
}

impl Drop for Work {
    fn drop(&mut self) {
        if let Some(l) = self.ledger.take() {
            let _ = l.close();
        }
        remove_db(&self.path);
    }
}

/// Event `k` appended to a ledger of `n` events: the subject, purpose and kind of a
/// workload event, effective now, with a fresh idempotency key when it carries one.
fn fresh_event(w: &Workload, n: u64, k: u64) -> NewEvent {
    let mut spec = w.spec(consent_benches::mix(k) % n, n);
    spec.effective_ms = Timestamp::now().as_millis();
    if spec.source_id.is_some() {
        spec.source_id = Some(format!("bench-{n}-{k}"));
    }
    spec.to_event()
}

const BATCH: u64 = 1_000;

fn bench_size(c: &mut Criterion, n: u64) {
    let fixture = ledger_fixture(n);
    let w = Workload::new();
    let queries: Vec<Query> = w.sample_pairs(n, 4_096, 7);
    let big = n >= 1_000_000;

    // ---- reads, on the pristine fixture ---------------------------------------------
    let ledger = Ledger::open(&fixture).expect("open fixture");
    {
        let mut g = c.benchmark_group("status");
        g.sample_size(30)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            let mut i = 0;
            b.iter(|| {
                let q = &queries[i % queries.len()];
                i += 1;
                black_box(
                    ledger
                        .status(&q.subject, q.purpose, q.recipient)
                        .expect("status"),
                )
            })
        });
        g.finish();
    }
    {
        // "Was consent in force on 1 January 2023, as known now?"
        let at = Timestamp::parse("2023-01-01T00:00:00Z").expect("time");
        let mut g = c.benchmark_group("status_at");
        g.sample_size(30)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            let mut i = 0;
            b.iter(|| {
                let q = &queries[i % queries.len()];
                i += 1;
                black_box(
                    ledger
                        .status_at(&q.subject, q.purpose, q.recipient, at, None)
                        .expect("status_at"),
                )
            })
        });
        g.finish();
    }
    {
        // Every student with the LJMU → JMSU feed consent in force now: the whole
        // population at 1 million events.
        let found = ledger
            .consenting("jmsu.data-sharing", None, None, None)
            .expect("consenting")
            .subjects
            .len();
        eprintln!("consenting/{n}: {found} subjects with jmsu.data-sharing in force");
        let mut g = c.benchmark_group("consenting");
        g.sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3));
        g.sampling_mode(SamplingMode::Flat);
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| {
                black_box(
                    ledger
                        .consenting("jmsu.data-sharing", None, None, None)
                        .expect("consenting"),
                )
            })
        });
        g.finish();
    }
    {
        let mut g = c.benchmark_group("verify");
        g.sample_size(10).warm_up_time(Duration::from_millis(100));
        g.measurement_time(Duration::from_secs(if big { 20 } else { 5 }));
        g.sampling_mode(SamplingMode::Flat);
        g.throughput(Throughput::Elements(n));
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| {
                let r = ledger.verify().expect("verify");
                assert!(r.ok, "{r:?}");
                black_box(r)
            })
        });
        g.finish();
    }
    ledger.close().expect("close");
    {
        let mut g = c.benchmark_group("open");
        g.sample_size(20)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| {
                let l = Ledger::open(&fixture).expect("open");
                l.close().expect("close");
            })
        });
        g.finish();
    }

    // ---- appends, on a work copy ----------------------------------------------------
    {
        let mut work = Work::new(n, "durable");
        let mut g = c.benchmark_group("append_durable");
        g.sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3));
        g.sampling_mode(SamplingMode::Flat);
        g.throughput(Throughput::Elements(1));
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    work.maybe_reset();
                    let e = work.next_event();
                    let t = Instant::now();
                    black_box(work.ledger().append(e).expect("append"));
                    total += t.elapsed();
                    work.appended += 1;
                }
                total
            })
        });
        g.finish();
    }
    {
        let mut work = Work::new(n, "batch");
        let mut g = c.benchmark_group("append_batch");
        g.sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(4));
        g.sampling_mode(SamplingMode::Flat);
        g.throughput(Throughput::Elements(BATCH));
        g.bench_function(BenchmarkId::new("x1000", n), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    work.maybe_reset();
                    let events: Vec<NewEvent> = (0..BATCH).map(|_| work.next_event()).collect();
                    let l = work.ledger();
                    let t = Instant::now();
                    let batch = l.batch().expect("begin");
                    for e in events {
                        black_box(batch.append(e).expect("append"));
                    }
                    batch.commit().expect("commit");
                    total += t.elapsed();
                    work.appended += BATCH;
                }
                total
            })
        });
        g.finish();
    }
}

fn benches(c: &mut Criterion) {
    for n in sizes() {
        bench_size(c, n);
    }
}

criterion_group!(ledger_benches, benches);
criterion_main!(ledger_benches);
