//! Any options and contents: a file-to-file transfer moves exactly the modelled bytes, never
//! touches what lies outside the written range, and never panics.
#![no_main]

use std::fs::{File, OpenOptions};

use libfuzzer_sys::fuzz_target;
use underhood_zerocopy::{Offset, Options, Strategy, copy};

fuzz_target!(|data: &[u8]| {
    let [pick, from, at, limit, buffer, old, rest @ ..] = data else {
        return;
    };
    let strategy = Strategy::ALL[usize::from(*pick) % Strategy::ALL.len()];
    let (from, at) = (usize::from(*from) * 7, usize::from(*at) * 5);
    let limit = (*limit != 255).then(|| u64::from(*limit) * 3);
    let buffer_size = usize::from(*buffer) + 1;
    let old = vec![0xEE; usize::from(*old)];
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("src"), rest).unwrap();
    std::fs::write(dir.path().join("dst"), &old).unwrap();
    let src = File::open(dir.path().join("src")).unwrap();
    let dst = OpenOptions::new().write(true).open(dir.path().join("dst")).unwrap();
    let options = Options {
        strategy,
        src_offset: Offset::At(from as u64),
        dst_offset: Offset::At(at as u64),
        limit,
        buffer_size,
    };
    let report = copy(&src, &dst, &options).unwrap();
    let available = rest.len().saturating_sub(from);
    let n = limit.map_or(available, |l| available.min(l as usize));
    let mut expected = old;
    if n > 0 {
        if expected.len() < at + n {
            expected.resize(at + n, 0);
        }
        expected[at..at + n].copy_from_slice(&rest[from..from + n]);
    }
    assert_eq!(report.bytes, n as u64);
    assert_eq!(std::fs::read(dir.path().join("dst")).unwrap(), expected);
});
