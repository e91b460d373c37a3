//! Batches: appends that land together or not at all, owned by their caller, and the
//! bulk appends built on them.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::append::Appended;
use crate::error::{Error, Result};
use crate::event::{Event, NewEvent};
use crate::ledger::{thread_mark, BatchOwner, Ledger};
use crate::notice::{Notice, NoticeDef};
use crate::proofs::Head;
use crate::purpose::{Purpose, PurposeDef};
use crate::registry::Registered;

/// The right to act inside one open batch; see [`Ledger::begin_batch`]. Not `Clone`:
/// whoever holds it owns the batch.
#[derive(Debug)]
pub struct BatchToken {
    id: u64,
    live: Arc<AtomicBool>,
}

impl Drop for BatchToken {
    /// A token dropped without [`Ledger::commit_batch`] or [`Ledger::rollback_batch`]
    /// abandons its batch: the next caller rolls it back instead of waiting forever.
    fn drop(&mut self) {
        self.live.store(false, Ordering::Release);
    }
}

static NEXT_BATCH: AtomicU64 = AtomicU64::new(1);

impl Ledger {
    // ---- batches ---------------------------------------------------------------

    /// Opens a batch owned by the caller: appends made through it land together on
    /// [`Batch::commit`] or not at all ([`Batch::rollback`], or dropping it). While it
    /// is open other threads' calls on this ledger wait (at most the busy timeout);
    /// a call on the ledger itself from the thread that holds the batch is refused
    /// rather than left to deadlock.
    ///
    /// # Errors
    /// As [`Ledger::begin_batch`].
    pub fn batch(&self) -> Result<Batch<'_>> {
        Ok(Batch {
            ledger: self,
            token: Some(self.begin_batch()?),
        })
    }

    /// The low-level form of [`Ledger::batch`] for bindings that keep the batch in a
    /// handle of their own: returns the token that [`Ledger::append_in`],
    /// [`Ledger::commit_batch`] and [`Ledger::rollback_batch`] take.
    ///
    /// # Errors
    /// [`Batch`](crate::ErrorKind::Batch) when this thread already holds an open batch
    /// on this ledger; [`Busy`](crate::ErrorKind::Busy) when another caller's batch or
    /// another process's writer keeps the ledger past the busy timeout; the
    /// [ledger's errors](crate#errors). (On a ledger opened read-only the batch opens,
    /// and its writes fail with [`ReadOnly`](crate::ErrorKind::ReadOnly).)
    pub fn begin_batch(&self) -> Result<BatchToken> {
        let mut slot = self.wait_turn(None)?;
        let inner = slot.inner.as_mut().ok_or(Error::Closed)?;
        inner.store.begin_write()?;
        inner.batch_aborted = None;
        let id = NEXT_BATCH.fetch_add(1, Ordering::Relaxed);
        let live = Arc::new(AtomicBool::new(true));
        slot.batch = Some(BatchOwner {
            id,
            thread: thread_mark(),
            live: Arc::clone(&live),
        });
        Ok(BatchToken { id, live })
    }

    /// Commits the batch of `token`. A failed commit rolls the batch back: nothing of
    /// it lands, and the token is spent either way.
    ///
    /// # Errors
    /// [`Batch`](crate::ErrorKind::Batch) when the batch was aborted by an earlier
    /// failure or has already ended; the [ledger's and write errors](crate#errors) of
    /// the commit itself.
    pub fn commit_batch(&self, token: BatchToken) -> Result<()> {
        self.end_batch(token, true)
    }

    /// Discards the batch of `token`.
    ///
    /// # Errors
    /// [`Batch`](crate::ErrorKind::Batch) when the batch has already ended;
    /// [`Closed`](crate::ErrorKind::Closed) after [`Ledger::close`] (which rolled it
    /// back).
    pub fn rollback_batch(&self, token: BatchToken) -> Result<()> {
        self.end_batch(token, false)
    }

    fn end_batch(&self, token: BatchToken, commit: bool) -> Result<()> {
        let mut slot = self.wait_turn(Some(token.id))?;
        slot.batch = None;
        let inner = slot.inner.as_mut().ok_or(Error::Closed)?;
        let result = match (commit, inner.batch_aborted.take()) {
            (false, _) => Ok(()),
            (true, Some(why)) => Err(Error::Batch(format!(
                "the batch was aborted ({why}); nothing was committed"
            ))),
            (true, None) => inner.store.commit().and_then(|()| inner.store.check_wal()),
        };
        if commit && result.is_ok() {
            inner.store.end_write();
        } else {
            inner.discard_batch();
        }
        drop(slot);
        self.turn.notify_all();
        result
    }

    /// Appends an event inside the batch of `token`.
    ///
    /// # Errors
    /// As [`Ledger::append`]; a refused event leaves the batch's other appends as
    /// they were.
    pub fn append_in(&self, token: &BatchToken, event: NewEvent) -> Result<Event> {
        self.append_outcome_in(token, event).map(|a| a.event)
    }

    /// [`Ledger::append_in`], saying whether the event is new or already on record
    /// under its source id (before the batch, or earlier in it): the token form of
    /// [`Batch::append_outcome`], for bindings that keep the token.
    ///
    /// # Errors
    /// As [`Ledger::append_in`].
    pub fn append_outcome_in(&self, token: &BatchToken, event: NewEvent) -> Result<Appended> {
        self.append_as(Some(token.id), event)
    }

    /// Registers a purpose inside the batch of `token`.
    ///
    /// # Errors
    /// As [`Ledger::register_purpose`].
    pub fn register_purpose_in(&self, token: &BatchToken, def: PurposeDef) -> Result<Purpose> {
        self.register_purpose_outcome_in(token, def)
            .map(|r| r.value)
    }

    /// [`Ledger::register_purpose_in`], saying whether a new version was appended:
    /// the token form of [`Batch::register_purpose_outcome`].
    ///
    /// # Errors
    /// As [`Ledger::register_purpose`].
    pub fn register_purpose_outcome_in(
        &self,
        token: &BatchToken,
        def: PurposeDef,
    ) -> Result<Registered<Purpose>> {
        self.register_purpose_as(Some(token.id), def)
    }

    /// Registers a notice inside the batch of `token`.
    ///
    /// # Errors
    /// As [`Ledger::register_notice`].
    pub fn register_notice_in(&self, token: &BatchToken, def: NoticeDef) -> Result<Notice> {
        self.register_notice_outcome_in(token, def).map(|r| r.value)
    }

    /// [`Ledger::register_notice_in`], saying whether the notice was appended: the
    /// token form of [`Batch::register_notice_outcome`].
    ///
    /// # Errors
    /// As [`Ledger::register_notice`].
    pub fn register_notice_outcome_in(
        &self,
        token: &BatchToken,
        def: NoticeDef,
    ) -> Result<Registered<Notice>> {
        self.register_notice_as(Some(token.id), def)
    }

    /// Registers a downstream system inside the batch of `token`.
    ///
    /// # Errors
    /// As [`Ledger::register_downstream`].
    pub fn register_downstream_in(
        &self,
        token: &BatchToken,
        def: crate::DownstreamDef,
        recorded_by: crate::Actor,
    ) -> Result<crate::Downstream> {
        self.register_downstream_outcome_in(token, def, recorded_by)
            .map(|r| r.value)
    }

    /// [`Ledger::register_downstream_in`], saying whether a new version was appended:
    /// the token form of [`Batch::register_downstream_outcome`].
    ///
    /// # Errors
    /// As [`Ledger::register_downstream`].
    pub fn register_downstream_outcome_in(
        &self,
        token: &BatchToken,
        def: crate::DownstreamDef,
        recorded_by: crate::Actor,
    ) -> Result<Registered<crate::Downstream>> {
        self.register_downstream_as(Some(token.id), def, recorded_by)
    }

    /// The head inside the batch of `token` (its appends included).
    ///
    /// # Errors
    /// The [ledger's errors](crate#errors).
    pub fn head_in(&self, token: &BatchToken) -> Result<Head> {
        self.read(Some(token.id), |inner, _| inner.head())
    }

    /// Appends every event or none: the batch API for imports.
    ///
    /// # Errors
    /// Those of [`Ledger::begin_batch`]; then those of [`Ledger::append`] for the first
    /// event refused, or of [`Ledger::commit_batch`]. Either way nothing was written.
    pub fn append_many(&self, events: impl IntoIterator<Item = NewEvent>) -> Result<Vec<Event>> {
        self.append_many_outcome(events)
            .map(|all| all.into_iter().map(|a| a.event).collect())
    }

    /// [`Ledger::append_many`], saying of each event whether it is new or was already
    /// on record under its source id (a retried import: every one `new: false`).
    ///
    /// # Errors
    /// As [`Ledger::append_many`]: those of [`Ledger::batch`], then those of
    /// [`Ledger::append`] for the first event refused or of [`Ledger::commit_batch`];
    /// either way nothing was written.
    pub fn append_many_outcome(
        &self,
        events: impl IntoIterator<Item = NewEvent>,
    ) -> Result<Vec<Appended>> {
        let batch = self.batch()?;
        let mut out = Vec::new();
        for e in events {
            out.push(batch.append_outcome(e)?);
        }
        batch.commit()?;
        Ok(out)
    }

    /// Appends a long run of events in chunks of at most `chunk` events, each chunk
    /// committed on its own, so the write lock is never held for long: between chunks
    /// other writers (a withdrawal from the portal) get in. Readers see whole chunks
    /// appear. Stops at the first error; the events of earlier chunks stay committed
    /// and are returned in the error's place by [`ChunkedError`].
    ///
    /// # Errors
    /// A [`ChunkedError`]: in its `error`, why the failing chunk was refused (as
    /// [`Ledger::append_many`]); in its `committed`, the events that landed before.
    pub fn append_chunked(
        &self,
        events: impl IntoIterator<Item = NewEvent>,
        chunk: usize,
    ) -> std::result::Result<Vec<Event>, ChunkedError> {
        let events_of = |all: Vec<Appended>| all.into_iter().map(|a| a.event).collect();
        self.append_chunked_outcome(events, chunk)
            .map(events_of)
            .map_err(|e| ChunkedError {
                committed: events_of(e.committed),
                error: e.error,
            })
    }

    /// [`Ledger::append_chunked`], saying of each event whether it is new or was
    /// already on record under its source id, so a retried import can count what it
    /// added.
    ///
    /// # Errors
    /// A [`ChunkedError`] with the outcomes of the chunks committed before the failure
    /// and the error of [`Ledger::append_many`] that stopped the next chunk.
    pub fn append_chunked_outcome(
        &self,
        events: impl IntoIterator<Item = NewEvent>,
        chunk: usize,
    ) -> std::result::Result<Vec<Appended>, ChunkedError<Appended>> {
        let mut done: Vec<Appended> = Vec::new();
        let mut iter = events.into_iter();
        loop {
            let part: Vec<NewEvent> = iter.by_ref().take(chunk.max(1)).collect();
            if part.is_empty() {
                return Ok(done);
            }
            match self.append_many_outcome(part) {
                Ok(evs) => done.extend(evs),
                Err(error) => {
                    return Err(ChunkedError {
                        committed: done,
                        error,
                    })
                }
            }
            // Let a waiting writer (another thread or process) take the lock before
            // the next chunk: lock waiters poll at most every millisecond.
            std::thread::sleep(CHUNK_PAUSE);
        }
    }
}

