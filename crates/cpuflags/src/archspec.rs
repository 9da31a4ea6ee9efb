//! archspec's microarchitecture DAG (vendored) and its host-detection rule, reproduced: the
//! compatible targets, the best generic one, then the deepest and richest descendant of it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::{Arch, Cpu, Source};

/// A named microarchitecture and everything it descends from, in archspec's order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Microarchitecture {
    /// archspec's name (`haswell`, `zen3`, `neoverse_n1`, `power9le`, `x86_64_v2`, …).
    pub name: &'static str,
    /// archspec's vendor (`GenuineIntel`, `AuthenticAMD`, `ARM`, `IBM`, or `generic`).
    pub vendor: &'static str,
    /// Parents first, then their ancestors, without repeats: archspec's `ancestors`.
    pub ancestors: Vec<&'static str>,
}

/// The microarchitecture archspec's `host()` would report for this CPU.
///
/// ```
/// use underhood_cpuflags::{Cpu, microarchitecture};
/// let text = "processor : 0\nCPU implementer : 0x41\nCPU part : 0xd0c\n\
///             Features : fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp \
///             cpuid asimdrdm lrcpc dcpop asimddp ssbs\n\n";
/// let uarch = microarchitecture(&Cpu::from_cpuinfo(text)?);
/// assert_eq!(uarch.name, "neoverse_n1");
/// assert_eq!(uarch.ancestors, ["cortex_a72", "armv8.2a", "aarch64", "armv8.1a"]);
/// # Ok::<(), underhood_cpuflags::ParseError>(())
/// ```
pub fn microarchitecture(cpu: &Cpu) -> Microarchitecture {
    let db = db();
    let idx = host(db, cpu);
    let target = &db.targets[idx];
    Microarchitecture {
        name: &target.name,
        vendor: &target.vendor,
        ancestors: db.ancestors[idx]
            .iter()
            .map(|&a| db.targets[a].name.as_str())
            .collect(),
    }
}

pub(crate) struct Target {
    pub(crate) name: String,
    pub(crate) parents: Vec<usize>,
    pub(crate) vendor: String,
    pub(crate) features: BTreeSet<String>,
    pub(crate) generation: u32,
    pub(crate) cpupart: Option<String>,
}

pub(crate) struct Db {
    pub(crate) targets: Vec<Target>,
    pub(crate) ancestors: Vec<Vec<usize>>,
    by_name: BTreeMap<String, usize>,
    arm_vendors: BTreeMap<String, String>,
    darwin_flags: Vec<(String, String)>,
}

impl Db {
    pub(crate) fn index(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    fn family(&self, idx: usize) -> usize {
        // The one root among the target and its ancestors; the vendored DAG has one per target.
        std::iter::once(idx)
            .chain(self.ancestors[idx].iter().copied())
            .find(|&t| self.targets[t].parents.is_empty())
            .unwrap_or(idx)
    }

    fn descends_from(&self, idx: usize, root: usize) -> bool {
        idx == root || self.ancestors[idx].contains(&root)
    }
}

pub(crate) fn db() -> &'static Db {
    static DB: OnceLock<Db> = OnceLock::new();
    DB.get_or_init(load)
}

/// archspec's vendor name of an ARM `CPU implementer` code (`0x41` → `ARM`).
pub(crate) fn arm_vendor(code: &str) -> Option<&'static str> {
    db().arm_vendors
        .get(&code.trim().to_ascii_lowercase())
        .map(String::as_str)
}

/// archspec's target with this vendor and `CPU part`, for naming core kinds.
pub(crate) fn name_of_part(vendor: &str, part: &str) -> Option<&'static str> {
    let part = part.trim().to_ascii_lowercase();
    db().targets
        .iter()
        .find(|t| t.vendor == vendor && t.cpupart.as_deref() == Some(part.as_str()))
        .map(|t| t.name.as_str())
}

/// archspec's macOS flag conversions (`avx1.0` → `avx`).
pub(crate) fn darwin_flags() -> impl Iterator<Item = (&'static str, &'static str)> {
    db().darwin_flags
        .iter()
        .map(|(d, l)| (d.as_str(), l.as_str()))
}

fn host(db: &Db, cpu: &Cpu) -> usize {
    let root_name = cpu.arch.name();
    // Every family root is in the vendored DB (checked by a test).
    let root = db.index(root_name).unwrap_or(0);
    let candidates: Vec<usize> = (0..db.targets.len())
        .filter(|&t| compatible(db, cpu, root, t))
        .collect();
    if candidates.is_empty() {
        return root;
    }
    let key = |t: &usize| (db.ancestors[*t].len(), db.targets[*t].features.len());
    let best_generic = first_max(
        candidates
            .iter()
            .copied()
            .filter(|&t| db.targets[t].vendor == "generic"),
        key,
    )
    .unwrap_or(root);
    let mut better: Vec<usize> = candidates
        .into_iter()
        .filter(|&t| db.ancestors[t].contains(&best_generic))
        .collect();
    // Models with equal features (neoverse_v2 and neoverse_n2) differ only by CPU part.
    if let Some(part) = &cpu.cpu_part {
        let same_part: Vec<usize> = better
            .iter()
            .copied()
            .filter(|&t| db.targets[t].cpupart.as_deref() == Some(part.as_str()))
            .collect();
        if !same_part.is_empty() {
            better = same_part;
        }
    }
    first_max(better.into_iter(), key).unwrap_or(best_generic)
}

