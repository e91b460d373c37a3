//! The institution's calendar: the ledger's time zone (Europe/London by default),
//! hashed into its first event, and the reading and writing of local times.
//!
//! "The academic year (August to July)" is the university's, in UK time: it ends at
//! midnight in Liverpool, which in summer is 23:00 UTC. Time zones come from the IANA
//! database bundled with `jiff`, never from the host, so every machine computes the
//! same expiry for the same grant.

use jiff::civil::{Date, DateTime};
use jiff::tz::{TimeZone, TimeZoneDatabase};

use crate::error::{Error, Result};
use crate::timestamp::Timestamp;

/// The time zone of a ledger created before ledgers named one, and of a new ledger
/// unless its options say otherwise.
pub const DEFAULT_TIME_ZONE: &str = "Europe/London";

/// A ledger's time zone, by IANA name.
#[derive(Clone, Debug)]
pub struct Calendar {
    name: String,
    tz: TimeZone,
}

impl PartialEq for Calendar {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

fn bundled() -> &'static TimeZoneDatabase {
    static DB: std::sync::OnceLock<TimeZoneDatabase> = std::sync::OnceLock::new();
    DB.get_or_init(TimeZoneDatabase::bundled)
}

impl Calendar {
    /// The calendar of an IANA time-zone name (`Europe/London`, `UTC`, ...).
    ///
    /// # Errors
    /// [`InvalidArgument`](crate::ErrorKind::InvalidArgument) for a name the bundled
    /// time-zone database does not hold.
    pub fn new(name: &str) -> Result<Calendar> {
        let tz = bundled().get(name).map_err(|_| {
            Error::invalid(format!(
                "unknown time zone `{}` (an IANA name such as Europe/London)",
                name.chars().take(64).collect::<String>()
            ))
        })?;
        Ok(Calendar {
            name: name.to_string(),
            tz,
        })
    }

