//! Every public function of the crate called with arbitrary arguments: an answer or a typed
//! error, never a panic; and no error, `Display` or `Debug`, ever quotes secret material given
//! to it (issue 17).

use std::time::{Duration, SystemTime};

use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use underhood_secret_crypto::Key;
use underhood_secret_crypto::barrier::{
    self, Barrier, Keyring, RotationConfig, SealConfig, TermKey,
};
use underhood_secret_crypto::shamir::{self, CheckedShare, Share};
use underhood_secret_crypto::storage::{MemoryStorage, Storage};
use underhood_secret_crypto::transit::{self, BatchItem, Derivation, KeyType, Params, TransitKey};
use zeroize::Zeroize;

/// Text that looks like key material: base64, hex, or a marker word.
const SECRETS: &[&str] = &[
    "c2VjcmV0LWtleS1tYXRlcmlhbC0wMTIzNDU2Nzg5YWJjZGVm",
    "SECRETSECRETSECRET",
    "deadbeefcafebabe0123456789abcdefXYZ",
    "hunter2hunter2",
];

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// Asserts an error mentions none of the secret-looking values, in `Display` or `Debug`.
#[track_caller]
fn assert_quiet(err: &impl std::fmt::Debug, display: String) {
    let debug = format!("{err:?}");
    for secret in SECRETS {
        for text in [&display, &debug] {
            assert!(!text.contains(secret), "{secret} in {text}");
            // Nor a long piece of it.
            assert!(!text.contains(&secret[..10]), "part of {secret} in {text}");
        }
    }
}

fn key_types() -> impl Strategy<Value = KeyType> {
    prop::sample::select(vec![
        "aes128-gcm96",
        "aes256-gcm96",
        "chacha20-poly1305",
        "xchacha20-poly1305",
    ])
    .prop_map(|name| KeyType::parse(name).unwrap())
}

fn derivations() -> impl Strategy<Value = Derivation> {
    prop::sample::select(vec![
        Derivation::Direct,
        Derivation::Hkdf,
        Derivation::LegacyCounter,
        Derivation::Convergent,
    ])
}

