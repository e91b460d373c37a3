//! `consent registry load`: a thin layer over [`consent_core::Registry`] and
//! [`consent_core::Ledger::load_registry`], which read the TOML (`[[notice]]` and
//! `[[purpose]]` tables), check every notice text against its hash, and register every
//! entry in one batch, so one bad entry registers none.
//!
//! This module only turns the core's answers into the CLI's report lines and exit
//! codes: an unreadable file is "not found" (3), a text that does not hash to the
//! registry's value is an integrity failure (1), a malformed file is a usage error (2).

use std::path::Path;

use consent_core::{Error, Ledger, Registry, RegistryEntryKind};

pub use consent_core::HashCheck;

use crate::exit::{CliResult, Failure, NOT_FOUND, TAMPER};

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
    /// What the load did not do: `retired, not reactivated` for a retired downstream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The exit code of an error met while reading the registry (before any write).
fn reading(e: Error) -> Failure {
    match e {
        Error::Io(e) => Failure::new(NOT_FOUND, e.to_string()),
        // The only conflict a read finds: a text that does not hash to the stated value.
        Error::Conflict(m) => Failure::new(TAMPER, m),
        Error::InvalidArgument(m) => Failure::usage(m),
        other => Failure::from(other),
    }
}

/// Reads and checks `file`, then registers every entry, or none.
pub fn load(ledger: &Ledger, file: &Path, texts: Option<&Path>) -> CliResult<Vec<Loaded>> {
    let registry = Registry::from_file(file, texts).map_err(reading)?;
    let report = ledger.load_registry(&registry)?;
    Ok(report
        .entries
        .into_iter()
        .map(|e| match e.kind {
            RegistryEntryKind::Notice => Loaded {
                what: "notice",
                id: format!("{}@{}", e.id, e.notice_version.unwrap_or_default()),
                detail: e.sha256.map(hex::encode).unwrap_or_default(),
                new: e.new,
                hash: e.hash,
                note: e.note,
            },
            RegistryEntryKind::Purpose => Loaded {
                what: "purpose",
                id: e.id,
                detail: format!("v{}", e.purpose_version.unwrap_or_default()),
                new: e.new,
                hash: None,
                note: e.note,
            },
            RegistryEntryKind::Downstream => Loaded {
                what: "downstream",
                id: e.id,
                detail: format!("v{}", e.purpose_version.unwrap_or_default()),
                new: e.new,
                hash: None,
                note: e.note,
            },
        })
        .collect())
}
