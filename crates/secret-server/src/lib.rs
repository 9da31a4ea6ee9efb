//! A secrets server that speaks HashiCorp Vault's v1 HTTP API — init, unseal, seal, health,
//! mounts, ACL policies, tokens, KV version 2 and transit — over `underhood-secret-crypto`'s
//! barrier, so Vault clients such as `hvac` and `node-vault` work against it unchanged.
//!
//! # Example
//!
//! A dev server in memory: unsealed, with kv version 2 at `secret/`, driven without HTTP.
//!
//! ```
//! use std::sync::Arc;
//! use underhood_secret_server::{Core, Operation, Request, SystemClock};
//!
//! let (core, credentials) = Core::dev(Some("root"), Arc::new(SystemClock))?;
//! let write = Request {
//!     operation: Operation::Write,
//!     path: "secret/data/app".into(),
//!     query: vec![],
//!     token: Some(credentials.root_token.to_string()),
//!     body: br#"{"data": {"password": "hunter2"}}"#.to_vec(),
//! };
//! assert_eq!(core.handle(&write).status, 200);
//! let read = Request { operation: Operation::Read, body: vec![], ..write };
//! let response = core.handle(&read);
//! assert_eq!(response.body.unwrap()["data"]["data"]["password"], "hunter2");
//! # Ok::<(), underhood_secret_server::Error>(())
//! ```
//!
//! # What this server refuses to do
//!
//! It keeps nothing outside the barrier: the mount table, policies, tokens (as salted hashes),
//! KV data and transit keys are all encrypted entries, and a sealed server holds no key. It
//! never logs a request's query, headers or body, and no error repeats a submitted value. It
//! is a single node: no HA, replication, leases on dynamic secrets, auth methods other than
//! tokens, audit devices, response wrapping, or engines other than kv v2 and transit.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

// The README's Rust examples run as doc tests, so they cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod body;
mod clock;
pub use clock::{Clock, ManualClock, SystemClock};
mod core;
pub use crate::core::{Core, DevCredentials};
mod error;
mod http;
pub use http::{LogSink, RouterConfig, router};
mod kv;
mod policy;
pub use policy::{Acl, Capabilities, Capability, Pattern, Policy, PolicyError};
mod serve;
pub use serve::{TlsConfig, serve, serve_until_signal, shutdown_signal};
mod store;
mod timefmt;
mod token;
mod transit;

use serde_json::{Value, json};
use underhood_secret_crypto::barrier::BarrierError;

/// The version the server reports in `sys/health` and `sys/seal-status`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What a request asks for, from its HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `GET` or `HEAD`.
    Read,
    /// `LIST`, or `GET` with `?list=true`.
    List,
    /// `POST` or `PUT` (create or update, decided by whether the target exists).
    Write,
    /// `DELETE`.
    Delete,
    /// `PATCH`.
    Patch,
}

/// One API request: the path is below `/v1/`.
#[derive(Debug, Clone)]
pub struct Request {
    /// The operation.
    pub operation: Operation,
    /// The path below `/v1/`, such as `secret/data/app`, percent-decoded.
    pub path: String,
    /// The query parameters, decoded.
    pub query: Vec<(String, String)>,
    /// The client token (`X-Vault-Token` or `Authorization: Bearer`).
    pub token: Option<String>,
    /// The raw JSON body (empty for none).
    pub body: Vec<u8>,
}

/// The answer: an HTTP status and a JSON body (none for 204).
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body.
    pub body: Option<Value>,
}

impl Response {
    pub(crate) fn ok(data: Value) -> Response {
        Response {
            status: 200,
            body: Some(envelope(data)),
        }
    }

    pub(crate) fn plain(body: Value) -> Response {
        Response {
            status: 200,
            body: Some(body),
        }
    }

    pub(crate) fn no_content() -> Response {
        Response {
            status: 204,
            body: None,
        }
    }
}

/// Vault's response envelope around `data`.
pub(crate) fn envelope(data: Value) -> Value {
    json!({
        "request_id": store::uuid(),
        "lease_id": "",
        "renewable": false,
        "lease_duration": 0,
        "data": data,
        "wrap_info": null,
        "warnings": null,
        "auth": null,
    })
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The storage could not be opened or set up.
    #[error("storage: {source}")]
    Storage {
        /// The barrier's error.
        source: BarrierError,
    },
    /// Dev mode could not initialize itself.
    #[error("dev mode setup failed with status {status}")]
    DevSetup {
        /// The status the failing step returned.
        status: u16,
    },
    /// A TLS certificate or key file could not be read.
    #[error("TLS file {path:?}: {source}")]
    TlsFile {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: rustls_pki_types::pem::Error,
    },
    /// The certificate and key do not make a TLS configuration.
    #[error("TLS: {source}")]
    Tls {
        /// rustls's error.
        source: rustls::Error,
    },
}

impl Error {
    fn from_api(error: error::ApiError) -> Error {
        Error::DevSetup {
            status: error.into_response().status,
        }
    }
}
