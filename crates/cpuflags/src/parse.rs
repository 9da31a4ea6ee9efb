//! Parsers for captured text: Linux `/proc/cpuinfo` (x86_64, aarch64, ppc64le, riscv64) and macOS
//! `sysctl machdep.cpu` / `sysctl hw` dumps. Hostile input gives an error or a partial [`Cpu`].

use std::collections::{BTreeMap, BTreeSet};

use crate::archspec;
use crate::cpu::{canonical_x86, derive_x86};
use crate::{Arch, CoreGroup, Cpu, Missing, ParseError, Source};

/// Keys in one `processor` block, in order, plus where the block starts.
struct Block<'a> {
    pairs: Vec<(&'a str, &'a str)>,
}

impl<'a> Block<'a> {
    fn get(&self, key: &str) -> Option<&'a str> {
        self.pairs.iter().find(|(k, _)| *k == key).map(|&(_, v)| v)
    }
}

impl Cpu {
    /// Parses either capture format: a macOS `sysctl` dump when a line starts with `machdep.` or
    /// `hw.`, else a Linux `/proc/cpuinfo` text.
    ///
    /// ```
    /// let cpu = underhood_cpuflags::Cpu::from_capture("hw.machine: arm64\nmachdep.cpu.brand_string: Apple M1\n")?;
    /// assert_eq!(cpu.source, underhood_cpuflags::Source::Sysctl);
    /// # Ok::<(), underhood_cpuflags::ParseError>(())
    /// ```
    pub fn from_capture(text: &str) -> Result<Cpu, ParseError> {
        let sysctl = text.lines().any(|line| {
            let line = line.trim_start();
            line.starts_with("machdep.") || line.starts_with("hw.")
        });
        if sysctl {
            Cpu::from_sysctl(text)
        } else {
            Cpu::from_cpuinfo(text)
        }
    }

    /// Parses a Linux `/proc/cpuinfo` text of any number of processors.
    ///
    /// Flags are those every processor block lists; classification uses the first block, as
    /// archspec does. Big-endian and little-endian POWER print the same text, so POWER captures
    /// are taken as `ppc64le`, and [`Cpu::missing`] says so ([`Missing::Endianness`]); use
    /// [`Cpu::from_cpuinfo_on`] when the machine is known.
    ///
    /// ```
    /// let text = "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu sse sse2 lm\n\n";
    /// let cpu = underhood_cpuflags::Cpu::from_cpuinfo(text)?;
    /// assert_eq!(cpu.arch, underhood_cpuflags::Arch::X86_64);
    /// assert!(cpu.flags.contains("sse2"));
    /// # Ok::<(), underhood_cpuflags::ParseError>(())
    /// ```
    pub fn from_cpuinfo(text: &str) -> Result<Cpu, ParseError> {
        let mut cpu = Cpu::parse_cpuinfo(text)?;
        if cpu.arch == Arch::Ppc64le {
            cpu.missing.push(Missing::Endianness);
        }
        Ok(cpu)
    }

    /// Parses a Linux `/proc/cpuinfo` text of a `machine` (as `uname -m` names it), for what the
    /// text does not state: whether POWER is big-endian (`ppc64`) or little-endian (`ppc64le`).
    /// A capture of another architecture than `machine` is refused.
    ///
    /// ```
    /// use underhood_cpuflags::{Arch, Cpu, Missing, ParseError};
    ///
    /// let text = "processor\t: 0\ncpu\t\t: POWER9 (raw), altivec supported\n\n";
    /// let cpu = Cpu::from_cpuinfo_on(text, Arch::Ppc64)?;
    /// assert_eq!(cpu.arch, Arch::Ppc64);
    /// assert!(!cpu.missing.contains(&Missing::Endianness));
    /// // Without the machine, the assumption is stated.
    /// assert!(Cpu::from_cpuinfo(text)?.missing.contains(&Missing::Endianness));
    /// assert!(matches!(
    ///     Cpu::from_cpuinfo_on(text, Arch::X86_64),
    ///     Err(ParseError::MachineMismatch { machine: Arch::X86_64, capture: Arch::Ppc64le })
    /// ));
    /// # Ok::<(), ParseError>(())
    /// ```
    pub fn from_cpuinfo_on(text: &str, machine: Arch) -> Result<Cpu, ParseError> {
        let mut cpu = Cpu::parse_cpuinfo(text)?;
        let power = |arch| matches!(arch, Arch::Ppc64le | Arch::Ppc64);
        if cpu.arch != machine && !(power(cpu.arch) && power(machine)) {
            return Err(ParseError::MachineMismatch {
                machine,
                capture: cpu.arch,
            });
        }
        cpu.arch = machine;
        Ok(cpu)
    }

