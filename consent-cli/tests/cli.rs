//! Drives the real `consent` binary: every subcommand, the exit codes, the import
//! report, the export and receipt documents, receipt checking and the demo script.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

#[path = "common/outcome.rs"]
mod outcome;
use outcome::{expect_code, expect_ok};

const BIN: &str = env!("CARGO_BIN_EXE_consent");

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn registry() -> PathBuf {
    repo_root().join("examples/ljmu/registry.toml")
}

/// The registry's notices (examples/ljmu/registry.toml), each with a text to check.
const NOTICE_TEXTS: usize = 5;

/// The folder of the notice texts: `$CONSENT_SEEDS`, else `shared/seeds` next to the
/// workspace (the texts are not kept in this repository). Missing, it fails the test
/// that needs it: a hash check that did not run must not pass as one that did.
fn seeds() -> PathBuf {
    let dir = std::env::var_os("CONSENT_SEEDS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/seeds"));
    assert!(
        dir.is_dir(),
        "the notice texts are expected in {} (set CONSENT_SEEDS to the folder that \
         holds them): without them the registry's hashes cannot be checked",
        dir.display()
    );
    dir
}

/// A ledger in a temporary folder, and a fake clock.
struct Ledger {
    dir: tempfile::TempDir,
    path: PathBuf,
}

impl Ledger {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ledger.db");
        let l = Ledger { dir, path };
        l.ok("2024-09-01T09:00:00Z", &["init"]);
        l
    }

    /// A ledger with the LJMU registry loaded.
    fn ljmu() -> Self {
        let l = Self::new();
        l.ok(
            "2024-09-01T09:00:00Z",
            &["registry", "load", registry().to_str().unwrap()],
        );
        l
    }

    /// A ledger created in another time zone, with the LJMU registry loaded.
    fn ljmu_in(zone: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ledger.db");
        let l = Ledger { dir, path };
        l.ok("2024-09-01T09:00:00Z", &["init", "--time-zone", zone]);
        l.ok(
            "2024-09-01T09:00:00Z",
            &["registry", "load", registry().to_str().unwrap()],
        );
        l
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, now: &str, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .env("CONSENT_LEDGER", &self.path)
            .env("CONSENT_NOW", now)
            .output()
            .expect("run consent")
    }

    /// Runs, expects exit 0, returns stdout.
    fn ok(&self, now: &str, args: &[&str]) -> String {
        expect_ok(self.run(now, args), args)
    }

    /// Runs with --json, expects exit 0, parses stdout.
    fn json(&self, now: &str, args: &[&str]) -> Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        let s = self.ok(now, &a);
        serde_json::from_str(&s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
    }

    /// Runs, expects exit `code`, returns stderr.
    fn fails(&self, code: i32, now: &str, args: &[&str]) -> String {
        expect_code(self.run(now, args), code, args)
    }

    fn head(&self) -> String {
        self.ok("2030-01-01", &["head"]).trim().to_string()
    }

    /// Gives consent and returns the event id.
    fn give(&self, now: &str, args: &[&str]) -> String {
        let mut a = vec!["give"];
        a.extend_from_slice(args);
        self.json(now, &a)["id"]
            .as_str()
            .expect("event id")
            .to_string()
    }
}

const NOTICE: &[&str] = &["--notice", "jmsu.privacy@1", "--method", "portal"];

/// The log's signing key of the receipt tests, written to `log.key` in the ledger's
/// folder (a consent-note private key string); returns the file and the verifier key.
fn log_key(l: &Ledger) -> (PathBuf, String) {
    let key = consent_note::SigningKey::from_seed(
        "ljmu.ac.uk/consent",
        consent_note::SignatureType::Ed25519,
        &[7; 32],
    )
    .unwrap();
    let path = l.file("log.key");
    std::fs::write(&path, format!("{}\n", key.to_private_key().as_str())).unwrap();
    (path, key.verifier_key().to_string())
}

fn with<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<&'a str> {
    a.iter().chain(b).copied().collect()
}

#[test]
fn help_lists_commands_and_exit_codes() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for word in [
        "Exit codes",
        "verify",
        "check-receipt",
        "import",
        "consenting",
        "erase",
        "receipt",
    ] {
        assert!(help.contains(word), "--help lacks {word}:\n{help}");
    }
    // clap usage errors exit 2
    let out = Command::new(BIN)
        .args(["give", "only-a-subject"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(BIN).arg("no-such-command").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn missing_ledger_and_unknown_things_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args([
            "--ledger",
            dir.path().join("nope.db").to_str().unwrap(),
            "status",
            "s",
            "p",
        ])
        .env_remove("CONSENT_LEDGER")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("consent init"));
    assert!(
        !dir.path().join("nope.db").exists(),
        "a typo must not create a ledger"
    );

    let out = Command::new(BIN)
        .args(["head"])
        .env_remove("CONSENT_LEDGER")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "no --ledger is a usage error");

    let l = Ledger::ljmu();
    l.fails(
        3,
        "2024-09-02",
        &with(&["give", "s1", "no.such.purpose"], NOTICE),
    );
    l.fails(
        3,
        "2024-09-02",
        &[
            "give",
            "s1",
            "jmsu.marketing",
            "--notice",
            "nope@1",
            "--method",
            "portal",
        ],
    );
    l.fails(3, "2024-09-02", &["purpose", "show", "no.such.purpose"]);
    let (key, _) = log_key(&l);
    l.fails(
        3,
        "2024-09-02",
        &[
            "receipt",
            "01a20985-3833-7430-8432-577a33ea8096",
            "--sign-with",
            key.to_str().unwrap(),
        ],
    );
    l.fails(
        3,
        "2024-09-02",
        &with(
            &[
                "give",
                "s1",
                "wellbeing.share-external",
                "--recipient",
                "bank",
            ],
            NOTICE,
        ),
    );
}

#[test]
fn registry_purposes_and_notices() {
    let l = Ledger::new();
    // The notice texts are checked in `registry_load_checks_the_notice_texts`.
    let file = registry();
    let args = ["registry", "load", file.to_str().unwrap()];
    let out = l.ok("2024-09-01", &args);
    assert_eq!(
        out.matches("text not available").count(),
        NOTICE_TEXTS,
        "{out}"
    );
    // Loading again appends nothing.
    let head = l.head();
    let out = l.ok("2024-09-01", &args);
    assert!(out.contains("0 recorded"), "{out}");
    assert_eq!(l.head(), head);

    let list: Value = l.json("2024-09-01", &["purpose", "list"]);
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    for id in [
        "jmsu.data-sharing",
        "jmsu.marketing",
        "jmsu.course-rep",
        "mobility.health",
        "mobility.vaccination",
        "mobility.ethnicity",
        "wellbeing.special-category",
        "wellbeing.share-external",
        "tutor.share-with-services",
        "engagement.monitoring",
    ] {
        assert!(ids.contains(&id), "registry lacks {id}");
    }
    let sharing = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "jmsu.data-sharing")
        .unwrap();
    assert_eq!(sharing["effect_delay_secs"], 86400);
    let project = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "jmsu.project.freshers-tasters")
        .unwrap();
    assert_eq!(project["validity"]["kind"], "academic_year");
    let health = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "mobility.health")
        .unwrap();
    assert_eq!(health["special_category"], "a");
    assert!(l
        .ok("2024-09-01", &["purpose", "list"])
        .contains("6(1)(a) + 9(2)(a)"));
    assert!(l
        .ok("2024-09-01", &["purpose", "show", "jmsu.data-sharing"])
        .contains("My LJMU"));

    // purpose add, and a new version on change.
    l.ok(
        "2024-09-01",
        &[
            "purpose",
            "add",
            "jmsu.project.rag-week",
            "--title",
            "RAG week",
            "--controller",
            "JMSU",
            "--validity",
            "academic-year",
            "--effect-delay",
            "2h",
            "--withdrawal-method",
            "Email jmsu@ljmu.ac.uk",
        ],
    );
    let p = l.json(
        "2024-09-01",
        &[
            "purpose",
            "add",
            "jmsu.project.rag-week",
            "--title",
            "RAG week 2025",
            "--controller",
            "JMSU",
        ],
    );
    assert_eq!(p["version"], 2);
    let versions = l.json("2024-09-01", &["purpose", "show", "jmsu.project.rag-week"]);
    assert_eq!(versions.as_array().unwrap().len(), 2);
    assert_eq!(versions[0]["effect_delay_secs"], 7200);
    l.fails(
        2,
        "2024-09-01",
        &[
            "purpose",
            "add",
            "x.y",
            "--title",
            "t",
            "--controller",
            "c",
            "--basis",
            "z",
        ],
    );
    l.fails(
        2,
        "2024-09-01",
        &[
            "purpose",
            "add",
            "x.y",
            "--title",
            "t",
            "--controller",
            "c",
            "--validity",
            "forever",
        ],
    );

    // notice add hashes the text file.
    let text = l.file("notice.txt");
    std::fs::write(&text, "hello").unwrap();
    let n = l.json(
        "2024-09-01",
        &[
            "notice",
            "add",
            "test.notice",
            "2",
            "--title",
            "Test",
            "--controller",
            "JMSU",
            "--purpose",
            "jmsu.project.*",
            "--text-file",
            text.to_str().unwrap(),
        ],
    );
    assert_eq!(n["controller"], "JMSU");
    assert_eq!(n["purposes"][0], "jmsu.project.*");
    assert_eq!(
        n["sha256"],
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    );
    let list = l.json("2024-09-01", &["notice", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 6);
    assert!(l
        .ok("2024-09-01", &["notice", "list"])
        .contains("test.notice"));
    // Same id and version, other text: conflict.
    std::fs::write(&text, "hello, changed").unwrap();
    l.fails(
        4,
        "2024-09-01",
        &[
            "notice",
            "add",
            "test.notice",
            "2",
            "--title",
            "Test",
            "--controller",
            "JMSU",
            "--purpose",
            "jmsu.project.*",
            "--text-file",
            text.to_str().unwrap(),
        ],
    );

    // A registry whose stated hash disagrees with the text is refused before writing anything.
    let dir = l.file("reg");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("n.txt"), "the text").unwrap();
    std::fs::write(
        dir.join("r.toml"),
        format!("[[notice]]\nid = \"n\"\nversion = \"1\"\ntitle = \"N\"\ntext_file = \"n.txt\"\nsha256 = \"{}\"\n", "0".repeat(64)),
    )
    .unwrap();
    let before = l.head();
    let err = l.fails(
        1,
        "2024-09-01",
        &["registry", "load", dir.join("r.toml").to_str().unwrap()],
    );
    assert!(err.contains("hashes to"), "{err}");
    assert_eq!(l.head(), before);
    std::fs::write(
        dir.join("bad.toml"),
        "[[purpose]]\nid = \"x\"\nnonsense = 1\n",
    )
    .unwrap();
    l.fails(
        2,
        "2024-09-01",
        &["registry", "load", dir.join("bad.toml").to_str().unwrap()],
    );
}

