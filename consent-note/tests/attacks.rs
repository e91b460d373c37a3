//! The attacker's tests: every way of changing, forging or malforming a note, key or
//! checkpoint that we could think of is refused, with the error kind that names it.

use consent_note::{
    cosignature, Checkpoint, ErrorKind, KeyId, Note, NoteSignature, SignatureType, SigningKey,
    VerifierKey, MAX_NOTE_BYTES, MAX_SIGNATURES,
};
use sha2::{Digest, Sha256};

const ORIGIN: &str = "ledger.example.ac.uk/consent";
const TS: u64 = 1_700_000_000;

fn log_key() -> SigningKey {
    SigningKey::from_seed(ORIGIN, SignatureType::Ed25519, &[1; 32]).unwrap()
}

fn witness(n: u8) -> SigningKey {
    let name = format!("witness{n}.example.ac.uk");
    SigningKey::from_seed(&name, SignatureType::CosignatureV1, &[100 + n; 32]).unwrap()
}

fn head() -> Checkpoint {
    Checkpoint {
        origin: ORIGIN.into(),
        size: 7,
        root: Sha256::digest(b"root").into(),
        extensions: vec![],
    }
}

/// The head signed by the log and cosigned by witness 1, as published.
fn published() -> String {
    let mut note = head().sign(&log_key()).unwrap();
    note.add_signature(witness(1).cosign(&head(), TS).unwrap())
        .unwrap();
    note.to_string()
}

fn open(msg: &str) -> consent_note::Result<consent_note::SignedCheckpoint> {
    Checkpoint::open(
        msg.as_bytes(),
        ORIGIN,
        &log_key().verifier_key(),
        &[witness(1).verifier_key()],
    )
}

