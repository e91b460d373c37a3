//! Storage: the only code that holds a database connection or contains SQL.
//!
//! [`Store`] owns the connection (SQLite or PostgreSQL, `db.rs`), the writer lock
//! and the identity of the WAL, and offers the ledger a narrow interface in the
//! ledger's own types: events ([`RawRow`], [`crate::Event`]), the tree, the registry,
//! the materialized state, and the meta and erasure tables; scans take callbacks.
//! Each table's file writes its SQL once, for both databases; what only one of them
//! has is in `open.rs`, `schema.rs`, `changes.rs` (SQLite) and `postgres/`. One file
//! per table:
//!
//! | file | holds |
//! |---|---|
//! | `mod.rs` | [`Store`]: opening, transactions, the writer lock, the WAL check, checkpoints |
//! | `db.rs` | the connection of either database behind one query interface, and its rows |
//! | `postgres/` | the PostgreSQL connection, schema, lock and roles |
//! | `open.rs` | opening the file and connection settings; the WAL's identity |
//! | `changes.rs` | the mark of the committed state (write count, WAL-index header) that keeps answer caches coherent |
//! | `schema.rs` | the schema text of each version, identifying a ledger, creation, migration |
//! | `row.rs` | the column table of `events`, from which [`RawRow`] and every column list are made |
//! | `events.rs` | every read and write of events |
//! | `tree.rs` | the `tree` table as a [`crate::merkle::HashStore`] |
//! | `registry.rs` | the `purposes` and `notices` tables |
//! | `current.rs` | the `current` table (the materialized state) |
//! | `meta.rs` | the `meta` and `erased` tables, SQLite's integrity check |
//! | `checkpoints.rs` | the `checkpoints` table: the signed notes the ledger issued |

mod changes;
mod checkpoints;
mod current;
pub(crate) mod db;
mod events;
mod meta;
mod open;
pub(crate) mod postgres;
mod registry;
mod row;
mod schema;
mod tree;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::lockfile::WriteLock;
use crate::options::LedgerOptions;
use db::Db;

pub(crate) use changes::ChangeMark;
pub(crate) use checkpoints::RawCheckpointRow;
pub(crate) use current::FeedRow;
pub(crate) use open::WalFile;
pub(crate) use registry::RegistryTable;
pub(crate) use row::RawRow;
pub(crate) use schema::TREE_MIN_LEVEL;
pub(crate) use schema::{Found, FORMAT_NAME};
pub use schema::{MIN_SQLITE_VERSION, SCHEMA_VERSION};

/// The ledger's storage: one database connection and what guards its writes.
pub(crate) struct Store {
    db: Db,
    /// The writer lock file (file ledgers opened for writing).
    lock: Option<WriteLock>,
    /// The `-wal` file as our connection uses it (file ledgers), to notice it deleted
    /// under us (see [`WalFile`]).
    wal: Option<WalFile>,
    /// The schema cookie last checked against the expected schema.
    schema_cookie: Cell<i64>,
    /// The configured busy timeout, restored after a short checkpoint wait.
    busy_timeout: Duration,
    /// The ledger file's WAL index, read for [`ChangeMark`]s (file ledgers, unix).
    shm: Option<changes::ShmFile>,
    /// The `-wal` file as it was when watched, held open for the cheap form of the
    /// WAL check.
    wal_handle: Option<changes::WalHandle>,
    /// Whether the database lives in memory (one connection, no WAL index).
    in_memory: bool,
    /// Whether a write transaction of this connection is open (see `changes.rs`).
    writing: Cell<bool>,
    /// Moves when a write of this connection begins or ends (see `changes.rs`).
    writes: Cell<u64>,
    /// What this connection's open write transaction has learned of the log's end
    /// (see [`Known`]).
    known: RefCell<Known>,
    /// Tree nodes of complete subtrees that transactions of this connection stored or
    /// read and then committed: a complete subtree's hash never changes, so the next
    /// append needs not ask for them again (used by appends only: proofs, roots and
    /// checks always read the table, so a rewritten row is seen there).
    nodes: RefCell<HashMap<(u32, u64), crate::merkle::Hash>>,
}

