//! Vault's storage barrier: AES-GCM entries under a rotating keyring, sealed by Shamir shares.
//!
//! An entry is `BE32(term) ‖ version ‖ nonce(12) ‖ ciphertext ‖ tag(16)`; version 2 authenticates
//! the storage path as associated data. The [`Keyring`] holds the root key and one key per term,
//! and is stored at `core/keyring` encrypted under the root key, as Vault stores it. A [`Barrier`]
//! is sealed until enough unseal shares arrive, one at a time.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::Key;
use crate::aead::Cipher;
use crate::shamir::{self, ShamirError, Share};
use crate::storage::{Storage, StorageError};

mod keyring;
pub use keyring::{Keyring, RotationConfig, TermKey};

/// Where the keyring lives, encrypted under the root key.
pub const KEYRING_PATH: &str = "core/keyring";
/// Where the root key lives, encrypted under the unseal key (the KEK the shares combine to).
pub const ROOT_KEY_PATH: &str = "core/hsm/barrier-unseal-keys";
/// Where the seal configuration lives, in plain JSON.
pub const SEAL_CONFIG_PATH: &str = "core/seal-config";
/// Prefix of the upgrade entries that hand a new term's key to standbys.
pub const UPGRADE_PREFIX: &str = "core/upgrade/";

const TERM_LEN: usize = 4;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = TERM_LEN + 1 + NONCE_LEN;
const KEYRING_TERM: u32 = 1;
const KEK_LEN: usize = 32;
/// Vault's ceiling (and default) for `MaxOperations`: about 2^32 × 0.9 encryptions per term.
const MAX_OPERATIONS: i64 = 3_865_470_566;
const MIN_OPERATIONS: i64 = 1_000_000;
const MIN_INTERVAL_NS: i64 = 24 * 3600 * 1_000_000_000;

/// The version byte of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryVersion {
    /// `0x01`: no associated data (legacy, read only).
    V1,
    /// `0x02`: the storage path is the associated data (an empty path gives none).
    V2,
}

/// Why a barrier operation failed. Vault's own words come first where it has them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BarrierError {
    /// Shorter than a term, a version byte, a nonce and a tag.
    #[error("invalid cipher length ({len} bytes at {path:?})")]
    TooShort {
        /// The storage path.
        path: String,
        /// The entry's length.
        len: usize,
    },
    /// A version byte other than 1 or 2.
    #[error("version bytes mis-match (found {found} at {path:?})")]
    UnknownVersion {
        /// The storage path.
        path: String,
        /// The version byte.
        found: u8,
    },
    /// The entry names a term the keyring does not have.
    #[error("no decryption key available for term {term} (at {path:?})")]
    UnknownTerm {
        /// The storage path.
        path: String,
        /// The entry's term.
        term: u32,
    },
    /// Authentication failed: a wrong key, a moved or tampered entry.
    #[error("cipher: message authentication failed (term {term} at {path:?})")]
    Authentication {
        /// The storage path.
        path: String,
        /// The entry's term.
        term: u32,
    },
    /// A barrier key that is neither 16 nor 32 bytes (AES-128 or AES-256).
    #[error("barrier keys are 16 or 32 bytes, not {len}")]
    KeyLength {
        /// The length given.
        len: usize,
    },
    /// The active term is the last one a `u32` can hold.
    #[error("cannot rotate past term {active}")]
    TermsExhausted {
        /// The active term.
        active: u32,
    },
    /// The root key does not open the keyring.
    #[error("invalid key: the root key does not open the keyring")]
    WrongRootKey,
    /// A keyring entry whose term is not 1.
    #[error("keyring entry has term {term}, expected 1")]
    KeyringTerm {
        /// The term found.
        term: u32,
    },
    /// The keyring or key JSON does not parse, or breaks an invariant.
    #[error("invalid keyring: {problem}")]
    Keyring {
        /// What is wrong.
        problem: KeyringProblem,
    },
    /// An upgrade entry that does not hold the next term after the one it was encrypted under.
    #[error("upgrade entry under term {under} holds term {found}, expected {}", under + 1)]
    UpgradeTerm {
        /// The term it was encrypted under.
        under: u32,
        /// The term it holds.
        found: u32,
    },
    /// The barrier has no seal configuration: initialize it first.
    #[error("the barrier is not initialized")]
    NotInitialized,
    /// The barrier already has a seal configuration.
    #[error("the barrier is already initialized")]
    AlreadyInitialized,
    /// The operation needs an unsealed barrier.
    #[error("the barrier is sealed")]
    Sealed,
    /// An unseal share was given to an unsealed barrier.
    #[error("the barrier is already unsealed")]
    AlreadyUnsealed,
    /// An unseal share of the wrong length for this barrier's unseal key.
    #[error("unseal share is {found} bytes, expected {expected}")]
    ShareLength {
        /// The length of this barrier's shares.
        expected: usize,
        /// The length given.
        found: usize,
    },
    /// An unseal share with the same x as one already given.
    #[error("this unseal share (x = {x}) was already given")]
    DuplicateShare {
        /// The repeated x-coordinate.
        x: u8,
    },
    /// The threshold was reached but the shares do not open the root key; progress was reset.
    #[error("the unseal shares are wrong: they do not open the root key; progress was reset")]
    WrongShares,
    /// Paths under `core/` belong to the barrier itself.
    #[error("path {path:?} is reserved for the barrier")]
    ReservedPath {
        /// The path given.
        path: String,
    },
    /// The seal configuration is invalid.
    #[error("invalid seal configuration: {source}")]
    SealConfig {
        /// Why the shares cannot be made.
        source: ShamirError,
    },
    /// An unseal share that is not a share.
    #[error("invalid unseal share: {source}")]
    BadShare {
        /// Why.
        source: ShamirError,
    },
    /// The storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// What is wrong with keyring JSON.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyringProblem {
    /// Not the expected JSON; names the field, never its value.
    #[error(transparent)]
    Json(#[from] crate::JsonProblem),
    /// No root key or no term keys.
    #[error("no root key or no term keys")]
    Empty,
    /// A value is not standard base64.
    #[error("a key value is not base64")]
    BadBase64,
    /// A key of a length AES does not take (16 or 32 bytes).
    #[error("a key is {len} bytes; AES needs 16 or 32")]
    KeyLength {
        /// The length found.
        len: usize,
    },
    /// The same term twice.
    #[error("term {term} appears twice")]
    DuplicateTerm {
        /// The term.
        term: u32,
    },
}

