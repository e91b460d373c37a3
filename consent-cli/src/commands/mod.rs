//! The command line's dispatch: which function runs each subcommand. The commands
//! live here, one file per group; each computes, then prints for people through
//! [`crate::output`], or JSON with `--json`.

mod checkpoint;
mod completions;
mod consenting;
mod copy;
mod downstream;
mod erasure;
mod events;
mod grants;
mod import;
mod init;
mod integrity;
mod keys;
mod purpose;
mod questions;
mod registry;
mod report;
mod subject;
mod witness;

use consent_core::EventKind;
use serde_json::json;

use crate::cli::{Cli, Command, ProveCmd, RegistryCmd};
use crate::ctx::Ctx;
use crate::exit::{CliResult, Failure};
use crate::location::Location;
use crate::output::{self, print_json};
use crate::receipt;

/// Runs the command line.
pub fn run(cli: Cli) -> CliResult {
    let ctx = Ctx::new(&cli)?;
    match cli.command {
        Command::Init { .. } => init::init(&ctx),
        Command::Purpose(c) => purpose::purpose(&ctx, c),
        Command::Notice(c) => registry::notice(&ctx, c),
        Command::Registry(RegistryCmd::Load { file, texts }) => {
            registry::registry_load(&ctx, &file, texts.as_deref())
        }
        Command::Give(a) => events::record(&ctx, EventKind::Given, a.into()),
        Command::Refuse(a) => events::record(&ctx, EventKind::Refused, a.into()),
        Command::ServeNotice(a) => events::record(&ctx, EventKind::NoticeServed, a.into()),
        Command::Withdraw(a) => events::record(&ctx, EventKind::Withdrawn, a.into()),
        Command::Revoke(a) => events::record(&ctx, EventKind::Revoked, a.into()),
        Command::Invalidate(a) => events::record(&ctx, EventKind::Invalidated, a.into()),
        Command::Object(a) => events::record(&ctx, EventKind::Objected, a.into()),
        Command::OverruleObjection(a) => {
            events::record(&ctx, EventKind::ObjectionOverruled, a.into())
        }
        Command::Status {
            subject,
            purpose,
            recipient,
            at,
            known_at,
            check,
            from_file,
            format,
        } => match (from_file, subject, purpose) {
            (Some(file), _, _) => questions::status_file(&ctx, &file, format, check),
            (None, Some(subject), Some(purpose)) => subject::status(
                &ctx,
                &subject,
                &purpose,
                recipient.as_deref(),
                at.as_ref(),
                known_at.as_ref(),
                check,
            ),
            _ => Err(Failure::usage(
                "give SUBJECT and PURPOSE, or --from-file FILE",
            )),
        },
        Command::History { subject } => subject::history(&ctx, &subject),
        Command::Consenting {
            purpose,
            recipient,
            at,
            known_at,
            format,
            head_file,
        } => consenting::consenting(
            &ctx,
            &purpose,
            recipient.as_deref(),
            (at.as_ref(), known_at.as_ref()),
            format,
            head_file.as_deref(),
        ),
        Command::Changes { since, limit } => subject::changes(&ctx, since, limit),
        Command::Downstream(c) => downstream::downstream(&ctx, c),
        Command::Feed(a) => downstream::feed(&ctx, a),
        Command::Ack(a) => downstream::ack(&ctx, a),
        Command::Overdue { at, all } => downstream::overdue(&ctx, at.as_ref(), all),
        Command::Export {
            subject,
            format,
            output,
        } => subject::export(&ctx, &subject, format, output.as_deref()),
        Command::Receipt {
            event_id,
            format,
            checkpoint,
            sign_with,
            output,
        } => {
            let ledger = ctx.open()?;
            let id = event_id;
            let source = match (&checkpoint, &sign_with) {
                (Some(c), _) if c.as_os_str() == "latest" => receipt::CheckpointSource::Latest,
                (Some(c), _) => receipt::CheckpointSource::File(c),
                (None, Some(k)) => receipt::CheckpointSource::SignWith(k),
                (None, None) => return Err(Failure::usage("give --checkpoint FILE")),
            };
            let text = receipt::build(&ledger, id, format, source)?;
            output::write_out(output.as_deref(), &text)?;
            if let Some(p) = output {
                output::integrity::receipt_written(id, &p)?;
            }
            Ok(())
        }
        Command::Verify { against, trust } => integrity::verify(&ctx, against.as_ref(), &trust),
        Command::Checkpoint(a) => checkpoint::run(&ctx, a),
        Command::Witness(c) => witness::run(&ctx, c),
        Command::Head => {
            let head = ctx.open()?.head()?;
            if ctx.json {
                print_json(
                    &json!({ "head": head.to_string(), "size": head.size, "root": hex::encode(head.root) }),
                )
            } else {
                output::integrity::head(&head)
            }
        }
        Command::Prove(ProveCmd::Consistency { old_head, output }) => {
            integrity::prove_consistency(&ctx, &old_head, output.as_deref())
        }
        Command::Key(c) => keys::key(&ctx, c),
        Command::CheckReceipt {
            file,
            log_key,
            witness_keys,
            quorum,
            head,
            consistency,
        } => integrity::check_receipt(
            &ctx,
            &file,
            &integrity::ReceiptKeys {
                log: &log_key,
                witnesses: &witness_keys,
                quorum,
            },
            head.as_ref(),
            consistency.as_deref(),
        ),
        Command::Import(args) => import::import(&ctx, &args),
        Command::Erase {
            subject,
            from_file,
            reason,
            actor,
            force,
            dry_run,
            report,
        } => {
            let how = erasure::How {
                reason,
                actor,
                force,
                dry_run,
            };
            match (subject, from_file) {
                (_, Some(file)) => erasure::erase_file(&ctx, &file, &how, report.as_deref()),
                (Some(subject), None) => erasure::erase_one(&ctx, &subject, &how),
                (None, None) => Err(Failure::usage("give SUBJECT or --from-file FILE")),
            }
        }
        Command::Readmit {
            subject,
            reason,
            by,
        } => erasure::readmit(&ctx, &subject, &reason, &by),
        Command::CompleteErasures { wait, rewrite } => {
            erasure::complete_erasures(&ctx, wait, rewrite)
        }
        Command::Report(a) => report::run(&ctx, &a),
        Command::Completions { shell } => completions::completions(shell),
        Command::Man { dir } => completions::man(dir.as_deref()),
        Command::Copy { from, to } => copy::copy(&ctx, &Location::new(from), &Location::new(to)),
        Command::Grants {
            schema,
            role,
            access,
            apply,
        } => grants::grants(&ctx, schema.as_deref(), &role, access.into(), apply),
    }
}
