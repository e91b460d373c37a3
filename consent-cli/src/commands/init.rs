//! `consent init`: creates a ledger, or says that one exists.

use consent_core::{Head, Ledger};
use serde_json::json;

use crate::ctx::Ctx;
use crate::exit::CliResult;
use crate::location::Location;
use crate::output::{self, print_json};

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
    let key = location.key_file(ctx.key_file.as_deref());
    output::ledger::initialised(
        location,
        created,
        &head,
        &zone,
        key.as_deref(),
        ledger.is_simulated()?,
    )
}

/// Whether `init` just wrote the ledger into an empty file (only its first event).
fn created_now(_ledger: &Ledger, head: &Head) -> bool {
    head.size == 1
}
