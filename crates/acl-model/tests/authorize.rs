//! Kafka's authorize rules, one line per case, and the indexed authorizer against the
//! brute-force reference on random ACL sets.

use proptest::prelude::*;
use underhood_acl_model::*;

/// `acls` are `principal host op perm type pattern name` lines; the request is
/// `principal host op type name` (name `-` for by-resource-type).
fn authorizer(acls: &str, config: AuthorizerConfig) -> (Authorizer, Vec<AclBinding>) {
    let bindings: Vec<AclBinding> = acls
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split(' ').collect();
            AclBinding {
                pattern: ResourcePattern::new(
                    ResourceType::from_name(f[4]),
                    f[6],
                    PatternType::from_name(f[5]),
                )
                .unwrap(),
                entry: AccessControlEntry::new(
                    KafkaPrincipal::parse(f[0]).unwrap(),
                    f[1],
                    AclOperation::from_name(f[2]),
                    AclPermissionType::from_name(f[3]),
                )
                .unwrap(),
            }
        })
        .collect();
    (
        Authorizer::load(config, bindings.clone()).unwrap(),
        bindings,
    )
}

#[track_caller]
fn check_with(config: AuthorizerConfig, acls: &str, request: &str, expected: &str) {
    let (authorizer, bindings) = authorizer(acls, config.clone());
    let f: Vec<&str> = request.split(' ').collect();
    let principal = KafkaPrincipal::parse(f[0]).unwrap();
    let operation = AclOperation::from_name(f[2]);
    let resource_type = ResourceType::from_name(f[3]);
    let (decision, naive) = if f[4] == "-" {
        let decision = authorizer
            .authorize_by_resource_type(&principal, f[1], operation, resource_type)
            .unwrap();
        let naive = naive::authorize_by_resource_type(
            &config,
            &bindings,
            &principal,
            f[1],
            operation,
            resource_type,
        );
        (decision, naive)
    } else {
        let resource = Resource::new(resource_type, f[4]).unwrap();
        let fast = authorizer.authorize(&principal, f[1], operation, &resource);
        let decision = authorizer.explain(&principal, f[1], operation, &resource);
        assert_eq!(fast, decision.result);
        let naive = naive::authorize(&config, &bindings, &principal, f[1], operation, &resource);
        (decision, naive)
    };
    let reason = match &decision.reason {
        Reason::SuperUser => "super".to_owned(),
        Reason::NoAclFound => "default".to_owned(),
        Reason::DeniedBy(b) => format!("deny {}", b.pattern.name()),
        Reason::AllowedBy(b) => format!("allow {}", b.pattern.name()),
        Reason::NoMatchingAllow => "none".to_owned(),
        other => format!("{other:?}"),
    };
    let got = format!("{} {reason}", decision.result);
    assert_eq!(got, expected, "{request}\n{acls}");
    assert_eq!(decision.result, naive, "reference disagrees: {request}");
}

#[track_caller]
fn check(acls: &str, request: &str, expected: &str) {
    check_with(AuthorizerConfig::default(), acls, request, expected);
}

const ALICE_READ_T: &str = "User:alice * READ ALLOW TOPIC LITERAL t";

#[test]
fn literal_wildcard_and_prefix_matching() {
    check(
        ALICE_READ_T,
        "User:alice 1.2.3.4 READ TOPIC t",
        "ALLOWED allow t",
    );
    check(
        ALICE_READ_T,
        "User:alice 1.2.3.4 READ TOPIC T",
        "DENIED default",
    );
    check(
        ALICE_READ_T,
        "User:alice 1.2.3.4 READ GROUP t",
        "DENIED default",
    );
    check(ALICE_READ_T, "User:bob 1.2.3.4 READ TOPIC t", "DENIED none");
    check(
        ALICE_READ_T,
        "user:alice 1.2.3.4 READ TOPIC t",
        "DENIED none",
    );
    let wildcard = "User:alice * READ ALLOW TOPIC LITERAL *";
    check(
        wildcard,
        "User:alice h READ TOPIC anything",
        "ALLOWED allow *",
    );
    check(wildcard, "User:alice h READ TOPIC *", "ALLOWED allow *");
    let prefixed = "User:alice * READ ALLOW TOPIC PREFIXED ord";
    check(
        prefixed,
        "User:alice h READ TOPIC orders",
        "ALLOWED allow ord",
    );
    check(prefixed, "User:alice h READ TOPIC ord", "ALLOWED allow ord");
    check(prefixed, "User:alice h READ TOPIC or", "DENIED default");
    let star_prefix = "User:alice * READ ALLOW TOPIC PREFIXED *";
    check(
        star_prefix,
        "User:alice h READ TOPIC orders",
        "DENIED default",
    );
    check(star_prefix, "User:alice h READ TOPIC *x", "ALLOWED allow *");
    let star_inside = "User:alice * READ ALLOW TOPIC LITERAL a*";
    check(star_inside, "User:alice h READ TOPIC ab", "DENIED default");
    check(
        star_inside,
        "User:alice h READ TOPIC a*",
        "ALLOWED allow a*",
    );
}

