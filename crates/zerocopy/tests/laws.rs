//! Laws every strategy obeys, checked by proptest on real files, pipes and sockets: the same
//! bytes arrive for any size, offset, limit and buffer; offsets move exactly as documented;
//! the destination keeps what lies outside the written range.

#![cfg(not(miri))] // Real system calls.

mod common;

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom};
use std::os::fd::AsFd;

use common::{End, Sink, Source, payload};
use proptest::prelude::*;
use underhood_zerocopy::{Error, Offset, Options, Side, Strategy, copy};

fn strategy() -> impl proptest::strategy::Strategy<Value = Strategy> {
    proptest::sample::select(Strategy::ALL.to_vec())
}

/// What the destination must hold after copying `src[from..from+n]` to `dst` at `at`.
fn model(src: &[u8], from: usize, limit: Option<u64>, dst: &[u8], at: usize) -> (Vec<u8>, usize) {
    let available = src.len().saturating_sub(from);
    let n = limit.map_or(available, |l| available.min(l as usize));
    let mut out = dst.to_vec();
    if n == 0 {
        return (out, 0);
    }
    if out.len() < at + n {
        out.resize(at + n, 0);
    }
    out[at..at + n].copy_from_slice(&src[from..from + n]);
    (out, n)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn file_to_file_moves_the_modelled_bytes(
        strategy in strategy(),
        len in 0usize..200_000,
        from in 0usize..210_000,
        at in 0usize..50_000,
        old_len in 0usize..60_000,
        limit in proptest::option::of(0u64..250_000),
        buffer_size in 1usize..70_000,
        explicit_src in any::<bool>(),
        explicit_dst in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let data = payload(len, len as u64);
        let old = payload(old_len, 99);
        std::fs::write(dir.path().join("src"), &data).unwrap();
        std::fs::write(dir.path().join("dst"), &old).unwrap();
        let mut src = File::open(dir.path().join("src")).unwrap();
        let mut dst = OpenOptions::new().write(true).open(dir.path().join("dst")).unwrap();
        // Where the descriptors' own offsets stand: the start, or a marker the copy must keep.
        let (src_offset, src_fd_pos) = if explicit_src { (Offset::At(from as u64), 3) } else { (Offset::Current, from as u64) };
        let (dst_offset, dst_fd_pos) = if explicit_dst { (Offset::At(at as u64), 5) } else { (Offset::Current, at as u64) };
        src.seek(SeekFrom::Start(src_fd_pos)).unwrap();
        dst.seek(SeekFrom::Start(dst_fd_pos)).unwrap();
        let options = Options { strategy, src_offset, dst_offset, limit, buffer_size };
        let report = copy(&src, &dst, &options).unwrap();
        let (expected, n) = model(&data, from, limit, &old, at);
        prop_assert_eq!(report.bytes, n as u64, "{}", report);
        prop_assert!(std::fs::read(dir.path().join("dst")).unwrap() == expected, "content: {}", report);
        let src_after = src.stream_position().unwrap();
        let dst_after = dst.stream_position().unwrap();
        prop_assert_eq!(src_after, if explicit_src { 3 } else { (from + n) as u64 });
        prop_assert_eq!(dst_after, if explicit_dst { 5 } else { (at + n) as u64 });
        prop_assert_ne!(report.strategy, Strategy::Auto);
    }

    #[test]
    fn every_pair_moves_the_same_bytes(
        strategy in strategy(),
        src_end in proptest::sample::select(common::ENDS.to_vec()),
        dst_end in proptest::sample::select(common::ENDS.to_vec()),
        len in 0usize..400_000,
        limit in proptest::option::of(0u64..500_000),
        buffer_size in 1usize..300_000,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let data = payload(len, len as u64 ^ 5);
        let source = Source::new(src_end, &data, &dir);
        let sink = Sink::new(dst_end, &dir);
        let options = Options { strategy, limit, buffer_size, ..Options::default() };
        let report = copy(source.fd(), sink.fd(), &options).unwrap();
        source.finish();
        let got = sink.finish();
        let n = limit.map_or(len, |l| len.min(l as usize));
        prop_assert_eq!(report.bytes, n as u64, "{}", report);
        prop_assert!(got == data[..n], "{:?}→{:?} {}: content differs", src_end, dst_end, report);
    }
}

