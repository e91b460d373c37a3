//! `consent purpose add|list|show`.

use consent_core::{LawfulBasis, Purpose, PurposeDef, Registered, Validity};

use crate::cli::{PurposeAddArgs, PurposeCmd};
use crate::ctx::Ctx;
use crate::exit::{CliResult, Failure};
use crate::output::{self, outln, print_json};

pub(super) fn purpose(ctx: &Ctx, cmd: PurposeCmd) -> CliResult {
    let ledger = ctx.open()?;
    match cmd {
        PurposeCmd::Add(a) => {
            let def = purpose_def(a)?;
            let Registered { value: p, new } = ledger.register_purpose_outcome(def)?;
            if ctx.json {
                return print_json(&p);
            }
            if new {
                outln!(
                    "registered purpose {} version {} (event #{})",
                    p.def.id,
                    p.version,
                    p.seq
                )?;
                if !p.material_change.is_empty() {
                    outln!(
                        "material change ({}): grants given under earlier versions no longer permit (needs_renewal) until the students are asked again",
                        p.material_change.join(", ")
                    )?;
                }
            } else {
                outln!(
                    "purpose {} version {} is unchanged; nothing recorded",
                    p.def.id,
                    p.version
                )?;
            }
            Ok(())
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

fn purpose_def(a: PurposeAddArgs) -> CliResult<PurposeDef> {
    let mut def = PurposeDef::new(a.id, a.title, a.controller);
    def.lawful_basis = LawfulBasis::parse(&a.basis)?;
    def.special_category = a.special_category;
    def.validity = parse_validity(&a.validity)?;
    def.effect_delay_secs = parse_duration_secs(&a.effect_delay)?;
    def.withdrawal_method = a.withdrawal_method;
    def.recipients = a.recipients;
    def.renew_consent = a.renew_consent;
    Ok(def)
}

fn parse_validity(s: &str) -> CliResult<Validity> {
    let s = s.trim();
    let bad = || {
        Failure::usage(format!(
            "--validity: `{s}` is not none, academic-year[:MM-DD], course-year or days:N"
        ))
    };
    Ok(match s {
        "none" => Validity::None,
        "academic-year" => Validity::ACADEMIC_YEAR,
        "course-year" => Validity::CourseYear,
        _ => {
            if let Some(md) = s.strip_prefix("academic-year:") {
                let (m, d) = md.split_once('-').ok_or_else(bad)?;
                Validity::AcademicYear {
                    end_month: m.parse().map_err(|_| bad())?,
                    end_day: d.parse().map_err(|_| bad())?,
                }
            } else if let Some(n) = s.strip_prefix("days:") {
                Validity::Days {
                    days: n.parse().map_err(|_| bad())?,
                }
            } else {
                return Err(bad());
            }
        }
    })
}

/// `24h`, `30m`, `2d`, `90s` or plain seconds.
fn parse_duration_secs(s: &str) -> CliResult<u64> {
    let s = s.trim();
    let bad = || {
        Failure::usage(format!(
            "--effect-delay: `{s}` is not a duration like 24h, 30m, 2d or 86400"
        ))
    };
    let (num, mult) = match s.chars().last() {
        Some('s') => (&s[..s.len() - 1], 1),
        Some('m') => (&s[..s.len() - 1], 60),
        Some('h') => (&s[..s.len() - 1], 3600),
        Some('d') => (&s[..s.len() - 1], 86_400),
        _ => (s, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(bad)
}
