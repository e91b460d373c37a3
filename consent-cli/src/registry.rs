//! The TOML registry: `[[notice]]` and `[[purpose]]` tables.
//!
//! A purpose table has exactly the fields of [`consent_core::PurposeDef`]. A notice
//! table names its text file and/or the SHA-256 of the text; when both are there and
//! the file can be read, they must agree, so the registry cannot drift from the text.
//!
//! A load is all or nothing: every file is read and every hash checked first, then
//! every entry is registered in one batch, so one bad entry registers none.

use std::path::{Path, PathBuf};

use consent_core::{canonical, Ledger, NoticeDef, PurposeDef};
use serde::Deserialize;

use crate::exit::{CliResult, Failure, NOT_FOUND, USAGE};

/// An error about one entry, named so the user can find it in the file.
fn about(what: &str, id: &str, e: consent_core::Error) -> Failure {
    let f = Failure::from(e);
    Failure::new(f.code, format!("{what} {id}: {}", f.message))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Registry {
    #[serde(default)]
    notice: Vec<NoticeEntry>,
    #[serde(default)]
    purpose: Vec<PurposeDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoticeEntry {
    id: String,
    version: String,
    title: String,
    #[serde(default)]
    sha256: Option<String>,
    #[serde(default)]
    text_file: Option<PathBuf>,
    #[serde(default = "en_gb")]
    language: String,
    #[serde(default)]
    url: Option<String>,
}

fn en_gb() -> String {
    "en-GB".into()
}

/// How a notice's hash was established.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HashCheck {
    /// Computed from the text file and equal to the registry's value.
    Checked,
    /// Computed from the text file; the registry gave none.
    Computed,
    /// Taken from the registry; no `--texts` was given and the text file is not
    /// next to the registry.
    Unchecked,
}

/// One line of the load report.
#[derive(Debug, serde::Serialize)]
pub struct Loaded {
    /// `purpose` or `notice`.
    pub what: &'static str,
    /// Id (and version for notices).
    pub id: String,
    /// Purpose version, or notice hash (hex).
    pub detail: String,
    /// Whether this load appended an event.
    pub new: bool,
    /// For notices: how the hash was established.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<HashCheck>,
}

/// Reads and checks `file`, then registers every entry, or none.
pub fn load(ledger: &Ledger, file: &Path, texts: Option<&Path>) -> CliResult<Vec<Loaded>> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::new(NOT_FOUND, format!("cannot read {}: {e}", file.display())))?;
    let reg: Registry =
        toml::from_str(&text).map_err(|e| Failure::usage(format!("{}: {e}", file.display())))?;
    let base = texts
        .map(Path::to_path_buf)
        .unwrap_or_else(|| file.parent().unwrap_or(Path::new(".")).to_path_buf());

    // Check every notice before writing anything.
    let mut notices = Vec::new();
    for n in reg.notice {
        let stated = n
            .sha256
            .as_deref()
            .map(|h| {
                canonical::parse_hash(h)
                    .map_err(|e| Failure::usage(format!("notice {}: {e}", n.id)))
            })
            .transpose()?;
        let computed = match &n.text_file {
            None => None,
            Some(f) => match std::fs::read(base.join(f)) {
                Ok(b) => Some(canonical::sha256(&b)),
                // Without --texts the texts may simply not be kept by the registry;
                // anything else (asked-for, or there but unreadable) is an error.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && texts.is_none() => None,
                Err(e) => {
                    return Err(Failure::new(
                        NOT_FOUND,
                        format!(
                            "notice {}@{}: cannot read its text {}: {e}",
                            n.id,
                            n.version,
                            base.join(f).display()
                        ),
                    ))
                }
            },
        };
        let (sha256, check) = match (stated, computed) {
            (Some(s), Some(c)) if s != c => {
                return Err(Failure::new(
                    crate::exit::TAMPER,
                    format!(
                        "notice {}@{}: the text in {} hashes to {}, the registry says {}",
                        n.id,
                        n.version,
                        base.join(n.text_file.as_deref().unwrap_or(Path::new("")))
                            .display(),
                        hex::encode(c),
                        hex::encode(s)
                    ),
                ))
            }
            (Some(s), Some(_)) => (s, HashCheck::Checked),
            (None, Some(c)) => (c, HashCheck::Computed),
            (Some(s), None) => (s, HashCheck::Unchecked),
            (None, None) => {
                return Err(Failure::new(
                    USAGE,
                    format!(
                        "notice {}@{}: give `sha256` or a readable `text_file`",
                        n.id, n.version
                    ),
                ))
            }
        };
        let def = NoticeDef {
            id: n.id,
            version: n.version,
            language: n.language,
            sha256,
            title: n.title,
            url: n.url,
        };
        notices.push((def, check));
    }

    let batch = ledger.batch()?;
    match register(&batch, notices, reg.purpose) {
        Ok(out) => {
            batch.commit()?;
            Ok(out)
        }
        Err(e) => {
            // The entry's error is the one to report, whatever the rollback says.
            let _ = batch.rollback();
            Err(e)
        }
    }
}

/// Registers every entry inside the open batch; the first error stops it.
fn register(
    ledger: &consent_core::Batch<'_>,
    notices: Vec<(NoticeDef, HashCheck)>,
    purposes: Vec<PurposeDef>,
) -> CliResult<Vec<Loaded>> {
    let mut out = Vec::new();
    for (def, check) in notices {
        let id = format!("{}@{}", def.id, def.version);
        let before = ledger.head()?.size;
        let n = ledger
            .register_notice(def)
            .map_err(|e| about("notice", &id, e))?;
        out.push(Loaded {
            what: "notice",
            id,
            detail: hex::encode(n.def.sha256),
            new: n.seq >= before,
            hash: Some(check),
        });
    }
    for def in purposes {
        let id = def.id.clone();
        let before = ledger.head()?.size;
        let p = ledger
            .register_purpose(def)
            .map_err(|e| about("purpose", &id, e))?;
        out.push(Loaded {
            what: "purpose",
            id,
            detail: format!("v{}", p.version),
            new: p.seq >= before,
            hash: None,
        });
    }
    Ok(out)
}
