//! Signed notes (C2SP `signed-note`): text, a blank line, signature lines.
//!
//! ```text
//! <text, ending in a newline>
//!
//! — <key name> <base64(key id || signature)>
//! — <key name> <base64(key id || signature)>
//! ```
//!
//! Parsing is strict and separate from verification: [`Note::parse`] refuses anything
//! that is not exactly this shape (and what [`Note`]'s `Display` writes, it reads back
//! unchanged); [`Note::verify`] then checks the signatures by the keys the reader
//! trusts and keeps the others, unverified, as the specification requires.

use std::collections::HashSet;
use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use crate::error::{Error, Result};
use crate::key::{check_key_name, decode_base64, KeyId, SignatureType, VerifierKey};
use crate::{MAX_NOTE_BYTES, MAX_SIGNATURES};

/// The start of every signature line: an em dash (U+2014) and a space.
const SIG_PREFIX: &str = "\u{2014} ";

/// Checks note text: within [`MAX_NOTE_BYTES`], ends with a newline, no ASCII control
/// character but newline. (Being a `&str`, it is UTF-8.)
pub(crate) fn check_text(text: &str) -> Result<()> {
    if text.len() > MAX_NOTE_BYTES {
        return Err(Error::NoteTooLarge {
            len: text.len(),
            max: MAX_NOTE_BYTES,
        });
    }
    check_controls(text.as_bytes())?;
    if !text.ends_with('\n') {
        return Err(Error::MissingFinalNewline);
    }
    Ok(())
}

/// Refuses bytes below 0x20 other than newline. (UTF-8 continuation and lead bytes are
/// all 0x80 or above, so checking bytes is checking characters.)
fn check_controls(bytes: &[u8]) -> Result<()> {
    match bytes.iter().position(|&b| b < 0x20 && b != b'\n') {
        Some(offset) => Err(Error::ControlCharacter {
            offset,
            byte: bytes[offset],
        }),
        None => Ok(()),
    }
}

/// One signature line: the key name, the key id and the signature bytes after it
/// (for a cosignature, the timestamp and the signature).
///
/// Whether it verifies is not known until it is checked against a trusted key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NoteSignature {
    name: String,
    key_id: KeyId,
    signature: Vec<u8>,
}

impl NoteSignature {
    /// A signature line from its parts: a valid key name and at least one signature
    /// byte (the specification's minimum line is `key id || 1 byte`).
    ///
    /// # Errors
    /// [`InvalidKeyName`](crate::ErrorKind::InvalidKeyName) for a name
    /// [`check_key_name`](crate::check_key_name) refuses;
    /// [`MalformedSignatureLine`](crate::ErrorKind::MalformedSignatureLine) (line 0)
    /// for no signature bytes.
    pub fn new(name: &str, key_id: KeyId, signature: Vec<u8>) -> Result<Self> {
        check_key_name(name)?;
        if signature.is_empty() {
            return Err(Error::MalformedSignatureLine {
                line: 0,
                reason: "no signature bytes after the key id",
            });
        }
        Ok(NoteSignature::from_parts(
            name.to_owned(),
            key_id,
            signature,
        ))
    }

    /// For signers, whose name was checked when the key was made.
    pub(crate) fn from_parts(name: String, key_id: KeyId, signature: Vec<u8>) -> Self {
        NoteSignature {
            name,
            key_id,
            signature,
        }
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The bytes after the key id.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The line as written in a note, without the final newline:
    /// `— <name> <base64(key id || signature)>`.
    pub fn line(&self) -> String {
        let mut raw = Vec::with_capacity(4 + self.signature.len());
        raw.extend_from_slice(&self.key_id.to_bytes());
        raw.extend_from_slice(&self.signature);
        format!("{SIG_PREFIX}{} {}", self.name, BASE64.encode(raw))
    }

    /// Length of [`NoteSignature::line`] plus its newline, without building it.
    fn encoded_len(&self) -> usize {
        SIG_PREFIX.len() + self.name.len() + 1 + (4 + self.signature.len()).div_ceil(3) * 4 + 1
    }

    /// Parses the line `line` (number `line_no` in the note), without its newline.
    fn parse_line(line: &str, line_no: usize) -> Result<Self> {
        let malformed = |reason| Error::MalformedSignatureLine {
            line: line_no,
            reason,
        };
        let rest = line.strip_prefix(SIG_PREFIX).ok_or(malformed(
            "does not start with an em dash (U+2014) and a space",
        ))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or(malformed("no space between key name and signature"))?;
        check_key_name(name).map_err(|_| malformed("invalid key name"))?;
        let raw = decode_base64(b64).ok_or(malformed("signature is not canonical base64"))?;
        if raw.len() < 5 {
            return Err(malformed("signature shorter than a key id and one byte"));
        }
        let key_id = KeyId(u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]));
        Ok(NoteSignature::from_parts(
            name.to_owned(),
            key_id,
            raw[4..].to_vec(),
        ))
    }
}

