//! Laws checked with proptest: Shamir round trips, refusals and verification; transit round
//! trips across key types and derivations; the barrier across rotations.

mod common;

use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use underhood_secret_crypto::barrier::Keyring;
use underhood_secret_crypto::shamir::{self, ShamirError};
use underhood_secret_crypto::transit::{Derivation, KeyType, Params, TransitKey};
use underhood_secret_crypto::{Key, barrier};

/// A secret, a threshold, a share count and a shuffled order of the shares.
fn split_case() -> impl Strategy<Value = (Vec<u8>, usize, usize, Vec<usize>, u64)> {
    (2usize..=12)
        .prop_flat_map(|parts| (Just(parts), 2..=parts))
        .prop_flat_map(|(parts, threshold)| {
            (
                proptest::collection::vec(any::<u8>(), 1..48),
                Just(threshold),
                Just(parts),
                Just((0..parts).collect::<Vec<_>>()).prop_shuffle(),
                any::<u64>(),
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_threshold_subset_recombines((secret, threshold, parts, order, seed) in split_case(), extra in 0usize..12) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let shares = shamir::split(&secret, threshold, parts, &mut rng).unwrap();
        let take = (threshold + extra).min(parts);
        let picked: Vec<&[u8]> = order[..take].iter().map(|&i| shares[i].expose_secret()).collect();
        prop_assert_eq!(shamir::combine(&picked).unwrap(), Key::from_slice(&secret));
        prop_assert_eq!(shamir::combine_verified(&picked, threshold).unwrap(), Key::from_slice(&secret));

        let checked = shamir::split_checked(&secret, threshold, parts, &mut rng).unwrap();
        let picked: Vec<&[u8]> = order[..take].iter().map(|&i| checked[i].expose_secret()).collect();
        prop_assert_eq!(shamir::combine_checked(&picked).unwrap(), Key::from_slice(&secret));
    }

    #[test]
    fn fewer_than_threshold_checked_shares_never_recover((secret, threshold, parts, order, seed) in split_case(), fewer in 0usize..12) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let checked = shamir::split_checked(&secret, threshold, parts, &mut rng).unwrap();
        let take = fewer % threshold;
        let picked: Vec<&[u8]> = order[..take].iter().map(|&i| checked[i].expose_secret()).collect();
        match shamir::combine_checked(&picked) {
            Err(ShamirError::InsufficientShares { need, .. }) => prop_assert_eq!(need, threshold),
            Err(ShamirError::TooFewParts { parts: 0 }) => prop_assert_eq!(take, 0),
            other => prop_assert!(false, "{:?}", other),
        }
    }

    #[test]
    fn a_corrupted_checked_share_is_named((secret, threshold, parts, order, seed) in split_case(), which in any::<prop::sample::Index>(), bit in 0u8..8) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let checked = shamir::split_checked(&secret, threshold, parts, &mut rng).unwrap();
        let mut picked: Vec<Vec<u8>> = order[..threshold].iter().map(|&i| checked[i].expose_secret().to_vec()).collect();
        let victim = which.index(threshold);
        let byte = which.index(picked[victim].len());
        picked[victim][byte] ^= 1 << bit;
        let result = shamir::combine_checked(&picked);
        prop_assert!(matches!(result, Err(ShamirError::CorruptShare { index, .. }) if index == victim), "{:?}", result);
    }

    #[test]
    fn an_altered_share_among_more_than_threshold_is_caught((secret, threshold, parts, order, seed) in split_case(), which in any::<prop::sample::Index>(), delta in 1u8..) {
        prop_assume!(parts > threshold);
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let shares = shamir::split(&secret, threshold, parts, &mut rng).unwrap();
        let take = parts.min(threshold + 2);
        let mut picked: Vec<Vec<u8>> = order[..take].iter().map(|&i| shares[i].expose_secret().to_vec()).collect();
        let victim = which.index(take);
        let byte = which.index(secret.len());
        picked[victim][byte] ^= delta;
        let bad_x = *picked[victim].last().unwrap();
        let result = shamir::combine_verified(&picked, threshold);
        match result {
            // With two spare shares the odd one out is named.
            Err(ShamirError::Inconsistent { suspect }) if take >= threshold + 2 => prop_assert_eq!(suspect, Some(bad_x)),
            Err(ShamirError::Inconsistent { .. }) => {}
            other => prop_assert!(false, "{:?}", other),
        }
    }

    #[test]
    fn x_coordinates_are_distinct_and_nonzero(seed: u64, parts in 2usize..=255) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let shares = shamir::split(b"k", 2, parts, &mut rng).unwrap();
        let mut xs: Vec<u8> = shares.iter().map(|s| s.x()).collect();
        prop_assert!(!xs.contains(&0));
        xs.sort_unstable();
        xs.dedup();
        prop_assert_eq!(xs.len(), parts);
    }

    #[test]
    fn transit_round_trips_for_every_type_and_derivation(
        type_index in 0usize..4,
        derivation in prop::sample::select(vec![Derivation::Direct, Derivation::Hkdf, Derivation::LegacyCounter, Derivation::Convergent]),
        plaintext in proptest::collection::vec(any::<u8>(), 0..200),
        context in proptest::collection::vec(any::<u8>(), 1..16),
        aad in proptest::collection::vec(any::<u8>(), 0..16),
        seed: u64,
    ) {
        let key_type = KeyType::ALL[type_index];
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let Ok(mut key) = TransitKey::with_derivation("k", key_type, derivation, &mut rng) else {
            prop_assert!(derivation == Derivation::LegacyCounter && key_type.key_len() != 32);
            return Ok(());
        };
        let context = (derivation != Derivation::Direct).then_some(context.as_slice());
        let params = Params { context, associated_data: Some(&aad), key_version: None };
        let first = key.encrypt(&plaintext, &params, &mut rng).unwrap();
        prop_assert_eq!(key.decrypt(&first, &params).unwrap(), Key::from_slice(&plaintext));
        // Convergent keys are deterministic; others draw a fresh nonce.
        let again = key.encrypt(&plaintext, &params, &mut rng).unwrap();
        prop_assert_eq!(first == again, derivation == Derivation::Convergent);
        key.rotate(&mut rng);
        let rewrapped = key.rewrap(&first, &params, &mut rng).unwrap();
        prop_assert!(rewrapped.starts_with("vault:v2:"));
        prop_assert_eq!(key.decrypt(&rewrapped, &params).unwrap(), Key::from_slice(&plaintext));
        // The key survives its key file.
        let reloaded = TransitKey::from_json(&key.to_json()).unwrap();
        prop_assert_eq!(reloaded.decrypt(&first, &params).unwrap(), Key::from_slice(&plaintext));
    }

    #[test]
    fn barrier_entries_open_after_any_number_of_rotations(rotations in 0usize..5, value in proptest::collection::vec(any::<u8>(), 0..100), seed: u64) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let mut keyring = Keyring::new(Key::random(32, &mut rng), Key::random(32, &mut rng), std::time::UNIX_EPOCH).unwrap();
        let mut entries = Vec::new();
        for r in 0..=rotations {
            let path = format!("data/{r}");
            entries.push((path.clone(), keyring.encrypt(&path, &value, &mut rng)));
            keyring.rotate(std::time::UNIX_EPOCH, &mut rng).unwrap();
        }
        let reopened = Keyring::unseal(keyring.root_key(), &keyring.seal(&mut rng)).unwrap();
        for (i, (path, entry)) in entries.iter().enumerate() {
            prop_assert_eq!(barrier::entry_term(path, entry).unwrap(), i as u32 + 1);
            prop_assert_eq!(reopened.decrypt(path, entry).unwrap(), Key::from_slice(&value));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn keyring_json_parse_of_print_is_identity(rotations in 0usize..6, seconds in 0u64..4_000_000_000, seed: u64) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(seconds * 1_000_000_007);
        let mut keyring = Keyring::new(Key::random(32, &mut rng), Key::random(16, &mut rng), at).unwrap();
        for _ in 0..rotations {
            keyring.encrypt("p", b"v", &mut rng);
            keyring.rotate(at, &mut rng).unwrap();
        }
        keyring.encrypt("p", b"v", &mut rng);
        let json = keyring.to_json();
        let back = Keyring::from_json(&json).unwrap();
        let again = back.to_json();
        prop_assert_eq!(again.as_slice(), json.as_slice());
        prop_assert_eq!(back.active_term(), rotations as u32 + 1);
    }
}

#[test]
fn the_x_shuffle_is_uniform_not_sattolo() {
    // Vault's shuffle never gives share k the x = k + 1; a uniform one does, about 1/255 of the time.
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let mut first_gets_one = 0;
    let mut counts = [0u32; 256];
    for _ in 0..5000 {
        let shares = shamir::split(b"k", 2, 2, &mut rng).unwrap();
        first_gets_one += u32::from(shares[0].x() == 1);
        counts[usize::from(shares[0].x())] += 1;
    }
    assert!(first_gets_one > 0);
    assert_eq!(counts[0], 0);
    // Each of 255 values is expected about 19.6 times; a broken shuffle skews far past this.
    assert!(
        counts[1..].iter().all(|&c| (3..=45).contains(&c)),
        "{counts:?}"
    );
}

#[test]
fn the_same_seed_gives_the_same_shares() {
    let split = |seed| {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let shares = shamir::split(b"same secret", 3, 5, &mut rng).unwrap();
        shares
            .iter()
            .map(|s| s.expose_secret().to_vec())
            .collect::<Vec<_>>()
    };
    assert_eq!(split(1), split(1));
    assert_ne!(split(1), split(2));
}
