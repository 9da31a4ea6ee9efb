//! The KV version 2 engine: versioned secrets with metadata, check-and-set, soft delete,
//! undelete and destroy, as Vault's `kv-v2` serves them.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::body::{Body, go_duration};
use crate::error::ApiError;
use crate::store::{self, Vault};
use crate::timefmt::rfc3339;
use crate::{Operation, Response, envelope};

/// Vault's default for `max_versions` when neither the key nor the mount sets one.
const DEFAULT_MAX_VERSIONS: u64 = 10;

/// The mount's settings (`<mount>/config`).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
struct KvConfig {
    max_versions: u64,
    cas_required: bool,
    delete_version_after: u64,
}

/// One key: its metadata and every retained version, in one barrier entry so a write is atomic.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Secret {
    created_ns: u64,
    updated_ns: u64,
    current_version: u64,
    oldest_version: u64,
    max_versions: u64,
    cas_required: bool,
    delete_version_after: u64,
    custom_metadata: Option<BTreeMap<String, String>>,
    versions: BTreeMap<u64, Version>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Version {
    created_ns: u64,
    deletion_ns: Option<u64>,
    destroyed: bool,
    data: Option<Value>,
}

impl Version {
    fn is_deleted(&self, now: u64) -> bool {
        self.deletion_ns.is_some_and(|at| now >= at)
    }

    fn metadata(&self, number: u64, custom: &Option<BTreeMap<String, String>>) -> Value {
        json!({
            "created_time": rfc3339(time(self.created_ns)),
            "custom_metadata": custom,
            "deletion_time": self.deletion_ns.map_or(String::new(), |t| rfc3339(time(t))),
            "destroyed": self.destroyed,
            "version": number,
        })
    }
}

/// Whether a write to `rest` would update an existing entry (else it creates one).
pub(crate) fn exists(barrier: &Vault, uuid: &str, rest: &str) -> Result<bool, ApiError> {
    let key = match rest.split_once('/') {
        Some(("data" | "metadata", key)) => key,
        _ => return Ok(true),
    };
    Ok(load(barrier, uuid, key)?.is_some())
}

/// Serves one request below the mount; `rest` is the path after the mount's `/`.
pub(crate) fn handle(
    barrier: &mut Vault,
    uuid: &str,
    operation: Operation,
    rest: &str,
    query: &[(String, String)],
    body: &Body,
    now: SystemTime,
) -> Result<Response, ApiError> {
    let now = nanos(now);
    if rest == "config" {
        return config(barrier, uuid, operation, body);
    }
    let (section, key) = rest.split_once('/').unwrap_or((rest, ""));
    match (section, operation) {
        ("metadata", Operation::List) => list(barrier, uuid, key),
        ("data" | "metadata" | "delete" | "undelete" | "destroy", _) if key.is_empty() => {
            Err(ApiError::bad("missing path"))
        }
        ("data", Operation::Read) => read(barrier, uuid, key, query, now),
        ("data", Operation::Write) => write(barrier, uuid, key, body, now),
        ("data", Operation::Delete) => {
            update_versions(barrier, uuid, key, None, now, Change::Delete)
        }
        ("metadata", Operation::Read) => read_metadata(barrier, uuid, key),
        ("metadata", Operation::Write) => write_metadata(barrier, uuid, key, body, now),
        ("metadata", Operation::Delete) => {
            barrier.delete(&secret_path(uuid, key))?;
            Ok(Response::no_content())
        }
        ("delete", Operation::Write) => {
            update_versions(barrier, uuid, key, Some(body), now, Change::Delete)
        }
        ("undelete", Operation::Write) => {
            update_versions(barrier, uuid, key, Some(body), now, Change::Undelete)
        }
        ("destroy", Operation::Write) => {
            update_versions(barrier, uuid, key, Some(body), now, Change::Destroy)
        }
        ("data" | "metadata" | "delete" | "undelete" | "destroy", _) => {
            Err(ApiError::UnsupportedOperation)
        }
        _ => Err(ApiError::NoHandler {
            path: rest.to_owned(),
        }),
    }
}

fn secret_path(uuid: &str, key: &str) -> String {
    format!("logical/{uuid}/k/{}", store::encode_name(key))
}

fn load(barrier: &Vault, uuid: &str, key: &str) -> Result<Option<Secret>, ApiError> {
    store::get_json(barrier, &secret_path(uuid, key))
}

fn load_config(barrier: &Vault, uuid: &str) -> Result<KvConfig, ApiError> {
    Ok(store::get_json(barrier, &format!("logical/{uuid}/config"))?.unwrap_or_default())
}

