//! Integrity: the head, verification, inclusion and consistency proofs, and an event's
//! canonical bytes.

use std::ffi::c_char;

use consent_core::{ConsistencyProof, Head, InclusionProof, VerifyReport};

use crate::boundary::{
    bytes_arg, copy_to_buffer, fixed_text, guard, json_out, ledger_arg, opt_out_arg, out_arg,
    owned_bytes, owned_json, ref_arg, str_arg, write_out, FfiError, FfiResult,
};
use crate::*;

/// "The ledger's current size", where a tree size is optional.
pub const CONSENT_SIZE_CURRENT: u64 = u64::MAX;

/// Bytes always enough for a head written `SIZE:ROOTHEX` and its NUL.
pub const CONSENT_HEAD_STRING_LEN: usize = 86;

/// Bytes of the problem text in a [`consent_verify_report`] (longer text is cut).
pub const CONSENT_PROBLEM_LEN: usize = 256;

/// A head of the log: its size and Merkle root. Keep one elsewhere to detect a
/// rewritten or truncated log later ([`consent_verify_against`]).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct consent_head {
    /// Number of events.
    pub size: u64,
    /// RFC 9162 Merkle tree hash of those events.
    pub root: [u8; 32],
}

/// The result of [`consent_verify`] and [`consent_verify_against`].
#[repr(C)]
pub struct consent_verify_report {
    /// Whether every hash matched (and, against a head, the log still extends it).
    pub ok: bool,
    /// Events checked.
    pub size: u64,
    /// Whether `first_bad_seq` is set.
    pub has_first_bad_seq: bool,
    /// The first sequence number found bad.
    pub first_bad_seq: u64,
    /// Whether `head` is set (the log is intact).
    pub has_head: bool,
    /// The head recomputed from the rows.
    pub head: consent_head,
    /// Why the log is bad ("" when ok), NUL-terminated, cut to fit.
    pub problem: [c_char; CONSENT_PROBLEM_LEN],
    /// Whether the ledger was created as a simulation: its record times come from a
    /// simulated clock ([`consent_options::clock`]), not the system's.
    pub simulated: bool,
}

pub(crate) fn head_out(h: &Head) -> consent_head {
    consent_head {
        size: h.size,
        root: h.root,
    }
}

pub(crate) fn head_in(h: &consent_head) -> Head {
    Head {
        size: h.size,
        root: h.root,
    }
}

pub(crate) fn report_out(r: &VerifyReport) -> consent_verify_report {
    consent_verify_report {
        ok: r.ok,
        size: r.size,
        has_first_bad_seq: r.first_bad_seq.is_some(),
        first_bad_seq: r.first_bad_seq.unwrap_or(0),
        has_head: r.head.is_some(),
        head: r.head.as_ref().map_or(
            consent_head {
                size: 0,
                root: [0; 32],
            },
            head_out,
        ),
        problem: fixed_text(r.problem.as_deref().unwrap_or("")),
        simulated: r.simulated,
    }
}

pub(crate) fn size_arg(v: u64) -> Option<u64> {
    (v != CONSENT_SIZE_CURRENT).then_some(v)
}

/// [`consent_get_head`] and [`consent_batch_get_head`].
pub(crate) unsafe fn head_into(from: Writer<'_>, out: *mut consent_head) -> FfiResult<()> {
    let out = out_arg(out, "out")?;
    let head = from.head()?;
    unsafe { write_out(out, head_out(&head)) };
    Ok(())
}

/// The current head (size and Merkle root), written to `*out`.
///
/// Errors: the common ones only.
#[no_mangle]
pub unsafe extern "C" fn consent_get_head(
    ledger: *const consent_ledger,
    out: *mut consent_head,
) -> consent_result {
    guard(|| unsafe { head_into(Writer::Ledger(ledger_arg(ledger)?), out) })
}

