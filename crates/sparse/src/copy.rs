//! Hole-preserving, crash-safe copies: temporary file beside the destination, fsync, rename.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Op, Result, io_error, is_unsupported};
use crate::holes::{CHUNK, read_full, write_zeros, zero_runs};
use crate::map::{Extent, ExtentKind, ExtentMap, MapMethod, MapSource, file_size, map_file};
use crate::readahead::ReadAhead;
use crate::sys::{self, FallocateFlags};

/// Which zeros become holes, as `cp --sparse=` decides.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SparsePolicy {
    /// Holes of the source stay holes; data extents are copied as they are (with
    /// `copy_file_range`). Where the source filesystem reports no holes at all, data is
    /// scanned for zero blocks as with `Always`.
    #[default]
    Auto,
    /// Additionally, every all-zero filesystem block of the source (in data or unwritten
    /// extents) becomes a hole, unless [`Prealloc::Thick`] reserves the space.
    Always,
    /// The destination is fully written: holes become written zeros (`cp --sparse=never`).
    Never,
}

/// What happens to the source's preallocated, unwritten extents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Prealloc {
    /// They stay preallocated and unwritten in the destination (needs FIEMAP on the source).
    #[default]
    Preserve,
    /// They become holes.
    Thin,
    /// The whole destination is reserved, holes included (`fallocate` before copying).
    Thick,
}

/// When the copy reaches stable storage.
///
/// Both variants write a temporary file beside the destination and rename it into place, so
/// while the machine stays up no process ever sees a partial destination, and a failed or
/// killed copy leaves the destination as it was. They differ only after a power loss or a
/// kernel crash.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Durability {
    /// `fsync` the copy before the rename and the directory after it: once [`copy`]
    /// returns, the destination survives a power loss, and a crash at any moment leaves either
    /// the old destination or the complete copy under its name, never a truncated one.
    #[default]
    Sync,
    /// No `fsync`: the caller makes the copy durable later (with `sync`/`syncfs`, or one
    /// `fsync` after many copies), as `cp`, `rsync` and `qemu-img convert` leave it to them.
    /// Until the data is written back, a power loss can leave the new name pointing at a file
    /// whose data is missing (reading as zeros or short), or no file at all; ext4's
    /// `auto_da_alloc` narrows but does not close that window.
    Deferred,
}

/// How to copy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct CopyOptions {
    /// Which zeros become holes.
    pub sparse: SparsePolicy,
    /// What happens to preallocation.
    pub prealloc: Prealloc,
    /// Whether [`copy`] syncs before it returns.
    pub durability: Durability,
}

/// How far a copy got: source bytes up to `done` are in the destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Source offset up to which everything is copied.
    pub done: u64,
    /// The source size.
    pub total: u64,
}

/// How data extents were moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DataMethod {
    /// In the kernel, with `copy_file_range`.
    CopyFileRange,
    /// Through a buffer, with `pread`/`pwrite` (scanning for zeros, or where
    /// `copy_file_range` is refused, as across filesystems).
    ReadWrite,
}

/// What [`copy`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CopyReport {
    /// Bytes of source data extents read.
    pub data_bytes: u64,
    /// Bytes written to the destination (zeros skipped by `Always` are not counted).
    pub written_bytes: u64,
    /// Where the source's extent map came from.
    pub source: MapSource,
    /// How data moved.
    pub method: DataMethod,
}

/// Copies `src` to `dst` (a file path, replaced if it exists), reading only the source's data
/// extents, calling `progress` as it goes.
///
/// The copy is written to a temporary file in `dst`'s directory, synced (unless
/// [`Durability::Deferred`]), and renamed over `dst`; on any error (for example [`Error::NoSpace`], which says how far it got) the
/// temporary file is removed and `dst` is untouched. The source is opened read-only.
pub fn copy(
    src: &Path,
    dst: &Path,
    options: &CopyOptions,
    mut progress: impl FnMut(Progress),
) -> Result<CopyReport> {
    let source = File::open(src).map_err(|source| Error::Io {
        op: Op::Open,
        path: src.into(),
        source,
    })?;
    let size = file_size(&source, src)?;
    check_destination(&source, src, dst)?;
    let map = map_file(&source, src, size, MapMethod::Auto)?;
    copy_mapped(&source, src, &map, dst, options, &mut progress)
}