fn open_kind(msg: &str) -> ErrorKind {
    open(msg).unwrap_err().kind()
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn the_untampered_note_opens() {
    let opened = open(&published()).unwrap();
    assert_eq!(opened.checkpoint, head());
    assert_eq!(opened.cosignatures.len(), 1);
    assert_eq!(opened.cosignatures[0].timestamp, Some(TS));
}

#[test]
fn every_changed_byte_of_the_text_is_refused() {
    let msg = published();
    let text_len = head().to_text().unwrap().len();
    for i in 0..text_len {
        for replacement in [b'A', b'1', b'/'] {
            let mut bytes = msg.clone().into_bytes();
            if bytes[i] == replacement {
                continue;
            }
            bytes[i] = replacement;
            let err = Checkpoint::open(&bytes, ORIGIN, &log_key().verifier_key(), &[]).unwrap_err();
            // A change that still reads as this log's checkpoint is caught by the
            // signature; others are refused as what they are (size, root, origin...).
            let still_parses = std::str::from_utf8(&bytes[..text_len])
                .ok()
                .and_then(|t| Checkpoint::parse(t).ok())
                .is_some_and(|cp| cp.origin == ORIGIN);
            if still_parses {
                assert_eq!(err.kind(), ErrorKind::BadSignature, "byte {i}");
            }
        }
    }
    // A changed byte in a note that is not a checkpoint.
    let key = log_key();
    let mut note = Note::new("consent given\n").unwrap();
    note.add_signature(key.sign(note.text()).unwrap()).unwrap();
    let forged = note.to_string().replace("given", "giveN");
    let forged = Note::parse(forged.as_bytes()).unwrap();
    assert_eq!(
        forged.verify(&[key.verifier_key()]).unwrap_err().kind(),
        ErrorKind::BadSignature
    );
}

#[test]
fn a_key_with_the_right_name_but_another_key_is_ignored_then_refused() {
    // The impostor's key id differs, so its line is someone else's: kept unverified,
    // and with no line by the real key the checkpoint is refused.
    let impostor = SigningKey::from_seed(ORIGIN, SignatureType::Ed25519, &[2; 32]).unwrap();
    assert_ne!(impostor.key_id(), log_key().key_id());
    let note = head().sign(&impostor).unwrap().to_string();
    assert_eq!(open_kind(&note), ErrorKind::MissingLogSignature);
    let parsed = Note::parse(note.as_bytes()).unwrap();
    assert_eq!(
        parsed
            .verify(&[log_key().verifier_key()])
            .unwrap_err()
            .kind(),
        ErrorKind::NoVerifiedSignature
    );
}

/// Two seeds whose Ed25519 keys have the same key id under [`ORIGIN`], found by a
/// birthday search (SHA-256("collide 25114") and SHA-256("collide 27710"), id
/// 6f9ed5e3). Anyone can do this in a second: the key id is not a security boundary.
fn colliding_keys() -> (SigningKey, SigningKey) {
    let seed = |s: &str| -> [u8; 32] { Sha256::digest(s.as_bytes()).into() };
    let a = SigningKey::from_seed(ORIGIN, SignatureType::Ed25519, &seed("collide 25114")).unwrap();
    let b = SigningKey::from_seed(ORIGIN, SignatureType::Ed25519, &seed("collide 27710")).unwrap();
    (a, b)
}

#[test]
fn a_key_id_collision_with_another_key_is_a_bad_signature() {
    let (real, impostor) = colliding_keys();
    assert_eq!(real.key_id(), impostor.key_id());
    assert_eq!(real.key_id(), KeyId(0x6f9ed5e3));
    assert_ne!(real.verifier_key(), impostor.verifier_key());
    let forged = head().sign(&impostor).unwrap().to_string();
    let err = Checkpoint::open(forged.as_bytes(), ORIGIN, &real.verifier_key(), &[]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadSignature);
    // Trusting both is refused as ambiguous rather than guessing.
    let note = Note::parse(forged.as_bytes()).unwrap();
    assert_eq!(
        note.verify(&[real.verifier_key(), impostor.verifier_key()])
            .unwrap_err()
            .kind(),
        ErrorKind::AmbiguousKey
    );
    // Without a search: anyone may write the real key's name and id on a line.
    let other = SigningKey::from_seed("x", SignatureType::Ed25519, &[3; 32]).unwrap();
    let sig = other.sign(&head().to_text().unwrap()).unwrap();
    let line = NoteSignature::new(ORIGIN, log_key().key_id(), sig.signature().to_vec()).unwrap();
    let mut note = Note::new(head().to_text().unwrap()).unwrap();
    note.add_signature(line).unwrap();
    assert_eq!(open_kind(&note.to_string()), ErrorKind::BadSignature);
}

#[test]
fn a_key_sharing_only_the_id_with_a_trusted_key_is_ignored() {
    // Same id, different name: not the trusted key, so not checked (the spec's rule).
    let (real, _) = colliding_keys();
    let other = SigningKey::from_seed("other.example", SignatureType::Ed25519, &[4; 32]).unwrap();
    let sig = other.sign(&head().to_text().unwrap()).unwrap();
    let line =
        NoteSignature::new("other.example", real.key_id(), sig.signature().to_vec()).unwrap();
    let mut note = Note::new(head().to_text().unwrap()).unwrap();
    note.add_signature(line).unwrap();
    note.add_signature(real.sign(note.text()).unwrap()).unwrap();
    let v = note.verify(&[real.verifier_key()]).unwrap();
    assert_eq!(v.verified.len(), 1);
    assert_eq!(v.unverified.len(), 1);
}

/// Replaces the witness's line in `msg` with one carrying `bytes` after its key id.
fn with_cosignature_bytes(msg: &str, bytes: &[u8]) -> String {
    let w = witness(1);
    let mut raw = w.key_id().to_bytes().to_vec();
    raw.extend_from_slice(bytes);
    let prefix = format!("\u{2014} {} ", w.name());
    let mut out = String::new();
    for line in msg.split_inclusive('\n') {
        if line.starts_with(&prefix) {
            out.push_str(&format!("{prefix}{}\n", b64(&raw)));
        } else {
            out.push_str(line);
        }
    }
    out
}

fn cosignature_bytes(msg: &str) -> Vec<u8> {
    let note = Note::parse(msg.as_bytes()).unwrap();
    note.signatures()[1].signature().to_vec()
}

#[test]
fn a_cosignature_with_a_changed_timestamp_is_refused() {
    let msg = published();
    let bytes = cosignature_bytes(&msg);
    for ts in [TS + 1, TS - 1, 0, TS + 86_400 * 365] {
        let mut changed = bytes.clone();
        changed[..8].copy_from_slice(&ts.to_be_bytes());
        assert_eq!(
            open_kind(&with_cosignature_bytes(&msg, &changed)),
            ErrorKind::BadSignature,
            "{ts}"
        );
    }
    // Above 2^63 - 1 a time is refused as such, before any signature check.
    let mut changed = bytes.clone();
    changed[..8].copy_from_slice(&(cosignature::MAX_TIMESTAMP + 1).to_be_bytes());
    assert_eq!(
        open_kind(&with_cosignature_bytes(&msg, &changed)),
        ErrorKind::InvalidTimestamp
    );
    assert_eq!(
        witness(1)
            .cosign(&head(), cosignature::MAX_TIMESTAMP + 1)
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidTimestamp
    );
    witness(1)
        .cosign(&head(), cosignature::MAX_TIMESTAMP)
        .unwrap();
    // A cosignature one byte short or long is not a cosignature.
    assert_eq!(
        open_kind(&with_cosignature_bytes(&msg, &bytes[..71])),
        ErrorKind::BadSignature
    );
    let mut long = bytes.clone();
    long.push(0);
    assert_eq!(
        open_kind(&with_cosignature_bytes(&msg, &long)),
        ErrorKind::BadSignature
    );
}

#[test]
fn a_cosignature_of_another_checkpoint_is_refused() {
    let mut other = head();
    other.size = 8;
    let foreign = witness(1).cosign(&other, TS).unwrap();
    let mut note = head().sign(&log_key()).unwrap();
    note.add_signature(foreign).unwrap();
    assert_eq!(open_kind(&note.to_string()), ErrorKind::BadSignature);
}

#[test]
fn the_log_key_cannot_pass_as_a_cosignature_nor_the_reverse() {
    // A witness's plain Ed25519 signature over the text is not a cosignature: the same
    // seed as a 0x04 key has another id, and a 0x01 line with the 0x04 id fails.
    let seed = [101u8; 32];
    let plain =
        SigningKey::from_seed("witness1.example.ac.uk", SignatureType::Ed25519, &seed).unwrap();
    assert_ne!(plain.key_id(), witness(1).key_id());
    let sig = plain.sign(&head().to_text().unwrap()).unwrap();
    let line =
        NoteSignature::new(plain.name(), witness(1).key_id(), sig.signature().to_vec()).unwrap();
    let mut note = head().sign(&log_key()).unwrap();
    note.add_signature(line).unwrap();
    assert_eq!(open_kind(&note.to_string()), ErrorKind::BadSignature);

    // Keys of the wrong type are refused where they are used.
    assert_eq!(
        witness(1).sign("x\n").unwrap_err().kind(),
        ErrorKind::WrongKeyType
    );
    assert_eq!(
        log_key().cosign(&head(), TS).unwrap_err().kind(),
        ErrorKind::WrongKeyType
    );
    let msg = published();
    let err =
        Checkpoint::open(msg.as_bytes(), ORIGIN, &witness(1).verifier_key(), &[]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WrongKeyType);
    let err = Checkpoint::open(
        msg.as_bytes(),
        ORIGIN,
        &log_key().verifier_key(),
        &[log_key().verifier_key()],
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WrongKeyType);
}

#[test]
fn a_checkpoint_signed_only_by_witnesses_is_refused() {
    let mut note = Note::new(head().to_text().unwrap()).unwrap();
    note.add_signature(witness(1).cosign(&head(), TS).unwrap())
        .unwrap();
    assert_eq!(open_kind(&note.to_string()), ErrorKind::MissingLogSignature);
}

#[test]
fn another_logs_checkpoint_is_refused() {
    let msg = published();
    let err = Checkpoint::open(
        msg.as_bytes(),
        "other.example/log",
        &log_key().verifier_key(),
        &[],
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OriginMismatch);
}

#[test]
fn duplicate_cosignatures_from_one_witness_are_refused() {
    let msg = published();
    let last = msg.lines().last().unwrap().to_owned();
    assert_eq!(
        open_kind(&format!("{msg}{last}\n")),
        ErrorKind::DuplicateSignature
    );
    // Even with a different time: one witness, one statement per note.
    let again = witness(1).cosign(&head(), TS + 60).unwrap();
    assert_eq!(
        open_kind(&format!("{msg}{}\n", again.line())),
        ErrorKind::DuplicateSignature
    );
    // Adding it through the API replaces the older one instead.
    let mut note = Note::parse(msg.as_bytes()).unwrap();
    note.add_signature(again).unwrap();
    assert_eq!(note.signatures().len(), 2);
    assert_eq!(
        open(&note.to_string()).unwrap().cosignatures[0].timestamp,
        Some(TS + 60)
    );
}

#[test]
fn checkpoint_fields_are_strict() {
    let root = b64(&head().root);
    let cases: Vec<(String, ErrorKind)> = vec![
        (
            format!("{ORIGIN}\n007\n{root}\n"),
            ErrorKind::InvalidTreeSize,
        ),
        (
            format!("{ORIGIN}\n+7\n{root}\n"),
            ErrorKind::InvalidTreeSize,
        ),
        (
            format!("{ORIGIN}\n-0\n{root}\n"),
            ErrorKind::InvalidTreeSize,
        ),
        (
            format!("{ORIGIN}\n7 \n{root}\n"),
            ErrorKind::InvalidTreeSize,
        ),
        (
            format!("{ORIGIN}\n 7\n{root}\n"),
            ErrorKind::InvalidTreeSize,
        ),
        (
            format!("{ORIGIN}\n0x7\n{root}\n"),
            ErrorKind::InvalidTreeSize,
        ),
        (format!("{ORIGIN}\n\n{root}\n"), ErrorKind::InvalidTreeSize),
        (
            format!("{ORIGIN}\n18446744073709551616\n{root}\n"),
            ErrorKind::InvalidTreeSize,
        ),
        (
            format!("{ORIGIN}\n7\n{}\n", b64(&[0; 31])),
            ErrorKind::InvalidRootHash,
        ),
        (
            format!("{ORIGIN}\n7\n{}\n", b64(&[0; 33])),
            ErrorKind::InvalidRootHash,
        ),
        (
            format!("{ORIGIN}\n7\n{}\n", b64(&[0; 64])),
            ErrorKind::InvalidRootHash,
        ),
        (
            format!("{ORIGIN}\n7\n{root} \n"),
            ErrorKind::InvalidRootHash,
        ),
        (
            format!("{ORIGIN}\n7\n{}\n", root.trim_end_matches('=')),
            ErrorKind::InvalidRootHash,
        ),
        (
            format!(
                "{ORIGIN}\n7\n{}\n",
                root.replace('+', "-").replace('/', "_")
            ),
            ErrorKind::InvalidRootHash,
        ),
        (format!("{ORIGIN}\n7\n\n"), ErrorKind::InvalidRootHash),
        (format!("{ORIGIN} \n7\n{root}\n"), ErrorKind::InvalidOrigin),
        (format!(" {ORIGIN}\n7\n{root}\n"), ErrorKind::InvalidOrigin),
        (format!("\n7\n{root}\n"), ErrorKind::InvalidOrigin),
        (
            format!("{ORIGIN}\n7\n{root}\n\n"),
            ErrorKind::InvalidExtensionLine,
        ),
        (
            format!("{ORIGIN}\n7\n{root}\next\n\n"),
            ErrorKind::InvalidExtensionLine,
        ),
        (
            format!("{ORIGIN}\r\n7\r\n{root}\r\n"),
            ErrorKind::ControlCharacter,
        ),
        (
            format!("{ORIGIN}\n7\n{root}"),
            ErrorKind::MissingFinalNewline,
        ),
        (format!("{ORIGIN}\n7\n"), ErrorKind::CheckpointTooShort),
        (format!("{ORIGIN}\n"), ErrorKind::CheckpointTooShort),
        ("\n".into(), ErrorKind::CheckpointTooShort),
        (String::new(), ErrorKind::MissingFinalNewline),
    ];
    for (text, kind) in &cases {
        assert_eq!(
            Checkpoint::parse(text).unwrap_err().kind(),
            *kind,
            "{text:?}"
        );
    }
    // A root with non-canonical trailing bits decodes to the same 32 bytes in lenient
    // decoders: refused, so a root has one spelling.
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut chars = root.clone().into_bytes();
    let i = chars.len() - 2; // the last data character: its two low bits are padding
    let v = ALPHABET.iter().position(|&c| c == chars[i]).unwrap();
    chars[i] = ALPHABET[v ^ 1];
    let noncanonical = String::from_utf8(chars).unwrap();
    let text = format!("{ORIGIN}\n7\n{noncanonical}\n");
    assert_eq!(
        Checkpoint::parse(&text).unwrap_err().kind(),
        ErrorKind::InvalidRootHash
    );
    // Signed, the same refusals reach a reader through open().
    let key = log_key();
    for (text, kind) in cases
        .iter()
        .filter(|(t, _)| t.ends_with('\n') && !t.contains('\r'))
    {
        let Ok(mut note) = Note::new(text.clone()) else {
            continue;
        };
        note.add_signature(key.sign(text).unwrap()).unwrap();
        assert_eq!(open_kind(&note.to_string()), *kind, "{text:?}");
    }
    // Formatting refuses what parsing would refuse.
    let mut bad = head();
    bad.origin = format!("{ORIGIN}\n8");
    assert_eq!(bad.to_text().unwrap_err().kind(), ErrorKind::InvalidOrigin);
    let mut bad = head();
    bad.extensions = vec![String::new()];
    assert_eq!(
        bad.to_text().unwrap_err().kind(),
        ErrorKind::InvalidExtensionLine
    );
    let mut bad = head();
    bad.extensions = vec!["a\nb".into()];
    assert_eq!(
        bad.to_text().unwrap_err().kind(),
        ErrorKind::InvalidExtensionLine
    );
}

#[test]
fn size_zero_and_the_largest_size_are_checkpoints() {
    for size in [0, 1, u64::MAX] {
        let mut cp = head();
        cp.size = size;
        let text = cp.to_text().unwrap();
        assert_eq!(Checkpoint::parse(&text).unwrap(), cp);
    }
}

#[test]
fn malformed_notes_are_refused_with_their_kind() {
    let msg = published();
    let (text, sigs) = msg.split_at(msg.rfind("\n\n").unwrap() + 1);
    let sigs = &sigs[1..];
    let first_sig = sigs.lines().next().unwrap();
    let cases: Vec<(Vec<u8>, ErrorKind)> = vec![
        (
            msg.replace('\n', "\r\n").into_bytes(),
            ErrorKind::ControlCharacter,
        ),
        (
            msg.trim_end_matches('\n').as_bytes().to_vec(),
            ErrorKind::MissingFinalNewline,
        ),
        (text.as_bytes().to_vec(), ErrorKind::NoSignatureBlock),
        (
            format!("{text}\n").into_bytes(),
            ErrorKind::NoSignatureBlock,
        ),
        (b"\n\n".to_vec(), ErrorKind::NoSignatureBlock),
        (Vec::new(), ErrorKind::NoSignatureBlock),
        (
            format!("{text}{sigs}").into_bytes(),
            ErrorKind::NoSignatureBlock,
        ),
        (
            format!("{text}\n{}", sigs.replace('\u{2014}', "-")).into_bytes(),
            ErrorKind::MalformedSignatureLine,
        ),
        (
            format!("{text}\n{}", sigs.replace('\u{2014}', "\u{2013}")).into_bytes(),
            ErrorKind::MalformedSignatureLine,
        ),
        (
            format!("{text}\n{}", sigs.replacen(' ', "  ", 1)).into_bytes(),
            ErrorKind::MalformedSignatureLine,
        ),
        (
            format!(
                "{text}\n{}",
                sigs.replace(&format!(" {ORIGIN} "), &format!(" {ORIGIN}\u{a0}"))
            )
            .into_bytes(),
            ErrorKind::MalformedSignatureLine,
        ),
        (
            format!("{text}\n{first_sig} \n").into_bytes(),
            ErrorKind::MalformedSignatureLine,
        ),
        (
            format!("{text}\n{}\n", &first_sig[..first_sig.len() - 3]).into_bytes(),
            ErrorKind::MalformedSignatureLine,
        ),
        (
            format!("{text}\n\u{2014} {ORIGIN}\n").into_bytes(),
            ErrorKind::MalformedSignatureLine,
        ),
        (
            format!("{text}\n\u{2014} {ORIGIN} AAAAAA==\n").into_bytes(),
            ErrorKind::MalformedSignatureLine,
        ),
        (
            format!("{text}\n\u{2014} a+b AAAAAAE=\n").into_bytes(),
            ErrorKind::MalformedSignatureLine,
        ),
        // A blank line after the signatures makes them text, with none after.
        (
            format!("{text}\n{sigs}\n").into_bytes(),
            ErrorKind::NoSignatureBlock,
        ),
        (
            format!("{text}\n{sigs}trailing words\n").into_bytes(),
            ErrorKind::MalformedSignatureLine,
        ),
        (
            format!("{text}\n{sigs}").replace('A', "\t").into_bytes(),
            ErrorKind::ControlCharacter,
        ),
        (
            format!("{text}\n{sigs}\0").into_bytes(),
            ErrorKind::ControlCharacter,
        ),
    ];
    for (bytes, kind) in cases {
        assert_eq!(
            Note::parse(&bytes).unwrap_err().kind(),
            kind,
            "{:?}",
            String::from_utf8_lossy(&bytes)
        );
    }
}

#[test]
fn non_canonical_base64_in_a_signature_is_refused() {
    // "AAAAAAE=" is key id 0 and byte 1; "AAAAAAF=" decodes the same in a lenient
    // decoder (stray low bits).
    Note::parse("x\n\n\u{2014} k AAAAAAE=\n".as_bytes()).unwrap();
    for bad in ["AAAAAAF=", "AAAAAAE", "AAAAAAE==", "AAAAAAE=\u{3d}"] {
        let msg = format!("x\n\n\u{2014} k {bad}\n");
        assert_eq!(
            Note::parse(msg.as_bytes()).unwrap_err().kind(),
            ErrorKind::MalformedSignatureLine,
            "{bad}"
        );
    }
}

#[test]
fn a_truncated_signature_is_refused() {
    let msg = published();
    let note = Note::parse(msg.as_bytes()).unwrap();
    let log_sig = &note.signatures()[0];
    for keep in [1, 32, 63] {
        let short = NoteSignature::new(
            log_sig.name(),
            log_sig.key_id(),
            log_sig.signature()[..keep].to_vec(),
        )
        .unwrap();
        let mut n = Note::new(note.text()).unwrap();
        n.add_signature(short).unwrap();
        assert_eq!(open_kind(&n.to_string()), ErrorKind::BadSignature, "{keep}");
    }
}

#[test]
fn too_many_signatures_are_refused_but_a_hundred_are_read() {
    let text = "t\n";
    let line = |i: usize| format!("\u{2014} k{i} AAAAAAE=\n");
    let ok: String = (0..MAX_SIGNATURES).map(line).collect();
    assert_eq!(
        Note::parse(format!("{text}\n{ok}").as_bytes())
            .unwrap()
            .signatures()
            .len(),
        MAX_SIGNATURES
    );
    let too_many: String = (0..=MAX_SIGNATURES).map(line).collect();
    assert_eq!(
        Note::parse(format!("{text}\n{too_many}").as_bytes())
            .unwrap_err()
            .kind(),
        ErrorKind::TooManySignatures
    );
    // The same line a thousand times is refused by count before any other check.
    let same = line(0).repeat(1000);
    assert_eq!(
        Note::parse(format!("{text}\n{same}").as_bytes())
            .unwrap_err()
            .kind(),
        ErrorKind::TooManySignatures
    );
    // And the API will not build such a note either.
    let mut note = Note::new(text).unwrap();
    for i in 0..MAX_SIGNATURES {
        note.add_signature(NoteSignature::new(&format!("k{i}"), KeyId(0), vec![1]).unwrap())
            .unwrap();
    }
    let err = note
        .add_signature(NoteSignature::new("one-more", KeyId(0), vec![1]).unwrap())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooManySignatures);
}

