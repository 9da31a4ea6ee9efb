//! Arithmetic in GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1 (0x11B).
//!
//! Every function runs in constant time: no table lookups, no branches on its arguments.

/// The product `a·b`: shift-and-xor over the 8 bits of `b`, reducing by 0x1B.
pub(crate) fn mul(mut a: u8, mut b: u8) -> u8 {
    let mut product = 0u8;
    for _ in 0..8 {
        // All ones when the low bit of b is set, else zero.
        product ^= a & (b & 1).wrapping_neg();
        let carry = (a >> 7).wrapping_neg();
        a = (a << 1) ^ (carry & 0x1B);
        b >>= 1;
    }
    product
}

/// The inverse `a^-1 = a^254`, with `inv(0) = 0`.
pub(crate) fn inv(a: u8) -> u8 {
    // 254 = 0b1111_1110: square and multiply along a fixed chain.
    let a2 = mul(a, a);
    let a3 = mul(a2, a);
    let a6 = mul(a3, a3);
    let a7 = mul(a6, a);
    let a14 = mul(a7, a7);
    let a15 = mul(a14, a);
    let a30 = mul(a15, a15);
    let a31 = mul(a30, a);
    let a62 = mul(a31, a31);
    let a63 = mul(a62, a);
    let a126 = mul(a63, a63);
    let a127 = mul(a126, a);
    mul(a127, a127)
}

/// `acc ^= c·src`, byte by byte: the inner loop of evaluation and interpolation.
pub(crate) fn mul_add_into(acc: &mut [u8], c: u8, src: &[u8]) {
    for (a, &s) in acc.iter_mut().zip(src) {
        *a ^= mul(c, s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_answers() {
        assert_eq!(mul(0x57, 0x83), 0xC1);
        assert_eq!(inv(0x53), 0xCA);
        assert_eq!(inv(0), 0);
    }

    proptest! {
        #[test]
        fn field_laws(a: u8, b: u8, c: u8) {
            prop_assert_eq!(mul(a, b), mul(b, a));
            prop_assert_eq!(mul(a, mul(b, c)), mul(mul(a, b), c));
            prop_assert_eq!(mul(a, b ^ c), mul(a, b) ^ mul(a, c));
            prop_assert_eq!(mul(a, 1), a);
            if a != 0 {
                prop_assert_eq!(mul(a, inv(a)), 1);
            }
        }
    }
}
