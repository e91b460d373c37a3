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
    pub fn batch(&self) -> Result<Batch<'_>> {
        Ok(Batch {
            ledger: self,
            token: Some(self.begin_batch()?),
        })
    }

    /// The low-level form of [`Ledger::batch`] for bindings that keep the batch in a
    /// handle of their own: returns the token that [`Ledger::append_in`],
    /// [`Ledger::commit_batch`] and [`Ledger::rollback_batch`] take.
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
    pub fn commit_batch(&self, token: BatchToken) -> Result<()> {
        self.end_batch(token, true)
    }

    /// Discards the batch of `token`.
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
    pub fn append_in(&self, token: &BatchToken, event: NewEvent) -> Result<Event> {
        self.append_outcome_in(token, event).map(|a| a.event)
    }

    /// [`Ledger::append_in`], saying whether the event is new or was already on record
    /// under its source id (in the ledger, or earlier in the batch), as
    /// [`Ledger::append_outcome`] does.
    pub fn append_outcome_in(&self, token: &BatchToken, event: NewEvent) -> Result<Appended> {
        self.append_as(Some(token.id), event)
    }

    /// Registers a purpose inside the batch of `token`.
    pub fn register_purpose_in(&self, token: &BatchToken, def: PurposeDef) -> Result<Purpose> {
        self.register_purpose_as(Some(token.id), def)
    }

    /// Registers a notice inside the batch of `token`.
    pub fn register_notice_in(&self, token: &BatchToken, def: NoticeDef) -> Result<Notice> {
        self.register_notice_as(Some(token.id), def)
    }

    /// Registers a downstream system inside the batch of `token`.
    pub fn register_downstream_in(
        &self,
        token: &BatchToken,
        def: crate::DownstreamDef,
        recorded_by: crate::Actor,
    ) -> Result<crate::Downstream> {
        self.register_downstream_as(Some(token.id), def, recorded_by)
    }

    /// The head inside the batch of `token` (its appends included).
    pub fn head_in(&self, token: &BatchToken) -> Result<Head> {
        self.read(Some(token.id), |inner, _| inner.head())
    }

    /// Appends every event or none: the batch API for imports.
    pub fn append_many(&self, events: impl IntoIterator<Item = NewEvent>) -> Result<Vec<Event>> {
        let batch = self.batch()?;
        let mut out = Vec::new();
        for e in events {
            out.push(batch.append(e)?);
        }
        batch.commit()?;
        Ok(out)
    }

    /// Appends a long run of events in chunks of at most `chunk` events, each chunk
    /// committed on its own, so the write lock is never held for long: between chunks
    /// other writers (a withdrawal from the portal) get in. Readers see whole chunks
    /// appear. Stops at the first error; the events of earlier chunks stay committed
    /// and are returned in the error's place by [`ChunkedError`].
    pub fn append_chunked(
        &self,
        events: impl IntoIterator<Item = NewEvent>,
        chunk: usize,
    ) -> std::result::Result<Vec<Event>, ChunkedError> {
        let mut done: Vec<Event> = Vec::new();
        let mut iter = events.into_iter();
        loop {
            let part: Vec<NewEvent> = iter.by_ref().take(chunk.max(1)).collect();
            if part.is_empty() {
                return Ok(done);
            }
            match self.append_many(part) {
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

/// The error of [`Ledger::append_chunked`]: what failed, and what was committed first.
#[derive(Debug)]
pub struct ChunkedError {
    /// The events of the chunks committed before the failure.
    pub committed: Vec<Event>,
    /// Why the next chunk failed (none of it was committed).
    pub error: Error,
}

impl std::fmt::Display for ChunkedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (after {} events were committed)",
            self.error,
            self.committed.len()
        )
    }
}

impl std::error::Error for ChunkedError {}

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
    pub fn append(&self, event: NewEvent) -> Result<Event> {
        self.ledger.append_in(self.token(), event)
    }

    /// Registers a purpose in the batch.
    pub fn register_purpose(&self, def: PurposeDef) -> Result<Purpose> {
        self.ledger.register_purpose_in(self.token(), def)
    }

    /// Registers a notice in the batch.
    pub fn register_notice(&self, def: NoticeDef) -> Result<Notice> {
        self.ledger.register_notice_in(self.token(), def)
    }

    /// Registers a downstream system in the batch.
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
    pub fn head(&self) -> Result<Head> {
        self.ledger.head_in(self.token())
    }

    /// Commits every append of the batch.
    pub fn commit(mut self) -> Result<()> {
        let token = self.token.take().expect("live");
        self.ledger.commit_batch(token)
    }

    /// Discards every append of the batch.
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
