//! SQLite storage: opening, schema and migrations, and the mapping between rows and
//! [`Event`]s. Every SQL statement of the crate lives here or in `ledger.rs`; the
//! table layout is specified in `docs/FORMAT.md`.

use std::path::Path;
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Row};
use uuid::Uuid;

use crate::canonical::CanonicalEvent;
use crate::error::{Error, Result};
use crate::event::Event;
use crate::merkle::{self, Hash, HashStore};
use crate::notice::NoticeRef;
use crate::timestamp::Timestamp;

/// Schema version written by this build.
pub const SCHEMA_VERSION: i64 = 1;

/// Oldest SQLite accepted: older releases can corrupt a WAL database when writers race
/// a WAL reset.
pub const MIN_SQLITE_VERSION: i32 = 3_051_003;

/// Value of the `meta.format` key: tells a consent ledger from any other SQLite file.
pub const FORMAT_NAME: &str = "consent-ledger";

const SCHEMA_V1: &str = "
CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE events(
    seq             INTEGER PRIMARY KEY,
    id              BLOB NOT NULL UNIQUE,
    kind            TEXT NOT NULL,
    subject         TEXT,
    salt            BLOB,
    personal_digest BLOB,
    purpose         TEXT,
    purpose_version INTEGER,
    recipient       TEXT,
    notice_id       TEXT,
    notice_version  TEXT,
    notice_sha256   BLOB,
    explicit        INTEGER NOT NULL,
    method          TEXT,
    recorded_by     TEXT NOT NULL,
    effective_at    INTEGER NOT NULL,
    recorded_at     INTEGER NOT NULL,
    expires_at      INTEGER,
    effect_deadline INTEGER,
    source_id       TEXT,
    evidence        TEXT,
    target          BLOB,
    details         TEXT,
    subject_key     BLOB
);
CREATE INDEX events_by_subject ON events(subject, purpose) WHERE subject IS NOT NULL;
CREATE INDEX events_by_purpose ON events(purpose, subject) WHERE subject IS NOT NULL;
CREATE INDEX events_by_subject_key ON events(subject_key) WHERE subject_key IS NOT NULL;
CREATE UNIQUE INDEX events_by_source ON events(source_id) WHERE source_id IS NOT NULL;
CREATE TABLE tree(level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
                  PRIMARY KEY(level, idx)) WITHOUT ROWID;
CREATE TABLE purposes(id TEXT NOT NULL, version INTEGER NOT NULL, seq INTEGER NOT NULL,
                      registered_at INTEGER NOT NULL, def TEXT NOT NULL,
                      PRIMARY KEY(id, version)) WITHOUT ROWID;
CREATE TABLE notices(id TEXT NOT NULL, version TEXT NOT NULL, seq INTEGER NOT NULL,
                     registered_at INTEGER NOT NULL, def TEXT NOT NULL,
                     PRIMARY KEY(id, version)) WITHOUT ROWID;
CREATE TABLE current(subject TEXT NOT NULL, purpose TEXT NOT NULL, recipient TEXT NOT NULL,
                     state TEXT NOT NULL, seq INTEGER NOT NULL, event_id BLOB NOT NULL,
                     since INTEGER NOT NULL, until INTEGER, last_effective INTEGER NOT NULL,
                     PRIMARY KEY(subject, purpose, recipient)) WITHOUT ROWID;
CREATE INDEX current_by_purpose ON current(purpose, subject, recipient, state, since, until,
                                           last_effective, event_id);
CREATE TABLE erased(subject_key BLOB PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
";

/// Durability of each commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    /// fsync on every commit (default): an acknowledged event survives power loss.
    #[default]
    Full,
    /// fsync at checkpoints only: survives a process crash, not a power cut.
    Normal,
}

