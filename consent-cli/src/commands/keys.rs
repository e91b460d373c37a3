//! `consent key`: the signing keys of checkpoints (docs/FORMAT.md §11). Needs no ledger.

use consent_core::{generate_signing_key_file, read_signing_key_file, KeyRole};
use serde_json::json;

use crate::cli::KeyCmd;
use crate::ctx::Ctx;
use crate::exit::CliResult;
use crate::output::{emit, print_json};

fn role(witness: bool) -> KeyRole {
    if witness {
        KeyRole::Witness
    } else {
        KeyRole::Log
    }
}

/// Runs a `key` subcommand.
pub(crate) fn key(ctx: &Ctx, cmd: KeyCmd) -> CliResult {
    let (vkey, file) = match cmd {
        KeyCmd::Generate {
            name,
            witness,
            output,
        } => (
            generate_signing_key_file(&output, &name, role(witness))?,
            output,
        ),
        KeyCmd::Show { file, witness } => (
            read_signing_key_file(&file, role(witness))?.verifier_key(),
            file,
        ),
    };
    if ctx.json {
        print_json(&json!({
            "name": vkey.name(),
            "verifier_key": vkey.to_string(),
            "private_key_file": file,
        }))
    } else {
        emit(&format!("{vkey}\n"))
    }
}
