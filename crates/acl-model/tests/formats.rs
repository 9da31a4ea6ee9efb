//! ZooKeeper layout, JSON binding lists and filters: exact forms and round trips.

mod strategies;

use proptest::prelude::*;
use underhood_acl_model::zk::{self, ZkError};
use underhood_acl_model::*;

fn pattern(t: ResourceType, name: &str, p: PatternType) -> ResourcePattern {
    ResourcePattern::new(t, name, p).unwrap()
}

#[track_caller]
fn check(pattern: ResourcePattern, path: &str) {
    assert_eq!(zk::znode_path(&pattern), path);
    assert_eq!(zk::parse_path(path).unwrap(), pattern);
}

#[test]
fn znode_paths_follow_the_zookeeper_layout() {
    use PatternType::*;
    use ResourceType::*;
    check(pattern(Topic, "orders", Literal), "/kafka-acl/Topic/orders");
    check(
        pattern(Cluster, "kafka-cluster", Literal),
        "/kafka-acl/Cluster/kafka-cluster",
    );
    check(
        pattern(TransactionalId, "tx1", Literal),
        "/kafka-acl/TransactionalId/tx1",
    );
    check(
        pattern(Group, "group-1", Prefixed),
        "/kafka-acl-extended/prefixed/Group/group-1",
    );
    // Type directories are read leniently.
    assert_eq!(
        zk::parse_path("/kafka-acl/TOPIC/x").unwrap(),
        pattern(Topic, "x", Literal)
    );
    assert_eq!(
        zk::parse_path("/kafka-acl/Nope/x").unwrap().resource_type(),
        ResourceType::Unknown
    );
    for bad in [
        "/kafka-acl/Topic",
        "/kafka-acl/Topic/",
        "/kafka-acl/Topic/a/b",
        "/kafka-acl-extended/PREFIXED/Topic/x",
        "/other/Topic/x",
    ] {
        assert!(
            matches!(zk::parse_path(bad), Err(ZkError::Path { .. })),
            "{bad}"
        );
    }
}

