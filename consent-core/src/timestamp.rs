//! Instants on the UTC time line, kept as whole milliseconds since the Unix epoch.
//!
//! Milliseconds are what the C ABI carries and what the canonical encoding hashes, so
//! the ledger stores nothing finer: a time that goes in comes back out unchanged.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, UtcOffset};

use crate::error::{Error, Result};

/// Milliseconds since 1970-01-01T00:00:00Z, between the years 1 and 9999 inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// 0001-01-01T00:00:00Z in milliseconds.
const MIN_MS: i64 = -62_135_596_800_000;
/// 9999-12-31T23:59:59.999Z in milliseconds.
const MAX_MS: i64 = 253_402_300_799_999;

impl Timestamp {
    /// The earliest supported instant, 0001-01-01T00:00:00Z.
    pub const MIN: Timestamp = Timestamp(MIN_MS);
    /// The latest supported instant, 9999-12-31T23:59:59.999Z.
    pub const MAX: Timestamp = Timestamp(MAX_MS);

    /// The current time, truncated to the millisecond.
    ///
    /// # Panics
    /// If the system clock reads a time outside the years 1..=9999.
    pub fn now() -> Self {
        Self::from_datetime(OffsetDateTime::now_utc()).expect("the clock is within years 1..9999")
    }

    /// From milliseconds since the epoch.
    ///
    /// # Errors
    /// [`InvalidTime`](crate::ErrorKind::InvalidTime) outside the years 1..=9999.
    pub fn from_millis(ms: i64) -> Result<Self> {
        if (MIN_MS..=MAX_MS).contains(&ms) {
            Ok(Timestamp(ms))
        } else {
            Err(Error::InvalidTime(format!(
                "{ms} ms is outside the years 1..9999"
            )))
        }
    }

    /// Milliseconds since the epoch.
    pub fn as_millis(self) -> i64 {
        self.0
    }

    /// From a `time` date-time (any offset); sub-millisecond precision is dropped.
    ///
    /// # Errors
    /// [`InvalidTime`](crate::ErrorKind::InvalidTime) outside the years 1..=9999.
    pub fn from_datetime(dt: OffsetDateTime) -> Result<Self> {
        let ms = dt.unix_timestamp_nanos().div_euclid(1_000_000);
        let ms = i64::try_from(ms).map_err(|_| Error::InvalidTime("out of range".into()))?;
        Self::from_millis(ms)
    }

    /// As a UTC `time` date-time.
    #[allow(
        clippy::missing_panics_doc,
        reason = "never panics: every Timestamp is within the years 1..=9999, which `time` holds"
    )]
    pub fn to_datetime(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .expect("range checked on construction")
    }

    /// Parses RFC 3339 (`2024-10-01T09:30:00Z`, any offset) or a plain date
    /// (`2024-10-01`, meaning midnight UTC).
    ///
    /// # Errors
    /// [`InvalidTime`](crate::ErrorKind::InvalidTime) for text in neither form, or a
    /// time outside the years 1..=9999.
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        if let Ok(dt) = OffsetDateTime::parse(text, &Rfc3339) {
            return Self::from_datetime(dt);
        }
        let date_format = time::macros::format_description!("[year]-[month]-[day]");
        if let Ok(date) = Date::parse(text, &date_format) {
            return Self::from_datetime(date.midnight().assume_utc());
        }
        Err(Error::InvalidTime(format!(
            "`{}` is neither RFC 3339 (2024-10-01T09:30:00Z) nor a date (2024-10-01)",
            text.chars().take(64).collect::<String>()
        )))
    }

    /// Adds milliseconds, saturating at the supported range.
    pub fn saturating_add_millis(self, ms: i64) -> Self {
        Timestamp(self.0.saturating_add(ms).clamp(MIN_MS, MAX_MS))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dt = self.to_datetime().to_offset(UtcOffset::UTC);
        let format = time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        match dt.format(&format) {
            Ok(s) => f.write_str(&s),
            Err(_) => write!(f, "{}ms", self.0),
        }
    }
}

impl FromStr for Timestamp {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc3339_and_dates() {
        let t = Timestamp::parse("2024-10-01T09:30:00.123+01:00").unwrap();
        assert_eq!(t.to_string(), "2024-10-01T08:30:00.123Z");
        assert_eq!(
            Timestamp::parse("2024-10-01").unwrap().to_string(),
            "2024-10-01T00:00:00.000Z"
        );
        assert_eq!(Timestamp::parse(&t.to_string()).unwrap(), t);
    }

    #[test]
    fn rejects_malformed_and_out_of_range() {
        for bad in [
            "",
            "yesterday",
            "2024-13-01",
            "2024-10-01T25:00:00Z",
            "2024-10-01 09:30",
        ] {
            assert!(
                matches!(Timestamp::parse(bad), Err(Error::InvalidTime(_))),
                "{bad}"
            );
        }
        assert!(Timestamp::from_millis(i64::MAX).is_err());
        assert!(Timestamp::from_millis(i64::MIN).is_err());
        assert!(Timestamp::from_millis(MAX_MS).is_ok());
        assert_eq!(
            Timestamp::from_millis(MAX_MS)
                .unwrap()
                .saturating_add_millis(5)
                .as_millis(),
            MAX_MS
        );
    }
}
