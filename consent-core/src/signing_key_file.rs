//! Private signing keys (the log's, a witness's) in files of their own
//! (docs/FORMAT.md §11.1): the `consent-note` private key string and a newline, mode
//! `0600`, never inside the ledger.
//!
//! Writing never replaces a file and never leaves a half-written one under the key's
//! name: a temporary file is written and flushed, then hard-linked into place (which
//! fails if the name exists), then the directory is flushed — a lost signing key, or
//! one silently overwritten by a second `key generate`, would orphan every checkpoint
//! it signed.

use std::io::Write;
use std::path::{Path, PathBuf};

use consent_note::SigningKey;
use zeroize::Zeroizing;

use crate::atomic_file::{self, Mode};
use crate::error::{Error, Result};

/// Writes `key` to a new file at `path` (owner-only), durably. Refused when `path`
/// exists ([`Error::Conflict`]).
pub fn write_signing_key(path: &Path, key: &SigningKey) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| Error::invalid("a key file path needs a file name"))?
        .to_string_lossy()
        .into_owned();
    let tmp = dir.join(format!(".{name}.{:016x}.tmp", rand::random::<u64>()));
    let text = Zeroizing::new(format!("{}\n", key.to_private_key().as_str()));
    let written = (|| {
        let mut f = atomic_file::create_new(&tmp, Mode::Private)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::hard_link(&tmp, path)
    })();
    let _ = std::fs::remove_file(&tmp);
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Error::Conflict(format!(
                "{} already exists: a key file is never overwritten",
                path.display()
            )))
        }
        Err(e) => return Err(e.into()),
    }
    atomic_file::sync_dir(&dir)?;
    Ok(())
}

/// Reads a private key file: the key string, optionally followed by one newline.
/// A file that does not hold one is [`Error::InvalidArgument`], naming the file and
/// the reason (never its content).
pub fn read_signing_key(path: &Path) -> Result<SigningKey> {
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
        Error::Io(std::io::Error::new(
            e.kind(),
            format!("cannot read the key file {}: {e}", path.display()),
        ))
    })?);
    let line = text.strip_suffix('\n').unwrap_or(&text);
    SigningKey::from_private_key(line).map_err(|e| {
        Error::invalid(format!(
            "the key file {} does not hold a private key: {e}",
            path.display()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use consent_note::SignatureType;

    #[test]
    fn a_key_file_round_trips_privately_and_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log.key");
        let k = SigningKey::from_seed("a.example/log", SignatureType::Ed25519, &[4; 32]).unwrap();
        write_signing_key(&p, &k).unwrap();
        let back = read_signing_key(&p).unwrap();
        assert_eq!(back.verifier_key(), k.verifier_key());
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            format!("{}\n", k.to_private_key().as_str())
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let other = SigningKey::from_seed("a.example/log", SignatureType::Ed25519, &[5; 32]);
        let e = write_signing_key(&p, &other.unwrap()).unwrap_err();
        assert!(matches!(e, Error::Conflict(_)), "{e}");
        assert_eq!(
            read_signing_key(&p).unwrap().verifier_key(),
            k.verifier_key()
        );
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

        std::fs::write(dir.path().join("bad"), "PRIVATE+KEY+nope\n").unwrap();
        let e = read_signing_key(&dir.path().join("bad")).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidArgument);
        assert!(!e.to_string().contains("nope"), "{e}");
        assert!(read_signing_key(&dir.path().join("missing")).is_err());
    }
}
