//! Shared pieces of the consent-ledger benchmarks: a deterministic, realistic workload
//! (100 thousand students, the purposes of `docs/RULES.md` (after `../shared/DOMAIN.md`), grants, withdrawals, refusals
//! and academic-year expiries) and ledger fixtures built once with the batch API and
//! cached on disk.
//!
//! Event `i` of the workload is a pure function of `i` ([`Workload::event`]), so a
//! sample of the (subject, purpose) pairs present in a ledger of `n` events can be
//! drawn without reading the ledger, and every harness (Rust, C, Python) asks the same
//! questions.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use consent_core::{
    Actor, Calendar, EventKind, LawfulBasis, Ledger, Method, NewEvent, NoticeDef, PurposeDef,
    Timestamp, Validity,
};

pub mod harness;

/// Bump when the workload changes, so stale cached fixtures are rebuilt.
pub const WORKLOAD_VERSION: u32 = 2;

/// Number of distinct students.
pub const STUDENTS: u64 = 100_000;

/// Events per transaction when building fixtures.
const BUILD_CHUNK: u64 = 50_000;

/// The ledger sizes measured by default.
pub const SIZES: [u64; 3] = [10_000, 100_000, 1_000_000];

/// The sizes to measure: [`SIZES`], plus 10 million when `CONSENT_BENCH_10M=1`, or
/// exactly the comma-separated list in `CONSENT_BENCH_SIZES`.
pub fn sizes() -> Vec<u64> {
    if let Ok(list) = std::env::var("CONSENT_BENCH_SIZES") {
        return list
            .split(',')
            .filter_map(|s| s.trim().replace('_', "").parse().ok())
            .collect();
    }
    let mut v = SIZES.to_vec();
    if std::env::var("CONSENT_BENCH_10M").is_ok_and(|v| v == "1") {
        v.push(10_000_000);
    }
    v
}

/// A small, fast, deterministic mixer (SplitMix64). The benches need reproducible
/// choices, not cryptographic ones.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A sequential generator over [`mix`].
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(1);
        mix(self.0 ^ 0x5eed)
    }
    /// A value in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// One purpose of the registry with its share of the workload's events (per mille).
struct PurposeSpec {
    id: &'static str,
    title: &'static str,
    controller: &'static str,
    basis: LawfulBasis,
    special: Option<char>,
    validity: Validity,
    delay_secs: u64,
    recipients: &'static [&'static str],
    notice: &'static str,
    weight: u32,
}

const PROJECTS: [&str; 5] = [
    "green-week",
    "mentoring",
    "volunteering",
    "sports-survey",
    "welcome-fair",
];

fn purpose_specs() -> Vec<PurposeSpec> {
    let consent = |id, title, controller, notice, weight| PurposeSpec {
        id,
        title,
        controller,
        basis: LawfulBasis::Consent,
        special: None,
        validity: Validity::None,
        delay_secs: 0,
        recipients: &[],
        notice,
        weight,
    };
    let mut v = vec![
        PurposeSpec {
            delay_secs: 86_400,
            ..consent(
                "jmsu.data-sharing",
                "LJMU to JMSU data feed",
                "LJMU",
                "ljmu.it-registration",
                300,
            )
        },
        consent(
            "jmsu.marketing",
            "Students' union marketing",
            "JMSU",
            "jmsu.privacy",
            200,
        ),
        PurposeSpec {
            validity: Validity::ACADEMIC_YEAR,
            ..consent(
                "jmsu.course-rep",
                "Course representatives",
                "JMSU",
                "jmsu.privacy",
                50,
            )
        },
        PurposeSpec {
            special: Some('a'),
            ..consent(
                "mobility.health",
                "Mobility: health data",
                "LJMU",
                "ljmu.international",
                30,
            )
        },
        PurposeSpec {
            special: Some('a'),
            ..consent(
                "mobility.vaccination",
                "Mobility: vaccination",
                "LJMU",
                "ljmu.international",
                30,
            )
        },
        PurposeSpec {
            special: Some('a'),
            ..consent(
                "mobility.ethnicity",
                "Mobility: ethnicity",
                "LJMU",
                "ljmu.international",
                20,
            )
        },
        PurposeSpec {
            special: Some('a'),
            ..consent(
                "wellbeing.special-category",
                "Disability services",
                "LJMU",
                "ljmu.wellbeing",
                50,
            )
        },
        PurposeSpec {
            recipients: &["nhs", "student-finance-england", "landlord"],
            ..consent(
                "wellbeing.share-external",
                "Sharing with external bodies",
                "LJMU",
                "ljmu.wellbeing",
                70,
            )
        },
        consent(
            "tutor.share-with-services",
            "Tutor notes to other services",
            "LJMU",
            "ljmu.see-my-tutor",
            100,
        ),
    ];
    for p in PROJECTS {
        let id: &'static str = Box::leak(format!("jmsu.project.{p}").into_boxed_str());
        v.push(PurposeSpec {
            validity: Validity::ACADEMIC_YEAR,
            ..consent(id, "A students' union project", "JMSU", "jmsu.projects", 30)
        });
    }
    // Purposes that do not rest on consent: registered, never granted.
    v.push(PurposeSpec {
        basis: LawfulBasis::LegitimateInterests,
        ..consent(
            "ljmu.my-engagement",
            "My Engagement",
            "LJMU",
            "ljmu.it-registration",
            0,
        )
    });
    v.push(PurposeSpec {
        basis: LawfulBasis::PublicTask,
        ..consent(
            "ljmu.see-my-tutor",
            "See My Tutor records",
            "LJMU",
            "ljmu.see-my-tutor",
            0,
        )
    });
    v
}

