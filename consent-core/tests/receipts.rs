//! Receipts v2 as a student or a regulator meets them: they check with nothing but the
//! verifier keys, every readable field changed is refused, the entries are bound to
//! one another, the builder checks its checkpoint. The attacker's other tries are in
//! receipt_attacks.rs.

mod common;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use common::receipts::*;
use common::*;
use consent_core::receipt::{self, Layout};
use consent_core::*;
use consent_note::VerifierKey;
use serde_json::Value;

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
