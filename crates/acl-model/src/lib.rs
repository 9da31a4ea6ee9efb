//! A model of Kafka's ACL authorizer that gives exactly Kafka's answers, says why, and answers
//! in well under a microsecond. It also lints ACL sets, lists effective permissions, diffs ACL
//! sets, and reads and writes the ZooKeeper layout, JSON binding lists and `kafka-acls.sh`
//! command lines.
//!
//! ```
//! use underhood_acl_model::*;
//!
//! let acls: Vec<AclBinding> = json::parse_bindings(r#"[
//!   {"principal":"User:*","host":"*","operation":"READ","permission":"ALLOW",
//!    "resource_type":"TOPIC","pattern_type":"PREFIXED","name":"orders-"},
//!   {"principal":"User:mallory","host":"*","operation":"ALL","permission":"DENY",
//!    "resource_type":"TOPIC","pattern_type":"LITERAL","name":"*"}
//! ]"#)?;
//! let authorizer = Authorizer::load(AuthorizerConfig::default(), acls)?;
//! let topic = Resource::new(ResourceType::Topic, "orders-eu")?;
//! let alice = KafkaPrincipal::parse("User:alice")?;
//! let mallory = KafkaPrincipal::parse("User:mallory")?;
//!
//! // READ implies DESCRIBE for allows.
//! let decision = authorizer.explain(&alice, "10.0.0.1", AclOperation::Describe, &topic);
//! assert_eq!(decision.result, AuthorizationResult::Allowed);
//! // A DENY on the wildcard beats the prefixed ALLOW.
//! let decision = authorizer.explain(&mallory, "10.0.0.1", AclOperation::Read, &topic);
//! assert_eq!(decision.result, AuthorizationResult::Denied);
//! assert!(matches!(decision.reason, Reason::DeniedBy(_)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The crate performs no IO: it never contacts a broker or ZooKeeper, and reads no clock.
//! It models KRaft's `StandardAuthorizer`; where ZooKeeper's `AclAuthorizer` differs
//! (`authorizeByResourceType`, delete reporting) it follows KRaft.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

// The README's Rust examples run as doc tests, so they cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod analysis;
pub use analysis::{Access, AclDiff, Finding, From, Who, diff, lint, who_can};
mod authorizer;
pub use authorizer::{Authorizer, AuthorizerConfig, Decision, Reason};
mod binding;
pub use binding::{
    AccessControlEntry, AccessControlEntryFilter, AclBinding, AclBindingFilter, CLUSTER_NAME,
    KafkaPrincipal, Resource, ResourcePattern, ResourcePatternFilter, WILDCARD,
};
mod error;
pub use error::{AclError, BindingProblem, FilterPart};
mod index;
pub mod json;
pub mod kafka_acls;
pub mod naive;
mod shared;
pub use shared::{AuthorizerReader, SharedAuthorizer};
mod sync;
mod types;
pub use types::{AclOperation, AclPermissionType, AuthorizationResult, PatternType, ResourceType};
pub mod zk;
