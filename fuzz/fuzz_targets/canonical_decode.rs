//! `consent_core::canonical::decode` on arbitrary bytes. It must never panic, and
//! whatever it accepts must encode back to exactly the bytes it was given: the decoder
//! promises to accept only well-formed version-1 encodings, and each has one form.

#![no_main]

use consent_core::canonical::decode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(event) = decode(data) {
        assert_eq!(
            event.encode(),
            data,
            "decode accepted bytes that do not re-encode to themselves: {event:?}"
        );
    }
});
