//! Signing keys and signed checkpoints (issue 13, docs/FORMAT.md §11): key files, a
//! checkpoint signed with the log's key and kept by the ledger, a note checked against
//! the ledger, every stored checkpoint verified.
//!
//! Notes are variable-length documents: they come out as owned strings (freed with
//! [`consent_string_free`](crate::consent_string_free)), like the JSON answers. A
//! verifier key is short and bounded by its name: it goes into a caller buffer.

use std::ffi::c_char;

use consent_core::consent_note::VerifierKey;
use consent_core::{
    generate_signing_key_file, parse_verifier_key, read_signing_key_file, CheckpointFinding,
    CheckpointVerdict, CheckpointsReport, KeyRole, SignedHead,
};
use serde_json::json;

use crate::boundary::{
    copy_to_buffer, fixed_text, guard, ledger_arg, opt_out_arg, out_arg, owned_json, owned_string,
    path_arg, str_arg, str_array_arg, write_out, ArgName, FfiError, FfiResult,
};
use crate::{consent_head, consent_ledger, consent_result, CONSENT_PROBLEM_LEN};

/// Bytes a verifier key needs besides its name: `+`, the 8 hex digits of the key id,
/// `+`, 44 base64 characters, and the NUL. A buffer of `strlen(name) +
/// CONSENT_VKEY_OVERHEAD` bytes always holds the key `consent_key_generate` writes.
pub const CONSENT_VKEY_OVERHEAD: usize = 55;

/// What a signing key signs with (the `role` of `consent_key_generate` and
/// `consent_key_verifier`).
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum consent_key_role {
    /// The ledger's own key: signs checkpoints (Ed25519, signed-note type 0x01). Its
    /// name is the log's origin, e.g. `ljmu.ac.uk/consent`.
    Log = 1,
    /// A witness's key: cosigns checkpoints it has checked (cosignature/v1, type 0x04),
    /// e.g. `dpo.ljmu.ac.uk/witness`.
    Witness = 2,
}

/// How a ledger fails an authentic checkpoint ([`consent_checkpoint_verdict::finding`]).
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum consent_checkpoint_finding {
    /// The ledger holds the checkpoint.
    None = 0,
    /// The ledger has fewer events than the checkpoint: its tail was removed.
    Truncated = 1,
    /// The ledger's root at the checkpoint's size differs: an event before that size
    /// was changed, removed or inserted and the tree recomputed.
    Rewritten = 2,
}

/// What `consent_checkpoint_check` found for an authentic checkpoint (signed by the
/// log key, with the quorum of cosignatures). A checkpoint the ledger no longer holds
/// is not an error: the call succeeds with `holds` false.
#[repr(C)]
pub struct consent_checkpoint_verdict {
    /// Whether the ledger holds the checkpoint: it has at least its size, and its root
    /// at that size is the checkpoint's.
    pub holds: bool,
    /// Why not, when it does not.
    pub finding: consent_checkpoint_finding,
    /// The size and root the checkpoint states.
    pub checkpoint: consent_head,
    /// The number of events in the ledger now.
    pub ledger_size: u64,
    /// Cosignatures counted towards the quorum: one per distinct trusted witness.
    pub cosignatures: usize,
    /// The finding in words ("" when it holds), NUL-terminated, cut to fit.
    pub problem: [c_char; CONSENT_PROBLEM_LEN],
}

/// What `consent_verify_checkpoints` found. A checkpoint that does not hold is not an
/// error: the call succeeds with `ok` false and the first failing size named.
#[repr(C)]
pub struct consent_checkpoints_report {
    /// Whether every stored checkpoint holds.
    pub ok: bool,
    /// The number of events in the ledger.
    pub ledger_size: u64,
    /// Stored checkpoints checked, the failing one included.
    pub checked: u64,
    /// Whether `first_bad_size` is set.
    pub has_first_bad_size: bool,
    /// The smallest stored size that does not hold.
    pub first_bad_size: u64,
    /// Whether `last_good_size` is set.
    pub has_last_good_size: bool,
    /// The largest stored size that holds, below the first that does not.
    pub last_good_size: u64,
    /// Why the first failing checkpoint does not hold ("" when ok), cut to fit.
    pub problem: [c_char; CONSENT_PROBLEM_LEN],
}

// ---- conversions -----------------------------------------------------------------------

pub(crate) fn key_role(v: i32) -> FfiResult<KeyRole> {
    match v {
        1 => Ok(KeyRole::Log),
        2 => Ok(KeyRole::Witness),
        _ => Err(FfiError::invalid(format!(
            "`role` {v} is not a consent_key_role"
        ))),
    }
}

