//! Checking a checkpoint against the ledger: is the note signed by the log key and
//! cosigned by enough witnesses, and does the log still hold what it states?
//!
//! Two questions, kept apart in the answer because they call for different actions:
//! a note that is not authentic (forged, another key, too few witnesses) is an
//! [`Error`] — the note proves nothing either way; an authentic note that the ledger no
//! longer matches is a [`CheckpointFinding`] — the ledger was truncated or rewritten
//! after it signed.

use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use consent_note::{Checkpoint, Note, SignedCheckpoint, VerifiedSignature, VerifierKey};

use crate::error::{Error, Result};
use crate::ledger::Ledger;
use crate::merkle::Hash;
use crate::store::{RawCheckpointRow, Store};

/// What [`Ledger::check_checkpoint`] found for an authentic checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointVerdict {
    /// The checkpoint the note states.
    pub checkpoint: Checkpoint,
    /// The cosignatures counted towards the quorum: one per distinct trusted witness
    /// (key name), in note order, with the time each states.
    pub witnesses: Vec<VerifiedSignature>,
    /// The number of events in the ledger now.
    pub ledger_size: u64,
    /// `None` when the ledger holds the checkpoint: it has at least its size and its
    /// root at that size is the checkpoint's.
    pub finding: Option<CheckpointFinding>,
}

impl CheckpointVerdict {
    /// Whether the ledger holds the checkpoint.
    pub fn holds(&self) -> bool {
        self.finding.is_none()
    }
}

/// How a ledger fails an authentic checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckpointFinding {
    /// The ledger has fewer events than the checkpoint: its tail was removed.
    Truncated {
        /// The checkpoint's size.
        checkpoint_size: u64,
        /// The ledger's size.
        ledger_size: u64,
    },
    /// The ledger's root at the checkpoint's size differs: some event before that size
    /// was changed, removed or inserted, and the tree recomputed.
    Rewritten {
        /// The checkpoint's size.
        size: u64,
        /// The root the checkpoint states.
        checkpoint_root: Hash,
        /// The ledger's root at that size.
        ledger_root: Hash,
    },
}

impl fmt::Display for CheckpointFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckpointFinding::Truncated {
                checkpoint_size,
                ledger_size,
            } => write!(
                f,
                "truncated: the log has fewer events ({ledger_size}) than the checkpoint ({checkpoint_size})"
            ),
            CheckpointFinding::Rewritten {
                size,
                checkpoint_root,
                ledger_root,
            } => write!(
                f,
                "the log was rewritten before size {size}: its root there is {}, the checkpoint's is {}",
                BASE64.encode(ledger_root),
                BASE64.encode(checkpoint_root)
            ),
        }
    }
}

/// What [`Ledger::verify_checkpoints`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointsReport {
    /// The number of events in the ledger.
    pub ledger_size: u64,
    /// Stored checkpoints checked, the failing one included.
    pub checked: u64,
    /// Whether every stored checkpoint holds.
    pub ok: bool,
    /// The smallest stored size that does not hold (`None` when all hold, or when the
    /// failing row's size is not a size).
    pub first_bad_size: Option<u64>,
    /// Why it does not hold.
    pub problem: Option<String>,
    /// The largest stored size that holds, below the first that does not.
    pub last_good_size: Option<u64>,
}

/// Opens `note` as a checkpoint of the log whose key is `log_key` (origin = the key's
/// name) and counts its cosignatures by distinct trusted witnesses against `quorum`.
///
/// Witnesses are counted by key name: two keys of one witness (before and after a
/// rotation) are one witness. Two lines by one key cannot occur: the note parser
/// refuses them.
pub(crate) fn open_checkpoint(
    note: &str,
    log_key: &VerifierKey,
    witnesses: &[VerifierKey],
    quorum: usize,
) -> Result<(SignedCheckpoint, Vec<VerifiedSignature>)> {
    let signed = Checkpoint::open(note.as_bytes(), log_key.name(), log_key, witnesses)?;
    let mut counted: Vec<VerifiedSignature> = Vec::new();
    for sig in &signed.cosignatures {
        if !counted.iter().any(|c| c.name == sig.name) {
            counted.push(sig.clone());
        }
    }
    if counted.len() < quorum {
        return Err(Error::QuorumNotMet {
            have: counted.len(),
            need: quorum,
        });
    }
    Ok((signed, counted))
}

/// Compares an authentic checkpoint with the log, in the caller's read transaction.
fn compare(store: &Store, checkpoint: &Checkpoint) -> Result<Option<CheckpointFinding>> {
    let ledger_size = store.size()?;
    if checkpoint.size > ledger_size {
        return Ok(Some(CheckpointFinding::Truncated {
            checkpoint_size: checkpoint.size,
            ledger_size,
        }));
    }
    let ledger_root = store.root(checkpoint.size)?;
    if ledger_root != checkpoint.root {
        return Ok(Some(CheckpointFinding::Rewritten {
            size: checkpoint.size,
            checkpoint_root: checkpoint.root,
            ledger_root,
        }));
    }
    Ok(None)
}

