//! `kafka-acls.sh` command lines turned into the exact bindings or filters the tool would send.
//!
//! The option parser follows jopt-simple as Kafka uses it (`--name value`, `--name=value`,
//! unique abbreviations, a single dash for long names), and the checks and expansion follow
//! `AclCommand` in the order it runs them, with its messages. Nothing contacts a broker.

use std::collections::{BTreeMap, BTreeSet};

use thiserror::Error;

use crate::binding::{CLUSTER_NAME, WILDCARD};
use crate::{
    AccessControlEntry, AccessControlEntryFilter, AclBinding, AclBindingFilter, AclError,
    AclOperation, AclPermissionType, KafkaPrincipal, PatternType, ResourcePattern,
    ResourcePatternFilter, ResourceType,
};

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `--add`: CreateAcls with these bindings, sorted.
    Add {
        /// The bindings.
        bindings: Vec<AclBinding>,
    },
    /// `--remove`: DeleteAcls with these filters, sorted.
    Remove {
        /// True unless `--force`: the tool would ask before deleting.
        confirm_prompt: bool,
        /// The filters.
        filters: Vec<AclBindingFilter>,
    },
    /// `--list`: DescribeAcls with these filters, then only entries of `principals` if any.
    List {
        /// The filters (one matching everything when no resource was given).
        filters: Vec<AclBindingFilter>,
        /// `--principal` values, sorted.
        principals: Vec<KafkaPrincipal>,
    },
}

/// A command line `kafka-acls.sh` refuses; `Display` is the tool's message.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum KafkaAclsError {
    /// No arguments at all, or `--help`: the tool prints its usage and exits 1.
    #[error("This tool helps to manage acls on kafka.")]
    Usage,
    /// `--version`: the tool prints Kafka's version, which a model does not have.
    #[error("--version: this model of kafka-acls.sh has no Kafka version")]
    Version,
    /// An option the tool does not have (or an ambiguous abbreviation).
    #[error("{option} is not a recognized option")]
    UnrecognizedOption {
        /// The option, without dashes.
        option: String,
    },
    /// An option that needs a value came last.
    #[error("Option {option} requires an argument")]
    MissingArgument {
        /// The option.
        option: &'static str,
    },
    /// A flag given `=value`.
    #[error("Option {option} does not take an argument")]
    UnexpectedArgument {
        /// The option.
        option: &'static str,
    },
    /// A single-valued option given twice.
    #[error("Found multiple arguments for option {option}, but you asked for only one")]
    MultipleArguments {
        /// The option.
        option: &'static str,
    },
    /// `--resource-pattern-type` with a value that is not a pattern type (or UNKNOWN).
    #[error("Cannot parse argument '{value}' of option resource-pattern-type")]
    BadPatternType {
        /// The value.
        value: String,
    },
    /// Both bootstrap options.
    #[error("Only one of --bootstrap-server or --bootstrap-controller must be specified")]
    BothBootstraps,
    /// Neither bootstrap option.
    #[error("One of --bootstrap-server or --bootstrap-controller must be specified")]
    NoBootstrap,
    /// Not exactly one of `--add`, `--remove`, `--list`.
    #[error("Command must include exactly one action: --list, --add, --remove. ")]
    ActionCount,
    /// Two options that cannot be combined.
    #[error("Option \"[{used}]\" can't be used with option \"[{other}]\"")]
    CannotCombine {
        /// The option that rules the other out.
        used: &'static str,
        /// The option it rules out.
        other: &'static str,
    },
    /// `--principal` without `--list`.
    #[error("The --principal option is only available if --list is set")]
    PrincipalWithoutList,
    /// `--producer` without `--topic`.
    #[error("With --producer you must specify a --topic")]
    ProducerWithoutTopic,
    /// `--idempotent` without `--producer`.
    #[error("The --idempotent option is only available if --producer is set")]
    IdempotentWithoutProducer,
    /// `--consumer` without a topic and a group, or with a cluster or transactional id.
    #[error(
        "With --consumer you must specify a --topic and a --group and no --cluster or --transactional-id option should be specified."
    )]
    ConsumerOptions,
    /// `--add` with ANY or MATCH.
    #[error("A '--resource-pattern-type' value of '{pattern_type}' is not valid when adding acls.")]
    PatternTypeForAdd {
        /// The pattern type given.
        pattern_type: PatternType,
    },
    /// No resource for `--add` or `--remove`.
    #[error(
        "You must provide at least one resource: --topic <topic> or --cluster or --group <group> or --delegation-token <Delegation Token ID>"
    )]
    NoResource,
    /// An operation the resource type does not support.
    #[error(
        "ResourceType {resource_type} only supports operations {}",
        list(valid)
    )]
    UnsupportedOperation {
        /// The resource type.
        resource_type: ResourceType,
        /// What it supports (ALL included).
        valid: Vec<AclOperation>,
    },
    /// `--add` with no principal for a resource.
    #[error(
        "You must specify one of: --allow-principal, --deny-principal when trying to add ACLs."
    )]
    NoPrincipal,
    /// An entry Java's constructor refuses (`--operation Any`).
    #[error("{source}")]
    Entry {
        /// The construction error.
        source: AclError,
    },
    /// A principal without `:`.
    #[error("{source}")]
    Principal {
        /// The parse error.
        source: AclError,
    },
}

