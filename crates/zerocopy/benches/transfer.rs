//! Criterion benchmarks against the anchors, then a table of same-run ratios of medians.
//!
//! `cargo bench -p underhood-zerocopy --bench transfer` (`ZC_BENCH_MIB` sets the size, default
//! 128; `ZC_BENCH_ROUNDS` the interleaved rounds behind the ratio table, default 9;
//! `ZC_BENCH_GROUPS` a comma-separated subset of `file_to_file,file_to_tcp,proxy,cross_fs`;
//! `-- nomatch_` skips criterion and prints only the table).
//! The ratio table runs every contender of a comparison once per round, in a shuffled order, so
//! drift on a busy machine hits them alike; it compares medians from this one run.
//! Before every file→file run (untimed) the destination is removed and its filesystem synced,
//! so that no contender pays for the writeback, truncation or discards another one left behind.
//! `cp` is skipped when it is not installed.
//!
//! The far ends of the socket benchmarks run in other processes (this binary, re-executed with
//! `ZC_BENCH_PEER` set), so that their CPU is not counted as the sender's and they compete with
//! the sender only as another program would:
//! - the sink accepts on loopback and drains each connection into `/dev/null` with `splice`
//!   through a 1 MiB pipe (no copy to user space), the same for every sender;
//! - the proxy's client sends the source file with `sendfile`, the same for every proxy.
//!
//! `ZC_BENCH_TCP_CC=cubic` sends with that congestion control on every data-sending socket, the
//! same for every contender; the default is the system's (`net.ipv4.tcp_congestion_control`).
//! With `bbr` and no `fq` qdisc, TCP paces every packet with its own timer, which dominates
//! loopback transfers and hides what the sender saves.
//!
//! A file→TCP run's wall time lasts from `connect` until the sink has counted the last byte; its
//! CPU is the sending thread's around the send only (`CLOCK_THREAD_CPUTIME_ID`, user + system,
//! as `RUSAGE_THREAD`). A proxy run's CPU is this whole process's (both relaying threads).

use std::cell::RefCell;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion};
use rustix::time::ClockId;
use underhood_zerocopy::{Options, Strategy, copy, proxy};

/// The CPU a run used besides its wall time.
#[derive(Clone, Copy, Debug, Default)]
struct Cpu {
    /// The code under test: the sending thread, or the whole proxy process.
    ours: Duration,
    /// The out-of-process far ends: the sink from `accept` to the end of the stream, and the
    /// proxy's client from `connect` to the close.
    far: Duration,
}

type Run<'a> = (&'static str, Box<dyn Fn() -> Cpu + 'a>);
/// A group of contenders and what runs, untimed, before each of them.
type Group<'a> = (&'static str, Vec<Run<'a>>, &'a dyn Fn());

/// Set (to `sink` or `client`) when this binary runs as the far end of the socket benchmarks.
const PEER_ROLE: &str = "ZC_BENCH_PEER";

