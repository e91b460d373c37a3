//! Appending events: from a `consent_event_params` (one, many, as JSON), and the typed
//! shortcuts (give, refuse, withdraw, ...).

use std::ffi::c_char;

use consent_core::{Actor, Appended, Event, EventKind, NewEvent};
use uuid::Uuid;

use crate::boundary::{
    about_one_element, array_arg, fixed_text, guard, json_out, ledger_arg, opt_out_arg,
    opt_out_array_arg, opt_str_arg, out_arg, ref_arg, str_arg, time_arg, time_out, write_out,
    ArgName, FfiError, FfiResult,
};
use crate::*;

/// Bytes in an event id buffer: a hyphenated UUID (36 characters) and its NUL.
pub const CONSENT_EVENT_ID_LEN: usize = 37;

/// How `params` of [`consent_append`] is named in messages.
pub(crate) const PARAMS: ArgName = ArgName::whole("params");

/// The parameters of an event for [`consent_append`]. Fill with
/// [`consent_event_params_init`] first (it sets every time to `CONSENT_TIME_ABSENT`,
/// which zero-filling would not), then set what you need. Strings may be NULL when
/// optional; they are only read during the call.
#[repr(C)]
pub struct consent_event_params {
    /// A `consent_event_kind` value. Required.
    pub kind: i32,
    /// The data subject (student id). Required.
    pub subject: *const c_char,
    /// The purpose id. Required.
    pub purpose: *const c_char,
    /// The recipient the consent names, or NULL.
    pub recipient: *const c_char,
    /// The notice shown: id and version, both or neither. Required for grants.
    pub notice_id: *const c_char,
    /// See `notice_id`.
    pub notice_version: *const c_char,
    /// Explicit consent (Art. 9(2)(a)): the subject expressly confirmed a statement.
    /// Required for grants of special-category purposes. (`explicit` elsewhere; a C++
    /// keyword, so not a name this header can use.)
    pub explicit_consent: bool,
    /// A `consent_method` value; `CONSENT_METHOD_NONE` if not said. Required for
    /// grants and refusals.
    pub method: i32,
    /// Who recorded it: `subject`, `staff:<id>` or `system:<id>`; NULL = `subject`.
    pub recorded_by: *const c_char,
    /// When it happened (event time); `CONSENT_TIME_ABSENT` = when recorded.
    pub effective_at_ms: i64,
    /// When a grant lapses; `CONSENT_TIME_ABSENT` = the purpose's validity rule.
    pub expires_at_ms: i64,
    /// The caller's idempotency key, or NULL. A retry with the same key and content
    /// returns the event already recorded; other content is `CONSENT_RESULT_CONFLICT`.
    pub source_id: *const c_char,
    /// Free-form evidence as a JSON object text, or NULL.
    pub evidence_json: *const c_char,
    /// For invalidations: the id of the grant that was never valid, or NULL for every
    /// earlier grant of the subject, purpose and recipient.
    pub target_event_id: *const c_char,
    /// For grants: when the validity rule starts counting (a course rep's course
    /// start), instead of the effective time; `CONSENT_TIME_ABSENT` = from the
    /// effective time. Recorded in the event's hashed details.
    pub validity_from_ms: i64,
}

/// An event as appended: its id, sequence number and the times the ledger settled, and
/// whether this call recorded it.
#[repr(C)]
pub struct consent_event_ref {
    /// The event id (a UUID, NUL-terminated).
    pub id: [c_char; CONSENT_EVENT_ID_LEN],
    /// Its position in the log, from 0.
    pub seq: u64,
    /// When it happened.
    pub effective_at_ms: i64,
    /// When the ledger learnt it.
    pub recorded_at_ms: i64,
    /// When a grant lapses, or `CONSENT_TIME_ABSENT`.
    pub expires_at_ms: i64,
    /// For withdrawals, revocations and objections: when downstream systems must have
    /// acted (effective time plus the purpose's effect delay); else `CONSENT_TIME_ABSENT`.
    pub effect_deadline_ms: i64,
    /// Whether this call recorded the event: false when an idempotent retry (the same
    /// source id with the same content) returned the event already on record, and
    /// nothing was written.
    pub is_new: bool,
}

