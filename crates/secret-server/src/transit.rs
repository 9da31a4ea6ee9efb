//! The transit engine: named keys with versions, encrypt/decrypt/rewrap/datakey with
//! `batch_input`, rotation and minimum versions, on `underhood-secret-crypto`'s transit keys.

use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use underhood_secret_crypto::os_rng;
use underhood_secret_crypto::transit::{
    self, Derivation, KeyType, Params, TransitError, TransitKey,
};
use zeroize::Zeroizing;

use crate::body::Body;
use crate::error::ApiError;
use crate::store::{self, Vault};
use crate::timefmt::unix_secs;
use crate::{Operation, Response};

/// A key as stored: the crate's key file plus what the server adds.
#[derive(Serialize, Deserialize)]
struct StoredKey {
    key: String,
    deletion_allowed: bool,
    /// When each version was made, seconds since the epoch; `version_times[0]` is version 1.
    version_times: Vec<u64>,
}

impl Drop for StoredKey {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.key);
    }
}

struct LoadedKey {
    key: TransitKey,
    deletion_allowed: bool,
    version_times: Vec<u64>,
}

/// Whether a write to `rest` would update an existing key (else it creates one).
pub(crate) fn exists(barrier: &Vault, uuid: &str, rest: &str) -> Result<bool, ApiError> {
    match rest.split_once('/') {
        Some(("keys" | "encrypt", name)) if !name.contains('/') => {
            Ok(barrier.get(&key_path(uuid, name))?.is_some())
        }
        _ => Ok(true),
    }
}

/// Serves one request below the mount; `rest` is the path after the mount's `/`.
pub(crate) fn handle(
    barrier: &mut Vault,
    uuid: &str,
    operation: Operation,
    rest: &str,
    body: &Body,
    now: SystemTime,
) -> Result<Response, ApiError> {
    let parts: Vec<&str> = rest.split('/').collect();
    match (parts.as_slice(), operation) {
        (["keys"] | ["keys", ""], Operation::List) => list(barrier, uuid),
        (["keys", name], Operation::Read) => {
            let key = load(barrier, uuid, name)?.ok_or(ApiError::NotFound)?;
            Ok(Response::ok(describe(&key)))
        }
        (["keys", name], Operation::Write) => create(barrier, uuid, name, body, now),
        (["keys", name], Operation::Delete) => {
            let key = load(barrier, uuid, name)?.ok_or(ApiError::NotFound)?;
            if !key.deletion_allowed {
                return Err(ApiError::bad("deletion is not allowed for this key"));
            }
            barrier.delete(&key_path(uuid, name))?;
            Ok(Response::no_content())
        }
        (["keys", name, "rotate"], Operation::Write) => {
            let mut key = existing(barrier, uuid, name)?;
            key.key.rotate(&mut os_rng());
            key.version_times.push(unix_secs(now));
            save(barrier, uuid, name, &key)?;
            Ok(Response::ok(describe(&key)))
        }
        (["keys", name, "config"], Operation::Write) => configure(barrier, uuid, name, body),
        (["encrypt", name], Operation::Write) => encrypt(barrier, uuid, name, body, now),
        (["decrypt", name], Operation::Write) => {
            let key = existing(barrier, uuid, name)?;
            batch(body, |item| {
                let params = params(item)?;
                let ciphertext = item
                    .str("ciphertext")?
                    .ok_or(ApiError::bad("missing ciphertext to decrypt"))?;
                let plaintext = key
                    .key
                    .decrypt(ciphertext, &params.borrow())
                    .map_err(transit_error)?;
                // Decrypting is what the caller asked for: the plaintext goes back to them.
                Ok(json!({ "plaintext": BASE64.encode(plaintext.expose_secret()) }))
            })
        }
        (["rewrap", name], Operation::Write) => {
            let key = existing(barrier, uuid, name)?;
            batch(body, |item| {
                let params = params(item)?;
                let ciphertext = item
                    .str("ciphertext")?
                    .ok_or(ApiError::bad("missing ciphertext to rewrap"))?;
                let rewrapped = key
                    .key
                    .rewrap(ciphertext, &params.borrow(), &mut os_rng())
                    .map_err(transit_error)?;
                Ok(with_version(rewrapped))
            })
        }
        (["datakey", kind @ ("plaintext" | "wrapped"), name], Operation::Write) => {
            let key = existing(barrier, uuid, name)?;
            let bits = body.u64("bits")?.unwrap_or(256);
            let bits = u32::try_from(bits).map_err(|_| ApiError::bad("invalid data key size"))?;
            let params = params(body)?;
            let (data_key, wrapped) = key
                .key
                .data_key(bits, &params.borrow(), &mut os_rng())
                .map_err(transit_error)?;
            let mut data = with_version(wrapped);
            if *kind == "plaintext" {
                // The plaintext data key is what `datakey/plaintext` returns to its caller.
                data["plaintext"] = json!(BASE64.encode(data_key.expose_secret()));
            }
            Ok(Response::ok(data))
        }
        ([first, ..], _) if ["keys", "encrypt", "decrypt", "rewrap", "datakey"].contains(first) => {
            Err(ApiError::UnsupportedOperation)
        }
        _ => Err(ApiError::NoHandler {
            path: rest.to_owned(),
        }),
    }
}