fn main() {
    if let Ok(role) = std::env::var(PEER_ROLE) {
        peer::run(&role);
        return;
    }
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
    let sink = RefCell::new(Peer::spawn("sink"));
    let sink_addr: SocketAddr = sink.borrow_mut().line().parse().unwrap();
    let client = RefCell::new(Peer::spawn("client"));
    let front = TcpListener::bind("127.0.0.1:0").unwrap();
    let len = (mib as u64) << 20;

    let settle = || {
        let _ = std::fs::remove_file(&dst);
        rustix::fs::syncfs(File::open(dir.path()).unwrap()).unwrap();
    };
    let nothing = || {};
    let mut groups: Vec<Group<'_>> = vec![
        ("file_to_file", file_to_file(&src, &dst), &settle),
        (
            "file_to_tcp",
            file_to_tcp(&src, len, sink_addr, &sink),
            &nothing,
        ),
        (
            "proxy",
            proxies(&src, len, &front, (sink_addr, &sink), &client),
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

    println!(
        "\nInterleaved medians over {rounds} rounds, {mib} MiB, warm page cache, \
         TCP congestion control {}:",
        congestion_control()
    );
    let mut medians = std::collections::BTreeMap::new();
    for (name, runs, prepare) in &groups {
        for (id, median) in interleaved(runs, *prepare, rounds) {
            println!(
                "  {name}/{id}: {:.1} ms wall, {:.1} ms CPU, {:.1} ms far-end CPU",
                ms(median.wall),
                ms(median.cpu),
                ms(median.far_cpu),
            );
            medians.insert((*name, id), median);
        }
    }
    let get = |g: &str, id: &str| medians.get(&(g, id)).copied().unwrap_or_default();
    println!("\n| comparison (same run) | zerocopy | anchor | ratio | goal | met |");
    println!("|---|---|---|---|---|---|");
    let row = |what: &str, ours: f64, anchor: f64, (goal, limit): (&str, f64)| {
        let ratio = ours / anchor;
        let met = if ratio <= limit { "yes" } else { "no" };
        println!(
            "| {what} | {:.1} ms | {:.1} ms | {ratio:.2}× | {goal} | {met} |",
            ms(ours),
            ms(anchor),
        );
    };
    if groups.iter().any(|g| g.0 == "file_to_file") {
        let f = |id| get("file_to_file", id).wall;
        let same = ("≤ 1.05×", 1.05);
        row("file→file auto / cp", f("zerocopy-auto"), f("cp"), same);
        let std_copy = f("std-fs-copy");
        row(
            "file→file auto / std::fs::copy",
            f("zerocopy-auto"),
            std_copy,
            same,
        );
        let (ours, heap) = (f("zerocopy-auto"), f("rw-loop-heap-128k"));
        row(
            "file→file auto / heap 128 KiB loop",
            ours,
            heap,
            ("≤ 0.70×", 0.70),
        );
    }
    if groups.iter().any(|g| g.0 == "file_to_tcp") {
        let t = |id| get("file_to_tcp", id);
        let (ours, std_copy) = (t("zerocopy-auto"), t("std-io-copy"));
        let faster = ("≤ 0.29× (3.5× faster)", 1.0 / 3.5);
        row(
            "file→TCP auto / std::io::copy",
            ours.wall,
            std_copy.wall,
            faster,
        );
        let heap = t("rw-loop-heap-128k").wall;
        let twice = ("≤ 0.50× (2× faster)", 0.5);
        row("file→TCP auto / heap 128 KiB loop", ours.wall, heap, twice);
        let cpu = ("≤ 0.35×", 0.35);
        row(
            "file→TCP sender CPU auto / std::io::copy",
            ours.cpu,
            std_copy.cpu,
            cpu,
        );
    }
    if shm_src.is_some() && groups.iter().any(|g| g.0 == "cross_fs") {
        let x = |id| get("cross_fs", id).wall;
        let best = x("cp")
            .min(x("std-fs-copy"))
            .min(x("zerocopy-rw-aligned-128k"));
        row(
            "cross-fs (EXDEV fallback) auto / best of cp, std::fs::copy, aligned loop",
            x("zerocopy-auto"),
            best,
            ("≤ 1.10×", 1.10),
        );
    }
    if groups.iter().any(|g| g.0 == "proxy") {
        let p = |id| get("proxy", id).wall;
        row(
            "proxy splice / read-write proxy (time)",
            p("zerocopy-splice"),
            p("read-write-128k"),
            ("≤ 0.67× (1.5× throughput)", 1.0 / 1.5),
        );
    }
}

fn ms(ns: f64) -> f64 {
    ns / 1e6
}

/// Medians of one contender's runs, in ns.
#[derive(Clone, Copy, Debug)]
struct Median {
    wall: f64,
    cpu: f64,
    far_cpu: f64,
}

impl Default for Median {
    fn default() -> Median {
        Median {
            wall: f64::NAN,
            cpu: f64::NAN,
            far_cpu: f64::NAN,
        }
    }
}

/// Runs each contender once per round (after an untimed `prepare`), in a fresh shuffled order
/// each round, so that no contender always follows the same one (whose writeback or freed pages
/// it would inherit); returns the medians of each.
fn interleaved(runs: &[Run<'_>], prepare: &dyn Fn(), rounds: usize) -> Vec<(&'static str, Median)> {
    let mut samples = vec![[Vec::new(), Vec::new(), Vec::new()]; runs.len()];
    let mut order: Vec<usize> = (0..runs.len()).collect();
    let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
    for _round in 0..rounds {
        // Fisher–Yates with a fixed-seed xorshift: the same orders in every run of the bench.
        for k in (1..order.len()).rev() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            order.swap(k, (seed % (k as u64 + 1)) as usize);
        }
        for &idx in &order {
            prepare();
            let wall0 = Instant::now();
            let cpu = (runs[idx].1)();
            let wall = wall0.elapsed();
            for (v, d) in samples[idx].iter_mut().zip([wall, cpu.ours, cpu.far]) {
                v.push(d.as_nanos() as f64);
            }
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    runs.iter()
        .zip(samples.iter_mut())
        .map(|((id, _), [wall, cpu, far_cpu])| {
            let median = Median {
                wall: median(wall),
                cpu: median(cpu),
                far_cpu: median(far_cpu),
            };
            (*id, median)
        })
        .collect()
}

fn cpu_time(clock: ClockId) -> Duration {
    let t = rustix::time::clock_gettime(clock);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// Runs `f` and returns the calling thread's CPU time (user + system) it took.
fn thread_cpu(f: impl FnOnce()) -> Cpu {
    let cpu0 = cpu_time(ClockId::ThreadCPUTime);
    f();
    Cpu {
        ours: cpu_time(ClockId::ThreadCPUTime) - cpu0,
        far: Duration::ZERO,
    }
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
                thread_cpu(|| {
                    let (s, d) = open();
                    copy(&s, &d, &zc(Strategy::Auto)).unwrap();
                })
            }),
        ),
        (
            "zerocopy-rw-aligned-128k",
            Box::new(move || {
                thread_cpu(|| {
                    let (s, d) = open();
                    copy(&s, &d, &zc(Strategy::ReadWrite)).unwrap();
                })
            }),
        ),
        (
            "std-fs-copy",
            Box::new(move || {
                thread_cpu(|| {
                    std::fs::copy(src, dst).unwrap();
                })
            }),
        ),
        (
            "cp",
            Box::new(move || {
                thread_cpu(|| {
                    assert!(
                        Command::new("cp")
                            .arg(src)
                            .arg(dst)
                            .status()
                            .unwrap()
                            .success()
                    );
                })
            }),
        ),
        (
            "rw-loop-heap-128k",
            Box::new(move || {
                thread_cpu(|| {
                    let (mut s, mut d) = open();
                    rw_loop(&mut s, &mut d, 128 << 10);
                })
            }),
        ),
    ];
    runs.into_iter()
        .filter(|(id, _)| cp || *id != "cp")
        .collect()
}

