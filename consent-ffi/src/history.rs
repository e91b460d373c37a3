//! A subject's history as structs: every event about them, library-allocated in one
//! page and released with one call, as a downstream's feed is (`owned`).

use std::ffi::c_char;

use consent_core::Event;

use crate::boundary::{
    fixed_text, guard, handle_arg, out_arg, str_arg, time_out, write_out, FfiResult,
};
use crate::owned::{free_page, owned_page, Arena};
use crate::*;

/// One event of a [`consent_history_page`]. Its strings belong to the page and live until
/// [`consent_history_page_free`]. An array element: it never grows within a SONAME.
#[repr(C)]
pub struct consent_event {
    /// The event id (a UUID, NUL-terminated).
    pub id: [c_char; CONSENT_EVENT_ID_LEN],
    /// Its position in the log, from 0.
    pub seq: u64,
    /// The kind's name (`given`, `withdrawn`, ..., `subject_erased`,
    /// `subject_readmitted`), NUL-terminated.
    pub kind: [c_char; CONSENT_KIND_LEN],
    /// The subject, or NULL once erased.
    pub subject: *const c_char,
    /// The purpose, or NULL when the event names none (an erasure).
    pub purpose: *const c_char,
    /// The purpose version in force when it was recorded, or 0.
    pub purpose_version: u32,
    /// The recipient named, or NULL (purpose-wide).
    pub recipient: *const c_char,
    /// The notice shown: its id, or NULL when none.
    pub notice_id: *const c_char,
    /// The notice shown: its version, or NULL when none.
    pub notice_version: *const c_char,
    /// How it was collected: a `consent_method` (`CONSENT_METHOD_NONE` if not said).
    pub method: i32,
    /// Explicit consent (Art. 9(2)(a)).
    pub explicit_consent: bool,
    /// Who recorded it: `subject`, `staff:<id>` or `system:<id>`.
    pub recorded_by: *const c_char,
    /// When it happened.
    pub effective_at_ms: i64,
    /// When the ledger learnt it.
    pub recorded_at_ms: i64,
    /// When a grant lapses, or `CONSENT_TIME_ABSENT`.
    pub expires_at_ms: i64,
    /// For a withdrawal, revocation or objection: when downstream systems must have
    /// acted; else `CONSENT_TIME_ABSENT`.
    pub effect_deadline_ms: i64,
    /// The caller's idempotency key, or NULL.
    pub source_id: *const c_char,
    /// For an invalidation: the grant it names (a UUID), or NULL.
    pub target_event_id: *const c_char,
}

/// A subject's history, from [`consent_history`]; release it with
/// [`consent_history_page_free`]. The library allocates it, so it may grow at the end
/// within a SONAME (consent.h, "Growing the ABI"); never copy it by value.
#[repr(C)]
pub struct consent_history_page {
    /// The events, in log order (NULL when none).
    pub events: *const consent_event,
    /// How many events.
    pub n_events: usize,
}

fn event_out(e: &Event, arena: &mut Arena) -> FfiResult<consent_event> {
    let (notice_id, notice_version) = match &e.notice {
        Some(n) => (arena.text(Some(&n.id))?, arena.text(Some(&n.version))?),
        None => (std::ptr::null(), std::ptr::null()),
    };
    Ok(consent_event {
        id: fixed_text(&e.id.hyphenated().to_string()),
        seq: e.seq,
        kind: fixed_text(e.kind.as_str()),
        subject: arena.text(e.subject.as_deref())?,
        purpose: arena.text(e.purpose.as_deref())?,
        purpose_version: e.purpose_version.unwrap_or(0),
        recipient: arena.text(e.recipient.as_deref())?,
        notice_id,
        notice_version,
        method: method_out(e.method),
        explicit_consent: e.explicit,
        recorded_by: arena.text(Some(&e.recorded_by.to_string()))?,
        effective_at_ms: e.effective_at.as_millis(),
        recorded_at_ms: e.recorded_at.as_millis(),
        expires_at_ms: time_out(e.expires_at),
        effect_deadline_ms: time_out(e.effect_deadline),
        source_id: arena.text(e.source_id.as_deref())?,
        target_event_id: arena.text(e.target.map(|t| t.hyphenated().to_string()).as_deref())?,
    })
}

/// Every event about `subject`, in order, as structs: writes a page to `*out`; release
/// it with [`consent_history_page_free`]. The same events as
/// [`consent_history_json`], which also carries the evidence and details.
///
/// Errors: the common ones only (consent.h, "Rules of the ABI"); an unknown subject
/// has an empty history.
#[no_mangle]
pub unsafe extern "C" fn consent_history(
    ledger: *const consent_ledger,
    subject: *const c_char,
    out: *mut *mut consent_history_page,
) -> consent_result {
    guard(|| {
        let handle = unsafe { handle_arg(ledger) }?;
        let subject = unsafe { str_arg(subject, "subject") }?;
        let out = out_arg(out, "out")?;
        let history = handle.ledger.history(subject)?;
        let mut arena = Arena::default();
        let events = history
            .iter()
            .map(|e| event_out(e, &mut arena))
            .collect::<FfiResult<Vec<_>>>()?;
        let page = owned_page(events, arena, |events, n_events| consent_history_page {
            events,
            n_events,
        });
        unsafe { write_out(out, page) };
        Ok(())
    })
}

/// Releases a page from [`consent_history`]. NULL is fine; never twice.
///
/// Errors: none (a void function; NULL is fine).
#[no_mangle]
pub unsafe extern "C" fn consent_history_page_free(page: *mut consent_history_page) {
    unsafe { free_page::<consent_history_page, consent_event>(page) }
}