    fn parse_cpuinfo<'a>(text: &'a str) -> Result<Cpu, ParseError> {
        if text.trim().is_empty() {
            return Err(ParseError::Empty);
        }
        let mut missing = Vec::new();
        let lines = complete_lines(text, &mut missing);
        let mut processors: Vec<Block<'_>> = Vec::new();
        let mut global: Vec<(&str, &str)> = Vec::new();
        let mut current: Vec<(&str, &str)> = Vec::new();
        for (number, line) in lines {
            if line.trim().is_empty() {
                flush(&mut current, &mut processors, &mut global);
                continue;
            }
            let Some((key, value)) = line.split_once(':') else {
                missing.push(Missing::GarbledLine { line: number });
                continue;
            };
            let key = key.trim();
            // A second `processor` key without a blank line starts a new block all the same.
            if key == "processor" && current.iter().any(|(k, _)| *k == "processor") {
                flush(&mut current, &mut processors, &mut global);
            }
            current.push((key, value.trim()));
        }
        flush(&mut current, &mut processors, &mut global);
        let global = Block { pairs: global };
        let arch = cpuinfo_arch(&processors, &global)?;
        if processors.is_empty() {
            return Err(ParseError::NoProcessor);
        }
        // Shared lines are looked up once per processor block: index them (first one wins).
        let mut shared: BTreeMap<&str, &str> = BTreeMap::new();
        for &(key, value) in global.pairs.iter().rev() {
            shared.insert(key, value);
        }
        let lookup =
            |block: &Block<'a>, key: &str| block.get(key).or_else(|| shared.get(key).copied());
        let mut cpu = Cpu {
            arch,
            source: Source::Cpuinfo,
            vendor: "generic".to_owned(),
            model_name: None,
            flags: BTreeSet::new(),
            cpu_part: None,
            generation: None,
            core_name: None,
            hypervisor: false,
            hypervisor_vendor: None,
            cores: Vec::new(),
            missing,
        };
        let first = &processors[0];
        let flags_key = match arch {
            Arch::X86_64 => "flags",
            Arch::Aarch64 => "Features",
            Arch::Riscv64 => "isa",
            Arch::Ppc64le | Arch::Ppc64 => "cpu",
        };
        // Flags every block lists; blocks without a list (cut short) do not veto.
        let mut common: Option<BTreeSet<String>> = None;
        let mut previous: Option<&str> = None;
        for block in &processors {
            let Some(list) = lookup(block, flags_key) else {
                let processor = block.get("processor").and_then(|p| p.parse().ok());
                cpu.missing.push(Missing::Flags { processor });
                continue;
            };
            // Most machines repeat one list for every CPU: it changes nothing the second time.
            if previous == Some(list) {
                continue;
            }
            previous = Some(list);
            let flags = match arch {
                Arch::X86_64 => canonical_x86(list.split_whitespace()),
                Arch::Aarch64 => list
                    .split_whitespace()
                    .map(str::to_ascii_lowercase)
                    .collect(),
                Arch::Riscv64 => riscv_extensions(list),
                Arch::Ppc64le | Arch::Ppc64 => power_flags(list),
            };
            common = Some(match common {
                None => flags,
                Some(so_far) => so_far.intersection(&flags).cloned().collect(),
            });
        }
        cpu.flags = common.unwrap_or_default();
        let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
        let mut kind_order: Vec<String> = Vec::new();
        for block in &processors {
            let kind = match arch {
                Arch::X86_64 => lookup(block, "model name").unwrap_or("unknown").to_owned(),
                Arch::Aarch64 => {
                    let implementer = lookup(block, "CPU implementer").unwrap_or("?");
                    let part = lookup(block, "CPU part").unwrap_or("?");
                    let vendor = archspec::arm_vendor(implementer).unwrap_or(implementer);
                    match archspec::name_of_part(vendor, part) {
                        Some(name) => format!("{vendor} {part} ({name})"),
                        None => format!("{vendor} {part}"),
                    }
                }
                Arch::Ppc64le | Arch::Ppc64 => lookup(block, "cpu").unwrap_or("unknown").to_owned(),
                Arch::Riscv64 => lookup(block, "uarch")
                    .or_else(|| lookup(block, "model name"))
                    .unwrap_or("unknown")
                    .to_owned(),
            };
            if !kinds.contains_key(&kind) {
                kind_order.push(kind.clone());
            }
            *kinds.entry(kind).or_default() += 1;
        }
        cpu.cores = kind_order
            .into_iter()
            .map(|kind| {
                let count = kinds[&kind];
                CoreGroup { kind, count }
            })
            .collect();
        match arch {
            Arch::X86_64 => {
                match lookup(first, "vendor_id") {
                    Some(vendor) if !vendor.is_empty() => vendor.clone_into(&mut cpu.vendor),
                    _ => cpu.missing.push(Missing::Vendor),
                }
                cpu.model_name = lookup(first, "model name").map(str::to_owned);
                derive_x86(&cpu.vendor, &mut cpu.flags);
                cpu.hypervisor = cpu.flags.contains("hypervisor");
            }
            Arch::Aarch64 => {
                match lookup(first, "CPU implementer") {
                    Some(code) => match archspec::arm_vendor(code) {
                        Some(vendor) => vendor.clone_into(&mut cpu.vendor),
                        None => cpu.missing.push(Missing::UnknownImplementer {
                            code: code.to_owned(),
                        }),
                    },
                    None => cpu.missing.push(Missing::Vendor),
                }
                match lookup(first, "CPU part") {
                    Some(part) => cpu.cpu_part = Some(part.to_ascii_lowercase()),
                    None => cpu.missing.push(Missing::CpuPart),
                }
                cpu.model_name = lookup(first, "model name").map(str::to_owned);
            }
            Arch::Ppc64le | Arch::Ppc64 => {
                "IBM".clone_into(&mut cpu.vendor);
                let name = lookup(first, "cpu").unwrap_or("");
                cpu.generation = Some(match power_generation(name) {
                    Some(generation) => generation,
                    None => {
                        cpu.missing.push(Missing::Generation);
                        0
                    }
                });
                cpu.model_name = Some(name.to_owned()).filter(|n| !n.is_empty());
                let platform = global.get("platform").unwrap_or("");
                let machine = global.get("machine").unwrap_or("");
                if platform == "pSeries" || machine.contains("qemu") || machine.contains("KVM") {
                    cpu.hypervisor = true;
                    cpu.hypervisor_vendor = Some(
                        if machine.contains("qemu") || machine.contains("KVM") {
                            "KVM"
                        } else {
                            "PowerVM"
                        }
                        .to_owned(),
                    );
                }
            }
            Arch::Riscv64 => {
                // archspec also knows the SpacemiT X60 by its model name alone (older kernels).
                let uarch = lookup(first, "uarch").or_else(|| {
                    (lookup(first, "model name") == Some("Spacemit(R) X60"))
                        .then_some("spacemit,x60")
                });
                if let Some(uarch) = uarch {
                    let (vendor, name) = riscv_core(uarch);
                    vendor.clone_into(&mut cpu.vendor);
                    cpu.core_name = Some(name);
                }
            }
        }
        Ok(cpu)
    }

    /// Parses a macOS `sysctl machdep.cpu` and/or `sysctl hw` dump (`key: value` or
    /// `key = value` lines).
    ///
    /// On Intel Macs the flags come from `machdep.cpu.features`, `leaf7_features` and
    /// `extfeatures`; on Apple silicon the chip (M1…M4) comes from `machdep.cpu.brand_string`,
    /// as archspec does it, and flags from `hw.optional.arm.FEAT_*`.
    ///
    /// ```
    /// let dump = "machdep.cpu.brand_string: Apple M2 Pro\nhw.optional.arm.FEAT_AES: 1\n";
    /// let cpu = underhood_cpuflags::Cpu::from_sysctl(dump)?;
    /// assert_eq!(cpu.core_name.as_deref(), Some("m2"));
    /// assert!(cpu.flags.contains("aes"));
    /// # Ok::<(), underhood_cpuflags::ParseError>(())
    /// ```
    pub fn from_sysctl(text: &str) -> Result<Cpu, ParseError> {
        if text.trim().is_empty() {
            return Err(ParseError::Empty);
        }
        let mut missing = Vec::new();
        let mut values: BTreeMap<&str, &str> = BTreeMap::new();
        for (number, line) in complete_lines(text, &mut missing) {
            if line.trim().is_empty() {
                continue;
            }
            let colon = line.find(':');
            let equals = line.find(" = ");
            let split = match (colon, equals) {
                (Some(c), Some(e)) if e < c => Some((e, 3)),
                (Some(c), _) => Some((c, 1)),
                (None, Some(e)) => Some((e, 3)),
                (None, None) => None,
            };
            let Some((at, width)) = split else {
                missing.push(Missing::GarbledLine { line: number });
                continue;
            };
            let key = line[..at].trim();
            let value = line[at + width..].trim();
            if key.is_empty() || key.contains(char::is_whitespace) {
                missing.push(Missing::GarbledLine { line: number });
                continue;
            }
            values.insert(key, value);
        }
        let brand = values.get("machdep.cpu.brand_string").copied();
        let machine = values.get("hw.machine").copied().unwrap_or("");
        let arch = if machine == "x86_64" || values.contains_key("machdep.cpu.features") {
            Arch::X86_64
        } else if machine == "arm64"
            || brand.is_some_and(|b| b.contains("Apple"))
            || values.keys().any(|k| k.starts_with("hw.optional.arm"))
        {
            Arch::Aarch64
        } else {
            return Err(ParseError::UnknownArchitecture {
                keys: values.keys().take(8).map(|k| (*k).to_owned()).collect(),
            });
        };
        let logical = values
            .get("hw.logicalcpu")
            .or(values.get("hw.ncpu"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let mut cpu = Cpu {
            arch,
            source: Source::Sysctl,
            vendor: "generic".to_owned(),
            model_name: brand.map(str::to_owned),
            flags: BTreeSet::new(),
            cpu_part: None,
            generation: None,
            core_name: None,
            hypervisor: values.get("kern.hv_vmm_present").is_some_and(|v| *v == "1"),
            hypervisor_vendor: None,
            cores: Vec::new(),
            missing,
        };
        match arch {
            Arch::X86_64 => {
                match values.get("machdep.cpu.vendor") {
                    Some(vendor) => (*vendor).clone_into(&mut cpu.vendor),
                    None => cpu.missing.push(Missing::Vendor),
                }
                let raw: String = [
                    "machdep.cpu.features",
                    "machdep.cpu.leaf7_features",
                    "machdep.cpu.extfeatures",
                ]
                .iter()
                .filter_map(|key| values.get(key))
                .flat_map(|v| [*v, " "])
                .collect::<String>()
                .to_ascii_lowercase();
                if raw.trim().is_empty() {
                    cpu.missing.push(Missing::Flags { processor: None });
                }
                let mut words: BTreeSet<&str> = raw.split_whitespace().collect();
                for (darwin, linux) in archspec::darwin_flags() {
                    if darwin.split_whitespace().all(|w| words.contains(w)) {
                        words.extend(linux.split_whitespace());
                    }
                }
                cpu.flags = canonical_x86(words.into_iter());
                derive_x86(&cpu.vendor, &mut cpu.flags);
                cpu.hypervisor |= cpu.flags.contains("hypervisor");
                if logical > 0 {
                    cpu.cores.push(CoreGroup {
                        kind: brand.unwrap_or("unknown").to_owned(),
                        count: logical,
                    });
                }
            }
            _ => {
                "Apple".clone_into(&mut cpu.vendor);
                let brand = brand.unwrap_or("").to_ascii_lowercase();
                // archspec's rule, in its order: the newest chip named wins, any Apple is an m1.
                let name = ["m4", "m3", "m2", "m1"]
                    .into_iter()
                    .find(|m| brand.contains(m))
                    .or(brand.contains("apple").then_some("m1"));
                match name {
                    Some(name) => cpu.core_name = Some(name.to_owned()),
                    None => cpu.missing.push(Missing::CpuPart),
                }
                cpu.flags = apple_flags(&values);
                for level in 0..4 {
                    let count = values
                        .get(format!("hw.perflevel{level}.logicalcpu").as_str())
                        .and_then(|n| n.parse().ok());
                    let Some(count) = count else { break };
                    let kind = values
                        .get(format!("hw.perflevel{level}.name").as_str())
                        .copied()
                        .unwrap_or("unknown");
                    cpu.cores.push(CoreGroup {
                        kind: kind.to_owned(),
                        count,
                    });
                }
                if cpu.cores.is_empty() && logical > 0 {
                    cpu.cores.push(CoreGroup {
                        kind: cpu.model_name.clone().unwrap_or_default(),
                        count: logical,
                    });
                }
            }
        }
        Ok(cpu)
    }
}

/// Ends a block: a `processor` block, or lines every processor shares.
fn flush<'a>(
    current: &mut Vec<(&'a str, &'a str)>,
    processors: &mut Vec<Block<'a>>,
    global: &mut Vec<(&'a str, &'a str)>,
) {
    if current.is_empty() {
        return;
    }
    let block = std::mem::take(current);
    if block.iter().any(|(k, _)| *k == "processor") {
        processors.push(Block { pairs: block });
    } else {
        global.extend(block);
    }
}

