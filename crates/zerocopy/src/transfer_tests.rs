//! Failure injection: EXDEV, ENOSYS, EOPNOTSUPP, EINVAL, EINTR and EAGAIN on demand, on real
//! descriptors, with the bytes compared and the report checked.

use std::fs::File;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsFd;

use rustix::io::Errno;

use super::*;

fn files(data: &[u8]) -> (tempfile::TempDir, File, File, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let src_path = dir.path().join("src");
    std::fs::write(&src_path, data).unwrap();
    let dst_path = dir.path().join("dst");
    let src = File::open(&src_path).unwrap();
    let dst = File::create(&dst_path).unwrap();
    (dir, src, dst, dst_path)
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

/// Runs a file→file transfer with `faults` injected; checks the bytes and the fallback path.
#[track_caller]
fn check(strategy: Strategy, faults: &[(Call, Errno)], ran: Strategy, fallbacks: &[Reason]) {
    let payload = data(200_000);
    let (_dir, src, dst, dst_path) = files(&payload);
    let mut transfer = Transfer::new(Options {
        strategy,
        ..Options::default()
    })
    .unwrap();
    for &(call, errno) in faults {
        transfer.inject(call, errno);
    }
    transfer.run_blocking(src.as_fd(), dst.as_fd()).unwrap();
    let report = transfer.into_report();
    assert_eq!(std::fs::read(dst_path).unwrap(), payload, "{report}");
    assert_eq!(report.bytes, payload.len() as u64);
    assert_eq!(report.strategy, ran, "{report}");
    let reasons: Vec<Reason> = report.fallbacks.iter().map(|f| f.reason).collect();
    assert_eq!(reasons, fallbacks, "{report}");
}

#[test]
fn fallbacks_follow_the_chain_and_name_the_reason() {
    use Call as C;
    use Strategy as S;
    let exdev = Errno::XDEV;
    check(S::Auto, &[], S::CopyFileRange, &[]);
    check(
        S::Auto,
        &[(C::CopyFileRange, exdev)],
        S::Sendfile,
        &[Reason::CrossDevice],
    );
    check(
        S::Auto,
        &[(C::CopyFileRange, Errno::NOSYS)],
        S::Sendfile,
        &[Reason::NotImplemented],
    );
    check(
        S::Auto,
        &[
            (C::CopyFileRange, Errno::OPNOTSUPP),
            (C::Sendfile, Errno::INVAL),
        ],
        S::Splice,
        &[Reason::NotSupported, Reason::Invalid],
    );
    check(
        S::Auto,
        &[
            (C::CopyFileRange, exdev),
            (C::Sendfile, Errno::NOSYS),
            (C::SpliceIn, Errno::INVAL),
        ],
        S::ReadWrite,
        &[Reason::CrossDevice, Reason::NotImplemented, Reason::Invalid],
    );
    check(
        S::Sendfile,
        &[(C::Sendfile, Errno::NOSYS)],
        S::ReadWrite,
        &[Reason::NotImplemented],
    );
    check(
        S::Mmap,
        &[(C::Mmap, Errno::NODEV)],
        S::ReadWrite,
        &[Reason::NoDevice],
    );
}

#[test]
fn eintr_is_retried_and_counted_without_a_fallback() {
    use Call::*;
    let intr = Errno::INTR;
    check(
        Strategy::Auto,
        &[(CopyFileRange, intr), (CopyFileRange, intr)],
        Strategy::CopyFileRange,
        &[],
    );
    check(
        Strategy::Sendfile,
        &[(Sendfile, intr)],
        Strategy::Sendfile,
        &[],
    );
    check(
        Strategy::Splice,
        &[(SpliceIn, intr), (SpliceOut, intr)],
        Strategy::Splice,
        &[],
    );
    check(
        Strategy::Mmap,
        &[(Mmap, intr), (Write, intr)],
        Strategy::Mmap,
        &[],
    );
    check(
        Strategy::ReadWrite,
        &[(Read, intr), (Write, intr)],
        Strategy::ReadWrite,
        &[],
    );
}

#[test]
fn a_refused_splice_out_keeps_the_bytes_already_in_the_pipe() {
    // The first splice fills the pipe; the kernel then refuses to empty it into the destination.
    check(
        Strategy::Splice,
        &[(Call::SpliceOut, Errno::INVAL)],
        Strategy::ReadWrite,
        &[Reason::Invalid],
    );
}

#[test]
fn a_fallback_mid_transfer_resumes_where_the_last_strategy_stopped() {
    let payload = data(300_000);
    let (_dir, src, dst, dst_path) = files(&payload);
    let mut transfer = Transfer::new(Options {
        strategy: Strategy::Sendfile,
        limit: Some(100_000),
        ..Options::default()
    })
    .unwrap();
    transfer.run_blocking(src.as_fd(), dst.as_fd()).unwrap();
    // The descriptors' offsets moved by 100 000; a second transfer with a refusal carries on.
    let mut rest = Transfer::new(Options::default()).unwrap();
    rest.inject(Call::CopyFileRange, Errno::XDEV);
    rest.inject(Call::Sendfile, Errno::NOSYS);
    rest.run_blocking(src.as_fd(), dst.as_fd()).unwrap();
    assert_eq!(std::fs::read(dst_path).unwrap(), payload);
    assert_eq!(rest.report().bytes, 200_000);
}

#[test]
fn errors_that_no_strategy_can_avoid_stop_with_the_bytes_moved() {
    let payload = data(10_000);
    let (_dir, src, dst, _) = files(&payload);
    let mut transfer = Transfer::new(Options::default()).unwrap();
    transfer.inject(Call::CopyFileRange, Errno::NOSPC);
    let err = transfer.run_blocking(src.as_fd(), dst.as_fd()).unwrap_err();
    match err {
        Error::Io {
            call,
            strategy,
            moved,
            source,
        } => {
            assert_eq!(
                (call, strategy, moved),
                (Call::CopyFileRange, Strategy::CopyFileRange, 0)
            );
            assert_eq!(source.raw_os_error(), Some(Errno::NOSPC.raw_os_error()));
        }
        other => panic!("{other}"),
    }
    // A failed transfer stays failed.
    assert_eq!(transfer.resume(&src, &dst).unwrap(), Status::Done);
    // The last strategy has nowhere to fall back to.
    let (_dir, src, dst, _) = files(&payload);
    let mut transfer = Transfer::new(Options {
        strategy: Strategy::ReadWrite,
        ..Options::default()
    })
    .unwrap();
    transfer.inject(Call::Write, Errno::INVAL);
    let err = transfer.run_blocking(src.as_fd(), dst.as_fd()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Io {
                call: Call::Write,
                moved: 0,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn injected_eagain_returns_would_block_and_resuming_finishes() {
    for (strategy, call, side) in [
        (Strategy::Sendfile, Call::Sendfile, Side::Destination),
        (Strategy::Splice, Call::SpliceIn, Side::Source),
        (Strategy::Splice, Call::SpliceOut, Side::Destination),
        (Strategy::ReadWrite, Call::Read, Side::Source),
        (Strategy::ReadWrite, Call::Write, Side::Destination),
        (Strategy::Mmap, Call::Write, Side::Destination),
    ] {
        let payload = data(50_000);
        let (_dir, src, dst, dst_path) = files(&payload);
        let mut transfer = Transfer::new(Options {
            strategy,
            ..Options::default()
        })
        .unwrap();
        transfer.inject(call, Errno::AGAIN);
        assert_eq!(
            transfer.resume(&src, &dst).unwrap(),
            Status::WouldBlock(side),
            "{strategy}"
        );
        assert_eq!(
            transfer.resume(&src, &dst).unwrap(),
            Status::Done,
            "{strategy}"
        );
        assert_eq!(std::fs::read(dst_path).unwrap(), payload, "{strategy}");
        assert_eq!(transfer.report().strategy, strategy);
    }
}

#[test]
fn a_nonblocking_socket_resumes_without_losing_bytes() {
    // 8 MiB into a socket nobody reads yet: the kernel buffers fill and the transfer must stop
    // with WouldBlock, keep what it took, and finish once the reader drains.
    let payload = data(8 << 20);
    for strategy in [
        Strategy::Sendfile,
        Strategy::Splice,
        Strategy::Mmap,
        Strategy::ReadWrite,
    ] {
        let (_dir, src, _, _) = files(&payload);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let sender = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut receiver, _) = listener.accept().unwrap();
        sender.set_nonblocking(true).unwrap();
        receiver
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut transfer = Transfer::new(Options {
            strategy,
            ..Options::default()
        })
        .unwrap();
        assert_eq!(
            transfer.resume(&src, &sender).unwrap(),
            Status::WouldBlock(Side::Destination),
            "{strategy}"
        );
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            std::io::Read::read_to_end(&mut receiver, &mut got).unwrap();
            got
        });
        let mut blocked = 1;
        loop {
            match transfer.resume(&src, &sender).unwrap() {
                Status::Done => break,
                Status::WouldBlock(side) => {
                    assert_eq!(side, Side::Destination);
                    blocked += 1;
                    sys::wait(sender.as_fd(), Interest::Write).unwrap();
                }
            }
        }
        drop(sender);
        let got = reader.join().unwrap();
        assert!(
            got == payload,
            "{strategy}: {} of {} bytes",
            got.len(),
            payload.len()
        );
        let report = transfer.into_report();
        assert_eq!(
            (report.bytes, report.strategy),
            (payload.len() as u64, strategy)
        );
        assert!(blocked >= 1);
    }
}

#[test]
fn a_nonblocking_source_socket_reports_the_source_side() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut writer = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (source, _) = listener.accept().unwrap();
    source.set_nonblocking(true).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dst = File::create(dir.path().join("dst")).unwrap();
    for strategy in [Strategy::Splice, Strategy::ReadWrite] {
        let mut transfer = Transfer::new(Options {
            strategy,
            ..Options::default()
        })
        .unwrap();
        assert_eq!(
            transfer.resume(&source, &dst).unwrap(),
            Status::WouldBlock(Side::Source)
        );
        writer.write_all(b"late bytes").unwrap();
        if strategy == Strategy::ReadWrite {
            drop(writer);
            sys::wait(source.as_fd(), Interest::Read).unwrap();
            assert_eq!(transfer.resume(&source, &dst).unwrap(), Status::Done);
            assert_eq!(transfer.report().bytes, 10);
            break;
        }
        sys::wait(source.as_fd(), Interest::Read).unwrap();
        assert_eq!(
            transfer.resume(&source, &dst).unwrap(),
            Status::WouldBlock(Side::Source)
        );
        assert_eq!(transfer.report().bytes, 10);
    }
    assert_eq!(
        std::fs::read(dir.path().join("dst")).unwrap(),
        b"late byteslate bytes"
    );
}
