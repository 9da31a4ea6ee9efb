//! Kafka's ACL enums with their names, wire codes and the two string forms Kafka parses.

use std::fmt;

macro_rules! kafka_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal, $upper:literal, $pascal:literal; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
        }

        impl $name {
            /// Every value, in wire-code order.
            pub const VALUES: &'static [$name] = &[$($name::$variant),*];

            /// The wire code (a Java `byte`).
            pub const fn code(self) -> i8 {
                match self { $($name::$variant => $code,)* }
            }

            /// The value with this wire code; an unknown code is `Unknown`.
            pub const fn from_code(code: i8) -> Self {
                match code { $($code => $name::$variant,)* _ => $name::Unknown }
            }

            /// Kafka's enum name, such as `TRANSACTIONAL_ID`: the `Display` and JSON form.
            pub const fn name(self) -> &'static str {
                match self { $($name::$variant => $upper,)* }
            }

            /// The `SecurityUtils` name, such as `TransactionalId`: the ZooKeeper and CLI form.
            pub const fn security_name(self) -> &'static str {
                match self { $($name::$variant => $pascal,)* }
            }

            /// `SecurityUtils` lookup: the exact PascalCase name, else the upper-cased input
            /// against the upper-cased PascalCase name; anything else is `Unknown`.
            /// So `DescribeConfigs` and `describeconfigs` parse, `DESCRIBE_CONFIGS` does not.
            pub fn from_security_name(input: &str) -> Self {
                if let Some(value) = Self::VALUES.iter().find(|v| v.security_name() == input) {
                    return *value;
                }
                let upper = input.to_uppercase();
                Self::VALUES
                    .iter()
                    .find(|v| v.security_name().eq_ignore_ascii_case(&upper)
                        && v.security_name().to_ascii_uppercase() == upper)
                    .copied()
                    .unwrap_or($name::Unknown)
            }

            fn from_exact_name(input: &str) -> Self {
                Self::VALUES.iter().find(|v| v.name() == input).copied().unwrap_or($name::Unknown)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

kafka_enum! {
    /// The kind of resource an ACL protects.
    ResourceType {
        /// A type this version does not know.
        Unknown = 0, "UNKNOWN", "Unknown";
        /// Any type: filters only.
        Any = 1, "ANY", "Any";
        /// A topic.
        Topic = 2, "TOPIC", "Topic";
        /// A consumer group.
        Group = 3, "GROUP", "Group";
        /// The cluster, always named `kafka-cluster`.
        Cluster = 4, "CLUSTER", "Cluster";
        /// A transactional id.
        TransactionalId = 5, "TRANSACTIONAL_ID", "TransactionalId";
        /// A delegation token.
        DelegationToken = 6, "DELEGATION_TOKEN", "DelegationToken";
        /// A user principal.
        User = 7, "USER", "User";
    }
}

kafka_enum! {
    /// How a resource pattern's name matches resource names.
    PatternType {
        /// A pattern type this version does not know.
        Unknown = 0, "UNKNOWN", "Unknown";
        /// Filters only: any pattern type, names compared exactly.
        Any = 1, "ANY", "Any";
        /// Filters only: every pattern that applies to the filter's name.
        Match = 2, "MATCH", "Match";
        /// The name itself, or every name when it is `*`.
        Literal = 3, "LITERAL", "Literal";
        /// Every name that starts with the pattern's name.
        Prefixed = 4, "PREFIXED", "Prefixed";
    }
}

kafka_enum! {
    /// An operation on a resource.
    AclOperation {
        /// An operation this version does not know.
        Unknown = 0, "UNKNOWN", "Unknown";
        /// Any operation: filters only.
        Any = 1, "ANY", "Any";
        /// Every operation.
        All = 2, "ALL", "All";
        /// Read.
        Read = 3, "READ", "Read";
        /// Write.
        Write = 4, "WRITE", "Write";
        /// Create.
        Create = 5, "CREATE", "Create";
        /// Delete.
        Delete = 6, "DELETE", "Delete";
        /// Alter.
        Alter = 7, "ALTER", "Alter";
        /// Describe.
        Describe = 8, "DESCRIBE", "Describe";
        /// Cluster action (inter-broker requests).
        ClusterAction = 9, "CLUSTER_ACTION", "ClusterAction";
        /// Describe configs.
        DescribeConfigs = 10, "DESCRIBE_CONFIGS", "DescribeConfigs";
        /// Alter configs.
        AlterConfigs = 11, "ALTER_CONFIGS", "AlterConfigs";
        /// Idempotent write.
        IdempotentWrite = 12, "IDEMPOTENT_WRITE", "IdempotentWrite";
        /// Create delegation tokens.
        CreateTokens = 13, "CREATE_TOKENS", "CreateTokens";
        /// Describe delegation tokens.
        DescribeTokens = 14, "DESCRIBE_TOKENS", "DescribeTokens";
    }
}

kafka_enum! {
    /// Whether an ACL allows or denies.
    AclPermissionType {
        /// A permission this version does not know.
        Unknown = 0, "UNKNOWN", "Unknown";
        /// Any permission: filters only.
        Any = 1, "ANY", "Any";
        /// Deny: wins over every allow.
        Deny = 2, "DENY", "Deny";
        /// Allow.
        Allow = 3, "ALLOW", "Allow";
    }
}

impl ResourceType {
    /// Kafka's `fromString`: upper-cases the input, then matches the enum name; else `Unknown`.
    pub fn from_name(input: &str) -> Self {
        Self::from_exact_name(&input.to_uppercase())
    }

    /// The operations the command-line tool accepts on this type (`ALL` is accepted too).
    pub fn supported_operations(self) -> &'static [AclOperation] {
        use AclOperation::*;
        match self {
            Self::Topic => &[
                Read,
                Write,
                Create,
                Describe,
                Delete,
                Alter,
                DescribeConfigs,
                AlterConfigs,
            ],
            Self::Group => &[Read, Describe, Delete, DescribeConfigs, AlterConfigs],
            Self::Cluster => &[
                Create,
                ClusterAction,
                DescribeConfigs,
                AlterConfigs,
                IdempotentWrite,
                Alter,
                Describe,
            ],
            Self::TransactionalId => &[Describe, Write],
            Self::DelegationToken => &[Describe],
            Self::User => &[CreateTokens, DescribeTokens],
            Self::Unknown | Self::Any => &[],
        }
    }
}

