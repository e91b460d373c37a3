//! The canonical encoding of an event: the bytes the Merkle leaf hashes.
//!
//! It is versioned and length-prefixed, independent of how SQLite lays out a row, and
//! it holds personal fields (subject, source id, evidence) only through a salted
//! digest, so erasing those fields later leaves every leaf hash recomputable.
//! `docs/FORMAT.md` specifies it byte for byte.

use std::cell::RefCell;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::merkle::Hash;

/// Version byte of the canonical encoding this build writes. Version 1 (events of a
/// ledger created by 0.1.0) is still read and hashed as it was, so old heads hold.
pub const CANONICAL_VERSION: u8 = 2;

/// Domain-separation prefix of the personal digest.
const PERSONAL_DOMAIN: &[u8] = b"consent-ledger/personal/v1\0";

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> Hash {
    Sha256::digest(data).into()
}

/// Parses 64 hex digits into a hash (white space around them ignored).
///
/// # Errors
/// [`InvalidArgument`](crate::ErrorKind::InvalidArgument) for anything else.
pub fn parse_hash(text: &str) -> Result<Hash> {
    let bytes = hex::decode(text.trim())
        .map_err(|_| Error::invalid("a hash must be 64 hexadecimal digits"))?;
    bytes
        .try_into()
        .map_err(|_| Error::invalid("a hash must be 64 hexadecimal digits"))
}

/// Builder for the field sequence: absent = `0x00`; present = `0x01`, a 4-byte
/// big-endian length, then the bytes.
#[derive(Default)]
pub(crate) struct Fields(Vec<u8>);

/// Runs `f` on empty fields whose buffer every call on this thread reuses: the scan of
/// `verify` encodes a million rows (and their personal digests) without allocating.
fn with_fields<T>(f: impl FnOnce(&mut Fields) -> T) -> T {
    thread_local!(static BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) });
    BUF.with_borrow_mut(|buf| {
        // Taken, not borrowed: a nested call would get a buffer of its own.
        let mut fields = Fields(std::mem::take(buf));
        fields.0.clear();
        let out = f(&mut fields);
        *buf = fields.0;
        out
    })
}

impl Fields {
    pub(crate) fn bytes(&mut self, v: Option<&[u8]>) -> &mut Self {
        match v {
            None => self.0.push(0),
            Some(b) => {
                self.0.push(1);
                let len = u32::try_from(b.len()).expect("fields are far below 4 GiB");
                self.0.extend_from_slice(&len.to_be_bytes());
                self.0.extend_from_slice(b);
            }
        }
        self
    }
    pub(crate) fn text(&mut self, v: Option<&str>) -> &mut Self {
        self.bytes(v.map(str::as_bytes))
    }
    pub(crate) fn int(&mut self, v: Option<i64>) -> &mut Self {
        self.bytes(v.map(i64::to_be_bytes).as_ref().map(|b| &b[..]))
    }
    pub(crate) fn into_vec(self) -> Vec<u8> {
        self.0
    }
}

/// The hashed view of an event: exactly the columns of the `events` table that the
/// canonical encoding covers, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalEvent<'a> {
    /// Encoding version: 1 or 2 (the row's `encoding` column).
    pub version: u8,
    /// Event id, 16 bytes.
    pub id: &'a [u8],
    /// Sequence number.
    pub seq: i64,
    /// Kind text.
    pub kind: &'a str,
    /// Personal digest (absent for registry events).
    pub personal_digest: Option<&'a [u8]>,
    /// Purpose id.
    pub purpose: Option<&'a str>,
    /// Purpose version.
    pub purpose_version: Option<i64>,
    /// Recipient.
    pub recipient: Option<&'a str>,
    /// Notice id.
    pub notice_id: Option<&'a str>,
    /// Notice version.
    pub notice_version: Option<&'a str>,
    /// Notice text hash.
    pub notice_sha256: Option<&'a [u8]>,
    /// Explicit marker, 0 or 1.
    pub explicit: i64,
    /// Method text.
    pub method: Option<&'a str>,
    /// Actor text.
    pub recorded_by: &'a str,
    /// Event time, ms.
    pub effective_at: i64,
    /// Record time, ms.
    pub recorded_at: i64,
    /// Expiry, ms.
    pub expires_at: Option<i64>,
    /// Downstream deadline, ms.
    pub effect_deadline: Option<i64>,
    /// Invalidation target, 16 bytes.
    pub target: Option<&'a [u8]>,
    /// Details JSON text, as stored.
    pub details: Option<&'a str>,
    /// Version 2: the subject's keyed pseudonym (docs/FORMAT.md §6), 32 bytes.
    pub subject_key: Option<&'a [u8]>,
    /// Version 2: the keyed pseudonym of the caller's source id, 32 bytes.
    pub source_key: Option<&'a [u8]>,
}

