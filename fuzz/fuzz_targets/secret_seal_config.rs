//! Any bytes as a barrier's stored seal configuration, keyring or term key, or a transit key
//! file: an error that quotes none of it, or a value that survives its own round trip.
//! `crates/secret-crypto/tests/fuzz_corpus.rs` replays `fuzz/corpus/secret_seal_config/`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use underhood_secret_crypto::barrier::{self, Barrier, Keyring, TermKey};
use underhood_secret_crypto::storage::{MemoryStorage, Storage};
use underhood_secret_crypto::transit::TransitKey;

fuzz_target!(|data: &[u8]| {
    let mut storage = MemoryStorage::new();
    storage
        .put(barrier::SEAL_CONFIG_PATH, data)
        .expect("memory storage takes any bytes");
    if let Ok(opened) = Barrier::open(storage) {
        let config = opened.config();
        assert!(opened.is_sealed());
        let _ = (config.shares, config.threshold, opened.progress());
    }
    if let Ok(key) = TermKey::from_json(data) {
        let again = TermKey::from_json(&key.to_json()).expect("a printed term key parses");
        assert_eq!(again.term(), key.term());
    }
    if let Ok(keyring) = Keyring::from_json(data) {
        let again = Keyring::from_json(&keyring.to_json()).expect("a printed keyring parses");
        assert_eq!(again.active_term(), keyring.active_term());
    }
    if let Ok(text) = std::str::from_utf8(data) {
        match TransitKey::from_json(text) {
            Ok(key) => {
                let again = TransitKey::from_json(&key.to_json()).expect("a printed key parses");
                assert_eq!(again.latest_version(), key.latest_version());
            }
            Err(err) => {
                // Errors name fields and positions; a long run of the input never shows up.
                let message = format!("{err} {err:?}");
                if text.len() >= 24 && text.is_char_boundary(24) {
                    assert!(!message.contains(&text[..24]), "{message}");
                }
            }
        }
    }
});