/// [`copy`] with the source's map already read (tests force the fallback maps with it).
pub(crate) fn copy_mapped(
    source: &File,
    src: &Path,
    map: &ExtentMap,
    dst: &Path,
    options: &CopyOptions,
    mut progress: &mut dyn FnMut(Progress),
) -> Result<CopyReport> {
    let size = map.size();
    let temp = TempFile::create(dst)?;
    let permissions = source
        .metadata()
        .map_err(|e| io_error(Op::Stat, src, e, 0, size))?
        .permissions();
    temp.file
        .set_permissions(permissions)
        .map_err(|e| io_error(Op::Open, dst, e, 0, size))?;
    let mut copier = Copier {
        source,
        src,
        dest: &temp.file,
        dst,
        total: size,
        options: *options,
        block: sys::fs_block_size(&temp.file).map_err(|e| io_error(Op::Stat, dst, e, 0, size))?,
        buf: Vec::new(),
        ahead: ReadAhead::new(map),
        report: CopyReport {
            data_bytes: 0,
            written_bytes: 0,
            source: map.source(),
            method: DataMethod::CopyFileRange,
        },
        progress: &mut progress,
    };
    copier.copy_all(map)?;
    let report = copier.report;
    match options.durability {
        Durability::Sync => {
            temp.file
                .sync_all()
                .map_err(|e| io_error(Op::Sync, dst, e, size, size))?;
            temp.persist(dst)?;
            sync_directory(dst)?;
        }
        Durability::Deferred => temp.persist(dst)?,
    }
    Ok(report)
}

struct Copier<'a> {
    source: &'a File,
    src: &'a Path,
    dest: &'a File,
    dst: &'a Path,
    total: u64,
    options: CopyOptions,
    block: u64,
    buf: Vec<u8>,
    ahead: ReadAhead,
    report: CopyReport,
    progress: &'a mut dyn FnMut(Progress),
}

