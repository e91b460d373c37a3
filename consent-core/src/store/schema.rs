//! The schema: its texts per version, telling a consent ledger from any other file,
//! creating one, and migrating older versions. docs/FORMAT.md specifies the tables.
//!
//! The schema texts are the file format, frozen per version: a file whose
//! `sqlite_master` differs from the text of its version is refused. The columns of the
//! current `events` table are also listed, with how the code reads them, in
//! `COLUMNS` (`row.rs`); a test holds the two to each other.

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{Error, Result};

/// Schema version written by this build. Version 4 (issue 15) has the tables of
/// version 3 and two small partial indexes (`events_of_downstreams`,
/// `events_with_deadline`); it admits the downstream
/// systems' events (`downstream_registered`, `downstream_acknowledged`), which a
/// library of version 3 cannot check: it refuses the file
/// ([`crate::Error::SchemaTooNew`]) instead of vouching for what it does not know.
pub const SCHEMA_VERSION: i64 = 4;

/// Oldest SQLite accepted: older releases can corrupt a WAL database when writers race
/// a WAL reset.
pub const MIN_SQLITE_VERSION: i32 = 3_051_003;

/// The lowest level of the tree stored for a completed block of 2^`TREE_MIN_LEVEL`
/// leaves (docs/FORMAT.md §2 `tree`): 16 leaves are cheap to rehash, a row per event
/// is not.
pub const TREE_MIN_LEVEL: u32 = 4;

/// Value of the `meta.format` key: tells a consent ledger from any other SQLite file.
pub const FORMAT_NAME: &str = "consent-ledger";

/// The schema of versions 3 and 4 (docs/FORMAT.md §2), designed from the measurements of
/// issue 12: `current` keyed by purpose first, so one b-tree serves a status (purpose
/// and subject) and a feed (purpose) and no covering index doubles it; and no index of
/// the events by purpose (the two scans that used it are rare). Issue 13 added
/// `checkpoints`, the signed checkpoints the ledger keeps (outside the hashed log). A
/// file whose `sqlite_master` differs from what this text creates by a single object —
/// a trigger, a view, an index, a changed column — is refused: SQLite would run
/// planted triggers on our writes.
const SCHEMA_V3: &str = "
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
CREATE TABLE current(purpose TEXT NOT NULL, subject TEXT NOT NULL, recipient TEXT NOT NULL,
                     state TEXT NOT NULL, seq INTEGER NOT NULL, event_id BLOB NOT NULL,
                     since INTEGER NOT NULL, until INTEGER, last_effective INTEGER NOT NULL,
                     PRIMARY KEY(purpose, subject, recipient)) WITHOUT ROWID;
