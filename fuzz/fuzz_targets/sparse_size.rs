//! Any text given to the SIZE parser either fails with an error or gives a size that prints
//! back to text that parses to the same size.
#![no_main]

use libfuzzer_sys::fuzz_target;
use underhood_sparse::Size;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(size) = text.parse::<Size>() else {
        return;
    };
    assert!(size <= Size::MAX);
    let printed = size.to_string();
    assert_eq!(
        printed.parse::<Size>(),
        Ok(size),
        "{text:?} printed as {printed:?}"
    );
});
