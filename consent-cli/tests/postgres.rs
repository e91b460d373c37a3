//! The `consent` binary on a PostgreSQL ledger (`--ledger postgresql://…`): the
//! everyday commands, the key it must be given, `consent copy` between a file and a
//! schema with the same head (and the independent checker of FORMAT.md on the copy),
//! and `consent grants` giving a role that may append but never erase.
//!
//! They need a server: `make test-postgres` starts a throwaway cluster and runs them
//! (a plain `cargo test` ignores them); CONSENT_TEST_PG_URL names another server (a
//! superuser: the tests create schemas `consent_test_<pid>_<n>` and roles
//! `<name>_<pid>`, and leave them behind).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

#[path = "common/outcome.rs"]
mod outcome;
use outcome::{expect_code, expect_ok};

const BIN: &str = env!("CARGO_BIN_EXE_consent");
const NOTICE: &[&str] = &["--notice", "jmsu.privacy@1", "--method", "portal"];
/// The exit codes of consent-cli/src/exit.rs these tests expect.
const NOT_FOUND: i32 = 3;
const REFUSED: i32 = 4;
const STORAGE: i32 = 6;
const KEY: i32 = 9;
const ERASURE_PENDING: i32 = 10;
const NOT_PERMITTED: i32 = 11;

fn server() -> String {
    std::env::var("CONSENT_TEST_PG_URL").expect("CONSENT_TEST_PG_URL names the test server")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn registry() -> String {
    root()
        .join("examples/ljmu/registry.toml")
        .to_str()
        .unwrap()
        .to_owned()
}

/// `url` naming a schema no other test uses.
fn fresh_schema(url: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}schema=consent_test_{}_{n}", std::process::id())
}

/// `url` connecting as `user` (with `password`, if any) instead of the URL's user.
fn as_user(url: &str, user: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let host = rest.split_once('@').map_or(rest, |(_, h)| h);
    format!("{scheme}://{user}@{host}")
}

/// Creates a login role (once per run): `<name>_<pid>`.
fn login_role(name: &str) -> String {
    let role = format!("{name}_{}", std::process::id());
    let mut admin = postgres::Client::connect(&server(), postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!(
            "DO $$ BEGIN CREATE ROLE {role} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;"
        ))
        .unwrap();
    role
}

/// A ledger location (a URL or a file) with its key file in a temporary folder, and
/// the simulated clock of the CLI tests.
struct At {
    dir: tempfile::TempDir,
    ledger: String,
}

impl At {
    /// A fresh schema of the test server; its key file will be `ledger.key`.
    fn pg() -> At {
        At {
            dir: tempfile::tempdir().unwrap(),
            ledger: fresh_schema(&server()),
        }
    }

    /// A ledger file, `ledger.db`, its key beside it.
    fn file() -> At {
        let dir = tempfile::tempdir().unwrap();
        let ledger = dir.path().join("ledger.db").to_str().unwrap().to_owned();
        At { dir, ledger }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_owned()
    }

    /// The pseudonym key file (beside a ledger file, in the folder for a URL).
    fn key(&self) -> String {
        if self.ledger.starts_with("postgresql://") {
            self.path("ledger.key")
        } else {
            format!("{}.key", self.ledger)
        }
    }

    /// Runs `consent` on this ledger, as `ledger` (the URL, or another user's).
    fn run_as(&self, ledger: &str, now: &str, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .env("CONSENT_LEDGER", ledger)
            .env("CONSENT_KEY_FILE", self.key())
            .env("CONSENT_NOW", now)
            .env_remove("CONSENT_LOG_KEY")
            .output()
            .expect("run consent")
    }

    fn run(&self, now: &str, args: &[&str]) -> Output {
        self.run_as(&self.ledger, now, args)
    }

    fn ok(&self, now: &str, args: &[&str]) -> String {
        expect_ok(self.run(now, args), args)
    }

    fn json(&self, now: &str, args: &[&str]) -> Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        let s = self.ok(now, &a);
        serde_json::from_str(&s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
    }

    fn fails(&self, code: i32, now: &str, args: &[&str]) -> String {
        expect_code(self.run(now, args), code, args)
    }

    fn head(&self) -> String {
        self.ok("2030-01-01", &["head"]).trim().to_owned()
    }

