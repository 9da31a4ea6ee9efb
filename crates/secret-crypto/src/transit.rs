//! Vault's transit engine: named keys with versions and `vault:vN:base64` ciphertexts.
//!
//! A [`TransitKey`] encrypts with its latest version (or the one asked for), decrypts any version
//! from `min_decryption_version` on, rotates, rewraps and makes data keys. Derived keys take a
//! per-request context; convergent keys encrypt deterministically (Vault's convergent version 3).

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::Key;
use crate::aead::Cipher;

/// The cipher of a transit key, named as Vault names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum KeyType {
    /// `aes256-gcm96`: AES-256-GCM with a 96-bit random nonce (Vault's default).
    #[serde(rename = "aes256-gcm96")]
    Aes256Gcm96,
    /// `aes128-gcm96`: AES-128-GCM with a 96-bit random nonce.
    #[serde(rename = "aes128-gcm96")]
    Aes128Gcm96,
    /// `chacha20-poly1305`.
    #[serde(rename = "chacha20-poly1305")]
    ChaCha20Poly1305,
    /// `xchacha20-poly1305`, with a 192-bit nonce (OpenBao only).
    #[serde(rename = "xchacha20-poly1305")]
    XChaCha20Poly1305,
}

impl KeyType {
    /// Every key type, in Vault's naming.
    pub const ALL: [KeyType; 4] = [
        KeyType::Aes256Gcm96,
        KeyType::Aes128Gcm96,
        KeyType::ChaCha20Poly1305,
        KeyType::XChaCha20Poly1305,
    ];

    /// Vault's name for the type, such as `aes256-gcm96`.
    pub fn name(self) -> &'static str {
        match self {
            KeyType::Aes256Gcm96 => "aes256-gcm96",
            KeyType::Aes128Gcm96 => "aes128-gcm96",
            KeyType::ChaCha20Poly1305 => "chacha20-poly1305",
            KeyType::XChaCha20Poly1305 => "xchacha20-poly1305",
        }
    }

    /// The type with Vault's name `name`.
    pub fn parse(name: &str) -> Result<KeyType, TransitError> {
        KeyType::ALL
            .into_iter()
            .find(|t| t.name() == name)
            .ok_or_else(|| TransitError::UnknownKeyType {
                name: name.to_owned(),
            })
    }

    /// The length of one version's key.
    pub fn key_len(self) -> usize {
        match self {
            KeyType::Aes128Gcm96 => 16,
            _ => 32,
        }
    }

    fn cipher(self) -> Cipher {
        match self {
            KeyType::Aes256Gcm96 => Cipher::Aes256Gcm,
            KeyType::Aes128Gcm96 => Cipher::Aes128Gcm,
            KeyType::ChaCha20Poly1305 => Cipher::ChaCha20Poly1305,
            KeyType::XChaCha20Poly1305 => Cipher::XChaCha20Poly1305,
        }
    }
}

/// How a request's encryption key comes from the version key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Derivation {
    /// The version key is used as is; a context is refused.
    #[default]
    Direct,
    /// `HKDF-SHA256(ikm = version key, salt = empty, info = context)`; a context is required.
    Hkdf,
    /// Vault's legacy `kdf = 0`: one block of `HMAC-SHA256(key, BE32(0) ‖ context ‖ BE32(256))`.
    /// Only for 256-bit key types.
    LegacyCounter,
    /// Convergent encryption (version 3): HKDF gives the key and an HMAC key, and the nonce is
    /// the HMAC of the plaintext, so equal (version, context, plaintext) give equal ciphertexts.
    Convergent,
}

/// Per-request inputs. Empty slices count as absent, as in Vault.
#[derive(Debug, Clone, Copy, Default)]
pub struct Params<'a> {
    /// The derivation context: required by derived keys, refused by others.
    pub context: Option<&'a [u8]>,
    /// Associated data, authenticated but not stored in the ciphertext.
    pub associated_data: Option<&'a [u8]>,
    /// The version to encrypt with (default: the latest). Decryption uses the ciphertext's own.
    pub key_version: Option<u32>,
}

/// One item of a batch: its own plaintext (or ciphertext) and its own params.
#[derive(Debug, Clone, Copy)]
pub struct BatchItem<'a> {
    /// The plaintext to encrypt, or the ciphertext text to decrypt or rewrap.
    pub input: &'a [u8],
    /// This item's context, associated data and key version.
    pub params: Params<'a>,
}

