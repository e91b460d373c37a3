//! Receipts v2 against the issue's bad input: wrong, impostor and unknown keys,
//! truncated, reordered and duplicate signature lines, quorums, proofs of the wrong
//! length or shape, an index beyond the size, size 0, an inner node as a leaf, huge
//! numbers, non-canonical base64, invented and re-rooted receipts, malformed JSON.

mod common;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use common::receipts::*;
use consent_core::receipt::{self, Layout};
use consent_core::*;
use consent_note::{Checkpoint, SignatureType, SigningKey};
use serde_json::Value;

#[test]
fn signatures_keys_and_quorum() {
    let f = fixture();
    let json = f.receipt(Layout::Iso27560);
    let log = log_key().verifier_key();
    let dpo = f.dpo.verifier_key();
    // An impostor key with the log's name.
    let impostor = SigningKey::from_seed(ORIGIN, SignatureType::Ed25519, &[8; 32]).unwrap();
    assert!(receipt::check(&json, &impostor.verifier_key(), &[], 0).is_err());
    // Signed by the impostor, checked with the real key.
    let forged = edit(&json, |v| {
        v["checkpoint"] = note_of(f.ledger.head().unwrap(), &impostor, &[&f.dpo]).into()
    });
    f.refused(&forged, "checkpoint signed by an impostor");
    // Quorum: the DPO's cosignature counts once; a second witness never signed.
    let union = witness_key("su.ljmu.ac.uk/witness", 11);
    receipt::check(&json, &log, &[dpo.clone(), union.verifier_key()], 1).unwrap();
    let e = receipt::check(&json, &log, &[dpo.clone(), union.verifier_key()], 2).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ReceiptRejected, "{e}");
    // A cosignature by a witness the checker does not know is not counted.
    let e = receipt::check(&json, &log, &[union.verifier_key()], 1).unwrap_err();
    assert!(e.to_string().contains("cosignatures"), "{e}");
    // More required than keys given is the caller's mistake.
    let e = receipt::check(&json, &log, &[], 1).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    // The same witness key given twice cannot make a quorum of two.
    assert!(receipt::check(&json, &log, &[dpo.clone(), dpo.clone()], 2).is_err());
    // Nor can two keys of one witness (a rotation keeps the name): counted by name, as
    // a checkpoint's quorum is (FORMAT.md §11.3).
    let rotated = witness_key(f.dpo.name(), 12);
    let both = edit(&json, |v| {
        v["checkpoint"] = note_of(f.ledger.head().unwrap(), &log_key(), &[&f.dpo, &rotated]).into()
    });
    let keys = [dpo.clone(), rotated.verifier_key()];
    receipt::check(&both, &log, &keys, 1).unwrap();
    let e = receipt::check(&both, &log, &keys, 2).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ReceiptRejected, "{e}");

    let note = f.note();
    let lines: Vec<&str> = note.lines().collect();
    let sig_at = lines.len() - 2; // the log's signature line; the DPO's is last
    let with_lines = |ls: Vec<String>| {
        let text = ls.join("\n") + "\n";
        edit(&json, |v| v["checkpoint"] = text.into())
    };
    let owned = || lines.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    // Duplicate cosignature lines.
    let mut ls = owned();
    ls.push(lines[sig_at + 1].to_string());
    f.refused(&with_lines(ls), "duplicate cosignature");
    // A truncated signature line.
    let mut ls = owned();
    let cut = ls[sig_at].len() - 4;
    ls[sig_at].truncate(cut);
    f.refused(&with_lines(ls), "truncated signature line");
    // A signature line with its characters reordered.
    let mut ls = owned();
    let mut chars: Vec<char> = ls[sig_at].chars().collect();
    let n = chars.len();
    // Two different characters of the signature's base64 (equal ones, 1 time in 64,
    // would leave the line as it was).
    let other = (4..n - 3)
        .map(|back| n - 3 - back)
        .find(|&i| chars[i] != chars[n - 3])
        .expect("a signature has more than one distinct character");
    chars.swap(n - 3, other);
    ls[sig_at] = chars.into_iter().collect();
    f.refused(&with_lines(ls), "reordered signature line");
    // An unknown key id on the log's line: no line by the log key.
    let mut ls = owned();
    let (head, b64) = ls[sig_at].rsplit_once(' ').unwrap();
    let mut raw = BASE64.decode(b64).unwrap();
    raw[0] ^= 0xff;
    ls[sig_at] = format!("{head} {}", BASE64.encode(raw));
    let e = f.refused(&with_lines(ls), "unknown key id");
    assert!(e.contains("checkpoint"), "{e}");
    // The checkpoint text itself changed.
    f.refused(
        &edit(&json, |v| {
            v["checkpoint"] = note.replacen("\n", "x\n", 1).into();
        }),
        "origin changed",
    );
}

