//! The server's state machine: the barrier, the mount table, policies and tokens, and the
//! routing of one request to the `sys`, `auth/token` or engine handler that serves it.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use underhood_secret_crypto::barrier::{Barrier, BarrierError, SealConfig, UnsealProgress};
use underhood_secret_crypto::os_rng;
use underhood_secret_crypto::storage::{FileStorage, MemoryStorage};
use zeroize::Zeroizing;

use crate::body::{Body, go_duration};
use crate::clock::Clock;
use crate::error::ApiError;
use crate::policy::{Acl, Capabilities, Capability, Policy};
use crate::store::{self, Backend, Vault};
use crate::timefmt::{rfc3339, unix_secs};
use crate::token::{self, DEFAULT_TTL, TokenEntry, Tokens};
use crate::{Error, Operation, Request, Response, envelope, kv, transit};

const MOUNTS_PATH: &str = "sys/mounts";
const CLUSTER_PATH: &str = "sys/cluster";
const POLICY_PREFIX: &str = "sys/policy/";
/// The policy every token gets unless created with `no_default_policy`: a token may look
/// itself up, renew and revoke itself, and ask its own capabilities.
const DEFAULT_POLICY: &str = r#"
path "auth/token/lookup-self" { capabilities = ["read"] }
path "auth/token/renew-self" { capabilities = ["update"] }
path "auth/token/revoke-self" { capabilities = ["update"] }
path "sys/capabilities-self" { capabilities = ["update"] }
"#;

/// The secrets server: everything but HTTP. [`crate::router`] puts it on the wire.
///
/// One lock guards the state, so requests are linearizable; a write is acknowledged only after
/// the storage has made it durable (the file storage fsyncs before returning).
pub struct Core {
    state: Mutex<State>,
    clock: Arc<dyn Clock>,
}

/// What `underhood secret server --dev` prints: the single unseal key and the root token.
pub struct DevCredentials {
    /// The unseal key, base64.
    pub unseal_key: Zeroizing<String>,
    /// The root token.
    pub root_token: Zeroizing<String>,
}

impl fmt::Debug for DevCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DevCredentials(..)")
    }
}

struct State {
    seal: Seal,
    open: Option<Open>,
}

enum Seal {
    Uninitialized(Backend),
    Initialized(Box<Vault>),
}

/// What is loaded while unsealed; dropped (and its keys zeroized) on seal.
struct Open {
    mounts: Vec<Mount>,
    policies: HashMap<String, Policy>,
    acl_cache: HashMap<Vec<String>, Arc<Acl>>,
    tokens: Tokens,
    cluster_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Mount {
    path: String,
    engine: Engine,
    description: String,
    uuid: String,
    accessor: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Engine {
    KvV2,
    Transit,
}

impl Engine {
    fn type_name(self) -> &'static str {
        match self {
            Engine::KvV2 => "kv",
            Engine::Transit => "transit",
        }
    }
}

impl Mount {
    fn describe(&self) -> Value {
        json!({
            "type": self.engine.type_name(),
            "description": self.description,
            "accessor": self.accessor,
            "uuid": self.uuid,
            "config": {"default_lease_ttl": 0, "max_lease_ttl": 0, "force_no_cache": false},
            "options": match self.engine {
                Engine::KvV2 => json!({"version": "2"}),
                Engine::Transit => Value::Null,
            },
            "local": false,
            "seal_wrap": false,
            "external_entropy_access": false,
            "plugin_version": "",
        })
    }
}

/// The authenticated caller of a request.
struct Caller {
    entry: TokenEntry,
    acl: Option<Arc<Acl>>,
}

impl Caller {
    fn capabilities(&self, path: &str) -> Capabilities {
        match &self.acl {
            None => Capabilities::ROOT,
            Some(acl) => match acl.capabilities(path) {
                // A LIST path ends in `/`; as in Vault, a rule written without it applies too.
                Capabilities::NONE if path.ends_with('/') => {
                    acl.capabilities(path.trim_end_matches('/'))
                }
                caps => caps,
            },
        }
    }

    fn require(&self, path: &str, capability: Capability) -> Result<(), ApiError> {
        if self.capabilities(path).allows(capability) {
            Ok(())
        } else {
            Err(ApiError::PermissionDenied)
        }
    }

    fn require_sudo(&self, path: &str, capability: Capability) -> Result<(), ApiError> {
        self.require(path, capability)?;
        self.require(path, Capability::Sudo)
    }

    fn is_root(&self) -> bool {
        self.acl.is_none()
    }
}

impl Core {
    /// A server over memory: uninitialized, everything lost when it stops.
    pub fn in_memory(clock: Arc<dyn Clock>) -> Core {
        Core::with_backend(Backend::Memory(MemoryStorage::new()), clock)
    }

    /// A server over files in `dir`: sealed if it was initialized before, else uninitialized.
    pub fn with_storage_dir(dir: impl Into<PathBuf>, clock: Arc<dyn Clock>) -> Result<Core, Error> {
        let backend = Backend::File(FileStorage::new(dir));
        let seal = match Barrier::open(backend.clone()) {
            Ok(barrier) => Seal::Initialized(Box::new(barrier)),
            Err(BarrierError::NotInitialized) => Seal::Uninitialized(backend),
            Err(source) => return Err(Error::Storage { source }),
        };
        Ok(Core {
            state: Mutex::new(State { seal, open: None }),
            clock,
        })
    }