#[test]
fn principals_and_hosts_match_exactly_or_by_wildcard() {
    let any_user = "User:* * READ ALLOW TOPIC LITERAL t";
    check(any_user, "Group:ops h READ TOPIC t", "ALLOWED allow t");
    let any_group = "Group:* * READ ALLOW TOPIC LITERAL t";
    check(any_group, "Group:ops h READ TOPIC t", "DENIED none");
    let host = "User:alice 10.0.0.1 READ ALLOW TOPIC LITERAL t";
    check(host, "User:alice 10.0.0.1 READ TOPIC t", "ALLOWED allow t");
    check(host, "User:alice 10.0.0.2 READ TOPIC t", "DENIED none");
    let ipv6 = "User:alice ::1 READ ALLOW TOPIC LITERAL t";
    check(
        ipv6,
        "User:alice 0:0:0:0:0:0:0:1 READ TOPIC t",
        "DENIED none",
    );
}

#[test]
fn implications_apply_to_allows_only() {
    for op in ["READ", "WRITE", "DELETE", "ALTER"] {
        let acls = format!("User:a * {op} ALLOW TOPIC LITERAL t");
        check(&acls, "User:a h DESCRIBE TOPIC t", "ALLOWED allow t");
    }
    let alter_configs = "User:a * ALTER_CONFIGS ALLOW TOPIC LITERAL t";
    check(
        alter_configs,
        "User:a h DESCRIBE_CONFIGS TOPIC t",
        "ALLOWED allow t",
    );
    check(alter_configs, "User:a h DESCRIBE TOPIC t", "DENIED none");
    check(
        "User:a * CREATE ALLOW TOPIC LITERAL t",
        "User:a h DESCRIBE TOPIC t",
        "DENIED none",
    );
    let deny_read = "User:a * DESCRIBE ALLOW TOPIC LITERAL t\nUser:a * READ DENY TOPIC LITERAL t";
    check(deny_read, "User:a h DESCRIBE TOPIC t", "ALLOWED allow t");
    check(deny_read, "User:a h READ TOPIC t", "DENIED deny t");
    let all = "User:a * ALL ALLOW TOPIC LITERAL t";
    check(all, "User:a h IDEMPOTENT_WRITE TOPIC t", "ALLOWED allow t");
    check(all, "User:a h ALL TOPIC t", "ALLOWED allow t");
    check(all, "User:a h NONSENSE TOPIC t", "ALLOWED allow t");
    check(ALICE_READ_T, "User:alice h ALL TOPIC t", "DENIED none");
    check(
        "User:a * ALL DENY TOPIC LITERAL t",
        "User:a h WRITE TOPIC t",
        "DENIED deny t",
    );
}

#[test]
fn deny_wins_wherever_it_sits() {
    let base = "User:alice * READ ALLOW TOPIC LITERAL orders";
    for deny in [
        "User:alice * READ DENY TOPIC LITERAL *",
        "User:alice * READ DENY TOPIC PREFIXED o",
        "User:alice * READ DENY TOPIC PREFIXED orders",
        "User:* * READ DENY TOPIC LITERAL orders",
        "User:alice 10.0.0.1 ALL DENY TOPIC PREFIXED or",
    ] {
        let acls = format!("{base}\n{deny}");
        let name = deny.split(' ').nth(6).unwrap();
        check(
            &acls,
            "User:alice 10.0.0.1 READ TOPIC orders",
            &format!("DENIED deny {name}"),
        );
    }
}

