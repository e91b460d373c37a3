//! [`Ledger::receipt`]: a receipt made from one read snapshot of the ledger.

use consent_note::{Checkpoint, Note};
use uuid::Uuid;

use super::facts::Facts;
use super::{layout, Entry, Layout, Receipt, Subject};
use crate::error::{Error, Result};
use crate::event::EventKind;
use crate::ledger::{Inner, Ledger};
use crate::merkle;
use crate::store::RawRow;

impl Ledger {
    /// The receipt of `event` against a signed checkpoint of this ledger, in `layout`.
    ///
    /// `checkpoint_note` is a signed note (ideally cosigned by witnesses): the receipt
    /// is only as good as the signatures a checker can verify on it. Its signatures are
    /// not checked here (the ledger holds no verifier key); its tree is: the checkpoint
    /// must name at least one event, and the ledger's root at its size must be its root.
    ///
    /// # Errors
    /// - [`InvalidArgument`](crate::ErrorKind::InvalidArgument): a note that is not a
    ///   signed checkpoint, a checkpoint of size 0, an event that is not a consent
    ///   decision ([`EventKind::is_subject_event`]) or was appended after the checkpoint
    ///   (sign a newer one);
    /// - [`NotFound`](crate::ErrorKind::NotFound): an unknown event;
    /// - [`Corrupt`](crate::ErrorKind::Corrupt): the checkpoint names more events than
    ///   the ledger holds or another root at its size (the ledger was truncated or
    ///   rewritten since it was signed, or the checkpoint is another ledger's), or an
    ///   entry the receipt needs is missing from the log;
    /// - the [ledger's errors](crate#errors).
    pub fn receipt(&self, event: Uuid, checkpoint_note: &str, layout: Layout) -> Result<Receipt> {
        let invalid = |e: consent_note::Error| Error::invalid(format!("the checkpoint note: {e}"));
        let note = Note::parse(checkpoint_note.as_bytes()).map_err(invalid)?;
        let checkpoint = Checkpoint::parse(note.text()).map_err(invalid)?;
        if checkpoint.size == 0 {
            return Err(Error::invalid(
                "the checkpoint is of an empty log: no event can be in it",
            ));
        }
        let mut receipt = self.read(None, |inner, _| gather(inner, event, &checkpoint))?;
        receipt.checkpoint = note.to_string();
        receipt.layout = layout;
        let facts = Facts::bind(&receipt)
            .map_err(|why| Error::Corrupt(format!("event {event} cannot be receipted: {why}")))?;
        let readable = layout::readable(&facts, &checkpoint, layout);
        let not_proved = layout::not_proved(&facts, layout);
        receipt.readable = readable;
        receipt.not_proved = not_proved;
        Ok(receipt)
    }
}

/// Reads the four entries and their proofs in one snapshot; the readable part is left
/// for the caller.
fn gather(inner: &Inner, event: Uuid, checkpoint: &Checkpoint) -> Result<Receipt> {
    let store = &inner.store;
    let size = store.size()?;
    if checkpoint.size > size {
        return Err(Error::Corrupt(format!(
            "the checkpoint names {} events, the ledger holds {size}: it was truncated, or the \
             checkpoint is another ledger's",
            checkpoint.size
        )));
    }
    let mut tree = store.tree();
    if merkle::root(checkpoint.size, &mut tree)? != checkpoint.root {
        return Err(Error::Corrupt(format!(
            "the ledger's root at size {} differs from the checkpoint's: the log was rewritten \
             before size {}, or the checkpoint is another ledger's",
            checkpoint.size, checkpoint.size
        )));
    }
    let row = store
        .raw_event(event)?
        .ok_or_else(|| Error::NotFound(format!("event {event}")))?;
    let kind: EventKind = row
        .kind
        .parse()
        .map_err(|_| Error::Corrupt(format!("event {event} has an unknown kind")))?;
    if !kind.is_subject_event() {
        return Err(Error::invalid(format!(
            "event {event} is a `{kind}` event, not a consent decision"
        )));
    }
    if row.seq as u64 >= checkpoint.size {
        return Err(Error::invalid(format!(
            "event {event} is entry {} of the log, after the checkpoint's {} events: sign a newer checkpoint",
            row.seq, checkpoint.size
        )));
    }
    let missing =
        |what: &str| Error::Corrupt(format!("event {event}: its {what} is not in the log"));
    let purpose_id = row.purpose.clone().ok_or_else(|| missing("purpose"))?;
    let version = row
        .purpose_version
        .ok_or_else(|| missing("purpose version"))?;
    let purpose_seq = store
        .purposes(Some(&purpose_id))?
        .into_iter()
        .find(|p| i64::from(p.version) == version)
        .ok_or_else(|| missing("purpose definition"))?
        .seq;
    let notice_seq = match (&row.notice_id, &row.notice_version) {
        (Some(id), Some(v)) => Some(
            store
                .notice(id, v)?
                .ok_or_else(|| missing("notice definition"))?
                .seq,
        ),
        _ => None,
    };
    let config = store
        .first_of_kind(EventKind::LedgerConfigured)?
        .ok_or_else(|| missing("ledger_configured event"))?;

    let mut entry = |r: &RawRow| -> Result<Entry> {
        let proof = merkle::inclusion_proof(r.seq as u64, checkpoint.size, &mut tree)?
            .map_err(|e| Error::Corrupt(format!("cannot prove entry {}: {e}", r.seq)))?;
        Ok(Entry {
            canonical: r.canonical().encode(),
            proof,
        })
    };
    let at = |seq: u64| -> Result<RawRow> {
        store
            .raw_event_at(seq)?
            .ok_or_else(|| Error::Corrupt(format!("entry {seq} is missing from the log")))
    };
    let subject = match (&row.subject, &row.salt) {
        (Some(id), Some(salt)) => Some(Subject {
            id: id.clone(),
            salt: salt.clone(),
            source_id: row.source_id.clone(),
            evidence: row.evidence.clone(),
        }),
        _ => None,
    };
    Ok(Receipt {
        checkpoint: String::new(),
        event: entry(&row)?,
        purpose: entry(&at(purpose_seq)?)?,
        notice: notice_seq.map(|s| entry(&at(s)?)).transpose()?,
        configuration: entry(&config)?,
        subject,
        layout: Layout::Iso27560,
        readable: serde_json::Value::Null,
        not_proved: Vec::new(),
    })
}
