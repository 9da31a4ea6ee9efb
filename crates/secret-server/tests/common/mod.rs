//! A server on a manual clock, driven without HTTP.

#![allow(dead_code, unreachable_pub)] // Each test binary uses a different part of this helper.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use serde_json::{Value, json};
use underhood_secret_server::{Core, ManualClock, Operation, Request};

pub struct Server {
    pub core: Core,
    pub clock: Arc<ManualClock>,
}

pub const START: u64 = 1_780_000_000;

impl Server {
    pub fn memory() -> Server {
        let clock = Arc::new(ManualClock::new(UNIX_EPOCH + Duration::from_secs(START)));
        Server {
            core: Core::in_memory(clock.clone()),
            clock,
        }
    }

    pub fn dev() -> (Server, String) {
        let clock = Arc::new(ManualClock::new(UNIX_EPOCH + Duration::from_secs(START)));
        let (core, credentials) = Core::dev(Some("root-token"), clock.clone()).unwrap();
        assert_eq!(credentials.root_token.as_str(), "root-token");
        (Server { core, clock }, "root-token".to_owned())
    }

    pub fn call(
        &self,
        operation: Operation,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> (u16, Value) {
        let (path, query) = match path.split_once('?') {
            Some((p, q)) => (
                p,
                q.split('&')
                    .map(|kv| {
                        let (k, v) = kv.split_once('=').unwrap();
                        (k.to_owned(), v.to_owned())
                    })
                    .collect(),
            ),
            None => (path, vec![]),
        };
        let body = if body.is_null() {
            vec![]
        } else {
            serde_json::to_vec(&body).unwrap()
        };
        let response = self.core.handle(&Request {
            operation,
            path: path.to_owned(),
            query,
            token: token.map(str::to_owned),
            body,
        });
        (response.status, response.body.unwrap_or(Value::Null))
    }

    pub fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.call(Operation::Read, path, Some(token), Value::Null)
    }

    pub fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.call(Operation::Write, path, Some(token), body)
    }

    pub fn list(&self, path: &str, token: &str) -> (u16, Value) {
        self.call(Operation::List, path, Some(token), Value::Null)
    }

    pub fn delete(&self, path: &str, token: &str) -> (u16, Value) {
        self.call(Operation::Delete, path, Some(token), Value::Null)
    }

    /// Initializes with `shares`/`threshold` and unseals; returns the keys and the root token.
    pub fn init_and_unseal(&self, shares: u64, threshold: u64) -> (Vec<String>, String) {
        let (status, body) = self.call(
            Operation::Write,
            "sys/init",
            None,
            json!({"secret_shares": shares, "secret_threshold": threshold}),
        );
        assert_eq!(status, 200, "{body}");
        let keys: Vec<String> = body["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap().to_owned())
            .collect();
        for key in &keys[..threshold as usize] {
            let (status, _) =
                self.call(Operation::Write, "sys/unseal", None, json!({ "key": key }));
            assert_eq!(status, 200);
        }
        (keys, body["root_token"].as_str().unwrap().to_owned())
    }

    /// A token with `policies` made by `parent`.
    pub fn token(&self, parent: &str, body: Value) -> String {
        let (status, response) = self.post("auth/token/create", parent, body);
        assert_eq!(status, 200, "{response}");
        response["auth"]["client_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

#[track_caller]
pub fn check(got: (u16, Value), status: u16, expected: Value) {
    assert_eq!(got.0, status, "{}", got.1);
    if !expected.is_null() {
        assert_subset(&got.1, &expected, "");
    }
}

/// Every field of `expected` appears in `got` with the same value (objects recursively).
#[track_caller]
pub fn assert_subset(got: &Value, expected: &Value, at: &str) {
    match (got, expected) {
        (Value::Object(g), Value::Object(e)) => {
            for (k, v) in e {
                let inner = g
                    .get(k)
                    .unwrap_or_else(|| panic!("missing {at}/{k} in {got}"));
                assert_subset(inner, v, &format!("{at}/{k}"));
            }
        }
        _ => assert_eq!(got, expected, "at {at}"),
    }
}
