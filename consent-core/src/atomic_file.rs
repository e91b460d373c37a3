//! Replacing a small file so that a reader, or a crash, sees the old content or the new,
//! never a mix: write a temporary file beside it, flush it to disk, rename it over the
//! old one, flush the directory. Used by the witness's state (`witness/`) and the
//! publish directory (`publish.rs`), which are plain files other programs read.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// File modes: owner-only for a witness's state, world-readable for published notes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mode {
    /// `0600`.
    Private,
    /// `0644`: a static web server or a shared drive serves it.
    Public,
}

/// Replaces (or creates) `path` with `bytes`, atomically and durably.
pub(crate) fn replace(path: &Path, bytes: &[u8], mode: Mode) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(
        ".tmp-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let tmp = dir.join(tmp_name);
    let written = (|| {
        let mut file = create_new(&tmp, mode)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written?;
    sync_dir(dir)
}

/// Creates `path`, failing if it exists (`O_EXCL`), with `mode`.
pub(crate) fn create_new(path: &Path, mode: Mode) -> io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(match mode {
            Mode::Private => 0o600,
            Mode::Public => 0o644,
        });
    }
    #[cfg(not(unix))]
    let _ = mode;
    opts.open(path)
}

/// Flushes a directory, so that a rename or creation in it survives a crash.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Creates directory `dir` (and its parents) when missing; owner-only for `Private`.
pub(crate) fn ensure_dir(dir: &Path, mode: Mode) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(match mode {
            Mode::Private => 0o700,
            Mode::Public => 0o755,
        });
    }
    #[cfg(not(unix))]
    let _ = mode;
    builder.create(dir)
}