    /// `init` and `registry load` of the LJMU registry.
    fn ljmu(self) -> At {
        self.ok("2024-09-01T09:00:00Z", &["init"]);
        self.ok("2024-09-01T09:00:00Z", &["registry", "load", &registry()]);
        self
    }
}

/// `consent` without a ledger in the environment.
fn consent(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("CONSENT_LEDGER")
        .env_remove("CONSENT_KEY_FILE")
        .env("CONSENT_NOW", "2025-01-01")
        .output()
        .expect("run consent")
}

#[test]
#[ignore = "needs PostgreSQL: make test-postgres"]
fn the_everyday_commands_work_on_a_postgresql_ledger() {
    let at = At::pg();
    // Nothing there yet: "not found", never created by a question.
    let err = at.fails(NOT_FOUND, "2024-09-01", &["status", "s1", "jmsu.marketing"]);
    assert!(err.contains("consent init"), "{err}");
    // Without its key the ledger is refused, naming the option that gives it.
    let out = Command::new(BIN)
        .args(["--ledger", &at.ledger, "init"])
        .env_remove("CONSENT_KEY_FILE")
        .output()
        .unwrap();
    let err = expect_code(out, KEY, &["init"]);
    assert!(err.contains("--key-file"), "{err}");

    let created = at.json("2024-09-01T09:00:00Z", &["init"]);
    assert_eq!(created["created"], true, "{created}");
    assert!(
        Path::new(&at.key()).exists(),
        "init writes the key file given"
    );
    let again = at.json("2024-09-01T09:00:00Z", &["init"]);
    assert_eq!(again["created"], false, "{again}");
    let loaded = at.ok("2024-09-01T09:00:00Z", &["registry", "load", &registry()]);
    assert!(loaded.contains("recorded"), "{loaded}");
    // Loading it again appends nothing.
    let head = at.head();
    at.ok("2024-09-02", &["registry", "load", &registry()]);
    assert_eq!(at.head(), head);

    let mut give = vec!["give", "770001", "jmsu.marketing"];
    give.extend_from_slice(NOTICE);
    at.ok("2024-10-01T10:00:00Z", &give);
    let s = at.json("2024-10-02", &["status", "770001", "jmsu.marketing"]);
    assert_eq!(s["state"], "given", "{s}");
    at.ok(
        "2024-10-02",
        &["status", "770001", "jmsu.marketing", "--check"],
    );
    at.ok(
        "2024-11-01T12:00:00Z",
        &["withdraw", "770001", "jmsu.marketing", "--method", "portal"],
    );
    at.fails(
        NOT_PERMITTED,
        "2024-11-02",
        &["status", "770001", "jmsu.marketing", "--check"],
    );
    // As it was known before the withdrawal.
    let then = at.json(
        "2024-11-02",
        &["status", "770001", "jmsu.marketing", "--at", "2024-10-15"],
    );
    assert_eq!(then["state"], "given", "{then}");

    let csv = at.path("feed.csv");
    std::fs::write(
        &csv,
        "source_id,subject,purpose,kind,notice,method,recorded_by,effective_at\n\
         r1,770002,jmsu.data-sharing,given,jmsu.privacy@1,portal,system:sis,2024-09-16T09:00:00Z\n\
         r2,770003,jmsu.data-sharing,refused,jmsu.privacy@1,portal,system:sis,2024-09-16\n",
    )
    .unwrap();
    let report = at.json("2024-11-03", &["import", &csv]);
    assert_eq!(report["new"], 2, "{report}");
    let report = at.json("2024-11-03", &["import", &csv]);
    assert_eq!(report["already_recorded"], 2, "idempotent: {report}");
    let feed = at.ok(
        "2024-11-04",
        &["consenting", "jmsu.data-sharing", "--recipient", "JMSU"],
    );
    assert!(
        feed.contains("770002") && !feed.contains("770003"),
        "{feed}"
    );
    let history = at.json("2024-11-04", &["history", "770001"]);
    assert_eq!(history.as_array().unwrap().len(), 2, "{history}");

    let verified = at.ok("2024-11-05", &["verify"]);
    assert!(verified.starts_with("ok: "), "{verified}");
    assert!(verified.contains(&at.head()), "{verified}");
}

