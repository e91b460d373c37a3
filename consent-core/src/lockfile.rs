//! The writer lock file `<ledger>-lock`, taken around every write transaction.
//!
//! SQLite serialises writers with POSIX record locks, which a process loses *all* of
//! when it closes *any* descriptor of the file — for instance when a second SQLite
//! library in the same process (Python's `sqlite3` module, a checker) opens and closes
//! the ledger. Two writers could then both believe they hold the write lock and one
//! would overwrite the other's acknowledged event. This lock is a `flock` on a file of
//! its own, held per open file description: closing another descriptor never drops
//! it, so two writers of this library can never overlap, whatever else the process
//! does with the ledger file.
//!
//! Acquisition polls with short sleeps, so a single append gets the lock soon after a
//! long import releases it between chunks (see `Ledger::append_chunked`).

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// The lock file of a ledger file: `<path>-lock`.
pub fn lock_path(ledger: &Path) -> PathBuf {
    let mut s = ledger.as_os_str().to_os_string();
    s.push("-lock");
    PathBuf::from(s)
}

/// An open lock file; [`WriteLock::acquire`] takes the exclusive lock.
pub(crate) struct WriteLock {
    file: File,
    held: bool,
}

impl WriteLock {
    /// Opens (creating, owner-only) the lock file beside the ledger.
    pub(crate) fn open(ledger: &Path) -> Result<WriteLock> {
        let path = lock_path(ledger);
        let mut opts = OpenOptions::new();
        opts.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let file = opts.open(&path).map_err(|e| {
            Error::Storage(format!("cannot open the lock file {}: {e}", path.display()))
        })?;
        Ok(WriteLock { file, held: false })
    }

    /// Takes the lock, waiting at most `timeout`.
    pub(crate) fn acquire(&mut self, timeout: Duration) -> Result<()> {
        if self.held {
            return Ok(());
        }
        let start = Instant::now();
        let mut pause = Duration::from_micros(50);
        loop {
            match self.file.try_lock() {
                Ok(()) => {
                    self.held = true;
                    return Ok(());
                }
                Err(TryLockError::WouldBlock) => {
                    if start.elapsed() >= timeout {
                        return Err(Error::Busy(format!(
                            "another writer held the ledger for more than {timeout:?}"
                        )));
                    }
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(1));
                }
                Err(TryLockError::Error(e)) => {
                    return Err(Error::Storage(format!("cannot lock the ledger: {e}")))
                }
            }
        }
    }

    /// Releases the lock (no-op when not held).
    pub(crate) fn release(&mut self) {
        if self.held {
            let _ = self.file.unlock();
            self.held = false;
        }
    }
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        self.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_handles_in_one_process_exclude_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.db");
        let mut a = WriteLock::open(&p).unwrap();
        let mut b = WriteLock::open(&p).unwrap();
        a.acquire(Duration::from_secs(1)).unwrap();
        assert!(matches!(
            b.acquire(Duration::from_millis(20)),
            Err(Error::Busy(_))
        ));
        // Closing an unrelated descriptor of the same file keeps the lock (unlike
        // POSIX record locks).
        drop(File::open(lock_path(&p)).unwrap());
        assert!(b.acquire(Duration::from_millis(20)).is_err());
        a.release();
        b.acquire(Duration::from_secs(1)).unwrap();
    }
}
