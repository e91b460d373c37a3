//! Keys: names, key ids, signature types, verifier keys ("vkeys") and private keys.
//!
//! A key is known to a reader by the tuple (name, key id, signature type, public key),
//! written as a verifier key `<name>+<hex key id>+<base64(type || public key)>`
//! (C2SP signed-note, "Verifier keys"). The key id is
//! `SHA-256(name || 0x0A || type || public key)[:4]`, read big-endian.
//!
//! The private key string follows Go's `golang.org/x/mod/sumdb/note` so that keys move
//! between this crate and the Go tools (and transparency-dev's cosigner, which reads
//! type 0x04 seeds in the same string):
//!
//! ```text
//! PRIVATE+KEY+<name>+<hex key id>+<base64(type || 32-byte Ed25519 seed)>
//! ```
//!
//! The literal `PRIVATE+KEY+` prefix keeps it from being mistaken for a verifier key;
//! the key id is that of the public key, so a damaged or mismatched seed is caught when
//! the string is read.

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::Signer as _;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::checkpoint::Checkpoint;
use crate::cosignature;
use crate::error::{Error, Result};
use crate::note::{self, NoteSignature, VerifiedSignature};

/// The prefix of a private key string.
const PRIVATE_PREFIX: &str = "PRIVATE+KEY+";

/// A signature type, the byte that separates one kind of signature (and key id) from
/// another under the same key name (C2SP signed-note, "Signature types").
///
/// Only the two Ed25519 types are implemented: the issue's logs sign with plain
/// Ed25519 and its witnesses cosign with timestamped Ed25519.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureType {
    /// `0x01`: Ed25519 over the note text. What a log signs its checkpoints with.
    Ed25519,
    /// `0x04`: a timestamped Ed25519 checkpoint cosignature (C2SP tlog-cosignature,
    /// `cosignature/v1`). What a witness signs with.
    CosignatureV1,
}

impl SignatureType {
    /// The identifier byte assigned by the signed-note specification.
    pub fn byte(self) -> u8 {
        match self {
            SignatureType::Ed25519 => 0x01,
            SignatureType::CosignatureV1 => 0x04,
        }
    }

    /// The type for an identifier byte.
    ///
    /// # Errors
    /// [`UnsupportedSignatureType`](crate::ErrorKind::UnsupportedSignatureType) for a byte other than 0x01 and 0x04.
    pub fn from_byte(byte: u8) -> Result<Self> {
        match byte {
            0x01 => Ok(SignatureType::Ed25519),
            0x04 => Ok(SignatureType::CosignatureV1),
            other => Err(Error::UnsupportedSignatureType(other)),
        }
    }

    /// Length of the signature bytes (after the key id) this type carries.
    pub(crate) fn signature_len(self) -> usize {
        match self {
            SignatureType::Ed25519 => ed25519_dalek::SIGNATURE_LENGTH,
            SignatureType::CosignatureV1 => 8 + ed25519_dalek::SIGNATURE_LENGTH,
        }
    }
}

impl fmt::Display for SignatureType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignatureType::Ed25519 => f.write_str("Ed25519 (0x01)"),
            SignatureType::CosignatureV1 => f.write_str("cosignature/v1 (0x04)"),
        }
    }
}

/// A 32-bit key id. Displayed as eight lowercase hex digits, as in a verifier key.
///
/// It is an identifier, not a hash to trust: anyone can make a key with a chosen id.
/// A reader configured with the real key still rejects the impostor's signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub u32);

impl KeyId {
    /// The key id of `public_key` of type `kind` under `name`:
    /// `SHA-256(name || 0x0A || type || public key)[:4]`, big-endian.
    pub fn compute(name: &str, kind: SignatureType, public_key: &[u8; 32]) -> KeyId {
        let mut h = Sha256::new();
        h.update(name.as_bytes());
        h.update(b"\n");
        h.update([kind.byte()]);
        h.update(public_key);
        let sum = h.finalize();
        KeyId(u32::from_be_bytes([sum[0], sum[1], sum[2], sum[3]]))
    }

