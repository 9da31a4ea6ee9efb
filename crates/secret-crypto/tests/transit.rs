//! Transit behaviour beyond the vectors: version rules, context rules, rewrap, data keys,
//! batches, key files and malformed ciphertexts.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use underhood_secret_crypto::Key;
use underhood_secret_crypto::transit::{
    self, BatchItem, CiphertextProblem, Derivation, KeyType, Params, TransitError, TransitKey,
};

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(3)
}

fn plain() -> Params<'static> {
    Params::default()
}

#[track_caller]
fn check(result: Result<Key, TransitError>, expected: &str) {
    match result {
        Ok(key) => assert_eq!(String::from_utf8_lossy(key.expose_secret()), expected),
        Err(err) => assert_eq!(err.to_string(), expected),
    }
}

#[test]
fn versions_rotate_and_minimums_refuse_old_ciphertexts() {
    let mut rng = rng();
    let mut key = TransitKey::new("k", KeyType::Aes256Gcm96, &mut rng);
    let v1 = key.encrypt(b"one", &plain(), &mut rng).unwrap();
    assert_eq!(key.rotate(&mut rng), 2);
    let v2 = key.encrypt(b"two", &plain(), &mut rng).unwrap();
    assert!(v2.starts_with("vault:v2:"));
    assert_eq!(transit::parse_version(&v1).unwrap(), 1);
    check(key.decrypt(&v1, &plain()), "one");
    // Version 0 means 1, as in Vault.
    check(
        key.decrypt(&v1.replace("vault:v1:", "vault:v0:"), &plain()),
        "one",
    );
    check(
        key.decrypt(&v1.replace("vault:v1:", "vault:v3:"), &plain()),
        "invalid ciphertext: version is too new (v3, latest is v2)",
    );
    key.set_min_decryption_version(2).unwrap();
    check(
        key.decrypt(&v1, &plain()),
        "ciphertext or signature version is disallowed by policy (too old) (v1, minimum is v2)",
    );
    check(key.decrypt(&v2, &plain()), "two");
    assert!(matches!(
        key.set_min_decryption_version(3),
        Err(TransitError::MinVersion { .. })
    ));
    assert!(matches!(
        key.set_min_decryption_version(0),
        Err(TransitError::MinVersion { .. })
    ));
    // Encrypting with a version below min_decryption_version would make undecryptable data.
    let old = Params {
        key_version: Some(1),
        ..plain()
    };
    assert!(matches!(
        key.encrypt(b"x", &old, &mut rng),
        Err(TransitError::EncryptVersion {
            version: 1,
            min: 2,
            latest: 2
        })
    ));
    key.rotate(&mut rng);
    key.set_min_encryption_version(3).unwrap();
    let two = Params {
        key_version: Some(2),
        ..plain()
    };
    assert!(matches!(
        key.encrypt(b"x", &two, &mut rng),
        Err(TransitError::EncryptVersion { .. })
    ));
    assert!(matches!(
        key.set_min_encryption_version(1),
        Err(TransitError::MinVersion { .. })
    ));
}

#[test]
fn context_is_required_exactly_when_the_key_is_derived() {
    let mut rng = rng();
    let direct = TransitKey::new("plain", KeyType::ChaCha20Poly1305, &mut rng);
    let derived =
        TransitKey::with_derivation("tenant", KeyType::Aes256Gcm96, Derivation::Hkdf, &mut rng)
            .unwrap();
    let with_context = Params {
        context: Some(b"tenant-1"),
        ..plain()
    };
    assert!(matches!(
        direct.encrypt(b"x", &with_context, &mut rng),
        Err(TransitError::ContextNotAllowed { .. })
    ));
    assert!(matches!(
        derived.encrypt(b"x", &plain(), &mut rng),
        Err(TransitError::ContextRequired { .. })
    ));
    assert!(matches!(
        derived.encrypt(
            b"x",
            &Params {
                context: Some(b""),
                ..plain()
            },
            &mut rng
        ),
        Err(TransitError::ContextRequired { .. })
    ));
    let ciphertext = derived.encrypt(b"secret", &with_context, &mut rng).unwrap();
    check(derived.decrypt(&ciphertext, &with_context), "secret");
    let other = Params {
        context: Some(b"tenant-2"),
        ..plain()
    };
    check(
        derived.decrypt(&ciphertext, &other),
        "cipher: message authentication failed (key version 1)",
    );
    assert!(matches!(
        TransitKey::with_derivation(
            "k",
            KeyType::Aes128Gcm96,
            Derivation::LegacyCounter,
            &mut rng
        ),
        Err(TransitError::UnsupportedDerivation { .. })
    ));
}

#[test]
fn rewrap_carries_associated_data_and_honours_the_requested_version() {
    let mut rng = rng();
    let mut key = TransitKey::new("k", KeyType::XChaCha20Poly1305, &mut rng);
    let aad = Params {
        associated_data: Some(b"order-7"),
        ..plain()
    };
    let v1 = key.encrypt(b"card", &aad, &mut rng).unwrap();
    key.rotate(&mut rng);
    key.rotate(&mut rng);
    let to_v2 = key
        .rewrap(
            &v1,
            &Params {
                key_version: Some(2),
                ..aad
            },
            &mut rng,
        )
        .unwrap();
    assert!(to_v2.starts_with("vault:v2:"));
    check(key.decrypt(&to_v2, &aad), "card");
    check(
        key.decrypt(&to_v2, &plain()),
        "cipher: message authentication failed (key version 2)",
    );
    assert!(
        key.rewrap(&v1, &plain(), &mut rng).is_err(),
        "rewrap checks the associated data"
    );
}

