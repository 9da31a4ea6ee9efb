//! The `underhood sparse` command-line contract: arguments, JSON shapes and exit statuses.

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

mod common;
use common::{check_any as check, underhood};

#[track_caller]
fn json_of(args: &[&str]) -> Value {
    serde_json::from_str(&check(args, 0, "")).expect("JSON on stdout")
}

/// How unwritten (preallocated) extents of `file` show in `map`: as such with FIEMAP (ext4),
/// as holes where only SEEK_DATA/SEEK_HOLE works (tmpfs, with `TMPDIR=/dev/shm`).
fn unwritten_as(file: &str) -> &'static str {
    match json_of(&["sparse", "stat", file, "--json"])["source"].as_str() {
        Some("fiemap") => "unwritten",
        _ => "hole",
    }
}

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().unwrap().to_owned()
}

fn write_at(file: &str, offset: u64, bytes: &[u8]) {
    let f = OpenOptions::new().write(true).open(file).unwrap();
    f.write_all_at(bytes, offset).unwrap();
    f.sync_all().unwrap();
}

#[test]
fn create_stat_and_map_a_thin_file() {
    let dir = tempfile::tempdir().unwrap();
    let thin = path(dir.path(), "thin.img");
    check(&["sparse", "create", "--thin", "1G", &thin], 0, "");
    let stat = json_of(&["sparse", "stat", &thin, "--json"]);
    assert_eq!(stat["apparent_bytes"], 1u64 << 30);
    assert_eq!(stat["allocated_bytes"], 0);
    assert_eq!(stat["block_size"], 4096);
    assert_eq!(stat["data_extents"], 0);
    assert_eq!(stat["holes"], 1);
    let map = json_of(&["sparse", "map", &thin, "--json"]);
    assert_eq!(
        map,
        json!([{"offset": 0, "length": 1u64 << 30, "kind": "hole"}])
    );
    check(
        &["sparse", "stat", &thin],
        0,
        "apparent size: 1073741824 bytes (1.0 GiB)",
    );
    check(&["sparse", "map", &thin], 0, "hole");
    // Never overwrites.
    check(
        &["sparse", "create", "--thin", "1K", &thin],
        2,
        "already exists",
    );
}

#[test]
fn thick_files_are_allocated_lazily_or_eagerly() {
    let dir = tempfile::tempdir().unwrap();
    let lazy = path(dir.path(), "lazy.img");
    let eager = path(dir.path(), "eager.img");
    check(&["sparse", "create", "--thick-lazy", "1M", &lazy], 0, "");
    check(&["sparse", "create", "--thick-eager", "1M", &eager], 0, "");
    for file in [&lazy, &eager] {
        let stat = json_of(&["sparse", "stat", file, "--json"]);
        assert!(
            stat["allocated_bytes"].as_u64().unwrap() >= 1 << 20,
            "{stat}"
        );
    }
    assert_eq!(
        json_of(&["sparse", "map", &lazy, "--json"])[0]["kind"],
        unwritten_as(&lazy)
    );
    assert_eq!(
        json_of(&["sparse", "map", &eager, "--json"])[0]["kind"],
        "data"
    );
    // Convert in place: thin, then thick again.
    check(&["sparse", "convert", "--thin", &lazy], 0, "");
    assert_eq!(
        json_of(&["sparse", "stat", &lazy, "--json"])["allocated_bytes"],
        0
    );
    check(&["sparse", "convert", "--thick-lazy", &lazy], 0, "");
    assert_eq!(
        json_of(&["sparse", "map", &lazy, "--json"])[0]["kind"],
        unwritten_as(&lazy)
    );
}

