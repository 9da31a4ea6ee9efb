//! Any bytes given to the FIEMAP decoder either fail with an error or give extents in order,
//! without overlap or overflow, that build an extent map covering the file exactly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use underhood_sparse::{Extent, ExtentKind, ExtentMap, MapSource, decode_fiemap};

fuzz_target!(|data: &[u8]| {
    let (size, reply) = match data.split_first_chunk::<8>() {
        Some((size, reply)) => (u64::from_le_bytes(*size) >> 16, reply),
        None => (0, data),
    };
    let Ok(extents) = decode_fiemap(reply) else {
        return;
    };
    let mut previous_end = 0;
    for e in &extents {
        assert!(e.logical >= previous_end);
        previous_end = e
            .logical
            .checked_add(e.length)
            .expect("decoder rejects overflow");
    }
    let runs = extents.iter().map(|e| Extent {
        offset: e.logical,
        length: e.length,
        kind: if e.is_unwritten() {
            ExtentKind::Unwritten
        } else {
            ExtentKind::Data
        },
    });
    let map = ExtentMap::from_runs(size, MapSource::Fiemap, runs);
    let mut at = 0;
    for pair in map.extents().windows(2) {
        assert_ne!(pair[0].kind, pair[1].kind);
    }
    for e in map.extents() {
        assert_eq!(e.offset, at);
        assert!(e.length > 0);
        at = e.end();
    }
    assert_eq!(at, size);
});
