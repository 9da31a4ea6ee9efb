//! The token store: tokens kept only as salted HMAC-SHA256 hashes inside the barrier, with TTLs,
//! use counts, and parent links so that revoking a token revokes its children.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime};

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use underhood_secret_crypto::{Key, os_rng};

use crate::error::ApiError;
use crate::store::{self, Vault};
use crate::timefmt::unix_secs;

const SALT_PATH: &str = "sys/token/salt";
const ID_PREFIX: &str = "sys/token/id/";
/// Vault's default and maximum token TTL: 768 hours (32 days).
pub(crate) const DEFAULT_TTL: Duration = Duration::from_secs(768 * 3600);

/// What the store remembers of a token (never the token itself).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TokenEntry {
    /// The salted hash of the token, the entry's key.
    pub(crate) hash: String,
    pub(crate) accessor: String,
    pub(crate) policies: Vec<String>,
    /// The parent's hash; `None` for an orphan.
    pub(crate) parent: Option<String>,
    pub(crate) display_name: String,
    pub(crate) meta: BTreeMap<String, String>,
    /// Uses left; 0 is unlimited.
    pub(crate) num_uses: u64,
    pub(crate) creation_time: u64,
    /// The TTL given at creation or the last renewal, in seconds; 0 never expires.
    pub(crate) ttl: u64,
    /// Seconds since the epoch when it expires; `None` never.
    pub(crate) expire_time: Option<u64>,
    /// No renewal may push the expiry past creation + this (0: only the system maximum).
    pub(crate) explicit_max_ttl: u64,
    pub(crate) renewable: bool,
    pub(crate) path: String,
}

impl TokenEntry {
    pub(crate) fn is_root(&self) -> bool {
        self.policies.iter().any(|p| p == "root")
    }

    /// Seconds left; 0 for a token that never expires.
    pub(crate) fn ttl_left(&self, now: SystemTime) -> u64 {
        self.expire_time
            .map_or(0, |at| at.saturating_sub(unix_secs(now)))
    }
}

/// The tokens, cached in memory while unsealed (dropped on seal) and written through.
pub(crate) struct Tokens {
    salt: Key,
    by_hash: HashMap<String, TokenEntry>,
    by_accessor: HashMap<String, String>,
}

impl Tokens {
    /// Loads the salt (making it on first use) and every token entry.
    pub(crate) fn load(barrier: &mut Vault) -> Result<Tokens, ApiError> {
        let salt = match barrier.get(SALT_PATH)? {
            Some(salt) => salt,
            None => {
                let salt = Key::random(32, &mut os_rng());
                // The salt is stored inside the barrier, encrypted like every entry.
                barrier.put(SALT_PATH, salt.expose_secret(), &mut os_rng())?;
                salt
            }
        };
        let mut tokens = Tokens {
            salt,
            by_hash: HashMap::new(),
            by_accessor: HashMap::new(),
        };
        for path in store::list_prefix(barrier, ID_PREFIX)? {
            if let Some(entry) = store::get_json::<TokenEntry>(barrier, &path)? {
                tokens
                    .by_accessor
                    .insert(entry.accessor.clone(), entry.hash.clone());
                tokens.by_hash.insert(entry.hash.clone(), entry);
            }
        }
        Ok(tokens)
    }