    /// The four big-endian bytes that start a signature.
    pub fn to_bytes(self) -> [u8; 4] {
        self.0.to_be_bytes()
    }

    /// Parses exactly eight lowercase hex digits (the fixed-length lowercase hex the
    /// specification prescribes; `C74F20A3` or `c74f20a` is refused).
    fn parse_hex(hex: &str) -> Result<KeyId> {
        let lower_hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
        if hex.len() != 8 || !hex.bytes().all(lower_hex) {
            return Err(Error::MalformedKey {
                reason: "key id is not eight lowercase hex digits",
            });
        }
        u32::from_str_radix(hex, 16)
            .map(KeyId)
            .map_err(|_| Error::MalformedKey {
                reason: "key id is not eight lowercase hex digits",
            })
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

/// Checks a key name: non-empty, no Unicode white space, no `+` (the separator of a
/// verifier key), no control characters (which a note could not carry).
///
/// # Errors
/// [`InvalidKeyName`](crate::ErrorKind::InvalidKeyName), saying which rule the name breaks.
pub fn check_key_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::InvalidKeyName { reason: "empty" });
    }
    if name.contains('+') {
        return Err(Error::InvalidKeyName {
            reason: "contains a plus sign",
        });
    }
    if name.chars().any(char::is_whitespace) {
        return Err(Error::InvalidKeyName {
            reason: "contains white space",
        });
    }
    if name.chars().any(char::is_control) {
        return Err(Error::InvalidKeyName {
            reason: "contains a control character",
        });
    }
    Ok(())
}

/// Decodes canonical standard base64 (RFC 4648 section 4, padded, no stray bits):
/// there is exactly one accepted spelling of any byte string, so two different texts
/// never carry the same signature.
pub(crate) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let bytes = BASE64.decode(text).ok()?;
    (BASE64.encode(&bytes) == text).then_some(bytes)
}

/// Splits `<name>+<hex id>+<base64>` and checks the name and id syntax.
fn split_key_string(s: &str) -> Result<(&str, KeyId, Vec<u8>)> {
    let mut parts = s.splitn(3, '+');
    let (Some(name), Some(hex), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(Error::MalformedKey {
            reason: "not three parts separated by `+`",
        });
    };
    check_key_name(name)?;
    let id = KeyId::parse_hex(hex)?;
    let bytes = decode_base64(b64).ok_or(Error::MalformedKey {
        reason: "key material is not canonical base64",
    })?;
    Ok((name, id, bytes))
}

/// Splits `type || 32 bytes` key material.
fn split_material(bytes: &[u8]) -> Result<(SignatureType, [u8; 32])> {
    let Some((&type_byte, key)) = bytes.split_first() else {
        return Err(Error::MalformedKey {
            reason: "empty key material",
        });
    };
    let kind = SignatureType::from_byte(type_byte)?;
    let key: [u8; 32] = key.try_into().map_err(|_| Error::MalformedKey {
        reason: "Ed25519 key material is not 32 bytes",
    })?;
    Ok((kind, key))
}

/// A public key a reader trusts: name, signature type, key id and Ed25519 key.
///
/// `Display` and [`FromStr`] use the verifier key ("vkey") format; that string is all a
/// student or a regulator needs to check a checkpoint.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    kind: SignatureType,
    id: KeyId,
    key: ed25519_dalek::VerifyingKey,
}

impl VerifierKey {
    /// A verifier key from its parts; the key id is computed.
    ///
    /// # Errors
    /// [`InvalidKeyName`](crate::ErrorKind::InvalidKeyName) for a name [`check_key_name`] refuses;
    /// [`InvalidPublicKey`](crate::ErrorKind::InvalidPublicKey) for a public key that is not a point or is of small
    /// order (such a key would accept signatures nobody made).
    pub fn new(name: &str, kind: SignatureType, public_key: &[u8; 32]) -> Result<Self> {
        check_key_name(name)?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(public_key)
            .map_err(|_| Error::InvalidPublicKey)?;
        if key.is_weak() {
            return Err(Error::InvalidPublicKey);
        }
        Ok(VerifierKey {
            name: name.to_owned(),
            kind,
            id: KeyId::compute(name, kind, public_key),
            key,
        })
    }

