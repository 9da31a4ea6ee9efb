//! The flag vocabulary: Linux `/proc/cpuinfo` names are canonical; QEMU, libvirt, compiler and
//! macOS names are aliases, joined on the CPUID bit by the vendored `name_map.json`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

/// One x86 feature bit: where CPUID reports it and what each tool calls it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Feature {
    /// Canonical name: the Linux name, or the QEMU/libvirt name with `-` as `_` when Linux has none.
    pub(crate) name: String,
    /// True when Linux shows it in `/proc/cpuinfo` (or we derive it from Linux's synthetic flags).
    pub(crate) visible_in_linux: bool,
    pub(crate) qemu: Option<String>,
    pub(crate) libvirt: Option<String>,
    /// `(leaf, subleaf, register, bit)`; register 0..4 = eax, ebx, ecx, edx.
    pub(crate) cpuid: (u32, u32, u8, u8),
}

/// The x86 vocabulary, built once from the vendored name map.
pub(crate) struct Vocabulary {
    pub(crate) features: Vec<Feature>,
    alias: BTreeMap<String, String>,
    by_name: BTreeMap<String, usize>,
}

/// Flags that Linux derives (synthetic) but that QEMU and libvirt name as CPUID bits.
/// Each is shown by Linux, so a capture can prove it.
const LINUX_DERIVED: &[&str] = &[
    "spec_ctrl",
    "stibp",
    "ssbd",
    "ibpb",
    "ibrs",
    "amd_stibp",
    "amd_ssbd",
    "invtsc",
    "osxsave",
];

/// Names that are not in the CPUID map: compiler (`-m…`, Rust `target_feature`), macOS sysctl and
/// Intel SDM spellings.
const EXTRA_ALIASES: &[(&str, &str)] = &[
    ("sse3", "pni"),
    ("lzcnt", "abm"),
    ("bmi", "bmi1"),
    ("sahf", "lahf_lm"),
    ("lahf", "lahf_lm"),
    ("pclmul", "pclmulqdq"),
    ("rdrnd", "rdrand"),
    ("sha", "sha_ni"),
    ("cmpxchg16b", "cx16"),
    ("cmpxchg8b", "cx8"),
    ("avx1.0", "avx"),
    ("clfsh", "clflush"),
    ("clfsopt", "clflushopt"),
    ("htt", "ht"),
    ("mon", "monitor"),
    ("dscpl", "ds_cpl"),
    ("tpr", "xtpr"),
    ("1gbpage", "pdpe1gb"),
    ("em64t", "lm"),
    ("rdwrfsgs", "fsgsbase"),
    ("vmm", "hypervisor"),
    ("tsctmr", "tsc_deadline_timer"),
    ("prefetchw", "3dnowprefetch"),
    ("ipt", "intel_pt"),
    ("mdclear", "md_clear"),
    ("l1df", "flush_l1d"),
    ("acapmsr", "arch_capabilities"),
    ("spec-ctrl", "spec_ctrl"),
    ("intel_stibp", "stibp"),
    ("amd-stibp", "amd_stibp"),
    ("amd-ssbd", "amd_ssbd"),
    ("spec_ctrl_ssbd", "ssbd"),
];

/// The x86 vocabulary.
pub(crate) fn vocabulary() -> &'static Vocabulary {
    static VOCABULARY: OnceLock<Vocabulary> = OnceLock::new();
    VOCABULARY.get_or_init(build)
}

impl Vocabulary {
    /// The canonical (Linux) name of an x86 feature name in any spelling, or `None` if unknown.
    pub(crate) fn canonical(&self, name: &str) -> Option<&str> {
        // Linux names, the common case, need no allocation.
        if let Some(&idx) = self.by_name.get(name) {
            return Some(&self.features[idx].name);
        }
        let lower = name.trim().to_ascii_lowercase();
        if let Some(&idx) = self.by_name.get(&lower) {
            return Some(&self.features[idx].name);
        }
        let key = self
            .alias
            .get(&lower)
            .or_else(|| self.alias.get(&lower.replace('_', "-")))?;
        Some(key.as_str())
    }

    /// The feature with this canonical name.
    pub(crate) fn feature(&self, canonical: &str) -> Option<&Feature> {
        self.by_name.get(canonical).map(|&idx| &self.features[idx])
    }
}

