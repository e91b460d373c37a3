//! Noticing, for the price of one `pread`, whether the database may have changed: the
//! mark that keeps the in-process answer cache (`status_cache.rs`) coherent with
//! writes by this ledger, by other connections in this process and by other processes.
//!
//! A [`ChangeMark`] names a committed state of the database. Two marks that are equal
//! name the same committed content; marks that differ may (or may not) name
//! different content. It is made of:
//!
//! - this store's write count, moved when a write transaction of this connection begins
//!   and when it ends (committed or rolled back; batches, registry changes, erasure,
//!   readmission and migration included: every write goes through
//!   [`Store::begin_write`] and [`Store::end_write`]). While a write is open no mark is
//!   given: the connection then sees its own uncommitted rows.
//! - for a ledger file, the WAL-index header: the first 96 bytes of `<ledger>-shm`, two
//!   copies of the 48-byte header that SQLite's file format documents ("WAL-index
//!   format": version, change counter `iChange`, `mxFrame`, page count, frame checksum,
//!   salts, header checksum). Every committed write transaction of any connection in
//!   any process rewrites it (`iChange` moves, `mxFrame` grows), and a WAL reset after
//!   a checkpoint changes the salts; its two copies are written second copy first, so
//!   a read that finds them unequal caught a writer mid-update. It is read with one
//!   `pread` on a handle kept open (the crate forbids `unsafe`, so no mapping).
//!
//! Why an answer served under an unchanged mark is correct (linearizable): SQLite's
//! readers take their snapshot from this same header, and a commit is visible to new
//! readers exactly when its header is written. So a header read at moment `t` that
//! equals the header read when the cache was (re)validated means that no transaction
//! committed between the two reads (`iChange` is a 32-bit counter and the salts
//! change on every reset: an equal header after changes would take 2^32 commits), and
//! an answer computed from any snapshot taken after the first read is the answer a
//! read transaction begun at `t` would give. A commit that finished before the call
//! began has written the header before our read (its writer's header stores precede
//! its unlock, a system call; our `pread` is one too), so it is never missed; a commit
//! still writing is concurrent with the call, and serving the state before it is what
//! a read transaction begun at `t` would also have done. Any difference, a short or
//! failed read, or unequal copies give no mark (or a different one), and the cache
//! is emptied and the question answered by SQL.
//!
//! The WAL's identity check ([`Store::check_wal`]) runs before every call and still
//! comes first: when another SQLite library in this process deleted the WAL and its
//! index under us, every call fails before a mark is read.
//!
//! An in-memory ledger has one connection and no index file: its mark is the write
//! count alone. On a platform without `pread` (not unix) a ledger file gives no mark,
//! so nothing is cached.

use std::path::Path;

use super::Store;

/// Bytes of the WAL-index header SQLite keeps twice at the start of `-shm`.
const HEADER: usize = 48;

/// A committed state of the database as far as it can be told cheaply (see the module
/// docs): equal marks, same content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChangeMark {
    writes: u64,
    header: [u8; HEADER],
}

/// The ledger's `-shm` file, open for reading its header.
///
/// SQLite holds POSIX (`fcntl`) locks on `-shm`, and closing *any* descriptor of a
/// file releases every such lock the process holds on it: a handle of ours closed
/// while a connection of this process uses the index would silently drop that
/// connection's locks (another process could then reset the index under it). So the
/// handles are shared per file in [`OPEN_SHM`] and never closed while the file is
/// linked; one whose file SQLite has deleted (its last connection closed) and that no
/// store uses any more is closed when the next is opened.
pub(crate) struct ShmFile {
    #[cfg(unix)]
    file: std::sync::Arc<std::fs::File>,
}

#[cfg(unix)]
static OPEN_SHM: std::sync::Mutex<Vec<std::sync::Arc<std::fs::File>>> =
    std::sync::Mutex::new(Vec::new());

impl ShmFile {
    /// Opens the WAL index of the ledger file at `ledger`; `None` if it cannot be
    /// opened or read here (then nothing is cached).
    pub(crate) fn of(ledger: &Path) -> Option<ShmFile> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            use std::sync::Arc;
            let mut p = ledger.as_os_str().to_os_string();
            p.push("-shm");
            let id = |m: &std::fs::Metadata| (m.dev(), m.ino());
            let wanted = id(&std::fs::metadata(&p).ok()?);
            let mut open = OPEN_SHM.lock().unwrap_or_else(|e| e.into_inner());
            // Forget (close) handles of deleted files nobody uses: no lock to lose.
            open.retain(|f| Arc::strong_count(f) > 1 || f.metadata().is_ok_and(|m| m.nlink() > 0));
            let found = open
                .iter()
                .find(|f| f.metadata().is_ok_and(|m| id(&m) == wanted))
                .cloned();
            let file = match found {
                Some(f) => f,
                None => {
                    // Kept from here on, even when it turns out to be another file.
                    let f = Arc::new(std::fs::File::open(&p).ok()?);
                    open.push(Arc::clone(&f));
                    f
                }
            };
            drop(open);
            let shm = ShmFile { file };
            shm.header().map(|_| shm)
        }
        #[cfg(not(unix))]
        {
            let _ = ledger;
            None
        }
    }

    /// The header as it is now: `None` on a failed or short read, an uninitialised
    /// header, or two copies that differ (a writer was updating it).
    fn header(&self) -> Option<[u8; HEADER]> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileExt;
            let mut buf = [0u8; 2 * HEADER];
            match self.file.read_at(&mut buf, 0) {
                Ok(n) if n == buf.len() => {}
                _ => return None,
            }
            let (first, second) = buf.split_at(HEADER);
            // Byte 12 is `isInit`.
            if first != second || first[12] == 0 {
                return None;
            }
            let mut h = [0u8; HEADER];
            h.copy_from_slice(first);
            Some(h)
        }
        #[cfg(not(unix))]
        None
    }
}

