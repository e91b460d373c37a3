//! Checkpoint cosignatures (C2SP `tlog-cosignature`, Ed25519 `cosignature/v1`,
//! signature type 0x04).
//!
//! A witness's cosignature says: as of this time, the largest consistent tree I have
//! seen for this log has this root. On the note it is an ordinary signature line whose
//! bytes are
//!
//! ```text
//! key id (4 bytes) || timestamp (8 bytes, big-endian, POSIX seconds) || Ed25519 signature (64)
//! ```
//!
//! and the signed message is two header lines, then the whole checkpoint text
//! (extension lines included, signature lines not):
//!
//! ```text
//! cosignature/v1
//! time <timestamp, decimal, no leading zeros>
//! <origin>
//! <size>
//! <root hash>
//! ```
//!
//! The message does not name the cosigner, so one Ed25519 key must serve one cosigner
//! only. Signing is [`SigningKey::cosign`](crate::SigningKey::cosign); checking is
//! [`Note::verify`](crate::Note::verify) or
//! [`VerifierKey::verify`](crate::VerifierKey::verify) with a
//! [`SignatureType::CosignatureV1`](crate::SignatureType::CosignatureV1) key, which
//! report the timestamp.

/// The largest timestamp a cosignature may carry: 2^63 - 1.
pub const MAX_TIMESTAMP: u64 = i64::MAX as u64;

/// The message a `cosignature/v1` signature covers, for `text` (a checkpoint's note
/// text, ending in a newline) at `timestamp`.
pub fn message(text: &str, timestamp: u64) -> Vec<u8> {
    format!("cosignature/v1\ntime {timestamp}\n{text}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_is_the_one_in_the_specification() {
        let text =
            "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        assert_eq!(
            message(text, 1679315147),
            b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        );
        assert!(message(text, 0).starts_with(b"cosignature/v1\ntime 0\n"));
    }
}
