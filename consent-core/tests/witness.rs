//! The witness (issue 13, part A): cosigns a log's checkpoint only when it extends the
//! last one it cosigned, and refuses a fork, a rollback or a bad proof loudly, with the
//! evidence on disk. Attacker first: the log (or whoever holds its key) is the one
//! trying to fool the witness; a second witness process on the same state is the race.

use std::path::Path;
use std::sync::{Arc, Barrier};

use consent_core::consent_note::{
    Checkpoint, ErrorKind as NoteKind, SignatureType, SigningKey, VerifierKey,
};
use consent_core::merkle::{self, MemoryTree};
use consent_core::*;

const ORIGIN: &str = "ljmu.ac.uk/consent";

fn log_key() -> SigningKey {
    SigningKey::from_seed(ORIGIN, SignatureType::Ed25519, &[1; 32]).unwrap()
}

fn witness_key() -> SigningKey {
    SigningKey::from_seed(
        "dpo.ljmu.ac.uk/witness",
        SignatureType::CosignatureV1,
        &[9; 32],
    )
    .unwrap()
}

fn witness(dir: &Path) -> Witness {
    Witness::open(
        dir,
        witness_key(),
        vec![(ORIGIN.into(), log_key().verifier_key())],
    )
    .unwrap()
    .with_clock(|| 1_700_000_000)
}

/// A log the test controls: leaves `<tag><i>`; two logs built with the same first
/// leaves and then different ones are a fork.
struct Log {
    tree: MemoryTree,
    key: SigningKey,
}

impl Log {
    fn new(n: u64) -> Log {
        let mut log = Log {
            tree: MemoryTree::new(),
            key: log_key(),
        };
        log.grow("a", n);
        log
    }

    fn grow(&mut self, tag: &str, n: u64) {
        for _ in 0..n {
            let i = self.tree.size();
            self.tree.push(format!("{tag}{i}").as_bytes());
        }
    }

    fn checkpoint(&mut self, size: u64) -> Checkpoint {
        let Ok(root) = merkle::root(size, &mut self.tree);
        Checkpoint {
            origin: ORIGIN.into(),
            size,
            root,
            extensions: vec![],
        }
    }

    fn note(&mut self, size: u64) -> String {
        self.checkpoint(size).sign(&self.key).unwrap().to_string()
    }

    fn proof(&mut self, old: u64, new: u64) -> ConsistencyProof {
        let Ok(path) = merkle::consistency_proof(old, new, &mut self.tree);
        ConsistencyProof {
            old_size: old,
            new_size: new,
            path: path.unwrap(),
        }
    }
}

fn refusal(e: Error) -> Refusal {
    match e {
        Error::WitnessRefused(r) => r,
        other => panic!("not a refusal: {other}"),
    }
}

