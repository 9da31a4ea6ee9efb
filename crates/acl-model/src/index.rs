//! The ACL store, indexed so that a check never scans the ACLs of other principals or hosts.
//!
//! Per resource type: LITERAL and PREFIXED patterns in hash maps by name, the byte lengths that
//! PREFIXED names have (so a check looks up only those prefixes of the name), and, for
//! `authorize_by_resource_type`, the allowed names per (principal, host, operation).
//! Inside a pattern, entries are sorted by (principal, host) and carry allow and deny operation
//! bit sets, so the `*` resource with thousands of host-specific ACLs costs one binary search.
//! Every piece sits behind an `Arc`, so cloning the index for a copy-on-write update copies
//! only the pattern maps, not the ACLs.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::Arc;

use foldhash::fast::RandomState;

use crate::binding::WILDCARD;
use crate::{
    AccessControlEntry, AclBinding, AclOperation, AclPermissionType, KafkaPrincipal, PatternType,
    ResourcePattern, ResourceType,
};

type Map<K, V> = HashMap<K, V, RandomState>;

/// Interned principal or host.
pub(crate) type Id = u32;

/// Strings seen so far, both ways. Ids are never reused.
#[derive(Clone, Debug)]
struct Interner<T: std::hash::Hash + Eq + Clone> {
    ids: Map<T, Id>,
    values: Vec<T>,
}

impl<T: std::hash::Hash + Eq + Clone> Default for Interner<T> {
    fn default() -> Self {
        Self {
            ids: Map::default(),
            values: Vec::new(),
        }
    }
}

impl<T: std::hash::Hash + Eq + Clone> Interner<T> {
    fn intern(&mut self, value: &T) -> Id {
        if let Some(id) = self.ids.get(value) {
            return *id;
        }
        // More than 4 billion distinct principals or hosts cannot fit in memory first.
        let id = Id::try_from(self.values.len()).unwrap_or(Id::MAX);
        self.ids.insert(value.clone(), id);
        self.values.push(value.clone());
        id
    }
}

/// One (principal, host) inside a pattern, with the operations it allows and denies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) principal: Id,
    pub(crate) host: Id,
    pub(crate) allow: u16,
    pub(crate) deny: u16,
}

/// The entries of one resource pattern, sorted by (principal, host).
#[derive(Clone, Debug, Default)]
pub(crate) struct PatternAcls {
    entries: Vec<Entry>,
}

impl PatternAcls {
    /// Whether an entry of one of `keys` denies an operation in `mask`.
    pub(crate) fn denies(&self, keys: &Keys, mask: u16) -> bool {
        keys.iter()
            .any(|k| self.find(k.0, k.1).is_some_and(|e| e.deny & mask != 0))
    }

    pub(crate) fn find(&self, principal: Id, host: Id) -> Option<&Entry> {
        self.entries
            .binary_search_by(|e| (e.principal, e.host).cmp(&(principal, host)))
            .ok()
            .map(|i| &self.entries[i])
    }
}

/// The names on which one (principal, host, operation) has an ALLOW, `*` excluded.
#[derive(Clone, Debug, Default)]
pub(crate) struct Allowed {
    pub(crate) literals: Names,
    pub(crate) prefixes: Names,
}

/// Allowed names split by whether a DENY of the same (principal, host) with the same operation
/// or ALL dominates them. Such a DENY counts in every query that sees this ALLOW, so a dead
/// name can never make `authorize_by_resource_type` say ALLOWED and is not scanned.
#[derive(Clone, Debug, Default)]
pub(crate) struct Names {
    pub(crate) live: BTreeSet<Arc<str>>,
    dead: BTreeSet<Arc<str>>,
}

impl Names {
    fn set(&mut self, name: Arc<str>, live: bool) {
        if live {
            self.dead.remove(&name);
            self.live.insert(name);
        } else {
            self.live.remove(&name);
            self.dead.insert(name);
        }
    }

    fn remove(&mut self, name: &str) {
        self.live.remove(name);
        self.dead.remove(name);
    }

    fn is_empty(&self) -> bool {
        self.live.is_empty() && self.dead.is_empty()
    }

    fn get(&self, name: &str) -> Option<Arc<str>> {
        self.live.get(name).or_else(|| self.dead.get(name)).cloned()
    }

    fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = Arc<str>> + 'a {
        [&self.live, &self.dead].into_iter().flat_map(move |set| {
            set.range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
                .take_while(move |n| n.starts_with(prefix))
                .cloned()
        })
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct TypeIndex {
    pub(crate) literal: Map<Arc<str>, Arc<PatternAcls>>,
    pub(crate) prefixed: Map<Arc<str>, Arc<PatternAcls>>,
    /// Byte length of PREFIXED names → how many patterns have it.
    pub(crate) prefix_lengths: BTreeMap<usize, usize>,
    pub(crate) allowed: Map<(Id, Id, AclOperation), Arc<Allowed>>,
}

impl TypeIndex {
    /// The patterns that apply to `name`: the literal, the wildcard, then prefixes by length.
    pub(crate) fn applying<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = (PatternType, &'a str, &'a PatternAcls)> + 'a {
        let literal = self
            .literal
            .get_key_value(name)
            .map(|(k, v)| (PatternType::Literal, &**k, &**v));
        let wildcard = (name != WILDCARD)
            .then(|| self.literal.get_key_value(WILDCARD))
            .flatten()
            .map(|(k, v)| (PatternType::Literal, &**k, &**v));
        literal
            .into_iter()
            .chain(wildcard)
            .chain(self.prefixes_of(name))
    }

    /// The PREFIXED patterns whose name is a prefix of `name` (`name` itself included).
    pub(crate) fn prefixes_of<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = (PatternType, &'a str, &'a PatternAcls)> + 'a {
        self.prefix_lengths
            .range(..=name.len())
            .filter(|(len, _)| name.is_char_boundary(**len))
            .filter_map(move |(len, _)| self.prefixed.get_key_value(&name[..*len]))
            .map(|(k, v)| (PatternType::Prefixed, &**k, &**v))
    }

    /// A LITERAL on `name` denies (`mask`) one of `keys`.
    pub(crate) fn denied_literal(&self, keys: &Keys, name: &str, mask: u16) -> bool {
        self.literal
            .get(name)
            .is_some_and(|acls| acls.denies(keys, mask))
    }

    /// A PREFIXED on a prefix of `name` (itself included) denies (`mask`) one of `keys`.
    pub(crate) fn denied_prefix(&self, keys: &Keys, name: &str, mask: u16) -> bool {
        self.prefixes_of(name)
            .any(|(_, _, acls)| acls.denies(keys, mask))
    }

    /// Whether DENYs of `key` itself with `operation` or ALL dominate this allowed name.
    fn dominated(
        &self,
        key: (Id, Id),
        operation: AclOperation,
        kind: PatternType,
        name: &str,
    ) -> bool {
        let keys = Keys::one(key);
        let mask = operation.bit() | AclOperation::All.bit();
        (kind == PatternType::Literal && self.denied_literal(&keys, name, mask))
            || self.denied_prefix(&keys, name, mask)
    }

    /// Re-sorts the allowed names a DENY of (`key`, `operation`) on (`kind`, `name`) touches.
    fn refresh(&mut self, key: (Id, Id), operation: AclOperation, kind: PatternType, name: &str) {
        let operations: &[AclOperation] = if operation == AclOperation::All {
            AclOperation::VALUES
        } else {
            std::slice::from_ref(&operation)
        };
        for op in operations {
            let group_key = (key.0, key.1, *op);
            let Some(group) = self.allowed.get(&group_key) else {
                continue;
            };
            let touched: Vec<(PatternType, Arc<str>)> = match kind {
                PatternType::Prefixed => group
                    .literals
                    .with_prefix(name)
                    .map(|n| (PatternType::Literal, n))
                    .chain(
                        group
                            .prefixes
                            .with_prefix(name)
                            .map(|n| (PatternType::Prefixed, n)),
                    )
                    .collect(),
                _ => group
                    .literals
                    .get(name)
                    .map(|n| (PatternType::Literal, n))
                    .into_iter()
                    .collect(),
            };
            let verdicts: Vec<(PatternType, Arc<str>, bool)> = touched
                .into_iter()
                .map(|(k, n)| {
                    let live = !self.dominated(key, *op, k, &n);
                    (k, n, live)
                })
                .collect();
            if let Some(group) = self.allowed.get_mut(&group_key) {
                let group = Arc::make_mut(group);
                for (k, n, live) in verdicts {
                    match k {
                        PatternType::Prefixed => group.prefixes.set(n, live),
                        _ => group.literals.set(n, live),
                    }
                }
            }
        }
    }

    fn patterns(&self, pattern_type: PatternType) -> &Map<Arc<str>, Arc<PatternAcls>> {
        match pattern_type {
            PatternType::Prefixed => &self.prefixed,
            _ => &self.literal,
        }
    }
}

/// The six resource types that can hold ACLs, in code order.
pub(crate) const STORED_TYPES: [ResourceType; 6] = [
    ResourceType::Topic,
    ResourceType::Group,
    ResourceType::Cluster,
    ResourceType::TransactionalId,
    ResourceType::DelegationToken,
    ResourceType::User,
];