/// How long a chunked import pauses between chunks ([`Ledger::append_chunked`], and
/// `consent import`): long enough for a waiting writer, which polls the lock file at
/// least every millisecond, to take the lock.
pub const CHUNK_PAUSE: Duration = Duration::from_millis(2);

/// The error of [`Ledger::append_chunked`] (and, with `T` = [`Appended`], of
/// [`Ledger::append_chunked_outcome`]): what failed, and what was committed first.
#[derive(Debug)]
pub struct ChunkedError<T = Event> {
    /// The events of the chunks committed before the failure.
    pub committed: Vec<T>,
    /// Why the next chunk failed (none of it was committed).
    pub error: Error,
}

impl<T> std::fmt::Display for ChunkedError<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (after {} events were committed)",
            self.error,
            self.committed.len()
        )
    }
}

impl<T: std::fmt::Debug> std::error::Error for ChunkedError<T> {}

/// A batch owned by its caller (see [`Ledger::batch`]). Dropped without
/// [`Batch::commit`], it rolls back.
pub struct Batch<'l> {
    ledger: &'l Ledger,
    token: Option<BatchToken>,
}

impl std::fmt::Debug for Batch<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch").field("token", &self.token).finish()
    }
}

impl Batch<'_> {
    fn token(&self) -> &BatchToken {
        self.token
            .as_ref()
            .expect("a batch is live until commit or rollback")
    }

    /// Appends an event to the batch.
    ///
    /// # Errors
    /// As [`Ledger::append_in`].
    pub fn append(&self, event: NewEvent) -> Result<Event> {
        self.ledger.append_in(self.token(), event)
    }

    /// [`Batch::append`], saying whether the event is new or already on record under
    /// its source id (before the batch, or earlier in it).
    ///
    /// # Errors
    /// As [`Ledger::append_in`]: a refused event is undone on its own and the batch
    /// goes on (only a failure that ends SQLite's transaction aborts the batch, and
    /// then its commit fails with [`Batch`](crate::ErrorKind::Batch)).
    pub fn append_outcome(&self, event: NewEvent) -> Result<Appended> {
        self.ledger.append_outcome_in(self.token(), event)
    }

    /// Registers a purpose in the batch.
    ///
    /// # Errors
    /// As [`Ledger::register_purpose`].
    pub fn register_purpose(&self, def: PurposeDef) -> Result<Purpose> {
        self.ledger.register_purpose_in(self.token(), def)
    }

    /// Registers a notice in the batch.
    ///
    /// # Errors
    /// As [`Ledger::register_notice`].
    pub fn register_notice(&self, def: NoticeDef) -> Result<Notice> {
        self.ledger.register_notice_in(self.token(), def)
    }

    /// [`Batch::register_purpose`], saying whether a new version was appended.
    ///
    /// # Errors
    /// Those of [`Ledger::register_purpose`].
    pub fn register_purpose_outcome(&self, def: PurposeDef) -> Result<Registered<Purpose>> {
        self.ledger.register_purpose_outcome_in(self.token(), def)
    }

    /// [`Batch::register_notice`], saying whether the notice was appended.
    ///
    /// # Errors
    /// Those of [`Ledger::register_notice`].
    pub fn register_notice_outcome(&self, def: NoticeDef) -> Result<Registered<Notice>> {
        self.ledger.register_notice_outcome_in(self.token(), def)
    }

    /// [`Batch::register_downstream`], saying whether a new version was appended.
    ///
    /// # Errors
    /// Those of [`Ledger::register_downstream`].
    pub fn register_downstream_outcome(
        &self,
        def: crate::DownstreamDef,
        recorded_by: crate::Actor,
    ) -> Result<Registered<crate::Downstream>> {
        self.ledger
            .register_downstream_outcome_in(self.token(), def, recorded_by)
    }

    /// Registers a downstream system in the batch.
    ///
    /// # Errors
    /// As [`Ledger::register_downstream`].
    pub fn register_downstream(
        &self,
        def: crate::DownstreamDef,
        recorded_by: crate::Actor,
    ) -> Result<crate::Downstream> {
        self.ledger
            .register_downstream_in(self.token(), def, recorded_by)
    }

    /// The current version of a downstream as the batch sees it, if registered.
    pub(crate) fn current_downstream(&self, id: &str) -> Result<Option<crate::Downstream>> {
        self.ledger.read(Some(self.token().id), |inner, _| {
            Ok(inner
                .downstream_registry(None)?
                .versions
                .get(id)
                .and_then(|v| v.last().cloned()))
        })
    }

    /// The head including the batch's appends.
    ///
    /// # Errors
    /// The [ledger's errors](crate#errors).
    pub fn head(&self) -> Result<Head> {
        self.ledger.head_in(self.token())
    }

    /// Commits every append of the batch.
    ///
    /// # Errors
    /// As [`Ledger::commit_batch`]: on an error nothing of the batch landed.
    #[allow(
        clippy::missing_panics_doc,
        reason = "never panics: only commit and rollback take the token, and they consume the batch"
    )]
    pub fn commit(mut self) -> Result<()> {
        let token = self.token.take().expect("live");
        self.ledger.commit_batch(token)
    }

    /// Discards every append of the batch.
    ///
    /// # Errors
    /// As [`Ledger::rollback_batch`].
    #[allow(
        clippy::missing_panics_doc,
        reason = "never panics: only commit and rollback take the token, and they consume the batch"
    )]
    pub fn rollback(mut self) -> Result<()> {
        let token = self.token.take().expect("live");
        self.ledger.rollback_batch(token)
    }
}

impl Drop for Batch<'_> {
    fn drop(&mut self) {
        if let Some(token) = self.token.take() {
            let _ = self.ledger.rollback_batch(token);
        }
    }
}
