//! `kafka-acls.sh` command lines and what the real tool would send, or its refusal.

use underhood_acl_model::kafka_acls::{self, Command};
use underhood_acl_model::{AclBinding, AclBindingFilter};

fn binding(b: &AclBinding) -> String {
    format!(
        "{} {} {} {} {} {} {}",
        b.entry.permission(),
        b.entry.principal(),
        b.entry.host(),
        b.entry.operation(),
        b.pattern.resource_type(),
        b.pattern.pattern_type(),
        b.pattern.name()
    )
}

fn filter(f: &AclBindingFilter) -> String {
    format!(
        "{} {} {} {} {} {} {}",
        f.entry.permission,
        f.entry.principal.as_deref().unwrap_or("?"),
        f.entry.host.as_deref().unwrap_or("?"),
        f.entry.operation,
        f.pattern.resource_type,
        f.pattern.pattern_type,
        f.pattern.name.as_deref().unwrap_or("?")
    )
}

/// `args` are space-separated after `--bootstrap-server b`; `expected` is one line per
/// binding or filter, or the tool's error message.
#[track_caller]
fn check(args: &str, expected: &str) {
    let mut argv = vec!["--bootstrap-server", "b"];
    argv.extend(args.split(' ').filter(|a| !a.is_empty()));
    let got = match kafka_acls::parse(&argv) {
        Ok(Command::Add { bindings }) => {
            bindings.iter().map(binding).collect::<Vec<_>>().join("\n")
        }
        Ok(Command::Remove {
            confirm_prompt,
            filters,
        }) => {
            let mut lines = vec![format!("confirm={confirm_prompt}")];
            lines.extend(filters.iter().map(filter));
            lines.join("\n")
        }
        Ok(Command::List {
            filters,
            principals,
        }) => {
            let mut lines: Vec<String> = filters.iter().map(filter).collect();
            lines.extend(principals.iter().map(|p| format!("principal {p}")));
            lines.join("\n")
        }
        Err(err) => err.to_string(),
    };
    assert_eq!(got, expected, "{args}");
}

#[test]
fn producer_consumer_and_idempotent_expand_like_the_tool() {
    check(
        "--add --allow-principal User:alice --producer --topic t",
        "ALLOW User:alice * WRITE TOPIC LITERAL t
ALLOW User:alice * CREATE TOPIC LITERAL t
ALLOW User:alice * DESCRIBE TOPIC LITERAL t",
    );
    check(
        "--add --allow-principal User:a --producer --idempotent --topic t --resource-pattern-type prefixed --transactional-id x",
        "ALLOW User:a * WRITE TOPIC PREFIXED t
ALLOW User:a * CREATE TOPIC PREFIXED t
ALLOW User:a * DESCRIBE TOPIC PREFIXED t
ALLOW User:a * IDEMPOTENT_WRITE CLUSTER LITERAL kafka-cluster
ALLOW User:a * WRITE TRANSACTIONAL_ID PREFIXED x
ALLOW User:a * DESCRIBE TRANSACTIONAL_ID PREFIXED x",
    );
    check(
        "--add --allow-principal User:a --consumer --topic t --group g --allow-host 10.0.0.1",
        "ALLOW User:a 10.0.0.1 READ TOPIC LITERAL t
ALLOW User:a 10.0.0.1 DESCRIBE TOPIC LITERAL t
ALLOW User:a 10.0.0.1 READ GROUP LITERAL g",
    );
    check(
        "--add --allow-principal User:a --producer --consumer --topic t --group g --cluster",
        "ALLOW User:a * READ TOPIC LITERAL t
ALLOW User:a * WRITE TOPIC LITERAL t
ALLOW User:a * CREATE TOPIC LITERAL t
ALLOW User:a * DESCRIBE TOPIC LITERAL t
ALLOW User:a * READ GROUP LITERAL g",
    );
}

#[test]
fn plain_add_crosses_principals_operations_and_hosts() {
    check(
        "--add --allow-principal User:a --deny-principal User:b --deny-host 1.1.1.1 --operation Read --operation describeconfigs --topic  t ",
        "ALLOW User:a * READ TOPIC LITERAL t
ALLOW User:a * DESCRIBE_CONFIGS TOPIC LITERAL t
DENY User:b 1.1.1.1 READ TOPIC LITERAL t
DENY User:b 1.1.1.1 DESCRIBE_CONFIGS TOPIC LITERAL t",
    );
    check(
        "--add --allow-principal User:a --cluster",
        "ALLOW User:a * ALL CLUSTER LITERAL kafka-cluster",
    );
    check(
        "--add --allow-principal User:a --allow-host h --deny-host d --topic=t",
        "ALLOW User:a h ALL TOPIC LITERAL t",
    );
    // Abbreviations and a single dash work as in jopt-simple.
    check(
        "--add --allow-pr User:a -topic t",
        "ALLOW User:a * ALL TOPIC LITERAL t",
    );
}