/// Options for [`crate::Ledger::open_with`].
#[derive(Clone)]
pub struct LedgerOptions {
    /// Durability (default [`Synchronous::Full`]).
    pub synchronous: Synchronous,
    /// How long to wait for another writer's lock (default 30 s).
    pub busy_timeout: Duration,
    /// Open read-only (no writes, no schema creation).
    pub read_only: bool,
    /// Create the file when missing (default true).
    pub create: bool,
    /// Cap on the file's size in database pages (4 KiB each): a quota, and the way
    /// tests make the disk "full". `None` (default) means no cap.
    pub max_pages: Option<u64>,
    /// Source of "now" (default: the system clock). Tests inject a fake one.
    pub clock: Option<std::sync::Arc<dyn Fn() -> Timestamp + Send + Sync>>,
}

impl Default for LedgerOptions {
    fn default() -> Self {
        LedgerOptions {
            synchronous: Synchronous::Full,
            busy_timeout: Duration::from_secs(30),
            read_only: false,
            create: true,
            max_pages: None,
            clock: None,
        }
    }
}

impl std::fmt::Debug for LedgerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LedgerOptions")
            .field("synchronous", &self.synchronous)
            .field("busy_timeout", &self.busy_timeout)
            .field("read_only", &self.read_only)
            .field("create", &self.create)
            .field("max_pages", &self.max_pages)
            .field("clock", &self.clock.as_ref().map(|_| "custom"))
            .finish()
    }
}

/// Checks the linked SQLite version.
pub(crate) fn check_sqlite_version() -> Result<()> {
    let found = rusqlite::version_number();
    if found < MIN_SQLITE_VERSION {
        return Err(Error::SqliteTooOld {
            found: rusqlite::version().into(),
            required: "3.51.3".into(),
        });
    }
    Ok(())
}

/// Opens (and if needed creates) a ledger file, with the owner-only permission set
/// before SQLite writes a byte.
pub(crate) fn open_file(path: &Path, opts: &LedgerOptions) -> Result<Connection> {
    check_sqlite_version()?;
    let exists = path.exists();
    if !exists && (opts.read_only || !opts.create) {
        return Err(Error::NotFound(format!("no ledger at {}", path.display())));
    }
    if !exists {
        create_private(path)?;
    }
    let flags = if opts.read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
    } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    configure(&conn, opts, true)?;
    init_schema(&conn, opts.read_only)?;
    Ok(conn)
}

/// An in-memory ledger (tests, examples).
pub(crate) fn open_memory(opts: &LedgerOptions) -> Result<Connection> {
    check_sqlite_version()?;
    let conn = Connection::open_in_memory()?;
    configure(&conn, opts, false)?;
    init_schema(&conn, false)?;
    Ok(conn)
}

#[cfg(unix)]
fn create_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    Ok(())
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    Ok(())
}

fn configure(conn: &Connection, opts: &LedgerOptions, file: bool) -> Result<()> {
    // SQLite takes the timeout as an i32 of milliseconds; longer waits are capped.
    conn.busy_timeout(
        opts.busy_timeout
            .min(Duration::from_millis(i32::MAX as u64)),
    )?;
    conn.set_prepared_statement_cache_capacity(64);
    // Erased values must not linger in free space of pages.
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    // Keep one plan per cached statement: without this, STAT4 makes SQLite re-prepare
    // statements on every rebind, which dominated every query's cost.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    // A 32 MiB page cache (the default is 2 MiB) keeps a large batch from spilling.
    conn.pragma_update(None, "cache_size", -32_768)?;
    // Savepoints inside a batch journal each page they touch: keep that in memory.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    if let Some(pages) = opts.max_pages {
        conn.pragma_update(None, "max_page_count", pages as i64)?;
    }
    if file {
        // Reading the header fails on a file that is not SQLite at all.
        let _: i64 = conn
            .query_row("PRAGMA schema_version", [], |r| r.get(0))
            .map_err(|e| Error::Corrupt(format!("not a SQLite database: {e}")))?;
        if !opts.read_only {
            let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(Error::Storage(format!("could not enable WAL (got {mode})")));
            }
        }
        let sync = match opts.synchronous {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        };
        conn.pragma_update(None, "synchronous", sync)?;
    }
    Ok(())
}