#[test]
fn proofs_of_the_wrong_shape_are_refused() {
    let f = fixture();
    let json = f.receipt(Layout::Iso27560);
    for entry in ["event", "purpose", "notice", "configuration"] {
        let bad = edit(&json, |v| {
            v[entry]["proof"].as_array_mut().unwrap().pop();
        });
        f.refused(&bad, &format!("{entry}: a proof one hash short"));
        let bad = edit(&json, |v| {
            v[entry]["proof"]
                .as_array_mut()
                .unwrap()
                .push(BASE64.encode([1u8; 32]).into());
        });
        f.refused(&bad, &format!("{entry}: a proof one hash long"));
        let bad = edit(&json, |v| {
            v[entry]["proof"][0] = BASE64.encode([2u8; 32]).into();
        });
        f.refused(&bad, &format!("{entry}: a proof hash changed"));
        // Non-canonical base64: padding dropped, or trailing bits set.
        let v: Value = serde_json::from_str(&json).unwrap();
        let padded = v[entry]["canonical"].as_str().unwrap();
        let unpadded = padded.trim_end_matches('=');
        if unpadded != padded {
            let bad = edit(&json, |v| v[entry]["canonical"] = unpadded.into());
            f.refused(&bad, &format!("{entry}: unpadded base64"));
        }
        // Every proof hash (32 bytes) is padded.
        let bad = edit(&json, |v| {
            let s = v[entry]["proof"][0].as_str().unwrap().trim_end_matches('=');
            v[entry]["proof"][0] = s.to_string().into();
        });
        f.refused(&bad, &format!("{entry}: an unpadded proof hash"));
        let bad = edit(&json, |v| {
            let s = v[entry]["proof"][0].as_str().unwrap().to_string();
            // 32 bytes = 43 characters and one `=`: the last character holds 2 spare bits.
            let last = s.chars().nth(42).unwrap();
            let bumped = if last == 'A' { 'B' } else { 'A' };
            v[entry]["proof"][0] = format!("{}{bumped}=", &s[..42]).into();
        });
        f.refused(&bad, &format!("{entry}: non-canonical base64"));
        let bad = edit(&json, |v| {
            v[entry]["proof"] = Value::Array(vec![BASE64.encode([3u8; 32]).into(); 65]);
        });
        f.refused(&bad, &format!("{entry}: 65 hashes"));
    }
    // An inner node presented as a leaf: the node's two children as "canonical" bytes.
    let v: Value = serde_json::from_str(&json).unwrap();
    let p0 = BASE64
        .decode(v["event"]["proof"][0].as_str().unwrap())
        .unwrap();
    let leaf = merkle::leaf_hash(
        &BASE64
            .decode(v["event"]["canonical"].as_str().unwrap())
            .unwrap(),
    );
    let node = [leaf.to_vec(), p0].concat();
    let bad = edit(&json, |v| {
        v["event"]["canonical"] = BASE64.encode(&node).into();
        v["event"]["proof"].as_array_mut().unwrap().remove(0);
    });
    f.refused(&bad, "an inner node as a leaf");
}

