//! Principals, resource patterns, entries, bindings and their filters.

use std::fmt;

use crate::{AclError, AclOperation, AclPermissionType, FilterPart, PatternType, ResourceType};

/// The name of the one `CLUSTER` resource.
pub const CLUSTER_NAME: &str = "kafka-cluster";
/// The resource name and host that match everything.
pub const WILDCARD: &str = "*";

/// A principal `Type:name`. Identity is exact: `user:alice` is not `User:alice`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KafkaPrincipal {
    principal_type: String,
    name: String,
}

impl KafkaPrincipal {
    /// A principal from its parts.
    pub fn new(principal_type: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            principal_type: principal_type.into(),
            name: name.into(),
        }
    }

    /// Splits at the first `:`; a string without one is an error.
    pub fn parse(input: &str) -> Result<Self, AclError> {
        match input.split_once(':') {
            Some((principal_type, name)) => Ok(Self::new(principal_type, name)),
            None => Err(AclError::BadPrincipal {
                input: input.to_owned(),
            }),
        }
    }

    /// The type, such as `User`.
    pub fn principal_type(&self) -> &str {
        &self.principal_type
    }

    /// The name, such as `alice`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `User:*`, the ACL principal that matches every principal of every type.
    pub fn is_wildcard(&self) -> bool {
        self.principal_type == "User" && self.name == WILDCARD
    }

    /// Whether `Display` of `self` equals `text`, without allocating.
    pub(crate) fn displays_as(&self, text: &str) -> bool {
        text.len() == self.principal_type.len() + 1 + self.name.len()
            && text.starts_with(self.principal_type.as_str())
            && text[self.principal_type.len()..].starts_with(':')
            && text.ends_with(self.name.as_str())
    }
}

impl fmt::Display for KafkaPrincipal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.principal_type, self.name)
    }
}

/// A concrete resource that a request acts on (Kafka's LITERAL action pattern).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Resource {
    resource_type: ResourceType,
    name: String,
}

impl Resource {
    /// A resource; the type must not be `ANY` (`UNKNOWN` is legal and never has ACLs).
    pub fn new(resource_type: ResourceType, name: impl Into<String>) -> Result<Self, AclError> {
        if resource_type == ResourceType::Any {
            return Err(AclError::AnyResourceType);
        }
        Ok(Self {
            resource_type,
            name: name.into(),
        })
    }

    /// The type.
    pub fn resource_type(&self) -> ResourceType {
        self.resource_type
    }

    /// The name, compared exactly.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A resource type, a name and how the name matches: what an ACL is attached to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourcePattern {
    resource_type: ResourceType,
    name: String,
    pattern_type: PatternType,
}

impl ResourcePattern {
    /// A pattern; the type must not be `ANY`, the pattern type not `ANY` or `MATCH`.
    pub fn new(
        resource_type: ResourceType,
        name: impl Into<String>,
        pattern_type: PatternType,
    ) -> Result<Self, AclError> {
        if resource_type == ResourceType::Any {
            return Err(AclError::AnyResourceType);
        }
        if matches!(pattern_type, PatternType::Any | PatternType::Match) {
            return Err(AclError::FilterPatternType { pattern_type });
        }
        Ok(Self {
            resource_type,
            name: name.into(),
            pattern_type,
        })
    }

    /// The type.
    pub fn resource_type(&self) -> ResourceType {
        self.resource_type
    }

    /// The name (`*` is the wildcard for LITERAL patterns).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The pattern type.
    pub fn pattern_type(&self) -> PatternType {
        self.pattern_type
    }

    /// Whether an ACL on this pattern applies to `resource`.
    pub fn applies_to(&self, resource: &Resource) -> bool {
        self.resource_type == resource.resource_type && name_applies(self, &resource.name)
    }
}

/// Whether the pattern's name covers `name` (types not compared).
pub(crate) fn name_applies(pattern: &ResourcePattern, name: &str) -> bool {
    match pattern.pattern_type {
        PatternType::Literal => pattern.name == name || pattern.name == WILDCARD,
        PatternType::Prefixed => name.starts_with(pattern.name.as_str()),
        _ => false,
    }
}

