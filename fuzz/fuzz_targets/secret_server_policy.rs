//! Any text given to the policy parser gives a policy or a positioned error, never a panic; a
//! parsed policy answers capability questions for any path.
#![no_main]

use libfuzzer_sys::fuzz_target;
use underhood_secret_server::{Acl, Policy};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(policy) = Policy::parse(text) {
        let acl = Acl::new([&policy]);
        for path in ["", "secret/data/a", "a/b/c/", "+", "*"] {
            let _ = acl.capabilities(path);
        }
        // Every rule's own path matches itself unless it ends in a glob.
        for (pattern, _) in policy.rules() {
            let _ = acl.capabilities(pattern.as_str());
        }
    }
});