/// Writes `head` as `SIZE:ROOTHEX` and a NUL into `buf` of `len` bytes
/// (`CONSENT_HEAD_STRING_LEN` is always enough); `CONSENT_RESULT_BUFFER_TOO_SMALL`
/// (and nothing written) if it does not fit.
///
/// Errors: a buffer too small `CONSENT_RESULT_BUFFER_TOO_SMALL` (nothing written).
#[no_mangle]
pub unsafe extern "C" fn consent_head_to_string(
    head: *const consent_head,
    buf: *mut c_char,
    len: usize,
) -> consent_result {
    guard(|| {
        let head = unsafe { ref_arg(head, "head") }?;
        if buf.is_null() {
            return Err(FfiError::new(
                consent_result::NullArgument,
                "argument `buf` is NULL",
            ));
        }
        let text = head_in(head).to_string();
        if text.len() + 1 > len {
            return Err(FfiError::new(
                consent_result::BufferTooSmall,
                format!(
                    "the head needs {} bytes, the buffer has {len}",
                    text.len() + 1
                ),
            ));
        }
        copy_to_buffer(&text, buf, len);
        Ok(())
    })
}

/// Parses a head written `SIZE:ROOTHEX` into `*out`.
///
/// Errors: text that is not `SIZE:ROOTHEX` `CONSENT_RESULT_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn consent_head_parse(
    text: *const c_char,
    out: *mut consent_head,
) -> consent_result {
    guard(|| {
        let text = unsafe { str_arg(text, "text") }?;
        let out = out_arg(out, "out")?;
        let head: Head = text.parse()?;
        unsafe { write_out(out, head_out(&head)) };
        Ok(())
    })
}

/// Recomputes every hash from the stored rows and writes the report to `*out`. A
/// tampered log is not an error: the call succeeds with `out->ok` false and
/// `out->first_bad_seq` naming the first bad event.
///
/// Errors: the common ones only: a tampered log is the report's answer, not an error.
#[no_mangle]
pub unsafe extern "C" fn consent_verify(
    ledger: *const consent_ledger,
    out: *mut consent_verify_report,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let out = out_arg(out, "out")?;
        let report = ledger.verify()?;
        unsafe { write_out(out, report_out(&report)) };
        Ok(())
    })
}

/// [`consent_verify`], and also checks that the log still extends `head` (catches a
/// truncated or rewritten tail).
///
/// Errors: as `consent_verify`.
#[no_mangle]
pub unsafe extern "C" fn consent_verify_against(
    ledger: *const consent_ledger,
    head: *const consent_head,
    out: *mut consent_verify_report,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let head = head_in(unsafe { ref_arg(head, "head") }?);
        let out = out_arg(out, "out")?;
        let report = ledger.verify_against(&head)?;
        unsafe { write_out(out, report_out(&report)) };
        Ok(())
    })
}

/// A proof that event `event_id` is in the tree of `tree_size` events
/// (`CONSENT_SIZE_CURRENT` = the current head), as JSON (`leaf_index`, `tree_size`,
/// `leaf_hash`, `path`, `root`) written to `*out_json`; free with
/// [`consent_string_free`]. Whoever checks it ([`consent_check_inclusion_proof`]) also
/// needs the event's canonical bytes ([`consent_event_canonical`]).
///
/// Errors: an unknown event `CONSENT_RESULT_NOT_FOUND`; an id that is not a UUID, or a
/// tree size beyond the log, `CONSENT_RESULT_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn consent_prove_inclusion_json(
    ledger: *const consent_ledger,
    event_id: *const c_char,
    tree_size: u64,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let id = uuid_arg(unsafe { str_arg(event_id, "event_id") }?, "event_id")?;
        let out = out_arg(out_json, "out_json")?;
        unsafe { json_out(out, &ledger.prove_inclusion(id, size_arg(tree_size))?) }
    })
}

/// A proof that the log at `old_head` is a prefix of the log at `new_size` events
/// (`CONSENT_SIZE_CURRENT` = now), as JSON (`old_size`, `new_size`, `path`) written to
/// `*out_json` (free with [`consent_string_free`]), and the head at `new_size` written to
/// `*out_new_head` (NULL = not wanted). A log rewritten since `old_head` is
/// `CONSENT_RESULT_CORRUPT`.
///
/// Errors: a size beyond the log `CONSENT_RESULT_INVALID_ARGUMENT`; a log rewritten
/// since `old_head` `CONSENT_RESULT_CORRUPT`.
#[no_mangle]
pub unsafe extern "C" fn consent_prove_consistency_json(
    ledger: *const consent_ledger,
    old_head: *const consent_head,
    new_size: u64,
    out_json: *mut *mut c_char,
    out_new_head: *mut consent_head,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let old = head_in(unsafe { ref_arg(old_head, "old_head") }?);
        let out = out_arg(out_json, "out_json")?;
        let out_head = opt_out_arg(out_new_head, "out_new_head")?;
        let (proof, head) = ledger.prove_consistency(&old, size_arg(new_size))?;
        let text = owned_json(&proof)?;
        unsafe { write_out(out, text) };
        if let Some(h) = out_head {
            unsafe { write_out(h, head_out(&head)) };
        }
        Ok(())
    })
}

