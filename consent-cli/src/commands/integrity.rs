//! The log's integrity: `consent verify`, `head`, `prove consistency`, `receipt`,
//! `check-receipt`.

use std::path::Path;

use consent_core::{ConsistencyProof, Head, VerifyReport};

use crate::ctx::Ctx;
use crate::exit::{CliResult, Failure, NOT_FOUND, TAMPER};
use crate::output::{self, print_json};
use crate::receipt;

pub(super) fn verify(
    ctx: &Ctx,
    against: Option<&Head>,
    trust: &crate::cli::checkpoint::TrustArgs,
) -> CliResult {
    let ledger = ctx.open()?;
    let against_text = against.map(Head::to_string);
    let report = match against {
        Some(head) => ledger.verify_against(head)?,
        None => {
            let size = ledger.head()?.size;
            let bar =
                crate::progress::bar(size, "verifying", size >= crate::progress::PROGRESS_MIN);
            let r = ledger.verify_with_progress(|done, _| {
                if let Some(b) = &bar {
                    b.set_position(done);
                }
            })?;
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            r
        }
    };
    if report.ok && trust.given() {
        // Every hash holds: now the checkpoints, printed with the report.
        return super::checkpoint::verify_trust(
            ctx,
            &ledger,
            &report,
            against_text.as_deref(),
            trust,
        );
    }
    // A reader that closed stdout early must not turn tampering into exit 141.
    let printed = print_verify(ctx, &report, against_text.as_deref());
    if report.ok {
        printed
    } else {
        let at = report
            .first_bad_seq
            .map_or(String::new(), |s| format!(" (first bad event #{s})"));
        Err(Failure::new(
            TAMPER,
            format!("TAMPERED: {}{at}", report.problem.unwrap_or_default()),
        ))
    }
}

/// A verification's report: JSON, or its lines for people.
pub(crate) fn print_verify(ctx: &Ctx, report: &VerifyReport, against: Option<&str>) -> CliResult {
    if ctx.json {
        print_json(report)
    } else {
        output::integrity::verified(report, against)
    }
}

pub(super) fn prove_consistency(ctx: &Ctx, old: &Head, output: Option<&Path>) -> CliResult {
    let ledger = ctx.open()?;
    let (proof, new): (ConsistencyProof, Head) = ledger.prove_consistency(old, None)?;
    let file = receipt::ConsistencyFile {
        format: receipt::CONSISTENCY_FORMAT.into(),
        old_head: old.to_string(),
        new_head: new.to_string(),
        proof,
    };
    let text =
        serde_json::to_string_pretty(&file).map_err(|e| Failure::usage(e.to_string()))? + "\n";
    output::write_out(output, &text)?;
    if let Some(p) = output {
        output::integrity::consistency_written(old, &new, p)?;
    }
    Ok(())
}

/// The keys `check-receipt` checks with, as given on the command line.
pub(super) struct ReceiptKeys<'a> {
    pub(super) log: &'a str,
    pub(super) witnesses: &'a [String],
    pub(super) quorum: Option<usize>,
}

pub(super) fn check_receipt(
    ctx: &Ctx,
    file: &Path,
    keys: &ReceiptKeys<'_>,
    head: Option<&Head>,
    consistency: Option<&Path>,
) -> CliResult {
    let read = |p: &Path| {
        std::fs::read_to_string(p)
            .map_err(|e| Failure::new(NOT_FOUND, format!("cannot read {}: {e}", p.display())))
    };
    let text = read(file)?;
    let proof = consistency.map(read).transpose()?;
    let log_key = receipt::verifier_key("--log-key", keys.log)?;
    let witnesses = keys
        .witnesses
        .iter()
        .map(|w| receipt::verifier_key("--witness-key", w))
        .collect::<CliResult<Vec<_>>>()?;
    let quorum = keys.quorum.unwrap_or(witnesses.len());
    let out = receipt::check(&text, &log_key, &witnesses, quorum, head, proof.as_deref())?;
    if ctx.json {
        return print_json(&out);
    }
    output::integrity::receipt_checked(&out)
}
