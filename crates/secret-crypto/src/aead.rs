//! The one place that calls the AEAD crates: seal and open with a key type's cipher.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use chacha20poly1305::{ChaCha20Poly1305, XChaCha20Poly1305};

/// An AEAD and its key and nonce sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cipher {
    Aes128Gcm,
    Aes256Gcm,
    ChaCha20Poly1305,
    XChaCha20Poly1305,
}

/// The key or nonce has the wrong length for the cipher, or authentication failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AeadFailure;

impl Cipher {
    pub(crate) fn nonce_len(self) -> usize {
        match self {
            Cipher::XChaCha20Poly1305 => 24,
            _ => 12,
        }
    }

    pub(crate) fn seal(
        self,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, AeadFailure> {
        self.check_nonce(nonce)?;
        let payload = Payload {
            msg: plaintext,
            aad,
        };
        match self {
            Cipher::Aes128Gcm => aead_seal::<Aes128Gcm>(key, nonce, payload),
            Cipher::Aes256Gcm => aead_seal::<Aes256Gcm>(key, nonce, payload),
            Cipher::ChaCha20Poly1305 => aead_seal::<ChaCha20Poly1305>(key, nonce, payload),
            Cipher::XChaCha20Poly1305 => aead_seal::<XChaCha20Poly1305>(key, nonce, payload),
        }
    }

    pub(crate) fn open(
        self,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, AeadFailure> {
        self.check_nonce(nonce)?;
        let payload = Payload {
            msg: ciphertext,
            aad,
        };
        match self {
            Cipher::Aes128Gcm => aead_open::<Aes128Gcm>(key, nonce, payload),
            Cipher::Aes256Gcm => aead_open::<Aes256Gcm>(key, nonce, payload),
            Cipher::ChaCha20Poly1305 => aead_open::<ChaCha20Poly1305>(key, nonce, payload),
            Cipher::XChaCha20Poly1305 => aead_open::<XChaCha20Poly1305>(key, nonce, payload),
        }
    }

    fn check_nonce(self, nonce: &[u8]) -> Result<(), AeadFailure> {
        if nonce.len() == self.nonce_len() {
            Ok(())
        } else {
            Err(AeadFailure)
        }
    }
}

fn aead_seal<A: Aead + KeyInit>(
    key: &[u8],
    nonce: &[u8],
    payload: Payload<'_, '_>,
) -> Result<Vec<u8>, AeadFailure> {
    let cipher = A::new_from_slice(key).map_err(|_| AeadFailure)?;
    // The caller checked the nonce length, so from_slice cannot panic.
    cipher
        .encrypt(
            aes_gcm::aead::generic_array::GenericArray::from_slice(nonce),
            payload,
        )
        .map_err(|_| AeadFailure)
}

fn aead_open<A: Aead + KeyInit>(
    key: &[u8],
    nonce: &[u8],
    payload: Payload<'_, '_>,
) -> Result<Vec<u8>, AeadFailure> {
    let cipher = A::new_from_slice(key).map_err(|_| AeadFailure)?;
    // The caller checked the nonce length, so from_slice cannot panic.
    cipher
        .decrypt(
            aes_gcm::aead::generic_array::GenericArray::from_slice(nonce),
            payload,
        )
        .map_err(|_| AeadFailure)
}