#[track_caller]
fn check_error(result: Result<underhood_zerocopy::Report, Error>, expected: &str) {
    let err = result.unwrap_err();
    assert!(err.to_string().contains(expected), "{err}");
}

#[test]
fn bad_requests_are_refused_before_a_byte_moves() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    std::fs::write(&path, b"keep me").unwrap();
    let reader = File::open(&path).unwrap();
    let writer = OpenOptions::new().write(true).open(&path).unwrap();
    check_error(copy(&reader, &writer, &Options::default()), "same file");
    assert_eq!(std::fs::read(&path).unwrap(), b"keep me");
    for size in [0, (1 << 30) + 1] {
        let options = Options {
            buffer_size: size,
            ..Options::default()
        };
        assert!(
            matches!(copy(&reader, &writer, &options), Err(Error::BufferSize { size: s }) if s == size)
        );
    }
    let source = Source::new(End::Pipe, b"x", &dir);
    let sink = Sink::new(End::Socket, &dir);
    let options = Options {
        src_offset: Offset::At(1),
        ..Options::default()
    };
    assert!(matches!(
        copy(source.fd(), sink.fd(), &options),
        Err(Error::NotSeekable { side: Side::Source })
    ));
    let options = Options {
        dst_offset: Offset::At(1),
        ..Options::default()
    };
    assert!(matches!(
        copy(source.fd(), sink.fd(), &options),
        Err(Error::NotSeekable {
            side: Side::Destination
        })
    ));
    source.finish();
    assert!(sink.finish().is_empty());
}

#[test]
fn an_append_only_destination_falls_back_and_appends() {
    let dir = tempfile::tempdir().unwrap();
    let data = payload(100_000, 3);
    std::fs::write(dir.path().join("src"), &data).unwrap();
    std::fs::write(dir.path().join("log"), b"head:").unwrap();
    let src = File::open(dir.path().join("src")).unwrap();
    let log = OpenOptions::new()
        .append(true)
        .open(dir.path().join("log"))
        .unwrap();
    let report = copy(&src, &log, &Options::default()).unwrap();
    let mut expected = b"head:".to_vec();
    expected.extend_from_slice(&data);
    assert_eq!(
        std::fs::read(dir.path().join("log")).unwrap(),
        expected,
        "{report}"
    );
    assert_eq!(report.bytes, 100_000);
}

#[test]
fn copying_across_filesystems_falls_back_from_copy_file_range() {
    let Ok(shm) = tempfile::tempdir_in("/dev/shm") else {
        println!("skipped: /dev/shm is not available for a second filesystem");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let same_fs = rustix::fs::statfs(shm.path()).unwrap().f_type
        == rustix::fs::statfs(dir.path()).unwrap().f_type;
    if same_fs {
        println!("skipped: /dev/shm and the temp dir are the same kind of filesystem");
        return;
    }
    let data = payload(1 << 20, 8);
    std::fs::write(shm.path().join("src"), &data).unwrap();
    let src = File::open(shm.path().join("src")).unwrap();
    let dst = File::create(dir.path().join("dst")).unwrap();
    let report = copy(&src, &dst, &Options::default()).unwrap();
    assert_eq!(std::fs::read(dir.path().join("dst")).unwrap(), data);
    let first = report.fallbacks.first().copied();
    assert_eq!(
        first.map(|f| (f.from, f.reason.code())),
        Some((Strategy::CopyFileRange, "EXDEV")),
        "{report}"
    );
    assert_eq!(report.strategy, Strategy::Sendfile, "{report}");
    let _ = dst.as_fd();
}
