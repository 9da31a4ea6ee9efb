//! SipHash-2-4 with fixed, documented keys: the same 64-bit value for the same bytes on every
//! platform, in every run and in every version of this crate.
//!
//! `std`'s `RandomState` is seeded per process and `DefaultHasher` may change between Rust
//! releases, so neither can place a backend in a table that several load balancers must agree
//! on. The keys are the ASCII bytes of the strings below, read as little-endian `u64`s.

/// Keys for a backend name's Maglev offset: `"underhoo"`, `"d/offset"`.
pub(crate) const OFFSET_KEY: (u64, u64) = (
    u64::from_le_bytes(*b"underhoo"),
    u64::from_le_bytes(*b"d/offset"),
);
/// Keys for a backend name's Maglev skip: `"underhoo"`, `"d/skip.."`.
pub(crate) const SKIP_KEY: (u64, u64) = (
    u64::from_le_bytes(*b"underhoo"),
    u64::from_le_bytes(*b"d/skip.."),
);
/// Keys for flow keys and source addresses: `"underhoo"`, `"d/flow.."`.
pub(crate) const FLOW_KEY: (u64, u64) = (
    u64::from_le_bytes(*b"underhoo"),
    u64::from_le_bytes(*b"d/flow.."),
);

/// SipHash-2-4 (Aumasson and Bernstein, 2012) of `data` under the 128-bit key `(k0, k1)`.
pub(crate) fn siphash24((k0, k1): (u64, u64), data: &[u8]) -> u64 {
    let mut v = [
        k0 ^ 0x736f_6d65_7073_6575,
        k1 ^ 0x646f_7261_6e64_6f6d,
        k0 ^ 0x6c79_6765_6e65_7261,
        k1 ^ 0x7465_6462_7974_6573,
    ];
    let chunks = data.chunks_exact(8);
    let tail = chunks.remainder();
    for chunk in chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        compress(&mut v, u64::from_le_bytes(word), 2);
    }
    // The last word holds the length's low byte on top and the leftover bytes below.
    let mut last = (data.len() as u64) << 56;
    for (i, byte) in tail.iter().enumerate() {
        last |= u64::from(*byte) << (8 * i);
    }
    compress(&mut v, last, 2);
    v[2] ^= 0xff;
    for _ in 0..4 {
        round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

fn compress(v: &mut [u64; 4], word: u64, rounds: usize) {
    v[3] ^= word;
    for _ in 0..rounds {
        round(v);
    }
    v[0] ^= word;
}

fn round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13) ^ v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16) ^ v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21) ^ v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17) ^ v[2];
    v[2] = v[2].rotate_left(32);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference implementation's first vectors: key `00 01 … 0f`, message `00 01 … (n-1)`.
    #[test]
    fn reference_vectors() {
        let key = (0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908);
        let message: Vec<u8> = (0..64).collect();
        let expected: [(usize, u64); 4] = [
            (0, 0x726f_db47_dd0e_0e31),
            (1, 0x74f8_39c5_93dc_67fd),
            (8, 0x93f5_f579_9a93_2462),
            (15, 0xa129_ca61_49be_45e5),
        ];
        for (len, hash) in expected {
            assert_eq!(siphash24(key, &message[..len]), hash, "length {len}");
        }
    }

    /// `std`'s deprecated `SipHasher` is SipHash-2-4 too; it only serves as a cross-check here.
    #[test]
    #[allow(deprecated)] // The deprecation is about HashDoS defaults, not correctness.
    fn agrees_with_std_siphasher_on_every_length() {
        use std::hash::Hasher;
        let message: Vec<u8> = (0..100u8).map(|i| i.wrapping_mul(37)).collect();
        for len in 0..message.len() {
            let mut std = std::hash::SipHasher::new_with_keys(OFFSET_KEY.0, OFFSET_KEY.1);
            std.write(&message[..len]);
            assert_eq!(siphash24(OFFSET_KEY, &message[..len]), std.finish());
        }
    }
}
