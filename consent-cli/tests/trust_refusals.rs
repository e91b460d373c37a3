//! Issue 13's refusals through the `consent` binary, each by its exit code: a witness
//! refusing (unknown log, proof required, bad proof), wrong or missing keys, missing
//! and malformed notes, quorum not met, conflicting cosignatures.

#[path = "common/outcome.rs"]
mod outcome;
#[allow(dead_code)] // each test binary uses part of the shared world
#[path = "common/world.rs"]
mod world;

use std::process::Command;

use serde_json::Value;
use world::{World, BIN};

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
