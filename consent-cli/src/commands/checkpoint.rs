//! `consent checkpoint` and the checkpoint half of `consent verify` (docs/FORMAT.md
//! §11): the ledger's keeper signs the head with the log key, keeps the note, merges
//! the witnesses' cosignatures into it and publishes it where others hold copies.
//!
//! A head the ledger keeps about itself proves nothing against an insider who can
//! rewrite the file (its `checkpoints` table included). What catches them is a copy held
//! elsewhere: the publish directory and the witnesses. So `verify --checkpoint` takes a
//! published note and checks the ledger against it, with the verifier keys alone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use consent_core::{
    publish_checkpoint, read_published, read_signing_key_file, CheckpointsReport, Error, KeyRole,
    Ledger, Published, SignedHead, VerifyReport,
};
use serde_json::{json, Value};

use crate::cli::checkpoint::{CheckpointArgs, CheckpointCmd, TrustArgs};
use crate::ctx::Ctx;
use crate::exit::{CliResult, Failure, NOT_FOUND, TAMPER};
use crate::output::checkpoint::{root_b64, signers};
use crate::output::{self, emit, print_json};
use crate::receipt::verifier_key;

fn read(p: &Path) -> CliResult<String> {
    std::fs::read_to_string(p)
        .map_err(|e| Failure::new(NOT_FOUND, format!("cannot read {}: {e}", p.display())))
}

fn summary(s: &SignedHead) -> Value {
    json!({
        "size": s.checkpoint.size,
        "origin": s.checkpoint.origin,
        "root": root_b64(&s.checkpoint),
        "head": s.head().to_string(),
        "signed_by": signers(&s.note),
        "note": s.note,
    })
}

fn published_json(dir: &Path, p: &Published) -> Value {
    json!({ "dir": dir, "size": p.size, "changed": p.changed, "latest": p.latest })
}

/// Publishes `note` in `dir` and says so on stderr (stdout carries the note).
fn publish(ctx: &Ctx, dir: &Path, note: &str) -> CliResult<Published> {
    // Another note under a size already published means the log signed two trees of
    // one size: evidence against the log, not a usage slip.
    let p = publish_checkpoint(dir, note).map_err(|e| match e {
        Error::Conflict(m) => Failure::new(TAMPER, format!("refused to publish: {m}")),
        e => Failure::from(e),
    })?;
    if !ctx.json {
        output::checkpoint::published(dir, &p);
    }
    Ok(p)
}

/// Runs `consent checkpoint ...`.
pub(crate) fn run(ctx: &Ctx, args: CheckpointArgs) -> CliResult {
    let ledger = ctx.open()?;
    match args.command {
        None => sign(ctx, &ledger, args.key.as_deref(), args.publish.as_deref()),
        Some(_) if args.publish.is_some() => Err(Failure::usage(
            "--publish before the subcommand is for signing; give it after `add-cosignatures`",
        )),
        Some(CheckpointCmd::List) => list(ctx, &ledger),
        Some(CheckpointCmd::Show { which }) => show(ctx, &ledger, &which),
        Some(CheckpointCmd::AddCosignatures { files, publish }) => {
            add_cosignatures(ctx, &ledger, &files, publish.as_deref())
        }
    }
}

fn sign(ctx: &Ctx, ledger: &Ledger, key: Option<&Path>, dir: Option<&Path>) -> CliResult {
    let key = key.ok_or_else(|| {
        Failure::usage("no log key: pass --key FILE or set CONSENT_LOG_KEY (make one with `consent key generate --name ORIGIN -o FILE`)")
    })?;
    let key = read_signing_key_file(key, KeyRole::Log)?;
    let signed = ledger.sign_checkpoint(&key)?;
    if !ctx.json {
        // The note first: it is signed and kept even if publishing then fails.
        emit(&signed.note)?;
    }
    let published = dir.map(|d| publish(ctx, d, &signed.note)).transpose()?;
    if ctx.json {
        let mut v = summary(&signed);
        v["published"] = match (dir, &published) {
            (Some(d), Some(p)) => published_json(d, p),
            _ => Value::Null,
        };
        return print_json(&v);
    }
    Ok(())
}

fn list(ctx: &Ctx, ledger: &Ledger) -> CliResult {
    let all = ledger.checkpoints()?;
    if ctx.json {
        return print_json(&all.iter().map(summary).collect::<Vec<_>>());
    }
    output::checkpoint::list(&all)
}

