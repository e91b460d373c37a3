//! The [`Ledger`]: appends events under the consent rules and answers questions.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::canonical::{personal_digest, sha256};
use crate::error::{Error, Result};
use crate::event::{check_id, Actor, Event, EventKind, NewEvent};
use crate::notice::{Notice, NoticeDef, NoticeRef};
use crate::purpose::{LawfulBasis, Purpose, PurposeDef};
use crate::query::{bears_on, decide, Consenting, ConsentingSubject, State, Status};
use crate::store::{self, event_from_row, LedgerOptions, RawRow, DECIDE_COLUMNS, EVENT_COLUMNS};
use crate::timestamp::Timestamp;
use crate::Head;

/// A consent ledger on one SQLite file (or in memory).
///
/// `Ledger` is `Send + Sync`: one connection sits behind a mutex, so threads may share
/// a ledger through an `Arc` and each call is atomic. Many processes may open the same
/// file; SQLite's write lock serialises their appends, and every append reads the
/// next sequence number inside its own write transaction, so none is skipped or reused.
pub struct Ledger {
    inner: Mutex<Option<Inner>>,
    path: Option<PathBuf>,
}

struct Inner {
    conn: Connection,
    clock: Option<Arc<dyn Fn() -> Timestamp + Send + Sync>>,
    pepper: Vec<u8>,
    in_batch: bool,
    /// Set when SQLite itself aborted the open batch (e.g. on a full disk): every
    /// write then fails until the batch is rolled back, so the batch stays all or nothing.
    batch_aborted: Option<String>,
    /// The configured busy timeout, restored after a short checkpoint wait.
    busy_timeout: std::time::Duration,
    /// Current purpose versions, so a status check does not parse JSON. Emptied when
    /// another connection commits (SQLite's `data_version` moves) or ours rolls back.
    purposes: RefCell<PurposeCache>,
    /// Keeps UUIDv7 ids monotonic within a millisecond, on the ledger's own clock.
    uuid_context: uuid::ContextV7,
}

#[derive(Default)]
struct PurposeCache {
    data_version: i64,
    by_id: HashMap<String, Arc<Purpose>>,
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
    /// Whether the WAL was checkpointed and truncated, so no copy of the erased
    /// values remains in it. False when another connection kept a read open; run
    /// [`Ledger::checkpoint`] again later.
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

impl Ledger {
    /// Opens or creates the ledger file at `path` with default options.
    pub fn open(path: impl AsRef<Path>) -> Result<Ledger> {
        Self::open_with(path, LedgerOptions::default())
    }

    /// Opens or creates the ledger file at `path`.
    pub fn open_with(path: impl AsRef<Path>, options: LedgerOptions) -> Result<Ledger> {
        let path = path.as_ref();
        let conn = store::open_file(path, &options)?;
        Self::from_conn(conn, options, Some(path.to_path_buf()))
    }

    /// A ledger that lives in memory only.
    pub fn in_memory() -> Result<Ledger> {
        Self::in_memory_with(LedgerOptions::default())
    }

    /// A ledger in memory with options (e.g. a fake clock).
    pub fn in_memory_with(options: LedgerOptions) -> Result<Ledger> {
        let conn = store::open_memory(&options)?;
        Self::from_conn(conn, options, None)
    }

    fn from_conn(
        conn: Connection,
        options: LedgerOptions,
        path: Option<PathBuf>,
    ) -> Result<Ledger> {
        let pepper = store::pepper(&conn)?;
        let inner = Inner {
            conn,
            clock: options.clock,
            pepper,
            in_batch: false,
            batch_aborted: None,
            busy_timeout: options.busy_timeout,
            purposes: RefCell::default(),
            uuid_context: uuid::ContextV7::new(),
        };
        Ok(Ledger {
            inner: Mutex::new(Some(inner)),
            path,
        })
    }

    /// The ledger's "now": the system clock, or the clock given in the options.
    /// Callers asking "as known now" about a past moment pass this as `as_known_at`.
    pub fn now(&self) -> Result<Timestamp> {
        self.with(|inner| Ok(inner.now()))
    }

    /// The file this ledger is stored in (`None` in memory).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Closes the ledger; later calls return [`Error::Closed`]. An open batch is rolled back.
    pub fn close(&self) -> Result<()> {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(inner) = guard.take() {
            if inner.in_batch {
                let _ = inner.conn.execute_batch("ROLLBACK");
            }
            inner.conn.close().map_err(|(_, e)| Error::from(e))?;
        }
        Ok(())
    }