    /// Reads a verifier key `<name>+<hex key id>+<base64(type || public key)>`,
    /// checking that the key id is the one the name, type and key give.
    ///
    /// # Errors
    /// [`MalformedKey`](crate::ErrorKind::MalformedKey): not three `+`-separated parts, a key id that is not eight
    /// lower-case hex digits, material that is not canonical base64 or not 33 bytes;
    /// [`InvalidKeyName`](crate::ErrorKind::InvalidKeyName); [`UnsupportedSignatureType`](crate::ErrorKind::UnsupportedSignatureType);
    /// [`InvalidPublicKey`](crate::ErrorKind::InvalidPublicKey); [`KeyIdMismatch`](crate::ErrorKind::KeyIdMismatch): the written id is not the
    /// computed one.
    pub fn parse(vkey: &str) -> Result<Self> {
        let (name, written, bytes) = split_key_string(vkey)?;
        let (kind, public) = split_material(&bytes)?;
        let key = VerifierKey::new(name, kind, &public)?;
        if key.id != written {
            return Err(Error::KeyIdMismatch {
                written,
                computed: key.id,
            });
        }
        Ok(key)
    }

    /// The key name, as it appears on signature lines.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The signature type.
    pub fn kind(&self) -> SignatureType {
        self.kind
    }

    /// The key id, as it starts each signature.
    pub fn key_id(&self) -> KeyId {
        self.id
    }

    /// The 32-byte Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Checks one signature line against `text`, the note text it is on.
    ///
    /// Verification is RFC 8032 strict: no malleable signatures, no small-order keys.
    ///
    /// # Errors
    /// [`KeyMismatch`](crate::ErrorKind::KeyMismatch): the line names another key (name or key id);
    /// [`BadSignature`](crate::ErrorKind::BadSignature): it does not verify (or is of the wrong length);
    /// [`InvalidTimestamp`](crate::ErrorKind::InvalidTimestamp): a cosignature's timestamp exceeds 2^63 - 1.
    pub fn verify(&self, text: &str, signature: &NoteSignature) -> Result<VerifiedSignature> {
        if signature.name() != self.name || signature.key_id() != self.id {
            return Err(Error::KeyMismatch {
                name: signature.name().to_owned(),
                key_id: signature.key_id(),
            });
        }
        let bad = || Error::BadSignature {
            name: self.name.clone(),
            key_id: self.id,
        };
        let bytes = signature.signature();
        if bytes.len() != self.kind.signature_len() {
            return Err(bad());
        }
        let (message, sig, timestamp) = match self.kind {
            SignatureType::Ed25519 => (text.as_bytes().to_vec(), bytes, None),
            SignatureType::CosignatureV1 => {
                let (ts, sig) = bytes.split_at(8);
                let ts = u64::from_be_bytes(ts.try_into().map_err(|_| bad())?);
                if ts > cosignature::MAX_TIMESTAMP {
                    return Err(Error::InvalidTimestamp(ts));
                }
                (cosignature::message(text, ts), sig, Some(ts))
            }
        };
        let sig = ed25519_dalek::Signature::from_slice(sig).map_err(|_| bad())?;
        self.key.verify_strict(&message, &sig).map_err(|_| bad())?;
        Ok(VerifiedSignature {
            name: self.name.clone(),
            key_id: self.id,
            kind: self.kind,
            timestamp,
        })
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut material = Vec::with_capacity(33);
        material.push(self.kind.byte());
        material.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{}+{}", self.name, self.id, BASE64.encode(material))
    }
}

impl fmt::Debug for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifierKey({self})")
    }
}

