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
    /// Not the expected JSON.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
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

/// When Vault would rotate the active term on its own. Values are sanitised as Vault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationConfig {
    /// Automatic rotation is off.
    pub disabled: bool,
    /// Rotate after this many encryptions (1,000,000 ..= 3,865,470,566).
    pub max_operations: i64,
    /// Rotate after this many nanoseconds (0: never; otherwise at least 24 hours).
    pub interval_ns: i64,
}

impl Default for RotationConfig {
    fn default() -> Self {
        RotationConfig {
            disabled: false,
            max_operations: MAX_OPERATIONS,
            interval_ns: 0,
        }
    }
}

impl RotationConfig {
    /// Vault's sanitising: 0 or too many operations become the ceiling, too few the floor; a
    /// set interval is at least 24 hours.
    pub fn sanitized(self) -> RotationConfig {
        let max_operations = match self.max_operations {
            n if n <= 0 || n > MAX_OPERATIONS => MAX_OPERATIONS,
            n => n.max(MIN_OPERATIONS),
        };
        let interval_ns = if self.interval_ns > 0 {
            self.interval_ns.max(MIN_INTERVAL_NS)
        } else {
            0
        };
        RotationConfig {
            disabled: self.disabled,
            max_operations,
            interval_ns,
        }
    }
}

/// One term's key.
#[derive(Clone, Debug)]
pub struct TermKey {
    term: u32,
    value: Key,
    // RFC 3339 with nanoseconds, kept verbatim so a keyring round-trips byte for byte.
    install_time: String,
    encryptions: u64,
}

impl TermKey {
    /// The term.
    pub fn term(&self) -> u32 {
        self.term
    }

    /// When the term was installed, as Go's RFC 3339 with nanoseconds.
    pub fn install_time(&self) -> &str {
        &self.install_time
    }

    /// The encryptions counted under this term.
    pub fn encryptions(&self) -> u64 {
        self.encryptions
    }

    /// Vault's Key JSON: `{"Term","Version","Value","InstallTime","encryptions"}`.
    pub fn to_json(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(
            serde_json::to_vec(&KeyJson::from(self)).expect("key JSON always serializes"),
        )
    }

    /// Parses Vault's Key JSON.
    pub fn from_json(json: &[u8]) -> Result<TermKey, BarrierError> {
        let parsed: KeyJson = serde_json::from_slice(json).map_err(keyring_json)?;
        TermKey::try_from(parsed)
    }
}

/// The root key, every term's key, and the rotation configuration.
#[derive(Clone, Debug)]
pub struct Keyring {
    root_key: Key,
    terms: BTreeMap<u32, TermKey>,
    rotation: RotationConfig,
}

impl Keyring {
    /// A keyring with `root_key` and term 1 holding `first_key` (16 or 32 bytes each).
    pub fn new(root_key: Key, first_key: Key, now: SystemTime) -> Result<Keyring, BarrierError> {
        for key in [&root_key, &first_key] {
            check_key_len(key.len())?;
        }
        let first = TermKey {
            term: 1,
            value: first_key,
            install_time: rfc3339_nano(now),
            encryptions: 0,
        };
        Ok(Keyring {
            root_key,
            terms: BTreeMap::from([(1, first)]),
            rotation: RotationConfig::default(),
        })
    }

    /// The term new entries are written under: the highest.
    pub fn active_term(&self) -> u32 {
        // A keyring always holds at least one term: every constructor checks it.
        *self.terms.keys().next_back().expect("a keyring has a term")
    }

    /// Every term's key, oldest first.
    pub fn terms(&self) -> impl Iterator<Item = &TermKey> {
        self.terms.values()
    }

    /// The root key, which encrypts the keyring itself.
    pub fn root_key(&self) -> &Key {
        &self.root_key
    }

    /// The rotation configuration.
    pub fn rotation(&self) -> RotationConfig {
        self.rotation
    }

    /// Sets the rotation configuration, sanitised.
    pub fn set_rotation(&mut self, rotation: RotationConfig) {
        self.rotation = rotation.sanitized();
    }

    /// Adds term N+1 with a fresh 32-byte key and makes it active; old terms keep decrypting.
    /// Like Vault, it resets the encryption counts of the terms that are no longer active.
    /// Refuses when the active term is already `u32::MAX`.
    pub fn rotate(
        &mut self,
        now: SystemTime,
        rng: &mut impl CryptoRng,
    ) -> Result<u32, BarrierError> {
        let active = self.active_term();
        let term = active
            .checked_add(1)
            .ok_or(BarrierError::TermsExhausted { active })?;
        for key in self.terms.values_mut() {
            key.encryptions = 0;
        }
        let key = TermKey {
            term,
            value: Key::random(32, rng),
            install_time: rfc3339_nano(now),
            encryptions: 0,
        };
        self.terms.insert(term, key);
        Ok(term)
    }