/// Encrypts `plaintext` for `path` under `key` (16 or 32 bytes) and `term`, as a version 2
/// entry with a nonce drawn from `rng`.
pub fn encrypt_entry(
    key: &Key,
    term: u32,
    path: &str,
    plaintext: &[u8],
    rng: &mut impl CryptoRng,
) -> Result<Vec<u8>, BarrierError> {
    check_key_len(key.len())?;
    Ok(seal_entry(key, term, path, plaintext, rng))
}

/// [`encrypt_entry`] for a key whose length is already checked.
fn seal_entry(
    key: &Key,
    term: u32,
    path: &str,
    plaintext: &[u8],
    rng: &mut impl CryptoRng,
) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill_bytes(&mut nonce);
    let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
    out.extend_from_slice(&term.to_be_bytes());
    out.push(2);
    out.extend_from_slice(&nonce);
    let sealed = cipher_for(key)
        .seal(key.expose_secret(), &nonce, path.as_bytes(), plaintext)
        .expect("barrier keys are 16 or 32 bytes by construction");
    out.extend_from_slice(&sealed);
    out
}

/// The term an entry names (its first four bytes).
pub fn entry_term(path: &str, entry: &[u8]) -> Result<u32, BarrierError> {
    if entry.len() < HEADER_LEN + TAG_LEN {
        return Err(BarrierError::TooShort {
            path: path.to_owned(),
            len: entry.len(),
        });
    }
    let mut term = [0u8; TERM_LEN];
    term.copy_from_slice(&entry[..TERM_LEN]);
    Ok(u32::from_be_bytes(term))
}

/// Decrypts an entry stored at `path` with `key`, whatever term it names.
pub fn decrypt_entry(key: &Key, path: &str, entry: &[u8]) -> Result<Key, BarrierError> {
    check_key_len(key.len())?;
    let term = entry_term(path, entry)?;
    let aad: &[u8] = match entry[TERM_LEN] {
        1 => &[],
        2 => path.as_bytes(),
        found => {
            return Err(BarrierError::UnknownVersion {
                path: path.to_owned(),
                found,
            });
        }
    };
    let nonce = &entry[TERM_LEN + 1..HEADER_LEN];
    cipher_for(key)
        .open(key.expose_secret(), nonce, aad, &entry[HEADER_LEN..])
        .map(Key::new)
        .map_err(|_| BarrierError::Authentication {
            path: path.to_owned(),
            term,
        })
}

/// How many shares unseal a barrier, and how many there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealConfig {
    /// Shares made at initialization (`secret_shares`).
    #[serde(rename = "secret_shares")]
    pub shares: u8,
    /// Shares needed to unseal (`secret_threshold`).
    #[serde(rename = "secret_threshold")]
    pub threshold: u8,
}

