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
    /// Every accepted spelling, as [`spelling_key`] makes it, to the index of its feature.
    spellings: BTreeMap<String, usize>,
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
    /// The canonical (Linux) name of an x86 feature name, or `None` if unknown.
    ///
    /// Accepted are exactly the names the vendored map gives a feature (Linux, QEMU, libvirt),
    /// QEMU's own aliases and the compiler, macOS and SDM spellings of `EXTRA_ALIASES`, in any
    /// letter case and with `_` and `-` interchangeable; nothing else (no trimming, no prefixes).
    pub(crate) fn canonical(&self, name: &str) -> Option<&str> {
        // Linux names, the common case, need no allocation.
        if let Some(&idx) = self.by_name.get(name) {
            return Some(&self.features[idx].name);
        }
        let idx = *self.spellings.get(&spelling_key(name))?;
        Some(&self.features[idx].name)
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
    match vocabulary().canonical(name.trim()) {
        Some(canonical) => canonical.to_owned(),
        None => name.trim().to_ascii_lowercase(),
    }
}

/// QEMU's name for a canonical x86 flag (`sse4_1` → `sse4.1`), if QEMU can set it.
///
/// A flag without a QEMU name (`hwp_notify`, `constant_tsc`) is never written into a `-cpu`
/// string or a libvirt `<cpu>` element: the planners list it as not expressible instead.
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

/// The key under which a spelling is looked up: lower case, `-` as `_`.
fn spelling_key(name: &str) -> String {
    name.to_ascii_lowercase().replace('-', "_")
}

