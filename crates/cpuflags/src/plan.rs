//! Fleet planning: the baseline of many hosts with the best named model and the flags to add, a
//! guest model checked against a host, and recommendations with reasons.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::Serialize;

use crate::cpu::is_amd;
use crate::models::{Catalog, CpuModel, find_model, libvirt_models, qemu_models};
use crate::names::vocabulary;
use crate::psabi::{Psabi, psabi};
use crate::{
    Arch, Cpu, GuestSpecError, Microarchitecture, PlanError, libvirt_flag, microarchitecture,
    qemu_flag,
};

/// What every host of a fleet offers, and the guest CPU that runs on all of them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Baseline {
    /// The hosts' family.
    pub arch: Arch,
    /// How many hosts.
    pub hosts: usize,
    /// The vendor, when all hosts share one.
    pub vendor: Option<String>,
    /// Flags KVM can give a guest on every host ([`Cpu::kvm_offers`]).
    pub flags: BTreeSet<String>,
    /// The psABI level of the common flags (x86 only).
    pub psabi: Option<Psabi>,
    /// What archspec would call a CPU with just the common flags.
    pub microarchitecture: Microarchitecture,
    /// The richest QEMU model whose features every host has (x86 only).
    pub qemu_model: Option<String>,
    /// The richest libvirt model whose features every host has (x86 only).
    pub libvirt_model: Option<String>,
    /// Richer QEMU models that almost fit, and the flags some host lacks for each.
    pub qemu_near_misses: Vec<NearMiss>,
    /// Richer libvirt models that almost fit, and the flags some host lacks for each.
    pub libvirt_near_misses: Vec<NearMiss>,
    /// Common flags to add on top of the QEMU model (canonical names, guest-safe only).
    pub qemu_extra: Vec<String>,
    /// Common flags to add on top of the libvirt model (canonical names, guest-safe only).
    pub libvirt_extra: Vec<String>,
    /// Common guest-safe flags that the chosen models lack but that QEMU has no name for, so they
    /// are left out of both the `-cpu` string and the libvirt element (canonical names, sorted).
    pub not_expressible: Vec<String>,
    /// Why the important flags are in or out.
    pub recommendations: Vec<Recommendation>,
}

/// A richer model than the chosen one, and why it does not fit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NearMiss {
    /// The model.
    pub model: String,
    /// Its flags that not every host has (canonical names).
    pub missing: Vec<String>,
}

/// What to do about one flag, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Recommendation {
    /// The canonical flag.
    pub flag: &'static str,
    /// What to do.
    pub action: Action,
    /// Why it matters.
    pub reason: &'static str,
}

/// What a [`Recommendation`] asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Every host has it and the guest lacks it: add it.
    Add,
    /// Remove it from the guest.
    Remove,
    /// Some host lacks it, so guests must do without; plan for that.
    Unavailable,
}

