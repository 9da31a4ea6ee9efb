//! Replays the committed corpora of the ACL fuzz targets (`fuzz/corpus/acl_*`) with the checks
//! of the targets themselves (`fuzz/fuzz_targets/acl_*.rs`), so a crash kept there fails here.
// The corpus reader has twins in `crates/cpuflags/tests/fuzz_corpus.rs` and
// `crates/secret-crypto/tests/fuzz_corpus.rs`.

use std::fs;
use std::path::PathBuf;

use underhood_acl_model::json::{self, Request};
use underhood_acl_model::{
    AclOperation, AuthorizationResult, Authorizer, AuthorizerConfig, KafkaPrincipal, Resource,
    ResourceType, diff, lint,
};

/// The files of one target's corpus, sorted, as text.
fn corpus(target: &str) -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../../fuzz/corpus/{target}"));
    let mut files: Vec<(String, String)> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read_to_string(&path).unwrap())
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    files
}

#[test]
fn binding_files_load_only_if_they_parse() {
    let mut loaded = 0;
    for (name, text) in corpus("acl_json_bindings") {
        let parsed = json::parse_bindings(&text);
        if json::load_authorizer(&text, AuthorizerConfig::default()).is_ok() {
            assert!(parsed.is_ok(), "{name}");
            loaded += 1;
        }
        if let Ok(bindings) = parsed {
            let _ = lint(&bindings);
            let same = diff(&bindings, &bindings);
            assert!(same.added.is_empty() && same.removed.is_empty(), "{name}");
        }
    }
    assert!(loaded >= 2, "the corpus keeps good files too");
}

#[test]
fn request_lines_are_answered_or_refused() {
    let acls = corpus("acl_json_bindings")
        .into_iter()
        .find(|(name, _)| name == "seed-acls.json")
        .unwrap()
        .1;
    let authorizer = json::load_authorizer(&acls, AuthorizerConfig::default()).unwrap();
    let mut answered = 0;
    for (_, line) in corpus("acl_request_line") {
        match json::parse_request(&line) {
            Ok(Request::Authorize {
                principal,
                host,
                operation,
                resource,
            }) => {
                let _ = authorizer.explain(&principal, &host, operation, &resource);
                answered += 1;
            }
            Ok(Request::ByResourceType {
                principal,
                host,
                operation,
                resource_type,
            }) => {
                let _ = authorizer.authorize_by_resource_type(
                    &principal,
                    &host,
                    operation,
                    resource_type,
                );
                answered += 1;
            }
            Err(_) => {}
        }
    }
    assert!(answered >= 2);
}

#[test]
fn super_users_are_principals_allowed_everything() {
    for (name, text) in corpus("acl_super_users") {
        let Ok(config) = AuthorizerConfig::default().with_super_users(&text) else {
            continue;
        };
        let users: Vec<String> = config.super_users().map(str::to_owned).collect();
        let authorizer = Authorizer::load(config, Vec::new()).unwrap();
        let topic = Resource::new(ResourceType::Topic, "t").unwrap();
        for user in users {
            let principal = KafkaPrincipal::parse(&user).unwrap();
            assert_eq!(
                authorizer.authorize(&principal, "h", AclOperation::Read, &topic),
                AuthorizationResult::Allowed,
                "{name}: {user}"
            );
        }
    }
}