impl PatternType {
    /// Kafka's `fromString`: exact and case-sensitive; a name it does not know is `Unknown`.
    pub fn from_name(input: &str) -> Self {
        Self::from_exact_name(input)
    }

    /// `LITERAL` or `PREFIXED`: the pattern types a stored ACL may have.
    pub const fn is_specific(self) -> bool {
        matches!(self, Self::Literal | Self::Prefixed)
    }
}

impl AclOperation {
    /// Kafka's `fromString`: upper-cases the input, then matches the enum name; else `Unknown`.
    pub fn from_name(input: &str) -> Self {
        Self::from_exact_name(&input.to_uppercase())
    }

    /// The operations an ALLOW of `self` also allows: READ, WRITE, DELETE and ALTER imply
    /// DESCRIBE; ALTER_CONFIGS implies DESCRIBE_CONFIGS. Nothing else implies anything.
    pub const fn implies(self) -> Option<AclOperation> {
        match self {
            Self::Read | Self::Write | Self::Delete | Self::Alter => Some(Self::Describe),
            Self::AlterConfigs => Some(Self::DescribeConfigs),
            _ => None,
        }
    }

    pub(crate) const fn bit(self) -> u16 {
        1 << self.code()
    }
}

impl AclPermissionType {
    /// Kafka's `fromString`: upper-cases the input, then matches the enum name; else `Unknown`.
    pub fn from_name(input: &str) -> Self {
        Self::from_exact_name(&input.to_uppercase())
    }
}

/// The answer to an authorization request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthorizationResult {
    /// The request may proceed.
    Allowed,
    /// The request is refused.
    Denied,
}

impl fmt::Display for AuthorizationResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Allowed => "ALLOWED",
            Self::Denied => "DENIED",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(input: &str, by_name: AclOperation, by_security_name: AclOperation) {
        assert_eq!(
            AclOperation::from_name(input),
            by_name,
            "from_name({input:?})"
        );
        assert_eq!(
            AclOperation::from_security_name(input),
            by_security_name,
            "from_security_name({input:?})"
        );
    }

    #[test]
    fn operation_names_parse_like_kafka() {
        use AclOperation::*;
        check("Read", Read, Read);
        check("READ", Read, Read);
        check("read", Read, Read);
        check("DescribeConfigs", Unknown, DescribeConfigs);
        check("describeconfigs", Unknown, DescribeConfigs);
        check("DESCRIBE_CONFIGS", DescribeConfigs, Unknown);
        check("describe_configs", DescribeConfigs, Unknown);
        check("All", All, All);
        check("Any", Any, Any);
        check("nope", Unknown, Unknown);
        check("", Unknown, Unknown);
    }

    #[test]
    fn pattern_type_names_are_case_sensitive() {
        assert_eq!(PatternType::from_name("PREFIXED"), PatternType::Prefixed);
        assert_eq!(PatternType::from_name("prefixed"), PatternType::Unknown);
        assert_eq!(ResourceType::from_name("topic"), ResourceType::Topic);
        assert_eq!(
            ResourceType::from_name("transactional_id"),
            ResourceType::TransactionalId
        );
        assert_eq!(
            ResourceType::from_security_name("TRANSACTIONALID"),
            ResourceType::TransactionalId
        );
    }

    #[test]
    fn codes_round_trip_and_unknown_codes_are_unknown() {
        for op in AclOperation::VALUES {
            assert_eq!(AclOperation::from_code(op.code()), *op);
        }
        assert_eq!(AclOperation::from_code(15), AclOperation::Unknown);
        assert_eq!(ResourceType::from_code(-1), ResourceType::Unknown);
        assert_eq!(PatternType::Prefixed.code(), 4);
        assert_eq!(AclPermissionType::Allow.code(), 3);
    }
}
