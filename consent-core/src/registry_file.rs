//! The registry file: the institution's purposes and notices in TOML, loaded into a
//! ledger in one batch.
//!
//! ```toml
//! [[notice]]
//! id = "jmsu.privacy"
//! version = "1"
//! title = "JMSU privacy policy"
//! controller = "JMSU"
//! purposes = ["jmsu.*"]              # ids, or a prefix ending in `.*`
//! text_file = "jmsu-privacy.txt"     # and/or
//! sha256 = "e899…"                   # the SHA-256 of the exact text shown
//!
//! [[purpose]]
//! id = "jmsu.marketing"
//! title = "Marketing by JMSU"
//! controller = "JMSU"
//! lawful_basis = "a"
//! ```
//!
//! A `[[downstream]]` table (the students' union feed: `id`, `name`, `controller`,
//! `purposes`, optional `recipient`) has the fields of [`crate::DownstreamDef`]
//! but `retired`; it is registered after the purposes, by `system:consent-ledger`.
//!
//! A `[[purpose]]` table has exactly the fields of [`PurposeDef`]. A `[[notice]]` table
//! has the fields of [`NoticeDef`], except that the hash may be given as `sha256`, as a
//! `text_file` to hash, or both; when both are there and the text can be read they must
//! agree, so the registry cannot drift from the text the subjects read. Unknown fields
//! are refused everywhere.
//!
//! Reading ([`Registry::from_file`], [`Registry::from_toml_str`]) checks every entry
//! and every text without touching a ledger; [`Ledger::load_registry`] then registers
//! every entry in one batch, so one bad entry registers none.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::batch::Batch;
use crate::error::{Error, Result};
use crate::ledger::Ledger;
use crate::merkle::Hash;
use crate::notice::NoticeDef;
use crate::purpose::PurposeDef;
use crate::registry::Registered;

/// How a notice's hash was established when the registry was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HashCheck {
    /// Computed from the text file and equal to the registry's `sha256`.
    Checked,
    /// Computed from the text file; the registry gave no `sha256`.
    Computed,
    /// Taken from the registry's `sha256`; the text was not available to check it
    /// (no text folder was given and the file is not next to the registry).
    Unchecked,
}

impl HashCheck {
    /// `checked`, `computed` or `unchecked`.
    pub fn as_str(self) -> &'static str {
        match self {
            HashCheck::Checked => "checked",
            HashCheck::Computed => "computed",
            HashCheck::Unchecked => "unchecked",
        }
    }
}

/// A registry read and checked, ready for [`Ledger::load_registry`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registry {
    /// The notices, in file order.
    pub notices: Vec<NoticeDef>,
    /// How each notice's hash was established: one per notice, same order (a notice
    /// without one, in a registry built by hand, counts as [`HashCheck::Unchecked`]).
    pub hash_checks: Vec<HashCheck>,
    /// The purposes, in file order.
    pub purposes: Vec<PurposeDef>,
    /// The downstream systems, in file order (registered after the purposes).
    pub downstreams: Vec<crate::DownstreamDef>,
}

/// The TOML document.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryFile {
    #[serde(default)]
    notice: Vec<NoticeEntry>,
    #[serde(default)]
    purpose: Vec<PurposeDef>,
    #[serde(default)]
    downstream: Vec<DownstreamEntry>,
}

/// A `[[downstream]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DownstreamEntry {
    id: String,
    name: String,
    controller: String,
    purposes: Vec<String>,
    #[serde(default)]
    recipient: Option<String>,
}

/// A `[[notice]]` table.
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
    #[serde(default)]
    controller: String,
    #[serde(default)]
    purposes: Vec<String>,
}

fn en_gb() -> String {
    "en-GB".into()
}

/// Where the notice texts are looked for, and whether a missing one is an error.
struct Texts<'a> {
    dir: Option<&'a Path>,
    /// The folder was asked for (`--texts`): every text must be there.
    required: bool,
}

