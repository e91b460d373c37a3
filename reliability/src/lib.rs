//! Shared fixtures of the reliability suite: the registry every test ledger starts
//! with, the counts that `soak.sh` raises through environment variables, and the
//! writer's acknowledgement log format.
//!
//! The tests live in `tests/`; the crash test spawns `src/bin/writer.rs`.

#![forbid(unsafe_code)]

pub mod fixture;

use consent_core::{LawfulBasis, Ledger, Method, NewEvent, NoticeDef, PurposeDef, Validity};

/// The notice every grant of the suite names.
pub const NOTICE: (&str, &str) = ("jmsu.privacy", "2024-09");

/// Purposes the writers and tamper tests use.
pub const PURPOSES: [&str; 4] = [
    "jmsu.data-sharing",
    "jmsu.marketing",
    "jmsu.project.green-week",
    "wellbeing.share-external",
];

/// The downstream the crash test registers and its writers acknowledge for.
pub const CRASH_FEED: &str = "crash.feed";

/// Reads a count from the environment (`soak.sh` raises them), else `default`.
pub fn count(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Registers the suite's purposes and notices (idempotent).
pub fn register_all(l: &Ledger) -> consent_core::Result<()> {
    let mut sharing = PurposeDef::new("jmsu.data-sharing", "Share student data with JMSU", "LJMU");
    sharing.effect_delay_secs = 86_400;
    l.register_purpose(sharing)?;
    l.register_purpose(PurposeDef::new("jmsu.marketing", "JMSU marketing", "JMSU"))?;
    let mut project = PurposeDef::new("jmsu.project.green-week", "Green Week project", "JMSU");
    project.validity = Validity::ACADEMIC_YEAR;
    l.register_purpose(project)?;
    let mut share = PurposeDef::new(
        "wellbeing.share-external",
        "Share with external bodies",
        "LJMU",
    );
    share.recipients = vec!["NHS".into(), "SFE".into(), "landlord".into()];
    l.register_purpose(share)?;
    let mut health = PurposeDef::new("mobility.health", "Health data for mobility", "LJMU");
    health.special_category = Some('a');
    l.register_purpose(health)?;
    let mut engagement = PurposeDef::new("it.my-engagement", "My Engagement analytics", "LJMU");
    engagement.lawful_basis = LawfulBasis::LegitimateInterests;
    l.register_purpose(engagement)?;
    // The suite's one notice stands for every notice.
    l.register_notice(
        NoticeDef::from_text(
            NOTICE.0,
            NOTICE.1,
            "JMSU privacy notice",
            "text of the JMSU notice",
        )
        .covering("JMSU", ["jmsu.*", "wellbeing.*", "mobility.*", "it.*"]),
    )?;
    Ok(())
}

/// A grant through the portal, naming the suite's notice.
pub fn give(subject: &str, purpose: &str) -> NewEvent {
    NewEvent::give(subject, purpose)
        .notice(NOTICE.0, NOTICE.1)
        .method(Method::Portal)
}

/// One acknowledged event, as a writer logs it: `ID KIND SUBJECT PURPOSE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    /// Event id.
    pub id: uuid::Uuid,
    /// Event kind text.
    pub kind: String,
    /// Subject.
    pub subject: String,
    /// Purpose.
    pub purpose: String,
}

impl Ack {
    /// The log line, newline included.
    pub fn line(&self) -> String {
        format!(
            "{} {} {} {}\n",
            self.id, self.kind, self.subject, self.purpose
        )
    }

    /// Parses a writer's log. A last line without its newline was cut by the kill
    /// before it was complete (its event was acknowledged but not yet logged) and is
    /// skipped.
    pub fn parse_log(text: &str) -> Vec<Ack> {
        let complete = match text.rfind('\n') {
            Some(i) => &text[..=i],
            None => "",
        };
        complete
            .lines()
            .map(|l| {
                let mut f = l.split(' ');
                let mut next = || {
                    f.next()
                        .unwrap_or_else(|| panic!("malformed log line {l:?}"))
                        .to_string()
                };
                Ack {
                    id: next().parse().expect("uuid"),
                    kind: next(),
                    subject: next(),
                    purpose: next(),
                }
            })
            .collect()
    }
}

/// What `tools/verify_ledger.py` said about a ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyVerdict {
    /// Exit status 0.
    pub ok: bool,
    /// The first bad sequence number it named, if any.
    pub first_bad_seq: Option<u64>,
    /// The head of an `OK SIZE:ROOTHEX` answer.
    pub head: Option<String>,
    /// It printed `SIMULATED` (the ledger's clock is simulated).
    pub simulated: bool,
    /// Its whole output.
    pub output: String,
}

/// Runs the independent Python verifier on `ledger` (with `--head` when given), without
/// the pseudonym key (erasure rule E7 is then skipped). `None` when python3 is not
/// installed.
pub fn python_verify(ledger: &std::path::Path, head: Option<&str>) -> Option<PyVerdict> {
    python_verify_with_key(ledger, head, None)
}

/// Runs the independent Python verifier on `ledger`, with `--head` and `--key-file` when
/// given. `None` when python3 is not installed; any other failure to run it panics, as
/// does an exit status other than 0 (OK) or 1 (BAD).
pub fn python_verify_with_key(
    ledger: &std::path::Path,
    head: Option<&str>,
    key_file: Option<&std::path::Path>,
) -> Option<PyVerdict> {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/verify_ledger.py");
    let mut cmd = std::process::Command::new("python3");
    cmd.arg(script).arg(ledger);
    if let Some(h) = head {
        cmd.arg("--head").arg(h);
    }
    if let Some(k) = key_file {
        cmd.arg("--key-file").arg(k);
    }
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("cannot run python3: {e}"),
    };
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "verify_ledger.py crashed: {output}"
    );
    // "BAD seq N: why" names the first bad event; "OK SIZE:ROOTHEX" the head.
    let first_bad_seq = output
        .lines()
        .find_map(|l| l.strip_prefix("BAD seq "))
        .and_then(|rest| rest.split(':').next())
        .and_then(|n| n.trim().parse().ok());
    let head = output
        .lines()
        .find_map(|l| l.strip_prefix("OK "))
        .map(|h| h.trim().to_string());
    Some(PyVerdict {
        ok: out.status.success(),
        first_bad_seq,
        head,
        simulated: output.lines().any(|l| l.trim() == "SIMULATED"),
        output,
    })
}