/// Numbered lines; an unterminated last line of a multi-line text was cut short and is dropped.
fn complete_lines<'a>(text: &'a str, missing: &mut Vec<Missing>) -> Vec<(usize, &'a str)> {
    let mut lines: Vec<(usize, &str)> = text.lines().enumerate().map(|(i, l)| (i + 1, l)).collect();
    if !text.ends_with('\n')
        && lines.len() > 1
        && let Some((number, last)) = lines.pop()
    {
        // A cut line in a later block is dropped: the complete blocks before it decide. In the
        // first block nothing stands in for it, and a capture saved without its final newline
        // (as some of archspec's are) would lose its flag list: keep the words that are whole.
        let in_first_block = !lines
            .iter()
            .skip_while(|(_, l)| l.trim().is_empty())
            .any(|(_, l)| l.trim().is_empty());
        match without_last_word(last).filter(|_| in_first_block) {
            Some(kept) => {
                lines.push((number, kept));
                missing.push(Missing::TruncatedWord { line: number });
            }
            None => missing.push(Missing::TruncatedLine { line: number }),
        }
    }
    lines
}

/// `flags : fpu sse ss` → `flags : fpu sse`: a `key: value` line less the last word of its value,
/// or `None` when the line has no `:` or no value.
fn without_last_word(line: &str) -> Option<&str> {
    let colon = line.find(':')?;
    let value = line[colon + 1..].trim_end();
    if value.trim_start().is_empty() {
        return None;
    }
    let cut = value.rfind(char::is_whitespace).unwrap_or(0);
    Some(&line[..colon + 1 + cut])
}

