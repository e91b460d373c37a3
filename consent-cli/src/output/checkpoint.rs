//! Checkpoints for people: what was published, the ledger's signed checkpoints, the
//! cosignatures merged, and the checkpoint half of `consent verify`.

use std::path::Path;

use consent_core::consent_note::{Checkpoint, Note};
use consent_core::{CheckpointVerdict, CheckpointsReport, Published, SignedHead};

use super::{outln, print, warn, Table};
use crate::exit::CliResult;

/// The names on a note's signature lines, the log's first as in the note (also in the
/// JSON of a checkpoint).
pub(crate) fn signers(note: &str) -> Vec<String> {
    Note::parse(note.as_bytes())
        .map(|n| n.signatures().iter().map(|s| s.name().to_owned()).collect())
        .unwrap_or_default()
}

/// The root as the checkpoint's text writes it, in base64 (also in the JSON).
pub(crate) fn root_b64(c: &Checkpoint) -> String {
    // The checkpoint text's lines are origin, size and the base64 root.
    c.to_text()
        .ok()
        .and_then(|t| t.lines().nth(2).map(str::to_owned))
        .unwrap_or_default()
}

/// A note published in `dir`, on stderr (stdout carries the note).
pub(crate) fn published(dir: &Path, p: &Published) {
    let latest = if p.latest { ", the latest" } else { "" };
    warn(&format!(
        "published: {}/checkpoints/{}{latest}",
        dir.display(),
        p.size
    ));
}

/// The checkpoints the ledger signed, one row each (`consent checkpoint list`).
pub(crate) fn list(all: &[SignedHead]) -> CliResult {
    if all.is_empty() {
        return outln!("no checkpoint signed yet (sign one with `consent checkpoint --key FILE`)");
    }
    let mut t = Table::new(&["size", "origin", "root", "signature lines"]);
    for s in all {
        t.row(vec![
            s.checkpoint.size.to_string(),
            s.checkpoint.origin.clone(),
            root_b64(&s.checkpoint),
            signers(&s.note).join(", "),
        ]);
    }
    print(&t.render())
}

/// The notes that now carry the witnesses' cosignatures (`consent checkpoint
/// add-cosignatures`).
pub(crate) fn cosignatures_added<'a>(
    merged: impl IntoIterator<Item = &'a SignedHead>,
) -> CliResult {
    for s in merged {
        outln!(
            "checkpoint of size {} now carries signature lines by: {}",
            s.checkpoint.size,
            signers(&s.note).join(", ")
        )?;
    }
    Ok(())
}

/// What holds of the checkpoints once every hash checked out (`consent verify
/// --log-key`): the ledger's own, signed by `log`, and the one held elsewhere
/// (`outside`: what it is, and the verdict), each line only when it holds.
pub(crate) fn trusted(
    log: &str,
    stored: &CheckpointsReport,
    outside: Option<&(String, CheckpointVerdict)>,
) -> CliResult {
    if stored.ok {
        let sizes = match (stored.checked, stored.last_good_size) {
            (0, _) | (_, None) => "none signed yet".to_owned(),
            (n, Some(last)) => format!("{n}, the latest of size {last}"),
        };
        outln!("ok: the checkpoints the ledger signed hold, signed by {log}: {sizes}")?;
    }
    if let Some((what, verdict)) = outside.filter(|(_, v)| v.holds()) {
        let by: Vec<_> = verdict.witnesses.iter().map(|w| w.name.as_str()).collect();
        let cosigned = if by.is_empty() {
            String::new()
        } else {
            format!(", cosigned by {}", by.join(" and "))
        };
        outln!(
            "ok: the log holds {what}: size {}, signed by {log}{cosigned}",
            verdict.checkpoint.size
        )?;
    }
    Ok(())
}
