//! Publishing checkpoints to a plain directory that any static web server or shared
//! drive can serve (docs/FORMAT.md §11.5):
//!
//! ```text
//! <dir>/checkpoint            the latest note; replaced atomically, never by a smaller size
//! <dir>/checkpoints/<size>    every note published, by size (decimal); never changed but
//!                             to add signature lines (cosignatures that came later)
//! <dir>/.publish-lock         taken while publishing (empty)
//! ```
//!
//! The directory is the copy of the ledger's checkpoints that an insider who rewrites
//! the ledger file — its `checkpoints` table included — does not control: readers
//! (`verify`, `check-receipt`, a student's browser) take a note from it and check it
//! with the log's verifier key. Publishing verifies nothing (it holds no keys); it only
//! refuses to move history: a note of a smaller size than the latest, or another
//! checkpoint text under a size already published, is a [`Error::Conflict`].

use std::path::Path;

use consent_note::{Checkpoint, Note};

use crate::atomic_file::{self, Mode};
use crate::error::{Error, Result};
use crate::lockfile::WriteLock;

/// How long publishing waits for another publisher on the same directory.
const LOCK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// What [`publish_checkpoint`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The size of the checkpoint published.
    pub size: u64,
    /// Whether `checkpoints/<size>` was created or gained signature lines.
    pub changed: bool,
    /// Whether `checkpoint` (the latest) now holds this size.
    pub latest: bool,
}

/// Reads a note strictly: a signed note whose text is a checkpoint.
fn parse(text: &str) -> Result<(Note, Checkpoint)> {
    let note = Note::parse(text.as_bytes())?;
    let checkpoint = Checkpoint::parse(note.text())?;
    Ok((note, checkpoint))
}

/// `old` with the signature lines of `new` that it lacks (by key name and id), or
/// `None` when it lacks none. The checkpoint texts must be the same.
fn merge(old: &Note, new: &Note, what: &str) -> Result<Option<Note>> {
    if old.text() != new.text() {
        return Err(Error::Conflict(format!(
            "{what} holds another checkpoint of the same size: a published checkpoint is never replaced"
        )));
    }
    let mut merged = old.clone();
    let mut added = false;
    for sig in new.signatures() {
        let present = old
            .signatures()
            .iter()
            .any(|s| s.name() == sig.name() && s.key_id() == sig.key_id());
        if !present {
            merged.add_signature(sig.clone())?;
            added = true;
        }
    }
    Ok(added.then_some(merged))
}

