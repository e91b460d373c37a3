//! Questions about consent: the status of one or many (subject, purpose, recipient), a
//! subject's history, who consents, the change feed, the subject-access copy.

use std::ffi::c_char;

use consent_core::Status;

use crate::boundary::{
    about_one_element, array_arg, fixed_text, guard, handle_arg, json_out, ledger_arg, opt_str_arg,
    out_arg, out_array_arg, owned_string, str_arg, time_arg, time_out, write_out, ArgName,
    FfiError, FfiResult,
};
use crate::*;

/// The answer of [`consent_status_get`], [`consent_status_get_at`] and
/// [`consent_status_get_many`]; as JSON (with the recipient and purpose) from
/// [`consent_status_get_json`]. Its strings belong to the ledger handle: nothing to free.
#[repr(C)]
pub struct consent_status {
    /// The state.
    pub state: consent_state,
    /// Whether processing may go ahead: consent in force, or a purpose that does not
    /// rest on consent and was not objected to.
    pub permits: bool,
    /// The purpose's lawful basis as the letter of Art. 6(1): 'a' (consent) .. 'f'.
    pub lawful_basis: c_char,
    /// The purpose's current version.
    pub purpose_version: u32,
    /// Whether an event decided the state (then `event_id` and `event_seq` are set).
    pub has_event: bool,
    /// The deciding event's id, or "" when none.
    pub event_id: [c_char; CONSENT_EVENT_ID_LEN],
    /// The deciding event's sequence number (0 when none).
    pub event_seq: u64,
    /// Since when this state holds, or `CONSENT_TIME_ABSENT`.
    pub since_ms: i64,
    /// Until when (a grant's expiry), or `CONSENT_TIME_ABSENT`.
    pub until_ms: i64,
    /// For a withdrawal: when downstream systems must have acted, or `CONSENT_TIME_ABSENT`.
    pub effect_deadline_ms: i64,
    /// The moment asked about.
    pub at_ms: i64,
    /// The knowledge time asked about.
    pub as_known_at_ms: i64,
    /// Whether the deciding event names a notice (then `notice_sha256`, `notice_id` and
    /// `notice_version` are set).
    pub has_notice: bool,
    /// SHA-256 of the notice text shown.
    pub notice_sha256: [u8; 32],
    /// The id of the notice shown, or NULL when none. Owned by the ledger handle (each
    /// id kept once): valid until `consent_ledger_free`, whatever calls come between;
    /// never free it.
    pub notice_id: *const c_char,
    /// The version of the notice shown, or NULL when none; owned as `notice_id`.
    pub notice_version: *const c_char,
    /// The purpose version the deciding grant was given under, or 0 when the deciding
    /// event is not a grant. Differs from `purpose_version` after a change (then
    /// `state` may be `CONSENT_STATE_NEEDS_RENEWAL`).
    pub granted_under_version: u32,
}

/// One question of [`consent_status_get_many`]: the arguments of [`consent_status_get`].
/// The strings are only read during the call.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct consent_question {
    /// The data subject (student id). Required.
    pub subject: *const c_char,
    /// The purpose id. Required.
    pub purpose: *const c_char,
    /// The recipient asked about, or NULL: as `recipient` of [`consent_status_get`]
    /// (required when the purpose lists recipients).
    pub recipient: *const c_char,
}

/// The C form of `s`, its notice's id and version kept in `names` (the handle's).
pub(crate) fn status_out(s: &Status, names: &Names) -> FfiResult<consent_status> {
    let (notice_id, notice_version) = match &s.notice {
        Some(n) => (names.get(&n.id)?, names.get(&n.version)?),
        None => (std::ptr::null(), std::ptr::null()),
    };
    Ok(consent_status {
        state: state(s.state),
        permits: s.permits(),
        lawful_basis: s.lawful_basis.letter() as c_char,
        purpose_version: s.purpose_version,
        has_event: s.event_id.is_some(),
        event_id: fixed_text(
            &s.event_id
                .map(|u| u.hyphenated().to_string())
                .unwrap_or_default(),
        ),
        event_seq: s.event_seq.unwrap_or(0),
        since_ms: time_out(s.since),
        until_ms: time_out(s.until),
        effect_deadline_ms: time_out(s.effect_deadline),
        at_ms: s.at.as_millis(),
        as_known_at_ms: s.as_known_at.as_millis(),
        has_notice: s.notice.is_some(),
        notice_sha256: s.notice.as_ref().map_or([0; 32], |n| n.sha256),
        notice_id,
        notice_version,
        granted_under_version: s.granted_under_version.unwrap_or(0),
    })
}