impl SealConfig {
    /// One share of one (Vault allows it, and its dev mode uses it): the share is the unseal key
    /// followed by x = 1. Every other configuration needs a threshold of at least 2.
    pub fn is_single_key(self) -> bool {
        self.shares == 1 && self.threshold == 1
    }
}

/// What [`Barrier::compact`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compaction {
    /// Entries rewritten under the active term.
    pub reencrypted: usize,
    /// Terms removed from the keyring.
    pub dropped_terms: Vec<u32>,
}

/// Where an unseal stands after a share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsealProgress {
    /// Still sealed: `have` distinct shares of the `need`ed.
    Sealed {
        /// Shares given so far.
        have: usize,
        /// The threshold.
        need: usize,
    },
    /// The barrier is open.
    Unsealed,
}

/// A barrier over a storage: sealed until enough unseal shares arrive.
///
/// The shares combine to a 32-byte unseal key (Vault's KEK), which opens the root key at
/// [`ROOT_KEY_PATH`], which opens the keyring. Vault wraps the root key in go-kms-wrapping's
/// `BlobInfo`; this crate uses a barrier entry instead, so that one entry is not Vault's bytes.
///
/// Encryption counts are kept in memory and reach storage with the next keyring write (a
/// rotation); automatic rotation on those counts or on an interval is left to the caller.
pub struct Barrier<S> {
    storage: S,
    config: SealConfig,
    state: State,
}

enum State {
    Sealed { progress: Vec<Share> },
    Unsealed { keyring: Keyring },
}

impl<S: Storage> Barrier<S> {
    /// Initializes an empty storage: makes the unseal key, root key and term 1, writes them,
    /// and returns the sealed barrier and the unseal shares (Vault's layout) to hand out.
    pub fn initialize(
        mut storage: S,
        config: SealConfig,
        now: SystemTime,
        rng: &mut impl CryptoRng,
    ) -> Result<(Barrier<S>, Vec<Share>), BarrierError> {
        if storage.get(SEAL_CONFIG_PATH)?.is_some() {
            return Err(BarrierError::AlreadyInitialized);
        }
        let kek = Key::random(KEK_LEN, rng);
        // The unseal key is split and then forgotten; only its shares leave this function.
        let shares = if config.is_single_key() {
            // One share of one: a polynomial of degree 0 is the unseal key itself, at x = 1.
            vec![Share::constant(kek.expose_secret())]
        } else {
            shamir::split(
                kek.expose_secret(),
                config.threshold.into(),
                config.shares.into(),
                rng,
            )
            .map_err(|source| BarrierError::SealConfig { source })?
        };
        let keyring = Keyring::new(Key::random(32, rng), Key::random(32, rng), now)?;
        // The root key is wrapped under the unseal key, as a JSON list like Vault's.
        let root_json = Zeroizing::new(
            serde_json::to_vec(&[BASE64.encode(keyring.root_key().expose_secret())])
                .expect("a list of strings serializes"),
        );
        storage.put(
            ROOT_KEY_PATH,
            &seal_entry(&kek, 1, ROOT_KEY_PATH, &root_json, rng),
        )?;
        storage.put(KEYRING_PATH, &keyring.seal(rng))?;
        // Written last: a crash before this leaves an uninitialized storage, not a half one.
        let config_json = serde_json::to_vec(&config).expect("seal config serializes");
        storage.put(SEAL_CONFIG_PATH, &config_json)?;
        Ok((
            Barrier {
                storage,
                config,
                state: State::Sealed {
                    progress: Vec::new(),
                },
            },
            shares,
        ))
    }

    /// Opens an initialized storage, sealed.
    pub fn open(storage: S) -> Result<Barrier<S>, BarrierError> {
        let json = storage
            .get(SEAL_CONFIG_PATH)?
            .ok_or(BarrierError::NotInitialized)?;
        let config: SealConfig = crate::json::from_slice(&json).map_err(keyring_json)?;
        let (parts, threshold) = (usize::from(config.shares), usize::from(config.threshold));
        if threshold < 2 && !config.is_single_key() {
            return Err(BarrierError::SealConfig {
                source: ShamirError::ThresholdTooSmall { threshold },
            });
        }
        if parts < threshold {
            return Err(BarrierError::SealConfig {
                source: ShamirError::PartsBelowThreshold { parts, threshold },
            });
        }
        Ok(Barrier {
            storage,
            config,
            state: State::Sealed {
                progress: Vec::new(),
            },
        })
    }

