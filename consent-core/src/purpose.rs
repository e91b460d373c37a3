//! Purposes: what data is used for, on which lawful basis, and how long a consent lasts.
//!
//! Purposes live in the ledger itself. Registering one appends a `purpose_defined`
//! event, so every change to the registry is in the Merkle log and can be audited.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::timestamp::Timestamp;

/// The lawful basis of Art. 6(1) UK GDPR, written as its letter (`"a"` = consent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LawfulBasis {
    /// 6(1)(a) consent — the only basis under which the ledger's grants decide.
    #[serde(rename = "a", alias = "consent")]
    Consent,
    /// 6(1)(b) contract.
    #[serde(rename = "b", alias = "contract")]
    Contract,
    /// 6(1)(c) legal obligation.
    #[serde(rename = "c", alias = "legal_obligation")]
    LegalObligation,
    /// 6(1)(d) vital interests.
    #[serde(rename = "d", alias = "vital_interests")]
    VitalInterests,
    /// 6(1)(e) public task.
    #[serde(rename = "e", alias = "public_task")]
    PublicTask,
    /// 6(1)(f) legitimate interests — the subject may object.
    #[serde(rename = "f", alias = "legitimate_interests")]
    LegitimateInterests,
}

impl LawfulBasis {
    /// The letter of Art. 6(1).
    pub fn letter(self) -> char {
        match self {
            LawfulBasis::Consent => 'a',
            LawfulBasis::Contract => 'b',
            LawfulBasis::LegalObligation => 'c',
            LawfulBasis::VitalInterests => 'd',
            LawfulBasis::PublicTask => 'e',
            LawfulBasis::LegitimateInterests => 'f',
        }
    }

    /// Parses a letter (`a`..`f`) or a name (`consent`, `public_task`, ...).
    pub fn parse(text: &str) -> Result<Self> {
        serde_json::from_value(serde_json::Value::String(text.trim().to_ascii_lowercase()))
            .map_err(|_| Error::invalid(format!("unknown lawful basis `{text}` (a..f)")))
    }

    /// "Art. 6(1)(a) consent" and so on.
    pub fn describe(self) -> &'static str {
        match self {
            LawfulBasis::Consent => "Art. 6(1)(a) consent",
            LawfulBasis::Contract => "Art. 6(1)(b) contract",
            LawfulBasis::LegalObligation => "Art. 6(1)(c) legal obligation",
            LawfulBasis::VitalInterests => "Art. 6(1)(d) vital interests",
            LawfulBasis::PublicTask => "Art. 6(1)(e) public task",
            LawfulBasis::LegitimateInterests => "Art. 6(1)(f) legitimate interests",
        }
    }
}

/// How long a grant lasts when the event does not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Validity {
    /// Until withdrawn.
    #[default]
    None,
    /// A fixed number of days from the effective time.
    Days {
        /// Number of days.
        days: u32,
    },
    /// Until the end of the academic year: the first `end_month`/`end_day` (inclusive,
    /// UTC) on or after the effective time. The notices' year ends on 31 July.
    AcademicYear {
        /// Month of the last day (1..=12), default 7.
        #[serde(default = "default_end_month")]
        end_month: u8,
        /// Last day (1..=31), default 31.
        #[serde(default = "default_end_day")]
        end_day: u8,
    },
}

fn default_end_month() -> u8 {
    7
}
fn default_end_day() -> u8 {
    31
}

impl Validity {
    /// The academic year ending on 31 July, as in the students' union notice.
    pub const ACADEMIC_YEAR: Validity = Validity::AcademicYear {
        end_month: 7,
        end_day: 31,
    };

    fn check(&self) -> Result<()> {
        if let Validity::AcademicYear { end_month, end_day } = *self {
            time::Month::try_from(end_month)
                .ok()
                .and_then(|m| time::Date::from_calendar_date(2024, m, end_day).ok())
                .ok_or_else(|| Error::invalid("academic year end is not a valid day"))?;
        }
        Ok(())
    }

    /// When a grant effective at `from` lapses under this rule (`None` = never).
    ///
    /// The lapse is the first instant after the last day of validity, so a grant made on
    /// 1 October 2024 under the 31 July rule lapses at 2025-08-01T00:00:00Z.
    pub fn expiry(&self, from: Timestamp) -> Option<Timestamp> {
        match *self {
            Validity::None => None,
            Validity::Days { days } => {
                Some(from.saturating_add_millis(i64::from(days) * 86_400_000))
            }
            Validity::AcademicYear { end_month, end_day } => {
                let month = time::Month::try_from(end_month).ok()?;
                let year = from.to_datetime().year();
                (year..=year + 1).find_map(|y| {
                    let last = time::Date::from_calendar_date(y, month, end_day)
                        .or_else(|_| time::Date::from_calendar_date(y, month, 28))
                        .ok()?;
                    let lapse = last.next_day()?.midnight().assume_utc();
                    let lapse = Timestamp::from_datetime(lapse).ok()?;
                    (lapse > from).then_some(lapse)
                })
            }
        }
    }
}

