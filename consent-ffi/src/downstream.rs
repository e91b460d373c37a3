//! Downstream systems (docs/FORMAT.md §13): registering one, its filtered feed as
//! typed items, acknowledgements, and the deadlines it has met or missed.

use std::ffi::c_char;
use std::time::Duration;

use consent_core::{Ack, Acknowledgement, DeadlineState, DownstreamDef, Feed, FeedItem};
use serde_json::json;

use crate::boundary::{
    fixed_text, guard, json_out, ledger_arg, opt_out_arg, out_arg, str_arg, time_arg, time_out,
    write_opt_out, write_out, FfiError, FfiResult,
};
use crate::owned::{free_page, owned_page, Arena};
use crate::{
    actor_arg, consent_event_ref, consent_ledger, consent_result, uuid_arg, Writer,
    CONSENT_EVENT_ID_LEN,
};

/// Bytes of an event kind's name and its NUL in a `consent_feed_item`.
pub const CONSENT_KIND_LEN: usize = 32;
/// The `since` of `consent_feed` that continues after the downstream's highest
/// acknowledged seq (its cursor, kept in the ledger), or from the start of the log.
pub const CONSENT_FEED_CURSOR: u64 = u64::MAX;

/// One item of a downstream's feed: what it needs to act, nothing more. The strings
/// belong to the `consent_feed_page` and live until `consent_feed_page_free`.
#[repr(C)]
pub struct consent_feed_item {
    /// Position in the log: what an acknowledgement names.
    pub seq: u64,
    /// The event id (a UUID, NUL-terminated).
    pub id: [c_char; CONSENT_EVENT_ID_LEN],
    /// The kind's name (`given`, `withdrawn`, ..., or `subject_erased`), NUL-terminated.
    pub kind: [c_char; CONSENT_KIND_LEN],
    /// The subject, or NULL once erased (and on an erasure item).
    pub subject: *const c_char,
    /// The purpose, or NULL on an erasure item.
    pub purpose: *const c_char,
    /// The recipient named, or NULL (purpose-wide).
    pub recipient: *const c_char,
    /// When it happened.
    pub effective_at_ms: i64,
    /// When the ledger learnt it.
    pub recorded_at_ms: i64,
    /// When a grant lapses, or `CONSENT_TIME_ABSENT`.
    pub expires_at_ms: i64,
    /// For a withdrawal, revocation or objection: its legal effect deadline as
    /// recorded (effective time + the purpose's effect delay); else
    /// `CONSENT_TIME_ABSENT`.
    pub effect_deadline_ms: i64,
    /// For a withdrawal, revocation or objection: when the downstream must have acted
    /// (the effect deadline, or for an event entered late the same delay after the
    /// ledger learnt it: what `consent_deadlines_json` judges by); else
    /// `CONSENT_TIME_ABSENT`.
    pub act_by_ms: i64,
    /// Whether the subject's personal fields were erased.
    pub erased: bool,
    /// On an erasure item: the seqs of the events of this feed that were erased (delete
    /// what you hold from them; the subject is not named). NULL when none.
    pub erased_seqs: *const u64,
    /// How many seqs `erased_seqs` holds.
    pub n_erased_seqs: usize,
}

/// A page of a downstream's feed, from `consent_feed`; release it with
/// `consent_feed_page_free`. The library allocates it, so it may grow at the end
/// within a SONAME (consent.h, "Growing the ABI"); never copy it by value.
#[repr(C)]
pub struct consent_feed_page {
    /// Where this page started.
    pub since: u64,
    /// Where the next page starts: pass it as `since` to continue.
    pub next: u64,
    /// The log's size when it was read.
    pub size: u64,
    /// The items, in log order (NULL when none).
    pub items: *const consent_feed_item,
    /// How many items.
    pub n_items: usize,
}

fn owned_feed(feed: &Feed) -> FfiResult<*mut consent_feed_page> {
    let mut arena = Arena::default();
    let items = feed
        .items
        .iter()
        .map(|i| item(i, &mut arena))
        .collect::<FfiResult<Vec<_>>>()?;
    Ok(owned_page(items, arena, |items, n_items| {
        consent_feed_page {
            since: feed.since,
            next: feed.next,
            size: feed.size,
            items,
            n_items,
        }
    }))
}