    /// The seal configuration.
    pub fn config(&self) -> SealConfig {
        self.config
    }

    /// Whether the barrier is sealed.
    pub fn is_sealed(&self) -> bool {
        matches!(self.state, State::Sealed { .. })
    }

    /// The keyring, while unsealed.
    pub fn keyring(&self) -> Option<&Keyring> {
        match &self.state {
            State::Unsealed { keyring } => Some(keyring),
            State::Sealed { .. } => None,
        }
    }

    /// Gives one unseal share. On the threshold-th distinct share the barrier unseals, or, if
    /// the shares are wrong, forgets them all and returns [`BarrierError::WrongShares`].
    pub fn unseal(&mut self, share: &[u8]) -> Result<UnsealProgress, BarrierError> {
        let State::Sealed { progress } = &mut self.state else {
            return Err(BarrierError::AlreadyUnsealed);
        };
        if share.len() != KEK_LEN + 1 {
            return Err(BarrierError::ShareLength {
                expected: KEK_LEN + 1,
                found: share.len(),
            });
        }
        let x = share[KEK_LEN];
        if progress.iter().any(|given| given.x() == x) {
            return Err(BarrierError::DuplicateShare { x });
        }
        // Vault's share layout, checked: at least two bytes and x ≠ 0.
        let share = Share::from_bytes(share.to_vec())
            .map_err(|source| BarrierError::BadShare { source })?;
        progress.push(share);
        let need = usize::from(self.config.threshold);
        if progress.len() < need {
            return Ok(UnsealProgress::Sealed {
                have: progress.len(),
                need,
            });
        }
        let given = std::mem::take(progress);
        let given: Vec<&[u8]> = given.iter().map(Share::expose_secret).collect();
        let kek = if self.config.is_single_key() {
            // A threshold of one: the polynomial is the constant unseal key.
            Key::from_slice(&given[0][..KEK_LEN])
        } else {
            shamir::combine(&given).map_err(|source| BarrierError::BadShare { source })?
        };
        self.open_root_key(&kek)
    }

    /// Opens the root key with the unseal key and the keyring with the root key.
    fn open_root_key(&mut self, kek: &Key) -> Result<UnsealProgress, BarrierError> {
        let entry = self
            .storage
            .get(ROOT_KEY_PATH)?
            .ok_or(BarrierError::NotInitialized)?;
        let root_json = match decrypt_entry(kek, ROOT_KEY_PATH, &entry) {
            Err(BarrierError::Authentication { .. }) => return Err(BarrierError::WrongShares),
            other => other?,
        };
        let roots: Vec<Zeroizing<String>> =
            crate::json::from_slice(root_json.expose_secret()).map_err(keyring_json)?;
        let root = roots.first().ok_or(BarrierError::Keyring {
            problem: KeyringProblem::Empty,
        })?;
        let root_key = decode_key(root)?;
        let entry = self
            .storage
            .get(KEYRING_PATH)?
            .ok_or(BarrierError::NotInitialized)?;
        let keyring = Keyring::unseal(&root_key, &entry)?;
        self.state = State::Unsealed { keyring };
        Ok(UnsealProgress::Unsealed)
    }

    /// Where the unseal stands: the shares given so far, or unsealed.
    pub fn progress(&self) -> UnsealProgress {
        match &self.state {
            State::Sealed { progress } => UnsealProgress::Sealed {
                have: progress.len(),
                need: self.config.threshold.into(),
            },
            State::Unsealed { .. } => UnsealProgress::Unsealed,
        }
    }

    /// Forgets the unseal shares given so far.
    pub fn reset_unseal(&mut self) {
        if let State::Sealed { progress } = &mut self.state {
            progress.clear();
        }
    }

    /// Seals the barrier: the keyring is dropped (and zeroized).
    pub fn seal(&mut self) {
        self.state = State::Sealed {
            progress: Vec::new(),
        };
    }

    /// Encrypts `value` under the active term and writes it at `path`.
    pub fn put(
        &mut self,
        path: &str,
        value: &[u8],
        rng: &mut impl CryptoRng,
    ) -> Result<(), BarrierError> {
        check_user_path(path)?;
        let State::Unsealed { keyring } = &mut self.state else {
            return Err(BarrierError::Sealed);
        };
        let entry = keyring.encrypt(path, value, rng);
        self.storage.put(path, &entry)?;
        Ok(())
    }

    /// Reads and decrypts the entry at `path`, under whichever term wrote it.
    pub fn get(&self, path: &str) -> Result<Option<Key>, BarrierError> {
        check_user_path(path)?;
        let State::Unsealed { keyring } = &self.state else {
            return Err(BarrierError::Sealed);
        };
        match self.storage.get(path)? {
            Some(entry) => keyring.decrypt(path, &entry).map(Some),
            None => Ok(None),
        }
    }

