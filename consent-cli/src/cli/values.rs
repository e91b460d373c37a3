//! clap's value parsers: each turns one argument into the core's type, so commands
//! receive typed values and a malformed one is clap's usage error (exit 2, naming the
//! option) before any ledger is opened.

use consent_core::{
    canonical, Actor, Calendar, Hash, Head, LawfulBasis, Method, Timestamp, Validity,
};
use uuid::Uuid;

/// A time as given: RFC 3339 with an offset, or a date or local time, which means a
/// time in the ledger's zone and so becomes a [`Timestamp`] only once the ledger is
/// open (`Ctx::opt_time` in `ctx.rs`). clap checks its form; only the zone comes
/// later.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeArg(String);

impl TimeArg {
    /// The instant this time names in `cal`.
    pub fn in_calendar(&self, cal: &Calendar) -> consent_core::Result<Timestamp> {
        cal.parse(&self.0)
    }
}

/// `--at`, `--expires`, `--known-at`, `--now`, ...: see [`TimeArg`].
pub fn time(s: &str) -> Result<TimeArg, String> {
    // The form is the same in every zone: UTC checks it.
    let utc = Calendar::new("UTC").map_err(|e| e.to_string())?;
    utc.parse(s).map_err(|e| e.to_string())?;
    Ok(TimeArg(s.trim().to_string()))
}

/// An event id (a UUID): `--target`, `receipt EVENT_ID`, `ack --event`.
pub fn event_id(s: &str) -> Result<Uuid, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("`{s}` is not an event id (UUID)"))
}

/// `--method`: portal, web_form, paper, ...
pub fn method(s: &str) -> Result<Method, String> {
    s.parse().map_err(|e: consent_core::Error| e.to_string())
}

/// `--recorded-by`: subject, staff:ID or system:ID.
pub fn actor(s: &str) -> Result<Actor, String> {
    s.parse().map_err(|e: consent_core::Error| e.to_string())
}

/// `--notice ID@VERSION` → (id, version); also the import's `notice` column.
pub fn notice(s: &str) -> Result<(String, String), String> {
    match s.rsplit_once('@') {
        Some((id, v)) if !id.is_empty() && !v.is_empty() => Ok((id.to_string(), v.to_string())),
        _ => Err(format!("a notice is written ID@VERSION, not `{s}`")),
    }
}

/// `--evidence`: a JSON value.
pub fn evidence(s: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(s).map_err(|err| format!("not JSON: {err}"))
}

/// `--basis`: a lawful basis of Art. 6(1), by letter or name.
pub fn lawful_basis(s: &str) -> Result<LawfulBasis, String> {
    LawfulBasis::parse(s).map_err(|e| e.to_string())
}

/// `--validity`: none, academic-year[:MM-DD], course-year or days:N.
pub fn validity(s: &str) -> Result<Validity, String> {
    let s = s.trim();
    let bad = || format!("`{s}` is not none, academic-year[:MM-DD], course-year or days:N");
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

/// A duration in seconds: `24h`, `30m`, `2d`, `90s` or plain seconds (`--effect-delay`).
pub fn duration_secs(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let bad = || format!("`{s}` is not a duration like 24h, 30m, 2d or 86400");
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

/// A head, `SIZE:ROOT` as `consent head` prints it (`verify --against`, `prove
/// consistency OLD_HEAD`).
pub fn head(s: &str) -> Result<Head, String> {
    s.trim()
        .parse()
        .map_err(|e: consent_core::Error| e.to_string())
}

/// A SHA-256 in hex (`notice add --sha256`).
pub fn sha256(s: &str) -> Result<Hash, String> {
    canonical::parse_hash(s).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_time_or_date_waits_for_the_ledger_zone_and_an_instant_does_not() {
        let london = Calendar::new("Europe/London").unwrap();
        let local = time("2025-08-01T00:30").unwrap();
        assert_eq!(
            local.in_calendar(&london).unwrap(),
            Timestamp::parse("2025-07-31T23:30:00Z").unwrap()
        );
        // A bare date is the start of the day in the ledger's zone, not in UTC.
        assert_eq!(
            time("2025-08-01").unwrap().in_calendar(&london).unwrap(),
            Timestamp::parse("2025-07-31T23:00:00Z").unwrap()
        );
        let instant = time("2025-07-31T23:30:00Z").unwrap();
        assert_eq!(
            instant.in_calendar(&london).unwrap(),
            local.in_calendar(&london).unwrap()
        );
        for bad in ["later", "2025-13-01", "", "31/07/2025"] {
            assert!(time(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn malformed_values_are_refused_with_what_was_expected() {
        assert!(event_id("not-a-uuid")
            .unwrap_err()
            .contains("not an event id"));
        assert!(duration_secs("1y").unwrap_err().contains("24h"));
        assert_eq!(duration_secs("2d"), Ok(172_800));
        assert!(duration_secs("99999999999999999999d").is_err());
        assert!(validity("weekly").unwrap_err().contains("days:N"));
        assert!(method("carrier-pigeon").is_err());
        assert!(actor("robot").is_err());
        assert!(head("nonsense").is_err());
        assert!(notice("jmsu.privacy").is_err());
        assert!(evidence("{").is_err());
        assert!(sha256("abc").is_err());
    }
}