#[test]
fn registry_load_checks_the_notice_texts() {
    let seeds = seeds();
    let l = Ledger::new();
    let load = |texts: &Path| {
        vec![
            "registry".to_string(),
            "load".to_string(),
            registry().to_str().unwrap().to_string(),
            "--texts".to_string(),
            texts.to_str().unwrap().to_string(),
        ]
    };
    let args = load(&seeds);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = l.ok("2024-09-01", &args);
    assert_eq!(out.matches("text checked").count(), NOTICE_TEXTS, "{out}");

    // A text that differs by one byte from the one registered is refused.
    let altered = tempfile::tempdir().unwrap();
    let mut texts = 0;
    for entry in std::fs::read_dir(&seeds).unwrap() {
        let from = entry.unwrap().path();
        if from.extension().is_some_and(|e| e == "txt") {
            std::fs::copy(&from, altered.path().join(from.file_name().unwrap())).unwrap();
            texts += 1;
        }
    }
    assert_eq!(texts, NOTICE_TEXTS, "texts in {}", seeds.display());
    let first = altered.path().join("000_c58cd319ae5e85ea.txt");
    let mut text = std::fs::read(&first).unwrap();
    text.push(b' ');
    std::fs::write(&first, text).unwrap();
    let head = l.head();
    let args = load(altered.path());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let err = l.fails(1, "2024-09-01", &args);
    assert!(err.contains("hashes to"), "{err}");
    assert_eq!(l.head(), head);
}
#[test]
fn events_status_and_history() {
    let l = Ledger::ljmu();
    // give, with --notice-id/--notice-version and evidence
    let g = l.give(
        "2024-09-20T10:00:00Z",
        &[
            "s1",
            "jmsu.data-sharing",
            "--notice-id",
            "jmsu.privacy",
            "--notice-version",
            "1",
            "--method",
            "portal",
            "--evidence",
            r#"{"portal_session":"abc"}"#,
            "--source-id",
            "reg-1",
        ],
    );
    // same source id, same content: the same event
    let again = l.give(
        "2024-09-21",
        &[
            "s1",
            "jmsu.data-sharing",
            "--notice",
            "jmsu.privacy@1",
            "--method",
            "portal",
            "--evidence",
            r#"{"portal_session":"abc"}"#,
            "--source-id",
            "reg-1",
        ],
    );
    assert_eq!(g, again);
    // same source id, other content: conflict
    l.fails(
        4,
        "2024-09-21",
        &with(
            &["give", "s2", "jmsu.data-sharing", "--source-id", "reg-1"],
            NOTICE,
        ),
    );
    // rules: explicit consent for special categories, a notice for grants
    let err = l.fails(
        4,
        "2024-09-21",
        &[
            "give",
            "s1",
            "mobility.health",
            "--notice",
            "ljmu.international-relations@1",
            "--method",
            "web_form",
        ],
    );
    assert!(err.contains("explicit"), "{err}");
    l.fails(
        4,
        "2024-09-21",
        &["give", "s1", "jmsu.marketing", "--method", "portal"],
    );
    l.fails(
        4,
        "2024-09-21",
        &with(&["give", "s1", "tutor.records"], NOTICE),
    );
    // usage errors
    l.fails(
        2,
        "2024-09-21",
        &with(
            &["give", "s1", "jmsu.marketing", "--at", "yesterday"],
            NOTICE,
        ),
    );
    l.fails(
        2,
        "2024-09-21",
        &with(
            &["give", "s1", "jmsu.marketing", "--evidence", "{not json"],
            NOTICE,
        ),
    );
    l.fails(
        2,
        "2024-09-21",
        &with(
            &["give", "s1", "jmsu.marketing", "--recorded-by", "robot"],
            NOTICE,
        ),
    );
    l.fails(
        2,
        "2024-09-21",
        &[
            "give",
            "s1",
            "jmsu.marketing",
            "--notice",
            "no-version",
            "--method",
            "portal",
        ],
    );
    l.fails(
        2,
        "2024-09-21",
        &with(
            &["give", "s1", "jmsu.marketing", "--method", "pigeon"],
            &NOTICE[..2],
        ),
    );
    l.fails(2, "2024-09-21", &["--now", "soon", "head"]);

    l.give(
        "2024-09-21",
        &[
            "s1",
            "mobility.health",
            "--notice",
            "ljmu.international-relations@1",
            "--method",
            "web_form",
            "--explicit",
        ],
    );
    l.ok(
        "2024-09-22",
        &with(&["refuse", "s1", "jmsu.marketing"], NOTICE),
    );
    let st = l.json("2024-09-23", &["status", "s1", "jmsu.marketing"]);
    assert_eq!(st["state"], "refused");
    assert_eq!(st["permits"], false);

    // withdraw: never refused, even with nothing on record; effect deadline +24h
    let w = l.json(
        "2025-03-03T10:00:00Z",
        &["withdraw", "s1", "jmsu.data-sharing", "--method", "portal"],
    );
    assert_eq!(w["effect_deadline"], "2025-03-04T10:00:00.000Z");
    l.ok("2025-03-03", &["withdraw", "s9", "jmsu.course-rep"]);
    let human = l.ok(
        "2025-03-03T12:00:00Z",
        &["status", "s1", "jmsu.data-sharing", "--recipient", "JMSU"],
    );
    // Shown in the ledger's time zone: in March, London is on GMT.
    assert!(
        human.contains("withdrawn") && human.contains("downstream by  2025-03-04 10:00+00:00"),
        "{human}"
    );
    // past-time question: not retroactive
    let st = l.json(
        "2025-03-04",
        &[
            "status",
            "s1",
            "jmsu.data-sharing",
            "--recipient",
            "JMSU",
            "--at",
            "2025-01-01",
        ],
    );
    assert_eq!(st["state"], "given");
    assert_eq!(st["permits"], true);
    assert_eq!(st["event_id"], g.as_str());

    // backdated paper form: as known before it was typed in, never asked
    l.give(
        "2024-10-05T11:00:00Z",
        &[
            "s3",
            "jmsu.course-rep",
            "--notice",
            "jmsu.privacy@1",
            "--method",
            "paper",
            "--recorded-by",
            "staff:jmsu-0042",
            "--at",
            "2024-10-01",
        ],
    );
    let st = l.json(
        "2024-10-06",
        &[
            "status",
            "s3",
            "jmsu.course-rep",
            "--at",
            "2024-10-02",
            "--known-at",
            "2024-10-03",
        ],
    );
    assert_eq!(st["state"], "never_asked");
    let st = l.json(
        "2024-10-06",
        &["status", "s3", "jmsu.course-rep", "--at", "2024-10-02"],
    );
    assert_eq!(st["state"], "given");
    // A course rep's consent lasts a year from the start (course_year): to the start
    // of 1 October 2025 in London, which is 30 September 23:00 UTC (BST).
    assert_eq!(st["since"], "2024-09-30T23:00:00.000Z");
    assert_eq!(st["until"], "2025-09-30T23:00:00.000Z");
    let st = l.json(
        "2025-09-30T23:30:00+01:00",
        &["status", "s3", "jmsu.course-rep"],
    );
    assert_eq!(st["state"], "given");
    let st = l.json("2025-10-01T00:30", &["status", "s3", "jmsu.course-rep"]);
    assert_eq!(st["state"], "expired");

    // revoke, invalidate with --target, object, with recipients
    let nhs = l.give(
        "2024-11-01",
        &[
            "s4",
            "wellbeing.share-external",
            "--recipient",
            "nhs",
            "--notice",
            "ljmu.wellbeing@1",
            "--method",
            "in_person",
            "--recorded-by",
            "staff:saw-7",
            "--expires",
            "2025-11-01",
        ],
    );
    let st = l.json(
        "2024-11-02",
        &[
            "status",
            "s4",
            "wellbeing.share-external",
            "--recipient",
            "nhs",
        ],
    );
    assert_eq!(st["state"], "given");
    assert_eq!(st["until"], "2025-11-01T00:00:00.000Z");
    let st = l.json(
        "2024-11-02",
        &[
            "status",
            "s4",
            "wellbeing.share-external",
            "--recipient",
            "landlord",
        ],
    );
    assert_eq!(st["state"], "never_asked");
    l.ok(
        "2024-11-03",
        &[
            "invalidate",
            "s4",
            "wellbeing.share-external",
            "--recipient",
            "nhs",
            "--target",
            &nhs,
            "--recorded-by",
            "staff:saw-7",
        ],
    );
    let st = l.json(
        "2024-11-04",
        &[
            "status",
            "s4",
            "wellbeing.share-external",
            "--recipient",
            "nhs",
            "--at",
            "2024-11-02",
        ],
    );
    assert_eq!(st["state"], "invalidated", "an invalidation is retroactive");
    l.fails(
        2,
        "2024-11-04",
        &[
            "invalidate",
            "s4",
            "wellbeing.share-external",
            "--target",
            "not-a-uuid",
        ],
    );
    l.give(
        "2024-11-05",
        &[
            "s5",
            "tutor.share-with-services",
            "--notice",
            "ljmu.see-my-tutor@1",
            "--method",
            "in_person",
        ],
    );
    l.ok(
        "2024-11-06",
        &[
            "revoke",
            "s5",
            "tutor.share-with-services",
            "--recorded-by",
            "staff:tutor-1",
        ],
    );
    assert_eq!(
        l.json("2024-11-07", &["status", "s5", "tutor.share-with-services"])["state"],
        "revoked"
    );
    assert_eq!(
        l.json("2024-11-07", &["status", "s5", "engagement.monitoring"])["state"],
        "not_consent_based"
    );
    l.ok(
        "2024-11-07",
        &["object", "s5", "engagement.monitoring", "--method", "email"],
    );
    assert_eq!(
        l.json("2024-11-08", &["status", "s5", "engagement.monitoring"])["state"],
        "objected"
    );

    // history, table and JSON
    let h = l.json("2025-04-01", &["history", "s1"]);
    assert_eq!(h.as_array().unwrap().len(), 4);
    let table = l.ok("2025-04-01", &["history", "s1"]);
    assert!(
        table.starts_with('#') && table.contains("withdrawn") && table.contains("explicit"),
        "{table}"
    );
    assert!(l
        .ok("2025-04-01", &["history", "nobody"])
        .contains("no events"));
}

#[test]
fn consenting_feed_and_changes() {
    let l = Ledger::ljmu();
    l.give("2024-09-16", &with(&["s1", "jmsu.data-sharing"], NOTICE));
    l.give("2024-09-16", &with(&["s2", "jmsu.data-sharing"], NOTICE));
    l.ok(
        "2025-03-03T10:00:00Z",
        &["withdraw", "s2", "jmsu.data-sharing"],
    );
    // The feed's purpose lists a recipient: it must be asked about it.
    let err = l.fails(
        3,
        "2025-03-03T12:00:00Z",
        &["consenting", "jmsu.data-sharing"],
    );
    assert!(
        err.contains("lists recipients") && err.contains("JMSU"),
        "{err}"
    );
    l.fails(
        3,
        "2025-03-03T12:00:00Z",
        &["consenting", "jmsu.data-sharing", "--recipient", "jmsu"],
    );
    let feed = ["consenting", "jmsu.data-sharing", "--recipient", "JMSU"];
    let out = l.run("2025-03-03T12:00:00Z", &feed);
    assert!(out.status.success());
    let csv = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "subject,since,until,event_id");
    // "now" was the local day 16 September (BST): the feed's times are UTC.
    assert!(
        lines[1].starts_with("s1,2024-09-15T23:00:00.000Z,"),
        "{csv}"
    );
    // Nothing but the header and the rows: what answered is on stderr...
    assert_eq!(lines.len(), 2, "{csv}");
    let said = String::from_utf8(out.stderr).unwrap();
    assert!(
        said.starts_with(
            "consenting jmsu.data-sharing → JMSU at 2025-03-03T12:00:00.000Z as known at "
        ) && said.contains(": 1 subjects; head ")
            && said.trim_end().ends_with(&l.head()),
        "{said}"
    );
    // ...or in a file of its own.
    let side = l.file("feed-head.csv");
    let again = l.ok(
        "2025-03-03T12:00:00Z",
        &with(&feed, &["--head-file", side.to_str().unwrap()]),
    );
    assert_eq!(again, csv);
    let side = std::fs::read_to_string(&side).unwrap();
    assert_eq!(
        side,
        format!(
            "purpose,recipient,at,as_known_at,subjects,head\njmsu.data-sharing,JMSU,2025-03-03T12:00:00.000Z,2025-03-03T12:00:00.000Z,1,{}\n",
            l.head()
        )
    );
    // at a past time, both
    let past = l.ok("2025-03-04", &with(&feed, &["--at", "2025-01-01"]));
    assert!(past.contains("\ns1,") && past.contains("\ns2,"), "{past}");
    // As known at: the feed as it could have been extracted before the withdrawal
    // was recorded (R9).
    let known = l.json(
        "2025-03-04",
        &with(
            &feed,
            &[
                "--at",
                "2025-03-04",
                "--as-known-at",
                "2025-03-03T09:00:00Z",
            ],
        ),
    );
    assert_eq!(known["subjects"].as_array().unwrap().len(), 2, "{known}");
    assert_eq!(known["as_known_at"], "2025-03-03T09:00:00.000Z");
    let known = l.json(
        "2025-03-04",
        &with(
            &feed,
            &["--at", "2025-03-04", "--known-at", "2025-03-03T11:00:00Z"],
        ),
    );
    assert_eq!(known["subjects"].as_array().unwrap().len(), 1, "{known}");
    let j = l.ok("2025-03-04", &with(&feed, &["--format", "json"]));
    let j: Value = serde_json::from_str(&j).unwrap();
    assert_eq!(j["subjects"].as_array().unwrap().len(), 1);
    assert_eq!(
        j["head"]["size"].as_u64().unwrap().to_string() + ":" + j["head"]["root"].as_str().unwrap(),
        l.head()
    );
    assert_eq!(l.json("2025-03-04", &feed)["subjects"][0]["subject"], "s1");
    l.fails(3, "2025-03-04", &["consenting", "nope"]);

    let size: u64 = l.head().split(':').next().unwrap().parse().unwrap();
    let c = l.json(
        "2025-03-04",
        &[
            "changes",
            "--since",
            &(size - 3).to_string(),
            "--limit",
            "2",
        ],
    );
    let events = c["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["seq"].as_u64().unwrap(), size - 3);
    assert_eq!(c["next"].as_u64().unwrap(), size - 1);
    let table = l.ok("2025-03-04", &["changes", "--since", "0", "--limit", "3"]);
    assert!(
        table.contains("notice_defined") && table.contains("continue with --since 3"),
        "{table}"
    );
}