pub(crate) unsafe fn actor_arg(p: *const c_char, name: impl std::fmt::Display) -> FfiResult<Actor> {
    match unsafe { opt_str_arg(p, &name) }? {
        None => Ok(Actor::subject()),
        Some(text) => text
            .parse::<Actor>()
            .map_err(|e| FfiError::invalid(format!("argument `{name}`: {e}"))),
    }
}

pub(crate) fn uuid_arg(text: &str, name: impl std::fmt::Display) -> FfiResult<Uuid> {
    Uuid::parse_str(text)
        .map_err(|_| FfiError::invalid(format!("argument `{name}` is not an event id (a UUID)")))
}

/// The event `p` describes; `at` names `p` in messages (`params`, `events[3]`), and an
/// error about an element of an array carries its index.
pub(crate) unsafe fn new_event(p: &consent_event_params, at: ArgName) -> FfiResult<NewEvent> {
    unsafe { new_event_named(p, at) }.map_err(|e| match at.index {
        Some(i) => e.at_index(i),
        None => e,
    })
}

pub(crate) unsafe fn new_event_named(p: &consent_event_params, at: ArgName) -> FfiResult<NewEvent> {
    let kind = event_kind(p.kind, at.field("kind"))?;
    let subject = unsafe { str_arg(p.subject, at.field("subject")) }?;
    let purpose = unsafe { str_arg(p.purpose, at.field("purpose")) }?;
    let mut e = NewEvent::new(kind, subject, purpose);
    e.recipient = unsafe { opt_str_arg(p.recipient, at.field("recipient")) }?.map(Into::into);
    let notice_id = unsafe { opt_str_arg(p.notice_id, at.field("notice_id")) }?;
    let notice_version = unsafe { opt_str_arg(p.notice_version, at.field("notice_version")) }?;
    e.notice = match (notice_id, notice_version) {
        (Some(id), Some(v)) => Some((id.into(), v.into())),
        (None, None) => None,
        _ => {
            return Err(FfiError::invalid(format!(
                "`{}` and `{}` go together",
                at.field("notice_id"),
                at.field("notice_version")
            )))
        }
    };
    e.explicit = p.explicit_consent;
    e.method = method(p.method, at.field("method"))?;
    e.recorded_by = unsafe { actor_arg(p.recorded_by, at.field("recorded_by")) }?;
    e.effective_at = time_arg(p.effective_at_ms, at.field("effective_at_ms"))?;
    e.expires_at = time_arg(p.expires_at_ms, at.field("expires_at_ms"))?;
    e.validity_from = time_arg(p.validity_from_ms, at.field("validity_from_ms"))?;
    e.source_id = unsafe { opt_str_arg(p.source_id, at.field("source_id")) }?.map(Into::into);
    e.evidence = match unsafe { opt_str_arg(p.evidence_json, at.field("evidence_json")) }? {
        Some(text) => Some(serde_json::from_str(text).map_err(|err| {
            FfiError::invalid(format!(
                "`{}` is not JSON: {err}",
                at.field("evidence_json")
            ))
        })?),
        None => None,
    };
    e.target = match unsafe { opt_str_arg(p.target_event_id, at.field("target_event_id")) }? {
        Some(text) => Some(uuid_arg(text, at.field("target_event_id"))?),
        None => None,
    };
    Ok(e)
}

/// What [`consent_event_ref`] says of an event, recorded by this call or not (`is_new`).
pub(crate) fn event_ref(e: &Event, is_new: bool) -> consent_event_ref {
    consent_event_ref {
        id: fixed_text(&e.id.hyphenated().to_string()),
        seq: e.seq,
        effective_at_ms: e.effective_at.as_millis(),
        recorded_at_ms: e.recorded_at.as_millis(),
        expires_at_ms: time_out(e.expires_at),
        effect_deadline_ms: time_out(e.effect_deadline),
        is_new,
    }
}