impl Ledger {
    /// Checks a signed checkpoint note (from anywhere: this ledger's table, the
    /// publish directory, a receipt, a witness) against this ledger.
    ///
    /// The note must be a checkpoint for origin `log_key.name()`, signed by `log_key`,
    /// with valid cosignatures by at least `quorum` distinct witnesses among
    /// `witnesses`; a cosignature by a key not given is ignored.
    ///
    /// An authentic note gives a verdict: the ledger holds it, or it was truncated or
    /// rewritten before the checkpoint's size ([`CheckpointFinding`]).
    ///
    /// # Errors
    /// [`Note`](crate::ErrorKind::Note) when the note is not authentic (forged,
    /// malformed, for another origin, another key with the right name, a trusted line
    /// that does not verify: [`consent_note::Error::kind`] says which);
    /// [`QuorumNotMet`](crate::ErrorKind::QuorumNotMet) when fewer than `quorum`
    /// distinct witnesses cosigned it; the [ledger's errors](crate#errors). A ledger that does not hold the
    /// checkpoint is a verdict, not an error.
    pub fn check_checkpoint(
        &self,
        note: &str,
        log_key: &VerifierKey,
        witnesses: &[VerifierKey],
        quorum: usize,
    ) -> Result<CheckpointVerdict> {
        let (signed, witnesses) = open_checkpoint(note, log_key, witnesses, quorum)?;
        self.read(None, |inner, _| {
            let finding = compare(&inner.store, &signed.checkpoint)?;
            Ok(CheckpointVerdict {
                checkpoint: signed.checkpoint.clone(),
                witnesses,
                ledger_size: inner.store.size()?,
                finding,
            })
        })
    }

    /// Checks every checkpoint the ledger keeps, in size order, as
    /// [`Ledger::check_checkpoint`] does (pass `quorum` 0 to require only the log's
    /// signature), and that each note states the size it is stored under. Names the
    /// first — the smallest size — that does not hold, and why; when a checkpoint
    /// below it holds, the change is narrowed to the events between the two.
    ///
    /// All in one read snapshot. A stored checkpoint holding is consistency: the
    /// ledger's tree at that size is the one signed, so the log extends it.
    /// Checkpoints signed before a change of log key do not verify under the new key:
    /// they are reported, not skipped.
    ///
    /// # Errors
    /// The [ledger's errors](crate#errors) only: a checkpoint that does not hold (forged, not witnessed enough,
    /// damaged, no longer held by the log) is the report's `problem`.
    pub fn verify_checkpoints(
        &self,
        log_key: &VerifierKey,
        witnesses: &[VerifierKey],
        quorum: usize,
    ) -> Result<CheckpointsReport> {
        self.read(None, |inner, _| {
            check_stored(&inner.store, &|note: &str| {
                open_checkpoint(note, log_key, witnesses, quorum).map(|(s, _)| s.checkpoint)
            })
        })
    }
}

/// What `verify` checks of the stored checkpoints without any key: each parses as a
/// checkpoint of its size and the log still holds it (size and root). The first that
/// does not, as a report's problem.
pub(crate) fn stored_checkpoints_problem(store: &Store) -> Result<Option<String>> {
    let report = check_stored(store, &|note: &str| {
        let parsed = Note::parse(note.as_bytes()).map_err(Error::Note)?;
        Checkpoint::parse(parsed.text()).map_err(Error::Note)
    })?;
    Ok(report.problem)
}

/// Every stored row in size order, opened by `open`; stops at the first that does not
/// hold, naming the range of events the change lies in when an earlier one holds.
fn check_stored(
    store: &Store,
    open: &dyn Fn(&str) -> Result<Checkpoint>,
) -> Result<CheckpointsReport> {
    let mut rows = Vec::new();
    store.each_checkpoint_row(|r| {
        rows.push(r);
        true
    })?;
    // A sound table is read in size order; a damaged one (a row of the wrong type) is
    // read first, since its place is unknown.
    rows.sort_by_key(|r| r.size);
    let mut report = CheckpointsReport {
        ledger_size: store.size()?,
        checked: 0,
        ok: true,
        first_bad_size: None,
        problem: None,
        last_good_size: None,
    };
    for row in rows {
        report.checked += 1;
        let size = row.size.and_then(|s| u64::try_from(s).ok());
        if let Some(problem) = check_row(store, row, open)? {
            report.ok = false;
            report.first_bad_size = size;
            report.problem = Some(match (report.last_good_size, size) {
                (Some(good), Some(bad)) if problem.starts_with("the log was rewritten") => {
                    format!(
                        "{problem}; the checkpoint of size {good} still holds, so an event among seq {good}..{} was changed",
                        bad - 1
                    )
                }
                _ => problem,
            });
            return Ok(report);
        }
        report.last_good_size = size;
    }
    Ok(report)
}

/// One stored row: the problem that keeps it from holding, if any.
fn check_row(
    store: &Store,
    row: RawCheckpointRow,
    open: &dyn Fn(&str) -> Result<Checkpoint>,
) -> Result<Option<String>> {
    let (Some(size), Some(note)) = (row.size.and_then(|s| u64::try_from(s).ok()), row.note) else {
        return Ok(Some(
            "a stored checkpoint row is not a size and a note text: the table was damaged".into(),
        ));
    };
    let checkpoint = match open(&note) {
        Ok(checkpoint) => checkpoint,
        Err(Error::Note(e)) => {
            return Ok(Some(format!(
                "the checkpoint stored for size {size} is not one the log key signed: {e}"
            )))
        }
        Err(e @ Error::QuorumNotMet { .. }) => {
            return Ok(Some(format!("the checkpoint stored for size {size}: {e}")))
        }
        Err(e) => return Err(e),
    };
    if checkpoint.size != size {
        return Ok(Some(format!(
            "the checkpoint stored for size {size} states size {}: the table was altered",
            checkpoint.size
        )));
    }
    Ok(compare(store, &checkpoint)?.map(|f| f.to_string()))
}
