//! Signed checkpoints (issue 13, part A): what the ledger signs and keeps, how a note
//! from anywhere is checked against it, and the publish directory. Attacker first: a
//! forged note, an impostor key, unknown and missing witnesses, and an insider who
//! truncates or consistently rewrites the log — with and without its `checkpoints`.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use consent_core::consent_note::{
    self, Checkpoint, ErrorKind as NoteKind, Note, SignatureType, SigningKey, VerifierKey,
};
use consent_core::*;
use rusqlite::Connection;
use serde_json::json;

const ORIGIN: &str = "ljmu.ac.uk/consent";

fn log_key() -> SigningKey {
    SigningKey::from_seed(ORIGIN, SignatureType::Ed25519, &[1; 32]).unwrap()
}

fn witness_key(name: &str, seed: u8) -> SigningKey {
    SigningKey::from_seed(name, SignatureType::CosignatureV1, &[seed; 32]).unwrap()
}

fn vkey(k: &SigningKey) -> VerifierKey {
    k.verifier_key()
}

/// A file ledger with the registry and `n` grants, each with evidence.
fn file_ledger(dir: &Path, n: usize) -> (Ledger, PathBuf) {
    let path = dir.join("ledger.db");
    let l = Ledger::open(&path).unwrap();
    register_all(&l);
    grant(&l, 0, n);
    (l, path)
}

fn grant(l: &Ledger, from: usize, n: usize) {
    for i in from..from + n {
        l.append(give(&format!("77{i:04}"), "jmsu.marketing").evidence(json!({"form": i})))
            .unwrap();
    }
}

/// Adds a witness's cosignature to a note, as a witness would.
fn cosign(note: &str, witness: &SigningKey, at: u64) -> String {
    let mut n = Note::parse(note.as_bytes()).unwrap();
    let c = Checkpoint::parse(n.text()).unwrap();
    n.add_signature(witness.cosign(&c, at).unwrap()).unwrap();
    n.to_string()
}

fn note_kind(e: &Error) -> NoteKind {
    match e {
        Error::Note(n) => n.kind(),
        other => panic!("not a note error: {other}"),
    }
}

/// Recomputes the `tree` table from the events as stored, as an insider who rewrote a
/// row would, so that `verify` alone sees nothing (docs/FORMAT.md §2 `tree`: every
/// complete node at level 4 and above, the lower ones only in the open block).
fn rebuild_tree(path: &Path) {
    let ids: Vec<Vec<u8>> = {
        let c = Connection::open(path).unwrap();
        let mut s = c.prepare("SELECT id FROM events ORDER BY seq").unwrap();
        let rows = s.query_map([], |r| r.get(0)).unwrap();
        rows.collect::<rusqlite::Result<_>>().unwrap()
    };
    let mut tree = merkle::MemoryTree::new();
    {
        let l = Ledger::open(path).unwrap();
        for id in &ids {
            let id = uuid::Uuid::from_slice(id).unwrap();
            tree.push(&l.canonical_event(id).unwrap());
        }
        l.close().unwrap();
    }
    let size = tree.size();
    let open_block = size >> 4 << 4;
    let c = Connection::open(path).unwrap();
    c.execute("DELETE FROM tree", []).unwrap();
    for level in 0..64u32 {
        for idx in 0..(size >> level) {
            if level >= 4 || idx << level >= open_block {
                let h = merkle::subtree_hash(idx << level, (idx + 1) << level, &mut tree).unwrap();
                c.execute(
                    "INSERT INTO tree(level, idx, hash) VALUES (?1, ?2, ?3)",
                    rusqlite::params![level, idx as i64, &h[..]],
                )
                .unwrap();
            }
        }
    }
}

