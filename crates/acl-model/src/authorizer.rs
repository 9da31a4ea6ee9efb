//! The Kafka-exact authorizer: decisions, explanations, and the describe/create/delete API.

use std::collections::BTreeSet;
use std::fmt;

use crate::index::{Id, Index};
use crate::{
    AclBinding, AclBindingFilter, AclError, AclOperation, AclPermissionType, AuthorizationResult,
    BindingProblem, KafkaPrincipal, PatternType, Resource, ResourceType, binding::CLUSTER_NAME,
};

/// `super.users` and `allow.everyone.if.no.acl.found`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthorizerConfig {
    super_users: BTreeSet<String>,
    /// ALLOWED instead of DENIED when no ACL at all applies to the resource.
    pub allow_everyone_if_no_acl_found: bool,
}

impl AuthorizerConfig {
    /// Sets `allow.everyone.if.no.acl.found=true`.
    pub fn allowing_everyone_if_no_acl_found(mut self) -> Self {
        self.allow_everyone_if_no_acl_found = true;
        self
    }

    /// Parses `super.users`: split on `;`, trimmed, empty parts dropped, each a principal.
    /// The match is exact: `User:*` here is not a wildcard.
    pub fn with_super_users(mut self, value: &str) -> Result<Self, AclError> {
        for part in value.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            KafkaPrincipal::parse(part)?;
            self.super_users.insert(part.to_owned());
        }
        Ok(self)
    }

    /// The super users, as written.
    pub fn super_users(&self) -> impl Iterator<Item = &str> {
        self.super_users.iter().map(String::as_str)
    }

    pub(crate) fn is_super_user(&self, principal: &KafkaPrincipal) -> bool {
        !self.super_users.is_empty() && self.super_users.iter().any(|s| principal.displays_as(s))
    }
}

/// Why a request got its answer.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// The principal is in `super.users`.
    SuperUser,
    /// No ACL applies to the resource, so `allow.everyone.if.no.acl.found` decided.
    NoAclFound,
    /// This DENY matched (deny wins whatever else matched).
    DeniedBy(AclBinding),
    /// This ALLOW matched and no DENY did.
    AllowedBy(AclBinding),
    /// ACLs apply to the resource but no ALLOW matched (for by-resource-type: every matching
    /// ALLOW is dominated by a DENY).
    NoMatchingAllow,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SuperUser => f.write_str("super user"),
            Self::NoAclFound => {
                f.write_str("no ACL found (allow.everyone.if.no.acl.found decides)")
            }
            Self::DeniedBy(b) => write!(f, "denied by {b}"),
            Self::AllowedBy(b) => write!(f, "allowed by {b}"),
            Self::NoMatchingAllow => f.write_str("no matching ALLOW"),
        }
    }
}

/// An answer with its reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// ALLOWED or DENIED.
    pub result: AuthorizationResult,
    /// Why.
    pub reason: Reason,
}

/// A set of ACLs plus the config: Kafka's `StandardAuthorizer` as a value.
///
/// Cloning is cheap-ish (the pattern maps are copied, the ACLs are shared), which is what
/// [`SharedAuthorizer`](crate::SharedAuthorizer) uses for copy-on-write updates.
#[derive(Clone, Debug, Default)]
pub struct Authorizer {
    config: AuthorizerConfig,
    index: Index,
}

/// Where the decision came from, without allocating.
enum Outcome<'a> {
    SuperUser,
    NoAclFound,
    Deny(Hit<'a>),
    Allow(Hit<'a>),
    NoMatchingAllow,
}

struct Hit<'a> {
    resource_type: ResourceType,
    pattern_type: PatternType,
    name: &'a str,
    key: (Id, Id),
    operation: AclOperation,
}

impl Authorizer {
    /// An authorizer with no ACLs.
    pub fn new(config: AuthorizerConfig) -> Self {
        Self {
            config,
            index: Index::default(),
        }
    }

    /// An authorizer holding `bindings`, checked the way KRaft replays them from the metadata
    /// log: no UNKNOWN parts, a specific pattern type, a non-empty name. Unlike CreateAcls it
    /// accepts any CLUSTER name. The first refused binding is the error.
    pub fn load(
        config: AuthorizerConfig,
        bindings: impl IntoIterator<Item = AclBinding>,
    ) -> Result<Self, AclError> {
        let mut authorizer = Self::new(config);
        for binding in bindings {
            check_storable(&binding)?;
            authorizer.index.insert(&binding);
        }
        Ok(authorizer)
    }

    /// The config.
    pub fn config(&self) -> &AuthorizerConfig {
        &self.config
    }

    /// How many ACLs are stored.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether no ACL is stored.
    pub fn is_empty(&self) -> bool {
        self.index.len() == 0
    }

    /// Every stored ACL, sorted.
    pub fn bindings(&self) -> Vec<AclBinding> {
        let mut all: Vec<_> = self.index.bindings().collect();
        all.sort();
        all
    }