/// The registry's version on PostgreSQL: the newest registry rows' positions (the
/// tables only grow, so their sum moves with every registration).
const REGISTRY_VERSION: &str = "SELECT (SELECT coalesce(max(seq), -1) FROM purposes) \
     + (SELECT coalesce(max(seq), -1) FROM notices)";

/// Nodes kept beyond this many are forgotten (all at once; they are read again).
const MAX_KEPT_NODES: usize = 4096;

/// The log's end as this connection's open write transaction left it: under the
/// writer lock nobody else appends, so the next position, the last record time and
/// the tree nodes it just stored are known without asking again (a round trip each
/// per append on PostgreSQL). Forgotten when a write begins or ends, and when a
/// savepoint or the transaction is rolled back.
#[derive(Default)]
pub(crate) struct Known {
    /// The log's size.
    pub size: Option<u64>,
    /// The record time of the last event (`Some(None)`: the log is empty).
    pub last_recorded: Option<Option<i64>>,
    /// Tree nodes stored or read (or, below the stored level, computed) by this
    /// transaction.
    pub nodes: HashMap<(u32, u64), crate::merkle::Hash>,
    /// The registry's data version (on PostgreSQL a query; under the writer lock only
    /// this transaction changes the registry, and it forgets its purposes when it does).
    pub data_version: Option<i64>,
}

/// A transaction begun with cached statements; rolled back when dropped uncommitted
/// (also on a panic, so the connection is never left inside a transaction).
pub(crate) struct Tx<'s> {
    store: &'s Store,
    open: bool,
}

impl Tx<'_> {
    /// Commits the transaction.
    pub(crate) fn commit(mut self) -> Result<()> {
        self.store.commit()?;
        self.open = false;
        Ok(())
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open && self.store.in_transaction() {
            let _ = self.store.exec("ROLLBACK");
        }
    }
}

impl Store {
    fn new(conn: Connection, lock: Option<WriteLock>, busy_timeout: Duration) -> Store {
        let in_memory = conn.path().is_none_or(str::is_empty);
        Store::with_db(Db::Lite(conn), lock, busy_timeout, in_memory)
    }

    fn with_db(db: Db, lock: Option<WriteLock>, busy_timeout: Duration, in_memory: bool) -> Store {
        Store {
            db,
            lock,
            wal: None,
            schema_cookie: Cell::new(-1),
            busy_timeout,
            shm: None,
            wal_handle: None,
            in_memory,
            writing: Cell::new(false),
            writes: Cell::new(0),
            known: RefCell::default(),
            nodes: RefCell::default(),
        }
    }

    /// Opens a ledger file (see [`open::open_file`]): nothing is written to an
    /// existing file until it is known to be a consent ledger.
    pub(crate) fn open_file(path: &Path, options: &LedgerOptions) -> Result<(Store, Found)> {
        let (conn, found) = open::open_file(path, options)?;
        Ok((Store::new(conn, None, options.busy_timeout), found))
    }

    /// Connects to the ledger at a `postgresql://` URL (see [`postgres::PgConn`]).
    pub(crate) fn open_postgres(url: &str, options: &LedgerOptions) -> Result<(Store, Found)> {
        let (conn, found) = postgres::PgConn::connect(url, options)?;
        let store = Store::with_db(Db::Pg(Box::new(conn)), None, options.busy_timeout, false);
        Ok((store, found))
    }

    /// An in-memory database to create a ledger in.
    pub(crate) fn open_memory(options: &LedgerOptions) -> Result<Store> {
        let conn = open::open_memory(options)?;
        Ok(Store::new(conn, None, options.busy_timeout))
    }

    /// Takes the writer lock file `lock` around every write from now on.
    pub(crate) fn set_lock(&mut self, lock: Option<WriteLock>) {
        self.lock = lock;
    }

