//! The seal/unseal state machine over both storages: shares one at a time, progress, reset,
//! wrong shares, rotation, reopening from disk.

use std::time::{Duration, UNIX_EPOCH};

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use underhood_secret_crypto::barrier::{self, Barrier, BarrierError, SealConfig, UnsealProgress};
use underhood_secret_crypto::shamir::Share;
use underhood_secret_crypto::storage::{FileStorage, MemoryStorage, Storage};

const CONFIG: SealConfig = SealConfig {
    shares: 5,
    threshold: 3,
};

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(42)
}

#[track_caller]
fn check<S: Storage>(barrier: &mut Barrier<S>, share: &Share, expected: UnsealProgress) {
    assert_eq!(barrier.unseal(share.expose_secret()).unwrap(), expected);
}

fn sealed(have: usize) -> UnsealProgress {
    UnsealProgress::Sealed { have, need: 3 }
}

#[test]
fn unseal_takes_shares_one_at_a_time_then_stores_and_reads() {
    let mut rng = rng();
    let (mut barrier, shares) =
        Barrier::initialize(MemoryStorage::new(), CONFIG, UNIX_EPOCH, &mut rng).unwrap();
    assert_eq!(shares.len(), 5);
    assert!(barrier.is_sealed());
    assert!(matches!(barrier.get("secret/a"), Err(BarrierError::Sealed)));
    check(&mut barrier, &shares[4], sealed(1));
    assert!(matches!(
        barrier.unseal(shares[4].expose_secret()),
        Err(BarrierError::DuplicateShare { .. })
    ));
    assert!(matches!(
        barrier.unseal(&[1, 2, 3]),
        Err(BarrierError::ShareLength {
            expected: 33,
            found: 3
        })
    ));
    check(&mut barrier, &shares[1], sealed(2));
    barrier.reset_unseal();
    assert_eq!(barrier.progress(), sealed(0));
    check(&mut barrier, &shares[0], sealed(1));
    check(&mut barrier, &shares[2], sealed(2));
    check(&mut barrier, &shares[3], UnsealProgress::Unsealed);
    assert!(matches!(
        barrier.unseal(shares[1].expose_secret()),
        Err(BarrierError::AlreadyUnsealed)
    ));

    barrier.put("secret/a", b"hunter2", &mut rng).unwrap();
    assert_eq!(
        barrier.get("secret/a").unwrap().unwrap().expose_secret(),
        b"hunter2"
    );
    assert!(barrier.get("secret/missing").unwrap().is_none());
    assert!(matches!(
        barrier.put("core/keyring", b"x", &mut rng),
        Err(BarrierError::ReservedPath { .. })
    ));
    // What sits in storage is a version 2 entry under term 1, bound to its path.
    let stored = barrier.storage().get("secret/a").unwrap().unwrap();
    assert_eq!(barrier::entry_term("secret/a", &stored).unwrap(), 1);
    assert_eq!(stored[4], 2);
    assert_eq!(stored.len(), 5 + 12 + 7 + 16);
    barrier.delete("secret/a").unwrap();
    assert!(barrier.get("secret/a").unwrap().is_none());

    barrier.seal();
    assert!(matches!(barrier.get("secret/a"), Err(BarrierError::Sealed)));
    assert!(barrier.keyring().is_none());
}

#[test]
fn wrong_shares_are_refused_at_the_threshold_and_progress_resets() {
    let mut rng = rng();
    let (mut barrier, shares) =
        Barrier::initialize(MemoryStorage::new(), CONFIG, UNIX_EPOCH, &mut rng).unwrap();
    // Shares of another barrier have the right shape but the wrong unseal key.
    let (_, other) =
        Barrier::initialize(MemoryStorage::new(), CONFIG, UNIX_EPOCH, &mut rng).unwrap();
    check(&mut barrier, &shares[0], sealed(1));
    check(&mut barrier, &shares[1], sealed(2));
    let mut foreign = other[2].expose_secret().to_vec();
    // Make sure its x differs from the two given, so only its y is wrong.
    foreign[32] = shares[2].x();
    assert!(matches!(
        barrier.unseal(&foreign),
        Err(BarrierError::WrongShares)
    ));
    assert_eq!(barrier.progress(), sealed(0));
    assert!(matches!(
        barrier.unseal(&[0; 33]),
        Err(BarrierError::BadShare { .. })
    ));
    for share in &shares[2..] {
        barrier.unseal(share.expose_secret()).unwrap();
    }
    assert!(!barrier.is_sealed());
}