#[test]
fn export_is_a_complete_subject_access_copy() {
    let l = Ledger::ljmu();
    l.give("2024-09-16", &with(&["s1", "jmsu.data-sharing"], NOTICE));
    l.give(
        "2025-01-10",
        &[
            "s1",
            "mobility.health",
            "--notice",
            "ljmu.international-relations@1",
            "--method",
            "web_form",
            "--explicit",
        ],
    );
    l.ok("2025-03-03", &["withdraw", "s1", "jmsu.data-sharing"]);
    l.give("2024-09-16", &with(&["s2", "jmsu.data-sharing"], NOTICE));
    let path = l.file("sar.json");
    l.ok(
        "2025-09-15",
        &["export", "s1", "-o", path.to_str().unwrap()],
    );
    let x: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for key in [
        "format",
        "subject",
        "exported_at",
        "events",
        "purposes",
        "notices",
        "statuses",
        "head",
    ] {
        assert!(x.get(key).is_some(), "export lacks {key}");
    }
    assert_eq!(x["subject"], "s1");
    // "now" was the local day 15 September (BST); JSON carries UTC.
    assert_eq!(x["exported_at"], "2025-09-14T23:00:00.000Z");
    let events = x["events"].as_array().unwrap();
    assert_eq!(events.len(), 3);
    assert!(
        events.iter().all(|e| e["subject"] == "s1"),
        "only this subject's events"
    );
    for e in events {
        for key in [
            "id",
            "seq",
            "kind",
            "purpose",
            "effective_at",
            "recorded_at",
            "recorded_by",
        ] {
            assert!(e.get(key).is_some(), "event lacks {key}");
        }
    }
    let purposes: Vec<&str> = x["purposes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(purposes, ["jmsu.data-sharing", "mobility.health"]);
    let notices = x["notices"].as_array().unwrap();
    assert_eq!(notices.len(), 2);
    assert!(notices
        .iter()
        .all(|n| n["sha256"].as_str().unwrap().len() == 64));
    assert!(x["head"]["root"].as_str().unwrap().len() == 64);
    // stdout form
    let s = l.ok("2025-09-15", &["export", "s1"]);
    assert!(s.contains("consent-ledger/subject-export/v1"));
}

#[test]
fn receipts_and_their_checks() {
    let l = Ledger::ljmu();
    let (key, vkey) = log_key(&l);
    let key = key.to_str().unwrap().to_string();
    let id = l.give(
        "2025-01-10T15:00:00Z",
        &[
            "s1",
            "mobility.health",
            "--notice",
            "ljmu.international-relations@1",
            "--method",
            "web_form",
            "--explicit",
        ],
    );
    // A receipt needs a checkpoint: a signed note from a file, or (testing) signed now.
    l.fails(2, "2025-01-10T15:10:00Z", &["receipt", &id]);
    let iso = l.file("receipt.json");
    l.ok(
        "2025-01-10T15:10:00Z",
        &[
            "receipt",
            &id,
            "--sign-with",
            &key,
            "-o",
            iso.to_str().unwrap(),
        ],
    );
    let text = std::fs::read_to_string(&iso).unwrap();
    let r: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(r["format"], "consent-ledger/receipt/v2");
    assert_eq!(r["layout"], "iso27560");
    for key in [
        "checkpoint",
        "event",
        "purpose",
        "notice",
        "configuration",
        "subject",
        "readable",
        "not_proved",
    ] {
        assert!(r.get(key).is_some(), "receipt lacks {key}");
    }
    let x = &r["readable"];
    for key in [
        "record_id",
        "principal",
        "notice",
        "purpose",
        "controller",
        "lawful_basis",
        "collection_method",
        "event",
        "state",
        "validity",
        "withdrawal",
        "recipients",
        "ledger",
    ] {
        assert!(x.get(key).is_some(), "ISO receipt lacks {key}");
    }
    assert_eq!(x["record_id"], id.as_str());
    assert_eq!(x["principal"]["id"], "s1");
    assert_eq!(r["subject"]["id"], "s1");
    assert_eq!(
        x["notice"]["sha256"],
        "7526442e0aa232f483553fee3af3711b412c12306cea48a15cfe77538745de8d"
    );
    assert_eq!(x["lawful_basis"]["special_category"], "Art. 9(2)(a)");
    assert_eq!(x["collection_method"], "web_form");
    assert_eq!(x["event"]["time"], "2025-01-10T15:00:00.000Z");
    assert_eq!(x["state"], "active");
    assert_eq!(x["withdrawal"]["method"], "Email GoAbroad@ljmu.ac.uk.");
    assert_eq!(x["ledger"]["clock"], "simulated");
    assert_eq!(x["ledger"]["log"], "ljmu.ac.uk/consent");
    assert!(
        x.get("current_state").is_none(),
        "the state now is not proved"
    );
    assert!(r["not_proved"][0]
        .as_str()
        .unwrap()
        .starts_with("current_state:"));
    let size: u64 = l.head().split(':').next().unwrap().parse().unwrap();
    assert_eq!(x["ledger"]["checkpoint_size"], size);

    // The same receipt from a checkpoint file.
    let note = l.file("checkpoint.note");
    std::fs::write(&note, r["checkpoint"].as_str().unwrap()).unwrap();
    let from_file = l.ok(
        "2025-01-10T15:10:00Z",
        &["receipt", &id, "--checkpoint", note.to_str().unwrap()],
    );
    let f: Value = serde_json::from_str(&from_file).unwrap();
    assert_eq!(f["readable"], r["readable"]);
    assert_eq!(f["checkpoint"], r["checkpoint"]);

    let k = l.ok(
        "2025-01-10T15:10:00Z",
        &["receipt", &id, "--format", "kantara", "--sign-with", &key],
    );
    let k: Value = serde_json::from_str(&k).unwrap();
    assert_eq!(k["layout"], "kantara");
    let kr = &k["readable"];
    for key in [
        "version",
        "consentTimestamp",
        "collectionMethod",
        "consentReceiptID",
        "language",
        "piiPrincipalId",
        "piiControllers",
        "services",
        "sensitive",
        "spiCat",
    ] {
        assert!(kr.get(key).is_some(), "Kantara receipt lacks {key}");
    }
    assert_eq!(kr["version"], "KI-CR-v1.1.0");
    assert_eq!(kr["services"][0]["purposes"][0]["consentType"], "EXPLICIT");
    assert_eq!(kr["consentTimestamp"], 1_736_521_200);
    let kantara = l.file("kantara.json");
    std::fs::write(&kantara, k.to_string()).unwrap();

    // check-receipt needs no ledger, only the log's verifier key
    let out = Command::new(BIN)
        .args(["check-receipt", iso.to_str().unwrap(), "--log-key", &vkey])
        .env_remove("CONSENT_LEDGER")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("ok:"), "{stdout}");
    for want in ["proved:", "not proved:", "current_state:", "SIMULATED"] {
        assert!(stdout.contains(want), "{want}: {stdout}");
    }
    // The key may also be given as a file.
    let vkey_file = l.file("log.vkey");
    std::fs::write(&vkey_file, format!("{vkey}\n")).unwrap();
    l.ok(
        "2025-01-11",
        &[
            "check-receipt",
            kantara.to_str().unwrap(),
            "--log-key",
            vkey_file.to_str().unwrap(),
        ],
    );
    let c = l.json(
        "2025-01-11",
        &[
            "check-receipt",
            iso.to_str().unwrap(),
            "--log-key",
            &vkey,
            "--head",
            &l.head(),
        ],
    );
    assert_eq!(c["consistency_ok"], true);
    assert_eq!(c["event_id"], id.as_str());
    // No key, a wrong key, a malformed key.
    l.fails(2, "2025-01-11", &["check-receipt", iso.to_str().unwrap()]);
    let other = consent_note::SigningKey::from_seed(
        "ljmu.ac.uk/consent",
        consent_note::SignatureType::Ed25519,
        &[8; 32],
    )
    .unwrap()
    .verifier_key()
    .to_string();
    l.fails(
        1,
        "2025-01-11",
        &["check-receipt", iso.to_str().unwrap(), "--log-key", &other],
    );
    l.fails(
        2,
        "2025-01-11",
        &["check-receipt", iso.to_str().unwrap(), "--log-key", "nope"],
    );
    // A witness key given: by default its cosignature is required (there is none).
    let witness = consent_note::SigningKey::from_seed(
        "dpo.ljmu.ac.uk/witness",
        consent_note::SignatureType::CosignatureV1,
        &[9; 32],
    )
    .unwrap()
    .verifier_key()
    .to_string();
    let base = ["check-receipt", iso.to_str().unwrap(), "--log-key", &vkey];
    l.fails(1, "2025-01-11", &with(&base, &["--witness-key", &witness]));
    l.ok(
        "2025-01-11",
        &with(&base, &["--witness-key", &witness, "--quorum", "0"]),
    );
    l.fails(2, "2025-01-11", &with(&base, &["--quorum", "1"]));

    // Tampered receipts are rejected (exit 1); the core tests try every field.
    let check = |v: &Value, code: i32| {
        let p = l.file("edited.json");
        std::fs::write(&p, v.to_string()).unwrap();
        l.fails(
            code,
            "2025-01-11",
            &["check-receipt", p.to_str().unwrap(), "--log-key", &vkey],
        )
    };
    for (pointer, bad) in [
        (
            "/readable/purpose/id",
            Value::String("jmsu.marketing".into()),
        ),
        (
            "/readable/event/time",
            Value::String("2020-01-01T00:00:00.000Z".into()),
        ),
        ("/readable/explicit", Value::Bool(false)),
        ("/readable/state", Value::String("withdrawn".into())),
        ("/readable/controller/name", Value::String("JMSU".into())),
        ("/readable/ledger/clock", Value::String("system".into())),
        ("/subject/id", Value::String("s2".into())),
        ("/event/proof/0", Value::String("A".repeat(43) + "=")),
    ] {
        let mut t = r.clone();
        *t.pointer_mut(pointer).unwrap() = bad;
        let err = check(&t, 1);
        assert!(!err.contains("s2"), "errors name no subject: {err}");
    }
    let mut t = r.clone();
    t["configuration"] = r["event"].clone();
    check(&t, 1);
    // A version-1 receipt is not accepted any more; "{}" is not a receipt; not JSON.
    check(
        &serde_json::json!({"record_id": id, "ledger_proof": {"head": "1:00"}}),
        1,
    );
    check(&serde_json::json!({}), 1);
    let p = l.file("not-a-receipt.json");
    std::fs::write(&p, "not json").unwrap();
    l.fails(
        2,
        "2025-01-11",
        &["check-receipt", p.to_str().unwrap(), "--log-key", &vkey],
    );

    // a later head needs a consistency proof
    let old = l.head();
    l.give("2025-02-01", &with(&["s2", "jmsu.data-sharing"], NOTICE));
    l.ok(
        "2025-02-02",
        &["withdraw", "s1", "mobility.health", "--method", "email"],
    );
    let new = l.head();
    fn later<'a>(base: &[&'a str], head: &'a str) -> Vec<&'a str> {
        with(base, &["--head", head])
    }
    let err = l.fails(7, "2025-02-03", &later(&base, &new));
    assert!(err.contains("prove consistency"), "{err}");
    let proof = l.file("consistency.json");
    l.ok(
        "2025-02-03",
        &["prove", "consistency", &old, "-o", proof.to_str().unwrap()],
    );
    let out = l.ok(
        "2025-02-03",
        &with(
            &later(&base, &new),
            &["--consistency", proof.to_str().unwrap()],
        ),
    );
    assert!(out.contains("extends"), "{out}");
    // the proof does not lead to another head
    let forged = format!("{}:{}", new.split(':').next().unwrap(), "cd".repeat(32));
    l.fails(
        1,
        "2025-02-03",
        &with(
            &later(&base, &forged),
            &["--consistency", proof.to_str().unwrap()],
        ),
    );
    // a tampered consistency proof is rejected
    let mut pj: Value = serde_json::from_str(&std::fs::read_to_string(&proof).unwrap()).unwrap();
    pj["proof"]["path"][0] = Value::String("ee".repeat(32));
    let bad_proof = l.file("bad-consistency.json");
    std::fs::write(&bad_proof, pj.to_string()).unwrap();
    l.fails(
        1,
        "2025-02-03",
        &with(
            &later(&base, &new),
            &["--consistency", bad_proof.to_str().unwrap()],
        ),
    );
    // a smaller head cannot cover the receipt
    let small = format!("3:{}", "ab".repeat(32));
    l.fails(1, "2025-02-03", &later(&base, &small));
    // A receipt after the checkpoint file's size: sign a newer checkpoint.
    let s2 = l.give("2025-02-04", &with(&["s3", "jmsu.data-sharing"], NOTICE));
    let err = l.fails(
        2,
        "2025-02-04",
        &["receipt", &s2, "--checkpoint", note.to_str().unwrap()],
    );
    assert!(err.contains("newer checkpoint"), "{err}");
    // prove consistency from a head the ledger never had
    l.fails(
        1,
        "2025-02-03",
        &[
            "prove",
            "consistency",
            &format!("{}:{}", old.split(':').next().unwrap(), "ab".repeat(32)),
        ],
    );
    l.fails(2, "2025-02-03", &["prove", "consistency", "garbage"]);
    // receipt of a registry event is a usage error
    let first = l.json("2025-02-03", &["changes", "--since", "0", "--limit", "1"])["events"][0]
        ["id"]
        .as_str()
        .unwrap()
        .to_string();
    l.fails(2, "2025-02-03", &["receipt", &first, "--sign-with", &key]);
}

