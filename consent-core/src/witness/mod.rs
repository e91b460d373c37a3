//! A witness (C2SP `tlog-witness` behaviour, `cosignature/v1` signatures): a second
//! party — the DPO's office, the students' union — that cosigns a log's checkpoint
//! only if it is consistent with the last one it cosigned for that log.
//!
//! The witness keeps, per log, the last checkpoint it cosigned (`state.rs`). Given a
//! new checkpoint signed by a log it knows:
//! - **first use** (no state for the log): cosigned. The first checkpoint is taken on
//!   trust, as in every transparency-log witness — check it against the log once, by
//!   other means, when setting a witness up;
//! - **larger size**: cosigned only with a consistency proof from the old size to the
//!   new that verifies against both roots (from size 0 none is needed);
//! - **same size**: same root — the cosignature is issued again (with a new time);
//!   another root — a **fork**, refused;
//! - **smaller size**: a **rollback**, refused.
//!
//! A fork, a rollback or a proof that does not verify is refused loudly:
//! [`Error::WitnessRefused`] with a [`RefusalKind`], a message naming both sizes and
//! roots, and an evidence file holding both log-signed notes and the proof. Evidence is
//! written only once the new note's log signature verified, so nobody but the log can
//! fill the evidence directory, and the log cannot deny what it holds.
//!
//! Every cosign takes an exclusive lock on the state directory, and the state moves by
//! an atomic, durable rename before the cosignature is returned: two witness processes
//! on one directory cannot both move a log's state, and a cosignature is never given
//! for a checkpoint the state does not record.
//!
//! `Witness` is `Send + Sync`; calls from several threads queue on its lock.

mod state;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use consent_note::{Checkpoint, Note, SignatureType, SigningKey, VerifierKey};

use crate::error::{Error, Result};
use crate::lockfile::WriteLock;
use crate::merkle;
use crate::proofs::ConsistencyProof;
use state::{Evidence, StateDir};

/// How long a cosign waits for another witness process holding the state directory.
const LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a witness refused to cosign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RefusalKind {
    /// The checkpoint's origin is not a log this witness was configured for.
    UnknownLog,
    /// A larger checkpoint came without a consistency proof, or with a proof for other
    /// sizes than the last cosigned and the new one.
    ProofRequired,
    /// The consistency proof does not verify: the new tree may not extend the old.
    Inconsistent,
    /// Two different roots for one size, both signed by the log.
    Fork,
    /// A checkpoint smaller than the one already cosigned.
    Rollback,
}

impl RefusalKind {
    /// The lower-case name used in messages and evidence file names.
    pub fn name(self) -> &'static str {
        match self {
            RefusalKind::UnknownLog => "unknown-log",
            RefusalKind::ProofRequired => "proof-required",
            RefusalKind::Inconsistent => "inconsistent",
            RefusalKind::Fork => "fork",
            RefusalKind::Rollback => "rollback",
        }
    }
}

/// A witness's refusal, carried by [`Error::WitnessRefused`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Why.
    pub kind: RefusalKind,
    /// In words, naming the sizes and roots concerned.
    pub message: String,
    /// The evidence file written (fork, rollback, inconsistent proof).
    pub evidence: Option<PathBuf>,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.name().to_uppercase(), self.message)?;
        if let Some(path) = &self.evidence {
            write!(f, " (evidence: {})", path.display())?;
        }
        Ok(())
    }
}

/// A checkpoint the witness cosigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosigned {
    /// The note given, with the witness's cosignature line added (give it to
    /// [`crate::Ledger::add_cosignatures`] or publish it).
    pub note: String,
    /// The cosignature line alone, without its newline.
    pub signature: String,
    /// The checkpoint cosigned.
    pub checkpoint: Checkpoint,
    /// The time the cosignature states (POSIX seconds).
    pub timestamp: u64,
    /// The size this witness had cosigned for the log before (`None`: first use).
    pub previous_size: Option<u64>,
}

type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// A witness over a state directory, with its cosigning key and the logs it watches.
pub struct Witness {
    dir: StateDir,
    key: SigningKey,
    logs: Vec<(String, VerifierKey)>,
    clock: Clock,
    lock: Mutex<WriteLock>,
}

impl fmt::Debug for Witness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Witness")
            .field("key", &self.key)
            .field("logs", &self.logs)
            .finish_non_exhaustive()
    }
}

fn system_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn b64(root: &[u8; 32]) -> String {
    BASE64.encode(root)
}

