//! The running host: CPUID on x86-64, `/proc/cpuinfo` on Linux elsewhere.

use crate::{Cpu, HostError};

impl Cpu {
    /// Describes the running host's CPU.
    ///
    /// On x86-64 it reads CPUID leaves 0, 1, 6, 7.0, 7.1, 0xD.1, 0x80000001, 0x80000007,
    /// 0x80000008 and the hypervisor leaf 0x40000000; CPUID shows hardware bits, so a flag the
    /// kernel turned off still shows. On other Linux hosts it parses `/proc/cpuinfo`.
    pub fn detect_host() -> Result<Cpu, HostError> {
        imp::detect()
    }
}

#[cfg(target_arch = "x86_64")]
mod imp {
    use std::arch::x86_64::{__cpuid, __cpuid_count};
    use std::collections::BTreeSet;

    use crate::cpu::derive_x86;
    use crate::names::vocabulary;
    use crate::{Arch, CoreGroup, Cpu, HostError, Source};

    pub(super) fn detect() -> Result<Cpu, HostError> {
        let leaf0 = __cpuid(0);
        let max_leaf = leaf0.eax;
        let vendor = ascii(&[leaf0.ebx, leaf0.edx, leaf0.ecx]);
        let max_extended = __cpuid(0x8000_0000).eax;
        let read = |leaf: u32, subleaf: u32| -> Option<[u32; 4]> {
            let supported = if leaf >= 0x8000_0000 {
                leaf <= max_extended
            } else {
                leaf <= max_leaf
            };
            supported.then(|| {
                let r = __cpuid_count(leaf, subleaf);
                [r.eax, r.ebx, r.ecx, r.edx]
            })
        };
        let regs = [
            (1, 0),
            (6, 0),
            (7, 0),
            (7, 1),
            (0xD, 1),
            (0x8000_0001, 0),
            (0x8000_0007, 0),
            (0x8000_0008, 0),
        ]
        .map(|(leaf, subleaf)| ((leaf, subleaf), read(leaf, subleaf)));
        let mut flags = BTreeSet::new();
        for feature in &vocabulary().features {
            let (leaf, subleaf, reg, bit) = feature.cpuid;
            let value = regs
                .iter()
                .find(|(at, _)| *at == (leaf, subleaf))
                .and_then(|(_, r)| *r);
            if value.is_some_and(|r| r[usize::from(reg)] & (1 << bit) != 0) {
                flags.insert(feature.name.clone());
            }
        }
        derive_x86(&vendor, &mut flags);
        let hypervisor = flags.contains("hypervisor");
        let hypervisor_vendor = hypervisor.then(|| {
            let r = __cpuid(0x4000_0000);
            ascii(&[r.ebx, r.ecx, r.edx])
        });
        let model_name = (max_extended >= 0x8000_0004).then(|| {
            let words: Vec<u32> = (0x8000_0002..=0x8000_0004)
                .flat_map(|leaf| {
                    let r = __cpuid(leaf);
                    [r.eax, r.ebx, r.ecx, r.edx]
                })
                .collect();
            ascii(&words)
        });
        let logical = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(Cpu {
            arch: Arch::X86_64,
            source: Source::Cpuid,
            vendor,
            cores: vec![CoreGroup {
                kind: model_name.clone().unwrap_or_default(),
                count: logical,
            }],
            model_name,
            flags,
            cpu_part: None,
            generation: None,
            core_name: None,
            hypervisor,
            hypervisor_vendor: hypervisor_vendor.filter(|v| !v.is_empty()),
            missing: Vec::new(),
        })
    }

    /// Register words as the ASCII text CPUID packs into them, trimmed of NULs and spaces.
    fn ascii(words: &[u32]) -> String {
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        String::from_utf8_lossy(&bytes)
            .trim_matches(|c: char| c == '\0' || c.is_whitespace())
            .to_owned()
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod imp {
    use crate::{Arch, Cpu, HostError};

    pub(super) fn detect() -> Result<Cpu, HostError> {
        if cfg!(target_os = "linux") {
            const PATH: &str = "/proc/cpuinfo";
            let text = std::fs::read_to_string(PATH)
                .map_err(|source| HostError::Read { path: PATH, source })?;
            // The running POWER host knows its endianness, which its /proc/cpuinfo does not state.
            let parsed = if cfg!(all(target_arch = "powerpc64", target_endian = "big")) {
                Cpu::from_cpuinfo_on(&text, Arch::Ppc64)
            } else if cfg!(target_arch = "powerpc64") {
                Cpu::from_cpuinfo_on(&text, Arch::Ppc64le)
            } else {
                Cpu::from_cpuinfo(&text)
            };
            parsed.map_err(|source| HostError::Parse { path: PATH, source })
        } else {
            Err(HostError::Unsupported {
                os: std::env::consts::OS,
                arch: std::env::consts::ARCH,
            })
        }
    }
}
