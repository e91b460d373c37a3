//! The [`Ledger`]: appends events under the consent rules and answers questions.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::calendar::{Calendar, DEFAULT_TIME_ZONE};
use crate::canonical::{personal_digest, CANONICAL_VERSION};
use crate::current::{self, CurrentRow, Step};
use crate::error::{Error, Result};
use crate::event::{check_id, Actor, Event, EventKind, NewEvent};
use crate::key::{self, KeySource, PseudonymKey};
use crate::lockfile::WriteLock;
use crate::notice::{Notice, NoticeDef, NoticeRef};
use crate::purpose::{LawfulBasis, Purpose, PurposeDef, PurposeVersions};
use crate::query::{decide, Consenting, ConsentingSubject, Decision, State, Status};
use crate::store::{
    self, event_from_row, Found, LedgerOptions, RawRow, DECIDE_COLUMNS, EVENT_COLUMNS,
};
use crate::timestamp::Timestamp;
use crate::Head;

/// A consent ledger on one SQLite file (or in memory).
///
/// `Ledger` is `Send + Sync`: one connection sits behind a mutex, so threads may share
/// a ledger through an `Arc` and each call is atomic. A [`Batch`] belongs to the caller
/// that opened it: other threads' calls wait until it ends (at most the busy timeout)
/// and never join it, so a rollback can only undo the batch owner's own appends.
/// Many processes may open the same file: writers are serialised by the lock file
/// (`<path>-lock`, see `lockfile.rs`) and SQLite's write lock, and every append reads
/// the next sequence number inside its own write transaction.
pub struct Ledger {
    slot: Mutex<Slot>,
    /// Signalled when a batch ends or the ledger closes.
    turn: Condvar,
    path: Option<PathBuf>,
    busy_timeout: Duration,
}

struct Slot {
    inner: Option<Inner>,
    batch: Option<BatchOwner>,
}

struct BatchOwner {
    id: u64,
    /// The opening thread (see [`thread_mark`]).
    thread: usize,
    /// Cleared when the owner's token is dropped without ending the batch.
    live: Arc<AtomicBool>,
}

/// Tells threads apart without `std::thread::current()`, which allocates a handle
/// that lives until the thread ends (a leak report under valgrind in C programs).
fn thread_mark() -> usize {
    thread_local!(static MARK: u8 = const { 0 });
    MARK.with(|m| m as *const u8 as usize)
}

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

struct Inner {
    conn: Connection,
    /// A simulation's clock; `None` on a real ledger (the system clock).
    clock: Option<Arc<dyn Fn() -> Timestamp + Send + Sync>>,
    /// Whether the ledger was created as a simulation (its hashed first event says so).
    simulated: bool,
    /// The pseudonym key; `None` only when opened read-only without one.
    key: Option<PseudonymKey>,
    /// Whether subjects were erased under schema version 1 (their markers use the
    /// version-1 formula).
    legacy_markers: bool,
    /// The writer lock file (file ledgers opened for writing).
    lock: Option<WriteLock>,
    /// The `-wal` file as our connection uses it (file ledgers), to notice it deleted
    /// under us (`store::WalFile`).
    wal: Option<store::WalFile>,
    /// The schema cookie last checked against the expected schema.
    schema_cookie: Cell<i64>,
    /// Set when SQLite itself aborted the open batch (e.g. on a full disk): every
    /// write then fails until the batch is rolled back, so the batch stays all or nothing.
    batch_aborted: Option<String>,
    /// The configured busy timeout, restored after a short checkpoint wait.
    busy_timeout: Duration,
    erasure_wait: Duration,
    /// Current purpose versions, so a status check does not parse JSON. Emptied when
    /// another connection commits (SQLite's `data_version` moves) or ours rolls back.
    purposes: RefCell<PurposeCache>,
    /// Keeps UUIDv7 ids monotonic within a millisecond, on the ledger's own clock.
    uuid_context: uuid::ContextV7,
    /// The institution's time zone, from the configuration event.
    calendar: Calendar,
}

#[derive(Default)]
struct PurposeCache {
    data_version: i64,
    by_id: HashMap<String, Arc<PurposeVersions>>,
    /// Notices never change once registered, but a rolled-back batch can remove one.
    notices: HashMap<(String, String), Notice>,
}

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
    /// it with [`Ledger::complete_erasures`] (`consent erase --complete`).
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

/// A subject-access copy: everything the ledger holds about one subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubjectExport {
    /// Format marker for the JSON document.
    pub format: String,
    /// The subject.
    pub subject: String,
    /// When the copy was made.
    pub exported_at: Timestamp,
    /// Every event about the subject, in order.
    pub events: Vec<Event>,
    /// Every version of every purpose the events refer to.
    pub purposes: Vec<Purpose>,
    /// Every notice the events refer to.
    pub notices: Vec<Notice>,
    /// Current status per purpose (and recipient) the subject has events for.
    pub statuses: Vec<Status>,
    /// The ledger head when the copy was made.
    pub head: Head,
}

/// The configuration a ledger committed to in its `ledger_configured` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LedgerConfig {
    pub format: String,
    pub schema_version: i64,
    /// `system` or `simulated`.
    pub clock: String,
    /// SHA-256 of the pseudonym key with its domain prefix, hex.
    pub pseudonym_key_id: String,
    /// The institution's time zone (IANA); absent in ledgers created before ledgers
    /// named one, which use [`crate::DEFAULT_TIME_ZONE`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Set on the event a migration appends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrated_from: Option<i64>,
    /// Migration: every blanked version-1 row, as `[row seq, erasure seq]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_before_migration: Option<Vec<[u64; 2]>>,
}

impl Ledger {
    /// Opens the ledger file at `path` with default options, creating it if the path
    /// does not exist.
    pub fn open(path: impl AsRef<Path>) -> Result<Ledger> {
        Self::open_with(path, LedgerOptions::default())
    }

    /// Opens (or, with `options.create`, creates) the ledger at `path`. A version-1
    /// file is migrated in place, in one transaction.
    pub fn open_with(path: impl AsRef<Path>, options: LedgerOptions) -> Result<Ledger> {
        let (conn, found) = store::open_file(path.as_ref(), &options)?;
        // One file, one lock file, one default key, whatever link it was opened by
        // (SQLite, too, puts the WAL beside the real file).
        let real = std::fs::canonicalize(path.as_ref())?;
        let path = real.as_path();
        let lock = if options.read_only {
            None
        } else {
            Some(WriteLock::open(path)?)
        };
        let key_path = match &options.pseudonym_key {
            KeySource::Beside => Some(key::default_key_path(path)),
            KeySource::File(p) => Some(p.clone()),
            _ => None,
        };
        Self::start(
            conn,
            found,
            options,
            lock,
            key_path,
            Some(path.to_path_buf()),
        )
    }

    /// A ledger that lives in memory only.
    pub fn in_memory() -> Result<Ledger> {
        Self::in_memory_with(LedgerOptions::default())
    }

    /// A ledger in memory with options (e.g. a simulated clock).
    pub fn in_memory_with(options: LedgerOptions) -> Result<Ledger> {
        let conn = store::open_memory(&options)?;
        Self::start(conn, Found::Fresh, options, None, None, None)
    }

    fn start(
        conn: Connection,
        found: Found,
        options: LedgerOptions,
        lock: Option<WriteLock>,
        key_path: Option<PathBuf>,
        path: Option<PathBuf>,
    ) -> Result<Ledger> {
        let mut inner = Inner {
            conn,
            clock: options.clock.clone(),
            simulated: false,
            key: None,
            legacy_markers: false,
            lock,
            wal: None,
            schema_cookie: Cell::new(-1),
            batch_aborted: None,
            busy_timeout: options.busy_timeout,
            erasure_wait: options.erasure_wait,
            purposes: RefCell::default(),
            uuid_context: uuid::ContextV7::new(),
            calendar: Calendar::default_zone(),
        };
        inner.setup(found, &options, key_path.as_deref())?;
        if let Some(p) = &path {
            // A read makes SQLite open (and if need be create) the WAL and its index.
            let _: i64 = inner
                .conn
                .query_row("SELECT count(*) FROM meta", [], |r| r.get(0))?;
            inner.wal = Some(store::WalFile::of(p));
        }
        Ok(Ledger {
            slot: Mutex::new(Slot {
                inner: Some(inner),
                batch: None,
            }),
            turn: Condvar::new(),
            path,
            busy_timeout: options.busy_timeout,
        })
    }

    /// The ledger's "now": the system clock, or a simulation's clock.
    /// Callers asking "as known now" about a past moment pass this as `as_known_at`.
    pub fn now(&self) -> Result<Timestamp> {
        self.with(None, |inner| Ok(inner.now()))
    }

    /// Whether this ledger was created as a simulation (its clock is not the system's).
    pub fn is_simulated(&self) -> Result<bool> {
        self.with(None, |inner| Ok(inner.simulated))
    }

    /// The file this ledger is stored in, links resolved (`None` in memory).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Closes the ledger; later calls return [`Error::Closed`]. An open batch is rolled back.
    pub fn close(&self) -> Result<()> {
        let mut slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        let batch = slot.batch.take();
        let closed = match slot.inner.take() {
            Some(mut inner) => {
                if batch.is_some() && !inner.conn.is_autocommit() {
                    let _ = inner.conn.execute_batch("ROLLBACK");
                }
                if let Some(l) = inner.lock.as_mut() {
                    l.release();
                }
                inner.conn.close().map_err(|(_, e)| Error::from(e))
            }
            None => Ok(()),
        };
        drop(slot);
        self.turn.notify_all();
        closed
    }

    /// Runs `f` on the connection once no other caller's batch is open. `owner` is the
    /// batch the caller acts in, if any.
    fn with<T>(&self, owner: Option<u64>, f: impl FnOnce(&mut Inner) -> Result<T>) -> Result<T> {
        let mut slot = self.wait_turn(owner)?;
        let inner = slot.inner.as_mut().ok_or(Error::Closed)?;
        inner.check_wal()?;
        f(inner)
    }

