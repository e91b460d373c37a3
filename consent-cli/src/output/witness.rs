//! The witness's side for people: a checkpoint cosigned, and what a witness holds
//! (`consent witness cosign`, `consent witness show`).

use std::path::{Path, PathBuf};

use consent_core::consent_note::Checkpoint;
use consent_core::{Cosigned, Head};

use super::{outln, print, warn, Table};
use crate::exit::CliResult;

/// A checkpoint cosigned by the witness named `witness`, and what it extends. On
/// stdout when the note went to `output`, else on stderr (stdout carries the note).
pub(crate) fn cosigned(cosigned: &Cosigned, witness: &str, output: Option<&Path>) -> CliResult {
    let c = &cosigned.checkpoint;
    let before = match cosigned.previous_size {
        None => "first checkpoint of this log: taken on trust".to_owned(),
        Some(p) if p == c.size => format!("size {p} again: the same tree"),
        Some(p) => format!("it extends size {p}, cosigned before"),
    };
    let line = format!(
        "cosigned `{}` size {} as {witness} ({before})",
        c.origin, c.size
    );
    match output {
        Some(p) => outln!("{line}; written to {}", p.display()),
        None => {
            warn(&line);
            Ok(())
        }
    }
}

/// The head of a checkpoint, shown `SIZE:ROOT`.
fn head(c: &Checkpoint) -> Head {
    Head {
        size: c.size,
        root: c.root,
    }
}

/// What the witness named `witness` keeps in `state`: the last checkpoint it cosigned
/// of each log, and the evidence files of its refusals.
pub(crate) fn state(
    witness: &str,
    state: &Path,
    logs: &[Checkpoint],
    evidence: &[PathBuf],
) -> CliResult {
    outln!("witness {witness}, state in {}", state.display())?;
    if logs.is_empty() {
        outln!("no checkpoint cosigned yet")?;
    } else {
        let mut t = Table::new(&["log", "size", "last cosigned head (SIZE:ROOT)"]);
        for c in logs {
            t.row(vec![
                c.origin.clone(),
                c.size.to_string(),
                head(c).to_string(),
            ]);
        }
        print(&t.render())?;
    }
    if evidence.is_empty() {
        outln!("no refusal on record")?;
    } else {
        outln!("evidence of refusals (both notes and the proof, in each file):")?;
        for e in evidence {
            outln!("  {}", e.display())?;
        }
    }
    Ok(())
}