fn slot(resource_type: ResourceType) -> Option<usize> {
    STORED_TYPES.iter().position(|t| *t == resource_type)
}

/// The whole store. Only bindings with specific types, operations and permissions get in.
#[derive(Clone, Debug, Default)]
pub(crate) struct Index {
    principals: Arc<Interner<KafkaPrincipal>>,
    hosts: Arc<Interner<Box<str>>>,
    types: [TypeIndex; 6],
    len: usize,
}

/// The ids a request's principal and host can match: exact first, then the wildcards.
pub(crate) struct Keys {
    keys: [(Id, Id); 4],
    len: usize,
}

impl Keys {
    fn one(key: (Id, Id)) -> Self {
        Self {
            keys: [key; 4],
            len: 1,
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (Id, Id)> + '_ {
        self.keys[..self.len].iter().copied()
    }
}

impl Index {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn type_index(&self, resource_type: ResourceType) -> Option<&TypeIndex> {
        slot(resource_type).map(|i| &self.types[i])
    }

    pub(crate) fn principal(&self, id: Id) -> &KafkaPrincipal {
        &self.principals.values[id as usize]
    }

    pub(crate) fn host(&self, id: Id) -> &str {
        &self.hosts.values[id as usize]
    }

    /// The (principal, host) keys that match a request, in a fixed order.
    pub(crate) fn keys(&self, principal: &KafkaPrincipal, host: &str) -> Keys {
        let wildcard_user = KafkaPrincipal::new("User", WILDCARD);
        let mut principals = [None, None];
        principals[0] = self.principals.ids.get(principal).copied();
        if !principal.is_wildcard() {
            principals[1] = self.principals.ids.get(&wildcard_user).copied();
        }
        let mut hosts = [None, None];
        hosts[0] = self.hosts.ids.get(host).copied();
        if host != WILDCARD {
            hosts[1] = self.hosts.ids.get(WILDCARD).copied();
        }
        let mut keys = Keys {
            keys: [(0, 0); 4],
            len: 0,
        };
        for p in principals.into_iter().flatten() {
            for h in hosts.into_iter().flatten() {
                keys.keys[keys.len] = (p, h);
                keys.len += 1;
            }
        }
        keys
    }

    /// Rebuilds the binding one bit of an entry stands for.
    pub(crate) fn binding(
        &self,
        resource_type: ResourceType,
        pattern_type: PatternType,
        name: &str,
        key: (Id, Id),
        operation: AclOperation,
        permission: AclPermissionType,
    ) -> AclBinding {
        AclBinding {
            pattern: ResourcePattern::new(resource_type, name, pattern_type)
                // Stored patterns are specific and of a stored type.
                .expect("stored patterns are valid"),
            entry: AccessControlEntry::new(
                self.principal(key.0).clone(),
                self.host(key.1),
                operation,
                permission,
            )
            // Stored operations and permissions are never ANY.
            .expect("stored entries are valid"),
        }
    }

    /// Adds a binding already checked to be storable; false if it was there.
    pub(crate) fn insert(&mut self, binding: &AclBinding) -> bool {
        let Some(t) = slot(binding.pattern.resource_type()) else {
            return false;
        };
        let principal = Arc::make_mut(&mut self.principals).intern(binding.entry.principal());
        let host = Arc::make_mut(&mut self.hosts).intern(&Box::from(binding.entry.host()));
        let operation = binding.entry.operation();
        let bit = operation.bit();
        let allow = binding.entry.permission() == AclPermissionType::Allow;
        let pattern_type = binding.pattern.pattern_type();
        let name = binding.pattern.name();
        let index = &mut self.types[t];
        let map = match pattern_type {
            PatternType::Prefixed => &mut index.prefixed,
            _ => &mut index.literal,
        };
        // One allocation per pattern name, shared with the allowed-name sets.
        let (key, is_new_pattern) = match map.get_key_value(name) {
            Some((key, _)) => (Arc::clone(key), false),
            None => (Arc::from(name), true),
        };
        let acls = Arc::make_mut(map.entry(Arc::clone(&key)).or_default());
        let entry = match acls
            .entries
            .binary_search_by(|e| (e.principal, e.host).cmp(&(principal, host)))
        {
            Ok(i) => &mut acls.entries[i],
            Err(i) => {
                acls.entries.insert(
                    i,
                    Entry {
                        principal,
                        host,
                        allow: 0,
                        deny: 0,
                    },
                );
                &mut acls.entries[i]
            }
        };
        let bits = if allow {
            &mut entry.allow
        } else {
            &mut entry.deny
        };
        if *bits & bit != 0 {
            return false;
        }
        *bits |= bit;
        if is_new_pattern && pattern_type == PatternType::Prefixed {
            *index.prefix_lengths.entry(name.len()).or_default() += 1;
        }
        if allow && !(pattern_type == PatternType::Literal && name == WILDCARD) {
            let live = !index.dominated((principal, host), operation, pattern_type, name);
            let allowed = Arc::make_mut(
                index
                    .allowed
                    .entry((principal, host, operation))
                    .or_default(),
            );
            match pattern_type {
                PatternType::Prefixed => allowed.prefixes.set(key, live),
                _ => allowed.literals.set(key, live),
            }
        } else if !allow {
            index.refresh((principal, host), operation, pattern_type, name);
        }
        self.len += 1;
        true
    }

