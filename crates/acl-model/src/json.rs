//! JSON forms: a list of bindings, filters, and one-line authorization requests.
//!
//! A binding is `{"principal","host","operation","permission","resource_type","pattern_type","name"}`
//! with Kafka's upper-case enum names, parsed as Kafka's `fromString` does (so `read` is READ,
//! an unknown name is UNKNOWN, and pattern types are case-sensitive).

use std::fmt;

use serde::Deserialize;
use serde_json::{Value, json};
use thiserror::Error;

use crate::{
    AccessControlEntry, AclBinding, AclBindingFilter, AclError, AclOperation, AclPermissionType,
    Authorizer, AuthorizerConfig, KafkaPrincipal, PatternType, Resource, ResourcePattern,
    ResourceType,
};

/// Why JSON input was refused.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum JsonError {
    /// Not JSON of the expected shape.
    #[error("invalid JSON")]
    Syntax {
        /// The parser's error.
        #[from]
        source: serde_json::Error,
    },
    /// The binding at `index` (0-based) cannot exist.
    #[error("binding #{index} {raw}")]
    Binding {
        /// Its position in the list.
        index: usize,
        /// What it said.
        raw: Box<RawBinding>,
        /// Why it is refused.
        source: AclError,
    },
    /// A request whose principal has no `:` or whose resource type is ANY.
    #[error("invalid request")]
    Request {
        /// Why it is refused.
        source: AclError,
    },
}

/// A binding as written, before its names are parsed. Other keys are ignored.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct RawBinding {
    /// `Type:name`.
    pub principal: String,
    /// A host or `*`.
    pub host: String,
    /// An operation name.
    pub operation: String,
    /// `ALLOW` or `DENY`.
    pub permission: String,
    /// A resource type name.
    pub resource_type: String,
    /// `LITERAL` or `PREFIXED`.
    pub pattern_type: String,
    /// The resource name.
    pub name: String,
}

impl fmt::Display for RawBinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}",
            json!({
                "principal": self.principal, "host": self.host, "operation": self.operation,
                "permission": self.permission, "resource_type": self.resource_type,
                "pattern_type": self.pattern_type, "name": self.name,
            })
        )
    }
}

impl RawBinding {
    fn parse(&self) -> Result<AclBinding, AclError> {
        Ok(AclBinding {
            pattern: ResourcePattern::new(
                ResourceType::from_name(&self.resource_type),
                self.name.as_str(),
                PatternType::from_name(&self.pattern_type),
            )?,
            entry: AccessControlEntry::new(
                KafkaPrincipal::parse(&self.principal)?,
                self.host.as_str(),
                AclOperation::from_name(&self.operation),
                AclPermissionType::from_name(&self.permission),
            )?,
        })
    }
}

/// Parses a JSON array of bindings. Unknown names become UNKNOWN (which
/// [`Authorizer::load`](crate::Authorizer::load) then refuses); ANY or MATCH parts and
/// principals without `:` are errors here.
pub fn parse_bindings(text: &str) -> Result<Vec<AclBinding>, JsonError> {
    let raw: Vec<RawBinding> = serde_json::from_str(text)?;
    raw.into_iter()
        .enumerate()
        .map(|(index, raw)| {
            raw.parse().map_err(|source| JsonError::Binding {
                index,
                raw: Box::new(raw),
                source,
            })
        })
        .collect()
}

/// Parses a JSON array of bindings and loads them as KRaft does
/// ([`Authorizer::load`](crate::Authorizer::load)); a refused binding is reported with its
/// position and its text as written.
pub fn load_authorizer(text: &str, config: AuthorizerConfig) -> Result<Authorizer, JsonError> {
    let raw: Vec<RawBinding> = serde_json::from_str(text)?;
    let refused = |index: usize, source| JsonError::Binding {
        index,
        raw: Box::new(raw[index].clone()),
        source,
    };
    let mut bindings = Vec::with_capacity(raw.len());
    for (index, one) in raw.iter().enumerate() {
        bindings.push(one.parse().map_err(|source| refused(index, source))?);
    }
    Authorizer::load(config, bindings.clone()).map_err(|source| {
        let index = match &source {
            AclError::InvalidBinding { binding, .. } => {
                bindings.iter().position(|b| b == &**binding).unwrap_or(0)
            }
            _ => 0,
        };
        refused(index, source)
    })
}

/// One binding as a JSON value.
pub fn binding_to_json(binding: &AclBinding) -> Value {
    json!({
        "principal": binding.entry.principal().to_string(),
        "host": binding.entry.host(),
        "operation": binding.entry.operation().name(),
        "permission": binding.entry.permission().name(),
        "resource_type": binding.pattern.resource_type().name(),
        "pattern_type": binding.pattern.pattern_type().name(),
        "name": binding.pattern.name(),
    })
}

/// A list of bindings as pretty JSON text that [`parse_bindings`] reads back.
pub fn write_bindings(bindings: &[AclBinding]) -> String {
    let list: Vec<Value> = bindings.iter().map(binding_to_json).collect();
    // Serializing a `Value` built from strings cannot fail.
    serde_json::to_string_pretty(&list).unwrap_or_default()
}

/// A filter as JSON, with `null` for "any" (ANY type, pattern type, operation or permission,
/// and absent name, principal or host).
pub fn filter_to_json(filter: &AclBindingFilter) -> Value {
    let any = |is_any: bool, name: &str| {
        if is_any {
            Value::Null
        } else {
            Value::from(name)
        }
    };
    let p = &filter.pattern;
    let e = &filter.entry;
    json!({
        "resource_type": any(p.resource_type == ResourceType::Any, p.resource_type.name()),
        "pattern_type": any(p.pattern_type == PatternType::Any, p.pattern_type.name()),
        "name": p.name,
        "principal": e.principal,
        "host": e.host,
        "operation": any(e.operation == AclOperation::Any, e.operation.name()),
        "permission": any(e.permission == AclPermissionType::Any, e.permission.name()),
    })
}

/// One authorization request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// `authorize` on a concrete resource.
    Authorize {
        /// Who asks.
        principal: KafkaPrincipal,
        /// From where.
        host: String,
        /// To do what.
        operation: AclOperation,
        /// On what.
        resource: Resource,
    },
    /// `authorizeByResourceType`: on at least one resource of this type.
    ByResourceType {
        /// Who asks.
        principal: KafkaPrincipal,
        /// From where.
        host: String,
        /// To do what.
        operation: AclOperation,
        /// On resources of which type.
        resource_type: ResourceType,
    },
}

#[derive(Deserialize)]
struct RawRequest {
    principal: String,
    host: String,
    operation: String,
    resource_type: String,
    name: Option<String>,
}

/// Parses `{"principal","host","operation","resource_type","name"}` (other keys ignored);
/// without a `name` key (or with `"name":null`) it is a by-resource-type request. Names parse as Kafka's `fromString` (unknown → UNKNOWN).
pub fn parse_request(line: &str) -> Result<Request, JsonError> {
    let raw: RawRequest = serde_json::from_str(line)?;
    let wrap = |source| JsonError::Request { source };
    let principal = KafkaPrincipal::parse(&raw.principal).map_err(wrap)?;
    let operation = AclOperation::from_name(&raw.operation);
    let resource_type = ResourceType::from_name(&raw.resource_type);
    Ok(match raw.name {
        Some(name) => Request::Authorize {
            principal,
            host: raw.host,
            operation,
            resource: Resource::new(resource_type, name).map_err(wrap)?,
        },
        None => Request::ByResourceType {
            principal,
            host: raw.host,
            operation,
            resource_type,
        },
    })
}