fn list(ops: &[AclOperation]) -> String {
    let names: Vec<&str> = ops.iter().map(|o| o.name()).collect();
    format!("[{}]", names.join(", "))
}

/// What an option takes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Arity {
    Flag,
    Required,
    Optional,
}

const OPTIONS: &[(&str, Arity)] = &[
    ("add", Arity::Flag),
    ("allow-host", Arity::Required),
    ("allow-principal", Arity::Required),
    ("bootstrap-controller", Arity::Required),
    ("bootstrap-server", Arity::Required),
    ("cluster", Arity::Flag),
    ("command-config", Arity::Optional),
    ("consumer", Arity::Flag),
    ("delegation-token", Arity::Required),
    ("deny-host", Arity::Required),
    ("deny-principal", Arity::Required),
    ("force", Arity::Flag),
    ("group", Arity::Required),
    ("help", Arity::Flag),
    ("idempotent", Arity::Flag),
    ("list", Arity::Flag),
    ("operation", Arity::Required),
    ("principal", Arity::Optional),
    ("producer", Arity::Flag),
    ("remove", Arity::Flag),
    ("resource-pattern-type", Arity::Required),
    ("topic", Arity::Required),
    ("transactional-id", Arity::Required),
    ("user-principal", Arity::Required),
    ("version", Arity::Flag),
];