/// [`event_ref`] of what an append did.
pub(crate) fn appended_ref(a: &Appended) -> consent_event_ref {
    event_ref(&a.event, a.new)
}

/// [`consent_append`] and [`consent_batch_append`].
pub(crate) unsafe fn append_params(
    to: Writer<'_>,
    params: *const consent_event_params,
    out: *mut consent_event_ref,
) -> FfiResult<()> {
    let params = unsafe { ref_arg(params, "params") }?;
    let out = opt_out_arg(out, "out")?;
    let event = unsafe { new_event(params, PARAMS) }?;
    let appended = to.append(event)?;
    if let Some(out) = out {
        unsafe { write_out(out, appended_ref(&appended)) };
    }
    Ok(())
}

/// Fills `out` with empty parameters: kind 0 (invalid until set), every string NULL,
/// not explicit, no method, every time `CONSENT_TIME_ABSENT`.
///
/// Errors: a NULL `out` `CONSENT_RESULT_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn consent_event_params_init(
    out: *mut consent_event_params,
) -> consent_result {
    guard(|| {
        let out = out_arg(out, "out")?;
        let null = std::ptr::null();
        let value = consent_event_params {
            kind: 0,
            subject: null,
            purpose: null,
            recipient: null,
            notice_id: null,
            notice_version: null,
            explicit_consent: false,
            method: consent_method::None as i32,
            recorded_by: null,
            effective_at_ms: CONSENT_TIME_ABSENT,
            expires_at_ms: CONSENT_TIME_ABSENT,
            source_id: null,
            evidence_json: null,
            target_event_id: null,
            validity_from_ms: CONSENT_TIME_ABSENT,
        };
        unsafe { write_out(out, value) };
        Ok(())
    })
}

/// Appends an event after checking it against the consent rules. Writes what was
/// recorded to `*out` (NULL = not wanted). A recipient must be one the purpose lists,
/// spelt exactly (else `CONSENT_RESULT_UNKNOWN_RECIPIENT`, whose message lists them);
/// a grant without one covers every recipient the purpose lists. A withdrawal or
/// objection is never refused: one naming a recipient the purpose does not list is
/// recorded purpose-wide (no recipient; the text as written kept in its details), and a
/// withdrawal for a purpose that does not rest on consent is recorded as an objection
/// (Art. 21). A grant naming a notice that does not cover its purpose is
/// `CONSENT_RESULT_INVALID_CONSENT`. Events dated more than 366 days after now are
/// `CONSENT_RESULT_INVALID_TIME`.
/// Identifiers (subject, purpose, recipient, notice id and version, source id, the id
/// in `recorded_by`) must be Unicode NFC without control characters or white space at
/// either end: anything else is `CONSENT_RESULT_INVALID_ARGUMENT` (never silently
/// changed), here and in every question.
///
/// Errors: a malformed field `CONSENT_RESULT_INVALID_ARGUMENT` (a notice id without its
/// version, a bad kind or method, evidence that is not JSON); an unknown purpose,
/// notice or recipient `CONSENT_RESULT_UNKNOWN_PURPOSE`,
/// `CONSENT_RESULT_UNKNOWN_NOTICE`, `CONSENT_RESULT_UNKNOWN_RECIPIENT`; what the rules
/// refuse `CONSENT_RESULT_INVALID_CONSENT`; a grant for an erased subject
/// `CONSENT_RESULT_SUBJECT_ERASED`; a source id reused with other content
/// `CONSENT_RESULT_CONFLICT`; a time out of range or too far ahead
/// `CONSENT_RESULT_INVALID_TIME`.
#[no_mangle]
pub unsafe extern "C" fn consent_append(
    ledger: *const consent_ledger,
    params: *const consent_event_params,
    out: *mut consent_event_ref,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        unsafe { append_params(Writer::Ledger(ledger), params, out) }
    })
}

/// The event appended by [`consent_append`] (or already recorded under the same
/// source id) as full JSON, written to `*out_json`; free with [`consent_string_free`].
///
/// Errors: as `consent_append`.
#[no_mangle]
pub unsafe extern "C" fn consent_append_json(
    ledger: *const consent_ledger,
    params: *const consent_event_params,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let params = unsafe { ref_arg(params, "params") }?;
        let out = out_arg(out_json, "out_json")?;
        let event = unsafe { new_event(params, PARAMS) }?;
        let recorded = ledger.append(event)?;
        unsafe { json_out(out, &recorded) }
    })
}

