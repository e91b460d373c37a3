//! Erasure: blanking a subject's personal fields while every hash still verifies,
//! readmitting an erased subject, and truncating the WAL so the erased values are
//! gone from every file.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::canonical::personal_digest;
use crate::error::{Error, ErrorKind, Result};
use crate::event::{check_id, Actor, Event, EventKind};
use crate::ledger::{Inner, Ledger};
use crate::rules::{check_erasure, check_readmission};
use crate::store::RawRow;

/// What [`Ledger::erase_subject`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureReport {
    /// The `subject_erased` event.
    pub event_id: Uuid,
    /// Its sequence number.
    pub seq: u64,
    /// Number of events whose personal fields were blanked.
    pub events_erased: u64,
    /// Whether the erasure is complete: the WAL was checkpointed and truncated, so the
    /// erased values are gone from every file. False ("pending") when another
    /// connection kept an old snapshot open for longer than the erasure wait; finish
    /// it with [`Ledger::complete_erasures`] (`consent complete-erasures`).
    pub wal_truncated: bool,
}

/// How [`Ledger::erase_subject_with`] erases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErasureOptions {
    /// Record the erasure even when the ledger holds no event about the id. Without
    /// it such an erasure is refused: it is most likely a mistyped id, and an erased
    /// id cannot consent again until it is readmitted.
    pub force: bool,
}

/// What erasing a subject would blank ([`Ledger::erasure_preview`], a dry run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErasurePreview {
    /// Whether the subject is erased already (then nothing would change).
    pub already_erased: bool,
    /// The events whose personal fields would be blanked, in order.
    pub events: Vec<Event>,
}

/// What happened to one id of a bulk erasure ([`Ledger::erase_subjects`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureOutcome {
    /// The id as given.
    pub subject: String,
    /// What happened.
    #[serde(flatten)]
    pub result: ErasureResult,
}

/// The outcome of erasing one id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ErasureResult {
    /// Erased by the `subject_erased` event at `seq`.
    Erased {
        /// The erasure event's sequence number.
        seq: u64,
        /// How many events were blanked.
        events_erased: u64,
    },
    /// No event names the id, so nothing was recorded (force to erase anyway).
    Unknown,
    /// Erased before; nothing was recorded.
    AlreadyErased,
    /// Refused (a malformed id, say); nothing was recorded for this id.
    Failed {
        /// Why.
        error: String,
    },
}

/// The report of a bulk erasure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkErasure {
    /// One line per id, in the order given.
    pub outcomes: Vec<ErasureOutcome>,
    /// Whether the WAL was truncated afterwards, so the erased values are gone from
    /// every file (see [`ErasureReport::wal_truncated`]).
    pub wal_truncated: bool,
}

impl Ledger {
    /// Erases a subject: blanks subject, source id, evidence and salt in every event
    /// about them (their digests stay, so every hash still verifies), drops their
    /// materialized state, and appends a `subject_erased` event whose hashed fields
    /// name the subject's keyed pseudonym and every event it blanked — so a blanked
    /// row is provably part of an erasure and later grants are refused (only the kinds
    /// [`EventKind::accepted_after_erasure`] are recorded, blank). Then it
    /// truncates the WAL, retrying for up to the erasure wait while another
    /// connection holds an old snapshot; [`ErasureReport::wal_truncated`] says whether
    /// the erasure is complete or still pending.
    ///
    /// An id the ledger holds no event about is refused: use
    /// [`Ledger::erase_subject_with`] and [`ErasureOptions::force`] to erase it anyway.
    ///
    /// # Errors
    /// Refused with nothing written:
    /// - [`NotFound`](crate::ErrorKind::NotFound): no event names the subject (and the
    ///   erasure is not forced);
    /// - [`SubjectErased`](crate::ErrorKind::SubjectErased): erased already;
    /// - [`InvalidArgument`](crate::ErrorKind::InvalidArgument): the
    ///   [id errors](crate#errors) for the subject, an `actor` that does not read back
    ///   as itself, an empty reason;
    /// - the [ledger's, write and subject errors](crate#errors).
    ///
    /// A WAL that could not be truncated is no error: the erasure is recorded, and
    /// [`ErasureReport::wal_truncated`] is false.
    pub fn erase_subject(
        &self,
        subject: &str,
        reason: &str,
        actor: Actor,
    ) -> Result<ErasureReport> {
        self.erase_subject_with(subject, reason, actor, ErasureOptions::default())
    }

    /// [`Ledger::erase_subject`] with options.
    ///
    /// # Errors
    /// As [`Ledger::erase_subject`].
    pub fn erase_subject_with(
        &self,
        subject: &str,
        reason: &str,
        actor: Actor,
        options: ErasureOptions,
    ) -> Result<ErasureReport> {
        let mut report = self.erase_recorded(subject, reason, &actor, options)?;
        report.wal_truncated = self.finish_erasures();
        Ok(report)
    }

