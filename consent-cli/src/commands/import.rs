//! `consent import`: the command around the importer of `crate::import`.

use crate::cli::ImportArgs;
use crate::ctx::Ctx;
use crate::exit::{CliResult, Failure, REJECTED};
use crate::import::ImportReport;
use crate::output::{self, print_json};

pub(super) fn import(ctx: &Ctx, args: &ImportArgs) -> CliResult {
    let ledger = ctx.open()?;
    let report = crate::import::run(&ledger, args, &ctx.calendar())?;
    // A reader that closed stdout early must not hide rejected rows.
    let printed = print_import(ctx, &report);
    if report.rejected.is_empty() {
        printed
    } else {
        Err(Failure::new(
            REJECTED,
            format!("{} rows rejected", report.rejected.len()),
        ))
    }
}

fn print_import(ctx: &Ctx, report: &ImportReport) -> CliResult {
    if ctx.json {
        print_json(report)
    } else {
        output::integrity::imported(report)
    }
}
