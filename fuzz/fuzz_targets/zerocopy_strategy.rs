//! Any text: a strategy that prints back to the same name, or an error naming the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use underhood_zerocopy::Strategy;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match text.parse::<Strategy>() {
        Ok(strategy) => assert_eq!(strategy.name(), text),
        Err(err) => assert_eq!(err.name, text),
    }
});