/// The fleet baseline of these hosts, like `virsh cpu-baseline` but explained.
///
/// ```
/// use underhood_cpuflags::{Cpu, baseline};
/// let a = Cpu::from_cpuinfo(include_str!("../testdata/cpuinfo/x86_64-haswell-e5-2680v3.txt"))?;
/// let b = Cpu::from_cpuinfo(include_str!("../testdata/cpuinfo/x86_64-cascadelake-gold-6248.txt"))?;
/// let plan = baseline(&[a, b])?;
/// assert_eq!(plan.qemu_model.as_deref(), Some("Haswell-v4"));
/// assert!(plan.qemu_cpu().unwrap().starts_with("Haswell-v4,"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn baseline(hosts: &[Cpu]) -> Result<Baseline, PlanError> {
    let first = hosts.first().ok_or(PlanError::NoHosts)?;
    if let Some((index, other)) = hosts.iter().enumerate().find(|(_, h)| h.arch != first.arch) {
        return Err(PlanError::MixedArchitectures {
            index,
            expected: first.arch,
            found: other.arch,
        });
    }
    let flags = common_flags(hosts);
    let vendor = hosts
        .iter()
        .all(|h| h.vendor == first.vendor)
        .then(|| first.vendor.clone());
    let mut common = first.clone();
    common.flags = flags.clone();
    common.vendor = vendor.clone().unwrap_or_else(|| "generic".to_owned());
    // A core name or part shared by every host still identifies the common core.
    common.core_name = first
        .core_name
        .clone()
        .filter(|n| hosts.iter().all(|h| h.core_name.as_ref() == Some(n)));
    common.cpu_part = first
        .cpu_part
        .clone()
        .filter(|p| hosts.iter().all(|h| h.cpu_part.as_ref() == Some(p)));
    common.generation = hosts.iter().map(|h| h.generation).min().flatten();
    let uarch = microarchitecture(&common);
    let mut plan = Baseline {
        arch: first.arch,
        hosts: hosts.len(),
        vendor: vendor.clone(),
        psabi: (first.arch == Arch::X86_64).then(|| psabi(&flags)),
        microarchitecture: uarch,
        qemu_model: None,
        libvirt_model: None,
        qemu_near_misses: Vec::new(),
        libvirt_near_misses: Vec::new(),
        qemu_extra: Vec::new(),
        libvirt_extra: Vec::new(),
        not_expressible: Vec::new(),
        recommendations: Vec::new(),
        flags,
    };
    if first.arch != Arch::X86_64 {
        return Ok(plan);
    }
    let best = |models: &'static [CpuModel]| best_model(models, &plan.flags, vendor.as_deref());
    plan.qemu_near_misses = near_misses(qemu_models(), &plan.flags, vendor.as_deref());
    plan.libvirt_near_misses = near_misses(libvirt_models(), &plan.flags, vendor.as_deref());
    let mut not_expressible = BTreeSet::new();
    if let Some(model) = best(qemu_models()) {
        let (extra, left_out) = extra_flags(&plan.flags, model, vendor.as_deref(), qemu_flag);
        plan.qemu_extra = extra;
        not_expressible.extend(left_out);
        plan.qemu_model = Some(model.name.clone());
        let guest: BTreeSet<String> = model
            .flags
            .iter()
            .chain(&plan.qemu_extra)
            .cloned()
            .collect();
        plan.recommendations =
            recommend(&guest, &plan.flags, vendor.as_deref().unwrap_or("generic"));
    }
    if let Some(model) = best(libvirt_models()) {
        let (extra, left_out) = extra_flags(&plan.flags, model, vendor.as_deref(), libvirt_flag);
        plan.libvirt_extra = extra;
        not_expressible.extend(left_out);
        plan.libvirt_model = Some(model.name.clone());
    }
    plan.not_expressible = not_expressible.into_iter().collect();
    for flag in IMPORTANT {
        if !plan.flags.contains(flag.0) && hosts.iter().any(|h| h.flags.contains(flag.0)) {
            plan.recommendations.push(Recommendation {
                flag: flag.0,
                action: Action::Unavailable,
                reason: flag.1,
            });
        }
    }
    Ok(plan)
}

impl Baseline {
    /// The QEMU `-cpu` argument: `Model,+flag,…` in QEMU's names; it parses back with
    /// [`GuestCpu::parse`] to the model plus [`Baseline::qemu_extra`].
    pub fn qemu_cpu(&self) -> Option<String> {
        let model = self.qemu_model.as_ref()?;
        Some(qemu_cpu_string(model, &self.qemu_extra, &[]))
    }

    /// The libvirt `<cpu>` element for a domain XML.
    pub fn libvirt_xml(&self) -> Option<String> {
        let model = self.libvirt_model.as_ref()?;
        Some(libvirt_xml(
            model,
            self.vendor.as_deref(),
            &self.libvirt_extra,
            &[],
        ))
    }
}

/// A guest CPU as written for QEMU or libvirt: a named model plus and minus flags.
///
/// Only flags QEMU can set ([`qemu_flag`] has a name for them) change the guest; a requested
/// flag QEMU has no name for (`hwp_notify`) is kept apart in [`GuestCpu::not_expressible`] and
/// never printed, so what [`GuestCpu::qemu_cpu`] prints parses back to the same guest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GuestCpu {
    /// The model.
    pub model: &'static CpuModel,
    /// Flags added (canonical, each with a QEMU name).
    pub added: BTreeSet<String>,
    /// Flags removed (canonical, each with a QEMU name).
    pub removed: BTreeSet<String>,
    /// Flags the spec named, added or removed, that QEMU and libvirt cannot set (canonical).
    pub not_expressible: BTreeSet<String>,
}

