//! Beyond Kafka: who can do what, ACLs that never matter, and what changed between two sets.

use std::collections::BTreeSet;
use std::fmt;

use crate::binding::WILDCARD;
use crate::{
    AclBinding, AclOperation, AclPermissionType, Authorizer, Decision, KafkaPrincipal, PatternType,
    Resource,
};

/// A principal in an [`Access`] row.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Who {
    /// This principal.
    Principal(KafkaPrincipal),
    /// Every principal not named in another row (`User:*` ACLs are what they match).
    AnyOtherPrincipal,
}

/// A host in an [`Access`] row.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum From {
    /// This client host.
    Host(String),
    /// Every host not named in another row (`*` ACLs are what they match).
    AnyOtherHost,
}

/// One (principal, host) class, its answer and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Access {
    /// Who.
    pub principal: Who,
    /// From where.
    pub host: From,
    /// The answer and its reason.
    pub decision: Decision,
}

impl fmt::Display for Who {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Principal(p) => write!(f, "{p}"),
            Self::AnyOtherPrincipal => f.write_str("*"),
        }
    }
}

impl fmt::Display for From {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Host(h) => f.write_str(h),
            Self::AnyOtherHost => f.write_str("*"),
        }
    }
}

/// Effective permissions: every class of (principal, host) with its answer for `operation` on
/// `resource`, accounting for denies, wildcards, prefixes, implications, super users and the
/// default.
///
/// The classes are the principals and hosts that applicable ACLs (or `super.users`) name, plus
/// "any other" for each; all unnamed principals (hosts) behave alike, so each class is decided
/// by asking the authorizer for one representative, and the answer is exact.
pub fn who_can(
    authorizer: &Authorizer,
    operation: AclOperation,
    resource: &Resource,
) -> Vec<Access> {
    let applying: Vec<AclBinding> = authorizer
        .bindings()
        .into_iter()
        .filter(|b| b.pattern.applies_to(resource))
        .collect();
    let mut principals: BTreeSet<Who> = applying
        .iter()
        .map(|b| b.entry.principal())
        .filter(|p| !p.is_wildcard())
        .map(|p| Who::Principal(p.clone()))
        .collect();
    principals.extend(
        authorizer
            .config()
            .super_users()
            .filter_map(|s| KafkaPrincipal::parse(s).ok())
            .map(Who::Principal),
    );
    principals.insert(Who::AnyOtherPrincipal);
    let mut hosts: BTreeSet<From> = applying
        .iter()
        .map(|b| b.entry.host())
        .filter(|h| *h != WILDCARD)
        .map(|h| From::Host(h.to_owned()))
        .collect();
    hosts.insert(From::AnyOtherHost);
    // Representatives that no ACL names: a NUL never appears in a principal or host on the wire.
    let other_principal = KafkaPrincipal::new("User", "\0other");
    let mut rows = Vec::new();
    for who in &principals {
        let principal = match who {
            Who::Principal(p) => p,
            Who::AnyOtherPrincipal => &other_principal,
        };
        for from in &hosts {
            let host = match from {
                From::Host(h) => h.as_str(),
                From::AnyOtherHost => "\0other",
            };
            rows.push(Access {
                principal: who.clone(),
                host: from.clone(),
                decision: authorizer.explain(principal, host, operation, resource),
            });
        }
    }
    rows
}

/// An ACL that never changes a decision.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Finding {
    /// Every request this ALLOW matches is denied by these DENYs (one per operation it grants).
    Shadowed {
        /// The dead ALLOW.
        binding: AclBinding,
        /// The DENYs that kill it.
        by: Vec<AclBinding>,
    },
    /// A broader ACL of the same permission matches everything this one does.
    Redundant {
        /// The redundant ACL.
        binding: AclBinding,
        /// The broader one.
        by: AclBinding,
    },
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Shadowed { binding, by } => {
                write!(f, "shadowed\t{binding}\tby")?;
                for deny in by {
                    write!(f, " {deny}")?;
                }
                Ok(())
            }
            Self::Redundant { binding, by } => write!(f, "redundant\t{binding}\tby {by}"),
        }
    }
}