    /// Encrypts `plaintext` for `path` under the active term.
    pub fn encrypt(&mut self, path: &str, plaintext: &[u8], rng: &mut impl CryptoRng) -> Vec<u8> {
        let term = self.active_term();
        let key = self
            .terms
            .get_mut(&term)
            .expect("the active term is in the keyring");
        key.encryptions = key.encryptions.saturating_add(1);
        seal_entry(&key.value, term, path, plaintext, rng)
    }

    /// Decrypts an entry stored at `path`, under whichever term it names.
    pub fn decrypt(&self, path: &str, entry: &[u8]) -> Result<Key, BarrierError> {
        let term = entry_term(path, entry)?;
        let key = self.terms.get(&term).ok_or(BarrierError::UnknownTerm {
            path: path.to_owned(),
            term,
        })?;
        decrypt_entry(&key.value, path, entry)
    }

    /// The keyring as Vault's JSON (terms in ascending order).
    pub fn to_json(&self) -> Zeroizing<Vec<u8>> {
        let json = KeyringJson {
            // The keyring JSON carries the root key by design; it is stored encrypted.
            master_key: Some(Zeroizing::new(BASE64.encode(self.root_key.expose_secret()))),
            keys: Some(self.terms.values().map(KeyJson::from).collect()),
            rotation_config: RotationJson {
                disabled: self.rotation.disabled,
                max_operations: self.rotation.max_operations,
                interval: self.rotation.interval_ns,
            },
        };
        Zeroizing::new(serde_json::to_vec(&json).expect("keyring JSON always serializes"))
    }

    /// Parses Vault's keyring JSON, sanitising the rotation configuration as Vault does.
    pub fn from_json(json: &[u8]) -> Result<Keyring, BarrierError> {
        let parsed: KeyringJson = serde_json::from_slice(json).map_err(keyring_json)?;
        let (Some(root), Some(keys)) = (parsed.master_key, parsed.keys) else {
            return Err(BarrierError::Keyring {
                problem: KeyringProblem::Empty,
            });
        };
        let root_key = decode_key(&root)?;
        let mut terms = BTreeMap::new();
        for key in keys {
            let key = TermKey::try_from(key)?;
            let term = key.term;
            if terms.insert(term, key).is_some() {
                return Err(BarrierError::Keyring {
                    problem: KeyringProblem::DuplicateTerm { term },
                });
            }
        }
        if terms.is_empty() {
            return Err(BarrierError::Keyring {
                problem: KeyringProblem::Empty,
            });
        }
        let rotation = RotationConfig {
            disabled: parsed.rotation_config.disabled,
            max_operations: parsed.rotation_config.max_operations,
            interval_ns: parsed.rotation_config.interval,
        };
        Ok(Keyring {
            root_key,
            terms,
            rotation: rotation.sanitized(),
        })
    }

    /// The keyring encrypted under its root key, as stored at [`KEYRING_PATH`] (term 1).
    pub fn seal(&self, rng: &mut impl CryptoRng) -> Vec<u8> {
        seal_entry(
            &self.root_key,
            KEYRING_TERM,
            KEYRING_PATH,
            &self.to_json(),
            rng,
        )
    }

    /// Opens a keyring entry with `root_key`.
    pub fn unseal(root_key: &Key, entry: &[u8]) -> Result<Keyring, BarrierError> {
        let term = entry_term(KEYRING_PATH, entry)?;
        if term != KEYRING_TERM {
            return Err(BarrierError::KeyringTerm { term });
        }
        let json = match decrypt_entry(root_key, KEYRING_PATH, entry) {
            Err(BarrierError::Authentication { .. }) => return Err(BarrierError::WrongRootKey),
            other => other?,
        };
        Keyring::from_json(json.expose_secret())
    }

    /// The upgrade entry for standbys: the active term's Key JSON, encrypted under the previous
    /// term at `core/upgrade/<previous>`. `None` while there is only one term.
    pub fn upgrade_entry(&self, rng: &mut impl CryptoRng) -> Option<(String, Vec<u8>)> {
        let active = self.active_term();
        let previous = self.terms.range(..active).next_back()?.1;
        let path = format!("{UPGRADE_PREFIX}{}", previous.term);
        let json = self.terms[&active].to_json();
        let entry = seal_entry(&previous.value, previous.term, &path, &json, rng);
        Some((path, entry))
    }

