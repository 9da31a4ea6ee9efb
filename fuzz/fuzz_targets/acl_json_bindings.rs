//! Any text as the JSON binding file of `underhood acl eval/lint/who-can/diff`: an error, or
//! bindings that lint, diff and load without a panic, and load only if they parse.
//! `crates/acl-model/tests/fuzz_corpus.rs` replays `fuzz/corpus/acl_json_bindings/`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use underhood_acl_model::{AuthorizerConfig, diff, json, lint};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = json::parse_bindings(text);
    let loaded = json::load_authorizer(text, AuthorizerConfig::default());
    if loaded.is_ok() {
        assert!(parsed.is_ok(), "loaded but did not parse");
    }
    if let Ok(bindings) = parsed {
        let _ = lint(&bindings);
        let same = diff(&bindings, &bindings);
        assert!(same.added.is_empty() && same.removed.is_empty());
    }
});
