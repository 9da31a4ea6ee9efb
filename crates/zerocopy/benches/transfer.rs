//! Criterion benchmarks against the anchors, then a table of same-run ratios of medians.
//!
//! `cargo bench -p underhood-zerocopy --bench transfer` (`ZC_BENCH_MIB` sets the size, default
//! 128; `ZC_BENCH_ROUNDS` the interleaved rounds behind the ratio table, default 9;
//! `ZC_BENCH_GROUPS` a comma-separated subset of `file_to_file,file_to_tcp,proxy,cross_fs`).
//! The ratio table runs every contender of a comparison once per round, in rotating order, so
//! drift on a busy machine hits them alike; it compares medians from this one run.
//! Before every file→file run (untimed) the destination is removed and its filesystem synced,
//! so that no contender pays for the writeback, truncation or discards another one left behind.
//! `cp` is skipped when it is not installed.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion};
use underhood_zerocopy::{Options, Strategy, copy, proxy};

type Run<'a> = (&'static str, Box<dyn Fn() + 'a>);
/// A group of contenders and what runs, untimed, before each of them.
type Group<'a> = (&'static str, Vec<Run<'a>>, &'a dyn Fn());

fn main() {
    let env = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (mib, rounds) = (env("ZC_BENCH_MIB", 128), env("ZC_BENCH_ROUNDS", 9));
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    write_file(&src, mib);
    let dst = dir.path().join("dst");
    let shm = tempfile::tempdir_in("/dev/shm").ok().filter(|shm| {
        rustix::fs::statfs(shm.path()).unwrap().f_type
            != rustix::fs::statfs(dir.path()).unwrap().f_type
    });
    let shm_src = shm.as_ref().map(|shm| shm.path().join("src"));
    if let Some(path) = &shm_src {
        write_file(path, mib);
    }
    let (drain_addr, drained) = drain_server();
    let front = TcpListener::bind("127.0.0.1:0").unwrap();

    let settle = || {
        let _ = std::fs::remove_file(&dst);
        rustix::fs::syncfs(File::open(dir.path()).unwrap()).unwrap();
    };
    let nothing = || {};
    let mut groups: Vec<Group<'_>> = vec![
        ("file_to_file", file_to_file(&src, &dst), &settle),
        (
            "file_to_tcp",
            file_to_tcp(&src, drain_addr, &drained),
            &nothing,
        ),
        (
            "proxy",
            proxies(&front, drain_addr, &drained, mib / 2),
            &nothing,
        ),
    ];
    match &shm_src {
        Some(path) => groups.push(("cross_fs", file_to_file(path, &dst), &settle)),
        None => println!("cross_fs skipped: no /dev/shm on another filesystem"),
    }
    // `ZC_BENCH_GROUPS=file_to_file,proxy` runs only those groups (more rounds in the same time).
    if let Ok(only) = std::env::var("ZC_BENCH_GROUPS") {
        groups.retain(|(name, _, _)| only.split(',').any(|g| g == *name));
    }
    for (name, runs, prepare) in &groups {
        let mut g = c.benchmark_group(*name);
        for (id, run) in runs {
            g.bench_function(*id, |b| {
                b.iter_batched(prepare, |()| run(), BatchSize::PerIteration)
            });
        }
        g.finish();
    }
    c.final_summary();

    println!("\nInterleaved medians over {rounds} rounds, {mib} MiB, warm page cache:");
    let mut medians = std::collections::BTreeMap::new();
    for (name, runs, prepare) in &groups {
        for (id, wall, cpu) in interleaved(runs, *prepare, rounds) {
            println!(
                "  {name}/{id}: {:.1} ms wall, {:.1} ms sender CPU",
                ms(wall),
                ms(cpu)
            );
            medians.insert((*name, id), (wall, cpu));
        }
    }
    let wall = |g: &str, id: &str| medians.get(&(g, id)).map_or(f64::NAN, |m| m.0);
    let cpu = |g: &str, id: &str| medians.get(&(g, id)).map_or(f64::NAN, |m| m.1);
    println!("\n| comparison (same run) | zerocopy | anchor | ratio | goal |");
    println!("|---|---|---|---|---|");
    let row = |what: &str, ours: f64, anchor: f64, goal: &str| {
        println!(
            "| {what} | {:.1} ms | {:.1} ms | {:.2}× | {goal} |",
            ms(ours),
            ms(anchor),
            ours / anchor
        );
    };
    let f = |id| wall("file_to_file", id);
    row(
        "file→file auto / cp",
        f("zerocopy-auto"),
        f("cp"),
        "≤ 1.05×",
    );
    row(
        "file→file auto / std::fs::copy",
        f("zerocopy-auto"),
        f("std-fs-copy"),
        "≤ 1.05×",
    );
    row(
        "file→file auto / heap 128 KiB loop",
        f("zerocopy-auto"),
        f("rw-loop-heap-128k"),
        "≤ 0.70×",
    );
    let t = |id| wall("file_to_tcp", id);
    row(
        "file→TCP auto / std::io::copy",
        t("zerocopy-auto"),
        t("std-io-copy"),
        "≤ 0.29× (3.5× faster)",
    );
    row(
        "file→TCP auto / heap 128 KiB loop",
        t("zerocopy-auto"),
        t("rw-loop-heap-128k"),
        "≤ 0.50× (2× faster)",
    );
    row(
        "file→TCP sender CPU auto / std::io::copy",
        cpu("file_to_tcp", "zerocopy-auto"),
        cpu("file_to_tcp", "std-io-copy"),
        "≤ 0.35×",
    );
    if shm_src.is_some() {
        let x = |id| wall("cross_fs", id);
        let best = x("cp")
            .min(x("std-fs-copy"))
            .min(x("zerocopy-rw-aligned-128k"));
        row(
            "cross-fs (EXDEV fallback) auto / best of cp, std::fs::copy, aligned loop",
            x("zerocopy-auto"),
            best,
            "≤ 1.10×",
        );
    }
    let p = |id| wall("proxy", id);
    row(
        "proxy splice / read-write proxy (time)",
        p("zerocopy-splice"),
        p("read-write-128k"),
        "≤ 0.67× (1.5× throughput)",
    );
}

