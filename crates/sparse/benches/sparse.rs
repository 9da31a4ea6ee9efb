//! Copy, dig-holes and extent-map speed against the tools operators use, in the same run:
//! `cp --sparse=auto|always`, `qemu-img convert -O raw`, `fallocate --dig-holes` (as
//! processes), and `std::io::copy`. `benches/ratios.py` prints the ratios of medians.
//!
//! Sizes follow the reference layout: a 20 GiB apparent image with 204 scattered 1 MiB
//! data extents (`SPARSE_BENCH_GIB` changes the size), and a 256 MiB file that is 90 % zeros
//! for dig-holes. Files live in the temp dir (ext4 here) and in /dev/shm for the tmpfs map.

use std::fs::{File, OpenOptions};
use std::hint::black_box;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use underhood_sparse::{CopyOptions, ExtentKind, MapMethod, SparsePolicy};

const MIB: u64 = 1 << 20;

/// A file of `size` bytes with `extents` 1 MiB data extents spread evenly (pseudo-random
/// bytes), synced so that no run pays for writeback.
fn scattered(path: &Path, size: u64, extents: u64) {
    let _ = std::fs::remove_file(path);
    let file = File::create(path).unwrap();
    file.set_len(size).unwrap();
    let stride = (size / extents.max(1)) / MIB * MIB;
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut block = vec![0u8; MIB as usize];
    for i in 0..extents {
        for chunk in block.chunks_exact_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.copy_from_slice(&state.to_ne_bytes());
        }
        file.write_all_at(&block, i * stride + (i * 7 % 13) * 4096)
            .unwrap();
    }
    file.sync_all().unwrap();
}

/// A fully written file, 90 % zeros: each MiB starts with 104 KiB of data (one hole per MiB,
/// so that the run measures reading, not the disk's discard of each punched range).
fn mostly_zeros(path: &Path, size: u64) {
    let file = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .open(path)
        .unwrap();
    let mut chunk = vec![0u8; MIB as usize];
    chunk[..26 * 4096].fill(1);
    for at in (0..size).step_by(MIB as usize) {
        file.write_all_at(&chunk, at).unwrap();
    }
    file.set_len(size).unwrap();
    file.sync_all().unwrap();
}

