//! A ledger handle and its options: open, close, free, and what a handle can say about its
//! ledger (simulated, time zone).

use std::collections::HashMap;
use std::ffi::{c_char, c_void, CString};
use std::ptr::NonNull;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use consent_core::{KeySource, Ledger, LedgerOptions, Synchronous, Timestamp};

use crate::boundary::{
    copy_to_buffer, guard, ledger_arg, opt_str_arg, out_arg, path_arg, ref_arg, write_out,
    FfiError, FfiResult,
};
use crate::*;

/// Bytes of a pseudonym key ([`consent_options::pseudonym_key`]).
pub const CONSENT_KEY_LEN: usize = 32;

/// Bytes always enough for a ledger's time-zone name and its NUL
/// ([`consent_ledger_time_zone`]): every IANA name is shorter.
pub const CONSENT_TIME_ZONE_LEN: usize = 64;

/// An open ledger. Opaque; share it between threads freely.
pub struct consent_ledger {
    /// Shared with the batches begun on it, which keep it open.
    pub(crate) ledger: Arc<Ledger>,
    /// The notice ids and versions its statuses point at.
    pub(crate) names: Names,
}

/// Texts a handle hands out as `const char *` valid until `consent_ledger_free`: the
/// notice ids and versions of a `consent_status`, so that a status needs no free of its
/// own. Each text is kept once, so the set is bounded by the notices the registry
/// holds; a `CString`'s buffer never moves, so a pointer handed out stays valid. Keyed
/// by the Rust text, so that a status naming a notice already kept allocates nothing.
#[derive(Default)]
pub(crate) struct Names(Mutex<HashMap<Box<str>, CString>>);

impl Names {
    /// The handle's copy of `text`.
    pub(crate) fn get(&self, text: &str) -> FfiResult<*const c_char> {
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(c) = kept.get(text) {
            return Ok(c.as_ptr());
        }
        let c = CString::new(text).map_err(|_| FfiError::invalid("a name holds a NUL byte"))?;
        let p = c.as_ptr();
        kept.insert(text.into(), c);
        Ok(p)
    }
}

/// Options for [`consent_ledger_open`]. Fill with [`consent_options_init`] first, then
/// change what you need; NULL options mean the defaults. Its layout is fixed for a
/// SONAME (consent.h, "Growing the ABI").
#[repr(C)]
pub struct consent_options {
    /// A `consent_synchronous` value (default `CONSENT_SYNCHRONOUS_FULL`).
    pub synchronous: i32,
    /// How long to wait for another writer's lock, in ms (default 30000; negative means
    /// the default; at most `INT32_MAX`). In PostgreSQL also the connection's timeout
    /// (at most 30 s).
    pub busy_timeout_ms: i64,
    /// Open read-only: no writes, no schema creation (default false).
    pub read_only: bool,
    /// Create a new ledger when the path does not exist or is an empty file (default
    /// true). Programs that only read or check a ledger pass false, so that a mistyped
    /// path is `CONSENT_RESULT_NOT_FOUND` and an empty file `CONSENT_RESULT_NOT_A_LEDGER`
    /// instead of a new, empty ledger that answers "never asked" for everyone.
    pub create: bool,
    /// A simulated clock: "now" in ms since the epoch, or NULL for the system clock
    /// (default). Only for simulations (tests, demos, replays): a ledger *created*
    /// with a clock (a new file, or in memory) is a simulation for good, says so in its
    /// hashed first event and in `consent_verify_report.simulated`, and may be reopened
    /// with a clock; opening a real ledger (created without one) with a clock is
    /// `CONSENT_RESULT_INVALID_ARGUMENT`. Called from any thread that uses the ledger,
    /// with the ledger locked: it must be thread-safe and must not call this library.
    /// Results outside the supported range are clamped. A simulation's record times
    /// are what its clock says, even earlier than the last one (a real ledger's never
    /// go backwards).
    pub clock: Option<unsafe extern "C" fn(context: *mut c_void) -> i64>,
    /// Passed to `clock`; must stay valid until the ledger is freed.
    pub clock_context: *mut c_void,
    /// Where the pseudonym key comes from: a `consent_key_source` value (default
    /// `CONSENT_KEY_SOURCE_BESIDE`, the file `<ledger path>.key`; a ledger in
    /// PostgreSQL needs `CONSENT_KEY_SOURCE_FILE` or `CONSENT_KEY_SOURCE_BYTES`).
    pub pseudonym_key_source: i32,
    /// With `CONSENT_KEY_SOURCE_FILE`: the key file's path (NUL-terminated, read only
    /// during the open). Must be NULL with any other source.
    pub pseudonym_key_path: *const c_char,
    /// With `CONSENT_KEY_SOURCE_BYTES`: the key. Ignored with any other source.
    pub pseudonym_key: [u8; CONSENT_KEY_LEN],
    /// How long [`consent_erase_subject`] keeps retrying to complete an erasure while
    /// another connection holds an old snapshot, in ms (default 2000; negative means
    /// the default).
    pub erasure_wait_ms: i64,
    /// The institution's time zone, an IANA name such as "Europe/London"
    /// (NUL-terminated, read only during the open), or NULL for the default. A new
    /// ledger commits to it (default "Europe/London") in its first, hashed event:
    /// academic years end at local midnight there. Opening an existing ledger with
    /// another zone is `CONSENT_RESULT_INVALID_ARGUMENT`; NULL opens it with its own
    /// ([`consent_ledger_time_zone`]).
    pub time_zone: *const c_char,
}