impl Registry {
    /// Reads the registry file at `path`. Notice texts (`text_file`) are read from the
    /// folder `texts` when given — then every text named must be readable — and
    /// otherwise from the registry's own folder, where a missing text only leaves the
    /// stated `sha256` unchecked.
    ///
    /// # Errors
    /// [`Io`](crate::ErrorKind::Io) when the file or a text cannot be read;
    /// [`InvalidArgument`](crate::ErrorKind::InvalidArgument) for malformed TOML, an
    /// unknown field, an entry listed twice or an invalid one;
    /// [`Conflict`](crate::ErrorKind::Conflict) when a text does not hash to the
    /// `sha256` the registry states. Messages name the entry
    /// (`notice ljmu.wellbeing@1: …`).
    pub fn from_file(path: &Path, texts: Option<&Path>) -> Result<Registry> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Io(std::io::Error::new(
                e.kind(),
                format!("cannot read {}: {e}", path.display()),
            ))
        })?;
        let folder = path
            .parent()
            .map(|p| {
                if p.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    p
                }
            })
            .unwrap_or(Path::new("."));
        let base = Texts {
            dir: Some(texts.unwrap_or(folder)),
            required: texts.is_some(),
        };
        Registry::parse(&text, &path.display().to_string(), &base)
    }

    /// Reads a registry from TOML text. With `base_dir`, every `text_file` is read from
    /// that folder and must be readable; without it no text is read, and every notice
    /// needs its `sha256` (which then stays unchecked).
    ///
    /// # Errors
    /// As [`Registry::from_file`].
    pub fn from_toml_str(text: &str, base_dir: Option<&Path>) -> Result<Registry> {
        let base = Texts {
            dir: base_dir,
            required: true,
        };
        Registry::parse(text, "registry", &base)
    }

    fn parse(text: &str, origin: &str, texts: &Texts<'_>) -> Result<Registry> {
        let file: RegistryFile = toml::from_str(text)
            .map_err(|e| Error::invalid(format!("{origin}: {}", e.to_string().trim_end())))?;
        let mut reg = Registry::default();
        for n in file.notice {
            let (def, check) = notice(n, texts)?;
            let name = format!("notice {}@{}", def.id, def.version);
            if reg
                .notices
                .iter()
                .any(|o| o.id == def.id && o.version == def.version)
            {
                return Err(Error::invalid(format!("{name} is listed twice")));
            }
            def.validate().map_err(|e| about(&name, e))?;
            reg.notices.push(def);
            reg.hash_checks.push(check);
        }
        for def in file.purpose {
            let name = format!("purpose {}", def.id);
            if reg.purposes.iter().any(|o| o.id == def.id) {
                return Err(Error::invalid(format!("{name} is listed twice")));
            }
            def.validate().map_err(|e| about(&name, e))?;
            reg.purposes.push(def);
        }
        for d in file.downstream {
            let name = format!("downstream {}", d.id);
            if reg.downstreams.iter().any(|o| o.id == d.id) {
                return Err(Error::invalid(format!("{name} is listed twice")));
            }
            let mut def = crate::DownstreamDef::new(d.id, d.name, d.controller, d.purposes);
            def.recipient = d.recipient;
            def.validate().map_err(|e| about(&name, e))?;
            reg.downstreams.push(def);
        }
        Ok(reg)
    }
}

/// Establishes one notice's hash from its `sha256` and/or its text.
fn notice(n: NoticeEntry, texts: &Texts<'_>) -> Result<(NoticeDef, HashCheck)> {
    let name = format!("notice {}@{}", n.id, n.version);
    let stated = n
        .sha256
        .as_deref()
        .map(crate::canonical::parse_hash)
        .transpose()
        .map_err(|e| about(&name, e))?;
    let file = match (&n.text_file, texts.dir) {
        (Some(f), Some(dir)) => Some(dir.join(f)),
        _ => None,
    };
    let computed: Option<Hash> = match &file {
        None => None,
        Some(f) => match std::fs::read(f) {
            Ok(bytes) => Some(crate::canonical::sha256(&bytes)),
            // Next to the registry the texts may simply not be kept; anything else
            // (a folder asked for, or a text there but unreadable) is an error.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !texts.required => None,
            Err(e) => {
                return Err(Error::Io(std::io::Error::new(
                    e.kind(),
                    format!("{name}: cannot read its text {}: {e}", f.display()),
                )))
            }
        },
    };
    let (sha256, check) = match (stated, computed) {
        (Some(s), Some(c)) if s != c => {
            return Err(Error::Conflict(format!(
                "{name}: the text in {} hashes to {}, the registry says {}",
                file.as_deref().unwrap_or(Path::new("")).display(),
                hex::encode(c),
                hex::encode(s)
            )))
        }
        (Some(s), Some(_)) => (s, HashCheck::Checked),
        (None, Some(c)) => (c, HashCheck::Computed),
        (Some(s), None) => (s, HashCheck::Unchecked),
        (None, None) => {
            return Err(Error::invalid(format!(
                "{name}: give `sha256` or a readable `text_file`"
            )))
        }
    };
    let def = NoticeDef {
        id: n.id,
        version: n.version,
        language: n.language,
        sha256,
        title: n.title,
        url: n.url,
        controller: n.controller,
        purposes: n.purposes,
    };
    Ok((def, check))
}

