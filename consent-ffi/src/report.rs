//! The data-protection officer's report as data (`consent report --json`), for C
//! callers that feed a warehouse or draw their own charts.

use std::ffi::c_char;

use consent_core::ReportRange;

use crate::boundary::json_out;
use crate::boundary::{guard, ledger_arg, out_arg, time_arg};
use crate::{consent_ledger, consent_result};

/// The data-protection officer's figures for `[from_ms, to_ms)` (`CONSENT_TIME_ABSENT`:
/// from the start of the local month of the first event; up to now) as JSON, the
/// document `consent report --json` prints: the state of each consent purpose per
/// period, grants and withdrawals per month, special-category consents, the
/// downstream deadlines, erasures, and the verification with the latest signed
/// checkpoint. Written to `*out_json`; free with [`consent_string_free`]. An empty range
/// (`from_ms` not before `to_ms`) is `CONSENT_RESULT_INVALID_ARGUMENT`; a time outside the
/// years 1..9999 `CONSENT_RESULT_INVALID_TIME`. It recomputes every hash (a full
/// `verify`): seconds on a ledger of millions of events.
///
/// Errors: an empty range (`from_ms` not before `to_ms`)
/// `CONSENT_RESULT_INVALID_ARGUMENT`; a time out of range
/// `CONSENT_RESULT_INVALID_TIME`.
///
/// [`consent_string_free`]: crate::consent_string_free
#[no_mangle]
pub unsafe extern "C" fn consent_report_json(
    ledger: *const consent_ledger,
    from_ms: i64,
    to_ms: i64,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let out = out_arg(out_json, "out_json")?;
        let range = ReportRange {
            from: time_arg(from_ms, "from_ms")?,
            to: time_arg(to_ms, "to_ms")?,
        };
        unsafe { json_out(out, &ledger.report(range)?) }
    })
}