    fn wait_turn(&self, owner: Option<u64>) -> Result<MutexGuard<'_, Slot>> {
        // A panic while holding the lock cannot leave a half-written transaction behind
        // (SQLite rolls it back), so a poisoned lock is safe to reuse.
        let mut slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        let deadline = Instant::now() + self.busy_timeout;
        loop {
            if slot.inner.is_none() {
                return Err(Error::Closed);
            }
            if slot
                .batch
                .as_ref()
                .is_some_and(|b| !b.live.load(Ordering::Acquire))
            {
                // Its token was dropped: nobody can end that batch, so roll it back.
                slot.batch = None;
                if let Some(inner) = slot.inner.as_mut() {
                    inner.discard_batch();
                }
                self.turn.notify_all();
                continue;
            }
            match (&slot.batch, owner) {
                (None, None) => return Ok(slot),
                (None, Some(_)) => return Err(Error::Batch("the batch is no longer open".into())),
                (Some(b), Some(o)) if b.id == o => return Ok(slot),
                (Some(_), Some(_)) => return Err(Error::Batch("the batch is no longer open".into())),
                (Some(b), None) if b.thread == thread_mark() => {
                    return Err(Error::Batch(
                        "this thread has a batch open: make the call through the batch, or end the batch first"
                            .into(),
                    ))
                }
                (Some(_), None) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(Error::Busy(format!(
                            "another caller's batch stayed open for more than {:?}",
                            self.busy_timeout
                        )));
                    }
                    slot = self
                        .turn
                        .wait_timeout(slot, left)
                        .unwrap_or_else(|p| p.into_inner())
                        .0;
                }
            }
        }
    }

    /// Runs `f` in a write transaction (or a savepoint inside the caller's batch): all
    /// of it lands or none of it does. `now` is the record time: the clock, never
    /// earlier than the last record time in the log.
    fn write<T>(
        &self,
        owner: Option<u64>,
        f: impl FnOnce(&Inner, Timestamp) -> Result<T>,
    ) -> Result<T> {
        self.with(owner, |inner| {
            if owner.is_some() {
                if let Some(why) = &inner.batch_aborted {
                    return Err(Error::Batch(format!(
                        "the batch was aborted ({why}); roll it back"
                    )));
                }
                if inner.conn.is_autocommit() {
                    // SQLite ended the batch's transaction (an I/O error, say): a
                    // savepoint now would start and commit a transaction of its own.
                    inner.batch_aborted = Some("SQLite rolled the transaction back".into());
                    return Err(Error::Batch(
                        "the batch was aborted (SQLite rolled its transaction back); roll it back"
                            .into(),
                    ));
                }
                exec(&inner.conn, "SAVEPOINT op")?;
                let result = inner.record_time().and_then(|now| f(inner, now));
                let conn = &inner.conn;
                let undone = match &result {
                    Ok(_) => exec(conn, "RELEASE op"),
                    Err(_) if conn.is_autocommit() => Ok(()),
                    Err(_) => exec(conn, "ROLLBACK TO op").and_then(|()| exec(conn, "RELEASE op")),
                };
                if result.is_err() {
                    inner.forget_purposes();
                }
                // SQLite rolls the whole transaction back on some errors (a full disk):
                // remember it rather than let later appends commit on their own.
                if inner.conn.is_autocommit() || undone.is_err() {
                    let why = match (&result, undone) {
                        (Err(e), _) => e.to_string(),
                        (Ok(_), Err(e)) => e.to_string(),
                        (Ok(_), Ok(())) => "SQLite ended the transaction".into(),
                    };
                    inner.batch_aborted = Some(why.clone());
                    return Err(result.err().unwrap_or(Error::Batch(why)));
                }
                result
            } else {
                inner.begin_write()?;
                let result = {
                    let tx = Tx {
                        conn: &inner.conn,
                        open: true,
                    };
                    inner
                        .record_time()
                        .and_then(|now| f(inner, now))
                        .and_then(|v| tx.commit().map(|()| v))
                        // Committed into a WAL that was deleted under us: not recorded.
                        .and_then(|v| inner.check_wal().map(|()| v))
                };
                if result.is_err() {
                    inner.forget_purposes();
                }
                inner.end_write();
                result
            }
        })
    }

    /// Runs `f` in a read transaction, so every read sees one snapshot.
    fn read<T>(
        &self,
        owner: Option<u64>,
        f: impl FnOnce(&Inner, Timestamp) -> Result<T>,
    ) -> Result<T> {
        self.with(owner, |inner| {
            let now = inner.now();
            if owner.is_some() {
                return f(inner, now);
            }
            let tx = Tx::begin(&inner.conn, "BEGIN")?;
            let v = f(inner, now)?;
            tx.commit()?;
            Ok(v)
        })
    }

    /// Runs `f` without an explicit transaction: for answers that come from one
    /// statement (plus cached registry data), where a snapshot adds only cost.
    fn read_single<T>(
        &self,
        owner: Option<u64>,
        f: impl FnOnce(&Inner, Timestamp) -> Result<T>,
    ) -> Result<T> {
        self.with(owner, |inner| {
            let now = inner.now();
            f(inner, now)
        })
    }

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
        inner.begin_write()?;
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
            (true, None) => exec(&inner.conn, "COMMIT").and_then(|()| inner.check_wal()),
        };
        if commit && result.is_ok() {
            inner.end_write();
        } else {
            inner.discard_batch();
        }
        drop(slot);
        self.turn.notify_all();
        result
    }

    /// Appends an event inside the batch of `token`.
    pub fn append_in(&self, token: &BatchToken, event: NewEvent) -> Result<Event> {
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

    // ---- registry --------------------------------------------------------------

    /// Registers a purpose or a new version of it. Registering an unchanged definition
    /// returns the current version and appends nothing.
    pub fn register_purpose(&self, def: PurposeDef) -> Result<Purpose> {
        self.register_purpose_as(None, def)
    }

    fn register_purpose_as(&self, owner: Option<u64>, def: PurposeDef) -> Result<Purpose> {
        def.validate()?;
        self.write(owner, |inner, now| {
            let previous = inner.purpose(&def.id)?;
            if let Some(p) = &previous {
                if p.latest().def == def {
                    return Ok(p.latest().clone());
                }
            }
            let conn = &inner.conn;
            let version: u32 = conn.query_row(
                "SELECT coalesce(max(version), 0) + 1 FROM purposes WHERE id = ?1",
                [&def.id],
                |r| r.get(0),
            )?;
            let details = serde_json::to_string(&def).map_err(|e| Error::invalid(e.to_string()))?;
            let seq = inner.append_raw(&mut RawRow {
                kind: EventKind::PurposeDefined.as_str().into(),
                purpose: Some(def.id.clone()),
                purpose_version: Some(version.into()),
                details: Some(details.clone()),
                ..inner.blank_row(now)
            })?;
            conn.execute(
                "INSERT INTO purposes(id, version, seq, registered_at, def) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![def.id, version, seq as i64, now.as_millis(), details],
            )?;
            let material_change = previous
                .as_ref()
                .map(|p| crate::purpose::material_changes(&p.latest().def, &def))
                .unwrap_or_default();
            let purpose = Purpose { def, version, seq, registered_at: now, material_change };
            inner.forget_purposes();
            if version > 1 {
                // A new basis changes what every subject's events mean.
                inner.rematerialize(&purpose)?;
            }
            Ok(purpose)
        })
    }

    /// Registers a notice. The same id and version with a different text hash is a conflict.
    pub fn register_notice(&self, def: NoticeDef) -> Result<Notice> {
        self.register_notice_as(None, def)
    }

    fn register_notice_as(&self, owner: Option<u64>, def: NoticeDef) -> Result<Notice> {
        def.validate()?;
        self.write(owner, |inner, now| {
            if let Some(n) = inner.notice(&def.id, &def.version)? {
                if n.def == def {
                    return Ok(n);
                }
                return Err(Error::Conflict(format!(
                    "notice {} version {} is already registered with different content",
                    def.id, def.version
                )));
            }
            let details = serde_json::to_string(&def).map_err(|e| Error::invalid(e.to_string()))?;
            let seq = inner.append_raw(&mut RawRow {
                kind: EventKind::NoticeDefined.as_str().into(),
                notice_id: Some(def.id.clone()),
                notice_version: Some(def.version.clone()),
                notice_sha256: Some(def.sha256.to_vec()),
                details: Some(details.clone()),
                ..inner.blank_row(now)
            })?;
            inner.conn.execute(
                "INSERT INTO notices(id, version, seq, registered_at, def) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![def.id, def.version, seq as i64, now.as_millis(), details],
            )?;
            Ok(Notice { def, seq, registered_at: now })
        })
    }

    /// The current version of a purpose.
    pub fn purpose(&self, id: &str) -> Result<Purpose> {
        self.read(None, |inner, _| {
            inner
                .purpose(id)?
                .map(|p| p.latest().clone())
                .ok_or_else(|| Error::UnknownPurpose(id.into()))
        })
    }

    /// The institution's time zone (IANA name) the ledger committed to in its first
    /// event: academic years end at midnight there.
    pub fn time_zone(&self) -> Result<String> {
        self.with(None, |inner| Ok(inner.calendar.name().to_string()))
    }

    /// The ledger's calendar, to read and show local times as the ledger counts them.
    pub fn calendar(&self) -> Result<Calendar> {
        self.with(None, |inner| Ok(inner.calendar.clone()))
    }

    /// Every version of every purpose, by id then version.
    pub fn purposes(&self) -> Result<Vec<Purpose>> {
        self.read(None, |inner, _| inner.all_purposes(None))
    }

    /// Every registered notice.
    pub fn notices(&self) -> Result<Vec<Notice>> {
        self.read(None, |inner, _| {
            let mut stmt = inner.conn.prepare_cached(
                "SELECT seq, registered_at, def FROM notices ORDER BY id, version",
            )?;
            let rows = stmt.query_map([], notice_row)?;
            rows.map(|r| r?).collect()
        })
    }

    // ---- appends ---------------------------------------------------------------

    /// Appends a consent event after checking it against the rules (see the crate docs).
    /// With a source id already on record, returns the existing event when the content
    /// is the same and [`Error::Conflict`] when it is not.
    pub fn append(&self, event: NewEvent) -> Result<Event> {
        self.append_as(None, event)
    }

    fn append_as(&self, owner: Option<u64>, event: NewEvent) -> Result<Event> {
        check_new_event(&event)?;
        let evidence = event
            .evidence
            .as_ref()
            .map(|v| serde_json::to_string(v).map_err(|e| Error::invalid(e.to_string())))
            .transpose()?;
        self.write(owner, |inner, now| {
            inner.append_event(&event, evidence.as_deref(), now)
        })
    }

    /// Records consent given.
    pub fn give(&self, event: NewEvent) -> Result<Event> {
        self.append(NewEvent {
            kind: EventKind::Given,
            ..event
        })
    }

    /// Records a withdrawal (never refused).
    pub fn withdraw(&self, subject: &str, purpose: &str, recorded_by: Actor) -> Result<Event> {
        self.append(NewEvent::withdraw(subject, purpose).recorded_by(recorded_by))
    }

    // ---- queries ---------------------------------------------------------------

    /// The event with this id.
    pub fn event(&self, id: Uuid) -> Result<Event> {
        self.read(None, |inner, _| {
            let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = ?1");
            inner
                .conn
                .prepare_cached(&sql)?
                .query_row([&id.as_bytes()[..]], event_from_row)
                .optional()?
                .ok_or_else(|| Error::NotFound(format!("event {id}")))
        })
    }

    /// The `ledger_configured` event: the hashed commitment to the pseudonym key's id
    /// and to whether the clock is simulated (receipts carry it with its proof).
    pub fn configuration_event(&self) -> Result<Event> {
        self.read(None, |inner, _| {
            let sql = format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE kind = 'ledger_configured' ORDER BY seq LIMIT 1"
            );
            inner
                .conn
                .prepare_cached(&sql)?
                .query_row([], event_from_row)
                .optional()?
                .ok_or_else(|| Error::Corrupt("the ledger has no `ledger_configured` event".into()))
        })
    }

    /// Status now, from the materialized current state (an index lookup).
    pub fn status(&self, subject: &str, purpose: &str, recipient: Option<&str>) -> Result<Status> {
        check_question(subject, purpose, recipient)?;
        self.read_single(None, |inner, now| {
            inner.status_now(subject, purpose, recipient, now)
        })
    }

    /// Status now of many questions `(subject, purpose, recipient)`, answered in one
    /// read snapshot: the bulk form of [`Ledger::status`] for feeds and bindings, where
    /// a call per question would pay the crossing and the locking each time. The first
    /// question that is invalid (an unknown purpose, an unlisted recipient) fails the
    /// call with that question's error.
    pub fn status_many(&self, questions: &[(&str, &str, Option<&str>)]) -> Result<Vec<Status>> {
        for &(s, p, r) in questions {
            check_question(s, p, r)?;
        }
        self.read(None, |inner, now| {
            questions
                .iter()
                .map(|&(s, p, r)| inner.status_now(s, p, r, now))
                .collect()
        })
    }

    /// Status at `at` as the ledger knew it at `as_known_at` (default: now). Reads only
    /// the events of this subject and purpose.
    pub fn status_at(
        &self,
        subject: &str,
        purpose: &str,
        recipient: Option<&str>,
        at: Timestamp,
        as_known_at: Option<Timestamp>,
    ) -> Result<Status> {
        check_question(subject, purpose, recipient)?;
        self.read(None, |inner, now| {
            let p = inner.asked_purpose(purpose, recipient)?;
            let known = as_known_at.unwrap_or(now);
            if inner.is_erased(subject)? {
                return Ok(erased_status(&p, recipient, at, known));
            }
            let events = inner.events_of(subject, purpose)?;
            Ok(status_from(&p, &events, recipient, at, known))
        })
    }

    /// Every event about a subject, in sequence order (erased events included, with
    /// their personal fields blank, when the subject is erased).
    pub fn history(&self, subject: &str) -> Result<Vec<Event>> {
        check_id("subject", subject)?;
        self.read(None, |inner, _| inner.history(subject))
    }

    /// Every subject with consent in force for `purpose` (and `recipient`) at `at`
    /// (default now) as the ledger knew it at `as_known_at` (default now), with the
    /// head that answered: a past extract reproduced as it was known at the time.
    ///
    /// A purpose that lists recipients must be asked about one of them
    /// ([`Error::UnknownRecipient`] otherwise): a feed that left the recipient out
    /// would not see a withdrawal that named it.
    pub fn consenting(
        &self,
        purpose: &str,
        recipient: Option<&str>,
        at: Option<Timestamp>,
        as_known_at: Option<Timestamp>,
    ) -> Result<Consenting> {
        check_id("purpose", purpose)?;
        if let Some(r) = recipient {
            check_id("recipient", r)?;
        }
        self.read(None, |inner, now| {
            let p = inner.asked_purpose(purpose, recipient)?;
            let at_t = at.unwrap_or(now);
            let known = as_known_at.unwrap_or(now);
            let subjects = if at.is_none() && as_known_at.is_none() {
                inner.consenting_now(&p, recipient, now)?
            } else {
                inner.consenting_at(&p, recipient, at_t, known)?
            };
            Ok(Consenting {
                purpose: purpose.into(),
                recipient: recipient.map(Into::into),
                at: at_t,
                as_known_at: known,
                subjects,
                head: inner.head()?,
            })
        })
    }

    /// Events with `seq >= since`, at most `limit` of them: a change feed. Pass the
    /// `seq + 1` of the last event seen (or a head's size) to continue.
    pub fn changes_since(&self, since: u64, limit: usize) -> Result<Vec<Event>> {
        self.read(None, |inner, _| {
            let sql =
                format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq >= ?1 ORDER BY seq LIMIT ?2");
            let mut stmt = inner.conn.prepare_cached(&sql)?;
            let since = i64::try_from(since).unwrap_or(i64::MAX);
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = stmt.query_map(params![since, limit], event_from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// The subject-access copy: every event, the purposes and notices they refer to,
    /// the current statuses and the head.
    pub fn export_subject(&self, subject: &str) -> Result<SubjectExport> {
        check_id("subject", subject)?;
        self.read(None, |inner, now| {
            let events = inner.history(subject)?;
            let mut purposes = Vec::new();
            let mut notices = Vec::new();
            let mut statuses = Vec::new();
            let mut ids: Vec<&str> = events
                .iter()
                .filter(|e| e.kind.is_subject_event())
                .filter_map(|e| e.purpose.as_deref())
                .collect();
            ids.sort_unstable();
            ids.dedup();
            for id in ids {
                let versions = inner.all_purposes(Some(id))?;
                // A purpose that lists recipients is answered per recipient.
                let listed = versions
                    .last()
                    .map(|p| p.def.recipients.clone())
                    .unwrap_or_default();
                purposes.extend(versions);
                if listed.is_empty() {
                    statuses.push(inner.status_now(subject, id, None, now)?);
                }
                for r in &listed {
                    statuses.push(inner.status_now(subject, id, Some(r), now)?);
                }
            }
            let mut refs: Vec<&NoticeRef> =
                events.iter().filter_map(|e| e.notice.as_ref()).collect();
            refs.sort_by(|a, b| (&a.id, &a.version).cmp(&(&b.id, &b.version)));
            refs.dedup();
            for r in refs {
                if let Some(n) = inner.notice(&r.id, &r.version)? {
                    notices.push(n);
                }
            }
            Ok(SubjectExport {
                format: "consent-ledger/subject-export/v1".into(),
                subject: subject.into(),
                exported_at: now,
                events,
                purposes,
                notices,
                statuses,
                head: inner.head()?,
            })
        })
    }

    // ---- integrity -------------------------------------------------------------

    /// The current head: (size, root). Keep it elsewhere to detect a rewritten tail later.
    pub fn head(&self) -> Result<Head> {
        self.read(None, |inner, _| inner.head())
    }

    /// Runs `f` with the connection in a read transaction (for `chain.rs` and `verify.rs`),
    /// with the pseudonym key when the ledger has one.
    pub(crate) fn read_conn<T>(
        &self,
        f: impl FnOnce(&Connection, Option<&PseudonymKey>) -> Result<T>,
    ) -> Result<T> {
        self.read(None, |inner, _| f(&inner.conn, inner.key.as_ref()))
    }

    // ---- erasure ---------------------------------------------------------------

    /// Erases a subject: blanks subject, source id, evidence and salt in every event
    /// about them (their digests stay, so every hash still verifies), drops their
    /// materialized state, and appends a `subject_erased` event whose hashed fields
    /// name the subject's keyed pseudonym and every event it blanked — so a blanked
    /// row is provably part of an erasure and later grants are refused. Then it
    /// truncates the WAL, retrying for up to the erasure wait while another
    /// connection holds an old snapshot; [`ErasureReport::wal_truncated`] says whether
    /// the erasure is complete or still pending.
    ///
    /// An id the ledger holds no event about is refused ([`Error::NotFound`]): use
    /// [`Ledger::erase_subject_with`] and [`ErasureOptions::force`] to erase it anyway.
    pub fn erase_subject(
        &self,
        subject: &str,
        reason: &str,
        actor: Actor,
    ) -> Result<ErasureReport> {
        self.erase_subject_with(subject, reason, actor, ErasureOptions::default())
    }

    /// [`Ledger::erase_subject`] with options.
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
    pub fn erasure_preview(&self, subject: &str) -> Result<ErasurePreview> {
        check_id("subject", subject)?;
        self.read(None, |inner, _| {
            Ok(ErasurePreview {
                already_erased: inner.is_erased(subject)?,
                events: inner.unblanked_events(subject)?,
            })
        })
    }

    /// Erases many subjects (a retention run from a file of ids), each in its own
    /// transaction, and reports every id: erased, unknown (refused unless forced),
    /// already erased, or failed. One truncation of the WAL follows.
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
                Err(e) if !matches!(e.kind(), crate::ErrorKind::InvalidArgument) => {
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
    pub fn readmit_subject(&self, subject: &str, reason: &str, actor: Actor) -> Result<Event> {
        check_id("subject", subject)?;
        check_actor(&actor)?;
        if actor.kind == crate::event::ActorKind::Subject {
            return Err(Error::invalid(
                "a readmission is recorded by staff or a system (the enrolment), not by the subject",
            ));
        }
        if reason.trim().is_empty() {
            return Err(Error::invalid("a readmission needs a reason"));
        }
        self.write(None, |inner, now| {
            let marker = inner.erased_marker(subject)?.ok_or_else(|| {
                Error::invalid("the subject is not erased: there is nothing to readmit")
            })?;
            let erasure_seq: i64 = inner.conn.query_row(
                "SELECT seq FROM erased WHERE subject_key = ?1",
                [&marker[..]],
                |r| r.get(0),
            )?;
            let details = serde_json::json!({ "reason": reason, "erasure_seq": erasure_seq });
            let mut row = RawRow {
                kind: EventKind::SubjectReadmitted.as_str().into(),
                recorded_by: actor.to_string(),
                details: Some(details.to_string()),
                subject_key: Some(marker.to_vec()),
                ..inner.blank_row(now)
            };
            inner.append_raw(&mut row)?;
            inner
                .conn
                .execute("DELETE FROM erased WHERE subject_key = ?1", [&marker[..]])?;
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
            let conn = &inner.conn;
            let marker = key.subject_key(subject);
            let seqs: Vec<u64> = conn
                .prepare_cached("SELECT seq FROM events WHERE subject = ?1 ORDER BY seq")?
                .query_map([subject], |r| r.get::<_, i64>(0).map(|n| n as u64))?
                .collect::<rusqlite::Result<_>>()?;
            if seqs.is_empty() && !options.force {
                return Err(Error::NotFound(
                    "no event names this subject: nothing to erase (check the id; force the erasure to record it anyway)"
                        .into(),
                ));
            }
            // The pseudonymous key keeps the blanked events findable by `history`.
            let n = conn.execute(
                "UPDATE events SET subject = NULL, source_id = NULL, evidence = NULL, salt = NULL, \
                 subject_key = ?2 WHERE subject = ?1",
                params![subject, &marker[..]],
            )?;
            debug_assert_eq!(n, seqs.len());
            conn.execute("DELETE FROM current WHERE subject = ?1", [subject])?;
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
            let seq = inner.append_raw(&mut row)?;
            conn.execute(
                "INSERT INTO erased(subject_key, seq) VALUES (?1, ?2)",
                params![&marker[..], seq as i64],
            )?;
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
    /// WAL is now empty. Safe to call at any time; `consent erase --complete` calls it.
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

    /// Checkpoints the WAL into the database file and truncates it, once. Returns
    /// whether the checkpoint completed (false if another connection kept a read open).
    pub fn checkpoint(&self) -> Result<bool> {
        self.with(None, |inner| {
            if inner.conn.path().is_none_or(str::is_empty) {
                return Ok(true); // in memory: no file, no WAL
            }
            // A checkpoint rewrites the database file: only under the writer lock, like
            // every write (a writer elsewhere holds it for at most one transaction).
            if let Some(lock) = inner.lock.as_mut() {
                match lock.acquire(inner.busy_timeout) {
                    Ok(()) => {}
                    Err(Error::Busy(_)) => return Ok(false),
                    Err(e) => return Err(e),
                }
            }
            // A reader elsewhere blocks a truncating checkpoint; wait briefly rather
            // than the full busy timeout while holding this handle.
            if let Err(e) = inner.conn.busy_timeout(Duration::from_millis(100)) {
                inner.end_write();
                return Err(e.into());
            }
            let done = inner
                .conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                    Ok(r.get::<_, i64>(0)? == 0)
                });
            inner.end_write();
            inner.conn.busy_timeout(
                inner
                    .busy_timeout
                    .min(Duration::from_millis(i32::MAX as u64)),
            )?;
            match done {
                Ok(done) => Ok(done),
                Err(e) => match Error::from(e) {
                    Error::Busy(_) => Ok(false),
                    other => Err(other),
                },
            }
        })
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

/// Runs one cached statement that returns no rows (transaction control).
fn exec(conn: &Connection, sql: &str) -> Result<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

/// A transaction begun with cached statements; rolled back when dropped uncommitted
/// (also on a panic, so the connection is never left inside a transaction).
struct Tx<'c> {
    conn: &'c Connection,
    open: bool,
}

impl<'c> Tx<'c> {
    fn begin(conn: &'c Connection, sql: &str) -> Result<Self> {
        exec(conn, sql)?;
        Ok(Tx { conn, open: true })
    }

    fn commit(mut self) -> Result<()> {
        exec(self.conn, "COMMIT")?;
        self.open = false;
        Ok(())
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open && !self.conn.is_autocommit() {
            let _ = exec(self.conn, "ROLLBACK");
        }
    }
}

fn notice_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Notice>> {
    let seq: i64 = r.get(0)?;
    let at: i64 = r.get(1)?;
    let def: String = r.get(2)?;
    Ok((|| {
        Ok(Notice {
            def: serde_json::from_str(&def)
                .map_err(|e| Error::Corrupt(format!("notice definition: {e}")))?,
            seq: seq as u64,
            registered_at: Timestamp::from_millis(at)?,
        })
    })())
}

fn purpose_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Purpose>> {
    let version: i64 = r.get(0)?;
    let seq: i64 = r.get(1)?;
    let at: i64 = r.get(2)?;
    let def: String = r.get(3)?;
    Ok((|| {
        Ok(Purpose {
            def: serde_json::from_str(&def)
                .map_err(|e| Error::Corrupt(format!("purpose definition: {e}")))?,
            version: version as u32,
            seq: seq as u64,
            registered_at: Timestamp::from_millis(at)?,
            material_change: Vec::new(),
        })
    })())
}

/// An erasure names who erased and why (the reason is hashed in its details).
fn check_erasure(actor: &Actor, reason: &str) -> Result<()> {
    check_actor(actor)?;
    if reason.trim().is_empty() {
        return Err(Error::invalid("an erasure needs a reason"));
    }
    Ok(())
}

/// How far after its record time an event may be dated: a year and a day. Further is
/// a typing mistake (a withdrawal dated 9999 would keep consent in force for ever).
const MAX_AHEAD_MS: i64 = 366 * 86_400_000;

/// The event as the ledger records it, and the hashed details that say why it differs
/// from what the caller sent (docs/RULES.md):
/// - a withdrawal for a purpose that does not rest on consent is the subject objecting
///   (Art. 21): recorded as `objected`, `{"asked_as": "withdrawn"}`;
/// - a withdrawal or objection naming a recipient the purpose does not list (a
///   misspelling such as `NHS` for `nhs`) is never refused and must not leave that
///   recipient permitted: it is recorded purpose-wide, `{"unlisted_recipient": TEXT}`.
///
/// The event is copied only when it changes (never on a grant's path).
fn recorded_form<'e>(
    e: &'e NewEvent,
    def: &PurposeDef,
) -> (
    Cow<'e, NewEvent>,
    serde_json::Map<String, serde_json::Value>,
) {
    let mut e = Cow::Borrowed(e);
    let mut details = serde_json::Map::new();
    if e.kind == EventKind::Withdrawn && def.lawful_basis != LawfulBasis::Consent {
        e.to_mut().kind = EventKind::Objected;
        details.insert("asked_as".into(), "withdrawn".into());
    }
    let unlisted = e
        .recipient
        .as_deref()
        .is_some_and(|r| e.kind.is_withdrawal() && !def.lists(r));
    if unlisted {
        if let Some(r) = e.to_mut().recipient.take() {
            details.insert("unlisted_recipient".into(), r.into());
        }
    }
    (e, details)
}

/// The time zone a new ledger commits to: the option's, checked against the bundled
/// database, or Europe/London.
fn new_time_zone(options: &LedgerOptions) -> Result<String> {
    let zone = options.time_zone.as_deref().unwrap_or(DEFAULT_TIME_ZONE);
    Calendar::new(zone).map(|c| c.name().to_string())
}

/// A question names its subject (and recipient) in the one spelling appends accept,
/// so another spelling is refused rather than answered "never asked".
fn check_question(subject: &str, purpose: &str, recipient: Option<&str>) -> Result<()> {
    check_id("subject", subject)?;
    check_id("purpose", purpose)?;
    if let Some(r) = recipient {
        check_id("recipient", r)?;
    }
    Ok(())
}

/// An actor as it will be stored must read back as itself: `subject`, `staff:<id>`,
/// `system:<id>` with the id in the one spelling of identifiers (an `Actor` built by
/// hand could carry a student id under `subject:` or an id that verify would refuse).
fn check_actor(a: &Actor) -> Result<()> {
    let text = a.to_string();
    if text.parse::<Actor>().ok().as_ref() != Some(a) {
        return Err(Error::invalid(format!(
            "recorded_by must be subject, staff:<id> or system:<id>, not `{}`",
            text.chars().take(40).collect::<String>()
        )));
    }
    Ok(())
}

/// Validation that needs no storage.
fn check_new_event(e: &NewEvent) -> Result<()> {
    if !e.kind.is_subject_event() {
        return Err(Error::invalid(format!(
            "`{}` events are appended by the ledger itself",
            e.kind
        )));
    }
    check_actor(&e.recorded_by)?;
    check_id("subject", &e.subject)?;
    check_id("purpose", &e.purpose)?;
    for (what, v) in [("recipient", &e.recipient), ("source id", &e.source_id)] {
        if let Some(v) = v {
            check_id(what, v)?;
        }
    }
    if let Some((id, version)) = &e.notice {
        check_id("notice id", id)?;
        check_id("notice version", version)?;
    }
    if let Some(ev) = &e.evidence {
        if !ev.is_object() {
            return Err(Error::invalid("evidence must be a JSON object"));
        }
    }
    if (e.expires_at.is_some() || e.validity_from.is_some()) && e.kind != EventKind::Given {
        return Err(Error::invalid(
            "only a grant can carry an expiry or a validity start",
        ));
    }
    if e.target.is_some() && e.kind != EventKind::Invalidated {
        return Err(Error::invalid("only an invalidation names a target event"));
    }
    Ok(())
}

/// The read-time rules, applied to a grant that decides at `at` (as known at `known`)
/// — never materialized, so no job has to run for them: the grant lapsed at its expiry
/// (`until`), or the purpose changed materially after it was given (RULES.md R6).
/// Returns the state that replaces `given` and since when.
fn grant_lapse(
    p: &PurposeVersions,
    seq: u64,
    effective: Timestamp,
    until: Option<Timestamp>,
    at: Timestamp,
    known: Timestamp,
) -> Option<(State, Timestamp)> {
    if let Some(exp) = until.filter(|x| *x <= at) {
        return Some((State::Expired, exp));
    }
    p.renewal_needed(seq, effective, at.min(known))
        .map(|m| (State::NeedsRenewal, m.registered_at))
}

/// Decides at `at` as known at `known` under the version of the purpose in force then,
/// with the read-time rules.
fn decide_at<'e>(
    p: &PurposeVersions,
    events: &'e [Event],
    recipient: Option<&str>,
    at: Timestamp,
    known: Timestamp,
) -> Decision<'e> {
    let basis = p.in_force(at.min(known)).def.lawful_basis;
    let mut d = decide(events, basis, recipient, at, known);
    if let (State::Given, Some(g)) = (d.state, d.event) {
        if let Some((state, since)) = grant_lapse(p, g.seq, g.effective_at, d.until, at, known) {
            d.state = state;
            d.since = Some(since);
            d.until = None;
        }
    }
    d
}

/// The version a deciding grant was given under.
fn granted_under(e: Option<&Event>) -> Option<u32> {
    e.filter(|e| e.kind == EventKind::Given)
        .and_then(|e| e.purpose_version)
}

fn status_from(
    p: &PurposeVersions,
    events: &[Event],
    recipient: Option<&str>,
    at: Timestamp,
    known: Timestamp,
) -> Status {
    let d = decide_at(p, events, recipient, at, known);
    let then = p.in_force(at.min(known));
    Status {
        purpose: then.def.id.clone(),
        purpose_version: then.version,
        granted_under_version: granted_under(d.event),
        recipient: recipient.map(Into::into),
        state: d.state,
        lawful_basis: then.def.lawful_basis,
        event_id: d.event.map(|e| e.id),
        event_seq: d.event.map(|e| e.seq),
        since: d.since,
        until: d.until,
        notice: d.event.and_then(|e| e.notice.clone()),
        effect_deadline: d.event.and_then(|e| e.effect_deadline),
        at,
        as_known_at: known,
    }
}

fn erased_status(
    p: &PurposeVersions,
    recipient: Option<&str>,
    at: Timestamp,
    known: Timestamp,
) -> Status {
    let p = p.in_force(at.min(known));
    Status {
        purpose: p.def.id.clone(),
        purpose_version: p.version,
        granted_under_version: None,
        recipient: recipient.map(Into::into),
        state: State::Erased,
        lawful_basis: p.def.lawful_basis,
        event_id: None,
        event_seq: None,
        since: None,
        until: None,
        notice: None,
        effect_deadline: None,
        at,
        as_known_at: known,
    }
}

impl Inner {
    fn now(&self) -> Timestamp {
        self.clock.as_ref().map_or_else(Timestamp::now, |c| c())
    }

    /// Creates a fresh ledger, migrates a version-1 one, loads the configuration and
    /// the key, and checks the key against the ledger's commitment.
    fn setup(
        &mut self,
        found: Found,
        options: &LedgerOptions,
        key_path: Option<&Path>,
    ) -> Result<()> {
        let fresh = match found {
            Found::Fresh => {
                // Another process may have created the ledger while we waited.
                let created = self.in_setup_tx(|me| {
                    if store::is_empty(&me.conn)? {
                        me.create(options, key_path)?;
                        Ok(true)
                    } else {
                        Ok(false)
                    }
                })?;
                if !created {
                    store::check_schema(&self.conn, store::SCHEMA_VERSION)?;
                }
                created
            }
            Found::Ledger(1) => {
                if options.read_only {
                    return Err(Error::ReadOnly(
                        "a schema-1 ledger must be migrated by opening it for writing once".into(),
                    ));
                }
                self.in_setup_tx(|me| {
                    // Another process may have migrated it while we waited for the lock.
                    let version: i64 = me.conn.query_row(
                        "SELECT value FROM meta WHERE key = 'schema_version'",
                        [],
                        |r| r.get(0),
                    )?;
                    if version == store::SCHEMA_VERSION {
                        return store::check_schema(&me.conn, version);
                    }
                    store::check_schema(&me.conn, 1)?;
                    me.migrate_v1(options, key_path)
                })?;
                let _ = self
                    .conn
                    .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
                false
            }
            Found::Ledger(_) => false,
        };
        self.schema_cookie.set(store::schema_cookie(&self.conn)?);
        let config = self.config()?;
        self.simulated = config.clock == "simulated";
        let zone = config.time_zone.as_deref().unwrap_or(DEFAULT_TIME_ZONE);
        self.calendar = Calendar::new(zone)
            .map_err(|e| Error::Corrupt(format!("the ledger's time zone: {e}")))?;
        if options.time_zone.as_deref().is_some_and(|z| z != zone) {
            return Err(Error::invalid(format!(
                "this ledger keeps its calendar in {zone}, set when it was created; it cannot be opened as another time zone"
            )));
        }
        if self.clock.is_some() && !self.simulated {
            return Err(Error::invalid(
                "a clock can only be set on a ledger created as a simulation: a real ledger's record times come from the system clock",
            ));
        }
        if !fresh {
            self.key = self.load_key(&options.pseudonym_key, key_path, options.read_only)?;
        }
        if let Some(k) = &self.key {
            if k.id() != config.pseudonym_key_id {
                return Err(Error::Key(
                    "this is not the key the ledger was created with (its id differs from the one in the ledger's first event)"
                        .into(),
                ));
            }
        }
        self.legacy_markers = config.migrated_from.is_some()
            && self.conn.query_row(
                "SELECT count(*) FROM events WHERE kind = 'subject_erased' AND encoding = 1",
                [],
                |r| r.get::<_, i64>(0),
            )? > 0;
        Ok(())
    }

    /// Fails when the ledger's WAL was deleted or replaced under this connection (see
    /// `store::WalFile`): writes would go to a file no other process sees, and reads
    /// would miss their writes.
    fn check_wal(&self) -> Result<()> {
        match &self.wal {
            Some(wal) if wal.replaced() => Err(Error::Storage(
                "the ledger's WAL was deleted under this process (another SQLite library in it, such as \
                 Python's sqlite3 module, opened and closed the ledger file): what this handle wrote \
                 last may not be recorded; close every handle on this ledger in this process and \
                 reopen it, then check and retry (a source id makes the retry safe)"
                    .into(),
            )),
            _ => Ok(()),
        }
    }

    /// Runs `f` in a write transaction under the lock file (creation, migration).
    fn in_setup_tx<T>(&mut self, f: impl FnOnce(&mut Inner) -> Result<T>) -> Result<T> {
        self.begin_write()?;
        let result = f(self).and_then(|v| exec(&self.conn, "COMMIT").map(|()| v));
        if result.is_err() && !self.conn.is_autocommit() {
            let _ = exec(&self.conn, "ROLLBACK");
        }
        self.end_write();
        result
    }

    /// Loads an existing ledger's key; `None` only for a read-only open without one.
    fn load_key(
        &self,
        source: &KeySource,
        key_path: Option<&Path>,
        read_only: bool,
    ) -> Result<Option<PseudonymKey>> {
        match (source, key_path) {
            (KeySource::Bytes(b), _) => Ok(Some(PseudonymKey::from_bytes(*b))),
            (KeySource::None, _) if read_only => Ok(None),
            (KeySource::None, _) => Err(Error::Key(
                "a ledger opened for writing needs its pseudonym key".into(),
            )),
            (_, Some(p)) => match key::read_key_file(p) {
                Ok(k) => Ok(Some(k)),
                Err(_) if read_only && !p.exists() => Ok(None),
                Err(e) => Err(e),
            },
            (_, None) => Err(Error::Key("no key file for a ledger in memory".into())),
        }
    }

    /// The key a new ledger commits to: supplied, read from an existing key file, or
    /// made and written to a new one.
    fn new_key(&self, source: &KeySource, key_path: Option<&Path>) -> Result<PseudonymKey> {
        match (source, key_path) {
            (KeySource::Bytes(b), _) => Ok(PseudonymKey::from_bytes(*b)),
            (KeySource::None, _) => Err(Error::Key("a new ledger needs a pseudonym key".into())),
            (_, Some(p)) if p.exists() => key::read_key_file(p),
            (_, Some(p)) => {
                let k = PseudonymKey::random();
                key::write_key_file(p, &k)?;
                Ok(k)
            }
            (_, None) => Ok(PseudonymKey::random()),
        }
    }

    fn create(&mut self, options: &LedgerOptions, key_path: Option<&Path>) -> Result<()> {
        store::create_schema(&self.conn)?;
        let key = self.new_key(&options.pseudonym_key, key_path)?;
        let config = LedgerConfig {
            format: store::FORMAT_NAME.into(),
            schema_version: store::SCHEMA_VERSION,
            clock: if options.clock.is_some() {
                "simulated"
            } else {
                "system"
            }
            .into(),
            pseudonym_key_id: key.id(),
            time_zone: Some(new_time_zone(options)?),
            migrated_from: None,
            erased_before_migration: None,
        };
        self.key = Some(key);
        self.append_config(&config)
    }

    fn migrate_v1(&mut self, options: &LedgerOptions, key_path: Option<&Path>) -> Result<()> {
        let pepper = store::migrate_v1_tables(&self.conn)?;
        let key = PseudonymKey::from_bytes(pepper.try_into().expect("checked: 32 bytes"));
        // The old pepper becomes the key and leaves the file.
        match (&options.pseudonym_key, key_path) {
            (KeySource::Bytes(b), _) if b != key.bytes() => {
                return Err(Error::Key(
                    "migrating a schema-1 ledger: its key is the file's old pepper; supply that or none".into(),
                ))
            }
            (KeySource::Bytes(_), _) => {}
            (KeySource::None, _) => return Err(Error::Key("migration needs a key file".into())),
            (_, Some(p)) if p.exists() => {
                if key::read_key_file(p)?.bytes() != key.bytes() {
                    return Err(Error::Key(format!(
                        "{} exists and holds another key; move it away to migrate",
                        p.display()
                    )));
                }
            }
            (_, Some(p)) => key::write_key_file(p, &key)?,
            (_, None) => {}
        }
        // Source ids keep working for idempotency through their keyed pseudonyms.
        let sources: Vec<(i64, String)> = self
            .conn
            .prepare("SELECT seq, source_id FROM events WHERE source_id IS NOT NULL")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (seq, src) in sources {
            self.conn.execute(
                "UPDATE events SET source_key = ?2 WHERE seq = ?1",
                params![seq, &key.source_key(&src)[..]],
            )?;
        }
        // Bind every blanked version-1 row to its erasure, in a hashed event.
        let erasures: Vec<(i64, Vec<u8>)> = self
            .conn
            .prepare(
                "SELECT seq, subject_key FROM events WHERE kind = 'subject_erased' ORDER BY seq",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut bound = Vec::new();
        for (eseq, marker) in &erasures {
            let rows: Vec<i64> = self
                .conn
                .prepare("SELECT seq FROM events WHERE subject IS NULL AND subject_key = ?1 AND seq != ?2 ORDER BY seq")?
                .query_map(params![marker, eseq], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            bound.extend(rows.into_iter().map(|r| [r as u64, *eseq as u64]));
        }
        bound.sort_unstable();
        let config = LedgerConfig {
            format: store::FORMAT_NAME.into(),
            schema_version: store::SCHEMA_VERSION,
            clock: "system".into(),
            pseudonym_key_id: key.id(),
            time_zone: Some(new_time_zone(options)?),
            // An empty schema-1 log migrates to a ledger like a new one: the
            // configuration is its event 0.
            migrated_from: (store::size(&self.conn)? > 0).then_some(1),
            erased_before_migration: (store::size(&self.conn)? > 0).then_some(bound),
        };
        self.key = Some(key);
        self.append_config(&config)?;
        // `current` is rebuilt under the version-2 rules.
        self.conn.execute("DELETE FROM current", [])?;
        let purposes = self.all_purposes(None)?;
        for p in purposes.iter().filter(|p| {
            purposes
                .iter()
                .all(|q| q.def.id != p.def.id || q.version <= p.version)
        }) {
            self.rematerialize(p)?;
        }
        Ok(())
    }

    fn append_config(&self, config: &LedgerConfig) -> Result<()> {
        // Still set up as a real ledger here: the time is clamped to the log's last.
        let now = self.record_time()?;
        let details = serde_json::to_string(config).map_err(|e| Error::invalid(e.to_string()))?;
        self.append_raw(&mut RawRow {
            kind: EventKind::LedgerConfigured.as_str().into(),
            details: Some(details),
            ..self.blank_row(now)
        })?;
        Ok(())
    }

    /// The configuration from the `ledger_configured` event.
    fn config(&self) -> Result<LedgerConfig> {
        let details: Option<String> = self
            .conn
            .query_row(
                "SELECT details FROM events WHERE kind = 'ledger_configured' ORDER BY seq LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| Error::Corrupt(format!("configuration unreadable: {e}")))?;
        let details = details
            .ok_or_else(|| Error::Corrupt("the ledger has no `ledger_configured` event".into()))?;
        serde_json::from_str(&details)
            .map_err(|e| Error::Corrupt(format!("the ledger's configuration is malformed: {e}")))
    }

    fn key(&self) -> Result<&PseudonymKey> {
        self.key.as_ref().ok_or_else(|| {
            Error::Key(
                "the ledger was opened without its pseudonym key: questions about subjects need it"
                    .into(),
            )
        })
    }

    /// Takes the writer lock file, checks that nobody changed the schema since it was
    /// last checked, and begins an immediate transaction.
    fn begin_write(&mut self) -> Result<()> {
        if let Some(lock) = self.lock.as_mut() {
            lock.acquire(self.busy_timeout)?;
        }
        let begun = (|| {
            exec(&self.conn, "BEGIN IMMEDIATE")?;
            let cookie = store::schema_cookie(&self.conn)?;
            if cookie != self.schema_cookie.get() && self.schema_cookie.get() >= 0 {
                if let Err(e) = store::check_schema(&self.conn, store::SCHEMA_VERSION) {
                    let _ = exec(&self.conn, "ROLLBACK");
                    return Err(e);
                }
                self.schema_cookie.set(cookie);
            }
            Ok(())
        })();
        if begun.is_err() {
            self.end_write();
        }
        begun
    }

    /// Ends the open batch without committing: rolls back what SQLite has not already
    /// rolled back, forgets cached registry data, releases the writer lock.
    fn discard_batch(&mut self) {
        if !self.conn.is_autocommit() {
            let _ = exec(&self.conn, "ROLLBACK");
        }
        self.batch_aborted = None;
        self.forget_purposes();
        self.end_write();
    }

    /// Releases the writer lock file.
    fn end_write(&mut self) {
        if let Some(lock) = self.lock.as_mut() {
            lock.release();
        }
    }

    fn last_recorded(&self) -> Result<Option<i64>> {
        Ok(self
            .conn
            .prepare_cached("SELECT recorded_at FROM events ORDER BY seq DESC LIMIT 1")?
            .query_row([], |r| r.get(0))
            .optional()?)
    }

    /// The record time of a write: the clock, but on a real ledger never earlier than
    /// the last record time in the log (a system clock stepped back must not make the
    /// log go back). A simulation may travel in time; it says that it is one.
    fn record_time(&self) -> Result<Timestamp> {
        let now = self.now();
        if self.simulated {
            return Ok(now);
        }
        match self.last_recorded()? {
            Some(last) if last > now.as_millis() => Ok(Timestamp::from_millis(last)?),
            _ => Ok(now),
        }
    }

    /// A UUIDv7 whose time is the ledger's clock (so ids agree with record times).
    fn new_id(&self, now: Timestamp) -> Uuid {
        let ms = u64::try_from(now.as_millis()).unwrap_or(0);
        let ts = uuid::Timestamp::from_unix(
            &self.uuid_context,
            ms / 1000,
            (ms % 1000) as u32 * 1_000_000,
        );
        Uuid::new_v7(ts)
    }

    /// The erasure marker of `subject` if it was erased: its keyed pseudonym, or for a
    /// subject erased before a migration, the version-1 marker.
    fn erased_marker(&self, subject: &str) -> Result<Option<[u8; 32]>> {
        let key = self.key()?;
        let mut stmt = self
            .conn
            .prepare_cached("SELECT 1 FROM erased WHERE subject_key = ?1")?;
        let k = key.subject_key(subject);
        if stmt.exists([&k[..]])? {
            return Ok(Some(k));
        }
        if self.legacy_markers {
            let k = key.legacy_marker(subject);
            if stmt.exists([&k[..]])? {
                return Ok(Some(k));
            }
        }
        Ok(None)
    }

    fn is_erased(&self, subject: &str) -> Result<bool> {
        Ok(self.erased_marker(subject)?.is_some())
    }

    /// Every version of a purpose, shared from the cache (no copy per call).
    fn purpose(&self, id: &str) -> Result<Option<Arc<PurposeVersions>>> {
        let version: i64 = self
            .conn
            .prepare_cached("PRAGMA data_version")?
            .query_row([], |r| r.get(0))?;
        let mut cache = self.purposes.borrow_mut();
        if cache.data_version != version {
            cache.by_id.clear();
            cache.data_version = version;
        }
        if let Some(p) = cache.by_id.get(id) {
            return Ok(Some(Arc::clone(p)));
        }
        let found = self.purpose_uncached(id)?.map(Arc::new);
        if let Some(p) = &found {
            cache.by_id.insert(id.to_string(), Arc::clone(p));
        }
        Ok(found)
    }

    fn forget_purposes(&self) {
        let mut cache = self.purposes.borrow_mut();
        cache.by_id.clear();
        cache.notices.clear();
    }

    fn purpose_uncached(&self, id: &str) -> Result<Option<PurposeVersions>> {
        Ok(PurposeVersions::new(self.all_purposes(Some(id))?))
    }

    /// The purpose a question names, after checking the recipient it asks about: one
    /// the purpose lists (or once listed), and one at all when the purpose lists any.
    fn asked_purpose(&self, id: &str, recipient: Option<&str>) -> Result<Arc<PurposeVersions>> {
        let p = self
            .purpose(id)?
            .ok_or_else(|| Error::UnknownPurpose(id.into()))?;
        let def = &p.latest().def;
        match recipient {
            Some(r) if p.ever_lists(r) => Ok(p),
            None if def.recipients.is_empty() => Ok(p),
            r => Err(Error::UnknownRecipient {
                purpose: def.id.clone(),
                recipient: r.map(Into::into),
                listed: def.recipients.clone(),
            }),
        }
    }

    /// Every version of one purpose (`Some(id)`) or of all, by id then version, with
    /// their material changes.
    fn all_purposes(&self, id: Option<&str>) -> Result<Vec<Purpose>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT version, seq, registered_at, def FROM purposes WHERE ?1 IS NULL OR id = ?1 ORDER BY id, version",
        )?;
        let rows = stmt.query_map([id], purpose_row)?;
        let mut all = rows.map(|r| r?).collect::<Result<Vec<Purpose>>>()?;
        crate::purpose::mark_material_changes(&mut all);
        Ok(all)
    }

    fn notice(&self, id: &str, version: &str) -> Result<Option<Notice>> {
        let key = (id.to_string(), version.to_string());
        if let Some(n) = self.purposes.borrow().notices.get(&key) {
            return Ok(Some(n.clone()));
        }
        let found = self.notice_uncached(id, version)?;
        if let Some(n) = &found {
            self.purposes.borrow_mut().notices.insert(key, n.clone());
        }
        Ok(found)
    }

    fn notice_uncached(&self, id: &str, version: &str) -> Result<Option<Notice>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, registered_at, def FROM notices WHERE id = ?1 AND version = ?2",
        )?;
        stmt.query_row([id, version], notice_row)
            .optional()?
            .transpose()
    }

    fn head(&self) -> Result<Head> {
        let size = store::size(&self.conn)?;
        let root = crate::merkle::root(size, &mut store::TreeTable(&self.conn))?;
        Ok(Head { size, root })
    }

    fn blank_row(&self, now: Timestamp) -> RawRow {
        RawRow {
            seq: 0,
            id: self.new_id(now).as_bytes().to_vec(),
            kind: String::new(),
            subject: None,
            salt: None,
            personal_digest: None,
            purpose: None,
            purpose_version: None,
            recipient: None,
            notice_id: None,
            notice_version: None,
            notice_sha256: None,
            explicit: 0,
            method: None,
            recorded_by: Actor::system("consent-ledger").to_string(),
            effective_at: now.as_millis(),
            recorded_at: now.as_millis(),
            expires_at: None,
            effect_deadline: None,
            source_id: None,
            evidence: None,
            target: None,
            details: None,
            subject_key: None,
            source_key: None,
            encoding: CANONICAL_VERSION.into(),
            malformed: None,
        }
    }

    /// Assigns the next sequence number, inserts the row and its tree hashes. Must run
    /// inside a write transaction.
    fn append_raw(&self, row: &mut RawRow) -> Result<u64> {
        let seq = store::size(&self.conn)?;
        row.seq = i64::try_from(seq).map_err(|_| Error::Corrupt("sequence overflow".into()))?;
        let leaf = row.canonical().leaf_hash();
        row.insert(&self.conn)?;
        store::append_leaf(&self.conn, seq, leaf)?;
        Ok(seq)
    }

    /// The event recorded under a caller's source id, found by its keyed pseudonym
    /// (which outlives an erasure, unlike the id itself).
    fn event_by_source(&self, source_key: &[u8]) -> Result<Option<Event>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE source_key = ?1");
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_row([source_key], event_from_row)
            .optional()?)
    }

    fn append_event(&self, e: &NewEvent, evidence: Option<&str>, now: Timestamp) -> Result<Event> {
        let key = self.key()?;
        let marker = self.erased_marker(&e.subject)?;
        let purpose = self
            .purpose(&e.purpose)?
            .ok_or_else(|| Error::UnknownPurpose(e.purpose.clone()))?;
        let def = &purpose.latest().def;
        let (e, mut details) = recorded_form(e, def);
        let e = &*e;
        let source_key = e.source_id.as_deref().map(|s| key.source_key(s));
        if let Some(sk) = &source_key {
            if let Some(existing) = self.event_by_source(sk)? {
                let same = if existing.erased {
                    // The personal fields are gone; the retry is the same event when
                    // it is about the same subject (by pseudonym) and all else agrees.
                    let stored: Option<Vec<u8>> = self
                        .conn
                        .prepare_cached("SELECT subject_key FROM events WHERE seq = ?1")?
                        .query_row([existing.seq as i64], |r| r.get(0))?;
                    stored.is_some_and(|s| self.is_pseudonym_of(&s, &e.subject, marker))
                        && same_content(&existing, e, evidence, true)
                } else {
                    same_content(&existing, e, evidence, false)
                };
                if same {
                    return Ok(existing);
                }
                return Err(Error::Conflict(
                    "the source id was already used for an event with different content".into(),
                ));
            }
        }
        let erased = marker.is_some();
        if erased
            && !matches!(
                e.kind,
                EventKind::Withdrawn | EventKind::Objected | EventKind::Revoked
            )
        {
            return Err(Error::SubjectErased);
        }
        let is_grant = e.kind == EventKind::Given;
        if is_grant || e.kind == EventKind::Refused {
            if def.lawful_basis != LawfulBasis::Consent {
                return Err(Error::InvalidConsent(format!(
                    "purpose `{}` rests on {}, not consent",
                    def.id,
                    def.lawful_basis.describe()
                )));
            }
            if e.method.is_none() {
                return Err(Error::InvalidConsent(
                    "a grant or refusal must say how it was collected".into(),
                ));
            }
        }
        if is_grant {
            if e.notice.is_none() {
                return Err(Error::InvalidConsent(
                    "a grant must name the notice shown".into(),
                ));
            }
            if def.requires_explicit() && !e.explicit {
                return Err(Error::InvalidConsent(format!(
                    "purpose `{}` involves special-category data (Art. 9(2)({})): the grant must be explicit",
                    def.id,
                    def.special_category.unwrap_or('a')
                )));
            }
        }
        if e.kind == EventKind::NoticeServed && e.notice.is_none() {
            return Err(Error::invalid("a notice_served event must name the notice"));
        }
        // Recipients are registry ids; a withdrawal naming another was made purpose-wide
        // by `recorded_form`, so only other kinds can get here with one.
        if let Some(r) = &e.recipient {
            if !def.lists(r) {
                return Err(Error::UnknownRecipient {
                    purpose: def.id.clone(),
                    recipient: Some(r.clone()),
                    listed: def.recipients.clone(),
                });
            }
        }
        // A withdrawal is never refused: a notice it names that the registry lacks is
        // kept in its hashed details instead of failing the append.
        let notice = match &e.notice {
            Some((id, version)) => match self.notice(id, version)? {
                Some(n) => Some(n),
                None if e.kind.is_withdrawal() => {
                    details.insert(
                        "unknown_notice".into(),
                        serde_json::json!({ "id": id, "version": version }),
                    );
                    None
                }
                None => return Err(Error::UnknownNotice(format!("{id} version {version}"))),
            },
            None => None,
        };
        if let Some(n) = &notice {
            let decides_or_tells = matches!(
                e.kind,
                EventKind::Given | EventKind::Refused | EventKind::NoticeServed
            );
            if decides_or_tells && !n.def.covers(&def.id) {
                return Err(Error::InvalidConsent(format!(
                    "notice `{}` version {} does not cover purpose `{}` (it covers {}): the subject was not told about it",
                    n.def.id,
                    n.def.version,
                    def.id,
                    n.def.purposes.join(", ")
                )));
            }
        }
        if e.kind == EventKind::ObjectionOverruled {
            self.check_overruling(e, &purpose, now)?;
        }
        if let Some(t) = e.target {
            let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = ?1");
            let target = self
                .conn
                .prepare_cached(&sql)?
                .query_row([&t.as_bytes()[..]], event_from_row)
                .optional()?;
            match target {
                Some(g)
                    if g.kind == EventKind::Given
                        && g.subject.as_deref() == Some(&e.subject)
                        && g.purpose.as_deref() == Some(&e.purpose) => {}
                _ => {
                    return Err(Error::invalid(
                        "the invalidation target is not a grant of this subject and purpose",
                    ))
                }
            }
        }
        let effective = e.effective_at.unwrap_or(now);
        if effective.as_millis() > now.as_millis().saturating_add(MAX_AHEAD_MS) {
            return Err(Error::InvalidTime(format!(
                "the event is dated {effective}, more than a year after it is recorded: check the date (a withdrawal dated years ahead would keep consent in force until then)"
            )));
        }
        let expires = if is_grant {
            let from = e.validity_from.unwrap_or(effective);
            match e.expires_at {
                Some(x) => Some(x),
                None => match def.validity.expiry(from, &self.calendar) {
                    Some(x) => Some(x),
                    None if def.validity.lapses() => {
                        return Err(Error::InvalidTime(format!(
                            "purpose `{}` lapses grants, but a grant counted from {from} would lapse after the year 9999",
                            def.id
                        )))
                    }
                    None => None,
                },
            }
        } else {
            None
        };
        if let Some(from) = e.validity_from {
            details.insert("validity_from".into(), from.to_string().into());
        }
        if let Some(x) = expires {
            if x <= effective {
                return Err(Error::InvalidTime(
                    "a grant must expire after it takes effect".into(),
                ));
            }
        }
        let deadline = matches!(
            e.kind,
            EventKind::Withdrawn | EventKind::Revoked | EventKind::Objected
        )
        .then(|| {
            effective.saturating_add_millis(
                i64::try_from(def.effect_delay_secs.saturating_mul(1000)).unwrap_or(i64::MAX),
            )
        });

        // An erased subject's later events keep no personal field: only the pseudonymous key.
        let (subject, source_id, evidence_text) = if erased {
            (None, None, None)
        } else {
            (
                Some(e.subject.clone()),
                e.source_id.clone(),
                evidence.map(String::from),
            )
        };
        let salt: [u8; 16] = rand::random();
        let digest = personal_digest(
            &salt,
            Some(&e.subject),
            source_id.as_deref(),
            evidence_text.as_deref(),
        );
        let mut row = RawRow {
            kind: e.kind.as_str().into(),
            subject,
            salt: (!erased).then(|| salt.to_vec()),
            personal_digest: Some(digest.to_vec()),
            purpose: Some(def.id.clone()),
            purpose_version: Some(purpose.latest().version.into()),
            recipient: e.recipient.clone(),
            notice_id: notice.as_ref().map(|n| n.def.id.clone()),
            notice_version: notice.as_ref().map(|n| n.def.version.clone()),
            notice_sha256: notice.as_ref().map(|n| n.def.sha256.to_vec()),
            explicit: i64::from(e.explicit),
            method: e.method.map(|m| m.as_str().into()),
            recorded_by: e.recorded_by.to_string(),
            effective_at: effective.as_millis(),
            recorded_at: now.as_millis(),
            expires_at: expires.map(Timestamp::as_millis),
            effect_deadline: deadline.map(Timestamp::as_millis),
            source_id,
            evidence: evidence_text,
            target: e.target.map(|t| t.as_bytes().to_vec()),
            details: (!details.is_empty()).then(|| serde_json::Value::Object(details).to_string()),
            ..self.blank_row(now)
        };
        // The subject's pseudonym is hashed with the event: it binds the event to its
        // subject's erasure, if one ever comes.
        row.subject_key = Some(
            marker
                .unwrap_or_else(|| key.subject_key(&e.subject))
                .to_vec(),
        );
        row.source_key = source_key.map(|k| k.to_vec());
        self.append_raw(&mut row)?;
        if !erased {
            self.refresh_current(&e.subject, purpose.latest(), &row)?;
        }
        row.to_event()
    }

    /// Whether a stored pseudonym is `subject`'s: their keyed pseudonym, the marker of
    /// their erasure, or their schema-1 marker.
    fn is_pseudonym_of(&self, stored: &[u8], subject: &str, marker: Option<[u8; 32]>) -> bool {
        let Ok(key) = self.key() else { return false };
        stored == key.subject_key(subject)
            || marker.is_some_and(|m| stored == m)
            || (self.legacy_markers && stored == key.legacy_marker(subject))
    }

    /// An objection is overruled only by a person, for a purpose that does not rest on
    /// consent, while the objection is in force (Art. 21(1)).
    fn check_overruling(&self, e: &NewEvent, p: &PurposeVersions, now: Timestamp) -> Result<()> {
        let def = &p.latest().def;
        if def.lawful_basis == LawfulBasis::Consent {
            return Err(Error::InvalidConsent(format!(
                "purpose `{}` rests on consent: an objection there ends consent like a withdrawal, and no one can overrule it",
                def.id
            )));
        }
        if e.recorded_by.kind != crate::event::ActorKind::Staff {
            return Err(Error::invalid(
                "a person decides on an objection: an overruling must be recorded by staff:<id>",
            ));
        }
        let events = self.events_of(&e.subject, &def.id)?;
        let at = e.effective_at.unwrap_or(now);
        let d = decide(&events, def.lawful_basis, e.recipient.as_deref(), at, now);
        if d.state != State::Objected {
            return Err(Error::invalid(format!(
                "there is no objection in force to overrule (the state is {})",
                d.state
            )));
        }
        Ok(())
    }

    /// The events of one subject and purpose, without the fields deciding never reads.
    fn events_of(&self, subject: &str, purpose: &str) -> Result<Vec<Event>> {
        let sql = format!(
            "SELECT {DECIDE_COLUMNS} FROM events WHERE subject = ?1 AND purpose = ?2 ORDER BY seq"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([subject, purpose], event_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The subject's events that still carry their personal fields: what an erasure
    /// would blank.
    fn unblanked_events(&self, subject: &str) -> Result<Vec<Event>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE subject = ?1 ORDER BY seq");
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_map([subject], event_from_row)?
            .collect::<rusqlite::Result<_>>()?)
    }

    fn history(&self, subject: &str) -> Result<Vec<Event>> {
        let mut events = self.unblanked_events(subject)?;
        // Blanked events (and the erasure and readmission events) are found by the
        // subject's pseudonyms, also after a readmission.
        let key = self.key()?;
        let mut markers = vec![key.subject_key(subject)];
        if self.legacy_markers {
            markers.push(key.legacy_marker(subject));
        }
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE subject IS NULL AND subject_key = ?1 ORDER BY seq"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        for marker in markers {
            let blanked = stmt
                .query_map([&marker[..]], event_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            events.extend(blanked);
        }
        events.sort_by_key(|e| e.seq);
        events.dedup_by_key(|e| e.seq);
        Ok(events)
    }

    /// Folds a new event into the materialized rows of its subject and purpose: reads
    /// and writes only that group's few rows, never the subject's history.
    fn refresh_current(&self, subject: &str, purpose: &Purpose, row: &RawRow) -> Result<()> {
        let mut rows = read_current(&self.conn, subject, &purpose.def.id)?;
        let step = step_of(row)?;
        for recipient in current::apply(&mut rows, &step, purpose.def.lawful_basis) {
            if let Some(r) = rows.iter().find(|r| r.recipient == recipient) {
                write_current(&self.conn, subject, &purpose.def.id, r)?;
            }
        }
        Ok(())
    }

    /// Rebuilds every materialized row of one purpose from its events (a new version
    /// changed its lawful basis): one pass over that purpose's events in log order.
    fn rematerialize(&self, purpose: &Purpose) -> Result<()> {
        let id = &purpose.def.id;
        self.conn
            .execute("DELETE FROM current WHERE purpose = ?1", [id])?;
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE purpose = ?1 AND subject IS NOT NULL ORDER BY seq"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let mut q = stmt.query([id])?;
        let mut groups: HashMap<String, Vec<CurrentRow>> = HashMap::new();
        while let Some(r) = q.next()? {
            let row = RawRow::from_row(r)?;
            let subject = row.subject.clone().unwrap_or_default();
            let rows = groups.entry(subject).or_default();
            current::apply(rows, &step_of(&row)?, purpose.def.lawful_basis);
        }
        for (subject, rows) in groups {
            for r in &rows {
                write_current(&self.conn, &subject, id, r)?;
            }
        }
        Ok(())
    }

    fn status_now(
        &self,
        subject: &str,
        purpose: &str,
        recipient: Option<&str>,
        now: Timestamp,
    ) -> Result<Status> {
        // Without the key an erased subject cannot be recognised: fail closed for all.
        self.key()?;
        let p = self.asked_purpose(purpose, recipient)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.state, c.since, c.until, c.last_effective, e.id, e.seq, e.notice_id, e.notice_version, \
             e.notice_sha256, e.effect_deadline, e.kind, e.purpose_version FROM current c JOIN events e ON e.seq = c.seq \
             WHERE c.subject = ?1 AND c.purpose = ?2 AND c.recipient IN (?3, '') ORDER BY c.recipient DESC LIMIT 1",
        )?;
        type CurrentRow = (
            String,
            i64,
            Option<i64>,
            i64,
            Vec<u8>,
            i64,
            Option<String>,
            Option<String>,
            Option<Vec<u8>>,
            Option<i64>,
            String,
            Option<u32>,
        );
        let row: Option<CurrentRow> = stmt
            .query_row(params![subject, purpose, recipient.unwrap_or("")], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                    r.get(10)?,
                    r.get(11)?,
                ))
            })
            .optional()?;
        let row = match row {
            // A materialized row is only the answer for now when no event takes effect
            // later (a future-dated withdrawal, say); otherwise decide from the events.
            Some(row) if row.3 <= now.as_millis() => row,
            Some(_) => {
                let events = self.events_of(subject, purpose)?;
                return Ok(status_from(&p, &events, recipient, now, now));
            }
            None if self.is_erased(subject)? => return Ok(erased_status(&p, recipient, now, now)),
            None => return Ok(status_from(&p, &[], recipient, now, now)),
        };
        let (state, since, until, _, id, seq, nid, nver, nhash, deadline, kind, version) = row;
        let corrupt = |what: &str| Error::Corrupt(format!("materialized state: {what}"));
        let mut state = State::parse(&state).ok_or_else(|| corrupt("unknown state"))?;
        let mut since = Timestamp::from_millis(since)?;
        let mut until = until.map(Timestamp::from_millis).transpose()?;
        if state == State::Given {
            if let Some((lapsed, at)) = grant_lapse(&p, seq as u64, since, until, now, now) {
                state = lapsed;
                since = at;
                until = None;
            }
        }
        let then = p.in_force(now);
        let notice = match (nid, nver, nhash) {
            (Some(id), Some(version), Some(h)) => Some(NoticeRef {
                id,
                version,
                sha256: h.try_into().map_err(|_| corrupt("notice hash"))?,
            }),
            _ => None,
        };
        Ok(Status {
            purpose: then.def.id.clone(),
            purpose_version: then.version,
            granted_under_version: version.filter(|_| kind == EventKind::Given.as_str()),
            recipient: recipient.map(Into::into),
            state,
            lawful_basis: then.def.lawful_basis,
            event_id: Some(Uuid::from_slice(&id).map_err(|_| corrupt("event id"))?),
            event_seq: Some(seq as u64),
            since: Some(since),
            until,
            notice,
            effect_deadline: deadline.map(Timestamp::from_millis).transpose()?,
            at: now,
            as_known_at: now,
        })
    }

    fn consenting_now(
        &self,
        p: &PurposeVersions,
        recipient: Option<&str>,
        now: Timestamp,
    ) -> Result<Vec<ConsentingSubject>> {
        let mut out = Vec::new();
        let mut undecided = Vec::new();
        {
            // One covering-index range scan in subject order. Per subject, the
            // purpose-wide row ('') comes first and the recipient's row, if any, wins.
            // The renewal rule needs each grant's seq, which the index does not cover:
            // it is read (one table lookup a row) only once the purpose has changed
            // materially, and is NULL before, when the rule cannot apply.
            let changed = p.changed_materially_by(now);
            let mut stmt = self.conn.prepare_cached(if changed {
                "SELECT subject, state, since, until, last_effective, event_id, seq FROM current \
                 WHERE purpose = ?1 AND recipient IN (?2, '') ORDER BY purpose, subject, recipient"
            } else {
                "SELECT subject, state, since, until, last_effective, event_id, NULL FROM current \
                 WHERE purpose = ?1 AND recipient IN (?2, '') ORDER BY purpose, subject, recipient"
            })?;
            let mut rows = stmt.query(params![p.latest().def.id, recipient.unwrap_or("")])?;
            let now_ms = now.as_millis();
            let mut pending: Option<FeedRow> = None;
            let mut settle = |row: FeedRow| -> Result<()> {
                let (subject, state, since, until, last_effective, id, seq) = row;
                let lapsed = || -> Result<bool> {
                    let since = Timestamp::from_millis(since)?;
                    let until = until.map(Timestamp::from_millis).transpose()?;
                    let seq = seq.map_or(u64::MAX, |s| s as u64);
                    Ok(grant_lapse(p, seq, since, until, now, now).is_some())
                };
                if last_effective > now_ms {
                    undecided.push(subject);
                } else if state == "given" && !lapsed()? {
                    out.push(ConsentingSubject {
                        subject,
                        event_id: Uuid::from_slice(&id)
                            .map_err(|_| Error::Corrupt("event id".into()))?,
                        since: Timestamp::from_millis(since)?,
                        until: until.map(Timestamp::from_millis).transpose()?,
                    });
                }
                Ok(())
            };
            while let Some(r) = rows.next()? {
                let row = (
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                );
                if let Some(prev) = pending.take() {
                    if prev.0 != row.0 {
                        settle(prev)?;
                    }
                }
                pending = Some(row);
            }
            if let Some(prev) = pending {
                settle(prev)?;
            }
        }
        for subject in undecided {
            let events = self.events_of(&subject, &p.latest().def.id)?;
            push_if_given(&mut out, p, &events, subject, recipient, now, now);
        }
        out.sort_by(|a, b| a.subject.cmp(&b.subject));
        Ok(out)
    }

    fn consenting_at(
        &self,
        p: &PurposeVersions,
        recipient: Option<&str>,
        at: Timestamp,
        now: Timestamp,
    ) -> Result<Vec<ConsentingSubject>> {
        let sql = format!("SELECT {DECIDE_COLUMNS} FROM events WHERE purpose = ?1 AND subject IS NOT NULL ORDER BY subject, seq");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query([&p.latest().def.id])?;
        let mut out = Vec::new();
        let mut group: Vec<Event> = Vec::new();
        while let Some(r) = rows.next()? {
            let e = event_from_row(r)?;
            if group.first().is_some_and(|g| g.subject != e.subject) {
                let subject = group[0].subject.clone().unwrap_or_default();
                push_if_given(&mut out, p, &group, subject, recipient, at, now);
                group.clear();
            }
            group.push(e);
        }
        if let Some(first) = group.first() {
            let subject = first.subject.clone().unwrap_or_default();
            push_if_given(&mut out, p, &group, subject, recipient, at, now);
        }
        Ok(out)
    }
}

