//! `consent init`: creates a ledger, or says that one exists.

use consent_core::{Head, Ledger};
use serde_json::json;

use crate::ctx::Ctx;
use crate::exit::CliResult;
use crate::location::Location;
use crate::output::{outln, print_json};

pub(super) fn init(ctx: &Ctx) -> CliResult {
    let location = ctx.location()?;
    let (ledger, existed) = match location {
        Location::File(path) => {
            let existed = path.exists();
            (Ledger::open_with(path, ctx.options(true)?)?, existed)
        }
        // Nothing on disk tells whether the schema holds a ledger: opening one that
        // must exist does, and only "not found" goes on to create it.
        Location::Postgres(url) => match Ledger::open_with(url, ctx.options(false)?) {
            Ok(l) => (l, true),
            Err(consent_core::Error::NotFound(_)) => {
                (Ledger::open_with(url, ctx.options(true)?)?, false)
            }
            Err(e) => return Err(e.into()),
        },
    };
    ctx.adopt(&ledger)?;
    let head = ledger.head()?;
    let zone = ledger.time_zone()?;
    if ctx.json {
        return print_json(&json!({
            "ledger": location.to_string(),
            "created": !existed,
            "head": head.to_string(),
            "time_zone": zone
        }));
    }
    // An existing file may have been empty (init writes the ledger into it); a schema
    // was told apart exactly above.
    let created = !existed || (!location.is_postgres() && created_now(&ledger, &head));
    if !created {
        outln!(
            "ledger {location} already exists: {} events, head {head}, time zone {zone}",
            head.size
        )?;
    } else {
        outln!("created ledger {location} (time zone {zone})")?;
        if let Some(key) = location.key_file(ctx.key_file.as_deref()) {
            outln!(
                "pseudonym key in {} (0600): keep it, apart from the ledger; without it the ledger cannot answer for erased students",
                key.display()
            )?;
        }
    }
    if ledger.is_simulated()? {
        outln!("SIMULATED: created with --now; its record times are simulated, and verify and receipts say so")?;
    }
    Ok(())
}

/// Whether `init` just wrote the ledger into an empty file (only its first event).
fn created_now(_ledger: &Ledger, head: &Head) -> bool {
    head.size == 1
}