fn evidence_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir.join("evidence"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

/// Reads an evidence file: its JSON, checking it holds both notes as given.
fn evidence(path: &Path, cosigned_size: u64, refused: &str) -> serde_json::Value {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(v["format"], "consent-ledger/witness-evidence/v1");
    assert_eq!(v["refused"], refused);
    let cosigned = v["cosigned"].as_str().unwrap();
    let opened = Checkpoint::open(
        cosigned.as_bytes(),
        ORIGIN,
        &log_key().verifier_key(),
        &[witness_key().verifier_key()],
    )
    .unwrap();
    assert_eq!(opened.checkpoint.size, cosigned_size);
    assert_eq!(opened.cosignatures.len(), 1);
    v
}

#[test]
fn first_use_is_trusted_then_only_proved_growth_is_cosigned() {
    let dir = tempfile::tempdir().unwrap();
    let w = witness(dir.path());
    let mut log = Log::new(10);
    assert_eq!(w.latest(ORIGIN).unwrap(), None);

    let first = w.cosign(&log.note(10), None).unwrap();
    assert_eq!(first.previous_size, None);
    assert_eq!(first.timestamp, 1_700_000_000);
    assert_eq!(w.latest(ORIGIN).unwrap(), Some(log.checkpoint(10)));
    assert!(dir.path().join("logs/ljmu.ac.uk%2Fconsent").is_file());
    // The cosigned note opens with the witness's key, at the witness's time.
    let opened = Checkpoint::open(
        first.note.as_bytes(),
        ORIGIN,
        &log_key().verifier_key(),
        &[w.verifier_key()],
    )
    .unwrap();
    assert_eq!(opened.cosignatures[0].timestamp, Some(1_700_000_000));
    assert!(first.note.ends_with(&format!("{}\n", first.signature)));

    log.grow("a", 7);
    let proof = log.proof(10, 17);
    let grown = w.cosign(&log.note(17), Some(&proof)).unwrap();
    assert_eq!(grown.previous_size, Some(10));
    assert_eq!(w.latest(ORIGIN).unwrap(), Some(log.checkpoint(17)));

    // The same checkpoint again: the cosignature is issued again, at the new time.
    let w = witness(dir.path()).with_clock(|| 1_800_000_000);
    let again = w.cosign(&log.note(17), None).unwrap();
    assert_eq!(again.timestamp, 1_800_000_000);
    assert_eq!(again.previous_size, Some(17));
    assert!(evidence_files(dir.path()).is_empty());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(dir.path().join("logs/ljmu.ac.uk%2Fconsent")).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
}

#[test]
fn growth_needs_a_proof_of_the_right_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let w = witness(dir.path());
    let mut log = Log::new(10);
    w.cosign(&log.note(10), None).unwrap();
    log.grow("a", 10);

    let r = refusal(w.cosign(&log.note(20), None).unwrap_err());
    assert_eq!(r.kind, RefusalKind::ProofRequired);
    assert!(r.message.contains("from size 10 to 20"), "{}", r.message);
    // A valid proof, but between other sizes.
    let other = log.proof(12, 20);
    let r = refusal(w.cosign(&log.note(20), Some(&other)).unwrap_err());
    assert_eq!(r.kind, RefusalKind::ProofRequired, "{r}");
    let other = log.proof(10, 19);
    let r = refusal(w.cosign(&log.note(20), Some(&other)).unwrap_err());
    assert_eq!(r.kind, RefusalKind::ProofRequired, "{r}");
    assert!(evidence_files(dir.path()).is_empty());
    assert_eq!(w.latest(ORIGIN).unwrap().unwrap().size, 10);
}

#[test]
fn a_bad_proof_is_refused_with_its_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let w = witness(dir.path());
    let mut log = Log::new(10);
    w.cosign(&log.note(10), None).unwrap();
    log.grow("a", 10);
    let note = log.note(20);
    let good = log.proof(10, 20);

    let mut flipped = good.clone();
    flipped.path[0][0] ^= 1;
    let mut short = good.clone();
    short.path.pop();
    for bad in [flipped, short] {
        let r = refusal(w.cosign(&note, Some(&bad)).unwrap_err());
        assert_eq!(r.kind, RefusalKind::Inconsistent, "{r}");
        let path = r.evidence.clone().unwrap();
        let v = evidence(&path, 10, &note);
        assert_eq!(v["kind"], "inconsistent");
        let proof: ConsistencyProof = serde_json::from_value(v["proof"].clone()).unwrap();
        assert_eq!(proof, bad);
        assert!(r.to_string().starts_with("INCONSISTENT: "), "{r}");
    }
    assert_eq!(evidence_files(dir.path()).len(), 2);
    assert_eq!(w.latest(ORIGIN).unwrap().unwrap().size, 10);
    w.cosign(&note, Some(&good)).unwrap();
}

#[test]
fn a_fork_is_refused_loudly_with_both_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let w = witness(dir.path());
    let mut honest = Log::new(10);
    let mut forked = Log::new(10);
    honest.grow("a", 6);
    forked.grow("b", 6);
    w.cosign(&honest.note(10), None).unwrap();
    w.cosign(&honest.note(16), Some(&honest.proof(10, 16)))
        .unwrap();

    // The other branch, at the same size: the log signed both.
    let fork_note = forked.note(16);
    let e = w
        .cosign(&fork_note, Some(&forked.proof(10, 16)))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::WitnessRefused);
    let r = refusal(e);
    assert_eq!(r.kind, RefusalKind::Fork);
    let b64 = |c: Checkpoint| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(c.root)
    };
    assert!(
        r.message.contains(&b64(honest.checkpoint(16))),
        "{}",
        r.message
    );
    assert!(
        r.message.contains(&b64(forked.checkpoint(16))),
        "{}",
        r.message
    );
    let v = evidence(r.evidence.as_ref().unwrap(), 16, &fork_note);
    assert_eq!(v["kind"], "fork");
    assert_eq!(v["origin"], ORIGIN);

    // A larger checkpoint of the other branch: its proof from the cosigned size fails.
    forked.grow("b", 4);
    let r = refusal(
        w.cosign(&forked.note(20), Some(&forked.proof(16, 20)))
            .unwrap_err(),
    );
    assert_eq!(r.kind, RefusalKind::Inconsistent, "{r}");
    assert_eq!(w.latest(ORIGIN).unwrap(), Some(honest.checkpoint(16)));
}

