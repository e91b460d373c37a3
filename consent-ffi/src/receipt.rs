//! Receipts, version 2 (docs/FORMAT.md §12): made by the ledger against a signed
//! checkpoint, checked anywhere with nothing but the verifier keys.

use std::ffi::c_char;

use consent_core::receipt::{self, CheckedReceipt, Layout};
use consent_core::EventKind;
use serde_json::json;

use crate::boundary::{
    fixed_text, guard, ledger_arg, opt_out_arg, opt_str_arg, out_arg, owned_json, owned_string,
    str_arg, write_out, FfiError, FfiResult,
};
use crate::checkpoint::{vkey_arg, vkeys_arg};
use crate::{
    consent_event_kind, consent_head, consent_ledger, consent_result, uuid_arg,
    CONSENT_EVENT_ID_LEN,
};

/// The readable layout of a receipt (the `layout` of `consent_receipt`).
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum consent_receipt_layout {
    /// Fields of ISO/IEC TS 27560 (consent record information structure).
    Iso27560 = 1,
    /// The Kantara Initiative Consent Receipt v1.1 layout.
    Kantara = 2,
}

/// What `consent_receipt_check` proved. The readable fields, the plain-words list of
/// what is proved and what is not, the purpose id and the cosignatures are in the JSON
/// that call can also write.
#[repr(C)]
pub struct consent_checked_receipt {
    /// The size and root of the checkpoint, signed by the log key given.
    pub checkpoint: consent_head,
    /// Cosignatures by distinct witnesses among the keys given (at least the quorum).
    pub cosignatures: usize,
    /// The event's id.
    pub event_id: [c_char; CONSENT_EVENT_ID_LEN],
    /// The event's kind.
    pub kind: consent_event_kind,
    /// Its position in the log.
    pub seq: u64,
    /// The version of the purpose it was recorded under.
    pub purpose_version: u32,
    /// Whether the receipt carried the subject's fields and they matched the event's
    /// personal digest (false: the subject was erased; the receipt names nobody).
    pub subject_checked: bool,
    /// The ledger proves it was created with a simulated clock.
    pub simulated: bool,
    /// The layout checked.
    pub layout: consent_receipt_layout,
}

fn layout_arg(v: i32) -> FfiResult<Layout> {
    match v {
        1 => Ok(Layout::Iso27560),
        2 => Ok(Layout::Kantara),
        _ => Err(FfiError::invalid(format!(
            "`layout` {v} is not a consent_receipt_layout"
        ))),
    }
}

fn layout_out(l: Layout) -> consent_receipt_layout {
    match l {
        Layout::Iso27560 => consent_receipt_layout::Iso27560,
        Layout::Kantara => consent_receipt_layout::Kantara,
    }
}

fn kind_out(k: EventKind) -> FfiResult<consent_event_kind> {
    Ok(match k {
        EventKind::Given => consent_event_kind::Given,
        EventKind::Refused => consent_event_kind::Refused,
        EventKind::Withdrawn => consent_event_kind::Withdrawn,
        EventKind::Revoked => consent_event_kind::Revoked,
        EventKind::Invalidated => consent_event_kind::Invalidated,
        EventKind::Objected => consent_event_kind::Objected,
        EventKind::NoticeServed => consent_event_kind::NoticeServed,
        EventKind::ObjectionOverruled => consent_event_kind::ObjectionOverruled,
        other => {
            return Err(FfiError::new(
                consent_result::Other,
                format!("a receipt of a `{other}` event: not a consent decision"),
            ))
        }
    })
}

fn checked_out(c: &CheckedReceipt) -> FfiResult<consent_checked_receipt> {
    Ok(consent_checked_receipt {
        checkpoint: consent_head {
            size: c.checkpoint.size,
            root: c.checkpoint.root,
        },
        cosignatures: c.cosignatures.len(),
        event_id: fixed_text(&c.event_id.hyphenated().to_string()),
        kind: kind_out(c.kind)?,
        seq: c.seq,
        purpose_version: c.purpose.1,
        subject_checked: c.subject_checked,
        simulated: c.simulated,
        layout: layout_out(c.layout),
    })
}

/// A checked receipt as JSON (the C and Python surfaces say the same).
fn checked_json(c: &CheckedReceipt) -> serde_json::Value {
    json!({
        "origin": c.checkpoint.origin,
        "size": c.checkpoint.size,
        "root": c.checkpoint.root.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        "cosignatures": c.cosignatures.iter().map(|s| json!({
            "name": s.name,
            "key_id": s.key_id.to_string(),
            "timestamp": s.timestamp,
        })).collect::<Vec<_>>(),
        "event_id": c.event_id.hyphenated().to_string(),
        "kind": c.kind.as_str(),
        "seq": c.seq,
        "purpose": c.purpose.0,
        "purpose_version": c.purpose.1,
        "subject_checked": c.subject_checked,
        "simulated": c.simulated,
        "layout": c.layout,
        "readable": c.readable,
        "not_proved": c.not_proved,
        "proved": c.proved,
    })
}