#[test]
fn bad_arguments_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = path(dir.path(), "f.img");
    check(
        &["sparse", "create", "--thin", "10X", &file],
        2,
        "unknown size suffix",
    );
    check(&["sparse", "create", "--thin", "8E", &file], 2, "too large");
    check(
        &["sparse", "create", "--thin", "--thick-lazy", "1M", &file],
        2,
        "cannot be used with",
    );
    check(&["sparse", "create", "1M", &file], 2, "required");
    check(
        &["sparse", "stat", &path(dir.path(), "missing")],
        2,
        "No such file",
    );
    check(
        &["sparse", "map", dir.path().to_str().unwrap()],
        2,
        "not a regular file",
    );
    check(&["sparse", "create", "--thin", "8K", &file], 0, "");
    check(
        &["sparse", "punch", &file, "4K", "8K"],
        2,
        "reaches past the end",
    );
    check(&["sparse", "copy", &file, &file], 2, "same file");
    check(
        &[
            "sparse",
            "copy",
            &file,
            &path(dir.path(), "x"),
            "--sparse=sometimes",
        ],
        2,
        "invalid value",
    );
    check(
        &[
            "sparse",
            "copy",
            &file,
            &path(dir.path(), "x"),
            "--prealloc=fat",
        ],
        2,
        "invalid value",
    );
}

#[test]
fn punch_and_dig_make_holes_without_changing_content() {
    let dir = tempfile::tempdir().unwrap();
    let file = path(dir.path(), "f.img");
    check(&["sparse", "create", "--thick-eager", "64K", &file], 0, "");
    write_at(&file, 8192, b"keep me");
    check(&["sparse", "punch", &file, "0", "4K"], 0, "");
    let map = json_of(&["sparse", "map", &file, "--json"]);
    assert_eq!(map[0], json!({"offset": 0, "length": 4096, "kind": "hole"}));
    check(
        &["sparse", "dig", &file],
        0,
        "punched 57344 of 61440 scanned bytes",
    );
    let map = json_of(&["sparse", "map", &file, "--json"]);
    assert_eq!(
        map,
        json!([
            {"offset": 0, "length": 8192, "kind": "hole"},
            {"offset": 8192, "length": 4096, "kind": "data"},
            {"offset": 12288, "length": 53248, "kind": "hole"},
        ])
    );
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(&bytes[8192..8199], b"keep me");
    assert_eq!(bytes.len(), 65536);
    check(&["sparse", "zero", &file, "8K", "4K"], 0, "");
    assert!(std::fs::read(&file).unwrap().iter().all(|&b| b == 0));
}

#[test]
fn copy_keeps_holes_and_honours_the_sparse_policy() {
    let dir = tempfile::tempdir().unwrap();
    let src = path(dir.path(), "src.img");
    check(&["sparse", "create", "--thin", "16M", &src], 0, "");
    write_at(&src, 1 << 20, &vec![7u8; 8192]);
    write_at(&src, 4 << 20, &vec![0u8; 65536]); // written zeros: data, but all-zero blocks
    let content = std::fs::read(&src).unwrap();
    let allocated = |file: &str| {
        json_of(&["sparse", "stat", file, "--json"])["allocated_bytes"]
            .as_u64()
            .unwrap()
    };
    for (sparse, low, high) in [
        ("auto", 73728, 86016),
        ("always", 8192, 20480),
        ("never", 16 << 20, 17 << 20),
    ] {
        let dst = path(dir.path(), &format!("{sparse}.img"));
        check(
            &["sparse", "copy", &src, &dst, &format!("--sparse={sparse}")],
            0,
            "",
        );
        assert_eq!(std::fs::read(&dst).unwrap(), content, "{sparse}");
        let got = allocated(&dst);
        assert!((low..=high).contains(&got), "{sparse}: {got} allocated");
    }
    // No temporary file is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("underhood-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn copy_without_sync_gives_the_same_copy() {
    let dir = tempfile::tempdir().unwrap();
    let src = path(dir.path(), "src.img");
    check(&["sparse", "create", "--thin", "16M", &src], 0, "");
    write_at(&src, 3 << 20, &vec![9u8; 12288]);
    let content = std::fs::read(&src).unwrap();
    let dst = path(dir.path(), "dst.img");
    std::fs::write(&dst, b"old destination").unwrap();
    check(
        &["sparse", "copy", &src, &dst, "--sparse=always", "--no-sync"],
        0,
        "",
    );
    assert_eq!(std::fs::read(&dst).unwrap(), content);
    let stat = json_of(&["sparse", "stat", &dst, "--json"]);
    assert!(stat["allocated_bytes"].as_u64().unwrap() <= 24576, "{stat}");
    let leftovers = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("underhood-tmp"))
        .count();
    assert_eq!(leftovers, 0);
}

