//! Any text given to the `--backends` parser either fails with an error or gives a backend set
//! that prints back to text parsing to the same set; a Maglev table over it fills every slot
//! and balances equal weights within one slot.
#![no_main]

use libfuzzer_sys::fuzz_target;
use underhood_lb::{Backends, Maglev, TableSize};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(backends) = Backends::parse(text) else {
        return;
    };
    let printed = backends.to_string();
    assert_eq!(
        Backends::parse(&printed).as_ref(),
        Ok(&backends),
        "{text:?} printed as {printed:?}"
    );
    let size = TableSize::new(251).expect("251 is prime");
    let Ok(maglev) = Maglev::new(&backends, size) else {
        assert!(backends.len() > 251);
        return;
    };
    let balance = maglev.balance();
    let live = backends.as_slice().iter().filter(|b| b.weight > 0).count();
    let filled: u64 = balance.slots.iter().sum();
    assert_eq!(filled, if live == 0 { 0 } else { 251 });
    if backends.as_slice().iter().all(|b| b.weight == 1) {
        assert!(balance.spread() <= 1, "{balance:?}");
    }
});