/// A thread-safe wrapper for a C clock callback.
struct CClock {
    f: unsafe extern "C" fn(*mut c_void) -> i64,
    context: *mut c_void,
}

// SAFETY: the header requires the callback and its context to be usable from any thread.
unsafe impl Send for CClock {}
// SAFETY: as above.
unsafe impl Sync for CClock {}

impl CClock {
    fn now(&self) -> Timestamp {
        // SAFETY: the caller gave a valid function pointer and context.
        let ms = unsafe { (self.f)(self.context) };
        Timestamp::from_millis(ms.clamp(CONSENT_TIME_MIN, CONSENT_TIME_MAX))
            .unwrap_or_else(|_| Timestamp::now())
    }
}

/// The core options of C options (NULL = the defaults).
///
/// # Safety
/// `o.pseudonym_key_path` is NULL or a NUL-terminated string.
pub(crate) unsafe fn core_options(o: Option<&consent_options>) -> FfiResult<LedgerOptions> {
    let mut opts = LedgerOptions::default();
    if let Some(o) = o {
        opts.synchronous = match o.synchronous {
            0 => Synchronous::Full,
            1 => Synchronous::Normal,
            v => {
                return Err(FfiError::invalid(format!(
                    "`options.synchronous` {v} is not a consent_synchronous"
                )))
            }
        };
        if o.busy_timeout_ms > i64::from(i32::MAX) {
            // SQLite takes the timeout as a C int of milliseconds (about 24.8 days).
            return Err(FfiError::invalid(format!(
                "`options.busy_timeout_ms` {} is above the maximum {}",
                o.busy_timeout_ms,
                i32::MAX
            )));
        }
        if o.busy_timeout_ms >= 0 {
            opts.busy_timeout = Duration::from_millis(o.busy_timeout_ms as u64);
        }
        opts.read_only = o.read_only;
        opts.create = o.create;
        if let Some(f) = o.clock {
            let clock = CClock {
                f,
                context: o.clock_context,
            };
            opts.clock = Some(Arc::new(move || clock.now()));
        }
        let path = unsafe { opt_str_arg(o.pseudonym_key_path, "options.pseudonym_key_path") }?;
        opts.pseudonym_key = match (o.pseudonym_key_source, path) {
            (0, None) => KeySource::Beside,
            (1, Some("")) => {
                return Err(FfiError::invalid(
                    "`options.pseudonym_key_path` is empty",
                ))
            }
            (1, Some(path)) => KeySource::File(path.into()),
            (1, None) => {
                return Err(FfiError::new(
                    consent_result::NullArgument,
                    "`options.pseudonym_key_path` is NULL but the key source is CONSENT_KEY_SOURCE_FILE",
                ))
            }
            (2, None) => KeySource::Bytes(o.pseudonym_key),
            (3, None) => KeySource::None,
            (0 | 2 | 3, Some(_)) => {
                return Err(FfiError::invalid(
                    "`options.pseudonym_key_path` is set but the key source is not CONSENT_KEY_SOURCE_FILE",
                ))
            }
            (v, _) => {
                return Err(FfiError::invalid(format!(
                    "`options.pseudonym_key_source` {v} is not a consent_key_source"
                )))
            }
        };
        if o.erasure_wait_ms >= 0 {
            opts.erasure_wait = Duration::from_millis(o.erasure_wait_ms as u64);
        }
        opts.time_zone = unsafe { opt_str_arg(o.time_zone, "options.time_zone") }?.map(Into::into);
    }
    Ok(opts)
}