fn build() -> Vocabulary {
    // The vendored file is checked by the tests; a broken copy is a build defect, not input.
    let map: NameMap = serde_json::from_str(include_str!("../data/name_map.json"))
        .expect("vendored name_map.json parses");
    let mut features: Vec<Feature> = Vec::new();
    let mut by_name = BTreeMap::new();
    let mut spellings = BTreeMap::new();
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
        let idx = features.len();
        for spelling in [Some(&name), entry.qemu.as_ref(), entry.libvirt.as_ref()]
            .into_iter()
            .flatten()
        {
            spellings.entry(spelling_key(spelling)).or_insert(idx);
        }
        by_name.insert(name.clone(), idx);
        features.push(Feature {
            name,
            visible_in_linux: visible,
            qemu: entry.qemu,
            libvirt: entry.libvirt,
            cpuid: (leaf, entry.cpuid.subleaf, reg, entry.cpuid.bit),
        });
    }
    for (spelling, qemu) in map.qemu_aliases {
        if let Some(&idx) = spellings.get(&spelling_key(&qemu)) {
            spellings.entry(spelling_key(&spelling)).or_insert(idx);
        }
    }
    for (spelling, name) in EXTRA_ALIASES {
        // A build defect, not input: `every_extra_alias_names_a_feature` checks each target.
        let idx = *by_name
            .get(*name)
            .expect("EXTRA_ALIASES name vendored features");
        spellings.insert(spelling_key(spelling), idx);
    }
    Vocabulary {
        features,
        spellings,
        by_name,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;
    use serde_json::Value;

    use super::*;

    /// The raw name map, read apart from [`build`].
    fn raw() -> Value {
        serde_json::from_str(include_str!("../data/name_map.json")).unwrap()
    }

    /// Every name the map, QEMU's alias list and `EXTRA_ALIASES` give, lower-cased with `-` as `_`.
    fn known_keys() -> &'static BTreeSet<String> {
        static KEYS: OnceLock<BTreeSet<String>> = OnceLock::new();
        KEYS.get_or_init(known_keys_uncached)
    }

    fn known_keys_uncached() -> BTreeSet<String> {
        let raw = raw();
        let mut keys = BTreeSet::new();
        for entry in raw["all_cpuid_features"].as_array().unwrap() {
            for tool in ["linux", "qemu", "libvirt"] {
                if let Some(name) = entry[tool].as_str() {
                    keys.insert(name.to_ascii_lowercase().replace('-', "_"));
                }
            }
        }
        // QEMU's aliases of flags the map knows (its KVM paravirtual `kvm_*` aliases name
        // features outside the CPUID map, which this vocabulary does not cover).
        let mapped = keys.clone();
        for (spelling, qemu) in raw["qemu_aliases"].as_object().unwrap() {
            let target = qemu
                .as_str()
                .unwrap()
                .to_ascii_lowercase()
                .replace('-', "_");
            if mapped.contains(&target) {
                keys.insert(spelling.to_ascii_lowercase().replace('-', "_"));
            }
        }
        for (spelling, _) in EXTRA_ALIASES {
            keys.insert(spelling.to_ascii_lowercase().replace('-', "_"));
        }
        keys
    }

    #[test]
    fn every_extra_alias_names_a_feature() {
        for (spelling, name) in EXTRA_ALIASES {
            assert_eq!(vocabulary().canonical(spelling), Some(*name), "{spelling}");
        }
    }

    #[test]
    fn every_name_of_the_map_is_accepted_with_underscores_or_dashes() {
        let raw = raw();
        for entry in raw["all_cpuid_features"].as_array().unwrap() {
            let names: Vec<&str> = ["linux", "qemu", "libvirt"]
                .iter()
                .filter_map(|tool| entry[*tool].as_str())
                .collect();
            let Some(first) = names.first() else {
                continue;
            };
            let canonical = vocabulary().canonical(first).map(str::to_owned);
            assert!(canonical.is_some(), "{entry}");
            if let Some(linux) = entry["linux"].as_str() {
                assert_eq!(canonical.as_deref(), Some(linux), "{entry}");
            }
            for name in names {
                for spelling in [
                    name.to_owned(),
                    name.replace('_', "-"),
                    name.replace('-', "_"),
                    name.to_ascii_uppercase(),
                ] {
                    assert_eq!(
                        vocabulary().canonical(&spelling).map(str::to_owned),
                        canonical,
                        "{spelling} of {entry}"
                    );
                }
            }
        }
        for (spelling, qemu) in raw["qemu_aliases"].as_object().unwrap() {
            assert_eq!(
                vocabulary().canonical(spelling),
                vocabulary().canonical(qemu.as_str().unwrap()),
                "{spelling}"
            );
        }
    }

    #[test]
    fn the_fuzz_crash_spelling_is_accepted() {
        // `hwp_notify` has no QEMU name; the old printer wrote `hwp-notify`, which did not parse.
        assert_eq!(vocabulary().canonical("hwp-notify"), Some("hwp_notify"));
        assert_eq!(vocabulary().canonical("hwp_notify"), Some("hwp_notify"));
        assert_eq!(vocabulary().canonical(" pcid"), None);
        assert_eq!(vocabulary().canonical("pcid "), None);
        assert_eq!(vocabulary().canonical(""), None);
    }

    /// A known name with one character changed, added or removed, or any short text.
    fn spelling() -> impl Strategy<Value = String> {
        let known: Vec<String> = known_keys().iter().cloned().collect();
        prop_oneof![
            "[a-zA-Z0-9_.-]{0,16}",
            (prop::sample::select(known.clone()), any::<bool>()).prop_map(|(name, upper)| {
                if upper {
                    name.to_ascii_uppercase().replace('_', "-")
                } else {
                    name
                }
            }),
            (
                prop::sample::select(known),
                any::<prop::sample::Index>(),
                "[a-z0-9_.-]",
                0u8..3
            )
                .prop_map(|(name, at, with, how)| {
                    let mut chars: Vec<char> = name.chars().collect();
                    let at = at.index(chars.len() + 1);
                    let with = with.chars().next().unwrap_or('x');
                    match how {
                        0 => chars.insert(at, with),
                        1 if at < chars.len() => chars[at] = with,
                        _ if at < chars.len() => {
                            chars.remove(at);
                        }
                        _ => chars.push(with),
                    }
                    chars.into_iter().collect()
                }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

        #[test]
        fn canonical_accepts_known_names_and_nothing_else(name in spelling()) {
            let key = name.to_ascii_lowercase().replace('-', "_");
            let known = known_keys().contains(&key);
            prop_assert_eq!(vocabulary().canonical(&name).is_some(), known, "{:?}", name);
        }
    }
}
