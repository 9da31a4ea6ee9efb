//! Any bytes as shares: parsing a self-describing share, and combining shares cut from the input
//! in both formats, either fail with an error or succeed; they never panic. A self-describing
//! share that parses re-encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use underhood_secret_crypto::shamir::{self, CheckedShare, Share};

fuzz_target!(|data: &[u8]| {
    if let Ok(share) = CheckedShare::parse(data) {
        assert_eq!(share.expose_secret(), data);
        assert!(share.threshold() >= 2 && share.x() != 0);
    }
    let _ = Share::from_bytes(data.to_vec());
    // The first byte picks the share length; the rest is cut into shares of that length.
    let Some((&len, rest)) = data.split_first() else {
        return;
    };
    let len = usize::from(len).max(1);
    let shares: Vec<&[u8]> = rest.chunks(len).collect();
    let _ = shamir::combine(&shares);
    let _ = shamir::combine_checked(&shares);
    for threshold in [2, 3, shares.len()] {
        let _ = shamir::combine_verified(&shares, threshold);
    }
});