fn key_path(uuid: &str, name: &str) -> String {
    format!("logical/{uuid}/policy/{}", store::encode_name(name))
}

fn check_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty() {
        return Err(ApiError::bad("missing key name"));
    }
    Ok(())
}

fn load(barrier: &Vault, uuid: &str, name: &str) -> Result<Option<LoadedKey>, ApiError> {
    check_name(name)?;
    let Some(stored) = store::get_json::<StoredKey>(barrier, &key_path(uuid, name))? else {
        return Ok(None);
    };
    let key = TransitKey::from_json(&stored.key).map_err(|_| {
        ApiError::Internal(format!("storage: transit key {name:?} is corrupt").into())
    })?;
    Ok(Some(LoadedKey {
        key,
        deletion_allowed: stored.deletion_allowed,
        version_times: stored.version_times.clone(),
    }))
}

fn existing(barrier: &Vault, uuid: &str, name: &str) -> Result<LoadedKey, ApiError> {
    load(barrier, uuid, name)?.ok_or_else(|| ApiError::bad("encryption key not found"))
}

fn save(barrier: &mut Vault, uuid: &str, name: &str, key: &LoadedKey) -> Result<(), ApiError> {
    let stored = StoredKey {
        key: key.key.to_json().to_string(),
        deletion_allowed: key.deletion_allowed,
        version_times: key.version_times.clone(),
    };
    store::put_json(barrier, &key_path(uuid, name), &stored)
}

fn new_key(
    name: &str,
    body: &Body,
    derived_by_default: bool,
    now: SystemTime,
) -> Result<LoadedKey, ApiError> {
    let key_type = match body.str("type")? {
        None | Some("") => KeyType::Aes256Gcm96,
        Some(name) => KeyType::parse(name).map_err(|_| {
            ApiError::bad("unsupported key type: use aes256-gcm96, aes128-gcm96, chacha20-poly1305 or xchacha20-poly1305")
        })?,
    };
    let convergent = body.bool("convergent_encryption")?.unwrap_or(false);
    let derived = body.bool("derived")?.unwrap_or(derived_by_default) || convergent;
    if convergent && !body.bool("derived")?.unwrap_or(true) {
        return Err(ApiError::bad(
            "convergent encryption requires derivation to be enabled",
        ));
    }
    if body.bool("exportable")?.unwrap_or(false)
        || body.bool("allow_plaintext_backup")?.unwrap_or(false)
    {
        return Err(ApiError::bad(
            "exportable keys are not supported by this server",
        ));
    }
    let derivation = match (derived, convergent) {
        (_, true) => Derivation::Convergent,
        (true, false) => Derivation::Hkdf,
        (false, false) => Derivation::Direct,
    };
    let key = TransitKey::with_derivation(name, key_type, derivation, &mut os_rng())
        .map_err(transit_error)?;
    Ok(LoadedKey {
        key,
        deletion_allowed: false,
        version_times: vec![unix_secs(now)],
    })
}

fn create(
    barrier: &mut Vault,
    uuid: &str,
    name: &str,
    body: &Body,
    now: SystemTime,
) -> Result<Response, ApiError> {
    if let Some(key) = load(barrier, uuid, name)? {
        // Vault answers a create of an existing key with the key, unchanged.
        return Ok(Response::ok(describe(&key)));
    }
    let key = new_key(name, body, false, now)?;
    save(barrier, uuid, name, &key)?;
    Ok(Response::ok(describe(&key)))
}

fn configure(
    barrier: &mut Vault,
    uuid: &str,
    name: &str,
    body: &Body,
) -> Result<Response, ApiError> {
    let mut key = existing(barrier, uuid, name)?;
    if let Some(v) = body.u64("min_decryption_version")? {
        let v =
            u32::try_from(v).map_err(|_| ApiError::bad("min_decryption_version is too large"))?;
        // Vault treats 0 as "leave as is" for the decryption minimum.
        if v != 0 {
            key.key
                .set_min_decryption_version(v)
                .map_err(transit_error)?;
        }
    }
    if let Some(v) = body.u64("min_encryption_version")? {
        let v =
            u32::try_from(v).map_err(|_| ApiError::bad("min_encryption_version is too large"))?;
        key.key
            .set_min_encryption_version(v)
            .map_err(transit_error)?;
    }
    if let Some(allowed) = body.bool("deletion_allowed")? {
        key.deletion_allowed = allowed;
    }
    if body.bool("exportable")?.unwrap_or(false)
        || body.bool("allow_plaintext_backup")?.unwrap_or(false)
    {
        return Err(ApiError::bad(
            "exportable keys are not supported by this server",
        ));
    }
    save(barrier, uuid, name, &key)?;
    Ok(Response::ok(describe(&key)))
}

