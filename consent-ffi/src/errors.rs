//! The library's version, the last error of the calling thread (code, message, array
//! index), and freeing the strings it returns. The result codes themselves are
//! `boundary`'s.

use std::ffi::c_char;

use crate::*;

/// Major version of the library this header belongs to.
pub const CONSENT_VERSION_MAJOR: u32 = 0;

/// Minor version of the library this header belongs to.
pub const CONSENT_VERSION_MINOR: u32 = 2;

/// Patch version of the library this header belongs to.
pub const CONSENT_VERSION_PATCH: u32 = 0;

/// "No element": what [`consent_last_error_index`] returns when the last call did not
/// fail on one element of an array argument. (In the header it is `SIZE_MAX`, written
/// by `cbindgen.toml`: cbindgen cannot spell `usize::MAX`.)
///
/// cbindgen:ignore
pub const CONSENT_INDEX_NONE: usize = usize::MAX;

/// The library version, e.g. "0.2.0". Static: do not free.
///
/// Errors: none (it cannot fail).
#[no_mangle]
pub extern "C" fn consent_version() -> *const c_char {
    const V: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    V.as_ptr().cast()
}

/// The name of a result code, e.g. "CONSENT_RESULT_CLOSED" ("CONSENT_RESULT_UNKNOWN_CODE"
/// for a number that is not a code). Static: do not free.
///
/// Errors: none (it cannot fail).
#[no_mangle]
pub extern "C" fn consent_result_name(code: i32) -> *const c_char {
    // These cannot panic; the boundary is there so that no entry point goes without one.
    std::panic::catch_unwind(|| consent_result::name(code).as_ptr()).unwrap_or(c"".as_ptr())
}

/// The result of the last call made on this thread (`CONSENT_RESULT_OK` after a success).
///
/// Errors: none (it cannot fail).
#[no_mangle]
pub extern "C" fn consent_last_error_code() -> consent_result {
    std::panic::catch_unwind(boundary::last_error_code).unwrap_or(consent_result::Panic)
}

/// The index of the element of an array argument the last failed call on this thread
/// was about (`events[i]` of [`consent_append_many`], `questions[i]` of
/// [`consent_status_get_many`], ...; the message names it too), or [`CONSENT_INDEX_NONE`]
/// when the call succeeded or its error was not about one element (a NULL array, a
/// busy ledger).
///
/// Errors: none (it cannot fail).
#[no_mangle]
pub extern "C" fn consent_last_error_index() -> usize {
    std::panic::catch_unwind(boundary::last_error_index)
        .ok()
        .flatten()
        .unwrap_or(CONSENT_INDEX_NONE)
}

/// Copies the message of the last failed call on this thread ("" after a success) into
/// `buf`, NUL-terminated and cut at a character boundary if `len` is too small.
/// Returns the buffer size the whole message needs, NUL included; nothing is written
/// when `buf` is NULL or `len` is 0 (call once that way to size the buffer).
///
/// Errors: none (it cannot fail).
#[no_mangle]
pub unsafe extern "C" fn consent_last_error_message(buf: *mut c_char, len: usize) -> usize {
    std::panic::catch_unwind(|| boundary::last_error_message(buf, len)).unwrap_or(0)
}

/// Frees a string this library returned as `char *` (JSON). NULL is fine; never twice.
///
/// Errors: none (a void function; NULL is fine).
#[no_mangle]
pub unsafe extern "C" fn consent_string_free(s: *mut c_char) {
    if s.is_null() {
        return;
    }
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: the caller passes a string from `CString::into_raw` in this library.
        drop(unsafe { std::ffi::CString::from_raw(s) });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_constants_match_cargo() {
        assert_eq!(
            CONSENT_VERSION_MAJOR.to_string(),
            env!("CARGO_PKG_VERSION_MAJOR")
        );
        assert_eq!(
            CONSENT_VERSION_MINOR.to_string(),
            env!("CARGO_PKG_VERSION_MINOR")
        );
        assert_eq!(
            CONSENT_VERSION_PATCH.to_string(),
            env!("CARGO_PKG_VERSION_PATCH")
        );
        let v = unsafe { std::ffi::CStr::from_ptr(consent_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }
}
