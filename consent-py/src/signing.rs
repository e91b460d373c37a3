//! Signing keys, signed checkpoints, witnesses and receipts (issue 13, docs/FORMAT.md
//! §11 and §12), for `consent_ledger.trust`.
//!
//! As elsewhere in this layer, answers are the core's values as JSON (built here where
//! the core type is not `Serialize`), which the Python layer turns into frozen records.
//! Roots are hex, as in a `Head`.

use std::path::PathBuf;

use consent_core::consent_note::{Checkpoint, VerifiedSignature, VerifierKey};
use consent_core::receipt::{self, CheckedReceipt, Layout};
use consent_core::{
    generate_signing_key_file, parse_verifier_key, read_signing_key_file, CheckpointFinding,
    CheckpointVerdict, ConsistencyProof, Error, KeyRole, Ledger, SignedHead, Witness,
};
use pyo3::prelude::*;
use serde_json::{json, Value};

use crate::{detached, hex_lower, invalid, to_json};

fn role(witness: bool) -> KeyRole {
    if witness {
        KeyRole::Witness
    } else {
        KeyRole::Log
    }
}

fn vkeys(keys: &[String]) -> consent_core::Result<Vec<VerifierKey>> {
    keys.iter().map(|k| parse_verifier_key(k)).collect()
}

fn layout(text: &str) -> consent_core::Result<Layout> {
    match text {
        "iso27560" => Ok(Layout::Iso27560),
        "kantara" => Ok(Layout::Kantara),
        other => Err(invalid(format!(
            "unknown receipt layout `{}` (one of: iso27560, kantara)",
            other.chars().take(40).collect::<String>()
        ))),
    }
}

fn head_json(checkpoint: &Checkpoint) -> Value {
    json!({"size": checkpoint.size, "root": hex_lower(&checkpoint.root)})
}

fn cosignatures_json(sigs: &[VerifiedSignature]) -> Value {
    sigs.iter()
        .map(|s| json!({"name": s.name, "key_id": s.key_id.to_string(), "timestamp": s.timestamp}))
        .collect()
}

fn signed_json(s: &SignedHead) -> Value {
    json!({"origin": s.checkpoint.origin, "head": head_json(&s.checkpoint), "note": s.note})
}

fn verdict_json(v: &CheckpointVerdict) -> Value {
    let finding = v.finding.as_ref().map(|f| match f {
        CheckpointFinding::Truncated { .. } => "truncated",
        _ => "rewritten",
    });
    json!({
        "holds": v.holds(),
        "origin": v.checkpoint.origin,
        "head": head_json(&v.checkpoint),
        "cosignatures": cosignatures_json(&v.witnesses),
        "ledger_size": v.ledger_size,
        "finding": finding,
        "problem": v.finding.as_ref().map(ToString::to_string),
    })
}

fn checked_json(c: &CheckedReceipt) -> Value {
    json!({
        "origin": c.checkpoint.origin,
        "head": head_json(&c.checkpoint),
        "cosignatures": cosignatures_json(&c.cosignatures),
        "event_id": c.event_id.hyphenated().to_string(),
        "kind": c.kind.as_str(),
        "seq": c.seq,
        "purpose": c.purpose.0,
        "purpose_version": c.purpose.1,
        "subject_checked": c.subject_checked,
        "simulated": c.simulated,
        "layout": c.layout,
        "readable": c.readable,
        "not_proved": c.not_proved,
        "proved": c.proved,
    })
}

// ---- the ledger's side (called from `NativeLedger`) --------------------------------------

pub(crate) fn sign_checkpoint(ledger: &Ledger, key_path: PathBuf) -> consent_core::Result<String> {
    let key = read_signing_key_file(&key_path, KeyRole::Log)?;
    to_json(&signed_json(&ledger.sign_checkpoint(&key)?))
}

pub(crate) fn add_cosignatures(ledger: &Ledger, note: &str) -> consent_core::Result<String> {
    to_json(&signed_json(&ledger.add_cosignatures(note)?))
}

pub(crate) fn checkpoints(ledger: &Ledger) -> consent_core::Result<String> {
    let list: Vec<Value> = ledger.checkpoints()?.iter().map(signed_json).collect();
    to_json(&list)
}

pub(crate) fn latest_checkpoint(ledger: &Ledger) -> consent_core::Result<Option<String>> {
    ledger
        .latest_checkpoint()?
        .map(|s| to_json(&signed_json(&s)))
        .transpose()
}

pub(crate) fn check_checkpoint(
    ledger: &Ledger,
    note: &str,
    log_key: &str,
    witness_keys: &[String],
    quorum: usize,
) -> consent_core::Result<String> {
    let verdict = ledger.check_checkpoint(
        note,
        &parse_verifier_key(log_key)?,
        &vkeys(witness_keys)?,
        quorum,
    )?;
    to_json(&verdict_json(&verdict))
}

