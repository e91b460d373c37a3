//! Drives the real `consent` binary on hostile paths and data: private, atomic output
//! files; escape sequences and formulas in stored strings; a reader that closes stdout
//! early; a registry that fails half-way.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

#[path = "common/outcome.rs"]
mod outcome;
use outcome::{expect_code, expect_ok};

const BIN: &str = env!("CARGO_BIN_EXE_consent");

fn registry() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/ljmu/registry.toml")
}

/// A ledger with the LJMU registry, in a temporary folder.
struct Ledger {
    dir: tempfile::TempDir,
    path: PathBuf,
}

impl Ledger {
    fn ljmu() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ledger.db");
        let l = Ledger { dir, path };
        l.ok(&["init"]);
        l.ok(&["registry", "load", registry().to_str().unwrap()]);
        l
    }

    /// A log signing key (consent-note private key string) in the ledger's folder,
    /// for `receipt --sign-with`.
    fn log_key(&self) -> PathBuf {
        let key = consent_note::SigningKey::from_seed(
            "ljmu.ac.uk/consent",
            consent_note::SignatureType::Ed25519,
            &[7; 32],
        )
        .unwrap();
        let path = self.file("log.key");
        std::fs::write(&path, format!("{}\n", key.to_private_key().as_str())).unwrap();
        path
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .env("CONSENT_LEDGER", &self.path)
            .env("CONSENT_NOW", "2024-09-16T10:00:00Z");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run consent")
    }

    /// Runs, expects exit 0, returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        expect_ok(self.run(args), args)
    }

    /// Runs, expects exit `code`, returns stderr.
    fn fails(&self, code: i32, args: &[&str]) -> String {
        expect_code(self.run(args), code, args)
    }

    fn json(&self, args: &[&str]) -> Value {
        let s = self.ok(&[&["--json"], args].concat());
        serde_json::from_str(&s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
    }

    fn give(&self, subject: &str) -> String {
        let v = self.json(&[
            "give",
            "--notice",
            "jmsu.privacy@1",
            "--method",
            "portal",
            "--",
            subject,
            "jmsu.data-sharing",
        ]);
        v["id"].as_str().expect("event id").to_string()
    }

    fn head(&self) -> String {
        self.ok(&["head"]).trim().to_string()
    }

    /// Imports `rows` (CSV lines after the header) in one go.
    fn import(&self, rows: impl Iterator<Item = String>) {
        let f = self.file("rows.csv");
        let mut text = String::from("source_id,subject,purpose,kind,notice,method\n");
        for r in rows {
            text.push_str(&r);
            text.push('\n');
        }
        std::fs::write(&f, text).unwrap();
        self.ok(&["import", f.to_str().unwrap()]);
    }
}

// ---- 1. files written with personal data ------------------------------------------

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[test]
fn output_files_are_owner_only() {
    let l = Ledger::ljmu();
    let old_head = l.head();
    let id = l.give("s1");
    let sar = l.file("sar.json");
    let receipt = l.file("receipt.json");
    let proof = l.file("proof.json");
    l.ok(&["export", "s1", "-o", sar.to_str().unwrap()]);
    let key = l.log_key();
    l.ok(&[
        "receipt",
        &id,
        "--sign-with",
        key.to_str().unwrap(),
        "-o",
        receipt.to_str().unwrap(),
    ]);
    l.ok(&[
        "prove",
        "consistency",
        &old_head,
        "-o",
        proof.to_str().unwrap(),
    ]);
    for p in [&sar, &receipt, &proof] {
        assert_eq!(mode(p), 0o600, "{}", p.display());
        let v: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        assert!(v.is_object());
    }
}