/// The error `e` about one entry, named so the user can find it in the file. Errors
/// whose message is free text get the name in front; the others keep their form.
fn about(entry: &str, e: Error) -> Error {
    match e {
        Error::InvalidArgument(m) => Error::InvalidArgument(format!("{entry}: {m}")),
        Error::InvalidTime(m) => Error::InvalidTime(format!("{entry}: {m}")),
        Error::InvalidConsent(m) => Error::InvalidConsent(format!("{entry}: {m}")),
        Error::Conflict(m) => Error::Conflict(format!("{entry}: {m}")),
        Error::NotFound(m) => Error::NotFound(format!("{entry}: {m}")),
        other => other,
    }
}

/// `notice` or `purpose`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistryEntryKind {
    /// A `[[notice]]` entry.
    Notice,
    /// A `[[purpose]]` entry.
    Purpose,
    /// A `[[downstream]]` entry.
    Downstream,
}

impl RegistryEntryKind {
    /// `notice`, `purpose` or `downstream`.
    pub fn as_str(self) -> &'static str {
        match self {
            RegistryEntryKind::Notice => "notice",
            RegistryEntryKind::Purpose => "purpose",
            RegistryEntryKind::Downstream => "downstream",
        }
    }
}

/// One entry of a [`RegistryReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegistryEntry {
    /// Notice or purpose.
    pub kind: RegistryEntryKind,
    /// The notice or purpose id.
    pub id: String,
    /// For a notice: its version label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice_version: Option<String>,
    /// For a notice: the SHA-256 of its text (64 hex digits in JSON).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "hex_opt")]
    pub sha256: Option<Hash>,
    /// For a notice: how its hash was established.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<HashCheck>,
    /// For a purpose or a downstream: the version the ledger now holds (a new one when
    /// it changed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purpose_version: Option<u32>,
    /// Whether this load appended its `notice_defined` / `purpose_defined` event
    /// (false: the ledger already held exactly this definition).
    pub new: bool,
    /// Sequence number of the event that registered it (earlier, when not new).
    pub seq: u64,
    /// What the load did not do, and why: `retired, not reactivated` for a downstream
    /// retired since (a load never reactivates one; register it again by hand).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The note of a registry entry skipped because its downstream is retired.
pub(crate) const RETIRED_NOT_REACTIVATED: &str = "retired, not reactivated";

fn hex_opt<S: serde::Serializer>(h: &Option<Hash>, s: S) -> std::result::Result<S::Ok, S::Error> {
    match h {
        Some(h) => s.serialize_str(&hex::encode(h)),
        None => s.serialize_none(),
    }
}

/// What [`Ledger::load_registry`] did: one entry per notice, then one per purpose, in
/// file order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RegistryReport {
    /// Every entry of the registry.
    pub entries: Vec<RegistryEntry>,
}

impl RegistryReport {
    /// How many entries appended an event (0 when the ledger already held them all).
    pub fn recorded(&self) -> usize {
        self.entries.iter().filter(|e| e.new).count()
    }
}

impl Ledger {
    /// Registers every notice, then every purpose, of `registry` in one batch: all of
    /// them or, on the first error, none. Entries the ledger already holds unchanged
    /// append nothing (so loading a registry twice is harmless); a changed purpose gets
    /// a new version. A downstream retired since is skipped, never reactivated: its
    /// entry's `note` says `retired, not reactivated`.
    ///
    /// # Errors
    /// Those of [`Ledger::begin_batch`]; then, for the first entry refused, those of
    /// [`Ledger::register_notice`] (a notice id and version already registered with
    /// another text is [`Conflict`](crate::ErrorKind::Conflict)),
    /// [`Ledger::register_purpose`] or [`Ledger::register_downstream`], its message
    /// naming the entry (`purpose jmsu.marketing: …`); or those of
    /// [`Ledger::commit_batch`]. Either way nothing was written.
    pub fn load_registry(&self, registry: &Registry) -> Result<RegistryReport> {
        let batch = self.batch()?;
        // On an error the batch is dropped, which rolls it back.
        let entries = register(&batch, registry)?;
        batch.commit()?;
        Ok(RegistryReport { entries })
    }
}