impl fmt::Display for ResourcePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ResourcePattern(resourceType={}, name={}, patternType={})",
            self.resource_type, self.name, self.pattern_type
        )
    }
}

/// Who, from where, may or may not do what.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccessControlEntry {
    principal: KafkaPrincipal,
    host: String,
    operation: AclOperation,
    permission: AclPermissionType,
}

impl AccessControlEntry {
    /// An entry; neither the operation nor the permission may be `ANY`.
    pub fn new(
        principal: KafkaPrincipal,
        host: impl Into<String>,
        operation: AclOperation,
        permission: AclPermissionType,
    ) -> Result<Self, AclError> {
        if operation == AclOperation::Any {
            return Err(AclError::AnyOperation);
        }
        if permission == AclPermissionType::Any {
            return Err(AclError::AnyPermission);
        }
        Ok(Self {
            principal,
            host: host.into(),
            operation,
            permission,
        })
    }

    /// The principal (`User:*` matches every principal).
    pub fn principal(&self) -> &KafkaPrincipal {
        &self.principal
    }

    /// The host (`*` matches every host; otherwise compared exactly).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The operation.
    pub fn operation(&self) -> AclOperation {
        self.operation
    }

    /// The permission.
    pub fn permission(&self) -> AclPermissionType {
        self.permission
    }
}

impl fmt::Display for AccessControlEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "(principal={}, host={}, operation={}, permissionType={})",
            self.principal, self.host, self.operation, self.permission
        )
    }
}

/// An ACL: an entry attached to a resource pattern.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AclBinding {
    /// What it is attached to.
    pub pattern: ResourcePattern,
    /// Who may or may not do what.
    pub entry: AccessControlEntry,
}

impl fmt::Display for AclBinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(pattern={}, entry={})", self.pattern, self.entry)
    }
}

/// Selects resource patterns: `ANY` type, `None` name, `ANY` or `MATCH` pattern type widen it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourcePatternFilter {
    /// The type, or `ANY`.
    pub resource_type: ResourceType,
    /// The name, or `None` for any name.
    pub name: Option<String>,
    /// The pattern type, `ANY` (names compared exactly) or `MATCH` (patterns that apply to the name).
    pub pattern_type: PatternType,
}

impl ResourcePatternFilter {
    /// The filter that matches every pattern.
    pub const ANY: Self = Self {
        resource_type: ResourceType::Any,
        name: None,
        pattern_type: PatternType::Any,
    };

    /// Kafka's `ResourcePatternFilter.matches`.
    pub fn matches(&self, pattern: &ResourcePattern) -> bool {
        if self.resource_type != ResourceType::Any && self.resource_type != pattern.resource_type {
            return false;
        }
        if !matches!(self.pattern_type, PatternType::Any | PatternType::Match)
            && self.pattern_type != pattern.pattern_type
        {
            return false;
        }
        let Some(name) = &self.name else {
            return true;
        };
        if self.pattern_type == PatternType::Any || self.pattern_type == pattern.pattern_type {
            return *name == pattern.name;
        }
        name_applies(pattern, name)
    }
}

impl fmt::Display for ResourcePatternFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ResourcePatternFilter(resourceType={}, name={}, patternType={})",
            self.resource_type,
            self.name.as_deref().unwrap_or("<any>"),
            self.pattern_type
        )
    }
}

/// Selects entries: `None` principal or host, `ANY` operation or permission widen it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccessControlEntryFilter {
    /// The principal string, compared exactly (`User:*` only finds `User:*`), or `None`.
    pub principal: Option<String>,
    /// The host, compared exactly, or `None`.
    pub host: Option<String>,
    /// The operation, or `ANY`. No implications.
    pub operation: AclOperation,
    /// The permission, or `ANY`.
    pub permission: AclPermissionType,
}