#[test]
fn data_keys_are_random_and_wrapped() {
    let mut rng = rng();
    let key = TransitKey::new("k", KeyType::Aes128Gcm96, &mut rng);
    for bits in [128, 256, 512] {
        let (data_key, wrapped) = key.data_key(bits, &plain(), &mut rng).unwrap();
        assert_eq!(data_key.len() * 8, bits as usize);
        assert_eq!(key.decrypt(&wrapped, &plain()).unwrap(), data_key);
    }
    assert!(matches!(
        key.data_key(64, &plain(), &mut rng),
        Err(TransitError::DataKeyBits { bits: 64 })
    ));
}

#[test]
fn batches_honour_each_items_key_version() {
    let mut rng = rng();
    let mut key = TransitKey::new("k", KeyType::Aes256Gcm96, &mut rng);
    key.rotate(&mut rng);
    let items = [
        BatchItem {
            input: b"a",
            params: Params {
                key_version: Some(1),
                ..plain()
            },
        },
        BatchItem {
            input: b"b",
            params: plain(),
        },
        BatchItem {
            input: b"c",
            params: Params {
                key_version: Some(9),
                ..plain()
            },
        },
    ];
    let results = key.encrypt_batch(&items, &mut rng);
    let versions: Vec<_> = results
        .iter()
        .map(|r| r.as_ref().map(|c| transit::parse_version(c).unwrap()).ok())
        .collect();
    assert_eq!(versions, [Some(1), Some(2), None]);
    let ciphertexts: Vec<String> = results.into_iter().flatten().collect();
    let to_decrypt: Vec<BatchItem<'_>> = ciphertexts
        .iter()
        .map(|c| BatchItem {
            input: c.as_bytes(),
            params: plain(),
        })
        .collect();
    let plaintexts: Vec<_> = key
        .decrypt_batch(&to_decrypt)
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(plaintexts, [Key::from_slice(b"a"), Key::from_slice(b"b")]);
    let rewrapped = key.rewrap_batch(&to_decrypt, &mut rng);
    assert!(
        rewrapped
            .iter()
            .all(|r| r.as_ref().unwrap().starts_with("vault:v2:"))
    );
}

#[test]
fn malformed_ciphertexts_are_errors_not_panics() {
    let mut rng = rng();
    let key = TransitKey::new("k", KeyType::Aes256Gcm96, &mut rng);
    let problem = |text: &str| match key.decrypt(text, &plain()) {
        Err(TransitError::Malformed { problem }) => problem,
        other => panic!("{text:?}: {other:?}"),
    };
    assert_eq!(problem("hello"), CiphertextProblem::NoPrefix);
    assert_eq!(problem("vault:v:AAAA"), CiphertextProblem::BadVersion);
    assert_eq!(problem("vault:v+1:AAAA"), CiphertextProblem::BadVersion);
    assert_eq!(problem("vault:v1"), CiphertextProblem::BadVersion);
    assert_eq!(
        problem("vault:v99999999999:AAAA"),
        CiphertextProblem::BadVersion
    );
    assert_eq!(problem("vault:v1:!!"), CiphertextProblem::BadBase64);
    assert_eq!(
        problem("vault:v1:AAAA"),
        CiphertextProblem::TooShort { len: 3 }
    );
}

#[test]
fn key_files_round_trip_and_refuse_broken_invariants() {
    let mut rng = rng();
    let mut key = TransitKey::with_derivation(
        "orders",
        KeyType::ChaCha20Poly1305,
        Derivation::Convergent,
        &mut rng,
    )
    .unwrap();
    key.rotate(&mut rng);
    key.set_min_decryption_version(2).unwrap();
    let json = key.to_json();
    let back = TransitKey::from_json(&json).unwrap();
    assert_eq!(
        (
            back.name(),
            back.latest_version(),
            back.min_decryption_version()
        ),
        ("orders", 2, 2)
    );
    assert_eq!(back.derivation(), Derivation::Convergent);
    let debug = format!("{back:?}");
    assert!(
        !debug.contains("versions"),
        "Debug prints no key material: {debug}"
    );
    for (from, to) in [
        ("\"latest_version\": 2", "\"latest_version\": 3"),
        ("\"convergent_version\": 3", "\"convergent_version\": 2"),
        (
            "\"min_decryption_version\": 2",
            "\"min_decryption_version\": 5",
        ),
        (
            "\"type\": \"chacha20-poly1305\"",
            "\"type\": \"aes128-gcm96\"",
        ),
        ("\"type\": \"chacha20-poly1305\"", "\"type\": \"rsa-4096\""),
    ] {
        assert!(json.contains(from), "{from}");
        assert!(
            TransitKey::from_json(&json.replace(from, to)).is_err(),
            "{to}"
        );
    }
    assert!(matches!(
        TransitKey::from_json("{"),
        Err(TransitError::KeyFile { .. })
    ));
}