#[test]
fn rotation_keeps_old_entries_readable_and_survives_reopening_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = rng();
    let storage = FileStorage::new(dir.path());
    let (mut barrier, shares) =
        Barrier::initialize(storage.clone(), CONFIG, UNIX_EPOCH, &mut rng).unwrap();
    assert!(matches!(
        Barrier::initialize(storage.clone(), CONFIG, UNIX_EPOCH, &mut rng),
        Err(BarrierError::AlreadyInitialized)
    ));
    for share in &shares[..3] {
        barrier.unseal(share.expose_secret()).unwrap();
    }
    barrier
        .put("app/old", b"written under term 1", &mut rng)
        .unwrap();
    let later = UNIX_EPOCH + Duration::from_nanos(1_704_164_645_123_456_789);
    assert_eq!(barrier.rotate(later, &mut rng).unwrap(), 2);
    barrier
        .put("app/new", b"written under term 2", &mut rng)
        .unwrap();
    let keyring = barrier.keyring().unwrap();
    assert_eq!(keyring.active_term(), 2);
    assert_eq!(
        keyring.terms().last().unwrap().install_time(),
        "2024-01-02T03:04:05.123456789Z"
    );
    assert!(storage.get("core/upgrade/1").unwrap().is_some());

    // A new process: reopen from disk, sealed, and unseal with other shares.
    let mut reopened = Barrier::open(FileStorage::new(dir.path())).unwrap();
    assert_eq!(reopened.config(), CONFIG);
    assert!(reopened.is_sealed());
    for share in &shares[2..] {
        reopened.unseal(share.expose_secret()).unwrap();
    }
    assert_eq!(
        reopened.get("app/old").unwrap().unwrap().expose_secret(),
        b"written under term 1"
    );
    assert_eq!(
        reopened.get("app/new").unwrap().unwrap().expose_secret(),
        b"written under term 2"
    );
    let stored = storage.get("app/new").unwrap().unwrap();
    assert_eq!(barrier::entry_term("app/new", &stored).unwrap(), 2);
}

#[test]
fn an_uninitialized_storage_and_a_moved_entry_are_errors() {
    assert!(matches!(
        Barrier::open(MemoryStorage::new()),
        Err(BarrierError::NotInitialized)
    ));
    let mut rng = rng();
    let (mut barrier, shares) =
        Barrier::initialize(MemoryStorage::new(), CONFIG, UNIX_EPOCH, &mut rng).unwrap();
    for share in &shares[..3] {
        barrier.unseal(share.expose_secret()).unwrap();
    }
    barrier.put("a", b"value", &mut rng).unwrap();
    let entry = barrier.storage().get("a").unwrap().unwrap();
    let keyring = barrier.keyring().unwrap();
    assert!(matches!(
        keyring.decrypt("b", &entry),
        Err(BarrierError::Authentication { term: 1, .. })
    ));
    let mut future = entry.clone();
    future[3] = 9;
    assert!(matches!(
        keyring.decrypt("a", &future),
        Err(BarrierError::UnknownTerm { term: 9, .. })
    ));
    let mut unknown = entry.clone();
    unknown[4] = 3;
    assert_eq!(
        keyring.decrypt("a", &unknown).unwrap_err().to_string(),
        "version bytes mis-match (found 3 at \"a\")"
    );
    assert!(matches!(
        keyring.decrypt("a", &entry[..20]),
        Err(BarrierError::TooShort { len: 20, .. })
    ));
    let odd_key = underhood_secret_crypto::Key::new(vec![1; 20]);
    assert!(matches!(
        barrier::encrypt_entry(&odd_key, 1, "a", b"v", &mut rng),
        Err(BarrierError::KeyLength { len: 20 })
    ));
    assert!(matches!(
        barrier::decrypt_entry(&odd_key, "a", &entry),
        Err(BarrierError::KeyLength { len: 20 })
    ));
    assert!(matches!(
        Barrier::initialize(
            MemoryStorage::new(),
            SealConfig {
                shares: 2,
                threshold: 3
            },
            UNIX_EPOCH,
            &mut rng
        ),
        Err(BarrierError::SealConfig { .. })
    ));
}

#[test]
fn a_tampered_seal_config_is_refused_and_nothing_prints_key_material() {
    let mut rng = rng();
    let (mut barrier, shares) =
        Barrier::initialize(MemoryStorage::new(), CONFIG, UNIX_EPOCH, &mut rng).unwrap();
    for share in &shares[..3] {
        barrier.unseal(share.expose_secret()).unwrap();
    }
    let keyring = barrier.keyring().unwrap();
    let debug = format!("{keyring:?} {:?} {shares:?}", keyring.root_key());
    assert!(
        debug.contains("Key(..)") && debug.contains("Share { x: "),
        "{debug}"
    );
    let root_hex: String = keyring
        .root_key()
        .expose_secret()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let root_bytes = format!("{:?}", keyring.root_key().expose_secret());
    assert!(!debug.contains(&root_hex) && !debug.contains(&root_bytes[1..20]));

    for config in [
        r#"{"secret_shares":5,"secret_threshold":1}"#,
        r#"{"secret_shares":2,"secret_threshold":3}"#,
    ] {
        let mut storage = MemoryStorage::new();
        storage
            .put(barrier::SEAL_CONFIG_PATH, config.as_bytes())
            .unwrap();
        assert!(
            matches!(Barrier::open(storage), Err(BarrierError::SealConfig { .. })),
            "{config}"
        );
    }
}

