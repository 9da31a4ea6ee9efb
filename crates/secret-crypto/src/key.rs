//! Key material that zeroizes on drop and never prints itself.

use std::fmt;

use rand_core::CryptoRng;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Secret bytes: a key, a recovered secret, a decrypted value.
///
/// The bytes are wiped when the value is dropped, `Debug` prints `Key(..)`, equality runs in
/// constant time, and the only way to read them is [`Key::expose_secret`].
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Key(Vec<u8>);

impl Key {
    /// Takes ownership of `bytes`; they are wiped when the key is dropped.
    pub fn new(bytes: Vec<u8>) -> Self {
        Key(bytes)
    }

    /// Copies `bytes` into a new key.
    pub fn from_slice(bytes: &[u8]) -> Self {
        Key(bytes.to_vec())
    }

    /// `len` bytes drawn from `rng`.
    pub fn random(len: usize, rng: &mut impl CryptoRng) -> Self {
        let mut bytes = vec![0; len];
        rng.fill_bytes(&mut bytes);
        Key(bytes)
    }

    /// The secret bytes. Every caller says, at the call site, why it needs them in the clear.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }

    /// The number of bytes (public: lengths are not secret here).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the key has no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Zeroizing<Vec<u8>>> for Key {
    fn from(mut bytes: Zeroizing<Vec<u8>>) -> Self {
        Key(std::mem::take(&mut *bytes))
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(..)")
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for Key {}

/// The operating system's random number generator, as a [`CryptoRng`].
///
/// It panics only if the operating system cannot provide randomness at all, which no caller could
/// recover from.
pub fn os_rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_bytes_and_equality_compares_them() {
        let key = Key::from_slice(b"hunter2");
        assert_eq!(format!("{key:?}"), "Key(..)");
        assert_eq!(key, Key::new(b"hunter2".to_vec()));
        assert_ne!(key, Key::from_slice(b"hunter3"));
        assert_ne!(key, Key::from_slice(b"hunter"));
    }

    #[test]
    fn random_keys_differ() {
        let mut rng = os_rng();
        assert_ne!(Key::random(32, &mut rng), Key::random(32, &mut rng));
    }
}
