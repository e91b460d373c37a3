//! Issue 13 end to end through the `consent` binary: keys, signed checkpoints, two
//! witnesses, the publish directory, `verify` against checkpoints, receipts on a
//! cosigned checkpoint — and the insider who rewrites the ledger file, caught by the
//! copies held elsewhere. (Refusals and bad input: `trust_refusals.rs`.)

#[path = "common/outcome.rs"]
mod outcome;
#[allow(dead_code)] // each test binary uses part of the shared world
#[path = "common/world.rs"]
mod world;

use serde_json::Value;
use world::World;

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