    /// Truncates the WAL after erasures, waiting up to the erasure wait. The erasures
    /// are recorded whatever happens here, so a failure only leaves them pending
    /// (finished by [`Ledger::complete_erasures`]): it is reported, not returned.
    fn finish_erasures(&self) -> bool {
        let wait = self
            .with(None, |inner| Ok(inner.erasure_wait))
            .unwrap_or_default();
        self.complete_erasures(wait).unwrap_or(false)
    }

    /// What erasing `subject` would blank, without writing anything (a dry run).
    ///
    /// # Errors
    /// The [id errors](crate#errors) for the subject; the
    /// [ledger's and subject errors](crate#errors).
    pub fn erasure_preview(&self, subject: &str) -> Result<ErasurePreview> {
        check_id("subject", subject)?;
        self.read(None, |inner, _| {
            Ok(ErasurePreview {
                already_erased: inner.is_erased(subject)?,
                events: inner.store.events_naming(subject)?,
            })
        })
    }

    /// Erases many subjects (a retention run from a file of ids), each in its own
    /// transaction, and reports every id: erased, unknown (refused unless forced),
    /// already erased, or failed. One truncation of the WAL follows.
    ///
    /// # Errors
    /// [`InvalidArgument`](crate::ErrorKind::InvalidArgument) for an `actor` that does
    /// not read back as itself or an empty reason, before any id is tried. An id's own
    /// refusal (unknown, erased already, malformed) is reported in its outcome, not
    /// returned. When the ledger itself fails (the [ledger's, write and subject
    /// errors](crate#errors)) the run stops: on the first id that error is returned;
    /// later, it is that id's [`ErasureResult::Failed`] and the report ends there.
    pub fn erase_subjects<S: AsRef<str>>(
        &self,
        subjects: &[S],
        reason: &str,
        actor: Actor,
        options: ErasureOptions,
    ) -> Result<BulkErasure> {
        check_erasure(&actor, reason)?;
        let mut outcomes = Vec::with_capacity(subjects.len());
        for s in subjects {
            let subject = s.as_ref();
            let result = match self.erase_recorded(subject, reason, &actor, options) {
                Ok(r) => ErasureResult::Erased {
                    seq: r.seq,
                    events_erased: r.events_erased,
                },
                Err(Error::NotFound(_)) => ErasureResult::Unknown,
                Err(Error::SubjectErased) => ErasureResult::AlreadyErased,
                // The ledger itself failed (full disk, closed, key): stop here, as the
                // ids after this one would fail the same way; report what was done.
                Err(e) if e.kind() != ErrorKind::InvalidArgument => {
                    if outcomes.is_empty() {
                        return Err(e);
                    }
                    outcomes.push(ErasureOutcome {
                        subject: subject.to_string(),
                        result: ErasureResult::Failed {
                            error: e.to_string(),
                        },
                    });
                    break;
                }
                Err(e) => ErasureResult::Failed {
                    error: e.to_string(),
                },
            };
            outcomes.push(ErasureOutcome {
                subject: subject.to_string(),
                result,
            });
        }
        Ok(BulkErasure {
            outcomes,
            wal_truncated: self.finish_erasures(),
        })
    }

    /// A returning student: an erased id may consent again. Appends a
    /// `subject_readmitted` event (the erasure's marker, the reason and the erasure
    /// it ends; no personal field) and lifts the refusal of new grants. The old events
    /// stay blanked; [`Ledger::history`] shows them and the new ones.
    ///
    /// # Errors
    /// [`InvalidArgument`](crate::ErrorKind::InvalidArgument): the subject is not
    /// erased; the [id errors](crate#errors) for it, an `actor` that is the subject or
    /// does not read back as itself, an empty reason. And the
    /// [ledger's, write and subject errors](crate#errors).
    pub fn readmit_subject(&self, subject: &str, reason: &str, actor: Actor) -> Result<Event> {
        check_readmission(subject, &actor, reason)?;
        self.write(None, |inner, now| {
            let marker = inner.erased_marker(subject)?.ok_or_else(|| {
                Error::invalid("the subject is not erased: there is nothing to readmit")
            })?;
            let erasure_seq = inner
                .store
                .erasure_seq(&marker)?
                .ok_or_else(|| Error::Corrupt("an erasure marker vanished".into()))?;
            let details = serde_json::json!({ "reason": reason, "erasure_seq": erasure_seq });
            let mut row = RawRow {
                kind: EventKind::SubjectReadmitted.as_str().into(),
                recorded_by: actor.to_string(),
                details: Some(details.to_string()),
                subject_key: Some(marker.to_vec()),
                ..inner.blank_row(now)
            };
            inner.store.append(&mut row)?;
            inner.store.delete_erased(&marker)?;
            row.to_event()
        })
    }