/// Sends the file to the sink over a fresh loopback connection in each contender's own way.
fn file_to_tcp<'a>(
    src: &'a Path,
    len: u64,
    sink_addr: SocketAddr,
    sink: &'a RefCell<Peer>,
) -> Vec<Run<'a>> {
    let send = move |how: &'static str| {
        let mut file = File::open(src).unwrap();
        let mut sock = connect(sink_addr);
        let mut cpu = thread_cpu(|| {
            match how {
                "zerocopy-auto" => drop(copy(&file, &sock, &zc(Strategy::Auto)).unwrap()),
                "std-io-copy" => drop(std::io::copy(&mut file, &mut sock).unwrap()),
                _ => rw_loop(&mut file, &mut sock, 128 << 10),
            }
            sock.shutdown(Shutdown::Write).unwrap();
        });
        drop(sock);
        let (drained, sink_cpu) = sink.borrow_mut().drained();
        assert_eq!(drained, len, "{how}");
        cpu.far = sink_cpu;
        cpu
    };
    ["zerocopy-auto", "std-io-copy", "rw-loop-heap-128k"]
        .into_iter()
        .map(|how| (how, Box::new(move || send(how)) as Box<dyn Fn() -> Cpu>))
        .collect()
}

/// Relays the client peer's upload of the file to the sink through `proxy` on `front`.
fn proxies<'a>(
    src: &'a Path,
    len: u64,
    front: &'a TcpListener,
    (sink_addr, sink): (SocketAddr, &'a RefCell<Peer>),
    client: &'a RefCell<Peer>,
) -> Vec<Run<'a>> {
    let front_addr = front.local_addr().unwrap();
    let run = move |strategy: Strategy| {
        client
            .borrow_mut()
            .ask(&format!("{front_addr} {}", src.display()));
        let (a, _) = front.accept().unwrap();
        let b = connect(sink_addr);
        let cpu0 = cpu_time(ClockId::ProcessCPUTime);
        let report = proxy(&a, &b, &zc(strategy)).unwrap();
        let ours = cpu_time(ClockId::ProcessCPUTime) - cpu0;
        drop((a, b));
        assert_eq!(report.forward.bytes, len);
        let (sent, client_cpu) = client.borrow_mut().drained();
        let (drained, sink_cpu) = sink.borrow_mut().drained();
        assert_eq!((sent, drained), (len, len));
        Cpu {
            ours,
            far: client_cpu + sink_cpu,
        }
    };
    vec![
        ("zerocopy-splice", Box::new(move || run(Strategy::Auto))),
        (
            "read-write-128k",
            Box::new(move || run(Strategy::ReadWrite)),
        ),
    ]
}

