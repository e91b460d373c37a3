//! The registry's commands: `consent notice add|list` and `consent registry load`
//! (purposes have their own file, `purpose.rs`).

use std::path::Path;

use consent_core::{NoticeDef, Registered};

use crate::cli::NoticeCmd;
use crate::ctx::Ctx;
use crate::exit::{CliResult, Failure, NOT_FOUND};
use crate::output::{self, print_json};

pub(super) fn notice(ctx: &Ctx, cmd: NoticeCmd) -> CliResult {
    let ledger = ctx.open()?;
    match cmd {
        NoticeCmd::Add {
            id,
            version,
            title,
            controller,
            purposes,
            text_file,
            sha256,
            language,
            url,
        } => {
            let hash = match (text_file, sha256) {
                (Some(f), _) => {
                    let bytes = std::fs::read(&f).map_err(|e| {
                        Failure::new(NOT_FOUND, format!("cannot read {}: {e}", f.display()))
                    })?;
                    consent_core::canonical::sha256(&bytes)
                }
                (None, Some(h)) => h,
                (None, None) => return Err(Failure::usage("give --text-file or --sha256")),
            };
            let def = NoticeDef {
                id,
                version,
                language,
                sha256: hash,
                title,
                url,
                controller,
                purposes,
            };
            let Registered { value: n, new } = ledger.register_notice_outcome(def)?;
            if ctx.json {
                return print_json(&n);
            }
            output::registry::notice_registered(&n, new)
        }
        NoticeCmd::List => {
            let all = ledger.notices()?;
            if ctx.json {
                return print_json(&all);
            }
            output::print(&output::registry::notice_table(&all))?;
            Ok(())
        }
    }
}

pub(super) fn registry_load(ctx: &Ctx, file: &Path, texts: Option<&Path>) -> CliResult {
    let ledger = ctx.open()?;
    let loaded = crate::registry::load(&ledger, file, texts)?;
    if ctx.json {
        return print_json(&loaded);
    }
    output::registry::registry_loaded(&loaded)
}