/// A `current` row as the feed reads it: subject, state, since, until, last effective
/// time, deciding event id, and its seq when the renewal rule needs it.
type FeedRow = (String, String, i64, Option<i64>, i64, Vec<u8>, Option<i64>);

/// Writes (or replaces) one materialized row.
fn write_current(conn: &Connection, subject: &str, purpose: &str, row: &CurrentRow) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO current(subject, purpose, recipient, state, seq, event_id, since, until, \
         last_effective) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        subject,
        purpose,
        row.recipient,
        row.state.as_str(),
        row.seq as i64,
        &row.event_id.as_bytes()[..],
        row.since,
        row.until,
        row.last_effective,
    ])?;
    Ok(())
}

/// The materialized rows of one subject and purpose.
fn read_current(conn: &Connection, subject: &str, purpose: &str) -> Result<Vec<CurrentRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT recipient, state, seq, event_id, since, until, last_effective FROM current \
         WHERE subject = ?1 AND purpose = ?2",
    )?;
    let rows = stmt.query_map([subject, purpose], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, Vec<u8>>(3)?,
            r.get::<_, i64>(4)?,
            r.get::<_, Option<i64>>(5)?,
            r.get::<_, i64>(6)?,
        ))
    })?;
    let corrupt = |what: &str| Error::Corrupt(format!("materialized state: {what}"));
    let mut out = Vec::new();
    for r in rows {
        let (recipient, state, seq, id, since, until, last_effective) = r?;
        out.push(CurrentRow {
            recipient,
            state: State::parse(&state).ok_or_else(|| corrupt("unknown state"))?,
            seq: u64::try_from(seq).map_err(|_| corrupt("negative seq"))?,
            event_id: Uuid::from_slice(&id).map_err(|_| corrupt("event id"))?,
            since,
            until,
            last_effective,
        });
    }
    Ok(out)
}