fn init_schema(conn: &Connection, read_only: bool) -> Result<()> {
    let has_meta: bool = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='meta'",
        [],
        |r| r.get::<_, i64>(0).map(|n| n > 0),
    )?;
    if !has_meta {
        let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
        if tables > 0 {
            return Err(Error::Corrupt(
                "this SQLite file is not a consent ledger".into(),
            ));
        }
        if read_only {
            return Err(Error::Corrupt("empty file opened read-only".into()));
        }
        // Two processes may create the same new file: the immediate transaction makes
        // one wait, and it then finds the schema in place.
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let created = (|| -> Result<()> {
            let has: i64 = conn.query_row(
                "SELECT count(*) FROM sqlite_master WHERE name='meta'",
                [],
                |r| r.get(0),
            )?;
            if has == 0 {
                conn.execute_batch(SCHEMA_V1)?;
                let pepper: [u8; 32] = rand::random();
                conn.execute(
                    "INSERT INTO meta(key, value) VALUES ('format', ?1), ('schema_version', ?2), ('pepper', ?3)",
                    params![FORMAT_NAME, SCHEMA_VERSION, &pepper[..]],
                )?;
            }
            Ok(())
        })();
        match created {
            Ok(()) => conn.execute_batch("COMMIT")?,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(e);
            }
        }
    }
    let format: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key='format'", [], |r| {
            r.get(0)
        })
        .optional()
        .map_err(|e| Error::Corrupt(format!("meta table unreadable: {e}")))?;
    if format.as_deref() != Some(FORMAT_NAME) {
        return Err(Error::Corrupt(
            "this SQLite file is not a consent ledger".into(),
        ));
    }
    let version: i64 = conn
        .query_row(
            "SELECT value FROM meta WHERE key='schema_version'",
            [],
            |r| r.get(0),
        )
        .map_err(|e| Error::Corrupt(format!("schema version unreadable: {e}")))?;
    match version {
        SCHEMA_VERSION => Ok(()),
        v if v > SCHEMA_VERSION => Err(Error::SchemaTooNew {
            found: v,
            supported: SCHEMA_VERSION,
        }),
        // Migrations from older versions go here, each in its own transaction.
        v => Err(Error::Corrupt(format!("unknown schema version {v}"))),
    }
}

/// Reads the ledger's pepper (the key of erased-subject pseudonyms).
pub(crate) fn pepper(conn: &Connection) -> Result<Vec<u8>> {
    conn.query_row("SELECT value FROM meta WHERE key='pepper'", [], |r| {
        r.get(0)
    })
    .map_err(|e| Error::Corrupt(format!("pepper unreadable: {e}")))
}

/// Columns selected by [`event_from_row`], in order.
pub(crate) const EVENT_COLUMNS: &str = "seq, id, kind, subject, salt, personal_digest, purpose, \
    purpose_version, recipient, notice_id, notice_version, notice_sha256, explicit, method, \
    recorded_by, effective_at, recorded_at, expires_at, effect_deadline, source_id, evidence, \
    target, details";

/// [`EVENT_COLUMNS`] without the columns deciding a state never reads (source id,
/// evidence, details): for the hot paths that only run [`crate::query`] over events.
pub(crate) const DECIDE_COLUMNS: &str = "seq, id, kind, subject, salt, personal_digest, purpose, \
    purpose_version, recipient, notice_id, notice_version, notice_sha256, explicit, method, \
    recorded_by, effective_at, recorded_at, expires_at, effect_deadline, NULL, NULL, target, NULL";

/// Maps a row selected with [`EVENT_COLUMNS`]: read as stored, then interpreted.
pub(crate) fn event_from_row(row: &Row<'_>) -> rusqlite::Result<Event> {
    RawRow::from_row(row)?.to_event().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Null, Box::new(e))
    })
}