/// The canonical (Linux `/proc/cpuinfo`) name for an x86 feature given in any spelling: QEMU
/// (`sse4.1`, `lahf-lm`, `tsc-deadline`), libvirt (`pclmuldq`, `cmt`), compiler (`sse3`, `lzcnt`,
/// `bmi`) or macOS sysctl (`SSE4.1`, `1GBPAGE`); unknown names come back lower-cased.
///
/// ```
/// use underhood_cpuflags::canonical_flag;
/// assert_eq!(canonical_flag("sse4.1"), "sse4_1");
/// assert_eq!(canonical_flag("tsc-deadline"), "tsc_deadline_timer");
/// assert_eq!(canonical_flag("lzcnt"), "abm");
/// assert_eq!(canonical_flag("asimd"), "asimd");
/// ```
pub fn canonical_flag(name: &str) -> String {
    match vocabulary().canonical(name) {
        Some(canonical) => canonical.to_owned(),
        None => name.trim().to_ascii_lowercase(),
    }
}

/// QEMU's name for a canonical x86 flag (`sse4_1` → `sse4.1`), if QEMU can set it.
///
/// ```
/// use underhood_cpuflags::qemu_flag;
/// assert_eq!(qemu_flag("tsc_deadline_timer"), Some("tsc-deadline"));
/// assert_eq!(qemu_flag("constant_tsc"), None);
/// ```
pub fn qemu_flag(canonical: &str) -> Option<&'static str> {
    vocabulary().feature(canonical)?.qemu.as_deref()
}

/// libvirt's name for a canonical x86 flag (`pclmulqdq` → `pclmuldq`), if libvirt knows it.
///
/// ```
/// use underhood_cpuflags::libvirt_flag;
/// assert_eq!(libvirt_flag("pclmulqdq"), Some("pclmuldq"));
/// ```
pub fn libvirt_flag(canonical: &str) -> Option<&'static str> {
    vocabulary().feature(canonical)?.libvirt.as_deref()
}

#[derive(Deserialize)]
struct NameMap {
    all_cpuid_features: Vec<Entry>,
    qemu_aliases: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Entry {
    linux: Option<String>,
    libvirt: Option<String>,
    qemu: Option<String>,
    cpuid: Location,
}

#[derive(Deserialize)]
struct Location {
    leaf: String,
    subleaf: u32,
    reg: String,
    bit: u8,
}

fn build() -> Vocabulary {
    // The vendored file is checked by the tests; a broken copy is a build defect, not input.
    let map: NameMap = serde_json::from_str(include_str!("../data/name_map.json"))
        .expect("vendored name_map.json parses");
    let mut features: Vec<Feature> = Vec::new();
    let mut by_name = BTreeMap::new();
    let mut alias = BTreeMap::new();
    for entry in map.all_cpuid_features {
        let Some(name) = entry
            .linux
            .clone()
            .or_else(|| entry.qemu.as_ref().map(|q| q.replace('-', "_")))
            .or_else(|| entry.libvirt.as_ref().map(|l| l.replace('-', "_")))
        else {
            continue;
        };
        if by_name.contains_key(&name) {
            continue;
        }
        let leaf = u32::from_str_radix(entry.cpuid.leaf.trim_start_matches("0x"), 16)
            .expect("vendored CPUID leaf is hex");
        let reg = match entry.cpuid.reg.as_str() {
            "eax" => 0,
            "ebx" => 1,
            "ecx" => 2,
            _ => 3,
        };
        let visible = entry.linux.is_some() || LINUX_DERIVED.contains(&name.as_str());
        for spelling in [&entry.qemu, &entry.libvirt].into_iter().flatten() {
            alias
                .entry(spelling.to_ascii_lowercase())
                .or_insert_with(|| name.clone());
        }
        by_name.insert(name.clone(), features.len());
        features.push(Feature {
            name,
            visible_in_linux: visible,
            qemu: entry.qemu,
            libvirt: entry.libvirt,
            cpuid: (leaf, entry.cpuid.subleaf, reg, entry.cpuid.bit),
        });
    }
    for (spelling, qemu) in map.qemu_aliases {
        if let Some(name) = alias.get(&qemu).cloned() {
            alias.entry(spelling).or_insert(name);
        }
    }
    for (spelling, name) in EXTRA_ALIASES {
        alias.insert((*spelling).to_owned(), (*name).to_owned());
    }
    Vocabulary {
        features,
        alias,
        by_name,
    }
}