#[test]
fn a_rollback_is_refused_loudly() {
    let dir = tempfile::tempdir().unwrap();
    let w = witness(dir.path());
    let mut log = Log::new(10);
    w.cosign(&log.note(10), None).unwrap();
    log.grow("a", 5);
    w.cosign(&log.note(15), Some(&log.proof(10, 15))).unwrap();

    let old = log.note(10);
    let r = refusal(w.cosign(&old, None).unwrap_err());
    assert_eq!(r.kind, RefusalKind::Rollback);
    assert!(
        r.message.contains("size 10") && r.message.contains("size 15"),
        "{}",
        r.message
    );
    let v = evidence(r.evidence.as_ref().unwrap(), 15, &old);
    assert_eq!(v["kind"], "rollback");
    assert_eq!(w.latest(ORIGIN).unwrap().unwrap().size, 15);
}

#[test]
fn forged_notes_and_unknown_logs_are_refused_without_touching_the_state() {
    let dir = tempfile::tempdir().unwrap();
    let w = witness(dir.path());
    let mut log = Log::new(10);

    // An impostor key with the log's name.
    let impostor = SigningKey::from_seed(ORIGIN, SignatureType::Ed25519, &[66; 32]).unwrap();
    let fake = log.checkpoint(10).sign(&impostor).unwrap().to_string();
    let e = w.cosign(&fake, None).unwrap_err();
    assert!(
        matches!(&e, Error::Note(n) if n.kind() == NoteKind::MissingLogSignature),
        "{e}"
    );
    // A changed byte.
    let note = log.note(10);
    let forged = note.replacen("\n10\n", "\n11\n", 1);
    let e = w.cosign(&forged, None).unwrap_err();
    assert!(
        matches!(&e, Error::Note(n) if n.kind() == NoteKind::BadSignature),
        "{e}"
    );
    // A log the witness does not watch, however well signed.
    let stranger =
        SigningKey::from_seed("evil.example/log", SignatureType::Ed25519, &[5; 32]).unwrap();
    let mut c = log.checkpoint(10);
    c.origin = "evil.example/log".into();
    let r = refusal(
        w.cosign(&c.sign(&stranger).unwrap().to_string(), None)
            .unwrap_err(),
    );
    assert_eq!(r.kind, RefusalKind::UnknownLog);
    assert!(r.evidence.is_none());
    assert!(w.cosign("not a note", None).is_err());

    assert_eq!(w.latest(ORIGIN).unwrap(), None);
    assert!(evidence_files(dir.path()).is_empty());
    // And the first real one is still taken on first use.
    assert_eq!(w.cosign(&note, None).unwrap().previous_size, None);
}