    /// Starts watching the WAL of the ledger file at `path` (see [`WalFile`]).
    pub(crate) fn watch_wal(&mut self, path: &Path) -> Result<()> {
        // A read makes SQLite open (and if need be create) the WAL and its index.
        let _: i64 = self.query_one("SELECT count(*) FROM meta", &[], |r| r.get(0))?;
        self.wal_handle = changes::WalHandle::of(path);
        self.wal = Some(WalFile::of(path));
        self.shm = changes::ShmFile::of(path);
        Ok(())
    }

    /// Fails when the ledger's WAL was deleted or replaced under this connection (see
    /// [`WalFile`]): writes would go to a file no other process sees, and reads
    /// would miss their writes.
    pub(crate) fn check_wal(&self) -> Result<()> {
        // The handle's link count says it in one `fstat`; the path is looked up only
        // when that cannot be told.
        let replaced = |wal: &WalFile| match &self.wal_handle {
            Some(h) => h.unlinked().unwrap_or_else(|| wal.replaced()),
            None => wal.replaced(),
        };
        match &self.wal {
            Some(wal) if replaced(wal) => Err(Error::Storage(
                "the ledger's WAL was deleted under this process (another SQLite library in it, such as \
                 Python's sqlite3 module, opened and closed the ledger file): what this handle wrote \
                 last may not be recorded; close every handle on this ledger in this process and \
                 reopen it, then check and retry (a source id makes the retry safe)"
                    .into(),
            )),
            _ => Ok(()),
        }
    }

    /// Forgets what the write transaction knew of the log's end (see [`Known`]).
    pub(crate) fn forget_known(&self) {
        *self.known.borrow_mut() = Known::default();
    }

    /// Keeps the tree nodes of a transaction that committed (see [`Store::nodes`]).
    fn keep_known_nodes(&self) {
        let known = std::mem::take(&mut self.known.borrow_mut().nodes);
        let mut kept = self.nodes.borrow_mut();
        if kept.len() + known.len() > MAX_KEPT_NODES {
            kept.clear();
        }
        kept.extend(known);
    }

    /// Forgets every kept tree node (the tables were created or rebuilt).
    fn forget_nodes(&self) {
        self.forget_known();
        self.nodes.borrow_mut().clear();
    }

    /// Runs one statement of transaction control. On PostgreSQL all but `COMMIT` and
    /// `ROLLBACK` travel with the next round trip (`postgres/pipeline.rs`).
    fn exec(&self, sql: &str) -> Result<()> {
        match &self.db {
            Db::Lite(c) => {
                c.prepare_cached(sql)?.execute([])?;
                Ok(())
            }
            Db::Pg(c) if sql == "COMMIT" || sql == "ROLLBACK" => c.batch(sql),
            Db::Pg(c) => {
                c.batch_later(sql);
                Ok(())
            }
        }
    }

    /// Whether a transaction is open (SQLite may end one itself, on a full disk).
    pub(crate) fn in_transaction(&self) -> bool {
        match &self.db {
            Db::Lite(c) => !c.is_autocommit(),
            Db::Pg(c) => c.in_transaction(),
        }
    }