#[test]
#[ignore = "needs PostgreSQL: make test-postgres"]
fn a_password_in_the_url_is_never_printed() {
    let (scheme, rest) = server()
        .split_once("://")
        .map(|(s, r)| (s.to_owned(), r.to_owned()))
        .unwrap();
    let host = rest
        .split_once('@')
        .map_or(rest.as_str(), |(_, h)| h)
        .to_owned();
    let user = rest
        .split_once('@')
        .map_or("consent", |(u, _)| u)
        .to_owned();
    // The test server trusts local connections, so the password is ignored by it.
    let with_password = format!("{scheme}://{user}:s3cret-pw@{host}");
    let at = At {
        dir: tempfile::tempdir().unwrap(),
        ledger: fresh_schema(&with_password),
    };
    let missing = at.run("2024-09-01", &["head"]);
    let created = at.run("2024-09-01", &["init"]);
    let again = at.run("2024-09-01", &["--json", "init"]);
    let copied = at.run("2024-09-01", &["copy", &at.ledger, &at.ledger]);
    let unreachable = consent(&[
        "--ledger",
        "postgresql://app:s3cret-pw@/nowhere?host=/nonexistent/socket&schema=x",
        "--key-file",
        "k",
        "head",
    ]);
    for out in [&missing, &created, &again, &copied, &unreachable] {
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains("s3cret-pw"), "{all}");
        assert!(all.contains(":***@"), "the URL is shown, redacted: {all}");
    }
    assert_eq!(missing.status.code(), Some(NOT_FOUND));
    assert_eq!(created.status.code(), Some(0));
    assert_eq!(
        copied.status.code(),
        Some(REFUSED),
        "a ledger is no empty schema"
    );
    assert_eq!(unreachable.status.code(), Some(STORAGE));
}

#[test]
#[ignore = "needs PostgreSQL: make test-postgres"]
fn copy_moves_a_ledger_from_a_file_to_postgresql_and_back_with_the_same_head() {
    let file = At::file().ljmu();
    for i in 0..12 {
        let subject = format!("77{i:04}");
        let source = format!("form-{i}");
        let mut give = vec!["give", &subject, "jmsu.marketing", "--source-id", &source];
        give.extend_from_slice(NOTICE);
        file.ok("2024-10-01T10:00:00Z", &give);
    }
    file.ok(
        "2024-10-02",
        &[
            "erase",
            "770001",
            "--reason",
            "retention ended",
            "--by",
            "staff:dpo",
        ],
    );
    let head = file.head();

    // File -> PostgreSQL: the head printed is the source's; the copy answers with the
    // source's key and verifies.
    let pg = At::pg();
    std::fs::copy(file.key(), pg.key()).unwrap();
    let out = expect_ok(consent(&["copy", &file.ledger, &pg.ledger]), &["copy"]);
    assert!(out.contains(&format!("head {head}")), "{out}");
    assert!(out.contains("events"), "{out}");
    assert_eq!(pg.head(), head);
    assert!(pg.ok("2024-10-03", &["verify"]).starts_with("ok: "));
    for subject in ["770002", "770001"] {
        assert_eq!(
            pg.json("2024-10-03", &["status", subject, "jmsu.marketing"]),
            file.json("2024-10-03", &["status", subject, "jmsu.marketing"]),
        );
    }

    // PostgreSQL -> file, as JSON: the same head and the rows of every table; the
    // independent checker of FORMAT.md §8 passes on it.
    let back = file.path("back.db");
    let out = expect_ok(consent(&["--json", "copy", &pg.ledger, &back]), &["copy"]);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["head"], head.as_str(), "{report}");
    assert_eq!(report["rows"]["events"], report["size"], "{report}");
    assert_eq!(report["rows"]["erased"], 1, "{report}");
    let checker = root().join("tools/verify_ledger.py");
    let out = Command::new("python3")
        .arg(&checker)
        .arg(&back)
        .args(["--key-file", &file.key()])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.starts_with(&format!("OK {head}")), "{said}");
    let copy = At {
        dir: tempfile::tempdir().unwrap(),
        ledger: back.clone(),
    };
    std::fs::copy(file.key(), copy.key()).unwrap();
    assert_eq!(copy.head(), head);

    // A destination that holds a ledger is refused and left as it was; a source that
    // is not there is "not found".
    expect_code(
        consent(&["copy", &file.ledger, &pg.ledger]),
        REFUSED,
        &["copy"],
    );
    expect_code(consent(&["copy", &pg.ledger, &back]), REFUSED, &["copy"]);
    assert_eq!(pg.head(), head);
    let nothing = fresh_schema(&server());
    expect_code(
        consent(&["copy", &nothing, &file.path("none.db")]),
        NOT_FOUND,
        &["copy"],
    );
    expect_code(
        consent(&["copy", &file.path("none.db"), &nothing]),
        NOT_FOUND,
        &["copy"],
    );
}