pub(crate) fn verify_checkpoints(
    ledger: &Ledger,
    log_key: &str,
    witness_keys: &[String],
    quorum: usize,
) -> consent_core::Result<String> {
    to_json(&ledger.verify_checkpoints(
        &parse_verifier_key(log_key)?,
        &vkeys(witness_keys)?,
        quorum,
    )?)
}

/// The receipt's JSON; `note` None = the latest checkpoint the ledger keeps.
pub(crate) fn receipt(
    ledger: &Ledger,
    event: &str,
    note: Option<&str>,
    layout_name: &str,
) -> consent_core::Result<String> {
    let id = crate::parse_uuid(event)?;
    let layout = layout(layout_name)?;
    let note = match note {
        Some(n) => n.to_owned(),
        None => {
            ledger
                .latest_checkpoint()?
                .ok_or_else(|| {
                    Error::NotFound(
                        "a signed checkpoint: the ledger keeps none (sign one with Ledger.sign_checkpoint)"
                            .into(),
                    )
                })?
                .note
        }
    };
    Ok(ledger.receipt(id, &note, layout)?.to_json())
}

// ---- module functions ---------------------------------------------------------------------

/// Generates a signing key (a log's, or with `witness` a witness's) named `name`,
/// writes its private key to a new file at `path` (0600, never replacing one) and
/// returns the verifier key string.
#[pyfunction]
pub(crate) fn generate_signing_key(
    py: Python<'_>,
    path: PathBuf,
    name: &str,
    witness: bool,
) -> PyResult<String> {
    detached(py, || {
        Ok(generate_signing_key_file(&path, name, role(witness))?.to_string())
    })
}

/// The verifier key of the private key file at `path` (of the role `witness` says).
#[pyfunction]
pub(crate) fn signing_key_verifier(
    py: Python<'_>,
    path: PathBuf,
    witness: bool,
) -> PyResult<String> {
    detached(py, || {
        Ok(read_signing_key_file(&path, role(witness))?
            .verifier_key()
            .to_string())
    })
}

/// Checks a receipt's JSON with the verifier keys; returns what it proved as JSON.
#[pyfunction]
pub(crate) fn check_receipt(
    py: Python<'_>,
    json: &str,
    log_key: &str,
    witness_keys: Vec<String>,
    quorum: usize,
) -> PyResult<String> {
    detached(py, || {
        let checked = receipt::check(
            json,
            &parse_verifier_key(log_key)?,
            &vkeys(&witness_keys)?,
            quorum,
        )?;
        to_json(&checked_json(&checked))
    })
}

// ---- the witness ---------------------------------------------------------------------------

/// A witness over a state directory. Use `consent_ledger.Witness`.
#[pyclass(module = "consent_ledger._native", name = "Witness", frozen)]
pub(crate) struct NativeWitness {
    inner: Witness,
}

#[pymethods]
impl NativeWitness {
    /// Opens a witness keeping its state in `state_dir`, cosigning with the witness key
    /// in the file `key_path`, for `logs`: (origin, log verifier key) pairs.
    #[new]
    fn new(
        py: Python<'_>,
        state_dir: PathBuf,
        key_path: PathBuf,
        logs: Vec<(String, String)>,
    ) -> PyResult<Self> {
        detached(py, || {
            let key = read_signing_key_file(&key_path, KeyRole::Witness)?;
            let logs = logs
                .iter()
                .map(|(origin, vkey)| Ok((origin.clone(), parse_verifier_key(vkey)?)))
                .collect::<consent_core::Result<Vec<_>>>()?;
            Ok(NativeWitness {
                inner: Witness::open(&state_dir, key, logs)?,
            })
        })
    }

    /// The witness's verifier key string.
    fn verifier_key(&self) -> String {
        self.inner.verifier_key().to_string()
    }

    /// The last checkpoint cosigned for `origin` as a head (`SIZE:ROOTHEX`), or None.
    fn latest(&self, py: Python<'_>, origin: &str) -> PyResult<Option<String>> {
        detached(py, || {
            Ok(self.inner.latest(origin)?.map(|c| {
                consent_core::Head {
                    size: c.size,
                    root: c.root,
                }
                .to_string()
            }))
        })
    }

    /// Cosigns `note` (with a consistency proof as JSON when the log grew); returns the
    /// note with the cosignature line added.
    #[pyo3(signature = (note, proof = None))]
    fn cosign(&self, py: Python<'_>, note: &str, proof: Option<&str>) -> PyResult<String> {
        detached(py, || {
            let proof: Option<ConsistencyProof> = proof
                .map(|p| serde_json::from_str(p).map_err(|e| invalid(format!("proof: {e}"))))
                .transpose()?;
            Ok(self.inner.cosign(note, proof.as_ref())?.note)
        })
    }
}
