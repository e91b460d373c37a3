//! Signing keys in their own files: the ledger's key, which signs its checkpoints, and a
//! witness's, which cosigns them (docs/FORMAT.md §11). A private key never goes into a
//! ledger: whoever can write the ledger file must not also be able to sign for it.
//!
//! The file holds one line, the private key string of `consent_note`
//! (`PRIVATE+KEY+<name>+<key id>+<base64>`), and is created owner-only. What is
//! published is the verifier key (`<name>+<key id>+<base64>`), one line that anyone
//! can use to check a checkpoint or a receipt.

use std::path::Path;

use consent_note::{SignatureType, SigningKey, VerifierKey};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// What a key signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRole {
    /// The ledger's own key: signs checkpoints (Ed25519, signed-note type 0x01). Its
    /// name is the log's origin, e.g. `ljmu.ac.uk/consent`.
    Log,
    /// A witness's key: cosigns checkpoints it has checked (cosignature/v1, type 0x04),
    /// e.g. `dpo.ljmu.ac.uk/witness`.
    Witness,
}

impl KeyRole {
    fn signature_type(self) -> SignatureType {
        match self {
            KeyRole::Log => SignatureType::Ed25519,
            KeyRole::Witness => SignatureType::CosignatureV1,
        }
    }
}

fn key_error(path: &Path, what: &str, e: impl std::fmt::Display) -> Error {
    Error::Key(format!("{what} {}: {e}", path.display()))
}

/// Generates a key named `name` for `role`, writes its private key to `path` (a new
/// file, mode 0600, never replacing one) and returns the verifier key to publish.
///
/// # Errors
/// [`InvalidArgument`](crate::ErrorKind::InvalidArgument) when `name` cannot name a
/// key (empty, a space, a plus sign, a control character) or the system's random
/// number generator fails; [`Key`](crate::ErrorKind::Key) when the file exists already
/// or cannot be created.
pub fn generate_signing_key_file(path: &Path, name: &str, role: KeyRole) -> Result<VerifierKey> {
    let key = SigningKey::generate(name, role.signature_type())
        .map_err(|e| Error::invalid(format!("cannot make a key named {name:?}: {e}")))?;
    let mut text = Zeroizing::new(key.to_private_key().as_bytes().to_vec());
    text.push(b'\n');
    crate::atomic_file::create_private(path, &text)
        .map_err(|e| key_error(path, "cannot create the signing key file", e))?;
    Ok(key.verifier_key())
}

/// Reads a private key file written by [`generate_signing_key_file`] (or any file
/// holding a `consent_note` private key string), refusing a file others can read and a
/// key of the wrong role.
///
/// # Errors
/// [`Key`](crate::ErrorKind::Key), naming the file: it cannot be read, others can read
/// it, it holds no private key string, or the key is of the other role.
pub fn read_signing_key_file(path: &Path, role: KeyRole) -> Result<SigningKey> {
    let text = Zeroizing::new(
        crate::atomic_file::read_private(path)
            .map_err(|e| key_error(path, "cannot use the signing key file", e))?,
    );
    let key = SigningKey::from_private_key(text.trim_end_matches(['\n', '\r']))
        .map_err(|e| key_error(path, "no private key in the signing key file", e))?;
    if key.kind() != role.signature_type() {
        let want = match role {
            KeyRole::Log => "a ledger's signing key",
            KeyRole::Witness => "a witness's cosigning key",
        };
        return Err(key_error(
            path,
            &format!("not {want}:"),
            "the key file holds another kind",
        ));
    }
    Ok(key)
}

/// Parses a verifier key string, with the error kind of bad input.
///
/// # Errors
/// [`InvalidArgument`](crate::ErrorKind::InvalidArgument) when `text` (trimmed) is not
/// a verifier key string (`<name>+<key id>+<base64>`) of a supported type.
pub fn parse_verifier_key(text: &str) -> Result<VerifierKey> {
    text.trim()
        .parse()
        .map_err(|e| Error::invalid(format!("not a verifier key ({e}): {:?}", text.trim())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_is_private_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.key");
        let vkey =
            generate_signing_key_file(&path, "ledger.example/consent", KeyRole::Log).unwrap();
        assert_eq!(vkey.name(), "ledger.example/consent");
        let key = read_signing_key_file(&path, KeyRole::Log).unwrap();
        assert_eq!(key.verifier_key().to_string(), vkey.to_string());
        // Never replaced.
        let again = generate_signing_key_file(&path, "other", KeyRole::Log).unwrap_err();
        assert_eq!(again.kind(), crate::ErrorKind::Key);
        assert_eq!(
            read_signing_key_file(&path, KeyRole::Log).unwrap().name(),
            "ledger.example/consent"
        );
        // A log key is not a witness key.
        assert_eq!(
            read_signing_key_file(&path, KeyRole::Witness)
                .unwrap_err()
                .kind(),
            crate::ErrorKind::Key
        );
        assert_eq!(
            parse_verifier_key(&vkey.to_string()).unwrap().to_string(),
            vkey.to_string()
        );
        assert_eq!(
            parse_verifier_key("nope").unwrap_err().kind(),
            crate::ErrorKind::InvalidArgument
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.key");
        generate_signing_key_file(&path, "dpo.example/witness", KeyRole::Witness).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = read_signing_key_file(&path, KeyRole::Witness).unwrap_err();
        assert!(e.to_string().contains("chmod 600"), "{e}");
    }
}