/// Why a transit operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransitError {
    /// The ciphertext text is not `vault:v<N>:<base64>`, or too short to hold a nonce and tag.
    #[error("invalid ciphertext: {problem}")]
    Malformed {
        /// What is wrong.
        problem: CiphertextProblem,
    },
    /// The ciphertext names a version after the latest.
    #[error("invalid ciphertext: version is too new (v{version}, latest is v{latest})")]
    VersionTooNew {
        /// The ciphertext's version.
        version: u32,
        /// The key's latest version.
        latest: u32,
    },
    /// The ciphertext names a version below `min_decryption_version`.
    #[error(
        "ciphertext or signature version is disallowed by policy (too old) (v{version}, minimum is v{min})"
    )]
    VersionTooOld {
        /// The ciphertext's version.
        version: u32,
        /// The key's `min_decryption_version`.
        min: u32,
    },
    /// Encryption asked for a version outside `min_encryption_version ..= latest`.
    #[error("cannot encrypt with key version {version}: allowed are {min} to {latest}")]
    EncryptVersion {
        /// The version asked for.
        version: u32,
        /// The lowest allowed.
        min: u32,
        /// The latest.
        latest: u32,
    },
    /// The key is derived and no context was given.
    #[error("missing 'context' for key derivation: key {name:?} is derived")]
    ContextRequired {
        /// The key's name.
        name: String,
    },
    /// A context was given to a key that is not derived (Vault silently ignores it).
    #[error("key {name:?} is not derived, so a context would be ignored; refusing it")]
    ContextNotAllowed {
        /// The key's name.
        name: String,
    },
    /// Authentication failed: wrong key, context, associated data, or a tampered ciphertext.
    #[error("cipher: message authentication failed (key version {version})")]
    Authentication {
        /// The version the ciphertext named.
        version: u32,
    },
    /// A data key size other than 128, 256 or 512 bits.
    #[error("invalid data key size {bits}: use 128, 256 or 512 bits")]
    DataKeyBits {
        /// The size asked for.
        bits: u32,
    },
    /// A minimum version outside what the key allows.
    #[error(
        "invalid {which} {version}: latest version is {latest}, min_decryption_version is {min_decryption}"
    )]
    MinVersion {
        /// Which minimum.
        which: MinVersionKind,
        /// The value asked for.
        version: u32,
        /// The latest version.
        latest: u32,
        /// The current `min_decryption_version`.
        min_decryption: u32,
    },
    /// A key type name Vault does not have.
    #[error("unknown key type {name:?}")]
    UnknownKeyType {
        /// The name given.
        name: String,
    },
    /// The legacy counter KDF only makes 256-bit keys.
    #[error("the legacy counter KDF cannot derive {} keys", key_type.name())]
    UnsupportedDerivation {
        /// The key type.
        key_type: KeyType,
    },
    /// A key given to [`TransitKey::from_versions`] or read from a key file has the wrong length.
    #[error("key version {version} is {found} bytes, {key_type:?} needs {expected}")]
    KeyLength {
        /// The version.
        version: u32,
        /// The type's key length.
        expected: usize,
        /// The length found.
        found: usize,
        /// The key type.
        key_type: KeyType,
    },
    /// A key file that does not parse or breaks the key's invariants.
    #[error("invalid key file: {problem}")]
    KeyFile {
        /// What is wrong.
        problem: KeyFileProblem,
    },
}

/// Which minimum version a [`TransitError::MinVersion`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MinVersionKind {
    /// `min_decryption_version`: 1 ..= latest.
    Decryption,
    /// `min_encryption_version`: 0, or min_decryption_version ..= latest.
    Encryption,
}

impl fmt::Display for MinVersionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MinVersionKind::Decryption => "min_decryption_version",
            MinVersionKind::Encryption => "min_encryption_version",
        })
    }
}

/// What is wrong with a ciphertext's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CiphertextProblem {
    /// It does not start with `vault:v`.
    #[error("no prefix")]
    NoPrefix,
    /// The version is not a decimal number followed by `:`.
    #[error("version number could not be decoded")]
    BadVersion,
    /// The payload is not standard base64.
    #[error("could not decode base64")]
    BadBase64,
    /// The payload is shorter than a nonce and a tag.
    #[error("{len} bytes is too short for a nonce and a tag")]
    TooShort {
        /// The payload's length.
        len: usize,
    },
}