    fn with_backend(backend: Backend, clock: Arc<dyn Clock>) -> Core {
        Core {
            state: Mutex::new(State {
                seal: Seal::Uninitialized(backend),
                open: None,
            }),
            clock,
        }
    }

    /// Vault's dev mode: in memory, initialized with one share, unsealed, with kv version 2
    /// mounted at `secret/`. `root_token` picks the root token's id (else a random one).
    pub fn dev(
        root_token: Option<&str>,
        clock: Arc<dyn Clock>,
    ) -> Result<(Core, DevCredentials), Error> {
        let core = Core::in_memory(clock);
        let mut state = core.lock();
        let now = core.clock.now();
        let (shares, root) = initialize(
            &mut state,
            SealConfig {
                shares: 1,
                threshold: 1,
            },
            root_token,
            now,
        )
        .map_err(Error::from_api)?;
        unseal_with(&mut state, shares[0].expose_secret()).map_err(Error::from_api)?;
        let (barrier, open) = state.unsealed().map_err(Error::from_api)?;
        enable_mount(
            barrier,
            open,
            "secret/",
            Engine::KvV2,
            "key/value secret storage",
        )
        .map_err(Error::from_api)?;
        drop(state);
        let credentials = DevCredentials {
            unseal_key: Zeroizing::new(BASE64.encode(shares[0].expose_secret())),
            root_token: root,
        };
        Ok((core, credentials))
    }

    /// Whether the storage holds an initialized barrier.
    pub fn is_initialized(&self) -> bool {
        self.lock().barrier().is_some()
    }

    /// Whether the server is sealed (or not initialized).
    pub fn is_sealed(&self) -> bool {
        self.lock().open.is_none()
    }

    /// Serves one request.
    pub fn handle(&self, request: &Request) -> Response {
        let now = self.clock.now();
        let mut state = self.lock();
        match route(&mut state, request, now) {
            Ok(response) => response,
            Err(error) => error.into_response(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // No handler panics while holding the lock (errors are values), so a poisoned lock can
        // only come from a bug elsewhere; the state it guards is still consistent on disk.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    fn barrier(&self) -> Option<&Vault> {
        match &self.seal {
            Seal::Initialized(barrier) => Some(barrier),
            Seal::Uninitialized(_) => None,
        }
    }

    fn unsealed(&mut self) -> Result<(&mut Vault, &mut Open), ApiError> {
        match (&mut self.seal, &mut self.open) {
            (Seal::Initialized(barrier), Some(open)) => Ok((barrier, open)),
            _ => Err(ApiError::Sealed),
        }
    }

    fn storage_kind(&self) -> &'static str {
        match &self.seal {
            Seal::Uninitialized(backend) => backend.kind(),
            Seal::Initialized(barrier) => barrier.storage().kind(),
        }
    }
}

fn route(state: &mut State, request: &Request, now: SystemTime) -> Result<Response, ApiError> {
    let mut path = request.path.trim_start_matches('/').to_owned();
    let mut operation = request.operation;
    if operation == Operation::Read
        && request
            .query
            .iter()
            .any(|(k, v)| k == "list" && v == "true")
    {
        operation = Operation::List;
    }
    if operation == Operation::List && !path.ends_with('/') {
        path.push('/');
    }
    match path.as_str() {
        "sys/init" => return sys_init(state, operation, &request.body, now),
        "sys/unseal" => return sys_unseal(state, operation, &request.body),
        "sys/seal-status" => return Ok(seal_status(state)),
        "sys/health" => return sys_health(state, &request.query, now),
        _ => {}
    }
    let (barrier, open) = state.unsealed()?;
    let token = request.token.as_deref().ok_or(ApiError::PermissionDenied)?;
    let entry = open
        .tokens
        .find(token, now)
        .ok_or(ApiError::PermissionDenied)?
        .clone();
    let mut caller = Caller {
        acl: open.acl_for(&entry.policies),
        entry,
    };
    let body = Body::parse(&request.body)?;
    open.tokens.spend_use(barrier, &caller.entry.hash)?;
    // The request sees the token as it is after this use (Vault counts the use first).
    match open.tokens.get(&caller.entry.hash) {
        Some(entry) => caller.entry = entry.clone(),
        None => caller.entry.num_uses = 0,
    }
    if path == "sys/seal" {
        if operation != Operation::Write {
            return Err(ApiError::UnsupportedOperation);
        }
        caller.require_sudo("sys/seal", Capability::Update)?;
        state.open = None;
        if let Seal::Initialized(barrier) = &mut state.seal {
            barrier.seal();
        }
        return Ok(Response::no_content());
    }
    if let Some(rest) = path.strip_prefix("sys/") {
        return sys(barrier, open, &caller, operation, &path, rest, &body, now);
    }
    if let Some(rest) = path.strip_prefix("auth/token/") {
        return auth_token(
            barrier, open, &caller, operation, &path, rest, token, &body, now,
        );
    }
    let mount = open
        .mounts
        .iter()
        .filter(|m| path.starts_with(&m.path) || path == m.path.trim_end_matches('/'))
        .max_by_key(|m| m.path.len())
        .cloned()
        .ok_or_else(|| ApiError::NoHandler { path: path.clone() })?;
    let rest = path.get(mount.path.len()..).unwrap_or("");
    let capability = match operation {
        Operation::Read => Capability::Read,
        Operation::List => Capability::List,
        Operation::Delete => Capability::Delete,
        Operation::Patch => Capability::Patch,
        Operation::Write => {
            let exists = match mount.engine {
                Engine::KvV2 => kv::exists(barrier, &mount.uuid, rest)?,
                Engine::Transit => transit::exists(barrier, &mount.uuid, rest)?,
            };
            if exists {
                Capability::Update
            } else {
                Capability::Create
            }
        }
    };
    caller.require(&path, capability)?;
    match mount.engine {
        Engine::KvV2 => kv::handle(
            barrier,
            &mount.uuid,
            operation,
            rest,
            &request.query,
            &body,
            now,
        ),
        Engine::Transit => transit::handle(barrier, &mount.uuid, operation, rest, &body, now),
    }
}

impl Open {
    fn load(barrier: &mut Vault) -> Result<Open, ApiError> {
        let mounts: Vec<Mount> = store::get_json(barrier, MOUNTS_PATH)?.unwrap_or_default();
        let mut policies = HashMap::new();
        for path in store::list_prefix(barrier, POLICY_PREFIX)? {
            if let Some(stored) = store::get_json::<StoredPolicy>(barrier, &path)? {
                let parsed = Policy::parse(&stored.policy).map_err(|_| {
                    ApiError::Internal(
                        format!("storage: policy {:?} does not parse", stored.name).into(),
                    )
                })?;
                policies.insert(stored.name, parsed);
            }
        }
        let cluster_id = match store::get_json::<String>(barrier, CLUSTER_PATH)? {
            Some(id) => id,
            None => {
                let id = store::uuid();
                store::put_json(barrier, CLUSTER_PATH, &id)?;
                id
            }
        };
        Ok(Open {
            mounts,
            policies,
            acl_cache: HashMap::new(),
            tokens: Tokens::load(barrier)?,
            cluster_id,
        })
    }

