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

    #[track_caller]
    fn check(a: u8, b: u8, product: u8) {
        assert_eq!(mul(a, b), product, "{a:#04x}·{b:#04x}");
    }

    #[test]
    fn known_answers() {
        check(0x57, 0x83, 0xC1);
        check(0, 0xFF, 0);
        assert_eq!(inv(0x53), 0xCA);
        assert_eq!(inv(0), 0);
    }

    #[test]
    fn shared_field_vectors() {
        let data: serde_json::Value = serde_json::from_str(include_str!(
            "../testdata/shamir_deterministic_vectors.json"
        ))
        .unwrap();
        let byte = |v: &serde_json::Value| u8::try_from(v.as_u64().unwrap()).unwrap();
        for example in data["field"]["mul_examples"].as_array().unwrap() {
            check(byte(&example[0]), byte(&example[1]), byte(&example[2]));
        }
        for example in data["field"]["inv_examples"].as_array().unwrap() {
            assert_eq!(inv(byte(&example[0])), byte(&example[1]), "{example}");
        }
    }

    #[test]
    fn agrees_with_vaults_old_log_tables() {
        // Vault ≤ 1.13 multiplied through exp/log tables of the generator 0xE5: same field.
        let mut exp = [0u8; 255];
        let mut x = 1u8;
        for e in &mut exp {
            *e = x;
            x = mul(x, 0xE5);
        }
        assert_eq!(x, 1, "0xE5 has order 255");
        for i in 0..255 {
            for j in 0..255 {
                check(exp[i], exp[j], exp[(i + j) % 255]);
            }
        }
    }

    #[test]
    fn arithmetic_has_no_branches_or_tables() {
        // A tidy check on this file's own source, above the tests: constant time by construction.
        let source = include_str!("gf256.rs");
        let code = &source[..source.find("#[cfg(test)]").unwrap()];
        let code: String = code
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect();
        for banned in [
            "if ", "match ", "while ", "return", "static ", "const ", "[a", "[b", "as usize",
        ] {
            assert!(!code.contains(banned), "gf256.rs uses {banned:?}");
        }
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