    /// Records one erasure (the write; the WAL truncation is the caller's).
    fn erase_recorded(
        &self,
        subject: &str,
        reason: &str,
        actor: &Actor,
        options: ErasureOptions,
    ) -> Result<ErasureReport> {
        check_id("subject", subject)?;
        check_erasure(actor, reason)?;
        self.write(None, |inner, now| {
            let key = inner.key()?;
            if inner.erased_marker(subject)?.is_some() {
                return Err(Error::SubjectErased);
            }
            let store = &inner.store;
            let marker = key.subject_key(subject);
            let seqs = store.seqs_naming(subject)?;
            if seqs.is_empty() && !options.force {
                return Err(Error::NotFound(
                    "no event names this subject: nothing to erase (check the id; force the erasure to record it anyway)"
                        .into(),
                ));
            }
            // The pseudonymous key keeps the blanked events findable by `history`.
            let n = store.blank_subject(subject, &marker)?;
            debug_assert_eq!(n, seqs.len());
            store.clear_current_of_subject(subject)?;
            // The erasure event carries a digest whose salt is thrown away at once.
            let salt: [u8; 16] = rand::random();
            let details = serde_json::json!({
                "reason": reason,
                "events_erased": seqs.len(),
                "erased_seqs": seqs,
            })
            .to_string();
            let mut row = RawRow {
                kind: EventKind::SubjectErased.as_str().into(),
                personal_digest: Some(personal_digest(&salt, Some(subject), None, None).to_vec()),
                recorded_by: actor.to_string(),
                details: Some(details),
                subject_key: Some(marker.to_vec()),
                ..inner.blank_row(now)
            };
            let id = Uuid::from_slice(&row.id).expect("16 bytes");
            let seq = store.append(&mut row)?;
            store.insert_erased(&marker, seq)?;
            Ok(ErasureReport {
                event_id: id,
                seq,
                events_erased: seqs.len() as u64,
                wal_truncated: false,
            })
        })
    }

    /// Finishes pending erasures: checkpoints the WAL into the database file and
    /// truncates it, retrying until `wait` has passed while another connection holds
    /// an old snapshot (which pins the erased values in the WAL). Returns whether the
    /// WAL is now empty. Safe to call at any time; `consent complete-erasures` calls it.
    ///
    /// On PostgreSQL: vacuums the tables that held erased values, retrying while an
    /// older snapshot keeps old row versions alive; a role that does not own the
    /// tables gets [`Error::ReadOnly`] at once (docs/POSTGRES.md "Erasure").
    ///
    /// # Errors
    /// As [`Ledger::checkpoint`]. A reader or writer elsewhere that outlasts `wait` is
    /// no error: the answer is `false`.
    pub fn complete_erasures(&self, wait: Duration) -> Result<bool> {
        let deadline = Instant::now() + wait;
        loop {
            if self.checkpoint()? {
                return Ok(true);
            }
            if Instant::now() >= deadline {
                return Ok(false);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Removes what erasures left in the storage's free space, as far as the backend
    /// can: on PostgreSQL, rewrites the tables that hold subjects' values into new
    /// files (`VACUUM FULL`, which locks out readers and writers while it runs; only
    /// the tables' owner may); on SQLite, which zeroes freed space as it frees it, the
    /// same as [`Ledger::checkpoint`]. Returns whether nothing erased is left in the
    /// tables' files (docs/POSTGRES.md "Erasure": the WAL and backups are the DBA's).
    ///
    /// # Errors
    /// As [`Ledger::checkpoint`].
    pub fn rewrite_erased(&self) -> Result<bool> {
        self.with(None, |inner| inner.store.rewrite_erased())
    }

    /// Checkpoints the WAL into the database file and truncates it, once. Returns
    /// whether the checkpoint completed (false if another connection kept a read open).
    ///
    /// # Errors
    /// [`ReadOnly`](crate::ErrorKind::ReadOnly) on PostgreSQL for a role that does not
    /// own the ledger's tables; the [ledger's errors](crate#errors) (not [`Busy`](crate::ErrorKind::Busy) for
    /// another connection's lock or snapshot: that is `false`).
    pub fn checkpoint(&self) -> Result<bool> {
        self.with(None, |inner| inner.store.checkpoint())
    }
}

impl Inner {
    /// The erasure marker of `subject` if it was erased: its keyed pseudonym, or for a
    /// subject erased before a migration, the version-1 marker.
    pub(crate) fn erased_marker(&self, subject: &str) -> Result<Option<[u8; 32]>> {
        let key = self.key()?;
        let k = key.subject_key(subject);
        if self.store.is_erased_marker(&k)? {
            return Ok(Some(k));
        }
        if self.legacy_markers {
            let k = key.legacy_marker(subject);
            if self.store.is_erased_marker(&k)? {
                return Ok(Some(k));
            }
        }
        Ok(None)
    }

    pub(crate) fn is_erased(&self, subject: &str) -> Result<bool> {
        Ok(self.erased_marker(subject)?.is_some())
    }
}
