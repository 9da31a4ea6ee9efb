//! Decoding of `FS_IOC_FIEMAP` replies: bytes from the kernel, treated as hostile.

use crate::error::FiemapError;

/// Size of `struct fiemap` without its extents.
pub(crate) const HEADER_LEN: usize = 32;
/// Size of one `struct fiemap_extent`.
pub(crate) const EXTENT_LEN: usize = 56;

/// `FIEMAP_EXTENT_LAST`: the last extent of the file.
pub(crate) const FLAG_LAST: u32 = 0x1;
/// `FIEMAP_EXTENT_UNWRITTEN`: allocated, reads as zeros.
pub(crate) const FLAG_UNWRITTEN: u32 = 0x800;

/// One extent of a FIEMAP reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FiemapExtent {
    /// Offset in the file (`fe_logical`).
    pub logical: u64,
    /// Length in bytes (`fe_length`).
    pub length: u64,
    /// `fe_flags` (`FIEMAP_EXTENT_*`).
    pub flags: u32,
}

impl FiemapExtent {
    /// Whether this is the file's last extent.
    pub fn is_last(&self) -> bool {
        self.flags & FLAG_LAST != 0
    }

    /// Whether the extent is preallocated but unwritten (reads as zeros).
    pub fn is_unwritten(&self) -> bool {
        self.flags & FLAG_UNWRITTEN != 0
    }
}

/// Decodes a `struct fiemap` reply (native byte order) into its extents, checking that they
/// fit the buffer, do not overflow and come in order without overlapping.
///
/// ```
/// let mut reply = vec![0u8; 32];
/// assert_eq!(underhood_sparse::decode_fiemap(&reply)?, vec![]);
/// reply.truncate(31);
/// assert!(underhood_sparse::decode_fiemap(&reply).is_err());
/// # Ok::<(), underhood_sparse::FiemapError>(())
/// ```
pub fn decode_fiemap(reply: &[u8]) -> Result<Vec<FiemapExtent>, FiemapError> {
    let truncated = |needed| FiemapError::Truncated {
        len: reply.len(),
        needed,
    };
    let header = reply.get(..HEADER_LEN).ok_or(truncated(HEADER_LEN))?;
    let mapped = u32_at(header, 20);
    let capacity = u32_at(header, 24);
    if mapped > capacity {
        return Err(FiemapError::TooManyExtents { mapped, capacity });
    }
    let needed = HEADER_LEN + mapped as usize * EXTENT_LEN;
    let body = reply.get(HEADER_LEN..needed).ok_or(truncated(needed))?;
    let mut extents = Vec::with_capacity(mapped as usize);
    let mut previous_end = 0;
    for raw in body.chunks_exact(EXTENT_LEN) {
        let extent = FiemapExtent {
            logical: u64_at(raw, 0),
            length: u64_at(raw, 16),
            flags: u32_at(raw, 40),
        };
        let end = extent
            .logical
            .checked_add(extent.length)
            .ok_or(FiemapError::Overflow {
                logical: extent.logical,
                length: extent.length,
            })?;
        if extent.logical < previous_end {
            return Err(FiemapError::Unordered {
                logical: extent.logical,
                previous_end,
            });
        }
        previous_end = end;
        extents.push(extent);
    }
    Ok(extents)
}

/// Writes the request header for extents from `start` on, with room for `capacity` extents.
pub(crate) fn encode_request(buf: &mut [u8], start: u64, flags: u32, capacity: u32) {
    buf[..HEADER_LEN].fill(0);
    buf[0..8].copy_from_slice(&start.to_ne_bytes());
    buf[8..16].copy_from_slice(&(u64::MAX - start).to_ne_bytes());
    buf[16..20].copy_from_slice(&flags.to_ne_bytes());
    buf[24..28].copy_from_slice(&capacity.to_ne_bytes());
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_ne_bytes(word)
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_ne_bytes(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(capacity: u32, extents: &[(u64, u64, u32)]) -> Vec<u8> {
        let mut buf = vec![0; HEADER_LEN + extents.len() * EXTENT_LEN];
        encode_request(&mut buf, 0, 0, capacity);
        buf[20..24].copy_from_slice(&(extents.len() as u32).to_ne_bytes());
        for (i, &(logical, length, flags)) in extents.iter().enumerate() {
            let at = HEADER_LEN + i * EXTENT_LEN;
            buf[at..at + 8].copy_from_slice(&logical.to_ne_bytes());
            buf[at + 16..at + 24].copy_from_slice(&length.to_ne_bytes());
            buf[at + 40..at + 44].copy_from_slice(&flags.to_ne_bytes());
        }
        buf
    }

    #[track_caller]
    fn check(reply: &[u8], expected: Result<Vec<(u64, u64, u32)>, FiemapError>) {
        let got = decode_fiemap(reply).map(|extents| {
            extents
                .iter()
                .map(|e| (e.logical, e.length, e.flags))
                .collect()
        });
        assert_eq!(got, expected);
    }

    #[test]
    fn decodes_well_formed_replies() {
        check(&reply(4, &[]), Ok(vec![]));
        check(&reply(4, &[(0, 4096, 0)]), Ok(vec![(0, 4096, 0)]));
        let two = [(0, 4096, FLAG_UNWRITTEN), (8192, 4096, FLAG_LAST)];
        check(&reply(2, &two), Ok(two.to_vec()));
        // Extra room after the mapped extents is fine.
        let mut long = reply(8, &two);
        long.extend([0; EXTENT_LEN * 3]);
        check(&long, Ok(two.to_vec()));
    }

    #[test]
    fn rejects_malformed_replies() {
        check(
            &[0; 31],
            Err(FiemapError::Truncated {
                len: 31,
                needed: 32,
            }),
        );
        let mut short = reply(2, &[(0, 1, 0)]);
        short.pop();
        check(
            &short,
            Err(FiemapError::Truncated {
                len: 87,
                needed: 88,
            }),
        );
        check(
            &reply(1, &[(0, 1, 0), (1, 1, 0)]),
            Err(FiemapError::TooManyExtents {
                mapped: 2,
                capacity: 1,
            }),
        );
        check(
            &reply(1, &[(u64::MAX, 1, 0)]),
            Err(FiemapError::Overflow {
                logical: u64::MAX,
                length: 1,
            }),
        );
        check(
            &reply(2, &[(0, 10, 0), (5, 1, 0)]),
            Err(FiemapError::Unordered {
                logical: 5,
                previous_end: 10,
            }),
        );
    }

    #[test]
    fn fuzz_regressions_never_panic() {
        // A header claiming u32::MAX extents must not overflow the length computation.
        let mut buf = reply(u32::MAX, &[]);
        buf[20..24].copy_from_slice(&u32::MAX.to_ne_bytes());
        assert!(decode_fiemap(&buf).is_err());
    }
}