/// The raw hashed columns of a row, borrowed from owned buffers.
pub(crate) struct RawRow {
    pub seq: i64,
    pub id: Vec<u8>,
    pub kind: String,
    pub subject: Option<String>,
    pub salt: Option<Vec<u8>>,
    pub personal_digest: Option<Vec<u8>>,
    pub purpose: Option<String>,
    pub purpose_version: Option<i64>,
    pub recipient: Option<String>,
    pub notice_id: Option<String>,
    pub notice_version: Option<String>,
    pub notice_sha256: Option<Vec<u8>>,
    pub explicit: i64,
    pub method: Option<String>,
    pub recorded_by: String,
    pub effective_at: i64,
    pub recorded_at: i64,
    pub expires_at: Option<i64>,
    pub effect_deadline: Option<i64>,
    pub source_id: Option<String>,
    pub evidence: Option<String>,
    pub target: Option<Vec<u8>>,
    pub details: Option<String>,
    /// The first column read back with the wrong storage type or invalid UTF-8.
    pub malformed: Option<&'static str>,
}

impl RawRow {
    /// Reads a row selected with [`EVENT_COLUMNS`] without interpreting it, so that
    /// `verify` can hash exactly what is stored, even when it is malformed.
    pub(crate) fn from_row(r: &Row<'_>) -> rusqlite::Result<RawRow> {
        use rusqlite::types::ValueRef;
        // Tampering may store a value of the wrong type or invalid UTF-8: read it
        // without failing, note the first such column, and let `verify` name the row.
        let mut malformed: Option<&'static str> = None;
        let mut wrong = |name: &'static str| {
            malformed.get_or_insert(name);
        };
        let cols = [
            "seq",
            "id",
            "kind",
            "subject",
            "salt",
            "personal_digest",
            "purpose",
            "purpose_version",
            "recipient",
            "notice_id",
            "notice_version",
            "notice_sha256",
            "explicit",
            "method",
            "recorded_by",
            "effective_at",
            "recorded_at",
            "expires_at",
            "effect_deadline",
            "source_id",
            "evidence",
            "target",
            "details",
        ];
        let mut text = |i: usize| -> rusqlite::Result<Option<String>> {
            Ok(match r.get_ref(i)? {
                ValueRef::Null => None,
                ValueRef::Text(b) => match std::str::from_utf8(b) {
                    Ok(s) => Some(s.to_string()),
                    Err(_) => {
                        wrong(cols[i]);
                        Some(String::new())
                    }
                },
                _ => {
                    wrong(cols[i]);
                    Some(String::new())
                }
            })
        };
        let texts: Vec<Option<String>> = [2, 3, 6, 8, 9, 10, 13, 14, 19, 20, 22]
            .iter()
            .map(|&i| text(i))
            .collect::<rusqlite::Result<_>>()?;
        let mut blob = |i: usize| -> rusqlite::Result<Option<Vec<u8>>> {
            Ok(match r.get_ref(i)? {
                ValueRef::Null => None,
                ValueRef::Blob(b) => Some(b.to_vec()),
                _ => {
                    wrong(cols[i]);
                    Some(Vec::new())
                }
            })
        };
        let blobs: Vec<Option<Vec<u8>>> = [1, 4, 5, 11, 21]
            .iter()
            .map(|&i| blob(i))
            .collect::<rusqlite::Result<_>>()?;
        let mut int = |i: usize| -> rusqlite::Result<Option<i64>> {
            Ok(match r.get_ref(i)? {
                ValueRef::Null => None,
                ValueRef::Integer(n) => Some(n),
                _ => {
                    wrong(cols[i]);
                    Some(i64::MIN)
                }
            })
        };
        let ints: Vec<Option<i64>> = [0, 7, 12, 15, 16, 17, 18]
            .iter()
            .map(|&i| int(i))
            .collect::<rusqlite::Result<_>>()?;
        let mut texts = texts.into_iter();
        let mut t = || texts.next().expect("11 text columns");
        let mut blobs = blobs.into_iter();
        let mut b = || blobs.next().expect("5 blob columns");
        let mut ints = ints.into_iter();
        let mut n = || ints.next().expect("7 integer columns");
        let (kind, subject, purpose, recipient, notice_id, notice_version) =
            (t(), t(), t(), t(), t(), t());
        let (method, recorded_by, source_id, evidence, details) = (t(), t(), t(), t(), t());
        let (id, salt, personal_digest, notice_sha256, target) = (b(), b(), b(), b(), b());
        let (
            seq,
            purpose_version,
            explicit,
            effective_at,
            recorded_at,
            expires_at,
            effect_deadline,
        ) = (n(), n(), n(), n(), n(), n(), n());
        Ok(RawRow {
            seq: seq.unwrap_or(-1),
            id: id.unwrap_or_default(),
            kind: kind.unwrap_or_default(),
            subject,
            salt,
            personal_digest,
            purpose,
            purpose_version,
            recipient,
            notice_id,
            notice_version,
            notice_sha256,
            explicit: explicit.unwrap_or(-1),
            method,
            recorded_by: recorded_by.unwrap_or_default(),
            effective_at: effective_at.unwrap_or(i64::MIN),
            recorded_at: recorded_at.unwrap_or(i64::MIN),
            expires_at,
            effect_deadline,
            source_id,
            evidence,
            target,
            details,
            malformed,
        })
    }

    /// Interprets the row as an [`Event`]; a malformed value is [`Error::Corrupt`].
    pub(crate) fn to_event(&self) -> Result<Event> {
        let seq = self.seq;
        let bad = |what: &str| Error::Corrupt(format!("event {seq}: {what}"));
        if let Some(column) = self.malformed {
            return Err(bad(&format!("column `{column}` has the wrong type")));
        }
        let uuid = |b: &[u8], what: &str| Uuid::from_slice(b).map_err(|_| bad(what));
        let ts = |ms: i64| Timestamp::from_millis(ms).map_err(|_| bad("time out of range"));
        let json = |t: &Option<String>| {
            t.as_deref()
                .map(|t| serde_json::from_str(t).map_err(|_| bad("JSON column is not JSON")))
                .transpose()
        };
        let notice = match (&self.notice_id, &self.notice_version, &self.notice_sha256) {
            (Some(id), Some(version), Some(h)) => Some(NoticeRef {
                id: id.clone(),
                version: version.clone(),
                sha256: h
                    .as_slice()
                    .try_into()
                    .map_err(|_| bad("notice hash is not 32 bytes"))?,
            }),
            _ => None,
        };
        let kind: crate::EventKind = self.kind.parse().map_err(|_| bad("unknown kind"))?;
        Ok(Event {
            seq: u64::try_from(seq).map_err(|_| bad("negative sequence number"))?,
            id: uuid(&self.id, "id is not a UUID")?,
            kind,
            subject: self.subject.clone(),
            purpose: self.purpose.clone(),
            purpose_version: self
                .purpose_version
                .map(|v| u32::try_from(v).map_err(|_| bad("purpose version out of range")))
                .transpose()?,
            recipient: self.recipient.clone(),
            notice,
            explicit: self.explicit != 0,
            method: self
                .method
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|_| bad("unknown method"))?,
            recorded_by: self
                .recorded_by
                .parse()
                .map_err(|_| bad("bad recorded_by"))?,
            effective_at: ts(self.effective_at)?,
            recorded_at: ts(self.recorded_at)?,
            expires_at: self.expires_at.map(ts).transpose()?,
            effect_deadline: self.effect_deadline.map(ts).transpose()?,
            source_id: self.source_id.clone(),
            evidence: json(&self.evidence)?,
            target: self
                .target
                .as_deref()
                .map(|b| uuid(b, "target is not a UUID"))
                .transpose()?,
            details: json(&self.details)?,
            erased: self.salt.is_none() && kind.is_subject_event(),
        })
    }

    pub(crate) fn canonical(&self) -> CanonicalEvent<'_> {
        CanonicalEvent {
            id: &self.id,
            seq: self.seq,
            kind: &self.kind,
            personal_digest: self.personal_digest.as_deref(),
            purpose: self.purpose.as_deref(),
            purpose_version: self.purpose_version,
            recipient: self.recipient.as_deref(),
            notice_id: self.notice_id.as_deref(),
            notice_version: self.notice_version.as_deref(),
            notice_sha256: self.notice_sha256.as_deref(),
            explicit: self.explicit,
            method: self.method.as_deref(),
            recorded_by: &self.recorded_by,
            effective_at: self.effective_at,
            recorded_at: self.recorded_at,
            expires_at: self.expires_at,
            effect_deadline: self.effect_deadline,
            target: self.target.as_deref(),
            details: self.details.as_deref(),
        }
    }

    pub(crate) fn insert(&self, conn: &Connection, subject_key: Option<&[u8]>) -> Result<()> {
        let mut stmt = conn.prepare_cached(
            "INSERT INTO events(seq, id, kind, subject, salt, personal_digest, purpose, purpose_version, \
             recipient, notice_id, notice_version, notice_sha256, explicit, method, recorded_by, \
             effective_at, recorded_at, expires_at, effect_deadline, source_id, evidence, target, details, \
             subject_key) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24)",
        )?;
        stmt.execute(params![
            self.seq,
            self.id,
            self.kind,
            self.subject,
            self.salt,
            self.personal_digest,
            self.purpose,
            self.purpose_version,
            self.recipient,
            self.notice_id,
            self.notice_version,
            self.notice_sha256,
            self.explicit,
            self.method,
            self.recorded_by,
            self.effective_at,
            self.recorded_at,
            self.expires_at,
            self.effect_deadline,
            self.source_id,
            self.evidence,
            self.target,
            self.details,
            subject_key,
        ])?;
        Ok(())
    }
}

