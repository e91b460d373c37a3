//! Withdrawal latency while a long import runs in another process (`make bench-latency`).
//!
//! ```text
//! lock_latency [RUN...]                  measure; RUN is one of
//!     cli:CHUNK     `consent import ROWS.jsonl --chunk CHUNK` (the real CLI) in a child
//!     core:CHUNK    a child of this binary calling `Ledger::append_chunked(.., CHUNK)`
//!     single        the old behaviour: the whole import in one transaction, and the
//!                   withdrawing ledger opened with a 5 s busy timeout
//!     alone:CHUNK   as `core:CHUNK` with no withdrawals: the import's own time
//!     (default: cli:1000 core:1000 core:10000 single)
//! lock_latency importer LEDGER N CHUNK   (internal) the child of `core:`, `single`, `alone:`
//! ```
//!
//! Each run creates a fresh ledger with the benches' registry in a temporary directory,
//! starts the importer of N workload events (`CONSENT_LATENCY_ROWS`, default 200 000)
//! in a child process, and meanwhile appends one withdrawal every ~20 ms
//! (`CONSENT_LATENCY_INTERVAL_MS`) from this process through its own `Ledger::open`,
//! timing every `append` call. A withdrawal counts as "during the import" when it
//! failed, or when it landed after the import's first event and was started before the
//! import's last event was recorded (so those that got in while the CLI was still
//! parsing its file, or after the last commit while the importer exited, are left out;
//! they are counted separately). Then, with no
//! import running, the same number of withdrawals (at most `CONSENT_LATENCY_BASELINE`,
//! default 250) at the same spacing on the same, now full, ledger: the baseline.
//!
//! The CLI is looked up next to this binary (`cargo build --release -p consent-cli`
//! puts it there) or at `CONSENT_CLI`; without it the `cli:` runs are skipped.

use std::fs;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use consent_benches::{Rng, Workload};
use consent_core::{EventKind, Ledger, LedgerOptions, NewEvent, Timestamp};
use serde_json::{json, Map, Value};

/// Rows imported per run unless `CONSENT_LATENCY_ROWS` says otherwise.
const DEFAULT_ROWS: u64 = 200_000;
/// Default runs.
const DEFAULT_RUNS: [&str; 4] = ["cli:1000", "core:1000", "core:10000", "single"];
/// Busy timeout of the withdrawing ledger in the `single` run.
const SINGLE_BUSY: Duration = Duration::from_secs(5);
/// The purpose withdrawn from.
const PURPOSE: &str = "jmsu.marketing";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("importer") {
        importer(&args[1..]);
        return;
    }
    let runs: Vec<Run> = if args.is_empty() {
        DEFAULT_RUNS.iter().map(|r| parse_run(r)).collect()
    } else {
        args.iter().map(|r| parse_run(r)).collect()
    };
    let n = env_u64("CONSENT_LATENCY_ROWS", DEFAULT_ROWS).max(1);
    let interval = Duration::from_millis(env_u64("CONSENT_LATENCY_INTERVAL_MS", 20));
    let baseline_cap = env_u64("CONSENT_LATENCY_BASELINE", 250) as usize;
    let root = std::env::temp_dir().join(format!("consent-lock-latency-{}", std::process::id()));
    fs::create_dir_all(&root).expect("create the temporary directory");
    let cli = cli_path();

    eprintln!("machine: {}", machine());
    eprintln!(
        "{n} rows per import, a withdrawal every {} ms, temporary files in {}",
        interval.as_millis(),
        root.display()
    );
    let mut results = Vec::new();
    for (k, run) in runs.iter().enumerate() {
        if run.mode == Mode::Cli && cli.is_none() {
            eprintln!(
                "skipping {}: no `consent` binary next to this one (cargo build --release -p consent-cli) nor at CONSENT_CLI",
                run.label(n)
            );
            continue;
        }
        let dir = root.join(format!("run-{k}"));
        fs::create_dir_all(&dir).expect("create the run directory");
        let r = measure(run, n, interval, baseline_cap, &dir, &root, cli.as_deref());
        print_run(&r);
        results.push(r);
        let _ = fs::remove_dir_all(&dir);
    }
    let _ = fs::remove_dir_all(&root);
    print_table(&results);
    if results
        .iter()
        .any(|r| r.run.mode != Mode::Single && (r.failures > 0 || !r.import_ok))
    {
        eprintln!("FAILURES: a chunked run had failed withdrawals or a failed import");
        std::process::exit(1);
    }
}