impl GuestCpu {
    /// Parses `Model[,+flag|,-flag|,flag=on|,flag=off…]` in QEMU, libvirt or Linux flag names.
    ///
    /// A known flag that QEMU cannot set goes to [`GuestCpu::not_expressible`] rather than
    /// failing: the caller can say so.
    ///
    /// ```
    /// use underhood_cpuflags::GuestCpu;
    /// let guest = GuestCpu::parse("Westmere,+pcid,-aes,+hwp_notify")?;
    /// assert_eq!(guest.model.name, "Westmere");
    /// assert!(guest.flags().contains("pcid") && !guest.flags().contains("aes"));
    /// assert!(guest.not_expressible.contains("hwp_notify"));
    /// assert_eq!(guest.qemu_cpu(), "Westmere,+pcid,-aes");
    /// # Ok::<(), underhood_cpuflags::GuestSpecError>(())
    /// ```
    pub fn parse(spec: &str) -> Result<GuestCpu, GuestSpecError> {
        let mut items = spec.split(',').map(str::trim);
        let name = items
            .next()
            .filter(|n| !n.is_empty())
            .ok_or(GuestSpecError::Empty)?;
        let model = find_model(name).ok_or_else(|| GuestSpecError::UnknownModel {
            name: name.to_owned(),
        })?;
        let mut guest = GuestCpu {
            model,
            added: BTreeSet::new(),
            removed: BTreeSet::new(),
            not_expressible: BTreeSet::new(),
        };
        for item in items.filter(|i| !i.is_empty()) {
            let (flag, on) = if let Some(flag) = item.strip_prefix('+') {
                (flag, true)
            } else if let Some(flag) = item.strip_prefix('-') {
                (flag, false)
            } else if let Some((flag, value)) = item.split_once('=') {
                match value {
                    "on" | "true" => (flag, true),
                    "off" | "false" => (flag, false),
                    _ => {
                        return Err(GuestSpecError::BadItem {
                            item: item.to_owned(),
                        });
                    }
                }
            } else {
                return Err(GuestSpecError::BadItem {
                    item: item.to_owned(),
                });
            };
            let canonical = vocabulary()
                .canonical(flag)
                .ok_or_else(|| GuestSpecError::UnknownFlag {
                    name: flag.to_owned(),
                })?
                .to_owned();
            if qemu_flag(&canonical).is_none() {
                guest.not_expressible.insert(canonical);
            } else if on {
                guest.removed.remove(&canonical);
                guest.added.insert(canonical);
            } else {
                guest.added.remove(&canonical);
                guest.removed.insert(canonical);
            }
        }
        Ok(guest)
    }

    /// The flags the guest sees: the model's, plus added, minus removed.
    pub fn flags(&self) -> BTreeSet<String> {
        self.model
            .flags
            .iter()
            .chain(&self.added)
            .filter(|f| !self.removed.contains(*f))
            .cloned()
            .collect()
    }

    /// The QEMU `-cpu` argument for this guest, in QEMU's flag names; [`GuestCpu::parse`] reads
    /// it back to the same model, added and removed flags.
    pub fn qemu_cpu(&self) -> String {
        let added: Vec<String> = self.added.iter().cloned().collect();
        let removed: Vec<String> = self.removed.iter().cloned().collect();
        qemu_cpu_string(&self.model.name, &added, &removed)
    }

    /// The libvirt `<cpu>` element for this guest.
    ///
    /// libvirt has no versioned names: a QEMU `Model-vN` is written as the unversioned name that
    /// stands for it (`Haswell-v1` as `Haswell`), or kept as is when there is none.
    pub fn libvirt_xml(&self) -> String {
        let added: Vec<String> = self.added.iter().cloned().collect();
        let removed: Vec<String> = self.removed.iter().cloned().collect();
        let name = qemu_models()
            .iter()
            .find(|m| m.alias_of.as_deref() == Some(self.model.name.as_str()))
            .map_or(self.model.name.as_str(), |m| m.name.as_str());
        libvirt_xml(name, self.model.vendor.as_deref(), &added, &removed)
    }
}

