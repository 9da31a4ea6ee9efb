//! The async adapter on loopback: run with `cargo test -p underhood-zerocopy --all-features`.

#![cfg(all(feature = "tokio", not(miri)))]

mod common;

use std::fs::File;
use std::time::Duration;

use common::payload;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use underhood_zerocopy::{Options, Strategy, tokio as zc};

const MIB: usize = 1 << 20;

async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (b, _) = listener.accept().await.unwrap();
    (a, b)
}

/// Sends a file larger than the socket buffers with `strategy`, read slowly on the same task.
#[track_caller]
fn check(strategy: Strategy, ran: Strategy) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let data = payload(12 * MIB + 3, 9);
        std::fs::write(dir.path().join("src"), &data).unwrap();
        let file = File::open(dir.path().join("src")).unwrap();
        let (sender, mut receiver) = pair().await;
        let options = Options {
            strategy,
            ..Options::default()
        };
        let send = async {
            let report = zc::send_file(&file, &sender, &options).await.unwrap();
            drop(sender);
            report
        };
        let receive = async {
            let mut got = Vec::new();
            receiver.read_to_end(&mut got).await.unwrap();
            got
        };
        let (report, got) = tokio::time::timeout(Duration::from_secs(20), async {
            tokio::join!(send, receive)
        })
        .await
        .expect("bounded in time");
        assert!(got == data, "{strategy}: content differs");
        assert_eq!(
            (report.bytes, report.strategy),
            (data.len() as u64, ran),
            "{report}"
        );
    });
}

#[test]
fn send_file_waits_on_readiness_with_every_strategy() {
    check(Strategy::Auto, Strategy::Sendfile);
    check(Strategy::Splice, Strategy::Splice);
    check(Strategy::Mmap, Strategy::Mmap);
    check(Strategy::ReadWrite, Strategy::ReadWrite);
}

#[tokio::test]
async fn recv_file_waits_for_a_slow_sender() {
    let dir = tempfile::tempdir().unwrap();
    let file = File::create(dir.path().join("dst")).unwrap();
    let (mut sender, receiver) = pair().await;
    let data = payload(3 * MIB, 2);
    let send = async {
        for chunk in data.chunks(256 * 1024) {
            sender.write_all(chunk).await.unwrap();
            tokio::task::yield_now().await;
        }
        sender.shutdown().await.unwrap();
    };
    let options = Options::default();
    let (report, ()) = tokio::join!(zc::recv_file(&receiver, &file, &options), send);
    let report = report.unwrap();
    assert_eq!(
        (report.bytes, report.strategy),
        (data.len() as u64, Strategy::Splice)
    );
    assert!(std::fs::read(dir.path().join("dst")).unwrap() == data);
}

#[tokio::test]
async fn proxy_relays_both_ways_with_half_close() {
    let (mut client, front) = pair().await;
    let (back, mut server) = pair().await;
    let request = payload(2 * MIB + 1, 3);
    let reply = payload(MIB, 4);
    let client_side = async {
        client.write_all(&request).await.unwrap();
        client.shutdown().await.unwrap();
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.unwrap();
        got
    };
    let server_side = async {
        let mut got = Vec::new();
        server.read_to_end(&mut got).await.unwrap();
        server.write_all(&reply).await.unwrap();
        server.shutdown().await.unwrap();
        got
    };
    let options = Options::default();
    let relay = zc::proxy(&front, &back, &options);
    let (report, answer, received) = tokio::time::timeout(Duration::from_secs(20), async {
        tokio::join!(relay, client_side, server_side)
    })
    .await
    .expect("bounded in time");
    let report = report.unwrap();
    assert!(received == request && answer == reply);
    assert_eq!(
        (report.forward.bytes, report.backward.bytes),
        (request.len() as u64, reply.len() as u64)
    );
}
