//! What one machine's CPU offers: architecture, vendor, canonical flags and the hints archspec
//! needs (ARM CPU part, POWER generation, RISC-V core name), plus what the capture lacked.

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

use crate::UnknownMachine;
use crate::names::vocabulary;

/// An instruction-set family, spelled as archspec spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Arch {
    /// 64-bit x86 (`x86_64`).
    X86_64,
    /// 64-bit Arm (`aarch64`).
    Aarch64,
    /// Little-endian 64-bit POWER (`ppc64le`).
    Ppc64le,
    /// Big-endian 64-bit POWER (`ppc64`).
    Ppc64,
    /// 64-bit RISC-V (`riscv64`).
    Riscv64,
}

impl Arch {
    /// archspec's name of the family root (`x86_64`, `aarch64`, …).
    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
            Arch::Ppc64le => "ppc64le",
            Arch::Ppc64 => "ppc64",
            Arch::Riscv64 => "riscv64",
        }
    }
}

impl std::str::FromStr for Arch {
    type Err = UnknownMachine;

    /// Reads a machine name as `uname -m` prints it: `x86_64`, `aarch64` (or macOS's `arm64`),
    /// `ppc64le`, `ppc64` or `riscv64`.
    ///
    /// ```
    /// use underhood_cpuflags::Arch;
    ///
    /// assert_eq!("ppc64".parse::<Arch>()?, Arch::Ppc64);
    /// assert!("sparc64".parse::<Arch>().is_err());
    /// # Ok::<(), underhood_cpuflags::UnknownMachine>(())
    /// ```
    fn from_str(machine: &str) -> Result<Arch, UnknownMachine> {
        match machine {
            "x86_64" => Ok(Arch::X86_64),
            "aarch64" | "arm64" => Ok(Arch::Aarch64),
            "ppc64le" => Ok(Arch::Ppc64le),
            "ppc64" => Ok(Arch::Ppc64),
            "riscv64" => Ok(Arch::Riscv64),
            _ => Err(UnknownMachine {
                machine: machine.to_owned(),
            }),
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a [`Cpu`] description came from; archspec decides Apple silicon by name under macOS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Source {
    /// A Linux `/proc/cpuinfo` text.
    Cpuinfo,
    /// A macOS `sysctl machdep.cpu` / `sysctl hw` dump.
    Sysctl,
    /// The CPUID instruction of the running x86-64 host.
    Cpuid,
}

/// Cores of one kind; more than one group means a heterogeneous (big.LITTLE, P/E) machine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CoreGroup {
    /// What tells the kind apart: the model name, or the ARM implementer and part.
    pub kind: String,
    /// How many logical CPUs are of this kind.
    pub count: usize,
}

/// Something a capture lacked or garbled; the result is still usable but partial.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "missing", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Missing {
    /// A line with no `key: value` shape (1-based line number).
    GarbledLine {
        /// Line number, from 1.
        line: usize,
    },
    /// The text stopped in the middle of this line, which was ignored.
    TruncatedLine {
        /// Line number, from 1.
        line: usize,
    },
    /// The text stops inside this line of the first processor block, which no complete block
    /// can stand in for: its whole words were kept and its last word, perhaps cut, ignored.
    TruncatedWord {
        /// Line number, from 1.
        line: usize,
    },
    /// No vendor was given; archspec's `generic` is assumed.
    Vendor,
    /// A processor block has no flag list (`flags`, `Features` or `isa`).
    Flags {
        /// The block's `processor` number, if it had one.
        processor: Option<u32>,
    },
    /// An aarch64 capture has no `CPU part`.
    CpuPart,
    /// A POWER capture names no generation (`POWER9`, …); generation 0 is assumed.
    Generation,
    /// A POWER `/proc/cpuinfo` reads the same big- and little-endian, and no machine was given
    /// ([`Cpu::from_cpuinfo_on`]): little-endian `ppc64le` is assumed.
    Endianness,
    /// The ARM implementer code is not in archspec's table.
    UnknownImplementer {
        /// The code as written (`0x41`).
        code: String,
    },
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Missing::GarbledLine { line } => write!(f, "line {line} is not `key: value`; skipped"),
            Missing::TruncatedLine { line } => write!(f, "line {line} was cut short; ignored"),
            Missing::TruncatedWord { line } => write!(
                f,
                "the text stops inside line {line}; its last word, perhaps cut, was ignored"
            ),
            Missing::Vendor => f.write_str("no vendor given; `generic` assumed"),
            Missing::Flags { processor: Some(n) } => write!(f, "processor {n} has no flag list"),
            Missing::Flags { processor: None } => f.write_str("no flag list"),
            Missing::CpuPart => f.write_str("no CPU part; the core is decided by its features"),
            Missing::Generation => f.write_str("no POWER generation; generic ppc64le assumed"),
            Missing::Endianness => f.write_str(
                "POWER /proc/cpuinfo does not state its endianness; little-endian ppc64le assumed",
            ),
            Missing::UnknownImplementer { code } => {
                write!(f, "CPU implementer {code} is unknown; `generic` assumed")
            }
        }
    }
}