#[test]
fn a_signed_checkpoint_is_kept_and_holds_while_the_log_grows() {
    let dir = tempfile::tempdir().unwrap();
    let (l, _) = file_ledger(dir.path(), 3);
    assert_eq!(l.latest_checkpoint().unwrap(), None);
    let first = l.sign_checkpoint(&log_key()).unwrap();
    assert_eq!(first.head(), l.head().unwrap());
    assert_eq!(first.checkpoint.origin, ORIGIN);
    assert!(first
        .note
        .starts_with(&format!("{ORIGIN}\n{}\n", first.checkpoint.size)));

    grant(&l, 3, 20);
    let second = l.sign_checkpoint(&log_key()).unwrap();
    assert_eq!(
        l.checkpoints().unwrap(),
        vec![first.clone(), second.clone()]
    );
    assert_eq!(l.latest_checkpoint().unwrap(), Some(second.clone()));

    for note in [&first.note, &second.note] {
        let v = l.check_checkpoint(note, &vkey(&log_key()), &[], 0).unwrap();
        assert!(v.holds(), "{:?}", v.finding);
        assert_eq!(v.ledger_size, second.checkpoint.size);
    }
    let report = l.verify_checkpoints(&vkey(&log_key()), &[], 0).unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.checked, 2);
    assert_eq!(report.last_good_size, Some(second.checkpoint.size));
}

