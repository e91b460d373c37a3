//! Erasure at the end of retention: one subject or many, readmission, and completing
//! erasures (the WAL checkpoint).

use std::ffi::c_char;
use std::time::Duration;

use consent_core::{ErasureOptions, ErasureReport};

use crate::boundary::{
    fixed_text, guard, json_out, ledger_arg, opt_out_arg, out_arg, str_arg, str_array_arg,
    write_out, FfiError, FfiResult,
};
use crate::*;

/// A flag of the erasure functions ([`consent_erase_subject_with`],
/// [`consent_erase_subjects_json`]): record the erasure of an id the ledger holds no
/// event about (without it such an id is `CONSENT_RESULT_NOT_FOUND`, or `unknown` in a
/// bulk report: most likely a mistyped id, and an erased id cannot consent again until
/// it is readmitted).
pub const CONSENT_ERASE_FORCE: u32 = 1;

/// What [`consent_erase_subject`] did.
#[repr(C)]
pub struct consent_erasure_report {
    /// The `subject_erased` event.
    pub event_id: [c_char; CONSENT_EVENT_ID_LEN],
    /// Its sequence number.
    pub seq: u64,
    /// Number of events whose personal fields were blanked.
    pub events_erased: u64,
    /// Whether the erasure is complete: the WAL was checkpointed and truncated, so the
    /// erased values are gone from every file. False ("pending") when another
    /// connection kept an old snapshot open for longer than the erasure wait; finish it
    /// with [`consent_complete_erasures`]. In PostgreSQL: the tables were vacuumed,
    /// which only their owner may do (false for another role; docs/POSTGRES.md says
    /// what the server's WAL and backups still hold).
    pub wal_truncated: bool,
}

/// Erases `subject` at the end of retention: blanks their personal fields in every
/// event (every hash still verifies), records a `subject_erased` event with `reason`,
/// recorded by `recorded_by` (`staff:<id>` or `system:<id>`; NULL = `subject`), and
/// truncates the WAL so the erased values leave every file, retrying for up to the
/// erasure wait ([`consent_options::erasure_wait_ms`]) while another connection holds an
/// old snapshot; `out->wal_truncated` says whether the erasure is complete (else finish
/// it with [`consent_complete_erasures`]). Later grants for the subject are refused
/// (until [`consent_readmit_subject`]); withdrawals are still recorded. An id the
/// ledger holds no event about is `CONSENT_RESULT_NOT_FOUND` (most likely a mistyped
/// id; [`consent_erase_subject_with`] and `CONSENT_ERASE_FORCE` record it anyway); an
/// erased one `CONSENT_RESULT_SUBJECT_ERASED`. Writes the report to `*out` (NULL = not
/// wanted). [`consent_erasure_preview_json`] shows what would be blanked.
///
/// Errors: an id the ledger holds no event about `CONSENT_RESULT_NOT_FOUND`; an id
/// already erased `CONSENT_RESULT_SUBJECT_ERASED`; a malformed `recorded_by`
/// `CONSENT_RESULT_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn consent_erase_subject(
    ledger: *const consent_ledger,
    subject: *const c_char,
    reason: *const c_char,
    recorded_by: *const c_char,
    out: *mut consent_erasure_report,
) -> consent_result {
    guard(|| unsafe { erase_subject(ledger, subject, reason, recorded_by, 0, out) })
}

/// [`consent_erase_subject`] with `flags`: 0, or `CONSENT_ERASE_FORCE` to record the
/// erasure of an id the ledger holds no event about (so that it cannot be used later
/// without a readmission). Other bits are `CONSENT_RESULT_INVALID_ARGUMENT`.
///
/// Errors: as `consent_erase_subject`; unknown bits in `flags`
/// `CONSENT_RESULT_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn consent_erase_subject_with(
    ledger: *const consent_ledger,
    subject: *const c_char,
    reason: *const c_char,
    recorded_by: *const c_char,
    flags: u32,
    out: *mut consent_erasure_report,
) -> consent_result {
    guard(|| unsafe { erase_subject(ledger, subject, reason, recorded_by, flags, out) })
}

/// The erasure options of C flags.
pub(crate) fn erasure_flags(flags: u32) -> FfiResult<ErasureOptions> {
    if flags & !CONSENT_ERASE_FORCE != 0 {
        return Err(FfiError::invalid(format!(
            "argument `flags` ({flags:#x}) has bits that are not erasure flags"
        )));
    }
    Ok(ErasureOptions {
        force: flags & CONSENT_ERASE_FORCE != 0,
    })
}

/// [`consent_erase_subject`] and [`consent_erase_subject_with`].
pub(crate) unsafe fn erase_subject(
    ledger: *const consent_ledger,
    subject: *const c_char,
    reason: *const c_char,
    recorded_by: *const c_char,
    flags: u32,
    out: *mut consent_erasure_report,
) -> FfiResult<()> {
    let ledger = unsafe { ledger_arg(ledger) }?;
    let subject = unsafe { str_arg(subject, "subject") }?;
    let reason = unsafe { str_arg(reason, "reason") }?;
    let actor = unsafe { actor_arg(recorded_by, "recorded_by") }?;
    let options = erasure_flags(flags)?;
    let out = opt_out_arg(out, "out")?;
    let r: ErasureReport = ledger.erase_subject_with(subject, reason, actor, options)?;
    if let Some(out) = out {
        let value = consent_erasure_report {
            event_id: fixed_text(&r.event_id.hyphenated().to_string()),
            seq: r.seq,
            events_erased: r.events_erased,
            wal_truncated: r.wal_truncated,
        };
        unsafe { write_out(out, value) };
    }
    Ok(())
}