#[test]
#[ignore = "needs PostgreSQL: make test-postgres"]
fn grants_let_an_appending_role_give_but_never_erase() {
    let at = At::pg().ljmu();
    let schema = at.ledger.rsplit("schema=").next().unwrap().to_owned();
    let app = login_role("cli_app");

    // Printed from the URL's schema or from --schema: the same SQL, for the DBA.
    let sql = at.ok(
        "2024-10-01",
        &["grants", "--role", &app, "--access", "append"],
    );
    assert!(
        sql.contains(&format!("GRANT INSERT ON {schema}.events")),
        "{sql}"
    );
    assert!(
        !sql.contains("blank_subject"),
        "append may not erase: {sql}"
    );
    let by_name = expect_ok(
        consent(&[
            "grants", "--schema", &schema, "--role", &app, "--access", "append",
        ]),
        &["grants"],
    );
    assert_eq!(by_name, sql);
    // Printing does not grant: the role cannot read the ledger yet.
    let app_url = as_user(&at.ledger, &app);
    let refused = at.run_as(&app_url, "2024-10-01", &["head"]);
    assert_ne!(refused.status.code(), Some(0));

    // Applied by the owner: the role appends and answers with its own credentials...
    let applied = at.ok(
        "2024-10-01",
        &["grants", "--role", &app, "--access", "append", "--apply"],
    );
    assert!(applied.starts_with(&sql), "{applied}");
    assert!(applied.contains("-- applied"), "{applied}");
    let mut give = vec!["give", "770001", "jmsu.marketing"];
    give.extend_from_slice(NOTICE);
    expect_ok(at.run_as(&app_url, "2024-10-01T10:00:00Z", &give), &give);
    let status = expect_ok(
        at.run_as(
            &app_url,
            "2024-10-02",
            &["--json", "status", "770001", "jmsu.marketing"],
        ),
        &["status"],
    );
    assert!(status.contains("\"given\""), "{status}");
    // ...but may not erase (the read-only code), and nothing of it is left behind.
    let head = at.head();
    let erase = ["erase", "770001", "--reason", "retention ended"];
    let err = expect_code(at.run_as(&app_url, "2024-10-03", &erase), STORAGE, &erase);
    assert!(err.contains("read-only"), "{err}");
    assert_eq!(at.head(), head);
    // Nor hand out rights itself.
    let grant = ["grants", "--role", &app, "--access", "erase", "--apply"];
    expect_code(at.run_as(&app_url, "2024-10-03", &grant), STORAGE, &grant);
    // A role that does not exist is "not found"; a bad name is a usage error.
    at.fails(
        NOT_FOUND,
        "2024-10-03",
        &[
            "grants",
            "--role",
            "no_such_role_x",
            "--access",
            "read",
            "--apply",
        ],
    );
    at.fails(
        2,
        "2024-10-03",
        &[
            "grants",
            "--role",
            "x; DROP TABLE events",
            "--access",
            "read",
        ],
    );

    // The data-protection office's role may erase; not owning the tables, it cannot
    // vacuum them, so the erasure is pending until the owner completes it.
    let dpo = login_role("cli_dpo");
    at.ok(
        "2024-10-03",
        &["grants", "--role", &dpo, "--access", "erase", "--apply"],
    );
    let dpo_url = as_user(&at.ledger, &dpo);
    let err = expect_code(
        at.run_as(&dpo_url, "2024-10-04", &erase),
        ERASURE_PENDING,
        &erase,
    );
    assert!(err.contains("owner"), "{err}");
    let done = at.ok("2024-10-05", &["complete-erasures"]);
    assert!(done.contains("vacuumed"), "{done}");
    assert!(at.ok("2024-10-05", &["verify"]).starts_with("ok: "));
}