#[test]
fn signing_again_at_one_size_merges_and_one_ledger_has_one_origin() {
    let (l, _) = ledger_at("2025-01-01T00:00:00Z");
    let a = l.sign_checkpoint(&log_key()).unwrap();
    assert_eq!(l.sign_checkpoint(&log_key()).unwrap(), a);
    // A rotated key keeps the name (the origin): its line joins the old one.
    let rotated = SigningKey::from_seed(ORIGIN, SignatureType::Ed25519, &[2; 32]).unwrap();
    let b = l.sign_checkpoint(&rotated).unwrap();
    assert_eq!(b.checkpoint, a.checkpoint);
    assert_eq!(
        Note::parse(b.note.as_bytes()).unwrap().signatures().len(),
        2
    );
    for k in [log_key(), rotated] {
        assert!(l
            .check_checkpoint(&b.note, &vkey(&k), &[], 0)
            .unwrap()
            .holds());
    }
    // Another name is another origin: refused at the same size.
    let other = SigningKey::from_seed("other.example/log", SignatureType::Ed25519, &[3; 32]);
    let e = l.sign_checkpoint(&other.unwrap()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    // A witness key cannot sign a checkpoint.
    let e = l
        .sign_checkpoint(&witness_key("w.example/w", 9))
        .unwrap_err();
    assert_eq!(note_kind(&e), NoteKind::WrongKeyType);
    assert_eq!(l.checkpoints().unwrap().len(), 1);
}

#[test]
fn a_forged_note_or_an_impostor_key_proves_nothing() {
    let (l, _) = ledger_at("2025-01-01T00:00:00Z");
    let signed = l.sign_checkpoint(&log_key()).unwrap();
    let size = signed.checkpoint.size;
    let real = vkey(&log_key());

    // Any changed byte of the text: the log's signature no longer verifies.
    let forged = signed
        .note
        .replacen(&format!("\n{size}\n"), &format!("\n{}\n", size + 1), 1);
    let e = l.check_checkpoint(&forged, &real, &[], 0).unwrap_err();
    assert_eq!(note_kind(&e), NoteKind::BadSignature, "{e}");

    // An impostor key with the log's name signs the same head: not the log's key.
    let impostor = SigningKey::from_seed(ORIGIN, SignatureType::Ed25519, &[66; 32]).unwrap();
    let fake = signed.checkpoint.sign(&impostor).unwrap().to_string();
    let e = l.check_checkpoint(&fake, &real, &[], 0).unwrap_err();
    assert_eq!(note_kind(&e), NoteKind::MissingLogSignature, "{e}");

    // A note for another origin, even signed by a key of that name.
    let mut other = signed.checkpoint.clone();
    other.origin = "elsewhere.example/log".into();
    let k = SigningKey::from_seed(&other.origin, SignatureType::Ed25519, &[1; 32]).unwrap();
    let e = l
        .check_checkpoint(&other.sign(&k).unwrap().to_string(), &real, &[], 0)
        .unwrap_err();
    assert_eq!(note_kind(&e), NoteKind::OriginMismatch, "{e}");

    // Truncated and reordered signature lines, garbage.
    let two = cosign(&signed.note, &witness_key("w.example/w", 9), 1_700_000_000);
    let lines: Vec<&str> = two.lines().collect();
    let n = lines.len();
    let reordered = format!(
        "{}\n{}\n{}\n",
        lines[..n - 2].join("\n"),
        lines[n - 1],
        lines[n - 2]
    );
    // The order of signature lines carries no meaning; their bytes do.
    assert!(l
        .check_checkpoint(&reordered, &real, &[], 0)
        .unwrap()
        .holds());
    let cut = &two[..two.len() - 10];
    assert!(l.check_checkpoint(cut, &real, &[], 0).is_err());
    assert!(l.check_checkpoint("", &real, &[], 0).is_err());
}

#[test]
fn witnesses_count_once_each_and_only_when_trusted() {
    let (l, _) = ledger_at("2025-01-01T00:00:00Z");
    let signed = l.sign_checkpoint(&log_key()).unwrap();
    let (w1, w2) = (
        witness_key("dpo.example/w", 9),
        witness_key("su.example/w", 10),
    );
    let stranger = witness_key("stranger.example/w", 11);
    let real = vkey(&log_key());

    // A cosignature by a witness the reader does not trust counts for nothing.
    let by_stranger = cosign(&signed.note, &stranger, 1_700_000_000);
    let e = l
        .check_checkpoint(&by_stranger, &real, &[vkey(&w1)], 1)
        .unwrap_err();
    assert!(matches!(e, Error::QuorumNotMet { have: 0, need: 1 }), "{e}");
    assert_eq!(e.kind(), ErrorKind::QuorumNotMet);

    // One of two.
    let by_one = cosign(&by_stranger, &w1, 1_700_000_001);
    let v = l
        .check_checkpoint(&by_one, &real, &[vkey(&w1), vkey(&w2)], 1)
        .unwrap();
    assert_eq!(v.witnesses.len(), 1);
    assert_eq!(v.witnesses[0].timestamp, Some(1_700_000_001));
    let e = l
        .check_checkpoint(&by_one, &real, &[vkey(&w1), vkey(&w2)], 2)
        .unwrap_err();
    assert!(matches!(e, Error::QuorumNotMet { have: 1, need: 2 }), "{e}");
    let by_both = cosign(&by_one, &w2, 1_700_000_002);
    let v = l
        .check_checkpoint(&by_both, &real, &[vkey(&w1), vkey(&w2)], 2)
        .unwrap();
    assert!(v.holds());

    // Two cosignatures by one key: refused outright.
    let mut twice = by_one.clone();
    let c = signed.checkpoint.clone();
    twice.push_str(&w1.cosign(&c, 1_700_000_009).unwrap().line());
    twice.push('\n');
    let e = l
        .check_checkpoint(&twice, &real, &[vkey(&w1), vkey(&w2)], 1)
        .unwrap_err();
    assert_eq!(note_kind(&e), NoteKind::DuplicateSignature, "{e}");

    // Two keys of one witness (a rotation) are one witness.
    let w1b = witness_key("dpo.example/w", 12);
    let rotated = cosign(&by_one, &w1b, 1_700_000_003);
    let e = l
        .check_checkpoint(&rotated, &real, &[vkey(&w1), vkey(&w1b)], 2)
        .unwrap_err();
    assert!(matches!(e, Error::QuorumNotMet { have: 1, need: 2 }), "{e}");

    // A trusted witness's line that does not verify (its time changed) spoils the note.
    let w1_line = w1.cosign(&c, 1_700_000_001).unwrap().line();
    let other_time = w1.cosign(&c, 1_800_000_000).unwrap().line();
    let (name, sig) = other_time.rsplit_once(' ').unwrap();
    let (_, orig_sig) = w1_line.rsplit_once(' ').unwrap();
    let mut bad = sig.to_string();
    bad.replace_range(..16, &orig_sig[..16]); // key id and time of the real line
    let spliced = by_one.replace(&w1_line, &format!("{name} {bad}"));
    assert_ne!(spliced, by_one);
    let e = l
        .check_checkpoint(&spliced, &real, &[vkey(&w1)], 0)
        .unwrap_err();
    assert_eq!(note_kind(&e), NoteKind::BadSignature, "{e}");
}

#[test]
fn cosignatures_merge_into_the_stored_checkpoint_of_the_same_text_only() {
    let (l, clock) = ledger_at("2025-01-01T00:00:00Z");
    let signed = l.sign_checkpoint(&log_key()).unwrap();
    let w1 = witness_key("dpo.example/w", 9);
    let w2 = witness_key("su.example/w", 10);
    l.add_cosignatures(&cosign(&signed.note, &w1, 1_700_000_000))
        .unwrap();
    let merged = l
        .add_cosignatures(&cosign(&signed.note, &w2, 1_700_000_001))
        .unwrap();
    assert_eq!(l.latest_checkpoint().unwrap(), Some(merged.clone()));
    let v = l
        .check_checkpoint(&merged.note, &vkey(&log_key()), &[vkey(&w1), vkey(&w2)], 2)
        .unwrap();
    assert!(v.holds());
    // A later line by a key already on the note does not replace it.
    let again = l
        .add_cosignatures(&cosign(&signed.note, &w1, 1_900_000_000))
        .unwrap();
    assert_eq!(again, merged);
    // Signing again at the same size keeps the cosignatures.
    assert_eq!(l.sign_checkpoint(&log_key()).unwrap(), merged);

    // A cosigned note of a checkpoint the ledger did not sign.
    clock.set("2025-01-02T00:00:00Z");
    l.append(give("770001", "jmsu.marketing")).unwrap();
    let head = l.head().unwrap();
    let unsigned = Checkpoint {
        origin: ORIGIN.into(),
        size: head.size,
        root: head.root,
        extensions: vec![],
    };
    let note = cosign(&unsigned.sign(&log_key()).unwrap().to_string(), &w1, 1);
    assert_eq!(
        l.add_cosignatures(&note).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    // Another text under a signed size.
    let mut forked = signed.checkpoint.clone();
    forked.root = [7; 32];
    let note = cosign(&forked.sign(&log_key()).unwrap().to_string(), &w1, 1);
    assert_eq!(
        l.add_cosignatures(&note).unwrap_err().kind(),
        ErrorKind::Conflict
    );
    assert_eq!(
        l.add_cosignatures("junk").unwrap_err().kind(),
        ErrorKind::Note
    );
}

#[test]
fn a_truncated_log_fails_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let (l, path) = file_ledger(dir.path(), 40);
    let signed = l.sign_checkpoint(&log_key()).unwrap();
    let size = signed.checkpoint.size;
    l.close().unwrap();

    // The insider drops the last 5 events and keeps the tree consistent.
    Connection::open(&path)
        .unwrap()
        .execute("DELETE FROM events WHERE seq >= ?1", [size as i64 - 5])
        .unwrap();
    rebuild_tree(&path);
    let l = Ledger::open(&path).unwrap();
    assert_eq!(l.head().unwrap().size, size - 5);

    let v = l
        .check_checkpoint(&signed.note, &vkey(&log_key()), &[], 0)
        .unwrap();
    assert_eq!(
        v.finding,
        Some(CheckpointFinding::Truncated {
            checkpoint_size: size,
            ledger_size: size - 5
        })
    );
    assert!(v.finding.unwrap().to_string().starts_with("truncated"));
    let report = l.verify_checkpoints(&vkey(&log_key()), &[], 0).unwrap();
    assert!(!report.ok);
    assert_eq!(report.first_bad_size, Some(size));
    // The ledger refuses to sign over it.
    let e = l.sign_checkpoint(&log_key()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}");
    assert!(e.to_string().contains("truncated"), "{e}");
}

#[test]
fn a_consistently_rewritten_log_is_caught_by_its_checkpoints_and_their_copies() {
    let dir = tempfile::tempdir().unwrap();
    let publish = dir.path().join("public");
    let (l, path) = file_ledger(dir.path(), 20);
    let early = l.sign_checkpoint(&log_key()).unwrap();
    publish_checkpoint(&publish, &early.note).unwrap();
    grant(&l, 20, 30);
    let late = l.sign_checkpoint(&log_key()).unwrap();
    publish_checkpoint(&publish, &late.note).unwrap();
    let (p, n) = (early.checkpoint.size, late.checkpoint.size);
    l.close().unwrap();

    // The insider changes one event's evidence between the two checkpoints and
    // recomputes the tree: every hash in the file agrees again.
    let victim = p as i64 + 7;
    let raw = Connection::open(&path).unwrap();
    let (salt, subject): (Vec<u8>, String) = raw
        .query_row(
            "SELECT salt, subject FROM events WHERE seq = ?1",
            [victim],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let forged = r#"{"form":"forged"}"#;
    let digest = canonical::personal_digest(&salt, Some(&subject), None, Some(forged));
    raw.execute(
        "UPDATE events SET evidence = ?1, personal_digest = ?2 WHERE seq = ?3",
        rusqlite::params![forged, &digest[..], victim],
    )
    .unwrap();
    drop(raw);
    rebuild_tree(&path);
    let l = Ledger::open(&path).unwrap();
    // Every hash in the file agrees, but the log no longer holds the checkpoint it
    // signed at size n: verify says so, even without any key.
    let alone = l.verify().unwrap();
    assert!(
        !alone.ok,
        "a consistent rewrite under a kept checkpoint: {alone:?}"
    );
    let why = alone.problem.unwrap();
    assert!(why.contains(&format!("rewritten before size {n}")), "{why}");
    assert!(why.contains(&format!("seq {p}..{}", n - 1)), "{why}");

    // The checkpoints the ledger kept.
    let report = l.verify_checkpoints(&vkey(&log_key()), &[], 0).unwrap();
    assert!(!report.ok);
    assert_eq!(report.first_bad_size, Some(n));
    assert_eq!(report.last_good_size, Some(p));
    let problem = report.problem.unwrap();
    assert!(
        problem.contains(&format!("rewritten before size {n}")),
        "{problem}"
    );
    assert!(
        problem.contains(&format!("seq {p}..{}", n - 1)),
        "{problem}"
    );
    let e = l.sign_checkpoint(&log_key()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}");
    l.close().unwrap();

    // The insider empties the table too: the ledger remembers nothing ...
    Connection::open(&path)
        .unwrap()
        .execute("DELETE FROM checkpoints", [])
        .unwrap();
    let l = Ledger::open(&path).unwrap();
    assert!(l.verify_checkpoints(&vkey(&log_key()), &[], 0).unwrap().ok);
    // ... but the published copy still catches it.
    let published = read_published(&publish).unwrap();
    let v = l
        .check_checkpoint(&published, &vkey(&log_key()), &[], 0)
        .unwrap();
    assert!(matches!(
        v.finding,
        Some(CheckpointFinding::Rewritten { size, .. }) if size == n
    ));
    let earlier = read_published_size(&publish, p).unwrap();
    assert!(l
        .check_checkpoint(&earlier, &vkey(&log_key()), &[], 0)
        .unwrap()
        .holds());
}

#[test]
fn a_stored_checkpoint_altered_in_the_table_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (l, path) = file_ledger(dir.path(), 2);
    let a = l.sign_checkpoint(&log_key()).unwrap();
    grant(&l, 2, 2);
    let b = l.sign_checkpoint(&log_key()).unwrap();
    l.close().unwrap();
    let raw = Connection::open(&path).unwrap();

    // The note of `b` moved under `a`'s size.
    raw.execute(
        "UPDATE checkpoints SET note = ?1 WHERE size = ?2",
        rusqlite::params![b.note, a.checkpoint.size as i64],
    )
    .unwrap();
    let l = Ledger::open(&path).unwrap();
    let r = l.verify_checkpoints(&vkey(&log_key()), &[], 0).unwrap();
    assert_eq!(r.first_bad_size, Some(a.checkpoint.size));
    assert!(r.problem.unwrap().contains("states size"));
    assert_eq!(l.checkpoints().unwrap_err().kind(), ErrorKind::Corrupt);
    l.close().unwrap();

    // A note whose text was edited: no longer signed.
    let edited = a.note.replacen(ORIGIN, "ljmu.ac.uk/consenT", 1);
    raw.execute(
        "UPDATE checkpoints SET note = ?1 WHERE size = ?2",
        rusqlite::params![edited, a.checkpoint.size as i64],
    )
    .unwrap();
    let l = Ledger::open(&path).unwrap();
    let r = l.verify_checkpoints(&vkey(&log_key()), &[], 0).unwrap();
    assert_eq!(r.first_bad_size, Some(a.checkpoint.size));
    assert!(r.problem.unwrap().contains("not one the log key signed"));
    l.close().unwrap();

    // A row of the wrong type.
    raw.execute(
        "UPDATE checkpoints SET note = x'00' WHERE size = ?1",
        [a.checkpoint.size as i64],
    )
    .unwrap();
    let l = Ledger::open(&path).unwrap();
    let r = l.verify_checkpoints(&vkey(&log_key()), &[], 0).unwrap();
    assert!(!r.ok);
    assert!(r.problem.unwrap().contains("damaged"));
}

#[test]
fn verifying_stored_checkpoints_asks_the_quorum_of_each() {
    let (l, _) = ledger_at("2025-01-01T00:00:00Z");
    let signed = l.sign_checkpoint(&log_key()).unwrap();
    let w = witness_key("dpo.example/w", 9);
    let r = l
        .verify_checkpoints(&vkey(&log_key()), &[vkey(&w)], 1)
        .unwrap();
    assert_eq!(r.first_bad_size, Some(signed.checkpoint.size));
    assert!(r.problem.unwrap().contains("witness"));
    l.add_cosignatures(&cosign(&signed.note, &w, 5)).unwrap();
    assert!(
        l.verify_checkpoints(&vkey(&log_key()), &[vkey(&w)], 1)
            .unwrap()
            .ok
    );
    // Another log key (same name, another key): not the log's signature.
    let other = SigningKey::from_seed(ORIGIN, SignatureType::Ed25519, &[8; 32]).unwrap();
    assert!(!l.verify_checkpoints(&vkey(&other), &[], 0).unwrap().ok);
}

#[test]
fn a_migrated_ledger_keeps_checkpoints_too() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v2-demo.db");
    std::fs::copy(src.join("v2-demo.db"), &path).unwrap();
    std::fs::copy(src.join("v2-demo.db.key"), default_key_path(&path)).unwrap();
    let l = Ledger::open(&path).unwrap();
    assert_eq!(l.latest_checkpoint().unwrap(), None);
    let signed = l.sign_checkpoint(&log_key()).unwrap();
    l.close().unwrap();
    let l = Ledger::open(&path).unwrap();
    assert_eq!(l.checkpoints().unwrap(), vec![signed]);
    assert!(l.verify().unwrap().ok);
}