    /// The merged ACL of `policies`; `None` for root.
    fn acl_for(&mut self, policies: &[String]) -> Option<Arc<Acl>> {
        if policies.iter().any(|p| p == "root") {
            return None;
        }
        if let Some(acl) = self.acl_cache.get(policies) {
            return Some(acl.clone());
        }
        let acl = Arc::new(Acl::new(
            policies.iter().filter_map(|p| self.policies.get(p)),
        ));
        self.acl_cache.insert(policies.to_vec(), acl.clone());
        Some(acl)
    }
}

#[derive(Serialize, Deserialize)]
struct StoredPolicy {
    name: String,
    policy: String,
}

/// Makes the barrier, then (unsealed for a moment) the default policy and the root token, and
/// seals again. Returns the shares and the root token.
fn initialize(
    state: &mut State,
    config: SealConfig,
    root_token: Option<&str>,
    now: SystemTime,
) -> Result<
    (
        Vec<underhood_secret_crypto::shamir::Share>,
        Zeroizing<String>,
    ),
    ApiError,
> {
    let Seal::Uninitialized(backend) = &state.seal else {
        return Err(ApiError::bad("Vault is already initialized"));
    };
    let (barrier, shares) = Barrier::initialize(backend.clone(), config, now, &mut os_rng())
        .map_err(|e| match e {
            BarrierError::SealConfig { source } => {
                ApiError::bad(format!("invalid seal configuration: {source}"))
            }
            other => ApiError::from(other),
        })?;
    state.seal = Seal::Initialized(Box::new(barrier));
    let threshold = usize::from(config.threshold);
    for share in &shares[..threshold] {
        unseal_with(state, share.expose_secret())?;
    }
    let (barrier, open) = state.unsealed()?;
    write_policy(barrier, open, "default", DEFAULT_POLICY)?;
    let id = Zeroizing::new(root_token.map_or_else(token::new_token_id, str::to_owned));
    let entry = TokenEntry {
        hash: open.tokens.hash(&id),
        accessor: token::new_accessor(),
        policies: vec!["root".to_owned()],
        parent: None,
        display_name: "root".to_owned(),
        meta: BTreeMap::new(),
        num_uses: 0,
        creation_time: unix_secs(now),
        ttl: 0,
        expire_time: None,
        explicit_max_ttl: 0,
        renewable: false,
        path: "auth/token/root".to_owned(),
    };
    open.tokens.put(barrier, entry)?;
    state.open = None;
    if let Seal::Initialized(barrier) = &mut state.seal {
        barrier.seal();
    }
    Ok((shares, id))
}

fn unseal_with(state: &mut State, key: &[u8]) -> Result<UnsealProgress, ApiError> {
    let Seal::Initialized(barrier) = &mut state.seal else {
        return Err(ApiError::bad("Vault is not initialized"));
    };
    if !barrier.is_sealed() {
        return Ok(UnsealProgress::Unsealed);
    }
    let progress = barrier.unseal(key).map_err(|e| match e {
        BarrierError::WrongShares => ApiError::bad(
            "the unseal keys are wrong: they do not open the root key; progress was reset",
        ),
        BarrierError::DuplicateShare { .. } => ApiError::bad("this unseal key was already given"),
        BarrierError::ShareLength { expected, found } => {
            ApiError::bad(format!("unseal key is {found} bytes, expected {expected}"))
        }
        BarrierError::BadShare { .. } => ApiError::bad("invalid unseal key"),
        other => ApiError::from(other),
    })?;
    if progress == UnsealProgress::Unsealed {
        match Open::load(barrier) {
            Ok(open) => state.open = Some(open),
            Err(error) => {
                barrier.seal();
                return Err(error);
            }
        }
    }
    Ok(progress)
}

fn sys_init(
    state: &mut State,
    operation: Operation,
    body: &[u8],
    now: SystemTime,
) -> Result<Response, ApiError> {
    match operation {
        Operation::Read => Ok(Response::plain(
            json!({ "initialized": state.barrier().is_some() }),
        )),
        Operation::Write => {
            let body = Body::parse(body)?;
            if body.get("pgp_keys").is_some() || body.get("root_token_pgp_key").is_some() {
                return Err(ApiError::bad(
                    "PGP-encrypted keys are not supported by this server",
                ));
            }
            let shares = body
                .u64("secret_shares")?
                .ok_or(ApiError::bad("secret_shares is required"))?;
            let threshold = body
                .u64("secret_threshold")?
                .ok_or(ApiError::bad("secret_threshold is required"))?;
            let (shares, threshold) = match (u8::try_from(shares), u8::try_from(threshold)) {
                (Ok(s), Ok(t)) if s >= 1 && t >= 1 && t <= s && (s == 1 || t >= 2) => (s, t),
                _ => {
                    return Err(ApiError::bad(
                        "invalid seal configuration: need 1 <= secret_threshold <= secret_shares <= 255, and a threshold of at least 2 for more than one share",
                    ));
                }
            };
            let (keys, root) = initialize(state, SealConfig { shares, threshold }, None, now)?;
            let hex: Vec<String> = keys
                .iter()
                .map(|k| hex::encode(k.expose_secret()))
                .collect();
            let b64: Vec<String> = keys
                .iter()
                .map(|k| BASE64.encode(k.expose_secret()))
                .collect();
            // Handing out the shares and the root token is what init is for.
            Ok(Response::plain(json!({
                "keys": hex,
                "keys_base64": b64,
                "root_token": root.as_str(),
            })))
        }
        _ => Err(ApiError::UnsupportedOperation),
    }
}

fn sys_unseal(state: &mut State, operation: Operation, body: &[u8]) -> Result<Response, ApiError> {
    if operation != Operation::Write {
        return Err(ApiError::UnsupportedOperation);
    }
    let body = Body::parse(body)?;
    let Seal::Initialized(barrier) = &mut state.seal else {
        return Err(ApiError::bad("Vault is not initialized"));
    };
    if body.bool("reset")?.unwrap_or(false) {
        barrier.reset_unseal();
        return Ok(seal_status(state));
    }
    if !barrier.is_sealed() {
        return Ok(seal_status(state));
    }
    let key = body.str("key")?.ok_or(ApiError::bad(
        "'key' must be specified in request body as JSON, or 'reset' set to true",
    ))?;
    let bytes = Zeroizing::new(
        hex::decode(key)
            .or_else(|_| BASE64.decode(key))
            .map_err(|_| ApiError::bad("'key' must be a valid hex or base64 string"))?,
    );
    unseal_with(state, &bytes)?;
    Ok(seal_status(state))
}

fn seal_status(state: &State) -> Response {
    let (config, progress) = match state.barrier() {
        Some(barrier) => {
            let have = match barrier.progress() {
                UnsealProgress::Sealed { have, .. } => have,
                UnsealProgress::Unsealed => 0,
            };
            (Some(barrier.config()), have)
        }
        None => (None, 0),
    };
    let mut body = json!({
        "type": "shamir",
        "initialized": config.is_some(),
        "sealed": state.open.is_none(),
        "t": config.map_or(0, |c| c.threshold),
        "n": config.map_or(0, |c| c.shares),
        "progress": progress,
        "nonce": "",
        "version": crate::VERSION,
        "build_date": "",
        "migration": false,
        "recovery_seal": false,
        "storage_type": state.storage_kind(),
    });
    if let Some(open) = &state.open {
        body["cluster_name"] = json!("underhood");
        body["cluster_id"] = json!(open.cluster_id);
    }
    Response::plain(body)
}

fn sys_health(
    state: &State,
    query: &[(String, String)],
    now: SystemTime,
) -> Result<Response, ApiError> {
    let code = |name: &str, default: u16| -> Result<u16, ApiError> {
        match query.iter().find(|(k, _)| k == name) {
            None => Ok(default),
            Some((_, v)) => v
                .parse::<u16>()
                .ok()
                .filter(|c| (100..=599).contains(c))
                .ok_or_else(|| ApiError::bad(format!("{name} must be an HTTP status code"))),
        }
    };
    let initialized = state.barrier().is_some();
    let sealed = state.open.is_none();
    // Validate every code parameter even if it does not apply, as Vault does.
    let active = code("activecode", 200)?;
    let sealed_code = code("sealedcode", 503)?;
    let uninit = code("uninitcode", 501)?;
    for other in [
        "standbycode",
        "drsecondarycode",
        "performancestandbycode",
        "haunhealthycode",
    ] {
        code(other, 200)?;
    }
    let status = if !initialized {
        uninit
    } else if sealed {
        sealed_code
    } else {
        active
    };
    let mut body = json!({
        "initialized": initialized,
        "sealed": sealed,
        "standby": false,
        "performance_standby": false,
        "replication_performance_mode": "disabled",
        "replication_dr_mode": "disabled",
        "server_time_utc": unix_secs(now),
        "version": crate::VERSION,
        "enterprise": false,
    });
    if let Some(open) = &state.open {
        body["cluster_name"] = json!("underhood");
        body["cluster_id"] = json!(open.cluster_id);
    }
    Ok(Response {
        status,
        body: Some(body),
    })
}

#[allow(clippy::too_many_arguments)] // One request's parts, passed through to one dispatcher.
fn sys(
    barrier: &mut Vault,
    open: &mut Open,
    caller: &Caller,
    operation: Operation,
    path: &str,
    rest: &str,
    body: &Body,
    now: SystemTime,
) -> Result<Response, ApiError> {
    let _ = now;
    let write_cap = Capability::Update;
    match (rest, operation) {
        ("mounts", Operation::Read) => {
            caller.require(path, Capability::Read)?;
            let mut all = serde_json::Map::new();
            all.insert(
                "sys/".to_owned(),
                json!({"type": "system", "description": "system endpoints", "accessor": "system", "uuid": "", "config": {}, "options": null, "local": false, "seal_wrap": false}),
            );
            for mount in &open.mounts {
                all.insert(mount.path.clone(), mount.describe());
            }
            let mut response = envelope(Value::Object(all.clone()));
            for (k, v) in all {
                response[k] = v;
            }
            Ok(Response {
                status: 200,
                body: Some(response),
            })
        }
        (mounts, op) if mounts.starts_with("mounts/") => {
            let mount_path = normalize_mount(&mounts["mounts/".len()..])?;
            match op {
                Operation::Write => {
                    caller.require(path, write_cap)?;
                    let kind = body
                        .str("type")?
                        .ok_or(ApiError::bad("missing 'type' of the secrets engine"))?;
                    let version = body.get("options").and_then(|o| o.get("version")).map(|v| {
                        v.as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| v.to_string())
                    });
                    let engine = match (kind, version.as_deref()) {
                        ("kv", Some("2")) | ("kv-v2", None | Some("2")) => Engine::KvV2,
                        ("kv", _) => {
                            return Err(ApiError::bad(
                                "only kv version 2 is supported: set options.version to \"2\"",
                            ));
                        }
                        ("transit", _) => Engine::Transit,
                        _ => {
                            return Err(ApiError::bad(
                                "unsupported secrets engine type: use kv (version 2) or transit",
                            ));
                        }
                    };
                    let description = body.str("description")?.unwrap_or("");
                    enable_mount(barrier, open, &mount_path, engine, description)?;
                    Ok(Response::no_content())
                }
                Operation::Delete => {
                    caller.require(path, Capability::Delete)?;
                    disable_mount(barrier, open, &mount_path)?;
                    Ok(Response::no_content())
                }
                Operation::Read => {
                    caller.require(path, Capability::Read)?;
                    let mount = open
                        .mounts
                        .iter()
                        .find(|m| m.path == mount_path)
                        .ok_or(ApiError::NotFound)?;
                    Ok(Response::ok(mount.describe()))
                }
                _ => Err(ApiError::UnsupportedOperation),
            }
        }
        ("policy", Operation::Read | Operation::List) | ("policy/", Operation::List) => {
            caller.require(
                path,
                if operation == Operation::List {
                    Capability::List
                } else {
                    Capability::Read
                },
            )?;
            let names = policy_names(open);
            let mut body = envelope(json!({ "policies": names, "keys": names }));
            body["policies"] = json!(names);
            body["keys"] = json!(names);
            Ok(Response {
                status: 200,
                body: Some(body),
            })
        }
        ("policies/acl/", Operation::List) => {
            caller.require(path, Capability::List)?;
            Ok(Response::ok(json!({ "keys": policy_names(open) })))
        }
        (policy, op) if policy.starts_with("policy/") || policy.starts_with("policies/acl/") => {
            let legacy = policy.starts_with("policy/");
            let name = policy
                .trim_start_matches("policy/")
                .trim_start_matches("policies/acl/")
                .to_lowercase();
            policy_endpoint(barrier, open, caller, op, path, &name, legacy, body)
        }
        ("capabilities-self", Operation::Write) => {
            caller.require(path, Capability::Update)?;
            let mut paths = body.strings("paths")?;
            if let Some(one) = body.str("path")? {
                paths.push(one.to_owned());
            }
            let mut data = serde_json::Map::new();
            let mut all = Vec::new();
            for p in &paths {
                let caps = caller.capabilities(p.trim_start_matches('/'));
                let mut names: Vec<&str> = caps.iter().map(Capability::name).collect();
                if caller.is_root() {
                    names = vec!["root"];
                } else if names.is_empty() {
                    names = vec!["deny"];
                }
                all = names.clone();
                data.insert(p.clone(), json!(names));
            }
            if paths.len() == 1 {
                data.insert("capabilities".to_owned(), json!(all));
            }
            let mut response = envelope(Value::Object(data.clone()));
            for (k, v) in data {
                response[k] = v;
            }
            Ok(Response {
                status: 200,
                body: Some(response),
            })
        }
        (ui, Operation::Read) if ui.starts_with("internal/ui/mounts/") => {
            let target = &ui["internal/ui/mounts/".len()..];
            let mount = open
                .mounts
                .iter()
                .filter(|m| target.starts_with(&m.path) || target == m.path.trim_end_matches('/'))
                .max_by_key(|m| m.path.len())
                .ok_or(ApiError::PermissionDenied)?;
            let mut data = mount.describe();
            data["path"] = json!(mount.path);
            Ok(Response::ok(data))
        }
        _ => Err(ApiError::NoHandler {
            path: path.to_owned(),
        }),
    }
}

#[allow(clippy::too_many_arguments)] // One request's parts, passed through to one endpoint.
fn policy_endpoint(
    barrier: &mut Vault,
    open: &mut Open,
    caller: &Caller,
    operation: Operation,
    path: &str,
    name: &str,
    legacy: bool,
    body: &Body,
) -> Result<Response, ApiError> {
    if name.is_empty() || name.contains('/') {
        return Err(ApiError::bad("invalid policy name"));
    }
    match operation {
        Operation::Read => {
            caller.require(path, Capability::Read)?;
            let text = if name == "root" {
                String::new()
            } else {
                store::get_json::<StoredPolicy>(barrier, &format!("{POLICY_PREFIX}{name}"))?
                    .ok_or(ApiError::NotFound)?
                    .policy
            };
            if legacy {
                let mut body = envelope(json!({ "name": name, "rules": text }));
                body["name"] = json!(name);
                body["rules"] = json!(text);
                Ok(Response {
                    status: 200,
                    body: Some(body),
                })
            } else {
                Ok(Response::ok(json!({ "name": name, "policy": text })))
            }
        }
        Operation::Write => {
            caller.require(path, Capability::Update)?;
            if name == "root" {
                return Err(ApiError::bad("cannot update \"root\" policy"));
            }
            let text = match (body.str("policy")?, body.str("rules")?) {
                (Some(text), _) | (None, Some(text)) => text,
                (None, None) => {
                    return Err(ApiError::bad("'policy' parameter not supplied or empty"));
                }
            };
            write_policy(barrier, open, name, text)?;
            Ok(Response::no_content())
        }
        Operation::Delete => {
            caller.require(path, Capability::Delete)?;
            if name == "root" || name == "default" {
                return Err(ApiError::bad(format!("cannot delete \"{name}\" policy")));
            }
            barrier.delete(&format!("{POLICY_PREFIX}{name}"))?;
            open.policies.remove(name);
            open.acl_cache.clear();
            Ok(Response::no_content())
        }
        _ => Err(ApiError::UnsupportedOperation),
    }
}

fn write_policy(
    barrier: &mut Vault,
    open: &mut Open,
    name: &str,
    text: &str,
) -> Result<(), ApiError> {
    let parsed =
        Policy::parse(text).map_err(|e| ApiError::bad(format!("failed to parse policy: {e}")))?;
    store::put_json(
        barrier,
        &format!("{POLICY_PREFIX}{name}"),
        &StoredPolicy {
            name: name.to_owned(),
            policy: text.to_owned(),
        },
    )?;
    open.policies.insert(name.to_owned(), parsed);
    open.acl_cache.clear();
    Ok(())
}

fn policy_names(open: &Open) -> Vec<String> {
    let mut names: Vec<String> = open.policies.keys().cloned().collect();
    names.push("root".to_owned());
    names.sort();
    names
}

fn normalize_mount(path: &str) -> Result<String, ApiError> {
    let trimmed = path.trim_matches('/');
    if trimmed.is_empty()
        || trimmed
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err(ApiError::bad("invalid mount path"));
    }
    Ok(format!("{trimmed}/"))
}

