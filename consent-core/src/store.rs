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
use crate::key::KeySource;
use crate::merkle::{self, Hash, HashStore};
use crate::notice::NoticeRef;
use crate::timestamp::Timestamp;

/// Schema version written by this build.
pub const SCHEMA_VERSION: i64 = 2;

/// Oldest SQLite accepted: older releases can corrupt a WAL database when writers race
/// a WAL reset.
pub const MIN_SQLITE_VERSION: i32 = 3_051_003;

/// Value of the `meta.format` key: tells a consent ledger from any other SQLite file.
pub const FORMAT_NAME: &str = "consent-ledger";

/// The schema of version 2 (docs/FORMAT.md §2). A file whose `sqlite_master` differs
/// from what this text creates by a single object — a trigger, a view, an index, a
/// changed column — is refused: SQLite would run planted triggers on our writes.
const SCHEMA_V2: &str = "
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
    subject_key     BLOB,
    source_key      BLOB,
    encoding        INTEGER NOT NULL
);
CREATE INDEX events_by_subject ON events(subject, purpose) WHERE subject IS NOT NULL;
CREATE INDEX events_by_purpose ON events(purpose, subject) WHERE subject IS NOT NULL;
CREATE INDEX events_by_erased_key ON events(subject_key) WHERE subject IS NULL AND subject_key IS NOT NULL;
CREATE UNIQUE INDEX events_by_source ON events(source_key) WHERE source_key IS NOT NULL;
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

/// The schema of version 1 (0.1.0), recognised only to migrate it.
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

/// One `sqlite_master` row: type, name, table, SQL text.
type MasterRow = (String, String, String, Option<String>);

/// The `sqlite_master` rows a schema text creates, read back from a scratch database
/// so the comparison is with SQLite's own spelling.
fn expected_master(version: i64) -> &'static [MasterRow] {
    use std::sync::OnceLock;
    static V1: OnceLock<Vec<MasterRow>> = OnceLock::new();
    static V2: OnceLock<Vec<MasterRow>> = OnceLock::new();
    let (cell, text) = if version == 1 {
        (&V1, SCHEMA_V1)
    } else {
        (&V2, SCHEMA_V2)
    };
    cell.get_or_init(|| {
        let c = Connection::open_in_memory().expect("in-memory SQLite");
        c.execute_batch(text).expect("the schema text is valid");
        read_master(&c).expect("sqlite_master is readable")
    })
}

fn read_master(conn: &Connection) -> rusqlite::Result<Vec<MasterRow>> {
    let mut stmt =
        conn.prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    rows.collect()
}

/// Refuses a file whose schema is not exactly the one this library creates for
/// `version`: names the first object that differs.
pub(crate) fn check_schema(conn: &Connection, version: i64) -> Result<()> {
    let have = read_master(conn).map_err(|e| Error::Corrupt(format!("schema unreadable: {e}")))?;
    let want = expected_master(version);
    if have.as_slice() == want {
        return Ok(());
    }
    let extra = have.iter().find(|r| !want.contains(r));
    let missing = want.iter().find(|r| !have.contains(r));
    let why = match (extra, missing) {
        (Some(r), _) => format!("{} `{}` is not part of a consent ledger", r.0, r.1),
        (None, Some(r)) => format!("{} `{}` is missing or altered", r.0, r.1),
        (None, None) => "schema objects are duplicated".into(),
    };
    Err(Error::Corrupt(format!(
        "the file's schema is not the one this library creates: {why}; refusing to use it"
    )))
}

/// The schema cookie, which moves whenever any schema object is created, changed or
/// dropped: a cheap way to notice a trigger planted while the ledger is open.
pub(crate) fn schema_cookie(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("PRAGMA schema_version")?
        .query_row([], |r| r.get(0))?)
}

/// What [`open_file`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found {
    /// A new or empty file: the caller creates the ledger in it.
    Fresh,
    /// A ledger of this schema version, schema checked, not yet changed in any way.
    Ledger(i64),
}

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
    /// Create a new ledger when the path does not exist or is an empty file (default
    /// true). Without it only an existing ledger opens: tools that check or read a
    /// ledger pass false, so a mistyped path or a 0-byte file is an error instead of
    /// a fresh, empty ledger that answers "never asked" for everyone.
    pub create: bool,
    /// Cap on the file's size in database pages (4 KiB each): a quota, and the way
    /// tests make the disk "full". `None` (default) means no cap.
    pub max_pages: Option<u64>,
    /// A simulated clock (tests, the demo). Only a ledger *created* with a clock is a
    /// simulation, and it says so in its hashed first event, in `verify` and in every
    /// receipt; a real ledger refuses a clock, since record times must come from the
    /// system clock. Default: the system clock.
    pub clock: Option<std::sync::Arc<dyn Fn() -> Timestamp + Send + Sync>>,
    /// Where the pseudonym key comes from (default: `<path>.key`, created with the
    /// ledger). See [`KeySource`].
    pub pseudonym_key: KeySource,
    /// How long [`crate::Ledger::erase_subject`] keeps retrying to truncate the WAL
    /// while another connection holds an old snapshot (default 2 s).
    pub erasure_wait: Duration,
    /// The institution's time zone (IANA name) for a new ledger, hashed into its first
    /// event: the academic year ends at midnight there. Default Europe/London. Opening
    /// an existing ledger with another zone is an error.
    pub time_zone: Option<String>,
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
            pseudonym_key: KeySource::Beside,
            erasure_wait: Duration::from_secs(2),
            time_zone: None,
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
            .field("clock", &self.clock.as_ref().map(|_| "simulated"))
            .field("pseudonym_key", &self.pseudonym_key)
            .field("erasure_wait", &self.erasure_wait)
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

