//! Every strategy between every pair of descriptor kinds, on real files, pipes and loopback
//! sockets, with the content compared byte for byte and the strategy that ran checked.

#![cfg(not(miri))] // Real system calls.

mod common;

use common::{ENDS, End, Sink, Source, payload};
use underhood_zerocopy::{Options, Reason, Strategy, copy};

/// Copies `len` bytes from `src` to `dst` with `strategy`; checks the bytes and what ran.
#[track_caller]
fn check(src: End, dst: End, strategy: Strategy, len: usize, ran: Strategy) {
    let dir = tempfile::tempdir().unwrap();
    let data = payload(len, len as u64 + 7);
    let source = Source::new(src, &data, &dir);
    let sink = Sink::new(dst, &dir);
    let options = Options {
        strategy,
        ..Options::default()
    };
    let report = copy(source.fd(), sink.fd(), &options)
        .unwrap_or_else(|e| panic!("{src:?}→{dst:?} {strategy}: {e}"));
    source.finish();
    let got = sink.finish();
    assert_eq!(
        report.bytes, len as u64,
        "{src:?}→{dst:?} {strategy}: {report}"
    );
    assert!(
        got == data,
        "{src:?}→{dst:?} {strategy}: content differs ({report})"
    );
    assert_eq!(report.strategy, ran, "{src:?}→{dst:?} {strategy}: {report}");
    assert!(report.syscalls > 0);
}

/// What `strategy` ends up running for a pair: itself where the kernel supports it, else `rw`.
fn expected(src: End, dst: End, strategy: Strategy) -> Strategy {
    use Strategy::*;
    match (strategy, src, dst) {
        (Auto, End::File, End::File) => CopyFileRange,
        (Auto, End::File, End::Socket) => Sendfile,
        (Auto, _, _) => Splice,
        (CopyFileRange, End::File, End::File) => CopyFileRange,
        (CopyFileRange, _, _) => ReadWrite,
        // sendfile(2) reads any file, and a socket too when writing to a pipe.
        (Sendfile, End::File, _) | (Sendfile, End::Socket, End::Pipe) => Sendfile,
        (Sendfile, _, _) => ReadWrite,
        (Splice, _, _) => Splice,
        (Mmap, End::File, _) => Mmap,
        (Mmap, _, _) => ReadWrite,
        (ReadWrite, _, _) => ReadWrite,
    }
}

#[test]
fn every_strategy_between_every_pair() {
    for src in ENDS {
        for dst in ENDS {
            for strategy in Strategy::ALL {
                for len in [0, 1, 4096, 300_001] {
                    let ran = if len == 0 {
                        // Nothing to move: zero-copy paths see zero bytes and hand over to `rw`.
                        match (strategy, src) {
                            (Strategy::ReadWrite, _) => Strategy::ReadWrite,
                            (_, End::File) => Strategy::ReadWrite,
                            _ => expected(src, dst, strategy),
                        }
                    } else {
                        expected(src, dst, strategy)
                    };
                    check(src, dst, strategy, len, ran);
                }
            }
        }
    }
}

#[test]
fn a_large_file_crosses_many_pipe_and_buffer_fills() {
    check(
        End::File,
        End::Socket,
        Strategy::Splice,
        5 << 20,
        Strategy::Splice,
    );
    check(
        End::Socket,
        End::File,
        Strategy::Auto,
        5 << 20,
        Strategy::Splice,
    );
    check(
        End::File,
        End::File,
        Strategy::Mmap,
        (16 << 20) + 5,
        Strategy::Mmap,
    );
    check(
        End::Pipe,
        End::Socket,
        Strategy::ReadWrite,
        3 << 20,
        Strategy::ReadWrite,
    );
}

#[test]
fn refusals_are_reported_with_their_reason() {
    let dir = tempfile::tempdir().unwrap();
    let data = payload(10_000, 1);
    let source = Source::new(End::Socket, &data, &dir);
    let sink = Sink::new(End::File, &dir);
    let options = Options {
        strategy: Strategy::CopyFileRange,
        ..Options::default()
    };
    let report = copy(source.fd(), sink.fd(), &options).unwrap();
    source.finish();
    assert_eq!(sink.finish(), data);
    assert_eq!(report.fallbacks.len(), 1, "{report}");
    let fallback = report.fallbacks[0];
    assert_eq!(
        (fallback.from, fallback.to, fallback.at),
        (Strategy::CopyFileRange, Strategy::ReadWrite, 0)
    );
    assert!(
        matches!(
            fallback.reason,
            Reason::Invalid | Reason::CrossDevice | Reason::BadDescriptor
        ),
        "{report}"
    );
}
