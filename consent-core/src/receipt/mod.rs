//! Consent receipts, version 2: one JSON document a student or a regulator can check
//! with nothing but the log's verifier key (and the witnesses' keys), without the
//! ledger (docs/FORMAT.md §12).
//!
//! A receipt carries a signed, ideally cosigned checkpoint and four log entries, each
//! as its canonical bytes with an inclusion proof in the checkpoint's tree: the event,
//! the `purpose_defined` event of the purpose version it was recorded under, the
//! `notice_defined` event of the notice shown, and the ledger's `ledger_configured`
//! event. It also carries the personal fields and salt of the event's personal digest,
//! so the student can see that their id is the one recorded.
//!
//! The readable part (an ISO/IEC TS 27560 or Kantara layout) is *derived*: the checker
//! rebuilds it from the proved bytes alone, with the same function the builder used,
//! and requires it to equal the receipt's exactly. So no field can be changed, and no
//! field can show what the proofs do not cover; what a layout wants but the log cannot
//! prove (the state now, above all) is named in `not_proved`, which is rebuilt and
//! compared the same way.
//!
//! ```
//! use consent_core::{Ledger, NewEvent, Method, NoticeDef, PurposeDef};
//! use consent_core::receipt::{self, Layout};
//! use consent_note::{Checkpoint, SignatureType, SigningKey};
//!
//! let ledger = Ledger::in_memory()?;
//! ledger.register_purpose(PurposeDef::new("jmsu.marketing", "Union marketing", "JMSU"))?;
//! ledger.register_notice(
//!     NoticeDef::from_text("jmsu.privacy", "1", "JMSU privacy notice", "...")
//!         .covering("JMSU", ["jmsu.*"]),
//! )?;
//! let event = ledger.append(
//!     NewEvent::give("770001", "jmsu.marketing").notice("jmsu.privacy", "1").method(Method::Portal),
//! )?;
//!
//! // The ledger's keeper signs its head (origin = the key's name).
//! let key = SigningKey::from_seed("ljmu.ac.uk/consent", SignatureType::Ed25519, &[7; 32]).unwrap();
//! let head = ledger.head()?;
//! let checkpoint = Checkpoint { origin: key.name().into(), size: head.size, root: head.root, extensions: vec![] };
//! let note = checkpoint.sign(&key).unwrap().to_string();
//!
//! let json = ledger.receipt(event.id, &note, Layout::Iso27560)?.to_json();
//!
//! // Anyone holding the verifier key checks it, without the ledger.
//! let checked = receipt::check(&json, &key.verifier_key(), &[], 0)?;
//! assert_eq!(checked.readable["principal"]["id"], "770001");
//! assert!(receipt::check(&json.replace("JMSU", "LJMU"), &key.verifier_key(), &[], 0).is_err());
//! # Ok::<(), consent_core::Error>(())
//! ```

mod build;
mod check;
mod facts;
mod layout;
mod strict_json;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::merkle::Hash;

pub use check::{check, CheckedReceipt};

/// The `format` of a version-2 receipt.
pub const FORMAT: &str = "consent-ledger/receipt/v2";

/// The largest receipt read: 4 MiB. A receipt holds four events and a checkpoint; a
/// hostile file of gigabytes is refused before it is parsed.
pub const MAX_RECEIPT_BYTES: usize = 4 << 20;

/// The most hashes an inclusion proof can need (a tree of 2^64 leaves).
const MAX_PROOF_HASHES: usize = 64;

/// Which readable layout a receipt carries. Both are filled from proved bytes only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Layout {
    /// Fields of ISO/IEC TS 27560 (consent record information structure).
    #[serde(rename = "iso27560")]
    Iso27560,
    /// The Kantara Initiative Consent Receipt v1.1 layout.
    #[serde(rename = "kantara")]
    Kantara,
}