fn usage() -> ! {
    eprintln!("usage: lock_latency [cli:CHUNK | core:CHUNK | single | alone:CHUNK]...");
    std::process::exit(2)
}

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v.replace('_', "").parse().unwrap_or_else(|_| {
            eprintln!("{name}: `{v}` is not a number");
            std::process::exit(2)
        }),
        Err(_) => default,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Cli,
    Core,
    Single,
    /// The core importer with nobody else writing.
    Alone,
}

#[derive(Debug, Clone, Copy)]
struct Run {
    mode: Mode,
    /// Rows per transaction; `None` for `single` (all of them).
    chunk: Option<u64>,
}

impl Run {
    fn chunk(&self, n: u64) -> u64 {
        self.chunk.unwrap_or(n)
    }

    fn label(&self, n: u64) -> String {
        match self.mode {
            Mode::Cli => format!("CLI `consent import --chunk {}`", self.chunk(n)),
            Mode::Core => format!("core `append_chunked`, chunk {}", self.chunk(n)),
            Mode::Single => "one transaction (old behaviour), busy timeout 5 s".to_string(),
            Mode::Alone => format!(
                "core `append_chunked`, chunk {}, no withdrawals",
                self.chunk(n)
            ),
        }
    }
}

fn parse_run(s: &str) -> Run {
    let chunk = |c: &str| -> u64 {
        c.replace('_', "")
            .parse()
            .ok()
            .filter(|&c| c > 0)
            .unwrap_or_else(|| usage())
    };
    match s.split_once(':') {
        Some(("cli", c)) => Run {
            mode: Mode::Cli,
            chunk: Some(chunk(c)),
        },
        Some(("core", c)) => Run {
            mode: Mode::Core,
            chunk: Some(chunk(c)),
        },
        Some(("alone", c)) => Run {
            mode: Mode::Alone,
            chunk: Some(chunk(c)),
        },
        None if s == "single" => Run {
            mode: Mode::Single,
            chunk: None,
        },
        _ => usage(),
    }
}

/// The `consent` binary: `CONSENT_CLI`, else next to this executable.
fn cli_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CONSENT_CLI") {
        return Some(PathBuf::from(p));
    }
    let exe = std::env::current_exe().ok()?;
    let p = exe.parent()?.join("consent");
    p.is_file().then_some(p)
}

/// nproc, CPU model and load average, for the record.
fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cpus} CPUs, {model}, load average {}", loadavg())
}

fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

// ---- the child ------------------------------------------------------------------------

