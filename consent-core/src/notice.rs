//! Privacy notices: what the subject was told when they consented.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::merkle::Hash;
use crate::timestamp::Timestamp;

/// A privacy notice at one version, identified by the SHA-256 of the text shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeDef {
    /// Stable id, e.g. `ljmu.wellbeing`.
    pub id: String,
    /// Version label, e.g. `2024-09`.
    pub version: String,
    /// BCP 47 language tag, e.g. `en-GB`.
    #[serde(default = "default_language")]
    pub language: String,
    /// SHA-256 of the exact text shown, as 64 hex digits in JSON.
    #[serde(with = "hex_hash")]
    pub sha256: Hash,
    /// Title shown to the subject.
    pub title: String,
    /// Where the text was published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The controller whose notice it is, e.g. `JMSU`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub controller: String,
    /// The purposes it describes: ids, or a prefix ending in `.*` (`jmsu.project.*`).
    /// A grant may only name a notice that covers its purpose. Every new notice lists
    /// at least one; one registered before notices named their purposes (empty) covers
    /// every purpose.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub purposes: Vec<String>,
}

fn default_language() -> String {
    "en-GB".into()
}

impl NoticeDef {
    /// A notice whose hash is computed from `text`.
    pub fn from_text(
        id: impl Into<String>,
        version: impl Into<String>,
        title: impl Into<String>,
        text: &str,
    ) -> Self {
        NoticeDef {
            id: id.into(),
            version: version.into(),
            language: default_language(),
            sha256: crate::canonical::sha256(text.as_bytes()),
            title: title.into(),
            url: None,
            controller: String::new(),
            purposes: Vec::new(),
        }
    }

    /// Sets the controller and the purposes the notice covers.
    pub fn covering<S: Into<String>>(
        mut self,
        controller: impl Into<String>,
        purposes: impl IntoIterator<Item = S>,
    ) -> Self {
        self.controller = controller.into();
        self.purposes = purposes.into_iter().map(Into::into).collect();
        self
    }

    /// Whether a grant for `purpose` may name this notice.
    pub fn covers(&self, purpose: &str) -> bool {
        self.purposes.is_empty()
            || self.purposes.iter().any(|p| match p.strip_suffix('*') {
                Some(prefix) => purpose.starts_with(prefix) && prefix.ends_with('.'),
                None => p == purpose,
            })
    }

    pub(crate) fn validate(&self) -> Result<()> {
        crate::event::check_id("notice id", &self.id)?;
        crate::event::check_id("notice version", &self.version)?;
        if self.title.trim().is_empty() {
            return Err(Error::invalid("a notice needs a title"));
        }
        if self.controller.trim().is_empty() || self.purposes.is_empty() {
            return Err(Error::invalid(format!(
                "notice `{}` must say whose it is (controller) and which purposes it covers (purposes: ids or `prefix.*`)",
                self.id
            )));
        }
        for p in &self.purposes {
            crate::event::check_id("notice purpose", p)?;
            if p.contains('*') && !(p.ends_with(".*") && p.matches('*').count() == 1) {
                return Err(Error::invalid(format!(
                    "notice purpose `{p}`: a wildcard is a prefix ending in `.*`"
                )));
            }
        }
        Ok(())
    }
}

/// A registered notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// The definition.
    #[serde(flatten)]
    pub def: NoticeDef,
    /// Sequence number of the `notice_defined` event.
    pub seq: u64,
    /// When it was registered.
    pub registered_at: Timestamp,
}

/// The notice an event refers to, with the hash of the text that was shown.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NoticeRef {
    /// Notice id.
    pub id: String,
    /// Notice version.
    pub version: String,
    /// SHA-256 of the text shown.
    #[serde(with = "hex_hash")]
    pub sha256: Hash,
}

/// Serde for a 32-byte hash as 64 lowercase hex digits.
pub(crate) mod hex_hash {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(h: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(h))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let s = String::deserialize(d)?;
        crate::canonical::parse_hash(&s).map_err(serde::de::Error::custom)
    }
}
