//! The `underhood zerocopy` command-line contract: copy (with --json), send/recv and proxy on
//! loopback, and exit status 2 on bad input.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::check;

fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 253) as u8).collect()
}

/// Starts a long-running subcommand and reads the `listening on ADDR` line it prints first.
fn spawn_listening(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_underhood"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the underhood binary runs");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {line:?}"))
        .to_owned();
    (child, addr)
}

/// Waits at most 20 s for a child, then kills it and fails.
fn wait_bounded(mut child: Child) -> (i32, String) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut rest = String::new();
            child
                .stdout
                .take()
                .unwrap()
                .read_to_string(&mut rest)
                .unwrap();
            return (status.code().unwrap_or(-1), rest);
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the child did not finish in 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn copy_with_every_strategy_prints_an_honest_json_report() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.bin");
    let data = payload(1_000_003);
    std::fs::write(&src, &data).unwrap();
    for (strategy, ran) in [
        ("auto", "copy-file-range"),
        ("copy-file-range", "copy-file-range"),
        ("sendfile", "sendfile"),
        ("splice", "splice"),
        ("mmap", "mmap"),
        ("rw", "rw"),
    ] {
        let dst = dir.path().join(format!("dst-{strategy}"));
        let json = check(
            &[
                "zerocopy",
                "copy",
                src.to_str().unwrap(),
                dst.to_str().unwrap(),
                "--strategy",
                strategy,
                "--json",
            ],
            0,
            "\"bytes\"",
        );
        let report: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(report["bytes"], 1_000_003, "{json}");
        assert_eq!(report["strategy"], ran, "{json}");
        assert_eq!(report["fallbacks"], serde_json::json!([]), "{json}");
        assert!(report["syscalls"].as_u64().unwrap() >= 2, "{json}");
        assert!(
            std::fs::read(&dst).unwrap() == data,
            "{strategy}: content differs"
        );
    }
    let dst = dir.path().join("dst-text");
    check(
        &[
            "zerocopy",
            "copy",
            src.to_str().unwrap(),
            dst.to_str().unwrap(),
        ],
        0,
        "copied 1000003 bytes by copy-file-range",
    );
}

#[test]
fn copy_reports_fallbacks_from_procfs() {
    let dir = tempfile::tempdir().unwrap();
    let dst = dir.path().join("version");
    let json = check(
        &[
            "zerocopy",
            "copy",
            "/proc/version",
            dst.to_str().unwrap(),
            "--json",
        ],
        0,
        "{",
    );
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let expected = std::fs::read("/proc/version").unwrap();
    assert_eq!(std::fs::read(&dst).unwrap(), expected);
    assert_eq!(report["bytes"], expected.len());
    // Linux 5.19+ refuses copy_file_range across filesystems; older ones copy zero bytes.
    assert_eq!(report["fallbacks"][0]["from"], "copy-file-range", "{json}");
    let reason = &report["fallbacks"][0]["reason"];
    assert!(reason == "EXDEV" || reason == "zero-bytes", "{json}");
    // procfs files claim to be empty: mmap sees nothing to map and hands over to read/write.
    let json = check(
        &[
            "zerocopy",
            "copy",
            "/proc/version",
            dst.to_str().unwrap(),
            "--strategy",
            "mmap",
            "--json",
        ],
        0,
        "{",
    );
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(std::fs::read(&dst).unwrap(), expected);
    assert_eq!(report["strategy"], "rw", "{json}");
    assert_eq!(
        report["fallbacks"],
        serde_json::json!([{"from": "mmap", "to": "rw", "reason": "zero-bytes", "at": 0}]),
        "{json}"
    );
}