#[cfg(unix)]
#[test]
fn output_files_refuse_a_symlink() {
    let l = Ledger::ljmu();
    let id = l.give("s1");
    let key = l.log_key();
    let victim = l.file("victim.txt");
    std::fs::write(&victim, "keep me").unwrap();
    let link = l.file("link.json");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    for args in [
        vec!["export", "s1", "-o", link.to_str().unwrap()],
        vec![
            "receipt",
            &id,
            "--sign-with",
            key.to_str().unwrap(),
            "-o",
            link.to_str().unwrap(),
        ],
    ] {
        let err = l.fails(2, &args);
        assert!(err.contains("symbolic link"), "{err}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
    }
    // A dangling link is refused too: it would otherwise create its target.
    let dangling = l.file("dangling.json");
    std::os::unix::fs::symlink(l.file("nowhere.json"), &dangling).unwrap();
    l.fails(2, &["export", "s1", "-o", dangling.to_str().unwrap()]);
    assert!(!l.file("nowhere.json").exists());
}

#[cfg(unix)]
#[test]
fn output_files_replace_an_existing_file_atomically() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let l = Ledger::ljmu();
    l.give("s1");
    let sar = l.file("sar.json");
    std::fs::write(&sar, "old copy").unwrap();
    std::fs::set_permissions(&sar, std::fs::Permissions::from_mode(0o644)).unwrap();
    let old_inode = std::fs::metadata(&sar).unwrap().ino();
    l.ok(&["export", "s1", "-o", sar.to_str().unwrap()]);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&sar).unwrap()).unwrap();
    assert_eq!(v["subject"], "s1");
    assert_eq!(mode(&sar), 0o600);
    // Renamed into place, not rewritten in place: a reader never sees half a file.
    assert_ne!(std::fs::metadata(&sar).unwrap().ino(), old_inode);
    // No temporary file is left behind.
    let mut names: Vec<String> = std::fs::read_dir(l.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("ledger.db"))
        .collect();
    names.sort();
    assert_eq!(names, ["sar.json"]);
}

// ---- 2. output for people, spreadsheets and pipes ---------------------------------

#[test]
fn human_output_escapes_terminal_controls() {
    let l = Ledger::ljmu();
    // Questions refuse an id no append could have stored, and say so escaped.
    let err = l.fails(2, &["status", "\x1b[31mevil", "jmsu.data-sharing"]);
    assert!(!err.contains('\x1b'), "{err:?}");

    // history refuses it (ids hold no control characters), and says so escaped.
    let err = l.fails(2, &["history", "\x1b[31mevil"]);
    assert!(!err.contains('\x1b'), "{err:?}");

    // A bidi override is a valid id; it is stored and shown escaped.
    let rlo = "\u{202e}evil";
    let out = l.ok(&["history", rlo]);
    assert_eq!(out, "no events about \\u{202e}evil\n");
    l.give(rlo);
    for args in [
        vec!["status", rlo, "jmsu.data-sharing", "--recipient", "JMSU"],
        vec!["changes", "--since", "0", "--limit", "1000"],
    ] {
        let out = l.ok(&args);
        assert!(out.contains("\\u{202e}evil"), "{args:?}: {out}");
        assert!(!out.contains('\u{202e}'), "{args:?}: {out:?}");
    }
    assert!(l.ok(&["history", rlo]).contains("given"));

    // Free text: titles, withdrawal methods, erasure reasons.
    l.ok(&[
        "purpose",
        "add",
        "evil.purpose",
        "--title",
        "Evil\x1b]0;pwned\x07 title",
        "--controller",
        "C\u{9b}31m",
        "--withdrawal-method",
        "line one\nline two \u{2066}x\u{2069}",
    ]);
    let show = l.ok(&["purpose", "show", "evil.purpose"]);
    for want in [
        "Evil\\x1b]0;pwned\\x07 title",
        "C\\u{9b}31m",
        "line one\\nline two \\u{2066}x\\u{2069}",
    ] {
        assert!(show.contains(want), "lacks {want}: {show}");
    }
    let list = l.ok(&["purpose", "list"]);
    assert!(list.contains("C\\u{9b}31m"), "{list}");
    l.give("s2");
    l.ok(&["erase", "s2", "--reason", "asked \x1b[2J by email"]);
    let changes = l.ok(&["changes", "--since", "0", "--limit", "1000"]);
    assert!(
        changes.contains("reason: asked \\x1b[2J by email"),
        "{changes}"
    );
    for out in [&show, &list, &changes] {
        assert!(
            !out.chars()
                .any(|c| (c.is_control() && c != '\n') || ('\u{2066}'..='\u{2069}').contains(&c)),
            "{out:?}"
        );
    }

    // JSON keeps the stored values exactly.
    let v = l.json(&["purpose", "show", "evil.purpose"]);
    assert_eq!(v[0]["title"], "Evil\x1b]0;pwned\x07 title");
    assert_eq!(v[0]["controller"], "C\u{9b}31m");
    let h = l.json(&["history", rlo]);
    assert_eq!(h[0]["subject"], rlo);
}