fn encrypt(
    barrier: &mut Vault,
    uuid: &str,
    name: &str,
    body: &Body,
    now: SystemTime,
) -> Result<Response, ApiError> {
    let key = match load(barrier, uuid, name)? {
        Some(key) => key,
        None => {
            // Vault's upsert: encrypting with a missing key creates it (derived if a context
            // came with the request).
            let has_context = body.get("context").is_some()
                || body
                    .get("batch_input")
                    .and_then(Value::as_array)
                    .and_then(|items| items.first())
                    .is_some_and(|item| item.get("context").is_some());
            let key = new_key(name, body, has_context, now)?;
            save(barrier, uuid, name, &key)?;
            key
        }
    };
    batch(body, |item| {
        let params = params(item)?;
        let plaintext = item.base64("plaintext")?.unwrap_or_default();
        if item.get("plaintext").is_none() {
            return Err(ApiError::bad("missing plaintext to encrypt"));
        }
        let ciphertext = key
            .key
            .encrypt(&plaintext, &params.borrow(), &mut os_rng())
            .map_err(transit_error)?;
        Ok(with_version(ciphertext))
    })
}

/// Runs `one` on the body, or on each of its `batch_input` items. A batch answers 200 with a
/// result (or an `error`) per item, in order, carrying each item's `reference`; if any item
/// failed, the status is 400 as in Vault.
fn batch(
    body: &Body,
    mut one: impl FnMut(&Body) -> Result<Value, ApiError>,
) -> Result<Response, ApiError> {
    let Some(items) = body.get("batch_input") else {
        return one(body).map(Response::ok);
    };
    let items = items
        .as_array()
        .ok_or(ApiError::bad("batch_input must be a list of objects"))?;
    if items.is_empty() {
        return Err(ApiError::bad("missing batch input to process"));
    }
    let mut failed = false;
    let mut results = Vec::with_capacity(items.len());
    for item in items {
        let Value::Object(map) = item else {
            return Err(ApiError::bad("batch_input must be a list of objects"));
        };
        let item = Body::from_map(map.clone());
        let mut result = match one(&item) {
            Ok(value) => value,
            Err(ApiError::BadRequest(message)) => {
                failed = true;
                json!({ "error": message })
            }
            Err(other) => return Err(other),
        };
        if let Some(reference) = item.get("reference") {
            result["reference"] = reference.clone();
        }
        results.push(result);
    }
    let mut response = Response::ok(json!({ "batch_results": results }));
    if failed {
        response.status = 400;
    }
    Ok(response)
}

struct OwnedParams {
    context: Option<Zeroizing<Vec<u8>>>,
    associated_data: Option<Zeroizing<Vec<u8>>>,
    key_version: Option<u32>,
}

impl OwnedParams {
    fn borrow(&self) -> Params<'_> {
        Params {
            context: self.context.as_deref().map(Vec::as_slice),
            associated_data: self.associated_data.as_deref().map(Vec::as_slice),
            key_version: self.key_version,
        }
    }
}

fn params(body: &Body) -> Result<OwnedParams, ApiError> {
    let key_version = match body.u64("key_version")? {
        None | Some(0) => None,
        Some(v) => Some(u32::try_from(v).map_err(|_| ApiError::bad("key_version is too large"))?),
    };
    Ok(OwnedParams {
        context: body.base64("context")?,
        associated_data: body.base64("associated_data")?,
        key_version,
    })
}

fn with_version(ciphertext: String) -> Value {
    let version = transit::parse_version(&ciphertext).unwrap_or(0);
    json!({ "ciphertext": ciphertext, "key_version": version })
}

fn describe(key: &LoadedKey) -> Value {
    let k = &key.key;
    let keys: Map<String, Value> = key
        .version_times
        .iter()
        .enumerate()
        .map(|(i, t)| ((i + 1).to_string(), json!(t)))
        .collect();
    let derived = k.derivation() != Derivation::Direct;
    json!({
        "name": k.name(),
        "type": k.key_type().name(),
        "derived": derived,
        "kdf": if derived { "hkdf_sha256" } else { "" },
        "convergent_encryption": k.derivation() == Derivation::Convergent,
        "convergent_version": if k.derivation() == Derivation::Convergent { 3 } else { -1 },
        "deletion_allowed": key.deletion_allowed,
        "exportable": false,
        "allow_plaintext_backup": false,
        "keys": keys,
        "latest_version": k.latest_version(),
        "min_available_version": 0,
        "min_decryption_version": k.min_decryption_version(),
        "min_encryption_version": k.min_encryption_version(),
        "supports_encryption": true,
        "supports_decryption": true,
        "supports_derivation": true,
        "supports_signing": false,
        "auto_rotate_period": 0,
        "imported_key": false,
    })
}

fn list(barrier: &Vault, uuid: &str) -> Result<Response, ApiError> {
    let prefix = format!("logical/{uuid}/policy/");
    let keys: Vec<String> = store::list_prefix(barrier, &prefix)?
        .iter()
        .filter_map(|path| store::decode_name(&path[prefix.len()..]))
        .collect();
    if keys.is_empty() {
        return Err(ApiError::NotFound);
    }
    Ok(Response::ok(json!({ "keys": keys })))
}

/// Transit errors describe versions, lengths and names, never plaintext or key bytes.
fn transit_error(error: TransitError) -> ApiError {
    ApiError::bad(error.to_string())
}