#[test]
fn a_damaged_or_foreign_state_file_stops_the_witness() {
    let dir = tempfile::tempdir().unwrap();
    let w = witness(dir.path());
    let mut log = Log::new(10);
    let first = w.cosign(&log.note(10), None).unwrap();
    let state = dir.path().join("logs/ljmu.ac.uk%2Fconsent");
    log.grow("a", 2);
    let (next, proof) = (log.note(12), log.proof(10, 12));

    let cases: Vec<(&str, String)> = vec![
        ("garbage", "garbage".into()),
        ("empty", String::new()),
        // The log's note without this witness's cosignature: written by someone else.
        ("not cosigned", log.note(10)),
        // Cosigned by another witness key.
        ("another witness", {
            let other = SigningKey::from_seed(
                "dpo.ljmu.ac.uk/witness",
                SignatureType::CosignatureV1,
                &[10; 32],
            )
            .unwrap();
            let mut n = consent_core::consent_note::Note::parse(log.note(10).as_bytes()).unwrap();
            n.add_signature(other.cosign(&log.checkpoint(10), 5).unwrap())
                .unwrap();
            n.to_string()
        }),
        // This witness's own cosigned note, with its size edited down.
        ("edited", first.note.replacen("\n10\n", "\n3\n", 1)),
    ];
    for (what, content) in cases {
        std::fs::write(&state, &content).unwrap();
        let e = w.cosign(&next, Some(&proof)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{what}: {e}");
        assert!(
            e.to_string().contains("ljmu.ac.uk%2Fconsent"),
            "{what}: {e}"
        );
        assert_eq!(std::fs::read_to_string(&state).unwrap(), content, "{what}");
    }
    // Restored, it carries on.
    std::fs::write(&state, &first.note).unwrap();
    assert_eq!(
        w.cosign(&next, Some(&proof)).unwrap().previous_size,
        Some(10)
    );
}

#[test]
fn two_witness_processes_on_one_state_never_both_cosign_a_fork() {
    for round in 0..8 {
        let dir = tempfile::tempdir().unwrap();
        let mut honest = Log::new(10);
        let mut forked = Log::new(10);
        witness(dir.path()).cosign(&honest.note(10), None).unwrap();
        honest.grow("a", 5);
        forked.grow("b", 5);
        let branches = [
            (honest.note(15), honest.proof(10, 15)),
            (forked.note(15), forked.proof(10, 15)),
        ];
        let barrier = Arc::new(Barrier::new(2));
        let outcomes: Vec<Result<Cosigned>> = std::thread::scope(|s| {
            let handles: Vec<_> = branches
                .iter()
                .map(|(note, proof)| {
                    let barrier = barrier.clone();
                    let dir = dir.path();
                    s.spawn(move || {
                        // A separate instance: its own lock file description.
                        let w = witness(dir);
                        barrier.wait();
                        w.cosign(note, Some(proof))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let wins = outcomes.iter().filter(|o| o.is_ok()).count();
        assert_eq!(wins, 1, "round {round}: {outcomes:?}");
        let (won, lost): (Vec<_>, Vec<_>) = outcomes.into_iter().partition(|o| o.is_ok());
        let winner = won.into_iter().next().unwrap().unwrap().checkpoint;
        let lost = lost.into_iter().next().unwrap().unwrap_err();
        assert_eq!(refusal(lost).kind, RefusalKind::Fork, "round {round}");
        assert_eq!(witness(dir.path()).latest(ORIGIN).unwrap(), Some(winner));
    }
}

#[test]
fn a_witness_is_configured_with_keys_of_the_right_types() {
    let dir = tempfile::tempdir().unwrap();
    let log = (ORIGIN.to_string(), log_key().verifier_key());
    let e = Witness::open(dir.path(), log_key(), vec![log.clone()]).unwrap_err();
    assert!(
        matches!(&e, Error::Note(n) if n.kind() == NoteKind::WrongKeyType),
        "{e}"
    );
    let as_log: VerifierKey = witness_key().verifier_key();
    let e = Witness::open(dir.path(), witness_key(), vec![(ORIGIN.into(), as_log)]).unwrap_err();
    assert!(
        matches!(&e, Error::Note(n) if n.kind() == NoteKind::WrongKeyType),
        "{e}"
    );
    let e = Witness::open(dir.path(), witness_key(), vec![log.clone(), log]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
}

#[test]
fn a_ledger_a_witness_and_the_publish_directory_together() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path().join("ledger.db")).unwrap();
    let w = witness(&dir.path().join("witness"));
    let public = dir.path().join("www");
    let purpose = PurposeDef::new("jmsu.marketing", "JMSU marketing", "JMSU");
    ledger.register_purpose(purpose).unwrap();

    let signed = ledger.sign_checkpoint(&log_key()).unwrap();
    let cosigned = w.cosign(&signed.note, None).unwrap();
    let merged = ledger.add_cosignatures(&cosigned.note).unwrap();
    publish_checkpoint(&public, &merged.note).unwrap();

    // The ledger grows; the witness is given a proof from what it last cosigned.
    let purpose = PurposeDef::new("jmsu.course-rep", "Course reps", "JMSU");
    ledger.register_purpose(purpose).unwrap();
    let signed = ledger.sign_checkpoint(&log_key()).unwrap();
    let last = w.latest(ORIGIN).unwrap().unwrap();
    let old = Head {
        size: last.size,
        root: last.root,
    };
    let (proof, _) = ledger
        .prove_consistency(&old, Some(signed.checkpoint.size))
        .unwrap();
    let cosigned = w.cosign(&signed.note, Some(&proof)).unwrap();
    let merged = ledger.add_cosignatures(&cosigned.note).unwrap();
    publish_checkpoint(&public, &merged.note).unwrap();

    let published = read_published(&public).unwrap();
    let v = ledger
        .check_checkpoint(
            &published,
            &log_key().verifier_key(),
            &[w.verifier_key()],
            1,
        )
        .unwrap();
    assert!(v.holds());
    assert_eq!(v.witnesses[0].name, "dpo.ljmu.ac.uk/witness");
    let report = ledger
        .verify_checkpoints(&log_key().verifier_key(), &[w.verifier_key()], 1)
        .unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.checked, 2);
}
