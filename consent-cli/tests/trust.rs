//! Issue 13 end to end through the `consent` binary: keys, signed checkpoints, two
//! witnesses, the publish directory, `verify` against checkpoints, receipts on a
//! cosigned checkpoint — and the insider who rewrites the ledger file, caught by the
//! copies held elsewhere. Every refusal is checked by its exit code.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_consent");

/// A ledger with the LJMU registry, a log key, two witnesses and a publish directory,
/// all in one temporary folder.
struct World {
    dir: tempfile::TempDir,
    log_vkey: String,
    dpo_vkey: String,
    jmsu_vkey: String,
}

fn registry() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/ljmu/registry.toml")
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let mut w = World {
            dir,
            log_vkey: String::new(),
            dpo_vkey: String::new(),
            jmsu_vkey: String::new(),
        };
        w.ok(&["init"]);
        w.ok(&["registry", "load", registry().to_str().unwrap()]);
        let log = w.p("log.key");
        w.log_vkey = w.ok_line(&[
            "key",
            "generate",
            "--name",
            "ljmu.ac.uk/consent",
            "-o",
            &log,
        ]);
        let dpo = w.p("dpo.key");
        w.dpo_vkey = w.ok_line(&[
            "key",
            "generate",
            "--witness",
            "--name",
            "dpo.ljmu.ac.uk/witness",
            "-o",
            &dpo,
        ]);
        let jmsu = w.p("jmsu.key");
        w.jmsu_vkey = w.ok_line(&[
            "key",
            "generate",
            "--witness",
            "--name",
            "jmsu.org.uk/witness",
            "-o",
            &jmsu,
        ]);
        w
    }

    /// A path in the world's folder, as a string.
    fn p(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_owned()
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .env("CONSENT_LEDGER", self.dir.path().join("ledger.db"))
            .env("CONSENT_NOW", "2025-01-10T15:00:00Z")
            .env_remove("CONSENT_LOG_KEY")
            .output()
            .unwrap()
    }

    /// Runs, expects exit 0, returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "consent {args:?}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs, expects exit 0, returns stdout's one line.
    fn ok_line(&self, args: &[&str]) -> String {
        self.ok(args).trim_end().to_owned()
    }

    /// Runs, expects exit `code`, returns stderr.
    fn fails(&self, code: i32, args: &[&str]) -> String {
        let out = self.run(args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(code),
            "consent {args:?}:\n{}{err}",
            String::from_utf8_lossy(&out.stdout)
        );
        err
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        serde_json::from_str(&self.ok(&a)).unwrap()
    }

    fn give(&self, subject: &str) -> String {
        let v = self.json(&[
            "give",
            subject,
            "jmsu.data-sharing",
            "--notice",
            "jmsu.privacy@1",
            "--method",
            "portal",
        ]);
        v["id"].as_str().unwrap().to_owned()
    }

    /// The keeper's nightly round: sign, both witnesses cosign (from the ledger),
    /// merge and publish.
    fn nightly(&self) {
        let (log, publish) = (self.p("log.key"), self.p("pub"));
        self.ok(&["checkpoint", "--key", &log, "--publish", &publish]);
        for w in ["dpo", "jmsu"] {
            let (state, key, out) = (
                self.p(&format!("w-{w}")),
                self.p(&format!("{w}.key")),
                self.p(&format!("{w}.note")),
            );
            self.ok(&[
                "witness",
                "cosign",
                "--state",
                &state,
                "--key",
                &key,
                "--log-key",
                &self.log_vkey,
                "-o",
                &out,
            ]);
        }
        self.ok(&[
            "checkpoint",
            "add-cosignatures",
            &self.p("dpo.note"),
            &self.p("jmsu.note"),
            "--publish",
            &publish,
        ]);
    }

    /// `verify` with every key, a quorum of 2 and the given outside checkpoint.
    fn verify_args<'a>(&'a self, checkpoint: &'a str) -> Vec<&'a str> {
        vec![
            "verify",
            "--log-key",
            &self.log_vkey,
            "--witness-key",
            &self.dpo_vkey,
            "--witness-key",
            &self.jmsu_vkey,
            "--quorum",
            "2",
            "--checkpoint",
            checkpoint,
        ]
    }

    fn cosign(&self, witness: &str) -> Output {
        let (state, key) = (
            self.p(&format!("w-{witness}")),
            self.p(&format!("{witness}.key")),
        );
        self.run(&[
            "witness",
            "cosign",
            "--state",
            &state,
            "--key",
            &key,
            "--log-key",
            &self.log_vkey,
        ])
    }

    fn backup(&self) {
        std::fs::copy(
            self.dir.path().join("ledger.db"),
            self.dir.path().join("backup.db"),
        )
        .unwrap();
    }

    fn restore(&self) {
        std::fs::copy(
            self.dir.path().join("backup.db"),
            self.dir.path().join("ledger.db"),
        )
        .unwrap();
    }
}

