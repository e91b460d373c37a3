//! The [`Ledger`] facade: opening and closing, and running every call on the store in
//! the right transaction (`with`, `read`, `write`). What the ledger does lives in one
//! file per job, each an `impl Ledger` block: `registry.rs`, `append.rs`,
//! `answers.rs`, `export.rs`, `erase.rs`, `proofs.rs`, `verify/`; batches in
//! `batch.rs`; a ledger's configuration and key in `setup.rs`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::calendar::Calendar;
use crate::canonical::CANONICAL_VERSION;
use crate::error::{Error, Result};
use crate::event::Actor;
use crate::key::{self, KeySource, PseudonymKey};
use crate::lockfile::WriteLock;
use crate::notice::Notice;
use crate::options::LedgerOptions;
use crate::purpose::PurposeVersions;
use crate::status_cache::StatusCache;
use crate::store::postgres::is_postgres_url;
use crate::store::{Found, RawRow, Store};
use crate::timestamp::Timestamp;

/// A consent ledger on one SQLite file (or in memory).
///
/// `Ledger` is `Send + Sync`: one connection sits behind a mutex, so threads may share
/// a ledger through an `Arc` and each call is atomic. A [`crate::Batch`] belongs to
/// the caller that opened it: other threads' calls wait until it ends (at most the
/// busy timeout) and never join it, so a rollback can only undo the batch owner's own
/// appends. Many processes may open the same file: writers are serialised by the lock
/// file (`<path>-lock`, see `lockfile.rs`) and SQLite's write lock, and every append
/// reads the next sequence number inside its own write transaction.
pub struct Ledger {
    pub(crate) slot: Mutex<Slot>,
    /// Signalled when a batch ends or the ledger closes.
    pub(crate) turn: Condvar,
    path: Option<PathBuf>,
    busy_timeout: Duration,
}

pub(crate) struct Slot {
    pub(crate) inner: Option<Inner>,
    pub(crate) batch: Option<BatchOwner>,
}

/// The ledger's state behind the mutex: the store and what every operation reads.
pub(crate) struct Inner {
    pub(crate) store: Store,
    /// A simulation's clock; `None` on a real ledger (the system clock).
    pub(crate) clock: Option<Arc<dyn Fn() -> Timestamp + Send + Sync>>,
    /// Whether the ledger was created as a simulation (its hashed first event says so).
    pub(crate) simulated: bool,
    /// The pseudonym key; `None` only when opened read-only without one.
    pub(crate) key: Option<PseudonymKey>,
    /// Whether subjects were erased under schema version 1 (their markers use the
    /// version-1 formula).
    pub(crate) legacy_markers: bool,
    /// Set when SQLite itself aborted the open batch (e.g. on a full disk): every
    /// write then fails until the batch is rolled back, so the batch stays all or nothing.
    pub(crate) batch_aborted: Option<String>,
    pub(crate) erasure_wait: Duration,
    /// Current purpose versions and notices, so a status check does not parse JSON.
    pub(crate) purposes: RefCell<PurposeCache>,
    /// Answers to "status now" for the committed state last seen (`status_cache.rs`).
    pub(crate) statuses: RefCell<StatusCache>,
    /// Keeps UUIDv7 ids monotonic within a millisecond, on the ledger's own clock.
    uuid_context: uuid::ContextV7,
    /// The institution's time zone, from the configuration event.
    pub(crate) calendar: Calendar,
}

pub(crate) struct BatchOwner {
    pub(crate) id: u64,
    /// The opening thread (see [`thread_mark`]).
    pub(crate) thread: usize,
    /// Cleared when the owner's token is dropped without ending the batch.
    pub(crate) live: Arc<AtomicBool>,
}

/// Tells threads apart without `std::thread::current()`, which allocates a handle
/// that lives until the thread ends (a leak report under valgrind in C programs).
pub(crate) fn thread_mark() -> usize {
    thread_local!(static MARK: u8 = const { 0 });
    MARK.with(|m| m as *const u8 as usize)
}

/// Current purpose versions and notices, so a status check does not parse JSON.
/// Emptied when another connection commits (SQLite's `data_version` moves) or ours
/// rolls back; read and filled by `registry.rs`.
#[derive(Default)]
pub(crate) struct PurposeCache {
    pub(crate) data_version: i64,
    pub(crate) by_id: HashMap<String, Arc<PurposeVersions>>,
    /// Notices never change once registered, but a rolled-back batch can remove one.
    pub(crate) notices: HashMap<(String, String), Notice>,
}