fn config(
    barrier: &mut Vault,
    uuid: &str,
    operation: Operation,
    body: &Body,
) -> Result<Response, ApiError> {
    let mut config = load_config(barrier, uuid)?;
    match operation {
        Operation::Read => Ok(Response::ok(json!({
            "max_versions": config.max_versions,
            "cas_required": config.cas_required,
            "delete_version_after": go_duration(config.delete_version_after),
        }))),
        Operation::Write => {
            if let Some(max) = body.u64("max_versions")? {
                config.max_versions = max;
            }
            if let Some(cas) = body.bool("cas_required")? {
                config.cas_required = cas;
            }
            if let Some(after) = body.duration("delete_version_after")? {
                config.delete_version_after = after.as_secs();
            }
            store::put_json(barrier, &format!("logical/{uuid}/config"), &config)?;
            Ok(Response::no_content())
        }
        _ => Err(ApiError::UnsupportedOperation),
    }
}

fn read(
    barrier: &Vault,
    uuid: &str,
    key: &str,
    query: &[(String, String)],
    now: u64,
) -> Result<Response, ApiError> {
    let asked = match query.iter().find(|(k, _)| k == "version") {
        Some((_, v)) => v
            .parse::<u64>()
            .map_err(|_| ApiError::bad("version must be a non-negative integer"))?,
        None => 0,
    };
    let secret = load(barrier, uuid, key)?.ok_or(ApiError::NotFound)?;
    let number = if asked == 0 {
        secret.current_version
    } else {
        asked
    };
    let version = secret.versions.get(&number).ok_or(ApiError::NotFound)?;
    let metadata = version.metadata(number, &secret.custom_metadata);
    if version.destroyed || version.is_deleted(now) {
        return Err(ApiError::NotFoundWith(envelope(json!({
            "data": null,
            "metadata": metadata,
        }))));
    }
    Ok(Response::ok(json!({
        "data": version.data,
        "metadata": metadata,
    })))
}

fn write(
    barrier: &mut Vault,
    uuid: &str,
    key: &str,
    body: &Body,
    now: u64,
) -> Result<Response, ApiError> {
    let data = match body.get("data") {
        Some(Value::Object(map)) => Value::Object(map.clone()),
        Some(Value::Null) | None => return Err(ApiError::bad("no data provided")),
        Some(_) => return Err(ApiError::bad("data must be a JSON object")),
    };
    let cas = match body.get("options") {
        Some(Value::Object(options)) => match options.get("cas") {
            None | Some(Value::Null) => None,
            Some(value) => Some(
                value
                    .as_u64()
                    .ok_or(ApiError::bad("options.cas must be a non-negative integer"))?,
            ),
        },
        None | Some(Value::Null) => None,
        Some(_) => return Err(ApiError::bad("options must be a JSON object")),
    };
    let config = load_config(barrier, uuid)?;
    let mut secret = load(barrier, uuid, key)?.unwrap_or_else(|| Secret {
        created_ns: now,
        ..Secret::default()
    });
    match cas {
        None if secret.cas_required || config.cas_required => {
            return Err(ApiError::bad(
                "check-and-set parameter required for this call",
            ));
        }
        Some(expected) if expected != secret.current_version => {
            return Err(ApiError::bad(
                "check-and-set parameter did not match the current version",
            ));
        }
        _ => {}
    }
    let number = secret.current_version + 1;
    let after = match secret.delete_version_after {
        0 => config.delete_version_after,
        key_level => key_level,
    };
    let version = Version {
        created_ns: now,
        deletion_ns: (after > 0).then(|| now.saturating_add(after.saturating_mul(1_000_000_000))),
        destroyed: false,
        data: Some(data),
    };
    let metadata = version.metadata(number, &secret.custom_metadata);
    secret.versions.insert(number, version);
    secret.current_version = number;
    secret.updated_ns = now;
    trim(&mut secret, &config);
    store::put_json(barrier, &secret_path(uuid, key), &secret)?;
    Ok(Response::ok(metadata))
}

/// Drops the oldest versions beyond `max_versions` (the key's, else the mount's, else 10).
fn trim(secret: &mut Secret, config: &KvConfig) {
    let max = [secret.max_versions, config.max_versions]
        .into_iter()
        .find(|m| *m > 0)
        .unwrap_or(DEFAULT_MAX_VERSIONS);
    while secret.versions.len() as u64 > max {
        secret.versions.pop_first();
    }
    secret.oldest_version = secret.versions.keys().next().copied().unwrap_or(0);
}