#[test]
fn the_publish_directory_never_moves_back_nor_changes_a_published_text() {
    let dir = tempfile::tempdir().unwrap();
    let public = dir.path().join("www");
    let (l, clock) = ledger_at("2025-01-01T00:00:00Z");
    let a = l.sign_checkpoint(&log_key()).unwrap();
    let (sa, note_a) = (a.checkpoint.size, a.note.clone());
    let e = read_published(&public).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);

    let p = publish_checkpoint(&public, &note_a).unwrap();
    assert_eq!((p.size, p.changed, p.latest), (sa, true, true));
    assert_eq!(read_published(&public).unwrap(), note_a);
    assert_eq!(
        std::fs::read_to_string(public.join("checkpoints").join(sa.to_string())).unwrap(),
        note_a
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(public.join("checkpoint"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o644);
    }
    // The same note again changes nothing.
    let p = publish_checkpoint(&public, &note_a).unwrap();
    assert!(!p.changed);

    clock.set("2025-01-02T00:00:00Z");
    l.append(give("770001", "jmsu.marketing")).unwrap();
    let b = l.sign_checkpoint(&log_key()).unwrap();
    publish_checkpoint(&public, &b.note).unwrap();
    assert_eq!(read_published(&public).unwrap(), b.note);

    // A cosignature arriving later for the older one: its file gains the line, the
    // latest stays.
    let w = witness_key("dpo.example/w", 9);
    let cosigned_a = cosign(&note_a, &w, 7);
    let p = publish_checkpoint(&public, &cosigned_a).unwrap();
    assert_eq!((p.changed, p.latest), (true, false));
    assert_eq!(read_published_size(&public, sa).unwrap(), cosigned_a);
    assert_eq!(read_published(&public).unwrap(), b.note);
    // Dropping the line again is not possible: republishing keeps it.
    assert!(!publish_checkpoint(&public, &note_a).unwrap().changed);
    assert_eq!(read_published_size(&public, sa).unwrap(), cosigned_a);

    // Moving back to a size never published: refused.
    let mut older = a.checkpoint.clone();
    older.size -= 1;
    let e = publish_checkpoint(&public, &older.sign(&log_key()).unwrap().to_string()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    // Another text under a published size (a fork): refused, in either file.
    let mut fork = b.checkpoint.clone();
    fork.root = [9; 32];
    let e = publish_checkpoint(&public, &fork.sign(&log_key()).unwrap().to_string()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert_eq!(read_published(&public).unwrap(), b.note);
    // Not a note at all.
    let e = publish_checkpoint(&public, "hello\n").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Note);

    // A damaged published file is named, not trusted.
    std::fs::write(public.join("checkpoint"), "garbage").unwrap();
    let e = read_published(&public).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}");
    assert_eq!(
        read_published_size(&public, 12_345).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let _ = consent_note::MAX_NOTE_BYTES;
}
