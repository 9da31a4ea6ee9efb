//! Any text as a request line of `underhood acl eval`: an error, or a request that a small
//! authorizer answers without a panic.
//! `crates/acl-model/tests/fuzz_corpus.rs` replays `fuzz/corpus/acl_request_line/`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use underhood_acl_model::json::{self, Request};
use underhood_acl_model::{Authorizer, AuthorizerConfig};

const ACLS: &str = r#"[
 {"principal":"User:alice","host":"*","operation":"READ","permission":"ALLOW","resource_type":"TOPIC","pattern_type":"PREFIXED","name":"orders"},
 {"principal":"User:*","host":"*","operation":"ALL","permission":"DENY","resource_type":"TOPIC","pattern_type":"LITERAL","name":"orders-secret"}
]"#;

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    let authorizer: Authorizer =
        json::load_authorizer(ACLS, AuthorizerConfig::default()).expect("fixed ACLs load");
    match json::parse_request(line) {
        Ok(Request::Authorize {
            principal,
            host,
            operation,
            resource,
        }) => {
            let _ = authorizer.explain(&principal, &host, operation, &resource);
        }
        Ok(Request::ByResourceType {
            principal,
            host,
            operation,
            resource_type,
        }) => {
            let _ = authorizer.authorize_by_resource_type(&principal, &host, operation, resource_type);
        }
        Err(_) => {}
    }
});