#[test]
fn import_reports_every_bad_row_and_is_all_or_nothing() {
    let l = Ledger::ljmu();
    let good = l.file("feed.csv");
    std::fs::write(
        &good,
        "source_id,subject,purpose,kind,notice,method,recorded_by,effective_at,explicit,evidence\n\
         r1,s1,jmsu.data-sharing,given,jmsu.privacy@1,portal,system:it-registration,2024-09-16T09:00:00Z,,\n\
         r2,s2,jmsu.data-sharing,refused,jmsu.privacy@1,portal,system:it-registration,2024-09-16,,\n\
         r3,s3,mobility.health,given,ljmu.international-relations@1,web_form,subject,2024-09-17,yes,\"{\"\"form\"\":\"\"IR-12\"\"}\"\n",
    )
    .unwrap();
    let out = l.ok("2024-09-18", &["import", good.to_str().unwrap()]);
    assert!(out.contains("imported 3 new events"), "{out}");
    let head = l.head();
    // idempotent
    let rep = l.json("2024-09-19", &["import", good.to_str().unwrap()]);
    assert_eq!(rep["new"], 0);
    assert_eq!(rep["already_recorded"], 3);
    assert_eq!(l.head(), head);
    // A purpose-wide grant counts for each recipient the purpose lists.
    assert_eq!(
        l.json(
            "2024-09-19",
            &["status", "s3", "mobility.health", "--recipient", "dfe"]
        )["state"],
        "given"
    );

    let bad = l.file("bad.csv");
    std::fs::write(
        &bad,
        "source_id,subject,purpose,kind,notice,method,recorded_by,effective_at,explicit,evidence\n\
         b1,s4,jmsu.data-sharing,given,jmsu.privacy@1,portal,subject,2024-09-16,,\n\
         b2,s5,no.such.purpose,given,jmsu.privacy@1,portal,subject,2024-09-16,,\n\
         b3,s6,jmsu.data-sharing,given,jmsu.privacy@1,portal,subject,last tuesday,,\n\
         b4,s7,mobility.health,given,ljmu.international-relations@1,web_form,subject,2024-09-16,no,\n\
         b5,s8,jmsu.data-sharing,given,,portal,subject,2024-09-16,,\n\
         b6,s9,jmsu.data-sharing,maybe,jmsu.privacy@1,portal,subject,2024-09-16,,\n\
         b7,s10,jmsu.data-sharing,given,jmsu.privacy@1,portal,subject,2024-09-16,,{oops\n\
         r1,s1,jmsu.data-sharing,withdrawn,,portal,subject,2024-09-20,,\n\
         b9,s11,jmsu.data-sharing,withdrawn,,portal,subject,2024-09-20,,\n",
    )
    .unwrap();
    let err = l.fails(5, "2024-09-20", &["import", bad.to_str().unwrap()]);
    let f = bad.to_str().unwrap();
    for (line, why) in [
        (3, "unknown purpose"),
        (4, "effective_at"),
        (5, "explicit"),
        (6, "notice"),
        (7, "unknown EventKind"),
        (8, "evidence"),
        (9, "conflict"),
    ] {
        let want = format!("{f}:{line}: ");
        let hit = err
            .lines()
            .find(|x| x.starts_with(&want))
            .unwrap_or_else(|| panic!("no report for line {line}:\n{err}"));
        assert!(hit.contains(why), "line {line} should say {why}: {hit}");
    }
    assert!(
        !err.contains(&format!("{f}:2:")) && !err.contains(&format!("{f}:10:")),
        "{err}"
    );
    assert_eq!(l.head(), head, "all or nothing: nothing written");
    assert_eq!(
        l.json(
            "2024-09-20",
            &["status", "s4", "jmsu.data-sharing", "--recipient", "JMSU"]
        )["state"],
        "never_asked"
    );

    // dry run: same report, nothing written
    let rep = l.run(
        "2024-09-20",
        &["--json", "import", bad.to_str().unwrap(), "--dry-run"],
    );
    assert_eq!(rep.status.code(), Some(5));
    let rep: Value = serde_json::from_slice(&rep.stdout).unwrap();
    assert_eq!(rep["rejected"].as_array().unwrap().len(), 7);
    assert_eq!(rep["committed"], false);
    assert_eq!(l.head(), head);

    // --skip-invalid: the good rows land, the bad are still reported
    let rep = l.run(
        "2024-09-20",
        &["--json", "import", bad.to_str().unwrap(), "--skip-invalid"],
    );
    assert_eq!(rep.status.code(), Some(5));
    let rep: Value = serde_json::from_slice(&rep.stdout).unwrap();
    assert_eq!(rep["new"], 2);
    assert_eq!(rep["committed"], true);
    let lines: Vec<u64> = rep["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [3, 4, 5, 6, 7, 8, 9]);
    assert_eq!(
        l.json(
            "2024-09-21",
            &["status", "s4", "jmsu.data-sharing", "--recipient", "JMSU"]
        )["state"],
        "given"
    );
    assert_eq!(
        l.json(
            "2024-09-21",
            &["status", "s11", "jmsu.data-sharing", "--recipient", "JMSU"]
        )["state"],
        "withdrawn"
    );

    // JSON Lines, with a malformed line and a blank line
    let jl = l.file("feed.jsonl");
    std::fs::write(
        &jl,
        "{\"source_id\":\"j1\",\"subject\":\"s20\",\"purpose\":\"jmsu.marketing\",\"kind\":\"given\",\"notice\":{\"id\":\"jmsu.privacy\",\"version\":\"1\"},\"method\":\"web_form\",\"explicit\":false,\"evidence\":{\"ip\":\"10.0.0.1\"}}\n\
         \n\
         {\"subject\":\"s21\",\"purpose\":\"jmsu.marketing\"\n\
         {\"subject\":\"s22\",\"purpose\":\"jmsu.marketing\",\"kind\":\"given\",\"colour\":\"red\"}\n\
         [1,2]\n",
    )
    .unwrap();
    let err = l.fails(5, "2024-09-22", &["import", jl.to_str().unwrap()]);
    let f = jl.to_str().unwrap();
    assert!(err.contains(&format!("{f}:3: malformed JSON")), "{err}");
    assert!(
        err.contains(&format!("{f}:4: unknown column `colour`")),
        "{err}"
    );
    assert!(err.contains(&format!("{f}:5: not a JSON object")), "{err}");
    let fixed = l.file("fixed.ndjson");
    std::fs::write(
        &fixed,
        std::fs::read_to_string(&jl)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    l.ok("2024-09-22", &["import", fixed.to_str().unwrap()]);
    assert_eq!(
        l.json("2024-09-22", &["status", "s20", "jmsu.marketing"])["state"],
        "given"
    );
    let txt = l.file("feed.txt");
    std::fs::write(&txt, "").unwrap();
    l.fails(2, "2024-09-22", &["import", txt.to_str().unwrap()]);
    l.ok(
        "2024-09-22",
        &["import", txt.to_str().unwrap(), "--format", "jsonl"],
    );
    l.fails(
        3,
        "2024-09-22",
        &["import", l.file("missing.csv").to_str().unwrap()],
    );
}

#[test]
fn erase_then_withdraw_then_verify() {
    let l = Ledger::ljmu();
    l.give("2024-09-16", &with(&["s1", "jmsu.data-sharing"], NOTICE));
    l.give(
        "2024-09-16",
        &with(
            &["s1", "jmsu.marketing", "--evidence", r#"{"ip":"10.1.2.3"}"#],
            NOTICE,
        ),
    );
    let before = l.head();
    let r = l.json(
        "2031-09-01",
        &[
            "erase",
            "s1",
            "--reason",
            "retention ended",
            "--actor",
            "staff:dpo-01",
        ],
    );
    assert_eq!(r["events_erased"], 2);
    assert_eq!(
        l.json(
            "2031-09-01",
            &["status", "s1", "jmsu.data-sharing", "--recipient", "JMSU"]
        )["state"],
        "erased"
    );
    l.fails(
        4,
        "2031-09-02",
        &with(&["give", "s1", "jmsu.data-sharing"], NOTICE),
    );
    l.fails(4, "2031-09-02", &["erase", "s1", "--reason", "again"]);
    l.fails(2, "2031-09-02", &["erase", "s2", "--reason", " "]);
    l.ok(
        "2031-09-02",
        &[
            "withdraw",
            "s1",
            "jmsu.marketing",
            "--recorded-by",
            "staff:dpo-01",
        ],
    );
    let changes = l.json("2031-09-03", &["changes", "--since", "20"]);
    let text = changes.to_string();
    assert!(
        !text.contains("\"s1\"") && !text.contains("10.1.2.3"),
        "personal data left: {text}"
    );
    let out = l.ok("2031-09-03", &["verify"]);
    assert!(out.starts_with("ok:"), "{out}");
    l.ok("2031-09-03", &["verify", "--against", &before]);
    let v = l.json("2031-09-03", &["verify"]);
    assert_eq!(v["ok"], true);
}

#[test]
fn verify_detects_tampering() {
    let l = Ledger::ljmu();
    l.give("2024-09-16", &with(&["s1", "jmsu.data-sharing"], NOTICE));
    l.give("2024-09-16", &with(&["s2", "jmsu.data-sharing"], NOTICE));
    let head = l.head();
    // a head of the right size but another root: rewritten
    let size = head.split(':').next().unwrap();
    let err = l.fails(
        1,
        "2024-09-17",
        &[
            "verify",
            "--against",
            &format!("{size}:{}", "ab".repeat(32)),
        ],
    );
    assert!(err.contains("TAMPERED"), "{err}");
    // a head from the future: truncated
    l.fails(
        1,
        "2024-09-17",
        &["verify", "--against", &format!("999:{}", "ab".repeat(32))],
    );
    l.fails(2, "2024-09-17", &["verify", "--against", "nonsense"]);
    // rewrite an event behind the ledger's back
    {
        let conn = rusqlite::Connection::open(&l.path).unwrap();
        conn.execute(
            "UPDATE events SET method = 'paper' WHERE seq = (SELECT max(seq) FROM events)",
            [],
        )
        .unwrap();
    }
    let err = l.fails(1, "2024-09-17", &["verify"]);
    assert!(
        err.contains("TAMPERED") && err.contains("first bad event"),
        "{err}"
    );
    let v = l.run("2024-09-17", &["--json", "verify"]);
    assert_eq!(v.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&v.stdout).unwrap();
    assert_eq!(v["ok"], false);
}

#[test]
fn init_twice_reports_the_existing_ledger() {
    let l = Ledger::ljmu();
    let out = l.ok("2024-09-02", &["init"]);
    assert!(out.contains("already exists"), "{out}");
    let j = l.json("2024-09-02", &["head"]);
    assert_eq!(j["head"], l.head().as_str());
}

#[test]
fn demo_script_plays_the_scenario() {
    let out_dir = tempfile::tempdir().unwrap();
    // The demo checks the notice texts when it finds them; it is told where they are
    // (and the test fails if they are missing), so that it cannot skip the check.
    let seeds = seeds();
    let out = Command::new("bash")
        .arg(repo_root().join("examples/ljmu/demo.sh"))
        .arg(BIN)
        .current_dir(repo_root())
        .env("CONSENT_DEMO_OUT", out_dir.path())
        .env("CONSENT_SEEDS", &seeds)
        .env_remove("CONSENT_LEDGER")
        .env_remove("CONSENT_NOW")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "demo failed:\n{stdout}\n{stderr}");
    for want in [
        "== 1. A new ledger and the registry",
        "(time zone Europe/London)",
        "imported 4 new events",
        "4 already on record",
        // The JMSU feed names its recipient; without it the question is refused.
        "jmsu.data-sharing,JMSU,2024-09-20T06:00:00.000Z,2024-09-20T06:00:00.000Z,3,",
        "lists recipients: ask about one of them",
        "(exit 3, as expected)",
        "never_asked",
        // Local times with their offset; the academic year ends at midnight BST.
        "lapses     2025-08-01 00:00+01:00",
        "must be explicit",
        "does not cover purpose `mobility.vaccination`",
        "(exit 4, as expected)",
        // A course rep counted from a January course start.
        "counted from  2025-01-13 00:00+00:00",
        "lapses        2026-01-13 00:00+00:00",
        "downstream by  2025-03-04 10:00+00:00",
        "(exit 11, as expected)",
        // A withdrawal from My Engagement is an objection; staff may overrule it.
        "recorded: objected · engagement.monitoring",
        "(exit 2, as expected)",
        "recorded: objection_overruled · engagement.monitoring",
        // A material change: the earlier grant needs renewal.
        "material change (recipients)",
        "needs_renewal — needs renewal",
        "granted under  purpose version 1 (version 2 in force, material change v2: recipients)",
        "asked at     2025-08-01 00:45+01:00",
        "expired — expired",
        "asked at     2025-07-31 23:45Z",
        "subject-access copy of 770001",
        "subject's copy of 770001 (HTML",
        "(exit 7, as expected)",
        "extends the receipt's head",
        "SIMULATED: the ledger proves it was created with a simulated clock",
        "(exit 1, as expected)",
        "dry run: erasing 770002 would blank",
        "head unchanged",
        "erased 770002",
        "77OO4    unknown",
        "(exit 5, as expected)",
        "readmitted 770002",
        "subject_readmitted",
        "ok: 41 events, every hash recomputed",
        "SIMULATED: this ledger was created with a simulated clock",
        "the log still extends",
        // Issue 13: keys, a checkpoint cosigned by two witnesses and published, an
        // insider's rewrite caught by the published copy and by both witnesses.
        "first checkpoint of this log: taken on trust",
        "(it extends size 29, cosigned before)",
        "2 of the 2 witness cosignatures required",
        "ok: the log holds the published checkpoint",
        "cosigned by dpo.ljmu.ac.uk/witness and jmsu.org.uk/witness",
        "TAMPERED: the log does not hold the published checkpoint",
        "the log was rewritten before size 42",
        "refused to publish",
        "FORK: log `ljmu.ac.uk/consent` signed two trees of size 42",
        "evidence of refusals",
        // Issue 15: the JMSU feed acts on the opt-out a day late.
        "(exit 12, as expected)",
        "acknowledged late: 1",
        "demo complete",
    ] {
        assert!(
            stdout.contains(want),
            "demo output lacks {want:?}:\n{stdout}\n{stderr}"
        );
    }
    assert!(stdout.contains("notice texts found in"), "{stdout}");
    assert_eq!(
        stdout.matches("text checked").count(),
        NOTICE_TEXTS,
        "{stdout}"
    );
    for f in [
        "ledger.db",
        "receipt-770001-mobility.json",
        "receipt-770001-mobility.kantara.json",
        "sar-770001.json",
        "sar-770001.html",
        "retention-2031-report.json",
        "consistency.json",
        "receipt-770002-withdrawal.json",
        "keys/ljmu-log.key",
        "published/checkpoint",
        "published/checkpoints/42",
    ] {
        assert!(out_dir.path().join(f).exists(), "demo did not write {f}");
    }
}

// ---- issue 11: the calendar, recipients, renewal, objections, erasure --------------

/// The phrase every time option's help must carry (R5).
const AT_MEANS: &str =
    "the start of 1 October 2024 in the ledger's time zone, Europe/London unless set at init";

fn help_of(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{args:?} --help");
    // clap wraps long help to the terminal: join the lines to find the phrase.
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn every_time_option_says_what_a_date_means() {
    for (cmd, options) in [
        (&["status"][..], &["--at", "--known-at"][..]),
        (&["consenting"][..], &["--at", "--known-at"][..]),
        (&["give"][..], &["--at", "--expires", "--validity-from"][..]),
        (&["withdraw"][..], &["--at"][..]),
        (&["report"][..], &["--from", "--to"][..]),
    ] {
        let help = help_of(cmd);
        // ... and the global --now.
        assert_eq!(
            help.matches(AT_MEANS).count(),
            options.len() + 1,
            "{cmd:?} --help should explain each of {options:?}:\n{help}"
        );
        for o in options {
            assert!(help.contains(o), "{cmd:?} --help lacks {o}");
        }
    }
    assert!(help_of(&["status"]).contains("--as-known-at"));
    assert!(help_of(&["consenting"]).contains("--as-known-at"));
    let top = help_of(&[]);
    for want in [
        "--utc",
        "JSON and the CSV feed always carry UTC RFC 3339",
        "Times in JSON are always UTC",
        "11 status --check: not permitted",
        "3 not found: no ledger file, unknown purpose, notice, recipient or event; no --recipient for a purpose that lists recipients; erase of an id with no events",
    ] {
        assert!(top.contains(want), "--help lacks {want:?}:\n{top}");
    }
    assert!(help_of(&["init"]).contains("--time-zone"));
    let status = help_of(&["status"]);
    assert!(
        status.contains("0 when processing is permitted") && status.contains("11 when it is not"),
        "{status}"
    );
}

#[test]
fn dates_are_local_days_and_times_are_shown_with_their_offset() {
    let l = Ledger::ljmu();
    // A grant on the Freshers' Fair, lapsing at the end of the academic year (31 July).
    let g = l.json(
        "2024-09-24T13:15:00Z",
        &with(&["give", "s1", "jmsu.project.freshers-tasters"], NOTICE),
    );
    // Midnight in London at the start of 1 August is 23:00 UTC on 31 July (BST).
    assert_eq!(g["expires_at"], "2025-07-31T23:00:00.000Z");
    let q = ["status", "s1", "jmsu.project.freshers-tasters"];
    // --at 2025-08-01 is local midnight: the grant has just lapsed.
    let st = l.json("2025-09-01", &with(&q, &["--at", "2025-08-01"]));
    assert_eq!(st["at"], "2025-07-31T23:00:00.000Z");
    assert_eq!(st["state"], "expired");
    // A minute before, local time without an offset: still in force.
    let st = l.json("2025-09-01", &with(&q, &["--at", "2025-07-31T23:59"]));
    assert_eq!(st["at"], "2025-07-31T22:59:00.000Z");
    assert_eq!(st["state"], "given");
    // An offset is exact.
    let st = l.json("2025-09-01", &with(&q, &["--at", "2025-07-31T23:30:00Z"]));
    assert_eq!(st["state"], "expired", "23:30Z is 00:30 BST on 1 August");
    // 00:45 BST on 1 August, "now" given as a local time: lapsed, though in UTC it is
    // still 31 July.
    let st = l.json("2025-08-01T00:45", &q);
    assert_eq!(st["at"], "2025-07-31T23:45:00.000Z");
    assert_eq!(st["state"], "expired");
    let st = l.json("2025-08-01T00:45:00+01:00", &q);
    assert_eq!(st["state"], "expired");
    // Tables show the local time with its offset ...
    let human = l.ok("2025-08-01T00:45", &q);
    assert!(
        human.contains("since        2025-08-01 00:00+01:00")
            && human.contains("asked at     2025-08-01 00:45+01:00"),
        "{human}"
    );
    let human = l.ok("2025-07-31T12:00:00Z", &q);
    assert!(
        human.contains("until        2025-08-01 00:00+01:00"),
        "{human}"
    );
    // ... or UTC with --utc, which also reads times without an offset as UTC.
    let human = l.ok("2025-07-31T23:45", &with(&["--utc"], &q));
    assert!(
        human.contains("expired")
            && human.contains("since        2025-07-31 23:00Z")
            && human.contains("asked at     2025-07-31 23:45Z"),
        "{human}"
    );
    let st = l.json(
        "2025-09-01",
        &with(&["--utc"], &with(&q, &["--at", "2025-07-31"])),
    );
    assert_eq!(st["at"], "2025-07-31T00:00:00.000Z");
    assert_eq!(st["state"], "given");
    // JSON stays UTC whatever --utc says.
    let a = l.json(
        "2025-09-01T12:00:00Z",
        &with(&q, &["--at", "2025-07-31T10:00:00Z"]),
    );
    let b = l.json(
        "2025-09-01T12:00:00Z",
        &with(&["--utc"], &with(&q, &["--at", "2025-07-31T10:00:00Z"])),
    );
    assert_eq!(a, b);
    // In winter London is on GMT: a local date is midnight UTC.
    let st = l.json("2025-09-01", &with(&q, &["--at", "2025-01-15"]));
    assert_eq!(st["at"], "2025-01-15T00:00:00.000Z");
    // A backdated paper form: --at a date is the start of that local day.
    let e = l.json(
        "2024-10-05T11:00:00Z",
        &with(
            &["give", "s2", "jmsu.marketing", "--at", "2024-10-01"],
            NOTICE,
        ),
    );
    assert_eq!(e["effective_at"], "2024-09-30T23:00:00.000Z");
    // An import reads dates the same way.
    let csv = l.file("feed.csv");
    std::fs::write(
        &csv,
        "source_id,subject,purpose,kind,notice,method,effective_at\n\
         r1,s3,jmsu.marketing,given,jmsu.privacy@1,portal,2024-09-16\n",
    )
    .unwrap();
    l.ok("2024-09-18", &["import", csv.to_str().unwrap()]);
    let h = l.json("2024-09-18", &["history", "s3"]);
    assert_eq!(h[0]["effective_at"], "2024-09-15T23:00:00.000Z");
    // Nonsense is a usage error.
    l.fails(2, "2025-09-01", &with(&q, &["--at", "2025-02-30"]));
    l.fails(2, "2025-09-01", &with(&q, &["--at", "31/07/2025"]));
}

#[test]
fn init_sets_the_time_zone_once() {
    let l = Ledger::ljmu_in("UTC");
    let j = l.json("2024-09-02", &["init"]);
    assert_eq!(j["time_zone"], "UTC");
    assert_eq!(j["created"], false);
    assert!(l.ok("2024-09-02", &["init"]).contains("time zone UTC"));
    // Dates are UTC days in this ledger, and the academic year ends at midnight UTC.
    let g = l.json(
        "2024-09-24T13:15:00Z",
        &with(&["give", "s1", "jmsu.project.freshers-tasters"], NOTICE),
    );
    assert_eq!(g["expires_at"], "2025-08-01T00:00:00.000Z");
    let st = l.json(
        "2025-09-01",
        &[
            "status",
            "s1",
            "jmsu.project.freshers-tasters",
            "--at",
            "2025-08-01",
        ],
    );
    assert_eq!(st["at"], "2025-08-01T00:00:00.000Z");
    assert!(l
        .ok(
            "2025-07-31T12:00:00Z",
            &["status", "s1", "jmsu.project.freshers-tasters"]
        )
        .contains("until        2025-08-01 00:00+00:00"));
    // The zone is fixed at creation: another one is refused, a bad one too.
    l.fails(2, "2024-09-02", &["init", "--time-zone", "Europe/Paris"]);
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["init", "--time-zone", "Mars/Olympus_Mons"])
        .env("CONSENT_LEDGER", dir.path().join("l.db"))
        .env("CONSENT_NOW", "2024-09-01")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("time zone"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The default is Europe/London.
    let l = Ledger::new();
    assert_eq!(
        l.json("2024-09-02", &["init"])["time_zone"],
        "Europe/London"
    );
}

#[test]
fn status_check_answers_by_exit_code() {
    let l = Ledger::ljmu();
    l.give("2024-09-16", &with(&["s1", "jmsu.data-sharing"], NOTICE));
    l.give("2024-09-16", &with(&["s2", "jmsu.data-sharing"], NOTICE));
    l.ok("2025-03-03", &["withdraw", "s2", "jmsu.data-sharing"]);
    let ask = |s: &'static str, p: &'static str| -> Vec<&'static str> {
        let mut a = vec!["status", s, p, "--check"];
        if p == "jmsu.data-sharing" {
            a.extend(["--recipient", "JMSU"]);
        }
        a
    };
    // permitted: consent in force, or a purpose not based on consent
    let out = l.ok("2025-03-04", &ask("s1", "jmsu.data-sharing"));
    assert!(out.contains("given"), "{out}");
    l.ok("2025-03-04", &ask("s1", "engagement.monitoring"));
    // not permitted: withdrawn, never asked, objected — exit 11, the answer still printed
    let out = l.run("2025-03-04", &ask("s2", "jmsu.data-sharing"));
    assert_eq!(out.status.code(), Some(11));
    assert!(String::from_utf8_lossy(&out.stdout).contains("withdrawn"));
    assert!(out.stderr.is_empty(), "no error message for a no");
    l.fails(11, "2025-03-04", &ask("s3", "jmsu.marketing"));
    l.ok("2025-03-04", &["object", "s1", "engagement.monitoring"]);
    l.fails(11, "2025-03-05", &ask("s1", "engagement.monitoring"));
    // --json too
    let out = l.run(
        "2025-03-04",
        &with(&["--json"], &ask("s2", "jmsu.data-sharing")),
    );
    assert_eq!(out.status.code(), Some(11));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["permits"], false);
    // a past time
    l.ok(
        "2025-03-04",
        &with(&ask("s2", "jmsu.data-sharing"), &["--at", "2025-02-01"]),
    );
    // errors keep their codes: never taken for a yes or a no
    l.fails(3, "2025-03-04", &["status", "s1", "no.such", "--check"]);
    l.fails(
        3,
        "2025-03-04",
        &["status", "s1", "jmsu.data-sharing", "--check"],
    );
    l.fails(
        2,
        "2025-03-04",
        &["status", "s1", "jmsu.marketing", "--check", "--at", "soon"],
    );
    // without --check, unchanged: a no exits 0
    l.ok(
        "2025-03-04",
        &["status", "s2", "jmsu.data-sharing", "--recipient", "JMSU"],
    );
}

#[test]
fn recipients_are_named_as_the_purpose_lists_them() {
    let l = Ledger::ljmu();
    l.give("2024-09-16", &with(&["s1", "jmsu.data-sharing"], NOTICE));
    // Asking about a purpose that lists recipients without one, or with another
    // spelling, is an error that names the valid ids (exit 3, as documented).
    let err = l.fails(3, "2024-09-17", &["status", "s1", "jmsu.data-sharing"]);
    assert!(err.contains("JMSU"), "{err}");
    let err = l.fails(
        3,
        "2024-09-17",
        &["status", "s1", "jmsu.data-sharing", "--recipient", "jmsu"],
    );
    assert!(err.contains("`jmsu`") && err.contains("JMSU"), "{err}");
    l.fails(
        3,
        "2024-09-17",
        &["status", "s1", "jmsu.marketing", "--recipient", "JMSU"],
    );
    let w = ["--notice", "ljmu.wellbeing@1", "--method", "in_person"];
    let err = l.fails(
        3,
        "2024-09-17",
        &with(
            &[
                "give",
                "s1",
                "wellbeing.share-external",
                "--recipient",
                "NHS",
            ],
            &w,
        ),
    );
    assert!(
        err.contains("student-finance-england, nhs, landlord"),
        "{err}"
    );
    // A withdrawal naming an unlisted recipient is never refused: it is recorded for
    // the whole purpose, the text kept as written.
    l.give(
        "2024-09-17",
        &with(
            &["s1", "wellbeing.share-external", "--recipient", "nhs"],
            &w,
        ),
    );
    let ev = l.json(
        "2024-09-18",
        &[
            "withdraw",
            "s1",
            "wellbeing.share-external",
            "--recipient",
            "NHS",
        ],
    );
    assert_eq!(ev["recipient"], Value::Null);
    assert_eq!(ev["details"]["unlisted_recipient"], "NHS");
    let out = l.ok(
        "2024-09-18",
        &[
            "withdraw",
            "s1",
            "wellbeing.share-external",
            "--recipient",
            "Landlord",
        ],
    );
    assert!(out.contains("recorded for the whole purpose"), "{out}");
    let st = l.json(
        "2024-09-19",
        &[
            "status",
            "s1",
            "wellbeing.share-external",
            "--recipient",
            "nhs",
        ],
    );
    assert_eq!(st["state"], "withdrawn");
    let h = l.ok("2024-09-19", &["history", "s1"]);
    assert!(
        h.contains("recipient `NHS` not listed: purpose-wide"),
        "{h}"
    );
}

#[test]
fn a_material_change_needs_renewal() {
    let l = Ledger::ljmu();
    l.give(
        "2025-01-10T15:00:00Z",
        &[
            "s1",
            "mobility.health",
            "--notice",
            "ljmu.international-relations@1",
            "--method",
            "web_form",
            "--explicit",
        ],
    );
    let add = |extra: &[&'static str]| -> Vec<&'static str> {
        let mut a = vec![
            "purpose",
            "add",
            "mobility.health",
            "--title",
            "Health information for a mobility programme",
            "--controller",
            "LJMU International Relations",
            "--special-category",
            "a",
            "--withdrawal-method",
            "Email GoAbroad@ljmu.ac.uk.",
        ];
        for r in [
            "dfe",
            "british-council",
            "european-commission",
            "partner-university",
            "placement-provider",
            "travel-provider",
        ] {
            a.extend(["--recipient", r]);
        }
        a.extend_from_slice(extra);
        a
    };
    let q = [
        "status",
        "s1",
        "mobility.health",
        "--recipient",
        "partner-university",
    ];
    // A new recipient is material.
    let p = l.json("2025-04-01", &add(&["--recipient", "travel-insurer"]));
    assert_eq!(p["version"], 2);
    assert_eq!(p["material_change"], serde_json::json!(["recipients"]));
    let st = l.json("2025-04-02", &q);
    assert_eq!(st["state"], "needs_renewal");
    assert_eq!(st["permits"], false);
    assert_eq!(st["purpose_version"], 2);
    assert_eq!(st["granted_under_version"], 1);
    let human = l.ok("2025-04-02", &q);
    assert!(
        human.contains("needs_renewal — needs renewal")
            && human.contains("granted under  purpose version 1 (version 2 in force, material change v2: recipients)"),
        "{human}"
    );
    l.fails(11, "2025-04-02", &with(&q, &["--check"]));
    // Before the change it permitted.
    let st = l.json("2025-04-02", &with(&q, &["--at", "2025-03-01"]));
    assert_eq!(st["state"], "given");
    assert_eq!(st["purpose_version"], 1);
    // The feed leaves it out.
    let c = l.json(
        "2025-04-02",
        &["consenting", "mobility.health", "--recipient", "dfe"],
    );
    assert!(c["subjects"].as_array().unwrap().is_empty(), "{c}");
    // A new grant renews.
    l.give(
        "2025-04-10",
        &[
            "s1",
            "mobility.health",
            "--notice",
            "ljmu.international-relations@1",
            "--method",
            "web_form",
            "--explicit",
        ],
    );
    let st = l.json("2025-04-11", &q);
    assert_eq!(st["state"], "given");
    assert_eq!(st["granted_under_version"], 2);
    assert!(!l.ok("2025-04-11", &q).contains("granted under"));
    // A change of wording only is not material; declaring it makes it so.
    let mut same = add(&["--recipient", "travel-insurer"]);
    same[4] = "Health information for your mobility programme";
    let p = l.json("2025-05-01", &same);
    assert_eq!(p["version"], 3);
    assert!(p["material_change"].as_array().unwrap().is_empty());
    assert_eq!(l.json("2025-05-02", &q)["state"], "given");
    let mut declared = same.clone();
    declared[4] = "Health and dietary information for your mobility programme";
    declared.push("--renew-consent");
    let out = l.ok("2025-06-01", &declared);
    assert!(out.contains("material change (declared)"), "{out}");
    assert_eq!(l.json("2025-06-02", &q)["state"], "needs_renewal");
    let show = l.ok("2025-06-02", &["purpose", "show", "mobility.health"]);
    assert!(
        show.contains("declared: earlier grants need renewal"),
        "{show}"
    );
}

#[test]
fn objections_and_their_overruling() {
    let l = Ledger::ljmu();
    // A withdrawal from My Engagement (legitimate interests) is recorded as an objection.
    let ev = l.json(
        "2025-03-10",
        &[
            "withdraw",
            "s1",
            "engagement.monitoring",
            "--method",
            "portal",
        ],
    );
    assert_eq!(ev["kind"], "objected");
    assert_eq!(ev["details"]["asked_as"], "withdrawn");
    let out = l.ok(
        "2025-03-10",
        &[
            "withdraw",
            "s2",
            "engagement.monitoring",
            "--method",
            "portal",
        ],
    );
    assert!(
        out.contains("recorded: objected") && out.contains("recorded as an objection"),
        "{out}"
    );
    let q = ["status", "s1", "engagement.monitoring"];
    assert_eq!(l.json("2025-03-11", &q)["state"], "objected");
    // Only a person may overrule it.
    l.fails(
        2,
        "2025-03-20",
        &["overrule-objection", "s1", "engagement.monitoring"],
    );
    let staff = ["--recorded-by", "staff:dpo-01"];
    let ev = l.json(
        "2025-03-20",
        &with(
            &["overrule-objection", "s1", "engagement.monitoring"],
            &staff,
        ),
    );
    assert_eq!(ev["kind"], "objection_overruled");
    let st = l.json("2025-03-21", &q);
    assert_eq!(st["state"], "not_consent_based");
    assert_eq!(st["permits"], true);
    // Not without an objection in force, and never on a consent purpose.
    let code = l
        .run(
            "2025-03-21",
            &with(
                &["overrule-objection", "s1", "engagement.monitoring"],
                &staff,
            ),
        )
        .status
        .code();
    assert!(matches!(code, Some(2 | 4)), "{code:?}");
    let code = l
        .run(
            "2025-03-21",
            &with(&["overrule-objection", "s3", "jmsu.marketing"], &staff),
        )
        .status
        .code();
    assert!(matches!(code, Some(2 | 4)), "{code:?}");
    let h = l.ok("2025-03-22", &["history", "s2"]);
    assert!(h.contains("asked as a withdrawal"), "{h}");
}

#[test]
fn a_course_rep_counts_from_the_course_start() {
    let l = Ledger::ljmu();
    let g = l.json(
        "2025-01-20T10:00:00Z",
        &with(
            &[
                "give",
                "s1",
                "jmsu.course-rep",
                "--validity-from",
                "2025-01-13",
            ],
            NOTICE,
        ),
    );
    assert_eq!(g["details"]["validity_from"], "2025-01-13T00:00:00.000Z");
    assert_eq!(g["expires_at"], "2026-01-13T00:00:00.000Z");
    let out = l.ok(
        "2025-01-20T10:00:00Z",
        &with(
            &[
                "give",
                "s2",
                "jmsu.course-rep",
                "--validity-from",
                "2024-09-23",
            ],
            NOTICE,
        ),
    );
    // From a September start in BST: the anniversary's local midnight.
    assert!(
        out.contains("counted from  2024-09-23 00:00+01:00")
            && out.contains("lapses        2025-09-23 00:00+01:00"),
        "{out}"
    );
    let q = ["status", "s1", "jmsu.course-rep"];
    assert_eq!(
        l.json("2025-02-01", &with(&q, &["--at", "2026-01-12T23:59"]))["state"],
        "given"
    );
    assert_eq!(
        l.json("2025-02-01", &with(&q, &["--at", "2026-01-13"]))["state"],
        "expired"
    );
    // Only grants carry a start.
    let code = l
        .run(
            "2025-02-01",
            &[
                "withdraw",
                "s1",
                "jmsu.course-rep",
                "--validity-from",
                "2025-01-13",
            ],
        )
        .status
        .code();
    assert_ne!(code, Some(0));
    l.fails(
        2,
        "2025-02-01",
        &with(
            &["give", "s3", "jmsu.course-rep", "--validity-from", "later"],
            NOTICE,
        ),
    );
}

#[test]
fn notices_say_whose_they_are_and_what_they_cover() {
    let l = Ledger::ljmu();
    let text = l.file("n.txt");
    std::fs::write(&text, "the rag week notice").unwrap();
    let add = ["notice", "add", "jmsu.rag", "1", "--title", "RAG week"];
    // Both are required.
    l.fails(
        2,
        "2024-09-02",
        &with(&add, &["--text-file", text.to_str().unwrap()]),
    );
    l.fails(
        2,
        "2024-09-02",
        &with(
            &add,
            &[
                "--controller",
                "JMSU",
                "--text-file",
                text.to_str().unwrap(),
            ],
        ),
    );
    l.ok(
        "2024-09-02",
        &with(
            &add,
            &[
                "--controller",
                "JMSU",
                "--purpose",
                "jmsu.project.*",
                "--purpose",
                "jmsu.marketing",
                "--text-file",
                text.to_str().unwrap(),
            ],
        ),
    );
    let list = l.ok("2024-09-02", &["notice", "list"]);
    assert!(
        list.contains("jmsu.project.*, jmsu.marketing") && list.contains("CONTROLLER"),
        "{list}"
    );
    let rag = ["--notice", "jmsu.rag@1", "--method", "portal"];
    l.give(
        "2024-09-03",
        &with(&["s1", "jmsu.project.freshers-tasters"], &rag),
    );
    l.give("2024-09-03", &with(&["s1", "jmsu.marketing"], &rag));
    let err = l.fails(
        4,
        "2024-09-03",
        &with(&["give", "s1", "jmsu.course-rep"], &rag),
    );
    assert!(err.contains("does not cover"), "{err}");
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// The bytes of the ledger's files (database and WAL), to show nothing was written.
fn ledger_bytes(l: &Ledger) -> Vec<Vec<u8>> {
    let wal = l.path.with_extension("db-wal");
    vec![
        std::fs::read(&l.path).unwrap(),
        std::fs::read(&wal).unwrap_or_default(),
    ]
}

#[test]
fn erasure_refuses_unknown_ids_and_dry_runs_write_nothing() {
    let l = Ledger::ljmu();
    l.give("2024-09-16", &with(&["s1", "jmsu.data-sharing"], NOTICE));
    l.give("2024-09-16", &with(&["s1", "jmsu.marketing"], NOTICE));
    let reason = ["--reason", "retention ended", "--actor", "staff:dpo-01"];
    // A dry run shows what would be blanked and writes nothing.
    let head = l.head();
    let before = ledger_bytes(&l);
    let out = l.ok("2031-09-01", &with(&["erase", "s1", "--dry-run"], &reason));
    assert!(
        out.contains("jmsu.data-sharing")
            && out.contains("jmsu.marketing")
            && out.contains("would blank")
            && out.contains("these 2 events")
            && out.contains("Nothing written"),
        "{out}"
    );
    let j = l.json("2031-09-01", &with(&["erase", "s1", "--dry-run"], &reason));
    assert_eq!(j["dry_run"], true);
    assert_eq!(j["outcome"], "erase");
    assert_eq!(j["events_erased"], 2);
    assert_eq!(
        ledger_bytes(&l),
        before,
        "a dry run changed the ledger file"
    );
    assert_eq!(l.head(), head);
    assert_eq!(
        l.json("2031-09-01", &["status", "s1", "jmsu.marketing"])["state"],
        "given"
    );
    // An unknown id is refused (exit 3), dry run or not, and nothing is recorded ...
    let err = l.fails(3, "2031-09-01", &with(&["erase", "s9"], &reason));
    assert!(err.contains("--force"), "{err}");
    l.fails(
        3,
        "2031-09-01",
        &with(&["erase", "s9", "--dry-run"], &reason),
    );
    assert_eq!(l.head(), head);
    // ... unless forced.
    let out = l.ok(
        "2031-09-01",
        &with(&["erase", "s9", "--dry-run", "--force"], &reason),
    );
    assert!(out.contains("erasure marker would be recorded"), "{out}");
    assert_eq!(l.head(), head);
    let r = l.json("2031-09-01", &with(&["erase", "s9", "--force"], &reason));
    assert_eq!(r["events_erased"], 0);
    // The real erasure; then a dry run of it says it is done already (exit 4).
    let r = l.json("2031-09-02", &with(&["erase", "s1"], &reason));
    assert_eq!(r["events_erased"], 2);
    let out = l.run("2031-09-02", &with(&["erase", "s1", "--dry-run"], &reason));
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stdout).contains("erased already"));
    // --report needs --from-file; SUBJECT and --from-file exclude each other.
    l.fails(
        2,
        "2031-09-02",
        &with(&["erase", "s1", "--report", "r.json"], &reason),
    );
    l.fails(
        2,
        "2031-09-02",
        &with(&["erase", "s1", "--from-file", "ids.txt"], &reason),
    );
    l.fails(2, "2031-09-02", &["erase", "--reason", "x"]);
}

#[test]
fn bulk_erasure_reports_every_id() {
    let l = Ledger::ljmu();
    for s in ["s1", "s2", "s3"] {
        l.give("2024-09-16", &with(&[s, "jmsu.marketing"], NOTICE));
    }
    l.ok(
        "2030-01-01",
        &[
            "erase",
            "s3",
            "--reason",
            "left early",
            "--actor",
            "staff:dpo-01",
        ],
    );
    let ids = l.file("ids.txt");
    std::fs::write(
        &ids,
        "# retention run 2031\ns1\n\n  s2  \ns3\nnobody\ns1\nbad\u{7}id\n",
    )
    .unwrap();
    let reason = [
        "--reason",
        "retention period ended",
        "--actor",
        "staff:dpo-01",
    ];
    let args = with(&["erase", "--from-file", ids.to_str().unwrap()], &reason);
    // A dry run: every outcome predicted, the report written, the ledger untouched.
    let head = l.head();
    let before = ledger_bytes(&l);
    let dry_report = l.file("dry.json");
    let out = l.run(
        "2031-09-01",
        &with(
            &args,
            &["--dry-run", "--report", dry_report.to_str().unwrap()],
        ),
    );
    assert_eq!(out.status.code(), Some(5));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("dry run: 6 ids: 2 would be erased, 1 unknown, 2 already erased, 1 failed"),
        "{stdout}"
    );
    assert_eq!(
        ledger_bytes(&l),
        before,
        "a dry run changed the ledger file"
    );
    assert_eq!(l.head(), head);
    let dry: Value = serde_json::from_str(&std::fs::read_to_string(&dry_report).unwrap()).unwrap();
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["recorded_by"], "staff:dpo-01");
    assert_eq!(dry["outcomes"][0]["outcome"], "would_erase");
    assert_eq!(dry["outcomes"][4]["outcome"], "already_erased", "s1 twice");
    assert_eq!(dry["summary"]["would_erase"], 2);
    assert_eq!(mode(&dry_report), 0o600);
    // The run: each id in its own transaction, each reported; exit 5 for the unknown
    // and the malformed ids, the others erased.
    let report = l.file("report.json");
    let out = l.run(
        "2031-09-01",
        &with(&args, &["--report", report.to_str().unwrap()]),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("6 ids: 2 erased, 1 unknown (not erased), 2 already erased, 1 failed"),
        "{stdout}"
    );
    assert!(stderr.contains("not erased"), "{stderr}");
    assert!(stdout.contains("report written to"), "{stdout}");
    assert_eq!(mode(&report), 0o600, "the report names the ids: owner only");
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(r["format"], "consent-ledger/erasure-report/v1");
    assert_eq!(r["ids"], 6);
    assert_eq!(r["reason"], "retention period ended");
    assert_eq!(r["recorded_by"], "staff:dpo-01");
    assert_eq!(
        r["actor"], r["recorded_by"],
        "the deprecated name, kept one release"
    );
    assert_eq!(r["wal_truncated"], true);
    let outcomes: Vec<(&str, &str)> = r["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["subject"].as_str().unwrap(),
                o["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        &outcomes[..5],
        [
            ("s1", "erased"),
            ("s2", "erased"),
            ("s3", "already_erased"),
            ("nobody", "unknown"),
            ("s1", "already_erased"),
        ]
    );
    assert_eq!(outcomes[5], ("bad\u{7}id", "failed"));
    assert!(r["outcomes"][5]["error"]
        .as_str()
        .unwrap()
        .contains("control character"));
    assert_eq!(r["outcomes"][0]["events_erased"], 1);
    assert_eq!(r["summary"]["erased"], 2);
    assert_eq!(r["summary"]["unknown"], 1);
    assert_eq!(
        l.json("2031-09-02", &["status", "s2", "jmsu.marketing"])["state"],
        "erased"
    );
    // Run again: nothing left to do but the unknown id; --json gives the report.
    let out = l.run("2031-09-02", &with(&["--json"], &args));
    assert_eq!(out.status.code(), Some(5));
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["summary"]["erased"], 0);
    // A file of known ids only: exit 0.
    std::fs::write(&ids, "s1\ns2\n").unwrap();
    l.ok("2031-09-03", &args);
    // An empty or missing file.
    std::fs::write(&ids, "# nothing\n\n").unwrap();
    l.fails(2, "2031-09-03", &args);
    l.fails(
        3,
        "2031-09-03",
        &with(
            &[
                "erase",
                "--from-file",
                l.file("missing.txt").to_str().unwrap(),
            ],
            &reason,
        ),
    );
    assert!(l.ok("2031-09-03", &["verify"]).starts_with("ok:"));
}

