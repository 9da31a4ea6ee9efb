//! Criterion benchmarks against the anchors, then a table of same-run ratios of medians.
//!
//! `cargo bench -p underhood-zerocopy --bench transfer` (set `ZC_BENCH_MIB` to change the size;
//! default 128). Every ratio compares medians measured in this one run.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use criterion::{BenchmarkGroup, Criterion, measurement::WallTime};
use underhood_zerocopy::{Options, Strategy, copy, proxy};

fn main() {
    let mib: usize = std::env::var("ZC_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(128);
    let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("zerocopy-criterion");
    let mut c = Criterion::default()
        .output_directory(&out_dir)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    write_file(&src, mib);
    file_to_file(&mut c, "file_to_file", &src, &dir.path().join("dst"));
    file_to_tcp(&mut c, &src);
    let shm = tempfile::tempdir_in("/dev/shm").ok().filter(|shm| {
        rustix::fs::statfs(shm.path()).unwrap().f_type
            != rustix::fs::statfs(dir.path()).unwrap().f_type
    });
    match &shm {
        Some(shm) => {
            let shm_src = shm.path().join("src");
            write_file(&shm_src, mib);
            file_to_file(&mut c, "cross_fs", &shm_src, &dir.path().join("dst2"));
        }
        None => println!("cross_fs skipped: no /dev/shm on another filesystem"),
    }
    proxies(&mut c, mib / 2);
    c.final_summary();
    ratios(&out_dir, mib, shm.is_some());
}

fn write_file(path: &Path, mib: usize) {
    let mut f = File::create(path).unwrap();
    let block: Vec<u8> = (0..1 << 20)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for _ in 0..mib {
        f.write_all(&block).unwrap();
    }
    f.sync_all().unwrap();
    // Warm the page cache: every contender reads a cached file.
    std::io::copy(&mut File::open(path).unwrap(), &mut std::io::sink()).unwrap();
}

fn zc(strategy: Strategy) -> Options {
    Options {
        strategy,
        ..Options::default()
    }
}

/// A plain loop over a heap buffer, as most programs write it.
fn rw_loop(src: &mut impl Read, dst: &mut impl Write, size: usize) {
    let mut buf = vec![0u8; size];
    loop {
        let n = src.read(&mut buf).unwrap();
        if n == 0 {
            return;
        }
        dst.write_all(&buf[..n]).unwrap();
    }
}

fn file_to_file(c: &mut Criterion, name: &str, src: &Path, dst: &Path) {
    let mut g = c.benchmark_group(name);
    let run = |g: &mut BenchmarkGroup<'_, WallTime>, id: &str, f: &dyn Fn()| {
        g.bench_function(id, |b| b.iter(f));
    };
    run(&mut g, "zerocopy-auto", &|| {
        let report = copy(
            File::open(src).unwrap(),
            File::create(dst).unwrap(),
            &zc(Strategy::Auto),
        )
        .unwrap();
        assert!(report.bytes > 0);
    });
    run(&mut g, "zerocopy-rw-aligned-128k", &|| {
        copy(
            File::open(src).unwrap(),
            File::create(dst).unwrap(),
            &zc(Strategy::ReadWrite),
        )
        .unwrap();
    });
    run(&mut g, "std-fs-copy", &|| {
        std::fs::copy(src, dst).unwrap();
    });
    run(&mut g, "cp", &|| {
        assert!(
            Command::new("cp")
                .arg(src)
                .arg(dst)
                .status()
                .unwrap()
                .success()
        );
    });
    run(&mut g, "rw-loop-heap-128k", &|| {
        rw_loop(
            &mut File::open(src).unwrap(),
            &mut File::create(dst).unwrap(),
            128 << 10,
        );
    });
    g.finish();
}

/// A loopback server that drains each connection and reports the bytes it got.
fn drain_server() -> (std::net::SocketAddr, mpsc::Receiver<u64>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 20];
        for conn in listener.incoming() {
            let mut conn = conn.unwrap();
            let mut total = 0u64;
            loop {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => total += n as u64,
                }
            }
            if tx.send(total).is_err() {
                return;
            }
        }
    });
    (addr, rx)
}

fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

