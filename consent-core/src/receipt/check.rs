//! Checking a receipt with nothing but the verifier keys: no ledger, no network.

use std::collections::HashSet;

use consent_note::{Checkpoint, VerifiedSignature, VerifierKey};
use serde_json::Value;
use uuid::Uuid;

use super::facts::Facts;
use super::{layout, rejected, Entry, Layout, Receipt};
use crate::error::{Error, Result};
use crate::event::EventKind;
use crate::merkle;
use crate::timestamp::Timestamp;

/// The readable fields that hold a subject id, in either layout.
const PERSONAL_FIELDS: [&str; 2] = ["/principal/id", "/piiPrincipalId"];

/// What a receipt proved, for a program to act on and a person to read.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedReceipt {
    /// The checkpoint, signed by the log key given.
    pub checkpoint: Checkpoint,
    /// The cosignatures by the witness keys given, each witness once, with the time
    /// each states: the event was on record, in this log, by then.
    pub cosignatures: Vec<VerifiedSignature>,
    /// The event's id.
    pub event_id: Uuid,
    /// The event's kind.
    pub kind: EventKind,
    /// Its position in the log.
    pub seq: u64,
    /// The purpose id and version it was recorded under.
    pub purpose: (String, u32),
    /// Whether the receipt carried the subject's fields and they matched the digest
    /// (`false`: the subject was erased; the receipt then names nobody).
    pub subject_checked: bool,
    /// The ledger proves it was created with a simulated clock.
    pub simulated: bool,
    /// The layout checked.
    pub layout: Layout,
    /// The readable fields: equal to the receipt's, and rebuilt from proved bytes.
    pub readable: Value,
    /// What the receipt does not prove (the receipt's list, rebuilt and compared).
    pub not_proved: Vec<String>,
    /// What it proves, in plain words, one statement a line.
    pub proved: Vec<String>,
}

/// Checks a receipt's JSON (docs/FORMAT.md §12) with the log's verifier key and the
/// witnesses' keys, requiring `quorum` cosignatures by distinct witnesses.
///
/// In order: the JSON strictly ([`Receipt::from_json`]); the checkpoint, whose origin
/// must be the log key's name, signed by the log key, with at least `quorum` valid
/// cosignatures (a line by a given key that does not verify refuses the receipt); a
/// size above zero; each entry's inclusion proof, with the leaf hash computed from its
/// canonical bytes and the leaf index taken from the `seq` inside them; the bindings
/// between the entries and the personal digest; then the readable fields and the
/// `not_proved` list, rebuilt from the proved bytes alone and compared exactly.
///
/// # Errors
/// [`InvalidArgument`](crate::ErrorKind::InvalidArgument) when the text is not JSON
/// or `quorum` exceeds the witness keys given;
/// [`ReceiptRejected`](crate::ErrorKind::ReceiptRejected), naming the first thing that
/// does not hold, for everything else (the checkpoint's signatures included). Nothing
/// else: the check reads no ledger.
pub fn check(
    json: &str,
    log_key: &VerifierKey,
    witnesses: &[VerifierKey],
    quorum: usize,
) -> Result<CheckedReceipt> {
    if quorum > witnesses.len() {
        return Err(Error::invalid(format!(
            "a quorum of {quorum} needs at least as many witness keys; {} given",
            witnesses.len()
        )));
    }
    let receipt = Receipt::from_json(json)?;
    let opened = Checkpoint::open(
        receipt.checkpoint.as_bytes(),
        log_key.name(),
        log_key,
        witnesses,
    )
    .map_err(|e| rejected(format!("the checkpoint: {e}")))?;
    // One witness counts once, whatever number of its keys cosigned (a rotation keeps
    // the name): FORMAT.md §11.3.
    let distinct: HashSet<_> = opened.cosignatures.iter().map(|c| c.name.clone()).collect();
    if distinct.len() < quorum {
        return Err(rejected(format!(
            "the checkpoint has {} valid cosignatures by the witnesses given; {quorum} are required",
            distinct.len()
        )));
    }
    let checkpoint = opened.checkpoint;
    if checkpoint.size == 0 {
        return Err(rejected(
            "the checkpoint is of an empty log: no event can be in it",
        ));
    }
    for (what, entry) in [
        ("event", Some(&receipt.event)),
        ("purpose definition", Some(&receipt.purpose)),
        ("notice definition", receipt.notice.as_ref()),
        ("configuration", Some(&receipt.configuration)),
    ] {
        if let Some(entry) = entry {
            verify_entry(what, entry, &checkpoint)?;
        }
    }
    let facts = Facts::bind(&receipt).map_err(rejected)?;
    let readable = layout::readable(&facts, &checkpoint, receipt.layout);
    if let Some((pointer, got, want)) = first_difference("", &receipt.readable, &readable) {
        // Errors end up in logs: a subject id is never quoted, whichever side holds it.
        let personal = |v: &Value| matches!((v, facts.subject), (Value::String(s), Some(subject)) if *s == subject.id);
        if PERSONAL_FIELDS.contains(&pointer.as_str()) || personal(&got) || personal(&want) {
            return Err(rejected(format!(
                "the readable field `{pointer}` differs from the proved data (a subject id: not quoted)"
            )));
        }
        return Err(rejected(format!(
            "the readable field `{pointer}` is {}, but the proved data say {}",
            short(&got),
            short(&want)
        )));
    }
    let not_proved = layout::not_proved(&facts, receipt.layout);
    if receipt.not_proved != not_proved {
        return Err(rejected(
            "the list of what the receipt does not prove was changed",
        ));
    }
    let proved = proved(&facts, &checkpoint, &opened.cosignatures, quorum);
    Ok(CheckedReceipt {
        cosignatures: opened.cosignatures,
        event_id: facts.id,
        kind: facts.kind,
        seq: facts.seq,
        purpose: (facts.purpose.id.clone(), facts.purpose_version),
        subject_checked: facts.subject.is_some(),
        simulated: facts.simulated,
        layout: receipt.layout,
        readable,
        not_proved,
        proved,
        checkpoint,
    })
}