/// One log entry of a receipt: what its leaf hash covers, and the way to the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The canonical bytes (docs/FORMAT.md §3.3). The checker hashes them itself and
    /// takes the leaf index from the `seq` inside them, so a proof is never about a
    /// bare hash or an index the receipt merely states.
    pub canonical: Vec<u8>,
    /// RFC 9162 inclusion proof in the checkpoint's tree, from the leaf's sibling up.
    pub proof: Vec<Hash>,
}

/// The personal fields of the event's digest (docs/FORMAT.md §3.2), so the student can
/// check that their id is the one recorded. Personal data: a receipt is theirs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// The subject (student id).
    pub id: String,
    /// The digest's salt, 16 bytes.
    pub salt: Vec<u8>,
    /// The caller's idempotency key, as stored.
    pub source_id: Option<String>,
    /// The evidence, as the exact JSON text stored (the digest covers that text).
    pub evidence: Option<String>,
}

/// A version-2 receipt. Build one with [`crate::Ledger::receipt`]; check one with
/// [`check`]. Its JSON form is [`Receipt::to_json`].
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    /// The signed note of the checkpoint: the log's signature and any cosignatures.
    pub checkpoint: String,
    /// The event the receipt is about.
    pub event: Entry,
    /// The `purpose_defined` event of the event's purpose id and version.
    pub purpose: Entry,
    /// The `notice_defined` event of the event's notice id and version; `None` when
    /// the event names no notice.
    pub notice: Option<Entry>,
    /// The ledger's `ledger_configured` event: real or simulated clock, time zone.
    pub configuration: Entry,
    /// The personal fields; `None` once the subject was erased.
    pub subject: Option<Subject>,
    /// The readable layout.
    pub layout: Layout,
    /// The layout's fields, derived from the proved bytes alone.
    pub readable: Value,
    /// What the layout would show but the receipt cannot prove, in plain words.
    pub not_proved: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireEntry {
    canonical: String,
    proof: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireSubject {
    id: String,
    salt: String,
    source_id: Option<String>,
    evidence: Option<String>,
}

/// The JSON document, field for field (docs/FORMAT.md §12). Every key is required.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    format: String,
    checkpoint: String,
    event: WireEntry,
    purpose: WireEntry,
    #[serde(deserialize_with = "required")]
    notice: Option<WireEntry>,
    configuration: WireEntry,
    #[serde(deserialize_with = "required")]
    subject: Option<WireSubject>,
    layout: Layout,
    readable: Value,
    not_proved: Vec<String>,
}

/// An `Option` whose key must be present (`null` allowed): serde treats a missing
/// `Option` as `None` unless a `deserialize_with` is given.
fn required<'de, D, T>(d: D) -> std::result::Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d)
}

fn rejected(msg: impl Into<String>) -> Error {
    Error::ReceiptRejected(msg.into())
}

/// Canonical base64 only: one text per value, so no two receipts differ invisibly.
fn decode_base64(what: &str, text: &str) -> Result<Vec<u8>> {
    let bytes = BASE64
        .decode(text)
        .map_err(|_| rejected(format!("{what} is not base64")))?;
    if BASE64.encode(&bytes) != text {
        return Err(rejected(format!("{what} is not canonical base64")));
    }
    Ok(bytes)
}

impl Entry {
    fn to_wire(&self) -> WireEntry {
        WireEntry {
            canonical: BASE64.encode(&self.canonical),
            proof: self.proof.iter().map(|h| BASE64.encode(h)).collect(),
        }
    }

    fn from_wire(what: &str, w: WireEntry) -> Result<Entry> {
        if w.proof.len() > MAX_PROOF_HASHES {
            return Err(rejected(format!(
                "the {what}'s proof has {} hashes; no tree needs more than {MAX_PROOF_HASHES}",
                w.proof.len()
            )));
        }
        let proof = w
            .proof
            .iter()
            .map(|h| {
                decode_base64(&format!("a hash of the {what}'s proof"), h)?
                    .try_into()
                    .map_err(|_| rejected(format!("a hash of the {what}'s proof is not 32 bytes")))
            })
            .collect::<Result<_>>()?;
        Ok(Entry {
            canonical: decode_base64(&format!("the {what}'s canonical bytes"), &w.canonical)?,
            proof,
        })
    }
}

