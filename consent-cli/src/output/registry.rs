//! The registry for people: purposes, their versions and validity in words, notices,
//! and the report of a registry load.

use consent_core::{HashCheck, Notice, Purpose, PurposeDef, Validity};

use super::{fields, outln, print, short_hash, Table, Times};
use crate::exit::CliResult;
use crate::registry::Loaded;

fn validity_text(v: &Validity) -> String {
    match v {
        Validity::None => "until withdrawn".into(),
        Validity::Days { days } => format!("{days} days"),
        Validity::AcademicYear { end_month, end_day } => {
            format!("academic year (to {end_day:02}/{end_month:02})")
        }
        Validity::CourseYear => "a year from the start (course year)".into(),
    }
}

fn delay_text(secs: u64) -> String {
    match secs {
        0 => "-".into(),
        s if s % 86_400 == 0 && s >= 86_400 * 2 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

fn basis_text(p: &PurposeDef) -> String {
    let mut s = format!("6(1)({})", p.lawful_basis.letter());
    if let Some(c) = p.special_category {
        s.push_str(&format!(" + 9(2)({c})"));
    }
    s
}

pub(crate) fn purpose_table(list: &[Purpose]) -> String {
    let mut t = Table::new(&[
        "PURPOSE",
        "V",
        "CONTROLLER",
        "BASIS",
        "VALIDITY",
        "DELAY",
        "RECIPIENTS",
    ]);
    for p in list {
        t.row(vec![
            p.def.id.clone(),
            p.version.to_string(),
            p.def.controller.clone(),
            basis_text(&p.def),
            validity_text(&p.def.validity),
            delay_text(p.def.effect_delay_secs),
            if p.def.recipients.is_empty() {
                "-".into()
            } else {
                p.def.recipients.join(", ")
            },
        ]);
    }
    t.render()
}

/// Every version of one purpose, field by field (`consent purpose show`).
pub(crate) fn purpose_versions(times: Times<'_>, versions: &[Purpose]) -> CliResult {
    for p in versions {
        let d = &p.def;
        outln!("{} — version {}", d.id, p.version)?;
        print(&fields(&[
            ("title", d.title.clone()),
            ("controller", d.controller.clone()),
            ("lawful basis", d.lawful_basis.describe().to_string()),
            (
                "special category",
                d.special_category.map_or("-".into(), |c| {
                    format!("Art. 9(2)({c}): grants must be explicit")
                }),
            ),
            ("validity", validity_text(&d.validity)),
            ("withdrawal delay", delay_text(d.effect_delay_secs)),
            (
                "how to withdraw",
                if d.withdrawal_method.is_empty() {
                    "-".into()
                } else {
                    d.withdrawal_method.clone()
                },
            ),
            (
                "recipients",
                if d.recipients.is_empty() {
                    "-".into()
                } else {
                    d.recipients.join(", ")
                },
            ),
            (
                "registered",
                format!("{} (event #{})", times.show(p.registered_at), p.seq),
            ),
            (
                "material change",
                if p.material_change.is_empty() {
                    "-".into()
                } else {
                    format!(
                        "{}: earlier grants need renewal",
                        p.material_change.join(", ")
                    )
                },
            ),
        ]))?;
    }
    Ok(())
}

/// The registered notices as a table (`consent notice list`).
pub(crate) fn notice_table(all: &[Notice]) -> String {
    let mut t = Table::new(&[
        "NOTICE",
        "VERSION",
        "LANG",
        "SHA-256",
        "CONTROLLER",
        "COVERS",
        "TITLE",
    ]);
    for n in all {
        t.row(vec![
            n.def.id.clone(),
            n.def.version.clone(),
            n.def.language.clone(),
            short_hash(&n.def.sha256),
            if n.def.controller.is_empty() {
                "-".into()
            } else {
                n.def.controller.clone()
            },
            if n.def.purposes.is_empty() {
                "every purpose".into()
            } else {
                n.def.purposes.join(", ")
            },
            n.def.title.clone(),
        ]);
    }
    t.render()
}

/// What `consent registry load` registered, and what was already current.
pub(crate) fn registry_loaded(loaded: &[Loaded]) -> CliResult {
    let mut t = Table::new(&["", "ID", "", "TEXT HASH / VERSION"]);
    for l in loaded {
        let check = match l.hash {
            Some(HashCheck::Checked) => "text checked",
            Some(HashCheck::Computed) => "hashed from text",
            Some(HashCheck::Unchecked) => "text not available",
            None => "",
        };
        let detail = if l.what == "notice" {
            format!(
                "{}  {check}",
                short_hash(&hex::decode(&l.detail).unwrap_or_default())
            )
        } else {
            l.detail.clone()
        };
        t.row(vec![
            l.what.to_string(),
            l.id.clone(),
            if l.new {
                "new".into()
            } else if let Some(note) = &l.note {
                note.clone()
            } else {
                "unchanged".into()
            },
            detail,
        ]);
    }
    print(&t.render())?;
    let new = loaded.iter().filter(|l| l.new).count();
    outln!(
        "{} entries, {new} recorded, {} unchanged",
        loaded.len(),
        loaded.len() - new
    )?;
    Ok(())
}

/// A purpose registered by `consent purpose add` (`new`), or found unchanged, and
/// what a material change does to earlier grants.
pub(crate) fn purpose_registered(p: &Purpose, new: bool) -> CliResult {
    if !new {
        return outln!(
            "purpose {} version {} is unchanged; nothing recorded",
            p.def.id,
            p.version
        );
    }
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
    Ok(())
}

/// A notice registered by `consent notice add` (`new`), or on record already.
pub(crate) fn notice_registered(n: &Notice, new: bool) -> CliResult {
    let what = if new {
        "registered"
    } else {
        "already registered:"
    };
    outln!(
        "{what} notice {}@{} sha256 {}",
        n.def.id,
        n.def.version,
        hex::encode(n.def.sha256)
    )
}