/// The parsed options: each present option with its values in order.
struct Options(BTreeMap<&'static str, Vec<String>>);

impl Options {
    fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    fn values(&self, name: &str) -> &[String] {
        self.0.get(name).map_or(&[], Vec::as_slice)
    }
}

/// Parses a `kafka-acls.sh` command line (without the program name).
pub fn parse<S: AsRef<str>>(args: &[S]) -> Result<Command, KafkaAclsError> {
    let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
    let options = parse_options(&args)?;
    check_args(&args, &options)?;
    if options.has("add") {
        let pattern_type = pattern_type(&options)?;
        if !pattern_type.is_specific() {
            return Err(KafkaAclsError::PatternTypeForAdd { pattern_type });
        }
        let mut bindings = BTreeSet::new();
        for (filter, entries) in filter_to_entries(&options)? {
            if entries.is_empty() {
                return Err(KafkaAclsError::NoPrincipal);
            }
            let pattern = pattern_of(&filter)?;
            for entry in entries {
                bindings.insert(AclBinding {
                    pattern: pattern.clone(),
                    entry,
                });
            }
        }
        Ok(Command::Add {
            bindings: bindings.into_iter().collect(),
        })
    } else if options.has("remove") {
        let mut filters = BTreeSet::new();
        for (filter, entries) in filter_to_entries(&options)? {
            if entries.is_empty() {
                filters.insert(AclBindingFilter {
                    pattern: filter.clone(),
                    entry: AccessControlEntryFilter::ANY,
                });
            }
            for entry in entries {
                filters.insert(AclBindingFilter {
                    pattern: filter.clone(),
                    entry: AccessControlEntryFilter::exact(&entry),
                });
            }
        }
        Ok(Command::Remove {
            confirm_prompt: !options.has("force"),
            filters: filters.into_iter().collect(),
        })
    } else {
        let resources = resource_filters(&options, pattern_type(&options)?);
        let filters = if resources.is_empty() {
            vec![AclBindingFilter::ANY]
        } else {
            resources
                .into_iter()
                .map(|pattern| AclBindingFilter {
                    pattern,
                    entry: AccessControlEntryFilter::ANY,
                })
                .collect()
        };
        let principals: BTreeSet<KafkaPrincipal> = principals(&options, "principal")?;
        Ok(Command::List {
            filters,
            principals: principals.into_iter().collect(),
        })
    }
}

fn parse_options(args: &[&str]) -> Result<Options, KafkaAclsError> {
    let mut options = Options(BTreeMap::new());
    let mut i = 0;
    while i < args.len() {
        let arg = args[i];
        i += 1;
        if arg == "--" {
            break;
        }
        let body = match arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) {
            Some(body) if !body.is_empty() => body,
            _ => continue, // A non-option argument: the tool ignores them.
        };
        let (name, inline) = match body.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (body, None),
        };
        let (name, arity) = lookup(name)?;
        let values = options.0.entry(name).or_default();
        match (arity, inline) {
            (Arity::Flag, Some(_)) => {
                return Err(KafkaAclsError::UnexpectedArgument { option: name });
            }
            (Arity::Flag, None) => {}
            (_, Some(value)) => values.push(value.to_owned()),
            (Arity::Required, None) => match args.get(i) {
                Some(value) => {
                    values.push((*value).to_owned());
                    i += 1;
                }
                None => return Err(KafkaAclsError::MissingArgument { option: name }),
            },
            (Arity::Optional, None) => {
                if let Some(value) = args.get(i).filter(|v| !v.starts_with('-')) {
                    values.push((*value).to_owned());
                    i += 1;
                }
            }
        }
    }
    Ok(options)
}

/// Exact name, else a unique abbreviation.
fn lookup(name: &str) -> Result<(&'static str, Arity), KafkaAclsError> {
    if let Some((n, a)) = OPTIONS.iter().find(|(n, _)| *n == name) {
        return Ok((n, *a));
    }
    let mut candidates = OPTIONS.iter().filter(|(n, _)| n.starts_with(name));
    match (candidates.next(), candidates.next()) {
        (Some((n, a)), None) if !name.is_empty() => Ok((n, *a)),
        _ => Err(KafkaAclsError::UnrecognizedOption {
            option: name.to_owned(),
        }),
    }
}

/// `AclCommandOptions.checkArgs`, in its order.
fn check_args(args: &[&str], o: &Options) -> Result<(), KafkaAclsError> {
    use KafkaAclsError::*;
    if args.is_empty() || o.has("help") {
        return Err(Usage);
    }
    if o.has("version") {
        return Err(Version);
    }
    match (o.has("bootstrap-server"), o.has("bootstrap-controller")) {
        (true, true) => return Err(BothBootstraps),
        (false, false) => return Err(NoBootstrap),
        _ => {}
    }
    if ["add", "remove", "list"]
        .iter()
        .filter(|a| o.has(a))
        .count()
        != 1
    {
        return Err(ActionCount);
    }
    let rules: [(&'static str, &[&'static str]); 3] = [
        (
            "list",
            &[
                "producer",
                "consumer",
                "allow-host",
                "allow-principal",
                "deny-host",
                "deny-principal",
            ],
        ),
        ("producer", &["operation", "deny-principal", "deny-host"]),
        ("consumer", &["operation", "deny-principal", "deny-host"]),
    ];
    for (used, others) in rules {
        if let Some(other) = others.iter().find(|other| o.has(used) && o.has(other)) {
            return Err(CannotCombine { used, other });
        }
    }
    if o.has("principal") && !o.has("list") {
        return Err(PrincipalWithoutList);
    }
    if o.has("producer") && !o.has("topic") {
        return Err(ProducerWithoutTopic);
    }
    if o.has("idempotent") && !o.has("producer") {
        return Err(IdempotentWithoutProducer);
    }
    if o.has("consumer")
        && (!o.has("topic")
            || !o.has("group")
            || (!o.has("producer") && (o.has("cluster") || o.has("transactional-id"))))
    {
        return Err(ConsumerOptions);
    }
    Ok(())
}