#[test]
fn remove_and_list_build_filters() {
    check(
        "--remove --topic t --resource-pattern-type MATCH",
        "confirm=true\nANY ? ? ANY TOPIC MATCH t",
    );
    check(
        "--remove --force --topic t --allow-principal User:a --operation Write",
        "confirm=false\nALLOW User:a * WRITE TOPIC LITERAL t",
    );
    check("--list", "ANY ? ? ANY ANY ANY ?");
    check(
        "--list --topic t --group g --principal User:b --principal User:a",
        "ANY ? ? ANY TOPIC LITERAL t\nANY ? ? ANY GROUP LITERAL g\nprincipal User:a\nprincipal User:b",
    );
    check(
        "--list --cluster --resource-pattern-type prefixed",
        "ANY ? ? ANY ANY ANY ?",
    );
}

#[test]
fn refusals_carry_the_tools_messages() {
    check(
        "--add --topic t",
        "You must specify one of: --allow-principal, --deny-principal when trying to add ACLs.",
    );
    check(
        "--list --producer",
        r#"Option "[list]" can't be used with option "[producer]""#,
    );
    check(
        "--add --allow-principal User:a --producer --operation Read --topic t",
        r#"Option "[producer]" can't be used with option "[operation]""#,
    );
    check(
        "--topic t",
        "Command must include exactly one action: --list, --add, --remove. ",
    );
    check(
        "--add --list",
        "Command must include exactly one action: --list, --add, --remove. ",
    );
    check(
        "--add --allow-principal User:a --resource-pattern-type match --topic t",
        "A '--resource-pattern-type' value of 'MATCH' is not valid when adding acls.",
    );
    check(
        "--add --allow-principal User:a --resource-pattern-type prefixed --cluster",
        "You must provide at least one resource: --topic <topic> or --cluster or --group <group> or --delegation-token <Delegation Token ID>",
    );
    check(
        "--add --allow-principal User:a --operation DESCRIBE_CONFIGS --topic t",
        "ResourceType TOPIC only supports operations [READ, WRITE, CREATE, DESCRIBE, DELETE, ALTER, DESCRIBE_CONFIGS, ALTER_CONFIGS, ALL]",
    );
    check(
        "--add --allow-principal User:a --operation Read --group g --cluster",
        "ResourceType CLUSTER only supports operations [CREATE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE, ALTER, DESCRIBE, ALL]",
    );
    check(
        "--add --producer --allow-principal User:a",
        "With --producer you must specify a --topic",
    );
    check(
        "--add --idempotent --topic t",
        "The --idempotent option is only available if --producer is set",
    );
    check(
        "--add --consumer --topic t --allow-principal User:a",
        "With --consumer you must specify a --topic and a --group and no --cluster or --transactional-id option should be specified.",
    );
    check(
        "--add --principal User:a --topic t",
        "The --principal option is only available if --list is set",
    );
    check(
        "--add --allow-principal alice --topic t",
        r#"expected a string in format principalType:principalName but got "alice""#,
    );
    check(
        "--list --resource-pattern-type bogus",
        "Cannot parse argument 'bogus' of option resource-pattern-type",
    );
    check(
        "--list --resource-pattern-type unknown",
        "Cannot parse argument 'unknown' of option resource-pattern-type",
    );
    check(
        "--list --frobnicate",
        "frobnicate is not a recognized option",
    );
    check("--list --p", "p is not a recognized option");
    check("--list --topic", "Option topic requires an argument");
    check(
        "--add --allow-principal User:a --operation Any --topic t",
        "operation must not be ANY",
    );
    check(
        "--bootstrap-controller c --list",
        "Only one of --bootstrap-server or --bootstrap-controller must be specified",
    );
    let none: [&str; 0] = [];
    assert_eq!(
        kafka_acls::parse(&none).unwrap_err().to_string(),
        "This tool helps to manage acls on kafka."
    );
    assert_eq!(
        kafka_acls::parse(&["--list", "--help"]).unwrap_err(),
        kafka_acls::KafkaAclsError::Usage
    );
    assert_eq!(
        kafka_acls::parse(&["--list"]).unwrap_err().to_string(),
        "One of --bootstrap-server or --bootstrap-controller must be specified"
    );
}