/// ACLs shadowed by a DENY, and ACLs made redundant by a broader one of the same permission.
/// Removing every reported ACL at once changes no `authorize` decision (`authorize_by_resource_type`
/// ignores implications, so an ALLOW DESCRIBE made redundant by an ALLOW READ still counts there).
pub fn lint(bindings: &[AclBinding]) -> Vec<Finding> {
    let mut sorted = bindings.to_vec();
    sorted.sort();
    sorted.dedup();
    let denies: Vec<&AclBinding> = sorted
        .iter()
        .filter(|b| b.entry.permission() == AclPermissionType::Deny)
        .collect();
    let mut findings = Vec::new();
    for binding in &sorted {
        let allow = binding.entry.permission() == AclPermissionType::Allow;
        if allow {
            let granted = granted(binding.entry.operation());
            let by: Option<Vec<AclBinding>> = granted
                .iter()
                .map(|op| {
                    denies
                        .iter()
                        .find(|d| {
                            covers(d, binding)
                                && (d.entry.operation() == *op
                                    || d.entry.operation() == AclOperation::All)
                        })
                        .map(|d| (*d).clone())
                })
                .collect();
            if let Some(mut by) = by {
                by.dedup();
                findings.push(Finding::Shadowed {
                    binding: binding.clone(),
                    by,
                });
                continue;
            }
        }
        let broader = sorted.iter().find(|other| {
            *other != binding
                && other.entry.permission() == binding.entry.permission()
                && covers(other, binding)
                && operation_covers(other.entry.operation(), binding.entry.operation(), allow)
        });
        if let Some(by) = broader {
            findings.push(Finding::Redundant {
                binding: binding.clone(),
                by: by.clone(),
            });
        }
    }
    findings
}

/// What changed from `old` to `new`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AclDiff {
    /// In `new` only, sorted.
    pub added: Vec<AclBinding>,
    /// In `old` only, sorted.
    pub removed: Vec<AclBinding>,
}

/// The bindings added and removed between two ACL sets.
pub fn diff(old: &[AclBinding], new: &[AclBinding]) -> AclDiff {
    let old: BTreeSet<&AclBinding> = old.iter().collect();
    let new: BTreeSet<&AclBinding> = new.iter().collect();
    AclDiff {
        added: new.difference(&old).map(|b| (*b).clone()).collect(),
        removed: old.difference(&new).map(|b| (*b).clone()).collect(),
    }
}

/// The request operations an ALLOW of `op` matches, as the DENY operations needed to kill it.
fn granted(op: AclOperation) -> Vec<AclOperation> {
    match op {
        AclOperation::All => vec![AclOperation::All],
        _ => std::iter::once(op).chain(op.implies()).collect(),
    }
}

/// Whether `broad` matches every request operation `narrow` does.
fn operation_covers(broad: AclOperation, narrow: AclOperation, allow: bool) -> bool {
    broad == AclOperation::All
        || broad == narrow
        || (allow && narrow != AclOperation::All && broad.implies() == Some(narrow))
}

/// Whether `broad` matches every (principal, host, resource) that `narrow` does.
fn covers(broad: &AclBinding, narrow: &AclBinding) -> bool {
    let (b, n) = (&broad.pattern, &narrow.pattern);
    let pattern = b.resource_type() == n.resource_type()
        && match (b.pattern_type(), n.pattern_type()) {
            (PatternType::Literal, _) if b.name() == WILDCARD => true,
            (PatternType::Literal, PatternType::Literal) => b.name() == n.name(),
            (PatternType::Prefixed, PatternType::Literal) => {
                n.name() != WILDCARD && n.name().starts_with(b.name())
            }
            (PatternType::Prefixed, PatternType::Prefixed) => n.name().starts_with(b.name()),
            _ => false,
        };
    pattern
        && (broad.entry.principal() == narrow.entry.principal()
            || broad.entry.principal().is_wildcard())
        && (broad.entry.host() == narrow.entry.host() || broad.entry.host() == WILDCARD)
}