/// A purpose as its owner describes it; the ledger assigns the version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurposeDef {
    /// Stable id, e.g. `jmsu.marketing`.
    pub id: String,
    /// Human title.
    pub title: String,
    /// Data controller, e.g. `LJMU` or `JMSU`.
    pub controller: String,
    /// Art. 6 basis.
    pub lawful_basis: LawfulBasis,
    /// Art. 9(2) condition letter when special-category data is involved; a grant for
    /// such a purpose must carry the explicit-consent marker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub special_category: Option<char>,
    /// Default validity of a grant.
    #[serde(default)]
    pub validity: Validity,
    /// How long downstream systems may take to honour a withdrawal, in seconds (the
    /// students' union feed: 86 400).
    #[serde(default)]
    pub effect_delay_secs: u64,
    /// How to withdraw, as told to the subject.
    #[serde(default)]
    pub withdrawal_method: String,
    /// Allowed recipients; empty means the purpose names none.
    #[serde(default)]
    pub recipients: Vec<String>,
}

impl PurposeDef {
    /// A consent-based purpose with no expiry, no delay and no recipients.
    pub fn new(
        id: impl Into<String>,
        title: impl Into<String>,
        controller: impl Into<String>,
    ) -> Self {
        PurposeDef {
            id: id.into(),
            title: title.into(),
            controller: controller.into(),
            lawful_basis: LawfulBasis::Consent,
            special_category: None,
            validity: Validity::None,
            effect_delay_secs: 0,
            withdrawal_method: String::new(),
            recipients: Vec::new(),
        }
    }

    /// Whether grants need the explicit-consent marker (Art. 9(2)(a)).
    pub fn requires_explicit(&self) -> bool {
        self.special_category.is_some() && self.lawful_basis == LawfulBasis::Consent
    }

    pub(crate) fn validate(&self) -> Result<()> {
        crate::event::check_id("purpose id", &self.id)?;
        if self.title.trim().is_empty() || self.controller.trim().is_empty() {
            return Err(Error::invalid("a purpose needs a title and a controller"));
        }
        if let Some(c) = self.special_category {
            if !('a'..='j').contains(&c) {
                return Err(Error::invalid(
                    "special_category must be an Art. 9(2) letter a..j",
                ));
            }
        }
        for r in &self.recipients {
            crate::event::check_id("recipient", r)?;
        }
        self.validity.check()
    }
}

/// A registered purpose: its definition, version and the event that registered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purpose {
    /// The definition.
    #[serde(flatten)]
    pub def: PurposeDef,
    /// 1 for the first registration, +1 for every change.
    pub version: u32,
    /// Sequence number of the `purpose_defined` event.
    pub seq: u64,
    /// When this version was registered.
    pub registered_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn academic_year_lapses_after_31_july() {
        let v = Validity::ACADEMIC_YEAR;
        let oct = Timestamp::parse("2024-10-01T10:00:00Z").unwrap();
        assert_eq!(
            v.expiry(oct).unwrap().to_string(),
            "2025-08-01T00:00:00.000Z"
        );
        let jul = Timestamp::parse("2025-07-31T23:00:00Z").unwrap();
        assert_eq!(
            v.expiry(jul).unwrap().to_string(),
            "2025-08-01T00:00:00.000Z"
        );
        let aug = Timestamp::parse("2025-08-01T00:00:00Z").unwrap();
        assert_eq!(
            v.expiry(aug).unwrap().to_string(),
            "2026-08-01T00:00:00.000Z"
        );
        let feb = Validity::AcademicYear {
            end_month: 2,
            end_day: 29,
        };
        assert_eq!(
            feb.expiry(oct).unwrap().to_string(),
            "2025-03-01T00:00:00.000Z"
        );
    }

    #[test]
    fn basis_parses_letters_and_names() {
        assert_eq!(LawfulBasis::parse("a").unwrap(), LawfulBasis::Consent);
        assert_eq!(
            LawfulBasis::parse("legitimate_interests").unwrap(),
            LawfulBasis::LegitimateInterests
        );
        assert!(LawfulBasis::parse("z").is_err());
    }
}