fn cpuinfo_arch(processors: &[Block<'_>], global: &Block<'_>) -> Result<Arch, ParseError> {
    let keys: BTreeSet<&str> = processors
        .iter()
        .flat_map(|b| b.pairs.iter())
        .chain(global.pairs.iter())
        .map(|&(k, _)| k)
        .collect();
    let has = |key: &str| keys.contains(key);
    let cpu_is_power = processors
        .iter()
        .chain([global])
        .filter_map(|b| b.get("cpu"))
        .any(|v| v.to_ascii_uppercase().contains("POWER"));
    if has("vendor_id") || has("flags") {
        Ok(Arch::X86_64)
    } else if has("CPU implementer") || has("Features") {
        Ok(Arch::Aarch64)
    } else if has("isa") || has("hart") || has("uarch") {
        Ok(Arch::Riscv64)
    } else if cpu_is_power || has("timebase") {
        Ok(Arch::Ppc64le)
    } else {
        Err(ParseError::UnknownArchitecture {
            keys: keys.iter().take(8).map(|k| (*k).to_owned()).collect(),
        })
    }
}

/// `rv64imafdc_zicsr_zifencei` → `i m a f d c zicsr zifencei`.
fn riscv_extensions(isa: &str) -> BTreeSet<String> {
    let isa = isa.trim().to_ascii_lowercase();
    let mut parts = isa.split('_');
    let base = parts.next().unwrap_or("");
    let letters = base
        .strip_prefix("rv64")
        .or_else(|| base.strip_prefix("rv32"))
        .unwrap_or("");
    letters
        .chars()
        .filter(char::is_ascii_alphabetic)
        .map(String::from)
        .chain(parts.filter(|p| !p.is_empty()).map(str::to_owned))
        .collect()
}

/// `POWER9 (raw), altivec supported` → `altivec`.
fn power_flags(cpu: &str) -> BTreeSet<String> {
    let mut flags = BTreeSet::new();
    if cpu.contains("altivec supported") {
        flags.insert("altivec".to_owned());
    }
    flags
}

/// archspec's `POWER(\d+)`.
fn power_generation(cpu: &str) -> Option<u32> {
    let at = cpu.find("POWER")?;
    let digits: String = cpu[at + 5..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// A RISC-V `uarch` (`sifive,u74-mc`) as archspec's (vendor, target name).
fn riscv_core(uarch: &str) -> (&'static str, String) {
    match uarch {
        "sifive,u74-mc" => ("SiFive", "u74mc".to_owned()),
        "spacemit,x60" => ("SpacemiT", "x60".to_owned()),
        other => ("generic", other.to_owned()),
    }
}

/// `hw.optional.arm.FEAT_*` and friends as Linux aarch64 `Features` names.
fn apple_flags(values: &BTreeMap<&str, &str>) -> BTreeSet<String> {
    const MAP: &[(&str, &[&str])] = &[
        ("hw.optional.floatingpoint", &["fp"]),
        ("hw.optional.neon", &["asimd"]),
        ("hw.optional.arm.FEAT_AES", &["aes"]),
        ("hw.optional.arm.FEAT_PMULL", &["pmull"]),
        ("hw.optional.arm.FEAT_SHA1", &["sha1"]),
        ("hw.optional.arm.FEAT_SHA256", &["sha2"]),
        ("hw.optional.arm.FEAT_SHA512", &["sha512"]),
        ("hw.optional.arm.FEAT_SHA3", &["sha3"]),
        ("hw.optional.armv8_crc32", &["crc32"]),
        ("hw.optional.arm.FEAT_CRC32", &["crc32"]),
        ("hw.optional.arm.FEAT_LSE", &["atomics"]),
        ("hw.optional.armv8_1_atomics", &["atomics"]),
        ("hw.optional.arm.FEAT_FP16", &["fphp", "asimdhp"]),
        ("hw.optional.arm.FEAT_RDM", &["asimdrdm"]),
        ("hw.optional.arm.FEAT_JSCVT", &["jscvt"]),
        ("hw.optional.arm.FEAT_FCMA", &["fcma"]),
        ("hw.optional.arm.FEAT_LRCPC", &["lrcpc"]),
        ("hw.optional.arm.FEAT_LRCPC2", &["ilrcpc"]),
        ("hw.optional.arm.FEAT_DotProd", &["asimddp"]),
        ("hw.optional.arm.FEAT_FHM", &["asimdfhm"]),
        ("hw.optional.arm.FEAT_DIT", &["dit"]),
        ("hw.optional.arm.FEAT_LSE2", &["uscat"]),
        ("hw.optional.arm.FEAT_FlagM", &["flagm"]),
        ("hw.optional.arm.FEAT_FlagM2", &["flagm2"]),
        ("hw.optional.arm.FEAT_SSBS", &["ssbs"]),
        ("hw.optional.arm.FEAT_SB", &["sb"]),
        ("hw.optional.arm.FEAT_PAuth", &["paca", "pacg"]),
        ("hw.optional.arm.FEAT_DPB", &["dcpop"]),
        ("hw.optional.arm.FEAT_DPB2", &["dcpodp"]),
        ("hw.optional.arm.FEAT_FRINTTS", &["frint"]),
        ("hw.optional.arm.FEAT_BF16", &["bf16"]),
        ("hw.optional.arm.FEAT_I8MM", &["i8mm"]),
        ("hw.optional.arm.FEAT_BTI", &["bti"]),
        ("hw.optional.arm.FEAT_ECV", &["ecv"]),
        ("hw.optional.arm.FEAT_RPRES", &["rpres"]),
        ("hw.optional.arm.FEAT_AFP", &["afp"]),
        ("hw.optional.arm.FEAT_SME", &["sme"]),
    ];
    let mut flags = BTreeSet::new();
    for (key, names) in MAP {
        if values.get(key).is_some_and(|v| *v == "1") {
            flags.extend(names.iter().map(|n| (*n).to_owned()));
        }
    }
    flags
}
