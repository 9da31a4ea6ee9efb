//! Any argument list given to the kafka-acls.sh parser gives a command or the tool's error,
//! never a panic; an `--add` gives bindings the ACL store accepts or refuses with an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use underhood_acl_model::kafka_acls::{self, Command};
use underhood_acl_model::{Authorizer, AuthorizerConfig};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Arguments are separated by NUL, as in /proc/<pid>/cmdline.
    let args: Vec<&str> = text.split('\0').collect();
    if let Ok(Command::Add { bindings }) = kafka_acls::parse(&args) {
        let mut authorizer = Authorizer::new(AuthorizerConfig::default());
        let _ = authorizer.create(bindings);
    }
});