/// A signed note: its text and its signature lines, in order.
///
/// Invariants, kept by every constructor: the text is valid note text, there are at
/// most [`MAX_SIGNATURES`] signatures, no two by the same (name, key id), and the
/// formatted note fits in [`MAX_NOTE_BYTES`]. So `Note::parse(note.to_string())`
/// always gives the note back — once it has at least one signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<NoteSignature>,
}

/// A signature that verified under a trusted key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSignature {
    /// The key name.
    pub name: String,
    /// The key id.
    pub key_id: KeyId,
    /// The key's signature type.
    pub kind: SignatureType,
    /// For a cosignature, the time it states (POSIX seconds); `None` otherwise.
    pub timestamp: Option<u64>,
}

/// What [`Note::verify`] found: the signatures by trusted keys (all of which verified)
/// and the others, left unverified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Signatures by trusted keys, in note order. Never empty.
    pub verified: Vec<VerifiedSignature>,
    /// Signatures by keys the reader does not know, in note order, unchecked.
    pub unverified: Vec<NoteSignature>,
}

impl Note {
    /// An unsigned note with `text` (which must end with a newline and hold no control
    /// character but newline).
    ///
    /// # Errors
    /// [`NoteTooLarge`](crate::ErrorKind::NoteTooLarge) beyond [`MAX_NOTE_BYTES`];
    /// [`ControlCharacter`](crate::ErrorKind::ControlCharacter) for a byte below 0x20
    /// but newline; [`MissingFinalNewline`](crate::ErrorKind::MissingFinalNewline).
    pub fn new(text: impl Into<String>) -> Result<Self> {
        let text = text.into();
        check_text(&text)?;
        Ok(Note {
            text,
            signatures: Vec::new(),
        })
    }

    /// Parses a signed note, strictly, without checking any signature.
    ///
    /// The text ends at the *last* blank line, so the text itself may hold blank lines.
    ///
    /// # Errors
    /// Each refusal has its kind, checked in this order:
    /// [`NoteTooLarge`](crate::ErrorKind::NoteTooLarge) (more than
    /// [`MAX_NOTE_BYTES`]); [`InvalidUtf8`](crate::ErrorKind::InvalidUtf8);
    /// [`ControlCharacter`](crate::ErrorKind::ControlCharacter) (any but newline, so
    /// CRLF line ends too); [`NoSignatureBlock`](crate::ErrorKind::NoSignatureBlock)
    /// (no blank line followed by signature lines);
    /// [`MissingFinalNewline`](crate::ErrorKind::MissingFinalNewline) (the signature
    /// block);
    /// [`TooManySignatures`](crate::ErrorKind::TooManySignatures) (more than
    /// [`MAX_SIGNATURES`] lines);
    /// [`MalformedSignatureLine`](crate::ErrorKind::MalformedSignatureLine) (a line
    /// that is not `— <name> <canonical base64 of at least 5 bytes>`, numbered);
    /// [`DuplicateSignature`](crate::ErrorKind::DuplicateSignature) (two lines by the
    /// same name and key id).
    pub fn parse(msg: &[u8]) -> Result<Self> {
        if msg.len() > MAX_NOTE_BYTES {
            return Err(Error::NoteTooLarge {
                len: msg.len(),
                max: MAX_NOTE_BYTES,
            });
        }
        let msg = std::str::from_utf8(msg).map_err(|e| Error::InvalidUtf8 {
            offset: e.valid_up_to(),
        })?;
        check_controls(msg.as_bytes())?;
        let split = msg.rfind("\n\n").ok_or(Error::NoSignatureBlock)?;
        let (text, sigs) = (&msg[..split + 1], &msg[split + 2..]);
        if sigs.is_empty() {
            return Err(Error::NoSignatureBlock);
        }
        let Some(sigs) = sigs.strip_suffix('\n') else {
            return Err(Error::MissingFinalNewline);
        };
        if sigs.split('\n').count() > MAX_SIGNATURES {
            return Err(Error::TooManySignatures {
                max: MAX_SIGNATURES,
            });
        }
        // Lines are numbered for error messages: the text's, the blank one, then these.
        let first_line = text.matches('\n').count() + 2;
        let mut note = Note {
            text: text.to_owned(),
            signatures: Vec::new(),
        };
        let mut seen = HashSet::new();
        for (i, line) in sigs.split('\n').enumerate() {
            let sig = NoteSignature::parse_line(line, first_line + i)?;
            if !seen.insert((sig.name.clone(), sig.key_id)) {
                return Err(Error::DuplicateSignature {
                    name: sig.name,
                    key_id: sig.key_id,
                });
            }
            note.signatures.push(sig);
        }
        Ok(note)
    }

