//! Transparency-log checkpoints (C2SP `tlog-checkpoint`): the note text that states a
//! log's tree head.
//!
//! ```text
//! <origin>
//! <tree size, decimal, no leading zeros>
//! <root hash, base64 of 32 bytes>
//! [<extension line>]...
//! ```
//!
//! Parsing is strict so that one tree head has one text: a witness re-formatting a
//! checkpoint it parsed signs exactly the bytes the log signed.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use crate::error::{Error, Result};
use crate::key::{decode_base64, SignatureType, SigningKey, VerifierKey};
use crate::note::{self, Note, VerifiedSignature};

/// A log's tree head at one size: what a log signs and witnesses cosign.
///
/// The fields are public; [`Checkpoint::to_text`] checks them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Checkpoint {
    /// The log's identity, e.g. `ledger.example.ac.uk/consent`. Non-empty; by this
    /// crate's rule, without white space at either end.
    pub origin: String,
    /// The number of leaves in the tree.
    pub size: u64,
    /// The RFC 6962 Merkle tree root hash at `size`.
    pub root: [u8; 32],
    /// Opaque extension lines, each non-empty. Cosignatures cover them, but witnesses
    /// vouch only for the first three lines.
    pub extensions: Vec<String>,
}

/// A checkpoint whose log signature verified, with the cosignatures that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// The note it came in, with every signature line (verified or not).
    pub note: Note,
    /// The cosignatures by trusted witnesses, each once, with their timestamps.
    pub cosignatures: Vec<VerifiedSignature>,
}

fn check_origin(origin: &str) -> Result<()> {
    if origin.is_empty() {
        return Err(Error::InvalidOrigin { reason: "empty" });
    }
    if origin.starts_with(char::is_whitespace) || origin.ends_with(char::is_whitespace) {
        return Err(Error::InvalidOrigin {
            reason: "starts or ends with white space",
        });
    }
    if origin.chars().any(char::is_control) {
        return Err(Error::InvalidOrigin {
            reason: "holds a control character or newline",
        });
    }
    Ok(())
}

fn parse_size(line: &str) -> Result<u64> {
    let invalid = |reason| Error::InvalidTreeSize { reason };
    if line.is_empty() {
        return Err(invalid("empty"));
    }
    if !line.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("not only decimal digits"));
    }
    if line.len() > 1 && line.starts_with('0') {
        return Err(invalid("leading zero"));
    }
    line.parse().map_err(|_| invalid("larger than 2^64 - 1"))
}

fn parse_root(line: &str) -> Result<[u8; 32]> {
    let bytes = decode_base64(line).ok_or(Error::InvalidRootHash {
        reason: "not canonical base64",
    })?;
    bytes.try_into().map_err(|_| Error::InvalidRootHash {
        reason: "not 32 bytes",
    })
}

