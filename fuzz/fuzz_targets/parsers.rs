//! The public text parsers of consent-core on arbitrary UTF-8: `Timestamp::parse`,
//! `Head`, `Actor`, `EventKind` and `Method` from `str::parse`. None may panic, and
//! whatever one accepts must print (`Display`) as text that parses back to the same value.

#![no_main]

use std::fmt::{Debug, Display};
use std::str::FromStr;

use consent_core::{Actor, EventKind, Head, Method, Timestamp};
use libfuzzer_sys::fuzz_target;

/// Parses `text`; when that succeeds, checks that the printed form parses to the same value.
fn round_trip<T>(text: &str)
where
    T: FromStr + Display + PartialEq + Debug,
{
    if let Ok(value) = text.parse::<T>() {
        let printed = value.to_string();
        match printed.parse::<T>() {
            Ok(again) => assert_eq!(again, value, "{text:?} -> {printed:?}"),
            Err(_) => panic!(
                "{text:?} parsed as {value:?}, but its printed form {printed:?} does not parse"
            ),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    round_trip::<Timestamp>(text);
    round_trip::<Head>(text);
    round_trip::<Actor>(text);
    round_trip::<EventKind>(text);
    round_trip::<Method>(text);
});