fn enable_mount(
    barrier: &mut Vault,
    open: &mut Open,
    path: &str,
    engine: Engine,
    description: &str,
) -> Result<(), ApiError> {
    for reserved in ["sys/", "auth/", "cubbyhole/", "identity/"] {
        if path.starts_with(reserved) || reserved.starts_with(path) {
            return Err(ApiError::bad(format!(
                "cannot mount at {path:?}: {reserved} is reserved"
            )));
        }
    }
    if let Some(existing) = open
        .mounts
        .iter()
        .find(|m| path.starts_with(&m.path) || m.path.starts_with(path))
    {
        return Err(ApiError::bad(format!(
            "path is already in use at {}",
            existing.path
        )));
    }
    let mut mounts = open.mounts.clone();
    mounts.push(Mount {
        path: path.to_owned(),
        engine,
        description: description.to_owned(),
        uuid: store::uuid(),
        accessor: format!("{}_{}", engine.type_name(), &store::uuid()[..8]),
    });
    store::put_json(barrier, MOUNTS_PATH, &mounts)?;
    open.mounts = mounts;
    Ok(())
}

fn disable_mount(barrier: &mut Vault, open: &mut Open, path: &str) -> Result<(), ApiError> {
    let Some(mount) = open.mounts.iter().find(|m| m.path == path).cloned() else {
        return Ok(());
    };
    let mounts: Vec<Mount> = open
        .mounts
        .iter()
        .filter(|m| m.path != path)
        .cloned()
        .collect();
    // The table first: after a crash the data may linger under an unused id, but no mount
    // ever points at half-deleted data.
    store::put_json(barrier, MOUNTS_PATH, &mounts)?;
    open.mounts = mounts;
    for entry in store::list_prefix(barrier, &format!("logical/{}/", mount.uuid))? {
        barrier.delete(&entry)?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)] // One request's parts, passed through to one dispatcher.
