//! Load on loopback: concurrent keep-alive clients doing KV reads, KV writes and transit
//! encrypts against a dev server, and the same clients against a bare axum handler returning a
//! constant JSON body, served the same way, in the same run.
//!
//! `cargo bench -p underhood-secret-server --bench load` (bounded: `LOAD_CLIENTS` clients,
//! default 16; `LOAD_ROUNDS` rounds, default 5; `LOAD_SECONDS` per round and workload, default 1).
//! Rounds alternate the contenders; the report gives the median round's throughput, p50 and p99
//! latency over all rounds, errors (any non-2xx or lost answer), and KV read over the anchor as a
//! ratio of medians.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::routing::get;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use underhood_secret_server::{Core, LogSink, RouterConfig, SystemClock, router, serve};

#[derive(Clone, Copy, PartialEq)]
enum Workload {
    Anchor,
    KvRead,
    KvWrite,
    TransitEncrypt,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::Anchor => "bare axum, constant JSON",
            Workload::KvRead => "KV read",
            Workload::KvWrite => "KV write",
            Workload::TransitEncrypt => "transit encrypt",
        }
    }

    fn request(self, client: usize, i: u64) -> Vec<u8> {
        let (method, path, body) = match self {
            Workload::Anchor | Workload::KvRead => {
                ("GET", "/v1/secret/data/bench".to_owned(), String::new())
            }
            Workload::KvWrite => (
                "POST",
                format!("/v1/secret/data/load/c{client}"),
                format!(
                    r#"{{"data": {{"i": {i}, "payload": "0123456789abcdef0123456789abcdef"}}}}"#
                ),
            ),
            Workload::TransitEncrypt => (
                "POST",
                "/v1/transit/encrypt/bench".to_owned(),
                r#"{"plaintext": "Y2FyZCA0MTExIDExMTEgMTExMSAxMTEx"}"#.to_owned(),
            ),
        };
        format!(
            "{method} {path} HTTP/1.1\r\nHost: bench\r\nX-Vault-Token: root\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }
}

struct Round {
    requests: u64,
    errors: u64,
    seconds: f64,
    latencies_us: Vec<u64>,
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let clients = env("LOAD_CLIENTS", 16) as usize;
    let rounds = env("LOAD_ROUNDS", 5);
    let seconds = env("LOAD_SECONDS", 1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let ours = start_ours().await;
        let anchor = start_anchor().await;
        let workloads = [
            Workload::Anchor,
            Workload::KvRead,
            Workload::KvWrite,
            Workload::TransitEncrypt,
        ];
        let mut results: Vec<Vec<Round>> = workloads.iter().map(|_| Vec::new()).collect();
        for _ in 0..rounds {
            for (idx, workload) in workloads.iter().enumerate() {
                let address = if *workload == Workload::Anchor {
                    &anchor
                } else {
                    &ours
                };
                results[idx]
                    .push(run(address, *workload, clients, Duration::from_secs(seconds)).await);
            }
        }
        println!("{clients} clients on loopback, {rounds} rounds of {seconds} s per workload");
        println!("| workload | requests/s (median round) | p50 | p99 | errors |");
        println!("|---|---|---|---|---|");
        let mut medians = Vec::new();
        for (workload, rounds) in workloads.iter().zip(&results) {
            let mut rates: Vec<f64> = rounds
                .iter()
                .map(|r| r.requests as f64 / r.seconds)
                .collect();
            rates.sort_by(f64::total_cmp);
            let median = rates[rates.len() / 2];
            medians.push(median);
            let mut latencies: Vec<u64> = rounds
                .iter()
                .flat_map(|r| r.latencies_us.iter().copied())
                .collect();
            latencies.sort_unstable();
            let pct = |p: f64| {
                latencies
                    .get(((latencies.len() as f64 - 1.0) * p) as usize)
                    .copied()
                    .unwrap_or(0)
            };
            let errors: u64 = rounds.iter().map(|r| r.errors).sum();
            println!(
                "| {} | {:.0} | {:.2} ms | {:.2} ms | {errors} |",
                workload.name(),
                median,
                pct(0.50) as f64 / 1000.0,
                pct(0.99) as f64 / 1000.0
            );
        }
        println!(
            "KV read / bare axum (ratio of medians): {:.2}x",
            medians[1] / medians[0]
        );
    });
}

