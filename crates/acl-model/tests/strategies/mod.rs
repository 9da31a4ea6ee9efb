//! Random bindings shared by the property tests.

use proptest::prelude::*;
use underhood_acl_model::*;

/// Names from a tiny alphabet, so that prefixes and collisions are common.
pub(crate) fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*".to_owned()),
        Just("hardcode".to_owned()),
        "[ab*:é]{1,3}",
    ]
}

/// A storable binding (no UNKNOWN parts, no `/`, non-empty name).
pub(crate) fn binding() -> impl Strategy<Value = AclBinding> {
    (
        prop::sample::select(ResourceType::VALUES[2..].to_vec()),
        name(),
        prop::sample::select(vec![PatternType::Literal, PatternType::Prefixed]),
        prop::sample::select(vec![
            "User:a", "User:b", "User:*", "Group:a", "Group:*", "x:y:z",
        ]),
        prop::sample::select(vec!["*", "h1", "h2"]),
        prop::sample::select(AclOperation::VALUES[2..].to_vec()),
        prop::sample::select(vec![AclPermissionType::Allow, AclPermissionType::Deny]),
    )
        .prop_map(|(t, name, p, principal, host, op, perm)| AclBinding {
            pattern: ResourcePattern::new(t, name, p).unwrap(),
            entry: AccessControlEntry::new(
                KafkaPrincipal::parse(principal).unwrap(),
                host,
                op,
                perm,
            )
            .unwrap(),
        })
}
