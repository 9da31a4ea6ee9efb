//! Random extent layouts written to real files, checked against a model: the extent map, the
//! copy in every mode, dig-holes and conversions. Runs on the temp dir's filesystem (ext4 here)
//! and again on tmpfs (`/dev/shm`) when there is one.
#![cfg(not(miri))]

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use rustix::fs::FallocateFlags;
use underhood_sparse::{
    CopyOptions, Durability, Error, ExtentKind, MapMethod, MapSource, Prealloc, Provisioning,
    SparsePolicy,
};

const BLOCK: u64 = 4096;

/// One run of a layout, in blocks.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Seg {
    /// Written blocks, each with one nonzero byte at `at` (so zero detection sees every
    /// position).
    Data {
        at: u16,
        value: u8,
    },
    /// Written blocks of zeros.
    Zeros,
    Hole,
    /// `fallocate`d, never written.
    Unwritten,
}

/// Filesystems with known behaviour.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fs {
    /// FIEMAP with unwritten extents.
    Ext4,
    /// No FIEMAP; SEEK_DATA counts fallocated pages as data.
    Tmpfs,
}

fn fs_of(dir: &Path) -> Option<Fs> {
    let stat = rustix::fs::statfs(dir).ok()?;
    #[allow(clippy::unnecessary_cast)] // `f_type`'s type differs between architectures.
    match stat.f_type as i64 {
        0xEF53 => Some(Fs::Ext4),
        0x0102_1994 => Some(Fs::Tmpfs),
        _ => None,
    }
}

struct Layout {
    segs: Vec<(Seg, u64)>,
}

impl Layout {
    fn size(&self) -> u64 {
        self.segs.iter().map(|&(_, n)| n * BLOCK).sum()
    }

    fn content(&self) -> Vec<u8> {
        let mut bytes = vec![0; self.size() as usize];
        let mut at = 0;
        for &(seg, n) in &self.segs {
            if let Seg::Data { at: pos, value } = seg {
                for b in 0..n {
                    bytes[(at + b * BLOCK + u64::from(pos)) as usize] = value;
                }
            }
            at += n * BLOCK;
        }
        bytes
    }

    fn write(&self, path: &Path) {
        let file = OpenOptions::new()
            .create_new(true)
            .read(true)
            .write(true)
            .open(path)
            .unwrap();
        file.set_len(self.size()).unwrap();
        let mut at = 0;
        // Preallocate first, so that writing data never splits an unwritten extent.
        for &(seg, n) in &self.segs {
            if seg == Seg::Unwritten {
                rustix::fs::fallocate(&file, FallocateFlags::empty(), at, n * BLOCK).unwrap();
            }
            at += n * BLOCK;
        }
        let content = self.content();
        at = 0;
        for &(seg, n) in &self.segs {
            if matches!(seg, Seg::Data { .. } | Seg::Zeros) {
                let range = at as usize..(at + n * BLOCK) as usize;
                file.write_all_at(&content[range], at).unwrap();
            }
            at += n * BLOCK;
        }
        file.sync_all().unwrap();
    }

    /// The expected kind of every block, after mapping each segment through `kind`.
    fn blocks(&self, kind: impl Fn(Seg) -> ExtentKind) -> Vec<ExtentKind> {
        self.segs
            .iter()
            .flat_map(|&(seg, n)| std::iter::repeat_n(kind(seg), n as usize))
            .collect()
    }
}

/// The kind of every block of the file at `path`, from its extent map.
fn mapped_blocks(path: &Path) -> (Vec<ExtentKind>, MapSource) {
    let map = underhood_sparse::map(path, MapMethod::Auto).unwrap();
    let mut blocks = Vec::new();
    for e in map.extents() {
        assert_eq!(e.offset % BLOCK, 0, "{e:?}");
        blocks.extend(std::iter::repeat_n(
            e.kind,
            e.length.div_ceil(BLOCK) as usize,
        ));
    }
    (blocks, map.source())
}

/// How the map shows each segment as written.
fn as_written(fs: Fs) -> impl Fn(Seg) -> ExtentKind {
    move |seg| match (seg, fs) {
        (Seg::Data { .. } | Seg::Zeros, _) => ExtentKind::Data,
        (Seg::Hole, _) => ExtentKind::Hole,
        (Seg::Unwritten, _) => view(fs, ExtentKind::Unwritten),
    }
}

