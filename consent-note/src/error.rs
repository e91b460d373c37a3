//! The one error type of the crate, with a stable numeric [`ErrorKind`] so that a C or
//! Python layer maps errors in a single `match`.
//!
//! Every way a note, key or checkpoint can be refused has its own variant: a reader who
//! is told "malformed" cannot tell a forged checkpoint from a truncated download, and a
//! test cannot tell whether the right check fired.

use thiserror::Error;

use crate::key::{KeyId, SignatureType};

/// Result with [`Error`](enum@Error) as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong reading, writing, signing or verifying a note.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// The note (or its text) is longer than [`MAX_NOTE_BYTES`](crate::MAX_NOTE_BYTES).
    #[error("note is {len} bytes, more than the {max} allowed")]
    NoteTooLarge {
        /// Length of the input, in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The input is not valid UTF-8.
    #[error("note is not valid UTF-8 (at byte {offset})")]
    InvalidUtf8 {
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// The input holds an ASCII control character other than newline (a carriage
    /// return, a tab, a NUL ...), which signed notes forbid.
    #[error("control character 0x{byte:02x} at byte {offset} (only newline is allowed)")]
    ControlCharacter {
        /// Offset of the character.
        offset: usize,
        /// The character.
        byte: u8,
    },
    /// The text (or the note) does not end in a newline.
    #[error("text does not end with a newline")]
    MissingFinalNewline,
    /// There is no blank line separating the text from signature lines, or no
    /// signature line after it.
    #[error("no signature block: a note is text, a blank line, then one or more signature lines")]
    NoSignatureBlock,
    /// A signature line is not `— <name> <base64>`.
    #[error("line {line}: malformed signature line: {reason}")]
    MalformedSignatureLine {
        /// The line number in the note, counting from 1; 0 for a line built by
        /// [`NoteSignature::new`](crate::NoteSignature::new) rather than read.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// More signature lines than [`MAX_SIGNATURES`](crate::MAX_SIGNATURES).
    #[error("more than {max} signatures")]
    TooManySignatures {
        /// The limit.
        max: usize,
    },
    /// Two signature lines name the same key (name and key id).
    #[error("two signatures by key {name}+{key_id}")]
    DuplicateSignature {
        /// The key name.
        name: String,
        /// The key id.
        key_id: KeyId,
    },
    /// A key name is empty or holds a space, a plus sign or a control character.
    #[error("invalid key name: {reason}")]
    InvalidKeyName {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A verifier key or private key string is not in its format.
    #[error("malformed key: {reason}")]
    MalformedKey {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A key string names a signature type this crate does not implement.
    #[error("unsupported signature type 0x{0:02x}")]
    UnsupportedSignatureType(u8),
    /// The key id written in a key string is not the one its name and key give.
    #[error("key id {written} does not match the key (computed {computed})")]
    KeyIdMismatch {
        /// The id written in the string.
        written: KeyId,
        /// The id computed from the name, type and public key.
        computed: KeyId,
    },
    /// The public key is not a valid Ed25519 point, or is a weak (small-order) one.
    #[error("invalid Ed25519 public key")]
    InvalidPublicKey,
    /// A key of one signature type was used where another is needed (a cosigner key
    /// to sign a note, a log key to cosign, ...).
    #[error("a {found} key was given where a {expected} key is needed")]
    WrongKeyType {
        /// The type needed.
        expected: SignatureType,
        /// The type given.
        found: SignatureType,
    },
    /// A signature line is by a known key (name and key id) but does not verify: the
    /// text, the timestamp or the signature was changed, or another key collides.
    #[error("signature by {name}+{key_id} does not verify")]
    BadSignature {
        /// The key name.
        name: String,
        /// The key id.
        key_id: KeyId,
    },
    /// A signature was checked against a key whose name or key id is not the one the
    /// signature line names.
    #[error("signature by {name}+{key_id} is not by this key")]
    KeyMismatch {
        /// The key name on the signature line.
        name: String,
        /// The key id on the signature line.
        key_id: KeyId,
    },
    /// No signature on the note is by a known key.
    #[error("no signature by a known key")]
    NoVerifiedSignature,
    /// Two of the known keys share a name and key id, so a signature cannot be
    /// attributed to one of them.
    #[error("two known keys are both {name}+{key_id}")]
    AmbiguousKey {
        /// The key name.
        name: String,
        /// The key id.
        key_id: KeyId,
    },
    /// The checkpoint is not signed by the log's key.
    #[error("checkpoint is not signed by the log key {name}+{key_id}")]
    MissingLogSignature {
        /// The log key's name.
        name: String,
        /// The log key's id.
        key_id: KeyId,
    },
    /// The checkpoint text has fewer than three lines.
    #[error("checkpoint has fewer than three lines (origin, size, root hash)")]
    CheckpointTooShort,
    /// The origin line is empty or starts or ends with white space.
    #[error("invalid checkpoint origin: {reason}")]
    InvalidOrigin {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The checkpoint is for another log than the one expected.
    #[error("checkpoint origin is `{found}`, expected `{expected}`")]
    OriginMismatch {
        /// The origin expected.
        expected: String,
        /// The origin on the checkpoint.
        found: String,
    },
    /// The tree size line is not a decimal number without leading zeros that fits in
    /// 64 bits.
    #[error("invalid tree size: {reason}")]
    InvalidTreeSize {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The root hash line is not the canonical base64 of 32 bytes.
    #[error("invalid root hash: {reason}")]
    InvalidRootHash {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An extension line is empty or holds a newline or another ASCII control character.
    #[error("invalid checkpoint extension line {index}")]
    InvalidExtensionLine {
        /// Index of the extension line, counting from 0.
        index: usize,
    },
    /// A cosignature timestamp is above 2^63 - 1, which tlog-cosignature forbids.
    #[error("cosignature timestamp {0} exceeds 2^63 - 1")]
    InvalidTimestamp(u64),
    /// The operating system's random number generator failed.
    #[error("random number generator failed: {0}")]
    Random(String),
}

/// Stable numeric classification of [`Error`](enum@Error). The numbers are for the C
/// ABI and are never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[repr(i32)]
pub enum ErrorKind {
    /// See [`Error::NoteTooLarge`].
    NoteTooLarge = 1,
    /// See [`Error::InvalidUtf8`].
    InvalidUtf8 = 2,
    /// See [`Error::ControlCharacter`].
    ControlCharacter = 3,
    /// See [`Error::MissingFinalNewline`].
    MissingFinalNewline = 4,
    /// See [`Error::NoSignatureBlock`].
    NoSignatureBlock = 5,
    /// See [`Error::MalformedSignatureLine`].
    MalformedSignatureLine = 6,
    /// See [`Error::TooManySignatures`].
    TooManySignatures = 7,
    /// See [`Error::DuplicateSignature`].
    DuplicateSignature = 8,
    /// See [`Error::InvalidKeyName`].
    InvalidKeyName = 9,
    /// See [`Error::MalformedKey`].
    MalformedKey = 10,
    /// See [`Error::UnsupportedSignatureType`].
    UnsupportedSignatureType = 11,
    /// See [`Error::KeyIdMismatch`].
    KeyIdMismatch = 12,
    /// See [`Error::InvalidPublicKey`].
    InvalidPublicKey = 13,
    /// See [`Error::WrongKeyType`].
    WrongKeyType = 14,
    /// See [`Error::BadSignature`].
    BadSignature = 15,
    /// See [`Error::KeyMismatch`].
    KeyMismatch = 16,
    /// See [`Error::NoVerifiedSignature`].
    NoVerifiedSignature = 17,
    /// See [`Error::AmbiguousKey`].
    AmbiguousKey = 18,
    /// See [`Error::MissingLogSignature`].
    MissingLogSignature = 19,
    /// See [`Error::CheckpointTooShort`].
    CheckpointTooShort = 20,
    /// See [`Error::InvalidOrigin`].
    InvalidOrigin = 21,
    /// See [`Error::OriginMismatch`].
    OriginMismatch = 22,
    /// See [`Error::InvalidTreeSize`].
    InvalidTreeSize = 23,
    /// See [`Error::InvalidRootHash`].
    InvalidRootHash = 24,
    /// See [`Error::InvalidExtensionLine`].
    InvalidExtensionLine = 25,
    /// See [`Error::InvalidTimestamp`].
    InvalidTimestamp = 26,
    /// See [`Error::Random`].
    Random = 27,
}

impl ErrorKind {
    /// Every kind, in numeric order, so that a binding's tests can check it maps each.
    pub const ALL: [ErrorKind; 27] = [
        ErrorKind::NoteTooLarge,
        ErrorKind::InvalidUtf8,
        ErrorKind::ControlCharacter,
        ErrorKind::MissingFinalNewline,
        ErrorKind::NoSignatureBlock,
        ErrorKind::MalformedSignatureLine,
        ErrorKind::TooManySignatures,
        ErrorKind::DuplicateSignature,
        ErrorKind::InvalidKeyName,
        ErrorKind::MalformedKey,
        ErrorKind::UnsupportedSignatureType,
        ErrorKind::KeyIdMismatch,
        ErrorKind::InvalidPublicKey,
        ErrorKind::WrongKeyType,
        ErrorKind::BadSignature,
        ErrorKind::KeyMismatch,
        ErrorKind::NoVerifiedSignature,
        ErrorKind::AmbiguousKey,
        ErrorKind::MissingLogSignature,
        ErrorKind::CheckpointTooShort,
        ErrorKind::InvalidOrigin,
        ErrorKind::OriginMismatch,
        ErrorKind::InvalidTreeSize,
        ErrorKind::InvalidRootHash,
        ErrorKind::InvalidExtensionLine,
        ErrorKind::InvalidTimestamp,
        ErrorKind::Random,
    ];

    /// The stable number of this kind.
    pub fn code(self) -> i32 {
        self as i32
    }
}

impl Error {
    /// The stable kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NoteTooLarge { .. } => ErrorKind::NoteTooLarge,
            Error::InvalidUtf8 { .. } => ErrorKind::InvalidUtf8,
            Error::ControlCharacter { .. } => ErrorKind::ControlCharacter,
            Error::MissingFinalNewline => ErrorKind::MissingFinalNewline,
            Error::NoSignatureBlock => ErrorKind::NoSignatureBlock,
            Error::MalformedSignatureLine { .. } => ErrorKind::MalformedSignatureLine,
            Error::TooManySignatures { .. } => ErrorKind::TooManySignatures,
            Error::DuplicateSignature { .. } => ErrorKind::DuplicateSignature,
            Error::InvalidKeyName { .. } => ErrorKind::InvalidKeyName,
            Error::MalformedKey { .. } => ErrorKind::MalformedKey,
            Error::UnsupportedSignatureType(_) => ErrorKind::UnsupportedSignatureType,
            Error::KeyIdMismatch { .. } => ErrorKind::KeyIdMismatch,
            Error::InvalidPublicKey => ErrorKind::InvalidPublicKey,
            Error::WrongKeyType { .. } => ErrorKind::WrongKeyType,
            Error::BadSignature { .. } => ErrorKind::BadSignature,
            Error::KeyMismatch { .. } => ErrorKind::KeyMismatch,
            Error::NoVerifiedSignature => ErrorKind::NoVerifiedSignature,
            Error::AmbiguousKey { .. } => ErrorKind::AmbiguousKey,
            Error::MissingLogSignature { .. } => ErrorKind::MissingLogSignature,
            Error::CheckpointTooShort => ErrorKind::CheckpointTooShort,
            Error::InvalidOrigin { .. } => ErrorKind::InvalidOrigin,
            Error::OriginMismatch { .. } => ErrorKind::OriginMismatch,
            Error::InvalidTreeSize { .. } => ErrorKind::InvalidTreeSize,
            Error::InvalidRootHash { .. } => ErrorKind::InvalidRootHash,
            Error::InvalidExtensionLine { .. } => ErrorKind::InvalidExtensionLine,
            Error::InvalidTimestamp(_) => ErrorKind::InvalidTimestamp,
            Error::Random(_) => ErrorKind::Random,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_numbered_in_order_and_never_twice() {
        for (i, kind) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(kind.code(), i as i32 + 1, "{kind:?}");
        }
    }
}
