//! Socket paths on loopback: sources that grow or shrink while a non-blocking send waits, and
//! the two-way proxy with its half-close.

#![cfg(not(miri))] // Real system calls.

mod common;

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::time::Duration;

use common::{bounded, payload};
use underhood_zerocopy::{Options, Side, Status, Strategy, Transfer, proxy};

fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let a = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (b, _) = listener.accept().unwrap();
    bounded(&a);
    bounded(&b);
    (a, b)
}

const MIB: usize = 1 << 20;

/// Sends a 16 MiB file into a non-blocking socket; when it first blocks, `change` resizes the
/// source; then the reader drains. Returns what arrived and the source as it ended.
#[track_caller]
fn check(strategy: Strategy, change: impl FnOnce(&std::path::Path), expected_len: usize) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("src");
    let data = payload(16 * MIB, 4);
    std::fs::write(&path, &data).unwrap();
    let src = File::open(&path).unwrap();
    let (sender, mut receiver) = pair();
    sender.set_nonblocking(true).unwrap();
    let mut transfer = Transfer::new(Options {
        strategy,
        ..Options::default()
    })
    .unwrap();
    assert_eq!(
        transfer.resume(&src, &sender).unwrap(),
        Status::WouldBlock(Side::Destination)
    );
    assert!(
        transfer.report().bytes < 12 * MIB as u64,
        "{}",
        transfer.report()
    );
    change(&path);
    let reader = std::thread::spawn(move || {
        let mut got = Vec::new();
        receiver.read_to_end(&mut got).unwrap();
        got
    });
    while let Status::WouldBlock(side) = transfer.resume(&src, &sender).unwrap() {
        assert_eq!(side, Side::Destination);
        let mut fds = [rustix::event::PollFd::new(
            &sender,
            rustix::event::PollFlags::OUT,
        )];
        rustix::event::poll(&mut fds, None).unwrap();
    }
    drop(sender);
    let got = reader.join().unwrap();
    let now = std::fs::read(&path).unwrap();
    let report = transfer.into_report();
    assert_eq!(got.len(), expected_len, "{strategy}: {report}");
    assert_eq!(report.bytes, got.len() as u64, "{strategy}");
    assert!(got == now[..expected_len], "{strategy}: content differs");
    assert_eq!(report.strategy, strategy, "{report}");
    let _ = src.as_fd();
}

#[test]
fn a_source_that_shrinks_mid_transfer_ends_at_its_new_end() {
    for strategy in [
        Strategy::Sendfile,
        Strategy::Splice,
        Strategy::Mmap,
        Strategy::ReadWrite,
    ] {
        let shrink = |path: &std::path::Path| {
            OpenOptions::new()
                .write(true)
                .open(path)
                .unwrap()
                .set_len(12 * MIB as u64)
                .unwrap();
        };
        check(strategy, shrink, 12 * MIB);
    }
}

#[test]
fn a_source_that_grows_mid_transfer_is_sent_to_its_new_end() {
    for strategy in [
        Strategy::Sendfile,
        Strategy::Splice,
        Strategy::Mmap,
        Strategy::ReadWrite,
    ] {
        let grow = |path: &std::path::Path| {
            let mut f = OpenOptions::new().append(true).open(path).unwrap();
            f.write_all(&payload(3 * MIB + 5, 6)).unwrap();
        };
        check(strategy, grow, 19 * MIB + 5);
    }
}

#[test]
fn proxy_splices_both_ways_and_forwards_half_closes() {
    for strategy in [Strategy::Auto, Strategy::ReadWrite] {
        let (client, proxy_front) = pair();
        let (proxy_back, server) = pair();
        let request = payload(3 * MIB + 1, 1);
        let reply = payload(MIB + 7, 2);
        let server_thread = {
            let (request, reply) = (request.clone(), reply.clone());
            let mut server = server;
            std::thread::spawn(move || {
                // Reads to the client's half-close, which must arrive through the proxy…
                let mut got = Vec::new();
                server.read_to_end(&mut got).unwrap();
                assert!(got == request);
                // …and can still answer on the half that stays open.
                server.write_all(&reply).unwrap();
            })
        };
        let client_thread = {
            let mut client = client;
            let request = request.clone();
            std::thread::spawn(move || {
                client.write_all(&request).unwrap();
                client.shutdown(Shutdown::Write).unwrap();
                let mut got = Vec::new();
                client.read_to_end(&mut got).unwrap();
                got
            })
        };
        let options = Options {
            strategy,
            ..Options::default()
        };
        let report = proxy(&proxy_front, &proxy_back, &options).unwrap();
        drop((proxy_front, proxy_back));
        server_thread.join().unwrap();
        assert!(client_thread.join().unwrap() == reply);
        assert_eq!(report.forward.bytes, request.len() as u64);
        assert_eq!(report.backward.bytes, reply.len() as u64);
        let ran = if strategy == Strategy::Auto {
            Strategy::Splice
        } else {
            strategy
        };
        assert_eq!(
            (report.forward.strategy, report.backward.strategy),
            (ran, ran)
        );
    }
}

#[test]
fn proxy_reports_a_reset_and_unblocks_the_other_direction() {
    let (client, proxy_front) = pair();
    let (proxy_back, server) = pair();
    // The server vanishes with unread data: its kernel answers with a reset.
    let mut server = server;
    server
        .set_read_timeout(Some(Duration::from_millis(1)))
        .unwrap();
    let mut client = client;
    client.write_all(b"hello").unwrap();
    let killer = std::thread::spawn(move || {
        let mut buf = [0; 1];
        let _ = server.read(&mut buf);
        std::thread::sleep(Duration::from_millis(50));
        // Unread bytes at close make the kernel send RST.
        drop(server);
    });
    let result = proxy(&proxy_front, &proxy_back, &Options::default());
    killer.join().unwrap();
    // Either direction may see the reset first; what matters is that the proxy returned.
    if let Err(err) = &result {
        assert!(err.io_error().is_some(), "{err}");
    }
    drop(client);
}