impl Witness {
    /// A witness keeping its state in `state_dir` (created, owner-only, when missing),
    /// cosigning with `key` (type 0x04, cosignature/v1) for the logs `logs`: each an
    /// origin and the log's verifier key (Ed25519).
    ///
    /// # Errors
    /// [`Note`](crate::ErrorKind::Note) for a key of another type (the witness's not
    /// cosignature/v1, a log's not Ed25519);
    /// [`InvalidArgument`](crate::ErrorKind::InvalidArgument) for an origin given twice
    /// or one that cannot name a state file; [`Io`](crate::ErrorKind::Io) when the
    /// state folder cannot be created; [`Storage`](crate::ErrorKind::Storage) when its
    /// lock file cannot be opened.
    pub fn open(
        state_dir: &Path,
        key: SigningKey,
        logs: Vec<(String, VerifierKey)>,
    ) -> Result<Witness> {
        if key.kind() != SignatureType::CosignatureV1 {
            return Err(consent_note::Error::WrongKeyType {
                expected: SignatureType::CosignatureV1,
                found: key.kind(),
            }
            .into());
        }
        for (i, (origin, log_key)) in logs.iter().enumerate() {
            state::file_name(origin)?;
            if log_key.kind() != SignatureType::Ed25519 {
                return Err(consent_note::Error::WrongKeyType {
                    expected: SignatureType::Ed25519,
                    found: log_key.kind(),
                }
                .into());
            }
            if logs[..i].iter().any(|(o, _)| o == origin) {
                return Err(Error::invalid(format!(
                    "log `{origin}` is configured twice"
                )));
            }
        }
        let dir = StateDir::open(state_dir)?;
        let lock = WriteLock::open(&dir.lock_base())?;
        Ok(Witness {
            dir,
            key,
            logs,
            clock: Arc::new(system_seconds),
            lock: Mutex::new(lock),
        })
    }

    /// The same witness with another clock for cosignature times (POSIX seconds), for
    /// tests and simulations.
    pub fn with_clock(mut self, clock: impl Fn() -> u64 + Send + Sync + 'static) -> Witness {
        self.clock = Arc::new(clock);
        self
    }

    /// The witness's verifier key, for readers counting its cosignatures.
    pub fn verifier_key(&self) -> VerifierKey {
        self.key.verifier_key()
    }

    /// The last checkpoint this witness cosigned for `origin` (what a log proves
    /// consistency from), `None` before the first.
    ///
    /// # Errors
    /// [`InvalidArgument`](crate::ErrorKind::InvalidArgument) for an origin that
    /// cannot name a state file; [`Corrupt`](crate::ErrorKind::Corrupt) when its state
    /// file is damaged or not this witness's; [`Io`](crate::ErrorKind::Io) when it
    /// cannot be read.
    pub fn latest(&self, origin: &str) -> Result<Option<Checkpoint>> {
        Ok(self
            .dir
            .load(origin, &self.key.verifier_key())?
            .map(|s| s.checkpoint))
    }

    /// Cosigns `note`, a checkpoint signed by a known log, if it is consistent with
    /// the last one cosigned for that log; `proof` proves the new tree extends it
    /// (needed when the size grew). See the module documentation for the rules.
    ///
    /// # Errors
    /// - [`Note`](crate::ErrorKind::Note): not a checkpoint note, or not signed by the
    ///   log's key;
    /// - [`WitnessRefused`](crate::ErrorKind::WitnessRefused): an unknown log, a fork,
    ///   a rollback, a missing or bad proof (the [`Refusal`] says which, with the
    ///   evidence file it wrote);
    /// - [`Corrupt`](crate::ErrorKind::Corrupt): the state file is damaged: nothing is
    ///   cosigned until it is restored;
    /// - [`Busy`](crate::ErrorKind::Busy): another witness process held the state for
    ///   more than 10 s;
    /// - [`Io`](crate::ErrorKind::Io), [`Storage`](crate::ErrorKind::Storage): the
    ///   state or evidence could not be read or written (nothing was cosigned).
    pub fn cosign(&self, note: &str, proof: Option<&ConsistencyProof>) -> Result<Cosigned> {
        let parsed = Note::parse(note.as_bytes())?;
        let claimed = Checkpoint::parse(parsed.text())?;
        let origin = claimed.origin.as_str();
        let Some((_, log_key)) = self.logs.iter().find(|(o, _)| o == origin) else {
            return Err(refused(
                RefusalKind::UnknownLog,
                format!("this witness does not watch log `{origin}`"),
                None,
            ));
        };
        let signed = Checkpoint::open(note.as_bytes(), origin, log_key, &[])?;
        let new = &signed.checkpoint;

        let mut lock = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        lock.acquire(LOCK_TIMEOUT).map_err(|e| match e {
            Error::Busy(_) => Error::Busy(format!(
                "another witness process held the state directory for more than {LOCK_TIMEOUT:?}"
            )),
            other => other,
        })?;
        let result = self.decide_and_cosign(note, &signed.note, new, log_key, proof);
        lock.release();
        result
    }