/// A guest CPU checked against one host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Comparison {
    /// The guest spec, normalised: `Model,+flag,-flag` in QEMU names.
    pub guest: String,
    /// Flags the guest needs that the host lacks: the guest cannot start or migrate there.
    pub missing: Vec<String>,
    /// Model features no `/proc/cpuinfo` can confirm (MSR bits), in the tool's names.
    pub unverifiable: Vec<String>,
    /// Flags the guest spec named that QEMU and libvirt cannot set, left out of
    /// [`Comparison::guest`] ([`GuestCpu::not_expressible`]).
    pub not_expressible: Vec<String>,
    /// Whether the guest's vendor (if the model fixes one) is the host's.
    pub vendor_matches: bool,
    /// True when nothing is missing, the vendor matches, and the guest does not pin the host's TSC
    /// (`invtsc`).
    pub migration_safe: bool,
    /// The guest's psABI level.
    pub guest_psabi: Psabi,
    /// The host's psABI level.
    pub host_psabi: Psabi,
    /// What to add or remove, and why.
    pub recommendations: Vec<Recommendation>,
}

/// Checks a guest CPU against a host: what is missing for the guest to run or migrate there,
/// and which host flags the guest should have.
///
/// ```
/// use underhood_cpuflags::{Cpu, GuestCpu, compare};
/// let host = Cpu::from_cpuinfo(include_str!("../testdata/cpuinfo/x86_64-haswell-e5-2680v3.txt"))?;
/// let result = compare(&GuestCpu::parse("Westmere")?, &host)?;
/// assert!(result.migration_safe);
/// assert!(result.recommendations.iter().any(|r| r.flag == "pcid"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn compare(guest: &GuestCpu, host: &Cpu) -> Result<Comparison, PlanError> {
    if host.arch != Arch::X86_64 {
        return Err(PlanError::NotX86 { arch: host.arch });
    }
    let flags = guest.flags();
    let offers = host.kvm_offers();
    let missing: Vec<String> = flags
        .iter()
        .filter(|f| !offers.contains(*f))
        .cloned()
        .collect();
    let vendor_matches = guest
        .model
        .vendor
        .as_ref()
        .is_none_or(|v| *v == host.vendor);
    let pins_tsc = flags.contains("invtsc");
    Ok(Comparison {
        guest: guest.qemu_cpu(),
        migration_safe: missing.is_empty() && !pins_tsc && vendor_matches,
        unverifiable: guest.model.unverifiable.clone(),
        not_expressible: guest.not_expressible.iter().cloned().collect(),
        vendor_matches,
        guest_psabi: psabi(&flags),
        host_psabi: psabi(&host.flags),
        recommendations: recommend(&flags, &offers, &host.vendor),
        missing,
    })
}

/// Flags that matter most to a guest, with why (canonical names).
const IMPORTANT: &[(&str, &str)] = &[
    (
        "pcid",
        "without PCID the guest's KPTI (Meltdown mitigation) flushes the whole TLB on every system call and interrupt; syscall-heavy services lose 5-30%",
    ),
    (
        "invpcid",
        "INVPCID lets a KPTI kernel flush one address space instead of the whole TLB; it completes pcid",
    ),
    (
        "aes",
        "AES-NI: TLS, disk and VPN encryption run several times faster",
    ),
    (
        "pclmulqdq",
        "carry-less multiply: AES-GCM and CRC checksums need it to be fast",
    ),
    (
        "avx2",
        "AVX2: compression, hashing, JSON parsing and memcpy use 256-bit vectors; x86-64-v3 distributions (RHEL 10) do not boot without it",
    ),
    (
        "avx512f",
        "AVX-512: vectorised crypto, compression and numeric code (x86-64-v4)",
    ),
    (
        "x2apic",
        "x2APIC: interrupts and IPIs through MSRs instead of trapped MMIO, and more than 255 vCPUs",
    ),
    (
        "tsc_deadline_timer",
        "TSC-deadline timer: one-shot timers with fewer VM exits",
    ),
    (
        "pdpe1gb",
        "1 GiB pages: databases and JVMs with huge pages need fewer TLB entries",
    ),
    (
        "spec_ctrl",
        "spec-ctrl (IBRS/IBPB): the guest can mitigate Spectre v2 itself instead of reporting itself vulnerable",
    ),
    (
        "ssbd",
        "SSBD: the guest can mitigate Speculative Store Bypass (Spectre v4)",
    ),
    (
        "amd_ssbd",
        "AMD SSBD: the guest can mitigate Speculative Store Bypass (Spectre v4)",
    ),
    (
        "md_clear",
        "MD_CLEAR: the guest can flush CPU buffers against MDS/TAA; without it the guest stays exposed",
    ),
    (
        "arch_capabilities",
        "arch-capabilities tells the guest which attacks the CPU is immune to, so it skips costly needless mitigations",
    ),
];

