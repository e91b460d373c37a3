//! The registry: purposes (and their versions), privacy notices, and a registry file loaded
//! whole.

use std::ffi::c_char;

use consent_core::{NoticeDef, PurposeDef};

use crate::boundary::{
    guard, json_out, ledger_arg, opt_out_arg, out_arg, path_arg, str_arg, str_array_arg,
    write_opt_out, FfiError, FfiResult,
};
use crate::*;

/// [`consent_register_purpose_json`] and [`consent_batch_register_purpose_json`].
pub(crate) unsafe fn register_purpose_json(
    to: Writer<'_>,
    purpose_json: *const c_char,
    out_version: *mut u32,
    out_is_new: *mut bool,
) -> FfiResult<()> {
    let text = unsafe { str_arg(purpose_json, "purpose_json") }?;
    let out = opt_out_arg(out_version, "out_version")?;
    let out_is_new = opt_out_arg(out_is_new, "out_is_new")?;
    let def: PurposeDef = serde_json::from_str(text).map_err(|e| {
        FfiError::invalid(format!("`purpose_json` is not a purpose definition: {e}"))
    })?;
    let registered = to.register_purpose(def)?;
    unsafe { write_opt_out(out, registered.value.version) };
    unsafe { write_opt_out(out_is_new, registered.new) };
    Ok(())
}

/// [`consent_register_notice_json`] and [`consent_batch_register_notice_json`].
pub(crate) unsafe fn register_notice_json(
    to: Writer<'_>,
    notice_json: *const c_char,
    out_is_new: *mut bool,
) -> FfiResult<()> {
    let text = unsafe { str_arg(notice_json, "notice_json") }?;
    let out_is_new = opt_out_arg(out_is_new, "out_is_new")?;
    let def: NoticeDef = serde_json::from_str(text)
        .map_err(|e| FfiError::invalid(format!("`notice_json` is not a notice definition: {e}")))?;
    let registered = to.register_notice(def)?;
    unsafe { write_opt_out(out_is_new, registered.new) };
    Ok(())
}

/// [`consent_register_notice_text`] and [`consent_batch_register_notice_text`].
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn register_notice_text(
    to: Writer<'_>,
    id: *const c_char,
    version: *const c_char,
    title: *const c_char,
    text: *const c_char,
    controller: *const c_char,
    purposes: *const *const c_char,
    n_purposes: usize,
    out_is_new: *mut bool,
) -> FfiResult<()> {
    let id = unsafe { str_arg(id, "id") }?;
    let version = unsafe { str_arg(version, "version") }?;
    let title = unsafe { str_arg(title, "title") }?;
    let text = unsafe { str_arg(text, "text") }?;
    let controller = unsafe { str_arg(controller, "controller") }?;
    let purposes = unsafe { str_array_arg(purposes, n_purposes, "purposes") }?;
    let out_is_new = opt_out_arg(out_is_new, "out_is_new")?;
    let registered = to.register_notice(
        NoticeDef::from_text(id, version, title, text).covering(controller, purposes),
    )?;
    unsafe { write_opt_out(out_is_new, registered.new) };
    Ok(())
}

/// Registers a purpose (or a new version of it) from its JSON definition, e.g.
/// `{"id":"jmsu.marketing","title":"Marketing","controller":"JMSU","lawful_basis":"a",
/// "special_category":null,"validity":{"kind":"academic_year"},"effect_delay_secs":0,
/// "withdrawal_method":"My LJMU","recipients":[],"renew_consent":false}` (`lawful_basis`
/// is the Art. 6(1) letter; `special_category` an Art. 9(2) letter; `validity.kind` is
/// `none`, `days` (with `days`), `academic_year` (with optional `end_month`/`end_day`,
/// ending at local midnight in the ledger's time zone) or `course_year` (one year from
/// the grant's `validity_from_ms`, else its effective time, to local midnight);
/// `recipients` are the ids events and questions may
/// name, spelt exactly). An unchanged definition appends nothing. A new version that
/// changes the lawful basis or the controller, makes the data special-category, adds a
/// recipient, or sets `renew_consent` is a material change: earlier grants then answer
/// `CONSENT_STATE_NEEDS_RENEWAL`. Writes the version in force to `*out_version`, and to
/// `*out_is_new` whether this call appended it (false: the same definition was already
/// current and nothing was written); NULL = not wanted.
///
/// Errors: malformed JSON or an invalid definition `CONSENT_RESULT_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn consent_register_purpose_json(
    ledger: *const consent_ledger,
    purpose_json: *const c_char,
    out_version: *mut u32,
    out_is_new: *mut bool,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        unsafe {
            register_purpose_json(
                Writer::Ledger(ledger),
                purpose_json,
                out_version,
                out_is_new,
            )
        }
    })
}