/// The options argument of the open functions: NULL means the defaults.
///
/// # Safety
/// `options` is NULL or points at a valid `consent_options`.
pub(crate) unsafe fn options_arg(options: *const consent_options) -> FfiResult<LedgerOptions> {
    let options = if options.is_null() {
        None
    } else {
        Some(unsafe { ref_arg(options, "options") }?)
    };
    unsafe { core_options(options) }
}

pub(crate) fn handle_out(out: NonNull<*mut consent_ledger>, ledger: Ledger) {
    let handle = Box::into_raw(Box::new(consent_ledger {
        ledger: Arc::new(ledger),
        names: Names::default(),
    }));
    // SAFETY: `out` was checked by `out_arg`.
    unsafe { write_out(out, handle) };
}

/// Fills `out` with the default options: full durability, 30 s busy timeout,
/// read-write, create when missing, system clock, the key file beside the ledger,
/// 2 s erasure wait, the default time zone (NULL: Europe/London for a new ledger).
///
/// Errors: a NULL `out` `CONSENT_RESULT_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn consent_options_init(out: *mut consent_options) -> consent_result {
    guard(|| {
        let out = out_arg(out, "out")?;
        let value = consent_options {
            synchronous: consent_synchronous::Full as i32,
            busy_timeout_ms: 30_000,
            read_only: false,
            create: true,
            clock: None,
            clock_context: std::ptr::null_mut(),
            pseudonym_key_source: consent_key_source::Beside as i32,
            pseudonym_key_path: std::ptr::null(),
            pseudonym_key: [0; CONSENT_KEY_LEN],
            erasure_wait_ms: 2_000,
            time_zone: std::ptr::null(),
        };
        unsafe { write_out(out, value) };
        Ok(())
    })
}

/// Opens (or creates) the ledger file at `path` with `options` (NULL = defaults) and
/// writes the handle to `*out`. On Unix the path is taken as bytes; elsewhere it must
/// be UTF-8. A new ledger is created only when the path does not exist or is an empty
/// file, and `create` is true; its pseudonym key file is created with it (see
/// [`consent_options::pseudonym_key_source`]). A missing path with `create` false or
/// `read_only` true is `CONSENT_RESULT_NOT_FOUND`; an empty file then, or a file that
/// is not a consent ledger, is `CONSENT_RESULT_NOT_A_LEDGER` (left unchanged); a
/// ledger whose schema was altered is `CONSENT_RESULT_CORRUPT`; a missing or different
/// key is `CONSENT_RESULT_KEY`. The writer lock file `<path>-lock` is created beside it.
///
/// `path` may instead be a PostgreSQL URL, `postgresql://user@host/db?schema=name`
/// (libpq's form; `host=/socket/dir` for a Unix socket; `schema` defaults to
/// `consent`): the ledger then lives in that schema, shared by every host and handle
/// that opens it, and no file is made (docs/POSTGRES.md). Its pseudonym key must be
/// given as a file or as bytes (`CONSENT_KEY_SOURCE_BESIDE` is `CONSENT_RESULT_KEY`:
/// nothing lies beside a database). A schema name that is not lower-case letters,
/// digits and `_` is `CONSENT_RESULT_INVALID_ARGUMENT`; a server that cannot be
/// reached (an unknown host, no socket, refused credentials) is
/// `CONSENT_RESULT_STORAGE`, within `busy_timeout_ms` (at most 30 s); an empty schema
/// with `create` false or `read_only` true is `CONSENT_RESULT_NOT_FOUND`, one holding
/// other tables `CONSENT_RESULT_NOT_A_LEDGER`. Messages never show the URL's password.
///
/// Errors: those above (`CONSENT_RESULT_NOT_FOUND`, `CONSENT_RESULT_NOT_A_LEDGER`,
/// `CONSENT_RESULT_CORRUPT`, `CONSENT_RESULT_KEY`, `CONSENT_RESULT_STORAGE`); options
/// out of range, or a clock on a real ledger, `CONSENT_RESULT_INVALID_ARGUMENT`; a file
/// of a newer version `CONSENT_RESULT_SCHEMA_TOO_NEW`; a read-only folder
/// `CONSENT_RESULT_READ_ONLY`.
#[no_mangle]
pub unsafe extern "C" fn consent_ledger_open(
    path: *const c_char,
    options: *const consent_options,
    out: *mut *mut consent_ledger,
) -> consent_result {
    guard(|| {
        if path.is_null() {
            return Err(FfiError::new(
                consent_result::NullArgument,
                "argument `path` is NULL",
            ));
        }
        let out = out_arg(out, "out")?;
        let opts = unsafe { options_arg(options) }?;
        let path = unsafe { path_arg(path, "path") }?;
        let ledger = Ledger::open_with(path, opts)?;
        handle_out(out, ledger);
        Ok(())
    })
}

