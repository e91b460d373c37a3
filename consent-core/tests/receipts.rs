//! Receipts v2, tried as an attacker and a regulator would: every readable field
//! changed, every proof bent, forged and re-rooted checkpoints, the bad inputs of
//! issue 13. A receipt is checked with nothing but the verifier keys.

mod common;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use common::*;
use consent_core::receipt::{self, Layout};
use consent_core::*;
use consent_note::{Checkpoint, SignatureType, SigningKey, VerifierKey};
use serde_json::Value;

const ORIGIN: &str = "ljmu.ac.uk/consent";

fn log_key() -> SigningKey {
    SigningKey::from_seed(ORIGIN, SignatureType::Ed25519, &[7; 32]).unwrap()
}

fn witness_key(name: &str, seed: u8) -> SigningKey {
    SigningKey::from_seed(name, SignatureType::CosignatureV1, &[seed; 32]).unwrap()
}

/// A note for the ledger's current head, signed by `key` and cosigned by `witnesses`.
fn note_of(head: Head, key: &SigningKey, witnesses: &[&SigningKey]) -> String {
    signed(
        Checkpoint {
            origin: ORIGIN.into(),
            size: head.size,
            root: head.root,
            extensions: vec![],
        },
        key,
        witnesses,
    )
}

fn signed(c: Checkpoint, key: &SigningKey, witnesses: &[&SigningKey]) -> String {
    let mut note = c.sign(key).unwrap();
    for (i, w) in witnesses.iter().enumerate() {
        note.add_signature(w.cosign(&c, 1_736_521_200 + i as u64).unwrap())
            .unwrap();
    }
    note.to_string()
}

struct Fixture {
    ledger: Ledger,
    event: uuid::Uuid,
    dpo: SigningKey,
}

/// A grant for special-category data, with later events after it, a checkpoint
/// cosigned by the DPO's office.
fn fixture() -> Fixture {
    let (ledger, clock) = ledger_at("2025-01-10T15:00:00Z");
    let event = ledger
        .append(
            give("770001", "mobility.health")
                .explicit(true)
                .method(Method::WebForm),
        )
        .unwrap()
        .id;
    clock.set("2025-01-11T09:00:00Z");
    ledger
        .append(give("770002", "jmsu.marketing").source_id("form-12"))
        .unwrap();
    Fixture {
        ledger,
        event,
        dpo: witness_key("dpo.ljmu.ac.uk/witness", 9),
    }
}

impl Fixture {
    fn note(&self) -> String {
        note_of(self.ledger.head().unwrap(), &log_key(), &[&self.dpo])
    }
    fn receipt(&self, layout: Layout) -> String {
        self.ledger
            .receipt(self.event, &self.note(), layout)
            .unwrap()
            .to_json()
    }
    fn check(&self, json: &str) -> Result<receipt::CheckedReceipt> {
        receipt::check(
            json,
            &log_key().verifier_key(),
            &[self.dpo.verifier_key()],
            1,
        )
    }
    fn refused(&self, json: &str, why: &str) -> String {
        match self.check(json) {
            Ok(_) => panic!("{why}: the receipt checked out"),
            Err(e) => {
                assert!(
                    matches!(
                        e.kind(),
                        ErrorKind::ReceiptRejected | ErrorKind::InvalidArgument
                    ),
                    "{why}: {e}"
                );
                e.to_string()
            }
        }
    }
}

fn edit(json: &str, f: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(json).unwrap();
    f(&mut v);
    serde_json::to_string_pretty(&v).unwrap()
}

/// Every leaf of a JSON value, as a JSON pointer.
fn leaves(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                leaves(
                    x,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
            out.push(at); // the object itself: a key added
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                leaves(x, format!("{at}/{i}"), out);
            }
            out.push(at); // the array itself: an element added
        }
        _ => out.push(at),
    }
}

fn changed(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(format!("{s}x")),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Value::from(i.wrapping_add(1)),
            None => Value::from(n.as_f64().unwrap() + 1.0),
        },
        Value::Bool(b) => Value::Bool(!b),
        Value::Null => Value::String("LJMU".into()),
        Value::Array(a) => {
            let mut a = a.clone();
            a.push(Value::String("NHS".into()));
            Value::Array(a)
        }
        Value::Object(m) => {
            let mut m = m.clone();
            m.insert("current_state".into(), Value::String("active".into()));
            Value::Object(m)
        }
    }
}