fn item(i: &FeedItem, arena: &mut Arena) -> FfiResult<consent_feed_item> {
    let (erased_seqs, n_erased_seqs) = arena.seqs(&i.erased_seqs);
    Ok(consent_feed_item {
        seq: i.seq,
        id: fixed_text(&i.id.hyphenated().to_string()),
        kind: fixed_text(i.kind.as_str()),
        subject: arena.text(i.subject.as_deref())?,
        purpose: arena.text(i.purpose.as_deref())?,
        recipient: arena.text(i.recipient.as_deref())?,
        effective_at_ms: i.effective_at.as_millis(),
        recorded_at_ms: i.recorded_at.as_millis(),
        expires_at_ms: time_out(i.expires_at),
        effect_deadline_ms: time_out(i.effect_deadline),
        act_by_ms: time_out(i.act_by),
        erased: i.erased,
        erased_seqs,
        n_erased_seqs,
    })
}

/// Registers a downstream system, or a new version of it, from a JSON object
/// `{"id", "name", "controller", "purposes": [...], "recipient"}` (`recipient`
/// optional; any other key is refused), recorded by `recorded_by` (`staff:ID` or `system:ID`; NULL is refused).
/// Registering it unchanged appends nothing. Writes the version now registered as JSON
/// to `*out_json` (free it with `consent_string_free`), and to `*out_is_new` whether
/// this call appended it (false: the same definition was already current); NULL = not
/// wanted. Refused: an
/// unknown purpose (`CONSENT_RESULT_UNKNOWN_PURPOSE`), a recipient a purpose does not
/// list (`CONSENT_RESULT_UNKNOWN_RECIPIENT`), malformed JSON or ids.
///
/// Errors: malformed JSON or ids, or a NULL `recorded_by`,
/// `CONSENT_RESULT_INVALID_ARGUMENT`; an unknown purpose
/// `CONSENT_RESULT_UNKNOWN_PURPOSE`; a recipient a purpose does not list
/// `CONSENT_RESULT_UNKNOWN_RECIPIENT`.
#[no_mangle]
pub unsafe extern "C" fn consent_register_downstream_json(
    ledger: *const consent_ledger,
    def_json: *const c_char,
    recorded_by: *const c_char,
    out_json: *mut *mut c_char,
    out_is_new: *mut bool,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let text = unsafe { str_arg(def_json, "def_json") }?;
        let by = unsafe { actor_arg(recorded_by, "recorded_by") }?;
        let out = opt_out_arg(out_json, "out_json")?;
        let out_is_new = opt_out_arg(out_is_new, "out_is_new")?;
        let mut def: DownstreamDef = serde_json::from_str(text).map_err(|e| {
            FfiError::invalid(format!(
                "argument `def_json` is not a downstream definition: {e}"
            ))
        })?;
        def.retired = false;
        let registered = Writer::Ledger(ledger).register_downstream(def, by)?;
        if let Some(o) = out {
            unsafe { json_out(o, &registered.value) }?;
        }
        unsafe { write_opt_out(out_is_new, registered.new) };
        Ok(())
    })
}

/// Retires the downstream `id`: its feed shows no new grant from now on, only the
/// withdrawals and erasures of grants it was shown (it still holds their data).
/// `CONSENT_RESULT_NOT_FOUND` when it is not registered.
///
/// Errors: a downstream not registered `CONSENT_RESULT_NOT_FOUND`.
#[no_mangle]
pub unsafe extern "C" fn consent_retire_downstream(
    ledger: *const consent_ledger,
    id: *const c_char,
    recorded_by: *const c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let id = unsafe { str_arg(id, "id") }?;
        let by = unsafe { actor_arg(recorded_by, "recorded_by") }?;
        ledger.retire_downstream(id, by)?;
        Ok(())
    })
}