/// `importer LEDGER N CHUNK`: appends workload events `0..N` with `append_chunked` and
/// prints `done SECONDS EVENTS`.
fn importer(args: &[String]) {
    let (Some(path), Some(n), Some(chunk)) = (
        args.first(),
        args.get(1).and_then(|s| s.parse::<u64>().ok()),
        args.get(2).and_then(|s| s.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: lock_latency importer LEDGER N CHUNK");
        std::process::exit(2)
    };
    let ledger = Ledger::open(path).unwrap_or_else(|e| {
        eprintln!("importer: open {path}: {e}");
        std::process::exit(1)
    });
    let w = Workload::new();
    let t = Instant::now();
    match ledger.append_chunked((0..n).map(|i| w.event(i, n)), chunk) {
        Ok(events) => println!("done {:.3} {}", t.elapsed().as_secs_f64(), events.len()),
        Err(e) => {
            eprintln!("importer: {e}");
            std::process::exit(1)
        }
    }
    ledger.close().expect("close");
}

// ---- the measuring side ---------------------------------------------------------------

/// One timed withdrawal.
struct Sample {
    /// When it started, ms since the epoch (compared with the ledger's record times).
    started_ms: i64,
    latency: Duration,
    /// Its sequence number; `None` when the append failed.
    seq: Option<u64>,
    /// Why it failed.
    error: Option<String>,
}

/// Latency figures of a set of withdrawals, in milliseconds.
#[derive(Debug, Clone, Copy)]
struct Stats {
    count: usize,
    min: f64,
    median: f64,
    p95: f64,
    p99: f64,
    max: f64,
}

fn stats(latencies: &[Duration]) -> Stats {
    let mut v: Vec<f64> = latencies.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    v.sort_by(|a, b| a.total_cmp(b));
    // Nearest rank.
    let rank = |p: f64| -> f64 {
        if v.is_empty() {
            return f64::NAN;
        }
        let i = ((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
        v[i]
    };
    Stats {
        count: v.len(),
        min: rank(0.0),
        median: rank(0.5),
        p95: rank(0.95),
        p99: rank(0.99),
        max: v.last().copied().unwrap_or(f64::NAN),
    }
}

struct RunResult {
    run: Run,
    rows: u64,
    /// Import time: the child's own `append_chunked` time (core), or spawn to exit (CLI,
    /// which includes reading and parsing the file).
    import_secs: f64,
    import_ok: bool,
    import_note: String,
    during: Stats,
    /// Withdrawals made before the import's first event or after its last (not in
    /// `during`).
    outside: usize,
    /// Time from the first to the last event of each import transaction (the commit
    /// follows).
    chunk_spans: Stats,
    /// First event of each import transaction to the next one's.
    cycles: Stats,
    /// Withdrawals that were waiting when a chunk committed but did not get in then.
    missed: Option<usize>,
    failures: usize,
    first_error: Option<String>,
    baseline: Stats,
    load_before: String,
    load_after: String,
}

fn withdraw(ledger: &Ledger, subject: String) -> Sample {
    let started_ms = Timestamp::now().as_millis();
    let started = Instant::now();
    let r = ledger.append(NewEvent::withdraw(subject, PURPOSE));
    let latency = started.elapsed();
    match r {
        Ok(ev) => Sample {
            started_ms,
            latency,
            seq: Some(ev.seq),
            error: None,
        },
        Err(e) => {
            eprintln!(
                "  withdrawal failed after {:.1} ms: {e}",
                latency.as_secs_f64() * 1e3
            );
            Sample {
                started_ms,
                latency,
                seq: None,
                error: Some(e.to_string()),
            }
        }
    }
}

/// A pause of about `interval` (±25 %), so the withdrawals do not lock step with the
/// chunks.
fn pause(rng: &mut Rng, interval: Duration) {
    let ms = interval.as_secs_f64() * 1e3;
    let jitter = (rng.below(1001) as f64 / 1000.0 - 0.5) * 0.5 * ms;
    std::thread::sleep(Duration::from_secs_f64(((ms + jitter) / 1e3).max(0.0)));
}

/// The JSON Lines file of workload events `0..n` for `consent import` (written once).
fn rows_file(root: &Path, n: u64) -> PathBuf {
    let path = root.join(format!("rows-{n}.jsonl"));
    if path.exists() {
        return path;
    }
    let w = Workload::new();
    let mut out = BufWriter::new(fs::File::create(&path).expect("create the rows file"));
    for i in 0..n {
        let s = w.spec(i, n);
        let mut m = Map::new();
        m.insert("subject".into(), json!(s.subject));
        m.insert("purpose".into(), json!(s.purpose));
        m.insert("kind".into(), json!(s.kind.as_str()));
        if let Some(r) = s.recipient {
            m.insert("recipient".into(), json!(r));
        }
        if s.kind != EventKind::Withdrawn {
            m.insert("method".into(), json!(s.method.as_str()));
        }
        if s.kind == EventKind::Given {
            m.insert("notice".into(), json!(format!("{}@2024-09", s.notice)));
            m.insert("explicit".into(), json!(s.explicit));
        }
        if let Some(staff) = &s.staff {
            m.insert("recorded_by".into(), json!(staff));
        }
        let at = Timestamp::from_millis(s.effective_ms).expect("in range");
        m.insert("effective_at".into(), json!(at.to_string()));
        if let Some(id) = &s.source_id {
            m.insert("source_id".into(), json!(id));
        }
        serde_json::to_writer(&mut out, &Value::Object(m)).expect("write a row");
        out.write_all(b"\n").expect("write a row");
    }
    out.flush().expect("flush the rows file");
    path
}

fn spawn(run: &Run, n: u64, ledger: &Path, root: &Path, cli: Option<&Path>) -> Child {
    let mut cmd = match run.mode {
        Mode::Cli => {
            let rows = rows_file(root, n);
            let mut c = Command::new(cli.expect("checked by the caller"));
            c.arg("--ledger")
                .arg(ledger)
                .arg("--json")
                .arg("import")
                .arg(rows)
                .arg("--chunk")
                .arg(run.chunk(n).to_string());
            c
        }
        Mode::Core | Mode::Single | Mode::Alone => {
            let mut c = Command::new(std::env::current_exe().expect("own path"));
            c.arg("importer")
                .arg(ledger)
                .arg(n.to_string())
                .arg(run.chunk(n).to_string());
            c
        }
    };
    // Piped stderr is not a terminal, so the CLI draws no progress bar.
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the importer")
}

/// Reads a child's pipe to the end in a thread (so a full pipe never stalls the child).
fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut all = Vec::new();
        let _ = pipe.read_to_end(&mut all);
        String::from_utf8_lossy(&all).into_owned()
    })
}