const NOTICES: [&str; 6] = [
    "ljmu.it-registration",
    "jmsu.privacy",
    "jmsu.projects",
    "ljmu.international",
    "ljmu.wellbeing",
    "ljmu.see-my-tutor",
];

/// One event of the workload, as plain values (what every harness replays).
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// Student id.
    pub subject: String,
    /// Purpose id.
    pub purpose: &'static str,
    /// Recipient, for `wellbeing.share-external`.
    pub recipient: Option<&'static str>,
    /// Given, withdrawn or refused.
    pub kind: EventKind,
    /// Notice shown (grants and refusals).
    pub notice: &'static str,
    /// Explicit marker (special-category purposes).
    pub explicit: bool,
    /// How it was collected.
    pub method: Method,
    /// Staff id when typed in by staff.
    pub staff: Option<String>,
    /// Event time, ms since the epoch.
    pub effective_ms: i64,
    /// Idempotency key (paper and web forms).
    pub source_id: Option<String>,
}

/// A status question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Student id.
    pub subject: String,
    /// Purpose id.
    pub purpose: &'static str,
    /// Recipient, if the purpose names them.
    pub recipient: Option<&'static str>,
}

/// The workload: a registry plus a deterministic stream of events.
pub struct Workload {
    purposes: Vec<PurposeSpec>,
    cumulative: Vec<u32>,
}

impl Default for Workload {
    fn default() -> Self {
        Self::new()
    }
}

/// First event time: 1 September 2019.
const START_MS: i64 = 1_567_296_000_000;
/// Last event time: 1 June 2026.
const END_MS: i64 = 1_780_272_000_000;

impl Workload {
    /// The standard workload.
    pub fn new() -> Self {
        let purposes = purpose_specs();
        let mut acc = 0;
        let cumulative = purposes
            .iter()
            .map(|p| {
                acc += p.weight;
                acc
            })
            .collect();
        Workload {
            purposes,
            cumulative,
        }
    }

    /// Registers the purposes and notices.
    pub fn register(&self, ledger: &Ledger) -> consent_core::Result<()> {
        for n in NOTICES {
            // A notice covers the purposes whose grants name it.
            let covers = self.purposes.iter().filter(|p| p.notice == n).map(|p| p.id);
            ledger.register_notice(
                NoticeDef::from_text(
                    n,
                    "2024-09",
                    format!("{n} privacy notice"),
                    &format!("text of {n}"),
                )
                .covering("LJMU", covers),
            )?;
        }
        for p in &self.purposes {
            let mut def = PurposeDef::new(p.id, p.title, p.controller);
            def.lawful_basis = p.basis;
            def.special_category = p.special;
            def.validity = p.validity;
            def.effect_delay_secs = p.delay_secs;
            def.recipients = p.recipients.iter().map(|s| s.to_string()).collect();
            ledger.register_purpose(def)?;
        }
        Ok(())
    }