impl Receipt {
    /// The receipt as a JSON document (pretty-printed, ending in a newline).
    #[allow(
        clippy::missing_panics_doc,
        reason = "never panics: every field is a string, a number or JSON already"
    )]
    pub fn to_json(&self) -> String {
        let wire = Wire {
            format: FORMAT.into(),
            checkpoint: self.checkpoint.clone(),
            event: self.event.to_wire(),
            purpose: self.purpose.to_wire(),
            notice: self.notice.as_ref().map(Entry::to_wire),
            configuration: self.configuration.to_wire(),
            subject: self.subject.as_ref().map(|s| WireSubject {
                id: s.id.clone(),
                salt: BASE64.encode(&s.salt),
                source_id: s.source_id.clone(),
                evidence: s.evidence.clone(),
            }),
            layout: self.layout,
            readable: self.readable.clone(),
            not_proved: self.not_proved.clone(),
        };
        serde_json::to_string_pretty(&wire).expect("a receipt serialises") + "\n"
    }

    /// Reads a receipt's JSON, strictly, without checking any proof or signature
    /// ([`check`] does): at most [`MAX_RECEIPT_BYTES`]; every key of §12 present and
    /// no other, at any level of the envelope; no key twice in any object (a reader
    /// could see the first value and a parser keep the last); canonical base64;
    /// `format` [`FORMAT`]. A version-1 receipt is refused: its readable fields
    /// were not all proved.
    ///
    /// # Errors
    /// [`InvalidArgument`](crate::ErrorKind::InvalidArgument) when the text is not
    /// JSON; [`ReceiptRejected`](crate::ErrorKind::ReceiptRejected) for everything
    /// above (too large, a key twice, missing or extra, another format, bad base64).
    pub fn from_json(json: &str) -> Result<Receipt> {
        if json.len() > MAX_RECEIPT_BYTES {
            return Err(rejected(format!(
                "the receipt is {} bytes, more than the {MAX_RECEIPT_BYTES} allowed",
                json.len()
            )));
        }
        let value = strict_json::parse(json).map_err(|e| match e.classify() {
            // Well-formed JSON that is not one document (a key twice): a doctored file.
            serde_json::error::Category::Data => rejected(format!("the receipt: {e}")),
            _ => Error::invalid(format!("the receipt is not a JSON document: {e}")),
        })?;
        match value.get("format").and_then(Value::as_str) {
            Some(FORMAT) => {}
            Some(f) if f.starts_with("consent-ledger/receipt/") && f.ends_with("/v1") => {
                return Err(rejected(
                    "a version-1 receipt: its readable fields were not all proved; ask for a version-2 receipt",
                ))
            }
            _ if value.get("ledger_proof").is_some() => {
                return Err(rejected(
                    "a version-1 receipt: its readable fields were not all proved; ask for a version-2 receipt",
                ))
            }
            _ => return Err(rejected(format!("not a receipt: `format` is not {FORMAT}"))),
        }
        let w: Wire = serde_json::from_value(value)
            .map_err(|e| rejected(format!("the receipt is malformed: {e}")))?;
        let subject = w
            .subject
            .map(|s| -> Result<Subject> {
                Ok(Subject {
                    salt: decode_base64("the subject's salt", &s.salt)?,
                    id: s.id,
                    source_id: s.source_id,
                    evidence: s.evidence,
                })
            })
            .transpose()?;
        Ok(Receipt {
            checkpoint: w.checkpoint,
            event: Entry::from_wire("event", w.event)?,
            purpose: Entry::from_wire("purpose", w.purpose)?,
            notice: w
                .notice
                .map(|n| Entry::from_wire("notice", n))
                .transpose()?,
            configuration: Entry::from_wire("configuration", w.configuration)?,
            subject,
            layout: w.layout,
            readable: w.readable,
            not_proved: w.not_proved,
        })
    }
}