fn run(command: &mut Command) {
    let status = command.status().unwrap();
    assert!(status.success(), "{command:?}: {status}");
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Same data runs, same allocation, same bytes in every data run.
fn check_same(src: &Path, dst: &Path, what: &str) {
    let a = underhood_sparse::map(src, MapMethod::Auto).unwrap();
    let b = underhood_sparse::map(dst, MapMethod::Auto).unwrap();
    let data =
        |m: &underhood_sparse::ExtentMap| m.runs(ExtentKind::Data).copied().collect::<Vec<_>>();
    let (sa, sb) = (
        underhood_sparse::stat(src).unwrap(),
        underhood_sparse::stat(dst).unwrap(),
    );
    eprintln!(
        "{what}: data runs {} -> {}, allocated {} -> {} bytes",
        data(&a).len(),
        data(&b).len(),
        sa.allocated_bytes,
        sb.allocated_bytes
    );
    assert_eq!(a.size(), b.size(), "{what}");
    assert_eq!(data(&a), data(&b), "{what}: data runs differ");
    let (fa, fb) = (File::open(src).unwrap(), File::open(dst).unwrap());
    for run in data(&a) {
        let mut x = vec![0; run.length as usize];
        let mut y = vec![0; run.length as usize];
        fa.read_exact_at(&mut x, run.offset).unwrap();
        fb.read_exact_at(&mut y, run.offset).unwrap();
        assert!(x == y, "{what}: bytes differ in {run:?}");
    }
}

struct Setup {
    _dir: tempfile::TempDir,
    src: PathBuf,
    dst: PathBuf,
}

fn setup() -> Setup {
    let gib: u64 = std::env::var("SPARSE_BENCH_GIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("image.raw");
    scattered(&src, gib << 30, 204);
    let dst = dir.path().join("copy.raw");
    Setup {
        src,
        dst,
        _dir: dir,
    }
}

fn copy(c: &mut Criterion) {
    let Setup { src, dst, _dir } = setup();
    // Correctness first: every contender gives the same data runs and bytes.
    underhood_sparse::copy(&src, &dst, &CopyOptions::default(), |_| {}).unwrap();
    check_same(&src, &dst, "underhood copy");
    run(Command::new("cp")
        .arg("--sparse=always")
        .arg(&src)
        .arg(&dst));
    check_same(&src, &dst, "cp --sparse=always");
    let qemu = have("qemu-img");
    if qemu {
        let _ = std::fs::remove_file(&dst);
        run(Command::new("qemu-img")
            .args(["convert", "-O", "raw"])
            .arg(&src)
            .arg(&dst));
        check_same(&src, &dst, "qemu-img convert");
    } else {
        eprintln!("qemu-img not installed: its anchor is skipped");
    }

    let mut group = c.benchmark_group("copy_20g_204x1m");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_secs(3));
    let remove = || {
        let _ = std::fs::remove_file(&dst);
    };
    group.bench_function("underhood_auto", |b| {
        b.iter_batched(
            remove,
            |()| underhood_sparse::copy(&src, &dst, &CopyOptions::default(), |_| {}).unwrap(),
            BatchSize::PerIteration,
        )
    });
    let always = CopyOptions {
        sparse: SparsePolicy::Always,
        ..CopyOptions::default()
    };
    group.bench_function("underhood_always", |b| {
        b.iter_batched(
            remove,
            |()| underhood_sparse::copy(&src, &dst, &always, |_| {}).unwrap(),
            BatchSize::PerIteration,
        )
    });
    // `copy` syncs before its rename (crash safety); `cp` does not, so it is also timed
    // followed by an fsync of the copy (`sync FILE`), for the same durability.
    group.bench_function("cp_sparse_auto_fsync", |b| {
        b.iter_batched(
            remove,
            |()| {
                run(Command::new("cp").arg("--sparse=auto").arg(&src).arg(&dst));
                File::open(&dst).unwrap().sync_all().unwrap();
            },
            BatchSize::PerIteration,
        )
    });
    for sparse in ["auto", "always"] {
        group.bench_function(format!("cp_sparse_{sparse}"), |b| {
            b.iter_batched(
                remove,
                |()| {
                    run(Command::new("cp")
                        .arg(format!("--sparse={sparse}"))
                        .arg(&src)
                        .arg(&dst))
                },
                BatchSize::PerIteration,
            )
        });
    }
    if qemu {
        group.bench_function("qemu_img_convert", |b| {
            b.iter_batched(
                remove,
                |()| {
                    run(Command::new("qemu-img")
                        .args(["convert", "-O", "raw"])
                        .arg(&src)
                        .arg(&dst))
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();

    // std::io::copy writes every zero: compared on a 256 MiB image with 4 data extents.
    let small = _dir.path().join("small.raw");
    scattered(&small, 256 * MIB, 4);
    let mut group = c.benchmark_group("copy_256m_4x1m");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("underhood_auto", |b| {
        b.iter_batched(
            remove,
            |()| underhood_sparse::copy(&small, &dst, &CopyOptions::default(), |_| {}).unwrap(),
            BatchSize::PerIteration,
        )
    });
    group.bench_function("std_io_copy", |b| {
        b.iter_batched(
            remove,
            |()| {
                let mut from = File::open(&small).unwrap();
                let mut to = File::create(&dst).unwrap();
                std::io::copy(&mut from, &mut to).unwrap();
                to.sync_all().unwrap();
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn dig(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("zeros.raw");
    let size = 256 * MIB;
    // Correctness: same bytes, same or fewer blocks than fallocate --dig-holes.
    mostly_zeros(&file, size);
    let before = std::fs::read(&file).unwrap();
    underhood_sparse::dig_holes(&file).unwrap();
    let ours = underhood_sparse::stat(&file).unwrap().allocated_bytes;
    assert!(std::fs::read(&file).unwrap() == before, "dig changed bytes");
    mostly_zeros(&file, size);
    run(Command::new("fallocate").arg("--dig-holes").arg(&file));
    let theirs = underhood_sparse::stat(&file).unwrap().allocated_bytes;
    eprintln!("dig-holes allocation: underhood {ours} bytes, fallocate {theirs} bytes");
    assert!(ours <= theirs);
    drop(before);

    let mut group = c.benchmark_group("dig_256m_90pct_zeros");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(2));
    let restore = || mostly_zeros(&file, size);
    group.bench_function("underhood_dig", |b| {
        b.iter_batched(
            restore,
            |()| underhood_sparse::dig_holes(&file).unwrap(),
            BatchSize::PerIteration,
        )
    });
    group.bench_function("fallocate_dig_holes", |b| {
        b.iter_batched(
            restore,
            |()| run(Command::new("fallocate").arg("--dig-holes").arg(&file)),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn map(c: &mut Criterion) {
    let Setup { src, _dir, .. } = setup();
    let mut group = c.benchmark_group("map_20g_204x1m");
    group
        .sample_size(50)
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_secs(2));
    group.bench_function("fiemap", |b| {
        b.iter(|| black_box(underhood_sparse::map(&src, MapMethod::Fiemap).unwrap()))
    });
    group.bench_function("seek_hole", |b| {
        b.iter(|| black_box(underhood_sparse::map(&src, MapMethod::SeekHole).unwrap()))
    });
    group.bench_function("filefrag_process", |b| {
        b.iter(|| {
            run(Command::new("filefrag")
                .arg(&src)
                .stdout(std::process::Stdio::null()))
        })
    });
    if let Ok(shm) = tempfile::tempdir_in("/dev/shm") {
        let on_tmpfs = shm.path().join("image.raw");
        scattered(&on_tmpfs, 20 << 30, 204);
        group.bench_function("tmpfs_auto_seek_fallback", |b| {
            b.iter(|| black_box(underhood_sparse::map(&on_tmpfs, MapMethod::Auto).unwrap()))
        });
    }
    group.finish();
}

criterion_group!(benches, copy, dig, map);
criterion_main!(benches);