fn ms(ns: f64) -> f64 {
    ns / 1e6
}

/// Runs each contender once per round (after an untimed `prepare`), rotating the order;
/// returns median wall and CPU ns.
fn interleaved(
    runs: &[Run<'_>],
    prepare: &dyn Fn(),
    rounds: usize,
) -> Vec<(&'static str, f64, f64)> {
    let mut samples = vec![(Vec::new(), Vec::new()); runs.len()];
    for round in 0..rounds {
        for k in 0..runs.len() {
            let idx = (round + k) % runs.len();
            prepare();
            let (cpu0, wall0) = (thread_cpu(), Instant::now());
            (runs[idx].1)();
            samples[idx].0.push(wall0.elapsed().as_nanos() as f64);
            samples[idx].1.push((thread_cpu() - cpu0).as_nanos() as f64);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    runs.iter()
        .zip(samples.iter_mut())
        .map(|((id, _), (wall, cpu))| (*id, median(wall), median(cpu)))
        .collect()
}

fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
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

fn file_to_file<'a>(src: &'a Path, dst: &'a Path) -> Vec<Run<'a>> {
    let open = move || (File::open(src).unwrap(), File::create(dst).unwrap());
    let cp = Command::new("cp")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !cp {
        println!("cp is not installed: its comparison is skipped");
    }
    let runs: Vec<Run<'a>> = vec![
        (
            "zerocopy-auto",
            Box::new(move || {
                let (s, d) = open();
                copy(&s, &d, &zc(Strategy::Auto)).unwrap();
            }),
        ),
        (
            "zerocopy-rw-aligned-128k",
            Box::new(move || {
                let (s, d) = open();
                copy(&s, &d, &zc(Strategy::ReadWrite)).unwrap();
            }),
        ),
        (
            "std-fs-copy",
            Box::new(move || {
                std::fs::copy(src, dst).unwrap();
            }),
        ),
        (
            "cp",
            Box::new(move || {
                assert!(
                    Command::new("cp")
                        .arg(src)
                        .arg(dst)
                        .status()
                        .unwrap()
                        .success()
                );
            }),
        ),
        (
            "rw-loop-heap-128k",
            Box::new(move || {
                let (mut s, mut d) = open();
                rw_loop(&mut s, &mut d, 128 << 10);
            }),
        ),
    ];
    runs.into_iter()
        .filter(|(id, _)| cp || *id != "cp")
        .collect()
}

/// A loopback server that drains each connection into /dev/null with splice (cheap and the
/// same for every sender) and reports the bytes it got.
fn drain_server() -> (std::net::SocketAddr, mpsc::Receiver<u64>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let null = File::options().write(true).open("/dev/null").unwrap();
        for conn in listener.incoming() {
            let report = copy(conn.unwrap(), &null, &Options::default()).unwrap();
            if tx.send(report.bytes).is_err() {
                return;
            }
        }
    });
    (addr, rx)
}

fn file_to_tcp<'a>(
    src: &'a Path,
    addr: std::net::SocketAddr,
    drained: &'a mpsc::Receiver<u64>,
) -> Vec<Run<'a>> {
    let send = move |how: &'static str| {
        let mut file = File::open(src).unwrap();
        let mut sock = TcpStream::connect(addr).unwrap();
        match how {
            "zerocopy-auto" => drop(copy(&file, &sock, &zc(Strategy::Auto)).unwrap()),
            "std-io-copy" => drop(std::io::copy(&mut file, &mut sock).unwrap()),
            _ => rw_loop(&mut file, &mut sock, 128 << 10),
        }
        sock.shutdown(Shutdown::Write).unwrap();
        drop(sock);
        assert!(drained.recv().unwrap() > 0);
    };
    ["zerocopy-auto", "std-io-copy", "rw-loop-heap-128k"]
        .into_iter()
        .map(|how| (how, Box::new(move || send(how)) as Box<dyn Fn()>))
        .collect()
}

fn proxies<'a>(
    front: &'a TcpListener,
    server: std::net::SocketAddr,
    drained: &'a mpsc::Receiver<u64>,
    mib: usize,
) -> Vec<Run<'a>> {
    let front_addr = front.local_addr().unwrap();
    let run = move |strategy: Strategy| {
        let client = std::thread::spawn(move || {
            let block = vec![7u8; 1 << 20];
            let mut sock = TcpStream::connect(front_addr).unwrap();
            for _ in 0..mib {
                sock.write_all(&block).unwrap();
            }
            sock.shutdown(Shutdown::Write).unwrap();
            let mut rest = Vec::new();
            sock.read_to_end(&mut rest).unwrap();
        });
        let (a, _) = front.accept().unwrap();
        let b = TcpStream::connect(server).unwrap();
        proxy(&a, &b, &zc(strategy)).unwrap();
        drop((a, b));
        client.join().unwrap();
        assert_eq!(drained.recv().unwrap(), (mib << 20) as u64);
    };
    vec![
        ("zerocopy-splice", Box::new(move || run(Strategy::Auto))),
        (
            "read-write-128k",
            Box::new(move || run(Strategy::ReadWrite)),
        ),
    ]
}