    /// Removes a binding; false if it was not there.
    pub(crate) fn remove(&mut self, binding: &AclBinding) -> bool {
        let Some(t) = slot(binding.pattern.resource_type()) else {
            return false;
        };
        let (Some(&principal), Some(&host)) = (
            self.principals.ids.get(binding.entry.principal()),
            self.hosts.ids.get(binding.entry.host()),
        ) else {
            return false;
        };
        let operation = binding.entry.operation();
        let bit = operation.bit();
        let allow = binding.entry.permission() == AclPermissionType::Allow;
        let pattern_type = binding.pattern.pattern_type();
        let name = binding.pattern.name();
        let index = &mut self.types[t];
        let map = match pattern_type {
            PatternType::Prefixed => &mut index.prefixed,
            _ => &mut index.literal,
        };
        let Some(shared) = map.get_mut(name) else {
            return false;
        };
        let present = shared.find(principal, host).is_some_and(|e| {
            let bits = if allow { e.allow } else { e.deny };
            bits & bit != 0
        });
        if !present {
            return false;
        }
        let acls = Arc::make_mut(shared);
        if let Ok(i) = acls
            .entries
            .binary_search_by(|e| (e.principal, e.host).cmp(&(principal, host)))
        {
            let entry = &mut acls.entries[i];
            if allow {
                entry.allow &= !bit;
            } else {
                entry.deny &= !bit;
            }
            if entry.allow == 0 && entry.deny == 0 {
                acls.entries.remove(i);
            }
        }
        if acls.entries.is_empty() {
            map.remove(name);
            if pattern_type == PatternType::Prefixed
                && let Some(count) = index.prefix_lengths.get_mut(&name.len())
            {
                *count -= 1;
                if *count == 0 {
                    index.prefix_lengths.remove(&name.len());
                }
            }
        }
        if allow {
            let key = (principal, host, operation);
            if let Some(shared) = index.allowed.get_mut(&key) {
                let allowed = Arc::make_mut(shared);
                match pattern_type {
                    PatternType::Prefixed => allowed.prefixes.remove(name),
                    _ => allowed.literals.remove(name),
                };
                if allowed.literals.is_empty() && allowed.prefixes.is_empty() {
                    index.allowed.remove(&key);
                }
            }
        } else {
            index.refresh((principal, host), operation, pattern_type, name);
        }
        self.len -= 1;
        true
    }

    /// Every binding, in no particular order.
    pub(crate) fn bindings(&self) -> impl Iterator<Item = AclBinding> + '_ {
        STORED_TYPES
            .iter()
            .zip(&self.types)
            .flat_map(move |(resource_type, index)| {
                [PatternType::Literal, PatternType::Prefixed]
                    .into_iter()
                    .flat_map(move |pattern_type| {
                        index
                            .patterns(pattern_type)
                            .iter()
                            .flat_map(move |(name, acls)| {
                                acls.entries.iter().flat_map(move |e| {
                                    self.entry_bindings(*resource_type, pattern_type, name, e)
                                })
                            })
                    })
            })
    }

    fn entry_bindings<'a>(
        &'a self,
        resource_type: ResourceType,
        pattern_type: PatternType,
        name: &'a str,
        entry: &'a Entry,
    ) -> impl Iterator<Item = AclBinding> + 'a {
        [
            (AclPermissionType::Deny, entry.deny),
            (AclPermissionType::Allow, entry.allow),
        ]
        .into_iter()
        .flat_map(move |(permission, bits)| {
            AclOperation::VALUES
                .iter()
                .filter(move |op| bits & op.bit() != 0)
                .map(move |op| {
                    self.binding(
                        resource_type,
                        pattern_type,
                        name,
                        (entry.principal, entry.host),
                        *op,
                        permission,
                    )
                })
        })
    }
}
