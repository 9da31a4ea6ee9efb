//! Describe and delete with Kafka's filter semantics (ANY vs MATCH), and CreateAcls checks.

mod strategies;

use proptest::prelude::*;
use underhood_acl_model::*;

fn binding(line: &str) -> AclBinding {
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
}

const STORE: &[&str] = &[
    "User:a * READ ALLOW TOPIC LITERAL orders",
    "User:a * READ ALLOW TOPIC LITERAL *",
    "User:* * WRITE DENY TOPIC PREFIXED ord",
    "User:b h1 READ ALLOW TOPIC PREFIXED orders",
    "User:b * READ ALLOW TOPIC PREFIXED orders-eu",
    "User:a * READ ALLOW GROUP LITERAL orders",
];

fn filter(resource_type: &str, name: Option<&str>, pattern_type: &str) -> AclBindingFilter {
    AclBindingFilter {
        pattern: ResourcePatternFilter {
            resource_type: ResourceType::from_name(resource_type),
            name: name.map(str::to_owned),
            pattern_type: PatternType::from_name(pattern_type),
        },
        entry: AccessControlEntryFilter::ANY,
    }
}

/// `expected` lists the indexes into `STORE` the filter finds.
#[track_caller]
fn check(filter: AclBindingFilter, expected: &[usize]) {
    let authorizer = Authorizer::load(
        AuthorizerConfig::default(),
        STORE.iter().map(|l| binding(l)),
    )
    .unwrap();
    let found = authorizer.describe(&filter).unwrap();
    let mut want: Vec<AclBinding> = expected.iter().map(|i| binding(STORE[*i])).collect();
    want.sort();
    assert_eq!(found, want, "{filter}");
}

#[test]
fn any_compares_names_exactly_and_match_finds_what_applies() {
    check(filter("ANY", None, "ANY"), &[0, 1, 2, 3, 4, 5]);
    check(filter("TOPIC", Some("orders"), "ANY"), &[0, 3]);
    check(filter("TOPIC", Some("orders"), "LITERAL"), &[0]);
    check(filter("TOPIC", Some("orders"), "PREFIXED"), &[3]);
    check(filter("TOPIC", None, "PREFIXED"), &[2, 3, 4]);
    check(filter("TOPIC", Some("orders"), "MATCH"), &[0, 1, 2, 3]);
    check(filter("TOPIC", Some("orders-eu-1"), "MATCH"), &[1, 2, 3, 4]);
    check(filter("ANY", Some("orders"), "MATCH"), &[0, 1, 2, 3, 5]);
    check(filter("TOPIC", Some("*"), "MATCH"), &[1]);
    check(filter("TOPIC", Some("*"), "LITERAL"), &[1]);
}

#[test]
fn entry_filters_compare_strings_exactly() {
    let mut f = filter("ANY", None, "ANY");
    f.entry.principal = Some("User:*".to_owned());
    check(f.clone(), &[2]);
    f.entry.principal = Some("User:b".to_owned());
    f.entry.host = Some("h1".to_owned());
    check(f, &[3]);
    let mut f = filter("ANY", None, "ANY");
    f.entry.operation = AclOperation::Write;
    f.entry.permission = AclPermissionType::Deny;
    check(f.clone(), &[2]);
    // No implications in filters.
    f.entry.operation = AclOperation::Describe;
    f.entry.permission = AclPermissionType::Any;
    check(f, &[]);
}

#[test]
fn unknown_filter_parts_are_refused_and_delete_reports_per_filter() {
    let mut authorizer = Authorizer::load(
        AuthorizerConfig::default(),
        STORE.iter().map(|l| binding(l)),
    )
    .unwrap();
    let unknown = filter("TOPIC", None, "nope");
    assert!(matches!(
        authorizer.describe(&unknown),
        Err(AclError::UnknownFilterPart {
            part: FilterPart::PatternType,
            ..
        })
    ));
    assert!(
        authorizer
            .delete(&[filter("ANY", None, "ANY"), unknown])
            .is_err()
    );
    assert_eq!(
        authorizer.len(),
        STORE.len(),
        "a refused delete deletes nothing"
    );
    let removed = authorizer
        .delete(&[
            filter("TOPIC", Some("orders"), "LITERAL"),
            filter("TOPIC", Some("orders"), "MATCH"),
        ])
        .unwrap();
    assert_eq!(removed[0].len(), 1);
    assert_eq!(
        removed[1].len(),
        4,
        "KRaft reports a binding under every filter"
    );
    assert_eq!(authorizer.len(), STORE.len() - 4);
    assert!(!filter("TOPIC", Some("x"), "LITERAL").matches_at_most_one());
    assert!(AclBindingFilter::exact(&binding(STORE[0])).matches_at_most_one());
}