/// The canonical bytes of event `event_id` (docs/FORMAT.md §3.3): exactly what its
/// Merkle leaf hash covers, and what [`consent_check_inclusion_proof`] checks a proof
/// against. Writes a new buffer to `*out_bytes` and its length to `*out_len`; free it
/// with [`consent_bytes_free`] and that same length.
///
/// Errors: an unknown event `CONSENT_RESULT_NOT_FOUND`; an id that is not a UUID
/// `CONSENT_RESULT_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn consent_event_canonical(
    ledger: *const consent_ledger,
    event_id: *const c_char,
    out_bytes: *mut *mut u8,
    out_len: *mut usize,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let id = uuid_arg(unsafe { str_arg(event_id, "event_id") }?, "event_id")?;
        let out = out_arg(out_bytes, "out_bytes")?;
        let out_len = out_arg(out_len, "out_len")?;
        let (bytes, len) = owned_bytes(ledger.canonical_event(id)?);
        unsafe {
            write_out(out, bytes);
            write_out(out_len, len);
        }
        Ok(())
    })
}

/// Frees a buffer of `len` bytes this library returned (from
/// [`consent_event_canonical`]), with the length it returned. NULL is fine; never twice.
///
/// Errors: none (a void function; NULL is fine).
#[no_mangle]
pub unsafe extern "C" fn consent_bytes_free(bytes: *mut u8, len: usize) {
    if bytes.is_null() {
        return;
    }
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: by contract, a boxed slice of `len` bytes from `owned_bytes`.
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(bytes, len)) });
    });
}

/// Checks an inclusion proof (JSON from [`consent_prove_inclusion_json`]) of the event
/// whose canonical bytes are the `event_len` bytes at `event` (from
/// [`consent_event_canonical`], e.g. kept in a receipt) against a head of the same
/// size. No ledger needed. The proof is bound to its event: the leaf hash is recomputed
/// from the bytes and the leaf index must be the event's sequence number.
/// `CONSENT_RESULT_PROOF_REJECTED` if the proof is another event's or does not lead to
/// the head's root; a head of another size, or bytes that are not a canonical event,
/// are `CONSENT_RESULT_INVALID_ARGUMENT`.
///
/// Errors: a proof of another event, or one that does not lead to the root,
/// `CONSENT_RESULT_PROOF_REJECTED`; malformed JSON, a head of another size or bytes
/// that are not a canonical event `CONSENT_RESULT_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn consent_check_inclusion_proof(
    proof_json: *const c_char,
    event: *const u8,
    event_len: usize,
    head: *const consent_head,
) -> consent_result {
    guard(|| {
        let text = unsafe { str_arg(proof_json, "proof_json") }?;
        let event = unsafe { bytes_arg(event, event_len, "event") }?;
        let head = head_in(unsafe { ref_arg(head, "head") }?);
        let proof: InclusionProof = serde_json::from_str(text).map_err(|e| {
            FfiError::invalid(format!("`proof_json` is not an inclusion proof: {e}"))
        })?;
        Ok(proof.verify(event, &head)?)
    })
}

/// Checks a consistency proof (JSON from [`consent_prove_consistency_json`]) between
/// two heads. No ledger needed. `CONSENT_RESULT_PROOF_REJECTED` if it fails.
///
/// Errors: a proof that fails `CONSENT_RESULT_PROOF_REJECTED`; malformed JSON
/// `CONSENT_RESULT_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn consent_check_consistency_proof(
    proof_json: *const c_char,
    old_head: *const consent_head,
    new_head: *const consent_head,
) -> consent_result {
    guard(|| {
        let text = unsafe { str_arg(proof_json, "proof_json") }?;
        let old = head_in(unsafe { ref_arg(old_head, "old_head") }?);
        let new = head_in(unsafe { ref_arg(new_head, "new_head") }?);
        let proof: ConsistencyProof = serde_json::from_str(text).map_err(|e| {
            FfiError::invalid(format!("`proof_json` is not a consistency proof: {e}"))
        })?;
        Ok(proof.verify(&old, &new)?)
    })
}