/// The entry's bytes are leaf `seq` (read from the bytes) of the checkpoint's tree.
fn verify_entry(what: &str, entry: &Entry, checkpoint: &Checkpoint) -> Result<()> {
    let decoded = crate::canonical::decode(&entry.canonical)
        .map_err(|e| rejected(format!("the {what}'s canonical bytes: {e}")))?;
    let index = u64::try_from(decoded.seq)
        .map_err(|_| rejected(format!("the {what}'s sequence number is negative")))?;
    merkle::verify_inclusion(
        index,
        checkpoint.size,
        &merkle::leaf_hash(&entry.canonical),
        &entry.proof,
        &checkpoint.root,
    )
    .map_err(|e| {
        rejected(format!(
            "the {what} (entry {index}) is not in the checkpoint's log of {} events: {e}",
            checkpoint.size
        ))
    })
}

/// The JSON pointer of the first place where `got` differs from `want`, with both
/// values there (a key missing on one side shows as null).
fn first_difference(at: &str, got: &Value, want: &Value) -> Option<(String, Value, Value)> {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            let mut keys: Vec<&String> = w.keys().chain(g.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| {
                let path = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                match (g.get(k), w.get(k)) {
                    (Some(a), Some(b)) => first_difference(&path, a, b),
                    (a, b) => Some((
                        path,
                        a.cloned().unwrap_or(Value::Null),
                        b.cloned().unwrap_or(Value::Null),
                    )),
                }
            })
        }
        (Value::Array(g), Value::Array(w)) if g.len() == w.len() => g
            .iter()
            .zip(w)
            .enumerate()
            .find_map(|(i, (a, b))| first_difference(&format!("{at}/{i}"), a, b)),
        _ if got == want => None,
        _ => Some((at.to_string(), got.clone(), want.clone())),
    }
}

/// A value for a message, cut short.
fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        s.chars().take(77).collect::<String>() + "..."
    } else {
        s
    }
}

/// The plain-words statements of what was proved.
fn proved(
    f: &Facts<'_>,
    checkpoint: &Checkpoint,
    cosignatures: &[VerifiedSignature],
    quorum: usize,
) -> Vec<String> {
    let mut out = vec![format!(
        "the log {} of {} events (root {}) is signed by its key",
        checkpoint.origin,
        checkpoint.size,
        hex::encode(checkpoint.root)
    )];
    if cosignatures.is_empty() {
        out.push("no witness cosigned it among the keys given".into());
    }
    for c in cosignatures {
        let at = c
            .timestamp
            .and_then(|t| i64::try_from(t).ok()?.checked_mul(1000))
            .and_then(|ms| Timestamp::from_millis(ms).ok())
            .map_or_else(|| "?".to_string(), |t| t.to_string());
        out.push(format!(
            "witness {} cosigned it at {at}: the event was on record in this log by then",
            c.name
        ));
    }
    if quorum > 0 {
        out.push(format!(
            "{} of the {quorum} witness cosignatures required",
            cosignatures.len()
        ));
    }
    out.push(format!(
        "event {} ({}) is entry {} of that log, with the fields shown",
        f.id, f.kind, f.seq
    ));
    out.push(format!(
        "it was recorded under purpose {} version {}, as defined in entry {}: its controller \
         ({}), lawful basis, title and recipients",
        f.purpose.id, f.purpose_version, f.purpose_seq, f.purpose.controller
    ));
    match &f.notice {
        Some((n, seq)) => out.push(format!(
            "the notice shown is {} version {}, defined in entry {}, whose text has SHA-256 {}",
            n.id,
            n.version,
            seq,
            hex::encode(n.sha256)
        )),
        None => out.push("the event names no notice".into()),
    }
    out.push(format!(
        "the ledger's configuration (entry {}): {} clock, time zone {}",
        f.configuration_seq,
        if f.simulated {
            "a SIMULATED"
        } else {
            "the system"
        },
        f.time_zone
    ));
    out.push(match f.subject {
        Some(_) => "the subject id shown is the one in the event's personal digest".into(),
        None => "the receipt names no subject (erased)".into(),
    });
    out
}
