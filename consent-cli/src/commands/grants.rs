//! `consent grants`: the SQL that gives a database role read, append or erase access
//! to a PostgreSQL ledger (docs/POSTGRES.md "Roles"), printed for the DBA to review
//! and run, or run at once with `--apply`.
//!
//! Both come from the core (`grants_sql`, `apply_grants`), so the SQL lives in one
//! place. With `--apply` stdout is still that SQL, followed by a comment line saying
//! it ran, so the output of either form can be kept or piped to `psql`.

use consent_core::{apply_grants, grants_sql, url_schema, Access};
use serde_json::json;

use crate::ctx::Ctx;
use crate::exit::{CliResult, Failure};
use crate::location::Location;
use crate::output::{emit, print_json};

/// The URL of `--ledger` when it names a PostgreSQL ledger.
fn ledger_url(ctx: &Ctx) -> Option<&str> {
    match ctx.location() {
        Ok(Location::Postgres(url)) => Some(url),
        _ => None,
    }
}

/// The schema the grants are for: `--schema`, else the one `--ledger`'s URL names.
/// With `--apply` they must agree, since the grants run on the URL's schema.
fn schema(ctx: &Ctx, given: Option<&str>, apply: bool) -> CliResult<String> {
    let from_url = ledger_url(ctx).map(url_schema).transpose()?;
    match (given, from_url) {
        (Some(s), Some(u)) if apply && s != u => Err(Failure::usage(format!(
            "--schema {s} is not the schema of --ledger ({u}); --apply grants on the ledger's own"
        ))),
        (Some(s), _) => Ok(s.to_string()),
        (None, Some(u)) => Ok(u),
        (None, None) => Err(Failure::usage(
            "grants are for a PostgreSQL ledger: pass --ledger postgresql://…?schema=NAME or --schema NAME",
        )),
    }
}

fn access_name(access: Access) -> &'static str {
    match access {
        Access::Read => "read",
        Access::Append => "append",
        Access::Erase => "erase",
    }
}

/// Runs `consent grants`.
pub(crate) fn grants(
    ctx: &Ctx,
    schema_arg: Option<&str>,
    role: &str,
    access: Access,
    apply: bool,
) -> CliResult {
    let schema = schema(ctx, schema_arg, apply)?;
    let sql =
        match (apply, ledger_url(ctx)) {
            (false, _) => grants_sql(&schema, role, access)?,
            (true, Some(url)) => apply_grants(url, role, access)?,
            (true, None) => return Err(Failure::usage(
                "--apply runs the grants on the ledger's database: pass --ledger postgresql://…",
            )),
        };
    let access = access_name(access);
    if ctx.json {
        return print_json(&json!({
            "schema": schema,
            "role": role,
            "access": access,
            "sql": sql,
            "applied": apply,
        }));
    }
    emit(&sql)?;
    if apply {
        emit(&format!(
            "-- applied: role {role} has {access} access to the ledger in schema {schema}\n"
        ))?;
    }
    Ok(())
}