    /// Event `i` of a stream of `n` events. Event times grow with `i` (with jitter) from
    /// September 2019 to June 2026, so academic-year grants of early years have expired.
    pub fn spec(&self, i: u64, n: u64) -> Spec {
        let mut r = Rng(mix(i.wrapping_mul(0x2545_f491_4f6c_dd1d)));
        let subject = format!("s{:07}", r.below(STUDENTS));
        let pick = r.below(1000) as u32;
        let p = &self.purposes[self.cumulative.iter().position(|&c| pick < c).unwrap_or(0)];
        let roll = r.below(100);
        let kind = match roll {
            0..=71 => EventKind::Given,
            72..=95 => EventKind::Withdrawn,
            _ => EventKind::Refused,
        };
        let recipient = (!p.recipients.is_empty())
            .then(|| p.recipients[r.below(p.recipients.len() as u64) as usize]);
        let method = if p.id.starts_with("jmsu.project.") {
            if r.below(4) == 0 {
                Method::Paper
            } else {
                Method::WebForm
            }
        } else if p.id.starts_with("mobility.") {
            Method::Email
        } else if p.id.starts_with("wellbeing.") || p.id.starts_with("tutor.") {
            Method::InPerson
        } else {
            Method::Portal
        };
        let staff = matches!(method, Method::Paper | Method::Email | Method::InPerson)
            .then(|| format!("staff:{:04}", r.below(300)));
        let span = (END_MS - START_MS) as u64;
        let base = START_MS + (span as u128 * i as u128 / n.max(1) as u128) as i64;
        let jitter = r.below(3 * 86_400_000) as i64;
        let effective_ms = (base - jitter).max(START_MS);
        let source_id =
            matches!(method, Method::Paper | Method::WebForm).then(|| format!("form-{i:09}"));
        Spec {
            subject,
            purpose: p.id,
            recipient,
            kind,
            notice: p.notice,
            explicit: p.special.is_some(),
            method,
            staff,
            effective_ms,
            source_id,
        }
    }

    /// Event `i` as a [`NewEvent`].
    pub fn event(&self, i: u64, n: u64) -> NewEvent {
        self.spec(i, n).to_event()
    }

    /// A sample of `k` (subject, purpose, recipient) questions with an answer on record
    /// in a ledger of `n` events.
    pub fn sample_pairs(&self, n: u64, k: usize, seed: u64) -> Vec<Query> {
        let mut r = Rng(seed);
        (0..k)
            .map(|_| {
                let s = self.spec(r.below(n), n);
                Query {
                    subject: s.subject,
                    purpose: s.purpose,
                    recipient: s.recipient,
                }
            })
            .collect()
    }
}

impl Spec {
    /// As an event for [`Ledger::append`].
    pub fn to_event(&self) -> NewEvent {
        let mut e = NewEvent::new(self.kind, self.subject.clone(), self.purpose)
            .effective_at(Timestamp::from_millis(self.effective_ms).expect("in range"));
        if let Some(r) = self.recipient {
            e = e.recipient(r);
        }
        if self.kind != EventKind::Withdrawn {
            e = e.method(self.method);
        }
        if self.kind == EventKind::Given {
            e = e.notice(self.notice, "2024-09").explicit(self.explicit);
        }
        if let Some(s) = &self.staff {
            e = e.recorded_by(s.parse::<Actor>().expect("valid actor"));
        }
        if let Some(s) = &self.source_id {
            e = e.source_id(s.clone());
        }
        e
    }

    /// When a grant of the workload expires (its academic-year purposes), ms.
    pub fn expiry_ms(&self) -> Option<i64> {
        (self.kind == EventKind::Given
            && (self.purpose.starts_with("jmsu.project.") || self.purpose == "jmsu.course-rep"))
            .then(|| {
                Validity::ACADEMIC_YEAR
                    .expiry(
                        Timestamp::from_millis(self.effective_ms).expect("in range"),
                        &Calendar::default_zone(),
                    )
                    .map(|t| t.as_millis())
            })
            .flatten()
    }
}

/// Where fixtures live: `$CONSENT_BENCH_DIR`, else `<workspace>/target-bench/fixtures`.
pub fn fixture_dir() -> PathBuf {
    let dir = std::env::var_os("CONSENT_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target-bench/fixtures"));
    fs::create_dir_all(&dir).expect("create the fixture directory");
    fs::canonicalize(&dir).unwrap_or(dir)
}

/// The files SQLite and the ledger keep beside a ledger file: the WAL, its index, the
/// writers' lock file and the pseudonym key.
const BESIDE: [&str; 4] = ["-wal", "-shm", "-lock", ".key"];

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