/// Appends `n` events at `events` (each as [`consent_append`] would), all or none: one
/// transaction, so either every event is recorded, in order, or (on any error) none is.
/// Each event is checked against the rules as they stand with the events before it in
/// the array. Writes what was recorded to `out[0..n]` (NULL = not wanted; else room for
/// `n` entries). `n` = 0 does nothing (`events` and `out` may then be NULL).
///
/// An error about one event (a NULL or malformed field, an unknown purpose, a broken
/// rule) names it in the message (`events[3]: ...`) and in
/// [`consent_last_error_index`]. The strings are read straight from the array: no JSON.
/// `out` must not overlap `events`.
///
/// Errors: as `consent_append`, about one event (named by `consent_last_error_index`);
/// then none of the events is recorded.
#[no_mangle]
pub unsafe extern "C" fn consent_append_many(
    ledger: *const consent_ledger,
    events: *const consent_event_params,
    n: usize,
    out: *mut consent_event_ref,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let params = unsafe { array_arg(events, n, "events") }?;
        let out = opt_out_array_arg(out, n, "out")?;
        if n == 0 {
            return Ok(());
        }
        let new = params
            .iter()
            .enumerate()
            .map(|(i, p)| unsafe { new_event(p, ArgName::element("events", i)) })
            .collect::<FfiResult<Vec<_>>>()?;
        // One batch, all or none; its appends say whether each event is new, and which
        // one was refused.
        let token = ledger.begin_batch()?;
        let mut recorded = Vec::with_capacity(n);
        for (i, event) in new.into_iter().enumerate() {
            match ledger.append_outcome_in(&token, event) {
                Ok(appended) => recorded.push(appended_ref(&appended)),
                Err(e) => {
                    let _ = ledger.rollback_batch(token);
                    return Err(about_event(e, i));
                }
            }
        }
        ledger.commit_batch(token)?;
        if let Some(out) = out {
            unsafe { out.write(recorded) };
        }
        Ok(())
    })
}

/// The error of `events[i]`, naming it when it is about that event (not, say, about a
/// busy ledger).
fn about_event(e: consent_core::Error, i: usize) -> FfiError {
    let about_it = about_one_element(e.kind());
    let error = FfiError::from(e);
    if about_it {
        error.about(ArgName::element("events", i))
    } else {
        error
    }
}

/// What every typed append ([`consent_give`], [`consent_withdraw`], ...) takes, in the
/// order they take it: the subject, the purpose and the recipient first; then what is
/// the kind's own; then who recorded it and when it happened.
#[derive(Clone, Copy)]
pub(crate) struct Typed {
    subject: *const c_char,
    purpose: *const c_char,
    recipient: *const c_char,
    recorded_by: *const c_char,
    effective_at_ms: i64,
}

impl Typed {
    fn of(
        subject: *const c_char,
        purpose: *const c_char,
        recipient: *const c_char,
        recorded_by: *const c_char,
        effective_at_ms: i64,
    ) -> Self {
        Typed {
            subject,
            purpose,
            recipient,
            recorded_by,
            effective_at_ms,
        }
    }
}

/// Sets the notice shown (`notice_id`/`notice_version`) and how the answer was
/// collected (`method`, a `consent_method`): what a grant and a served notice share.
unsafe fn told(
    e: &mut NewEvent,
    notice_id: *const c_char,
    notice_version: *const c_char,
    method: i32,
) -> FfiResult<()> {
    let id = unsafe { str_arg(notice_id, "notice_id") }?;
    let version = unsafe { str_arg(notice_version, "notice_version") }?;
    e.notice = Some((id.into(), version.into()));
    e.method = crate::enums::method(method, "method")?;
    Ok(())
}