    /// CreateAcls: each binding is checked as [`load`](Self::load) does plus CreateAcls' rule
    /// that a CLUSTER is named `kafka-cluster`; the valid ones are added (a duplicate is a
    /// success that changes nothing). One result per binding, in order.
    pub fn create(
        &mut self,
        bindings: impl IntoIterator<Item = AclBinding>,
    ) -> Vec<Result<(), AclError>> {
        bindings
            .into_iter()
            .map(|binding| {
                check_storable(&binding)?;
                if binding.pattern.resource_type() == ResourceType::Cluster
                    && binding.pattern.name() != CLUSTER_NAME
                {
                    return Err(invalid(&binding, BindingProblem::ClusterName));
                }
                self.index.insert(&binding);
                Ok(())
            })
            .collect()
    }

    /// DescribeAcls: every stored ACL the filter matches, sorted.
    pub fn describe(&self, filter: &AclBindingFilter) -> Result<Vec<AclBinding>, AclError> {
        filter.check()?;
        let mut found: Vec<_> = self
            .index
            .bindings()
            .filter(|b| filter.matches(b))
            .collect();
        found.sort();
        Ok(found)
    }

    /// DeleteAcls with KRaft's semantics: each filter is evaluated on its own against the ACLs
    /// as they were, so a binding two filters match is reported under both. A filter with an
    /// UNKNOWN part fails the whole call and deletes nothing.
    pub fn delete(
        &mut self,
        filters: &[AclBindingFilter],
    ) -> Result<Vec<Vec<AclBinding>>, AclError> {
        for filter in filters {
            filter.check()?;
        }
        let all = self.bindings();
        let per_filter: Vec<Vec<AclBinding>> = filters
            .iter()
            .map(|f| all.iter().filter(|b| f.matches(b)).cloned().collect())
            .collect();
        for binding in per_filter.iter().flatten() {
            self.index.remove(binding);
        }
        Ok(per_filter)
    }

    /// Kafka's `authorize` for one action on a concrete resource.
    pub fn authorize(
        &self,
        principal: &KafkaPrincipal,
        host: &str,
        operation: AclOperation,
        resource: &Resource,
    ) -> AuthorizationResult {
        self.result(&self.outcome(principal, host, operation, resource))
    }

    /// [`authorize`](Self::authorize) with the reason.
    pub fn explain(
        &self,
        principal: &KafkaPrincipal,
        host: &str,
        operation: AclOperation,
        resource: &Resource,
    ) -> Decision {
        let outcome = self.outcome(principal, host, operation, resource);
        self.decision(outcome)
    }

    /// KRaft's `authorizeByResourceType`: is `operation` allowed on at least one resource of
    /// this type? `operation` and `resource_type` must not be ANY or UNKNOWN.
    pub fn authorize_by_resource_type(
        &self,
        principal: &KafkaPrincipal,
        host: &str,
        operation: AclOperation,
        resource_type: ResourceType,
    ) -> Result<Decision, AclError> {
        if matches!(operation, AclOperation::Any | AclOperation::Unknown) {
            return Err(AclError::ByResourceTypeOperation { operation });
        }
        if matches!(resource_type, ResourceType::Any | ResourceType::Unknown) {
            return Err(AclError::ByResourceTypeType { resource_type });
        }
        let hardcode = Resource::new(resource_type, "hardcode")?;
        let first = self.outcome(principal, host, operation, &hardcode);
        if self.result(&first) == AuthorizationResult::Allowed {
            return Ok(self.decision(first));
        }
        let Some(index) = self
            .index
            .type_index(resource_type)
            .filter(|i| !i.literal.is_empty() || !i.prefixed.is_empty())
        else {
            // No ACL of this type at all: the default decided, as step 1 said.
            return Ok(self.decision(first));
        };
        let keys = self.index.keys(principal, host);
        let mask = operation.bit() | AclOperation::All.bit();
        let wildcard = index.literal.get(crate::binding::WILDCARD);
        let hit = |pattern_type, name, key, bits: u16| Hit {
            resource_type,
            pattern_type,
            name,
            key,
            operation: lowest(bits & mask, operation),
        };
        if let Some(acls) = wildcard {
            for key in keys.iter() {
                if let Some(e) = acls.find(key.0, key.1).filter(|e| e.deny & mask != 0) {
                    let hit = hit(PatternType::Literal, crate::binding::WILDCARD, key, e.deny);
                    return Ok(self.decision(Outcome::Deny(hit)));
                }
            }
            for key in keys.iter() {
                if let Some(e) = acls.find(key.0, key.1).filter(|e| e.allow & mask != 0) {
                    let hit = hit(PatternType::Literal, crate::binding::WILDCARD, key, e.allow);
                    return Ok(self.decision(Outcome::Allow(hit)));
                }
            }
        }
        for key in keys.iter() {
            for op in [operation, AclOperation::All] {
                let Some(allowed) = index.allowed.get(&(key.0, key.1, op)) else {
                    continue;
                };
                let usable = |kind, name: &str| {
                    (kind == PatternType::Prefixed || !index.denied_literal(&keys, name, mask))
                        && !index.denied_prefix(&keys, name, mask)
                };
                let found = allowed
                    .literals
                    .live
                    .iter()
                    .map(|n| (PatternType::Literal, n))
                    .chain(
                        allowed
                            .prefixes
                            .live
                            .iter()
                            .map(|n| (PatternType::Prefixed, n)),
                    )
                    .find(|(kind, name)| usable(*kind, name));
                if let Some((pattern_type, name)) = found {
                    let binding = self.index.binding(
                        resource_type,
                        pattern_type,
                        name,
                        key,
                        op,
                        AclPermissionType::Allow,
                    );
                    return Ok(Decision {
                        result: AuthorizationResult::Allowed,
                        reason: Reason::AllowedBy(binding),
                    });
                }
            }
        }
        Ok(self.decision(Outcome::NoMatchingAllow))
    }