fn file_to_tcp(c: &mut Criterion, src: &Path) {
    let (addr, done) = drain_server();
    let send = |how: &str| {
        let mut file = File::open(src).unwrap();
        let mut sock = TcpStream::connect(addr).unwrap();
        match how {
            "zerocopy-auto" => {
                copy(&file, &sock, &zc(Strategy::Auto)).unwrap();
            }
            "std-io-copy" => {
                std::io::copy(&mut file, &mut sock).unwrap();
            }
            _ => rw_loop(&mut file, &mut sock, 128 << 10),
        }
        sock.shutdown(Shutdown::Write).unwrap();
        drop(sock);
        assert!(done.recv().unwrap() > 0);
    };
    let mut g = c.benchmark_group("file_to_tcp");
    for how in ["zerocopy-auto", "std-io-copy", "rw-loop-heap-128k"] {
        g.bench_function(how, |b| b.iter(|| send(how)));
    }
    g.finish();
    // The sender's CPU time (user + system) instead of wall time.
    let mut g = c.benchmark_group("file_to_tcp_sender_cpu");
    for how in ["zerocopy-auto", "std-io-copy"] {
        g.bench_function(how, |b| {
            b.iter_custom(|iters| {
                let mut cpu = Duration::ZERO;
                for _ in 0..iters {
                    let before = thread_cpu();
                    send(how);
                    cpu += thread_cpu() - before;
                }
                cpu
            })
        });
    }
    g.finish();
}

fn proxies(c: &mut Criterion, mib: usize) {
    let (server_addr, done) = drain_server();
    let front = TcpListener::bind("127.0.0.1:0").unwrap();
    let front_addr = front.local_addr().unwrap();
    let block = vec![7u8; 1 << 20];
    let run = |strategy: Strategy| {
        let client = std::thread::spawn({
            let block = block.clone();
            move || {
                let mut sock = TcpStream::connect(front_addr).unwrap();
                for _ in 0..mib {
                    sock.write_all(&block).unwrap();
                }
                sock.shutdown(Shutdown::Write).unwrap();
                let mut rest = Vec::new();
                sock.read_to_end(&mut rest).unwrap();
            }
        });
        let (a, _) = front.accept().unwrap();
        let b = TcpStream::connect(server_addr).unwrap();
        proxy(&a, &b, &zc(strategy)).unwrap();
        drop((a, b));
        client.join().unwrap();
        assert_eq!(done.recv().unwrap(), (mib << 20) as u64);
    };
    let mut g = c.benchmark_group("proxy");
    g.bench_function("zerocopy-splice", |b| b.iter(|| run(Strategy::Auto)));
    g.bench_function("read-write-128k", |b| b.iter(|| run(Strategy::ReadWrite)));
    g.finish();
}

fn median(out_dir: &Path, group: &str, id: &str) -> Option<f64> {
    let path = out_dir
        .join(group)
        .join(id)
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["median"]["point_estimate"].as_f64()
}

fn ratios(out_dir: &Path, mib: usize, cross_fs: bool) {
    let m = |g: &str, id: &str| median(out_dir, g, id).unwrap_or(f64::NAN);
    let ms = |ns: f64| ns / 1e6;
    println!(
        "\nSame-run ratios of medians ({mib} MiB, warm cache; < 1 means zerocopy takes less):"
    );
    println!("| comparison | zerocopy | anchor | ratio | goal |");
    println!("|---|---|---|---|---|");
    let row = |what: &str, ours: f64, anchor: f64, goal: &str| {
        println!(
            "| {what} | {:.1} ms | {:.1} ms | {:.2}× | {goal} |",
            ms(ours),
            ms(anchor),
            ours / anchor
        );
    };
    let f2f = |id| m("file_to_file", id);
    row(
        "file→file auto / cp",
        f2f("zerocopy-auto"),
        f2f("cp"),
        "≤ 1.05",
    );
    row(
        "file→file auto / std::fs::copy",
        f2f("zerocopy-auto"),
        f2f("std-fs-copy"),
        "≤ 1.05",
    );
    row(
        "file→file auto / heap 128 KiB loop",
        f2f("zerocopy-auto"),
        f2f("rw-loop-heap-128k"),
        "≤ 0.70",
    );
    let tcp = |id| m("file_to_tcp", id);
    row(
        "file→TCP auto / std::io::copy",
        tcp("zerocopy-auto"),
        tcp("std-io-copy"),
        "≤ 0.286 (3.5× faster)",
    );
    row(
        "file→TCP auto / heap 128 KiB loop",
        tcp("zerocopy-auto"),
        tcp("rw-loop-heap-128k"),
        "≤ 0.50 (2× faster)",
    );
    let cpu = |id| m("file_to_tcp_sender_cpu", id);
    row(
        "file→TCP sender CPU auto / std::io::copy",
        cpu("zerocopy-auto"),
        cpu("std-io-copy"),
        "≤ 0.35",
    );
    if cross_fs {
        let x = |id| m("cross_fs", id);
        let best = x("cp")
            .min(x("std-fs-copy"))
            .min(x("zerocopy-rw-aligned-128k"));
        row(
            "cross-fs (EXDEV fallback) auto / best anchor",
            x("zerocopy-auto"),
            best,
            "≤ 1.10",
        );
    }
    let p = |id| m("proxy", id);
    row(
        "proxy splice / read-write proxy (time)",
        p("zerocopy-splice"),
        p("read-write-128k"),
        "≤ 0.67 (1.5× throughput)",
    );
}