/// A typed append: the event of `kind` that `args` and `customise` describe.
unsafe fn append_typed(
    ledger: *const consent_ledger,
    kind: EventKind,
    args: Typed,
    out: *mut consent_event_ref,
    customise: impl FnOnce(&mut NewEvent) -> FfiResult<()>,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let subject = unsafe { str_arg(args.subject, "subject") }?;
        let purpose = unsafe { str_arg(args.purpose, "purpose") }?;
        let actor = unsafe { actor_arg(args.recorded_by, "recorded_by") }?;
        let out = opt_out_arg(out, "out")?;
        let mut event = NewEvent::new(kind, subject, purpose).recorded_by(actor);
        event.recipient = unsafe { opt_str_arg(args.recipient, "recipient") }?.map(Into::into);
        event.effective_at = time_arg(args.effective_at_ms, "effective_at_ms")?;
        customise(&mut event)?;
        let appended = ledger.append_outcome(event)?;
        if let Some(out) = out {
            unsafe { write_out(out, appended_ref(&appended)) };
        }
        Ok(())
    })
}

/// Records consent given by `subject` for `purpose` and `recipient` (NULL = every
/// recipient the purpose lists), having been shown the notice
/// `notice_id`/`notice_version`, collected by `method` (a `consent_method`), explicit
/// (`explicit_consent`, Art. 9(2)(a)) or not, recorded by `recorded_by` (NULL = the
/// subject), effective at `effective_at_ms` (`CONSENT_TIME_ABSENT` = now), lapsing at
/// `expires_at_ms` (`CONSENT_TIME_ABSENT` = the purpose's validity rule). For an
/// idempotency key, evidence or a validity start, use [`consent_append`].
///
/// Errors: a NULL `notice_id` or `notice_version` is `CONSENT_RESULT_NULL_ARGUMENT`;
/// an unknown purpose, notice or recipient `CONSENT_RESULT_UNKNOWN_PURPOSE`,
/// `CONSENT_RESULT_UNKNOWN_NOTICE`, `CONSENT_RESULT_UNKNOWN_RECIPIENT`; a grant the
/// rules refuse (no method, not explicit for special-category data, a notice that does
/// not cover the purpose) `CONSENT_RESULT_INVALID_CONSENT`; an erased subject
/// `CONSENT_RESULT_SUBJECT_ERASED`; a time out of range or too far ahead
/// `CONSENT_RESULT_INVALID_TIME`.
#[no_mangle]
pub unsafe extern "C" fn consent_give(
    ledger: *const consent_ledger,
    subject: *const c_char,
    purpose: *const c_char,
    recipient: *const c_char,
    notice_id: *const c_char,
    notice_version: *const c_char,
    method: i32,
    explicit_consent: bool,
    recorded_by: *const c_char,
    effective_at_ms: i64,
    expires_at_ms: i64,
    out: *mut consent_event_ref,
) -> consent_result {
    let args = Typed::of(subject, purpose, recipient, recorded_by, effective_at_ms);
    unsafe {
        append_typed(ledger, EventKind::Given, args, out, |e| {
            told(e, notice_id, notice_version, method)?;
            e.explicit = explicit_consent;
            e.expires_at = time_arg(expires_at_ms, "expires_at_ms")?;
            Ok(())
        })
    }
}

/// Records that `subject` was shown the notice `notice_id`/`notice_version` about
/// `purpose` (and `recipient`, or NULL), with no answer yet, by `method` (a
/// `consent_method`), recorded by `recorded_by` (NULL = the subject), effective at
/// `effective_at_ms` (`CONSENT_TIME_ABSENT` = now).
///
/// Errors: as [`consent_give`]; a notice that does not cover the purpose is
/// `CONSENT_RESULT_INVALID_CONSENT`.
#[no_mangle]
pub unsafe extern "C" fn consent_serve_notice(
    ledger: *const consent_ledger,
    subject: *const c_char,
    purpose: *const c_char,
    recipient: *const c_char,
    notice_id: *const c_char,
    notice_version: *const c_char,
    method: i32,
    recorded_by: *const c_char,
    effective_at_ms: i64,
    out: *mut consent_event_ref,
) -> consent_result {
    let args = Typed::of(subject, purpose, recipient, recorded_by, effective_at_ms);
    unsafe {
        append_typed(ledger, EventKind::NoticeServed, args, out, |e| {
            told(e, notice_id, notice_version, method)
        })
    }
}