#[test]
fn the_default_applies_only_when_nothing_applies() {
    let open = AuthorizerConfig::default().allowing_everyone_if_no_acl_found();
    check_with(open.clone(), "", "User:x h READ TOPIC t", "ALLOWED default");
    check_with(
        open.clone(),
        ALICE_READ_T,
        "User:x h READ TOPIC u",
        "ALLOWED default",
    );
    check_with(
        open.clone(),
        ALICE_READ_T,
        "User:x h READ TOPIC t",
        "DENIED none",
    );
    let deny_only = "User:bob * READ DENY TOPIC LITERAL t";
    check_with(
        open.clone(),
        deny_only,
        "User:x h READ TOPIC t",
        "DENIED none",
    );
    check_with(open, "", "User:x h READ UNKNOWN t", "ALLOWED default");
    check("", "User:x h READ TOPIC t", "DENIED default");
}

#[test]
fn super_users_match_exact_strings() {
    let config = AuthorizerConfig::default()
        .with_super_users(" User:admin ;; User:* ;")
        .unwrap();
    let deny = "User:admin * ALL DENY TOPIC LITERAL *";
    check_with(
        config.clone(),
        deny,
        "User:admin h READ TOPIC t",
        "ALLOWED super",
    );
    check_with(
        config.clone(),
        deny,
        "User:* h READ TOPIC t",
        "ALLOWED super",
    );
    check_with(
        config,
        ALICE_READ_T,
        "User:bob h READ TOPIC t",
        "DENIED none",
    );
    assert!(matches!(
        AuthorizerConfig::default().with_super_users("admin"),
        Err(AclError::BadPrincipal { .. })
    ));
}

#[test]
fn by_resource_type_follows_kraft() {
    let wildcard_deny = "User:a * WRITE ALLOW TOPIC LITERAL t\nUser:a * WRITE DENY TOPIC LITERAL *";
    check(wildcard_deny, "User:a h WRITE TOPIC -", "DENIED deny *");
    check(
        "User:a * WRITE ALLOW TOPIC LITERAL *",
        "User:a h WRITE TOPIC -",
        "ALLOWED allow *",
    );
    check(
        "User:a * WRITE ALLOW TOPIC LITERAL t",
        "User:a h WRITE TOPIC -",
        "ALLOWED allow t",
    );
    let dominated = "User:a * WRITE ALLOW TOPIC LITERAL tx\nUser:a * ALL DENY TOPIC PREFIXED t";
    check(dominated, "User:a h WRITE TOPIC -", "DENIED none");
    let literal_deny = "User:a * WRITE ALLOW TOPIC PREFIXED t\nUser:a * WRITE DENY TOPIC LITERAL t";
    check(literal_deny, "User:a h WRITE TOPIC -", "ALLOWED allow t");
    let same_literal = "User:a * WRITE ALLOW TOPIC LITERAL t\nUser:a * WRITE DENY TOPIC LITERAL t";
    check(same_literal, "User:a h WRITE TOPIC -", "DENIED none");
    // No implications in the scan, but the hardcode step has them.
    check(
        "User:a * WRITE ALLOW TOPIC LITERAL t",
        "User:a h DESCRIBE TOPIC -",
        "DENIED none",
    );
    check(
        "User:a * WRITE ALLOW TOPIC PREFIXED h",
        "User:a h DESCRIBE TOPIC -",
        "ALLOWED allow h",
    );
    check("", "User:a h WRITE TOPIC -", "DENIED default");
    let open = AuthorizerConfig::default().allowing_everyone_if_no_acl_found();
    check_with(open, "", "User:a h WRITE TOPIC -", "ALLOWED default");
    let authorizer = Authorizer::default();
    let a = KafkaPrincipal::parse("User:a").unwrap();
    assert_eq!(
        authorizer.authorize_by_resource_type(&a, "h", AclOperation::Any, ResourceType::Topic),
        Err(AclError::ByResourceTypeOperation {
            operation: AclOperation::Any
        })
    );
    assert_eq!(
        authorizer.authorize_by_resource_type(&a, "h", AclOperation::Read, ResourceType::Unknown),
        Err(AclError::ByResourceTypeType {
            resource_type: ResourceType::Unknown
        })
    );
}

// ---- random ACL sets against the reference ----

fn small_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*".to_owned()),
        Just("hardcode".to_owned()),
        "[ab*]{1,3}",
    ]
}