    /// Europe/London.
    #[allow(
        clippy::missing_panics_doc,
        reason = "never panics: the time-zone database is bundled in the build, Europe/London with it"
    )]
    pub fn default_zone() -> Calendar {
        Calendar::new(DEFAULT_TIME_ZONE).expect("the bundled database has Europe/London")
    }

    /// The IANA name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The local calendar date of an instant.
    pub fn date_of(&self, t: Timestamp) -> Date {
        self.zoned(t).date()
    }

    /// An instant as a local date-time in this zone (for formatting in words).
    pub(crate) fn zoned(&self, t: Timestamp) -> jiff::Zoned {
        self.jiff_timestamp(t).to_zoned(self.tz.clone())
    }

    /// The instant a local day begins (midnight, or the first instant after a gap).
    ///
    /// # Errors
    /// [`InvalidTime`](crate::ErrorKind::InvalidTime) when that instant is outside the
    /// years 1..=9999.
    pub fn start_of(&self, day: Date) -> Result<Timestamp> {
        let z = day
            .to_zoned(self.tz.clone())
            .map_err(|e| Error::InvalidTime(format!("{day} in {}: {e}", self.name)))?;
        Timestamp::from_millis(z.timestamp().as_millisecond())
    }

    /// Reads a time: RFC 3339 with an offset (`2024-10-01T09:30:00Z`,
    /// `2024-10-01T10:30:00+01:00`); a bare date (`2024-10-01`), meaning the start of that
    /// day in this zone; or a local date and time without offset (`2024-10-01T09:30`,
    /// `2024-10-01T09:30:00`), in this zone.
    ///
    /// # Errors
    /// [`InvalidTime`](crate::ErrorKind::InvalidTime) for text in none of these forms,
    /// or a time outside the years 1..=9999.
    pub fn parse(&self, text: &str) -> Result<Timestamp> {
        let text = text.trim();
        if let Ok(ts) = text.parse::<jiff::Timestamp>() {
            return Timestamp::from_millis(ts.as_millisecond());
        }
        let bad = || {
            Error::InvalidTime(format!(
                "`{}` is neither RFC 3339 (2024-10-01T09:30:00Z), a local date (2024-10-01) nor a local time (2024-10-01T09:30)",
                text.chars().take(64).collect::<String>()
            ))
        };
        if text.len() == 10 {
            let day: Date = text.parse().map_err(|_| bad())?;
            return self.start_of(day);
        }
        if text.contains('T') && !text.ends_with('Z') && !text.contains('[') {
            let local: DateTime = text.parse().map_err(|_| bad())?;
            let z = local
                .to_zoned(self.tz.clone())
                .map_err(|e| Error::InvalidTime(format!("{text} in {}: {e}", self.name)))?;
            return Timestamp::from_millis(z.timestamp().as_millisecond());
        }
        Err(bad())
    }

    /// RFC 3339 with this zone's offset at that instant, to the second when the
    /// instant has no milliseconds: `2025-08-01T00:30:00+01:00`.
    pub fn format(&self, t: Timestamp) -> String {
        let z = self.zoned(t);
        let fmt = if t.as_millis().rem_euclid(1000) == 0 {
            "%Y-%m-%dT%H:%M:%S%:z"
        } else {
            "%Y-%m-%dT%H:%M:%S%.3f%:z"
        };
        z.strftime(fmt).to_string()
    }

    /// The first instant of the day after the last `month`/`day` on or after the local
    /// date of `from` whose end is after `from`: when an academic year ending on that
    /// day lapses. `None` beyond the year 9999.
    pub fn end_of_year_ending(&self, from: Timestamp, month: u8, day: u8) -> Option<Timestamp> {
        let year = self.date_of(from).year();
        (year..=year.checked_add(1)?).find_map(|y| {
            let last = Date::new(y, month as i8, day as i8)
                .or_else(|_| Date::new(y, month as i8, 28))
                .ok()?;
            let lapse = self.start_of(last.tomorrow().ok()?).ok()?;
            (lapse > from).then_some(lapse)
        })
    }

    /// The start of the local day one year after the local date of `from` (29 February
    /// counts to 28 February): when a year counted from `from` lapses. `None` beyond the
    /// year 9999.
    pub fn anniversary_of(&self, from: Timestamp) -> Option<Timestamp> {
        let d = self.date_of(from);
        let next = Date::new(d.year().checked_add(1)?, d.month(), d.day())
            .or_else(|_| Date::new(d.year() + 1, d.month(), 28))
            .ok()?;
        self.start_of(next).ok()
    }

    fn jiff_timestamp(&self, t: Timestamp) -> jiff::Timestamp {
        // The supported range (years 1..9999 UTC) lies inside jiff's.
        jiff::Timestamp::from_millisecond(t.as_millis()).unwrap_or(jiff::Timestamp::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    #[test]
    fn academic_year_ends_at_midnight_in_london() {
        let c = Calendar::default_zone();
        // Summer time: 1 August starts at 23:00 UTC on 31 July.
        assert_eq!(
            c.end_of_year_ending(t("2024-10-01T10:00:00Z"), 7, 31),
            Some(t("2025-07-31T23:00:00Z"))
        );
        // Signed at 00:30 BST on 1 August (23:30 UTC on 31 July): next year's.
        assert_eq!(
            c.end_of_year_ending(t("2025-07-31T23:30:00Z"), 7, 31),
            Some(t("2026-07-31T23:00:00Z"))
        );
        let utc = Calendar::new("UTC").unwrap();
        assert_eq!(
            utc.end_of_year_ending(t("2025-07-31T23:30:00Z"), 7, 31),
            Some(t("2025-08-01T00:00:00Z"))
        );
        // Winter end: no offset.
        assert_eq!(
            c.end_of_year_ending(t("2024-10-01T10:00:00Z"), 12, 31),
            Some(t("2025-01-01T00:00:00Z"))
        );
        assert_eq!(c.end_of_year_ending(t("9999-09-01T00:00:00Z"), 7, 31), None);
    }

    #[test]
    fn local_times_read_and_write() {
        let c = Calendar::default_zone();
        assert_eq!(c.parse("2024-10-01").unwrap(), t("2024-09-30T23:00:00Z"));
        assert_eq!(c.parse("2024-12-01").unwrap(), t("2024-12-01T00:00:00Z"));
        assert_eq!(
            c.parse("2025-08-01T00:30").unwrap(),
            t("2025-07-31T23:30:00Z")
        );
        assert_eq!(
            c.parse("2025-08-01T00:30:00Z").unwrap(),
            t("2025-08-01T00:30:00Z")
        );
        assert_eq!(
            c.format(t("2025-07-31T23:30:00Z")),
            "2025-08-01T00:30:00+01:00"
        );
        assert_eq!(
            c.format(t("2025-01-31T23:30:00.250Z")),
            "2025-01-31T23:30:00.250+00:00"
        );
        assert!(c.parse("tomorrow").is_err());
        assert!(Calendar::new("Mars/Olympus").is_err());
    }

    #[test]
    fn anniversary() {
        let c = Calendar::default_zone();
        assert_eq!(
            c.anniversary_of(t("2025-01-27T09:00:00Z")),
            Some(t("2026-01-27T00:00:00Z"))
        );
        assert_eq!(
            c.anniversary_of(t("2024-09-23T09:00:00Z")),
            Some(t("2025-09-22T23:00:00Z"))
        );
        assert_eq!(
            c.anniversary_of(t("2024-02-29T12:00:00Z")),
            Some(t("2025-02-28T00:00:00Z"))
        );
    }
}
