//! Replacing a small file so that a reader, or a crash, sees the old content or the new,
//! never a mix: write a temporary file beside it, flush it to disk, rename it over the
//! old one, flush the directory. Used by the witness's state (`witness/`) and the
//! publish directory (`publish.rs`), which are plain files other programs read. And
//! files that hold a secret (the pseudonym key, a signing key): created owner-only,
//! never replacing an existing file, durable before anyone relies on them.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
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

/// Creates `path` holding `contents`, mode 0600, refusing to replace an existing file,
/// durably: a temporary file is written and synced, linked into place (which fails if
/// a file appeared there meanwhile) and the directory synced.
pub(crate) fn create_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{:016x}.tmp", rand::random::<u64>()));
    let written = (|| {
        let mut f = create_new(&tmp, Mode::Private)?;
        f.write_all(contents)?;
        f.sync_all()?;
        std::fs::hard_link(&tmp, path)
    })();
    let _ = std::fs::remove_file(&tmp);
    written?;
    sync_dir(&dir)
}

/// Reads a secret file, refusing one that others than its owner may read (as ssh
/// refuses a private key): a key anyone on the host can copy signs for anyone.
pub(crate) fn read_private(path: &Path) -> std::io::Result<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!(
                    "it is readable by others than its owner (mode {:o}); chmod 600 it",
                    mode & 0o777
                ),
            ));
        }
    }
    std::fs::read_to_string(path)
}