#[test]
fn a_returning_student_is_readmitted() {
    let l = Ledger::ljmu();
    l.give("2024-09-16", &with(&["s1", "jmsu.marketing"], NOTICE));
    l.give("2024-09-16", &with(&["s2", "jmsu.marketing"], NOTICE));
    l.ok(
        "2031-09-01",
        &[
            "erase",
            "s1",
            "--reason",
            "retention ended",
            "--actor",
            "staff:dpo-01",
        ],
    );
    let give = with(&["give", "s1", "jmsu.marketing"], NOTICE);
    l.fails(4, "2032-09-10", &give);
    // Only an erased id can be readmitted, by staff or a system, with a reason.
    let by = ["--by", "staff:registry-07"];
    l.fails(
        2,
        "2032-09-10",
        &with(&["readmit", "s2", "--reason", "re-enrolled"], &by),
    );
    l.fails(
        2,
        "2032-09-10",
        &[
            "readmit",
            "s1",
            "--reason",
            "re-enrolled",
            "--by",
            "subject",
        ],
    );
    l.fails(
        2,
        "2032-09-10",
        &["readmit", "s1", "--reason", "re-enrolled"],
    );
    let out = l.ok(
        "2032-09-10",
        &with(
            &["readmit", "s1", "--reason", "re-enrolled for 2032/33"],
            &by,
        ),
    );
    assert!(out.contains("readmitted s1"), "{out}");
    // From then on the id consents like a new one.
    l.ok("2032-09-16", &give);
    assert_eq!(
        l.json("2032-09-17", &["status", "s1", "jmsu.marketing"])["state"],
        "given"
    );
    let h = l.json("2032-09-17", &["history", "s1"]);
    let kinds: Vec<&str> = h
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["given", "subject_erased", "subject_readmitted", "given"],
        "{h}"
    );
    assert_eq!(h[0]["erased"], true);
    assert_eq!(h[2]["details"]["reason"], "re-enrolled for 2032/33");
    let table = l.ok("2032-09-17", &["history", "s1"]);
    assert!(
        table.contains("reason: re-enrolled for 2032/33 · ends erasure #"),
        "{table}"
    );
    // It can be erased again; the JSON form of readmit is the event.
    l.ok(
        "2038-09-01",
        &[
            "erase",
            "s1",
            "--reason",
            "retention ended",
            "--actor",
            "staff:dpo-01",
        ],
    );
    let ev = l.json(
        "2039-09-01",
        &with(&["readmit", "s1", "--reason", "back again"], &by),
    );
    assert_eq!(ev["kind"], "subject_readmitted");
    assert!(l.ok("2039-09-02", &["verify"]).starts_with("ok:"));
}