#[test]
fn copy_preserves_preallocation_unless_told_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let src = path(dir.path(), "src.img");
    check(&["sparse", "create", "--thick-lazy", "1M", &src], 0, "");
    let kind = |file: &str| json_of(&["sparse", "map", file, "--json"])[0]["kind"].clone();
    let unwritten = unwritten_as(&src);
    for (prealloc, expected) in [
        ("preserve", unwritten),
        ("thin", "hole"),
        ("thick", unwritten),
    ] {
        let dst = path(dir.path(), &format!("{prealloc}.img"));
        check(
            &[
                "sparse",
                "copy",
                &src,
                &dst,
                &format!("--prealloc={prealloc}"),
            ],
            0,
            "",
        );
        assert_eq!(kind(&dst), expected, "{prealloc}");
    }
}

/// Thin provisioning's classic failure: a 64 MiB image promised on a 1 MiB filesystem. Creating
/// it works (overcommit); making it thick, or copying real data onto the filesystem, hits
/// ENOSPC, which is reported with how far it got, and leaves nothing half-done behind.
/// Needs a private tmpfs, mounted in a new user and mount namespace with `unshare`.
#[test]
fn overcommit_then_enospc_on_a_tiny_filesystem() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = path(dir.path(), "mnt");
    std::fs::create_dir(&mnt).unwrap();
    let src = path(dir.path(), "src.img");
    check(&["sparse", "create", "--thin", "64M", &src], 0, "");
    write_at(&src, 0, &vec![1u8; 2 << 20]);
    let bin = env!("CARGO_BIN_EXE_underhood");
    let script = format!(
        r#"set -u
mount -t tmpfs -o size=1m none {mnt} || exit 77
{bin} sparse create --thin 64M {mnt}/thin.img || exit 10
{bin} sparse stat --json {mnt}/thin.img || exit 11
{bin} sparse convert --thick-lazy {mnt}/thin.img; echo "convert=$?"
{bin} sparse stat --json {mnt}/thin.img
{bin} sparse copy {src} {mnt}/copy.img; echo "copy=$?"
ls -a {mnt}
"#
    );
    let out = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c", &script])
        .output();
    let out = match out {
        Ok(out) if out.status.code() != Some(77) && out.status.code() != Some(1) => out,
        other => {
            eprintln!("skipped: cannot mount a private tmpfs with unshare ({other:?})");
            return;
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let mut lines = stdout.lines();
    let thin: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(thin["apparent_bytes"], 64 << 20);
    assert_eq!(thin["allocated_bytes"], 0);
    assert_eq!(lines.next(), Some("convert=2"), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("no space left on device: cannot allocate"),
        "{stderr}"
    );
    assert!(stderr.contains("of 67108864 bytes"), "{stderr}");
    let after: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(
        after["apparent_bytes"],
        64 << 20,
        "content and size untouched"
    );
    assert_eq!(lines.next(), Some("copy=2"), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("no space left on device: cannot write"),
        "{stderr}"
    );
    // The source is untouched and no partial copy (or temporary file) is left.
    assert!(
        !stdout.contains("copy.img") && !stdout.contains("underhood-tmp"),
        "{stdout}"
    );
    let bytes = std::fs::read(&src).unwrap();
    assert!(bytes[..2 << 20].iter().all(|&b| b == 1) && bytes[2 << 20..].iter().all(|&b| b == 0));
}

#[test]
fn stat_agrees_with_du() {
    let dir = tempfile::tempdir().unwrap();
    let file = path(dir.path(), "f.img");
    check(&["sparse", "create", "--thick-lazy", "3M", &file], 0, "");
    check(&["sparse", "punch", &file, "1M", "1M"], 0, "");
    write_at(&file, 5000, b"data");
    let stat = json_of(&["sparse", "stat", &file, "--json"]);
    let du = |extra: &[&str]| -> u64 {
        let out = Command::new("du")
            .arg("-B1")
            .args(extra)
            .arg(&file)
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        text.split_whitespace().next().unwrap().parse().unwrap()
    };
    assert_eq!(
        stat["apparent_bytes"].as_u64(),
        Some(du(&["--apparent-size"]))
    );
    assert_eq!(stat["allocated_bytes"].as_u64(), Some(du(&[])));
    assert_eq!(stat["allocated_bytes"], 2 << 20);
}

/// Progress goes to stderr only when it is a terminal: `script` gives the command one.
#[test]
fn copy_shows_progress_on_a_terminal_only() {
    let dir = tempfile::tempdir().unwrap();
    let src = path(dir.path(), "big.img");
    let dst = path(dir.path(), "copy.img");
    check(&["sparse", "create", "--thin", "1G", &src], 0, "");
    write_at(&src, 512 << 20, b"x");
    let quiet = underhood(&["sparse", "copy", &src, &dst]);
    // Only the note of a fallback map (tmpfs has no FIEMAP) may appear, never progress.
    let stderr = String::from_utf8_lossy(&quiet.stderr);
    assert!(
        quiet.status.success() && stderr.lines().all(|l| l.starts_with("underhood: note:")),
        "{quiet:?}"
    );
    let command = format!(
        "{} sparse copy {src} {dst}",
        env!("CARGO_BIN_EXE_underhood")
    );
    let Ok(out) = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .output()
    else {
        eprintln!("skipped: no `script` to provide a terminal");
        return;
    };
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{screen}");
    assert!(screen.contains("of 1.0 GiB ("), "{screen}");
}

#[test]
fn copy_into_a_missing_directory_names_the_destination() {
    let dir = tempfile::tempdir().unwrap();
    let src = path(dir.path(), "src.img");
    check(&["sparse", "create", "--thin", "1M", &src], 0, "");
    let dst = path(dir.path(), "missing/dst.img");
    check(
        &["sparse", "copy", &src, &dst],
        2,
        &format!("cannot open {dst}: No such file"),
    );
}

/// Every writing verb of `underhood sparse` with a source (or file) that is missing, a
/// directory, unreadable or the destination by another name: exit 2, nothing changed.
#[test]
fn writing_verbs_never_touch_a_file_before_their_input_is_good() {
    let dir = tempfile::tempdir().unwrap();
    let dst = path(dir.path(), "existing");
    std::fs::write(&dst, "keep me").unwrap();
    let missing = path(dir.path(), "missing");
    let subdir = path(dir.path(), "subdir");
    std::fs::create_dir(&subdir).unwrap();
    // Root reads any file whatever its mode, so "unreadable" is a socket, which no one can open.
    let socket = path(dir.path(), "socket");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let hard = path(dir.path(), "hard");
    std::fs::hard_link(&dst, &hard).unwrap();
    let soft = path(dir.path(), "soft");
    std::os::unix::fs::symlink(&dst, &soft).unwrap();
    let names = ["existing", "subdir", "socket", "hard", "soft"];
    let unchanged = || {
        assert_eq!(std::fs::read_to_string(&dst).unwrap(), "keep me");
        let mut found: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        found.sort();
        let mut expected: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        expected.sort();
        assert_eq!(found, expected);
    };
    for src in [&missing, &subdir, &socket] {
        check(&["sparse", "copy", src, &dst], 2, "");
        unchanged();
    }
    for other in [&hard, &soft, &dst] {
        check(&["sparse", "copy", other, &dst], 2, "");
        check(&["sparse", "copy", &dst, other], 2, "");
        unchanged();
    }
    for file in [&missing, &subdir, &socket] {
        check(&["sparse", "punch", file, "0", "4096"], 2, "");
        check(&["sparse", "zero", file, "0", "4096"], 2, "");
        check(&["sparse", "dig", file], 2, "");
        check(&["sparse", "convert", "--thin", file], 2, "");
        unchanged();
    }
    for file in [&dst, &subdir, &socket, &soft] {
        check(&["sparse", "create", "--thin", "4K", file], 2, "");
        unchanged();
    }
}