    /// Begins a read transaction: every read until its end sees one snapshot.
    pub(crate) fn begin_read(&self) -> Result<Tx<'_>> {
        match &self.db {
            Db::Lite(_) => self.exec("BEGIN")?,
            Db::Pg(c) => c.begin_read(),
        }
        Ok(Tx {
            store: self,
            open: true,
        })
    }

    /// The transaction [`Store::begin_write`] began, as a guard that rolls it back
    /// unless committed.
    pub(crate) fn write_tx(&self) -> Tx<'_> {
        Tx {
            store: self,
            open: true,
        }
    }

    /// Takes the writer lock file, begins an immediate transaction and checks that
    /// nobody changed the schema since it was last checked.
    pub(crate) fn begin_write(&mut self) -> Result<()> {
        self.note_write(true);
        if let Some(lock) = self.lock.as_mut() {
            if let Err(e) = lock.acquire(self.busy_timeout) {
                // No write began: answers may be cached again.
                self.note_write(false);
                return Err(e);
            }
        }
        let begun = (|| {
            let conn = match &self.db {
                Db::Lite(c) => c,
                // The lock serialises writers on every host; only the schema's owner
                // can change its catalog (docs/POSTGRES.md).
                Db::Pg(c) => return c.begin_write(),
            };
            self.exec("BEGIN IMMEDIATE")?;
            let cookie = schema::schema_cookie(conn)?;
            if cookie != self.schema_cookie.get() && self.schema_cookie.get() >= 0 {
                if let Err(e) = schema::check_schema(conn, SCHEMA_VERSION) {
                    let _ = self.exec("ROLLBACK");
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

    /// Releases the writer lock file; the write (committed or rolled back) is over.
    pub(crate) fn end_write(&mut self) {
        self.note_write(false);
        if let Some(lock) = self.lock.as_mut() {
            lock.release();
        }
    }

    /// Commits the open transaction.
    pub(crate) fn commit(&self) -> Result<()> {
        self.exec("COMMIT")?;
        self.keep_known_nodes();
        Ok(())
    }

    /// Rolls back what SQLite has not already rolled back.
    pub(crate) fn rollback(&self) {
        self.forget_known();
        if self.in_transaction() {
            let _ = self.exec("ROLLBACK");
        }
    }

    /// Opens a savepoint inside the open transaction (one operation of a batch).
    pub(crate) fn savepoint(&self) -> Result<()> {
        self.exec("SAVEPOINT op")
    }

    /// Ends the savepoint: keeps its writes (`keep`) or undoes them.
    pub(crate) fn end_savepoint(&self, keep: bool) -> Result<()> {
        if keep {
            self.exec("RELEASE op")
        } else {
            self.forget_known();
            self.exec("ROLLBACK TO op")
                .and_then(|()| self.exec("RELEASE op"))
        }
    }

    /// Remembers the schema as checked now, so later writes notice a change.
    pub(crate) fn remember_schema(&self) -> Result<()> {
        if let Db::Lite(c) = &self.db {
            self.schema_cookie.set(schema::schema_cookie(c)?);
        }
        Ok(())
    }

    /// Refuses a database whose schema is not exactly this library's for `version`.
    pub(crate) fn check_schema(&self, version: i64) -> Result<()> {
        match &self.db {
            Db::Lite(c) => schema::check_schema(c, version),
            Db::Pg(c) => postgres::check_schema(c, version),
        }
    }

    /// Whether the database (or the PostgreSQL schema) has no tables at all.
    pub(crate) fn is_empty(&self) -> Result<bool> {
        match &self.db {
            Db::Lite(c) => schema::is_empty(c),
            Db::Pg(c) => postgres::is_empty(c),
        }
    }

    /// Creates the current schema's tables and `meta` rows (inside the creating
    /// transaction).
    pub(crate) fn create_schema(&self) -> Result<()> {
        self.forget_nodes();
        match &self.db {
            Db::Lite(c) => schema::create_schema(c),
            Db::Pg(c) => postgres::create_schema(c),
        }
    }

    /// Rebuilds version-1 tables as version 2 (inside the caller's transaction);
    /// returns the version-1 pepper, which leaves the file.
    pub(crate) fn migrate_v1_tables(&self) -> Result<Vec<u8>> {
        self.forget_nodes();
        schema::migrate_v1_tables(self.lite()?)
    }

    /// Rebuilds version-2 tables as version 3, then on to 4 (inside the caller's
    /// transaction), the log and its hashes untouched.
    pub(crate) fn migrate_v2_tables(&self) -> Result<()> {
        self.forget_nodes();
        schema::migrate_v2_tables(self.lite()?)?;
        self.migrate_v3_tables()
    }

    /// Version 3 to 4 (inside the caller's transaction): two indexes and the version
    /// number.
    pub(crate) fn migrate_v3_tables(&self) -> Result<()> {
        self.forget_known();
        self.batch(schema::INDEXES_V4)?;
        let version: Box<dyn rusqlite::ToSql> = match self.backend() {
            db::Backend::Sqlite => Box::new(SCHEMA_VERSION),
            // PostgreSQL's `meta.value` is text.
            db::Backend::Postgres => Box::new(SCHEMA_VERSION.to_string()),
        };
        self.execute(schema::MIGRATE_V3, &[version.as_ref()])?;
        Ok(())
    }

    /// Moves when another connection commits a change to the registry: SQLite's
    /// `data_version` (any commit); on PostgreSQL the newest registry rows' positions
    /// (the tables only grow, so their sum moves with every registration).
    pub(crate) fn data_version(&self) -> Result<i64> {
        if let Some(v) = self.known.borrow().data_version {
            return Ok(v);
        }
        let v = match &self.db {
            Db::Lite(c) => c
                .prepare_cached("PRAGMA data_version")?
                .query_row([], |r| r.get(0))?,
            Db::Pg(_) => self.query_one(REGISTRY_VERSION, &[], |r| r.get(0))?,
        };
        if self.writing.get() {
            self.known.borrow_mut().data_version = Some(v);
        }
        Ok(v)
    }

    /// Asks ahead for what [`Store::data_version`] will read (PostgreSQL).
    pub(crate) fn prefetch_data_version(&self) -> Result<()> {
        if self.known.borrow().data_version.is_some() {
            return Ok(());
        }
        self.prefetch(REGISTRY_VERSION, &[])
    }

    /// Checkpoints the WAL into the database file and truncates it, once, under the
    /// writer lock. Returns whether it completed (false if another connection kept a
    /// read open, or another writer held the lock).
    pub(crate) fn checkpoint(&mut self) -> Result<bool> {
        let conn = match &self.db {
            Db::Lite(c) => c,
            Db::Pg(c) => return c.vacuum_erased(false),
        };
        if conn.path().is_none_or(str::is_empty) {
            return Ok(true); // in memory: no file, no WAL
        }
        // A checkpoint rewrites the database file: only under the writer lock, like
        // every write (a writer elsewhere holds it for at most one transaction).
        if let Some(lock) = self.lock.as_mut() {
            match lock.acquire(self.busy_timeout) {
                Ok(()) => {}
                Err(Error::Busy(_)) => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        // A reader elsewhere blocks a truncating checkpoint; wait briefly rather
        // than the full busy timeout while holding this handle.
        let conn = self.lite()?;
        if let Err(e) = conn.busy_timeout(Duration::from_millis(100)) {
            self.end_write();
            return Err(e.into());
        }
        let done = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            Ok(r.get::<_, i64>(0)? == 0)
        });
        self.end_write();
        self.lite()?.busy_timeout(
            self.busy_timeout
                .min(Duration::from_millis(i32::MAX as u64)),
        )?;
        match done {
            Ok(done) => Ok(done),
            Err(e) => match Error::from(e) {
                Error::Busy(_) => Ok(false),
                other => Err(other),
            },
        }
    }

    /// On PostgreSQL, rewrites the tables that hold subjects' values into new files
    /// (`VACUUM FULL`; see [`postgres::PgConn::vacuum_erased`]); on SQLite, which
    /// zeroes freed space as it frees it (`secure_delete`), a checkpoint.
    pub(crate) fn rewrite_erased(&mut self) -> Result<bool> {
        match &self.db {
            Db::Pg(c) => c.vacuum_erased(true),
            Db::Lite(_) => self.checkpoint(),
        }
    }

    /// Checkpoints and truncates the WAL, ignoring the outcome: right after a
    /// migration has committed, while the setup still holds the writer lock.
    pub(crate) fn truncate_wal_quietly(&self) {
        if let Db::Lite(c) = &self.db {
            let _ = c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        }
    }

    /// Closes the connection, rolling back an open transaction and releasing the lock.
    pub(crate) fn close(mut self) -> Result<()> {
        if self.in_transaction() {
            let _ = self.exec("ROLLBACK");
        }
        self.end_write();
        match self.db {
            Db::Lite(c) => c.close().map_err(|(_, e)| Error::from(e)),
            Db::Pg(c) => c.close(),
        }
    }
}
