//! `consent witness`: the witness's side (docs/FORMAT.md §11.4), run by a second party
//! — the DPO's office, the students' union — with its own key and state directory.
//!
//! The rules (first use on trust, growth only with a consistency proof, forks and
//! rollbacks refused with an evidence file) are consent-core's [`Witness`]; this file
//! gets it the note and the proof, and turns a refusal into words and an exit code.

use std::path::{Path, PathBuf};

use consent_core::consent_note::{Checkpoint, Note};
use consent_core::{
    read_signing_key_file, ConsistencyProof, Error, Head, KeyRole, Ledger, RefusalKind, Witness,
};
use serde_json::json;

use crate::cli::witness::{CosignArgs, WitnessCmd};
use crate::ctx::Ctx;
use crate::exit::{CliResult, Failure, NOT_FOUND};
use crate::output::{self, print_json, write_out};
use crate::receipt::{verifier_key, ConsistencyFile};

fn read(p: &Path) -> CliResult<String> {
    std::fs::read_to_string(p)
        .map_err(|e| Failure::new(NOT_FOUND, format!("cannot read {}: {e}", p.display())))
}

/// Runs `consent witness ...`.
pub(crate) fn run(ctx: &Ctx, cmd: WitnessCmd) -> CliResult {
    match cmd {
        WitnessCmd::Cosign(a) => cosign(ctx, &a),
        WitnessCmd::Show { state, key } => show(ctx, &state, &key),
    }
}

fn cosign(ctx: &Ctx, a: &CosignArgs) -> CliResult {
    let key = read_signing_key_file(&a.key, KeyRole::Witness)?;
    let logs = a
        .log_keys
        .iter()
        .map(|k| verifier_key("--log-key", k).map(|v| (v.name().to_owned(), v)))
        .collect::<CliResult<Vec<_>>>()?;
    let witness = Witness::open(&a.state, key, logs)?;
    let (note, proof) = match &a.checkpoint {
        Some(file) => {
            let proof = a
                .proof
                .as_deref()
                .map(|p| -> CliResult<ConsistencyProof> {
                    let f: ConsistencyFile = serde_json::from_str(&read(p)?).map_err(|e| {
                        Failure::usage(format!(
                            "{}: not a consistency proof file: {e}",
                            p.display()
                        ))
                    })?;
                    Ok(f.proof)
                })
                .transpose()?;
            (read(file)?, proof)
        }
        None => from_ledger(&ctx.open()?, &witness)?,
    };
    let cosigned = witness
        .cosign(&note, proof.as_ref())
        .map_err(|e| refusal(e, a.checkpoint.is_some(), &witness, &note))?;
    write_out(a.output.as_deref(), &cosigned.note)?;
    let c = &cosigned.checkpoint;
    if ctx.json {
        return print_json(&json!({
            "origin": c.origin,
            "size": c.size,
            "previous_size": cosigned.previous_size,
            "timestamp": cosigned.timestamp,
            "signature": cosigned.signature,
            "note": cosigned.note,
            "output": a.output,
        }));
    }
    output::witness::cosigned(
        &cosigned,
        witness.verifier_key().name(),
        a.output.as_deref(),
    )
}

/// The ledger's latest checkpoint, and the proof that it extends what the witness
/// cosigned last.
///
/// The proof starts from the ledger's OWN tree at the witness's size, never from the
/// witness's root: if the ledger was rewritten, that proof does not verify against what
/// the witness holds, and the witness refuses with evidence. The CLI never decides in
/// the witness's place.
fn from_ledger(
    ledger: &Ledger,
    witness: &Witness,
) -> CliResult<(String, Option<ConsistencyProof>)> {
    let latest = ledger.latest_checkpoint()?.ok_or_else(|| {
        Failure::new(
            NOT_FOUND,
            "the ledger has signed no checkpoint yet: sign one with `consent checkpoint --key LOG_KEY_FILE`",
        )
    })?;
    let new_size = latest.checkpoint.size;
    let proof = match witness.latest(&latest.checkpoint.origin)? {
        Some(old) if old.size > 0 && old.size < new_size => {
            let first = ledger.changes_since(0, 1)?;
            let first = first
                .first()
                .ok_or_else(|| Failure::new(NOT_FOUND, "the ledger has no events"))?;
            let own_old = ledger.prove_inclusion(first.id, Some(old.size))?.head();
            Some(ledger.prove_consistency(&own_old, Some(new_size))?.0)
        }
        _ => None,
    };
    Ok((latest.note, proof))
}

/// A refusal in words: the core's message names both checkpoints and the evidence file;
/// a missing proof says where to get one.
fn refusal(e: Error, from_file: bool, witness: &Witness, note: &str) -> Failure {
    let hint = match &e {
        Error::WitnessRefused(r) if r.kind == RefusalKind::ProofRequired && from_file => {
            let old = Note::parse(note.as_bytes())
                .ok()
                .and_then(|n| Checkpoint::parse(n.text()).ok())
                .and_then(|c| witness.latest(&c.origin).ok().flatten());
            old.map(|c| {
                let head = Head {
                    size: c.size,
                    root: c.root,
                };
                format!(
                    "; ask the log's keeper for `consent prove consistency {head} -o proof.json` and pass --proof proof.json"
                )
            })
        }
        _ => None,
    };
    let mut f = Failure::from(e);
    if let Some(h) = hint {
        f.message.push_str(&h);
    }
    f
}

fn show(ctx: &Ctx, state: &Path, key: &Path) -> CliResult {
    let key = read_signing_key_file(key, KeyRole::Witness)?;
    let name = key.verifier_key().name().to_owned();
    let witness = Witness::open(state, key, Vec::new())?;
    let mut logs = Vec::new();
    for path in sorted_files(&state.join("logs"))? {
        // The file name encodes the origin; the note inside names it, and `latest`
        // then reads it back through the witness's own checks.
        let origin = Note::parse(read(&path)?.as_bytes())
            .ok()
            .and_then(|n| Checkpoint::parse(n.text()).ok())
            .map(|c| c.origin)
            .ok_or_else(|| {
                Failure::from(Error::Corrupt(format!(
                    "the witness state {} is not a checkpoint note",
                    path.display()
                )))
            })?;
        if let Some(c) = witness.latest(&origin)? {
            logs.push(c);
        }
    }
    let evidence = sorted_files(&state.join("evidence"))?;
    if ctx.json {
        let logs: Vec<_> = logs
            .iter()
            .map(|c| {
                let head = Head {
                    size: c.size,
                    root: c.root,
                };
                json!({ "origin": c.origin, "size": c.size, "head": head.to_string() })
            })
            .collect();
        return print_json(&json!({ "witness": name, "logs": logs, "evidence": evidence }));
    }
    output::witness::state(&name, state, &logs, &evidence)
}

/// The files of a directory, by name; none when it does not exist.
fn sorted_files(dir: &Path) -> CliResult<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Failure::from(Error::from(e))),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| Failure::from(Error::from(e)))?.path();
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_none_or(|n| n.starts_with('.'));
        if path.is_file() && !hidden {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}