impl Ledger {
    /// Opens the ledger file at `path` with default options, creating it if the path
    /// does not exist.
    ///
    /// # Errors
    /// As [`Ledger::open_with`].
    pub fn open(path: impl AsRef<Path>) -> Result<Ledger> {
        Self::open_with(path, LedgerOptions::default())
    }

    /// Opens (or, with `options.create`, creates) the ledger at `path`. A version-1
    /// file is migrated in place, in one transaction.
    ///
    /// `path` may also be a PostgreSQL URL (`postgresql://user@host/db?schema=name`):
    /// the ledger then lives in that schema of that database, shared by every host
    /// that opens it (docs/POSTGRES.md). It keeps no files: its pseudonym key comes
    /// from `options.pseudonym_key` as a file or bytes.
    ///
    /// # Errors
    /// Nothing is written to a file that fails these checks:
    /// - [`NotFound`](crate::ErrorKind::NotFound): no ledger there and `options.create`
    ///   is false or `options.read_only` is set (a PostgreSQL schema, likewise).
    /// - [`NotALedger`](crate::ErrorKind::NotALedger): a folder, another application's
    ///   database, not a SQLite file, or an empty one that only creating may fill.
    /// - [`SchemaTooNew`](crate::ErrorKind::SchemaTooNew): written by a newer version;
    ///   [`SqliteTooOld`](crate::ErrorKind::SqliteTooOld): the linked SQLite is too old.
    /// - [`Key`](crate::ErrorKind::Key): the pseudonym key is missing, unreadable or
    ///   not the one the ledger committed to; for PostgreSQL, [`KeySource::Beside`].
    /// - [`InvalidArgument`](crate::ErrorKind::InvalidArgument): a `time_zone` other
    ///   than the ledger's (or unknown, for a new one); a clock on a ledger not created
    ///   as a simulation; `max_pages` or a malformed URL for PostgreSQL.
    /// - [`ReadOnly`](crate::ErrorKind::ReadOnly): an older schema opened read-only
    ///   (it must be migrated once, for writing).
    /// - [`Conflict`](crate::ErrorKind::Conflict): a new PostgreSQL ledger in a schema
    ///   another role owns.
    /// - [`Io`](crate::ErrorKind::Io): the path could not be read or the new file
    ///   created.
    /// - [`Storage`](crate::ErrorKind::Storage): the lock file beside it could not be
    ///   opened (a read-only folder), the server could not be reached, and any other
    ///   failure of the database.
    /// - [`Busy`](crate::ErrorKind::Busy), [`Full`](crate::ErrorKind::Full),
    ///   [`Corrupt`](crate::ErrorKind::Corrupt) while creating, migrating or reading the
    ///   configuration.
    pub fn open_with(path: impl AsRef<Path>, options: LedgerOptions) -> Result<Ledger> {
        if let Some(url) = path.as_ref().to_str().filter(|p| is_postgres_url(p)) {
            return Self::open_postgres(url, options);
        }
        let (mut store, found) = Store::open_file(path.as_ref(), &options)?;
        // One file, one lock file, one default key, whatever link it was opened by
        // (SQLite, too, puts the WAL beside the real file).
        let real = std::fs::canonicalize(path.as_ref())?;
        let path = real.as_path();
        if !options.read_only {
            store.set_lock(Some(WriteLock::open(path)?));
        }
        let key_path = match &options.pseudonym_key {
            KeySource::Beside => Some(key::default_key_path(path)),
            KeySource::File(p) => Some(p.clone()),
            _ => None,
        };
        Self::start(store, found, options, key_path, Some(path.to_path_buf()))
    }

    /// Opens (or creates) the ledger in a PostgreSQL schema.
    fn open_postgres(url: &str, options: LedgerOptions) -> Result<Ledger> {
        let key_path = match &options.pseudonym_key {
            KeySource::File(p) => Some(p.clone()),
            KeySource::Bytes(_) | KeySource::None => None,
            KeySource::Beside => {
                return Err(Error::Key(
                    "a PostgreSQL ledger keeps no files beside it: give its pseudonym key as a file or as bytes".into(),
                ))
            }
        };
        if options.max_pages.is_some() {
            return Err(Error::invalid(
                "max_pages caps a SQLite file; a PostgreSQL ledger's quota is the database's",
            ));
        }
        let (store, found) = Store::open_postgres(url, &options)?;
        Self::start(store, found, options, key_path, None)
    }

    /// A ledger that lives in memory only.
    ///
    /// # Errors
    /// [`SqliteTooOld`](crate::ErrorKind::SqliteTooOld), or
    /// [`Storage`](crate::ErrorKind::Storage) if SQLite cannot allocate it.
    pub fn in_memory() -> Result<Ledger> {
        Self::in_memory_with(LedgerOptions::default())
    }

