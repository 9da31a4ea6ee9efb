//! The ZooKeeper layout of Kafka's `AclAuthorizer`: znode paths, the JSON in each znode, and
//! change notifications.
//!
//! LITERAL patterns live at `/kafka-acl/<Type>/<name>`, PREFIXED ones at
//! `/kafka-acl-extended/prefixed/<Type>/<name>`, with `<Type>` the PascalCase name (`Topic`,
//! `TransactionalId`). Each znode holds
//! `{"version":1,"acls":[{"principal":"User:alice","permissionType":"Allow","operation":"Read","host":"*"}]}`.

use std::collections::BTreeMap;

use serde_json::Value;
use thiserror::Error;

use crate::authorizer::invalid;
use crate::{
    AccessControlEntry, AclBinding, AclError, AclOperation, AclPermissionType, BindingProblem,
    KafkaPrincipal, PatternType, ResourcePattern, ResourceType,
};

/// The parent of LITERAL ACL znodes.
pub const LITERAL_ROOT: &str = "/kafka-acl";
/// The parent of the other pattern types' stores.
pub const EXTENDED_ROOT: &str = "/kafka-acl-extended";
/// Where LITERAL change notifications go.
pub const LITERAL_CHANGES: &str = "/kafka-acl-changes";
/// Where extended change notifications go.
pub const EXTENDED_CHANGES: &str = "/kafka-acl-extended-changes";

/// Why ZooKeeper data was refused.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ZkError {
    /// The znode data is not JSON.
    #[error("znode data is not JSON")]
    Json {
        /// The parser's error.
        #[from]
        source: serde_json::Error,
    },
    /// `version` is missing or not 1.
    #[error("unsupported ACL znode version {found}")]
    Version {
        /// What the data said.
        found: Value,
    },
    /// There is no `acls` array.
    #[error("ACL znode data has no \"acls\" array")]
    NoAcls,
    /// An ACL object lacks a string field.
    #[error("ACL #{index} has no string {field:?}")]
    MissingField {
        /// Its position in `acls`.
        index: usize,
        /// The field.
        field: &'static str,
    },
    /// An ACL that cannot be an entry (principal without `:`, ANY operation or permission).
    #[error("ACL #{index} is invalid")]
    Entry {
        /// Its position in `acls`.
        index: usize,
        /// Why.
        source: AclError,
    },
    /// A path that is not an ACL znode.
    #[error("{path:?} is not an ACL znode path")]
    Path {
        /// The path.
        path: String,
    },
    /// A binding ZooKeeper cannot store (UNKNOWN parts, `/` in the name).
    #[error("cannot store in ZooKeeper")]
    Binding {
        /// Why.
        source: AclError,
    },
    /// A change notification that does not parse.
    #[error("malformed ACL change notification {body:?}")]
    Notification {
        /// Its body.
        body: String,
    },
}

/// The znode that holds a pattern's ACLs.
pub fn znode_path(pattern: &ResourcePattern) -> String {
    let type_name = pattern.resource_type().security_name();
    match pattern.pattern_type() {
        PatternType::Literal => format!("{LITERAL_ROOT}/{type_name}/{}", pattern.name()),
        other => format!(
            "{EXTENDED_ROOT}/{}/{type_name}/{}",
            other.name().to_ascii_lowercase(),
            pattern.name()
        ),
    }
}

/// The pattern a znode path stands for; resource type names are read leniently (an unknown
/// one is UNKNOWN), the store must be `kafka-acl` or `kafka-acl-extended/prefixed`.
pub fn parse_path(path: &str) -> Result<ResourcePattern, ZkError> {
    let bad = || ZkError::Path {
        path: path.to_owned(),
    };
    let (pattern_type, rest) = if let Some(rest) = path.strip_prefix("/kafka-acl/") {
        (PatternType::Literal, rest)
    } else if let Some(rest) = path.strip_prefix("/kafka-acl-extended/prefixed/") {
        (PatternType::Prefixed, rest)
    } else {
        return Err(bad());
    };
    let (type_name, name) = rest.split_once('/').ok_or_else(bad)?;
    if name.is_empty() || name.contains('/') {
        return Err(bad());
    }
    ResourcePattern::new(
        ResourceType::from_security_name(type_name),
        name,
        pattern_type,
    )
    .map_err(|_| bad())
}

