//! Integrity and bulk work for people: a verification, a checked receipt, an import.

use std::path::Path;

use consent_core::{Head, VerifyReport};
use uuid::Uuid;

use super::{outln, warn};
use crate::exit::CliResult;
use crate::import::ImportReport;
use crate::receipt::CheckOutcome;

/// A verification that found every hash holding, for people (`consent verify`; the
/// checkpoints' lines follow it with `--trusted-key`).
pub(crate) fn verified(report: &VerifyReport, against: Option<&str>) -> CliResult {
    if !report.ok {
        return Ok(());
    }
    outln!(
        "ok: {} events, every hash recomputed; head {}",
        report.size,
        report
            .head
            .as_ref()
            .map(Head::to_string)
            .unwrap_or_default()
    )?;
    if let Some(h) = against {
        outln!("the log still extends {h}")?;
    }
    if report.simulated {
        outln!("SIMULATED: this ledger was created with a simulated clock; its record times are not the system's")?;
    }
    Ok(())
}

/// A receipt that checked out, with what it proves and what it cannot
/// (`consent check-receipt`).
pub(crate) fn receipt_checked(out: &CheckOutcome) -> CliResult {
    outln!(
        "ok: event {} ({}) is entry {} of the log {} at head {}, checked with the verifier keys alone",
        out.event_id,
        out.kind,
        out.seq,
        out.log,
        out.receipt_head
    )?;
    if out.simulated {
        outln!(
            "SIMULATED: the ledger proves it was created with a simulated clock; its record times are not real"
        )?;
    }
    outln!("proved:")?;
    for p in &out.proved {
        outln!("  - {p}")?;
    }
    outln!("not proved:")?;
    for p in &out.not_proved {
        outln!("  - {p}")?;
    }
    if let Some(h) = &out.later_head {
        outln!(
            "ok: the later head {h} extends the receipt's head, so the event is still on record"
        )?;
    }
    Ok(())
}

/// What an import did: its rejected rows as warnings, then one line of counts.
pub(crate) fn imported(report: &ImportReport) -> CliResult {
    for r in &report.rejected {
        warn(&format!("{}:{}: {}", report.file, r.line, r.reason));
    }
    let outcome = if report.dry_run {
        "dry run: nothing written".to_string()
    } else if report.committed {
        format!("imported {} new events", report.new)
    } else {
        "nothing imported (the file is all or nothing; fix the rows or pass --skip-invalid)"
            .to_string()
    };
    outln!(
        "{}: {} rows, {} already on record, {} rejected; {outcome}",
        report.file,
        report.rows,
        report.already_recorded,
        report.rejected.len()
    )?;
    Ok(())
}

/// The log's head, `SIZE:ROOT` (`consent head`).
pub(crate) fn head(head: &Head) -> CliResult {
    outln!("{head}")
}

/// A receipt for event `id` written to `path` (`consent receipt -o`).
pub(crate) fn receipt_written(id: Uuid, path: &Path) -> CliResult {
    outln!("receipt for event {id} written to {}", path.display())
}

/// A consistency proof from `old` to `new` written to `path` (`consent prove
/// consistency -o`).
pub(crate) fn consistency_written(old: &Head, new: &Head, path: &Path) -> CliResult {
    outln!(
        "consistency proof {old} → {new} written to {}",
        path.display()
    )
}
