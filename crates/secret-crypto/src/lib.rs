//! The cryptographic core of a secrets manager, byte-compatible with HashiCorp Vault and OpenBao.
//! It splits keys into Shamir shares, seals a storage barrier under a rotating keyring, and
//! encrypts for applications with versioned transit keys.
//!
//! # Example
//!
//! Split a key into five shares, recover it from three, and encrypt with a transit key.
//!
//! ```
//! use underhood_secret_crypto::transit::{KeyType, Params, TransitKey};
//! use underhood_secret_crypto::{Key, os_rng, shamir};
//!
//! let mut rng = os_rng();
//! let root = Key::random(32, &mut rng);
//! // Splitting needs the key's bytes; each share then goes to its own holder.
//! let shares = shamir::split_checked(root.expose_secret(), 3, 5, &mut rng)?;
//! let recovered = shamir::combine_checked(&[
//!     shares[4].expose_secret(), shares[0].expose_secret(), shares[2].expose_secret(),
//! ])?;
//! assert_eq!(recovered, root);
//! // Two shares are refused instead of giving a wrong key.
//! assert!(shamir::combine_checked(&[shares[0].expose_secret(), shares[1].expose_secret()]).is_err());
//!
//! let mut orders = TransitKey::new("orders", KeyType::Aes256Gcm96, &mut rng);
//! let ciphertext = orders.encrypt(b"card 4111", &Params::default(), &mut rng)?;
//! assert!(ciphertext.starts_with("vault:v1:"));
//! orders.rotate(&mut rng);
//! let rewrapped = orders.rewrap(&ciphertext, &Params::default(), &mut rng)?;
//! assert!(rewrapped.starts_with("vault:v2:"));
//! assert_eq!(orders.decrypt(&rewrapped, &Params::default())?.expose_secret(), b"card 4111");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What this crate refuses to do
//!
//! It implements no cipher: AES-GCM, ChaCha20-Poly1305, HKDF, HMAC and SHA-256 come from the
//! RustCrypto crates. It never prints a secret (`Debug` shows `Key(..)`), and every secret it
//! holds is wiped on drop. It reads no clock: times are arguments. The Shamir field arithmetic
//! does no table lookups and takes no branch on secret data.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

// The README's Rust examples run as doc tests, so they cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod aead;
mod gf256;
mod json;
pub use json::{JsonProblem, JsonProblemKind};
mod key;
pub use key::{Key, os_rng};

pub mod barrier;
pub mod shamir;
pub mod storage;
pub mod transit;
