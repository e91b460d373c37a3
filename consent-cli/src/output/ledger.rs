//! The ledger itself for people: what `consent init` made or found.

use std::path::Path;

use consent_core::Head;

use super::outln;
use crate::exit::CliResult;
use crate::location::Location;

/// A ledger at `location` that `init` `created` (with its pseudonym key in `key`) or
/// found at `head`, in time zone `zone`; and whether its clock is `simulated`.
pub(crate) fn initialised(
    location: &Location,
    created: bool,
    head: &Head,
    zone: &str,
    key: Option<&Path>,
    simulated: bool,
) -> CliResult {
    if !created {
        outln!(
            "ledger {location} already exists: {} events, head {head}, time zone {zone}",
            head.size
        )?;
    } else {
        outln!("created ledger {location} (time zone {zone})")?;
        if let Some(key) = key {
            outln!(
                "pseudonym key in {} (0600): keep it, apart from the ledger; without it the ledger cannot answer for erased students",
                key.display()
            )?;
        }
    }
    if simulated {
        outln!("SIMULATED: created with --now; its record times are simulated, and verify and receipts say so")?;
    }
    Ok(())
}
