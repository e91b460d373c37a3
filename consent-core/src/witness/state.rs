//! The witness's state directory (docs/FORMAT.md §11.4):
//!
//! ```text
//! <state_dir>/witness-lock            flock'ed around every cosign (empty)
//! <state_dir>/logs/<origin, %-encoded> the last note this witness cosigned for the log
//! <state_dir>/evidence/<...>.json      a refusal's evidence: both notes, the proof
//! ```
//!
//! A state file is the note the witness returned (the log's signature line and its own
//! cosignature). Reading it back checks the witness's own cosignature, so a state file
//! damaged, swapped for another log's, or written by someone without the witness key
//! stops the witness instead of steering it.

use std::path::{Path, PathBuf};

use serde_json::json;

use consent_note::{Checkpoint, Note, VerifierKey};

use crate::atomic_file::{self, Mode};
use crate::error::{Error, Result};
use crate::proofs::ConsistencyProof;

/// The longest encoded origin accepted as a file name (most file systems allow 255
/// bytes; the rest is room for the temporary name).
const MAX_NAME: usize = 200;

/// The file name of a log's state: the origin with every byte but ASCII letters,
/// digits, `-`, `_` and `.` written `%XX` (upper-case hex), and a leading `.` too, so
/// no origin names a hidden file, `.` or `..`.
pub(crate) fn file_name(origin: &str) -> Result<String> {
    let mut out = String::with_capacity(origin.len());
    for (i, b) in origin.bytes().enumerate() {
        let plain = b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || (b == b'.' && i > 0);
        if plain {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.is_empty() || out.len() > MAX_NAME {
        return Err(Error::invalid(format!(
            "a witnessed log's origin must be non-empty and encode to at most {MAX_NAME} bytes"
        )));
    }
    Ok(out)
}

/// What a refusal's evidence file holds.
pub(crate) struct Evidence<'a> {
    /// The refusal's kind, as named in file names.
    pub kind: &'a str,
    /// The log.
    pub origin: &'a str,
    /// When (POSIX seconds, the witness's clock).
    pub time: u64,
    /// The refusal's message.
    pub message: &'a str,
    /// The note last cosigned.
    pub cosigned: &'a Note,
    /// The note refused, exactly as received.
    pub refused: &'a str,
    /// The consistency proof received, if any.
    pub proof: Option<&'a ConsistencyProof>,
}

/// The directories of one witness.
pub(crate) struct StateDir {
    root: PathBuf,
}

/// A log's state: the last checkpoint the witness cosigned, and its note.
pub(crate) struct LogState {
    pub note: Note,
    pub checkpoint: Checkpoint,
}

impl StateDir {
    /// Creates the directories (owner-only) when missing.
    pub(crate) fn open(root: &Path) -> Result<StateDir> {
        atomic_file::ensure_dir(root, Mode::Private)?;
        atomic_file::ensure_dir(&root.join("logs"), Mode::Private)?;
        atomic_file::ensure_dir(&root.join("evidence"), Mode::Private)?;
        Ok(StateDir {
            root: root.to_path_buf(),
        })
    }

    /// The path the writer lock is taken on (`lockfile.rs` appends `-lock`).
    pub(crate) fn lock_base(&self) -> PathBuf {
        self.root.join("witness")
    }

    fn state_path(&self, origin: &str) -> Result<PathBuf> {
        Ok(self.root.join("logs").join(file_name(origin)?))
    }

    /// The last checkpoint cosigned for `origin`; `None` before the first.
    ///
    /// Refused with [`Error::Corrupt`], naming the file: a note that does not parse, a
    /// checkpoint of another origin, or no valid cosignature by `own` (this witness).
    pub(crate) fn load(&self, origin: &str, own: &VerifierKey) -> Result<Option<LogState>> {
        let path = self.state_path(origin)?;
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let damaged = |why: String| {
            Error::Corrupt(format!(
                "the witness state {} is damaged or not this witness's ({why}); no cosignature is given until it is restored",
                path.display()
            ))
        };
        let note = Note::parse(&bytes).map_err(|e| damaged(e.to_string()))?;
        let checkpoint = Checkpoint::parse(note.text()).map_err(|e| damaged(e.to_string()))?;
        if checkpoint.origin != origin {
            return Err(damaged(format!(
                "it holds a checkpoint of `{}`",
                checkpoint.origin
            )));
        }
        note.verify(std::slice::from_ref(own))
            .map_err(|e| damaged(format!("its cosignature by this witness: {e}")))?;
        Ok(Some(LogState { note, checkpoint }))
    }

    /// Replaces the state of `origin` with `note`, atomically and durably.
    pub(crate) fn store(&self, origin: &str, note: &str) -> Result<()> {
        atomic_file::replace(&self.state_path(origin)?, note.as_bytes(), Mode::Private)?;
        Ok(())
    }

    /// Writes a refusal's evidence file and returns its path: the note cosigned before,
    /// the note refused (log-signed: the log cannot deny it), and the proof given.
    pub(crate) fn write_evidence(&self, e: &Evidence<'_>) -> Result<PathBuf> {
        let body = json!({
            "format": "consent-ledger/witness-evidence/v1",
            "kind": e.kind,
            "origin": e.origin,
            "time": e.time,
            "message": e.message,
            "cosigned": e.cosigned.to_string(),
            "refused": e.refused,
            "proof": e.proof,
        });
        let text = serde_json::to_string_pretty(&body)
            .map_err(|e| Error::Storage(format!("evidence: {e}")))?
            + "\n";
        let dir = self.root.join("evidence");
        let stem = format!("{}-{}-{}", e.time, e.kind, file_name(e.origin)?);
        for n in 0u32.. {
            let name = match n {
                0 => format!("{stem}.json"),
                n => format!("{stem}-{n}.json"),
            };
            let path = dir.join(name);
            match atomic_file::create_new(&path, Mode::Private) {
                Ok(mut file) => {
                    use std::io::Write;
                    file.write_all(text.as_bytes())?;
                    file.sync_all()?;
                    atomic_file::sync_dir(&dir)?;
                    return Ok(path);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e.into()),
            }
        }
        unreachable!("u32 evidence names run out")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_become_plain_file_names() {
        assert_eq!(
            file_name("ljmu.ac.uk/consent").unwrap(),
            "ljmu.ac.uk%2Fconsent"
        );
        assert_eq!(file_name("..").unwrap(), "%2E.");
        assert_eq!(file_name(".hidden").unwrap(), "%2Ehidden");
        assert_eq!(file_name("a b%").unwrap(), "a%20b%25");
        assert_eq!(file_name("é").unwrap(), "%C3%A9");
        assert!(file_name("").is_err());
        assert!(file_name(&"x".repeat(201)).is_err());
        // Distinct origins, distinct files: the encoding is reversible.
        assert_ne!(file_name("a/b").unwrap(), file_name("a%2Fb").unwrap());
    }
}