impl Copier<'_> {
    fn copy_all(&mut self, map: &ExtentMap) -> Result<()> {
        let CopyOptions {
            sparse, prealloc, ..
        } = self.options;
        self.dest
            .set_len(self.total)
            .map_err(|e| io_error(Op::Truncate, self.dst, e, 0, self.total))?;
        if prealloc == Prealloc::Thick && sparse != SparsePolicy::Never {
            self.allocate(0, self.total)?;
        }
        let scan = match sparse {
            SparsePolicy::Always => true,
            SparsePolicy::Auto => map.source() == MapSource::WholeFile,
            SparsePolicy::Never => false,
        };
        if scan {
            sys::advise_sequential(self.source);
        }
        for extent in map.extents() {
            match extent.kind {
                ExtentKind::Data if scan => self.copy_scanning(extent)?,
                ExtentKind::Data => self.copy_data(extent)?,
                ExtentKind::Hole | ExtentKind::Unwritten if sparse == SparsePolicy::Never => {
                    write_zeros(self.dest, self.dst, extent.offset, extent.end())
                        .map_err(|e| self.progressed(e, extent.offset))?;
                    self.report.written_bytes += extent.length;
                }
                ExtentKind::Unwritten
                    if prealloc == Prealloc::Preserve && sparse == SparsePolicy::Auto =>
                {
                    self.allocate(extent.offset, extent.end())?;
                }
                ExtentKind::Hole | ExtentKind::Unwritten => {}
            }
            (self.progress)(Progress {
                done: extent.end(),
                total: self.total,
            });
        }
        Ok(())
    }

    /// Data extent as it is: `copy_file_range`, or read/write where that is refused.
    fn copy_data(&mut self, extent: &Extent) -> Result<()> {
        let mut at = extent.offset;
        while at < extent.end() {
            self.ahead.advance(self.source, self.report.data_bytes);
            let want = (extent.end() - at).min(COPY_STEP);
            let copied = match self.report.method {
                DataMethod::CopyFileRange => {
                    match sys::copy_file_range(self.source, at, self.dest, at, want as usize) {
                        Ok(n) => n as u64,
                        Err(e) if refused(&e) => {
                            self.report.method = DataMethod::ReadWrite;
                            continue;
                        }
                        Err(e) => {
                            return Err(self.progressed(io_error(Op::Write, self.dst, e, 0, 0), at));
                        }
                    }
                }
                DataMethod::ReadWrite => {
                    let n = self.read(at, want.min(CHUNK as u64) as usize)?;
                    self.dest
                        .write_all_at(&self.buf[..n], at)
                        .map_err(|e| self.progressed(io_error(Op::Write, self.dst, e, 0, 0), at))?;
                    n as u64
                }
            };
            if copied == 0 {
                return Err(Error::SourceChanged {
                    path: self.src.into(),
                    expected: self.total,
                    found: at,
                });
            }
            at += copied;
            self.report.data_bytes += copied;
            self.report.written_bytes += copied;
            (self.progress)(Progress {
                done: at,
                total: self.total,
            });
        }
        Ok(())
    }

    /// Data extent read through a buffer; all-zero blocks are skipped and stay holes.
    fn copy_scanning(&mut self, extent: &Extent) -> Result<()> {
        self.report.method = DataMethod::ReadWrite;
        let mut at = extent.offset;
        while at < extent.end() {
            self.ahead.advance(self.source, self.report.data_bytes);
            let want = (extent.end() - at).min(CHUNK as u64) as usize;
            let n = self.read(at, want)?;
            if n == 0 {
                return Err(Error::SourceChanged {
                    path: self.src.into(),
                    expected: self.total,
                    found: at,
                });
            }
            let mut written_to = at;
            let end = at + n as u64;
            let zeros = zero_runs(&self.buf[..n], at, self.block);
            for (zero_start, zero_end) in zeros.into_iter().chain([(end, end)]) {
                if written_to < zero_start {
                    let from = (written_to - at) as usize;
                    let to = (zero_start - at) as usize;
                    self.dest
                        .write_all_at(&self.buf[from..to], written_to)
                        .map_err(|e| self.progressed(io_error(Op::Write, self.dst, e, 0, 0), at))?;
                    self.report.written_bytes += (to - from) as u64;
                }
                written_to = zero_end;
            }
            at = end;
            self.report.data_bytes += n as u64;
            (self.progress)(Progress {
                done: at,
                total: self.total,
            });
        }
        Ok(())
    }

    fn read(&mut self, at: u64, len: usize) -> Result<usize> {
        if self.buf.len() < len {
            self.buf.resize(len, 0);
        }
        read_full(self.source, self.src, &mut self.buf[..len], at)
    }

    fn allocate(&self, start: u64, end: u64) -> Result<()> {
        if start >= end {
            return Ok(());
        }
        sys::fallocate(self.dest, FallocateFlags::empty(), start, end - start)
            .map_err(|e| self.progressed(io_error(Op::Allocate, self.dst, e, 0, 0), start))
    }

    /// Fills in how far the copy got for a [`Error::NoSpace`].
    fn progressed(&self, error: Error, at: u64) -> Error {
        match error {
            Error::NoSpace { op, path, .. } => Error::NoSpace {
                op,
                path,
                done: at,
                total: self.total,
            },
            other => other,
        }
    }
}

/// Bytes per `copy_file_range` call: large enough to be cheap, small enough for progress and
/// for the read-ahead window to stay ahead of it.
const COPY_STEP: u64 = 8 << 20;

/// Errors after which `copy_file_range` is not tried again (read/write takes over).
fn refused(error: &io::Error) -> bool {
    error.raw_os_error().is_some_and(|code| {
        is_unsupported(code) || matches!(code, libc::EXDEV | libc::EINVAL | libc::EPERM)
    })
}