/// Registers a privacy notice from its JSON definition:
/// `{"id":"jmsu.privacy","version":"2024-09","language":"en-GB","sha256":"<64 hex>",
/// "title":"JMSU privacy notice","url":"https://...","controller":"JMSU",
/// "purposes":["jmsu.marketing","jmsu.project.*"]}` (`language` and `url` optional).
/// `controller` and `purposes` (ids, or a prefix ending in `.*`) are required: without
/// them the notice is `CONSENT_RESULT_INVALID_ARGUMENT`. A grant, refusal or
/// notice_served naming a notice that does not cover its purpose is
/// `CONSENT_RESULT_INVALID_CONSENT`. The same id and version with another hash is
/// `CONSENT_RESULT_CONFLICT`. Registering it again unchanged appends nothing. Writes to
/// `*out_is_new` whether this call appended it (NULL = not wanted).
///
/// Errors: malformed JSON, or a notice without `controller` or `purposes`,
/// `CONSENT_RESULT_INVALID_ARGUMENT`; the same id and version with another hash
/// `CONSENT_RESULT_CONFLICT`.
#[no_mangle]
pub unsafe extern "C" fn consent_register_notice_json(
    ledger: *const consent_ledger,
    notice_json: *const c_char,
    out_is_new: *mut bool,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        unsafe { register_notice_json(Writer::Ledger(ledger), notice_json, out_is_new) }
    })
}

/// Registers a privacy notice whose SHA-256 is computed from `text`, the exact text
/// shown (language "en-GB", no URL), published by `controller`, covering the
/// `n_purposes` purposes at `purposes` (ids, or a prefix ending in `.*` such as
/// `jmsu.project.*`; at least one, else `CONSENT_RESULT_INVALID_ARGUMENT`).
/// Registering it again unchanged appends nothing. Writes to `*out_is_new` whether this
/// call appended it (NULL = not wanted).
///
/// Errors: no purpose, or an invalid id, `CONSENT_RESULT_INVALID_ARGUMENT`; the same id
/// and version with another text `CONSENT_RESULT_CONFLICT`.
#[no_mangle]
pub unsafe extern "C" fn consent_register_notice_text(
    ledger: *const consent_ledger,
    id: *const c_char,
    version: *const c_char,
    title: *const c_char,
    text: *const c_char,
    controller: *const c_char,
    purposes: *const *const c_char,
    n_purposes: usize,
    out_is_new: *mut bool,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        unsafe {
            register_notice_text(
                Writer::Ledger(ledger),
                id,
                version,
                title,
                text,
                controller,
                purposes,
                n_purposes,
                out_is_new,
            )
        }
    })
}

/// A version of a purpose as JSON (its definition plus `version`, `seq`,
/// `registered_at`): `version` (from 1), or 0 for the current one; written to
/// `*out_json`; free with [`consent_string_free`].
///
/// Errors: a purpose never registered is `CONSENT_RESULT_UNKNOWN_PURPOSE`; a version
/// it does not have `CONSENT_RESULT_NOT_FOUND`.
#[no_mangle]
pub unsafe extern "C" fn consent_purpose_json(
    ledger: *const consent_ledger,
    purpose: *const c_char,
    version: u32,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let purpose = unsafe { str_arg(purpose, "purpose") }?;
        let out = out_arg(out_json, "out_json")?;
        let found = match version {
            0 => ledger.purpose(purpose)?,
            v => ledger.purpose_version(purpose, v)?,
        };
        unsafe { json_out(out, &found) }
    })
}