/// Reads a published file, `None` when it does not exist.
fn read_file(path: &Path) -> Result<Option<String>> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| Error::Corrupt(format!("{} is not UTF-8 text", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Reads a published note that must parse; damage is [`Error::Corrupt`], naming it.
fn read_published_note(path: &Path) -> Result<Option<(Note, Checkpoint)>> {
    let Some(text) = read_file(path)? else {
        return Ok(None);
    };
    parse(&text)
        .map(Some)
        .map_err(|e| Error::Corrupt(format!("{} is not a checkpoint note: {e}", path.display())))
}

/// Publishes a signed checkpoint note into `dir` (created when missing): writes
/// `checkpoints/<size>`, then makes it the latest `checkpoint` unless a larger one is
/// there.
///
/// Publishing a note of a size already published merges its signature lines into
/// the file (cosignatures arriving after the log's signature); the checkpoint text
/// and the lines already there never change. A note smaller than the latest is
/// refused unless it is already published under its size, when only its file gains
/// lines.
///
/// # Errors
/// - [`Note`](crate::ErrorKind::Note): not a checkpoint note, or the merged note would
///   carry too many signature lines;
/// - [`Conflict`](crate::ErrorKind::Conflict): another checkpoint text under a
///   published size, or a note that would move the latest back;
/// - [`Corrupt`](crate::ErrorKind::Corrupt): a published file is not a checkpoint note
///   (of its size), naming it;
/// - [`Busy`](crate::ErrorKind::Busy): another publisher held the folder's lock too
///   long; [`Io`](crate::ErrorKind::Io), [`Storage`](crate::ErrorKind::Storage): the
///   folder or its lock file could not be created, read or written.
pub fn publish_checkpoint(dir: &Path, note: &str) -> Result<Published> {
    let (new, checkpoint) = parse(note)?;
    let size = checkpoint.size;
    atomic_file::ensure_dir(dir, Mode::Public)?;
    let sizes = dir.join("checkpoints");
    atomic_file::ensure_dir(&sizes, Mode::Public)?;
    let mut lock = WriteLock::open(&dir.join(".publish"))?;
    lock.acquire(LOCK_TIMEOUT)?;

    let latest_path = dir.join("checkpoint");
    let latest = read_published_note(&latest_path)?;
    let by_size = sizes.join(size.to_string());
    let existing = read_published_note(&by_size)?;
    if let Some((latest_note, latest)) = &latest {
        if latest.size == size && latest_note.text() != new.text() {
            return Err(Error::Conflict(format!(
                "{} holds another checkpoint of size {size}: a published checkpoint is never replaced",
                latest_path.display()
            )));
        }
        if latest.size > size && existing.is_none() {
            return Err(Error::Conflict(format!(
                "the published checkpoint is of size {}; a checkpoint of size {size} would move it back",
                latest.size
            )));
        }
    }
    let (stored, changed) = match &existing {
        None => (new, true),
        Some((old, old_checkpoint)) => {
            if old_checkpoint.size != size {
                return Err(Error::Corrupt(format!(
                    "{} holds a checkpoint of size {}",
                    by_size.display(),
                    old_checkpoint.size
                )));
            }
            match merge(old, &new, &format!("{}", by_size.display()))? {
                Some(merged) => (merged, true),
                None => (old.clone(), false),
            }
        }
    };
    let text = stored.to_string();
    if changed {
        atomic_file::replace(&by_size, text.as_bytes(), Mode::Public)?;
    }
    let becomes_latest = match &latest {
        None => true,
        Some((_, l)) => l.size <= size,
    };
    if becomes_latest {
        let same = latest.as_ref().is_some_and(|(n, _)| n.to_string() == text);
        if !same {
            atomic_file::replace(&latest_path, text.as_bytes(), Mode::Public)?;
        }
    }
    lock.release();
    Ok(Published {
        size,
        changed,
        latest: becomes_latest,
    })
}

/// The latest published note in `dir` (the `checkpoint` file), checked to parse as a
/// checkpoint note — not verified: the reader verifies it with the log's key.
///
/// # Errors
/// [`NotFound`](crate::ErrorKind::NotFound) when nothing is published there;
/// [`Corrupt`](crate::ErrorKind::Corrupt) when the file is not a checkpoint note;
/// [`Io`](crate::ErrorKind::Io) when it cannot be read.
pub fn read_published(dir: &Path) -> Result<String> {
    let path = dir.join("checkpoint");
    match read_published_note(&path)? {
        Some((note, _)) => Ok(note.to_string()),
        None => Err(Error::NotFound(format!(
            "a published checkpoint: {} does not exist",
            path.display()
        ))),
    }
}

/// The note published for tree size `size` (`checkpoints/<size>`), checked to parse
/// as a checkpoint note of that size — not verified.
///
/// # Errors
/// As [`read_published`]; also [`Corrupt`](crate::ErrorKind::Corrupt) when the file
/// holds a checkpoint of another size.
pub fn read_published_size(dir: &Path, size: u64) -> Result<String> {
    let path = dir.join("checkpoints").join(size.to_string());
    match read_published_note(&path)? {
        Some((_, c)) if c.size != size => Err(Error::Corrupt(format!(
            "{} holds a checkpoint of size {}",
            path.display(),
            c.size
        ))),
        Some((note, _)) => Ok(note.to_string()),
        None => Err(Error::NotFound(format!(
            "a checkpoint of size {size} published in {}",
            dir.display()
        ))),
    }
}