    /// A ledger in memory with options (e.g. a simulated clock).
    ///
    /// # Errors
    /// As [`Ledger::in_memory`], and [`Key`](crate::ErrorKind::Key) when
    /// `options.pseudonym_key` is [`KeySource::None`] (a file source is ignored: the
    /// key of a ledger in memory is made afresh);
    /// [`InvalidArgument`](crate::ErrorKind::InvalidArgument) for an unknown
    /// `time_zone`.
    pub fn in_memory_with(options: LedgerOptions) -> Result<Ledger> {
        let store = Store::open_memory(&options)?;
        Self::start(store, Found::Fresh, options, None, None)
    }

    fn start(
        store: Store,
        found: Found,
        options: LedgerOptions,
        key_path: Option<PathBuf>,
        path: Option<PathBuf>,
    ) -> Result<Ledger> {
        let mut inner = Inner {
            store,
            clock: options.clock.clone(),
            simulated: false,
            key: None,
            legacy_markers: false,
            batch_aborted: None,
            erasure_wait: options.erasure_wait,
            purposes: RefCell::default(),
            statuses: RefCell::default(),
            uuid_context: uuid::ContextV7::new(),
            calendar: Calendar::default_zone(),
        };
        inner.setup(found, &options, key_path.as_deref())?;
        if let Some(p) = &path {
            inner.store.watch_wal(p)?;
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
    ///
    /// # Errors
    /// The [ledger's errors](crate#errors).
    pub fn now(&self) -> Result<Timestamp> {
        self.with(None, |inner| Ok(inner.now()))
    }

    /// Whether this ledger was created as a simulation (its clock is not the system's).
    ///
    /// # Errors
    /// The [ledger's errors](crate#errors).
    pub fn is_simulated(&self) -> Result<bool> {
        self.with(None, |inner| Ok(inner.simulated))
    }

    /// The file this ledger is stored in, links resolved (`None` in memory).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The institution's time zone (IANA name) the ledger committed to in its first
    /// event: academic years end at midnight there.
    ///
    /// # Errors
    /// The [ledger's errors](crate#errors).
    pub fn time_zone(&self) -> Result<String> {
        self.with(None, |inner| Ok(inner.calendar.name().to_string()))
    }

    /// The ledger's calendar, to read and show local times as the ledger counts them.
    ///
    /// # Errors
    /// The [ledger's errors](crate#errors).
    pub fn calendar(&self) -> Result<Calendar> {
        self.with(None, |inner| Ok(inner.calendar.clone()))
    }

    /// Closes the ledger; later calls return [`Error::Closed`]. An open batch is rolled back.
    ///
    /// # Errors
    /// [`Storage`](crate::ErrorKind::Storage) or [`Busy`](crate::ErrorKind::Busy) if
    /// SQLite could not close the file cleanly; the handle is closed all the same.
    /// Closing twice is no error.
    pub fn close(&self) -> Result<()> {
        let mut slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        slot.batch = None;
        let closed = match slot.inner.take() {
            Some(inner) => inner.store.close(),
            None => Ok(()),
        };
        drop(slot);
        self.turn.notify_all();
        closed
    }

    /// Runs `f` on the ledger's state once no other caller's batch is open. `owner`
    /// is the batch the caller acts in, if any.
    pub(crate) fn with<T>(
        &self,
        owner: Option<u64>,
        f: impl FnOnce(&mut Inner) -> Result<T>,
    ) -> Result<T> {
        let mut slot = self.wait_turn(owner)?;
        let inner = slot.inner.as_mut().ok_or(Error::Closed)?;
        inner.store.check_wal()?;
        f(inner)
    }

    pub(crate) fn wait_turn(&self, owner: Option<u64>) -> Result<MutexGuard<'_, Slot>> {
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
    pub(crate) fn write<T>(
        &self,
        owner: Option<u64>,
        f: impl FnOnce(&Inner, Timestamp) -> Result<T>,
    ) -> Result<T> {
        self.write_prefetching(owner, |_| Ok(()), f)
    }

    /// [`Ledger::write`], asking first (`prefetch`) for what `f` will read: on
    /// PostgreSQL those reads travel in one round trip with the transaction's start
    /// and lock, or in a batch with the previous operation's writes.
    pub(crate) fn write_prefetching<T>(
        &self,
        owner: Option<u64>,
        prefetch: impl FnOnce(&Inner) -> Result<()>,
        f: impl FnOnce(&Inner, Timestamp) -> Result<T>,
    ) -> Result<T> {
        self.with(owner, |inner| {
            if owner.is_some() {
                if let Some(why) = &inner.batch_aborted {
                    return Err(Error::Batch(format!(
                        "the batch was aborted ({why}); roll it back"
                    )));
                }
                if !inner.store.in_transaction() {
                    // SQLite ended the batch's transaction (an I/O error, say): a
                    // savepoint now would start and commit a transaction of its own.
                    inner.batch_aborted = Some("SQLite rolled the transaction back".into());
                    return Err(Error::Batch(
                        "the batch was aborted (SQLite rolled its transaction back); roll it back"
                            .into(),
                    ));
                }
                inner.store.savepoint()?;
                let result = prefetch(inner)
                    .and_then(|()| inner.record_time())
                    .and_then(|now| f(inner, now));
                let store = &inner.store;
                let undone = match &result {
                    Ok(_) => store.end_savepoint(true),
                    Err(_) if !store.in_transaction() => Ok(()),
                    Err(_) => store.end_savepoint(false),
                };
                if result.is_err() {
                    inner.forget_purposes();
                }
                // SQLite rolls the whole transaction back on some errors (a full disk):
                // remember it rather than let later appends commit on their own.
                if !inner.store.in_transaction() || undone.is_err() {
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
                inner.store.begin_write()?;
                let result = {
                    let tx = inner.store.write_tx();
                    prefetch(inner)
                        .and_then(|()| inner.record_time())
                        .and_then(|now| f(inner, now))
                        .and_then(|v| tx.commit().map(|()| v))
                        // Committed into a WAL that was deleted under us: not recorded.
                        .and_then(|v| inner.store.check_wal().map(|()| v))
                };
                if result.is_err() {
                    inner.forget_purposes();
                }
                inner.store.end_write();
                result
            }
        })
    }

    /// Runs `f` in a read transaction, so every read sees one snapshot.
    pub(crate) fn read<T>(
        &self,
        owner: Option<u64>,
        f: impl FnOnce(&Inner, Timestamp) -> Result<T>,
    ) -> Result<T> {
        self.with(owner, |inner| {
            let now = inner.now();
            if owner.is_some() {
                return f(inner, now);
            }
            let tx = inner.store.begin_read()?;
            let v = f(inner, now)?;
            tx.commit()?;
            Ok(v)
        })
    }

    /// Runs `f` without an explicit transaction: for answers that come from one
    /// statement (plus cached registry data), where a snapshot adds only cost.
    pub(crate) fn read_single<T>(
        &self,
        owner: Option<u64>,
        f: impl FnOnce(&Inner, Timestamp) -> Result<T>,
    ) -> Result<T> {
        self.with(owner, |inner| {
            let now = inner.now();
            f(inner, now)
        })
    }
}

impl Inner {
    pub(crate) fn now(&self) -> Timestamp {
        self.clock.as_ref().map_or_else(Timestamp::now, |c| c())
    }

    pub(crate) fn key(&self) -> Result<&PseudonymKey> {
        self.key.as_ref().ok_or_else(|| {
            Error::Key(
                "the ledger was opened without its pseudonym key: questions about subjects need it"
                    .into(),
            )
        })
    }

    /// Ends the open batch without committing: rolls back what SQLite has not already
    /// rolled back, forgets cached registry data, releases the writer lock.
    pub(crate) fn discard_batch(&mut self) {
        self.store.rollback();
        self.batch_aborted = None;
        self.forget_purposes();
        self.store.end_write();
    }

    /// The record time of a write: the clock, but on a real ledger never earlier than
    /// the last record time in the log (a system clock stepped back must not make the
    /// log go back). A simulation may travel in time; it says that it is one.
    pub(crate) fn record_time(&self) -> Result<Timestamp> {
        let now = self.now();
        if self.simulated {
            return Ok(now);
        }
        match self.store.last_recorded()? {
            Some(last) if last > now.as_millis() => Ok(Timestamp::from_millis(last)?),
            _ => Ok(now),
        }
    }

    /// A UUIDv7 whose time is the ledger's clock (so ids agree with record times).
    pub(crate) fn new_id(&self, now: Timestamp) -> Uuid {
        let ms = u64::try_from(now.as_millis()).unwrap_or(0);
        let ts = uuid::Timestamp::from_unix(
            &self.uuid_context,
            ms / 1000,
            (ms % 1000) as u32 * 1_000_000,
        );
        Uuid::new_v7(ts)
    }

    /// A row of the ledger's own making at `now`, with a fresh id.
    pub(crate) fn blank_row(&self, now: Timestamp) -> RawRow {
        RawRow::blank(
            self.new_id(now),
            Actor::system("consent-ledger").to_string(),
            now,
            CANONICAL_VERSION,
        )
    }
}
