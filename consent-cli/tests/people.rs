//! Issue 15 through the `consent` binary: the DPO's report (the page and the figures),
//! and the command line for people (CSV that spreadsheets and pandas read as it is,
//! completions and the man page, per-command help, import columns, quiet pipes).

#[path = "common/outcome.rs"]
mod outcome;
#[allow(dead_code)] // each test binary uses part of the shared world
#[path = "common/world.rs"]
mod world;

use std::os::unix::fs::PermissionsExt;

use world::World;

#[test]
fn the_report_page_and_its_figures() {
    let w = World::new();
    w.give("770001");
    w.nightly();
    let page = w.p("report.html");
    let said = w.ok(&[
        "report",
        "--html",
        &page,
        "--from",
        "2024-09-01",
        "--to",
        "2025-01-01",
    ]);
    assert!(said.contains("4 periods"), "{said}");
    let html = std::fs::read_to_string(&page).unwrap();
    let mode = std::fs::metadata(&page).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        html.contains("default-src 'none'"),
        "a CSP that fetches nothing"
    );
    assert!(!html.contains("<script"));
    assert!(html.contains(r#"data-ok="true""#));
    assert!(html.contains(r#"data-downstream="0""#) && html.contains("No downstream deadlines"));
    // One chart of jmsu.data-sharing → JMSU, and the activity, special-category and
    // erasure charts; each an image with a title.
    assert_eq!(html.matches(r#"<figure class="chart""#).count(), 4);
    assert_eq!(html.matches(r#"role="img""#).count(), 4);

    // The same figures as JSON, on stdout or in a file; times in UTC.
    let v = w.json(&["report", "--from", "2024-09-01", "--to", "2025-01-01"]);
    assert_eq!(v["step"], "month");
    assert_eq!(v["periods"].as_array().unwrap().len(), 4);
    assert_eq!(v["from"], "2024-08-31T23:00:00.000Z");
    let feed = v["states"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["purpose"] == "jmsu.data-sharing")
        .unwrap();
    assert_eq!(feed["recipient"], "JMSU");
    let given: Vec<u64> = feed["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["given"].as_u64().unwrap())
        .collect();
    // Given on 10 January 2025 (the world's clock): after the range.
    assert_eq!(given, [0, 0, 0, 0]);
    assert_eq!(v["checkpoint"]["signatures"], 3);
    let file = w.p("figures.json");
    w.ok(&["report", "--json", &file]);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(v["totals"]["given"], 1);

    // A FILE without --json, an empty range: usage errors.
    w.fails(2, &["report", &file]);
    w.fails(2, &["report", "--from", "2025-01-01", "--to", "2025-01-01"]);
    // Without --html or --json: a summary.
    let summary = w.ok(&["report"]);
    assert!(summary.contains("jmsu.data-sharing → JMSU"), "{summary}");
    assert!(summary.contains("Verified: 23 events"), "{summary}");
    assert!(!summary.contains("jmsu.marketing"), "{summary}");
}

#[test]
fn a_tampered_ledger_is_reported_and_exits_1() {
    let w = World::new();
    w.give("770001");
    {
        let conn = rusqlite::Connection::open(w.dir.path().join("ledger.db")).unwrap();
        conn.execute(
            "UPDATE events SET method = 'paper' WHERE seq = (SELECT max(seq) FROM events)",
            [],
        )
        .unwrap();
    }
    let page = w.p("report.html");
    let err = w.fails(1, &["report", "--html", &page]);
    assert!(err.contains("TAMPERED"), "{err}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains(r#"data-ok="false""#));
    assert!(html.contains("TAMPERED"));
}

fn help(args: &[&str]) -> String {
    let out = std::process::Command::new(world::BIN)
        .args(args)
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{args:?} --help");
    String::from_utf8(out.stdout).unwrap()
}

/// Each event command's help lists only what applies to it.
#[test]
fn each_event_command_shows_its_own_options() {
    let grant_only = ["--explicit", "--expires", "--validity-from"];
    let told = ["--notice", "--notice-id", "--notice-version", "--method"];
    let common = [
        "--recipient",
        "--recorded-by",
        "--at",
        "--source-id",
        "--evidence",
    ];
    for (cmd, with, without) in [
        (
            "give",
            &[&grant_only[..], &told].concat(),
            &["--target"][..],
        ),
        (
            "withdraw",
            &told.to_vec(),
            &[&grant_only[..], &["--target"]].concat()[..],
        ),
        (
            "refuse",
            &told.to_vec(),
            &[&grant_only[..], &["--target"]].concat()[..],
        ),
        (
            "object",
            &told.to_vec(),
            &[&grant_only[..], &["--target"]].concat()[..],
        ),
        (
            "revoke",
            &vec![],
            &[&grant_only[..], &told, &["--target"]].concat()[..],
        ),
        (
            "invalidate",
            &vec!["--target"],
            &[&grant_only[..], &told].concat()[..],
        ),
        (
            "overrule-objection",
            &vec![],
            &[&grant_only[..], &told, &["--target"]].concat()[..],
        ),
    ] {
        let h = help(&[cmd]);
        let lists = |o: &str| h.split_whitespace().any(|w| w == o);
        for o in common.iter().chain(with.iter()) {
            assert!(lists(o), "{cmd} --help lacks {o}:\n{h}");
        }
        for o in without {
            assert!(!lists(o), "{cmd} --help lists {o}:\n{h}");
        }
    }
}

/// The CSV the CLI writes, read as spreadsheets and pandas read it: with Python's csv
/// module, strictly (every record as long as the header, no comment line), and with
/// pandas.read_csv when the interpreter has it.
#[test]
fn csv_output_reads_as_it_is() {
    let w = World::new();
    for s in ["770001", "=1+1", "comma,in,id", "quote\"d"] {
        w.give(s);
    }
    let feed = w.dir.path().join("feed.csv");
    let out = w.run(&["consenting", "jmsu.data-sharing", "--recipient", "JMSU"]);
    assert!(out.status.success());
    std::fs::write(&feed, &out.stdout).unwrap();
    // Piped, the head goes to stderr as one line, and no progress noise with it.
    let said = String::from_utf8(out.stderr).unwrap();
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(!said.contains('\r'), "{said:?}");

    let questions = w.dir.path().join("questions.csv");
    std::fs::write(
        &questions,
        "subject,purpose,recipient\n770001,jmsu.data-sharing,JMSU\n=1+1,jmsu.marketing,\n",
    )
    .unwrap();
    let answers = w.dir.path().join("answers.csv");
    let q = questions.to_str().unwrap();
    let out = w.ok(&["status", "--from-file", q, "--format", "csv"]);
    std::fs::write(&answers, out).unwrap();

    let script = r##"
import csv, sys
def check(path, columns, rows):
    with open(path, newline="", encoding="utf-8") as f:
        text = f.read()
    assert not any(line.startswith("#") for line in text.splitlines()), text
    records = list(csv.reader(text.splitlines(), strict=True))
    assert records[0][:len(columns)] == columns, records[0]
    assert all(len(r) == len(records[0]) for r in records), records
    assert len(records) == rows + 1, records
    try:
        import pandas
    except ImportError:
        return records, "csv module"
    frame = pandas.read_csv(path, dtype=str, keep_default_na=False)
    assert frame.shape == (rows, len(records[0])), frame.shape
    assert list(frame.columns[:len(columns)]) == columns
    return records, "pandas"
feed, how = check(sys.argv[1], ["subject", "since", "until", "event_id"], 4)
ids = sorted(r[0] for r in feed[1:])
assert ids == ["'=1+1", "770001", "comma,in,id", 'quote"d'], ids
answers, _ = check(sys.argv[2], ["subject", "purpose", "recipient", "state", "permits"], 2)
assert answers[1][3] == "given" and answers[2][0] == "'=1+1", answers
print(how)
"##;
    let run = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&feed)
        .arg(&answers)
        .output()
        .expect("python3 (the project's set-up needs it)");
    assert!(
        run.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
}

/// The import's columns are in its help; a CSV with a column the import does not know
/// is refused at its header line, naming it and the valid ones, and nothing is imported.
#[test]
fn import_columns_are_documented_and_an_unknown_one_is_refused_at_the_header() {
    let h = help(&["import"]);
    // Every column the parser accepts, one a line (notice_id and notice_version with
    // notice).
    for c in consent_cli::COLUMNS {
        assert!(
            h.split(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
                .any(|w| w == *c),
            "import --help lacks the column {c}:\n{h}"
        );
    }
    let w = World::new();
    let file = w.p("extract.csv");
    std::fs::write(
        &file,
        "subject,purpose,kind,notice,method,colour\n\
         s1,jmsu.marketing,given,jmsu.privacy@1,portal,red\n",
    )
    .unwrap();
    let before = w.ok(&["head"]);
    let err = w.fails(2, &["import", &file]);
    assert!(
        err.contains("line 1: unknown column `colour`")
            && err.contains("the columns are: source_id, subject, purpose, kind"),
        "{err}"
    );
    assert_eq!(w.ok(&["head"]), before, "nothing imported");
}

/// Completions and manual pages come from the command definitions, need no ledger,
/// and know every command.
#[test]
fn completions_and_manual_pages() {
    let run = |args: &[&str]| {
        let out = std::process::Command::new(world::BIN)
            .args(args)
            .env_remove("CONSENT_LEDGER")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    for (shell, file) in [
        ("bash", "consent.bash"),
        ("zsh", "_consent"),
        ("fish", "consent.fish"),
    ] {
        let script = run(&["completions", shell]);
        for word in ["withdraw", "report", "completions", "recipient"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
        std::fs::write(dir.path().join(file), &script).unwrap();
    }
    // The bash script is valid bash.
    let checked = std::process::Command::new("bash")
        .arg("-n")
        .arg(dir.path().join("consent.bash"))
        .status()
        .unwrap();
    assert!(checked.success());
    let page = run(&["man"]);
    assert!(page.contains(".TH consent 1"), "{page}");
    assert!(page.contains("withdraw"));
    let pages = dir.path().join("man1");
    run(&["man", "--dir", pages.to_str().unwrap()]);
    let withdraw = std::fs::read_to_string(pages.join("consent-withdraw.1")).unwrap();
    assert!(withdraw.contains("\\-\\-notice") && !withdraw.contains("\\-\\-explicit"));
    // An unknown shell is a usage error naming the valid ones.
    let out = std::process::Command::new(world::BIN)
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bash"));
}

/// Long commands show progress on a terminal and nothing when stderr is piped.
#[test]
fn progress_only_on_a_terminal() {
    let w = World::new();
    let extract = |name: &str, prefix: &str| {
        let mut csv = String::from("source_id,subject,purpose,kind,notice,method\n");
        for i in 0..1500 {
            csv.push_str(&format!(
                "{prefix}{i},{prefix}{i},jmsu.marketing,given,jmsu.privacy@1,portal\n"
            ));
        }
        let path = w.p(name);
        std::fs::write(&path, csv).unwrap();
        path
    };
    let file = extract("extract.csv", "s");
    let out = w.run(&["import", &file]);
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    let copy = w.p("copy.db");
    let out = w.run(&["copy", &w.p("ledger.db"), &copy]);
    assert!(out.status.success() && out.stderr.is_empty());
    for args in [&["verify"][..], &["report"]] {
        let out = w.run(args);
        assert!(out.status.success() && out.stderr.is_empty(), "{args:?}");
    }
    // On a terminal (script(1) gives it one), the same import draws its bar.
    if std::path::Path::new("/usr/bin/script").exists() {
        let again = extract("again.csv", "t");
        let out = std::process::Command::new("/usr/bin/script")
            .args([
                "-qec",
                &format!("{} import {again}", world::BIN),
                "/dev/null",
            ])
            .env("CONSENT_LEDGER", w.dir.path().join("ledger.db"))
            .env("CONSENT_NOW", "2025-01-10T15:00:00Z")
            .output()
            .unwrap();
        let shown = String::from_utf8_lossy(&out.stdout);
        assert!(shown.contains("importing"), "{shown}");
        assert!(shown.contains("imported 1500 new events"), "{shown}");
    }
}