#[test]
fn a_receipt_checks_with_nothing_but_the_keys() {
    let f = fixture();
    for layout in [Layout::Iso27560, Layout::Kantara] {
        let json = f.receipt(layout);
        let c = f.check(&json).unwrap();
        assert_eq!(c.event_id, f.event);
        assert_eq!(c.seq, f.ledger.event(f.event).unwrap().seq);
        assert_eq!(c.purpose, ("mobility.health".to_string(), 1));
        assert!(c.subject_checked);
        assert!(c.simulated, "a ledger with a test clock is simulated");
        assert_eq!(c.cosignatures.len(), 1);
        assert_eq!(c.checkpoint.size, f.ledger.head().unwrap().size);
        assert!(
            c.not_proved[0].contains("the state now"),
            "{:?}",
            c.not_proved
        );
        assert!(c
            .proved
            .iter()
            .any(|p| p.contains("witness dpo.ljmu.ac.uk/witness cosigned")));
        let v: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["format"], receipt::FORMAT);
        assert_eq!(v["readable"], c.readable);
        // Also without witnesses (quorum 0): the log's signature alone.
        receipt::check(&json, &log_key().verifier_key(), &[], 0).unwrap();
    }
    let iso: Value = serde_json::from_str(&f.receipt(Layout::Iso27560)).unwrap();
    let r = &iso["readable"];
    assert_eq!(r["principal"]["id"], "770001");
    assert_eq!(r["controller"]["name"], "LJMU");
    assert_eq!(r["lawful_basis"]["special_category"], "Art. 9(2)(a)");
    assert_eq!(r["explicit"], true);
    assert_eq!(r["collection_method"], "web_form");
    assert_eq!(r["event"]["time"], "2025-01-10T15:00:00.000Z");
    assert_eq!(
        r["notice"]["title"],
        "International Relations privacy notice"
    );
    assert_eq!(r["withdrawal"]["method"], "email GoAbroad@ljmu.ac.uk");
    assert_eq!(r["ledger"]["clock"], "simulated");
    assert!(r.get("current_state").is_none());
    let kantara: Value = serde_json::from_str(&f.receipt(Layout::Kantara)).unwrap();
    assert_eq!(kantara["readable"]["consentTimestamp"], 1_736_521_200);
    assert!(kantara["readable"].get("jurisdiction").is_none());
    assert!(kantara["not_proved"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s.as_str().unwrap().starts_with("jurisdiction:")));
}

#[test]
fn every_readable_field_changed_is_refused() {
    let f = fixture();
    for layout in [Layout::Iso27560, Layout::Kantara] {
        let json = f.receipt(layout);
        let v: Value = serde_json::from_str(&json).unwrap();
        let mut pointers = Vec::new();
        leaves(&v["readable"], "/readable".into(), &mut pointers);
        assert!(pointers.len() > 40, "{}", pointers.len());
        for p in &pointers {
            let bad = edit(&json, |v| {
                let at = v.pointer_mut(p).unwrap();
                *at = changed(at);
            });
            f.refused(&bad, &format!("{layout:?} {p} changed"));
            // and removed (a hidden field)
            if let Some((parent, key)) = p.rsplit_once('/') {
                let bad = edit(&json, |v| match v.pointer_mut(parent) {
                    Some(Value::Object(m)) => {
                        m.remove(key);
                    }
                    Some(Value::Array(a)) => {
                        a.remove(key.parse::<usize>().unwrap());
                    }
                    _ => {}
                });
                f.refused(&bad, &format!("{layout:?} {p} removed"));
            }
        }
        // The list of what is not proved cannot be shortened or lengthened.
        let bad = edit(&json, |v| {
            v["not_proved"].as_array_mut().unwrap().remove(0);
        });
        f.refused(&bad, "not_proved shortened");
        let bad = edit(&json, |v| {
            v["not_proved"]
                .as_array_mut()
                .unwrap()
                .push("nothing".into());
        });
        f.refused(&bad, "not_proved lengthened");
    }
}

#[test]
fn the_issue_list_controller_basis_student_recipients_title() {
    let f = fixture();
    let json = f.receipt(Layout::Iso27560);
    for (p, bad) in [
        ("/readable/controller/name", "JMSU"),
        ("/readable/lawful_basis/article_6", "6(1)(f)"),
        ("/readable/principal/id", "770002"),
        ("/readable/purpose/title", "Anything at all"),
        ("/readable/state", "withdrawn"),
    ] {
        let e = f.refused(&edit(&json, |v| *v.pointer_mut(p).unwrap() = bad.into()), p);
        assert!(e.contains(p.trim_start_matches("/readable")), "{e}");
        assert!(!e.contains("770001"), "errors name no subject: {e}");
    }
    let bad = edit(&json, |v| {
        v["readable"]["recipients"] = serde_json::json!(["NHS", "landlord"]);
    });
    f.refused(&bad, "recipients");
    // The student id in the subject block must be the one in the digest.
    let bad = edit(&json, |v| v["subject"]["id"] = "770002".into());
    let e = f.refused(&bad, "subject id");
    assert!(e.contains("personal digest"), "{e}");
    let bad = edit(&json, |v| {
        v["subject"]["id"] = "770002".into();
        v["readable"]["principal"]["id"] = "770002".into();
    });
    f.refused(&bad, "subject id in both places");
    let bad = edit(&json, |v| {
        v["subject"]["salt"] = BASE64.encode([0u8; 16]).into()
    });
    f.refused(&bad, "salt");
    // A subject left out: the readable part must then name nobody.
    let bad = edit(&json, |v| v["subject"] = Value::Null);
    f.refused(&bad, "subject removed, principal kept");
}

