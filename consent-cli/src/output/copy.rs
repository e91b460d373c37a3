//! A copy of a ledger for people (`consent copy FROM TO`).

use consent_core::Head;

use super::outln;
use crate::exit::CliResult;
use crate::location::Location;

/// What was copied: where from and to, the head recomputed from the copy, and the
/// rows of each table (`rows`: table and count).
pub(crate) fn copied(
    from: &Location,
    to: &Location,
    head: &Head,
    rows: &[(&str, u64)],
) -> CliResult {
    let counts: Vec<String> = rows.iter().map(|(t, n)| format!("{n} {t}")).collect();
    outln!("copied {from} → {to}")?;
    outln!("head {head} (the source's, recomputed from the copy's rows)")?;
    outln!("rows: {}", counts.join(", "))?;
    outln!("the pseudonym key is not copied: open the copy with the source's key file (--key-file)")
}