/// The `-wal` file held open, so that [`Store::check_wal`] tells that it was deleted
/// or replaced with an `fstat` of this handle (its link count fell to 0) rather than a
/// lookup of its path, which costs about three times as much. SQLite takes no lock
/// on the WAL file itself (its locks are on the database file and `-shm`), so this
/// handle may be closed at any time.
pub(crate) struct WalHandle {
    #[cfg(unix)]
    file: std::fs::File,
}

impl WalHandle {
    /// The WAL of the ledger file at `ledger` as its path names it now, if it exists.
    pub(crate) fn of(ledger: &Path) -> Option<WalHandle> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let mut p = ledger.as_os_str().to_os_string();
            p.push("-wal");
            let file = std::fs::File::open(&p).ok()?;
            let (a, b) = (file.metadata().ok()?, std::fs::metadata(&p).ok()?);
            ((a.dev(), a.ino()) == (b.dev(), b.ino())).then_some(WalHandle { file })
        }
        #[cfg(not(unix))]
        {
            let _ = ledger;
            None
        }
    }

    /// Whether the file is no longer linked (deleted, or replaced by a rename); `None`
    /// when that cannot be told.
    pub(crate) fn unlinked(&self) -> Option<bool> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            self.file.metadata().ok().map(|m| m.nlink() == 0)
        }
        #[cfg(not(unix))]
        None
    }
}

impl Store {
    /// The mark of the committed state as it is now (see the module docs), or `None`
    /// when it cannot be told: a write of this connection is open, a ledger file's
    /// index could not be read (or is mid-update), or the platform has no `pread`.
    pub(crate) fn change_mark(&self) -> Option<ChangeMark> {
        if self.writing.get() {
            return None;
        }
        let header = match (&self.shm, self.in_memory) {
            (_, true) => [0; HEADER],
            (Some(shm), false) => shm.header()?,
            (None, false) => return None,
        };
        Some(ChangeMark {
            writes: self.writes.get(),
            header,
        })
    }

    /// Records that a write of this connection began or ended: marks given before it no
    /// longer match.
    pub(crate) fn note_write(&self, open: bool) {
        self.writing.set(open);
        self.forget_known();
        self.writes.set(self.writes.get().wrapping_add(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::LedgerOptions;

    #[test]
    fn in_memory_marks_move_with_writes_and_none_while_writing() {
        let mut s = Store::open_memory(&LedgerOptions::default()).unwrap();
        let a = s.change_mark().unwrap();
        assert_eq!(s.change_mark(), Some(a));
        s.begin_write().unwrap();
        assert_eq!(s.change_mark(), None);
        s.rollback();
        s.end_write();
        let b = s.change_mark().unwrap();
        assert_ne!(a, b);
    }

    /// A write that never began (another writer held the lock past the busy timeout)
    /// leaves answers cacheable: the mark comes back instead of staying `None`.
    #[test]
    fn a_write_refused_for_the_lock_leaves_marks_available() {
        use crate::lockfile::WriteLock;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        let options = LedgerOptions {
            busy_timeout: std::time::Duration::from_millis(20),
            ..LedgerOptions::default()
        };
        let (mut holder, _) = Store::open_file(&path, &options).unwrap();
        holder.create_schema().unwrap();
        holder.set_lock(Some(WriteLock::open(&path).unwrap()));
        holder.watch_wal(&path).unwrap();
        let (mut waiter, _) = Store::open_file(&path, &options).unwrap();
        waiter.set_lock(Some(WriteLock::open(&path).unwrap()));
        waiter.watch_wal(&path).unwrap();
        assert!(waiter.change_mark().is_some());
        holder.begin_write().unwrap();
        assert!(waiter.begin_write().is_err(), "the lock is held");
        assert!(
            waiter.change_mark().is_some(),
            "no write is open on this store"
        );
        holder.rollback();
        holder.end_write();
    }

    #[test]
    fn file_marks_move_with_commits_of_another_connection() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        let other = rusqlite::Connection::open(&path).unwrap();
        other
            .query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))
            .unwrap();
        other.execute_batch("CREATE TABLE t(x)").unwrap();
        let shm = ShmFile::of(&path).expect("the index is readable");
        let a = shm.header().unwrap();
        assert_eq!(shm.header(), Some(a));
        other.execute_batch("INSERT INTO t VALUES (1)").unwrap();
        let b = shm.header().unwrap();
        assert_ne!(a, b);
        // A rolled-back transaction commits nothing: the header stays.
        other
            .execute_batch("BEGIN IMMEDIATE; INSERT INTO t VALUES (2); ROLLBACK")
            .unwrap();
        assert_eq!(shm.header(), Some(b));
        other
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        other.execute_batch("INSERT INTO t VALUES (3)").unwrap();
        assert_ne!(shm.header(), Some(b));
    }
}