/// May `subject`'s data be used for `purpose` (and `recipient`) now? Writes the
/// answer to `*out`. `recipient` must be one the purpose lists, spelt exactly, and a
/// purpose that lists recipients must be asked about one of them; NULL is for a
/// purpose that lists none. Otherwise `CONSENT_RESULT_UNKNOWN_RECIPIENT`, whose message
/// lists the valid ids.
///
/// Errors: an unknown purpose `CONSENT_RESULT_UNKNOWN_PURPOSE`; an unlisted or missing
/// recipient `CONSENT_RESULT_UNKNOWN_RECIPIENT`; a ledger opened without its key
/// `CONSENT_RESULT_KEY`.
#[no_mangle]
pub unsafe extern "C" fn consent_status_get(
    ledger: *const consent_ledger,
    subject: *const c_char,
    purpose: *const c_char,
    recipient: *const c_char,
    out: *mut consent_status,
) -> consent_result {
    guard(|| {
        let handle = unsafe { handle_arg(ledger) }?;
        let subject = unsafe { str_arg(subject, "subject") }?;
        let purpose = unsafe { str_arg(purpose, "purpose") }?;
        let recipient = unsafe { opt_str_arg(recipient, "recipient") }?;
        let out = out_arg(out, "out")?;
        let status = handle.ledger.status(subject, purpose, recipient)?;
        unsafe { write_out(out, status_out(&status, &handle.names)?) };
        Ok(())
    })
}

/// The answers of [`consent_status_get`] to `n` questions at `questions`, all read from
/// one snapshot of the ledger (no append lands between two answers), written to
/// `out[0..n]` (room for `n` entries, required when `n` > 0). `n` = 0 does nothing
/// (`questions` and `out` may then be NULL). The first question that is invalid (a NULL
/// or non-UTF-8 field, an unknown purpose, an unlisted or missing recipient) fails the
/// call: its message names it (`questions[2]: ...`), as does
/// [`consent_last_error_index`], and nothing in `out` is written. `out` must not overlap
/// `questions` or its strings.
///
/// Errors: as `consent_status_get`, about one question (named by
/// `consent_last_error_index`); then nothing is written.
#[no_mangle]
pub unsafe extern "C" fn consent_status_get_many(
    ledger: *const consent_ledger,
    questions: *const consent_question,
    n: usize,
    out: *mut consent_status,
) -> consent_result {
    guard(|| {
        let handle = unsafe { handle_arg(ledger) }?;
        let ledger = &*handle.ledger;
        let items = unsafe { array_arg(questions, n, "questions") }?;
        let out = out_array_arg(out, n, "out")?;
        if n == 0 {
            return Ok(());
        }
        let asked = items
            .iter()
            .enumerate()
            .map(|(i, q)| unsafe { question(q, ArgName::element("questions", i)) })
            .collect::<FfiResult<Vec<_>>>()?;
        let answers = ledger.status_many(&asked).map_err(|e| {
            // The core fails the call with the first invalid question's error without
            // saying which: find it (only on this error path) by asking again one by one.
            let kind = e.kind();
            let error = FfiError::from(e);
            if !about_one_element(kind) {
                return error;
            }
            let found = asked.iter().position(
                |&(s, p, r)| matches!(ledger.status(s, p, r), Err(again) if again.kind() == kind),
            );
            match found {
                Some(i) => error.about(ArgName::element("questions", i)),
                None => error,
            }
        })?;
        let answers = answers
            .iter()
            .map(|s| status_out(s, &handle.names))
            .collect::<FfiResult<Vec<_>>>()?;
        unsafe { out.write(answers) };
        Ok(())
    })
}

