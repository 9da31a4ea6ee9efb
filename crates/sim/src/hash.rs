//! A portable 64-bit hasher for trace hashes: the same value on every platform, because
//! integers are fed as little-endian 64-bit words (`usize`/`isize` widened) and byte strings in
//! 8-byte little-endian chunks. Each word is mixed in with a rotate, xor and multiply (the
//! FxHash step), and `finish` avalanches the state (the SplitMix64 finalizer). It is fast and
//! stable, not cryptographic: it fingerprints runs, it does not defend against forgery.

use std::hash::Hasher;

const SEED: u64 = 0xcbf2_9ce4_8422_2325;
const K: u64 = 0x517c_c1b7_2722_0a95;

/// A fast, platform-independent 64-bit hasher.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TraceHasher(u64);

impl Default for TraceHasher {
    fn default() -> Self {
        TraceHasher(SEED)
    }
}

impl TraceHasher {
    #[inline]
    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl Hasher for TraceHasher {
    fn finish(&self) -> u64 {
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in chunks.by_ref() {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        // The length byte keeps "ab" + "" apart from "a" + "b".
        self.mix(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 56));
    }

    fn write_u8(&mut self, i: u8) {
        self.mix(u64::from(i));
    }

    fn write_u16(&mut self, i: u16) {
        self.mix(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.mix(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.mix(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.mix(i as u64);
    }

    fn write_isize(&mut self, i: isize) {
        self.mix(i as i64 as u64);
    }

    fn write_i8(&mut self, i: i8) {
        self.mix(i as i64 as u64);
    }

    fn write_i16(&mut self, i: i16) {
        self.mix(i as i64 as u64);
    }

    fn write_i32(&mut self, i: i32) {
        self.mix(i as i64 as u64);
    }

    fn write_i64(&mut self, i: i64) {
        self.mix(i as u64);
    }
}

#[cfg(test)]
mod tests {
    use std::hash::Hash;

    use super::*;

    #[test]
    fn values_are_pinned() {
        // Pinned: a change here changes every trace hash, natively and in WASM alike.
        let mut h = TraceHasher::default();
        h.write(b"");
        assert_eq!(h.finish(), PINNED_EMPTY);
        let mut h = TraceHasher::default();
        h.write(b"underhood");
        h.write_u32(7);
        assert_eq!(h.finish(), PINNED_WORD);
    }

    const PINNED_EMPTY: u64 = 5135791855136205827;
    const PINNED_WORD: u64 = 15059320116551349789;

    #[test]
    fn byte_boundaries_matter() {
        let hash = |parts: &[&[u8]]| {
            let mut h = TraceHasher::default();
            for p in parts {
                h.write(p);
            }
            h.finish()
        };
        assert_ne!(hash(&[b"ab", b""]), hash(&[b"a", b"b"]));
        assert_ne!(hash(&[b"\0"]), hash(&[b""]));
    }

    #[test]
    fn usize_hashes_like_u64() {
        let mut a = TraceHasher::default();
        7usize.hash(&mut a);
        let mut b = TraceHasher::default();
        7u64.hash(&mut b);
        assert_eq!(a.finish(), b.finish());
    }
}