impl Checkpoint {
    /// Parses checkpoint note text (as [`Note::text`] returns it).
    ///
    /// # Errors
    /// Text that is not note text, as [`Note::new`] ([`NoteTooLarge`](crate::ErrorKind::NoteTooLarge),
    /// [`ControlCharacter`](crate::ErrorKind::ControlCharacter) such as a carriage return, [`MissingFinalNewline`](crate::ErrorKind::MissingFinalNewline));
    /// [`CheckpointTooShort`](crate::ErrorKind::CheckpointTooShort): fewer than three lines; [`InvalidOrigin`](crate::ErrorKind::InvalidOrigin): an
    /// empty or white-space-padded origin; [`InvalidTreeSize`](crate::ErrorKind::InvalidTreeSize): a size with a sign,
    /// a leading zero, spaces or more than 64 bits; [`InvalidRootHash`](crate::ErrorKind::InvalidRootHash): a root that
    /// is not the canonical base64 of 32 bytes; [`InvalidExtensionLine`](crate::ErrorKind::InvalidExtensionLine): an empty
    /// extension line.
    pub fn parse(text: &str) -> Result<Self> {
        note::check_text(text)?;
        let body = &text[..text.len() - 1];
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(Error::CheckpointTooShort);
        };
        check_origin(origin)?;
        let size = parse_size(size)?;
        let root = parse_root(root)?;
        let mut extensions = Vec::new();
        for (index, line) in lines.enumerate() {
            if line.is_empty() {
                return Err(Error::InvalidExtensionLine { index });
            }
            extensions.push(line.to_owned());
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// The note text: origin, size, base64 root, extension lines, each ending in a
    /// newline.
    ///
    /// # Errors
    /// When a field could not be read back by [`Checkpoint::parse`]:
    /// [`InvalidOrigin`](crate::ErrorKind::InvalidOrigin), [`InvalidExtensionLine`](crate::ErrorKind::InvalidExtensionLine) (empty, or a character below
    /// U+0020), [`NoteTooLarge`](crate::ErrorKind::NoteTooLarge).
    pub fn to_text(&self) -> Result<String> {
        check_origin(&self.origin)?;
        for (index, line) in self.extensions.iter().enumerate() {
            // The same rule as parsing: non-empty, nothing below U+0020 (so no newline).
            if line.is_empty() || line.bytes().any(|b| b < 0x20) {
                return Err(Error::InvalidExtensionLine { index });
            }
        }
        let mut text = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root)
        );
        for line in &self.extensions {
            text.push_str(line);
            text.push('\n');
        }
        note::check_text(&text)?;
        Ok(text)
    }

    /// Signs the checkpoint with the log's [`SignatureType::Ed25519`] key, giving the
    /// note to publish (witnesses add their lines to it).
    ///
    /// The specification recommends that the key name be the origin; this is not
    /// enforced, so that a log can rotate keys.
    ///
    /// # Errors
    /// Those of [`Checkpoint::to_text`]; [`WrongKeyType`](crate::ErrorKind::WrongKeyType) for a key that is not
    /// Ed25519 (a cosigner's).
    pub fn sign(&self, log_key: &SigningKey) -> Result<Note> {
        let mut note = Note::new(self.to_text()?)?;
        note.add_signature(log_key.sign(note.text())?)?;
        Ok(note)
    }

    /// Reads a signed checkpoint for the log `origin`: parses the note and the
    /// checkpoint, and verifies the log's signature and every line by a trusted
    /// cosigner.
    ///
    /// Lines by unknown keys are kept in the note. How many cosignatures make a quorum
    /// is the caller's policy.
    ///
    /// # Errors
    /// - [`WrongKeyType`](crate::ErrorKind::WrongKeyType): a log key that is not Ed25519 or a cosigner key that is
    ///   not cosignature/v1 (checked first, before the note is read);
    /// - any error of [`Note::parse`] and [`Checkpoint::parse`];
    /// - [`OriginMismatch`](crate::ErrorKind::OriginMismatch): a checkpoint for another origin;
    /// - the errors of [`Note::verify`] for a trusted line: [`AmbiguousKey`](crate::ErrorKind::AmbiguousKey),
    ///   [`BadSignature`](crate::ErrorKind::BadSignature), [`InvalidTimestamp`](crate::ErrorKind::InvalidTimestamp);
    /// - [`MissingLogSignature`](crate::ErrorKind::MissingLogSignature): no line by the log key that verifies.
    pub fn open(
        msg: &[u8],
        origin: &str,
        log_key: &VerifierKey,
        cosigners: &[VerifierKey],
    ) -> Result<SignedCheckpoint> {
        for (key, expected) in std::iter::once((log_key, SignatureType::Ed25519))
            .chain(cosigners.iter().map(|k| (k, SignatureType::CosignatureV1)))
        {
            if key.kind() != expected {
                return Err(Error::WrongKeyType {
                    expected,
                    found: key.kind(),
                });
            }
        }
        let note = Note::parse(msg)?;
        let checkpoint = Checkpoint::parse(note.text())?;
        if checkpoint.origin != origin {
            return Err(Error::OriginMismatch {
                expected: origin.to_owned(),
                found: checkpoint.origin,
            });
        }
        let trusted: Vec<VerifierKey> = std::iter::once(log_key.clone())
            .chain(cosigners.iter().cloned())
            .collect();
        let missing = || Error::MissingLogSignature {
            name: log_key.name().to_owned(),
            key_id: log_key.key_id(),
        };
        let verification = match note.verify(&trusted) {
            Err(Error::NoVerifiedSignature) => return Err(missing()),
            other => other?,
        };
        let mut log_signed = false;
        let mut cosignatures = Vec::new();
        for sig in verification.verified {
            if sig.kind == SignatureType::Ed25519 {
                log_signed = true;
            } else {
                cosignatures.push(sig);
            }
        }
        if !log_signed {
            return Err(missing());
        }
        Ok(SignedCheckpoint {
            checkpoint,
            note,
            cosignatures,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("0").unwrap(), 0);
        assert_eq!(parse_size("18446744073709551615").unwrap(), u64::MAX);
        for bad in [
            "",
            "007",
            "00",
            "+7",
            "-7",
            "7 ",
            " 7",
            "1e3",
            "18446744073709551616",
            "٣",
        ] {
            assert!(parse_size(bad).is_err(), "{bad:?}");
        }
    }
}