/// A required verifier-key string argument.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string.
pub(crate) unsafe fn vkey_arg(p: *const c_char, name: &'static str) -> FfiResult<VerifierKey> {
    let text = unsafe { str_arg(p, name) }?;
    parse_verifier_key(text).map_err(|e| FfiError::from(e).about(ArgName::whole(name)))
}

/// A required array of `n` verifier-key strings (NULL only when `n` is 0).
///
/// # Safety
/// As [`str_array_arg`].
pub(crate) unsafe fn vkeys_arg(
    p: *const *const c_char,
    n: usize,
    name: &'static str,
) -> FfiResult<Vec<VerifierKey>> {
    let texts = unsafe { str_array_arg(p, n, name) }?;
    texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            parse_verifier_key(text).map_err(|e| FfiError::from(e).about(ArgName::element(name, i)))
        })
        .collect()
}

fn head_of(checkpoint: &consent_core::consent_note::Checkpoint) -> consent_head {
    consent_head {
        size: checkpoint.size,
        root: checkpoint.root,
    }
}

fn verdict_out(v: &CheckpointVerdict) -> consent_checkpoint_verdict {
    consent_checkpoint_verdict {
        holds: v.holds(),
        finding: match v.finding {
            None => consent_checkpoint_finding::None,
            Some(CheckpointFinding::Truncated { .. }) => consent_checkpoint_finding::Truncated,
            Some(CheckpointFinding::Rewritten { .. }) => consent_checkpoint_finding::Rewritten,
            // A finding this build does not name: not holding, said in `problem`.
            Some(_) => consent_checkpoint_finding::Rewritten,
        },
        checkpoint: head_of(&v.checkpoint),
        ledger_size: v.ledger_size,
        cosignatures: v.witnesses.len(),
        problem: fixed_text(
            &v.finding
                .as_ref()
                .map(|f| f.to_string())
                .unwrap_or_default(),
        ),
    }
}

fn checkpoints_report_out(r: &CheckpointsReport) -> consent_checkpoints_report {
    consent_checkpoints_report {
        ok: r.ok,
        ledger_size: r.ledger_size,
        checked: r.checked,
        has_first_bad_size: r.first_bad_size.is_some(),
        first_bad_size: r.first_bad_size.unwrap_or(0),
        has_last_good_size: r.last_good_size.is_some(),
        last_good_size: r.last_good_size.unwrap_or(0),
        problem: fixed_text(r.problem.as_deref().unwrap_or("")),
    }
}

/// A stored checkpoint as JSON: `origin`, `size`, `root` (hex, as a head), `note`.
pub(crate) fn signed_head_json(s: &SignedHead) -> serde_json::Value {
    json!({
        "origin": s.checkpoint.origin,
        "size": s.checkpoint.size,
        "root": s.head().root.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        "note": s.note,
    })
}

/// Writes a signed head's note (owned) and, when wanted, its head.
///
/// # Safety
/// `out_note` and `out_head` came from [`out_arg`]/[`opt_out_arg`].
unsafe fn signed_out(
    signed: SignedHead,
    out_note: std::ptr::NonNull<*mut c_char>,
    out_head: Option<std::ptr::NonNull<consent_head>>,
) -> FfiResult<()> {
    let head = head_of(&signed.checkpoint);
    let note = owned_string(signed.note)?;
    unsafe { write_out(out_note, note) };
    if let Some(out) = out_head {
        unsafe { write_out(out, head) };
    }
    Ok(())
}

// ---- keys ----------------------------------------------------------------------------

/// Generates a signing key named `name` for `role` (a `consent_key_role`), writes its
/// private key to a new file at `path` (mode 0600; an existing file is never replaced:
/// `CONSENT_RESULT_KEY`), and writes the verifier key to publish (`<name>+<key
/// id>+<base64>`) and a NUL into `buf` of `len` bytes. A log key's name is the log's
/// origin (e.g. `ljmu.ac.uk/consent`). `strlen(name) + CONSENT_VKEY_OVERHEAD` bytes are
/// always enough; with fewer, `CONSENT_RESULT_BUFFER_TOO_SMALL` and no file is made.
/// A name that is empty or holds white space or `+` is `CONSENT_RESULT_INVALID_ARGUMENT`.
///
/// Errors: a name that is empty or holds white space or `+`, or a role that is not a
/// `consent_key_role`, `CONSENT_RESULT_INVALID_ARGUMENT`; a key file that cannot be
/// created (it exists, or its folder is not writable) `CONSENT_RESULT_KEY`; a buffer
/// too small `CONSENT_RESULT_BUFFER_TOO_SMALL` (no file is made).
#[no_mangle]
pub unsafe extern "C" fn consent_key_generate(
    path: *const c_char,
    name: *const c_char,
    role: i32,
    buf: *mut c_char,
    len: usize,
) -> consent_result {
    guard(|| {
        let path = unsafe { path_arg(path, "path") }?;
        let name = unsafe { str_arg(name, "name") }?;
        let role = key_role(role)?;
        if buf.is_null() {
            return Err(FfiError::new(
                consent_result::NullArgument,
                "argument `buf` is NULL",
            ));
        }
        let needed = name.len() + CONSENT_VKEY_OVERHEAD;
        if len < needed {
            return Err(FfiError::new(
                consent_result::BufferTooSmall,
                format!("the verifier key needs {needed} bytes, the buffer has {len}"),
            ));
        }
        let vkey = generate_signing_key_file(path, name, role)?.to_string();
        copy_to_buffer(&vkey, buf, len);
        Ok(())
    })
}