/// Creates a ledger that lives in memory only (tests, examples), with `options`
/// (NULL = defaults; `clock` makes it a simulation, the key source may be
/// `CONSENT_KEY_SOURCE_BESIDE` (a random key) or `CONSENT_KEY_SOURCE_BYTES`), and
/// writes the handle to `*out`.
///
/// Errors: options out of range, or a key file as the key source,
/// `CONSENT_RESULT_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn consent_ledger_open_in_memory(
    options: *const consent_options,
    out: *mut *mut consent_ledger,
) -> consent_result {
    guard(|| {
        let out = out_arg(out, "out")?;
        let opts = unsafe { options_arg(options) }?;
        if matches!(opts.pseudonym_key, KeySource::File(_)) {
            return Err(FfiError::invalid(
                "a ledger in memory has no key file: use CONSENT_KEY_SOURCE_BESIDE (a random key) or CONSENT_KEY_SOURCE_BYTES",
            ));
        }
        let ledger = Ledger::in_memory_with(opts)?;
        handle_out(out, ledger);
        Ok(())
    })
}

/// Closes the ledger: an open batch is rolled back and the file is released. Later
/// calls on the handle (and on its batches) return `CONSENT_RESULT_CLOSED`; closing
/// twice is fine. The handle must still be freed with [`consent_ledger_free`].
///
/// Errors: none of its own: closing twice is fine.
#[no_mangle]
pub unsafe extern "C" fn consent_ledger_close(ledger: *const consent_ledger) -> consent_result {
    guard(|| Ok(unsafe { ledger_arg(ledger) }?.close()?))
}

/// Frees a ledger handle, closing the ledger unless a batch begun on it has not been
/// freed yet (the batch keeps it open; the last of them to be freed closes it). NULL
/// is fine; never twice, and no call may use the handle afterwards (or be running on
/// another thread meanwhile).
///
/// Errors: none (a void function; NULL is fine).
#[no_mangle]
pub unsafe extern "C" fn consent_ledger_free(ledger: *mut consent_ledger) {
    if ledger.is_null() {
        return;
    }
    let _ = guard(|| {
        // SAFETY: a handle from `consent_ledger_open*`, freed once, by contract.
        let handle = unsafe { Box::from_raw(ledger) };
        if let Some(ledger) = Arc::into_inner(handle.ledger) {
            let _ = ledger.close();
        }
        Ok(())
    });
}

