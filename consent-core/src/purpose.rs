//! Purposes: what data is used for, on which lawful basis, and how long a consent lasts.
//!
//! Purposes live in the ledger itself. Registering one appends a `purpose_defined`
//! event, so every change to the registry is in the Merkle log and can be audited.

use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;
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
    ///
    /// # Errors
    /// [`InvalidArgument`](crate::ErrorKind::InvalidArgument) for anything else.
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
    /// Until the end of the academic year: the end of the first `end_month`/`end_day`
    /// after the start, in the ledger's time zone (midnight in Liverpool, not UTC). The
    /// notices' year ends on 31 July.
    AcademicYear {
        /// Month of the last day (1..=12), default 7.
        #[serde(default = "default_end_month")]
        end_month: u8,
        /// Last day (1..=31), default 31.
        #[serde(default = "default_end_day")]
        end_day: u8,
    },
    /// One year from the start the grant carries (a course rep's course start; without
    /// one, the grant's effective time): until the local midnight that begins the
    /// anniversary of that date. "For the academic year, based on when you started".
    CourseYear,
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

    /// Whether the rule ends a grant at all.
    pub fn lapses(&self) -> bool {
        *self != Validity::None
    }

    /// When a grant counted from `from` lapses under this rule, in the calendar
    /// `cal` (`None` = never, or beyond the year 9999 for a rule that lapses — the
    /// ledger refuses such a grant rather than let it run for ever).
    ///
    /// The lapse is the first instant after the last day of validity, so a grant made on
    /// 1 October 2024 under the 31 July rule in Europe/London lapses at
    /// 2025-07-31T23:00:00Z (midnight BST).
    pub fn expiry(&self, from: Timestamp, cal: &Calendar) -> Option<Timestamp> {
        match *self {
            Validity::None => None,
            Validity::Days { days } => {
                let t = from.as_millis().checked_add(i64::from(days) * 86_400_000)?;
                Timestamp::from_millis(t).ok()
            }
            Validity::AcademicYear { end_month, end_day } => {
                cal.end_of_year_ending(from, end_month, end_day)
            }
            Validity::CourseYear => cal.anniversary_of(from),
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
    /// The recipients the purpose may share with, as registry ids (one spelling,
    /// compared exactly); empty means it names none, and then no event or question may
    /// name one.
    #[serde(default)]
    pub recipients: Vec<String>,
    /// The owner declares this version a material change that the other fields do not
    /// show (say, the data used changed): grants given under earlier versions need
    /// renewal. Lawful basis, controller, a new special category or a new recipient are
    /// material without it (docs/RULES.md R6).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub renew_consent: bool,
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
            renew_consent: false,
        }
    }

    /// Whether `recipient` is one of the purpose's recipients, spelt exactly.
    pub fn lists(&self, recipient: &str) -> bool {
        self.recipients.iter().any(|r| r == recipient)
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
        for (i, r) in self.recipients.iter().enumerate() {
            crate::event::check_id("recipient", r)?;
            if self.recipients[..i].contains(r) {
                return Err(Error::invalid(format!("recipient `{r}` is listed twice")));
            }
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
    /// Why this version is a material change from the one before (`lawful_basis`,
    /// `controller`, `special_category`, `recipients`, `declared`): grants given under
    /// an earlier version no longer permit ([`crate::State::NeedsRenewal`]). Empty when
    /// the change is not material (or for version 1). Derived from the two definitions.
    #[serde(default)]
    pub material_change: Vec<String>,
}

/// What makes `next` a material change from `prev` (docs/RULES.md, "material change"):
/// consent covers what the subject was told, so a new lawful basis or controller, data
/// that becomes special-category (or under another Art. 9(2) condition), a recipient
/// that was not listed, or the owner's own declaration each need fresh consent. A new
/// title, validity, withdrawal method, effect delay or a recipient removed do not.
pub fn material_changes(prev: &PurposeDef, next: &PurposeDef) -> Vec<String> {
    let mut why = Vec::new();
    if prev.lawful_basis != next.lawful_basis {
        why.push("lawful_basis");
    }
    if prev.controller != next.controller {
        why.push("controller");
    }
    if next.special_category.is_some() && next.special_category != prev.special_category {
        why.push("special_category");
    }
    if next.recipients.iter().any(|r| !prev.lists(r)) {
        why.push("recipients");
    }
    if next.renew_consent {
        why.push("declared");
    }
    why.into_iter().map(String::from).collect()
}

/// Fills in `material_change` of every version in a list ordered by id then version,
/// each against the version before it of the same id.
pub(crate) fn mark_material_changes(purposes: &mut [Purpose]) {
    for i in 1..purposes.len() {
        if purposes[i - 1].def.id == purposes[i].def.id {
            purposes[i].material_change = material_changes(&purposes[i - 1].def, &purposes[i].def);
        }
    }
}

/// Every version of one purpose, oldest first, each with its material changes: what
/// a question at a past moment and the renewal rule need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PurposeVersions {
    versions: Vec<Purpose>,
}

