//! Signed checkpoints of the ledger (issue 13, docs/FORMAT.md §11): the head as a C2SP
//! `tlog-checkpoint` note signed with the log's Ed25519 key, kept in the `checkpoints`
//! table, and the witnesses' cosignatures merged into it.
//!
//! A bare head (`SIZE:ROOT`) vouches for nothing: whoever can write the file can
//! rewrite history and hand out a matching head. A signed checkpoint names its signer,
//! and once copies are held elsewhere (the publish directory, `publish.rs`; the
//! witnesses, `witness.rs`), a rewrite of the log — even with the `checkpoints` table
//! rewritten too — no longer matches them. Checking a note against the ledger is in
//! `check.rs`.
//!
//! The checkpoint's origin is the log key's name and its root the ledger's RFC 9162
//! root, the bytes of [`Head::root`]: nothing new is stored in the hashed log.

mod check;

pub(crate) use check::stored_checkpoints_problem;

use consent_note::{Checkpoint, Note, SigningKey};

use crate::error::{Error, Result};
use crate::ledger::{Inner, Ledger};
use crate::proofs::Head;
use crate::store::Store;

pub use check::{CheckpointFinding, CheckpointVerdict, CheckpointsReport};

/// A checkpoint note the ledger signed, as it keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHead {
    /// The signed note: the checkpoint text, a blank line, the log's signature line
    /// and the cosignature lines merged since ([`Ledger::add_cosignatures`]).
    pub note: String,
    /// The checkpoint the note states: origin (the log key's name), size and root.
    pub checkpoint: Checkpoint,
}

impl SignedHead {
    /// The head the checkpoint states, in the ledger's own terms.
    pub fn head(&self) -> Head {
        Head {
            size: self.checkpoint.size,
            root: self.checkpoint.root,
        }
    }
}

/// Reads the note stored under `size`. The table is the ledger's own: a note that does
/// not parse, or states another size, was damaged after it was written.
pub(crate) fn parse_stored(size: u64, text: &str) -> Result<(Note, Checkpoint)> {
    let damaged = |why: String| {
        Error::Corrupt(format!(
            "the checkpoint stored for size {size} is damaged: {why}"
        ))
    };
    let note = Note::parse(text.as_bytes()).map_err(|e| damaged(e.to_string()))?;
    let checkpoint = Checkpoint::parse(note.text()).map_err(|e| damaged(e.to_string()))?;
    if checkpoint.size != size {
        return Err(damaged(format!("its note states size {}", checkpoint.size)));
    }
    Ok((note, checkpoint))
}

/// Refuses to sign a log that no longer extends the largest checkpoint it signed: a
/// new signature must never cover a rewritten or truncated history. (Only the root is
/// compared: the ledger holds no verifier keys. `verify_checkpoints` checks them all.)
fn check_latest_holds(store: &Store, head: &Head) -> Result<()> {
    let Some((size, text)) = store.latest_checkpoint_row()? else {
        return Ok(());
    };
    let (_, signed) = parse_stored(size, &text)?;
    if signed.size > head.size {
        return Err(Error::Corrupt(format!(
            "the ledger signed a checkpoint of {} events but now has {}: the log was truncated; refusing to sign",
            signed.size, head.size
        )));
    }
    if store.root(signed.size)? != signed.root {
        return Err(Error::Corrupt(format!(
            "the log's root at size {} is not the one the ledger signed: the log was rewritten before size {}; refusing to sign",
            signed.size, signed.size
        )));
    }
    Ok(())
}

impl Ledger {
    /// Signs the current head as a checkpoint with the log's key (Ed25519, type 0x01),
    /// keeps it in the ledger and returns it. The origin is the key's name.
    ///
    /// Size and root are read, signed and stored in one write transaction under the
    /// writer lock, so the checkpoint states a head the log really had. Signing again
    /// at the same size merges: the checkpoint text is the same, the key's signature
    /// line is added (or left as it is) and cosignatures already merged are kept.
    ///
    /// # Errors
    /// Refused, with nothing stored:
    /// - [`Note`](crate::ErrorKind::Note): a key that is not Ed25519 (a witness's
    ///   cosigner key, say);
    /// - [`Conflict`](crate::ErrorKind::Conflict): the size was signed under another
    ///   origin (one ledger, one origin: keep the key name when rotating keys);
    /// - [`Corrupt`](crate::ErrorKind::Corrupt): the log no longer extends the largest
    ///   checkpoint it signed, or a stored checkpoint is damaged;
    /// - the [ledger's and write errors](crate#errors).
    ///
    /// ```
    /// use consent_core::consent_note::{SignatureType, SigningKey};
    /// use consent_core::Ledger;
    ///
    /// let ledger = Ledger::in_memory()?;
    /// // In real use: SigningKey::generate, kept with consent_core::generate_signing_key_file.
    /// let key = SigningKey::from_seed("ljmu.ac.uk/consent", SignatureType::Ed25519, &[7; 32])?;
    /// let signed = ledger.sign_checkpoint(&key)?;
    /// assert_eq!(signed.head(), ledger.head()?);
    ///
    /// // Anyone holding the verifier key string can check the note against the ledger.
    /// let verdict = ledger.check_checkpoint(&signed.note, &key.verifier_key(), &[], 0)?;
    /// assert!(verdict.holds());
    /// # Ok::<(), consent_core::Error>(())
    /// ```
    pub fn sign_checkpoint(&self, key: &SigningKey) -> Result<SignedHead> {
        self.write(None, |inner, _| sign(inner, key))
    }