fn auth_token(
    barrier: &mut Vault,
    open: &mut Open,
    caller: &Caller,
    operation: Operation,
    path: &str,
    rest: &str,
    token: &str,
    body: &Body,
    now: SystemTime,
) -> Result<Response, ApiError> {
    match (rest, operation) {
        ("create" | "create-orphan", Operation::Write) => {
            caller.require(path, Capability::Update)?;
            create_token(
                barrier,
                open,
                caller,
                rest == "create-orphan",
                path,
                body,
                now,
            )
        }
        ("lookup-self", Operation::Read | Operation::Write) => {
            caller.require(path, Capability::Read)?;
            Ok(Response::ok(describe_token(
                &caller.entry,
                Some(token),
                now,
            )))
        }
        ("lookup", Operation::Write | Operation::Read) => {
            caller.require(
                path,
                if operation == Operation::Read {
                    Capability::Read
                } else {
                    Capability::Update
                },
            )?;
            let other = body
                .str("token")?
                .ok_or(ApiError::bad("missing token to look up"))?;
            let entry = open
                .tokens
                .find(other, now)
                .ok_or(ApiError::bad("bad token"))?;
            Ok(Response::ok(describe_token(entry, Some(other), now)))
        }
        ("lookup-accessor", Operation::Write) => {
            caller.require(path, Capability::Update)?;
            let accessor = body
                .str("accessor")?
                .ok_or(ApiError::bad("missing accessor"))?;
            let entry = live(open.tokens.by_accessor(accessor), now)
                .ok_or(ApiError::bad("invalid accessor"))?;
            Ok(Response::ok(describe_token(entry, None, now)))
        }
        ("renew-self", Operation::Write) => {
            caller.require(path, Capability::Update)?;
            renew(barrier, open, &caller.entry.hash, token, body, now)
        }
        ("renew", Operation::Write) => {
            caller.require(path, Capability::Update)?;
            let other = body
                .str("token")?
                .ok_or(ApiError::bad("missing token to renew"))?;
            let hash = open
                .tokens
                .find(other, now)
                .ok_or(ApiError::bad("bad token"))?
                .hash
                .clone();
            renew(barrier, open, &hash, other, body, now)
        }
        ("revoke-self", Operation::Write) => {
            caller.require(path, Capability::Update)?;
            open.tokens.revoke(barrier, &caller.entry.hash)?;
            Ok(Response::no_content())
        }
        ("revoke", Operation::Write) => {
            caller.require(path, Capability::Update)?;
            let other = body
                .str("token")?
                .ok_or(ApiError::bad("missing token to revoke"))?;
            if let Some(entry) = open.tokens.find(other, now) {
                let hash = entry.hash.clone();
                open.tokens.revoke(barrier, &hash)?;
            }
            Ok(Response::no_content())
        }
        ("revoke-accessor", Operation::Write) => {
            caller.require(path, Capability::Update)?;
            let accessor = body
                .str("accessor")?
                .ok_or(ApiError::bad("missing accessor"))?;
            if let Some(entry) = open.tokens.by_accessor(accessor) {
                let hash = entry.hash.clone();
                open.tokens.revoke(barrier, &hash)?;
            }
            Ok(Response::no_content())
        }
        ("revoke-orphan", Operation::Write) => {
            caller.require_sudo(path, Capability::Update)?;
            let other = body
                .str("token")?
                .ok_or(ApiError::bad("missing token to revoke"))?;
            if let Some(entry) = open.tokens.find(other, now) {
                let hash = entry.hash.clone();
                open.tokens.orphan_children_and_revoke(barrier, &hash)?;
            }
            Ok(Response::no_content())
        }
        _ => Err(ApiError::NoHandler {
            path: path.to_owned(),
        }),
    }
}