/// Path of the pristine ledger fixture of `n` events, built on first use (with the
/// batch API, `BUILD_CHUNK` events per transaction) and cached. Its name carries the
/// workload version and the core's [`consent_core::SCHEMA_VERSION`], so a new schema
/// gets new fixtures.
pub fn ledger_fixture(n: u64) -> PathBuf {
    let dir = fixture_dir();
    // `t6`: format 4 with its two partial indexes (format 3 as it now is: tree from
    // level 4, the `checkpoints` table), changed before any release.
    let tag = format!("w{WORKLOAD_VERSION}.s{}t6", consent_core::SCHEMA_VERSION);
    let path = dir.join(format!("ledger-{n}.{tag}.db"));
    let done = dir.join(format!("ledger-{n}.{tag}.done"));
    if done.exists() && path.exists() {
        return path;
    }
    let tmp = dir.join(format!("ledger-{n}.{tag}.building.db"));
    remove_db(&tmp);
    remove_db(&path);
    let t0 = Instant::now();
    eprintln!("building ledger fixture of {n} events in {}", tmp.display());
    let ledger = Ledger::open(&tmp).expect("create fixture");
    let w = Workload::new();
    w.register(&ledger).expect("register");
    let mut i = 0;
    while i < n {
        let end = (i + BUILD_CHUNK).min(n);
        let batch = ledger.batch().expect("begin");
        for j in i..end {
            batch
                .append(w.event(j, n))
                .unwrap_or_else(|e| panic!("event {j}: {e}"));
        }
        batch.commit().expect("commit");
        i = end;
        if i % 500_000 == 0 || i == n {
            eprintln!("  {i} events, {:.1} s", t0.elapsed().as_secs_f64());
        }
    }
    ledger.checkpoint().expect("checkpoint");
    ledger.close().expect("close");
    // The key moves with the file; the WAL is empty after the checkpoint.
    fs::rename(with_suffix(&tmp, ".key"), with_suffix(&path, ".key")).expect("rename key");
    fs::rename(&tmp, &path).expect("rename fixture");
    remove_db(&tmp);
    fs::write(
        &done,
        format!("built in {:.1} s\n", t0.elapsed().as_secs_f64()),
    )
    .expect("marker");
    path
}

/// Copies a ledger file and its key to `dst` (replacing whatever was there).
pub fn copy_ledger(src: &Path, dst: &Path) {
    remove_db(dst);
    fs::copy(src, dst).expect("copy ledger");
    let key = with_suffix(src, ".key");
    if key.exists() {
        fs::copy(&key, with_suffix(dst, ".key")).expect("copy key");
    }
}

/// A fresh copy of the fixture of `n` events named `tag`, for benches that append.
pub fn work_copy(n: u64, tag: &str) -> PathBuf {
    let src = ledger_fixture(n);
    let dst = fixture_dir().join(format!("work-{tag}-{n}.db"));
    copy_ledger(&src, &dst);
    dst
}

/// Removes a database file and the files beside it (WAL, index, lock, key).
pub fn remove_db(path: &Path) {
    let _ = fs::remove_file(path);
    for ext in BESIDE {
        let _ = fs::remove_file(with_suffix(path, ext));
    }
}

/// Bytes a database takes on disk: the file plus its WAL (if any).
pub fn db_bytes(path: &Path) -> u64 {
    let len = |p: &Path| fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    len(path) + len(&with_suffix(path, "-wal"))
}

/// The checkpoint sequence number in the header of a database's WAL file (SQLite's
/// file format, bytes 12..16, big-endian): SQLite adds one each time a checkpoint has
/// copied the whole WAL back and the next writer starts the WAL over. The difference
/// between two readings counts the completed checkpoints in between, whoever ran them,
/// without asking the ledger anything. `None` when there is no WAL header.
pub fn wal_checkpoint_seq(path: &Path) -> Option<u32> {
    use std::io::Read;
    let mut f = fs::File::open(with_suffix(path, "-wal")).ok()?;
    let mut hdr = [0u8; 32];
    f.read_exact(&mut hdr).ok()?;
    Some(u32::from_be_bytes([hdr[12], hdr[13], hdr[14], hdr[15]]))
}

/// Writes the workload's events `0..n` as TSV (subject, purpose, recipient, kind,
/// effective ms, expiry ms or empty) for the Python baseline, and returns its path.
pub fn stream_file(n: u64) -> PathBuf {
    let path = fixture_dir().join(format!("stream-{n}.w{WORKLOAD_VERSION}.tsv"));
    if path.exists() {
        return path;
    }
    let tmp = path.with_extension("tmp");
    let w = Workload::new();
    let mut out = BufWriter::new(fs::File::create(&tmp).expect("create stream"));
    for i in 0..n {
        let s = w.spec(i, n);
        let expires = s.expiry_ms().map(|t| t.to_string()).unwrap_or_default();
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            s.subject,
            s.purpose,
            s.recipient.unwrap_or(""),
            s.kind,
            s.effective_ms,
            expires,
            s.notice,
            s.method,
            s.staff.as_deref().unwrap_or("subject"),
        )
        .expect("write stream");
    }
    out.flush().expect("flush");
    drop(out);
    fs::rename(&tmp, &path).expect("rename stream");
    path
}