/// The JSON a znode holds for these entries, in Kafka's key order.
pub fn encode(entries: &[AccessControlEntry]) -> String {
    let text = |s: &str| Value::from(s).to_string();
    let acls: Vec<String> = entries
        .iter()
        .map(|e| {
            format!(
                r#"{{"principal":{},"permissionType":{},"operation":{},"host":{}}}"#,
                text(&e.principal().to_string()),
                text(e.permission().security_name()),
                text(e.operation().security_name()),
                text(e.host())
            )
        })
        .collect();
    format!(r#"{{"version":1,"acls":[{}]}}"#, acls.join(","))
}

/// Reads a znode's JSON: version must be 1; unknown operation or permission names become
/// UNKNOWN; empty data means no ACLs.
pub fn decode(data: &[u8]) -> Result<Vec<AccessControlEntry>, ZkError> {
    if data.is_empty() {
        return Ok(Vec::new());
    }
    let value: Value = serde_json::from_slice(data)?;
    let version = value.get("version").cloned().unwrap_or(Value::Null);
    if version.as_i64() != Some(1) {
        return Err(ZkError::Version { found: version });
    }
    let Some(Value::Array(acls)) = value.get("acls") else {
        return Err(ZkError::NoAcls);
    };
    acls.iter()
        .enumerate()
        .map(|(index, acl)| {
            let field = |field: &'static str| {
                acl.get(field)
                    .and_then(Value::as_str)
                    .ok_or(ZkError::MissingField { index, field })
            };
            let entry = |source| ZkError::Entry { index, source };
            AccessControlEntry::new(
                KafkaPrincipal::parse(field("principal")?).map_err(entry)?,
                field("host")?,
                AclOperation::from_security_name(field("operation")?),
                AclPermissionType::from_security_name(field("permissionType")?),
            )
            .map_err(entry)
        })
        .collect()
}

/// Refuses what ZooKeeper cannot store: UNKNOWN parts and names with `/`.
pub fn check_storable(binding: &AclBinding) -> Result<(), ZkError> {
    let problem = if binding.pattern.resource_type() == ResourceType::Unknown {
        Some(BindingProblem::ResourceType(ResourceType::Unknown))
    } else if binding.pattern.pattern_type() == PatternType::Unknown {
        Some(BindingProblem::PatternType(PatternType::Unknown))
    } else if binding.entry.operation() == AclOperation::Unknown {
        Some(BindingProblem::Operation(AclOperation::Unknown))
    } else if binding.entry.permission() == AclPermissionType::Unknown {
        Some(BindingProblem::Permission(AclPermissionType::Unknown))
    } else if binding.pattern.name().contains('/') {
        Some(BindingProblem::SlashInName)
    } else if binding.pattern.name().is_empty() {
        Some(BindingProblem::EmptyName)
    } else {
        None
    };
    match problem {
        Some(problem) => Err(ZkError::Binding {
            source: invalid(binding, problem),
        }),
        None => Ok(()),
    }
}

/// The znodes (path → JSON) that store `bindings`, one per pattern, entries sorted.
pub fn to_znodes(bindings: &[AclBinding]) -> Result<BTreeMap<String, String>, ZkError> {
    let mut by_pattern: BTreeMap<&ResourcePattern, Vec<AccessControlEntry>> = BTreeMap::new();
    for binding in bindings {
        check_storable(binding)?;
        by_pattern
            .entry(&binding.pattern)
            .or_default()
            .push(binding.entry.clone());
    }
    Ok(by_pattern
        .into_iter()
        .map(|(pattern, mut entries)| {
            entries.sort();
            entries.dedup();
            (znode_path(pattern), encode(&entries))
        })
        .collect())
}

/// The bindings stored in these znodes (path, data), sorted.
pub fn from_znodes<'a>(
    znodes: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> Result<Vec<AclBinding>, ZkError> {
    let mut bindings = Vec::new();
    for (path, data) in znodes {
        let pattern = parse_path(path)?;
        for entry in decode(data)? {
            bindings.push(AclBinding {
                pattern: pattern.clone(),
                entry,
            });
        }
    }
    bindings.sort();
    bindings.dedup();
    Ok(bindings)
}

/// The change notification written after a pattern's ACLs change: its parent znode and body.
pub fn change_notification(pattern: &ResourcePattern) -> (&'static str, String) {
    match pattern.pattern_type() {
        PatternType::Literal => (
            LITERAL_CHANGES,
            format!("{}:{}", pattern.resource_type().name(), pattern.name()),
        ),
        other => (
            EXTENDED_CHANGES,
            format!(
                r#"{{"version":1,"resourceType":{},"name":{},"patternType":{}}}"#,
                Value::from(pattern.resource_type().name()),
                Value::from(pattern.name()),
                Value::from(other.name())
            ),
        ),
    }
}

/// Reads a change notification back into the pattern it names.
pub fn parse_change_notification(parent: &str, body: &str) -> Result<ResourcePattern, ZkError> {
    let bad = || ZkError::Notification {
        body: body.to_owned(),
    };
    if parent == LITERAL_CHANGES {
        let (type_name, name) = body.split_once(':').ok_or_else(bad)?;
        return ResourcePattern::new(
            ResourceType::from_name(type_name),
            name,
            PatternType::Literal,
        )
        .map_err(|_| bad());
    }
    if parent != EXTENDED_CHANGES {
        return Err(bad());
    }
    let value: Value = serde_json::from_str(body).map_err(|_| bad())?;
    let text = |key: &str| value.get(key).and_then(Value::as_str).ok_or_else(bad);
    if value.get("version").and_then(Value::as_i64) != Some(1) {
        return Err(bad());
    }
    ResourcePattern::new(
        ResourceType::from_name(text("resourceType")?),
        text("name")?,
        PatternType::from_name(text("patternType")?),
    )
    .map_err(|_| bad())
}
