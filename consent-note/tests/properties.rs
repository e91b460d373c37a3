//! Properties: what is formatted parses back to the same value, a parser never panics
//! whatever it is given, and no change to a signed checkpoint yields another
//! checkpoint that opens.

use consent_note::{
    check_key_name, Checkpoint, KeyId, Note, NoteSignature, SignatureType, SigningKey, VerifierKey,
};
use proptest::prelude::*;

/// A line of note text: any characters but ASCII controls (may be empty).
fn text_line() -> impl Strategy<Value = String> {
    "[^\\x00-\\x1f]{0,24}"
}

/// Note text: one or more lines, each ending in a newline (blank lines allowed).
fn note_text() -> impl Strategy<Value = String> {
    prop::collection::vec(text_line(), 1..6).prop_map(|lines| {
        let mut text = lines.join("\n");
        text.push('\n');
        text
    })
}

/// A key name: no white space, no plus, no control characters.
fn key_name() -> impl Strategy<Value = String> {
    "[^\\s+\\x00-\\x1f\\x7f-\\x9f]{1,16}"
        .prop_filter("valid key name", |n| check_key_name(n).is_ok())
}

fn signature() -> impl Strategy<Value = NoteSignature> {
    (
        key_name(),
        any::<u32>(),
        prop::collection::vec(any::<u8>(), 1..100),
    )
        .prop_map(|(name, id, bytes)| NoteSignature::new(&name, KeyId(id), bytes).unwrap())
}

fn note() -> impl Strategy<Value = Note> {
    (note_text(), prop::collection::vec(signature(), 1..8)).prop_map(|(text, sigs)| {
        let mut note = Note::new(text).unwrap();
        for sig in sigs {
            note.add_signature(sig).unwrap();
        }
        note
    })
}

/// An origin: no white space at either end, none of the control characters.
fn origin() -> impl Strategy<Value = String> {
    "[^\\s\\x00-\\x1f\\x7f-\\x9f]([^\\x00-\\x1f\\x7f-\\x9f]{0,30}[^\\s\\x00-\\x1f\\x7f-\\x9f])?"
}

fn checkpoint() -> impl Strategy<Value = Checkpoint> {
    (
        origin(),
        any::<u64>(),
        any::<[u8; 32]>(),
        prop::collection::vec("[^\\x00-\\x1f]{1,20}", 0..3),
    )
        .prop_map(|(origin, size, root, extensions)| Checkpoint {
            origin,
            size,
            root,
            extensions,
        })
}

fn keys() -> (SigningKey, SigningKey) {
    (
        SigningKey::from_seed("log.example/l", SignatureType::Ed25519, &[5; 32]).unwrap(),
        SigningKey::from_seed("witness.example/w", SignatureType::CosignatureV1, &[6; 32]).unwrap(),
    )
}

proptest! {
    #[test]
    fn note_parse_format_round_trip(note in note()) {
        let text = note.to_string();
        prop_assert_eq!(Note::parse(text.as_bytes()).unwrap(), note);
    }

    #[test]
    fn checkpoint_parse_format_round_trip(cp in checkpoint()) {
        let text = cp.to_text().unwrap();
        prop_assert_eq!(&Checkpoint::parse(&text).unwrap(), &cp);
        // And a parsed checkpoint formats to the very text it came from.
        prop_assert_eq!(Checkpoint::parse(&text).unwrap().to_text().unwrap(), text);
    }

    #[test]
    fn keys_round_trip(seed in any::<[u8; 32]>(), name in key_name(), cosigner in any::<bool>()) {
        let kind = if cosigner { SignatureType::CosignatureV1 } else { SignatureType::Ed25519 };
        let key = SigningKey::from_seed(&name, kind, &seed).unwrap();
        let again = SigningKey::from_private_key(&key.to_private_key()).unwrap();
        prop_assert_eq!(again.verifier_key(), key.verifier_key());
        let vkey = key.verifier_key().to_string();
        prop_assert_eq!(VerifierKey::parse(&vkey).unwrap(), key.verifier_key());
    }

    #[test]
    fn signed_and_cosigned_checkpoints_open(cp in checkpoint(), ts in 0..=consent_note::cosignature::MAX_TIMESTAMP) {
        let (log, witness) = keys();
        let mut note = cp.sign(&log).unwrap();
        note.add_signature(witness.cosign(&cp, ts).unwrap()).unwrap();
        let opened = Checkpoint::open(
            note.to_string().as_bytes(),
            &cp.origin,
            &log.verifier_key(),
            &[witness.verifier_key()],
        ).unwrap();
        prop_assert_eq!(&opened.checkpoint, &cp);
        prop_assert_eq!(opened.cosignatures[0].timestamp, Some(ts));
    }

    /// Any bytes: the parsers answer, they never panic.
    #[test]
    fn parsers_never_panic_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = Note::parse(&bytes);
        let s = String::from_utf8_lossy(&bytes);
        let _ = Checkpoint::parse(&s);
        let _ = VerifierKey::parse(&s);
        let _ = SigningKey::from_private_key(&s);
    }

    /// Text shaped like a note (dashes, pluses, base64, newlines): deeper paths.
    #[test]
    fn parsers_never_panic_on_near_misses(s in "([a-zA-Z0-9+/= .\\n—-]|\u{2014} ){0,200}") {
        let _ = Note::parse(s.as_bytes());
        let _ = Checkpoint::parse(&s);
        let _ = VerifierKey::parse(&s);
        let _ = SigningKey::from_private_key(&format!("PRIVATE+KEY+{s}"));
        if let Ok(note) = Note::parse(s.as_bytes()) {
            let (log, witness) = keys();
            let _ = note.verify(&[log.verifier_key(), witness.verifier_key()]);
        }
    }

    /// Random edits to a signed, cosigned checkpoint: never a panic, and whatever still
    /// opens states exactly the original checkpoint with the original time.
    #[test]
    fn no_edit_forges_a_checkpoint(
        cp in checkpoint(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 1..4),
    ) {
        let (log, witness) = keys();
        let mut note = cp.sign(&log).unwrap();
        note.add_signature(witness.cosign(&cp, 1_700_000_000).unwrap()).unwrap();
        let mut bytes = note.to_string().into_bytes();
        for (at, byte, op) in edits {
            let i = at.index(bytes.len() + 1);
            match op {
                0 if i < bytes.len() => bytes[i] = byte,
                1 if i < bytes.len() => { bytes.remove(i); }
                _ => bytes.insert(i, byte),
            }
        }
        if let Ok(opened) = Checkpoint::open(&bytes, &cp.origin, &log.verifier_key(), &[witness.verifier_key()]) {
            prop_assert_eq!(&opened.checkpoint, &cp);
            for c in &opened.cosignatures {
                prop_assert_eq!(c.timestamp, Some(1_700_000_000));
            }
        }
    }

    /// A signature made for one checkpoint never verifies for a different one.
    #[test]
    fn a_signature_does_not_carry_over(a in checkpoint(), b in checkpoint()) {
        prop_assume!(a != b);
        let (log, _) = keys();
        let sig = log.sign(&a.to_text().unwrap()).unwrap();
        prop_assert!(log.verifier_key().verify(&b.to_text().unwrap(), &sig).is_err());
    }
}