#[test]
fn the_html_subject_copy_is_written_owner_only() {
    let l = Ledger::ljmu();
    l.give("2024-09-16", &with(&["s1", "jmsu.data-sharing"], NOTICE));
    l.ok("2025-03-03", &["withdraw", "s1", "jmsu.data-sharing"]);
    let html = l.file("copy.html");
    let out = l.ok(
        "2025-09-15",
        &[
            "export-subject",
            "s1",
            "--format",
            "html",
            "-o",
            html.to_str().unwrap(),
        ],
    );
    assert!(out.contains("(HTML"), "{out}");
    assert_eq!(mode(&html), 0o600);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(
        page.contains("Share my student record with the students' union")
            || page.contains("Share my student record with the students&#39; union")
            || page.contains("Share my student record with the students&#x27; union"),
        "the purpose's title"
    );
    // On stdout without -o; `export` is the same command.
    let page2 = l.ok("2025-09-15", &["export", "s1", "--format", "html"]);
    assert!(page2.starts_with("<!DOCTYPE html>"));
    // JSON stays the default.
    let json = l.file("copy.json");
    l.ok(
        "2025-09-15",
        &["export-subject", "s1", "-o", json.to_str().unwrap()],
    );
    assert_eq!(mode(&json), 0o600);
    let x: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(x["format"], "consent-ledger/subject-export/v1");
    l.fails(2, "2025-09-15", &["export", "s1", "--format", "pdf"]);
}