#[test]
fn bad_input_exits_2_and_never_truncates_the_source() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::write(&src, b"precious").unwrap();
    let s = src.to_str().unwrap();
    let out = check(&["zerocopy", "copy", s, s], 2, "");
    assert!(out.is_empty());
    let alias = dir.path().join("alias");
    std::fs::hard_link(&src, &alias).unwrap();
    check(&["zerocopy", "copy", s, alias.to_str().unwrap()], 2, "");
    assert_eq!(std::fs::read(&src).unwrap(), b"precious");
    let missing = dir.path().join("missing");
    check(
        &[
            "zerocopy",
            "copy",
            missing.to_str().unwrap(),
            dir.path().join("x").to_str().unwrap(),
        ],
        2,
        "",
    );
    check(
        &[
            "zerocopy",
            "copy",
            s,
            dir.path().join("y").to_str().unwrap(),
            "--strategy",
            "teleport",
        ],
        2,
        "",
    );
    check(&["zerocopy", "send", s, "--to", "not-an-address"], 2, "");
    check(
        &["zerocopy", "recv", "--listen", "127.0.0.1:99999", s],
        2,
        "",
    );
}

#[test]
fn send_and_recv_move_one_file_over_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let dst = dir.path().join("dst");
    let data = payload(3 << 20);
    std::fs::write(&src, &data).unwrap();
    for strategy in ["auto", "splice", "rw"] {
        let (recv, addr) = spawn_listening(&[
            "zerocopy",
            "recv",
            "--listen",
            "127.0.0.1:0",
            dst.to_str().unwrap(),
        ]);
        let sent = check(
            &[
                "zerocopy",
                "send",
                src.to_str().unwrap(),
                "--to",
                &addr,
                "--strategy",
                strategy,
            ],
            0,
            "sent 3145728 bytes by",
        );
        if strategy == "auto" {
            assert!(sent.contains("by sendfile"), "{sent}");
        }
        let (status, out) = wait_bounded(recv);
        assert_eq!(status, 0, "{out}");
        assert!(out.contains("received 3145728 bytes by splice"), "{out}");
        assert!(
            std::fs::read(&dst).unwrap() == data,
            "{strategy}: content differs"
        );
    }
}

#[test]
fn proxy_relays_both_ways_and_forwards_the_half_close() {
    // A server that reads until the client half-closes, then answers with the reversed bytes.
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let server_addr = server.local_addr().unwrap().to_string();
    let upstream = std::thread::spawn(move || {
        let (mut conn, _) = server.accept().unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut got = Vec::new();
        conn.read_to_end(&mut got).unwrap();
        got.reverse();
        conn.write_all(&got).unwrap();
    });
    let (mut proxy, addr) = spawn_listening(&[
        "zerocopy",
        "proxy",
        "--listen",
        "127.0.0.1:0",
        "--to",
        &server_addr,
    ]);
    let mut client = TcpStream::connect(&addr).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let data = payload(2 << 20);
    let writer = {
        let mut client = client.try_clone().unwrap();
        let data = data.clone();
        std::thread::spawn(move || {
            client.write_all(&data).unwrap();
            client.shutdown(std::net::Shutdown::Write).unwrap();
        })
    };
    let mut answer = Vec::new();
    client.read_to_end(&mut answer).unwrap();
    writer.join().unwrap();
    upstream.join().unwrap();
    proxy.kill().unwrap();
    proxy.wait().unwrap();
    let mut expected = data;
    expected.reverse();
    assert!(answer == expected, "{} bytes came back", answer.len());
}

/// Files in `dir` other than the given ones (a copy must leave no temporary file behind).
fn strays(dir: &std::path::Path, expected: &[&str]) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !expected.contains(&name.as_str()))
        .collect()
}

