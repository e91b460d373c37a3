//! `consent report`: the data-protection officer's report. The figures come from the
//! core ([`consent_core::Ledger::report`]); this file gets them (with a progress bar)
//! and sends them where asked: the HTML page to `--html FILE`, the JSON to `--json
//! [FILE|-]`, or, with neither, a short summary. The page and the summary are drawn in
//! [`crate::output::report`].
//!
//! Times on the page are the ledger's local times (or UTC with `--utc`); the JSON
//! carries UTC instants, as every JSON output of the tool does.

use consent_core::{Ledger, Report, ReportRange, ReportStage};

use crate::cli::ReportArgs;
use crate::ctx::Ctx;
use crate::exit::{CliResult, Failure, TAMPER};
use crate::output;

/// Runs `consent report`.
pub(crate) fn run(ctx: &Ctx, args: &ReportArgs) -> CliResult {
    if args.json_file.is_some() && !ctx.json {
        return Err(Failure::usage(
            "FILE is where --json writes the figures: give --json FILE (or --html FILE for the page)",
        ));
    }
    let ledger = ctx.open()?;
    let range = ReportRange {
        from: ctx.opt_time("--from", args.from.as_ref())?,
        to: ctx.opt_time("--to", args.to.as_ref())?,
    };
    let report = compute(&ledger, range)?;
    let json_to_stdout = ctx.json
        && args
            .json_file
            .as_deref()
            .is_none_or(|p| p.as_os_str() == "-");
    if let Some(path) = &args.html {
        let page = output::report::html(ctx.times(), &report);
        crate::outfile::write(path, page.as_bytes())?;
        if !json_to_stdout {
            output::report::page_written(ctx.times(), &report, path, &page)?;
        }
    }
    if ctx.json {
        let text = serde_json::to_string_pretty(&report)
            .map_err(|e| Failure::usage(e.to_string()))?
            + "\n";
        match args.json_file.as_deref() {
            Some(p) if p.as_os_str() != "-" => {
                crate::outfile::write(p, text.as_bytes())?;
                output::report::figures_written(p);
            }
            _ => output::emit(&text)?,
        }
    } else if args.html.is_none() {
        output::report::summary(ctx.times(), &report)?;
    }
    if !report.verification.ok {
        return Err(Failure::new(
            TAMPER,
            format!(
                "TAMPERED: {} (the report says so)",
                report.verification.problem.clone().unwrap_or_default()
            ),
        ));
    }
    Ok(())
}

/// The figures, with a progress bar on a terminal.
fn compute(ledger: &Ledger, range: ReportRange) -> CliResult<Report> {
    let size = ledger.head()?.size;
    let bar = crate::progress::bar(size, "report", size >= crate::progress::PROGRESS_MIN);
    let report = ledger.report_with_progress(range, |stage, done, total| {
        if let Some(b) = &bar {
            b.set_message(match stage {
                ReportStage::Verify => "verifying",
                ReportStage::Events => "counting events",
                ReportStage::States => "deciding states (purposes)",
            });
            b.set_length(total);
            b.set_position(done);
        }
    })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(report)
}