/// The `tree` table as a [`HashStore`].
pub(crate) struct TreeTable<'c>(pub &'c Connection);

impl HashStore for TreeTable<'_> {
    type Error = Error;
    fn stored_hash(&mut self, level: u32, index: u64) -> Result<Hash> {
        let mut stmt = self
            .0
            .prepare_cached("SELECT hash FROM tree WHERE level = ?1 AND idx = ?2")?;
        let h: Option<Vec<u8>> = stmt
            .query_row(params![level, index as i64], |r| r.get(0))
            .optional()?;
        let h =
            h.ok_or_else(|| Error::Corrupt(format!("tree hash ({level}, {index}) is missing")))?;
        h.try_into()
            .map_err(|_| Error::Corrupt(format!("tree hash ({level}, {index}) is not 32 bytes")))
    }
}

/// Stores the tree hashes for a new leaf.
pub(crate) fn append_leaf(conn: &Connection, seq: u64, leaf: Hash) -> Result<()> {
    let rows = merkle::hashes_to_store(seq, leaf, &mut TreeTable(conn))?;
    let mut stmt = conn.prepare_cached("INSERT INTO tree(level, idx, hash) VALUES (?1, ?2, ?3)")?;
    for (level, idx, hash) in rows {
        stmt.execute(params![level, idx as i64, &hash[..]])?;
    }
    Ok(())
}

/// Number of events (the next sequence number).
pub(crate) fn size(conn: &Connection) -> Result<u64> {
    let n: Option<i64> = conn
        .prepare_cached("SELECT max(seq) FROM events")?
        .query_row([], |r| r.get(0))?;
    Ok(n.map_or(0, |n| n as u64 + 1))
}
