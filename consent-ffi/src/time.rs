//! Times at the boundary: milliseconds since the epoch, the range accepted, and "no time".

/// "No time": an optional time that is not given, or an output time that does not exist.
pub const CONSENT_TIME_ABSENT: i64 = i64::MIN;

/// The earliest time accepted: 0001-01-01T00:00:00.000Z.
pub const CONSENT_TIME_MIN: i64 = -62_135_596_800_000;

/// The latest time accepted: 9999-12-31T23:59:59.999Z.
pub const CONSENT_TIME_MAX: i64 = 253_402_300_799_999;

#[cfg(test)]
mod tests {
    use consent_core::{Head, Timestamp};

    use super::*;
    use crate::CONSENT_HEAD_STRING_LEN;

    #[test]
    fn time_bounds_match_the_core() {
        assert!(Timestamp::from_millis(CONSENT_TIME_MIN).is_ok());
        assert!(Timestamp::from_millis(CONSENT_TIME_MAX).is_ok());
        assert!(Timestamp::from_millis(CONSENT_TIME_MIN - 1).is_err());
        assert!(Timestamp::from_millis(CONSENT_TIME_MAX + 1).is_err());
        let longest = Head {
            size: u64::MAX,
            root: [0xff; 32],
        }
        .to_string();
        assert_eq!(longest.len() + 1, CONSENT_HEAD_STRING_LEN);
    }
}