/// Writes `k` status questions for a ledger of `n` events, one
/// `subject\tpurpose\trecipient` a line (recipient may be empty), and returns its path.
pub fn query_file(n: u64, k: usize) -> PathBuf {
    let path = fixture_dir().join(format!("queries-{n}-{k}.w{WORKLOAD_VERSION}.tsv"));
    if !path.exists() {
        let mut out = String::new();
        for q in Workload::new().sample_pairs(n, k, 42) {
            out.push_str(&format!(
                "{}\t{}\t{}\n",
                q.subject,
                q.purpose,
                q.recipient.unwrap_or("")
            ));
        }
        fs::write(&path, out).expect("write queries");
    }
    path
}

/// Median of a sample (sorts it).
pub fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    quantile_sorted(v, 0.5)
}

/// The `q` quantile of a sorted, non-empty sample (linear interpolation).
fn quantile_sorted(v: &[f64], q: f64) -> f64 {
    let pos = q * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

/// A figure measured over several rounds: its median, quartiles and extremes.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Median of the rounds.
    pub median: f64,
    /// Smallest round.
    pub min: f64,
    /// Largest round.
    pub max: f64,
    /// First quartile.
    pub q1: f64,
    /// Third quartile.
    pub q3: f64,
    /// Every round, in the order measured.
    pub rounds: Vec<f64>,
}

impl Summary {
    /// Summarises the rounds (`None` when there are none).
    pub fn of(rounds: &[f64]) -> Option<Summary> {
        if rounds.is_empty() {
            return None;
        }
        let mut v = rounds.to_vec();
        v.sort_by(|a, b| a.total_cmp(b));
        Some(Summary {
            median: quantile_sorted(&v, 0.5),
            min: v[0],
            max: v[v.len() - 1],
            q1: quantile_sorted(&v, 0.25),
            q3: quantile_sorted(&v, 0.75),
            rounds: rounds.to_vec(),
        })
    }
}

/// Peak resident set size of this process so far, in KiB (Linux `VmHWM`).
pub fn peak_rss_kib() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_has_median_quartiles_and_extremes() {
        let s = Summary::of(&[5.0, 1.0, 4.0, 2.0, 3.0]).unwrap();
        assert_eq!(
            (s.median, s.min, s.max, s.q1, s.q3),
            (3.0, 1.0, 5.0, 2.0, 4.0)
        );
        assert_eq!(s.rounds, vec![5.0, 1.0, 4.0, 2.0, 3.0]);
        assert_eq!(Summary::of(&[1.0, 2.0]).unwrap().median, 1.5);
        assert!(Summary::of(&[]).is_none());
    }

    #[test]
    fn wal_header_counts_completed_checkpoints() {
        let dir = std::env::temp_dir().join(format!("consent-benches-wal-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.db");
        remove_db(&path);
        let c = rusqlite::Connection::open(&path).unwrap();
        c.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))
            .unwrap();
        c.execute_batch("PRAGMA wal_autocheckpoint=0; CREATE TABLE t(x)")
            .unwrap();
        let first = wal_checkpoint_seq(&path).expect("a WAL header");
        c.execute_batch("INSERT INTO t VALUES (1)").unwrap();
        assert_eq!(wal_checkpoint_seq(&path), Some(first), "no checkpoint yet");
        for _ in 0..2 {
            c.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()))
                .unwrap();
            c.execute_batch("INSERT INTO t VALUES (2)").unwrap();
        }
        assert_eq!(wal_checkpoint_seq(&path), Some(first.wrapping_add(2)));
        drop(c);
        remove_db(&path);
        let _ = fs::remove_dir(&dir);
    }

    #[test]
    fn workload_appends_cleanly() {
        let ledger = Ledger::in_memory().unwrap();
        let w = Workload::new();
        w.register(&ledger).unwrap();
        ledger
            .append_many((0..2_000).map(|i| w.event(i, 2_000)))
            .unwrap();
        assert!(ledger.verify().unwrap().ok);
        let pairs = w.sample_pairs(2_000, 50, 1);
        for q in pairs {
            let st = ledger.status(&q.subject, q.purpose, q.recipient).unwrap();
            assert!(st.event_id.is_some(), "{q:?} has events");
        }
    }
}