/// What is wrong with a key file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileProblem {
    /// Not the expected JSON; names the field, never its value.
    #[error(transparent)]
    Json(#[from] crate::JsonProblem),
    /// A key is not standard base64.
    #[error("key version {version} is not base64")]
    BadBase64 {
        /// The version.
        version: u32,
    },
    /// The versions are not exactly 1 ..= latest_version.
    #[error("versions must be 1 to {latest} without gaps")]
    Versions {
        /// The recorded latest version.
        latest: u32,
    },
    /// Convergent encryption without a derived HKDF key, or a convergent version other than 3.
    #[error("convergent encryption needs derived=true, kdf=hkdf_sha256 and convergent_version=3")]
    Convergent,
}

/// A named transit key with its versions. Key material zeroizes on drop and is never printed.
#[derive(Clone)]
pub struct TransitKey {
    name: String,
    key_type: KeyType,
    derivation: Derivation,
    // versions[i] is version i + 1.
    versions: Vec<Key>,
    min_decryption_version: u32,
    min_encryption_version: u32,
}

impl fmt::Debug for TransitKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransitKey")
            .field("name", &self.name)
            .field("key_type", &self.key_type)
            .field("derivation", &self.derivation)
            .field("latest_version", &self.latest_version())
            .field("min_decryption_version", &self.min_decryption_version)
            .finish_non_exhaustive()
    }
}

impl TransitKey {
    /// A new key that is not derived, with one random version.
    pub fn new(name: &str, key_type: KeyType, rng: &mut impl CryptoRng) -> TransitKey {
        let key = Key::random(key_type.key_len(), rng);
        TransitKey::build(name, key_type, Derivation::Direct, vec![key])
    }

    /// A new key with the given derivation, with one random version.
    pub fn with_derivation(
        name: &str,
        key_type: KeyType,
        derivation: Derivation,
        rng: &mut impl CryptoRng,
    ) -> Result<TransitKey, TransitError> {
        TransitKey::from_versions(
            name,
            key_type,
            derivation,
            vec![Key::random(key_type.key_len(), rng)],
        )
    }

    /// A key from existing version keys (`versions[0]` is version 1), for imports and vectors.
    pub fn from_versions(
        name: &str,
        key_type: KeyType,
        derivation: Derivation,
        versions: Vec<Key>,
    ) -> Result<TransitKey, TransitError> {
        if derivation == Derivation::LegacyCounter && key_type.key_len() != 32 {
            return Err(TransitError::UnsupportedDerivation { key_type });
        }
        if versions.is_empty() {
            return Err(TransitError::KeyFile {
                problem: KeyFileProblem::Versions { latest: 0 },
            });
        }
        for (i, key) in versions.iter().enumerate() {
            if key.len() != key_type.key_len() {
                return Err(TransitError::KeyLength {
                    version: version_of(i),
                    expected: key_type.key_len(),
                    found: key.len(),
                    key_type,
                });
            }
        }
        Ok(TransitKey::build(name, key_type, derivation, versions))
    }

