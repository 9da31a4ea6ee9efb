//! Any text as `super.users` (`--super-users`): an error, or super users who are each a
//! principal and are each allowed everything.
//! `crates/acl-model/tests/fuzz_corpus.rs` replays `fuzz/corpus/acl_super_users/`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use underhood_acl_model::{
    AclOperation, AuthorizationResult, Authorizer, AuthorizerConfig, KafkaPrincipal, Resource,
    ResourceType,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(config) = AuthorizerConfig::default().with_super_users(text) else {
        return;
    };
    let users: Vec<String> = config.super_users().map(str::to_owned).collect();
    let authorizer = Authorizer::load(config, Vec::new()).expect("no bindings always load");
    let topic = Resource::new(ResourceType::Topic, "t").expect("a plain topic name");
    for user in users {
        let principal = KafkaPrincipal::parse(&user).expect("a super user is a principal");
        assert_eq!(
            authorizer.authorize(&principal, "h", AclOperation::Read, &topic),
            AuthorizationResult::Allowed,
            "{user}"
        );
    }
});