#[test]
fn oversized_input_is_refused_before_it_is_read() {
    let big = vec![b'a'; MAX_NOTE_BYTES + 1];
    assert_eq!(
        Note::parse(&big).unwrap_err().kind(),
        ErrorKind::NoteTooLarge
    );
    let text = format!("{}\n", "a".repeat(MAX_NOTE_BYTES));
    assert_eq!(
        Note::new(text.clone()).unwrap_err().kind(),
        ErrorKind::NoteTooLarge
    );
    assert_eq!(
        Checkpoint::parse(&text).unwrap_err().kind(),
        ErrorKind::NoteTooLarge
    );
    // A text that fits, whose signature would push the note over the limit.
    let text = format!("{}\n", "a".repeat(MAX_NOTE_BYTES - 50));
    let mut note = Note::new(text.clone()).unwrap();
    let sig = log_key().sign(&text).unwrap();
    assert_eq!(
        note.add_signature(sig).unwrap_err().kind(),
        ErrorKind::NoteTooLarge
    );
}

#[test]
fn invalid_utf8_is_refused() {
    let msg = published();
    for bad in [
        &[0xff][..],
        &[0xc3],
        &[0xe2, 0x80],
        &[0xed, 0xa0, 0x80],
        &[0xc0, 0xaf],
    ] {
        let mut bytes = msg.clone().into_bytes();
        bytes.splice(3..3, bad.iter().copied());
        assert_eq!(
            Note::parse(&bytes).unwrap_err().kind(),
            ErrorKind::InvalidUtf8,
            "{bad:?}"
        );
    }
    // A broken em dash in the signature block.
    let bytes = msg.into_bytes();
    let at = bytes
        .windows(3)
        .position(|w| w == "\u{2014}".as_bytes())
        .unwrap();
    let mut broken = bytes;
    broken.remove(at + 2);
    assert_eq!(
        Note::parse(&broken).unwrap_err().kind(),
        ErrorKind::InvalidUtf8
    );
}

