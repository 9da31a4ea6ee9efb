//! Replays the committed corpus of the `secret_seal_config` fuzz target
//! (`fuzz/corpus/secret_seal_config/`) with the target's own checks, so a crash kept there
//! fails here.
// The corpus reader has twins in `crates/cpuflags/tests/fuzz_corpus.rs` and
// `crates/acl-model/tests/fuzz_corpus.rs`.

use std::fs;
use std::path::PathBuf;

use underhood_secret_crypto::barrier::{self, Barrier, Keyring, TermKey};
use underhood_secret_crypto::storage::{MemoryStorage, Storage};
use underhood_secret_crypto::transit::TransitKey;

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../../fuzz/corpus/{target}"));
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    files
}

#[test]
fn seal_configs_and_key_files_round_trip_or_are_refused_quietly() {
    let (mut opened, mut keys) = (0, 0);
    for (name, data) in corpus("secret_seal_config") {
        let mut storage = MemoryStorage::new();
        storage.put(barrier::SEAL_CONFIG_PATH, &data).unwrap();
        if let Ok(barrier) = Barrier::open(storage) {
            assert!(barrier.is_sealed(), "{name}");
            opened += 1;
        }
        if let Ok(key) = TermKey::from_json(&data) {
            assert_eq!(
                TermKey::from_json(&key.to_json()).unwrap().term(),
                key.term()
            );
        }
        if let Ok(keyring) = Keyring::from_json(&data) {
            let again = Keyring::from_json(&keyring.to_json()).unwrap();
            assert_eq!(again.active_term(), keyring.active_term());
        }
        let text = String::from_utf8(data).unwrap();
        match TransitKey::from_json(&text) {
            Ok(key) => {
                let again = TransitKey::from_json(&key.to_json()).unwrap();
                assert_eq!(again.latest_version(), key.latest_version(), "{name}");
                keys += 1;
            }
            Err(err) => {
                let message = format!("{err} {err:?}");
                if text.len() >= 24 {
                    assert!(!message.contains(&text[..24]), "{name}: {message}");
                }
                assert!(!message.contains("c2VjcmV0"), "{name}: {message}");
            }
        }
    }
    assert!(opened >= 1 && keys >= 2, "{opened} {keys}");
}
