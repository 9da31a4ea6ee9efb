//! Copy, dig-holes and extent-map speed against the tools operators use, in the same run:
//! `cp --sparse=auto|always`, `qemu-img convert -O raw`, `fallocate --dig-holes` (as
//! processes), and `std::io::copy`. `benches/ratios.py` prints the ratios of medians.
//!
//! Sizes follow the reference layout: a 20 GiB apparent image with 204 scattered 1 MiB
//! data extents (`SPARSE_BENCH_GIB` changes the size), and a fully written 4 GiB file that is
//! about 93 % zeros in runs of mixed sizes for dig-holes (`SPARSE_DIG_MIB` changes the size).
//! Files live in the temp dir (ext4 here) and in /dev/shm for the tmpfs runs.
//!
//! Every timed iteration starts from the same state: the previous destination is removed and
//! the filesystem synced (`syncfs`) in the untimed setup, so that no contender pays for the
//! writeback or the discards that an earlier one left behind. A contender whose tool is not
//! installed is skipped, never failed.

use std::fs::{File, OpenOptions};
use std::hint::black_box;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use criterion::{BatchSize, Criterion, SamplingMode, criterion_group, criterion_main};
use underhood_sparse::{CopyOptions, Durability, ExtentKind, MapMethod, SparsePolicy};

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

/// A fully written file of `size` bytes, about 93 % zeros: zero runs of 4 KiB to 64 MiB and
/// data runs of 4 KiB to 4 MiB, sizes log-uniform (so 4 GiB hold about 400 zero runs of every
/// size, as a used VM image does), synced so that no run pays for writeback.
fn mostly_zeros(path: &Path, size: u64) {
    let file = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .open(path)
        .unwrap();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let zeros = vec![0u8; 64 << 20];
    let mut data = vec![0u8; 4 << 20];
    for chunk in data.chunks_exact_mut(8) {
        chunk.copy_from_slice(&(next() | 1).to_ne_bytes());
    }
    let mut at = 0;
    while at < size {
        let zero = (4096u64 << (next() % 15)).min(size - at);
        file.write_all_at(&zeros[..zero as usize], at).unwrap();
        at += zero;
        let written = (4096u64 << (next() % 11)).min(size - at);
        file.write_all_at(&data[..written as usize], at).unwrap();
        at += written;
    }
    file.set_len(size).unwrap();
    file.sync_all().unwrap();
}

/// Waits until everything written to the filesystem holding `dir` is on disk (and the
/// discards of removed files are done), so that the next timed run starts clean.
fn settle(dir: &Path) {
    let dir = File::open(dir).unwrap();
    rustix::fs::syncfs(&dir).unwrap();
}

/// Drops `path` from the page cache (after `settle`, its pages are clean).
fn evict(path: &Path) {
    let file = File::open(path).unwrap();
    rustix::fs::fadvise(&file, 0, None, rustix::fs::Advice::DontNeed).unwrap();
}

fn run(command: &mut Command) {
    let status = command.status().unwrap();
    assert!(status.success(), "{command:?}: {status}");
}