    /// Installs the next term from an upgrade entry written by the active node.
    pub fn apply_upgrade(&mut self, path: &str, entry: &[u8]) -> Result<u32, BarrierError> {
        let under = entry_term(path, entry)?;
        let json = self.decrypt(path, entry)?;
        let key = TermKey::from_json(json.expose_secret())?;
        if under.checked_add(1) != Some(key.term) {
            return Err(BarrierError::UpgradeTerm {
                under,
                found: key.term,
            });
        }
        let term = key.term;
        self.terms.insert(term, key);
        Ok(term)
    }
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
        let shares = shamir::split(
            kek.expose_secret(),
            config.threshold.into(),
            config.shares.into(),
            rng,
        )
        .map_err(|source| BarrierError::SealConfig { source })?;
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
        let config: SealConfig = serde_json::from_slice(&json).map_err(keyring_json)?;
        let (parts, threshold) = (usize::from(config.shares), usize::from(config.threshold));
        if threshold < 2 {
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
        let kek = shamir::combine(&given).map_err(|source| BarrierError::BadShare { source })?;
        let entry = self
            .storage
            .get(ROOT_KEY_PATH)?
            .ok_or(BarrierError::NotInitialized)?;
        let root_json = match decrypt_entry(&kek, ROOT_KEY_PATH, &entry) {
            Err(BarrierError::Authentication { .. }) => return Err(BarrierError::WrongShares),
            other => other?,
        };
        let roots: Vec<Zeroizing<String>> =
            serde_json::from_slice(root_json.expose_secret()).map_err(keyring_json)?;
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

fn keyring_json(error: serde_json::Error) -> BarrierError {
    BarrierError::Keyring {
        problem: KeyringProblem::Json(error),
    }
}

#[derive(Serialize, Deserialize)]
struct KeyringJson {
    #[serde(rename = "MasterKey")]
    master_key: Option<Zeroizing<String>>,
    #[serde(rename = "Keys")]
    keys: Option<Vec<KeyJson>>,
    #[serde(rename = "RotationConfig", default)]
    rotation_config: RotationJson,
}

#[derive(Serialize, Deserialize, Default)]
struct RotationJson {
    #[serde(rename = "Disabled", default)]
    disabled: bool,
    #[serde(rename = "MaxOperations", default)]
    max_operations: i64,
    #[serde(rename = "Interval", default)]
    interval: i64,
}

#[derive(Serialize, Deserialize)]
struct KeyJson {
    #[serde(rename = "Term")]
    term: u32,
    #[serde(rename = "Version")]
    version: i32,
    #[serde(rename = "Value")]
    value: Zeroizing<String>,
    #[serde(rename = "InstallTime")]
    install_time: String,
    #[serde(rename = "encryptions", default, skip_serializing_if = "is_zero")]
    encryptions: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl From<&TermKey> for KeyJson {
    fn from(key: &TermKey) -> Self {
        KeyJson {
            term: key.term,
            version: 1,
            // Key JSON carries the key by design; it is stored encrypted.
            value: Zeroizing::new(BASE64.encode(key.value.expose_secret())),
            install_time: key.install_time.clone(),
            encryptions: key.encryptions,
        }
    }
}

impl TryFrom<KeyJson> for TermKey {
    type Error = BarrierError;

    fn try_from(json: KeyJson) -> Result<Self, Self::Error> {
        Ok(TermKey {
            term: json.term,
            value: decode_key(&json.value)?,
            install_time: json.install_time,
            encryptions: json.encryptions,
        })
    }
}

/// Go's `time.RFC3339Nano` in UTC: trailing zeros of the fraction dropped, no fraction if zero.
fn rfc3339_nano(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    let mut out = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    );
    if since.subsec_nanos() != 0 {
        let fraction = format!("{:09}", since.subsec_nanos());
        out.push('.');
        out.push_str(fraction.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// Howard Hinnant's days-to-civil algorithm, for days since 1970-01-01.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[track_caller]
    fn check(nanos_since_epoch: u64, expected: &str) {
        assert_eq!(
            rfc3339_nano(UNIX_EPOCH + Duration::from_nanos(nanos_since_epoch)),
            expected
        );
    }

    #[test]
    fn install_times_print_like_gos_rfc3339_nano() {
        check(0, "1970-01-01T00:00:00Z");
        check(1_704_164_645_123_456_789, "2024-01-02T03:04:05.123456789Z");
        check(1_704_164_645_120_000_000, "2024-01-02T03:04:05.12Z");
        check(951_782_400_000_000_001, "2000-02-29T00:00:00.000000001Z");
        check(4_102_444_799_000_000_000, "2099-12-31T23:59:59Z");
    }

    #[test]
    fn rotation_config_is_sanitised_like_vaults() {
        let config = |max_operations, interval_ns| {
            RotationConfig {
                disabled: false,
                max_operations,
                interval_ns,
            }
            .sanitized()
        };
        assert_eq!(config(0, 0), config(MAX_OPERATIONS, 0));
        assert_eq!(config(i64::MAX, 0).max_operations, MAX_OPERATIONS);
        assert_eq!(config(5, 0).max_operations, MIN_OPERATIONS);
        assert_eq!(config(2_000_000, 0).max_operations, 2_000_000);
        assert_eq!(config(0, 1).interval_ns, MIN_INTERVAL_NS);
        assert_eq!(config(0, -1).interval_ns, 0);
    }
}