/// Runs `consent ARGS` on the ledger with `input` on stdin.
fn run_with_stdin(l: &Ledger, now: &str, args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(BIN)
        .args(args)
        .env("CONSENT_LEDGER", &l.path)
        .env("CONSENT_NOW", now)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run consent");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

#[test]
fn status_from_file_answers_many_questions_at_once() {
    let l = Ledger::ljmu();
    let granted = l.give("2024-09-16", &with(&["s1", "jmsu.marketing"], NOTICE));
    l.give(
        "2024-09-16",
        &with(&["s2", "jmsu.data-sharing", "--recipient", "JMSU"], NOTICE),
    );
    l.ok("2025-03-03", &["withdraw", "s2", "jmsu.data-sharing"]);
    l.ok("2025-03-03", &["object", "s3", "engagement.monitoring"]);
    let file = l.file("questions.csv");
    let questions = "subject,purpose,recipient\n\
                     s1,jmsu.marketing,\n\
                     s2,jmsu.data-sharing,JMSU\n\
                     \n\
                     s3,engagement.monitoring,\n\
                     =s4,jmsu.marketing,\n\
                     s4,engagement.monitoring,\n";
    std::fs::write(&file, questions).unwrap();
    let path = file.to_str().unwrap();
    let now = "2025-03-04";

    // JSON: one status per question, in order, each what `status` answers alone.
    let v = l.json(now, &["status", "--from-file", path]);
    let answers = v.as_array().expect("an array");
    let asked = [
        ("s1", "jmsu.marketing", None, "given", true),
        ("s2", "jmsu.data-sharing", Some("JMSU"), "withdrawn", false),
        ("s3", "engagement.monitoring", None, "objected", false),
        ("=s4", "jmsu.marketing", None, "never_asked", false),
        (
            "s4",
            "engagement.monitoring",
            None,
            "not_consent_based",
            true,
        ),
    ];
    assert_eq!(answers.len(), asked.len());
    for (a, (s, p, r, state, permits)) in answers.iter().zip(asked) {
        assert_eq!(a["subject"], s);
        assert_eq!(a["purpose"], p);
        assert_eq!(a["state"], state, "{s} {p}");
        assert_eq!(a["permits"], permits, "{s} {p}");
        let mut one = vec!["status", s, p];
        if let Some(r) = r {
            one.extend(["--recipient", r]);
        }
        let alone = l.json(now, &one);
        for key in ["state", "event_id", "event_seq", "since", "until", "at"] {
            assert_eq!(a[key], alone[key], "{s} {p}: {key}");
        }
    }
    assert_eq!(answers[0]["event_id"], granted.as_str());
    assert_eq!(answers[1]["recipient"], "JMSU");

    // A table for people, with a summary line.
    let out = l.ok(now, &["status", "--from-file", path]);
    assert!(out.contains("SUBJECT") && out.contains("PERMITS"), "{out}");
    let row = out
        .lines()
        .find(|r| r.starts_with("s2 "))
        .expect("s2's row");
    assert!(
        row.contains("JMSU") && row.contains("withdrawn") && row.contains(" no "),
        "{row}"
    );
    assert!(out.contains("5 questions, 2 permitted"), "{out}");

    // CSV for programs: times in UTC, formula-like cells neutralised.
    let out = l.ok(now, &["status", "--from-file", path, "--format", "csv"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 6, "{out}");
    assert!(lines[0].starts_with("subject,purpose,recipient,state,permits,since,until"));
    // 16 September, London time, is 15 September 23:00 UTC.
    assert!(
        lines[1].starts_with("s1,jmsu.marketing,,given,true,2024-09-15T23:00:00.000Z,"),
        "{}",
        lines[1]
    );
    assert!(lines[1].contains(&granted) && lines[1].contains("jmsu.privacy@1"));
    assert!(
        lines[4].starts_with("'=s4,jmsu.marketing,,never_asked,false"),
        "{}",
        lines[4]
    );

    // stdin, and --check: 11 when any answer is no, every answer still printed.
    let out = run_with_stdin(
        &l,
        now,
        &["status", "--from-file", "-", "--check", "--format", "csv"],
        questions.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(11));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 6);
    assert!(out.stderr.is_empty(), "no error message for a no");
    let yes = "subject,purpose\ns1,jmsu.marketing\ns4,engagement.monitoring\n";
    let out = run_with_stdin(
        &l,
        now,
        &["status", "--from-file", "-", "--check"],
        yes.as_bytes(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Without --check a no exits 0; no questions is no error.
    l.ok(now, &["status", "--from-file", path]);
    std::fs::write(&file, "subject,purpose\n").unwrap();
    assert!(l
        .ok(now, &["status", "--from-file", path])
        .contains("no questions"));
    assert_eq!(
        l.json(now, &["status", "--from-file", path]),
        serde_json::json!([])
    );
    l.ok(now, &["status", "--from-file", path, "--check"]);

    // The first invalid question fails the command, its line named; nothing printed.
    let refused = |code: i32, text: &str| -> String {
        std::fs::write(&file, text).unwrap();
        let out = l.run(now, &["status", "--from-file", path, "--check"]);
        assert_eq!(out.status.code(), Some(code), "{text}");
        assert!(out.stdout.is_empty(), "{text}");
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let err = refused(3, "subject,purpose\ns1,jmsu.marketing\n\ns2,no.such\n");
    assert!(
        err.contains("line 4") && err.contains("unknown purpose `no.such`"),
        "{err}"
    );
    let err = refused(
        3,
        "subject,purpose\ns1,jmsu.marketing\ns2,jmsu.data-sharing\n",
    );
    assert!(
        err.contains("line 3") && err.contains("valid ids: JMSU"),
        "{err}"
    );
    let err = refused(3, "subject,purpose,recipient\ns2,jmsu.data-sharing,jmsu\n");
    assert!(err.contains("line 2") && err.contains("`jmsu`"), "{err}");
    let err = refused(
        2,
        "subject,purpose\ns1,jmsu.marketing\ns\u{301}2,jmsu.marketing\n",
    );
    assert!(err.contains("line 3"), "{err}");
    // Malformed files are usage errors, named.
    let err = refused(2, "subject,recipent\ns1,JMSU\n");
    assert!(err.contains("unknown column `recipent`"), "{err}");
    let err = refused(
        2,
        "subject,purpose\ns1,jmsu.marketing\ns2,jmsu.marketing,JMSU\n",
    );
    assert!(err.contains("line 3: 3 fields"), "{err}");
    let err = refused(2, "subject,purpose\n,jmsu.marketing\n");
    assert!(err.contains("line 2: no subject"), "{err}");
    refused(2, "");
    std::fs::write(&file, b"subject,purpose\ns\xff1,jmsu.marketing\n").unwrap();
    l.fails(2, now, &["status", "--from-file", path]);
    l.fails(
        3,
        now,
        &[
            "status",
            "--from-file",
            l.file("missing.csv").to_str().unwrap(),
        ],
    );
    // A file of questions is answered now, and is the only question asked.
    for extra in [
        vec!["--at", "2025-01-01"],
        vec!["--known-at", "2025-01-01"],
        vec!["--recipient", "JMSU"],
        vec!["s1"],
    ] {
        l.fails(2, now, &with(&["status", "--from-file", path], &extra));
    }
    l.fails(
        2,
        now,
        &["status", "s1", "jmsu.marketing", "--format", "csv"],
    );
    l.fails(2, now, &["status", "s1"]);
}

/// The downstream systems on the command line: the registry registers JMSU's feed; the
/// feed shows only its purpose and recipient; `ack` is refused with nothing written
/// for what is not there; `overdue` exits 12 while a deadline has passed without an
/// acknowledgement, 0 once acknowledged (late, and kept as such).
#[test]
fn downstream_feed_ack_and_overdue() {
    let l = Ledger::ljmu();
    let list = l.json("2024-09-01T09:00:00Z", &["downstream", "list"]);
    assert_eq!(list[0]["def"]["id"], "jmsu.feed");
    assert_eq!(list[0]["def"]["recipient"], "JMSU");
    l.give(
        "2024-09-20T10:00:00Z",
        &with(
            &["770001", "jmsu.data-sharing", "--recipient", "JMSU"],
            NOTICE,
        ),
    );
    l.give(
        "2024-09-20T10:00:00Z",
        &[
            "770001",
            "mobility.health",
            "--notice",
            "ljmu.international-relations@1",
            "--method",
            "web_form",
            "--explicit",
        ],
    );
    l.ok(
        "2025-03-03T10:00:00Z",
        &["withdraw", "770001", "jmsu.data-sharing"],
    );
    let feed = l.json("2025-03-03T10:05:00Z", &["feed", "jmsu.feed"]);
    let items = feed["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{feed}");
    assert!(items
        .iter()
        .all(|i| i["purpose"] == "jmsu.data-sharing" && i["subject"] == "770001"));
    assert_eq!(items[1]["kind"], "withdrawn");
    assert_eq!(items[1]["effect_deadline"], "2025-03-04T10:00:00.000Z");
    let last = items[1]["seq"].as_u64().unwrap();
    let table = l.ok("2025-03-03T10:05:00Z", &["feed", "jmsu.feed"]);
    assert!(
        table.contains("act by") && !table.contains("mobility"),
        "{table}"
    );

    // Before the deadline: pending, exit 0.
    let out = l.json("2025-03-03T12:00:00Z", &["overdue"]);
    assert_eq!(out["pending"].as_array().unwrap().len(), 1, "{out}");
    // After it: exit 12, naming the event.
    let head = l.head();
    let err = l.fails(12, "2025-03-04T11:00:00Z", &["overdue"]);
    assert!(err.contains("past their deadline"), "{err}");
    let run = l.run("2025-03-04T11:00:00Z", &["--json", "overdue"]);
    assert_eq!(run.status.code(), Some(12));
    let out: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(out["overdue"][0]["seq"], last);
    assert_eq!(out["overdue"][0]["late_by_secs"], 3600);

    // Refusals write nothing.
    l.fails(
        3,
        "2025-03-04T11:10:00Z",
        &["ack", "no.such", "--up-to", "1"],
    );
    l.fails(
        2,
        "2025-03-04T11:10:00Z",
        &["ack", "jmsu.feed", "--up-to", "999999"],
    );
    l.fails(2, "2025-03-04T11:10:00Z", &["ack", "jmsu.feed"]);
    l.fails(
        2,
        "2025-03-04T11:10:00Z",
        &["ack", "jmsu.feed", "--event", "not-a-uuid"],
    );
    assert_eq!(l.head(), head, "a refused acknowledgement writes nothing");

    // Acknowledged late: nothing overdue, the lateness kept.
    let ack = l.json(
        "2025-03-04T11:30:00Z",
        &[
            "ack",
            "jmsu.feed",
            "--up-to",
            &last.to_string(),
            "--recorded-by",
            "system:jmsu-feed",
        ],
    );
    assert_eq!(ack["up_to"], last);
    let out = l.json("2025-03-04T11:35:00Z", &["overdue", "--all"]);
    assert!(out["overdue"].as_array().unwrap().is_empty());
    assert_eq!(out["acknowledged_late"][0]["seq"], last);
    assert_eq!(out["acknowledged_late"][0]["late_by_secs"], 5400);
    // The cursor: the feed continues after the acknowledged seq.
    let feed = l.json("2025-03-04T11:40:00Z", &["feed", "jmsu.feed"]);
    assert!(feed["items"].as_array().unwrap().is_empty());
    assert_eq!(feed["since"], last + 1);
    let show = l.json("2025-03-04T11:40:00Z", &["downstream", "show", "jmsu.feed"]);
    assert_eq!(show["cursor"], last);

    // Follow: a bounded wait ends quietly when nothing comes.
    let started = std::time::Instant::now();
    let out = l.ok(
        "2025-03-04T11:45:00Z",
        &["--json", "feed", "jmsu.feed", "--follow", "--wait", "1"],
    );
    assert!(out.is_empty(), "{out}");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));

    // Registered on the command line, a second version, then retired.
    l.ok(
        "2025-03-05T09:00:00Z",
        &[
            "downstream",
            "register",
            "nhs.liaison",
            "--name",
            "NHS liaison",
            "--controller",
            "LJMU",
            "--purpose",
            "wellbeing.share-external",
            "--recipient",
            "nhs",
            "--recorded-by",
            "staff:dpo-01",
        ],
    );
    l.fails(
        3,
        "2025-03-05T09:00:00Z",
        &[
            "downstream",
            "register",
            "x",
            "--name",
            "X",
            "--controller",
            "LJMU",
            "--purpose",
            "no.such",
            "--recorded-by",
            "staff:dpo-01",
        ],
    );
    let retired = l.json(
        "2025-03-05T09:10:00Z",
        &[
            "downstream",
            "retire",
            "nhs.liaison",
            "--recorded-by",
            "staff:dpo-01",
        ],
    );
    assert_eq!(
        (
            retired["version"].as_u64(),
            retired["def"]["retired"].as_bool()
        ),
        (Some(2), Some(true))
    );
    l.ok("2025-03-06", &["verify"]);
}

/// A notice shown with no answer yet (`serve-notice`): recorded as `notice_served`,
/// which is no consent; refused (exit 4, nothing written) for a notice that does not
/// cover the purpose.
#[test]
fn serve_notice_records_a_notice_shown_and_no_consent() {
    let l = Ledger::ljmu();
    let ev = l.json(
        "2024-09-16",
        &with(&["serve-notice", "s1", "jmsu.marketing"], NOTICE),
    );
    assert_eq!(ev["kind"], "notice_served");
    assert_eq!(ev["notice"]["id"], "jmsu.privacy");
    let status = l.json("2024-09-17", &["status", "s1", "jmsu.marketing"]);
    assert_ne!(status["state"], "given", "{status}");
    let head = l.head();
    l.fails(
        4,
        "2024-09-16",
        &with(&["serve-notice", "s1", "mobility.health"], NOTICE),
    );
    assert_eq!(l.head(), head, "nothing written");
}

/// Values are parsed by clap before anything else: a malformed one is a usage error
/// (exit 2) naming its option, even where no ledger exists (not "not found", 3), and a
/// ledger that does exist is left untouched.
#[test]
fn synchronous_normal_is_accepted_on_every_command_and_records_the_same() {
    let l = Ledger::ljmu();
    let mut args = vec!["--synchronous", "normal", "give", "s1", "jmsu.marketing"];
    args.extend_from_slice(NOTICE);
    l.ok("2024-10-01", &args);
    let status = l.json(
        "2024-10-02",
        &["--synchronous", "full", "status", "s1", "jmsu.marketing"],
    );
    assert_eq!(status["state"], "given", "{status}");
    let out = Command::new(BIN)
        .args(["withdraw", "s1", "jmsu.marketing"])
        .env("CONSENT_LEDGER", &l.path)
        .env("CONSENT_NOW", "2024-10-03")
        .env("CONSENT_SYNCHRONOUS", "normal")
        .output()
        .expect("run consent");
    expect_ok(out, &["withdraw"]);
    let status = l.json("2024-10-04", &["status", "s1", "jmsu.marketing"]);
    assert_eq!(status["state"], "withdrawn", "{status}");
}

#[test]
fn a_malformed_value_is_a_usage_error_before_the_ledger_is_opened() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("absent.db");
    let missing = Ledger { dir, path };
    let l = Ledger::ljmu();
    let head = l.head();
    // Each command line (split at spaces) with the option its error must name.
    let cases = [
        ("give s1 jmsu.marketing --method carrier-pigeon", "--method"),
        (
            "give s1 jmsu.marketing --recorded-by robot",
            "--recorded-by",
        ),
        ("give s1 jmsu.marketing --at yesterday", "--at"),
        ("give s1 jmsu.marketing --expires 31/07/2025", "--expires"),
        ("give s1 jmsu.marketing --notice no-version", "--notice"),
        ("give s1 jmsu.marketing --evidence {", "--evidence"),
        ("invalidate s1 jmsu.marketing --target 42", "--target"),
        ("status s1 jmsu.marketing --known-at soon", "--known-at"),
        ("consenting jmsu.marketing --at soon", "--at"),
        ("receipt not-a-uuid --checkpoint latest", "EVENT_ID"),
        ("verify --against nonsense", "--against"),
        ("prove consistency nonsense", "OLD_HEAD"),
        (
            "purpose add p.x --title X --controller J --effect-delay 1y",
            "--effect-delay",
        ),
        (
            "purpose add p.x --title X --controller J --validity weekly",
            "--validity",
        ),
        (
            "purpose add p.x --title X --controller J --basis z",
            "--basis",
        ),
        ("notice add n.x 1 --title X --sha256 abc", "--sha256"),
        ("erase s1 --reason r --recorded-by nobody", "--recorded-by"),
        ("readmit s1 --reason r --by nobody", "--recorded-by"),
        (
            "downstream retire jmsu.crm --recorded-by nobody",
            "--recorded-by",
        ),
        ("ack jmsu.crm --event 42", "--event"),
        ("overdue --at tomorrow", "--at"),
        ("report --from someday", "--from"),
        ("status s1 jmsu.marketing --now soon", "--now"),
        (
            "status s1 jmsu.marketing --synchronous sometimes",
            "--synchronous",
        ),
        (
            "check-receipt absent.json --log-key absent.vkey --head nonsense",
            "--head",
        ),
    ];
    for (line, option) in cases {
        let args: Vec<&str> = line.split(' ').collect();
        for ledger in [&missing, &l] {
            let err = ledger.fails(2, "2024-10-01", &args);
            assert!(
                err.contains(option),
                "{line}: the error should name {option}: {err}"
            );
        }
    }
    assert_eq!(l.head(), head, "a refused value wrote something");
    assert!(!missing.path.exists(), "a refused value created a ledger");
}