    /// Deletes the entry at `path`.
    pub fn delete(&mut self, path: &str) -> Result<(), BarrierError> {
        check_user_path(path)?;
        if self.is_sealed() {
            return Err(BarrierError::Sealed);
        }
        Ok(self.storage.delete(path)?)
    }

    /// Adds a term, makes it active, and writes the keyring and the upgrade entry for standbys.
    pub fn rotate(
        &mut self,
        now: SystemTime,
        rng: &mut impl CryptoRng,
    ) -> Result<u32, BarrierError> {
        let State::Unsealed { keyring } = &mut self.state else {
            return Err(BarrierError::Sealed);
        };
        let mut rotated = keyring.clone();
        let term = rotated.rotate(now, rng)?;
        // The keyring is written first: an upgrade entry for a term the keyring lacks would be
        // useless, while a keyring without its upgrade entry only delays standbys.
        self.storage.put(KEYRING_PATH, &rotated.seal(rng))?;
        if let Some((path, entry)) = rotated.upgrade_entry(rng) {
            self.storage.put(&path, &entry)?;
        }
        *keyring = rotated;
        Ok(term)
    }

    /// Re-encrypts every entry written under an older term with the active one, then removes
    /// from the keyring the terms no entry uses any more (Vault keeps them forever).
    ///
    /// Each rewrite is atomic, and the keyring is written last, so a crash part-way leaves every
    /// entry readable. An entry that does not decrypt stops the compaction before any term is
    /// dropped.
    pub fn compact(&mut self, rng: &mut impl CryptoRng) -> Result<Compaction, BarrierError> {
        let State::Unsealed { keyring } = &mut self.state else {
            return Err(BarrierError::Sealed);
        };
        let active = keyring.active_term();
        let mut reencrypted = 0;
        for path in self.storage.list()? {
            if check_user_path(&path).is_err() {
                continue;
            }
            let Some(entry) = self.storage.get(&path)? else {
                continue;
            };
            if entry_term(&path, &entry)? != active {
                let value = keyring.decrypt(&path, &entry)?;
                // Re-encrypting needs the plaintext; it stays in a zeroizing Key.
                let fresh = keyring.encrypt(&path, value.expose_secret(), rng);
                self.storage.put(&path, &fresh)?;
                reencrypted += 1;
            }
        }
        // Every entry is now under the active term, so no other term is in use.
        let mut pruned = keyring.clone();
        let dropped_terms: Vec<u32> = pruned
            .terms
            .keys()
            .copied()
            .filter(|&term| term != active)
            .collect();
        for term in &dropped_terms {
            pruned.terms.remove(term);
        }
        if !dropped_terms.is_empty() {
            self.storage.put(KEYRING_PATH, &pruned.seal(rng))?;
            for term in &dropped_terms {
                self.storage.delete(&format!("{UPGRADE_PREFIX}{term}"))?;
            }
        }
        *keyring = pruned;
        Ok(Compaction {
            reencrypted,
            dropped_terms,
        })
    }

    /// The storage underneath.
    pub fn storage(&self) -> &S {
        &self.storage
    }
}

fn check_user_path(path: &str) -> Result<(), BarrierError> {
    if path == "core" || path.starts_with("core/") {
        return Err(BarrierError::ReservedPath {
            path: path.to_owned(),
        });
    }
    Ok(())
}

fn cipher_for(key: &Key) -> Cipher {
    if key.len() == 16 {
        Cipher::Aes128Gcm
    } else {
        Cipher::Aes256Gcm
    }
}

fn check_key_len(len: usize) -> Result<(), BarrierError> {
    if len == 16 || len == 32 {
        Ok(())
    } else {
        Err(BarrierError::KeyLength { len })
    }
}

fn decode_key(encoded: &str) -> Result<Key, BarrierError> {
    let bytes = Zeroizing::new(BASE64.decode(encoded).map_err(|_| BarrierError::Keyring {
        problem: KeyringProblem::BadBase64,
    })?);
    if let Err(BarrierError::KeyLength { len }) = check_key_len(bytes.len()) {
        return Err(BarrierError::Keyring {
            problem: KeyringProblem::KeyLength { len },
        });
    }
    Ok(Key::from(bytes))
}

fn keyring_json(error: crate::JsonProblem) -> BarrierError {
    BarrierError::Keyring {
        problem: KeyringProblem::Json(error),
    }
}