fn measure(
    run: &Run,
    n: u64,
    interval: Duration,
    baseline_cap: usize,
    dir: &Path,
    root: &Path,
    cli: Option<&Path>,
) -> RunResult {
    let path = dir.join("ledger.db");
    eprintln!("\n== {} ({n} rows)", run.label(n));
    let options = LedgerOptions {
        busy_timeout: if run.mode == Mode::Single {
            SINGLE_BUSY
        } else {
            LedgerOptions::default().busy_timeout
        },
        ..LedgerOptions::default()
    };
    let ledger = Ledger::open_with(&path, options).expect("create the ledger");
    Workload::new().register(&ledger).expect("register");
    if run.mode == Mode::Cli {
        rows_file(root, n); // before the clock starts
    }
    let head0 = ledger.head().expect("head").size;
    let load_before = loadavg();
    let mut rng = Rng(0x1a7e ^ n);
    let mut samples: Vec<Sample> = Vec::new();

    let t0 = Instant::now();
    let mut child = spawn(run, n, &path, root, cli);
    let out = drain(child.stdout.take().expect("piped stdout"));
    let err = drain(child.stderr.take().expect("piped stderr"));
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait for the importer") {
            break st;
        }
        if run.mode == Mode::Alone {
            std::thread::sleep(Duration::from_millis(5));
            continue;
        }
        samples.push(withdraw(&ledger, format!("w{:07}", samples.len())));
        pause(&mut rng, interval);
    };
    let wall = t0.elapsed();
    let stdout = out.join().expect("stdout reader");
    let stderr = err.join().expect("stderr reader");
    let head1 = ledger.head().expect("head").size;

    // What the importer says it did.
    let (import_secs, imported, note) = match run.mode {
        Mode::Cli => {
            let report: Value = serde_json::from_str(stdout.trim()).unwrap_or(Value::Null);
            let new = report.get("new").and_then(Value::as_u64).unwrap_or(0);
            let chunks = report
                .get("chunks_committed")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            (
                wall.as_secs_f64(),
                new,
                format!("{chunks} chunks committed; time from spawn to exit, file parse included"),
            )
        }
        Mode::Core | Mode::Single | Mode::Alone => {
            let mut f = stdout.split_whitespace();
            let secs = (f.next() == Some("done"))
                .then(|| f.next().and_then(|s| s.parse().ok()))
                .flatten()
                .unwrap_or(f64::NAN);
            let events = f.next().and_then(|s| s.parse().ok()).unwrap_or(0);
            (
                secs,
                events,
                format!(
                    "the child's append_chunked time ({:.1} s spawn to exit)",
                    wall.as_secs_f64()
                ),
            )
        }
    };
    let ok_withdrawals = samples.iter().filter(|s| s.seq.is_some()).count() as u64;
    let import_ok = status.success() && imported == n && head1 - head0 == n + ok_withdrawals;
    if !import_ok {
        eprintln!(
            "  importer: {status}, {imported} of {n} events; head {head0} -> {head1} with {ok_withdrawals} withdrawals\n  stdout: {}\n  stderr: {}",
            stdout.trim(),
            stderr.trim()
        );
    }

    // The import's events: the sequence numbers in head0..head1 that are not ours.
    let ours: std::collections::HashSet<u64> = samples.iter().filter_map(|s| s.seq).collect();
    let first_import = (head0..head1).find(|s| !ours.contains(s));
    let last_import = (head0..head1).rev().find(|s| !ours.contains(s));
    // When the import appended its last event (its last commit followed at once).
    let last_recorded = last_import.map(|seq| {
        ledger
            .changes_since(seq, 1)
            .expect("read the import's last event")[0]
            .recorded_at
            .as_millis()
    });
    // During the import: a withdrawal that failed, or landed after the import's first
    // event and was started before its last one was recorded (those started later, while
    // the importer was exiting, did not wait for it).
    let during: Vec<&Sample> = samples
        .iter()
        .filter(|s| match (s.seq, first_import, last_recorded) {
            (None, _, _) => true,
            (Some(seq), Some(first), Some(last)) => seq > first && s.started_ms <= last,
            _ => false,
        })
        .collect();
    let failed: Vec<&&Sample> = during.iter().filter(|s| s.seq.is_none()).collect();
    let failures = failed.len();
    let first_error = failed.first().map(|s| {
        let waits = stats(&failed.iter().map(|s| s.latency).collect::<Vec<_>>());
        format!(
            "{failures} failed after waiting {:.0}–{:.0} ms; the first: {}",
            waits.min,
            waits.max,
            s.error.as_deref().unwrap_or("?")
        )
    });
    let during_stats = stats(
        &during
            .iter()
            .filter(|s| s.seq.is_some())
            .map(|s| s.latency)
            .collect::<Vec<_>>(),
    );
    let outside = samples.len() - during.len();

    // The import's transactions, from the record times of their first and last events
    // (the commit follows the last one): how long each spent appending, and its cycle
    // (first event to the next transaction's first event: appends, commit, pause, and
    // any withdrawal that got in between). And whether any withdrawal sat through a
    // commit without getting in: started before the last event of the chunk before the
    // one it landed after.
    let import_seqs: Vec<u64> = (head0..head1).filter(|s| !ours.contains(s)).collect();
    let recorded = |seq: u64| -> i64 {
        ledger.changes_since(seq, 1).expect("read an event")[0]
            .recorded_at
            .as_millis()
    };
    let chunk = run.chunk(n) as usize;
    let ms = |d: i64| Duration::from_millis(d.max(0) as u64);
    let (mut chunk_spans, mut cycles, mut missed) = (Vec::new(), Vec::new(), None);
    if import_ok {
        let mut prev_first = None;
        for c in import_seqs.chunks(chunk) {
            let first = recorded(c[0]);
            chunk_spans.push(ms(recorded(c[c.len() - 1]) - first));
            if let Some(p) = prev_first {
                cycles.push(ms(first - p));
            }
            prev_first = Some(first);
        }
        let mut m = 0;
        for s in &during {
            let Some(seq) = s.seq else { continue };
            let before = import_seqs.partition_point(|&x| x < seq);
            if before == 0 {
                continue;
            }
            let c = (before - 1) / chunk;
            if c >= 1 && s.started_ms < recorded(import_seqs[c * chunk - 1]) {
                m += 1;
            }
        }
        missed = Some(m);
    }

    // Baseline: the same spacing, nothing else writing, on the now full ledger.
    let k = if run.mode == Mode::Alone {
        0
    } else {
        during.len().clamp(1, baseline_cap.max(1))
    };
    let mut base = Vec::with_capacity(k);
    for i in 0..k {
        let s = withdraw(&ledger, format!("b{i:07}"));
        assert!(s.seq.is_some(), "a baseline withdrawal failed");
        base.push(s.latency);
        pause(&mut rng, interval);
    }
    let load_after = loadavg();
    ledger.close().expect("close");
    RunResult {
        run: *run,
        rows: n,
        import_secs,
        import_ok,
        import_note: note,
        during: during_stats,
        outside,
        chunk_spans: stats(&chunk_spans),
        cycles: stats(&cycles),
        missed,
        failures,
        first_error,
        baseline: stats(&base),
        load_before,
        load_after,
    }
}