#[test]
fn entries_are_bound_to_one_another() {
    let f = fixture();
    let json = f.receipt(Layout::Iso27560);
    let v: Value = serde_json::from_str(&json).unwrap();
    // Another purpose's definition (a real, proved entry) in place of the right one.
    let marketing = f
        .ledger
        .receipt(
            f.ledger.history("770002").unwrap().last().unwrap().id,
            &f.note(),
            Layout::Iso27560,
        )
        .unwrap()
        .to_json();
    let m: Value = serde_json::from_str(&marketing).unwrap();
    for (slot, from) in [
        ("purpose", &m["purpose"]),
        ("notice", &m["notice"]),
        ("configuration", &v["purpose"]),
        ("purpose", &v["configuration"]),
        ("notice", &v["purpose"]),
        ("event", &v["purpose"]),
        ("event", &m["event"]),
    ] {
        let bad = edit(&json, |x| x[slot] = from.clone());
        f.refused(&bad, &format!("{slot} swapped"));
    }
    let bad = edit(&json, |x| x["notice"] = Value::Null);
    f.refused(&bad, "notice dropped");
    let bad = edit(&json, |x| {
        x.as_object_mut().unwrap().remove("notice");
    });
    f.refused(&bad, "notice key missing");
}

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
    chars.swap(n - 3, n - 8);
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

#[test]
fn the_builder_checks_the_checkpoint_against_the_ledger() {
    let f = fixture();
    let head = f.ledger.head().unwrap();
    // Another ledger's checkpoint (or this one rewritten): same size, other root.
    let other = note_of(
        Head {
            size: head.size,
            root: [9; 32],
        },
        &log_key(),
        &[],
    );
    let e = f
        .ledger
        .receipt(f.event, &other, Layout::Iso27560)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}");
    let longer = note_of(
        Head {
            size: head.size + 5,
            root: head.root,
        },
        &log_key(),
        &[],
    );
    assert_eq!(
        f.ledger
            .receipt(f.event, &longer, Layout::Iso27560)
            .unwrap_err()
            .kind(),
        ErrorKind::Corrupt
    );
    // The event after the checkpoint: sign a newer one.
    let later = f.ledger.append(give("770003", "jmsu.marketing")).unwrap();
    let e = f
        .ledger
        .receipt(later.id, &f.note_for(head), Layout::Iso27560)
        .unwrap_err();
    assert!(e.to_string().contains("newer checkpoint"), "{e}");
    // Not a consent decision.
    let config = f.ledger.configuration_event().unwrap();
    let e = f
        .ledger
        .receipt(config.id, &f.note(), Layout::Iso27560)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    // An unknown event; a note that is not a signed checkpoint.
    assert_eq!(
        f.ledger
            .receipt(uuid::Uuid::nil(), &f.note(), Layout::Iso27560)
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        f.ledger
            .receipt(f.event, "hello\n", Layout::Iso27560)
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument
    );
    // The old receipt still checks against the old checkpoint.
    let old = f
        .ledger
        .receipt(f.event, &f.note_for(head), Layout::Kantara)
        .unwrap();
    f.check(&old.to_json()).unwrap();
}

impl Fixture {
    fn note_for(&self, head: Head) -> String {
        note_of(head, &log_key(), &[&self.dpo])
    }
}

#[test]
fn an_erased_subjects_receipt_names_nobody_and_says_so() {
    let f = fixture();
    f.ledger
        .erase_subject("770001", "retention ended", Actor::staff("dpo"))
        .unwrap();
    let json = f.receipt(Layout::Iso27560);
    let c = f.check(&json).unwrap();
    assert!(!c.subject_checked);
    assert_eq!(c.readable["principal"]["id"], Value::Null);
    assert!(c.not_proved.iter().any(|s| s.starts_with("principal.id:")));
    assert!(!json.contains("770001"));
    // Putting a name back in is refused.
    let bad = edit(&json, |v| {
        v["readable"]["principal"]["id"] = "770001".into()
    });
    f.refused(&bad, "a name added to an erased receipt");
}

#[test]
fn a_system_clock_ledger_proves_it() {
    let l = Ledger::in_memory().unwrap();
    register_all(&l);
    let e = l.append(give("s1", "jmsu.marketing")).unwrap();
    let key = log_key();
    let note = note_of(l.head().unwrap(), &key, &[]);
    let json = l.receipt(e.id, &note, Layout::Iso27560).unwrap().to_json();
    let c = receipt::check(&json, &key.verifier_key(), &[], 0).unwrap();
    assert!(!c.simulated);
    assert_eq!(c.readable["ledger"]["clock"], "system");
    assert_eq!(c.readable["ledger"]["time_zone"], "Europe/London");
    assert!(!c.not_proved.iter().any(|s| s.contains("simulated")));
    // A verifier key string round-trips, as a student would paste it.
    let vkey: VerifierKey = key.verifier_key().to_string().parse().unwrap();
    receipt::check(&json, &vkey, &[], 0).unwrap();
}
