//! A brute-force transcription of Kafka's rules over a plain slice of bindings.
//!
//! It is the reference the indexed [`Authorizer`](crate::Authorizer) is tested against and the
//! linear-scan baseline of the benchmark; it checks nothing and should not serve requests.

use std::collections::HashSet;

use crate::binding::WILDCARD;
use crate::{
    AclBinding, AclOperation, AclPermissionType, AuthorizationResult, AuthorizerConfig,
    KafkaPrincipal, PatternType, Resource, ResourceType,
};

/// `authorize` by scanning every binding.
pub fn authorize(
    config: &AuthorizerConfig,
    bindings: &[AclBinding],
    principal: &KafkaPrincipal,
    host: &str,
    operation: AclOperation,
    resource: &Resource,
) -> AuthorizationResult {
    if config.is_super_user(principal) {
        return AuthorizationResult::Allowed;
    }
    let applying: Vec<&AclBinding> = bindings
        .iter()
        .filter(|b| b.pattern.applies_to(resource))
        .collect();
    if applying.is_empty() {
        return if config.allow_everyone_if_no_acl_found {
            AuthorizationResult::Allowed
        } else {
            AuthorizationResult::Denied
        };
    }
    let matching = |permission| {
        applying.iter().any(|b| {
            b.entry.permission() == permission
                && who_matches(b, principal, host)
                && operation_matches(b.entry.operation(), operation, permission)
        })
    };
    if matching(AclPermissionType::Deny) {
        AuthorizationResult::Denied
    } else if matching(AclPermissionType::Allow) {
        AuthorizationResult::Allowed
    } else {
        AuthorizationResult::Denied
    }
}

/// KRaft's `authorizeByResourceType` by scanning every binding. The caller rules out ANY and
/// UNKNOWN operations and types.
pub fn authorize_by_resource_type(
    config: &AuthorizerConfig,
    bindings: &[AclBinding],
    principal: &KafkaPrincipal,
    host: &str,
    operation: AclOperation,
    resource_type: ResourceType,
) -> AuthorizationResult {
    let Ok(hardcode) = Resource::new(resource_type, "hardcode") else {
        return AuthorizationResult::Denied;
    };
    if authorize(config, bindings, principal, host, operation, &hardcode)
        == AuthorizationResult::Allowed
    {
        return AuthorizationResult::Allowed;
    }
    let mut allow_wildcard = false;
    let (mut allow_literals, mut allow_prefixes) = (Vec::new(), Vec::new());
    let (mut deny_literals, mut deny_prefixes) = (HashSet::new(), Vec::new());
    for b in bindings {
        let op = b.entry.operation();
        if b.pattern.resource_type() != resource_type
            || !who_matches(b, principal, host)
            || !(op == operation || op == AclOperation::All)
        {
            continue;
        }
        let name = b.pattern.name();
        let literal = b.pattern.pattern_type() == PatternType::Literal;
        match b.entry.permission() {
            AclPermissionType::Deny if literal && name == WILDCARD => {
                return AuthorizationResult::Denied;
            }
            AclPermissionType::Deny if literal => {
                deny_literals.insert(name);
            }
            AclPermissionType::Deny => deny_prefixes.push(name),
            AclPermissionType::Allow if literal && name == WILDCARD => allow_wildcard = true,
            AclPermissionType::Allow if literal => allow_literals.push(name),
            AclPermissionType::Allow => allow_prefixes.push(name),
            _ => {}
        }
    }
    if allow_wildcard {
        return AuthorizationResult::Allowed;
    }
    let dominated = |name: &str| deny_prefixes.iter().any(|p| name.starts_with(p));
    let usable = allow_literals
        .iter()
        .any(|l| !deny_literals.contains(l) && !dominated(l))
        || allow_prefixes.iter().any(|p| !dominated(p));
    if usable {
        AuthorizationResult::Allowed
    } else {
        AuthorizationResult::Denied
    }
}

/// Principal (exact or `User:*`) and host (exact or `*`) of the binding match the request.
pub(crate) fn who_matches(binding: &AclBinding, principal: &KafkaPrincipal, host: &str) -> bool {
    let acl = binding.entry.principal();
    (acl == principal || acl.is_wildcard())
        && (binding.entry.host() == WILDCARD || binding.entry.host() == host)
}

/// ALL matches anything; equal matches; an ALLOW also matches the operations it implies.
pub(crate) fn operation_matches(
    acl: AclOperation,
    requested: AclOperation,
    permission: AclPermissionType,
) -> bool {
    acl == AclOperation::All
        || acl == requested
        || (permission == AclPermissionType::Allow && acl.implies() == Some(requested))
}