/// The receipt of event `event_id` (a UUID) in `layout` (a `consent_receipt_layout`),
/// as its JSON document (docs/FORMAT.md §12) written to `*out_json`; free with
/// [`consent_string_free`]. `note` is the signed checkpoint it is proved against
/// (ideally cosigned: the receipt is only as good as the signatures a checker can
/// verify), or NULL for the latest checkpoint the ledger keeps
/// (`CONSENT_RESULT_NOT_FOUND` when it keeps none: sign one with
/// `consent_checkpoint_sign`). A note that is not a signed checkpoint, of size 0, an
/// event that is not a consent decision or was recorded after the checkpoint are
/// `CONSENT_RESULT_INVALID_ARGUMENT`; an unknown event `CONSENT_RESULT_NOT_FOUND`; a
/// checkpoint the ledger no longer holds `CONSENT_RESULT_CORRUPT`.
///
/// Errors: an unknown event, or no stored checkpoint, `CONSENT_RESULT_NOT_FOUND`; a
/// note that is not a signed checkpoint or of size 0, a layout that is not a
/// `consent_receipt_layout`, an event that is not a consent decision or was recorded
/// after the checkpoint `CONSENT_RESULT_INVALID_ARGUMENT`; a checkpoint the ledger no
/// longer holds `CONSENT_RESULT_CORRUPT`.
///
/// [`consent_string_free`]: crate::consent_string_free
#[no_mangle]
pub unsafe extern "C" fn consent_receipt(
    ledger: *const consent_ledger,
    event_id: *const c_char,
    note: *const c_char,
    layout: i32,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let id = uuid_arg(unsafe { str_arg(event_id, "event_id") }?, "event_id")?;
        let note = unsafe { opt_str_arg(note, "note") }?;
        let layout = layout_arg(layout)?;
        let out = out_arg(out_json, "out_json")?;
        let note = match note {
            Some(n) => n.to_owned(),
            None => {
                ledger
                    .latest_checkpoint()?
                    .ok_or_else(|| {
                        FfiError::new(
                            consent_result::NotFound,
                            "the ledger keeps no signed checkpoint: sign one with consent_checkpoint_sign",
                        )
                    })?
                    .note
            }
        };
        let receipt = ledger.receipt(id, &note, layout)?;
        let text = owned_string(receipt.to_json())?;
        unsafe { write_out(out, text) };
        Ok(())
    })
}

/// Checks a receipt's JSON `receipt_json` with the log's verifier key `log_vkey` and the
/// `n_witnesses` witness verifier keys at `witness_vkeys` (NULL when 0), requiring
/// `quorum` cosignatures by distinct witnesses among them. No ledger needed. Writes
/// what it proved to `*out` and, when `out_json` is not NULL, the whole answer as JSON
/// (`origin`, `size`, `root`, `cosignatures`, `event_id`, `kind`, `seq`, `purpose`,
/// `purpose_version`, `subject_checked`, `simulated`, `layout`, `readable`,
/// `not_proved`, `proved`) to `*out_json` (free with [`consent_string_free`]).
/// A receipt that does not check out is `CONSENT_RESULT_RECEIPT_REJECTED`, the message
/// naming the first check that failed; text that is not JSON, a `quorum` above
/// `n_witnesses` or a malformed verifier key `CONSENT_RESULT_INVALID_ARGUMENT`.
///
/// Errors: a receipt that does not check out `CONSENT_RESULT_RECEIPT_REJECTED` (the
/// message names the check); malformed JSON or keys `CONSENT_RESULT_INVALID_ARGUMENT`.
///
/// [`consent_string_free`]: crate::consent_string_free
#[no_mangle]
pub unsafe extern "C" fn consent_receipt_check(
    receipt_json: *const c_char,
    log_vkey: *const c_char,
    witness_vkeys: *const *const c_char,
    n_witnesses: usize,
    quorum: usize,
    out: *mut consent_checked_receipt,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let json = unsafe { str_arg(receipt_json, "receipt_json") }?;
        let log_key = unsafe { vkey_arg(log_vkey, "log_vkey") }?;
        let witnesses = unsafe { vkeys_arg(witness_vkeys, n_witnesses, "witness_vkeys") }?;
        let out = out_arg(out, "out")?;
        let out_json = opt_out_arg(out_json, "out_json")?;
        let checked = receipt::check(json, &log_key, &witnesses, quorum)?;
        let value = checked_out(&checked)?;
        let text = match out_json {
            Some(_) => Some(owned_json(&checked_json(&checked))?),
            None => None,
        };
        unsafe { write_out(out, value) };
        if let (Some(p), Some(text)) = (out_json, text) {
            unsafe { write_out(p, text) };
        }
        Ok(())
    })
}