#[test]
fn a_checkpoint_is_signed_cosigned_published_and_relied_on() {
    let w = World::new();
    let grant = w.give("770001");
    w.nightly();

    // The ledger keeps it with the three signature lines; `show` prints the note.
    let list = w.json(&["checkpoint", "list"]);
    let signers = &list[0]["signed_by"];
    assert_eq!(signers.as_array().unwrap().len(), 3, "{list}");
    let shown = w.ok(&["checkpoint", "show", "latest"]);
    assert_eq!(
        shown,
        std::fs::read_to_string(w.dir.path().join("pub/checkpoint")).unwrap()
    );
    let size = list[0]["size"].as_u64().unwrap();
    assert_eq!(w.ok(&["checkpoint", "show", &size.to_string()]), shown);

    // verify: every hash, the ledger's checkpoints, the published one with quorum 2.
    let publish = w.p("pub");
    let out = w.ok(&w.verify_args(&publish));
    assert!(
        out.contains("ok: the log holds the published checkpoint"),
        "{out}"
    );
    assert!(
        out.contains("cosigned by dpo.ljmu.ac.uk/witness and jmsu.org.uk/witness"),
        "{out}"
    );
    let mut a = vec!["--json"];
    a.extend(w.verify_args(&publish));
    let v: Value = serde_json::from_str(&w.ok(&a)).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["checkpoints"]["ok"], true);
    assert_eq!(v["published"]["holds"], true);
    // A note file works as well as the directory.
    w.ok(&w.verify_args(&w.p("pub/checkpoint")));

    // The receipt takes the latest checkpoint, cosignatures included.
    let receipt = w.p("receipt.json");
    w.ok(&["receipt", &grant, "--checkpoint", "latest", "-o", &receipt]);
    let checked = w.ok(&[
        "check-receipt",
        &receipt,
        "--log-key",
        &w.log_vkey,
        "--witness-key",
        &w.dpo_vkey,
        "--witness-key",
        &w.jmsu_vkey,
        "--quorum",
        "2",
    ]);
    assert!(
        checked.contains("2 of the 2 witness cosignatures required"),
        "{checked}"
    );

    // The log grows: the witnesses need (and get, from the ledger) a consistency proof.
    w.give("770002");
    w.nightly();
    assert_eq!(w.json(&["checkpoint", "list"]).as_array().unwrap().len(), 2);
    let shown = w.ok(&[
        "witness",
        "show",
        "--state",
        &w.p("w-dpo"),
        "--key",
        &w.p("dpo.key"),
    ]);
    assert!(shown.contains("no refusal on record"), "{shown}");
    w.ok(&w.verify_args(&publish));
}

#[test]
fn an_insider_rewrite_is_caught_by_the_published_copy_and_the_witnesses() {
    let w = World::new();
    w.give("770001");
    w.nightly();
    w.backup();
    let withdrawal = w.json(&[
        "withdraw",
        "770001",
        "jmsu.data-sharing",
        "--method",
        "portal",
    ]);
    w.nightly();
    let receipt = w.p("receipt.json");
    w.ok(&[
        "receipt",
        withdrawal["id"].as_str().unwrap(),
        "--checkpoint",
        "latest",
        "-o",
        &receipt,
    ]);

    // The insider: the backup over the ledger, another event in place of the withdrawal.
    w.restore();
    w.give("770003");
    // Every hash is consistent, and so is the ledger's own table (restored with it).
    let out = w.ok(&["verify", "--log-key", &w.log_vkey]);
    assert!(
        out.contains("ok: the checkpoints the ledger signed hold"),
        "{out}"
    );

    // The published checkpoint does not hold any more.
    let err = w.fails(1, &w.verify_args(&w.p("pub")));
    assert!(
        err.contains("TAMPERED: the log does not hold the published checkpoint"),
        "{err}"
    );
    assert!(err.contains("the log was rewritten before size"), "{err}");
    // The student's receipt still checks with the keys alone.
    w.ok(&[
        "check-receipt",
        &receipt,
        "--log-key",
        &w.log_vkey,
        "--witness-key",
        &w.dpo_vkey,
        "--witness-key",
        &w.jmsu_vkey,
    ]);

    // Signed with the log key, the rewritten head is refused by the publish directory
    // and by each witness, which keeps both notes as evidence.
    let err = w.fails(
        1,
        &[
            "checkpoint",
            "--key",
            &w.p("log.key"),
            "--publish",
            &w.p("pub"),
        ],
    );
    assert!(err.contains("refused to publish"), "{err}");
    for witness in ["dpo", "jmsu"] {
        let out = w.cosign(witness);
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("FORK: log `ljmu.ac.uk/consent` signed two trees of size"),
            "{err}"
        );
        let evidence: Vec<_> =
            std::fs::read_dir(w.dir.path().join(format!("w-{witness}/evidence")))
                .unwrap()
                .collect();
        assert_eq!(evidence.len(), 1);
    }
    let shown = w.json(&[
        "witness",
        "show",
        "--state",
        &w.p("w-dpo"),
        "--key",
        &w.p("dpo.key"),
    ]);
    assert_eq!(shown["evidence"].as_array().unwrap().len(), 1, "{shown}");

    // A longer rewrite: the ledger proves consistency from its own tree, which does not
    // verify against what the witness holds (inconsistent, exit 1, evidence).
    w.give("770004");
    w.ok(&["checkpoint", "--key", &w.p("log.key")]);
    let out = w.cosign("dpo");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("INCONSISTENT"),
        "{out:?}"
    );
}