    fn outcome<'a>(
        &'a self,
        principal: &KafkaPrincipal,
        host: &str,
        operation: AclOperation,
        resource: &'a Resource,
    ) -> Outcome<'a> {
        if self.config.is_super_user(principal) {
            return Outcome::SuperUser;
        }
        let Some(index) = self.index.type_index(resource.resource_type()) else {
            return Outcome::NoAclFound;
        };
        let keys = self.index.keys(principal, host);
        let deny_mask = operation.bit() | AclOperation::All.bit();
        let allow_mask = deny_mask | implied_by(operation);
        let mut any = false;
        let mut allow = None;
        for (pattern_type, name, acls) in index.applying(resource.name()) {
            any = true;
            for key in keys.iter() {
                let Some(e) = acls.find(key.0, key.1) else {
                    continue;
                };
                let hit = |bits| Hit {
                    resource_type: resource.resource_type(),
                    pattern_type,
                    name,
                    key,
                    operation: lowest(bits, operation),
                };
                if e.deny & deny_mask != 0 {
                    return Outcome::Deny(hit(e.deny & deny_mask));
                }
                if allow.is_none() && e.allow & allow_mask != 0 {
                    allow = Some(hit(e.allow & allow_mask));
                }
            }
        }
        match allow {
            Some(hit) => Outcome::Allow(hit),
            None if any => Outcome::NoMatchingAllow,
            None => Outcome::NoAclFound,
        }
    }

    fn result(&self, outcome: &Outcome<'_>) -> AuthorizationResult {
        match outcome {
            Outcome::SuperUser | Outcome::Allow(_) => AuthorizationResult::Allowed,
            Outcome::NoAclFound if self.config.allow_everyone_if_no_acl_found => {
                AuthorizationResult::Allowed
            }
            _ => AuthorizationResult::Denied,
        }
    }

    fn decision(&self, outcome: Outcome<'_>) -> Decision {
        let result = self.result(&outcome);
        let binding = |hit: Hit<'_>, permission| {
            self.index.binding(
                hit.resource_type,
                hit.pattern_type,
                hit.name,
                hit.key,
                hit.operation,
                permission,
            )
        };
        let reason = match outcome {
            Outcome::SuperUser => Reason::SuperUser,
            Outcome::NoAclFound => Reason::NoAclFound,
            Outcome::Deny(hit) => Reason::DeniedBy(binding(hit, AclPermissionType::Deny)),
            Outcome::Allow(hit) => Reason::AllowedBy(binding(hit, AclPermissionType::Allow)),
            Outcome::NoMatchingAllow => Reason::NoMatchingAllow,
        };
        Decision { result, reason }
    }
}

/// KRaft's `validateNewAcl`, on what our types can still hold.
fn check_storable(binding: &AclBinding) -> Result<(), AclError> {
    let problem = if binding.pattern.resource_type() == ResourceType::Unknown {
        Some(BindingProblem::ResourceType(ResourceType::Unknown))
    } else if !binding.pattern.pattern_type().is_specific() {
        Some(BindingProblem::PatternType(binding.pattern.pattern_type()))
    } else if binding.entry.operation() == AclOperation::Unknown {
        Some(BindingProblem::Operation(AclOperation::Unknown))
    } else if binding.entry.permission() == AclPermissionType::Unknown {
        Some(BindingProblem::Permission(AclPermissionType::Unknown))
    } else if binding.pattern.name().is_empty() {
        Some(BindingProblem::EmptyName)
    } else {
        None
    };
    match problem {
        Some(problem) => Err(invalid(binding, problem)),
        None => Ok(()),
    }
}

pub(crate) fn invalid(binding: &AclBinding, problem: BindingProblem) -> AclError {
    AclError::InvalidBinding {
        binding: Box::new(binding.clone()),
        problem,
    }
}

/// The ACL operations whose ALLOW also allows `operation`.
pub(crate) const fn implied_by(operation: AclOperation) -> u16 {
    use AclOperation::*;
    match operation {
        Describe => Read.bit() | Write.bit() | Delete.bit() | Alter.bit(),
        DescribeConfigs => AlterConfigs.bit(),
        _ => 0,
    }
}

/// The operation to report for a set of matching bits: the requested one, else the lowest.
fn lowest(bits: u16, requested: AclOperation) -> AclOperation {
    if bits & requested.bit() != 0 {
        return requested;
    }
    AclOperation::VALUES
        .iter()
        .copied()
        .find(|op| bits & op.bit() != 0)
        .unwrap_or(requested)
}