fn params<'a>(
    context: &'a Option<Vec<u8>>,
    ad: &'a Option<Vec<u8>>,
    version: Option<u32>,
) -> Params<'a> {
    Params {
        context: context.as_deref(),
        associated_data: ad.as_deref(),
        key_version: version,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn shamir_takes_any_arguments(
        secret in prop::collection::vec(any::<u8>(), 0..40),
        threshold in 0usize..300,
        parts in 0usize..300,
        xs in prop::collection::vec(any::<u8>(), 0..8),
        coefficients in prop::collection::vec(any::<u8>(), 0..64),
        shares in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..6),
        verify in 0usize..10,
        seed in any::<u64>(),
    ) {
        let mut rng = rng(seed);
        let _ = shamir::split(&secret, threshold.min(20), parts.min(20), &mut rng);
        let _ = shamir::split(&secret, threshold, parts, &mut rng).map(|s| s.len());
        let _ = shamir::split_checked(&secret, threshold.min(20), parts.min(20), &mut rng);
        let _ = shamir::split_with_coefficients(&secret, threshold.min(8), &xs, &coefficients);
        let _ = shamir::combine(&shares);
        let _ = shamir::combine_verified(&shares, verify);
        let _ = shamir::combine_checked(&shares);
        for bytes in &shares {
            if let Ok(mut share) = Share::from_bytes(bytes.clone()) {
                let _ = (share.x(), format!("{share:?}"), share.expose_secret().len());
                share.zeroize();
                let _ = (share.x(), format!("{share:?}"), share.expose_secret().len());
            }
            if let Ok(mut share) = CheckedShare::parse(bytes) {
                let _ = (share.threshold(), share.x(), share.set_id(), format!("{share:?}"));
                share.zeroize();
                let _ = (share.threshold(), share.x(), share.set_id(), format!("{share:?}"));
            }
        }
    }

    #[test]
    fn transit_takes_any_arguments(
        key_type in key_types(),
        derivation in derivations(),
        versions in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..4),
        text in "(?s).{0,80}",
        bytes in prop::collection::vec(any::<u8>(), 0..64),
        context in prop::option::of(prop::collection::vec(any::<u8>(), 0..8)),
        ad in prop::option::of(prop::collection::vec(any::<u8>(), 0..8)),
        version in prop::option::of(0u32..6),
        min in 0u32..6,
        bits in prop::sample::select(vec![0u32, 128, 200, 256, 512, 1024]),
        seed in any::<u64>(),
    ) {
        let mut rng = rng(seed);
        let _ = KeyType::parse(&text);
        let _ = transit::parse_version(&text);
        let _ = TransitKey::from_json(&text);
        let _ = TransitKey::from_versions(&text, key_type, derivation, versions.into_iter().map(Key::new).collect());
        let Ok(mut key) = TransitKey::with_derivation("k", key_type, derivation, &mut rng) else {
            return Ok(());
        };
        let params = params(&context, &ad, version);
        let _ = key.encrypt(&bytes, &params, &mut rng);
        let _ = key.decrypt(&text, &params);
        let _ = key.rewrap(&text, &params, &mut rng);
        let _ = key.data_key(bits, &params, &mut rng);
        let items = [BatchItem { input: &bytes, params }, BatchItem { input: text.as_bytes(), params }];
        let _ = key.encrypt_batch(&items, &mut rng);
        let _ = key.decrypt_batch(&items);
        let _ = key.rewrap_batch(&items, &mut rng);
        key.rotate(&mut rng);
        let _ = key.set_min_decryption_version(min);
        let _ = key.set_min_encryption_version(min);
        let _ = (key.name(), key.key_type(), key.derivation(), key.latest_version());
        let _ = (key.min_decryption_version(), key.min_encryption_version());
        let json = key.to_json();
        prop_assert!(TransitKey::from_json(&json).is_ok());
        let _ = key.encrypt(&bytes, &params, &mut rng);
    }

    #[test]
    fn barrier_takes_any_arguments(
        bytes in prop::collection::vec(any::<u8>(), 0..96),
        path in "[a-z/]{0,12}",
        shares in 0u8..8,
        threshold in 0u8..8,
        seed in any::<u64>(),
    ) {
        let mut rng = rng(seed);
        let key = Key::new(bytes.clone());
        let _ = barrier::entry_term(&path, &bytes);
        let _ = barrier::decrypt_entry(&key, &path, &bytes);
        let _ = barrier::encrypt_entry(&Key::random(32, &mut rng), 1, &path, &bytes, &mut rng);
        let _ = TermKey::from_json(&bytes);
        let _ = Keyring::from_json(&bytes);
        let _ = Keyring::unseal(&key, &bytes);
        let _ = RotationConfig::default().sanitized();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        if let Ok(mut keyring) = Keyring::new(Key::random(32, &mut rng), key.clone(), now) {
            let _ = keyring.decrypt(&path, &bytes);
            let _ = keyring.apply_upgrade(&path, &bytes);
            let _ = keyring.rotate(now, &mut rng);
        }
        let config = SealConfig { shares, threshold };
        let Ok((mut sealed, unseal_keys)) = Barrier::initialize(MemoryStorage::new(), config, now, &mut rng) else {
            return Ok(());
        };
        let _ = sealed.unseal(&bytes);
        let _ = (sealed.progress(), sealed.is_sealed(), sealed.config());
        sealed.reset_unseal();
        for share in &unseal_keys {
            let _ = sealed.unseal(share.expose_secret());
        }
        let _ = sealed.put(&path, &bytes, &mut rng);
        let _ = sealed.get(&path);
        let _ = sealed.delete(&path);
        let _ = sealed.rotate(now, &mut rng);
        let _ = sealed.compact(&mut rng);
        sealed.seal();
        // Any bytes in place of the stored seal configuration: an error or a barrier.
        let mut storage = sealed.storage().clone();
        storage.put(barrier::SEAL_CONFIG_PATH, &bytes).unwrap();
        let _ = Barrier::open(storage);
    }
}

#[test]
fn shamir_accessors_and_debug_survive_zeroize_and_threshold_zero() {
    let mut rng = rng(7);
    let shares = shamir::split(b"key", 2, 3, &mut rng).unwrap();
    let bytes: Vec<&[u8]> = shares.iter().map(Share::expose_secret).collect();
    for threshold in [0, 1] {
        assert_eq!(
            shamir::combine_verified(&bytes, threshold),
            Err(shamir::ShamirError::ThresholdTooSmall { threshold })
        );
    }
    let mut share = shares[0].clone();
    share.zeroize();
    assert_eq!(share.x(), 0);
    assert_eq!(format!("{share:?}"), "Share { x: 0, .. }");
    let mut checked = shamir::split_checked(b"key", 2, 3, &mut rng)
        .unwrap()
        .remove(0);
    checked.zeroize();
    assert_eq!(
        (checked.threshold(), checked.x(), checked.set_id()),
        (0, 0, [0; 8])
    );
    assert_eq!(
        format!("{checked:?}"),
        "CheckedShare { threshold: 0, x: 0, .. }"
    );
}