/// Records that `subject` was asked about `purpose` (and `recipient`, or NULL) and
/// said no, collected by `method` (a `consent_method`), recorded by `recorded_by`
/// (NULL = the subject), effective at `effective_at_ms` (`CONSENT_TIME_ABSENT` = now).
///
/// Errors: an unknown purpose or recipient `CONSENT_RESULT_UNKNOWN_PURPOSE`,
/// `CONSENT_RESULT_UNKNOWN_RECIPIENT`; no method `CONSENT_RESULT_INVALID_CONSENT`; a
/// time out of range or too far ahead `CONSENT_RESULT_INVALID_TIME`.
#[no_mangle]
pub unsafe extern "C" fn consent_refuse(
    ledger: *const consent_ledger,
    subject: *const c_char,
    purpose: *const c_char,
    recipient: *const c_char,
    method: i32,
    recorded_by: *const c_char,
    effective_at_ms: i64,
    out: *mut consent_event_ref,
) -> consent_result {
    let args = Typed::of(subject, purpose, recipient, recorded_by, effective_at_ms);
    unsafe {
        append_typed(ledger, EventKind::Refused, args, out, |e| {
            e.method = crate::enums::method(method, "method")?;
            Ok(())
        })
    }
}

/// Records a withdrawal by `subject` of consent for `purpose` and `recipient` (NULL =
/// every recipient), effective at `effective_at_ms` (`CONSENT_TIME_ABSENT` = now);
/// never refused, even with no grant on record: a recipient the purpose does not list
/// is recorded purpose-wide, and for a purpose that does not rest on consent the
/// withdrawal is recorded as an objection (Art. 21). `out->effect_deadline_ms` says
/// when downstream systems must have acted.
///
/// Errors: an unknown purpose `CONSENT_RESULT_UNKNOWN_PURPOSE`; a time out of range or
/// too far ahead `CONSENT_RESULT_INVALID_TIME`.
#[no_mangle]
pub unsafe extern "C" fn consent_withdraw(
    ledger: *const consent_ledger,
    subject: *const c_char,
    purpose: *const c_char,
    recipient: *const c_char,
    recorded_by: *const c_char,
    effective_at_ms: i64,
    out: *mut consent_event_ref,
) -> consent_result {
    let args = Typed::of(subject, purpose, recipient, recorded_by, effective_at_ms);
    unsafe { append_typed(ledger, EventKind::Withdrawn, args, out, |_| Ok(())) }
}

/// Records that the controller stopped relying on the consent of `subject` for
/// `purpose` and `recipient` (NULL = every recipient), from `effective_at_ms`
/// (`CONSENT_TIME_ABSENT` = now; not retroactive).
///
/// Errors: an unknown purpose or recipient `CONSENT_RESULT_UNKNOWN_PURPOSE`,
/// `CONSENT_RESULT_UNKNOWN_RECIPIENT`; what the rules refuse
/// `CONSENT_RESULT_INVALID_CONSENT`; a time out of range or too far ahead
/// `CONSENT_RESULT_INVALID_TIME`.
#[no_mangle]
pub unsafe extern "C" fn consent_revoke(
    ledger: *const consent_ledger,
    subject: *const c_char,
    purpose: *const c_char,
    recipient: *const c_char,
    recorded_by: *const c_char,
    effective_at_ms: i64,
    out: *mut consent_event_ref,
) -> consent_result {
    let args = Typed::of(subject, purpose, recipient, recorded_by, effective_at_ms);
    unsafe { append_typed(ledger, EventKind::Revoked, args, out, |_| Ok(())) }
}