impl FromStr for VerifierKey {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        VerifierKey::parse(s)
    }
}

/// A private key with its name and signature type: what a log signs checkpoints with
/// ([`SignatureType::Ed25519`]) or a witness cosigns with
/// ([`SignatureType::CosignatureV1`]).
///
/// The seed is wiped from memory when the key is dropped, and `Debug` does not show
/// it. The type is `Send + Sync`; signing takes `&self`.
#[derive(Clone)]
pub struct SigningKey {
    name: String,
    kind: SignatureType,
    id: KeyId,
    key: ed25519_dalek::SigningKey,
}

impl SigningKey {
    /// A new key from the operating system's CSPRNG (`getrandom`).
    ///
    /// # Errors
    /// [`Random`](crate::ErrorKind::Random) when the operating system's generator fails;
    /// [`InvalidKeyName`](crate::ErrorKind::InvalidKeyName) for a name [`check_key_name`] refuses.
    pub fn generate(name: &str, kind: SignatureType) -> Result<Self> {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut()).map_err(|e| Error::Random(e.to_string()))?;
        SigningKey::from_seed(name, kind, &seed)
    }

    /// The key whose RFC 8032 private key is the 32-byte `seed`. The same seed gives the
    /// same key: for tests, and for keys derived or stored elsewhere.
    ///
    /// # Errors
    /// [`InvalidKeyName`](crate::ErrorKind::InvalidKeyName) for a name [`check_key_name`] refuses.
    pub fn from_seed(name: &str, kind: SignatureType, seed: &[u8; 32]) -> Result<Self> {
        check_key_name(name)?;
        let key = ed25519_dalek::SigningKey::from_bytes(seed);
        let id = KeyId::compute(name, kind, key.verifying_key().as_bytes());
        Ok(SigningKey {
            name: name.to_owned(),
            kind,
            id,
            key,
        })
    }

    /// Reads a private key string
    /// `PRIVATE+KEY+<name>+<hex key id>+<base64(type || seed)>` (the format of Go's
    /// `sumdb/note`), checking the key id against the public key the seed gives.
    ///
    /// # Errors
    /// [`MalformedKey`](crate::ErrorKind::MalformedKey) without the `PRIVATE+KEY+` prefix; otherwise those of
    /// [`VerifierKey::parse`] but [`InvalidPublicKey`](crate::ErrorKind::InvalidPublicKey) (every seed gives a valid
    /// key).
    pub fn from_private_key(s: &str) -> Result<Self> {
        let rest = s.strip_prefix(PRIVATE_PREFIX).ok_or(Error::MalformedKey {
            reason: "a private key starts with PRIVATE+KEY+",
        })?;
        let (name, written, bytes) = split_key_string(rest)?;
        let bytes = Zeroizing::new(bytes);
        let (kind, seed) = split_material(&bytes)?;
        let seed = Zeroizing::new(seed);
        let key = SigningKey::from_seed(name, kind, &seed)?;
        if key.id != written {
            return Err(Error::KeyIdMismatch {
                written,
                computed: key.id,
            });
        }
        Ok(key)
    }

    /// The private key string, to be kept secret (a file readable by its owner only).
    /// Wiped from memory when dropped.
    pub fn to_private_key(&self) -> Zeroizing<String> {
        let mut material = Zeroizing::new(Vec::with_capacity(33));
        material.push(self.kind.byte());
        material.extend_from_slice(self.key.as_bytes());
        let b64 = Zeroizing::new(BASE64.encode(material.as_slice()));
        Zeroizing::new(format!(
            "{PRIVATE_PREFIX}{}+{}+{}",
            self.name,
            self.id,
            b64.as_str()
        ))
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The signature type.
    pub fn kind(&self) -> SignatureType {
        self.kind
    }

    /// The key id.
    pub fn key_id(&self) -> KeyId {
        self.id
    }

    /// The public half, to hand to readers (its `Display` is the vkey).
    pub fn verifier_key(&self) -> VerifierKey {
        VerifierKey {
            name: self.name.clone(),
            kind: self.kind,
            id: self.id,
            key: self.key.verifying_key(),
        }
    }

    /// Signs a note text with an [`SignatureType::Ed25519`] key.
    ///
    /// `text` must be valid note text (ends with a newline, no control characters but
    /// newline, within the size limit).
    ///
    /// # Errors
    /// [`WrongKeyType`](crate::ErrorKind::WrongKeyType) for a cosigner key: its signatures must commit to a time,
    /// see [`SigningKey::cosign`]. Text that is not note text, as [`Note::new`](crate::Note::new).
    pub fn sign(&self, text: &str) -> Result<NoteSignature> {
        self.expect_kind(SignatureType::Ed25519)?;
        note::check_text(text)?;
        let sig = self.key.sign(text.as_bytes());
        Ok(NoteSignature::from_parts(
            self.name.clone(),
            self.id,
            sig.to_bytes().to_vec(),
        ))
    }

    /// Cosigns a checkpoint with a [`SignatureType::CosignatureV1`] key, as of
    /// `timestamp` (POSIX seconds): an Ed25519 signature over
    /// `"cosignature/v1\ntime <timestamp>\n" || checkpoint text`, carried as
    /// `timestamp (8 bytes, big-endian) || signature`.
    ///
    /// The time is a parameter, not read from a clock, so that a witness decides it
    /// (and tests can fix it).
    ///
    /// # Errors
    /// [`WrongKeyType`](crate::ErrorKind::WrongKeyType) for a key that is not cosignature/v1;
    /// [`InvalidTimestamp`](crate::ErrorKind::InvalidTimestamp) above 2^63 - 1; those of [`Checkpoint::to_text`].
    pub fn cosign(&self, checkpoint: &Checkpoint, timestamp: u64) -> Result<NoteSignature> {
        self.expect_kind(SignatureType::CosignatureV1)?;
        if timestamp > cosignature::MAX_TIMESTAMP {
            return Err(Error::InvalidTimestamp(timestamp));
        }
        let text = checkpoint.to_text()?;
        let sig = self.key.sign(&cosignature::message(&text, timestamp));
        let mut bytes = Vec::with_capacity(72);
        bytes.extend_from_slice(&timestamp.to_be_bytes());
        bytes.extend_from_slice(&sig.to_bytes());
        Ok(NoteSignature::from_parts(self.name.clone(), self.id, bytes))
    }

    fn expect_kind(&self, expected: SignatureType) -> Result<()> {
        if self.kind == expected {
            Ok(())
        } else {
            Err(Error::WrongKeyType {
                expected,
                found: self.kind,
            })
        }
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("key_id", &self.id)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_space_plus_or_control_are_refused() {
        for bad in [
            "",
            "a b",
            "a+b",
            "a\u{a0}b",
            "a\tb",
            "a\u{1}b",
            "a\u{2003}b",
        ] {
            assert_eq!(
                check_key_name(bad).unwrap_err().kind(),
                crate::ErrorKind::InvalidKeyName,
                "{bad:?}"
            );
        }
        check_key_name("example.com/log42").unwrap();
        check_key_name("quasimodo.example/salvatore").unwrap();
    }

    #[test]
    fn debug_does_not_show_the_seed() {
        let key = SigningKey::from_seed("a", SignatureType::Ed25519, &[0x42; 32]).unwrap();
        let shown = format!("{key:?}");
        assert!(!shown.contains("42, 42"), "{shown}");
        assert!(!shown.contains(key.to_private_key().as_str()));
    }

    #[test]
    fn base64_must_be_canonical() {
        assert_eq!(decode_base64("AQ==").unwrap(), vec![1]);
        assert!(decode_base64("AR==").is_none()); // stray bits
        assert!(decode_base64("AQ").is_none()); // no padding
        assert!(decode_base64("AQ=").is_none());
        assert!(decode_base64("A Q==").is_none());
        assert!(decode_base64("AQ==\n").is_none());
    }
}
