//! The storage under the barrier (memory or files) and JSON entries inside the barrier.

use serde::Serialize;
use serde::de::DeserializeOwned;
use underhood_secret_crypto::barrier::Barrier;
use underhood_secret_crypto::os_rng;
use underhood_secret_crypto::storage::{FileStorage, MemoryStorage, Storage, StorageError};

use crate::error::ApiError;

/// Where barrier entries live.
#[derive(Debug, Clone)]
pub(crate) enum Backend {
    Memory(MemoryStorage),
    File(FileStorage),
}

impl Backend {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Backend::Memory(_) => "inmem",
            Backend::File(_) => "file",
        }
    }
}

impl Storage for Backend {
    fn get(&self, path: &str) -> Result<Option<Vec<u8>>, StorageError> {
        match self {
            Backend::Memory(s) => s.get(path),
            Backend::File(s) => s.get(path),
        }
    }

    fn put(&mut self, path: &str, value: &[u8]) -> Result<(), StorageError> {
        match self {
            Backend::Memory(s) => s.put(path, value),
            Backend::File(s) => s.put(path, value),
        }
    }

    fn delete(&mut self, path: &str) -> Result<(), StorageError> {
        match self {
            Backend::Memory(s) => s.delete(path),
            Backend::File(s) => s.delete(path),
        }
    }

    fn list(&self) -> Result<Vec<String>, StorageError> {
        match self {
            Backend::Memory(s) => s.list(),
            Backend::File(s) => s.list(),
        }
    }
}

pub(crate) type Vault = Barrier<Backend>;

/// Reads and parses a JSON entry inside the barrier.
pub(crate) fn get_json<T: DeserializeOwned>(
    barrier: &Vault,
    path: &str,
) -> Result<Option<T>, ApiError> {
    let Some(bytes) = barrier.get(path)? else {
        return Ok(None);
    };
    // Stored entries are written by this server; a parse failure is corruption, reported
    // without the entry's contents.
    serde_json::from_slice(bytes.expose_secret())
        .map(Some)
        .map_err(|_| ApiError::Internal(format!("storage: entry {path:?} is corrupt").into()))
}

/// Writes a JSON entry inside the barrier; durable when this returns (file storage fsyncs).
pub(crate) fn put_json<T: Serialize>(
    barrier: &mut Vault,
    path: &str,
    value: &T,
) -> Result<(), ApiError> {
    let bytes = zeroize::Zeroizing::new(
        serde_json::to_vec(value).map_err(|_| ApiError::Internal("cannot encode entry".into()))?,
    );
    barrier.put(path, &bytes, &mut os_rng())?;
    Ok(())
}

/// Every entry path under `prefix` (which ends with `/`).
pub(crate) fn list_prefix(barrier: &Vault, prefix: &str) -> Result<Vec<String>, ApiError> {
    let all = barrier
        .storage()
        .list()
        .map_err(|e| ApiError::Internal(format!("storage: {e}").into()))?;
    Ok(all.into_iter().filter(|p| p.starts_with(prefix)).collect())
}

/// A user-chosen name as a storage path: each `/` segment as `x` + hex, so any UTF-8 name
/// maps to valid storage segments and `a` and `a/b` can both exist.
pub(crate) fn encode_name(name: &str) -> String {
    name.split('/')
        .map(|segment| format!("x{}", hex::encode(segment)))
        .collect::<Vec<_>>()
        .join("/")
}

/// The inverse of [`encode_name`]; `None` for paths it did not make.
pub(crate) fn decode_name(encoded: &str) -> Option<String> {
    let mut segments = Vec::new();
    for segment in encoded.split('/') {
        let bytes = hex::decode(segment.strip_prefix('x')?).ok()?;
        segments.push(String::from_utf8(bytes).ok()?);
    }
    Some(segments.join("/"))
}

/// A random UUID-shaped identifier (version 4 layout).
pub(crate) fn uuid() -> String {
    let mut bytes = [0u8; 16];
    rand_core::Rng::fill_bytes(&mut os_rng(), &mut bytes);
    bytes[6] = (bytes[6] & 0x0F) | 0x40;
    bytes[8] = (bytes[8] & 0x3F) | 0x80;
    let h = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_storage_paths() {
        for name in ["a", "a/b", "", "a//b", "../x", ".hidden/é", "a/"] {
            let encoded = encode_name(name);
            assert!(encoded.split('/').all(|s| s.starts_with('x')), "{encoded}");
            assert_eq!(decode_name(&encoded).as_deref(), Some(name));
        }
        assert_eq!(decode_name("y00"), None);
    }
}
