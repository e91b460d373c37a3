//! # consent-note
//!
//! Signed notes, transparency-log checkpoints and witness cosignatures in the C2SP
//! formats, with Ed25519: the pieces a consent ledger needs so that a head it hands
//! out can be checked by anyone holding a one-line verifier key, and so that a second
//! party (a witness) can vouch that the ledger did not rewrite its history.
//!
//! - [`Note`]: C2SP `signed-note` — text, a blank line, `— <name> <base64>` lines.
//! - [`Checkpoint`]: C2SP `tlog-checkpoint` — origin, tree size, root hash.
//! - [`SigningKey::cosign`]: C2SP `tlog-cosignature`, `cosignature/v1` (type 0x04).
//! - [`VerifierKey`] / [`SigningKey`]: the `vkey` string and a private key string in
//!   the format of Go's `sumdb/note`.
//!
//! The crate does formats and cryptography only: no files, no clock, no network. The
//! caller stores keys, chooses times and decides how many cosignatures it wants.
//!
//! ```
//! use consent_note::{Checkpoint, SignatureType, SigningKey, VerifierKey};
//!
//! // The ledger's key, and a witness's (e.g. the DPO's office). In real use:
//! // SigningKey::generate(name, type), and the private key string kept in its own file.
//! let log = SigningKey::from_seed("ledger.example.ac.uk/consent", SignatureType::Ed25519, &[7; 32])?;
//! let dpo = SigningKey::from_seed("dpo.example.ac.uk/witness", SignatureType::CosignatureV1, &[9; 32])?;
//!
//! // The ledger signs its head; the witness cosigns it (after checking consistency).
//! let head = Checkpoint {
//!     origin: "ledger.example.ac.uk/consent".into(),
//!     size: 42,
//!     root: [0xab; 32],
//!     extensions: vec![],
//! };
//! let mut note = head.sign(&log)?;
//! note.add_signature(dpo.cosign(&head, 1_700_000_000)?)?;
//! let published = note.to_string();
//!
//! // A reader holds only the two verifier keys, as strings.
//! let log_vkey: VerifierKey = log.verifier_key().to_string().parse()?;
//! let dpo_vkey: VerifierKey = dpo.verifier_key().to_string().parse()?;
//! let opened = Checkpoint::open(published.as_bytes(), "ledger.example.ac.uk/consent", &log_vkey, &[dpo_vkey])?;
//! assert_eq!(opened.checkpoint, head);
//! assert_eq!(opened.cosignatures[0].timestamp, Some(1_700_000_000));
//!
//! // One changed byte and it is refused.
//! let forged = published.replace("\n42\n", "\n43\n");
//! assert!(Checkpoint::open(forged.as_bytes(), "ledger.example.ac.uk/consent", &log_vkey, &[]).is_err());
//! # Ok::<(), consent_note::Error>(())
//! ```
//!
//! ## Limits
//! A note is at most [`MAX_NOTE_BYTES`] and carries at most [`MAX_SIGNATURES`]
//! signature lines (the specification requires accepting at least 16); parsing stops at
//! either, before any signature is checked.
//!
//! ## Errors
//! Every refusal is an [`Error`] variant of its own, with a stable [`ErrorKind`]
//! ([`Error::kind`], one of [`ErrorKind::ALL`]): decide from the kind, show the
//! message. Each function's `# Errors` section lists the kinds it returns; reading a
//! note ([`Note::parse`]) and reading a checkpoint ([`Checkpoint::parse`]) list theirs
//! once, and the functions built on them refer there. Nothing here does I/O, so
//! [`ErrorKind::Random`] (from [`SigningKey::generate`]) is the only failure that is
//! not about the input.
//!
//! ## Threads
//! Every type is `Send + Sync` and immutable once built; signing and verifying take
//! `&self`.
//!
//! ## Where things are
//! | file | holds |
//! |---|---|
//! | `note.rs` | [`Note`], [`NoteSignature`], parsing, formatting, [`Note::verify`] |
//! | `key.rs` | [`SigningKey`], [`VerifierKey`], [`KeyId`], [`SignatureType`], key strings |
//! | `checkpoint.rs` | [`Checkpoint`], [`SignedCheckpoint`], [`Checkpoint::open`] |
//! | `cosignature.rs` | the `cosignature/v1` message, [`cosignature::MAX_TIMESTAMP`] |
//! | `error.rs` | [`Error`], [`ErrorKind`] |

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(clippy::missing_errors_doc, clippy::missing_panics_doc)]

mod checkpoint;
pub mod cosignature;
mod error;
mod key;
mod note;

pub use checkpoint::{Checkpoint, SignedCheckpoint};
pub use error::{Error, ErrorKind, Result};
pub use key::{check_key_name, KeyId, SignatureType, SigningKey, VerifierKey};
pub use note::{Note, NoteSignature, Verification, VerifiedSignature};

/// The largest note (text and signature lines) read or written: 1 MiB. Enough for a
/// hundred post-quantum signatures; small enough that a hostile note costs little.
pub const MAX_NOTE_BYTES: usize = 1 << 20;

/// The most signature lines a note may carry: 100, as Go's `sumdb/note` (the
/// specification asks for at least 16). Bounds the work of verifying a hostile note.
pub const MAX_SIGNATURES: usize = 100;

/// The README's example runs as a doctest, so it cannot fall behind the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn types_are_send_and_sync() {
        assert_send_sync::<Note>();
        assert_send_sync::<SigningKey>();
        assert_send_sync::<VerifierKey>();
        assert_send_sync::<Checkpoint>();
        assert_send_sync::<Error>();
    }
}