fn live(entry: Option<&TokenEntry>, now: SystemTime) -> Option<&TokenEntry> {
    entry.filter(|e| e.expire_time.is_none_or(|at| unix_secs(now) < at))
}

fn create_token(
    barrier: &mut Vault,
    open: &mut Open,
    caller: &Caller,
    orphan_endpoint: bool,
    path: &str,
    body: &Body,
    now: SystemTime,
) -> Result<Response, ApiError> {
    open.tokens.expire(barrier, now)?;
    let parent = &caller.entry;
    let no_parent = body.bool("no_parent")?.unwrap_or(false);
    if no_parent && !orphan_endpoint && !caller.is_root() {
        caller.require_sudo(path, Capability::Update).map_err(|_| {
            ApiError::bad("root or sudo privileges required to create orphan token")
        })?;
    }
    if body.get("period").is_some() {
        return Err(ApiError::bad(
            "periodic tokens are not supported by this server",
        ));
    }
    let mut policies = body.strings("policies")?;
    policies
        .iter_mut()
        .for_each(|p| *p = p.trim().to_lowercase());
    if policies.is_empty() {
        policies = parent.policies.clone();
    }
    if !parent.is_root()
        && policies
            .iter()
            .any(|p| p != "default" && !parent.policies.contains(p))
    {
        return Err(ApiError::bad("child policies must be subset of parent"));
    }
    let no_default = body.bool("no_default_policy")?.unwrap_or(false);
    let is_root = policies.iter().any(|p| p == "root");
    if is_root {
        policies = vec!["root".to_owned()];
    } else if no_default {
        policies.retain(|p| p != "default");
    } else if !policies.iter().any(|p| p == "default") {
        policies.push("default".to_owned());
    }
    policies.sort();
    policies.dedup();
    let id = match body.str("id")? {
        Some(id) if !id.is_empty() => {
            if !caller.is_root() {
                return Err(ApiError::bad(
                    "root or sudo privileges required to specify token id",
                ));
            }
            if id.contains('.') && !id.starts_with("hvs.") {
                return Err(ApiError::bad(
                    "custom token ID cannot have the '.' in the value",
                ));
            }
            if open.tokens.find(id, now).is_some() {
                return Err(ApiError::bad("cannot create a token with a duplicate ID"));
            }
            Zeroizing::new(id.to_owned())
        }
        _ => Zeroizing::new(token::new_token_id()),
    };
    let explicit_max = body
        .duration("explicit_max_ttl")?
        .unwrap_or(Duration::ZERO)
        .as_secs();
    let mut ttl = body.duration("ttl")?.unwrap_or(Duration::ZERO).as_secs();
    if ttl == 0 && !is_root {
        ttl = DEFAULT_TTL.as_secs();
    }
    if explicit_max > 0 && (ttl == 0 || ttl > explicit_max) {
        ttl = explicit_max;
    }
    ttl = ttl.min(DEFAULT_TTL.as_secs()).max(u64::from(ttl != 0));
    let orphan = orphan_endpoint || no_parent;
    let mut meta = BTreeMap::new();
    if let Some(Value::Object(map)) = body.get("meta") {
        for (k, v) in map {
            let v = v
                .as_str()
                .ok_or(ApiError::bad("meta values must be strings"))?;
            meta.insert(k.clone(), v.to_owned());
        }
    }
    let display = body.str("display_name")?.unwrap_or("");
    let entry = TokenEntry {
        hash: open.tokens.hash(&id),
        accessor: token::new_accessor(),
        policies,
        parent: (!orphan).then(|| parent.hash.clone()),
        display_name: if display.is_empty() {
            "token".to_owned()
        } else {
            format!("token-{display}")
        },
        meta,
        num_uses: body.u64("num_uses")?.unwrap_or(0),
        creation_time: unix_secs(now),
        ttl,
        expire_time: (ttl > 0).then(|| unix_secs(now) + ttl),
        explicit_max_ttl: explicit_max,
        renewable: body.bool("renewable")?.unwrap_or(true) && ttl > 0,
        path: path.to_owned(),
    };
    let auth = auth_block(&entry, &id, orphan);
    open.tokens.put(barrier, entry)?;
    let mut response = envelope(Value::Null);
    response["auth"] = auth;
    Ok(Response {
        status: 200,
        body: Some(response),
    })
}