/// Reads the private key file at `path` (from `consent_key_generate`; refused when
/// others can read it, or when it holds a key of another `role`: `CONSENT_RESULT_KEY`)
/// and writes its verifier key and a NUL into `buf` of `len` bytes;
/// `CONSENT_RESULT_BUFFER_TOO_SMALL` (nothing written) if it does not fit
/// (`strlen(name) + CONSENT_VKEY_OVERHEAD` bytes are always enough).
///
/// Errors: an unreadable key file, or one of another role, `CONSENT_RESULT_KEY`; a
/// buffer too small `CONSENT_RESULT_BUFFER_TOO_SMALL`.
#[no_mangle]
pub unsafe extern "C" fn consent_key_verifier(
    path: *const c_char,
    role: i32,
    buf: *mut c_char,
    len: usize,
) -> consent_result {
    guard(|| {
        let path = unsafe { path_arg(path, "path") }?;
        let role = key_role(role)?;
        if buf.is_null() {
            return Err(FfiError::new(
                consent_result::NullArgument,
                "argument `buf` is NULL",
            ));
        }
        let vkey = read_signing_key_file(path, role)?
            .verifier_key()
            .to_string();
        if vkey.len() + 1 > len {
            return Err(FfiError::new(
                consent_result::BufferTooSmall,
                format!(
                    "the verifier key needs {} bytes, the buffer has {len}",
                    vkey.len() + 1
                ),
            ));
        }
        copy_to_buffer(&vkey, buf, len);
        Ok(())
    })
}

// ---- checkpoints -----------------------------------------------------------------------

/// Signs the current head as a checkpoint with the log key in the file `key_path`
/// (a `CONSENT_KEY_ROLE_LOG` key; the origin is its name), keeps it in the ledger and
/// writes the signed note to `*out_note` (free with [`consent_string_free`]) and its
/// size and root to `*out_head` (NULL = not wanted). Signing again at the same size
/// merges into the stored note. Refused: an unusable key file (`CONSENT_RESULT_KEY`), a
/// size already signed under another origin (`CONSENT_RESULT_CONFLICT`), a log that no
/// longer extends the largest checkpoint it signed (`CONSENT_RESULT_CORRUPT`).
///
/// Errors: an unusable key file `CONSENT_RESULT_KEY`; a size already signed under
/// another origin `CONSENT_RESULT_CONFLICT`; a log that no longer extends a checkpoint
/// it signed `CONSENT_RESULT_CORRUPT`.
///
/// [`consent_string_free`]: crate::consent_string_free
#[no_mangle]
pub unsafe extern "C" fn consent_checkpoint_sign(
    ledger: *const consent_ledger,
    key_path: *const c_char,
    out_note: *mut *mut c_char,
    out_head: *mut consent_head,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let key_path = unsafe { path_arg(key_path, "key_path") }?;
        let out = out_arg(out_note, "out_note")?;
        let out_head = opt_out_arg(out_head, "out_head")?;
        let key = read_signing_key_file(key_path, KeyRole::Log)?;
        let signed = ledger.sign_checkpoint(&key)?;
        unsafe { signed_out(signed, out, out_head) }
    })
}

/// Merges into the stored checkpoint of the same size the cosignature lines of `note`
/// (as a witness returned it, [`consent_witness_cosign`]) and writes the merged note to
/// `*out_note` (NULL = not wanted; else free with [`consent_string_free`]). Only a note
/// whose checkpoint text is byte-identical to the stored one is merged
/// (`CONSENT_RESULT_CONFLICT`; `CONSENT_RESULT_NOT_FOUND` when the ledger signed no
/// checkpoint of that size); a malformed note is `CONSENT_RESULT_NOTE`.
///
/// Errors: no stored checkpoint of that size `CONSENT_RESULT_NOT_FOUND`; another
/// checkpoint text `CONSENT_RESULT_CONFLICT`; a malformed note `CONSENT_RESULT_NOTE`.
///
/// [`consent_witness_cosign`]: crate::witness::consent_witness_cosign
/// [`consent_string_free`]: crate::consent_string_free
#[no_mangle]
pub unsafe extern "C" fn consent_checkpoint_add_cosignatures(
    ledger: *const consent_ledger,
    note: *const c_char,
    out_note: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let note = unsafe { str_arg(note, "note") }?;
        let out = opt_out_arg(out_note, "out_note")?;
        let merged = ledger.add_cosignatures(note)?;
        if let Some(out) = out {
            let text = owned_string(merged.note)?;
            unsafe { write_out(out, text) };
        }
        Ok(())
    })
}