/// Opens a ledger file, or an empty/new one to create a ledger in. Nothing is written
/// to an existing file until it is known to be a consent ledger of a known version
/// with exactly our schema: another application's database is left byte for byte as
/// it was.
pub(crate) fn open_file(path: &Path, opts: &LedgerOptions) -> Result<(Connection, Found)> {
    check_sqlite_version()?;
    let len = match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => {
            return Err(Error::NotALedger(format!(
                "{} is a directory",
                path.display()
            )))
        }
        Ok(m) => Some(m.len()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e.into()),
    };
    let fresh = len.is_none_or(|n| n == 0);
    if fresh && (opts.read_only || !opts.create) {
        return Err(match len {
            None => Error::NotFound(format!("no ledger at {}", path.display())),
            Some(_) => Error::NotALedger(format!(
                "{} is an empty file (an interrupted `init`?); only creating a ledger may write one into it",
                path.display()
            )),
        });
    }
    #[cfg(unix)]
    if len == Some(0) && opts.create && !opts.read_only {
        // An empty file someone else made: the ledger written into it is private too.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    if len.is_none() {
        match create_private(path) {
            // Another process created it a moment ago: the lock file decides who
            // writes the ledger into it.
            Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            other => other?,
        }
    }
    let flags = if opts.read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
    } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    configure(&conn, opts)?;
    let found = if fresh {
        Found::Fresh
    } else {
        match identify(&conn) {
            // A SQLite file without a single schema object (creation interrupted
            // after SQLite wrote its header): nothing in it to lose.
            Err(Error::NotALedger(_)) if is_empty(&conn).unwrap_or(false) => {
                if opts.read_only || !opts.create {
                    return Err(Error::NotALedger(format!(
                        "{} is an empty SQLite database (an interrupted `init`?); only creating a ledger may write one into it",
                        path.display()
                    )));
                }
                Found::Fresh
            }
            other => other?,
        }
    };
    set_journal(&conn, opts)?;
    Ok((conn, found))
}

fn set_journal(conn: &Connection, opts: &LedgerOptions) -> Result<()> {
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
    Ok(())
}

/// The ledger's `-wal` file and its identity (device, inode) as this process's
/// connection uses it.
///
/// SQLite deletes the WAL and its index (`-shm`) together when the *last* connection
/// to a database closes. It tells "last" by trying an exclusive POSIX lock, which never
/// conflicts with locks of the same process: so a second SQLite library in this
/// process (the `sqlite3` module of Python, a checker) that opens and closes the ledger
/// believes it is the last, checkpoints and deletes both files under our open
/// connection. Our writes would then go to a deleted WAL that no other process sees.
/// Comparing the WAL's identity before each operation and after each commit (one
/// `stat`) catches it. Reconnecting is not enough: one SQLite library shares one
/// mapping of the index among all its connections to a file, so every handle on the
/// ledger in this process must be closed and the ledger reopened; until then every
/// call fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WalFile {
    path: std::path::PathBuf,
    id: Option<(u64, u64)>,
}

impl WalFile {
    /// The WAL of the ledger at `ledger`, as it is now.
    pub(crate) fn of(ledger: &Path) -> WalFile {
        let mut p = ledger.as_os_str().to_os_string();
        p.push("-wal");
        let path = std::path::PathBuf::from(p);
        let id = file_id(&path);
        WalFile { path, id }
    }

    /// Whether the file this connection was using has been removed or replaced.
    pub(crate) fn replaced(&self) -> bool {
        self.id.is_some() && file_id(&self.path) != self.id
    }
}

