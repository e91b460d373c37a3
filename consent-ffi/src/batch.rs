//! Batches: appends that land together or not at all, on a handle of their own.

use std::ffi::c_char;
use std::sync::{Arc, Mutex, PoisonError};

use consent_core::{BatchToken, Ledger};

use crate::boundary::{
    array_arg, guard, opt_out_array_arg, out_arg, ref_arg, write_out, ArgName, FfiError, FfiResult,
};
use crate::*;

/// An open batch on a ledger, from [`consent_batch_begin`]. Opaque. Appends made
/// through it land together on [`consent_batch_commit`] or not at all. It keeps its
/// ledger open (even after [`consent_ledger_free`]) until [`consent_batch_free`].
pub struct consent_batch {
    ledger: Arc<Ledger>,
    /// `None` once committed or rolled back. The lock makes a batch handle safe to use
    /// from any thread, one call at a time.
    token: Mutex<Option<BatchToken>>,
}

impl Drop for consent_batch {
    fn drop(&mut self) {
        // A batch still open when its handle goes away is rolled back, never left
        // holding the ledger.
        let token = self
            .token
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(token) = token {
            let _ = self.ledger.rollback_batch(token);
        }
    }
}

/// Runs `f` with the open batch behind `batch` (`CONSENT_RESULT_BATCH` once it has
/// ended). The batch's lock is held meanwhile: calls on one batch handle are serialised.
///
/// # Safety
/// `batch` is NULL or a handle from [`consent_batch_begin`] not yet freed.
pub(crate) unsafe fn with_batch<T>(
    batch: *const consent_batch,
    f: impl FnOnce(Writer<'_>) -> FfiResult<T>,
) -> FfiResult<T> {
    let batch = unsafe { ref_arg(batch, "batch") }?;
    let token = batch.token.lock().unwrap_or_else(PoisonError::into_inner);
    let token = token.as_ref().ok_or_else(batch_ended)?;
    f(Writer::Batch(&batch.ledger, token))
}

pub(crate) fn batch_ended() -> FfiError {
    FfiError::new(
        consent_result::Batch,
        "the batch has already been committed or rolled back",
    )
}

/// Ends the batch behind `batch`: commits it or rolls it back.
///
/// # Safety
/// As [`with_batch`].
pub(crate) unsafe fn end_batch(batch: *const consent_batch, commit: bool) -> FfiResult<()> {
    let batch = unsafe { ref_arg(batch, "batch") }?;
    let token = batch
        .token
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
        .ok_or_else(batch_ended)?;
    if commit {
        Ok(batch.ledger.commit_batch(token)?)
    } else {
        Ok(batch.ledger.rollback_batch(token)?)
    }
}

/// Begins a batch on `ledger` and writes its handle to `*out`: every append made
/// through it ([`consent_batch_append`], [`consent_batch_register_purpose_json`], ...)
/// lands together on [`consent_batch_commit`], or not at all on
/// [`consent_batch_rollback`] or [`consent_batch_free`]. The batch is its handle's, not
/// the ledger's: while it is open, calls on the ledger from other threads (and other
/// processes' writes) wait for it to end (at most the busy timeout, then
/// `CONSENT_RESULT_BUSY`) and never join it, so a rollback undoes only the batch's own
/// appends; a call on the ledger from the thread that began the batch is
/// `CONSENT_RESULT_BATCH` (make it through the batch, or end the batch first), and so
/// is a second batch begun on that thread. Keep batches short. The batch handle may be
/// used from any thread, one call at a time, and keeps the ledger open until it is
/// freed.
///
/// Errors: a batch already open on this thread `CONSENT_RESULT_BATCH`; another writer
/// holding the lock past the busy timeout `CONSENT_RESULT_BUSY`.
#[no_mangle]
pub unsafe extern "C" fn consent_batch_begin(
    ledger: *const consent_ledger,
    out: *mut *mut consent_batch,
) -> consent_result {
    guard(|| {
        let handle = unsafe { ref_arg(ledger, "ledger") }?;
        let out = out_arg(out, "out")?;
        let token = handle.ledger.begin_batch()?;
        let batch = Box::new(consent_batch {
            ledger: Arc::clone(&handle.ledger),
            token: Mutex::new(Some(token)),
        });
        unsafe { write_out(out, Box::into_raw(batch)) };
        Ok(())
    })
}

/// [`consent_append`] inside the batch: checked against the consent rules as they
/// stand with the batch's earlier appends; writes what was recorded to `*out` (NULL =
/// not wanted). It lands only when the batch is committed. A failed append leaves the
/// batch as it was.
///
/// Errors: as `consent_append`; a batch that has ended `CONSENT_RESULT_BATCH`.
#[no_mangle]
pub unsafe extern "C" fn consent_batch_append(
    batch: *mut consent_batch,
    params: *const consent_event_params,
    out: *mut consent_event_ref,
) -> consent_result {
    guard(|| unsafe { with_batch(batch, |to| append_params(to, params, out)) })
}

/// [`consent_append_many`] inside the batch, as [`consent_batch_append`] called on
/// `events[0]`, `events[1]`, ... in turn, stopping at the first that fails: the events
/// before it stay in the batch, and [`consent_last_error_index`] (and the message) says
/// which failed. (The batch, not this call, is what lands or not: roll it back to drop
/// them.) On success writes what was recorded to `out[0..n]` (NULL = not wanted). `n` =
/// 0 does nothing.
///
/// Errors: as `consent_append_many`; a batch that has ended `CONSENT_RESULT_BATCH`.
#[no_mangle]
pub unsafe extern "C" fn consent_batch_append_many(
    batch: *mut consent_batch,
    events: *const consent_event_params,
    n: usize,
    out: *mut consent_event_ref,
) -> consent_result {
    guard(|| unsafe {
        with_batch(batch, |to| {
            let params = array_arg(events, n, "events")?;
            let out = opt_out_array_arg(out, n, "out")?;
            let mut recorded = Vec::new();
            for (i, p) in params.iter().enumerate() {
                let at = ArgName::element("events", i);
                let appended = to
                    .append(new_event(p, at)?)
                    .map_err(|e| FfiError::from(e).about(at))?;
                if out.is_some() {
                    recorded.push(appended_ref(&appended));
                }
            }
            if let Some(out) = out {
                out.write(recorded);
            }
            Ok(())
        })
    })
}

/// [`consent_register_purpose_json`] inside the batch: `*out_is_new` is false when the
/// same definition is already current, counting what the batch itself registered.
///
/// Errors: as `consent_register_purpose_json`; a batch that has ended
/// `CONSENT_RESULT_BATCH`.
#[no_mangle]
pub unsafe extern "C" fn consent_batch_register_purpose_json(
    batch: *mut consent_batch,
    purpose_json: *const c_char,
    out_version: *mut u32,
    out_is_new: *mut bool,
) -> consent_result {
    guard(|| unsafe {
        with_batch(batch, |to| {
            register_purpose_json(to, purpose_json, out_version, out_is_new)
        })
    })
}

/// [`consent_register_notice_json`] inside the batch.
///
/// Errors: as `consent_register_notice_json`; a batch that has ended
/// `CONSENT_RESULT_BATCH`.
#[no_mangle]
pub unsafe extern "C" fn consent_batch_register_notice_json(
    batch: *mut consent_batch,
    notice_json: *const c_char,
    out_is_new: *mut bool,
) -> consent_result {
    guard(|| unsafe {
        with_batch(batch, |to| {
            register_notice_json(to, notice_json, out_is_new)
        })
    })
}

/// [`consent_register_notice_text`] inside the batch.
///
/// Errors: as `consent_register_notice_text`; a batch that has ended
/// `CONSENT_RESULT_BATCH`.
#[no_mangle]
pub unsafe extern "C" fn consent_batch_register_notice_text(
    batch: *mut consent_batch,
    id: *const c_char,
    version: *const c_char,
    title: *const c_char,
    text: *const c_char,
    controller: *const c_char,
    purposes: *const *const c_char,
    n_purposes: usize,
    out_is_new: *mut bool,
) -> consent_result {
    guard(|| unsafe {
        with_batch(batch, |to| {
            register_notice_text(
                to, id, version, title, text, controller, purposes, n_purposes, out_is_new,
            )
        })
    })
}

/// The head as it would be if the batch were committed now (its appends included),
/// written to `*out`.
///
/// Errors: a batch that has ended `CONSENT_RESULT_BATCH`.
#[no_mangle]
pub unsafe extern "C" fn consent_batch_get_head(
    batch: *mut consent_batch,
    out: *mut consent_head,
) -> consent_result {
    guard(|| unsafe { with_batch(batch, |from| head_into(from, out)) })
}

/// Commits the batch: all of its appends land, or (on an error) none of them. Either
/// way the batch has ended: later calls on it return `CONSENT_RESULT_BATCH`, and the
/// handle must still be freed with [`consent_batch_free`].
///
/// Errors: a batch that has ended, or was aborted by a failed write (then nothing
/// lands), `CONSENT_RESULT_BATCH`; a failed commit is the storage's error, and nothing
/// of the batch lands.
#[no_mangle]
pub unsafe extern "C" fn consent_batch_commit(batch: *mut consent_batch) -> consent_result {
    guard(|| unsafe { end_batch(batch, true) })
}

/// Rolls the batch back: none of its appends land. The batch has ended: later calls on
/// it return `CONSENT_RESULT_BATCH`, and the handle must still be freed with
/// [`consent_batch_free`].
///
/// Errors: a batch that has ended `CONSENT_RESULT_BATCH`.
#[no_mangle]
pub unsafe extern "C" fn consent_batch_rollback(batch: *mut consent_batch) -> consent_result {
    guard(|| unsafe { end_batch(batch, false) })
}

/// Frees a batch handle, rolling the batch back if it is still open (and closing the
/// ledger if its handle was already freed). NULL is fine; never twice, and no call may
/// use the handle afterwards (or be running on another thread meanwhile).
///
/// Errors: none (a void function; NULL is fine).
#[no_mangle]
pub unsafe extern "C" fn consent_batch_free(batch: *mut consent_batch) {
    if batch.is_null() {
        return;
    }
    let _ = guard(|| {
        // SAFETY: a handle from `consent_batch_begin`, freed once, by contract. Its
        // `Drop` rolls an open batch back.
        let batch = unsafe { Box::from_raw(batch) };
        drop(batch);
        Ok(())
    });
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_batch_handle_owns_its_batch() {
        let mut ledger = std::ptr::null_mut();
        assert_eq!(
            unsafe { consent_ledger_open_in_memory(std::ptr::null(), &mut ledger) },
            consent_result::Ok
        );
        let size = |l| {
            let mut h = consent_head {
                size: 0,
                root: [0; 32],
            };
            assert_eq!(unsafe { consent_get_head(l, &mut h) }, consent_result::Ok);
            h.size
        };
        assert_eq!(size(ledger), 1);
        let mut batch = std::ptr::null_mut();
        assert_eq!(
            unsafe { consent_batch_begin(ledger, &mut batch) },
            consent_result::Ok
        );
        let purpose = c"{\"id\":\"p\",\"title\":\"P\",\"controller\":\"C\",\"lawful_basis\":\"a\"}";
        assert_eq!(
            unsafe {
                consent_batch_register_purpose_json(
                    batch,
                    purpose.as_ptr(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                )
            },
            consent_result::Ok
        );
        // Another thread's call waits for the batch, then lands on its own.
        let shared = ledger as usize;
        let other = std::thread::spawn(move || unsafe {
            consent_withdraw(
                shared as *const consent_ledger,
                c"s-1".as_ptr(),
                c"p".as_ptr(),
                std::ptr::null(),
                std::ptr::null(),
                CONSENT_TIME_ABSENT,
                std::ptr::null_mut(),
            )
        });
        std::thread::sleep(Duration::from_millis(50));
        assert!(!other.is_finished());
        unsafe { consent_batch_free(batch) }; // rolls back: the purpose goes
        assert_eq!(other.join().unwrap(), consent_result::UnknownPurpose);
        assert_eq!(size(ledger), 1);
        unsafe { consent_ledger_free(ledger) };
    }
}
