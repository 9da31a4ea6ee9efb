//! Helpers shared by the integration tests.

#![allow(dead_code)] // Each test binary uses a different subset of these helpers.

use std::convert::Infallible;

use rand_core::{TryCryptoRng, TryRng};

/// An "RNG" that replays fixed bytes, so vectors with fixed nonces reproduce byte for byte.
pub(crate) struct Replay {
    bytes: Vec<u8>,
    position: usize,
}

impl Replay {
    pub(crate) fn new(bytes: Vec<u8>) -> Self {
        Replay { bytes, position: 0 }
    }
}

impl TryRng for Replay {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        let end = self.position + dst.len();
        assert!(end <= self.bytes.len(), "replay ran out of bytes");
        dst.copy_from_slice(&self.bytes[self.position..end]);
        self.position = end;
        Ok(())
    }
}

impl TryCryptoRng for Replay {}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}