    /// The note text, including its final newline.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signature lines, in order.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Adds a signature line after the others, replacing an earlier one by the same
    /// name and key id (a re-signature supersedes the old one, as in Go's `note.Sign`).
    ///
    /// The signature is not checked here; [`Note::verify`] does that.
    ///
    /// # Errors
    /// [`TooManySignatures`](crate::ErrorKind::TooManySignatures) or
    /// [`NoteTooLarge`](crate::ErrorKind::NoteTooLarge) when the note would pass
    /// [`MAX_SIGNATURES`] or [`MAX_NOTE_BYTES`]; the note is then unchanged.
    pub fn add_signature(&mut self, signature: NoteSignature) -> Result<()> {
        let replaced = self
            .signatures
            .iter()
            .position(|s| s.name == signature.name && s.key_id == signature.key_id);
        let others = self.signatures.len() - usize::from(replaced.is_some());
        if others + 1 > MAX_SIGNATURES {
            return Err(Error::TooManySignatures {
                max: MAX_SIGNATURES,
            });
        }
        let mut len = self.text.len() + 1 + signature.encoded_len();
        for (i, s) in self.signatures.iter().enumerate() {
            if Some(i) != replaced {
                len += s.encoded_len();
            }
        }
        if len > MAX_NOTE_BYTES {
            return Err(Error::NoteTooLarge {
                len,
                max: MAX_NOTE_BYTES,
            });
        }
        if let Some(i) = replaced {
            self.signatures.remove(i);
        }
        self.signatures.push(signature);
        Ok(())
    }

    /// Verifies the note against the keys the reader trusts.
    ///
    /// A signature line whose (name, key id) matches a trusted key must verify, or the
    /// whole note is refused — this is how a key-id collision by an impostor key, a
    /// changed text or a changed cosignature time is caught. Lines by other keys, even
    /// with a trusted name or a trusted id (but not both), are returned unverified.
    ///
    /// # Errors
    /// [`AmbiguousKey`](crate::ErrorKind::AmbiguousKey) when two trusted keys share a
    /// name and key id (attribution is impossible);
    /// [`BadSignature`](crate::ErrorKind::BadSignature) when a line by a trusted key
    /// does not verify; [`InvalidTimestamp`](crate::ErrorKind::InvalidTimestamp) for a
    /// trusted cosignature dated above 2^63 - 1;
    /// [`NoVerifiedSignature`](crate::ErrorKind::NoVerifiedSignature) when no line is
    /// by a trusted key.
    pub fn verify(&self, trusted: &[VerifierKey]) -> Result<Verification> {
        for (i, a) in trusted.iter().enumerate() {
            if trusted[..i]
                .iter()
                .any(|b| a.name() == b.name() && a.key_id() == b.key_id())
            {
                return Err(Error::AmbiguousKey {
                    name: a.name().to_owned(),
                    key_id: a.key_id(),
                });
            }
        }
        let mut verified = Vec::new();
        let mut unverified = Vec::new();
        for sig in &self.signatures {
            match trusted
                .iter()
                .find(|k| k.name() == sig.name && k.key_id() == sig.key_id)
            {
                Some(key) => verified.push(key.verify(&self.text, sig)?),
                None => unverified.push(sig.clone()),
            }
        }
        if verified.is_empty() {
            return Err(Error::NoVerifiedSignature);
        }
        Ok(Verification {
            verified,
            unverified,
        })
    }
}

/// The note as transmitted: the text, a blank line, one line per signature.
///
/// A note without signatures is written as its text and the blank line, which
/// [`Note::parse`] refuses: it is not a signed note yet.
impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)?;
        f.write_str("\n")?;
        for sig in &self.signatures {
            f.write_str(&sig.line())?;
            f.write_str("\n")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_len_matches_the_line() {
        for n in 1..80 {
            let sig = NoteSignature::new("a.example/b", KeyId(7), vec![9; n]).unwrap();
            assert_eq!(sig.encoded_len(), sig.line().len() + 1, "{n}");
        }
    }

    #[test]
    fn text_may_hold_blank_lines_the_last_one_separates() {
        let note = Note::parse("a\n\nb\n\n\u{2014} k AAAAAAE=\n".as_bytes()).unwrap();
        assert_eq!(note.text(), "a\n\nb\n");
        let note = Note::parse("a\n\n\n\u{2014} k AAAAAAE=\n".as_bytes()).unwrap();
        assert_eq!(note.text(), "a\n\n");
    }
}