/// Why `invtsc` comes out.
const INVTSC: &str = "invtsc (invariant TSC) blocks live migration unless tsc-frequency is set and every host runs the same TSC rate";

/// Flags no guest should get from a baseline: host-only, nested-virtualisation, or migration
/// blockers. Each still shows in the common flags.
const NOT_FOR_GUESTS: &[&str] = &[
    "hypervisor",
    "invtsc",
    "osxsave",
    "vmx",
    "svm",
    "smx",
    "monitor",
    "dts",
    "acpi",
    "ht",
    "tm",
    "tm2",
    "pbe",
    "est",
    "ds_cpl",
    "xtpr",
    "pdcm",
    "dtes64",
    "dca",
    "intel_pt",
    "pcommit",
    "npt",
    "lbrv",
    "svm_lock",
    "nrip_save",
    "tsc_scale",
    "vmcb_clean",
    "flushbyasid",
    "decodeassists",
    "pausefilter",
    "pfthreshold",
    "avic",
    "v_vmsave_vmload",
    "vgif",
    "perfctr_core",
    "perfctr_nb",
    "ibs",
    "skinit",
    "wdt",
    "cqm",
    "mpx",
    "sgx",
    "pconfig",
    "tme",
    "waitpkg",
    "sgx_lc",
];

/// What KVM can give a guest on every host.
fn common_flags(hosts: &[Cpu]) -> BTreeSet<String> {
    let mut iter = hosts.iter();
    let mut common = iter.next().map(Cpu::kvm_offers).unwrap_or_default();
    for host in iter {
        let offers = host.kvm_offers();
        common.retain(|f| offers.contains(f));
    }
    common
}

/// Whether a model's vendor suits the fleet's (`None`: mixed vendors).
fn vendor_fits(model: &CpuModel, vendor: Option<&str>) -> bool {
    match (model.vendor.as_deref(), vendor) {
        (None, _) => true,
        (Some(model_vendor), Some(fleet)) => model_vendor == fleet,
        // A fleet of mixed vendors gets QEMU's generic models, which only carry a default
        // vendor string (`kvm64` says Intel, `qemu64` says AMD) and run on both.
        (Some(_), None) => GENERIC_QEMU.contains(&model.name.split("-v").next().unwrap_or("")),
    }
}

/// Up to three models richer than the best fitting one, fewest missing flags first.
fn near_misses(
    models: &'static [CpuModel],
    flags: &BTreeSet<String>,
    vendor: Option<&str>,
) -> Vec<NearMiss> {
    let key = |m: &CpuModel| (m.psabi_level, m.flags.len());
    let floor = best_model(models, flags, vendor).map(key);
    let mut misses: Vec<(usize, &CpuModel)> = models
        .iter()
        .filter(|m| m.alias_of.is_none() && vendor_fits(m, vendor) && Some(key(m)) > floor)
        .map(|m| (m.flags.difference(flags).count(), m))
        .filter(|(missing, _)| *missing > 0)
        .collect();
    misses.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(key(b.1).cmp(&key(a.1)))
            .then(a.1.name.cmp(&b.1.name))
    });
    misses
        .into_iter()
        .take(3)
        .map(|(_, m)| NearMiss {
            model: m.name.clone(),
            missing: m.flags.difference(flags).cloned().collect(),
        })
        .collect()
}

/// QEMU's vendor-neutral models.
const GENERIC_QEMU: &[&str] = &["qemu64", "kvm64", "qemu32", "kvm32"];

/// The model with the highest psABI level, then the most flags, whose flags are all common.
fn best_model(
    models: &'static [CpuModel],
    flags: &BTreeSet<String>,
    vendor: Option<&str>,
) -> Option<&'static CpuModel> {
    let mut best: Option<&'static CpuModel> = None;
    for model in models {
        let vendor_ok = vendor_fits(model, vendor);
        if model.alias_of.is_some() || !vendor_ok || !model.flags.is_subset(flags) {
            continue;
        }
        let key = |m: &CpuModel| (m.psabi_level, m.flags.len());
        if best.is_none_or(|b| key(model) > key(b)) {
            best = Some(model);
        }
    }
    best
}