/// Records that a grant of `subject` for `purpose` was never valid (retroactive):
/// the grant `target_event_id`, or every earlier grant when NULL.
///
/// Errors: a `target_event_id` that is not a UUID `CONSENT_RESULT_INVALID_ARGUMENT`;
/// an unknown purpose `CONSENT_RESULT_UNKNOWN_PURPOSE`; what the rules refuse (no such
/// grant) `CONSENT_RESULT_INVALID_CONSENT`.
#[no_mangle]
pub unsafe extern "C" fn consent_invalidate(
    ledger: *const consent_ledger,
    subject: *const c_char,
    purpose: *const c_char,
    target_event_id: *const c_char,
    recorded_by: *const c_char,
    out: *mut consent_event_ref,
) -> consent_result {
    let args = Typed {
        subject,
        purpose,
        recipient: std::ptr::null(),
        recorded_by,
        effective_at_ms: CONSENT_TIME_ABSENT,
    };
    unsafe {
        append_typed(ledger, EventKind::Invalidated, args, out, |e| {
            if let Some(t) = opt_str_arg(target_event_id, "target_event_id")? {
                e.target = Some(uuid_arg(t, "target_event_id")?);
            }
            Ok(())
        })
    }
}

/// Records an objection by `subject` to processing for `purpose` and `recipient`
/// (NULL = every recipient; legitimate interests or public task), effective at
/// `effective_at_ms` (`CONSENT_TIME_ABSENT` = now); never refused.
///
/// Errors: an unknown purpose `CONSENT_RESULT_UNKNOWN_PURPOSE`; a time out of range or
/// too far ahead `CONSENT_RESULT_INVALID_TIME`.
#[no_mangle]
pub unsafe extern "C" fn consent_object(
    ledger: *const consent_ledger,
    subject: *const c_char,
    purpose: *const c_char,
    recipient: *const c_char,
    recorded_by: *const c_char,
    effective_at_ms: i64,
    out: *mut consent_event_ref,
) -> consent_result {
    let args = Typed::of(subject, purpose, recipient, recorded_by, effective_at_ms);
    unsafe { append_typed(ledger, EventKind::Objected, args, out, |_| Ok(())) }
}

#[cfg(test)]
mod tests {
    use consent_core::Method;

    use super::*;

    #[test]
    fn params_validate_before_the_core() {
        let mut p = std::mem::MaybeUninit::<consent_event_params>::uninit();
        assert_eq!(
            unsafe { consent_event_params_init(p.as_mut_ptr()) },
            consent_result::Ok
        );
        let mut p = unsafe { p.assume_init() };
        assert_eq!(
            unsafe { new_event(&p, PARAMS) }.unwrap_err().code,
            consent_result::InvalidArgument
        );
        p.kind = consent_event_kind::Given as i32;
        assert_eq!(
            unsafe { new_event(&p, PARAMS) }.unwrap_err().code,
            consent_result::NullArgument
        );
        p.subject = c"s1".as_ptr();
        p.purpose = c"p".as_ptr();
        p.notice_id = c"n".as_ptr();
        assert_eq!(
            unsafe { new_event(&p, PARAMS) }.unwrap_err().code,
            consent_result::InvalidArgument
        );
        p.notice_version = c"1".as_ptr();
        p.method = 99;
        assert_eq!(
            unsafe { new_event(&p, PARAMS) }.unwrap_err().code,
            consent_result::InvalidArgument
        );
        p.method = consent_method::Paper as i32;
        p.effective_at_ms = i64::MAX;
        assert_eq!(
            unsafe { new_event(&p, PARAMS) }.unwrap_err().code,
            consent_result::InvalidTime
        );
        p.effective_at_ms = 0;
        p.validity_from_ms = CONSENT_TIME_MIN - 1;
        assert_eq!(
            unsafe { new_event(&p, PARAMS) }.unwrap_err().code,
            consent_result::InvalidTime
        );
        p.validity_from_ms = 1_000;
        let e = unsafe { new_event(&p, PARAMS) }.unwrap();
        assert_eq!(e.method, Some(Method::Paper));
        assert_eq!(e.effective_at.unwrap().as_millis(), 0);
        assert_eq!(e.validity_from.unwrap().as_millis(), 1_000);
        assert_eq!(e.recorded_by, Actor::subject());
    }
}