impl CanonicalEvent<'_> {
    /// The canonical bytes: version 1 has fields 1–19, version 2 adds 20–21.
    pub fn encode(&self) -> Vec<u8> {
        let mut f = Fields::default();
        self.write(&mut f);
        f.into_vec()
    }

    /// Appends the canonical bytes to `f`.
    fn write(&self, f: &mut Fields) {
        f.0.push(self.version);
        f.bytes(Some(self.id))
            .int(Some(self.seq))
            .text(Some(self.kind))
            .bytes(self.personal_digest)
            .text(self.purpose)
            .int(self.purpose_version)
            .text(self.recipient)
            .text(self.notice_id)
            .text(self.notice_version)
            .bytes(self.notice_sha256)
            .int(Some(self.explicit))
            .text(self.method)
            .text(Some(self.recorded_by))
            .int(Some(self.effective_at))
            .int(Some(self.recorded_at))
            .int(self.expires_at)
            .int(self.effect_deadline)
            .bytes(self.target)
            .text(self.details);
        if self.version >= 2 {
            f.bytes(self.subject_key).bytes(self.source_key);
        }
    }

    /// The Merkle leaf hash: SHA-256(0x00 || canonical bytes).
    pub fn leaf_hash(&self) -> Hash {
        with_fields(|f| {
            self.write(f);
            crate::merkle::leaf_hash(&f.0)
        })
    }
}

/// Reads canonical bytes back into their fields: the inverse of
/// [`CanonicalEvent::encode`]. Lets a receipt holder check that the readable fields of
/// a receipt are the ones its leaf hash covers. Rejects anything that is not exactly
/// one well-formed version-1 encoding.
///
/// # Errors
/// [`InvalidArgument`](crate::ErrorKind::InvalidArgument) (`not a canonical event:
/// ...`) for empty input, an unknown version, a truncated or malformed field, a
/// required field absent, text that is not UTF-8, an integer that is not 8 bytes, or
/// bytes left over.
#[allow(
    clippy::missing_panics_doc,
    reason = "never panics: its one `expect` converts a slice already cut to 4 bytes"
)]
pub fn decode(bytes: &[u8]) -> Result<CanonicalEvent<'_>> {
    let bad = |why: &str| Error::invalid(format!("not a canonical event: {why}"));
    let (&version, mut rest) = bytes.split_first().ok_or_else(|| bad("empty"))?;
    if !(1..=CANONICAL_VERSION).contains(&version) {
        return Err(bad("unknown version"));
    }
    let mut next = || -> Result<Option<&[u8]>> {
        let (&tag, after) = rest.split_first().ok_or_else(|| bad("truncated"))?;
        match tag {
            0 => {
                rest = after;
                Ok(None)
            }
            1 => {
                let len: [u8; 4] = after
                    .get(..4)
                    .ok_or_else(|| bad("truncated length"))?
                    .try_into()
                    .expect("4 bytes");
                let len = u32::from_be_bytes(len) as usize;
                let value = after
                    .get(4..4 + len)
                    .ok_or_else(|| bad("truncated field"))?;
                rest = &after[4 + len..];
                Ok(Some(value))
            }
            _ => Err(bad("bad field tag")),
        }
    };
    fn text(v: Option<&[u8]>) -> Result<Option<&str>> {
        v.map(|b| {
            std::str::from_utf8(b)
                .map_err(|_| Error::invalid("not a canonical event: text is not UTF-8"))
        })
        .transpose()
    }
    fn int(v: Option<&[u8]>) -> Result<Option<i64>> {
        v.map(|b| {
            <[u8; 8]>::try_from(b)
                .map(i64::from_be_bytes)
                .map_err(|_| Error::invalid("not a canonical event: an integer is not 8 bytes"))
        })
        .transpose()
    }
    let required = |v: Option<i64>| v.ok_or_else(|| bad("a required field is absent"));
    let id = next()?.ok_or_else(|| bad("no id"))?;
    let seq = required(int(next()?)?)?;
    let kind = text(next()?)?.ok_or_else(|| bad("no kind"))?;
    let mut event = CanonicalEvent {
        version,
        id,
        seq,
        kind,
        personal_digest: next()?,
        purpose: text(next()?)?,
        purpose_version: int(next()?)?,
        recipient: text(next()?)?,
        notice_id: text(next()?)?,
        notice_version: text(next()?)?,
        notice_sha256: next()?,
        explicit: required(int(next()?)?)?,
        method: text(next()?)?,
        recorded_by: text(next()?)?.ok_or_else(|| bad("no recorded_by"))?,
        effective_at: required(int(next()?)?)?,
        recorded_at: required(int(next()?)?)?,
        expires_at: int(next()?)?,
        effect_deadline: int(next()?)?,
        target: next()?,
        details: text(next()?)?,
        subject_key: None,
        source_key: None,
    };
    if version >= 2 {
        event.subject_key = next()?;
        event.source_key = next()?;
    }
    if !rest.is_empty() {
        return Err(bad("trailing bytes"));
    }
    Ok(event)
}