fn auth_block(entry: &TokenEntry, id: &str, orphan: bool) -> Value {
    // The new token goes to its creator; this is the only time it is ever shown.
    json!({
        "client_token": id,
        "accessor": entry.accessor,
        "policies": entry.policies,
        "token_policies": entry.policies,
        "metadata": entry.meta,
        "lease_duration": entry.ttl,
        "renewable": entry.renewable,
        "entity_id": "",
        "token_type": "service",
        "orphan": orphan,
        "num_uses": entry.num_uses,
    })
}

fn renew(
    barrier: &mut Vault,
    open: &mut Open,
    hash: &str,
    id: &str,
    body: &Body,
    now: SystemTime,
) -> Result<Response, ApiError> {
    let mut entry = open
        .tokens
        .get(hash)
        .cloned()
        .ok_or(ApiError::PermissionDenied)?;
    if !entry.renewable || entry.expire_time.is_none() {
        return Err(ApiError::bad("lease is not renewable"));
    }
    let increment = match body.duration("increment")? {
        Some(d) if d.as_secs() > 0 => d.as_secs(),
        _ => entry.ttl,
    };
    let mut limit = entry.creation_time + DEFAULT_TTL.as_secs();
    if entry.explicit_max_ttl > 0 {
        limit = limit.min(entry.creation_time + entry.explicit_max_ttl);
    }
    let expire = (unix_secs(now) + increment).min(limit);
    entry.expire_time = Some(expire);
    entry.ttl = expire.saturating_sub(unix_secs(now));
    // As Vault does, the renewed token is named in the answer to the caller who sent it.
    let auth = auth_block(&entry, id, entry.parent.is_none());
    open.tokens.put(barrier, entry)?;
    let mut response = envelope(Value::Null);
    response["auth"] = auth;
    Ok(Response {
        status: 200,
        body: Some(response),
    })
}

fn describe_token(entry: &TokenEntry, id: Option<&str>, now: SystemTime) -> Value {
    let at = |secs: u64| rfc3339(SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
    json!({
        "accessor": entry.accessor,
        "creation_time": entry.creation_time,
        "creation_ttl": entry.ttl,
        "display_name": entry.display_name,
        "entity_id": "",
        "expire_time": entry.expire_time.map(at),
        "explicit_max_ttl": entry.explicit_max_ttl,
        // A token's owner may see its id: they sent it.
        "id": id.unwrap_or(""),
        "issue_time": at(entry.creation_time),
        "meta": if entry.meta.is_empty() { Value::Null } else { json!(entry.meta) },
        "num_uses": entry.num_uses,
        "orphan": entry.parent.is_none(),
        "path": entry.path,
        "policies": entry.policies,
        "renewable": entry.renewable,
        "ttl": entry.ttl_left(now),
        "type": "service",
        "max_ttl": go_duration(entry.explicit_max_ttl),
    })
}