    /// The salted hash of a token, as lowercase hex.
    pub(crate) fn hash(&self, token: &str) -> String {
        // The salt keys the HMAC; it never leaves the barrier.
        let mut mac = Hmac::<Sha256>::new_from_slice(self.salt.expose_secret())
            .expect("HMAC takes keys of any length");
        mac.update(token.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The live entry for `token`. The map is keyed by the salted hash, so a timing difference
    /// can reveal only bits of a keyed hash; the final comparison runs in constant time.
    pub(crate) fn find(&self, token: &str, now: SystemTime) -> Option<&TokenEntry> {
        let hash = self.hash(token);
        let entry = self.by_hash.get(&hash)?;
        if !bool::from(entry.hash.as_bytes().ct_eq(hash.as_bytes())) {
            return None;
        }
        self.alive(entry, now).then_some(entry)
    }

    /// Whether the token and every ancestor are unexpired (a child dies with its parent, even
    /// before the expired parent is swept from storage).
    fn alive(&self, entry: &TokenEntry, now: SystemTime) -> bool {
        let now = unix_secs(now);
        let mut current = entry;
        // Parent links form a tree built one token at a time, so the chain is finite; the bound
        // only guards against a corrupt store.
        for _ in 0..=self.by_hash.len() {
            if current.expire_time.is_some_and(|at| now >= at) {
                return false;
            }
            match &current.parent {
                None => return true,
                Some(parent) => match self.by_hash.get(parent) {
                    Some(parent) => current = parent,
                    None => return false,
                },
            }
        }
        false
    }

    /// Revokes one token and makes its children orphans.
    pub(crate) fn orphan_children_and_revoke(
        &mut self,
        barrier: &mut Vault,
        hash: &str,
    ) -> Result<(), ApiError> {
        let children: Vec<TokenEntry> = self
            .by_hash
            .values()
            .filter(|e| e.parent.as_deref() == Some(hash))
            .cloned()
            .collect();
        for mut child in children {
            child.parent = None;
            self.put(barrier, child)?;
        }
        self.revoke(barrier, hash)
    }

    pub(crate) fn by_accessor(&self, accessor: &str) -> Option<&TokenEntry> {
        self.by_hash.get(self.by_accessor.get(accessor)?)
    }

    pub(crate) fn get(&self, hash: &str) -> Option<&TokenEntry> {
        self.by_hash.get(hash)
    }

    /// Stores a new or changed entry; durable when this returns.
    pub(crate) fn put(&mut self, barrier: &mut Vault, entry: TokenEntry) -> Result<(), ApiError> {
        store::put_json(barrier, &format!("{ID_PREFIX}{}", entry.hash), &entry)?;
        self.by_accessor
            .insert(entry.accessor.clone(), entry.hash.clone());
        self.by_hash.insert(entry.hash.clone(), entry);
        Ok(())
    }

    /// Uses a token once: a limited token loses a use, and is revoked after its last.
    pub(crate) fn spend_use(&mut self, barrier: &mut Vault, hash: &str) -> Result<(), ApiError> {
        let Some(entry) = self.by_hash.get(hash) else {
            return Ok(());
        };
        match entry.num_uses {
            0 => Ok(()),
            1 => self.revoke(barrier, hash),
            left => {
                let mut entry = entry.clone();
                entry.num_uses = left - 1;
                self.put(barrier, entry)
            }
        }
    }

    /// Revokes a token and all its descendants; children go first, so a crash part way leaves
    /// no orphaned child behind a revoked parent.
    pub(crate) fn revoke(&mut self, barrier: &mut Vault, hash: &str) -> Result<(), ApiError> {
        let mut order = vec![hash.to_owned()];
        let mut idx = 0;
        while idx < order.len() {
            let parent = order[idx].clone();
            order.extend(
                self.by_hash
                    .values()
                    .filter(|e| e.parent.as_deref() == Some(parent.as_str()))
                    .map(|e| e.hash.clone()),
            );
            idx += 1;
        }
        for hash in order.iter().rev() {
            barrier.delete(&format!("{ID_PREFIX}{hash}"))?;
            if let Some(entry) = self.by_hash.remove(hash) {
                self.by_accessor.remove(&entry.accessor);
            }
        }
        Ok(())
    }

    /// Drops expired tokens (and their children) from storage.
    pub(crate) fn expire(&mut self, barrier: &mut Vault, now: SystemTime) -> Result<(), ApiError> {
        let now = unix_secs(now);
        let expired: Vec<String> = self
            .by_hash
            .values()
            .filter(|e| e.expire_time.is_some_and(|at| now >= at))
            .map(|e| e.hash.clone())
            .collect();
        for hash in expired {
            if self.by_hash.contains_key(&hash) {
                self.revoke(barrier, &hash)?;
            }
        }
        Ok(())
    }
}

/// A new random token in Vault's service-token shape, `hvs.` and 24 base62 characters.
pub(crate) fn new_token_id() -> String {
    format!("hvs.{}", base62(24))
}

/// A new random accessor.
pub(crate) fn new_accessor() -> String {
    base62(24)
}

fn base62(len: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = os_rng();
    let mut out = String::with_capacity(len);
    while out.len() < len {
        let mut byte = [0u8];
        rand_core::Rng::fill_bytes(&mut rng, &mut byte);
        // 248 = 4 × 62: rejecting the rest keeps every character equally likely.
        if byte[0] < 248 {
            out.push(char::from(ALPHABET[usize::from(byte[0] % 62)]));
        }
    }
    out
}