/// Python's `max`: the first of the largest.
fn first_max<K: Ord>(
    items: impl Iterator<Item = usize>,
    key: impl Fn(&usize) -> K,
) -> Option<usize> {
    let mut best: Option<(usize, K)> = None;
    for item in items {
        let k = key(&item);
        if best.as_ref().is_none_or(|(_, b)| k > *b) {
            best = Some((item, k));
        }
    }
    best.map(|(item, _)| item)
}

fn compatible(db: &Db, cpu: &Cpu, root: usize, idx: usize) -> bool {
    let target = &db.targets[idx];
    match cpu.arch {
        Arch::X86_64 => {
            db.descends_from(idx, root)
                && (target.vendor == cpu.vendor || target.vendor == "generic")
                && target.features.is_subset(&cpu.flags)
        }
        Arch::Aarch64 => {
            if target.vendor == "generic" && idx != root {
                return false;
            }
            let root_and_vendor = db.family(idx) == root
                && (target.vendor == cpu.vendor || target.vendor == "generic");
            if cpu.source == Source::Sysctl
                && let Some(model) = cpu.core_name.as_deref().and_then(|n| db.index(n))
            {
                return root_and_vendor && db.descends_from(model, idx);
            }
            root_and_vendor && target.features.is_subset(&cpu.flags)
        }
        Arch::Ppc64le | Arch::Ppc64 => {
            db.descends_from(idx, root) && target.generation <= cpu.generation.unwrap_or(0)
        }
        Arch::Riscv64 => {
            db.descends_from(idx, root)
                && (Some(target.name.as_str()) == cpu.core_name.as_deref()
                    || target.vendor == "generic")
        }
    }
}

#[derive(Deserialize)]
struct File {
    microarchitectures: InOrder,
    conversions: Conversions,
}

/// The targets in file order, which decides ties as Python's `max` does.
struct InOrder(Vec<(String, RawTarget)>);

impl<'de> Deserialize<'de> for InOrder {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = InOrder;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of microarchitectures")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<InOrder, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    out.push(entry);
                }
                Ok(InOrder(out))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

#[derive(Deserialize)]
struct Conversions {
    arm_vendors: BTreeMap<String, String>,
    darwin_flags: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RawTarget {
    #[serde(default)]
    from: Vec<String>,
    vendor: String,
    #[serde(default)]
    features: Vec<String>,
    #[serde(default)]
    generation: u32,
    #[serde(default)]
    cpupart: Option<String>,
}

fn load() -> Db {
    // The vendored archspec file is checked by the tests; a broken copy is a build defect.
    let file: File = serde_json::from_str(include_str!("../data/archspec/microarchitectures.json"))
        .expect("vendored microarchitectures.json parses");
    // archspec inserts each target after its parents, walking the file in order.
    let raw: BTreeMap<&str, &RawTarget> = file
        .microarchitectures
        .0
        .iter()
        .map(|(n, t)| (n.as_str(), t))
        .collect();
    let mut order: Vec<&str> = Vec::new();
    for (name, _) in &file.microarchitectures.0 {
        insert_after_parents(name, &raw, &mut order);
    }
    let by_name: BTreeMap<String, usize> = order
        .iter()
        .enumerate()
        .map(|(i, n)| ((*n).to_owned(), i))
        .collect();
    let targets: Vec<Target> = order
        .iter()
        .map(|name| {
            let raw = raw[name];
            Target {
                name: (*name).to_owned(),
                parents: raw
                    .from
                    .iter()
                    .filter_map(|p| by_name.get(p).copied())
                    .collect(),
                vendor: raw.vendor.clone(),
                features: raw.features.iter().cloned().collect(),
                generation: raw.generation,
                cpupart: raw.cpupart.as_ref().map(|p| p.to_ascii_lowercase()),
            }
        })
        .collect();
    let mut ancestors: Vec<Option<Vec<usize>>> = vec![None; targets.len()];
    for idx in 0..targets.len() {
        ancestors_of(&targets, idx, &mut ancestors);
    }
    Db {
        ancestors: ancestors
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect(),
        targets,
        by_name,
        arm_vendors: file.conversions.arm_vendors,
        darwin_flags: file.conversions.darwin_flags.into_iter().collect(),
    }
}

fn insert_after_parents<'a>(
    name: &'a str,
    raw: &BTreeMap<&'a str, &'a RawTarget>,
    order: &mut Vec<&'a str>,
) {
    if order.contains(&name) {
        return;
    }
    if let Some(target) = raw.get(name) {
        for parent in &target.from {
            if let Some((&parent, _)) = raw.get_key_value(parent.as_str()) {
                insert_after_parents(parent, raw, order);
            }
        }
    }
    order.push(name);
}

/// archspec's `ancestors`: parents, then each parent's ancestors not seen yet.
fn ancestors_of(targets: &[Target], idx: usize, memo: &mut [Option<Vec<usize>>]) -> Vec<usize> {
    if let Some(done) = &memo[idx] {
        return done.clone();
    }
    let mut value = targets[idx].parents.clone();
    for &parent in &targets[idx].parents {
        for a in ancestors_of(targets, parent, memo) {
            if !value.contains(&a) {
                value.push(a);
            }
        }
    }
    memo[idx] = Some(value.clone());
    value
}
