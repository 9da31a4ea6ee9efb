//! The keyring: the root key, one key per term, the active term and the rotation config,
//! serialized as Vault's JSON (with Vault's RFC 3339 timestamps).

use super::*;

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
        let parsed: KeyJson = crate::json::from_slice(json).map_err(keyring_json)?;
        TermKey::try_from(parsed)
    }
}

/// The root key, every term's key, and the rotation configuration.
#[derive(Clone, Debug)]
pub struct Keyring {
    root_key: Key,
    pub(super) terms: BTreeMap<u32, TermKey>,
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
        let parsed: KeyringJson = crate::json::from_slice(json).map_err(keyring_json)?;
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