impl PurposeVersions {
    /// From the versions of one id in ascending order (at least one), their material
    /// changes marked ([`mark_material_changes`]).
    pub(crate) fn new(versions: Vec<Purpose>) -> Option<Self> {
        (!versions.is_empty()).then_some(PurposeVersions { versions })
    }

    /// Every version, oldest first.
    pub(crate) fn all(&self) -> &[Purpose] {
        &self.versions
    }

    /// The newest version: the one appends are checked against.
    pub(crate) fn latest(&self) -> &Purpose {
        self.versions.last().expect("at least one version")
    }

    /// The version in force at `t`: the newest registered by then (the first one for a
    /// moment before the purpose existed).
    pub(crate) fn in_force(&self, t: Timestamp) -> &Purpose {
        self.versions
            .iter()
            .rev()
            .find(|p| p.registered_at <= t)
            .unwrap_or(&self.versions[0])
    }

    /// Whether any version ever listed `recipient` (a question about a past moment may
    /// name a recipient that has since been dropped).
    pub(crate) fn ever_lists(&self, recipient: &str) -> bool {
        self.versions.iter().any(|p| p.def.lists(recipient))
    }

    /// The first registration of a version after `t`: until then, what
    /// [`PurposeVersions::in_force`] and [`PurposeVersions::renewal_needed`] say for a
    /// moment from `t` on cannot change (versions are registered in time order only on
    /// a real clock; a simulation may have registered one ahead of its clock now).
    pub(crate) fn next_registration_after(&self, t: Timestamp) -> Option<Timestamp> {
        self.versions
            .iter()
            .map(|p| p.registered_at)
            .filter(|r| *r > t)
            .min()
    }

    /// Whether a material change was registered by `t` (most purposes: never).
    pub(crate) fn changed_materially_by(&self, t: Timestamp) -> bool {
        self.versions
            .iter()
            .any(|m| !m.material_change.is_empty() && m.registered_at <= t)
    }

    /// The first material change, registered by `t`, that a grant (log position
    /// `seq`, effective at `effective`) predates — recorded before it or taking effect
    /// before it — so that the grant no longer covers the purpose at `t`.
    pub(crate) fn renewal_needed(
        &self,
        seq: u64,
        effective: Timestamp,
        t: Timestamp,
    ) -> Option<&Purpose> {
        self.versions.iter().find(|m| {
            !m.material_change.is_empty()
                && m.registered_at <= t
                && (seq < m.seq || effective < m.registered_at)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn academic_year_lapses_after_31_july_in_the_ledgers_zone() {
        let utc = Calendar::new("UTC").unwrap();
        let v = Validity::ACADEMIC_YEAR;
        let oct = Timestamp::parse("2024-10-01T10:00:00Z").unwrap();
        assert_eq!(
            v.expiry(oct, &utc).unwrap().to_string(),
            "2025-08-01T00:00:00.000Z"
        );
        let london = Calendar::default_zone();
        assert_eq!(
            v.expiry(oct, &london).unwrap().to_string(),
            "2025-07-31T23:00:00.000Z"
        );
        let aug = Timestamp::parse("2025-08-01T00:00:00Z").unwrap();
        assert_eq!(
            v.expiry(aug, &utc).unwrap().to_string(),
            "2026-08-01T00:00:00.000Z"
        );
        let feb = Validity::AcademicYear {
            end_month: 2,
            end_day: 29,
        };
        assert_eq!(
            feb.expiry(oct, &utc).unwrap().to_string(),
            "2025-03-01T00:00:00.000Z"
        );
        let late = Timestamp::parse("9999-09-01T00:00:00Z").unwrap();
        assert_eq!(v.expiry(late, &london), None);
        assert_eq!(
            Validity::Days { days: 30 }.expiry(Timestamp::MAX, &utc),
            None
        );
    }

    #[test]
    fn what_is_material() {
        let a = PurposeDef::new("p", "P", "LJMU");
        let mut b = a.clone();
        b.title = "New title".into();
        b.recipients.clear();
        assert!(material_changes(&a, &b).is_empty());
        b.special_category = Some('a');
        b.recipients = vec!["nhs".into()];
        b.controller = "JMSU".into();
        assert_eq!(
            material_changes(&a, &b),
            ["controller", "special_category", "recipients"]
        );
        let mut c = b.clone();
        c.recipients.clear();
        c.special_category = None;
        assert!(
            material_changes(&b, &c).is_empty(),
            "narrowing is not material"
        );
        c.renew_consent = true;
        c.lawful_basis = LawfulBasis::LegitimateInterests;
        assert_eq!(material_changes(&b, &c), ["lawful_basis", "declared"]);
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