impl AccessControlEntryFilter {
    /// The filter that matches every entry.
    pub const ANY: Self = Self {
        principal: None,
        host: None,
        operation: AclOperation::Any,
        permission: AclPermissionType::Any,
    };

    /// The filter that matches exactly `entry` (Kafka's `AccessControlEntry.toFilter`).
    pub fn exact(entry: &AccessControlEntry) -> Self {
        Self {
            principal: Some(entry.principal.to_string()),
            host: Some(entry.host.clone()),
            operation: entry.operation,
            permission: entry.permission,
        }
    }

    /// Kafka's `AccessControlEntryFilter.matches`.
    pub fn matches(&self, entry: &AccessControlEntry) -> bool {
        self.principal
            .as_deref()
            .is_none_or(|p| entry.principal.displays_as(p))
            && self.host.as_deref().is_none_or(|h| h == entry.host)
            && (self.operation == AclOperation::Any || self.operation == entry.operation)
            && (self.permission == AclPermissionType::Any || self.permission == entry.permission)
    }
}

impl fmt::Display for AccessControlEntryFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "(principal={}, host={}, operation={}, permissionType={})",
            self.principal.as_deref().unwrap_or("<any>"),
            self.host.as_deref().unwrap_or("<any>"),
            self.operation,
            self.permission
        )
    }
}

/// Selects bindings for describe and delete.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AclBindingFilter {
    /// The pattern part.
    pub pattern: ResourcePatternFilter,
    /// The entry part.
    pub entry: AccessControlEntryFilter,
}

impl AclBindingFilter {
    /// The filter that matches every binding.
    pub const ANY: Self = Self {
        pattern: ResourcePatternFilter::ANY,
        entry: AccessControlEntryFilter::ANY,
    };

    /// The filter that matches exactly `binding`.
    pub fn exact(binding: &AclBinding) -> Self {
        Self {
            pattern: ResourcePatternFilter {
                resource_type: binding.pattern.resource_type,
                name: Some(binding.pattern.name.clone()),
                pattern_type: binding.pattern.pattern_type,
            },
            entry: AccessControlEntryFilter::exact(&binding.entry),
        }
    }

    /// Kafka's `AclBindingFilter.matches`.
    pub fn matches(&self, binding: &AclBinding) -> bool {
        self.pattern.matches(&binding.pattern) && self.entry.matches(&binding.entry)
    }

    /// True when nothing is `ANY`, `UNKNOWN` or `None` and the pattern type is not `MATCH`.
    pub fn matches_at_most_one(&self) -> bool {
        self.unknown_part().is_none()
            && self.pattern.resource_type != ResourceType::Any
            && self.pattern.name.is_some()
            && !matches!(
                self.pattern.pattern_type,
                PatternType::Any | PatternType::Match
            )
            && self.entry.principal.is_some()
            && self.entry.host.is_some()
            && self.entry.operation != AclOperation::Any
            && self.entry.permission != AclPermissionType::Any
    }

    /// The first `UNKNOWN` part, which makes the filter unusable.
    pub fn unknown_part(&self) -> Option<FilterPart> {
        if self.pattern.resource_type == ResourceType::Unknown {
            Some(FilterPart::ResourceType)
        } else if self.pattern.pattern_type == PatternType::Unknown {
            Some(FilterPart::PatternType)
        } else if self.entry.operation == AclOperation::Unknown {
            Some(FilterPart::Operation)
        } else if self.entry.permission == AclPermissionType::Unknown {
            Some(FilterPart::Permission)
        } else {
            None
        }
    }

    pub(crate) fn check(&self) -> Result<(), AclError> {
        match self.unknown_part() {
            Some(part) => Err(AclError::UnknownFilterPart {
                filter: Box::new(self.clone()),
                part,
            }),
            None => Ok(()),
        }
    }
}

impl fmt::Display for AclBindingFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "(patternFilter={}, entryFilter={})",
            self.pattern, self.entry
        )
    }
}