#[test]
fn a_failed_copy_leaves_the_destination_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let dst = dir.path().join("existing.txt");
    std::fs::write(&dst, "keep me").unwrap();
    let missing = dir.path().join("missing");
    let subdir = dir.path().join("subdir");
    std::fs::create_dir(&subdir).unwrap();
    // Tests run as root, so no permission bits make a file unreadable; a socket cannot be
    // opened at all, and /proc/self/mem opens but fails on the first read (EIO).
    let socket = dir.path().join("socket");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let cases: [(&std::path::Path, &str); 4] = [
        (&missing, "No such file"),
        (&subdir, "is a directory"),
        (&socket, "cannot open"),
        (std::path::Path::new("/proc/self/mem"), "copying"),
    ];
    for (src, message) in cases {
        let out = common::underhood(&[
            "zerocopy",
            "copy",
            src.to_str().unwrap(),
            dst.to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{src:?}: {stderr}");
        assert!(stderr.contains(message), "{src:?}: {stderr}");
        assert_eq!(std::fs::read_to_string(&dst).unwrap(), "keep me", "{src:?}");
        assert_eq!(
            strays(dir.path(), &["existing.txt", "subdir", "socket"]),
            Vec::<String>::new()
        );
    }
    // The same file under other names: a hard link, a symbolic link, a path with `..`.
    let hard = dir.path().join("hard");
    std::fs::hard_link(&dst, &hard).unwrap();
    let soft = dir.path().join("soft");
    std::os::unix::fs::symlink(&dst, &soft).unwrap();
    let dotted = subdir.join("../existing.txt");
    for other in [&hard, &soft, &dotted] {
        for (a, b) in [(&dst, other), (other, &dst)] {
            let out =
                common::underhood(&["zerocopy", "copy", a.to_str().unwrap(), b.to_str().unwrap()]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{a:?} {b:?}: {stderr}");
            assert!(stderr.contains("same file"), "{stderr}");
            assert_eq!(std::fs::read_to_string(&dst).unwrap(), "keep me");
        }
    }
    // A directory as the destination is refused and left alone.
    let src = dir.path().join("src");
    std::fs::write(&src, "new").unwrap();
    check_any_status(
        &[
            "zerocopy",
            "copy",
            src.to_str().unwrap(),
            subdir.to_str().unwrap(),
        ],
        2,
    );
    assert!(subdir.is_dir());
    // A good copy replaces the file whole, keeps its permission bits, and writes through a link.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(0o640)).unwrap();
    check_any_status(
        &[
            "zerocopy",
            "copy",
            src.to_str().unwrap(),
            soft.to_str().unwrap(),
        ],
        0,
    );
    assert_eq!(std::fs::read_to_string(&dst).unwrap(), "new");
    assert!(
        std::fs::symlink_metadata(&soft)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        std::fs::metadata(&dst).unwrap().permissions().mode() & 0o777,
        0o640
    );
    // A character device is written in place, never replaced.
    check_any_status(&["zerocopy", "copy", src.to_str().unwrap(), "/dev/null"], 0);
    use std::os::unix::fs::FileTypeExt;
    assert!(
        std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );
}

#[track_caller]
fn check_any_status(args: &[&str], status: i32) {
    let out = common::underhood(args);
    assert_eq!(
        out.status.code(),
        Some(status),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn recv_replaces_its_file_only_after_the_transfer() {
    let dir = tempfile::tempdir().unwrap();
    let dst = dir.path().join("incoming");
    std::fs::write(&dst, "old content").unwrap();
    let (child, addr) = spawn_listening(&[
        "zerocopy",
        "recv",
        "--listen",
        "127.0.0.1:0",
        dst.to_str().unwrap(),
    ]);
    // Listening, nothing received yet: the old file is intact.
    assert_eq!(std::fs::read_to_string(&dst).unwrap(), "old content");
    let mut socket = TcpStream::connect(&addr).unwrap();
    socket.write_all(b"new content").unwrap();
    drop(socket);
    let (status, _) = wait_bounded(child);
    assert_eq!(status, 0);
    assert_eq!(std::fs::read_to_string(&dst).unwrap(), "new content");
    assert_eq!(strays(dir.path(), &["incoming"]), Vec::<String>::new());
    // A directory as the file: refused after the connection, and left alone.
    let (child, addr) = spawn_listening(&[
        "zerocopy",
        "recv",
        "--listen",
        "127.0.0.1:0",
        dir.path().to_str().unwrap(),
    ]);
    let mut socket = TcpStream::connect(&addr).unwrap();
    let _ = socket.write_all(b"x");
    drop(socket);
    let (status, _) = wait_bounded(child);
    assert_eq!(status, 2);
    assert!(dir.path().is_dir());
}
