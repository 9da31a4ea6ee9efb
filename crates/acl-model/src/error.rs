//! The crate's typed errors.

use thiserror::Error;

use crate::{
    AclBinding, AclBindingFilter, AclOperation, AclPermissionType, PatternType, ResourceType,
};

/// Why a value could not be built, stored or used. Messages follow Kafka's where it has one.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AclError {
    /// A principal string without a `:` (or an empty one).
    #[error("expected a string in format principalType:principalName but got {input:?}")]
    BadPrincipal {
        /// The string that was given.
        input: String,
    },
    /// `ANY` as the resource type of a pattern or resource.
    #[error("resourceType must not be ANY")]
    AnyResourceType,
    /// `ANY` or `MATCH` as the pattern type of a pattern.
    #[error("patternType must not be {pattern_type}")]
    FilterPatternType {
        /// The pattern type given.
        pattern_type: PatternType,
    },
    /// `ANY` as the operation of an entry.
    #[error("operation must not be ANY")]
    AnyOperation,
    /// `ANY` as the permission of an entry.
    #[error("permissionType must not be ANY")]
    AnyPermission,
    /// A binding the store refuses.
    #[error("{problem}: {binding}")]
    InvalidBinding {
        /// The binding.
        binding: Box<AclBinding>,
        /// What is wrong with it.
        problem: BindingProblem,
    },
    /// A describe or delete filter with an `UNKNOWN` part.
    #[error("filter has an UNKNOWN {part}: {filter}")]
    UnknownFilterPart {
        /// The filter.
        filter: Box<AclBindingFilter>,
        /// Which part is unknown.
        part: FilterPart,
    },
    /// `authorize_by_resource_type` with `ANY` or `UNKNOWN` as the operation.
    #[error("operation must not be {operation} in authorizeByResourceType")]
    ByResourceTypeOperation {
        /// The operation given.
        operation: AclOperation,
    },
    /// `authorize_by_resource_type` with `ANY` or `UNKNOWN` as the resource type.
    #[error("resourceType must not be {resource_type} in authorizeByResourceType")]
    ByResourceTypeType {
        /// The resource type given.
        resource_type: ResourceType,
    },
}

/// What makes a binding unstorable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BindingProblem {
    /// Resource type `UNKNOWN`.
    #[error("Invalid resourceType {0}")]
    ResourceType(ResourceType),
    /// Pattern type other than `LITERAL` or `PREFIXED`.
    #[error("Invalid patternType {0}")]
    PatternType(PatternType),
    /// Operation `UNKNOWN`.
    #[error("Invalid operation {0}")]
    Operation(AclOperation),
    /// Permission other than `ALLOW` or `DENY`.
    #[error("Invalid permissionType {0}")]
    Permission(AclPermissionType),
    /// An empty resource name.
    #[error("Resource name should not be empty")]
    EmptyName,
    /// A `CLUSTER` resource not named `kafka-cluster` (CreateAcls only).
    #[error("The only valid name for the CLUSTER resource is kafka-cluster")]
    ClusterName,
    /// A name containing `/`, which ZooKeeper would read as a path (ZooKeeper only).
    #[error("ZooKeeper resource names must not contain '/'")]
    SlashInName,
}

/// A part of a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FilterPart {
    /// The resource type.
    #[error("resourceType")]
    ResourceType,
    /// The pattern type.
    #[error("patternType")]
    PatternType,
    /// The operation.
    #[error("operation")]
    Operation,
    /// The permission.
    #[error("permissionType")]
    Permission,
}