/// What erasing `subject` would blank, without writing anything (a dry run), as JSON
/// (`{"already_erased":false,"events":[..]}`: the events whose personal fields would be
/// blanked, in order) written to `*out_json`; free with [`consent_string_free`].
///
/// Errors: the common ones only.
#[no_mangle]
pub unsafe extern "C" fn consent_erasure_preview_json(
    ledger: *const consent_ledger,
    subject: *const c_char,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let subject = unsafe { str_arg(subject, "subject") }?;
        let out = out_arg(out_json, "out_json")?;
        unsafe { json_out(out, &ledger.erasure_preview(subject)?) }
    })
}

/// Erases the `n_subjects` ids at `subjects` (a retention run), each in its own
/// transaction, with `reason`, recorded by `recorded_by` (as [`consent_erase_subject`])
/// and `flags` (as [`consent_erase_subject_with`]); one WAL truncation follows. The
/// call succeeds when the run was made, whatever happened to each id: the report,
/// written as JSON to `*out_json` (free with [`consent_string_free`]), says it id by id,
/// in the order given: `{"outcomes":[{"subject":"..","outcome":"erased","seq":N,
/// "events_erased":N} | {"subject":"..","outcome":"unknown"} | {"subject":"..",
/// "outcome":"already_erased"} | {"subject":"..","outcome":"failed","error":".."}],
/// "wal_truncated":true}`. A failure of the ledger itself stops the run at that id (the
/// report says which); on the first id it is the call's error.
///
/// Errors: unknown bits in `flags` `CONSENT_RESULT_INVALID_ARGUMENT`; a failure of the
/// ledger on the first id is the call's error. What happened to each id is in the
/// report, not an error.
#[no_mangle]
pub unsafe extern "C" fn consent_erase_subjects_json(
    ledger: *const consent_ledger,
    subjects: *const *const c_char,
    n_subjects: usize,
    reason: *const c_char,
    recorded_by: *const c_char,
    flags: u32,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let subjects = unsafe { str_array_arg(subjects, n_subjects, "subjects") }?;
        let reason = unsafe { str_arg(reason, "reason") }?;
        let actor = unsafe { actor_arg(recorded_by, "recorded_by") }?;
        let options = erasure_flags(flags)?;
        let out = out_arg(out_json, "out_json")?;
        let report = ledger.erase_subjects(&subjects, reason, actor, options)?;
        unsafe { json_out(out, &report) }
    })
}

/// A returning student: the erased `subject` may consent again. Records a
/// `subject_readmitted` event (no personal field: the erasure's pseudonym, `reason` and
/// the erasure it ends), recorded by `recorded_by` (`staff:<id>` or `system:<id>`;
/// NULL = `subject`, which is refused). The old events stay blanked; the history shows
/// them and the new ones; the id can be erased again. An id that is not erased is
/// `CONSENT_RESULT_INVALID_ARGUMENT`. Writes the event to `*out` (NULL = not wanted).
///
/// Errors: an id that is not erased, or a `recorded_by` that is the subject (NULL),
/// `CONSENT_RESULT_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn consent_readmit_subject(
    ledger: *const consent_ledger,
    subject: *const c_char,
    reason: *const c_char,
    recorded_by: *const c_char,
    out: *mut consent_event_ref,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let subject = unsafe { str_arg(subject, "subject") }?;
        let reason = unsafe { str_arg(reason, "reason") }?;
        let actor = unsafe { actor_arg(recorded_by, "recorded_by") }?;
        let out = opt_out_arg(out, "out")?;
        let event = ledger.readmit_subject(subject, reason, actor)?;
        if let Some(out) = out {
            unsafe { write_out(out, event_ref(&event, true)) };
        }
        Ok(())
    })
}

/// Finishes pending erasures: checkpoints the WAL into the file and truncates it,
/// retrying for up to `wait_ms` ms (0 = once) while another connection holds an old
/// snapshot. Writes whether every erasure is now complete (the WAL is empty) to
/// `*out_done` (NULL = not wanted). Safe to call at any time.
///
/// Errors: the common ones only (another connection's snapshot is not an error:
/// `*out_done` is false).
#[no_mangle]
pub unsafe extern "C" fn consent_complete_erasures(
    ledger: *const consent_ledger,
    wait_ms: i64,
    out_done: *mut bool,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let out = opt_out_arg(out_done, "out_done")?;
        let wait = u64::try_from(wait_ms).map_err(|_| {
            FfiError::invalid(format!("argument `wait_ms` ({wait_ms}) is negative"))
        })?;
        let done = ledger.complete_erasures(Duration::from_millis(wait))?;
        if let Some(out) = out {
            unsafe { write_out(out, done) };
        }
        Ok(())
    })
}

/// Checkpoints the WAL into the file and truncates it, once; writes whether it completed
/// to `*out_done` (NULL = not wanted; false when another connection kept a read open).
///
/// Errors: the common ones only.
#[no_mangle]
pub unsafe extern "C" fn consent_checkpoint(
    ledger: *const consent_ledger,
    out_done: *mut bool,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let out = opt_out_arg(out_done, "out_done")?;
        let done = ledger.checkpoint()?;
        if let Some(out) = out {
            unsafe { write_out(out, done) };
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erasure_flags_are_checked() {
        assert!(!erasure_flags(0).unwrap().force);
        assert!(erasure_flags(CONSENT_ERASE_FORCE).unwrap().force);
        assert_eq!(
            erasure_flags(2).unwrap_err().code,
            consent_result::InvalidArgument
        );
    }
}
