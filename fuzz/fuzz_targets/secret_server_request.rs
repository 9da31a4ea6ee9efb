//! Any request body sent to any endpoint of a dev server gets a Vault-shaped answer, never a
//! panic and never a 500: bad input is a 4xx with `{"errors": [...]}`.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use underhood_secret_server::{Core, Operation, Request, SystemClock};

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

fn core() -> &'static Core {
    static CORE: OnceLock<Core> = OnceLock::new();
    CORE.get_or_init(|| {
        let (core, _) = Core::dev(Some("root"), Arc::new(SystemClock)).expect("dev mode starts");
        let mount = Request {
            operation: Operation::Write,
            path: "sys/mounts/transit".into(),
            query: vec![],
            token: Some("root".into()),
            body: br#"{"type": "transit"}"#.to_vec(),
        };
        core.handle(&mount);
        core
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let operation = match selector >> 6 {
        0 => Operation::Read,
        1 => Operation::Write,
        2 => Operation::List,
        _ => Operation::Delete,
    };
    let path = PATHS[usize::from(selector & 0x0F)];
    // Sealing would make every later input boring; the seal endpoint takes no body anyway.
    let response = core().handle(&Request {
        operation,
        path: path.into(),
        query: vec![],
        token: Some("root".into()),
        body: body.to_vec(),
    });
    assert_ne!(response.status, 500, "{path} answered 500");
    if response.status >= 400 {
        let body = response.body.expect("an error has a body");
        assert!(body.get("errors").is_some() || body.get("data").is_some());
    }
});
