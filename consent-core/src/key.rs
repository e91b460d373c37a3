//! The pseudonym key: the secret that turns a subject id (or a caller's source id)
//! into a keyed pseudonym (docs/FORMAT.md §6).
//!
//! Student ids are short: any unkeyed hash of one is reversed by trying them all. The
//! key therefore never lives in the ledger file; it sits in a key file of its own
//! (0600, by default `<ledger>.key`, best kept on other storage) or is handed over by
//! the embedding application. The ledger commits to the key's id in its hashed
//! `ledger_configured` event, so a swapped key is refused instead of silently making
//! every erased subject look new.

use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::canonical::sha256;
use crate::error::{Error, Result};
use crate::merkle::Hash;

/// Where the pseudonym key comes from.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum KeySource {
    /// `<ledger path>.key` for a file ledger (created with the ledger); a random key
    /// for a ledger in memory.
    #[default]
    Beside,
    /// A key file at this path (created, 0600, when a new ledger is created and the
    /// file does not exist yet).
    File(PathBuf),
    /// The key itself, supplied by the embedding application.
    Bytes([u8; 32]),
    /// No key: the ledger opens read-only for verification and proofs; every question
    /// about a subject fails with [`Error::Key`].
    None,
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Beside => f.write_str("Beside"),
            KeySource::File(p) => f.debug_tuple("File").field(p).finish(),
            KeySource::Bytes(_) => f.write_str("Bytes(<secret>)"),
            KeySource::None => f.write_str("None"),
        }
    }
}

/// The default key file of a ledger file: `<path>.key`.
pub fn default_key_path(ledger: &Path) -> PathBuf {
    let mut s = ledger.as_os_str().to_os_string();
    s.push(".key");
    PathBuf::from(s)
}

/// A loaded pseudonym key.
#[derive(Clone)]
pub(crate) struct PseudonymKey([u8; 32]);

const SUBJECT_DOMAIN: &[u8] = b"consent-ledger/subject/v2\0";
const SOURCE_DOMAIN: &[u8] = b"consent-ledger/source/v2\0";
const KEY_ID_DOMAIN: &[u8] = b"consent-ledger/key-id/v2\0";
const LEGACY_ERASED_DOMAIN: &[u8] = b"consent-ledger/erased/v1\0";

impl PseudonymKey {
    pub(crate) fn from_bytes(b: [u8; 32]) -> Self {
        PseudonymKey(b)
    }

    pub(crate) fn random() -> Self {
        PseudonymKey(rand::random())
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn mac(&self, domain: &[u8], data: &[u8]) -> Hash {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("any key length");
        m.update(domain);
        m.update(data);
        m.finalize().into_bytes().into()
    }

    /// HMAC-SHA256(key, "consent-ledger/subject/v2" 0x00 ‖ subject).
    pub(crate) fn subject_key(&self, subject: &str) -> Hash {
        self.mac(SUBJECT_DOMAIN, subject.as_bytes())
    }

    /// HMAC-SHA256(key, "consent-ledger/source/v2" 0x00 ‖ source id).
    pub(crate) fn source_key(&self, source_id: &str) -> Hash {
        self.mac(SOURCE_DOMAIN, source_id.as_bytes())
    }

    /// The erasure marker of schema version 1, where this key was the file's pepper:
    /// SHA-256("consent-ledger/erased/v1" 0x00 ‖ key ‖ subject). Only subjects erased
    /// before a migration carry it.
    pub(crate) fn legacy_marker(&self, subject: &str) -> Hash {
        let mut data = LEGACY_ERASED_DOMAIN.to_vec();
        data.extend_from_slice(&self.0);
        data.extend_from_slice(subject.as_bytes());
        sha256(&data)
    }

    /// SHA-256("consent-ledger/key-id/v2" 0x00 ‖ key), hex: what the ledger commits to.
    pub(crate) fn id(&self) -> String {
        let mut data = KEY_ID_DOMAIN.to_vec();
        data.extend_from_slice(&self.0);
        hex::encode(sha256(&data))
    }
}

/// Reads a key file: 64 hexadecimal digits, optionally followed by a newline.
pub(crate) fn read_key_file(path: &Path) -> Result<PseudonymKey> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::Key(format!(
            "cannot read the pseudonym key file {}: {e} (a ledger cannot answer for erased subjects without it)",
            path.display()
        ))
    })?;
    let bytes = hex::decode(text.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| {
            Error::Key(format!(
                "the pseudonym key file {} does not hold 64 hexadecimal digits",
                path.display()
            ))
        })?;
    Ok(PseudonymKey(bytes))
}

/// Writes a new key file (see [`crate::atomic_file::create_private`]) before the ledger commits
/// to the key, so a power cut never leaves a ledger whose key file is missing or half
/// written.
pub(crate) fn write_key_file(path: &Path, key: &PseudonymKey) -> Result<()> {
    crate::atomic_file::create_private(path, format!("{}\n", hex::encode(key.0)).as_bytes())
        .map_err(|e| {
            Error::Key(format!(
                "cannot create the pseudonym key file {}: {e}",
                path.display()
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_keyed_and_domain_separated() {
        let a = PseudonymKey([1; 32]);
        let b = PseudonymKey([2; 32]);
        assert_ne!(a.subject_key("770001"), b.subject_key("770001"));
        assert_ne!(a.subject_key("770001"), a.source_key("770001"));
        assert_ne!(a.subject_key("770001"), a.legacy_marker("770001"));
        assert_ne!(a.id(), b.id());
        // HMAC, not a bare hash of key and id.
        let mut plain = SUBJECT_DOMAIN.to_vec();
        plain.extend_from_slice(&[1; 32]);
        plain.extend_from_slice(b"770001");
        assert_ne!(a.subject_key("770001"), sha256(&plain));
    }

    #[test]
    fn key_file_round_trip_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        let k = PseudonymKey::random();
        write_key_file(&p, &k).unwrap();
        assert_eq!(read_key_file(&p).unwrap().0, k.0);
        assert!(write_key_file(&p, &k).is_err(), "never replaces a key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&p, "zz").unwrap();
        assert!(matches!(read_key_file(&p), Err(Error::Key(_))));
    }
}