fn binding() -> impl Strategy<Value = AclBinding> {
    (
        prop::sample::select(vec![ResourceType::Topic, ResourceType::Group]),
        small_name(),
        prop::sample::select(vec![PatternType::Literal, PatternType::Prefixed]),
        prop::sample::select(vec!["User:a", "User:b", "User:*", "Group:a", "Group:*"]),
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

proptest! {
    #[test]
    fn indexed_agrees_with_the_reference(
        bindings in prop::collection::vec(binding(), 0..24),
        principal in prop::sample::select(vec!["User:a", "User:b", "Group:a", "User:*"]),
        host in prop::sample::select(vec!["h1", "h2", "*"]),
        operation in prop::sample::select(AclOperation::VALUES.to_vec()),
        resource_type in prop::sample::select(vec![ResourceType::Topic, ResourceType::Group, ResourceType::Unknown]),
        name in small_name(),
        allow_everyone in any::<bool>(),
    ) {
        let config = if allow_everyone { AuthorizerConfig::default().allowing_everyone_if_no_acl_found() } else { AuthorizerConfig::default() };
        let authorizer = Authorizer::load(config.clone(), bindings.clone()).unwrap();
        let principal = KafkaPrincipal::parse(principal).unwrap();
        let resource = Resource::new(resource_type, name).unwrap();
        let expected = naive::authorize(&config, &bindings, &principal, host, operation, &resource);
        let decision = authorizer.explain(&principal, host, operation, &resource);
        prop_assert_eq!(decision.result, expected);
        prop_assert_eq!(authorizer.authorize(&principal, host, operation, &resource), expected);
        // The reason names a binding that exists and matches.
        if let Reason::DeniedBy(b) | Reason::AllowedBy(b) = &decision.reason {
            prop_assert!(bindings.contains(b), "{b} is not stored");
            prop_assert!(b.pattern.applies_to(&resource));
        }
        if !matches!(operation, AclOperation::Any | AclOperation::Unknown) && resource_type != ResourceType::Unknown {
            let expected = naive::authorize_by_resource_type(&config, &bindings, &principal, host, operation, resource_type);
            let decision = authorizer.authorize_by_resource_type(&principal, host, operation, resource_type).unwrap();
            prop_assert_eq!(decision.result, expected);
            if let Reason::AllowedBy(b) = &decision.reason {
                prop_assert!(bindings.contains(b), "{b} is not stored");
            }
        }
    }

    #[test]
    fn create_then_delete_everything_round_trips(
        bindings in prop::collection::vec(binding(), 0..24),
    ) {
        let mut authorizer = Authorizer::default();
        for result in authorizer.create(bindings.clone()) {
            prop_assert!(result.is_ok());
        }
        let mut unique = bindings.clone();
        unique.sort();
        unique.dedup();
        prop_assert_eq!(authorizer.bindings(), unique.clone());
        prop_assert_eq!(authorizer.len(), unique.len());
        let removed = authorizer.delete(&[AclBindingFilter::ANY]).unwrap();
        prop_assert_eq!(&removed[0], &unique);
        prop_assert!(authorizer.is_empty());
        let bob = KafkaPrincipal::parse("User:a").unwrap();
        let resource = Resource::new(ResourceType::Topic, "a").unwrap();
        prop_assert_eq!(authorizer.explain(&bob, "h1", AclOperation::Read, &resource).reason, Reason::NoAclFound);
    }

    #[test]
    fn removing_one_binding_equals_never_adding_it(
        bindings in prop::collection::vec(binding(), 1..16),
        victim in any::<prop::sample::Index>(),
        principal in prop::sample::select(vec!["User:a", "User:b", "Group:a"]),
        host in prop::sample::select(vec!["h1", "h2"]),
        operation in prop::sample::select(AclOperation::VALUES[2..].to_vec()),
        name in small_name(),
    ) {
        let victim = victim.get(&bindings).clone();
        let mut with = Authorizer::load(AuthorizerConfig::default(), bindings.clone()).unwrap();
        with.delete(&[AclBindingFilter::exact(&victim)]).unwrap();
        let rest: Vec<_> = bindings.iter().filter(|b| **b != victim).cloned().collect();
        let without = Authorizer::load(AuthorizerConfig::default(), rest).unwrap();
        prop_assert_eq!(with.bindings(), without.bindings());
        let principal = KafkaPrincipal::parse(principal).unwrap();
        let resource = Resource::new(ResourceType::Topic, name).unwrap();
        prop_assert_eq!(
            with.explain(&principal, host, operation, &resource),
            without.explain(&principal, host, operation, &resource)
        );
        prop_assert_eq!(
            with.authorize_by_resource_type(&principal, host, operation, ResourceType::Topic),
            without.authorize_by_resource_type(&principal, host, operation, ResourceType::Topic)
        );
    }
}
