//! The world of the issue-13 CLI tests: a ledger with the LJMU registry, a log key, two
//! witnesses (the DPO's office, the students' union) and a publish directory, in one
//! temporary folder, driven through the real `consent` binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::outcome::{expect_code, expect_ok};

pub const BIN: &str = env!("CARGO_BIN_EXE_consent");

/// A ledger with the LJMU registry, a log key, two witnesses and a publish directory,
/// all in one temporary folder.
pub struct World {
    pub dir: tempfile::TempDir,
    pub log_vkey: String,
    pub dpo_vkey: String,
    pub jmsu_vkey: String,
}

fn registry() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/ljmu/registry.toml")
}

impl World {
    pub fn new() -> World {
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
    pub fn p(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_owned()
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .env("CONSENT_LEDGER", self.dir.path().join("ledger.db"))
            .env("CONSENT_NOW", "2025-01-10T15:00:00Z")
            .env_remove("CONSENT_LOG_KEY")
            .output()
            .unwrap()
    }

    /// Runs, expects exit 0, returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        expect_ok(self.run(args), args)
    }

    /// Runs, expects exit 0, returns stdout's one line.
    pub fn ok_line(&self, args: &[&str]) -> String {
        self.ok(args).trim_end().to_owned()
    }

    /// Runs, expects exit `code`, returns stderr.
    pub fn fails(&self, code: i32, args: &[&str]) -> String {
        expect_code(self.run(args), code, args)
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        serde_json::from_str(&self.ok(&a)).unwrap()
    }

    pub fn give(&self, subject: &str) -> String {
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
    pub fn nightly(&self) {
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
    pub fn verify_args<'a>(&'a self, checkpoint: &'a str) -> Vec<&'a str> {
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

    pub fn cosign(&self, witness: &str) -> Output {
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

    pub fn backup(&self) {
        std::fs::copy(
            self.dir.path().join("ledger.db"),
            self.dir.path().join("backup.db"),
        )
        .unwrap();
    }

    pub fn restore(&self) {
        std::fs::copy(
            self.dir.path().join("backup.db"),
            self.dir.path().join("ledger.db"),
        )
        .unwrap();
    }
}