#[test]
fn key_strings_are_strict() {
    let log = log_key();
    let vkey = log.verifier_key().to_string();
    let skey = log.to_private_key();
    VerifierKey::parse(&vkey).unwrap();
    SigningKey::from_private_key(&skey).unwrap();

    let (name, rest) = vkey.split_once('+').unwrap();
    let (hex, material) = rest.split_once('+').unwrap();
    let cases: Vec<(String, ErrorKind)> = vec![
        // Uppercase hex (this key's id happens to be all digits; Go's has letters).
        (
            "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW".into(),
            ErrorKind::MalformedKey,
        ),
        (
            format!("{name}+{}+{material}", &hex[1..]),
            ErrorKind::MalformedKey,
        ),
        (format!("{name}+0{hex}+{material}"), ErrorKind::MalformedKey),
        (format!("{name}+{hex}"), ErrorKind::MalformedKey),
        (format!("{name}+{hex}+{material} "), ErrorKind::MalformedKey),
        (format!("{name}+{hex}+"), ErrorKind::MalformedKey),
        (format!("+{hex}+{material}"), ErrorKind::InvalidKeyName),
        (format!("a b+{hex}+{material}"), ErrorKind::InvalidKeyName),
        (
            format!("other.example+{hex}+{material}"),
            ErrorKind::KeyIdMismatch,
        ),
        (
            format!("{name}+00000000+{material}"),
            ErrorKind::KeyIdMismatch,
        ),
    ];
    for (s, kind) in cases {
        match VerifierKey::parse(&s) {
            Ok(_) => panic!("accepted {s}"),
            Err(e) => assert_eq!(e.kind(), kind, "{s}"),
        }
    }
    // The same key material as a cosigner key has another id.
    let mut raw = vec![0x04];
    raw.extend_from_slice(&log.verifier_key().public_key());
    let s = format!("{name}+{hex}+{}", b64(&raw));
    assert_eq!(
        VerifierKey::parse(&s).unwrap_err().kind(),
        ErrorKind::KeyIdMismatch
    );

    // Small-order points would accept forged signatures: refused even with a right id.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    for weak in [identity, [0u8; 32]] {
        let id = KeyId::compute(name, SignatureType::Ed25519, &weak);
        let mut raw = vec![0x01];
        raw.extend_from_slice(&weak);
        let s = format!("{name}+{id}+{}", b64(&raw));
        assert_eq!(
            VerifierKey::parse(&s).unwrap_err().kind(),
            ErrorKind::InvalidPublicKey
        );
    }

    // Private keys: the prefix, the id, the length.
    let bad_private = [
        (
            skey.replacen("PRIVATE+KEY+", "", 1),
            ErrorKind::MalformedKey,
        ),
        (
            skey.replacen("PRIVATE", "private", 1),
            ErrorKind::MalformedKey,
        ),
        (
            skey.replacen(&hex.to_string(), "00000000", 1),
            ErrorKind::KeyIdMismatch,
        ),
        (vkey.clone(), ErrorKind::MalformedKey),
        (format!("PRIVATE+KEY+{vkey}"), ErrorKind::KeyIdMismatch),
    ];
    for (s, kind) in bad_private {
        assert_eq!(
            SigningKey::from_private_key(&s).unwrap_err().kind(),
            kind,
            "{s}"
        );
    }
}

