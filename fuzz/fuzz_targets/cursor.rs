//! Any string either fails to parse as a cursor, or parses to one that prints
//! back to a string that parses to the same cursor. Never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pushlab::Cursor;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(c) = s.parse::<Cursor>() {
        let printed = c.to_string();
        assert_eq!(printed.parse::<Cursor>(), Ok(c), "{s:?} -> {printed:?}");
    }
});