/// Set to a congestion control algorithm (such as `cubic`) to use it on every socket that sends
/// data in the socket benchmarks instead of the system's default.
const TCP_CC: &str = "ZC_BENCH_TCP_CC";

/// A loopback connection for sending, the same for every contender (and the proxy's client).
fn connect(addr: SocketAddr) -> TcpStream {
    let sock = TcpStream::connect(addr).unwrap();
    if let Ok(algorithm) = std::env::var(TCP_CC) {
        rustix::net::sockopt::set_tcp_congestion(&sock, &algorithm).unwrap();
    }
    sock
}

/// The congestion control the socket benchmarks send with.
fn congestion_control() -> String {
    std::env::var(TCP_CC).unwrap_or_else(|_| {
        let default = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_congestion_control");
        format!("{} (system default)", default.unwrap_or_default().trim())
    })
}

/// This binary re-executed as a peer process, talking in lines over its stdin and stdout.
struct Peer {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Peer {
    fn spawn(role: &str) -> Peer {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env(PEER_ROLE, role)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Peer {
            child,
            stdin,
            stdout,
        }
    }

    fn ask(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        assert!(line.ends_with('\n'), "the peer exited");
        line.trim_end().to_owned()
    }

    /// A peer's report on the connection it handled last: bytes and its CPU time.
    fn drained(&mut self) -> (u64, Duration) {
        let line = self.line();
        let (bytes, ns) = line.split_once(' ').unwrap();
        let ns = ns.parse().unwrap();
        (bytes.parse().unwrap(), Duration::from_nanos(ns))
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The peer processes. Each exits when its stdin closes, so none outlives the benchmark.
mod peer {
    use std::fs::File;
    use std::io::{BufRead, Read, Write};
    use std::net::{Shutdown, TcpListener};
    use std::os::fd::AsFd;

    use rustix::pipe::{PipeFlags, SpliceFlags};
    use rustix::time::ClockId;

    pub(super) fn run(role: &str) {
        match role {
            "sink" => {
                std::thread::spawn(|| {
                    let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
                    std::process::exit(0);
                });
                sink();
            }
            "client" => client(),
            _ => panic!("unknown {} {role:?}", super::PEER_ROLE),
        }
    }

    /// Prints its address, then drains each connection in turn and prints the bytes and the
    /// CPU time it took, in ns.
    fn sink() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", listener.local_addr().unwrap()).unwrap();
        out.flush().unwrap();
        let null = File::options().write(true).open("/dev/null").unwrap();
        let (pipe_out, pipe_in) = rustix::pipe::pipe_with(PipeFlags::CLOEXEC).unwrap();
        let capacity = rustix::pipe::fcntl_setpipe_size(&pipe_in, 1 << 20).unwrap();
        for conn in listener.incoming() {
            let conn = conn.unwrap();
            let cpu0 = super::cpu_time(ClockId::ProcessCPUTime);
            let mut bytes = 0u64;
            loop {
                let flags = SpliceFlags::MOVE;
                let n = rustix::pipe::splice(&conn, None, &pipe_in, None, capacity, flags).unwrap();
                if n == 0 {
                    break;
                }
                let mut left = n;
                while left > 0 {
                    left -=
                        rustix::pipe::splice(&pipe_out, None, &null, None, left, flags).unwrap();
                }
                bytes += n as u64;
            }
            drop(conn);
            let cpu = super::cpu_time(ClockId::ProcessCPUTime) - cpu0;
            writeln!(out, "{bytes} {}", cpu.as_nanos()).unwrap();
            out.flush().unwrap();
        }
    }

    /// For each line `ADDR PATH`, sends the file to ADDR with sendfile, half-closes, waits for
    /// the other side to close, and prints the bytes sent and the CPU time it took, in ns.
    fn client() {
        for line in std::io::stdin().lock().lines() {
            let line = line.unwrap();
            let (addr, path) = line.split_once(' ').unwrap();
            let file = File::open(path).unwrap();
            let cpu0 = super::cpu_time(ClockId::ProcessCPUTime);
            let mut sock = super::connect(addr.parse().unwrap());
            let mut sent = 0u64;
            loop {
                let n = rustix::fs::sendfile(sock.as_fd(), &file, None, 1 << 30).unwrap();
                if n == 0 {
                    break;
                }
                sent += n as u64;
            }
            sock.shutdown(Shutdown::Write).unwrap();
            sock.read_to_end(&mut Vec::new()).unwrap();
            let cpu = super::cpu_time(ClockId::ProcessCPUTime) - cpu0;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{sent} {}", cpu.as_nanos()).unwrap();
            out.flush().unwrap();
        }
    }
}