#[test]
fn znode_data_is_kafkas_json() {
    let entry = AccessControlEntry::new(
        KafkaPrincipal::parse("User:alice").unwrap(),
        "*",
        AclOperation::DescribeConfigs,
        AclPermissionType::Allow,
    )
    .unwrap();
    let text = zk::encode(std::slice::from_ref(&entry));
    assert_eq!(
        text,
        r#"{"version":1,"acls":[{"principal":"User:alice","permissionType":"Allow","operation":"DescribeConfigs","host":"*"}]}"#
    );
    assert_eq!(zk::decode(text.as_bytes()).unwrap(), vec![entry]);
    let lenient = br#"{"version":1,"acls":[{"principal":"User:a","permissionType":"allow","operation":"DESCRIBE_CONFIGS","host":"h"}]}"#;
    let decoded = zk::decode(lenient).unwrap();
    assert_eq!(decoded[0].permission(), AclPermissionType::Allow);
    assert_eq!(decoded[0].operation(), AclOperation::Unknown);
    assert!(zk::decode(b"").unwrap().is_empty());
    for (bad, what) in [
        (&br#"{"version":2,"acls":[]}"#[..], "version"),
        (br#"{"acls":[]}"#, "version"),
        (br#"{"version":1}"#, "acls"),
        (br#"{"version":1,"acls":[{"principal":"alice","permissionType":"Allow","operation":"Read","host":"*"}]}"#, "BadPrincipal"),
        (br#"{"version":1,"acls":[{"principal":"User:a","permissionType":"Any","operation":"Read","host":"*"}]}"#, "AnyPermission"),
        (br#"{"version":1,"acls":[{"principal":"User:a","operation":"Read","host":"*"}]}"#, "permissionType"),
        (b"{", "JSON"),
    ] {
        let err = zk::decode(bad).unwrap_err();
        let chain = format!("{err} {:?}", err);
        assert!(chain.contains(what), "{chain}");
    }
}

#[test]
fn zookeeper_refuses_what_it_cannot_store() {
    let entry = AccessControlEntry::new(
        KafkaPrincipal::parse("User:a").unwrap(),
        "*",
        AclOperation::Read,
        AclPermissionType::Allow,
    )
    .unwrap();
    for name in ["a/b", ""] {
        let binding = AclBinding {
            pattern: pattern(ResourceType::Topic, name, PatternType::Literal),
            entry: entry.clone(),
        };
        assert!(matches!(
            zk::to_znodes(&[binding]),
            Err(ZkError::Binding { .. })
        ));
    }
}

#[test]
fn change_notifications() {
    let literal = pattern(ResourceType::Topic, "orders", PatternType::Literal);
    assert_eq!(
        zk::change_notification(&literal),
        ("/kafka-acl-changes", "TOPIC:orders".to_owned())
    );
    let prefixed = pattern(ResourceType::Topic, "x:y", PatternType::Prefixed);
    let (parent, body) = zk::change_notification(&prefixed);
    assert_eq!(parent, "/kafka-acl-extended-changes");
    assert_eq!(
        body,
        r#"{"version":1,"resourceType":"TOPIC","name":"x:y","patternType":"PREFIXED"}"#
    );
    assert_eq!(
        zk::parse_change_notification(parent, &body).unwrap(),
        prefixed
    );
    let colon = pattern(ResourceType::Topic, "a:b", PatternType::Literal);
    let (parent, body) = zk::change_notification(&colon);
    assert_eq!(zk::parse_change_notification(parent, &body).unwrap(), colon);
}

#[test]
fn json_filters_use_null_for_any() {
    assert_eq!(
        json::filter_to_json(&AclBindingFilter::ANY).to_string(),
        r#"{"host":null,"name":null,"operation":null,"pattern_type":null,"permission":null,"principal":null,"resource_type":null}"#
    );
}

#[test]
fn json_bindings_parse_kafka_names() {
    let bindings = json::parse_bindings(
        r#"[{"principal":"User:a","host":"*","operation":"read","permission":"Allow","resource_type":"topic","pattern_type":"PREFIXED","name":"t"}]"#,
    )
    .unwrap();
    assert_eq!(bindings[0].entry.operation(), AclOperation::Read);
    assert_eq!(bindings[0].pattern.resource_type(), ResourceType::Topic);
    // Pattern types are case-sensitive: `prefixed` is UNKNOWN, which loading refuses.
    let err = json::load_authorizer(
        r#"[{"principal":"User:a","host":"*","operation":"READ","permission":"ALLOW","resource_type":"TOPIC","pattern_type":"prefixed","name":"t"}]"#,
        AuthorizerConfig::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, json::JsonError::Binding { index: 0, .. }),
        "{err:?}"
    );
    assert!(matches!(
        json::parse_bindings(r#"[{"principal":"User:a"}]"#),
        Err(json::JsonError::Syntax { .. })
    ));
}

proptest! {
    #[test]
    fn zookeeper_layout_round_trips(bindings in prop::collection::vec(strategies::binding(), 0..20)) {
        let znodes = zk::to_znodes(&bindings).unwrap();
        let back = zk::from_znodes(znodes.iter().map(|(p, d)| (p.as_str(), d.as_bytes()))).unwrap();
        let mut expected = bindings.clone();
        expected.sort();
        expected.dedup();
        prop_assert_eq!(back, expected);
    }

    #[test]
    fn json_list_round_trips(bindings in prop::collection::vec(strategies::binding(), 0..20)) {
        let text = json::write_bindings(&bindings);
        prop_assert_eq!(json::parse_bindings(&text).unwrap(), bindings);
    }

    #[test]
    fn change_notifications_round_trip(binding in strategies::binding()) {
        let (parent, body) = zk::change_notification(&binding.pattern);
        prop_assert_eq!(zk::parse_change_notification(parent, &body).unwrap(), binding.pattern);
    }
}
