//! A witness (docs/FORMAT.md §11): a second party that cosigns a log's checkpoint only
//! if it is consistent with the last one it cosigned, and refuses a fork or a rollback
//! loudly (`CONSENT_RESULT_WITNESS_REFUSED`, a message naming both checkpoints and the
//! evidence file).

use std::ffi::c_char;

use consent_core::{read_signing_key_file, ConsistencyProof, KeyRole, Witness};

use crate::boundary::{
    guard, opt_str_arg, out_arg, owned_string, path_arg, ref_arg, str_arg, str_array_arg,
    write_out, FfiError,
};
use crate::checkpoint::vkeys_arg;
use crate::{consent_head, consent_result};

/// A witness over a state directory, from `consent_witness_open`. Opaque; released
/// with `consent_witness_free`. May be shared between threads: cosignatures queue on
/// its lock, and two processes on one state directory cannot both move a log's state.
pub struct consent_witness {
    witness: Witness,
}

/// Opens a witness keeping its state in the directory `state_dir` (created, owner-only,
/// when missing), cosigning with the witness key in the file `key_path` (a
/// `CONSENT_KEY_ROLE_WITNESS` key), for the `n_logs` logs whose verifier keys are at
/// `log_vkeys`. `origins` is NULL (each log's origin is its key's name, as a ledger's
/// is) or `n_logs` origins, one per key. Writes the handle to `*out`. Refused: an
/// unusable key file (`CONSENT_RESULT_KEY`), a log key that is not Ed25519
/// (`CONSENT_RESULT_NOTE`), an origin given twice or a malformed verifier key
/// (`CONSENT_RESULT_INVALID_ARGUMENT`).
///
/// Errors: an unusable key file `CONSENT_RESULT_KEY`; a log key that is not Ed25519
/// `CONSENT_RESULT_NOTE`; an origin given twice or a malformed verifier key
/// `CONSENT_RESULT_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn consent_witness_open(
    state_dir: *const c_char,
    key_path: *const c_char,
    origins: *const *const c_char,
    log_vkeys: *const *const c_char,
    n_logs: usize,
    out: *mut *mut consent_witness,
) -> consent_result {
    guard(|| {
        let state_dir = unsafe { path_arg(state_dir, "state_dir") }?;
        let key_path = unsafe { path_arg(key_path, "key_path") }?;
        let keys = unsafe { vkeys_arg(log_vkeys, n_logs, "log_vkeys") }?;
        let origins: Vec<String> = if origins.is_null() {
            keys.iter().map(|k| k.name().to_owned()).collect()
        } else {
            unsafe { str_array_arg(origins, n_logs, "origins") }?
                .into_iter()
                .map(str::to_owned)
                .collect()
        };
        let out = out_arg(out, "out")?;
        let key = read_signing_key_file(key_path, KeyRole::Witness)?;
        let witness = Witness::open(state_dir, key, origins.into_iter().zip(keys).collect())?;
        let handle = Box::into_raw(Box::new(consent_witness { witness }));
        unsafe { write_out(out, handle) };
        Ok(())
    })
}

/// Cosigns `note`, a checkpoint signed by a log the witness watches, if it is
/// consistent with the last checkpoint cosigned for that log. `proof_json` is NULL or a
/// consistency proof (JSON from `consent_prove_consistency_json`) from that size
/// ([`consent_witness_latest`]) to the note's: needed when the log grew. Writes the note
/// with the witness's cosignature line added to `*out_note` (free with
/// `consent_string_free`; merge it into the ledger with
/// `consent_checkpoint_add_cosignatures`). The first checkpoint of a log is taken on
/// trust. Refused with `CONSENT_RESULT_WITNESS_REFUSED`: an unknown log, a fork (another
/// root for a size cosigned), a rollback (a smaller size), a missing proof or one that
/// does not verify; the message says which, names both sizes and roots, and the
/// evidence file written in the state directory. A note not signed by the log's key is
/// `CONSENT_RESULT_NOTE`; a damaged state file `CONSENT_RESULT_CORRUPT` (nothing is
/// cosigned until it is restored).
///
/// Errors: a refusal (an unknown log, a fork, a rollback, a missing or failing proof)
/// `CONSENT_RESULT_WITNESS_REFUSED`; a note not signed by the log's key
/// `CONSENT_RESULT_NOTE`; a damaged state file `CONSENT_RESULT_CORRUPT`.
#[no_mangle]
pub unsafe extern "C" fn consent_witness_cosign(
    witness: *const consent_witness,
    note: *const c_char,
    proof_json: *const c_char,
    out_note: *mut *mut c_char,
) -> consent_result {
    guard(|| {
        let witness = &unsafe { ref_arg(witness, "witness") }?.witness;
        let note = unsafe { str_arg(note, "note") }?;
        let proof: Option<ConsistencyProof> =
            match unsafe { opt_str_arg(proof_json, "proof_json") }? {
                Some(text) => Some(serde_json::from_str(text).map_err(|e| {
                    FfiError::invalid(format!("`proof_json` is not a consistency proof: {e}"))
                })?),
                None => None,
            };
        let out = out_arg(out_note, "out_note")?;
        let cosigned = witness.cosign(note, proof.as_ref())?;
        let text = owned_string(cosigned.note)?;
        unsafe { write_out(out, text) };
        Ok(())
    })
}

/// The last checkpoint the witness cosigned for the log `origin` (what the log proves
/// consistency from): writes whether there is one to `*out_found` and, when there is,
/// its size and root to `*out_head`.
///
/// Errors: the common ones only: no checkpoint for the log is `*out_found` false.
#[no_mangle]
pub unsafe extern "C" fn consent_witness_latest(
    witness: *const consent_witness,
    origin: *const c_char,
    out_found: *mut bool,
    out_head: *mut consent_head,
) -> consent_result {
    guard(|| {
        let witness = &unsafe { ref_arg(witness, "witness") }?.witness;
        let origin = unsafe { str_arg(origin, "origin") }?;
        let found = out_arg(out_found, "out_found")?;
        let head = out_arg(out_head, "out_head")?;
        let latest = witness.latest(origin)?;
        unsafe { write_out(found, latest.is_some()) };
        if let Some(c) = latest {
            unsafe {
                write_out(
                    head,
                    consent_head {
                        size: c.size,
                        root: c.root,
                    },
                )
            };
        }
        Ok(())
    })
}

/// Releases a witness. NULL is fine; never twice, and not while another thread uses it.
///
/// Errors: none (a void function; NULL is fine).
#[no_mangle]
pub unsafe extern "C" fn consent_witness_free(witness: *mut consent_witness) {
    if witness.is_null() {
        return;
    }
    let _ = guard(|| {
        // SAFETY: a handle from `consent_witness_open`, freed once, by contract.
        drop(unsafe { Box::from_raw(witness) });
        Ok(())
    });
}