#[test]
fn forged_and_re_rooted_checkpoints_are_refused() {
    let f = fixture();
    let json = f.receipt(Layout::Iso27560);
    let v: Value = serde_json::from_str(&json).unwrap();
    let event_bytes = BASE64
        .decode(v["event"]["canonical"].as_str().unwrap())
        .unwrap();
    let checkpoint = |size: u64, root: [u8; 32], key: &SigningKey| {
        signed(
            Checkpoint {
                origin: ORIGIN.into(),
                size,
                root,
                extensions: vec![],
            },
            key,
            &[&f.dpo],
        )
    };
    // A real receipt re-rooted as leaf #0, even signed by the real log key.
    let leaf = merkle::leaf_hash(&event_bytes);
    let bad = edit(&json, |v| {
        v["checkpoint"] = checkpoint(1, leaf, &log_key()).into();
        v["event"]["proof"] = Value::Array(vec![]);
    });
    let e = f.refused(&bad, "re-rooted as leaf #0");
    assert!(
        e.contains("out of range") || e.contains("not in the checkpoint"),
        "{e}"
    );
    // Size zero.
    let bad = edit(&json, |v| {
        v["checkpoint"] = checkpoint(0, merkle::empty_root(), &log_key()).into()
    });
    assert!(f.refused(&bad, "size 0").contains("empty log"));
    // Index beyond the size: a true, signed checkpoint of an earlier head.
    let seq = f.ledger.event(f.event).unwrap().seq;
    let config = f.ledger.configuration_event().unwrap().id;
    let early = f.ledger.prove_inclusion(config, Some(seq)).unwrap().head();
    let bad = edit(&json, |v| {
        v["checkpoint"] = checkpoint(early.size, early.root, &log_key()).into()
    });
    f.refused(&bad, "index beyond the size");
    // Huge numbers.
    let bad = edit(&json, |v| {
        v["checkpoint"] = checkpoint(u64::MAX, leaf, &log_key()).into()
    });
    f.refused(&bad, "a size of 2^64 - 1");
    let huge = json.replacen("\"seq\": ", "\"seq\": 1000000000000000000000", 1);
    f.refused(&huge, "a huge seq");
    let huge = json.replacen("\"seq\": ", "\"seq\": 1e400", 1);
    f.refused(&huge, "a seq out of range");

    // A wholly invented receipt: a one-leaf, self-rooted head, for an event made up.
    let invented = json.replace(
        &BASE64.encode(&event_bytes),
        &BASE64.encode({
            let mut e = canonical::decode(&event_bytes).unwrap();
            e.seq = 0;
            e.encode()
        }),
    );
    let inv_leaf = {
        let v: Value = serde_json::from_str(&invented).unwrap();
        merkle::leaf_hash(
            &BASE64
                .decode(v["event"]["canonical"].as_str().unwrap())
                .unwrap(),
        )
    };
    let attacker = SigningKey::from_seed(ORIGIN, SignatureType::Ed25519, &[66; 32]).unwrap();
    for key in [&attacker, &log_key()] {
        let bad = edit(&invented, |v| {
            v["checkpoint"] = checkpoint(1, inv_leaf, key).into();
            for e in ["event", "purpose", "notice", "configuration"] {
                v[e]["proof"] = Value::Array(vec![]);
            }
        });
        f.refused(&bad, "an invented one-leaf receipt");
        // And with the attacker's own key as the "log key": still no valid binding.
        if std::ptr::eq(key, &attacker) {
            assert!(receipt::check(&bad, &attacker.verifier_key(), &[], 0).is_err());
        }
    }
}

#[test]
fn malformed_documents_are_refused() {
    let f = fixture();
    let json = f.receipt(Layout::Iso27560);
    // A key twice: the reader sees one controller, a lax parser keeps the other.
    let dup = json.replacen(
        "\"controller\": {",
        "\"controller\": {\"name\": \"JMSU\", ",
        1,
    );
    assert_ne!(dup, json);
    let e = f.check(&dup).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ReceiptRejected, "{e}");
    assert!(e.to_string().contains("twice"), "{e}");
    let bad = edit(&json, |v| v["extra"] = true.into());
    f.refused(&bad, "unknown key");
    let bad = edit(&json, |v| v["format"] = "consent-ledger/receipt/v3".into());
    f.refused(&bad, "unknown format");
    let v1 = r#"{"record_id": "x", "ledger_proof": {"head": "1:00"}}"#;
    assert!(f.refused(v1, "v1").contains("version-1"));
    assert_eq!(
        f.check("not json").unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    f.refused("{}", "empty object");
    let big = " ".repeat(receipt::MAX_RECEIPT_BYTES + 1);
    f.refused(&big, "too large");
}