/// Registers every entry inside the open batch; the first error stops it.
fn register(batch: &Batch<'_>, registry: &Registry) -> Result<Vec<RegistryEntry>> {
    let mut out = Vec::with_capacity(registry.notices.len() + registry.purposes.len());
    for (i, def) in registry.notices.iter().enumerate() {
        let name = format!("notice {}@{}", def.id, def.version);
        let Registered { value: n, new } = batch
            .register_notice_outcome(def.clone())
            .map_err(|e| about(&name, e))?;
        out.push(RegistryEntry {
            kind: RegistryEntryKind::Notice,
            id: n.def.id.clone(),
            notice_version: Some(n.def.version.clone()),
            sha256: Some(n.def.sha256),
            hash: Some(
                registry
                    .hash_checks
                    .get(i)
                    .copied()
                    .unwrap_or(HashCheck::Unchecked),
            ),
            purpose_version: None,
            new,
            seq: n.seq,
            note: None,
        });
    }
    for def in &registry.purposes {
        let name = format!("purpose {}", def.id);
        let Registered { value: p, new } = batch
            .register_purpose_outcome(def.clone())
            .map_err(|e| about(&name, e))?;
        out.push(RegistryEntry {
            kind: RegistryEntryKind::Purpose,
            id: p.def.id.clone(),
            notice_version: None,
            sha256: None,
            hash: None,
            purpose_version: Some(p.version),
            new,
            seq: p.seq,
            note: None,
        });
    }
    for def in &registry.downstreams {
        let name = format!("downstream {}", def.id);
        // A downstream retired since an earlier load stays retired: skipped, and said.
        if let Some(d) = batch
            .current_downstream(&def.id)
            .map_err(|e| about(&name, e))?
            .filter(|d| d.def.retired)
        {
            out.push(RegistryEntry {
                kind: RegistryEntryKind::Downstream,
                id: d.def.id.clone(),
                notice_version: None,
                sha256: None,
                hash: None,
                purpose_version: Some(d.version),
                new: false,
                seq: d.seq,
                note: Some(RETIRED_NOT_REACTIVATED.into()),
            });
            continue;
        }
        let Registered { value: d, new } = batch
            .register_downstream_outcome(def.clone(), crate::Actor::system("consent-ledger"))
            .map_err(|e| about(&name, e))?;
        out.push(RegistryEntry {
            kind: RegistryEntryKind::Downstream,
            id: d.def.id.clone(),
            notice_version: None,
            sha256: None,
            hash: None,
            purpose_version: Some(d.version),
            new,
            seq: d.seq,
            note: None,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::purpose::{LawfulBasis, Validity};

    const PURPOSES: &str = r#"
[[purpose]]
id = "jmsu.marketing"
title = "Marketing by JMSU"
controller = "JMSU"
lawful_basis = "a"

[[purpose]]
id = "jmsu.course-rep"
title = "Course reps"
controller = "JMSU"
lawful_basis = "a"
validity = { kind = "course_year" }
renew_consent = true
"#;

    fn notice_toml(id: &str, text_file: Option<&str>, sha: Option<&str>) -> String {
        let mut s = format!(
            "[[notice]]\nid = \"{id}\"\nversion = \"1\"\ntitle = \"T\"\ncontroller = \"JMSU\"\npurposes = [\"jmsu.*\"]\n"
        );
        if let Some(f) = text_file {
            s += &format!("text_file = \"{f}\"\n");
        }
        if let Some(h) = sha {
            s += &format!("sha256 = \"{h}\"\n");
        }
        s
    }

    fn sha_hex(text: &str) -> String {
        hex::encode(crate::canonical::sha256(text.as_bytes()))
    }

    #[test]
    fn reads_every_field() {
        let toml = format!(
            "{}{PURPOSES}",
            notice_toml("jmsu.privacy", None, Some(&sha_hex("the text")))
        );
        let reg = Registry::from_toml_str(&toml, None).unwrap();
        assert_eq!(reg.notices.len(), 1);
        assert_eq!(reg.hash_checks, [HashCheck::Unchecked]);
        assert_eq!(reg.notices[0].controller, "JMSU");
        assert_eq!(reg.notices[0].purposes, ["jmsu.*"]);
        assert_eq!(reg.notices[0].language, "en-GB");
        assert_eq!(reg.purposes[1].validity, Validity::CourseYear);
        assert!(reg.purposes[1].renew_consent);
        assert_eq!(reg.purposes[0].lawful_basis, LawfulBasis::Consent);
    }

    #[test]
    fn texts_are_hashed_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("n.txt"), "the text").unwrap();
        // Stated and computed agree: checked.
        let toml = notice_toml("a", Some("n.txt"), Some(&sha_hex("the text")));
        let reg = Registry::from_toml_str(&toml, Some(dir.path())).unwrap();
        assert_eq!(reg.hash_checks, [HashCheck::Checked]);
        // Only the text: computed.
        let toml = notice_toml("a", Some("n.txt"), None);
        let reg = Registry::from_toml_str(&toml, Some(dir.path())).unwrap();
        assert_eq!(reg.hash_checks, [HashCheck::Computed]);
        assert_eq!(reg.notices[0].sha256, crate::canonical::sha256(b"the text"));
        // Through a file next to the texts: a missing text leaves the hash unchecked,
        // unless the texts' folder was asked for.
        let file = dir.path().join("r.toml");
        std::fs::write(
            &file,
            notice_toml("a", Some("gone.txt"), Some(&sha_hex("x"))),
        )
        .unwrap();
        let reg = Registry::from_file(&file, None).unwrap();
        assert_eq!(reg.hash_checks, [HashCheck::Unchecked]);
        let err = Registry::from_file(&file, Some(dir.path())).unwrap_err();
        assert!(matches!(err, Error::Io(_)), "{err}");
        assert!(err.to_string().contains("notice a@1") && err.to_string().contains("gone.txt"));
        // Neither a hash nor a text.
        let err = Registry::from_toml_str(&notice_toml("a", None, None), None).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
        // The registry file itself missing.
        let err = Registry::from_file(&dir.path().join("nope.toml"), None).unwrap_err();
        assert!(matches!(err, Error::Io(_)) && err.to_string().contains("nope.toml"));
    }

    #[test]
    fn a_hash_mismatch_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("n.txt"), "the text, altered").unwrap();
        let toml = notice_toml("ljmu.wellbeing", Some("n.txt"), Some(&sha_hex("the text")));
        let err = Registry::from_toml_str(&toml, Some(dir.path())).unwrap_err();
        assert!(matches!(err, Error::Conflict(_)), "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains("notice ljmu.wellbeing@1") && msg.contains("hashes to"),
            "{msg}"
        );
        // A malformed hash is a usage error naming the entry.
        let toml = notice_toml("ljmu.wellbeing", None, Some("abc"));
        let err = Registry::from_toml_str(&toml, None).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
        assert!(err.to_string().contains("ljmu.wellbeing@1"), "{err}");
    }

    #[test]
    fn unknown_fields_are_refused() {
        for toml in [
            "[[purpose]]\nid = \"x\"\ntitle = \"X\"\ncontroller = \"C\"\nlawful_basis = \"a\"\nnonsense = 1\n",
            "[[notice]]\nid = \"n\"\nversion = \"1\"\ntitle = \"N\"\nsha256 = \"00\"\ncolour = \"red\"\n",
            "[[purposes]]\nid = \"x\"\n",
        ] {
            let err = Registry::from_toml_str(toml, None).unwrap_err();
            assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
            assert!(err.to_string().contains("unknown"), "{err}");
        }
        let err = Registry::from_toml_str("[[purpose]]\nid = \"x\"\n", None).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    }

    #[test]
    fn a_notice_must_name_its_purposes_and_controller() {
        let sha = sha_hex("t");
        let without_purposes = format!(
            "[[notice]]\nid = \"n\"\nversion = \"1\"\ntitle = \"N\"\ncontroller = \"JMSU\"\nsha256 = \"{sha}\"\n"
        );
        let without_controller = format!(
            "[[notice]]\nid = \"n\"\nversion = \"1\"\ntitle = \"N\"\npurposes = [\"jmsu.*\"]\nsha256 = \"{sha}\"\n"
        );
        for toml in [without_purposes, without_controller] {
            let err = Registry::from_toml_str(&toml, None).unwrap_err();
            assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
            assert!(err.to_string().contains("notice n@1"), "{err}");
        }
        // Nor can one built by hand be loaded.
        let l = Ledger::in_memory().unwrap();
        let reg = Registry {
            notices: vec![NoticeDef::from_text("n", "1", "N", "t")],
            ..Registry::default()
        };
        let head = l.head().unwrap();
        let err = l.load_registry(&reg).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
        assert!(err.to_string().contains("notice n@1"), "{err}");
        assert_eq!(l.head().unwrap(), head);
    }

    #[test]
    fn duplicates_are_refused() {
        let toml = format!("{PURPOSES}{PURPOSES}");
        let err = Registry::from_toml_str(&toml, None).unwrap_err();
        assert!(err.to_string().contains("listed twice"), "{err}");
    }

    #[test]
    fn loads_all_or_nothing() {
        let l = Ledger::in_memory().unwrap();
        let sha = sha_hex("the text");
        let toml = format!(
            "{}{PURPOSES}",
            notice_toml("jmsu.privacy", None, Some(&sha))
        );
        let reg = Registry::from_toml_str(&toml, None).unwrap();
        let before = l.head().unwrap().size;
        let report = l.load_registry(&reg).unwrap();
        assert_eq!(report.recorded(), 3);
        assert_eq!(report.entries[0].kind, RegistryEntryKind::Notice);
        assert_eq!(report.entries[0].hash, Some(HashCheck::Unchecked));
        assert_eq!(report.entries[0].seq, before);
        assert_eq!(report.entries[2].purpose_version, Some(1));
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["entries"][0]["kind"], "notice");
        assert_eq!(json["entries"][0]["sha256"], sha);
        assert_eq!(json["entries"][0]["hash"], "unchecked");
        assert_eq!(json["entries"][1]["purpose_version"], 1);
        assert!(json["entries"][1].get("sha256").is_none());

        // Again: nothing new, nothing appended.
        let head = l.head().unwrap();
        let again = l.load_registry(&reg).unwrap();
        assert_eq!(again.recorded(), 0);
        assert!(again.entries.iter().all(|e| !e.new));
        assert_eq!(l.head().unwrap(), head);

        // A registry whose first entries are fine and whose last conflicts with the
        // ledger (jmsu.privacy@1 with another text) registers none of them.
        let toml = format!(
            "{}{}[[purpose]]\nid = \"jmsu.new\"\ntitle = \"New\"\ncontroller = \"JMSU\"\nlawful_basis = \"a\"\n",
            notice_toml("jmsu.other", None, Some(&sha)),
            notice_toml("jmsu.privacy", None, Some(&sha_hex("another text"))),
        );
        let reg = Registry::from_toml_str(&toml, None).unwrap();
        let err = l.load_registry(&reg).unwrap_err();
        assert!(matches!(err, Error::Conflict(_)), "{err}");
        assert!(err.to_string().contains("notice jmsu.privacy@1"), "{err}");
        assert_eq!(l.head().unwrap(), head);
        assert!(l.purpose("jmsu.new").is_err());
        assert_eq!(l.notices().unwrap().len(), 1);

        // A purpose the ledger refuses only at registration (here: a recipient listed
        // twice, built by hand) undoes the entries before it as well.
        let mut bad = PurposeDef::new("jmsu.bad", "Bad", "JMSU");
        bad.recipients = vec!["a".into(), "a".into()];
        let reg = Registry {
            purposes: vec![PurposeDef::new("jmsu.fine", "Fine", "JMSU"), bad],
            ..Registry::default()
        };
        let err = l.load_registry(&reg).unwrap_err();
        assert!(err.to_string().contains("purpose jmsu.bad"), "{err}");
        assert_eq!(l.head().unwrap(), head);
        assert!(l.purpose("jmsu.fine").is_err());

        // A changed purpose gets a new version.
        let mut reg = Registry::from_toml_str(PURPOSES, None).unwrap();
        reg.purposes[0].title = "Marketing by the students' union".into();
        let report = l.load_registry(&reg).unwrap();
        assert_eq!(report.recorded(), 1);
        assert_eq!(report.entries[0].purpose_version, Some(2));
        assert!(report.entries[0].new && !report.entries[1].new);
    }
}