/// The current version of every registered downstream as a JSON array, written to
/// `*out_json`; free with `consent_string_free`.
///
/// Errors: the common ones only.
#[no_mangle]
pub unsafe extern "C" fn consent_downstreams_json(
    ledger: *const consent_ledger,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let out = out_arg(out_json, "out_json")?;
        unsafe { json_out(out, &ledger.downstreams()?) }
    })
}

/// One downstream as JSON `{"id", "versions": [...], "cursor": SEQ|null,
/// "acknowledgements": [...]}`, written to `*out_json`; free with
/// `consent_string_free`. `CONSENT_RESULT_NOT_FOUND` when it is not registered.
///
/// Errors: a downstream not registered `CONSENT_RESULT_NOT_FOUND`.
#[no_mangle]
pub unsafe extern "C" fn consent_downstream_json(
    ledger: *const consent_ledger,
    id: *const c_char,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let id = unsafe { str_arg(id, "id") }?;
        let out = out_arg(out_json, "out_json")?;
        let versions = ledger.downstream_versions(id)?;
        let acks = ledger.acknowledgements(id)?;
        let cursor = consent_core::feed_cursor(&acks);
        unsafe {
            json_out(
                out,
                &json!({"id": id, "versions": versions, "cursor": cursor, "acknowledgements": acks}),
            )
        }
    })
}

fn ack_ref(a: &Acknowledgement) -> consent_event_ref {
    consent_event_ref {
        id: fixed_text(&a.id.hyphenated().to_string()),
        seq: a.seq,
        effective_at_ms: a.recorded_at.as_millis(),
        recorded_at_ms: a.recorded_at.as_millis(),
        expires_at_ms: time_out(None),
        effect_deadline_ms: time_out(None),
        is_new: true,
    }
}

unsafe fn acknowledge(
    ledger: *const consent_ledger,
    downstream: *const c_char,
    what: impl FnOnce() -> FfiResult<Ack>,
    recorded_by: *const c_char,
    out: *mut consent_event_ref,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let downstream = unsafe { str_arg(downstream, "downstream") }?;
        let by = unsafe { actor_arg(recorded_by, "recorded_by") }?;
        let out = opt_out_arg(out, "out")?;
        let done = ledger.acknowledge(downstream, what()?, by)?;
        if let Some(o) = out {
            unsafe { write_out(o, ack_ref(&done)) };
        }
        Ok(())
    })
}

/// Records that `downstream` acted on every event of its feed with a seq up to `up_to`
/// (inclusive), recorded by `recorded_by` (`staff:ID` or `system:ID`). Its feed then
/// continues after `up_to` (`CONSENT_FEED_CURSOR`). Writes the acknowledgement's
/// event to `*out` when it is not NULL. Refused, with nothing written: an unknown
/// downstream (`CONSENT_RESULT_NOT_FOUND`), an `up_to` beyond the log
/// (`CONSENT_RESULT_INVALID_ARGUMENT`).
///
/// Errors: an unknown downstream `CONSENT_RESULT_NOT_FOUND`; an `up_to` beyond the log
/// `CONSENT_RESULT_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn consent_acknowledge_up_to(
    ledger: *const consent_ledger,
    downstream: *const c_char,
    up_to: u64,
    recorded_by: *const c_char,
    out: *mut consent_event_ref,
) -> consent_result {
    unsafe {
        acknowledge(
            ledger,
            downstream,
            || Ok(Ack::UpTo(up_to)),
            recorded_by,
            out,
        )
    }
}

/// Records that `downstream` acted on the one event `event_id` of its feed. Refused,
/// with nothing written: an unknown downstream or event (`CONSENT_RESULT_NOT_FOUND`),
/// an event its feed never showed (`CONSENT_RESULT_INVALID_ARGUMENT`).
///
/// Errors: an unknown downstream or event `CONSENT_RESULT_NOT_FOUND`; an event its feed
/// never showed, or an id that is not a UUID, `CONSENT_RESULT_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn consent_acknowledge_event(
    ledger: *const consent_ledger,
    downstream: *const c_char,
    event_id: *const c_char,
    recorded_by: *const c_char,
    out: *mut consent_event_ref,
) -> consent_result {
    unsafe {
        acknowledge(
            ledger,
            downstream,
            || {
                let text = str_arg(event_id, "event_id")?;
                Ok(Ack::Event(uuid_arg(text, "event_id")?))
            },
            recorded_by,
            out,
        )
    }
}