fn check_destination(source: &File, src: &Path, dst: &Path) -> Result<()> {
    let Ok(meta) = fs::metadata(dst) else {
        return Ok(());
    };
    if meta.is_dir() {
        return Err(Error::NotRegularFile { path: dst.into() });
    }
    let source_meta = source
        .metadata()
        .map_err(|e| io_error(Op::Stat, src, e, 0, 0))?;
    if meta.dev() == source_meta.dev() && meta.ino() == source_meta.ino() {
        return Err(Error::SameFile {
            src: src.into(),
            dst: dst.into(),
        });
    }
    Ok(())
}

/// A temporary file beside the destination; removed on drop unless persisted.
struct TempFile {
    file: File,
    path: PathBuf,
    persisted: bool,
}

impl TempFile {
    fn create(dst: &Path) -> Result<TempFile> {
        let dir = directory_of(dst);
        let name = dst
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut attempt = 0u32;
        loop {
            let path = dir.join(format!(
                ".{name}.{}.{attempt}.underhood-tmp",
                std::process::id()
            ));
            match OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(file) => {
                    return Ok(TempFile {
                        file,
                        path,
                        persisted: false,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 1000 => {
                    attempt += 1
                }
                Err(source) => {
                    // Name the destination the caller gave, not our temporary name.
                    return Err(io_error(Op::Open, dst, source, 0, 0));
                }
            }
        }
    }

    fn persist(mut self, dst: &Path) -> Result<()> {
        fs::rename(&self.path, dst).map_err(|source| Error::Io {
            op: Op::Rename,
            path: dst.into(),
            source,
        })?;
        self.persisted = true;
        Ok(())
    }
}

/// Makes a rename into `dst`'s directory durable.
fn sync_directory(dst: &Path) -> Result<()> {
    let dir = directory_of(dst);
    File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| Error::Io {
            op: Op::Sync,
            path: dir,
            source,
        })
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.persisted {
            // Best effort: the error that made us give up is the one reported.
            let _ = fs::remove_file(&self.path);
        }
    }
}

fn directory_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.into(),
        _ => PathBuf::from("."),
    }
}

#[cfg(all(test, not(miri)))]
mod tests {
    use super::*;
    use crate::holes::dig_file;

    /// Where neither FIEMAP nor SEEK_HOLE works, the file is one data run; `Auto` then scans
    /// it, so zero blocks still become holes, and dig-holes scans the whole file.
    #[test]
    fn whole_file_fallback_scans_for_zeros() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src.img");
        let mut content = vec![0u8; 64 << 10];
        content[20_000] = 7;
        fs::write(&src, &content).unwrap();
        let source = File::open(&src).unwrap();
        let whole = ExtentMap::from_runs(
            content.len() as u64,
            MapSource::WholeFile,
            [Extent {
                offset: 0,
                length: content.len() as u64,
                kind: ExtentKind::Data,
            }],
        );
        let dst = dir.path().join("dst.img");
        let report = copy_mapped(
            &source,
            &src,
            &whole,
            &dst,
            &CopyOptions::default(),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(fs::read(&dst).unwrap(), content);
        assert_eq!(report.source, MapSource::WholeFile);
        assert_eq!(report.method, DataMethod::ReadWrite);
        assert_eq!(report.written_bytes, 4096, "{report:?}");
        let dst_map = map_file(
            &File::open(&dst).unwrap(),
            &dst,
            content.len() as u64,
            MapMethod::SeekHole,
        )
        .unwrap();
        assert_eq!(dst_map.bytes(ExtentKind::Data), 4096);

        let file = crate::holes::open_rw(&src).unwrap();
        let dug = dig_file(&file, &src, &whole).unwrap();
        assert_eq!((dug.scanned_bytes, dug.punched_bytes), (65536, 61440));
        assert_eq!(fs::read(&src).unwrap(), content);
    }
}