/// What the materialized state reads of a row.
pub(crate) fn step_of(row: &RawRow) -> Result<Step<'_>> {
    let bad = |what: &str| Error::Corrupt(format!("event {}: {what}", row.seq));
    let uuid = |b: &[u8]| Uuid::from_slice(b).map_err(|_| bad("not a UUID"));
    Ok(Step {
        seq: u64::try_from(row.seq).map_err(|_| bad("negative seq"))?,
        id: uuid(&row.id)?,
        kind: row.kind.parse().map_err(|_| bad("unknown kind"))?,
        recipient: row.recipient.as_deref(),
        effective_at: row.effective_at,
        expires_at: row.expires_at,
        target: row.target.as_deref().map(uuid).transpose()?,
    })
}

fn push_if_given(
    out: &mut Vec<ConsentingSubject>,
    p: &PurposeVersions,
    events: &[Event],
    subject: String,
    recipient: Option<&str>,
    at: Timestamp,
    known: Timestamp,
) {
    let d = decide_at(p, events, recipient, at, known);
    if let (State::Given, Some(e), Some(since)) = (d.state, d.event, d.since) {
        out.push(ConsentingSubject {
            subject,
            event_id: e.id,
            since,
            until: d.until,
        });
    }
}

/// Whether a stored event has the same content as a retried append (idempotency).
/// The notice a withdrawal named that the registry lacked (kept in its details).
fn unknown_notice_of(e: &Event) -> Option<(String, String)> {
    let n = e.details.as_ref()?.get("unknown_notice")?;
    Some((
        n.get("id")?.as_str()?.to_string(),
        n.get("version")?.as_str()?.to_string(),
    ))
}

