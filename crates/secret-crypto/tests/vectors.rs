//! The shared test vectors in `testdata/`: Shamir splits with explicit randomness, Vault's exact
//! error strings, barrier entries and transit ciphertexts with fixed keys and nonces.

mod common;

use common::{Replay, hex, unhex};
use serde_json::Value;
use std::time::UNIX_EPOCH;
use underhood_secret_crypto::barrier::{self, BarrierError, Keyring, KeyringProblem, TermKey};
use underhood_secret_crypto::shamir::{self, ShamirError};
use underhood_secret_crypto::transit::{Derivation, KeyType, Params, TransitKey};
use underhood_secret_crypto::{Key, os_rng};

fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("test data is JSON")
}

fn str_of<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} in {v}"))
}

fn usize_of(v: &Value, field: &str) -> usize {
    v[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} in {v}")) as usize
}

#[test]
fn shamir_vectors_split_byte_for_byte_and_every_threshold_subset_recombines() {
    let data = json(include_str!(
        "../testdata/shamir_deterministic_vectors.json"
    ));
    let vectors = data["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 5);
    for v in vectors {
        let secret = unhex(str_of(v, "secret_hex"));
        let threshold = usize_of(v, "threshold");
        let xs: Vec<u8> = v["x_coordinates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as u8)
            .collect();
        // The vectors list each byte's polynomial with its constant term (the secret byte) first.
        let mut coefficients = Vec::new();
        for (poly, &s) in v["coefficients_hex_per_secret_byte"]
            .as_array()
            .unwrap()
            .iter()
            .zip(&secret)
        {
            let poly = unhex(poly.as_str().unwrap());
            assert_eq!(poly[0], s);
            coefficients.extend_from_slice(&poly[1..]);
        }
        let expected: Vec<String> = v["shares_hex"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect();
        let shares =
            shamir::split_with_coefficients(&secret, threshold, &xs, &coefficients).unwrap();
        let got: Vec<String> = shares.iter().map(|s| hex(s.expose_secret())).collect();
        assert_eq!(got, expected, "{v}");

        let raw: Vec<Vec<u8>> = expected.iter().map(|s| unhex(s)).collect();
        for subset in subsets(raw.len(), threshold) {
            let picked: Vec<&[u8]> = subset.iter().map(|&i| raw[i].as_slice()).collect();
            assert_eq!(
                shamir::combine(&picked).unwrap().expose_secret(),
                secret.as_slice()
            );
            assert_eq!(
                shamir::combine_verified(&picked, threshold)
                    .unwrap()
                    .expose_secret(),
                secret.as_slice()
            );
        }
        assert_eq!(
            shamir::combine_verified(&raw, threshold)
                .unwrap()
                .expose_secret(),
            secret.as_slice()
        );
    }
}

#[track_caller]
fn check_error(result: Result<Key, ShamirError>, vault_error: &str) -> ShamirError {
    let err = result.expect_err(vault_error);
    let text = err.to_string();
    assert!(
        text.starts_with(vault_error),
        "{text:?} does not start with Vault's {vault_error:?}"
    );
    err
}

#[test]
fn shamir_error_cases_use_vaults_words_and_quiet_cases_are_reproduced_or_refused() {
    let cases = json(include_str!("../testdata/vault_shamir_error_cases.json"));
    let mut rng = os_rng();
    for case in cases.as_array().unwrap() {
        let note = str_of(case, "note");
        match str_of(case, "op") {
            "split" => {
                let secret = case
                    .get("secret_hex")
                    .map(|s| unhex(s.as_str().unwrap()))
                    .unwrap_or_default();
                let result = shamir::split(
                    &secret,
                    usize_of(case, "threshold"),
                    usize_of(case, "parts"),
                    &mut rng,
                );
                match case.get("vault_error") {
                    Some(error) => {
                        check_error(
                            result.map(|_| Key::new(Vec::new())),
                            error.as_str().unwrap(),
                        );
                    }
                    None => assert_eq!(result.unwrap().len(), usize_of(case, "parts"), "{note}"),
                }
            }
            "combine" => {
                let shares: Vec<Vec<u8>> = case["shares_hex"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| unhex(s.as_str().unwrap()))
                    .collect();
                if let Some(error) = case.get("vault_error") {
                    check_error(shamir::combine(&shares), error.as_str().unwrap());
                    check_error(
                        shamir::combine_verified(&shares, 2),
                        error.as_str().unwrap(),
                    );
                } else if note.contains("x = 0") {
                    // Vault returns the y of an x = 0 share as the secret; we refuse it.
                    assert_eq!(
                        shamir::combine(&shares),
                        Err(ShamirError::ZeroX { index: 0 }),
                        "{note}"
                    );
                } else {
                    // Below threshold Vault returns garbage; `combine` is byte-compatible, and
                    // `combine_verified`, knowing t = 3, refuses.
                    let garbage = unhex(str_of(case, "vault_result_hex"));
                    assert_eq!(
                        shamir::combine(&shares).unwrap().expose_secret(),
                        garbage.as_slice(),
                        "{note}"
                    );
                    assert_eq!(
                        shamir::combine_verified(&shares, 3),
                        Err(ShamirError::InsufficientShares { have: 2, need: 3 })
                    );
                }
            }
            op => panic!("unknown op {op}"),
        }
    }
}

fn barrier_vectors() -> Vec<Value> {
    json(include_str!(
        "../testdata/vault_barrier_transit_vectors.json"
    ))["barrier"]
        .as_array()
        .unwrap()
        .clone()
}

fn barrier_vector(name: &str) -> Value {
    barrier_vectors()
        .into_iter()
        .find(|v| v["Name"] == name)
        .unwrap()
}

#[test]
fn barrier_entries_encrypt_byte_for_byte_and_decrypt() {
    for v in barrier_vectors() {
        let key = Key::new(unhex(str_of(&v, "KeyHex")));
        let path = str_of(&v, "Path");
        let plaintext = unhex(str_of(&v, "PlaintextHex"));
        let stored = unhex(str_of(&v, "StoredValueHex"));
        let term = v["Term"].as_u64().unwrap() as u32;
        assert_eq!(barrier::entry_term(path, &stored).unwrap(), term);
        assert_eq!(
            barrier::decrypt_entry(&key, path, &stored)
                .unwrap()
                .expose_secret(),
            plaintext.as_slice(),
            "{}",
            v["Name"]
        );
        if v["Version"] == 2 {
            let mut nonce = Replay::new(unhex(str_of(&v, "NonceHex")));
            let entry = barrier::encrypt_entry(&key, term, path, &plaintext, &mut nonce).unwrap();
            assert_eq!(hex(&entry), hex(&stored), "{}", v["Name"]);
        }
        // The path is authenticated in version 2: the same bytes elsewhere do not open.
        if v["Version"] == 2 && !path.is_empty() {
            assert!(matches!(
                barrier::decrypt_entry(&key, "elsewhere", &stored),
                Err(BarrierError::Authentication { .. })
            ));
        }
    }
}

#[test]
fn keyring_opens_round_trips_its_json_exactly_and_decrypts_every_term() {
    let v = barrier_vector("keyring");
    let root = Key::new(unhex(str_of(&v, "KeyHex")));
    let keyring = Keyring::unseal(&root, &unhex(str_of(&v, "StoredValueHex"))).unwrap();
    assert_eq!(keyring.active_term(), 2);
    assert_eq!(
        keyring.terms().map(TermKey::term).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(
        keyring
            .terms()
            .map(TermKey::encryptions)
            .collect::<Vec<_>>(),
        [0, 42]
    );
    assert_eq!(keyring.root_key(), &root);
    assert_eq!(
        keyring.to_json().as_slice(),
        str_of(&v, "PlaintextUTF8").as_bytes()
    );
    // Term 2 wrote the v2 entry, term 1 the legacy v1 one: both open through the keyring.
    for name in [
        "entry-v2",
        "entry-v1-legacy",
        "entry-empty-plaintext",
        "entry-v2-empty-path",
    ] {
        let e = barrier_vector(name);
        let opened = keyring
            .decrypt(str_of(&e, "Path"), &unhex(str_of(&e, "StoredValueHex")))
            .unwrap();
        assert_eq!(
            hex(opened.expose_secret()),
            str_of(&e, "PlaintextHex"),
            "{name}"
        );
    }
    let wrong = Key::new(vec![0; 32]);
    assert!(matches!(
        Keyring::unseal(&wrong, &unhex(str_of(&v, "StoredValueHex"))),
        Err(BarrierError::WrongRootKey)
    ));
    let copy = barrier_vector("root-key-copy");
    assert!(matches!(
        Keyring::unseal(&root, &unhex(str_of(&copy, "StoredValueHex"))),
        Err(BarrierError::KeyringTerm { term: 2 })
    ));
}

#[test]
fn root_key_copy_and_upgrade_entries_carry_vaults_key_json() {
    let copy = barrier_vector("root-key-copy");
    let key = Key::new(unhex(str_of(&copy, "KeyHex")));
    let json = barrier::decrypt_entry(
        &key,
        str_of(&copy, "Path"),
        &unhex(str_of(&copy, "StoredValueHex")),
    )
    .unwrap();
    let term_key = TermKey::from_json(json.expose_secret()).unwrap();
    assert_eq!(term_key.install_time(), "0001-01-01T00:00:00Z");
    assert_eq!(
        term_key.to_json().as_slice(),
        str_of(&copy, "PlaintextUTF8").as_bytes()
    );

    // A standby with only term 1 installs term 2 from the upgrade entry.
    let upgrade = barrier_vector("upgrade-1-to-2");
    let term1 = Key::new(unhex(str_of(&upgrade, "KeyHex")));
    let mut standby = Keyring::new(Key::new(vec![0; 32]), term1, UNIX_EPOCH).unwrap();
    let term = standby
        .apply_upgrade(
            str_of(&upgrade, "Path"),
            &unhex(str_of(&upgrade, "StoredValueHex")),
        )
        .unwrap();
    assert_eq!((term, standby.active_term()), (2, 2));
    let entry = barrier_vector("entry-v2");
    let opened = standby
        .decrypt("secret/data/foo", &unhex(str_of(&entry, "StoredValueHex")))
        .unwrap();
    assert_eq!(opened.expose_secret(), br#"{"password":"hunter2"}"#);
}

#[test]
fn an_aes128_root_opens_but_an_empty_keyring_is_refused() {
    let v = barrier_vector("aes128-root");
    let root = Key::new(unhex(str_of(&v, "KeyHex")));
    assert!(matches!(
        Keyring::unseal(&root, &unhex(str_of(&v, "StoredValueHex"))),
        Err(BarrierError::Keyring {
            problem: KeyringProblem::Empty
        })
    ));
}

#[test]
fn transit_vectors_encrypt_byte_for_byte_and_decrypt() {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.decode(s).unwrap();
    let data = json(include_str!(
        "../testdata/vault_barrier_transit_vectors.json"
    ));
    for v in data["transit"].as_array().unwrap() {
        let name = str_of(v, "name");
        let key_type = KeyType::parse(str_of(v, "type")).unwrap();
        let derivation = match (
            v["derived"].as_bool().unwrap(),
            v["convergent_encryption"].as_bool().unwrap(),
            v["kdf"].as_str(),
        ) {
            (false, _, _) => Derivation::Direct,
            (true, true, _) => Derivation::Convergent,
            (true, false, Some("hkdf_sha256")) => Derivation::Hkdf,
            (true, false, Some("hmac_sha256_counter")) => Derivation::LegacyCounter,
            other => panic!("{name}: {other:?}"),
        };
        let version = v["key_version"].as_u64().unwrap() as usize;
        // Earlier versions get unrelated keys: the vector exercises only its own.
        let mut versions: Vec<Key> = (1..version)
            .map(|_| Key::random(key_type.key_len(), &mut os_rng()))
            .collect();
        versions.push(Key::new(unhex(str_of(v, "key_hex"))));
        let key = TransitKey::from_versions(name, key_type, derivation, versions).unwrap();
        let context = v.get("context_b64").map(|c| b64(c.as_str().unwrap()));
        let aad = v
            .get("associated_data_b64")
            .map(|c| b64(c.as_str().unwrap()));
        let params = Params {
            context: context.as_deref(),
            associated_data: aad.as_deref(),
            key_version: Some(version as u32),
        };
        let plaintext = b64(str_of(v, "plaintext_b64"));
        let mut nonce = Replay::new(unhex(str_of(v, "nonce_hex")));
        let ciphertext = key.encrypt(&plaintext, &params, &mut nonce).unwrap();
        assert_eq!(ciphertext, str_of(v, "ciphertext"), "{name}");
        let decrypted = key.decrypt(str_of(v, "ciphertext"), &params).unwrap();
        assert_eq!(decrypted.expose_secret(), plaintext.as_slice(), "{name}");
    }
}

/// Every `k`-element subset of `0..n`, in lexicographic order.
fn subsets(n: usize, k: usize) -> Vec<Vec<usize>> {
    if k == 0 {
        return vec![Vec::new()];
    }
    (0..n)
        .flat_map(|first| {
            subsets(n - first - 1, k - 1).into_iter().map(move |rest| {
                let mut subset = vec![first];
                subset.extend(rest.into_iter().map(|i| i + first + 1));
                subset
            })
        })
        .collect()
}
