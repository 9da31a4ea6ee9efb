//! Replays the committed corpora of the `secret_server_policy` and `secret_server_request` fuzz
//! targets (`fuzz/corpus/…`) with the targets' own checks, so a crash kept there fails here.
// The corpus reader has twins in `crates/secret-crypto/tests/fuzz_corpus.rs` and others; the
// checks are twins of `fuzz/fuzz_targets/secret_server_*.rs`.

use std::fs;
use std::path::PathBuf;
use std::sync::Arc;

use underhood_secret_server::{Acl, Core, Operation, Policy, Request, SystemClock};

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../../fuzz/corpus/{target}"));
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    files
}

#[test]
fn policy_corpus_parses_or_is_refused_with_a_position() {
    let mut parsed = 0;
    for (name, data) in corpus("secret_server_policy") {
        let Ok(text) = std::str::from_utf8(&data) else {
            continue;
        };
        match Policy::parse(text) {
            Ok(policy) => {
                parsed += 1;
                let acl = Acl::new([&policy]);
                for (pattern, _) in policy.rules() {
                    let _ = acl.capabilities(pattern.as_str());
                }
            }
            Err(error) => assert!(!error.to_string().is_empty(), "{name}"),
        }
    }
    assert!(parsed >= 3, "only {parsed} seeds parse");
}

const PATHS: [&str; 16] = [
    "sys/init",
    "sys/unseal",
    "sys/health",
    "sys/mounts/fuzz",
    "sys/policy/fuzz",
    "sys/policies/acl/fuzz",
    "sys/capabilities-self",
    "auth/token/create",
    "auth/token/lookup",
    "auth/token/renew-self",
    "secret/data/fuzz",
    "secret/metadata/fuzz",
    "secret/delete/fuzz",
    "secret/config",
    "transit/encrypt/fuzz",
    "transit/keys/fuzz/config",
];

#[test]
fn request_corpus_gets_vault_shaped_answers_and_never_500() {
    let (core, _) = Core::dev(Some("root"), Arc::new(SystemClock)).unwrap();
    let root = Some("root".to_owned());
    let mount = br#"{"type": "transit"}"#.to_vec();
    core.handle(&Request {
        operation: Operation::Write,
        path: "sys/mounts/transit".into(),
        query: vec![],
        token: root.clone(),
        body: mount,
    });
    for (name, data) in corpus("secret_server_request") {
        let Some((&selector, body)) = data.split_first() else {
            continue;
        };
        let operation = match selector >> 6 {
            0 => Operation::Read,
            1 => Operation::Write,
            2 => Operation::List,
            _ => Operation::Delete,
        };
        let path = PATHS[usize::from(selector & 0x0F)];
        let response = core.handle(&Request {
            operation,
            path: path.into(),
            query: vec![],
            token: root.clone(),
            body: body.to_vec(),
        });
        assert_ne!(response.status, 500, "{name}: {path} answered 500");
        if response.status >= 400 {
            let body = response
                .body
                .unwrap_or_else(|| panic!("{name}: an error without a body"));
            assert!(
                body.get("errors").is_some() || body.get("data").is_some(),
                "{name}"
            );
        }
    }
}
