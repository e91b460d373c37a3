//! The two backends from C (docs/POSTGRES.md): a ledger copied, as stored, between a
//! file and a PostgreSQL schema (`consent_ledger_copy_to`), and the SQL that grants a
//! PostgreSQL role its access to a ledger's schema (`consent_grants_sql`). Opening a
//! ledger in PostgreSQL needs nothing of its own: `consent_ledger_open` takes its URL.

use std::ffi::c_char;

use consent_core::{grants_sql, Access};

use crate::boundary::{
    copy_to_buffer, guard, ledger_arg, opt_out_arg, path_arg, str_arg, write_out, FfiError,
};
use crate::{consent_head, consent_ledger, consent_options, consent_result, head_out, options_arg};

/// What a PostgreSQL role may do with a ledger (the `access` of `consent_grants_sql`;
/// docs/POSTGRES.md "Roles").
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum consent_access {
    /// Read everything: status, history, proofs, verification.
    Read = 1,
    /// Read, and append: INSERT into the log's tables, never UPDATE, DELETE or
    /// TRUNCATE of an event.
    Append = 2,
    /// Append, and erase and readmit subjects (through the one function that blanks a
    /// subject's events).
    Erase = 3,
}

/// Bytes always enough for the SQL of `consent_grants_sql` and its NUL (a schema and
/// a role of at most 63 bytes each, PostgreSQL's longest names).
pub const CONSENT_GRANTS_SQL_LEN: usize = 2048;

/// PostgreSQL's longest name in bytes: a longer one is cut there by the server, which
/// would grant to another role than the one named.
const NAME_MAX: usize = 63;

fn access_arg(v: i32) -> Result<Access, FfiError> {
    match v {
        1 => Ok(Access::Read),
        2 => Ok(Access::Append),
        3 => Ok(Access::Erase),
        _ => Err(FfiError::invalid(format!(
            "`access` {v} is not a consent_access"
        ))),
    }
}

/// Copies the ledger, as stored, into a new ledger at `dest`: a file path or a
/// PostgreSQL URL (`postgresql://user@host/db?schema=name`), so that a file's ledger
/// moves into PostgreSQL, or a PostgreSQL ledger into a file that the independent
/// checker of docs/FORMAT.md reads. Every event, registry row, materialized row,
/// erasure marker and signed checkpoint is copied from one snapshot; the copy rebuilds
/// its tree and is kept only if its head equals the source's, which is written to
/// `*out_head` (NULL = not wanted). `options` (NULL = the defaults) open the
/// destination: its `synchronous` and `busy_timeout_ms` apply; a new file gets no key
/// file and a copy needs none (it is the same pseudonym key as the source's, kept
/// where the institution keeps it). `dest` already holding a ledger is
/// `CONSENT_RESULT_CONFLICT`, holding anything else (a file of another kind, a schema
/// with other tables) `CONSENT_RESULT_NOT_A_LEDGER`; either is left as it was. A copy
/// whose head differs is `CONSENT_RESULT_CORRUPT` and leaves nothing in a PostgreSQL
/// destination. On Unix a file path is taken as bytes.
///
/// Errors: as `consent_ledger_open` for `dest`; `dest` already holding a ledger
/// `CONSENT_RESULT_CONFLICT`, holding anything else `CONSENT_RESULT_NOT_A_LEDGER`; a
/// copy whose head differs `CONSENT_RESULT_CORRUPT`.
#[no_mangle]
pub unsafe extern "C" fn consent_ledger_copy_to(
    ledger: *const consent_ledger,
    dest: *const c_char,
    options: *const consent_options,
    out_head: *mut consent_head,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let dest = unsafe { path_arg(dest, "dest") }?;
        let opts = unsafe { options_arg(options) }?;
        let out = opt_out_arg(out_head, "out_head")?;
        let report = ledger.copy_to(dest, &opts)?;
        if let Some(out) = out {
            unsafe { write_out(out, head_out(&report.head)) };
        }
        Ok(())
    })
}

/// Writes the SQL that grants the existing PostgreSQL role `role` `access` (a
/// `consent_access` value) to the ledger in the schema `schema`, and a NUL, into
/// `buf` of `len` bytes (`CONSENT_GRANTS_SQL_LEN` is always enough;
/// `CONSENT_RESULT_BUFFER_TOO_SMALL` and nothing written when it does not fit). The
/// schema's owner runs it (`psql -f`). A schema name that is not lower-case letters,
/// digits and `_`, a role name with other characters than letters, digits and `_` or
/// longer than 63 bytes, or another `access` is `CONSENT_RESULT_INVALID_ARGUMENT`.
///
/// Errors: a schema or role name that is not lower-case letters, digits and `_` (or
/// longer than 63 bytes), or an access that is not a `consent_access`,
/// `CONSENT_RESULT_INVALID_ARGUMENT`; a buffer too small
/// `CONSENT_RESULT_BUFFER_TOO_SMALL`.
#[no_mangle]
pub unsafe extern "C" fn consent_grants_sql(
    schema: *const c_char,
    role: *const c_char,
    access: i32,
    buf: *mut c_char,
    len: usize,
) -> consent_result {
    guard(|| {
        let schema = unsafe { str_arg(schema, "schema") }?;
        let role = unsafe { str_arg(role, "role") }?;
        let access = access_arg(access)?;
        if buf.is_null() {
            return Err(FfiError::new(
                consent_result::NullArgument,
                "argument `buf` is NULL",
            ));
        }
        if role.len() > NAME_MAX {
            return Err(FfiError::invalid(format!(
                "role: {} bytes, PostgreSQL's names are at most {NAME_MAX}",
                role.len()
            )));
        }
        let sql = grants_sql(schema, role, access)?;
        if sql.len() + 1 > len {
            return Err(FfiError::new(
                consent_result::BufferTooSmall,
                format!(
                    "the SQL needs {} bytes, the buffer has {len}",
                    sql.len() + 1
                ),
            ));
        }
        copy_to_buffer(&sql, buf, len);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn the_longest_grants_fit_the_documented_buffer() {
        let name = "a".repeat(NAME_MAX);
        let sql = grants_sql(&name, &name, Access::Erase).unwrap();
        assert!(sql.len() < CONSENT_GRANTS_SQL_LEN, "{}", sql.len());
        let mut buf = vec![0 as c_char; CONSENT_GRANTS_SQL_LEN];
        let schema = std::ffi::CString::new(name.clone()).unwrap();
        let code = unsafe {
            consent_grants_sql(
                schema.as_ptr(),
                schema.as_ptr(),
                3,
                buf.as_mut_ptr(),
                buf.len(),
            )
        };
        assert_eq!(code, consent_result::Ok);
        let text = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap();
        assert_eq!(text, sql);
    }

    #[test]
    fn every_access_has_its_value() {
        for (value, access) in [
            (consent_access::Read, Access::Read),
            (consent_access::Append, Access::Append),
            (consent_access::Erase, Access::Erase),
        ] {
            assert_eq!(access_arg(value as i32).unwrap(), access);
        }
        for bad in [0, 4, -1] {
            assert_eq!(
                access_arg(bad).unwrap_err().code,
                consent_result::InvalidArgument
            );
        }
    }
}