/// SHA-256 over the domain prefix, the salt and the personal fields in field encoding.
pub fn personal_digest(
    salt: &[u8],
    subject: Option<&str>,
    source_id: Option<&str>,
    evidence: Option<&str>,
) -> Hash {
    with_fields(|f| {
        f.bytes(Some(salt))
            .text(subject)
            .text(source_id)
            .text(evidence);
        let mut h = Sha256::new();
        h.update(PERSONAL_DOMAIN);
        h.update(&f.0);
        h.finalize().into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_encoding_is_length_prefixed() {
        let mut f = Fields::default();
        f.text(Some("ab")).text(None).int(Some(-1));
        assert_eq!(
            f.into_vec(),
            [
                &[1, 0, 0, 0, 2, b'a', b'b', 0, 1, 0, 0, 0, 8][..],
                &[0xff; 8]
            ]
            .concat()
        );
    }

    proptest::proptest! {
        #[test]
        fn decode_inverts_encode(
            id in proptest::collection::vec(proptest::num::u8::ANY, 16),
            seq in 0i64..i64::MAX,
            kind in "[a-z_]{1,20}",
            purpose in proptest::option::of("\\PC{0,30}"),
            version in proptest::option::of(proptest::num::i64::ANY),
            explicit in 0i64..2,
            times in (proptest::num::i64::ANY, proptest::num::i64::ANY, proptest::option::of(proptest::num::i64::ANY)),
            details in proptest::option::of("\\PC{0,60}"),
        ) {
            let e = CanonicalEvent {
                version: 2, subject_key: Some(&[3u8; 32]), source_key: None,
                id: &id, seq, kind: &kind, personal_digest: Some(&[9u8; 32]), purpose: purpose.as_deref(),
                purpose_version: version, recipient: None, notice_id: Some("n"), notice_version: Some("1"),
                notice_sha256: None, explicit, method: Some("paper"), recorded_by: "staff:x",
                effective_at: times.0, recorded_at: times.1, expires_at: times.2, effect_deadline: None,
                target: None, details: details.as_deref(),
            };
            let bytes = e.encode();
            proptest::prop_assert_eq!(decode(&bytes).unwrap(), e);
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = decode(&bytes);
        }
    }

    #[test]
    fn decode_rejects_trailing_and_truncated_bytes() {
        let e = CanonicalEvent {
            version: 1,
            subject_key: None,
            source_key: None,
            id: &[1; 16],
            seq: 3,
            kind: "given",
            personal_digest: None,
            purpose: Some("p"),
            purpose_version: Some(1),
            recipient: None,
            notice_id: None,
            notice_version: None,
            notice_sha256: None,
            explicit: 0,
            method: None,
            recorded_by: "subject",
            effective_at: 1,
            recorded_at: 2,
            expires_at: None,
            effect_deadline: None,
            target: None,
            details: None,
        };
        let mut bytes = e.encode();
        assert!(decode(&bytes).is_ok());
        bytes.push(0);
        assert!(decode(&bytes).is_err());
        bytes.truncate(bytes.len() - 3);
        assert!(decode(&bytes).is_err());
    }

    #[test]
    fn digest_separates_fields() {
        let s = [7u8; 16];
        assert_ne!(
            personal_digest(&s, Some("ab"), Some("c"), None),
            personal_digest(&s, Some("a"), Some("bc"), None)
        );
        assert_ne!(
            personal_digest(&s, Some("a"), None, None),
            personal_digest(&[8u8; 16], Some("a"), None, None)
        );
    }
}