#[test]
fn a_truncated_ledger_and_a_rollback_are_caught() {
    let w = World::new();
    w.give("770001");
    w.nightly();
    w.backup();
    w.give("770002");
    w.nightly();
    w.restore(); // the tail is gone
    let err = w.fails(1, &w.verify_args(&w.p("pub")));
    assert!(err.contains("truncated: the log has fewer events"), "{err}");
    // The insider re-signs the shorter head: a rollback for the witness.
    w.ok(&["checkpoint", "--key", &w.p("log.key")]);
    let out = w.cosign("jmsu");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("ROLLBACK"),
        "{out:?}"
    );
}

#[test]
fn witness_refusals_have_their_exit_codes() {
    let w = World::new();
    w.give("770001");
    let (log, dpo, state) = (w.p("log.key"), w.p("dpo.key"), w.p("w-dpo"));
    let note = w.p("c1.note");
    std::fs::write(&note, w.ok(&["checkpoint", "--key", &log])).unwrap();
    let head1 = w.json(&["head"])["head"].as_str().unwrap().to_owned();
    w.ok(&[
        "witness",
        "cosign",
        "--state",
        &state,
        "--key",
        &dpo,
        "--log-key",
        &w.log_vkey,
        "--checkpoint",
        &note,
    ]);

    // A log this witness does not watch: usage (2).
    let other = w.p("other.key");
    let other_vkey = w.ok_line(&[
        "key",
        "generate",
        "--name",
        "other.example/log",
        "-o",
        &other,
    ]);
    let err = w.fails(
        2,
        &[
            "witness",
            "cosign",
            "--state",
            &state,
            "--key",
            &dpo,
            "--log-key",
            &other_vkey,
            "--checkpoint",
            &note,
        ],
    );
    assert!(err.contains("UNKNOWN-LOG"), "{err}");

    // A larger checkpoint from a file without a proof: more evidence needed (7), and
    // the message says which proof to ask for.
    w.give("770002");
    let note2 = w.p("c2.note");
    std::fs::write(&note2, w.ok(&["checkpoint", "--key", &log])).unwrap();
    let cosign2 = |extra: &[&str]| {
        let mut a = vec![
            "witness",
            "cosign",
            "--state",
            &state,
            "--key",
            &dpo,
            "--log-key",
            &w.log_vkey,
            "--checkpoint",
            &note2,
        ];
        a.extend_from_slice(extra);
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let args = cosign2(&[]);
    let err = w.fails(7, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        err.contains(&format!("consent prove consistency {head1}")),
        "{err}"
    );
    // The proof the keeper gives, and the same proof claiming other sizes (7).
    let proof = w.p("proof.json");
    w.ok(&["prove", "consistency", &head1, "-o", &proof]);
    let mut wrong: Value = serde_json::from_str(&std::fs::read_to_string(&proof).unwrap()).unwrap();
    wrong["proof"]["old_size"] = Value::from(1);
    let bad_proof = w.p("bad-proof.json");
    std::fs::write(&bad_proof, wrong.to_string()).unwrap();
    let args = cosign2(&["--proof", &bad_proof]);
    w.fails(7, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let args = cosign2(&["--proof", &proof]);
    w.ok(&args.iter().map(String::as_str).collect::<Vec<_>>());

    // Bad inputs: a log key file as the witness key (9), a missing note (3), a
    // malformed note (1), a proof file that is not one (2).
    w.fails(
        9,
        &[
            "witness",
            "cosign",
            "--state",
            &state,
            "--key",
            &log,
            "--log-key",
            &w.log_vkey,
            "--checkpoint",
            &note,
        ],
    );
    w.fails(
        3,
        &[
            "witness",
            "cosign",
            "--state",
            &state,
            "--key",
            &dpo,
            "--log-key",
            &w.log_vkey,
            "--checkpoint",
            &w.p("missing.note"),
        ],
    );
    let garbage = w.p("garbage.note");
    std::fs::write(
        &garbage,
        "ljmu.ac.uk/consent\n3\nnot base64\n\n— nobody AAAA\n",
    )
    .unwrap();
    w.fails(
        1,
        &[
            "witness",
            "cosign",
            "--state",
            &state,
            "--key",
            &dpo,
            "--log-key",
            &w.log_vkey,
            "--checkpoint",
            &garbage,
        ],
    );
    w.fails(
        2,
        &[
            "witness",
            "cosign",
            "--state",
            &state,
            "--key",
            &dpo,
            "--log-key",
            &w.log_vkey,
            "--checkpoint",
            &note2,
            "--proof",
            &garbage,
        ],
    );
    w.fails(
        2,
        &[
            "witness",
            "cosign",
            "--state",
            &state,
            "--key",
            &dpo,
            "--log-key",
            "not a key",
            "--checkpoint",
            &note,
        ],
    );
}

#[test]
fn bad_keys_and_notes_are_refused() {
    let w = World::new();
    let grant = w.give("770001");
    let log = w.p("log.key");

    // Nothing signed yet: a receipt on `latest` says how to make one (3).
    let err = w.fails(3, &["receipt", &grant, "--checkpoint", "latest"]);
    assert!(err.contains("consent checkpoint --key"), "{err}");
    let err = w.fails(
        3,
        &[
            "witness",
            "cosign",
            "--state",
            &w.p("w-dpo"),
            "--key",
            &w.p("dpo.key"),
            "--log-key",
            &w.log_vkey,
        ],
    );
    assert!(err.contains("signed no checkpoint"), "{err}");
    // No key given (2), a witness key as the log key (9), a missing key file (9).
    let err = w.fails(2, &["checkpoint"]);
    assert!(err.contains("CONSENT_LOG_KEY"), "{err}");
    w.fails(9, &["checkpoint", "--key", &w.p("dpo.key")]);
    w.fails(9, &["checkpoint", "--key", &w.p("missing.key")]);
    // The key from the environment.
    let out = Command::new(BIN)
        .args(["checkpoint"])
        .env("CONSENT_LEDGER", w.dir.path().join("ledger.db"))
        .env("CONSENT_LOG_KEY", &log)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");

    // show: an unknown size (3), not a size (2).
    w.fails(3, &["checkpoint", "show", "999"]);
    w.fails(2, &["checkpoint", "show", "abc"]);

    // An impostor key with the ledger's key name: the stored checkpoints are not its.
    let impostor = w.p("impostor.key");
    let impostor_vkey = w.ok_line(&[
        "key",
        "generate",
        "--name",
        "ljmu.ac.uk/consent",
        "-o",
        &impostor,
    ]);
    let err = w.fails(1, &["verify", "--log-key", &impostor_vkey]);
    assert!(err.contains("not one the log key signed"), "{err}");
    // A checkpoint without the quorum asked for: more evidence needed (7).
    let note = w.p("c.note");
    std::fs::write(&note, w.ok(&["checkpoint", "show"])).unwrap();
    let err = w.fails(7, &w.verify_args(&note));
    assert!(err.contains("witness cosignatures required"), "{err}");
    // A missing checkpoint file (3), a malformed note (1), a malformed key (2).
    w.fails(3, &w.verify_args(&w.p("missing.note")));
    let garbage = w.p("garbage.note");
    std::fs::write(&garbage, "hello\n").unwrap();
    w.fails(1, &w.verify_args(&garbage));
    w.fails(
        2,
        &["verify", "--log-key", "ljmu.ac.uk/consent+00000000+AAAA"],
    );
    // --checkpoint needs the log key to mean anything.
    w.fails(2, &["verify", "--checkpoint", &note]);

    // add-cosignatures: a note for a size never signed (3), another checkpoint text
    // under a size signed (4: a conflict, nothing merged), not a note at all (1).
    w.give("770002");
    let text = w.ok(&["checkpoint", "--key", &log]);
    let lines: Vec<&str> = text.lines().collect();
    let other = w.p("other.note");
    std::fs::write(
        &other,
        text.replacen(&format!("\n{}\n", lines[1]), "\n9999\n", 1),
    )
    .unwrap();
    w.fails(3, &["checkpoint", "add-cosignatures", &other]);
    let root = format!("{}=", "A".repeat(43));
    std::fs::write(&other, text.replacen(lines[2], &root, 1)).unwrap();
    w.fails(4, &["checkpoint", "add-cosignatures", &other]);
    w.fails(1, &["checkpoint", "add-cosignatures", &garbage]);
    w.fails(3, &["checkpoint", "add-cosignatures", &w.p("missing.note")]);
}
