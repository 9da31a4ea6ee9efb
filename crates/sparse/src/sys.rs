//! The syscall edge (Linux): typed arguments in, `io::Error` out.
//!
//! Everything goes through rustix except `FS_IOC_FIEMAP`, which rustix does not wrap; that ioctl
//! is the only `unsafe` in the crate.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

pub(crate) use rustix::fs::FallocateFlags;
use rustix::fs::SeekFrom;

use crate::fiemap::{EXTENT_LEN, HEADER_LEN, encode_request};

/// `FS_IOC_FIEMAP` = `_IOWR('f', 11, struct fiemap)`.
const FS_IOC_FIEMAP: libc::c_ulong = 0xC020_660B;

/// `fallocate(2)`.
pub(crate) fn fallocate(
    file: &File,
    flags: FallocateFlags,
    offset: u64,
    len: u64,
) -> io::Result<()> {
    Ok(rustix::fs::fallocate(file, flags, offset, len)?)
}

/// `lseek(SEEK_DATA)`: the next data at or after `offset`, or `None` past the last data.
pub(crate) fn seek_data(file: &File, offset: u64) -> io::Result<Option<u64>> {
    match rustix::fs::seek(file, SeekFrom::Data(offset)) {
        Ok(at) => Ok(Some(at)),
        Err(rustix::io::Errno::NXIO) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// `lseek(SEEK_HOLE)`: the next hole at or after `offset` (end of file counts as a hole).
pub(crate) fn seek_hole(file: &File, offset: u64) -> io::Result<u64> {
    Ok(rustix::fs::seek(file, SeekFrom::Hole(offset))?)
}

/// `copy_file_range(2)` between explicit offsets; returns the bytes copied (0 at end of file).
pub(crate) fn copy_file_range(
    src: &File,
    src_offset: u64,
    dst: &File,
    dst_offset: u64,
    len: usize,
) -> io::Result<usize> {
    let (mut src_offset, mut dst_offset) = (src_offset, dst_offset);
    Ok(rustix::fs::copy_file_range(
        src,
        Some(&mut src_offset),
        dst,
        Some(&mut dst_offset),
        len,
    )?)
}

/// The filesystem's block size (`fstatfs` `f_bsize`).
pub(crate) fn fs_block_size(file: &File) -> io::Result<u64> {
    let stat = rustix::fs::fstatfs(file)?;
    #[allow(clippy::unnecessary_cast)] // `f_bsize`'s type differs between architectures.
    Ok((stat.f_bsize as u64).max(512))
}

/// Tells the kernel the file will be read sequentially (a hint: failures are ignored).
pub(crate) fn advise_sequential(file: &File) {
    let _ = rustix::fs::fadvise(file, 0, None, rustix::fs::Advice::Sequential);
}

/// Asks the kernel to start reading `len` bytes at `offset` into the page cache (a hint:
/// failures are ignored).
pub(crate) fn advise_will_need(file: &File, offset: u64, len: u64) {
    let _ = rustix::fs::fadvise(
        file,
        offset,
        std::num::NonZeroU64::new(len),
        rustix::fs::Advice::WillNeed,
    );
}

/// An 8-byte-aligned buffer for one `struct fiemap` with room for a fixed number of extents.
pub(crate) struct FiemapBuf {
    words: Vec<u64>,
    capacity: u32,
}

impl FiemapBuf {
    /// A buffer with room for `capacity` extents.
    pub(crate) fn new(capacity: u32) -> FiemapBuf {
        let bytes = HEADER_LEN + capacity as usize * EXTENT_LEN;
        FiemapBuf {
            words: vec![0; bytes.div_ceil(8)],
            capacity,
        }
    }

    /// `ioctl(FS_IOC_FIEMAP)` for the extents from `start` on; returns the raw reply (header
    /// and the mapped extents) for `fiemap::decode_fiemap`.
    pub(crate) fn map(&mut self, file: &File, start: u64, flags: u32) -> io::Result<Vec<u8>> {
        let mut header = [0u8; HEADER_LEN];
        encode_request(&mut header, start, flags, self.capacity);
        self.words.fill(0);
        for (word, bytes) in self.words.iter_mut().zip(header.chunks_exact(8)) {
            *word = u64::from_ne_bytes(bytes.try_into().unwrap_or_default());
        }
        let ptr = self.words.as_mut_ptr();
        // SAFETY: FS_IOC_FIEMAP reads the 32-byte `struct fiemap` header at `ptr` and writes at
        // most `fm_extent_count` 56-byte extents after it. The header written just above holds
        // `self.capacity` as `fm_extent_count`, and `new` sized `words` for exactly that many
        // extents; `Vec<u64>` gives the 8-byte alignment `struct fiemap` needs; `words` is
        // borrowed mutably for the whole call and `file` keeps the descriptor open.
        let ret = unsafe { libc::ioctl(file.as_raw_fd(), FS_IOC_FIEMAP as _, ptr) };
        if ret < 0 {
            return Err(io::Error::last_os_error());
        }
        let mapped_word = self.words[2].to_ne_bytes();
        let mapped = u32::from_ne_bytes([
            mapped_word[4],
            mapped_word[5],
            mapped_word[6],
            mapped_word[7],
        ]);
        let used = HEADER_LEN + mapped.min(self.capacity) as usize * EXTENT_LEN;
        Ok(self.words[..used / 8]
            .iter()
            .flat_map(|w| w.to_ne_bytes())
            .collect())
    }
}