/// One question of [`consent_status_get_many`] as the core takes it.
///
/// # Safety
/// The strings of `q` are NULL or NUL-terminated, and outlive `'a`.
pub(crate) unsafe fn question<'a>(
    q: &consent_question,
    at: ArgName,
) -> FfiResult<(&'a str, &'a str, Option<&'a str>)> {
    let read = || -> FfiResult<_> {
        Ok((
            unsafe { str_arg(q.subject, at.field("subject")) }?,
            unsafe { str_arg(q.purpose, at.field("purpose")) }?,
            unsafe { opt_str_arg(q.recipient, at.field("recipient")) }?,
        ))
    };
    read().map_err(|e| match at.index {
        Some(i) => e.at_index(i),
        None => e,
    })
}

/// Could `subject`'s data be used for `purpose` (and `recipient`, as in
/// [`consent_status_get`]) at `at_ms`, as the ledger knew it at `as_known_at_ms`
/// (`CONSENT_TIME_ABSENT` = now)? `at_ms` is required (`CONSENT_RESULT_INVALID_TIME` if
/// absent).
///
/// Errors: as `consent_status_get`; `at_ms` absent or a time out of range
/// `CONSENT_RESULT_INVALID_TIME`.
#[no_mangle]
pub unsafe extern "C" fn consent_status_get_at(
    ledger: *const consent_ledger,
    subject: *const c_char,
    purpose: *const c_char,
    recipient: *const c_char,
    at_ms: i64,
    as_known_at_ms: i64,
    out: *mut consent_status,
) -> consent_result {
    guard(|| {
        let handle = unsafe { handle_arg(ledger) }?;
        let subject = unsafe { str_arg(subject, "subject") }?;
        let purpose = unsafe { str_arg(purpose, "purpose") }?;
        let recipient = unsafe { opt_str_arg(recipient, "recipient") }?;
        let out = out_arg(out, "out")?;
        let at = time_arg(at_ms, "at_ms")?.ok_or_else(|| {
            FfiError::new(
                consent_result::InvalidTime,
                "argument `at_ms` is required (use consent_status_get for now)",
            )
        })?;
        let known = time_arg(as_known_at_ms, "as_known_at_ms")?;
        let status = handle
            .ledger
            .status_at(subject, purpose, recipient, at, known)?;
        unsafe { write_out(out, status_out(&status, &handle.names)?) };
        Ok(())
    })
}

/// The full status (with the notice id and version) as JSON, written to `*out_json`:
/// now when `at_ms` and `as_known_at_ms` are both `CONSENT_TIME_ABSENT`, else as
/// [`consent_status_get_at`]. Free with [`consent_string_free`].
///
/// Errors: as `consent_status_get_at`; `as_known_at_ms` without `at_ms`
/// `CONSENT_RESULT_INVALID_TIME`.
#[no_mangle]
pub unsafe extern "C" fn consent_status_get_json(
    ledger: *const consent_ledger,
    subject: *const c_char,
    purpose: *const c_char,
    recipient: *const c_char,
    at_ms: i64,
    as_known_at_ms: i64,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let subject = unsafe { str_arg(subject, "subject") }?;
        let purpose = unsafe { str_arg(purpose, "purpose") }?;
        let recipient = unsafe { opt_str_arg(recipient, "recipient") }?;
        let out = out_arg(out_json, "out_json")?;
        let at = time_arg(at_ms, "at_ms")?;
        let known = time_arg(as_known_at_ms, "as_known_at_ms")?;
        let status = match (at, known) {
            (None, None) => ledger.status(subject, purpose, recipient)?,
            (Some(at), known) => ledger.status_at(subject, purpose, recipient, at, known)?,
            (None, Some(_)) => {
                return Err(FfiError::new(
                    consent_result::InvalidTime,
                    "argument `at_ms` is required when `as_known_at_ms` is given",
                ))
            }
        };
        unsafe { json_out(out, &status) }
    })
}

/// Every event about `subject`, in order, as a JSON array written to `*out_json`;
/// free with [`consent_string_free`].
///
/// Errors: the common ones only; an unknown subject has an empty history.
#[no_mangle]
pub unsafe extern "C" fn consent_history_json(
    ledger: *const consent_ledger,
    subject: *const c_char,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let subject = unsafe { str_arg(subject, "subject") }?;
        let out = out_arg(out_json, "out_json")?;
        unsafe { json_out(out, &ledger.history(subject)?) }
    })
}