#[test]
fn no_error_quotes_a_secret() {
    let mut rng = rng(11);
    let [b64, word, hex, short] = SECRETS else {
        unreachable!()
    };
    // Transit key files with key material in the wrong places.
    let good = TransitKey::new("k", KeyType::Aes256Gcm96, &mut rng).to_json();
    let good: serde_json::Value = serde_json::from_str(&good).unwrap();
    let mut files = vec![
        format!(r#"{{"name":"k","keys":"{b64}"}}"#),
        format!(r#"{{"name":"k","keys":{{"1":"{b64}"}}}}"#),
        format!(r#"{{"name":"k","keys":{{"{b64}":1}}}}"#),
        format!(r#"{{"name":"{word}","type":"{word}"}}"#),
        format!(r#"{b64}"#),
        format!(r#"{{"keys":["{hex}"]"#),
        format!(r#"{{"name":"k"}} {word}"#),
    ];
    for field in good.as_object().unwrap().keys() {
        let mut broken = good.clone();
        broken[field] = serde_json::json!([b64, word, {"k": hex}, short]);
        files.push(broken.to_string());
        broken[field] = serde_json::json!(word);
        files.push(broken.to_string());
    }
    let mut refused = 0;
    for file in &files {
        // A string `name` is a valid key file; everything else here is refused.
        if let Err(err) = TransitKey::from_json(file) {
            assert_quiet(&err, err.to_string());
            refused += 1;
        }
        for parse in [
            TermKey::from_json(file.as_bytes()).err(),
            Keyring::from_json(file.as_bytes()).err(),
        ] {
            let err = parse.expect("not a keyring");
            assert_quiet(&err, err.to_string());
        }
    }
    assert!(refused + 1 >= files.len(), "{refused} of {}", files.len());
    // Ciphertexts, contexts and shares that carry the secret.
    let key =
        TransitKey::with_derivation("k", KeyType::Aes256Gcm96, Derivation::Hkdf, &mut rng).unwrap();
    for ciphertext in [
        format!("vault:v1:{b64}"),
        format!("vault:v{word}:{b64}"),
        (*word).to_owned(),
        format!("vault:v1:{hex}"),
    ] {
        let context = Some(word.as_bytes().to_vec());
        let params = params(&context, &None, None);
        let err = key.decrypt(&ciphertext, &params).unwrap_err();
        assert_quiet(&err, err.to_string());
        let err = key.rewrap(&ciphertext, &params, &mut rng).unwrap_err();
        assert_quiet(&err, err.to_string());
        let err = transit::parse_version(&ciphertext).err();
        if let Some(err) = err {
            assert_quiet(&err, err.to_string());
        }
    }
    let err = KeyType::parse(word).unwrap_err();
    // A key type name is not secret, but must not be echoed at length either way.
    let _ = err.to_string();
    for shares in [
        vec![b64.as_bytes(), hex.as_bytes()],
        vec![word.as_bytes(), word.as_bytes()],
        vec![short.as_bytes()],
    ] {
        for err in [
            shamir::combine(&shares).err(),
            shamir::combine_verified(&shares, 2).err(),
            shamir::combine_checked(&shares).err(),
        ]
        .into_iter()
        .flatten()
        {
            assert_quiet(&err, err.to_string());
        }
    }
    // A barrier whose seal configuration and entries were replaced by secrets.
    let now = SystemTime::UNIX_EPOCH;
    let (barrier_sealed, unseal) = Barrier::initialize(
        MemoryStorage::new(),
        SealConfig {
            shares: 3,
            threshold: 2,
        },
        now,
        &mut rng,
    )
    .unwrap();
    for junk in [
        format!(r#"{{"secret_shares":"{b64}","secret_threshold":2}}"#),
        (*word).to_owned(),
        format!(r#"{{"{b64}":1}}"#),
    ] {
        let mut storage = barrier_sealed.storage().clone();
        storage
            .put(barrier::SEAL_CONFIG_PATH, junk.as_bytes())
            .unwrap();
        let err = Barrier::open(storage)
            .err()
            .expect("junk seal config refused");
        assert_quiet(&err, err.to_string());
    }
    let mut storage = barrier_sealed.storage().clone();
    storage.put(barrier::ROOT_KEY_PATH, b64.as_bytes()).unwrap();
    let mut opened = Barrier::open(storage).unwrap();
    let mut errors = Vec::new();
    for share in &unseal {
        if let Err(err) = opened.unseal(share.expose_secret()) {
            errors.push(err);
        }
    }
    if let Err(err) = opened.unseal(hex.as_bytes()) {
        errors.push(err);
    }
    assert!(!errors.is_empty());
    for err in &errors {
        assert_quiet(err, err.to_string());
    }
    let entry_err =
        barrier::decrypt_entry(&Key::from_slice(word.as_bytes()), "p", b64.as_bytes()).unwrap_err();
    assert_quiet(&entry_err, entry_err.to_string());
}
