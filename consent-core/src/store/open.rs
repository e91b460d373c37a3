//! Opening the SQLite file: refusing what is not a ledger before writing anything,
//! connection settings, and the identity of the WAL file.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::schema::{identify, is_empty, Found, MIN_SQLITE_VERSION};
use crate::error::{Error, Result};
use crate::options::{LedgerOptions, Synchronous};

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
