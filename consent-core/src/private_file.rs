//! Files that hold a secret (the pseudonym key, a signing key): created owner-only,
//! never replacing an existing file, and durable before anyone relies on them.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Creates `path` holding `contents`, mode 0600, refusing to replace an existing file,
/// durably: a temporary file is written and synced, linked into place (which fails if
/// a file appeared there meanwhile) and the directory synced.
pub(crate) fn create(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{:016x}.tmp", rand::random::<u64>()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let written = (|| {
        let mut f = opts.open(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        std::fs::hard_link(&tmp, path)
    })();
    let _ = std::fs::remove_file(&tmp);
    written?;
    #[cfg(unix)]
    std::fs::File::open(&dir)?.sync_all()?;
    Ok(())
}

/// Reads a secret file, refusing one that others than its owner may read (as ssh
/// refuses a private key): a key anyone on the host can copy signs for anyone.
pub(crate) fn read(path: &Path) -> std::io::Result<String> {
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