fn pattern_type(o: &Options) -> Result<PatternType, KafkaAclsError> {
    match o.values("resource-pattern-type") {
        [] => Ok(PatternType::Literal),
        [value] => {
            // jopt's EnumConverter ignores case; UNKNOWN is refused.
            let parsed = PatternType::from_name(&value.to_ascii_uppercase());
            if parsed == PatternType::Unknown {
                return Err(KafkaAclsError::BadPatternType {
                    value: value.clone(),
                });
            }
            Ok(parsed)
        }
        _ => Err(KafkaAclsError::MultipleArguments {
            option: "resource-pattern-type",
        }),
    }
}

/// `getResourceFilter`: one filter per resource value.
fn resource_filters(o: &Options, pattern_type: PatternType) -> BTreeSet<ResourcePatternFilter> {
    let mut filters = BTreeSet::new();
    let mut add = |resource_type, name: &str| {
        filters.insert(ResourcePatternFilter {
            resource_type,
            name: Some(name.to_owned()),
            pattern_type,
        });
    };
    for topic in o.values("topic") {
        add(ResourceType::Topic, topic.trim());
    }
    for group in o.values("group") {
        add(ResourceType::Group, group.trim());
    }
    // Transactional ids are the one resource the tool does not trim.
    for id in o.values("transactional-id") {
        add(ResourceType::TransactionalId, id);
    }
    for token in o.values("delegation-token") {
        add(ResourceType::DelegationToken, token.trim());
    }
    for user in o.values("user-principal") {
        add(ResourceType::User, user.trim());
    }
    if pattern_type == PatternType::Literal && (o.has("cluster") || o.has("idempotent")) {
        filters.insert(cluster_filter());
    }
    filters
}

fn cluster_filter() -> ResourcePatternFilter {
    ResourcePatternFilter {
        resource_type: ResourceType::Cluster,
        name: Some(CLUSTER_NAME.to_owned()),
        pattern_type: PatternType::Literal,
    }
}

type Expansion = BTreeMap<ResourcePatternFilter, BTreeSet<AccessControlEntry>>;