/// A figure with `decimals` decimals, or `—` when there is none.
fn fmt(v: f64, decimals: usize) -> String {
    if v.is_finite() {
        format!("{v:.decimals$}")
    } else {
        "—".into()
    }
}

fn f1(v: f64) -> String {
    fmt(v, 1)
}

fn f2(v: f64) -> String {
    fmt(v, 2)
}

/// During / baseline.
fn ratio(during: f64, baseline: f64) -> String {
    let r = during / baseline;
    if r.is_finite() {
        format!("{r:.1}×")
    } else {
        "—".into()
    }
}

fn print_run(r: &RunResult) {
    let d = &r.during;
    let b = &r.baseline;
    let chunks = r.rows.div_ceil(r.run.chunk(r.rows));
    eprintln!(
        "  import: {:.1} s for {} rows in {chunks} transactions ({:.1} ms each on average; {}), {}",
        r.import_secs,
        r.rows,
        r.import_secs * 1e3 / chunks as f64,
        r.import_note,
        if r.import_ok { "ok" } else { "FAILED" }
    );
    eprintln!(
        "  import transactions: appending (first to last event) median {} / max {} ms; \
         cycle (to the next one's first event) median {} / max {} ms",
        f1(r.chunk_spans.median),
        f1(r.chunk_spans.max),
        f1(r.cycles.median),
        f1(r.cycles.max),
    );
    if r.run.mode == Mode::Alone {
        return;
    }
    eprintln!(
        "  during: {} withdrawals ok, {} failed ({} more before the import's first event or after its last): \
         min {} / median {} / p95 {} / p99 {} / max {} ms; {} sat through a commit without getting in",
        d.count,
        r.failures,
        r.outside,
        f2(d.min),
        f2(d.median),
        f2(d.p95),
        f2(d.p99),
        f2(d.max),
        r.missed.map_or("?".into(), |m| m.to_string())
    );
    if let Some(e) = &r.first_error {
        eprintln!("          {e}");
    }
    eprintln!(
        "  baseline (no import, {} withdrawals): min {} / median {} / p95 {} / p99 {} / max {} ms",
        b.count,
        f2(b.min),
        f2(b.median),
        f2(b.p95),
        f2(b.p99),
        f2(b.max)
    );
    eprintln!(
        "  ratio during / baseline: median {}, p99 {}, max {}; load {} -> {}",
        ratio(d.median, b.median),
        ratio(d.p99, b.p99),
        ratio(d.max, b.max),
        r.load_before,
        r.load_after
    );
}