/// For an erased event (`erased`), the personal fields (subject, evidence) are gone
/// and only the rest is compared; the caller has matched the subject's pseudonym.
fn same_content(existing: &Event, e: &NewEvent, evidence: Option<&str>, erased: bool) -> bool {
    let existing_evidence = existing.evidence.as_ref().map(|v| v.to_string());
    existing.kind == e.kind
        && (erased || existing.subject.as_deref() == Some(e.subject.as_str()))
        && existing.purpose.as_deref() == Some(e.purpose.as_str())
        && existing.recipient == e.recipient
        && existing
            .notice
            .as_ref()
            .map(|n| (n.id.clone(), n.version.clone()))
            .or_else(|| unknown_notice_of(existing))
            == e.notice
        && existing.explicit == e.explicit
        && existing.method == e.method
        && existing.recorded_by == e.recorded_by
        && e.effective_at.is_none_or(|t| t == existing.effective_at)
        && e.expires_at.is_none_or(|t| Some(t) == existing.expires_at)
        && e.validity_from.map(|t| t.to_string()).as_deref()
            == existing
                .details
                .as_ref()
                .and_then(|d| d.get("validity_from"))
                .and_then(|v| v.as_str())
        && (erased || existing_evidence.as_deref() == evidence)
        && existing.target == e.target
}