    fn build(
        name: &str,
        key_type: KeyType,
        derivation: Derivation,
        versions: Vec<Key>,
    ) -> TransitKey {
        TransitKey {
            name: name.to_owned(),
            key_type,
            derivation,
            versions,
            min_decryption_version: 1,
            min_encryption_version: 0,
        }
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key's cipher.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// How request keys are derived.
    pub fn derivation(&self) -> Derivation {
        self.derivation
    }

    /// The newest version, which encryption uses by default.
    pub fn latest_version(&self) -> u32 {
        version_of(self.versions.len() - 1)
    }

    /// The oldest version decryption accepts.
    pub fn min_decryption_version(&self) -> u32 {
        self.min_decryption_version
    }

    /// The oldest version encryption accepts (0: any the key still decrypts).
    pub fn min_encryption_version(&self) -> u32 {
        self.min_encryption_version
    }

    /// Adds a new random version and returns its number; old versions still decrypt.
    pub fn rotate(&mut self, rng: &mut impl CryptoRng) -> u32 {
        self.versions
            .push(Key::random(self.key_type.key_len(), rng));
        self.latest_version()
    }

    /// Refuses ciphertexts of versions below `version` (1 ..= latest).
    pub fn set_min_decryption_version(&mut self, version: u32) -> Result<(), TransitError> {
        if version == 0
            || version > self.latest_version()
            || (self.min_encryption_version != 0 && version > self.min_encryption_version)
        {
            return Err(self.min_error(MinVersionKind::Decryption, version));
        }
        self.min_decryption_version = version;
        Ok(())
    }

    /// Refuses to encrypt with versions below `version` (0, or min_decryption_version ..= latest).
    pub fn set_min_encryption_version(&mut self, version: u32) -> Result<(), TransitError> {
        if version != 0
            && (version < self.min_decryption_version || version > self.latest_version())
        {
            return Err(self.min_error(MinVersionKind::Encryption, version));
        }
        self.min_encryption_version = version;
        Ok(())
    }

    fn min_error(&self, which: MinVersionKind, version: u32) -> TransitError {
        TransitError::MinVersion {
            which,
            version,
            latest: self.latest_version(),
            min_decryption: self.min_decryption_version,
        }
    }

    /// Encrypts `plaintext` to `vault:v<N>:<base64>`, drawing the nonce from `rng` (unless the key
    /// is convergent).
    pub fn encrypt(
        &self,
        plaintext: &[u8],
        params: &Params<'_>,
        rng: &mut impl CryptoRng,
    ) -> Result<String, TransitError> {
        let version = self.encryption_version(params.key_version)?;
        let (key, hmac_key) = self.request_keys(version, params.context)?;
        let cipher = self.key_type.cipher();
        let mut nonce = vec![0u8; cipher.nonce_len()];
        match &hmac_key {
            Some(hmac_key) => {
                let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(hmac_key.expose_secret())
                    .expect("HMAC takes keys of any length");
                mac.update(plaintext);
                nonce.copy_from_slice(&mac.finalize().into_bytes()[..cipher.nonce_len()]);
            }
            None => rng.fill_bytes(&mut nonce),
        }
        let aad = non_empty(params.associated_data).unwrap_or_default();
        let sealed = cipher
            .seal(key.expose_secret(), &nonce, aad, plaintext)
            .expect("key and nonce lengths match the cipher by construction");
        nonce.extend_from_slice(&sealed);
        Ok(format!("vault:v{version}:{}", BASE64.encode(&nonce)))
    }

    /// Decrypts a `vault:v<N>:` ciphertext with the context and associated data it was made with.
    pub fn decrypt(&self, ciphertext: &str, params: &Params<'_>) -> Result<Key, TransitError> {
        let (version, payload) = parse_ciphertext(ciphertext)?;
        let version = version.max(1);
        if version > self.latest_version() {
            return Err(TransitError::VersionTooNew {
                version,
                latest: self.latest_version(),
            });
        }
        if version < self.min_decryption_version {
            return Err(TransitError::VersionTooOld {
                version,
                min: self.min_decryption_version,
            });
        }
        let (key, _) = self.request_keys(version, params.context)?;
        let cipher = self.key_type.cipher();
        if payload.len() < cipher.nonce_len() + 16 {
            return Err(TransitError::Malformed {
                problem: CiphertextProblem::TooShort { len: payload.len() },
            });
        }
        let (nonce, sealed) = payload.split_at(cipher.nonce_len());
        let aad = non_empty(params.associated_data).unwrap_or_default();
        cipher
            .open(key.expose_secret(), nonce, aad, sealed)
            .map(Key::new)
            .map_err(|_| TransitError::Authentication { version })
    }

    /// Decrypts `ciphertext` and encrypts it again with `params.key_version` (default: latest),
    /// keeping its context and associated data.
    pub fn rewrap(
        &self,
        ciphertext: &str,
        params: &Params<'_>,
        rng: &mut impl CryptoRng,
    ) -> Result<String, TransitError> {
        let plaintext = self.decrypt(ciphertext, params)?;
        // Re-encrypting needs the plaintext; it stays in a zeroizing Key throughout.
        self.encrypt(plaintext.expose_secret(), params, rng)
    }

    /// A new random data key of `bits` (128, 256 or 512), and its encryption under this key.
    pub fn data_key(
        &self,
        bits: u32,
        params: &Params<'_>,
        rng: &mut impl CryptoRng,
    ) -> Result<(Key, String), TransitError> {
        if !matches!(bits, 128 | 256 | 512) {
            return Err(TransitError::DataKeyBits { bits });
        }
        let data_key = Key::random(bits as usize / 8, rng);
        // Wrapping the data key is what it is for.
        let wrapped = self.encrypt(data_key.expose_secret(), params, rng)?;
        Ok((data_key, wrapped))
    }

    /// Encrypts every item with its own params (its `key_version` is honoured); one result each.
    pub fn encrypt_batch(
        &self,
        items: &[BatchItem<'_>],
        rng: &mut impl CryptoRng,
    ) -> Vec<Result<String, TransitError>> {
        items
            .iter()
            .map(|item| self.encrypt(item.input, &item.params, rng))
            .collect()
    }

    /// Decrypts every item (its input is the ciphertext text); one result each.
    pub fn decrypt_batch(&self, items: &[BatchItem<'_>]) -> Vec<Result<Key, TransitError>> {
        items
            .iter()
            .map(|item| {
                let text =
                    std::str::from_utf8(item.input).map_err(|_| TransitError::Malformed {
                        problem: CiphertextProblem::NoPrefix,
                    })?;
                self.decrypt(text, &item.params)
            })
            .collect()
    }

    /// Rewraps every item to its own `key_version` (default: latest); one result each.
    pub fn rewrap_batch(
        &self,
        items: &[BatchItem<'_>],
        rng: &mut impl CryptoRng,
    ) -> Vec<Result<String, TransitError>> {
        items
            .iter()
            .map(|item| {
                let text =
                    std::str::from_utf8(item.input).map_err(|_| TransitError::Malformed {
                        problem: CiphertextProblem::NoPrefix,
                    })?;
                self.rewrap(text, &item.params, rng)
            })
            .collect()
    }

    /// The key as JSON, key material included: store it like the secret it is.
    pub fn to_json(&self) -> Zeroizing<String> {
        let file = KeyFile {
            name: self.name.clone(),
            key_type: self.key_type,
            derived: self.derivation != Derivation::Direct,
            kdf: match self.derivation {
                Derivation::LegacyCounter => KDF_COUNTER,
                _ => KDF_HKDF,
            },
            convergent_encryption: self.derivation == Derivation::Convergent,
            convergent_version: if self.derivation == Derivation::Convergent {
                3
            } else {
                0
            },
            latest_version: self.latest_version(),
            min_decryption_version: self.min_decryption_version,
            min_encryption_version: self.min_encryption_version,
            keys: self
                .versions
                .iter()
                .enumerate()
                // The key file carries the key material by design.
                .map(|(i, key)| {
                    (
                        version_of(i).to_string(),
                        Zeroizing::new(BASE64.encode(key.expose_secret())),
                    )
                })
                .collect(),
        };
        Zeroizing::new(serde_json::to_string_pretty(&file).expect("a key file always serializes"))
    }

    /// Reads a key written by [`TransitKey::to_json`], checking every invariant.
    pub fn from_json(json: &str) -> Result<TransitKey, TransitError> {
        let file: KeyFile = crate::json::from_slice(json.as_bytes())
            .map_err(|e| TransitError::KeyFile { problem: e.into() })?;
        let derivation = match (
            file.derived,
            file.kdf,
            file.convergent_encryption,
            file.convergent_version,
        ) {
            (false, _, false, _) => Derivation::Direct,
            (true, KDF_HKDF, false, _) => Derivation::Hkdf,
            (true, KDF_COUNTER, false, _) => Derivation::LegacyCounter,
            (true, KDF_HKDF, true, 3) => Derivation::Convergent,
            _ => {
                return Err(TransitError::KeyFile {
                    problem: KeyFileProblem::Convergent,
                });
            }
        };
        let latest = file.latest_version;
        let mut versions = Vec::with_capacity(file.keys.len());
        for version in 1..=latest {
            let encoded = file
                .keys
                .get(&version.to_string())
                .ok_or(TransitError::KeyFile {
                    problem: KeyFileProblem::Versions { latest },
                })?;
            let bytes = Zeroizing::new(BASE64.decode(encoded.as_bytes()).map_err(|_| {
                TransitError::KeyFile {
                    problem: KeyFileProblem::BadBase64 { version },
                }
            })?);
            versions.push(Key::from(bytes));
        }
        if versions.len() != file.keys.len() {
            return Err(TransitError::KeyFile {
                problem: KeyFileProblem::Versions { latest },
            });
        }
        let mut key = TransitKey::from_versions(&file.name, file.key_type, derivation, versions)?;
        key.set_min_decryption_version(file.min_decryption_version)?;
        key.set_min_encryption_version(file.min_encryption_version)?;
        Ok(key)
    }

    fn encryption_version(&self, requested: Option<u32>) -> Result<u32, TransitError> {
        let latest = self.latest_version();
        let min = self.min_encryption_version.max(self.min_decryption_version);
        match requested {
            None | Some(0) => Ok(latest),
            Some(version) if (min..=latest).contains(&version) => Ok(version),
            Some(version) => Err(TransitError::EncryptVersion {
                version,
                min,
                latest,
            }),
        }
    }

    /// The encryption key for `version` and `context`, and the convergent HMAC key if any.
    fn request_keys(
        &self,
        version: u32,
        context: Option<&[u8]>,
    ) -> Result<(Key, Option<Key>), TransitError> {
        // Callers bound version to 1 ..= latest.
        let base = &self.versions[version as usize - 1];
        let context = non_empty(context);
        let len = self.key_type.key_len();
        match (self.derivation, context) {
            (Derivation::Direct, None) => Ok((base.clone(), None)),
            (Derivation::Direct, Some(_)) => Err(TransitError::ContextNotAllowed {
                name: self.name.clone(),
            }),
            (_, None) => Err(TransitError::ContextRequired {
                name: self.name.clone(),
            }),
            (Derivation::Hkdf, Some(context)) => Ok((hkdf(base, context, len), None)),
            (Derivation::Convergent, Some(context)) => {
                let okm = hkdf(base, context, len + 32);
                // Splitting derived material into its two keys.
                let (enc, mac) = okm.expose_secret().split_at(len);
                Ok((Key::from_slice(enc), Some(Key::from_slice(mac))))
            }
            (Derivation::LegacyCounter, Some(context)) => {
                let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(base.expose_secret())
                    .expect("HMAC takes keys of any length");
                mac.update(&0u32.to_be_bytes());
                mac.update(context);
                mac.update(&256u32.to_be_bytes());
                Ok((Key::from_slice(&mac.finalize().into_bytes()), None))
            }
        }
    }
}

/// The version a `vault:v<N>:` ciphertext names, without decrypting it (to inventory old data).
pub fn parse_version(ciphertext: &str) -> Result<u32, TransitError> {
    parse_ciphertext(ciphertext).map(|(version, _)| version.max(1))
}

const KDF_COUNTER: u8 = 0;
const KDF_HKDF: u8 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    name: String,
    #[serde(rename = "type")]
    key_type: KeyType,
    derived: bool,
    kdf: u8,
    convergent_encryption: bool,
    convergent_version: u32,
    latest_version: u32,
    min_decryption_version: u32,
    min_encryption_version: u32,
    keys: BTreeMap<String, Zeroizing<String>>,
}

fn parse_ciphertext(text: &str) -> Result<(u32, Zeroizing<Vec<u8>>), TransitError> {
    let malformed = |problem| TransitError::Malformed { problem };
    let rest = text
        .strip_prefix("vault:v")
        .ok_or(malformed(CiphertextProblem::NoPrefix))?;
    let (digits, payload) = rest
        .split_once(':')
        .ok_or(malformed(CiphertextProblem::BadVersion))?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed(CiphertextProblem::BadVersion));
    }
    let version = digits
        .parse()
        .map_err(|_| malformed(CiphertextProblem::BadVersion))?;
    let payload = BASE64
        .decode(payload)
        .map_err(|_| malformed(CiphertextProblem::BadBase64))?;
    Ok((version, Zeroizing::new(payload)))
}

fn hkdf(ikm: &Key, info: &[u8], len: usize) -> Key {
    let mut okm = vec![0u8; len];
    Hkdf::<Sha256>::new(None, ikm.expose_secret())
        .expand(info, &mut okm)
        .expect("at most 64 bytes, far below HKDF's limit");
    Key::new(okm)
}

fn non_empty(bytes: Option<&[u8]>) -> Option<&[u8]> {
    bytes.filter(|b| !b.is_empty())
}

fn version_of(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}