fn show(ctx: &Ctx, ledger: &Ledger, which: &str) -> CliResult {
    let found = if which == "latest" {
        ledger.latest_checkpoint()?
    } else {
        let size: u64 = which.parse().map_err(|_| {
            Failure::usage(format!("`{which}` is not a size (a number) or `latest`"))
        })?;
        ledger
            .checkpoints()?
            .into_iter()
            .find(|s| s.checkpoint.size == size)
    };
    let s = found.ok_or_else(|| {
        Failure::new(
            NOT_FOUND,
            format!("no checkpoint {which} in the ledger (sign one with `consent checkpoint --key FILE`)"),
        )
    })?;
    if ctx.json {
        return print_json(&summary(&s));
    }
    emit(&s.note)
}

fn add_cosignatures(
    ctx: &Ctx,
    ledger: &Ledger,
    files: &[PathBuf],
    dir: Option<&Path>,
) -> CliResult {
    // The merged note of each size, in size order (witnesses may return several).
    let mut merged: BTreeMap<u64, SignedHead> = BTreeMap::new();
    for f in files {
        let text = read(f)?;
        let m = ledger
            .add_cosignatures(&text)
            .map_err(|e| Failure::from(e).prefixed(&f.display().to_string()))?;
        merged.insert(m.checkpoint.size, m);
    }
    let mut published = Vec::new();
    if let Some(d) = dir {
        for s in merged.values() {
            published.push(published_json(d, &publish(ctx, d, &s.note)?));
        }
    }
    if ctx.json {
        let notes: Vec<_> = merged.values().map(summary).collect();
        return print_json(&json!({ "merged": notes, "published": published }));
    }
    output::checkpoint::cosignatures_added(merged.values())
}

/// A note file, or the latest checkpoint of a publish directory.
fn published_note(p: &Path) -> CliResult<(String, String)> {
    if p.is_dir() {
        let what = format!(
            "the published checkpoint ({})",
            p.join("checkpoint").display()
        );
        Ok((read_published(p)?, what))
    } else {
        Ok((read(p)?, format!("the checkpoint in {}", p.display())))
    }
}

/// The second half of `verify` once every hash checked out: the ledger's own
/// checkpoints, then the one held elsewhere. Prints the hash report too (one JSON
/// document with `--json`).
pub(crate) fn verify_trust(
    ctx: &Ctx,
    ledger: &Ledger,
    report: &VerifyReport,
    against: Option<&str>,
    trust: &TrustArgs,
) -> CliResult {
    let Some(log) = &trust.log_key else {
        return Ok(());
    };
    let log_key = verifier_key("--log-key", log)?;
    let witnesses = trust
        .witness_keys
        .iter()
        .map(|w| verifier_key("--witness-key", w))
        .collect::<CliResult<Vec<_>>>()?;
    let quorum = trust.quorum.unwrap_or(witnesses.len());
    let stored: CheckpointsReport = ledger.verify_checkpoints(&log_key, &witnesses, 0)?;
    let outside = trust
        .checkpoint
        .as_deref()
        .map(|p| -> CliResult<_> {
            let (note, what) = published_note(p)?;
            let verdict = ledger
                .check_checkpoint(&note, &log_key, &witnesses, quorum)
                .map_err(|e| Failure::from(e).prefixed(&what))?;
            Ok((what, verdict))
        })
        .transpose()?;

    if ctx.json {
        let mut v = serde_json::to_value(report).map_err(|e| Failure::usage(e.to_string()))?;
        v["checkpoints"] =
            serde_json::to_value(&stored).map_err(|e| Failure::usage(e.to_string()))?;
        v["published"] = match &outside {
            None => Value::Null,
            Some((what, verdict)) => json!({
                "what": what,
                "size": verdict.checkpoint.size,
                "holds": verdict.holds(),
                "cosigned_by": verdict.witnesses.iter().map(|w| &w.name).collect::<Vec<_>>(),
                "problem": verdict.finding.as_ref().map(ToString::to_string),
            }),
        };
        let all_ok = report.ok && stored.ok && outside.as_ref().is_none_or(|(_, v)| v.holds());
        v["ok"] = Value::Bool(all_ok);
        print_json(&v)?;
    } else {
        crate::output::integrity::verified(report, against)?;
        output::checkpoint::trusted(log_key.name(), &stored, outside.as_ref())?;
    }
    if !stored.ok {
        let at = stored
            .first_bad_size
            .map_or(String::new(), |s| format!(" (checkpoint of size {s})"));
        return Err(Failure::new(
            TAMPER,
            format!(
                "TAMPERED: {}{at}",
                stored
                    .problem
                    .unwrap_or_else(|| "a stored checkpoint does not hold".into())
            ),
        ));
    }
    if let Some((what, verdict)) = outside {
        if let Some(finding) = verdict.finding {
            return Err(Failure::new(
                TAMPER,
                format!(
                    "TAMPERED: the log does not hold {what}, signed by {} at size {}: {finding}",
                    log_key.name(),
                    verdict.checkpoint.size
                ),
            ));
        }
    }
    Ok(())
}