async fn start_ours() -> String {
    let (core, _) = Core::dev(Some("root"), Arc::new(SystemClock)).unwrap();
    let config = RouterConfig {
        // The CLI logs to stderr; here the line is built but dropped, so the terminal is not
        // what is measured.
        log: Arc::new(|line: &str| {
            std::hint::black_box(line);
        }) as LogSink,
        ..RouterConfig::default()
    };
    let core = Arc::new(core);
    let app = router(core.clone(), config);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(serve(listener, app, None, std::future::pending()));
    // Seed the secret read by the KV workload and the transit mount and key.
    let setup = [
        (
            "POST",
            "/v1/secret/data/bench",
            r#"{"data": {"user": "app", "password": "correct horse battery staple"}}"#,
        ),
        ("POST", "/v1/sys/mounts/transit", r#"{"type": "transit"}"#),
        ("POST", "/v1/transit/keys/bench", "{}"),
    ];
    let mut stream = TcpStream::connect(&address).await.unwrap();
    for (method, path, body) in setup {
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: bench\r\nX-Vault-Token: root\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let status = exchange(&mut stream, request.as_bytes(), &mut Vec::new())
            .await
            .unwrap();
        assert!((200..300).contains(&status), "{path}: {status}");
    }
    address
}

async fn start_anchor() -> String {
    let body = json!({"request_id": "00000000-0000-0000-0000-000000000000", "data": {"data": {"user": "app", "password": "correct horse battery staple"}}});
    let app = axum::Router::new().route(
        "/v1/secret/data/bench",
        get(move || {
            let body = body.clone();
            async move { Json(body) }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(serve(listener, app, None, std::future::pending()));
    address
}

async fn run(address: &str, workload: Workload, clients: usize, duration: Duration) -> Round {
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let address = address.to_owned();
            tokio::spawn(async move {
                let mut stream = TcpStream::connect(&address).await.unwrap();
                stream.set_nodelay(true).unwrap();
                let mut buffer = Vec::with_capacity(4096);
                let (mut requests, mut errors, mut latencies) = (0u64, 0u64, Vec::new());
                let mut i = 0;
                while Instant::now() < deadline {
                    let request = workload.request(client, i);
                    i += 1;
                    let sent = Instant::now();
                    match exchange(&mut stream, &request, &mut buffer).await {
                        Some(status) if (200..300).contains(&status) => requests += 1,
                        Some(_) => errors += 1,
                        None => {
                            errors += 1;
                            stream = TcpStream::connect(&address).await.unwrap();
                        }
                    }
                    latencies.push(sent.elapsed().as_micros() as u64);
                }
                (requests, errors, latencies)
            })
        })
        .collect();
    let mut round = Round {
        requests: 0,
        errors: 0,
        seconds: 0.0,
        latencies_us: Vec::new(),
    };
    for task in tasks {
        let (requests, errors, latencies) = task.await.unwrap();
        round.requests += requests;
        round.errors += errors;
        round.latencies_us.extend(latencies);
    }
    round.seconds = started.elapsed().as_secs_f64();
    round
}

/// Sends one request on a keep-alive connection and reads one response; the status, or `None`
/// if the connection broke.
async fn exchange(stream: &mut TcpStream, request: &[u8], buffer: &mut Vec<u8>) -> Option<u16> {
    stream.write_all(request).await.ok()?;
    buffer.clear();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buffer[..end]).ok()?;
            let status: u16 = head.split(' ').nth(1)?.parse().ok()?;
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().to_owned())
                })
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            while buffer.len() < end + 4 + length {
                let n = stream.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buffer.extend_from_slice(&chunk[..n]);
            }
            return Some(status);
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
}
