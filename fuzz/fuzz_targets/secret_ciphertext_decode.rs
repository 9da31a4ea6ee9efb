//! Any bytes as a transit ciphertext, a barrier entry, keyring JSON or a transit key file:
//! each decoder returns an error or a value, and never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use underhood_secret_crypto::Key;
use underhood_secret_crypto::barrier::{self, Keyring, TermKey};
use underhood_secret_crypto::transit::{self, Derivation, KeyType, Params, TransitKey};

fuzz_target!(|data: &[u8]| {
    let key32 = Key::new(vec![7; 32]);
    let _ = barrier::decrypt_entry(&key32, "core/keyring", data);
    let _ = barrier::decrypt_entry(&Key::new(vec![7; 16]), "", data);
    let _ = Keyring::unseal(&key32, data);
    let _ = Keyring::from_json(data);
    let _ = TermKey::from_json(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = transit::parse_version(text);
    let _ = TransitKey::from_json(text);
    let context = Params {
        context: Some(b"ctx"),
        ..Params::default()
    };
    for key_type in KeyType::ALL {
        for derivation in [Derivation::Direct, Derivation::Hkdf, Derivation::Convergent] {
            let versions = vec![
                Key::new(vec![1; key_type.key_len()]),
                Key::new(vec![2; key_type.key_len()]),
            ];
            let key = TransitKey::from_versions("fuzz", key_type, derivation, versions)
                .expect("valid key");
            let params = if derivation == Derivation::Direct {
                Params::default()
            } else {
                context
            };
            let _ = key.decrypt(text, &params);
        }
    }
});