#[test]
fn the_last_term_does_not_rotate_over_itself() {
    let mut rng = rng();
    let root = underhood_secret_crypto::Key::new(vec![1; 32]);
    let json = format!(
        r#"{{"MasterKey":"{0}","Keys":[{{"Term":4294967295,"Version":1,"Value":"{0}","InstallTime":"x"}}]}}"#,
        "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
    );
    let mut keyring = barrier::Keyring::from_json(json.as_bytes()).unwrap();
    assert_eq!(keyring.root_key(), &root);
    assert!(matches!(
        keyring.rotate(UNIX_EPOCH, &mut rng),
        Err(BarrierError::TermsExhausted { active: u32::MAX })
    ));
    assert_eq!(keyring.terms().count(), 1);
}

#[test]
fn compaction_rewrites_old_entries_and_drops_unused_terms() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = rng();
    let (mut barrier, shares) =
        Barrier::initialize(FileStorage::new(dir.path()), CONFIG, UNIX_EPOCH, &mut rng).unwrap();
    for share in &shares[..3] {
        barrier.unseal(share.expose_secret()).unwrap();
    }
    barrier.put("app/one", b"1", &mut rng).unwrap();
    barrier.rotate(UNIX_EPOCH, &mut rng).unwrap();
    barrier.put("app/two", b"2", &mut rng).unwrap();
    barrier.rotate(UNIX_EPOCH, &mut rng).unwrap();
    barrier.put("app/three", b"3", &mut rng).unwrap();
    let report = barrier.compact(&mut rng).unwrap();
    assert_eq!(
        report,
        barrier::Compaction {
            reencrypted: 2,
            dropped_terms: vec![1, 2]
        }
    );
    let terms: Vec<u32> = barrier
        .keyring()
        .unwrap()
        .terms()
        .map(|t| t.term())
        .collect();
    assert_eq!(terms, [3]);
    assert!(barrier.storage().get("core/upgrade/1").unwrap().is_none());
    // Nothing to do the second time.
    assert_eq!(
        barrier.compact(&mut rng).unwrap(),
        barrier::Compaction {
            reencrypted: 0,
            dropped_terms: vec![]
        }
    );

    // Reopened from disk, every value reads back under the one remaining term.
    let mut reopened = Barrier::open(FileStorage::new(dir.path())).unwrap();
    for share in &shares[2..] {
        reopened.unseal(share.expose_secret()).unwrap();
    }
    for (path, value) in [("app/one", b"1"), ("app/two", b"2"), ("app/three", b"3")] {
        assert_eq!(reopened.get(path).unwrap().unwrap().expose_secret(), value);
        let stored = reopened.storage().get(path).unwrap().unwrap();
        assert_eq!(barrier::entry_term(path, &stored).unwrap(), 3);
    }
}

#[test]
fn compaction_stops_at_an_entry_that_does_not_decrypt_and_drops_nothing() {
    let mut rng = rng();
    let (mut barrier, shares) =
        Barrier::initialize(MemoryStorage::new(), CONFIG, UNIX_EPOCH, &mut rng).unwrap();
    for share in &shares[..3] {
        barrier.unseal(share.expose_secret()).unwrap();
    }
    barrier.put("app/a", b"a", &mut rng).unwrap();
    barrier.rotate(UNIX_EPOCH, &mut rng).unwrap();
    // An entry moved to another path no longer authenticates.
    let mut storage = barrier.storage().clone();
    let moved = storage.get("app/a").unwrap().unwrap();
    storage.put("app/b", &moved).unwrap();
    let mut broken = Barrier::open(storage).unwrap();
    for share in &shares[..3] {
        broken.unseal(share.expose_secret()).unwrap();
    }
    assert!(matches!(
        broken.compact(&mut rng),
        Err(BarrierError::Authentication { .. })
    ));
    assert_eq!(broken.keyring().unwrap().terms().count(), 2);
}

#[test]
fn a_one_of_one_seal_unseals_with_its_only_share() {
    let mut rng = rng();
    let single = SealConfig {
        shares: 1,
        threshold: 1,
    };
    let storage = MemoryStorage::new();
    let (mut barrier, shares) =
        Barrier::initialize(storage.clone(), single, UNIX_EPOCH, &mut rng).unwrap();
    assert_eq!(shares.len(), 1);
    assert_eq!(shares[0].x(), 1);
    assert_eq!(
        barrier.unseal(shares[0].expose_secret()).unwrap(),
        UnsealProgress::Unsealed
    );
    barrier.put("a", b"one", &mut rng).unwrap();
    let mut reopened = Barrier::open(barrier.storage().clone()).unwrap();
    let mut wrong = shares[0].expose_secret().to_vec();
    wrong[0] ^= 1;
    assert!(matches!(
        reopened.unseal(&wrong),
        Err(BarrierError::WrongShares)
    ));
    assert_eq!(
        reopened.unseal(shares[0].expose_secret()).unwrap(),
        UnsealProgress::Unsealed
    );
    assert_eq!(reopened.get("a").unwrap().unwrap().expose_secret(), b"one");
    // One share of two is still refused: a threshold below 2 needs exactly one share.
    assert!(matches!(
        Barrier::initialize(
            MemoryStorage::new(),
            SealConfig {
                shares: 2,
                threshold: 1
            },
            UNIX_EPOCH,
            &mut rng
        ),
        Err(BarrierError::SealConfig { .. })
    ));
}