/// Whether the ledger was created as a simulation (with a clock, see
/// [`consent_options::clock`]), written to `*out`.
///
/// Errors: the common ones only.
#[no_mangle]
pub unsafe extern "C" fn consent_ledger_is_simulated(
    ledger: *const consent_ledger,
    out: *mut bool,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let out = out_arg(out, "out")?;
        let simulated = ledger.is_simulated()?;
        unsafe { write_out(out, simulated) };
        Ok(())
    })
}

/// Writes the ledger's time zone (an IANA name such as "Europe/London", committed to
/// when the ledger was created) and a NUL into `buf` of `len` bytes
/// (`CONSENT_TIME_ZONE_LEN` is always enough); `CONSENT_RESULT_BUFFER_TOO_SMALL` (and
/// nothing written) if it does not fit. Academic years end at local midnight there.
///
/// Errors: a buffer too small `CONSENT_RESULT_BUFFER_TOO_SMALL` (nothing written).
#[no_mangle]
pub unsafe extern "C" fn consent_ledger_time_zone(
    ledger: *const consent_ledger,
    buf: *mut c_char,
    len: usize,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        if buf.is_null() {
            return Err(FfiError::new(
                consent_result::NullArgument,
                "argument `buf` is NULL",
            ));
        }
        let zone = ledger.time_zone()?;
        if zone.len() + 1 > len {
            return Err(FfiError::new(
                consent_result::BufferTooSmall,
                format!(
                    "the time zone needs {} bytes, the buffer has {len}",
                    zone.len() + 1
                ),
            ));
        }
        copy_to_buffer(&zone, buf, len);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_options() -> consent_options {
        let mut o = std::mem::MaybeUninit::<consent_options>::uninit();
        assert_eq!(
            unsafe { consent_options_init(o.as_mut_ptr()) },
            consent_result::Ok
        );
        unsafe { o.assume_init() }
    }

    #[test]
    fn options_map_to_the_core() {
        let mut o = default_options();
        let core = unsafe { core_options(Some(&o)) }.unwrap();
        assert_eq!(core.pseudonym_key, KeySource::Beside);
        assert_eq!(core.erasure_wait, Duration::from_secs(2));
        assert!(core.create && !core.read_only && core.clock.is_none());
        assert_eq!(core.time_zone, None);
        o.time_zone = c"America/New_York".as_ptr();
        let core = unsafe { core_options(Some(&o)) }.unwrap();
        assert_eq!(core.time_zone.as_deref(), Some("America/New_York"));
        o.time_zone = std::ptr::null();

        o.pseudonym_key_source = consent_key_source::Bytes as i32;
        o.pseudonym_key = [7; CONSENT_KEY_LEN];
        o.erasure_wait_ms = 0;
        let core = unsafe { core_options(Some(&o)) }.unwrap();
        assert_eq!(core.pseudonym_key, KeySource::Bytes([7; 32]));
        assert_eq!(core.erasure_wait, Duration::ZERO);

        o.pseudonym_key_source = consent_key_source::File as i32;
        let err = |o: &consent_options| unsafe { core_options(Some(o)) }.unwrap_err().code;
        assert_eq!(err(&o), consent_result::NullArgument);
        o.pseudonym_key_path = c"".as_ptr();
        assert_eq!(err(&o), consent_result::InvalidArgument);
        o.pseudonym_key_path = c"/keys/ledger.key".as_ptr();
        assert_eq!(
            unsafe { core_options(Some(&o)) }.unwrap().pseudonym_key,
            KeySource::File("/keys/ledger.key".into())
        );
        for other in [
            consent_key_source::Beside,
            consent_key_source::Bytes,
            consent_key_source::None,
        ] {
            o.pseudonym_key_source = other as i32;
            assert_eq!(
                err(&o),
                consent_result::InvalidArgument,
                "{other:?} with a path"
            );
        }
        o.pseudonym_key_path = std::ptr::null();
        o.pseudonym_key_source = consent_key_source::None as i32;
        assert_eq!(
            unsafe { core_options(Some(&o)) }.unwrap().pseudonym_key,
            KeySource::None
        );
        o.pseudonym_key_source = 4;
        assert_eq!(err(&o), consent_result::InvalidArgument);
        o.pseudonym_key_source = -1;
        assert_eq!(err(&o), consent_result::InvalidArgument);
    }
}