    fn lock(&self) -> Result<MutexGuard<'_, Option<Inner>>> {
        // A panic while holding the lock cannot leave a half-written transaction behind
        // (SQLite rolls it back), so a poisoned lock is safe to reuse.
        let guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            return Err(Error::Closed);
        }
        Ok(guard)
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> Result<T>) -> Result<T> {
        let mut guard = self.lock()?;
        f(guard.as_mut().expect("checked by lock"))
    }

    /// Runs `f` in a write transaction (or a savepoint inside an open batch): all of
    /// it lands or none of it does.
    fn write<T>(&self, f: impl FnOnce(&Inner, Timestamp) -> Result<T>) -> Result<T> {
        self.with(|inner| {
            if inner.in_batch {
                if let Some(why) = &inner.batch_aborted {
                    return Err(Error::Batch(format!(
                        "the batch was aborted ({why}); roll it back"
                    )));
                }
                exec(&inner.conn, "SAVEPOINT op")?;
                let now = inner.now();
                let result = f(inner, now);
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
                let tx = Tx::begin(&inner.conn, "BEGIN IMMEDIATE")?;
                let now = inner.now();
                let result = f(inner, now).and_then(|v| tx.commit().map(|()| v));
                if result.is_err() {
                    inner.forget_purposes();
                }
                result
            }
        })
    }

    /// Runs `f` in a read transaction, so every read sees one snapshot.
    fn read<T>(&self, f: impl FnOnce(&Inner, Timestamp) -> Result<T>) -> Result<T> {
        self.with(|inner| {
            let now = inner.now();
            if inner.in_batch {
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
    fn read_single<T>(&self, f: impl FnOnce(&Inner, Timestamp) -> Result<T>) -> Result<T> {
        self.with(|inner| {
            let now = inner.now();
            f(inner, now)
        })
    }

    // ---- batches ---------------------------------------------------------------

    /// Starts a batch: every append until [`Ledger::commit_batch`] lands together or,
    /// on [`Ledger::rollback_batch`] (or close), not at all. The batch belongs to this
    /// handle: appends from other threads through the same handle join it.
    pub fn begin_batch(&self) -> Result<()> {
        self.with(|inner| {
            if inner.in_batch {
                return Err(Error::Batch("a batch is already open".into()));
            }
            inner.conn.execute_batch("BEGIN IMMEDIATE")?;
            inner.in_batch = true;
            Ok(())
        })
    }

    /// Commits the open batch.
    pub fn commit_batch(&self) -> Result<()> {
        self.with(|inner| {
            if !inner.in_batch {
                return Err(Error::Batch("no batch is open".into()));
            }
            if let Some(why) = inner.batch_aborted.take() {
                inner.in_batch = false;
                let _ = inner.conn.execute_batch("ROLLBACK");
                return Err(Error::Batch(format!(
                    "the batch was aborted ({why}); nothing was committed"
                )));
            }
            let committed = inner.conn.execute_batch("COMMIT");
            // A failed COMMIT may leave the transaction open (busy: retry or roll back)
            // or gone (SQLite rolled it back): the handle follows SQLite.
            if committed.is_ok() || inner.conn.is_autocommit() {
                inner.in_batch = false;
            }
            Ok(committed?)
        })
    }

    /// Discards the open batch.
    pub fn rollback_batch(&self) -> Result<()> {
        self.with(|inner| {
            if !inner.in_batch {
                return Err(Error::Batch("no batch is open".into()));
            }
            inner.in_batch = false;
            inner.forget_purposes();
            if inner.batch_aborted.take().is_some() || inner.conn.is_autocommit() {
                // SQLite already rolled the transaction back.
                return Ok(());
            }
            inner.conn.execute_batch("ROLLBACK")?;
            Ok(())
        })
    }

    /// Appends every event or none: the batch API for imports.
    pub fn append_all(&self, events: impl IntoIterator<Item = NewEvent>) -> Result<Vec<Event>> {
        self.begin_batch()?;
        let mut out = Vec::new();
        for e in events {
            match self.append(e) {
                Ok(ev) => out.push(ev),
                Err(err) => {
                    // The append's error is the one to report, whatever the rollback says.
                    let _ = self.rollback_batch();
                    return Err(err);
                }
            }
        }
        self.commit_batch()?;
        Ok(out)
    }

    // ---- registry --------------------------------------------------------------

    /// Registers a purpose or a new version of it. Registering an unchanged definition
    /// returns the current version and appends nothing.
    pub fn register_purpose(&self, def: PurposeDef) -> Result<Purpose> {
        def.validate()?;
        self.write(|inner, now| {
            if let Some(p) = inner.purpose(&def.id)? {
                if p.def == def {
                    return Ok(Purpose::clone(&p));
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
            }, None)?;
            conn.execute(
                "INSERT INTO purposes(id, version, seq, registered_at, def) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![def.id, version, seq as i64, now.as_millis(), details],
            )?;
            let purpose = Purpose { def, version, seq, registered_at: now };
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
        def.validate()?;
        self.write(|inner, now| {
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
            }, None)?;
            inner.conn.execute(
                "INSERT INTO notices(id, version, seq, registered_at, def) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![def.id, def.version, seq as i64, now.as_millis(), details],
            )?;
            Ok(Notice { def, seq, registered_at: now })
        })
    }

    /// The current version of a purpose.
    pub fn purpose(&self, id: &str) -> Result<Purpose> {
        self.read(|inner, _| {
            inner
                .purpose(id)?
                .map(|p| Purpose::clone(&p))
                .ok_or_else(|| Error::UnknownPurpose(id.into()))
        })
    }

    /// Every version of every purpose, by id then version.
    pub fn purposes(&self) -> Result<Vec<Purpose>> {
        self.read(|inner, _| inner.all_purposes(None))
    }

    /// Every registered notice.
    pub fn notices(&self) -> Result<Vec<Notice>> {
        self.read(|inner, _| {
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
        check_new_event(&event)?;
        let evidence = event
            .evidence
            .as_ref()
            .map(|v| serde_json::to_string(v).map_err(|e| Error::invalid(e.to_string())))
            .transpose()?;
        self.write(|inner, now| inner.append_event(&event, evidence.as_deref(), now))
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
        self.read(|inner, _| {
            let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = ?1");
            inner
                .conn
                .prepare_cached(&sql)?
                .query_row([&id.as_bytes()[..]], event_from_row)
                .optional()?
                .ok_or_else(|| Error::NotFound(format!("event {id}")))
        })
    }

    /// Status now, from the materialized current state (an index lookup).
    pub fn status(&self, subject: &str, purpose: &str, recipient: Option<&str>) -> Result<Status> {
        self.read_single(|inner, now| inner.status_now(subject, purpose, recipient, now))
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
        self.read(|inner, now| {
            let p = inner
                .purpose(purpose)?
                .ok_or_else(|| Error::UnknownPurpose(purpose.into()))?;
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
        self.read(|inner, _| inner.history(subject))
    }

    /// Every subject with consent in force for `purpose` (and `recipient`) at `at`
    /// (default now), with the head that answered.
    pub fn consenting(
        &self,
        purpose: &str,
        recipient: Option<&str>,
        at: Option<Timestamp>,
    ) -> Result<Consenting> {
        self.read(|inner, now| {
            let p = inner
                .purpose(purpose)?
                .ok_or_else(|| Error::UnknownPurpose(purpose.into()))?;
            let at_t = at.unwrap_or(now);
            let subjects = if at.is_none() {
                inner.consenting_now(&p, recipient, now)?
            } else {
                inner.consenting_at(&p, recipient, at_t, now)?
            };
            Ok(Consenting {
                purpose: purpose.into(),
                recipient: recipient.map(Into::into),
                at: at_t,
                subjects,
                head: inner.head()?,
            })
        })
    }

    /// Events with `seq >= since`, at most `limit` of them: a change feed. Pass the
    /// `seq + 1` of the last event seen (or a head's size) to continue.
    pub fn changes_since(&self, since: u64, limit: usize) -> Result<Vec<Event>> {
        self.read(|inner, _| {
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
        self.read(|inner, now| {
            let events = inner.history(subject)?;
            let mut purposes = Vec::new();
            let mut notices = Vec::new();
            let mut statuses = Vec::new();
            let mut keys: Vec<(String, Option<String>)> = events
                .iter()
                .filter_map(|e| e.purpose.clone().map(|p| (p, e.recipient.clone())))
                .collect();
            keys.sort();
            keys.dedup();
            for (p, r) in &keys {
                if !purposes.iter().any(|x: &Purpose| &x.def.id == p) {
                    purposes.extend(inner.all_purposes(Some(p))?);
                }
                statuses.push(inner.status_now(subject, p, r.as_deref(), now)?);
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
        self.read(|inner, _| inner.head())
    }

    /// Runs `f` with the connection in a read transaction (for `chain.rs` and `verify.rs`).
    pub(crate) fn read_conn<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.read(|inner, _| f(&inner.conn))
    }

    // ---- erasure ---------------------------------------------------------------

    /// Erases a subject: blanks subject, source id, evidence and salt in every event
    /// about them (their digests stay, so every hash still verifies), drops their
    /// materialized state, records a pseudonymous marker so later grants are refused,
    /// appends a `subject_erased` event and checkpoints the WAL so no copy of the
    /// erased values remains in it.
    pub fn erase_subject(
        &self,
        subject: &str,
        reason: &str,
        actor: Actor,
    ) -> Result<ErasureReport> {
        check_id("subject", subject)?;
        if reason.trim().is_empty() {
            return Err(Error::invalid("an erasure needs a reason"));
        }
        let mut report = self.write(|inner, now| {
            if inner.is_erased(subject)? {
                return Err(Error::SubjectErased);
            }
            let conn = &inner.conn;
            let key = inner.subject_key(subject);
            // The pseudonymous key keeps the blanked events findable by `history`.
            let n = conn.execute(
                "UPDATE events SET subject = NULL, source_id = NULL, evidence = NULL, salt = NULL, \
                 subject_key = ?2 WHERE subject = ?1",
                params![subject, &key[..]],
            )?;
            conn.execute("DELETE FROM current WHERE subject = ?1", [subject])?;
            // The erasure event carries a digest whose salt is thrown away at once.
            let salt: [u8; 16] = rand::random();
            let details = serde_json::json!({
                "reason": reason,
                "events_erased": n,
                "subject_key": hex::encode(key),
            })
            .to_string();
            let mut row = RawRow {
                kind: EventKind::SubjectErased.as_str().into(),
                personal_digest: Some(personal_digest(&salt, Some(subject), None, None).to_vec()),
                recorded_by: actor.to_string(),
                details: Some(details),
                ..inner.blank_row(now)
            };
            let id = Uuid::from_slice(&row.id).expect("16 bytes");
            let seq = inner.append_raw(&mut row, Some(&key))?;
            conn.execute(
                "INSERT INTO erased(subject_key, seq) VALUES (?1, ?2)",
                params![&key[..], seq as i64],
            )?;
            Ok(ErasureReport {
                event_id: id,
                seq,
                events_erased: n as u64,
                wal_truncated: false,
            })
        })?;
        report.wal_truncated = self.checkpoint()?;
        Ok(report)
    }

    /// Checkpoints the WAL into the database file and truncates it. Returns whether the
    /// checkpoint completed (false if another connection kept a read open). Inside a
    /// batch it does nothing and returns false.
    pub fn checkpoint(&self) -> Result<bool> {
        self.with(|inner| {
            if inner.conn.path().is_none_or(str::is_empty) {
                return Ok(true); // in memory: no file, no WAL
            }
            if inner.in_batch {
                return Ok(false); // the batch's transaction pins the WAL
            }
            // A reader elsewhere blocks a truncating checkpoint; wait briefly rather
            // than the full busy timeout while holding this handle.
            inner
                .conn
                .busy_timeout(std::time::Duration::from_millis(250))?;
            let done = inner
                .conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                    Ok(r.get::<_, i64>(0)? == 0)
                });
            inner.conn.busy_timeout(
                inner
                    .busy_timeout
                    .min(std::time::Duration::from_millis(i32::MAX as u64)),
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
        })
    })())
}

/// Validation that needs no storage.
fn check_new_event(e: &NewEvent) -> Result<()> {
    if !e.kind.is_subject_event() {
        return Err(Error::invalid(format!(
            "`{}` events are appended by the ledger itself",
            e.kind
        )));
    }
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
    if e.expires_at.is_some() && e.kind != EventKind::Given {
        return Err(Error::invalid("only a grant can carry an expiry"));
    }
    if e.target.is_some() && e.kind != EventKind::Invalidated {
        return Err(Error::invalid("only an invalidation names a target event"));
    }
    Ok(())
}

fn status_from(
    p: &Purpose,
    events: &[Event],
    recipient: Option<&str>,
    at: Timestamp,
    known: Timestamp,
) -> Status {
    let d = decide(events, p.def.lawful_basis, recipient, at, known, true);
    Status {
        purpose: p.def.id.clone(),
        purpose_version: p.version,
        recipient: recipient.map(Into::into),
        state: d.state,
        lawful_basis: p.def.lawful_basis,
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

fn erased_status(p: &Purpose, recipient: Option<&str>, at: Timestamp, known: Timestamp) -> Status {
    Status {
        purpose: p.def.id.clone(),
        purpose_version: p.version,
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

    fn subject_key(&self, subject: &str) -> [u8; 32] {
        let mut data = b"consent-ledger/erased/v1\0".to_vec();
        data.extend_from_slice(&self.pepper);
        data.extend_from_slice(subject.as_bytes());
        sha256(&data)
    }

    fn is_erased(&self, subject: &str) -> Result<bool> {
        let key = self.subject_key(subject);
        let mut stmt = self
            .conn
            .prepare_cached("SELECT 1 FROM erased WHERE subject_key = ?1")?;
        Ok(stmt.exists([&key[..]])?)
    }

    /// The current version of a purpose, shared from the cache (no copy per call).
    fn purpose(&self, id: &str) -> Result<Option<Arc<Purpose>>> {
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

    fn purpose_uncached(&self, id: &str) -> Result<Option<Purpose>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT version, seq, registered_at, def FROM purposes WHERE id = ?1 ORDER BY version DESC LIMIT 1",
        )?;
        stmt.query_row([id], purpose_row).optional()?.transpose()
    }

    fn all_purposes(&self, id: Option<&str>) -> Result<Vec<Purpose>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT version, seq, registered_at, def FROM purposes WHERE ?1 IS NULL OR id = ?1 ORDER BY id, version",
        )?;
        let rows = stmt.query_map([id], purpose_row)?;
        rows.map(|r| r?).collect()
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
            malformed: None,
        }
    }

    /// Assigns the next sequence number, inserts the row and its tree hashes. Must run
    /// inside a write transaction.
    fn append_raw(&self, row: &mut RawRow, subject_key: Option<&[u8]>) -> Result<u64> {
        let seq = store::size(&self.conn)?;
        row.seq = i64::try_from(seq).map_err(|_| Error::Corrupt("sequence overflow".into()))?;
        let leaf = row.canonical().leaf_hash();
        row.insert(&self.conn, subject_key)?;
        store::append_leaf(&self.conn, seq, leaf)?;
        Ok(seq)
    }

    fn event_by_source(&self, source_id: &str) -> Result<Option<Event>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE source_id = ?1");
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_row([source_id], event_from_row)
            .optional()?)
    }

    fn append_event(&self, e: &NewEvent, evidence: Option<&str>, now: Timestamp) -> Result<Event> {
        if let Some(src) = &e.source_id {
            if let Some(existing) = self.event_by_source(src)? {
                if same_content(&existing, e, evidence) {
                    return Ok(existing);
                }
                return Err(Error::Conflict(
                    "the source id was already used for an event with different content".into(),
                ));
            }
        }
        let purpose = self
            .purpose(&e.purpose)?
            .ok_or_else(|| Error::UnknownPurpose(e.purpose.clone()))?;
        let def = &purpose.def;
        let erased = self.is_erased(&e.subject)?;
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
        // Withdrawals are never refused, whatever recipient they name.
        if let Some(r) = &e.recipient {
            if !e.kind.is_withdrawal() && !def.recipients.is_empty() && !def.recipients.contains(r)
            {
                return Err(Error::UnknownRecipient {
                    purpose: def.id.clone(),
                    recipient: r.clone(),
                });
            }
        }
        let notice = match &e.notice {
            Some((id, version)) => Some(
                self.notice(id, version)?
                    .ok_or_else(|| Error::UnknownNotice(format!("{id} version {version}")))?,
            ),
            None => None,
        };
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
        let expires = if is_grant {
            e.expires_at.or_else(|| def.validity.expiry(effective))
        } else {
            None
        };
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
            purpose_version: Some(purpose.version.into()),
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
            ..self.blank_row(now)
        };
        let key = erased.then(|| self.subject_key(&e.subject));
        self.append_raw(&mut row, key.as_ref().map(|k| &k[..]))?;
        if !erased {
            self.refresh_current(&e.subject, &purpose, e.recipient.as_deref())?;
        }
        row.to_event()
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

    fn history(&self, subject: &str) -> Result<Vec<Event>> {
        let key = self.subject_key(subject);
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE subject = ?1 \
             UNION ALL SELECT {EVENT_COLUMNS} FROM events WHERE subject_key = ?2 AND subject IS NULL ORDER BY seq"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![subject, &key[..]], event_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Recomputes the materialized rows touched by an event: the recipient's row, or
    /// every row of the subject and purpose when the event names no recipient.
    fn refresh_current(
        &self,
        subject: &str,
        purpose: &Purpose,
        recipient: Option<&str>,
    ) -> Result<()> {
        let events = self.events_of(subject, &purpose.def.id)?;
        for row in materialize(&events, purpose.def.lawful_basis) {
            if recipient.is_none_or(|r| row.recipient == r) {
                write_current(&self.conn, subject, &purpose.def.id, &row)?;
            }
        }
        Ok(())
    }

    /// Rebuilds every materialized row of one purpose from its events.
    fn rematerialize(&self, purpose: &Purpose) -> Result<()> {
        self.conn
            .execute("DELETE FROM current WHERE purpose = ?1", [&purpose.def.id])?;
        for_each_group(&self.conn, Some(&purpose.def.id), |subject, _, events| {
            for row in materialize(events, purpose.def.lawful_basis) {
                write_current(&self.conn, subject, &purpose.def.id, &row)?;
            }
            Ok(true)
        })
    }

    fn status_now(
        &self,
        subject: &str,
        purpose: &str,
        recipient: Option<&str>,
        now: Timestamp,
    ) -> Result<Status> {
        let p = self
            .purpose(purpose)?
            .ok_or_else(|| Error::UnknownPurpose(purpose.into()))?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.state, c.since, c.until, c.last_effective, e.id, e.seq, e.notice_id, e.notice_version, \
             e.notice_sha256, e.effect_deadline FROM current c JOIN events e ON e.seq = c.seq \
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
        let (state, since, until, _, id, seq, nid, nver, nhash, deadline) = row;
        let corrupt = |what: &str| Error::Corrupt(format!("materialized state: {what}"));
        let mut state = State::parse(&state).ok_or_else(|| corrupt("unknown state"))?;
        let mut since = Timestamp::from_millis(since)?;
        let mut until = until.map(Timestamp::from_millis).transpose()?;
        if state == State::Given {
            if let Some(exp) = until.filter(|x| *x <= now) {
                state = State::Expired;
                since = exp;
                until = None;
            }
        }
        let notice = match (nid, nver, nhash) {
            (Some(id), Some(version), Some(h)) => Some(NoticeRef {
                id,
                version,
                sha256: h.try_into().map_err(|_| corrupt("notice hash"))?,
            }),
            _ => None,
        };
        Ok(Status {
            purpose: p.def.id.clone(),
            purpose_version: p.version,
            recipient: recipient.map(Into::into),
            state,
            lawful_basis: p.def.lawful_basis,
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
        p: &Purpose,
        recipient: Option<&str>,
        now: Timestamp,
    ) -> Result<Vec<ConsentingSubject>> {
        let mut out = Vec::new();
        let mut undecided = Vec::new();
        {
            // One covering-index range scan in subject order. Per subject, the
            // purpose-wide row ('') comes first and the recipient's row, if any, wins.
            let mut stmt = self.conn.prepare_cached(
                "SELECT subject, state, since, until, last_effective, event_id FROM current \
                 WHERE purpose = ?1 AND recipient IN (?2, '') ORDER BY purpose, subject, recipient",
            )?;
            let mut rows = stmt.query(params![p.def.id, recipient.unwrap_or("")])?;
            let now_ms = now.as_millis();
            let mut pending: Option<FeedRow> = None;
            let mut settle = |row: FeedRow| -> Result<()> {
                let (subject, state, since, until, last_effective, id) = row;
                if last_effective > now_ms {
                    undecided.push(subject);
                } else if state == "given" && until.is_none_or(|u| u > now_ms) {
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
            let events = self.events_of(&subject, &p.def.id)?;
            push_if_given(&mut out, p, &events, subject, recipient, now, now);
        }
        out.sort_by(|a, b| a.subject.cmp(&b.subject));
        Ok(out)
    }

    fn consenting_at(
        &self,
        p: &Purpose,
        recipient: Option<&str>,
        at: Timestamp,
        now: Timestamp,
    ) -> Result<Vec<ConsentingSubject>> {
        let sql = format!("SELECT {DECIDE_COLUMNS} FROM events WHERE purpose = ?1 AND subject IS NOT NULL ORDER BY subject, seq");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query([&p.def.id])?;
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
/// time, deciding event id.
type FeedRow = (String, String, i64, Option<i64>, i64, Vec<u8>);

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

/// One row of the `current` table, without its subject and purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CurrentRow {
    /// Recipient, `""` for purpose-wide.
    pub recipient: String,
    pub state: State,
    pub seq: u64,
    pub event_id: Uuid,
    pub since: i64,
    pub until: Option<i64>,
    pub last_effective: i64,
}

/// The materialized rows of one subject and purpose: one purpose-wide and one per
/// recipient named in the events, each the state after the latest decision (expiry is
/// applied when read). One definition, used to write the table and by `verify` to
/// check it.
pub(crate) fn materialize(events: &[Event], basis: LawfulBasis) -> Vec<CurrentRow> {
    let mut recipients: Vec<Option<&str>> = events.iter().map(|e| e.recipient.as_deref()).collect();
    recipients.push(None);
    recipients.sort();
    recipients.dedup();
    recipients
        .into_iter()
        .filter_map(|r| {
            let d = decide(events, basis, r, max_ts(), max_ts(), false);
            let ev = d.event?;
            let last_effective = events
                .iter()
                .filter(|e| bears_on(e.recipient.as_deref(), r))
                .map(|e| e.effective_at.as_millis())
                .max()
                .unwrap_or(0);
            Some(CurrentRow {
                recipient: r.unwrap_or("").to_string(),
                state: d.state,
                seq: ev.seq,
                event_id: ev.id,
                since: d
                    .since
                    .map_or(ev.effective_at.as_millis(), Timestamp::as_millis),
                until: d.until.map(Timestamp::as_millis),
                last_effective,
            })
        })
        .collect()
}

/// Calls `f(subject, purpose, events)` for each (subject, purpose) group of
/// non-erased events, in index order; `f` returns false to stop.
fn for_each_group(
    conn: &Connection,
    purpose: Option<&str>,
    mut f: impl FnMut(&str, &str, &[Event]) -> Result<bool>,
) -> Result<()> {
    let sql = format!(
        "SELECT {DECIDE_COLUMNS} FROM events WHERE subject IS NOT NULL AND purpose IS NOT NULL \
         AND (?1 IS NULL OR purpose = ?1) ORDER BY subject, purpose, seq"
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([purpose])?;
    let mut group: Vec<Event> = Vec::new();
    while let Some(r) = rows.next()? {
        let e = event_from_row(r)?;
        if group
            .first()
            .is_some_and(|g| g.subject != e.subject || g.purpose != e.purpose)
        {
            if !call_group(&mut f, &group)? {
                return Ok(());
            }
            group.clear();
        }
        group.push(e);
    }
    if !group.is_empty() {
        call_group(&mut f, &group)?;
    }
    Ok(())
}

fn call_group(
    f: &mut impl FnMut(&str, &str, &[Event]) -> Result<bool>,
    group: &[Event],
) -> Result<bool> {
    let first = &group[0];
    f(
        first.subject.as_deref().unwrap_or(""),
        first.purpose.as_deref().unwrap_or(""),
        group,
    )
}

/// Checks the tables derived from the log (registry and materialized state) against
/// the events. Returns the sequence number and description of the first mismatch.
pub(crate) fn check_derived(conn: &Connection) -> Result<Option<(u64, String)>> {
    // Registry tables: each row is exactly the definition in its event.
    let mut stmt = conn.prepare(
        "SELECT e.seq, e.kind, coalesce(e.purpose, e.notice_id), coalesce(e.purpose_version, e.notice_version), e.details, \
         (SELECT count(*) FROM purposes p WHERE p.seq = e.seq AND p.id = e.purpose AND p.version = e.purpose_version \
          AND p.def = e.details AND p.registered_at = e.recorded_at) + \
         (SELECT count(*) FROM notices n WHERE n.seq = e.seq AND n.id = e.notice_id AND n.version = e.notice_version \
          AND n.def = e.details AND n.registered_at = e.recorded_at) \
         FROM events e WHERE e.kind IN ('purpose_defined', 'notice_defined') ORDER BY e.seq",
    )?;
    let mut rows = stmt.query([])?;
    let mut registry_events = 0i64;
    while let Some(r) = rows.next()? {
        registry_events += 1;
        if r.get::<_, i64>(5)? != 1 {
            let seq: i64 = r.get(0)?;
            return Ok(Some((
                seq as u64,
                format!("the registry table row for event {seq} differs from the event"),
            )));
        }
    }
    let registry_rows: i64 = conn.query_row(
        "SELECT (SELECT count(*) FROM purposes) + (SELECT count(*) FROM notices)",
        [],
        |r| r.get(0),
    )?;
    if registry_rows != registry_events {
        let seq: i64 = conn.query_row(
            "SELECT coalesce(min(CAST(seq AS INTEGER)), 0) FROM (SELECT seq FROM purposes UNION ALL SELECT seq FROM notices) \
             WHERE seq NOT IN (SELECT seq FROM events WHERE kind IN ('purpose_defined', 'notice_defined'))",
            [],
            |r| r.get(0),
        )?;
        return Ok(Some((
            seq as u64,
            "the registry tables hold rows no event defines".into(),
        )));
    }
    // Materialized state: recompute every row from the events.
    let mut bases = std::collections::HashMap::new();
    for p in conn
        .prepare("SELECT id, def FROM purposes ORDER BY id, version")?
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
    {
        let (id, def) = p?;
        let def: PurposeDef = serde_json::from_str(&def)
            .map_err(|e| Error::Corrupt(format!("purpose definition: {e}")))?;
        bases.insert(id, def.lawful_basis);
    }
    let mut found = None;
    let mut expected_rows = 0i64;
    let mut current = conn.prepare(
        "SELECT recipient, state, seq, since, until, last_effective, event_id FROM current \
         WHERE subject = ?1 AND purpose = ?2 ORDER BY recipient",
    )?;
    for_each_group(conn, None, |subject, purpose, events| {
        let basis = bases.get(purpose).copied().unwrap_or(LawfulBasis::Consent);
        let mut want = materialize(events, basis);
        want.sort_by(|a, b| a.recipient.cmp(&b.recipient));
        expected_rows += want.len() as i64;
        let have = current
            .query_map([subject, purpose], current_row_loosely)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        if have != want {
            let seq = events.last().map_or(0, |e| e.seq);
            found = Some((
                seq,
                format!("the materialized state of the events up to {seq} is wrong"),
            ));
            return Ok(false);
        }
        Ok(true)
    })?;
    if found.is_some() {
        return Ok(found);
    }
    let rows: i64 = conn.query_row("SELECT count(*) FROM current", [], |r| r.get(0))?;
    if rows != expected_rows {
        // Every group was checked, so the extra rows belong to no group of events.
        let seq: i64 = conn.query_row(
            "SELECT coalesce(min(CAST(c.seq AS INTEGER)), 0) FROM current c WHERE NOT EXISTS \
             (SELECT 1 FROM events e WHERE e.subject = c.subject AND e.purpose = c.purpose)",
            [],
            |r| r.get(0),
        )?;
        return Ok(Some((
            seq as u64,
            format!("the materialized state has {rows} rows, the events imply {expected_rows}"),
        )));
    }
    // Erasure markers: exactly one per `subject_erased` event, with the key its hashed
    // details name (so a marker cannot be dropped or re-pointed to revive a subject).
    let bad_marker: Option<i64> = conn
        .query_row(
            "SELECT e.seq FROM events e WHERE e.kind = 'subject_erased' AND NOT EXISTS \
             (SELECT 1 FROM erased x WHERE x.seq = e.seq AND x.subject_key = e.subject_key \
              AND lower(hex(x.subject_key)) = json_extract(e.details, '$.subject_key')) \
             ORDER BY e.seq LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(seq) = bad_marker {
        return Ok(Some((
            seq as u64,
            format!("the erasure marker of event {seq} is missing or altered"),
        )));
    }
    let (markers, erasures): (i64, i64) = conn.query_row(
        "SELECT (SELECT count(*) FROM erased), (SELECT count(*) FROM events WHERE kind = 'subject_erased')",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if markers != erasures {
        let seq: i64 = conn.query_row(
            "SELECT coalesce(min(CAST(seq AS INTEGER)), 0) FROM erased x WHERE NOT EXISTS \
             (SELECT 1 FROM events e WHERE e.seq = x.seq AND e.kind = 'subject_erased')",
            [],
            |r| r.get(0),
        )?;
        return Ok(Some((
            seq as u64,
            "the erasure markers include one no event records".into(),
        )));
    }
    Ok(None)
}

/// Reads a `current` row without failing on a tampered storage type: a value of the
/// wrong type becomes one that cannot equal a recomputed row.
fn current_row_loosely(r: &rusqlite::Row<'_>) -> rusqlite::Result<CurrentRow> {
    use rusqlite::types::ValueRef;
    let text = |i: usize| -> rusqlite::Result<Option<String>> {
        Ok(match r.get_ref(i)? {
            ValueRef::Text(b) => std::str::from_utf8(b).ok().map(String::from),
            _ => None,
        })
    };
    let int = |i: usize| -> rusqlite::Result<Option<i64>> {
        Ok(match r.get_ref(i)? {
            ValueRef::Integer(n) => Some(n),
            ValueRef::Null => None,
            _ => Some(i64::MIN),
        })
    };
    Ok(CurrentRow {
        recipient: text(0)?.unwrap_or_else(|| "\u{0}malformed".into()),
        state: text(1)?
            .and_then(|s| State::parse(&s))
            .unwrap_or(State::Erased),
        seq: int(2)?.map_or(u64::MAX, |n| n as u64),
        event_id: match r.get_ref(6)? {
            ValueRef::Blob(b) => Uuid::from_slice(b).unwrap_or(Uuid::max()),
            _ => Uuid::max(),
        },
        since: int(3)?.unwrap_or(i64::MIN),
        until: int(4)?,
        last_effective: int(5)?.unwrap_or(i64::MIN),
    })
}

fn max_ts() -> Timestamp {
    Timestamp::MAX
}

fn push_if_given(
    out: &mut Vec<ConsentingSubject>,
    p: &Purpose,
    events: &[Event],
    subject: String,
    recipient: Option<&str>,
    at: Timestamp,
    known: Timestamp,
) {
    let d = decide(events, p.def.lawful_basis, recipient, at, known, true);
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
fn same_content(existing: &Event, e: &NewEvent, evidence: Option<&str>) -> bool {
    let existing_evidence = existing.evidence.as_ref().map(|v| v.to_string());
    existing.kind == e.kind
        && existing.subject.as_deref() == Some(e.subject.as_str())
        && existing.purpose.as_deref() == Some(e.purpose.as_str())
        && existing.recipient == e.recipient
        && existing
            .notice
            .as_ref()
            .map(|n| (n.id.clone(), n.version.clone()))
            == e.notice
        && existing.explicit == e.explicit
        && existing.method == e.method
        && existing.recorded_by == e.recorded_by
        && e.effective_at.is_none_or(|t| t == existing.effective_at)
        && e.expires_at.is_none_or(|t| Some(t) == existing.expires_at)
        && existing_evidence.as_deref() == evidence
        && existing.target == e.target
}