#[test]
fn csv_feed_neutralises_formulas() {
    let l = Ledger::ljmu();
    for s in ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "plain"] {
        l.give(s);
    }
    let csv = l.ok(&["consenting", "jmsu.data-sharing", "--recipient", "JMSU"]);
    for s in ["'=1+1,", "'+SUM(A1),", "'-2+3,", "'@cmd,", "\nplain,"] {
        assert!(csv.contains(s), "lacks {s}: {csv}");
    }
    assert!(!csv.contains("\n=") && !csv.contains("\n+") && !csv.contains("\n@"));
    // The trailer's cells are neutralised too.
    l.ok(&[
        "purpose",
        "add",
        "=HYPERLINK(x)",
        "--title",
        "t",
        "--controller",
        "c",
    ]);
    let side = l.dir.path().join("head.csv");
    l.ok(&[
        "consenting",
        "=HYPERLINK(x)",
        "--head-file",
        side.to_str().unwrap(),
    ]);
    let head = std::fs::read_to_string(&side).unwrap();
    assert!(head.contains("\n'=HYPERLINK(x),"), "{head}");
    // JSON carries the ids as they are.
    let v = l.json(&["consenting", "jmsu.data-sharing", "--recipient", "JMSU"]);
    let ids: Vec<&str> = v["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["subject"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"=1+1") && ids.contains(&"@cmd"), "{ids:?}");
    // And the help says so.
    let help = l.ok(&["consenting", "--help"]);
    assert!(help.contains("formula"), "{help}");
}

