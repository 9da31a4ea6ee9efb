//! Split and combine of a 32-byte key and of 1 MiB (t = 3, n = 5), and transit encrypt and
//! decrypt of 1 KiB. Run with `cargo bench -p underhood-secret-crypto`.
//!
//! Each group carries its anchor, measured in the same run:
//! - Shamir: a split with log/exp tables (Vault before 2023: fast, but it leaks timing through
//!   secret-indexed lookups), so the ratio is the price of constant time;
//! - transit: one bare AES-256-GCM seal or open of the same 1 KiB, so the ratio is the price of
//!   versioning, nonce drawing and base64.

use std::hint::black_box;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use underhood_secret_crypto::shamir;
use underhood_secret_crypto::transit::{KeyType, Params, TransitKey};

fn shamir_benches(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let tables = Tables::new();
    for (label, len) in [("32B", 32), ("1MiB", 1 << 20)] {
        let secret: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let mut group = c.benchmark_group(format!("shamir-{label}-t3-n5"));
        group.sample_size(10);
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_function("split", |b| {
            b.iter(|| shamir::split(black_box(&secret), 3, 5, &mut rng).expect("valid split"))
        });
        let shares = shamir::split(&secret, 3, 5, &mut rng).expect("valid split");
        let three: Vec<&[u8]> = shares[..3].iter().map(|s| s.expose_secret()).collect();
        group.bench_function("combine", |b| {
            b.iter(|| shamir::combine(black_box(&three)).expect("valid combine"))
        });
        group.bench_function("anchor-table-split", |b| {
            b.iter(|| tables.split(black_box(&secret), 3, &[1, 2, 3, 4, 5], &mut rng))
        });
        group.finish();
    }
}

fn transit_benches(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let key = TransitKey::new("bench", KeyType::Aes256Gcm96, &mut rng);
    let plaintext = vec![0x42u8; 1024];
    let params = Params::default();
    let ciphertext = key
        .encrypt(&plaintext, &params, &mut rng)
        .expect("encrypts");
    let raw_key = [7u8; 32];
    let aes = Aes256Gcm::new_from_slice(&raw_key).expect("32-byte key");
    let nonce = Nonce::from_slice(&[9u8; 12]);
    let sealed = aes.encrypt(nonce, plaintext.as_slice()).expect("seals");

    let mut group = c.benchmark_group("transit-1KiB");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(1024));
    group.bench_function("encrypt", |b| {
        b.iter(|| {
            key.encrypt(black_box(&plaintext), &params, &mut rng)
                .expect("encrypts")
        })
    });
    group.bench_function("decrypt", |b| {
        b.iter(|| {
            key.decrypt(black_box(&ciphertext), &params)
                .expect("decrypts")
        })
    });
    group.bench_function("anchor-aes-gcm-seal", |b| {
        b.iter(|| {
            aes.encrypt(nonce, black_box(plaintext.as_slice()))
                .expect("seals")
        })
    });
    group.bench_function("anchor-aes-gcm-open", |b| {
        b.iter(|| {
            aes.decrypt(nonce, black_box(sealed.as_slice()))
                .expect("opens")
        })
    });
    group.finish();
}

/// GF(2^8) by log/exp tables with generator 0xE5, as Vault did before 2023.
struct Tables {
    log: [u8; 256],
    exp: [u8; 256],
}

impl Tables {
    fn new() -> Tables {
        let mut tables = Tables {
            log: [0; 256],
            exp: [0; 256],
        };
        let mut x = 1u8;
        for i in 0..255 {
            tables.exp[i] = x;
            tables.log[usize::from(x)] = i as u8;
            x = slow_mul(x, 0xE5);
        }
        tables
    }

    fn mul(&self, a: u8, b: u8) -> u8 {
        if a == 0 || b == 0 {
            return 0;
        }
        let sum =
            (usize::from(self.log[usize::from(a)]) + usize::from(self.log[usize::from(b)])) % 255;
        self.exp[sum]
    }

    fn split(
        &self,
        secret: &[u8],
        threshold: usize,
        xs: &[u8],
        rng: &mut ChaCha20Rng,
    ) -> Vec<Vec<u8>> {
        use rand_core::Rng;
        let mut shares: Vec<Vec<u8>> = xs
            .iter()
            .map(|_| Vec::with_capacity(secret.len() + 1))
            .collect();
        let mut coefficients = vec![0u8; threshold - 1];
        for &s in secret {
            rng.fill_bytes(&mut coefficients);
            for (share, &x) in shares.iter_mut().zip(xs) {
                let mut y = 0;
                for &c in coefficients.iter().rev() {
                    y = self.mul(y, x) ^ c;
                }
                share.push(self.mul(y, x) ^ s);
            }
        }
        for (share, &x) in shares.iter_mut().zip(xs) {
            share.push(x);
        }
        shares
    }
}

fn slow_mul(mut a: u8, mut b: u8) -> u8 {
    let mut product = 0;
    while b != 0 {
        if b & 1 != 0 {
            product ^= a;
        }
        a = (a << 1) ^ if a & 0x80 != 0 { 0x1B } else { 0 };
        b >>= 1;
    }
    product
}

criterion_group!(benches, shamir_benches, transit_benches);
criterion_main!(benches);