#[cfg(unix)]
fn file_id(p: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(_: &Path) -> Option<(u64, u64)> {
    None
}

/// An in-memory database to create a ledger in (tests, examples).
pub(crate) fn open_memory(opts: &LedgerOptions) -> Result<Connection> {
    check_sqlite_version()?;
    let conn = Connection::open_in_memory()?;
    configure(&conn, opts)?;
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

/// Connection settings; none of them writes to the file.
fn configure(conn: &Connection, opts: &LedgerOptions) -> Result<()> {
    use rusqlite::config::DbConfig;
    // SQLite takes the timeout as an i32 of milliseconds; longer waits are capped.
    conn.busy_timeout(
        opts.busy_timeout
            .min(Duration::from_millis(i32::MAX as u64)),
    )?;
    conn.set_prepared_statement_cache_capacity(64);
    // Nothing stored in the file may run code or reach outside the schema: no SQL
    // functions from views or triggers, no writable schema, no shadow-table writes.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_VIEW, false)?;
    // Erased values must not linger in free space of pages.
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    // Keep one plan per cached statement: without this, STAT4 makes SQLite re-prepare
    // statements on every rebind, which dominated every query's cost.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    // A 32 MiB page cache (the default is 2 MiB) keeps a large batch from spilling.
    conn.pragma_update(None, "cache_size", -32_768)?;
    // Savepoints inside a batch journal each page they touch: keep that in memory.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    if let Some(pages) = opts.max_pages {
        conn.pragma_update(None, "max_page_count", pages as i64)?;
    }
    Ok(())
}

/// Tells a consent ledger from any other file by reading only: the SQLite header,
/// `meta.format`, the schema version and the exact schema.
fn identify(conn: &Connection) -> Result<Found> {
    let not_ledger = |why: String| Error::NotALedger(why);
    let _: i64 = conn
        .query_row("PRAGMA schema_version", [], |r| r.get(0))
        .map_err(|e| not_ledger(format!("not a SQLite database ({e})")))?;
    let format: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key='format' AND typeof(value)='text'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(|_| not_ledger("a SQLite database of another application".into()))?;
    if format.as_deref() != Some(FORMAT_NAME) {
        return Err(not_ledger(
            "a SQLite database of another application".into(),
        ));
    }
    let version: i64 = conn
        .query_row(
            "SELECT value FROM meta WHERE key='schema_version' AND typeof(value)='integer'",
            [],
            |r| r.get(0),
        )
        .map_err(|e| Error::Corrupt(format!("schema version unreadable: {e}")))?;
    if version > SCHEMA_VERSION {
        return Err(Error::SchemaTooNew {
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    if version < 1 {
        return Err(Error::Corrupt(format!("unknown schema version {version}")));
    }
    check_schema(conn, version)?;
    Ok(Found::Ledger(version))
}

/// Creates the version-2 tables and `meta` rows. Runs inside the creating transaction;
/// the ledger then appends its `ledger_configured` event.
pub(crate) fn create_schema(conn: &Connection) -> Result<()> {
    conn.execute_batch(SCHEMA_V2)?;
    conn.execute(
        "INSERT INTO meta(key, value) VALUES ('format', ?1), ('schema_version', ?2)",
        params![FORMAT_NAME, SCHEMA_VERSION],
    )?;
    Ok(())
}

/// Whether the database has no schema at all (a new file, or one an interrupted
/// creation left empty).
pub(crate) fn is_empty(conn: &Connection) -> Result<bool> {
    let n: i64 = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
    Ok(n == 0)
}

/// Rebuilds version-1 tables as version 2, inside the caller's transaction: moves the
/// rows into the new `events` table (marked `encoding` 1, hashed as they always were),
/// drops the pepper from `meta` and returns it — it becomes the pseudonym key.
pub(crate) fn migrate_v1_tables(conn: &Connection) -> Result<Vec<u8>> {
    let pepper: Vec<u8> = conn
        .query_row("SELECT value FROM meta WHERE key='pepper'", [], |r| {
            r.get(0)
        })
        .map_err(|e| Error::Corrupt(format!("pepper unreadable: {e}")))?;
    if pepper.len() != 32 {
        return Err(Error::Corrupt(
            "the version-1 pepper is not 32 bytes".into(),
        ));
    }
    conn.execute_batch(
        "DROP INDEX events_by_subject; DROP INDEX events_by_purpose;
         DROP INDEX events_by_subject_key; DROP INDEX events_by_source;
         DROP INDEX current_by_purpose;
         ALTER TABLE events RENAME TO events_v1;
         ALTER TABLE tree RENAME TO tree_v1;
         ALTER TABLE purposes RENAME TO purposes_v1;
         ALTER TABLE notices RENAME TO notices_v1;
         ALTER TABLE current RENAME TO current_v1;
         ALTER TABLE erased RENAME TO erased_v1;
         ALTER TABLE meta RENAME TO meta_v1;",
    )?;
    conn.execute_batch(SCHEMA_V2)?;
    conn.execute_batch(
        "INSERT INTO events(seq, id, kind, subject, salt, personal_digest, purpose, purpose_version,
             recipient, notice_id, notice_version, notice_sha256, explicit, method, recorded_by,
             effective_at, recorded_at, expires_at, effect_deadline, source_id, evidence, target,
             details, subject_key, source_key, encoding)
         SELECT seq, id, kind, subject, salt, personal_digest, purpose, purpose_version,
             recipient, notice_id, notice_version, notice_sha256, explicit, method, recorded_by,
             effective_at, recorded_at, expires_at, effect_deadline, source_id, evidence, target,
             details, CASE WHEN subject IS NULL THEN subject_key END, NULL, 1
         FROM events_v1 ORDER BY seq;
         INSERT INTO tree SELECT * FROM tree_v1;
         INSERT INTO purposes SELECT * FROM purposes_v1;
         INSERT INTO notices SELECT * FROM notices_v1;
         INSERT INTO erased SELECT * FROM erased_v1;
         DROP TABLE events_v1; DROP TABLE tree_v1; DROP TABLE purposes_v1;
         DROP TABLE notices_v1; DROP TABLE current_v1; DROP TABLE erased_v1;
         DROP TABLE meta_v1;",
    )?;
    conn.execute(
        "INSERT INTO meta(key, value) VALUES ('format', ?1), ('schema_version', ?2)",
        params![FORMAT_NAME, SCHEMA_VERSION],
    )?;
    Ok(pepper)
}

/// Columns selected by [`event_from_row`], in order.
pub(crate) const EVENT_COLUMNS: &str = "seq, id, kind, subject, salt, personal_digest, purpose, \
    purpose_version, recipient, notice_id, notice_version, notice_sha256, explicit, method, \
    recorded_by, effective_at, recorded_at, expires_at, effect_deadline, source_id, evidence, \
    target, details, subject_key, source_key, encoding";

/// [`EVENT_COLUMNS`] without the columns deciding a state never reads (source id,
/// evidence, details): for the hot paths that only run [`crate::query`] over events.
pub(crate) const DECIDE_COLUMNS: &str = "seq, id, kind, subject, salt, personal_digest, purpose, \
    purpose_version, recipient, notice_id, notice_version, notice_sha256, explicit, method, \
    recorded_by, effective_at, recorded_at, expires_at, effect_deadline, NULL, NULL, target, NULL, \
    subject_key, NULL, encoding";

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
    /// Keyed pseudonym of the subject (hashed from encoding 2 on).
    pub subject_key: Option<Vec<u8>>,
    /// Keyed pseudonym of the source id (hashed from encoding 2 on).
    pub source_key: Option<Vec<u8>>,
    /// Canonical encoding version of the row: 1 or 2.
    pub encoding: i64,
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
            "subject_key",
            "source_key",
            "encoding",
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
        let blobs: Vec<Option<Vec<u8>>> = [1, 4, 5, 11, 21, 23, 24]
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
        let ints: Vec<Option<i64>> = [0, 7, 12, 15, 16, 17, 18, 25]
            .iter()
            .map(|&i| int(i))
            .collect::<rusqlite::Result<_>>()?;
        let mut texts = texts.into_iter();
        let mut t = || texts.next().expect("11 text columns");
        let mut blobs = blobs.into_iter();
        let mut b = || blobs.next().expect("7 blob columns");
        let mut ints = ints.into_iter();
        let mut n = || ints.next().expect("8 integer columns");
        let (kind, subject, purpose, recipient, notice_id, notice_version) =
            (t(), t(), t(), t(), t(), t());
        let (method, recorded_by, source_id, evidence, details) = (t(), t(), t(), t(), t());
        let (id, salt, personal_digest, notice_sha256, target) = (b(), b(), b(), b(), b());
        let (subject_key, source_key) = (b(), b());
        let (
            seq,
            purpose_version,
            explicit,
            effective_at,
            recorded_at,
            expires_at,
            effect_deadline,
            encoding,
        ) = (n(), n(), n(), n(), n(), n(), n(), n());
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
            subject_key,
            source_key,
            encoding: encoding.unwrap_or(-1),
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
            version: u8::try_from(self.encoding).unwrap_or(0),
            subject_key: self.subject_key.as_deref(),
            source_key: self.source_key.as_deref(),
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

    pub(crate) fn insert(&self, conn: &Connection) -> Result<()> {
        let mut stmt = conn.prepare_cached(
            "INSERT INTO events(seq, id, kind, subject, salt, personal_digest, purpose, purpose_version, \
             recipient, notice_id, notice_version, notice_sha256, explicit, method, recorded_by, \
             effective_at, recorded_at, expires_at, effect_deadline, source_id, evidence, target, details, \
             subject_key, source_key, encoding) \
             VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26)",
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
            self.subject_key,
            self.source_key,
            self.encoding,
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