/// Runs `args`, reads a few bytes of stdout, closes it and waits.
fn close_early(l: &Ledger, args: &[&str]) -> (Option<i32>, String) {
    let mut child = l
        .command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn consent");
    let mut first = [0u8; 16];
    child
        .stdout
        .take()
        .unwrap()
        .read_exact(&mut first)
        .expect("some output");
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_closed_stdout_is_a_quiet_exit() {
    let l = Ledger::ljmu();
    // Well over a pipe's buffer (64 KiB): 12 000 subjects in the feed (850 kB of
    // CSV), 1 000 events of one subject (140 kB of history, 700 kB of export).
    l.import(
        (0..12_000)
            .map(|i| format!("f{i},student-{i:06},jmsu.data-sharing,given,jmsu.privacy@1,portal")),
    );
    l.import((0..1_000).map(|i| {
        let kind = if i % 2 == 0 { "given" } else { "withdrawn" };
        format!("h{i},busy,jmsu.data-sharing,{kind},jmsu.privacy@1,portal")
    }));
    for args in [
        vec!["consenting", "jmsu.data-sharing", "--recipient", "JMSU"],
        vec![
            "--json",
            "consenting",
            "jmsu.data-sharing",
            "--recipient",
            "JMSU",
        ],
        vec!["history", "busy"],
        vec!["changes", "--since", "0", "--limit", "100000"],
        vec!["export", "busy"],
    ] {
        let (code, err) = close_early(&l, &args);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: stderr {err}");
        assert_eq!(code, Some(141), "{args:?}: {err}");
    }
}

// ---- 3. registry load is all or nothing -------------------------------------------

const PURPOSE_OK: &str =
    "[[purpose]]\nid = \"reg.one\"\ntitle = \"One\"\ncontroller = \"LJMU\"\nlawful_basis = \"a\"\n";

/// A notice entry with a stated hash, and a text file when `text_file` is not empty.
fn notice(id: &str, text_file: &str) -> String {
    let mut s = format!(
        "[[notice]]\nid = \"{id}\"\nversion = \"1\"\ntitle = \"T\"\ncontroller = \"LJMU\"\npurposes = [\"reg.*\"]\n"
    );
    if !text_file.is_empty() {
        s += &format!("text_file = \"{text_file}\"\n");
    }
    s + &format!("sha256 = \"{}\"\n", "ab".repeat(32))
}

fn registered(l: &Ledger) -> (Value, Value, String) {
    (
        l.json(&["purpose", "list"]),
        l.json(&["notice", "list"]),
        l.head(),
    )
}

#[test]
fn registry_load_registers_nothing_when_an_entry_is_bad() {
    let l = Ledger::ljmu();
    let before = registered(&l);
    // Entries 1 and 2 are fine; the third has no Art. 9(2) letter `z`.
    let reg = l.file("reg.toml");
    std::fs::write(
        &reg,
        format!(
            "{}{PURPOSE_OK}[[purpose]]\nid = \"reg.two\"\ntitle = \"Two\"\ncontroller = \"LJMU\"\nlawful_basis = \"a\"\nspecial_category = \"z\"\n",
            notice("reg.notice", "")
        ),
    )
    .unwrap();
    let err = l.fails(2, &["registry", "load", reg.to_str().unwrap()]);
    assert_eq!(registered(&l), before);
    assert!(
        err.contains("reg.two"),
        "the message names the entry: {err}"
    );

    // A conflict found only by the ledger (jmsu.privacy@1 has another text) also
    // undoes the entries before it.
    std::fs::write(
        &reg,
        format!(
            "{}{}{PURPOSE_OK}",
            notice("reg.notice", ""),
            notice("jmsu.privacy", "")
        ),
    )
    .unwrap();
    l.fails(4, &["registry", "load", reg.to_str().unwrap()]);
    assert_eq!(registered(&l), before);
}

#[test]
fn registry_load_needs_every_text_it_is_given() {
    let l = Ledger::ljmu();
    let before = registered(&l);
    let texts = l.file("texts");
    std::fs::create_dir(&texts).unwrap();
    std::fs::write(texts.join("a.txt"), "text a").unwrap();
    std::fs::create_dir(texts.join("dir.txt")).unwrap();
    let reg = l.file("reg.toml");
    let a = "[[notice]]\nid = \"reg.a\"\nversion = \"1\"\ntitle = \"A\"\ncontroller = \"LJMU\"\npurposes = [\"reg.*\"]\ntext_file = \"a.txt\"\n";
    // A missing text, with --texts: refused, naming the file.
    std::fs::write(
        &reg,
        format!("{a}{PURPOSE_OK}{}", notice("reg.b", "missing-b.txt")),
    )
    .unwrap();
    let args = [
        "registry",
        "load",
        reg.to_str().unwrap(),
        "--texts",
        texts.to_str().unwrap(),
    ];
    let err = l.fails(3, &args);
    assert!(err.contains("missing-b.txt"), "{err}");
    assert_eq!(registered(&l), before);
    // An unreadable one (here a folder) is refused with or without --texts.
    std::fs::write(&reg, format!("{a}{}", notice("reg.c", "dir.txt"))).unwrap();
    let err = l.fails(3, &args);
    assert!(err.contains("dir.txt"), "{err}");
    std::fs::copy(texts.join("a.txt"), l.file("a.txt")).unwrap();
    std::fs::create_dir(l.file("dir.txt")).unwrap();
    let err = l.fails(3, &["registry", "load", reg.to_str().unwrap()]);
    assert!(err.contains("dir.txt"), "{err}");
    assert_eq!(registered(&l), before);
    // With every text there, it loads.
    std::fs::write(&reg, format!("{a}{PURPOSE_OK}")).unwrap();
    let out = l.ok(&args);
    assert!(out.contains("text") && out.contains("2 recorded"), "{out}");
}