/// How a filesystem's map shows a kind of the ext4 model: tmpfs has no FIEMAP, and its
/// SEEK_DATA calls fallocated pages holes.
fn view(fs: Fs, kind: ExtentKind) -> ExtentKind {
    match (fs, kind) {
        (Fs::Tmpfs, ExtentKind::Unwritten) => ExtentKind::Hole,
        _ => kind,
    }
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[track_caller]
fn check_layout(dir: &Path, fs: Fs, segs: &[(Seg, u64)]) {
    let layout = Layout {
        segs: segs.to_vec(),
    };
    let src = dir.join("src.img");
    let _ = std::fs::remove_file(&src);
    layout.write(&src);
    let content = layout.content();
    let written = layout.blocks(as_written(fs));

    // The map.
    let (blocks, source) = mapped_blocks(&src);
    assert_eq!(
        source,
        if fs == Fs::Ext4 {
            MapSource::Fiemap
        } else {
            MapSource::SeekHole
        }
    );
    assert_eq!(blocks, written, "map of {segs:?}");
    let seek = underhood_sparse::map(&src, MapMethod::SeekHole).unwrap();
    assert_eq!(seek.bytes(ExtentKind::Unwritten), 0);

    // Copies in every mode.
    let dst = dir.join("dst.img");
    for sparse in [
        SparsePolicy::Auto,
        SparsePolicy::Always,
        SparsePolicy::Never,
    ] {
        for prealloc in [Prealloc::Preserve, Prealloc::Thin, Prealloc::Thick] {
            // Unsynced copies must give the same bytes and map as synced ones.
            let durability = match prealloc {
                Prealloc::Thin => Durability::Deferred,
                Prealloc::Preserve | Prealloc::Thick => Durability::Sync,
            };
            let options = CopyOptions {
                sparse,
                prealloc,
                durability,
            };
            let mut last = 0;
            let report = underhood_sparse::copy(&src, &dst, &options, |p| {
                assert!(p.done >= last && p.done <= p.total);
                last = p.done;
            })
            .unwrap();
            assert_eq!(last, layout.size(), "{options:?}");
            assert_eq!(read(&dst), content, "{options:?} {segs:?}");
            // What ext4 would hold; tmpfs cannot see its own preallocation.
            let model = layout.blocks(|seg| match (sparse, prealloc, as_written(fs)(seg)) {
                (SparsePolicy::Never, ..) => ExtentKind::Data,
                (SparsePolicy::Always, Prealloc::Thick, _) if !matches!(seg, Seg::Data { .. }) => {
                    ExtentKind::Unwritten
                }
                (SparsePolicy::Always, _, _) if !matches!(seg, Seg::Data { .. }) => {
                    ExtentKind::Hole
                }
                (_, Prealloc::Thick, ExtentKind::Hole) => ExtentKind::Unwritten,
                (_, Prealloc::Thin, ExtentKind::Unwritten) => ExtentKind::Hole,
                (_, _, kind) => kind,
            });
            let expected: Vec<_> = model.iter().map(|&k| view(fs, k)).collect();
            assert_eq!(
                mapped_blocks(&dst).0,
                expected,
                "{options:?} {segs:?}, {report:?}"
            );
            let stat = underhood_sparse::stat(&dst).unwrap();
            let allocated_blocks = model.iter().filter(|&&k| k != ExtentKind::Hole).count() as u64;
            // Allocation is what the map says, plus at most a few blocks of extent tree.
            assert!(
                stat.allocated_bytes >= allocated_blocks * BLOCK
                    && stat.allocated_bytes <= (allocated_blocks + 3) * BLOCK,
                "{options:?} {segs:?}: {stat:?}, {allocated_blocks} blocks"
            );
            std::fs::remove_file(&dst).unwrap();
        }
    }

    // Dig holes: zeros in data become holes, nothing else changes.
    let report = underhood_sparse::dig_holes(&src).unwrap();
    assert_eq!(read(&src), content);
    let dug = layout.blocks(|seg| match as_written(fs)(seg) {
        ExtentKind::Data if !matches!(seg, Seg::Data { .. }) => ExtentKind::Hole,
        kind => kind,
    });
    assert_eq!(mapped_blocks(&src).0, dug, "dig {segs:?}");
    let punched = written.iter().zip(&dug).filter(|(a, b)| a != b).count() as u64;
    assert_eq!(report.punched_bytes, punched * BLOCK);

    // Thicken and thin again: content never changes.
    underhood_sparse::convert(&src, Provisioning::ThickLazy).unwrap();
    assert_eq!(read(&src), content);
    assert!(underhood_sparse::stat(&src).unwrap().allocated_bytes >= layout.size());
    underhood_sparse::convert(&src, Provisioning::Thin).unwrap();
    assert_eq!(read(&src), content);
    let thin = layout.blocks(|seg| match seg {
        Seg::Data { .. } => ExtentKind::Data,
        _ => ExtentKind::Hole,
    });
    assert_eq!(mapped_blocks(&src).0, thin, "thin {segs:?}");
    let data_blocks = thin.iter().filter(|&&k| k == ExtentKind::Data).count() as u64;
    assert!(underhood_sparse::stat(&src).unwrap().allocated_bytes <= (data_blocks + 3) * BLOCK);
    underhood_sparse::convert(&src, Provisioning::ThickEager).unwrap();
    assert_eq!(read(&src), content);
    assert!(mapped_blocks(&src).0.iter().all(|&k| k == ExtentKind::Data));
}

fn ext4_dir() -> Option<(tempfile::TempDir, Fs)> {
    let dir = tempfile::tempdir().unwrap();
    match fs_of(dir.path()) {
        Some(fs) => Some((dir, fs)),
        None => {
            eprintln!(
                "skipped: {} is neither ext4 nor tmpfs",
                dir.path().display()
            );
            None
        }
    }
}

fn tmpfs_dir() -> Option<tempfile::TempDir> {
    let shm = PathBuf::from("/dev/shm");
    match tempfile::tempdir_in(&shm) {
        Ok(dir) if fs_of(dir.path()) == Some(Fs::Tmpfs) => Some(dir),
        _ => {
            eprintln!("skipped: no writable tmpfs at /dev/shm");
            None
        }
    }
}

fn data(at: u16, value: u8) -> Seg {
    Seg::Data { at, value }
}

#[test]
fn fixed_layouts_on_the_temp_dir_filesystem() {
    let Some((dir, fs)) = ext4_dir() else { return };
    let cases: &[&[(Seg, u64)]] = &[
        &[],
        &[(Seg::Hole, 4)],
        &[(data(0, 1), 1)],
        &[(data(4095, 255), 2), (Seg::Hole, 3)],
        &[
            (Seg::Hole, 2),
            (Seg::Zeros, 3),
            (data(17, 9), 1),
            (Seg::Unwritten, 2),
            (Seg::Hole, 1),
        ],
        &[(Seg::Unwritten, 3)],
        &[
            (Seg::Zeros, 2),
            (Seg::Unwritten, 2),
            (Seg::Zeros, 1),
            (data(100, 3), 300),
        ],
    ];
    for segs in cases {
        check_layout(dir.path(), fs, segs);
    }
}

#[test]
fn fixed_layouts_on_tmpfs_fall_back_to_seek_hole() {
    let Some(dir) = tmpfs_dir() else { return };
    check_layout(
        dir.path(),
        Fs::Tmpfs,
        &[
            (Seg::Hole, 2),
            (Seg::Zeros, 3),
            (data(17, 9), 1),
            (Seg::Unwritten, 2),
            (Seg::Hole, 1),
        ],
    );
    // No FIEMAP on tmpfs: asking for it is a typed error, not a wrong map.
    let path = dir.path().join("src.img");
    let err = underhood_sparse::map(&path, MapMethod::Fiemap).unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    // ZERO_RANGE is refused too, and zero_range says how it did it instead.
    let method = underhood_sparse::zero_range(&path, 0, 3 * BLOCK).unwrap();
    assert_eq!(method, underhood_sparse::ZeroMethod::PunchAndAllocate);
}

fn seg() -> impl Strategy<Value = Seg> {
    prop_oneof![
        3 => (0u16..4096, 1u8..).prop_map(|(at, value)| Seg::Data { at, value }),
        1 => Just(Seg::Zeros),
        2 => Just(Seg::Hole),
        1 => Just(Seg::Unwritten),
    ]
}

fn layout() -> impl Strategy<Value = Vec<(Seg, u64)>> {
    proptest::collection::vec((seg(), 1u64..6), 0..8)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn random_layouts_match_the_model(segs in layout()) {
        let Some((dir, fs)) = ext4_dir() else { return Ok(()) };
        check_layout(dir.path(), fs, &segs);
    }

    #[test]
    fn random_layouts_match_the_model_on_tmpfs(segs in layout()) {
        let Some(dir) = tmpfs_dir() else { return Ok(()) };
        check_layout(dir.path(), Fs::Tmpfs, &segs);
    }
}

/// More extents than one FIEMAP call returns: the batches join up, and FIEMAP and the
/// SEEK_DATA/SEEK_HOLE walk agree.
#[test]
fn many_extents_span_several_fiemap_calls() {
    let Some((dir, fs)) = ext4_dir() else { return };
    let segs: Vec<(Seg, u64)> = (0..1000u16)
        .flat_map(|i| [(data(i % 4096, 1), 1), (Seg::Hole, 1)])
        .collect();
    let layout = Layout { segs };
    let path = dir.path().join("many.img");
    layout.write(&path);
    let seek = underhood_sparse::map(&path, MapMethod::SeekHole).unwrap();
    assert_eq!(seek.runs(ExtentKind::Data).count(), 1000);
    if fs == Fs::Ext4 {
        let fiemap = underhood_sparse::map(&path, MapMethod::Fiemap).unwrap();
        assert_eq!(fiemap.extents(), seek.extents());
    }
    let (blocks, _) = mapped_blocks(&path);
    assert_eq!(blocks, layout.blocks(as_written(fs)));
}