    /// Under the lock: load the state, decide, record, cosign.
    fn decide_and_cosign(
        &self,
        note: &str,
        signed: &Note,
        new: &Checkpoint,
        log_key: &VerifierKey,
        proof: Option<&ConsistencyProof>,
    ) -> Result<Cosigned> {
        let origin = new.origin.as_str();
        let old = self.dir.load(origin, &self.key.verifier_key())?;
        let now = (self.clock)();
        if let Some(old) = &old {
            self.check_extends(&old.note, &old.checkpoint, new, note, proof, now)?;
        }
        let cosignature = self.key.cosign(new, now)?;
        // The state keeps the log's line and ours; the caller gets every line it sent.
        let mut state = Note::new(signed.text())?;
        for sig in signed.signatures() {
            if sig.name() == log_key.name() && sig.key_id() == log_key.key_id() {
                state.add_signature(sig.clone())?;
            }
        }
        state.add_signature(cosignature.clone())?;
        self.dir.store(origin, &state.to_string())?;
        let mut out = signed.clone();
        out.add_signature(cosignature.clone())?;
        Ok(Cosigned {
            note: out.to_string(),
            signature: cosignature.line(),
            checkpoint: new.clone(),
            timestamp: now,
            previous_size: old.map(|o| o.checkpoint.size),
        })
    }

    /// Refuses `new` unless it extends `old`; writes the evidence of a fork, a rollback
    /// or a failing proof.
    fn check_extends(
        &self,
        old_note: &Note,
        old: &Checkpoint,
        new: &Checkpoint,
        new_note: &str,
        proof: Option<&ConsistencyProof>,
        now: u64,
    ) -> Result<()> {
        let origin = new.origin.as_str();
        let loud = |kind: RefusalKind, message: String| -> Error {
            let evidence = Evidence {
                kind: kind.name(),
                origin,
                time: now,
                message: &message,
                cosigned: old_note,
                refused: new_note,
                proof,
            };
            match self.dir.write_evidence(&evidence) {
                Ok(path) => refused(kind, message, Some(path)),
                Err(e) => refused(
                    kind,
                    format!("{message} (the evidence file could not be written: {e})"),
                    None,
                ),
            }
        };
        if new.size < old.size {
            return Err(loud(
                RefusalKind::Rollback,
                format!(
                    "log `{origin}` presented size {} (root {}) after this witness cosigned size {} (root {})",
                    new.size, b64(&new.root), old.size, b64(&old.root)
                ),
            ));
        }
        if new.size == old.size {
            if new.root != old.root {
                return Err(loud(
                    RefusalKind::Fork,
                    format!(
                        "log `{origin}` signed two trees of size {}: root {} (cosigned before) and root {} (now)",
                        new.size, b64(&old.root), b64(&new.root)
                    ),
                ));
            }
            return Ok(());
        }
        if old.size == 0 {
            return Ok(()); // every tree extends the empty one
        }
        let proof = match proof {
            Some(p) if p.old_size == old.size && p.new_size == new.size => p,
            Some(p) => {
                return Err(refused(
                    RefusalKind::ProofRequired,
                    format!(
                        "the consistency proof is from size {} to {}; log `{origin}` needs one from size {} (cosigned) to {}",
                        p.old_size, p.new_size, old.size, new.size
                    ),
                    None,
                ))
            }
            None => {
                return Err(refused(
                    RefusalKind::ProofRequired,
                    format!(
                        "log `{origin}` grew from size {} to {}: a consistency proof between them is needed",
                        old.size, new.size
                    ),
                    None,
                ))
            }
        };
        merkle::verify_consistency(old.size, new.size, &old.root, &new.root, &proof.path).map_err(
            |e| {
                loud(
                    RefusalKind::Inconsistent,
                    format!(
                        "the proof that size {} (root {}) extends size {} (root {}) of log `{origin}` does not verify: {e}",
                        new.size, b64(&new.root), old.size, b64(&old.root)
                    ),
                )
            },
        )
    }
}

fn refused(kind: RefusalKind, message: String, evidence: Option<PathBuf>) -> Error {
    Error::WitnessRefused(Refusal {
        kind,
        message,
        evidence,
    })
}