/// The common guest-safe flags to add on top of `model`, and those left out because QEMU (whose
/// names libvirt passes on) or the tool itself has no name for them.
fn extra_flags(
    common: &BTreeSet<String>,
    model: &CpuModel,
    vendor: Option<&str>,
    name_in: fn(&str) -> Option<&'static str>,
) -> (Vec<String>, Vec<String>) {
    // Each vendor's guest kernel reads its own speculation-control bits; the twins Linux derives
    // for the other vendor carry the same capability and would only clutter the list.
    let other_vendor: &[&str] = match vendor.or(model.vendor.as_deref()) {
        Some("AuthenticAMD" | "HygonGenuine") => &["spec_ctrl", "stibp", "ssbd"],
        _ => &[
            "ibpb",
            "ibrs",
            "amd_stibp",
            "amd_ssbd",
            "virt_ssbd",
            "amd_no_ssb",
        ],
    };
    common
        .iter()
        .filter(|f| !model.flags.contains(*f) && !NOT_FOR_GUESTS.contains(&f.as_str()))
        .filter(|f| !other_vendor.contains(&f.as_str()))
        .filter(|f| {
            vocabulary()
                .feature(f)
                .is_some_and(|known| known.visible_in_linux)
        })
        .cloned()
        .partition(|f| qemu_flag(f).is_some() && name_in(f).is_some())
}

fn recommend(
    guest: &BTreeSet<String>,
    host: &BTreeSet<String>,
    vendor: &str,
) -> Vec<Recommendation> {
    let amd = is_amd(vendor);
    let mut out: Vec<Recommendation> = IMPORTANT
        .iter()
        .filter(|(flag, _)| match *flag {
            "spec_ctrl" | "ssbd" => !amd,
            "amd_ssbd" => amd,
            _ => true,
        })
        .filter(|(flag, _)| host.contains(*flag) && !guest.contains(*flag))
        .map(|&(flag, reason)| Recommendation {
            flag,
            action: Action::Add,
            reason,
        })
        .collect();
    if guest.contains("invtsc") {
        out.push(Recommendation {
            flag: "invtsc",
            action: Action::Remove,
            reason: INVTSC,
        });
    }
    out
}

/// `Model,+flag,-flag` in QEMU's names; a flag QEMU has no name for is left out, never
/// spelled by guesswork (the callers report such flags as not expressible).
fn qemu_cpu_string(model: &str, added: &[String], removed: &[String]) -> String {
    let mut out = model.to_owned();
    for name in added.iter().filter_map(|f| qemu_flag(f)) {
        let _ = write!(out, ",+{name}");
    }
    for name in removed.iter().filter_map(|f| qemu_flag(f)) {
        let _ = write!(out, ",-{name}");
    }
    out
}

fn libvirt_xml(model: &str, vendor: Option<&str>, added: &[String], removed: &[String]) -> String {
    let mut out = String::from("<cpu mode='custom' match='exact' check='partial'>\n");
    let _ = writeln!(out, "  <model fallback='forbid'>{model}</model>");
    let vendor = match vendor {
        Some("GenuineIntel") => Some("Intel"),
        Some("AuthenticAMD") => Some("AMD"),
        Some("HygonGenuine") => Some("Hygon"),
        _ => None,
    };
    if let Some(vendor) = vendor {
        let _ = writeln!(out, "  <vendor>{vendor}</vendor>");
    }
    // Like the `-cpu` string: only flags QEMU can set (libvirt hands them to QEMU), in
    // libvirt's names; nothing is spelled by guesswork.
    let name = |f: &String| qemu_flag(f).and_then(|_| libvirt_flag(f));
    for name in added.iter().filter_map(name) {
        let _ = writeln!(out, "  <feature policy='require' name='{name}'/>");
    }
    for name in removed.iter().filter_map(name) {
        let _ = writeln!(out, "  <feature policy='disable' name='{name}'/>");
    }
    out.push_str("</cpu>");
    out
}

impl Catalog {
    /// The tool's name.
    pub fn name(self) -> &'static str {
        match self {
            Catalog::Qemu => "qemu",
            Catalog::Libvirt => "libvirt",
        }
    }
}
