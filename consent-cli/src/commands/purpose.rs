//! `consent purpose add|list|show`.

use consent_core::{Purpose, PurposeDef, Registered};

use crate::cli::{PurposeAddArgs, PurposeCmd};
use crate::ctx::Ctx;
use crate::exit::CliResult;
use crate::output::{self, print_json};

pub(super) fn purpose(ctx: &Ctx, cmd: PurposeCmd) -> CliResult {
    let ledger = ctx.open()?;
    match cmd {
        PurposeCmd::Add(a) => {
            let def = purpose_def(a);
            let Registered { value: p, new } = ledger.register_purpose_outcome(def)?;
            if ctx.json {
                return print_json(&p);
            }
            output::registry::purpose_registered(&p, new)
        }
        PurposeCmd::List => {
            let all = ledger.purposes()?;
            let mut current: Vec<Purpose> = Vec::new();
            for p in all {
                match current.last_mut() {
                    Some(last) if last.def.id == p.def.id => *last = p,
                    _ => current.push(p),
                }
            }
            if ctx.json {
                return print_json(&current);
            }
            output::print(&output::registry::purpose_table(&current))?;
            Ok(())
        }
        PurposeCmd::Show { id } => {
            let versions = ledger.purpose_versions(&id)?;
            if ctx.json {
                return print_json(&versions);
            }
            output::registry::purpose_versions(ctx.times(), &versions)
        }
    }
}

fn purpose_def(a: PurposeAddArgs) -> PurposeDef {
    let mut def = PurposeDef::new(a.id, a.title, a.controller);
    def.lawful_basis = a.basis;
    def.special_category = a.special_category;
    def.validity = a.validity;
    def.effect_delay_secs = a.effect_delay;
    def.withdrawal_method = a.withdrawal_method;
    def.recipients = a.recipients;
    def.renew_consent = a.renew_consent;
    def
}
