//! Files the CLI writes (subject-access copies, receipts, proofs) hold personal data.
//! They are created owner-only (0600), never written through a symbolic link planted
//! at the path (which would let someone else choose the file we overwrite), and land
//! whole or not at all: a temporary file in the same folder, synced, then renamed over
//! the path, so neither a crash nor an error leaves half a document.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use crate::exit::{CliResult, Failure, STORAGE};

/// Writes `bytes` to `path` (see the module docs).
pub fn write(path: &Path, bytes: &[u8]) -> CliResult {
    replace(path, |f| f.write_all(bytes))
}

/// Creates a private temporary file next to `path`, lets `fill` write it, then syncs
/// and renames it over `path`. On any error the temporary file is removed and `path`
/// is as it was.
fn replace(path: &Path, fill: impl FnOnce(&mut File) -> io::Result<()>) -> CliResult {
    let fail =
        |e: io::Error| Failure::new(STORAGE, format!("cannot write {}: {e}", path.display()));
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            return Err(Failure::usage(format!(
                "{} is a symbolic link: refusing to write through it (remove it or choose another path)",
                path.display()
            )))
        }
        // Renaming over a device or a fifo would replace it, not write to it.
        Ok(m) if !m.is_file() => {
            return Err(Failure::usage(format!(
                "{} exists and is not a regular file",
                path.display()
            )))
        }
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(fail(e)),
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".consent-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o600));
    }
    let mut tmp = builder.tempfile_in(dir).map_err(fail)?;
    fill(tmp.as_file_mut())
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(fail)?;
    // rename(2) replaces a link placed at `path` since the check; it never follows it.
    tmp.persist(path).map_err(|e| fail(e.error))?;
    // The rename itself is durable only once the folder is synced.
    #[cfg(unix)]
    File::open(dir).and_then(|d| d.sync_all()).map_err(fail)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn an_error_half_way_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sar.json");
        std::fs::write(&path, "old").unwrap();
        let r = replace(&path, |f| {
            f.write_all(b"{\"half\": ")?;
            Err(io::Error::other("disk full"))
        });
        let e = r.unwrap_err();
        assert_eq!(e.code, STORAGE);
        assert!(e.message.contains("disk full"), "{}", e.message);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(names(dir.path()), ["sar.json"]);
        // And a missing folder is an error, with nothing created.
        let e = write(&dir.path().join("no/such/dir/x.json"), b"x").unwrap_err();
        assert_eq!(e.code, STORAGE);
        assert_eq!(names(dir.path()), ["sar.json"]);
    }

    #[test]
    fn a_new_file_is_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.json");
        write(&path, b"{}\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