#[test]
fn generated_keys_differ_and_work() {
    let a = SigningKey::generate(ORIGIN, SignatureType::Ed25519).unwrap();
    let b = SigningKey::generate(ORIGIN, SignatureType::Ed25519).unwrap();
    assert_ne!(a.verifier_key(), b.verifier_key());
    let again = SigningKey::from_private_key(&a.to_private_key()).unwrap();
    assert_eq!(again.verifier_key(), a.verifier_key());
    let note = head().sign(&again).unwrap().to_string();
    Checkpoint::open(note.as_bytes(), ORIGIN, &a.verifier_key(), &[]).unwrap();
    assert_eq!(
        Checkpoint::open(note.as_bytes(), ORIGIN, &b.verifier_key(), &[])
            .unwrap_err()
            .kind(),
        ErrorKind::MissingLogSignature
    );
    let w = SigningKey::generate("w.example", SignatureType::CosignatureV1).unwrap();
    let line = w.cosign(&head(), TS).unwrap();
    w.verifier_key()
        .verify(&head().to_text().unwrap(), &line)
        .unwrap();
    assert_eq!(
        SigningKey::generate("bad name", SignatureType::Ed25519)
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidKeyName
    );
}

#[test]
fn verifying_a_line_against_another_key_says_so() {
    let msg = published();
    let note = Note::parse(msg.as_bytes()).unwrap();
    let err = witness(2)
        .verifier_key()
        .verify(note.text(), &note.signatures()[1])
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::KeyMismatch);
}