#[test]
fn create_checks_like_create_acls_and_load_like_kraft_replay() {
    let mut authorizer = Authorizer::default();
    let cluster_star = binding("User:a * ALTER ALLOW CLUSTER LITERAL *");
    let prefixed_cluster = binding("User:a * ALTER ALLOW CLUSTER PREFIXED kafka-cluster");
    let results = authorizer.create([
        binding("User:a * READ ALLOW TOPIC LITERAL t"),
        binding("User:a * READ ALLOW TOPIC LITERAL t"),
        cluster_star.clone(),
        prefixed_cluster,
        binding("User:a * READ ALLOW TOPIC LITERAL t").clone(),
        binding("User:a * FROB ALLOW TOPIC LITERAL t"),
        binding("User:a * READ NOPE TOPIC LITERAL t"),
        binding("User:a * READ ALLOW NOPE LITERAL t"),
    ]);
    let problems: Vec<Option<BindingProblem>> = results
        .iter()
        .map(|r| match r {
            Ok(()) => None,
            Err(AclError::InvalidBinding { problem, .. }) => Some(*problem),
            Err(other) => panic!("{other}"),
        })
        .collect();
    assert_eq!(
        problems,
        [
            None,
            None,
            Some(BindingProblem::ClusterName),
            None,
            None,
            Some(BindingProblem::Operation(AclOperation::Unknown)),
            Some(BindingProblem::Permission(AclPermissionType::Unknown)),
            Some(BindingProblem::ResourceType(ResourceType::Unknown)),
        ]
    );
    assert_eq!(authorizer.len(), 2);
    let empty_name = AclBinding {
        pattern: ResourcePattern::new(ResourceType::Topic, "", PatternType::Literal).unwrap(),
        entry: binding("User:a * READ ALLOW TOPIC LITERAL t").entry,
    };
    assert!(matches!(
        authorizer.create([empty_name])[0],
        Err(AclError::InvalidBinding {
            problem: BindingProblem::EmptyName,
            ..
        })
    ));
    let loaded = Authorizer::load(AuthorizerConfig::default(), [cluster_star]).unwrap();
    assert_eq!(loaded.len(), 1);
    assert_eq!(
        ResourcePattern::new(ResourceType::Any, "x", PatternType::Literal),
        Err(AclError::AnyResourceType)
    );
    assert_eq!(
        ResourcePattern::new(ResourceType::Topic, "x", PatternType::Match),
        Err(AclError::FilterPatternType {
            pattern_type: PatternType::Match
        })
    );
}

proptest! {
    #[test]
    fn match_filters_find_exactly_the_acls_that_apply(
        bindings in prop::collection::vec(strategies::binding(), 0..20),
        name in strategies::name(),
        resource_type in prop::sample::select(ResourceType::VALUES[2..].to_vec()),
    ) {
        let authorizer = Authorizer::load(AuthorizerConfig::default(), bindings.clone()).unwrap();
        let found = authorizer
            .describe(&AclBindingFilter {
                pattern: ResourcePatternFilter {
                    resource_type,
                    name: Some(name.clone()),
                    pattern_type: PatternType::Match,
                },
                entry: AccessControlEntryFilter::ANY,
            })
            .unwrap();
        let resource = Resource::new(resource_type, name).unwrap();
        let mut expected: Vec<AclBinding> =
            bindings.into_iter().filter(|b| b.pattern.applies_to(&resource)).collect();
        expected.sort();
        expected.dedup();
        prop_assert_eq!(found, expected);
    }
}