/// One event by id as JSON, written to `*out_json`; free with [`consent_string_free`].
///
/// Errors: an unknown event `CONSENT_RESULT_NOT_FOUND`; an id that is not a UUID
/// `CONSENT_RESULT_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn consent_event_json(
    ledger: *const consent_ledger,
    event_id: *const c_char,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let id = uuid_arg(unsafe { str_arg(event_id, "event_id") }?, "event_id")?;
        let out = out_arg(out_json, "out_json")?;
        unsafe { json_out(out, &ledger.event(id)?) }
    })
}

/// Every subject with consent in force for `purpose` (and `recipient`) at `at_ms`
/// (`CONSENT_TIME_ABSENT` = now), as the ledger knew it at `as_known_at_ms`
/// (`CONSENT_TIME_ABSENT` = now: a past extract reproduced as it was known then), with
/// the head that answered, as JSON (`{"purpose":..,"recipient":..,"at":..,
/// "as_known_at":..,"subjects":[{"subject":..,"event_id":..,"since":..,"until":..}],
/// "head":{..}}`) written to `*out_json`; free with [`consent_string_free`]. A purpose
/// that lists recipients must be asked about one of them (a feed that left the
/// recipient out would miss a withdrawal naming it): NULL is then
/// `CONSENT_RESULT_UNKNOWN_RECIPIENT`, as is a recipient the purpose does not list.
///
/// Errors: an unknown purpose `CONSENT_RESULT_UNKNOWN_PURPOSE`; an unlisted or missing
/// recipient `CONSENT_RESULT_UNKNOWN_RECIPIENT`; a time out of range
/// `CONSENT_RESULT_INVALID_TIME`.
#[no_mangle]
pub unsafe extern "C" fn consent_consenting_json(
    ledger: *const consent_ledger,
    purpose: *const c_char,
    recipient: *const c_char,
    at_ms: i64,
    as_known_at_ms: i64,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let purpose = unsafe { str_arg(purpose, "purpose") }?;
        let recipient = unsafe { opt_str_arg(recipient, "recipient") }?;
        let out = out_arg(out_json, "out_json")?;
        let at = time_arg(at_ms, "at_ms")?;
        let known = time_arg(as_known_at_ms, "as_known_at_ms")?;
        unsafe { json_out(out, &ledger.consenting(purpose, recipient, at, known)?) }
    })
}

/// A change feed: events with `seq >= since`, at most `limit`, as a JSON array
/// written to `*out_json`; free with [`consent_string_free`]. Continue from the last
/// event's `seq + 1`.
///
/// Errors: the common ones only.
#[no_mangle]
pub unsafe extern "C" fn consent_changes_since_json(
    ledger: *const consent_ledger,
    since: u64,
    limit: usize,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let out = out_arg(out_json, "out_json")?;
        unsafe { json_out(out, &ledger.changes_since(since, limit)?) }
    })
}

/// The subject-access copy of `subject` (every event, the purposes and notices they
/// refer to, current statuses and the head) as JSON written to `*out_json`; free with
/// [`consent_string_free`]. [`consent_export_subject_html`] is the same copy for a person
/// to read.
///
/// Errors: the common ones only.
#[no_mangle]
pub unsafe extern "C" fn consent_export_subject_json(
    ledger: *const consent_ledger,
    subject: *const c_char,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let subject = unsafe { str_arg(subject, "subject") }?;
        let out = out_arg(out_json, "out_json")?;
        unsafe { json_out(out, &ledger.export_subject(subject)?) }
    })
}

/// The subject's copy as a self-contained HTML page, for the person to read: the
/// purposes (titles, controllers), the notices they were shown (title, version, SHA-256,
/// controller), every event in plain words with local times in the ledger's time zone,
/// the current statuses and the head. Written to `*out_html`; free with
/// [`consent_string_free`].
///
/// Errors: the common ones only.
#[no_mangle]
pub unsafe extern "C" fn consent_export_subject_html(
    ledger: *const consent_ledger,
    subject: *const c_char,
    out_html: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let subject = unsafe { str_arg(subject, "subject") }?;
        let out = out_arg(out_html, "out_html")?;
        let html = owned_string(ledger.export_subject_html(subject)?)?;
        unsafe { write_out(out, html) };
        Ok(())
    })
}