CREATE TABLE erased(subject_key BLOB PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE checkpoints(size INTEGER PRIMARY KEY, note TEXT NOT NULL) WITHOUT ROWID;
";

/// The schema of version 2 (issue 10), recognised only to migrate it.
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

/// What version 4 adds to version 3 (on both databases): the downstream systems'
/// registrations and acknowledgements, and the events that carry an effect deadline,
/// each reachable without reading the whole log — a feed, an acknowledgement (under
/// the writer lock) and the deadlines read them on every call. Entries are positions
/// only; `verify` compares them with the table as it does every index.
pub(crate) const INDEXES_V4: &str = "
CREATE INDEX events_of_downstreams ON events(seq) WHERE kind IN ('downstream_registered', 'downstream_acknowledged');
CREATE INDEX events_with_deadline ON events(seq) WHERE effect_deadline IS NOT NULL;
";

/// One `sqlite_master` row: type, name, table, SQL text.
type MasterRow = (String, String, String, Option<String>);

/// The `sqlite_master` rows a schema text creates, read back from a scratch database
/// so the comparison is with SQLite's own spelling.
fn expected_master(version: i64) -> &'static [MasterRow] {
    use std::sync::OnceLock;
    static V1: OnceLock<Vec<MasterRow>> = OnceLock::new();
    static V2: OnceLock<Vec<MasterRow>> = OnceLock::new();
    static V3: OnceLock<Vec<MasterRow>> = OnceLock::new();
    static V4: OnceLock<Vec<MasterRow>> = OnceLock::new();
    let (cell, text, indexes) = match version {
        1 => (&V1, SCHEMA_V1, ""),
        2 => (&V2, SCHEMA_V2, ""),
        3 => (&V3, SCHEMA_V3, ""),
        _ => (&V4, SCHEMA_V3, INDEXES_V4),
    };
    cell.get_or_init(|| {
        let c = Connection::open_in_memory().expect("in-memory SQLite");
        c.execute_batch(text).expect("the schema text is valid");
        c.execute_batch(indexes).expect("the index text is valid");
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

/// Tells a consent ledger from any other file by reading only: the SQLite header,
/// `meta.format`, the schema version and the exact schema.
pub(super) fn identify(conn: &Connection) -> Result<Found> {
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

/// Creates the tables of [`SCHEMA_VERSION`] and the `meta` rows. Runs inside the
/// creating transaction; the ledger then appends its `ledger_configured` event.
pub(crate) fn create_schema(conn: &Connection) -> Result<()> {
    conn.execute_batch(SCHEMA_V3)?;
    conn.execute_batch(INDEXES_V4)?;
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
        "INSERT INTO meta(key, value) VALUES ('format', ?1), ('schema_version', 2)",
        params![FORMAT_NAME],
    )?;
    Ok(pepper)
}

/// Rebuilds version-2 tables as version 3, inside the caller's transaction. The log
/// (`events`) and every hash stay as they are; only what is stored besides changes:
/// `current` is copied into its table keyed by purpose first, two indexes go, and the
/// tree keeps its rows below [`TREE_MIN_LEVEL`] only in the open block. The head is
/// the same before and after. Freed pages are reused by later
/// appends (`VACUUM` returns them to the file system).
pub(crate) fn migrate_v2_tables(conn: &Connection) -> Result<()> {
    conn.execute_batch(
        "DROP INDEX events_by_purpose;
         DROP INDEX current_by_purpose;
         ALTER TABLE current RENAME TO current_v2;",
    )?;
    // The new table exactly as the version-3 text spells it (the schema check
    // compares the text).
    let create_current = SCHEMA_V3
        .split_inclusive(';')
        .find(|s| s.trim_start().starts_with("CREATE TABLE current("))
        .expect("the version-3 schema creates `current`");
    conn.execute_batch(create_current)?;
    // The signed checkpoints (issue 13): not part of the hashed log, empty until the
    // first `sign_checkpoint`.
    let create_checkpoints = SCHEMA_V3
        .split_inclusive(';')
        .find(|s| s.trim_start().starts_with("CREATE TABLE checkpoints("))
        .expect("the version-3 schema creates `checkpoints`");
    conn.execute_batch(create_checkpoints)?;
    conn.execute_batch(
        "INSERT INTO current(purpose, subject, recipient, state, seq, event_id, since, until,
                             last_effective)
             SELECT purpose, subject, recipient, state, seq, event_id, since, until, last_effective
             FROM current_v2 ORDER BY purpose, subject, recipient;
         DROP TABLE current_v2;",
    )?;
    conn.execute(
        "DELETE FROM tree WHERE level < ?1 \
         AND (idx << level) < ((SELECT coalesce(max(seq) + 1, 0) FROM events) >> ?1 << ?1)",
        [TREE_MIN_LEVEL],
    )?;
    conn.execute(
        "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
        [SCHEMA_VERSION],
    )?;
    Ok(())
}

/// The 3 → 4 migration on either database, after [`INDEXES_V4`] is created: the
/// tables stay as they are; the version moves, so that a library of version 3 refuses
/// the file from now on (it would not know the downstream systems' events; on SQLite
/// the new indexes also move the schema cookie, which a running process of version 3
/// notices). The head is the same before and after.
pub(crate) const MIGRATE_V3: &str = "UPDATE meta SET value = ?1 WHERE key = 'schema_version'";