/// `getResourceFilterToAcls`: each resource filter with its entries, operations checked.
fn filter_to_entries(o: &Options) -> Result<Expansion, KafkaAclsError> {
    let pattern_type = pattern_type(o)?;
    let mut result = Expansion::new();
    if !o.has("producer") && !o.has("consumer") {
        let operations: BTreeSet<AclOperation> = o
            .values("operation")
            .iter()
            .map(|op| AclOperation::from_security_name(op.trim()))
            .collect();
        let operations = if o.has("operation") {
            operations
        } else {
            BTreeSet::from([AclOperation::All])
        };
        let entries = entries(o, &operations)?;
        let filters = required_resources(o, pattern_type)?;
        for filter in filters {
            result.insert(filter, entries.clone());
        }
    }
    if o.has("producer") {
        let filters = required_resources(o, pattern_type)?;
        let topic = entries(
            o,
            &ops(&[
                AclOperation::Write,
                AclOperation::Describe,
                AclOperation::Create,
            ]),
        )?;
        let transactional = entries(o, &ops(&[AclOperation::Write, AclOperation::Describe]))?;
        for filter in filters {
            match filter.resource_type {
                ResourceType::Topic => result.insert(filter, topic.clone()),
                ResourceType::TransactionalId => result.insert(filter, transactional.clone()),
                _ => None,
            };
        }
        if o.has("idempotent") {
            let idempotent = entries(o, &ops(&[AclOperation::IdempotentWrite]))?;
            result.insert(cluster_filter(), idempotent);
        }
    }
    if o.has("consumer") {
        let filters = required_resources(o, pattern_type)?;
        let topic = entries(o, &ops(&[AclOperation::Read, AclOperation::Describe]))?;
        let group = entries(o, &ops(&[AclOperation::Read]))?;
        for filter in filters {
            let add = match filter.resource_type {
                ResourceType::Topic => &topic,
                ResourceType::Group => &group,
                _ => continue,
            };
            result
                .entry(filter)
                .or_default()
                .extend(add.iter().cloned());
        }
    }
    for (filter, entries) in &result {
        let supported = filter.resource_type.supported_operations();
        if entries
            .iter()
            .any(|e| e.operation() != AclOperation::All && !supported.contains(&e.operation()))
        {
            let mut valid = supported.to_vec();
            valid.push(AclOperation::All);
            return Err(KafkaAclsError::UnsupportedOperation {
                resource_type: filter.resource_type,
                valid,
            });
        }
    }
    Ok(result)
}

fn ops(list: &[AclOperation]) -> BTreeSet<AclOperation> {
    list.iter().copied().collect()
}

fn required_resources(
    o: &Options,
    pattern_type: PatternType,
) -> Result<BTreeSet<ResourcePatternFilter>, KafkaAclsError> {
    let filters = resource_filters(o, pattern_type);
    if filters.is_empty() {
        return Err(KafkaAclsError::NoResource);
    }
    Ok(filters)
}

/// `getAcl`: allow principals × operations × allow hosts, and the same for deny.
fn entries(
    o: &Options,
    operations: &BTreeSet<AclOperation>,
) -> Result<BTreeSet<AccessControlEntry>, KafkaAclsError> {
    let mut entries = BTreeSet::new();
    for (principals_option, hosts_option, permission) in [
        ("allow-principal", "allow-host", AclPermissionType::Allow),
        ("deny-principal", "deny-host", AclPermissionType::Deny),
    ] {
        let principals = principals(o, principals_option)?;
        let hosts: BTreeSet<String> = if o.has(hosts_option) {
            o.values(hosts_option)
                .iter()
                .map(|h| h.trim().to_owned())
                .collect()
        } else if o.has(principals_option) {
            BTreeSet::from([WILDCARD.to_owned()])
        } else {
            BTreeSet::new()
        };
        for principal in &principals {
            for operation in operations {
                for host in &hosts {
                    // `--operation Any` fails here, as Java's AccessControlEntry constructor does.
                    let entry = AccessControlEntry::new(
                        principal.clone(),
                        host.as_str(),
                        *operation,
                        permission,
                    )
                    .map_err(|source| KafkaAclsError::Entry { source })?;
                    entries.insert(entry);
                }
            }
        }
    }
    Ok(entries)
}

fn principals(o: &Options, option: &str) -> Result<BTreeSet<KafkaPrincipal>, KafkaAclsError> {
    o.values(option)
        .iter()
        .map(|p| {
            KafkaPrincipal::parse(p.trim()).map_err(|source| KafkaAclsError::Principal { source })
        })
        .collect()
}

fn pattern_of(filter: &ResourcePatternFilter) -> Result<ResourcePattern, KafkaAclsError> {
    ResourcePattern::new(
        filter.resource_type,
        filter.name.clone().unwrap_or_default(),
        filter.pattern_type,
    )
    .map_err(|_| KafkaAclsError::PatternTypeForAdd {
        pattern_type: filter.pattern_type,
    })
}
