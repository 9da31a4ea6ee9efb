//! Kafka's `AuthorizerBenchmark` data shape, indexed authorizer against the linear scan.
//!
//! Per resource `foo-bar35_resource-<i>` (every 10th a GROUP, every 5th PREFIXED): `aclCount`
//! ALLOW READ ACLs for `User:test-user`, `User:test-user1`, … on host `*`, each followed by a
//! DENY READ with probability `deny`. Plus a PREFIXED `foo-bar35_resource-` with 10
//! host-specific ACLs and `resources / 10` host-specific ACLs on TOPIC `*` (hosts `127.0.0<n>`,
//! as Kafka builds them). Measured: WRITE on TOPIC `foo-bar35_resource-95` from 127.0.0.1, and
//! READ on TOPIC by resource type from 127.0.0.2, both as `User:test-user`.
//!
//! `cargo bench -p underhood-acl-model --bench authorize` runs resources {10k, 50k, 200k} ×
//! ACLs {10, 50} at 20 % deny, a deny sweep at 10k × 10 and 200k × 10 at 100 % deny; `ACL_BENCH_FULL=1` runs the whole
//! Kafka grid (deny 0–100 % everywhere, which needs several GB for the linear baseline).

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use underhood_acl_model::*;

const PREFIX: &str = "foo-bar35_resource-";

/// Kafka's `shouldDeny`, from a fixed-seed generator (splitmix64).
struct Dice(u64);

impl Dice {
    fn percent(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64 * 100.0
    }
}

fn binding(
    resource_type: ResourceType,
    name: &str,
    pattern_type: PatternType,
    principal: &KafkaPrincipal,
    host: &str,
    permission: AclPermissionType,
) -> AclBinding {
    AclBinding {
        pattern: ResourcePattern::new(resource_type, name, pattern_type).unwrap(),
        entry: AccessControlEntry::new(principal.clone(), host, AclOperation::Read, permission)
            .unwrap(),
    }
}

fn bindings(resources: usize, acls: usize, deny: f64) -> Vec<AclBinding> {
    let mut dice = Dice(42);
    let principals: Vec<KafkaPrincipal> = (0..acls)
        .map(|i| {
            let suffix = if i == 0 { String::new() } else { i.to_string() };
            KafkaPrincipal::new("User", format!("test-user{suffix}"))
        })
        .collect();
    let mut out = Vec::with_capacity(resources * acls * 2);
    for i in 0..resources {
        let resource_type = if i % 10 == 0 {
            ResourceType::Group
        } else {
            ResourceType::Topic
        };
        let pattern_type = if i % 5 == 0 {
            PatternType::Prefixed
        } else {
            PatternType::Literal
        };
        let name = format!("{PREFIX}{i}");
        for principal in &principals {
            let allow = AclPermissionType::Allow;
            out.push(binding(
                resource_type,
                &name,
                pattern_type,
                principal,
                "*",
                allow,
            ));
            if dice.percent() < deny {
                let deny = AclPermissionType::Deny;
                out.push(binding(
                    resource_type,
                    &name,
                    pattern_type,
                    principal,
                    "*",
                    deny,
                ));
            }
        }
    }
    let user = &principals[0];
    for host_id in 0..resources / 10 {
        let host = format!("127.0.0{host_id}");
        let allow = AclPermissionType::Allow;
        if host_id < 10 {
            out.push(binding(
                ResourceType::Topic,
                PREFIX,
                PatternType::Prefixed,
                user,
                &host,
                allow,
            ));
        }
        out.push(binding(
            ResourceType::Topic,
            WILDCARD,
            PatternType::Literal,
            user,
            &host,
            allow,
        ));
    }
    out
}

fn bench_case(c: &mut Criterion, resources: usize, acls: usize, deny: f64) {
    let all = bindings(resources, acls, deny);
    let config = AuthorizerConfig::default();
    let authorizer = Authorizer::load(config.clone(), all.iter().cloned()).unwrap();
    let user = KafkaPrincipal::new("User", "test-user");
    let topic = Resource::new(ResourceType::Topic, format!("{PREFIX}95")).unwrap();
    let id = format!("{resources}x{acls}/deny{deny}");
    // The indexed and the naive answers must agree before timing means anything.
    assert_eq!(
        authorizer.authorize(&user, "127.0.0.1", AclOperation::Write, &topic),
        naive::authorize(
            &config,
            &all,
            &user,
            "127.0.0.1",
            AclOperation::Write,
            &topic
        )
    );
    let by_type = |a: &Authorizer| {
        a.authorize_by_resource_type(&user, "127.0.0.2", AclOperation::Read, ResourceType::Topic)
            .unwrap()
            .result
    };
    let slow = resources > 10_000 && deny >= 90.0;
    assert!(
        slow || by_type(&authorizer)
            == naive::authorize_by_resource_type(
                &config,
                &all,
                &user,
                "127.0.0.2",
                AclOperation::Read,
                ResourceType::Topic
            )
    );

    let mut group = c.benchmark_group("authorize");
    group.bench_function(BenchmarkId::new("indexed", &id), |b| {
        b.iter(|| {
            authorizer.authorize(
                black_box(&user),
                "127.0.0.1",
                AclOperation::Write,
                black_box(&topic),
            )
        })
    });
    group.bench_function(BenchmarkId::new("linear", &id), |b| {
        b.iter(|| {
            naive::authorize(
                &config,
                black_box(&all),
                &user,
                "127.0.0.1",
                AclOperation::Write,
                &topic,
            )
        })
    });
    group.finish();

    let mut group = c.benchmark_group("authorize_by_resource_type");
    group.bench_function(BenchmarkId::new("indexed", &id), |b| {
        b.iter(|| by_type(black_box(&authorizer)))
    });
    // The linear by-type scan compares every allowed name with every denied prefix: at 90 %
    // deny and more beyond 10k resources one call takes minutes, so only the index runs.
    if resources > 10_000 && deny >= 90.0 {
        group.finish();
        return;
    }
    group.bench_function(BenchmarkId::new("linear", &id), |b| {
        b.iter(|| {
            naive::authorize_by_resource_type(
                &config,
                black_box(&all),
                &user,
                "127.0.0.2",
                AclOperation::Read,
                ResourceType::Topic,
            )
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let full = std::env::var_os("ACL_BENCH_FULL").is_some();
    let denies: &[f64] = if full {
        &[0.0, 20.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0]
    } else {
        &[20.0]
    };
    for resources in [10_000, 50_000, 200_000] {
        for acls in [10, 50] {
            for deny in denies {
                bench_case(c, resources, acls, *deny);
            }
        }
    }
    if !full {
        for deny in [0.0, 50.0, 90.0, 100.0] {
            bench_case(c, 10_000, 10, deny);
        }
        bench_case(c, 200_000, 10, 100.0);
    }
}

criterion_group! {
    name = authorize;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = benches
}
criterion_main!(authorize);
