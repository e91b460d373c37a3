//! Interoperability: the examples of the C2SP specifications, the tests of Go's
//! `sumdb/note` and transparency-dev's `formats`, real tree heads of the Go checksum
//! database, and known answers computed independently (pyca/cryptography).
//! Sources and licences: `testdata/README.md`.

use consent_note::{
    Checkpoint, ErrorKind, KeyId, Note, NoteSignature, SignatureType, SigningKey, VerifierKey,
};

fn vectors(file: &str) -> Vec<(String, String)> {
    file.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (k, v) = l.split_once(' ').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

fn get(vs: &[(String, String)], key: &str) -> String {
    vs.iter().find(|(k, _)| k == key).unwrap().1.clone()
}

const GO: &str = include_str!("../testdata/go/vectors.txt");
const GO_TEXT: &str = include_str!("../testdata/go/text.txt");
const TD: &str = include_str!("../testdata/transparency-dev/vectors.txt");
const KAT: &str = include_str!("../testdata/kat/kat.txt");
const KAT_NOTE: &str = include_str!("../testdata/kat/kat.note");

// --- C2SP signed-note ---

#[test]
fn c2sp_signed_note_example_verifies() {
    let vkey = VerifierKey::parse(include_str!("../testdata/c2sp/signed-note-example.vkey").trim())
        .unwrap();
    assert_eq!(vkey.name(), "example.com/foo");
    assert_eq!(vkey.key_id(), KeyId(0x530d903a));
    assert_eq!(vkey.kind(), SignatureType::Ed25519);
    let msg = include_str!("../testdata/c2sp/signed-note-example.note");
    let note = Note::parse(msg.as_bytes()).unwrap();
    assert_eq!(note.text(), "This is an example message.\n");
    let v = note.verify(std::slice::from_ref(&vkey)).unwrap();
    assert_eq!(v.verified.len(), 1);
    assert!(v.unverified.is_empty());
    assert_eq!(
        note.to_string(),
        msg,
        "formatting gives the same bytes back"
    );
    assert_eq!(
        vkey.to_string(),
        include_str!("../testdata/c2sp/signed-note-example.vkey").trim()
    );
}

#[test]
fn c2sp_poem_parses_with_a_blank_line_in_its_text() {
    let msg = include_str!("../testdata/c2sp/signed-note-poem.note");
    let note = Note::parse(msg.as_bytes()).unwrap();
    assert!(note.text().ends_with("\n\ned \u{e8} subito sera.\n"));
    assert_eq!(note.signatures()[0].name(), "quasimodo.example/salvatore");
    assert_eq!(note.to_string(), msg);
    // Its key is not published: nothing verifies, so the note is refused.
    assert_eq!(
        note.verify(&[]).unwrap_err().kind(),
        ErrorKind::NoVerifiedSignature
    );
}

// --- C2SP tlog-checkpoint and tlog-cosignature ---

#[test]
fn c2sp_checkpoint_example_parses_and_formats_back() {
    let msg = include_str!("../testdata/c2sp/tlog-checkpoint-example.note");
    let note = Note::parse(msg.as_bytes()).unwrap();
    let cp = Checkpoint::parse(note.text()).unwrap();
    assert_eq!(cp.origin, "example.com/behind-the-sofa");
    assert_eq!(cp.size, 20852163);
    assert_eq!(cp.to_text().unwrap(), note.text());
    assert!(cp.extensions.is_empty());
}

#[test]
fn c2sp_cosigned_example_has_the_spec_timestamp() {
    let msg = include_str!("../testdata/c2sp/tlog-cosignature-example.note");
    let note = Note::parse(msg.as_bytes()).unwrap();
    assert_eq!(note.signatures().len(), 2);
    let cosig = &note.signatures()[1];
    assert_eq!(cosig.name(), "witness.example.com/w1");
    // key id || u64 timestamp || 64-byte signature; the time of the spec's message.
    assert_eq!(cosig.signature().len(), 8 + 64);
    let ts = u64::from_be_bytes(cosig.signature()[..8].try_into().unwrap());
    assert_eq!(ts, 1679315147);
}

// --- Go's sumdb/note tests ---

#[test]
fn go_signer_key_signs_the_expected_note() {
    let go = vectors(GO);
    let key = SigningKey::from_private_key(&get(&go, "peter-skey")).unwrap();
    assert_eq!(key.name(), "PeterNeumann");
    assert_eq!(key.key_id(), KeyId(0xc74f20a3));
    assert_eq!(key.verifier_key().to_string(), get(&go, "peter-vkey"));
    assert_eq!(key.to_private_key().as_str(), get(&go, "peter-skey"));
    let mut note = Note::new(GO_TEXT).unwrap();
    note.add_signature(key.sign(GO_TEXT).unwrap()).unwrap();
    // Go's TestSign: exactly these bytes.
    assert_eq!(
        note.to_string(),
        format!("{GO_TEXT}\n{}\n", get(&go, "peter-sig"))
    );
}

#[test]
fn go_open_one_verified_one_not_then_both() {
    let go = vectors(GO);
    let peter = VerifierKey::parse(&get(&go, "peter-vkey")).unwrap();
    let enoch = VerifierKey::parse(&get(&go, "enoch-vkey")).unwrap();
    let msg = format!(
        "{GO_TEXT}\n{}\n{}\n",
        get(&go, "peter-sig"),
        get(&go, "enoch-sig")
    );
    let note = Note::parse(msg.as_bytes()).unwrap();

    let v = note.verify(std::slice::from_ref(&peter)).unwrap();
    assert_eq!(v.verified.len(), 1);
    assert_eq!(v.verified[0].name, "PeterNeumann");
    assert_eq!(v.unverified.len(), 1);
    assert_eq!(v.unverified[0].name(), "EnochRoot");
    assert_eq!(v.unverified[0].key_id(), KeyId(0xaf0cfe78));

    let v = note.verify(&[peter.clone(), enoch.clone()]).unwrap();
    assert_eq!(v.verified.len(), 2);

    assert_eq!(
        note.verify(&[]).unwrap_err().kind(),
        ErrorKind::NoVerifiedSignature
    );
    assert_eq!(
        note.verify(&[enoch.clone(), peter, enoch])
            .unwrap_err()
            .kind(),
        ErrorKind::AmbiguousKey
    );
}

#[test]
fn go_refused_verifier_keys() {
    let go = vectors(GO);
    assert_eq!(
        VerifierKey::parse(&get(&go, "bad-vkey-length"))
            .unwrap_err()
            .kind(),
        ErrorKind::MalformedKey
    );
    assert_eq!(
        VerifierKey::parse(&get(&go, "bad-vkey-algorithm"))
            .unwrap_err()
            .kind(),
        ErrorKind::UnsupportedSignatureType
    );
}

#[test]
fn go_every_substring_and_every_bumped_byte_of_a_key_is_refused() {
    // Go's TestNewVerifier / TestNewSigner manglings.
    let go = vectors(GO);
    for (good, parse) in [
        (
            get(&go, "peter-vkey"),
            (|s: &str| VerifierKey::parse(s).map(|_| ())) as fn(&str) -> _,
        ),
        (get(&go, "peter-skey"), |s: &str| {
            SigningKey::from_private_key(s).map(|_| ())
        }),
    ] {
        parse(&good).unwrap();
        let b = good.as_bytes();
        for i in 0..=b.len() {
            for j in i + 1..=b.len() {
                if i == 0 && j == b.len() {
                    continue;
                }
                if let Ok(s) = std::str::from_utf8(&b[i..j]) {
                    assert!(parse(s).is_err(), "{s:?}");
                }
            }
        }
        let mut m = b.to_vec();
        for i in 0..m.len() {
            m[i] = m[i].wrapping_add(1);
            if let Ok(s) = std::str::from_utf8(&m) {
                assert!(parse(s).is_err(), "{s:?}");
            }
            m[i] = m[i].wrapping_sub(1);
        }
    }
}

#[test]
fn go_malformed_messages_are_refused() {
    let go = vectors(GO);
    let sig = format!("{}\n", get(&go, "peter-sig"));
    let t = GO_TEXT;
    let cases: Vec<(String, ErrorKind)> = vec![
        (t.to_owned(), ErrorKind::NoSignatureBlock),
        (format!("{t}\n"), ErrorKind::NoSignatureBlock),
        (format!("{t}\n{}", &sig[..sig.len() - 1]), ErrorKind::MissingFinalNewline),
        (format!("\x01{t}\n{sig}"), ErrorKind::ControlCharacter),
        (
            format!("{t}\n\u{2014} Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="),
            ErrorKind::MissingFinalNewline,
        ),
        (format!("{t}\n{sig}Unexpected line.\n"), ErrorKind::MalformedSignatureLine),
        (
            format!("{t}\n\u{2014} Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"),
            ErrorKind::MalformedSignatureLine,
        ),
    ];
    for (msg, kind) in cases {
        assert_eq!(
            Note::parse(msg.as_bytes()).unwrap_err().kind(),
            kind,
            "{msg:?}"
        );
    }
    let mut bad = format!("\u{ff}{t}\n{sig}").into_bytes();
    bad[0] = 0xff;
    bad.remove(1);
    assert_eq!(
        Note::parse(&bad).unwrap_err().kind(),
        ErrorKind::InvalidUtf8
    );
}

#[test]
fn go_invalid_signature_from_a_known_key() {
    let go = vectors(GO);
    let peter = VerifierKey::parse(&get(&go, "peter-vkey")).unwrap();
    let sig = get(&go, "peter-sig");
    // Go inserts "ABCD" into the base64: a longer signature by the same key id.
    let msg = format!("{GO_TEXT}\n{}ABCD{}\n", &sig[..60], &sig[60..]);
    let note = Note::parse(msg.as_bytes()).unwrap();
    assert_eq!(
        note.verify(&[peter]).unwrap_err().kind(),
        ErrorKind::BadSignature
    );
}

// --- transparency-dev/formats ---

#[test]
fn transparency_dev_verifier_keys() {
    let td = vectors(TD);
    let k = VerifierKey::parse(&get(&td, "vkey-ed25519")).unwrap();
    assert_eq!((k.name(), k.kind()), ("TEST", SignatureType::Ed25519));
    let k = VerifierKey::parse(&get(&td, "vkey-cosignature")).unwrap();
    assert_eq!(
        (k.name(), k.kind()),
        ("remora.n621.de", SignatureType::CosignatureV1)
    );
    assert_eq!(k.key_id(), KeyId(0xda77ade7));
    for (name, kind) in [
        ("bad-vkey-parts", ErrorKind::MalformedKey),
        ("bad-vkey-base64", ErrorKind::MalformedKey),
        ("bad-vkey-algorithm", ErrorKind::UnsupportedSignatureType),
    ] {
        assert_eq!(
            VerifierKey::parse(&get(&td, name)).unwrap_err().kind(),
            kind,
            "{name}"
        );
    }
}

#[test]
fn transparency_dev_cosignature_timestamp() {
    let td = vectors(TD);
    let line = format!("x\n\n\u{2014} w {}\n", get(&td, "cosignature-1727964367"));
    let note = Note::parse(line.as_bytes()).unwrap();
    let sig = note.signatures()[0].signature();
    assert_eq!(sig.len(), 72);
    assert_eq!(u64::from_be_bytes(sig[..8].try_into().unwrap()), 1727964367);
    // A plain Ed25519 signature is too short to be a cosignature: a cosigner key with
    // that name and id refuses it rather than reading a time from it.
    let line = format!("x\n\n\u{2014} w {}\n", get(&td, "not-a-cosignature"));
    let note = Note::parse(line.as_bytes()).unwrap();
    assert_eq!(note.signatures()[0].signature().len(), 64);
}

/// The cases of transparency-dev/formats `log/checkpoint_test.go` (Apache-2.0). Their
/// "valid" ones have root hashes that are not 32 bytes ("bananas"), which a
/// tlog-checkpoint (an RFC 6962 SHA-256 root) cannot have: refused here.
#[test]
fn transparency_dev_checkpoint_cases() {
    let cases = [
        ("Log\n123\nYmFuYW5hcw==\n", ErrorKind::InvalidRootHash),
        (
            "Log\n9944\ndGhlIHZpZXcgZnJvbSB0aGUgdHJlZSB0b3BzIGlzIGdyZWF0IQ==\nlots\nof\nlines\n",
            ErrorKind::InvalidRootHash,
        ),
        (
            "Log\n9944\ndGhlIHZpZXcgZnJvbSB0aGUgdHJlZSB0b3BzIGlzIGdyZWF0IQ==\n\n\n\n",
            ErrorKind::InvalidRootHash,
        ),
        ("Head\n9944\n", ErrorKind::CheckpointTooShort),
        (
            "\n9944\ndGhlIHZpZXcgZnJvbSB0aGUgdHJlZSB0b3BzIGlzIGdyZWF0IQ==\n",
            ErrorKind::InvalidOrigin,
        ),
        ("Log\n123\nYmFuYW5hcw==", ErrorKind::MissingFinalNewline),
        (
            "Log\nbananas\ndGhlIHZpZXcgZnJvbSB0aGUgdHJlZSB0b3BzIGlzIGdyZWF0IQ==\n",
            ErrorKind::InvalidTreeSize,
        ),
        (
            "Log\n-34\ndGhlIHZpZXcgZnJvbSB0aGUgdHJlZSB0b3BzIGlzIGdyZWF0IQ==\n",
            ErrorKind::InvalidTreeSize,
        ),
        (
            "Log\n3438945738945739845734895735\ndGhlIHZpZXcgZnJvbSB0aGUgdHJlZSB0b3BzIGlzIGdyZWF0IQ==\n",
            ErrorKind::InvalidTreeSize,
        ),
        ("Log\n123\nThisIsn'tBase64\n", ErrorKind::InvalidRootHash),
    ];
    for (text, kind) in cases {
        assert_eq!(
            Checkpoint::parse(text).unwrap_err().kind(),
            kind,
            "{text:?}"
        );
    }
    // The same shapes with a 32-byte root are accepted, extension lines kept.
    let root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
    let cp = Checkpoint::parse(&format!("Log\n9944\n{root}\nlots\nof\nlines\n")).unwrap();
    assert_eq!(cp.extensions, ["lots", "of", "lines"]);
    // "Trailing newlines" make empty extension lines.
    assert_eq!(
        Checkpoint::parse(&format!("Log\n9944\n{root}\n\n\n\n"))
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidExtensionLine
    );
}

// --- the Go checksum database: real signed checkpoints ---

#[test]
fn sum_golang_org_tree_heads_verify() {
    let key =
        VerifierKey::parse("sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8")
            .unwrap();
    for (msg, size) in [
        (include_str!("../testdata/sumdb/sumdb-445646.note"), 445646),
        (
            include_str!("../testdata/sumdb/sumdb-15368405.note"),
            15368405,
        ),
        (
            include_str!("../testdata/sumdb/sumdb-63512409.note"),
            63512409,
        ),
    ] {
        let opened = Checkpoint::open(msg.as_bytes(), "go.sum database tree", &key, &[]).unwrap();
        assert_eq!(opened.checkpoint.size, size);
        assert_eq!(opened.note.to_string(), msg);
        assert_eq!(opened.checkpoint.to_text().unwrap(), opened.note.text());
        let forged = msg.replacen(&size.to_string(), &(size + 1).to_string(), 1);
        assert_eq!(
            Checkpoint::open(forged.as_bytes(), "go.sum database tree", &key, &[])
                .unwrap_err()
                .kind(),
            ErrorKind::BadSignature
        );
    }
}

// --- known answers computed with pyca/cryptography (testdata/kat/gen_kat.py) ---

#[test]
fn kat_log_signature_and_cosignature_are_byte_exact() {
    let kat = vectors(KAT);
    let log = SigningKey::from_private_key(&get(&kat, "log-skey")).unwrap();
    let witness = SigningKey::from_private_key(&get(&kat, "witness-skey")).unwrap();
    assert_eq!(log.kind(), SignatureType::Ed25519);
    assert_eq!(witness.kind(), SignatureType::CosignatureV1);
    assert_eq!(log.verifier_key().to_string(), get(&kat, "log-vkey"));
    assert_eq!(
        witness.verifier_key().to_string(),
        get(&kat, "witness-vkey")
    );
    let ts: u64 = get(&kat, "timestamp").parse().unwrap();

    let note = Note::parse(KAT_NOTE.as_bytes()).unwrap();
    let cp = Checkpoint::parse(note.text()).unwrap();
    let mut ours = cp.sign(&log).unwrap();
    ours.add_signature(witness.cosign(&cp, ts).unwrap())
        .unwrap();
    assert_eq!(ours.to_string(), KAT_NOTE);

    let log_v = VerifierKey::parse(&get(&kat, "log-vkey")).unwrap();
    let wit_v = VerifierKey::parse(&get(&kat, "witness-vkey")).unwrap();
    let opened = Checkpoint::open(
        KAT_NOTE.as_bytes(),
        &cp.origin,
        &log_v,
        std::slice::from_ref(&wit_v),
    )
    .unwrap();
    assert_eq!(opened.cosignatures.len(), 1);
    assert_eq!(opened.cosignatures[0].timestamp, Some(ts));
    assert_eq!(opened.cosignatures[0].name, "witness.example.com/w1");
    let sig: &NoteSignature = &note.signatures()[1];
    assert_eq!(wit_v.verify(note.text(), sig).unwrap().timestamp, Some(ts));
}