/// Whether `tool` is an executable on `PATH`; a missing tool's comparison is skipped.
fn have(tool: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let found = std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| {
            std::fs::metadata(dir.join(tool))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    });
    if !found {
        eprintln!("{tool} is not installed: its comparison is skipped");
    }
    found
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
    let dir = _dir.path();
    let (cp, qemu) = (have("cp"), have("qemu-img"));
    let synced = CopyOptions::default();
    let deferred = CopyOptions {
        durability: Durability::Deferred,
        ..CopyOptions::default()
    };
    let always = CopyOptions {
        sparse: SparsePolicy::Always,
        ..deferred
    };
    // Correctness first: every contender gives the same data runs and bytes.
    for (options, what) in [
        (synced, "underhood copy"),
        (deferred, "underhood copy, deferred sync"),
        (always, "underhood copy --sparse=always"),
    ] {
        underhood_sparse::copy(&src, &dst, &options, |_| {}).unwrap();
        check_same(&src, &dst, what);
    }
    let cp_to = |sparse: &str| {
        let _ = std::fs::remove_file(&dst);
        run(Command::new("cp")
            .arg(format!("--sparse={sparse}"))
            .arg(&src)
            .arg(&dst));
    };
    let qemu_to = || {
        let _ = std::fs::remove_file(&dst);
        run(Command::new("qemu-img")
            .args(["convert", "-O", "raw"])
            .arg(&src)
            .arg(&dst));
    };
    if cp {
        cp_to("auto");
        check_same(&src, &dst, "cp --sparse=auto");
        cp_to("always");
        check_same(&src, &dst, "cp --sparse=always");
    }
    if qemu {
        qemu_to();
        check_same(&src, &dst, "qemu-img convert");
    }

    // Warm page cache: the source was just written and read.
    let fresh = || {
        let _ = std::fs::remove_file(&dst);
        settle(dir);
    };
    let mut group = c.benchmark_group("copy_20g_204x1m");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_secs(3));
    for (name, options) in [
        ("underhood_auto_sync", synced),
        ("underhood_auto_nosync", deferred),
        ("underhood_always_nosync", always),
    ] {
        group.bench_function(name, |b| {
            b.iter_batched(
                fresh,
                |()| underhood_sparse::copy(&src, &dst, &options, |_| {}).unwrap(),
                BatchSize::PerIteration,
            )
        });
    }
    if cp {
        // The same durability as `Durability::Sync`: the copy and its directory synced.
        group.bench_function("cp_sparse_auto_fsync", |b| {
            b.iter_batched(
                fresh,
                |()| {
                    cp_to("auto");
                    File::open(&dst).unwrap().sync_all().unwrap();
                    File::open(dir).unwrap().sync_all().unwrap();
                },
                BatchSize::PerIteration,
            )
        });
        for sparse in ["auto", "always"] {
            group.bench_function(format!("cp_sparse_{sparse}"), |b| {
                b.iter_batched(fresh, |()| cp_to(sparse), BatchSize::PerIteration)
            });
        }
    }
    if qemu {
        group.bench_function("qemu_img_convert", |b| {
            b.iter_batched(fresh, |()| qemu_to(), BatchSize::PerIteration)
        });
    }
    group.finish();

    // Cold page cache: the source's pages are dropped before every run.
    let cold = || {
        let _ = std::fs::remove_file(&dst);
        settle(dir);
        evict(&src);
    };
    let mut group = c.benchmark_group("copy_cold_20g_204x1m");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("underhood_auto_nosync", |b| {
        b.iter_batched(
            cold,
            |()| underhood_sparse::copy(&src, &dst, &deferred, |_| {}).unwrap(),
            BatchSize::PerIteration,
        )
    });
    if cp {
        group.bench_function("cp_sparse_auto", |b| {
            b.iter_batched(cold, |()| cp_to("auto"), BatchSize::PerIteration)
        });
    }
    if qemu {
        group.bench_function("qemu_img_convert", |b| {
            b.iter_batched(cold, |()| qemu_to(), BatchSize::PerIteration)
        });
    }
    group.finish();

    // std::io::copy writes every zero: compared on a 256 MiB image with 4 data extents.
    let small = dir.join("small.raw");
    scattered(&small, 256 * MIB, 4);
    let mut group = c.benchmark_group("copy_256m_4x1m");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("underhood_auto", |b| {
        b.iter_batched(
            fresh,
            |()| underhood_sparse::copy(&small, &dst, &synced, |_| {}).unwrap(),
            BatchSize::PerIteration,
        )
    });
    group.bench_function("std_io_copy", |b| {
        b.iter_batched(
            fresh,
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
    let mib: u64 = std::env::var("SPARSE_DIG_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4096);
    let ext4 = tempfile::tempdir().unwrap();
    dig_on(c, "dig_4g_93pct_zeros", ext4.path(), mib * MIB, false);
    // The reference (5.45 s) is closer to a file that is not in the page cache.
    dig_on(c, "dig_cold_4g_93pct_zeros", ext4.path(), mib * MIB, true);
    // tmpfs punches without discards: what is left is the scan.
    if let Ok(shm) = tempfile::tempdir_in("/dev/shm") {
        dig_on(
            c,
            "dig_tmpfs_1g_93pct_zeros",
            shm.path(),
            mib / 4 * MIB,
            false,
        );
    }
}

/// Times both tools on `size` bytes in `dir`, each sample from the file rewritten and synced,
/// and with `cold` dropped from the page cache as well.
fn dig_on(c: &mut Criterion, group_name: &str, dir: &Path, size: u64, cold: bool) {
    let file = dir.join("zeros.raw");
    let fallocate = have("fallocate");
    // Correctness: same bytes, same or fewer blocks than fallocate --dig-holes.
    mostly_zeros(&file, size);
    let before = std::fs::read(&file).unwrap();
    let report = underhood_sparse::dig_holes(&file).unwrap();
    let ours = underhood_sparse::stat(&file).unwrap().allocated_bytes;
    assert!(std::fs::read(&file).unwrap() == before, "dig changed bytes");
    drop(before);
    eprintln!("{group_name}: underhood {report:?}, {ours} bytes allocated after");
    if fallocate {
        mostly_zeros(&file, size);
        run(Command::new("fallocate").arg("--dig-holes").arg(&file));
        let theirs = underhood_sparse::stat(&file).unwrap().allocated_bytes;
        eprintln!("{group_name}: fallocate --dig-holes leaves {theirs} bytes allocated");
        assert!(ours <= theirs);
    }

    let mut group = c.benchmark_group(group_name);
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(2));
    let restore = || {
        mostly_zeros(&file, size);
        settle(dir);
        if cold {
            evict(&file);
        }
    };
    group.bench_function("underhood_dig", |b| {
        b.iter_batched(
            restore,
            |()| underhood_sparse::dig_holes(&file).unwrap(),
            BatchSize::PerIteration,
        )
    });
    if fallocate {
        group.bench_function("fallocate_dig_holes", |b| {
            b.iter_batched(
                restore,
                |()| run(Command::new("fallocate").arg("--dig-holes").arg(&file)),
                BatchSize::PerIteration,
            )
        });
    }
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
    if have("filefrag") {
        group.bench_function("filefrag_process", |b| {
            b.iter(|| {
                run(Command::new("filefrag")
                    .arg(&src)
                    .stdout(std::process::Stdio::null()))
            })
        });
    }
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