fn read_metadata(barrier: &Vault, uuid: &str, key: &str) -> Result<Response, ApiError> {
    let secret = load(barrier, uuid, key)?.ok_or(ApiError::NotFound)?;
    let versions: Map<String, Value> = secret
        .versions
        .iter()
        .map(|(n, v)| {
            (
                n.to_string(),
                json!({
                    "created_time": rfc3339(time(v.created_ns)),
                    "deletion_time": v.deletion_ns.map_or(String::new(), |t| rfc3339(time(t))),
                    "destroyed": v.destroyed,
                }),
            )
        })
        .collect();
    Ok(Response::ok(json!({
        "cas_required": secret.cas_required,
        "created_time": rfc3339(time(secret.created_ns)),
        "current_version": secret.current_version,
        "custom_metadata": secret.custom_metadata,
        "delete_version_after": go_duration(secret.delete_version_after),
        "max_versions": secret.max_versions,
        "oldest_version": secret.oldest_version,
        "updated_time": rfc3339(time(secret.updated_ns)),
        "versions": versions,
    })))
}

fn write_metadata(
    barrier: &mut Vault,
    uuid: &str,
    key: &str,
    body: &Body,
    now: u64,
) -> Result<Response, ApiError> {
    let config = load_config(barrier, uuid)?;
    let mut secret = load(barrier, uuid, key)?.unwrap_or_else(|| Secret {
        created_ns: now,
        ..Secret::default()
    });
    if let Some(max) = body.u64("max_versions")? {
        secret.max_versions = max;
    }
    if let Some(cas) = body.bool("cas_required")? {
        secret.cas_required = cas;
    }
    if let Some(after) = body.duration("delete_version_after")? {
        secret.delete_version_after = after.as_secs();
    }
    match body.get("custom_metadata") {
        None => {}
        Some(Value::Null) => secret.custom_metadata = None,
        Some(Value::Object(map)) => {
            let mut custom = BTreeMap::new();
            for (k, v) in map {
                let v = v
                    .as_str()
                    .ok_or(ApiError::bad("custom_metadata values must be strings"))?;
                custom.insert(k.clone(), v.to_owned());
            }
            secret.custom_metadata = Some(custom);
        }
        Some(_) => return Err(ApiError::bad("custom_metadata must be a JSON object")),
    }
    secret.updated_ns = now;
    trim(&mut secret, &config);
    store::put_json(barrier, &secret_path(uuid, key), &secret)?;
    Ok(Response::no_content())
}

#[derive(Debug, Clone, Copy)]
enum Change {
    Delete,
    Undelete,
    Destroy,
}

/// Applies a change to the versions in the body's `versions` (or, for `DELETE data/…`, to the
/// current version). Versions that do not exist are skipped, as in Vault.
fn update_versions(
    barrier: &mut Vault,
    uuid: &str,
    key: &str,
    body: Option<&Body>,
    now: u64,
    change: Change,
) -> Result<Response, ApiError> {
    let Some(mut secret) = load(barrier, uuid, key)? else {
        return match body {
            Some(body) => {
                versions_of(body)?;
                Ok(Response::no_content())
            }
            None => Ok(Response::no_content()),
        };
    };
    let numbers: BTreeSet<u64> = match body {
        Some(body) => versions_of(body)?,
        None => BTreeSet::from([secret.current_version]),
    };
    for number in numbers {
        let Some(version) = secret.versions.get_mut(&number) else {
            continue;
        };
        match change {
            Change::Delete if !version.destroyed && !version.is_deleted(now) => {
                version.deletion_ns = Some(now);
            }
            Change::Undelete if !version.destroyed => version.deletion_ns = None,
            Change::Destroy => {
                version.destroyed = true;
                version.data = None;
            }
            _ => {}
        }
    }
    secret.updated_ns = now;
    store::put_json(barrier, &secret_path(uuid, key), &secret)?;
    Ok(Response::no_content())
}

fn versions_of(body: &Body) -> Result<BTreeSet<u64>, ApiError> {
    let versions = body.u64_list("versions")?;
    if versions.is_empty() {
        return Err(ApiError::bad("no version number provided"));
    }
    Ok(versions.into_iter().collect())
}

fn list(barrier: &Vault, uuid: &str, prefix: &str) -> Result<Response, ApiError> {
    let prefix = if prefix.is_empty() || prefix.ends_with('/') {
        prefix.to_owned()
    } else {
        format!("{prefix}/")
    };
    let root = format!("logical/{uuid}/k/");
    let mut keys = BTreeSet::new();
    for path in store::list_prefix(barrier, &root)? {
        let Some(name) = store::decode_name(&path[root.len()..]) else {
            continue;
        };
        let Some(rest) = name.strip_prefix(&prefix) else {
            continue;
        };
        let child = match rest.find('/') {
            Some(idx) => &rest[..=idx],
            None => rest,
        };
        if !child.is_empty() {
            keys.insert(child.to_owned());
        }
    }
    if keys.is_empty() {
        return Err(ApiError::NotFound);
    }
    Ok(Response::ok(json!({ "keys": keys })))
}

fn nanos(time: SystemTime) -> u64 {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
}

fn time(nanos: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(nanos)
}