/// One notice, `id` at `version` (what a status or an event names), as JSON (its
/// definition, as [`consent_register_notice_json`] takes it, plus `seq` and
/// `registered_at`), written to `*out_json`; free with [`consent_string_free`].
///
/// Errors: an id and version not registered is `CONSENT_RESULT_UNKNOWN_NOTICE`.
#[no_mangle]
pub unsafe extern "C" fn consent_notice_json(
    ledger: *const consent_ledger,
    id: *const c_char,
    version: *const c_char,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let id = unsafe { str_arg(id, "id") }?;
        let version = unsafe { str_arg(version, "version") }?;
        let out = out_arg(out_json, "out_json")?;
        unsafe { json_out(out, &ledger.notice(id, version)?) }
    })
}

/// Every version of every purpose as a JSON array, written to `*out_json`; free with
/// [`consent_string_free`].
///
/// Errors: the common ones only.
#[no_mangle]
pub unsafe extern "C" fn consent_purposes_json(
    ledger: *const consent_ledger,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let out = out_arg(out_json, "out_json")?;
        unsafe { json_out(out, &ledger.purposes()?) }
    })
}

/// Every registered notice as a JSON array, written to `*out_json`; free with
/// [`consent_string_free`].
///
/// Errors: the common ones only.
#[no_mangle]
pub unsafe extern "C" fn consent_notices_json(
    ledger: *const consent_ledger,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let out = out_arg(out_json, "out_json")?;
        unsafe { json_out(out, &ledger.notices()?) }
    })
}

/// Loads the registry file at `path` (TOML: `[[notice]]` and `[[purpose]]` tables, as
/// `examples/ljmu/registry.toml`; a notice gives its hash as `sha256`, as a `text_file`
/// to hash, or both) into the ledger: every notice, then every purpose, in one batch,
/// all of them or none. Definitions the ledger already holds append nothing (loading
/// twice is harmless); a changed purpose gets a new version. The notices' `text_file`s
/// are read from the folder `texts_dir`, where every text named must then be readable,
/// or (NULL) from the registry's own folder, where a missing text leaves the stated
/// `sha256` unchecked. A text that does not hash to the stated `sha256`, or a notice
/// version already registered with another text, is `CONSENT_RESULT_CONFLICT`; a file
/// that cannot be read `CONSENT_RESULT_IO`; malformed TOML, an unknown field or an
/// invalid entry `CONSENT_RESULT_INVALID_ARGUMENT`; messages name the entry. On Unix
/// both paths are taken as bytes. Writes the report as JSON to `*out_report_json`
/// (NULL = not wanted; free with [`consent_string_free`]): `{"entries":[{"kind":
/// "notice","id":..,"notice_version":..,"sha256":..,"hash":"checked"|"computed"|
/// "unchecked","new":true,"seq":N},{"kind":"purpose","id":..,"purpose_version":N,
/// "new":false,"seq":N},..]}` (`new`: whether this load appended its event). A
/// downstream retired since is skipped, never reactivated: its entry has `"new":false`
/// and `"note":"retired, not reactivated"`.
///
/// Errors: a text that does not hash to its `sha256`, or a notice version registered
/// with another text, `CONSENT_RESULT_CONFLICT`; a file that cannot be read
/// `CONSENT_RESULT_IO`; malformed TOML, an unknown field or an invalid entry
/// `CONSENT_RESULT_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn consent_registry_load(
    ledger: *const consent_ledger,
    path: *const c_char,
    texts_dir: *const c_char,
    out_report_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let path = unsafe { path_arg(path, "path") }?;
        let texts = if texts_dir.is_null() {
            None
        } else {
            Some(unsafe { path_arg(texts_dir, "texts_dir") }?)
        };
        let out = opt_out_arg(out_report_json, "out_report_json")?;
        let registry = consent_core::Registry::from_file(path, texts)?;
        let report = ledger.load_registry(&registry)?;
        match out {
            Some(out) => unsafe { json_out(out, &report) },
            None => Ok(()),
        }
    })
}