/// One machine's CPU as the planner sees it.
///
/// Flags use Linux `/proc/cpuinfo` names (see [`canonical_flag`](crate::canonical_flag)); on
/// x86 they also include the CPUID-level names that QEMU and libvirt use for bits Linux only shows
/// as synthetic flags (`spec_ctrl`, `amd_ssbd`, `invtsc`, …).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cpu {
    /// The instruction-set family.
    pub arch: Arch,
    /// Where this description came from.
    pub source: Source,
    /// The vendor as archspec names it (`GenuineIntel`, `AuthenticAMD`, `ARM`, `Apple`, `IBM`,
    /// or `generic`).
    pub vendor: String,
    /// The marketing name, if the capture had one.
    pub model_name: Option<String>,
    /// Flags every core has, canonical names.
    pub flags: BTreeSet<String>,
    /// The aarch64 `CPU part` of the first core (`0xd0c`).
    pub cpu_part: Option<String>,
    /// The POWER generation (9 for POWER9).
    pub generation: Option<u32>,
    /// A core name archspec matches directly: RISC-V `uarch` (`u74mc`) or Apple chip (`m2`).
    pub core_name: Option<String>,
    /// Whether the CPU says it runs under a hypervisor.
    pub hypervisor: bool,
    /// The hypervisor's signature (`KVMKVMKVM`), if known.
    pub hypervisor_vendor: Option<String>,
    /// Logical CPUs grouped by kind.
    pub cores: Vec<CoreGroup>,
    /// What the capture lacked; empty for a complete one.
    pub missing: Vec<Missing>,
}

impl Cpu {
    /// Whether the cores are not all of one kind.
    pub fn is_heterogeneous(&self) -> bool {
        self.cores.len() > 1
    }
}

/// Adds the CPUID-level names QEMU and libvirt use for bits Linux reports as synthetic flags, and
/// the reverse, so that a `/proc/cpuinfo` capture and a CPUID read give the same set.
/// Speculation-control bits get the names of the CPU's own vendor.
pub(crate) fn derive_x86(vendor: &str, flags: &mut BTreeSet<String>) {
    let has = |name: &str| flags.contains(name);
    let mut add = Vec::new();
    if has("constant_tsc") && has("nonstop_tsc") {
        add.push("invtsc");
    }
    if has("invtsc") {
        add.extend(["constant_tsc", "nonstop_tsc"]);
    }
    if has("xsave") {
        // Linux shows `xsave` only once the kernel has enabled it, which is what OSXSAVE reports.
        add.push("osxsave");
    }
    if is_amd(vendor) {
        if has("stibp") {
            add.push("amd_stibp");
        }
        if has("amd_stibp") {
            add.push("stibp");
        }
        if has("ssbd") && !has("virt_ssbd") {
            add.push("amd_ssbd");
        }
        if has("amd_ssbd") || has("virt_ssbd") {
            add.push("ssbd");
        }
    } else {
        if has("ibrs") && has("ibpb") {
            add.push("spec_ctrl");
        }
        if has("spec_ctrl") {
            add.extend(["ibrs", "ibpb"]);
        }
    }
    flags.extend(add.into_iter().map(str::to_owned));
}

/// Whether the vendor uses AMD's names for speculation-control bits.
pub(crate) fn is_amd(vendor: &str) -> bool {
    vendor == "AuthenticAMD" || vendor == "HygonGenuine"
}

impl Cpu {
    /// The flags KVM can give a guest on this host: [`Cpu::flags`] plus the other vendor's names
    /// for the same speculation controls, which KVM offers whenever the host has the capability
    /// (`spec-ctrl` on AMD hosts with IBRS and IBPB, `amd-ssbd` and `amd-stibp` on Intel hosts).
    pub fn kvm_offers(&self) -> BTreeSet<String> {
        let mut offers = self.flags.clone();
        if self.arch == Arch::X86_64 {
            let has = |name: &str| self.flags.contains(name);
            let mut add = Vec::new();
            if has("ibrs") && has("ibpb") {
                add.push("spec_ctrl");
            }
            if has("stibp") {
                add.push("amd_stibp");
            }
            if has("ssbd") {
                add.push("amd_ssbd");
            }
            offers.extend(add.into_iter().map(str::to_owned));
        }
        offers
    }
}

/// Canonical x86 names for a whitespace-separated list in any spelling.
pub(crate) fn canonical_x86<'a>(words: impl Iterator<Item = &'a str>) -> BTreeSet<String> {
    let vocabulary = vocabulary();
    words
        .map(|word| match vocabulary.canonical(word) {
            Some(name) => name.to_owned(),
            None => word.to_ascii_lowercase(),
        })
        .collect()
}