fn print_table(results: &[RunResult]) {
    println!(
        "| importer | rows | chunk | import (s) | transaction: appending / cycle, median (max) ms | withdrawals during | failed | sat through a commit | min | median | p95 | p99 | max | baseline median / p99 / max | during ÷ baseline: median / p99 / max |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in results {
        let (d, b) = (&r.during, &r.baseline);
        let who = match r.run.mode {
            Mode::Cli => "CLI `consent import`",
            Mode::Core => "core `append_chunked`",
            Mode::Single => "one transaction, busy timeout 5 s",
            Mode::Alone => "core `append_chunked`, no withdrawals",
        };
        let withdrawals = r.run.mode != Mode::Alone;
        let w = |v: String| if withdrawals { v } else { "—".into() };
        println!(
            "| {who} | {} | {} | {:.1}{} | {} ({}) / {} ({}) | {} | {} | {} | {} | {} | {} | {} | {} | {} / {} / {} | {} / {} / {} |",
            r.rows,
            r.run.chunk(r.rows),
            r.import_secs,
            if r.import_ok { "" } else { " (FAILED)" },
            fmt(r.chunk_spans.median, 0),
            fmt(r.chunk_spans.max, 0),
            fmt(r.cycles.median, 0),
            fmt(r.cycles.max, 0),
            w(d.count.to_string()),
            w(r.failures.to_string()),
            w(r.missed.map_or("?".into(), |m| m.to_string())),
            f2(d.min),
            f2(d.median),
            f2(d.p95),
            f2(d.p99),
            f2(d.max),
            f2(b.median),
            f2(b.p99),
            f2(b.max),
            ratio(d.median, b.median),
            ratio(d.p99, b.p99),
            ratio(d.max, b.max),
        );
    }
    println!(
        "\nLatencies in ms. Transaction appending: first to last event of each import \
         transaction (its commit follows); cycle: to the next transaction's first event \
         (appends, commit, pause, and the withdrawal that got in). Sat through a commit: \
         withdrawals still waiting when a transaction before the one they landed after had \
         committed. {}",
        machine()
    );
}