/// Every checkpoint the ledger keeps, in size order, as a JSON array of `{"origin",
/// "size", "root" (hex), "note"}` written to `*out_json`; free with
/// [`consent_string_free`].
///
/// Errors: the common ones only.
///
/// [`consent_string_free`]: crate::consent_string_free
#[no_mangle]
pub unsafe extern "C" fn consent_checkpoints_json(
    ledger: *const consent_ledger,
    out_json: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let out = out_arg(out_json, "out_json")?;
        let list: Vec<_> = ledger.checkpoints()?.iter().map(signed_head_json).collect();
        let text = owned_json(&list)?;
        unsafe { write_out(out, text) };
        Ok(())
    })
}

/// Checks a signed checkpoint `note` (from anywhere: this ledger, a publish directory,
/// a receipt, a witness) against the ledger: it must be a checkpoint for the origin
/// `log_vkey` names, signed by `log_vkey`, with valid cosignatures by at least `quorum`
/// distinct witnesses among the `n_witnesses` verifier keys at `witness_vkeys` (NULL
/// when 0). Not authentic: `CONSENT_RESULT_NOTE` (forged, malformed, another key with
/// the right name, a trusted line that does not verify) or
/// `CONSENT_RESULT_QUORUM_NOT_MET`. An authentic note gives the verdict in `*out`: the
/// ledger holds it, or was truncated or rewritten before its size. A malformed verifier
/// key is `CONSENT_RESULT_INVALID_ARGUMENT`.
///
/// Errors: a note that is not authentic (forged, malformed, a trusted line that does
/// not verify) `CONSENT_RESULT_NOTE`; too few distinct trusted cosignatures
/// `CONSENT_RESULT_QUORUM_NOT_MET`; a malformed verifier key
/// `CONSENT_RESULT_INVALID_ARGUMENT`. A ledger that fails an authentic checkpoint is
/// not an error: it is the verdict.
#[no_mangle]
pub unsafe extern "C" fn consent_checkpoint_check(
    ledger: *const consent_ledger,
    note: *const c_char,
    log_vkey: *const c_char,
    witness_vkeys: *const *const c_char,
    n_witnesses: usize,
    quorum: usize,
    out: *mut consent_checkpoint_verdict,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let note = unsafe { str_arg(note, "note") }?;
        let log_key = unsafe { vkey_arg(log_vkey, "log_vkey") }?;
        let witnesses = unsafe { vkeys_arg(witness_vkeys, n_witnesses, "witness_vkeys") }?;
        let out = out_arg(out, "out")?;
        let verdict = ledger.check_checkpoint(note, &log_key, &witnesses, quorum)?;
        unsafe { write_out(out, verdict_out(&verdict)) };
        Ok(())
    })
}

/// Checks every checkpoint the ledger keeps, in size order, as
/// `consent_checkpoint_check` does (`quorum` 0 requires only the log's signature),
/// and writes the report to `*out`: `ok`, or the first (smallest) size that does not
/// hold and why. A forged or damaged stored note is reported, not an error.
///
/// Errors: a malformed verifier key `CONSENT_RESULT_INVALID_ARGUMENT`. A checkpoint the
/// ledger fails, or a damaged stored note, is in the report, not an error.
#[no_mangle]
pub unsafe extern "C" fn consent_verify_checkpoints(
    ledger: *const consent_ledger,
    log_vkey: *const c_char,
    witness_vkeys: *const *const c_char,
    n_witnesses: usize,
    quorum: usize,
    out: *mut consent_checkpoints_report,
) -> consent_result {
    guard(|| {
        let ledger = unsafe { ledger_arg(ledger) }?;
        let log_key = unsafe { vkey_arg(log_vkey, "log_vkey") }?;
        let witnesses = unsafe { vkeys_arg(witness_vkeys, n_witnesses, "witness_vkeys") }?;
        let out = out_arg(out, "out")?;
        let report = ledger.verify_checkpoints(&log_key, &witnesses, quorum)?;
        unsafe { write_out(out, checkpoints_report_out(&report)) };
        Ok(())
    })
}
