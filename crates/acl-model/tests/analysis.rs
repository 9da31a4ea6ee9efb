//! Lint, effective permissions and diff: examples, and the laws that make them trustworthy.

mod strategies;

use std::collections::BTreeSet;

use proptest::prelude::*;
use underhood_acl_model::*;

fn parse(acls: &str) -> Vec<AclBinding> {
    acls.lines()
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
        .collect()
}

/// `expected` lists `shadowed NAME` / `redundant NAME` per finding, by the flagged ACL's name
/// and operation.
#[track_caller]
fn check(acls: &str, expected: &[&str]) {
    let got: Vec<String> = lint(&parse(acls))
        .iter()
        .map(|f| match f {
            Finding::Shadowed { binding, .. } => {
                format!(
                    "shadowed {} {}",
                    binding.pattern.name(),
                    binding.entry.operation()
                )
            }
            Finding::Redundant { binding, .. } => {
                format!(
                    "redundant {} {}",
                    binding.pattern.name(),
                    binding.entry.operation()
                )
            }
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(got, expected, "{acls}");
}

#[test]
fn lint_finds_shadowed_and_redundant_acls() {
    check("User:a * READ ALLOW TOPIC LITERAL t", &[]);
    check(
        "User:a * WRITE ALLOW TOPIC LITERAL t\nUser:* * ALL DENY TOPIC PREFIXED t",
        &["shadowed t WRITE"],
    );
    // DENY WRITE does not deny the DESCRIBE that ALLOW WRITE implies.
    check(
        "User:a * WRITE ALLOW TOPIC LITERAL t\nUser:a * WRITE DENY TOPIC LITERAL *",
        &[],
    );
    check(
        "User:a * WRITE ALLOW TOPIC LITERAL t\nUser:a * WRITE DENY TOPIC LITERAL *\nUser:a * DESCRIBE DENY TOPIC LITERAL *",
        &["shadowed t WRITE"],
    );
    // A host-specific DENY does not shadow an ALLOW for every host.
    check(
        "User:a * READ ALLOW TOPIC LITERAL t\nUser:a 1.1.1.1 ALL DENY TOPIC LITERAL t",
        &[],
    );
    check(
        "User:a h DESCRIBE ALLOW TOPIC LITERAL orders\nUser:* * READ ALLOW TOPIC PREFIXED ord",
        &["redundant orders DESCRIBE"],
    );
    // The literal `*` covers every prefix, but no prefix covers it.
    check(
        "User:a * READ ALLOW TOPIC LITERAL *\nUser:a * READ ALLOW TOPIC PREFIXED a",
        &["redundant a READ"],
    );
    check(
        "User:a * READ DENY TOPIC LITERAL t\nUser:a * ALL DENY TOPIC LITERAL t",
        &["redundant t READ"],
    );
}

#[test]
fn who_can_lists_classes_with_reasons() {
    let acls = parse(
        "User:* * READ ALLOW TOPIC PREFIXED t\nUser:bob * ALL DENY TOPIC LITERAL t1\nUser:carol 10.0.0.1 WRITE ALLOW TOPIC LITERAL *",
    );
    let config = AuthorizerConfig::default()
        .with_super_users("User:root")
        .unwrap();
    let authorizer = Authorizer::load(config, acls).unwrap();
    let resource = Resource::new(ResourceType::Topic, "t1").unwrap();
    let rows: Vec<String> = who_can(&authorizer, AclOperation::Describe, &resource)
        .iter()
        .map(|a| format!("{} {} {}", a.decision.result, a.principal, a.host))
        .collect();
    assert_eq!(
        rows,
        [
            "DENIED User:bob 10.0.0.1",
            "DENIED User:bob *",
            "ALLOWED User:carol 10.0.0.1",
            "ALLOWED User:carol *",
            "ALLOWED User:root 10.0.0.1",
            "ALLOWED User:root *",
            "ALLOWED * 10.0.0.1",
            "ALLOWED * *"
        ]
    );
}

fn principal() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["User:a", "User:b", "Group:a", "User:*", "User:new"])
}

fn host() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["h1", "h2", "*", "h3"])
}

proptest! {
    #[test]
    fn removing_every_lint_finding_changes_no_decision(
        bindings in prop::collection::vec(strategies::binding(), 0..16),
        requests in prop::collection::vec((principal(), host(), prop::sample::select(AclOperation::VALUES.to_vec()), prop::sample::select(ResourceType::VALUES[2..].to_vec()), strategies::name()), 1..8),
    ) {
        let flagged: BTreeSet<AclBinding> = lint(&bindings)
            .into_iter()
            .map(|f| match f {
                Finding::Shadowed { binding, .. } | Finding::Redundant { binding, .. } => binding,
                other => panic!("{other:?}"),
            })
            .collect();
        let kept: Vec<AclBinding> = bindings.iter().filter(|b| !flagged.contains(b)).cloned().collect();
        let before = Authorizer::load(AuthorizerConfig::default(), bindings.clone()).unwrap();
        let after = Authorizer::load(AuthorizerConfig::default(), kept).unwrap();
        for (principal, host, operation, resource_type, name) in requests {
            let principal = KafkaPrincipal::parse(principal).unwrap();
            let resource = Resource::new(resource_type, name).unwrap();
            prop_assert_eq!(
                before.authorize(&principal, host, operation, &resource),
                after.authorize(&principal, host, operation, &resource),
                "{:?} {} {} {:?}", principal, host, operation, resource
            );
        }
    }

    #[test]
    fn who_can_agrees_with_authorize(
        bindings in prop::collection::vec(strategies::binding(), 0..16),
        operation in prop::sample::select(AclOperation::VALUES[2..].to_vec()),
        name in strategies::name(),
        requests in prop::collection::vec((principal(), host()), 1..8),
        allow_everyone in any::<bool>(),
    ) {
        let mut config = AuthorizerConfig::default().with_super_users("User:b").unwrap();
        if allow_everyone {
            config = config.allowing_everyone_if_no_acl_found();
        }
        let authorizer = Authorizer::load(config, bindings).unwrap();
        let resource = Resource::new(ResourceType::Topic, name).unwrap();
        let rows = who_can(&authorizer, operation, &resource);
        for (principal, host) in requests {
            let p = KafkaPrincipal::parse(principal).unwrap();
            let named_principal = rows.iter().any(|r| r.principal == Who::Principal(p.clone()));
            let named_host = rows.iter().any(|r| r.host == From::Host(host.to_owned()));
            let who = if named_principal { Who::Principal(p.clone()) } else { Who::AnyOtherPrincipal };
            let from = if named_host { From::Host(host.to_owned()) } else { From::AnyOtherHost };
            let row = rows.iter().find(|r| r.principal == who && r.host == from);
            prop_assert!(row.is_some(), "no row for {principal} {host}: {rows:?}");
            prop_assert_eq!(
                row.unwrap().decision.result,
                authorizer.authorize(&p, host, operation, &resource),
                "{} {} {:?}", principal, host, rows
            );
        }
    }

    #[test]
    fn diff_takes_old_to_new(
        old in prop::collection::vec(strategies::binding(), 0..12),
        new in prop::collection::vec(strategies::binding(), 0..12),
    ) {
        let d = diff(&old, &new);
        let mut set: BTreeSet<AclBinding> = old.into_iter().collect();
        for b in &d.removed { prop_assert!(set.remove(b)); }
        for b in &d.added { prop_assert!(set.insert(b.clone())); }
        prop_assert_eq!(set, new.into_iter().collect::<BTreeSet<_>>());
    }
}