    /// Every checkpoint the ledger keeps, in size order.
    ///
    /// # Errors
    /// The [ledger's errors](crate#errors) ([`Corrupt`](crate::ErrorKind::Corrupt) for a stored note that is
    /// not a checkpoint of its size).
    pub fn checkpoints(&self) -> Result<Vec<SignedHead>> {
        self.read(None, |inner, _| {
            inner
                .store
                .checkpoint_rows()?
                .into_iter()
                .map(|(size, note)| {
                    let (_, checkpoint) = parse_stored(size, &note)?;
                    Ok(SignedHead { note, checkpoint })
                })
                .collect()
        })
    }

    /// The checkpoint of the largest size the ledger keeps, if it signed any.
    ///
    /// # Errors
    /// As [`Ledger::checkpoints`].
    pub fn latest_checkpoint(&self) -> Result<Option<SignedHead>> {
        self.read(None, |inner, _| {
            inner
                .store
                .latest_checkpoint_row()?
                .map(|(size, note)| {
                    let (_, checkpoint) = parse_stored(size, &note)?;
                    Ok(SignedHead { note, checkpoint })
                })
                .transpose()
        })
    }

    /// Merges into the stored checkpoint of the same size the signature lines of
    /// `note` (as a witness returns it) that the stored note lacks, and returns the
    /// merged checkpoint.
    ///
    /// Only a note whose checkpoint text is byte-identical to the stored one is merged.
    /// A line by a key (name and key id) already on the
    /// stored note is kept as stored, so a merge never drops or changes a signature.
    /// The lines are not verified here — the ledger holds no witness keys — but a
    /// line that claims a trusted witness's key and does not verify makes
    /// [`Ledger::check_checkpoint`] and [`Ledger::verify_checkpoints`] refuse the
    /// note, so a forged line is found, not trusted.
    ///
    /// # Errors
    /// Refused, with nothing merged:
    /// - [`Note`](crate::ErrorKind::Note): `note` is not a signed note holding a
    ///   checkpoint, or the merged note would pass [`consent_note::MAX_SIGNATURES`] or
    ///   [`consent_note::MAX_NOTE_BYTES`];
    /// - [`NotFound`](crate::ErrorKind::NotFound): the ledger signed no checkpoint of
    ///   that size;
    /// - [`Conflict`](crate::ErrorKind::Conflict): its checkpoint text is not the one
    ///   the ledger signed;
    /// - the [ledger's and write errors](crate#errors).
    pub fn add_cosignatures(&self, note: &str) -> Result<SignedHead> {
        let incoming = Note::parse(note.as_bytes())?;
        let checkpoint = Checkpoint::parse(incoming.text())?;
        self.write(None, |inner, _| {
            let store = &inner.store;
            let size = checkpoint.size;
            let stored = store.checkpoint_note(size)?.ok_or_else(|| {
                Error::NotFound(format!(
                    "a checkpoint of size {size}: the ledger did not sign one"
                ))
            })?;
            let (mut merged, stored_checkpoint) = parse_stored(size, &stored)?;
            if merged.text() != incoming.text() {
                return Err(Error::Conflict(format!(
                    "the cosigned note's checkpoint of size {size} is not the text the ledger signed; nothing merged"
                )));
            }
            let mut added = false;
            for sig in incoming.signatures() {
                let present = merged
                    .signatures()
                    .iter()
                    .any(|s| s.name() == sig.name() && s.key_id() == sig.key_id());
                if !present {
                    merged.add_signature(sig.clone())?;
                    added = true;
                }
            }
            let text = merged.to_string();
            if added {
                store.put_checkpoint(size, &text)?;
            }
            Ok(SignedHead {
                note: text,
                checkpoint: stored_checkpoint,
            })
        })
    }
}

/// [`Ledger::sign_checkpoint`] inside its write transaction.
fn sign(inner: &Inner, key: &SigningKey) -> Result<SignedHead> {
    let store = &inner.store;
    let head = inner.head()?;
    let checkpoint = Checkpoint {
        origin: key.name().to_owned(),
        size: head.size,
        root: head.root,
        extensions: Vec::new(),
    };
    let signed = checkpoint.sign(key)?;
    check_latest_holds(store, &head)?;
    let note = match store.checkpoint_note(head.size)? {
        None => signed,
        Some(stored) => {
            let (mut merged, before) = parse_stored(head.size, &stored)?;
            if merged.text() != signed.text() {
                return Err(Error::Conflict(format!(
                    "size {} was signed as origin `{}`; this key's name is `{}`: a ledger has one origin (keep the key name when rotating keys)",
                    head.size, before.origin, checkpoint.origin
                )));
            }
            for sig in signed.signatures() {
                if !merged.signatures().contains(sig) {
                    merged.add_signature(sig.clone())?;
                }
            }
            merged
        }
    };
    let text = note.to_string();
    store.put_checkpoint(head.size, &text)?;
    Ok(SignedHead {
        note: text,
        checkpoint,
    })
}