/// A page of at most `limit` items of `downstream`'s feed from seq `since` on
/// (`CONSENT_FEED_CURSOR`: right after its highest acknowledged seq), written to
/// `*out`; release it with `consent_feed_page_free`. Only the grants of its purposes
/// (and recipient), the withdrawals, revocations, invalidations and objections that
/// follow a grant it showed, and erasure items listing the erased seqs of its feed.
/// With `wait_ms` > 0 and no item yet, waits up to that long for one (polling the
/// log's size with a growing pause); the page may still be empty. `limit` 0 is
/// `CONSENT_RESULT_INVALID_ARGUMENT`.
///
/// Errors: an unknown downstream `CONSENT_RESULT_NOT_FOUND`; `limit` 0
/// `CONSENT_RESULT_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn consent_feed(
    ledger: *const consent_ledger,
    downstream: *const c_char,
    since: u64,
    limit: usize,
    wait_ms: u64,
    out: *mut *mut consent_feed_page,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let downstream = unsafe { str_arg(downstream, "downstream") }?;
        let out = out_arg(out, "out")?;
        let since = (since != CONSENT_FEED_CURSOR).then_some(since);
        let page = if wait_ms == 0 {
            ledger.feed(downstream, since, limit)?
        } else {
            ledger.feed_wait(downstream, since, limit, Duration::from_millis(wait_ms))?
        };
        let p = owned_feed(&page)?;
        unsafe { write_out(out, p) };
        Ok(())
    })
}

/// Releases a page from `consent_feed`. NULL is fine; never twice.
///
/// Errors: none (a void function; NULL is fine).
#[no_mangle]
pub unsafe extern "C" fn consent_feed_page_free(feed: *mut consent_feed_page) {
    unsafe { free_page::<consent_feed_page, consent_feed_item>(feed) }
}

/// Every deadline of every downstream's feed, as known at `at_ms`
/// (`CONSENT_TIME_ABSENT`: now), as a JSON array of `{"downstream", "seq", "event_id",
/// "kind", "purpose", "recipient", "deadline", "state" (pending, overdue, acknowledged,
/// acknowledged_late), "acknowledged_seq", "acknowledged_at", "late_by_secs"}`,
/// written to `*out_json`; free with `consent_string_free`.
///
/// Errors: a time out of range `CONSENT_RESULT_INVALID_TIME`.
#[no_mangle]
pub unsafe extern "C" fn consent_deadlines_json(
    ledger: *const consent_ledger,
    at_ms: i64,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let at = time_arg(at_ms, "at_ms")?;
        let out = out_arg(out_json, "out_json")?;
        unsafe { json_out(out, &ledger.deadlines(at)?) }
    })
}

/// How many deadlines are overdue (passed without the downstream's acknowledgement)
/// and pending, as known at `at_ms` (`CONSENT_TIME_ABSENT`: now): for monitoring.
///
/// Errors: a time out of range `CONSENT_RESULT_INVALID_TIME`.
#[no_mangle]
pub unsafe extern "C" fn consent_overdue_count(
    ledger: *const consent_ledger,
    at_ms: i64,
    out_overdue: *mut usize,
    out_pending: *mut usize,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let at = time_arg(at_ms, "at_ms")?;
        let overdue_out = out_arg(out_overdue, "out_overdue")?;
        let pending_out = opt_out_arg(out_pending, "out_pending")?;
        let all = ledger.deadlines(at)?;
        let count = |s| all.iter().filter(|d| d.state == s).count();
        unsafe { write_out(overdue_out, count(DeadlineState::Overdue)) };
        if let Some(p) = pending_out {
            unsafe { write_out(p, count(DeadlineState::Pending)) };
        }
        Ok(())
    })
}
